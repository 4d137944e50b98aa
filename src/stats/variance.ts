/**
 * Variance decomposition of avg@k into seed noise (within-sample) and question-sampling noise (between-sample),
 * and how the variance of the mean falls with the number of epochs k.
 *
 * Model (one-way random effects; Searle, Casella & McCulloch 1992, "Variance Components", ch. 3): the score of
 * epoch j on sample i is y_ij = μ + a_i + e_ij, with Var(a_i) = σ²_b (between-sample: questions differ in
 * difficulty) and Var(e_ij) = σ²_w (within-sample: seed noise of one attempt). With n samples and k epochs each,
 *
 *     Var(avg@k) = σ²_b / n + σ²_w / (n·k)
 *
 * (Miller 2024, "Adding Error Bars to Evals: A Statistical Approach to Language Model Evaluations",
 * arXiv:2411.00640, section "Reducing variance: resampling answers"): the seed part falls like 1/k, the question part is a floor set by n
 * that no number of epochs removes.
 */
import { sampleStd } from './accuracy.ts';
import { clusteredBootstrapMeans, packClusters, percentileInterval } from './bootstrap.ts';
import { createRng } from '../core/rng.ts';

/** One point of the variance-vs-k curve (variances of the mean in squared score units; SEs in score units). */
export interface VarianceCurvePoint {
  k: number;
  /** Model-based Var(avg@k) = σ²_b/n + σ²_w/(n·k). */
  var_total: number;
  /** Seed part σ²_w/(n·k). */
  var_seed: number;
  /** Question-sampling part σ²_b/n (the floor). */
  var_questions: number;
  se_total: number;
  /**
   * Observed: the variance of k-epoch per-sample means over samples, divided by n, averaged over random k-subsets
   * of each sample's epochs (unbiased for Var(avg@k) without using the model). Null for k beyond the recorded epochs.
   */
  var_observed: number | null;
  se_observed: number | null;
}

export interface VarianceDecomposition {
  /** Samples with at least one graded epoch. */
  samples: number;
  /** Graded attempts N = Σ k_i. */
  attempts: number;
  /** Mean number of graded epochs per sample. */
  epochs_mean: number;
  /** avg@k (mean of per-sample means). */
  mean: number;
  /** σ²_w: variance of one attempt's score around its sample's mean (seed noise), ANOVA estimate MSW. */
  within_variance: number;
  /** σ²_b: variance of samples' true scores (question difficulty), ANOVA estimate (MSB − MSW)/k₀, floored at 0. */
  between_variance: number;
  /** Intra-class correlation σ²_b/(σ²_b + σ²_w). */
  icc: number;
  /** Var(avg@k) at this run's k from the components; `se_mean` its root. */
  var_mean: number;
  se_mean: number;
  /** Its seed part σ²_w/(n·k̄) and question part σ²_b/n. */
  var_mean_seed: number;
  var_mean_questions: number;
  /** Share of Var(avg@k) due to seed noise at this run's k. */
  seed_share: number;
  /** Std over epochs of per-epoch accuracy: the seed noise of a single-epoch score (not a CI). Null with one epoch. */
  std_over_epochs: number | null;
  /** Clustered bootstrap 95% CI of the mean (percentile), seeded. */
  ci95_bootstrap: { lo: number; hi: number; replicates: number; seed: number };
  curve: VarianceCurvePoint[];
}

/**
 * One-way ANOVA variance components for unbalanced clusters (Searle, Casella & McCulloch 1992, §3.6, eqs. 3.90–3.92):
 * MSW = SSW/(N − n), MSB = SSB/(n − 1) with SSB = Σ k_i (ȳ_i − ȳ)², ȳ the attempt-weighted grand mean,
 * k₀ = (N − Σ k_i²/N)/(n − 1), σ̂²_w = MSW, σ̂²_b = max(0, (MSB − MSW)/k₀).
 * Returns NaN for σ²_w when every sample has one epoch, NaN for σ²_b when n < 2.
 */
export function anovaComponents(clusters: number[][]): { within: number; between: number; msw: number; msb: number; k0: number } {
  const n = clusters.length;
  let N = 0, sum = 0, sumK2 = 0, ssw = 0;
  const means: number[] = [];
  for (const c of clusters) {
    let s = 0;
    for (const v of c) s += v;
    const m = s / c.length;
    means.push(m);
    for (const v of c) ssw += (v - m) ** 2;
    N += c.length;
    sum += s;
    sumK2 += c.length ** 2;
  }
  const grand = sum / N;
  let ssb = 0;
  for (let i = 0; i < n; i++) ssb += clusters[i]!.length * (means[i]! - grand) ** 2;
  const msw = N > n ? ssw / (N - n) : NaN;
  const msb = n > 1 ? ssb / (n - 1) : NaN;
  const k0 = n > 1 ? (N - sumK2 / N) / (n - 1) : NaN;
  const between = Number.isNaN(msw) ? (n > 1 ? sampleVar(means) : NaN) : Math.max(0, (msb - msw) / k0);
  return { within: msw, between, msw, msb, k0 };
}

function sampleVar(values: number[]): number {
  const s = sampleStd(values);
  return s * s;
}

/**
 * Decompose a run's variance. `clusters[i]`: sample i's graded values (non-empty); `perEpoch`: accuracy of each
 * epoch over samples (for the std over epochs, as `assay stats` computes it). `ks`: the k values of the curve
 * (default 1, 2, 3, …, K then 2K, 4K, 8K; observed points only up to the smallest complete k).
 * Seeded (bootstrap and subset draws). Errors: RangeError when no cluster is given.
 */
export function decomposeVariance(
  clusters: number[][],
  opts: { seed: number; replicates?: number; perEpoch?: number[]; ks?: number[]; subsetDraws?: number },
): VarianceDecomposition {
  const n = clusters.length;
  if (n === 0) throw new RangeError('variance decomposition needs at least one sample with a graded epoch');
  const { within, between } = anovaComponents(clusters);
  const N = clusters.reduce((s, c) => s + c.length, 0);
  const kbar = N / n;
  const means = clusters.map((c) => c.reduce((s, v) => s + v, 0) / c.length);
  const mean = means.reduce((s, v) => s + v, 0) / n;
  const w = Number.isNaN(within) ? 0 : within;
  const varSeed = w / (n * kbar);
  const varQ = between / n;
  const varMean = varSeed + varQ;
  const packed = packClusters(clusters);
  const reps = clusteredBootstrapMeans(packed, { seed: opts.seed, replicates: opts.replicates ?? 2000 });
  const ci = percentileInterval(reps);
  const kMin = Math.min(...clusters.map((c) => c.length));
  const K = Math.max(...clusters.map((c) => c.length));
  const ks = opts.ks ?? defaultKs(K);
  const rng = createRng(opts.seed + 7);
  const draws = opts.subsetDraws ?? 50;
  const curve: VarianceCurvePoint[] = ks.map((k) => {
    const vs = w / (n * k);
    let observed: number | null = null;
    if (k <= kMin && n > 1) {
      let acc = 0;
      const D = k === kMin ? 1 : draws;
      for (let d = 0; d < D; d++) {
        const sub = clusters.map((c) => subsetMean(c, k, rng));
        acc += sampleVar(sub) / n;
      }
      observed = acc / D;
    }
    return { k, var_total: vs + varQ, var_seed: vs, var_questions: varQ, se_total: Math.sqrt(vs + varQ), var_observed: observed, se_observed: observed == null ? null : Math.sqrt(observed) };
  });
  return {
    samples: n,
    attempts: N,
    epochs_mean: kbar,
    mean,
    within_variance: within,
    between_variance: between,
    icc: between / (between + w),
    var_mean: varMean,
    se_mean: Math.sqrt(varMean),
    var_mean_seed: varSeed,
    var_mean_questions: varQ,
    seed_share: varMean > 0 ? varSeed / varMean : NaN,
    std_over_epochs: opts.perEpoch && opts.perEpoch.length > 1 ? sampleStd(opts.perEpoch) : null,
    ci95_bootstrap: { ...ci, replicates: opts.replicates ?? 2000, seed: opts.seed },
    curve,
  };
}

/** 1, 2, …, K (at most 16 points), then 2K, 4K, 8K (model only). */
function defaultKs(K: number): number[] {
  const ks = new Set<number>();
  if (K <= 16) for (let k = 1; k <= K; k++) ks.add(k);
  else for (let k = 1; k <= K; k *= 2) ks.add(k);
  ks.add(K);
  for (const f of [2, 4, 8]) ks.add(K * f);
  return [...ks].sort((a, b) => a - b);
}

/** Mean of a uniformly random k-subset (without replacement) of `c` (partial Fisher–Yates). */
function subsetMean(c: number[], k: number, rng: ReturnType<typeof createRng>): number {
  if (k >= c.length) return c.reduce((s, v) => s + v, 0) / c.length;
  const a = c.slice();
  let s = 0;
  for (let j = 0; j < k; j++) {
    const r = j + rng.index(a.length - j);
    const t = a[r]!;
    a[r] = a[j]!;
    a[j] = t;
    s += t;
  }
  return s / k;
}
