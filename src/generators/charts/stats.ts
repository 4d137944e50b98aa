/**
 * Descriptive statistics of one data series, with the conventions the chart questions state:
 * - variance: the population variance (divide by n), NumPy's `var` default (ddof = 0);
 * - quantiles: linear interpolation between order statistics, Hyndman & Fan (1996) definition 7, the default of
 *   NumPy `percentile` and R `quantile`: position h = (n − 1)·p (0-based), Q(p) = x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎);
 * - interquartile range: Q(0.75) − Q(0.25) with that rule; median = Q(0.5) (the usual middle value / mean of the two);
 * - Pearson's r; Spearman's ρ = Pearson's r of the ranks, ties given their average rank (Spearman 1904);
 *   Kendall's τ-b, which corrects for ties (Kendall 1945; SciPy `kendalltau` default).
 * Every function takes a non-empty array of finite numbers (two or more for correlations) and throws RangeError otherwise.
 */

function check(xs: readonly number[], min = 1): void {
  if (xs.length < min) throw new RangeError(`need at least ${min} values, got ${xs.length}`);
  for (const x of xs) if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
}

/** Arithmetic mean. */
export function mean(xs: readonly number[]): number {
  check(xs);
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Population variance Σ(x − x̄)² / n. */
export function variance(xs: readonly number[]): number {
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return s / xs.length;
}

/** Quantile p ∈ [0, 1] by linear interpolation (Hyndman & Fan 1996, definition 7). */
export function quantile(xs: readonly number[], p: number): number {
  check(xs);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile level must be in [0, 1], got ${p}`);
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

/** Median (Q(0.5)). */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Interquartile range Q(0.75) − Q(0.25) (definition 7). */
export function iqr(xs: readonly number[]): number {
  return quantile(xs, 0.75) - quantile(xs, 0.25);
}

/**
 * Pearson's correlation coefficient of paired samples.
 * @throws RangeError for unequal lengths, fewer than two pairs, or a constant series (r undefined)
 */
export function pearson(xs: readonly number[], ys: readonly number[]): number {
  check(xs, 2);
  check(ys, 2);
  if (xs.length !== ys.length) throw new RangeError(`series lengths differ: ${xs.length} vs ${ys.length}`);
  const mx = mean(xs), my = mean(ys);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = xs[i]! - mx, dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) throw new RangeError('correlation undefined for a constant series');
  return sxy / Math.sqrt(sxx * syy);
}

/** Ranks 1..n, ties given their average rank. */
export function ranks(xs: readonly number[]): number[] {
  const idx = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]![1]] = avg;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation: Pearson's r of the average ranks. */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  return pearson(ranks(xs), ranks(ys));
}

/**
 * Kendall's τ-b = (C − D) / √((n₀ − n₁)(n₀ − n₂)), n₀ = n(n−1)/2, n₁ / n₂ the pairs tied in x / in y (Kendall 1945).
 * O(n²), fine for chart-sized series.
 * @throws RangeError as {@link pearson}
 */
export function kendallTauB(xs: readonly number[], ys: readonly number[]): number {
  check(xs, 2);
  check(ys, 2);
  if (xs.length !== ys.length) throw new RangeError(`series lengths differ: ${xs.length} vs ${ys.length}`);
  let c = 0, d = 0, tx = 0, ty = 0;
  const n = xs.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const sx = Math.sign(xs[i]! - xs[j]!), sy = Math.sign(ys[i]! - ys[j]!);
      if (sx === 0) tx++;
      if (sy === 0) ty++;
      if (sx !== 0 && sy !== 0) {
        if (sx === sy) c++;
        else d++;
      }
    }
  }
  const n0 = (n * (n - 1)) / 2;
  const den = Math.sqrt((n0 - tx) * (n0 - ty));
  if (den === 0) throw new RangeError('correlation undefined for a constant series');
  return (c - d) / den;
}
