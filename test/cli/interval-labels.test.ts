/**
 * Tables of 95% CIs (assay eval, quickstart, quickstart --model) show the headline interval of the statistics — the
 * one `assay stats` prints first (clustered score / Wilson), never a zero-width bootstrap interval — and name its
 * method under the table.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
let dir = '';
const assay = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'assay-ci-labels-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('assay eval: a run right on no attempt shows the interval `stats` gives (not [0.0%, 0.0%]) and names its method', () => {
  const pool = join(dir, 'eval.sqlite');
  const r = assay(['eval', 'arithmetic', '--model', 'reference:noisy?p=0', '--limit', '20', '--epochs', '2', '--pool', pool]);
  assert.equal(r.code, 0, r.err);
  const row = r.out.split('\n').find((l) => l.startsWith('arithmetic@1'))!;
  const runId = row.split(/\s+/)[2]!;
  const stats = JSON.parse(assay(['stats', runId, '--pool', pool, '--json']).out).statistics[0].statistics;
  assert.equal(stats.accuracy, 0);
  assert.ok(stats.ci95.hi > 0.05, 'the headline interval of 0/20 is not zero-width');
  assert.ok(row.includes(`[${pct(stats.ci95.lo)}, ${pct(stats.ci95.hi)}]`), row);
  assert.ok(!row.includes('[0.0%, 0.0%]'), row);
  assert.ok(r.out.includes(`95% CI: ${stats.ci95.method}`), r.out);
});

test('quickstart and quickstart --model name the method of their 95% CIs', () => {
  const q = assay(['quickstart', '--pool', join(dir, 'q.sqlite')]);
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /^95% CI: clustered score \(Wilson-type; [^\n]*\) \(the interval `assay stats` prints first\)$/m);
  assert.match(q.out, /^95% CI: cluster bootstrap over the samples of each length/m);
  const m = assay(['quickstart', '--model', 'reference:noisy?p=0.5', '--limit', '10', '--epochs', '1', '--pool', join(dir, 'qm.sqlite')]);
  assert.equal(m.code, 0, m.err);
  const row = m.out.split('\n').find((l) => l.includes('generation, avg@1'))!;
  assert.match(row, /\[\d+\.\d%, \d+\.\d%\]/);
  assert.match(m.out, /^95% CI: Wilson score on the samples \(one epoch each\)/m);
});
