/**
 * Planning an evaluation (`assay plan`): how many samples n and epochs k to detect a difference δ at power 1 − β,
 * or what CI half-width and minimum detectable effect a design gives; from a pilot run's variance components or
 * from assumed rates.
 *
 * Variance of a paired difference of avg@k between models A and B on the same n samples
 * (Miller 2024, "Adding Error Bars to Evals", arXiv:2411.00640, "Power analysis" and "Paired differences"):
 *
 *     Var(d̄) = (ω² + σ²_wA/k + σ²_wB/k) / n,     ω² = Var_i(p_iA − p_iB)
 *
 * and the sample size for a two-sided level-α paired test with power 1 − β (Chow, Shao & Wang 2008, "Sample Size
 * Calculations in Clinical Research", 2nd ed., §3.1): the normal approximation
 *
 *     n ≈ (z_{1−α/2} + z_{1−β})² · (ω² + (σ²_wA + σ²_wB)/k) / δ²,
 *
 * refined to the smallest n whose power under Student's t with n − 1 degrees of freedom reaches 1 − β:
 * power = P(|T| > t_{1−α/2, n−1}) with T ~ t_{n−1} shifted by λ = δ/SE (the usual approximation of the noncentral t;
 * Chow, Shao & Wang §3.1, Julious 2004, "Sample sizes for clinical trials with Normal data", Stat. Med. 23:1921).
 * The t version matters below ~50 samples: at n = 30 the normal formula over-promised power by 3–5 points against
 * the simulated sign-flip and t tests (bench/coverage.ts has the table).
 *
 * For a single run's CI half-width h: n = ⌈z²_{1−α/2} · (σ²_b + σ²_w/k) / h²⌉.
 */
import { normalQuantile, studentTCdf, studentTQuantile } from './distributions.ts';
import type { VarianceDecomposition } from './variance.ts';

/** Variance components of a comparison, in squared score units. */
export interface DesignComponents {
  /** ω²: variance over samples of the true per-sample difference p_iA − p_iB. */
  omega2: number;
  /** σ²_w of model A and of model B (seed noise of one attempt). */
  withinA: number;
  withinB: number;
  /** σ²_b and σ²_w of a single model (for CI half-widths). */
  between: number;
  within: number;
  /** Where they came from, printed with every plan. */
  source: string;
  /** A caveat about the components, printed with the plan (e.g. a one-epoch pilot cannot measure seed noise). */
  warning?: string;
}

/**
 * Components from assumed accuracies (binary scores). With total attempt variance p(1 − p) split by the
 * intra-class correlation ρ (σ²_b = ρ·p(1−p), σ²_w = (1−ρ)·p(1−p)) and correlation r between the two models'
 * per-sample true accuracies: ω² = σ²_bA + σ²_bB − 2r·σ_bA·σ_bB. ρ = 0 and r = 0 is the textbook independent
 * two-proportion case; real benchmarks usually have ρ well above 0 (questions differ in difficulty).
 * Errors: RangeError for rates outside [0, 1] or ρ, r outside [0, 1].
 */
export function componentsFromRates(pA: number, pB: number, opts: { icc?: number; correlation?: number } = {}): DesignComponents {
  const icc = opts.icc ?? 0.5;
  const r = opts.correlation ?? 0.5;
  for (const [name, v] of [['pA', pA], ['pB', pB], ['icc', icc], ['correlation', r]] as const) {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${v}`);
  }
  const vA = pA * (1 - pA), vB = pB * (1 - pB);
  const bA = icc * vA, bB = icc * vB;
  return {
    omega2: Math.max(0, bA + bB - 2 * r * Math.sqrt(bA * bB)),
    withinA: (1 - icc) * vA,
    withinB: (1 - icc) * vB,
    between: bA,
    within: (1 - icc) * vA,
    source: `assumed: accuracy ${pA.toFixed(3)} vs ${pB.toFixed(3)}, intra-class correlation ${icc}, correlation between models ${r}`,
  };
}

/**
 * The two accuracies an assumed-rate plan compares: A at `p` and B at `p + δ`, or at `p − δ` when `p + δ` would pass
 * 1 (a rate is never clipped, which would silently plan for a smaller difference than asked).
 * Errors: RangeError for p outside [0, 1], δ outside (0, 1), or a δ that fits on neither side of p.
 */
export function ratesForDifference(p: number, delta: number): { pA: number; pB: number; direction: 'above' | 'below' } {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`the assumed accuracy must be in [0, 1], got ${p}`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`δ must be in (0, 1), got ${delta}`);
  if (p + delta <= 1 + 1e-12) return { pA: p, pB: Math.min(1, p + delta), direction: 'above' };
  if (p - delta >= -1e-12) return { pA: p, pB: Math.max(0, p - delta), direction: 'below' };
  throw new RangeError(`a difference of ${delta} cannot exist around an accuracy of ${p}: both ${p} + δ and ${p} − δ leave [0, 1]`);
}

/**
 * Components from a pilot run's variance decomposition. With one pilot, model B is assumed to have the same
 * components and per-sample correlation r with A (ω² = 2σ²_b(1 − r)); with a paired pilot give `omega2` measured
 * from the two runs (see `omega2FromPilot`).
 */
export function componentsFromPilot(a: VarianceDecomposition, opts: { b?: VarianceDecomposition; omega2?: number; correlation?: number; label?: string } = {}): DesignComponents {
  const r = opts.correlation ?? 0.5;
  if (!(r >= 0 && r <= 1)) throw new RangeError(`correlation must be in [0, 1], got ${r}`);
  if (opts.omega2 != null && !(opts.omega2 >= 0)) throw new RangeError(`ω² from the paired pilot must be a number ≥ 0, got ${opts.omega2}`);
  const b = opts.b ?? a;
  const wA = Number.isNaN(a.within_variance) ? 0 : a.within_variance;
  const wB = Number.isNaN(b.within_variance) ? 0 : b.within_variance;
  const omega2 = opts.omega2 ?? Math.max(0, a.between_variance + b.between_variance - 2 * r * Math.sqrt(a.between_variance * b.between_variance));
  const oneEpoch = [a, b].some((v) => Number.isNaN(v.within_variance));
  return {
    omega2, withinA: wA, withinB: wB, between: a.between_variance, within: wA,
    source: `pilot ${opts.label ?? ''} (n=${a.samples}, k=${a.epochs_mean.toFixed(1)}): σ²_b=${a.between_variance.toFixed(4)}, σ²_w=${oneEpoch ? 'unknown' : wA.toFixed(4)}` +
      (opts.omega2 != null ? `, ω²=${omega2.toFixed(4)} measured on the paired pilot` : `, ω² assumed from correlation ${r}`),
    ...(oneEpoch ? { warning: 'the pilot has one epoch per sample, so seed noise cannot be told apart from question variance: all of it is counted as question variance. The k = 1 row is right; rows with k > 1 assume epochs do not help, which is a guess, not a measurement (run the pilot with several epochs to measure it).' } : {}),
  };
}

/**
 * ω² from a paired pilot: per-sample differences d_i of per-sample means have Var(d_i) = ω² + σ²_wA/k_A + σ²_wB/k_B,
 * so ω̂² = max(0, s²_d − σ̂²_wA/k̄_A − σ̂²_wB/k̄_B) (method of moments, as the ANOVA estimator of σ²_b).
 */
export function omega2FromPilot(d: number[], withinA: number, kA: number, withinB: number, kB: number): number {
  const n = d.length;
  if (n < 2) return NaN;
  const m = d.reduce((s, v) => s + v, 0) / n;
  const s2 = d.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1);
  return Math.max(0, s2 - (withinA || 0) / kA - (withinB || 0) / kB);
}

const zz = (alpha: number, power: number) => normalQuantile(1 - alpha / 2) + normalQuantile(power);

/** (t_{1−α/2, df} + t_{power, df}): the multiplier of the SE in the MDE and sample-size formulas under Student's t. */
const tt = (alpha: number, power: number, df: number) => studentTQuantile(1 - alpha / 2, df) + studentTQuantile(power, df);

/** Two-sided power of a level-α t test with `df` degrees of freedom when the true effect is λ standard errors. */
export function tTestPower(lambda: number, df: number, alpha = 0.05): number {
  const q = studentTQuantile(1 - alpha / 2, df);
  const l = Math.abs(lambda);
  return 1 - studentTCdf(q - l, df) + studentTCdf(-q - l, df);
}

/** Var(d̄)·n for k epochs per sample (both models), in squared score units. */
export function unitVariance(c: DesignComponents, k: number): number {
  return c.omega2 + (c.withinA + c.withinB) / k;
}

/**
 * Samples needed to detect |δ| at power 1 − β with k epochs: the smallest n ≥ 2 whose t-test power (`powerOfDesign`)
 * reaches 1 − β, searched up from the normal-approximation n (module docstring). Errors: RangeError for δ ≤ 0.
 */
export function samplesForDifference(c: DesignComponents, delta: number, k: number, alpha = 0.05, power = 0.8): number {
  if (!(delta > 0)) throw new RangeError(`δ must be > 0, got ${delta}`);
  const v = unitVariance(c, k);
  let n = Math.max(2, Math.ceil((zz(alpha, power) ** 2 * v) / delta ** 2));
  if (v === 0) return n;
  while (powerOfDesign(c, delta, n, k, alpha) < power && n < 1e9) n = n < 1000 ? n + 1 : Math.ceil(n * 1.001);
  return n;
}

/**
 * Epochs needed with n samples fixed: k = (σ²_wA + σ²_wB) / (n·δ²/(t_{1−α/2}+t_{1−β})² − ω²) (t with n − 1 degrees of
 * freedom), rounded up; null when the question-sampling floor ω²/n alone is too large (no number of epochs reaches
 * the power with n samples).
 */
export function epochsForDifference(c: DesignComponents, delta: number, n: number, alpha = 0.05, power = 0.8): number | null {
  const budget = (n * delta * delta) / tt(alpha, power, Math.max(1, n - 1)) ** 2 - c.omega2;
  if (budget <= 0) return null;
  return Math.max(1, Math.ceil((c.withinA + c.withinB) / budget));
}

/** MDE of a paired comparison with n samples and k epochs: (t_{1−α/2}+t_{1−β})·√(Var(d̄)), t with n − 1 degrees of freedom. */
export function mdeOfDesign(c: DesignComponents, n: number, k: number, alpha = 0.05, power = 0.8): number {
  return tt(alpha, power, Math.max(1, n - 1)) * Math.sqrt(unitVariance(c, k) / n);
}

/**
 * Power of the paired test to detect δ with n samples and k epochs: two-sided t test with n − 1 degrees of freedom
 * at λ = |δ|/SE (`tTestPower`; module docstring). Checked against the simulated tests in bench/coverage.ts.
 */
export function powerOfDesign(c: DesignComponents, delta: number, n: number, k: number, alpha = 0.05): number {
  const se = Math.sqrt(unitVariance(c, k) / n);
  if (se === 0) return delta === 0 ? alpha : 1;
  return tTestPower(Math.abs(delta) / se, Math.max(1, n - 1), alpha);
}

/** CI half-width of a single run's avg@k with n samples and k epochs: z_{1−α/2}·√((σ²_b + σ²_w/k)/n). */
export function halfWidthOfDesign(c: DesignComponents, n: number, k: number, alpha = 0.05): number {
  return normalQuantile(1 - alpha / 2) * Math.sqrt((c.between + c.within / k) / n);
}

/** Samples needed for a CI half-width h with k epochs. Errors: RangeError for h ≤ 0. */
export function samplesForHalfWidth(c: DesignComponents, h: number, k: number, alpha = 0.05): number {
  if (!(h > 0)) throw new RangeError(`half-width must be > 0, got ${h}`);
  return Math.max(2, Math.ceil((normalQuantile(1 - alpha / 2) ** 2 * (c.between + c.within / k)) / (h * h)));
}

/** One row of a plan table. */
export interface PlanRow {
  epochs: number;
  /** Samples needed for the target (δ at power, or half-width). */
  samples: number;
  attempts: number;
  /** With `samples` as given (a fixed benchmark), the MDE and half-width this k gives. */
  mde_at_n: number | null;
  half_width_at_n: number | null;
}

/**
 * A plan table over k ∈ `ks` for the target (`delta` or `halfWidth`), plus, when `n` is given (a fixed benchmark),
 * the epochs needed and what each k gives at that n. Errors: RangeError when neither or both targets are given, for
 * a component that is not a finite number ≥ 0 (e.g. ω² from a paired pilot without shared samples), or for α, power,
 * n or k out of range.
 */
export function planTable(c: DesignComponents, o: { delta?: number; halfWidth?: number; n?: number; ks?: number[]; alpha?: number; power?: number }): { rows: PlanRow[]; epochs_at_n: number | null; floor_mde_at_n: number | null } {
  if (o.delta == null && o.halfWidth == null) throw new RangeError('give a difference δ to detect or a CI half-width');
  if (o.delta != null && o.halfWidth != null) throw new RangeError('give either a difference δ to detect or a CI half-width, not both (they are different plans)');
  for (const [name, v] of [['ω²', c.omega2], ['σ²_w of A', c.withinA], ['σ²_w of B', c.withinB], ['σ²_b', c.between], ['σ²_w', c.within]] as const) {
    if (!(v >= 0 && Number.isFinite(v))) throw new RangeError(`variance component ${name} is ${v}: the pilot cannot give a plan (too few shared or graded samples?)`);
  }
  const alpha = o.alpha ?? 0.05, power = o.power ?? 0.8;
  if (!(alpha > 0 && alpha < 1) || !(power > 0 && power < 1)) throw new RangeError(`alpha and power must be in (0, 1), got ${alpha} and ${power}`);
  if (o.n != null && !(Number.isInteger(o.n) && o.n >= 2)) throw new RangeError(`a fixed benchmark size must be an integer ≥ 2, got ${o.n}`);
  if (o.ks && o.ks.some((k) => !(Number.isInteger(k) && k >= 1))) throw new RangeError('epoch counts must be positive integers');
  const ks = o.ks ?? [1, 2, 4, 8, 16, 32];
  const rows = ks.map((k) => {
    const samples = o.delta != null ? samplesForDifference(c, o.delta, k, alpha, power) : samplesForHalfWidth(c, o.halfWidth!, k, alpha);
    return {
      epochs: k, samples, attempts: samples * k,
      mde_at_n: o.n ? mdeOfDesign(c, o.n, k, alpha, power) : null,
      half_width_at_n: o.n ? halfWidthOfDesign(c, o.n, k, alpha) : null,
    };
  });
  let epochsAtN: number | null = null;
  if (o.n && o.delta != null) epochsAtN = epochsForDifference(c, o.delta, o.n, alpha, power);
  else if (o.n && o.halfWidth != null) {
    const z2 = normalQuantile(1 - alpha / 2) ** 2;
    const budget = (o.n * o.halfWidth ** 2) / z2 - c.between;
    epochsAtN = budget <= 0 ? null : Math.max(1, Math.ceil(c.within / budget));
  }
  const floor = o.n ? tt(alpha, power, o.n - 1) * Math.sqrt(c.omega2 / o.n) : null;
  return { rows, epochs_at_n: epochsAtN, floor_mde_at_n: floor };
}
