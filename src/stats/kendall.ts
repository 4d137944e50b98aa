/**
 * Kendall rank correlation τ-b between two score vectors of equal length n (higher = better in both).
 * τ_b = (C − D) / sqrt((C + D + T_x)(C + D + T_y)) with C/D concordant/discordant pairs and T_x, T_y pairs tied in
 * one vector only (Kendall 1945, "The treatment of ties in ranking problems", Biometrika 33). O(n²).
 * Returns NaN when one vector is constant or n < 2.
 */
export function kendallTau(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`kendallTau: lengths differ (${n} vs ${y.length})`);
  let c = 0, d = 0, tx = 0, ty = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = Math.sign(x[i]! - x[j]!), b = Math.sign(y[i]! - y[j]!);
      if (a === 0 && b === 0) continue;
      if (a === 0) tx++;
      else if (b === 0) ty++;
      else if (a === b) c++;
      else d++;
    }
  }
  const den = Math.sqrt((c + d + tx) * (c + d + ty));
  return den === 0 ? NaN : (c - d) / den;
}
