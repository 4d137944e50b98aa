/** Ranking runs (src/stats/rank.ts): rank intervals and statistically tied groups on simulated runs with clear gaps and near-ties. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankRuns } from '../../src/stats/rank.ts';
import { createRng } from '../../src/core/rng.ts';

test('rank intervals and tied groups: clear gaps give single ranks, near-equal runs share a group', () => {
  const rng = createRng(8);
  const n = 300;
  const base = Array.from({ length: n }, () => rng.float());
  const mk = (shift: number) => base.map((p) => Array.from({ length: 3 }, () => (rng.float() < Math.min(1, Math.max(0, p + shift)) ? 1 : 0)));
  const r = rankRuns(['strong', 'mid-a', 'mid-b', 'weak'], [mk(0.3), mk(0), mk(0.005), mk(-0.3)], { seed: 1, replicates: 500, permutations: 2000 });
  const by = Object.fromEntries(r.runs.map((x) => [x.label, x]));
  assert.deepEqual(by.strong!.rank_interval, { lo: 1, hi: 1 });
  assert.deepEqual(by.weak!.rank_interval, { lo: 4, hi: 4 });
  assert.equal(by['mid-a']!.group, by['mid-b']!.group);
  assert.ok(by['mid-a']!.rank_interval.lo === 2 && by['mid-a']!.rank_interval.hi === 3);
  assert.notEqual(by.strong!.group, by['mid-a']!.group);
  assert.ok(by['mid-a']!.tied_with.includes('mid-b'));
  assert.equal(r.pairwise.length, 6);
});
