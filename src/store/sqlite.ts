/**
 * SQLite implementation of the pool (better-sqlite3@12, WAL). All writes go through one batching writer:
 * rows are queued in memory and committed in one transaction per batch (by size or by a short timer), which is
 * what lets the runner store thousands of attempts per second durably. Uniqueness of (run, sample, epoch) and
 * (run, sample, epoch, scorer) is enforced by primary keys, so a resumed or repeated write never duplicates.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Attempt, Measurement, PlannedSample, RunRecord } from '../core/schemas.ts';
import { InputError } from '../core/errors.ts';
import { hashJson } from '../core/hash.ts';
import type { AttemptWithMeasurement, Pool, RunSummary } from './types.ts';

const SCHEMA_VERSION = 2;
/** Rows per page when iterating a run. */
const PAGE = 2000;

const MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS runs (
     id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
     spec TEXT NOT NULL, manifest TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS samples (
     sample_hash TEXT PRIMARY KEY, content_hash TEXT NOT NULL, id TEXT NOT NULL, input TEXT NOT NULL, target TEXT NOT NULL,
     choices TEXT, metadata TEXT NOT NULL);
   CREATE INDEX IF NOT EXISTS samples_content_hash ON samples (content_hash);
   CREATE TABLE IF NOT EXISTS run_samples (
     run_id TEXT NOT NULL, sample_id TEXT NOT NULL, idx INTEGER NOT NULL, content_hash TEXT NOT NULL,
     sample_hash TEXT NOT NULL, prompt_hash TEXT NOT NULL, target_hash TEXT NOT NULL, messages TEXT NOT NULL,
     PRIMARY KEY (run_id, sample_id)) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS attempts (
     run_id TEXT NOT NULL, sample_id TEXT NOT NULL, epoch INTEGER NOT NULL, status TEXT NOT NULL,
     response TEXT, finish_reason TEXT NOT NULL, prompt_tokens INTEGER, completion_tokens INTEGER,
     latency_ms REAL NOT NULL, tries INTEGER NOT NULL, error TEXT, model_id TEXT, cache_key TEXT NOT NULL,
     cached INTEGER NOT NULL, meta TEXT, created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, sample_id, epoch));
   CREATE INDEX IF NOT EXISTS attempts_cache_key ON attempts (cache_key);
   CREATE TABLE IF NOT EXISTS measurements (
     run_id TEXT NOT NULL, sample_id TEXT NOT NULL, epoch INTEGER NOT NULL, scorer TEXT NOT NULL,
     kind TEXT NOT NULL, value REAL, extracted TEXT, explanation TEXT, status TEXT NOT NULL,
     PRIMARY KEY (run_id, sample_id, epoch, scorer)) WITHOUT ROWID;`,
  // 2 (issue 5): the pool of imported sample-level measurements (see measurements.ts).
  `CREATE TABLE IF NOT EXISTS pool_sources (
     id TEXT PRIMARY KEY, format TEXT NOT NULL, file TEXT NOT NULL, file_sha256 TEXT NOT NULL,
     imported_at TEXT NOT NULL, measurements INTEGER NOT NULL, samples INTEGER NOT NULL, options TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS pool_samples (
     key TEXT PRIMARY KEY, dataset TEXT NOT NULL, sample_id TEXT NOT NULL, category TEXT, tags TEXT NOT NULL,
     text TEXT, content_hash TEXT, metadata TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS pool_measurements (
     source TEXT NOT NULL, slice TEXT NOT NULL, sample_key TEXT NOT NULL, model TEXT NOT NULL, opponent TEXT NOT NULL,
     rep INTEGER NOT NULL, kind TEXT NOT NULL, value REAL NOT NULL, direction INTEGER NOT NULL, tie_tolerance REAL NOT NULL,
     weight REAL NOT NULL, line INTEGER,
     PRIMARY KEY (source, slice, model, opponent, sample_key, rep)) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS pool_selections (
     hash TEXT PRIMARY KEY, query TEXT NOT NULL, filters TEXT NOT NULL, lim INTEGER, created_at TEXT NOT NULL,
     sample_keys TEXT NOT NULL);`,
];

export interface SqlitePoolOptions {
  /** Rows per transaction before an automatic flush (default 512). */
  batchSize?: number;
  /** Milliseconds before queued rows are flushed by a timer (default 100). */
  flushIntervalMs?: number;
}

/**
 * Open (creating if needed) a pool file. `path` may be `:memory:` for tests.
 * Errors: throws if the file is not a SQLite database or was written by a newer schema.
 */
export function openSqlitePool(path: string, opts: SqlitePoolOptions = {}): Pool {
  return new SqlitePool(openSqliteDatabase(path), opts);
}

/**
 * Open (creating if needed) the pool's SQLite database with WAL and every migration applied; used by
 * `openSqlitePool` and by the measurement store of issue 5 (`measurements.ts`), which adds its own interface.
 * Errors: throws if the file is not a SQLite database or was written by a newer schema.
 */
export function openSqliteDatabase(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw new InputError(`pool schema version ${version} is newer than this Assay (${SCHEMA_VERSION})`, { file: path });
  for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
  return db;
}

type AttemptRow = Omit<Attempt, 'cached' | 'meta'> & { cached: number; meta: string | null; created_at: string };

class SqlitePool implements Pool {
  private attemptQueue: Attempt[] = [];
  private measurementQueue: Measurement[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly stmt;
  private readonly writeBatch: (a: Attempt[], m: Measurement[]) => void;

  constructor(
    private readonly db: Database.Database,
    opts: SqlitePoolOptions,
  ) {
    this.batchSize = opts.batchSize ?? 512;
    this.flushIntervalMs = opts.flushIntervalMs ?? 100;
    this.stmt = {
      insertAttempt: db.prepare(
        `INSERT OR REPLACE INTO attempts (run_id, sample_id, epoch, status, response, finish_reason, prompt_tokens,
           completion_tokens, latency_ms, tries, error, model_id, cache_key, cached, meta, created_at)
         VALUES (@run_id, @sample_id, @epoch, @status, @response, @finish_reason, @prompt_tokens, @completion_tokens,
           @latency_ms, @tries, @error, @model_id, @cache_key, @cached, @meta, @created_at)`,
      ),
      insertMeasurement: db.prepare(
        `INSERT OR REPLACE INTO measurements (run_id, sample_id, epoch, scorer, kind, value, extracted, explanation, status)
         VALUES (@run_id, @sample_id, @epoch, @scorer, @kind, @value, @extracted, @explanation, @status)`,
      ),
      cacheLookup: db.prepare(
        `SELECT response, finish_reason, prompt_tokens, completion_tokens, model_id, meta FROM attempts
         WHERE cache_key = ? AND status = 'ok' LIMIT 1`,
      ),
      completed: db.prepare(`SELECT sample_id, epoch FROM attempts WHERE run_id = ? AND status = 'ok'`),
      getRun: db.prepare(`SELECT * FROM runs WHERE id = ?`),
    };
    this.writeBatch = db.transaction((attempts: Attempt[], measurements: Measurement[]) => {
      const now = new Date().toISOString();
      for (const a of attempts) {
        this.stmt.insertAttempt.run({ ...a, cached: a.cached ? 1 : 0, meta: a.meta ? JSON.stringify(a.meta) : null, created_at: now });
      }
      for (const m of measurements) this.stmt.insertMeasurement.run(m);
    });
  }

  ensureRun(run: RunRecord, planned: Iterable<PlannedSample>): void {
    const insertRun = this.db.prepare(
      `INSERT OR IGNORE INTO runs (id, status, created_at, updated_at, spec, manifest) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    const insertSample = this.db.prepare(
      `INSERT OR IGNORE INTO samples (sample_hash, content_hash, id, input, target, choices, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertRunSample = this.db.prepare(
      `INSERT OR IGNORE INTO run_samples (run_id, sample_id, idx, content_hash, sample_hash, prompt_hash, target_hash, messages)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      const existing = this.stmt.getRun.get(run.id);
      if (existing) return;
      insertRun.run(run.id, run.status, run.created_at, run.updated_at, JSON.stringify(run.spec), JSON.stringify(run.manifest));
      for (const p of planned) {
        const s = p.sample;
        // Two samples may share content (input + target) yet differ in id or metadata: the samples table is keyed
        // by the hash of the whole sample, so neither overwrites the other.
        const sampleHash = hashJson(s);
        insertSample.run(sampleHash, p.content_hash, s.id, JSON.stringify(s.input), s.target, s.choices ? JSON.stringify(s.choices) : null, JSON.stringify(s.metadata));
        insertRunSample.run(run.id, s.id, p.index, p.content_hash, sampleHash, p.prompt_hash, p.target_hash, JSON.stringify(p.messages));
      }
    })();
  }

  getRun(id: string): RunRecord | null {
    const row = this.stmt.getRun.get(id) as { id: string; status: RunRecord['status']; created_at: string; updated_at: string; spec: string; manifest: string } | undefined;
    if (!row) return null;
    return { id: row.id, status: row.status, created_at: row.created_at, updated_at: row.updated_at, spec: JSON.parse(row.spec), manifest: JSON.parse(row.manifest) };
  }

  resolveRunId(prefix: string): string {
    if (!prefix.trim()) throw new InputError('a run id (or a unique prefix of one) is required; see `assay runs`');
    const rows = this.db.prepare(`SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2`).all(prefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%') as { id: string }[];
    if (rows.length === 0) throw new InputError(`no run with id "${prefix}" in the pool (see \`assay runs\`)`);
    if (rows.length > 1) throw new InputError(`run id prefix "${prefix}" is ambiguous; give more characters`);
    return rows[0]!.id;
  }

  listRuns(): RunSummary[] {
    const rows = this.db
      .prepare(
        `SELECT r.id, r.status, r.created_at, r.spec,
           (SELECT COUNT(*) FROM run_samples s WHERE s.run_id = r.id) AS samples,
           (SELECT COUNT(*) FROM attempts a WHERE a.run_id = r.id) AS attempts,
           (SELECT COUNT(*) FROM attempts a WHERE a.run_id = r.id AND a.status = 'error') AS failed
         FROM runs r ORDER BY r.created_at`,
      )
      .all() as { id: string; status: RunRecord['status']; created_at: string; spec: string; samples: number; attempts: number; failed: number }[];
    return rows.map((r) => {
      const spec = JSON.parse(r.spec) as RunRecord['spec'];
      return { id: r.id, status: r.status, created_at: r.created_at, dataset: spec.dataset.ref, model: spec.model, epochs: spec.epochs, samples: r.samples, attempts: r.attempts, failed: r.failed };
    });
  }

  setRunStatus(id: string, status: RunRecord['status']): void {
    this.flush();
    this.db.prepare(`UPDATE runs SET status = ?, updated_at = ? WHERE id = ?`).run(status, new Date().toISOString(), id);
  }

  setScorerReport(id: string, scorer: string, report: Record<string, unknown>): void {
    const run = this.getRun(id);
    if (!run) return;
    run.manifest.scorer_reports = { ...(run.manifest.scorer_reports ?? {}), [scorer]: report };
    this.db.prepare(`UPDATE runs SET manifest = ? WHERE id = ?`).run(JSON.stringify(run.manifest), id);
  }

  addReportedModelIds(id: string, modelIds: string[]): void {
    const run = this.getRun(id);
    if (!run) return;
    const ids = new Set([...run.manifest.provider.reported_model_ids, ...modelIds]);
    if (ids.size === run.manifest.provider.reported_model_ids.length) return;
    run.manifest.provider.reported_model_ids = [...ids].sort();
    this.db.prepare(`UPDATE runs SET manifest = ? WHERE id = ?`).run(JSON.stringify(run.manifest), id);
  }

  completedKeys(runId: string): Set<string> {
    const out = new Set<string>();
    for (const r of this.stmt.completed.iterate(runId) as IterableIterator<{ sample_id: string; epoch: number }>) out.add(`${r.sample_id}\u0000${r.epoch}`);
    return out;
  }

  cacheLookup(cacheKey: string) {
    const row = this.stmt.cacheLookup.get(cacheKey) as (Pick<AttemptRow, 'response' | 'finish_reason' | 'prompt_tokens' | 'completion_tokens' | 'model_id' | 'meta'>) | undefined;
    if (!row) return null;
    return { ...row, meta: row.meta ? JSON.parse(row.meta) : null };
  }

  write(attempt: Attempt, measurements: Measurement[]): void {
    this.attemptQueue.push(attempt);
    for (const m of measurements) this.measurementQueue.push(m);
    this.schedule();
  }

  writeMeasurements(measurements: Measurement[]): void {
    for (const m of measurements) this.measurementQueue.push(m);
    this.schedule();
  }

  private schedule(): void {
    if (this.attemptQueue.length + this.measurementQueue.length >= this.batchSize) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.attemptQueue.length === 0 && this.measurementQueue.length === 0) return;
    const a = this.attemptQueue;
    const m = this.measurementQueue;
    this.attemptQueue = [];
    this.measurementQueue = [];
    this.writeBatch(a, m);
  }

  plannedCount(runId: string): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM run_samples WHERE run_id = ?`).get(runId) as { n: number }).n;
  }

  plannedSamples(runId: string): PlannedSample[] {
    return [...this.iteratePlanned(runId)];
  }

  *iteratePlanned(runId: string): IterableIterator<PlannedSample> {
    const stmt = this.db.prepare(
      `SELECT rs.idx, rs.prompt_hash, rs.target_hash, rs.content_hash, rs.messages, rs.sample_id AS id, s.input, s.target, s.choices, s.metadata
       FROM run_samples rs JOIN samples s ON s.sample_hash = rs.sample_hash WHERE rs.run_id = ? AND rs.idx > ? ORDER BY rs.idx LIMIT ?`,
    );
    type Row = { idx: number; prompt_hash: string; target_hash: string; content_hash: string; messages: string; id: string; input: string; target: string; choices: string | null; metadata: string };
    let last = -1;
    for (;;) {
      const rows = stmt.all(runId, last, PAGE) as Row[];
      for (const r of rows) {
        yield {
          index: r.idx,
          prompt_hash: r.prompt_hash,
          target_hash: r.target_hash,
          content_hash: r.content_hash,
          messages: JSON.parse(r.messages),
          sample: { id: r.id, input: JSON.parse(r.input), target: r.target, ...(r.choices ? { choices: JSON.parse(r.choices) } : {}), metadata: JSON.parse(r.metadata) },
        };
      }
      if (rows.length < PAGE) return;
      last = rows[rows.length - 1]!.idx;
    }
  }

  /**
   * Keyset-paged iteration (pages of `PAGE` rows ordered by sample index, epoch): no statement stays open
   * between pages, so callers may write (and the batching writer may flush) while iterating.
   */
  private *paged<T extends { idx: number; epoch: number }>(sql: string, params: unknown[]): IterableIterator<T> {
    const stmt = this.db.prepare(sql);
    let lastIdx = -1, lastEpoch = -1;
    for (;;) {
      const rows = stmt.all(...params, lastIdx, lastIdx, lastEpoch, PAGE) as T[];
      yield* rows;
      if (rows.length < PAGE) return;
      lastIdx = rows[rows.length - 1]!.idx;
      lastEpoch = rows[rows.length - 1]!.epoch;
    }
  }

  *iterateAttempts(runId: string, scorer?: string): IterableIterator<AttemptWithMeasurement> {
    this.flush();
    const sql = `SELECT a.*, rs.idx AS idx, m.scorer AS m_scorer, m.kind AS m_kind, m.value AS m_value, m.extracted AS m_extracted,
              m.explanation AS m_explanation, m.status AS m_status
       FROM attempts a JOIN run_samples rs ON rs.run_id = a.run_id AND rs.sample_id = a.sample_id
       LEFT JOIN measurements m ON m.run_id = a.run_id AND m.sample_id = a.sample_id AND m.epoch = a.epoch AND m.scorer = ?
       WHERE a.run_id = ? AND (rs.idx > ? OR (rs.idx = ? AND a.epoch > ?)) ORDER BY rs.idx, a.epoch LIMIT ?`;
    for (const r of this.paged<AttemptRow & { idx: number } & Record<string, unknown>>(sql, [scorer ?? '', runId])) {
      yield {
        run_id: r.run_id, sample_id: r.sample_id, epoch: r.epoch, status: r.status, response: r.response, finish_reason: r.finish_reason,
        prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens, latency_ms: r.latency_ms, tries: r.tries, error: r.error,
        model_id: r.model_id, cache_key: r.cache_key, cached: r.cached === 1, meta: r.meta ? JSON.parse(r.meta) : null,
        measurement: r.m_scorer == null ? null : {
          run_id: r.run_id, sample_id: r.sample_id, epoch: r.epoch, scorer: r.m_scorer as string, kind: r.m_kind as Measurement['kind'],
          value: r.m_value as number | null, extracted: r.m_extracted as string | null, explanation: r.m_explanation as string | null, status: r.m_status as Measurement['status'],
        },
      };
    }
  }

  *iterateMeasurements(runId: string, scorer: string) {
    this.flush();
    const sql = `SELECT m.*, rs.idx AS idx, a.finish_reason, a.status AS attempt_status FROM measurements m
       JOIN attempts a ON a.run_id = m.run_id AND a.sample_id = m.sample_id AND a.epoch = m.epoch
       JOIN run_samples rs ON rs.run_id = m.run_id AND rs.sample_id = m.sample_id
       WHERE m.run_id = ? AND m.scorer = ? AND (rs.idx > ? OR (rs.idx = ? AND m.epoch > ?)) ORDER BY rs.idx, m.epoch LIMIT ?`;
    for (const r of this.paged<Measurement & { idx: number; finish_reason: Attempt['finish_reason']; attempt_status: Attempt['status'] }>(sql, [runId, scorer])) {
      const { idx: _idx, ...rest } = r;
      yield rest;
    }
  }

  scorersOf(runId: string): string[] {
    this.flush();
    return (this.db.prepare(`SELECT DISTINCT scorer FROM measurements WHERE run_id = ? ORDER BY scorer`).all(runId) as { scorer: string }[]).map((r) => r.scorer);
  }

  counts(runId: string) {
    this.flush();
    const a = this.db
      .prepare(`SELECT COUNT(*) AS n, SUM(status = 'ok') AS ok, SUM(status = 'error') AS err FROM attempts WHERE run_id = ?`)
      .get(runId) as { n: number; ok: number | null; err: number | null };
    const m = this.db.prepare(`SELECT COUNT(*) AS n FROM measurements WHERE run_id = ?`).get(runId) as { n: number };
    return { attempts: a.n, ok: a.ok ?? 0, error: a.err ?? 0, measurements: m.n };
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}
