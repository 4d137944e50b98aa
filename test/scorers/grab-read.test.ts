// The grab scorer's reading of answers, kind by kind (src/scorers/grab-read.ts): sinusoids however written, prose
// after an equation, units with exponents, LaTeX and plain fractions, the last pair or the marked one, and rounding
// at the stated precision robust to floating-point error. Each kind with several variants, right and wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createScorer } from '../../src/scorers/registry.ts';
import { roundAtPrecision } from '../../src/scorers/grab.ts';
import { cutEquation, numberPlain, latexPlain, parseSine, readEquation, readNumber, readPair } from '../../src/scorers/grab-read.ts';
import type { Sample } from '../../src/core/schemas.ts';

const g = createScorer('grab');
const sample = (target: string, precision?: string): Sample => ({ id: 's', input: 'q', target, metadata: precision ? { precision } : {} });
const grade = (target: string, response: string, precision?: string) => g.score(sample(target, precision), response) as { value: number | null; extracted: string | null; explanation: string; status: string };
const v = (target: string, response: string, precision?: string) => grade(target, response, precision).value;

test('sinusoids: signs, \\sin, terms in any order, \\left/\\right, braces, spaces, factored arguments', () => {
  const gold = 'y = 3sin(2x + 1) - 1';
  for (const r of [
    'y = 3 sin(2x + 1) + -1',
    'y = 3\\sin(2x + 1) - 1',
    'y = 3 \\sin\\left(2x + 1\\right) - 1',
    '$y = -1 + 3\\sin(2x+1)$',
    'y=3sin(2x+1)-1',
    'y = 3 * sin(2 * x + 1) - 1',
    'y = 3 \\cdot \\sin{(2x + 1)} - 1',
    'y = 3 sin(1 + 2x) − 1',
    'y = 3 sin(2(x + 0.5)) - 1',
    'y = -3 sin(-2x - 1) - 1', // the same function
    'f(x) = 3sin(2x + 1) - 1',
    'The answer is \\boxed{y = 3\\sin(2x + 1) + (-1)}'.replace('(-1)', '-1'),
    'y = 3 sin(2x + 1) + -1, where x is in radians',
  ]) assert.equal(v(gold, r, 'equation'), 1, r);
  for (const r of ['y = 3 sin(2x - 1) - 1', 'y = 3 sin(2x + 1) + 1', 'y = 4 + 3sin(2x + 1)', 'y = 3 sin(2x + 1)', 'y = 3 sin(x^2 + 1) - 1', 'y = 3 sin(2x+1) + sin(x)']) {
    assert.equal(v(gold, r, 'equation'), 0, r);
  }
  // omitted parts and the forms of A and D
  assert.deepEqual(parseSine('4+3sin(x)'), [3, 1, 0, 4]);
  assert.deepEqual(parseSine('3\\sin\\left(2x\\right)'), [3, 2, 0, 0]);
  assert.deepEqual(parseSine('y = -sin(-x) + 4 - 2'), [-1, -1, 0, 2]);
  assert.deepEqual(parseSine('y = 4 - sin(x)'), [-1, 1, 0, 4]);
  assert.deepEqual(parseSine('y = 10sin(-8x - 7) + 0'), [10, -8, -7, 0]);
  assert.equal(parseSine('y = 3sinx + 1'), null);
  assert.equal(parseSine('y = 3 sin(2x) sin(x)'), null);
});

test('every equation of the shared GRAB file grades right in several writings, and wrong with one coefficient changed', { skip: !existsSync(grabFile()) && 'shared GRAB file not found' }, () => {
  const rows = Object.values(JSON.parse(readFileSync(grabFile(), 'utf8')) as Record<string, { answer: string }>).filter((r) => r.answer.startsWith('y'));
  assert.equal(rows.length, 30);
  for (const { answer } of rows) {
    const latex = answer.replace(/sin/g, '\\sin').replace(/x\^(\d)/g, 'x^{$1}');
    const signs = answer.replace(/ - (\d)/g, ' + -$1');
    for (const r of [answer, `\\boxed{${latex}}`, `The equation is ${signs}, which fits the plot.`, `**${answer.replace(/ /g, '')}**`, `So $${latex}$.`]) {
      assert.equal(v(answer, r, 'equation'), 1, `${answer} ← ${r}`);
    }
    const changed = answer.replace(/(\d+)(?!.*\d)/, (d) => String(Number(d) + 1)); // the last number, plus one
    assert.equal(v(answer, changed, 'equation'), 0, `${answer} ← ${changed}`);
  }
});

test('prose after an equation on the same line ends it', () => {
  for (const [r, eq] of [
    ['y = 2x + 1, which is the line', 'y = 2x + 1'],
    ['The line is y = 2x + 1 which passes through (0, 1).', 'y = 2x + 1'],
    ['y = 2x + 1 (the best fit)', 'y = 2x + 1'],
    ['y = 2x + 1; the slope is 2', 'y = 2x + 1'],
    ['y = 2x + 1. That is the answer.', 'y = 2x + 1'],
    ['Final: y = 2x + 1 \\quad (rounded)', 'y = 2x + 1'],
    ['y = 2.5x + 1 where the slope 2.5 is read off', 'y = 2.5x + 1'],
    ['So y = 2(x + 1) - 1 = 2x + 1 here', 'y = 2x + 1'],
    ['$y = 2x + 1$ is my answer', 'y = 2x + 1'],
  ] as const) {
    assert.equal(readEquation(r), eq, r);
  }
  assert.equal(v('y = 2x + 1', 'y = 2x + 1, which is the line', 'equation'), 1);
  assert.equal(v('y = 2x + 1', 'I think y = 2x + 1 or maybe y = 2x + 3 is it', 'equation'), 0); // the last one counts
  assert.equal(v('y = -2x^2 + 5x + 2', 'f(x) = -2x^{2} + 5 \\cdot x + 2, a parabola opening down', 'equation'), 1);
  assert.equal(v('y = -2x^2 + 5x + 2', 'y = -2x² + 5x + 2', 'equation'), 1);
  assert.equal(cutEquation('y = 3x + 1}'), 'y = 3x + 1');
});

test('units with exponents are not the answer: 12 units^2 reads 12', () => {
  for (const r of [
    'The area is 12 units^2',
    'The area is 12 units^2.',
    'Area = 12 \\text{ units}^2',
    '\\boxed{12 \\text{ units}^2}',
    'The area is 12 m²',
    'The area is 12 cm^{2}',
    'So the total area is 12 square units.',
    'Answer: 12 sq. units',
    'area ≈ 12 units^{2}',
  ]) {
    const got = grade('12', r, 'int');
    assert.equal(got.value, 1, `${r} → ${got.extracted}`);
    assert.equal(got.extracted, '12', r);
  }
  assert.equal(v('2', 'The area is 12 units^2', 'int'), 0);
  assert.equal(v('190', 'The area is 192 units^2, which is 190 to the nearest 10.', 'nearest10'), 1);
  assert.equal(v('3.5', 'So the gradient is 3.5 (to 1 decimal place)', '1dp'), 1);
  assert.equal(v('4', 'Rounded to the nearest integer: 4', 'int'), 1);
  assert.equal(readNumber('1.2 \\times 10^{3} units^2')!.value, 1200);
  assert.equal(readNumber('about 1.5e2')!.value, 150);
});

test('LaTeX and plain fractions are read as their values', () => {
  for (const [r, value] of [
    ['The gradient is \\frac{7}{2}', 3.5],
    ['\\boxed{\\dfrac{7}{2}}', 3.5],
    ['Answer: 7/2', 3.5],
    ['The gradient is $-\\frac{1}{3}$.', -1 / 3],
    ['$\\tfrac{-1}{3}$', -1 / 3],
    ['\\boxed{\\frac72}', 3.5],
    ['- \\cfrac{5}{4}', -1.25],
    ['The mean is 2\\frac{1}{2}', 2.5],
    ['Answer: 2 1/2', 2.5],
    ['\\left( \\frac{7}{2} \\right)', 3.5],
  ] as const) {
    const got = readNumber(r);
    assert.ok(got && Math.abs(got.value - value) < 1e-12, `${r} → ${JSON.stringify(got)}`);
  }
  assert.equal(v('3.5', 'The gradient is \\frac{7}{2}', '1dp'), 1);
  assert.equal(v('4', 'The gradient is \\frac{7}{2}', 'int'), 1); // 3.5 rounds half away from zero
  assert.equal(v('2', 'The gradient is \\frac{7}{2}', 'int'), 0); // never the denominator
  assert.equal(v('-0.3', 'The gradient is $-\\frac{1}{3}$.', '1dp'), 1);
  assert.equal(v('0.3', 'The gradient is $-\\frac{1}{3}$.', '1dp'), 0);
  assert.equal(v('-0.3', '\\frac{\\pi}{2}', '1dp'), 0); // not numeric: left as it is, never a crash
  assert.equal(numberPlain(latexPlain('\\frac{1}{0}')), '\\frac{1}{0}');
});

test('pairs: the marked final answer, else the last [a, b], else the last (a, b); never the first anywhere', () => {
  const gold = '[-10, -3]';
  for (const r of [
    'The first guess [1, 2] was wrong. The stationary points are at [-10, -3].',
    'Points (0, 5) and (2, 3) are on the curve; the stationary points are (-10, -3)',
    'Stationary points at [-10, -3], at (-10, 5) and (-3, -2) on the curve.',
    'Final answer: (-10, -3). Check: (1, 2) lies on it.',
    '\\boxed{[-10, -3]} since [0, 1] is the other interval.',
    'The answer is \\left[ -10, -3 \\right]',
    'The answer is x = -10 and x = -3.',
    '\\boxed{-10, -3}',
    'The x-values are [−10.2, −2.8]',
    'Answer: [-3, -10]', // unordered
  ]) assert.equal(v(gold, r, 'int'), 1, `${r} → ${grade(gold, r, 'int').extracted}`);
  assert.equal(v(gold, 'The stationary points are at [-10, -3]. Oops, no: [-9, -3].', 'int'), 0);
  assert.equal(v(gold, '[-10, -3] was my first guess; the answer is [1, 2].', 'int'), 0);
  assert.deepEqual(readPair('the pair (\\frac{1}{2}, -\\frac{7}{2})')!.values, [0.5, -3.5]);
  const none = grade(gold, 'no idea', 'int');
  assert.deepEqual([none.value, none.status], [0, 'no_answer']);
});

test('rounding at the stated precision is decimal, on 9 significant digits (floating-point error absorbed)', () => {
  // values a computation leaves just under a half round as the decimal they stand for
  assert.equal(roundAtPrecision(12.4999999999, 'int'), '13');
  assert.equal(roundAtPrecision(12.5, 'int'), '13');
  assert.equal(roundAtPrecision(12.49, 'int'), '12');
  assert.equal(roundAtPrecision(0.35, '1dp'), '0.4'); // 0.35 is stored as 0.34999999999999997…
  assert.equal(roundAtPrecision(1.15 * 3, '1dp'), '3.5'); // 3.4499999999999997
  assert.equal(roundAtPrecision(-2.5, 'int'), '-3'); // half away from zero
  assert.equal(roundAtPrecision(-0.04, '1dp'), '0.0'); // no negative zero
  assert.equal(roundAtPrecision(-0.4, 'int'), '0');
  assert.equal(roundAtPrecision(115, 'nearest10'), '120');
  assert.equal(roundAtPrecision(4.999, 'nearest10'), '0');
  assert.equal(roundAtPrecision(5, 'nearest10'), '10');
  assert.equal(roundAtPrecision(-1234.5, 'nearest10'), '-1230');
  assert.equal(roundAtPrecision(0, '1dp'), '0.0');
  assert.equal(roundAtPrecision(9.96, '1dp'), '10.0');
  assert.equal(roundAtPrecision(123456789012, 'int'), '123456789000'); // beyond 9 digits: the 9-digit value
  assert.equal(roundAtPrecision(1e-12, 'int'), '0');
  // in the scorer: the true value 12.5 written as a computation left it
  assert.equal(v('13', 'The area is 12.4999999999', 'int'), 1);
  assert.equal(v('12', 'The area is 12.4999999999', 'int'), 0);
  assert.equal(v('0.4', 'r = 0.35', '1dp'), 1);
  assert.equal(v('-1.0', '-1.04', '1dp'), 1);
});

function grabFile(): string {
  return join(process.env.ASSAY_SHARED ?? join(import.meta.dirname, '../../../shared'), 'data/grab/grab.json');
}

test('hostile responses get a verdict, never a hang or a throw (grab, vqa, bleu, cider_d)', { timeout: 60_000 }, async () => {
  const hostile = [
    '1'.repeat(300_000), '1.'.repeat(150_000), ' '.repeat(300_000) + '7', '('.repeat(150_000), '[1, '.repeat(60_000), '\\frac{1}{'.repeat(40_000),
    'y = ' + 'x'.repeat(200_000), 'y = 3sin(' + '('.repeat(100_000), '12 units' + '^2'.repeat(100_000), ' to the nearest 10'.repeat(20_000), '\\boxed{'.repeat(50_000),
  ];
  const sample = (target: string, metadata: Record<string, unknown> = {}): Sample => ({ id: 'h', input: 'q', target, metadata });
  const cider = createScorer('cider_d');
  const refs = { references: ['a cat on a mat', 'a cat sitting'] };
  cider.prepare!([sample('x', refs), sample('y', { references: ['a dog'] })]);
  const cases: [ReturnType<typeof createScorer>, Sample][] = [
    [g, sample('3', { precision: 'int' })], [g, sample('[-10, -3]', { precision: 'int' })], [g, sample('y = 3sin(2x + 1) - 1')], [g, sample('y = 2x^2 + 1')],
    [createScorer('vqa'), sample('x', { answers: Array(10).fill('yes') })], [createScorer('bleu'), sample('x', refs)], [cider, sample('x', refs)],
  ];
  for (const [scorer, s] of cases) {
    for (const r of hostile) {
      const v = (await scorer.score(s, r)) as { value: number | null; status: string };
      assert.ok(['ok', 'no_answer'].includes(v.status), `${scorer.name} ${s.target} ${r.slice(0, 12)}: ${v.status}`);
      assert.ok(v.value !== 1, `${scorer.name} ${r.slice(0, 12)} must not be right`);
    }
  }
});

test('a power of numbers reads as its value, never its exponent; exponents on units are still dropped', () => {
  for (const [gold, r, prec] of [
    ['1000', '10^3', 'int'], ['1000', 'The answer is $10^{3}$.', 'int'], ['144', '12^2', 'int'], ['9', '3²', 'int'], ['144', '\\boxed{12²}', 'int'],
    ['0.5', '2^-1', '1dp'], ['0.5', '2^{-1}', '1dp'], ['7.4', 'e^2', '1dp'], ['-9', '-3^2', 'int'], ['1200', '1.2 \\times 10^{3}', 'int'],
    ['12', '12 units^2', 'int'], ['12', '12 m²', 'int'], ['12', 'The area is 12 cm^{2}.', 'int'], ['12', '12 \\text{ units}^2', 'int'],
  ] as const) assert.equal(v(gold, r, prec), 1, r);
  for (const [gold, r] of [['3', '10^3'], ['2', '12^2'], ['2', '3^2'], ['3', '3²'], ['2', '12 units^2 + 0'], ['144', '12 cm^2']] as const) assert.equal(v(gold, r, 'int'), 0, r);
  assert.equal(readNumber('10^3')?.value, 1000);
  assert.equal(readNumber('12 m²')?.value, 12);
});

test('trailing notes: a bold, boxed or stated answer beats later prose; a point reads the asked coordinate; notes are not answers', () => {
  for (const r of [
    '**8**\n\nThere were 7 candidates, so 3 were eliminated.', '**x = 8**\n\nThe other 7 were rejected.', '\\boxed{8}\n\nThere were 7 candidates.',
    'Answer: 8\n\nThere were 7 candidates.', 'The final answer is 8. There were 7 candidates in step 2.', '8\n\n(Note: step 3 of 4)',
    '8\n\nNote: counted 7 earlier by mistake.', 'The answer is 8 (Hint: there are 3 cases).',
  ]) assert.equal(v('8', r, 'int'), 1, r);
  assert.equal(v('8', '**Step 3**\n\nSo 3 + 5 = 8', 'int'), 1); // a bold heading is not a bold answer
  const sx = (input: string, r: string, target: string) => g.score({ id: 's', input, target, metadata: { precision: 'int' } }, r) as { value: number; explanation: string };
  const xq = 'What is the value of the x-intercept of the function? Give your answer as an integer.';
  const yq = 'What is the value of the y-intercept of the function? Give your answer as an integer.';
  for (const r of ['The x-intercept is at (-3, 0).', '\\boxed{(-3, 0)}', 'It crosses the axis at $(-3, 0)$', 'Answer: (-3,0)']) {
    assert.equal(sx(xq, r, '-3').value, 1, r);
    assert.equal(sx(xq, r, '0').value, 0, r); // never read as its y-coordinate
  }
  assert.equal(sx(yq, 'The y-intercept is (0, 5).', '5').value, 1);
  assert.equal(sx(yq, 'The y-intercept is (0, 5).', '0').value, 0);
  assert.equal(sx([{ role: 'user', content: [{ type: 'text', text: xq }] }] as unknown as string, 'at (-3, 0)', '-3').value, 1);
  // no coordinate asked: a point is refused, not read as its last number
  const refused = sx('What is the answer? Give your answer as an integer.', 'The point is (-3, 0).', '0');
  assert.equal(refused.value, 0);
  assert.match(refused.explanation, /a point, not a number/);
});

test('factored and bracketed polynomials are expanded and compared by coefficients', () => {
  for (const [gold, r] of [
    ['y = 8x - 9', 'y = 8(x - 1) - 1'], ['y = 8x - 9', 'The line is y = 8(x-1) - 1.'], ['y = 2x^2 + 4x - 1', 'y = 2(x+1)^2 - 3'],
    ['y = 2x^2 + 4x - 1', '$y = 2\\left(x + 1\\right)^{2} - 3$'], ['y = x^2 + x - 2', 'y = (x - 1)(x + 2)'], ['y = -x^3 + 1', 'y = 1 - x \\cdot x^2'],
  ] as const) assert.equal(v(gold, r, 'equation'), 1, r);
  for (const [gold, r] of [
    ['y = 8x - 9', 'y = 8(x - 1) + 1'], ['y = 2x^2 + 4x - 1', 'y = 2(x+1)^3 - 3'], ['y = 2x^2 + 4x - 1', 'y = 2(x-1)^2 - 3'], ['y = x^2 + x - 2', 'y = (x - 1)(x - 2)'],
  ] as const) assert.equal(v(gold, r, 'equation'), 0, r);
  assert.equal(grade('y = 8x - 9', 'y = 8(x - 1) - 1', 'equation').explanation, 'same polynomial once expanded');
});
