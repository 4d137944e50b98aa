/**
 * The runner against a small OpenAI-compatible server written for the tests (no real model can run here):
 * GSM8K test questions, injected faults, resume after SIGKILL. Real GSM8K data from ../shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { getTemplate } from '../../src/core/templates.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { executeRun } from '../../src/runner/run.ts';
import { openSqlitePool } from '../../src/store/sqlite.ts';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { shared } from '../../testkit/shared.ts';

const GSM8K = shared('data/gsm8k/test.jsonl');
const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));

async function gsm8kServer(extra: Parameters<typeof startFakeOpenAIServer>[0] = {}) {
  const ds = await loadDataset(`gsm8k:${GSM8K}`);
  const answers = new Map(ds.samples.map((s) => [s.input as string, s.target]));
  return { ds, server: await startFakeOpenAIServer({ answers, accuracy: 0.7, modelId: 'fake-gsm8k-7b', ...extra }) };
}

test('a run with injected faults finishes, stores every planned attempt exactly once, and matches a fault-free run', async () => {
  const { ds, server } = await gsm8kServer();
  const dir = mkdtempSync(join(tmpdir(), 'assay-run-'));
  const common = { template: getTemplate('plain'), config: { seed: 0, temperature: 0.6, chat_template: true }, epochs: 2, limit: 300, scorers: [createScorer('gsm8k')], concurrency: 16, backoffBaseMs: 5 };
  try {
    const clean = openSqlitePool(join(dir, 'clean.sqlite'));
    const model = `openai-compatible:${server.url}#fake-gsm8k-7b`;
    const r0 = await executeRun({ ...common, pool: clean, dataset: ds, model });
    assert.equal(r0.status, 'complete');
    assert.equal(r0.counts.ok, 600);
    const s0 = (await runStatistics(clean, r0.run_id)).statistics;

    server.setFaults({ rateLimit: { rate: 0.05, seed: 1 }, serverError: { rate: 0.05, seed: 2 }, timeout: { rate: 0.02, seed: 3 }, malformedJson: { rate: 0.03, seed: 4 }, dropConnection: { rate: 0.03, seed: 5 }, badSchema: { rate: 0.02, seed: 6 }, retryAfterSeconds: 1, retryAfterMs: 30 });
    server.resetStats?.();
    const faulty = openSqlitePool(join(dir, 'faulty.sqlite'));
    const r1 = await executeRun({ ...common, pool: faulty, dataset: ds, model, timeoutMs: 400, maxRetries: 8 });
    assert.equal(r1.run_id, r0.run_id, 'timeouts/concurrency/retries are not part of the run id');
    assert.equal(r1.status, 'complete');
    assert.equal(r1.counts.attempts, 600);
    assert.equal(r1.counts.ok, 600, 'every fault was retried to success');
    const outcomes = server.stats.byOutcome;
    for (const k of ['rateLimit', 'serverError', 'timeout', 'malformedJson', 'dropConnection', 'badSchema'] as const) assert.ok(outcomes[k] > 0, `fault ${k} was injected`);
    assert.ok(r1.min_concurrency < 16, 'concurrency was lowered on 429');
    await faulty.flush();
    const db = new Database(join(dir, 'faulty.sqlite'), { readonly: true });
    const dup = db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT sample_id || '#' || epoch) AS d FROM attempts").get() as { n: number; d: number };
    assert.deepEqual(dup, { n: 600, d: 600 });
    const tries = db.prepare('SELECT SUM(tries) AS t FROM attempts').get() as { t: number };
    assert.ok(tries.t > 600, 'retries were recorded');
    db.close();
    const s1 = (await runStatistics(faulty, r1.run_id)).statistics;
    assert.equal(s1.accuracy, s0.accuracy);
    assert.deepEqual(s1.ci95_bootstrap, s0.ci95_bootstrap);
    assert.ok(Math.abs(s0.accuracy - 0.7) < 0.06, `accuracy ${s0.accuracy} near the server's 0.7`);
    assert.deepEqual((await faulty.getRun(r1.run_id))!.manifest.provider.reported_model_ids, ['fake-gsm8k-7b']);
    await clean.close();
    await faulty.close();
  } finally {
    await server.close();
  }
});

test('non-retryable failures become recorded failed attempts; a second run retries only those', async () => {
  const { ds, server } = await gsm8kServer({ accuracy: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'assay-run-'));
  try {
    server.setFaults({ serverError: { every: 3 } });
    const pool = openSqlitePool(join(dir, 'p.sqlite'));
    const opts = { pool, dataset: ds, template: getTemplate('plain'), model: `openai-compatible:${server.url}#m`, config: { chat_template: true }, epochs: 1, limit: 50, scorers: [createScorer('gsm8k')], concurrency: 4, maxRetries: 0, backoffBaseMs: 1 };
    const r1 = await executeRun(opts);
    assert.equal(r1.counts.attempts, 50);
    assert.ok(r1.counts.error > 0);
    assert.equal(r1.status, 'failed', 'a run with failed attempts is not complete');
    assert.match(r1.errors[0]!.error, /HTTP 500/);
    assert.equal(r1.errors[0]!.count, r1.counts.error);
    const st = (await runStatistics(pool, r1.run_id)).statistics;
    assert.equal(st.failed, r1.counts.error, 'failed attempts are counted, not scored 0');
    assert.equal(st.accuracy, 1, 'failed attempts are excluded, not silent zeros');
    server.setFaults(undefined);
    const r2 = await executeRun(opts);
    assert.equal(r2.executed, r1.counts.error);
    assert.deepEqual(r2.counts, { attempts: 50, ok: 50, error: 0, measurements: 50 });
    assert.equal(r2.status, 'complete');
    await pool.close();
  } finally {
    await server.close();
  }
});

test('an endpoint that is down stops the run early with a clear reason (status failed), not after every retry of every sample', async () => {
  const ds = await loadDataset(`gsm8k:${GSM8K}`);
  const pool = openSqlitePool(':memory:');
  // port 9 (discard) on loopback: nothing listens, the connection is refused
  const r = await executeRun({ pool, dataset: ds, template: getTemplate('plain'), model: 'openai-compatible:http://127.0.0.1:9/v1#m', config: { chat_template: true }, epochs: 1, scorers: [createScorer('gsm8k')], concurrency: 4, maxRetries: 1, backoffBaseMs: 1 });
  assert.equal(r.status, 'failed');
  assert.match(r.abort_reason ?? '', /all failed .*connection failed/);
  assert.ok(r.counts.attempts < 100, `stopped early (${r.counts.attempts} attempts stored of 1319)`);
  await pool.close();
});

function runCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<number>((res) => child.on('close', (code, sig) => res(code ?? (sig ? 137 : -1))));
  return { child, done, out: () => stdout, err: () => stderr };
}

test('SIGKILL mid-run, same command again: each planned attempt exactly once and the same statistics', async () => {
  const { server } = await gsm8kServer({ latencyMs: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'assay-kill-'));
  const args = (pool: string) => ['run', '--dataset', `gsm8k:${GSM8K}`, '--model', `openai-compatible:${server.url}#fake-gsm8k-7b`, '--epochs', '2', '--limit', '400', '--seed', '0', '--concurrency', '8', '--json', '--pool', pool];
  try {
    const full = runCli(args(join(dir, 'full.sqlite')));
    assert.equal(await full.done, 0, full.err());
    const fullStats = JSON.parse(full.out()).statistics[0].statistics;

    const killed = join(dir, 'killed.sqlite');
    const a = runCli(args(killed));
    // wait until some attempts are durably stored, then kill -9
    for (let i = 0; i < 400; i++) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        const db = new Database(killed, { readonly: true, fileMustExist: true });
        const n = (db.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n;
        db.close();
        if (n > 100) break;
      } catch {}
    }
    a.child.kill('SIGKILL');
    await a.done;
    const mid = new Database(killed, { readonly: true });
    const partial = (mid.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n;
    mid.close();
    assert.ok(partial > 0 && partial < 800, `killed part-way (${partial} stored)`);
    const b = runCli(args(killed));
    assert.equal(await b.done, 0, b.err());
    const res = JSON.parse(b.out());
    assert.equal(res.run.resumed, partial, 'the resumed run starts from what was stored');
    assert.equal(res.run.executed, 800 - partial);
    const db = new Database(killed, { readonly: true });
    assert.deepEqual(db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT sample_id || '#' || epoch) AS d FROM attempts").get(), { n: 800, d: 800 });
    db.close();
    const resumedStats = res.statistics[0].statistics;
    assert.equal(resumedStats.accuracy, fullStats.accuracy);
    assert.deepEqual(resumedStats.ci95_bootstrap, fullStats.ci95_bootstrap);
    assert.deepEqual(resumedStats.pass_at_k, fullStats.pass_at_k);
  } finally {
    await server.close();
  }
});
