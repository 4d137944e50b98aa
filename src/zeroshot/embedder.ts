/**
 * A client for OpenAI-compatible embeddings endpoints (`POST <base>/embeddings`), for zero-shot evaluation of
 * contrastive image–text models (CLIP, SigLIP) and text embedding models, as vLLM, infinity, llama.cpp server,
 * Ollama and OpenAI serve them.
 *
 * What is sent (every request carries `"encoding_format": "float"`):
 * - texts, in batches of `batchSize`: `{"model": m, "input": ["a photo of a cat.", …]}` (the OpenAI API);
 * - images as `data:<mime>;base64,…` URIs, by `imageRequest`:
 *   - `input` (default; infinity's multimodal `/embeddings`): batches `{"model": m, "input": [<data URI>, …],
 *     "modality": "image"}`;
 *   - `messages` (vLLM's chat-style embeddings for multimodal models): one image per request,
 *     `{"model": m, "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": <data URI>}}]}]}`.
 * The answer must be `{"data": [{"index": i, "embedding": [numbers]}, …]}` with one embedding per input (ordered by
 * `index` when given) and the same length for every embedding of the run; anything else is an `EmbeddingError`
 * naming the field. HTTP 429, 5xx and dropped connections are retried (`maxRetries`, exponential backoff); other
 * statuses fail at once with the server's message.
 *
 * Embeddings are cached in memory for the life of the embedder, by (model, sha256 of the input): a class prompt
 * shared by two tasks, or a stream that evaluates the same images at every checkpoint of one model, is sent once.
 * Nothing is written to disk.
 */
import { request, Agent } from 'undici';
import { InputError, RunError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';
import { parseOpenAIAddress } from '../providers/openai-compatible.ts';

/** One input to embed: a text, or an image as a `data:` URI. */
export type EmbedInput = { text: string } | { image: string };

/**
 * A malformed or failed answer of the embeddings endpoint (a failure of the system, not of the input: exit code 1);
 * `field` names the part of the answer at fault (`data`, `data[2].embedding`, `body`, or `embeddings` for the
 * request as a whole), `status` the HTTP status when there was one.
 */
export class EmbeddingError extends RunError {
  constructor(message: string, readonly field: string, readonly status?: number) {
    super(message);
    this.name = 'EmbeddingError';
  }
}

/** Options of {@link createEmbedder}. */
export interface EmbedderOptions {
  /** Inputs per request (default 64). */
  batchSize?: number;
  /** How images are sent (module comment): `input` (default) or `messages`. */
  imageRequest?: 'input' | 'messages';
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Per-request timeout in ms (default 120,000). */
  timeoutMs?: number;
  /** Retries after the first try for 429, 5xx and network errors (default 4). */
  maxRetries?: number;
  /** Backoff base in ms (default 250; doubled per retry). */
  backoffBaseMs?: number;
  /** Environment for the API key (`OPENAI_API_KEY`, else `ASSAY_API_KEY`) and `OPENAI_BASE_URL`; default process.env. */
  env?: Record<string, string | undefined>;
}

/** Counters of an embedder (cumulative). */
export interface EmbedderStats {
  /** HTTP requests that succeeded. */
  requests: number;
  /** Inputs sent to the server. */
  sent: number;
  /** Inputs answered from the in-memory cache. */
  cached: number;
  /** Retries made. */
  retries: number;
}

/** An embeddings client for one model. */
export interface Embedder {
  /** The model address, `openai-compatible:<base-url>#<model>` or `openai:<model>`. */
  readonly address: string;
  readonly baseUrl: string;
  readonly model: string;
  /** Embedding length, known after the first answer (null before). */
  readonly dims: number | null;
  /** Model ids the server reported in its answers. */
  readonly reportedModelIds: ReadonlySet<string>;
  readonly stats: EmbedderStats;
  /** The options in force (recorded with runs). */
  readonly settings: { batchSize: number; imageRequest: 'input' | 'messages' };
  /**
   * Embed inputs, in order: one vector per input (as the server returned it, not normalised).
   * Errors: EmbeddingError (HTTP failure after retries, malformed answer, wrong count, unequal dimensions);
   * AbortError when `signal` aborts.
   */
  embed(inputs: EmbedInput[], signal?: AbortSignal): Promise<Float64Array[]>;
  close(): Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res, rej) => {
    const t = setTimeout(res, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      rej(signal.reason ?? new Error('aborted'));
    }, { once: true });
  });

/**
 * An embedder for a model address (`openai-compatible:http://127.0.0.1:8000/v1#clip-vit-b-32`, `openai:text-embedding-3-small`).
 * Errors: InputError for a malformed address or option.
 */
export function createEmbedder(address: string, opts: EmbedderOptions = {}): Embedder {
  if (!address.startsWith('openai-compatible:') && !address.startsWith('openai:')) {
    throw new InputError(`embedding models are reached through an OpenAI-compatible /embeddings endpoint: "openai-compatible:<base-url>#<model>" or "openai:<model>", not "${address}"`, { field: 'model' });
  }
  const { baseUrl, model, apiKey } = parseOpenAIAddress(address, opts.env ?? process.env);
  const batchSize = opts.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 65_536) throw new InputError(`batch size must be an integer from 1 to 65,536, not ${batchSize}`, { field: 'batchSize' });
  const imageRequest = opts.imageRequest ?? 'input';
  if (imageRequest !== 'input' && imageRequest !== 'messages') throw new InputError(`imageRequest is "input" or "messages", not "${imageRequest}"`, { field: 'imageRequest' });
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const maxRetries = opts.maxRetries ?? 4;
  const backoff = opts.backoffBaseMs ?? 250;
  const url = `${baseUrl}/embeddings`;
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  const cache = new Map<string, Float64Array>();
  const stats: EmbedderStats = { requests: 0, sent: 0, cached: 0, retries: 0 };
  const reported = new Set<string>();
  let dims: number | null = null;

  const post = async (body: Record<string, unknown>, count: number, signal?: AbortSignal): Promise<Float64Array[]> => {
    for (let attempt = 0; ; attempt++) {
      let status = 0;
      let text = '';
      try {
        const timeout = AbortSignal.timeout(timeoutMs);
        const res = await request(url, {
          method: 'POST', dispatcher: agent, signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
          body: JSON.stringify({ model, ...body, encoding_format: 'float' }),
        });
        status = res.statusCode;
        text = await res.body.text();
      } catch (err) {
        if (signal?.aborted) throw err;
        if (attempt < maxRetries) {
          stats.retries++;
          await sleep(backoff * 2 ** attempt, signal);
          continue;
        }
        throw new EmbeddingError(`POST ${url} failed after ${attempt + 1} tries: ${(err as Error).message}`, 'embeddings');
      }
      if (status === 429 || status >= 500) {
        if (attempt < maxRetries) {
          stats.retries++;
          await sleep(backoff * 2 ** attempt, signal);
          continue;
        }
      }
      if (status >= 400) {
        let msg = text.slice(0, 300);
        try {
          const e = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: unknown };
          msg = typeof e.error === 'string' ? e.error : e.error?.message ?? e.message ?? (e.detail !== undefined ? JSON.stringify(e.detail) : msg);
        } catch {
          // not JSON: the raw text is the message
        }
        throw new EmbeddingError(`POST ${url} answered HTTP ${status}${attempt ? ` after ${attempt + 1} tries` : ''}: ${msg}`, 'embeddings', status);
      }
      stats.requests++;
      return parseAnswer(text, count);
    }
  };

  const parseAnswer = (text: string, count: number): Float64Array[] => {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new EmbeddingError(`${url}: the answer is not JSON (${text.slice(0, 80)}…)`, 'body');
    }
    const d = doc as { data?: unknown; model?: unknown };
    if (!Array.isArray(d.data)) throw new EmbeddingError(`${url}: the answer has no "data" list`, 'data');
    if (d.data.length !== count) throw new EmbeddingError(`${url}: the answer has ${d.data.length} embeddings for ${count} inputs`, 'data');
    if (typeof d.model === 'string' && d.model) reported.add(d.model);
    const out: (Float64Array | undefined)[] = new Array(count);
    d.data.forEach((row: unknown, j: number) => {
      const r = row as { index?: unknown; embedding?: unknown };
      const at = r.index === undefined ? j : r.index;
      if (!Number.isInteger(at) || (at as number) < 0 || (at as number) >= count || out[at as number]) throw new EmbeddingError(`${url}: data[${j}].index is ${JSON.stringify(r.index)} (expected a distinct index in 0…${count - 1})`, `data[${j}].index`);
      const e = r.embedding;
      if (!Array.isArray(e) || !e.length || !e.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new EmbeddingError(`${url}: data[${j}].embedding is not a non-empty list of finite numbers${typeof e === 'string' ? ' (a base64 string: the server ignored encoding_format "float")' : ''}`, `data[${j}].embedding`);
      }
      if (dims === null) dims = e.length;
      else if (e.length !== dims) throw new EmbeddingError(`${url}: data[${j}].embedding has ${e.length} dimensions, but earlier embeddings of this model have ${dims}`, `data[${j}].embedding`);
      out[at as number] = Float64Array.from(e as number[]);
    });
    return out as Float64Array[];
  };

  const keyOf = (x: EmbedInput) => `${model}\u0000${'text' in x ? `t:${sha256(x.text)}` : `i:${sha256(x.image)}`}`;

  const embed = async (inputs: EmbedInput[], signal?: AbortSignal): Promise<Float64Array[]> => {
    for (const [i, x] of inputs.entries()) {
      if ('image' in x && !/^data:[^;,]+;base64,/.test(x.image)) throw new InputError(`input ${i}: an image is sent as a data URI (data:<mime>;base64,…)`, { field: 'image' });
      if ('text' in x && typeof x.text !== 'string') throw new InputError(`input ${i}: text must be a string`, { field: 'text' });
    }
    // Distinct inputs not in the cache, by kind.
    const missing = new Map<string, EmbedInput>();
    for (const x of inputs) {
      const k = keyOf(x);
      if (!cache.has(k) && !missing.has(k)) missing.set(k, x);
    }
    stats.cached += inputs.length - [...inputs].filter((x) => missing.has(keyOf(x))).length;
    const texts = [...missing].filter(([, x]) => 'text' in x);
    const images = [...missing].filter(([, x]) => 'image' in x);
    const jobs: (() => Promise<void>)[] = [];
    const store = (keys: string[], vs: Float64Array[]) => keys.forEach((k, j) => cache.set(k, vs[j]!));
    for (let i = 0; i < texts.length; i += batchSize) {
      const part = texts.slice(i, i + batchSize);
      jobs.push(async () => store(part.map(([k]) => k), await post({ input: part.map(([, x]) => (x as { text: string }).text) }, part.length, signal)));
    }
    if (imageRequest === 'input') {
      for (let i = 0; i < images.length; i += batchSize) {
        const part = images.slice(i, i + batchSize);
        jobs.push(async () => store(part.map(([k]) => k), await post({ input: part.map(([, x]) => (x as { image: string }).image), modality: 'image' }, part.length, signal)));
      }
    } else {
      for (const [k, x] of images) {
        jobs.push(async () => store([k], await post({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: (x as { image: string }).image } }] }] }, 1, signal)));
      }
    }
    stats.sent += missing.size;
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) await jobs[next++]!();
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
    return inputs.map((x) => cache.get(keyOf(x))!);
  };

  return {
    address, baseUrl, model, stats, settings: { batchSize, imageRequest },
    get dims() {
      return dims;
    },
    reportedModelIds: reported,
    embed,
    close: () => agent.close(),
  };
}
