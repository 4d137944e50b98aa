/**
 * Paired comparisons of runs (`assay compare`, the report): on the samples the runs share (matched by content
 * hash), the paired cluster-bootstrap difference with its CI, the sign-flip permutation test, McNemar, paired t and
 * Wilcoxon signed-rank, the minimum detectable effect, Holm or Benjamini–Hochberg over the pairs, and with ≥ 3 runs
 * a ranking with rank intervals. Outcomes come from the one reader (src/analyses/outcomes.ts).
 */
import { InputError } from '../core/errors.ts';
import type { Pool } from '../store/types.ts';
import { adjust } from '../stats/multiplicity.ts';
import { comparePaired, type PairedComparison } from '../stats/paired.ts';
import { rankRuns, type Ranking } from '../stats/rank.ts';
import { alignRuns, clustersOf, loadRuns, runLabels, type RunData } from './outcomes.ts';
import type { Metric, MetricInfo } from '../core/schemas.ts';
import { commonMetric } from './metric.ts';

/** Options shared by the analyses of several runs. */
export interface AnalysisOptions {
  /** The stored scorer to read every run with (default: each run's first scorer with measurements). */
  scorer?: string;
  /** Bootstrap and permutation seed (default 0 for comparisons; each run manifest's for per-run figures). */
  seed?: number;
  /** Bootstrap replicates (default 2000). */
  replicates?: number;
  /** Monte Carlo sign flips (default 10,000; exact enumeration for ≤ 20 non-zero differences). */
  permutations?: number;
  /** Multiplicity adjustment over comparisons: Holm (default) or Benjamini–Hochberg. */
  adjustment?: 'holm' | 'bh';
  /** Significance level in (0, 1) (default 0.05). */
  alpha?: number;
}

export interface PairResult extends PairedComparison {
  a: string;
  b: string;
  a_label: string;
  b_label: string;
  /** Sign-flip permutation p adjusted over all pairs of the comparison (Holm or BH). */
  p_adjusted: number;
  significant: boolean;
  /** One plain sentence. */
  verdict: string;
  /**
   * The label of the better run when a difference is called, by the metric's direction (for bits per byte the lower
   * one); null when no difference is called or the direction is unknown.
   */
  better: string | null;
  /** Samples where A / B is better by the metric's direction (= `wins` / `losses` when higher is better; null when the direction is unknown). */
  a_better_on: number | null;
  b_better_on: number | null;
}

export interface ComparisonReport {
  scorer: string;
  /** The scale and direction of the scorer's values: differences of a numeric metric are in its unit, not points. */
  metric: MetricInfo;
  runs: { id: string; label: string; model: string; samples: number; epochs: number }[];
  shared_samples: number;
  adjustment: 'holm' | 'bh';
  alpha: number;
  seed: number;
  pairs: PairResult[];
  ranking: Ranking | null;
}

const pts = (x: number) => `${(100 * x).toFixed(1)} pts`;

/**
 * The plain-language verdict of one comparison (DESIGN.md: say "no detectable difference at this size" when so),
 * naming what was tested with its numbers: the two-sided sign-flip permutation test of the per-sample mean
 * differences (paired by sample; exact or Monte Carlo, mid-p; src/stats/paired.ts `signFlipTest`), its raw p and,
 * when `adj` says the p was adjusted over several comparisons, the adjustment (Holm or Benjamini–Hochberg) and the
 * adjusted p. A difference is called only when the adjusted p ≤ α *and* the 95% bootstrap CI of the difference
 * excludes 0; when the two disagree the sentence says so instead of calling it. The sentence names the
 * higher-scoring run first, so the difference and its CI are given in that direction (higher − lower), never as
 * A − B with the sign flipped.
 */
export function verdictOf(c: PairedComparison, aLabel: string, bLabel: string, pAdj: number, alpha: number, adj: { method: 'holm' | 'bh'; comparisons: number } = { method: 'holm', comparisons: 1 }, metric?: Metric): string {
  if (metric?.kind === 'numeric') return numericVerdict(c, aLabel, bLabel, pAdj, alpha, adj, metric);
  const { size, mdeText, test, ciExcludes0 } = verdictParts(c, pAdj, adj, pts);
  if (pAdj <= alpha && ciExcludes0) {
    const aHigher = c.difference > 0;
    const [hi, lo] = aHigher ? [aLabel, bLabel] : [bLabel, aLabel];
    const [ciLo, ciHi] = aHigher ? [c.ci95.lo, c.ci95.hi] : [-c.ci95.hi, -c.ci95.lo];
    return `${hi} scores higher than ${lo} by ${pts(Math.abs(c.difference))} (95% CI ${pts(ciLo)} to ${pts(ciHi)}; ${test} ≤ α = ${alpha}; ${size}).`;
  }
  if (c.wins === 0 && c.losses === 0) {
    return `No detectable difference at this size (${size}): the two runs have the same score on every shared sample (difference 0.0 pts; ${test}); ${mdeText}.`;
  }
  const why = pAdj <= alpha ? ` ≤ α = ${alpha}, but the 95% bootstrap CI includes 0, so no difference is called` : ` > α = ${alpha}`;
  return `No detectable difference at this size (${size}): the difference is ${pts(c.difference)} (95% CI ${pts(c.ci95.lo)} to ${pts(c.ci95.hi)}; ${test}${why}); ${mdeText}.`;
}

/** A difference of a numeric metric in its unit, e.g. `0.2825 bits/byte`. */
export function unitsOf(x: number, m: Extract<Metric, { kind: 'numeric' }>): string {
  return Number.isFinite(x) ? `${x.toFixed(4)}${m.unit ? ` ${m.unit}` : ''}` : 'n/a';
}

/**
 * The verdict of a comparison under a numeric metric (bits per byte, log-likelihood): the same rule as `verdictOf`
 * (adjusted p ≤ α and the 95% interval excludes 0), differences in the metric's unit, and the better run named by the
 * metric's direction (the lower one when lower is better); with the direction unknown no run is called better.
 */
function numericVerdict(c: PairedComparison, aLabel: string, bLabel: string, pAdj: number, alpha: number, adj: { method: 'holm' | 'bh'; comparisons: number }, m: Extract<Metric, { kind: 'numeric' }>): string {
  const u = (x: number) => unitsOf(x, m);
  const { size, mdeText, test, ciExcludes0 } = verdictParts(c, pAdj, adj, u);
  if (pAdj <= alpha && ciExcludes0) {
    const aHigher = c.difference > 0;
    const [hi, lo] = aHigher ? [aLabel, bLabel] : [bLabel, aLabel];
    const [ciLo, ciHi] = aHigher ? [c.ci95.lo, c.ci95.hi] : [-c.ci95.hi, -c.ci95.lo];
    const by = `by ${u(Math.abs(c.difference))} (95% CI ${u(ciLo)} to ${u(ciHi)}; ${test} ≤ α = ${alpha}; ${size})`;
    if (m.higher_is_better == null) return `${hi} has the higher mean than ${lo} ${by}; the metric's direction is unknown, so neither is called better.`;
    const [better, worse] = m.higher_is_better ? [hi, lo] : [lo, hi];
    return `${better} is better than ${worse}: its mean is ${m.higher_is_better ? 'higher' : 'lower'} ${by}; ${m.higher_is_better ? 'higher' : 'lower'} is better.`;
  }
  if (c.wins === 0 && c.losses === 0) {
    return `No detectable difference at this size (${size}): the two runs have the same value on every shared sample (difference ${u(0)}; ${test}); ${mdeText}.`;
  }
  const why = pAdj <= alpha ? ` ≤ α = ${alpha}, but the 95% CI includes 0, so no difference is called` : ` > α = ${alpha}`;
  return `No detectable difference at this size (${size}): the difference A − B is ${u(c.difference)} (95% CI ${u(c.ci95.lo)} to ${u(c.ci95.hi)}; ${test}${why}); ${mdeText}.`;
}

/**
 * What every comparison verdict states, whatever the metric: the design's size, the minimum detectable effect (or why
 * none can be estimated), the sign-flip test with its raw and adjusted p, and whether the 95% CI excludes 0.
 * `fmt` formats a difference in the metric's unit.
 */
function verdictParts(c: PairedComparison, pAdj: number, adj: { method: 'holm' | 'bh'; comparisons: number }, fmt: (x: number) => string): { size: string; mdeText: string; test: string; ciExcludes0: boolean } {
  const size = `${c.samples} samples × ${c.epochs_a.toFixed(c.epochs_a % 1 ? 1 : 0)}/${c.epochs_b.toFixed(c.epochs_b % 1 ? 1 : 0)} epochs`;
  const mdeText = Number.isFinite(c.mde)
    ? `the minimum detectable effect at 80% power is ±${fmt(c.mde)}`
    : c.samples < 2
      ? 'with fewer than 2 shared samples no minimum detectable effect can be estimated'
      : 'the per-sample differences do not vary, so no minimum detectable effect can be estimated from these runs';
  const sf = c.sign_flip;
  const pIs = (x: number) => (fmtP(x).startsWith('<') ? `p ${fmtP(x)}` : `p = ${fmtP(x)}`);
  const pText = adj.comparisons > 1
    ? `${pIs(sf.p)}, ${adj.method === 'holm' ? 'Holm' : 'Benjamini–Hochberg'}-adjusted over ${adj.comparisons} comparisons ${pIs(pAdj)}`
    : pIs(pAdj);
  const test = `sign-flip permutation test paired by sample (${sf.method}${sf.method === 'monte carlo' ? `, ${sf.permutations} sign flips` : ''}): ${pText}`;
  return { size, mdeText, test, ciExcludes0: c.ci95.lo > 0 || c.ci95.hi < 0 };
}

/** A p-value for display: 3 significant digits, `< 1e-4` below that. */
export function fmtP(p: number): string {
  if (Number.isNaN(p)) return 'n/a';
  if (p < 1e-4) return '< 1e-4';
  return p >= 0.001 ? p.toFixed(3) : p.toPrecision(2);
}

/** Why runs share no graded sample, in words: a run without any graded attempt, or different datasets. */
export function noSharedMessage(data: RunData[]): string {
  const empty = data.filter((d) => clustersOf(d).length === 0);
  if (empty.length) {
    return empty.map((d) => {
      const failed = d.samples.reduce((s, x) => s + x.epochs.filter((e) => e.failed).length, 0);
      return `run ${d.run.id} has no graded attempt (${failed} failed attempt(s); run it again to retry them)`;
    }).join('; ');
  }
  const datasets = [...new Set(data.map((d) => d.run.spec.dataset.ref))];
  return `these runs share no graded sample (samples are matched by content hash of input and target)` + (datasets.length > 1 ? `; they are on different datasets: ${datasets.join(', ')}` : '');
}

/** The significance level, checked: a number in (0, 1) (default 0.05). Errors: InputError otherwise. */
export function checkAlpha(alpha: number | undefined): number {
  const a = alpha ?? 0.05;
  if (!(a > 0 && a < 1)) throw new InputError(`the significance level alpha must be in (0, 1), got ${alpha}`);
  return a;
}

/**
 * Paired comparisons of runs read from the pool (ids or unique prefixes) on the samples they all share: all pairs,
 * or each run against `baseline` (a ref among `refs`). p-values (sign-flip permutation) adjusted over the pairs;
 * with ≥ 3 runs also a ranking with rank intervals. Shapes: `ComparisonReport` (differences and CIs in score
 * units, A − B). Formulas: src/stats/paired.ts, src/stats/rank.ts.
 * Errors: InputError for fewer than 2 runs, unknown runs, a run given twice, runs under different scorers, no
 * shared sample, a bad alpha, or a baseline that is not among the runs.
 */
export async function compareRuns(pool: Pool, refs: string[], o: AnalysisOptions & { baseline?: string } = {}): Promise<ComparisonReport> {
  if (refs.length < 2) throw new InputError('compare needs at least two runs');
  const data = await loadRuns(pool, refs, o.scorer);
  return compareRunData(data, { ...o, baseline: o.baseline === undefined ? undefined : await pool.resolveRunId(o.baseline) });
}

/** The same, on runs already read (`baseline`: a run id among them). */
export function compareRunData(data: RunData[], o: AnalysisOptions & { baseline?: string } = {}): ComparisonReport {
  if (data.length < 2) throw new InputError('compare needs at least two runs');
  const ids = data.map((d) => d.run.id);
  if (new Set(ids).size !== ids.length) throw new InputError('the same run was given twice');
  const scorers = [...new Set(data.map((d) => d.scorer))];
  if (scorers.length > 1) throw new InputError(`the runs are graded by different scorers (${scorers.join(', ')}); pass --scorer to compare them under one`, { field: 'scorer' });
  const { metric, mixed } = commonMetric(data.map((d) => d.metric));
  if (mixed) throw new InputError(`the runs' ${data[0]!.scorer} values are on different scales (${mixed}); they cannot be compared`, { field: 'scorer' });
  const numeric = metric.kind === 'numeric';
  const lowerIsBetter = numeric && metric.higher_is_better === false;
  const labels = runLabels(data.map((d) => d.run));
  const aligned = alignRuns(data);
  if (aligned.keys.length === 0) throw new InputError(noSharedMessage(data));
  const seed = o.seed ?? 0;
  const alpha = checkAlpha(o.alpha);
  const adj = o.adjustment ?? 'holm';
  let pairIdx: [number, number][] = [];
  if (o.baseline) {
    const bi = ids.indexOf(o.baseline);
    if (bi < 0) throw new InputError('--baseline must be one of the compared runs');
    pairIdx = ids.map((_, i) => [i, bi] as [number, number]).filter(([i]) => i !== bi);
  } else for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) pairIdx.push([i, j]);
  const comps = pairIdx.map(([i, j], k) => comparePaired(aligned.clusters[i]!, aligned.clusters[j]!, { seed: seed + 1000 * k, replicates: o.replicates, permutations: o.permutations, alpha, epochsA: aligned.epochs[i], epochsB: aligned.epochs[j], numeric }));
  const padj = adjust(comps.map((c) => c.sign_flip.p), adj);
  const pairs: PairResult[] = comps.map((c, k) => {
    const [i, j] = pairIdx[k]!;
    const significant = padj[k]! <= alpha && (c.ci95.lo > 0 || c.ci95.hi < 0);
    const direction = numeric ? metric.higher_is_better : true;
    const better = !significant || direction == null ? null : (c.difference > 0) === direction ? labels[i]! : labels[j]!;
    const [aOn, bOn] = direction == null ? [null, null] : direction ? [c.wins, c.losses] : [c.losses, c.wins];
    return {
      ...c, a: ids[i]!, b: ids[j]!, a_label: labels[i]!, b_label: labels[j]!, p_adjusted: padj[k]!, significant,
      verdict: verdictOf(c, labels[i]!, labels[j]!, padj[k]!, alpha, { method: adj, comparisons: comps.length }, metric), better, a_better_on: aOn, b_better_on: bOn,
    };
  });
  // A ranking needs a direction: lower-is-better values are ranked negated and reported back in their own sign; a
  // numeric metric of unknown direction gets no ranking.
  let ranking: Ranking | null = null;
  if (ids.length >= 3 && !(numeric && metric.higher_is_better == null)) {
    const clusters = lowerIsBetter ? aligned.clusters.map((r) => r.map((c) => c.map((v) => -v))) : aligned.clusters;
    const r = rankRuns(labels, clusters, { seed, replicates: o.replicates, adjustment: adj, alpha, permutations: o.permutations, numeric });
    ranking = !numeric ? r : {
      ...r,
      metric,
      runs: lowerIsBetter ? r.runs.map((x) => ({ ...x, mean: -x.mean, ci95: { lo: -x.ci95.hi, hi: -x.ci95.lo } })) : r.runs,
      pairwise: lowerIsBetter ? r.pairwise.map((p) => ({ ...p, difference: -p.difference, ci95: { lo: -p.ci95.hi, hi: -p.ci95.lo } })) : r.pairwise,
    };
  }
  return {
    scorer: data[0]!.scorer,
    metric,
    runs: data.map((d, i) => ({ id: d.run.id, label: labels[i]!, model: d.run.spec.model, samples: clustersOf(d).length, epochs: d.run.spec.epochs })),
    shared_samples: aligned.keys.length,
    adjustment: adj,
    alpha,
    seed,
    pairs,
    ranking,
  };
}
