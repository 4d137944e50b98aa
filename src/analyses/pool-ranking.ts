/**
 * Rank straight from the pool (ONEBench, Ghosh et al. 2024): select measurements (a saved selection or a capability
 * query, sources, slices, kinds, models), turn them into choice data and fit Plackett–Luce / Bradley–Terry with
 * bootstrap intervals (src/aggregate/). The pool's own runs enter as binary measurements under the one outcome rule
 * (src/core/outcome.ts; projected by the store). The one entry point `assay rank` and the report use.
 */
import { InputError } from '../core/errors.ts';
import { collectGarbage } from '../core/gc.ts';
import type { PoolKind, PoolMeasurement } from '../core/pool-measurement.ts';
import type { Pool } from '../store/types.ts';
import { querySamples } from '../query/search.ts';
import { kendallTau } from '../aggregate/baselines.ts';
import { ChoiceAccumulator, type TieConvention } from '../aggregate/choices.ts';
import { rankModelsAsync, type RankingResult, type RankOptions } from '../aggregate/rank.ts';
import { headlineIntervalOfTotals } from '../stats/accuracy.ts';

export interface PoolRankOptions extends RankOptions {
  /** A saved selection hash (prefix) or query text. */
  query?: string;
  filters?: Record<string, string[]>;
  sources?: string[];
  slices?: string[];
  kinds?: PoolKind[];
  models?: string[];
  runs?: boolean;
  ties?: TieConvention;
  battleWeights?: 'counts' | 'dedupe';
}

export interface PoolRanking extends RankingResult {
  selection: { hash: string | null; query: string | null; samples: number | null };
  measurements: number;
  sources: string[];
  /** `<source>:<slice>` of every slice present. */
  slices: string[];
  /** Measurement kinds present. */
  kinds: PoolKind[];
  /**
   * Kendall τ-b between the Plackett–Luce scores and the mean scores, the means taken in the direction measured
   * (lower is better: the lower mean ranks first) (NaN when a column is constant, or when the measurements are on
   * several scales or of both directions: there is no one mean score then, and the models' `mean_score` is NaN).
   */
  tau_pl_mean: number;
  /**
   * The scales of the measurements (`scaleOf`), each with every model's own mean on it and its 95% interval. With
   * more than one scale the models' `mean_score` is NaN (null in JSON): a mean of 0/1 verdicts and 1–10 judge scores
   * is no measurement, so the means are given per scale here instead. The Plackett–Luce fit is unaffected: it reads
   * orderings within a sample, and a sample's measurements share one scale.
   */
  scales: ScaleMeans[];
}

/** One scale's per-model means (see `PoolRanking.scales`). */
export interface ScaleMeans {
  /** e.g. `binary`, `ordinal (wildbench, higher is better)`. */
  scale: string;
  kind: PoolKind;
  sources: string[];
  models: { model: string; mean: number; ci95: { lo: number; hi: number; method: string }; samples: number; measurements: number }[];
}

/**
 * The scale of a measurement: binary 0/1 (and avg@k fractions), preference and battle win rates are one scale each;
 * numeric and ordinal values are only comparable within their source (units, levels) and direction.
 */
export function scaleOf(m: Pick<PoolMeasurement, 'kind' | 'source' | 'direction'>): string {
  if (m.kind === 'numeric' || m.kind === 'ordinal') return `${m.kind} (${m.source}, ${m.direction === 1 ? 'higher' : 'lower'} is better)`;
  return m.kind;
}

/** Descending by mean, a model without one (NaN: no verdict of positive weight) last. */
function byMeanDescending(a: number, b: number): number {
  const na = Number.isNaN(a), nb = Number.isNaN(b);
  return na || nb ? Number(na) - Number(nb) : b - a;
}

/** Per-model means of each scale with their intervals (headline interval over samples, src/stats/accuracy.ts). */
async function meansByScale(ms: AsyncIterable<PoolMeasurement>): Promise<ScaleMeans[]> {
  // per scale and model, per sample: how many scores and their sum (a verdict of weight w is w scores: two numbers
  // however large w is), and whether every score is 0 or 1
  type PerModel = { samples: Map<string, { k: number; s: number }>; n: number; binary: boolean };
  const scales = new Map<string, { kind: PoolKind; sources: Set<string>; byModel: Map<string, PerModel> }>();
  // `copies`: how many times the value enters its sample's scores (a battle's weight, a multiplicity of identical
  // verdicts; 0 counts the measurement but not its value, as in the single-scale mean)
  const add = (scale: string, kind: PoolKind, source: string, model: string, key: string, v: number, copies: number) => {
    let sc = scales.get(scale);
    if (!sc) scales.set(scale, (sc = { kind, sources: new Set(), byModel: new Map() }));
    sc.sources.add(source);
    let bm = sc.byModel.get(model);
    if (!bm) sc.byModel.set(model, (bm = { samples: new Map(), n: 0, binary: true }));
    bm.n++;
    if (copies <= 0) return;
    let t = bm.samples.get(key);
    if (!t) bm.samples.set(key, (t = { k: 0, s: 0 }));
    // one score at a time below the weight's copies, so a cluster's sum is the sum its scores written out gave
    if (copies === 1) t.s += v;
    else if (v === 0 || v === 1) t.s += copies * v;
    else for (let c = 0; c < copies; c++) t.s += v;
    t.k += copies;
    if (v !== 0 && v !== 1) bm.binary = false;
  };
  for await (const m of ms) {
    const scale = scaleOf(m);
    const key = `${m.slice}\u0000${m.sample_key}`;
    if (m.kind === 'battle' || m.kind === 'preference') {
      // a battle is a win (1), loss (0) or tie (½) for `model` and the complement for `opponent` (a preference v and
      // 1 − v): win rates, each verdict counted by its weight (rounded to whole verdicts; a positive weight at least
      // once, weight 0 never), as in the single-scale mean
      const copies = m.weight > 0 ? Math.max(1, Math.round(m.weight)) : 0;
      add(scale, m.kind, m.source, m.model, key, m.value, copies);
      add(scale, m.kind, m.source, m.opponent, key, 1 - m.value, copies);
    } else add(scale, m.kind, m.source, m.model, key, m.value, 1);
  }
  return [...scales].map(([scale, sc]) => ({
    scale, kind: sc.kind, sources: [...sc.sources],
    models: [...sc.byModel].map(([model, bm]) => {
      const totals = [...bm.samples.values()];
      const k = totals.map((t) => t.k), s = totals.map((t) => t.s);
      const mean = totals.reduce((a, t) => a + t.s / t.k, 0) / totals.length;
      const iv = headlineIntervalOfTotals(k, s, { binary: bm.binary, numeric: sc.kind === 'numeric' || sc.kind === 'ordinal' });
      return { model, mean, ci95: { lo: iv.lo, hi: iv.hi, method: iv.method }, samples: totals.length, measurements: bm.n };
    }).sort((a, b) => byMeanDescending(a.mean, b.mean)),
  }));
}

/**
 * Load, convert and rank. Shapes: `PoolRanking` (scores are centred log-strengths θ, natural log; CIs and rank
 * intervals are percentile bootstrap intervals over samples). Errors: InputError when no measurement matches.
 * When several slices are present, orderings are still formed within a slice only, but models shared across slices
 * link them; pass one slice (`slices`) to follow a source's "rank within a slice" rule.
 */
export async function rankFromPool(store: Pool, opts: PoolRankOptions = {}): Promise<PoolRanking> {
  let sampleKeys: string[] | undefined;
  let selection: PoolRanking['selection'] = { hash: null, query: null, samples: null };
  if (opts.query !== undefined || (opts.filters && Object.keys(opts.filters).length)) {
    const saved = opts.query ? await store.getSelection(opts.query) : null;
    if (saved) {
      sampleKeys = saved.sample_keys;
      selection = { hash: saved.hash, query: saved.query, samples: saved.sample_keys.length };
    } else {
      const q = await querySamples(store, opts.query ?? '', { filters: opts.filters, runs: opts.runs });
      await store.saveSelection(q.selection);
      sampleKeys = q.selection.sample_keys;
      selection = { hash: q.selection.hash, query: q.selection.query, samples: sampleKeys.length };
    }
  }
  // Streamed: each measurement goes into compact typed arrays (ChoiceAccumulator); no measurement object is kept.
  const filter = { sampleKeys, sources: opts.sources, slices: opts.slices, kinds: opts.kinds, models: opts.models, runs: opts.runs };
  // Without filters below the source, the sources' sizes bound the measurements: the accumulator's arrays are made once.
  const unfiltered = !sampleKeys && !opts.slices && !opts.kinds && !opts.models;
  const expected = unfiltered ? (await store.sources()).filter((x) => !opts.sources || opts.sources.includes(x.id)).reduce((a, x) => a + x.measurements, 0) : 0;
  const acc = new ChoiceAccumulator({ ties: opts.ties, battleWeights: opts.battleWeights, expected, sampleKeys: false });
  const sources = new Set<string>(), slices = new Set<string>(), kinds = new Set<PoolKind>(), scaleNames = new Set<string>();
  let lastSource: string | null = null, lastSlice: string | null = null;
  // directions of the non-pairwise measurements: the mean score is compared with the scores in the direction measured
  let higherBetter = false, lowerBetter = false;
  for await (const m of store.iteratePoolMeasurements(filter)) {
    acc.add(m);
    if (m.kind !== 'battle') {
      if (m.direction < 0) lowerBetter = true;
      else higherBetter = true;
    }
    if (m.source !== lastSource || m.slice !== lastSlice) {
      // rows come grouped by source and slice: one set insertion per group, not per row
      lastSource = m.source;
      lastSlice = m.slice;
      sources.add(m.source);
      slices.add(`${m.source}:${m.slice}`);
    }
    kinds.add(m.kind);
    if (kinds.size > 1 || m.kind === 'numeric' || m.kind === 'ordinal') scaleNames.add(scaleOf(m));
  }
  const n = acc.count;
  if (!n) throw new InputError('no measurements match the selection (see `assay pool list`)');
  // Means are only taken within one scale; with several, each model's mean is given per scale (never 0/1 verdicts
  // averaged with 1–10 scores), from a second pass over the same selection.
  if (kinds.size > 1) for (const k of kinds) if (k !== 'numeric' && k !== 'ordinal') scaleNames.add(k);
  const scales = scaleNames.size > 1 ? await meansByScale(store.iteratePoolMeasurements(filter)) : [];
  const d = acc.build();
  // the accumulator's arrays and the builder's growing ones are released: freed before the bootstrap threads start
  if (n > 1e6) collectGarbage();
  const r0 = await rankModelsAsync(d, opts);
  // No one mean: several scales, or verdicts of both directions (a mean of 1 = good and 1 = bad is no measurement).
  const noOneMean = scales.length > 0 || (higherBetter && lowerBetter);
  const r = noOneMean ? { ...r0, models: r0.models.map((m) => ({ ...m, mean_score: NaN })) } : r0;
  // means are as measured: for a lower-is-better metric the better model has the lower mean
  const dir = lowerBetter ? -1 : 1;
  const tau = noOneMean ? NaN : kendallTau(r.models.map((m) => m.score), r.models.map((m) => dir * m.mean_score));
  return { ...r, selection, measurements: n, sources: [...sources], slices: [...slices], kinds: [...kinds], tau_pl_mean: tau, scales };
}
