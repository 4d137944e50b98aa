/** Multiple-comparison adjustments (src/stats/multiplicity.ts): Holm and Benjamini–Hochberg against hand computation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benjaminiHochberg, holm } from '../../src/stats/multiplicity.ts';

const close = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);

test('Holm and Benjamini–Hochberg adjusted p-values match hand computation', () => {
  const p = [0.01, 0.04, 0.03, 0.005];
  holm(p).forEach((v, i) => close(v, [0.03, 0.06, 0.06, 0.02][i]!, 1e-12));
  benjaminiHochberg(p).forEach((v, i) => close(v, [0.02, 0.04, 0.04, 0.02][i]!, 1e-12));
  assert.ok(Number.isNaN(holm([NaN, 0.01])[0]!));
  close(holm([NaN, 0.01])[1]!, 0.01, 1e-12);
});
