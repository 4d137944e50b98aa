/**
 * Caption scores against several references, as the COCO caption evaluation (Chen et al. 2015, "Microsoft COCO
 * Captions: Data Collection and Evaluation Server", arXiv:1504.00325; its code tylin/coco-caption) and the metrics'
 * own papers define them:
 *
 * **BLEU-4** (Papineni, Roukos, Ward, Zhu 2002, "BLEU: a Method for Automatic Evaluation of Machine Translation",
 * ACL): modified n-gram precisions p_n (each hypothesis n-gram count clipped by its largest count in any one
 * reference), n = 1…4, combined as BP · exp(¼ Σ log p_n), with the brevity penalty BP = exp(1 − r/c) when the
 * hypothesis length c is below the reference length r (else 1); r is the reference length closest to c (ties: the
 * shorter), as coco-caption's `closest` and sacreBLEU do.
 * - {@link corpusBleu}: counts and lengths summed over the corpus before the precisions and the penalty (Papineni's
 *   corpus BLEU; no smoothing unless asked).
 * - {@link sentenceBleu} (the `bleu` scorer, one value per attempt): one hypothesis, smoothed so that a missing
 *   4-gram does not zero the score, by default with sacreBLEU's `exp` method (Chen & Cherry 2014, "A Systematic
 *   Comparison of Smoothing Techniques for Sentence-Level BLEU", method 3, the NIST geometric sequence: the k-th order
 *   with no match gets precision 1 / (2^k · total)); also `floor` (a zero count becomes `smooth_value`, default 0.1),
 *   `add-k` (k, default 1, added to the matches and totals of orders 2–4) and `none`. Orders the hypothesis is too
 *   short to have are left out (sacreBLEU's effective order), and a hypothesis without a single matching word
 *   scores 0 whatever the smoothing (sacreBLEU's rule).
 *
 * **CIDEr-D** (Vedantam, Zitnick, Parikh 2015, "CIDEr: Consensus-based Image Description Evaluation", CVPR, §8;
 * the `ciderD` scorer of vrama91/cider, which coco-caption's `Cider` is): for n = 1…4, hypothesis and each reference
 * become TF-IDF vectors of their n-grams, the IDF log(N / max(1, df)) taken from the reference corpus (df: in how
 * many of the N items' reference sets the n-gram occurs); the score of one reference is the cosine of the two vectors
 * with the hypothesis weights clipped at the reference's (`min(h, r)·r`), times the Gaussian length penalty
 * exp(−δ² / 2σ²), σ = 6 (δ: the difference of the two lengths, counted as coco-caption counts them, in bigrams);
 * the item's score is the mean over n and over its references, × 10. A zero vector gives a zero cosine (vrama91's
 * guard). {@link ciderD} scores a corpus; the `cider_d` scorer scores each attempt with the document frequencies of
 * its dataset's references (given by `prepare`, which the task resolver and re-scoring call with the evaluated
 * samples).
 *
 * Tokens ({@link captionTokens}): `coco` (default) approximates coco-caption's Stanford PTBTokenizer: lower case,
 * clitics split (`dog's` → `dog 's`, `can't` → `ca n't`), punctuation split off and the punctuation tokens it drops
 * removed; `13a` is sacreBLEU's default (mteval-v13a, case kept); `none` splits on whitespace only.
 */
import type { Metric, Sample } from '../core/schemas.ts';
import { cutResponse } from './extract.ts';
import { safely } from './math.ts';
import type { Scorer, Verdict } from './types.ts';

export const CAPTION_TOKENIZERS = ['coco', '13a', 'none'] as const;
export type CaptionTokenizer = (typeof CAPTION_TOKENIZERS)[number];

/** The punctuation tokens coco-caption's tokenizer drops. */
const COCO_PUNCT = new Set(["''", "'", '``', '`', '-lrb-', '-rrb-', '-lcb-', '-rcb-', '.', '?', '!', ',', ':', '-', '--', '...', ';', '(', ')', '[', ']', '{', '}', '"']);

/** sacreBLEU's `13a` tokenizer (mteval-v13a): its escapes undone, punctuation split off, whitespace collapsed. */
function tokenize13a(line: string): string {
  let t = ` ${line.replace(/<skipped>/g, '').replace(/-\n/g, '').replace(/\n/g, ' ').replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>')} `;
  t = t.replace(/([\{-\~\[-\` -\&\(-\+\:-\@\/])/g, ' $1 ');
  t = t.replace(/([^0-9])([.,])/g, '$1 $2 ');
  t = t.replace(/([.,])([^0-9])/g, ' $1 $2');
  t = t.replace(/([0-9])(-)/g, '$1 $2 ');
  return t.trim().split(/\s+/).join(' ');
}

/**
 * The tokens of a caption (see the module comment for the three tokenizers). Empty text gives no tokens.
 */
export function captionTokens(text: string, tok: CaptionTokenizer = 'coco'): string[] {
  if (tok === 'none') return text.split(/\s+/).filter((w) => w !== '');
  if (tok === '13a') return tokenize13a(text).split(' ').filter((w) => w !== '');
  const t = text
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/n't\b/g, " n't")
    .replace(/'(s|re|ve|ll|d|m)\b/g, " '$1")
    .replace(/\.\.\./g, ' ... ')
    .replace(/([?!,:;()[\]{}"`])/g, ' $1 ')
    .replace(/--/g, ' -- ')
    .replace(/(^|\s)-(?=\s|$)/g, ' - ')
    // a full stop ends a token unless it sits inside a number (3.5) or an abbreviation with more full stops
    .replace(/\.(?=\s|$)/g, ' . ');
  return t.split(/\s+/).filter((w) => w !== '' && !COCO_PUNCT.has(w));
}

/** n-gram counts (n = 1…maxN) of tokens, keyed `n\u0001w1 w2 …`. */
function ngramCounts(tokens: readonly string[], maxN: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const k = `${n}\u0001${tokens.slice(i, i + n).join(' ')}`;
      out.set(k, (out.get(k) ?? 0) + 1);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// BLEU

/** BLEU's sufficient statistics of one hypothesis: clipped matches and totals per order, its length, the closest reference length. */
export interface BleuStats {
  matches: number[];
  totals: number[];
  hyp_len: number;
  ref_len: number;
}

/**
 * BLEU statistics of one tokenised hypothesis against its tokenised references (module comment: clipping by the
 * largest count in one reference; the closest reference length, ties to the shorter).
 * @throws RangeError without a reference
 */
export function bleuStats(hyp: readonly string[], refs: readonly (readonly string[])[], maxN = 4): BleuStats {
  if (refs.length === 0) throw new RangeError('BLEU needs at least one reference');
  const maxRef = new Map<string, number>();
  let refLen = refs[0]!.length, best = Math.abs(refs[0]!.length - hyp.length);
  for (const r of refs) {
    for (const [k, c] of ngramCounts(r, maxN)) if ((maxRef.get(k) ?? 0) < c) maxRef.set(k, c);
    const d = Math.abs(r.length - hyp.length);
    if (d < best || (d === best && r.length < refLen)) [best, refLen] = [d, r.length];
  }
  const matches = new Array<number>(maxN).fill(0), totals = new Array<number>(maxN).fill(0);
  for (const [k, c] of ngramCounts(hyp, maxN)) {
    const n = Number(k.slice(0, k.indexOf('\u0001')));
    totals[n - 1]! += c;
    matches[n - 1]! += Math.min(c, maxRef.get(k) ?? 0);
  }
  return { matches, totals, hyp_len: hyp.length, ref_len: refLen };
}

/** How zero counts are smoothed (module comment). */
export type BleuSmoothing = 'none' | 'exp' | 'floor' | 'add-k';

/** A BLEU score in [0, 1] with its parts: precisions p_n (as used, after smoothing) and the brevity penalty. */
export interface BleuScore {
  bleu: number;
  precisions: number[];
  brevity_penalty: number;
  hyp_len: number;
  ref_len: number;
  /** The orders used (4, or fewer with the effective order of a short hypothesis). */
  order: number;
}

/**
 * BLEU from summed statistics (sacreBLEU's `compute_bleu`, which follows Papineni et al. 2002).
 * @param o.smoothing default `none`; `o.value` the floor (default 0.1) or k (default 1); `o.effectiveOrder` leaves out
 *   orders with no n-gram in the hypothesis (default false)
 */
export function bleuFromStats(s: BleuStats, o: { smoothing?: BleuSmoothing; value?: number; effectiveOrder?: boolean } = {}): BleuScore {
  const smoothing = o.smoothing ?? 'none';
  const maxN = s.totals.length;
  const matches = [...s.matches], totals = [...s.totals];
  const precisions = new Array<number>(maxN).fill(0);
  const bp = s.hyp_len >= s.ref_len ? 1 : s.hyp_len > 0 ? Math.exp(1 - s.ref_len / s.hyp_len) : 0;
  const base = { brevity_penalty: bp, hyp_len: s.hyp_len, ref_len: s.ref_len };
  // no matching word at all: 0 whatever the smoothing (sacreBLEU)
  if (!matches.some((m) => m > 0)) return { bleu: 0, precisions, order: maxN, ...base };
  let order = maxN, expFactor = 1;
  for (let n = 1; n <= maxN; n++) {
    if (smoothing === 'add-k' && n > 1) {
      matches[n - 1]! += o.value ?? 1;
      totals[n - 1]! += o.value ?? 1;
    }
    if (totals[n - 1] === 0) break;
    if (o.effectiveOrder) order = n;
    if (matches[n - 1] === 0) {
      if (smoothing === 'exp') {
        expFactor *= 2;
        precisions[n - 1] = 1 / (expFactor * totals[n - 1]!);
      } else if (smoothing === 'floor') precisions[n - 1] = (o.value ?? 0.1) / totals[n - 1]!;
    } else precisions[n - 1] = matches[n - 1]! / totals[n - 1]!;
  }
  const used = precisions.slice(0, order);
  const bleu = used.some((p) => p <= 0) ? 0 : bp * Math.exp(used.reduce((a, p) => a + Math.log(p), 0) / order);
  return { bleu, precisions, order, ...base };
}

/**
 * Corpus BLEU-4 (Papineni et al. 2002): statistics summed over hypotheses, then one score; no smoothing unless asked.
 * @param hyps hypotheses; `refs[i]` the references of `hyps[i]` (any number, at least one)
 * @throws RangeError when the lists differ in length or an item has no reference
 */
export function corpusBleu(hyps: readonly string[], refs: readonly (readonly string[])[], o: { tokenize?: CaptionTokenizer; smoothing?: BleuSmoothing; value?: number } = {}): BleuScore {
  if (hyps.length !== refs.length) throw new RangeError(`${hyps.length} hypotheses but ${refs.length} reference sets`);
  const tok = o.tokenize ?? 'coco';
  const sum: BleuStats = { matches: [0, 0, 0, 0], totals: [0, 0, 0, 0], hyp_len: 0, ref_len: 0 };
  hyps.forEach((h, i) => {
    const s = bleuStats(captionTokens(h, tok), refs[i]!.map((r) => captionTokens(r, tok)));
    for (let n = 0; n < 4; n++) {
      sum.matches[n]! += s.matches[n]!;
      sum.totals[n]! += s.totals[n]!;
    }
    sum.hyp_len += s.hyp_len;
    sum.ref_len += s.ref_len;
  });
  return bleuFromStats(sum, { smoothing: o.smoothing ?? 'none', value: o.value });
}

/**
 * Sentence BLEU-4 of one hypothesis (module comment): effective order, smoothing `exp` by default.
 * @throws RangeError without a reference
 */
export function sentenceBleu(hyp: string, refs: readonly string[], o: { tokenize?: CaptionTokenizer; smoothing?: BleuSmoothing; value?: number } = {}): BleuScore {
  const tok = o.tokenize ?? 'coco';
  return bleuFromStats(bleuStats(captionTokens(hyp, tok), refs.map((r) => captionTokens(r, tok))), { smoothing: o.smoothing ?? 'exp', value: o.value, effectiveOrder: true });
}

// ---------------------------------------------------------------------------------------------------------------
// CIDEr-D

/** Document frequencies of n-grams (n = 1…4) over a reference corpus: one document per item (its reference set). */
export class CiderCorpus {
  private readonly df = new Map<string, number>();
  /** log(N), N the number of items. */
  readonly logN: number;
  /**
   * @param refs token lists of each item's references
   * @throws RangeError for an empty corpus
   */
  constructor(refs: readonly (readonly (readonly string[])[])[], readonly n = 4, readonly sigma = 6) {
    if (refs.length === 0) throw new RangeError('CIDEr-D needs a reference corpus of at least one item');
    for (const item of refs) {
      const seen = new Set<string>();
      for (const r of item) for (const k of ngramCounts(r, n).keys()) seen.add(k);
      for (const k of seen) this.df.set(k, (this.df.get(k) ?? 0) + 1);
    }
    this.logN = Math.log(refs.length);
  }

  /** TF-IDF vectors by order, their norms, and the length coco-caption uses (its bigram count). */
  private vector(tokens: readonly string[]): { vec: Map<string, number>[]; norm: number[]; length: number } {
    const vec = Array.from({ length: this.n }, () => new Map<string, number>());
    const norm = new Array<number>(this.n).fill(0);
    let length = 0;
    for (const [k, tf] of ngramCounts(tokens, this.n)) {
      const order = Number(k.slice(0, k.indexOf('\u0001'))) - 1;
      const w = tf * (this.logN - Math.log(Math.max(1, this.df.get(k) ?? 0)));
      vec[order]!.set(k, w);
      norm[order]! += w * w;
      if (order === 1) length += tf;
    }
    return { vec, norm: norm.map(Math.sqrt), length };
  }

  /** CIDEr-D of one tokenised hypothesis against its tokenised references (module comment). */
  score(hyp: readonly string[], refs: readonly (readonly string[])[]): number {
    if (refs.length === 0) throw new RangeError('CIDEr-D needs at least one reference');
    const h = this.vector(hyp);
    let total = 0;
    for (const ref of refs) {
      const r = this.vector(ref);
      const penalty = Math.exp(-((h.length - r.length) ** 2) / (2 * this.sigma ** 2));
      for (let n = 0; n < this.n; n++) {
        let v = 0;
        for (const [k, w] of h.vec[n]!) {
          const rw = r.vec[n]!.get(k) ?? 0;
          v += Math.min(w, rw) * rw;
        }
        if (h.norm[n] !== 0 && r.norm[n] !== 0) v /= h.norm[n]! * r.norm[n]!;
        total += v * penalty;
      }
    }
    return (total / this.n / refs.length) * 10;
  }
}

/**
 * CIDEr-D of a corpus (module comment): document frequencies from `refs`, one score per hypothesis and their mean.
 * @throws RangeError when the lists differ in length, or for an empty corpus or an item without references
 */
export function ciderD(hyps: readonly string[], refs: readonly (readonly string[])[], o: { tokenize?: CaptionTokenizer; sigma?: number } = {}): { score: number; scores: number[] } {
  if (hyps.length !== refs.length) throw new RangeError(`${hyps.length} hypotheses but ${refs.length} reference sets`);
  const tok = o.tokenize ?? 'coco';
  const r = refs.map((set) => set.map((x) => captionTokens(x, tok)));
  const corpus = new CiderCorpus(r, 4, o.sigma ?? 6);
  const scores = hyps.map((h, i) => corpus.score(captionTokens(h, tok), r[i]!));
  return { score: scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length), scores };
}

// ---------------------------------------------------------------------------------------------------------------
// Scorers

/**
 * The reference captions of a sample: `metadata.references` (or `metadata.captions`), a list of strings; else the
 * target when it is a JSON list of strings; else the target itself as the one reference. Null when there is none.
 */
export function referenceCaptions(sample: Sample): string[] | null {
  const md = sample.metadata?.references ?? sample.metadata?.captions;
  let list: unknown = md;
  if (list === undefined) {
    try {
      list = JSON.parse(sample.target);
    } catch {
      list = null;
    }
    if (!Array.isArray(list)) list = sample.target.trim() === '' ? [] : [sample.target];
  }
  if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string')) return null;
  return list as string[];
}

/** Options of the `bleu` scorer. */
export interface BleuScorerOptions {
  tokenize?: CaptionTokenizer;
  smoothing?: BleuSmoothing;
  /** The floor of `floor` (default 0.1) or the k of `add-k` (default 1); ignored otherwise. */
  smooth_value?: number;
}

export const BLEU_DEFAULTS = { tokenize: 'coco', smoothing: 'exp' } as const;

/** `bleu`: sentence BLEU-4 in [0, 1] of the response against the sample's reference captions (module comment). */
export class BleuScorer implements Scorer {
  readonly name = 'bleu';
  readonly kind = 'numeric' as const;
  readonly metric: Metric = { kind: 'proportion' };
  readonly options: Record<string, unknown>;
  constructor(private readonly o: BleuScorerOptions = {}) {
    this.options = { ...BLEU_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
  }
  /** Grade a response; never throws. A sample without references is a grader error. */
  score(sample: Sample, response: string): Verdict {
    return safely(() => {
      const refs = referenceCaptions(sample);
      if (!refs) return { value: null, extracted: null, explanation: 'no reference captions (metadata.references, or a JSON list target)', status: 'grader_error' };
      const text = cutResponse(response ?? '').trim();
      if (text === '') return { value: 0, extracted: null, explanation: 'empty caption', status: 'no_answer' };
      const b = sentenceBleu(text, refs, { tokenize: this.options.tokenize as CaptionTokenizer, smoothing: this.options.smoothing as BleuSmoothing, value: this.o.smooth_value });
      return { value: b.bleu, extracted: text.slice(0, 200), explanation: `BLEU-4 ${b.bleu.toFixed(4)}: precisions ${b.precisions.map((p) => p.toFixed(3)).join('/')}, brevity penalty ${b.brevity_penalty.toFixed(3)} (${b.hyp_len} vs ${b.ref_len} tokens), ${refs.length} references`, status: 'ok' };
    }) as Verdict;
  }
}

/** Options of the `cider_d` scorer. */
export interface CiderScorerOptions {
  tokenize?: CaptionTokenizer;
  /** σ of the Gaussian length penalty (default 6). */
  sigma?: number;
}

export const CIDER_DEFAULTS = { tokenize: 'coco', sigma: 6 } as const;

/**
 * `cider_d`: CIDEr-D (module comment) of the response against the sample's reference captions, with the document
 * frequencies of the references of the samples given to {@link CiderDScorer.prepare} (the evaluated dataset); a
 * number on CIDEr-D's scale (×10; higher is better).
 */
export class CiderDScorer implements Scorer {
  readonly name = 'cider_d';
  readonly kind = 'numeric' as const;
  readonly metric: Metric = { kind: 'numeric', unit: 'CIDEr-D', higher_is_better: true };
  readonly options: Record<string, unknown>;
  private corpus: CiderCorpus | null = null;
  constructor(o: CiderScorerOptions = {}) {
    this.options = { ...CIDER_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
  }
  private get tok(): CaptionTokenizer {
    return this.options.tokenize as CaptionTokenizer;
  }
  /** Build the document frequencies from the reference captions of `samples` (the evaluated ones); samples without references are skipped. */
  prepare(samples: readonly Sample[]): void {
    const refs = samples.map(referenceCaptions).filter((r): r is string[] => r !== null).map((set) => set.map((x) => captionTokens(x, this.tok)));
    this.corpus = refs.length ? new CiderCorpus(refs, 4, this.options.sigma as number) : null;
  }
  /** Grade a response; never throws. Without a prepared corpus, or references, a grader error. */
  score(sample: Sample, response: string): Verdict {
    return safely(() => {
      if (!this.corpus) return { value: null, extracted: null, explanation: 'CIDEr-D needs the reference corpus for its document frequencies: prepare(samples) was not called (the task resolver and re-scoring call it)', status: 'grader_error' };
      const refs = referenceCaptions(sample);
      if (!refs) return { value: null, extracted: null, explanation: 'no reference captions (metadata.references, or a JSON list target)', status: 'grader_error' };
      const text = cutResponse(response ?? '').trim();
      if (text === '') return { value: 0, extracted: null, explanation: 'empty caption', status: 'no_answer' };
      const v = this.corpus.score(captionTokens(text, this.tok), refs.map((r) => captionTokens(r, this.tok)));
      return { value: v, extracted: text.slice(0, 200), explanation: `CIDEr-D ${v.toFixed(4)} against ${refs.length} references`, status: 'ok' };
    }) as Verdict;
  }
}
