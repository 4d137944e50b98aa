/**
 * The needle scorer on answers formatted the way models actually write them: a JSON list inside prose, markdown
 * bullets and bold, quoted items, prose joined by "and", semicolons, echoed "Corresponding values:" labels, a
 * trailing period. Every wrapping of the right values scores exactly; hedging (naming extra UUIDs) never pays, and
 * the values themselves are never matched loosely (a changed digit or upper case stays wrong).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradeNeedle, parseListAnswer } from '../../src/scorers/needle.ts';
import { generateNeedleSample, NEEDLE_TASKS } from '../../src/generators/needle/index.ts';

const A = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const B = '11111111-2222-3333-4444-555555555555';
const C = 'abcdefab-cdef-abcd-efab-cdefabcdefab';
const X = '99999999-9999-9999-9999-999999999999';

/** Ways to wrap a list of values in a response. */
const listWrappings: ((v: string[]) => string)[] = [
  (v) => `Here are the values: ${JSON.stringify(v)}`,
  (v) => `${JSON.stringify(v)}\nThese are the values in the order of the keys.`,
  (v) => `Corresponding values: ${JSON.stringify(v)}`,
  (v) => `${JSON.stringify(v)}.`,
  (v) => `{"values": ${JSON.stringify(v)}}`,
  (v) => `The values are ${v.slice(0, -1).join(', ')} and ${v.at(-1)}.`,
  (v) => v.join(' '),
  (v) => v.join('; '),
  (v) => v.map((x) => `**${x}**`).join(', '),
  (v) => v.map((x) => `* \`${x}\``).join('\n'),
  (v) => v.map((x) => `- "${x}"`).join('\n'),
  (v) => v.map((x, i) => `${i + 1}) ${x}`).join('\n'),
  (v) => '```\n' + v.join('\n') + '\n```',
  (v) => `I looked up each key.\n\nFinal answer: ['${v.join("', '")}']`,
];

/** Ways to wrap a single value. */
const singleWrappings: ((v: string) => string)[] = [
  (v) => `${v}.`,
  (v) => `"${v}".`,
  (v) => `**${v}**`,
  (v) => `Corresponding value: ${v}`,
  (v) => `The value is \`${v}\`.`,
  (v) => `Final value: "${v}"\n\nI followed the thread three hops.`,
  (v) => `["${v}"]`,
];

test('every wrapping of the right list scores exactly 1 (exact and partial); of a wrong list, what it deserves', () => {
  const gold = [A, B, C];
  for (const wrap of listWrappings) {
    const text = wrap(gold);
    const g = gradeNeedle(JSON.stringify(gold), text);
    assert.deepEqual([g.exact, g.partial], [1, 1], text);
    const shuffled = wrap([C, A, B]);
    assert.equal(gradeNeedle(JSON.stringify(gold), shuffled).exact, 1, `order ignored by default: ${shuffled}`);
    assert.equal(gradeNeedle(JSON.stringify(gold), shuffled, { ordered: true }).exact, 0, `order counts with ordered: ${shuffled}`);
    const missing = gradeNeedle(JSON.stringify(gold), wrap([A, B]));
    assert.deepEqual([missing.exact, missing.partial], [0, 2 / 3], wrap([A, B]));
    const extra = gradeNeedle(JSON.stringify(gold), wrap([A, B, C, X]));
    assert.deepEqual([extra.exact, extra.partial], [0, 3 / 4], wrap([A, B, C, X]));
    const upper = gradeNeedle(JSON.stringify(gold), wrap([A.toUpperCase(), B, C]));
    assert.deepEqual([upper.exact, upper.partial], [0, 2 / 3], `case counts: ${wrap([A.toUpperCase(), B, C])}`);
    assert.equal(gradeNeedle(JSON.stringify(gold), wrap([A.toUpperCase(), B, C]), { ignoreCase: true }).exact, 1);
  }
});

test('every wrapping of the right single value scores 1; a wrong or hedged one 0', () => {
  for (const wrap of singleWrappings) {
    assert.equal(gradeNeedle(A, wrap(A)).exact, 1, wrap(A));
    assert.equal(gradeNeedle(A, wrap(B)).exact, 0, wrap(B));
    assert.equal(gradeNeedle(A, wrap(A.toUpperCase())).exact, 0, `case counts: ${wrap(A.toUpperCase())}`);
    assert.equal(gradeNeedle(A, wrap(A.toUpperCase()), { ignoreCase: true }).exact, 1);
  }
  assert.equal(gradeNeedle(A, `Either ${A} or ${B}.`).exact, 0, 'two different UUIDs: ambiguous');
  assert.equal(gradeNeedle(A, `${A}-0`).exact, 0, 'a longer hyphenated string is not the value');
});

test('dumping the whole haystack never scores: single answers are ambiguous, lists are diluted', () => {
  for (const task of NEEDLE_TASKS) {
    const { sample, haystack } = generateNeedleSample({ task, chars: 4000 }, 5);
    const g = gradeNeedle(sample.target, haystack);
    assert.equal(g.exact, 0, task);
    assert.ok(g.partial < 0.1, `${task}: partial ${g.partial}`);
  }
});

test('empty answers and lists are no_answer; duplicates count once; many brackets stay fast enough to finish', () => {
  assert.equal(gradeNeedle(JSON.stringify([A, B]), '[]').status, 'no_answer');
  assert.equal(gradeNeedle(JSON.stringify([A, B]), 'I could not find them.').status, 'no_answer');
  const dup = gradeNeedle(JSON.stringify([A, B]), JSON.stringify([A, B, A]));
  assert.deepEqual([dup.exact, dup.partial], [0, 2 / 3]);
  const hostile = '['.repeat(100_000) + A;
  assert.deepEqual(parseListAnswer(hostile, true), [A]);
});
