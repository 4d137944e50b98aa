/**
 * Correctly rounded sums: the sum of floating-point numbers as if computed exactly and rounded once, so it does not
 * depend on the order of the terms (Shewchuk 1997, "Adaptive precision floating-point arithmetic and fast robust
 * geometric predicates", Discrete Comput. Geom. 18:305, §2 — the non-overlapping partials; the final rounding as in
 * CPython's `math.fsum`, which also settles halfway cases).
 */

/**
 * The correctly rounded sum of `xs` (order independent). Errors: none; NaN when a term is NaN; ±Infinity when a term
 * is infinite or the exact sum overflows (the partials overflow before the sum does, in which case NaN may result:
 * callers that must not overflow check for a non-finite result).
 */
export function exactSum(xs: ArrayLike<number>): number {
  const partials: number[] = [];
  let special = 0;
  for (let t = 0; t < xs.length; t++) {
    let x = xs[t]!;
    if (!Number.isFinite(x)) {
      special += x;
      continue;
    }
    let i = 0;
    for (let j = 0; j < partials.length; j++) {
      let y = partials[j]!;
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  if (special !== 0 || Number.isNaN(special)) return special;
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n]!, lo = 0;
  while (n > 0) {
    const x = hi, y = partials[--n]!;
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  // halfway: the partials below decide the rounding direction
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2, x = hi + y, yr = x - hi;
    if (y === yr) hi = x;
  }
  return hi;
}
