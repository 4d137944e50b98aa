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
import { collectGarbage } from '../core/gc.ts';
import { exactSum } from '../stats/sum.ts';

export type TieConvention = 'full' | 'half';

/**
 * Indices (models, choice sets) in the narrowest unsigned width that holds them: 1 byte while every index is below
 * 256, 2 below 65,536, else 4 (as Int32Array). Read element by element, all three give the same numbers.
 */
export type IndexArray = Uint8Array | Uint16Array | Int32Array;

/** Choice events grouped by cluster, with distinct choice sets interned (CSR). */
export interface ChoiceData {
  models: string[];
  /** Cluster (sample) keys (`clusters.get(c)`, `clusters.length`); events of cluster c are [clusterPtr[c], clusterPtr[c+1]). */
  clusters: KeyTable;
  clusterPtr: Int32Array;
  /** Winner (model index) of every event. */
  evWinner: IndexArray;
  /** Choice set of every event. */
  evSet: IndexArray;
  /** Weight of every event; null when every weight is 1 (listwise orderings, unit-weight battles): nothing stored. */
  evWeight: Float64Array | null;
  /** Distinct choice sets: members of set s are setIdx[setPtr[s] .. setPtr[s+1]). */
  setPtr: Int32Array;
  setIdx: IndexArray;
  ties: TieConvention;
  /** Orderings formed, and those that gave no event (one model only; all tied under `full`). */
  orderings: number;
  droppedSingle: number;
  droppedAllTied: number;
  /** Per model: number of clusters (samples) with at least one measurement, and measurements. */
  samplesPerModel: Int32Array;
  measurementsPerModel: Int32Array;
  /**
   * Per model: mean of its measurement values as measured (the direction is not applied: a lower-is-better metric's
   * mean is its mean, not its negative; for pairwise the win rate, each verdict counted by its weight) — the "mean
   * score" baseline.
   */
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

/** A typed array of the narrowest width of `IndexArray` for values up to `max`. */
function indexArray(length: number, max: number): IndexArray {
  return max < 256 ? new Uint8Array(length) : max < 65536 ? new Uint16Array(length) : new Int32Array(length);
}

/**
 * A growing array of indices (≥ 0, < 2³¹) in the narrowest width that holds every index pushed so far (`IndexArray`):
 * it starts at 1 byte an index and is copied to 2, then 4 bytes at the first index that needs it.
 */
export class GrowIndex {
  n = 0;
  /** The storage (entries [0, n) are in use; replaced when it grows or widens). */
  a: IndexArray;
  private max: number;
  constructor(capacity = 1024) {
    this.a = new Uint8Array(Math.max(16, capacity));
    this.max = 255;
  }
  push(v: number): void {
    if (v > this.max) this.widen(v);
    if (this.n === this.a.length) {
      const b = indexArray(this.a.length + (this.a.length >> 1), this.max);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  private widen(v: number): void {
    const b = indexArray(this.a.length, v);
    b.set(this.a.subarray(0, this.n));
    this.a = b;
    this.max = b instanceof Uint16Array ? 65535 : b instanceof Int32Array ? 0x7fffffff : 255;
  }
  view(): IndexArray {
    return this.a.subarray(0, this.n);
  }
}

/**
 * Measurement values, one bit each while every value added is 0 or 1 (binary verdicts), 4 bytes each once one is not
 * but all are float32 exactly (small integers, most scores; all are then copied), 8 bytes from the first one that is
 * not float32 exactly: a value read back is always the value added (−0 included: it is not stored as a bit).
 */
export class Values {
  private bits: Uint8Array | null;
  private g: Grow<Float32Array> | Grow<Float64Array> | null = null;
  private wide = false;
  n = 0;
  constructor(private readonly capacity = 1024) {
    this.bits = new Uint8Array(Math.max(1024, capacity) >> 3);
  }
  /** True while every value added is 0 or 1 (held as bits). */
  get binary(): boolean {
    return this.bits !== null;
  }
  /** Bytes held (for the benchmarks). */
  get bytes(): number {
    return this.bits ? this.bits.length : this.g!.a.byteLength;
  }
  push(v: number): void {
    const bits = this.bits;
    if (bits) {
      if (v === 1 || Object.is(v, 0)) {
        if (this.n >> 3 === bits.length) {
          const b = new Uint8Array(bits.length + (bits.length >> 1));
          b.set(bits);
          this.bits = b;
        }
        if (v === 1) this.bits![this.n >> 3]! |= 1 << (this.n & 7);
        this.n++;
        return;
      }
      // the first value that is not a bit: all to float32
      const a = new Float32Array(Math.max(1024, this.capacity, this.n + (this.n >> 1)));
      for (let i = 0; i < this.n; i++) a[i] = (bits[i >> 3]! >> (i & 7)) & 1;
      const g = new Grow(a, (n) => new Float32Array(n));
      g.n = this.n;
      this.g = g;
      this.bits = null;
    }
    if (!this.wide && !Object.is(Math.fround(v), v)) {
      const old = this.g!, b = new Float64Array(Math.max(1024, old.a.length));
      b.set(old.a.subarray(0, old.n));
      const g = new Grow(b, (n) => new Float64Array(n));
      g.n = old.n;
      this.g = g;
      this.wide = true;
    }
    this.g!.push(v);
    this.n++;
  }
  get(i: number): number {
    return this.bits ? (this.bits[i >> 3]! >> (i & 7)) & 1 : this.g!.a[i]!;
  }
  /** Set entry i (< n) to a value read from this array (so one the current storage holds). */
  set(i: number, v: number): void {
    const bits = this.bits;
    if (bits) {
      if (v) bits[i >> 3]! |= 1 << (i & 7);
      else bits[i >> 3]! &= ~(1 << (i & 7));
    } else this.g!.a[i] = v;
  }
}

/** MurmurHash3's 32-bit finaliser (Appleby, smhasher): every input bit moves every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/**
 * Distinct strings (the samples' keys) numbered in order of first arrival, held in typed arrays: the characters of
 * each key once (1 byte each while every character seen is below U+0100, else 2: all are then copied), its start
 * (4 bytes), its hash (4) and an open-addressing hash table at most half full (4–8 per key): about 30 bytes for a
 * 14-character key, where a `Map` of strings takes about 100 (the string, the entry, the array of names).
 * `get(i)` makes the i-th key again as a string.
 */
export class KeyTable {
  /**
   * The hash's start, random per table: keys made to collide under one start (an FNV-1a state collision is a few
   * characters away) do not under another, so a crafted file cannot make every lookup walk one chain. Nothing depends
   * on it but speed: keys are numbered in order of arrival.
   */
  readonly #seed = crypto.getRandomValues(new Int32Array(1))[0]!;
  private chars: Uint8Array | Uint16Array = new Uint8Array(4096);
  private nChars = 0;
  /** Key i's characters are chars[start[i] .. start[i + 1]). */
  private start = new Int32Array(1024);
  private hashes: Int32Array = new Int32Array(1024);
  private table: Int32Array = new Int32Array(2048).fill(-1);
  private n = 0;
  private dropped = false;
  #longestProbe = 0;
  /**
   * The most slots one `intern` has looked at past its first (a diagnostic: small unless keys collide). The seed and
   * this are #private, so two tables of the same keys compare equal (assert.deepStrictEqual) whatever their seeds.
   */
  get longestProbe(): number {
    return this.#longestProbe;
  }
  /** Number of keys. */
  get length(): number {
    return this.n;
  }
  /** FNV-1a over the UTF-16 code units from the table's random start, then mixed. */
  private hash(key: string): number {
    let h = this.#seed ^ key.length;
    for (let k = 0; k < key.length; k++) h = Math.imul(h ^ key.charCodeAt(k), 0x01000193);
    return fmix32(h);
  }
  /**
   * Look `key` (hash `h`) up: its number, or −(slot + 1) for the empty slot where it would go.
   * Errors: Error after `freeze()`.
   */
  private probe(key: string, h: number): number {
    const L = key.length;
    const table = this.table, mask = table.length - 1, start = this.start, hs = this.hashes, chars = this.chars;
    if (!table.length) throw new Error('KeyTable: no lookup after freeze()');
    for (let i = h & mask, probes = 0; ; i = (i + 1) & mask) {
      const t = table[i]!;
      if (t < 0) return -(i + 1);
      if (++probes > this.#longestProbe) this.#longestProbe = probes;
      if (hs[t] !== h) continue;
      const a = start[t]!;
      if (start[t + 1]! - a !== L) continue;
      let k = 0;
      while (k < L && chars[a + k] === key.charCodeAt(k)) k++;
      if (k === L) return t;
    }
  }
  /** The number of `key`, or −1 when it is not a key (no key is added). Errors: Error after `freeze()`. */
  indexOf(key: string): number {
    const r = this.probe(key, this.hash(key));
    return r >= 0 ? r : -1;
  }
  /** The number of `key` (a new one: the next number). Errors: Error after `freeze()`. */
  intern(key: string): number {
    const h = this.hash(key);
    const r = this.probe(key, h);
    if (r >= 0) return r;
    const i = -r - 1, table = this.table, L = key.length;
    let wide = false;
    if (this.chars instanceof Uint8Array) for (let k = 0; k < L && !wide; k++) wide = key.charCodeAt(k) > 255;
    const id = this.n++;
    table[i] = id;
    if (this.n + 1 > this.start.length) {
      const size = this.start.length + (this.start.length >> 1);
      const st = new Int32Array(size), hh = new Int32Array(size);
      st.set(this.start);
      hh.set(this.hashes);
      this.start = st;
      this.hashes = hh;
    }
    this.hashes[id] = h;
    if (wide && this.chars instanceof Uint8Array) {
      const w = new Uint16Array(this.chars.length);
      w.set(this.chars.subarray(0, this.nChars));
      this.chars = w;
    }
    if (this.nChars + L > this.chars.length) {
      const size = Math.max(this.nChars + L, this.chars.length + (this.chars.length >> 1));
      const b = this.chars instanceof Uint8Array ? new Uint8Array(size) : new Uint16Array(size);
      b.set(this.chars.subarray(0, this.nChars));
      this.chars = b;
    }
    for (let k = 0; k < L; k++) this.chars[this.nChars++] = key.charCodeAt(k);
    this.start[id + 1] = this.nChars;
    if (2 * this.n > this.table.length) {
      const next = new Int32Array(this.table.length * 2).fill(-1), m2 = next.length - 1;
      for (let t = 0; t < this.n; t++) {
        let j = this.hashes[t]! & m2;
        while (next[j]! >= 0) j = (j + 1) & m2;
        next[j] = t;
      }
      this.table = next;
    }
    return id;
  }
  /** Key i as a string. Errors: RangeError when i is not a key's number. */
  get(i: number): string {
    if (!(i >= 0 && i < this.n)) throw new RangeError(`no key ${i} (${this.n} keys)`);
    if (this.dropped) throw new RangeError('the keys were not kept (freeze(false))');
    const a = this.start[i]!, b = this.start[i + 1]!;
    let out = '';
    for (let k = a; k < b; k += 4096) out += String.fromCharCode(...this.chars.subarray(k, Math.min(b, k + 4096)));
    return out;
  }
  /**
   * Drop the lookup table: no key can be added afterwards. `get` still works unless `keepKeys` is false, which drops
   * the keys too (only their number is kept; `get` then throws). Once or more.
   */
  freeze(keepKeys = true): void {
    this.table = new Int32Array(0);
    this.hashes = new Int32Array(0);
    if (!keepKeys) {
      this.chars = new Uint8Array(0);
      this.start = new Int32Array(0);
      this.dropped = true;
    }
  }
  *[Symbol.iterator](): IterableIterator<string> {
    for (let i = 0; i < this.n; i++) yield this.get(i);
  }
}

/**
 * Typed arrays on shared memory: the arrays of the bootstrap problem, which worker threads then read in place
 * instead of receiving a copy each (src/aggregate/pl-bootstrap.ts).
 */
export const sharedInt32 = (n: number): Int32Array => new Int32Array(new SharedArrayBuffer(4 * n));
export const sharedFloat64 = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(8 * n));
/** A copy of `a` on shared memory, of the same type. */
export function sharedCopy<A extends IndexArray | Float64Array>(a: A): A {
  const b = new (a.constructor as new (buf: SharedArrayBuffer) => A)(new SharedArrayBuffer(a.byteLength));
  b.set(a);
  return b;
}

/**
 * Incremental builder of `ChoiceData` (models and clusters are interned by name). Used directly by the
 * validation harness and the benchmark (no per-measurement objects); `choicesFromMeasurements` wraps it.
 */
export class ChoiceBuilder {
  readonly models: string[] = [];
  /** The clusters' keys: interned by `cluster(key)`, or a table given whole (`opts.clusters`, then `clusterAt`). */
  readonly clusters: KeyTable;
  private readonly given: boolean;
  private modelIndex = new Map<string, number>();
  /** Open-addressing hash table of the interned choice sets (set ids, −1 empty; size a power of two, at most half full). */
  private setTable = new Int32Array(1024).fill(-1);
  private setHash = growI32();
  private setPtr = growI32();
  private setIdx = new GrowIndex();
  /**
   * Events per cluster while they arrive in cluster order (`ChoiceAccumulator` and `choicesFromMatrix` add them so):
   * no cluster is stored per event. `evCluster` is made (from these counts) at the first event out of order.
   */
  private evCount = growI32();
  private lastEvCluster = 0;
  private evCluster: Grow<Int32Array> | null = null;
  private evWinner = new GrowIndex();
  private evSet = new GrowIndex();
  /** Null while every weight is 1. */
  private evWeight: Grow<Float64Array> | null = null;
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

  /**
   * `opts.clusters`: the clusters' keys given whole (a matrix's samples, which every cluster is, in that order): they
   * are then named by number (`clusterAt`) and not interned again; the table is shared, not copied.
   */
  constructor(
    readonly ties: TieConvention,
    opts: { pairwiseMatrix?: boolean; clusters?: KeyTable } = {},
  ) {
    this.clusters = opts.clusters ?? new KeyTable();
    this.given = opts.clusters !== undefined;
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

  /** The number of cluster `key` (numbered in order of first arrival). Errors: Error when the clusters were given whole. */
  cluster(key: string): number {
    if (this.given) throw new Error('ChoiceBuilder: the clusters were given whole (use clusterAt)');
    const c = this.clusters.intern(key);
    if (c === this.evCount.n) this.evCount.push(0);
    return c;
  }

  /**
   * Cluster number `c` of the clusters given whole, each taken in turn (c = 0, 1, 2, …, every one).
   * Errors: Error without given clusters, or out of turn.
   */
  clusterAt(c: number): number {
    if (!this.given) throw new Error('ChoiceBuilder: clusterAt needs the clusters given whole');
    if (c === this.evCount.n) this.evCount.push(0);
    else if (c !== this.evCount.n - 1) throw new Error(`ChoiceBuilder: cluster ${c} out of turn (next is ${this.evCount.n})`);
    return c;
  }

  private touch(m: number, c: number, score: number, w = 1) {
    this.measurementsPerModel[m]!++;
    // weighted running mean (sumScore holds the mean so far, nScore the weight so far): a plain sum of values near
    // ±1.8e308 would overflow to ±Infinity. A battle's weight counts identical verdicts; weight 0 counts nothing.
    if (w > 0) {
      const k = (this.nScore[m]! += w);
      this.sumScore[m] = runningMean(this.sumScore[m]!, score, w, k);
    }
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
    if (this.evCluster) this.evCluster.push(c);
    else if (c >= this.lastEvCluster) {
      this.evCount.a[c]!++;
      this.lastEvCluster = c;
    } else {
      // the first event out of cluster order: the cluster of every event so far (in order) from the counts
      const nE = this.evWinner.n, g = new Grow(new Int32Array(Math.max(1024, nE + (nE >> 1))), (n) => new Int32Array(n)), cnt = this.evCount.a;
      for (let k = 0; k <= this.lastEvCluster; k++) for (let j = 0; j < cnt[k]!; j++) g.push(k);
      g.push(c);
      this.evCluster = g;
    }
    this.evWinner.push(winner);
    this.evSet.push(set);
    if (this.evWeight) this.evWeight.push(w);
    else if (w !== 1) {
      // the first weight other than 1: every earlier one was 1
      const nE = this.evWinner.n - 1, g = new Grow(new Float64Array(Math.max(1024, nE + (nE >> 1))), (n) => new Float64Array(n));
      g.a.fill(1, 0, nE);
      g.n = nE;
      g.push(w);
      this.evWeight = g;
    }
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
    // the mean score is of the values as measured (a lower-is-better metric's mean, not its negative)
    for (let k = 0; k < n; k++) this.touch(ms[k]!, c, vs[k]!);
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
      if (blocks.length && top - v <= tol + tieSlack(top, v, tol)) blocks[blocks.length - 1]!.push(ms[k]!);
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
    this.touch(a, c, v, w);
    this.touch(b, c, 1 - v, w);
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
    const evC = this.evCluster?.view() ?? null;
    let sorted = true;
    if (evC) {
      for (let e = 0; e < nE; e++) {
        clusterPtr[evC[e]! + 1]!++;
        if (e && evC[e]! < evC[e - 1]!) sorted = false;
      }
    } else clusterPtr.set(this.evCount.view().subarray(0, nC), 1);
    this.evCount = growI32();
    for (let c = 0; c < nC; c++) clusterPtr[c + 1]! += clusterPtr[c]!;
    this.setTable = new Int32Array(0);
    this.setHash = growI32();
    const toShared = <A extends IndexArray | Float64Array>(a: A): A => {
      if (sorted) return sharedCopy(a);
      const b = new (a.constructor as new (buf: SharedArrayBuffer) => A)(new SharedArrayBuffer(a.byteLength));
      const pos = clusterPtr.slice(0, nC);
      for (let e = 0; e < nE; e++) b[pos[evC![e]!]!++] = a[e]!;
      return b;
    };
    // a large growing array, once copied and released, is collected before the next copy is made (V8 frees an
    // ArrayBuffer only when a collection finds it unreachable): the copies then never stand beside all the originals
    const released = (bytes: number) => {
      if (bytes >= 8 << 20) collectGarbage();
    };
    const evWinner = toShared(this.evWinner.view());
    this.evWinner = new GrowIndex();
    released(evWinner.byteLength);
    const evSet = toShared(this.evSet.view());
    this.evSet = new GrowIndex();
    released(evSet.byteLength);
    const evWeight = this.evWeight ? toShared(this.evWeight.view()) : null;
    this.evWeight = null;
    this.evCluster = null;
    if (evWeight) released(evWeight.byteLength);
    const setPtr = sharedInt32(this.setPtr.n);
    setPtr.set(this.setPtr.view());
    this.setPtr = growI32();
    released(setPtr.byteLength);
    const setIdx = sharedCopy(this.setIdx.view());
    this.setIdx = new GrowIndex();
    released(setIdx.byteLength);
    this.clusters.freeze();
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

/**
 * The rounding slack of the tie test `top − v ≤ tol`: 2·2⁻⁵² of the largest magnitude involved (2 to 4 units in the last
 * place), the most that rounding the decimal values, the tolerance and the difference can add, so that a tolerance
 * written in decimal holds as written (1.1 − 1.0 is 0.10000000000000009 in binary: within 0.1), while values more
 * than 4 units in the last place apart stay distinct at every scale (1e-13 and 0 at tolerance 0, as tie_tolerance 0
 * says, where a fixed band of 1e-12 used before tied them; 10¹⁵ + 1 and 10¹⁵). Means of repeats are exact sums
 * rounded once (`formOrderings`), so equal repeats in any order tie exactly.
 */
function tieSlack(top: number, v: number, tol: number): number {
  return 2 * Number.EPSILON * Math.max(Math.abs(top), Math.abs(v), tol);
}

/** The mean after adding value `v` with weight `w`, the weight now being `k` in all (West 1979, weighted update). */
function runningMean(mean: number, v: number, w: number, k: number): number {
  return k === w ? v : mean * ((k - w) / k) + v * (w / k);
}

const KIND_ID: Record<string, number> = { binary: 0, numeric: 1, ordinal: 2 };

/**
 * Measurements (any kinds, any order) → choice data, one measurement at a time, holding only compact typed arrays
 * and 36 bytes per (slice, sample, kind, direction, tie tolerance) group. A listwise measurement takes 4 bytes (its
 * group) + its model index (1 byte up to 256 models, 2 up to 65,536, else 4: `GrowIndex`) + its value (1 bit while
 * every value is 0 or 1, else 4 bytes while every value is a float32 exactly, else 8: `Values`), so 5.1 bytes for a
 * binary verdict among at most 256 models; a pairwise one 20 to 28 bytes. The group: a pool streamed from the store is never held as objects. `build()` gives exactly what
 * `choicesFromMeasurements` gives for the same measurements in the same order (same model, cluster, set and event
 * order), which is defined there. Errors: none (values are taken as given; the importers check them).
 */
export class ChoiceAccumulator {
  private b: ChoiceBuilder | null;
  private readonly dedupe: boolean;
  private readonly keepKeys: boolean;
  private sliceIndex = new Map<string, number>();
  private lastSliceName: string | null = null;
  private lastSlice = 0;
  private lastModelName: string | null = null;
  private lastModel = 0;
  /**
   * Group types: the distinct (slice, kind, direction, tie tolerance) of the listwise groups (usually a few), each
   * group storing its type's number (`GrowIndex`) instead of the four fields.
   */
  private typeIndex = new Map<string, number>();
  private typeDir: number[] = [];
  private typeTol: number[] = [];
  private lastType = -1;
  private lastTypeSlice = -1;
  private lastTypeKind = -1;
  private lastTypeDir = 0;
  private lastTypeTol = NaN;
  /** First group of every cluster (−1: none), and per group its type and the next group of its cluster (−1: none). */
  private head = growI32();
  private gType = new GrowIndex();
  private gNext = growI32();
  private eG = growI32();
  private eM = new GrowIndex();
  private eV = new Values();
  private pC = growI32();
  private pA = new GrowIndex();
  private pB = new GrowIndex();
  private pV = growF64();
  private pW = growF64();
  /** Measurements added. */
  count = 0;

  /**
   * `expected`: the number of listwise measurements expected, when known (an upper bound does): the arrays of the
   * entries are then made once at that size instead of growing. `sampleKeys: false`: the choice data keeps only the
   * number of samples, not their keys (`clusters.get` throws; a ranking needs no key: about 20 bytes per sample less).
   */
  constructor(opts: { ties?: TieConvention; pairwiseMatrix?: boolean; battleWeights?: 'counts' | 'dedupe'; expected?: number; sampleKeys?: boolean } = {}) {
    this.b = new ChoiceBuilder(opts.ties ?? 'full', { pairwiseMatrix: opts.pairwiseMatrix });
    this.dedupe = opts.battleWeights === 'dedupe';
    this.keepKeys = opts.sampleKeys !== false;
    const cap = Math.max(1024, Math.floor(opts.expected ?? 0));
    if (cap > 1024) {
      this.eG = new Grow(new Int32Array(cap), (n) => new Int32Array(n));
      this.eM = new GrowIndex(cap);
      this.eV = new Values(cap);
    }
  }

  /** Add one measurement (only its slice, sample_key, model, opponent, kind, value, direction, tie_tolerance and weight are read). */
  add(m: Pick<PoolMeasurement, 'slice' | 'sample_key' | 'model' | 'opponent' | 'kind' | 'value' | 'direction' | 'tie_tolerance' | 'weight'>): void {
    this.count++;
    const b = this.b;
    if (!b) throw new Error('ChoiceAccumulator.add() after build()');
    const c = b.cluster(m.sample_key);
    // rows come grouped by model (the store's key order): the last model's number again, without a lookup
    const a = m.model === this.lastModelName ? this.lastModel : (this.lastModel = b.model((this.lastModelName = m.model)));
    const kind = KIND_ID[m.kind];
    if (kind !== undefined) {
      const tol = kind === 1 ? m.tie_tolerance : 0;
      let sl = this.lastSliceName === m.slice ? this.lastSlice : this.sliceIndex.get(m.slice);
      if (sl === undefined) this.sliceIndex.set(m.slice, (sl = this.sliceIndex.size));
      this.lastSliceName = m.slice;
      this.lastSlice = sl;
      // the group type (rows come grouped by source and slice: the last one again, nearly always); tolerances equal
      // by ===, or both NaN
      let t = this.lastType;
      if (!(sl === this.lastTypeSlice && kind === this.lastTypeKind && m.direction === this.lastTypeDir && (tol === this.lastTypeTol || (tol !== tol && this.lastTypeTol !== this.lastTypeTol)))) {
        const key = `${sl}\u0000${kind}\u0000${m.direction}\u0000${tol === 0 ? 0 : tol}`;
        const known = this.typeIndex.get(key);
        if (known === undefined) {
          t = this.typeDir.length;
          this.typeIndex.set(key, t);
          this.typeDir.push(m.direction < 0 ? -1 : 1);
          this.typeTol.push(tol);
        } else t = known;
        this.lastType = t;
        this.lastTypeSlice = sl;
        this.lastTypeKind = kind;
        this.lastTypeDir = m.direction;
        this.lastTypeTol = tol;
      }
      // The groups of cluster c form a chain (head per cluster, next per group), searched by type: usually one group
      // per cluster, so no key string per measurement.
      while (this.head.n <= c) this.head.push(-1);
      const heads = this.head.a;
      let g = heads[c]!;
      const gT = this.gType.a, gN = this.gNext.a;
      while (g >= 0 && gT[g] !== t) g = gN[g]!;
      if (g < 0) {
        g = this.gNext.n;
        this.gType.push(t);
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
    // every sample is known: the keys' lookup table is not needed any more
    b.clusters.freeze(this.keepKeys);
    this.formOrderings(b);
    this.gNext = this.eG = this.head = this.pC = growI32();
    this.eM = this.pA = this.pB = this.gType = new GrowIndex();
    this.pV = this.pW = growF64();
    this.eV = new Values();
    this.sliceIndex = new Map();
    this.b = null;
    return b.build();
  }

  /**
   * The entries put in group order, arrival order within a group (a stable counting sort), in place: each entry's
   * place is written over its group id, then models and values are permuted by following the cycles. Returns where
   * each group's entries start (length groups + 1); the group ids are released.
   */
  private sortEntries(): Int32Array {
    const nG = this.gNext.n, nE = this.eG.n;
    const gPtr = new Int32Array(nG + 1);
    const eG = this.eG.view(), eM = this.eM.view(), eV = this.eV;
    for (let e = 0; e < nE; e++) gPtr[eG[e]! + 1]!++;
    for (let g = 0; g < nG; g++) gPtr[g + 1]! += gPtr[g]!;
    const pos = gPtr.slice(0, nG);
    for (let e = 0; e < nE; e++) eG[e] = pos[eG[e]!]!++;
    for (let i = 0; i < nE; i++) {
      while (eG[i] !== i) {
        const j = eG[i]!;
        const m = eM[i]!, v = eV.get(i);
        eM[i] = eM[j]!;
        eV.set(i, eV.get(j));
        eM[j] = m;
        eV.set(j, v);
        eG[i] = eG[j]!;
        eG[j] = j;
      }
    }
    // no longer needed (every entry is in its place): released before the choice data is made
    this.eG = growI32();
    return gPtr;
  }

  private formOrderings(b: ChoiceBuilder): void {
    const nC = b.clusters.length;
    const nP = this.pC.n;
    const gPtr = this.sortEntries();
    // the group ids and the keys' lookup table (4 bytes per measurement, 12 per sample) released: freed now, before
    // the choice data grows, when they are large
    if (this.eM.n > 1e6) collectGarbage();
    const eM = this.eM.view(), eV = this.eV;
    const byCluster = (cs: Int32Array, n: number): { ptr: Int32Array; idx: Int32Array } => {
      const ptr = new Int32Array(nC + 1);
      for (let k = 0; k < n; k++) ptr[cs[k]! + 1]!++;
      for (let c = 0; c < nC; c++) ptr[c + 1]! += ptr[c]!;
      const idx = new Int32Array(n);
      const pos = ptr.slice(0, nC);
      for (let k = 0; k < n; k++) idx[pos[cs[k]!]!++] = k;
      return { ptr, idx };
    };
    const P = byCluster(this.pC.view(), nP);
    const heads = this.head.a, nHead = this.head.n, gN = this.gNext.a, gT = this.gType.a, typeDir = this.typeDir, typeTol = this.typeTol;
    const pA = this.pA.view(), pB = this.pB.view(), pV = this.pV.view(), pW = this.pW.view();
    const slot = new Int32Array(b.models.length).fill(-1);
    const ms: number[] = [], vs: number[] = [], ns: number[] = [];
    for (let c = 0; c < nC; c++) {
      // the cluster's groups in order of first arrival (their chain)
      for (let g = c < nHead ? heads[c]! : -1; g >= 0; g = gN[g]!) {
        ms.length = 0;
        vs.length = 0;
        ns.length = 0;
        for (let p = gPtr[g]!; p < gPtr[g + 1]!; p++) {
          const e = p, mi = eM[e]!;
          const k = slot[mi]!;
          if (k < 0) {
            slot[mi] = ms.length;
            ms.push(mi);
            vs.push(eV.get(e));
            ns.push(1);
          } else vs[k] = runningMean(vs[k]!, eV.get(e), 1, ++ns[k]!);
        }
        // Repeats of a model (epochs; a model in two sources) are averaged from their correctly rounded sum, so the
        // same values in any order give the same mean and tie at tolerance 0 (the running mean above depends on the
        // order: 0.1, 0.2, −0.3 and −0.3, 0.2, 0.1 gave 1.4e-17 and 6.9e-18). The running mean stays where the
        // exact sum overflows.
        if (ns.some((x) => x > 1)) {
          for (let k = 0; k < ms.length; k++) {
            if (ns[k]! < 2) continue;
            const vals: number[] = [];
            for (let p = gPtr[g]!; p < gPtr[g + 1]!; p++) if (eM[p] === ms[k]) vals.push(eV.get(p));
            const m = exactSum(vals) / vals.length;
            if (Number.isFinite(m)) vs[k] = m;
          }
        }
        for (const mi of ms) slot[mi] = -1;
        b.addListwise(c, ms.slice(), vs.slice(), typeDir[gT[g]!]! < 0 ? -1 : 1, typeTol[gT[g]!]!);
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
  sufficientStatsInto(d, counts, null, wins, setMult);
  return { wins, setMult };
}

/**
 * `sufficientStats` into given arrays (filled with 0 first; `setMult` may be an Int32Array when every sum is a whole
 * number below 2³¹), clusters in order: the bootstrap's form (src/aggregate/pl-bootstrap.ts). Cluster c counts
 * `counts[c]` times, plus `over.get(c)` when given (multiples of 256 of byte-wide counts that wrapped).
 */
export function sufficientStatsInto(
  d: Pick<ChoiceData, 'clusterPtr' | 'evWinner' | 'evSet' | 'evWeight'>,
  counts: ArrayLike<number> | null,
  over: ReadonlyMap<number, number> | null,
  wins: Float64Array,
  setMult: Float64Array | Int32Array,
): void {
  wins.fill(0);
  setMult.fill(0);
  const nC = d.clusterPtr.length - 1, ew = d.evWeight;
  for (let c = 0; c < nC; c++) {
    let k = counts ? counts[c]! : 1;
    if (over !== null) k += over.get(c) ?? 0;
    if (k === 0) continue;
    for (let e = d.clusterPtr[c]!, end = d.clusterPtr[c + 1]!; e < end; e++) {
      const w = ew ? k * ew[e]! : k;
      wins[d.evWinner[e]!]! += w;
      setMult[d.evSet[e]!]! += w;
    }
  }
}
