/**
 * `assay stats` on a 30-question benchmark at the edges, as a user runs it (a child process on a
 * temporary pool): a model that answers none right gets a non-degenerate upper bound (Wilson's on 30 questions,
 * z²/(30 + z²) = 11.35% at 95%, whatever the number of epochs), one that answers all right a lower bound below 100%
 * (88.65%); the output names the method and the estimand of the interval.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
let dir = '';
let pool = '';
let data = '';

function assay(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--pool', pool], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function runId(model: string, epochs: number): string {
  const r = assay(['run', '--dataset', `jsonl:${data}`, '--model', model, '--epochs', String(epochs), '--json']);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out).run.run_id;
}

// Wilson's bound with no failure (success) in n = 30: z²/(n + z²), z = 1.959964 (hand computation).
const Z2 = 1.959963984540054 ** 2;
const UPPER_NONE = Z2 / (30 + Z2); // 0.113513…

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'assay-stats-edges-'));
  pool = join(dir, 'pool.sqlite');
  data = join(dir, 'thirty.jsonl');
  writeFileSync(data, Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `q${i + 1}`, question: `What is ${i + 2} + ${i + 3}?`, answer: String(2 * i + 5) })).join('\n') + '\n');
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('none right on 30 questions: the 95% upper bound is ≈ 11.4% (k = 1 and k = 4), never [0, 0]; the output names method and estimand', () => {
  for (const epochs of [1, 4]) {
    const id = runId('reference:silent', epochs);
    const doc = JSON.parse(assay(['stats', id, '--json']).out).statistics[0].statistics;
    assert.equal(doc.samples, 30);
    assert.equal(doc.accuracy, 0);
    assert.equal(doc.ci95.lo, 0);
    assert.ok(Math.abs(doc.ci95.hi - UPPER_NONE) < 1e-9, `k=${epochs}: upper bound ${doc.ci95.hi}`);
    assert.ok(doc.ci95.hi >= 0.10 && doc.ci95.hi <= 0.12);
    assert.match(doc.ci95.estimand, /^population of questions/);
    assert.match(doc.ci95.method, epochs === 1 ? /^Wilson score/ : /^clustered score/);
    // the bootstrap beside it is degenerate here, and labelled as what it is
    assert.deepEqual([doc.ci95_bootstrap.lo, doc.ci95_bootstrap.hi], [0, 0]);
    const text = assay(['stats', id]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /accuracy \(avg@\d+\)\s+0\.0%\s+95% CI \[0\.0%, 11\.4%\]\s+\((Wilson score|clustered score)[^)]*\); for the population of questions\)/);
    assert.match(text.out, /cluster bootstrap\s+\[0\.0%, 0\.0%\].*zero width because every sample scored alike: not certainty/);
  }
});

test('all right on 30 questions: the 95% lower bound is ≈ 88.6%, below 100%', () => {
  const id = runId('reference:oracle', 1);
  const doc = JSON.parse(assay(['stats', id, '--json']).out).statistics[0].statistics;
  assert.equal(doc.accuracy, 1);
  assert.equal(doc.ci95.hi, 1);
  assert.ok(Math.abs(doc.ci95.lo - (1 - UPPER_NONE)) < 1e-9, `lower bound ${doc.ci95.lo}`);
  assert.match(assay(['stats', id]).out, /accuracy \(avg@1\)\s+100\.0%\s+95% CI \[88\.6%, 100\.0%\]/);
});
