/**
 * Calibration of stated confidence against correctness (Humanity's Last Exam, Phan et al. 2025, §4 "calibration
 * error"; DESIGN.md §1): RMS calibration error with equal-mass bins, expected calibration error (ECE), Brier score,
 * each with a seeded bootstrap CI, reliability-diagram data, and an `hle-compat` value that reproduces the HLE
 * reference implementation (`hle_eval/run_judge_results.py`, `calib_err`, itself from Hendrycks et al.'s
 * outlier-exposure `utils/calibration_tools.py`) exactly.
 *
 * Units: confidence is a probability in [0, 1] everywhere in this module (a stated "85%" is 0.85); correctness is
 * 0/1. Metrics are fractions in [0, 1] (multiply by 100 for the percent figures HLE publishes).
 *
 * Definitions used (n items, bins b with n_b items, mean confidence conf_b and accuracy acc_b):
 * - **RMS calibration error** (Hendrycks et al. 2019 "Deep Anomaly Detection with Outlier Exposure", §4; HLE §4):
 *   sqrt( Σ_b (n_b / n) · (conf_b − acc_b)² ) over **equal-mass bins**: items sorted by confidence, cut into
 *   ⌊n / binSize⌋ consecutive bins of `binSize` items (default 100), the last bin taking the remainder
 *   (one bin when n < binSize). **Every bin counts.**
 * - **ECE** (Naeini et al. 2015; Guo et al. 2017 "On Calibration of Modern Neural Networks", eq. 3):
 *   Σ_b (n_b / n) · |acc_b − conf_b| over M **equal-width** bins [k/M, (k+1)/M) (the last bin closed), M = 10.
 * - **Brier score** (Brier 1950): (1/n) Σ_i (confidence_i − correct_i)².
 * - **Ties in confidence** (equal-mass bins only): a bin boundary can fall inside a group of equal confidences,
 *   and which tied items land in which bin would then depend on input order. Here every item of a tie group
 *   contributes the group's mean correctness, i.e. each bin's accuracy is its expectation over all orderings of
 *   the ties; results do not depend on input order. (Mean confidence per bin is unaffected by tie order.)
 * - **Missing confidence**: excluded and counted (`missing`) by default; `missingConfidence: 1` reproduces the
 *   HLE reference, whose judge is told to "put 100 if there is no confidence score available".
 * - **Bootstrap CI**: percentile interval of the metric over `replicates` resamples (default 1000) of clusters
 *   with replacement (clusters = samples when items are repeats of samples; else each item), seeded through
 *   `src/core/rng.ts`; the seed is recorded in the result, with the bootstrap bias estimate (binned errors are
 *   biased upward in small samples — Kumar et al. 2019 "Verified Uncertainty Calibration"; Roelofs et al. 2022
 *   "Mitigating Bias in Calibration Error Estimation" — so their interval can lie above the point value).
 * - **RMS calibration error interval**: the percentile interval of the binned value covered the
 *   population RMS error badly (its upward bias, ≈ √(acc(1−acc)/binSize) in quadrature, is counted twice by the
 *   bootstrap; 0% coverage for a calibrated model, where the binned value is never 0). The headline interval targets
 *   the population RMS calibration error √E[(c − P(right | c))²] through the debiased squared error of Kumar et al.
 *   2019 (§5, "debiased estimator"): D = Σ_b (n_b/n)·[(conf_b − acc_b)² − acc_b(1 − acc_b)/(n_b − 1)], with the
 *   interval D ± z·se*(D) (se* the bootstrap SD of D over the same resamples) mapped through √max(0, ·); its upper
 *   end is at least √(z·se*), never 0. It resolves the population error at the bins' resolution: with n < 2·binSize
 *   there is one bin, which measures calibration in the large |mean confidence − accuracy| only.
 * - **Floating point**: bin means are plain sums, numpy's `mean` sums pairwise, so `hle-compat` can differ from
 *   the reference in the last bits (≈1e-16), never more.
 */
import { createRng } from '../core/rng.ts';

/** One graded answer with its stated confidence (probability in [0, 1], or null when none was stated). */
export interface CalibrationItem {
  confidence: number | null;
  correct: boolean | number;
  /** Cluster for the bootstrap (e.g. the sample id when there are several epochs per sample). */
  cluster?: string;
}

/** Options; see the module comment for what each means. */
export interface CalibrationOptions {
  /** Items per equal-mass bin (default 100, as HLE). */
  binSize: number;
  /** Number of equal-width ECE bins (default 10). */
  eceBins: number;
  /** Confidence assumed when none was stated: null (default) excludes the item; 1 reproduces the HLE reference. */
  missingConfidence: number | null;
  /** Bootstrap replicates (default 1000; 0 disables the CIs). */
  replicates: number;
  /** Bootstrap seed (default 0). */
  seed: number;
  /** Bin size of the `hle-compat` value (default 100, the reference's `beta`). */
  hleBeta: number;
}

/** Defaults of {@link CalibrationOptions}. */
export const CALIBRATION_DEFAULTS: CalibrationOptions = { binSize: 100, eceBins: 10, missingConfidence: null, replicates: 1000, seed: 0, hleBeta: 100 };

/** One reliability-diagram bin: confidence range [lo, hi], count, mean confidence, accuracy, gap = conf − acc. */
export interface ReliabilityBin {
  lo: number;
  hi: number;
  n: number;
  mean_confidence: number;
  accuracy: number;
  gap: number;
}

/**
 * A metric with its 95% percentile bootstrap CI and the bootstrap estimate of its bias (mean of the replicates −
 * value); NaN when the bootstrap is disabled. Binned calibration errors are biased upward in small samples, and
 * bootstrap replicates (with duplicated items) more so, so their percentile interval can lie above the point
 * estimate: a large positive `bootstrap_bias` says the bins are too small for the number to be read precisely.
 */
export interface WithCI {
  value: number;
  ci95: { lo: number; hi: number };
  bootstrap_bias: number;
  /** RMS calibration error only: the debiased estimate √max(0, D) (module comment) that the interval is built around. */
  debiased?: number;
  /** RMS calibration error only: the percentile bootstrap interval of the binned value (the interval Assay printed before the coverage study; labelled). */
  ci95_percentile?: { lo: number; hi: number };
  /** What `ci95` is and what it targets. */
  method?: string;
}

/** What the HLE reference computes on the same items (see {@link hleCalibErr}). */
export interface HleCompat {
  /**
   * `calib_err(confidence, correct, p='2', beta)` as a fraction, on every item, a missing confidence taken as 1
   * (the reference's judge default "100"); null when the reference would fail.
   */
  value: number | null;
  /** What the reference prints: `100 * round(value, 2)` (whole percentage points). */
  reported: number | null;
  /** Why there is no value (fewer than `beta` items: the reference raises IndexError). */
  error: string | null;
  /** Items the reference leaves out of every bin (its last, highest-confidence bin, remainder included). */
  skipped_items: number;
}

/** Calibration report of one set of items. */
export interface CalibrationReport {
  /** Items used (after excluding or filling missing confidences). */
  n: number;
  /** Items without a stated confidence (excluded unless `missingConfidence` is set, then filled). */
  missing: number;
  accuracy: number;
  mean_confidence: number;
  rms_calibration_error: WithCI;
  ece: WithCI;
  brier: WithCI;
  hle_compat: HleCompat;
  reliability: { equal_mass: ReliabilityBin[]; equal_width: ReliabilityBin[] };
  options: CalibrationOptions;
  bootstrap: { replicates: number; seed: number; clusters: number; method: string };
}

/** Sort (confidence, correctness) pairs by confidence (stable: ties keep input order). */
function sortByConfidence(conf: number[], corr: number[]): { c: number[]; y: number[] } {
  const idx = conf.map((_, i) => i).sort((a, b) => conf[a]! - conf[b]! || a - b);
  return { c: idx.map((i) => conf[i]!), y: idx.map((i) => corr[i]!) };
}

/** Replace each correctness by the mean of its tie group (c sorted ascending). */
function tieAverage(c: number[], y: number[]): number[] {
  const out = y.slice();
  let i = 0;
  while (i < c.length) {
    let j = i + 1;
    let s = y[i]!;
    while (j < c.length && c[j] === c[i]) s += y[j++]!;
    if (j - i > 1) for (let k = i; k < j; k++) out[k] = s / (j - i);
    i = j;
  }
  return out;
}

/**
 * Equal-mass bins (reliability-diagram data): items sorted by confidence, ⌊n/binSize⌋ bins (at least one) of
 * `binSize` items, the last taking the remainder; tie groups contribute their mean correctness (module comment).
 * @param confidence probabilities in [0, 1]
 * @param correct 0/1 (booleans allowed)
 * @param binSize positive integer
 * @returns bins in increasing confidence; empty for no items
 */
export function equalMassBins(confidence: number[], correct: (number | boolean)[], binSize: number): ReliabilityBin[] {
  const n = confidence.length;
  if (n === 0) return [];
  const { c, y: y0 } = sortByConfidence(confidence, correct.map(Number));
  const y = tieAverage(c, y0);
  const k = Math.max(1, Math.floor(n / binSize));
  const bins: ReliabilityBin[] = [];
  for (let b = 0; b < k; b++) {
    const lo = b * binSize;
    const hi = b === k - 1 ? n : (b + 1) * binSize;
    let sc = 0, sy = 0;
    for (let i = lo; i < hi; i++) {
      sc += c[i]!;
      sy += y[i]!;
    }
    const m = hi - lo;
    bins.push({ lo: c[lo]!, hi: c[hi - 1]!, n: m, mean_confidence: sc / m, accuracy: sy / m, gap: sc / m - sy / m });
  }
  return bins;
}

/**
 * Equal-width bins [k/M, (k+1)/M) over [0, 1], the last closed; empty bins are left out.
 * @param bins M, a positive integer
 */
export function equalWidthBins(confidence: number[], correct: (number | boolean)[], bins: number): ReliabilityBin[] {
  const n = new Array<number>(bins).fill(0);
  const sc = new Array<number>(bins).fill(0);
  const sy = new Array<number>(bins).fill(0);
  confidence.forEach((c, i) => {
    // round away float noise so that 0.7 lands in [0.7, 0.8) although 0.7 * 10 may be 6.999…
    const b = Math.min(bins - 1, Math.max(0, Math.floor(Math.round(c * bins * 1e9) / 1e9)));
    n[b]!++;
    sc[b]! += c;
    sy[b]! += Number(correct[i]);
  });
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    if (n[b] === 0) continue;
    const mc = sc[b]! / n[b]!, acc = sy[b]! / n[b]!;
    out.push({ lo: b / bins, hi: (b + 1) / bins, n: n[b]!, mean_confidence: mc, accuracy: acc, gap: mc - acc });
  }
  return out;
}

/**
 * Debiased squared RMS calibration error (Kumar et al. 2019, §5): Σ_b (n_b/n)·[gap_b² − acc_b(1 − acc_b)/(n_b − 1)]
 * over equal-mass bins; may be negative (a calibrated model's noise). NaN for no items.
 */
export function debiasedSquaredRmsCalibrationError(confidence: number[], correct: (number | boolean)[], binSize = 100): number {
  const n = confidence.length;
  if (n === 0) return NaN;
  let s = 0;
  for (const b of equalMassBins(confidence, correct, binSize)) {
    s += (b.n / n) * (b.gap * b.gap - (b.n > 1 ? (b.accuracy * (1 - b.accuracy)) / (b.n - 1) : 0));
  }
  return s;
}

/** Σ (n_b/n)(gap_b)², square-rooted: the RMS calibration error of given bins. */
function rmsOf(bins: ReliabilityBin[], n: number): number {
  let s = 0;
  for (const b of bins) s += (b.n / n) * b.gap * b.gap;
  return Math.sqrt(s);
}

/**
 * RMS calibration error with equal-mass bins (every bin counted).
 * Source: Hendrycks et al. 2019 (outlier exposure, §4 "RMS calibration error"), as used by HLE (Phan et al. 2025).
 * @returns a fraction in [0, 1]; NaN for no items
 */
export function rmsCalibrationError(confidence: number[], correct: (number | boolean)[], binSize = 100): number {
  if (confidence.length === 0) return NaN;
  return rmsOf(equalMassBins(confidence, correct, binSize), confidence.length);
}

/**
 * Expected calibration error with M equal-width bins. Source: Guo et al. 2017, eq. (3) (Naeini et al. 2015).
 * @returns a fraction in [0, 1]; NaN for no items
 */
export function expectedCalibrationError(confidence: number[], correct: (number | boolean)[], bins = 10): number {
  const n = confidence.length;
  if (n === 0) return NaN;
  let s = 0;
  for (const b of equalWidthBins(confidence, correct, bins)) s += (b.n / n) * Math.abs(b.gap);
  return s;
}

/**
 * Brier score: mean squared difference between confidence and 0/1 correctness. Source: Brier 1950.
 * @returns a number in [0, 1]; NaN for no items
 */
export function brierScore(confidence: number[], correct: (number | boolean)[]): number {
  const n = confidence.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += (confidence[i]! - Number(correct[i])) ** 2;
  return s / n;
}

/**
 * Python's `round(x, 2)` (round half to even on the exact binary value): `toFixed` except at exact ties.
 */
function pyRound2(x: number): number {
  const s = x * 100;
  if (Number.isInteger(s * 2) && !Number.isInteger(s) && Math.abs(s) < 2 ** 50) {
    const f = Math.floor(s);
    return (f % 2 === 0 ? f : f + 1) / 100;
  }
  return Number(x.toFixed(2));
}

/**
 * The HLE reference's `calib_err(confidence, correct, p, beta)`, reproduced exactly, quirks included:
 * 1. it sorts by confidence and cuts ⌊n/β⌋ bins of β items, the last one extended to n (the remainder);
 * 2. it then **skips the last bin** (`for i in range(len(bins) - 1)`), i.e. the highest-confidence β + (n mod β)
 *    items never enter the sum, while the weights n_b/n still divide by the full n (they sum to < 1);
 * 3. with n < β there are no bins and `bins[-1]` raises IndexError: here an Error with that explanation;
 * 4. with β ≤ n < 2β the only bin is skipped and the result is exactly 0, whatever the calibration;
 * 5. its `np.argsort` is not stable, so when a tie in confidence straddles a bin boundary the reference's own
 *    result depends on numpy's sort; this port breaks ties by input order (stable), which is one of the numpy
 *    outcomes; bin mean confidences are the same either way.
 * The published figure is `100 * round(calib_err(...), 2)`: whole percentage points (see {@link HleCompat}).
 * @param confidence probabilities in [0, 1] (NaN is ignored in bin means, as `np.nanmean`, but counted in n_b)
 * @param correct 0/1
 * @param p `'2'` (RMS, default), `'1'` (L1), `'infty'` (max)
 * @throws Error when n < beta
 */
export function hleCalibErr(confidence: number[], correct: (number | boolean)[], p: '1' | '2' | 'infty' = '2', beta = 100): number {
  const n = confidence.length;
  const nb = Math.floor(n / beta);
  if (nb === 0) throw new Error(`hle-compat: ${n} items < beta ${beta}; the reference fails here (IndexError on bins[-1])`);
  const { c, y } = sortByConfidence(confidence, correct.map(Number));
  const bins: Array<[number, number]> = [];
  for (let i = 0; i < nb; i++) bins.push([i * beta, (i + 1) * beta]);
  bins[bins.length - 1] = [bins[bins.length - 1]![0], n];
  let cerr = 0;
  const nanmean = (xs: number[]) => {
    const v = xs.filter((x) => !Number.isNaN(x));
    return v.reduce((a, b) => a + b, 0) / v.length;
  };
  for (let i = 0; i < bins.length - 1; i++) {
    const [a, b] = bins[i]!;
    const m = b - a;
    if (m > 0) {
      const d = Math.abs(nanmean(c.slice(a, b)) - nanmean(y.slice(a, b)));
      if (p === '2') cerr += (m / n) * d * d;
      else if (p === '1') cerr += (m / n) * d;
      else cerr = Math.max(cerr, d);
    }
  }
  return p === '2' ? Math.sqrt(cerr) : cerr;
}

/** The HLE reference's value and printed figure for these items, or the reason it has none. */
export function hleCompat(confidence: number[], correct: (number | boolean)[], beta = 100): HleCompat {
  const n = confidence.length;
  const skipped = Math.floor(n / beta) === 0 ? n : beta + (n % beta);
  try {
    const value = hleCalibErr(confidence, correct, '2', beta);
    return { value, reported: 100 * pyRound2(value), error: null, skipped_items: skipped };
  } catch (e) {
    return { value: null, reported: null, error: (e as Error).message, skipped_items: skipped };
  }
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * The four bootstrap metrics (RMS, ECE, Brier, debiased squared RMS) of a resample given as multiplicities of the
 * original items, in O(n) per resample: the items are sorted by confidence once, and a resample's sorted sequence is
 * that order with each item repeated. The same values as `metrics` on the expanded resample (tie groups take their
 * mean correctness over the resample, as in `equalMassBins`), up to floating-point summation order.
 */
class ResampleMetrics {
  private readonly order: Int32Array;
  private readonly c: Float64Array;
  private readonly y: Float64Array;
  /** Tie group of each sorted position (equal confidences). */
  private readonly tie: Int32Array;
  private readonly tieC: Float64Array;
  private readonly tieY: Float64Array;
  private readonly eceBin: Int32Array;
  constructor(conf: number[], corr: number[], private readonly binSize: number, private readonly eceBins: number) {
    const n = conf.length;
    this.order = Int32Array.from(conf.map((_, i) => i).sort((a, b) => conf[a]! - conf[b]! || a - b));
    this.c = Float64Array.from(this.order, (i) => conf[i]!);
    this.y = Float64Array.from(this.order, (i) => corr[i]!);
    this.tie = new Int32Array(n);
    let g = 0;
    for (let i = 1; i < n; i++) {
      if (this.c[i] !== this.c[i - 1]) g++;
      this.tie[i] = g;
    }
    this.tieC = new Float64Array(g + 1);
    this.tieY = new Float64Array(g + 1);
    this.eceBin = Int32Array.from(this.c, (x) => Math.min(eceBins - 1, Math.max(0, Math.floor(Math.round(x * eceBins * 1e9) / 1e9))));
  }
  /** [RMS CE, ECE, Brier, debiased squared RMS CE] of the resample with `counts[i]` copies of original item i. */
  metrics(counts: Int32Array): [number, number, number, number] {
    const n = this.order.length;
    this.tieC.fill(0);
    this.tieY.fill(0);
    let N = 0, brier = 0;
    const wn = new Float64Array(this.eceBins), wc = new Float64Array(this.eceBins), wy = new Float64Array(this.eceBins);
    for (let p = 0; p < n; p++) {
      const m = counts[this.order[p]!]!;
      if (!m) continue;
      N += m;
      this.tieC[this.tie[p]!]! += m;
      this.tieY[this.tie[p]!]! += m * this.y[p]!;
      brier += m * (this.c[p]! - this.y[p]!) ** 2;
      const b = this.eceBin[p]!;
      wn[b]! += m;
      wc[b]! += m * this.c[p]!;
      wy[b]! += m * this.y[p]!;
    }
    if (N === 0) return [NaN, NaN, NaN, NaN];
    let ece = 0;
    for (let b = 0; b < this.eceBins; b++) if (wn[b]) ece += (wn[b]! / N) * Math.abs(wc[b]! / wn[b]! - wy[b]! / wn[b]!);
    const bins = Math.max(1, Math.floor(N / this.binSize));
    let rms2 = 0, deb = 0, pos = 0, bin = 0, bn = 0, bc = 0, by = 0;
    const close = () => {
      if (!bn) return;
      const gap = bc / bn - by / bn, acc = by / bn;
      rms2 += (bn / N) * gap * gap;
      deb += (bn / N) * (gap * gap - (bn > 1 ? (acc * (1 - acc)) / (bn - 1) : 0));
      bn = bc = by = 0;
    };
    for (let p = 0; p < n; p++) {
      let m = counts[this.order[p]!]!;
      const yt = this.tieY[this.tie[p]!]! / this.tieC[this.tie[p]!]!;
      while (m > 0) {
        const end = bin === bins - 1 ? N : (bin + 1) * this.binSize;
        const take = Math.min(m, end - pos);
        bn += take;
        bc += take * this.c[p]!;
        by += take * yt;
        pos += take;
        m -= take;
        if (pos === end && bin < bins - 1) {
          close();
          bin++;
        }
      }
    }
    close();
    return [Math.sqrt(rms2), ece, brier / N, deb];
  }
}

/**
 * Full calibration report: RMS calibration error (equal-mass), ECE (equal-width), Brier, each with a clustered
 * percentile bootstrap CI, the HLE-compatible value beside ours, and reliability-diagram bins.
 * @param items confidences in [0, 1] (null = not stated), correctness 0/1
 * @throws Error for a confidence outside [0, 1] or a non-0/1 correctness (naming the item index), or invalid options
 */
export function calibrationReport(items: CalibrationItem[], options: Partial<CalibrationOptions> = {}): CalibrationReport {
  const o: CalibrationOptions = { ...CALIBRATION_DEFAULTS, ...options };
  if (!Number.isInteger(o.binSize) || o.binSize < 1) throw new Error(`binSize must be a positive integer, got ${o.binSize}`);
  if (!Number.isInteger(o.eceBins) || o.eceBins < 1) throw new Error(`eceBins must be a positive integer, got ${o.eceBins}`);
  if (o.missingConfidence !== null && !(o.missingConfidence >= 0 && o.missingConfidence <= 1)) throw new Error(`missingConfidence must be in [0, 1] or null, got ${o.missingConfidence}`);
  const conf: number[] = [];
  const corr: number[] = [];
  const cluster: string[] = [];
  const hleConf: number[] = [];
  const hleCorr: number[] = [];
  let missing = 0;
  items.forEach((it, i) => {
    const y = Number(it.correct);
    if (y !== 0 && y !== 1) throw new Error(`item ${i}: correct must be 0/1 or a boolean, got ${String(it.correct)}`);
    hleConf.push(it.confidence ?? 1);
    hleCorr.push(y);
    let c = it.confidence;
    if (c === null || c === undefined) {
      missing++;
      if (o.missingConfidence === null) return;
      c = o.missingConfidence;
    }
    if (!(c >= 0 && c <= 1)) throw new Error(`item ${i}: confidence must be a probability in [0, 1], got ${c}`);
    conf.push(c);
    corr.push(y);
    cluster.push(it.cluster ?? `#${i}`);
  });
  const n = conf.length;
  const metrics = (c: number[], y: number[]) => [rmsCalibrationError(c, y, o.binSize), expectedCalibrationError(c, y, o.eceBins), brierScore(c, y), debiasedSquaredRmsCalibrationError(c, y, o.binSize)] as const;
  const point = metrics(conf, corr);

  // clustered percentile bootstrap
  const groups = new Map<string, number[]>();
  cluster.forEach((g, i) => {
    const list = groups.get(g);
    if (list) list.push(i);
    else groups.set(g, [i]);
  });
  const glist = [...groups.values()];
  const reps: number[][] = [[], [], [], []];
  if (o.replicates > 0 && n > 0) {
    const rng = createRng(o.seed);
    const rs = new ResampleMetrics(conf, corr, o.binSize, o.eceBins);
    const counts = new Int32Array(n);
    for (let r = 0; r < o.replicates; r++) {
      counts.fill(0);
      for (let k = 0; k < glist.length; k++) for (const i of glist[rng.index(glist.length)]!) counts[i]!++;
      const m = rs.metrics(counts);
      for (let j = 0; j < 4; j++) reps[j]!.push(m[j]!);
    }
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const withCi = (j: number): WithCI => {
    const s = reps[j]!.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    return { value: point[j]!, ci95: { lo: percentile(s, 0.025), hi: percentile(s, 0.975) }, bootstrap_bias: mean(s) - point[j]! };
  };
  // The headline RMS interval (module comment): D ± z·se*(D) through √max(0, ·).
  const rmsWithCi = (): WithCI => {
    const binned = withCi(0);
    const D = point[3]!;
    const dr = reps[3]!.filter((x) => !Number.isNaN(x));
    const m = mean(dr);
    const se = dr.length > 1 ? Math.sqrt(dr.reduce((a, x) => a + (x - m) ** 2, 0) / (dr.length - 1)) : NaN;
    const z = 1.959963984540054;
    const lo = Math.sqrt(Math.max(0, D - z * se));
    const hi = Math.sqrt(Math.max(0, D) + z * se);
    return {
      value: binned.value, ci95: { lo, hi }, bootstrap_bias: binned.bootstrap_bias, debiased: Math.sqrt(Math.max(0, D)), ci95_percentile: binned.ci95,
      method: `population RMS calibration error: debiased squared error (Kumar et al. 2019) ± 1.96 bootstrap SE, square-rooted; resolution of bins of ${o.binSize}`,
    };
  };
  return {
    n,
    missing,
    accuracy: mean(corr),
    mean_confidence: mean(conf),
    rms_calibration_error: rmsWithCi(),
    ece: withCi(1),
    brier: withCi(2),
    hle_compat: hleCompat(hleConf, hleCorr, o.hleBeta),
    reliability: { equal_mass: equalMassBins(conf, corr, o.binSize), equal_width: equalWidthBins(conf, corr, o.eceBins) },
    options: o,
    bootstrap: { replicates: o.replicates, seed: o.seed, clusters: glist.length, method: 'percentile; clusters resampled with replacement' },
  };
}
