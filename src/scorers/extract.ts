/**
 * Answer extraction: find the final answer inside a model's free-text response.
 *
 * Every function here is linear in the input: one forward scan finds every `\boxed{}` and its closing brace (so
 * a repetition loop of 100,000 unclosed boxes costs one pass, not one pass per box), searches with `indexOf`
 * only move forward, regexes run on bounded windows (a line, a sentence, the last 20,000 characters), and no
 * regex with adjacent unbounded quantifiers is run on unbounded text. Responses larger than
 * {@link MAX_RESPONSE_CHARS} are cut to their last part first (the final answer sits at the end).
 *
 * What counts as the answer (see {@link extractAnswer} for the order):
 * - a response cut off inside its final `\boxed{` (or `\fbox{`, or GLM's `<|begin_of_box|>`) or inside an unclosed
 *   `<think>` block has no answer: what it wrote before (an abandoned box, a tentative number) is never credited;
 * - the last box; boxes given one per element (`\boxed{3}, \boxed{5} and \boxed{7}`) are one list;
 * - an explicit final statement written after the last box overrides it (Minerva's
 *   `Final Answer: The final answer is $10,455$. I hope it is correct.` after intermediate boxes);
 * - answer lines (`A: …`, `Answer: …`, `Final Answer: …`, `Total: …`) are reduced to their value: an inner
 *   "the answer is X", a leading number (`18 apples` → 18), the value after the last "is"/"=" of a sentence
 *   (`The volume of $ABCDEFGH$ is 120.` → 120), the last right-hand side of a chain (`m+n = 256+37 = 293`);
 * - plain-text mixed numbers (`2 2/3`, `2 and 2/3`, `2⅔`) are one value, written `2\frac{2}{3}` (the MATH
 *   convention, which normalisation turns into 8/3); small numbers written as words (`nine`) are numbers;
 * - with no box and no statement, a line that is one bold number (`**8**`, `**x = 8**`) is the answer, whatever
 *   explanation follows it (a bold heading such as `**Step 3**` is not);
 * - with none of these, the last number, unless it sits inside a math span or a matrix environment,
 *   which is then the answer (`$\frac{2}{3}$` is not 3; a matrix is not its last entry).
 * - a time or a ratio written with colons in plain text is one value, wherever a number is read (last number,
 *   "the answer is", `Answer:` lines): `4:30 p.m.`, `16:30`, `3:2`, `1:2:3`, never `30` or `2`; compared then as
 *   in a box (a.m./p.m. on a 24-hour clock, ratios term by term), so a plain-number gold `30` is not `4:30`.
 *
 * Sources of the kinds: public bug reports of peer tools (`shared/cases/answer_grading_more.jsonl`),
 * the final-answer forms exercised by huggingface/Math-Verify's test suite (display math after "Answer",
 * matrices, Minerva's `Final Answer: The final answer is $X$. I hope it is correct.`, which is the MATH few-shot
 * format of lm-eval's `minerva_math`), and GSM8K's own `#### N` / `A: N` conventions. The code is our own.
 * Nothing here throws on any string input.
 */

/** Responses longer than this (characters, ≈1 MB) are cut to their last part before extraction. */
export const MAX_RESPONSE_CHARS = 1_000_000;
/** How much of an over-long response is kept (its tail). */
export const KEPT_TAIL_CHARS = 200_000;
/** Answer statements ("the answer is", "Answer:") are searched for in this many final characters. */
const STATEMENT_TAIL_CHARS = 20_000;
/** Numbers and math spans are searched for in this many final characters. */
const NUMBER_TAIL_CHARS = 50_000;

/** Where an extracted answer came from (recorded in the verdict's explanation). */
export type ExtractionMethod =
  | 'boxed'
  | 'box_tokens'
  | 'answer_phrase'
  | 'gsm8k_marker'
  | 'program_output'
  | 'bare'
  | 'bold'
  | 'last_math'
  | 'last_number';

/** An extracted answer: the raw text (not yet normalised) and how it was found. */
export interface Extraction {
  text: string;
  method: ExtractionMethod;
}

// ---------------------------------------------------------------------------------------------------------------
// Cutting the response

/**
 * Cut an over-long response to its tail, and drop a reasoning model's thinking: when the response contains a
 * closing `</think>` (DeepSeek-R1, Qwen3, QwQ style), only the text after the last one is the final answer, so a
 * tentative `\boxed{}` inside the thinking can never be graded as the answer. A `<think>` that is opened after the
 * last `</think>` (or with none at all) and never closed means the response was cut off while thinking: it gave
 * no final answer, so nothing is kept (an answer written before a re-opened think block was abandoned with it).
 * @param response the raw response
 * @returns the final part of the response, at most {@link KEPT_TAIL_CHARS} characters when it exceeds
 * {@link MAX_RESPONSE_CHARS}; `''` when the response ends inside an unclosed think block.
 */
export function cutResponse(response: string): string {
  const close = response.lastIndexOf('</think>');
  const tail = close >= 0 ? response.slice(close + '</think>'.length) : response;
  if (tail.includes('<think>')) return '';
  return tail.length > MAX_RESPONSE_CHARS ? tail.slice(tail.length - KEPT_TAIL_CHARS) : tail;
}

/**
 * True when the response was cut off inside a reasoning model's thinking: a `<think>` opened after the last
 * `</think>` (or with none) and never closed. Such a response has no final answer ({@link cutResponse}).
 */
export function endsInsideThinking(response: string): boolean {
  const open = response.lastIndexOf('<think>');
  return open >= 0 && open > response.lastIndexOf('</think>');
}

// ---------------------------------------------------------------------------------------------------------------
// Boxes

/**
 * Read a balanced `{...}` group starting at `open` (which must index a `{`). Escaped braces `\{` `\}` are
 * content, not structure. Linear in the length of the group (use {@link scanBoxes} for many groups).
 * @returns the index just past the closing brace, or -1 when the group is not closed.
 */
export function matchBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      i++; // skip the escaped character
      continue;
    }
    if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** One `\boxed`/`\fbox` command found in a text by {@link scanBoxes}. */
export interface BoxSpan {
  /** Index of the command's backslash. */
  at: number;
  /** Index where the content starts (just past `{`, or the first character of a brace-less argument). */
  start: number;
  /** Index just past the content (the closing `}` is at `stop`), or -1 when the box never closes. */
  stop: number;
  /** Index just past the whole box (past its `}`), or -1 when the box never closes. */
  end: number;
}

const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * Every `\boxed{…}`, `\boxed {…}`, `\fbox{…}` and brace-less `\boxed 5` (argument up to the next whitespace or
 * `$`) in `s`, in order of position, with where each one closes. One forward pass with a brace stack: linear in
 * `s` however many boxes are left open. Escaped braces `\{` `\}` are content. A `\boxed` at the very end of the
 * text with nothing after it counts as an unclosed box.
 * @returns the boxes; an unclosed one has `stop === end === -1`.
 */
export function scanBoxes(s: string): BoxSpan[] {
  const boxes: BoxSpan[] = [];
  if (s.indexOf('\\boxed') < 0 && s.indexOf('\\fbox') < 0) return boxes;
  if (s.length > 10_000 && lastScan && lastScan.s === s) return lastScan.boxes;
  const n = s.length;
  // per open brace: the index of its box, or -1 for a plain group (a typed stack, reused between calls: a flood of
  // 700,000 `{` costs a few milliseconds, an Array with push/pop several times more)
  if (braceStack.length < n + 1) braceStack = new Int32Array(Math.max(n + 1, 2 * braceStack.length));
  const stack = braceStack;
  let top = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      if (!isLetter(s.charCodeAt(i + 1))) {
        i++; // an escaped character (\{, \}, \\, \$): content
        continue;
      }
      let j = i + 1;
      while (j < n && isLetter(s.charCodeAt(j))) j++;
      const len = j - i - 1;
      if ((len === 5 && s.startsWith('boxed', i + 1)) || (len === 4 && s.startsWith('fbox', i + 1))) {
        let k = j;
        while (s.charCodeAt(k) === 32) k++;
        if (s.charCodeAt(k) === 123 /* { */) {
          boxes.push({ at: i, start: k + 1, stop: -1, end: -1 });
          stack[top++] = boxes.length - 1;
          i = k;
          continue;
        }
        if (k > j) {
          const m = /^[^\s$]+/.exec(s.slice(k, k + 200));
          if (m) boxes.push({ at: i, start: k, stop: k + m[0].length, end: k + m[0].length });
        }
        // `\boxed` with nothing after it: the response was cut off right there
        if (n - k <= 200 && /^\s*$/.test(s.slice(k))) boxes.push({ at: i, start: n, stop: -1, end: -1 });
      }
      i = j - 1;
      continue;
    }
    if (c === 123 /* { */) stack[top++] = -1;
    else if (c === 125 /* } */ && top > 0) {
      const b = stack[--top]!;
      if (b >= 0) {
        const box = boxes[b]!;
        box.stop = i;
        box.end = i + 1;
      }
    }
  }
  if (n > 10_000) lastScan = { s, boxes };
  return boxes;
}

/** The last long text scanned, so the scorers' second look (the no-answer explanation) costs nothing. */
let lastScan: { s: string; boxes: BoxSpan[] } | null = null;
/** The brace stack of {@link scanBoxes}, grown as needed (extraction is synchronous, never re-entered). */
let braceStack = new Int32Array(4096);

/**
 * True when a box in `boxes` never closes: the text ends inside that box (everything after an unclosed `{` is
 * inside it), i.e. the response was cut off while writing its final boxed answer.
 */
export function endsInsideBox(boxes: readonly BoxSpan[]): boolean {
  for (const b of boxes) if (b.end < 0) return true;
  return false;
}

/**
 * The content of the last complete `\boxed{...}`, `\boxed {...}` or `\fbox{...}` (balanced braces), or of a
 * brace-less `\boxed 5` (up to the next whitespace or `$`). An unclosed box is skipped here (this is the low-level
 * reader; {@link extractAnswer} refuses a response that ends inside a box). Linear in `s`.
 * @returns the box content (untrimmed) or null when there is no complete box.
 */
export function lastBoxed(s: string): string | null {
  const boxes = scanBoxes(s);
  for (let k = boxes.length - 1; k >= 0; k--) {
    const b = boxes[k]!;
    if (b.end >= 0) return s.slice(b.start, b.stop);
  }
  return null;
}

// text allowed between the boxes of a list: commas, "and"/"or", spacing, math delimiters
const LIST_NOISE = /\\(?:text|textrm|mathrm|textbf|mbox)\s*\{\s*(?:and|,)?\s*\}|\\(?:quad|qquad|[,;:! ])|\\[()[\]]|\$|~|\\\\/g;

/**
 * True when `t` (the text between two boxes) only separates list elements: `, `, ` and `, `$, $`, `\quad`. "or"
 * does not: `\boxed{9999.857} or \boxed{9999 \frac{6}{7}}` gives one value in two forms, not a list of two.
 */
function isListSeparator(t: string): boolean {
  if (t.length > 80) return false;
  return /^[\s,;]*(?:(?:and|&)[\s,;]*)?$/i.test(t.replace(LIST_NOISE, ' '));
}

/** A box answer: the (joined) content and where it starts and ends in the text. */
export interface BoxAnswer {
  text: string;
  at: number;
  end: number;
  /** How many boxes were joined. */
  count: number;
}

/**
 * The final boxed answer of `s`: the last complete box, joined with the boxes just before it when the response
 * gives a list one box per element (`\boxed{3}, \boxed{5}, and \boxed{7}` → `3, 5, 7`; `\boxed{-2} and \boxed{1}`;
 * `$\boxed{1}\boxed{2}$`). Boxes are joined only when nothing but separators (commas, "and", spacing, math
 * delimiters) stands between them, so `\boxed{5} wait, no: \boxed{3}` is 3 (and `… or \boxed{3}` is 3). A list whose elements are all the same
 * (a model restating its answer) is that one element.
 * @param boxes the result of {@link scanBoxes} on `s`
 * @returns the answer, or null when there is no complete box or its content is empty.
 */
export function boxedAnswer(s: string, boxes: readonly BoxSpan[]): BoxAnswer | null {
  let k = boxes.length - 1;
  while (k >= 0 && boxes[k]!.end < 0) k--;
  if (k < 0) return null;
  const last = boxes[k]!;
  const parts = [s.slice(last.start, last.stop).trim()];
  let first = last;
  for (let j = k - 1; j >= 0 && parts.length < 100; j--) {
    const b = boxes[j]!;
    if (b.end < 0) break;
    if (b.end > first.at) break; // nested: this box contains the later one
    if (!isListSeparator(s.slice(b.end, first.at))) break;
    parts.unshift(s.slice(b.start, b.stop).trim());
    first = b;
  }
  const distinct = parts.filter((p) => p !== '');
  if (distinct.length === 0) return null;
  const text = distinct.every((p) => p === distinct[0]) ? distinct[0]! : distinct.join(', ');
  return { text, at: first.at, end: last.end, count: distinct.length };
}

/** True when the last `<|begin_of_box|>` (GLM models) is never closed: the response was cut off inside its box. */
export function endsInsideBoxTokens(s: string): boolean {
  const b = s.lastIndexOf('<|begin_of_box|>');
  return b >= 0 && s.indexOf('<|end_of_box|>', b) < 0;
}

/** The content of the last `<|begin_of_box|>…<|end_of_box|>` pair (GLM models), or null. */
export function lastBoxTokens(s: string): string | null {
  const END = '<|end_of_box|>';
  const BEGIN = '<|begin_of_box|>';
  const e = s.lastIndexOf(END);
  if (e < 0) return null;
  const b = s.lastIndexOf(BEGIN, e);
  if (b < 0) return null;
  return s.slice(b + BEGIN.length, e);
}

// ---------------------------------------------------------------------------------------------------------------
// Math spans, sentences, numbers

/** A math span `$…$`, `$$…$$`, `\(…\)` or `\[…\]`: its bounds and content. */
interface MathSpan {
  start: number;
  end: number;
  content: string;
}

/**
 * The math spans of `s`, in order. Linear: every search for a closing delimiter starts where the previous one
 * for that delimiter ended or later, and its result is reused. An inline `$…$` holds no blank line and at most
 * 2,000 characters (else the `$` is read as a currency sign); `\$` is an escaped dollar, never a delimiter.
 */
function mathSpans(s: string): MathSpan[] {
  const out: MathSpan[] = [];
  const cache = new Map<string, { from: number; at: number }>();
  const next = (needle: string, from: number): number => {
    const c = cache.get(needle);
    if (c && c.from <= from && (c.at < 0 || c.at >= from)) return c.at;
    let at = s.indexOf(needle, from);
    while (at > 0 && needle === '$' && s[at - 1] === '\\') at = s.indexOf(needle, at + 1);
    cache.set(needle, { from, at });
    return at;
  };
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      const d = s[i + 1];
      if (d === '(' || d === '[') {
        const closer = d === '(' ? '\\)' : '\\]';
        const j = next(closer, i + 2);
        if (j >= 0 && (d === '[' || j - i < 4000)) {
          out.push({ start: i, end: j + 2, content: s.slice(i + 2, j) });
          i = j + 2;
          continue;
        }
      }
      i += 2;
      continue;
    }
    if (c === 36 /* $ */) {
      if (s.charCodeAt(i + 1) === 36) {
        const j = next('$$', i + 2);
        if (j >= 0) {
          out.push({ start: i, end: j + 2, content: s.slice(i + 2, j) });
          i = j + 2;
          continue;
        }
        i += 2;
        continue;
      }
      const j = next('$', i + 1);
      if (j >= 0 && j - i <= 2000) {
        const content = s.slice(i + 1, j);
        if (!content.includes('\n\n')) {
          out.push({ start: i, end: j + 1, content });
          i = j + 1;
          continue;
        }
      }
    }
    i++;
  }
  return out;
}

/** The math span that opens `t` (after leading spaces), when `t` starts with one. */
function leadingMathSpan(t: string): MathSpan | null {
  const u = t.trimStart();
  if (!/^(?:\$|\\\(|\\\[)/.test(u)) return null;
  const first = mathSpans(u.slice(0, 4000))[0];
  return first && first.start === 0 ? first : null;
}

/** `t` with the content of every math span replaced by `#` (same length), to search prose outside math. */
function maskMath(t: string): string {
  const spans = mathSpans(t);
  if (spans.length === 0) return t;
  let out = '';
  let at = 0;
  for (const sp of spans) {
    out += t.slice(at, sp.start) + '#'.repeat(sp.end - sp.start);
    at = sp.end;
  }
  return out + t.slice(at);
}

/** Split bounded text into sentences: at `.`/`!`/`?` followed by whitespace or the end, and at newlines, outside math. */
function sentences(t: string): string[] {
  const masked = maskMath(t);
  const out: string[] = [];
  let from = 0;
  const re = /[.!?](?=\s|$)|\n/g;
  for (let m = re.exec(masked); m; m = re.exec(masked)) {
    out.push(t.slice(from, m.index));
    from = m.index + 1;
  }
  out.push(t.slice(from));
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

/**
 * True when `t` reads as prose: two consecutive words (two or more letters each) outside LaTeX commands and
 * `\text{}`, or a lead-in word before a number (`Hence −5`, `Total: 7`, `Total: \$5`) or before a math span at
 * the start (`Thus \[…\]`).
 */
function isProse(t: string): boolean {
  const stripped = t
    .slice(0, 2000)
    .replace(/\\(?:text|mbox|textbf|mathrm|textrm)\s*\{[^{}]*\}/g, ' ')
    .replace(/\\(?:begin|end)\s*\{[a-zA-Z*]*\}/g, ' ')
    .replace(/\\[a-zA-Z]+/g, ' ');
  if (/(?<![a-zA-Z])[a-zA-Z]{2,}[,.;:]?\s+[a-zA-Z]{2,}/.test(stripped)) return true;
  // a sentence's verb between its words: `So M is …`, `x is 5`
  if (/[a-zA-Z]\s+(?:is|are|was|were|equals)\s/.test(stripped)) return true;
  if (/(?:^|\s)[a-zA-Z]{3,}\s?[,.;:]?\s+(?:\\?\$)?[-+\u2212\ufe63\uff0d]?\s?\d/.test(stripped)) return true;
  // a lead-in word before a math span: `Thus \[ … \]`, `Hence $x = 5$`
  return /^\s*[a-zA-Z]{3,}[,.;:]?\s+(?:\$|\\[([])/.test(t.slice(0, 200));
}

// a plain-text mixed number: whole part, spaces (never a newline), numerator/denominator
const MIXED_RE = /^([-+\u2212]?)(\d{1,15})[ \t]+(?:and[ \t]+)?(\d{1,15})[ \t]*\/[ \t]*(\d{1,15})(?![\d/]|[.,]\d)/;

// vulgar fraction characters and their values: `1½` is one and a half, `⅔` two thirds
const VULGAR: Record<string, string> = {
  '\u00bc': '1/4', '\u00bd': '1/2', '\u00be': '3/4', '\u2150': '1/7', '\u2151': '1/9', '\u2152': '1/10', '\u2153': '1/3',
  '\u2154': '2/3', '\u2155': '1/5', '\u2156': '2/5', '\u2157': '3/5', '\u2158': '4/5', '\u2159': '1/6', '\u215a': '5/6',
  '\u215b': '1/8', '\u215c': '3/8', '\u215d': '5/8', '\u215e': '7/8',
};
const VULGAR_RE = /(\d?)[ \t]?([\u00bc-\u00be\u2150-\u215e])|\u2044/g;

/**
 * Write vulgar fractions and the fraction slash in plain text (`2⅔` → `2 2/3`, `½` → `1/2`, `3⁄4` → `3/4`), so a
 * mixed number written with them is read whole. Linear; `s` is returned unchanged when it holds none.
 */
function plainFractions(s: string): string {
  if (!/[\u00bc-\u00be\u2150-\u215e\u2044]/.test(s)) return s;
  return s.replace(VULGAR_RE, (all, d: string | undefined, f: string | undefined) => (f ? `${d ? d + ' ' : ''}${VULGAR[f]}` : '/'));
}

/**
 * A plain-text mixed number as the whole text (`2 2/3`, `-4 4/9`, `11 5/6`, `2 and 2/3`), written the MATH way
 * (`2\frac{2}{3}`), which normalisation reads as one value (8/3); null when `t` is not one. `11/10 4/9`,
 * `11.0 4/9` and numbers on separate lines are not mixed numbers.
 */
export function mixedNumber(t: string): string | null {
  const u = plainFractions(t.trim()).replace(/[.,;]$/, '');
  const m = MIXED_RE.exec(u);
  if (!m || m[0].length !== u.length) return null;
  return `${m[1] === '-' || m[1] === '\u2212' ? '-' : ''}${m[2]}\\frac{${m[3]}}{${m[4]}}`;
}

const UNITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const NUMBER_WORD_RE = new RegExp(
  `^(?:(negative|minus)\\s+)?(?:((?:one|a)\\s+hundred)|(${TENS.slice(2).join('|')})(?:[-\\s](${UNITS.slice(1, 10).join('|')}))?|(${UNITS.join('|')}))(?![a-zA-Z-])`,
  'i',
);
// words that make a number word part of something else (`one of`, `nine hundred`, `two more than`)
const NOT_AFTER_NUMBER_WORD = /^\s+(?:of|or|and|to|than|more|less|another|other|half|halves|third|thirds|quarter|quarters|hundred|thousand|million|billion|point|times|plus|minus)\b/i;

/**
 * A small number written as a word at the start of `t` (zero to ninety-nine, one hundred, with an optional
 * `negative`/`minus`): `nine` → `9`, `Twenty-one apples` → `21`. Not when the word is part of something longer
 * (`one of them`, `nine hundred`, `two more than x`).
 * @returns the number in digits and the length of the words read, or null.
 */
export function leadingNumberWord(t: string): { value: string; length: number } | null {
  const m = NUMBER_WORD_RE.exec(t);
  if (!m) return null;
  if (NOT_AFTER_NUMBER_WORD.test(t.slice(m[0].length))) return null;
  let v: number;
  if (m[2]) v = 100;
  else if (m[3]) v = TENS.indexOf(m[3].toLowerCase()) * 10 + (m[4] ? UNITS.indexOf(m[4].toLowerCase()) : 0);
  else v = UNITS.indexOf(m[5]!.toLowerCase());
  return { value: `${m[1] ? '-' : ''}${v}`, length: m[0].length };
}

const NUMBER_RE =
  /[-\u2212\uFE63\uFF0D]?\d{1,15}[ \t]+\d{1,15}[ \t]*\/[ \t]*\d{1,15}(?![\d/]|[.,]\d)|[-\u2212\uFE63\uFF0D]?(?:\d{1,3}(?:,\d{3})+(?![\d])|\d+)(?:\.\d+)?(?:\/\d+(?:\.\d+)?)?|[-\u2212\uFE63\uFF0D]?\.\d+/g;

// a time of day `h:mm` / `h:mm:ss` with a.m./p.m. (`4:30 p.m.`, `4:30pm`, `10:15:30 AM`), or a ratio / 24-hour time
// written with colons (`3:2`, `1:2:3`, `16:30`, `1.5:1`): at most four terms, as compare.ts reads ratios
const CLOCK_BODY =
  String.raw`\d{1,2}:\d{2}(?::\d{2})?[ \t]?[aApP](?:\.[ \t]?)?[mM]\.?(?![a-zA-Z])` +
  String.raw`|\d{1,15}(?:\.\d{1,15})?(?::\d{1,15}(?:\.\d{1,15})?){1,3}(?![\w:/]|\.\d)`;
// not a part of something longer: an address or a path (`1.2.3.4:8080`, `x.org:8080`), an ISO timestamp
// (`T10:30:00Z`), a thousands group (`1,000:1`), a LaTeX command
const CLOCK_RE = new RegExp(String.raw`(?<![\w.,:/\\])(?:${CLOCK_BODY})`, 'g');
const LEADING_CLOCK_RE = new RegExp(String.raw`^(?:${CLOCK_BODY})`);

/**
 * The time or ratio token (`4:30 p.m.`, `3:2`, `1:2:3`) that holds the number at `[index, end)` of `t`, or null.
 * The search starts 160 characters before the number (a token is never longer) and stops at the first token found
 * past it: one forward pass at most.
 */
function clockAround(t: string, index: number, end: number): { text: string; index: number; end: number } | null {
  if (t.charCodeAt(index - 1) !== 58 /* : */ && t.charCodeAt(end) !== 58) {
    // every token ends with a term written right after a colon (its minutes, seconds or last ratio term)
    return null;
  }
  CLOCK_RE.lastIndex = Math.max(0, index - 160);
  for (let m = CLOCK_RE.exec(t); m && m.index <= index; m = CLOCK_RE.exec(t)) {
    const stop = m.index + m[0].length;
    if (stop >= end) return { text: m[0].trim(), index: m.index, end: stop };
  }
  return null;
}

/**
 * The last number of `t` with its position (see {@link lastNumber}); a number that is a term of a time or a ratio
 * written with colons gives the whole token (`at 4:30 p.m.` → `4:30 p.m.`, `3:2` → `3:2`, never `30` or `2`).
 */
function lastNumberAt(t: string): { text: string; index: number; end: number } | null {
  let last: RegExpExecArray | null = null;
  NUMBER_RE.lastIndex = 0;
  for (let m = NUMBER_RE.exec(t); m; m = NUMBER_RE.exec(t)) last = m;
  if (!last) return null;
  const clock = clockAround(t, last.index, last.index + last[0].length);
  if (clock) return clock;
  return { text: last[0].replace(/^[\u2212\uFE63\uFF0D]/, '-'), index: last.index, end: last.index + last[0].length };
}

/**
 * The last number written in the text: an integer, a decimal, a thousands-separated integer (`8,000`: a comma
 * followed by exactly three digits), a plain fraction `2/3` or a plain mixed number `2 2/3` (returned as written;
 * {@link mixedNumber} reads it), with its sign (a typographic minus `−5` is returned as `-5`). Only the last
 * 50,000 characters are read. Returns null when the text holds no digit.
 */
export function lastNumber(s: string): string | null {
  const tail = s.length > NUMBER_TAIL_CHARS ? s.slice(s.length - NUMBER_TAIL_CHARS) : s;
  return lastNumberAt(tail)?.text ?? null;
}

/**
 * The last right-hand side of a chain of equalities (`m+n = 256+37 = 293` → `293`, `x = 5+5+1 = 7 = 11` → `11`):
 * only with two or more top-level `=` and no other relation; anything else is returned unchanged.
 */
function chainTail(t: string): string {
  if (/<|>|\\(?:le|ge|leq|geq|neq|ne|lt|gt|approx|sim|in)(?![a-zA-Z])|!=/.test(t)) return t;
  const cuts: number[] = [];
  let depth = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (c === '=' && depth === 0) cuts.push(i);
  }
  if (cuts.length < 2) return t;
  const rhs = t.slice(cuts[cuts.length - 1]! + 1).trim();
  return rhs === '' ? t : rhs;
}

// ---------------------------------------------------------------------------------------------------------------
// Answer phrases and answer lines

/** Cut `p` at a closing math delimiter it never opened (`009\]` from `\[Answer: 009\]`), or at an odd `$`. */
function cutAtStrayCloser(p: string): string {
  const close = /\\[)\]]/.exec(p);
  if (close && !/\\[([]/.test(p.slice(0, close.index))) p = p.slice(0, close.index);
  if (!p.startsWith('$')) {
    const d = /(?<!\\)\$/.exec(p);
    if (d && d.index > 0 && ((p.match(/(?<!\\)\$/g) ?? []).length % 2 === 1)) p = p.slice(0, d.index);
  }
  return p;
}

/** The `\begin{env}…\end{env}` group that opens `t`, or null. */
function leadingEnvironment(t: string): string | null {
  const m = /^\\begin\{([a-zA-Z*]+)\}/.exec(t);
  if (!m) return null;
  const close = t.indexOf(`\\end{${m[1]}}`);
  return close < 0 ? null : t.slice(0, close + m[1]!.length + 6);
}

const COPULA_RE = /(?:^|\s)(?:is|are|was|were|equals|be|becomes|gives|=|\u2248)(?=\s|\$|\\\(|$)/g;

/**
 * A value read from a phrase, and whether it was stated directly (a number, a math span, a box, a word right
 * after the connector, or the value after a sentence's "is"), rather than guessed from a sentence (its last number
 * or math span). Only a direct value may override an earlier box.
 */
interface Reading {
  text: string;
  direct: boolean;
}

/**
 * The value a prose sentence states: what follows its last "is"/"are"/"equals"/"=" outside math when that
 * reads as an answer (`The volume of $ABCDEFGH$ is 120` → `120`, direct), else its last math span (`She ran
 * $9 \cdot 60 = 540$ meters` → `540`), else its last number (`Jane started growing Sphere 3 hours ago` → `3`).
 */
function valueOfSentence(sentence: string, depth: number): Reading | null {
  const masked = maskMath(sentence);
  let cut = -1;
  COPULA_RE.lastIndex = 0;
  for (let m = COPULA_RE.exec(masked); m; m = COPULA_RE.exec(masked)) cut = m.index + m[0].length;
  if (cut >= 0) {
    const v = readPhrase(sentence.slice(cut), depth + 1);
    if (v.text && looksLikeAnswer(v.text)) return v;
  }
  const spans = mathSpans(sentence).filter((sp) => sp.content.trim() !== '' && !isProse(sp.content));
  if (spans.length) {
    const last = spans[spans.length - 1]!;
    // a number written after the last span is later than it
    const after = lastNumberAt(sentence.slice(last.end));
    if (!after) return { text: chainTail(last.content.trim()), direct: false };
  }
  const n = lastNumberAt(sentence);
  return n ? { text: n.text, direct: false } : null;
}

/**
 * Reduce a phrase that follows "the answer is" to the answer itself: the content of a `$…$`/`\(…\)`/`\[…\]` math
 * span when the phrase opens with one, a box, a matrix environment, a leading number (so `72, in total.` gives
 * `72`; a mixed number `2 2/3` stays whole), a choice `(C)`, a small number word (`nine` → `9`), else the phrase
 * up to its sentence end, and when that sentence is prose, the value it states (see {@link valueOfSentence});
 * a chain `a = b = 293` gives its last right-hand side. A closing delimiter the phrase never opened ends it; a
 * negation (`not 8`) gives `''` (no answer).
 */
export function trimAnswerPhrase(phrase: string, depth = 0): string {
  return readPhrase(phrase, depth).text;
}

/** {@link trimAnswerPhrase} with whether the value was stated directly ({@link Reading}). */
function readPhrase(phrase: string, depth: number): Reading {
  const direct = (text: string): Reading => ({ text, direct: true });
  let p = phrase.trim().replace(/^[:\s]+/, '').replace(/^\*\*|\*\*$/g, '').trim();
  p = cutAtStrayCloser(p).trim();
  // "the answer is not 8": a negation states no answer
  if (/^(?:not|never|no longer)\b/i.test(p)) return direct('');
  const math = leadingMathSpan(p);
  if (math && math.content.trim()) return direct(math.content.trim());
  const env = leadingEnvironment(p);
  if (env) return direct(env);
  const box = lastBoxed(p.slice(0, 4000));
  if (box !== null) return direct(box);
  const mixed = MIXED_RE.exec(p.replace(/^\\?\$\s?/, ''));
  if (mixed) return direct(mixed[0]);
  // a time or a ratio written with colons is one value (`4:30 p.m.`, `3:2`, `1:2:3`), never its first term,
  // unless an expression goes on after it (`3:2 = 1.5`)
  const clock = LEADING_CLOCK_RE.exec(p);
  if (clock && !/^\s*(?:[\^_\\{[\u00d7\u00b7\u22c5\u00f7*]|[+\-\u2212/=]\s*(?:\d|\\|[a-zA-Z](?![a-zA-Z])))/.test(p.slice(clock[0].length))) return direct(clock[0]);
  const num = /^[-\u2212]?\s?(?:\\?\$)?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*\/\s*\d+)?%?/.exec(p);
  // the number alone, unless the expression goes on: letters written against it (`2x`, `3ab`), a lone variable
  // (`5 x`), a command (`5\sqrt{2}`), an exponent, a product (`1.5 × 10^3`, `3 \cdot 10^5`) or a sum with a term
  // after it (`2 + 3i`, `5 - 2\sqrt{3}`); a word after a space (`72 apples`) or a dash before words
  // (`72 - the total`) ends it, and so does a parenthetical remark (`18 (apples)`)
  if (num && /^\s*\((?![^)]*\\)(?=[^)]*[a-zA-Z]{2,})[^)]{0,80}\)/.test(p.slice(num[0].length))) return direct(num[0]);
  if (num && !/^(?:[a-zA-Z]|\s+[a-zA-Z](?![a-zA-Z])|\s*[\^_\\({[\u00d7\u00b7\u22c5\u00f7*]|\s*[+\-\u2212/=]\s*(?:\d|\\|[a-zA-Z](?![a-zA-Z])))/.test(p.slice(num[0].length))) return direct(num[0]);
  const choice = /^\(?([A-J])\)?(?![A-Za-z'\u2019])/.exec(p);
  if (choice && !(/^[AI]\s+[a-z]/.test(p) && !LETTER_STAYS.test(p.slice(1)))) return direct(choice[0]);
  const word = leadingNumberWord(p);
  if (word) return direct(word.value);
  // up to the end of the sentence: a period followed by a space/end, or a newline (outside math)
  const sentence = (sentences(p.slice(0, 2000))[0] ?? '').replace(/\*\*/g, '').trim();
  if (isProse(sentence)) {
    const v = depth < 3 ? valueOfSentence(sentence, depth) : null;
    return v ?? { text: sentence, direct: false };
  }
  return direct(chainTail(sentence));
}

/**
 * True when `v` reads as an answer rather than a comment (`correct`, `the expression above`): not prose, and it
 * holds a digit, a LaTeX command or is very short (`C`, `x`). Used before a later statement may override a box.
 */
function looksLikeAnswer(v: string): boolean {
  const t = v.trim();
  if (t === '' || t.length > 2000 || isProse(t)) return false;
  return /\d/.test(t) || /\\[a-zA-Z]/.test(t) || t.length <= 3;
}

/**
 * Reduce an answer line (the text after `A:`, `Answer:`, `Final Answer:`, `Total:`, `####`) to its value:
 * a box in it; else an inner "the answer is X" (`A: He runs 9*60 = 540 meters. The answer is 540.`); else
 * {@link trimAnswerPhrase}; when the line is prose, the value stated by its last sentence that holds a number
 * (`She has 18 apples left.` → 18; `He sprints 3*3 = 9 times. So he runs 9*60 = 540 meters.` → 540).
 */
function reduceAnswerLine(line: string, depth = 0): Reading {
  const t = line.trim().replace(/^[:\s*]+/, '').replace(/\*\*$/, '').trim();
  if (t === '') return { text: '', direct: true };
  const boxes = scanBoxes(t);
  const box = boxedAnswer(t, boxes);
  if (box) return { text: box.text, direct: true };
  if (depth < 2) {
    const inner = phraseCandidates(t);
    for (let k = inner.length - 1; k >= 0; k--) {
      if (inner[k]!.at === 0) continue;
      const v = readPhrase(t.slice(inner[k]!.valueAt, inner[k]!.valueAt + 2000).split('\n')[0]!, depth + 1);
      if (looksLikeAnswer(v.text)) return v;
    }
  }
  const leading = leadingMathSpan(t);
  const v = readPhrase(t, depth + 1);
  if (leading || !isProse(t) || !/^[A-Za-z]/.test(t)) return v;
  const withNumber = sentences(t.slice(0, 4000)).filter((x) => /\d/.test(maskMath(x)) || mathSpans(x).length > 0);
  const last = withNumber[withNumber.length - 1];
  if (last === undefined) return v;
  return valueOfSentence(last, depth) ?? v;
}

const PHRASE_RE = /(?:final answer|the answer|answer)(?:\s+(?:is|should be|would be|will be|=))?\s*(?::|\uff1a|is:?)?[ \t]*/gi;

/** An "answer" statement found in a text: where it starts and where its value starts. */
interface PhraseCandidate {
  at: number;
  valueAt: number;
  /** At the start of a line and ended by a colon (`Answer: …`, `**Final Answer:** …`): an answer line. */
  label: boolean;
}

/** True when only markdown (`**`, `#`, `>`, `-`, spaces; at most 12 characters) stands between a line start and `at`. */
function startsLine(t: string, at: number): boolean {
  for (let j = at - 1; j >= 0 && j >= at - 12; j--) {
    const c = t[j]!;
    if (c === '\n') return true;
    if (!/[ \t*#>_-]/.test(c)) return false;
  }
  return at <= 12 && /^[ \t*#>_-]*$/.test(t.slice(0, at));
}

/**
 * The "final answer is" / "the answer is" / "Answer:" statements of a bounded text, in order (at most the last
 * 12). A statement needs a connector ("is", ":", "=") so that "answer choices" does not count, or, at the start of
 * a line, a math span right after it (`Answer \[ 9 \]`).
 */
function phraseCandidates(t: string): PhraseCandidate[] {
  const out: PhraseCandidate[] = [];
  PHRASE_RE.lastIndex = 0;
  for (let m = PHRASE_RE.exec(t); m; m = PHRASE_RE.exec(t)) {
    if (m[0].length === 0) {
      PHRASE_RE.lastIndex++;
      continue;
    }
    const end = m.index + m[0].length;
    const atLineStart = startsLine(t, m.index);
    const connector = /(?:is|be|=|:|\uff1a)\s*$/i.test(m[0]);
    if (!connector && !(atLineStart && /^(?:\$|\\\(|\\\[)/.test(t.slice(end, end + 2)))) continue;
    // markdown around a label: `**Answer:** 5`, `**Final Answer**: 5`
    let valueAt = end;
    const md = /^\**[ \t]*(?:[:\uff1a][ \t]*)?/.exec(t.slice(end, end + 8));
    if (md) valueAt += md[0].length;
    out.push({ at: m.index, valueAt, label: atLineStart && /[:\uff1a]\s*$/.test(t.slice(m.index, valueAt)) });
    if (out.length > 12) out.shift();
  }
  return out;
}

/**
 * The text a statement's value is read from: the rest of its line; when the line is empty after the connector
 * (`The answer is:` then the value on the next line), the next non-empty line; a display `\[…\]` or `$$…$$`
 * that starts there is read whole, across lines.
 */
function statementValueText(s: string, at: number): string {
  let i = at;
  const limit = Math.min(s.length, at + 2000);
  const firstNl = s.indexOf('\n', i);
  if (firstNl >= 0 && firstNl < limit && s.slice(i, firstNl).trim() === '') {
    i = firstNl + 1;
    while (i < limit && /\s/.test(s[i]!)) i++;
  }
  const rest = s.slice(i, Math.min(s.length, i + 2000));
  const display = /^(?:\\\[|\$\$)/.exec(rest.trimStart());
  if (display) {
    const u = rest.trimStart();
    const close = u.indexOf(display[0] === '\\[' ? '\\]' : '$$', 2);
    if (close > 0) return u.slice(0, close + 2);
  }
  return rest.split('\n')[0]!;
}

/**
 * The answer after the last "final answer is X" / "the answer is X" / "Final answer: X" / "Answer: X" phrase,
 * reduced by {@link trimAnswerPhrase} (an answer line by the answer-line rules); null when there is none or
 * the phrase is followed by nothing usable. Only the last 20,000 characters are read.
 */
export function lastAnswerPhrase(s: string): string | null {
  const st = lastPhraseStatement(s, 0, false);
  return st ? st.text : null;
}

/** A final statement, where it starts, and whether its value was stated directly ({@link Reading}). */
interface Statement extends Extraction {
  at: number;
  direct: boolean;
}

function lastPhraseStatement(s: string, after: number, mustLookLikeAnswer: boolean): Statement | null {
  const offset = Math.max(after, s.length - STATEMENT_TAIL_CHARS, 0);
  const tail = offset ? s.slice(offset) : s;
  const cands = phraseCandidates(tail);
  for (let k = cands.length - 1; k >= 0 && k >= cands.length - 6; k--) {
    const c = cands[k]!;
    if (c.at + offset < after) break;
    const raw = statementValueText(tail, c.valueAt);
    const r = c.label ? reduceAnswerLine(raw) : readPhrase(raw, 0);
    const v = r.text.trim();
    if (v === '') {
      if (mustLookLikeAnswer) continue;
      return null;
    }
    if (mustLookLikeAnswer && !(r.direct && looksLikeAnswer(v))) continue;
    return { text: v, method: 'answer_phrase', at: c.at + offset, direct: r.direct };
  }
  return null;
}

/** The answer after the last GSM8K marker `#### N`, or a final line `A: N` / `Answer: N` (as written); else null. */
export function gsm8kMarker(s: string): string | null {
  const h = s.lastIndexOf('####');
  if (h >= 0) {
    const v = s.slice(h + 4, h + 4 + 2000).trim().split('\n')[0]!.trim();
    if (v) return v;
  }
  const line = lastLine(s);
  const m = /^(?:A|Answer)\s*:\s*(.+)$/i.exec(line.text.trim());
  return m ? m[1]!.trim() : null;
}

/** The last non-empty line of `s` (at most its first 4,000 characters) and where it starts. Linear. */
function lastLine(s: string): { text: string; at: number } {
  let e = s.length - 1;
  while (e >= 0 && /\s/.test(s[e]!)) e--;
  const at = s.lastIndexOf('\n', e) + 1;
  return { text: s.slice(at, Math.min(e + 1, at + 4000)), at };
}

const LINE_LABEL_RE = /^[\s*#>_-]*(?:A|Ans|Answer|Final Answer|Total|Result)\s*(?:\*\*)?\s*[:\uff1a]\s*(?:\*\*)?/i;

/**
 * A GSM8K-style marker: the value after the last `#### `, or a last line labelled `A:`, `Answer:`, `Final Answer:`,
 * `Total:` or `Result:`, reduced by the answer-line rules.
 */
function markerStatement(s: string, after: number): Statement | null {
  const h = s.lastIndexOf('####');
  if (h >= 0 && h >= after) {
    const v = reduceAnswerLine(s.slice(h + 4, h + 4 + 2000).split('\n')[0]!);
    if (v.text) return { text: v.text, method: 'gsm8k_marker', at: h, direct: v.direct };
  }
  const line = lastLine(s);
  if (line.at < after) return null;
  const m = LINE_LABEL_RE.exec(line.text);
  if (!m) return null;
  const v = reduceAnswerLine(line.text.slice(m[0].length));
  return v.text ? { text: v.text, method: 'gsm8k_marker', at: line.at, direct: v.direct } : null;
}

// ---------------------------------------------------------------------------------------------------------------
// Other sources

/**
 * The printed result of the last executed program in a tool-integrated response (ToRA, Qwen2.5-Math TIR):
 * the content of the last fenced `` ```output `` block, when it is one short line (≤ 200 characters).
 * In that format the program's output *is* the computed answer and the closing prose merely restates it
 * ("5 cars drove through in the first 15 minutes"), so the last number of the prose is the wrong answer.
 * Same rule as ToRA's `extract_answer` (microsoft/ToRA `src/utils/parser.py`, `extract_program_output`
 * fallback), which is used only when there is no box and no "the answer is" phrase.
 * @returns the trimmed output line, or null when there is no such block or it is empty, multi-line or long.
 */
export function lastProgramOutput(s: string): string | null {
  const tail = s.length > NUMBER_TAIL_CHARS ? s.slice(s.length - NUMBER_TAIL_CHARS) : s;
  const at = tail.lastIndexOf('```output');
  if (at < 0) return null;
  const rest = tail.slice(at + 9, at + 9 + 2000);
  const end = rest.indexOf('```');
  const out = (end < 0 ? rest : rest.slice(0, end)).trim();
  if (out === '' || out.includes('\n') || out.length > 200) return null;
  return out;
}

/**
 * A response that is itself just an answer (one short line, no prose): `\frac{1}{2}`, `x \in [-2,7]`,
 * `\text{Navin}`, `$y = 2x + 3$`. Prose means two consecutive words outside LaTeX commands and `\text{}`, or a
 * word of three or more letters followed by a number (`Hence −5`, `Thus 42`, `Total: \$5`).
 * @returns the trimmed response, or null when it is prose, multi-line or longer than 300 characters.
 */
export function bareAnswer(s: string): string | null {
  const t = s.trim();
  if (t.length === 0 || t.length > 300 || t.includes('\n')) return null;
  return isProse(t) ? null : t;
}

const ENV_END_RE = /\\end\{(pmatrix|bmatrix|Bmatrix|vmatrix|Vmatrix|matrix|smallmatrix|array)\}/g;

/**
 * The answer when nothing states one: the last number, unless it lies inside a math span (then the span's
 * value, so `$\frac{2}{3}$` is not 3, `$2^{10}$` is not 10) or a matrix environment (then the matrix, never its
 * last entry). A span holding a chain (`$x = 5+5+1 = 11$`) gives its last right-hand side.
 */
function lastMathOrNumber(s: string): Extraction | null {
  const tail = s.length > NUMBER_TAIL_CHARS ? s.slice(s.length - NUMBER_TAIL_CHARS) : s;
  const num = lastNumberAt(tail);
  if (!num) return null;
  // a matrix environment around the last number
  let env: RegExpExecArray | null = null;
  ENV_END_RE.lastIndex = Math.max(0, num.end - 1);
  env = ENV_END_RE.exec(tail);
  if (env) {
    const begin = tail.lastIndexOf(`\\begin{${env[1]}}`, num.index);
    const between = tail.slice(num.end, env.index);
    const inside = begin >= 0 ? tail.slice(begin + 7, num.index) : '';
    if (begin >= 0 && !/\\(?:end|begin)\{/.test(between) && !/\\(?:end|begin)\{/.test(inside)) {
      let text = tail.slice(begin, env.index + env[0].length);
      const before = tail.slice(Math.max(0, begin - 8), begin);
      if (/\\left\s*[[(]\s*$/.test(before) || /\\left\s*\\\{\s*$/.test(before)) {
        const close = /^\s*\\right\s*(?:[\])]|\\\})/.exec(tail.slice(env.index + env[0].length, env.index + env[0].length + 12));
        if (close) text = before.slice(before.lastIndexOf('\\left')) + text + close[0];
      }
      return { text, method: 'last_math' };
    }
  }
  const spans = mathSpans(tail);
  for (let k = spans.length - 1; k >= 0; k--) {
    const sp = spans[k]!;
    if (sp.end <= num.index) break;
    if (sp.start <= num.index && num.end <= sp.end) {
      const content = sp.content.trim().replace(/[.,;]$/, '').trim();
      if (content === '' || isProse(content)) break;
      const v = chainTail(content);
      if (v === num.text) break;
      return { text: v, method: 'last_math' };
    }
  }
  return { text: num.text, method: 'last_number' };
}

// ---------------------------------------------------------------------------------------------------------------
// The extraction chain

/**
 * The last touches on an extracted answer: an `Answer:` label inside a box is dropped (`\boxed{Answer: 009}`),
 * a plain-text mixed number becomes one value ({@link mixedNumber}), and a number word that is the whole answer
 * (`nine`, `\text{nine}`) becomes digits.
 */
function finish(ex: Extraction): Extraction | null {
  let t = ex.text.trim().replace(/^(?:\\text\{\s*)?(?:final\s+)?answer\s*[:=]\s*(?:\}\s*)?/i, '').trim();
  if (t === '') return null;
  const mixed = mixedNumber(t);
  if (mixed) t = mixed;
  else {
    const plain = t.replace(/^\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}$/, '$1').trim().replace(/[.!]$/, '');
    const word = leadingNumberWord(plain);
    if (word && word.length === plain.length) t = word.value;
  }
  return { text: t, method: ex.method };
}

/**
 * Extract the final answer, by priority:
 * 1. nothing, when the response was cut off inside an unclosed think block or inside a box ({@link endsInsideBox});
 * 2. the last balanced `\boxed{}`/`\fbox{}` (a list given one box per element is joined, {@link boxedAnswer}) —
 *    unless an answer statement written after it reads as an answer, which then wins (Minerva's
 *    `Final Answer: The final answer is $X$. I hope it is correct.` after intermediate boxes);
 * 3. GLM box tokens;
 * 4. GSM8K markers (`#### N`, a final `A: …`/`Answer: …`/`Total: …` line, reduced to its value);
 * 5. "final answer is X" / "the answer is X" / "**Final answer: X**";
 * 6. the output of the last executed program in a tool-integrated response ({@link lastProgramOutput});
 * 7. a bare one-line answer ({@link bareAnswer});
 * 8. the last number, or the math span / matrix it belongs to.
 * Linear in the response (see the module comment); never throws.
 * @param response the full response (cut to its tail when over 1 MB)
 * @returns the raw answer text with its method, or null when nothing could be extracted (see {@link noAnswerReason}).
 */
export function extractAnswer(response: string): Extraction | null {
  const s = plainFractions(cutResponse(response));
  const boxes = scanBoxes(s);
  if (endsInsideBox(boxes) || endsInsideBoxTokens(s)) return null;
  const boxed = boxedAnswer(s, boxes);
  if (boxed) {
    const marker = markerStatement(s, boxed.end);
    const later = marker && marker.direct && looksLikeAnswer(marker.text) ? marker : lastPhraseStatement(s, boxed.end, true);
    if (later) return finish({ text: later.text, method: later.method });
    return finish({ text: boxed.text, method: 'boxed' });
  }
  const tok = lastBoxTokens(s);
  if (tok !== null && tok.trim()) {
    const inner = lastBoxed(tok);
    return finish({ text: (inner ?? tok).trim(), method: 'box_tokens' });
  }
  // GSM8K markers (`#### N`, a final `A: N` line) are explicit final-answer conventions
  const marker = markerStatement(s, 0);
  if (marker) return finish({ text: marker.text, method: marker.method });
  const phrase = lastPhraseStatement(s, 0, false);
  if (phrase) return finish({ text: phrase.text, method: phrase.method });
  const program = lastProgramOutput(s);
  if (program !== null) return finish({ text: program, method: 'program_output' });
  const bare = bareAnswer(s);
  if (bare !== null) {
    const line = LINE_LABEL_RE.exec(bare);
    if (!line) return finish({ text: bare, method: 'bare' });
  }
  const bold = lastBoldValue(s);
  if (bold !== null) return finish({ text: bold, method: 'bold' });
  const last = lastMathOrNumber(s);
  return last ? finish(last) : null;
}

// a whole line that is one bold value: `**8**`, `**$-3.5$**`, `**x = 8**`, `**\frac{7}{2}**`
const BOLD_LINE_RE = /^[ \t>#-]*\*\*\s*((?:[a-z]\s*=\s*)?\$?[-+\u2212]?\s*(?:\d[\d,]*(?:\.\d+)?|\.\d+|\\frac\{\d+\}\{\d+\})\$?)\s*\.?\s*\*\*[ \t.]*$/gm;

/**
 * The value of the last line that is nothing but one bold number (`**8**`, `**x = 8**`, `**$-3.5$**`), or null: a
 * model that states its answer in bold and then explains (`**8**\n\nThere were 7 candidates…`) answered 8, not the
 * last number of its explanation. Only a bare value counts (never a bold heading such as `**Step 3**`).
 */
function lastBoldValue(s: string): string | null {
  const tail = s.length > NUMBER_TAIL_CHARS ? s.slice(s.length - NUMBER_TAIL_CHARS) : s;
  let last: string | null = null;
  BOLD_LINE_RE.lastIndex = 0;
  for (let m = BOLD_LINE_RE.exec(tail); m; m = BOLD_LINE_RE.exec(tail)) last = m[1]!;
  return last === null ? null : last.replace(/\$/g, '').replace(/^[a-z]\s*=\s*/, '').trim();
}

/**
 * Why a response yields no answer, for the verdict's explanation: cut off while thinking, cut off inside its
 * final box, or simply no box, statement or number.
 */
export function noAnswerReason(response: string): string {
  if (endsInsideThinking(response)) return 'cut off inside an unclosed <think> block: no final answer was given';
  const s = cutResponse(response);
  if (endsInsideBox(scanBoxes(s)) || endsInsideBoxTokens(s)) return 'cut off inside its final \\boxed{: an earlier, abandoned answer is not credited';
  return 'no \\boxed{}, no answer phrase and no number';
}

/**
 * Extract the gold answer from a dataset target: a full GSM8K answer (`… #### 72`) or a final `A: 72` line
 * reduces to what follows the marker; a target holding a box gives its boxed answer; a plain-text mixed number
 * (`2 2/3`) is written the MATH way, as on the response side (a gold written as a word, `seven`, stays a word:
 * datasets write numbers in digits); anything else is returned trimmed, unchanged.
 */
export function extractGold(target: string): string {
  const t = target.trim();
  if (t.includes('####') || /\n\s*A:\s*\S[^\n]*$/.test(t)) {
    const m = gsm8kMarker(t);
    if (m !== null) return m;
  }
  if (t.includes('\\boxed') || t.includes('\\fbox')) {
    const box = boxedAnswer(t, scanBoxes(t));
    if (box) return box.text;
  }
  const mixed = mixedNumber(t);
  if (mixed) return mixed;
  return t;
}

// ---------------------------------------------------------------------------------------------------------------
// Multiple choice

const CHOICE_WRAP = /\\(?:text|textbf|mathrm|mbox|mathbf)\s*\{([^{}]*)\}/g;
// after a capital A or I, these words keep it an option letter (`A because …`, `I is correct`)
const LETTER_STAYS = /^\s+(?:because|since|as|or|and|is|was|which|for|due|with|are|seems|looks|fits|matches)\b/;

/**
 * The option letter that opens `t` (after markdown, `$` and `\text{}` wrappers): `C`, `(C)`, `C.`, `C)`,
 * `option C`, `choice (C)`, a lower-case `(b)`/`b.`/`b`. Not the pronoun or article of a sentence: `I think…`,
 * `I'm`, `A good choice…` give null (`A because…`, `I.` stay letters).
 */
function leadingLetter(t: string): string | null {
  const u = t.replace(CHOICE_WRAP, '$1').replace(/^[\s*$:#_>`]+/, '');
  const m = /^(?:(?:[Oo]ption|[Cc]hoice)\s+)?(\(|\[)?([A-Ja-j])(\)|\])?(?![A-Za-z0-9]|['\u2019][a-z])/.exec(u);
  if (!m) return null;
  const letter = m[2]!;
  const wrapped = !!(m[1] && m[3]);
  const rest = u.slice(m[0].length);
  if (letter >= 'a' && letter <= 'j' && !wrapped && !/^\s*(?:[.):]|$)/.test(rest)) return null;
  if (!wrapped && (letter === 'A' || letter === 'I') && /^\s+[a-z]/.test(rest) && !LETTER_STAYS.test(rest)) return null;
  return letter.toUpperCase();
}

/**
 * The option letter a short segment states when it does not open with one (`I think it is C` → C, `not A but
 * C` → C): a letter after "is"/"be"/"choose"/"go with", else the last standalone capital letter A–J that is not a
 * pronoun or article.
 */
function letterInSegment(seg: string): string | null {
  const u = seg.slice(0, 300).replace(CHOICE_WRAP, '$1').replace(/[*$]/g, '');
  const stated = /\b(?:is|be|choose|chose|pick|picked|select|selected|go with|option|choice)\s+\(?([A-J])\)?(?![A-Za-z0-9])/.exec(u);
  if (stated) return stated[1]!;
  let last: string | null = null;
  const re = /(?:^|[\s(\[,:])\(?([A-J])\)?(?=$|[\s.,;:!?)\]])/g;
  for (let m = re.exec(u); m; m = re.exec(u)) {
    const rest = u.slice(m.index + m[0].length);
    if ((m[1] === 'A' || m[1] === 'I') && /^\s+[a-z]/.test(rest) && !LETTER_STAYS.test(rest)) continue;
    last = m[1]!;
  }
  return last;
}

const CHOICE_PHRASE_RE = /(?:answer|correct (?:option|choice)|best (?:option|choice))(?:\s+(?:is|should be|would be|will be|must be))?[ \t]*(?::|\uff1a|=|is)?/gi;

/**
 * Extract a multiple-choice letter A–J (MMLU-Pro runs A–J). In order:
 * - nothing when the response was cut off inside a box or an unclosed think block;
 * - the last box (`\boxed{C}`, `\boxed{\text{(C)}}`), then GLM box tokens;
 * - the later of: the last answer statement (`The answer is (C)`, `Answer: C`, `**Answer:** $\textbf{(C)}$`;
 *   `Answer: I think it is C` is C, never option I) and a last line that is just a letter (`C`, `(C)`, `**C.**`);
 * - a line that opens with a letter, a period or parenthesis and the option text (`B. The mitochondria`), when it
 *   is the only such line (or all such lines give the same letter);
 * - the last parenthesised letter `(C)` in the text.
 * Linear: only the last 20,000 characters are searched, on bounded windows; never throws.
 * @returns the upper-case letter or null.
 */
export function extractChoice(response: string): string | null {
  const s = cutResponse(response);
  const boxes = scanBoxes(s);
  if (endsInsideBox(boxes) || endsInsideBoxTokens(s)) return null;
  for (let k = boxes.length - 1; k >= 0; k--) {
    const b = boxes[k]!;
    if (b.end < 0) continue;
    const u = s.slice(b.start, b.stop).replace(CHOICE_WRAP, '$1').replace(/[$*]/g, '').trim();
    const c = leadingLetter(u);
    if (c && (u.length <= 3 || /^\(?[A-Ja-j][).:]?(?:\s|$)/.test(u) || /^(?:option|choice)/i.test(u))) return c;
    break;
  }
  const tok = lastBoxTokens(s);
  if (tok !== null) {
    const c = leadingLetter(tok.trim());
    if (c && tok.trim().length <= 40) return c;
  }
  const tail = s.length > STATEMENT_TAIL_CHARS ? s.slice(s.length - STATEMENT_TAIL_CHARS) : s;
  // the last answer statement
  let stated: { letter: string; at: number } | null = null;
  CHOICE_PHRASE_RE.lastIndex = 0;
  for (let m = CHOICE_PHRASE_RE.exec(tail); m; m = CHOICE_PHRASE_RE.exec(tail)) {
    const connector = /(?:is|be|:|\uff1a|=)$/i.test(m[0]);
    let i = m.index + m[0].length;
    const lead = /^[\s*$:#_>`\uff1a]{0,20}/.exec(tail.slice(i, i + 20));
    i += lead ? lead[0].length : 0;
    const nl = tail.indexOf('\n', i);
    const seg = tail.slice(i, nl < 0 ? Math.min(tail.length, i + 300) : Math.min(nl, i + 300));
    let letter = leadingLetter(seg);
    if (!letter && connector) {
      const first = sentences(seg)[0] ?? '';
      letter = letterInSegment(first);
    }
    if (letter) stated = { letter, at: m.index };
  }
  // a last line that is only a letter
  const line = lastLine(tail);
  const bare = line.text.length <= 40 ? /^[\s*#>_`$]*(?:\\boxed\{)?(?:\\text(?:bf)?\{)?\(?([A-J])\)?[.:)]?\}?\}?[\s*_`$.]*$/.exec(line.text) : null;
  if (bare && (!stated || line.at >= stated.at)) return bare[1]!;
  if (stated) return stated.letter;
  // a line that opens with a letter and the option text
  const led = new Set<string>();
  const lineRe = /^[ \t]*[*#>]*[ \t]*\(?([A-J])[.)][ \t]*\**[ \t]+\S/gm;
  for (let m = lineRe.exec(tail); m && led.size < 3; m = lineRe.exec(tail)) led.add(m[1]!);
  if (led.size === 1) return [...led][0]!;
  let last: string | null = null;
  const paren = /\(([A-J])\)/g;
  for (let m = paren.exec(tail); m; m = paren.exec(tail)) last = m[1]!;
  return last;
}

// ---------------------------------------------------------------------------------------------------------------
// Confidence

/**
 * The confidence a response states for its answer, in the Humanity's Last Exam response format:
 * `Confidence: 85%`, `Confidence: 85`, `**Confidence:** 85 percent`, `confidence = 85/100`; a decimal written
 * `0.xx` (or `1.0`) without a percent sign is read as a fraction (`Confidence: 0.85` → 85, `Confidence: 1.0` → 100);
 * a number out of range (`Confidence: 1000`) is no confidence, never its first digits. The last such statement counts.
 * @param response the model's full response
 * @returns a number in [0, 100] (percent), or null when the response states none or the value is outside [0, 100]
 *   (missing confidence is recorded as missing; the HLE reference's default of 100 is an explicit option of the
 *   calibration metrics, see `src/stats/calibration.ts`).
 */
export function extractConfidence(response: string): number | null {
  const s = cutResponse(response);
  const tail = s.length > STATEMENT_TAIL_CHARS ? s.slice(s.length - STATEMENT_TAIL_CHARS) : s;
  const re = /confidence(?: score| level)?\s*(?:\*\*\s*)?[:=]\s*(?:\*\*\s*)?(\d+(?:\.\d+)?)(?!\d|\.\d) ?(\\?%|\/ ?100|percent)?/gi;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(tail); m; m = re.exec(tail)) last = m;
  if (!last) return null;
  let v = Number(last[1]);
  // a decimal fraction written with a point and no percent sign: `0.85` is 85%, and so `1.0` is 100% (not 1%)
  if (!last[2] && /^(?:0\.\d+|1\.0+)$/.test(last[1]!)) v *= 100;
  return Number.isFinite(v) && v >= 0 && v <= 100 ? v : null;
}
