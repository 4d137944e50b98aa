/**
 * Read one scorer's measurements of a run from the pool (streaming) and compute its statistics; read a needle run's
 * grid scores for the effective context limit. Statistics read measurements, never raw responses (DESIGN.md §3);
 * this file and `pool-data.ts` are the only statistics modules that know the pool.
 */
import { InputError } from '../core/errors.ts';
import type { Pool } from '../store/types.ts';
import { computeRunStatistics, epochScoreOf, type RunStatistics, type SampleScores } from './accuracy.ts';
import { effectiveContextLimit, type ContextLimitOptions, type ContextLimitResult, type GridScores } from './context-limit.ts';

/** Group a run's measurements by sample into `SampleScores` (in dataset order). */
export async function sampleScoresOf(pool: Pool, runId: string, scorer: string): Promise<SampleScores[]> {
  const out: SampleScores[] = [];
  let current: SampleScores | null = null;
  for await (const m of pool.iterateMeasurements(runId, scorer)) {
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
export async function runStatistics(pool: Pool, runId: string, opts: { scorer?: string; seed?: number; replicates?: number } = {}): Promise<{ scorer: string; statistics: RunStatistics }> {
  const run = await pool.getRun(runId);
  if (!run) throw new InputError(`no run ${runId}`);
  const scorers = await pool.scorersOf(runId);
  const scorer = opts.scorer ?? run.spec.scorers[0]?.name ?? scorers[0];
  if (!scorer || !scorers.includes(scorer)) throw new InputError(`run ${runId} has no measurements for scorer "${opts.scorer ?? ''}"; it has: ${scorers.join(', ') || 'none'}`);
  const samples = await sampleScoresOf(pool, runId, scorer);
  const statistics = computeRunStatistics(samples, {
    seed: opts.seed ?? run.manifest.seeds.bootstrap,
    epochs: run.spec.epochs,
    replicates: opts.replicates,
    samplesPlanned: await pool.plannedCount(runId),
  });
  return { scorer, statistics };
}

/**
 * Per-sample grid scores of a run for one scorer, read from the pool (grid coordinates from the samples' needle
 * metadata: `chars`, `depth`, `task`). Failed or ungraded attempts are left out. Samples without needle metadata
 * are skipped. Streams the planned samples, keeping only their coordinates.
 * @throws InputError for an unknown run.
 */
export async function gridScoresFromPool(pool: Pool, runId: string, scorer: string): Promise<GridScores[]> {
  if (!(await pool.getRun(runId))) throw new InputError(`no run ${runId}`);
  const bySample = new Map<string, GridScores>();
  for await (const p of pool.iteratePlanned(runId)) {
    const m = p.sample.metadata;
    if (typeof m.chars !== 'number' || typeof m.task !== 'string') continue;
    bySample.set(p.sample.id, { sample_id: p.sample.id, length: m.chars, depth: typeof m.depth === 'number' ? m.depth : null, task: m.task, values: [] });
  }
  for await (const m of pool.iterateMeasurements(runId, scorer)) {
    if (m.value == null) continue;
    bySample.get(m.sample_id)?.values.push(m.value);
  }
  return [...bySample.values()];
}

/**
 * Effective context limits of a run: over all tasks together and for each task.
 * @throws InputError for an unknown run or a run without needle samples or graded measurements for the scorer.
 */
export async function contextLimitsOfRun(pool: Pool, runId: string, scorer: string, opts: ContextLimitOptions = {}): Promise<{ scorer: string; all: ContextLimitResult; tasks: Record<string, ContextLimitResult> }> {
  const scores = await gridScoresFromPool(pool, runId, scorer);
  if (!scores.length) throw new InputError(`run ${runId} has no needle-threading samples (metadata chars/task)`);
  if (!scores.some((s) => s.values.length)) throw new InputError(`run ${runId} has no graded measurements for scorer "${scorer}" (re-grade with \`assay score ${runId} --scorer ${scorer}\`, or pick another with --scorer)`, { field: 'scorer' });
  const tasks: Record<string, ContextLimitResult> = {};
  for (const task of [...new Set(scores.map((s) => s.task))].sort()) {
    const these = scores.filter((s) => s.task === task && s.values.length);
    if (these.length) tasks[task] = effectiveContextLimit(these, opts);
  }
  return { scorer, all: effectiveContextLimit(scores, opts), tasks };
}
