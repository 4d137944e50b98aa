/**
 * Variance decomposition (src/stats/variance.ts): one-way ANOVA components against hand computation and the Wald SE,
 * and the variance of k-epoch means against simulated data with known between- and within-sample components.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anovaComponents, decomposeVariance } from '../../src/stats/variance.ts';
import { createRng } from '../../src/core/rng.ts';

const close = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);

test('ANOVA variance components match hand computation; the model SE at the run\'s k equals the Wald SE (balanced)', () => {
  const c = anovaComponents([[1, 1, 0], [0, 0, 0], [1, 1, 1]]);
  close(c.msw, 1 / 9, 1e-12);
  close(c.msb, 7 / 9, 1e-12);
  close(c.k0, 3, 1e-12);
  close(c.between, 2 / 9, 1e-12);
  const rng = createRng(3);
  const clusters: number[][] = Array.from({ length: 60 }, () => {
    const p = rng.float();
    return Array.from({ length: 4 }, () => (rng.float() < p ? 1 : 0));
  });
  const v = decomposeVariance(clusters, { seed: 1, replicates: 200 });
  const means = clusters.map((x) => x.reduce((a, b) => a + b, 0) / 4);
  const m = means.reduce((a, b) => a + b, 0) / 60;
  const wald = means.reduce((s, x) => s + (x - m) ** 2, 0) / 59 / 60;
  close(v.var_mean, wald, 1e-12);
  close(v.curve.find((p) => p.k === 4)!.var_observed!, wald, 1e-12);
});

test('variance vs k: observed variance of k-epoch means follows σ²_b/n + σ²_w/(n·k) on simulated data with known components', () => {
  // p_i ~ Beta-like two-point mixture: σ²_b = Var(p_i), σ²_w = E[p_i(1 − p_i)]
  const rng = createRng(11);
  const n = 400, K = 16;
  const clusters = Array.from({ length: n }, () => {
    const p = rng.float() < 0.5 ? 0.8 : 0.3;
    return Array.from({ length: K }, () => (rng.float() < p ? 1 : 0));
  });
  const sb = 0.25 ** 2, sw = 0.5 * (0.8 * 0.2 + 0.3 * 0.7);
  const v = decomposeVariance(clusters, { seed: 2, replicates: 200 });
  close(v.within_variance, sw, 0.01, 'σ²_w');
  close(v.between_variance, sb, 0.012, 'σ²_b');
  for (const k of [1, 2, 4, 8, 16]) {
    const p = v.curve.find((c) => c.k === k)!;
    const truth = sb / n + sw / (n * k);
    assert.ok(Math.abs(p.var_observed! - truth) / truth < 0.25, `k=${k}: observed ${p.var_observed} vs ${truth}`);
  }
  // monotone decreasing towards the floor
  for (let i = 1; i < v.curve.length; i++) assert.ok(v.curve[i]!.var_total <= v.curve[i - 1]!.var_total);
  assert.ok(v.curve.at(-1)!.var_total - v.var_mean_questions < v.var_mean_seed);
});
