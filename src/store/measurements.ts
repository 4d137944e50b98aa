/**
 * The measurement pool of issue 5 (ONEBench, Ghosh et al. 2024): sample-level measurements of any kind, made by
 * Assay's own runs or imported from other tools, and the samples they refer to (with category, tags and text so
 * they can be queried). It lives in the same SQLite file as the runs (tables `pool_*`, schema migration 2) behind
 * its own interface, `MeasurementStore`; the run `Pool` interface is unchanged.
 *
 * Measurement kinds (`PoolKind`):
 * - `binary`: value 0/1 (fractions allowed for avg@k of repeated attempts); higher is better.
 * - `numeric`: any real value with a `direction` (+1 higher is better, −1 lower is better) and an explicit
 *   `tie_tolerance` (absolute, in the value's unit): two values within it are a tie.
 * - `ordinal`: ordered levels (e.g. judge scores 1–10) with a direction; equal levels tie (tolerance 0).
 * - `preference`: `model` against `opponent` (a baseline) on a sample; value ∈ [0, 1] = how much `model` is
 *   preferred (1 win, 0.5 tie, 0 loss; fractions for soft judges).
 * - `battle`: a pairwise battle `model` (A) vs `opponent` (B); value 1 = A wins, 0 = B wins, 0.5 = tie; `weight`
 *   counts identical verdicts (e.g. Arena-Hard's verdict multiplier).
 *
 * Every measurement has a `source` (one import, or `runs` for the pool's own runs) and a `slice` (a sub-population
 * inside a source that must never be compared with another, e.g. WildBench's version × judge). Orderings are
 * formed within (slice, sample, kind, direction) across sources, so one-model-per-file imports (lm-eval, Inspect,
 * a generic CSV per model) are compared on the samples they share (see `choicesFromMeasurements`).
 */
import type Database from 'better-sqlite3';
import { InputError } from '../core/errors.ts';
import { openSqliteDatabase } from './sqlite.ts';

export const POOL_KINDS = ['binary', 'numeric', 'ordinal', 'preference', 'battle'] as const;
export type PoolKind = (typeof POOL_KINDS)[number];

/** One sample-level measurement. `opponent` is '' except for preference and battle. `rep` separates repeats. */
export interface PoolMeasurement {
  source: string;
  slice: string;
  sample_key: string;
  model: string;
  opponent: string;
  rep: number;
  kind: PoolKind;
  value: number;
  /** +1 higher is better, −1 lower is better. */
  direction: 1 | -1;
  /** Absolute tolerance within which two values tie (numeric); 0 otherwise. */
  tie_tolerance: number;
  /** Multiplicity (≥ 0); 1 unless the source repeats identical verdicts on purpose. */
  weight: number;
  /** 1-based line of the source file the measurement came from (null for runs). */
  line?: number | null;
}

/** A sample as the pool knows it. `key` is `<dataset>/<id>` for imports and `sha256:<content hash>` for runs. */
export interface PoolSample {
  key: string;
  dataset: string;
  sample_id: string;
  category: string | null;
  tags: string[];
  text: string | null;
  content_hash: string | null;
  metadata: Record<string, unknown>;
}

/** One import. `id` is derived from the format and the file's sha256, so the same file cannot come in twice. */
export interface SourceRecord {
  id: string;
  format: string;
  file: string;
  file_sha256: string;
  imported_at: string;
  measurements: number;
  samples: number;
  options: Record<string, unknown>;
}

/** A saved capability query: the selected sample keys under a content hash, reusable by `rank --query <hash>`. */
export interface Selection {
  hash: string;
  query: string;
  filters: Record<string, string[]>;
  limit: number | null;
  created_at: string;
  sample_keys: string[];
}

/** Which measurements to read. Every field narrows (AND); lists are ORs. */
export interface MeasurementFilter {
  sampleKeys?: Iterable<string>;
  sources?: string[];
  slices?: string[];
  kinds?: PoolKind[];
  /** Only these models; a preference or battle is kept when both `model` and `opponent` are in the list. */
  models?: string[];
  /** Include measurements of the pool's own runs (default true). */
  runs?: boolean;
  /** Include imported measurements (default true). */
  imported?: boolean;
}

/** An import in progress: everything goes into one transaction; `commit` makes it visible, `rollback` erases it. */
export interface ImportTransaction {
  readonly source: string;
  /** Insert or merge a sample (category/text/tags are kept when the new row lacks them). */
  addSample(s: PoolSample): void;
  /**
   * Insert a measurement. Errors: InputError naming `file:line` when the same (source, slice, sample, model,
   * opponent, rep) was already given (with the line of the first one).
   */
  addMeasurement(m: Omit<PoolMeasurement, 'source'>): void;
  commit(info: { measurements: number; samples: number }): SourceRecord;
  rollback(): void;
}

export interface MeasurementStore {
  /**
   * Start an import of `file` (`sha256` of its bytes). Errors: InputError when a source with the same format and
   * file hash exists, unless `replace` (then it is deleted inside the same transaction).
   */
  beginImport(info: { format: string; file: string; sha256: string; options?: Record<string, unknown>; replace?: boolean }): ImportTransaction;
  sources(): SourceRecord[];
  /** Delete a source and its measurements (samples stay: other sources may use them). Returns rows deleted. */
  deleteSource(id: string): number;
  /** Every sample: imported ones and the samples of the pool's own runs. */
  iterateSamples(opts?: { runs?: boolean }): IterableIterator<PoolSample>;
  /** Measurements (imported ones grouped by source, in key order; then the runs', `source` = `runs`). */
  iterateMeasurements(filter?: MeasurementFilter): IterableIterator<PoolMeasurement>;
  /** Counts per source × kind × slice (imported) and for the runs. */
  summary(): { source: string; kind: string; slices: number; models: number; samples: number; measurements: number }[];
  saveSelection(sel: Selection): void;
  /** A saved selection by hash or unique hash prefix, or null. */
  getSelection(hashOrPrefix: string): Selection | null;
  close(): void;
}

/**
 * Open the measurement store on a pool file (the same file as `openSqlitePool`; `:memory:` for tests).
 * Errors: as `openSqliteDatabase`.
 */
export function openMeasurementStore(path: string): MeasurementStore {
  return new SqliteMeasurementStore(openSqliteDatabase(path));
}

/** Wrap an already-open database (migrated by `openSqliteDatabase`). */
export function measurementStoreOn(db: Database.Database): MeasurementStore {
  return new SqliteMeasurementStore(db);
}

class SqliteMeasurementStore implements MeasurementStore {
  constructor(private readonly db: Database.Database) {}

  beginImport(info: { format: string; file: string; sha256: string; options?: Record<string, unknown>; replace?: boolean }): ImportTransaction {
    const db = this.db;
    const id = `${info.format}:${info.sha256.slice(0, 12)}`;
    const existing = db.prepare(`SELECT id, imported_at FROM pool_sources WHERE id = ?`).get(id) as { id: string; imported_at: string } | undefined;
    if (existing && !info.replace) {
      throw new InputError(`this file was already imported as source "${id}" (${existing.imported_at}); pass --replace to import it again`, { file: info.file });
    }
    db.exec('BEGIN IMMEDIATE');
    if (existing) {
      db.prepare(`DELETE FROM pool_measurements WHERE source = ?`).run(id);
      db.prepare(`DELETE FROM pool_sources WHERE id = ?`).run(id);
    }
    const insSample = db.prepare(
      `INSERT INTO pool_samples (key, dataset, sample_id, category, tags, text, content_hash, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET category = COALESCE(excluded.category, category), text = COALESCE(excluded.text, text),
         content_hash = COALESCE(excluded.content_hash, content_hash),
         tags = CASE WHEN excluded.tags = '[]' THEN tags ELSE excluded.tags END,
         metadata = CASE WHEN excluded.metadata = '{}' THEN metadata ELSE excluded.metadata END`,
    );
    const insMeas = db.prepare(
      `INSERT INTO pool_measurements (source, slice, sample_key, model, opponent, rep, kind, value, direction, tie_tolerance, weight, line)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const firstLine = db.prepare(`SELECT line FROM pool_measurements WHERE source = ? AND slice = ? AND sample_key = ? AND model = ? AND opponent = ? AND rep = ?`);
    let open = true;
    const done = () => {
      if (!open) throw new Error('import transaction already finished');
      open = false;
    };
    return {
      source: id,
      addSample(s) {
        insSample.run(s.key, s.dataset, s.sample_id, s.category, JSON.stringify(s.tags), s.text, s.content_hash, JSON.stringify(s.metadata));
      },
      addMeasurement(m) {
        try {
          insMeas.run(id, m.slice, m.sample_key, m.model, m.opponent, m.rep, m.kind, m.value, m.direction, m.tie_tolerance, m.weight, m.line ?? null);
        } catch (err) {
          if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) {
            const first = firstLine.get(id, m.slice, m.sample_key, m.model, m.opponent, m.rep) as { line: number | null } | undefined;
            throw new InputError(
              `duplicate measurement: model "${m.model}"${m.opponent ? ` vs "${m.opponent}"` : ''} on sample "${m.sample_key}"${m.slice ? ` (slice ${m.slice})` : ''}${m.rep ? ` repeat ${m.rep}` : ''} was already given${first?.line ? ` at line ${first.line}` : ''}`,
              { file: info.file, line: m.line ?? undefined },
            );
          }
          throw err;
        }
      },
      commit(counts) {
        done();
        const rec: SourceRecord = {
          id, format: info.format, file: info.file, file_sha256: info.sha256, imported_at: new Date().toISOString(),
          measurements: counts.measurements, samples: counts.samples, options: info.options ?? {},
        };
        db.prepare(`INSERT INTO pool_sources (id, format, file, file_sha256, imported_at, measurements, samples, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(rec.id, rec.format, rec.file, rec.file_sha256, rec.imported_at, rec.measurements, rec.samples, JSON.stringify(rec.options));
        db.exec('COMMIT');
        return rec;
      },
      rollback() {
        if (!open) return;
        open = false;
        if (db.inTransaction) db.exec('ROLLBACK');
      },
    };
  }

  sources(): SourceRecord[] {
    return (this.db.prepare(`SELECT * FROM pool_sources ORDER BY imported_at`).all() as (Omit<SourceRecord, 'options'> & { options: string })[]).map((r) => ({
      ...r,
      options: JSON.parse(r.options),
    }));
  }

  deleteSource(id: string): number {
    return this.db.transaction(() => {
      const n = this.db.prepare(`DELETE FROM pool_measurements WHERE source = ?`).run(id).changes;
      this.db.prepare(`DELETE FROM pool_sources WHERE id = ?`).run(id);
      return n;
    })();
  }

  *iterateSamples(opts: { runs?: boolean } = {}): IterableIterator<PoolSample> {
    const rows = this.db.prepare(`SELECT * FROM pool_samples ORDER BY key`).iterate() as IterableIterator<{
      key: string; dataset: string; sample_id: string; category: string | null; tags: string; text: string | null; content_hash: string | null; metadata: string;
    }>;
    const batch: PoolSample[] = [];
    // Materialise in the iterator's own pace but never keep a statement open across the caller's work.
    for (const r of rows) batch.push({ ...r, tags: JSON.parse(r.tags), metadata: JSON.parse(r.metadata) });
    yield* batch;
    if (opts.runs === false) return;
    const runRows = this.db
      .prepare(
        `SELECT s.content_hash, s.id, s.input, s.metadata, MIN(json_extract(r.spec, '$.dataset.name')) AS dataset
         FROM samples s JOIN run_samples rs ON rs.content_hash = s.content_hash JOIN runs r ON r.id = rs.run_id
         GROUP BY s.content_hash ORDER BY s.content_hash`,
      )
      .all() as { content_hash: string; id: string; input: string; metadata: string; dataset: string }[];
    for (const r of runRows) {
      const md = JSON.parse(r.metadata) as Record<string, unknown>;
      const input = JSON.parse(r.input) as string | { content: string }[];
      const text = typeof input === 'string' ? input : input.map((m) => m.content).join('\n');
      const tags = Array.isArray(md.tags) ? (md.tags as unknown[]).map(String) : [];
      yield {
        key: `sha256:${r.content_hash}`, dataset: r.dataset, sample_id: r.id, category: typeof md.category === 'string' ? md.category : null,
        tags, text, content_hash: r.content_hash, metadata: md,
      };
    }
  }

  *iterateMeasurements(filter: MeasurementFilter = {}): IterableIterator<PoolMeasurement> {
    const where: string[] = [];
    const params: unknown[] = [];
    let useSel = false;
    if (filter.sampleKeys) {
      this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS sel_keys (key TEXT PRIMARY KEY) WITHOUT ROWID; DELETE FROM sel_keys;`);
      const ins = this.db.prepare(`INSERT OR IGNORE INTO sel_keys (key) VALUES (?)`);
      const keys = filter.sampleKeys;
      this.db.transaction(() => {
        for (const k of keys) ins.run(k);
      })();
      useSel = true;
    }
    if (filter.imported !== false) {
      const w = [...where];
      const p = [...params];
      const add = (col: string, vals: string[] | undefined) => {
        if (!vals) return;
        w.push(vals.length ? `${col} IN (${vals.map(() => '?').join(',')})` : '0');
        p.push(...vals);
      };
      add('m.source', filter.sources);
      add('m.slice', filter.slices);
      add('m.kind', filter.kinds);
      if (filter.models) {
        // A pairwise measurement belongs to the selection only when both sides do (Arena-Hard's `model` is always the
        // baseline, so filtering on `model` alone would keep every battle of the baseline and none of the others').
        const ph = filter.models.map(() => '?').join(',');
        w.push(filter.models.length ? `m.model IN (${ph}) AND (m.opponent = '' OR m.opponent IN (${ph}))` : '0');
        p.push(...filter.models, ...filter.models);
      }
      if (useSel) w.push(`m.sample_key IN (SELECT key FROM sel_keys)`);
      const sql = `SELECT m.source, m.slice, m.sample_key, m.model, m.opponent, m.rep, m.kind, m.value, m.direction, m.tie_tolerance, m.weight, m.line
        FROM pool_measurements m ${w.length ? 'WHERE ' + w.join(' AND ') : ''}`;
      // Raw rows (arrays) and one object per row: ~3× faster than better-sqlite3's row objects plus a copy.
      const rows = this.db.prepare(sql).raw(true).all(...p) as unknown[][];
      for (const r of rows) {
        yield {
          source: r[0] as string, slice: r[1] as string, sample_key: r[2] as string, model: r[3] as string, opponent: r[4] as string,
          rep: r[5] as number, kind: r[6] as PoolKind, value: r[7] as number, direction: (r[8] as number) < 0 ? -1 : 1,
          tie_tolerance: r[9] as number, weight: r[10] as number, line: r[11] as number | null,
        };
      }
    }
    if (filter.runs !== false && (!filter.sources || filter.sources.includes('runs')) && (!filter.kinds || filter.kinds.includes('binary'))) {
      yield* this.runMeasurements(filter, useSel);
    }
  }

  /**
   * The pool's own runs as binary measurements: model = the run's model address, sample = `sha256:<content hash>`,
   * slice = the scorer (the run's first scorer), value = mean over epochs of graded measurements (avg@k; failed and
   * ungraded attempts excluded). Several runs of one model on one sample are averaged.
   */
  private *runMeasurements(filter: MeasurementFilter, useSel: boolean): IterableIterator<PoolMeasurement> {
    const rows = this.db
      .prepare(
        `SELECT json_extract(r.spec, '$.model') AS model, m.scorer AS scorer, 'sha256:' || rs.content_hash AS sample_key,
           SUM(m.value) AS total, COUNT(*) AS n
         FROM measurements m JOIN runs r ON r.id = m.run_id
         JOIN run_samples rs ON rs.run_id = m.run_id AND rs.sample_id = m.sample_id
         WHERE m.kind = 'binary' AND m.value IS NOT NULL AND m.status IN ('ok', 'no_answer')
           AND m.scorer = json_extract(r.spec, '$.scorers[0].name')
         GROUP BY 1, 2, 3 ORDER BY 2, 3, 1`,
      )
      .all() as { model: string; scorer: string; sample_key: string; total: number; n: number }[];
    const models = filter.models ? new Set(filter.models) : null;
    const slices = filter.slices ? new Set(filter.slices) : null;
    const sel = useSel ? new Set((this.db.prepare(`SELECT key FROM sel_keys`).all() as { key: string }[]).map((r) => r.key)) : null;
    for (const r of rows) {
      if (models && !models.has(r.model)) continue;
      if (slices && !slices.has(r.scorer)) continue;
      if (sel && !sel.has(r.sample_key)) continue;
      yield {
        source: 'runs', slice: r.scorer, sample_key: r.sample_key, model: r.model, opponent: '', rep: 0, kind: 'binary',
        value: r.total / r.n, direction: 1, tie_tolerance: 0, weight: 1, line: null,
      };
    }
  }

  summary() {
    const imported = this.db
      .prepare(
        `SELECT source, kind, COUNT(DISTINCT slice) AS slices,
           (SELECT COUNT(*) FROM (SELECT model FROM pool_measurements a WHERE a.source = p.source AND a.kind = p.kind
              UNION SELECT opponent FROM pool_measurements b WHERE b.source = p.source AND b.kind = p.kind AND b.opponent != '')) AS models,
           COUNT(DISTINCT sample_key) AS samples, COUNT(*) AS measurements
         FROM pool_measurements p GROUP BY source, kind ORDER BY source, kind`,
      )
      .all() as { source: string; kind: string; slices: number; models: number; samples: number; measurements: number }[];
    const runs = [...this.runMeasurements({}, false)];
    if (runs.length) {
      imported.push({
        source: 'runs', kind: 'binary', slices: new Set(runs.map((r) => r.slice)).size, models: new Set(runs.map((r) => r.model)).size,
        samples: new Set(runs.map((r) => r.sample_key)).size, measurements: runs.length,
      });
    }
    return imported;
  }

  saveSelection(sel: Selection): void {
    this.db
      .prepare(`INSERT OR REPLACE INTO pool_selections (hash, query, filters, lim, created_at, sample_keys) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(sel.hash, sel.query, JSON.stringify(sel.filters), sel.limit, sel.created_at, JSON.stringify(sel.sample_keys));
  }

  getSelection(hashOrPrefix: string): Selection | null {
    if (!/^[0-9a-f]{4,64}$/.test(hashOrPrefix)) return null;
    const rows = this.db.prepare(`SELECT * FROM pool_selections WHERE hash LIKE ? LIMIT 2`).all(hashOrPrefix + '%') as {
      hash: string; query: string; filters: string; lim: number | null; created_at: string; sample_keys: string;
    }[];
    if (rows.length !== 1) {
      if (rows.length > 1) throw new InputError(`selection hash prefix "${hashOrPrefix}" is ambiguous; give more characters`);
      return null;
    }
    const r = rows[0]!;
    return { hash: r.hash, query: r.query, filters: JSON.parse(r.filters), limit: r.lim, created_at: r.created_at, sample_keys: JSON.parse(r.sample_keys) };
  }

  close(): void {
    this.db.close();
  }
}
