/**
 * Paired comparison of two runs on the samples they share ("is A better than B?", DESIGN.md §5).
 *
 * The unit of pairing is the sample: d_i = ā_i − b̄_i, the difference of the two runs' per-sample means over their
 * graded epochs. Reported together, each labelled by its name in the field:
 * - mean difference with its headline 95% interval, the paired t interval on d_i (`differenceInterval`, chosen by
 *   simulation, bench/coverage.ts), and beside it a paired cluster bootstrap CI: samples resampled jointly, each keeping its epochs
 *   (stage-1 resampling only, Davison & Hinkley 1997 §3.8 "strategy 1": d_i already carries the seed noise, and
 *   resampling epochs too would count it twice; in simulation that over-covered at 98.7% instead of 95%);
 * - sign-flip permutation test on d_i, two-sided mid-p (exact on the integer lattice of binary scores, exact
 *   enumeration for ≤ 20 non-zero differences, else Monte Carlo); the conventional (conservative) p beside it;
 * - McNemar for binary scores (exact and mid-p on one epoch-matched pair per sample; Durkalski's clustered
 *   McNemar over all epoch-matched pairs);
 * - paired t test and Wilcoxon signed-rank test on d_i;
 * - the minimum detectable effect (MDE) at the design's size, and a plain verdict.
 */
import { jointClusteredBootstrap, packClusters, replicateVariance } from './bootstrap.ts';
import { quantileSorted } from './accuracy.ts';
import { binomialPmf, chiSquareCdf, normalCdf, normalQuantile, studentTQuantile, studentTTwoSided } from './distributions.ts';
import { createRng } from '../core/rng.ts';

const EPS = 1e-12;

function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return x.length ? s / x.length : NaN;
}

/** What {@link signFlipTest} returns. */
export interface SignFlipResult {
  /** Two-sided mid-p: P(|T*| > |T|) + ½·P(|T*| = |T|) under the sign flips (the p-value used for verdicts and Holm/BH). */
  p: number;
  /** The conventional permutation p = P(|T*| ≥ |T|): never above α under H0, conservative when |T*| has ties. */
  p_conventional: number;
  /** 'exact': all 2^m sign assignments (enumerated, or counted on the integer lattice of the differences). */
  method: 'exact' | 'monte carlo';
  /** Sign assignments used (2^m when exact; may be reported as Infinity beyond 2^1023). */
  permutations: number;
  /** Non-zero differences m. */
  nonzero: number;
}

/**
 * Sign-flip (paired permutation) test of H0: the per-sample differences d_i are symmetric about 0
 * (Fisher 1935, "The Design of Experiments", §21; Good 2005, "Permutation, Parametric and Bootstrap Tests of
 * Hypotheses", §3.1). Statistic |Σ d_i|; two-sided; zeros carry no sign and are dropped.
 *
 * The reported `p` is the **mid-p** value (Lancaster 1961, "Significance tests in discrete distributions", JASA
 * 56:223; Agresti & Gottard 2007, "Nonconservative exact small-sample inference for discrete data", CSDA 51:6447):
 * with binary scores the differences sit on a lattice, many sign assignments tie with the observed |T|, and the
 * conventional p (which counts every tie as "at least as extreme") rejects at 5% only 2–4% of the time under H0
 * (bench/coverage.ts), costing power. The mid-p counts ties half; its size is not guaranteed ≤ α but in our simulation
 * (bench/coverage.ts) it stays within 4–6% wherever the data allow; the conventional p is kept in `p_conventional`.
 * A randomized test would be exact but would let a coin decide the verdict on the same data; we do not print one.
 *
 * Computation: when `lattice` L is given and every |d_i|·L is an integer (binary scores: L = a common multiple of
 * the epoch counts), the exact distribution of Σ ±|d_i| is counted by dynamic programming over the integer sums
 * (O(m·Σ|d_i|·L)); otherwise all 2^m assignments are enumerated when m ≤ `exactMax` (default 20); otherwise B random
 * assignments with p = (#{>} + ½(#{=} + 1))/(B + 1) (the observed assignment counted as one tie; Phipson & Smyth
 * 2010, "Permutation p-values should never be zero"). Returns p = 1 when every d_i is 0.
 */
export function signFlipTest(d: number[], opts: { seed: number; permutations?: number; exactMax?: number; lattice?: number }): SignFlipResult {
  const nz = d.filter((v) => Math.abs(v) > EPS);
  const m = nz.length;
  if (m === 0) return { p: 1, p_conventional: 1, method: 'exact', permutations: 1, nonzero: 0 };
  const obs = Math.abs(nz.reduce((s, v) => s + v, 0));
  const tol = 1e-9 * Math.max(1, obs);
  const L = opts.lattice;
  if (L != null && L > 0) {
    const u = nz.map((v) => Math.abs(v) * L);
    const ui = u.map(Math.round);
    const total = ui.reduce((s, v) => s + v, 0);
    if (u.every((v, i) => Math.abs(v - ui[i]!) < 1e-6) && m * total <= 5e7) {
      // P(Σ_{flipped-positive} u_i = s), s = 0..total; the signed sum is 2s − total.
      let dist = new Float64Array(total + 1);
      dist[0] = 1;
      let reach = 0;
      for (const w of ui) {
        const next = new Float64Array(total + 1);
        for (let s = 0; s <= reach; s++) {
          const q = dist[s]!;
          if (q === 0) continue;
          next[s] += 0.5 * q;
          next[s + w] += 0.5 * q;
        }
        reach += w;
        dist = next;
      }
      const t = Math.round(obs * L);
      let gt = 0, eq = 0;
      for (let s = 0; s <= total; s++) {
        const a = Math.abs(2 * s - total);
        if (a > t) gt += dist[s]!;
        else if (a === t) eq += dist[s]!;
      }
      return { p: Math.min(1, gt + 0.5 * eq), p_conventional: Math.min(1, gt + eq), method: 'exact', permutations: 2 ** m, nonzero: m };
    }
  }
  if (m <= (opts.exactMax ?? 20)) {
    // Gray-code enumeration: flip one sign per step.
    const signs = new Int8Array(m).fill(1);
    let sum = nz.reduce((s, v) => s + v, 0);
    let gt = 0, eq = 1; // the identity assignment reproduces the observed |T|
    const total = 2 ** m;
    for (let g = 1; g < total; g++) {
      let bit = 0;
      while (((g >> bit) & 1) === 0) bit++;
      signs[bit] = -signs[bit]! as 1 | -1;
      sum += 2 * signs[bit]! * nz[bit]!;
      const a = Math.abs(sum);
      if (a > obs + tol) gt++;
      else if (a >= obs - tol) eq++;
    }
    return { p: Math.min(1, (gt + 0.5 * eq) / total), p_conventional: Math.min(1, (gt + eq) / total), method: 'exact', permutations: total, nonzero: m };
  }
  const B = opts.permutations ?? 10000;
  const rng = createRng(opts.seed);
  let gt = 0, eq = 0;
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < m; i += 32) {
      const bits = rng.uint32();
      const end = Math.min(m, i + 32);
      for (let j = i; j < end; j++) s += (bits >>> (j - i)) & 1 ? nz[j]! : -nz[j]!;
    }
    const a = Math.abs(s);
    if (a > obs + tol) gt++;
    else if (a >= obs - tol) eq++;
  }
  return { p: Math.min(1, (gt + 0.5 * (eq + 1)) / (B + 1)), p_conventional: (1 + gt + eq) / (B + 1), method: 'monte carlo', permutations: B, nonzero: m };
}

/**
 * McNemar's test for paired binary outcomes (McNemar 1947, Psychometrika 12:153) from the discordant counts
 * b (A right, B wrong) and c (A wrong, B right). Exact conditional p = min(1, 2·P(X ≤ min(b, c))), X ~ Bin(b + c, ½);
 * mid-p = 2·[P(X ≤ min(b, c)) − ½·P(X = min(b, c))] (Fagerland, Lydersen & Laake 2013, "The McNemar test for
 * binary matched-pairs data: mid-p and asymptotic are better than exact conditional", BMC Med. Res. Methodol. 13:91).
 */
export function mcnemar(b: number, c: number): { b: number; c: number; p_exact: number; p_mid: number } {
  const n = b + c;
  if (n === 0) return { b, c, p_exact: 1, p_mid: 1 };
  const lo = Math.min(b, c);
  let cdf = 0;
  for (let x = 0; x <= lo; x++) cdf += binomialPmf(x, n, 0.5);
  const pEq = binomialPmf(lo, n, 0.5);
  return { b, c, p_exact: Math.min(1, 2 * cdf), p_mid: Math.min(1, 2 * (cdf - 0.5 * pEq)) };
}

/**
 * Clustered McNemar test (Durkalski, Palesch, Lipsitz & Rust 2003, "Analysis of clustered matched-pair data",
 * Stat. Med. 22:2417–2428, eq. 2): with per-cluster discordant counts b_i, c_i,
 * X² = (Σ (b_i − c_i))² / Σ (b_i − c_i)², referred to χ²₁. It reduces to McNemar's (b − c)²/(b + c) with one pair per cluster.
 */
export function clusteredMcNemar(discordant: { b: number; c: number }[]): { statistic: number; p: number; pairs: number } {
  let num = 0, den = 0, pairs = 0;
  for (const { b, c } of discordant) {
    num += b - c;
    den += (b - c) ** 2;
    pairs += b + c;
  }
  if (den === 0) return { statistic: 0, p: 1, pairs };
  const x2 = (num * num) / den;
  return { statistic: x2, p: 1 - chiSquareCdf(x2, 1), pairs };
}

/**
 * Paired t test on per-sample differences (Student 1908): t = d̄ / (s_d/√n), df = n − 1, two-sided, with the
 * t-based 95% CI d̄ ± t_{0.975, n−1}·s_d/√n. NaN results for n < 2; p = 1 when every d_i is equal to 0.
 */
export function pairedT(d: number[]): { mean: number; se: number; t: number; df: number; p: number; ci95: { lo: number; hi: number } } {
  const n = d.length;
  const m = mean(d);
  if (n < 2) return { mean: m, se: NaN, t: NaN, df: n - 1, p: NaN, ci95: { lo: NaN, hi: NaN } };
  let ss = 0;
  for (const v of d) ss += (v - m) ** 2;
  const se = Math.sqrt(ss / (n - 1) / n);
  if (se === 0) return { mean: m, se, t: m === 0 ? 0 : Math.sign(m) * Infinity, df: n - 1, p: m === 0 ? 1 : 0, ci95: { lo: m, hi: m } };
  const t = m / se;
  const q = studentTQuantile(0.975, n - 1);
  return { mean: m, se, t, df: n - 1, p: studentTTwoSided(t, n - 1), ci95: { lo: m - q * se, hi: m + q * se } };
}

/**
 * Wilcoxon signed-rank test (Wilcoxon 1945, "Individual comparisons by ranking methods", Biometrics Bull. 1:80) on
 * per-sample differences; zeros are dropped (Wilcoxon's treatment) and tied |d| get average ranks
 * (Hollander, Wolfe & Chicken 2014, "Nonparametric Statistical Methods", 3rd ed., §3.1). W⁺ = sum of ranks of
 * positive differences. Exact two-sided p from the permutation distribution of W⁺ given the (tied) ranks when
 * m ≤ 200 non-zero differences (dynamic programming over doubled ranks); otherwise the normal approximation with
 * tie correction Var = m(m+1)(2m+1)/24 − Σ(t³ − t)/48. `p` is the two-sided **mid-p** (ties of W⁺ with the observed
 * value counted half, as for the sign-flip test: with binary scores most |d_i| tie and the conventional exact p
 * is conservative; bench/coverage.ts); for m > 200 the normal approximation without continuity correction, which
 * approximates the mid-p. `p_conventional`: the exact P(W⁺ as or more extreme), or the normal approximation with
 * continuity correction ½.
 */
export function wilcoxonSignedRank(d: number[]): { w_plus: number; m: number; p: number; p_conventional: number; method: 'exact' | 'normal'; z: number | null } {
  const nz = d.filter((v) => Math.abs(v) > EPS);
  const m = nz.length;
  if (m === 0) return { w_plus: 0, m: 0, p: 1, p_conventional: 1, method: 'exact', z: null };
  const order = nz.map((v, i) => [Math.abs(v), i] as const).sort((a, b) => a[0] - b[0]);
  const rank2 = new Int32Array(m); // doubled ranks (integers)
  let tieTerm = 0;
  for (let i = 0; i < m; ) {
    let j = i;
    while (j + 1 < m && Math.abs(order[j + 1]![0] - order[i]![0]) <= EPS) j++;
    const r2 = i + 1 + (j + 1); // 2 × average of ranks i+1..j+1
    for (let t = i; t <= j; t++) rank2[order[t]![1]] = r2;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    i = j + 1;
  }
  let w2 = 0;
  for (let i = 0; i < m; i++) if (nz[i]! > 0) w2 += rank2[i]!;
  const wPlus = w2 / 2;
  if (m <= 200) {
    const total2 = m * (m + 1);
    let dist = new Float64Array(total2 + 1);
    let next = new Float64Array(total2 + 1);
    dist[0] = 1;
    let reach = 0;
    for (let i = 0; i < m; i++) {
      const r = rank2[i]!;
      next.fill(0, 0, reach + r + 1);
      for (let s = 0; s <= reach; s++) {
        const p = dist[s]!;
        if (p === 0) continue;
        next[s] += 0.5 * p;
        next[s + r] += 0.5 * p;
      }
      reach += r;
      [dist, next] = [next, dist];
    }
    let lower = 0, upper = 0;
    for (let s = 0; s <= total2; s++) {
      if (s <= w2) lower += dist[s]!;
      if (s >= w2) upper += dist[s]!;
    }
    const eq = dist[w2]!;
    return { w_plus: wPlus, m, p: Math.min(1, 2 * Math.min(lower, upper) - eq), p_conventional: Math.min(1, 2 * Math.min(lower, upper)), method: 'exact', z: null };
  }
  const e = (m * (m + 1)) / 4;
  const v = (m * (m + 1) * (2 * m + 1)) / 24 - tieTerm / 48;
  const diff = wPlus - e;
  const z = v > 0 ? diff / Math.sqrt(v) : 0;
  const zc = v > 0 ? (diff - 0.5 * Math.sign(diff)) / Math.sqrt(v) : 0;
  return { w_plus: wPlus, m, p: Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))), p_conventional: Math.min(1, 2 * (1 - normalCdf(Math.abs(zc)))), method: 'normal', z };
}

/**
 * Minimum detectable effect of a two-sided level-α test with power 1 − β when the estimate has standard error se
 * (Bloom 1995, "Minimum detectable effects", Evaluation Review 19:547; Miller 2024, arXiv:2411.00640, "Power analysis"):
 * MDE = (z_{1−α/2} + z_{1−β})·se. Same units as se.
 */
export function minimumDetectableEffect(se: number, alpha = 0.05, power = 0.8): number {
  return (normalQuantile(1 - alpha / 2) + normalQuantile(power)) * se;
}

/**
 * Values of one sample in two runs paired by epoch number, in increasing epoch order: [A's value, B's value] for each
 * epoch graded in both. Without epoch labels, index j is epoch j.
 */
function epochPairs(x: number[], y: number[], ex?: number[], ey?: number[]): [number, number][] {
  const lx = ex ?? x.map((_, j) => j), ly = ey ?? y.map((_, j) => j);
  const byEpoch = new Map<number, number>();
  ly.forEach((e, j) => byEpoch.set(e, y[j]!));
  const out: [number, number, number][] = [];
  lx.forEach((e, j) => {
    const v = byEpoch.get(e);
    if (v !== undefined) out.push([e, x[j]!, v]);
  });
  return out.sort((p, q) => p[0] - q[0]).map(([, u, v]) => [u, v]);
}

/**
 * 95% interval of the population mean difference Δ = E[d_i] from per-sample differences d_i ∈ [−1, 1]: the paired t
 * interval d̄ ± t_{0.975, n−1}·s_d/√n (Student 1908), clipped to [−1, 1]. In simulation (exchangeable or shifted
 * A/B with shared question difficulty, n = 30–500, k = 1–4) it covered 94–97% where the percentile bootstrap
 * covered 92–95% (bench/coverage.ts). When the differences do not vary (every d_i equal, e.g. the runs agree on
 * every question), a zero-width interval would claim certainty: the interval is then d̄ ± 2·u, u = z²/(n + z²) the
 * Wilson upper bound on the share of questions that could differ although none of n did (2 = the range of one d_i
 * around d̄, so the bound is conservative). NaN for n < 2. With `numeric` (unbounded scores in a unit) the paired t
 * interval is returned unclipped.
 */
export function differenceInterval(d: number[], opts: { numeric?: boolean } = {}): { lo: number; hi: number; method: string; estimand: string } {
  const n = d.length;
  const estimand = 'population of questions (mean over questions of the per-question difference; question sampling and seed noise)';
  if (n < 2) return { lo: NaN, hi: NaN, method: 'paired t (needs ≥ 2 samples)', estimand };
  const t = pairedT(d);
  if (opts.numeric) {
    // Unbounded scores (bits per byte, log-likelihood): the paired t interval as it is, never clipped.
    if (t.se > 0) return { lo: t.ci95.lo, hi: t.ci95.hi, method: `paired t on per-sample differences (df ${n - 1})`, estimand };
    return { lo: t.mean, hi: t.mean, method: 'no per-sample difference varies: zero width, not certainty', estimand };
  }
  if (t.se > 0) return { lo: Math.max(-1, t.ci95.lo), hi: Math.min(1, t.ci95.hi), method: `paired t on per-sample differences (df ${n - 1})`, estimand };
  const z2 = 1.959963984540054 ** 2;
  const u = z2 / (n + z2);
  return { lo: Math.max(-1, t.mean - 2 * u), hi: Math.min(1, t.mean + 2 * u), method: 'no per-sample difference varies: d̄ ± 2 × Wilson bound on the share of questions that could differ', estimand };
}

/**
 * A common multiple L of every epoch count in two runs of binary scores (so that each d_i·L is an integer), or
 * undefined when it exceeds 10,000 (the sign-flip test then enumerates or samples instead).
 */
export function epochLattice(a: number[][], b: number[][]): number | undefined {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  let L = 1;
  for (const runs of [a, b]) {
    for (const c of runs) {
      L = (L / gcd(L, c.length)) * c.length;
      if (L > 10_000) return undefined;
    }
  }
  return L;
}

/** Everything `assay compare` reports for one pair of runs. Differences are A − B in score units (0..1 for accuracy). */
export interface PairedComparison {
  /** Shared samples used (with ≥ 1 graded epoch in both runs). */
  samples: number;
  epochs_a: number;
  epochs_b: number;
  mean_a: number;
  mean_b: number;
  /** Mean of d_i = ā_i − b̄_i (equals mean_a − mean_b on the shared samples). */
  difference: number;
  /**
   * The headline 95% interval of the difference (`differenceInterval`): the paired t interval on the per-sample
   * differences, for the population of questions. Chosen by simulation over the percentile bootstrap beside it,
   * which covered 92–94% at n = 30 (bench/coverage.ts).
   */
  ci95: { lo: number; hi: number; method: string; estimand: string };
  ci95_bootstrap: { lo: number; hi: number; se: number; replicates: number; seed: number; method: 'paired cluster bootstrap (samples resampled jointly with their epochs)' };
  sign_flip: ReturnType<typeof signFlipTest>;
  paired_t: ReturnType<typeof pairedT>;
  wilcoxon: ReturnType<typeof wilcoxonSignedRank>;
  /**
   * Binary scores only. `first_epoch`: exact/mid-p on one epoch-matched pair per sample; `clustered`: Durkalski over
   * all matched epochs (at k = 1 the asymptotic McNemar test). `clustered` stays nullable for stored reports.
   */
  mcnemar: { first_epoch: ReturnType<typeof mcnemar>; clustered: ReturnType<typeof clusteredMcNemar> | null } | null;
  /**
   * MDE at level `alpha` (default 0.05) and 80% power from the bootstrap SE of the difference. NaN (null in JSON) when
   * it cannot be estimated: fewer than 2 shared samples, or per-sample differences that do not vary (SE 0), where a
   * "minimum detectable effect of 0" would be a claim the data cannot support.
   */
  mde: number;
  /** Level of the MDE. */
  mde_alpha: number;
  /** Samples where A is better / worse / equal (per-sample means). */
  wins: number;
  losses: number;
  ties: number;
}

/**
 * Compare two runs on aligned samples: `a[i]` and `b[i]` are the graded values of the same sample i in runs A and B
 * (each non-empty, in epoch order). `epochsA[i][j]` / `epochsB[i][j]` give the epoch number of value j; McNemar
 * pairs values by epoch number, so a failed (left-out) attempt never shifts the pairing. Without them, index j is
 * taken as epoch j. Seeded (bootstrap, permutations). `numeric`: the scores are unbounded numbers (bits per byte…),
 * so the difference interval is not clipped to [−1, 1].
 * Errors: RangeError if the arrays differ in length or are empty, or `alpha` is outside (0, 1).
 */
export function comparePaired(a: number[][], b: number[][], opts: { seed: number; replicates?: number; permutations?: number; alpha?: number; epochsA?: number[][]; epochsB?: number[][]; numeric?: boolean }): PairedComparison {
  if (a.length !== b.length) throw new RangeError(`aligned runs differ in length (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new RangeError('the two runs share no graded sample');
  const alpha = opts.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const pa = packClusters(a);
  const pb = packClusters(b);
  const d = Array.from({ length: a.length }, (_, i) => pa.means[i]! - pb.means[i]!);
  const B = opts.replicates ?? 2000;
  const [ra, rb] = jointClusteredBootstrap([pa, pb], { seed: opts.seed, replicates: B, within: false });
  const diff = new Float64Array(B);
  for (let i = 0; i < B; i++) diff[i] = ra![i]! - rb![i]!;
  const se = Math.sqrt(replicateVariance(diff));
  const sorted = Float64Array.from(diff).sort();
  let mc: PairedComparison['mcnemar'] = null;
  if (pa.binary && pb.binary) {
    let b1 = 0, c1 = 0;
    const disc: { b: number; c: number }[] = [];
    for (let i = 0; i < a.length; i++) {
      const pairs = epochPairs(a[i]!, b[i]!, opts.epochsA?.[i], opts.epochsB?.[i]);
      if (pairs.length) {
        const [x0, y0] = pairs[0]!;
        if (x0 === 1 && y0 === 0) b1++;
        if (x0 === 0 && y0 === 1) c1++;
      }
      let bi = 0, ci = 0;
      for (const [x, y] of pairs) {
        if (x === 1 && y === 0) bi++;
        if (x === 0 && y === 1) ci++;
      }
      disc.push({ b: bi, c: ci });
    }
    // Durkalski's statistic with one pair per sample (k = 1) is McNemar's asymptotic (b − c)²/(b + c): computed at every k.
    mc = { first_epoch: mcnemar(b1, c1), clustered: clusteredMcNemar(disc) };
  }
  let wins = 0, losses = 0, ties = 0;
  for (const v of d) {
    if (v > EPS) wins++;
    else if (v < -EPS) losses++;
    else ties++;
  }
  const meanA = mean(pa.means), meanB = mean(pb.means);
  return {
    samples: a.length,
    epochs_a: pa.values.length / a.length,
    epochs_b: pb.values.length / b.length,
    mean_a: meanA,
    mean_b: meanB,
    difference: mean(d),
    ci95: differenceInterval(d, { numeric: opts.numeric }),
    ci95_bootstrap: { lo: quantileSorted(sorted, 0.025), hi: quantileSorted(sorted, 0.975), se, replicates: B, seed: opts.seed, method: 'paired cluster bootstrap (samples resampled jointly with their epochs)' },
    sign_flip: signFlipTest(d, { seed: opts.seed + 1, permutations: opts.permutations, lattice: pa.binary && pb.binary ? epochLattice(a, b) : undefined }),
    paired_t: pairedT(d),
    wilcoxon: wilcoxonSignedRank(d),
    mcnemar: mc,
    mde: a.length >= 2 && se > EPS ? minimumDetectableEffect(se, alpha) : NaN,
    mde_alpha: alpha,
    wins,
    losses,
    ties,
  };
}
