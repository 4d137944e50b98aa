/**
 * Distributed runs (src/queue/) on a real PostgreSQL server (testkit/postgres.ts) — the queue and the pool in one
 * database — with workers in this process (each with its own connections, sharing nothing but PostgreSQL) against the
 * fake OpenAI-compatible server. Real GSM8K questions from ../shared. The kill -9 acceptance test, with worker
 * processes, is distributed.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/core/errors.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { verifyRun } from '../../src/evidence/bundle.ts';
import { statisticsOfRun } from '../../src/analyses/statistics.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { openQueue, type QueueConnection } from '../../src/queue/connection.ts';
import { enqueueRun, liveKeys } from '../../src/queue/enqueue.ts';
import { endpointLimits, setEndpointLimit } from '../../src/queue/limits.ts';
import { queueProgress } from '../../src/queue/progress.ts';
import { runWorker, type WorkerReport } from '../../src/queue/worker.ts';
import { openPool } from '../../src/store/open.ts';
import type { Pool } from '../../src/store/types.ts';
import { datasetTask, defineTask } from '../../src/tasks/index.ts';
import type { Generate, TaskState } from '../../src/solvers/types.ts';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { freshDatabase, postgresUnavailable } from '../../testkit/postgres.ts';
import { shared } from '../../testkit/shared.ts';

const SKIP = postgresUnavailable() ?? false;
const GSM8K = shared('data/gsm8k/test.jsonl');
const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const answers = SKIP ? new Map<string, string>() : new Map((await loadDataset(`gsm8k:${GSM8K}`)).samples.map((s) => [s.input as string, s.target]));
const gsm8k = () => datasetTask(`gsm8k:${GSM8K}`);

/** Workers in this process until `done()` says the run is over; their reports. */
async function withWorkers(db: string, n: number, done: () => Promise<boolean>, o: { concurrency?: number } = {}): Promise<WorkerReport[]> {
  const ac = new AbortController();
  const workers = Array.from({ length: n }, () => runWorker({ queue: db, concurrency: o.concurrency ?? 4, signal: ac.signal, pollMs: 100, maintenanceIntervalSeconds: 1, statusEveryMs: 0 }));
  try {
    const t0 = performance.now();
    while (!(await done())) {
      if (performance.now() - t0 > 40_000) throw new Error('the run did not finish within 40 s');
      await new Promise((r) => setTimeout(r, 150));
    }
  } finally {
    ac.abort();
  }
  return Promise.all(workers);
}

/** The run is over: no job of it is waiting or held, and a worker marked it complete or failed. */
const finished = (q: QueueConnection, pool: Pool, runId: string) => async () => {
  const p = await queueProgress(runId, { queue: q, pool });
  return (p.status === 'complete' || p.status === 'failed') && p.jobs.created.jobs + p.jobs.retry.jobs + p.jobs.active.jobs === 0;
};

/** Every stored attempt of a run, as `sample#epoch` keys (duplicates kept, to be counted). */
async function storedKeys(pool: Pool, runId: string): Promise<string[]> {
  const out: string[] = [];
  for await (const a of pool.iterateAttempts(runId)) out.push(`${a.sample_id}#${a.epoch}`);
  return out;
}

test('three workers make every planned attempt once; the run is the one `evaluate` makes in one process', { skip: SKIP }, async () => {
  const db = await freshDatabase();
  const server = await startFakeOpenAIServer({ answers, accuracy: 0.7, modelId: 'fake-q', latencyMs: 5 });
  const model = `openai-compatible:${server.url}#fake-q`;
  const settings = { limit: 40, epochs: 2, config: { temperature: 0.6, seed: 0 } };
  const q = await openQueue(db);
  const pool = await openPool(db, { create: true });
  try {
    const r = await enqueueRun(gsm8k(), model, { ...settings, pool: db, queue: q, jobSize: 6 });
    const run = r.runs[0]!;
    assert.deepEqual([run.planned, run.stored, run.queued_before, run.enqueued, run.jobs], [80, 0, 0, 80, 14]);
    // Enqueuing again before any worker ran: every attempt is already in a live job.
    const again = (await enqueueRun(gsm8k(), model, { ...settings, pool: db, queue: q, jobSize: 6 })).runs[0]!;
    assert.equal(again.run_id, run.run_id);
    assert.deepEqual([again.queued_before, again.enqueued, again.jobs], [80, 0, 0]);
    const before = await queueProgress(run.run_id, { queue: q, pool });
    assert.deepEqual([before.planned, before.done, before.queued, before.in_flight, before.jobs.created.jobs], [80, 0, 80, 0, 14]);
    // A queued run is listed as queued (no worker holds a run lease), not as interrupted.
    assert.equal((await pool.getRun(run.run_id))!.status, 'queued');
    assert.equal((await pool.listRuns()).find((x) => x.id === run.run_id)!.status, 'queued');

    const reports = await withWorkers(db, 3, finished(q, pool, run.run_id));
    assert.equal(reports.reduce((n, w) => n + w.attempts_made, 0), 80, 'the workers made 80 attempts between them');
    assert.equal(reports.reduce((n, w) => n + w.jobs_completed, 0), 14);
    assert.equal(server.stats.byOutcome.ok, 80, 'each planned attempt was asked of the server once');
    {
      const keys = await storedKeys(pool, run.run_id);
      assert.equal(keys.length, 80);
      assert.equal(new Set(keys).size, 80, 'no attempt stored twice');
      assert.deepEqual(await pool.counts(run.run_id), { attempts: 80, ok: 80, error: 0, measurements: 80 });
      const stored = (await pool.getRun(run.run_id))!;
      assert.equal(stored.status, 'complete');
      assert.deepEqual(stored.manifest.provider.reported_model_ids, ['fake-q']);
      assert.equal((await pool.getEvalSet(r.eval_set_id))!.status, 'complete');
      // One unbroken evidence chain although three processes wrote the run (each batch under the run's lease).
      const evidence = await verifyRun(pool, run.run_id);
      assert.equal(evidence.status, 'unsigned');
      assert.deepEqual(evidence.problems.filter((p) => p.problem !== 'unsigned'), []);
      assert.equal(evidence.links, 1 + 80 + 80);
      const after = await queueProgress(run.run_id, { queue: q, pool });
      assert.deepEqual([after.done, after.failed, after.remaining, after.in_flight, after.queued, after.jobs.completed.jobs], [80, 0, 0, 0, 0, 14]);

      // The same run made by `evaluate` in one process: the same id, the same statistics.
      const local = await openPool('memory:');
      const ev = await evaluate(gsm8k(), model, { ...settings, pool: local });
      assert.equal(ev.cells[0]!.run_id, run.run_id);
      const a = await statisticsOfRun(pool, run.run_id);
      const b = await statisticsOfRun(local, run.run_id);
      assert.deepEqual(a.statistics, b.statistics);
      assert.ok(a.statistics[0]!.statistics.accuracy > 0.5 && a.statistics[0]!.statistics.accuracy < 0.9, 'the fake server is right about 70% of the time');
      await local.close();
    }
  } finally {
    await pool.close();
    await q.close();
    await server.close();
  }
});

test('a job delivered again makes only what is missing; failures are retried; enqueuing a complete run enqueues nothing', { skip: SKIP }, async () => {
  const db = await freshDatabase();
  const server = await startFakeOpenAIServer({ answers, accuracy: 0.7, modelId: 'fake-d', faults: { serverError: { every: 4 } } });
  const model = `openai-compatible:${server.url}#fake-d`;
  const settings = { limit: 24, epochs: 2, config: { temperature: 0.6, seed: 1 }, maxRetries: 0 };
  const q = await openQueue(db);
  const pool = await openPool(db, { create: true });
  try {
    const run = (await enqueueRun(gsm8k(), model, { ...settings, pool: db, queue: q, jobSize: 8 })).runs[0]!;
    assert.equal(run.enqueued, 48);
    await withWorkers(db, 2, finished(q, pool, run.run_id));
    let p = await queueProgress(run.run_id, { queue: q, pool });
    assert.equal(p.status, 'failed', 'every attempt stored, some of them failures');
    assert.equal(p.done + p.failed, 48);
    assert.ok(p.failed >= 6, `one request in four failed (${p.failed} failures)`);
    const failedBefore = p.failed;

    // pg-boss gives every job out again (a duplicate delivery), the server now healthy: only the failures are asked.
    server.setFaults({});
    server.resetStats();
    const jobs = await q.query<{ data: object }>(`SELECT data FROM pgboss.job WHERE name = 'assay_attempts' AND state = 'completed'`);
    assert.equal(jobs.rows.length, 6);
    await q.boss.insert(jobs.rows.map((j) => ({ name: 'assay_attempts', data: j.data })));
    const reports = await withWorkers(db, 2, finished(q, pool, run.run_id));
    assert.equal(reports.reduce((n, w) => n + w.attempts_skipped, 0), 48 - failedBefore, 'attempts stored ok were skipped');
    assert.equal(reports.reduce((n, w) => n + w.attempts_made, 0), failedBefore);
    assert.equal(server.stats.byOutcome.ok, failedBefore, 'only the failed attempts were asked again');
    p = await queueProgress(run.run_id, { queue: q, pool });
    assert.deepEqual([p.status, p.done, p.failed], ['complete', 48, 0]);
    const keys = await storedKeys(pool, run.run_id);
    assert.deepEqual([keys.length, new Set(keys).size], [48, 48]);
    const again = (await enqueueRun(gsm8k(), model, { ...settings, pool: db, queue: q, jobSize: 8 })).runs[0]!;
    assert.deepEqual([again.stored, again.enqueued, again.jobs], [48, 0, 0]);
  } finally {
    await pool.close();
    await q.close();
    await server.close();
  }
});

test('a job whose worker died (no heartbeat) is given to another worker once it expires', { skip: SKIP }, async () => {
  const db = await freshDatabase();
  const server = await startFakeOpenAIServer({ answers, accuracy: 0.7, modelId: 'fake-x' });
  const model = `openai-compatible:${server.url}#fake-x`;
  const q = await openQueue(db);
  const pool = await openPool(db, { create: true });
  try {
    const run = (await enqueueRun(gsm8k(), model, { limit: 12, epochs: 1, pool: db, queue: q, jobSize: 4, heartbeatSeconds: 2, retryDelaySeconds: 0 })).runs[0]!;
    // A worker takes a job and dies before doing anything with it: the job stays active, nobody renews it.
    const [taken] = await q.boss.fetch<{ run_id: string }>('assay_attempts', { batchSize: 1 });
    assert.ok(taken);
    await withWorkers(db, 1, finished(q, pool, run.run_id));
    const job = await q.boss.getJobById('assay_attempts', taken.id, { includeArchive: true });
    assert.equal(job?.state, 'completed');
    assert.equal(job?.retryCount, 1, 'given out a second time, once its heartbeat lapsed');
    const p = await queueProgress(run.run_id, { queue: q, pool });
    assert.deepEqual([p.status, p.done], ['complete', 12]);
  } finally {
    await pool.close();
    await q.close();
    await server.close();
  }
});

test('the endpoint limits hold over all workers: at most 3 requests in flight, and starts spaced by the rate', { skip: SKIP }, async () => {
  const db = await freshDatabase();
  const server = await startFakeOpenAIServer({ answers, accuracy: 0.7, modelId: 'fake-l', latencyMs: 40 });
  const model = `openai-compatible:${server.url}#fake-l`;
  const q = await openQueue(db);
  const pool = await openPool(db, { create: true });
  try {
    const run = (await enqueueRun(gsm8k(), model, { limit: 30, epochs: 1, pool: db, queue: q, jobSize: 5, endpointLimits: { maxConcurrency: 3 } })).runs[0]!;
    assert.deepEqual(run.limits, { endpoint: server.url, max_concurrency: 3, rpm: null });
    // Three workers that could send 8 each: the server never sees more than 3 at once, and does see 3.
    await withWorkers(db, 3, finished(q, pool, run.run_id), { concurrency: 8 });
    assert.equal(server.stats.byOutcome.ok, 30);
    assert.equal(server.stats.maxConcurrency, 3);
    assert.deepEqual(await endpointLimits(q), [{ endpoint: server.url, max_concurrency: 3, rpm: null, held: 0 }]);
  } finally {
    await server.close();
  }

  // A rate of 240 requests per minute (one start every 250 ms) over three workers, on a server that answers at once.
  const arrivals: number[] = [];
  const fast = await startFakeOpenAIServer({ modelId: 'fake-r', answer: () => (arrivals.push(performance.now()), { content: 'The answer is 1.' }) });
  try {
    const fastModel = `openai-compatible:${fast.url}#fake-r`;
    await setEndpointLimit(q, fast.url, { rpm: 240 });
    const run = (await enqueueRun(gsm8k(), fastModel, { limit: 12, epochs: 1, pool: db, queue: q, jobSize: 2 })).runs[0]!;
    assert.deepEqual(run.limits, { endpoint: fast.url, max_concurrency: null, rpm: 240 });
    await withWorkers(db, 3, finished(q, pool, run.run_id), { concurrency: 4 });
    assert.equal(arrivals.length, 12);
    arrivals.sort((a, b) => a - b);
    // Starts are reserved 250 ms apart on the database's clock; an arrival may be late (scheduling on a busy machine:
    // up to 500 ms allowed here), never early. Without the limit the twelve requests arrive within a few milliseconds.
    for (let i = 0; i + 7 < arrivals.length; i++) assert.ok(arrivals[i + 7]! - arrivals[i]! >= 7 * 250 - 500, `8 requests within ${(arrivals[i + 7]! - arrivals[i]!).toFixed(0)} ms`);
    assert.ok(arrivals[11]! - arrivals[0]! >= 11 * 250 - 500, `12 requests within ${(arrivals[11]! - arrivals[0]!).toFixed(0)} ms`);
    // Removing the limits.
    assert.deepEqual(await setEndpointLimit(q, fast.url, { rpm: null }), { endpoint: fast.url, max_concurrency: null, rpm: null });
    assert.deepEqual((await endpointLimits(q)).map((l) => l.endpoint), [server.url]);
  } finally {
    await pool.close();
    await q.close();
    await fast.close();
  }
});

test('bad input is refused before anything is enqueued', { skip: SKIP }, async () => {
  const db = await freshDatabase();
  const server = await startFakeOpenAIServer({ answers, modelId: 'fake-b' });
  const model = `openai-compatible:${server.url}#fake-b`;
  const q = await openQueue(db);
  try {
    // A solver given as a function cannot be rebuilt by a worker from the stored spec.
    const custom = defineTask({
      name: 'custom-solver', dataset: `gsm8k:${GSM8K}`, scorers: ['gsm8k'],
      solver: async function mine(s: TaskState, g: Generate) {
        return g(s);
      },
    });
    await assert.rejects(enqueueRun(custom, model, { limit: 3, pool: db, queue: q }), (e: unknown) => e instanceof InputError && /cannot be rebuilt/.test(e.message));
    await assert.rejects(enqueueRun(gsm8k(), model, { limit: 3, pool: db, queue: q, jobSize: 0 }), (e: unknown) => e instanceof InputError && /--job-size/.test(e.message));
    await assert.rejects(enqueueRun(gsm8k(), model, { limit: 3, pool: db, queue: 'mysql://x/y' }), (e: unknown) => e instanceof InputError && /PostgreSQL/.test(e.message));
    await assert.rejects(setEndpointLimit(q, server.url, { rpm: -5 }), InputError);
    await assert.rejects(setEndpointLimit(q, server.url, { maxConcurrency: 1.5 }), InputError);
    const runs = await q.query(`SELECT * FROM assay_queue.runs`);
    assert.equal(runs.rows.length, 0, 'nothing was enqueued');
    assert.equal((await liveKeys(q, 'any')).size, 0);
    assert.equal(server.stats.byOutcome.ok, 0);
  } finally {
    await q.close();
    await server.close();
  }
  // The queue-only flags without --queue: bad usage, said plainly.
  const r = spawnSync(process.execPath, [BIN, 'run', '--dataset', `gsm8k:${GSM8K}`, '--model', 'reference:oracle', '--rpm', '60'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--rpm applies to queued runs: add --queue/);
});
