/**
 * Every line of the shared grading cases (shared/cases/answer_grading.jsonl and answer_grading_more.jsonl): the
 * expected verdict, none hanging; a line with `"scorer": "choice"` goes through the multiple-choice scorer, every
 * other line through `math`. Then 2–3 variants of our own for each kind of fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer } from '../../src/scorers/registry.ts';
import { HANG_MS, readJsonl, timed } from './helpers.ts';


interface Case { id: string; gold: string; response: string; expected_correct: boolean; why: string; scorer?: string }

const math = createScorer('math');
const choice = createScorer('choice');

test('shared answer-grading cases: expected verdict, none hanging', async () => {
  const cases = readJsonl<Case>('cases/answer_grading.jsonl');
  assert.ok(cases.length >= 26);
  for (const c of cases) {
    const { v, ms } = await timed(math, c.gold, c.response);
    assert.equal(v.value === 1, c.expected_correct, `${c.id} (${c.why}): ${JSON.stringify(v)}`);
    assert.ok(ms < HANG_MS, `${c.id} took ${ms} ms`);
  }
});

test('shared answer-grading cases (second set): expected verdict, none hanging', async () => {
  const cases = readJsonl<Case>('cases/answer_grading_more.jsonl');
  assert.ok(cases.length >= 13);
  const failures: string[] = [];
  for (const c of cases) {
    const scorer = c.scorer === 'choice' ? choice : math;
    const { v, ms } = await timed(scorer, c.gold, c.response);
    if ((v.value === 1) !== c.expected_correct) failures.push(`${c.id} (${c.why}): ${JSON.stringify(v).slice(0, 300)}`);
    if (ms >= HANG_MS) failures.push(`${c.id} took ${ms.toFixed(0)} ms`);
    assert.ok(['ok', 'no_answer', 'grader_timeout', 'grader_error'].includes(v.status), `${c.id}: ${v.status}`);
  }
  assert.deepEqual(failures, []);
});

/** [kind, gold, response, expected correct] */
const VARIANTS: Array<[string, string, string, boolean]> = [
  ['frac shorthand', '\\frac12', '\\boxed{\\frac{1}{2}}', true],
  ['frac shorthand', '\\frac 59', '\\boxed{\\dfrac{5}{9}}', true],
  ['frac shorthand', '\\frac9{19}', 'so \\boxed{\\tfrac{9}{19}}', true],
  ['frac shorthand', '\\sqrt2', '\\boxed{\\sqrt{2}}', true],
  ['truncated capture', '\\frac{1}{2}', '\\boxed{\\frac{1}{2}+\\frac{1}{3}}', false],
  ['truncated capture', '\\frac{3}{4}', '\\boxed{\\frac{\\sqrt{3}}{4}}', false],
  ['truncated capture', '\\frac{1}{2}', '\\boxed{\\frac{1}{2^{2}}}', false],
  ['thousands', '1000000', '\\boxed{1,000,000}', true],
  ['thousands', '10080', '\\boxed{10,\\!080}', true],
  ['thousands', '11111111100', '\\boxed{11,\\! 111,\\! 111,\\! 100}', true],
  ['thousands', '10080', '\\boxed{10\\,080}', true],
  ['thousands', '58,500', '\\boxed{58500}', true],
  ['currency', '32348', '\\boxed{\\$32,\\!348}', true],
  ['currency', '\\$18.90', 'The total is $18.90.', true],
  ['currency', '\\$36', '\\boxed{36 dollars}', true],
  ['trailing comma', '72', 'The answer is 72, which is the total.', true],
  ['trailing comma', '15', 'So in total we get 15, right?', true],
  ['trailing comma', '1200', 'Altogether 1,200, give or take nothing.', true],
  ['decimals', '29', '\\boxed{29.00}', true],
  ['decimals', '29', 'She pays $29.50.', false],
  ['decimals', '0.5', '\\boxed{.50}', true],
  ['interval', '(3,4]', '\\boxed{(3,4]}', true],
  ['interval', '(3,4]', '\\boxed{[3,4]}', false],
  ['interval', '(-\\infty, 0]', '\\boxed{(-\\infty,0]}', true],
  ['interval', '(-\\infty, 0]', '\\boxed{(-\\infty,0)}', false],
  ['interval', '(0,9) \\cup (9,36)', '\\boxed{(0,9)\\cup(9,36)}', true],
  ['interval', '(0,9) \\cup (9,36)', '\\boxed{(0,36)}', false],
  ['interval', 'x \\in [-2,7]', '\\boxed{[-2,7]}', true],
  ['interval', '\\left(\\frac{3}{5},\\frac{8}{3}\\right]', '\\boxed{(0.6, \\frac{8}{3}]}', true],
  ['tuple', '(6,31,-1)', '\\boxed{(6, 31, -1)}', true],
  ['tuple', '(6,31,-1)', '\\boxed{(31, 6, -1)}', false],
  ['slash fraction', '\\frac{3}{4}', '\\boxed{3/4}', true],
  ['slash fraction', '\\frac{3}{4}', '\\boxed{0.75}', true],
  ['slash fraction', '\\frac{1}{3}', '\\boxed{0.33}', false],
  ['slash fraction', '\\frac{2}{3}', '\\boxed{2}', false],
  ['text wrap', '13', '\\boxed{\\textbf{13}}', true],
  ['text wrap', '13', '\\boxed{\\mbox{13}}', true],
  ['text wrap', '\\text{Evelyn}', '\\boxed{\\text{Evelyn}}', true],
  ['text wrap', '\\text{Evelyn}', '\\boxed{\\text{Navin}}', false],
  ['set', '1331, 1728', '\\boxed{1331, 1728}', true],
  ['set', '1331, 1728', '\\boxed{1728, 1331}', true],
  ['set', '1331, 1728', '\\boxed{1331, 1728, 2197}', false],
  ['set', '3, 5, 7', '\\boxed{3,5}', false],
  ['set', '3, 5, 7', '\\boxed{3, 5, 5}', false],
  ['set', '\\{1\\pm\\sqrt{5},-2\\}', '\\boxed{-2, 1+\\sqrt{5}, 1-\\sqrt{5}}', true],
  ['relative tolerance', '\\frac{1}{2^{98}}', '\\boxed{2^{-98}}', true],
  ['relative tolerance', '10^{-12}', '\\boxed{10^{-13}}', false],
  ['relative tolerance', '0.0000672', '\\boxed{.0000672}', true],
  ['relative tolerance', '.0000672', '\\boxed{0.0000673}', false],
  ['relative tolerance', '\\frac{1}{3}', '\\boxed{0.33333333}', true],
  ['markdown', '73', '**Answer:** 73', true],
  ['markdown', '73', 'The final answer is **73**.', true],
  ['markdown', '73', '**Final Answer**: $73$', true],
  ['percent', '25\\%', '\\boxed{25}', true],
  ['percent', '28', '\\boxed{28%}', true],
  ['percent', '28', '\\boxed{29\\%}', false],
  ['leading zero', '007', '\\boxed{7}', true],
  ['leading zero', '025', '\\boxed{205}', false],
  ['leading zero', '070', 'The answer is 70.', true],
  ['float gold', '27.0', '\\boxed{27}', true],
  ['float gold', '36.0', '\\boxed{36.0}', true],
  ['float gold', '27.0', '\\boxed{27.5}', false],
  ['boxed spacing', '5', '\\boxed   {5}', true],
  ['boxed spacing', '5', '\\fbox{5}', true],
  ['boxed spacing', 'B', 'so $\\boxed B$', true],
  ['last box', '5', '\\boxed{5} wait, no: \\boxed{3}', false],
  // a response cut off inside its final box is not credited with an earlier, abandoned box
  ['last box', '5', '\\boxed{3} then \\boxed{5} and an unclosed \\boxed{7', false],
  ['box tokens', '42', '<|begin_of_box|>\\frac{84}{2}<|end_of_box|>', true],
  ['box tokens', '42', '<|begin_of_box|>41<|end_of_box|>', false],
  ['box tokens', '42', 'I first thought 41. <|begin_of_box|>42<|end_of_box|>', true],
  ['units', '864 \\mbox{ inches}^2', '\\boxed{864}', true],
  ['units', '15\\mbox{ cm}^2', '\\boxed{15 \\text{ cm}^2}', true],
  ['units', '\\frac{270}7\\text{ degrees}', '\\boxed{\\frac{270}{7}}', true],
  ['units', '100\\text{ square units}', '\\boxed{100 square units}', true],
  ['units', '5.4 \\text{ cents}', '\\boxed{5.4 cents}', true],
  ['units', '5.4 \\text{ cents}', '\\boxed{5.5 cents}', false],
  ['degrees', '90', '\\boxed{90^{\\circ}}', true],
  ['degrees', '90^\\circ', '\\boxed{90}', true],
  ['degrees', '90', '\\boxed{90°}', true],
  ['degrees', '90', '\\boxed{45^\\circ}', false],
  ['choice', '\\text{(C)}', '\\boxed{C}', true],
  ['choice', '\\text{(C)}', '\\boxed{\\text{(C)}}', true],
  ['choice', '\\text{(E)}', 'Answer: (D)', false],
  ['choice', 'C', 'The answer is (C).', true],
  ['plus-minus', '3 \\pm 2 \\sqrt{2}', '\\boxed{3+2\\sqrt{2}, 3-2\\sqrt{2}}', true],
  ['plus-minus', '3 \\pm 2 \\sqrt{2}', '\\boxed{3+2\\sqrt{2}}', false],
  ['plus-minus', '1 \\pm \\sqrt{19}', '\\boxed{1-\\sqrt{19}}', false],
  ['gsm8k gold', 'She sold 1,000 + 234 = <<1000+234=1234>>1234.\n#### 1,234', 'The answer is 1234.', true],
  ['gsm8k gold', 'Janet sells 9 eggs.\nShe makes 9 * 2 = $<<9*2=18>>18\nA: 18', '\\boxed{18}', true],
  ['gsm8k gold', 'Natalia sold 72 clips.\n#### 72', 'The answer is 27.', false],
  ['equation', 'y = 2x + 3', '\\boxed{2x+3}', true],
  ['equation', 'x=5', '\\boxed{5}', true],
  ['equation', 'y = -2x', '\\boxed{y=-2x+1}', false],
  ['symbolic', '\\frac{\\sqrt{3}}{3}', '\\boxed{\\frac{1}{\\sqrt{3}}}', true],
  ['symbolic', 'x^2+2x+1', '\\boxed{(x+1)^2}', true],
  ['symbolic', '6 - 5i', '\\boxed{-5i+6}', true],
  ['symbolic', '\\cot x', '\\boxed{\\frac{\\cos x}{\\sin x}}', true],
  ['symbolic', '|x-1|', '\\boxed{|1-x|}', true],
  ['symbolic', '\\log_{2} 8', '\\boxed{3}', true],
  ['mixed number', '1\\frac{4}{5}', '\\boxed{\\frac{9}{5}}', true],
  ['mixed number', '137 \\frac{1}{2}', '\\boxed{137.5}', true],
  ['matrix', '\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}', '\\boxed{\\begin{pmatrix} \\frac{1}{5} \\\\ -\\frac{18}{5} \\end{pmatrix}}', true],
  ['matrix', '\\begin{pmatrix} -7 \\\\ 16 \\\\ 5 \\end{pmatrix}', '\\boxed{\\begin{pmatrix} -7 \\\\ 16 \\\\ 6 \\end{pmatrix}}', false],
];

test('variants of each kind of fault', async () => {
  const failures: string[] = [];
  for (const [kind, gold, response, expected] of VARIANTS) {
    const { v, ms } = await timed(math, gold, response);
    if ((v.value === 1) !== expected || ms >= HANG_MS) failures.push(`${kind}: ${JSON.stringify(gold)} vs ${JSON.stringify(response)} → ${JSON.stringify(v)} (${ms.toFixed(0)} ms)`);
  }
  assert.deepEqual(failures, []);
});
