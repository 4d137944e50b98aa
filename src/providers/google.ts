/**
 * Google Gemini provider (`google:<model>`, e.g. `google:gemini-2.5-flash`), through the official SDK @google/genai.
 * Key from GOOGLE_API_KEY (GEMINI_API_KEY also works); GOOGLE_BASE_URL points the SDK at another endpoint
 * (`httpOptions.baseUrl`: a proxy, or the tests' local server). The SDK is loaded on the first call, so no other run
 * pays for it, and its own retries are off (it retries only when `retryOptions` is set; none is): the runner owns
 * retries, backoff and rate-limit handling.
 *
 * Settings (see `GOOGLE_CAPABILITIES`): temperature, top_p (`topP`), top_k (`topK`), max_tokens
 * (`maxOutputTokens`), seed, stop (`stopSequences`) and the system prompt (system messages become the
 * `systemInstruction`) are sent; `chat_template: false` cannot be (the API formats the conversation itself).
 * Messages: `assistant` turns are the API's `model` turns; text parts are `{text}` parts and image parts
 * `{inlineData: {mimeType, data: <base64>}}` parts, in order. Every Gemini model takes images.
 * The response's `modelVersion` is the reported model id; finish reasons map STOP → stop, MAX_TOKENS → length,
 * SAFETY / RECITATION / BLOCKLIST / PROHIBITED_CONTENT / SPII → content_filter; a prompt blocked before any
 * candidate (`promptFeedback.blockReason`) is an empty answer with finish reason content_filter.
 */
import type { GoogleGenAI } from '@google/genai';
import { InputError } from '../core/errors.ts';
import type { FinishReason } from '../core/schemas.ts';
import { mapParts } from './images.ts';
import { serverHeaders } from './identity.ts';
import { sendableConfig } from './settings.ts';
import { isRetryableStatus, ProviderError, type GenerateRequest, type GenerateResponse, type Provider, type ProviderCapabilities, type ProviderOptions } from './types.ts';

/** The SDK, loaded on the first call (only `google:` runs need it). */
let sdk: Promise<typeof import('@google/genai')> | null = null;
const loadSdk = () => (sdk ??= import('@google/genai'));

/** What `google:` sends of a generation config, and that it sends images. */
export const GOOGLE_CAPABILITIES: ProviderCapabilities = {
  remote: true,
  settings: {
    temperature: 'sent',
    top_p: 'sent',
    top_k: 'sent',
    max_tokens: 'sent',
    seed: 'sent',
    stop: 'sent',
    system_prompt: 'sent',
    chat_template: 'unsupported',
  },
  reasons: { chat_template: 'the Gemini API always formats the conversation itself; it takes no raw prompt' },
  images: 'sent',
};

/** Map a Gemini finish reason onto Assay's enum. */
export function mapGeminiFinishReason(r: string | null | undefined): FinishReason {
  switch (r) {
    case 'STOP':
      return 'stop';
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
      return 'content_filter';
    default:
      return 'unknown';
  }
}

/** One Gemini part as sent. */
type GeminiPart = { text: string } | { inlineData: { mimeType: string; data: string } };

class GoogleProvider implements Provider {
  readonly kind = 'google';
  readonly capabilities = GOOGLE_CAPABILITIES;
  private client: Promise<GoogleGenAI> | null = null;
  constructor(
    readonly address: string,
    readonly model: string,
    readonly baseUrl: string | null,
    private readonly apiKey: string,
  ) {}

  private sdkClient(): Promise<GoogleGenAI> {
    return (this.client ??= loadSdk().then(({ GoogleGenAI: G }) => new G({ apiKey: this.apiKey, ...(this.baseUrl ? { httpOptions: { baseUrl: this.baseUrl } } : {}) })));
  }

  async generate(req: GenerateRequest): Promise<GenerateResponse> {
    const c = sendableConfig(this, req.config);
    const mapped = await mapParts<GeminiPart>(req.messages, req, 'google', {
      text: (text) => ({ text }),
      image: (blob) => ({ inlineData: { mimeType: blob.mime_type, data: blob.bytes.toString('base64') } }),
    });
    const system = mapped.filter((m) => m.role === 'system').flatMap((m) => m.parts.map((p) => ('text' in p ? p.text : ''))).join('\n\n');
    const contents = mapped.filter((m) => m.role !== 'system').map((m) => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: m.parts }));
    const { ApiError } = await loadSdk();
    const client = await this.sdkClient();
    try {
      const res = await client.models.generateContent({
        model: this.model,
        contents,
        config: {
          abortSignal: req.signal,
          candidateCount: 1,
          ...(system ? { systemInstruction: system } : {}),
          ...(c.temperature !== undefined ? { temperature: c.temperature } : {}),
          ...(c.top_p !== undefined ? { topP: c.top_p } : {}),
          ...(c.top_k !== undefined ? { topK: c.top_k } : {}),
          ...(c.max_tokens !== undefined ? { maxOutputTokens: c.max_tokens } : {}),
          ...(c.seed !== undefined ? { seed: c.seed + req.epoch } : {}),
          ...(c.stop ? { stopSequences: c.stop } : {}),
        },
      });
      const cand = res.candidates?.[0];
      const text = (cand?.content?.parts ?? []).map((p) => (typeof p.text === 'string' && !p.thought ? p.text : '')).join('');
      const finish = cand ? mapGeminiFinishReason(cand.finishReason) : res.promptFeedback?.blockReason ? 'content_filter' : 'unknown';
      return {
        text,
        finish_reason: finish,
        model_id: res.modelVersion ?? null,
        prompt_tokens: res.usageMetadata?.promptTokenCount ?? null,
        completion_tokens: res.usageMetadata?.candidatesTokenCount ?? null,
        system_fingerprint: null,
        server: serverHeaders(res.sdkHttpResponse?.headers ?? null),
      };
    } catch (err) {
      if (req.signal.aborted) throw err;
      if (err instanceof ApiError) {
        const status = err.status ?? 0;
        throw new ProviderError(`Gemini ${status}: ${err.message.slice(0, 300)}`, { retryable: isRetryableStatus(status), rateLimited: status === 429, status });
      }
      throw new ProviderError(`Gemini call failed: ${(err as Error).message}`, { retryable: true });
    }
  }

  async close(): Promise<void> {}
}

/**
 * Create `google:<model>`.
 * @throws InputError without a model name or without GOOGLE_API_KEY (or GEMINI_API_KEY) in the environment
 */
export function createGoogleProvider(address: string, opts: ProviderOptions): Provider {
  const env = opts.env ?? process.env;
  const model = address.slice('google:'.length);
  if (!model) throw new InputError('google:<model> needs a model name, e.g. google:gemini-2.5-flash', { field: 'model' });
  const key = env.GOOGLE_API_KEY ?? env.GEMINI_API_KEY;
  if (!key) throw new InputError('google:<model> needs GOOGLE_API_KEY in the environment', { field: 'model' });
  return new GoogleProvider(address, model, env.GOOGLE_BASE_URL ?? null, key);
}
