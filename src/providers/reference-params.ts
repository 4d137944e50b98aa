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

/** Read probability parameter `p` (default `def`). Errors: InputError outside [0, 1]. */
export function probabilityParam(name: string, params: URLSearchParams, def: number): number {
  const p = params.has('p') ? Number(params.get('p')) : def;
  if (!(p >= 0 && p <= 1)) throw new InputError(`reference:${name} p must be in [0,1], got ${params.get('p')}`, { field: 'model' });
  return p;
}

