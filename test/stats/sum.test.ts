/**
 * exactSum is the correctly rounded sum: known cases where naive summation is wrong, order independence on random
 * permutations, and agreement with an exact sum computed in BigInt arithmetic (every double is an integer multiple
 * of 2⁻¹⁰⁷⁴).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactSum } from '../../src/stats/sum.ts';
import { createRng } from '../../src/core/rng.ts';

/** The exact sum of doubles as a BigInt multiple of 2⁻¹⁰⁷⁴, rounded to the nearest double (ties to even) by Number(). */
function bigSum(xs: number[]): number {
  const SHIFT = 1074n;
  let total = 0n;
  const buf = new DataView(new ArrayBuffer(8));
  for (const x of xs) {
    buf.setFloat64(0, x);
    const bits = buf.getBigUint64(0);
    const sign = bits >> 63n ? -1n : 1n;
    const exp = Number((bits >> 52n) & 0x7ffn);
    const frac = bits & ((1n << 52n) - 1n);
    const mant = exp === 0 ? frac : frac | (1n << 52n);
    const e = BigInt(Math.max(exp, 1) - 1075) + SHIFT; // value = mant · 2^(exp − 1075)
    total += sign * (mant << e);
  }
  // round |total| · 2⁻¹⁰⁷⁴ to 53 significant bits (ties to even), then scale
  const neg = total < 0n;
  const abs = neg ? -total : total;
  const shift = BigInt(Math.max(0, abs.toString(2).length - 53));
  let t = abs;
  if (shift > 0n) {
    const q = abs >> shift, r = abs - (q << shift), half = 1n << (shift - 1n);
    t = r > half || (r === half && (q & 1n) === 1n) ? q + 1n : q;
  }
  const v = Number(t) * 2 ** (Number(shift) - 1074);
  return neg ? -v : v;
}

test('exactSum: the correctly rounded sum, whatever the order', () => {
  assert.equal(exactSum(Array(10).fill(0.1)), 1);
  assert.equal(exactSum([1e100, 1, -1e100]), 1);
  assert.equal(exactSum([1, 1e-16, 1e-16]), 1.0000000000000002);
  assert.equal(exactSum([0.1, 0.2, -0.3]), exactSum([-0.3, 0.2, 0.1]));
  assert.equal(exactSum([0.1, 0.2, -0.3]), 2.7755575615628914e-17);
  assert.equal(exactSum([]), 0);
  assert.ok(Number.isNaN(exactSum([1, NaN])));
  assert.equal(exactSum([1, Infinity]), Infinity);
  const rng = createRng(3);
  for (let t = 0; t < 300; t++) {
    const n = 1 + rng.index(12);
    const xs = Array.from({ length: n }, () => (rng.float() - 0.5) * 10 ** (rng.index(40) - 20) * (rng.float() < 0.3 ? 1e15 : 1));
    const want = bigSum(xs);
    assert.equal(exactSum(xs), want, JSON.stringify(xs));
    const shuffled = [...xs].sort(() => rng.float() - 0.5);
    assert.equal(exactSum(shuffled), want, JSON.stringify(shuffled));
  }
});
