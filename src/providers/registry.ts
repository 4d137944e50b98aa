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

type Factory = (address: string, opts: ProviderOptions) => Provider | Promise<Provider>;

const FACTORIES: Record<string, Factory> = {
  'openai-compatible': createOpenAICompatibleProvider,
  openai: createOpenAICompatibleProvider,
  anthropic: createAnthropicProvider,
  replay: (address) => createReplayProvider(address),
  reference: createReferenceProvider,
};

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
  if (!factory) throw new InputError(`unknown model address "${address}"; expected one of ${providerKinds().map((k) => k + ':…').join(', ')}`, { field: 'model' });
  return factory(address, opts);
}
