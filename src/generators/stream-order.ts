/**
 * Stream orders: in which order a continual-pretraining stream presents its adaptation tasks (concepts, datasets).
 * FoMo-in-Flux (Roth, Udandarao, Dziadzio et al. 2024, "A Practitioner's Guide to Continual Multimodal
 * Pretraining") studies how the order of the data-centric stream changes what is accumulated and what is forgotten:
 * random orders, reversed ones, easy-to-hard (by difficulty), by how often a concept occurs in pretraining data
 * (concept frequency; Udandarao et al. 2024, "No 'Zero-Shot' Without Exponential Data"), and orders that walk
 * between similar concepts. Every generator here is seeded and pure; the spec it returns (method, direction, seed,
 * start) is recorded with the stream, so the order can be made again.
 *
 * | `by` | order | needs |
 * |---|---|---|
 * | `given` | as listed | – |
 * | `random` | ascending u = hashUniform(seed, id): a seeded uniform permutation, independent of the listed order | seed |
 * | `reverse` | the listed order reversed | – |
 * | `difficulty` | ascending difficulty (easy → hard; `direction: descending` for hard → easy) | `difficulty` per item |
 * | `frequency` | descending frequency (frequent → rare; `direction: ascending` for rare → frequent) | `frequency` per item |
 * | `similarity` | greedy nearest-neighbour chain: start at `start` (else the item with the smallest u), then always the unvisited item of highest cosine similarity to the current one | `embedding` per item |
 *
 * Ties (equal difficulty, frequency or similarity) are broken by u, so they too follow the seed.
 */
import { InputError } from '../core/errors.ts';
import { hashUniform } from '../core/hash.ts';

/** Order methods (table in the module comment). */
export const STREAM_ORDERS = ['given', 'random', 'reverse', 'difficulty', 'frequency', 'similarity'] as const;
export type StreamOrderMethod = (typeof STREAM_ORDERS)[number];

/** How to order a stream. */
export interface StreamOrderSpec {
  by: StreamOrderMethod;
  /** Seed of random orders and of tie-breaking (default 0). */
  seed?: number;
  /** `difficulty`: ascending (default, easy first) or descending; `frequency`: descending (default, frequent first) or ascending. */
  direction?: 'ascending' | 'descending';
  /** `similarity`: the id of the first item (default: the item with the smallest seeded u). */
  start?: string;
}

/** One item to order: its id and what the method reads. */
export interface OrderItem {
  id: string;
  /** Any scale where larger is harder (e.g. 1 − the base model's accuracy). */
  difficulty?: number;
  /** Occurrences of the concept in the pretraining data (any non-negative scale). */
  frequency?: number;
  /** A vector for `similarity` (e.g. a text embedding of the concept's name); all of one length. */
  embedding?: readonly number[];
}

/** A generated order with the spec that made it (every default filled in: what is recorded). */
export interface StreamOrder {
  /** Item ids in stream order. */
  order: string[];
  spec: Required<Pick<StreamOrderSpec, 'by' | 'seed'>> & Pick<StreamOrderSpec, 'direction' | 'start'>;
}

/**
 * Order items for a stream (module comment).
 * @throws InputError naming the field: an unknown method, no items, duplicate ids, an item without the number or
 *   vector its method reads (`difficulty`, `frequency`, `embedding`; non-finite values too), embeddings of unequal
 *   length or zero norm, a `start` that is no item, a direction for a method without one
 */
export function streamOrder(items: readonly OrderItem[], spec: StreamOrderSpec): StreamOrder {
  if (!(STREAM_ORDERS as readonly string[]).includes(spec.by)) throw new InputError(`unknown stream order "${spec.by}" (${STREAM_ORDERS.join(', ')})`, { field: 'order.by' });
  if (!items.length) throw new InputError('no items to order', { field: 'order' });
  const seed = spec.seed ?? 0;
  if (!Number.isInteger(seed)) throw new InputError(`the order seed is an integer, not ${seed}`, { field: 'order.seed' });
  const ids = new Set<string>();
  for (const it of items) {
    if (ids.has(it.id)) throw new InputError(`"${it.id}" appears twice in the stream`, { field: 'order' });
    ids.add(it.id);
  }
  if (spec.direction !== undefined && spec.by !== 'difficulty' && spec.by !== 'frequency') throw new InputError(`a direction applies to the difficulty and frequency orders, not "${spec.by}"`, { field: 'order.direction' });
  if (spec.start !== undefined && spec.by !== 'similarity') throw new InputError(`a start applies to the similarity order, not "${spec.by}"`, { field: 'order.start' });
  const u = new Map(items.map((it) => [it.id, hashUniform(seed, it.id)]));
  const byU = (a: OrderItem, b: OrderItem) => u.get(a.id)! - u.get(b.id)! || (a.id < b.id ? -1 : 1);
  const need = (field: 'difficulty' | 'frequency') => {
    for (const it of items) if (typeof it[field] !== 'number' || !Number.isFinite(it[field])) throw new InputError(`the ${field} order needs a finite "${field}" for every item; "${it.id}" has ${JSON.stringify(it[field] ?? null)}`, { field });
  };
  const out = (order: OrderItem[], extra: Partial<StreamOrder['spec']> = {}): StreamOrder => ({ order: order.map((x) => x.id), spec: { by: spec.by, seed, ...extra } });
  switch (spec.by) {
    case 'given':
      return out([...items]);
    case 'reverse':
      return out([...items].reverse());
    case 'random':
      return out([...items].sort(byU));
    case 'difficulty': {
      need('difficulty');
      const dir = spec.direction ?? 'ascending';
      const s = dir === 'ascending' ? 1 : -1;
      return out([...items].sort((a, b) => s * (a.difficulty! - b.difficulty!) || byU(a, b)), { direction: dir });
    }
    case 'frequency': {
      need('frequency');
      const dir = spec.direction ?? 'descending';
      const s = dir === 'ascending' ? 1 : -1;
      return out([...items].sort((a, b) => s * (a.frequency! - b.frequency!) || byU(a, b)), { direction: dir });
    }
    case 'similarity': {
      const dims = items[0]!.embedding?.length ?? 0;
      const unit = new Map<string, number[]>();
      for (const it of items) {
        const e = it.embedding;
        if (!e || !e.length || e.length !== dims || !e.every(Number.isFinite)) throw new InputError(`the similarity order needs an embedding of ${dims || 'one'} finite numbers for every item; "${it.id}" has ${e ? `${e.length} values` : 'none'}`, { field: 'embedding' });
        const n = Math.hypot(...e);
        if (!(n > 0)) throw new InputError(`the embedding of "${it.id}" has norm 0`, { field: 'embedding' });
        unit.set(it.id, e.map((x) => x / n));
      }
      let cur = spec.start !== undefined ? items.find((x) => x.id === spec.start) : [...items].sort(byU)[0];
      if (!cur) throw new InputError(`start "${spec.start}" is not an item of the stream`, { field: 'order.start' });
      const rest = new Set(items.filter((x) => x !== cur));
      const order = [cur];
      const cos = (a: string, b: string) => unit.get(a)!.reduce((s, x, i) => s + x * unit.get(b)![i]!, 0);
      while (rest.size) {
        let best: OrderItem | null = null;
        let bs = -Infinity;
        for (const x of rest) {
          const s = cos(cur.id, x.id);
          if (s > bs || (s === bs && best && byU(x, best) < 0)) {
            best = x;
            bs = s;
          }
        }
        order.push(best!);
        rest.delete(best!);
        cur = best!;
      }
      return out(order, { start: order[0]!.id });
    }
  }
}

/**
 * Introduction rows for tasks in stream order over T update steps (checkpoint rows 1…T; row 0 is the base): the p-th
 * of m tasks (0-based) is introduced at row 1 + ⌊p·T/m⌋, so the tasks fill the steps in order, in contiguous runs of
 * ⌊m/T⌋ or ⌈m/T⌉ when m ≥ T, and spread over the steps (some steps introduce nothing) when m < T.
 * Errors: InputError when T < 1 (a stream of only the base has nowhere to introduce a task).
 */
export function introductionRows(order: readonly string[], steps: number): Map<string, number> {
  if (!Number.isInteger(steps) || steps < 1) throw new InputError('an ordered stream needs at least one checkpoint after the base', { field: 'checkpoints' });
  return new Map(order.map((id, p) => [id, 1 + Math.floor((p * steps) / order.length)]));
}
