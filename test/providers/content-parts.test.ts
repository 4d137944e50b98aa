/** Messages with typed content parts: the HTTP providers send their text; replay and reference read it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '../../src/core/schemas.ts';
import { createAnthropicProvider } from '../../src/providers/anthropic.ts';
import { createOpenAICompatibleProvider } from '../../src/providers/openai-compatible.ts';
import { createProvider } from '../../src/providers/registry.ts';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { startFakeAnthropicServer } from './fake-anthropic-server.ts';
import { req } from './request.ts';

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
