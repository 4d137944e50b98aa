/**
 * Real polynomials as coefficient arrays, lowest degree first: `[c0, c1, c2]` is c0 + c1·x + c2·x².
 * Enough algebra for the chart ground truth: evaluation, derivative, antiderivative, products, and every real root
 * in an interval (found by splitting the interval at the roots of the derivative, recursively, so each piece is
 * monotone and holds at most one root, which bisection then finds to machine precision).
 */

export type Poly = readonly number[];

/** p(x) by Horner's rule. */
export function polyEval(p: Poly, x: number): number {
  let y = 0;
  for (let i = p.length - 1; i >= 0; i--) y = y * x + p[i]!;
  return y;
}

/** The degree after dropping trailing zero coefficients (−1 for the zero polynomial). */
export function polyDegree(p: Poly): number {
  let d = p.length - 1;
  while (d >= 0 && p[d] === 0) d--;
  return d;
}

/** p′. */
export function polyDerivative(p: Poly): number[] {
  return p.slice(1).map((c, i) => c * (i + 1));
}

/** The antiderivative P with P(0) = 0. */
export function polyIntegral(p: Poly): number[] {
  return [0, ...p.map((c, i) => c / (i + 1))];
}

/** ∫_a^b p(x) dx, exactly (up to rounding) from the antiderivative. */
export function polyDefiniteIntegral(p: Poly, a: number, b: number): number {
  const P = polyIntegral(p);
  return polyEval(P, b) - polyEval(P, a);
}

/** p + q. */
export function polyAdd(p: Poly, q: Poly): number[] {
  const n = Math.max(p.length, q.length);
  return Array.from({ length: n }, (_, i) => (p[i] ?? 0) + (q[i] ?? 0));
}

/** k·p. */
export function polyScale(p: Poly, k: number): number[] {
  return p.map((c) => c * k);
}

/** p·q. */
export function polyMul(p: Poly, q: Poly): number[] {
  if (p.length === 0 || q.length === 0) return [];
  const out = new Array<number>(p.length + q.length - 1).fill(0);
  for (let i = 0; i < p.length; i++) for (let j = 0; j < q.length; j++) out[i + j]! += p[i]! * q[j]!;
  return out;
}

/** The root of a continuous f with f(lo)·f(hi) ≤ 0, by bisection to the last representable step. */
function bisect(f: (x: number) => number, lo: number, hi: number): number {
  let flo = f(lo);
  if (flo === 0) return lo;
  if (f(hi) === 0) return hi;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (mid <= lo || mid >= hi) break;
    const fm = f(mid);
    if (fm === 0) return mid;
    if (Math.sign(fm) === Math.sign(flo)) {
      lo = mid;
      flo = fm;
    } else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Every distinct real root of p in the closed interval [a, b], ascending. Roots of even multiplicity (touching
 * zero without crossing) are found too: they are roots of p′ where p vanishes. The zero polynomial has no
 * isolated roots and gives [].
 * @throws RangeError when a > b or a bound is not finite
 */
export function polyRealRoots(p: Poly, a: number, b: number): number[] {
  if (!(Number.isFinite(a) && Number.isFinite(b)) || a > b) throw new RangeError(`bad interval [${a}, ${b}]`);
  const d = polyDegree(p);
  if (d <= 0) return [];
  const q = p.slice(0, d + 1);
  if (d === 1) {
    const r = -q[0]! / q[1]!;
    return r >= a && r <= b ? [r] : [];
  }
  const crit = polyRealRoots(polyDerivative(q), a, b);
  const knots = [a, ...crit.filter((c) => c > a && c < b), b];
  const f = (x: number) => polyEval(q, x);
  const scale = q.reduce((s, c) => s + Math.abs(c), 0) * Math.max(1, Math.abs(a), Math.abs(b)) ** d;
  const tiny = 1e-12 * scale;
  const roots: number[] = [];
  const push = (r: number) => {
    if (roots.length === 0 || Math.abs(r - roots[roots.length - 1]!) > 1e-9 * Math.max(1, Math.abs(r))) roots.push(r);
  };
  for (let i = 0; i < knots.length; i++) {
    const x = knots[i]!;
    if (Math.abs(f(x)) <= tiny) push(x); // a root at a knot (a bound or a double root at a critical point)
    if (i + 1 < knots.length) {
      const y = knots[i + 1]!;
      const fx = f(x), fy = f(y);
      if (Math.abs(fx) > tiny && Math.abs(fy) > tiny && Math.sign(fx) !== Math.sign(fy)) push(bisect(f, x, y));
    }
  }
  return roots;
}

/** The maximum and minimum of p on [a, b] (at a bound or a critical point), with where they are reached. */
export function polyExtrema(p: Poly, a: number, b: number): { max: number; argmax: number; min: number; argmin: number } {
  const cands = [a, b, ...polyRealRoots(polyDerivative(p), a, b)];
  let max = -Infinity, min = Infinity, argmax = a, argmin = a;
  for (const x of cands) {
    const y = polyEval(p, x);
    if (y > max) [max, argmax] = [y, x];
    if (y < min) [min, argmin] = [y, x];
  }
  return { max, argmax, min, argmin };
}

/** ∫_a^b |p(x)| dx: the integral split at the real roots of p inside (a, b). */
export function polyAbsIntegral(p: Poly, a: number, b: number): number {
  const knots = [a, ...polyRealRoots(p, a, b).filter((r) => r > a && r < b), b];
  let s = 0;
  for (let i = 0; i + 1 < knots.length; i++) s += Math.abs(polyDefiniteIntegral(p, knots[i]!, knots[i + 1]!));
  return s;
}
