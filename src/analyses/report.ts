/**
 * Everything the report shows (`assay report`, src/report/html.ts), read from the pool with each run read ONCE:
 * one pass over its planned samples and one over its attempts (outcomes under the one rule, response lengths),
 * into per-sample arrays from which every section is derived — run statistics (variance decomposition), truncation,
 * paired comparisons with a ranking, sweeps, needle-threading context limits, chart difficulty curves — plus, on request, the pool's
 * Plackett–Luce ranking.
 */
import { countOutcomes, type OutcomeCounts } from '../core/outcome.ts';
import type { MetricInfo, RunRecord } from '../core/schemas.ts';
import { effectiveContextLimit, limitInTokens, type ContextLimitResult, type TokenScale } from '../stats/context-limit.ts';
import { analyzeTruncation, type TruncationAnalysis } from '../stats/truncation.ts';
import { headlineInterval } from '../stats/accuracy.ts';
import type { LabelledInterval } from '../stats/intervals.ts';
import { decomposeVariance, type VarianceDecomposition } from '../stats/variance.ts';
import type { Pool } from '../store/types.ts';
import { compareRunData, type AnalysisOptions, type ComparisonReport } from './compare.ts';
import { difficultyCurves, type DifficultyTask } from './difficulty.ts';
import { gridScoresOf, tokenScaleOfRun } from './context-limit.ts';
import { alignRuns, clustersOf, loadRuns, runLabels, type RunData } from './outcomes.ts';
import { rankFromPool, type PoolRanking, type PoolRankOptions } from './pool-ranking.ts';
import { sweepGroups, type SweepGroup } from './sweep.ts';

/** Per-run analyses for the report: variance decomposition, truncation and outcome counts. */
export interface RunAnalysis {
  id: string;
  label: string;
  model: string;
  dataset: string;
  /** True when the run sent its questions without their images (`--text-only`; manifest `images.mode`). */
  text_only: boolean;
  scorer: string;
  /** The scale and direction of the scorer's values (src/analyses/metric.ts): numeric metrics are shown in their unit. */
  metric: MetricInfo;
  status: string;
  epochs: number;
  /** Null when the run has no counted attempt (every attempt failed or had a grader error): nothing to estimate. */
  variance: VarianceDecomposition | null;
  /**
   * The headline 95% interval of avg@k, the one `assay stats` prints (`headlineInterval`, src/stats/accuracy.ts: the
   * clustered score / Wilson interval for scores in [0, 1], the t interval for a numeric metric), with its method.
   * Null when `variance` is.
   */
  ci95: LabelledInterval | null;
  truncation: TruncationAnalysis;
  failed: number;
  /** Attempts stored for the run (ok, failed or ungraded). */
  attempts: number;
  /** Attempts by class under the one outcome rule (src/core/outcome.ts). */
  outcomes: OutcomeCounts;
}

/**
 * Variance decomposition and truncation analysis of one run read with lengths (`readRunOutcomes(…, { lengths:
 * true })`). A run without any counted attempt is analysed too (variance null, its failures counted) so that a
 * report can show it instead of refusing. Formulas: src/stats/variance.ts, src/stats/truncation.ts.
 */
export function analyzeRun(d: RunData, label: string, o: AnalysisOptions = {}): RunAnalysis {
  const clusters = clustersOf(d);
  const seed = o.seed ?? d.run.manifest.seeds.bootstrap;
  const variance = clusters.length ? decomposeVariance(clusters, { seed, replicates: o.replicates, perEpoch: d.per_epoch }) : null;
  const ci95 = clusters.length ? headlineInterval(clusters, 0.95, { numeric: d.metric.kind === 'numeric' }) : null;
  const lengths = d.lengths ?? { unit: 'characters' as const, records: [] };
  const truncation = analyzeTruncation(lengths.records, lengths.unit, { seed, replicates: Math.min(1000, o.replicates ?? 1000) });
  const outcomes = countOutcomes(d.samples.flatMap((s) => s.epochs));
  return {
    id: d.run.id, label, model: d.run.spec.model, dataset: d.run.spec.dataset.ref, text_only: d.run.manifest.images?.mode === 'text-only', scorer: d.scorer, metric: d.metric, status: d.run.status, epochs: d.run.spec.epochs,
    variance, ci95, truncation, failed: outcomes.failed, attempts: outcomes.attempts, outcomes,
  };
}

/** A needle-threading run's effective context limit. */
export interface NeedleLimit {
  run_id: string;
  label: string;
  limit: ContextLimitResult;
  /** Grid lengths in tokens (recorded prompt_tokens, else the model family's tokenizer), or null; `token_note` says which. */
  token_scale?: TokenScale | null;
  token_note?: string;
}

/** Everything a report shows, JSON-serialisable. */
export interface ReportData {
  runs: RunRecord[];
  labels: string[];
  /** Distinct scorers the runs were read with. */
  scorers: string[];
  analyses: RunAnalysis[];
  /** Paired comparison of the largest group of graded runs that share a scorer and samples (≥ 2 runs), else null. */
  comparison: ComparisonReport | null;
  sweeps: SweepGroup[];
  needle: NeedleLimit[];
  /** Accuracy by complexity per GRAB task and run, for runs with chart questions (src/analyses/difficulty.ts). */
  difficulty: DifficultyTask[];
  /** The pool's Plackett–Luce ranking, when asked for. */
  pool_ranking: PoolRanking | null;
}

/** Options of {@link reportData}. */
export interface ReportDataOptions extends AnalysisOptions {
  /** Add a Plackett–Luce ranking of the measurement pool with these options (see `rankFromPool`). */
  rank?: PoolRankOptions;
  /** A ranking already made (used as is; `rank` is then ignored). */
  poolRanking?: PoolRanking;
}

/**
 * Read and analyse runs `refs` (ids or unique prefixes) for a report, each run read once (with `scorer`, or each
 * with its own first scorer). Errors: InputError for unknown runs, scorers without measurements, or a pool ranking
 * whose selection matches nothing.
 */
export async function reportData(pool: Pool, refs: string[], o: ReportDataOptions = {}): Promise<ReportData> {
  const poolRanking = o.poolRanking ?? (o.rank ? await rankFromPool(pool, o.rank) : null);
  const data = await loadRuns(pool, refs, o.scorer, { lengths: true, tokens: true });
  const labels = runLabels(data.map((d) => d.run));
  const analyses = data.map((d, i) => analyzeRun(d, labels[i]!, o));
  const graded = data.filter((_, i) => analyses[i]!.variance);
  let comparison: ComparisonReport | null = null;
  // Compare the largest group of graded runs that share a scorer and at least one sample.
  const byScorer = new Map<string, RunData[]>();
  for (const d of graded) byScorer.set(d.scorer, [...(byScorer.get(d.scorer) ?? []), d]);
  const group = [...byScorer.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  if (group.length >= 2 && alignRuns(group).keys.length > 0) comparison = compareRunData(group, o);
  const needle: NeedleLimit[] = [];
  for (const [i, d] of data.entries()) {
    const scores = gridScoresOf(d).filter((g) => g.values.length);
    if (!scores.length) continue;
    const limit = effectiveContextLimit(scores, { seed: d.run.manifest.seeds.bootstrap });
    const t = await tokenScaleOfRun(pool, d, 'auto');
    needle.push({ run_id: d.run.id, label: labels[i]!, limit: { ...limit, tokens: t.scale ? limitInTokens(limit, t.scale) : null }, token_scale: t.scale, token_note: t.note });
  }
  return {
    runs: data.map((d) => d.run),
    labels,
    scorers: [...new Set(data.map((d) => d.scorer))],
    analyses,
    comparison,
    sweeps: sweepGroups(data, o),
    needle,
    difficulty: difficultyCurves(data.map((d, i) => ({ data: d, label: labels[i]! }))),
    pool_ranking: poolRanking,
  };
}
