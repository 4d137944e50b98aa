/**
 * Coverage of Assay's intervals and size/power of its tests, by simulation from models with known truth.
 * Each function runs one *cell* (one design) and returns rates with their Monte-Carlo standard errors; the full
 * grids are in bench/coverage.ts (tables in bench/out/coverage.md and .json, summarised in README "Statistics"), a
 * reduced grid guards them in test/stats/coverage.test.ts. Every random choice comes from `createRng(seed)`.
 *
 * Generative models:
 * - one run (avg@k, pass@k, maj@k): p_i ~ Beta(μκ, (1−μ)κ), k Bernoulli(p_i) epochs (src/stats/simulate.ts); the
 *   estimand is the population value (μ for avg@k).
 * - two runs (compare): one shared difficulty p_i per question; B's epochs are Bernoulli(p_i), A's Bernoulli(p_iA) with
 *   p_iA = 1 − (1 − p_i)(1 − μ − δ)/(1 − μ) (mean μ + δ; δ = 0 makes A and B exchangeable per question).
 * - rankings: two-parameter logistic item response for runs on shared questions (P(right) = σ(θ_m − b_i),
 *   b_i ~ N(0, 1.5²)), true rank = rank of θ; Plackett–Luce orderings (Gumbel-max: θ_m + Gumbel noise) with cells
 *   dropped at random at `pool validate`'s fractions for the pool ranking.
 * - calibration: confidence c ~ Beta(a, b), correct ~ Bernoulli(g(c)); truth = sqrt(E[(c − g(c))²]).
 */
import { createRng, type Rng } from '../core/rng.ts';
import { rankModels } from '../aggregate/rank.ts';
import { choicesFromMatrix, dropMask, type BinaryMatrix } from '../aggregate/validate.ts';
import { passAtK } from '../stats/accuracy.ts';
import { clusteredBootstrapMeans, jointClusteredBootstrap, packClusters, percentileInterval } from '../stats/bootstrap.ts';
import { calibrationReport } from '../stats/calibration.ts';
import { binomialPmf, logChoose, normalQuantile } from '../stats/distributions.ts';
import { clusteredScoreInterval, countTableOf, wilsonInterval } from '../stats/intervals.ts';
import { clusteredMcNemar, differenceInterval, epochLattice, mcnemar, pairedT, signFlipTest, wilcoxonSignedRank } from '../stats/paired.ts';
import { powerOfDesign, type DesignComponents } from '../stats/power.ts';
import { rankAcrossTasks, rankRuns } from '../stats/rank.ts';
import { betaDraw, binomialDraw, normalDraw, simulateBenchmark } from '../stats/simulate.ts';

/** A rate over `reps` repetitions with its Monte-Carlo standard error sqrt(r(1−r)/reps). */
export interface Rate {
  rate: number;
  mc_se: number;
}

/** One method's result in a coverage cell. */
export interface MethodCoverage extends Rate {
  /** Mean interval width (score units). */
  mean_width: number;
  /** Share of repetitions whose interval lay entirely below / above the truth. */
  miss_low: number;
  miss_high: number;
  /** True when the coverage is computed exactly (k = 1: a binomial sum), not simulated (mc_se 0). */
  exact?: boolean;
}

const rate = (hits: number, reps: number): Rate => {
  const r = reps ? hits / reps : NaN;
  return { rate: r, mc_se: reps ? Math.sqrt((r * (1 - r)) / reps) : NaN };
};

class Tally {
  hit = 0;
  low = 0;
  high = 0;
  width = 0;
  n = 0;
  add(lo: number, hi: number, truth: number): void {
    this.n++;
    this.width += hi - lo;
    if (hi < truth) this.high++; // the interval lies below the truth: the upper end missed
    else if (lo > truth) this.low++;
    else this.hit++;
  }
  result(): MethodCoverage {
    return { ...rate(this.hit, this.n), mean_width: this.width / this.n, miss_low: this.low / this.n, miss_high: this.high / this.n };
  }
}

/** Coverage of each avg@k interval in one design. */
export interface AvgCell {
  n: number;
  k: number;
  mu: number;
  kappa: number;
  reps: number;
  methods: Record<string, MethodCoverage>;
  /** Share of repetitions in which every answer was wrong (or every answer right). */
  all_wrong: number;
  all_right: number;
  /** Share of repetitions with a zero-width interval, per method. */
  zero_width: Record<string, number>;
}

/**
 * Exact coverage of an interval that depends on a binomial count only (k = 1: avg@k is x/n with x ~ Bin(n, μ),
 * whatever κ): Σ_x P(x)·1[μ ∈ I(x)]. Returns the coverage and the miss shares.
 */
export function exactBinomialCoverage(n: number, mu: number, interval: (x: number) => { lo: number; hi: number }): MethodCoverage {
  let hit = 0, low = 0, high = 0, width = 0;
  for (let x = 0; x <= n; x++) {
    const p = binomialPmf(x, n, mu);
    if (p < 1e-16) continue;
    const { lo, hi } = interval(x);
    width += p * (hi - lo);
    if (hi < mu) high += p;
    else if (lo > mu) low += p;
    else hit += p;
  }
  return { rate: hit, mc_se: 0, mean_width: width, miss_low: low, miss_high: high, exact: true };
}

/**
 * Whether any interval that is a function of a count X ~ Bin(n, q) and monotone in it can cover with probability in
 * [lo, hi]: some run a..b of counts has P(a ≤ X ≤ b) in the band. False means the band is out of reach by
 * discreteness (e.g. n = 100, μ = 0.01, k = 1: 92.1% or 98.2%, nothing between).
 */
export function bandAttainable(n: number, q: number, lo = 0.93, hi = 0.97): boolean {
  const pmf = Array.from({ length: n + 1 }, (_, x) => binomialPmf(x, n, q));
  for (let a = 0; a <= n; a++) {
    let s = 0;
    for (let b = a; b <= n; b++) {
      s += pmf[b]!;
      if (s >= lo && s <= hi) return true;
      if (s > hi) break;
    }
  }
  return false;
}

/** P(a question has at least one right epoch) under Beta(μκ, (1−μ)κ) with k epochs: 1 − B(a, b + k)/B(a, b). */
export function probAnyRight(mu: number, kappa: number, k: number): number {
  const a = mu * kappa, b = (1 - mu) * kappa;
  let lr = 0; // log Π_{j<k} (b + j)/(a + b + j)
  for (let j = 0; j < k; j++) lr += Math.log((b + j) / (a + b + j));
  return 1 - Math.exp(lr);
}

/**
 * Coverage of μ by the avg@k intervals: the clustered score interval (headline), Wald, the cluster percentile
 * bootstrap (when `bootstrap` > 0 replicates; the previous headline) and Wilson on the moment effective n (the
 * score interval without its beta-binomial guard, for comparison). k = 1 cells are exact for the score interval.
 */
export function avgAtKCell(o: { n: number; k: number; mu: number; kappa: number; reps: number; seed: number; bootstrap?: number }): AvgCell {
  const rng = createRng(o.seed);
  const t: Record<string, Tally> = { score: new Tally(), wald: new Tally(), wilson_moment: new Tally() };
  if (o.bootstrap) t.bootstrap = new Tally();
  const zero: Record<string, number> = Object.fromEntries(Object.keys(t).map((m) => [m, 0]));
  let allWrong = 0, allRight = 0;
  const z = normalQuantile(0.975);
  for (let r = 0; r < o.reps; r++) {
    const { c } = simulateBenchmark(rng, o);
    let s = 0, ss = 0, right = 0;
    for (let i = 0; i < o.n; i++) {
      const m = c[i]! / o.k;
      s += m;
      ss += m * m;
      right += c[i]!;
    }
    if (right === 0) allWrong++;
    if (right === o.n * o.k) allRight++;
    const p = s / o.n;
    const sd = o.n > 1 ? Math.sqrt(Math.max(0, (ss - o.n * p * p) / (o.n - 1))) : 0;
    const ivs: Record<string, { lo: number; hi: number }> = {};
    const score = clusteredScoreInterval(countTableOf(c, o.k));
    ivs.score = score;
    ivs.wald = { lo: Math.max(0, p - (z * sd) / Math.sqrt(o.n)), hi: Math.min(1, p + (z * sd) / Math.sqrt(o.n)) };
    ivs.wilson_moment = wilsonInterval(p, score.effective_n);
    if (o.bootstrap) {
      const cl = Array.from(c, (ci) => Array.from({ length: o.k }, (_, j) => (j < ci ? 1 : 0)));
      ivs.bootstrap = percentileInterval(clusteredBootstrapMeans(packClusters(cl), { seed: o.seed + r, replicates: o.bootstrap }));
    }
    for (const [m, iv] of Object.entries(ivs)) {
      t[m]!.add(iv.lo, iv.hi, o.mu);
      if (iv.hi - iv.lo <= 1e-12) zero[m]!++;
    }
  }
  const methods = Object.fromEntries(Object.entries(t).map(([m, x]) => [m, x.result()]));
  if (o.k === 1) methods.score = exactBinomialCoverage(o.n, o.mu, (x) => wilsonInterval(x / o.n, o.n));
  return { n: o.n, k: o.k, mu: o.mu, kappa: o.kappa, reps: o.reps, methods, all_wrong: allWrong / o.reps, all_right: allRight / o.reps, zero_width: Object.fromEntries(Object.entries(zero).map(([m, v]) => [m, v / o.reps])) };
}

/** Population pass@k' under Beta(μκ, (1−μ)κ): 1 − B(a, b + k')/B(a, b). */
export function truePassAtK(mu: number, kappa: number, kp: number): number {
  return probAnyRight(mu, kappa, kp);
}

/**
 * Coverage of the pass@k' interval (Wilson on the samples, conservative) for k' ≤ k epochs, and of the maj@k
 * interval (Wilson on the samples; exact: the majority verdicts are Bernoulli). maj@k is simulated with one wrong
 * answer shared by all wrong epochs (majority right iff more than k/2 right; a tie goes to the first epoch).
 */
export function passMajCell(o: { n: number; k: number; kp: number; mu: number; kappa: number; reps: number; seed: number }): { n: number; k: number; kp: number; mu: number; kappa: number; reps: number; pass_truth: number; pass: MethodCoverage; maj_truth: number; maj: MethodCoverage } {
  const rng = createRng(o.seed);
  const truth = truePassAtK(o.mu, o.kappa, o.kp);
  const tally = new Tally();
  for (let r = 0; r < o.reps; r++) {
    const { c } = simulateBenchmark(rng, o);
    let s = 0;
    for (let i = 0; i < o.n; i++) s += passAtK(o.k, c[i]!, o.kp);
    const iv = wilsonInterval(Math.min(1, s / o.n), o.n);
    tally.add(iv.lo, iv.hi, truth);
  }
  // maj@k truth: P(C > k/2) + ½·P(C = k/2) under the beta-binomial (a tie goes to the first epoch: right with prob. ½)
  const a = o.mu * o.kappa, b = (1 - o.mu) * o.kappa;
  const bb = (x: number) => {
    let l = logChoose(o.k, x);
    for (let j = 0; j < x; j++) l += Math.log(a + j);
    for (let j = 0; j < o.k - x; j++) l += Math.log(b + j);
    for (let j = 0; j < o.k; j++) l -= Math.log(a + b + j);
    return Math.exp(l);
  };
  let maj = 0;
  for (let x = 0; x <= o.k; x++) {
    const p = bb(x);
    if (2 * x > o.k) maj += p;
    else if (2 * x === o.k) maj += 0.5 * p;
  }
  return { n: o.n, k: o.k, kp: o.kp, mu: o.mu, kappa: o.kappa, reps: o.reps, pass_truth: truth, pass: tally.result(), maj_truth: maj, maj: exactBinomialCoverage(o.n, maj, (x) => wilsonInterval(x / o.n, o.n)) };
}

/** The true planner components of the two-run model (module comment) for `powerOfDesign`. */
export function pairComponents(mu: number, kappa: number, delta: number): DesignComponents {
  const s = (1 - mu - delta) / (1 - mu), varp = (mu * (1 - mu)) / (kappa + 1);
  return {
    omega2: (1 - s) ** 2 * varp,
    withinA: s * (1 - mu) - s * s * ((1 - mu) ** 2 + varp),
    withinB: mu * (1 - mu) - varp,
    between: varp,
    within: mu * (1 - mu) - varp,
    source: `simulation: μ ${mu}, κ ${kappa}, δ ${delta}`,
  };
}

/** Rejection rates (at α = 0.05) of every test `compare` prints, and coverage of its difference intervals. */
export interface CompareCell {
  n: number;
  k: number;
  mu: number;
  kappa: number;
  delta: number;
  reps: number;
  /** Rejection rate per test: type-I error when δ = 0, power otherwise. */
  rejections: Record<string, Rate>;
  /** The planner's (`powerOfDesign`) prediction for this design from its true components (δ > 0). */
  planner_power: number | null;
  /** The same for one epoch per sample: the design first-epoch McNemar uses. */
  planner_power_first_epoch: number | null;
  /** Coverage of δ by the headline difference interval (paired t) and, when `bootstrap` > 0, the percentile bootstrap. */
  coverage: Record<string, MethodCoverage>;
  /** Mean number of discordant first-epoch pairs (what McNemar's test conditions on). */
  mean_discordant: number;
}

/** One compare design (module comment), `reps` repetitions. */
export function compareCell(o: { n: number; k: number; mu: number; kappa: number; delta: number; reps: number; seed: number; bootstrap?: number }): CompareCell {
  const rng = createRng(o.seed);
  const s = (1 - o.mu - o.delta) / (1 - o.mu);
  const names = ['sign-flip (mid-p)', 'sign-flip (conventional)', 'paired t', 'Wilcoxon (mid-p)', 'McNemar first epoch (mid-p)', 'McNemar first epoch (exact)', 'clustered McNemar (Durkalski)'];
  const rej: Record<string, number> = Object.fromEntries(names.map((x) => [x, 0]));
  const cov: Record<string, Tally> = { 'paired t (headline)': new Tally() };
  if (o.bootstrap) cov['percentile bootstrap'] = new Tally();
  let discordant = 0;
  for (let r = 0; r < o.reps; r++) {
    const a: number[][] = [], b: number[][] = [];
    for (let i = 0; i < o.n; i++) {
      const p = betaDraw(rng, o.mu * o.kappa, (1 - o.mu) * o.kappa);
      const pa = 1 - (1 - p) * s;
      const ea = new Array<number>(o.k), eb = new Array<number>(o.k);
      for (let j = 0; j < o.k; j++) {
        ea[j] = rng.float() < pa ? 1 : 0;
        eb[j] = rng.float() < p ? 1 : 0;
      }
      a.push(ea);
      b.push(eb);
    }
    const d = a.map((x, i) => (x.reduce((u, v) => u + v, 0) - b[i]!.reduce((u, v) => u + v, 0)) / o.k);
    const sf = signFlipTest(d, { seed: o.seed + r, lattice: epochLattice(a, b) });
    let b1 = 0, c1 = 0;
    const disc = a.map((x, i) => {
      let bb = 0, cc = 0;
      for (let j = 0; j < o.k; j++) {
        if (x[j] === 1 && b[i]![j] === 0) bb++;
        if (x[j] === 0 && b[i]![j] === 1) cc++;
      }
      if (x[0] === 1 && b[i]![0] === 0) b1++;
      if (x[0] === 0 && b[i]![0] === 1) c1++;
      return { b: bb, c: cc };
    });
    discordant += b1 + c1;
    const mc = mcnemar(b1, c1);
    const ps: Record<string, number> = {
      'sign-flip (mid-p)': sf.p, 'sign-flip (conventional)': sf.p_conventional, 'paired t': pairedT(d).p, 'Wilcoxon (mid-p)': wilcoxonSignedRank(d).p,
      'McNemar first epoch (mid-p)': mc.p_mid, 'McNemar first epoch (exact)': mc.p_exact, 'clustered McNemar (Durkalski)': clusteredMcNemar(disc).p,
    };
    for (const x of names) if (ps[x]! <= 0.05) rej[x]!++;
    const iv = differenceInterval(d);
    cov['paired t (headline)']!.add(iv.lo, iv.hi, o.delta);
    if (o.bootstrap) {
      const [ra, rb] = jointClusteredBootstrap([packClusters(a), packClusters(b)], { seed: o.seed + r, replicates: o.bootstrap });
      cov['percentile bootstrap']!.add(...(Object.values(percentileInterval(ra!.map((v, i) => v - rb![i]!))) as [number, number]), o.delta);
    }
  }
  return {
    n: o.n, k: o.k, mu: o.mu, kappa: o.kappa, delta: o.delta, reps: o.reps,
    rejections: Object.fromEntries(names.map((x) => [x, rate(rej[x]!, o.reps)])),
    planner_power: o.delta > 0 ? powerOfDesign(pairComponents(o.mu, o.kappa, o.delta), o.delta, o.n, o.k) : null,
    planner_power_first_epoch: o.delta > 0 ? powerOfDesign(pairComponents(o.mu, o.kappa, o.delta), o.delta, o.n, 1) : null,
    coverage: Object.fromEntries(Object.entries(cov).map(([m, x]) => [m, x.result()])),
    mean_discordant: discordant / o.reps,
  };
}

/** Joint coverage of the true ranks (every item inside its interval at once) and the mean interval length. */
export interface RankCell {
  scenario: string;
  params: Record<string, number | string>;
  reps: number;
  /** Per method: joint coverage and mean interval length in ranks (hi − lo + 1, averaged over items). */
  methods: Record<string, Rate & { mean_length: number }>;
}

/** True ranks with ties counted in the item's favour: 1 + #{θ_i > θ_r}. */
function trueRanks(theta: ArrayLike<number>): Int32Array {
  return Int32Array.from(theta as ArrayLike<number>, (t) => 1 + Array.from(theta as ArrayLike<number>).filter((u) => u > t + 1e-12).length);
}

/**
 * Marginal percentile rank intervals from joint replicates (the method Assay used before the coverage study): per item the 2.5% and 97.5%
 * inverse-CDF quantiles of 1 + #{items strictly above it} over replicates (Hall & Miller 2009).
 */
export function percentileRankIntervals(reps: ArrayLike<number>[], level = 0.95): { lo: Int32Array; hi: Int32Array } {
  const m = reps.length, B = m ? reps[0]!.length : 0;
  const ranks = Array.from({ length: m }, () => new Int32Array(B));
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < m; r++) {
      let better = 0;
      for (let s = 0; s < m; s++) if (reps[s]![b]! > reps[r]![b]! + 1e-12) better++;
      ranks[r]![b] = 1 + better;
    }
  }
  const q = (sorted: Int32Array, p: number) => sorted[Math.min(B - 1, Math.max(0, Math.ceil(p * B) - 1))]!;
  const a = (1 - level) / 2;
  const lo = new Int32Array(m), hi = new Int32Array(m);
  for (let r = 0; r < m; r++) {
    const sr = ranks[r]!.sort();
    lo[r] = q(sr, a);
    hi[r] = q(sr, 1 - a);
  }
  return { lo, hi };
}

function jointHit(lo: ArrayLike<number>, hi: ArrayLike<number>, truth: Int32Array): boolean {
  for (let r = 0; r < truth.length; r++) if (truth[r]! < lo[r]! || truth[r]! > hi[r]!) return false;
  return true;
}

const irtRight = (rng: Rng, theta: number, b: number) => (rng.float() < 1 / (1 + Math.exp(-(theta - b))) ? 1 : 0);

/**
 * `rankRuns` (compare with ≥ 3 runs): runs with abilities `theta` on n shared questions (2PL, discrimination 1),
 * k epochs. Joint coverage of the simultaneous intervals and of the marginal percentile intervals of before.
 */
export function rankRunsCell(o: { theta: number[]; n: number; k: number; reps: number; seed: number; replicates?: number }): RankCell {
  const rng = createRng(o.seed);
  const truth = trueRanks(o.theta);
  const m = o.theta.length;
  const hits = { simultaneous: 0, percentile: 0 }, len = { simultaneous: 0, percentile: 0 };
  for (let r = 0; r < o.reps; r++) {
    const clusters: number[][][] = o.theta.map(() => []);
    for (let i = 0; i < o.n; i++) {
      const b = 1.5 * normalDraw(rng);
      o.theta.forEach((t, x) => clusters[x]!.push(Array.from({ length: o.k }, () => irtRight(rng, t, b))));
    }
    const labels = o.theta.map((_, x) => `m${x}`);
    const rk = rankRuns(labels, clusters, { seed: o.seed + r, replicates: o.replicates ?? 200, permutations: 2000 });
    const lo = new Int32Array(m), hi = new Int32Array(m);
    for (const run of rk.runs) {
      const x = Number(run.label.slice(1));
      lo[x] = run.rank_interval.lo;
      hi[x] = run.rank_interval.hi;
      len.simultaneous += hi[x]! - lo[x]! + 1;
    }
    if (jointHit(lo, hi, truth)) hits.simultaneous++;
    const reps = jointClusteredBootstrap(clusters.map((c) => packClusters(c)), { seed: o.seed + r, replicates: o.replicates ?? 200 });
    const pct = percentileRankIntervals(reps);
    for (let x = 0; x < m; x++) len.percentile += pct.hi[x]! - pct.lo[x]! + 1;
    if (jointHit(pct.lo, pct.hi, truth)) hits.percentile++;
  }
  return {
    scenario: 'rankRuns (2PL runs on shared questions)', params: { models: m, n: o.n, k: o.k, theta: o.theta.join(' ') }, reps: o.reps,
    methods: {
      'simultaneous (Holm sign-flip)': { ...rate(hits.simultaneous, o.reps), mean_length: len.simultaneous / (o.reps * m) },
      'percentile (before)': { ...rate(hits.percentile, o.reps), mean_length: len.percentile / (o.reps * m) },
    },
  };
}

/** `rankAcrossTasks`: T tasks of n questions each (own difficulties), macro-average ranks. */
export function rankAcrossTasksCell(o: { theta: number[]; tasks: number; n: number; k: number; reps: number; seed: number; replicates?: number }): RankCell {
  const rng = createRng(o.seed);
  const truth = trueRanks(o.theta);
  const m = o.theta.length;
  const B = o.replicates ?? 500;
  const hits = { simultaneous: 0, percentile: 0 }, len = { simultaneous: 0, percentile: 0 };
  for (let r = 0; r < o.reps; r++) {
    const tasks: number[][][][] = [];
    for (let t = 0; t < o.tasks; t++) {
      const clusters: number[][][] = o.theta.map(() => []);
      for (let i = 0; i < o.n; i++) {
        const b = 1.5 * normalDraw(rng);
        o.theta.forEach((th, x) => clusters[x]!.push(Array.from({ length: o.k }, () => irtRight(rng, th, b))));
      }
      tasks.push(clusters);
    }
    const labels = o.theta.map((_, x) => `m${x}`);
    const rk = rankAcrossTasks(labels, tasks, { seed: o.seed + r * 101, replicates: B });
    const lo = new Int32Array(m), hi = new Int32Array(m);
    for (const mod of rk.models) {
      const x = Number(mod.label.slice(1));
      lo[x] = mod.rank_interval.lo;
      hi[x] = mod.rank_interval.hi;
      len.simultaneous += hi[x]! - lo[x]! + 1;
    }
    if (jointHit(lo, hi, truth)) hits.simultaneous++;
    // percentile (before) on the same kind of replicates
    const macro = Array.from({ length: m }, () => new Float64Array(B));
    tasks.forEach((clusters, t) => {
      const reps = jointClusteredBootstrap(clusters.map((c) => packClusters(c)), { seed: o.seed + r * 101 + t, replicates: B });
      for (let x = 0; x < m; x++) for (let b = 0; b < B; b++) macro[x]![b]! += reps[x]![b]! / o.tasks;
    });
    const pct = percentileRankIntervals(macro);
    for (let x = 0; x < m; x++) len.percentile += pct.hi[x]! - pct.lo[x]! + 1;
    if (jointHit(pct.lo, pct.hi, truth)) hits.percentile++;
  }
  return {
    scenario: 'rankAcrossTasks (2PL, macro average)', params: { models: m, tasks: o.tasks, n: o.n, k: o.k, theta: o.theta.join(' ') }, reps: o.reps,
    methods: {
      'simultaneous (max-t)': { ...rate(hits.simultaneous, o.reps), mean_length: len.simultaneous / (o.reps * m) },
      'percentile (before)': { ...rate(hits.percentile, o.reps), mean_length: len.percentile / (o.reps * m) },
    },
  };
}

/**
 * Pool ranking (`assay rank`, Plackett–Luce): `models` with strengths θ evenly spread over [−spread/2, spread/2],
 * `samples` samples, each a Plackett–Luce ordering of the models measured on it (Gumbel-max), a fraction `drop` of
 * the model × sample cells removed at random (`pool validate`'s drop mask). Joint coverage of the simultaneous
 * intervals at 95%, and (with `percentile`) of the marginal percentile intervals of before, on the same refits.
 */
export function plRankCell(o: { models: number; samples: number; drop: number; spread: number; reps: number; seed: number; replicates?: number }): RankCell {
  const rng = createRng(o.seed);
  const M = o.models, S = o.samples;
  const theta = Float64Array.from({ length: M }, (_, i) => o.spread * (M > 1 ? i / (M - 1) - 0.5 : 0));
  const truth = trueRanks(theta);
  let hit = 0, len = 0, hitP = 0, lenP = 0;
  const B = o.replicates ?? 200;
  for (let r = 0; r < o.reps; r++) {
    const values = new Float32Array(M * S);
    for (let m = 0; m < M; m++) for (let s = 0; s < S; s++) values[m * S + s] = theta[m]! - Math.log(-Math.log(1 - rng.float() * (1 - 1e-12)));
    const mat: BinaryMatrix = { models: Array.from({ length: M }, (_, m) => `m${m}`), sampleKeys: Array.from({ length: S }, (_, s) => `s${s}`), values, categories: null, categoryNames: [] };
    const keep = o.drop > 0 ? dropMask(mat, o.drop, 'random', rng) : null;
    const d = choicesFromMatrix(mat, keep, 'full');
    const res = rankModels(d, { replicates: B, seed: o.seed + r, elo: false, keepReplicates: true });
    const lo = new Int32Array(M), hi = new Int32Array(M);
    for (const x of res.models) {
      const t = Number(x.model.slice(1));
      lo[t] = x.rank_interval[0];
      hi[t] = x.rank_interval[1];
      len += hi[t]! - lo[t]! + 1;
    }
    if (jointHit(lo, hi, truth)) hit++;
    const boot = res.bootstrap_scores;
    if (boot) {
      // map model order of d.models to θ index
      const idx = d.models.map((name) => Number(name.slice(1)));
      const reps: Float64Array[] = new Array(M);
      idx.forEach((t, i) => (reps[t] = boot[i]!));
      const pct = percentileRankIntervals(reps);
      for (let x = 0; x < M; x++) lenP += pct.hi[x]! - pct.lo[x]! + 1;
      if (jointHit(pct.lo, pct.hi, truth)) hitP++;
    }
  }
  const methods: RankCell['methods'] = { 'simultaneous (max-t)': { ...rate(hit, o.reps), mean_length: len / (o.reps * M) } };
  if (lenP) methods['percentile (before)'] = { ...rate(hitP, o.reps), mean_length: lenP / (o.reps * M) };
  return { scenario: 'pool ranking (Plackett–Luce orderings, cells dropped at random)', params: { models: M, samples: S, drop: o.drop, spread: o.spread }, reps: o.reps, methods };
}

/** Coverage of the RMS calibration error interval. */
export interface CalibrationCell {
  scenario: string;
  n: number;
  reps: number;
  truth: number;
  methods: Record<string, MethodCoverage>;
  /** Mean of the point values (binned RMS CE and the debiased one). */
  mean_value: number;
  mean_debiased: number;
}

/** Calibration scenarios: confidence c ~ Beta(a, b) and P(right | c) = g(c). */
export const CALIBRATION_SCENARIOS: Record<string, { a: number; b: number; g: (c: number) => number; label: string }> = {
  overconfident: { a: 6, b: 2, g: (c) => Math.max(0, c - 0.15), label: 'overconfident by 15 points, c ~ Beta(6, 2)' },
  'hle-like': { a: 8, b: 1.5, g: (c) => 0.3 * c * c, label: 'accuracy 0.3c² (RMS error ≈ 0.6, as frontier models on HLE), c ~ Beta(8, 1.5)' },
  calibrated: { a: 2, b: 2, g: (c) => c, label: 'calibrated, c ~ Beta(2, 2)' },
};

/** sqrt(E[(c − g(c))²]) by midpoint quadrature over the Beta(a, b) density. */
export function trueRmsCalibrationError(sc: { a: number; b: number; g: (c: number) => number }): number {
  const N = 20000;
  let s = 0, w = 0;
  for (let i = 0; i < N; i++) {
    const c = (i + 0.5) / N;
    const dens = Math.exp((sc.a - 1) * Math.log(c) + (sc.b - 1) * Math.log(1 - c));
    s += dens * (c - sc.g(c)) ** 2;
    w += dens;
  }
  return Math.sqrt(s / w);
}

/** Coverage of the RMS CE intervals of `calibrationReport` (bins of 100) at n items, one epoch each. */
export function calibrationCell(o: { scenario: string; n: number; reps: number; seed: number; replicates?: number }): CalibrationCell {
  const sc = CALIBRATION_SCENARIOS[o.scenario];
  if (!sc) throw new RangeError(`unknown calibration scenario ${o.scenario}`);
  const rng = createRng(o.seed);
  const truth = trueRmsCalibrationError(sc);
  const t: Record<string, Tally> = { headline: new Tally(), 'percentile bootstrap of the binned value (before)': new Tally() };
  let mv = 0, md = 0;
  for (let r = 0; r < o.reps; r++) {
    const items = Array.from({ length: o.n }, () => {
      const c = betaDraw(rng, sc.a, sc.b);
      return { confidence: c, correct: rng.float() < sc.g(c) ? 1 : 0 };
    });
    const rep = calibrationReport(items, { replicates: o.replicates ?? 300, seed: o.seed + r });
    const e = rep.rms_calibration_error;
    mv += e.value;
    md += e.debiased ?? NaN;
    t.headline!.add(e.ci95.lo, e.ci95.hi, truth);
    t['percentile bootstrap of the binned value (before)']!.add(e.ci95_percentile?.lo ?? NaN, e.ci95_percentile?.hi ?? NaN, truth);
  }
  return { scenario: o.scenario, n: o.n, reps: o.reps, truth, methods: Object.fromEntries(Object.entries(t).map(([m, x]) => [m, x.result()])), mean_value: mv / o.reps, mean_debiased: md / o.reps };
}
