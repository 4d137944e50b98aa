/**
 * Read one scorer's measurements of a run from the pool (streaming) and compute its statistics.
 * Statistics read measurements, never raw responses (DESIGN.md §3).
 */
import { InputError } from '../core/errors.ts';
import type { Pool } from '../store/types.ts';
import { computeRunStatistics, epochScoreOf, type RunStatistics, type SampleScores } from './accuracy.ts';

/** Group a run's measurements by sample into `SampleScores` (in dataset order). */
export function sampleScoresOf(pool: Pool, runId: string, scorer: string): SampleScores[] {
  const out: SampleScores[] = [];
  let current: SampleScores | null = null;
  for (const m of pool.iterateMeasurements(runId, scorer)) {
    if (!current || current.sample_id !== m.sample_id) {
      current = { sample_id: m.sample_id, epochs: [] };
      out.push(current);
    }
    current.epochs.push(epochScoreOf(m));
  }
  return out;
}

/**
 * Statistics of a run for one scorer (default: the run's first scorer). `seed` overrides the bootstrap seed
 * recorded in the manifest. Errors: InputError if the run has no measurements for that scorer.
 */
export function runStatistics(pool: Pool, runId: string, opts: { scorer?: string; seed?: number; replicates?: number } = {}): { scorer: string; statistics: RunStatistics } {
  const run = pool.getRun(runId);
  if (!run) throw new InputError(`no run ${runId}`);
  const scorers = pool.scorersOf(runId);
  const scorer = opts.scorer ?? run.spec.scorers[0]?.name ?? scorers[0];
  if (!scorer || !scorers.includes(scorer)) throw new InputError(`run ${runId} has no measurements for scorer "${opts.scorer ?? ''}"; it has: ${scorers.join(', ') || 'none'}`);
  const samples = sampleScoresOf(pool, runId, scorer);
  const statistics = computeRunStatistics(samples, {
    seed: opts.seed ?? run.manifest.seeds.bootstrap,
    epochs: run.spec.epochs,
    replicates: opts.replicates,
    samplesPlanned: pool.plannedCount(runId),
  });
  return { scorer, statistics };
}
