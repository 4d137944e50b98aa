import { GrowIndex, KeyTable, Values, type IndexArray } from './choices.ts';

/** A dense models × samples matrix of binary outcomes; `values[m * samples + s]` is 0, 1, or NaN (not measured). */
export interface BinaryMatrix {
  models: string[];
  sampleKeys: string[];
  values: Float32Array;
  /** Per sample category index into `categoryNames` (or null). */
  categories: Int32Array | null;
  categoryNames: string[];
}

/**
 * The same matrix stored by sample (compressed sparse rows), holding only the measured cells: sample s has the cells
 * k = samplePtr[s] … samplePtr[s + 1] − 1, each model `cellModel[k]` (ascending within a sample) with value
 * `cellValue[k]` (0 or 1 in a Uint8Array when every value is, else float32 as in the dense form: read element by
 * element, both give the same numbers). Memory: 2 bytes per measured binary cell (3 above 256 models, 5 above
 * 65,536: the model index is stored as wide as needed; 3 bits more for a fractional value) and 4 per sample, instead
 * of 4 per model × sample cell: what a pool with most cells missing needs (90% missing: a twentieth of the dense form).
 */
export interface SparseBinaryMatrix {
  models: string[];
  /**
   * The samples' keys: an array, or (from `SparseMatrixBuilder`) a `KeyTable`, which holds them in typed arrays
   * (about 30 bytes a key instead of about 100 as strings in an array and a Map). Read one with `sampleKeyAt`.
   */
  sampleKeys: SampleKeys;
  /** Length samples + 1. */
  samplePtr: Int32Array;
  cellModel: IndexArray;
  cellValue: Float32Array | Uint8Array;
  categories: Int32Array | null;
  categoryNames: string[];
}

/** The keys of a matrix's samples (`length`; the i-th by `sampleKeyAt`). */
export type SampleKeys = string[] | KeyTable;

/** The i-th key of `keys`. Errors: RangeError (from a KeyTable) when there is no i-th key. */
export function sampleKeyAt(keys: SampleKeys, i: number): string {
  return Array.isArray(keys) ? keys[i]! : keys.get(i);
}

/** Either form; the algorithms that take both read the measured cells in the same order from either. */
export type AnyBinaryMatrix = BinaryMatrix | SparseBinaryMatrix;

export function isSparse(mat: AnyBinaryMatrix): mat is SparseBinaryMatrix {
  return (mat as SparseBinaryMatrix).samplePtr !== undefined;
}

/** The sparse form of a matrix (the same object when already sparse): the non-NaN cells, by sample, models ascending. */
export function sparseOf(mat: AnyBinaryMatrix): SparseBinaryMatrix {
  if (isSparse(mat)) return mat;
  const M = mat.models.length, S = mat.sampleKeys.length, v = mat.values;
  const samplePtr = new Int32Array(S + 1);
  for (let s = 0; s < S; s++) {
    let n = 0;
    for (let m = 0; m < M; m++) if (!Number.isNaN(v[m * S + s]!)) n++;
    samplePtr[s + 1] = samplePtr[s]! + n;
  }
  const cellModel = new Int32Array(samplePtr[S]!), cellValue = new Float32Array(samplePtr[S]!);
  for (let s = 0, k = 0; s < S; s++) {
    for (let m = 0; m < M; m++) {
      const x = v[m * S + s]!;
      if (Number.isNaN(x)) continue;
      cellModel[k] = m;
      cellValue[k++] = x;
    }
  }
  return { models: mat.models, sampleKeys: mat.sampleKeys, samplePtr, cellModel, cellValue, categories: mat.categories, categoryNames: mat.categoryNames };
}

/**
 * The dense form of samples `cols` of a sparse matrix (all samples when null), in the order given; categories kept.
 * Memory: 4 bytes per model × chosen sample.
 */
export function denseOf(sp: SparseBinaryMatrix, cols: ArrayLike<number> | null = null): BinaryMatrix {
  const M = sp.models.length, T = cols ? cols.length : sp.sampleKeys.length;
  const values = new Float32Array(M * T).fill(NaN);
  for (let t = 0; t < T; t++) {
    const s = cols ? cols[t]! : t;
    for (let k = sp.samplePtr[s]!; k < sp.samplePtr[s + 1]!; k++) values[sp.cellModel[k]! * T + t] = sp.cellValue[k]!;
  }
  return {
    models: sp.models.slice(), sampleKeys: cols ? Array.from({ length: T }, (_, t) => sampleKeyAt(sp.sampleKeys, cols[t]!)) : Array.from(sp.sampleKeys), values,
    categories: sp.categories ? (cols ? Int32Array.from({ length: T }, (_, t) => sp.categories![cols[t]!]!) : sp.categories.slice()) : null,
    categoryNames: sp.categoryNames.slice(),
  };
}

/** A growing typed array (by half its length each time). */
class Grow<A extends Int32Array | Float32Array> {
  n = 0;
  constructor(public a: A, private readonly make: (n: number) => A) {}
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = this.make(this.a.length + (this.a.length >> 1) + 16);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

/**
 * Builds a {@link SparseBinaryMatrix} one measurement at a time (a pool streamed from the store is never held as
 * objects): 5 bytes and a bit per binary measurement while reading (model index in 1 byte up to 256 models, sample in 4, value in a bit while every value is 0 or 1; pass the number of measurements expected,
 * when known, so that the arrays are made once at their size), and the cells are then sorted in place, so that the
 * matrix needs no memory beyond that. Models and samples are numbered in order of first arrival; a (model, sample)
 * cell given twice keeps the value given last — the rules of the dense `matrixFromMeasurements`, so both give the
 * same matrix for the same measurements in the same order.
 */
export class SparseMatrixBuilder {
  private readonly modelIndex = new Map<string, number>();
  readonly models: string[] = [];
  /** The samples' keys so far, numbered in order of first arrival (typed arrays: no string or Map entry per sample). */
  private readonly sampleKeys = new KeyTable();
  private tM: GrowIndex;
  private tS: Grow<Int32Array>;
  private tV: Values;
  private lastModelName: string | null = null;
  private lastModel = -1;

  constructor(expected = 0) {
    const cap = Math.max(1024, Math.floor(expected));
    this.tM = new GrowIndex(cap);
    this.tS = new Grow(new Int32Array(cap), (n) => new Int32Array(n));
    this.tV = new Values(cap);
  }

  /** Add one cell. */
  add(model: string, sampleKey: string, value: number): void {
    let a = model === this.lastModelName ? this.lastModel : this.modelIndex.get(model);
    if (a === undefined) {
      a = this.models.length;
      this.modelIndex.set(model, a);
      this.models.push(model);
    }
    this.lastModelName = model;
    this.lastModel = a;
    const s = this.sampleKeys.intern(sampleKey);
    this.tM.push(a);
    this.tS.push(s);
    this.tV.push(value);
  }

  /** The index of a sample key added so far, or undefined; before `build()` (Errors: Error afterwards: the lookup table is dropped). */
  sampleOf(key: string): number | undefined {
    const s = this.sampleKeys.indexOf(key);
    return s < 0 ? undefined : s;
  }

  /**
   * Finish (once; the builder holds nothing afterwards). `categoryOf[s]`: sample s's category (null or absent:
   * none); categories are numbered in sample order, as `matrixFromMeasurements` numbers them.
   */
  build(categoryOf: (string | null | undefined)[] = []): SparseBinaryMatrix {
    const S = this.sampleKeys.length, n = this.tM.n;
    const cm = this.tM.a, dest = this.tS.a, tV = this.tV;
    // the values as bytes while all are 0 or 1 (read as one bit each), else float32 (the dense form's type)
    const cv = tV.binary ? new Uint8Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) cv[i] = tV.get(i);
    this.tM = this.tS = this.tV = null as never;
    // the keys are kept (`get`), their lookup table dropped
    this.sampleKeys.freeze(true);
    this.modelIndex.clear();
    // a stable counting sort of the cells by sample, in place: each cell's place is written over its sample, then
    // models and values are permuted by following the cycles
    const ptr = new Int32Array(S + 1);
    for (let i = 0; i < n; i++) ptr[dest[i]! + 1]!++;
    for (let s = 0; s < S; s++) ptr[s + 1]! += ptr[s]!;
    const pos = ptr.slice(0, S);
    for (let i = 0; i < n; i++) dest[i] = pos[dest[i]!]!++;
    for (let i = 0; i < n; i++) {
      while (dest[i] !== i) {
        const j = dest[i]!;
        const m = cm[i]!, v = cv[i]!;
        cm[i] = cm[j]!;
        cv[i] = cv[j]!;
        cm[j] = m;
        cv[j] = v;
        dest[i] = dest[j]!;
        dest[j] = j;
      }
    }
    // within a sample: models ascending (stable insertion sort: cells mostly arrive in model order), the last of equal models kept
    const samplePtr = new Int32Array(S + 1);
    let out = 0;
    for (let s = 0; s < S; s++) {
      const a = ptr[s]!, b = ptr[s + 1]!;
      for (let i = a + 1; i < b; i++) {
        const m = cm[i]!, v = cv[i]!;
        let j = i - 1;
        while (j >= a && cm[j]! > m) {
          cm[j + 1] = cm[j]!;
          cv[j + 1] = cv[j]!;
          j--;
        }
        cm[j + 1] = m;
        cv[j + 1] = v;
      }
      for (let i = a; i < b; i++) {
        if (i + 1 < b && cm[i + 1] === cm[i]) continue; // a later value of the same model follows
        cm[out] = cm[i]!;
        cv[out++] = cv[i]!;
      }
      samplePtr[s + 1] = out;
    }
    const catIndex = new Map<string, number>();
    const categories = new Int32Array(S);
    for (let s = 0; s < S; s++) {
      const c = categoryOf[s] ?? '';
      let ci = catIndex.get(c);
      if (ci === undefined) catIndex.set(c, (ci = catIndex.size));
      categories[s] = ci;
    }
    // views of the arrays read into (no copy: what is left over past the last cell stays unused)
    return {
      models: this.models, sampleKeys: this.sampleKeys, samplePtr,
      cellModel: cm.subarray(0, out), cellValue: cv.subarray(0, out), categories, categoryNames: [...catIndex.keys()],
    };
  }
}
