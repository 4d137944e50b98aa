/**
 * Rankings with rank intervals and statistically tied groups (DESIGN.md §5: a ranking is never printed without
 * rank intervals). Several runs on one task are aligned on the samples they all share; one joint clustered bootstrap
 * (the same resampled samples for every run) gives each run's CI and the distribution of its rank.
 */
import { jointClusteredBootstrap, packClusters, percentileInterval } from './bootstrap.ts';
import { adjust } from './multiplicity.ts';
import { signFlipTest } from './paired.ts';

export interface RankedRun {
  label: string;
  mean: number;
  ci95: { lo: number; hi: number };
  /**
   * 95% rank interval: the 2.5% and 97.5% quantiles (inverse-CDF) of the run's rank over the bootstrap replicates,
   * rank 1 = best (Hall & Miller 2009, "Using the bootstrap to quantify the authority of an empirical ranking",
   * Ann. Statist. 37:3929).
   */
  rank_interval: { lo: number; hi: number };
  /** Group number (1 = top): runs in one group are not significantly different from the group's best run. */
  group: number;
  /** Labels of the runs this one is not significantly different from (adjusted p > α). */
  tied_with: string[];
}

export interface PairwiseTest {
  a: string;
  b: string;
  difference: number;
  ci95: { lo: number; hi: number };
  p: number;
  p_adjusted: number;
}

export interface Ranking {
  samples: number;
  runs: RankedRun[];
  pairwise: PairwiseTest[];
  adjustment: 'holm' | 'bh';
  alpha: number;
  replicates: number;
  seed: number;
}

/** Inverse-CDF (type 1) quantile of a sorted integer array. */
function q1(sorted: Int32Array, q: number): number {
  const n = sorted.length;
  const i = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  return sorted[i]!;
}

/**
 * Rank runs. `clusters[r][i]` holds run r's graded values on shared sample i (aligned, non-empty).
 * Pairwise tests: sign-flip permutation p on per-sample differences, adjusted over all pairs (Holm by default,
 * Benjamini–Hochberg as an option); CI of each difference from the joint bootstrap. Groups are formed top-down:
 * the best unassigned run leads a group that takes every unassigned run not significantly worse than it.
 * Errors: RangeError for fewer than 1 run, unaligned runs, no shared sample or `alpha` outside (0, 1).
 */
export function rankRuns(labels: string[], clusters: number[][][], opts: { seed: number; replicates?: number; adjustment?: 'holm' | 'bh'; alpha?: number; permutations?: number }): Ranking {
  const m = labels.length;
  if (m < 1 || clusters.length !== m) throw new RangeError('rankRuns needs one cluster set per label');
  const B = opts.replicates ?? 2000;
  const alpha = opts.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const adj = opts.adjustment ?? 'holm';
  const packed = clusters.map((c) => packClusters(c));
  const n = packed[0]!.n;
  const means = packed.map((p) => {
    let s = 0;
    for (let i = 0; i < p.n; i++) s += p.means[i]!;
    return s / p.n;
  });
  // Stage-1 resampling only (as for paired differences; see paired.ts).
  const reps = jointClusteredBootstrap(packed, { seed: opts.seed, replicates: B, within: false });
  const ranks = Array.from({ length: m }, () => new Int32Array(B));
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < m; r++) {
      let better = 0;
      for (let s = 0; s < m; s++) if (reps[s]![b]! > reps[r]![b]! + 1e-12) better++;
      ranks[r]![b] = 1 + better;
    }
  }
  const pairs: PairwiseTest[] = [];
  const pairIdx: [number, number][] = [];
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      const d = Array.from({ length: n }, (_, s) => packed[i]!.means[s]! - packed[j]!.means[s]!);
      const diff = new Float64Array(B);
      for (let b = 0; b < B; b++) diff[b] = reps[i]![b]! - reps[j]![b]!;
      const ci = percentileInterval(diff);
      const p = signFlipTest(d, { seed: opts.seed + 1 + i * m + j, permutations: opts.permutations ?? 5000 }).p;
      pairs.push({ a: labels[i]!, b: labels[j]!, difference: means[i]! - means[j]!, ci95: ci, p, p_adjusted: NaN });
      pairIdx.push([i, j]);
    }
  }
  const padj = adjust(pairs.map((p) => p.p), adj);
  pairs.forEach((p, k) => (p.p_adjusted = padj[k]!));
  const tied = Array.from({ length: m }, () => new Set<number>());
  pairIdx.forEach(([i, j], k) => {
    if (!(padj[k]! <= alpha)) {
      tied[i]!.add(j);
      tied[j]!.add(i);
    }
  });
  const order = [...means.keys()].sort((x, y) => means[y]! - means[x]!);
  const group = new Array<number>(m).fill(0);
  let g = 0;
  for (const leader of order) {
    if (group[leader]) continue;
    g++;
    group[leader] = g;
    for (const r of order) if (!group[r] && tied[leader]!.has(r)) group[r] = g;
  }
  const runs: RankedRun[] = order.map((r) => {
    const sr = Int32Array.from(ranks[r]!).sort();
    return {
      label: labels[r]!,
      mean: means[r]!,
      ci95: percentileInterval(reps[r]!),
      rank_interval: { lo: q1(sr, 0.025), hi: q1(sr, 0.975) },
      group: group[r]!,
      tied_with: [...tied[r]!].sort((x, y) => means[y]! - means[x]!).map((t) => labels[t]!),
    };
  });
  return { samples: n, runs, pairwise: pairs, adjustment: adj, alpha, replicates: B, seed: opts.seed };
}

/** One model's place in a ranking across several tasks. */
export interface RankedModel {
  label: string;
  /** Macro average: the mean over tasks of the model's accuracy (avg@k) on each task. */
  mean: number;
  /** 95% percentile CI of the macro average (samples resampled within each task, jointly for all models). */
  ci95: { lo: number; hi: number };
  /** 95% rank interval over the bootstrap replicates (rank 1 = best; Hall & Miller 2009). */
  rank_interval: { lo: number; hi: number };
}

/**
 * Rank models across tasks by their macro-averaged accuracy, with CIs and rank intervals.
 * `tasks[t][r][i]`: model r's graded values (epochs) on task t's shared sample i (aligned across models within a
 * task; tasks may differ in size). Each task is resampled by a joint clustered bootstrap over its samples (the same
 * draw for every model, seed `seed + t`), independently of the other tasks; replicate b's macro average is the mean
 * over tasks of the replicate means. Ranks use the same replicates.
 * Errors: RangeError when a task's model count differs from `labels.length` or a task has no shared sample.
 */
export function rankAcrossTasks(labels: string[], tasks: number[][][][], opts: { seed: number; replicates?: number }): { models: RankedModel[]; replicates: number; seed: number } {
  const m = labels.length;
  const B = opts.replicates ?? 2000;
  const macro = Array.from({ length: m }, () => new Float64Array(B));
  const point = new Float64Array(m);
  tasks.forEach((clusters, t) => {
    if (clusters.length !== m) throw new RangeError(`task ${t} has ${clusters.length} models, expected ${m}`);
    const packed = clusters.map((c) => packClusters(c));
    const reps = jointClusteredBootstrap(packed, { seed: opts.seed + t, replicates: B, within: false });
    for (let r = 0; r < m; r++) {
      let s = 0;
      for (let i = 0; i < packed[r]!.n; i++) s += packed[r]!.means[i]!;
      point[r]! += s / packed[r]!.n / tasks.length;
      for (let b = 0; b < B; b++) macro[r]![b]! += reps[r]![b]! / tasks.length;
    }
  });
  const ranks = Array.from({ length: m }, () => new Int32Array(B));
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < m; r++) {
      let better = 0;
      for (let s = 0; s < m; s++) if (macro[s]![b]! > macro[r]![b]! + 1e-12) better++;
      ranks[r]![b] = 1 + better;
    }
  }
  const order = [...point.keys()].sort((x, y) => point[y]! - point[x]!);
  return {
    models: order.map((r) => {
      const sr = Int32Array.from(ranks[r]!).sort();
      return { label: labels[r]!, mean: point[r]!, ci95: percentileInterval(macro[r]!), rank_interval: { lo: q1(sr, 0.025), hi: q1(sr, 0.975) } };
    }),
    replicates: B,
    seed: opts.seed,
  };
}
