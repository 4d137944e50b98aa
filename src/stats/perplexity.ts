/**
 * Corpus-level perplexity and bits per byte from per-document log-likelihoods (loglikelihood_rolling), with
 * bootstrap confidence intervals.
 *
 * Definitions (lm-evaluation-harness, `lm_eval/api/metrics.py`: `weighted_perplexity`, `bits_per_byte`), with L_i the
 * log-likelihood of document i in nats and w_i its words, bytes (UTF-8) or tokens:
 * - word / byte / token perplexity = exp(−Σ L_i / Σ w_i)
 * - bits per byte = −Σ L_i / Σ bytes_i / ln 2
 * - NLL per token = −Σ L_i / Σ tokens_i (nats)
 * These are ratios of sums (a corpus is one long text), not means of per-document values. The interval resamples
 * documents with replacement (a percentile bootstrap of the ratio estimator, Efron & Tibshirani 1993 §10), so it
 * says how much the figure depends on which documents the corpus happened to hold. Token figures depend on the
 * model's tokenizer; byte and word figures compare across tokenizers.
 */
import { createRng } from '../core/rng.ts';
import { quantileSorted } from './quantile.ts';

/** One scored document. */
export interface RollingItem {
  /** Log-likelihood of the whole document, nats (≤ 0). */
  logprob: number;
  tokens: number;
  bytes: number;
  words: number;
}

/** A corpus figure with its 95% bootstrap interval. */
export interface CorpusFigure {
  value: number;
  ci95: { lo: number; hi: number };
}

export interface CorpusPerplexity {
  documents: number;
  tokens: number;
  bytes: number;
  words: number;
  bits_per_byte: CorpusFigure;
  byte_perplexity: CorpusFigure;
  word_perplexity: CorpusFigure;
  token_perplexity: CorpusFigure;
  nll_per_token: CorpusFigure;
  method: 'percentile bootstrap over documents (ratio of sums)';
  replicates: number;
  seed: number;
}

function figures(ll: number, tokens: number, bytes: number, words: number): number[] {
  return [-ll / bytes / Math.LN2, Math.exp(-ll / bytes), Math.exp(-ll / words), Math.exp(-ll / tokens), -ll / tokens];
}

/**
 * Corpus perplexities of `items` with 95% percentile-bootstrap intervals (`replicates` resamples of the documents,
 * seeded). Errors: RangeError for an empty corpus or one without bytes, words or tokens.
 */
export function corpusPerplexity(items: readonly RollingItem[], opts: { seed?: number; replicates?: number } = {}): CorpusPerplexity {
  const n = items.length;
  if (n === 0) throw new RangeError('corpusPerplexity: no documents');
  const seed = opts.seed ?? 0;
  const replicates = opts.replicates ?? 2000;
  let L = 0, T = 0, B = 0, W = 0;
  for (const it of items) {
    L += it.logprob;
    T += it.tokens;
    B += it.bytes;
    W += it.words;
  }
  if (!(T > 0 && B > 0 && W > 0)) throw new RangeError('corpusPerplexity: the corpus has no tokens, bytes or words');
  const point = figures(L, T, B, W);
  const reps = point.map(() => new Float64Array(replicates));
  const rng = createRng(seed);
  for (let r = 0; r < replicates; r++) {
    let l = 0, t = 0, b = 0, w = 0;
    for (let k = 0; k < n; k++) {
      const it = items[rng.index(n)]!;
      l += it.logprob;
      t += it.tokens;
      b += it.bytes;
      w += it.words;
    }
    const f = figures(l, t || 1, b || 1, w || 1);
    for (let j = 0; j < f.length; j++) reps[j]![r] = f[j]!;
  }
  const fig = (j: number): CorpusFigure => {
    const s = Float64Array.from(reps[j]!).sort();
    return { value: point[j]!, ci95: { lo: quantileSorted(s, 0.025), hi: quantileSorted(s, 0.975) } };
  };
  return {
    documents: n, tokens: T, bytes: B, words: W,
    bits_per_byte: fig(0), byte_perplexity: fig(1), word_perplexity: fig(2), token_perplexity: fig(3), nll_per_token: fig(4),
    method: 'percentile bootstrap over documents (ratio of sums)', replicates, seed,
  };
}
