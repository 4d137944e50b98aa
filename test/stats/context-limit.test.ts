/**
 * Effective context limit: the rule, censoring, a seeded bootstrap CI, heatmap and accuracy-by-length data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMIT_THRESHOLD, effectiveContextLimit, limitIndex, type GridScores } from '../../src/stats/context-limit.ts';

/** n samples per (length, depth) with `acc(length)` of their values equal to 1 (deterministic pattern). */
function grid(lengths: number[], depths: number[], n: number, acc: (len: number) => number): GridScores[] {
  const out: GridScores[] = [];
  for (const length of lengths) for (const depth of depths) for (let i = 0; i < n; i++) {
    const right = i < Math.round(acc(length) * n);
    out.push({ sample_id: `${length}-${depth}-${i}`, length, depth, task: 'single', values: [right ? 1 : 0, right ? 1 : 0] });
  }
  return out;
}

test('the rule: prefix stops at the first failing length, any takes the longest passing one', () => {
  assert.equal(limitIndex([1, 0.9, 0.5, 0.8], 0.75, 'prefix'), 1);
  assert.equal(limitIndex([1, 0.9, 0.5, 0.8], 0.75, 'any'), 3);
  assert.equal(limitIndex([0.5, 0.9], 0.75, 'prefix'), -1);
  assert.equal(DEFAULT_LIMIT_THRESHOLD, 0.75);
});

test('a clear drop gives the limit at the last good length with a tight CI; results are seeded', () => {
  const lengths = [1000, 2000, 4000, 8000, 16000];
  const scores = grid(lengths, [0, 50, 100], 20, (l) => (l <= 4000 ? 0.95 : 0.3));
  const r = effectiveContextLimit(scores, { replicates: 500, seed: 1 });
  assert.equal(r.effective_limit, 4000);
  assert.equal(r.censored, false);
  assert.deepEqual([r.ci.lo, r.ci.hi], [4000, 4000]);
  assert.equal(r.by_length.length, 5);
  assert.ok(Math.abs(r.by_length[0]!.accuracy - 0.95) < 1e-12);
  assert.ok(r.by_length[0]!.ci95.lo <= 0.95 && 0.95 <= r.by_length[0]!.ci95.hi);
  assert.deepEqual(r.heatmap.depths, [0, 50, 100]);
  assert.equal(r.heatmap.cells.length, 15);
  assert.deepEqual(effectiveContextLimit(scores, { replicates: 500, seed: 1 }), r, 'same seed, same result');
  const sum = Object.values(r.distribution).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-9);
});

test('censored when every length passes; null when the shortest fails; an accuracy near the threshold widens the CI', () => {
  const lengths = [1000, 2000, 4000];
  const all = effectiveContextLimit(grid(lengths, [50], 10, () => 1), { replicates: 200 });
  assert.equal(all.effective_limit, 4000);
  assert.equal(all.censored, true);
  const none = effectiveContextLimit(grid(lengths, [50], 10, () => 0.2), { replicates: 200 });
  assert.equal(none.effective_limit, null);
  assert.equal(none.ci.hi, null);
  const edge = effectiveContextLimit(grid(lengths, [50], 8, (l) => (l === 2000 ? 0.75 : l < 2000 ? 1 : 0)), { replicates: 1000, seed: 3 });
  assert.equal(edge.effective_limit, 2000);
  assert.equal(edge.ci.lo, 1000, 'resampling 6/8 right often falls below 75%');
  assert.ok((edge.distribution['1000'] ?? 0) > 0.2);
});

test('samples without a depth (thread tasks) count for length but not for the heatmap; bad thresholds are rejected', () => {
  const s: GridScores[] = [
    { sample_id: 'a', length: 1000, depth: null, task: 'threading', values: [1] },
    { sample_id: 'b', length: 2000, depth: null, task: 'threading', values: [0] },
  ];
  const r = effectiveContextLimit(s, { replicates: 50 });
  assert.equal(r.effective_limit, 1000);
  assert.equal(r.heatmap.cells.length, 0);
  assert.throws(() => effectiveContextLimit(s, { threshold: 1.5 }), /threshold/);
  assert.throws(() => effectiveContextLimit([], {}), /no graded samples/);
});
