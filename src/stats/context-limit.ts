/**
 * Effective context limit (Roberts, Han, Albanie 2024, "Needle Threading", arXiv:2411.05000, §4: the context length
 * up to which a model's accuracy stays above a threshold, which is often far shorter than the advertised window),
 * with a bootstrap CI, plus the data for a depth × length heatmap and an accuracy-vs-length plot.
 *
 * Definitions (lengths are the grid's context lengths in characters; accuracy is avg@k over the samples of a length):
 * - rule `prefix` (default): the effective limit is the longest grid length L such that accuracy is ≥ threshold at
 *   L **and at every shorter grid length** ("stays at or above"); rule `any`: the longest length with accuracy ≥
 *   threshold. `null` means below the shortest length tested; `censored: true` means every length passed, so the
 *   true limit is at least the longest length tested.
 * - The threshold is a parameter; the **default is 0.75** (Assay's choice, stated here; the paper reports limits
 *   for chosen thresholds rather than one fixed value).
 * - CI: a stratified clustered bootstrap — within each length, samples are resampled with replacement and each
 *   drawn sample's epochs within it (Davison & Hinkley 1997, §3.8) — recomputing the limit in every replicate; the
 *   interval is the replicates' percentile interval on the grid (seeded; seed and replicates are returned).
 */
import { InputError } from '../core/errors.ts';
import { clusteredBootstrapCI, quantileSorted, type Interval } from './accuracy.ts';
import { createRng } from '../core/rng.ts';

/** Default accuracy threshold of the effective context limit. */
export const DEFAULT_LIMIT_THRESHOLD = 0.75;

/** One sample's graded values with its grid coordinates. `values`: one per graded epoch (0/1, or partial credit in [0,1]). */
export interface GridScores {
  sample_id: string;
  /** Context length in characters (the grid's nominal length). */
  length: number;
  /** Needle depth in percent, or null (thread tasks, random placement). */
  depth: number | null;
  task: string;
  values: number[];
}

export interface ContextLimitOptions {
  /** Accuracy threshold in [0, 1] (default {@link DEFAULT_LIMIT_THRESHOLD}). */
  threshold?: number;
  rule?: 'prefix' | 'any';
  /** Bootstrap replicates (default 2000). */
  replicates?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** 1 − CI level (default 0.05). */
  alpha?: number;
}

export interface LengthAccuracy {
  length: number;
  samples: number;
  attempts: number;
  accuracy: number;
  ci95: Interval;
}

export interface HeatmapCell {
  depth: number;
  length: number;
  samples: number;
  accuracy: number;
}

export interface ContextLimitResult {
  threshold: number;
  rule: 'prefix' | 'any';
  /** Accuracy-vs-length data (ascending lengths), each with a clustered-bootstrap CI. */
  by_length: LengthAccuracy[];
  /** Depth × length heatmap data (samples with a depth only); `depths` and `lengths` ascending. */
  heatmap: { depths: number[]; lengths: number[]; cells: HeatmapCell[] };
  /** The effective limit in characters; null = below the shortest length tested. */
  effective_limit: number | null;
  /** True when every tested length passed (the limit is at least the longest length). */
  censored: boolean;
  /** Percentile interval of the bootstrap distribution of the limit (null bound = below the shortest length). */
  ci: { lo: number | null; hi: number | null; level: number; replicates: number; seed: number };
  /** Share of bootstrap replicates giving each limit (`below` = below the shortest length). */
  distribution: Record<string, number>;
  /** The limit and its interval in tokens, when a token scale was given ({@link limitInTokens}); absent otherwise. */
  tokens?: LimitInTokens | null;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Slack of the ≥ comparison: an accuracy that equals the threshold as a fraction (36/45 against 0.8) is often a few
 * ulps below it once computed as a mean of per-sample means; it must pass. Far below any real accuracy difference.
 */
export const THRESHOLD_SLACK = 1e-9;

/** The limit index (into ascending `acc`) under a rule; −1 = below the shortest length. */
export function limitIndex(acc: number[], threshold: number, rule: 'prefix' | 'any'): number {
  let best = -1;
  for (let i = 0; i < acc.length; i++) {
    if (acc[i]! >= threshold - THRESHOLD_SLACK) best = i;
    else if (rule === 'prefix') break;
  }
  return best;
}

/**
 * Effective context limit, accuracy by length and heatmap data from per-sample scores.
 * Samples without any graded value are ignored.
 * @throws InputError when no sample has a graded value, or the threshold is outside [0, 1].
 */
export function effectiveContextLimit(scores: GridScores[], opts: ContextLimitOptions = {}): ContextLimitResult {
  const threshold = opts.threshold ?? DEFAULT_LIMIT_THRESHOLD;
  const rule = opts.rule ?? 'prefix';
  const B = opts.replicates ?? 2000;
  const seed = opts.seed ?? 0;
  const alpha = opts.alpha ?? 0.05;
  if (!(threshold >= 0 && threshold <= 1)) throw new InputError(`threshold must be in [0, 1], got ${threshold}`, { field: 'threshold' });
  const graded = scores.filter((s) => s.values.length > 0);
  if (!graded.length) throw new InputError('no graded samples: nothing to estimate a context limit from');
  const lengths = [...new Set(graded.map((s) => s.length))].sort((a, b) => a - b);
  const strata = lengths.map((L) => graded.filter((s) => s.length === L).map((s) => s.values));
  const byLength: LengthAccuracy[] = lengths.map((length, i) => {
    const clusters = strata[i]!;
    const ci = clusteredBootstrapCI(clusters, { seed: seed + i + 1, replicates: B, alpha });
    return { length, samples: clusters.length, attempts: clusters.reduce((a, c) => a + c.length, 0), accuracy: mean(clusters.map(mean)), ci95: { lo: ci.lo, hi: ci.hi } };
  });
  const point = limitIndex(byLength.map((r) => r.accuracy), threshold, rule);

  // Stratified clustered bootstrap of the limit.
  const rng = createRng(seed);
  const idx = new Float64Array(B);
  const counts = new Map<number, number>();
  const acc = new Array<number>(lengths.length);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < lengths.length; i++) {
      const cl = strata[i]!;
      let total = 0;
      for (let j = 0; j < cl.length; j++) {
        const c = cl[rng.index(cl.length)]!;
        let s = 0;
        for (let e = 0; e < c.length; e++) s += c[rng.index(c.length)]!;
        total += s / c.length;
      }
      acc[i] = total / cl.length;
    }
    const li = limitIndex(acc, threshold, rule);
    idx[b] = li;
    counts.set(li, (counts.get(li) ?? 0) + 1);
  }
  idx.sort();
  // Percentile bounds on the grid: the lower bound rounds down, the upper rounds up, so the interval is conservative.
  const lo = Math.floor(quantileSorted(idx, alpha / 2));
  const hi = Math.ceil(quantileSorted(idx, 1 - alpha / 2));
  const distribution: Record<string, number> = {};
  for (const [li, n] of [...counts.entries()].sort((a, b) => a[0] - b[0])) distribution[li < 0 ? 'below' : String(lengths[li])] = n / B;

  const depths = [...new Set(graded.filter((s) => s.depth !== null).map((s) => s.depth!))].sort((a, b) => a - b);
  const cells: HeatmapCell[] = [];
  for (const depth of depths) {
    for (const length of lengths) {
      const here = graded.filter((s) => s.depth === depth && s.length === length);
      if (here.length) cells.push({ depth, length, samples: here.length, accuracy: mean(here.map((s) => mean(s.values))) });
    }
  }
  return {
    threshold,
    rule,
    by_length: byLength,
    heatmap: { depths, lengths: depths.length ? lengths : [], cells },
    effective_limit: point < 0 ? null : lengths[point]!,
    censored: point === lengths.length - 1,
    ci: { lo: lo < 0 ? null : lengths[lo]!, hi: hi < 0 ? null : lengths[hi]!, level: 1 - alpha, replicates: B, seed },
    distribution,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The limit in tokens (Needle Threading §4 states limits in each model's tokens: characters per token differ a lot
// between tokenizers on UUID haystacks, so a limit in characters alone cannot be compared across model families).
// ---------------------------------------------------------------------------------------------------------------

/** One token count of a prompt at a grid length (characters). */
export interface TokenPoint {
  length: number;
  tokens: number;
}

/** Where token counts came from. */
export type TokenSource = 'recorded' | 'tokenizer';

/**
 * How the grid's lengths in characters translate into tokens: at each grid length, the median of the token counts
 * of the prompts at that length, with their range and number.
 */
export interface TokenScale {
  /** `recorded`: the `prompt_tokens` the server reported for the run's attempts (the model's own tokenizer, whole prompt); `tokenizer`: counted here with a named tokenizer. */
  source: TokenSource;
  /** The tokenizer family (source `tokenizer`), else null. */
  tokenizer: string | null;
  /** What was counted, in words (shown with the limit). */
  description: string;
  /** Ascending grid lengths. */
  by_length: { length: number; tokens: number; min: number; max: number; counts: number }[];
}

/** The effective limit and its bootstrap interval in tokens (median prompt tokens at those grid lengths). */
export interface LimitInTokens {
  /** Tokens at the limit length; null when the limit is below the shortest length or no count exists at it. */
  effective_limit: number | null;
  ci: { lo: number | null; hi: number | null };
  source: TokenSource;
  tokenizer: string | null;
}

function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/**
 * Token scale from token counts at grid lengths (points with a non-finite or negative count are ignored).
 * Medians of an even number of counts are the mean of the middle two, rounded to a whole token.
 */
export function tokenScale(points: Iterable<TokenPoint>, source: TokenSource, tokenizer: string | null, description: string): TokenScale {
  const at = new Map<number, number[]>();
  for (const p of points) {
    if (!Number.isFinite(p.tokens) || p.tokens < 0) continue;
    let a = at.get(p.length);
    if (!a) at.set(p.length, (a = []));
    a.push(p.tokens);
  }
  const by_length = [...at.entries()].sort((a, b) => a[0] - b[0]).map(([length, xs]) => {
    xs.sort((a, b) => a - b);
    return { length, tokens: Math.round(median(xs)), min: xs[0]!, max: xs[xs.length - 1]!, counts: xs.length };
  });
  return { source, tokenizer, description, by_length };
}

/** Median tokens at a grid length, or null (no length, or no count at it). */
export function tokensAt(scale: TokenScale, length: number | null): number | null {
  if (length == null) return null;
  return scale.by_length.find((b) => b.length === length)?.tokens ?? null;
}

/** The limit of `r` and its interval bounds in the scale's tokens. */
export function limitInTokens(r: ContextLimitResult, scale: TokenScale): LimitInTokens {
  return { effective_limit: tokensAt(scale, r.effective_limit), ci: { lo: tokensAt(scale, r.ci.lo), hi: tokensAt(scale, r.ci.hi) }, source: scale.source, tokenizer: scale.tokenizer };
}
