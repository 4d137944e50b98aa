/**
 * Model-merging rules, applied to one tensor at a time (pure functions on float arrays; the GGUF streaming is in
 * merge.ts). Parents θ_1 … θ_K are in time order (oldest first); the methods that work on task vectors take a base θ_b
 * (the common initialisation) and τ_t = θ_t − θ_b. Arithmetic is in float64 per element, rounded once on output.
 *
 * TIME (Dziadzio, Udandarao, Roth et al., "How to Merge Your Multimodal Models Over Time?", 2024/2025) studies merging
 * along a stream on three axes: the merging technique (these methods), the initialisation of the next update and the
 * deployment choice (which weights are served). The latter two are choices of the training loop, not of the merge
 * arithmetic; a spec names them (`time`) so they are recorded with the merged model.
 */
import { z } from 'zod';
import { hashUniform } from '../core/hash.ts';
import { createRng } from '../core/rng.ts';

const Time = z.object({ initialization: z.string().optional(), deployment: z.string().optional() }).strict().optional();
const Weights = z.array(z.number().finite()).min(1).optional();

/** A merge spec (validated; what the merged file records under `assay.merge.spec`). */
export const MergeSpecSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('average'), weights: Weights, time: Time }).strict(),
  z.object({ method: z.literal('ema'), beta: z.number().min(0).max(1), time: Time }).strict(),
  z.object({ method: z.literal('task_arithmetic'), lambda: z.number().finite().optional(), weights: Weights, time: Time }).strict(),
  z.object({ method: z.literal('ties'), density: z.number().gt(0).max(1), lambda: z.number().finite().optional(), time: Time }).strict(),
  z.object({ method: z.literal('dare'), drop: z.number().min(0).lt(1), seed: z.number().int(), lambda: z.number().finite().optional(), weights: Weights, time: Time }).strict(),
]);
export type MergeSpec = z.infer<typeof MergeSpecSchema>;

/** Whether a method works on task vectors (needs a base model). */
export function needsBase(spec: MergeSpec): boolean {
  return spec.method === 'task_arithmetic' || spec.method === 'ties' || spec.method === 'dare';
}

/**
 * Weights of an exponential moving average over parents in time order: ema_1 = θ_1, ema_t = β·ema_{t−1} + (1−β)·θ_t,
 * so θ_1 gets β^{K−1} and θ_t (t ≥ 2) gets (1−β)·β^{K−t}; they sum to 1. (EMA over time: TIME's "EMA" merge.)
 */
export function emaWeights(k: number, beta: number): number[] {
  return Array.from({ length: k }, (_, i) => (i === 0 ? beta ** (k - 1) : (1 - beta) * beta ** (k - 1 - i)));
}

/**
 * The 32-bit seed of DARE's drop mask for one tensor of one parent: the first 32 bits of
 * sha256(`seed \0 dare \0 tensor \0 parent`) (so a mask depends only on the recorded seed, the tensor's name and the
 * parent's position, never on processing order).
 */
export function dareSeed(seed: number, tensor: string, parent: number): number {
  return Math.floor(hashUniform(seed, `dare\u0000${tensor}\u0000${parent}`) * 2 ** 32) | 0;
}

/**
 * The k-th smallest value (0-based) of `a`, which is reordered in place: quickselect with a median-of-three pivot and
 * Hoare partitioning (Hoare 1961, "Algorithm 65: FIND", CACM 4:321), O(n) on average, where a full sort is
 * O(n log n). Errors: RangeError for k outside [0, a.length).
 */
export function kthSmallest(a: Float64Array, k: number): number {
  if (!(k >= 0 && k < a.length)) throw new RangeError(`k = ${k} outside [0, ${a.length})`);
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of a[lo], a[mid], a[hi] as the pivot
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/**
 * TIES's trim of one parent's task vector τ (n entries): keep the m = round(density · n) entries of largest |τ|, ties
 * at the threshold broken by lower index. As a rule that can be applied a piece at a time: every entry with
 * |τ| > `threshold` is kept, and of the entries with |τ| = `threshold` the first `ties` in index order; `all` keeps
 * every entry (m ≥ n), `none` none (m ≤ 0). `threshold` is the (n − m)-th smallest |τ| (0-based).
 */
export type TrimRule = { kind: 'all' } | { kind: 'none' } | { kind: 'threshold'; threshold: number; ties: number };

/** The trim rule of a whole task vector in memory ({@link TrimRule}). */
export function trimRule(tau: Float64Array | Float32Array, density: number): TrimRule {
  const n = tau.length;
  const m = Math.round(density * n);
  if (m <= 0) return { kind: 'none' };
  if (m >= n) return { kind: 'all' };
  const abs = new Float64Array(n);
  for (let i = 0; i < n; i++) abs[i] = Math.abs(tau[i]!);
  const thr = kthSmallest(abs.slice(), n - m);
  let above = 0;
  for (let i = 0; i < n; i++) if (abs[i]! > thr) above++;
  return { kind: 'threshold', threshold: thr, ties: m - above };
}

/**
 * The trim rule of a task vector read in pieces, never whole (tensors too large for memory): the threshold is found
 * by radix selection on the bit patterns of |τ| (non-negative doubles order like their bits as unsigned integers) —
 * one pass per 16 bits, each counting the next 16 bits of the entries still in the running, until the entries that
 * can still be the threshold are at most `maxCollect`; a last pass collects them and selects exactly. The result
 * equals {@link trimRule} on the whole vector.
 * @param n entries in the task vector
 * @param pieces a fresh pass over |τ| in index order, piece by piece (called once per pass: at most 5 passes)
 * @param maxCollect how many candidate values one pass may hold in memory
 */
export function trimRuleStreaming(n: number, density: number, pieces: () => Iterable<Float64Array>, maxCollect: number): TrimRule {
  const m = Math.round(density * n);
  if (m <= 0) return { kind: 'none' };
  if (m >= n) return { kind: 'all' };
  let k = n - m; // rank (0-based) of the threshold among the entries still in the running
  let less = 0; // entries known to be below the threshold
  const prefix: number[] = []; // the 16-bit digits fixed so far, most significant first
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer); // little-endian: u[1] high word, u[0] low word
  const digit = (level: number) => (level === 0 ? u[1]! >>> 16 : level === 1 ? u[1]! & 0xffff : level === 2 ? u[0]! >>> 16 : u[0]! & 0xffff);
  const matches = () => {
    for (let l = 0; l < prefix.length; l++) if (digit(l) !== prefix[l]) return false;
    return true;
  };
  let candidates = n;
  while (prefix.length < 4 && candidates > maxCollect) {
    const level = prefix.length;
    const hist = new Float64Array(65536);
    for (const piece of pieces()) {
      for (let i = 0; i < piece.length; i++) {
        f[0] = piece[i]!;
        if (matches()) hist[digit(level)]!++;
      }
    }
    let b = 0;
    let before = 0;
    while (before + hist[b]! <= k) before += hist[b++]!;
    less += before;
    k -= before;
    prefix.push(b);
    candidates = hist[b]!;
  }
  let threshold: number;
  let equal: number;
  if (prefix.length === 4) {
    // Every 64 bits fixed: the candidates all equal the threshold.
    u[1] = ((prefix[0]! << 16) | prefix[1]!) >>> 0;
    u[0] = ((prefix[2]! << 16) | prefix[3]!) >>> 0;
    threshold = f[0]!;
    equal = candidates;
  } else {
    const cand = new Float64Array(candidates);
    let c = 0;
    for (const piece of pieces()) {
      for (let i = 0; i < piece.length; i++) {
        f[0] = piece[i]!;
        if (matches()) cand[c++] = piece[i]!;
      }
    }
    threshold = kthSmallest(cand.slice(), k);
    equal = 0;
    for (let i = 0; i < c; i++) {
      if (cand[i]! < threshold) less++;
      else if (cand[i] === threshold) equal++;
    }
  }
  const above = n - less - equal;
  return { kind: 'threshold', threshold, ties: m - above };
}

/**
 * The indices kept by TIES's trim step: the m = round(density · n) entries of largest |τ| (ties at the threshold
 * broken by lower index), as a 0/1 mask ({@link trimRule} applied to the whole vector).
 */
export function topMagnitudeMask(tau: Float64Array | Float32Array, density: number): Uint8Array {
  const n = tau.length;
  const rule = trimRule(tau, density);
  const mask = new Uint8Array(n);
  if (rule.kind === 'none') return mask;
  if (rule.kind === 'all') return mask.fill(1);
  let ties = rule.ties;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(tau[i]!);
    if (a > rule.threshold || (a === rule.threshold && ties-- > 0)) mask[i] = 1;
  }
  return mask;
}

/**
 * Merge one tensor.
 * - `average`: θ = Σ_t w_t θ_t / Σ_t w_t (uniform by default; "model soups", Wortsman et al. 2022).
 * - `ema`: θ = Σ_t e_t θ_t with {@link emaWeights} (β the weight of the past).
 * - `task_arithmetic`: θ = θ_b + λ Σ_t w_t τ_t (λ default 1, w default 1; Ilharco et al. 2023, "Editing Models with
 *   Task Arithmetic").
 * - `ties`: trim each τ_t to its top-`density` magnitudes (τ̂_t), elect the sign γ = sgn(Σ_t τ̂_t), average the
 *   entries that agree with it: τ_m = Σ_{t: sgn τ̂_t = γ, τ̂_t ≠ 0} τ̂_t / |{…}| (0 when none), θ = θ_b + λ τ_m
 *   (λ default 1; Yadav et al. 2023, "TIES-Merging", Alg. 1; the trim is per tensor, as in mergekit).
 * - `dare`: drop each entry of τ_t with probability p and rescale the rest by 1/(1−p) (τ̃_t), then task arithmetic:
 *   θ = θ_b + λ Σ_t w_t τ̃_t (Yu et al. 2024, "Language Models are Super Mario", Eq. 1–2). Entry i of parent t is
 *   kept iff the i-th `uint32()` of `createRng(dareSeed(seed, tensor, t))` is ≥ p · 2^32.
 * @param parents the parents' values of this tensor (same length), oldest first
 * @param base the base's values (required by task_arithmetic, ties, dare; ignored otherwise)
 * @param tensor the tensor's name (DARE's mask depends on it)
 * @returns the merged values in float64 (the caller rounds to the file's type)
 * @throws Error when lengths differ, a base is missing, or weights do not match the parents
 */
export function mergeTensor(spec: MergeSpec, parents: ArrayLike<number>[], base: ArrayLike<number> | null, tensor: string): Float64Array {
  const k = parents.length;
  if (!k) throw new Error('a merge needs at least one parent');
  const n = parents[0]!.length;
  if (needsBase(spec) && (!base || base.length !== n)) throw new Error(`tensor ${tensor}: ${spec.method} needs a base of the same size`);
  let trims: TrimRule[] | undefined;
  if (spec.method === 'ties') {
    trims = parents.map((p) => {
      if (p.length !== n) throw new Error(`tensor ${tensor}: parents of different sizes`);
      const tau = new Float64Array(n);
      for (let i = 0; i < n; i++) tau[i] = p[i]! - base![i]!;
      return trimRule(tau, spec.density);
    });
  }
  return tensorMerger(spec, k, tensor, trims)(parents, base);
}

/**
 * A merge of one tensor applied a piece at a time, in index order (the pieces of a tensor too large for memory):
 * the returned function takes the parents' (and base's) values of the next piece and returns the merged piece.
 * State carried across pieces: DARE's per-parent random streams, and TIES's count of threshold ties still to keep.
 * Applied to the whole tensor as one piece it is {@link mergeTensor}; piece by piece it gives the same values.
 * @param k number of parents
 * @param trims TIES only: each parent's trim rule over the whole tensor ({@link trimRule}, {@link trimRuleStreaming})
 * @throws Error (when called) for pieces of unequal length, a missing base, weights not matching the parents
 */
export function tensorMerger(spec: MergeSpec, k: number, tensor: string, trims?: TrimRule[]): (parents: ArrayLike<number>[], base: ArrayLike<number> | null) => Float64Array {
  if (!k) throw new Error('a merge needs at least one parent');
  const weights = 'weights' in spec && spec.weights ? spec.weights : null;
  if (weights && weights.length !== k) throw new Error(`${weights.length} weights for ${k} parents`);
  if (spec.method === 'ties' && (!trims || trims.length !== k)) throw new Error(`tensor ${tensor}: TIES needs one trim rule per parent`);
  const rngs = spec.method === 'dare' ? Array.from({ length: k }, (_, t) => createRng(dareSeed(spec.seed, tensor, t))) : [];
  const tiesLeft = trims ? trims.map((r) => (r.kind === 'threshold' ? r.ties : 0)) : [];
  return (parents, base) => {
    if (parents.length !== k) throw new Error(`tensor ${tensor}: ${parents.length} parents, expected ${k}`);
    const n = parents[0]!.length;
    for (const p of parents) if (p.length !== n) throw new Error(`tensor ${tensor}: parents of different sizes`);
    if (needsBase(spec) && (!base || base.length !== n)) throw new Error(`tensor ${tensor}: ${spec.method} needs a base of the same size`);
    const out = new Float64Array(n);
    switch (spec.method) {
      case 'average':
      case 'ema': {
        const w = spec.method === 'ema' ? emaWeights(k, spec.beta) : (weights ?? Array(k).fill(1));
        const total = w.reduce((a, b) => a + b, 0);
        if (total === 0) throw new Error('merge weights sum to 0');
        for (let t = 0; t < k; t++) {
          const p = parents[t]!, wt = w[t]! / total;
          for (let i = 0; i < n; i++) out[i]! += wt * p[i]!;
        }
        return out;
      }
      case 'task_arithmetic':
      case 'dare': {
        const lambda = spec.lambda ?? 1;
        const b = base!;
        const w = weights ?? Array(k).fill(1);
        for (let t = 0; t < k; t++) {
          const p = parents[t]!;
          if (spec.method === 'dare') {
            const rng = rngs[t]!;
            const cut = spec.drop * 2 ** 32;
            const scale = w[t]! / (1 - spec.drop);
            for (let i = 0; i < n; i++) if (rng.uint32() >= cut) out[i]! += scale * (p[i]! - b[i]!);
          } else {
            for (let i = 0; i < n; i++) out[i]! += w[t]! * (p[i]! - b[i]!);
          }
        }
        for (let i = 0; i < n; i++) out[i] = b[i]! + lambda * out[i]!;
        return out;
      }
      case 'ties': {
        const lambda = spec.lambda ?? 1;
        const b = base!;
        const trimmed: Float64Array[] = parents.map((p, t) => {
          const rule = trims![t]!;
          const tau = new Float64Array(n);
          if (rule.kind === 'none') return tau;
          for (let i = 0; i < n; i++) {
            const v = p[i]! - b[i]!;
            if (rule.kind === 'all') tau[i] = v;
            else {
              const a = Math.abs(v);
              if (a > rule.threshold || (a === rule.threshold && tiesLeft[t]! > 0 && tiesLeft[t]!-- > 0)) tau[i] = v;
            }
          }
          return tau;
        });
        for (let i = 0; i < n; i++) {
          let sum = 0;
          for (let t = 0; t < k; t++) sum += trimmed[t]![i]!;
          const g = Math.sign(sum);
          let s = 0, c = 0;
          if (g !== 0) for (let t = 0; t < k; t++) {
            const v = trimmed[t]![i]!;
            if (v !== 0 && Math.sign(v) === g) (s += v), c++;
          }
          out[i] = b[i]! + lambda * (c ? s / c : 0);
        }
        return out;
      }
    }
  };
}
