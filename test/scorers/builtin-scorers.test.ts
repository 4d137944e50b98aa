/** The built-in scorers' plain verdicts: gsm8k (numbers only, synchronous), math (synchronous on the common path), exact, choice. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer } from '../../src/scorers/registry.ts';
import { sample, timed } from './helpers.ts';

test('gsm8k scorer: numbers only, synchronous', async () => {
  const g = createScorer('gsm8k');
  const r = g.score(sample('1,234'), 'so #### 1234');
  assert.ok(!(r instanceof Promise));
  assert.equal(r.value, 1);
  assert.equal((await timed(g, '18', 'She makes $18.00 per day.')).v.value, 1);
  assert.equal((await timed(g, '18', 'She makes 19 dollars.')).v.value, 0);
  assert.equal((await timed(g, 'Long text\n#### 72', 'The answer is 72, in total.')).v.value, 1);
  assert.equal((await timed(g, '0.5', '\\boxed{1/2}')).v.value, 1);
  assert.equal((await timed(g, '2', '\\boxed{2/3}')).v.value, 0);
  const none = (await timed(g, '3', 'I do not know')).v;
  assert.equal(none.status, 'no_answer');
  assert.equal(none.value, 0);
  assert.equal((await timed(g, 'seven', '7')).v.status, 'grader_error');
});

test('math scorer is synchronous on the common path', () => {
  const m = createScorer('math');
  for (const [g, r] of [['72', 'The answer is 72.'], ['\\frac{2}{3}', '\\boxed{2/3}'], ['8000', '\\boxed{8,000}']]) {
    const v = m.score(sample(g!), r!);
    assert.ok(!(v instanceof Promise), `${g} should be graded in process`);
    assert.equal((v as { value: number }).value, 1);
  }
});

test('exact scorer', async () => {
  assert.equal((await timed(createScorer('exact'), 'Paris', ' Paris\n')).v.value, 1);
  assert.equal((await timed(createScorer('exact'), 'Paris', 'paris')).v.value, 0);
  assert.equal((await timed(createScorer('exact', { ignoreCase: true }), 'Paris', 'paris')).v.value, 1);
  assert.equal((await timed(createScorer('exact'), 'Paris', '')).v.status, 'no_answer');
});

test('choice scorer', async () => {
  const c = createScorer('choice');
  const cases: Array<[string, string, number]> = [
    ['\\text{(C)}', 'Comparing the options, the answer is (C).', 1],
    ['C', '\\boxed{C}', 1],
    ['(C)', 'Answer: C', 1],
    ['C', 'The answer is $\\textbf{(B)}$', 0],
    ['J', 'Final answer: J', 1],
    ['A', 'We rule out (B) and (D), leaving (A).', 1],
  ];
  for (const [g, r, want] of cases) assert.equal((await timed(c, g, r)).v.value, want, `${g} vs ${r}`);
  const withChoices = await c.score(sample('Paris', { choices: ['London', 'Paris'] }), 'The answer is (B).');
  assert.equal(withChoices.value, 1);
  assert.equal((await timed(c, 'C', 'no idea')).v.status, 'no_answer');
});
