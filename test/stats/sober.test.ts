/**
 * Issue-4 estimators against independent computations on small data (hand-computed values, closed forms, brute-force
 * enumeration) and against simulation with known truth (fixed seeds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusteredBootstrapMeans, jointClusteredBootstrap, packClusters, percentileInterval, replicateVariance } from '../../src/stats/bootstrap.ts';
import { benjaminiHochberg, holm } from '../../src/stats/multiplicity.ts';
import { clusteredMcNemar, comparePaired, mcnemar, minimumDetectableEffect, pairedT, signFlipTest, wilcoxonSignedRank } from '../../src/stats/paired.ts';
import { anovaComponents, decomposeVariance } from '../../src/stats/variance.ts';
import { rankRuns } from '../../src/stats/rank.ts';
import { componentsFromRates, epochsForDifference, mdeOfDesign, samplesForDifference, samplesForHalfWidth, halfWidthOfDesign } from '../../src/stats/power.ts';
import { analyzeTruncation } from '../../src/stats/truncation.ts';
import { clusteredBootstrapCI } from '../../src/stats/accuracy.ts';
import { createRng } from '../../src/core/rng.ts';

const close = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);

test('McNemar exact and mid-p match hand computation; clustered McNemar reduces to McNemar with one pair per cluster', () => {
  // b=5, c=1: X ~ Bin(6, 1/2), P(X ≤ 1) = 7/64, P(X = 1) = 6/64
  const m = mcnemar(5, 1);
  close(m.p_exact, 14 / 64, 1e-12);
  close(m.p_mid, 2 * (7 / 64 - 3 / 64), 1e-12);
  assert.equal(mcnemar(3, 3).p_exact, 1);
  close(mcnemar(3, 3).p_mid, 1, 1e-12);
  assert.deepEqual(mcnemar(0, 0), { b: 0, c: 0, p_exact: 1, p_mid: 1 });
  // Durkalski with b_i, c_i ∈ {0,1} per cluster = (b − c)²/(b + c)
  const pairs = [...Array(7).fill({ b: 1, c: 0 }), ...Array(2).fill({ b: 0, c: 1 }), ...Array(10).fill({ b: 0, c: 0 })];
  close(clusteredMcNemar(pairs).statistic, 25 / 9, 1e-12);
});

test('sign-flip permutation test equals brute-force enumeration; Monte Carlo agrees with exact', () => {
  close(signFlipTest([1, 2, 3], { seed: 0 }).p, 2 / 8, 1e-12);
  const rng = createRng(5);
  const d = Array.from({ length: 12 }, () => Math.round((rng.float() - 0.35) * 10) / 10);
  // brute force
  const nz = d.filter((v) => v !== 0);
  const obs = Math.abs(nz.reduce((s, v) => s + v, 0));
  let count = 0;
  for (let mask = 0; mask < 1 << nz.length; mask++) {
    let s = 0;
    nz.forEach((v, i) => (s += mask & (1 << i) ? -v : v));
    if (Math.abs(s) >= obs - 1e-9) count++;
  }
  const exact = signFlipTest(d, { seed: 0 });
  assert.equal(exact.method, 'exact');
  close(exact.p, count / 2 ** nz.length, 1e-12);
  const mc = signFlipTest(d, { seed: 1, exactMax: 0, permutations: 20000 });
  assert.equal(mc.method, 'monte carlo');
  close(mc.p, exact.p, 0.01);
  assert.equal(signFlipTest([0, 0], { seed: 0 }).p, 1);
});

test('paired t matches the textbook value; Wilcoxon signed-rank exact matches enumeration, with ties, and the normal approximation', () => {
  const t = pairedT([1, 2, 3, 4]);
  close(t.t, 2.5 / (Math.sqrt(5 / 3) / 2), 1e-12);
  close(t.p, 0.030466, 1e-5); // R: t.test(c(1,2,3,4))$p.value = 0.03046
  // Wilcoxon: 5 positive differences, no ties → P(W+ ≥ 15) = 1/32, two-sided 1/16
  close(wilcoxonSignedRank([1, 2, 3, 4, 5]).p, 1 / 16, 1e-12);
  // ties and a zero: brute force over signs of average ranks
  const d = [0.5, -0.5, 1, 1, -2, 3, 0, 0.5, -1];
  const nz = d.filter((v) => v !== 0);
  const abs = nz.map(Math.abs);
  const rank = abs.map((a) => {
    const less = abs.filter((b) => b < a).length, eq = abs.filter((b) => b === a).length;
    return less + (eq + 1) / 2;
  });
  const w = nz.reduce((s, v, i) => s + (v > 0 ? rank[i]! : 0), 0);
  let lo = 0, hi = 0;
  const total = 2 ** nz.length;
  for (let mask = 0; mask < total; mask++) {
    let s = 0;
    rank.forEach((r, i) => (s += mask & (1 << i) ? r : 0));
    if (s <= w + 1e-9) lo++;
    if (s >= w - 1e-9) hi++;
  }
  const res = wilcoxonSignedRank(d);
  assert.equal(res.w_plus, w);
  close(res.p, Math.min(1, (2 * Math.min(lo, hi)) / total), 1e-12);
  // normal approximation (m > 200) close to the exact distribution just below the threshold
  const rng = createRng(9);
  const big = Array.from({ length: 200 }, () => rng.float() - 0.45);
  const ex = wilcoxonSignedRank(big);
  const approx = wilcoxonSignedRank([...big, 1e-6]); // 201 non-zero → normal
  assert.equal(ex.method, 'exact');
  assert.equal(approx.method, 'normal');
  close(approx.p, ex.p, 0.01);
});

test('Holm and Benjamini–Hochberg adjusted p-values match hand computation', () => {
  const p = [0.01, 0.04, 0.03, 0.005];
  holm(p).forEach((v, i) => close(v, [0.03, 0.06, 0.06, 0.02][i]!, 1e-12));
  benjaminiHochberg(p).forEach((v, i) => close(v, [0.02, 0.04, 0.04, 0.02][i]!, 1e-12));
  assert.ok(Number.isNaN(holm([NaN, 0.01])[0]!));
  close(holm([NaN, 0.01])[1]!, 0.01, 1e-12);
});

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

test('truncation: accuracy with and without truncated attempts and by length bins, by hand', () => {
  const recs = [
    { sample_id: 'a', epoch: 0, value: 1, truncated: false, length: 10 },
    { sample_id: 'a', epoch: 1, value: 0, truncated: true, length: 100 },
    { sample_id: 'b', epoch: 0, value: 0, truncated: false, length: 20 },
    { sample_id: 'b', epoch: 1, value: 1, truncated: false, length: 30 },
    { sample_id: 'c', epoch: 0, value: 0, truncated: true, length: 100 },
    { sample_id: 'c', epoch: 1, value: null, truncated: false, length: 5 },
  ];
  const t = analyzeTruncation(recs, 'tokens', { seed: 0, bins: 2, histBins: 4, replicates: 100 });
  assert.equal(t.truncated, 2);
  close(t.accuracy_all, (0.5 + 0.5 + 0) / 3, 1e-12);
  close(t.accuracy_without_truncated!, (1 + 0.5) / 2, 1e-12);
  assert.equal(t.accuracy_of_truncated, 0);
  assert.equal(t.bins.reduce((s, b) => s + b.attempts, 0), 5);
  assert.equal(t.histogram.correct.reduce((a, b) => a + b, 0) + t.histogram.incorrect.reduce((a, b) => a + b, 0), 5);
  assert.equal(t.histogram.incorrect[3], 2, 'the two truncated (length 100) attempts are incorrect and in the last bin');
});

test('sweep analysis: a factor that moves every question is beyond the seed noise, one that moves nothing is inside it', async () => {
  const { analyzeSweep, expandGrid } = await import('../../src/stats/sweep.ts');
  assert.deepEqual(expandGrid([{ factor: 'temperature', levels: [0, 1] }, { factor: 'seed', levels: [0, 1] }]), [
    { temperature: 0, seed: 0 }, { temperature: 0, seed: 1 }, { temperature: 1, seed: 0 }, { temperature: 1, seed: 1 },
  ]);
  const rng = createRng(4);
  const n = 150;
  const base = Array.from({ length: n }, () => 0.2 + 0.6 * rng.float());
  const runs: import('../../src/core/schemas.ts').RunRecord[] = [];
  const clusters: number[][][] = [];
  for (const template of ['a', 'b']) {
    for (const temperature of [0, 1]) {
      for (const seed of [0, 1, 2]) {
        const shift = template === 'b' ? -0.15 : 0; // template matters, temperature does not
        runs.push({ id: `${template}${temperature}${seed}`, spec: { model: 'm', dataset: { hash: 'h' }, template: { name: template, hash: template }, config: { temperature, seed, chat_template: true } } } as never);
        clusters.push(base.map((p) => Array.from({ length: 2 }, () => (rng.float() < p + shift ? 1 : 0))));
      }
    }
  }
  const a = analyzeSweep(runs, clusters, { seed: 1, replicates: 300 });
  const by = Object.fromEntries(a.factors.map((f) => [f.factor, f]));
  assert.equal(by.template!.verdict, 'beyond seed noise');
  assert.equal(by.template!.best, 'a');
  close(by.template!.range, 0.15, 0.05);
  assert.equal(by.temperature!.verdict, 'inside seed noise');
  assert.ok(a.seed_sd_observed! > 0);
  close(a.seed_sd_observed!, a.seed_sd_model, 0.02, 'observed vs model-based seed noise');
  assert.ok(!('seed' in by), 'seed is the noise, not a factor');
});
