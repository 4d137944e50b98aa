/**
 * While a verdict hangs, the process still acts on signals: the verdict runs in a grading worker, so the
 * main thread's SIGTERM handler runs at once and stops the run; the stuck verdict is stopped at the hard limit and
 * recorded as a grader_timeout; a second signal ends the process at once. Without a signal, the run completes with
 * the stuck verdict recorded as a timeout and every other verdict graded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const CHILD = fileURLToPath(new URL('../fixtures/run-with-hanging-scorer.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'assay-grading-signals-'));
let server: FakeOpenAIServer;
let hangAsked: (() => void) | null = null;
before(async () => {
  server = await startFakeOpenAIServer({
    answer: (q) => {
      if (q.includes('Question 2')) {
        hangAsked?.();
        return { content: 'HANG' };
      }
      return { content: `answer ${/Question (\d+)/.exec(q)?.[1]}` };
    },
  });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function child(pool: string, limitMs: number) {
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, server.url, pool], { env: { ...process.env, ASSAY_GRADER_HARD_LIMIT_MS: String(limitMs) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string; at: number }>((res) => p.on('close', (code, signal) => res({ code, signal, out, err, at: performance.now() })));
  const stderrMatch = (re: RegExp) => new Promise<number>((res) => {
    const on = () => {
      if (re.test(err)) {
        p.stderr.off('data', on);
        res(performance.now());
      }
    };
    p.stderr.on('data', on);
    on();
  });
  return { p, done, stderrMatch };
}

const asked = () => new Promise<void>((res) => (hangAsked = () => ((hangAsked = null), res())));
const verdicts = (pool: string) => {
  const db = new Database(pool, { readonly: true });
  try {
    return Object.fromEntries((db.prepare('SELECT sample_id, status FROM measurements ORDER BY sample_id').all() as { sample_id: string; status: string }[]).map((r) => [r.sample_id, r.status]));
  } finally {
    db.close();
  }
};

test('SIGTERM while a verdict hangs stops the run at once; the stuck verdict is stopped at the hard limit and recorded', async () => {
  const pool = join(dir, 'term.sqlite');
  const wait = asked();
  const c = child(pool, 2500);
  await wait;
  await new Promise((r) => setTimeout(r, 400)); // the HANG verdict is now spinning in the grading worker
  const sent = performance.now();
  c.p.kill('SIGTERM');
  const stopping = await c.stderrMatch(/stopping/);
  assert.ok(stopping - sent < 2000, `the SIGTERM handler ran ${(stopping - sent).toFixed(0)} ms after the signal`);
  const r = await c.done;
  assert.equal(r.code, 0, r.err);
  assert.ok(r.at - sent < 15_000);
  const result = JSON.parse(r.out);
  assert.equal(result.status, 'interrupted');
  assert.equal(verdicts(pool).s2, 'grader_timeout', 'the stuck verdict is a recorded timeout');
});

test('a second signal ends the process at once, even while a verdict hangs', async () => {
  const pool = join(dir, 'twice.sqlite');
  const wait = asked();
  const c = child(pool, 600_000);
  await wait;
  await new Promise((r) => setTimeout(r, 400));
  c.p.kill('SIGTERM');
  await c.stderrMatch(/stopping/);
  const second = performance.now();
  c.p.kill('SIGTERM');
  const r = await c.done;
  assert.equal(r.code, 130);
  assert.ok(r.at - second < 3000, `ended ${(r.at - second).toFixed(0)} ms after the second signal`);
});

test('without a signal the run completes: the stuck verdict is a grader_timeout, every other verdict is graded', async () => {
  const pool = join(dir, 'complete.sqlite');
  const c = child(pool, 1500);
  const r = await c.done;
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).status, 'complete');
  assert.deepEqual(verdicts(pool), { s0: 'ok', s1: 'ok', s2: 'grader_timeout', s3: 'ok', s4: 'ok', s5: 'ok' });
});
