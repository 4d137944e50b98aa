/**
 * The needle scorers: exact match after trimming, robust list parsing, partial credit reported separately.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradeNeedle, parseListAnswer } from '../../src/scorers/needle.ts';
import { createScorer } from '../../src/scorers/registry.ts';

const A = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const B = '11111111-2222-3333-4444-555555555555';
const C = 'abcdefab-cdef-abcd-efab-cdefabcdefab';
const sample = (target: string) => ({ id: 's', input: 'x', target, metadata: {} });

test('list answers parse from JSON, Python-style, fenced, comma- or newline-separated and bulleted text', () => {
  const want = [A, B];
  for (const text of [
    `["${A}", "${B}"]`,
    `['${A}', '${B}']`,
    '```json\n' + `["${A}","${B}"]` + '\n```',
    `${A}, ${B}`,
    `${A}\n${B}\n`,
    `- ${A}\n- ${B}`,
    `1. "${A}"\n2. "${B}"`,
    `[${A}, ${B}]`,
    `  \`${A}\`,\n\`${B}\`  `,
  ]) assert.deepEqual(parseListAnswer(text), want, text);
  assert.deepEqual(parseListAnswer(''), []);
});

test('single values: exact after trimming and removing one pair of quotes, or the one UUID-form string named; the value itself never loosely', () => {
  assert.equal(gradeNeedle(A, `  ${A}\n`).exact, 1);
  assert.equal(gradeNeedle(A, `"${A}"`).exact, 1);
  assert.equal(gradeNeedle(A, `The value is ${A}`).exact, 1);
  assert.equal(gradeNeedle(A, `The value is ${A.slice(0, -1)}1`).exact, 0);
  assert.equal(gradeNeedle(A, `${B} or ${A}`).exact, 0, 'two different UUIDs: ambiguous');
  assert.equal(gradeNeedle(A, A.toUpperCase()).exact, 0);
  assert.equal(gradeNeedle(A, A.toUpperCase(), { ignoreCase: true }).exact, 1);
  assert.equal(gradeNeedle(A, '').status, 'no_answer');
});

test('lists: exact = same multiset (order only with `ordered`); partial = |pred ∩ gold| / max(|gold|, |pred|)', () => {
  const gold = JSON.stringify([A, B, C]);
  assert.deepEqual([gradeNeedle(gold, `${C}, ${A}, ${B}`).exact, gradeNeedle(gold, `${C}, ${A}, ${B}`).partial], [1, 1]);
  assert.equal(gradeNeedle(gold, `${C}, ${A}, ${B}`, { ordered: true }).exact, 0);
  const miss = gradeNeedle(gold, `${A}, ${B}`);
  assert.equal(miss.exact, 0);
  assert.ok(Math.abs(miss.partial - 2 / 3) < 1e-12);
  const extra = gradeNeedle(gold, `${A}, ${B}, ${C}, 99999999-9999-9999-9999-999999999999`);
  assert.equal(extra.exact, 0);
  assert.equal(extra.partial, 3 / 4);
  assert.equal(gradeNeedle(gold, `${A}, ${A}, ${A}`).partial, 1 / 3, 'duplicates count once per gold item');
});

test('registry: `needle` is binary, `needle?credit=partial` numeric with its own label, both from one entry', async () => {
  const exact = createScorer('needle');
  const partial = createScorer('needle?credit=partial');
  assert.equal(exact.name, 'needle');
  assert.equal(exact.kind, 'binary');
  assert.equal(partial.name, 'needle?credit=partial');
  assert.equal(partial.kind, 'numeric');
  assert.deepEqual(exact.options, { credit: 'exact', ordered: false, ignoreCase: false });
  const s = sample(JSON.stringify([A, B]));
  assert.equal((await exact.score(s, A)).value, 0);
  assert.equal((await partial.score(s, A)).value, 0.5);
  assert.throws(() => createScorer('needle?credit=half'), /invalid options/);
});
