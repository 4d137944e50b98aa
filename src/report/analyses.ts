/**
 * The analyses behind `assay compare`, `assay report` and `assay sweep`, read from the pool (never from a run in
 * memory): paired comparisons with multiplicity adjustment, rankings with rank intervals, variance decomposition,
 * truncation and sweep sensitivity. Pure data in, plain JSON-serialisable results out.
 */
import { InputError } from '../core/errors.ts';
import type { Pool } from '../store/types.ts';
import { adjust } from '../stats/multiplicity.ts';
import { comparePaired, type PairedComparison } from '../stats/paired.ts';
import { alignRuns, attemptLengths, clustersOf, loadRunData, runLabels, type RunData } from '../stats/pool-data.ts';
import { rankRuns, type Ranking } from '../stats/rank.ts';
import { analyzeSweep, varyingFactors, type SweepAnalysis } from '../stats/sweep.ts';
import { analyzeTruncation, type TruncationAnalysis } from '../stats/truncation.ts';
import { decomposeVariance, type VarianceDecomposition } from '../stats/variance.ts';

export interface AnalysisOptions {
  scorer?: string;
  seed?: number;
  replicates?: number;
  permutations?: number;
  adjustment?: 'holm' | 'bh';
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
}

export interface ComparisonReport {
  scorer: string;
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
 * The plain-language verdict of one comparison (DESIGN.md: say "no detectable difference at this size" when so).
 * The sentence names the higher-scoring run first, so the difference and its CI are given in that direction
 * (higher − lower), never as A − B with the sign flipped.
 */
export function verdictOf(c: PairedComparison, aLabel: string, bLabel: string, pAdj: number, alpha: number): string {
  const size = `${c.samples} samples × ${c.epochs_a.toFixed(c.epochs_a % 1 ? 1 : 0)}/${c.epochs_b.toFixed(c.epochs_b % 1 ? 1 : 0)} epochs`;
  const mdeText = Number.isFinite(c.mde)
    ? `the minimum detectable effect at 80% power is ±${pts(c.mde)}`
    : c.samples < 2
      ? 'with fewer than 2 shared samples no minimum detectable effect can be estimated'
      : 'the per-sample differences do not vary, so no minimum detectable effect can be estimated from these runs';
  if (pAdj <= alpha && (c.ci95_bootstrap.lo > 0 || c.ci95_bootstrap.hi < 0)) {
    const aHigher = c.difference > 0;
    const [hi, lo] = aHigher ? [aLabel, bLabel] : [bLabel, aLabel];
    const [ciLo, ciHi] = aHigher ? [c.ci95_bootstrap.lo, c.ci95_bootstrap.hi] : [-c.ci95_bootstrap.hi, -c.ci95_bootstrap.lo];
    return `${hi} scores higher than ${lo} by ${pts(Math.abs(c.difference))} (95% CI ${pts(ciLo)} to ${pts(ciHi)}, adjusted p = ${fmtP(pAdj)}).`;
  }
  if (c.wins === 0 && c.losses === 0) {
    return `No detectable difference at this size (${size}): the two runs have the same score on every shared sample (difference 0.0 pts, adjusted p = ${fmtP(pAdj)}); ${mdeText}.`;
  }
  return `No detectable difference at this size (${size}): the difference is ${pts(c.difference)} (95% CI ${pts(c.ci95_bootstrap.lo)} to ${pts(c.ci95_bootstrap.hi)}, adjusted p = ${fmtP(pAdj)}); ${mdeText}.`;
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
 * Load runs for comparison: each run's data for one scorer (default: the first run's first scorer, which every run
 * must have). Errors: InputError for fewer than 2 runs, unknown runs, a missing scorer or no shared samples.
 */
export async function loadRuns(pool: Pool, refs: string[], scorer?: string): Promise<RunData[]> {
  // With --scorer every run is read with it; otherwise each run with its own first scorer (a report may hold runs of
  // different tasks, e.g. a math run and a needle run). Comparisons then pair only runs read with the same scorer.
  const out: RunData[] = [];
  for (const r of refs) out.push(await loadRunData(pool, r, scorer));
  return out;
}

/**
 * Paired comparisons of runs on the samples they all share: all pairs, or each run against `baseline` (a ref among
 * `refs`). p-values (sign-flip permutation) adjusted over the pairs; with ≥ 3 runs also a ranking.
 */
export async function compareRunsFromPool(pool: Pool, refs: string[], o: AnalysisOptions & { baseline?: string } = {}): Promise<ComparisonReport> {
  if (refs.length < 2) throw new InputError('compare needs at least two runs');
  const data = await loadRuns(pool, refs, o.scorer);
  const ids = data.map((d) => d.run.id);
  if (new Set(ids).size !== ids.length) throw new InputError('the same run was given twice');
  const scorers = [...new Set(data.map((d) => d.scorer))];
  if (scorers.length > 1) throw new InputError(`the runs are graded by different scorers (${scorers.join(', ')}); pass --scorer to compare them under one`, { field: 'scorer' });
  const labels = runLabels(data.map((d) => d.run));
  const aligned = alignRuns(data);
  if (aligned.keys.length === 0) throw new InputError(noSharedMessage(data));
  const seed = o.seed ?? 0;
  const alpha = checkAlpha(o.alpha);
  const adj = o.adjustment ?? 'holm';
  let pairIdx: [number, number][] = [];
  if (o.baseline) {
    const bid = await pool.resolveRunId(o.baseline);
    const bi = ids.indexOf(bid);
    if (bi < 0) throw new InputError('--baseline must be one of the compared runs');
    pairIdx = ids.map((_, i) => [i, bi] as [number, number]).filter(([i]) => i !== bi);
  } else for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) pairIdx.push([i, j]);
  const comps = pairIdx.map(([i, j], k) => comparePaired(aligned.clusters[i]!, aligned.clusters[j]!, { seed: seed + 1000 * k, replicates: o.replicates, permutations: o.permutations, alpha, epochsA: aligned.epochs[i], epochsB: aligned.epochs[j] }));
  const padj = adjust(comps.map((c) => c.sign_flip.p), adj);
  const pairs: PairResult[] = comps.map((c, k) => {
    const [i, j] = pairIdx[k]!;
    const significant = padj[k]! <= alpha && (c.ci95_bootstrap.lo > 0 || c.ci95_bootstrap.hi < 0);
    return { ...c, a: ids[i]!, b: ids[j]!, a_label: labels[i]!, b_label: labels[j]!, p_adjusted: padj[k]!, significant, verdict: verdictOf(c, labels[i]!, labels[j]!, padj[k]!, alpha) };
  });
  const ranking = ids.length >= 3 ? rankRuns(labels, aligned.clusters, { seed, replicates: o.replicates, adjustment: adj, alpha, permutations: o.permutations }) : null;
  return {
    scorer: data[0]!.scorer,
    runs: data.map((d, i) => ({ id: d.run.id, label: labels[i]!, model: d.run.spec.model, samples: clustersOf(d).length, epochs: d.run.spec.epochs })),
    shared_samples: aligned.keys.length,
    adjustment: adj,
    alpha,
    seed,
    pairs,
    ranking,
  };
}

/** Per-run analyses for the report: variance decomposition and truncation. */
export interface RunAnalysis {
  id: string;
  label: string;
  model: string;
  dataset: string;
  scorer: string;
  status: string;
  epochs: number;
  /** Null when the run has no graded attempt (every attempt failed or went ungraded): nothing to estimate. */
  variance: VarianceDecomposition | null;
  truncation: TruncationAnalysis;
  failed: number;
  /** Attempts stored for the run (ok, failed or ungraded). */
  attempts: number;
}

/**
 * Variance decomposition and truncation analysis of one run (read from the pool). A run without any graded attempt
 * is analysed too (variance null, its failures counted) so that a report can show it instead of refusing.
 */
export async function analyzeRun(pool: Pool, d: RunData, label: string, o: AnalysisOptions = {}): Promise<RunAnalysis> {
  const clusters = clustersOf(d);
  const seed = o.seed ?? d.run.manifest.seeds.bootstrap;
  const variance = clusters.length ? decomposeVariance(clusters, { seed, replicates: o.replicates, perEpoch: d.per_epoch }) : null;
  const { unit, records } = await attemptLengths(pool, d.run.id, d.scorer);
  const truncation = analyzeTruncation(records, unit, { seed, replicates: Math.min(1000, o.replicates ?? 1000) });
  const failed = d.samples.reduce((s, x) => s + x.epochs.filter((e) => e.failed).length, 0);
  const attempts = d.samples.reduce((s, x) => s + x.epochs.length, 0);
  return { id: d.run.id, label, model: d.run.spec.model, dataset: d.run.spec.dataset.ref, scorer: d.scorer, status: d.run.status, epochs: d.run.spec.epochs, variance, truncation, failed, attempts };
}

/**
 * Sweep groups among runs: runs of the same model on the same dataset (hash) whose generation settings differ.
 * Returns one analysis per group of ≥ 2 runs that has at least one varying field.
 */
export function sweepGroups(runs: RunData[], o: AnalysisOptions = {}): { model: string; dataset: string; run_ids: string[]; analysis: SweepAnalysis }[] {
  const groups = new Map<string, RunData[]>();
  for (const d of runs) {
    if (clustersOf(d).length === 0) continue;
    const key = `${d.run.spec.model}\u0000${d.run.spec.dataset.hash}\u0000${d.scorer}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(d);
  }
  const out = [];
  for (const g of groups.values()) {
    if (g.length < 2 || varyingFactors(g.map((d) => d.run)).length === 0) continue;
    const aligned = alignRuns(g);
    if (!aligned.keys.length) continue;
    out.push({ model: g[0]!.run.spec.model, dataset: g[0]!.run.spec.dataset.ref, run_ids: g.map((d) => d.run.id), analysis: analyzeSweep(g.map((d) => d.run), aligned.clusters, { seed: o.seed ?? 0, replicates: o.replicates, adjustment: o.adjustment, alpha: o.alpha }) });
  }
  return out;
}
