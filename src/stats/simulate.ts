/**
 * Seeded samplers for the coverage simulations (bench/coverage.ts, test/stats/coverage.test.ts): the generative
 * model of an evaluation that the intervals are checked against. Every draw comes from `createRng(seed)`.
 *
 * The model of a benchmark (Miller 2024, "Adding Error Bars to Evals", arXiv:2411.00640, §2): question i
 * has a success probability p_i ~ Beta(μκ, (1−μ)κ) (μ = the population accuracy, κ = concentration: κ = 0.5 makes
 * questions nearly all-or-nothing, κ = 20 nearly equally hard; the intra-class correlation of epochs is 1/(1+κ)),
 * and each of k epochs is an independent Bernoulli(p_i).
 */
import type { Rng } from '../core/rng.ts';

/** Standard normal draw (Box–Muller, one of the pair). */
export function normalDraw(rng: Rng): number {
  const u = 1 - rng.float();
  const v = rng.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * log of a Gamma(shape, 1) draw (Marsaglia & Tsang 2000, "A simple method for generating gamma variables", ACM TOMS
 * 26:363; for shape < 1 the boost G_a = G_{a+1}·U^{1/a}, kept in logs so that tiny shapes never underflow to 0).
 * Errors: RangeError for shape ≤ 0.
 */
export function logGammaDraw(rng: Rng, shape: number): number {
  if (!(shape > 0)) throw new RangeError(`gamma shape must be > 0, got ${shape}`);
  if (shape < 1) return logGammaDraw(rng, shape + 1) + Math.log(1 - rng.float()) / shape;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = normalDraw(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.float();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return Math.log(d * v);
  }
}

/** Beta(a, b) draw as G_a/(G_a + G_b), computed from the logs (exact 0 or 1 only through rounding). */
export function betaDraw(rng: Rng, a: number, b: number): number {
  const la = logGammaDraw(rng, a), lb = logGammaDraw(rng, b);
  return 1 / (1 + Math.exp(lb - la));
}

/** Binomial(k, p) draw by inversion from the nearer end (O(k·min(p, 1−p)) expected steps; fine for k ≤ a few hundred). */
export function binomialDraw(rng: Rng, k: number, p: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return k;
  if (p > 0.5) return k - binomialDraw(rng, k, 1 - p);
  const q = 1 - p;
  const r = p / q;
  let pmf = Math.pow(q, k);
  if (pmf === 0) {
    // p·k so large that (1−p)^k underflows: sum of Bernoullis (k is then large; rare in our grids)
    let c = 0;
    for (let j = 0; j < k; j++) if (rng.float() < p) c++;
    return c;
  }
  let u = rng.float();
  let x = 0;
  while (u >= pmf && x < k) {
    u -= pmf;
    pmf *= (r * (k - x)) / (x + 1);
    x++;
  }
  return x;
}

/**
 * One simulated benchmark: n questions with p_i ~ Beta(μκ, (1−μ)κ) and k Bernoulli(p_i) epochs each.
 * Returns the per-question success probabilities and success counts.
 */
export function simulateBenchmark(rng: Rng, o: { n: number; k: number; mu: number; kappa: number }): { p: Float64Array; c: Int32Array } {
  const p = new Float64Array(o.n), c = new Int32Array(o.n);
  const a = o.mu * o.kappa, b = (1 - o.mu) * o.kappa;
  for (let i = 0; i < o.n; i++) {
    p[i] = betaDraw(rng, a, b);
    c[i] = binomialDraw(rng, o.k, p[i]!);
  }
  return { p, c };
}

/** The clusters (0/1 epochs per question, successes first) of success counts c with k epochs each. */
export function clustersOfCounts(c: ArrayLike<number>, k: number): number[][] {
  return Array.from(c, (ci) => Array.from({ length: k }, (_, j) => (j < ci ? 1 : 0)));
}
