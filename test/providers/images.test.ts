/**
 * Image content parts on the wire, for every provider that sends them. No real model can run here, so each provider
 * talks to a small local server written for the tests: the OpenAI-compatible test server (testkit), the fake
 * Anthropic Messages-API server and a fake Gemini endpoint (the official SDKs pointed at 127.0.0.1 through their base
 * URL). Each server decodes the images it receives and answers with their hashes, so the tests check that the bytes
 * arrive intact, with the right MIME type, in each API's own format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { imageFromBytes, type ImageBlob, type ImageResolver } from '../../src/core/images.ts';
import { imagePart, type Message } from '../../src/core/schemas.ts';
import { createAnthropicProvider } from '../../src/providers/anthropic.ts';
import { createGoogleProvider } from '../../src/providers/google.ts';
import { checkImageSupport } from '../../src/providers/images.ts';
import { createOpenAICompatibleProvider } from '../../src/providers/openai-compatible.ts';
import { createProvider } from '../../src/providers/registry.ts';
import { ProviderError } from '../../src/providers/types.ts';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { startFakeAnthropicServer } from './fake-anthropic-server.ts';
import { startFakeGeminiServer } from './fake-gemini-server.ts';
import { req } from './request.ts';

/** A small image of each type: the type's signature, then bytes that differ by `seed`. */
function image(kind: 'png' | 'jpeg' | 'webp', seed: number): ImageBlob {
  const head = kind === 'png' ? Buffer.from('89504e470d0a1a0a', 'hex') : kind === 'jpeg' ? Buffer.from('ffd8ffe0', 'hex') : Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]);
  // Every byte value, so a transport that mangled any byte (UTF-8, base64url) would change the hash.
  const body = Buffer.from(Array.from({ length: 512 }, (_, i) => (i + seed) & 0xff));
  return imageFromBytes(Buffer.concat([head, body]));
}

const png = image('png', 1), jpeg = image('jpeg', 2), webp = image('webp', 3);
const store = new Map([png, jpeg, webp].map((b) => [b.sha256, b]));
const resolver: ImageResolver = { get: async (h) => store.get(h) ?? Promise.reject(new Error(`no image ${h}`)) };
const expected = (...bs: ImageBlob[]) => bs.map((b) => `image ${b.mime_type} ${b.sha256}`).join('\n');

/** A conversation with images in two user turns (and a text-only assistant turn between them). */
const conversation: Message[] = [
  { role: 'system', content: 'Read the chart.' },
  { role: 'user', content: [{ type: 'text', text: 'Compare these two:' }, imagePart(png), imagePart(jpeg)] },
  { role: 'assistant', content: 'They differ.' },
  { role: 'user', content: [imagePart(webp), { type: 'text', text: 'And this one?' }] },
];

test('openai-compatible and openai: image parts go as image_url data URIs, bytes intact, MIME types right', async () => {
  const server = await startFakeOpenAIServer({ answerImageHashes: true, recordRequests: true });
  try {
    for (const address of [`openai-compatible:${server.url}#vlm`, 'openai:gpt-4o-mini']) {
      const p = createOpenAICompatibleProvider(address, { concurrency: 1, env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: server.url } });
      assert.equal(p.capabilities.images, 'sent');
      const r = await p.generate(req({}, { messages: conversation, images: resolver }));
      assert.equal(r.text, expected(png, jpeg, webp), address);
      const sent = server.received.at(-1)!.messages;
      assert.deepEqual(sent[0], { role: 'system', content: 'Read the chart.' });
      assert.deepEqual(sent[1]!.content, [
        { type: 'text', text: 'Compare these two:' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${png.bytes.toString('base64')}` } },
        { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${jpeg.bytes.toString('base64')}` } },
      ]);
      assert.deepEqual(sent[2], { role: 'assistant', content: 'They differ.' });
      assert.deepEqual((sent[3]!.content as { type: string }[]).map((x) => x.type), ['image_url', 'text']);
      assert.deepEqual(server.receivedImages.at(-1)!.map((i) => [i.mime_type, i.sniffed, i.sha256]), [png, jpeg, webp].map((b) => [b.mime_type, b.mime_type, b.sha256]));
      // A text conversation is sent exactly as before (plain strings).
      await p.generate(req({}, { messages: [{ role: 'user', content: [{ type: 'text', text: 'What is' }, { type: 'text', text: '6*7?' }] }] }));
      assert.deepEqual(server.received.at(-1)!.messages, [{ role: 'user', content: 'What is\n\n6*7?' }]);
      // Without the run's image store, or with an image in a system message: a failed call, not retried.
      await assert.rejects(p.generate(req({}, { messages: conversation })), (e: unknown) => e instanceof ProviderError && !e.opts.retryable && /no image store/.test(e.message));
      await assert.rejects(
        p.generate(req({}, { messages: [{ role: 'system', content: [imagePart(png)] }, { role: 'user', content: 'q' }], images: resolver })),
        (e: unknown) => e instanceof ProviderError && /system message/.test(e.message),
      );
      await p.close();
    }
    assert.equal(server.stats.images, 6);
  } finally {
    await server.close();
  }
});

test('anthropic: image parts go as base64 image source blocks (media_type, data), bytes intact', async () => {
  const server = await startFakeAnthropicServer({ answerImageHashes: true });
  try {
    const p = createAnthropicProvider('anthropic:claude-sonnet-4-5', { concurrency: 1, env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: server.url } });
    assert.equal(p.capabilities.images, 'sent');
    const r = await p.generate(req({}, { messages: conversation, images: resolver }));
    assert.equal(r.text, expected(png, jpeg, webp));
    const body = server.seen[0]!;
    assert.equal(body.system, 'Read the chart.');
    const msgs = body.messages as { role: string; content: unknown }[];
    assert.deepEqual(msgs[0]!.content, [
      { type: 'text', text: 'Compare these two:' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png.bytes.toString('base64') } },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: jpeg.bytes.toString('base64') } },
    ]);
    assert.deepEqual(msgs[1], { role: 'assistant', content: 'They differ.' });
    assert.deepEqual(server.images[0]!.map((i) => [i.mime_type, i.sniffed, i.sha256]), [png, jpeg, webp].map((b) => [b.mime_type, b.mime_type, b.sha256]));
    await p.close();
    // Claude 2 takes no images: declared, so a run is refused before it starts.
    const old = createAnthropicProvider('anthropic:claude-2.1', { concurrency: 1, env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: server.url } });
    assert.equal(old.capabilities.images, 'unsupported');
    assert.throws(() => checkImageSupport(old, { images: 1, samples: 1, firstSampleId: 'q1' }, 'charts'), /anthropic:claude-2\.1 cannot take images .*"q1".*--text-only/);
  } finally {
    await server.close();
  }
});

test('google: the @google/genai SDK against a local Gemini endpoint: inlineData parts, system instruction, settings, finish reasons, 429', async () => {
  const server = await startFakeGeminiServer({ answerImageHashes: true });
  try {
    const p = await createProvider('google:gemini-2.5-flash', { concurrency: 1, env: { GOOGLE_API_KEY: 'g-key', GOOGLE_BASE_URL: server.url } });
    assert.equal(p.kind, 'google');
    assert.equal(p.capabilities.images, 'sent');
    const r = await p.generate(req({ temperature: 0.3, top_p: 0.9, top_k: 20, max_tokens: 64, seed: 7, stop: ['END'] }, { messages: conversation, images: resolver, epoch: 2 }));
    assert.equal(r.text, expected(png, jpeg, webp));
    assert.equal(r.model_id, 'gemini-test-001');
    assert.equal(r.finish_reason, 'stop');
    assert.deepEqual([r.prompt_tokens, r.completion_tokens], [13, 5]);
    assert.deepEqual(r.server, { server: 'fake-gemini' });
    const { path, apiKey, body } = server.seen[0]!;
    assert.match(path, /\/models\/gemini-2\.5-flash:generateContent$/);
    assert.equal(apiKey, 'g-key');
    const contents = body.contents as { role: string; parts: Record<string, unknown>[] }[];
    assert.deepEqual(contents.map((c) => c.role), ['user', 'model', 'user']);
    assert.deepEqual(contents[0]!.parts, [
      { text: 'Compare these two:' },
      { inlineData: { mimeType: 'image/png', data: png.bytes.toString('base64') } },
      { inlineData: { mimeType: 'image/jpeg', data: jpeg.bytes.toString('base64') } },
    ]);
    assert.deepEqual(contents[2]!.parts, [{ inlineData: { mimeType: 'image/webp', data: webp.bytes.toString('base64') } }, { text: 'And this one?' }]);
    assert.deepEqual(body.systemInstruction, { parts: [{ text: 'Read the chart.' }], role: 'user' });
    const gc = body.generationConfig as Record<string, unknown>;
    assert.deepEqual({ t: gc.temperature, p: gc.topP, k: gc.topK, m: gc.maxOutputTokens, s: gc.seed, stop: gc.stopSequences, n: gc.candidateCount }, { t: 0.3, p: 0.9, k: 20, m: 64, s: 9, stop: ['END'], n: 1 });
    assert.deepEqual(server.images[0]!.map((i) => [i.mime_type, i.sniffed, i.sha256]), [png, jpeg, webp].map((b) => [b.mime_type, b.mime_type, b.sha256]));
    assert.equal((await p.generate(req({ max_tokens: 2 }))).finish_reason, 'length');
    server.fail429(1);
    await assert.rejects(p.generate(req({})), (e: unknown) => e instanceof ProviderError && e.opts.rateLimited === true && e.opts.retryable);
    await p.close();
    assert.throws(() => createGoogleProvider('google:gemini-2.5-flash', { concurrency: 1, env: {} }), /GOOGLE_API_KEY/);
    assert.throws(() => createGoogleProvider('google:', { concurrency: 1, env: { GOOGLE_API_KEY: 'k' } }), /needs a model name/);
  } finally {
    await server.close();
  }
});

test('which providers take images: declared per provider and model, never guessed', async () => {
  const env = { OPENAI_API_KEY: 'k' };
  const caps = async (a: string) => (await createProvider(a, { concurrency: 1, env })).capabilities;
  assert.equal((await caps('openai:gpt-3.5-turbo')).images, 'unsupported');
  assert.equal((await caps('openai:ft:gpt-3.5-turbo-0125:org::abc')).images, 'unsupported');
  assert.equal((await caps('openai:o3-mini')).images, 'unsupported');
  assert.equal((await caps('openai:gpt-4o')).images, 'sent');
  assert.equal((await caps('openai:gpt-4.1-mini')).images, 'sent');
  assert.equal((await caps('reference:oracle')).images, 'ignored');
  const text = await createProvider('openai:gpt-3.5-turbo', { concurrency: 1, env });
  assert.throws(() => checkImageSupport(text, { images: 3, samples: 2, firstSampleId: 'c1' }, 'charts'), (e: unknown) => e instanceof Error && e.name === 'InputError' && /openai:gpt-3\.5-turbo cannot take images \(OpenAI's gpt-3\.5-turbo takes text only\), but 2 samples of charts have image parts \(first: "c1"\)\. Nothing was sent/.test(e.message));
  assert.equal(checkImageSupport(text, { images: 0, samples: 0, firstSampleId: null }, 'gsm8k'), null);
  assert.match(checkImageSupport(await createProvider('reference:oracle', { concurrency: 1 }), { images: 3, samples: 2, firstSampleId: 'c1' }, 'charts')!, /ignores images/);
  // A provider registered without a declaration is taken not to take images.
  assert.throws(() => checkImageSupport({ address: 'x:y', kind: 'x', capabilities: { remote: true, settings: text.capabilities.settings } }, { images: 1, samples: 1, firstSampleId: 'a' }, 'd'), /x declares no image support/);
  assert.equal(createHash('sha256').update(png.bytes).digest('hex'), png.sha256);
});
