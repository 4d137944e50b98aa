/**
 * The one rule by which an attempt's stored measurement becomes an outcome that analyses count (DESIGN.md §5:
 * "a grader failure is a recorded outcome, not a crash"; "truncated generations are counted and reported").
 *
 * | what happened                                   | measurement status        | value analyses use | counted as   |
 * |-------------------------------------------------|---------------------------|--------------------|--------------|
 * | the grader gave a verdict                       | `ok`, `no_answer`         | the stored value   | scored       |
 * | the grader ran out of time (hostile/huge answer) | `grader_timeout`          | **0** (wrong)      | timeout      |
 * | the grader failed (bad gold, unreachable judge)  | `grader_error`            | excluded (null)    | grader error |
 * | the model call failed after retries             | `attempt_error` / attempt `error` | excluded (null) | failed  |
 *
 * Truncated attempts (finish reason `length`) keep their value and are flagged, so every analysis can give the
 * accuracy with and without them. A timeout counts as wrong so that junk can never raise a score; analyses report
 * the accuracy with timeouts left out beside it.
 *
 * Everything that reads outcomes applies this rule: the analyses through `outcomeOf` (src/analyses/outcomes.ts, the
 * one reader), and the pool's projection of runs into ranking measurements (src/store) through `scoredValue` and
 * the status lists below, which it turns into SQL.
 */
import type { Attempt, Measurement } from './schemas.ts';

/** Measurement statuses that count as wrong (value 0) whatever value was stored. */
export const WRONG_STATUSES = ['grader_timeout'] as const satisfies readonly Measurement['status'][];

/** Measurement statuses that are excluded (value null): a grader error, a failed model call. */
export const EXCLUDED_STATUSES = ['grader_error', 'attempt_error'] as const satisfies readonly Measurement['status'][];

/** Every other status (`ok`, `no_answer`) is a verdict: its stored value counts as it is (null: no verdict, excluded). */

/** What the rule needs of a measurement. */
export interface OutcomeInput {
  epoch: number;
  value: number | null;
  /** The measurement status (`Measurement['status']`). */
  status: string;
  extracted?: string | null;
  /** The attempt's finish reason (unknown: not truncated). */
  finish_reason?: Attempt['finish_reason'] | string;
  /** The attempt's status (unknown: judged from the measurement status alone). */
  attempt_status?: Attempt['status'] | string;
}

/** One attempt as every analysis counts it. */
export interface Outcome {
  epoch: number;
  /**
   * The value analyses use: the verdict (0/1 for binary scorers) when scored; 0 for a grader timeout; null when
   * excluded (a failed model call or a grader error).
   */
  value: number | null;
  extracted: string | null;
  /** Finish reason `length`: the generation hit the token limit (flagged and counted, value kept). */
  truncated: boolean;
  /** The model call itself failed (value null: excluded, counted as failed; a rerun retries it). */
  failed: boolean;
  /** The grader ran out of time on this response (value 0: counted as wrong). */
  timeout?: boolean;
  /** The grader failed on this response (value null: excluded, counted). */
  grader_error?: boolean;
}

const wrong: ReadonlySet<string> = new Set(WRONG_STATUSES);
const excluded: ReadonlySet<string> = new Set(EXCLUDED_STATUSES);

/**
 * The value analyses use for one measurement: 0 for a grader timeout, null for a grader error or a failed model
 * call (excluded), else the stored verdict (0/1 for binary scorers; null when there is none).
 */
export function scoredValue(m: { value: number | null; status: string }): number | null {
  if (wrong.has(m.status)) return 0;
  return excluded.has(m.status) ? null : m.value;
}

/** Apply the rule to one measurement (joined with what is known of its attempt). */
export function outcomeOf(m: OutcomeInput): Outcome {
  const failed = m.attempt_status === 'error' || m.status === 'attempt_error';
  const value = failed ? null : scoredValue(m);
  const timeout = !failed && wrong.has(m.status);
  return {
    epoch: m.epoch,
    value,
    extracted: m.extracted ?? null,
    truncated: m.finish_reason === 'length',
    failed,
    timeout,
    grader_error: !failed && value == null,
  };
}

/** Counts of outcomes by class (the figures every analysis reports beside its estimate). */
export interface OutcomeCounts {
  attempts: number;
  /** Scored attempts (a verdict; timeouts not included). */
  scored: number;
  /** Grader timeouts (counted as wrong). */
  timeouts: number;
  /** Grader errors (excluded). */
  grader_errors: number;
  /** Failed model calls (excluded). */
  failed: number;
  /** Attempts with finish reason `length` (of any class). */
  truncated: number;
}

/** Count outcomes by class. */
export function countOutcomes(outcomes: Iterable<Outcome>): OutcomeCounts {
  const c: OutcomeCounts = { attempts: 0, scored: 0, timeouts: 0, grader_errors: 0, failed: 0, truncated: 0 };
  for (const o of outcomes) {
    c.attempts++;
    if (o.truncated) c.truncated++;
    if (o.failed) c.failed++;
    else if (o.timeout) c.timeouts++;
    else if (o.value == null) c.grader_errors++;
    else c.scored++;
  }
  return c;
}
