/**
 * What every reference model shares: the answer function's shape, the seed mix and the probability parameter.
 */
import { InputError } from '../core/errors.ts';
import type { GenerateRequest, GenerateResponse } from './types.ts';

/** What a reference model says to one request. */
export type ReferenceAnswer = (req: GenerateRequest) => Pick<GenerateResponse, 'text' | 'finish_reason'>;

/** The generation seed mixed with the provider seed: reference models are reproducible per `--seed`. */
export function referenceSeed(req: GenerateRequest, seed: number): number {
  return (req.config.seed ?? 0) * 1_000_003 + seed;
}

/**
 * The name of a reference model's own random stream: its name and its resolved parameters in a fixed order
 * (`noisy?p=0.8`, `needle-noisy?limit=16000&p=0.95`). Every seeded decision hashes it together with the sample and
 * epoch, so two models that differ in any parameter decide independently (`noisy?p=0.8` and `noisy?p=0.6` are not
 * nested: one can be right where the other is wrong), while the same model under the same seeds decides the same
 * way (`noisy` and `noisy?p=0.7`, its default, are one model and one stream).
 */
export function referenceStream(name: string, params: Record<string, number> = {}): string {
  const keys = Object.keys(params).sort();
  return keys.length ? `${name}?${keys.map((k) => `${k}=${params[k]}`).join('&')}` : name;
}

/** Read probability parameter `p` (default `def`). Errors: InputError outside [0, 1]. */
export function probabilityParam(name: string, params: URLSearchParams, def: number): number {
  const p = params.has('p') ? Number(params.get('p')) : def;
  if (!(p >= 0 && p <= 1)) throw new InputError(`reference:${name} p must be in [0,1], got ${params.get('p')}`, { field: 'model' });
  return p;
}

