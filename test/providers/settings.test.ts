/**
 * Which generation settings each provider sends: every provider declares what it does with every setting, and never
 * sends what it declares unsent (checked on what real local HTTP servers received).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GenerationConfig } from '../../src/core/schemas.ts';
import { ANTHROPIC_CAPABILITIES, createAnthropicProvider } from '../../src/providers/anthropic.ts';
import { createOpenAICompatibleProvider, openAISettings } from '../../src/providers/openai-compatible.ts';
import { createProvider } from '../../src/providers/registry.ts';
import { GENERATION_SETTINGS, sendableConfig, sendsSetting, unsentSettings } from '../../src/providers/settings.ts';
import type { Provider } from '../../src/providers/types.ts';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { startFakeAnthropicServer } from './fake-anthropic-server.ts';
import { req } from './request.ts';

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
      // chat_template: false goes to /v1/completions as plain text (base models).
      'openai-compatible': { temperature: 'sent', top_p: 'sent', top_k: 'sent', max_tokens: 'sent', seed: 'sent', stop: 'sent', system_prompt: 'sent', chat_template: 'sent' },
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
    // The settings are the declared ones; what a model does with images is declared beside them (providers/images.ts).
    assert.deepEqual(ps.anthropic!.capabilities, { ...ANTHROPIC_CAPABILITIES, images: 'sent' });
    assert.deepEqual(ps.openai!.capabilities, { ...openAISettings('openai'), images: 'sent' });
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
    assert.match(unsentSettings(ps.openai!, { chat_template: false })[0]!.reason, /chat template/);
    assert.deepEqual(names(ps['openai-compatible']!, { chat_template: false }), []);
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
