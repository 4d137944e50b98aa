/**
 * OpenAI-compatible chat completions provider: OpenAI itself, vLLM, SGLang, llama.cpp server, Ollama.
 * Addresses: `openai-compatible:<base-url>#<model>` and `openai:<model>` (base https://api.openai.com/v1,
 * key from OPENAI_API_KEY). This is the hot path, so the transport is undici `request` with one keep-alive
 * Agent sized to the concurrency (DESIGN.md §4: ≈3,300 req/s on loopback), and responses are validated with zod.
 * Streaming (SSE) is used when `stream=1` is given in the address query (`…/v1?stream=1#model`) or `stream: true`.
 *
 * Settings (see `openAISettings`): `openai:` sends temperature, top_p, max_tokens, seed and stop, never top_k
 * (OpenAI's chat completions have no such parameter); `openai-compatible:` also sends top_k, which vLLM, SGLang
 * and llama.cpp's server accept. Neither can turn the server's chat template off. Messages whose content is a list
 * of parts are sent with their text (`messageText`), so every server sees the same prompt text Assay records.
 * Each response also yields the server's `system_fingerprint` (JSON body or SSE chunks) and identity headers.
 */
import { Agent, request } from 'undici';
import { z } from 'zod';
import { messageText, type FinishReason, type Message } from '../core/schemas.ts';
import { InputError } from '../core/errors.ts';
import { serverHeaders } from './identity.ts';
import { sendableConfig } from './settings.ts';
import { ProviderError, type GenerateRequest, type GenerateResponse, type Provider, type ProviderCapabilities, type ProviderOptions } from './types.ts';

const ChatResponseSchema = z.object({
  model: z.string().optional(),
  system_fingerprint: z.string().nullable().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable().optional(), reasoning_content: z.string().nullable().optional() }).optional(),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional() }).nullable().optional(),
});

const ChunkSchema = z.object({
  model: z.string().optional(),
  system_fingerprint: z.string().nullable().optional(),
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullable().optional() }).optional(), finish_reason: z.string().nullable().optional() })).optional(),
  usage: z.object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional() }).nullable().optional(),
});

/** Map a server's finish reason onto Assay's enum (`length` = truncated by max_tokens). */
export function mapFinishReason(r: string | null | undefined): FinishReason {
  switch (r) {
    case 'stop':
    case 'eos':
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'length':
    case 'max_tokens':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      return 'unknown';
  }
}

/** Parse a Retry-After header (seconds or HTTP date) or retry-after-ms into milliseconds. */
export function parseRetryAfter(headers: Record<string, string | string[] | undefined>): number | undefined {
  const ms = headers['retry-after-ms'];
  if (typeof ms === 'string' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers['retry-after'];
  if (typeof ra !== 'string') return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/**
 * The capabilities of an `openai:` (kind `openai`) or `openai-compatible:` provider. Both send temperature, top_p,
 * max_tokens, seed (OpenAI: best effort, watch `system_fingerprint`), stop and the system prompt (as a system
 * message). `top_k` is sent only to `openai-compatible:` servers (vLLM, SGLang and llama.cpp take it; a server that
 * does not know it may ignore it): OpenAI's chat completions API has no top_k. `chat_template: false` cannot be
 * honoured: chat completions always apply the server's chat template.
 */
export function openAISettings(kind: string): ProviderCapabilities {
  const isOpenAI = kind === 'openai';
  return {
    remote: true,
    settings: {
      temperature: 'sent',
      top_p: 'sent',
      top_k: isOpenAI ? 'unsupported' : 'sent',
      max_tokens: 'sent',
      seed: 'sent',
      stop: 'sent',
      system_prompt: 'sent',
      chat_template: 'unsupported',
    },
    reasons: {
      ...(isOpenAI ? { top_k: "OpenAI's chat completions API has no top_k parameter" } : {}),
      chat_template: "chat completions always apply the server's chat template; a prompt without it needs a completions endpoint",
    },
  };
}

/** Messages as sent: content given as a list of (text) parts is sent as its text, so every server sees one string. */
export function chatMessages(messages: readonly Message[]): { role: Message['role']; content: string }[] | readonly Message[] {
  let flat = true;
  for (const m of messages) if (typeof m.content !== 'string') flat = false;
  if (flat) return messages;
  return messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : messageText(m) }));
}

export interface OpenAICompatibleOptions extends ProviderOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  stream?: boolean;
  kind?: string;
  address: string;
}

/** Parse `openai-compatible:<base-url>#<model>` / `openai:<model>`; InputError on malformed addresses. */
export function parseOpenAIAddress(address: string, env: Record<string, string | undefined>): { baseUrl: string; model: string; apiKey?: string; stream: boolean; kind: string } {
  if (address.startsWith('openai:')) {
    const model = address.slice('openai:'.length);
    if (!model) throw new InputError('openai:<model> needs a model name, e.g. openai:gpt-4o-mini', { field: 'model' });
    return { baseUrl: env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1', model, apiKey: env.OPENAI_API_KEY, stream: false, kind: 'openai' };
  }
  const rest = address.slice('openai-compatible:'.length);
  const hash = rest.lastIndexOf('#');
  if (hash < 0) throw new InputError(`model address "${address}" needs #<model>, e.g. openai-compatible:http://127.0.0.1:8000/v1#my-model`, { field: 'model' });
  let url: URL;
  try {
    url = new URL(rest.slice(0, hash));
  } catch {
    throw new InputError(`"${rest.slice(0, hash)}" is not a URL`, { field: 'model' });
  }
  const stream = url.searchParams.get('stream') === '1' || url.searchParams.get('stream') === 'true';
  url.searchParams.delete('stream');
  const model = rest.slice(hash + 1);
  if (!model) throw new InputError(`model address "${address}" has an empty model name after #`, { field: 'model' });
  return { baseUrl: url.toString().replace(/\/$/, ''), model, apiKey: env.OPENAI_API_KEY ?? env.ASSAY_API_KEY, stream, kind: 'openai-compatible' };
}

class OpenAICompatibleProvider implements Provider {
  readonly kind: string;
  readonly baseUrl: string;
  readonly model: string;
  readonly address: string;
  readonly capabilities: ProviderCapabilities;
  private readonly agent: Agent;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly stream: boolean;

  constructor(opts: OpenAICompatibleOptions) {
    this.kind = opts.kind ?? 'openai-compatible';
    this.capabilities = openAISettings(this.kind);
    this.address = opts.address;
    this.baseUrl = opts.baseUrl;
    this.model = opts.model;
    this.stream = opts.stream ?? false;
    this.url = `${opts.baseUrl}/chat/completions`;
    this.agent = new Agent({ connections: Math.max(1, opts.concurrency), pipelining: 1, keepAliveTimeout: 30_000 });
    this.headers = { 'content-type': 'application/json', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) };
  }

  async generate(req: GenerateRequest): Promise<GenerateResponse> {
    const c = sendableConfig(this, req.config);
    const body = JSON.stringify({
      model: this.model,
      messages: chatMessages(req.messages),
      temperature: c.temperature,
      top_p: c.top_p,
      top_k: c.top_k,
      max_tokens: c.max_tokens,
      seed: c.seed === undefined ? undefined : c.seed + req.epoch,
      stop: c.stop,
      ...(this.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    });
    let res;
    try {
      res = await request(this.url, { method: 'POST', body, headers: this.headers, dispatcher: this.agent, signal: req.signal });
    } catch (err) {
      if (req.signal.aborted) throw err;
      throw new ProviderError(`connection failed: ${(err as Error).message}`, { retryable: true });
    }
    const status = res.statusCode;
    if (status !== 200) {
      const text = await res.body.text().catch(() => '');
      const retryAfterMs = parseRetryAfter(res.headers);
      const retryable = status === 429 || status === 408 || status === 409 || status >= 500;
      throw new ProviderError(`HTTP ${status}: ${text.slice(0, 300)}`, { retryable, retryAfterMs, rateLimited: status === 429, status });
    }
    const server = serverHeaders(res.headers);
    if (this.stream) return this.readStream(res.body, server);
    let raw: unknown;
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      if (req.signal.aborted) throw err;
      throw new ProviderError(`response body interrupted: ${(err as Error).message}`, { retryable: true });
    }
    try {
      raw = JSON.parse(text);
    } catch {
      throw new ProviderError(`malformed JSON from server: ${text.slice(0, 200)}`, { retryable: true });
    }
    const parsed = ChatResponseSchema.safeParse(raw);
    if (!parsed.success) throw new ProviderError(`unexpected response shape: ${parsed.error.issues[0]?.message ?? ''} ${text.slice(0, 200)}`, { retryable: true });
    const choice = parsed.data.choices[0]!;
    return {
      text: choice.message?.content ?? '',
      finish_reason: mapFinishReason(choice.finish_reason),
      model_id: parsed.data.model ?? null,
      prompt_tokens: parsed.data.usage?.prompt_tokens ?? null,
      completion_tokens: parsed.data.usage?.completion_tokens ?? null,
      system_fingerprint: parsed.data.system_fingerprint ?? null,
      server,
    };
  }

  /**
   * Read an SSE stream of chat.completion.chunk events into one response. The model id and `system_fingerprint`
   * are the last ones any chunk reported (OpenAI repeats them on every chunk).
   */
  private async readStream(body: AsyncIterable<Buffer | string>, server: Record<string, string>): Promise<GenerateResponse> {
    let buffer = '';
    let text = '';
    let finish: string | null | undefined;
    let model: string | null = null;
    let fingerprint: string | null = null;
    let promptTokens: number | null = null;
    let completionTokens: number | null = null;
    let done = false;
    const handle = (line: string) => {
      if (!line.startsWith('data:')) return;
      const data = line.slice(5).trim();
      if (data === '[DONE]') {
        done = true;
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        throw new ProviderError(`malformed SSE event: ${data.slice(0, 200)}`, { retryable: true });
      }
      const chunk = ChunkSchema.safeParse(json);
      if (!chunk.success) throw new ProviderError(`unexpected SSE chunk shape: ${data.slice(0, 200)}`, { retryable: true });
      model = chunk.data.model ?? model;
      fingerprint = chunk.data.system_fingerprint ?? fingerprint;
      const ch = chunk.data.choices?.[0];
      if (ch?.delta?.content) text += ch.delta.content;
      if (ch?.finish_reason) finish = ch.finish_reason;
      if (chunk.data.usage) {
        promptTokens = chunk.data.usage.prompt_tokens ?? promptTokens;
        completionTokens = chunk.data.usage.completion_tokens ?? completionTokens;
      }
    };
    try {
      for await (const part of body) {
        buffer += typeof part === 'string' ? part : part.toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          handle(buffer.slice(0, nl).replace(/\r$/, ''));
          buffer = buffer.slice(nl + 1);
        }
      }
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      throw new ProviderError(`stream interrupted: ${(err as Error).message}`, { retryable: true });
    }
    if (buffer) handle(buffer);
    if (!done && finish == null) throw new ProviderError('stream ended without [DONE] or a finish reason', { retryable: true });
    return {
      text,
      finish_reason: mapFinishReason(finish),
      model_id: model,
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      system_fingerprint: fingerprint,
      server,
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Create an OpenAI-compatible provider from its address. Errors: InputError on malformed addresses. */
export function createOpenAICompatibleProvider(address: string, opts: ProviderOptions): Provider {
  const env = opts.env ?? process.env;
  const parsed = parseOpenAIAddress(address, env);
  if (parsed.kind === 'openai' && !parsed.apiKey) throw new InputError('openai:<model> needs OPENAI_API_KEY in the environment', { field: 'model' });
  return new OpenAICompatibleProvider({ ...opts, ...parsed, address });
}
