/**
 * Calibration of the confidence a model states (Humanity's Last Exam, Phan et al. 2025: response format
 * `Confidence: NN%`; RMS calibration error, ECE, Brier; formulas in src/stats/calibration.ts) against one grader's
 * verdicts, read through the one reader under the one outcome rule: failed model calls and grader errors are left
 * out and counted; a grader timeout is a wrong answer (correct = 0) at the confidence the response stated.
 *
 * Confidence comes from the judge's structured verdict when the grader is a judge that recorded one (`judge`), else
 * from the response text (`response`); `auto` (default) takes the judge's when present, else the response's.
 */
import { InputError } from '../core/errors.ts';
import { calibrationReport, type CalibrationItem, type CalibrationOptions, type CalibrationReport } from '../stats/calibration.ts';
import type { Pool } from '../store/types.ts';
import { resolveRun, scorerOfRun, streamOutcomes, type ConfidenceSource } from './outcomes.ts';

export type { ConfidenceSource } from './outcomes.ts';

/**
 * Calibration items of one scorer of a run (full id): one per counted attempt (correct 1 when the value is ≥ 0.5,
 * else 0; a grader timeout is 0), confidence in [0, 1] or null when none was stated, clustered by sample.
 * @returns the items, how many attempts were left out (failed, grader error, or not graded by this scorer), and
 *   how many of the items are grader timeouts
 */
export async function calibrationItems(pool: Pool, runId: string, scorer: string, from: ConfidenceSource = 'auto'): Promise<{ items: CalibrationItem[]; excluded: number; timeouts: number }> {
  const items: CalibrationItem[] = [];
  let excluded = 0, timeouts = 0;
  for await (const o of streamOutcomes(pool, runId, scorer, { confidence: from })) {
    if (o.unmeasured || o.value == null) {
      excluded++;
      continue;
    }
    if (o.timeout) timeouts++;
    items.push({ confidence: o.confidence ?? null, correct: o.value >= 0.5 ? 1 : 0, cluster: o.sample_id });
  }
  return { items, excluded, timeouts };
}

/** What `assay calibration` reports. */
export interface RunCalibration {
  run_id: string;
  model: string;
  dataset: string;
  scorer: string;
  confidence_from: ConfidenceSource;
  /** Attempts left out: failed model calls, grader errors, attempts the scorer did not grade. */
  excluded: number;
  /** Grader timeouts among the items (counted as wrong). */
  timeouts: number;
  calibration: CalibrationReport;
}

/**
 * Calibration of a run (id or unique prefix) against one grader (default: the run's judge, else its first scorer).
 * Options as `calibrationReport` (src/stats/calibration.ts): `missingConfidence` is a proportion in [0, 1] assumed
 * where none was stated (default null: such items are left out); `binSize`, `eceBins`, `replicates`, `seed`.
 * Errors: InputError for an unknown run, a scorer without measurements or a bad confidence source.
 */
export async function calibrationOfRun(
  pool: Pool,
  runRef: string,
  opts: Partial<CalibrationOptions> & { scorer?: string; confidenceFrom?: ConfidenceSource } = {},
): Promise<RunCalibration> {
  const from = opts.confidenceFrom ?? 'auto';
  if (!['auto', 'judge', 'response'].includes(from)) throw new InputError(`the confidence source must be auto, judge or response, got "${from}"`);
  const run = await resolveRun(pool, runRef);
  const scorer = await scorerOfRun(pool, run, opts.scorer, [(s) => s === 'judge' || s.startsWith('judge?'), (s) => s === run.spec.scorers[0]?.name]);
  const { items, excluded, timeouts } = await calibrationItems(pool, run.id, scorer, from);
  const { scorer: _scorer, confidenceFrom: _from, ...given } = opts;
  const options = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<CalibrationOptions>;
  const calibration = calibrationReport(items, options);
  return { run_id: run.id, model: run.spec.model, dataset: run.spec.dataset.ref, scorer, confidence_from: from, excluded, timeouts, calibration };
}
