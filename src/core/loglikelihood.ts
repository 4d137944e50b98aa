/**
 * What the log-likelihood solvers (src/solvers/loglikelihood.ts) store in an attempt's `metadata.loglikelihood`, and
 * what the scorers (src/scorers/loglikelihood.ts), the analyses and the lm-eval importer read: one shape in core, so
 * that scorers need not import solvers.
 */

/** What `loglikelihood_choice` stores (one entry per option, in option order). */
export interface ChoiceLoglikelihoods {
  kind: 'choice';
  target_delimiter: string;
  /** The continuations scored: `text` (the option) or `letter` (A, B, …). */
  continuation: 'text' | 'letter';
  logprobs: number[];
  is_greedy: boolean[];
  tokens: number[];
  /** Characters (Unicode code points) of each option, without the delimiter: lm-eval's `acc_norm` divisor. */
  chars: number[];
  /** UTF-8 bytes of each option, without the delimiter. */
  bytes: number[];
  /** Index of the option with the largest log-likelihood (first on ties). */
  pred: number;
}

/** What `loglikelihood_target` stores. */
export interface TargetLoglikelihood {
  kind: 'target';
  target_delimiter: string;
  logprob: number;
  is_greedy: boolean;
  tokens: number;
  bytes: number;
}

/** What `loglikelihood_rolling` stores. */
export interface RollingLoglikelihood {
  kind: 'rolling';
  field: 'input' | 'target';
  logprob: number;
  tokens: number;
  windows: number;
  /** UTF-8 bytes of the text (lm-eval's `count_bytes`). */
  bytes: number;
  /** Words of the text (lm-eval's `count_words`: pieces between runs of whitespace). */
  words: number;
}

export type LoglikelihoodMetadata = ChoiceLoglikelihoods | TargetLoglikelihood | RollingLoglikelihood;

/** The log-likelihood facts a solver stored in a state's metadata, or null. */
export function loglikelihoodOf(metadata: Readonly<Record<string, unknown>> | null | undefined): LoglikelihoodMetadata | null {
  const m = metadata?.loglikelihood as LoglikelihoodMetadata | undefined;
  return m && typeof m === 'object' && typeof m.kind === 'string' ? m : null;
}

/** Index of the largest value, first on ties; NaN counts as largest (numpy's `argmax`, which lm-eval uses). */
export function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 0; i < xs.length; i++) {
    if (Number.isNaN(xs[i]!)) return i;
    if (xs[i]! > xs[best]!) best = i;
  }
  return best;
}

