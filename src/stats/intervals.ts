/**
 * Intervals for a mean of per-question scores that hold on small benchmarks (30 questions) and at accuracies near
 * 0 or 1, chosen by simulation (bench/coverage.ts; the tables are in README "Statistics").
 *
 * **Estimand.** Every interval here targets the *population of questions* the benchmark was drawn from: μ, the mean
 * over questions of each question's probability of being answered right (avg@k estimates μ for any k). Both
 * question sampling and seed noise are inside. (The cluster bootstrap and the Wald interval target the same μ.)
 *
 * **The clustered score interval** (binary scores, the headline avg@k interval). Question i has k_i graded epochs
 * with c_i right; p̂ = (1/n) Σ c_i/k_i. With intra-class correlation ρ of epochs within a question,
 *
 *     n·Var(p̂) = μ(1−μ)·(ρ + (1−ρ)·h),   h = (1/n) Σ 1/k_i          (Miller 2024, "Adding Error Bars to Evals",
 *                                                                      arXiv:2411.00640, eq. 6: the clustered variance)
 *
 * and the interval is the set of μ that a score test (variance evaluated *at μ*, as Wilson 1927, "Probable
 * inference, the law of succession, and statistical inference", JASA 22:209) does not reject:
 *
 *     { μ : n(p̂ − μ)² ≤ z²·μ(1−μ)·(ρ(μ) + (1−ρ(μ))·h) },
 *
 * with ρ(μ) the larger of (a) the moment estimate from the clustered variance, ρ̂ = (v/(p̂(1−p̂)) − h)/(1 − h),
 * v = (1/n) Σ (c_i/k_i − p̂)², clipped to [0, 1] (the design effect of Kish 1965 / the effective sample size of
 * Korn & Graubard 1998, "Confidence intervals for proportions with small expected number of positive counts
 * estimated from survey data", Survey Methodology 24:193), and (b) the beta-binomial maximum-likelihood ρ with the
 * mean held at μ (the nuisance parameter estimated under the null, as in Rao's score test; beta-binomial
 * overdispersion: Williams 1975, Biometrics 31:949, with p_i ~ Beta(μ(1−ρ)/ρ, (1−μ)(1−ρ)/ρ)).
 * Why both: (a) alone (Wilson on the effective number of questions) undercovers badly when a few questions carry
 * the score, because a sample that missed the rare solvable questions also looks homogeneous (78–86% at n = 30,
 * μ = 0.03, k = 16–64 in our simulation): (b) sees that, since a candidate μ far above p̂ is only plausible with
 * all-or-nothing questions. (b) alone (or a beta-binomial posterior) is biased when question difficulty is not a
 * Beta distribution (0% coverage at n = 10,000 for a two-point difficulty mixture in our simulation), while the
 * interval is still centred on avg@k itself and (a) keeps the variance honest there. With k = 1 the interval is
 * exactly Wilson's on n questions; with no question right (or all right) it is Wilson's bound on n questions,
 * whatever k: a population of questions can hold unsolved-but-solvable questions the sample missed. It is never
 * of zero width from finite data. Recommended over CLT intervals for small n by Bowyer, Aitchison & Ivanova 2025,
 * "Position: Don't use the CLT in LLM evals with fewer than a few hundred datapoints" (ICML).
 *
 * **The effective-n Wilson interval** (any per-question values in [0, 1]: pass@k for k below the epochs): Wilson's
 * interval on n_eff = n·m(1−m)/v questions, n_eff clipped to [n, N] (N the total attempts): values in [0, 1]
 * never vary more than Bernoulli ones (Var ≤ m(1−m)), so n_eff ≥ n.
 */
import { normalQuantile } from './distributions.ts';

/** A two-sided interval with its method and estimand, as every printed interval carries them. */
export interface LabelledInterval {
  lo: number;
  hi: number;
  /** Nominal two-sided level, e.g. 0.95. */
  level: number;
  method: string;
  estimand: string;
}

/** The estimand of the intervals in this module and of the cluster bootstrap / Wald intervals of a run. */
export const POPULATION_ESTIMAND = 'population of questions (mean over the questions the benchmark was drawn from; question sampling and seed noise)';

/** The estimand of intervals conditional on the questions asked (seed noise only). */
export const QUESTION_SET_ESTIMAND = 'this question set (mean over these questions of each one’s chance of being right; seed noise only)';

/**
 * Wilson score interval for a proportion (Wilson 1927, JASA 22:209): the μ with (p̂ − μ)² ≤ z²·μ(1−μ)/n, in closed
 * form. `n` may be fractional (an effective sample size). Errors: RangeError unless n > 0 and 0 ≤ p̂ ≤ 1.
 */
export function wilsonInterval(pHat: number, n: number, level = 0.95): { lo: number; hi: number } {
  if (!(n > 0) || !(pHat >= 0 && pHat <= 1)) throw new RangeError(`Wilson interval needs n > 0 and 0 ≤ p̂ ≤ 1 (n=${n}, p̂=${pHat})`);
  const z = normalQuantile(1 - (1 - level) / 2);
  const z2 = z * z;
  const d = 1 + z2 / n;
  const centre = (pHat + z2 / (2 * n)) / d;
  const half = (z / d) * Math.sqrt((pHat * (1 - pHat)) / n + z2 / (4 * n * n));
  return { lo: pHat <= 0 ? 0 : Math.max(0, centre - half), hi: pHat >= 1 ? 1 : Math.min(1, centre + half) };
}

/** Per-question (epochs k_i, right c_i) counts, grouped: `w[g]` questions have `k[g]` epochs and `c[g]` right. */
export interface CountTable {
  k: Int32Array;
  c: Int32Array;
  w: Float64Array;
  /** Number of questions. */
  n: number;
  kmax: number;
}

/** Group binary clusters into a count table; null when a value is not 0 or 1 or a cluster is empty. */
export function countTable(clusters: ArrayLike<number>[]): CountTable | null {
  const k = new Float64Array(clusters.length), c = new Float64Array(clusters.length);
  for (let i = 0; i < clusters.length; i++) {
    const cl = clusters[i]!;
    k[i] = cl.length;
    if (cl.length === 0) return null;
    let ones = 0;
    for (let j = 0; j < cl.length; j++) {
      const v = cl[j]!;
      if (v === 1) ones++;
      else if (v !== 0) return null;
    }
    c[i] = ones;
  }
  return countTableOfTotals(k, c);
}

/**
 * The count table of clusters given by their totals: cluster i has `k[i]` ≥ 1 verdicts of which `c[i]` are 1 (whole
 * numbers, 0 ≤ c ≤ k), so a cluster of a million identical verdicts costs two numbers, not a million. Errors:
 * RangeError when a total is not a whole number in range.
 */
export function countTableOfTotals(k: ArrayLike<number>, c: ArrayLike<number>): CountTable {
  // how many clusters have each (k, c), k then c ascending
  const byK = new Map<number, Map<number, number>>();
  let kmax = 0;
  for (let i = 0; i < k.length; i++) {
    const ki = k[i]!, ci = c[i]!;
    if (!(Number.isInteger(ki) && ki >= 1 && ki < 2 ** 31 && Number.isInteger(ci) && ci >= 0 && ci <= ki)) throw new RangeError(`cluster ${i}: ${ci} of ${ki} is not a count of verdicts`);
    kmax = Math.max(kmax, ki);
    let m = byK.get(ki);
    if (!m) byK.set(ki, (m = new Map()));
    m.set(ci, (m.get(ci) ?? 0) + 1);
  }
  const ks: number[] = [], cs: number[] = [], ws: number[] = [];
  for (const ki of [...byK.keys()].sort((a, b) => a - b)) {
    const m = byK.get(ki)!;
    for (const ci of [...m.keys()].sort((a, b) => a - b)) {
      ks.push(ki);
      cs.push(ci);
      ws.push(m.get(ci)!);
    }
  }
  return { k: Int32Array.from(ks), c: Int32Array.from(cs), w: Float64Array.from(ws), n: k.length, kmax };
}

export function countTableOf(c: ArrayLike<number>, k: number): CountTable {
  const w = new Float64Array(k + 1);
  for (let i = 0; i < c.length; i++) w[c[i]!]!++;
  const cs: number[] = [];
  for (let x = 0; x <= k; x++) if (w[x]) cs.push(x);
  return { k: Int32Array.from(cs, () => k), c: Int32Array.from(cs), w: Float64Array.from(cs, (x) => w[x]!), n: c.length, kmax: k };
}

/** log Π_{j<m} (x + j) for every m in the ascending list `need` (written to `out[i]`), by one running product. */
function logPochhammers(x: number, need: Int32Array, out: Float64Array): void {
  let acc = 0, prod = 1, j = 0;
  for (let i = 0; i < need.length; i++) {
    const m = need[i]!;
    for (; j < m; j++) {
      prod *= x + j;
      if (prod > 1e250 || prod < 1e-250) {
        acc += Math.log(prod);
        prod = 1;
      }
    }
    out[i] = acc + Math.log(prod);
  }
}

/** Beta-binomial log-likelihood machinery over a count table (kept between calls: no allocation per evaluation). */
class BetaBinomial {
  private readonly needA: Int32Array;
  private readonly needB: Int32Array;
  private readonly needK: Int32Array;
  private readonly ia: Int32Array;
  private readonly ib: Int32Array;
  private readonly ik: Int32Array;
  private readonly la: Float64Array;
  private readonly lb: Float64Array;
  private readonly lk: Float64Array;
  constructor(private readonly t: CountTable) {
    const uniq = (xs: Int32Array) => Int32Array.from([...new Set(xs)].sort((a, b) => a - b));
    const fail = Int32Array.from(t.k, (k, g) => k - t.c[g]!);
    this.needA = uniq(t.c);
    this.needB = uniq(fail);
    this.needK = uniq(t.k);
    const idx = (need: Int32Array, xs: Int32Array) => Int32Array.from(xs, (x) => need.indexOf(x));
    this.ia = idx(this.needA, t.c);
    this.ib = idx(this.needB, fail);
    this.ik = idx(this.needK, t.k);
    this.la = new Float64Array(this.needA.length);
    this.lb = new Float64Array(this.needB.length);
    this.lk = new Float64Array(this.needK.length);
  }
  /** Σ_g w_g log BB(c_g | k_g, a = μκ, b = (1−μ)κ) up to the binomial coefficients, κ = (1−ρ)/ρ. */
  logLik(mu: number, rho: number): number {
    const kappa = (1 - rho) / rho;
    const a = mu * kappa, b = (1 - mu) * kappa;
    logPochhammers(a, this.needA, this.la);
    logPochhammers(b, this.needB, this.lb);
    logPochhammers(kappa, this.needK, this.lk);
    let l = 0;
    const w = this.t.w;
    for (let g = 0; g < w.length; g++) l += w[g]! * (this.la[this.ia[g]!]! + this.lb[this.ib[g]!]! - this.lk[this.ik[g]!]!);
    return l;
  }
  /** argmax over ρ of the log-likelihood with the mean held at μ: grid on logit ρ ∈ [−10, 10], then golden section. */
  restrictedRho(mu: number): number {
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    let best = -Infinity, bx = 0;
    for (let x = -10; x <= 10; x += 2) {
      const l = this.logLik(mu, sig(x));
      if (l > best) {
        best = l;
        bx = x;
      }
    }
    let lo = Math.max(-11, bx - 2), hi = Math.min(11, bx + 2);
    const g = (Math.sqrt(5) - 1) / 2;
    let x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
    let f1 = this.logLik(mu, sig(x1)), f2 = this.logLik(mu, sig(x2));
    for (let it = 0; it < 14; it++) {
      if (f1 >= f2) {
        hi = x2;
        x2 = x1;
        f2 = f1;
        x1 = hi - g * (hi - lo);
        f1 = this.logLik(mu, sig(x1));
      } else {
        lo = x1;
        x1 = x2;
        f1 = f2;
        x2 = lo + g * (hi - lo);
        f2 = this.logLik(mu, sig(x2));
      }
    }
    const xm = f1 >= f2 ? x1 : x2;
    return Math.max(f1, f2) >= best ? sig(xm) : sig(bx);
  }
}

/** What {@link clusteredScoreInterval} returns. */
export interface ClusteredScoreResult {
  lo: number;
  hi: number;
  /** avg@k (mean of per-question means). */
  estimate: number;
  /** Moment estimate of the intra-class correlation ρ (null with one epoch per question: not identifiable, not needed). */
  icc_moment: number | null;
  /** Effective number of independent attempts at the moment estimate: n / (ρ̂ + (1−ρ̂)·h). */
  effective_n: number;
}

/**
 * The clustered score interval of the module comment for avg@k of binary scores, at level `level` (default 0.95).
 * `t` from {@link countTable}. Deterministic (no random numbers). Cost: a few thousand beta-binomial likelihood
 * evaluations, each O(max epochs + distinct counts): about a millisecond at k = 64.
 * Errors: RangeError for an empty table or a level outside (0, 1).
 */
export function clusteredScoreInterval(t: CountTable, opts: { level?: number } = {}): ClusteredScoreResult {
  const level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
  if (t.n === 0) throw new RangeError('no questions');
  let s = 0, h = 0;
  for (let g = 0; g < t.w.length; g++) {
    s += (t.w[g]! * t.c[g]!) / t.k[g]!;
    h += t.w[g]! / t.k[g]!;
  }
  const n = t.n;
  const p = s / n;
  h /= n;
  let v = 0;
  for (let g = 0; g < t.w.length; g++) v += t.w[g]! * (t.c[g]! / t.k[g]! - p) ** 2;
  v /= n;
  const z = normalQuantile(1 - (1 - level) / 2);
  const z2 = z * z;
  const oneEpoch = t.kmax === 1 || h >= 1 - 1e-12;
  // (a) moment ρ; with p̂ at 0 or 1 nothing distinguishes the questions: ρ = 1 (the conservative end).
  const rhoMom = oneEpoch ? 1 : p > 0 && p < 1 ? Math.min(1, Math.max(0, (v / (p * (1 - p)) - h) / (1 - h))) : 1;
  const fMom = oneEpoch ? 1 : rhoMom + (1 - rhoMom) * h;
  const effN = n / fMom;
  const start = wilsonInterval(p, effN, level);
  if (oneEpoch || rhoMom >= 1) return { lo: start.lo, hi: start.hi, estimate: p, icc_moment: oneEpoch ? null : rhoMom, effective_n: effN };
  const bb = new BetaBinomial(t);
  const accepted = (mu: number): boolean => {
    const rho = Math.max(rhoMom, bb.restrictedRho(mu));
    return n * (p - mu) ** 2 <= z2 * mu * (1 - mu) * (rho + (1 - rho) * h);
  };
  const logit = (x: number) => Math.log(x / (1 - x));
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  // Walk outward (in logit μ) from the moment interval's end, which is accepted, to the first rejected μ; bisect.
  const side = (from: number, dir: 1 | -1): number => {
    const edge = dir > 0 ? 1 : 0;
    if (from <= 0 || from >= 1) return from;
    let acc = logit(from), step = 0.05;
    for (let it = 0; it < 60; it++) {
      const x = acc + dir * step;
      if (Math.abs(x) > 27) return edge;
      if (!accepted(sig(x))) {
        let a = acc, b = x;
        for (let j = 0; j < 20; j++) {
          const m = (a + b) / 2;
          if (accepted(sig(m))) a = m;
          else b = m;
        }
        return sig(a);
      }
      acc = x;
      step *= 2;
    }
    return edge;
  };
  return { lo: p <= 0 ? 0 : side(start.lo, -1), hi: p >= 1 ? 1 : side(start.hi, 1), estimate: p, icc_moment: rhoMom, effective_n: effN };
}

/**
 * Wilson interval on an effective number of questions for per-question values in [0, 1] (module comment):
 * n_eff = n·m(1−m)/v clipped to [n, maxN] (v the variance of the values with denominator n; n_eff = n when they
 * do not vary or m is 0 or 1). Errors: RangeError for no values or a value outside [0, 1].
 */
export function effectiveWilsonInterval(values: ArrayLike<number>, maxN: number, level = 0.95): { lo: number; hi: number; effective_n: number } {
  const n = values.length;
  if (n === 0) throw new RangeError('no values');
  let s = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    if (!(x >= 0 && x <= 1)) throw new RangeError(`values must be in [0, 1], got ${x}`);
    s += x;
  }
  const m = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i]! - m) ** 2;
  v /= n;
  const effN = m > 0 && m < 1 && v > 1e-15 ? Math.min(Math.max(n, maxN), Math.max(n, (n * m * (1 - m)) / v)) : n;
  return { ...wilsonInterval(Math.min(1, Math.max(0, m)), effN, level), effective_n: effN };
}
