/**
 * The reference solver is the generator's correctness test, so it must score 100% whatever prompt template wraps
 * the sample (built-in templates, custom ones with braces or JSON before or after the haystack), on every task and
 * direction; and the reference model addresses reject parameters they do not read instead of silently running
 * another model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTemplate, renderMessages, templateNames } from '../../src/core/templates.ts';
import { DIRECTIONS, INSTRUCTIONS, INSTRUCTION_OPENINGS, NEEDLE_TASKS, THREAD_TASKS, generateNeedleSample } from '../../src/generators/needle/index.ts';
import { answerNeedlePrompt } from '../../src/providers/reference-needle.ts';
import { createReferenceProvider } from '../../src/providers/reference.ts';
import { gradeNeedle } from '../../src/scorers/needle.ts';
import { InputError } from '../../src/core/errors.ts';

const OPTS = { concurrency: 1 };
const TEMPLATES = [
  ...templateNames().filter((n) => n !== 'choice'),
  'text:{question}',
  'text:Here is a JSON object {like this}: {"a": "b"}\n{question}\nPut your answer in \\boxed{}.',
  'text:Example: {"00000000-0000-0000-0000-000000000000": "11111111-1111-1111-1111-111111111111"}\n\n{question}\n\n{"format": "json"}',
];

test('every instruction begins with one of the openings the solver looks for', () => {
  for (const text of Object.values(INSTRUCTIONS)) assert.ok(INSTRUCTION_OPENINGS.some((o) => text.startsWith(o)), text);
});

test('the exact solver scores 100% on every task and direction under every template, braces and JSON included', () => {
  for (const tpl of TEMPLATES) {
    const template = getTemplate(tpl);
    for (const task of NEEDLE_TASKS) {
      for (const direction of THREAD_TASKS.includes(task) ? DIRECTIONS : [undefined]) {
        for (const seed of [0, 1]) {
          const { sample } = generateNeedleSample({ task, chars: 3000, direction, depth: 30 }, seed);
          const prompt = renderMessages(template, sample, {} as never).filter((m) => m.role === 'user').map((m) => m.content).join('\n');
          const a = answerNeedlePrompt(prompt);
          assert.ok(a, `${tpl} ${task}: recognised`);
          assert.equal(gradeNeedle(sample.target, a.text, { ordered: true }).exact, 1, `${tpl} ${task} ${direction ?? ''} seed ${seed}`);
        }
      }
    }
  }
  assert.equal(answerNeedlePrompt('What is 2 + 2? {"a": "b"}'), null);
});

test('reference model addresses: unknown, empty or repeated parameters are InputErrors; the documented ones work', () => {
  for (const bad of ['reference:needle?p=0.5', 'reference:needle-noisy?p=', 'reference:needle-noisy?prob=0.5', 'reference:needle-noisy?p=0.5&p=0.9',
    'reference:needle-noisy?limit=', 'reference:needle-noisy?p=2', 'reference:needle-noisy?limit=1.5', 'reference:needle-noisy?p=abc', 'reference:needles',
    // the same strict rule for every reference model (one parser): typos and parameters of exact models are refused
    'reference:noisy?prob=0.1', 'reference:noisy?p=', 'reference:oracle?p=0.5', 'reference:silent?x=1']) {
    assert.throws(() => createReferenceProvider(bad, OPTS), InputError, bad);
  }
  for (const good of ['reference:needle', 'reference:needle-noisy', 'reference:needle-noisy?p=0.5', 'reference:needle-noisy?p=0&limit=1000', 'reference:needle-noisy?limit=2000', 'reference:oracle', 'reference:noisy?p=0.3', 'reference:silent']) {
    assert.doesNotThrow(() => createReferenceProvider(good, OPTS), good);
  }
});

test('the noisy model is right exactly when it says so, down to one-pair haystacks where every value is gold', () => {
  let wrong = 0;
  for (const task of NEEDLE_TASKS) {
    for (const chars of [80, 160, 240, 400, 1000]) {
      for (const k of [1, 2, 3]) {
        let sample;
        try {
          sample = generateNeedleSample({ task, chars, k, threadLength: 2, threads: 1, branches: 2 }, chars + k).sample;
        } catch {
          continue; // does not fit this length
        }
        for (let epoch = 0; epoch < 4; epoch++) {
          const a = answerNeedlePrompt(sample.input as string, { p: 0, limit: 1, seed: epoch }, `${sample.id}|${epoch}`);
          assert.ok(a);
          assert.equal(a.correct, false);
          assert.equal(gradeNeedle(sample.target, a.text).exact, 0, `${sample.id}: ${a.text} vs ${sample.target}`);
          wrong++;
        }
      }
    }
  }
  assert.ok(wrong > 50);
});
