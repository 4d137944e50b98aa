/**
 * `assay serve --workers N`: N processes (node:cluster) serving one port, each with its own read-only connection to
 * the pool and its own analysis thread. The primary process listens on nothing itself: it hands each new connection
 * to a worker in turn (round robin), restarts a worker that dies, and holds the state that must be one across the
 * workers and lives in no file — the rate limits.
 *
 * What is shared, and how:
 * - Rate limits: the primary's token buckets ({@link RateLimiter}); a worker asks for each request over IPC
 *   (`take`, one message each way, about 0.1 ms), so a client gets `--rate-limit` requests per second whichever
 *   workers its connections land on, exactly as with one process. Failed authentications likewise.
 * - Tokens: the token file, re-read by every worker when it changes (within a second), changed under a lock file
 *   (src/serve/auth.ts FileTokenStore).
 * - Notes and the audit log: JSON-lines files appended with O_APPEND, one write per line; each worker reads the
 *   lines the others appended (src/serve/notes.ts, FileAuditLog).
 * - Cached analyses are per worker (each computes a run's statistics once, on its own thread).
 */
import cluster, { type Worker } from 'node:cluster';
import { InputError } from '../core/errors.ts';
import { RateLimiter, type RateLimit } from './auth.ts';

const ENV = 'ASSAY_SERVE_WORKER';

type ToPrimary = { assay: 'listening'; url: string } | { assay: 'take'; id: number; limiter: 'requests' | 'failures'; key: string };
type ToWorker = { assay: 'took'; id: number; wait: number } | { assay: 'stop' };

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Worker processes (≥ 2 to be worth it; 1 works). */
  workers: number;
  /** Requests per second and burst per token or client address, across all workers; null: no limit. */
  rateLimit: { perSecond: number; burst: number } | null;
  /** Failed authentications per second and burst per client address (default 1/s, burst 20). */
  authFailureLimit?: { perSecond: number; burst: number };
  /** How long the workers may take to listen, in ms (default 60 s). */
  startTimeoutMs?: number;
  /** Where restarts are reported (default: stderr). */
  log?: (line: string) => void;
}

/** A running cluster (in the primary). */
export interface RunningCluster {
  url: string;
  /** The workers' process ids, now. */
  pids(): number[];
  /** Workers started so far (restarts included). */
  forks(): number;
  /** Ask every worker to stop (they close their server and pool) and wait for them. */
  close(): Promise<void>;
}

/** Whether this process is a worker of `assay serve --workers` (forked by {@link startCluster}). */
export function isServeWorker(): boolean {
  return cluster.isWorker && process.env[ENV] === '1';
}

/**
 * Start `workers` worker processes running this program again with the same arguments (the caller's entry point
 * sees {@link isServeWorker} and serves), and wait until each listens. Resolves with the url the first one reports.
 * Errors: InputError when a worker exits before listening (its own error is on stderr) or none listens in time.
 */
export async function startCluster(o: ClusterOptions): Promise<RunningCluster> {
  if (!cluster.isPrimary) throw new Error('startCluster runs in the primary process');
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const limiters = {
    requests: o.rateLimit ? new RateLimiter(o.rateLimit.perSecond, o.rateLimit.burst) : null,
    failures: new RateLimiter(o.authFailureLimit?.perSecond ?? 1, o.authFailureLimit?.burst ?? 20),
  };
  let stopping = false, forks = 0, url = '';
  const live = new Set<Worker>();
  const exited: Promise<void>[] = [];
  let started!: () => void, failed!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => ((started = res), (failed = rej)));
  let listening = 0;

  const fork = (): Worker => {
    const w = cluster.fork({ [ENV]: '1' });
    forks++;
    live.add(w);
    let up = false;
    exited.push(new Promise((res) => w.once('exit', () => res())));
    w.on('message', (m: ToPrimary) => {
      if (m?.assay === 'take') {
        const l = m.limiter === 'requests' ? limiters.requests : limiters.failures;
        const reply: ToWorker = { assay: 'took', id: m.id, wait: l ? l.take(m.key) : 0 };
        if (w.isConnected()) w.send(reply);
      } else if (m?.assay === 'listening') {
        up = true;
        url ||= m.url;
        if (++listening === o.workers) started();
      }
    });
    w.once('exit', (code, signal) => {
      live.delete(w);
      if (stopping) return;
      if (!up && listening < o.workers) {
        failed(new InputError(`a serve worker exited before listening (${signal ?? `exit code ${code}`}); its error is above`, { field: 'workers' }));
        return;
      }
      log(`assay serve: worker ${w.process.pid} stopped (${signal ?? `exit code ${code}`}); starting another`);
      if (forks < o.workers * 20) fork();
    });
    return w;
  };

  const stopAll = async () => {
    stopping = true;
    for (const w of live) {
      if (w.isConnected()) w.send({ assay: 'stop' } satisfies ToWorker);
      else w.kill('SIGTERM');
    }
    // A worker that has not stopped after 10 s is killed.
    const timer = setTimeout(() => { for (const w of live) w.kill('SIGKILL'); }, 10_000);
    await Promise.all(exited);
    clearTimeout(timer);
  };

  for (let i = 0; i < o.workers; i++) fork();
  const timeout = setTimeout(() => failed(new InputError(`the serve workers did not all listen within ${(o.startTimeoutMs ?? 60_000) / 1000} s`, { field: 'workers' })), o.startTimeoutMs ?? 60_000);
  try {
    await ready;
  } catch (e) {
    await stopAll();
    throw e;
  } finally {
    clearTimeout(timeout);
  }
  return { url, pids: () => [...live].map((w) => w.process.pid!).filter(Boolean), forks: () => forks, close: stopAll };
}

let nextTake = 1;
const takes = new Map<number, (wait: number) => void>();
let listeningToPrimary = false;
const stopHandlers: (() => void)[] = [];

function listen(): void {
  if (listeningToPrimary) return;
  listeningToPrimary = true;
  process.on('message', (m: ToWorker) => {
    if (m?.assay === 'took') {
      takes.get(m.id)?.(m.wait);
      takes.delete(m.id);
    } else if (m?.assay === 'stop') for (const f of stopHandlers) f();
  });
  // The primary gone (killed): stop too, and let waiting requests through rather than hang.
  process.on('disconnect', () => {
    for (const [id, f] of takes) {
      f(0);
      takes.delete(id);
    }
    for (const f of stopHandlers) f();
  });
}

/** In a worker: a rate limit whose buckets are the primary's (see the module comment). */
function primaryLimit(limiter: 'requests' | 'failures'): RateLimit {
  listen();
  return {
    take: (key) => new Promise<number>((resolve) => {
      if (!process.connected) return resolve(0);
      const id = nextTake++;
      takes.set(id, resolve);
      process.send!({ assay: 'take', id, limiter, key } satisfies ToPrimary);
    }),
  };
}

/** In a worker: the rate limits to give the viewer (`limiters` of ViewerOptions); `requests` null when there is no request limit. */
export function workerLimiters(requestLimit: boolean): { requests: RateLimit | null; failures: RateLimit } {
  return { requests: requestLimit ? primaryLimit('requests') : null, failures: primaryLimit('failures') };
}

/** In a worker: tell the primary this worker listens at `url`. */
export function announceListening(url: string): void {
  process.send?.({ assay: 'listening', url } satisfies ToPrimary);
}

/** In a worker: call `fn` when the primary asks the workers to stop, or is gone. */
export function onStopRequest(fn: () => void): void {
  listen();
  stopHandlers.push(fn);
}

/** This worker's number (1, 2, …; cluster ids, a restarted worker gets a new one), or undefined outside a cluster. */
export function workerId(): number | undefined {
  return isServeWorker() ? cluster.worker?.id : undefined;
}
