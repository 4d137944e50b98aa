/**
 * Statistics for one run: accuracy as avg@k with its headline 95% interval (the clustered score interval of
 * src/stats/intervals.ts, chosen by simulation: bench/coverage.ts), the clustered-bootstrap and Wald intervals beside it
 * (labelled), std over epochs, unbiased pass@k and maj@k with intervals, and counts of truncated, failed and
 * ungraded attempts. Every interval carries its method and its estimand (the population of questions).
 *
 * Input shape: one `SampleScores` per sample, holding that sample's per-epoch outcomes (the one rule of
 * src/core/outcome.ts: binary values 0/1 and extracted answers; 0 for a grader timeout; `value: null` for a failed
 * model call or a grader error). Failed attempts have no response: they are excluded from accuracy and counted (a rerun retries
 * them). Grader errors (`grader_error`: a bad gold, an unreachable judge) are excluded the same way. Grader
 * timeouts count as wrong in the headline accuracy (so hostile or junk answers can never raise a score), and the
 * accuracy with them left out is reported beside it. All are counted and shown.
 */
import type { Outcome } from '../core/outcome.ts';
import type { Metric, MetricInfo } from '../core/schemas.ts';
import { clusteredBootstrapMeans, packClusters, percentileInterval } from './bootstrap.ts';
import { studentTQuantile } from './distributions.ts';
import { clusteredScoreInterval, countTable, countTableOfTotals, effectiveWilsonInterval, POPULATION_ESTIMAND, wilsonInterval, type CountTable, type LabelledInterval } from './intervals.ts';

/**
 * One attempt as the statistics count it: an `Outcome` of the one rule (src/core/outcome.ts): `value` 0/1; 0 for a
 * grader timeout (`timeout` true); null when excluded (a failed model call, `failed` true, or a grader error).
 */
export type EpochScore = Outcome;

export interface SampleScores {
  sample_id: string;
  epochs: EpochScore[];
}

export interface Interval {
  lo: number;
  hi: number;
}

/**
 * Unbiased pass@k estimator (Chen et al. 2021, "Evaluating Large Language Models Trained on Code", eq. 1):
 * pass@k = 1 − C(n−c, k) / C(n, k), for n attempts of which c are correct. Computed as a running product
 * ∏_{i=n−c+1}^{n} (1 − k/i) for numerical stability. Errors: throws RangeError unless 0 ≤ c ≤ n and 1 ≤ k ≤ n.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!(Number.isInteger(n) && Number.isInteger(c) && Number.isInteger(k)) || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`pass@k needs 0 ≤ c ≤ n and 1 ≤ k ≤ n (n=${n}, c=${c}, k=${k})`);
  }
  if (n - c < k) return 1;
  if (k === 1) return c / n;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/**
 * Majority vote over a sample's epochs (maj@k, Wang et al. 2022 "self-consistency"): the most frequent extracted
 * answer wins; ties are broken by the answer that appeared first (lowest epoch). Returns the winner's verdict (0/1),
 * or null if no epoch has both an extracted answer and a verdict.
 */
export function majorityVote(epochs: EpochScore[]): number | null {
  const counts = new Map<string, { n: number; first: number; value: number }>();
  for (const e of epochs) {
    const value = e.value; // a grader timeout (0) votes for its answer as a wrong one, as in the headline accuracy
    if (e.extracted == null || value == null) continue;
    const key = e.extracted.trim();
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { n: 1, first: e.epoch, value });
  }
  let best: { n: number; first: number; value: number } | null = null;
  for (const c of counts.values()) if (!best || c.n > best.n || (c.n === best.n && c.first < best.first)) best = c;
  return best ? best.value : null;
}

/** Mean of the non-null values; NaN when there are none. */
function meanOf(values: number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return values.length ? s / values.length : NaN;
}

/**
 * Cluster bootstrap of avg@k (Field & Welsh 2007, "Bootstrapping clustered data", JRSS-B 69:369, §3; DESIGN.md §5):
 * resample samples with replacement, each with all its epochs, and take the mean of per-sample means. Each
 * sample's mean already carries its seed noise, so the interval covers both question sampling and seed noise
 * (Var = σ²_b/n + σ²_w/(nk)); resampling epochs again within a sample would count the seed noise twice (see
 * src/stats/bootstrap.ts). Returns the percentile interval at level `1 − alpha`. `clusters[i]` holds sample i's
 * graded values (0/1 or numeric); empty clusters must be removed by the caller. Seeded: the same seed gives the
 * same interval as the report and `compare` (one engine: src/stats/bootstrap.ts).
 */
export function clusteredBootstrapCI(clusters: number[][], opts: { replicates?: number; seed: number; alpha?: number }): Interval & { replicates: number; seed: number } {
  const B = opts.replicates ?? 2000;
  if (clusters.length === 0) return { lo: NaN, hi: NaN, replicates: B, seed: opts.seed };
  const { lo, hi } = percentileInterval(clusteredBootstrapMeans(packClusters(clusters), { seed: opts.seed, replicates: B }), opts.alpha ?? 0.05);
  return { lo, hi, replicates: B, seed: opts.seed };
}

export { quantileSorted } from './quantile.ts';

/** Sample standard deviation (n − 1 denominator); NaN for fewer than 2 values. */
export function sampleStd(values: number[]): number {
  if (values.length < 2) return NaN;
  const m = meanOf(values);
  let ss = 0;
  for (const v of values) ss += (v - m) ** 2;
  return Math.sqrt(ss / (values.length - 1));
}

export interface RunStatistics {
  /** Samples with at least one graded attempt. */
  samples: number;
  /** Samples planned in the run. */
  samples_planned: number;
  epochs: number;
  attempts: number;
  graded: number;
  /** Attempts whose model call failed after retries (value null, excluded). */
  failed: number;
  /** Attempts with a grader timeout or grader error (value null). Timeouts count as wrong in `accuracy`; grader errors are excluded. */
  ungraded: number;
  /** Of `ungraded`, those with a grader error (excluded from accuracy, like failed calls). */
  grader_errors: number;
  /** avg@k with ungraded attempts left out instead of counted wrong (null when there are none). */
  accuracy_excluding_ungraded: number | null;
  /** Graded attempts where nothing could be extracted (scored 0). */
  no_answer: number;
  /** Attempts with finish reason `length`. */
  truncated: number;
  /** avg@k: mean over samples of the per-sample mean over graded epochs. */
  accuracy: number;
  /**
   * The headline 95% interval of avg@k (`headlineInterval`): for 0/1 scores the clustered score interval
   * (src/stats/intervals.ts), which holds from 10 questions and near 0 or 1 and is never of zero width; its method,
   * its estimand, the moment intra-class correlation of epochs and the effective number of attempts.
   */
  ci95: LabelledInterval & { effective_n: number; icc_moment: number | null };
  /** Cluster percentile bootstrap (kept beside the headline, labelled; under-covers on small benchmarks and near 0 or 1). */
  ci95_bootstrap: Interval & { method: 'cluster bootstrap over samples (each with its epochs)'; estimand: string; replicates: number; seed: number };
  /** Wald interval p ± 1.96·SE with SE from the between-sample variance of per-sample means (clipped to [0, 1]; labelled). */
  ci95_wald: Interval & { se: number; method: string; estimand: string };
  /** Accuracy of each epoch over samples, and the std of those (this is seed noise only, not a CI). */
  per_epoch_accuracy: number[];
  std_over_epochs: number;
  /** Accuracy with truncated attempts removed (null when there are none). */
  accuracy_without_truncated: number | null;
  /** pass@k for k = 1, 2, 4, … up to the number of epochs (unbiased estimator), averaged over the samples with ≥ k graded attempts. */
  pass_at_k: Record<string, number>;
  /** How many samples each pass@k is averaged over (fewer than `samples` when some attempts failed). */
  pass_at_k_samples: Record<string, number>;
  /**
   * 95% interval of each pass@k (population of questions): pass@1 is avg@k and gets the headline interval; pass@k
   * with k = a sample's every epoch is 0/1 per sample and gets Wilson's interval on the samples; other k get
   * Wilson's interval on the samples too, which is conservative (each sample's estimate counted as one Bernoulli
   * trial; values in [0, 1] never vary more): the effective-n version under-covered near 1 in simulation (bench/coverage.ts).
   */
  pass_at_k_ci95: Record<string, LabelledInterval>;
  /**
   * maj@k with k = epochs (majority of extracted answers): 0/1 per sample, so its interval is Wilson's on the
   * samples (population of questions); the cluster bootstrap beside it, labelled.
   */
  maj_at_k: { k: number; value: number; ci95: LabelledInterval; ci95_bootstrap: Interval } | null;
  /**
   * The scale and direction of the values (when the caller knew it): `binary`/`proportion` means are proportions
   * (shown as %), a `numeric` mean is a number in `unit` (`accuracy` then holds that mean; its intervals are unclamped).
   */
  metric?: Metric | MetricInfo;
}

/**
 * The headline interval of a mean over samples, by the kind of scores (module docstring of src/stats/intervals.ts):
 * 0/1 scores: the clustered score interval; other scores in [0, 1]: Wilson on the effective number of samples;
 * anything else, and any scores of a `numeric` metric (`opts.numeric`, whatever their range): the t interval over
 * per-sample means (df n − 1), never clamped. NaN bounds for no samples.
 */
export function headlineInterval(clusters: number[][], level = 0.95, opts: { numeric?: boolean } = {}): LabelledInterval & { effective_n: number; icc_moment: number | null } {
  const n = clusters.length;
  if (n === 0) return noHeadline(level);
  const table = opts.numeric ? null : countTable(clusters);
  if (table) return binaryHeadline(table, level);
  const means = clusters.map(meanOf);
  let total = 0;
  for (const c of clusters) total += c.length;
  if (!opts.numeric && means.every((m) => m >= 0 && m <= 1)) return proportionHeadline(means, total, level);
  return tHeadline(means, level);
}

/**
 * `headlineInterval` of clusters given by their totals: cluster i holds `k[i]` ≥ 1 scores summing to `s[i]` (a verdict
 * counted w times is w scores), `binary` when every score is 0 or 1. The same interval as `headlineInterval` of the
 * clusters written out (0/1 scores: the clustered score interval; other scores in [0, 1]: Wilson on the effective
 * number of samples; `numeric`, or scores outside [0, 1]: the t interval over per-sample means), without holding every
 * score: a battle of weight 10⁶ is two numbers. Errors: RangeError when `binary` and a total is not a whole count.
 */
export function headlineIntervalOfTotals(k: ArrayLike<number>, s: ArrayLike<number>, opts: { binary: boolean; numeric?: boolean }, level = 0.95): LabelledInterval & { effective_n: number; icc_moment: number | null } {
  const n = k.length;
  if (n === 0) return noHeadline(level);
  if (opts.binary && !opts.numeric) return binaryHeadline(countTableOfTotals(k, s), level);
  const means: number[] = new Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    means[i] = s[i]! / k[i]!;
    total += k[i]!;
  }
  if (!opts.numeric && means.every((m) => m >= 0 && m <= 1)) return proportionHeadline(means, total, level);
  return tHeadline(means, level);
}

function noHeadline(level: number): LabelledInterval & { effective_n: number; icc_moment: number | null } {
  return { lo: NaN, hi: NaN, level, method: 'none (no graded sample)', estimand: POPULATION_ESTIMAND, effective_n: 0, icc_moment: null };
}

function binaryHeadline(table: CountTable, level: number): LabelledInterval & { effective_n: number; icc_moment: number | null } {
  const r = clusteredScoreInterval(table, { level });
  return {
    lo: r.lo, hi: r.hi, level, estimand: POPULATION_ESTIMAND, effective_n: r.effective_n, icc_moment: r.icc_moment,
    method: table.kmax === 1 ? 'Wilson score on the samples (one epoch each)' : 'clustered score (Wilson-type; design effect from the clustered variance and the beta-binomial fit, the larger)',
  };
}

function tHeadline(means: number[], level: number): LabelledInterval & { effective_n: number; icc_moment: number | null } {
  const n = means.length;
  const m = meanOf(means);
  const half = n > 1 ? studentTQuantile(1 - (1 - level) / 2, n - 1) * (sampleStd(means) / Math.sqrt(n)) : NaN;
  return { lo: m - half, hi: m + half, level, method: `t interval over per-sample means (df ${n - 1})`, estimand: POPULATION_ESTIMAND, effective_n: n, icc_moment: null };
}

function proportionHeadline(means: ArrayLike<number>, total: number, level: number): LabelledInterval & { effective_n: number; icc_moment: number | null } {
  const r = effectiveWilsonInterval(means, total, level);
  return { lo: r.lo, hi: r.hi, level, method: 'Wilson score on the effective number of samples (scores in [0, 1])', estimand: POPULATION_ESTIMAND, effective_n: r.effective_n, icc_moment: null };
}

/**
 * Compute run statistics from per-sample scores. `seed` is the bootstrap seed (recorded in the output).
 * Shapes: `samples[i].epochs` may differ in length (failed attempts); values are 0/1 for pass@k and maj@k.
 */
export function computeRunStatistics(samples: SampleScores[], opts: { seed: number; epochs: number; replicates?: number; samplesPlanned?: number; metric?: Metric | MetricInfo }): RunStatistics {
  // Numeric metrics (bits per byte, log-likelihood): numbers in their unit, unbounded: a t interval over per-sample
  // means, an unclamped normal interval, no pass@k or maj@k (they read 0/1 verdicts).
  const numeric = opts.metric?.kind === 'numeric';
  let attempts = 0, graded = 0, truncated = 0, ungraded = 0, noAnswer = 0, graderErrors = 0;
  const clusters: number[][] = [];
  const clustersNoTrunc: number[][] = [];
  const perEpoch = new Map<number, { s: number; n: number }>();
  const passSums = new Map<number, { s: number; n: number }>();
  const majValues: number[][] = [];
  const ks: number[] = [];
  for (let k = 1; k <= opts.epochs; k *= 2) ks.push(k);
  if (ks[ks.length - 1] !== opts.epochs) ks.push(opts.epochs);
  const excludingUngraded: number[] = [];
  for (const s of samples) {
    const values: number[] = [];
    const gradedValues: number[] = [];
    const noTrunc: number[] = [];
    for (const e of s.epochs) {
      attempts++;
      if (e.truncated) truncated++;
      if (e.value == null) {
        if (e.failed) continue;
        // A grader failure (bad gold, unreachable judge) says nothing about the model: excluded, like a failed call.
        ungraded++;
        graderErrors++;
        continue;
      }
      values.push(e.value);
      if (!e.truncated) noTrunc.push(e.value);
      const pe = perEpoch.get(e.epoch) ?? { s: 0, n: 0 };
      pe.s += e.value;
      pe.n++;
      perEpoch.set(e.epoch, pe);
      if (e.timeout) {
        // A response the grader could not judge in its time budget (hostile or huge answers) is already 0 here:
        // junk can never raise a score; `accuracy_excluding_ungraded` shows the other bound.
        ungraded++;
        continue;
      }
      gradedValues.push(e.value);
      graded++;
      if (e.extracted == null && e.value === 0) noAnswer++;
    }
    if (values.length) {
      clusters.push(values);
      const n = values.length;
      const c = values.filter((v) => v >= 0.5).length;
      for (const k of ks) {
        if (k > n || numeric) continue;
        const p = passSums.get(k) ?? { s: 0, n: 0 };
        p.s += passAtK(n, c, k);
        p.n++;
        passSums.set(k, p);
      }
      const maj = numeric ? null : majorityVote(s.epochs);
      if (maj != null) majValues.push([maj]);
    }
    if (noTrunc.length) clustersNoTrunc.push(noTrunc);
    if (gradedValues.length) excludingUngraded.push(meanOf(gradedValues));
  }
  const failedAndUngraded = attempts - graded;
  const perSampleMeans = clusters.map(meanOf);
  const accuracy = meanOf(perSampleMeans);
  const se = sampleStd(perSampleMeans) / Math.sqrt(perSampleMeans.length);
  const boot = clusteredBootstrapCI(clusters, { seed: opts.seed, replicates: opts.replicates });
  const perEpochAcc = [...perEpoch.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v.s / v.n);
  const headline = headlineInterval(clusters, 0.95, { numeric });
  const passAt: Record<string, number> = {};
  const passN: Record<string, number> = {};
  const passCi: Record<string, LabelledInterval> = {};
  for (const k of ks) {
    const p = passSums.get(k);
    if (p && p.n) {
      const key = `pass@${k}`;
      passAt[key] = p.s / p.n;
      passN[key] = p.n;
      if (k === 1 && p.n === clusters.length) passCi[key] = { lo: headline.lo, hi: headline.hi, level: 0.95, method: headline.method, estimand: headline.estimand };
      else {
        const w = wilsonInterval(Math.min(1, Math.max(0, p.s / p.n)), p.n);
        passCi[key] = { ...w, level: 0.95, method: 'Wilson score on the samples (conservative unless k is every epoch)', estimand: POPULATION_ESTIMAND };
      }
    }
  }
  let majAtK: RunStatistics['maj_at_k'] = null;
  if (opts.epochs > 1 && majValues.length) {
    const ci = clusteredBootstrapCI(majValues, { seed: opts.seed + 1, replicates: opts.replicates });
    const value = meanOf(majValues.map((v) => v[0]!));
    const w = wilsonInterval(value, majValues.length);
    majAtK = { k: opts.epochs, value, ci95: { ...w, level: 0.95, method: 'Wilson score on the samples (majority verdict 0/1 per sample)', estimand: POPULATION_ESTIMAND }, ci95_bootstrap: { lo: ci.lo, hi: ci.hi } };
  }
  return {
    samples: clusters.length,
    samples_planned: opts.samplesPlanned ?? samples.length,
    epochs: opts.epochs,
    attempts,
    graded,
    failed: failedAndUngraded - ungraded,
    ungraded,
    grader_errors: graderErrors,
    no_answer: noAnswer,
    truncated,
    accuracy,
    ci95: headline,
    ci95_bootstrap: { lo: boot.lo, hi: boot.hi, method: 'cluster bootstrap over samples (each with its epochs)', estimand: POPULATION_ESTIMAND, replicates: boot.replicates, seed: boot.seed },
    // clipped to the range of the score (a proportion cannot leave [0, 1]; the SE is reported unclipped); a numeric
    // metric is unbounded and never clipped
    ci95_wald: numeric
      ? { lo: accuracy - 1.959964 * se, hi: accuracy + 1.959964 * se, se, method: 'normal mean ± 1.96·SE (SE over per-sample means; unclamped)', estimand: POPULATION_ESTIMAND }
      : { lo: Math.max(0, accuracy - 1.959964 * se), hi: Math.min(1, accuracy + 1.959964 * se), se, method: 'Wald p ± 1.96·SE (SE over per-sample means)', estimand: POPULATION_ESTIMAND },
    per_epoch_accuracy: perEpochAcc,
    std_over_epochs: sampleStd(perEpochAcc),
    accuracy_without_truncated: truncated ? meanOf(clustersNoTrunc.map(meanOf)) : null,
    accuracy_excluding_ungraded: ungraded ? meanOf(excludingUngraded) : null,
    pass_at_k: passAt,
    pass_at_k_samples: passN,
    pass_at_k_ci95: passCi,
    maj_at_k: majAtK,
    ...(opts.metric ? { metric: opts.metric } : {}),
  };
}
