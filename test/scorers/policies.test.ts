/**
 * Named grading policies (percent, units, sets, tolerance, time budget), scorer specs and labels, explicit
 * gold/prediction roles, and the extraction steps added for tool-integrated outputs. One block per kind of fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer, parseScorerSpec, scorerLabel } from '../../src/scorers/registry.ts';
import { extractAnswer, lastProgramOutput } from '../../src/scorers/extract.ts';
import { gradeMath, MATH_DEFAULTS } from '../../src/scorers/math.ts';
import { sharedPool } from '../../src/scorers/symbolic.ts';
import { HANG_MS, sample, timed } from './helpers.ts';

type Row = [gold: string, response: string, expected: boolean];
async function check(spec: string, rows: Row[]): Promise<void> {
  const s = createScorer(spec);
  const bad: string[] = [];
  for (const [g, r, e] of rows) {
    const { v } = await timed(s, g, r);
    if ((v.value === 1) !== e) bad.push(`${spec}: gold ${JSON.stringify(g)} vs ${JSON.stringify(r)} → ${JSON.stringify(v)}`);
  }
  assert.deepEqual(bad, []);
}

const math = createScorer('math');

test('program output (tool-integrated responses): the printed result is the answer, not the last number of the prose', async () => {
  const tora = '```python\nprint(30 - 5 - 20)\n```\n```output\n5\n```\n5 cars drove through the traffic jam in the first 15 minutes.';
  assert.equal(lastProgramOutput(tora), '5');
  assert.deepEqual(extractAnswer(tora), { text: '5', method: 'program_output' });
  assert.equal(lastProgramOutput('```output\nline 1\nline 2\n```'), null, 'multi-line output is not an answer');
  assert.equal(lastProgramOutput('```output\n\n```'), null);
  await check('math', [
    ['5', tora, true],
    ['3', '```output\n3.0\n```\nThree trucks will be needed to transport 80 flagstones.', true],
    ['16', '```output\n16.0\n```\n16 people think that horse #12 will win.', true],
    // a box or an answer phrase still wins over the program output
    ['7', '```output\n5\n```\nOn reflection the answer is \\boxed{7}.', true],
    ['5', '```output\n5\n```\nOn reflection the answer is \\boxed{7}.', false],
  ]);
  await check('gsm8k', [['5', tora, true]]);
});

test('percent policy: strip (default), strict, equivalent, scaled (ToRA include_percentage)', async () => {
  await check('math', [['5', '\\boxed{0.05}', false], ['70', '\\boxed{0.7}', false], ['28', '\\boxed{28\\%}', true]]);
  await check('math?percent=strict', [['28', '\\boxed{28\\%}', false], ['28\\%', '\\boxed{28\\%}', true], ['28\\%', '\\boxed{28}', false]]);
  await check('math?percent=equivalent', [['0.28', '\\boxed{28\\%}', true], ['28\\%', '\\boxed{0.28}', true], ['70', '\\boxed{0.7}', false]]);
  await check('math?percent=scaled', [
    ['5', '\\boxed{0.05}', true],
    ['70', '\\boxed{0.7}', true],
    ['0.7', '\\boxed{70}', true],
    ['70', '\\boxed{7}', false],
    ['\\frac{1}{3}', '\\boxed{\\frac{100}{3}}', true],
    ['5', '\\boxed{0.5}', false],
  ]);
});

test('percent policy option', async () => {
  const strict = createScorer('math', { percent: 'strict' });
  const equivalent = createScorer('math', { percent: 'equivalent' });
  assert.equal((await timed(math, '28', '\\boxed{28\\%}')).v.value, 1);
  assert.equal((await timed(math, '28', '\\boxed{0.28}')).v.value, 0);
  assert.equal((await timed(strict, '28', '\\boxed{28\\%}')).v.value, 0);
  assert.equal((await timed(strict, '28\\%', '\\boxed{28\\%}')).v.value, 1);
  assert.equal((await timed(equivalent, '0.28', '\\boxed{28\\%}')).v.value, 1);
  assert.equal((await timed(equivalent, '28', '\\boxed{28\\%}')).v.value, 1);
});

test('unit policy: strip (default) drops trailing units on both sides; keep requires the same unit', async () => {
  await check('math', [['5.4 \\text{ cents}', '\\boxed{5.4}', true], ['12', '\\boxed{12 cm}', true]]);
  await check('math?units=keep', [
    ['5.4 \\text{ cents}', '\\boxed{5.4}', false],
    ['5.4 \\text{ cents}', '\\boxed{5.4 \\text{ cents}}', true],
    ['12', '\\boxed{12 cm}', false],
    ['12', '\\boxed{12}', true],
  ]);
});

test('set policy: exact-set semantics by default; multiset; ordered lists', async () => {
  await check('math', [
    ['1331, 1728', '\\boxed{1728, 1331}', true],
    ['1, 2', '\\boxed{2, 1, 2}', true], // repetition does not matter in a set
    ['1, 2', '\\boxed{1, 2, 3}', false], // an extra element is wrong
    ['1, 2, 3', '\\boxed{1, 2}', false], // a missing element is wrong
    ['\\{-2, 1\\pm\\sqrt{5}\\}', '\\boxed{1-\\sqrt{5}, -2, 1+\\sqrt{5}}', true],
    ['1, 1', '\\boxed{1}', true], // a one-element set given twice
    ['3', '\\boxed{3, 3}', true],
    ['3', '\\boxed{3, 4}', false], // a scalar gold never accepts a two-element set
  ]);
  await check('math?sets=multiset', [['1, 2', '\\boxed{2, 1, 2}', false], ['1, 2', '\\boxed{2, 1}', true], ['3', '\\boxed{3, 3}', false]]);
  await check('math?sets=ordered', [['3, 5', '\\boxed{5, 3}', false], ['3, 5', '\\boxed{3, 5}', true], ['\\{3, 5\\}', '\\boxed{\\{5, 3\\}}', true]]);
});

test('equations by right-hand side; different left-hand variables do not match', async () => {
  await check('math', [
    ['y = 2x + 3', '\\boxed{2x+3}', true],
    ['y = 2x + 3', '\\boxed{y = 3 + 2x}', true],
    ['2x + 3 = y', '\\boxed{y=2x+3}', true],
    ['x = 5', '\\boxed{y = 5}', false],
    ['x = 5', '\\boxed{5}', true],
    ['5', '\\boxed{x = 5}', true],
  ]);
});

test('intervals keep endpoint types; ± expands to both roots', async () => {
  await check('math', [
    ['[2,5)', '\\boxed{[2,5)}', true],
    ['[2,5)', '\\boxed{[2,5]}', false],
    ['(-\\infty, 3)', '\\boxed{(-\\infty,3]}', false],
    ['x \\in (1, 2]', '\\boxed{(1,2]}', true],
    ['2 \\pm \\sqrt{3}', '\\boxed{2-\\sqrt{3}, 2+\\sqrt{3}}', true],
    ['2 \\pm \\sqrt{3}', '\\boxed{2\\mp\\sqrt{3}}', true],
    ['2 \\pm \\sqrt{3}', '\\boxed{2+\\sqrt{3}}', false],
  ]);
});

test('roles are explicit: the gold is reduced as a dataset answer, the prediction is extracted from a response', async () => {
  const v = await gradeMath('5', '0.05', { ...MATH_DEFAULTS, percent: 'scaled' }, sharedPool());
  assert.equal(v.value, 1);
  // a GSM8K-format target is reduced to its final answer; the same text as a response is extracted differently
  const m = createScorer('math');
  assert.equal((await m.score(sample('Long story 3 + 4 = 7.\n#### 7'), 'The answer is 7.')).value, 1);
  // a gold phrase is never "extracted" like a response: its last number is not taken
  assert.equal((await m.score(sample('10 apples and 2 pears'), 'The answer is 2.')).value, 0);
  // scaled percent applies gold×100 and gold/100 to the gold, not the prediction (symmetric by construction, but roles named)
  assert.equal((await gradeMath('0.05', '5', { ...MATH_DEFAULTS, percent: 'scaled' }, sharedPool())).value, 1);
});

test('relative tolerance is a named option and never absolute', async () => {
  await check('math', [['\\frac{1}{2^{98}}', '\\boxed{\\frac{1}{2^{99}}}', false], ['1000', '\\boxed{1000.5}', false], ['1000000', '\\boxed{1000000.5}', true]]);
  await check('math?relTol=0.001', [['1000', '\\boxed{1000.5}', true], ['3.14159', '\\boxed{3.13}', false]]);
});

test('relTol option', async () => {
  const loose = createScorer('math', { relTol: 1e-2 });
  assert.equal((await timed(loose, '3.14159', '\\boxed{3.14}')).v.value, 1);
  assert.equal((await timed(math, '3.14159', '\\boxed{3.14}')).v.value, 0);
});

test('scorer specs: inline options, labels, stored options re-create the same scorer', () => {
  assert.deepEqual(parseScorerSpec('math?percent=scaled&relTol=1e-4'), { name: 'math', options: { percent: 'scaled', relTol: 1e-4 } });
  assert.deepEqual(parseScorerSpec('judge?model=openai-compatible:http://h:1/v1?stream%3D1#m'), { name: 'judge', options: { model: 'openai-compatible:http://h:1/v1?stream=1#m' } });
  assert.equal(scorerLabel('math', { relTol: 1e-6, percent: 'scaled' }, { relTol: 1e-6, percent: 'strip' }), 'math?percent=scaled');
  const s = createScorer('math?sets=multiset&percent=scaled');
  assert.equal(s.name, 'math?percent=scaled&sets=multiset', 'canonical: sorted keys');
  assert.deepEqual(s.options, { relTol: 1e-6, percent: 'scaled', units: 'strip', sets: 'multiset', timeoutMs: 2000 });
  const again = createScorer(s.name, s.options);
  assert.equal(again.name, s.name);
  assert.deepEqual(again.options, s.options);
  assert.throws(() => createScorer('math?percent=scaled', { percent: 'strict' }), /percent given as scaled and strict/);
  assert.throws(() => createScorer('math?percent=scaled&percent=strip'), /given twice/);
  assert.throws(() => createScorer('math?units=metric'), /invalid options for scorer "math": units/);
  assert.throws(() => createScorer('math?sets=fuzzy'), /sets/);
  assert.throws(() => createScorer('judge'), /judge model's address/);
  assert.throws(() => createScorer('judge?model=gpt-4o'), /model address/);
});

test('time budget: a verdict past timeoutMs is a recorded grader_timeout, not a crash and not a 0', async () => {
  const s = createScorer('math?timeoutMs=1');
  assert.equal(s.options.timeoutMs, 1);
  const { v, ms } = await timed(s, '\\sin^2 x + \\cos^2 x', '\\boxed{1 + \\arcsec(3) - \\arcsec(3)}');
  assert.ok(ms < HANG_MS, `${ms} ms: the budget did not stop the grade`);
  assert.equal(v.status, 'grader_timeout', JSON.stringify(v));
  assert.equal(v.value, null);
  assert.match(v.explanation ?? '', /exceeded 1 ms/);
});
