/**
 * Zero-shot classification and retrieval with embedding models (contrastive image–text models such as CLIP, and
 * text embedding models): pure functions on embedding vectors, and the intervals of their figures.
 *
 * - **Classification** (Radford et al. 2021, "Learning Transferable Visual Models From Natural Language
 *   Supervision", §3.1.4 "prompt engineering and ensembling"): each class name is written into several prompt
 *   templates ("a photo of a {}."), every prompt is embedded and L2-normalised, the class prototype is the mean of
 *   its normalised prompt embeddings, L2-normalised again; an item (image or text) is assigned the classes in order
 *   of cosine similarity to its normalised embedding. top-k accuracy = share of items whose class is among the k
 *   most similar prototypes.
 * - **Retrieval** (recall@k as in Karpathy & Fei-Fei 2015, "Deep Visual-Semantic Alignments for Generating Image
 *   Descriptions", and CLIP's zero-shot Flickr30k/MSCOCO retrieval, Radford et al. 2021): items (images, or documents for text models) each have one or more texts
 *   (captions, or queries). text→item recall@k: share of texts whose own item is among the k items most similar to
 *   them; item→text recall@k: share of items with at least one of their own texts among the k most similar texts.
 *
 * Ties are counted against the item: a competitor with a similarity equal to the right answer's ranks ahead of it
 * (a conservative, order-independent rule; with real-valued embeddings ties are rare).
 *
 * Intervals (never of zero width at 0% or 100%): top-k accuracy and item→text recall are one 0/1 value per item,
 * so their interval is Wilson's score interval on the items (Wilson 1927, JASA 22:209). text→item recall has one
 * 0/1 value per text, and the texts of one item are not independent (they describe the same image): its headline is
 * the mean over items of the share of their texts that retrieve them (equal to the usual mean over texts when every
 * item has the same number of texts, as in the 5-caption MSCOCO and Flickr30k test sets), with the clustered score
 * interval of src/stats/intervals.ts, clusters = items (Miller 2024, eq. 6; Wilson-type score test), which is
 * Wilson's on the items when each item has one text. Estimand: the population of items (and texts) the evaluation
 * set was drawn from, with the class list (or the retrieval gallery) held fixed.
 */
import { betaQuantile } from './distributions.ts';
import { clusteredScoreInterval, countTable, POPULATION_ESTIMAND, wilsonInterval } from './intervals.ts';

/** A figure with its 95% interval, the number of units it averages over, and how the interval was made. */
export interface ZeroShotFigure {
  /** The point value, a proportion in [0, 1]. */
  value: number;
  ci95: { lo: number; hi: number };
  /** Units averaged: items (classification, item→text, text→item clusters). */
  n: number;
  method: string;
  estimand: string;
}

/**
 * The L2-normalised copy of a vector. Errors: RangeError for an empty vector, a non-finite entry or a zero norm
 * (`what` names the vector in the message).
 */
export function l2Normalize(v: ArrayLike<number>, what = 'embedding'): Float64Array {
  if (!v.length) throw new RangeError(`${what} is empty`);
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isFinite(x)) throw new RangeError(`${what} has a non-finite value at position ${i}`);
    s += x * x;
  }
  if (!(s > 0)) throw new RangeError(`${what} has norm 0 (cannot be normalised)`);
  const r = 1 / Math.sqrt(s);
  return Float64Array.from(v, (x) => x * r);
}

/** Dot product of two vectors of equal length (the cosine similarity of normalised vectors). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Check that every vector has `dims` entries. Errors: RangeError naming the first one that does not. */
function checkDims(vs: ArrayLike<number>[], dims: number, what: string): void {
  for (let i = 0; i < vs.length; i++) if (vs[i]!.length !== dims) throw new RangeError(`${what}[${i}] has ${vs[i]!.length} dimensions, expected ${dims}`);
}

/**
 * Class prototypes from prompt-template embeddings (CLIP's prompt ensembling, Radford et al. 2021 §3.1.4): per class,
 * the mean of its L2-normalised template embeddings, L2-normalised.
 * @param byClass byClass[c][t]: embedding of template t filled with class c's name; every class ≥ 1 template, all
 *   vectors of one length
 * @returns one unit vector per class
 * @throws RangeError for no class, a class without templates, unequal dimensions, or a zero mean
 */
export function classPrototypes(byClass: ArrayLike<number>[][]): Float64Array[] {
  if (!byClass.length) throw new RangeError('no classes');
  const dims = byClass[0]![0]?.length ?? 0;
  return byClass.map((embs, c) => {
    if (!embs.length) throw new RangeError(`class ${c} has no template embeddings`);
    checkDims(embs, dims, `class ${c} template embedding`);
    const m = new Float64Array(dims);
    for (const [t, e] of embs.entries()) {
      const u = l2Normalize(e, `class ${c} template ${t} embedding`);
      for (let i = 0; i < dims; i++) m[i]! += u[i]!;
    }
    return l2Normalize(m, `class ${c} prototype`);
  });
}

/** Per-item outcome of zero-shot classification. */
export interface ClassificationOutcome {
  /** 1-based rank of the true class (ties counted against it). */
  rank: number;
  /** Indices of the `top` most similar classes, most similar first (ties by class index). */
  top: number[];
  /** Cosine similarity to each class prototype. */
  similarities: Float64Array;
}

/**
 * Zero-shot classification of items by cosine similarity to class prototypes.
 * @param items item embeddings (any scale: normalised here), all of the prototypes' length
 * @param prototypes unit class vectors (from {@link classPrototypes})
 * @param labels true class index of each item, 0 ≤ label < classes
 * @param top how many predicted classes to keep per item (default 5, at most the number of classes)
 * @throws RangeError for unequal lengths, a label out of range, or a zero/non-finite embedding
 */
export function classify(items: ArrayLike<number>[], prototypes: Float64Array[], labels: number[], top = 5): ClassificationOutcome[] {
  if (items.length !== labels.length) throw new RangeError(`${items.length} items but ${labels.length} labels`);
  if (!prototypes.length) throw new RangeError('no classes');
  const dims = prototypes[0]!.length;
  checkDims(items, dims, 'item embedding');
  const keep = Math.min(top, prototypes.length);
  return items.map((e, i) => {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= prototypes.length) throw new RangeError(`label of item ${i} is ${y}, not a class index in 0…${prototypes.length - 1}`);
    const u = l2Normalize(e, `item ${i} embedding`);
    const sims = Float64Array.from(prototypes, (p) => dot(u, p));
    let ahead = 0;
    for (let c = 0; c < sims.length; c++) if (c !== y && sims[c]! >= sims[y]!) ahead++;
    const order = Array.from(sims.keys()).sort((a, b) => sims[b]! - sims[a]! || a - b);
    return { rank: ahead + 1, top: order.slice(0, keep), similarities: sims };
  });
}

/** Per-query outcomes of retrieval in both directions. */
export interface RetrievalOutcome {
  /** textRank[t]: 1-based rank of text t's own item among all items (ties against it). */
  textRank: number[];
  /** itemRank[i]: 1-based rank of the best-ranked of item i's own texts among all texts (ties against it). */
  itemRank: number[];
}

/**
 * Ranks for image↔text (or document↔query) retrieval by cosine similarity.
 * @param items item embeddings (images or documents), n ≥ 1
 * @param texts text embeddings (captions or queries), all of the items' length
 * @param owner owner[t] = index of text t's item; every item must own at least one text
 * @returns for each text the rank of its item; for each item the best rank among its texts
 * @throws RangeError for unequal lengths or dimensions, an owner out of range, an item without texts
 */
export function retrieve(items: ArrayLike<number>[], texts: ArrayLike<number>[], owner: number[]): RetrievalOutcome {
  if (!items.length) throw new RangeError('no items');
  if (texts.length !== owner.length) throw new RangeError(`${texts.length} texts but ${owner.length} owners`);
  const dims = items[0]!.length;
  checkDims(items, dims, 'item embedding');
  checkDims(texts, dims, 'text embedding');
  const I = items.map((e, i) => l2Normalize(e, `item ${i} embedding`));
  const T = texts.map((e, t) => l2Normalize(e, `text ${t} embedding`));
  const owned: number[][] = I.map(() => []);
  owner.forEach((o, t) => {
    if (!Number.isInteger(o) || o < 0 || o >= I.length) throw new RangeError(`text ${t} belongs to item ${o}, not an item index in 0…${I.length - 1}`);
    owned[o]!.push(t);
  });
  owned.forEach((ts, i) => {
    if (!ts.length) throw new RangeError(`item ${i} has no text`);
  });
  // S[t][i] = cosine similarity of text t and item i.
  const S = T.map((t) => Float64Array.from(I, (i) => dot(t, i)));
  const textRank = S.map((row, t) => {
    const own = row[owner[t]!]!;
    let ahead = 0;
    for (let i = 0; i < row.length; i++) if (i !== owner[t] && row[i]! >= own) ahead++;
    return ahead + 1;
  });
  const itemRank = owned.map((ts, i) => {
    const mine = new Set(ts);
    let best = -Infinity;
    for (const t of ts) best = Math.max(best, S[t]![i]!);
    let ahead = 0;
    for (let t = 0; t < S.length; t++) if (!mine.has(t) && S[t]![i]! >= best) ahead++;
    return ahead + 1;
  });
  return { textRank, itemRank };
}

/**
 * A proportion of independent 0/1 values with Wilson's score interval on n (Wilson 1927, JASA 22:209): width > 0 at
 * 0% and 100%. Errors: RangeError for no values or a value other than 0 and 1.
 */
export function proportionFigure(hits: ArrayLike<number>, level = 0.95): ZeroShotFigure {
  const n = hits.length;
  if (!n) throw new RangeError('no items');
  let s = 0;
  for (let i = 0; i < n; i++) {
    if (hits[i] !== 0 && hits[i] !== 1) throw new RangeError(`values must be 0 or 1, got ${hits[i]}`);
    s += hits[i]!;
  }
  const p = s / n;
  const ci = wilsonInterval(p, n, level);
  return { value: p, ci95: ci, n, method: `Wilson score interval on ${n} items (Wilson 1927)`, estimand: POPULATION_ESTIMAND.replace('questions', 'items') };
}

/**
 * The mean over clusters of the share of 1s in each (0/1 values grouped by item) with the clustered score interval
 * (src/stats/intervals.ts: Miller 2024 eq. 6 with a Wilson-type score test; Wilson's on the clusters when every
 * cluster has one value). Errors: RangeError for no clusters, an empty cluster, or a value other than 0 and 1.
 */
export function clusteredFigure(clusters: number[][], level = 0.95): ZeroShotFigure {
  if (!clusters.length) throw new RangeError('no items');
  const t = countTable(clusters);
  if (!t) throw new RangeError('every cluster needs at least one value, each 0 or 1');
  const r = clusteredScoreInterval(t, { level });
  return {
    value: r.estimate, ci95: { lo: r.lo, hi: r.hi }, n: clusters.length,
    method: `clustered score interval, clusters = ${clusters.length} items (the texts of one item together; Miller 2024, Wilson 1927)`,
    estimand: POPULATION_ESTIMAND.replace('questions', 'items'),
  };
}

/** Hits at k from 1-based ranks: 1 when rank ≤ k. */
export function hitsAt(ranks: ArrayLike<number>, k: number): number[] {
  return Array.from(ranks, (r) => (r <= k ? 1 : 0));
}

/**
 * Jeffreys' interval for x successes in n trials: the equal-tailed Beta(x + ½, n − x + ½) interval, with the lower
 * bound 0 at x = 0 and the upper bound 1 at x = n (Brown, Cai & DasGupta 2001, "Interval estimation for a binomial
 * proportion", Stat. Sci. 16:101, §4.1.2). Errors: RangeError for n < 1 or x outside 0…n.
 */
export function jeffreysInterval(x: number, n: number, level = 0.95): { lo: number; hi: number } {
  if (!(n >= 1) || !(x >= 0 && x <= n)) throw new RangeError(`Jeffreys interval needs 0 ≤ x ≤ n and n ≥ 1, got x=${x}, n=${n}`);
  const a = (1 - level) / 2;
  return { lo: x === 0 ? 0 : betaQuantile(a, x + 0.5, n - x + 0.5), hi: x === n ? 1 : betaQuantile(1 - a, x + 0.5, n - x + 0.5) };
}

/**
 * Mean per-class accuracy (balanced accuracy): the mean over classes of the share of each class's items that are
 * hits, θ = (1/C) Σ_c x_c / n_c over the C classes that have items — every class counts the same however many items
 * it has: the figure CLIP reports for its class-imbalanced sets (Radford et al. 2021, "Learning Transferable Visual
 * Models From Natural Language Supervision", App. A.1 Table 9, "mean per class": FGVC Aircraft, Oxford-IIIT Pets,
 * Caltech-101, Oxford Flowers 102), as FoMo-in-Flux (Roth et al. 2024) does for its imbalanced evaluation sets.
 *
 * Interval: MOVER (method of variance estimates recovery; Zou & Donner 2008, "Construction of confidence limits
 * about effect measures: a general approach", Stat. Med. 27:1693) for a linear function of independent binomial
 * proportions (Zou, Huang & Zhang 2009, Comput. Stat. Data Anal. 53:1080), items clustered by class: with each
 * class's Jeffreys interval [l_c, u_c] ({@link jeffreysInterval}),
 *   L = θ̂ − √(Σ_c ((p̂_c − l_c)/C)²),   U = θ̂ + √(Σ_c ((u_c − p̂_c)/C)²).
 * It contains θ̂, has width at 0% and 100%, and is Jeffreys' for one class. Chosen over a bootstrap of items by
 * simulation (bench/zeroshot-coverage.ts, "mean per-class accuracy"): with classes of 1–30 items and accuracies near
 * 1, a percentile bootstrap stratified by class covered about 55% (a class of one item, or all right, never varies)
 * and a Bayesian bootstrap with Jeffreys' prior about 30% (its per-class shrinkage toward ½ adds up over classes);
 * MOVER 90–94% over every setting tried (lowest, 90%, with classes of one item at middling accuracy). Estimand: the
 * mean over the listed classes of each class's accuracy over the population of its items.
 * @param hits one 0/1 value per item (e.g. top-1 hit)
 * @param labels each item's class (any value; equal values are one class), same length as `hits`
 * @returns the figure; `n` is the number of items, `classes` the number of classes with items
 * @throws RangeError for no items, unequal lengths, or a value other than 0 and 1
 */
export function meanPerClassFigure(hits: ArrayLike<number>, labels: ArrayLike<unknown>, level = 0.95): ZeroShotFigure & { classes: number } {
  const n = hits.length;
  if (!n) throw new RangeError('no items');
  if (labels.length !== n) throw new RangeError(`${n} hits but ${labels.length} labels`);
  const byClass = new Map<unknown, { x: number; n: number }>();
  for (let i = 0; i < n; i++) {
    if (hits[i] !== 0 && hits[i] !== 1) throw new RangeError(`values must be 0 or 1, got ${hits[i]}`);
    const c = byClass.get(labels[i]) ?? { x: 0, n: 0 };
    c.x += hits[i]!;
    c.n++;
    byClass.set(labels[i], c);
  }
  const cls = [...byClass.values()];
  const C = cls.length;
  const value = cls.reduce((a, c) => a + c.x / c.n, 0) / C;
  let down = 0, up = 0;
  for (const c of cls) {
    const p = c.x / c.n, j = jeffreysInterval(c.x, c.n, level);
    down += ((p - j.lo) / C) ** 2;
    up += ((j.hi - p) / C) ** 2;
  }
  return {
    value, ci95: { lo: Math.max(0, value - Math.sqrt(down)), hi: Math.min(1, value + Math.sqrt(up)) }, n, classes: C,
    method: `mean over ${C} classes of each class's accuracy; MOVER interval from each class's Jeffreys interval (Zou & Donner 2008; items clustered by class)`,
    estimand: 'the mean over the listed classes of each class\'s accuracy over the population of its items',
  };
}
