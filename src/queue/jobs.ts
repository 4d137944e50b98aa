/**
 * What a job of the attempts queue carries: a run id, the pool it is stored in, a few consecutive samples of its plan
 * with the epochs to make of each, and how to make them. Only keys travel: the planned prompts stay in the pool (one
 * copy, read by id), so jobs stay small whatever the prompts' size.
 *
 * Job size: `DEFAULT_JOB_SIZE` attempts (sample × epoch keys, in plan order). Each job costs a fixed
 * few round trips (fetch and complete in pg-boss, one page of the pool to skip what is stored, a write under the
 * run's lease); 32 attempts make that under a tenth of a millisecond per attempt, while a job stays short enough
 * to balance the tail of a run over workers and to lose little when a worker dies (what it stored is kept; the rest
 * of its job is made by the next worker).
 */
import { z } from 'zod';
import { InputError } from '../core/errors.ts';

/** Attempts per job unless told otherwise (see the module comment). */
export const DEFAULT_JOB_SIZE = 32;
/** Most attempts per job (a job's skip check reads its samples' attempts in one page of the pool, at most 2000). */
export const MAX_JOB_SIZE = 1000;

/** How the attempts of a job are made: the enqueuing invocation's settings (not part of the run spec). */
export const JobOptionsSchema = z.object({
  /** Reuse stored responses of other runs with the same cache key (remote providers only). */
  cache: z.boolean(),
  timeout_ms: z.number().int().positive(),
  max_retries: z.number().int().nonnegative(),
  backoff_base_ms: z.number().nonnegative(),
});
export type JobOptions = z.infer<typeof JobOptionsSchema>;

/** The payload of one attempts job. */
export const AttemptJobSchema = z.object({
  /** Payload version (a worker refuses a job of another version with a clear error). */
  v: z.literal(1),
  run_id: z.string().min(1),
  /** The pool the run is planned in, as the enqueuer opened it (a worker's `--pool` replaces it). */
  pool: z.string().min(1),
  /** Number of attempts in the job (sum of the samples' epochs). */
  attempts: z.number().int().positive(),
  /** Consecutive samples of the plan (by index), each with the epochs to make. */
  samples: z.array(z.object({ id: z.string(), index: z.number().int().nonnegative(), epochs: z.array(z.number().int().nonnegative()).min(1) })).min(1),
  options: JobOptionsSchema,
});
export type AttemptJob = z.infer<typeof AttemptJobSchema>;

/** Parse a job payload. Errors: InputError naming the job and the field. */
export function parseAttemptJob(jobId: string, data: unknown): AttemptJob {
  const r = AttemptJobSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InputError(`job ${jobId} is not an attempts job this version of Assay reads: ${issue.path.join('.') || '(payload)'}: ${issue.message}`, { field: issue.path.join('.') || 'data' });
  }
  return r.data;
}

/**
 * Group (sample, epoch) keys — arriving sample-major, in plan order — into jobs of `size` attempts (the last one
 * smaller): a sample's epochs are split over two jobs only where it crosses a job's end. Streams: holds one job.
 */
export async function* batchKeys(keys: AsyncIterable<{ id: string; index: number; epoch: number }>, size: number): AsyncGenerator<AttemptJob['samples']> {
  let batch: AttemptJob['samples'] = [];
  let n = 0;
  for await (const k of keys) {
    const last = batch[batch.length - 1];
    if (last && last.id === k.id) {
      if (n >= size) {
        yield batch;
        batch = [{ id: k.id, index: k.index, epochs: [k.epoch] }];
        n = 1;
        continue;
      }
      last.epochs.push(k.epoch);
      n++;
      continue;
    }
    if (n >= size) {
      yield batch;
      batch = [];
      n = 0;
    }
    batch.push({ id: k.id, index: k.index, epochs: [k.epoch] });
    n++;
  }
  if (batch.length) yield batch;
}
