/**
 * A small pool of `worker_threads` workers running the compute-engine comparison (`worker.mjs`), so that a
 * symbolic comparison can never block the caller: each job has a deadline; a worker that overruns it is
 * terminated and replaced, and the job resolves as `timeout`. Idle workers are `unref`'d so they never keep
 * the process alive.
 */
import { Worker } from 'node:worker_threads';
import type { Tri } from './compare.ts';

/** Outcome of a symbolic job. */
export type SymbolicResult = { kind: 'ok'; results: Tri[] } | { kind: 'timeout' } | { kind: 'error'; message: string };

interface Job {
  id: number;
  pairs: Array<[string, string]>;
  relTol: number;
  deadline: number;
  resolve: (r: SymbolicResult) => void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

const WORKER_URL = new URL('./worker.mjs', import.meta.url);

/** A pool of symbolic-comparison workers. `size` workers at most (default 2), created lazily. */
export class SymbolicPool {
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  constructor(private readonly size = 2) {}

  /**
   * Compare atom pairs `[gold, prediction]` in a worker, within `deadline` (epoch ms).
   * Never rejects: a worker crash is `{kind:'error'}`, an overrun `{kind:'timeout'}`.
   */
  compare(pairs: Array<[string, string]>, relTol: number, deadline: number): Promise<SymbolicResult> {
    return new Promise((resolve) => {
      const job: Job = { id: this.nextId++, pairs, relTol, deadline, resolve };
      const ms = deadline - Date.now();
      if (ms <= 0) return resolve({ kind: 'timeout' });
      job.timer = setTimeout(() => this.expire(job), ms);
      this.queue.push(job);
      this.pump();
    });
  }

  /** Terminate all workers (pending jobs resolve as errors). */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    for (const j of this.queue) this.finish(j, { kind: 'error', message: 'pool closed' });
    this.queue = [];
    await Promise.all(slots.map((s) => {
      if (s.job) this.finish(s.job, { kind: 'error', message: 'pool closed' });
      return s.worker.terminate();
    }));
  }

  private finish(job: Job, r: SymbolicResult): void {
    if (job.timer) clearTimeout(job.timer);
    job.timer = undefined;
    job.resolve(r);
  }

  private expire(job: Job): void {
    const qi = this.queue.indexOf(job);
    if (qi >= 0) this.queue.splice(qi, 1);
    const slot = this.slots.find((s) => s.job === job);
    if (slot) {
      // the worker may be stuck in a runaway computation: kill it; a fresh one is made on demand
      this.slots.splice(this.slots.indexOf(slot), 1);
      void slot.worker.terminate();
    }
    job.timer = undefined;
    job.resolve({ kind: 'timeout' });
    this.pump();
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL);
    const slot: Slot = { worker, job: null };
    worker.on('message', (msg: { id?: number; results?: Tri[]; error?: string }) => {
      const job = slot.job;
      if (!job || msg.id !== job.id) return;
      slot.job = null;
      worker.unref();
      this.finish(job, msg.results ? { kind: 'ok', results: msg.results } : { kind: 'error', message: msg.error ?? 'worker error' });
      this.pump();
    });
    const fail = (err: unknown) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      if (slot.job) {
        const job = slot.job;
        slot.job = null;
        this.finish(job, { kind: 'error', message: `worker failed: ${String(err)}` });
      }
      this.pump();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.slots.includes(slot)) fail(new Error(`exit ${code}`));
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, pairs: job.pairs, relTol: job.relTol });
    }
  }
}

let shared: SymbolicPool | null = null;
/** The process-wide pool used by the `math` scorer. */
export function sharedPool(): SymbolicPool {
  if (!shared) shared = new SymbolicPool(2);
  return shared;
}
