/**
 * The queue's connection to PostgreSQL (DESIGN.md §9: one server for pool and queue, no home-made coordinator): one
 * small `pg` pool shared by pg-boss@10 (the jobs) and Assay's own three tables in schema `assay_queue`:
 *
 * | table | what it holds |
 * |---|---|
 * | `assay_queue.runs` | each enqueued run: the pool workers write it to, its planned attempts, when it was enqueued |
 * | `assay_queue.endpoint_limits` | per endpoint: the most requests in flight over all workers, the requests per minute, and the rate's next free start time |
 * | `assay_queue.endpoint_slots` | per endpoint, one row per concurrency slot: who holds it, until when (a lease renewed by its holder) |
 *
 * pg-boss keeps its jobs in its own schema (`pgboss` by default). Both are created on first use, under an advisory
 * lock, so any number of processes may start at once. Besides pg-boss's API, Assay reads pg-boss@10's job table
 * (`name`, `state`, `data`) for a run's progress and its live jobs, and moves `started_on` of the jobs a worker holds
 * as their heartbeat (src/queue/worker.ts): pg-boss 10 has none, and its expiry reads that column.
 */
import pg from 'pg';
import PgBoss from 'pg-boss';
import { InputError, RunError } from '../core/errors.ts';

/** The pg-boss queue of attempt jobs. */
export const ATTEMPTS_QUEUE = 'assay_attempts';

/** Options of {@link openQueue}. */
export interface QueueConnectOptions {
  /** Run pg-boss maintenance in this process (expiring jobs whose worker died, archiving): workers do, clients need not. Default false. */
  supervise?: boolean;
  /** Seconds between maintenance runs (at most one process runs it per interval; default 10). */
  maintenanceIntervalSeconds?: number;
  /** Connections in the pool (default 4). */
  maxConnections?: number;
  /** pg-boss's schema (default `pgboss`). */
  schema?: string;
  /** Told of background errors (pg-boss maintenance, idle connections); default: ignored. */
  onError?: (err: Error) => void;
}

/** An open queue: pg-boss, the `pg` pool it shares, and the address it came from (without its password). */
export interface QueueConnection {
  readonly boss: PgBoss;
  readonly pg: pg.Pool;
  /** pg-boss's schema. */
  readonly schema: string;
  /** The queue's address with any password replaced by `***` (for messages). */
  readonly where: string;
  /** The address as given (workers and `assay queue status` on other machines use the same). */
  readonly url: string;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  close(): Promise<void>;
}

/** `url` without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/**
 * Check a queue address: `postgres://…` or `postgresql://…`. Errors: InputError naming `--queue` otherwise.
 */
export function checkQueueUrl(url: string | undefined): string {
  if (!url) throw new InputError('no queue given: pass --queue postgres://user@host:port/db (or set $ASSAY_QUEUE)', { field: 'queue' });
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new InputError(`the queue must be a PostgreSQL address (postgres://user@host:port/db), got "${redactUrl(url)}"`, { field: 'queue' });
  return url;
}

const OWN_SCHEMA = `
  CREATE SCHEMA IF NOT EXISTS assay_queue;
  CREATE TABLE IF NOT EXISTS assay_queue.runs (
    run_id text PRIMARY KEY,
    pool text NOT NULL,
    planned integer NOT NULL,
    epochs integer NOT NULL,
    endpoint text NOT NULL,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE IF NOT EXISTS assay_queue.endpoint_limits (
    endpoint text PRIMARY KEY,
    max_concurrency integer CHECK (max_concurrency IS NULL OR max_concurrency > 0),
    rpm double precision CHECK (rpm IS NULL OR rpm > 0),
    tat timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE IF NOT EXISTS assay_queue.endpoint_slots (
    endpoint text NOT NULL,
    slot integer NOT NULL,
    holder text,
    expires_at timestamptz,
    PRIMARY KEY (endpoint, slot)
  );
`;

/**
 * Connect to the queue at `url`, creating pg-boss's schema, the attempts queue and Assay's tables when missing.
 * Errors: InputError for an address that is not PostgreSQL; RunError (naming the address without its password)
 * when the server cannot be reached or refuses the login.
 */
export async function openQueue(url: string, opts: QueueConnectOptions = {}): Promise<QueueConnection> {
  checkQueueUrl(url);
  const where = redactUrl(url);
  const pool = new pg.Pool({ connectionString: url, max: opts.maxConnections ?? 4, application_name: 'assay-queue' });
  pool.on('error', (err) => opts.onError?.(err));
  const schema = opts.schema ?? 'pgboss';
  const boss = new PgBoss({
    db: { executeSql: (text: string, values?: unknown[]) => pool.query(text, values as unknown[]) },
    schema,
    supervise: opts.supervise ?? false,
    maintenanceIntervalSeconds: opts.maintenanceIntervalSeconds ?? 10,
    schedule: false,
    migrate: true,
    // Completed jobs stay an hour in the job table (`assay queue status` counts them), then move to the archive.
    archiveCompletedAfterSeconds: 3600,
  });
  boss.on('error', (err: Error) => opts.onError?.(err));
  try {
    // Installing is serialized by a session lock: pg-boss@10 creating its schema in several processes at once can
    // fail (its own lock is taken inside a multi-statement query, whose catalog snapshot may predate the wait).
    const c = await pool.connect();
    try {
      await c.query(`SELECT pg_advisory_lock(hashtext('assay_queue.install'))`);
      try {
        await c.query(OWN_SCHEMA);
        await boss.start();
        await boss.createQueue(ATTEMPTS_QUEUE, { name: ATTEMPTS_QUEUE, policy: 'standard' });
      } finally {
        await c.query(`SELECT pg_advisory_unlock(hashtext('assay_queue.install'))`).catch(() => {});
      }
    } finally {
      c.release();
    }
  } catch (err) {
    await boss.stop({ graceful: false, close: false }).catch(() => {});
    await pool.end().catch(() => {});
    throw new RunError(`cannot use the queue at ${where}: ${(err as Error).message}`);
  }
  let closed = false;
  return {
    boss, pg: pool, schema, where, url,
    query: (sql, params) => pool.query(sql, params as unknown[]),
    async close() {
      if (closed) return;
      closed = true;
      await boss.stop({ graceful: false, close: false, wait: true }).catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}
