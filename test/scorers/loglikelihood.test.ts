/**
 * The log-likelihood scorers (src/scorers/loglikelihood.ts) against lm-eval's definitions: acc = argmax(lls) == gold,
 * acc_norm = argmax(lls / len(choice)) == gold with len in code points and the delimiter left out, numpy's argmax
 * (first on ties, NaN wins), exact_match (greedy_match) = is_greedy[gold]; bits per byte and NLL per token.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChoiceLoglikelihoods, RollingLoglikelihood, TargetLoglikelihood } from '../../src/core/loglikelihood.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { createScorer, scorerNames } from '../../src/scorers/registry.ts';
import { argmax } from '../../src/solvers/loglikelihood.ts';
import { choiceVerdicts, goldIndex } from '../../src/scorers/loglikelihood.ts';

const sample = (choices: string[], target: string): Sample => ({ id: 's', input: 'q', target, choices, metadata: {} });
const choiceMeta = (choices: string[], logprobs: number[], greedy: boolean[] = choices.map(() => false)): ChoiceLoglikelihoods => ({
  kind: 'choice', target_delimiter: ' ', continuation: 'text', logprobs, is_greedy: greedy, tokens: choices.map(() => 2),
  chars: choices.map((c) => [...c].length), bytes: choices.map((c) => Buffer.byteLength(c)), pred: argmax(logprobs),
});
const state = (ll: unknown) => ({ messages: [], output: null, metadata: { loglikelihood: ll }, epoch: 0 });
const grade = async (spec: string, s: Sample, ll: unknown) => createScorer(spec).score(s, '', state(ll));

test('argmax is numpy\'s: first index on ties, NaN counts as the largest', () => {
  assert.equal(argmax([-1, -1, -2]), 0);
  assert.equal(argmax([-3, -1, -1]), 1);
  assert.equal(argmax([-3, NaN, 0]), 1);
  assert.equal(argmax([-Infinity, -Infinity]), 0);
});

test('the gold option: the target\'s text among the choices, else its letter', () => {
  assert.equal(goldIndex(sample(['3', '4', '5'], '4')), 1);
  assert.equal(goldIndex(sample(['red', 'blue'], 'B')), 1);
  assert.equal(goldIndex(sample(['red', 'blue'], '(A)')), 0);
  assert.equal(goldIndex(sample(['red', 'blue'], 'green')), null);
  assert.equal(goldIndex(sample(['red', 'blue'], 'D')), null);
});

test('acc and acc_norm disagree exactly where length normalisation changes the winner', async () => {
  // "gravity" wins on raw log-likelihood; "the strong nuclear force" wins per character (-8/24 > -4/7).
  const choices = ['gravity', 'magnetism', 'friction', 'the strong nuclear force'];
  const ll = choiceMeta(choices, [-4, -6, -5.5, -8]);
  const s = sample(choices, 'gravity');
  const acc = await grade('acc', s, ll);
  const norm = await grade('acc_norm', s, ll);
  assert.deepEqual([acc.value, acc.extracted, acc.status], [1, 'A', 'ok']);
  assert.deepEqual([norm.value, norm.extracted], [0, 'D']);
  assert.match(norm.explanation!, /D \(-0\.3333\) beats gold A \(-0\.5714\) by log-likelihood per character/);
  assert.deepEqual(choiceVerdicts([-4, -6, -5.5, -8], [7, 9, 8, 24], 0), { pred: 0, pred_norm: 3, acc: 1, acc_norm: 0 });
});

test('acc_norm counts characters as lm-eval does (Python len); acc_norm?length=bytes divides by UTF-8 bytes', async () => {
  // "ééé" is 3 characters but 6 bytes. Per character the gold "abc" wins (-3.3/3 = -1.1 > -6/3 = -2); per byte
  // "ééé" does (-6/6 = -1 > -1.1).
  const choices = ['abc', 'ééé'];
  const ll = choiceMeta(choices, [-3.3, -6]);
  const s = sample(choices, 'abc');
  assert.equal((await grade('acc_norm', s, ll)).value, 1);
  const bytes = createScorer('acc_norm?length=bytes');
  assert.equal(bytes.name, 'acc_norm?length=bytes');
  assert.deepEqual(bytes.options, { length: 'bytes' });
  assert.deepEqual([(await bytes.score(s, '', state(ll))).value, (await bytes.score(s, '', state(ll))).extracted], [0, 'B']);
  assert.equal(createScorer('acc_norm').name, 'acc_norm');
});

test('greedy_match is is_greedy of the gold continuation; numeric scorers are lm-eval\'s formulas', async () => {
  const choices = ['a', 'b'];
  const s = sample(choices, 'b');
  assert.equal((await grade('greedy_match', s, choiceMeta(choices, [-1, -2], [true, false]))).value, 0);
  assert.equal((await grade('greedy_match', s, choiceMeta(choices, [-1, -2], [false, true]))).value, 1);
  const target: TargetLoglikelihood = { kind: 'target', target_delimiter: ' ', logprob: -6.931471805599453, is_greedy: true, tokens: 4, bytes: 5 };
  assert.equal((await grade('greedy_match', s, target)).value, 1);
  assert.equal((await grade('loglikelihood', s, target)).value, -6.931471805599453);
  assert.ok(Math.abs((await grade('bits_per_byte', s, target)).value! - 10 / 5) < 1e-12); // 6.93 nats = 10 bits over 5 bytes
  assert.ok(Math.abs((await grade('nll_per_token', s, target)).value! - 6.931471805599453 / 4) < 1e-15);
  const rolling: RollingLoglikelihood = { kind: 'rolling', field: 'input', logprob: -20, tokens: 10, windows: 1, bytes: 40, words: 8 };
  assert.ok(Math.abs((await grade('bits_per_byte', s, rolling)).value! - 20 / 40 / Math.LN2) < 1e-12);
  assert.equal((await grade('acc', s, rolling)).status, 'grader_error');
  assert.equal((await grade('greedy_match', s, rolling)).status, 'grader_error');
});

test('without stored log-likelihoods, or with a gold that is no option, the verdict is a grader error (never a silent 0)', async () => {
  const s = sample(['a', 'b'], 'c');
  const none = await createScorer('acc').score(s, 'a', { messages: [], output: null, metadata: {}, epoch: 0 });
  assert.equal(none.status, 'grader_error');
  assert.match(none.explanation!, /loglikelihood_\* solvers/);
  const bad = await grade('acc', s, choiceMeta(['a', 'b'], [-1, -2]));
  assert.deepEqual([bad.value, bad.status], [null, 'grader_error']);
  assert.match(bad.explanation!, /gold is not one of the 2 options/);
  for (const n of ['acc', 'acc_norm', 'greedy_match', 'loglikelihood', 'bits_per_byte', 'nll_per_token']) assert.ok(scorerNames().includes(n), n);
  assert.equal(createScorer('bits_per_byte').kind, 'numeric');
  assert.equal(createScorer('acc').kind, 'binary');
});
