/**
 * Cheaper evaluation: given a pool (a models × samples matrix) and a budget of b samples, choose the samples that
 * best preserve the full ranking, and measure the Kendall τ achieved.
 *
 * Sober protocol: the models are split at random into *known* models (already in the pool, used to choose the
 * samples) and *new* models (to be evaluated on the b samples only). τ is reported for the new models (ranking on
 * the b samples vs ranking on all samples), so a strategy cannot win by memorising the models it is scored on;
 * τ over all models is reported too. Every strategy sees the same splits, so each is compared with `random`
 * repetition by repetition (paired t over the splits), and a strategy is kept only where it beats random
 * (`beats_random`: one-sided p Holm-adjusted over every strategy × budget of the call ≤ α).
 *
 * Strategies:
 * - `random`: b samples uniformly at random; ranked by Plackett–Luce on them.
 * - `stratified`: proportional allocation over categories (largest remainder), random within a category.
 * - `irt-anchors` (Polo et al. 2024, "tinyBenchmarks: evaluating LLMs with fewer examples", §3.2, "IRT" anchor
 *   points): a two-parameter logistic model fitted on the known models (irt.ts `fit2PL`) embeds each sample as
 *   (α_s, β_s); k-means with k = b clusters the embeddings; each cluster's anchor is the sample nearest its
 *   centroid, weighted by the cluster's size; a model's score is its weighted accuracy on the anchors (their
 *   estimator of the full-benchmark accuracy).
 * - `irt-information`: the b samples with the largest Fisher information at the known models' abilities under
 *   the same fitted 2PL (irt.ts `itemInformation`; the item-selection rule of adaptive testing, Lord 1980),
 *   allocated over categories as in `stratified`; ranked by Plackett–Luce on them.
 * - `irt-sampled`: b samples drawn without replacement with probability proportional to that information
 *   (Efraimidis & Spirakis 2006 weighted sampling), so every sample can be chosen: less variance than `random`
 *   where information is uneven, less selection bias than the top-b rule; ranked by Plackett–Luce on them.
 *
 * Removed: `informative` (the b samples where the most adjacent known models disagree). It lost to random at every
 * budget on MMLU-Pro (τ 0.737 vs 0.853 at 50 samples, 0.942 vs 0.950 at 1,000; bench/validate-subset.ts): it
 * selects on the known models' noisy outcomes, and for close neighbours nearly half of those disagreements are
 * upsets, so the chosen samples make neighbours look tied and the order is decided by noise.
 */
import { collectGarbage } from '../core/gc.ts';
import { createRng, type Rng } from '../core/rng.ts';
import { studentTTwoSided } from '../stats/distributions.ts';
import { holm } from '../stats/multiplicity.ts';
import { kendallTau } from './baselines.ts';
import { fit2PL, itemInformation, kMeans, type TwoPL } from './irt.ts';
import { isSparse, sparseOf, type AnyBinaryMatrix } from './matrix.ts';
import { choicesFromMatrix, meanScores, plScores } from './validate.ts';

export const SUBSET_STRATEGIES = ['random', 'stratified', 'irt-anchors', 'irt-information', 'irt-sampled'] as const;
export type SubsetStrategy = (typeof SUBSET_STRATEGIES)[number];

/**
 * The strategies `cheaperEvaluation` runs unless told otherwise: random (the baseline) and the ones that beat it
 * somewhere in bench/validate-subset.ts (30 splits, paired t, Holm over the 20 strategy × budget rows of a pool):
 * `irt-information` on a 2PL pool at 50–500 samples (adjusted p < 0.001 to 0.006), `irt-sampled` there at 50
 * (p 0.001). On MMLU-Pro none is kept at any budget (best: irt-sampled at 100, Δτ +0.027 ± 0.011, adjusted p 0.245;
 * irt-information loses 0.027–0.038 from 200 on), so `assay pool subset` recommends random there. `stratified` tied random everywhere, and
 * `irt-anchors` lost to it at every budget on both pools (τ −0.01 to −0.06: anchors estimate each model's accuracy
 * better than random — mean error 0.028 vs 0.037 at 100 MMLU-Pro items — but that gain is in the samples'
 * difficulty, which cancels when models are compared on the same samples); both stay available by name.
 */
export const DEFAULT_SUBSET_STRATEGIES: readonly SubsetStrategy[] = ['random', 'irt-information', 'irt-sampled'];

/** Fisher–Yates (Durstenfeld's form, from the end), in place; a typed array or a plain one, the same swaps. */
function shuffle<A extends { length: number; [i: number]: number }>(a: A, rng: Rng): A {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.index(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/** The samples of each category, ascending (CSR: category c's are idx[ptr[c] .. ptr[c+1])); one category without categories. */
function samplesByCategory(mat: AnyBinaryMatrix): { ptr: Int32Array; idx: Int32Array; sizes: number[] } {
  const S = mat.sampleKeys.length, cats = mat.categories;
  const nCat = Math.max(1, mat.categoryNames.length);
  const ptr = new Int32Array(nCat + 1), idx = new Int32Array(S);
  for (let s = 0; s < S; s++) ptr[(cats ? cats[s]! : 0) + 1]!++;
  for (let c = 0; c < nCat; c++) ptr[c + 1]! += ptr[c]!;
  const pos = ptr.slice(0, nCat);
  for (let s = 0; s < S; s++) idx[pos[cats ? cats[s]! : 0]!++] = s;
  return { ptr, idx, sizes: Array.from({ length: nCat }, (_, c) => ptr[c + 1]! - ptr[c]!) };
}

/** Int32Arrays one after another. */
function concat(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}

/** Largest-remainder allocation of `b` over category sizes. */
function allocate(sizes: number[], b: number): number[] {
  const total = sizes.reduce((x, y) => x + y, 0);
  const raw = sizes.map((n) => (n * b) / total);
  const out = raw.map(Math.floor);
  let left = b - out.reduce((x, y) => x + y, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((x, y) => y[0] - x[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    if (out[i]! < sizes[i]!) {
      out[i]!++;
      left--;
    }
  }
  return out;
}

/** A chosen subset: sample indices and, for estimators that weight them (`irt-anchors`), one weight per sample. */
export interface Subset {
  samples: Int32Array;
  weights: Float64Array | null;
}

/**
 * Choose `budget` sample indices. `known` marks the models whose outcomes may be used (null: all); the IRT
 * strategies fit a 2PL model on them (pass `irt` to reuse a fit on the same known models, and with it `information`,
 * its `itemInformation`, to reuse that too). `irt-anchors` may
 * return fewer samples than the budget when several clusters coincide (identical embeddings).
 * Errors: RangeError when budget < 1 or > number of samples.
 */
export function chooseSubset(mat: AnyBinaryMatrix, budget: number, strategy: SubsetStrategy, rng: Rng, known: Uint8Array | null = null, irt: TwoPL | null = null, information: Float64Array | null = null): Subset {
  const S = mat.sampleKeys.length;
  if (!(budget >= 1 && budget <= S)) throw new RangeError(`budget must be between 1 and ${S}, got ${budget}`);
  // typed arrays throughout (no array of every sample as JavaScript numbers: a pool of 10⁶ samples would leave tens of
  // megabytes of garbage per call); the same draws in the same order as before, so the same subsets
  if (strategy === 'random') {
    const all = new Int32Array(S);
    for (let s = 0; s < S; s++) all[s] = s;
    return { samples: shuffle(all, rng).slice(0, budget), weights: null };
  }
  const byCat = samplesByCategory(mat);
  const nCat = byCat.sizes.length;
  const members = (c: number) => byCat.idx.subarray(byCat.ptr[c]!, byCat.ptr[c + 1]!);
  const alloc = allocate(byCat.sizes, budget);
  if (strategy === 'stratified') return { samples: concat(Array.from({ length: nCat }, (_, c) => shuffle(members(c).slice(), rng).subarray(0, alloc[c]!))), weights: null };
  const fit = irt ?? fit2PL(mat, known);
  if (strategy === 'irt-anchors') {
    const emb = new Float64Array(2 * S);
    for (let s = 0; s < S; s++) {
      emb[2 * s] = fit.alpha[s]!;
      emb[2 * s + 1] = fit.beta[s]!;
    }
    const { assign, centroids } = kMeans(emb, 2, budget, rng, 30);
    const anchor = new Int32Array(budget).fill(-1), best = new Float64Array(budget).fill(Infinity), size = new Float64Array(budget);
    for (let s = 0; s < S; s++) {
      const j = assign[s]!;
      size[j]!++;
      const d = (emb[2 * s]! - centroids[2 * j]!) ** 2 + (emb[2 * s + 1]! - centroids[2 * j + 1]!) ** 2;
      if (d < best[j]!) {
        best[j] = d;
        anchor[j] = s;
      }
    }
    const keep = Array.from({ length: budget }, (_, j) => j).filter((j) => anchor[j]! >= 0);
    return { samples: Int32Array.from(keep, (j) => anchor[j]!), weights: Float64Array.from(keep, (j) => size[j]!) };
  }
  const info = irt && information ? information : itemInformation(fit);
  if (strategy === 'irt-information') {
    const key = new Float64Array(S);
    for (let s = 0; s < S; s++) key[s] = info[s]! + 1e-12 * rng.float();
    // per category, the alloc[c] largest keys, largest first, equal keys in sample order (a stable sort's first ones)
    return { samples: concat(Array.from({ length: nCat }, (_, c) => topByKey(key, alloc[c]!, members(c)))), weights: null };
  }
  // irt-sampled: Efraimidis–Spirakis keys u^(1/w), the b largest (log form; a floor keeps zero-information samples possible);
  // ties (none in practice) to the smaller index
  let floor = 0;
  for (const x of info) floor = Math.max(floor, x);
  floor *= 1e-3;
  const keys = new Float64Array(S);
  for (let s = 0; s < S; s++) keys[s] = Math.log(1 - rng.float()) / Math.max(info[s]!, floor, 1e-300);
  return { samples: topByKey(keys, budget), weights: null };
}

/**
 * The indices of the `b` largest keys, largest first (equal keys: smaller index first): what a stable sort of all
 * indices by descending key puts first, found by keeping a sorted buffer of the best b. `among`: only these indices
 * (ascending), else all.
 */
function topByKey(keys: Float64Array, b: number, among: Int32Array | null = null): Int32Array {
  const before = (i: number, j: number) => keys[i]! > keys[j]! || (keys[i] === keys[j] && i < j);
  b = Math.min(b, among ? among.length : keys.length);
  const top = new Int32Array(b);
  if (b === 0) return top;
  let n = 0;
  for (let q = 0, N = among ? among.length : keys.length; q < N; q++) {
    const i = among ? among[q]! : q;
    if (n === b && !before(i, top[b - 1]!)) continue;
    let k = n < b ? n++ : b - 1;
    while (k > 0 && before(i, top[k - 1]!)) {
      top[k] = top[k - 1]!;
      k--;
    }
    top[k] = i;
  }
  return top;
}

/** The sample indices of {@link chooseSubset} (kept for callers that need only them). */
export function chooseSamples(mat: AnyBinaryMatrix, budget: number, strategy: SubsetStrategy, rng: Rng, known: Uint8Array | null = null): Int32Array {
  return chooseSubset(mat, budget, strategy, rng, known).samples;
}

/**
 * Per-model weighted mean of the values on the subset's samples (weights renormalised over measured cells), summed
 * in the subset's order. Either form of the matrix (a sparse one is read into a dense subset × models block first).
 */
export function weightedScores(mat: AnyBinaryMatrix, subset: Subset): Float64Array {
  const M = mat.models.length;
  let S = mat.sampleKeys.length, values: Float32Array, col = (k: number) => subset.samples[k]!;
  if (isSparse(mat)) {
    // values[m * b + k]: model m on the subset's k-th sample
    const b = subset.samples.length;
    values = new Float32Array(M * b).fill(NaN);
    subset.samples.forEach((it, k) => {
      for (let q = mat.samplePtr[it]!; q < mat.samplePtr[it + 1]!; q++) values[mat.cellModel[q]! * b + k] = mat.cellValue[q]!;
    });
    S = b;
    col = (k) => k;
  } else values = mat.values;
  return Float64Array.from({ length: M }, (_, m) => {
    let s = 0, w = 0;
    subset.samples.forEach((_it, k) => {
      const v = values[m * S + col(k)]!;
      if (Number.isNaN(v)) return;
      const wk = subset.weights ? subset.weights[k]! : 1;
      s += wk * v;
      w += wk;
    });
    return w ? s / w : NaN;
  });
}

export interface SubsetRow {
  strategy: SubsetStrategy;
  budget: number;
  /** τ between subset and full rankings of the held-out (new) models, mean and minimum over repetitions. */
  tau_new: number;
  tau_new_min: number;
  /** τ over all models. */
  tau_all: number;
  reps: number;
  /** Mean paired difference τ_new − τ_new(random) over the same splits, and its standard error (null for random). */
  vs_random: number | null;
  vs_random_se: number | null;
  /**
   * One-sided p of "no better than random" at this budget: paired t test of τ_new − τ_new(random) over the splits
   * (t = vs_random / vs_random_se, reps − 1 degrees of freedom), and the same Holm-adjusted over every non-random
   * row of the call (all strategies × budgets: a strategy is chosen by looking at all of them). Null for random.
   */
  p_vs_random: number | null;
  p_vs_random_adjusted: number | null;
  /**
   * Kept: the strategy beats random at this budget — `p_vs_random_adjusted` ≤ `alpha` (default 0.05). Null for
   * random itself; false means "use random here". (Until this rule, "kept" was Δ > 2 SE per row with no adjustment:
   * over 20 rows about one strategy in two runs was kept by chance.)
   */
  beats_random: boolean | null;
}

/**
 * τ achieved by each strategy and budget. Rankings on the subset are Plackett–Luce θ on the chosen samples
 * (`irt-anchors`: weighted anchor accuracy) vs Plackett–Luce θ on all samples (`method: 'mean'` uses mean scores
 * for both). Each repetition draws one known/new split (half the models each, the same for every budget and
 * strategy; the 2PL of the IRT strategies is fitted once per split) and a new selection. Seeded.
 */
export function cheaperEvaluation(
  matrix: AnyBinaryMatrix,
  opts: { budgets: number[]; strategies?: SubsetStrategy[]; reps?: number; seed?: number; method?: 'plackett-luce' | 'mean'; alpha?: number },
): SubsetRow[] {
  // The sparse form throughout (a dense matrix is converted once): every function reads the measured cells in the
  // same order from either form, so the rows are the same; the work and memory follow the measured cells.
  const mat = sparseOf(matrix);
  const alpha = opts.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const strategies: SubsetStrategy[] = [...(opts.strategies ?? DEFAULT_SUBSET_STRATEGIES)];
  for (const s of strategies) if (!SUBSET_STRATEGIES.includes(s)) throw new RangeError(`unknown subset strategy "${s}"; known: ${SUBSET_STRATEGIES.join(', ')}`);
  if (!strategies.includes('random')) strategies.unshift('random'); // the baseline every strategy is judged against
  const reps = opts.reps ?? 5;
  const seed = opts.seed ?? 0;
  const M = mat.models.length;
  const plOn = (subset: Int32Array | null) => plScores(choicesFromMatrix(mat, null, 'full', subset, false));
  const full = opts.method === 'mean' ? meanScores(mat, null) : plOn(null);
  const scoreOf = (sub: Subset) => (sub.weights || opts.method === 'mean' ? weightedScores(mat, sub) : plOn(sub.samples));
  const tn = new Map<string, number[]>(), ta = new Map<string, number[]>();
  const cell = (m: Map<string, number[]>, s: string, b: number) => {
    const k = `${s}\u0000${b}`;
    let a = m.get(k);
    if (!a) m.set(k, (a = []));
    return a;
  };
  const needsIrt = strategies.some((s) => s.startsWith('irt-'));
  for (let r = 0; r < reps; r++) {
    const split = createRng(seed * 7919 + r);
    const perm = shuffle(Array.from({ length: M }, (_, m) => m), split);
    const known = new Uint8Array(M);
    for (const m of perm.slice(0, Math.floor(M / 2))) known[m] = 1;
    const newIdx = perm.slice(Math.floor(M / 2));
    // the previous repetition's 2PL fit and subsets (tens of megabytes on a pool of 10⁶ samples) freed before the
    // next fit, rather than whenever V8's heap pressure says (measured: the peak rose by ~190 MB at 10M measurements)
    if (r > 0 && mat.cellModel.length > 1e6) collectGarbage();
    const irt = needsIrt ? fit2PL(mat, known) : null;
    const information = irt ? itemInformation(irt) : null;
    for (const budget of opts.budgets) {
      strategies.forEach((strategy, k) => {
        const rng = createRng(seed * 7919 + r * 104_729 + budget * 31 + k * 7_777_777);
        const sc = scoreOf(chooseSubset(mat, budget, strategy, rng, known, irt, information));
        const fin = (x: number) => (Number.isNaN(x) ? -1e9 : x); // a model with no measured sample ranks last
        cell(tn, strategy, budget).push(kendallTau(newIdx.map((m) => fin(sc[m]!)), newIdx.map((m) => full[m]!)));
        cell(ta, strategy, budget).push(kendallTau(Array.from(sc, fin), full));
      });
      // each strategy's per-sample arrays (8 bytes a sample, several each) released: collected now on a large pool,
      // where V8 would let them pile up to its external-memory limit (measured at 10M: peaks of +30 to +70 MB)
      if (mat.cellModel.length > 1e6) collectGarbage();
    }
  }
  const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
  const rows: SubsetRow[] = [];
  for (const budget of opts.budgets) {
    const base = cell(tn, 'random', budget);
    for (const strategy of strategies) {
      const t = cell(tn, strategy, budget);
      let vs: number | null = null, se: number | null = null;
      if (strategy !== 'random') {
        const d = t.map((x, i) => x - base[i]!);
        vs = mean(d);
        se = d.length > 1 ? Math.sqrt(d.reduce((a, x) => a + (x - vs!) ** 2, 0) / (d.length - 1) / d.length) : Infinity;
      }
      rows.push({
        strategy, budget, tau_new: mean(t), tau_new_min: Math.min(...t), tau_all: mean(cell(ta, strategy, budget)), reps,
        vs_random: vs, vs_random_se: se, p_vs_random: strategy === 'random' ? null : oneSidedP(vs!, se!, reps - 1), p_vs_random_adjusted: null, beats_random: null,
      });
    }
  }
  // Holm over every non-random row: "kept somewhere" is decided after looking at all budgets and strategies.
  const tested = rows.filter((r) => r.strategy !== 'random');
  const adj = holm(tested.map((r) => r.p_vs_random!));
  tested.forEach((r, i) => {
    r.p_vs_random_adjusted = adj[i]!;
    r.beats_random = adj[i]! <= alpha;
  });
  return rows;
}

/** One-sided p of a paired mean difference d with standard error se being ≤ 0: P(T ≥ d/se), T ~ Student t(df). 1 when it cannot be tested. */
function oneSidedP(d: number, se: number, df: number): number {
  if (!(df >= 1) || !Number.isFinite(se)) return 1;
  if (se === 0) return d > 0 ? 0 : 1;
  const t = d / se;
  const two = studentTTwoSided(t, df);
  return t > 0 ? two / 2 : 1 - two / 2;
}
