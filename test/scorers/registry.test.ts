/** The scorer registry: names, an unknown name and bad options give clear errors; labels and options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer, scorerNames } from '../../src/scorers/registry.ts';

test('registry: names, unknown name and bad options throw clear errors', () => {
  for (const n of ['choice', 'exact', 'gsm8k', 'judge', 'math']) assert.ok(scorerNames().includes(n), n);
  assert.deepEqual(scorerNames(), [...scorerNames()].sort());
  assert.throws(() => createScorer('nope'), /unknown scorer "nope"; known scorers: acc, acc_norm, bits_per_byte, bleu, choice, cider_d, exact, grab, greedy_match, gsm8k, judge, loglikelihood, math/);
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
