/**
 * Log-likelihood solvers: how base models are evaluated the lm-evaluation-harness way, without generating text.
 *
 * | solver | requests | what lands in `state.metadata.loglikelihood` |
 * |---|---|---|
 * | `loglikelihoodChoice` (`loglikelihood_choice`) | one per option: context = the prompt as plain text, continuation = target delimiter + option | `logprobs`, `is_greedy`, `tokens`, `chars`, `bytes` per option, `pred` |
 * | `loglikelihoodTarget` (`loglikelihood_target`) | one: continuation = target delimiter + the sample's target | `logprob`, `is_greedy`, `tokens`, `bytes` |
 * | `loglikelihoodRolling` (`loglikelihood_rolling`) | the whole text (the sample's input, or its target), no context | `logprob`, `tokens`, `windows`, `bytes`, `words` |
 *
 * The context is the conversation rendered by `rawPrompt` (lm-eval's layout: few-shot examples as
 * "question answer" blocks separated by a blank line; target delimiter `" "`). The scorers in
 * src/scorers/loglikelihood.ts turn the metadata into `acc`, `acc_norm`, `greedy_match`, `loglikelihood`,
 * `bits_per_byte` and `nll_per_token` measurements; a re-score reads the same metadata from the stored attempt.
 * `state.output.text` is the predicted option for `loglikelihood_choice` and empty for the other two.
 */
import { InputError } from '../core/errors.ts';
import { rawPrompt, RAW_PROMPT_DEFAULTS } from '../core/raw-prompt.ts';
import { messageText, type Sample } from '../core/schemas.ts';
import { countWords, utf8Bytes } from '../providers/scoring.ts';
import { goldIndex } from '../scorers/loglikelihood.ts';
import type { Solver, TaskState } from './types.ts';
import { argmax, type ChoiceLoglikelihoods, type RollingLoglikelihood, type TargetLoglikelihood } from '../core/loglikelihood.ts';

export { argmax, loglikelihoodOf, type ChoiceLoglikelihoods, type LoglikelihoodMetadata, type RollingLoglikelihood, type TargetLoglikelihood } from '../core/loglikelihood.ts';

/** Options shared by the context-based solvers. */
export interface LoglikelihoodSolverOptions {
  /** Between the context and the continuation (lm-eval's `target_delimiter`, default `" "`). */
  targetDelimiter?: string;
  /** Between few-shot examples (lm-eval's `fewshot_delimiter`, default `"\n\n"`). */
  fewshotDelimiter?: string;
}

const codePoints = (s: string) => [...s].length;

function contextOf(state: TaskState, opts: LoglikelihoodSolverOptions): string {
  return rawPrompt(state.messages, { targetDelimiter: opts.targetDelimiter, fewshotDelimiter: opts.fewshotDelimiter });
}

function finish(state: TaskState, text: string): TaskState {
  state.output = { text, finish_reason: 'stop', model_id: null, prompt_tokens: null, completion_tokens: 0 };
  return state;
}

/**
 * Multiple choice by log-likelihood: score `delimiter + option` after the prompt for every option of
 * `sample.choices` (or `delimiter + letter` with `continuation: 'letter'`, MMLU's style, where the options are listed
 * in the prompt). A task's few-shot examples answer with their gold option written the same way (the option's text,
 * or its letter), as lm-eval writes `doc_to_choice(doc)[doc_to_target(doc)]`, whether the sample's target is the
 * option's text or its letter. Errors (recorded as a failed attempt): a sample without choices.
 */
export function loglikelihoodChoice(opts: LoglikelihoodSolverOptions & { continuation?: 'text' | 'letter' } = {}): Solver {
  const td = opts.targetDelimiter ?? RAW_PROMPT_DEFAULTS.targetDelimiter;
  const mode = opts.continuation ?? 'text';
  const run = async (state: TaskState, gen: Parameters<Solver>[1]) => {
    const choices = state.sample.choices;
    if (!choices || choices.length < 2) throw new InputError(`loglikelihood_choice: sample "${state.sample.id}" has fewer than two choices`, { field: 'choices' });
    const context = contextOf(state, opts);
    const options = mode === 'letter' ? choices.map((_, i) => String.fromCharCode(65 + i)) : choices;
    const results = await gen.loglikelihood(options.map((o) => ({ context, continuation: td + o })));
    const logprobs = results.map((r) => r.logprob);
    const pred = argmax(logprobs);
    const meta: ChoiceLoglikelihoods = {
      kind: 'choice', target_delimiter: td, continuation: mode, logprobs, is_greedy: results.map((r) => r.is_greedy), tokens: results.map((r) => r.tokens),
      chars: options.map(codePoints), bytes: options.map(utf8Bytes), pred,
    };
    state.metadata.loglikelihood = meta;
    return finish(state, options[pred]!);
  };
  const fewShotAnswer = (example: Sample): string | null => {
    const gold = example.choices && example.choices.length >= 2 ? goldIndex(example) : null;
    if (gold === null) return null;
    return mode === 'letter' ? String.fromCharCode(65 + gold) : example.choices![gold]!;
  };
  return Object.assign(run, { needs: ['loglikelihood'] as const, fewShotAnswer });
}

/** The target's log-likelihood after the prompt, and whether it is the greedy continuation (lm-eval's `loglikelihood` task). */
export function loglikelihoodTarget(opts: LoglikelihoodSolverOptions = {}): Solver {
  const td = opts.targetDelimiter ?? RAW_PROMPT_DEFAULTS.targetDelimiter;
  const run = async (state: TaskState, gen: Parameters<Solver>[1]) => {
    const [r] = await gen.loglikelihood([{ context: contextOf(state, opts), continuation: td + state.sample.target }]);
    const meta: TargetLoglikelihood = { kind: 'target', target_delimiter: td, logprob: r!.logprob, is_greedy: r!.is_greedy, tokens: r!.tokens, bytes: utf8Bytes(state.sample.target) };
    state.metadata.loglikelihood = meta;
    return finish(state, '');
  };
  return Object.assign(run, { needs: ['loglikelihood'] as const });
}

/**
 * The whole text's log-likelihood from its first token (lm-eval's `loglikelihood_rolling`, for perplexity and bits
 * per byte): the sample's input text (default) or its target. The prompt template is not used: the text is scored
 * as it is. Errors (recorded as a failed attempt): an empty text.
 */
export function loglikelihoodRolling(opts: { field?: 'input' | 'target' } = {}): Solver {
  const field = opts.field ?? 'input';
  const run = async (state: TaskState, gen: Parameters<Solver>[1]) => {
    const s = state.sample;
    const text = field === 'target' ? s.target : typeof s.input === 'string' ? s.input : s.input.map(messageText).join('\n\n');
    if (text === '') throw new InputError(`loglikelihood_rolling: sample "${s.id}" has an empty ${field}`, { field });
    const [r] = await gen.loglikelihoodRolling([text]);
    const meta: RollingLoglikelihood = { kind: 'rolling', field, logprob: r!.logprob, tokens: r!.tokens, windows: r!.windows, bytes: utf8Bytes(text), words: countWords(text) };
    state.metadata.loglikelihood = meta;
    return finish(state, '');
  };
  return Object.assign(run, { needs: ['loglikelihood'] as const });
}
