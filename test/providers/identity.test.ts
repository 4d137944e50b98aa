/**
 * What a server says about itself (model id, system_fingerprint, identity headers), read from JSON and SSE responses,
 * so that a changed server can be detected; and when a difference in identity stops a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAnthropicProvider } from '../../src/providers/anthropic.ts';
import { IDENTITY_HEADERS, identityMismatch, serverHeaders } from '../../src/providers/identity.ts';
import { createOpenAICompatibleProvider } from '../../src/providers/openai-compatible.ts';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { startFakeAnthropicServer } from './fake-anthropic-server.ts';
import { req } from './request.ts';

test('openai-compatible: system_fingerprint and identity headers from JSON and SSE responses', async () => {
  const headers = {
    server: 'uvicorn',
    'x-vllm-version': '0.9.1',
    'x-request-id': 'req-123',
    'x-vllm-request-id': 'abc',
    'openai-organization': 'org-secret',
    'x-ratelimit-remaining-requests': '99',
  };
  const server = await startFakeOpenAIServer({ answers: { 'What is 6*7?': '42' }, modelId: 'qwen-7b', systemFingerprint: 'fp_A', headers });
  const plain = createOpenAICompatibleProvider(`openai-compatible:${server.url}#m`, { concurrency: 1, env: {} });
  const streamed = createOpenAICompatibleProvider(`openai-compatible:${server.url}?stream=1#m`, { concurrency: 1, env: {} });
  try {
    for (const p of [plain, streamed]) {
      const r = await p.generate(req({}));
      assert.match(r.text, /The answer is 42/);
      assert.equal(r.model_id, 'qwen-7b');
      assert.equal(r.system_fingerprint, 'fp_A');
      assert.deepEqual(r.server, { server: 'uvicorn', 'x-vllm-version': '0.9.1' }, 'no request ids, secrets or rate-limit state');
    }
    assert.equal(server.stats.streamed, 1);
    // The same address now serves another build and model: both response kinds say so.
    const stored = { reported_model_ids: ['qwen-7b'], system_fingerprints: ['fp_A'] };
    server.setIdentity({ modelId: 'qwen-7b-instruct', systemFingerprint: 'fp_B', headers: { server: 'llama.cpp' } });
    for (const p of [plain, streamed]) {
      const r = await p.generate(req({}));
      assert.deepEqual([r.model_id, r.system_fingerprint, r.server], ['qwen-7b-instruct', 'fp_B', { server: 'llama.cpp' }]);
      const msg = identityMismatch(stored, r);
      assert.ok(msg);
      assert.match(msg, /"qwen-7b-instruct".*"qwen-7b"/);
      assert.match(msg, /"fp_B".*"fp_A"/);
    }
    // A server that reports no fingerprint: null, and not a mismatch by itself.
    server.setIdentity({ modelId: 'qwen-7b', systemFingerprint: undefined, headers: {} });
    for (const p of [plain, streamed]) {
      const r = await p.generate(req({}));
      assert.deepEqual([r.system_fingerprint, r.server], [null, {}]);
      assert.equal(identityMismatch(stored, r), null);
    }
    // `"system_fingerprint": null` is read as none too.
    server.setIdentity({ systemFingerprint: null });
    assert.equal((await streamed.generate(req({}))).system_fingerprint, null);
    assert.equal((await plain.generate(req({}))).system_fingerprint, null);
  } finally {
    await plain.close();
    await streamed.close();
    await server.close();
  }
});

test('anthropic: model id and identity headers from the response; no fingerprint', async () => {
  const server = await startFakeAnthropicServer({
    model: 'claude-test-20250101',
    headers: { server: 'cloudflare', 'request-id': 'req_1', 'anthropic-organization-id': 'org-secret', 'cf-ray': 'x1' },
  });
  const p = createAnthropicProvider('anthropic:claude-test', { concurrency: 1, env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: server.url } });
  try {
    const r = await p.generate(req({}));
    assert.equal(r.model_id, 'claude-test-20250101');
    assert.equal(r.system_fingerprint, null);
    assert.deepEqual(r.server, { server: 'cloudflare' });
  } finally {
    await p.close();
    await server.close();
  }
});

test('identityMismatch: a different model id or fingerprint stops; missing evidence does not', () => {
  const stored = { reported_model_ids: ['gpt-4o-mini-2024-07-18'], system_fingerprints: ['fp_A', 'fp_B'] };
  assert.equal(identityMismatch(stored, { model_id: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_A' }), null);
  assert.equal(identityMismatch(stored, { model_id: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_B' }), null, 'a fingerprint the stored run saw');
  const model = identityMismatch(stored, { model_id: 'gpt-4o-2024-08-06', system_fingerprint: 'fp_A' });
  assert.match(model!, /server now reports model "gpt-4o-2024-08-06", but the stored run's server reported "gpt-4o-mini-2024-07-18"/);
  assert.doesNotMatch(model!, /fingerprint/);
  const fp = identityMismatch(stored, { model_id: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_C' });
  assert.match(fp!, /system_fingerprint "fp_C", but the stored run saw "fp_A", "fp_B"/);
  assert.match(fp!, /mix the answers of two different servers/);
  assert.doesNotMatch(fp!, /reports model/);
  const both = identityMismatch(stored, { model_id: 'other', system_fingerprint: 'fp_C' });
  assert.match(both!, /model "other".*; and .*system_fingerprint "fp_C"/);
  // No evidence either way.
  assert.equal(identityMismatch(stored, { model_id: null, system_fingerprint: null }), null);
  assert.equal(identityMismatch(stored, { model_id: 'gpt-4o-mini-2024-07-18' }), null);
  assert.equal(identityMismatch({ reported_model_ids: [] }, { model_id: 'anything', system_fingerprint: 'fp_Z' }), null);
  assert.equal(identityMismatch({ reported_model_ids: ['m'], system_fingerprints: [] }, { model_id: 'm', system_fingerprint: 'fp_Z' }), null, 'a stored run without fingerprints accepts any');
  // Exact comparison.
  assert.ok(identityMismatch({ reported_model_ids: ['Qwen/Qwen2.5-7B'] }, { model_id: 'qwen/qwen2.5-7b' }));
});

test('serverHeaders: the fixed list only, from undici records or fetch Headers; repeated values joined, long ones cut', () => {
  assert.deepEqual([...IDENTITY_HEADERS], ['server', 'openai-version', 'x-powered-by', 'x-vllm-version', 'x-litellm-version']);
  assert.deepEqual(serverHeaders({ server: ' uvicorn ', 'x-powered-by': ['a', 'b'], 'x-request-id': 'r', 'openai-version': '' }), { server: 'uvicorn', 'x-powered-by': 'a, b' });
  assert.deepEqual(serverHeaders(new Headers({ Server: 'llama.cpp', 'OpenAI-Version': '2020-10-01', Authorization: 'Bearer secret' })), { server: 'llama.cpp', 'openai-version': '2020-10-01' });
  assert.equal(serverHeaders({ server: 'x'.repeat(500) }).server!.length, 200);
  assert.deepEqual(serverHeaders(undefined), {});
});

test('fake server records requests only when asked', async () => {
  const server = await startFakeOpenAIServer({ answers: { 'What is 6*7?': '42' } });
  const p = createOpenAICompatibleProvider(`openai-compatible:${server.url}#m`, { concurrency: 1, env: {} });
  try {
    const r = await p.generate(req({ top_k: 3 }));
    assert.equal(server.received.length, 0);
    assert.equal(r.system_fingerprint, null, 'the default fake server reports no fingerprint');
    assert.deepEqual(r.server, {});
  } finally {
    await p.close();
    await server.close();
  }
});
