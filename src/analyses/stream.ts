/**
 * The analysis of a checkpoint stream from the pool: the accuracy matrix checkpoints × tasks (each cell a run, read
 * through the one outcome reader) and the continual metrics with paired bootstrap intervals (src/stats/continual.ts).
 */
import { InputError } from '../core/errors.ts';
import { continualReport, type ContinualInterval, type ContinualReport, type StreamTaskRole } from '../stats/continual.ts';
import type { Pool } from '../store/types.ts';
import { readRunOutcomes } from './outcomes.ts';

/** One column of the stream matrix. */
export interface StreamColumn {
  /** Task id `name@version`. */
  task: string;
  role: StreamTaskRole;
  /** The scorer read (each run's first). */
  scorer: string;
  /** Samples graded at every checkpoint (the aligned samples the matrix and intervals use). */
  samples: number;
}

/** What {@link streamTable} returns. */
export interface StreamTable {
  stream_id: string;
  name: string | null;
  status: string;
  /** In stream order; a merged checkpoint carries its merge (method, parents, file; src/runner/stream.ts). */
  checkpoints: { name: string; model: string; merge?: Record<string, unknown> }[];
  columns: StreamColumn[];
  /** Run ids: runs[c][j]. */
  runs: string[][];
  report: ContinualReport;
  /** The order that placed the adaptation tasks, as recorded (null when each task gave its checkpoint). */
  order: Record<string, unknown> | null;
  /** The stratified subset of every task, as recorded (null without one). */
  subset: Record<string, unknown> | null;
}

/**
 * Read a stream recorded by `evaluateStream` and compute its matrix and metrics. Per task, samples are aligned by
 * their content key across checkpoints: only samples graded at every checkpoint count (failed calls and grader
 * errors left out by the one rule; grader timeouts count as wrong); a sample's score is the mean of its graded repeats.
 * @param opts bootstrap replicates and seed (default: the stream's recorded ones); the interval of the derived metrics
 *   (default: the Bayesian bootstrap, src/stats/continual.ts)
 * @throws InputError for an unknown id, an eval set that is not a stream, a missing run, or a task with no sample
 *   graded at every checkpoint
 */
export async function streamTable(pool: Pool, streamId: string, opts: { replicates?: number; seed?: number; interval?: ContinualInterval } = {}): Promise<StreamTable> {
  const set = await pool.getEvalSet(streamId);
  if (!set) throw new InputError(`no stream "${streamId}" in the pool`);
  const spec = set.spec as {
    kind?: string; checkpoints?: StreamTable['checkpoints']; tasks?: { id: string; role: StreamTaskRole }[]; bootstrap?: { seed: number; replicates: number };
    order?: Record<string, unknown>; subset?: Record<string, unknown>;
  };
  if (spec.kind !== 'stream' || !spec.checkpoints || !spec.tasks) throw new InputError(`eval set "${streamId}" is not a stream`);
  const checkpoints = spec.checkpoints;
  const columns: StreamColumn[] = [];
  const runs: string[][] = checkpoints.map(() => []);
  const scores: number[][][] = [];
  for (const t of spec.tasks) {
    const perRow: Map<string, number>[] = [];
    let scorer = '';
    for (const [c, cp] of checkpoints.entries()) {
      const runId = set.runs[`${t.id}\u0000${cp.model}`];
      const run = runId ? await pool.getRun(runId) : null;
      if (!runId || !run) throw new InputError(`stream ${set.id}: no run of ${t.id} at checkpoint ${cp.name} (evaluate the stream again)`);
      runs[c]!.push(runId);
      scorer = run.spec.scorers[0]?.name ?? '';
      const d = await readRunOutcomes(pool, run, scorer);
      const m = new Map<string, number>();
      for (const s of d.samples) if (s.values.length) m.set(s.key, s.values.reduce((a, b) => a + b, 0) / s.values.length);
      perRow.push(m);
    }
    const keys = [...perRow[0]!.keys()].filter((k) => perRow.every((m) => m.has(k)));
    if (!keys.length) throw new InputError(`stream ${set.id}: task ${t.id} has no sample graded at every checkpoint`);
    columns.push({ task: t.id, role: t.role, scorer, samples: keys.length });
    scores.push(perRow.map((m) => keys.map((k) => m.get(k)!)));
  }
  const report = continualReport(scores, spec.tasks.map((t) => t.role), {
    replicates: opts.replicates ?? spec.bootstrap?.replicates ?? 2000, seed: opts.seed ?? spec.bootstrap?.seed ?? 0, interval: opts.interval,
  });
  return { stream_id: set.id, name: set.name, status: set.status, checkpoints, columns, runs, report, order: spec.order ?? null, subset: spec.subset ?? null };
}
