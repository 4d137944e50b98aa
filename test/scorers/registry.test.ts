/** Registry, options validation, and the gsm8k / exact / choice scorers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer, scorerNames } from '../../src/scorers/registry.ts';
import { extractAnswer, extractGold, lastBoxed } from '../../src/scorers/extract.ts';
import { normalizeAnswer } from '../../src/scorers/normalize.ts';
import { sample, timed } from './helpers.ts';

test('registry: names, unknown name and bad options throw clear errors', () => {
  for (const n of ['choice', 'exact', 'gsm8k', 'judge', 'math']) assert.ok(scorerNames().includes(n), n);
  assert.deepEqual(scorerNames(), [...scorerNames()].sort());
  assert.throws(() => createScorer('nope'), /unknown scorer "nope"; known scorers: choice, exact, gsm8k, judge, math/);
  assert.throws(() => createScorer('math', { percent: 'maybe' }), /invalid options for scorer "math": percent/);
  assert.throws(() => createScorer('math', { relTol: -1 }), /relTol/);
  assert.throws(() => createScorer('exact', { bogus: 1 }), /invalid options/);
  const s = createScorer('math', { relTol: 1e-4 });
  assert.equal(s.name, 'math?relTol=0.0001');
  assert.equal(s.kind, 'binary');
  assert.deepEqual(s.options, { relTol: 1e-4, percent: 'strip', units: 'strip', sets: 'exact', timeoutMs: 2000 });
  assert.equal(createScorer('math').name, 'math');
  assert.equal(createScorer('math', { relTol: 1e-6, percent: 'strip' }).name, 'math', 'options equal to the defaults do not change the label');
});

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

test('extraction priority and gold reduction', () => {
  assert.equal(lastBoxed('\\boxed{\\frac{1}{2}} and \\boxed{\\{1,2\\}}'), '\\{1,2\\}');
  assert.equal(lastBoxed('\\boxed{3} then \\boxed{4'), '3');
  assert.equal(extractAnswer('The final answer is $\\frac{3}{4}$.')?.text, '\\frac{3}{4}');
  assert.equal(extractAnswer('I think it is 3, maybe 4.')?.method, 'last_number');
  assert.equal(extractGold('x = <<1+1=2>>2\n#### 2'), '2');
  assert.equal(extractGold('so 2\nA: 2'), '2');
  assert.equal(extractGold('\\frac{1}{2}'), '\\frac{1}{2}');
});

test('normalisation rules', () => {
  const n = (s: string) => normalizeAnswer(s).text;
  assert.equal(n('\\left( 3, \\frac{\\pi}{2} \\right)'), '(3,\\frac{\\pi}{2})');
  assert.equal(n('10{,}080'), '10080');
  assert.equal(n('1, 728'), '1,728'); // a space after the comma: a list, not a separator
  assert.equal(n('1,7280'), '1,7280'); // four digits after the comma: a list
  assert.equal(n('3, 5, 7'), '3,5,7');
  assert.deepEqual(normalizeAnswer('28\\%'), { text: '28', percent: true });
  assert.equal(n('\\$\\,1{,}000.'), '1000');
});
