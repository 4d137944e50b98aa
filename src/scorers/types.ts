/**
 * The scorer interface: a scorer turns (sample, response text, final state) into a verdict. It knows nothing of HTTP or storage.
 * Scorers are looked up by name in `registry.ts`; the name and options are stored with the run so old runs can be
 * re-scored (the Inspect pattern, DESIGN.md §7).
 */
import type { FinishReason, Message, MeasurementKind, Metric, Sample } from '../core/schemas.ts';

/** What a scorer may read of the solver's final state (a narrow view of `TaskState`, so scorers do not import solvers). */
export interface ScoredState {
  readonly messages: readonly Message[];
  readonly output: { readonly text: string; readonly finish_reason: FinishReason } | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly epoch: number;
}

export interface Verdict {
  /** 0/1 for binary scorers; null when undecided (see status). */
  value: number | null;
  /** The answer extracted from the response, or null when none was found. */
  extracted: string | null;
  /** Short human-readable reason, e.g. `numeric equal (rel tol 1e-6)` or `no \\boxed{} and no number`. */
  explanation: string | null;
  status: 'ok' | 'no_answer' | 'grader_timeout' | 'grader_error';
}

export interface Scorer {
  /**
   * The scorer's label: its registry name, plus its non-default options as a sorted query string
   * (`math`, `math?percent=scaled`); measurements are stored under it (see `registry.ts`).
   */
  readonly name: string;
  readonly kind: MeasurementKind;
  /**
   * The scale and direction of the values (`binary` 0/1, `proportion` in [0, 1], or `numeric` with a unit and
   * `higher_is_better`); recorded in the run manifest for the analyses. Optional: without it, see {@link metricOfScorer}.
   */
  readonly metric?: Metric;
  /** The options the scorer was built with (stored in the manifest). */
  readonly options: Record<string, unknown>;
  /**
   * Grade one response against the sample's target. Must never throw and never take more than its budget.
   * `response` is the final output's text, cut at the task's stop sequences; `state` is the solver's whole final
   * state (every turn of the conversation, metadata), for scorers that grade more than the final text.
   */
  score(sample: Sample, response: string, state?: ScoredState): Verdict | Promise<Verdict>;
  /**
   * Corpus statistics a scorer needs from the evaluated samples before it grades any of them (CIDEr-D's document
   * frequencies over the references). Optional; called with the samples a run evaluates by the task resolver
   * (src/tasks/resolve.ts) and by re-scoring (src/runner/rescore.ts), before the first `score`; a later call replaces
   * what an earlier one gave.
   */
  prepare?(samples: readonly Sample[]): void;
  /** Release resources (a judge's HTTP connections). Optional; idempotent; the scorer may be used again after. */
  close?(): Promise<void>;
  /**
   * What the scorer learned while grading that belongs in the run manifest (JSON), e.g. the model ids a judge's
   * server reported. Read after grading; stored under `manifest.scorer_reports[<scorer name>]`.
   */
  report?(): Record<string, unknown>;
}

/**
 * A scorer's metric: the declared one, else `binary` for a binary scorer and `numeric` of unknown unit and direction
 * for any other (analyses then call no model better).
 */
export function metricOfScorer(s: Pick<Scorer, 'kind' | 'metric'>): Metric {
  if (s.metric) return s.metric;
  return s.kind === 'binary' ? { kind: 'binary' } : { kind: 'numeric', unit: '', higher_is_better: null };
}
