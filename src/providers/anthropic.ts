/**
 * Anthropic Messages API provider (`anthropic:<model>`), through @anthropic-ai/sdk. Key from ANTHROPIC_API_KEY.
 * The SDK's own retries are disabled: the runner owns retries, backoff and rate-limit handling.
 */
import Anthropic from '@anthropic-ai/sdk';
import { InputError } from '../core/errors.ts';
import { mapFinishReason } from './openai-compatible.ts';
import { ProviderError, type GenerateRequest, type GenerateResponse, type Provider, type ProviderOptions } from './types.ts';

class AnthropicProvider implements Provider {
  readonly kind = 'anthropic';
  readonly capabilities = { remote: true, seed: false };
  private readonly client: Anthropic;
  constructor(
    readonly address: string,
    readonly model: string,
    readonly baseUrl: string | null,
    apiKey: string,
  ) {
    this.client = new Anthropic({ apiKey, maxRetries: 0, ...(baseUrl ? { baseURL: baseUrl } : {}) });
  }

  async generate(req: GenerateRequest): Promise<GenerateResponse> {
    const system = req.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
    const messages = req.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content }));
    const c = req.config;
    try {
      const res = await this.client.messages.create(
        {
          model: this.model,
          max_tokens: c.max_tokens ?? 4096,
          messages,
          ...(system ? { system } : {}),
          ...(c.temperature !== undefined ? { temperature: c.temperature } : {}),
          ...(c.top_p !== undefined ? { top_p: c.top_p } : {}),
          ...(c.top_k !== undefined ? { top_k: c.top_k } : {}),
          ...(c.stop ? { stop_sequences: c.stop } : {}),
        },
        { signal: req.signal },
      );
      const text = res.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      return { text, finish_reason: mapFinishReason(res.stop_reason), model_id: res.model, prompt_tokens: res.usage.input_tokens, completion_tokens: res.usage.output_tokens };
    } catch (err) {
      if (req.signal.aborted) throw err;
      if (err instanceof Anthropic.APIError) {
        const status = err.status ?? 0;
        const ra = err.headers?.get?.('retry-after');
        const retryAfterMs = ra && Number.isFinite(Number(ra)) ? Number(ra) * 1000 : undefined;
        throw new ProviderError(`Anthropic ${status}: ${err.message}`, { retryable: status === 0 || status === 429 || status >= 500, rateLimited: status === 429, retryAfterMs, status });
      }
      throw new ProviderError(`Anthropic call failed: ${(err as Error).message}`, { retryable: true });
    }
  }

  async close(): Promise<void> {}
}

/** Create `anthropic:<model>`. Errors: InputError without a model name or ANTHROPIC_API_KEY. */
export function createAnthropicProvider(address: string, opts: ProviderOptions): Provider {
  const env = opts.env ?? process.env;
  const model = address.slice('anthropic:'.length);
  if (!model) throw new InputError('anthropic:<model> needs a model name', { field: 'model' });
  const key = env.ANTHROPIC_API_KEY;
  if (!key) throw new InputError('anthropic:<model> needs ANTHROPIC_API_KEY in the environment', { field: 'model' });
  return new AnthropicProvider(address, model, env.ANTHROPIC_BASE_URL ?? null, key);
}
