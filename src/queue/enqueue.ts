/**
 * Enqueue an evaluation for workers instead of running it in this process: each task × model run is planned exactly
 * as `evaluate` plans it (the same run id, manifest and plan in the pool: runner/evaluate.ts `prepareEvaluation`,
 * runner/run.ts `planRun`), then every attempt it does not have yet goes into pg-boss jobs of `jobSize` attempts
 * (src/queue/jobs.ts). `assay worker` processes on any machine take the jobs (src/queue/worker.ts).
 *
 * Enqueuing again is safe: attempts stored ok are not enqueued, nor attempts already waiting in (or held by) a live
 * job of the run; what failed or was lost is enqueued again — the same resume rule as `assay run`.
 */
import { InputError } from '../core/errors.ts';
import { cellRunOptions, prepareEvaluation, type EvaluateOptions } from '../runner/evaluate.ts';
import { rebuildRun } from '../runner/execution.ts';
import { planRun } from '../runner/run.ts';
import { isDefaultSolver } from '../solvers/registry.ts';
import { pendingWork } from '../runner/plan.ts';
import type { Task } from '../tasks/task.ts';
import { openQueue, ATTEMPTS_QUEUE, type QueueConnection } from './connection.ts';
import { batchKeys, DEFAULT_JOB_SIZE, MAX_JOB_SIZE, type AttemptJob, type JobOptions } from './jobs.ts';
import { setEndpointLimit, type EndpointLimit } from './limits.ts';

/** Options of {@link enqueueRun}: those of `evaluate` that plan a run, and the queue's. */
export interface EnqueueOptions extends Omit<EvaluateOptions, 'pool' | 'progress' | 'lease' | 'signingKey' | 'privacy'> {
  /** The pool's address (`sqlite:<path>`, `postgres://…`): the run is planned there and workers write it there. */
  pool: string;
  /** The queue: a PostgreSQL address, or an open connection (not closed here). */
  queue: string | QueueConnection;
  /** Attempts per job (default DEFAULT_JOB_SIZE = 32; at most MAX_JOB_SIZE). */
  jobSize?: number;
  /**
   * Limits of each run's endpoint over all workers (stored in the queue; null removes one, undefined keeps what is
   * set): most requests in flight, and request starts per minute.
   */
  endpointLimits?: { maxConcurrency?: number | null; rpm?: number | null };
  /** How many times pg-boss gives a job to a worker again after it failed or its worker died (default 10). */
  retryLimit?: number;
  /**
   * Seconds before a failed job (or one whose worker died) is given out again the first time (default 1); pg-boss
   * doubles it at each further retry, with jitter (1–2 s, 2–4 s, 4–8 s…), so the default ten retries ride out a
   * database or pool outage of half an hour.
   */
  retryDelaySeconds?: number;
  /**
   * A job whose worker has not shown a sign of life for this many seconds is taken for dead and given to another
   * worker (workers renew their jobs every third of it; default 60, at least 2). pg-boss checks every
   * `maintenanceIntervalSeconds` of the workers (2 s), so a dead worker's job comes back within this, plus that, plus
   * the retry delay.
   */
  heartbeatSeconds?: number;
  /** Open the pool (default: `openPool(pool, { create: true })`); tests and benches may pass their own opener. */
  openPool?: (url: string) => Promise<import('../store/types.ts').Pool>;
}

/** One run put on the queue. */
export interface EnqueuedRun {
  task: string;
  model: string;
  run_id: string;
  /** Planned attempts (samples × epochs). */
  planned: number;
  /** Attempts stored ok before this call (not enqueued). */
  stored: number;
  /** Attempts already in live jobs of the run (waiting, or held by a worker): not enqueued again. */
  queued_before: number;
  /** Attempts enqueued by this call, and the jobs holding them. */
  enqueued: number;
  jobs: number;
  /** The endpoint (base URL, else model address) and its limits in force. */
  endpoint: string;
  limits: EndpointLimit | null;
}

/** What {@link enqueueRun} returns. */
export interface EnqueueResult {
  eval_set_id: string;
  /** The queue's address without its password. */
  queue: string;
  pool: string;
  runs: EnqueuedRun[];
}

/**
 * Plan every task × model run in the pool and put its missing attempts on the queue, in jobs of `jobSize` attempts.
 * @param tasks tasks (from `defineTask`), names of known tasks, or task files
 * @param models model addresses
 * @returns per run: planned, already stored, already queued, enqueued attempts and jobs
 * @throws InputError for what `evaluate` refuses, a run whose scorers or solver a worker could not rebuild from the
 *   stored spec (a function given in code), a job size not an integer in 1..MAX_JOB_SIZE, a bad queue address or bad
 *   limits — all before anything is enqueued; RunError when the queue cannot be reached
 */
export async function enqueueRun(tasks: Task | string | (Task | string)[], models: string | string[], options: EnqueueOptions): Promise<EnqueueResult> {
  const jobSize = options.jobSize ?? DEFAULT_JOB_SIZE;
  if (!Number.isInteger(jobSize) || jobSize < 1 || jobSize > MAX_JOB_SIZE) throw new InputError(`--job-size must be an integer from 1 to ${MAX_JOB_SIZE}, got ${jobSize}`, { field: 'job-size' });
  const retryLimit = options.retryLimit ?? 10;
  const retryDelay = options.retryDelaySeconds ?? 1;
  const heartbeat = options.heartbeatSeconds ?? 60;
  if (!Number.isInteger(retryLimit) || retryLimit < 0) throw new InputError(`retryLimit must be an integer ≥ 0, got ${retryLimit}`, { field: 'retryLimit' });
  if (!Number.isInteger(retryDelay) || retryDelay < 0) throw new InputError(`retryDelaySeconds must be an integer ≥ 0, got ${retryDelay}`, { field: 'retryDelaySeconds' });
  if (!Number.isInteger(heartbeat) || heartbeat < 2 || heartbeat >= 86_400) throw new InputError(`heartbeatSeconds must be an integer from 2 to 86399, got ${heartbeat}`, { field: 'heartbeatSeconds' });
  const q = typeof options.queue === 'string' ? await openQueue(options.queue) : options.queue;
  const open = options.openPool ?? (async (url: string) => (await import('../store/open.ts')).openPool(url, { create: true }));
  let pool: import('../store/types.ts').Pool | null = null;
  try {
    const ev = await prepareEvaluation(tasks, models, { ...options, pool: async () => (pool = await open(options.pool)) });
    try {
      // Every run must be rebuildable by a worker from its spec alone: checked for all before any is planned.
      for (const c of ev.cells) {
        const rebuilt = rebuildRun({ scorers: c.r.scorers.map((s) => ({ name: s.name, options: s.options })), solver: isDefaultSolver(c.r.solverSpec) ? undefined : c.r.solverSpec });
        for (const s of rebuilt.scorers) await s.close?.();
      }
      const runs: EnqueuedRun[] = [];
      for (const c of ev.cells) {
        const o = cellRunOptions(c, { ...options, pool: ev.pool }, ev.pool, ev.label);
        const planned = await planRun(o, c.provider);
        const runId = planned.runId;
        const limits = options.endpointLimits && (options.endpointLimits.maxConcurrency !== undefined || options.endpointLimits.rpm !== undefined)
          ? await setEndpointLimit(q, planned.endpoint, options.endpointLimits)
          : await currentLimit(q, planned.endpoint);
        const jobOptions: JobOptions = {
          cache: (options.cache ?? !ev.label) && c.provider.capabilities.remote,
          timeout_ms: options.timeoutMs ?? 120_000,
          max_retries: options.maxRetries ?? 6,
          backoff_base_ms: options.backoffBaseMs ?? 250,
        };
        const total = (await ev.pool.plannedCount(runId)) * c.r.epochs;
        const completed = await ev.pool.completedKeys(runId);
        const live = await liveKeys(q, runId);
        let queuedBefore = 0;
        async function* keys() {
          for await (const w of pendingWork(ev.pool.iteratePlanned(runId), c.r.epochs, completed)) {
            if (live.has(`${w.planned.sample.id}\u0000${w.epoch}`)) {
              queuedBefore++;
              continue;
            }
            yield { id: w.planned.sample.id, index: w.planned.index, epoch: w.epoch };
          }
        }
        let enqueued = 0;
        let jobs = 0;
        let batch: { name: string; data: AttemptJob; retryLimit: number; retryDelay: number; retryBackoff: boolean; expireInSeconds: number }[] = [];
        const send = async () => {
          if (batch.length) await q.boss.insert(batch);
          batch = [];
        };
        await q.query(
          `INSERT INTO assay_queue.runs (run_id, pool, planned, epochs, endpoint) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (run_id) DO UPDATE SET pool = EXCLUDED.pool, planned = EXCLUDED.planned, endpoint = EXCLUDED.endpoint, updated_at = now()`,
          [runId, ev.pool.url, total, c.r.epochs, planned.endpoint],
        );
        for await (const samples of batchKeys(keys(), jobSize)) {
          const attempts = samples.reduce((n, s) => n + s.epochs.length, 0);
          batch.push({
            name: ATTEMPTS_QUEUE,
            data: { v: 1, run_id: runId, pool: ev.pool.url, attempts, samples, options: jobOptions },
            retryLimit, retryDelay, retryBackoff: retryDelay > 0, expireInSeconds: heartbeat,
          });
          enqueued += attempts;
          jobs++;
          if (batch.length >= 200) await send();
        }
        await send();
        // Workers hold no run lease: stored as `running`, the run would read as interrupted in `assay runs` while
        // its jobs wait. `queued` until a worker marks it complete or failed.
        if (enqueued + queuedBefore > 0) await ev.pool.setRunStatus(runId, 'queued');
        runs.push({ task: c.r.task.name, model: c.model, run_id: runId, planned: total, stored: completed.size, queued_before: queuedBefore, enqueued, jobs, endpoint: planned.endpoint, limits });
      }
      for (const r of ev.resolved) for (const s of r.scorers) await s.close?.();
      return { eval_set_id: ev.setId, queue: q.where, pool: ev.pool.url, runs };
    } finally {
      await ev.close();
    }
  } finally {
    await (pool as import('../store/types.ts').Pool | null)?.close();
    if (typeof options.queue === 'string') await q.close();
  }
}

/** The limits of `endpoint` in force, or null. */
async function currentLimit(q: QueueConnection, endpoint: string): Promise<EndpointLimit | null> {
  const r = await q.query<EndpointLimit>(`SELECT endpoint, max_concurrency, rpm FROM assay_queue.endpoint_limits WHERE endpoint = $1`, [endpoint]);
  return r.rows[0] ?? null;
}

/** Keys `${sample_id}\u0000${epoch}` of attempts in live jobs of the run (waiting, to retry, or held by a worker). */
export async function liveKeys(q: QueueConnection, runId: string): Promise<Set<string>> {
  const r = await q.query<{ samples: AttemptJob['samples'] }>(
    `SELECT data->'samples' AS samples FROM ${q.schema}.job WHERE name = $1 AND state < 'completed' AND data->>'run_id' = $2`,
    [ATTEMPTS_QUEUE, runId],
  );
  const out = new Set<string>();
  for (const row of r.rows) for (const s of row.samples ?? []) for (const e of s.epochs) out.add(`${s.id}\u0000${e}`);
  return out;
}
