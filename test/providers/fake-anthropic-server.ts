/**
 * A small Anthropic Messages-API server on 127.0.0.1 for tests (no real model can run here): `POST /v1/messages`
 * answers one text block (or, with `answerImageHashes`, the hashes of the images it decoded),
 * records every request body, reports a configurable model id and response headers, and can answer 429 a given
 * number of times. `stop_reason` is `max_tokens` when the request's max_tokens is below 5, else `end_turn`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeFakeImage, describeFakeImages, type FakeImage } from '../../testkit/fake-images.ts';

/** The images of a Messages-API request: every `{type: 'image', source: {type: 'base64', media_type, data}}` block. */
function anthropicImages(messages: unknown): FakeImage[] {
  const out: FakeImage[] = [];
  for (const m of Array.isArray(messages) ? messages : []) {
    const content = (m as { content?: unknown }).content;
    if (!Array.isArray(content)) continue;
    for (const b of content as { type?: string; source?: { type?: string; media_type?: string; data?: string } }[]) {
      if (b?.type !== 'image') continue;
      if (b.source?.type !== 'base64') throw new Error('image source must be base64');
      out.push(decodeFakeImage(String(b.source.media_type), String(b.source.data)));
    }
  }
  return out;
}

/** Options of {@link startFakeAnthropicServer}. */
export interface FakeAnthropicOptions {
  /** Model id reported in every answer (default `claude-test-reported`). */
  model?: string;
  /** Text of the answer (default `The answer is \boxed{42}.`). */
  text?: string;
  /** Extra headers on every answer. */
  headers?: Record<string, string>;
  /** Answer a request that carries images with one line per image, `image <media_type> <sha256>` (default false). */
  answerImageHashes?: boolean;
}

/** Handle of a running fake Anthropic server. */
export interface FakeAnthropicServer {
  /** Base URL for ANTHROPIC_BASE_URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Request bodies received, in order. */
  seen: Record<string, unknown>[];
  /** The images of each request that had any (base64 `image` blocks), decoded. */
  images: FakeImage[][];
  /** Answer the next n requests with 429 (`retry-after: 1`). */
  fail429(n: number): void;
  close(): Promise<void>;
}

/** Start the server; resolves once it listens. */
export async function startFakeAnthropicServer(opts: FakeAnthropicOptions = {}): Promise<FakeAnthropicServer> {
  const seen: Record<string, unknown>[] = [];
  const images: FakeImage[][] = [];
  let fail = 0;
  const server = createServer((rq, rs) => {
    let body = '';
    rq.on('data', (d) => (body += d));
    rq.on('end', () => {
      const json = JSON.parse(body) as Record<string, unknown>;
      seen.push(json);
      // Image blocks are decoded as the real API would; one that is not valid base64 is a 400.
      let imgs: FakeImage[] = [];
      try {
        imgs = anthropicImages(json.messages);
      } catch (err) {
        rs.writeHead(400, { 'content-type': 'application/json' });
        rs.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: (err as Error).message } }));
        return;
      }
      if (imgs.length) images.push(imgs);
      if (fail > 0) {
        fail--;
        rs.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        rs.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }));
        return;
      }
      rs.writeHead(200, { ...(opts.headers ?? {}), 'content-type': 'application/json' });
      rs.end(
        JSON.stringify({
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: opts.model ?? 'claude-test-reported',
          content: [{ type: 'text', text: opts.answerImageHashes && imgs.length ? describeFakeImages(imgs) : (opts.text ?? 'The answer is \\boxed{42}.') }],
          stop_reason: (json.max_tokens as number) < 5 ? 'max_tokens' : 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: 11, output_tokens: 7 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    images,
    fail429(n) {
      fail = n;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
