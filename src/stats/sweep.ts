/**
 * Sensitivity sweeps (Hochlehnert et al. 2025, "A Sober Look at Progress in LM Reasoning", §3–4: seed, temperature,
 * top_p, max tokens and prompt template each move math scores by several points): the grid of generation settings,
 * and the analysis of how much each factor moves the score compared with seed noise.
 *
 * The analysis reads only run specs and measurements, so it works on any set of runs of one model on one dataset
 * (the runs `assay sweep` made, or runs a user made by hand): the factors are the config fields that differ.
 */
import type { RunRecord } from '../core/schemas.ts';
import { clusteredBootstrapMeans, packClusters, percentileInterval } from './bootstrap.ts';
import { adjust } from './multiplicity.ts';
import { comparePaired } from './paired.ts';
import { FACTOR_FIELDS, levelOf, type FactorName } from './pool-data.ts';
import { anovaComponents } from './variance.ts';

/** A grid axis: a factor and its levels (numbers for numeric settings, strings for template / system prompt). */
export interface GridAxis {
  factor: FactorName;
  levels: (number | string)[];
}

/**
 * Cartesian product of the axes, in row-major order (first axis slowest). An empty grid is one empty cell.
 * Errors: RangeError for an axis given twice, an axis without levels, a level that is not a finite number or a
 * string, or a level repeated on one axis (the same run twice would pass a copy off as seed noise).
 */
export function expandGrid(axes: GridAxis[]): Record<string, number | string>[] {
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.factor)) throw new RangeError(`sweep factor ${a.factor} is given twice`);
    seen.add(a.factor);
    if (!a.levels.length) throw new RangeError(`sweep factor ${a.factor} has no levels`);
    for (const l of a.levels) {
      if (typeof l === 'number' ? !Number.isFinite(l) : typeof l !== 'string') throw new RangeError(`sweep factor ${a.factor}: bad level ${JSON.stringify(l)}`);
    }
    const dup = a.levels.find((l, i) => a.levels.indexOf(l) !== i);
    if (dup !== undefined) throw new RangeError(`sweep factor ${a.factor}: level ${JSON.stringify(dup)} is given more than once`);
  }
  let cells: Record<string, number | string>[] = [{}];
  for (const a of axes) {
    const next: Record<string, number | string>[] = [];
    for (const c of cells) for (const l of a.levels) next.push({ ...c, [a.factor]: l });
    cells = next;
  }
  return cells;
}

/** The factors that vary among runs, each run's level of it. */
export function varyingFactors(runs: RunRecord[]): { factor: FactorName; levels: string[] }[] {
  return FACTOR_FIELDS.filter((f) => new Set(runs.map((r) => levelOf(r, f))).size > 1).map((f) => ({ factor: f, levels: runs.map((r) => levelOf(r, f)) }));
}

export interface FactorLevel {
  level: string;
  runs: number;
  /** avg@k pooled over the level's runs (every attempt of a sample under this level is one cluster). */
  mean: number;
  ci95: { lo: number; hi: number };
  /** Each run's score at this level. */
  run_means: number[];
}

export interface FactorEffect {
  factor: FactorName;
  levels: FactorLevel[];
  /** Largest minus smallest level mean. */
  range: number;
  best: string;
  worst: string;
  /** Paired comparison of best vs worst level on the shared samples. */
  difference_ci95: { lo: number; hi: number };
  p: number;
  p_adjusted: number;
  /** range / seed_sd: how many seed-noise standard deviations the factor moves the score; null when no seed noise was measured (seed_sd 0 or unknown). */
  ratio_to_seed_sd: number | null;
  verdict: 'beyond seed noise' | 'inside seed noise';
}

export interface SweepAnalysis {
  runs: number;
  samples: number;
  /**
   * Seed noise of one run's score (std, score units): observed over seeds within cells when the sweep has
   * several seeds per setting, else null.
   */
  seed_sd_observed: number | null;
  /** Model-based seed noise √(σ²_w/(n·k)) from the within-sample variance, pooled over runs. */
  seed_sd_model: number;
  /** The one used for ratios: observed when available, else model-based. */
  seed_sd: number;
  factors: FactorEffect[];
  run_means: { run_id: string; levels: Record<string, string>; mean: number }[];
}

/**
 * Analyse runs of one model on one dataset. `clusters[r][i]`: run r's graded values on shared sample i (aligned).
 * The seed factor (config `seed`) is treated as noise, every other varying field as a factor. Best-vs-worst level
 * p-values are sign-flip permutation p-values, adjusted over factors with Holm (or BH).
 * Errors: RangeError when fewer than two distinct runs are given or `alpha` is outside (0, 1).
 */
export function analyzeSweep(runs: RunRecord[], clusters: number[][][], opts: { seed: number; replicates?: number; adjustment?: 'holm' | 'bh'; alpha?: number }): SweepAnalysis {
  if (runs.length < 2) throw new RangeError('a sweep needs at least two runs');
  if (new Set(runs.map((r) => r.id)).size !== runs.length) throw new RangeError('a sweep was given the same run twice');
  const alpha = opts.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const n = clusters[0]!.length;
  const runMean = clusters.map((c) => c.reduce((s, v) => s + v.reduce((a, b) => a + b, 0) / v.length, 0) / c.length);
  const varying = varyingFactors(runs);
  const factors = varying.filter((v) => v.factor !== 'seed');
  // Observed seed noise: runs that share every non-seed level form a cell; pooled variance of run means within cells.
  const cellOf = runs.map((_, r) => factors.map((f) => f.levels[r]).join('\u0000'));
  const cells = new Map<string, number[]>();
  cellOf.forEach((c, r) => {
    let a = cells.get(c);
    if (!a) cells.set(c, (a = []));
    a.push(runMean[r]!);
  });
  let ss = 0, df = 0;
  for (const ms of cells.values()) {
    if (ms.length < 2) continue;
    const m = ms.reduce((s, v) => s + v, 0) / ms.length;
    for (const v of ms) ss += (v - m) ** 2;
    df += ms.length - 1;
  }
  const seedObserved = df > 0 ? Math.sqrt(ss / df) : null;
  const within = clusters.map((c) => anovaComponents(c).within).filter((w) => !Number.isNaN(w));
  const kbar = clusters.reduce((s, c) => s + c.reduce((a, v) => a + v.length, 0) / c.length, 0) / clusters.length;
  const wbar = within.length ? within.reduce((s, v) => s + v, 0) / within.length : NaN;
  const seedModel = Math.sqrt(wbar / (n * kbar));
  const seedSd = seedObserved ?? seedModel;
  const effects: FactorEffect[] = factors.map((f, fi) => {
    const byLevel = new Map<string, number[]>();
    f.levels.forEach((l, r) => {
      let a = byLevel.get(l);
      if (!a) byLevel.set(l, (a = []));
      a.push(r);
    });
    const pooled = new Map<string, number[][]>();
    const levels: FactorLevel[] = [...byLevel.entries()].map(([level, rs], li) => {
      const cl = Array.from({ length: n }, (_, i) => rs.flatMap((r) => clusters[r]![i]!));
      pooled.set(level, cl);
      const packed = packClusters(cl);
      let s = 0;
      for (let i = 0; i < n; i++) s += packed.means[i]!;
      const ci = percentileInterval(clusteredBootstrapMeans(packed, { seed: opts.seed + 101 * fi + li, replicates: opts.replicates ?? 1000 }));
      return { level, runs: rs.length, mean: s / n, ci95: ci, run_means: rs.map((r) => runMean[r]!) };
    });
    levels.sort((a, b) => compareLevels(a.level, b.level));
    const best = levels.reduce((x, y) => (y.mean > x.mean ? y : x));
    const worst = levels.reduce((x, y) => (y.mean < x.mean ? y : x));
    const cmp = comparePaired(pooled.get(best.level)!, pooled.get(worst.level)!, { seed: opts.seed + 7 * fi, replicates: opts.replicates ?? 1000 });
    return {
      factor: f.factor, levels, range: best.mean - worst.mean, best: best.level, worst: worst.level,
      difference_ci95: { lo: cmp.ci95_bootstrap.lo, hi: cmp.ci95_bootstrap.hi }, p: best === worst ? 1 : cmp.sign_flip.p, p_adjusted: NaN,
      ratio_to_seed_sd: seedSd > 0 && Number.isFinite(seedSd) ? (best.mean - worst.mean) / seedSd : null, verdict: 'inside seed noise' as const,
    };
  });
  const padj = adjust(effects.map((e) => e.p), opts.adjustment ?? 'holm');
  effects.forEach((e, i) => {
    e.p_adjusted = padj[i]!;
    e.verdict = padj[i]! <= alpha ? 'beyond seed noise' : 'inside seed noise';
  });
  return {
    runs: runs.length,
    samples: n,
    seed_sd_observed: seedObserved,
    seed_sd_model: seedModel,
    seed_sd: seedSd,
    factors: effects,
    run_means: runs.map((r, i) => ({ run_id: r.id, levels: Object.fromEntries(varying.map((v) => [v.factor, v.levels[i]!])), mean: runMean[i]! })),
  };
}

/** Numeric levels in numeric order, others as strings. */
export function compareLevels(a: string, b: string): number {
  const x = Number(a), y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}
