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
import { anovaComponents } from './variance.ts';

/** The generation-config and template fields that can differ between runs of one model (sweep factors). */
export const FACTOR_FIELDS = ['temperature', 'top_p', 'top_k', 'max_tokens', 'seed', 'system_prompt', 'template', 'stop'] as const;
export type FactorName = (typeof FACTOR_FIELDS)[number];

/** A factor's level in a run, as a display string (`—` when unset). */
export function levelOf(run: RunRecord, f: FactorName): string {
  const v = f === 'template' ? run.spec.template.name + (run.spec.template.name === 'custom' ? `#${run.spec.template.hash.slice(0, 6)}` : '') : (run.spec.config as Record<string, unknown>)[f];
  if (v === undefined || v === null) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

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
  /** What was tested, with its numbers: the best-vs-worst paired test behind `p` and `p_adjusted`. */
  test: SweepTest;
  /** `p_adjusted ≤ alpha`: the best and worst levels differ beyond what the paired test attributes to chance. */
  significant: boolean;
  /**
   * One plain sentence naming the test and its numbers (difference with CI, statistic, p, adjusted p, alpha, the
   * seed-noise SD and the minimum detectable effect). Never "inside seed noise": a non-significant factor is "not
   * significant at this size", which is what the test says.
   */
  verdict: string;
}

/** The paired test of a factor's best vs worst level (sign-flip permutation on per-sample mean differences). */
export interface SweepTest {
  name: 'sign-flip permutation test';
  /** The hypothesis tested, in words. */
  null_hypothesis: string;
  /** The statistic's formula and value: |Σ d_i|, d_i = best-level mean − worst-level mean on shared sample i (score units). */
  statistic_name: '|Σ d_i|';
  statistic: number;
  /** Exact enumeration (≤ 20 non-zero differences) or Monte Carlo, and how many sign assignments. */
  method: 'exact' | 'monte carlo';
  permutations: number;
  /** Shared samples in the test and the mean attempts per sample at each of the two levels. */
  samples: number;
  epochs_best: number;
  epochs_worst: number;
  p: number;
  p_adjusted: number;
  adjustment: 'holm' | 'bh';
  /** Factors the adjustment is over. */
  comparisons: number;
  alpha: number;
  /** Minimum detectable effect at 80% power at this size (score units), from the paired bootstrap SE; null when it cannot be estimated. */
  mde: number | null;
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
  /** The seed noise in words: where it came from, and whether any was measured. */
  seed_noise: string;
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
  const adjustment = opts.adjustment ?? 'holm';
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
    // ties: the last of the lowest levels, so that a factor whose levels all score the same still names two levels
    const worst = levels.reduce((x, y) => (y.mean <= x.mean ? y : x));
    const cmp = comparePaired(pooled.get(best.level)!, pooled.get(worst.level)!, { seed: opts.seed + 7 * fi, replicates: opts.replicates ?? 1000, alpha });
    const dsum = Math.abs(cmp.difference * cmp.samples);
    const p = best === worst ? 1 : cmp.sign_flip.p;
    return {
      factor: f.factor, levels, range: best.mean - worst.mean, best: best.level, worst: worst.level,
      difference_ci95: { lo: cmp.ci95_bootstrap.lo, hi: cmp.ci95_bootstrap.hi }, p, p_adjusted: NaN,
      ratio_to_seed_sd: seedSd > 0 && Number.isFinite(seedSd) ? (best.mean - worst.mean) / seedSd : null,
      test: {
        name: 'sign-flip permutation test' as const, null_hypothesis: `${f.factor} ${best.level} and ${worst.level} score the same on each sample (per-sample differences symmetric about 0)`,
        statistic_name: '|Σ d_i|' as const, statistic: dsum, method: cmp.sign_flip.method, permutations: cmp.sign_flip.permutations,
        samples: cmp.samples, epochs_best: cmp.epochs_a, epochs_worst: cmp.epochs_b, p, p_adjusted: NaN, adjustment, comparisons: factors.length, alpha,
        mde: Number.isFinite(cmp.mde) ? cmp.mde : null,
      },
      significant: false, verdict: '',
    };
  });
  const padj = adjust(effects.map((e) => e.p), adjustment);
  const seed = { observed: seedObserved, model: seedModel, used: seedSd };
  effects.forEach((e, i) => {
    e.p_adjusted = padj[i]!;
    e.test.p_adjusted = padj[i]!;
    e.significant = padj[i]! <= alpha;
    e.verdict = sweepVerdict(e, seed);
  });
  return {
    runs: runs.length,
    samples: n,
    seed_sd_observed: seedObserved,
    seed_sd_model: seedModel,
    seed_sd: seedSd,
    seed_noise: seedNoiseText(seed),
    factors: effects,
    run_means: runs.map((r, i) => ({ run_id: r.id, levels: Object.fromEntries(varying.map((v) => [v.factor, v.levels[i]!])), mean: runMean[i]! })),
  };
}

const pts = (x: number, digits = 1) => `${(100 * x).toFixed(digits)} pts`;
/** p for display: 3 decimals, 2 significant digits under 0.001, `< 1e-4` below that (the same rule as `assay compare`). */
const fmtP = (p: number) => (Number.isNaN(p) ? 'n/a' : p < 1e-4 ? '< 1e-4' : p >= 0.001 ? p.toFixed(3) : p.toPrecision(2));
const fmtK = (k: number) => k.toFixed(k % 1 ? 1 : 0);
/** `p = 0.012` or `p < 1e-4`. */
const pIs = (p: number) => (p < 1e-4 ? `p ${fmtP(p)}` : `p = ${fmtP(p)}`);

/**
 * The seed noise in words, saying where it came from and, when the seeds gave identical scores, that no seed
 * noise could be measured (a 0.00-pt SD is not a yardstick anything can be "inside").
 */
export function seedNoiseText(s: { observed: number | null; model: number; used: number }): string {
  const model = Number.isFinite(s.model) ? `${pts(s.model, 2)} model-based from the within-sample variance` : 'no model-based estimate (no sample has two graded attempts)';
  if (s.observed == null) return `seed-noise SD ${model} (one run per setting, so none observed over seeds)`;
  if (s.observed === 0) return `seed-noise SD 0.00 pts observed over seeds (runs that differ only in seed scored identically, so no seed noise was measured; ${model})`;
  return `seed-noise SD ${pts(s.observed, 2)} observed over seeds (${model})`;
}

/**
 * A factor's verdict as one sentence: what was tested (sign-flip permutation test of the best vs the worst level,
 * paired by sample, adjusted over the sweep's factors) with its numbers, then the effect in seed-noise SDs when a
 * seed noise was measured. Pure; used by `analyzeSweep`.
 */
export function sweepVerdict(e: Omit<FactorEffect, 'verdict'>, seed: { observed: number | null; model: number; used: number }): string {
  const t = e.test;
  const adj = t.comparisons > 1 ? `, ${t.adjustment === 'holm' ? 'Holm' : 'Benjamini–Hochberg'}-adjusted over ${t.comparisons} factors ${pIs(t.p_adjusted)}` : '';
  const size = `${t.samples} shared samples × ${fmtK(t.epochs_best)}/${fmtK(t.epochs_worst)} attempts`;
  const testText = `sign-flip permutation test of ${e.factor} ${e.best} vs ${e.worst} paired by sample (${t.method}${t.method === 'monte carlo' ? `, ${t.permutations} sign flips` : ''}): |Σ d_i| = ${t.statistic.toFixed(2)} over ${size}, ${pIs(t.p)}${adj}`;
  const effect = `${e.best} − ${e.worst} = ${pts(e.range)} (95% CI ${pts(e.difference_ci95.lo)} to ${pts(e.difference_ci95.hi)})`;
  const ratio = e.ratio_to_seed_sd != null ? `; the range is ${e.ratio_to_seed_sd.toFixed(1)} × the seed-noise SD of ${pts(seed.used, 2)} (${seed.observed != null ? 'observed over seeds' : 'model-based'})` : `; ${seedNoiseText(seed)}`;
  const mde = t.mde != null ? `; the minimum detectable effect at 80% power is ±${pts(t.mde)}` : '';
  if (e.significant) return `${e.factor} moves the score: ${effect}; ${testText} ≤ α = ${t.alpha}${ratio}.`;
  if (e.best === e.worst || e.range === 0) return `No effect of ${e.factor} detected: every level has the same score; ${testText} > α = ${t.alpha}${ratio}.`;
  return `Not significant at this size: ${effect}; ${testText} > α = ${t.alpha}${mde}${ratio}.`;
}

/** Numeric levels in numeric order, others as strings. */
export function compareLevels(a: string, b: string): number {
  const x = Number(a), y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}
