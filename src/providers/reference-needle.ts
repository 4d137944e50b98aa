/**
 * Reference models for needle threading (clearly synthetic: their reported model id starts with `reference/`).
 *
 * - `reference:needle` reads the haystack in the prompt and answers exactly (src/generators/needle/solver.ts). It
 *   never looks at the sample's target or metadata, so it must score 100% on every task and length: this is the
 *   generator's own correctness test.
 * - `reference:needle-noisy?p=0.95&limit=16000` is right with probability p while the haystack is at most `limit`
 *   characters long, and with probability p·limit/chars beyond it (accuracy falls with length, so an effective
 *   context limit shows up). A wrong answer is plausible: a single value is replaced by another value from the
 *   haystack; a list loses one gold value and gains a distractor (partial credit (n−1)/n). Decisions come from a
 *   seeded hash of (seed, generation seed, the model's own stream = name and parameters, sample id, epoch), so they
 *   are reproducible, and two settings of the model decide independently.
 *
 * A prompt that is not a needle prompt gets `I cannot find a needle-threading task in this prompt.`
 */
import { hashUniform as uniform } from '../core/hash.ts';
import { InputError } from '../core/errors.ts';
import { messageText } from '../core/schemas.ts';
import { formatNeedleAnswer, solveNeedlePrompt } from '../generators/needle/solver.ts';
import { probabilityParam, referenceSeed, referenceStream, type ReferenceAnswer } from './reference-params.ts';

/** Noise settings of the noisy needle model: accuracy `p` up to `limit` characters, p·limit/chars beyond. */
export interface NeedleNoise {
  p: number;
  /** Haystack length in characters up to which accuracy is p. */
  limit: number;
  seed: number;
}

/** Probability that the noisy model answers right at a haystack of `chars` characters. */
export function noisyAccuracy(noise: Pick<NeedleNoise, 'p' | 'limit'>, chars: number): number {
  return chars <= noise.limit ? noise.p : (noise.p * noise.limit) / chars;
}

/**
 * Answer a needle prompt: exactly when `noise` is absent, otherwise with the noisy model's errors.
 * `key` identifies the (sample, epoch) for the seeded decision. Returns the answer text and whether it is right,
 * or null when the prompt is not a needle-threading prompt.
 */
export function answerNeedlePrompt(prompt: string, noise?: NeedleNoise, key = ''): { text: string; correct: boolean; chars: number } | null {
  const sol = solveNeedlePrompt(prompt);
  if (!sol) return null;
  if (!noise || uniform(noise.seed, `ok\u0000${key}`) < noisyAccuracy(noise, sol.chars)) return { text: formatNeedleAnswer(sol.answer), correct: true, chars: sol.chars };
  const values = sol.haystack.values;
  const gold = typeof sol.answer === 'string' ? [sol.answer] : sol.answer;
  const goldSet = new Set(gold);
  let distractor = values[Math.floor(uniform(noise.seed, `d\u0000${key}`) * values.length)] ?? '';
  // Another value, else a key (a haystack whose every value is gold, e.g. one pair), else an invented one:
  // a wrong answer must never happen to be right.
  const others = [...values, ...sol.haystack.keys];
  for (let i = 0; goldSet.has(distractor) && i < others.length; i++) distractor = others[i]!;
  if (goldSet.has(distractor)) distractor = 'no-such-value';
  if (typeof sol.answer === 'string') return { text: distractor, correct: false, chars: sol.chars };
  const wrong = gold.slice();
  if (wrong.length) wrong.splice(Math.floor(uniform(noise.seed, `i\u0000${key}`) * wrong.length), 1);
  wrong.push(distractor);
  return { text: formatNeedleAnswer(wrong), correct: false, chars: sol.chars };
}

/**
 * The answer function of `reference:needle` (exact) or `reference:needle-noisy[?p=<0..1>&limit=<chars>]` (defaults
 * p=0.95, limit=16000); the address itself is parsed and checked by `parseReferenceAddress` (reference.ts).
 * Errors: InputError for p outside [0,1] or a limit that is not a positive integer.
 */
export function needleAnswerer(name: 'needle' | 'needle-noisy', params: URLSearchParams, seed: number): ReferenceAnswer {
  let noise: Omit<NeedleNoise, 'seed'> | null = null;
  if (name === 'needle-noisy') {
    const p = probabilityParam(name, params, 0.95);
    const limit = params.has('limit') ? Number(params.get('limit')) : 16000;
    if (!Number.isInteger(limit) || limit < 1) throw new InputError(`reference:${name} limit must be a positive integer (characters), got ${params.get('limit')}`, { field: 'model' });
    noise = { p, limit };
  }
  // the model's own stream (see referenceStream): two noisy needle models with different settings decide independently
  const stream = referenceStream(name, noise ?? {});
  return (req) => {
    const prompt = req.messages.filter((m) => m.role === 'user').map((m) => messageText(m)).join('\n');
    const a = answerNeedlePrompt(prompt, noise ? { ...noise, seed: referenceSeed(req, seed) } : undefined, `${stream}\u0000${req.sample.id}\u0000${req.epoch}`);
    return { text: a ? a.text : 'I cannot find a needle-threading task in this prompt.', finish_reason: 'stop' };
  };
}
