/**
 * Rankings with rank intervals and statistically tied groups (DESIGN.md §5: a ranking is never printed without
 * rank intervals). Several runs on one task are aligned on the samples they all share; one joint clustered bootstrap
 * (the same resampled samples for every run) gives each run's CI.
 *
 * Rank intervals are **simultaneous**: with probability ≥ 1 − α every run's true rank (1 + the number of runs with a
 * strictly higher population mean) lies in its interval at once (Mogstad, Romano, Shaikh & Wilhelm 2024, "Inference
 * for ranks with applications to mobility across neighbourhoods and academic achievement across countries", Rev.
 * Econ. Stud. 91:476; Klein, Wright & Wieczorek 2020, "A joint confidence region for an overall ranking of
 * populations", JRSS-C 69:589). They are read from pairwise claims that hold jointly: run i is placed above run j
 * only when the family of pairwise comparisons says so at family-wise level α; then lo_j = 1 + #{i claimed above j}
 * and hi_j = m − #{i claimed below j}. The marginal percentile intervals of the bootstrap ranks (Hall & Miller 2009)
 * used before did not cover jointly (bench/coverage.ts).
 */
import type { Metric } from '../core/schemas.ts';
import { jointClusteredBootstrap, packClusters, percentileInterval } from './bootstrap.ts';
import { adjust } from './multiplicity.ts';
import { differenceInterval, signFlipTest } from './paired.ts';

/**
 * Simultaneous rank intervals from joint bootstrap replicates by the max-t method (Mogstad et al. 2024, §3.2;
 * Romano & Wolf 2005): for every pair (i, j) in a group, se_ij = the bootstrap SD of θ*_i − θ*_j; c = the `level`
 * quantile over replicates of max_{pairs} |(θ*_i − θ*_j) − (θ̂_i − θ̂_j)|/se_ij; i is claimed above j when
 * θ̂_i − θ̂_j > c·se_ij. Ranks are within each group (`groups`, default all items one group); pairs whose replicates
 * never differ (se 0) make no claim. Returns 1-based [lo, hi] per item and the critical value c.
 * Shapes: `point[r]`, `reps[r][b]` for item r, replicate b (same b = same resample for every item).
 */
export function maxTRankIntervals(point: ArrayLike<number>, reps: ArrayLike<number>[], opts: { level?: number; groups?: number[][] } = {}): { lo: Int32Array; hi: Int32Array; critical: number } {
  const m = point.length;
  const level = opts.level ?? 0.95;
  const groups = opts.groups ?? [Array.from({ length: m }, (_, i) => i)];
  const B = m ? reps[0]!.length : 0;
  const pairs: [number, number, number][] = [];
  for (const g of groups) {
    for (let x = 0; x < g.length; x++) {
      for (let y = x + 1; y < g.length; y++) {
        const i = g[x]!, j = g[y]!;
        const ri = reps[i]!, rj = reps[j]!;
        let s = 0, ss = 0;
        for (let b = 0; b < B; b++) {
          const d = ri[b]! - rj[b]!;
          s += d;
          ss += d * d;
        }
        const se = B > 1 ? Math.sqrt(Math.max(0, (ss - (s * s) / B) / (B - 1))) : 0;
        if (se > 1e-12 && Number.isFinite(se)) pairs.push([i, j, se]);
      }
    }
  }
  const maxT = new Float64Array(B);
  for (const [i, j, se] of pairs) {
    const ri = reps[i]!, rj = reps[j]!;
    const d0 = point[i]! - point[j]!;
    for (let b = 0; b < B; b++) {
      const t = Math.abs(ri[b]! - rj[b]! - d0) / se;
      if (t > maxT[b]!) maxT[b] = t;
    }
  }
  maxT.sort();
  const critical = B ? maxT[Math.min(B - 1, Math.max(0, Math.ceil(level * B) - 1))]! : Infinity;
  const above = new Int32Array(m), below = new Int32Array(m);
  for (const [i, j, se] of pairs) {
    const d0 = point[i]! - point[j]!;
    if (d0 > critical * se) {
      above[j]!++;
      below[i]!++;
    } else if (-d0 > critical * se) {
      above[i]!++;
      below[j]!++;
    }
  }
  const lo = new Int32Array(m), hi = new Int32Array(m);
  for (const g of groups) for (const r of g) {
    lo[r] = 1 + above[r]!;
    hi[r] = g.length - below[r]!;
  }
  return { lo, hi, critical };
}

export interface RankedRun {
  label: string;
  mean: number;
  ci95: { lo: number; hi: number };
  /**
   * Simultaneous rank interval at level 1 − α (rank 1 = best; module comment): lo = 1 + the runs significantly
   * better, hi = the number of runs − the runs significantly worse, by the pairwise sign-flip tests Holm-adjusted
   * over all pairs (always Holm here, whatever `adjustment` says: the joint claim needs family-wise control).
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
  /** How the rank intervals were made (printed with the table). */
  rank_interval_method: string;
  /** The scale of the means (absent: proportions); a numeric metric's means are numbers in its unit. */
  metric?: Metric;
}

/**
 * Rank runs. `clusters[r][i]` holds run r's graded values on shared sample i (aligned, non-empty).
 * Pairwise tests: sign-flip permutation p on per-sample differences, adjusted over all pairs (Holm by default,
 * Benjamini–Hochberg as an option); CI of each difference from the joint bootstrap. Groups are formed top-down:
 * the best unassigned run leads a group that takes every unassigned run not significantly worse than it.
 * `numeric`: unbounded scores (differences not clipped to [−1, 1]); higher is better (negate lower-is-better scores).
 * Errors: RangeError for fewer than 1 run, unaligned runs, no shared sample or `alpha` outside (0, 1).
 */
export function rankRuns(labels: string[], clusters: number[][][], opts: { seed: number; replicates?: number; adjustment?: 'holm' | 'bh'; alpha?: number; permutations?: number; numeric?: boolean }): Ranking {
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
  const pairs: PairwiseTest[] = [];
  const pairIdx: [number, number][] = [];
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      const d = Array.from({ length: n }, (_, s) => packed[i]!.means[s]! - packed[j]!.means[s]!);
      const diff = new Float64Array(B);
      for (let b = 0; b < B; b++) diff[b] = reps[i]![b]! - reps[j]![b]!;
      const ci = differenceInterval(d, { numeric: opts.numeric });
      const p = signFlipTest(d, { seed: opts.seed + 1 + i * m + j, permutations: opts.permutations ?? 5000, lattice: packed[i]!.binary && packed[j]!.binary ? latticeOf(clusters[i]!, clusters[j]!) : undefined }).p;
      pairs.push({ a: labels[i]!, b: labels[j]!, difference: means[i]! - means[j]!, ci95: { lo: ci.lo, hi: ci.hi }, p, p_adjusted: NaN });
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
  // Simultaneous rank intervals from the Holm-adjusted pairwise tests (module comment).
  const holm = adj === 'holm' ? padj : adjust(pairs.map((p) => p.p), 'holm');
  const above = new Int32Array(m), below = new Int32Array(m);
  pairIdx.forEach(([i, j], k) => {
    if (!(holm[k]! <= alpha) || means[i] === means[j]) return;
    const [hiR, loR] = means[i]! > means[j]! ? [i, j] : [j, i];
    above[loR]!++;
    below[hiR]!++;
  });
  const runs: RankedRun[] = order.map((r) => {
    return {
      label: labels[r]!,
      mean: means[r]!,
      ci95: percentileInterval(reps[r]!),
      rank_interval: { lo: 1 + above[r]!, hi: m - below[r]! },
      group: group[r]!,
      tied_with: [...tied[r]!].sort((x, y) => means[y]! - means[x]!).map((t) => labels[t]!),
    };
  });
  return {
    samples: n, runs, pairwise: pairs, adjustment: adj, alpha, replicates: B, seed: opts.seed,
    rank_interval_method: `simultaneous ${Math.round(100 * (1 - alpha))}% rank intervals from the pairwise sign-flip tests, Holm-adjusted (Mogstad et al. 2024)`,
  };
}

/** A common multiple of the epoch counts of two runs (≤ 10,000), for the exact lattice sign-flip test. */
function latticeOf(a: number[][], b: number[][]): number | undefined {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  let L = 1;
  for (const c of [...a, ...b]) {
    L = (L / gcd(L, c.length)) * c.length;
    if (L > 10_000) return undefined;
  }
  return L;
}

/** One model's place in a ranking across several tasks. */
export interface RankedModel {
  label: string;
  /** Macro average: the mean over tasks of the model's accuracy (avg@k) on each task. */
  mean: number;
  /** 95% percentile CI of the macro average (samples resampled within each task, jointly for all models). */
  ci95: { lo: number; hi: number };
  /** Simultaneous 95% rank interval (rank 1 = best): max-t over the pairwise macro-average differences (`maxTRankIntervals`). */
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
  const ri = maxTRankIntervals(point, macro, { level: 0.95 });
  const order = [...point.keys()].sort((x, y) => point[y]! - point[x]!);
  return {
    models: order.map((r) => ({ label: labels[r]!, mean: point[r]!, ci95: percentileInterval(macro[r]!), rank_interval: { lo: ri.lo[r]!, hi: ri.hi[r]! } })),
    replicates: B,
    seed: opts.seed,
  };
}
