/**
 * Reference models: clearly labelled synthetic "models" for the offline quickstart and for tests.
 * They are never presented as real models: their reported model id starts with `reference/`.
 *
 * - `reference:oracle` answers every sample with its gold target (`The answer is \boxed{<target>}.`).
 * - `reference:noisy?p=0.7` is right with probability p per (sample, epoch), from a seeded hash of its own stream
 *   (name and parameters, so models with different p decide independently), otherwise it answers a wrong number;
 *   5% of its answers are cut short (finish reason `length`) so truncation shows up.
 * - `reference:silent` answers nothing extractable (tests the no-answer path).
 * - `reference:needle`, `reference:needle-noisy?p=…&limit=…`: needle-threading solvers (see reference-needle.ts).
 *
 * One provider class serves them all; each name contributes only its answer function and its parameters.
 */
import { hashUniform } from '../core/hash.ts';
import { InputError } from '../core/errors.ts';
import type { GenerateRequest, GenerateResponse, Provider, ProviderCapabilities, ProviderOptions } from './types.ts';
import { needleAnswerer } from './reference-needle.ts';
import { probabilityParam, referenceSeed, referenceStream, type ReferenceAnswer } from './reference-params.ts';

export { probabilityParam, referenceSeed, referenceStream, type ReferenceAnswer } from './reference-params.ts';

const SYNTHETIC = 'reference models are synthetic: their answers depend only on the sample, the epoch and the seed';

/**
 * What a reference model does with a generation config: it uses the seed (its answers are drawn from a hash of
 * it) and ignores every other setting, each listed by `unsentSettings` with the reason.
 */
export const REFERENCE_CAPABILITIES: ProviderCapabilities = {
  remote: false,
  settings: {
    temperature: 'ignored',
    top_p: 'ignored',
    top_k: 'ignored',
    max_tokens: 'ignored',
    seed: 'sent',
    stop: 'ignored',
    system_prompt: 'ignored',
    chat_template: 'ignored',
  },
  reasons: {
    temperature: SYNTHETIC,
    top_p: SYNTHETIC,
    top_k: SYNTHETIC,
    max_tokens: `${SYNTHETIC} (a noisy model's cut-short answers are its own, not max_tokens)`,
    stop: SYNTHETIC,
    system_prompt: SYNTHETIC,
    chat_template: SYNTHETIC,
  },
  images: 'ignored',
  imagesReason: 'reference models are synthetic: their answers never depend on an image',
};

class ReferenceProvider implements Provider {
  readonly kind = 'reference';
  readonly baseUrl = null;
  readonly capabilities = REFERENCE_CAPABILITIES;
  constructor(
    readonly address: string,
    readonly model: string,
    private readonly answer: ReferenceAnswer,
  ) {}

  async generate(req: GenerateRequest): Promise<GenerateResponse> {
    return { model_id: `reference/${this.model}`, prompt_tokens: null, completion_tokens: null, ...this.answer(req) };
  }

  async close(): Promise<void> {}
}

/** The arithmetic reference models: oracle, noisy (right with probability p), silent. */
function arithmeticAnswerer(name: string, p: number, seed: number): ReferenceAnswer {
  // Each model draws from its own stream (its name and parameters are in the hash key): with one shared stream,
  // noisy?p=0.6 would be right exactly on a subset of the attempts noisy?p=0.8 gets right.
  const stream = referenceStream(name, name === 'noisy' ? { p } : {});
  return (req) => {
    const target = req.sample.target;
    if (name === 'silent') return { text: 'I am not sure.', finish_reason: 'stop' };
    const genSeed = referenceSeed(req, seed);
    const key = `${stream}\u0000${req.sample.id}\u0000${req.epoch}`;
    const u = hashUniform(genSeed, key);
    if (name === 'noisy' && hashUniform(genSeed, `len\u0000${key}`) < 0.05) return { text: 'Let me work through this carefully. First, ', finish_reason: 'length' };
    if (name === 'oracle' || u < p) return { text: `Working it out step by step.\nThe answer is \\boxed{${target}}.`, finish_reason: 'stop' };
    const n = Number(target.replace(/,/g, ''));
    const wrong = Number.isFinite(n) ? String(n + 1 + Math.floor(u * 7)) : `${target} + 1`;
    return { text: `Working it out step by step.\nThe answer is \\boxed{${wrong}}.`, finish_reason: 'stop' };
  };
}

/** Parameters each reference model accepts (an exact model accepts none). */
const MODELS: Record<string, string[]> = { oracle: [], noisy: ['p'], silent: [], needle: [], 'needle-noisy': ['p', 'limit'] };
const EXAMPLES = 'oracle, noisy?p=0.7, silent, needle, needle-noisy?p=0.95&limit=16000';

/**
 * Parse `reference:<name>[?k=v&…]` strictly: every parameter must be one the model reads, given once, with a value,
 * so a typo (`prob=`), an empty `p=` (which Number() reads as 0) or parameters on an exact model never silently run
 * a different model. Errors: InputError naming the problem.
 */
export function parseReferenceAddress(address: string): { name: string; params: URLSearchParams } {
  const rest = address.slice('reference:'.length);
  const [name, query] = rest.split('?', 2) as [string, string | undefined];
  const known = MODELS[name];
  if (!known) throw new InputError(`unknown reference model "${name}"; known: ${EXAMPLES}`, { field: 'model' });
  const params = new URLSearchParams(query ?? '');
  for (const key of new Set(params.keys())) {
    if (!known.includes(key)) throw new InputError(`reference:${name} has no parameter "${key}"${known.length ? `; known: ${known.join(', ')}` : ' (it is exact)'}`, { field: 'model' });
    const values = params.getAll(key);
    if (values.length > 1) throw new InputError(`reference:${name} parameter "${key}" is given ${values.length} times`, { field: 'model' });
    if (values[0]!.trim() === '') throw new InputError(`reference:${name} parameter "${key}" has no value`, { field: 'model' });
  }
  return { name, params };
}

/**
 * Create a reference provider from its address (see the module comment).
 * Errors: InputError for an unknown name or a bad, unknown, repeated or empty parameter.
 */
export function createReferenceProvider(address: string, opts: ProviderOptions): Provider {
  const { name, params } = parseReferenceAddress(address);
  const seed = opts.seed ?? 0;
  const answer = name === 'needle' || name === 'needle-noisy' ? needleAnswerer(name, params, seed) : arithmeticAnswerer(name, name === 'noisy' ? probabilityParam(name, params, 0.7) : 1, seed);
  return new ReferenceProvider(address, name, answer);
}
