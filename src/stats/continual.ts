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
 */
import { createRng } from '../core/rng.ts';
import { percentileInterval } from './bootstrap.ts';
import { effectiveWilsonInterval } from './intervals.ts';

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
  const last = R[T]!;
  return {
    accumulation, zero_shot, retention, geometric_mean, forgetting,
    acc: mean(adapt.map((a) => last[a.j]!)),
    bwt: mean(adapt.filter((a) => a.k < T).map((a) => last[a.j]! - R[a.k]![a.j]!)),
    fwt: mean(adapt.filter((a) => a.k >= 2).map((a) => R[a.k - 1]![a.j]! - R[0]![a.j]!)),
  };
}

/** A value with its 95% percentile-bootstrap interval (null bounds when fewer than two replicates define it). */
export interface Estimate {
  value: number | null;
  ci95: { lo: number; hi: number } | null;
}

/** {@link ContinualMetrics} with intervals: each per-checkpoint array holds estimates. */
export interface ContinualReport {
  /** R with an interval per cell: matrix[c][j]. */
  matrix: Estimate[][];
  accumulation: Estimate[];
  zero_shot: Estimate[];
  retention: Estimate[];
  geometric_mean: Estimate[];
  forgetting: Estimate[];
  acc: Estimate;
  bwt: Estimate;
  fwt: Estimate;
  /** Aligned samples per task (the bootstrap's clusters). */
  samples: number[];
  replicates: number;
  seed: number;
  method: string;
}

/** Options of {@link continualReport}. */
export interface ContinualOptions {
  /** Bootstrap replicates (default 2000). */
  replicates?: number;
  /** Seed of the resampling (default 0); recorded in the report. */
  seed?: number;
}

/**
 * The continual metrics with 95% intervals from a **paired** cluster bootstrap: each replicate draws, per task, n_j
 * samples with replacement and uses the same draw for every checkpoint (a sample's scores at all checkpoints move
 * together, so differences between checkpoints — forgetting, transfer, retention — are paired by sample), recomputes
 * R and every metric; intervals are the 2.5% and 97.5% percentiles (Efron & Tibshirani 1993, §13.3; clusters =
 * samples, Field & Welsh 2007). Point values are those of the full data.
 * @param scores scores[j][c][i]: per-sample score (mean over its graded repeats, in [0, 1]) of task j at checkpoint row c,
 *   sample i aligned across checkpoints (the same sample at the same i in every row); every task needs ≥ 1 sample
 * @param roles one role per task
 * @throws Error for ragged or empty inputs (see also {@link continualMetrics})
 */
export function continualReport(scores: number[][][], roles: StreamTaskRole[], opts: ContinualOptions = {}): ContinualReport {
  const replicates = opts.replicates ?? 2000;
  const seed = opts.seed ?? 0;
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
  const matrixOf = (idx: (j: number) => Int32Array | null) =>
    Array.from({ length: rows }, (_, c) =>
      scores.map((byRow, j) => {
        const v = byRow[c]!;
        const ix = idx(j);
        let s = 0;
        if (ix) for (let i = 0; i < ix.length; i++) s += v[ix[i]!]!;
        else for (let i = 0; i < v.length; i++) s += v[i]!;
        return s / (ix ? ix.length : v.length);
      }),
    );
  const R = matrixOf(() => null);
  const point = continualMetrics(R, roles);
  const rng = createRng(seed);
  // Replicate values per statistic, flattened by key.
  const reps = new Map<string, number[]>();
  const push = (key: string, v: number | null | undefined) => {
    if (v === null || v === undefined || !Number.isFinite(v)) return;
    let a = reps.get(key);
    if (!a) reps.set(key, (a = []));
    a.push(v);
  };
  const draws = samples.map((n) => new Int32Array(n));
  for (let b = 0; b < replicates; b++) {
    for (let j = 0; j < samples.length; j++) for (let i = 0; i < samples[j]!; i++) draws[j]![i] = rng.index(samples[j]!);
    const Rb = matrixOf((j) => draws[j]!);
    const m = continualMetrics(Rb, roles);
    Rb.forEach((row, c) => row.forEach((v, j) => push(`R:${c}:${j}`, v)));
    for (const key of ['accumulation', 'zero_shot', 'retention', 'geometric_mean', 'forgetting'] as const) m[key].forEach((v, c) => push(`${key}:${c}`, v));
    for (const key of ['acc', 'bwt', 'fwt'] as const) push(key, m[key]);
  }
  const est = (key: string, value: number | null | undefined): Estimate => {
    const r = reps.get(key);
    if (value === null || value === undefined || !r || r.length < 2) return { value: value ?? null, ci95: null };
    return { value, ci95: percentileInterval(Float64Array.from(r)) };
  };
  const series = (key: 'accumulation' | 'zero_shot' | 'retention' | 'geometric_mean' | 'forgetting') => point[key].map((v, c) => est(`${key}:${c}`, v));
  return {
    // A cell is one task's accuracy at one checkpoint: the Wilson interval on its samples (effective n, as `assay stats`
    // labels it), which keeps its width at 0% and 100% where a percentile bootstrap collapses to a point.
    matrix: R.map((row, c) => row.map((v, j) => {
      const w = effectiveWilsonInterval(scores[j]![c]!, scores[j]![c]!.length);
      return { value: v, ci95: { lo: w.lo, hi: w.hi } };
    })),
    accumulation: series('accumulation'), zero_shot: series('zero_shot'), retention: series('retention'),
    geometric_mean: series('geometric_mean'), forgetting: series('forgetting'),
    acc: est('acc', point.acc), bwt: est('bwt', point.bwt), fwt: est('fwt', point.fwt),
    samples, replicates, seed,
    method: `cells: Wilson interval on the samples; metrics: paired cluster bootstrap over samples (same draw at every checkpoint), ${replicates} replicates, seed ${seed}, 2.5–97.5% percentiles`,
  };
}
