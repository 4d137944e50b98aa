/**
 * PostgreSQL implementation of the pool (pg@8: a `pg.Pool` of connections), for a pool shared by several processes
 * on several machines. Same answers as the SQLite pool (sqlite.ts) to the one conformance suite.
 *
 * - Writes of attempts, measurements and chain links are queued and stored in batches, one transaction per batch (by
 *   size or by a short timer), like SQLite's batching writer. Uniqueness of (run, sample, epoch) and (run, sample,
 *   epoch, scorer) is the tables' primary keys, and rows go in by `INSERT … ON CONFLICT`: an attempt written twice, by
 *   one process or by two on two machines, is stored once. A batch first takes a transaction-scoped advisory lock per
 *   run it writes, so batches of one run are applied one after the other — the replacement rules (a failed attempt
 *   never replaces an ok one, nor its `attempt_error` measurement) read what the previous batch stored, as in SQLite.
 * - Leases, manifests, tasks, models, eval sets and private sets change by read-modify-write inside a transaction that
 *   holds an advisory lock on the key (and the lease row lock), so they are atomic across connections and processes.
 * - Iterators read keyset pages (a query per page, no transaction or cursor held between pages): the caller may write,
 *   or run for hours, while iterating.
 * - A plan (`ensureRun`) and an import (`beginImport`, postgres-imports.ts) are consumed inside a transaction on a
 *   connection of their own: nothing is visible until it commits, and a failure rolls everything back.
 * - Free text that PostgreSQL's text type cannot hold (a NUL character, which SQLite keeps) is stored escaped:
 *   see {@link encodeText}.
 *
 * Open through `openPool('postgres://user@host:port/db')` (open.ts); the schema is in postgres-schema.ts.
 */
import type pg from 'pg';
import type { ImageBlob } from '../core/images.ts';
import type { Attempt, Measurement, PlannedSample, RunRecord } from '../core/schemas.ts';
import { InputError, RunError } from '../core/errors.ts';
import { hashJson } from '../core/hash.ts';
import { connectPg, inspectPg, migratePg, PG_SCHEMA_VERSION, type PgAddress } from './postgres-schema.ts';
import {
  beginPgImport, pgDeleteSource, pgGetSelection, pgListSelections, pgPoolMeasurements, pgPoolSamples, pgSaveSelection, pgSources, pgSummary, type PgContext,
} from './postgres-imports.ts';
import {
  ambiguousEvalSet, checkedImage, checkPageLimit, checkTask, checkTtl, leaseOf, mayTakeLease, mergeEvalSetRuns, mergeModel, PAGE, patchEvalSet, privateSetExists, runIdError, runSummaryOf,
  unknownEvalSet, unknownRun,
} from './shared.ts';
import type {
  AttemptCursor, AttemptPageRow, AttemptWithMeasurement, CachedResponse, ChainLink, ChainSignature, EvalSetRecord, ImportInfo, ImportTransaction, LeaseHolder, MeasurementFilter, ModelRecord, Pool, PoolMeasurement,
  PoolSample, PrivateExposure, PrivateItem, PrivateSetRecord, RunLease, RunMeasurement, RunSummary, Selection, SourceRecord, TaskRecord,
} from './types.ts';

export { PG_SCHEMA_VERSION } from './postgres-schema.ts';

/** Options of {@link openPostgresPool}. */
export interface PostgresPoolOptions {
  /** Create the pool (the `assay` schema and its tables) when the database has none (default false: an InputError). */
  create?: boolean;
  /** Only read: every transaction is read-only on the server, and a write through the pool is an InputError. */
  readonly?: boolean;
  /** Rows per transaction before an automatic flush (default 1000). */
  batchSize?: number;
  /** Milliseconds before queued rows are flushed by a timer (default 100). */
  flushIntervalMs?: number;
  /** Connections at most (default 10). */
  maxConnections?: number;
}

/**
 * Open the pool in the PostgreSQL database at `url` (`postgres://` or `postgresql://`; the password, when one is
 * needed, in the url, `$PGPASSWORD` or `~/.pgpass`). A pool of an older schema is migrated. The returned pool's `url`
 * is `url` without its password.
 * Errors (InputError, naming `host:port` or the url without password): the server cannot be reached, refuses the
 * user, or has no such database; the database holds no pool and `create` is not given (or `readonly` is); its
 * `assay` schema is not an Assay pool; the pool's schema is newer than this Assay's.
 */
export async function openPostgresPool(url: string, opts: PostgresPoolOptions = {}): Promise<Pool> {
  const { pg: pool, address } = await connectPg(url, { readonly: opts.readonly, max: opts.maxConnections });
  try {
    const version = await inspectPg(pool, address);
    if (version === 0 && (!opts.create || opts.readonly)) {
      throw new InputError(
        `holds no Assay pool yet (no "${address.schema}" schema in database "${address.database}"); a command that writes (\`assay run\`, \`assay import\`) creates one`,
        { file: address.url },
      );
    }
    if (version < PG_SCHEMA_VERSION) await migratePg(pool, address);
  } catch (err) {
    await pool.end().catch(() => {});
    if (err instanceof InputError) throw err;
    throw pgError(err, address.url);
  }
  return new PostgresPool(pool, address, opts);
}

/**
 * What a PostgreSQL failure means for the user, in one line naming the pool (without password): a write to a
 * read-only pool is an InputError, a full disk or a lost connection a RunError (what was stored is kept; running
 * the same command again resumes). Anything else is returned unchanged.
 */
export function pgError(err: unknown, url: string): unknown {
  if (err instanceof InputError || err instanceof RunError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const detail = (err as Error | null)?.message ?? String(err);
  if (code === '25006') return new InputError(`cannot write to the pool: it is open read-only (${detail})`, { file: url });
  if (code === '22021' || code === '22P05') {
    return new InputError(`PostgreSQL cannot store this text (${detail}): a NUL character (U+0000) in a name, id or imported field; remove it and try again`, { file: url });
  }
  if (code === '53100') return new RunError(`${url}: disk full on the PostgreSQL server (${detail}); what was stored before is kept: free some space and run the same command again to resume`);
  if (code === '57P01' || code === '57P02' || code === '57P03' || code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || /Connection terminated/i.test(detail)) {
    return new RunError(`${url}: lost the connection to the PostgreSQL server (${detail}); what was stored before is kept: run the same command again to resume`);
  }
  return err;
}

// --- free text ---------------------------------------------------------------------------------------------------------

/** The first character of a stored text that is an escaped string (JSON after it). */
const ESCAPED = '\u0001';

/**
 * Free text (responses, errors, extracted answers, explanations, targets) as stored: as it is, unless it holds a NUL
 * character (which PostgreSQL's text type refuses) or starts with U+0001; then U+0001 followed by its JSON string.
 * Lossless: {@link decodeText} gives back the same string.
 */
export function encodeText(s: string): string;
export function encodeText(s: string | null): string | null;
export function encodeText(s: string | null): string | null {
  if (s === null || (!s.includes('\u0000') && !s.startsWith(ESCAPED))) return s;
  return ESCAPED + JSON.stringify(s);
}

/** The inverse of {@link encodeText}. */
export function decodeText(s: string): string;
export function decodeText(s: string | null): string | null;
export function decodeText(s: string | null): string | null {
  return s !== null && s.startsWith(ESCAPED) ? (JSON.parse(s.slice(1)) as string) : s;
}

const parseOrNull = (s: string | null): unknown => (s == null ? null : JSON.parse(s));

// --- rows ----------------------------------------------------------------------------------------------------------------

/** One attempts row as queued, in the column order of {@link ATTEMPT_COLS}. */
type AttemptParams = [
  run_id: string, sample_id: string, epoch: number, status: Attempt['status'], response: string | null, finish_reason: Attempt['finish_reason'],
  prompt_tokens: number | null, completion_tokens: number | null, latency_ms: number, tries: number, error: string | null, model_id: string | null,
  cache_key: string, cached: boolean, meta: string | null, transcript: string | null, created_at: string,
];
const ATTEMPT_COLS = 'run_id, sample_id, epoch, status, response, finish_reason, prompt_tokens, completion_tokens, latency_ms, tries, error, model_id, cache_key, cached, meta, transcript, created_at';
const ATTEMPT_TYPES = ['text', 'text', 'int', 'text', 'text', 'text', 'int8', 'int8', 'float8', 'int', 'text', 'text', 'text', 'bool', 'text', 'text', 'text'];

type MeasurementParams = [run_id: string, sample_id: string, epoch: number, scorer: string, kind: string, value: number | null, extracted: string | null, explanation: string | null, status: string];
const MEASUREMENT_COLS = 'run_id, sample_id, epoch, scorer, kind, value, extracted, explanation, status';
const MEASUREMENT_TYPES = ['text', 'text', 'int', 'text', 'text', 'float8', 'text', 'text', 'text'];
const measurementParams = (m: Measurement): MeasurementParams => [m.run_id, m.sample_id, m.epoch, m.scorer, m.kind, m.value, encodeText(m.extracted), encodeText(m.explanation), m.status];

type LinkParams = [run_id: string, seq: number, kind: string, sample_id: string | null, epoch: number | null, scorer: string | null, status: string | null, record_hash: string, chain: string];
const LINK_COLS = 'run_id, seq, kind, sample_id, epoch, scorer, status, record_hash, chain';
const LINK_TYPES = ['text', 'int', 'text', 'text', 'int', 'text', 'text', 'text', 'text'];
const linkParams = (l: ChainLink): LinkParams => [l.run_id, l.seq, l.kind, l.sample_id, l.epoch, l.scorer, l.status, l.record_hash, l.chain];
const linkOfRow = (r: Record<string, unknown>): ChainLink => ({
  run_id: r.run_id as string, seq: r.seq as number, kind: r.kind as ChainLink['kind'], sample_id: r.sample_id as string | null, epoch: r.epoch as number | null,
  scorer: r.scorer as string | null, status: r.status as string | null, record_hash: r.record_hash as string, chain: r.chain as string,
});

/**
 * `SELECT * FROM unnest($k::type[], …)`: rows sent as one array per column (one parameter each, whatever the number
 * of rows), from parameter `$first` on. Returns the SQL and the parameters.
 */
export function unnestRows(rows: readonly (readonly unknown[])[], types: readonly string[], first = 1): { sql: string; params: unknown[][] } {
  const params = types.map((_, j) => rows.map((r) => r[j] ?? null));
  return { sql: `unnest(${types.map((t, j) => `$${first + j}::${t}[]`).join(', ')})`, params };
}

/** `a.col = excluded.col` for every column but the key. */
const setAll = (cols: string, key: string[]) => cols.split(', ').filter((c) => !key.includes(c)).map((c) => `${c} = excluded.${c}`).join(', ');

type RunRow = { id: string; status: RunRecord['status']; created_at: string; updated_at: string; spec: string; manifest: string };
const runOfRow = (r: RunRow): RunRecord => ({ id: r.id, status: r.status, created_at: r.created_at, updated_at: r.updated_at, spec: JSON.parse(r.spec), manifest: JSON.parse(r.manifest) });

type PlannedRow = { idx: number; prompt_hash: string; target_hash: string; content_hash: string; messages: string; id: string; input: string; target: string; choices: string | null; metadata: string };
const plannedOfRow = (r: PlannedRow): PlannedSample => ({
  index: r.idx, prompt_hash: r.prompt_hash, target_hash: r.target_hash, content_hash: r.content_hash, messages: JSON.parse(r.messages),
  sample: { id: r.id, input: JSON.parse(r.input), target: decodeText(r.target), ...(r.choices ? { choices: JSON.parse(r.choices) } : {}), metadata: JSON.parse(r.metadata) },
});

/** An attempt as read back: free text decoded, JSON parsed, `transcript` null unless given. */
function attemptOfRow(r: Record<string, unknown>): Attempt & { transcript: NonNullable<Attempt['transcript']> | null } {
  return {
    run_id: r.run_id as string, sample_id: r.sample_id as string, epoch: r.epoch as number, status: r.status as Attempt['status'], response: decodeText(r.response as string | null),
    finish_reason: r.finish_reason as Attempt['finish_reason'], prompt_tokens: r.prompt_tokens as number | null, completion_tokens: r.completion_tokens as number | null,
    latency_ms: r.latency_ms as number, tries: r.tries as number, error: decodeText(r.error as string | null), model_id: r.model_id as string | null,
    cache_key: r.cache_key as string, cached: r.cached as boolean, meta: parseOrNull(r.meta as string | null) as Attempt['meta'],
    transcript: parseOrNull(r.transcript as string | null) as NonNullable<Attempt['transcript']> | null,
  };
}

const LEASE_COLS = 'run_id, owner, pid, host, acquired_at, heartbeat_at, expires_at';

/** Transaction-scoped advisory lock on `key` of `space` (a read-modify-write of one thing at a time, across processes). */
const LOCK = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`;

const RESOLVED = Promise.resolve();
const ignore = () => {};

/** SQLSTATEs of a transaction that lost a deadlock or a serialization race: it is run again. */
const RETRYABLE = new Set(['40P01', '40001']);

class PostgresPool implements Pool {
  readonly url: string;
  private readonly address: PgAddress;
  private attemptQueue: AttemptParams[] = [];
  private measurementQueue: MeasurementParams[] = [];
  private linkQueue: LinkParams[] = [];
  /** Queued ok attempts by cache key: a cache lookup sees writes not yet flushed. */
  private queuedByCacheKey = new Map<string, AttemptParams>();
  /** Why the last batch could not be stored (its rows were put back in the queue), until reported. */
  private writeError: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The flushes, one after the other. */
  private flushChain: Promise<void> = RESOLVED;
  private closed = false;
  private readonly readonly: boolean;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  /** Connections held by open imports and iterators: given back (their transactions rolled back) on close. */
  private readonly held = new Set<pg.PoolClient>();
  /** Statistics refreshes running in the background (close waits for them). */
  private readonly pending = new Set<Promise<void>>();
  private readonly ctx: PgContext;

  constructor(
    private readonly pg: pg.Pool,
    address: PgAddress,
    opts: PostgresPoolOptions,
  ) {
    this.address = address;
    this.url = address.url;
    this.readonly = !!opts.readonly;
    this.batchSize = opts.batchSize ?? 1000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 100;
    this.ctx = {
      url: this.url,
      q: (sql, params) => this.q(sql, params),
      flush: () => this.flush(),
      analyze: (tables) => this.analyze(tables),
      hold: () => this.hold(),
      release: (c, err) => this.release(c, err),
      writable: () => this.writable(),
      fail: (err) => pgError(err, this.url),
      lockKey: (kind, id) => this.lockKey(kind, id),
    };
  }

  // --- plumbing ------------------------------------------------------------------------------------------------------

  /** The advisory-lock key of `id` of a kind of thing, in this pool (its schema: pools in one database do not share them). */
  private lockKey(kind: string, id: string): string {
    return `${this.address.schema}.${kind}:${id}`;
  }

  private live(): void {
    if (this.closed) throw new Error('the pool is closed');
  }

  /** Refuse a write on a read-only pool. */
  private writable(): void {
    this.live();
    if (this.readonly) throw new InputError('cannot write to the pool: it is open read-only (a command that only reads)', { file: this.url });
  }

  private async q<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    this.live();
    try {
      return await this.pg.query<R>(sql, params);
    } catch (err) {
      throw pgError(err, this.url);
    }
  }

  /**
   * Refresh the planner's statistics of `tables` (`ANALYZE`). PostgreSQL's autovacuum does it only a minute or more
   * after a table grew; until then the planner takes a big run for a few rows and, for every keyset page, sorts the
   * whole rest of the run instead of walking an index (20k attempts read in 4 minutes instead of a second). Called
   * after a big plan or import commits, and by the writer each time the rows it stored double. A role that does not
   * own the tables gets a warning from the server, not an error; any failure here is ignored (statistics only).
   */
  private async analyze(tables: string): Promise<void> {
    if (this.closed || this.readonly) return;
    await this.pg.query(`ANALYZE ${tables}`).catch(() => {});
  }

  /** Rows the writer stored, and the count at which it next refreshes the statistics of what it writes. */
  private stored = { rows: 0, next: 1000 };

  /** A connection of its own (an import, a plan, an iterator's session), given back by {@link release}. */
  private async hold(): Promise<pg.PoolClient> {
    this.live();
    let c: pg.PoolClient;
    try {
      c = await this.pg.connect();
    } catch (err) {
      throw pgError(err, this.url);
    }
    // A connection lost while held (the server restarts mid-import) is reported by the query that fails; the
    // client's own 'error' event must not crash the process.
    c.on('error', ignore);
    this.held.add(c);
    return c;
  }

  /** Give back a connection of {@link hold}; `err`: it is broken, close it. */
  private release(c: pg.PoolClient, err?: Error): void {
    if (!this.held.delete(c)) return;
    c.off('error', ignore);
    c.release(err);
  }

  /**
   * Run `fn` in a transaction on a connection of its own; committed when it returns, rolled back when it throws.
   * A transaction that loses a deadlock or serialization race is run again (up to 5 times): `fn` must only read and
   * write the database.
   */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const c = await this.hold();
      let broken = false;
      try {
        await c.query('BEGIN');
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {
          broken = true;
        });
        const code = (err as { code?: string }).code;
        if (!(code && RETRYABLE.has(code) && attempt < 5)) throw pgError(err, this.url);
      } finally {
        // A connection that cannot even roll back is closed rather than given to the next caller.
        this.release(c, broken ? new Error('connection broken') : undefined);
      }
      await new Promise((r) => setTimeout(r, 5 * attempt * Math.random()));
    }
  }

  // --- runs --------------------------------------------------------------------------------------------------------------

  async ensureRun(run: RunRecord, planned: Iterable<PlannedSample> | AsyncIterable<PlannedSample>): Promise<void> {
    this.writable();
    if ((await this.q(`SELECT 1 FROM runs WHERE id = $1`, [run.id])).rowCount) return;
    const c = await this.hold();
    let broken = false;
    let rows = 0;
    try {
      await c.query('BEGIN');
      // A concurrent ensureRun of the same id (another process) waits here for ours, then finds the run.
      const ins = await c.query(
        `INSERT INTO runs (id, status, created_at, updated_at, spec, manifest, model, dataset_name, first_scorer) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO NOTHING`,
        [run.id, run.status, run.created_at, run.updated_at, JSON.stringify(run.spec), JSON.stringify(run.manifest), run.spec.model, run.spec.dataset?.name ?? null, run.spec.scorers[0]?.name ?? null],
      );
      if (!ins.rowCount) {
        await c.query('ROLLBACK');
        return;
      }
      let batch: PlannedSample[] = [];
      for await (const p of planned) {
        batch.push(p);
        if (batch.length >= 1000) {
          await insertPlanned(c, run.id, batch);
          rows += batch.length;
          batch = [];
        }
      }
      if (batch.length) await insertPlanned(c, run.id, batch);
      await c.query('COMMIT');
      rows += batch.length;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw pgError(err, this.url);
    } finally {
      this.release(c, broken ? new Error('connection broken') : undefined);
    }
    // The plan's pages are read by (run, index) right away: the planner must know the table's size first.
    if (rows >= 1000) await this.analyze('run_samples, samples');
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const r = (await this.q<RunRow>(`SELECT id, status, created_at, updated_at, spec, manifest FROM runs WHERE id = $1`, [id])).rows[0];
    return r ? runOfRow(r) : null;
  }

  async resolveRunId(prefix: string): Promise<string> {
    if (!prefix.trim()) throw runIdError(prefix, 0);
    if ((await this.q(`SELECT 1 FROM runs WHERE id = $1`, [prefix])).rowCount) return prefix;
    const rows = (await this.q<{ id: string }>(`SELECT id FROM runs WHERE substr(id, 1, $1) = $2 LIMIT 2`, [prefix.length, prefix])).rows;
    if (rows.length !== 1) throw runIdError(prefix, rows.length);
    return rows[0]!.id;
  }

  async listRuns(): Promise<RunSummary[]> {
    await this.flush();
    const rows = (await this.q(
      `SELECT r.id, r.status, r.created_at, r.spec, r.manifest,
         (SELECT COUNT(*) FROM run_samples s WHERE s.run_id = r.id) AS samples,
         (SELECT COUNT(*) FROM attempts a WHERE a.run_id = r.id) AS attempts,
         (SELECT COUNT(*) FROM attempts a WHERE a.run_id = r.id AND a.status = 'error') AS failed,
         l.owner AS l_owner, l.pid AS l_pid, l.host AS l_host, l.acquired_at AS l_acquired_at, l.heartbeat_at AS l_heartbeat_at, l.expires_at AS l_expires_at
       FROM runs r LEFT JOIN run_leases l ON l.run_id = r.id ORDER BY r.created_at, r.id`,
    )).rows as ({ id: string; status: RunRecord['status']; created_at: string; spec: string; manifest: string; samples: number; attempts: number; failed: number } & Record<`l_${string}`, string | number | null>)[];
    const now = Date.now();
    return rows.map((r) => {
      const lease: RunLease | null = r.l_owner == null ? null : {
        run_id: r.id, owner: r.l_owner as string, pid: r.l_pid as number | null, host: r.l_host as string | null,
        acquired_at: r.l_acquired_at as string, heartbeat_at: r.l_heartbeat_at as string, expires_at: r.l_expires_at as string,
      };
      return runSummaryOf({ ...r, spec: JSON.parse(r.spec), manifest: JSON.parse(r.manifest) }, r, lease, now);
    });
  }

  async setRunStatus(id: string, status: RunRecord['status']): Promise<void> {
    this.writable();
    // Attempts first: a run marked complete has its attempts stored. A run whose attempts cannot be stored is still
    // marked failed or interrupted when that one small update can be, and the store's error is thrown after it.
    let unstored: unknown = null;
    try {
      await this.flush();
    } catch (err) {
      if (status === 'complete' || status === 'running') throw err;
      unstored = err;
    }
    const n = (await this.q(`UPDATE runs SET status = $1, updated_at = $2 WHERE id = $3`, [status, new Date().toISOString(), id])).rowCount;
    if (!n) throw unknownRun(id);
    if (unstored) throw unstored;
  }

  async updateManifest(id: string, patch: (manifest: RunRecord['manifest']) => RunRecord['manifest']): Promise<void> {
    this.writable();
    await this.tx(async (c) => {
      const row = (await c.query<{ manifest: string }>(`SELECT manifest FROM runs WHERE id = $1 FOR UPDATE`, [id])).rows[0];
      if (!row) throw unknownRun(id);
      const next = patch(JSON.parse(row.manifest));
      await c.query(`UPDATE runs SET manifest = $1, updated_at = $2 WHERE id = $3`, [JSON.stringify(next), new Date().toISOString(), id]);
    });
  }

  // --- leases ------------------------------------------------------------------------------------------------------------

  async acquireLease(runId: string, holder: LeaseHolder, ttlMs: number, opts: { takeOver?: string } = {}): Promise<{ acquired: boolean; lease: RunLease }> {
    checkTtl(ttlMs);
    this.writable();
    return this.tx(async (c) => {
      // Acquirers of one run queue on the advisory lock; the row lock makes a concurrent renewal by the old holder
      // wait, then miss (it is no longer the owner).
      await c.query(LOCK, [this.lockKey('lease', runId)]);
      if (!(await c.query(`SELECT 1 FROM runs WHERE id = $1`, [runId])).rowCount) throw unknownRun(runId);
      const current = (await c.query<RunLease>(`SELECT ${LEASE_COLS} FROM run_leases WHERE run_id = $1 FOR UPDATE`, [runId])).rows[0] ?? null;
      const now = Date.now();
      if (!mayTakeLease(current, holder.id, now, opts.takeOver)) return { acquired: false, lease: current! };
      const l = leaseOf(runId, holder, now, ttlMs, current?.owner === holder.id ? current.acquired_at : undefined);
      await c.query(
        `INSERT INTO run_leases (${LEASE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id) DO UPDATE SET ${setAll(LEASE_COLS, ['run_id'])}`,
        [l.run_id, l.owner, l.pid, l.host, l.acquired_at, l.heartbeat_at, l.expires_at],
      );
      return { acquired: true, lease: l };
    });
  }

  async renewLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    this.writable();
    const now = Date.now();
    const r = await this.q(`UPDATE run_leases SET heartbeat_at = $1, expires_at = $2 WHERE run_id = $3 AND owner = $4`, [
      new Date(now).toISOString(), new Date(now + ttlMs).toISOString(), runId, owner,
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    this.writable();
    await this.q(`DELETE FROM run_leases WHERE run_id = $1 AND owner = $2`, [runId, owner]);
  }

  async getLease(runId: string): Promise<RunLease | null> {
    return (await this.q<RunLease>(`SELECT ${LEASE_COLS} FROM run_leases WHERE run_id = $1`, [runId])).rows[0] ?? null;
  }

  async completedKeys(runId: string): Promise<Set<string>> {
    await this.flush();
    const out = new Set<string>();
    const r = await this.q<{ sample_id: string; epoch: number }>(`SELECT sample_id, epoch FROM attempts WHERE run_id = $1 AND status = 'ok'`, [runId]);
    for (const x of r.rows) out.add(`${x.sample_id}\u0000${x.epoch}`);
    return out;
  }

  async cacheLookup(cacheKey: string): Promise<CachedResponse | null> {
    const q = this.queuedByCacheKey.get(cacheKey);
    if (q) {
      return {
        response: decodeText(q[4]), finish_reason: q[5], prompt_tokens: q[6], completion_tokens: q[7], model_id: q[11], meta: parseOrNull(q[14]) as Attempt['meta'],
        transcript: parseOrNull(q[15]) as Attempt['transcript'],
      };
    }
    const r = (await this.q<{ response: string | null; finish_reason: Attempt['finish_reason']; prompt_tokens: number | null; completion_tokens: number | null; model_id: string | null; meta: string | null; transcript: string | null }>(
      `SELECT response, finish_reason, prompt_tokens, completion_tokens, model_id, meta, transcript FROM attempts WHERE cache_key = $1 AND status = 'ok' LIMIT 1`,
      [cacheKey],
    )).rows[0];
    if (!r) return null;
    return { ...r, response: decodeText(r.response), meta: parseOrNull(r.meta) as Attempt['meta'], transcript: parseOrNull(r.transcript) as Attempt['transcript'] };
  }

  // --- the batching writer ---------------------------------------------------------------------------------------------

  write(a: Attempt, measurements: Measurement[], chain?: ChainLink[]): Promise<void> {
    try {
      this.writable();
    } catch (err) {
      return Promise.reject(err);
    }
    if (chain) for (const l of chain) this.linkQueue.push(linkParams(l));
    const row: AttemptParams = [
      a.run_id, a.sample_id, a.epoch, a.status, encodeText(a.response), a.finish_reason, a.prompt_tokens, a.completion_tokens, a.latency_ms, a.tries, encodeText(a.error),
      a.model_id, a.cache_key, !!a.cached, a.meta ? JSON.stringify(a.meta) : null, a.transcript ? JSON.stringify(a.transcript) : null, new Date().toISOString(),
    ];
    this.attemptQueue.push(row);
    if (a.status === 'ok') this.queuedByCacheKey.set(a.cache_key, row);
    for (const m of measurements) this.measurementQueue.push(measurementParams(m));
    return this.schedule();
  }

  writeMeasurements(measurements: Measurement[], chain?: ChainLink[]): Promise<void> {
    try {
      this.writable();
    } catch (err) {
      return Promise.reject(err);
    }
    if (chain) for (const l of chain) this.linkQueue.push(linkParams(l));
    for (const m of measurements) this.measurementQueue.push(measurementParams(m));
    return this.schedule();
  }

  appendChain(links: ChainLink[]): Promise<void> {
    try {
      this.writable();
    } catch (err) {
      return Promise.reject(err);
    }
    for (const l of links) this.linkQueue.push(linkParams(l));
    return this.schedule();
  }

  private queued(): number {
    return this.attemptQueue.length + this.measurementQueue.length + this.linkQueue.length;
  }

  private schedule(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the pool is closed'));
    if (this.writeError || this.queued() >= this.batchSize) return this.flush();
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        // A failure stays in `writeError` (its rows stay queued) and is reported by the next write, flush or close.
        this.enqueueFlush(false).catch(() => {});
      }, this.flushIntervalMs);
      this.timer.unref();
    }
    return RESOLVED;
  }

  /** Store everything queued (after any flush in progress). Rejects, once, with the error of a batch that could not be stored; its rows stay queued. */
  flush(): Promise<void> {
    return this.enqueueFlush(true);
  }

  private enqueueFlush(report: boolean): Promise<void> {
    const p = this.flushChain.then(() => this.flushNow(report));
    this.flushChain = p.catch(() => {});
    return p;
  }

  private async flushNow(report: boolean): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queued()) {
      const a = this.attemptQueue, m = this.measurementQueue, l = this.linkQueue;
      this.attemptQueue = [];
      this.measurementQueue = [];
      this.linkQueue = [];
      try {
        await this.writeBatch(a, m, l);
        for (const row of a) if (this.queuedByCacheKey.get(row[12]) === row) this.queuedByCacheKey.delete(row[12]);
        this.writeError = null;
        this.stored.rows += a.length + m.length + l.length;
        if (this.stored.rows >= this.stored.next) {
          this.stored.next = 2 * this.stored.rows;
          // In the background: the writer does not wait for it.
          const p: Promise<void> = this.analyze('attempts, measurements, chain_links').finally(() => this.pending.delete(p));
          this.pending.add(p);
        }
      } catch (err) {
        // Put the rows back (before anything queued since) so that a later flush can store them.
        this.attemptQueue = a.concat(this.attemptQueue);
        this.measurementQueue = m.concat(this.measurementQueue);
        this.linkQueue = l.concat(this.linkQueue);
        this.writeError = err as Error;
      }
    }
    if (report && this.writeError) {
      const err = this.writeError;
      this.writeError = null;
      throw err;
    }
  }

  /**
   * One batch in one transaction: links, then attempts, then measurements (the order of SQLite's batch). Rows of one
   * key are folded first (one INSERT … ON CONFLICT may touch a row once), applying the replacement rules in arrival
   * order; the folded rows then meet the stored ones under the same rules, in SQL.
   */
  private async writeBatch(attempts: AttemptParams[], measurements: MeasurementParams[], links: LinkParams[]): Promise<void> {
    const runs = [...new Set([...attempts.map((r) => r[0]), ...measurements.map((r) => r[0]), ...links.map((r) => r[0])])];
    // Attempts: a later row replaces an earlier one, except that an error never replaces an ok (associative, so
    // folding first and then meeting the stored row gives what row-by-row storing gives).
    const folded = new Map<string, AttemptParams>();
    for (const r of attempts) {
      const k = `${r[0]}\u0000${r[1]}\u0000${r[2]}`;
      const old = folded.get(k);
      if (!old || !(old[3] === 'ok' && r[3] === 'error')) folded.set(k, r);
    }
    // Measurements: the last row of a key, unless it is an `attempt_error` and the attempt stored for it is ok (known
    // only in SQL): then the last row that is not one, if any.
    const lastAny = new Map<string, MeasurementParams>(), lastVerdict = new Map<string, MeasurementParams>();
    for (const r of measurements) {
      const k = `${r[0]}\u0000${r[1]}\u0000${r[2]}\u0000${r[3]}`;
      lastAny.set(k, r);
      if (r[8] !== 'attempt_error') lastVerdict.set(k, r);
    }
    const plain: MeasurementParams[] = [], failedUnlessOk: MeasurementParams[] = [], verdictIfOk: MeasurementParams[] = [];
    for (const [k, r] of lastAny) {
      if (r[8] !== 'attempt_error') plain.push(r);
      else {
        failedUnlessOk.push(r);
        const v = lastVerdict.get(k);
        if (v) verdictIfOk.push(v);
      }
    }
    const linkRows = new Map<string, LinkParams>();
    for (const l of links) linkRows.set(`${l[0]}\u0000${l[1]}`, l);

    await this.tx(async (c) => {
      // Batches of one run one after the other (locks taken in one order: no deadlock between batches).
      await c.query(`SELECT pg_advisory_xact_lock(k) FROM (SELECT hashtextextended(r, 0) AS k FROM unnest($1::text[]) r ORDER BY 1) x`, [runs.map((r) => this.lockKey('run-writes', r))]);
      if (linkRows.size) {
        // Links of a run that is not in the pool are dropped, as its rows would never be read back.
        const u = unnestRows([...linkRows.values()], LINK_TYPES);
        await c.query(
          `INSERT INTO chain_links (${LINK_COLS}) SELECT u.* FROM ${u.sql} AS u(${LINK_COLS}) WHERE EXISTS (SELECT 1 FROM runs WHERE runs.id = u.run_id)
           ON CONFLICT (run_id, seq) DO UPDATE SET ${setAll(LINK_COLS, ['run_id', 'seq'])}`,
          u.params,
        );
      }
      if (folded.size) {
        const u = unnestRows([...folded.values()], ATTEMPT_TYPES);
        await c.query(
          `INSERT INTO attempts (${ATTEMPT_COLS}) SELECT * FROM ${u.sql}
           ON CONFLICT (run_id, sample_id, epoch) DO UPDATE SET ${setAll(ATTEMPT_COLS, ['run_id', 'sample_id', 'epoch'])}
           WHERE NOT (attempts.status = 'ok' AND excluded.status = 'error')`,
          u.params,
        );
      }
      const upsert = (rows: MeasurementParams[], where: string) => {
        if (!rows.length) return RESOLVED;
        const u = unnestRows(rows, MEASUREMENT_TYPES);
        return c.query(
          `INSERT INTO measurements (${MEASUREMENT_COLS}) SELECT u.* FROM ${u.sql} AS u(${MEASUREMENT_COLS}) ${where}
           ON CONFLICT (run_id, sample_id, epoch, scorer) DO UPDATE SET ${setAll(MEASUREMENT_COLS, ['run_id', 'sample_id', 'epoch', 'scorer'])}`,
          u.params,
        );
      };
      const okAttempt = `EXISTS (SELECT 1 FROM attempts a WHERE a.run_id = u.run_id AND a.sample_id = u.sample_id AND a.epoch = u.epoch AND a.status = 'ok')`;
      await upsert(plain, '');
      await upsert(failedUnlessOk, `WHERE NOT ${okAttempt}`);
      await upsert(verdictIfOk, `WHERE ${okAttempt}`);
    });
  }

  // --- reading a run ---------------------------------------------------------------------------------------------------

  async plannedCount(runId: string): Promise<number> {
    return (await this.q<{ n: number }>(`SELECT COUNT(*) AS n FROM run_samples WHERE run_id = $1`, [runId])).rows[0]!.n;
  }

  async *iteratePlanned(runId: string): AsyncIterableIterator<PlannedSample> {
    let last = -2147483648;
    for (;;) {
      const rows = (await this.q<PlannedRow>(
        `SELECT rs.idx, rs.prompt_hash, rs.target_hash, rs.content_hash, rs.messages, rs.sample_id AS id, s.input, s.target, s.choices, s.metadata
         FROM run_samples rs JOIN samples s ON s.sample_hash = rs.sample_hash WHERE rs.run_id = $1 AND rs.idx > $2 ORDER BY rs.idx LIMIT ${PAGE}`,
        [runId, last],
      )).rows;
      for (const r of rows) yield plannedOfRow(r);
      if (rows.length < PAGE) return;
      last = rows[rows.length - 1]!.idx;
    }
  }

  /**
   * Keyset pages ordered by (sample index, epoch): `sql` takes the run's parameters, then the last index and epoch
   * seen (`$n`, `$n+1`). `rs.idx >= last` lets the index on (run, idx) start each page where the previous one ended.
   */
  private async *paged<T extends { idx: number; epoch: number }>(sql: (lastIdx: string, lastEpoch: string) => string, params: unknown[]): AsyncIterableIterator<T> {
    await this.flush();
    const text = sql(`$${params.length + 1}`, `$${params.length + 2}`);
    let lastIdx = -2147483648, lastEpoch = -2147483648;
    for (;;) {
      const rows = (await this.q(text, [...params, lastIdx, lastEpoch])).rows as T[];
      yield* rows;
      if (rows.length < PAGE) return;
      lastIdx = rows[rows.length - 1]!.idx;
      lastEpoch = rows[rows.length - 1]!.epoch;
    }
  }

  async *iterateAttempts(runId: string, scorer?: string): AsyncIterableIterator<AttemptWithMeasurement> {
    const sql = (i: string, e: string) =>
      `SELECT a.*, rs.idx AS idx, m.scorer AS m_scorer, m.kind AS m_kind, m.value AS m_value, m.extracted AS m_extracted, m.explanation AS m_explanation, m.status AS m_status
       FROM attempts a JOIN run_samples rs ON rs.run_id = a.run_id AND rs.sample_id = a.sample_id
       LEFT JOIN measurements m ON m.run_id = a.run_id AND m.sample_id = a.sample_id AND m.epoch = a.epoch AND m.scorer = $1::text
       WHERE a.run_id = $2 AND rs.run_id = $2 AND rs.idx >= ${i} AND (rs.idx > ${i} OR a.epoch > ${e}) ORDER BY rs.idx, a.epoch LIMIT ${PAGE}`;
    for await (const r of this.paged<Record<string, unknown> & { idx: number; epoch: number }>(sql, [scorer ?? null, runId])) {
      yield {
        ...attemptOfRow(r),
        measurement: r.m_scorer == null ? null : {
          run_id: r.run_id as string, sample_id: r.sample_id as string, epoch: r.epoch, scorer: r.m_scorer as string, kind: r.m_kind as Measurement['kind'],
          value: r.m_value as number | null, extracted: decodeText(r.m_extracted as string | null), explanation: decodeText(r.m_explanation as string | null),
          status: r.m_status as Measurement['status'],
        },
      };
    }
  }

  async *iterateMeasurements(runId: string, scorer: string): AsyncIterableIterator<RunMeasurement> {
    const sql = (i: string, e: string) =>
      `SELECT m.run_id, m.sample_id, m.epoch, m.scorer, m.kind, m.value, m.extracted, m.explanation, m.status, rs.idx AS idx, a.finish_reason, a.status AS attempt_status
       FROM measurements m JOIN attempts a ON a.run_id = m.run_id AND a.sample_id = m.sample_id AND a.epoch = m.epoch
       JOIN run_samples rs ON rs.run_id = m.run_id AND rs.sample_id = m.sample_id
       WHERE m.run_id = $1 AND rs.run_id = $1 AND m.scorer = $2 AND rs.idx >= ${i} AND (rs.idx > ${i} OR m.epoch > ${e}) ORDER BY rs.idx, m.epoch LIMIT ${PAGE}`;
    for await (const r of this.paged<RunMeasurement & { idx: number }>(sql, [runId, scorer])) {
      const { idx: _idx, ...rest } = r;
      yield { ...rest, extracted: decodeText(rest.extracted), explanation: decodeText(rest.explanation) };
    }
  }

  async pageAttempts(runId: string, opts: { limit: number; after?: AttemptCursor | null; sampleId?: string }): Promise<AttemptPageRow[]> {
    checkPageLimit(opts.limit);
    await this.flush();
    const after = opts.after ?? { index: -2147483648, epoch: -2147483648 };
    const rows = (await this.q(
      `SELECT a.*, rs.idx AS idx FROM run_samples rs JOIN attempts a ON a.run_id = rs.run_id AND a.sample_id = rs.sample_id
       WHERE rs.run_id = $1 AND a.run_id = $1 AND ($2::text IS NULL OR rs.sample_id = $2) AND rs.idx >= $3 AND (rs.idx > $3 OR a.epoch > $4)
       ORDER BY rs.idx, a.epoch LIMIT $5`,
      [runId, opts.sampleId ?? null, Math.max(after.index, -2147483648), Math.max(after.epoch, -2147483648), opts.limit],
    )).rows;
    if (!rows.length) return [];
    // Their measurements: those of the page's samples, matched to the attempts by (sample, epoch), by scorer.
    const ids = [...new Set(rows.map((r) => r.sample_id as string))];
    const byKey = new Map<string, Measurement[]>();
    const ms = (await this.q(`SELECT ${MEASUREMENT_COLS} FROM measurements WHERE run_id = $1 AND sample_id = ANY($2::text[]) ORDER BY scorer`, [runId, ids])).rows;
    for (const m of ms) {
      const k = `${m.sample_id}\u0000${m.epoch}`;
      const x: Measurement = {
        run_id: m.run_id as string, sample_id: m.sample_id as string, epoch: m.epoch as number, scorer: m.scorer as string, kind: m.kind as Measurement['kind'],
        value: m.value as number | null, extracted: decodeText(m.extracted as string | null), explanation: decodeText(m.explanation as string | null), status: m.status as Measurement['status'],
      };
      const list = byKey.get(k);
      if (list) list.push(x);
      else byKey.set(k, [x]);
    }
    return rows.map((r) => ({ ...attemptOfRow(r), index: r.idx as number, measurements: byKey.get(`${r.sample_id}\u0000${r.epoch}`) ?? [] }));
  }

  async getPlanned(runId: string, sampleId: string): Promise<PlannedSample | null> {
    const r = (await this.q<PlannedRow>(
      `SELECT rs.idx, rs.prompt_hash, rs.target_hash, rs.content_hash, rs.messages, rs.sample_id AS id, s.input, s.target, s.choices, s.metadata
       FROM run_samples rs JOIN samples s ON s.sample_hash = rs.sample_hash WHERE rs.run_id = $1 AND rs.sample_id = $2`,
      [runId, sampleId],
    )).rows[0];
    return r ? plannedOfRow(r) : null;
  }

  async scorersOf(runId: string): Promise<string[]> {
    await this.flush();
    return (await this.q<{ scorer: string }>(`SELECT DISTINCT scorer FROM measurements WHERE run_id = $1 ORDER BY scorer`, [runId])).rows.map((r) => r.scorer);
  }

  async counts(runId: string): Promise<{ attempts: number; ok: number; error: number; measurements: number }> {
    await this.flush();
    const a = (await this.q<{ n: number; ok: number; err: number }>(
      `SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE status = 'ok') AS ok, COUNT(*) FILTER (WHERE status = 'error') AS err FROM attempts WHERE run_id = $1`,
      [runId],
    )).rows[0]!;
    const m = (await this.q<{ n: number }>(`SELECT COUNT(*) AS n FROM measurements WHERE run_id = $1`, [runId])).rows[0]!.n;
    return { attempts: a.n, ok: a.ok, error: a.err, measurements: m };
  }

  // --- images ----------------------------------------------------------------------------------------------------------

  async putImage(image: ImageBlob): Promise<boolean> {
    const img = checkedImage(image);
    this.writable();
    const r = await this.q(`INSERT INTO images (sha256, mime_type, size, bytes, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING`, [
      img.sha256, img.mime_type, img.bytes.length, Buffer.from(img.bytes), new Date().toISOString(),
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  async hasImage(sha256: string): Promise<boolean> {
    return !!(await this.q(`SELECT 1 FROM images WHERE sha256 = $1`, [sha256])).rowCount;
  }

  async getImage(sha256: string): Promise<ImageBlob | null> {
    const r = (await this.q<{ sha256: string; mime_type: ImageBlob['mime_type']; bytes: Buffer }>(`SELECT sha256, mime_type, bytes FROM images WHERE sha256 = $1`, [sha256])).rows[0];
    return r ? { sha256: r.sha256, mime_type: r.mime_type, bytes: r.bytes } : null;
  }

  async imageStats(): Promise<{ images: number; bytes: number }> {
    const r = (await this.q<{ images: number; bytes: number }>(`SELECT COUNT(*) AS images, COALESCE(SUM(size), 0) AS bytes FROM images`)).rows[0]!;
    return { images: r.images, bytes: r.bytes };
  }

  async *iterateImages(): AsyncIterableIterator<ImageBlob> {
    // Pages of a few images: their bytes may be large.
    const page = 64;
    for (let last = ''; ;) {
      const rows = (await this.q<{ sha256: string; mime_type: ImageBlob['mime_type']; bytes: Buffer }>(
        `SELECT sha256, mime_type, bytes FROM images WHERE sha256 > $1 ORDER BY sha256 LIMIT ${page}`,
        [last],
      )).rows;
      for (const r of rows) yield { sha256: r.sha256, mime_type: r.mime_type, bytes: r.bytes };
      if (rows.length < page) return;
      last = rows[rows.length - 1]!.sha256;
    }
  }

  // --- imported measurements ---------------------------------------------------------------------------------------------

  async beginImport(info: ImportInfo): Promise<ImportTransaction> {
    return beginPgImport(this.ctx, info);
  }

  async sources(): Promise<SourceRecord[]> {
    return pgSources(this.ctx);
  }

  async deleteSource(id: string): Promise<number> {
    this.writable();
    return this.tx((c) => pgDeleteSource(c, id, this.lockKey('source', id)));
  }

  iteratePoolSamples(opts?: { runs?: boolean }): AsyncIterableIterator<PoolSample> {
    return pgPoolSamples(this.ctx, opts);
  }

  iteratePoolMeasurements(filter?: MeasurementFilter): AsyncIterableIterator<PoolMeasurement> {
    return pgPoolMeasurements(this.ctx, filter);
  }

  async summary() {
    return pgSummary(this.ctx);
  }

  async saveSelection(sel: Selection): Promise<void> {
    this.writable();
    await pgSaveSelection(this.ctx, sel);
  }

  async getSelection(hashOrPrefix: string): Promise<Selection | null> {
    return pgGetSelection(this.ctx, hashOrPrefix);
  }

  async listSelections(): Promise<Selection[]> {
    return pgListSelections(this.ctx);
  }

  // --- metadata ----------------------------------------------------------------------------------------------------------

  async putTask(task: TaskRecord): Promise<void> {
    this.writable();
    await this.tx(async (c) => {
      await c.query(LOCK, [this.lockKey('task', task.id)]);
      const old = await taskRow(c, task.id);
      checkTask(old, task);
      if (old) return;
      await c.query(`INSERT INTO tasks (id, name, version, hash, definition, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
        task.id, task.name, task.version, task.hash, JSON.stringify(task.definition), task.created_at,
      ]);
    });
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    this.live();
    return taskRow(this.pg, id).catch((err) => Promise.reject(pgError(err, this.url)));
  }

  async listTasks(): Promise<TaskRecord[]> {
    return (await this.q<Omit<TaskRecord, 'definition'> & { definition: string }>(`SELECT id, name, version, hash, definition, created_at FROM tasks ORDER BY id`)).rows.map((r) => ({
      ...r, definition: JSON.parse(r.definition),
    }));
  }

  async putModel(model: Omit<ModelRecord, 'updated_at'> & { updated_at?: string }): Promise<void> {
    this.writable();
    await this.tx(async (c) => {
      await c.query(LOCK, [this.lockKey('model', model.address)]);
      const m = mergeModel(await modelRow(c, model.address), model, model.updated_at ?? new Date().toISOString());
      await c.query(
        `INSERT INTO models (address, kind, reported_model_ids, system_fingerprints, metadata, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (address) DO UPDATE SET kind = excluded.kind, reported_model_ids = excluded.reported_model_ids, system_fingerprints = excluded.system_fingerprints,
           metadata = excluded.metadata, updated_at = excluded.updated_at`,
        [m.address, m.kind, JSON.stringify(m.reported_model_ids), JSON.stringify(m.system_fingerprints), JSON.stringify(m.metadata), m.updated_at],
      );
    });
  }

  async getModel(address: string): Promise<ModelRecord | null> {
    this.live();
    return modelRow(this.pg, address).catch((err) => Promise.reject(pgError(err, this.url)));
  }

  async listModels(): Promise<ModelRecord[]> {
    return (await this.q(`SELECT * FROM models ORDER BY address`)).rows.map((r) => modelOfRow(r as Record<string, string>));
  }

  async ensureEvalSet(set: EvalSetRecord): Promise<EvalSetRecord> {
    this.writable();
    return this.tx(async (c) => {
      await c.query(LOCK, [this.lockKey('eval-set', set.id)]);
      const old = await evalSetRow(c, set.id);
      if (!old) {
        await putEvalSet(c, set);
        return set;
      }
      const merged = mergeEvalSetRuns(old, set.runs, new Date().toISOString());
      if (merged !== old) await putEvalSet(c, merged);
      return merged;
    });
  }

  async updateEvalSet(id: string, patch: Partial<Pick<EvalSetRecord, 'runs' | 'status'>>): Promise<void> {
    this.writable();
    await this.tx(async (c) => {
      await c.query(LOCK, [this.lockKey('eval-set', id)]);
      const old = await evalSetRow(c, id);
      if (!old) throw unknownEvalSet(id);
      await putEvalSet(c, patchEvalSet(old, patch, new Date().toISOString()));
    });
  }

  async getEvalSet(idOrPrefix: string): Promise<EvalSetRecord | null> {
    this.live();
    if (!idOrPrefix) return null;
    const exact = await evalSetRow(this.pg, idOrPrefix).catch((err) => Promise.reject(pgError(err, this.url)));
    if (exact) return exact;
    const rows = (await this.q(`SELECT * FROM eval_sets WHERE substr(id, 1, $1) = $2 LIMIT 2`, [idOrPrefix.length, idOrPrefix])).rows;
    if (rows.length > 1) throw ambiguousEvalSet(idOrPrefix);
    return rows[0] ? evalSetOfRow(rows[0] as Record<string, string | null>) : null;
  }

  async listEvalSets(): Promise<EvalSetRecord[]> {
    return (await this.q(`SELECT * FROM eval_sets ORDER BY created_at, id`)).rows.map((r) => evalSetOfRow(r as Record<string, string | null>));
  }

  // --- evidence chain ----------------------------------------------------------------------------------------------------

  async *iterateChain(runId: string): AsyncIterableIterator<ChainLink> {
    await this.flush();
    for (let last = -2147483648; ;) {
      const rows = (await this.q(`SELECT ${LINK_COLS} FROM chain_links WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE}`, [runId, last])).rows;
      for (const r of rows) yield linkOfRow(r);
      if (rows.length < PAGE) return;
      last = rows[rows.length - 1]!.seq as number;
    }
  }

  async chainHead(runId: string): Promise<ChainLink | null> {
    await this.flush();
    const r = (await this.q(`SELECT ${LINK_COLS} FROM chain_links WHERE run_id = $1 ORDER BY seq DESC LIMIT 1`, [runId])).rows[0];
    return r ? linkOfRow(r) : null;
  }

  async putChainSignature(sig: ChainSignature): Promise<void> {
    this.writable();
    await this.flush();
    if (!(await this.q(`SELECT 1 FROM runs WHERE id = $1`, [sig.run_id])).rowCount) throw unknownRun(sig.run_id);
    await this.q(
      `INSERT INTO chain_signatures (run_id, seq, head, key_id, public_key, signature, signed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (run_id, seq, key_id) DO UPDATE SET head = excluded.head, public_key = excluded.public_key, signature = excluded.signature, signed_at = excluded.signed_at`,
      [sig.run_id, sig.seq, sig.head, sig.key_id, sig.public_key, sig.signature, sig.signed_at],
    );
  }

  async chainSignatures(runId: string): Promise<ChainSignature[]> {
    return (await this.q<ChainSignature>(`SELECT run_id, seq, head, key_id, public_key, signature, signed_at FROM chain_signatures WHERE run_id = $1 ORDER BY seq, key_id`, [runId])).rows;
  }

  // --- private held-out sets ----------------------------------------------------------------------------------------------

  async putPrivateSet(set: PrivateSetRecord, items: PrivateItem[], opts: { replace?: boolean } = {}): Promise<void> {
    this.writable();
    await this.flush();
    await this.tx(async (c) => {
      await c.query(LOCK, [this.lockKey('private-set', set.name)]);
      if ((await c.query(`SELECT 1 FROM private_sets WHERE name = $1`, [set.name])).rowCount) {
        if (!opts.replace) throw privateSetExists(set.name);
        await c.query(`DELETE FROM private_items WHERE set_name = $1`, [set.name]);
        await c.query(`DELETE FROM private_sets WHERE name = $1`, [set.name]);
      }
      await c.query(`INSERT INTO private_sets (name, allow, key_id, content_mac, items, created_at, source) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        set.name, JSON.stringify(set.allow), set.key_id, set.content_mac, set.items, set.created_at, set.source,
      ]);
      for (let i = 0; i < items.length; i += 5000) {
        const u = unnestRows(items.slice(i, i + 5000).map((it) => [set.name, it.idx, it.id, it.canary, it.iv, it.tag, it.ciphertext]), ['text', 'int', 'text', 'text', 'text', 'text', 'text']);
        await c.query(`INSERT INTO private_items (set_name, idx, id, canary, iv, tag, ciphertext) SELECT * FROM ${u.sql}`, u.params);
      }
    });
  }

  async getPrivateSet(name: string): Promise<{ set: PrivateSetRecord; items: PrivateItem[] } | null> {
    const row = (await this.q(`SELECT name, allow, key_id, content_mac, items, created_at, source FROM private_sets WHERE name = $1`, [name])).rows[0];
    if (!row) return null;
    const items = (await this.q<PrivateItem>(`SELECT set_name AS "set", idx, id, canary, iv, tag, ciphertext FROM private_items WHERE set_name = $1 ORDER BY idx`, [name])).rows;
    return { set: privateSetOfRow(row), items };
  }

  async listPrivateSets(): Promise<PrivateSetRecord[]> {
    return (await this.q(`SELECT name, allow, key_id, content_mac, items, created_at, source FROM private_sets ORDER BY name`)).rows.map(privateSetOfRow);
  }

  async recordExposures(rows: PrivateExposure[]): Promise<void> {
    this.writable();
    await this.flush();
    if (!rows.length) return;
    const u = unnestRows(rows.map((r) => [r.set, r.item_id, r.endpoint, r.run_id, r.epoch, r.at]), ['text', 'text', 'text', 'text', 'int', 'text']);
    // WITH ORDINALITY … ORDER BY: the identity column numbers the rows in the order given.
    await this.q(
      `INSERT INTO private_exposures (set_name, item_id, endpoint, run_id, epoch, at)
       SELECT set_name, item_id, endpoint, run_id, epoch, at FROM ${u.sql} WITH ORDINALITY AS u(set_name, item_id, endpoint, run_id, epoch, at, ord) ORDER BY ord`,
      u.params,
    );
  }

  async *iterateExposures(set?: string): AsyncIterableIterator<PrivateExposure> {
    // One set in the order recorded; every set: by set, then in the order recorded.
    let lastSet = '', lastSeq = 0;
    for (;;) {
      const rows = (await (set === undefined
        ? this.q(`SELECT seq, set_name, item_id, endpoint, run_id, epoch, at FROM private_exposures WHERE (set_name, seq) > ($1, $2) ORDER BY set_name, seq LIMIT ${PAGE}`, [lastSet, lastSeq])
        : this.q(`SELECT seq, set_name, item_id, endpoint, run_id, epoch, at FROM private_exposures WHERE set_name = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE}`, [set, lastSeq]))).rows;
      for (const r of rows) yield { set: r.set_name as string, item_id: r.item_id as string, endpoint: r.endpoint as string, run_id: r.run_id as string, epoch: r.epoch as number, at: r.at as string };
      if (rows.length < PAGE) return;
      lastSet = rows[rows.length - 1]!.set_name as string;
      lastSeq = rows[rows.length - 1]!.seq as number;
    }
  }

  // --- lifecycle ------------------------------------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.readonly) await this.flush();
    } finally {
      await Promise.all(this.pending);
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      // Imports and iterators left open: their transactions end (rolled back) with their connections.
      for (const c of this.held) c.release(new Error('the pool was closed'));
      this.held.clear();
      await this.pg.end();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Insert a batch of a plan: its samples (shared by runs, keyed by the hash of the whole sample) and its run_samples (first of a repeated id kept). */
async function insertPlanned(c: pg.PoolClient, runId: string, batch: PlannedSample[]): Promise<void> {
  const samples = new Map<string, unknown[]>();
  const runSamples = new Map<string, unknown[]>();
  for (const p of batch) {
    const s = p.sample;
    // Two samples may share content (input + target) yet differ in id or metadata: neither overwrites the other.
    const sampleHash = hashJson(s);
    if (!samples.has(sampleHash)) samples.set(sampleHash, [sampleHash, p.content_hash, s.id, JSON.stringify(s.input), encodeText(s.target), s.choices ? JSON.stringify(s.choices) : null, JSON.stringify(s.metadata)]);
    if (!runSamples.has(s.id)) runSamples.set(s.id, [runId, s.id, p.index, p.content_hash, sampleHash, p.prompt_hash, p.target_hash, JSON.stringify(p.messages)]);
  }
  const s = unnestRows([...samples.values()], ['text', 'text', 'text', 'text', 'text', 'text', 'text']);
  await c.query(`INSERT INTO samples (sample_hash, content_hash, id, input, target, choices, metadata) SELECT * FROM ${s.sql} ON CONFLICT (sample_hash) DO NOTHING`, s.params);
  const r = unnestRows([...runSamples.values()], ['text', 'text', 'int', 'text', 'text', 'text', 'text', 'text']);
  await c.query(
    `INSERT INTO run_samples (run_id, sample_id, idx, content_hash, sample_hash, prompt_hash, target_hash, messages) SELECT * FROM ${r.sql} ON CONFLICT (run_id, sample_id) DO NOTHING`,
    r.params,
  );
}

type Queryable = pg.Pool | pg.PoolClient;

async function taskRow(c: Queryable, id: string): Promise<TaskRecord | null> {
  const r = (await c.query<Omit<TaskRecord, 'definition'> & { definition: string }>(`SELECT id, name, version, hash, definition, created_at FROM tasks WHERE id = $1`, [id])).rows[0];
  return r ? { ...r, definition: JSON.parse(r.definition) } : null;
}

async function modelRow(c: Queryable, address: string): Promise<ModelRecord | null> {
  const r = (await c.query(`SELECT * FROM models WHERE address = $1`, [address])).rows[0];
  return r ? modelOfRow(r as Record<string, string>) : null;
}

function modelOfRow(r: Record<string, string>): ModelRecord {
  return {
    address: r.address!, kind: r.kind!, reported_model_ids: JSON.parse(r.reported_model_ids!), system_fingerprints: JSON.parse(r.system_fingerprints!),
    metadata: JSON.parse(r.metadata!), updated_at: r.updated_at!,
  };
}

async function evalSetRow(c: Queryable, id: string): Promise<EvalSetRecord | null> {
  const r = (await c.query(`SELECT * FROM eval_sets WHERE id = $1`, [id])).rows[0];
  return r ? evalSetOfRow(r as Record<string, string | null>) : null;
}

async function putEvalSet(c: pg.PoolClient, s: EvalSetRecord): Promise<void> {
  await c.query(
    `INSERT INTO eval_sets (id, name, tasks, models, runs, spec, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, tasks = excluded.tasks, models = excluded.models, runs = excluded.runs, spec = excluded.spec,
       status = excluded.status, created_at = excluded.created_at, updated_at = excluded.updated_at`,
    [s.id, s.name, JSON.stringify(s.tasks), JSON.stringify(s.models), JSON.stringify(s.runs), JSON.stringify(s.spec), s.status, s.created_at, s.updated_at],
  );
}

function evalSetOfRow(r: Record<string, string | null>): EvalSetRecord {
  return {
    id: r.id!, name: r.name ?? null, tasks: JSON.parse(r.tasks!), models: JSON.parse(r.models!), runs: JSON.parse(r.runs!), spec: JSON.parse(r.spec!),
    status: r.status as EvalSetRecord['status'], created_at: r.created_at!, updated_at: r.updated_at!,
  };
}

function privateSetOfRow(r: Record<string, unknown>): PrivateSetRecord {
  return {
    name: r.name as string, allow: JSON.parse(r.allow as string), key_id: r.key_id as string, content_mac: r.content_mac as string, items: r.items as number,
    created_at: r.created_at as string, source: r.source as string,
  };
}
