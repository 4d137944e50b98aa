/**
 * Two processes on one pool: two `assay run` of the same run, started together, three times
 * in a row, against the test server failing 30% of requests — one patient (`--max-retries 6`), one not
 * (`--max-retries 0`). No stack trace and no "database is locked"; the patient process exits 0; no error is left;
 * each planned attempt is stored once, and asked of the server successfully once (the two never run it at the same
 * time). Then a holder killed with SIGKILL is taken over at once by the next run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'assay-two-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const N = 30;
const file = join(dir, 'add.jsonl');
writeFileSync(file, Array.from({ length: N }, (_, i) => JSON.stringify({ id: `q${i}`, question: `Question ${i}: what is ${i}+${2 * i}?`, answer: String(3 * i) })).join('\n') + '\n');
const gold = (q: string) => {
  const m = /(\d+)\+(\d+)/.exec(q);
  return m ? String(Number(m[1]) + Number(m[2])) : undefined;
};

function assay(args: string[]): { done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>; pid: number; kill: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((res) => child.on('close', (code, signal) => res({ code, signal, out, err })));
  return { done, pid: child.pid!, kill: (s) => child.kill(s) };
}

function stored(pool: string) {
  const db = new Database(pool, { readonly: true });
  try {
    const a = db.prepare(`SELECT COUNT(*) AS n, COUNT(DISTINCT sample_id || '#' || epoch) AS keys, SUM(status = 'ok') AS ok, SUM(status = 'error') AS err FROM attempts`).get() as { n: number; keys: number; ok: number; err: number };
    const m = db.prepare(`SELECT COUNT(*) AS n, SUM(status = 'attempt_error') AS failed FROM measurements`).get() as { n: number; failed: number };
    const runs = db.prepare(`SELECT status FROM runs`).all() as { status: string }[];
    return { ...a, measurements: m.n, failed_measurements: m.failed, runs: runs.map((r) => r.status) };
  } finally {
    db.close();
  }
}

const NO_CRASH = /SqliteError|database is locked|\n\s+at [^\n]+:\d+:\d+\)?/;

test('two `assay run` of one run against a server failing 30% of requests, three times: the patient one exits 0, nothing is left failed, each attempt is stored once', async (t) => {
  for (const seed of [1, 2, 3]) {
    const server = await startFakeOpenAIServer({ gold, modelId: 'flaky', faults: { serverError: { rate: 0.3, seed } } });
    try {
      const pool = join(dir, `pool-${seed}.sqlite`);
      const args = ['run', '--dataset', file, '--model', `openai-compatible:${server.url}#flaky`, '--epochs', '2', '--scorer', 'math', '--concurrency', '8', '--pool', pool];
      const patient = assay([...args, '--max-retries', '6']);
      const impatient = assay([...args, '--max-retries', '0']);
      const [p, i] = await Promise.all([patient.done, impatient.done]);
      const label = `trial ${seed}`;
      assert.doesNotMatch(p.err, NO_CRASH, `${label}, patient: ${p.err}`);
      assert.doesNotMatch(i.err, NO_CRASH, `${label}, impatient: ${i.err}`);
      assert.equal(p.code, 0, `${label}: the patient process exits 0\n${p.err}`);
      assert.ok(i.code === 0 || i.code === 1, `${label}: the impatient process ends normally (${i.code}, ${i.signal})`);
      const s = stored(pool);
      assert.deepEqual(s, { n: 2 * N, keys: 2 * N, ok: 2 * N, err: 0, measurements: 2 * N, failed_measurements: 0, runs: ['complete'] }, label);
      // They really met: one of them waited for the other (or the second found the run complete).
      assert.ok(/being run by another process/.test(p.err + i.err) || /already stored/.test(p.err + i.err), `${label}: ${p.err}\n${i.err}`);
      assert.ok(server.stats.byOutcome.serverError > 0, 'faults were injected');
      // One owner at a time: no attempt was answered twice (the server sent exactly one ok answer per planned attempt).
      assert.equal(server.stats.byOutcome.ok, 2 * N, `${label}: ok answers sent`);
      const waited = /being run by another process/.test(p.err) ? 'patient waited' : /being run by another process/.test(i.err) ? 'impatient waited' : 'no wait';
      t.diagnostic(`${label}: patient exit ${p.code}, impatient exit ${i.code}; ${waited}; server: ${server.stats.byOutcome.ok} ok, ${server.stats.byOutcome.serverError} injected 500s; pool: ${s.n} attempts (${s.keys} distinct), ${s.err} failed, run ${s.runs[0]}`);
    } finally {
      await server.close();
    }
  }
});

test('a holder killed with SIGKILL is taken over at once by the next run of the same command; `runs` shows who runs a run', async () => {
  const server = await startFakeOpenAIServer({ gold, modelId: 'slow', latencyMs: 100 });
  try {
    const pool = join(dir, 'killed.sqlite');
    const args = ['run', '--dataset', file, '--model', `openai-compatible:${server.url}#slow`, '--epochs', '2', '--scorer', 'math', '--concurrency', '1', '--pool', pool];
    const first = assay(args);
    // Wait until it holds the run and has stored some attempts (read from the file), then kill it without a word.
    let lease: { owner: string; pid: number } | undefined;
    for (let k = 0; k < 600 && !lease; k++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        const db = new Database(pool, { readonly: true, fileMustExist: true });
        try {
          const l = db.prepare(`SELECT owner, pid FROM run_leases`).get() as { owner: string; pid: number } | undefined;
          const n = (db.prepare(`SELECT COUNT(*) AS n FROM attempts`).get() as { n: number }).n;
          if (l && n >= 4) lease = l;
        } finally {
          db.close();
        }
      } catch {
        // not created yet
      }
    }
    assert.ok(lease, 'the first process holds the run');
    assert.equal(lease!.pid, first.pid);
    const shown = await assay(['runs', '--pool', pool]).done;
    assert.match(shown.out, new RegExp(`running in[\\s\\S]*pid ${first.pid}@\\S+ \\(lease until`));
    assert.match(shown.out, /scorers[\s\S]*math/);
    first.kill('SIGKILL');
    await first.done;
    // The dead holder's lease is still in the pool (its 30 s have not lapsed), and `runs` says that its process is gone.
    const dead = await assay(['runs', '--pool', pool]).done;
    assert.match(dead.out, new RegExp(`pid ${first.pid}@\\S+ \\(gone: taken over by the next run\\)`));
    const second = await assay(args).done;
    assert.equal(second.code, 0, second.err);
    // Taken over at once: the next run never waits for (nor even reports) a holder whose process is gone.
    assert.doesNotMatch(second.err, /being run by another process/, 'a dead holder on this host is not waited for');
    const s = stored(pool);
    assert.equal(s.n, 2 * N);
    assert.equal(s.keys, 2 * N);
    assert.equal(s.ok, 2 * N);
    const after = JSON.parse((await assay(['runs', '--pool', pool, '--json']).done).out).runs[0];
    assert.equal(after.lease, null, 'released when done');
    assert.deepEqual(after.scorers, ['math']);
  } finally {
    await server.close();
  }
});
