/**
 * HTTP providers against local servers written for the tests (no real model can run here): the
 * OpenAI-compatible provider (plain JSON and SSE streaming, truncation, error mapping) and the Anthropic provider
 * (through @anthropic-ai/sdk pointed at a small Messages-API server on 127.0.0.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { startFakeAnthropicServer } from './fake-anthropic-server.ts';
import { createOpenAICompatibleProvider, mapFinishReason, parseOpenAIAddress, parseRetryAfter } from '../../src/providers/openai-compatible.ts';
import { createAnthropicProvider } from '../../src/providers/anthropic.ts';
import { createProvider } from '../../src/providers/registry.ts';
import { ProviderError } from '../../src/providers/types.ts';

const sample = { id: 'q1', input: 'What is 6*7?', target: '42', metadata: {} };
const req = (over: Record<string, unknown> = {}) => ({ messages: [{ role: 'user' as const, content: 'What is 6*7?' }], config: { chat_template: true }, sample, epoch: 0, signal: new AbortController().signal, ...over });

test('openai-compatible: JSON and SSE streaming give the same text, finish reason, model id and usage', async () => {
  const server = await startFakeOpenAIServer({ answers: { 'What is 6*7?': '42' }, modelId: 'served-model' });
  try {
    const plain = createOpenAICompatibleProvider(`openai-compatible:${server.url}#m`, { concurrency: 2, env: {} });
    const streamed = createOpenAICompatibleProvider(`openai-compatible:${server.url}?stream=1#m`, { concurrency: 2, env: {} });
    const a = await plain.generate(req());
    const b = await streamed.generate(req());
    assert.match(a.text, /The answer is 42/);
    assert.equal(b.text, a.text);
    assert.equal(a.finish_reason, 'stop');
    assert.equal(b.finish_reason, 'stop');
    assert.equal(a.model_id, 'served-model');
    assert.equal(b.model_id, 'served-model');
    assert.ok(a.completion_tokens! > 0);
    assert.equal(b.completion_tokens, a.completion_tokens);
    assert.equal(server.stats.streamed, 1);
    const cut = await plain.generate(req({ config: { chat_template: true, max_tokens: 3 } }));
    assert.equal(cut.finish_reason, 'length');
    await plain.close();
    await streamed.close();
  } finally {
    await server.close();
  }
});

test('openai-compatible: faults map to retryable ProviderErrors with Retry-After', async () => {
  const server = await startFakeOpenAIServer({ answers: { 'What is 6*7?': '42' } });
  const p = createOpenAICompatibleProvider(`openai-compatible:${server.url}#m`, { concurrency: 1, env: {} });
  try {
    const expectError = async (faults: object, check: (e: ProviderError) => void) => {
      server.setFaults(faults);
      await assert.rejects(p.generate(req()), (e: unknown) => {
        assert.ok(e instanceof ProviderError, String(e));
        check(e);
        return true;
      });
    };
    await expectError({ rateLimit: { firstN: 1 }, retryAfterSeconds: 2 }, (e) => {
      assert.equal(e.opts.rateLimited, true);
      assert.equal(e.opts.retryAfterMs, 2000);
    });
    await expectError({ serverError: { firstN: 1 } }, (e) => assert.equal(e.opts.status, 500));
    await expectError({ malformedJson: { firstN: 1 } }, (e) => assert.match(e.message, /malformed JSON/));
    await expectError({ badSchema: { firstN: 1 } }, (e) => assert.match(e.message, /unexpected response shape/));
    await expectError({ dropConnection: { firstN: 1 } }, (e) => assert.equal(e.opts.retryable, true));
  } finally {
    await p.close();
    await server.close();
  }
});

test('address parsing, Retry-After and finish-reason mapping', async () => {
  assert.deepEqual(parseOpenAIAddress('openai-compatible:http://127.0.0.1:8000/v1#qwen2.5-7b', {}), { baseUrl: 'http://127.0.0.1:8000/v1', model: 'qwen2.5-7b', apiKey: undefined, stream: false, kind: 'openai-compatible' });
  assert.throws(() => parseOpenAIAddress('openai-compatible:http://127.0.0.1:8000/v1', {}), /needs #<model>/);
  assert.throws(() => parseOpenAIAddress('openai-compatible:not a url#m', {}), /not a URL/);
  await assert.rejects(createProvider('openai:gpt-4o-mini', { concurrency: 1, env: {} }), /OPENAI_API_KEY/);
  await assert.rejects(createProvider('bogus:x', { concurrency: 1 }), /unknown model address/);
  assert.equal(parseRetryAfter({ 'retry-after': '3' }), 3000);
  assert.equal(parseRetryAfter({ 'retry-after-ms': '150', 'retry-after': '3' }), 150);
  assert.equal(parseRetryAfter({}), undefined);
  assert.equal(mapFinishReason('length'), 'length');
  assert.equal(mapFinishReason('max_tokens'), 'length');
  assert.equal(mapFinishReason('end_turn'), 'stop');
  assert.equal(mapFinishReason('weird'), 'unknown');
});

test('anthropic: the SDK provider against a local Messages-API server (system prompt split out, usage, stop reason, 429)', async () => {
  const server = await startFakeAnthropicServer();
  const { seen, url } = server;
  try {
    const p = createAnthropicProvider('anthropic:claude-test', { concurrency: 1, env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: url } });
    const r = await p.generate(req({ messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'What is 6*7?' }], config: { chat_template: true, temperature: 0.5, max_tokens: 64 } }));
    assert.equal(r.text, 'The answer is \\boxed{42}.');
    assert.equal(r.model_id, 'claude-test-reported');
    assert.equal(r.finish_reason, 'stop');
    assert.deepEqual([r.prompt_tokens, r.completion_tokens], [11, 7]);
    assert.equal(seen[0]!.system, 'Be terse.');
    assert.deepEqual(seen[0]!.messages, [{ role: 'user', content: 'What is 6*7?' }]);
    assert.equal(seen[0]!.temperature, 0.5);
    const t = await p.generate(req({ config: { chat_template: true, max_tokens: 2 } }));
    assert.equal(t.finish_reason, 'length');
    server.fail429(1);
    await assert.rejects(p.generate(req()), (e: unknown) => e instanceof ProviderError && e.opts.rateLimited === true && e.opts.retryAfterMs === 1000);
    assert.throws(() => createAnthropicProvider('anthropic:claude-test', { concurrency: 1, env: {} }), /ANTHROPIC_API_KEY/);
  } finally {
    await server.close();
  }
});

test('openai-compatible: a character split across two network chunks is decoded whole (SSE and JSON bodies)', async () => {
  const { createServer } = await import('node:http');
  // "é" is 0xC3 0xA9 in UTF-8: the server sends its two bytes in separate writes, with a pause between them.
  const text = 'caf\u00e9 = 42';
  const server = createServer((req, res) => {
    let received = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (received += c));
    req.on('end', () => {
      const streamBody = Buffer.from(`data: ${JSON.stringify({ model: 'm', choices: [{ delta: { content: text }, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
      const jsonBody = Buffer.from(JSON.stringify({ model: 'm', choices: [{ message: { role: 'assistant', content: text }, finish_reason: 'stop' }] }));
      const streaming = JSON.parse(received).stream === true;
      const body = streaming ? streamBody : jsonBody;
      const cut = body.indexOf(0xc3) + 1;
      res.writeHead(200, { 'content-type': streaming ? 'text/event-stream' : 'application/json' });
      res.write(body.subarray(0, cut));
      setTimeout(() => res.end(body.subarray(cut)), 30);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  try {
    for (const stream of [false, true]) {
      const p = createOpenAICompatibleProvider(`openai-compatible:http://127.0.0.1:${port}/v1${stream ? '?stream=1' : ''}#m`, { concurrency: 1, env: {} });
      const r = await p.generate(req());
      assert.equal(r.text, text, stream ? 'SSE' : 'JSON');
      await p.close();
    }
  } finally {
    server.close();
  }
});

test('one rule for retryable HTTP statuses, shared by every provider', async () => {
  const { isRetryableStatus } = await import('../../src/providers/types.ts');
  assert.deepEqual([0, 400, 401, 403, 404, 408, 409, 422, 429, 500, 503, 529].filter(isRetryableStatus), [0, 408, 409, 429, 500, 503, 529]);
});
