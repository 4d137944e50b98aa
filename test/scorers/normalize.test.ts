/** Answer normalisation rules (src/scorers/normalize.ts): brackets, thousands separators against lists, percent, currency. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeAnswer } from '../../src/scorers/normalize.ts';

test('normalisation rules', () => {
  const n = (s: string) => normalizeAnswer(s).text;
  assert.equal(n('\\left( 3, \\frac{\\pi}{2} \\right)'), '(3,\\frac{\\pi}{2})');
  assert.equal(n('10{,}080'), '10080');
  assert.equal(n('1, 728'), '1,728'); // a space after the comma: a list, not a separator
  assert.equal(n('1,7280'), '1,7280'); // four digits after the comma: a list
  assert.equal(n('3, 5, 7'), '3,5,7');
  assert.deepEqual(normalizeAnswer('28\\%'), { text: '28', percent: true });
  assert.equal(n('\\$\\,1{,}000.'), '1000');
});
