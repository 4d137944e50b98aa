/**
 * Honest providers: each provider declares what it does with every generation setting, never sends what it
 * declares unsent (checked on what real local HTTP servers received), and reports what the server says about
 * itself (model id, system_fingerprint, identity headers) so a changed server can be detected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GenerationConfig, Message } from '../../src/core/schemas.ts';
import { ANTHROPIC_CAPABILITIES, createAnthropicProvider } from '../../src/providers/anthropic.ts';
import { IDENTITY_HEADERS, identityMismatch, serverHeaders } from '../../src/providers/identity.ts';
import { createOpenAICompatibleProvider, openAISettings } from '../../src/providers/openai-compatible.ts';
import { createProvider } from '../../src/providers/registry.ts';
import { GENERATION_SETTINGS, sendableConfig, sendsSetting, unsentSettings } from '../../src/providers/settings.ts';
import type { GenerateRequest, Provider } from '../../src/providers/types.ts';
import { startFakeOpenAIServer } from '../helpers/fake-openai-server.ts';
import { startFakeAnthropicServer } from './fake-anthropic-server.ts';

const sample = { id: 'q1', input: 'What is 6*7?', target: '42', metadata: {} };
const ask: Message[] = [{ role: 'user', content: 'What is 6*7?' }];
const req = (config: Partial<GenerationConfig>, over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: ask,
  config: { chat_template: true, ...config },
  sample,
  epoch: 0,
  signal: new AbortController().signal,
  ...over,
});
const full: GenerationConfig = { temperature: 0.6, top_p: 0.95, top_k: 20, max_tokens: 64, seed: 7, stop: ['\n\n\n'], chat_template: true };

async function providers(dir: string, openaiUrl: string): Promise<Record<string, Provider>> {
  const replayFile = join(dir, 'replay.jsonl');
  writeFileSync(replayFile, '{"id":"q1","response":"The answer is 42."}\n');
  const env = { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: openaiUrl, ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' };
  return {
    openai: await createProvider('openai:gpt-test', { concurrency: 1, env }),
    'openai-compatible': await createProvider(`openai-compatible:${openaiUrl}#m`, { concurrency: 1, env }),
    anthropic: await createProvider('anthropic:claude-test', { concurrency: 1, env }),
    reference: await createProvider('reference:noisy?p=0.5', { concurrency: 1, seed: 1 }),
    replay: await createProvider(`replay:${replayFile}`, { concurrency: 1 }),
  };
}

test('every provider declares every generation setting: what it sends, what its API lacks, what it cannot use', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-honest-'));
  const ps = await providers(dir, 'http://127.0.0.1:9/v1');
  try {
    const table = Object.fromEntries(Object.entries(ps).map(([k, p]) => [k, p.capabilities.settings]));
    assert.deepEqual(table, {
      openai: { temperature: 'sent', top_p: 'sent', top_k: 'unsupported', max_tokens: 'sent', seed: 'sent', stop: 'sent', system_prompt: 'sent', chat_template: 'unsupported' },
      'openai-compatible': { temperature: 'sent', top_p: 'sent', top_k: 'sent', max_tokens: 'sent', seed: 'sent', stop: 'sent', system_prompt: 'sent', chat_template: 'unsupported' },
      anthropic: { temperature: 'sent', top_p: 'sent', top_k: 'sent', max_tokens: 'sent', seed: 'unsupported', stop: 'sent', system_prompt: 'sent', chat_template: 'unsupported' },
      reference: { temperature: 'ignored', top_p: 'ignored', top_k: 'ignored', max_tokens: 'ignored', seed: 'sent', stop: 'ignored', system_prompt: 'ignored', chat_template: 'ignored' },
      replay: { temperature: 'ignored', top_p: 'ignored', top_k: 'ignored', max_tokens: 'ignored', seed: 'ignored', stop: 'ignored', system_prompt: 'ignored', chat_template: 'ignored' },
    });
    for (const p of Object.values(ps)) {
      assert.deepEqual(Object.keys(p.capabilities.settings).sort(), [...GENERATION_SETTINGS].sort(), p.kind);
    }
    assert.deepEqual([ps.openai!.capabilities.remote, ps.anthropic!.capabilities.remote, ps.reference!.capabilities.remote, ps.replay!.capabilities.remote], [true, true, false, false]);
    assert.equal(sendsSetting(ps.openai!, 'top_k'), false);
    assert.equal(sendsSetting(ps['openai-compatible']!, 'top_k'), true);
    assert.equal(sendsSetting(ps.anthropic!, 'seed'), false);
    assert.deepEqual(ps.anthropic!.capabilities, ANTHROPIC_CAPABILITIES);
    assert.deepEqual(ps.openai!.capabilities, openAISettings('openai'));
  } finally {
    for (const p of Object.values(ps)) await p.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unsentSettings: what each provider leaves out of a full config, with reasons, in a fixed order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-honest-'));
  const ps = await providers(dir, 'http://127.0.0.1:9/v1');
  try {
    const names = (p: Provider, c: Partial<GenerationConfig>) => unsentSettings(p, c).map((u) => u.setting);
    assert.deepEqual(unsentSettings(ps.openai!, full), [{ setting: 'top_k', value: 20, reason: "OpenAI's chat completions API has no top_k parameter" }]);
    assert.deepEqual(unsentSettings(ps['openai-compatible']!, full), []);
    // Anthropic: no seed; top_p loses to temperature (current models reject both), and is sent when alone.
    const a = unsentSettings(ps.anthropic!, full);
    assert.deepEqual(a.map((u) => [u.setting, u.value]), [['top_p', 0.95], ['seed', 7]]);
    assert.match(a[0]!.reason, /temperature and top_p/);
    assert.match(a[1]!.reason, /no seed parameter/);
    assert.deepEqual(names(ps.anthropic!, { top_p: 0.9, top_k: 5, chat_template: true }), []);
    // Synthetic and recorded models: everything but the reference model's seed, each saying why.
    assert.deepEqual(names(ps.reference!, full), ['temperature', 'top_p', 'top_k', 'max_tokens', 'stop']);
    assert.match(unsentSettings(ps.reference!, full)[0]!.reason, /synthetic/);
    const replayed = unsentSettings(ps.replay!, { ...full, system_prompt: 'Be brief.' });
    assert.deepEqual(replayed.map((u) => u.setting), ['temperature', 'top_p', 'top_k', 'max_tokens', 'seed', 'stop', 'system_prompt']);
    assert.match(replayed.find((u) => u.setting === 'temperature')!.reason, /recorded response cannot honour temperature/);
    // Only settings actually asked for: undefined, [] and '' ask for nothing; chat_template only when false.
    for (const p of Object.values(ps)) assert.deepEqual(unsentSettings(p, { stop: [], system_prompt: '', chat_template: true }), [], p.kind);
    assert.deepEqual(names(ps.openai!, { chat_template: false }), ['chat_template']);
    assert.match(unsentSettings(ps['openai-compatible']!, { chat_template: false })[0]!.reason, /chat template/);
    // Pure: the config is untouched and the answer repeats.
    const before = structuredClone(full);
    assert.deepEqual(unsentSettings(ps.anthropic!, full), a);
    assert.deepEqual(full, before);
    // A provider must declare its settings.
    assert.throws(() => unsentSettings({ kind: 'custom', capabilities: { remote: true } as never }, full), /custom declares no capabilities.settings/);
    // A generic reason when the provider words none.
    const bare = { kind: 'custom', capabilities: { remote: false, settings: { ...openAISettings('openai-compatible').settings, seed: 'ignored' as const, top_k: 'unsupported' as const } } };
    assert.deepEqual(unsentSettings(bare, full).map((u) => u.reason), ['custom does not support top_k', 'custom ignores seed: its output cannot depend on it']);
  } finally {
    for (const p of Object.values(ps)) await p.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sendableConfig drops exactly the unsent settings and returns the config itself when nothing is dropped', () => {
  const oa = { kind: 'openai', capabilities: openAISettings('openai') };
  const oc = { kind: 'openai-compatible', capabilities: openAISettings('openai-compatible') };
  assert.equal(sendableConfig(oc, full), full);
  const sent = sendableConfig(oa, full);
  assert.notEqual(sent, full);
  assert.equal('top_k' in sent, false);
  assert.deepEqual({ ...sent, top_k: 20 }, full);
  assert.equal(full.top_k, 20, 'the input config is not changed');
  const an = sendableConfig({ kind: 'anthropic', capabilities: ANTHROPIC_CAPABILITIES }, full);
  assert.deepEqual([an.temperature, an.top_p, an.seed, an.top_k], [0.6, undefined, undefined, 20]);
});

test('openai: never receives top_k; openai-compatible does; both get the other settings and the per-epoch seed', async () => {
  const server = await startFakeOpenAIServer({ answers: { 'What is 6*7?': '42' }, recordRequests: true });
  const openai = createOpenAICompatibleProvider('openai:gpt-test', { concurrency: 1, env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: server.url } });
  const compat = createOpenAICompatibleProvider(`openai-compatible:${server.url}#m`, { concurrency: 1, env: {} });
  try {
    await openai.generate(req(full, { epoch: 2 }));
    await compat.generate(req(full, { epoch: 2 }));
    const [toOpenAI, toCompat] = server.received;
    assert.ok(toOpenAI && toCompat);
    assert.equal('top_k' in toOpenAI, false, 'top_k must not reach OpenAI');
    assert.equal(toCompat.top_k, 20);
    for (const body of [toOpenAI, toCompat]) {
      assert.deepEqual([body.temperature, body.top_p, body.max_tokens, body.seed, body.stop], [0.6, 0.95, 64, 9, ['\n\n\n']]);
      assert.equal('chat_template' in body, false);
    }
    // What unsentSettings reports is exactly what the server did not receive.
    for (const [p, body] of [[openai, toOpenAI], [compat, toCompat]] as const) {
      for (const u of unsentSettings(p, full)) assert.equal(u.setting in body, false, `${p.kind} sent ${u.setting}`);
    }
  } finally {
    await openai.close();
    await compat.close();
    await server.close();
  }
});

test('anthropic: seed is never sent; top_p only when temperature is not; top_k and stop sequences are', async () => {
  const server = await startFakeAnthropicServer();
  const p = createAnthropicProvider('anthropic:claude-test', { concurrency: 1, env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: server.url } });
  try {
    await p.generate(req(full));
    await p.generate(req({ top_p: 0.9, seed: 3 }));
    const [both, alone] = server.seen;
    assert.equal('seed' in both!, false);
    assert.equal('top_p' in both!, false);
    assert.deepEqual([both!.temperature, both!.top_k, both!.max_tokens, both!.stop_sequences], [0.6, 20, 64, ['\n\n\n']]);
    assert.equal('seed' in alone!, false);
    assert.equal(alone!.top_p, 0.9);
    assert.equal('temperature' in alone!, false);
  } finally {
    await p.close();
    await server.close();
  }
});

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

test('messages with content parts: providers send their text; replay and reference read it', async () => {
  const parts: Message[] = [
    { role: 'system', content: [{ type: 'text', text: 'Be terse.' }] },
    { role: 'user', content: [{ type: 'text', text: 'What is' }, { type: 'text', text: '6*7?' }] },
  ];
  const oa = await startFakeOpenAIServer({ answers: { 'What is\n\n6*7?': '42' }, recordRequests: true });
  const an = await startFakeAnthropicServer();
  const dir = mkdtempSync(join(tmpdir(), 'assay-parts-'));
  const o = createOpenAICompatibleProvider(`openai-compatible:${oa.url}#m`, { concurrency: 1, env: {} });
  const a = createAnthropicProvider('anthropic:claude-test', { concurrency: 1, env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: an.url } });
  try {
    const r = await o.generate(req({}, { messages: parts }));
    assert.match(r.text, /The answer is 42/);
    assert.deepEqual(oa.received[0]!.messages, [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'What is\n\n6*7?' },
    ]);
    await a.generate(req({}, { messages: parts }));
    assert.equal(an.seen[0]!.system, 'Be terse.');
    assert.deepEqual(an.seen[0]!.messages, [{ role: 'user', content: 'What is\n\n6*7?' }]);
    // Replay matches a sample whose input is a message list with content parts on its question text.
    const file = join(dir, 'tora.jsonl');
    writeFileSync(file, `${JSON.stringify({ question: 'What is 6*7?', idx: 0, code: ['The answer is 42.'], pred: ['42'] })}\n`);
    const replay = await createProvider(`replay:${file}`, { concurrency: 1 });
    const partsSample = { id: 'x', input: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'What is 6*7?' }] }], target: '42', metadata: {} };
    const rr = await replay.generate(req({}, { sample: partsSample, messages: partsSample.input }));
    assert.equal(rr.text, 'The answer is 42.');
    const needle = await createProvider('reference:needle', { concurrency: 1 });
    assert.match((await needle.generate(req({}, { messages: parts }))).text, /cannot find a needle-threading task/);
  } finally {
    await o.close();
    await a.close();
    await oa.close();
    await an.close();
    rmSync(dir, { recursive: true, force: true });
  }
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
