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

/** A typed array that grows by doubling (Int32Array or Float64Array). */
class Grow<A extends Int32Array | Float64Array> {
  n = 0;
  constructor(
    private a: A,
    private readonly make: (length: number) => A,
  ) {}
  push(v: number) {
    if (this.n === this.a.length) {
      const b = this.make(this.a.length * 2);
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
 * Incremental builder of `ChoiceData` (models and clusters are interned by name). Used directly by the
 * validation harness and the benchmark (no per-measurement objects); `choicesFromMeasurements` wraps it.
 */
export class ChoiceBuilder {
  readonly models: string[] = [];
  readonly clusters: string[] = [];
  private modelIndex = new Map<string, number>();
  private clusterIndex = new Map<string, number>();
  private setIndex = new Map<string, number>();
  private setPtr = growI32();
  private setIdx = growI32();
  private evCluster = growI32();
  private evWinner = growI32();
  private evSet = growI32();
  private evWeight = growF64();
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

  private intern(members: number[]): number {
    members.sort((a, b) => a - b);
    const key = members.join(',');
    let s = this.setIndex.get(key);
    if (s === undefined) {
      s = this.setIndex.size;
      this.setIndex.set(key, s);
      for (const m of members) this.setIdx.push(m);
      this.setPtr.push(this.setIdx.n);
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

  /** Finish: events sorted by cluster (stable counting sort). */
  build(): ChoiceData {
    const nC = this.clusters.length;
    const nE = this.evWinner.n;
    const clusterPtr = new Int32Array(nC + 1);
    const evC = this.evCluster.view();
    for (let e = 0; e < nE; e++) clusterPtr[evC[e]! + 1]!++;
    for (let c = 0; c < nC; c++) clusterPtr[c + 1]! += clusterPtr[c]!;
    const pos = clusterPtr.slice(0, nC);
    const evWinner = new Int32Array(nE), evSet = new Int32Array(nE), evWeight = new Float64Array(nE);
    const w0 = this.evWinner.view(), s0 = this.evSet.view(), g0 = this.evWeight.view();
    for (let e = 0; e < nE; e++) {
      const p = pos[evC[e]!]!++;
      evWinner[p] = w0[e]!;
      evSet[p] = s0[e]!;
      evWeight[p] = g0[e]!;
    }
    const n = this.models.length;
    let above: Float64Array | null = null;
    if (this.above) {
      above = new Float64Array(n * n);
      for (let i = 0; i < n; i++) above.set(this.above.subarray(i * this.aboveCap, i * this.aboveCap + n), i * n);
    }
    return {
      models: this.models.slice(), clusters: this.clusters.slice(), clusterPtr, evWinner, evSet, evWeight,
      setPtr: this.setPtr.view().slice(), setIdx: this.setIdx.view().slice(), ties: this.ties,
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

const LISTWISE = new Set(['binary', 'numeric', 'ordinal']);

/**
 * Measurements (any kinds, any order) → choice data. Listwise orderings are formed per (slice, sample, kind,
 * direction, tie tolerance) *across sources*: a sample key names one dataset item, so two imports of the same
 * benchmark (lm-eval and Inspect logs hold one model each; a generic CSV per model; the pool's own runs) compare
 * their models on it. Keeping sources apart would leave every one-model file in orderings of one model, which carry
 * no information. Repeats of one model in a listwise ordering (several repeats, or the same model in two sources)
 * are averaged; clusters are samples (`sample_key`), so a bootstrap over samples keeps every measurement of a
 * sample together.
 * `pairwiseMatrix` (default true) also accumulates the "i above j" matrix used by the cycle diagnostic
 * (memory n² doubles). `battleWeights: 'dedupe'` sets every pairwise weight to 1.
 */
export function choicesFromMeasurements(
  measurements: Iterable<PoolMeasurement>,
  opts: { ties?: TieConvention; pairwiseMatrix?: boolean; battleWeights?: 'counts' | 'dedupe' } = {},
): ChoiceData {
  const b = new ChoiceBuilder(opts.ties ?? 'full', { pairwiseMatrix: opts.pairwiseMatrix });
  type Group = { c: number; dir: 1 | -1; tol: number; byModel: Map<number, { s: number; n: number }> };
  type Pair = { c: number; a: number; b: number; v: number; w: number };
  const groups = new Map<string, Group>();
  const pairs: Pair[] = [];
  for (const m of measurements) {
    const c = b.cluster(m.sample_key);
    const a = b.model(m.model);
    if (LISTWISE.has(m.kind)) {
      const tol = m.kind === 'numeric' ? m.tie_tolerance : 0;
      const key = JSON.stringify([m.slice, m.sample_key, m.kind, m.direction, tol]);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { c, dir: m.direction, tol, byModel: new Map() }));
      const r = g.byModel.get(a);
      if (r) r.s = runningMean(r.s, m.value, ++r.n);
      else g.byModel.set(a, { s: m.value, n: 1 });
    } else {
      pairs.push({ c, a, b: b.model(m.opponent), v: m.value, w: opts.battleWeights === 'dedupe' ? 1 : m.weight });
    }
  }
  const items: (Group | Pair)[] = [...groups.values(), ...pairs];
  groups.clear();
  items.sort((x, y) => x.c - y.c);
  for (const it of items) {
    if ('byModel' in it) {
      const ms: number[] = [], vs: number[] = [];
      for (const [mi, r] of it.byModel) {
        ms.push(mi);
        vs.push(r.s);
      }
      b.addListwise(it.c, ms, vs, it.dir, it.tol);
    } else b.addPair(it.c, it.a, it.b, it.v, it.w);
  }
  return b.build();
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
