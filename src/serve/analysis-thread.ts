/**
 * The viewer's heavy reads (src/serve/analyses.ts) on a worker thread with its own read-only connection to the pool,
 * so that the HTTP thread keeps answering while a run's statistics are computed (seconds on a 200k-attempt run).
 *
 * Two threads, each started on its first op and kept: one for the quick reads (`listRuns`, `scorers`: tens of
 * milliseconds) and one for the analyses (seconds), so that the run list never waits behind a run's bootstrap (a
 * SQLite pool's reads on one thread follow one another). When a thread dies (a crash, an out-of-memory end) its ops in
 * flight reject and the next op starts a new thread.
 * Errors cross as plain data: an InputError of the analysis is an InputError here (same message and `where`), anything
 * else an Error with the thread's message.
 */
import { Worker } from 'node:worker_threads';
import { InputError } from '../core/errors.ts';
import type { AnalysisArgs, AnalysisOp, AnalysisResult, AnalysisRunner } from './analyses.ts';

/** A message to the thread. */
export interface OpRequest {
  id: number;
  op: AnalysisOp;
  args: unknown[];
}

/** A message from the thread: a result or an error (as data). */
export type OpReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { name: string; message: string; detail?: string; where?: InputError['where'] } };

/** The worker module: compiled JavaScript in dist/; from source, a boot module that registers tsx, then the .ts. */
function workerEntry(): { url: URL; entry: string | null } {
  if (!import.meta.url.endsWith('.ts')) return { url: new URL('./analysis-worker.js', import.meta.url), entry: null };
  return { url: new URL('./analysis-worker-boot.mjs', import.meta.url), entry: new URL('./analysis-worker.ts', import.meta.url).href };
}

type Lane = 'quick' | 'heavy';
/** The ops of the quick thread (see the module comment). */
const QUICK = new Set<AnalysisOp>(['listRuns', 'scorers']);

/** Rebuild an error the thread sent. */
export function errorOf(e: Extract<OpReply, { ok: false }>['error']): Error {
  if (e.name === 'InputError') return new InputError(e.detail ?? e.message, e.where ?? {});
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** Ops on a worker thread over the pool at `poolUrl` (a SQLite file or a PostgreSQL url: anything but `memory:`), opened read-only there. */
export class AnalysisThread implements AnalysisRunner {
  private workers: Record<Lane, Worker | null> = { quick: null, heavy: null };
  private pending = new Map<number, { lane: Lane; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Threads started (restarts after idling or dying included). */
  started = 0;

  /**
   * `idleMs`: the analyses' thread is ended once it has had nothing to do for this long (default 30 s), handing its
   * heap back (a 200k-attempt run's statistics grow it by about 100 MB); the next analysis starts a new one (a
   * fraction of a second). The quick thread stays.
   */
  constructor(readonly poolUrl: string, private readonly o: { idleMs?: number } = {}) {}

  /** After an op of the analyses' lane settles: end the thread once the lane stays idle for `idleMs`. */
  private scheduleIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if ([...this.pending.values()].some((p) => p.lane === 'heavy') || !this.workers.heavy) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      const w = this.workers.heavy;
      if (!w || [...this.pending.values()].some((p) => p.lane === 'heavy')) return;
      this.workers.heavy = null;
      void w.terminate();
    }, this.o.idleMs ?? 30_000).unref();
  }

  private start(lane: Lane): Worker {
    const { url, entry } = workerEntry();
    const w = new Worker(url, { workerData: { entry, poolUrl: this.poolUrl } });
    this.started++;
    w.unref();
    w.on('message', (m: OpReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(errorOf(m.error));
      if (lane === 'heavy') this.scheduleIdle();
    });
    const die = (why: string) => {
      if (this.workers[lane] !== w) return;
      this.workers[lane] = null;
      for (const [id, p] of this.pending) {
        if (p.lane !== lane) continue;
        this.pending.delete(id);
        p.reject(new Error(`the analysis thread stopped: ${why}`));
      }
    };
    w.on('error', (e) => die(e.message));
    w.on('exit', (code) => die(`exit code ${code}`));
    return w;
  }

  run<K extends AnalysisOp>(op: K, ...args: AnalysisArgs<K>): Promise<AnalysisResult<K>> {
    if (this.closed) return Promise.reject(new Error('the analysis thread is closed'));
    const lane: Lane = QUICK.has(op) ? 'quick' : 'heavy';
    const w = (this.workers[lane] ??= this.start(lane));
    if (lane === 'heavy' && this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { lane, resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ id, op, args } satisfies OpRequest);
    });
  }

  /** Ops in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const ws = Object.values(this.workers).filter((w): w is Worker => !!w);
    this.workers = { quick: null, heavy: null };
    for (const p of this.pending.values()) p.reject(new Error('the analysis thread is closed'));
    this.pending.clear();
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
