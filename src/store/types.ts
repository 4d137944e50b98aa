/**
 * The pool interface (DESIGN.md §3, §9): the store of all samples, attempts and measurements.
 * SQLite implements it today (`sqlite.ts`); a PostgreSQL implementation can satisfy the same interface later.
 * Statistics read measurements through it, never raw responses; the report reads the pool, never a run in memory.
 */
import type { Attempt, Measurement, PlannedSample, RunRecord } from '../core/schemas.ts';

/** One row of `assay runs`. */
export interface RunSummary {
  id: string;
  status: RunRecord['status'];
  created_at: string;
  dataset: string;
  model: string;
  epochs: number;
  samples: number;
  /** Attempts stored (ok + error). */
  attempts: number;
  /** Attempts with status error. */
  failed: number;
}

/** An attempt joined with one scorer's measurement: the unit of `export` and of re-scoring. */
export interface AttemptWithMeasurement extends Attempt {
  measurement: Measurement | null;
}

export interface Pool {
  /**
   * Create the run and its planned samples, or do nothing if the run id exists (resume). Atomic.
   * `planned` is consumed lazily (an iterator is fine), so the plan never has to be held in memory.
   */
  ensureRun(run: RunRecord, planned: Iterable<PlannedSample>): void;
  getRun(id: string): RunRecord | null;
  /** Resolve a unique id prefix to a run id; throws InputError when unknown or ambiguous. */
  resolveRunId(prefix: string): string;
  listRuns(): RunSummary[];
  setRunStatus(id: string, status: RunRecord['status']): void;
  /** Store what a scorer learned while grading under `manifest.scorer_reports[scorer]` (replacing the old entry). */
  setScorerReport(id: string, scorer: string, report: Record<string, unknown>): void;
  /** Merge model ids reported by the server into the manifest. */
  addReportedModelIds(id: string, modelIds: string[]): void;
  /** Keys `${sample_id}\u0000${epoch}` of attempts already stored with status ok (resume skips them). */
  completedKeys(runId: string): Set<string>;
  /** A stored ok response for this cache key from any run, or null. */
  cacheLookup(cacheKey: string): Pick<Attempt, 'response' | 'finish_reason' | 'prompt_tokens' | 'completion_tokens' | 'model_id' | 'meta'> | null;
  /** Queue an attempt and its measurements for the batching writer (upsert on (run, sample, epoch[, scorer])). */
  write(attempt: Attempt, measurements: Measurement[]): void;
  /** Queue measurements only (re-scoring). */
  writeMeasurements(measurements: Measurement[]): void;
  /** Commit everything queued. */
  flush(): void;
  /** Number of planned samples of a run (without loading them). */
  plannedCount(runId: string): number;
  /** Stream the planned samples of a run in dataset order (paged: safe to write while iterating). */
  iteratePlanned(runId: string): IterableIterator<PlannedSample>;
  /** Planned samples of a run, in dataset order. */
  plannedSamples(runId: string): PlannedSample[];
  /** Stream attempts of a run (ordered by sample index, epoch), each with the named scorer's measurement. */
  iterateAttempts(runId: string, scorer?: string): IterableIterator<AttemptWithMeasurement>;
  /** Stream measurements of one scorer (ordered by sample index, epoch). */
  iterateMeasurements(runId: string, scorer: string): IterableIterator<Measurement & { finish_reason: Attempt['finish_reason']; attempt_status: Attempt['status'] }>;
  /** Names of scorers with measurements in the run. */
  scorersOf(runId: string): string[];
  counts(runId: string): { attempts: number; ok: number; error: number; measurements: number };
  close(): void;
}
