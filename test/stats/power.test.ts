/**
 * Planning sample sizes and epochs (src/stats/power.ts): the planned design reaches the requested power in simulation
 * and the formulas agree with each other; assumed rates are never clipped; impossible designs are refused instead of
 * printing NaN tables; a one-epoch pilot says it cannot measure seed noise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minimumDetectableEffect, pairedT } from '../../src/stats/paired.ts';
import { decomposeVariance } from '../../src/stats/variance.ts';
import {
  componentsFromRates, epochsForDifference, mdeOfDesign, samplesForDifference, samplesForHalfWidth, halfWidthOfDesign, componentsFromPilot, planTable, ratesForDifference,
} from '../../src/stats/power.ts';
import { createRng } from '../../src/core/rng.ts';

const close = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);

test('planning: the planned sample size gives the requested power in simulation; formulas agree with each other', () => {
  const icc = 0.2, rho = 0.6;
  const c = componentsFromRates(0.6, 0.7, { icc, correlation: rho });
  const k = 2, delta = 0.1;
  const n = samplesForDifference(c, delta, k);
  close(mdeOfDesign(c, n, k), delta, 0.004, 'MDE at the planned n ≈ δ');
  const kNeeded = epochsForDifference(c, delta, n);
  assert.ok(kNeeded != null && kNeeded <= k);
  assert.equal(epochsForDifference(c, 0.001, 50), null, 'tiny δ with few samples: floor reached');
  const h = halfWidthOfDesign(c, samplesForHalfWidth(c, 0.03, 4), 4);
  assert.ok(h <= 0.03 && h > 0.028);
  // Simulate with exactly these components (no clipping): p_iA = 0.6 + s_A·z, p_iB = 0.7 + s_B·(ρz + √(1−ρ²)·w),
  // z, w = ±1 with probability ½, so Var(p_A) = s_A², Var(p_B) = s_B², Corr = ρ, E[p(1−p)] = (1 − icc)·p(1 − p).
  const sA = Math.sqrt(icc * 0.24), sB = Math.sqrt(icc * 0.21);
  const rng = createRng(77);
  const pm = () => (rng.float() < 0.5 ? -1 : 1);
  let reject = 0;
  const trials = 600;
  for (let t = 0; t < trials; t++) {
    const d: number[] = [];
    for (let i = 0; i < n; i++) {
      const z = pm(), w = pm();
      const pa = 0.6 + sA * z, pb = 0.7 + sB * (rho * z + Math.sqrt(1 - rho * rho) * w);
      let sa = 0, sb = 0;
      for (let j = 0; j < k; j++) {
        sa += rng.float() < pa ? 1 : 0;
        sb += rng.float() < pb ? 1 : 0;
      }
      d.push((sb - sa) / k);
    }
    if (pairedT(d).p <= 0.05) reject++;
  }
  close(reject / trials, 0.8, 0.05, 'simulated power');
  close(minimumDetectableEffect(1), 1.959964 + 0.841621, 1e-5);
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
