/**
 * The acceptance test of distributed runs: 60 GSM8K questions × 2 epochs enqueued with `assay run --queue`, made by
 * four `assay worker` processes that are killed with SIGKILL at random (seeded) times and restarted, the pool and the
 * queue in one real PostgreSQL database (testkit/postgres.ts). It ends with every planned attempt stored exactly once,
 * one intact evidence chain, and the statistics (`assay stats --json`) of a one-process `assay run` of the same spec
 * against the same deterministic fake server.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRng } from '../../src/core/rng.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { verifyRun } from '../../src/evidence/bundle.ts';
import { openQueue } from '../../src/queue/connection.ts';
import { queueProgress } from '../../src/queue/progress.ts';
import { openPool } from '../../src/store/open.ts';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { freshDatabase, postgresUnavailable } from '../../testkit/postgres.ts';
import { shared } from '../../testkit/shared.ts';

const SKIP = postgresUnavailable() ?? false;
const GSM8K = shared('data/gsm8k/test.jsonl');
const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'assay-distributed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function assay(args: string[]): { child: ChildProcess; done: Promise<Done> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return { child, done: new Promise((res) => child.on('close', (code, signal) => res({ code, signal, out, err }))) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a run over 4 worker processes killed with SIGKILL at random and restarted: each attempt stored once, the statistics of a one-process run', { skip: SKIP }, async (t) => {
  const answers = new Map((await loadDataset(`gsm8k:${GSM8K}`)).samples.map((s) => [s.input as string, s.target]));
  // Deterministic answers (right 70% of the time, by a hash of the question, seed and temperature), 400 ms each: slow
  // enough that the kills land while the run goes.
  const server = await startFakeOpenAIServer({ answers, accuracy: 0.7, modelId: 'fake-gsm8k', latencyMs: 400 });
  const db = await freshDatabase();
  const spec = ['--dataset', `gsm8k:${GSM8K}`, '--limit', '60', '--epochs', '2', '--temperature', '0.6', '--seed', '0', '--model', `openai-compatible:${server.url}#fake-gsm8k`];
  const workers = new Set<{ child: ChildProcess; done: Promise<Done>; ready: Promise<void> }>();
  const exits: Done[] = [];
  const startWorker = () => {
    const a = assay(['worker', '--queue', db, '--concurrency', '2']);
    // Ready once it takes jobs (its signal handlers are in place by then).
    const ready = new Promise<void>((res) => {
      const seen = (d: Buffer) => {
        if (!/taking jobs/.test(String(d))) return;
        a.child.stderr!.off('data', seen);
        res();
      };
      a.child.stderr!.on('data', seen);
      void a.done.then(() => res());
    });
    const w = { ...a, ready };
    workers.add(w);
    void w.done.then((d) => {
      workers.delete(w);
      exits.push(d);
    });
  };
  const q = await openQueue(db);
  const pool = await openPool(db, { create: true });
  try {
    // The same spec made by one `assay run` process in a SQLite pool, meanwhile (it does not touch the queue).
    const local = join(dir, 'one-process.sqlite');
    const one = assay(['run', ...spec, '--concurrency', '32', '--pool', local, '--json']).done;
    const enq = await assay(['run', ...spec, '--queue', db, '--pool', db, '--job-size', '6', '--heartbeat', '3']).done;
    assert.equal(enq.code, 0, enq.err);
    const runId = enq.out.trim();
    assert.match(runId, /^[0-9a-f]{16}$/);
    assert.match(enq.err, /120 planned attempts, 0 already stored, 0 already queued; enqueued 120 in 20 job\(s\)/);
    assert.match(enq.err, /assay worker --queue/);

    for (let i = 0; i < 4; i++) startWorker();
    const rng = createRng(7);
    let kills = 0;
    const t0 = performance.now();
    for (;;) {
      const p = await queueProgress(runId, { queue: q, pool });
      if (p.status === 'complete') break;
      // A bound for a loaded machine; the run takes about 15 s on two idle cores.
      assert.ok(performance.now() - t0 < 120_000, `the run did not finish in 120 s: ${JSON.stringify(p)}`);
      // Once attempts are being stored, kill a random worker four times, 0.5–1.5 s apart, starting another at once.
      if (kills < 4 && p.done >= 5 && p.done < 100 && workers.size) {
        const victim = [...workers][rng.int(workers.size)]!;
        victim.child.kill('SIGKILL');
        await victim.done;
        kills++;
        startWorker();
        await sleep(500 + rng.int(1000));
      } else await sleep(200);
    }
    const seconds = (performance.now() - t0) / 1000;
    await Promise.all([...workers].map((w) => w.ready));
    for (const w of [...workers]) w.child.kill('SIGTERM');
    await Promise.all([...workers].map((w) => w.done));
    const killed = exits.filter((e) => e.signal === 'SIGKILL');
    const stopped = exits.filter((e) => e.signal !== 'SIGKILL');
    assert.equal(killed.length, kills);
    assert.equal(kills, 4);
    for (const e of stopped) assert.equal(e.code, 0, `a worker stopped with SIGTERM exits 0:\n${e.err}`);
    for (const e of exits) assert.doesNotMatch(e.err, /\n\s+at [^\n]+:\d+:\d+\)?/, `no stack trace:\n${e.err}`);

    // Exactly once: 120 attempts, 120 distinct keys, each with its measurement.
    const keys: string[] = [];
    for await (const a of pool.iterateAttempts(runId)) keys.push(`${a.sample_id}#${a.epoch}`);
    assert.equal(keys.length, 120);
    assert.equal(new Set(keys).size, 120);
    assert.deepEqual(await pool.counts(runId), { attempts: 120, ok: 120, error: 0, measurements: 120 });
    // One unbroken evidence chain, whoever wrote and whoever died.
    const evidence = await verifyRun(pool, runId);
    assert.deepEqual(evidence.problems.filter((p) => p.problem !== 'unsigned'), []);
    assert.equal(evidence.links, 241);
    // The kills hit jobs in hand: some were given out again after their heartbeat lapsed.
    const retried = await q.query<{ n: string }>(`SELECT count(*) AS n FROM pgboss.job WHERE name = 'assay_attempts' AND retry_count > 0`);
    assert.ok(Number(retried.rows[0]!.n) >= 1, 'at least one job was given out again');
    const status = await assay(['queue', 'status', runId, '--queue', db, '--json']).done;
    assert.equal(status.code, 0, status.err);
    const s = JSON.parse(status.out);
    assert.deepEqual([s.status, s.planned, s.done, s.failed, s.in_flight, s.queued, s.jobs.completed.jobs], ['complete', 120, 120, 0, 0, 0, 20]);

    // The one-process run: the same run id and the same statistics.
    const single = await one;
    assert.equal(single.code, 0, single.err);
    assert.equal(JSON.parse(single.out).run.run_id, runId);
    const [a, b] = await Promise.all([assay(['stats', runId, '--pool', db, '--json']).done, assay(['stats', runId, '--pool', local, '--json']).done]);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    const distributed = JSON.parse(a.out);
    assert.deepEqual(distributed.statistics, JSON.parse(b.out).statistics);
    assert.equal(distributed.run.status, 'complete');
    const acc = distributed.statistics[0].statistics.accuracy;
    t.diagnostic(`${kills} workers killed, ${Number(retried.rows[0]!.n)} jobs given out again, ${server.stats.byOutcome.ok} answers for 120 attempts; accuracy ${(100 * acc).toFixed(1)}% both ways; ${seconds.toFixed(1)} s of distributed run`);
  } finally {
    for (const w of [...workers]) w.child.kill('SIGKILL');
    await pool.close();
    await q.close();
    await server.close();
  }
});
