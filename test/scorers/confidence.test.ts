/**
 * The confidence a response states (the HLE response format): percent, fractions at the boundary (0.85 and 1.0),
 * out-of-range numbers (missing, never clamped), sentence punctuation, and the last statement when there are several.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractConfidence } from '../../src/scorers/extract.ts';

test('stated confidence: percent, fractions (0.85 and 1.0), out-of-range and punctuation', () => {
  const cases: Array<[string, number | null]> = [
    ['Confidence: 85%', 85],
    ['Confidence: 85', 85],
    ['Confidence: 85.', 85],
    ['Confidence: 85.5%.', 85.5],
    ['Confidence: 0.85', 85],
    ['Confidence: 1.0', 100],
    ['Confidence: 1.00.', 100],
    ['Confidence: 1', 1],
    ['Confidence: 1%', 1],
    ['Confidence: 0', 0],
    ['Confidence: 100%', 100],
    ['Confidence: 1000', null],
    ['Confidence: 150%', null],
    ['Confidence: ' + '9'.repeat(500), null],
    ['**Confidence:** 90 percent', 90],
    ['confidence = 85/100', 85],
    ['Confidence: high', null],
    ['no statement', null],
  ];
  for (const [s, want] of cases) assert.equal(extractConfidence(s), want, s);
});

test('stated confidence (HLE response format)', () => {
  assert.equal(extractConfidence('Explanation: …\nAnswer: B\nConfidence: 85%'), 85);
  assert.equal(extractConfidence('**Confidence:** 70 percent'), 70);
  assert.equal(extractConfidence('Confidence: 0.9'), 90);
  assert.equal(extractConfidence('confidence = 40/100'), 40);
  assert.equal(extractConfidence('Confidence: 20%\n… on reflection\nConfidence: 60%'), 60, 'the last statement counts');
  assert.equal(extractConfidence('Answer: 4'), null);
  assert.equal(extractConfidence('Confidence: 150%'), null, 'out of range is missing, not clamped');
  assert.equal(extractConfidence('confidence' + ' '.repeat(100_000) + 'x'), null);
});
