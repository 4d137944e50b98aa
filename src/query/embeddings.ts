/**
 * Optional embedding providers for capability queries (never required): sample vectors from a JSONL file
 * (`{"key": "<sample key>", "vector": [..]}` per line, streamed) and the query embedded by an OpenAI-compatible
 * `/embeddings` endpoint.
 */
import { request } from 'undici';
import { InputError } from '../core/errors.ts';
import { parseJsonLine, readLines } from '../importers/common.ts';
import type { EmbeddingProvider } from './search.ts';

/**
 * Load sample vectors from `file` and embed queries with `embedQuery`.
 * Errors: InputError naming file and line for a malformed record.
 */
export async function fileEmbeddings(file: string, embedQuery: (text: string) => Promise<Float32Array>): Promise<EmbeddingProvider> {
  const vecs = new Map<string, Float32Array>();
  for await (const l of readLines(file)) {
    const o = parseJsonLine(file, l);
    if (typeof o.key !== 'string' || !Array.isArray(o.vector)) throw new InputError('expected {"key": string, "vector": number[]}', { file, line: l.line });
    vecs.set(o.key, Float32Array.from(o.vector as number[]));
  }
  return { sample: (k) => vecs.get(k) ?? null, query: embedQuery };
}

/** Embed a text with an OpenAI-compatible endpoint (`<baseUrl>/embeddings`). Errors: Error on HTTP failure. */
export function endpointEmbedder(baseUrl: string, model: string, apiKey = process.env.OPENAI_API_KEY): (text: string) => Promise<Float32Array> {
  return async (text: string) => {
    const res = await request(`${baseUrl.replace(/\/$/, '')}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
      body: JSON.stringify({ model, input: text }),
    });
    const body = (await res.body.json()) as { data?: { embedding: number[] }[] };
    if (res.statusCode >= 400 || !body.data?.[0]) throw new Error(`embeddings endpoint ${baseUrl} answered HTTP ${res.statusCode}`);
    return Float32Array.from(body.data[0].embedding);
  };
}
