/**
 * Stratified subsets for cheap evaluation: draw `size` items so that every stratum (a value of a field such as
 * `subject`, `difficulty` or a class label) is represented in proportion to its share of the whole, with a recorded
 * seed. Evaluating each checkpoint of a stream on the same subset keeps the comparison paired.
 *
 * Allocation is proportional (Cochran 1977, "Sampling Techniques", 3rd ed., ch. 5, stratified random sampling): stratum h of N_h of the N items
 * gets n_h = size·N_h/N, rounded by the largest-remainder (Hamilton) method so the quotas sum to `size` exactly;
 * equal remainders go to the larger stratum, then to the smaller stratum key (code-point order). Within a stratum
 * the draw is a simple random sample without replacement: the n_h items with the smallest
 * u = hashUniform(seed, "<stratum>\0<id>") (a seeded random permutation; independent of the other strata and of
 * the order of the items, and nested: the subset of a smaller size is inside the subset of a larger one whenever
 * each stratum's quota does not shrink). With proportional allocation the plain mean of the subset is an unbiased
 * estimate of the mean over all items (the sample is self-weighting, Cochran ch. 5).
 */
import { InputError } from '../core/errors.ts';
import { hashUniform } from '../core/hash.ts';
import type { Sample } from '../core/schemas.ts';

/** How to draw a stratified subset. Exactly one of `size` and `fraction`. */
export interface StratifiedSpec {
  /** Items to draw (1 ≤ size ≤ N). */
  size?: number;
  /** Share of the items to draw, in (0, 1]: size = max(1, round(fraction·N)). */
  fraction?: number;
  /**
   * The field that defines the strata: a top-level field of the item (`label`, `target`) or of its metadata
   * (`subject`, or explicitly `metadata.subject`). Absent: one stratum (a simple random sample).
   */
  by?: string;
  /** Seed of the draw (default 0); recorded. */
  seed?: number;
  /**
   * Strata from difficulty measured on a model instead of a field: `base` = each item's error rate on the base
   * checkpoint of a stream (its run in the pool; src/analyses/base-difficulty.ts). The caller measures it and passes
   * the strata (`opts.strata` of {@link stratifiedSubset}); not with `by`.
   */
  difficulty_from?: 'base';
}

/** One stratum of a draw. */
export interface Stratum {
  /** The field's value (JSON for non-strings; `(missing)` when the item lacks the field). */
  key: string;
  /** Items in the stratum, N_h. */
  population: number;
  /** Items drawn, n_h. */
  drawn: number;
}

/** A drawn subset: the chosen ids (in the items' order) and how they were chosen (recorded with runs). */
export interface StratifiedSubset {
  ids: string[];
  strata: Stratum[];
  spec: { by: string | null; size: number; seed: number; population: number; allocation: 'proportional (largest remainder)'; difficulty_from?: 'base' };
}

const MISSING = '(missing)';

/** The value of `path` in an item: `metadata.x`, a top-level field, else the metadata's field. */
export function fieldOf(item: { metadata?: Record<string, unknown> } & Record<string, unknown>, path: string): unknown {
  const get = (o: unknown, parts: string[]): unknown => parts.reduce<unknown>((v, p) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined), o);
  const parts = path.split('.');
  const top = get(item, parts);
  if (top !== undefined) return top;
  return get(item.metadata, parts);
}

/**
 * Draw a stratified subset with proportional allocation (module comment).
 * @param items the population: a unique `id` each, and the field named by `spec.by` (top level or in `metadata`)
 * @param opts.strata with `spec.difficulty_from`: each item's stratum by id (e.g. `base error 0.25`); items without
 *   one are the stratum `(missing)`
 * @returns the ids drawn in the items' order, the strata (sorted by key) with population and draw, the spec in force
 * @throws InputError naming the field: neither or both of size and fraction, a size outside 1…N, a fraction outside
 *   (0, 1], a non-integer seed, no items, duplicate ids, `difficulty_from` with `by` or without strata
 */
export function stratifiedSubset(items: readonly ({ id: string; metadata?: Record<string, unknown> } & Record<string, unknown>)[], spec: StratifiedSpec, opts: { strata?: ReadonlyMap<string, string> } = {}): StratifiedSubset {
  const N = items.length;
  if (!N) throw new InputError('a subset of nothing: no items', { field: 'subset' });
  if ((spec.size === undefined) === (spec.fraction === undefined)) throw new InputError('give the subset a size or a fraction (one of them)', { field: 'subset.size' });
  const seed = spec.seed ?? 0;
  if (!Number.isInteger(seed)) throw new InputError(`the subset seed is an integer, not ${seed}`, { field: 'subset.seed' });
  if (spec.difficulty_from !== undefined) {
    if (spec.difficulty_from !== 'base') throw new InputError(`difficulty_from is "base", not "${String(spec.difficulty_from)}"`, { field: 'subset.difficulty_from' });
    if (spec.by !== undefined) throw new InputError('strata come from a field (by) or from the base checkpoint\'s difficulty (difficulty_from), not both', { field: 'subset.by' });
    if (!opts.strata) throw new InputError('difficulty_from: base needs the base checkpoint\'s per-item error rates (a stream measures them from the pool)', { field: 'subset.difficulty_from' });
  }
  let size: number;
  if (spec.fraction !== undefined) {
    if (!(spec.fraction > 0 && spec.fraction <= 1)) throw new InputError(`subset fraction must be in (0, 1], not ${spec.fraction}`, { field: 'subset.fraction' });
    size = Math.max(1, Math.round(spec.fraction * N));
  } else {
    size = spec.size!;
    if (!Number.isInteger(size) || size < 1 || size > N) throw new InputError(`subset size must be an integer from 1 to ${N} (the items there are), not ${size}`, { field: 'subset.size' });
  }
  const groups = new Map<string, { id: string; u: number }[]>();
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) throw new InputError(`item id "${it.id}" appears twice`, { field: 'id' });
    seen.add(it.id);
    const v = opts.strata && spec.difficulty_from ? opts.strata.get(it.id) : spec.by ? fieldOf(it, spec.by) : '';
    const key = v === undefined || v === null ? MISSING : typeof v === 'string' ? v : JSON.stringify(v);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push({ id: it.id, u: hashUniform(seed, `${key}\u0000${it.id}`) });
  }
  const keys = [...groups.keys()].sort();
  const exact = keys.map((k) => (size * groups.get(k)!.length) / N);
  const quota = exact.map(Math.floor);
  let left = size - quota.reduce((a, b) => a + b, 0);
  const byRemainder = keys.map((_, h) => h).sort((a, b) => exact[b]! - quota[b]! - (exact[a]! - quota[a]!) || groups.get(keys[b]!)!.length - groups.get(keys[a]!)!.length || (keys[a]! < keys[b]! ? -1 : 1));
  for (const h of byRemainder) {
    if (left <= 0) break;
    quota[h]!++;
    left--;
  }
  const chosen = new Set<string>();
  keys.forEach((k, h) => {
    const g = [...groups.get(k)!].sort((a, b) => a.u - b.u || (a.id < b.id ? -1 : 1));
    for (const x of g.slice(0, quota[h])) chosen.add(x.id);
  });
  return {
    ids: items.filter((it) => chosen.has(it.id)).map((it) => it.id),
    strata: keys.map((k, h) => ({ key: k, population: groups.get(k)!.length, drawn: quota[h]! })),
    spec: { by: spec.difficulty_from ? 'base error rate' : (spec.by ?? null), size, seed, population: N, allocation: 'proportional (largest remainder)', ...(spec.difficulty_from ? { difficulty_from: spec.difficulty_from } : {}) },
  };
}

/** {@link stratifiedSubset} of dataset samples (strata from a top-level field such as `target`, or a metadata field). */
export function stratifiedSamples(samples: readonly Sample[], spec: StratifiedSpec, opts: { strata?: ReadonlyMap<string, string> } = {}): StratifiedSubset & { samples: Sample[] } {
  const r = stratifiedSubset(samples as unknown as ({ id: string } & Record<string, unknown>)[], spec, opts);
  const keep = new Set(r.ids);
  return { ...r, samples: samples.filter((s) => keep.has(s.id)) };
}
