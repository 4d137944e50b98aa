/**
 * Reference models: clearly labelled synthetic "models" for the offline quickstart and for tests.
 * They are never presented as real models: their reported model id starts with `reference/`.
 *
 * - `reference:oracle` answers every sample with its gold target (`The answer is \boxed{<target>}.`).
 * - `reference:noisy?p=0.7` is right with probability p per (sample, epoch), from a seeded hash, otherwise it
 *   answers a wrong number; 5% of its answers are cut short (finish reason `length`) so truncation shows up.
 * - `reference:silent` answers nothing extractable (tests the no-answer path).
 * - `reference:needle`, `reference:needle-noisy?p=…&limit=…`: needle-threading solvers (see reference-needle.ts).
 */
import { createHash } from 'node:crypto';
import { InputError } from '../core/errors.ts';
import type { GenerateRequest, GenerateResponse, Provider, ProviderOptions } from './types.ts';
import { createNeedleReferenceProvider } from './reference-needle.ts';

/** A uniform number in [0,1) from a seed and a key: deterministic, platform-independent. */
export function seededUniform(seed: number, key: string): number {
  const h = createHash('sha256').update(`${seed}\u0000${key}`).digest();
  return h.readUInt32BE(0) / 2 ** 32;
}

class ReferenceProvider implements Provider {
  readonly kind = 'reference';
  readonly baseUrl = null;
  readonly capabilities = { remote: false, seed: true };
  constructor(
    readonly address: string,
    readonly model: string,
    private readonly p: number,
    private readonly seed: number,
  ) {}

  async generate(req: GenerateRequest): Promise<GenerateResponse> {
    const target = req.sample.target;
    const modelId = `reference/${this.model}`;
    const base = { model_id: modelId, prompt_tokens: null, completion_tokens: null };
    if (this.model === 'silent') return { ...base, text: 'I am not sure.', finish_reason: 'stop' };
    const genSeed = (req.config.seed ?? 0) * 1_000_003 + this.seed;
    const u = seededUniform(genSeed, `${req.sample.id}\u0000${req.epoch}`);
    if (this.model === 'noisy' && seededUniform(genSeed, `len\u0000${req.sample.id}\u0000${req.epoch}`) < 0.05) {
      return { ...base, text: 'Let me work through this carefully. First, ', finish_reason: 'length' };
    }
    if (this.model === 'oracle' || u < this.p) {
      return { ...base, text: `Working it out step by step.\nThe answer is \\boxed{${target}}.`, finish_reason: 'stop' };
    }
    const n = Number(target.replace(/,/g, ''));
    const wrong = Number.isFinite(n) ? String(n + 1 + Math.floor(u * 7)) : `${target} + 1`;
    return { ...base, text: `Working it out step by step.\nThe answer is \\boxed{${wrong}}.`, finish_reason: 'stop' };
  }

  async close(): Promise<void> {}
}

/**
 * Create a reference provider from `reference:<name>[?p=<0..1>]`.
 * Errors: InputError for an unknown name or p outside [0,1].
 */
export function createReferenceProvider(address: string, opts: ProviderOptions): Provider {
  const rest = address.slice('reference:'.length);
  const [name, query] = rest.split('?', 2) as [string, string | undefined];
  if (name === 'needle' || name === 'needle-noisy') return createNeedleReferenceProvider(address, opts); // needle threading (reference-needle.ts)
  if (!['oracle', 'noisy', 'silent'].includes(name)) throw new InputError(`unknown reference model "${name}"; known: oracle, noisy?p=0.7, silent`, { field: 'model' });
  const params = new URLSearchParams(query ?? '');
  const p = params.has('p') ? Number(params.get('p')) : 0.7;
  if (!(p >= 0 && p <= 1)) throw new InputError(`reference:${name} p must be in [0,1], got ${params.get('p')}`, { field: 'model' });
  return new ReferenceProvider(address, name, name === 'oracle' ? 1 : p, opts.seed ?? 0);
}
