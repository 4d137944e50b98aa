/**
 * The `judge` scorer: a judge model decides whether a response's final answer matches the gold answer, in the
 * style of Humanity's Last Exam (Phan et al. 2025, §3 "Evaluation": a judge model extracts the final answer and
 * the stated confidence, and says whether the answer is correct; the reference is `hle_eval/run_judge_results.py`).
 *
 * - The judge is any provider address (`openai:…`, `openai-compatible:<url>#<model>`, `anthropic:…`), created
 *   through `src/providers/registry.ts` on first use and closed after 2 s idle.
 * - Its reply must be one JSON object `{extracted_final_answer: string, reasoning: string, correct: "yes"|"no",
 *   confidence: 0–100 | null}` (the `key: value` line format of the HLE reference is accepted too), validated with
 *   zod. A malformed reply is retried (`max_retries`, default 3) with the judge's own reply and the validation
 *   problem sent back; a retryable transport failure (HTTP 429/5xx, dropped connection) is retried with backoff.
 *   When every try fails the verdict is `grader_error` (value null, counted, excluded from accuracy).
 * - Multiple-choice samples (`metadata.answer_type === 'multipleChoice'`, or samples with `choices`) are graded
 *   **without a judge** by their letter (`multiple_choice: 'letter'`, the default).
 * - Recorded: in the scorer options (so the run spec and manifest) the judge address, prompt name and
 *   `prompt_sha256`, temperature, max_tokens, max_retries, timeout_ms; in every measurement's explanation (a JSON
 *   object) the model id the judge's server reported, the prompt hash, the number of tries, the judge's
 *   reasoning and the confidence it extracted. The extracted answer is the measurement's `extracted`.
 */
import { z } from 'zod';
import { sha256 } from '../core/hash.ts';
import { messageText, type Message, type Sample } from '../core/schemas.ts';
import { ProviderError, type Provider } from '../providers/types.ts';
import type { Scorer, Verdict } from './types.ts';
import { cutResponse, extractChoice, extractConfidence } from './extract.ts';
import { goldLetter } from './simple.ts';

/** Judge prompts by name. `{question}`, `{response}`, `{correct_answer}` are filled in. */
export const JUDGE_PROMPTS = {
  'hle-v1': `You are grading the answer to a closed-ended question. Decide whether the final answer given in the [response] matches the [correct_answer]. Do not solve the problem yourself and do not grade the reasoning: compare the final answers only.

[question]: {question}

[response]: {response}

[correct_answer]: {correct_answer}

Reply with one JSON object and nothing else, with exactly these keys:
"extracted_final_answer": the final exact answer stated in the [response], as a string; "None" if it states no final answer.
"reasoning": a short explanation of why the extracted answer does or does not match [correct_answer], naming only meaningful differences.
"correct": "yes" if the extracted answer matches [correct_answer] (for numerical answers, within a small margin of error); "no" otherwise, including when it is missing, ambiguous, or not equivalent.
"confidence": the confidence score (an integer from 0 to 100) that the [response] states for its answer; null if it states none.`,
} as const;

/** Name of a judge prompt. */
export type JudgePromptName = keyof typeof JUDGE_PROMPTS;

/** sha256 (hex) of a judge prompt's text (recorded with the run). */
export function judgePromptSha256(name: JudgePromptName): string {
  return sha256(JUDGE_PROMPTS[name]);
}

/** Options of the `judge` scorer (see the registry table for defaults). `model` is required. */
export interface JudgeOptions {
  /** Judge model address, e.g. `openai:gpt-4o-mini` or `openai-compatible:http://127.0.0.1:8000/v1#judge`. */
  model: string;
  /** Sampling temperature of the judge (default 0). */
  temperature: number;
  /** Token limit of one judge reply (default 4096, as the HLE reference). */
  max_tokens: number;
  /** Further tries after a malformed reply or a retryable transport failure (default 3). */
  max_retries: number;
  /** Time limit of one judge call in milliseconds (default 120,000). */
  timeout_ms: number;
  /** `letter` (default): multiple-choice samples are graded by their letter, without a judge; `judge`: by the judge. */
  multiple_choice: 'letter' | 'judge';
  /** Judge prompt name (default `hle-v1`). */
  prompt: JudgePromptName;
  /** sha256 of the prompt text; derived. When given (re-creating a stored scorer), it must match the prompt. */
  prompt_sha256?: string;
}

/** Defaults of the judge options other than `model`. */
export const JUDGE_DEFAULTS = {
  temperature: 0,
  max_tokens: 4096,
  max_retries: 3,
  timeout_ms: 120_000,
  multiple_choice: 'letter',
  prompt: 'hle-v1',
} as const satisfies Omit<JudgeOptions, 'model' | 'prompt_sha256'>;

/** The judge's structured verdict, validated. `confidence` in percent, null when the response states none. */
export const JudgeVerdictSchema = z.object({
  extracted_final_answer: z.union([z.string(), z.number(), z.null()]).transform((v) => (v === null ? 'None' : String(v))),
  reasoning: z.union([z.string(), z.null()]).transform((v) => v ?? ''),
  // "yes"/"no", also written "Yes." or as a JSON boolean
  correct: z.preprocess(
    (v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : typeof v === 'string' ? v.trim().toLowerCase().replace(/^\*+|[\s.!*]+$/g, '') : v),
    z.enum(['yes', 'no']),
  ),
  confidence: z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    const t = v.trim().replace(/\s*%$/, '');
    if (t === '' || /^(null|none|n\/a)$/i.test(t)) return null;
    return /^\d+(?:\.\d+)?$/.test(t) ? Number(t) : v;
  }, z.number().min(0).max(100).nullable()),
});
export type JudgeVerdict = z.infer<typeof JudgeVerdictSchema>;

/**
 * Parse a judge reply: a JSON object (optionally in a ```json fence or surrounded by text), else the HLE
 * reference's `key: value` lines (`extracted_final_answer: …`, `reasoning: …`, `correct: yes`, `confidence: 85`).
 * @returns the validated verdict, or `{error}` naming what is wrong (used in the retry message and the record)
 */
export function parseJudgeReply(text: string): { verdict: JudgeVerdict } | { error: string } {
  const t = text.trim();
  let candidate: unknown = undefined;
  const objects = jsonObjectsIn(t);
  if (objects.length > 0) {
    // the objects that are verdicts; several that disagree are ambiguous (a malformed reply)
    const verdicts = objects.map((o) => JudgeVerdictSchema.safeParse(o)).filter((r) => r.success).map((r) => r.data!);
    if (verdicts.length > 1 && verdicts.some((v) => v.correct !== verdicts[0]!.correct)) return { error: 'several JSON verdicts that disagree' };
    candidate = verdicts.length > 0 ? verdicts[verdicts.length - 1] : objects[objects.length - 1];
  }
  if (candidate === undefined) {
    const obj: Record<string, string> = {};
    const keys = ['extracted_final_answer', 'reasoning', 'correct', 'confidence'];
    const re = new RegExp(`^\\s*[*_]*(${keys.join('|')})[*_]*\\s*:\\s*[*_]*\\s*(.*?)\\s*$`, 'i');
    let current: string | null = null;
    for (const line of t.split('\n')) {
      const m = re.exec(line);
      if (m) {
        current = m[1]!.toLowerCase();
        obj[current] = m[2]!.trim();
      } else if (current === 'reasoning') obj.reasoning += '\n' + line;
    }
    if (Object.keys(obj).length === 0) return { error: 'no JSON object and no "key: value" lines found' };
    candidate = obj;
  }
  const parsed = JudgeVerdictSchema.safeParse(candidate);
  if (!parsed.success) return { error: parsed.error.issues.map((i) => `${i.path.join('.') || '(reply)'}: ${i.message}`).join('; ') };
  return { verdict: parsed.data };
}

/**
 * Fill a judge prompt's `{question}`, `{response}` and `{correct_answer}` slots in **one pass** over the template,
 * so text inside a filled value is never filled again: a response that writes `{correct_answer}` must not get the
 * gold answer pasted into it, nor a question that writes `{response}` the response.
 */
export function fillJudgePrompt(template: string, values: { question: string; response: string; correct_answer: string }): string {
  return template.replace(/\{(question|response|correct_answer)\}/g, (_, k: keyof typeof values) => values[k]);
}

/**
 * The JSON objects written in a text (in a ```json fence, after prose, before a remark that has braces of its own):
 * every balanced `{"…}` group (strings and escapes respected) that parses as a JSON object, outermost first, in
 * order. Bounded: at most 64 candidate openers and 8 million characters scanned in all, in the first 4 million.
 */
export function jsonObjectsIn(text: string): Record<string, unknown>[] {
  const t = text.length > 4_000_000 ? text.slice(0, 4_000_000) : text;
  const out: Record<string, unknown>[] = [];
  let budget = 8_000_000; // characters scanned in all, over every opener
  // a JSON object opens with `{` then a key: `{"`, `{ "`, `{\n  "` (LaTeX braces in prose do not)
  const opener = /\{\s*"/g;
  let starts = 0;
  for (let m = opener.exec(t); m && starts < 64; m = opener.exec(t)) {
    starts++;
    const i = m.index;
    let depth = 0;
    let inStr = false;
    let end = -1;
    for (let j = i; j < t.length && budget > 0; j++, budget--) {
      const c = t[j]!;
      if (inStr) {
        if (c === '\\') j++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        end = j;
        break;
      }
    }
    if (end < 0) continue;
    try {
      const v: unknown = JSON.parse(t.slice(i, end + 1));
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        out.push(v as Record<string, unknown>);
        opener.lastIndex = end + 1; // go on after this object (its inner objects are part of it)
      }
    } catch {
      // not JSON: try the next opener
    }
  }
  return out;
}

/** The question text of a sample: its input, or the text of its last user message. */
function questionText(sample: Sample): string {
  if (typeof sample.input === 'string') return sample.input;
  const users = sample.input.filter((m) => m.role === 'user');
  return messageText(users[users.length - 1] ?? sample.input[sample.input.length - 1]!);
}

/** Is this a multiple-choice sample (HLE `answer_type`, or a sample with `choices`)? */
export function isMultipleChoice(sample: Sample): boolean {
  return sample.metadata?.answer_type === 'multipleChoice' || (Array.isArray(sample.choices) && sample.choices.length > 0);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) + '…' : s);

/** The `judge` scorer (binary). See the module comment. */
export class JudgeScorer implements Scorer {
  readonly name = 'judge';
  readonly kind = 'binary' as const;
  readonly options: Record<string, unknown>;
  private readonly opts: Required<JudgeOptions>;
  private provider: Promise<Provider> | null = null;
  private readonly reportedModelIds = new Set<string>();
  private inFlight = 0;
  private idle: NodeJS.Timeout | null = null;

  /**
   * @throws Error when `prompt_sha256` is given and differs from the prompt's hash (the prompt changed since the
   *   run that recorded it)
   */
  constructor(options: Partial<JudgeOptions> & { model: string }, private readonly env?: Record<string, string | undefined>) {
    const merged = { ...JUDGE_DEFAULTS, ...options };
    const hash = judgePromptSha256(merged.prompt);
    if (options.prompt_sha256 !== undefined && options.prompt_sha256 !== hash) {
      throw new Error(`invalid options for scorer "judge": prompt_sha256 ${options.prompt_sha256} does not match prompt "${merged.prompt}" (${hash}); the judge prompt changed`);
    }
    this.opts = { ...merged, prompt_sha256: hash };
    this.options = { ...this.opts };
  }

  private getProvider(): Promise<Provider> {
    if (!this.provider) {
      // The provider registry (and its HTTP client) loads on the judge's first call: a grading worker that never
      // judges stays small.
      const p = import('../providers/registry.ts').then(({ createProvider }) => createProvider(this.opts.model, { concurrency: 16, env: this.env }));
      p.catch(() => {
        if (this.provider === p) this.provider = null;
      });
      this.provider = p;
    }
    return this.provider;
  }

  /** Close the judge's connections (also done automatically after 2 s without calls). */
  /** For the manifest: the judge's address, the model ids its server reported, and the prompt's hash and settings. */
  report(): Record<string, unknown> {
    return { judge_model: this.opts.model, reported_model_ids: [...this.reportedModelIds].sort(), prompt: this.opts.prompt, prompt_sha256: this.options.prompt_sha256 ?? null, temperature: this.opts.temperature, max_tokens: this.opts.max_tokens };
  }

  async close(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const p = this.provider;
    this.provider = null;
    if (p) await p.then((x) => x.close()).catch(() => undefined);
  }

  /** Grade a response; never throws; one judge call (plus retries) unless the sample is multiple-choice. */
  async score(sample: Sample, response: string): Promise<Verdict> {
    try {
      if (this.opts.multiple_choice === 'letter' && isMultipleChoice(sample)) return this.letter(sample, response ?? '');
      this.inFlight++;
      if (this.idle) clearTimeout(this.idle);
      try {
        return await this.judge(sample, response ?? '');
      } finally {
        if (--this.inFlight === 0) {
          this.idle = setTimeout(() => void this.close(), 2000);
          this.idle.unref();
        }
      }
    } catch (e) {
      return { value: null, extracted: null, explanation: `grader error: ${String(e)}`, status: 'grader_error' };
    }
  }

  private record(fields: Record<string, unknown>): string {
    return JSON.stringify({ prompt: this.opts.prompt, prompt_sha256: this.opts.prompt_sha256, ...fields });
  }

  private letter(sample: Sample, response: string): Verdict {
    const gold = goldLetter(sample);
    const confidence = extractConfidence(response);
    if (!gold) return { value: null, extracted: null, explanation: JSON.stringify({ grader: 'letter', error: `gold is not a choice letter: ${clip(sample.target, 80)}` }), status: 'grader_error' };
    const pred = extractChoice(response);
    if (!pred) return { value: 0, extracted: null, explanation: JSON.stringify({ grader: 'letter', correct: 'no', confidence, reasoning: 'no choice letter found' }), status: 'no_answer' };
    const ok = pred === gold;
    return { value: ok ? 1 : 0, extracted: pred, explanation: JSON.stringify({ grader: 'letter', correct: ok ? 'yes' : 'no', confidence, reasoning: ok ? 'same letter' : `letter ${pred} ≠ ${gold}` }), status: 'ok' };
  }

  private async judge(sample: Sample, response: string): Promise<Verdict> {
    const prompt = fillJudgePrompt(JUDGE_PROMPTS[this.opts.prompt], { question: questionText(sample), response: cutResponse(response), correct_answer: sample.target });
    const base: Message[] = [{ role: 'user', content: prompt }];
    let messages = base;
    let problem = '';
    let modelId: string | null = null;
    const tries = this.opts.max_retries + 1;
    for (let k = 0; k < tries; k++) {
      let text: string;
      try {
        const provider = await this.getProvider();
        const res = await provider.generate({
          messages,
          config: { temperature: this.opts.temperature, max_tokens: this.opts.max_tokens, chat_template: true },
          sample,
          epoch: 0,
          signal: AbortSignal.timeout(this.opts.timeout_ms),
        });
        text = res.text;
        modelId = res.model_id ?? modelId;
        if (res.model_id) this.reportedModelIds.add(res.model_id);
      } catch (e) {
        const retryable = e instanceof ProviderError ? e.opts.retryable : (e as Error)?.name === 'TimeoutError' || (e as Error)?.name === 'AbortError';
        problem = `judge call failed: ${clip(String((e as Error)?.message ?? e), 300)}`;
        if (!retryable) break;
        const wait = e instanceof ProviderError && e.opts.retryAfterMs !== undefined ? Math.min(e.opts.retryAfterMs, 30_000) : Math.min(4000, 100 * 2 ** k);
        if (k + 1 < tries) await sleep(wait);
        continue;
      }
      const parsed = parseJudgeReply(text);
      if ('verdict' in parsed) {
        const v = parsed.verdict;
        const ok = v.correct === 'yes';
        return {
          value: ok ? 1 : 0,
          extracted: clip(v.extracted_final_answer, 2000),
          explanation: this.record({ grader: 'judge', judge_model: modelId, tries: k + 1, correct: v.correct, confidence: v.confidence, reasoning: clip(v.reasoning, 1000) }),
          status: 'ok',
        };
      }
      problem = `malformed judge reply: ${parsed.error}`;
      messages = [
        ...base,
        { role: 'assistant', content: clip(text, 4000) },
        { role: 'user', content: `Your reply could not be read (${parsed.error}). Reply again with only the JSON object described above.` },
      ];
    }
    return { value: null, extracted: null, explanation: this.record({ grader: 'judge', judge_model: modelId, error: problem }), status: 'grader_error' };
  }
}
