/**
 * Validation harness (ONEBench, Ghosh et al. 2024, §4 "sparse measurements": rankings should survive heavy
 * missingness): on a models × samples binary matrix, drop a fraction of the measurements and compare each
 * aggregation method's ranking with a reference (the ground truth for synthetic data, the full-data ranking of the
 * complete block for real data) by Kendall τ-b. Also the synthetic known-truth generator and the dense-matrix
 * helpers used by the cheaper-evaluation experiment and the benchmark.
 *
 * Why the listwise Plackett–Luce fit loses to the plain mean when most measurements are missing (measured in
 * bench/validate-subset.ts): on binary data its orderings say "every model right on this sample beat every model
 * wrong on it" — the conditional likelihood of the Rasch model given each sample's number of right answers. It
 * conditions each sample's difficulty away, and with it every ordering that has one model only or where all
 * models agree: on MMLU-Pro 7% of the measurements at full data, 46% at 90% removed, 90% at 99% removed. The mean
 * uses all of them. Prior strength and tie convention move τ by a few hundredths; they cannot bring back the
 * dropped measurements. `plackett-luce` here therefore fits the samples as players too (irt.ts,
 * `fitSamplePlayers`): every measurement is a game between the model and the sample, so it keeps every
 * measurement like the mean does and still corrects for which samples a model happened to be measured on.
 * `pl-orderings` is the listwise fit of `assay rank`, for comparison.
 */
import type { PoolMeasurement } from '../core/pool-measurement.ts';
import { createRng, type Rng } from '../core/rng.ts';
import { eloRatings, kendallTau } from './baselines.ts';
import { ChoiceBuilder, KeyTable, sufficientStats, type ChoiceData, type TieConvention } from './choices.ts';
import { fitSamplePlayers } from './irt.ts';
import { fitPlackettLuce } from './plackett-luce.ts';

export type { AnyBinaryMatrix, BinaryMatrix, SparseBinaryMatrix } from './matrix.ts';
import { isSparse, sampleKeyAt, type AnyBinaryMatrix, type BinaryMatrix, type SampleKeys, type SparseBinaryMatrix } from './matrix.ts';

/**
 * Keep-masks: for a dense matrix one byte per model × sample cell (`keep[m * S + s]`), for a sparse one one byte per
 * measured cell, in the matrix's cell order (`keep[k]` for cell k). Errors: RangeError when the length does not fit.
 */
function checkKeep(mat: AnyBinaryMatrix, keep: Uint8Array | null): void {
  if (!keep) return;
  const want = isSparse(mat) ? mat.cellModel.length : mat.models.length * mat.sampleKeys.length;
  if (keep.length !== want) throw new RangeError(`a keep-mask of ${keep.length} entries for a matrix of ${want} ${isSparse(mat) ? 'measured cells' : 'cells'}`);
}

/** Standard normal draw (Box–Muller) from a seeded Rng. */
export function normal(rng: Rng): number {
  const u = 1 - rng.float();
  const v = rng.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Synthetic binary data with known truth: a two-parameter logistic item-response model (Birnbaum 1968),
 * P(model m right on sample s) = σ(a_s (θ_m − b_s)), θ_m ~ N(0, spread²), b_s ~ N(0, 1.5²), a_s = exp(N(0, 0.3²)).
 * Returns the matrix and the true abilities θ (the ground-truth ranking). Seeded.
 */
export function syntheticBinary(opts: { models: number; samples: number; seed: number; spread?: number; categories?: number }): { matrix: BinaryMatrix; truth: Float64Array } {
  const rng = createRng(opts.seed);
  const M = opts.models, S = opts.samples;
  const spread = opts.spread ?? 1;
  const truth = Float64Array.from({ length: M }, () => spread * normal(rng));
  const values = new Float32Array(M * S);
  const nCat = opts.categories ?? 0;
  const categories = nCat ? new Int32Array(S) : null;
  for (let s = 0; s < S; s++) {
    const b = 1.5 * normal(rng);
    const a = Math.exp(0.3 * normal(rng));
    if (categories) categories[s] = rng.index(nCat);
    for (let m = 0; m < M; m++) values[m * S + s] = rng.float() < 1 / (1 + Math.exp(-a * (truth[m]! - b))) ? 1 : 0;
  }
  return {
    matrix: { models: Array.from({ length: M }, (_, m) => `model-${m}`), sampleKeys: Array.from({ length: S }, (_, s) => `synthetic/${s}`), values, categories, categoryNames: Array.from({ length: nCat }, (_, c) => `cat-${c}`) },
    truth,
  };
}

/**
 * Dense matrix from binary measurements (one source; repeats averaged then rounded at 0.5 is NOT done: fractional
 * values are kept). `categoryOf` gives a sample's category (for stratification). Models and samples in first-seen order.
 */
export function matrixFromMeasurements(ms: Iterable<PoolMeasurement>, categoryOf: (key: string) => string | null = () => null): BinaryMatrix {
  const models = new Map<string, number>();
  const samples = new Map<string, number>();
  const triples: [number, number, number][] = [];
  for (const m of ms) {
    if (m.kind !== 'binary') continue;
    let a = models.get(m.model);
    if (a === undefined) models.set(m.model, (a = models.size));
    let s = samples.get(m.sample_key);
    if (s === undefined) samples.set(m.sample_key, (s = samples.size));
    triples.push([a, s, m.value]);
  }
  const M = models.size, S = samples.size;
  const values = new Float32Array(M * S).fill(NaN);
  for (const [a, s, v] of triples) values[a * S + s] = v;
  const keys = [...samples.keys()];
  const catIndex = new Map<string, number>();
  const categories = new Int32Array(S);
  keys.forEach((k, s) => {
    const c = categoryOf(k) ?? '';
    let ci = catIndex.get(c);
    if (ci === undefined) catIndex.set(c, (ci = catIndex.size));
    categories[s] = ci;
  });
  return { models: [...models.keys()], sampleKeys: keys, values, categories, categoryNames: [...catIndex.keys()] };
}

/**
 * Choice data from a matrix, keeping only cells with keep[m * S + s] = 1 (null = all) and only samples in
 * `sampleSubset` (null = all). Each sample is one listwise ordering (models ascending). A sparse matrix gives the
 * same choice data as its dense form. Errors: RangeError for a keep-mask with a sparse matrix (masks are dense).
 */
export function choicesFromMatrix(mat: AnyBinaryMatrix, keep: Uint8Array | null, ties: TieConvention = 'full', sampleSubset: Int32Array | null = null, pairwiseMatrix = false): ChoiceData {
  const M = mat.models.length, S = mat.sampleKeys.length;
  const sp = isSparse(mat) ? mat : null;
  // every sample of a sparse matrix with its keys in a KeyTable (SparseMatrixBuilder's) has cells, so all samples make
  // the clusters in sample order: the table is shared, not interned again (tens of megabytes at 10⁶ samples)
  let whole = sp !== null && !sampleSubset && !keep && sp.sampleKeys instanceof KeyTable;
  for (let s = 0; whole && s < S; s++) if (sp!.samplePtr[s + 1] === sp!.samplePtr[s]) whole = false;
  const b = new ChoiceBuilder(ties, { pairwiseMatrix, clusters: whole ? (sp!.sampleKeys as KeyTable) : undefined });
  for (const name of mat.models) b.model(name);
  checkKeep(mat, keep);
  const dense = sp ? null : (mat as BinaryMatrix).values;
  const ms: number[] = [], vs: number[] = [];
  const each = (s: number) => {
    ms.length = 0;
    vs.length = 0;
    if (sp) {
      for (let k = sp.samplePtr[s]!; k < sp.samplePtr[s + 1]!; k++) {
        if (keep && !keep[k]) continue;
        ms.push(sp.cellModel[k]!);
        vs.push(sp.cellValue[k]!);
      }
      return;
    }
    for (let m = 0; m < M; m++) {
      const v = dense![m * S + s]!;
      if (Number.isNaN(v) || (keep && !keep[m * S + s])) continue;
      ms.push(m);
      vs.push(v);
    }
  };
  const list = sampleSubset ?? Int32Array.from({ length: S }, (_, s) => s);
  for (const s of list) {
    each(s);
    if (!ms.length) continue;
    b.addListwise(whole ? b.clusterAt(s) : b.cluster(sampleKeyAt(mat.sampleKeys, s)), ms, vs);
  }
  return b.build();
}

/**
 * Keep-mask after dropping a fraction `p` of the measured cells.
 * - `random`: each measured cell dropped independently with probability p.
 * - `per-model`: models get different drop rates, evenly spread over [p − h, p + h] with h = min(p, 1 − p) and
 *   assigned in a random order (mean rate p), so some models keep almost everything and others almost nothing —
 *   the uneven coverage of a pool fed by different sources.
 */
export function dropMask(mat: AnyBinaryMatrix, p: number, mode: 'random' | 'per-model', rng: Rng): Uint8Array {
  const M = mat.models.length, S = mat.sampleKeys.length;
  const sp = isSparse(mat) ? mat : null;
  const keep = new Uint8Array(sp ? sp.cellModel.length : M * S);
  const rates = new Float64Array(M).fill(p);
  if (mode === 'per-model' && M > 1) {
    const h = Math.min(p, 1 - p);
    const order = Array.from({ length: M }, (_, i) => i);
    for (let i = M - 1; i > 0; i--) {
      const j = rng.index(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    order.forEach((m, k) => (rates[m] = p - h + (2 * h * k) / (M - 1)));
  }
  if (sp) {
    // the same draws as the dense form: model by model, each model's cells in sample order
    const { ptr, cells } = cellsByModel(sp);
    for (let m = 0; m < M; m++) {
      for (let q = ptr[m]!; q < ptr[m + 1]!; q++) {
        const k = cells[q]!;
        if (!Number.isNaN(sp.cellValue[k]!) && rng.float() >= rates[m]!) keep[k] = 1;
      }
    }
    return keep;
  }
  const values = (mat as BinaryMatrix).values;
  for (let m = 0; m < M; m++) for (let s = 0; s < S; s++) if (!Number.isNaN(values[m * S + s]!) && rng.float() >= rates[m]!) keep[m * S + s] = 1;
  return keep;
}

const byModelCache = new WeakMap<SparseBinaryMatrix, { ptr: Int32Array; cells: Int32Array }>();

/** A sparse matrix's cells grouped by model, each model's in sample order (CSC: model m's are cells[ptr[m] .. ptr[m+1])). Cached per matrix. */
function cellsByModel(sp: SparseBinaryMatrix): { ptr: Int32Array; cells: Int32Array } {
  let r = byModelCache.get(sp);
  if (r) return r;
  const M = sp.models.length, n = sp.cellModel.length, S = sp.sampleKeys.length;
  const ptr = new Int32Array(M + 1), cells = new Int32Array(n);
  for (let k = 0; k < n; k++) ptr[sp.cellModel[k]! + 1]!++;
  for (let m = 0; m < M; m++) ptr[m + 1]! += ptr[m]!;
  const pos = ptr.slice(0, M);
  for (let s = 0; s < S; s++) for (let k = sp.samplePtr[s]!; k < sp.samplePtr[s + 1]!; k++) cells[pos[sp.cellModel[k]!]!++] = k;
  byModelCache.set(sp, (r = { ptr, cells }));
  return r;
}

/**
 * Per-model mean of kept values (NaN when a model has none). A sparse matrix (no keep-mask, no subset) gives the
 * same means as its dense form (each model's values summed in sample order). Errors: RangeError for a sparse matrix
 * with a keep-mask or a subset.
 */
export function meanScores(mat: AnyBinaryMatrix, keep: Uint8Array | null, sampleSubset: Int32Array | null = null): Float64Array {
  const M = mat.models.length, S = mat.sampleKeys.length;
  const out = new Float64Array(M);
  checkKeep(mat, keep);
  if (isSparse(mat)) {
    if (sampleSubset) throw new RangeError('a sample subset needs the dense matrix');
    const n = new Float64Array(M);
    for (let k = 0; k < mat.cellModel.length; k++) {
      if (keep && !keep[k]) continue;
      const m = mat.cellModel[k]!;
      out[m]! += mat.cellValue[k]!;
      n[m]!++;
    }
    for (let m = 0; m < M; m++) out[m] = n[m] ? out[m]! / n[m]! : NaN;
    return out;
  }
  for (let m = 0; m < M; m++) {
    let s0 = 0, n = 0;
    const visit = (s: number) => {
      const v = mat.values[m * S + s]!;
      if (Number.isNaN(v) || (keep && !keep[m * S + s])) return;
      s0 += v;
      n++;
    };
    if (sampleSubset) for (const s of sampleSubset) visit(s);
    else for (let s = 0; s < S; s++) visit(s);
    out[m] = n ? s0 / n : NaN;
  }
  return out;
}

/** Plackett–Luce θ (MM then Newton, prior λ) on choice data (the listwise orderings of `assay rank`). */
export function plScores(d: ChoiceData, prior = 1): Float64Array {
  const st = sufficientStats(d, null);
  return fitPlackettLuce(d.setPtr, d.setIdx, st.wins, st.setMult, { prior }).theta;
}

/**
 * Plackett–Luce θ with the samples as players (the Rasch model, irt.ts `fitSamplePlayers`) on the kept cells of
 * `mat` (keep = null: all) in `sampleSubset` (null: all). Prior λ = 1 on models, 2 on samples. θ is rounded to
 * 1e-6 (the fit converges far beyond that), so models the data cannot tell apart (equal raw scores on a complete
 * matrix) tie exactly instead of by rounding noise.
 */
export function plSampleScores(mat: AnyBinaryMatrix, keep: Uint8Array | null, sampleSubset: Int32Array | null = null): Float64Array {
  checkKeep(mat, keep);
  return fitSamplePlayers(mat, keep, { sampleSubset }).theta.map((t) => Math.round(t * 1e6) / 1e6);
}

/**
 * Restrict a matrix to its complete block: the samples measured on every model (models kept; categories kept).
 * On a complete matrix the mean-score ranking is the one every reasonable method should reproduce (the raw score
 * is sufficient in the Rasch model), so it is the reference for real data; on an incomplete one the full-data
 * mean is itself skewed by which samples each model was measured on (MMLU-Pro: DeepSeek-Coder-V2 lacks 14% of
 * the items).
 */
export function completeBlock(mat: BinaryMatrix): BinaryMatrix;
export function completeBlock(mat: AnyBinaryMatrix): AnyBinaryMatrix;
export function completeBlock(mat: AnyBinaryMatrix): AnyBinaryMatrix {
  const M = mat.models.length, S = mat.sampleKeys.length;
  if (isSparse(mat)) {
    const full: number[] = [];
    for (let s = 0; s < S; s++) if (mat.samplePtr[s + 1]! - mat.samplePtr[s]! === M) full.push(s);
    return columnsOf(mat, full);
  }
  const cols: number[] = [];
  for (let s = 0; s < S; s++) {
    let ok = true;
    for (let m = 0; m < M && ok; m++) ok = !Number.isNaN(mat.values[m * S + s]!);
    if (ok) cols.push(s);
  }
  const T = cols.length;
  const values = new Float32Array(M * T);
  for (let m = 0; m < M; m++) for (let t = 0; t < T; t++) values[m * T + t] = mat.values[m * S + cols[t]!]!;
  return {
    models: mat.models.slice(), sampleKeys: cols.map((s) => mat.sampleKeys[s]!), values,
    categories: mat.categories ? Int32Array.from(cols, (s) => mat.categories![s]!) : null, categoryNames: mat.categoryNames.slice(),
  };
}

/**
 * Aggregation methods the harness compares: `plackett-luce` (samples as players, keeps every measurement),
 * `pl-orderings` (listwise orderings, as `assay rank`), `mean` (plain mean score) and `elo` (online, order-dependent).
 */
export type Method = 'plackett-luce' | 'pl-orderings' | 'mean' | 'elo';

export interface CurveRow {
  mode: 'random' | 'per-model';
  fraction: number;
  method: Method;
  /** Mean, minimum and standard deviation of τ over repetitions. */
  tau: number;
  tau_min: number;
  tau_sd: number;
  reps: number;
  /** Mean kept measurements per repetition. */
  kept: number;
  /**
   * Paired difference τ(method) − τ(mean) over the same drop masks, mean and standard error (null for the mean
   * itself, or when the mean is not among the methods).
   */
  vs_mean: number | null;
  vs_mean_se: number | null;
  /** Which reference τ was taken against, when the caller labels it (`pool validate`: `full-data mean`, `held-out half`, `true abilities`). */
  reference?: string;
}

/** Scores with every model that has no kept measurement set to the lowest score (tied with each other). */
function lastWithoutData(sc: ArrayLike<number>, mat: AnyBinaryMatrix, keep: Uint8Array | null): Float64Array {
  const M = mat.models.length, S = mat.sampleKeys.length;
  const out = Float64Array.from(sc);
  if (isSparse(mat)) {
    const any = new Uint8Array(M);
    for (let k = 0; k < mat.cellModel.length; k++) if (!Number.isNaN(mat.cellValue[k]!) && (!keep || keep[k] === 1)) any[mat.cellModel[k]!] = 1;
    for (let m = 0; m < M; m++) if (!any[m]) out[m] = -1e300;
    return out;
  }
  for (let m = 0; m < M; m++) {
    let any = false;
    for (let s = 0; s < S && !any; s++) any = !Number.isNaN(mat.values[m * S + s]!) && (!keep || keep[m * S + s] === 1);
    if (!any) out[m] = -1e300; // finite, so such models tie with each other in τ
  }
  return out;
}

/**
 * Columns `cols` of a matrix (models kept, categories kept), in the order given. Shapes: the result has
 * `cols.length` samples. Errors: none (indices are trusted to be in range).
 */
export function columnsOf(mat: BinaryMatrix, cols: ArrayLike<number>): BinaryMatrix;
export function columnsOf(mat: AnyBinaryMatrix, cols: ArrayLike<number>): AnyBinaryMatrix;
export function columnsOf(mat: AnyBinaryMatrix, cols: ArrayLike<number>): AnyBinaryMatrix {
  const M = mat.models.length, S = mat.sampleKeys.length, T = cols.length;
  if (isSparse(mat)) {
    // the same form: the chosen samples' cells, in the order given
    const samplePtr = new Int32Array(T + 1);
    for (let t = 0; t < T; t++) samplePtr[t + 1] = samplePtr[t]! + mat.samplePtr[cols[t]! + 1]! - mat.samplePtr[cols[t]!]!;
    const n = samplePtr[T]!;
    const cellModel = new (mat.cellModel.constructor as new (n: number) => SparseBinaryMatrix['cellModel'])(n);
    const cellValue = new (mat.cellValue.constructor as new (n: number) => SparseBinaryMatrix['cellValue'])(n);
    for (let t = 0; t < T; t++) {
      const a = mat.samplePtr[cols[t]!]!, b = mat.samplePtr[cols[t]! + 1]!;
      cellModel.set(mat.cellModel.subarray(a, b), samplePtr[t]!);
      cellValue.set(mat.cellValue.subarray(a, b), samplePtr[t]!);
    }
    // the keys in a KeyTable (typed arrays; an array of strings when a sample is chosen twice, which a table cannot hold)
    let keys: SampleKeys = new KeyTable();
    for (let t = 0; t < T; t++) {
      if (keys.intern(sampleKeyAt(mat.sampleKeys, cols[t]!)) !== t) {
        keys = Array.from({ length: T }, (_, t) => sampleKeyAt(mat.sampleKeys, cols[t]!));
        break;
      }
    }
    if (keys instanceof KeyTable) keys.freeze(true);
    return {
      models: mat.models.slice(), sampleKeys: keys, samplePtr, cellModel, cellValue,
      categories: mat.categories ? Int32Array.from({ length: T }, (_, t) => mat.categories![cols[t]!]!) : null, categoryNames: mat.categoryNames.slice(),
    };
  }
  const values = new Float32Array(M * T);
  for (let m = 0; m < M; m++) for (let t = 0; t < T; t++) values[m * T + t] = mat.values[m * S + cols[t]!]!;
  return {
    models: mat.models.slice(), sampleKeys: Array.from({ length: T }, (_, t) => mat.sampleKeys[cols[t]!]!), values,
    categories: mat.categories ? Int32Array.from({ length: T }, (_, t) => mat.categories![cols[t]!]!) : null, categoryNames: mat.categoryNames.slice(),
  };
}

/**
 * A seeded random split of the samples into two halves for the held-out reference: `fit` (⌈S/2⌉ samples, the ones
 * the methods see, with measurements dropped) and `reference` (the rest; the reference ranking is the models'
 * mean score on those of them measured on every model, where the mean is the sufficient statistic of the Rasch
 * model and no method is favoured). Errors: RangeError when the matrix has fewer than 4 samples.
 */
export function heldOutSplit(mat: BinaryMatrix, seed: number): { fit: BinaryMatrix; reference: Float64Array };
export function heldOutSplit(mat: AnyBinaryMatrix, seed: number): { fit: AnyBinaryMatrix; reference: Float64Array };
export function heldOutSplit(mat: AnyBinaryMatrix, seed: number): { fit: AnyBinaryMatrix; reference: Float64Array } {
  const S = mat.sampleKeys.length;
  if (S < 4) throw new RangeError(`a held-out reference needs at least 4 samples, got ${S}`);
  const rng = createRng(seed);
  const order = Array.from({ length: S }, (_, i) => i);
  for (let i = S - 1; i > 0; i--) {
    const j = rng.index(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const h = Math.ceil(S / 2);
  const fit = columnsOf(mat, order.slice(0, h).sort((a, b) => a - b));
  const rest = columnsOf(mat, order.slice(h).sort((a, b) => a - b));
  const block = completeBlock(rest);
  return { fit, reference: meanScores(block.sampleKeys.length >= 2 ? block : rest, null) };
}

/**
 * τ vs fraction removed. For every mode × fraction × repetition: one drop mask (seeded: `seed`, then the
 * repetition), then each method's scores on the kept cells, compared with the reference by Kendall τ-b. A model
 * with no kept measurement (per-model drops give one model a rate of 1 from 50% on) scores last under every
 * method: no method can place it, so one convention for all (PL would otherwise put it at its prior's anchor,
 * mid-table, and the mean last). Every method sees the same masks, so the methods are compared repetition by
 * repetition.
 *
 * `reference`: scores to compare with (the truth of synthetic data, or the full-data mean score — which favours the
 * mean by construction: at 0% removed the mean reproduces it exactly), or `'held-out-half'`: for each repetition the
 * samples are split at random into two halves (`heldOutSplit`, the same split for every fraction and mode of that
 * repetition); measurements are dropped from the first half and the methods fit it; the reference is the mean score
 * on the second half's samples measured on every model, data no method sees. Its own sampling noise caps τ below
 * 1 for every method alike.
 *
 * Either form of the matrix gives the same rows: the sparse one drops measured cells (a mask byte per cell, drawn
 * model by model in sample order as the dense mask is) and every method reads only the kept cells, so memory
 * follows the measurements, not models × samples.
 */
export function missingDataCurve(
  mat: AnyBinaryMatrix,
  reference: ArrayLike<number> | 'held-out-half',
  opts: { fractions: number[]; modes?: ('random' | 'per-model')[]; reps?: number; seed?: number; methods?: Method[]; ties?: TieConvention },
): CurveRow[] {
  const modes = opts.modes ?? ['random', 'per-model'];
  const reps = opts.reps ?? 3;
  const methods = opts.methods ?? ['plackett-luce', 'pl-orderings', 'mean', 'elo'];
  const rows: CurveRow[] = [];
  const splits = new Map<number, { fit: AnyBinaryMatrix; reference: ArrayLike<number> }>();
  const setup = (r: number) => {
    if (reference !== 'held-out-half') return { fit: mat, reference };
    let sp = splits.get(r);
    if (!sp) splits.set(r, (sp = heldOutSplit(mat, (opts.seed ?? 0) * 1_000_003 + 900_001 + r)));
    return sp;
  };
  for (const mode of modes) {
    for (const p of opts.fractions) {
      const taus = new Map<Method, number[]>(methods.map((m) => [m, []]));
      let kept = 0;
      for (let r = 0; r < reps; r++) {
        const rng = createRng((opts.seed ?? 0) * 1_000_003 + Math.round(p * 1e4) * 101 + r * 7 + (mode === 'random' ? 0 : 50_000));
        const { fit, reference: ref } = setup(r);
        const keep = p === 0 ? null : dropMask(fit, p, mode, rng);
        if (keep) for (const k of keep) kept += k;
        else if (isSparse(fit)) for (const v of fit.cellValue) kept += Number.isNaN(v) ? 0 : 1;
        else for (const v of fit.values) kept += Number.isNaN(v) ? 0 : 1;
        const d = methods.some((m) => m === 'pl-orderings' || m === 'elo') ? choicesFromMatrix(fit, keep, opts.ties ?? 'full') : null;
        for (const method of methods) {
          let sc: ArrayLike<number>;
          if (method === 'plackett-luce') sc = plSampleScores(fit, keep);
          else if (method === 'pl-orderings') sc = plScores(d!);
          else if (method === 'mean') sc = meanScores(fit, keep).map((v) => (Number.isNaN(v) ? -1 : v));
          else sc = eloRatings(d!, rng);
          taus.get(method)!.push(kendallTau(lastWithoutData(sc, fit, keep), ref));
        }
      }
      const base = taus.get('mean');
      for (const method of methods) {
        const t = taus.get(method)!;
        const mean = t.reduce((a, b) => a + b, 0) / t.length;
        const sd = Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, t.length - 1));
        let vs: number | null = null, se: number | null = null;
        if (base && method !== 'mean') {
          const d = t.map((x, i) => x - base[i]!);
          vs = d.reduce((a, b) => a + b, 0) / d.length;
          se = d.length > 1 ? Math.sqrt(d.reduce((a, b) => a + (b - vs!) ** 2, 0) / (d.length - 1) / d.length) : NaN;
        }
        rows.push({ mode, fraction: p, method, tau: mean, tau_min: Math.min(...t), tau_sd: sd, reps, kept: kept / reps, vs_mean: vs, vs_mean_se: se });
      }
    }
  }
  return rows;
}
