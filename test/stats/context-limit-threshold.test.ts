/**
 * An accuracy exactly at the threshold passes ("stays at or above"), however it is computed: a mean of per-sample
 * means is often a few ulps below the same fraction, and that must not move the effective limit or its CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveContextLimit, limitIndex, THRESHOLD_SLACK, type GridScores } from '../../src/stats/context-limit.ts';

/** S samples × E epochs at one length with exactly `right` values 1, spread over the samples. */
function cell(length: number, S: number, E: number, right: number): GridScores[] {
  const flat = Array.from({ length: S * E }, (_, i) => (i < right ? 1 : 0));
  // Deal values round-robin so samples get different means (the sum of their means is what rounds).
  return Array.from({ length: S }, (_, s) => ({ sample_id: `${length}-${s}`, length, depth: null, task: 'single', values: Array.from({ length: E }, (_, e) => flat[e * S + s]!) }));
}

test('an accuracy equal to the threshold as a fraction passes, for every sample × epoch shape', () => {
  let checked = 0;
  for (let S = 1; S <= 20; S++) {
    for (let E = 1; E <= 7; E++) {
      for (let right = 0; right <= S * E; right++) {
        const threshold = right / (S * E);
        const scores = [...cell(1000, S, E, S * E), ...cell(2000, S, E, right)];
        const r = effectiveContextLimit(scores, { threshold, replicates: 100 });
        assert.equal(r.effective_limit, 2000, `S=${S} E=${E} right=${right}: accuracy ${r.by_length[1]!.accuracy} vs threshold ${threshold}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 1000);
});

test('the slack is far below any real accuracy difference', () => {
  assert.ok(THRESHOLD_SLACK < 1 / 1e6);
  assert.equal(limitIndex([0.75 - 1e-6], 0.75, 'prefix'), -1, 'one in a million below is below');
  assert.equal(limitIndex([0.75 - 1e-15], 0.75, 'prefix'), 0);
});
