/**
 * Scorers for needle-threading samples (src/generators/needle; Roberts, Han, Albanie 2024, arXiv:2411.05000).
 *
 * - `needle` (binary; option `credit` = `exact`, the default): exact match after trimming. A single-value target (`single`, `threading`) must equal the
 *   response once whitespace and one pair of surrounding quotes or backticks are removed — or, when the target is a
 *   UUID-form string (every generated answer is), the one UUID-form string the response contains (`The value is X.`,
 *   `**X**`); a response naming two or more different UUID-form strings is ambiguous and wrong, so hedging never pays.
 *   A list target (a JSON list: `multiple`, `conditional`, `multi-threading`, `branched`) is compared with the list
 *   parsed from the response ({@link parseListAnswer}: a JSON list, also inside surrounding text; or comma- or
 *   newline-separated items; or, for UUID-form targets, the UUID-form strings of the response in order) as a
 *   multiset — order ignored unless option `ordered` — so it is right only when every gold value is there and
 *   nothing else is. The values themselves are never matched loosely (case counts unless `ignoreCase`).
 * - `needle?credit=partial` (numeric in [0, 1], higher is better): partial credit for lists, reported separately from exact
 *   match: |pred ∩ gold| / max(|gold|, |pred|) with multiset intersection — a missing value and an extra value cost
 *   the same, and listing everything in the haystack scores near 0. Equals the exact score for single values.
 *
 * Neither scorer reads anything but the target and the response (metadata is not needed), so re-scoring stored runs
 * works. Options: `credit` (`exact` | `partial`), `ordered` (default false), `ignoreCase` (default false; UUIDs are lowercase hex).
 */
import type { Metric, Sample } from '../core/schemas.ts';
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

/** A UUID-form string (8-4-4-4-12 hex, either case) not glued to other letters, digits or hyphens. */
const UUID_TOKEN = /(?<![0-9A-Za-z-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z-])/g;
const UUID_EXACT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** True for a whole string in UUID form (either case). */
export const isUuidToken = (s: string): boolean => UUID_EXACT.test(s);

/** The UUID-form strings of a text, in order of appearance (duplicates kept). */
export function uuidTokens(text: string): string[] {
  return [...text.matchAll(UUID_TOKEN)].map((m) => m[0]);
}

/** Index just past the `]` closing the `[` at `open` (brackets inside JSON strings skipped), or -1. */
function matchBracket(s: string, open: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = open; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** A JSON (or Python-quoted) list of `text` as items, or null. */
function jsonList(text: string): string[] | null {
  for (const candidate of [text, text.replace(/'/g, '"')]) {
    try {
      const v = JSON.parse(candidate) as unknown;
      if (Array.isArray(v)) return v.map((x) => normalizeItem(typeof x === 'string' ? x : JSON.stringify(x))).filter((x) => x !== '');
    } catch {
      /* not JSON */
    }
  }
  return null;
}

/** The last JSON list embedded in surrounding text (`Values: ["a", "b"].`), or null. */
function embeddedJsonList(t: string): string[] | null {
  // At most 64 candidate brackets from the end: a response of thousands of `[` stays linear, not quadratic.
  let tries = 0;
  for (let open = t.lastIndexOf('['); open >= 0 && tries < 64; open = open > 0 ? t.lastIndexOf('[', open - 1) : -1, tries++) {
    const close = matchBracket(t, open);
    if (close < 0) continue;
    const items = jsonList(t.slice(open, close));
    if (items && items.length) return items;
  }
  return null;
}

/** Remove markdown emphasis around an item (`**x**`, `__x__`, `*x*`). */
const unemphasize = (s: string): string => s.replace(/^(\*{1,3}|_{1,3})(.+?)\1$/, '$2');

/**
 * Parse a list answer robustly. Accepts, in this order: a JSON list (also inside a ``` fence, also with single
 * quotes as Python prints lists); a JSON list inside surrounding text (the last one: `Values: ["a", "b"].`);
 * otherwise items separated by commas and/or newlines, with surrounding brackets, bullets (`-`, `*`, `•`, `1.`,
 * `1)`), markdown emphasis, quotes and whitespace removed. With `uuids` (the gold values are UUID-form strings), a
 * response whose separated items are not all UUID-form (prose such as `The values are X and Y.`, or items joined by
 * spaces or semicolons) yields its UUID-form strings in order instead (none: an empty list). Empty items are dropped.
 * Shape: the items as strings, in response order (non-string JSON items are stringified). Never throws.
 */
export function parseListAnswer(text: string, uuids = false): string[] {
  const t = stripFences(cutResponse(text ?? '').trim());
  if (t.startsWith('[')) {
    const whole = jsonList(t);
    if (whole) return whole;
  }
  const embedded = embeddedJsonList(t);
  if (embedded) return embedded;
  const body = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
  const items = body
    .split(/[\n,]+/)
    .map((item) => normalizeItem(unemphasize(item.trim().replace(/^(?:[-*•]|\d+[.)])\s+/, '').trim())))
    .filter((x) => x !== '');
  return uuids && !items.every(isUuidToken) ? uuidTokens(t) : items;
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
    const want = fold(normalizeItem(target));
    if (fold(r) === want) return { exact: 1, partial: 1, extracted: r.length > 200 ? r.slice(0, 200) + '…' : r, explanation: 'exact match', status: 'ok' };
    if (isUuidToken(want)) {
      // The value inside a sentence or markup: only when the response names exactly one UUID-form string.
      const found = [...new Set(uuidTokens(r))];
      if (found.length === 1) {
        const ok = fold(found[0]!) === want;
        return { exact: ok ? 1 : 0, partial: ok ? 1 : 0, extracted: found[0]!, explanation: ok ? 'exact match (the one UUID-form string of the response)' : 'differs', status: 'ok' };
      }
      if (found.length > 1) return { exact: 0, partial: 0, extracted: r.length > 200 ? r.slice(0, 200) + '…' : r, explanation: `ambiguous: ${found.length} different UUID-form strings`, status: 'ok' };
    }
    return { exact: 0, partial: 0, extracted: r.length > 200 ? r.slice(0, 200) + '…' : r, explanation: 'differs', status: 'ok' };
  }
  const pred = parseListAnswer(response, gold.length > 0 && gold.every(isUuidToken));
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
  /** Exact credit is 0/1; partial credit is a share of the gold values found, in [0, 1]. */
  readonly metric: Metric;
  readonly options: Record<string, unknown>;
  private readonly opts: Required<NeedleScorerOptions> & { credit: 'exact' | 'partial' };
  constructor(opts: NeedleScorerOptions & { credit?: 'exact' | 'partial' } = {}) {
    this.opts = { ...NEEDLE_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof this.opts;
    this.kind = this.opts.credit === 'partial' ? 'numeric' : 'binary';
    this.metric = this.opts.credit === 'partial' ? { kind: 'proportion' } : { kind: 'binary' };
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
