/** Truncated generations (src/stats/truncation.ts): accuracy with and without truncated attempts, by length bins and as a histogram, by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTruncation } from '../../src/stats/truncation.ts';

const close = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);

test('truncation: accuracy with and without truncated attempts and by length bins, by hand', () => {
  const recs = [
    { sample_id: 'a', epoch: 0, value: 1, truncated: false, length: 10 },
    { sample_id: 'a', epoch: 1, value: 0, truncated: true, length: 100 },
    { sample_id: 'b', epoch: 0, value: 0, truncated: false, length: 20 },
    { sample_id: 'b', epoch: 1, value: 1, truncated: false, length: 30 },
    { sample_id: 'c', epoch: 0, value: 0, truncated: true, length: 100 },
    { sample_id: 'c', epoch: 1, value: null, truncated: false, length: 5 },
  ];
  const t = analyzeTruncation(recs, 'tokens', { seed: 0, bins: 2, histBins: 4, replicates: 100 });
  assert.equal(t.truncated, 2);
  close(t.accuracy_all, (0.5 + 0.5 + 0) / 3, 1e-12);
  close(t.accuracy_without_truncated!, (1 + 0.5) / 2, 1e-12);
  assert.equal(t.accuracy_of_truncated, 0);
  assert.equal(t.bins.reduce((s, b) => s + b.attempts, 0), 5);
  assert.equal(t.histogram.correct.reduce((a, b) => a + b, 0) + t.histogram.incorrect.reduce((a, b) => a + b, 0), 5);
  assert.equal(t.histogram.incorrect[3], 2, 'the two truncated (length 100) attempts are incorrect and in the last bin');
});
