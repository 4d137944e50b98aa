/**
 * Scorers for needle-threading samples (src/generators/needle; Roberts, Han, Albanie 2024, arXiv:2411.05000).
 *
 * - `needle` (binary; option `credit` = `exact`, the default): exact match after trimming. A single-value target (`single`, `threading`) must equal the
 *   response once whitespace and one pair of surrounding quotes or backticks are removed. A list target (a JSON list:
 *   `multiple`, `conditional`, `multi-threading`, `branched`) is compared with the list parsed from the response
 *   ({@link parseListAnswer}: a JSON list, or comma- or newline-separated items) as a multiset — order ignored unless
 *   option `ordered` — so it is right only when every gold value is there and nothing else is.
 * - `needle?credit=partial` (numeric in [0, 1], higher is better): partial credit for lists, reported separately from exact
 *   match: |pred ∩ gold| / max(|gold|, |pred|) with multiset intersection — a missing value and an extra value cost
 *   the same, and listing everything in the haystack scores near 0. Equals the exact score for single values.
 *
 * Neither scorer reads anything but the target and the response (metadata is not needed), so re-scoring stored runs
 * works. Options: `credit` (`exact` | `partial`), `ordered` (default false), `ignoreCase` (default false; UUIDs are lowercase hex).
 */
import type { Sample } from '../core/schemas.ts';
import { cutResponse } from './extract.ts';
import { safely } from './math.ts';
import type { Scorer, Verdict } from './types.ts';

export interface NeedleScorerOptions {
  ordered?: boolean;
  ignoreCase?: boolean;
}

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '`': '`', '“': '”', '‘': '’' };

/** Trim and remove one pair of surrounding quotes/backticks (and whitespace inside them). */
export function normalizeItem(s: string): string {
  let t = s.trim();
  const close = QUOTES[t[0] ?? ''];
  if (close && t.length >= 2 && t.endsWith(close)) t = t.slice(1, -1).trim();
  return t;
}

function stripFences(t: string): string {
  const m = /^```[A-Za-z0-9_-]*[ \t]*\n?([\s\S]*?)\n?```$/.exec(t);
  return m ? m[1]!.trim() : t;
}

/**
 * Parse a list answer robustly. Accepts, in this order: a JSON list (also inside a ``` fence, also with single
 * quotes as Python prints lists); otherwise items separated by commas and/or newlines, with surrounding brackets,
 * bullets (`-`, `*`, `•`, `1.`, `1)`), quotes and whitespace removed. Empty items are dropped.
 * Shape: the items as strings, in response order (non-string JSON items are stringified). Never throws.
 */
export function parseListAnswer(text: string): string[] {
  const t = stripFences(cutResponse(text ?? '').trim());
  if (t.startsWith('[')) {
    for (const candidate of [t, t.replace(/'/g, '"')]) {
      try {
        const v = JSON.parse(candidate) as unknown;
        if (Array.isArray(v)) return v.map((x) => normalizeItem(typeof x === 'string' ? x : JSON.stringify(x))).filter((x) => x !== '');
      } catch {
        /* not JSON: fall through */
      }
    }
  }
  const body = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
  return body
    .split(/[\n,]+/)
    .map((item) => normalizeItem(item.trim().replace(/^(?:[-*•]|\d+[.)])\s+/, '')))
    .filter((x) => x !== '');
}

/** The gold list of a list target (a JSON list of strings), or null when the target is a single value. */
export function goldList(target: string): string[] | null {
  const t = target.trim();
  if (!t.startsWith('[')) return null;
  try {
    const v = JSON.parse(t) as unknown;
    return Array.isArray(v) ? v.map((x) => String(x)) : null;
  } catch {
    return null;
  }
}

/** Multiset intersection size of two lists. */
function overlap(a: string[], b: string[]): number {
  const counts = new Map<string, number>();
  for (const x of a) counts.set(x, (counts.get(x) ?? 0) + 1);
  let n = 0;
  for (const x of b) {
    const c = counts.get(x) ?? 0;
    if (c > 0) {
      n++;
      counts.set(x, c - 1);
    }
  }
  return n;
}

/** The comparison of one response with one needle target: exact (0/1) and partial credit, with what was extracted. */
export interface NeedleGrade {
  exact: number;
  partial: number;
  extracted: string | null;
  explanation: string;
  status: Verdict['status'];
}

/**
 * Grade a response against a needle target (see the module comment for the rules).
 * @returns exact 0/1, partial ∈ [0, 1], the extracted answer (JSON list text for lists), an explanation, and
 *   status `no_answer` for an empty response or an empty parsed list.
 */
export function gradeNeedle(target: string, response: string, opts: NeedleScorerOptions = {}): NeedleGrade {
  const fold = (s: string) => (opts.ignoreCase ? s.toLowerCase() : s);
  const gold = goldList(target);
  if (gold === null) {
    const r = normalizeItem(stripFences(cutResponse(response ?? '').trim()));
    if (r === '') return { exact: 0, partial: 0, extracted: null, explanation: 'empty response', status: 'no_answer' };
    const ok = fold(r) === fold(normalizeItem(target));
    return { exact: ok ? 1 : 0, partial: ok ? 1 : 0, extracted: r.length > 200 ? r.slice(0, 200) + '…' : r, explanation: ok ? 'exact match' : 'differs', status: 'ok' };
  }
  const pred = parseListAnswer(response);
  if (pred.length === 0) return { exact: 0, partial: 0, extracted: null, explanation: 'no list items found', status: 'no_answer' };
  const g = gold.map(fold), p = pred.map(fold);
  const hit = overlap(g, p);
  const sameSet = hit === g.length && hit === p.length;
  const exact = sameSet && (!opts.ordered || g.every((x, i) => x === p[i]));
  const partial = hit / Math.max(g.length, p.length);
  const extractedFull = JSON.stringify(pred);
  const extracted = extractedFull.length > 2000 ? extractedFull.slice(0, 2000) + '…' : extractedFull;
  const explanation = exact ? `all ${g.length} values${opts.ordered ? ' in order' : ''}` : sameSet ? 'right values, wrong order' : `${hit}/${g.length} gold values found, ${p.length - hit} extra`;
  return { exact: exact ? 1 : 0, partial, extracted, explanation, status: 'ok' };
}

/** Defaults of the `needle` scorer's options. */
export const NEEDLE_DEFAULTS = { credit: 'exact', ordered: false, ignoreCase: false } as const;

/**
 * `needle` (binary, option `credit: 'exact'`, the default) and `needle?credit=partial` (numeric in [0, 1]):
 * see the module comment. Both can grade one run side by side (their labels differ).
 */
export class NeedleScorer implements Scorer {
  readonly name = 'needle';
  readonly kind: 'binary' | 'numeric';
  readonly options: Record<string, unknown>;
  private readonly opts: Required<NeedleScorerOptions> & { credit: 'exact' | 'partial' };
  constructor(opts: NeedleScorerOptions & { credit?: 'exact' | 'partial' } = {}) {
    this.opts = { ...NEEDLE_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof this.opts;
    this.kind = this.opts.credit === 'partial' ? 'numeric' : 'binary';
    this.options = { ...this.opts };
  }
  /** Grade a response; never throws. */
  score(sample: Sample, response: string): Verdict {
    return safely(() => {
      const g = gradeNeedle(sample.target, response, this.opts);
      if (this.opts.credit === 'partial') return { value: g.partial, extracted: g.extracted, explanation: `partial ${g.partial.toFixed(3)}: ${g.explanation}`, status: g.status };
      return { value: g.exact, extracted: g.extracted, explanation: g.explanation, status: g.status };
    }) as Verdict;
  }
}
