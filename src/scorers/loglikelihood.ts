/**
 * Scorers of log-likelihood attempts (the solvers of src/solvers/loglikelihood.ts store what they read):
 *
 * | name | kind | value |
 * |---|---|---|
 * | `acc` | binary | 1 when the option with the largest log-likelihood is the gold one |
 * | `acc_norm` | binary | the same with each log-likelihood divided by its option's length (`length`: `chars`, the default, or `bytes`) |
 * | `greedy_match` | binary | 1 when the gold continuation is the greedy one (every token the model's most probable) |
 * | `loglikelihood` | numeric (higher better) | the gold continuation's (or the whole text's) log-likelihood, in nats |
 * | `bits_per_byte` | numeric (lower better) | −log-likelihood / bytes / ln 2 of the scored text |
 * | `nll_per_token` | numeric (lower better) | −log-likelihood / tokens (its exp is the text's token perplexity) |
 *
 * Definitions follow lm-evaluation-harness (`ConfigurableTask.process_results` for `multiple_choice`, read in its
 * source): `acc = argmax(lls) == gold`, `acc_norm = argmax(lls / completion_len) == gold` where `completion_len` is
 * `len(choice)` in Python, i.e. the option's Unicode code points, without the target delimiter; `argmax` is numpy's
 * (first index on ties); `exact_match` (here `greedy_match`) is `is_greedy[gold]`. lm-eval's documentation speaks of
 * byte length; its code counts characters, which is what `acc_norm` reproduces by default (the two agree on ASCII;
 * `acc_norm?length=bytes` divides by UTF-8 bytes instead). The gold option is the one whose text equals the target,
 * else the target's letter (A = first, as the `choice` scorer reads it).
 */
import type { Metric, Sample } from '../core/schemas.ts';
import { argmax, loglikelihoodOf, type ChoiceLoglikelihoods, type LoglikelihoodMetadata } from '../core/loglikelihood.ts';
import { goldLetter } from './simple.ts';
import type { ScoredState, Scorer, Verdict } from './types.ts';

/**
 * Index of the gold option of a multiple-choice sample: the option whose text equals the target exactly (lm-eval's
 * `choices.index(gold)`), else the option named by the target's letter (`B`, `(B)`); null when neither applies.
 */
export function goldIndex(sample: Sample): number | null {
  const choices = sample.choices ?? [];
  const exact = choices.indexOf(sample.target);
  if (exact >= 0) return exact;
  const letter = goldLetter(sample);
  if (!letter) return null;
  const i = letter.charCodeAt(0) - 65;
  return i >= 0 && i < choices.length ? i : null;
}

const LETTER = (i: number) => String.fromCharCode(65 + i);

/** lm-eval's multiple-choice verdicts from per-option log-likelihoods (pure; shared with the lm-eval importer). */
export function choiceVerdicts(logprobs: readonly number[], lengths: readonly number[], gold: number): { pred: number; pred_norm: number; acc: number; acc_norm: number } {
  const pred = argmax(logprobs);
  const pred_norm = argmax(logprobs.map((lp, i) => lp / lengths[i]!));
  return { pred, pred_norm, acc: pred === gold ? 1 : 0, acc_norm: pred_norm === gold ? 1 : 0 };
}

type Measure = 'acc' | 'acc_norm' | 'greedy_match' | 'loglikelihood' | 'bits_per_byte' | 'nll_per_token';

/** The numeric log-likelihood scorers: their means are shown as numbers, not percentages (`loglikelihood` higher is better, the others lower). */
export const NUMERIC_LOGLIKELIHOOD_SCORERS: ReadonlySet<string> = new Set(['loglikelihood', 'bits_per_byte', 'nll_per_token']);

/** The metric of each log-likelihood measure: the binary ones are 0/1; the numeric ones carry their unit and direction. */
export const LOGLIKELIHOOD_METRICS: Readonly<Record<Measure, Metric>> = {
  acc: { kind: 'binary' },
  acc_norm: { kind: 'binary' },
  greedy_match: { kind: 'binary' },
  loglikelihood: { kind: 'numeric', unit: 'nats', higher_is_better: true },
  bits_per_byte: { kind: 'numeric', unit: 'bits/byte', higher_is_better: false },
  nll_per_token: { kind: 'numeric', unit: 'nats/token', higher_is_better: false },
};

function missing(what: string): Verdict {
  return { value: null, extracted: null, explanation: what, status: 'grader_error' };
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));

/** One scorer per measure above; `length` (acc_norm only): `chars` (lm-eval's) or `bytes`. */
export class LoglikelihoodScorer implements Scorer {
  readonly name: string;
  readonly kind: 'binary' | 'numeric';
  readonly metric: Metric;
  readonly options: Record<string, unknown>;
  constructor(
    private readonly measure: Measure,
    private readonly opts: { length?: 'chars' | 'bytes' } = {},
  ) {
    this.name = measure === 'acc_norm' && opts.length === 'bytes' ? 'acc_norm?length=bytes' : measure;
    this.kind = measure === 'acc' || measure === 'acc_norm' || measure === 'greedy_match' ? 'binary' : 'numeric';
    this.options = measure === 'acc_norm' ? { length: opts.length ?? 'chars' } : {};
    this.metric = LOGLIKELIHOOD_METRICS[measure];
  }

  /** Grade from the attempt's stored log-likelihoods; never throws. Without them: a `grader_error` naming the solver to use. */
  score(sample: Sample, _response: string, state?: ScoredState): Verdict {
    const ll = loglikelihoodOf(state?.metadata);
    if (!ll) return missing(`no log-likelihoods in this attempt: ${this.name} grades the loglikelihood_* solvers' attempts`);
    try {
      return this.grade(sample, ll);
    } catch (err) {
      return missing(`grader error: ${(err as Error).message}`);
    }
  }

  private grade(sample: Sample, ll: LoglikelihoodMetadata): Verdict {
    const m = this.measure;
    if (ll.kind === 'choice') {
      const gold = goldIndex(sample);
      if (gold === null || gold >= ll.logprobs.length) return missing(`gold is not one of the ${ll.logprobs.length} options: ${sample.target.slice(0, 80)}`);
      return this.gradeChoice(ll, gold);
    }
    if (m === 'acc' || m === 'acc_norm') return missing(`${m} needs per-option log-likelihoods (the loglikelihood_choice solver); this attempt scored a ${ll.kind} text`);
    if (m === 'greedy_match') {
      if (ll.kind !== 'target') return missing('greedy_match needs a continuation (loglikelihood_target or loglikelihood_choice), not a rolling text');
      return { value: ll.is_greedy ? 1 : 0, extracted: ll.is_greedy ? 'greedy' : 'not greedy', explanation: `log-likelihood ${fmt(ll.logprob)} over ${ll.tokens} tokens`, status: 'ok' };
    }
    return this.numeric(ll.logprob, ll.tokens, ll.bytes);
  }

  private gradeChoice(ll: ChoiceLoglikelihoods, gold: number): Verdict {
    const m = this.measure;
    if (m === 'acc' || m === 'acc_norm') {
      const lengths = m === 'acc' ? ll.logprobs.map(() => 1) : this.opts.length === 'bytes' ? ll.bytes : ll.chars;
      const v = choiceVerdicts(ll.logprobs, lengths, gold);
      const pred = m === 'acc' ? v.pred : v.pred_norm;
      const ok = pred === gold;
      const per = m === 'acc' ? 'log-likelihood' : `log-likelihood per ${this.opts.length === 'bytes' ? 'byte' : 'character'}`;
      const score = (i: number) => fmt(ll.logprobs[i]! / lengths[i]!);
      return { value: ok ? 1 : 0, extracted: LETTER(pred), explanation: ok ? `${LETTER(pred)} has the largest ${per} (${score(pred)})` : `${LETTER(pred)} (${score(pred)}) beats gold ${LETTER(gold)} (${score(gold)}) by ${per}`, status: 'ok' };
    }
    if (m === 'greedy_match') {
      const g = ll.is_greedy[gold] === true;
      return { value: g ? 1 : 0, extracted: g ? 'greedy' : 'not greedy', explanation: `gold ${LETTER(gold)} ${g ? 'is' : 'is not'} the greedy continuation`, status: 'ok' };
    }
    return this.numeric(ll.logprobs[gold]!, ll.tokens[gold]!, ll.bytes[gold]!);
  }

  private numeric(logprob: number, tokens: number, bytes: number): Verdict {
    const m = this.measure;
    let value: number;
    if (m === 'loglikelihood') value = logprob;
    else if (m === 'bits_per_byte') {
      if (!(bytes > 0)) return missing('bits_per_byte of an empty text');
      value = -logprob / bytes / Math.LN2;
    } else {
      if (!(tokens > 0)) return missing('nll_per_token of a text without tokens');
      value = -logprob / tokens;
    }
    if (!Number.isFinite(value)) return missing(`${m} is not finite (log-likelihood ${logprob})`);
    return { value, extracted: String(value), explanation: `log-likelihood ${fmt(logprob)} nats over ${tokens} tokens, ${bytes} bytes`, status: 'ok' };
  }
}
