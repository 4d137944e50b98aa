/**
 * From measurements to Plackett–Luce choice data (ONEBench, Ghosh et al. 2024, §3: every measurement becomes an
 * ordinal ranking of the models measured on a sample).
 *
 * An *ordering* is formed inside one (slice, sample, kind) across sources (see `choicesFromMeasurements`): listwise kinds (binary, numeric,
 * ordinal) order every model measured there by value (direction applied; values within `tie_tolerance` of a
 * block's best value tie with it); pairwise kinds (preference, battle) give one ordering of two models each.
 * An ordering with tied blocks B1 ≻ B2 ≻ … ≻ BL becomes *choice events* (winner, choice set, weight):
 *
 * - `full` tie convention (listwise Plackett–Luce with ties, Breslow 1974 "Covariance analysis of censored
 *   survival data" approximation): for every block ℓ < L, each member of Bℓ is chosen, with weight 1, from
 *   Bℓ ∪ … ∪ BL. The bottom block is the remainder and carries no choice (as the last item of a strict PL
 *   ranking), so an ordering that is one tied block (all correct, all wrong, a tied battle) gives no events.
 *   For binary data this says exactly "every model that got it right beat every model that got it wrong".
 * - `half` tie convention (pairwise, ties count half): every pair (i, j) of the ordering is one Bradley–Terry
 *   comparison: 1 win to the better, ½ to each on a tie (Davidson 1970 without the tie parameter; the chess
 *   and Chatbot-Arena convention). Costs O(n²) per ordering.
 *
 * Soft preferences (value v strictly between 0 and 1 other than ½) give v·w to the model and (1−v)·w to the opponent
 * under both conventions. Events are stored grouped by *cluster* (the sample), the unit of the bootstrap.
 */
import type { PoolMeasurement } from '../core/pool-measurement.ts';

export type TieConvention = 'full' | 'half';

/** Choice events grouped by cluster, with distinct choice sets interned (CSR). */
export interface ChoiceData {
  models: string[];
  /** Cluster (sample) keys; events of cluster c are [clusterPtr[c], clusterPtr[c+1]). */
  clusters: string[];
  clusterPtr: Int32Array;
  evWinner: Int32Array;
  evSet: Int32Array;
  evWeight: Float64Array;
  /** Distinct choice sets: members of set s are setIdx[setPtr[s] .. setPtr[s+1]). */
  setPtr: Int32Array;
  setIdx: Int32Array;
  ties: TieConvention;
  /** Orderings formed, and those that gave no event (one model only; all tied under `full`). */
  orderings: number;
  droppedSingle: number;
  droppedAllTied: number;
  /** Per model: number of clusters (samples) with at least one measurement, and measurements. */
  samplesPerModel: Int32Array;
  measurementsPerModel: Int32Array;
  /** Per model: mean of its measurement values (direction applied; win rate for pairwise) — the "mean score" baseline. */
  meanScore: Float64Array;
  /** Pairwise "i above j" weights over all orderings (ties excluded), n×n row-major; null if not requested. */
  above: Float64Array | null;
}

/** A typed array that grows by half its length (Int32Array, Float32Array or Float64Array). */
class Grow<A extends Int32Array | Float32Array | Float64Array> {
  n = 0;
  constructor(
    /** The storage (entries [0, n) are in use; replaced when it grows). */
    public a: A,
    private readonly make: (length: number) => A,
  ) {}
  push(v: number) {
    if (this.n === this.a.length) {
      // grow by half: at most a third of the storage unused, and a smaller transient copy than doubling
      const b = this.make(this.a.length + (this.a.length >> 1));
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  view(): A {
    return this.a.subarray(0, this.n) as A;
  }
}
const growI32 = () => new Grow(new Int32Array(1024), (n) => new Int32Array(n));
const growF64 = () => new Grow(new Float64Array(1024), (n) => new Float64Array(n));

/**
 * Measurement values, 4 bytes each while every value added is a float32 exactly (0/1 verdicts, small integers, most
 * scores), 8 bytes from the first one that is not (all are then copied to float64): a value read back is always the
 * value added.
 */
class Values {
  private g: Grow<Float32Array> | Grow<Float64Array>;
  private wide = false;
  constructor(capacity = 1024) {
    this.g = new Grow(new Float32Array(Math.max(1024, capacity)), (n) => new Float32Array(n));
  }
  get n(): number {
    return this.g.n;
  }
  push(v: number): void {
    if (!this.wide && !Object.is(Math.fround(v), v)) {
      const old = this.g, b = new Float64Array(Math.max(1024, old.a.length));
      b.set(old.a.subarray(0, old.n));
      const g = new Grow(b, (n) => new Float64Array(n));
      g.n = old.n;
      this.g = g;
      this.wide = true;
    }
    this.g.push(v);
  }
  view(): Float32Array | Float64Array {
    return this.g.view();
  }
}

/**
 * Typed arrays on shared memory: the arrays of the bootstrap problem, which worker threads then read in place
 * instead of receiving a copy each (src/aggregate/pl-bootstrap.ts).
 */
export const sharedInt32 = (n: number): Int32Array => new Int32Array(new SharedArrayBuffer(4 * n));
export const sharedFloat64 = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(8 * n));

/**
 * Incremental builder of `ChoiceData` (models and clusters are interned by name). Used directly by the
 * validation harness and the benchmark (no per-measurement objects); `choicesFromMeasurements` wraps it.
 */
export class ChoiceBuilder {
  readonly models: string[] = [];
  readonly clusters: string[] = [];
  private modelIndex = new Map<string, number>();
  private clusterIndex = new Map<string, number>();
  /** Open-addressing hash table of the interned choice sets (set ids, −1 empty; size a power of two, at most half full). */
  private setTable = new Int32Array(1024).fill(-1);
  private setHash = growI32();
  private setPtr = growI32();
  private setIdx = growI32();
  private evCluster = growI32();
  private evWinner = growI32();
  private evSet = growI32();
  private evWeight = growF64();
  private built = false;
  private orderings = 0;
  private droppedSingle = 0;
  private droppedAllTied = 0;
  private modelClusterSeen: Int32Array[] = [];
  private sumScore: number[] = [];
  private nScore: number[] = [];
  private samplesPerModel: number[] = [];
  private measurementsPerModel: number[] = [];
  private lastClusterOfModel: number[] = [];
  private above: Float64Array | null;
  private aboveCap = 64;

  constructor(
    readonly ties: TieConvention,
    opts: { pairwiseMatrix?: boolean } = {},
  ) {
    this.setPtr.push(0);
    this.above = opts.pairwiseMatrix === false ? null : new Float64Array(this.aboveCap * this.aboveCap);
  }

  model(name: string): number {
    let i = this.modelIndex.get(name);
    if (i === undefined) {
      i = this.models.length;
      this.models.push(name);
      this.modelIndex.set(name, i);
      this.sumScore.push(0);
      this.nScore.push(0);
      this.samplesPerModel.push(0);
      this.measurementsPerModel.push(0);
      this.lastClusterOfModel.push(-1);
      if (this.above && this.models.length > this.aboveCap) {
        const cap = this.aboveCap * 2;
        const next = new Float64Array(cap * cap);
        for (let r = 0; r < this.aboveCap; r++) next.set(this.above.subarray(r * this.aboveCap, (r + 1) * this.aboveCap), r * cap);
        this.above = next;
        this.aboveCap = cap;
      }
    }
    return i;
  }

  cluster(key: string): number {
    let c = this.clusterIndex.get(key);
    if (c === undefined) {
      c = this.clusters.length;
      this.clusters.push(key);
      this.clusterIndex.set(key, c);
    }
    return c;
  }

  private touch(m: number, c: number, score: number) {
    this.measurementsPerModel[m]!++;
    // running mean (sumScore holds the mean so far): a plain sum of values near ±1.8e308 would overflow to ±Infinity
    const k = ++this.nScore[m]!;
    this.sumScore[m] = runningMean(this.sumScore[m]!, score, k);
    if (this.lastClusterOfModel[m] !== c) {
      // Exact when each cluster's orderings are added contiguously (choicesFromMeasurements sorts them so).
      this.lastClusterOfModel[m] = c;
      this.samplesPerModel[m]!++;
    }
  }

  /**
   * The id of the choice set `members` (sorted here), numbered in order of first arrival. Interned in a hash table
   * of typed arrays (4 bytes a slot, 4 per set for its hash) over the members already stored in `setIdx`: no key
   * string per set.
   */
  private intern(members: number[]): number {
    members.sort((a, b) => a - b);
    const n = members.length;
    let h = 0x811c9dc5 ^ n; // FNV-1a over the members
    for (let k = 0; k < n; k++) h = Math.imul(h ^ members[k]!, 0x01000193);
    h |= 0;
    const table = this.setTable, mask = table.length - 1;
    const ptr = this.setPtr.a, idx = this.setIdx.a, hashes = this.setHash.a;
    let i = h & mask;
    for (;; i = (i + 1) & mask) {
      const s = table[i]!;
      if (s < 0) break;
      if (hashes[s] !== h) continue;
      const a = ptr[s]!;
      if (ptr[s + 1]! - a !== n) continue;
      let same = true;
      for (let k = 0; k < n && same; k++) same = idx[a + k] === members[k];
      if (same) return s;
    }
    const s = this.setHash.n;
    table[i] = s;
    this.setHash.push(h);
    for (const m of members) this.setIdx.push(m);
    this.setPtr.push(this.setIdx.n);
    if (2 * this.setHash.n > table.length) {
      // double the table and re-insert every set by its stored hash
      const next = new Int32Array(table.length * 2).fill(-1), m2 = next.length - 1, hs = this.setHash.a;
      for (let t = 0; t < this.setHash.n; t++) {
        let j = hs[t]! & m2;
        while (next[j]! >= 0) j = (j + 1) & m2;
        next[j] = t;
      }
      this.setTable = next;
    }
    return s;
  }

  private event(c: number, winner: number, set: number, w: number) {
    if (!(w > 0)) return;
    this.evCluster.push(c);
    this.evWinner.push(winner);
    this.evSet.push(set);
    this.evWeight.push(w);
  }

  private addAbove(i: number, j: number, w: number) {
    if (this.above) this.above[i * this.aboveCap + j]! += w;
  }

  /**
   * One listwise ordering in cluster `c`: models `ms` (distinct indices) with values `vs` (higher is better after
   * multiplying by `direction`); values within `tol` of a block's best value tie with it.
   */
  addListwise(c: number, ms: number[], vs: number[], direction: 1 | -1 = 1, tol = 0): void {
    if (this.built) throw new Error('ChoiceBuilder: no orderings after build()');
    const n = ms.length;
    for (let k = 0; k < n; k++) this.touch(ms[k]!, c, direction * vs[k]!);
    this.orderings++;
    if (n < 2) {
      this.droppedSingle++;
      return;
    }
    const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => direction * (vs[b]! - vs[a]!));
    const blocks: number[][] = [];
    let top = NaN;
    for (const k of order) {
      const v = direction * vs[k]!;
      if (blocks.length && top - v <= tol + 1e-12) blocks[blocks.length - 1]!.push(ms[k]!);
      else {
        blocks.push([ms[k]!]);
        top = v;
      }
    }
    if (this.above) for (let a = 0; a < blocks.length; a++) for (let b = a + 1; b < blocks.length; b++) for (const i of blocks[a]!) for (const j of blocks[b]!) this.addAbove(i, j, 1);
    if (this.ties === 'full') {
      if (blocks.length < 2) {
        this.droppedAllTied++;
        return;
      }
      let rest: number[] = ms.slice();
      for (let l = 0; l < blocks.length - 1; l++) {
        const set = this.intern(rest.slice());
        for (const i of blocks[l]!) this.event(c, i, set, 1);
        const out = new Set(blocks[l]);
        rest = rest.filter((m) => !out.has(m));
      }
    } else {
      for (let a = 0; a < blocks.length; a++) {
        const A = blocks[a]!;
        for (let x = 0; x < A.length; x++) {
          for (let y = x + 1; y < A.length; y++) {
            const set = this.intern([A[x]!, A[y]!]);
            this.event(c, A[x]!, set, 0.5);
            this.event(c, A[y]!, set, 0.5);
          }
          for (let b = a + 1; b < blocks.length; b++) for (const j of blocks[b]!) this.event(c, A[x]!, this.intern([A[x]!, j]), 1);
        }
      }
    }
  }

  /**
   * One pairwise measurement in cluster `c`: `a` vs `b`, value v ∈ [0, 1] (1 = a wins, ½ = tie), weight w.
   * Under `full` an exact tie gives no event (counted as dropped); soft values split v·w / (1−v)·w.
   */
  addPair(c: number, a: number, b: number, v: number, w = 1): void {
    if (this.built) throw new Error('ChoiceBuilder: no orderings after build()');
    this.touch(a, c, v);
    this.touch(b, c, 1 - v);
    this.orderings++;
    if (v > 0.5) this.addAbove(a, b, w);
    else if (v < 0.5) this.addAbove(b, a, w);
    if (Math.abs(v - 0.5) < 1e-12 && this.ties === 'full') {
      this.droppedAllTied++;
      return;
    }
    const set = this.intern([a, b]);
    this.event(c, a, set, v * w);
    this.event(c, b, set, (1 - v) * w);
  }

  /**
   * Finish (once: the builder takes no more orderings afterwards). Events sorted by cluster (stable counting sort;
   * when they were added in cluster order already, as `ChoiceAccumulator` and `choicesFromMatrix` add them, a copy).
   * The arrays of the bootstrap are copied to shared memory at their size, one at a time, each growing array
   * released once copied. (Growing on shared memory instead saves the copies but not memory: outgrown
   * SharedArrayBuffers are reclaimed late — measured on Node 20, 30M entries grown by half: 453 MB peak resident
   * memory against 255 MB with ArrayBuffers.)
   * Errors: Error when called twice.
   */
  build(): ChoiceData {
    if (this.built) throw new Error('ChoiceBuilder.build() called twice');
    this.built = true;
    const nC = this.clusters.length;
    const nE = this.evWinner.n;
    const clusterPtr = sharedInt32(nC + 1);
    const evC = this.evCluster.view();
    let sorted = true;
    for (let e = 0; e < nE; e++) {
      clusterPtr[evC[e]! + 1]!++;
      if (e && evC[e]! < evC[e - 1]!) sorted = false;
    }
    for (let c = 0; c < nC; c++) clusterPtr[c + 1]! += clusterPtr[c]!;
    this.setTable = new Int32Array(0);
    this.setHash = growI32();
    const toShared = <A extends Int32Array | Float64Array>(a: A, make: (n: number) => A): A => {
      const b = make(a.length);
      if (sorted) b.set(a);
      else {
        const pos = clusterPtr.slice(0, nC);
        for (let e = 0; e < nE; e++) b[pos[evC[e]!]!++] = a[e]!;
      }
      return b;
    };
    const evWinner = toShared(this.evWinner.view(), sharedInt32);
    this.evWinner = growI32();
    const evSet = toShared(this.evSet.view(), sharedInt32);
    this.evSet = growI32();
    const evWeight = toShared(this.evWeight.view(), sharedFloat64);
    this.evWeight = growF64();
    this.evCluster = growI32();
    const setPtr = sharedInt32(this.setPtr.n);
    setPtr.set(this.setPtr.view());
    this.setPtr = growI32();
    const setIdx = sharedInt32(this.setIdx.n);
    setIdx.set(this.setIdx.view());
    this.setIdx = growI32();
    this.clusterIndex.clear();
    this.modelIndex.clear();
    const n = this.models.length;
    let above: Float64Array | null = null;
    if (this.above) {
      above = new Float64Array(n * n);
      for (let i = 0; i < n; i++) above.set(this.above.subarray(i * this.aboveCap, i * this.aboveCap + n), i * n);
    }
    return {
      models: this.models.slice(), clusters: this.clusters, clusterPtr, evWinner, evSet, evWeight,
      setPtr, setIdx, ties: this.ties,
      orderings: this.orderings, droppedSingle: this.droppedSingle, droppedAllTied: this.droppedAllTied,
      samplesPerModel: Int32Array.from(this.samplesPerModel), measurementsPerModel: Int32Array.from(this.measurementsPerModel),
      meanScore: Float64Array.from(this.sumScore.map((s, i) => (this.nScore[i]! ? s : NaN))), above,
    };
  }
}

/** Mean of k values from the mean of the first k − 1 and the k-th, without forming a sum that could overflow. */
function runningMean(mean: number, v: number, k: number): number {
  return k === 1 ? v : mean * ((k - 1) / k) + v / k;
}

const KIND_ID: Record<string, number> = { binary: 0, numeric: 1, ordinal: 2 };

/**
 * Measurements (any kinds, any order) → choice data, one measurement at a time, holding only compact typed arrays
 * (12 bytes per listwise measurement while every value is a float32 exactly, as 0/1 verdicts are, else 16; 32 per
 * pairwise one) and 36 bytes per (slice, sample, kind, direction, tie tolerance)
 * group: a pool streamed from the store is never held as objects. `build()` gives exactly what
 * `choicesFromMeasurements` gives for the same measurements in the same order (same model, cluster, set and event
 * order), which is defined there. Errors: none (values are taken as given; the importers check them).
 */
export class ChoiceAccumulator {
  private b: ChoiceBuilder | null;
  private readonly dedupe: boolean;
  private sliceIndex = new Map<string, number>();
  private lastSliceName: string | null = null;
  private lastSlice = 0;
  private head = growI32();
  private gC = growI32();
  private gSlice = growI32();
  private gKind = growI32();
  private gDir = growI32();
  private gTol = growF64();
  private gNext = growI32();
  private eG = growI32();
  private eM = growI32();
  private eV = new Values();
  private pC = growI32();
  private pA = growI32();
  private pB = growI32();
  private pV = growF64();
  private pW = growF64();
  /** Measurements added. */
  count = 0;

  /**
   * `expected`: the number of listwise measurements expected, when known (an upper bound does): the arrays of the
   * entries are then made once at that size instead of growing.
   */
  constructor(opts: { ties?: TieConvention; pairwiseMatrix?: boolean; battleWeights?: 'counts' | 'dedupe'; expected?: number } = {}) {
    this.b = new ChoiceBuilder(opts.ties ?? 'full', { pairwiseMatrix: opts.pairwiseMatrix });
    this.dedupe = opts.battleWeights === 'dedupe';
    const cap = Math.max(1024, Math.floor(opts.expected ?? 0));
    if (cap > 1024) {
      this.eG = new Grow(new Int32Array(cap), (n) => new Int32Array(n));
      this.eM = new Grow(new Int32Array(cap), (n) => new Int32Array(n));
      this.eV = new Values(cap);
    }
  }

  /** Add one measurement (only its slice, sample_key, model, opponent, kind, value, direction, tie_tolerance and weight are read). */
  add(m: Pick<PoolMeasurement, 'slice' | 'sample_key' | 'model' | 'opponent' | 'kind' | 'value' | 'direction' | 'tie_tolerance' | 'weight'>): void {
    this.count++;
    const b = this.b;
    if (!b) throw new Error('ChoiceAccumulator.add() after build()');
    const c = b.cluster(m.sample_key);
    const a = b.model(m.model);
    const kind = KIND_ID[m.kind];
    if (kind !== undefined) {
      const tol = kind === 1 ? m.tie_tolerance : 0;
      let sl = this.lastSliceName === m.slice ? this.lastSlice : this.sliceIndex.get(m.slice);
      if (sl === undefined) this.sliceIndex.set(m.slice, (sl = this.sliceIndex.size));
      this.lastSliceName = m.slice;
      this.lastSlice = sl;
      // The groups of cluster c form a chain (head per cluster, next per group), searched by (slice, kind, direction,
      // tolerance): usually one group per cluster, so no key string per measurement.
      while (this.head.n <= c) this.head.push(-1);
      const heads = this.head.a;
      let g = heads[c]!;
      const gS = this.gSlice.a, gK = this.gKind.a, gD = this.gDir.a, gT = this.gTol.a, gN = this.gNext.a;
      while (g >= 0 && !(gS[g] === sl && gK[g] === kind && gD[g] === m.direction && (gT[g] === tol || (gT[g] !== gT[g] && tol !== tol)))) g = gN[g]!;
      if (g < 0) {
        g = this.gC.n;
        this.gC.push(c);
        this.gSlice.push(sl);
        this.gKind.push(kind);
        this.gDir.push(m.direction);
        this.gTol.push(tol);
        this.gNext.push(-1);
        // append at the chain's end (keeps groups in order of first arrival; the order does not matter for lookup)
        if (heads[c]! < 0) heads[c] = g;
        else {
          let t = heads[c]!;
          const next = this.gNext.a;
          while (next[t]! >= 0) t = next[t]!;
          next[t] = g;
        }
      }
      this.eG.push(g);
      this.eM.push(a);
      this.eV.push(m.value);
    } else {
      this.pC.push(c);
      this.pA.push(a);
      this.pB.push(b.model(m.opponent));
      this.pV.push(m.value);
      this.pW.push(this.dedupe ? 1 : m.weight);
    }
  }

  /**
   * Finish (once): orderings formed in cluster order, listwise groups of a cluster before its pairs. The entries are
   * released before the choice data is made, and the builder after (the accumulator holds nothing afterwards).
   * Errors: Error when called twice.
   */
  build(): ChoiceData {
    const b = this.b;
    if (!b) throw new Error('ChoiceAccumulator.build() called twice');
    this.formOrderings(b);
    this.gC = this.gSlice = this.gKind = this.gDir = this.gNext = this.eG = this.eM = this.head = this.pC = this.pA = this.pB = growI32();
    this.gTol = this.pV = this.pW = growF64();
    this.eV = new Values();
    this.sliceIndex = new Map();
    this.b = null;
    return b.build();
  }

  private formOrderings(b: ChoiceBuilder): void {
    const nC = b.clusters.length;
    const nG = this.gC.n, nE = this.eG.n, nP = this.pC.n;
    // entries put in group order, arrival order within a group (a stable counting sort), in place: each entry's
    // place is written over its group id, then models and values are permuted by following the cycles
    const gPtr = new Int32Array(nG + 1);
    const eG = this.eG.view(), eM = this.eM.view(), eV = this.eV.view();
    for (let e = 0; e < nE; e++) gPtr[eG[e]! + 1]!++;
    for (let g = 0; g < nG; g++) gPtr[g + 1]! += gPtr[g]!;
    {
      const pos = gPtr.slice(0, nG);
      for (let e = 0; e < nE; e++) eG[e] = pos[eG[e]!]!++;
      for (let i = 0; i < nE; i++) {
        while (eG[i] !== i) {
          const j = eG[i]!;
          const m = eM[i]!, v = eV[i]!;
          eM[i] = eM[j]!;
          eV[i] = eV[j]!;
          eM[j] = m;
          eV[j] = v;
          eG[i] = eG[j]!;
          eG[j] = j;
        }
      }
    }
    const byCluster = (cs: Int32Array, n: number): { ptr: Int32Array; idx: Int32Array } => {
      const ptr = new Int32Array(nC + 1);
      for (let k = 0; k < n; k++) ptr[cs[k]! + 1]!++;
      for (let c = 0; c < nC; c++) ptr[c + 1]! += ptr[c]!;
      const idx = new Int32Array(n);
      const pos = ptr.slice(0, nC);
      for (let k = 0; k < n; k++) idx[pos[cs[k]!]!++] = k;
      return { ptr, idx };
    };
    const G = byCluster(this.gC.view(), nG), P = byCluster(this.pC.view(), nP);
    const gDir = this.gDir.view(), gTol = this.gTol.view();
    const pA = this.pA.view(), pB = this.pB.view(), pV = this.pV.view(), pW = this.pW.view();
    const slot = new Int32Array(b.models.length).fill(-1);
    const ms: number[] = [], vs: number[] = [], ns: number[] = [];
    for (let c = 0; c < nC; c++) {
      for (let q = G.ptr[c]!; q < G.ptr[c + 1]!; q++) {
        const g = G.idx[q]!;
        ms.length = 0;
        vs.length = 0;
        ns.length = 0;
        for (let p = gPtr[g]!; p < gPtr[g + 1]!; p++) {
          const e = p, mi = eM[e]!;
          const k = slot[mi]!;
          if (k < 0) {
            slot[mi] = ms.length;
            ms.push(mi);
            vs.push(eV[e]!);
            ns.push(1);
          } else vs[k] = runningMean(vs[k]!, eV[e]!, ++ns[k]!);
        }
        for (const mi of ms) slot[mi] = -1;
        b.addListwise(c, ms.slice(), vs.slice(), gDir[g]! < 0 ? -1 : 1, gTol[g]!);
      }
      for (let q = P.ptr[c]!; q < P.ptr[c + 1]!; q++) {
        const k = P.idx[q]!;
        b.addPair(c, pA[k]!, pB[k]!, pV[k]!, pW[k]!);
      }
    }
  }
}

/**
 * Measurements (any kinds, any order) → choice data. Listwise orderings are formed per (slice, sample, kind,
 * direction, tie tolerance) *across sources*: a sample key names one dataset item, so two imports of the same
 * benchmark (lm-eval and Inspect logs hold one model each; a generic CSV per model; the pool's own runs) compare
 * their models on it. Keeping sources apart would leave every one-model file in orderings of one model, which carry
 * no information. Repeats of one model in a listwise ordering (several repeats, or the same model in two sources)
 * are averaged (running mean in arrival order); clusters are samples (`sample_key`, numbered in order of first
 * arrival), so a bootstrap over samples keeps every measurement of a sample together. Orderings are added cluster by
 * cluster; within a cluster, listwise groups in order of first arrival, then pairwise measurements in arrival order.
 * `pairwiseMatrix` (default true) also accumulates the "i above j" matrix used by the cycle diagnostic
 * (memory n² doubles). `battleWeights: 'dedupe'` sets every pairwise weight to 1. Streaming form: `ChoiceAccumulator`.
 */
export function choicesFromMeasurements(
  measurements: Iterable<PoolMeasurement>,
  opts: { ties?: TieConvention; pairwiseMatrix?: boolean; battleWeights?: 'counts' | 'dedupe' } = {},
): ChoiceData {
  const acc = new ChoiceAccumulator(opts);
  for (const m of measurements) acc.add(m);
  return acc.build();
}

/**
 * Sufficient statistics of the PL likelihood for cluster multiplicities `counts` (null = every cluster once):
 * `wins[i]` = Σ weight of events won by i; `setMult[s]` = Σ weight of events with choice set s.
 * Cost O(events).
 */
export function sufficientStats(d: ChoiceData, counts: Float64Array | Int32Array | null): { wins: Float64Array; setMult: Float64Array } {
  const wins = new Float64Array(d.models.length);
  const setMult = new Float64Array(d.setPtr.length - 1);
  const nC = d.clusters.length;
  for (let c = 0; c < nC; c++) {
    const k = counts ? counts[c]! : 1;
    if (k === 0) continue;
    for (let e = d.clusterPtr[c]!, end = d.clusterPtr[c + 1]!; e < end; e++) {
      const w = k * d.evWeight[e]!;
      wins[d.evWinner[e]!]! += w;
      setMult[d.evSet[e]!]! += w;
    }
  }
  return { wins, setMult };
}
