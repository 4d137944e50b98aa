/**
 * The clustered bootstrap engine (src/stats/bootstrap.ts): the binary fast path and the generic path against the
 * closed-form two-stage variance, exact binomial tables, one engine for `assay stats` and the report, and the
 * coverage of its 95% intervals (avg@k and paired difference) over 1,000 simulated runs with known truth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusteredBootstrapMeans, jointClusteredBootstrap, packClusters, percentileInterval, replicateVariance } from '../../src/stats/bootstrap.ts';
import { comparePaired } from '../../src/stats/paired.ts';
import { clusteredBootstrapCI } from '../../src/stats/accuracy.ts';
import { createRng } from '../../src/core/rng.ts';

const close = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);

test('bootstrap: binary fast path and generic path have the closed-form two-stage variance; binomial tables are exact', () => {
  const rng = createRng(21);
  const clusters: number[][] = Array.from({ length: 80 }, () => {
    const p = rng.float();
    return Array.from({ length: 5 }, () => (rng.float() < p ? 1 : 0));
  });
  const n = clusters.length;
  const means = clusters.map((c) => c.reduce((a, b) => a + b, 0) / c.length);
  const mbar = means.reduce((a, b) => a + b, 0) / n;
  // Two-stage bootstrap variance (Davison & Hinkley §3.8): (1/n)[(1/n)Σ(m_i − m̄)² + (1/n)Σ m_i(1 − m_i)/k]
  const closed = (means.reduce((s, m) => s + (m - mbar) ** 2, 0) / n + means.reduce((s, m) => s + (m * (1 - m)) / 5, 0) / n) / n;
  const fast = replicateVariance(clusteredBootstrapMeans(packClusters(clusters), { seed: 1, replicates: 6000, within: true }));
  const generic = replicateVariance(clusteredBootstrapMeans(packClusters(clusters.map((c) => c.map((v) => v * 0.5))), { seed: 2, replicates: 6000, within: true })) * 4;
  close(fast / closed, 1, 0.06, 'fast');
  close(generic / closed, 1, 0.06, 'generic');
  // The default cluster bootstrap (samples only) has variance (1/n)·(1/n)Σ(m_i − m̄)²: the seed noise enters once.
  const samplesOnly = replicateVariance(clusteredBootstrapMeans(packClusters(clusters), { seed: 5, replicates: 6000 }));
  close(samplesOnly / (means.reduce((s, m) => s + (m - mbar) ** 2, 0) / n / n), 1, 0.06, 'samples only');
  // one cluster [1,1,0,0,0]: resampled mean ~ Bin(5, 0.4)/5
  const one = clusteredBootstrapMeans(packClusters([[1, 1, 0, 0, 0]]), { seed: 3, replicates: 40000, within: true });
  const freq = new Array(6).fill(0);
  for (const v of one) freq[Math.round(v * 5)]++;
  const binom = [0.07776, 0.2592, 0.3456, 0.2304, 0.0768, 0.01024];
  freq.forEach((f, x) => close(f / 40000, binom[x]!, 0.008, `x=${x}`));
  // joint bootstrap of one run = single-run bootstrap (same stream)
  const packed = packClusters(clusters);
  assert.deepEqual(Array.from(jointClusteredBootstrap([packed], { seed: 4, replicates: 50 })[0]!), Array.from(clusteredBootstrapMeans(packed, { seed: 4, replicates: 50 })));
  // `assay stats` (accuracy.ts) and the report (this engine) give the same interval for the same seed
  const fromStats = clusteredBootstrapCI(clusters, { seed: 9, replicates: 500 });
  const fromEngine = percentileInterval(clusteredBootstrapMeans(packed, { seed: 9, replicates: 500 }));
  assert.deepEqual([fromStats.lo, fromStats.hi], [fromEngine.lo, fromEngine.hi]);
});

test('simulation: 95% CIs of avg@k and of a paired difference cover the truth 93–97% of 1,000 simulated runs', (t) => {
  const rng = createRng(2025);
  const runs = 1000, n = 80, k = 4;
  let coverMean = 0, coverDiff = 0;
  // Population: question difficulty p_i ∈ {0.2, 0.5, 0.9} equally likely (truth 0.5333); model B is 0.05 worse on every question.
  const truth = (0.2 + 0.5 + 0.9) / 3;
  for (let r = 0; r < runs; r++) {
    const a: number[][] = [], b: number[][] = [];
    for (let i = 0; i < n; i++) {
      const u = rng.float();
      const p = u < 1 / 3 ? 0.2 : u < 2 / 3 ? 0.5 : 0.9;
      a.push(Array.from({ length: k }, () => (rng.float() < p ? 1 : 0)));
      b.push(Array.from({ length: k }, () => (rng.float() < p - 0.05 ? 1 : 0)));
    }
    const ci = percentileInterval(clusteredBootstrapMeans(packClusters(a), { seed: r, replicates: 300 }));
    if (ci.lo <= truth && truth <= ci.hi) coverMean++;
    const cmp = comparePaired(a, b, { seed: r, replicates: 300, permutations: 200 });
    if (cmp.ci95_bootstrap.lo <= 0.05 && 0.05 <= cmp.ci95_bootstrap.hi) coverDiff++;
  }
  t.diagnostic(`coverage: avg@k ${coverMean / runs}, paired difference ${coverDiff / runs}`);
  assert.ok(coverMean / runs >= 0.93 && coverMean / runs <= 0.97, `avg@k coverage ${coverMean / runs}`);
  assert.ok(coverDiff / runs >= 0.93 && coverDiff / runs <= 0.97, `paired difference coverage ${coverDiff / runs}`);
});
