/**
 * A small Gemini API server on 127.0.0.1 for tests (no real model can run here; the official SDK @google/genai is
 * pointed at it with `httpOptions.baseUrl`, i.e. GOOGLE_BASE_URL): `POST /<version>/models/<model>:generateContent`
 * records the request body and its API key header, decodes every `inlineData` image part (a bad one is a 400, as the
 * real API answers), and answers one candidate: a fixed text, or with `answerImageHashes` one line per image
 * (`image <mimeType> <sha256>`). `finishReason` is MAX_TOKENS when `generationConfig.maxOutputTokens` is below 5.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeFakeImage, describeFakeImages, type FakeImage } from '../../testkit/fake-images.ts';

/** Options of {@link startFakeGeminiServer}. */
export interface FakeGeminiOptions {
  /** `modelVersion` reported in every answer (default `gemini-test-001`). */
  modelVersion?: string;
  /** Text of the answer (default `The answer is \boxed{42}.`). */
  text?: string;
  answerImageHashes?: boolean;
}

/** Handle of a running fake Gemini server. */
export interface FakeGeminiServer {
  /** Base URL for GOOGLE_BASE_URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Requests received, in order: path, API key header, body. */
  seen: { path: string; apiKey: string | undefined; body: Record<string, unknown> }[];
  /** The images of each request that had any, decoded. */
  images: FakeImage[][];
  /** Answer the next n requests with 429. */
  fail429(n: number): void;
  close(): Promise<void>;
}

function geminiImages(contents: unknown): FakeImage[] {
  const out: FakeImage[] = [];
  for (const c of Array.isArray(contents) ? contents : []) {
    for (const p of ((c as { parts?: unknown[] }).parts ?? []) as { inlineData?: { mimeType?: string; data?: string } }[]) {
      if (p?.inlineData) out.push(decodeFakeImage(String(p.inlineData.mimeType), String(p.inlineData.data)));
    }
  }
  return out;
}

/** Start the server; resolves once it listens. */
export async function startFakeGeminiServer(opts: FakeGeminiOptions = {}): Promise<FakeGeminiServer> {
  const seen: FakeGeminiServer['seen'] = [];
  const images: FakeImage[][] = [];
  let fail = 0;
  const server = createServer((rq, rs) => {
    let raw = '';
    rq.on('data', (d) => (raw += d));
    rq.on('end', () => {
      const send = (status: number, body: unknown) => {
        rs.writeHead(status, { 'content-type': 'application/json', server: 'fake-gemini' });
        rs.end(JSON.stringify(body));
      };
      if (rq.method !== 'POST' || !/\/models\/[^/]+:generateContent$/.test(rq.url ?? '')) return send(404, { error: { code: 404, message: `no route ${rq.url}`, status: 'NOT_FOUND' } });
      const body = JSON.parse(raw) as Record<string, unknown>;
      seen.push({ path: rq.url!, apiKey: rq.headers['x-goog-api-key'] as string | undefined, body });
      if (fail > 0) {
        fail--;
        return send(429, { error: { code: 429, message: 'Resource has been exhausted (fake)', status: 'RESOURCE_EXHAUSTED' } });
      }
      let imgs: FakeImage[];
      try {
        imgs = geminiImages(body.contents);
      } catch (err) {
        return send(400, { error: { code: 400, message: (err as Error).message, status: 'INVALID_ARGUMENT' } });
      }
      if (imgs.length) images.push(imgs);
      const max = (body.generationConfig as { maxOutputTokens?: number } | undefined)?.maxOutputTokens;
      send(200, {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: opts.answerImageHashes && imgs.length ? describeFakeImages(imgs) : (opts.text ?? 'The answer is \\boxed{42}.') }] },
            finishReason: max !== undefined && max < 5 ? 'MAX_TOKENS' : 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 13, candidatesTokenCount: 5, totalTokenCount: 18 },
        modelVersion: opts.modelVersion ?? 'gemini-test-001',
      });
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
