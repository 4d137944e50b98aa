/**
 * Learnability (ACID: active data curation as distillation; after Mindermann et al. 2022's RHO-loss): an item is
 * worth learning from when the student still finds it hard but a reference model finds it easy,
 *
 *     learnability_i = loss_student(i) − loss_reference(i)
 *
 * (losses in the same unit, e.g. negative log-likelihood per byte; higher = more learnable). ACID scores batches
 * online and keeps the top fraction; this module does the same offline over a pool of items and says what the
 * selection did, against random subsets of the same size:
 * - difficulty: mean student loss, reference loss and learnability on the selected subset vs a random one;
 * - rankings: each evaluated model's mean score on the selected subset vs the full pool and random subsets, and the
 *   Kendall τ between the ranking on the subset and on the full pool.
 *
 * Uncertainty: the selection itself is redone inside a bootstrap over items (each replicate resamples the pool with
 * replacement, selects its top fraction and draws a random subset of the same size), so the interval of "selected
 * minus random" covers both which items the pool held and which the random subset drew. Random-subset figures are
 * also given as the 2.5–97.5% range over `draws` random subsets of the real pool.
 */
import { kendallTau } from './kendall.ts';
import { createRng, type Rng } from '../core/rng.ts';
import { quantileSorted } from './quantile.ts';

/** One item's losses under the two models (lower = better fit). */
export interface LearnabilityItem {
  id: string;
  student: number;
  reference: number;
}

/** An item with its learnability, in ranking order (1 = most learnable). */
export interface RankedItem extends LearnabilityItem {
  learnability: number;
  rank: number;
}

/** Items by learnability, highest first (ties by id, so the order is reproducible). Non-finite losses are refused. */
export function rankByLearnability(items: readonly LearnabilityItem[]): RankedItem[] {
  for (const it of items) {
    if (!Number.isFinite(it.student) || !Number.isFinite(it.reference)) throw new RangeError(`item ${it.id}: losses must be finite (student ${it.student}, reference ${it.reference})`);
  }
  return items
    .map((it) => ({ ...it, learnability: it.student - it.reference, rank: 0 }))
    .sort((a, b) => b.learnability - a.learnability || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((it, i) => ({ ...it, rank: i + 1 }));
}

/** Size of the top-`fraction` subset of n items: round(fraction · n), at least 1. */
export function subsetSize(n: number, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`fraction must be in (0, 1], got ${fraction}`);
  return Math.max(1, Math.min(n, Math.round(fraction * n)));
}

/** A figure with a 95% interval. */
export interface Estimate {
  value: number;
  ci95: { lo: number; hi: number };
}

/** One quantity on the selected subset against random subsets of the same size. */
export interface SubsetContrast {
  /** Mean on the selected subset, with a bootstrap interval over the selected items. */
  selected: Estimate;
  /** Mean on the full pool (what a random subset gives on average), with the 2.5–97.5% range of random subsets' means. */
  random: Estimate;
  /** Selected minus random, with the interval of the bootstrap that redoes the selection. */
  difference: Estimate;
}

/** Per-item scores of an evaluated model (e.g. accuracy averaged over epochs, or a loss). */
export interface ModelScores {
  name: string;
  scores: ReadonlyMap<string, number>;
  /** Default true; false for losses. */
  higherIsBetter?: boolean;
}

export interface ModelOnSubsets {
  name: string;
  full: Estimate;
  selected: Estimate;
  random: Estimate;
  /** Rank among the models (1 = best) on the full pool and on the selected subset. */
  rank_full: number;
  rank_selected: number;
}

export interface LearnabilitySelection {
  items: number;
  fraction: number;
  /** Items selected (round(fraction · items)). */
  k: number;
  /** Selected item ids, most learnable first. */
  selected: string[];
  difficulty: { student_loss: SubsetContrast; reference_loss: SubsetContrast; learnability: SubsetContrast };
  /** Present when models were given (at least two for the τ figures). */
  rankings: {
    models: ModelOnSubsets[];
    /** Kendall τ-b between the models' means on the selected subset and on the full pool (interval: the bootstrap). */
    tau_selected: Estimate;
    /** Kendall τ-b between a random subset and the full pool: mean and 2.5–97.5% range over the random draws. */
    tau_random: Estimate;
  } | null;
  seed: number;
  replicates: number;
  draws: number;
  method: string;
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : NaN;
}

function interval(values: number[] | Float64Array): { lo: number; hi: number } {
  const s = Float64Array.from(values).filter((v) => Number.isFinite(v)).sort();
  return { lo: quantileSorted(s, 0.025), hi: quantileSorted(s, 0.975) };
}

/** k distinct positions of [0, n), uniformly (partial Fisher–Yates on a scratch array restored afterwards). */
function drawPositions(rng: Rng, n: number, k: number, scratch: Int32Array): Int32Array {
  const out = new Int32Array(k);
  for (let i = 0; i < k; i++) {
    const j = i + rng.index(n - i);
    const t = scratch[i]!;
    scratch[i] = scratch[j]!;
    scratch[j] = t;
    out[i] = scratch[i]!;
  }
  for (let i = 0; i < n; i++) scratch[i] = i;
  return out;
}

function ranksHigherBetter(values: number[]): number[] {
  return values.map((v) => 1 + values.filter((w) => w > v).length);
}

/**
 * Rank `items` by learnability, select the top `fraction`, and compare the selection with random subsets of the
 * same size (see the module comment). `models` (optional): per-item scores of evaluated models, for the rankings;
 * an item a model has no score for is left out of that model's means.
 * Defaults: `seed` 0, `replicates` 1000 (bootstrap), `draws` 1000 (random subsets of the real pool).
 * Errors: RangeError for fewer than 2 items, a fraction outside (0, 1], non-finite losses.
 */
export function selectByLearnability(
  items: readonly LearnabilityItem[],
  opts: { fraction: number; models?: readonly ModelScores[]; seed?: number; replicates?: number; draws?: number },
): LearnabilitySelection {
  const ranked = rankByLearnability(items);
  const n = ranked.length;
  if (n < 2) throw new RangeError('learnability selection needs at least 2 items');
  const k = subsetSize(n, opts.fraction);
  const seed = opts.seed ?? 0;
  const replicates = opts.replicates ?? 1000;
  const draws = opts.draws ?? 1000;
  const models = opts.models ?? [];
  const rng = createRng(seed);

  // Per item (in ranking order): the three quantities and each model's score (NaN when missing).
  const q = [ranked.map((r) => r.student), ranked.map((r) => r.reference), ranked.map((r) => r.learnability)];
  const ms = models.map((m) => {
    const sign = m.higherIsBetter === false ? -1 : 1;
    return { name: m.name, sign, v: ranked.map((r) => m.scores.get(r.id) ?? NaN) };
  });
  const meanAt = (v: number[], idx: ArrayLike<number>) => {
    let s = 0, c = 0;
    for (let i = 0; i < idx.length; i++) {
      const x = v[idx[i]!]!;
      if (Number.isFinite(x)) (s += x), c++;
    }
    return c ? s / c : NaN;
  };
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const top = all.subarray(0, k);
  const fullMeans = ms.map((m) => meanAt(m.v, all));
  const selMeans = ms.map((m) => meanAt(m.v, top));
  const tau = (a: number[], b: number[]) => (ms.length >= 2 ? kendallTau(a.map((x, i) => x * ms[i]!.sign), b.map((x, i) => x * ms[i]!.sign)) : NaN);

  // Random subsets of the real pool.
  const scratch = Int32Array.from({ length: n }, (_, i) => i);
  const randQ = q.map(() => new Float64Array(draws));
  const randM = ms.map(() => new Float64Array(draws));
  const randTau = new Float64Array(draws);
  for (let d = 0; d < draws; d++) {
    const idx = drawPositions(rng, n, k, scratch);
    q.forEach((v, j) => (randQ[j]![d] = meanAt(v, idx)));
    const means = ms.map((m, j) => (randM[j]![d] = meanAt(m.v, idx)));
    randTau[d] = tau(means, fullMeans);
  }

  // The bootstrap that redoes the selection: resample items, take the resample's top k (items are in ranking order,
  // so the top k of a resample are found by walking the counts), draw k of the resample at random.
  const bootDiff = q.map(() => new Float64Array(replicates));
  const bootSel = q.map(() => new Float64Array(replicates));
  const bootModelSel = ms.map(() => new Float64Array(replicates));
  const bootModelFull = ms.map(() => new Float64Array(replicates));
  const bootTau = new Float64Array(replicates);
  const counts = new Int32Array(n);
  const drawn = new Int32Array(n);
  const scratchN = Int32Array.from({ length: n }, (_, i) => i);
  const sel = new Int32Array(k);
  for (let r = 0; r < replicates; r++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const j = rng.index(n);
      counts[j]!++;
      drawn[i] = j;
    }
    let filled = 0;
    for (let i = 0; i < n && filled < k; i++) for (let c = 0; c < counts[i]! && filled < k; c++) sel[filled++] = i;
    const pos = drawPositions(rng, n, k, scratchN);
    const rnd = Int32Array.from(pos, (p) => drawn[p]!);
    q.forEach((v, j) => {
      const s = meanAt(v, sel);
      bootSel[j]![r] = s;
      bootDiff[j]![r] = s - meanAt(v, rnd);
    });
    const selM = ms.map((m, j) => (bootModelSel[j]![r] = meanAt(m.v, sel)));
    const fullM = ms.map((m, j) => (bootModelFull[j]![r] = meanAt(m.v, drawn)));
    bootTau[r] = tau(selM, fullM);
  }

  const contrast = (j: number): SubsetContrast => {
    const s = meanAt(q[j]!, top);
    const f = mean(q[j]!);
    return {
      selected: { value: s, ci95: interval(bootSel[j]!) },
      random: { value: f, ci95: interval(randQ[j]!) },
      difference: { value: s - f, ci95: interval(bootDiff[j]!) },
    };
  };

  let rankings: LearnabilitySelection['rankings'] = null;
  if (ms.length) {
    const rf = ranksHigherBetter(fullMeans.map((x, i) => x * ms[i]!.sign));
    const rs = ranksHigherBetter(selMeans.map((x, i) => x * ms[i]!.sign));
    rankings = {
      models: ms.map((m, j) => ({
        name: m.name,
        full: { value: fullMeans[j]!, ci95: interval(bootModelFull[j]!) },
        selected: { value: selMeans[j]!, ci95: interval(bootModelSel[j]!) },
        random: { value: mean(randM[j]!), ci95: interval(randM[j]!) },
        rank_full: rf[j]!,
        rank_selected: rs[j]!,
      })),
      tau_selected: { value: tau(selMeans, fullMeans), ci95: interval(bootTau) },
      tau_random: { value: mean(Float64Array.from(randTau).filter((x) => Number.isFinite(x))), ci95: interval(randTau) },
    };
  }
  return {
    items: n, fraction: opts.fraction, k, selected: ranked.slice(0, k).map((r) => r.id),
    difficulty: { student_loss: contrast(0), reference_loss: contrast(1), learnability: contrast(2) },
    rankings, seed, replicates, draws,
    method: 'top-fraction selection by student − reference loss; intervals: percentile bootstrap over items with the selection redone per replicate; random: 2.5–97.5% range over random subsets of the same size',
  };
}
