/**
 * The PostgreSQL pool's imported measurements (ONEBench, Ghosh et al. 2024): imports staged in TEMP tables inside a
 * transaction on a connection of their own (measurements sent with COPY, pg-copy-streams) and moved into the pool's
 * tables when they commit; the pool's samples and measurements read in keyset pages; summary and saved selections.
 * Used by postgres.ts only; the public surface is the `Pool` interface. The same answers as sqlite-imports.ts.
 */
import type pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { InputError } from '../core/errors.ts';
import { alreadyImported, ambiguousSelection, duplicateMeasurement, isSelectionPrefix, mergeSample, PAGE, poolSampleOfRun, RUN_OUTCOME_SQL, sourceIdOf } from './shared.ts';
import type { ImportInfo, ImportTransaction, MeasurementFilter, PoolKind, PoolMeasurement, PoolSample, Selection, SourceRecord } from './types.ts';

/** What this code needs of the pool. */
export interface PgContext {
  /** The pool's url (no password), for messages. */
  url: string;
  /** One query on any connection (errors already made plain). */
  q<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Store every queued write of the batching writer. */
  flush(): Promise<void>;
  /** Refresh the planner's statistics of these tables (comma-separated). */
  analyze(tables: string): Promise<void>;
  /** A connection of its own, and giving it back (`err`: it is broken). */
  hold(): Promise<pg.PoolClient>;
  release(c: pg.PoolClient, err?: Error): void;
  /** Throws unless the pool may be written. */
  writable(): void;
  /** A database failure as the user is told it (postgres.ts `pgError`). */
  fail(err: unknown): unknown;
  /** The advisory-lock key of `id` of a kind of thing in this pool. */
  lockKey(kind: string, id: string): string;
}

type SampleRow = { key: string; dataset: string; sample_id: string; category: string | null; tags: string; text: string | null; content_hash: string | null; metadata: string };
const sampleOfRow = (r: SampleRow): PoolSample => ({
  key: r.key, dataset: r.dataset, sample_id: r.sample_id, category: r.category, tags: JSON.parse(r.tags), text: r.text, content_hash: r.content_hash, metadata: JSON.parse(r.metadata),
});

const SAMPLE_COLS = 'key, dataset, sample_id, category, tags, text, content_hash, metadata';
const SAMPLE_TYPES = ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text'];

/** The merge of `mergeSample` (shared.ts) in SQL, for an upsert into `t` whose new row is `excluded`. */
const MERGE_SAMPLE = `category = COALESCE(excluded.category, t.category), text = COALESCE(excluded.text, t.text),
  content_hash = COALESCE(excluded.content_hash, t.content_hash),
  tags = CASE WHEN excluded.tags = '[]' THEN t.tags ELSE excluded.tags END,
  metadata = CASE WHEN excluded.metadata = '{}' THEN t.metadata ELSE excluded.metadata END`;

/** Staged measurements per COPY, and staged samples per INSERT. */
const MEAS_BATCH = 20_000;
const SAMPLE_BATCH = 2_000;

const STAGE_M = 'assay_import_measurements';
const STAGE_S = 'assay_import_samples';
const M_COLS = 'ord, slice, sample_key, model, opponent, rep, kind, value, direction, tie_tolerance, weight, line';

/** A field of COPY's text format: `\N` for null, backslash escapes for backslash, tab, newline and carriage return. */
function copyField(v: string | number | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') return String(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r')) : v;
}

const sampleParams = (s: PoolSample) => [s.key, s.dataset, s.sample_id, s.category, JSON.stringify(s.tags), s.text, s.content_hash, JSON.stringify(s.metadata)];

/**
 * One import. A transaction is open on a connection of its own from the start: samples are merged into a TEMP
 * table (merged in arrival order, as `mergeSample`), measurements appended to an unindexed TEMP table with COPY, in
 * batches, numbered in arrival order. On commit, under an advisory lock on the source id, the old source is removed
 * (`replace`), the samples are merged into the pool's and the measurements inserted in key order; a measurement given
 * twice is found by the primary key then, and the error names the first repeat in arrival order and the line of its
 * first arrival (`firstDuplicate` gives it before the end). Nothing is visible to others until the commit.
 */
export async function beginPgImport(
  ctx: PgContext,
  info: ImportInfo,
): Promise<ImportTransaction> {
  ctx.writable();
  const id = sourceIdOf(info.format, info.sha256);
  const existing = (await ctx.q<{ imported_at: string }>(`SELECT imported_at FROM pool_sources WHERE id = $1`, [id])).rows[0];
  if (existing && !info.replace) throw alreadyImported(id, existing.imported_at, info.file);
  const c = await ctx.hold();
  try {
    await c.query('BEGIN');
    await c.query(`CREATE TEMP TABLE ${STAGE_S} (key text COLLATE "C" PRIMARY KEY, dataset text NOT NULL, sample_id text NOT NULL, category text, tags text NOT NULL,
                     text text, content_hash text, metadata text NOT NULL) ON COMMIT DROP`);
    await c.query(`CREATE TEMP TABLE ${STAGE_M} (ord bigint NOT NULL, slice text COLLATE "C" NOT NULL, sample_key text COLLATE "C" NOT NULL, model text COLLATE "C" NOT NULL,
                     opponent text COLLATE "C" NOT NULL, rep integer NOT NULL, kind text NOT NULL, value double precision NOT NULL, direction smallint NOT NULL,
                     tie_tolerance double precision NOT NULL, weight double precision NOT NULL, line bigint) ON COMMIT DROP`);
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    ctx.release(c);
    throw ctx.fail(err);
  }
  let samples = new Map<string, PoolSample>();
  let lines: string[] = [];
  let ord = 0;
  let open = true;
  /** A staging failure: the transaction is dead, and every later call says why. */
  let broken: unknown = null;

  const stage = async () => {
    if (broken) throw broken;
    try {
      if (samples.size) {
        const u = unnestSamples([...samples.values()]);
        samples = new Map();
        await c.query(`INSERT INTO ${STAGE_S} AS t (${SAMPLE_COLS}) SELECT * FROM ${u.sql} ON CONFLICT (key) DO UPDATE SET ${MERGE_SAMPLE}`, u.params);
      }
      if (lines.length) {
        const text = lines.join('');
        lines = [];
        await pipeline(Readable.from([text]), c.query(copyFrom(`COPY ${STAGE_M} (${M_COLS}) FROM STDIN`)));
      }
    } catch (err) {
      broken = ctx.fail(err);
      throw broken;
    }
  };
  /** The first measurement (in arrival order) whose key arrived before, as the error an immediate check gives. */
  const firstDuplicate = async (): Promise<InputError | null> => {
    const r = (await c.query(
      `SELECT slice, sample_key, model, opponent, rep, kind, value, direction, tie_tolerance, weight, line, first FROM (
         SELECT *, ROW_NUMBER() OVER w AS k, FIRST_VALUE(line) OVER w AS first FROM ${STAGE_M}
         WINDOW w AS (PARTITION BY slice, model, opponent, sample_key, rep ORDER BY ord)) x
       WHERE k = 2 ORDER BY ord LIMIT 1`,
    )).rows[0] as (Omit<PoolMeasurement, 'source'> & { first: number | null }) | undefined;
    return r ? duplicateMeasurement(info.file, r, r.first) : null;
  };
  let ended = false;
  /** End the transaction and give the connection back (once). */
  const end = async (commit: boolean) => {
    if (ended) return;
    ended = true;
    try {
      await c.query(commit ? 'COMMIT' : 'ROLLBACK');
      ctx.release(c);
    } catch (err) {
      ctx.release(c, err as Error);
      throw err;
    }
  };
  const live = () => {
    if (!open) throw new Error('import transaction already finished');
  };
  return {
    source: id,
    async addSample(s) {
      live();
      samples.set(s.key, mergeSample(samples.get(s.key), s));
      if (samples.size >= SAMPLE_BATCH) await stage();
    },
    async addMeasurement(m) {
      live();
      lines.push(
        `${++ord}\t${copyField(m.slice)}\t${copyField(m.sample_key)}\t${copyField(m.model)}\t${copyField(m.opponent)}\t${m.rep}\t${copyField(m.kind)}\t${m.value}\t${m.direction}\t${m.tie_tolerance}\t${m.weight}\t${m.line ?? '\\N'}\n`,
      );
      if (lines.length >= MEAS_BATCH) await stage();
    },
    async firstDuplicate() {
      if (!open) return null;
      await stage();
      return firstDuplicate();
    },
    async commit(counts) {
      live();
      open = false;
      try {
        await stage();
        const rec: SourceRecord = {
          id, format: info.format, file: info.file, file_sha256: info.sha256, imported_at: counts.imported_at ?? new Date().toISOString(),
          measurements: counts.measurements, samples: counts.samples, options: info.options ?? {},
        };
        await c.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [ctx.lockKey('source', id)]);
        const now = (await c.query<{ imported_at: string }>(`SELECT imported_at FROM pool_sources WHERE id = $1`, [id])).rows[0];
        if (now) {
          if (!info.replace) throw alreadyImported(id, now.imported_at, info.file);
          await c.query(`DELETE FROM pool_measurements WHERE source = $1`, [id]);
          await c.query(`DELETE FROM pool_sources WHERE id = $1`, [id]);
        }
        for (const old of info.replaces ?? []) {
          if (old === id) continue;
          await c.query(`DELETE FROM pool_measurements WHERE source = $1`, [old]);
          await c.query(`DELETE FROM pool_sources WHERE id = $1`, [old]);
        }
        // Key order: two imports merging the same samples lock them in one order.
        await c.query(`INSERT INTO pool_samples AS t (${SAMPLE_COLS}) SELECT ${SAMPLE_COLS} FROM ${STAGE_S} ORDER BY key ON CONFLICT (key) DO UPDATE SET ${MERGE_SAMPLE}`);
        await c.query('SAVEPOINT measurements');
        try {
          await c.query(
            `INSERT INTO pool_measurements (source, slice, sample_key, model, opponent, rep, kind, value, direction, tie_tolerance, weight, line)
             SELECT $1, slice, sample_key, model, opponent, rep, kind, value, direction, tie_tolerance, weight, line FROM ${STAGE_M}
             ORDER BY slice, model, opponent, sample_key, rep`,
            [id],
          );
        } catch (err) {
          // The source's rows were deleted above (or never existed): a key clash is a measurement given twice.
          if ((err as { code?: string }).code !== '23505') throw err;
          await c.query('ROLLBACK TO SAVEPOINT measurements');
          throw (await firstDuplicate()) ?? err;
        }
        await c.query(`INSERT INTO pool_sources (id, format, file, file_sha256, imported_at, measurements, samples, options) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
          rec.id, rec.format, rec.file, rec.file_sha256, rec.imported_at, rec.measurements, rec.samples, JSON.stringify(rec.options),
        ]);
        await end(true);
        if (ord >= 1000) await ctx.analyze('pool_measurements, pool_samples');
        return rec;
      } catch (err) {
        await end(false).catch(() => {});
        throw ctx.fail(err);
      }
    },
    async rollback() {
      if (!open) {
        await end(false).catch(() => {});
        return;
      }
      open = false;
      samples = new Map();
      lines = [];
      await end(false).catch(() => {});
    },
  };
}

function unnestSamples(rows: PoolSample[]): { sql: string; params: unknown[][] } {
  const params = SAMPLE_TYPES.map(() => [] as unknown[]);
  for (const s of rows) sampleParams(s).forEach((v, j) => params[j]!.push(v));
  return { sql: `unnest(${SAMPLE_TYPES.map((t, j) => `$${j + 1}::${t}[]`).join(', ')})`, params };
}

export async function pgSources(ctx: PgContext): Promise<SourceRecord[]> {
  const rows = (await ctx.q(`SELECT id, format, file, file_sha256, imported_at, measurements, samples, options FROM pool_sources ORDER BY imported_at, id`)).rows;
  return rows.map((r) => ({ ...(r as Omit<SourceRecord, 'options'>), options: JSON.parse(r.options as string) }));
}

export async function pgDeleteSource(c: pg.PoolClient, id: string, lockKey: string): Promise<number> {
  await c.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [lockKey]);
  const n = (await c.query(`DELETE FROM pool_measurements WHERE source = $1`, [id])).rowCount ?? 0;
  await c.query(`DELETE FROM pool_sources WHERE id = $1`, [id]);
  return n;
}

export async function* pgPoolSamples(ctx: PgContext, opts: { runs?: boolean } = {}): AsyncIterableIterator<PoolSample> {
  await ctx.flush();
  for (let last = ''; ;) {
    const rows = (await ctx.q<SampleRow>(`SELECT ${SAMPLE_COLS} FROM pool_samples WHERE key > $1 ORDER BY key LIMIT ${PAGE}`, [last])).rows;
    for (const r of rows) yield sampleOfRow(r);
    if (rows.length < PAGE) break;
    last = rows[rows.length - 1]!.key;
  }
  if (opts.runs === false) return;
  // One sample per content hash: the row with the smallest whole-sample hash; its dataset the smallest name among
  // the runs that planned that content.
  for (let last = ''; ;) {
    const rows = (await ctx.q<{ content_hash: string; id: string; input: string; metadata: string; dataset: string }>(
      `SELECT x.content_hash, x.id, x.input, x.metadata,
         (SELECT MIN(r.dataset_name) FROM run_samples rs JOIN runs r ON r.id = rs.run_id WHERE rs.content_hash = x.content_hash) AS dataset
       FROM (SELECT DISTINCT ON (s.content_hash) s.content_hash, s.id, s.input, s.metadata FROM samples s
             WHERE s.content_hash > $1 AND EXISTS (SELECT 1 FROM run_samples rs WHERE rs.content_hash = s.content_hash)
             ORDER BY s.content_hash, s.sample_hash LIMIT ${PAGE}) x
       ORDER BY x.content_hash`,
      [last],
    )).rows;
    for (const r of rows) yield poolSampleOfRun(r.content_hash, { id: r.id, input: JSON.parse(r.input), metadata: JSON.parse(r.metadata) }, r.dataset);
    if (rows.length < PAGE) break;
    last = rows[rows.length - 1]!.content_hash;
  }
}

const KEY_COLS = ['m.source', 'm.slice', 'm.model', 'm.opponent', 'm.sample_key', 'm.rep'];
const MEAS_SELECT = `m.source, m.slice, m.model, m.opponent, m.sample_key, m.rep, m.kind, m.value, m.direction, m.tie_tolerance, m.weight, m.line`;

/**
 * Measurements: imported ones in keyset pages on the primary key, then the runs'. A `sampleKeys` filter is loaded
 * once into a TEMP table of a connection held for the iteration (and dropped after it), not sent with every page.
 */
export async function* pgPoolMeasurements(ctx: PgContext, filter: MeasurementFilter = {}): AsyncIterableIterator<PoolMeasurement> {
  await ctx.flush();
  let held: pg.PoolClient | null = null;
  let keys: Set<string> | null = null;
  const SEL = 'assay_selected_keys';
  try {
    if (filter.sampleKeys) {
      keys = new Set(filter.sampleKeys);
      if (filter.imported !== false) {
        held = await ctx.hold();
        await held.query(`CREATE TEMP TABLE IF NOT EXISTS ${SEL} (key text COLLATE "C" PRIMARY KEY)`);
        await held.query(`TRUNCATE ${SEL}`);
        const all = [...keys];
        for (let i = 0; i < all.length; i += 10_000) await held.query(`INSERT INTO ${SEL} SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, [all.slice(i, i + 10_000)]);
      }
    }
    if (filter.imported !== false) {
      const w: string[] = [];
      const p: unknown[] = [];
      const add = (col: string, vals: string[] | undefined) => {
        if (!vals) return;
        p.push(vals);
        w.push(`${col} = ANY($${p.length}::text[])`);
      };
      add('m.source', filter.sources);
      add('m.slice', filter.slices);
      add('m.kind', filter.kinds);
      if (filter.models) {
        // A pairwise measurement belongs to the selection only when both sides do.
        p.push(filter.models);
        w.push(`m.model = ANY($${p.length}::text[]) AND (m.opponent = '' OR m.opponent = ANY($${p.length}::text[]))`);
      }
      if (held) w.push(`m.sample_key IN (SELECT key FROM ${SEL})`);
      const where = (extra: string[]) => (extra.length ? 'WHERE ' + extra.join(' AND ') : '');
      const order = `ORDER BY ${KEY_COLS.join(', ')} LIMIT ${PAGE}`;
      const n = p.length;
      const first = `SELECT ${MEAS_SELECT} FROM pool_measurements m ${where(w)} ${order}`;
      const next = `SELECT ${MEAS_SELECT} FROM pool_measurements m ${where([...w, `(${KEY_COLS.join(', ')}) > ($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, $${n + 6})`])} ${order}`;
      let last: unknown[] | null = null;
      for (;;) {
        const sql = last ? next : first;
        const params = last ? [...p, ...last] : p;
        const rows = (held ? (await held.query(sql, params)).rows : (await ctx.q(sql, params)).rows) as Record<string, unknown>[];
        for (const r of rows) {
          yield {
            source: r.source as string, slice: r.slice as string, sample_key: r.sample_key as string, model: r.model as string, opponent: r.opponent as string,
            rep: r.rep as number, kind: r.kind as PoolKind, value: r.value as number, direction: (r.direction as number) < 0 ? -1 : 1,
            tie_tolerance: r.tie_tolerance as number, weight: r.weight as number, line: r.line as number | null,
          };
        }
        if (rows.length < PAGE) break;
        const l = rows[rows.length - 1]!;
        last = [l.source, l.slice, l.model, l.opponent, l.sample_key, l.rep];
      }
    }
    if (filter.runs !== false && (!filter.sources || filter.sources.includes('runs')) && (!filter.kinds || filter.kinds.includes('binary'))) {
      yield* await runMeasurements(ctx, filter, keys);
    }
  } finally {
    if (held) {
      const c = held;
      await c.query(`DROP TABLE IF EXISTS ${SEL}`).then(() => ctx.release(c), (err) => ctx.release(c, err as Error));
    }
  }
}

/**
 * The pool's own runs as binary measurements: model = the run's model address, sample = `sha256:<content hash>`,
 * slice = the run's first scorer, value = mean over epochs (and over runs of the same model) of the values the one
 * outcome rule counts (`RUN_OUTCOME_SQL`). The grouped rows are read at once: one per model × scorer × sample.
 */
async function runMeasurements(ctx: PgContext, filter: MeasurementFilter, keys: Set<string> | null): Promise<PoolMeasurement[]> {
  const rows = (await ctx.q<{ model: string; scorer: string; sample_key: string; total: number; n: number }>(
    `SELECT r.model AS model, m.scorer AS scorer, 'sha256:' || rs.content_hash AS sample_key, SUM(${RUN_OUTCOME_SQL.value}) AS total, COUNT(*) AS n
     FROM measurements m JOIN runs r ON r.id = m.run_id
     JOIN run_samples rs ON rs.run_id = m.run_id AND rs.sample_id = m.sample_id
     WHERE m.kind = 'binary' AND ${RUN_OUTCOME_SQL.where} AND m.scorer = r.first_scorer
     GROUP BY 1, 2, 3 ORDER BY 2, 3, 1`,
  )).rows;
  const models = filter.models ? new Set(filter.models) : null;
  const slices = filter.slices ? new Set(filter.slices) : null;
  const out: PoolMeasurement[] = [];
  for (const { model, scorer, sample_key, total, n } of rows) {
    if (models && !models.has(model)) continue;
    if (slices && !slices.has(scorer)) continue;
    if (keys && !keys.has(sample_key)) continue;
    out.push({ source: 'runs', slice: scorer, sample_key, model, opponent: '', rep: 0, kind: 'binary', value: total / n, direction: 1, tie_tolerance: 0, weight: 1, line: null });
  }
  return out;
}

export async function pgSummary(ctx: PgContext): Promise<{ source: string; kind: string; slices: number; models: number; samples: number; measurements: number }[]> {
  await ctx.flush();
  const out = (await ctx.q<{ source: string; kind: string; slices: number; models: number; samples: number; measurements: number }>(
    `SELECT source, kind, COUNT(DISTINCT slice) AS slices,
       (SELECT COUNT(*) FROM (SELECT model FROM pool_measurements a WHERE a.source = p.source AND a.kind = p.kind
          UNION SELECT opponent FROM pool_measurements b WHERE b.source = p.source AND b.kind = p.kind AND b.opponent <> '') x) AS models,
       COUNT(DISTINCT sample_key) AS samples, COUNT(*) AS measurements
     FROM pool_measurements p GROUP BY source, kind ORDER BY source, kind`,
  )).rows;
  const slices = new Set<string>(), models = new Set<string>(), samples = new Set<string>();
  let n = 0;
  for (const r of await runMeasurements(ctx, {}, null)) {
    slices.add(r.slice);
    models.add(r.model);
    samples.add(r.sample_key);
    n++;
  }
  if (n) out.push({ source: 'runs', kind: 'binary', slices: slices.size, models: models.size, samples: samples.size, measurements: n });
  return out;
}

type SelectionRow = { hash: string; query: string; filters: string; lim: number | null; created_at: string; sample_keys: string };
const selectionOfRow = (r: SelectionRow): Selection => ({ hash: r.hash, query: r.query, filters: JSON.parse(r.filters), limit: r.lim, created_at: r.created_at, sample_keys: JSON.parse(r.sample_keys) });

export async function pgSaveSelection(ctx: PgContext, sel: Selection): Promise<void> {
  await ctx.q(
    `INSERT INTO pool_selections (hash, query, filters, lim, created_at, sample_keys) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (hash) DO UPDATE SET query = excluded.query, filters = excluded.filters, lim = excluded.lim, created_at = excluded.created_at, sample_keys = excluded.sample_keys`,
    [sel.hash, sel.query, JSON.stringify(sel.filters), sel.limit, sel.created_at, JSON.stringify(sel.sample_keys)],
  );
}

export async function pgGetSelection(ctx: PgContext, hashOrPrefix: string): Promise<Selection | null> {
  if (!isSelectionPrefix(hashOrPrefix)) return null;
  const rows = (await ctx.q<SelectionRow>(`SELECT * FROM pool_selections WHERE substr(hash, 1, $1) = $2 ORDER BY hash LIMIT 2`, [hashOrPrefix.length, hashOrPrefix])).rows;
  if (rows.length > 1 && rows[0]!.hash !== hashOrPrefix) throw ambiguousSelection(hashOrPrefix);
  return rows[0] ? selectionOfRow(rows[0]) : null;
}

export async function pgListSelections(ctx: PgContext): Promise<Selection[]> {
  return (await ctx.q<SelectionRow>(`SELECT * FROM pool_selections ORDER BY hash`)).rows.map(selectionOfRow);
}
