/**
 * Multiple-comparison adjustments of p-values. Both return adjusted p-values in the input order, so that
 * "reject at level α" is "adjusted p ≤ α".
 */

/**
 * Holm's step-down adjustment (Holm 1979, "A simple sequentially rejective multiple test procedure",
 * Scand. J. Statist. 6:65–70), controlling the family-wise error rate:
 * sort p ascending p_(1) ≤ … ≤ p_(m); adjusted p_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)).
 * NaN p-values are kept as NaN and not counted in m.
 */
export function holm(p: number[]): number[] {
  const idx = p.map((v, i) => [v, i] as const).filter(([v]) => !Number.isNaN(v)).sort((a, b) => a[0] - b[0]);
  const m = idx.length;
  const out = p.map(() => NaN);
  let running = 0;
  idx.forEach(([v, i], j) => {
    running = Math.max(running, Math.min(1, (m - j) * v));
    out[i] = running;
  });
  return out;
}

/**
 * Benjamini–Hochberg step-up adjustment (Benjamini & Hochberg 1995, "Controlling the false discovery rate",
 * JRSS-B 57:289–300), controlling the false discovery rate under independence or positive dependence:
 * adjusted p_(i) = min_{j ≥ i} min(1, m·p_(j)/j). NaN p-values are kept as NaN and not counted in m.
 */
export function benjaminiHochberg(p: number[]): number[] {
  const idx = p.map((v, i) => [v, i] as const).filter(([v]) => !Number.isNaN(v)).sort((a, b) => a[0] - b[0]);
  const m = idx.length;
  const out = p.map(() => NaN);
  let running = 1;
  for (let j = m - 1; j >= 0; j--) {
    const [v, i] = idx[j]!;
    running = Math.min(running, Math.min(1, (m * v) / (j + 1)));
    out[i] = running;
  }
  return out;
}

/** Adjustment methods by name: `holm` (default in Assay) or `bh`. Errors: RangeError for an unknown name. */
export function adjust(p: number[], method: 'holm' | 'bh' | 'none'): number[] {
  if (method === 'holm') return holm(p);
  if (method === 'bh') return benjaminiHochberg(p);
  if (method === 'none') return p.slice();
  throw new RangeError(`unknown adjustment ${String(method)}`);
}
