/**
 * Reasoning models put their thinking between <think> and </think>; only what follows is the answer.
 * The kind of fault: a tentative \boxed{} (or number, or choice) inside the thinking graded as the final answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer } from '../../src/scorers/registry.ts';

const sample = (target: string) => ({ id: 's', input: 'q', target, metadata: {} });

test('answers inside <think>…</think> are ignored; the text after the last </think> is graded', async () => {
  const math = createScorer('math');
  const gsm = createScorer('gsm8k');
  const choice = createScorer('choice');
  const cases: [typeof math, string, string, number][] = [
    [math, '5', '<think>maybe \\boxed{3}</think> The answer is 5.', 1],
    [math, '3', '<think>maybe \\boxed{3}</think> The answer is 5.', 0],
    [math, '7', '<think>first \\boxed{1}</think><think>then \\boxed{2}</think>\nSo \\boxed{7}', 1],
    [gsm, '12', '<think>12 or 13? I think 13</think>\nThe answer is 12.', 1],
    [choice, '\\text{(B)}', '<think>(A) looks wrong... the answer is (A)? no</think> The answer is (B).', 1],
    [math, '4', 'No thinking tags here: \\boxed{4}', 1],
  ];
  for (const [scorer, gold, response, expected] of cases) {
    const v = await scorer.score(sample(gold), response);
    assert.equal(v.value, expected, `${scorer.name}: ${response} vs ${gold} → ${JSON.stringify(v)}`);
  }
  // thinking that never closed (cut off at the token limit) gave no final answer: a tentative answer inside it is
  // not credited (a cut-off answer), for every scorer; the verdict says why
  const open = await math.score(sample('9'), '<think>the sum is \\boxed{9}');
  assert.deepEqual([open.value, open.status], [0, 'no_answer']);
  assert.match(open.explanation ?? '', /unclosed <think>/);
  assert.equal((await gsm.score(sample('9'), '<think>so 9 eggs, the answer is 9')).value, 0);
  assert.equal((await choice.score(sample('B'), '<think>The answer is (B)')).value, 0);
  // a closed block followed by a new one that never closed: cut off again
  assert.equal((await math.score(sample('9'), '<think>a</think> so \\boxed{9} <think>hmm, maybe')).value, 0);
});
