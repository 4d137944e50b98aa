/**
 * Scorer registry: scorers are created by name and options, and that spec is stored with a run so that old
 * runs can be re-scored (DESIGN.md §7). Every grading policy is a named option with a documented default;
 * a scorer's `options` hold *all* of them (defaults included), and land in the run spec and manifest
 * (`scorers[].options`).
 *
 * | name    | options (defaults)                                                                               |
 * |---------|--------------------------------------------------------------------------------------------------|
 * | `math`  | `relTol` 1e-6 (relative only), `percent` `'strip'` \| `'strict'` \| `'equivalent'` \| `'scaled'`, `units` `'strip'` \| `'keep'`, `sets` `'exact'` \| `'multiset'` \| `'ordered'`, `timeoutMs` 2000 |
 * | `gsm8k` | `relTol` 1e-6                                                                                    |
 * | `exact` | `ignoreCase` false                                                                               |
 * | `choice`| none                                                                                             |
 * | `needle`| `credit` `'exact'` \| `'partial'`, `ordered` false, `ignoreCase` false (needle threading, src/scorers/needle.ts) |
 * | `judge` | `model` (required: a model address), `temperature` 0, `max_tokens` 4096, `max_retries` 3, `timeout_ms` 120000, `multiple_choice` `'letter'` \| `'judge'`, `prompt` `'hle-v1'`, `prompt_sha256` (derived) |
 * | `grab`  | none (GRAB's exact match at the stated precision; charts, src/scorers/grab.ts)                  |
 * | `vqa`   | `answers` `'official'` \| `'normalize'`, `extract` `'response'` \| `'final'` (VQA accuracy, src/scorers/vqa.ts) |
 * | `bleu`  | `tokenize` `'coco'` \| `'13a'` \| `'none'`, `smoothing` `'exp'` \| `'floor'` \| `'add-k'` \| `'none'`, `smooth_value` (sentence BLEU-4, src/scorers/caption.ts) |
 * | `cider_d` | `tokenize` `'coco'` \| `'13a'` \| `'none'`, `sigma` 6 (CIDEr-D with the dataset's document frequencies, src/scorers/caption.ts) |
 * | `acc`, `greedy_match`, `loglikelihood`, `bits_per_byte`, `nll_per_token` | none (log-likelihood attempts, src/scorers/loglikelihood.ts) |
 * | `acc_norm` | `length` `'chars'` (lm-eval's) \| `'bytes'` |
 *
 * **Scorer specs.** A scorer can be named with its options inline, `name?key=value&key=value`
 * (e.g. `math?percent=scaled&relTol=0.0001`, `judge?model=openai-compatible:http://127.0.0.1:8000/v1#judge`).
 * Values are parsed as numbers and booleans when they look like them; `%26` (`&`), `%3D` (`=`) and `%25` (`%`)
 * escape the separators. The created scorer's `name` is its **label**: the registry name, plus the options
 * that differ from the defaults as a canonical (sorted) query string, so `math` and `math?percent=scaled` are
 * two graders whose measurements are stored and compared side by side in one run.
 */
import { z } from 'zod';
import { InputError } from '../core/errors.ts';
import { encodeSpecValue, parseSpec } from '../core/spec.ts';
import type { Scorer } from './types.ts';
import { Gsm8kScorer, MATH_DEFAULTS, MathScorer } from './math.ts';
import { ChoiceScorer, ExactScorer } from './simple.ts';
import { NEEDLE_DEFAULTS, NeedleScorer } from './needle.ts';
import { JUDGE_DEFAULTS, JudgeScorer, judgePromptSha256 } from './judge.ts';
import { LoglikelihoodScorer } from './loglikelihood.ts';
import { GrabScorer } from './grab.ts';
import { VQA_DEFAULTS, VqaScorer } from './vqa.ts';
import { BLEU_DEFAULTS, BleuScorer, CAPTION_TOKENIZERS, CIDER_DEFAULTS, CiderDScorer } from './caption.ts';

const relTol = z.number().positive().max(0.1);

interface Spec {
  /** The module that registers this scorer (user scorers that asked to be graded off the main thread). */
  module?: string;
  schema: z.ZodType<Record<string, unknown>>;
  /** Defaults of every option (what an omitted option means); used to build labels. */
  defaults: () => Record<string, unknown>;
  make: (o: Record<string, unknown>) => Scorer;
}

const SPECS: Record<string, Spec> = {
  math: {
    schema: z.strictObject({
      relTol: relTol.optional(),
      percent: z.enum(['strip', 'strict', 'equivalent', 'scaled']).optional(),
      units: z.enum(['strip', 'keep']).optional(),
      sets: z.enum(['exact', 'multiset', 'ordered']).optional(),
      timeoutMs: z.number().int().positive().max(600_000).optional(),
    }),
    defaults: () => ({ ...MATH_DEFAULTS }),
    make: (o) => new MathScorer(o),
  },
  gsm8k: {
    schema: z.strictObject({ relTol: relTol.optional() }),
    defaults: () => ({ relTol: 1e-6 }),
    make: (o) => new Gsm8kScorer(o),
  },
  exact: {
    schema: z.strictObject({ ignoreCase: z.boolean().optional() }),
    defaults: () => ({ ignoreCase: false }),
    make: (o) => new ExactScorer({ ignoreCase: (o.ignoreCase as boolean | undefined) ?? false }),
  },
  choice: {
    schema: z.strictObject({}),
    defaults: () => ({}),
    make: () => new ChoiceScorer(),
  },
  needle: {
    schema: z.strictObject({ credit: z.enum(['exact', 'partial']).optional(), ordered: z.boolean().optional(), ignoreCase: z.boolean().optional() }),
    defaults: () => ({ ...NEEDLE_DEFAULTS }),
    make: (o) => new NeedleScorer(o),
  },
  judge: {
    schema: z.strictObject({
      model: z
        .string({ error: "required: the judge model's address, e.g. --scorer 'judge?model=openai:gpt-4o-mini'" })
        .refine((s) => /^[a-z-]+:./.test(s), 'must be a model address such as openai:gpt-4o-mini'),
      temperature: z.number().min(0).max(2).optional(),
      max_tokens: z.number().int().positive().max(1_000_000).optional(),
      max_retries: z.number().int().min(0).max(20).optional(),
      timeout_ms: z.number().int().positive().max(3_600_000).optional(),
      multiple_choice: z.enum(['letter', 'judge']).optional(),
      prompt: z.enum(['hle-v1']).optional(),
      prompt_sha256: z.string().optional(),
    }),
    defaults: () => ({ ...JUDGE_DEFAULTS, prompt_sha256: judgePromptSha256(JUDGE_DEFAULTS.prompt) }),
    make: (o) => new JudgeScorer(o as ConstructorParameters<typeof JudgeScorer>[0]),
  },
  grab: { schema: z.strictObject({}), defaults: () => ({}), make: () => new GrabScorer() },
  vqa: {
    schema: z.strictObject({ answers: z.enum(['official', 'normalize']).optional(), extract: z.enum(['response', 'final']).optional() }),
    defaults: () => ({ ...VQA_DEFAULTS }),
    make: (o) => new VqaScorer(o),
  },
  bleu: {
    schema: z.strictObject({ tokenize: z.enum(CAPTION_TOKENIZERS).optional(), smoothing: z.enum(['exp', 'floor', 'add-k', 'none']).optional(), smooth_value: z.number().positive().max(100).optional() }),
    defaults: () => ({ ...BLEU_DEFAULTS }),
    make: (o) => new BleuScorer(o),
  },
  cider_d: {
    schema: z.strictObject({ tokenize: z.enum(CAPTION_TOKENIZERS).optional(), sigma: z.number().positive().max(1000).optional() }),
    defaults: () => ({ ...CIDER_DEFAULTS }),
    make: (o) => new CiderDScorer(o),
  },
  acc: { schema: z.strictObject({}), defaults: () => ({}), make: () => new LoglikelihoodScorer('acc') },
  acc_norm: {
    schema: z.strictObject({ length: z.enum(['chars', 'bytes']).optional() }),
    defaults: () => ({ length: 'chars' }),
    make: (o) => new LoglikelihoodScorer('acc_norm', { length: o.length as 'chars' | 'bytes' | undefined }),
  },
  greedy_match: { schema: z.strictObject({}), defaults: () => ({}), make: () => new LoglikelihoodScorer('greedy_match') },
  loglikelihood: { schema: z.strictObject({}), defaults: () => ({}), make: () => new LoglikelihoodScorer('loglikelihood') },
  bits_per_byte: { schema: z.strictObject({}), defaults: () => ({}), make: () => new LoglikelihoodScorer('bits_per_byte') },
  nll_per_token: { schema: z.strictObject({}), defaults: () => ({}), make: () => new LoglikelihoodScorer('nll_per_token') },
};

/**
 * The built-in scorers that read only text (sample target, choices, metadata and the response) and can be rebuilt
 * from their label in another thread: the runner grades them in a worker (src/runner/grading-pool.ts) so that a
 * verdict that hangs cannot block the process. Captured before any user registration: a replaced built-in is not one.
 */
const OFF_THREAD_SPECS = new Set<Spec>(['math', 'gsm8k', 'exact', 'choice', 'needle', 'grab', 'vqa', 'bleu'].map((n) => SPECS[n]!));
const offThread = new WeakMap<Scorer, { label: string; module?: string }>();

/**
 * How to rebuild `scorer` in a grading worker: its label (`createScorer(label)` gives the same rules) and, for a user
 * scorer registered with `module`, the module that registers it there. Null for scorers graded in the calling
 * thread: the judge (it waits on HTTP), user scorers registered without `module`, objects not made by
 * {@link createScorer}.
 */
export function offThreadSpec(scorer: Scorer): { label: string; module?: string } | null {
  return offThread.get(scorer) ?? null;
}

/**
 * Register a scorer under `name` (user scorers: a task can then name it, `assay score --scorer <name>` can use it, and
 * a stored run's spec rebuilds it). `schema` validates the options, `make` builds the scorer, `defaults` lists what
 * an omitted option means (used for the label: options equal to their default are left out of it). `module`: the URL
 * of the module that makes this registration (`import.meta.url`), for a synchronous, text-only scorer (it reads the
 * sample's target, choices and metadata and the response, never the input or the state): the runner then grades it
 * in a worker thread that imports that module, under a hard time limit, instead of in the calling thread.
 * Errors: Error when the name is taken (unless `replace`) or malformed.
 */
export function registerScorer(
  name: string,
  schema: z.ZodType<Record<string, unknown>>,
  make: (options: Record<string, unknown>) => Scorer,
  opts: { defaults?: () => Record<string, unknown>; replace?: boolean; module?: string } = {},
): void {
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new Error(`invalid scorer name "${name}": use letters, digits, '.', '_' and '-'`);
  if (Object.prototype.hasOwnProperty.call(SPECS, name) && !opts.replace) throw new Error(`a scorer named "${name}" is already registered (pass { replace: true } to replace it)`);
  SPECS[name] = { schema, defaults: opts.defaults ?? (() => ({})), make, ...(opts.module ? { module: opts.module } : {}) };
}

/** The names of all registered scorers, sorted. */
export function scorerNames(): string[] {
  return Object.keys(SPECS).sort();
}

/**
 * Split a scorer spec `name?k=v&k=v` into its registry name and options (see core/spec.ts).
 * @throws InputError for an empty key or a repeated key (the message names it)
 */
export function parseScorerSpec(spec: string): { name: string; options: Record<string, unknown> } {
  return parseSpec(spec);
}

/**
 * The label of a scorer: its registry name plus, as a sorted query string, the given options that differ from
 * the defaults (`math`, `math?percent=scaled&relTol=0.0001`). Equal labels mean equal grading rules.
 */
export function scorerLabel(name: string, given: Record<string, unknown>, defaults: Record<string, unknown>): string {
  const keys = Object.keys(given)
    .filter((k) => given[k] !== undefined && given[k] !== defaults[k])
    .sort();
  if (keys.length === 0) return name;
  return `${name}?${keys.map((k) => `${k}=${encodeSpecValue(given[k])}`).join('&')}`;
}

/** A scorer under another name (its label); everything else delegates. */
function relabel(s: Scorer, label: string): Scorer {
  if (s.name === label) return s;
  return {
    name: label,
    kind: s.kind,
    ...(s.metric ? { metric: s.metric } : {}),
    options: s.options,
    score: (sample, response, state) => s.score(sample, response, state),
    ...(s.prepare ? { prepare: (samples: Parameters<NonNullable<Scorer['prepare']>>[0]) => s.prepare!(samples) } : {}),
    ...(s.close ? { close: () => s.close!() } : {}),
    ...(s.report ? { report: () => s.report!() } : {}),
  };
}

/**
 * Create a scorer by registry name or spec (see the module comment).
 * @param spec a name from {@link scorerNames}, optionally with inline options `name?k=v&…`
 * @param options further options (validated together with the inline ones; unknown keys are rejected; an
 *   inline option and an `options` entry for the same key must agree)
 * @returns the scorer; its `name` is the label ({@link scorerLabel}), its `options` hold every policy with defaults filled in
 * @throws InputError for an unknown name (the message lists the known names) or invalid options (the message says which)
 */
export function createScorer(spec: string, options: Record<string, unknown> = {}): Scorer {
  const { name, options: inline } = parseScorerSpec(spec);
  if (!Object.prototype.hasOwnProperty.call(SPECS, name)) {
    throw new InputError(`unknown scorer "${name}"; known scorers: ${scorerNames().join(', ')}`);
  }
  for (const [k, v] of Object.entries(inline)) {
    if (k in (options ?? {}) && options[k] !== v) throw new InputError(`invalid options for scorer "${name}": ${k} given as ${String(v)} and ${String(options[k])}`);
  }
  const s = SPECS[name]!;
  const given = { ...(options ?? {}), ...inline };
  const parsed = s.schema.safeParse(given);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
    throw new InputError(`invalid options for scorer "${name}": ${issues}`);
  }
  let scorer: Scorer;
  try {
    scorer = s.make(parsed.data);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  const out = relabel(scorer, scorerLabel(name, parsed.data, { ...s.defaults(), ...defaultsFromScorer(scorer) }));
  if (OFF_THREAD_SPECS.has(s)) offThread.set(out, { label: out.name });
  else if (s.module) offThread.set(out, { label: out.name, module: s.module });
  return out;
}

/** Derived options (e.g. the judge's prompt hash) count as defaults when they equal what the scorer computed. */
function defaultsFromScorer(s: Scorer): Record<string, unknown> {
  return s.name === 'judge' ? { prompt_sha256: s.options.prompt_sha256 } : {};
}
