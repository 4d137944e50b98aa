/**
 * Run statistics read from the pool (`assay stats`, `assay run`, `assay score`, eval-set tables): accuracy (avg@k)
 * with its clustered-bootstrap CI, pass@k, maj@k, and the counts of failed, ungraded and truncated attempts, all
 * from the one reader (src/analyses/outcomes.ts) under the one outcome rule (src/core/outcome.ts).
 */
import { InputError } from '../core/errors.ts';
import type { RunRecord } from '../core/schemas.ts';
import { computeRunStatistics, type RunStatistics, type SampleScores } from '../stats/accuracy.ts';
import type { Pool } from '../store/types.ts';
import { recordedAgreement, type RecordedAgreement } from './graders.ts';
import { readRunOutcomes, resolveRun, type RunData } from './outcomes.ts';

/** Options of the statistics: the bootstrap seed (default: the run manifest's) and number of replicates (default 2000). */
export interface StatisticsOptions {
  seed?: number;
  replicates?: number;
}

/** Statistics of outcomes already read (no pool access): see `computeRunStatistics` for the formulas. */
export function statisticsOfData(d: RunData, opts: StatisticsOptions = {}): RunStatistics {
  return computeRunStatistics(d.samples, { seed: opts.seed ?? d.run.manifest.seeds.bootstrap, epochs: d.run.spec.epochs, replicates: opts.replicates, samplesPlanned: d.planned, metric: d.metric });
}

async function scorerForStatistics(pool: Pool, run: RunRecord, requested?: string): Promise<string> {
  const scorers = await pool.scorersOf(run.id);
  const scorer = requested ?? run.spec.scorers[0]?.name ?? scorers[0];
  if (!scorer || !scorers.includes(scorer)) throw new InputError(`run ${run.id} has no measurements for scorer "${requested ?? ''}"; it has: ${scorers.join(', ') || 'none'}`);
  return scorer;
}

/**
 * One scorer's outcomes of a run grouped by sample (`SampleScores`, in dataset order; samples without any
 * outcome left out), under the one outcome rule. Errors: InputError for an unknown run.
 */
export async function sampleScoresOf(pool: Pool, runId: string, scorer: string): Promise<SampleScores[]> {
  return (await readRunOutcomes(pool, runId, scorer)).samples;
}

/**
 * Statistics of a run for one scorer (default: the run's first scorer). `runId` may be a unique prefix; `seed`
 * overrides the bootstrap seed recorded in the manifest. Shapes and formulas: `RunStatistics`
 * (src/stats/accuracy.ts; avg@k with a cluster bootstrap over samples, Field & Welsh 2007; unbiased pass@k, Chen et
 * al. 2021). Errors: InputError for an unknown run or a scorer without measurements.
 */
export async function runStatistics(pool: Pool, runId: string, opts: StatisticsOptions & { scorer?: string } = {}): Promise<{ scorer: string; statistics: RunStatistics }> {
  const run = await resolveRun(pool, runId);
  const scorer = await scorerForStatistics(pool, run, opts.scorer);
  return { scorer, statistics: statisticsOfData(await readRunOutcomes(pool, run, scorer), opts) };
}

/** What `assay stats` shows of a run. */
export interface RunStatisticsReport {
  run: Pick<RunRecord, 'id' | 'status' | 'spec' | 'manifest'>;
  /** One entry per scorer: its statistics and, for replayed outputs with published verdicts, the agreement with them. */
  statistics: { scorer: string; statistics: RunStatistics; recorded: RecordedAgreement | null }[];
}

/**
 * Statistics of a run for each of `scorers` (default: every scorer with measurements), each with the agreement of
 * its verdicts with recorded ones (replayed published outputs). Errors: InputError for an unknown run, a run without
 * measurements or a scorer without measurements.
 */
export async function statisticsOfRun(pool: Pool, runRef: string, opts: StatisticsOptions & { scorers?: string[] } = {}): Promise<RunStatisticsReport> {
  const run = await resolveRun(pool, runRef);
  const scorers = opts.scorers ?? (await pool.scorersOf(run.id));
  if (!scorers.length) throw new InputError(`run ${run.id} has no measurements yet`);
  const statistics: RunStatisticsReport['statistics'] = [];
  for (const s of scorers) statistics.push({ ...(await runStatistics(pool, run.id, { scorer: s, seed: opts.seed, replicates: opts.replicates })), recorded: await recordedAgreement(pool, run.id, s) });
  return { run: { id: run.id, status: run.status, spec: run.spec, manifest: run.manifest }, statistics };
}
