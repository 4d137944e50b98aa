/**
 * `assay eval` of 3 tasks × 3 models against local OpenAI-compatible servers written for the tests (no real model
 * runs here): killed with SIGKILL mid-way and run again, it finishes with every attempt stored exactly once and the
 * same table as an uninterrupted run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'assay-eval-'));
const servers: FakeOpenAIServer[] = [];
const N = 30;
const EPOCHS = 2;

function runCli(args: string[], opts: { killAfterAttempts?: { pool: string; n: number } } = {}): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ASSAY_FROM_SOURCE: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timer: NodeJS.Timeout | null = null;
    if (opts.killAfterAttempts) {
      const { pool, n } = opts.killAfterAttempts;
      timer = setInterval(() => {
        try {
          const db = new Database(pool, { readonly: true, fileMustExist: true });
          const c = (db.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n;
          db.close();
          if (c >= n) {
            clearInterval(timer!);
            child.kill('SIGKILL');
          }
        } catch {
          /* not created yet */
        }
      }, 20);
    }
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const tasks: string[] = [];
const models: string[] = [];

before(async () => {
  for (const [t, offset] of [['add', 0], ['mul', 1], ['sub', 2]] as const) {
    const rows = Array.from({ length: N }, (_, i) => {
      const a = i + 3 + offset;
      const b = 2 * i + 1;
      const [q, ans] = t === 'add' ? [`what is ${a}+${b}?`, a + b] : t === 'mul' ? [`what is ${a}*${b}?`, a * b] : [`what is ${a}-${b}?`, a - b];
      return JSON.stringify({ id: `${t}-${i}`, question: `Question ${i}: ${q}`, answer: String(ans) });
    });
    writeFileSync(join(dir, `${t}.jsonl`), rows.join('\n') + '\n');
    writeFileSync(join(dir, `${t}.yaml`), `name: ${t}\ndataset: ${join(dir, `${t}.jsonl`)}\nscorers: [math]\nepochs: ${EPOCHS}\nconfig: { temperature: 0.7, seed: 0 }\n`);
    tasks.push(join(dir, `${t}.yaml`));
  }
  // Three "models" of different skill: each server answers right with its own probability (seeded per question and seed).
  const gold = (q: string) => {
    const m = /(\d+)([+*-])(\d+)/.exec(q);
    if (!m) return undefined;
    const a = Number(m[1]), b = Number(m[3]);
    return String(m[2] === '+' ? a + b : m[2] === '*' ? a * b : a - b);
  };
  for (const [i, acc] of [0.9, 0.6, 0.3].entries()) {
    const s = await startFakeOpenAIServer({ gold, accuracy: acc, seed: i, modelId: `fake-${i}`, latencyMs: 3 });
    servers.push(s);
    models.push(`openai-compatible:${s.url}#fake-${i}`);
  }
});
after(async () => {
  for (const s of servers) await s.close();
});

function evalArgs(pool: string): string[] {
  return ['eval', ...tasks, ...models.flatMap((m) => ['--model', m]), '--pool', pool, '--json', '--concurrency', '4', '--replicates', '300'];
}

test('assay eval: SIGKILL mid-way, run again: every attempt once, the same table as an uninterrupted run', async () => {
  const ref = await runCli(evalArgs(join(dir, 'ref.sqlite')));
  assert.equal(ref.code, 0, ref.stderr);
  const refOut = JSON.parse(ref.stdout);
  assert.equal(refOut.table.rows.length, 9, 'one row per task × model');
  assert.equal(refOut.eval_set.status, 'complete');

  const pool = join(dir, 'killed.sqlite');
  const killed = await runCli(evalArgs(pool), { killAfterAttempts: { pool, n: 60 } });
  assert.equal(killed.signal, 'SIGKILL', `the first run should have been killed: ${killed.stderr}`);
  const db = new Database(pool, { readonly: true });
  const partial = (db.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n;
  db.close();
  assert.ok(partial > 0 && partial < 9 * N * EPOCHS, `killed mid-way (${partial} attempts stored)`);

  const resumed = await runCli(evalArgs(pool));
  assert.equal(resumed.code, 0, resumed.stderr);
  const out = JSON.parse(resumed.stdout);
  assert.equal(out.eval_set.eval_set_id, refOut.eval_set.eval_set_id, 'the same eval set');
  const db2 = new Database(pool, { readonly: true });
  const perRun = db2.prepare('SELECT run_id, COUNT(*) AS n, COUNT(DISTINCT sample_id || \':\' || epoch) AS d FROM attempts GROUP BY run_id').all() as { run_id: string; n: number; d: number }[];
  db2.close();
  assert.equal(perRun.length, 9);
  for (const r of perRun) {
    assert.equal(r.n, N * EPOCHS, `run ${r.run_id}: every planned attempt stored`);
    assert.equal(r.d, r.n, `run ${r.run_id}: each attempt exactly once`);
  }
  const strip = (t: { rows: { task: string; model: string; run_id: string; statistics: unknown }[]; ranking: unknown }) => ({ rows: t.rows.map((r) => [r.task, r.model, r.run_id, r.statistics]), ranking: t.ranking });
  assert.deepEqual(strip(out.table), strip(refOut.table), 'the same table and ranking as the uninterrupted run');
  // The models differ in skill, and the ranking says so with rank intervals.
  const ranked = out.table.ranking.models as { label: string; mean: number; rank_interval: { lo: number; hi: number } }[];
  assert.deepEqual(ranked.map((m) => m.label), models, 'best first');
  assert.ok(ranked[0]!.mean > 0.8 && ranked[2]!.mean < 0.45, JSON.stringify(ranked.map((m) => m.mean)));
  assert.equal(ranked[0]!.rank_interval.lo, 1);
});
