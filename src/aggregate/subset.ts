/**
 * Cheaper evaluation: given a pool (a models × samples matrix) and a budget of b samples, choose the samples that
 * best preserve the full ranking, and measure the Kendall τ achieved.
 *
 * Sober protocol: the models are split at random into *known* models (already in the pool, used to choose the
 * samples) and *new* models (to be evaluated on the b samples only). τ is reported for the new models (ranking on
 * the b samples vs ranking on all samples), so a strategy cannot win by memorising the models it is scored on;
 * τ over all models is reported too.
 *
 * Strategies:
 * - `random`: b samples uniformly at random.
 * - `stratified`: proportional allocation over categories (largest remainder), random within a category.
 * - `informative` (discrimination between close models): order the known models by their full-data mean score; a
 *   sample scores the number of adjacent pairs (k, k+1) in that order whose outcomes differ on it (both measured);
 *   the b highest-scoring samples are taken (random tie-break), allocated over categories as in `stratified`.
 *   Items that separate neighbours are the ones that decide close calls (cf. item discrimination in item
 *   response theory; Polo et al. 2024 "tinyBenchmarks" for the IRT view of choosing evaluation items).
 */
import { createRng, type Rng } from '../core/rng.ts';
import { kendallTau } from './baselines.ts';
import { choicesFromMatrix, meanScores, plScores, type BinaryMatrix } from './validate.ts';

export type SubsetStrategy = 'random' | 'stratified' | 'informative';

function shuffle<T>(a: T[], rng: Rng): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.index(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
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

/**
 * Choose `budget` sample indices. `known` marks the models whose outcomes may be used (informative strategy).
 * Errors: RangeError when budget < 1 or > number of samples.
 */
export function chooseSamples(mat: BinaryMatrix, budget: number, strategy: SubsetStrategy, rng: Rng, known: Uint8Array | null = null): Int32Array {
  const S = mat.sampleKeys.length, M = mat.models.length;
  if (!(budget >= 1 && budget <= S)) throw new RangeError(`budget must be between 1 and ${S}, got ${budget}`);
  const cats = mat.categories ?? new Int32Array(S);
  const nCat = Math.max(1, mat.categoryNames.length);
  const byCat: number[][] = Array.from({ length: nCat }, () => []);
  for (let s = 0; s < S; s++) byCat[cats[s]!]!.push(s);
  if (strategy === 'random') return Int32Array.from(shuffle(Array.from({ length: S }, (_, s) => s), rng).slice(0, budget));
  let scoreOf: ((s: number) => number) | null = null;
  if (strategy === 'informative') {
    const means = meanScores(mat, null);
    const ks = Array.from({ length: M }, (_, m) => m).filter((m) => (!known || known[m]) && !Number.isNaN(means[m]!)).sort((a, b) => means[b]! - means[a]!);
    const score = new Float64Array(S);
    for (let k = 0; k + 1 < ks.length; k++) {
      const a = ks[k]!, b = ks[k + 1]!;
      for (let s = 0; s < S; s++) {
        const va = mat.values[a * S + s]!, vb = mat.values[b * S + s]!;
        if (!Number.isNaN(va) && !Number.isNaN(vb) && va !== vb) score[s]! += 1;
      }
    }
    const jitter = Float64Array.from({ length: S }, () => rng.float());
    scoreOf = (s) => score[s]! + 1e-3 * jitter[s]!;
  }
  const alloc = allocate(byCat.map((c) => c.length), budget);
  const out: number[] = [];
  byCat.forEach((list, c) => {
    const l = scoreOf ? [...list].sort((x, y) => scoreOf!(y) - scoreOf!(x)) : shuffle([...list], rng);
    out.push(...l.slice(0, alloc[c]!));
  });
  return Int32Array.from(out);
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
}

/**
 * τ achieved by each strategy and budget. Rankings are Plackett–Luce θ on the chosen samples vs on all samples
 * (`method: 'mean'` uses mean scores instead). Each repetition draws a new known/new split (half the models each)
 * and a new selection. Seeded.
 */
export function cheaperEvaluation(
  mat: BinaryMatrix,
  opts: { budgets: number[]; strategies?: SubsetStrategy[]; reps?: number; seed?: number; method?: 'plackett-luce' | 'mean' },
): SubsetRow[] {
  const strategies = opts.strategies ?? ['random', 'stratified', 'informative'];
  const reps = opts.reps ?? 5;
  const M = mat.models.length;
  const score = (subset: Int32Array | null) => (opts.method === 'mean' ? meanScores(mat, null, subset) : plScores(choicesFromMatrix(mat, null, 'full', subset)));
  const full = score(null);
  const rows: SubsetRow[] = [];
  for (const budget of opts.budgets) {
    for (const strategy of strategies) {
      const tn: number[] = [], ta: number[] = [];
      for (let r = 0; r < reps; r++) {
        const rng = createRng((opts.seed ?? 0) * 7919 + budget * 31 + r);
        const perm = shuffle(Array.from({ length: M }, (_, m) => m), rng);
        const known = new Uint8Array(M);
        for (const m of perm.slice(0, Math.floor(M / 2))) known[m] = 1;
        const subset = chooseSamples(mat, budget, strategy, rng, known);
        const sc = score(subset);
        const newIdx = perm.slice(Math.floor(M / 2));
        tn.push(kendallTau(newIdx.map((m) => sc[m]!), newIdx.map((m) => full[m]!)));
        ta.push(kendallTau(sc, full));
      }
      const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
      rows.push({ strategy, budget, tau_new: mean(tn), tau_new_min: Math.min(...tn), tau_all: mean(ta), reps });
    }
  }
  return rows;
}
