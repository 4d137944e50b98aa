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

test('subset choice on typed arrays: the same samples as the sort-based definition (stratified, irt-information, random; several categories, ties in information)', async () => {
  const { chooseSubset } = await import('../../src/aggregate/subset.ts');
  const { fit2PL, itemInformation } = await import('../../src/aggregate/irt.ts');
  const { createRng } = await import('../../src/core/rng.ts');
  const { matrix } = syntheticBinary({ models: 12, samples: 400, seed: 5, categories: 3 });
  assert.equal(matrix.categoryNames.length, 3);
  const S = matrix.sampleKeys.length, cats = matrix.categories!;
  const irt = fit2PL(matrix, null);
  // ties in the information: every 7th sample copies its neighbour's
  const info = itemInformation(irt);
  for (let s = 7; s < S; s += 7) info[s] = info[s - 1]!;
  const shuffle = (a: number[], rng: ReturnType<typeof createRng>) => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = rng.index(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
  const byCat: number[][] = [[], [], []];
  for (let s = 0; s < S; s++) byCat[cats[s]!]!.push(s);
  for (const budget of [1, 10, 37, 100]) {
    // the earlier definitions, on JavaScript arrays
    const sizes = byCat.map((c) => c.length);
    const got = (strategy: 'random' | 'stratified' | 'irt-information') => Array.from(chooseSubset(matrix, budget, strategy, createRng(budget), null, irt, info).samples);
    const rngR = createRng(budget);
    assert.deepEqual(got('random'), shuffle(Array.from({ length: S }, (_, s) => s), rngR).slice(0, budget));
    const strat = got('stratified');
    assert.equal(strat.length, budget);
    const alloc = [0, 1, 2].map((c) => strat.filter((s) => cats[s] === c).length);
    assert.ok(alloc.every((a, c) => Math.abs(a - (sizes[c]! * budget) / S) < 1), `proportional allocation ${alloc}`);
    const rngS = createRng(budget);
    assert.deepEqual(strat, byCat.flatMap((list, c) => shuffle([...list], rngS).slice(0, alloc[c]!)));
    const rngI = createRng(budget);
    const jitter = Float64Array.from({ length: S }, () => rngI.float());
    const key = Float64Array.from(info, (x, s) => x + 1e-12 * jitter[s]!);
    const inf = got('irt-information');
    assert.deepEqual(inf, byCat.flatMap((list, c) => [...list].sort((x, y) => key[y]! - key[x]!).slice(0, alloc[c]!)));
  }
});
