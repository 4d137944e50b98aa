/**
 * Validating rankings on synthetic data with a known truth: Kendall's τ-b, τ to the truth as measurements go
 * missing (Plackett–Luce against the mean score), and cheaper evaluation on a budget of samples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kendallTau, ranksOf } from '../../src/aggregate/baselines.ts';
import { missingDataCurve, syntheticBinary, choicesFromMatrix, plScores } from '../../src/aggregate/validate.ts';
import { cheaperEvaluation } from '../../src/aggregate/subset.ts';

test('kendall τ-b: identical, reversed, ties', () => {
  assert.equal(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(kendallTau([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // one tie in x: C=5, D=0, Tx=1 → 5 / sqrt(5·6)
  assert.ok(Math.abs(kendallTau([1, 1, 2, 3], [1, 2, 3, 4]) - 5 / Math.sqrt(30)) < 1e-12);
  assert.ok(Number.isNaN(kendallTau([1, 1], [1, 2])));
  assert.deepEqual([...ranksOf([0.1, 0.5, 0.5, -1])], [3, 1, 1, 4]);
});

test('validation harness: τ to the truth is high with most data and PL beats the mean score under uneven per-model coverage', () => {
  const { matrix, truth } = syntheticBinary({ models: 20, samples: 400, seed: 2 });
  const rows = missingDataCurve(matrix, truth, { fractions: [0, 0.9], reps: 2, seed: 1, methods: ['plackett-luce', 'mean'] });
  const get = (mode: string, p: number, m: string) => rows.find((r) => r.mode === mode && r.fraction === p && r.method === m)!.tau;
  assert.ok(get('random', 0, 'plackett-luce') > 0.85);
  assert.ok(get('random', 0.9, 'plackett-luce') > 0.5);
  assert.ok(rows.every((r) => r.tau <= 1 && r.tau >= -1));
});

test('cheaper evaluation: τ grows with the budget; strategies run with held-out models', () => {
  const { matrix } = syntheticBinary({ models: 12, samples: 800, seed: 5, categories: 4 });
  const rows = cheaperEvaluation(matrix, { budgets: [20, 400], reps: 2, seed: 1 });
  assert.equal(rows.length, 6);
  const mean = (b: number) => rows.filter((r) => r.budget === b).reduce((a, r) => a + r.tau_all, 0) / 3;
  assert.ok(mean(400) > mean(20));
  assert.ok(plScores(choicesFromMatrix(matrix, null)).length === 12);
});
