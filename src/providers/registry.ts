/**
 * Provider registry: a model address `<kind>:<rest>` is resolved to a provider by its kind
 * (DESIGN.md §7: providers are looked up by name; the address is stored with the run).
 */
import { InputError } from '../core/errors.ts';
import { createAnthropicProvider } from './anthropic.ts';
import { createOpenAICompatibleProvider } from './openai-compatible.ts';
import { createReferenceProvider } from './reference.ts';
import { createReplayProvider } from './replay.ts';
import type { Provider, ProviderOptions } from './types.ts';

/** Builds a provider from its address. */
export type ProviderFactory = (address: string, opts: ProviderOptions) => Provider | Promise<Provider>;
type Factory = ProviderFactory;

const FACTORIES: Record<string, Factory> = {
  'openai-compatible': createOpenAICompatibleProvider,
  openai: createOpenAICompatibleProvider,
  anthropic: createAnthropicProvider,
  replay: (address) => createReplayProvider(address),
  reference: createReferenceProvider,
  // Loaded on first use (its SDK too, at its first call): only `google:` runs pay for them.
  google: async (address, opts) => (await import('./google.ts')).createGoogleProvider(address, opts),
  // Loaded on first use: node-llama-cpp and its native binary cost seconds to start, and only local models need them.
  'llama-cpp': async (address, opts) => (await import('./llama-cpp.ts')).createLlamaCppProvider(address, opts),
};

/**
 * Register a provider kind: addresses `<kind>:<rest>` are then built by `factory(address, options)`. Users add their
 * own backends this way (a local server with its own API, an in-process model). Errors: Error when the kind is taken
 * (unless `replace`) or is not lower-case letters, digits and '-'.
 */
export function registerProvider(kind: string, factory: Factory, opts: { replace?: boolean } = {}): void {
  if (!/^[a-z][a-z0-9-]*$/.test(kind)) throw new Error(`invalid provider kind "${kind}": lower-case letters, digits and '-'`);
  if (Object.prototype.hasOwnProperty.call(FACTORIES, kind) && !opts.replace) throw new Error(`a provider kind "${kind}" is already registered (pass { replace: true } to replace it)`);
  FACTORIES[kind] = factory;
}

/** Kinds of provider known to this build. */
export function providerKinds(): string[] {
  return Object.keys(FACTORIES);
}

/**
 * Create the provider for a model address. Errors: InputError for an unknown kind or malformed address.
 */
export async function createProvider(address: string, opts: ProviderOptions): Promise<Provider> {
  const colon = address.indexOf(':');
  const kind = colon < 0 ? '' : address.slice(0, colon);
  const factory = FACTORIES[kind];
  if (!factory) throw new InputError(`unknown model address "${address}"; registered kinds: ${providerKinds().map((k) => k + ':…').join(', ')}`, { field: 'model' });
  return factory(address, opts);
}
