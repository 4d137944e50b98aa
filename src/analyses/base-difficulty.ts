/**
 * Difficulty measured from the base checkpoint of a stream: what the base model (row 0, before any update) got wrong,
 * read from its runs in the pool. A task's difficulty is its error rate 1 − accuracy (accuracy = mean over samples
 * of each sample's mean graded score, the one outcome rule of src/analyses/outcomes.ts); a sample's difficulty is its
 * own error rate 1 − mean of its graded repeats. FoMo-in-Flux (Roth et al. 2024) orders its stream "by difficulty"
 * in just this sense — how hard a concept is for the model before it is trained on it — and easy-to-hard orders are
 * the curriculum-learning baseline (Bengio et al. 2009, "Curriculum learning", ICML).
 *
 * The base run of a task is a complete run in the pool of that task (same name, version and content hash) by the base
 * checkpoint's model address; among several, the newest. Scores must lie in [0, 1] (binary or
 * proportion scorers): an error rate of a numeric metric means nothing.
 */
import { InputError } from '../core/errors.ts';
import type { RunRecord } from '../core/schemas.ts';
import type { Pool } from '../store/types.ts';
import { readRunOutcomes } from './outcomes.ts';

/** No run of a task by the base model in the pool: what is missing, and for which use (the order or the subset). */
export class MissingBaseRunError extends InputError {
  constructor(message: string, readonly use: 'order' | 'subset', readonly task: string, where: InputError['where'] = {}) {
    super(message, where);
  }
}

/** A task (or zero-shot column) as the pool names it. */
export interface BaseTaskRef {
  /** `name@version`. */
  id: string;
  /** The task's content hash (a run of an older definition of the same name and version does not count). */
  hash: string;
}

/** What the base run of one task measured. */
export interface BaseRunDifficulty {
  task: string;
  run_id: string;
  scorer: string;
  /** Samples with at least one graded repeat. */
  samples: number;
  /** 1 − accuracy, in [0, 1]. */
  error_rate: number;
  /** Per sample id: 1 − the mean of its graded repeats. */
  per_sample: Map<string, number>;
}

/**
 * The base model's complete run of a task in the pool (module comment), or null when there is none.
 * @param model the base checkpoint's model address, exactly as the stream gives it
 */
export async function findBaseRun(pool: Pool, task: BaseTaskRef, model: string): Promise<RunRecord | null> {
  const candidates = (await pool.listRuns()).filter((r) => r.task === task.id && r.model === model);
  const runs: RunRecord[] = [];
  for (const c of candidates) {
    const run = await pool.getRun(c.id);
    if (run && run.spec.task?.hash === task.hash) runs.push(run);
  }
  // Only a complete run measures the task (an interrupted one would give an order that changes when it completes).
  const complete = runs.filter((r) => r.status === 'complete').sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  return complete[0] ?? null;
}

/**
 * The difficulty a run measured (module comment): its error rate and each sample's, for its first scorer.
 * @throws InputError when no sample is graded, or a score lies outside [0, 1]
 */
export async function runDifficulty(pool: Pool, run: RunRecord): Promise<BaseRunDifficulty> {
  const scorer = run.spec.scorers[0]?.name ?? '';
  const d = await readRunOutcomes(pool, run, scorer);
  const per = new Map<string, number>();
  let sum = 0;
  for (const s of d.samples) {
    if (!s.values.length) continue;
    for (const v of s.values) if (!(v >= 0 && v <= 1)) throw new InputError(`run ${run.id} (${scorer}) has a score ${v} outside [0, 1]: difficulty as an error rate needs binary or proportion scores`);
    const m = s.values.reduce((a, b) => a + b, 0) / s.values.length;
    per.set(s.sample_id, 1 - m);
    sum += m;
  }
  if (!per.size) throw new InputError(`run ${run.id} has no graded sample to measure difficulty on`);
  return { task: `${run.spec.task?.name ?? run.spec.dataset.name}@${run.spec.task?.version ?? ''}`, run_id: run.id, scorer, samples: per.size, error_rate: 1 - sum / per.size, per_sample: per };
}
