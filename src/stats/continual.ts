/**
 * Continual-learning metrics over a stream of checkpoints: pure functions on an accuracy matrix
 * R[c][j] = accuracy of checkpoint c on task j, and a paired bootstrap over samples for their intervals.
 *
 * Conventions (one for every function here):
 * - rows c = 0 … T are the checkpoints in stream order; row 0 is the **base** (the model before any update);
 * - a task is either an **adaptation** task, introduced (trained on) at checkpoint k_j ≥ 1, or a held-out
 *   **zero-shot** task (never trained on);
 * - "seen at t" means k_j ≤ t.
 *
 * Sources: Lopez-Paz & Ranzato 2017, "Gradient Episodic Memory for Continual Learning" (NeurIPS), §4 (ACC, BWT,
 * FWT); Chaudhry, Dokania, Ajanthan & Torr 2018, "Riemannian Walk for Incremental Learning" (ECCV), §4.1
 * (forgetting); Roth, Udandarao, Dziadzio et al. 2024, "A Practitioner's Guide to Continual Multimodal Pretraining"
 * (FoMo-in-Flux), §3 (knowledge accumulation A_KA, zero-shot retention A_ZS, and their geometric mean).
 *
 * **Intervals of the derived metrics.** A percentile bootstrap over samples collapses to a point wherever the
 * resampled data cannot vary: every sample right (or wrong) at the checkpoints a metric reads — accumulation at 100%,
 * forgetting and transfer of a task whose samples score the same at both rows, retention of a held-out task that
 * never changes — and it drops replicates where a metric is undefined (a resample whose base zero-shot accuracy is
 * 0), which conditions the interval on the rest. At 30 samples and accuracies near 0 or 1 that is the common case,
 * and an interval of zero width claims a certainty no finite sample gives. The default interval here is therefore a
 * **paired Bayesian bootstrap with a Dirichlet-process prior**: per task, the posterior of the distribution of
 * score profiles (a sample's scores at all T + 1 checkpoints) under a Dirichlet process with total mass α = 1 spread
 * evenly over the 2^(T+1) 0/1 profiles (Ferguson 1973, "A Bayesian analysis of some nonparametric problems", Ann.
 * Stat. 1:209). A draw gives each observed sample a weight Gamma(1) — Rubin's Bayesian bootstrap (1981, Ann. Stat.
 * 9:130), the same weight at every checkpoint, so differences stay paired — and each profile a weight Gamma(α/2^(T+1))
 * (for more than 6 checkpoints, 64 profiles drawn uniformly per draw: the finite approximation of Ishwaran &
 * Zarepour 2002, Can. J. Stat. 30:269). Every metric is recomputed on the weighted cell means; the interval is the
 * 2.5–97.5% percentiles of the draws. For one 0/1 cell this is exactly the Jeffreys interval Beta(x + ½, n − x + ½)
 * (Brown, Cai & DasGupta 2001, "Interval estimation for a binomial proportion", Stat. Sci. 16:101, §4.1.2), with their
 * boundary modification for metrics in [0, 1]: a point value of 0 (1) gets the lower (upper) bound 0 (1). A
 * difference of two checkpoints with no discordant sample gets an interval of non-zero width from the prior's
 * discordant profiles. Coverage at 30 samples near 0 and 1: bench/stream-coverage.ts (README, "Continual metrics").
 * An interval that is still undefined (a metric undefined in some draws) is null with the reason in `note`; the
 * percentile bootstrap stays available (`interval: 'percentile-bootstrap'`), labelled as what it is.
 */
import { createRng, type Rng } from '../core/rng.ts';
import { percentileInterval } from './bootstrap.ts';
import { effectiveWilsonInterval } from './intervals.ts';
import { logGammaDraw } from './simulate.ts';

/** A task's role in a stream: adaptation (introduced at checkpoint `introduced` ≥ 1) or held-out zero-shot. */
export type StreamTaskRole = { role: 'adaptation'; introduced: number } | { role: 'zero-shot' };

/** Point values of every continual metric; arrays are per checkpoint (index = row of R), null where undefined. */
export interface ContinualMetrics {
  /**
   * Knowledge accumulation A_KA(t) = mean over adaptation tasks seen at t of R[t][j] (FoMo-in-Flux's A_KA restricted
   * to the tasks introduced so far). Null when no task is seen yet (always at t = 0).
   */
  accumulation: (number | null)[];
  /** Zero-shot accuracy A_ZS(t) = mean over held-out tasks z of R[t][z] (FoMo-in-Flux's A_ZS). Null without held-out tasks. */
  zero_shot: (number | null)[];
  /** Zero-shot retention relative to the base: A_ZS(t) / A_ZS(0) (a ratio of means). Null when A_ZS(0) = 0 or undefined. */
  retention: (number | null)[];
  /** Geometric mean √(A_KA(t) · A_ZS(t)) (FoMo-in-Flux's single summary of the two). Null when either is null. */
  geometric_mean: (number | null)[];
  /**
   * Average forgetting F(t) = mean over tasks j with k_j < t of f_j^t, f_j^t = max_{l ∈ 1…t−1} R[l][j] − R[t][j]
   * (Chaudhry et al. 2018, Eq. 7–8; rows from 1, the base excluded as in their a_{l,j}). Null for t < 2 or no such task.
   */
  forgetting: (number | null)[];
  /**
   * Backward transfer over the stream so far: GEM's BWT on the first t + 1 rows, BWT(t) = mean over adaptation tasks
   * with k_j < t of R[t][j] − R[k_j][j] (Lopez-Paz & Ranzato 2017, Eq. 3, on the prefix R[0…t]); BWT(T) = `bwt`.
   * Null while no task was introduced before t.
   */
  backward_transfer: (number | null)[];
  /**
   * Forward transfer over the stream so far: GEM's FWT on the first t + 1 rows, FWT(t) = mean over adaptation tasks
   * with 2 ≤ k_j ≤ t of R[k_j − 1][j] − R[0][j] (Eq. 4 on the prefix R[0…t]); FWT(T) = `fwt`. Null while no such task.
   */
  forward_transfer: (number | null)[];
  /** GEM's ACC = mean over adaptation tasks of R[T][j] (Lopez-Paz & Ranzato 2017, Eq. 2). */
  acc: number | null;
  /**
   * GEM's backward transfer BWT = mean over adaptation tasks with k_j < T of R[T][j] − R[k_j][j] (Eq. 3; task i of
   * GEM is learnt at row k_j here). Null when no task was introduced before the last checkpoint.
   */
  bwt: number | null;
  /**
   * GEM's forward transfer FWT = mean over adaptation tasks with k_j ≥ 2 of R[k_j − 1][j] − b_j, where b_j = R[0][j],
   * the base's accuracy, plays GEM's b̄_i (Eq. 4, which sums from the second task). Null when no task has k_j ≥ 2.
   */
  fwt: number | null;
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/**
 * Every continual metric of an accuracy matrix (formulas and sources on each field of {@link ContinualMetrics}).
 * @param R accuracies, R[c][j] for checkpoint row c (0 = base) and task j, in [0, 1]
 * @param roles one role per task (column of R)
 * @throws Error when R is not rectangular, a role does not match a column, or an `introduced` row is outside 1…T
 */
export function continualMetrics(R: number[][], roles: StreamTaskRole[]): ContinualMetrics {
  const rows = R.length;
  const T = rows - 1;
  if (rows < 1) throw new Error('continual metrics need at least one checkpoint');
  for (const r of R) if (r.length !== roles.length) throw new Error(`every row of R needs ${roles.length} columns (one per task)`);
  for (const r of roles) if (r.role === 'adaptation' && (!Number.isInteger(r.introduced) || r.introduced < 1 || r.introduced > T)) {
    throw new Error(`an adaptation task is introduced at a checkpoint row in 1…${T}, not ${r.introduced}`);
  }
  const adapt = roles.flatMap((r, j) => (r.role === 'adaptation' ? [{ j, k: r.introduced }] : []));
  const held = roles.flatMap((r, j) => (r.role === 'zero-shot' ? [j] : []));
  const accumulation = R.map((row, t) => mean(adapt.filter((a) => a.k <= t).map((a) => row[a.j]!)));
  const zero_shot = R.map((row) => mean(held.map((z) => row[z]!)));
  const z0 = zero_shot[0];
  const retention = zero_shot.map((z) => (z === null || z0 === null || z0 === undefined || z0 === 0 ? null : z / z0));
  const geometric_mean = R.map((_, t) => {
    const a = accumulation[t], z = zero_shot[t];
    return a === null || a === undefined || z === null || z === undefined ? null : Math.sqrt(a * z);
  });
  const forgetting = R.map((row, t) => {
    if (t < 2) return null;
    return mean(adapt.filter((a) => a.k < t).map((a) => Math.max(...R.slice(1, t).map((r) => r[a.j]!)) - row[a.j]!));
  });
  const backward_transfer = R.map((row, t) => mean(adapt.filter((a) => a.k < t).map((a) => row[a.j]! - R[a.k]![a.j]!)));
  const forward_transfer = R.map((_, t) => mean(adapt.filter((a) => a.k >= 2 && a.k <= t).map((a) => R[a.k - 1]![a.j]! - R[0]![a.j]!)));
  const last = R[T]!;
  return {
    accumulation, zero_shot, retention, geometric_mean, forgetting, backward_transfer, forward_transfer,
    acc: mean(adapt.map((a) => last[a.j]!)),
    bwt: mean(adapt.filter((a) => a.k < T).map((a) => last[a.j]! - R[a.k]![a.j]!)),
    fwt: mean(adapt.filter((a) => a.k >= 2).map((a) => R[a.k - 1]![a.j]! - R[0]![a.j]!)),
  };
}

/**
 * A value with its 95% interval. `ci95` is null when the value is undefined, or when no honest interval exists
 * (then `note` says why); `note` also marks an interval of zero width that is exact by definition.
 */
export interface Estimate {
  value: number | null;
  ci95: { lo: number; hi: number } | null;
  note?: string;
}

/** How the intervals of the derived metrics are made (module comment). */
export type ContinualInterval = 'bayesian-bootstrap' | 'percentile-bootstrap';

/** {@link ContinualMetrics} with intervals: each per-checkpoint array holds estimates. */
export interface ContinualReport {
  /** R with an interval per cell: matrix[c][j]. */
  matrix: Estimate[][];
  accumulation: Estimate[];
  zero_shot: Estimate[];
  retention: Estimate[];
  geometric_mean: Estimate[];
  forgetting: Estimate[];
  backward_transfer: Estimate[];
  forward_transfer: Estimate[];
  acc: Estimate;
  bwt: Estimate;
  fwt: Estimate;
  /** Aligned samples per task (the bootstrap's clusters). */
  samples: number[];
  replicates: number;
  seed: number;
  interval: ContinualInterval;
  method: string;
}

/** Options of {@link continualReport}. */
export interface ContinualOptions {
  /** Bootstrap draws (default 2000). */
  replicates?: number;
  /** Seed of the draws (default 0); recorded in the report. */
  seed?: number;
  /** Interval of the derived metrics (default `bayesian-bootstrap`; module comment). */
  interval?: ContinualInterval;
}

/** The Dirichlet process's total prior mass α (module comment): one pseudo-sample's worth. */
const PRIOR_MASS = 1;
/** Checkpoint rows up to which every 0/1 profile gets its own prior atom (2^6 = 64 atoms). */
const EXACT_ROWS = 6;
/** Atoms drawn per task and draw beyond EXACT_ROWS rows. */
const APPROX_ATOMS = 64;

/** Series keys of the per-checkpoint metrics, and which of them are proportions in [0, 1]. */
const SERIES = ['accumulation', 'zero_shot', 'retention', 'geometric_mean', 'forgetting', 'backward_transfer', 'forward_transfer'] as const;
type SeriesKey = (typeof SERIES)[number];
const BOUNDED = new Set<string>(['accumulation', 'zero_shot', 'geometric_mean', 'acc']);

/**
 * The continual metrics with 95% intervals (module comment, "Intervals of the derived metrics"). Each draw reweights
 * (Bayesian bootstrap, default) or resamples (percentile bootstrap) the samples of every task with **one** draw per
 * task used at every checkpoint — a sample's scores at all checkpoints move together, so differences between
 * checkpoints (forgetting, transfer, retention) are paired by sample — recomputes R and every metric; intervals are
 * the 2.5% and 97.5% percentiles of the draws (Efron & Tibshirani 1993, §13.3; clusters = samples, Field & Welsh
 * 2007). Point values are those of the full data. Cells get the Wilson interval on their samples.
 * An interval is null (with the reason in `note`) when its metric is undefined in some draw, or when every draw is
 * equal (a zero-width percentile interval; possible only with the percentile bootstrap), except where the value is
 * exact by definition (retention at the base, 1).
 * @param scores scores[j][c][i]: per-sample score (mean over its graded repeats, in [0, 1]) of task j at checkpoint row c,
 *   sample i aligned across checkpoints (the same sample at the same i in every row); every task needs ≥ 1 sample
 * @param roles one role per task
 * @throws Error for ragged or empty inputs, an unknown interval method (see also {@link continualMetrics})
 */
export function continualReport(scores: number[][][], roles: StreamTaskRole[], opts: ContinualOptions = {}): ContinualReport {
  const replicates = opts.replicates ?? 2000;
  const seed = opts.seed ?? 0;
  const interval = opts.interval ?? 'bayesian-bootstrap';
  if (interval !== 'bayesian-bootstrap' && interval !== 'percentile-bootstrap') throw new Error(`unknown interval method "${String(interval)}"`);
  if (scores.length !== roles.length) throw new Error('one score block per task');
  const rows = scores[0]?.length ?? 0;
  if (!rows) throw new Error('continual metrics need at least one checkpoint');
  const samples = scores.map((byRow, j) => {
    if (byRow.length !== rows) throw new Error(`task ${j}: scores for ${byRow.length} checkpoints, expected ${rows}`);
    const n = byRow[0]!.length;
    if (!n) throw new Error(`task ${j}: no aligned sample`);
    for (const r of byRow) if (r.length !== n) throw new Error(`task ${j}: rows of different lengths (samples must be aligned across checkpoints)`);
    return n;
  });
  const R = Array.from({ length: rows }, (_, c) => scores.map((byRow) => byRow[c]!.reduce((a, b) => a + b, 0) / byRow[c]!.length));
  const point = continualMetrics(R, roles);
  const rng = createRng(seed);
  // Draw values per statistic (flattened by key), and how many draws left a statistic undefined.
  const reps = new Map<string, number[]>();
  const undefinedIn = new Map<string, number>();
  const push = (key: string, v: number | null | undefined) => {
    if (v === null || v === undefined || !Number.isFinite(v)) {
      undefinedIn.set(key, (undefinedIn.get(key) ?? 0) + 1);
      return;
    }
    let a = reps.get(key);
    if (!a) reps.set(key, (a = []));
    a.push(v);
  };
  const draw = interval === 'bayesian-bootstrap' ? bayesianDraw(scores, samples, rows, rng) : percentileDraw(scores, samples, rows, rng);
  for (let b = 0; b < replicates; b++) {
    const m = continualMetrics(draw(), roles);
    for (const key of SERIES) m[key].forEach((v, c) => push(`${key}:${c}`, v));
    for (const key of ['acc', 'bwt', 'fwt'] as const) push(key, m[key]);
  }
  const est = (key: string, family: string, value: number | null | undefined, exact?: string): Estimate => {
    if (value === null || value === undefined) return { value: null, ci95: null };
    const u = undefinedIn.get(key) ?? 0;
    if (u > 0) {
      const why = family === 'retention' ? 'the base zero-shot accuracy is 0 in those draws' : 'it has no value in those draws';
      return { value, ci95: null, note: `interval undefined: the metric is undefined in ${u} of ${replicates} draws (${why})` };
    }
    const r = reps.get(key);
    if (!r || r.length < 2) return { value, ci95: null, note: 'interval undefined: fewer than 2 draws' };
    const ci = percentileInterval(Float64Array.from(r));
    if (interval === 'bayesian-bootstrap' && BOUNDED.has(family)) {
      // Brown, Cai & DasGupta 2001 §4.1.2: at x = 0 (x = n) the lower (upper) bound is 0 (1).
      if (value === 0) ci.lo = 0;
      if (value === 1) ci.hi = 1;
    }
    if (ci.lo === ci.hi) {
      if (exact) return { value, ci95: ci, note: exact };
      return { value, ci95: null, note: 'interval undefined: every draw gives the same value (no sample varies where this metric reads), and a zero-width interval would claim certainty' };
    }
    return { value, ci95: ci };
  };
  const series = (key: SeriesKey) => point[key].map((v, c) => est(`${key}:${c}`, key, v, key === 'retention' && c === 0 ? 'exact: 1 by definition at the base' : undefined));
  const n = samples.length === 1 ? `${samples[0]}` : `${Math.min(...samples)}–${Math.max(...samples)}`;
  return {
    // A cell is one task's accuracy at one checkpoint: the Wilson interval on its samples (effective n, as `assay stats`
    // labels it), which keeps its width at 0% and 100%.
    matrix: R.map((row, c) => row.map((v, j) => {
      const w = effectiveWilsonInterval(scores[j]![c]!, scores[j]![c]!.length);
      return { value: v, ci95: { lo: w.lo, hi: w.hi } };
    })),
    accumulation: series('accumulation'), zero_shot: series('zero_shot'), retention: series('retention'),
    geometric_mean: series('geometric_mean'), forgetting: series('forgetting'),
    backward_transfer: series('backward_transfer'), forward_transfer: series('forward_transfer'),
    acc: est('acc', 'acc', point.acc), bwt: est('bwt', 'bwt', point.bwt), fwt: est('fwt', 'fwt', point.fwt),
    samples, replicates, seed, interval,
    method: interval === 'bayesian-bootstrap'
      ? `cells: Wilson interval on the samples; metrics: paired Bayesian bootstrap over samples (${n} per task; one Dirichlet weight per sample at every checkpoint, Rubin 1981) with a Dirichlet-process prior of mass ${PRIOR_MASS} on 0/1 score profiles (Ferguson 1973), ${replicates} draws, seed ${seed}, 2.5–97.5% percentiles (one cell: Jeffreys' interval)`
      : `cells: Wilson interval on the samples; metrics: paired cluster bootstrap over samples (${n} per task; same draw at every checkpoint), ${replicates} replicates, seed ${seed}, 2.5–97.5% percentiles`,
  };
}

/** One percentile-bootstrap draw of R: per task, n_j samples with replacement, the same draw at every row. */
function percentileDraw(scores: number[][][], samples: number[], rows: number, rng: Rng): () => number[][] {
  const idx = samples.map((n) => new Int32Array(n));
  return () => {
    const Rb = Array.from({ length: rows }, () => new Array<number>(samples.length));
    for (let j = 0; j < samples.length; j++) {
      const n = samples[j]!, ix = idx[j]!;
      for (let i = 0; i < n; i++) ix[i] = rng.index(n);
      for (let c = 0; c < rows; c++) {
        const v = scores[j]![c]!;
        let s = 0;
        for (let i = 0; i < n; i++) s += v[ix[i]!]!;
        Rb[c]![j] = s / n;
      }
    }
    return Rb;
  };
}

/**
 * One draw of R from the Dirichlet-process posterior (module comment): per task, weight Gamma(1) for each observed
 * sample and Gamma(α/K) for each of K prior atoms, a 0/1 profile over the rows each (all 2^rows profiles up to
 * EXACT_ROWS rows; else APPROX_ATOMS profiles drawn uniformly per draw); a cell is the weighted mean of its column.
 */
function bayesianDraw(scores: number[][][], samples: number[], rows: number, rng: Rng): () => number[][] {
  const exact = rows <= EXACT_ROWS;
  const K = exact ? 2 ** rows : APPROX_ATOMS;
  const w = samples.map((n) => new Float64Array(n));
  const atom = new Float64Array(K);
  const profile = new Uint8Array(K * rows);
  if (exact) for (let k = 0; k < K; k++) for (let c = 0; c < rows; c++) profile[k * rows + c] = (k >> c) & 1;
  return () => {
    const Rb = Array.from({ length: rows }, () => new Array<number>(samples.length));
    for (let j = 0; j < samples.length; j++) {
      const n = samples[j]!, wj = w[j]!;
      let total = 0;
      for (let i = 0; i < n; i++) total += wj[i] = -Math.log(1 - rng.float());
      for (let k = 0; k < K; k++) total += atom[k] = Math.exp(logGammaDraw(rng, PRIOR_MASS / K));
      if (!exact) for (let x = 0; x < K * rows; x++) profile[x] = rng.float() < 0.5 ? 1 : 0;
      for (let c = 0; c < rows; c++) {
        const v = scores[j]![c]!;
        let s = 0;
        for (let i = 0; i < n; i++) s += wj[i]! * v[i]!;
        for (let k = 0; k < K; k++) if (profile[k * rows + c]) s += atom[k]!;
        Rb[c]![j] = s / total;
      }
    }
    return Rb;
  };
}
