/**
 * Review of issue 4 (statistics): faults found by feeding the estimators what a new or hostile user feeds them —
 * failed attempts that shift epochs, levels out of range, degenerate runs — each checked as a whole kind of input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparePaired, mcnemar } from '../../src/stats/paired.ts';
import { rankRuns } from '../../src/stats/rank.ts';
import { analyzeSweep, expandGrid } from '../../src/stats/sweep.ts';
import { componentsFromPilot, componentsFromRates, planTable, ratesForDifference } from '../../src/stats/power.ts';
import { decomposeVariance } from '../../src/stats/variance.ts';
import { shortDataset } from '../../src/stats/pool-data.ts';
import { createRng } from '../../src/core/rng.ts';
import type { RunRecord } from '../../src/core/schemas.ts';

test('McNemar pairs attempts by epoch number: failed (left-out) attempts never shift the pairing', () => {
  // Hand case: A graded at epochs 0 and 2 (epoch 1 failed), B at 0, 1, 2.
  // Epoch-matched pairs: epoch 0 (A 1, B 0) → b; epoch 2 (A 0, B 1) → c. Index pairing would wrongly give (1,0),(0,0).
  const c = comparePaired([[1, 0], [1]], [[0, 0, 1], [1]], { seed: 1, replicates: 50, epochsA: [[0, 2], [0]], epochsB: [[0, 1, 2], [0]] });
  // clustered: sample 1 has b_1 = c_1 = 1, sample 2 is concordant → X² = 0²/0 → statistic 0, p 1, 2 discordant pairs
  assert.equal(c.mcnemar!.clustered!.pairs, 2);
  assert.equal(c.mcnemar!.clustered!.statistic, 0);
  assert.deepEqual({ b: c.mcnemar!.first_epoch.b, c: c.mcnemar!.first_epoch.c }, { b: 1, c: 0 });

  // Property: on random runs with random failures, the counts equal a direct count over epochs graded in both.
  const rng = createRng(11);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + rng.index(8), K = 1 + rng.index(5);
    const a: number[][] = [], b: number[][] = [], ea: number[][] = [], eb: number[][] = [];
    let B = 0, C = 0, B1 = 0, C1 = 0;
    for (let i = 0; i < n; i++) {
      const full = Array.from({ length: K }, () => [rng.float() < 0.6 ? 1 : 0, rng.float() < 0.5 ? 1 : 0] as const);
      const okA = full.map(() => rng.float() < 0.7), okB = full.map(() => rng.float() < 0.7);
      okA[rng.index(K)] = true; // every sample keeps ≥ 1 graded epoch in each run
      okB[rng.index(K)] = true;
      a.push(full.filter((_, j) => okA[j]).map((x) => x[0]));
      ea.push(full.map((_, j) => j).filter((j) => okA[j]));
      b.push(full.filter((_, j) => okB[j]).map((x) => x[1]));
      eb.push(full.map((_, j) => j).filter((j) => okB[j]));
      let first = true;
      for (let j = 0; j < K; j++) {
        if (!okA[j] || !okB[j]) continue;
        const [x, y] = full[j]!;
        if (x === 1 && y === 0) { B++; if (first) B1++; }
        if (x === 0 && y === 1) { C++; if (first) C1++; }
        first = false;
      }
    }
    const r = comparePaired(a, b, { seed: trial, replicates: 20, permutations: 20, epochsA: ea, epochsB: eb });
    assert.equal(r.mcnemar!.first_epoch.b, B1, `trial ${trial}`);
    assert.equal(r.mcnemar!.first_epoch.c, C1, `trial ${trial}`);
    if (r.mcnemar!.clustered) assert.equal(r.mcnemar!.clustered.pairs, B + C, `trial ${trial}`);
    else assert.equal(B + C, B1 + C1);
  }
  // And the exact McNemar p of the hand case b = 3, c = 0: 2·(1/2)³ = 0.25.
  assert.ok(Math.abs(mcnemar(3, 0).p_exact - 0.25) < 1e-12);
});

test('the minimum detectable effect is never a made-up 0: NaN when differences do not vary or there is one sample', () => {
  const cases: [number[][], number[][]][] = [
    [[[1], [0], [1]], [[1], [0], [1]]], // identical runs
    [[[1, 1], [1, 1]], [[0, 0], [0, 0]]], // every difference equal to 1 (SE 0)
    [[[1, 0, 1]], [[0, 0, 1]]], // one shared sample
  ];
  for (const [a, b] of cases) {
    const c = comparePaired(a, b, { seed: 0, replicates: 100 });
    assert.ok(Number.isNaN(c.mde), `MDE ${c.mde} for ${JSON.stringify([a, b])}`);
  }
  const real = comparePaired([[1], [0], [1], [1]], [[0], [0], [1], [0]], { seed: 0, replicates: 200 });
  assert.ok(real.mde > 0 && Number.isFinite(real.mde));
  // The MDE follows the requested level: a stricter α needs a larger effect.
  const strict = comparePaired([[1], [0], [1], [1]], [[0], [0], [1], [0]], { seed: 0, replicates: 200, alpha: 0.01 });
  assert.ok(strict.mde > real.mde);
  assert.equal(strict.mde_alpha, 0.01);
});

test('significance levels outside (0, 1) are refused by every test that takes one', () => {
  const a = [[1], [0], [1]], b = [[0], [0], [1]];
  const runs = [0, 1].map((i) => ({ id: `r${i}`, spec: { model: 'm', dataset: { hash: 'h' }, template: { name: 't', hash: 't' }, config: { temperature: i } } }) as unknown as RunRecord);
  for (const alpha of [0, 1, 1.5, -0.1, Number.NaN]) {
    assert.throws(() => comparePaired(a, b, { seed: 0, replicates: 20, alpha }), RangeError, `comparePaired α=${alpha}`);
    assert.throws(() => rankRuns(['a', 'b'], [a, b], { seed: 0, replicates: 20, alpha }), RangeError, `rankRuns α=${alpha}`);
    assert.throws(() => analyzeSweep(runs, [a, b], { seed: 0, replicates: 20, alpha }), RangeError, `analyzeSweep α=${alpha}`);
  }
});

test('plan from assumed rates never clips a rate: the planned difference is always the δ asked for, or an error', () => {
  for (const p of [0, 0.01, 0.3, 0.5, 0.7, 0.97, 0.99, 1]) {
    for (const delta of [0.001, 0.03, 0.2, 0.5, 0.6, 0.99]) {
      let r: ReturnType<typeof ratesForDifference> | null = null;
      try {
        r = ratesForDifference(p, delta);
      } catch (e) {
        assert.ok(e instanceof RangeError);
        assert.ok(p + delta > 1 && p - delta < 0, `refused p=${p} δ=${delta} although it fits`);
        continue;
      }
      assert.ok(Math.abs(Math.abs(r.pB - r.pA) - delta) < 1e-12, `p=${p} δ=${delta}: ${r.pA} vs ${r.pB}`);
      assert.ok(r.pB >= 0 && r.pB <= 1);
      // a real difference always has some variance to plan around: never the "2 samples" floor for small δ
      const c = componentsFromRates(r.pA, r.pB);
      assert.ok(c.omega2 + c.withinA + c.withinB > 0, `p=${p} δ=${delta}: zero variance`);
    }
  }
  for (const [p, d] of [[-0.1, 0.1], [1.1, 0.1], [0.5, 0], [0.5, -0.1], [0.5, 1], [Number.NaN, 0.1]] as const) assert.throws(() => ratesForDifference(p, d), RangeError);
});

test('plan refuses impossible designs instead of printing NaN tables', () => {
  const ok = componentsFromRates(0.7, 0.73);
  const bad = [{ ...ok, omega2: Number.NaN }, { ...ok, withinA: -0.1 }, { ...ok, between: Number.POSITIVE_INFINITY }];
  for (const c of bad) assert.throws(() => planTable(c, { delta: 0.03 }), RangeError);
  assert.throws(() => planTable(ok, { delta: 0.03, halfWidth: 0.02 }), RangeError, 'two targets at once');
  assert.throws(() => planTable(ok, {}), RangeError);
  for (const o of [{ alpha: 0 }, { alpha: 1 }, { power: 1 }, { power: 0 }, { n: 1 }, { n: 2.5 }, { ks: [0] }, { ks: [1.5] }]) {
    assert.throws(() => planTable(ok, { delta: 0.03, ...o }), RangeError, JSON.stringify(o));
  }
  const fine = planTable(ok, { delta: 0.03, n: 500 });
  assert.ok(fine.rows.every((r) => Number.isInteger(r.samples) && r.samples >= 2));
});

test('a one-epoch pilot cannot measure seed noise, and the plan says so', () => {
  const one = decomposeVariance([[1], [0], [1], [1], [0]], { seed: 0, replicates: 50 });
  const c1 = componentsFromPilot(one);
  assert.match(c1.warning ?? '', /one epoch per sample/);
  assert.match(c1.source, /σ²_w=unknown/);
  const many = decomposeVariance([[1, 0], [0, 0], [1, 1], [1, 0], [0, 1]], { seed: 0, replicates: 50 });
  assert.equal(componentsFromPilot(many).warning, undefined);
  assert.throws(() => componentsFromPilot(many, { omega2: Number.NaN }), RangeError, 'ω² from a pilot without shared samples');
});

test('sweep grids refuse repeated, empty and non-finite levels (a copy of a run is not seed noise)', () => {
  const bad: Parameters<typeof expandGrid>[0][] = [
    [{ factor: 'temperature', levels: [0.2, 0.2] }],
    [{ factor: 'seed', levels: [0, 1, 0] }],
    [{ factor: 'temperature', levels: [] }],
    [{ factor: 'temperature', levels: [Number.NaN, 1] }],
    [{ factor: 'temperature', levels: [0, 1] }, { factor: 'temperature', levels: [0.5] }],
    [{ factor: 'template', levels: ['a', 'a'] }],
  ];
  for (const g of bad) assert.throws(() => expandGrid(g), RangeError, JSON.stringify(g));
  assert.equal(expandGrid([{ factor: 'temperature', levels: [0, 1] }, { factor: 'seed', levels: [0, 1, 2] }]).length, 6);
  // the same run twice is not a sweep
  const r = { id: 'x', spec: { model: 'm', dataset: { hash: 'h' }, template: { name: 't', hash: 't' }, config: { seed: 0 } } } as unknown as RunRecord;
  assert.throws(() => analyzeSweep([r, r], [[[1]], [[1]]], { seed: 0, replicates: 20 }), RangeError);
});

test('sweep: with no measurable seed noise the ratio to it is null, never Infinity or NaN', () => {
  const runs = ([[0, 0], [0, 1], [1, 0], [1, 1]] as const).map(([t, s]) => ({ id: `t${t}s${s}`, spec: { model: 'm', dataset: { hash: 'h' }, template: { name: 'x', hash: 'x' }, config: { temperature: t, seed: s } } }) as unknown as RunRecord);
  // a deterministic model: both seeds give the same answers; temperature 1 loses one question
  const t0 = [[1], [1], [0], [1]], t1 = [[1], [0], [0], [1]];
  const a = analyzeSweep(runs, [t0, t0, t1, t1], { seed: 0, replicates: 50 });
  assert.equal(a.seed_sd_observed, 0);
  for (const f of a.factors) assert.equal(f.ratio_to_seed_sd, null);
  assert.doesNotThrow(() => JSON.stringify(a));
});

test('dataset refs are shortened to their file name for display, keeping the loader prefix', () => {
  assert.equal(shortDataset('gsm8k:/work/shared/data/gsm8k/test.jsonl'), 'gsm8k:test.jsonl');
  assert.equal(shortDataset('/tmp/x/d50.jsonl'), 'd50.jsonl');
  assert.equal(shortDataset('d50.jsonl'), 'd50.jsonl');
  assert.equal(shortDataset('gsm8k'), 'gsm8k');
});
