/**
 * Distribution functions used by the tests and planners, behind one small typed surface over jstat
 * (jstat ships no TypeScript types). Exact discrete tails (binomial) are computed here directly so they can be
 * checked by hand.
 */
import { lazyPackage } from '../core/lazy.ts';

interface JStatLike {
  normal: { cdf(x: number, mean: number, sd: number): number; inv(p: number, mean: number, sd: number): number };
  studentt: { cdf(x: number, df: number): number; inv(p: number, df: number): number };
  chisquare: { cdf(x: number, df: number): number };
  beta: { inv(p: number, a: number, b: number): number };
  betaln(a: number, b: number): number;
  gammaln(x: number): number;
}
/** jstat, loaded on the first distribution call (see core/lazy.ts). */
const jstat = lazyPackage<JStatLike>('jstat');

/** Standard normal CDF Φ(x). */
export function normalCdf(x: number): number {
  return jstat().normal.cdf(x, 0, 1);
}

/** Standard normal quantile Φ⁻¹(p), p in (0, 1). Errors: RangeError outside (0, 1). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normal quantile needs 0 < p < 1, got ${p}`);
  return jstat().normal.inv(p, 0, 1);
}

/** Beta(a, b) quantile, p in [0, 1], a, b > 0. Errors: RangeError outside those ranges. */
export function betaQuantile(p: number, a: number, b: number): number {
  if (!(p >= 0 && p <= 1) || !(a > 0) || !(b > 0)) throw new RangeError(`beta quantile needs 0 ≤ p ≤ 1 and a, b > 0, got p=${p}, a=${a}, b=${b}`);
  return jstat().beta.inv(p, a, b);
}

/** Student t CDF with `df` degrees of freedom (df > 0). */
export function studentTCdf(x: number, df: number): number {
  return jstat().studentt.cdf(x, df);
}

/** Two-sided p-value of a t statistic: 2·(1 − F_t(|t|; df)). */
export function studentTTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  return Math.min(1, 2 * (1 - studentTCdf(Math.abs(t), df)));
}

/** Student t quantile. */
export function studentTQuantile(p: number, df: number): number {
  return jstat().studentt.inv(p, df);
}

/** Chi-square CDF with `df` degrees of freedom. */
export function chiSquareCdf(x: number, df: number): number {
  return jstat().chisquare.cdf(x, df);
}

/** log C(n, k) through log-gamma. */
export function logChoose(n: number, k: number): number {
  return jstat().gammaln(n + 1) - jstat().gammaln(k + 1) - jstat().gammaln(n - k + 1);
}

/** Binomial probability mass P(X = k) for X ~ Bin(n, p). */
export function binomialPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return 0;
  if (p === 0) return k === 0 ? 1 : 0;
  if (p === 1) return k === n ? 1 : 0;
  return Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
}

/** Binomial CDF P(X ≤ k) for X ~ Bin(n, p), by summing the mass function. */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let s = 0;
  for (let i = 0; i <= k; i++) s += binomialPmf(i, n, p);
  return Math.min(1, s);
}
