/**
 * OpenAI-compatible chat completions provider: OpenAI itself, vLLM, SGLang, llama.cpp server, Ollama.
 * Addresses: `openai-compatible:<base-url>#<model>` and `openai:<model>` (base https://api.openai.com/v1,
 * key from OPENAI_API_KEY). This is the hot path, so the transport (./http.ts, Node's http client) keeps one
 * keep-alive Agent sized to the concurrency (DESIGN.md §4: ≈3,300 req/s on loopback), and responses are validated
 * with zod.
 * Streaming (SSE) is used when `stream=1` is given in the address query (`…/v1?stream=1#model`) or `stream: true`.
 *
 * Settings (see `openAISettings`): `openai:` sends temperature, top_p, max_tokens, seed and stop, never top_k
 * (OpenAI's chat completions have no such parameter); `openai-compatible:` also sends top_k, which vLLM, SGLang
 * and llama.cpp's server accept. Messages whose content is a list of parts are sent with their text
 * (`messageText`), so every server sees the same prompt text Assay records; a message with image parts is sent as
 * OpenAI content parts, each image as an `image_url` with a base64 data URI (`chatMessagesWithImages`).
 * Each response also yields the server's `system_fingerprint` (JSON body or SSE chunks) and identity headers.
 *
 * Base models: on `openai-compatible:` endpoints, `chat_template: false` sends the conversation as one plain text
 * (`rawPrompt`, lm-eval's few-shot layout) to `POST /v1/completions` instead of the chat endpoint. Log-likelihoods
 * come from the same endpoint with `echo: true, logprobs: 1, max_tokens: 1, temperature: 0`, as vLLM serves them
 * and lm-eval asks for them: the prompt's own tokens come back with their log-probabilities. Whether an endpoint
 * does this is probed once per run (`probeScoring`), never assumed.
 */
import { z } from 'zod';
import { dataUriOf } from '../core/images.ts';
import { hasImageParts, messageText, type FinishReason, type Message } from '../core/schemas.ts';
import { mapParts, openAIImageSupport } from './images.ts';
import { InputError } from '../core/errors.ts';
import { rawPrompt } from '../core/raw-prompt.ts';
import { HttpClient, readText, type HttpResponse } from './http.ts';
import { serverHeaders } from './identity.ts';
import { splitContinuation } from './scoring.ts';
import { sendableConfig } from './settings.ts';
import {
  isRetryableStatus, ProviderError, type GenerateRequest, type GenerateResponse, type LoglikelihoodRequest, type LoglikelihoodResult, type ProbeResult, type Provider,
  type ProviderCapabilities, type ProviderOptions, type RollingLoglikelihoodResult, type ScoringRequest, type ScoringResponse,
} from './types.ts';

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

/** `POST /v1/completions` answers (OpenAI's legacy completions, as vLLM, SGLang and llama.cpp's server serve them). */
const CompletionResponseSchema = z.object({
  model: z.string().optional(),
  system_fingerprint: z.string().nullable().optional(),
  choices: z
    .array(
      z.object({
        index: z.number().int().optional(),
        text: z.string().nullable().optional(),
        finish_reason: z.string().nullable().optional(),
        logprobs: z
          .object({
            tokens: z.array(z.string()).optional(),
            token_logprobs: z.array(z.number().nullable()).optional(),
            top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullable().optional(),
            text_offset: z.array(z.number()).nullable().optional(),
          })
          .nullable()
          .optional(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional() }).nullable().optional(),
});
type CompletionResponse = z.infer<typeof CompletionResponseSchema>;
type CompletionChoice = CompletionResponse['choices'][number];

/** What `post` needs of a validator: zod's `safeParse` shape. */
interface Validator<T> {
  safeParse(raw: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } };
}

/**
 * The echo answers' validator: the same shape as `CompletionResponseSchema`, checked by hand. An echo answer carries
 * one number and one small object per prompt token, and zod took about a third of the client's time per call there
 * (profiled: 0.37 ms of 1.1 ms for five 30-token prompts); this loop does the same checks in a fraction of it.
 */
const EchoResponseValidator: Validator<CompletionResponse> = {
  safeParse(raw) {
    const fail = (message: string) => ({ success: false as const, error: { issues: [{ message }] } });
    if (!raw || typeof raw !== 'object') return fail('not an object');
    const o = raw as Record<string, unknown>;
    if (o.model !== undefined && typeof o.model !== 'string') return fail('model: not a string');
    if (!Array.isArray(o.choices) || o.choices.length === 0) return fail('choices: expected a non-empty array');
    for (const c of o.choices as unknown[]) {
      if (!c || typeof c !== 'object') return fail('choices: not an object');
      const ch = c as Record<string, unknown>;
      if (ch.index !== undefined && typeof ch.index !== 'number') return fail('choices.index: not a number');
      const lp = ch.logprobs as Record<string, unknown> | null | undefined;
      if (lp === null || lp === undefined) continue;
      if (typeof lp !== 'object') return fail('choices.logprobs: not an object');
      const tl = lp.token_logprobs;
      if (tl !== undefined) {
        if (!Array.isArray(tl)) return fail('logprobs.token_logprobs: not an array');
        for (const x of tl) if (x !== null && typeof x !== 'number') return fail('logprobs.token_logprobs: not a number');
      }
      if (lp.tokens !== undefined && (!Array.isArray(lp.tokens) || lp.tokens.some((t) => typeof t !== 'string'))) return fail('logprobs.tokens: not a list of strings');
      const top = lp.top_logprobs;
      if (top !== undefined && top !== null) {
        if (!Array.isArray(top)) return fail('logprobs.top_logprobs: not an array');
        for (const t of top) {
          if (t === null) continue;
          if (typeof t !== 'object') return fail('logprobs.top_logprobs: not an object');
          for (const k in t as object) if (typeof (t as Record<string, unknown>)[k] !== 'number') return fail('logprobs.top_logprobs: not a number');
        }
      }
    }
    const u = o.usage as Record<string, unknown> | null | undefined;
    if (u !== undefined && u !== null && (typeof u !== 'object' || (u.prompt_tokens !== undefined && typeof u.prompt_tokens !== 'number'))) return fail('usage: unexpected shape');
    if (o.system_fingerprint !== undefined && o.system_fingerprint !== null && typeof o.system_fingerprint !== 'string') return fail('system_fingerprint: not a string');
    return { success: true, data: raw as CompletionResponse };
  },
};

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
      chat_template: isOpenAI ? 'unsupported' : 'sent',
    },
    reasons: {
      ...(isOpenAI
        ? {
            top_k: "OpenAI's chat completions API has no top_k parameter",
            chat_template: "OpenAI's chat models always apply its chat template (plain-text prompts go to /v1/completions only on openai-compatible: endpoints)",
          }
        : {}),
    },
    loglikelihood: 'probe',
  };
}

/** Messages as sent: content given as a list of (text) parts is sent as its text, so every server sees one string. */
export function chatMessages(messages: readonly Message[]): { role: Message['role']; content: string }[] | readonly Message[] {
  let flat = true;
  for (const m of messages) if (typeof m.content !== 'string') flat = false;
  if (flat) return messages;
  return messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : messageText(m) }));
}

/** One OpenAI chat content part: text, or an image as a data URI (`image_url.url`). */
export type OpenAIContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/**
 * Messages with image parts in OpenAI's chat format: a message with an image is sent as a list of content parts in
 * order (`{type: 'text', text}` and `{type: 'image_url', image_url: {url: 'data:<mime>;base64,…'}}`); messages
 * without one are sent as their text, as `chatMessages` sends them.
 * @throws ProviderError (not retryable) when an image cannot be read or sits in a system message
 */
export async function chatMessagesWithImages(messages: readonly Message[], req: Pick<GenerateRequest, 'images'>, who: string): Promise<{ role: Message['role']; content: string | OpenAIContentPart[] }[]> {
  const mapped = await mapParts<OpenAIContentPart>(messages, req, who, {
    text: (text) => ({ type: 'text', text }),
    image: (blob) => ({ type: 'image_url', image_url: { url: dataUriOf(blob) } }),
  });
  return mapped.map((m, i) => ({ role: m.role, content: hasImageParts([messages[i]!]) ? m.parts : messageText(messages[i]!) }));
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
  private readonly http: HttpClient;
  private readonly url: string;
  private readonly completionsUrl: string;
  private readonly headers: Record<string, string>;
  private readonly stream: boolean;

  constructor(opts: OpenAICompatibleOptions) {
    this.kind = opts.kind ?? 'openai-compatible';
    this.capabilities = { ...openAISettings(this.kind), ...openAIImageSupport(this.kind, opts.model) };
    this.address = opts.address;
    this.baseUrl = opts.baseUrl;
    this.model = opts.model;
    this.stream = opts.stream ?? false;
    this.url = `${opts.baseUrl}/chat/completions`;
    this.completionsUrl = `${opts.baseUrl}/completions`;
    this.http = new HttpClient(opts.concurrency);
    this.headers = { 'content-type': 'application/json', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) };
  }

  async generate(req: GenerateRequest): Promise<GenerateResponse> {
    const c = sendableConfig(this, req.config);
    if (c.chat_template === false && this.capabilities.settings.chat_template === 'sent') return this.complete(req);
    const payload = {
      model: this.model,
      messages: hasImageParts(req.messages) ? await chatMessagesWithImages(req.messages, req, this.kind) : chatMessages(req.messages),
      temperature: c.temperature,
      top_p: c.top_p,
      top_k: c.top_k,
      max_tokens: c.max_tokens,
      seed: c.seed === undefined ? undefined : c.seed + req.epoch,
      stop: c.stop,
      ...(this.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
    const { res, server } = await this.send(this.url, payload, req.signal);
    if (this.stream) {
      res.body.setEncoding('utf8'); // a character split across two chunks is decoded whole
      return this.readStream(res.body, server);
    }
    const { data } = await this.readJson(res, ChatResponseSchema, req.signal);
    const choice = data.choices[0]!;
    return {
      text: choice.message?.content ?? '',
      finish_reason: mapFinishReason(choice.finish_reason),
      model_id: data.model ?? null,
      prompt_tokens: data.usage?.prompt_tokens ?? null,
      completion_tokens: data.usage?.completion_tokens ?? null,
      system_fingerprint: data.system_fingerprint ?? null,
      server,
    };
  }

  /**
   * POST a JSON body and parse the answer as `schema`. HTTP errors become ProviderErrors (429/408/409/5xx retryable,
   * others not); malformed or unexpected bodies are retryable ProviderErrors.
   */
  private async post<T>(url: string, payload: unknown, schema: Validator<T>, signal: AbortSignal): Promise<{ data: T; server: Record<string, string> }> {
    const { res, server } = await this.send(url, payload, signal);
    return { data: (await this.readJson(res, schema, signal)).data, server };
  }

  /** POST a JSON body; a failed connection or a non-200 status becomes a ProviderError (429/408/409/5xx retryable). */
  private async send(url: string, payload: unknown, signal: AbortSignal): Promise<{ res: HttpResponse; server: Record<string, string> }> {
    let res;
    try {
      res = await this.http.post(url, JSON.stringify(payload), this.headers, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      throw new ProviderError(`connection failed: ${(err as Error).message}`, { retryable: true });
    }
    const status = res.status;
    if (status !== 200) {
      const text = await readText(res.body).catch(() => '');
      const retryable = isRetryableStatus(status);
      throw new ProviderError(`HTTP ${status}: ${text.slice(0, 300)}`, { retryable, retryAfterMs: parseRetryAfter(res.headers), rateLimited: status === 429, status });
    }
    return { res, server: serverHeaders(res.headers) };
  }

  /** Read a response body as JSON of shape `schema`; an interrupted, malformed or unexpected body is a retryable ProviderError. */
  private async readJson<T>(res: HttpResponse, schema: Validator<T>, signal: AbortSignal): Promise<{ data: T }> {
    let text: string;
    try {
      text = await readText(res.body);
    } catch (err) {
      if (signal.aborted) throw err;
      throw new ProviderError(`response body interrupted: ${(err as Error).message}`, { retryable: true });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new ProviderError(`malformed JSON from server: ${text.slice(0, 200)}`, { retryable: true });
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new ProviderError(`unexpected response shape: ${parsed.error.issues[0]?.message ?? ''} ${text.slice(0, 200)}`, { retryable: true });
    return { data: parsed.data };
  }


  /** A plain-text completion (`chat_template: false`): the conversation as `rawPrompt` to `/v1/completions`. */
  private async complete(req: GenerateRequest): Promise<GenerateResponse> {
    if (hasImageParts(req.messages)) throw new ProviderError('a plain-text completion (chat_template: false) cannot carry images: use the chat template', { retryable: false });
    const c = sendableConfig(this, req.config);
    const { data, server } = await this.post(
      this.completionsUrl,
      {
        model: this.model,
        prompt: rawPrompt(req.messages),
        temperature: c.temperature,
        top_p: c.top_p,
        top_k: c.top_k,
        max_tokens: c.max_tokens,
        seed: c.seed === undefined ? undefined : c.seed + req.epoch,
        stop: c.stop,
      },
      CompletionResponseSchema,
      req.signal,
    );
    const choice = data.choices[0]!;
    return {
      text: choice.text ?? '',
      finish_reason: mapFinishReason(choice.finish_reason),
      model_id: data.model ?? null,
      prompt_tokens: data.usage?.prompt_tokens ?? null,
      completion_tokens: data.usage?.completion_tokens ?? null,
      system_fingerprint: data.system_fingerprint ?? null,
      server,
    };
  }

  /**
   * Echo the prompts with their log-probabilities (`echo: true, logprobs: 1, max_tokens: 1, temperature: 0`, lm-eval's
   * request). Each returned choice's token lists drop the one generated token at the end, as lm-eval does.
   */
  private async echo(prompts: string[], signal: AbortSignal): Promise<{ choices: EchoedPrompt[]; data: CompletionResponse; server: Record<string, string> }> {
    const { data, server } = await this.post(
      this.completionsUrl,
      { model: this.model, prompt: prompts, max_tokens: 1, temperature: 0, logprobs: 1, echo: true },
      EchoResponseValidator,
      signal,
    );
    if (data.choices.length !== prompts.length) throw new ProviderError(`the server answered ${data.choices.length} choices for ${prompts.length} prompts`, { retryable: false });
    const sorted = data.choices.every((c) => typeof c.index === 'number') ? [...data.choices].sort((a, b) => a.index! - b.index!) : data.choices;
    return { choices: sorted.map((c, i) => echoed(c, prompts[i]!)), data, server };
  }

  /**
   * Log-likelihoods of continuations, lm-eval's way over an HTTP API: one request per batch with every distinct
   * context and every context + continuation as prompts; a continuation's tokens are the echoed tokens of
   * `context + continuation` after as many tokens as `context` alone echoed (so its log-probability is the
   * difference of the two prompts' totals up to the boundary). An empty context relies on the server's BOS token.
   */
  async loglikelihood(req: ScoringRequest<LoglikelihoodRequest>): Promise<ScoringResponse<LoglikelihoodResult>> {
    const split = req.requests.map((r) => splitContinuation(r.context, r.continuation));
    const contexts = [...new Set(split.map((r) => r.context).filter((c) => c !== ''))];
    const prompts = [...contexts, ...split.map((r) => r.context + r.continuation)];
    const { choices, data, server } = await this.echo(prompts, req.signal);
    const ctxTokens = new Map(contexts.map((c, i) => [c, choices[i]!.logprobs.length]));
    const results = split.map((r, i) => {
      const whole = choices[contexts.length + i]!;
      const n = r.context === '' ? bosPrefix(whole) : ctxTokens.get(r.context)!;
      // A continuation that merges into the context's last token adds no token of its own: nothing to score.
      if (n >= whole.logprobs.length) throw new ProviderError(`the continuation ${JSON.stringify(r.continuation.slice(0, 40))} adds no token to its context (${n} tokens echoed for the context, ${whole.logprobs.length} with the continuation)`, { retryable: false });
      const lps: number[] = [];
      let greedy = true;
      for (let t = n; t < whole.logprobs.length; t++) {
        const lp = whole.logprobs[t];
        if (lp == null) throw new ProviderError(`the server gave no log-probability for token ${t} of a continuation`, { retryable: false });
        lps.push(lp);
        const top = whole.top[t];
        if (!top || !isTop(lp, top)) greedy = false;
      }
      return { logprob: sum(lps), is_greedy: greedy, tokens: lps.length, token_logprobs: lps };
    });
    return { results, model_id: data.model ?? null, prompt_tokens: data.usage?.prompt_tokens ?? null, system_fingerprint: data.system_fingerprint ?? null, server };
  }

  /**
   * Rolling log-likelihoods of whole texts: each text is echoed once and every token after the server's BOS token is
   * summed. A text longer than the server's context is refused by the server (HTTP 400, not retried): rolling
   * windows need the model's tokenizer, which an HTTP API does not expose (the llama-cpp provider cuts windows).
   */
  async loglikelihoodRolling(req: ScoringRequest<string>): Promise<ScoringResponse<RollingLoglikelihoodResult>> {
    const { choices, data, server } = await this.echo(req.requests, req.signal);
    const results = choices.map((c) => {
      const n = bosPrefix(c);
      let total = 0;
      for (let t = n; t < c.logprobs.length; t++) {
        const lp = c.logprobs[t];
        if (lp == null) throw new ProviderError(`the server gave no log-probability for token ${t} of a text`, { retryable: false });
        total += lp;
      }
      return { logprob: total, tokens: c.logprobs.length - n, windows: 1 };
    });
    return { results, model_id: data.model ?? null, prompt_tokens: data.usage?.prompt_tokens ?? null, system_fingerprint: data.system_fingerprint ?? null, server };
  }

  /**
   * Does this endpoint return prompt log-probabilities? One echo request for "Hello world": yes when every token after
   * the first comes back with a log-probability, and they are real ones: all exactly 0 (a server that fills the field
   * with placeholders) or any above 0 is a no, so a run never scores silent zeros. A 404 (no completions endpoint)
   * or 400 (echo or logprobs refused) is a no with the server's words; a connection failure or 5xx throws (the
   * caller reports it as such).
   */
  async probeScoring(signal: AbortSignal): Promise<ProbeResult> {
    try {
      const { choices } = await this.echo(['Hello world'], signal);
      const c = choices[0]!;
      if (c.logprobs.length < 2) return { ok: false, reason: `the answer to an echo request held ${c.logprobs.length} prompt token log-probabilities (echo + logprobs unsupported?)` };
      const scored = c.logprobs.slice(1);
      if (scored.some((x) => x == null)) return { ok: false, reason: 'the echoed prompt tokens came back without log-probabilities' };
      if (scored.every((x) => x === 0)) return { ok: false, reason: `every echoed prompt token came back with log-probability 0 (${scored.length} tokens of "Hello world"): placeholders, not the model's log-probabilities` };
      if (scored.some((x) => !(x! <= 0))) return { ok: false, reason: `the echoed prompt log-probabilities are not log-probabilities (${scored.filter((x) => !(x! <= 0)).join(', ')} > 0)` };
      return { ok: true, detail: `${this.completionsUrl} echoes prompt log-probabilities` };
    } catch (err) {
      if (err instanceof ProviderError && !err.opts.retryable) return { ok: false, reason: `${this.completionsUrl} answered ${err.message}` };
      if (err instanceof ProviderError && /unexpected response shape|malformed JSON/.test(err.message)) return { ok: false, reason: err.message };
      throw err;
    }
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
    this.http.close();
  }
}

/** One echoed prompt: its tokens, their log-probabilities (first null) and top alternatives, the generated token dropped. */
interface EchoedPrompt {
  prompt: string;
  tokens: string[];
  logprobs: (number | null)[];
  top: (Record<string, number> | null)[];
}

function echoed(c: CompletionChoice, prompt: string): EchoedPrompt {
  const lp = c.logprobs;
  if (!lp || !lp.token_logprobs) throw new ProviderError(`the server returned no logprobs for an echo request (prompt ${JSON.stringify(prompt.slice(0, 60))})`, { retryable: false });
  // max_tokens: 1 adds one generated token after the prompt's (lm-eval slices it off the same way).
  const n = Math.max(0, lp.token_logprobs.length - 1);
  return { prompt, tokens: (lp.tokens ?? []).slice(0, n), logprobs: lp.token_logprobs.slice(0, n), top: (lp.top_logprobs ?? []).slice(0, n) };
}

/**
 * Tokens to skip before scoring a text with no context: 1 when the server put a BOS token first, i.e. the first echoed
 * token is not the start of the text (`<s>`, `<|begin_of_text|>`, or empty). When the first token is already part of
 * the text (a tokenizer without BOS, e.g. Qwen's or GPT-2's), it cannot be scored (nothing comes before it): a
 * ProviderError rather than a silently shorter sum. (vLLM's `text_offset` counts the BOS token's own text, so the
 * token string is what tells.)
 */
function bosPrefix(c: EchoedPrompt): number {
  if (c.logprobs.length === 0) return 0;
  const first = c.tokens[0];
  if (first === undefined || first === '' || !c.prompt.startsWith(first)) return 1;
  throw new ProviderError('the server prepends no BOS token, so the first token of a text without context has no log-probability; give the task a context', { retryable: false });
}

/** Is `lp` the largest log-probability at its position (lm-eval: `tok == max(top.values())`)? */
function isTop(lp: number, top: Record<string, number>): boolean {
  let max = -Infinity;
  for (const v of Object.values(top)) if (v > max) max = v;
  return lp >= max;
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** Create an OpenAI-compatible provider from its address. Errors: InputError on malformed addresses. */
export function createOpenAICompatibleProvider(address: string, opts: ProviderOptions): Provider {
  const env = opts.env ?? process.env;
  const parsed = parseOpenAIAddress(address, env);
  if (parsed.kind === 'openai' && !parsed.apiKey) throw new InputError('openai:<model> needs OPENAI_API_KEY in the environment', { field: 'model' });
  return new OpenAICompatibleProvider({ ...opts, ...parsed, address });
}
