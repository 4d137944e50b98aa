/**
 * Anthropic Messages API provider (`anthropic:<model>`), through @anthropic-ai/sdk. Key from ANTHROPIC_API_KEY.
 * The SDK's own retries are disabled: the runner owns retries, backoff and rate-limit handling.
 *
 * Settings (see `ANTHROPIC_CAPABILITIES`): temperature, top_p, top_k, max_tokens (4096 when the config sets none:
 * the API requires it), stop (as `stop_sequences`) and the system prompt (split out of the messages into `system`)
 * are sent; `seed` never is (the Messages API has none). Current Claude models reject temperature and top_p in one
 * request, so when both are given only temperature is sent. Some newer models reject any non-default sampling
 * setting; the API says so with an HTTP 400, which fails the call with that message. Message content given as a
 * list of text parts is sent as its text; a turn with image parts is sent as content blocks, each image as a base64
 * `image` source block (Claude 3 and later; older models are refused up front, see providers/images.ts). The response's model id and identity headers are kept; Anthropic reports
 * no system fingerprint.
 */
import type Anthropic from '@anthropic-ai/sdk';

/** The SDK, loaded on the first call (it is large: loading it only for `anthropic:` runs keeps every other process small). */
let sdk: Promise<typeof import('@anthropic-ai/sdk')> | null = null;
const loadSdk = () => (sdk ??= import('@anthropic-ai/sdk'));
import { hasImageParts, messageText, type Message } from '../core/schemas.ts';
import { anthropicImageSupport, mapParts } from './images.ts';
import { InputError } from '../core/errors.ts';
import { serverHeaders } from './identity.ts';
import { mapFinishReason } from './openai-compatible.ts';
import { sendableConfig } from './settings.ts';
import { isRetryableStatus, ProviderError, type GenerateRequest, type GenerateResponse, type Provider, type ProviderCapabilities, type ProviderOptions } from './types.ts';

/** What `anthropic:` sends of a generation config (see the module comment). */
export const ANTHROPIC_CAPABILITIES: ProviderCapabilities = {
  remote: true,
  settings: {
    temperature: 'sent',
    top_p: 'sent',
    top_k: 'sent',
    max_tokens: 'sent',
    seed: 'unsupported',
    stop: 'sent',
    system_prompt: 'sent',
    chat_template: 'unsupported',
  },
  reasons: {
    seed: 'the Anthropic Messages API has no seed parameter',
    chat_template: 'the Messages API always formats the conversation itself; it takes no raw prompt',
  },
  conflicts: [
    {
      keep: 'temperature',
      drop: 'top_p',
      reason: 'current Claude models reject temperature and top_p in one request (HTTP 400), so only temperature is sent',
    },
  ],
};

/** One Anthropic content block as sent: text, or a base64 image source. */
type AnthropicBlock = { type: 'text'; text: string } | { type: 'image'; source: { type: 'base64'; media_type: 'image/png' | 'image/jpeg' | 'image/webp'; data: string } };

/**
 * User and assistant turns with image parts in the Messages API's format: a turn with an image is a list of content
 * blocks in order (`{type: 'text'}` and `{type: 'image', source: {type: 'base64', media_type, data}}`); other turns are
 * sent as their text. Errors: ProviderError (not retryable) when an image cannot be read.
 */
export async function anthropicMessages(turns: readonly Message[], req: Pick<GenerateRequest, 'images'>): Promise<{ role: 'user' | 'assistant'; content: string | AnthropicBlock[] }[]> {
  const mapped = await mapParts<AnthropicBlock>(turns, req, 'anthropic', {
    text: (text) => ({ type: 'text', text }),
    image: (blob) => ({ type: 'image', source: { type: 'base64', media_type: blob.mime_type, data: blob.bytes.toString('base64') } }),
  });
  return mapped.map((m, i) => ({ role: m.role as 'user' | 'assistant', content: hasImageParts([turns[i]!]) ? m.parts : messageText(turns[i]!) }));
}

class AnthropicProvider implements Provider {
  readonly kind = 'anthropic';
  readonly capabilities: ProviderCapabilities;
  private client: Promise<Anthropic> | null = null;
  constructor(
    readonly address: string,
    readonly model: string,
    readonly baseUrl: string | null,
    private readonly apiKey: string,
  ) {
    this.capabilities = { ...ANTHROPIC_CAPABILITIES, ...anthropicImageSupport(model) };
  }

  private sdkClient(): Promise<Anthropic> {
    return (this.client ??= loadSdk().then(({ default: A }) => new A({ apiKey: this.apiKey, maxRetries: 0, ...(this.baseUrl ? { baseURL: this.baseUrl } : {}) })));
  }

  async generate(req: GenerateRequest): Promise<GenerateResponse> {
    const system = req.messages.filter((m) => m.role === 'system').map((m) => messageText(m)).join('\n\n');
    const turns = req.messages.filter((m) => m.role !== 'system');
    const messages = hasImageParts(turns) ? await anthropicMessages(turns, req) : turns.map((m) => ({ role: m.role as 'user' | 'assistant', content: messageText(m) }));
    const c = sendableConfig(this, req.config);
    const { default: A } = await loadSdk();
    const client = await this.sdkClient();
    try {
      const { data: res, response } = await client.messages.create(
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
      ).withResponse();
      const text = res.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      return {
        text,
        finish_reason: mapFinishReason(res.stop_reason),
        model_id: res.model,
        prompt_tokens: res.usage.input_tokens,
        completion_tokens: res.usage.output_tokens,
        system_fingerprint: null,
        server: serverHeaders(response.headers),
      };
    } catch (err) {
      if (req.signal.aborted) throw err;
      if (err instanceof A.APIError) {
        const status = err.status ?? 0;
        const ra = err.headers?.get?.('retry-after');
        const retryAfterMs = ra && Number.isFinite(Number(ra)) ? Number(ra) * 1000 : undefined;
        throw new ProviderError(`Anthropic ${status}: ${err.message}`, { retryable: isRetryableStatus(status), rateLimited: status === 429, retryAfterMs, status });
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
