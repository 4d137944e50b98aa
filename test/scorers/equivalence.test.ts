/**
 * When an answer equals the gold (src/scorers/compare.ts), each kind of comparison tested with several
 * spellings, right and wrong: inequalities against intervals (both directions), equations times a constant,
 * power towers equal to the gold, relations written differently and chains, matrices in any environment,
 * labelled golds, "and"/"or" lists, semicolons, JSON-escaped backslashes, percent words, times of day. Every
 * verdict must come within the 2-second budget. The rules are documented in `src/scorers/compare.ts` and
 * `src/scorers/normalize.ts` and summarised in README "Scorers".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer } from '../../src/scorers/registry.ts';
import { isLabel, parseStructure, proportional } from '../../src/scorers/compare.ts';
import { evaluate, parseExpr } from '../../src/scorers/expression.ts';
import { normalizeAnswer, timeOfDay, unescapeJsonLatex } from '../../src/scorers/normalize.ts';
import { HANG_MS, readJsonl, timed } from './helpers.ts';

type Row = [gold: string, response: string, correct: boolean];

const math = createScorer('math');

/** Grade every row with the math scorer; collect every wrong verdict (and any over 2 s) before failing. */
async function check(kind: string, rows: Row[]): Promise<void> {
  const bad: string[] = [];
  for (const [gold, response, correct] of rows) {
    const { v, ms } = await timed(math, gold, response);
    if ((v.value === 1) !== correct || v.status !== 'ok') bad.push(`${kind}: gold ${JSON.stringify(gold)} vs ${JSON.stringify(response)} → ${JSON.stringify(v)}`);
    if (ms >= HANG_MS) bad.push(`${kind}: gold ${JSON.stringify(gold)} vs ${JSON.stringify(response)} took ${ms.toFixed(0)} ms`);
  }
  assert.deepEqual(bad, []);
}

const box = (s: string) => `So the answer is \\boxed{${s}}.`;

test('shared cases of the comparison kinds (answer_grading_more.jsonl) through the math scorer, each within 2 s', async () => {
  const ids = ['inequality-vs-interval', 'equation-scaled-by-minus-one', 'tower-equal-value'];
  const cases = readJsonl<{ id: string; gold: string; response: string; expected_correct: boolean }>('cases/answer_grading_more.jsonl').filter((c) => ids.includes(c.id));
  assert.equal(cases.length, ids.length);
  await check('shared', cases.map((c) => [c.gold, c.response, c.expected_correct]));
});

test('an inequality equals the interval it describes, in both directions; endpoint types and direction count', async () => {
  await check('inequality vs interval', [
    ['x<3', box('(-\\infty, 3)'), true],
    ['(-\\infty, 3)', box('x<3'), true],
    ['x>3', box('(-\\infty,3)'), false],
    ['x<3', box('(-\\infty, 3]'), false],
    ['x \\geq 5', box('[5, \\infty)'), true],
    ['x \\geq 5', box('(5, \\infty)'), false],
    ['[5,\\infty)', box('x\\geqslant 5'), true],
    ['[5,\\infty)', box('5 \\le y'), true], // the variable's name does not matter against an interval
    ['x \\le -1', box('(-\\infty, -1]'), true],
    ['(-\\infty, -1]', box('-1 \\geq x'), true],
    ['(-\\infty, -1]', box('x \\ge -1'), false],
    ['x > \\sqrt{2}', box('(\\sqrt{2}, \\infty)'), true],
    ['x > \\sqrt{2}', box('(\\sqrt{3}, \\infty)'), false],
    ['x < \\frac{1}{2}', box('(-\\infty, 0.5)'), true],
    // linear in one variable: solved exactly for its endpoint, the direction flipped by a negative coefficient
    ['(-\\infty, \\frac{1}{2})', box('-4x > -2'), true],
    ['(-\\infty, \\frac{1}{2})', box('-4x < -2'), false],
    ['[3, \\infty)', box('2t - 1 \\ge 5'), true],
    ['[3, \\infty)', box('2t - 1 > 5'), false],
    // double inequalities
    ['(2, 7]', box('2 < x \\le 7'), true],
    ['(2, 7]', box('2 \\le x \\le 7'), false],
    ['2 < x \\le 7', box('(2,7]'), true],
    ['2 < x \\le 7', box('7 \\ge x > 2'), true],
    ['2 < x \\le 7', box('x > 2'), false],
    ['-2 \\le x \\le 7', box('x \\in [-2,7]'), true],
    ['x \\in [-2,7]', box('-2 \\le x \\le 7'), true],
    // ≠ and "or": unions of rays
    ['x \\neq 3', box('(-\\infty,3)\\cup(3,\\infty)'), true],
    ['x \\neq 3', box('(-\\infty,3]\\cup(3,\\infty)'), false],
    ['(-\\infty,-2)\\cup(3,\\infty)', box('x<-2 \\text{ or } x>3'), true],
    ['(-\\infty,-2)\\cup(3,\\infty)', box('x>3 \\text{ or } x<-2'), true],
    ['(-\\infty,-2)\\cup(3,\\infty)', box('x<-2 \\text{ or } x\\ge 3'), false],
    ['x \\le -3 \\text{ or } x \\ge 2', box('(-\\infty, -3] \\cup [2, \\infty)'), true],
    // unions are sets of intervals; all reals
    ['(-\\infty,-2)\\cup(3,\\infty)', box('(3,\\infty)\\cup(-\\infty,-2)'), true],
    ['\\mathbb{R}', box('(-\\infty,\\infty)'), true],
    ['(-\\infty,\\infty)', box('x \\in \\mathbb{R}'), true],
    // only a lone variable or a linear function is solved: a quadratic is compared as a relation
    ['x^2 < 4', box('x < 2'), false],
    ['x^2 < 4', box('(-2, 2)'), false],
    ['x<3', box('3'), false],
  ]);
});

test('an equation equals the same equation times a nonzero constant; a labelled value is graded as a value', async () => {
  await check('equation times a constant', [
    ['34x+45y-20z+100=0', box('-34x-45y+20z-100=0'), true],
    ['34x+45y-20z+100=0', box('68x+90y-40z+200=0'), true],
    ['34x+45y-20z+100=0', box('34x+45y-20z-100=0'), false],
    ['2x - 3y + 6 = 0', box('3y - 2x - 6 = 0'), true],
    ['2x - 3y + 6 = 0', box('4x - 6y + 12 = 0'), true],
    ['2x - 3y + 6 = 0', box('4x - 6y + 6 = 0'), false],
    ['2x - 3y + 6 = 0', box('y = \\frac{2}{3}x + 2'), true],
    ['2x - 3y + 6 = 0', box('y = \\frac{2}{3}x - 2'), false],
    ['x^2 + y^2 = 25', box('2x^2 + 2y^2 - 50 = 0'), true],
    ['x^2 + y^2 = 25', box('x^2 + y^2 = 5'), false],
    ['\\frac{x^2}{4} + \\frac{y^2}{3} = 1', box('\\frac{x^2}{16} + \\frac{y^2}{12} = \\frac14'), true],
    ['y = 2x+3', box('2x - y + 3 = 0'), true],
    ['y = 2x+3', box('x = \\frac{y-3}{2}'), true],
    ['y = 2x+3', box('y = 2x - 3'), false],
    ['x = 5', box('2x = 10'), false],
    ['x = 5', box('y = 5'), false],
    ['2x + z = 1', box('1'), false],
    ['a + 3z = 0', box('0'), false],
    ['0', box('5x - 7y + 11z + 4 = 0'), false],
  ]);
});

test('a power tower whose value is cheap is evaluated exactly; one that is not is refused quickly', async () => {
  await check('power tower', [
    ['2^{65536}', box('2^{2^{2^{2^{2}}}}'), true],
    ['2^{65536}', box('4^{32768}'), true],
    ['2^{2^{2^{2^{2}}}}', box('2^{65536}'), true],
    ['2^{2^{2^{2^{2}}}}', box('2^{65535}'), false],
    ['2^{65537}', box('2^{2^{2^{2^{2}}}}'), false],
    ['3^{3^{3}}', box('7625597484987'), true],
    ['2^{262144}', box('2^{2^{2^{2^{2}}}}\\cdot 2^{196608}'), true],
    // too large to compute, but the same base: compared by their exponents
    ['3^{3^{3^{3}}}', box('3^{7625597484987}'), true],
    ['3^{3^{3^{3}}}', box('3^{7625597484986}'), false],
    ['2^{2^{2^{2^{2^{2}}}}}', box('2^{2^{65536}}'), true],
    ['2^{2^{2^{2^{2^{2}}}}}', box('2^{2^{65537}}'), false],
    ['2^{2^{65536}}', box('2^{2^{2^{2^{2^{2}}}}}'), true],
    ['3', box('2^{2^{2^{2^{2^{2}}}}}'), false],
  ]);
  const t = performance.now();
  const v = evaluate(parseExpr('2^{2^{2^{2^{2}}}}')!.node, new Map());
  assert.ok(v.q && v.q.n === 2n ** 65536n && v.q.d === 1n, 'exact value');
  // 130 powers at the size cap cost milliseconds (a budget of exact bits per evaluation), not seconds
  const many = evaluate(parseExpr('3^{165000}\\cdot'.repeat(130) + '1')!.node, new Map());
  assert.equal(many.q, null);
  assert.ok(performance.now() - t < 500, `${performance.now() - t} ms`);
});

test('relations written differently; chains and approximations give their last right-hand side', async () => {
  await check('relations', [
    ['x >= 5', box('x \\geq 5'), true],
    ['x < 3', box('x \\lt 3'), true],
    ['x \\leq 2', box('x <= 2'), true],
    ['x > 5', box('x \\gt 5'), true],
    ['x \\geq 5', box('5 \\leq x'), true],
    ['x \\leq 5', box('5 \\geq x'), true],
    ['x \\ge 5', box('-x \\le -5'), true],
    ['x \\ge 5', box('2x \\ge 10'), true],
    ['x < 1', box('-x > -1'), true],
    ['x \\le 1', box('-x \\ge -1'), true],
    ['x < 1', box('x > -1'), false],
    ['x > 5', box('x < 5'), false],
    ['x \\geq 5', box('x \\leq 5'), false],
    ['x \\le 5', box('x < 5'), false],
    ['x \\ge 5', box('x > 5'), false],
    ['x^2 < 4', box('-x^2 > -4'), true],
    ['x != 3', box('x \\neq 3'), true],
    ['x \\neq 3', box('x \\ne 3'), true],
    ['x \\ne 3', box('2x \\ne 6'), true],
    ['x \\ne 3', box('x \\ne 4'), false],
    ['x = 11', box('x = 5+5+1 = 7 = 11'), true],
    ['x = 11', box('x = 5+5+1 = 7 = 12'), false],
    ['11', box('x = 2+9 = 11'), true],
    ['11', box('x \\approx 11'), true],
    ['\\frac{1}{3}', box('x = \\frac13 \\approx 0.33'), true],
    ['\\frac{1}{3}', box('0.33 \\approx \\frac13'), false],
    ['x = 1/3', box('x = 5+5+1 = 1/3 \\approx 11'), true],
    ['x \\approx 3.14', box('3.14'), true],
    ['z = 1 + 1 = 2', box('z = 3+3 = 2'), true],
    ['293', box('m+n = 256+37 = 293'), true],
    ['293', box('m+n = 293'), true],
    ['293', box('256+37 = 293'), true],
    ['293', box('256+37 = 294'), false],
    ['m+n = 293', box('293'), false],
    ['7 = 11a+c', box('11a+c'), false],
    ['1', box('x < 1 < y < z'), false],
  ]);
});

test('matrices are equal whatever the environment and brackets, when shape and entries are equal', async () => {
  const m = (env: string, body: string) => `\\begin{${env}}${body}\\end{${env}}`;
  await check('matrices', [
    [m('pmatrix', '1 & 2 \\\\ 3 & 4'), box(m('bmatrix', '1 & 2 \\\\ 3 & 4')), true],
    [m('pmatrix', '1 & 2 \\\\ 3 & 4'), box(`\\left[${m('array', '{cc}1 & 2 \\\\ 3 & 4')}\\right]`), true],
    [m('pmatrix', '2 & -1 \\\\ 0 & 3'), box(`\\left(${m('array', '{rr} 2 & -1 \\\\ 0 & 3')}\\right)`), true],
    [m('bmatrix', '0 & 0 \\\\ 0 & 0'), box(m('matrix', '0 & 0 \\\\ 0 & 0')), true],
    [m('pmatrix', '\\frac{1}{2} \\\\ 3'), box(m('bmatrix', '0.5 \\\\ 3')), true],
    [`(${m('pmatrix', '\\frac{1}{3}\\\\ \\frac{1}{5}')})`, box(m('pmatrix', '\\frac13\\\\0.2')), true],
    [m('pmatrix', '-\\frac{7}{4}&-2\\\\4&\\frac{1}{4}\\\\'), box(m('pmatrix', '-\\frac{7}{4}&-2\\\\4&\\frac{1}{4}')), true],
    [m('pmatrix', '1 & 2 \\\\ 3 & 4'), box(m('pmatrix', '1 & 2 \\\\ 3 & 5')), false],
    [m('pmatrix', '2 & -1 \\\\ 0 & 3'), box(m('bmatrix', '2 & 0 \\\\ -1 & 3')), false],
    [m('pmatrix', '2 \\\\ -1'), box(m('pmatrix', '2 & -1')), false],
    [m('vmatrix', '1 & 2 \\\\ 3 & 4'), box(m('pmatrix', '1 & 2 \\\\ 3 & 4')), false], // a determinant is not a matrix
  ]);
});

test('golds that label their value, and values joined by "and"/"or"', async () => {
  await check('labelled golds', [
    ['(p,q)=(3,2)', box('(3,2)'), true],
    ['(p,q)=(3,2)', box('(2,3)'), false],
    ['(a,b)=(1,-2)', box('a=1, b=-2'), true],
    ['(a,b)=(1,-2)', box('b=-2, a=1'), true],
    ['(a,b)=(1,-2)', box('a=-2, b=1'), false],
    ['(6,31,-1)', box('(p,q,r) = (6,31,-1)'), true],
    ['AB=4, CD=5', box('4, 5'), true],
    ['AB = 6, BC = 8', box('6, 9'), false],
    ['|AB|=1', box('1'), true],
    ['|PQ| = 7', box('8'), false],
    ['\\overline{AB}=12', box('12'), true],
    ['\\angle ABC = 30^\\circ', box('30'), true],
    ['V_1:V_2=11:21', box('11:21'), true],
    ['V_1:V_2=11:21', box('21:11'), false],
    ['a:b = 2:3', box('2:3'), true],
    ['2:3', box('\\frac{2}{3}'), false], // a ratio is not its quotient
    ['f(2) = 5', box('5'), true],
    ['D = (0, 1)', box('D = (0, 1.5)'), false],
    ['n=1, 2, 3', box('n=1, 2, 3'), true],
    ['n=2, 3, 4', box('n=1, 2, 3'), false],
    ['2 \\text{ and } 3', box('2, 3'), true],
    ['3 \\text{ and } 5', box('5, 3'), true],
    ['3 \\text{ and } 5', box('3'), false],
    ['19, 46, and 82', box('19, 46, \\text{ and } 82'), true],
    ['19, 46, and 82', box('21, 36, and 82'), false],
    ['12\\text{ and }13', box('12, 13'), true],
    ['x = 3 \\text{ or } x = 5', box('3, 5'), true],
    ['x = 3 \\text{ or } x = 5', box('x=5 \\text{ or } x=3'), true],
    ['x = 3 \\text{ or } x = 5', box('5'), false],
    ['10 apples and 2 pears', box('2'), false],
  ]);
});

test('tuples with semicolons, tuples against bare lists, JSON-escaped backslashes, percent words', async () => {
  await check('notation', [
    ['(1;2)', box('(1,2)'), true],
    ['(1;2;3)', box('(1, 2, 3)'), true],
    ['(1;2;3)', box('(1, 3, 2)'), false],
    ['1; 2; 3', box('3, 2, 1'), true],
    ['(1,3)', box('{1,3}'), true], // grouping braces: the list 1, 3, in order against a tuple
    ['(3,1)', box('{1,3}'), false],
    ['(1,3)', box('\\{1,3\\}'), false], // a set is not a tuple
    ['\\\\frac{1}{2}', box('0.5'), true],
    ['\\frac{1}{2}', box('\\\\frac{1}{2}'), true],
    ['\\\\frac{\\\\sqrt{3}}{2}', box('\\frac{\\sqrt3}{2}'), true],
    ['\\\\frac{\\\\sqrt{3}}{2}', box('\\frac{\\sqrt2}{2}'), false],
    ['\\frac{3}{4}', box('\\\\dfrac{3}{4}'), true],
    ['\\\\begin{pmatrix} 1 \\\\\\\\ 2 \\\\end{pmatrix}', box('\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}'), true],
    ['28\\%', box('28 pct'), true],
    ['28\\%', box('28 percent'), true],
    ['28\\%', box('28 percentage'), true],
    ['45\\%', box('45\\text{ pct}'), true],
    ['45\\%', box('54 pct'), false],
    ['0.28', box('28'), false],
    ['1, 2, 3', box('1, 2, 3, ...'), false], // an ellipsis is not sentence punctuation
    ['\\frac{639}{40}', '$15\\frac{39}{40}$, or $\\boxed{15\\frac{39}{40}, \\frac{639}{40}}$', true],
    // numerals in a base: same base and digits (a bare numeral is a base-10 numeral)
    ['1112112_3', box('1112122_3'), false],
    ['204_5', box('204_{5}'), true],
    ['204_5', box('204'), false],
    ['11', box('11_{10}'), true],
    ['204_5', box('54'), false],
    ['204_5', box('204_6'), false],
  ]);
  assert.equal(unescapeJsonLatex('\\\\frac{1}{2}'), '\\frac{1}{2}');
  // unescaped LaTeX is never touched: a matrix row separator, a single-backslash command
  assert.equal(unescapeJsonLatex('\\begin{pmatrix}a\\\\b\\end{pmatrix}'), '\\begin{pmatrix}a\\\\b\\end{pmatrix}');
  assert.equal(unescapeJsonLatex('1 \\\\ 2'), '1 \\\\ 2');
});

test('times of day: a.m./p.m. read as a 24-hour time; a time without it is read on a 24-hour clock', async () => {
  await check('time of day', [
    ['\\text{4:30 p.m.}', box('4:30 \\text{ p.m.}'), true],
    ['\\text{4:30 p.m.}', box('4:30 PM'), true],
    ['\\text{4:30 p.m.}', box('16:30'), true],
    ['\\text{4:30 p.m.}', box('4:30 \\text{ a.m.}'), false],
    ['\\text{4:30 p.m.}', box('4:30'), false],
    ['\\text{4:30 p.m.}', box('5:30 \\text{ p.m.}'), false],
    ['\\text{9:15 a.m.}', box('9:15 \\mathrm{AM}'), true],
    ['\\text{12:00 noon}', box('12:00 \\text{ p.m.}'), true],
    ['\\text{11:45 p.m.}', box('23:45'), true],
    ['12:00', box('1:00'), false],
    ['12:00', box('12:00'), true],
  ]);
  assert.equal(timeOfDay('12:15 a.m.'), '0:15');
  assert.equal(timeOfDay('4 \\text{ p.m.}'), '16:00');
  assert.equal(timeOfDay('13:00 p.m.'), null);
  assert.equal(normalizeAnswer('04:30').text, '4:30');
});

test('building blocks: labels, proportional relations, parsed structure', () => {
  for (const l of ['x', 'x_1', 'x_{12}', '\\theta', 'AB', '|AB|', '\\overline{AB}', '\\angle ABC', 'f(2)', '(p,q)', 'V_1:V_2', 'Area']) assert.ok(isLabel(l), l);
  for (const l of ['2x', 'x+y', '\\pi', '\\infty', '(1,2)', '3']) assert.ok(!isLabel(l), l);
  assert.equal(proportional('(x)-(3)', '(2x)-(6)', true), 'eq');
  assert.equal(proportional('(x)-(3)', '(6)-(2x)', true), 'ne'); // a negative multiple flips an inequality
  assert.equal(proportional('(x)-(3)', '(6)-(2x)', false), 'eq'); // and is the same equation
  assert.equal(proportional('(x)-(3)', '(y)-(3)', false), 'ne');
  assert.equal(proportional('\\foo(x)', '(x)', false), 'unknown');
  const r = parseStructure('-4x>-2');
  assert.ok(r.t === 'rel' && r.region !== null && r.variable === 'x');
  assert.deepEqual(parseStructure(normalizeAnswer('x = 5+5+1 = 7 = 11').text), { t: 'eqn', lhs: 'x', rhs: { t: 'atom', s: '11' }, rhsText: '11' });
});
