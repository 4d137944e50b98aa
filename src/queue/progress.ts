/**
 * Where a queued run stands, from any machine that reaches the queue: the attempts the pool holds (done, failed) and
 * the jobs the queue holds for the run, by state, with the attempts in them.
 */
import { InputError } from '../core/errors.ts';
import type { Pool } from '../store/types.ts';
import { ATTEMPTS_QUEUE, openQueue, type QueueConnection } from './connection.ts';

/** Jobs of one state and the attempts they hold. */
export interface JobCount {
  jobs: number;
  attempts: number;
}

/** What {@link queueProgress} returns. */
export interface QueueProgress {
  run_id: string;
  /** The pool the run is stored in (as enqueued, or as given). */
  pool: string;
  /** The run's status in the pool (`running` until a worker finds it complete or failed). */
  status: string;
  /** Planned attempts (samples × epochs). */
  planned: number;
  /** Attempts stored ok. */
  done: number;
  /** Attempts stored as failures (errors after every retry; enqueue the run again to retry them). */
  failed: number;
  /** Planned attempts not stored yet. */
  remaining: number;
  /** Jobs of the run by pg-boss state: waiting (`created`), waiting to be given out again (`retry`), held by a worker (`active`), `completed`, `failed` (out of retries), `cancelled`. */
  jobs: Record<'created' | 'retry' | 'active' | 'completed' | 'failed' | 'cancelled', JobCount>;
  /**
   * Attempts being made now: those of jobs held by workers (`active`) that are not stored yet, at most `remaining`
   * (a held job's attempts are written as they finish).
   */
  in_flight: number;
  /** Attempts waiting in the queue (`created` + `retry` jobs), at most `remaining`. */
  queued: number;
}

/** Options of {@link queueProgress}. */
export interface QueueProgressOptions {
  /** The queue: a PostgreSQL address or an open connection (not closed here). */
  queue: string | QueueConnection;
  /** The pool: an address, or an open pool (not closed here). Default: the pool the run was enqueued with. */
  pool?: string | Pool;
  /** Open a pool from its address (default `openPool(url, { readonly: true })`). */
  openPool?: (url: string) => Promise<Pool>;
}

/**
 * Progress of a queued run. `runRef`: its id or a unique prefix of it.
 * Errors: InputError when the queue knows no such run (or the prefix is ambiguous); RunError when the queue cannot be
 * reached; the pool's errors.
 */
export async function queueProgress(runRef: string, o: QueueProgressOptions): Promise<QueueProgress> {
  const q = typeof o.queue === 'string' ? await openQueue(o.queue) : o.queue;
  let opened: Pool | null = null;
  try {
    const found = await q.query<{ run_id: string; pool: string; planned: number }>(`SELECT run_id, pool, planned FROM assay_queue.runs WHERE run_id LIKE $1 || '%' ORDER BY run_id LIMIT 2`, [runRef.replace(/[%_\\]/g, '\\$&')]);
    if (!found.rows.length) throw new InputError(`the queue at ${q.where} has no run "${runRef}" (see \`assay queue status --queue …\` for the runs it has)`, { field: 'run' });
    if (found.rows.length > 1 && found.rows[0]!.run_id !== runRef) throw new InputError(`"${runRef}" names more than one queued run (${found.rows.map((r) => r.run_id).join(', ')}…): give more of the id`, { field: 'run' });
    const row = found.rows[0]!;
    const runId = row.run_id;
    let pool: Pool;
    if (o.pool && typeof o.pool !== 'string') pool = o.pool;
    else {
      const url = (o.pool as string | undefined) ?? row.pool;
      const open = o.openPool ?? (async (u: string) => (await import('../store/open.ts')).openPool(u, { readonly: true }));
      pool = opened = await open(url);
    }
    const run = await pool.getRun(runId);
    if (!run) throw new InputError(`run ${runId} is not in the pool ${pool.url}`, { field: 'pool' });
    const counts = await pool.counts(runId);
    const planned = (await pool.plannedCount(runId)) * run.spec.epochs;
    const byState = await q.query<{ state: string; jobs: string; attempts: string | null }>(
      `SELECT state, count(*) AS jobs, sum((data->>'attempts')::int) AS attempts FROM (
         SELECT state, data FROM ${q.schema}.job WHERE name = $1 AND data->>'run_id' = $2
         UNION ALL SELECT state, data FROM ${q.schema}.archive WHERE name = $1 AND data->>'run_id' = $2
       ) j GROUP BY state`,
      [ATTEMPTS_QUEUE, runId],
    );
    const jobs: QueueProgress['jobs'] = { created: z(), retry: z(), active: z(), completed: z(), failed: z(), cancelled: z() };
    for (const r of byState.rows) {
      const k = r.state as keyof QueueProgress['jobs'];
      if (k in jobs) jobs[k] = { jobs: Number(r.jobs), attempts: Number(r.attempts ?? 0) };
    }
    const remaining = Math.max(0, planned - counts.attempts);
    const queued = Math.min(remaining, jobs.created.attempts + jobs.retry.attempts);
    const inFlight = Math.min(remaining - queued, jobs.active.attempts);
    return { run_id: runId, pool: pool.url, status: run.status, planned, done: counts.ok, failed: counts.error, remaining, jobs, in_flight: Math.max(0, inFlight), queued };
  } finally {
    await opened?.close();
    if (typeof o.queue === 'string') await q.close();
  }
}

/** The queued runs (newest first) with the pool each is stored in. */
export async function queuedRuns(queue: string | QueueConnection): Promise<{ run_id: string; pool: string; planned: number; endpoint: string; enqueued_at: string }[]> {
  const q = typeof queue === 'string' ? await openQueue(queue) : queue;
  try {
    const r = await q.query<{ run_id: string; pool: string; planned: number; endpoint: string; enqueued_at: Date }>(`SELECT run_id, pool, planned, endpoint, enqueued_at FROM assay_queue.runs ORDER BY enqueued_at DESC, run_id`);
    return r.rows.map((x) => ({ ...x, enqueued_at: x.enqueued_at.toISOString() }));
  } finally {
    if (typeof queue === 'string') await q.close();
  }
}

function z(): JobCount {
  return { jobs: 0, attempts: 0 };
}
