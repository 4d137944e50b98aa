/**
 * `runWorker`: take attempts jobs from the queue (src/queue/jobs.ts), make their attempts with the runner's own
 * functions (runner/execution.ts: the same cache keys, solver, retries, grading and server-identity check as
 * `assay run`), store them in the run's pool, and complete the jobs. Any number of workers, on any machines, may work
 * on the same runs.
 *
 * Exactly once, whatever happens:
 * - a job's attempts already stored ok are skipped (one page of the pool over the job's samples), so a job given out
 *   again (its worker died, its heartbeat stopped, it failed, or it was enqueued twice) makes only what is missing;
 * - the pool stores one attempt per (run, sample, epoch): writing one again replaces it, and a failed attempt never
 *   replaces an ok one (store/types.ts);
 * - attempts are written as they finish, in batches, each batch under a per-run PostgreSQL advisory lock and the run's
 *   lease in the pool (runner/lease.ts), so one process at a time extends the run's evidence chain and `assay verify`
 *   finds one unbroken chain (see RunWriter);
 * - a job is completed only once everything it made is durable (`flush`); a worker killed before that leaves the job
 *   active, its heartbeat stops, and pg-boss gives it out again after `heartbeatSeconds` (pg-boss@10 has no heartbeat
 *   of its own: a worker renews its jobs by moving their start time, which pg-boss's expiry reads).
 *
 * Concurrency: at most `concurrency` requests in flight per endpoint in this worker (lowered on 429 as in the runner),
 * and over all workers whatever the endpoint's shared limits say (src/queue/limits.ts).
 */
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type PgBoss from 'pg-boss';
import { InputError } from '../core/errors.ts';
import { checkCount, MAX_CONCURRENCY, MAX_EPOCHS } from '../core/limits.ts';
import type { Attempt, Measurement, PlannedSample, RunRecord } from '../core/schemas.ts';
import type { SigningKey } from '../evidence/keys.ts';
import { signRun } from '../evidence/sign.ts';
import { createProvider } from '../providers/registry.ts';
import { ensureCapabilities } from '../providers/scoring.ts';
import type { Provider } from '../providers/types.ts';
import type { AttemptContext } from '../runner/attempt.ts';
import { attemptAt, attemptContextOf, rebuildRun, recordServerFacts, responseGuard, type ResponseGuard } from '../runner/execution.ts';
import { releaseIdleGradingWorkers } from '../runner/grading-pool.ts';
import { holderIsGone, takeRunLease } from '../runner/lease.ts';
import { cacheKeyOf } from '../runner/plan.ts';
import { sleep } from '../runner/retry.ts';
import { AdaptiveLimiter, ConcurrencyGate } from '../runner/scheduler.ts';
import type { Scorer } from '../scorers/types.ts';
import { solverNeeds } from '../solvers/types.ts';
import type { CachedResponse, Pool } from '../store/types.ts';
import { ATTEMPTS_QUEUE, openQueue, type QueueConnection } from './connection.ts';
import { parseAttemptJob, type AttemptJob } from './jobs.ts';
import { SharedLimits } from './limits.ts';

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** The queue: a PostgreSQL address, or an open connection (not closed here; it should supervise: see `openQueue`). */
  queue: string | QueueConnection;
  /** Use this pool for every job instead of the one the job names (another path to the same SQLite file, say). */
  pool?: string;
  /** Most requests in flight per endpoint in this worker (default 16; at most MAX_CONCURRENCY). */
  concurrency?: number;
  /**
   * Stop: no more jobs are taken; jobs in hand get `drainMs` to finish (default 30 s), then their calls are cancelled
   * and they go back to the queue for another worker. `runWorker` resolves once everything is closed.
   */
  signal?: AbortSignal;
  drainMs?: number;
  /** How often an idle worker asks for jobs, in ms (default 500). */
  pollMs?: number;
  /** Finished attempts wait up to this long to be written together (default 200 ms; at once when 256 wait). */
  writeBatchMs?: number;
  /** Seconds between pg-boss maintenance runs (expiring dead workers' jobs), one run per interval over all workers (default 2). */
  maintenanceIntervalSeconds?: number;
  /** Ttl of a held endpoint slot (default 30 s; see SharedLimits). */
  slotTtlMs?: number;
  /** A progress line every this many ms (default 10 s; 0: none). */
  statusEveryMs?: number;
  /** Lines for the user (progress, errors); default: none. */
  log?: (line: string) => void;
  /** Sign a run's evidence chain when this worker finds it complete. */
  signingKey?: SigningKey;
  /** Open a pool (default `openPool(url)`). */
  openPool?: (url: string) => Promise<Pool>;
}

/** What a worker did. */
export interface WorkerReport {
  /** This worker's id: `host:pid:random`. */
  worker: string;
  jobs_completed: number;
  /** Jobs handed back failed (retried by pg-boss up to the job's retry limit). */
  jobs_failed: number;
  /** Attempts made and stored (of which `attempts_failed` are stored failures: errors after every retry). */
  attempts_made: number;
  attempts_failed: number;
  /** Attempts of its jobs that were already stored ok (a job given out again). */
  attempts_skipped: number;
  /** Runs this worker found complete (and marked so). */
  runs_completed: string[];
  seconds: number;
  /** CPU time of this process (all its threads, grading included) while it worked, user + system, in seconds. */
  cpu_seconds: number;
}

/** Stopped before the job's work was done: the job goes back to the queue. */
class Stopped extends Error {}

/** A job as fetched (metadata included). */
type FetchedJob = PgBoss.JobWithMetadata<AttemptJob>;

/** One run as this worker runs it: rebuilt from its stored spec, with its writer. */
interface RunContext {
  runId: string;
  pool: Pool;
  run: RunRecord;
  total: number;
  epochs: number;
  provider: Provider;
  scorers: Scorer[];
  ctx: AttemptContext;
  solverSalt: unknown;
  gate: ConcurrencyGate;
  guard: ResponseGuard;
  /** Aborts this run's calls (the worker stops, or the server is not the stored run's). */
  stop: AbortController;
  mismatch: string | null;
  writer: RunWriter;
  /** Cache lookups started ahead of their attempts, by cache key (null: the run reuses no stored response). */
  prefetched: Map<string, Promise<CachedResponse | null>> | null;
  /** Identity facts recorded so far (model ids + fingerprints + server headers), to write the manifest only on news. */
  facts: number;
  check: { timer: NodeJS.Timeout | null; last: number; running: Promise<void> | null };
}

/**
 * Work on the queue until `signal` aborts. Errors: InputError for a bad `concurrency` or queue address; RunError when
 * the queue cannot be reached at start. Once running, failures of a job (a pool that cannot be opened, a run a worker
 * cannot rebuild) fail that job — logged, retried by pg-boss — and the worker goes on.
 */
export async function runWorker(o: WorkerOptions): Promise<WorkerReport> {
  checkCount('concurrency', o.concurrency, MAX_CONCURRENCY);
  const concurrency = o.concurrency ?? 16;
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const errorsSeen = new Map<string, number>();
  const logError = (what: string, err: unknown) => {
    const msg = `${what}: ${(err as Error)?.message ?? String(err)}`;
    const n = (errorsSeen.get(msg) ?? 0) + 1;
    errorsSeen.set(msg, n);
    if (n === 1 || n === 10 || n % 100 === 0) log(`worker ${id}: ${msg}${n > 1 ? ` (${n} times)` : ''}`);
  };
  const q = typeof o.queue === 'string'
    ? await openQueue(o.queue, { supervise: true, maintenanceIntervalSeconds: o.maintenanceIntervalSeconds ?? 2, onError: (e) => logError('queue', e) })
    : o.queue;
  const limits = new SharedLimits(q, id, { slotTtlMs: o.slotTtlMs, onError: (e) => logError('endpoint limits', e) });
  await limits.start();
  const open = o.openPool ?? (async (url: string) => (await import('../store/open.ts')).openPool(url));
  const hard = new AbortController();
  setMaxListeners(0, hard.signal);
  const pools = new Map<string, Promise<Pool>>();
  // Connections that wait for and hold runs' write locks (one per run being written), apart from the queue's own.
  let locks: pg.Pool | null = null;
  const writeLocks = () => (locks ??= new pg.Pool({ connectionString: q.url, max: 8, application_name: 'assay-write-locks' }).on('error', (e) => logError('write locks', e)));
  const providers = new Map<string, Promise<Provider>>();
  const runs = new Map<string, Promise<RunContext>>();
  const gates = new Map<string, ConcurrencyGate>();
  const active = new Map<string, { job: FetchedJob; done: Promise<void> }>();
  const report: WorkerReport = { worker: id, jobs_completed: 0, jobs_failed: 0, attempts_made: 0, attempts_failed: 0, attempts_skipped: 0, runs_completed: [], seconds: 0, cpu_seconds: 0 };
  /** Attempts fetched but not yet started: the worker fetches more while fewer than `concurrency` wait. */
  let unstarted = 0;
  let wakeFetch: (() => void) | null = null;
  const changed = () => wakeFetch?.();

  const poolOf = (url: string): Promise<Pool> => {
    let p = pools.get(url);
    if (!p) {
      pools.set(url, (p = open(url)));
      p.catch(() => pools.delete(url));
    }
    return p;
  };
  const providerOf = (address: string): Promise<Provider> => {
    let p = providers.get(address);
    if (!p) {
      providers.set(address, (p = createProvider(address, { concurrency })));
      p.catch(() => providers.delete(address));
    }
    return p;
  };
  const gateOf = (endpoint: string, provider: Provider): ConcurrencyGate => {
    let g = gates.get(endpoint);
    if (!g) gates.set(endpoint, (g = new ConcurrencyGate(new AdaptiveLimiter(Math.max(1, Math.min(concurrency, provider.capabilities.maxConcurrency ?? concurrency))))));
    return g;
  };

  const runContextOf = (job: AttemptJob): Promise<RunContext> => {
    const poolUrl = o.pool ?? job.pool;
    const key = `${job.run_id}\u0000${poolUrl}\u0000${JSON.stringify(job.options)}`;
    let p = runs.get(key);
    if (!p) {
      runs.set(key, (p = makeRunContext(job, poolUrl)));
      p.catch(() => runs.delete(key));
    }
    return p;
  };

  const makeRunContext = async (job: AttemptJob, poolUrl: string): Promise<RunContext> => {
    const pool = await poolOf(poolUrl);
    const run = await pool.getRun(job.run_id);
    if (!run) throw new InputError(`run ${job.run_id} is not in the pool ${poolUrl} (a worker on another machine needs --pool with its address of the same pool)`, { field: 'pool' });
    const rebuilt = rebuildRun(run.spec);
    const provider = await providerOf(run.spec.model);
    await ensureCapabilities(provider, solverNeeds(rebuilt.solver), hard.signal);
    const endpoint = provider.baseUrl ?? provider.address;
    const gate = gateOf(endpoint, provider);
    const stop = new AbortController();
    setMaxListeners(0, stop.signal);
    hard.signal.addEventListener('abort', () => stop.abort(), { once: true });
    if (hard.signal.aborted) stop.abort();
    const rc = { mismatch: null } as RunContext;
    const guard = responseGuard(run.manifest.provider, (mismatch) => {
      if (!rc.mismatch) {
        rc.mismatch = `${mismatch}; this worker stopped working on run ${job.run_id} (its jobs go back to the queue and fail after their retries). To evaluate this server, enqueue the run again with --new-run.`;
        log(`worker ${id}: ${rc.mismatch}`);
      }
      stop.abort();
    });
    const policy = { timeoutMs: job.options.timeout_ms, maxRetries: job.options.max_retries, backoffBaseMs: job.options.backoff_base_ms, admit: limits.admitFor(endpoint) };
    const ctx = attemptContextOf({
      runId: job.run_id, provider, config: run.spec.config, solver: rebuilt.solver, scorers: rebuilt.scorers, policy, limiter: gate.limiter, stop: stop.signal,
      pool, cache: job.options.cache && provider.capabilities.remote, guard, images: !!run.spec.images,
    });
    // Cache lookups of a job are made together when it starts (processJob); an attempt takes its own from here.
    const prefetched = job.options.cache && provider.capabilities.remote ? new Map<string, Promise<CachedResponse | null>>() : null;
    if (prefetched) {
      ctx.cacheLookup = (k) => {
        const p = prefetched.get(k);
        if (!p) return pool.cacheLookup(k);
        prefetched.delete(k);
        return p;
      };
    }
    const total = (await pool.plannedCount(job.run_id)) * run.spec.epochs;
    return Object.assign(rc, {
      prefetched,
      runId: job.run_id, pool, run, total, epochs: run.spec.epochs, provider, scorers: rebuilt.scorers, ctx, solverSalt: rebuilt.solverSalt, gate, guard, stop,
      writer: new RunWriter(pool, job.run_id, { batchMs: o.writeBatchMs ?? 200, maxBatch: 256, signal: hard.signal, locks: writeLocks(), lockKey: `${pool.url} ${job.run_id}` }),
      facts: 0, check: { timer: null, last: 0, running: null },
    });
  };

  /** Keys of the job's attempts already stored ok: one page of the pool over the job's sample range (per sample when the range is wide). */
  const storedOk = async (rc: RunContext, job: AttemptJob): Promise<Set<string>> => {
    const out = new Set<string>();
    const ids = new Set(job.samples.map((s) => s.id));
    const first = Math.min(...job.samples.map((s) => s.index));
    const last = Math.max(...job.samples.map((s) => s.index));
    const span = (last - first + 1) * rc.epochs;
    const rows = span <= 2000
      ? await rc.pool.pageAttempts(rc.runId, { limit: span, after: first > 0 ? { index: first - 1, epoch: MAX_EPOCHS } : null })
      : (await Promise.all(job.samples.map((s) => rc.pool.pageAttempts(rc.runId, { limit: Math.min(2000, rc.epochs), sampleId: s.id })))).flat();
    for (const r of rows) if (r.status === 'ok' && ids.has(r.sample_id)) out.add(`${r.sample_id}\u0000${r.epoch}`);
    return out;
  };

  const processJob = async (job: FetchedJob, counted: number): Promise<void> => {
    let uncounted = counted;
    let rcOfJob: RunContext | null = null;
    const prefetchedKeys: string[] = [];
    const started = (n = 1) => {
      const k = Math.min(n, uncounted);
      uncounted -= k;
      unstarted -= k;
      changed();
    };
    try {
      const data = parseAttemptJob(job.id, job.data);
      const rc = (rcOfJob = await runContextOf(data));
      if (rc.stop.signal.aborted) throw new Stopped(rc.mismatch ?? 'the worker is stopping');
      const stored = await storedOk(rc, data);
      const todo: { id: string; epoch: number }[] = [];
      for (const s of data.samples) for (const e of s.epochs) {
        if (stored.has(`${s.id}\u0000${e}`)) {
          report.attempts_skipped++;
          started();
        } else todo.push({ id: s.id, epoch: e });
      }
      const planned = new Map<string, PlannedSample>();
      const ids = [...new Set(todo.map((t) => t.id))];
      const found = await Promise.all(ids.map((id) => rc.pool.getPlanned(rc.runId, id)));
      ids.forEach((id, i) => {
        if (!found[i]) throw new InputError(`sample "${id}" is not in the plan of run ${rc.runId} in ${rc.pool.url}`, { field: 'samples' });
        planned.set(id, found[i]!);
      });
      // The job's cache lookups all at once, outside the concurrency gate: each attempt finds its answer waiting.
      if (rc.prefetched) {
        for (const t of todo) {
          const k = cacheKeyOf(rc.provider.address, planned.get(t.id)!.prompt_hash, rc.run.spec.config, t.epoch, rc.solverSalt);
          if (!rc.prefetched.has(k)) rc.prefetched.set(k, rc.pool.cacheLookup(k).catch(() => null));
          prefetchedKeys.push(k);
        }
      }
      let failed = 0;
      const settled = await Promise.allSettled(
        todo.map(async (t) => {
          const admitted = await rc.gate.acquire(rc.stop.signal);
          started();
          if (!admitted) throw new Stopped(rc.mismatch ?? 'the worker is stopping');
          let done: { attempt: Attempt; measurements: Measurement[] } | null;
          try {
            done = await attemptAt(rc.ctx, planned.get(t.id)!, t.epoch, rc.solverSalt);
          } finally {
            rc.gate.release();
          }
          if (!done) throw new Stopped(rc.mismatch ?? 'the worker is stopping');
          await rc.writer.add(done);
          report.attempts_made++;
          if (done.attempt.status !== 'ok') {
            report.attempts_failed++;
            failed++;
          }
        }),
      );
      const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (rejected) throw rejected.reason;
      await q.boss.complete(ATTEMPTS_QUEUE, job.id, { worker: id, made: todo.length, skipped: data.attempts - todo.length, failed });
      report.jobs_completed++;
      await noteFacts(rc);
      scheduleCheck(rc);
    } catch (err) {
      report.jobs_failed++;
      if (!(err instanceof Stopped) || !hard.signal.aborted) logError(`job ${job.id} failed (it goes back to the queue)`, err);
      await q.boss.fail(ATTEMPTS_QUEUE, job.id, { worker: id, error: (err as Error)?.message ?? String(err) }).catch((e) => logError('could not hand a job back', e));
    } finally {
      started(uncounted);
      for (const k of prefetchedKeys) rcOfJob?.prefetched?.delete(k);
    }
  };

  /** Record in the manifest what the server said about itself, when this worker learned something new. */
  const noteFacts = async (rc: RunContext) => {
    const n = rc.guard.seenIds.size + rc.guard.seenFingerprints.size + (rc.guard.server() ? 1 : 0);
    if (n === rc.facts) return;
    rc.facts = n;
    await recordServerFacts(rc.pool, rc.runId, rc.guard, rc.scorers, { mergeReports: true }).catch((e) => logError('manifest', e));
  };

  /** Is the run done? Checked at most once a second per run (the last job's check always runs). */
  const scheduleCheck = (rc: RunContext) => {
    if (rc.check.timer) return;
    const wait = Math.max(0, rc.check.last + 1000 - Date.now());
    rc.check.timer = setTimeout(() => {
      rc.check.timer = null;
      rc.check.last = Date.now();
      rc.check.running = checkRun(rc).catch((e) => logError(`run ${rc.runId}`, e)).finally(() => {
        rc.check.running = null;
      });
    }, wait);
  };

  /** When every planned attempt is stored ok (or stored, with no job of the run left), mark the run complete (failed). */
  const checkRun = async (rc: RunContext) => {
    const live = await q.query<{ n: string }>(`SELECT count(*) AS n FROM ${q.schema}.job WHERE name = $1 AND state < 'completed' AND data->>'run_id' = $2`, [ATTEMPTS_QUEUE, rc.runId]);
    if (Number(live.rows[0]!.n) > 0) return;
    const c = await rc.pool.counts(rc.runId);
    if (c.ok < rc.total && c.attempts < rc.total) return;
    const status: RunRecord['status'] = c.ok >= rc.total ? 'complete' : 'failed';
    const now = await rc.pool.getRun(rc.runId);
    if (now?.status === status) return;
    await recordServerFacts(rc.pool, rc.runId, rc.guard, rc.scorers, { mergeReports: true });
    await rc.pool.setRunStatus(rc.runId, status);
    const manifest = (await rc.pool.getRun(rc.runId))!.manifest;
    await rc.pool.putModel({ address: rc.run.spec.model, kind: rc.provider.kind, reported_model_ids: manifest.provider.reported_model_ids, system_fingerprints: manifest.provider.system_fingerprints ?? [], metadata: {} });
    if (o.signingKey) await signRun(rc.pool, rc.runId, o.signingKey);
    // Eval sets whose runs are all complete now are complete.
    if (status === 'complete') {
      for (const set of await rc.pool.listEvalSets()) {
        const ids = Object.values(set.runs);
        if (set.status === 'complete' || !ids.includes(rc.runId)) continue;
        const statuses = await Promise.all(ids.map(async (r) => (await rc.pool.getRun(r))?.status));
        if (statuses.every((s) => s === 'complete')) await rc.pool.updateEvalSet(set.id, { status: 'complete' });
      }
      report.runs_completed.push(rc.runId);
    }
    log(`worker ${id}: run ${rc.runId} ${status}: ${c.ok} of ${rc.total} attempts ok, ${c.error} failed`);
  };

  // Heartbeat: renew the jobs in hand (every third of their expiry) so that pg-boss does not give them out again.
  let lastBeat = Date.now();
  const beat = setInterval(() => {
    if (!active.size) return;
    const expire = Math.min(...[...active.values()].map((a) => Number(a.job.expireInSeconds) || 60));
    if (Date.now() - lastBeat < (expire * 1000) / 3) return;
    lastBeat = Date.now();
    q.query(`UPDATE ${q.schema}.job SET started_on = now() WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active'`, [ATTEMPTS_QUEUE, [...active.keys()]]).catch((e) => logError('heartbeat', e));
  }, 250);
  beat.unref();

  let lastStatus = Date.now();
  let lastMade = 0;
  const status = o.statusEveryMs ?? 10_000;
  const statusTimer = status > 0
    ? setInterval(() => {
        const secs = (Date.now() - lastStatus) / 1000;
        const rate = (report.attempts_made - lastMade) / Math.max(secs, 1e-3);
        lastStatus = Date.now();
        lastMade = report.attempts_made;
        log(`worker ${id}: ${report.jobs_completed} jobs done, ${active.size} in hand; ${report.attempts_made} attempts made (${rate.toFixed(1)}/s), ${report.attempts_skipped} already stored, ${report.attempts_failed} failed`);
      }, status)
    : null;
  statusTimer?.unref();

  log(`worker ${id}: taking jobs from ${q.where} (concurrency ${concurrency} per endpoint)`);
  const pollMs = o.pollMs ?? 500;
  const signal = o.signal;
  try {
    while (!signal?.aborted) {
      if (unstarted >= concurrency) {
        await new Promise<void>((resolve) => {
          const done = () => {
            signal?.removeEventListener('abort', done);
            resolve();
          };
          wakeFetch = done;
          signal?.addEventListener('abort', done, { once: true });
        });
        wakeFetch = null;
        continue;
      }
      let jobs: FetchedJob[] = [];
      try {
        // pg-boss gives a job to one worker at a time (SELECT … FOR UPDATE SKIP LOCKED); ask for about what fills the gap.
        jobs = await q.boss.fetch<AttemptJob>(ATTEMPTS_QUEUE, { batchSize: Math.max(1, Math.ceil((concurrency - unstarted) / 32)), includeMetadata: true });
      } catch (err) {
        logError('fetch', err);
      }
      if (!jobs.length) {
        await sleep(pollMs * (0.75 + Math.random() / 2), signal);
        continue;
      }
      for (const job of jobs) {
        const n = typeof job.data?.attempts === 'number' && job.data.attempts > 0 ? job.data.attempts : 1;
        unstarted += n;
        const entry = { job, done: Promise.resolve() };
        active.set(job.id, entry);
        entry.done = processJob(job, n).finally(() => {
          active.delete(job.id);
          changed();
        });
      }
    }
    // Stopping: no more jobs; those in hand get `drainMs` to finish, then their calls are cancelled (they go back).
    const drain = o.drainMs ?? 30_000;
    if (active.size) log(`worker ${id}: stopping: finishing ${active.size} job(s) in hand (at most ${Math.round(drain / 1000)} s)`);
    const all = Promise.all([...active.values()].map((a) => a.done));
    const drained = new AbortController();
    await Promise.race([all.finally(() => drained.abort()), sleep(drain, drained.signal)]);
    hard.abort();
    await all;
  } finally {
    hard.abort();
    clearInterval(beat);
    if (statusTimer) clearInterval(statusTimer);
    // Pending completion checks run now (the last job of a run may have just finished).
    for (const p of runs.values()) {
      const rc = await p.catch(() => null);
      if (!rc) continue;
      if (rc.check.timer) {
        clearTimeout(rc.check.timer);
        rc.check.timer = null;
        await checkRun(rc).catch((e) => logError(`run ${rc.runId}`, e));
      }
      await rc.check.running;
      for (const s of rc.scorers) await s.close?.();
    }
    await limits.close();
    await (locks as pg.Pool | null)?.end().catch(() => {});
    for (const p of providers.values()) await (await p.catch(() => null))?.close().catch(() => {});
    for (const p of pools.values()) await (await p.catch(() => null))?.close().catch((e) => logError('closing the pool', e));
    await releaseIdleGradingWorkers();
    if (typeof o.queue === 'string') await q.close();
  }
  report.seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  report.cpu_seconds = (cpu.user + cpu.system) / 1e6;
  return report;
}

/**
 * Writes one run's attempts as they come, in batches, each batch under the run's lease: one writer process at a time
 * extends the run's evidence chain. Writers of one run queue for it on a PostgreSQL advisory lock of the queue's
 * database (they wait there, in order, without polling the pool; a writer that dies lets go with its connection), then
 * take the pool's run lease (at once, unless an `assay run` of the same run holds it) — the lease is what makes the
 * chaining layer read the chain's head again. A batch is written `batchMs` after its first attempt arrived, or at once
 * when `maxBatch` wait. `add` resolves once the attempt is durable (`flush`).
 */
class RunWriter {
  private queue: { attempt: Attempt; measurements: Measurement[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly pool: Pool,
    private readonly runId: string,
    private readonly o: { batchMs: number; maxBatch: number; signal: AbortSignal; locks: pg.Pool; lockKey: string },
  ) {}

  add(done: { attempt: Attempt; measurements: Measurement[] }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...done, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running) return;
    const start = () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.running = true;
      void this.drain().finally(() => {
        this.running = false;
        if (this.queue.length) this.schedule();
      });
    };
    if (this.queue.length >= this.o.maxBatch) start();
    else if (!this.timer) this.timer = setTimeout(start, this.o.batchMs);
  }

  private async drain(): Promise<void> {
    const batch = this.queue.splice(0);
    try {
      const c = await this.o.locks.connect();
      let unlock = false;
      try {
        // Wait for this run's write lock in PostgreSQL, a second at a time (to notice a stop).
        await c.query(`SET lock_timeout = '1s'`);
        while (!unlock) {
          if (this.o.signal.aborted) throw new Stopped('stopped while waiting to write');
          try {
            await c.query(`SELECT pg_advisory_lock(hashtext('assay.run-write'), hashtext($1))`, [this.o.lockKey]);
            unlock = true;
          } catch (err) {
            if ((err as { code?: string }).code !== '55P03') throw err;
          }
        }
        // The run's lease, short (10 s): a writer holds it for one batch. A holder killed on this host is taken over
        // after a second, so that a batch it had already sent to a database server lands before the chain's head is read.
        const prev = await this.pool.getLease(this.runId);
        if (prev && Date.parse(prev.expires_at) > Date.now() && holderIsGone(prev)) await sleep(1000, this.o.signal);
        const held = await takeRunLease(this.pool, this.runId, { ttlMs: 10_000, pollMs: 50, signal: this.o.signal });
        if (!held) throw new Stopped('stopped while waiting to write');
        try {
          await Promise.all(batch.map((b) => this.pool.write(b.attempt, b.measurements)));
          await this.pool.flush();
        } finally {
          await held.release();
        }
      } finally {
        if (unlock) await c.query(`SELECT pg_advisory_unlock(hashtext('assay.run-write'), hashtext($1))`, [this.o.lockKey]).catch(() => {});
        c.release();
      }
      for (const b of batch) b.resolve();
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}
