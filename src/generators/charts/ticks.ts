/**
 * Axis ticks at "nice" numbers: 1, 2, 2.5 or 5 times a power of ten, after Heckbert, "Nice Numbers for Graph
 * Labels", Graphics Gems (1990), with the step chosen so that about `target` ticks cover the range and the axis
 * limits snapped outwards to multiples of the step.
 */

/**
 * The nice number nearest to (`round`) or not below (`!round`) a positive x: 1, 2, 2.5, 5 or 10 × 10^k (Heckbert 1990,
 * with 2.5 added as in most plotting libraries).
 * @throws RangeError for x ≤ 0 or not finite
 */
export function niceNumber(x: number, round: boolean): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`niceNumber needs a positive finite number, got ${x}`);
  const exp = Math.floor(Math.log10(x));
  const f = x / 10 ** exp;
  let nf: number;
  if (round) nf = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
  else nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nf * 10 ** exp;
}

/** Ticks of one axis: the snapped limits, the step, the tick values and their labels. */
export interface Ticks {
  min: number;
  max: number;
  step: number;
  values: number[];
  labels: string[];
}

/** Decimal places needed to print multiples of `step` exactly (0 for steps ≥ 1). */
export function stepDecimals(step: number): number {
  for (let d = 0; d <= 12; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9 * 10 ** d) return d;
  return 12;
}

/** A tick label: the value at the step's precision, with a true minus sign (U+2212) and no negative zero. */
export function tickLabel(v: number, decimals: number): string {
  const s = v.toFixed(decimals);
  const z = Number(s) === 0 ? (0).toFixed(decimals) : s;
  return z.startsWith('-') ? '\u2212' + z.slice(1) : z;
}

/**
 * Nice ticks covering [lo, hi]: the step is niceNumber(niceNumber(hi − lo, false) / (target − 1), true), the limits
 * are lo and hi snapped outwards to multiples of it. A degenerate range (lo = hi) is widened by 1 on each side.
 * @param target wanted number of ticks (≥ 2, default 6)
 * @throws RangeError for a bound that is not finite or lo > hi
 */
export function niceTicks(lo: number, hi: number, target = 6): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new RangeError(`bad axis range [${lo}, ${hi}]`);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const range = niceNumber(hi - lo, false);
  const step = niceNumber(range / Math.max(1, target - 1), true);
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const decimals = stepDecimals(step);
  const values: number[] = [];
  const n = Math.round((max - min) / step);
  for (let i = 0; i <= n; i++) values.push(Number((min + i * step).toFixed(decimals)));
  return { min: values[0]!, max: values[values.length - 1]!, step, values, labels: values.map((v) => tickLabel(v, decimals)) };
}
