/**
 * Rank straight from the pool (ONEBench, Ghosh et al. 2024): select measurements (a saved selection or a capability
 * query, sources, slices, kinds, models), turn them into choice data and fit Plackett–Luce / Bradley–Terry with
 * bootstrap intervals (src/aggregate/). The pool's own runs enter as binary measurements under the one outcome rule
 * (src/core/outcome.ts; projected by the store). The one entry point `assay rank` and the report use.
 */
import { InputError } from '../core/errors.ts';
import type { PoolKind, PoolMeasurement } from '../core/pool-measurement.ts';
import type { Pool } from '../store/types.ts';
import { querySamples } from '../query/search.ts';
import { kendallTau } from '../aggregate/baselines.ts';
import { choicesFromMeasurements, type TieConvention } from '../aggregate/choices.ts';
import { rankModels, type RankingResult, type RankOptions } from '../aggregate/rank.ts';

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
  /** Kendall τ-b between the Plackett–Luce scores and the mean scores (NaN when a column is constant). */
  tau_pl_mean: number;
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
  const ms: PoolMeasurement[] = [];
  const sources = new Set<string>(), slices = new Set<string>(), kinds = new Set<PoolKind>();
  for await (const m of store.iteratePoolMeasurements({ sampleKeys, sources: opts.sources, slices: opts.slices, kinds: opts.kinds, models: opts.models, runs: opts.runs })) {
    ms.push(m);
    sources.add(m.source);
    slices.add(`${m.source}:${m.slice}`);
    kinds.add(m.kind);
  }
  if (!ms.length) throw new InputError('no measurements match the selection (see `assay pool list`)');
  const d = choicesFromMeasurements(ms, { ties: opts.ties, battleWeights: opts.battleWeights });
  const n = ms.length;
  ms.length = 0;
  const r = rankModels(d, opts);
  const tau = kendallTau(r.models.map((m) => m.score), r.models.map((m) => m.mean_score));
  return { ...r, selection, measurements: n, sources: [...sources], slices: [...slices], kinds: [...kinds], tau_pl_mean: tau };
}
