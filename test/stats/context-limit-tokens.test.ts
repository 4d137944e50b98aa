/**
 * The effective context limit in tokens (Needle Threading §4 states limits in each model's tokens): the token scale
 * (median prompt tokens per grid length, with range), the limit and its interval bounds converted through it, and
 * the tokenizer family guessed from a model's names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveContextLimit, limitInTokens, tokenScale, tokensAt } from '../../src/stats/context-limit.ts';
import { familyOfModel } from '../../src/tokenizers/index.ts';

test('token scale: median per grid length with range; the limit and its interval in tokens', () => {
  const s = tokenScale([
    { length: 2000, tokens: 700 }, { length: 1000, tokens: 350 }, { length: 1000, tokens: 360 }, { length: 1000, tokens: 340 },
    { length: 2000, tokens: 710 }, { length: 4000, tokens: Number.NaN }, { length: 4000, tokens: 1400 },
  ], 'recorded', null, 'test');
  assert.deepEqual(s.by_length, [
    { length: 1000, tokens: 350, min: 340, max: 360, counts: 3 },
    { length: 2000, tokens: 705, min: 700, max: 710, counts: 2 },
    { length: 4000, tokens: 1400, min: 1400, max: 1400, counts: 1 },
  ]);
  assert.equal(tokensAt(s, 2000), 705);
  assert.equal(tokensAt(s, 3000), null, 'no count at a length: null, never an interpolation');
  assert.equal(tokensAt(s, null), null);
  // accuracy 1 up to 2000 characters, 0 beyond: limit 2000 chars = 705 tokens
  const scores = [1000, 2000, 4000].flatMap((length) => Array.from({ length: 10 }, (_, i) => ({ sample_id: `${length}-${i}`, length, depth: null, task: 't', values: [length <= 2000 ? 1 : 0] })));
  const r = effectiveContextLimit(scores, { replicates: 100 });
  assert.equal(r.effective_limit, 2000);
  assert.deepEqual(limitInTokens(r, s), { effective_limit: 705, ci: { lo: 705, hi: 705 }, source: 'recorded', tokenizer: null });
});

test('tokenizer family from model names: a guess by name, null when nothing matches', () => {
  const cases: [string[], string | null][] = [
    [['openai:gpt-4o-mini'], 'o200k'], [['openai:gpt-4.1'], 'o200k'], [['openai:o3-mini'], 'o200k'], [['openai:gpt-4-turbo'], 'cl100k'], [['openai:gpt-3.5-turbo'], 'cl100k'],
    [['openai-compatible:http://127.0.0.1:8000/v1#qwen2.5-7b'], 'qwen3'], [['openai-compatible:http://127.0.0.1:8000/v1#m', 'meta-llama/Llama-3.1-8B-Instruct'], 'llama3'],
    [['anthropic:claude-sonnet-4-5'], 'claude'], [['google:gemini-2.5-flash'], 'gemini'], [['x#gemma-3-4b-it'], 'gemma3'], [['x#deepseek-chat'], 'deepseek_v3'],
    [['reference:needle'], null], [['openai-compatible:http://10.0.0.1:8000/v1#fake-needle', 'fake-needle'], null],
  ];
  for (const [names, want] of cases) assert.equal(familyOfModel(names), want, names.join(' '));
});
