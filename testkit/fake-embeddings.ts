/**
 * A deterministic `POST /v1/embeddings` for the fake OpenAI-compatible server (testkit/fake-openai-server.ts, option
 * `embeddings`). No real embedding model runs on the test machines: this stands in for one, so zero-shot
 * classification and retrieval can be checked against figures computed by hand.
 *
 * It accepts what src/zeroshot/embedder.ts sends, in the shapes real servers take:
 * - `{"model", "input": "text" | ["text", …]}` (OpenAI);
 * - `{"model", "input": ["data:image/png;base64,…", …], "modality": "image"}` (infinity's multimodal form);
 * - `{"model", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:…"}}]}]}`
 *   (vLLM's chat-style embeddings: one image per request).
 * and answers `{"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [...]}], "model", "usage"}`.
 *
 * The vectors come from `embed(input, model)`. The default is a transparent bag of words: every lower-case word of a
 * text adds 1 to coordinate hash32(word) mod `dims`; a fake image is a file whose bytes are either a JSON list of
 * numbers (the embedding itself) or words describing it (embedded as that text). So a test writes the embedding of
 * each image into the image, and an image "cat" lands next to the prompts that name a cat.
 */
import type http from 'node:http';

/** What the fake embeds: a text, or an image's decoded bytes and MIME type. */
export type FakeEmbedInput = { kind: 'text'; text: string } | { kind: 'image'; bytes: Buffer; mime: string };

/** A fault of the embeddings route: fire on requests number k (1-based) in `at`, or on every request (`always`). */
export interface FakeEmbeddingFault {
  kind: 'serverError' | 'badRequest' | 'wrongCount' | 'wrongDims' | 'notJson';
  at?: number[];
  always?: boolean;
}

/** Options of {@link fakeEmbeddings}. */
export interface FakeEmbeddingsOptions {
  /** Vector length of the default embedder (default 64). */
  dims?: number;
  /** The embedding of one input for `model` (default: the bag of words of the module comment). */
  embed?: (input: FakeEmbedInput, model: string) => number[];
  /** Faults to inject. */
  faults?: FakeEmbeddingFault[];
}

/** The embeddings route with its counters (give it to `startFakeOpenAIServer({ embeddings })`). */
export interface FakeEmbeddings {
  /** Requests received, inputs embedded, and images among them. */
  stats: { requests: number; inputs: number; images: number; byShape: { input: number; image_input: number; messages: number } };
  /** The parsed bodies received, in order (the inputs' shapes, not their bytes: data URIs are cut to 40 characters). */
  received: Record<string, unknown>[];
  setFaults(f: FakeEmbeddingFault[]): void;
  /** Answer one request (used by the fake server). */
  handle(raw: string, res: http.ServerResponse): void;
}

function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** The default bag-of-words embedding of a text (module comment). A text without words embeds to e_0. */
export function bagOfWords(text: string, dims = 64): number[] {
  const v = new Array<number>(dims).fill(0);
  const words = text.toLowerCase().match(/\p{L}+/gu) ?? [];
  for (const w of words) v[hash32(w) % dims]! += 1;
  if (!words.length) v[0] = 1;
  return v;
}

/** A fake image: a data URI whose bytes are `content` (a JSON list of numbers, or words). */
export function fakeImage(content: string | number[], mime = 'image/png'): string {
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  return `data:${mime};base64,${Buffer.from(text, 'utf8').toString('base64')}`;
}

/** The embeddings route (module comment). */
export function fakeEmbeddings(opts: FakeEmbeddingsOptions = {}): FakeEmbeddings {
  const dims = opts.dims ?? 64;
  const embed = opts.embed ?? ((x: FakeEmbedInput) => {
    if (x.kind === 'text') return bagOfWords(x.text, dims);
    const text = x.bytes.toString('utf8');
    if (text.trimStart().startsWith('[')) return JSON.parse(text) as number[];
    return bagOfWords(text, dims);
  });
  let faults = opts.faults ?? [];
  const stats: FakeEmbeddings['stats'] = { requests: 0, inputs: 0, images: 0, byShape: { input: 0, image_input: 0, messages: 0 } };
  const received: Record<string, unknown>[] = [];
  const send = (res: http.ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const err = (res: http.ServerResponse, status: number, message: string) => send(res, status, JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } }));
  const decode = (uri: string): FakeEmbedInput | null => {
    const m = /^data:([^;,]+);base64,(.*)$/s.exec(uri);
    return m ? { kind: 'image', mime: m[1]!, bytes: Buffer.from(m[2]!, 'base64') } : null;
  };
  return {
    stats, received,
    setFaults(f) {
      faults = f;
    },
    handle(raw, res) {
      const n = ++stats.requests;
      let body: { model?: string; input?: unknown; modality?: string; messages?: { content?: { type?: string; image_url?: { url?: string } }[] }[] };
      try {
        body = JSON.parse(raw);
      } catch {
        return err(res, 400, 'Invalid JSON body');
      }
      received.push(JSON.parse(JSON.stringify(body, (_k, v) => (typeof v === 'string' && v.startsWith('data:') ? v.slice(0, 40) : v))));
      const fault = faults.find((f) => f.always || f.at?.includes(n));
      if (fault?.kind === 'serverError') return err(res, 500, 'fake embeddings: internal error');
      if (fault?.kind === 'badRequest') return err(res, 400, 'fake embeddings: this model does not take images');
      if (fault?.kind === 'notJson') return send(res, 200, '<html>gateway</html>');
      let inputs: FakeEmbedInput[];
      if (Array.isArray(body.messages)) {
        stats.byShape.messages++;
        const parts = body.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []));
        const img = parts.find((p) => p.type === 'image_url')?.image_url?.url;
        const d = img ? decode(img) : null;
        if (!d) return err(res, 400, 'messages: expected one image_url part with a data URI');
        inputs = [d];
      } else {
        const list = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) && body.input.every((x) => typeof x === 'string') ? (body.input as string[]) : null;
        if (!list || !list.length) return err(res, 400, 'input: a string or a non-empty list of strings');
        if (body.modality === 'image') {
          stats.byShape.image_input++;
          const ds = list.map(decode);
          if (ds.some((d) => !d)) return err(res, 400, 'input: images are data URIs');
          inputs = ds as FakeEmbedInput[];
        } else {
          stats.byShape.input++;
          inputs = list.map((text) => ({ kind: 'text', text }));
        }
      }
      stats.inputs += inputs.length;
      stats.images += inputs.filter((x) => x.kind === 'image').length;
      const model = body.model ?? 'fake-embedding';
      let vectors = inputs.map((x) => embed(x, model));
      if (fault?.kind === 'wrongCount') vectors = vectors.slice(0, -1);
      if (fault?.kind === 'wrongDims') vectors = vectors.map((v, i) => (i === vectors.length - 1 ? [...v, 0.5] : v));
      const data = vectors.map((embedding, index) => ({ object: 'embedding', index, embedding }));
      send(res, 200, JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } }));
    },
  };
}
