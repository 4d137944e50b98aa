/**
 * A small Anthropic Messages-API server on 127.0.0.1 for tests: `POST /v1/messages` answers one text block,
 * records every request body, reports a configurable model id and response headers, and can answer 429 a given
 * number of times. `stop_reason` is `max_tokens` when the request's max_tokens is below 5, else `end_turn`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options of {@link startFakeAnthropicServer}. */
export interface FakeAnthropicOptions {
  /** Model id reported in every answer (default `claude-test-reported`). */
  model?: string;
  /** Text of the answer (default `The answer is \boxed{42}.`). */
  text?: string;
  /** Extra headers on every answer. */
  headers?: Record<string, string>;
}

/** Handle of a running fake Anthropic server. */
export interface FakeAnthropicServer {
  /** Base URL for ANTHROPIC_BASE_URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Request bodies received, in order. */
  seen: Record<string, unknown>[];
  /** Answer the next n requests with 429 (`retry-after: 1`). */
  fail429(n: number): void;
  close(): Promise<void>;
}

/** Start the server; resolves once it listens. */
export async function startFakeAnthropicServer(opts: FakeAnthropicOptions = {}): Promise<FakeAnthropicServer> {
  const seen: Record<string, unknown>[] = [];
  let fail = 0;
  const server = createServer((rq, rs) => {
    let body = '';
    rq.on('data', (d) => (body += d));
    rq.on('end', () => {
      const json = JSON.parse(body) as Record<string, unknown>;
      seen.push(json);
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
          content: [{ type: 'text', text: opts.text ?? 'The answer is \\boxed{42}.' }],
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
