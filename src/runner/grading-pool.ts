/**
 * Grading where it cannot block the process (DESIGN.md §5, "graders never hang"): the built-in text scorers
 * (`math`, `gsm8k`, `exact`, `choice`, `needle`) grade in a worker thread, so a verdict that hangs (a pathological
 * answer, a bug) never blocks the runner's event loop — its signal handlers (Ctrl-C, SIGTERM), its writes, its
 * lease heartbeat. Each verdict's synchronous part has a hard time limit: a worker stuck past it is terminated and
 * replaced, the verdict is recorded as `grader_timeout`, and the other verdicts it held are graded again by the new
 * worker. A verdict's asynchronous part (the math scorer's symbolic comparison, which has its own budget and worker)
 * gets the scorer's `timeoutMs` on top. Workers run with a heap limit, so a verdict that eats memory ends its worker,
 * not the process (`grader_error`).
 *
 * Cost (bench/grading-pool.ts): requests are sent in batches (one message per event-loop turn each way); a verdict
 * costs a few microseconds of CPU over grading it inline. The pool is one per process, started on first use; idle
 * workers are unref'd and never keep the process alive.
 *
 * Scorers that stay in the calling thread: the judge (it waits on HTTP, with its own timeouts and retries) and
 * scorers registered by user code (they exist only in the process that registered them; they must keep their own
 * budget).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Sample } from '../core/schemas.ts';
import type { Verdict } from '../scorers/types.ts';

/** Default hard limit of a verdict's synchronous part, in ms. */
export const GRADE_HARD_LIMIT_MS = 5_000;
/** Heap limit of a grading worker, in MB. */
const WORKER_HEAP_MB = 512;
/**
 * A grading worker's young generation, in MB: verdicts allocate short-lived strings, and V8's default young generation
 * (up to 48 MB per thread) only holds garbage longer; 6 MB took about 15 MB off the peak RSS of a 21k-attempt run
 * (bench/memory.ts) with no change in throughput.
 */
const WORKER_YOUNG_MB = 6;

/** One verdict as the worker receives it (src/runner/grading-worker.ts). */
export interface GradingJob {
  id: number;
  label: string;
  /** The module that registers the scorer in the worker (user scorers), imported there before grading. */
  module?: string;
  sample: Sample;
  response: string;
}

interface Job extends GradingJob {
  /**
   * Epoch ms after which a verdict waiting on its asynchronous part is a timeout (set when the worker says the part
   * started; the synchronous part is watched through `busy`), and that limit in ms.
   */
  deadline: number;
  limitMs: number;
  /** Workers that died (crashed, not stuck) holding this job: after {@link MAX_WORKER_DEATHS} it is a grader error. */
  deaths: number;
  resolve: (v: Verdict) => void;
}

/** A job whose workers died this many times (a worker that cannot start, a verdict that crashes it) is a grader error. */
const MAX_WORKER_DEATHS = 3;

interface Slot {
  worker: Worker;
  /** [start of the current synchronous verdict (epoch ms, 0 when none), its job id], written by the worker. */
  busy: Float64Array;
  jobs: Map<number, Job>;
  dead: boolean;
  /** Loaded (its start-up modules imported). */
  ready: boolean;
}

const timeoutVerdict = (ms: number): Verdict => ({ value: null, extracted: null, explanation: `grader stopped: the verdict exceeded its hard limit of ${ms} ms`, status: 'grader_timeout' });
const errorVerdict = (why: string): Verdict => ({ value: null, extracted: null, explanation: `grader error: ${why}`, status: 'grader_error' });

/** The worker module: compiled JavaScript in dist/; from source, a boot module that registers tsx, then the .ts. */
function workerEntry(): { url: URL; entry: string | null } {
  if (!import.meta.url.endsWith('.ts')) return { url: new URL('./grading-worker.js', import.meta.url), entry: null };
  return { url: new URL('./grading-worker-boot.mjs', import.meta.url), entry: new URL('./grading-worker.ts', import.meta.url).href };
}

/** A pool of grading workers. */
export class GradingPool {
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private flushing = false;
  private nextId = 1;
  private watchdog: NodeJS.Timeout | null = null;
  private readonly size: number;
  readonly hardLimitMs: number;

  private readonly modules: string[];

  /**
   * `workers`: threads (default: cores − 1, at least 1, at most 2 — the main thread needs a core for HTTP and
   * writes); `hardLimitMs`: see the module comment; `modules`: module URLs each worker imports before grading (they
   * may register scorers, which `grade` can then name).
   */
  constructor(o: { workers?: number; hardLimitMs?: number; modules?: string[] } = {}) {
    this.size = Math.max(1, o.workers ?? Math.min(2, Math.max(1, availableParallelism() - 1)));
    this.hardLimitMs = o.hardLimitMs ?? GRADE_HARD_LIMIT_MS;
    this.modules = o.modules ?? [];
  }

  /**
   * Grade `response` with the scorer `label` in a worker (a built-in, or one that `module` registers there). `extraMs`:
   * time the verdict's asynchronous part may take on top of the hard limit (the scorer's own budget). Never rejects:
   * failures are verdicts.
   */
  grade(label: string, sample: Sample, response: string, extraMs = 0, module?: string): Promise<Verdict> {
    return new Promise((resolve) => {
      // The sample without its input: the text scorers read the target, choices and metadata, and a needle
      // haystack would be copied for nothing.
      const slim: Sample = { id: sample.id, input: '', target: sample.target, ...(sample.choices ? { choices: sample.choices } : {}), metadata: sample.metadata };
      this.queue.push({ id: this.nextId++, label, module, sample: slim, response, deadline: Infinity, limitMs: this.hardLimitMs + extraMs, deaths: 0, resolve });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Worker threads running now. */
  get workers(): number {
    return this.slots.length;
  }

  /** Terminate every worker; verdicts in flight resolve as grader errors. */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    for (const j of this.queue.splice(0)) j.resolve(errorVerdict('grading pool closed'));
    for (const s of slots) for (const j of s.jobs.values()) j.resolve(errorVerdict('grading pool closed'));
    this.stopWatchdog();
    await Promise.all(slots.map((s) => ((s.dead = true), s.worker.terminate())));
  }

  /**
   * Terminate the workers that hold no verdict; the next `grade` starts new ones (about 0.1 s). A finished run calls
   * this (src/runner/run.ts) so that the analyses after it do not carry the idle workers' memory (about 20 MB each at
   * the end of bench/memory.ts's runs). Verdicts in flight or queued are untouched.
   */
  async releaseIdle(): Promise<void> {
    if (this.queue.length || this.flushing) return;
    const idle = this.slots.filter((s) => s.jobs.size === 0);
    this.slots = this.slots.filter((s) => s.jobs.size > 0);
    if (!this.slots.length) this.stopWatchdog();
    await Promise.all(idle.map((s) => ((s.dead = true), s.worker.terminate())));
  }

  private flush(): void {
    this.flushing = false;
    if (!this.queue.length) return;
    while (this.slots.length < this.size) this.spawn();
    // Spread the queue over the workers, fewest jobs first.
    const batches = new Map<Slot, Job[]>();
    for (const job of this.queue.splice(0)) {
      const slot = this.slots.reduce((a, b) => (a.jobs.size + (batches.get(a)?.length ?? 0) <= b.jobs.size + (batches.get(b)?.length ?? 0) ? a : b));
      let b = batches.get(slot);
      if (!b) batches.set(slot, (b = []));
      b.push(job);
    }
    for (const [slot, jobs] of batches) {
      for (const j of jobs) {
        j.deadline = Infinity;
        slot.jobs.set(j.id, j);
      }
      slot.worker.ref();
      slot.worker.postMessage(jobs.map((j) => ({ id: j.id, label: j.label, module: j.module, sample: j.sample, response: j.response })));
    }
    this.startWatchdog();
  }

  private spawn(): Slot {
    const { url, entry } = workerEntry();
    const busy = new SharedArrayBuffer(16);
    const worker = new Worker(url, { workerData: { busy, modules: this.modules, entry }, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
    const slot: Slot = { worker, busy: new Float64Array(busy), jobs: new Map(), dead: false, ready: false };
    worker.on('message', (msg: { done: { id: number; verdict: Verdict }[]; pending: number[] } | { ready: true }) => {
      if ('ready' in msg) {
        slot.ready = true;
        return;
      }
      const now = Date.now();
      for (const id of msg.pending) {
        const job = slot.jobs.get(id);
        if (job) job.deadline = now + job.limitMs;
      }
      for (const { id, verdict } of msg.done) {
        const job = slot.jobs.get(id);
        if (!job) continue;
        slot.jobs.delete(id);
        job.resolve(verdict);
      }
      if (!slot.jobs.size) worker.unref();
    });
    const lost = (why: string) => {
      if (slot.dead) return;
      if (process.env.ASSAY_DEBUG_GRADING) process.stderr.write(`grading pool: ${why}\n`);
      this.retire(slot, null, why);
    };
    worker.on('error', (err) => lost(`grading worker failed: ${err.message}`));
    worker.on('exit', (code) => lost(`grading worker exited (${code})`));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  /**
   * Take a worker out of service: `stuck` (the job it is stuck in) resolves as a timeout, or, when the worker died
   * (`why`), the job it was running resolves as a grader error; the rest of its jobs go back in the queue.
   */
  private retire(slot: Slot, stuck: number | null, why: string): void {
    slot.dead = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    const culprit = stuck ?? (slot.busy[0] ? slot.busy[1]! : null);
    for (const job of slot.jobs.values()) {
      if (job.id === culprit) job.resolve(stuck != null ? timeoutVerdict(this.hardLimitMs) : errorVerdict(why));
      else if (stuck == null && ++job.deaths >= MAX_WORKER_DEATHS) job.resolve(errorVerdict(why));
      else this.queue.push(job);
    }
    slot.jobs.clear();
    void slot.worker.terminate();
    if (this.queue.length && !this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  private startWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = setInterval(() => this.check(), Math.max(10, Math.min(250, this.hardLimitMs / 4)));
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  /** Terminate workers stuck in one verdict past the hard limit; time out verdicts past their deadline. */
  private check(): void {
    const now = Date.now();
    let pending = this.queue.length;
    for (const slot of [...this.slots]) {
      const since = slot.busy[0]!;
      if (since && now - since > this.hardLimitMs && slot.jobs.has(slot.busy[1]!)) {
        this.retire(slot, slot.busy[1]!, 'stuck');
        continue;
      }
      for (const job of slot.jobs.values()) {
        if (now > job.deadline) {
          slot.jobs.delete(job.id);
          job.resolve(timeoutVerdict(job.limitMs));
        }
      }
      pending += slot.jobs.size;
    }
    if (!pending) this.stopWatchdog();
  }
}

let shared: GradingPool | null = null;
/**
 * The process-wide grading pool (started on first use). Its hard limit is {@link GRADE_HARD_LIMIT_MS}, or
 * `$ASSAY_GRADER_HARD_LIMIT_MS` when set to a positive number of milliseconds.
 */
export function sharedGradingPool(): GradingPool {
  if (!shared) {
    const env = Number(process.env.ASSAY_GRADER_HARD_LIMIT_MS);
    shared = new GradingPool(Number.isFinite(env) && env > 0 ? { hardLimitMs: env } : {});
  }
  return shared;
}

/** {@link GradingPool.releaseIdle} on the process-wide pool, if it was ever started. */
export async function releaseIdleGradingWorkers(): Promise<void> {
  await shared?.releaseIdle();
}
