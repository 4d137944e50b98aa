/**
 * The SQLite pool's imported measurements (ONEBench, Ghosh et al. 2024): imports staged in TEMP tables and copied in
 * one transaction on commit, the pool's samples and measurements read in keyset pages, summary and saved selections.
 * Tables `pool_*` (schema migration 2). Used by `SqlitePool` only; the public surface is the `Pool` interface.
 */
import type Database from 'better-sqlite3';
import type { Connection } from './sqlite-connection.ts';
import { PAGE, RUN_OUTCOME_SQL, alreadyImported, ambiguousSelection, duplicateMeasurement, isSelectionPrefix, poolSampleOfRun, sourceIdOf } from './shared.ts';
import type { InputError } from '../core/errors.ts';
import type { ImportInfo, ImportTransaction, MeasurementFilter, PoolKind, PoolMeasurement, PoolSample, Selection, SourceRecord } from './types.ts';

/** What the import code needs of the pool: its connection and a way to make queued writes visible. */
export interface ImportContext {
  c: Connection;
  /** Store every queued write of the pool's batching writer (settles the connection first). */
  flush(): void;
}

type SampleRow = { key: string; dataset: string; sample_id: string; category: string | null; tags: string; text: string | null; content_hash: string | null; metadata: string };

const sampleOfRow = (r: SampleRow): PoolSample => ({
  key: r.key, dataset: r.dataset, sample_id: r.sample_id, category: r.category, tags: JSON.parse(r.tags), text: r.text, content_hash: r.content_hash, metadata: JSON.parse(r.metadata),
});

/** The merge of `mergeSample` (shared.ts) in SQL, for an upsert whose new row is `excluded`. */
const MERGE_SAMPLE = `category = COALESCE(excluded.category, category), text = COALESCE(excluded.text, text),
  content_hash = COALESCE(excluded.content_hash, content_hash),
  tags = CASE WHEN excluded.tags = '[]' THEN tags ELSE excluded.tags END,
  metadata = CASE WHEN excluded.metadata = '{}' THEN metadata ELSE excluded.metadata END`;

/**
 * Staging of measurements. A row's slice, model, opponent, kind, direction, tie tolerance and weight (its "profile":
 * an import has few distinct ones) are interned in a TEMP table and the row refers to its profile by number, so a
 * row binds five values (profile, sample key, repeat, value, line) instead of eleven: binding, a string above all,
 * is most of what a staged row costs (bench/import.ts). An import with more than MAX_PROFILES profiles stages the
 * rest of its rows whole (the profile columns of the row itself, profile number NULL), so memory stays bounded.
 */
const NARROW_BATCH = 512;
const NARROW_COLS = 5;
const WIDE_BATCH = 256;
const WIDE_COLS = 11;
/** Profiles kept in memory (and in the TEMP profile table) per import; rows beyond are staged whole. */
export const MAX_PROFILES = 1 << 16;

interface Profile {
  id: number;
  slice: string;
  opponent: string;
  kind: string;
  direction: number;
  tie_tolerance: number;
  weight: number;
}

/**
 * One import: samples are staged in a TEMP table keyed by sample (merged as they come); measurements are appended
 * to a TEMP heap table in batches (no index: appending costs the same at any size; profiles interned as above), and
 * on commit copied into `pool_measurements` in its key order by one INSERT … SELECT … ORDER BY (SQLite's external
 * merge sort, in memory bounded by its cache, spilling to temporary files), so that the pool's B-tree is written in
 * order. A measurement given twice is found by the primary key during that copy; the error names the first repeated
 * measurement in arrival order and the line of its first arrival, as an immediate check would (`firstDuplicate`
 * gives it before the end, for an import that stops early).
 */
export function beginSqliteImport(
  ctx: ImportContext,
  info: ImportInfo,
): ImportTransaction {
  const { c } = ctx;
  const db = c.db;
  c.settle();
  const id = sourceIdOf(info.format, info.sha256);
  const existingOf = db.prepare(`SELECT id, imported_at FROM pool_sources WHERE id = ?`);
  const existing = existingOf.get(id) as { id: string; imported_at: string } | undefined;
  if (existing && !info.replace) throw alreadyImported(id, existing.imported_at, info.file);
  const S = c.tempName('import_samples'), P = c.tempName('import_profiles'), M = c.tempName('import_measurements');
  db.exec(`CREATE TEMP TABLE "${S}" (key TEXT PRIMARY KEY, dataset TEXT NOT NULL, sample_id TEXT NOT NULL, category TEXT, tags TEXT NOT NULL,
             text TEXT, content_hash TEXT, metadata TEXT NOT NULL) WITHOUT ROWID;
           CREATE TEMP TABLE "${P}" (id INTEGER PRIMARY KEY, slice TEXT NOT NULL, model TEXT NOT NULL, opponent TEXT NOT NULL, kind TEXT NOT NULL,
             direction INTEGER NOT NULL, tie_tolerance REAL NOT NULL, weight REAL NOT NULL, r INTEGER);
           CREATE TEMP TABLE "${M}" (pid INTEGER, sample_key TEXT NOT NULL, rep INTEGER NOT NULL, value REAL NOT NULL, line INTEGER,
             slice TEXT, model TEXT, opponent TEXT, kind TEXT, direction INTEGER, tie_tolerance REAL, weight REAL);`);
  const sampleCols = `INSERT INTO temp."${S}" (key, dataset, sample_id, category, tags, text, content_hash, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
  const insSample = db.prepare(`${sampleCols} ON CONFLICT(key) DO UPDATE SET ${MERGE_SAMPLE}`);
  const insSampleIfNew = db.prepare(`${sampleCols} ON CONFLICT(key) DO NOTHING`);
  const insProfile = db.prepare(`INSERT INTO temp."${P}" (id, slice, model, opponent, kind, direction, tie_tolerance, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const narrowCols = `INSERT INTO temp."${M}" (pid, sample_key, rep, value, line) VALUES `;
  const wideCols = `INSERT INTO temp."${M}" (slice, sample_key, model, opponent, rep, kind, value, direction, tie_tolerance, weight, line) VALUES `;
  const tuple = (n: number) => `(${Array(n).fill('?').join(', ')})`;
  const narrowMany = db.prepare(narrowCols + Array(NARROW_BATCH).fill(tuple(NARROW_COLS)).join(', '));
  const narrowOne = db.prepare(narrowCols + tuple(NARROW_COLS));
  const wideMany = db.prepare(wideCols + Array(WIDE_BATCH).fill(tuple(WIDE_COLS)).join(', '));
  const wideOne = db.prepare(wideCols + tuple(WIDE_COLS));
  /** The staged rows with every column, after their arrival order `r`. */
  const staged = (wide: boolean) =>
    `SELECT m.rowid AS r, p.slice, m.sample_key, p.model, p.opponent, m.rep, p.kind, m.value, p.direction, p.tie_tolerance, p.weight, m.line
       FROM temp."${M}" m JOIN temp."${P}" p ON p.id = m.pid` +
    (wide ? ` UNION ALL SELECT m.rowid, m.slice, m.sample_key, m.model, m.opponent, m.rep, m.kind, m.value, m.direction, m.tie_tolerance, m.weight, m.line
       FROM temp."${M}" m WHERE m.pid IS NULL` : '');
  // model → its profiles: the one its last row had, then all of them by the other fields
  const profiles = new Map<string, { last: Profile; all: Map<string, Profile> }>();
  let nProfiles = 0, nWide = 0;
  const same = (p: Profile, m: Omit<PoolMeasurement, 'source'>) =>
    p.slice === m.slice && p.opponent === m.opponent && p.kind === m.kind && p.direction === m.direction && p.tie_tolerance === m.tie_tolerance && p.weight === m.weight;
  const profileOf = (m: Omit<PoolMeasurement, 'source'>): number => {
    let e = profiles.get(m.model);
    if (e && same(e.last, m)) return e.last.id;
    const rest = `${m.slice}\u0000${m.opponent}\u0000${m.kind}\u0000${m.direction}\u0000${m.tie_tolerance}\u0000${m.weight}`;
    let p = e?.all.get(rest);
    if (!p) {
      if (nProfiles >= MAX_PROFILES) return 0;
      p = { id: ++nProfiles, slice: m.slice, opponent: m.opponent, kind: m.kind, direction: m.direction, tie_tolerance: m.tie_tolerance, weight: m.weight };
      if (!e) profiles.set(m.model, (e = { last: p, all: new Map() }));
      e.all.set(rest, p);
      c.stage();
      insProfile.run(p.id, m.slice, m.model, m.opponent, m.kind, m.direction, m.tie_tolerance, m.weight);
    }
    e!.last = p;
    return p.id;
  };
  // rows waiting for a multi-row INSERT, all narrow or all wide (arrival order is the table's rowid order)
  const pending: unknown[] = [];
  let pendingWide = false;
  const flush = () => {
    if (!pending.length) return;
    c.stage();
    const [many, one, cols, batch] = pendingWide ? [wideMany, wideOne, WIDE_COLS, WIDE_BATCH] : [narrowMany, narrowOne, NARROW_COLS, NARROW_BATCH];
    if (pending.length === batch * cols) many.run(...pending);
    else for (let k = 0; k < pending.length; k += cols) one.run(...pending.slice(k, k + cols));
    pending.length = 0;
  };
  const add = (m: Omit<PoolMeasurement, 'source'>) => {
    const pid = profileOf(m);
    if (pid) {
      if (pendingWide) flush();
      pendingWide = false;
      pending.push(pid, m.sample_key, m.rep, m.value, m.line ?? null);
      if (pending.length === NARROW_BATCH * NARROW_COLS) flush();
    } else {
      if (!pendingWide) flush();
      pendingWide = true;
      nWide++;
      pending.push(m.slice, m.sample_key, m.model, m.opponent, m.rep, m.kind, m.value, m.direction, m.tie_tolerance, m.weight, m.line ?? null);
      if (pending.length === WIDE_BATCH * WIDE_COLS) flush();
    }
  };
  /** The first measurement (in arrival order) whose key arrived before, as the error an immediate check gives. */
  const firstDuplicate = (): InputError | null => {
    flush();
    c.settle();
    const r = db.prepare(
      `SELECT slice, sample_key, model, opponent, rep, kind, value, direction, tie_tolerance, weight, line, first FROM (
         SELECT *, ROW_NUMBER() OVER w AS k, FIRST_VALUE(line) OVER w AS first FROM (${staged(nWide > 0)})
         WINDOW w AS (PARTITION BY slice, model, opponent, sample_key, rep ORDER BY r))
       WHERE k = 2 ORDER BY r LIMIT 1`,
    ).get() as (Omit<PoolMeasurement, 'source'> & { first: number | null }) | undefined;
    return r ? duplicateMeasurement(info.file, r, r.first) : null;
  };
  let open = true;
  const live = () => {
    if (!open) throw new Error('import transaction already finished');
  };
  return {
    source: id,
    async addSample(s) {
      live();
      c.stage();
      insSample.run(s.key, s.dataset, s.sample_id, s.category, JSON.stringify(s.tags), s.text, s.content_hash, JSON.stringify(s.metadata));
    },
    async addSampleIfNew(s) {
      live();
      c.stage();
      const tags = s.tags.length ? JSON.stringify(s.tags) : '[]';
      const metadata = Object.keys(s.metadata).length ? JSON.stringify(s.metadata) : '{}';
      return insSampleIfNew.run(s.key, s.dataset, s.sample_id, s.category, tags, s.text, s.content_hash, metadata).changes > 0;
    },
    async addMeasurement(m) {
      live();
      add(m);
    },
    async addMeasurements(ms) {
      live();
      for (const m of ms) add(m);
    },
    async firstDuplicate() {
      return open ? firstDuplicate() : null;
    },
    async commit(counts) {
      live();
      open = false;
      let duplicate = false;
      try {
        flush();
        c.settle();
        const rec: SourceRecord = {
          id, format: info.format, file: info.file, file_sha256: info.sha256, imported_at: counts.imported_at ?? new Date().toISOString(),
          measurements: counts.measurements, samples: counts.samples, options: info.options ?? {},
        };
        // SQLite's sorter may merge on a helper thread (the copy below sorts every staged row)
        db.pragma('threads = 2');
        db.transaction(() => {
          const now = existingOf.get(id) as { id: string; imported_at: string } | undefined;
          if (now) {
            if (!info.replace) throw alreadyImported(id, now.imported_at, info.file);
            db.prepare(`DELETE FROM pool_measurements WHERE source = ?`).run(id);
            db.prepare(`DELETE FROM pool_sources WHERE id = ?`).run(id);
          }
          for (const old of info.replaces ?? []) {
            if (old === id) continue;
            db.prepare(`DELETE FROM pool_measurements WHERE source = ?`).run(old);
            db.prepare(`DELETE FROM pool_sources WHERE id = ?`).run(old);
          }
          db.exec(`INSERT INTO pool_samples (key, dataset, sample_id, category, tags, text, content_hash, metadata)
                     SELECT key, dataset, sample_id, category, tags, text, content_hash, metadata FROM temp."${S}" WHERE true
                     ON CONFLICT(key) DO UPDATE SET ${MERGE_SAMPLE}`);
          try {
            // In key order, so that the pool's B-tree is written in order. The rows are sorted narrow (profile rank,
            // sample key, repeat, profile, value, line: SQLite's sorter compares and moves less) and joined to their
            // profile after the sort; `r` ranks the profiles by (slice, model, opponent), ties sharing a rank. The
            // order only makes the writes sequential: the primary key decides what is stored, and finds repeats.
            db.exec(`UPDATE temp."${P}" SET r = x.k FROM (SELECT id, DENSE_RANK() OVER (ORDER BY slice, model, opponent) AS k FROM temp."${P}") AS x
                       WHERE x.id = "${P}".id`);
            db.prepare(`INSERT INTO pool_measurements (source, slice, sample_key, model, opponent, rep, kind, value, direction, tie_tolerance, weight, line)
                          SELECT @source, p.slice, s.sample_key, p.model, p.opponent, s.rep, p.kind, s.value, p.direction, p.tie_tolerance, p.weight, s.line
                          FROM (SELECT p.r, m.sample_key, m.rep, m.pid, m.value, m.line FROM temp."${M}" m JOIN temp."${P}" p ON p.id = m.pid
                                ORDER BY 1, 2, 3 LIMIT -1) s
                          JOIN temp."${P}" p ON p.id = s.pid`).run({ source: id });
            if (nWide) {
              db.prepare(`INSERT INTO pool_measurements (source, slice, sample_key, model, opponent, rep, kind, value, direction, tie_tolerance, weight, line)
                            SELECT @source, slice, sample_key, model, opponent, rep, kind, value, direction, tie_tolerance, weight, line
                            FROM temp."${M}" WHERE pid IS NULL ORDER BY slice, model, opponent, sample_key, rep`).run({ source: id });
            }
          } catch (err) {
            // The source's rows were deleted above (or never existed): a key clash is a measurement given twice.
            if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) duplicate = true;
            throw err;
          }
          db.prepare(`INSERT INTO pool_sources (id, format, file, file_sha256, imported_at, measurements, samples, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
            .run(rec.id, rec.format, rec.file, rec.file_sha256, rec.imported_at, rec.measurements, rec.samples, JSON.stringify(rec.options));
        }).immediate();
        return rec;
      } catch (err) {
        if (duplicate) throw firstDuplicate() ?? err;
        throw err;
      } finally {
        profiles.clear();
        c.dropTemp(S, P, M);
      }
    },
    async rollback() {
      if (!open) return;
      open = false;
      pending.length = 0;
      profiles.clear();
      c.dropTemp(S, P, M);
    },
  };
}

export function sqliteSources(db: Database.Database): SourceRecord[] {
  return (db.prepare(`SELECT * FROM pool_sources ORDER BY imported_at, id`).all() as (Omit<SourceRecord, 'options'> & { options: string })[]).map((r) => ({
    ...r,
    options: JSON.parse(r.options),
  }));
}

export function sqliteDeleteSource(db: Database.Database, id: string): number {
  return db.transaction(() => {
    const n = db.prepare(`DELETE FROM pool_measurements WHERE source = ?`).run(id).changes;
    db.prepare(`DELETE FROM pool_sources WHERE id = ?`).run(id);
    return n;
  }).immediate();
}

export async function* sqlitePoolSamples(ctx: ImportContext, opts: { runs?: boolean } = {}): AsyncIterableIterator<PoolSample> {
  const { c } = ctx;
  ctx.flush();
  const imported = c.db.prepare(`SELECT * FROM pool_samples WHERE key > ? ORDER BY key LIMIT ?`);
  for (let last = ''; ;) {
    c.settle();
    const rows = imported.all(last, PAGE) as SampleRow[];
    for (const r of rows) yield sampleOfRow(r);
    if (rows.length < PAGE) break;
    last = rows[rows.length - 1]!.key;
  }
  if (opts.runs === false) return;
  // One sample per content hash: the row with the smallest whole-sample hash; its dataset the smallest name among
  // the runs that planned that content.
  const runRows = c.db.prepare(
    `SELECT s.content_hash, s.id, s.input, s.metadata,
       (SELECT MIN(json_extract(r.spec, '$.dataset.name')) FROM run_samples rs JOIN runs r ON r.id = rs.run_id WHERE rs.content_hash = s.content_hash) AS dataset
     FROM samples s
     WHERE s.content_hash > ? AND s.sample_hash = (SELECT MIN(s2.sample_hash) FROM samples s2 WHERE s2.content_hash = s.content_hash)
       AND EXISTS (SELECT 1 FROM run_samples rs WHERE rs.content_hash = s.content_hash)
     ORDER BY s.content_hash LIMIT ?`,
  );
  for (let last = ''; ;) {
    c.settle();
    const rows = runRows.all(last, PAGE) as { content_hash: string; id: string; input: string; metadata: string; dataset: string }[];
    for (const r of rows) yield poolSampleOfRun(r.content_hash, { id: r.id, input: JSON.parse(r.input), metadata: JSON.parse(r.metadata) }, r.dataset);
    if (rows.length < PAGE) break;
    last = rows[rows.length - 1]!.content_hash;
  }
}

const KEY_COLS = ['m.source', 'm.slice', 'm.model', 'm.opponent', 'm.sample_key', 'm.rep'];

export async function* sqlitePoolMeasurements(ctx: ImportContext, filter: MeasurementFilter = {}): AsyncIterableIterator<PoolMeasurement> {
  const { c } = ctx;
  const db = c.db;
  ctx.flush();
  let sel: string | null = null;
  try {
    if (filter.sampleKeys) {
      sel = c.tempName('selected_keys');
      db.exec(`CREATE TEMP TABLE "${sel}" (key TEXT PRIMARY KEY) WITHOUT ROWID`);
      const ins = db.prepare(`INSERT OR IGNORE INTO temp."${sel}" (key) VALUES (?)`);
      const keys = filter.sampleKeys;
      db.transaction(() => {
        for (const k of keys) ins.run(k);
      })();
    }
    if (filter.imported !== false) {
      const w: string[] = [];
      const p: unknown[] = [];
      const add = (col: string, vals: string[] | undefined) => {
        if (!vals) return;
        // `+col`: the filters must not use the primary key, or SQLite takes `source = ?` over the keyset range below
        // and every page scans the source from its start again (quadratic in its size).
        w.push(vals.length ? `+${col} IN (${vals.map(() => '?').join(',')})` : '0');
        p.push(...vals);
      };
      add('m.source', filter.sources);
      add('m.slice', filter.slices);
      add('m.kind', filter.kinds);
      if (filter.models) {
        // A pairwise measurement belongs to the selection only when both sides do (Arena-Hard's `model` is always the
        // baseline, so filtering on `model` alone would keep every battle of the baseline and none of the others').
        const ph = filter.models.map(() => '?').join(',');
        w.push(filter.models.length ? `+m.model IN (${ph}) AND (+m.opponent = '' OR +m.opponent IN (${ph}))` : '0');
        p.push(...filter.models, ...filter.models);
      }
      if (sel) w.push(`+m.sample_key IN (SELECT key FROM temp."${sel}")`);
      const cols = `m.source, m.slice, m.model, m.opponent, m.sample_key, m.rep, m.kind, m.value, m.direction, m.tie_tolerance, m.weight, m.line`;
      const where = (extra: string[]) => (extra.length ? 'WHERE ' + extra.join(' AND ') : '');
      const order = `ORDER BY ${KEY_COLS.join(', ')} LIMIT ${PAGE}`;
      // Raw rows (arrays), one object per row; keyset pages on the primary key (no statement open between pages).
      const first = db.prepare(`SELECT ${cols} FROM pool_measurements m ${where(w)} ${order}`).raw(true);
      const next = db.prepare(`SELECT ${cols} FROM pool_measurements m ${where([...w, `(${KEY_COLS.join(', ')}) > (?, ?, ?, ?, ?, ?)`])} ${order}`).raw(true);
      let last: unknown[] | null = null;
      for (;;) {
        c.settle();
        const rows = (last ? next.all(...p, ...last) : first.all(...p)) as unknown[][];
        for (const r of rows) {
          yield {
            source: r[0] as string, slice: r[1] as string, sample_key: r[4] as string, model: r[2] as string, opponent: r[3] as string,
            rep: r[5] as number, kind: r[6] as PoolKind, value: r[7] as number, direction: (r[8] as number) < 0 ? -1 : 1,
            tie_tolerance: r[9] as number, weight: r[10] as number, line: r[11] as number | null,
          };
        }
        if (rows.length < PAGE) break;
        last = rows[rows.length - 1]!.slice(0, 6);
      }
    }
    if (filter.runs !== false && (!filter.sources || filter.sources.includes('runs')) && (!filter.kinds || filter.kinds.includes('binary'))) {
      c.settle();
      const keys = sel ? new Set((db.prepare(`SELECT key FROM temp."${sel}"`).pluck().all() as string[])) : null;
      yield* runMeasurements(db, filter, keys);
    }
  } finally {
    if (sel) c.dropTemp(sel);
  }
}

/**
 * The pool's own runs as binary measurements: model = the run's model address, sample = `sha256:<content hash>`,
 * slice = the run's first scorer, value = mean over epochs (and over runs of the same model) of the values the one
 * outcome rule counts (`RUN_OUTCOME_SQL`: grader timeouts 0; failed calls and grader errors left out). The grouped
 * rows are read at once: one per model × scorer × sample.
 */
function* runMeasurements(db: Database.Database, filter: MeasurementFilter, keys: Set<string> | null): IterableIterator<PoolMeasurement> {
  const rows = db
    .prepare(
      `SELECT json_extract(r.spec, '$.model') AS model, m.scorer AS scorer, 'sha256:' || rs.content_hash AS sample_key,
         SUM(${RUN_OUTCOME_SQL.value}) AS total, COUNT(*) AS n
       FROM measurements m JOIN runs r ON r.id = m.run_id
       JOIN run_samples rs ON rs.run_id = m.run_id AND rs.sample_id = m.sample_id
       WHERE m.kind = 'binary' AND ${RUN_OUTCOME_SQL.where}
         AND m.scorer = json_extract(r.spec, '$.scorers[0].name')
       GROUP BY 1, 2, 3 ORDER BY 2, 3, 1`,
    )
    .raw(true)
    .all() as [string, string, string, number, number][];
  const models = filter.models ? new Set(filter.models) : null;
  const slices = filter.slices ? new Set(filter.slices) : null;
  for (const [model, scorer, sample_key, total, n] of rows) {
    if (models && !models.has(model)) continue;
    if (slices && !slices.has(scorer)) continue;
    if (keys && !keys.has(sample_key)) continue;
    yield { source: 'runs', slice: scorer, sample_key, model, opponent: '', rep: 0, kind: 'binary', value: total / n, direction: 1, tie_tolerance: 0, weight: 1, line: null };
  }
}

export function sqliteSummary(ctx: ImportContext): { source: string; kind: string; slices: number; models: number; samples: number; measurements: number }[] {
  ctx.flush();
  const db = ctx.c.db;
  const out = db
    .prepare(
      `SELECT source, kind, COUNT(DISTINCT slice) AS slices,
         (SELECT COUNT(*) FROM (SELECT model FROM pool_measurements a WHERE a.source = p.source AND a.kind = p.kind
            UNION SELECT opponent FROM pool_measurements b WHERE b.source = p.source AND b.kind = p.kind AND b.opponent != '')) AS models,
         COUNT(DISTINCT sample_key) AS samples, COUNT(*) AS measurements
       FROM pool_measurements p GROUP BY source, kind ORDER BY source, kind`,
    )
    .all() as { source: string; kind: string; slices: number; models: number; samples: number; measurements: number }[];
  const slices = new Set<string>(), models = new Set<string>(), samples = new Set<string>();
  let n = 0;
  for (const r of runMeasurements(db, {}, null)) {
    slices.add(r.slice);
    models.add(r.model);
    samples.add(r.sample_key);
    n++;
  }
  if (n) out.push({ source: 'runs', kind: 'binary', slices: slices.size, models: models.size, samples: samples.size, measurements: n });
  return out;
}

export function sqliteSaveSelection(db: Database.Database, sel: Selection): void {
  db.prepare(`INSERT OR REPLACE INTO pool_selections (hash, query, filters, lim, created_at, sample_keys) VALUES (?, ?, ?, ?, ?, ?)`)
    .run(sel.hash, sel.query, JSON.stringify(sel.filters), sel.limit, sel.created_at, JSON.stringify(sel.sample_keys));
}

export function sqliteListSelections(db: Database.Database): Selection[] {
  return (db.prepare(`SELECT * FROM pool_selections ORDER BY hash`).all() as { hash: string; query: string; filters: string; lim: number | null; created_at: string; sample_keys: string }[])
    .map((r) => ({ hash: r.hash, query: r.query, filters: JSON.parse(r.filters), limit: r.lim, created_at: r.created_at, sample_keys: JSON.parse(r.sample_keys) }));
}

export function sqliteGetSelection(db: Database.Database, hashOrPrefix: string): Selection | null {
  if (!isSelectionPrefix(hashOrPrefix)) return null;
  const rows = db.prepare(`SELECT * FROM pool_selections WHERE substr(hash, 1, ?) = ? ORDER BY hash LIMIT 2`).all(hashOrPrefix.length, hashOrPrefix) as {
    hash: string; query: string; filters: string; lim: number | null; created_at: string; sample_keys: string;
  }[];
  if (rows.length > 1 && rows[0]!.hash !== hashOrPrefix) throw ambiguousSelection(hashOrPrefix);
  const r = rows[0];
  if (!r) return null;
  return { hash: r.hash, query: r.query, filters: JSON.parse(r.filters), limit: r.lim, created_at: r.created_at, sample_keys: JSON.parse(r.sample_keys) };
}
