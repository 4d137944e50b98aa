/**
 * How answers are written, each notation tested as a kind with several spellings, right and wrong:
 * scientific notation, the empty set, typographic minus signs, answer phrases that go on past their first number,
 * compound units, percent written as a word, floats that over/underflow, and the `gsm8k` scorer reading a digit out
 * of an expression. Every verdict is also checked to be a valid, non-silent outcome.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer } from '../../src/scorers/registry.ts';
import { atomInProcess } from '../../src/scorers/compare.ts';
import { evaluate, isLost, parseExpr } from '../../src/scorers/expression.ts';
import { lastNumber, trimAnswerPhrase } from '../../src/scorers/extract.ts';
import { normalizeAnswer } from '../../src/scorers/normalize.ts';
import { numberOf } from '../../src/scorers/math.ts';
import { timed } from './helpers.ts';

type Row = [kind: string, gold: string, response: string, correct: boolean];

async function check(scorerSpec: string, rows: Row[]): Promise<void> {
  const scorer = createScorer(scorerSpec);
  for (const [kind, gold, response, correct] of rows) {
    const { v } = await timed(scorer, gold, response);
    assert.ok(['ok', 'no_answer'].includes(v.status), `${kind}: ${gold} vs ${response}: ${JSON.stringify(v)}`);
    assert.equal(v.value === 1, correct, `${scorerSpec} ${kind}: gold ${gold} vs ${JSON.stringify(response)}: ${JSON.stringify(v)}`);
  }
}

test('scientific notation: e/E with signed exponents equals the number and the ×10^ form', async () => {
  await check('math', [
    ['sci', '1500', '\\boxed{1.5e3}', true],
    ['sci', '1500', '\\boxed{1.5E3}', true],
    ['sci', '1500', '\\boxed{1.5e+3}', true],
    ['sci', '1500', '\\boxed{1.5E+03}', true],
    ['sci', '0.00015', '\\boxed{1.5e-4}', true],
    ['sci', '2\\times10^{5}', '\\boxed{2E5}', true],
    ['sci', '1e3', '\\boxed{1000}', true],
    ['sci', '1500', '\\boxed{1.5E4}', false],
    ['sci', '0.00015', '\\boxed{1.5e4}', false],
    ['euler', '2e', '\\boxed{2e}', true], // `e` without digits is Euler's number, untouched
  ]);
  assert.equal(normalizeAnswer('3e').text, '3e');
});

test('the empty set, however written, equals itself and nothing else', async () => {
  const forms = ['\\emptyset', '\\varnothing', '\\{\\}', '\\{ \\}', '\\left\\{\\right\\}', '\u2205', '\\O'];
  for (const g of forms) {
    await check('math', forms.map((p): Row => ['empty set', g, `\\boxed{${p}}`, true]));
    await check('math', [
      ['empty set', g, '\\boxed{\\{0\\}}', false],
      ['empty set', g, '\\boxed{0}', false],
    ]);
  }
});

test('typographic minus signs (U+2212, U+FE63, U+FF0D) are minus signs in every extraction path', async () => {
  for (const minus of ['\u2212', '\ufe63', '\uff0d']) {
    const rows: Row[] = [
      ['last number', '-5', `So the temperature ends at ${minus}5 degrees`, true],
      ['last number', '-5', `Hence ${minus}5`, true],
      ['phrase', '-5', `The answer is ${minus}5.`, true],
      ['marker', '-5', `#### ${minus}5`, true],
      ['box', '-5', `\\boxed{${minus}5}`, true],
      ['last number', '5', `So the temperature ends at ${minus}5 degrees`, false],
    ];
    await check('math', rows);
    await check('gsm8k', rows);
    assert.equal(lastNumber(`it is ${minus}2.5 now`), '-2.5');
  }
});

test('an answer phrase keeps the whole expression after its first number; prose after a number ends it', async () => {
  const cases: Array<[string, string]> = [
    ['1.5\u00d710^3', '1.5\u00d710^3'],
    ['1.5 \\times 10^3.', '1.5 \\times 10^3'],
    ['3 \\cdot 10^5 meters.', '3 \\cdot 10^5 meters'],
    ['2 + 3i.', '2 + 3i'],
    ['5 - 2\\sqrt{3}.', '5 - 2\\sqrt{3}'],
    ['2xy.', '2xy'],
    ['5 x.', '5 x'],
    ['72 apples.', '72'],
    ['72 - the total number of apples.', '72'],
    ['72, in total.', '72'],
    ['3/4 of the pie.', '3/4'],
    ['$18.90 in total.', '$18.90'],
  ];
  for (const [phrase, want] of cases) assert.equal(trimAnswerPhrase(phrase), want, phrase);
  await check('math', [
    ['phrase', '1500', 'The answer is 1.5\u00d710^3', true],
    ['phrase', '1500', 'The answer is 1.5 \\times 10^{3}.', true],
    ['phrase', '2+3i', 'The answer is 2 + 3i.', true],
    ['phrase', '2', 'The answer is 2 + 3i.', false],
    ['phrase', '5-2\\sqrt{3}', 'The answer is 5 - 2\\sqrt{3}.', true],
    ['phrase', '5', 'The answer is 5 - 2\\sqrt{3}.', false],
    ['phrase', '72', 'The answer is 72 apples.', true],
    // a one-word lead-in before a number is prose (the number is the answer), a bare answer stays one
    ['lead-in', '42', 'Thus 42', true],
    ['lead-in', '-5', 'Hence -5', true],
    ['lead-in', '7', 'Total: 7', true],
    ['bare', '5', 'x = 5', true],
    ['bare', '\\text{Navin}', 'Navin', true],
    ['bare', '2x+3', '$y = 2x + 3$', true],
  ]);
});

test('compound units (m/s, km/h, \\text{m}/\\text{s}, squared) are dropped under units=strip, kept under keep', async () => {
  const rows: Row[] = [
    ['unit', '5', '\\boxed{5 \\text{ m/s}}', true],
    ['unit', '5', '\\boxed{5\\text{ km/h}}', true],
    ['unit', '5', '\\boxed{5 m/s}', true],
    ['unit', '5', '\\boxed{5m/s}', true],
    ['unit', '5', '\\boxed{5\\text{m}/\\text{s}}', true],
    ['unit', '5', '\\boxed{5 \\text{ m/s}^2}', true],
    ['unit', '5', '\\boxed{5 cm/s}', true],
    ['unit', '5', '\\boxed{5\\text{ miles}/\\text{hour}}', true],
    ['unit', '6', '\\boxed{5 \\text{ m/s}}', false],
    ['not a unit', '\\frac{1}{2}', '\\boxed{1/2}', true],
  ];
  await check('math', rows);
  await check('math?units=keep', [['unit kept', '5', '\\boxed{5 \\text{ m/s}}', false]]);
});

test('percent written as a word is a percent sign (never a unit to drop), under every percent policy', async () => {
  const words = ['28 percent', '28\\text{ percent}', '28 per cent', '28\\mbox{ percent}', '28 Percent'];
  await check('math', words.map((w): Row => ['percent word', '28\\%', `\\boxed{${w}}`, true]));
  await check('math', [['percent word', '28\\%', '\\boxed{29 percent}', false]]);
  await check('math?percent=strict', [
    ...words.map((w): Row => ['percent word', '28\\%', `\\boxed{${w}}`, true]),
    ['percent word', '28', '\\boxed{28 percent}', false],
  ]);
  assert.deepEqual(normalizeAnswer('28\\text{ percent}'), { text: '28', percent: true });
});

test('floats that over- or underflow are never equal by float: Infinity = Infinity and 0 = 0 decide nothing', async () => {
  await check('math', [
    ['overflow', '2^{30000}', '\\boxed{2^{30000}-1}', false],
    ['overflow', '2^{30000}', '\\boxed{3\\cdot 2^{30000}}', false],
    ['overflow', '2^{30000}', '\\boxed{2^{30000}}', true],
    ['overflow', '\\pi\\cdot 10^{400}', '\\boxed{2\\pi\\cdot 10^{400}}', false],
    ['overflow', 'e^{1000}', '\\boxed{2e^{1000}}', false],
    ['underflow', '2^{-30000}', '\\boxed{3\\cdot 2^{-30000}}', false],
    ['underflow', '\\pi\\cdot 10^{-400}', '\\boxed{2\\pi\\cdot 10^{-400}}', false],
    ['underflow', '\\frac{1}{2^{98}}', '\\boxed{\\frac{1}{2^{99}}}', false],
    ['exact big', '10^{400}', '\\boxed{10^{400}+1}', false],
    ['exact big', '10^{400}', '\\boxed{10^{200}\\cdot10^{200}}', true],
    ['true zero', '0', '\\boxed{\\pi-\\pi}', true],
  ]);
  const opts = { relTol: 1e-6, percent: 'strip' as const };
  // in process, a lost float is never 'eq' (only exact rationals may say so)
  for (const [g, p] of [['2^{30000}', '3\\cdot2^{30000}'], ['2^{-30000}', '3\\cdot2^{-30000}'], ['\\pi\\cdot10^{-400}', '2\\pi\\cdot10^{-400}'], ['x^{3000}', '2x^{3000}']] as const) {
    assert.notEqual(atomInProcess(g, p, opts), 'eq', `${g} vs ${p}`);
  }
  const lost = (s: string) => isLost(evaluate(parseExpr(s)!.node, new Map()));
  // 2^{30000} is exact (its float is infinite, so it counts as lost); a difference of two such values is exactly 0
  // (not lost); a value past the exact cap (2^{300000}) is a float, and float Infinity − Infinity is lost
  assert.ok(lost('2^{30000}') && lost('3\\cdot2^{-30000}') && lost('\\pi\\cdot10^{400}') && lost('2^{300000}-2^{300000}'));
  assert.ok(!lost('2^{30000}-2^{30000}'));
  assert.ok(!lost('\\pi-\\pi') && !lost('2^{100}') && !lost('\\frac{1}{3}'));
});

test('gsm8k never reads one digit of an expression as the number; a gold that is not a number is a grader_error', async () => {
  await check('gsm8k', [
    ['expression', '-\\frac{1}{2}', '\\boxed{\\frac{1}{2}}', false],
    ['expression', '2', '\\boxed{\\frac{1}{2}}', false],
    ['expression', '0.5', '\\boxed{\\frac{1}{2}}', true],
    ['expression', '\\frac12', '\\boxed{\\frac{1}{2}}', true],
    ['expression', '-0.5', '\\boxed{\\frac{-1}{2}}', true],
    ['expression', '1500', '\\boxed{1.5\\times10^{3}}', true],
    ['expression', '3', '\\boxed{3^{2}}', false],
    ['expression', '9', '\\boxed{3^{2}}', true],
    ['expression', '2', '\\boxed{\\sqrt{2}}', false],
    ['plain', '72', 'She has 72 apples left.', true],
    ['plain', 'Natalia sold 48 clips.\n#### 72', '#### 72', true],
    ['plain', '5', 'x = 5', true],
  ]);
  const scorer = createScorer('gsm8k');
  for (const gold of ['[2,5)', '(1, 2)', '\\{1,2\\}', 'x^2+1', '\\infty', '3, 5']) {
    const { v } = await timed(scorer, gold, '\\boxed{5}');
    assert.equal(v.status, 'grader_error', `${gold}: ${JSON.stringify(v)}`);
    assert.equal(v.value, null);
  }
  assert.equal(numberOf('[2,5)', true), null);
  assert.equal(numberOf('x^{2}'), null);
});
