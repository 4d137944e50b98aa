/**
 * Statistics v1 for one run (issue 2 §9): accuracy as avg@k with a clustered-bootstrap 95% CI, the Wald interval,
 * std over epochs, unbiased pass@k, maj@k, and counts of truncated, failed and ungraded attempts.
 *
 * Input shape: one `SampleScores` per sample, holding that sample's per-epoch binary values (0/1) and extracted
 * answers. Attempts that failed (model call error) or could not be graded (grader timeout/error) carry
 * `value: null`. Failed attempts have no response: they are excluded from accuracy and counted (a rerun retries
 * them). Grader errors (`grader_error`: a bad gold, an unreachable judge) are excluded the same way. Grader
 * timeouts count as wrong in the headline accuracy (so hostile or junk answers can never raise a score), and the
 * accuracy with them left out is reported beside it. All are counted and shown.
 */
import { clusteredBootstrapMeans, packClusters, percentileInterval } from './bootstrap.ts';

export interface EpochScore {
  epoch: number;
  /**
   * The value statistics use (see `scoredValue`): 0/1; 0 for a grader timeout; null when excluded (a failed model
   * call or a grader error).
   */
  value: number | null;
  extracted: string | null;
  truncated: boolean;
  /** True when the model call itself failed (as opposed to a grader timeout/error). */
  failed: boolean;
  /** True when the grader ran out of time on this response (`value` is then 0: counted as wrong). */
  timeout?: boolean;
}

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
 * The value statistics use for one measurement: a grader timeout (a response the grader could not judge within its
 * budget: hostile or huge answers) counts as wrong (0), so junk can never raise a score; every other null (failed
 * call, grader error) stays null and is excluded. One rule for `stats`, `compare`, `report` and maj@k.
 */
export function scoredValue(m: { value: number | null; status: string }): number | null {
  return m.status === 'grader_timeout' ? 0 : m.value;
}

/** One stored measurement (joined with its attempt) as the statistics read it; the one place `scoredValue` is applied to runs. */
export function epochScoreOf(m: { epoch: number; value: number | null; status: string; extracted: string | null; finish_reason: string; attempt_status: string }): EpochScore {
  return { epoch: m.epoch, value: scoredValue(m), extracted: m.extracted, truncated: m.finish_reason === 'length', failed: m.attempt_status === 'error', timeout: m.status === 'grader_timeout' };
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
  ci95_bootstrap: Interval & { method: 'cluster bootstrap over samples (each with its epochs)'; replicates: number; seed: number };
  /** Wald interval p ± 1.96·SE with SE from the between-sample variance of per-sample means. */
  ci95_wald: Interval & { se: number };
  /** Accuracy of each epoch over samples, and the std of those (this is seed noise only, not a CI). */
  per_epoch_accuracy: number[];
  std_over_epochs: number;
  /** Accuracy with truncated attempts removed (null when there are none). */
  accuracy_without_truncated: number | null;
  /** pass@k for k = 1, 2, 4, … up to the number of epochs (unbiased estimator), averaged over the samples with ≥ k graded attempts. */
  pass_at_k: Record<string, number>;
  /** How many samples each pass@k is averaged over (fewer than `samples` when some attempts failed). */
  pass_at_k_samples: Record<string, number>;
  /** maj@k with k = epochs (majority of extracted answers), with its own bootstrap CI. */
  maj_at_k: { k: number; value: number; ci95: Interval } | null;
}

/**
 * Compute run statistics from per-sample scores. `seed` is the bootstrap seed (recorded in the output).
 * Shapes: `samples[i].epochs` may differ in length (failed attempts); values are 0/1 for pass@k and maj@k.
 */
export function computeRunStatistics(samples: SampleScores[], opts: { seed: number; epochs: number; replicates?: number; samplesPlanned?: number }): RunStatistics {
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
        if (k > n) continue;
        const p = passSums.get(k) ?? { s: 0, n: 0 };
        p.s += passAtK(n, c, k);
        p.n++;
        passSums.set(k, p);
      }
      const maj = majorityVote(s.epochs);
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
  const passAt: Record<string, number> = {};
  const passN: Record<string, number> = {};
  for (const k of ks) {
    const p = passSums.get(k);
    if (p && p.n) {
      passAt[`pass@${k}`] = p.s / p.n;
      passN[`pass@${k}`] = p.n;
    }
  }
  let majAtK: RunStatistics['maj_at_k'] = null;
  if (opts.epochs > 1 && majValues.length) {
    const ci = clusteredBootstrapCI(majValues, { seed: opts.seed + 1, replicates: opts.replicates });
    majAtK = { k: opts.epochs, value: meanOf(majValues.map((v) => v[0]!)), ci95: { lo: ci.lo, hi: ci.hi } };
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
    ci95_bootstrap: { lo: boot.lo, hi: boot.hi, method: 'cluster bootstrap over samples (each with its epochs)', replicates: boot.replicates, seed: boot.seed },
    // clipped to the range of the score (a proportion cannot leave [0, 1]; the SE is reported unclipped)
    ci95_wald: { lo: Math.max(0, accuracy - 1.959964 * se), hi: Math.min(1, accuracy + 1.959964 * se), se },
    per_epoch_accuracy: perEpochAcc,
    std_over_epochs: sampleStd(perEpochAcc),
    accuracy_without_truncated: truncated ? meanOf(clustersNoTrunc.map(meanOf)) : null,
    accuracy_excluding_ungraded: ungraded ? meanOf(excludingUngraded) : null,
    pass_at_k: passAt,
    pass_at_k_samples: passN,
    maj_at_k: majAtK,
  };
}
