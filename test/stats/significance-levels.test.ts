/** Every statistical test that takes a significance level refuses one outside (0, 1): paired comparison, run ranking, sweep analysis. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparePaired } from '../../src/stats/paired.ts';
import { rankRuns } from '../../src/stats/rank.ts';
import { analyzeSweep } from '../../src/stats/sweep.ts';
import type { RunRecord } from '../../src/core/schemas.ts';

test('significance levels outside (0, 1) are refused by every test that takes one', () => {
  const a = [[1], [0], [1]], b = [[0], [0], [1]];
  const runs = [0, 1].map((i) => ({ id: `r${i}`, spec: { model: 'm', dataset: { hash: 'h' }, template: { name: 't', hash: 't' }, config: { temperature: i } } }) as unknown as RunRecord);
  for (const alpha of [0, 1, 1.5, -0.1, Number.NaN]) {
    assert.throws(() => comparePaired(a, b, { seed: 0, replicates: 20, alpha }), RangeError, `comparePaired α=${alpha}`);
    assert.throws(() => rankRuns(['a', 'b'], [a, b], { seed: 0, replicates: 20, alpha }), RangeError, `rankRuns α=${alpha}`);
    assert.throws(() => analyzeSweep(runs, [a, b], { seed: 0, replicates: 20, alpha }), RangeError, `analyzeSweep α=${alpha}`);
  }
});
