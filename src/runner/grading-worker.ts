/**
 * The grading worker (a `worker_threads` thread of src/runner/grading-pool.ts): grades built-in text scorers'
 * verdicts off the main thread, so a verdict that hangs can never block the runner, its signal handlers or its
 * writes. Scorers are rebuilt here from their labels (`createScorer(label)` gives the same grading rules).
 *
 * Messages in: a batch `[{ id, label, module?, sample, response }]`. Out: `{ ready: true }` once loaded, then
 * `{ done: [{ id, verdict }], pending: [id] }` (`pending`: verdicts now waiting on an asynchronous part). Before each verdict's
 * synchronous part the worker writes `[start time (epoch ms), job id]` into the shared `busy` array and clears the time
 * after it, so the pool can tell a stuck verdict (and terminate this thread) from a slow asynchronous one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { GradingJob } from './grading-pool.ts';
import { createScorer } from '../scorers/registry.ts';
import type { Scorer, Verdict } from '../scorers/types.ts';

type Job = GradingJob;

const busy = new Float64Array(workerData.busy as SharedArrayBuffer);
const scorers = new Map<string, Scorer>();
let done: { id: number; verdict: Verdict }[] = [];
let pending: number[] = [];
let scheduled = false;

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    const msg = { done, pending };
    done = [];
    pending = [];
    parentPort!.postMessage(msg);
  });
}

function post(id: number, verdict: Verdict): void {
  done.push({ id, verdict });
  schedule();
}

/** A verdict whose synchronous part returned a promise: its time limit runs from now (told to the pool). */
function waiting(id: number): void {
  pending.push(id);
  schedule();
}

const failed = (e: unknown): Verdict => ({ value: null, extracted: null, explanation: `grader error: ${(e as Error)?.message ?? String(e)}`, status: 'grader_error' });

// Modules to load first (they may register scorers: `GradingPool({ modules })`); jobs wait for them.
const ready = Promise.all(((workerData.modules ?? []) as string[]).map((m) => import(m)));
let loadError: unknown = null;
ready.then(() => parentPort!.postMessage({ ready: true }), (e) => {
  loadError = e;
  parentPort!.postMessage({ ready: true });
});

/** Modules that register user scorers, imported on first use (by URL). */
const imported = new Map<string, Promise<unknown>>();

parentPort!.on('message', (batch: Job[]) => {
  const modules = [...new Set(batch.map((j) => j.module).filter((m): m is string => !!m))];
  const load = Promise.all([ready, ...modules.map((m) => imported.get(m) ?? (imported.set(m, import(m)), imported.get(m)!))]);
  void load.then(() => grade(batch), (e) => {
    for (const job of batch) post(job.id, failed(new Error(`grading worker could not load ${loadError ? 'its modules' : 'the scorer module'}: ${String(loadError ?? e)}`)));
  });
});

function grade(batch: Job[]): void {
  for (const job of batch) {
    let r: Verdict | Promise<Verdict>;
    busy[1] = job.id;
    busy[0] = Date.now();
    try {
      let s = scorers.get(job.label);
      if (!s) scorers.set(job.label, (s = createScorer(job.label)));
      r = s.score(job.sample, job.response);
    } catch (e) {
      r = failed(e);
    }
    busy[0] = 0;
    if (r instanceof Promise) {
      waiting(job.id);
      r.then((v) => post(job.id, v), (e) => post(job.id, failed(e)));
    }
    else post(job.id, r);
  }
}
