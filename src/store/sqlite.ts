/**
 * SQLite implementation of the pool (better-sqlite3@12, WAL), the default store (`./.assay/pool.sqlite`).
 * better-sqlite3 is synchronous; the `Pool` methods wrap it in promises. All attempt and measurement writes go
 * through one batching writer: rows are queued in memory and committed in one transaction per batch (by size or by a
 * short timer), which is what lets the runner store thousands of attempts per second durably. Uniqueness of
 * (run, sample, epoch) and (run, sample, epoch, scorer) is enforced by primary keys, so a resumed or repeated write
 * never duplicates. Iterators read keyset pages (no statement stays open between pages), so callers may write while
 * iterating. Imported measurements live in the same file (`sqlite-imports.ts`).
 */
import type Database from 'better-sqlite3';
import { resolve } from 'node:path';
import type { ImageBlob } from '../core/images.ts';
import type { Attempt, Measurement, PlannedSample, RunRecord } from '../core/schemas.ts';
import { InputError, RunError } from '../core/errors.ts';
import { hashJson } from '../core/hash.ts';
import { linkChain, type ChainRule } from './chain-records.ts';
import { Connection, openSqliteDatabase } from './sqlite-connection.ts';
import {
  beginSqliteImport, sqliteDeleteSource, sqliteGetSelection, sqliteListSelections, sqlitePoolMeasurements, sqlitePoolSamples, sqliteSaveSelection, sqliteSources, sqliteSummary,
  type ImportContext,
} from './sqlite-imports.ts';
import {
  checkedImage, checkPageLimit, compareBinary, PAGE, ambiguousEvalSet, privateSetExists, checkTask, checkTtl, leaseOf, mayTakeLease, mergeEvalSetRuns, mergeModel, patchEvalSet, runIdError, runSummaryOf, unknownEvalSet, unknownRun,
} from './shared.ts';
import type {
  AttemptCursor, AttemptPageRow, AttemptWithMeasurement, CachedResponse, ChainLink, ChainSignature, EvalSetRecord, PrivateExposure, PrivateItem, PrivateSetRecord, ImportInfo, ImportTransaction, LeaseHolder, MeasurementFilter, ModelRecord, Pool, PoolMeasurement, PoolSample,
  RunLease, RunMeasurement, RunSummary, Selection, SourceRecord, TaskRecord,
} from './types.ts';

export { openSqliteDatabase, SCHEMA_VERSION } from './sqlite-connection.ts';

export interface SqlitePoolOptions {
  /** Rows per transaction before an automatic flush (default 512). */
  batchSize?: number;
  /** Milliseconds before queued rows are flushed by a timer (default 100). */
  flushIntervalMs?: number;
  /** Open the file read-only: nothing is ever written to it (see `OpenDatabaseOptions.readonly`). */
  readonly?: boolean;
}

/**
 * Open (creating if needed) a pool file; `:memory:` for a private in-memory database. A file of an older schema is
 * migrated in place; `readonly` opens it without writing (a file this user may not write is opened so anyway).
 * Errors: InputError for a file of a newer schema or another program's database; better-sqlite3's error for a file
 * that is not a SQLite database. The pool's own failures to store are said plainly, naming the file
 * ({@link poolWriteError}).
 */
export function openSqlitePool(path: string, opts: SqlitePoolOptions = {}): Pool {
  const file = path === ':memory:' ? path : resolve(path);
  const pool = new SqlitePool(openSqliteDatabase(path, { readonly: opts.readonly }), path === ':memory:' ? 'sqlite::memory:' : `sqlite:${file}`, opts);
  return withPoolErrors(pool, file);
}

/**
 * What a store failure means for the user, in one line naming the pool file: a full disk (SQLITE_FULL) is a RunError
 * (what was stored is kept; the run resumes when run again), a write to a pool open read-only an InputError.
 * Anything else is returned unchanged.
 */
export function poolWriteError(err: unknown, file: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  const detail = (err as Error).message;
  if (code === 'SQLITE_FULL') {
    return new RunError(`${file}: disk full — the pool could not store what was written (${detail}); what was stored before is kept: free some space and run the same command again to resume`);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new InputError(`cannot write to the pool: it is open read-only (a command that only reads, or a file or folder this user may not write) (${detail})`, { file });
  }
  return err;
}

/**
 * `pool` with every failure of its methods (and of the iterators and import transactions they return) passed
 * through {@link poolWriteError}.
 */
function withPoolErrors<T extends object>(target: T, file: string): T {
  const fail = (err: unknown): never => {
    throw poolWriteError(err, file);
  };
  const wrapResult = (v: unknown): unknown => {
    if (v && typeof v === 'object') {
      const o = v as Record<PropertyKey, unknown>;
      if (typeof o.next === 'function' && Symbol.asyncIterator in o) {
        const it = v as AsyncIterator<unknown>;
        const wrapped: AsyncIterableIterator<unknown> = {
          next: (...a: [] | [unknown]) => it.next(...a).catch(fail),
          return: (x?: unknown) => (it.return ? it.return(x).catch(fail) : Promise.resolve({ done: true as const, value: x })),
          [Symbol.asyncIterator]() {
            return wrapped;
          },
        };
        return wrapped;
      }
      if (typeof o.commit === 'function' && typeof o.rollback === 'function') return withPoolErrors(v, file);
    }
    return v;
  };
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t);
      if (typeof value !== 'function') return value;
      let m = methods.get(prop);
      if (!m) {
        m = (...args: unknown[]) => {
          try {
            const r = (value as (...a: unknown[]) => unknown).apply(t, args);
            return r instanceof Promise ? r.then(wrapResult, fail) : wrapResult(r);
          } catch (err) {
            return fail(err);
          }
        };
        methods.set(prop, m);
      }
      return m;
    },
  });
}

type RunRow = { id: string; status: RunRecord['status']; created_at: string; updated_at: string; spec: string; manifest: string };
type AttemptRow = Omit<Attempt, 'cached' | 'meta' | 'transcript'> & { cached: number; meta: string | null; transcript: string | null; created_at: string };
type PlannedRow = { idx: number; prompt_hash: string; target_hash: string; content_hash: string; messages: string; id: string; input: string; target: string; choices: string | null; metadata: string };

const runOfRow = (row: RunRow): RunRecord => ({ id: row.id, status: row.status, created_at: row.created_at, updated_at: row.updated_at, spec: JSON.parse(row.spec), manifest: JSON.parse(row.manifest) });

const plannedOfRow = (r: PlannedRow): PlannedSample => ({
  index: r.idx,
  prompt_hash: r.prompt_hash,
  target_hash: r.target_hash,
  content_hash: r.content_hash,
  messages: JSON.parse(r.messages),
  sample: { id: r.id, input: JSON.parse(r.input), target: r.target, ...(r.choices ? { choices: JSON.parse(r.choices) } : {}), metadata: JSON.parse(r.metadata) },
});

const RESOLVED = Promise.resolve();

/** The parameters of one attempts row, in the column order of `insertAttempt`. */
type AttemptParams = [
  run_id: string, sample_id: string, epoch: number, status: Attempt['status'], response: string | null, finish_reason: Attempt['finish_reason'],
  prompt_tokens: number | null, completion_tokens: number | null, latency_ms: number, tries: number, error: string | null, model_id: string | null,
  cache_key: string, cached: number, meta: string | null, transcript: string | null, created_at: string,
];
/** The parameters of one measurements row, in the column order of `insertMeasurement`. */
type MeasurementParams = [run_id: string, sample_id: string, epoch: number, scorer: string, kind: string, value: number | null, extracted: string | null, explanation: string | null, status: string];

const measurementParams = (m: Measurement): MeasurementParams => [m.run_id, m.sample_id, m.epoch, m.scorer, m.kind, m.value, m.extracted, m.explanation, m.status];

/**
 * One link as a segment stores it (migration 9): `[seq, kind, sample_id, epoch, scorer, status, record_hash, chain?]`,
 * written compactly: `kind` as its first letter (r, a, m), a hex sha256 `record_hash` in base64 (44 characters
 * instead of 64), and `chain` left out when it is the chain rule's value after the link before it in the segment
 * (`linkChain(rule, previous.chain, link)`, chain-records.ts), as it always is for links the chaining layer makes;
 * the first link of a segment always carries it. A segment is the JSON array of its links; when its left-out chain
 * values follow the `labelled` rule, the array starts with the string "L" (without it: the `plain` rule, as every
 * segment written before that rule). A link's stored form is thus about 80 bytes instead of 200.
 */
type SegmentLink = [seq: number, kind: string, sample_id: string | null, epoch: number | null, scorer: string | null, status: string | null, record_hash: string, chain?: string];
const KIND_LETTER: Record<string, string> = { run: 'r', attempt: 'a', measurement: 'm' };
const KIND_OF_LETTER: Record<string, ChainLink['kind']> = { r: 'run', a: 'attempt', m: 'measurement' };
/** The first element of a segment whose left-out chain values follow the `labelled` rule. */
const LABELLED_SEGMENT = 'L';
const HEX_SHA256 = /^[0-9a-f]{64}$/;
/** A hex sha256 as base64 (44 characters, ending in "="); anything else as it is (a hex digest never has "="). */
const packHash = (h: string): string => (HEX_SHA256.test(h) ? Buffer.from(h, 'hex').toString('base64') : h);
const unpackHash = (h: string): string => (h.length === 44 && h.endsWith('=') ? Buffer.from(h, 'base64').toString('hex') : h);

const isText = (v: unknown): v is string => typeof v === 'string';
const isTextOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/**
 * The links of one stored segment, in order, with every chain value restored (`links`: the JSON column of the row
 * of run `runId` starting at `firstSeq`). Links of pools migrated from schema 7 keep their full kind names and hex
 * hashes, which are read as they are. Errors: InputError naming the row when its JSON is not a segment (a truncated
 * or edited row).
 */
function linksOfSegment(runId: string, firstSeq: number, links: string): ChainLink[] {
  const bad = (why: string) => new InputError(`chain_segments row (run "${runId}", first_seq ${firstSeq}): ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(links);
  } catch (e) {
    throw bad(`its links are not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw bad(`its links are not a JSON array (${links.length > 40 ? `${links.slice(0, 40)}…` : links})`);
  let rule: ChainRule = 'plain';
  let start = 0;
  if (parsed[0] === LABELLED_SEGMENT) {
    rule = 'labelled';
    start = 1;
  }
  const out: ChainLink[] = [];
  let prev: string | null = null;
  for (let i = start; i < parsed.length; i++) {
    const p = parsed[i] as unknown[];
    const at = `link ${i - start + 1} of the segment`;
    if (!Array.isArray(p) || p.length < 7 || p.length > 8) throw bad(`${at} is not [seq, kind, sample_id, epoch, scorer, status, record_hash, chain?] (${JSON.stringify(p)?.slice(0, 80)})`);
    const [seq, kind, sample_id, epoch, scorer, status, hash, stored] = p;
    if (!Number.isInteger(seq) || !isText(kind) || !isTextOrNull(sample_id) || !(epoch === null || Number.isInteger(epoch)) || !isTextOrNull(scorer) || !isTextOrNull(status) || !isText(hash) || !(stored === undefined || isText(stored))) {
      throw bad(`${at} has a field of the wrong type (${JSON.stringify(p).slice(0, 120)})`);
    }
    const link: ChainLink = { run_id: runId, seq: seq as number, kind: KIND_OF_LETTER[kind] ?? (kind as ChainLink['kind']), sample_id, epoch: epoch as number | null, scorer, status, record_hash: unpackHash(hash), chain: '' };
    if (stored === undefined && prev === null) throw bad(`${at} carries no chain value (the first link of a segment must)`);
    link.chain = stored ?? linkChain(rule, prev!, link);
    out.push(link);
    prev = link.chain;
  }
  return out;
}

/**
 * The segments that queued links make: per run, each stretch of consecutive seqs in queue order becomes one row
 * (run_id, first_seq, last_seq, JSON of its links). Shapes: `links` in write order; returns rows in write order.
 * Cost: one sha256 per link (to know whether its chain value can be left out; two for the first link after the first
 * of a segment, which tells the rule).
 */
function segmentsOf(links: ChainLink[]): [run_id: string, first_seq: number, last_seq: number, links: string][] {
  const out: [string, number, number, string][] = [];
  let stretch: SegmentLink[] = [];
  let rule: ChainRule | null = null;
  let last: ChainLink | null = null;
  let first = 0;
  const close = () => {
    if (stretch.length) out.push([last!.run_id, first, last!.seq, (rule === 'labelled' ? `["${LABELLED_SEGMENT}",` : '[') + JSON.stringify(stretch).slice(1)]);
    stretch = [];
    rule = null;
  };
  for (const l of links) {
    const continues = last !== null && l.run_id === last.run_id && l.seq === last.seq + 1;
    if (!continues) {
      close();
      first = l.seq;
    }
    const link: SegmentLink = [l.seq, KIND_LETTER[l.kind] ?? l.kind, l.sample_id, l.epoch, l.scorer, l.status, packHash(l.record_hash)];
    let leftOut = false;
    if (continues) {
      if (rule) leftOut = l.chain === linkChain(rule, last!.chain, l);
      else if (l.chain === linkChain('labelled', last!.chain, l)) leftOut = !!(rule = 'labelled');
      else if (l.chain === linkChain('plain', last!.chain, l)) leftOut = !!(rule = 'plain');
    }
    if (!leftOut) link.push(l.chain);
    stretch.push(link);
    last = l;
  }
  close();
  return out;
}

class SqlitePool implements Pool {
  private readonly c: Connection;
  private readonly db: Database.Database;
  /**
   * Queued rows as their statements' parameters, taken when written: the caller may reuse its objects at once, and
   * the flush only binds (the serialisation work is the same, done earlier).
   */
  private attemptQueue: AttemptParams[] = [];
  private measurementQueue: MeasurementParams[] = [];
  /** Queued evidence-chain links, committed in the same transaction as the rows queued with them. */
  private linkQueue: ChainLink[] = [];
  /** Queued ok attempts by cache key: a cache lookup sees writes not yet flushed. */
  private queuedByCacheKey = new Map<string, AttemptParams>();
  /** Why the last batch could not be stored (its rows were put back in the queue), until reported. */
  private writeError: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly stmt;
  private readonly writeBatch: (a: AttemptParams[], m: MeasurementParams[], l: ChainLink[]) => void;
  private readonly importCtx: ImportContext;

  constructor(
    db: Database.Database,
    readonly url: string,
    opts: SqlitePoolOptions,
  ) {
    this.db = db;
    this.c = new Connection(db);
    this.batchSize = opts.batchSize ?? 512;
    this.flushIntervalMs = opts.flushIntervalMs ?? 100;
    this.importCtx = { c: this.c, flush: () => this.flushSync() };
    this.stmt = {
      // Replaces on (run, sample, epoch), except that a failed attempt never replaces an ok one (types.ts).
      insertAttempt: db.prepare(
        `INSERT INTO attempts (run_id, sample_id, epoch, status, response, finish_reason, prompt_tokens,
           completion_tokens, latency_ms, tries, error, model_id, cache_key, cached, meta, transcript, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, sample_id, epoch) DO UPDATE SET status = excluded.status, response = excluded.response,
           finish_reason = excluded.finish_reason, prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
           latency_ms = excluded.latency_ms, tries = excluded.tries, error = excluded.error, model_id = excluded.model_id,
           cache_key = excluded.cache_key, cached = excluded.cached, meta = excluded.meta, transcript = excluded.transcript,
           created_at = excluded.created_at
         WHERE NOT (attempts.status = 'ok' AND excluded.status = 'error')`,
      ),
      insertMeasurement: db.prepare(
        `INSERT OR REPLACE INTO measurements (run_id, sample_id, epoch, scorer, kind, value, extracted, explanation, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      // An attempt_error measurement is dropped when the attempt stored for it is ok (its failed twin was dropped).
      insertFailedMeasurement: db.prepare(
        `INSERT OR REPLACE INTO measurements (run_id, sample_id, epoch, scorer, kind, value, extracted, explanation, status)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM attempts WHERE run_id = ? AND sample_id = ? AND epoch = ? AND status = 'ok')`,
      ),
      getLease: db.prepare(`SELECT * FROM run_leases WHERE run_id = ?`),
      // Links of a run that is not in the pool are dropped, as its rows would never be read back.
      insertSegment: db.prepare(
        `INSERT INTO chain_segments (run_id, first_seq, last_seq, links) SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM runs WHERE id = ?)`,
      ),
      putLease: db.prepare(`INSERT OR REPLACE INTO run_leases (run_id, owner, pid, host, acquired_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      cacheLookup: db.prepare(
        `SELECT response, finish_reason, prompt_tokens, completion_tokens, model_id, meta, transcript FROM attempts
         WHERE cache_key = ? AND status = 'ok' LIMIT 1`,
      ),
      completed: db.prepare(`SELECT sample_id, epoch FROM attempts WHERE run_id = ? AND status = 'ok'`),
      getRun: db.prepare(`SELECT * FROM runs WHERE id = ?`),
      insertRun: db.prepare(`INSERT INTO runs (id, status, created_at, updated_at, spec, manifest) VALUES (?, ?, ?, ?, ?, ?)`),
      insertSample: db.prepare(`INSERT OR IGNORE INTO samples (sample_hash, content_hash, id, input, target, choices, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      insertRunSample: db.prepare(
        `INSERT OR IGNORE INTO run_samples (run_id, sample_id, idx, content_hash, sample_hash, prompt_hash, target_hash, messages)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
    // BEGIN IMMEDIATE (see flushSync): the write lock is taken, waiting up to the busy timeout, before anything is read.
    this.writeBatch = db.transaction((attempts: AttemptParams[], measurements: MeasurementParams[], links: ChainLink[]) => {
      const insS = this.stmt.insertSegment;
      for (const seg of segmentsOf(links)) insS.run(...seg, seg[0]);
      const ins = this.stmt.insertAttempt;
      for (const a of attempts) ins.run(a);
      const insM = this.stmt.insertMeasurement;
      const insF = this.stmt.insertFailedMeasurement;
      for (const m of measurements) {
        if (m[8] === 'attempt_error') insF.run(...m, m[0], m[1], m[2]);
        else insM.run(m);
      }
    }).immediate;
  }

  // --- runs -----------------------------------------------------------------------------------------------------

  async ensureRun(run: RunRecord, planned: Iterable<PlannedSample> | AsyncIterable<PlannedSample>): Promise<void> {
    this.c.settle();
    if (Symbol.iterator in planned) {
      this.db.transaction(() => {
        if (this.stmt.getRun.get(run.id)) return;
        this.insertRun(run);
        for (const p of planned) this.insertPlanned(run.id, p);
      }).immediate();
      return;
    }
    if (this.stmt.getRun.get(run.id)) return;
    // An async plan cannot be consumed inside a transaction (other work runs while it awaits): stage it in TEMP
    // tables, then copy it in one transaction, so the run appears with its whole plan or not at all.
    const S = this.c.tempName('plan_samples'), R = this.c.tempName('plan_run_samples');
    try {
      this.db.exec(`CREATE TEMP TABLE "${S}" AS SELECT * FROM samples WHERE 0; CREATE TEMP TABLE "${R}" AS SELECT * FROM run_samples WHERE 0;
                    CREATE UNIQUE INDEX temp."${S}_key" ON "${S}" (sample_hash); CREATE UNIQUE INDEX temp."${R}_key" ON "${R}" (sample_id);`);
      const insS = this.db.prepare(`INSERT OR IGNORE INTO temp."${S}" (sample_hash, content_hash, id, input, target, choices, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)`);
      const insR = this.db.prepare(
        `INSERT OR IGNORE INTO temp."${R}" (run_id, sample_id, idx, content_hash, sample_hash, prompt_hash, target_hash, messages) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for await (const p of planned) {
        this.c.stage();
        const s = p.sample;
        const sampleHash = hashJson(s);
        insS.run(sampleHash, p.content_hash, s.id, JSON.stringify(s.input), s.target, s.choices ? JSON.stringify(s.choices) : null, JSON.stringify(s.metadata));
        insR.run(run.id, s.id, p.index, p.content_hash, sampleHash, p.prompt_hash, p.target_hash, JSON.stringify(p.messages));
      }
      this.c.settle();
      this.db.transaction(() => {
        if (this.stmt.getRun.get(run.id)) return;
        this.insertRun(run);
        this.db.exec(`INSERT OR IGNORE INTO samples SELECT * FROM temp."${S}"; INSERT OR IGNORE INTO run_samples SELECT * FROM temp."${R}";`);
      }).immediate();
    } finally {
      this.c.dropTemp(S, R);
    }
  }

  private insertRun(run: RunRecord): void {
    this.stmt.insertRun.run(run.id, run.status, run.created_at, run.updated_at, JSON.stringify(run.spec), JSON.stringify(run.manifest));
  }

  private insertPlanned(runId: string, p: PlannedSample): void {
    const s = p.sample;
    // Two samples may share content (input + target) yet differ in id or metadata: the samples table is keyed by the
    // hash of the whole sample, so neither overwrites the other.
    const sampleHash = hashJson(s);
    this.stmt.insertSample.run(sampleHash, p.content_hash, s.id, JSON.stringify(s.input), s.target, s.choices ? JSON.stringify(s.choices) : null, JSON.stringify(s.metadata));
    this.stmt.insertRunSample.run(runId, s.id, p.index, p.content_hash, sampleHash, p.prompt_hash, p.target_hash, JSON.stringify(p.messages));
  }

  async getRun(id: string): Promise<RunRecord | null> {
    this.c.settle();
    const row = this.stmt.getRun.get(id) as RunRow | undefined;
    return row ? runOfRow(row) : null;
  }

  async resolveRunId(prefix: string): Promise<string> {
    this.c.settle();
    if (!prefix.trim()) throw runIdError(prefix, 0);
    if (this.stmt.getRun.get(prefix)) return prefix;
    const rows = this.db.prepare(`SELECT id FROM runs WHERE substr(id, 1, ?) = ? LIMIT 2`).pluck().all(prefix.length, prefix) as string[];
    if (rows.length !== 1) throw runIdError(prefix, rows.length);
    return rows[0]!;
  }

  async listRuns(): Promise<RunSummary[]> {
    this.flushSync();
    const rows = this.db
      .prepare(
        `SELECT r.id, r.status, r.created_at, r.spec, r.manifest,
           (SELECT COUNT(*) FROM run_samples s WHERE s.run_id = r.id) AS samples,
           (SELECT COUNT(*) FROM attempts a WHERE a.run_id = r.id) AS attempts,
           (SELECT COUNT(*) FROM attempts a WHERE a.run_id = r.id AND a.status = 'error') AS failed,
           l.owner AS l_owner, l.pid AS l_pid, l.host AS l_host, l.acquired_at AS l_acquired_at, l.heartbeat_at AS l_heartbeat_at, l.expires_at AS l_expires_at
         FROM runs r LEFT JOIN run_leases l ON l.run_id = r.id ORDER BY r.created_at, r.id`,
      )
      .all() as ({ id: string; status: RunRecord['status']; created_at: string; spec: string; manifest: string; samples: number; attempts: number; failed: number } & Record<`l_${string}`, string | number | null>)[];
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
    // Attempts first: a run marked complete has its attempts stored. A run that stops because its attempts cannot be
    // stored (a full disk) is still marked failed or interrupted when that one small update can be, and the store's
    // error is thrown after it.
    let unstored: unknown = null;
    try {
      this.flushSync();
    } catch (err) {
      if (status === 'complete' || status === 'running') throw err;
      unstored = err;
    }
    const n = this.db.prepare(`UPDATE runs SET status = ?, updated_at = ? WHERE id = ?`).run(status, new Date().toISOString(), id).changes;
    if (!n) throw unknownRun(id);
    if (unstored) throw unstored;
  }

  async updateManifest(id: string, patch: (manifest: RunRecord['manifest']) => RunRecord['manifest']): Promise<void> {
    this.c.settle();
    this.db.transaction(() => {
      const row = this.stmt.getRun.get(id) as RunRow | undefined;
      if (!row) throw unknownRun(id);
      const next = patch(JSON.parse(row.manifest));
      this.db.prepare(`UPDATE runs SET manifest = ?, updated_at = ? WHERE id = ?`).run(JSON.stringify(next), new Date().toISOString(), id);
    }).immediate();
  }

  // --- leases ---------------------------------------------------------------------------------------------------

  async acquireLease(runId: string, holder: LeaseHolder, ttlMs: number, opts: { takeOver?: string } = {}): Promise<{ acquired: boolean; lease: RunLease }> {
    checkTtl(ttlMs);
    this.c.settle();
    return this.db.transaction(() => {
      if (!this.stmt.getRun.get(runId)) throw unknownRun(runId);
      const current = (this.stmt.getLease.get(runId) as RunLease | undefined) ?? null;
      const now = Date.now();
      if (!mayTakeLease(current, holder.id, now, opts.takeOver)) return { acquired: false, lease: current! };
      const l = leaseOf(runId, holder, now, ttlMs, current?.owner === holder.id ? current.acquired_at : undefined);
      this.stmt.putLease.run(l.run_id, l.owner, l.pid, l.host, l.acquired_at, l.heartbeat_at, l.expires_at);
      return { acquired: true, lease: l };
    }).immediate();
  }

  async renewLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    this.c.settle();
    const now = Date.now();
    return this.db.prepare(`UPDATE run_leases SET heartbeat_at = ?, expires_at = ? WHERE run_id = ? AND owner = ?`)
      .run(new Date(now).toISOString(), new Date(now + ttlMs).toISOString(), runId, owner).changes > 0;
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    this.c.settle();
    this.db.prepare(`DELETE FROM run_leases WHERE run_id = ? AND owner = ?`).run(runId, owner);
  }

  async getLease(runId: string): Promise<RunLease | null> {
    this.c.settle();
    return (this.stmt.getLease.get(runId) as RunLease | undefined) ?? null;
  }

  async completedKeys(runId: string): Promise<Set<string>> {
    this.flushSync();
    const out = new Set<string>();
    for (const r of this.stmt.completed.raw(true).all(runId) as [string, number][]) out.add(`${r[0]}\u0000${r[1]}`);
    return out;
  }

  async cacheLookup(cacheKey: string): Promise<CachedResponse | null> {
    const q = this.queuedByCacheKey.get(cacheKey);
    if (q) {
      return {
        response: q[4], finish_reason: q[5], prompt_tokens: q[6], completion_tokens: q[7], model_id: q[11],
        meta: q[14] ? JSON.parse(q[14]) : null, transcript: q[15] ? JSON.parse(q[15]) : null,
      };
    }
    this.c.settle();
    const row = this.stmt.cacheLookup.get(cacheKey) as Pick<AttemptRow, 'response' | 'finish_reason' | 'prompt_tokens' | 'completion_tokens' | 'model_id' | 'meta' | 'transcript'> | undefined;
    if (!row) return null;
    return { ...row, meta: row.meta ? JSON.parse(row.meta) : null, transcript: row.transcript ? JSON.parse(row.transcript) : null };
  }

  write(a: Attempt, measurements: Measurement[], chain?: ChainLink[]): Promise<void> {
    if (chain) for (const l of chain) this.linkQueue.push(l);
    const row: AttemptParams = [
      a.run_id, a.sample_id, a.epoch, a.status, a.response, a.finish_reason, a.prompt_tokens, a.completion_tokens, a.latency_ms, a.tries, a.error,
      a.model_id, a.cache_key, a.cached ? 1 : 0, a.meta ? JSON.stringify(a.meta) : null, a.transcript ? JSON.stringify(a.transcript) : null, new Date().toISOString(),
    ];
    this.attemptQueue.push(row);
    if (a.status === 'ok') this.queuedByCacheKey.set(a.cache_key, row);
    for (const m of measurements) this.measurementQueue.push(measurementParams(m));
    return this.schedule();
  }

  writeMeasurements(measurements: Measurement[], chain?: ChainLink[]): Promise<void> {
    if (chain) for (const l of chain) this.linkQueue.push(l);
    for (const m of measurements) this.measurementQueue.push(measurementParams(m));
    return this.schedule();
  }

  // --- evidence chain ---------------------------------------------------------------------------------------------

  appendChain(links: ChainLink[]): Promise<void> {
    for (const l of links) this.linkQueue.push(l);
    return this.schedule();
  }

  async *iterateChain(runId: string): AsyncIterableIterator<ChainLink> {
    this.flushSync();
    // Segments in order of first seq, then of writing; a link written again (a seq in two segments) is the one of
    // the segment written last. Links below the next segment's first seq are final, so they are yielded as soon as
    // that segment is read: only the links of overlapping segments are held at once.
    const stmt = this.db.prepare(
      `SELECT rowid, first_seq, links FROM chain_segments WHERE run_id = ? AND (first_seq > ? OR (first_seq = ? AND rowid > ?))
       ORDER BY first_seq, rowid LIMIT ?`,
    ).raw(true);
    const held = new Map<number, { link: ChainLink; rowid: number }>();
    const release = function* (below: number): Generator<ChainLink> {
      if (!held.size) return;
      const seqs = [...held.keys()].filter((s) => s < below).sort((a, b) => a - b);
      for (const s of seqs) {
        yield held.get(s)!.link;
        held.delete(s);
      }
    };
    let lastFirst = -Infinity;
    let lastRowid = -Infinity;
    for (;;) {
      this.c.settle();
      const rows = stmt.all(runId, lastFirst, lastFirst, lastRowid, PAGE) as [number, number, string][];
      for (const [rowid, first, json] of rows) {
        yield* release(first);
        for (const l of linksOfSegment(runId, first, json)) {
          const h = held.get(l.seq);
          if (!h || h.rowid < rowid) held.set(l.seq, { link: l, rowid });
        }
        lastFirst = first;
        lastRowid = rowid;
      }
      if (rows.length < PAGE) break;
    }
    yield* release(Infinity);
  }

  async chainHead(runId: string): Promise<ChainLink | null> {
    this.flushSync();
    // The greatest seq, from the segment written last among those that hold it.
    const row = this.db.prepare(`SELECT first_seq, links FROM chain_segments WHERE run_id = ? ORDER BY last_seq DESC, rowid DESC LIMIT 1`).raw(true).get(runId) as [number, string] | undefined;
    return row ? (linksOfSegment(runId, row[0], row[1]).at(-1) ?? null) : null;
  }

  async putChainSignature(sig: ChainSignature): Promise<void> {
    this.flushSync();
    if (!this.stmt.getRun.get(sig.run_id)) throw unknownRun(sig.run_id);
    this.db.prepare(`INSERT OR REPLACE INTO chain_signatures (run_id, seq, head, key_id, public_key, signature, signed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(sig.run_id, sig.seq, sig.head, sig.key_id, sig.public_key, sig.signature, sig.signed_at);
  }

  // --- private held-out sets ----------------------------------------------------------------------------------------

  async putPrivateSet(set: PrivateSetRecord, items: PrivateItem[], opts: { replace?: boolean } = {}): Promise<void> {
    this.flushSync();
    this.db.transaction(() => {
      if (this.db.prepare(`SELECT 1 FROM private_sets WHERE name = ?`).get(set.name)) {
        if (!opts.replace) throw privateSetExists(set.name);
        this.db.prepare(`DELETE FROM private_items WHERE set_name = ?`).run(set.name);
        this.db.prepare(`DELETE FROM private_sets WHERE name = ?`).run(set.name);
      }
      this.db.prepare(`INSERT INTO private_sets (name, allow, key_id, content_mac, items, created_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(set.name, JSON.stringify(set.allow), set.key_id, set.content_mac, set.items, set.created_at, set.source);
      const ins = this.db.prepare(`INSERT INTO private_items (set_name, idx, id, canary, iv, tag, ciphertext) VALUES (?, ?, ?, ?, ?, ?, ?)`);
      for (const it of items) ins.run(set.name, it.idx, it.id, it.canary, it.iv, it.tag, it.ciphertext);
    }).immediate();
  }

  async getPrivateSet(name: string): Promise<{ set: PrivateSetRecord; items: PrivateItem[] } | null> {
    this.c.settle();
    const row = this.db.prepare(`SELECT * FROM private_sets WHERE name = ?`).get(name) as (Omit<PrivateSetRecord, 'allow'> & { allow: string }) | undefined;
    if (!row) return null;
    const items = this.db.prepare(`SELECT set_name AS "set", idx, id, canary, iv, tag, ciphertext FROM private_items WHERE set_name = ? ORDER BY idx`).all(name) as PrivateItem[];
    return { set: { ...row, allow: JSON.parse(row.allow) }, items };
  }

  async listPrivateSets(): Promise<PrivateSetRecord[]> {
    this.c.settle();
    return (this.db.prepare(`SELECT * FROM private_sets ORDER BY name`).all() as (Omit<PrivateSetRecord, 'allow'> & { allow: string })[]).map((r) => ({ ...r, allow: JSON.parse(r.allow) }));
  }

  async recordExposures(rows: PrivateExposure[]): Promise<void> {
    this.flushSync();
    const ins = this.db.prepare(`INSERT INTO private_exposures (set_name, item_id, endpoint, run_id, epoch, at) VALUES (?, ?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      for (const r of rows) ins.run(r.set, r.item_id, r.endpoint, r.run_id, r.epoch, r.at);
    }).immediate();
  }

  async *iterateExposures(set?: string): AsyncIterableIterator<PrivateExposure> {
    if (set === undefined) {
      // Every set, by name, then in the order recorded (keyset pages on (set_name, rowid)).
      const all = this.db.prepare(
        `SELECT rowid AS k, set_name AS "set", item_id, endpoint, run_id, epoch, at FROM private_exposures WHERE (set_name, rowid) > (?, ?) ORDER BY set_name, rowid LIMIT ?`,
      );
      let lastSet = '', lastRow = 0;
      for (;;) {
        this.c.settle();
        const rows = all.all(lastSet, lastRow, PAGE) as (PrivateExposure & { k: number })[];
        for (const { k: _k, ...r } of rows) yield r;
        if (rows.length < PAGE) return;
        lastSet = rows[rows.length - 1]!.set;
        lastRow = rows[rows.length - 1]!.k;
      }
    }
    const stmt = this.db.prepare(`SELECT rowid AS k, set_name AS "set", item_id, endpoint, run_id, epoch, at FROM private_exposures WHERE set_name = ? AND rowid > ? ORDER BY rowid LIMIT ?`);
    let last = 0;
    for (;;) {
      this.c.settle();
      const rows = stmt.all(set, last, PAGE) as (PrivateExposure & { k: number })[];
      for (const { k: _k, ...r } of rows) yield r;
      if (rows.length < PAGE) return;
      last = rows[rows.length - 1]!.k;
    }
  }

  async chainSignatures(runId: string): Promise<ChainSignature[]> {
    this.c.settle();
    return this.db.prepare(`SELECT run_id, seq, head, key_id, public_key, signature, signed_at FROM chain_signatures WHERE run_id = ? ORDER BY seq, key_id`).all(runId) as ChainSignature[];
  }

  private schedule(): Promise<void> {
    try {
      if (this.closed) throw new Error('the pool is closed');
      if (this.writeError || this.attemptQueue.length + this.measurementQueue.length + this.linkQueue.length >= this.batchSize) this.flushSync();
      else if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = null;
          try {
            this.flushSync();
          } catch {
            // Kept in `writeError` and reported by the next write, flush or close.
          }
        }, this.flushIntervalMs);
        this.timer.unref();
      }
      return RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Commit everything queued. Throws (once) the error of a batch that could not be stored; its rows stay queued. */
  private flushSync(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.c.settle();
    if (this.attemptQueue.length || this.measurementQueue.length || this.linkQueue.length) {
      const a = this.attemptQueue;
      const m = this.measurementQueue;
      const l = this.linkQueue;
      this.attemptQueue = [];
      this.measurementQueue = [];
      this.linkQueue = [];
      try {
        this.writeBatch(a, m, l);
        this.queuedByCacheKey.clear();
        this.writeError = null;
      } catch (err) {
        // Put the rows back (before anything queued since) so that a later flush can store them.
        this.attemptQueue = a.concat(this.attemptQueue);
        this.measurementQueue = m.concat(this.measurementQueue);
        this.linkQueue = l.concat(this.linkQueue);
        this.writeError = err as Error;
      }
    }
    if (this.writeError) {
      const err = this.writeError;
      this.writeError = null;
      throw err;
    }
  }

  async flush(): Promise<void> {
    this.flushSync();
  }

  async plannedCount(runId: string): Promise<number> {
    this.c.settle();
    return this.db.prepare(`SELECT COUNT(*) FROM run_samples WHERE run_id = ?`).pluck().get(runId) as number;
  }

  async *iteratePlanned(runId: string): AsyncIterableIterator<PlannedSample> {
    const stmt = this.db.prepare(
      `SELECT rs.idx, rs.prompt_hash, rs.target_hash, rs.content_hash, rs.messages, rs.sample_id AS id, s.input, s.target, s.choices, s.metadata
       FROM run_samples rs INDEXED BY run_samples_order JOIN samples s ON s.sample_hash = rs.sample_hash WHERE rs.run_id = ? AND rs.idx > ? ORDER BY rs.idx LIMIT ?`,
    );
    let last = -Infinity;
    for (;;) {
      this.c.settle();
      const rows = stmt.all(runId, last, PAGE) as PlannedRow[];
      for (const r of rows) yield plannedOfRow(r);
      if (rows.length < PAGE) return;
      last = rows[rows.length - 1]!.idx;
    }
  }

  /**
   * Keyset-paged iteration (pages of `PAGE` rows ordered by sample index, epoch): no statement stays open between
   * pages, so callers may write (and the batching writer may flush) while iterating. The queries walk the run's
   * samples in plan order (index `run_samples_order`, forced by CROSS JOIN) from the page's start, so a page never
   * sorts the whole run; their last three parameters before the limit are (index, index, epoch) of the last row.
   */
  private async *paged<T extends { idx: number; epoch: number }>(sql: string, params: unknown[]): AsyncIterableIterator<T> {
    this.flushSync();
    const stmt = this.db.prepare(sql);
    let lastIdx = -Infinity, lastEpoch = -Infinity;
    for (;;) {
      this.c.settle();
      const rows = stmt.all(...params, lastIdx, lastIdx, lastEpoch, PAGE) as T[];
      yield* rows;
      if (rows.length < PAGE) return;
      lastIdx = rows[rows.length - 1]!.idx;
      lastEpoch = rows[rows.length - 1]!.epoch;
    }
  }

  async *iterateAttempts(runId: string, scorer?: string): AsyncIterableIterator<AttemptWithMeasurement> {
    const sql = `SELECT a.*, rs.idx AS idx, m.scorer AS m_scorer, m.kind AS m_kind, m.value AS m_value, m.extracted AS m_extracted,
              m.explanation AS m_explanation, m.status AS m_status
       FROM run_samples rs INDEXED BY run_samples_order CROSS JOIN attempts a ON a.run_id = rs.run_id AND a.sample_id = rs.sample_id
       LEFT JOIN measurements m ON m.run_id = a.run_id AND m.sample_id = a.sample_id AND m.epoch = a.epoch AND m.scorer = ?
       WHERE rs.run_id = ? AND rs.idx >= ? AND (rs.idx > ? OR a.epoch > ?) ORDER BY rs.idx, a.epoch LIMIT ?`;
    for await (const r of this.paged<AttemptRow & { idx: number } & Record<string, unknown>>(sql, [scorer ?? null, runId])) {
      yield {
        run_id: r.run_id, sample_id: r.sample_id, epoch: r.epoch, status: r.status, response: r.response, finish_reason: r.finish_reason,
        prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens, latency_ms: r.latency_ms, tries: r.tries, error: r.error,
        model_id: r.model_id, cache_key: r.cache_key, cached: r.cached === 1, meta: r.meta ? JSON.parse(r.meta) : null,
        transcript: r.transcript ? JSON.parse(r.transcript) : null,
        measurement: r.m_scorer == null ? null : {
          run_id: r.run_id, sample_id: r.sample_id, epoch: r.epoch, scorer: r.m_scorer as string, kind: r.m_kind as Measurement['kind'],
          value: r.m_value as number | null, extracted: r.m_extracted as string | null, explanation: r.m_explanation as string | null, status: r.m_status as Measurement['status'],
        },
      };
    }
  }

  async *iterateMeasurements(runId: string, scorer: string): AsyncIterableIterator<RunMeasurement> {
    const sql = `SELECT m.run_id, m.sample_id, m.epoch, m.scorer, m.kind, m.value, m.extracted, m.explanation, m.status,
              rs.idx AS idx, a.finish_reason, a.status AS attempt_status
       FROM run_samples rs INDEXED BY run_samples_order CROSS JOIN measurements m ON m.run_id = rs.run_id AND m.sample_id = rs.sample_id
       JOIN attempts a ON a.run_id = m.run_id AND a.sample_id = m.sample_id AND a.epoch = m.epoch
       WHERE rs.run_id = ? AND m.scorer = ? AND rs.idx >= ? AND (rs.idx > ? OR m.epoch > ?) ORDER BY rs.idx, m.epoch LIMIT ?`;
    for await (const r of this.paged<RunMeasurement & { idx: number }>(sql, [runId, scorer])) {
      const { idx: _idx, ...rest } = r;
      yield rest;
    }
  }

  /** Statements of the viewer's reads, prepared once (a page is read in about a millisecond; preparing costs a fraction of that). */
  private readonly viewerStatements = new Map<string, Database.Statement>();
  private prepared(sql: string): Database.Statement {
    let st = this.viewerStatements.get(sql);
    if (!st) this.viewerStatements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  async pageAttempts(runId: string, opts: { limit: number; after?: AttemptCursor | null; sampleId?: string }): Promise<AttemptPageRow[]> {
    checkPageLimit(opts.limit);
    this.flushSync();
    const after = opts.after ?? { index: -Infinity, epoch: -Infinity };
    const rows = (opts.sampleId === undefined
      ? this.prepared(
        `SELECT a.*, rs.idx AS idx FROM run_samples rs INDEXED BY run_samples_order CROSS JOIN attempts a ON a.run_id = rs.run_id AND a.sample_id = rs.sample_id
         WHERE rs.run_id = ? AND rs.idx >= ? AND (rs.idx > ? OR a.epoch > ?) ORDER BY rs.idx, a.epoch LIMIT ?`,
      ).all(runId, after.index, after.index, after.epoch, opts.limit)
      : this.prepared(
        `SELECT a.*, rs.idx AS idx FROM run_samples rs CROSS JOIN attempts a ON a.run_id = rs.run_id AND a.sample_id = rs.sample_id
         WHERE rs.run_id = ? AND rs.sample_id = ? AND rs.idx >= ? AND (rs.idx > ? OR a.epoch > ?) ORDER BY a.epoch LIMIT ?`,
      ).all(runId, opts.sampleId, after.index, after.index, after.epoch, opts.limit)) as (AttemptRow & { idx: number })[];
    if (!rows.length) return [];
    // Their measurements: those of the page's samples (the plan-order range it spans), matched to the attempts by
    // (sample, epoch).
    const byKey = new Map<string, Measurement[]>();
    const ms = (opts.sampleId === undefined
      ? this.prepared(
        `SELECT m.* FROM run_samples rs INDEXED BY run_samples_order CROSS JOIN measurements m ON m.run_id = rs.run_id AND m.sample_id = rs.sample_id
         WHERE rs.run_id = ? AND rs.idx >= ? AND rs.idx <= ?`,
      ).all(runId, rows[0]!.idx, rows[rows.length - 1]!.idx)
      : this.prepared(`SELECT * FROM measurements WHERE run_id = ? AND sample_id = ?`).all(runId, opts.sampleId)) as Measurement[];
    for (const m of ms) {
      const k = `${m.sample_id}\u0000${m.epoch}`;
      const list = byKey.get(k);
      if (list) list.push(m);
      else byKey.set(k, [m]);
    }
    return rows.map((r) => ({
      run_id: r.run_id, sample_id: r.sample_id, epoch: r.epoch, status: r.status, response: r.response, finish_reason: r.finish_reason,
      prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens, latency_ms: r.latency_ms, tries: r.tries, error: r.error,
      model_id: r.model_id, cache_key: r.cache_key, cached: r.cached === 1, meta: r.meta ? JSON.parse(r.meta) : null,
      transcript: r.transcript ? JSON.parse(r.transcript) : null, index: r.idx,
      measurements: (byKey.get(`${r.sample_id}\u0000${r.epoch}`) ?? []).map((m) => ({
        run_id: m.run_id, sample_id: m.sample_id, epoch: m.epoch, scorer: m.scorer, kind: m.kind, value: m.value, extracted: m.extracted, explanation: m.explanation, status: m.status,
      })).sort((x, y) => compareBinary(x.scorer, y.scorer)),
    }));
  }

  async getPlanned(runId: string, sampleId: string): Promise<PlannedSample | null> {
    this.c.settle();
    const row = this.prepared(
      `SELECT rs.idx, rs.prompt_hash, rs.target_hash, rs.content_hash, rs.messages, rs.sample_id AS id, s.input, s.target, s.choices, s.metadata
       FROM run_samples rs JOIN samples s ON s.sample_hash = rs.sample_hash WHERE rs.run_id = ? AND rs.sample_id = ?`,
    ).get(runId, sampleId) as PlannedRow | undefined;
    return row ? plannedOfRow(row) : null;
  }

  async scorersOf(runId: string): Promise<string[]> {
    this.flushSync();
    return this.db.prepare(`SELECT DISTINCT scorer FROM measurements WHERE run_id = ? ORDER BY scorer`).pluck().all(runId) as string[];
  }

  async counts(runId: string): Promise<{ attempts: number; ok: number; error: number; measurements: number }> {
    this.flushSync();
    const a = this.db
      .prepare(`SELECT COUNT(*) AS n, SUM(status = 'ok') AS ok, SUM(status = 'error') AS err FROM attempts WHERE run_id = ?`)
      .get(runId) as { n: number; ok: number | null; err: number | null };
    const m = this.db.prepare(`SELECT COUNT(*) FROM measurements WHERE run_id = ?`).pluck().get(runId) as number;
    return { attempts: a.n, ok: a.ok ?? 0, error: a.err ?? 0, measurements: m };
  }

  // --- images -----------------------------------------------------------------------------------------------------

  async putImage(image: ImageBlob): Promise<boolean> {
    const img = checkedImage(image);
    this.c.settle();
    return this.db.prepare(`INSERT OR IGNORE INTO images (sha256, mime_type, size, bytes, created_at) VALUES (?, ?, ?, ?, ?)`)
      .run(img.sha256, img.mime_type, img.bytes.length, img.bytes, new Date().toISOString()).changes > 0;
  }

  async hasImage(sha256: string): Promise<boolean> {
    this.c.settle();
    return this.db.prepare(`SELECT 1 FROM images WHERE sha256 = ?`).get(sha256) !== undefined;
  }

  async getImage(sha256: string): Promise<ImageBlob | null> {
    this.c.settle();
    const r = this.db.prepare(`SELECT sha256, mime_type, bytes FROM images WHERE sha256 = ?`).get(sha256) as { sha256: string; mime_type: ImageBlob['mime_type']; bytes: Buffer } | undefined;
    return r ? { sha256: r.sha256, mime_type: r.mime_type, bytes: r.bytes } : null;
  }

  async *iterateImages(): AsyncIterableIterator<ImageBlob> {
    // Pages of a few images: their bytes may be large.
    const page = 64;
    const stmt = this.db.prepare(`SELECT sha256, mime_type, bytes FROM images WHERE sha256 > ? ORDER BY sha256 LIMIT ?`);
    for (let last = ''; ;) {
      this.c.settle();
      const rows = stmt.all(last, page) as { sha256: string; mime_type: ImageBlob['mime_type']; bytes: Buffer }[];
      for (const r of rows) yield { sha256: r.sha256, mime_type: r.mime_type, bytes: r.bytes };
      if (rows.length < page) return;
      last = rows[rows.length - 1]!.sha256;
    }
  }

  async imageStats(): Promise<{ images: number; bytes: number }> {
    this.c.settle();
    const r = this.db.prepare(`SELECT COUNT(*) AS images, COALESCE(SUM(size), 0) AS bytes FROM images`).get() as { images: number; bytes: number };
    return { images: r.images, bytes: r.bytes };
  }

  // --- imported measurements --------------------------------------------------------------------------------------

  async beginImport(info: ImportInfo): Promise<ImportTransaction> {
    return beginSqliteImport(this.importCtx, info);
  }

  async sources(): Promise<SourceRecord[]> {
    this.c.settle();
    return sqliteSources(this.db);
  }

  async deleteSource(id: string): Promise<number> {
    this.c.settle();
    return sqliteDeleteSource(this.db, id);
  }

  iteratePoolSamples(opts?: { runs?: boolean }): AsyncIterableIterator<PoolSample> {
    return sqlitePoolSamples(this.importCtx, opts);
  }

  iteratePoolMeasurements(filter?: MeasurementFilter): AsyncIterableIterator<PoolMeasurement> {
    return sqlitePoolMeasurements(this.importCtx, filter);
  }

  async summary() {
    return sqliteSummary(this.importCtx);
  }

  async saveSelection(sel: Selection): Promise<void> {
    this.c.settle();
    sqliteSaveSelection(this.db, sel);
  }

  async getSelection(hashOrPrefix: string): Promise<Selection | null> {
    this.c.settle();
    return sqliteGetSelection(this.db, hashOrPrefix);
  }

  async listSelections(): Promise<Selection[]> {
    this.c.settle();
    return sqliteListSelections(this.db);
  }

  // --- metadata -----------------------------------------------------------------------------------------------------

  async putTask(task: TaskRecord): Promise<void> {
    this.c.settle();
    this.db.transaction(() => {
      const old = this.taskRow(task.id);
      checkTask(old, task);
      if (old) return;
      this.db.prepare(`INSERT INTO tasks (id, name, version, hash, definition, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(task.id, task.name, task.version, task.hash, JSON.stringify(task.definition), task.created_at);
    }).immediate();
  }

  private taskRow(id: string): TaskRecord | null {
    const r = this.db.prepare(`SELECT * FROM tasks WHERE id = ?`).get(id) as (Omit<TaskRecord, 'definition'> & { definition: string }) | undefined;
    return r ? { ...r, definition: JSON.parse(r.definition) } : null;
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    this.c.settle();
    return this.taskRow(id);
  }

  async listTasks(): Promise<TaskRecord[]> {
    this.c.settle();
    return (this.db.prepare(`SELECT * FROM tasks ORDER BY id`).all() as (Omit<TaskRecord, 'definition'> & { definition: string })[]).map((r) => ({ ...r, definition: JSON.parse(r.definition) }));
  }

  async putModel(model: Omit<ModelRecord, 'updated_at'> & { updated_at?: string }): Promise<void> {
    this.c.settle();
    this.db.transaction(() => {
      const m = mergeModel(this.modelRow(model.address), model, model.updated_at ?? new Date().toISOString());
      this.db.prepare(`INSERT OR REPLACE INTO models (address, kind, reported_model_ids, system_fingerprints, metadata, updated_at) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(m.address, m.kind, JSON.stringify(m.reported_model_ids), JSON.stringify(m.system_fingerprints), JSON.stringify(m.metadata), m.updated_at);
    }).immediate();
  }

  private modelRow(address: string): ModelRecord | null {
    const r = this.db.prepare(`SELECT * FROM models WHERE address = ?`).get(address) as Record<string, string> | undefined;
    return r ? modelOfRow(r) : null;
  }

  async getModel(address: string): Promise<ModelRecord | null> {
    this.c.settle();
    return this.modelRow(address);
  }

  async listModels(): Promise<ModelRecord[]> {
    this.c.settle();
    return (this.db.prepare(`SELECT * FROM models ORDER BY address`).all() as Record<string, string>[]).map(modelOfRow);
  }

  async ensureEvalSet(set: EvalSetRecord): Promise<EvalSetRecord> {
    this.c.settle();
    return this.db.transaction(() => {
      const old = this.evalSetRow(set.id);
      if (!old) {
        this.putEvalSet(set);
        return set;
      }
      const merged = mergeEvalSetRuns(old, set.runs, new Date().toISOString());
      if (merged !== old) this.putEvalSet(merged);
      return merged;
    }).immediate();
  }

  async updateEvalSet(id: string, patch: Partial<Pick<EvalSetRecord, 'runs' | 'status'>>): Promise<void> {
    this.c.settle();
    this.db.transaction(() => {
      const old = this.evalSetRow(id);
      if (!old) throw unknownEvalSet(id);
      this.putEvalSet(patchEvalSet(old, patch, new Date().toISOString()));
    }).immediate();
  }

  private putEvalSet(s: EvalSetRecord): void {
    this.db.prepare(`INSERT OR REPLACE INTO eval_sets (id, name, tasks, models, runs, spec, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(s.id, s.name, JSON.stringify(s.tasks), JSON.stringify(s.models), JSON.stringify(s.runs), JSON.stringify(s.spec), s.status, s.created_at, s.updated_at);
  }

  private evalSetRow(id: string): EvalSetRecord | null {
    const r = this.db.prepare(`SELECT * FROM eval_sets WHERE id = ?`).get(id) as Record<string, string | null> | undefined;
    return r ? evalSetOfRow(r) : null;
  }

  async getEvalSet(idOrPrefix: string): Promise<EvalSetRecord | null> {
    this.c.settle();
    if (!idOrPrefix) return null;
    const exact = this.evalSetRow(idOrPrefix);
    if (exact) return exact;
    const rows = this.db.prepare(`SELECT * FROM eval_sets WHERE substr(id, 1, ?) = ? LIMIT 2`).all(idOrPrefix.length, idOrPrefix) as Record<string, string | null>[];
    if (rows.length > 1) throw ambiguousEvalSet(idOrPrefix);
    return rows[0] ? evalSetOfRow(rows[0]) : null;
  }

  async listEvalSets(): Promise<EvalSetRecord[]> {
    this.c.settle();
    return (this.db.prepare(`SELECT * FROM eval_sets ORDER BY created_at, id`).all() as Record<string, string | null>[]).map(evalSetOfRow);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      this.flushSync();
    } finally {
      this.closed = true;
      this.db.close();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function modelOfRow(r: Record<string, string>): ModelRecord {
  return {
    address: r.address!, kind: r.kind!, reported_model_ids: JSON.parse(r.reported_model_ids!), system_fingerprints: JSON.parse(r.system_fingerprints!),
    metadata: JSON.parse(r.metadata!), updated_at: r.updated_at!,
  };
}

function evalSetOfRow(r: Record<string, string | null>): EvalSetRecord {
  return {
    id: r.id!, name: r.name ?? null, tasks: JSON.parse(r.tasks!), models: JSON.parse(r.models!), runs: JSON.parse(r.runs!), spec: JSON.parse(r.spec!),
    status: r.status as EvalSetRecord['status'], created_at: r.created_at!, updated_at: r.updated_at!,
  };
}
