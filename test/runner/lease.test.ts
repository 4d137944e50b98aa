/**
 * One owner per run (src/runner/lease.ts): a run held by a live process elsewhere is waited for and taken over when
 * its lease lapses; a holder whose process is gone (kill -9) is taken over at once; Ctrl-C while waiting stops
 * without touching the run; the heartbeat keeps a long run's lease; a runner whose lease was taken stops.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { after, before, test } from 'node:test';
import { getTemplate } from '../../src/core/templates.ts';
import { holderIsGone } from '../../src/runner/lease.ts';
import { buildRunSpec, executeRun, type RunOptions } from '../../src/runner/run.ts';
import { runIdOf } from '../../src/runner/plan.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { openPool } from '../../src/store/open.ts';
import type { Pool, RunLease } from '../../src/store/types.ts';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const samples = Array.from({ length: 8 }, (_, i) => ({ id: `s${i}`, input: `Question ${i}: what is ${i}+${i}?`, target: String(2 * i), metadata: {} }));
const gold = (q: string) => {
  const m = /(\d+)\+(\d+)/.exec(q);
  return m ? String(Number(m[1]) + Number(m[2])) : undefined;
};
let server: FakeOpenAIServer;
before(async () => {
  server = await startFakeOpenAIServer({ gold, modelId: 'm' });
});
after(async () => server.close());

const dataset = { ref: 'jsonl:add.jsonl', name: 'add', hash: 'h-add', path: null, samples };
const opts = (pool: Pool, extra: Partial<RunOptions> = {}): RunOptions => ({
  pool, dataset, template: getTemplate('plain'), model: `openai-compatible:${server.url}#m`, config: { chat_template: true }, epochs: 2,
  scorers: [createScorer('math')], concurrency: 2, backoffBaseMs: 1, ...extra,
});
const runIdFor = (o: RunOptions) => runIdOf(buildRunSpec(o));

/** Create the run without running it (a plan in the pool), so that a lease can be put on it first. */
async function planned(pool: Pool): Promise<string> {
  const o = opts(pool);
  const ac = new AbortController();
  ac.abort();
  const r = await executeRun({ ...o, signal: ac.signal });
  assert.equal(r.run_id, runIdFor(o));
  return r.run_id;
}

test('a run held by a live process elsewhere is waited for, then taken over when the lease lapses', async () => {
  await using pool = await openPool('memory:');
  const runId = await planned(pool);
  assert.equal((await pool.acquireLease(runId, { id: 'elsewhere', pid: 1, host: 'another-host' }, 1200)).acquired, true);
  const waited: RunLease[] = [];
  const t0 = performance.now();
  const r = await executeRun(opts(pool, { lease: { pollMs: 50, onWait: (l) => waited.push(l) } }));
  const ms = performance.now() - t0;
  assert.equal(r.status, 'complete');
  assert.equal(r.counts.ok, 16);
  assert.deepEqual(waited.map((l) => [l.owner, l.host]), [['elsewhere', 'another-host']], 'told once who holds the run');
  assert.ok(ms >= 1000, `waited for the lapse (${ms.toFixed(0)} ms)`);
  assert.equal(await pool.getLease(runId), null, 'released when done');
});

test('a holder on this host whose process is gone (kill -9) is taken over at once', async () => {
  await using pool = await openPool('memory:');
  const runId = await planned(pool);
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(dead.stdout);
  const lease: RunLease = { run_id: runId, owner: 'killed', pid, host: hostname(), acquired_at: '', heartbeat_at: '', expires_at: '' };
  assert.equal(holderIsGone(lease), true);
  assert.equal(holderIsGone({ ...lease, pid: process.pid }), false, 'this process is alive');
  assert.equal(holderIsGone({ ...lease, host: 'another-host' }), false, 'a process on another host cannot be checked');
  await pool.acquireLease(runId, { id: 'killed', pid, host: hostname() }, 60_000);
  const waited: RunLease[] = [];
  const t0 = performance.now();
  const r = await executeRun(opts(pool, { lease: { onWait: (l) => waited.push(l) } }));
  assert.equal(r.status, 'complete');
  assert.equal(waited.length, 0);
  assert.ok(performance.now() - t0 < 5000);
});

test('Ctrl-C while waiting stops at once and leaves the run to its holder', async () => {
  await using pool = await openPool('memory:');
  const runId = await planned(pool);
  await pool.acquireLease(runId, { id: 'busy', pid: process.pid, host: hostname() }, 60_000);
  const ac = new AbortController();
  const r = await executeRun(opts(pool, { signal: ac.signal, lease: { pollMs: 20, onWait: () => setTimeout(() => ac.abort(), 50) } }));
  assert.equal(r.status, 'interrupted');
  assert.match(r.abort_reason ?? '', /waiting for another process/);
  assert.equal(r.executed, 0);
  assert.equal((await pool.counts(runId)).attempts, 0);
  assert.equal((await pool.getLease(runId))!.owner, 'busy', 'the holder keeps its lease');
  assert.equal((await pool.getRun(runId))!.status, 'running', 'the status is the holder\'s to set, never the waiter\'s');
});

test('the heartbeat keeps a long run its own; a runner whose lease is taken stops', async () => {
  server.setFaults(undefined);
  const slow = await startFakeOpenAIServer({ gold, modelId: 'm', latencyMs: 60 });
  try {
    await using pool = await openPool('memory:');
    const o = opts(pool, { model: `openai-compatible:${slow.url}#m`, concurrency: 1, lease: { ttlMs: 150 } });
    // 16 attempts × 60 ms ≈ 1 s, far past the 150 ms ttl: the heartbeat renews it; a waiter is refused meanwhile.
    const running = executeRun(o);
    await new Promise((r) => setTimeout(r, 400));
    const runId = runIdFor(o);
    const seen = await pool.acquireLease(runId, { id: 'intruder' }, 60_000);
    assert.equal(seen.acquired, false, 'the lease is still held after more than two ttls');
    const r = await running;
    assert.equal(r.status, 'complete');
    // Now take the lease away from a running runner: it stops and says why.
    const o2 = { ...o, epochs: 3 };
    const second = executeRun(o2);
    await new Promise((r2) => setTimeout(r2, 300));
    const id2 = runIdFor(o2);
    const holder = (await pool.getLease(id2))!;
    assert.equal((await pool.acquireLease(id2, { id: 'thief', pid: 7, host: 'elsewhere' }, 60_000, { takeOver: holder.owner })).acquired, true);
    const r2 = await second;
    assert.equal(r2.status, 'failed');
    assert.match(r2.abort_reason ?? '', /another process took this run over \(pid 7 on elsewhere\)/);
    assert.equal((await pool.getLease(id2))!.owner, 'thief', 'the stopped runner does not release a lease it no longer holds');
  } finally {
    await slow.close();
  }
});
