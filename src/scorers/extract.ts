/**
 * Answer extraction: find the final answer inside a model's free-text response.
 *
 * Every function here is linear in the input (no backtracking-prone regexes on unbounded text) so that
 * hostile responses cannot stall the caller. Responses larger than {@link MAX_RESPONSE_CHARS} are cut to
 * their last part first (the final answer sits at the end).
 */

/** Responses longer than this (characters, ≈1 MB) are cut to their last part before extraction. */
export const MAX_RESPONSE_CHARS = 1_000_000;
/** How much of an over-long response is kept (its tail). */
export const KEPT_TAIL_CHARS = 200_000;

/** Where an extracted answer came from (recorded in the verdict's explanation). */
export type ExtractionMethod = 'boxed' | 'box_tokens' | 'answer_phrase' | 'gsm8k_marker' | 'program_output' | 'bare' | 'last_number';

/** An extracted answer: the raw text (not yet normalised) and how it was found. */
export interface Extraction {
  text: string;
  method: ExtractionMethod;
}

/**
 * Cut an over-long response to its tail, and drop a reasoning model's thinking: when the response contains a
 * closing `</think>` (DeepSeek-R1, Qwen3, QwQ style), only the text after the last one is the final answer, so a
 * tentative `\boxed{}` inside the thinking can never be graded as the answer.
 * @param response the raw response
 * @returns the final part of the response, at most {@link KEPT_TAIL_CHARS} characters when it exceeds
 * {@link MAX_RESPONSE_CHARS}.
 */
export function cutResponse(response: string): string {
  const close = response.lastIndexOf('</think>');
  const tail = close >= 0 ? response.slice(close + '</think>'.length) : response;
  return tail.length > MAX_RESPONSE_CHARS ? tail.slice(tail.length - KEPT_TAIL_CHARS) : tail;
}

/**
 * Read a balanced `{...}` group starting at `open` (which must index a `{`). Escaped braces `\{` `\}` are
 * content, not structure.
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

const BOX_COMMANDS = ['\\boxed', '\\fbox'];

/**
 * The content of the last complete `\boxed{...}`, `\boxed {...}` or `\fbox{...}` (balanced braces), or of a
 * brace-less `\boxed 5` (up to the next whitespace or `$`). An unclosed last box (truncated generation) is
 * skipped in favour of the previous complete one.
 * @returns the box content (untrimmed) or null when there is no complete box.
 */
export function lastBoxed(s: string): string | null {
  let best: { at: number; text: string } | null = null;
  for (const cmd of BOX_COMMANDS) {
    let end = s.length;
    while (end > 0) {
      const at = s.lastIndexOf(cmd, end - 1);
      if (at < 0 || (best && at < best.at)) break;
      end = at;
      let i = at + cmd.length;
      if (/[A-Za-z]/.test(s[i] ?? '')) continue; // e.g. \boxedx is another command
      while (s[i] === ' ') i++;
      if (s[i] === '{') {
        const close = matchBrace(s, i);
        if (close < 0) continue;
        best = { at, text: s.slice(i + 1, close - 1) };
        break;
      }
      const m = /^[^\s$]+/.exec(s.slice(i, i + 200));
      if (m && i > at + cmd.length) {
        best = { at, text: m[0] };
        break;
      }
    }
  }
  return best ? best.text : null;
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

/**
 * Reduce a phrase that follows "the answer is" to the answer itself: the content of a `$…$`/`\(…\)` math span
 * when the phrase opens with one, a leading number (so `72, in total.` gives `72`), a choice `(C)`, or else the
 * phrase up to its sentence end.
 */
export function trimAnswerPhrase(phrase: string): string {
  let p = phrase.trim().replace(/^[:\s]+/, '').replace(/^\*\*|\*\*$/g, '').trim();
  const math = /^(\$\$?|\\\(|\\\[)([\s\S]*?)(\$\$?|\\\)|\\\])/.exec(p);
  if (math && math[2]!.trim()) return math[2]!.trim();
  const box = lastBoxed(p);
  if (box !== null) return box;
  const num = /^[-−]?\s?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*\/\s*\d+)?%?/.exec(p);
  // the number alone, unless the expression goes on: letters written against it (`2x`, `3ab`), a lone variable
  // (`5 x`), a command (`5\sqrt{2}`), an exponent, a product (`1.5 × 10^3`, `3 \cdot 10^5`) or a sum with a term
  // after it (`2 + 3i`, `5 - 2\sqrt{3}`); a word after a space (`72 apples`) or a dash before words
  // (`72 - the total`) ends it
  if (num && !/^(?:[a-zA-Z]|\s+[a-zA-Z](?![a-zA-Z])|\s*[\^_\\({[\u00d7\u00b7\u22c5\u00f7*]|\s*[+\-\u2212/]\s*(?:\d|\\|[a-zA-Z](?![a-zA-Z])))/.test(p.slice(num[0].length))) return num[0];
  const choice = /^\(?([A-J])\)?(?![A-Za-z])/.exec(p);
  if (choice) return choice[0];
  // up to the end of the sentence: a period followed by a space/end, or a newline
  const stop = /\.(?:\s|$)|\n/.exec(p);
  if (stop) p = p.slice(0, stop.index);
  return p.replace(/\*\*/g, '').trim();
}

const PHRASE_RE = /(?:final answer|the answer|answer)(?:\s+(?:is|should be|would be|will be|=))?\s*(?::|is:?)?\s*/gi;

/**
 * The answer after the last "final answer is X" / "the answer is X" / "Final answer: X" / "Answer: X" phrase,
 * trimmed by {@link trimAnswerPhrase}; null when there is none or the phrase is followed by nothing usable.
 */
export function lastAnswerPhrase(s: string): string | null {
  // only look at the tail: the final statement is at the end, and this keeps the scan bounded
  const tail = s.length > 20_000 ? s.slice(s.length - 20_000) : s;
  let last: RegExpExecArray | null = null;
  PHRASE_RE.lastIndex = 0;
  for (let m = PHRASE_RE.exec(tail); m; m = PHRASE_RE.exec(tail)) {
    // require an explicit connector ("is", ":" or "=") so "answer choices" does not count
    if (/(is|be|=|:)\s*$/i.test(m[0])) last = m;
    if (m[0].length === 0) PHRASE_RE.lastIndex++;
  }
  if (!last) return null;
  const rest = tail.slice(last.index + last[0].length, last.index + last[0].length + 2000);
  const line = rest.split('\n')[0] ?? '';
  const t = trimAnswerPhrase(line);
  return t ? t : null;
}

/** The answer after the last GSM8K marker `#### N`, or a final line `A: N` / `Answer: N`; else null. */
export function gsm8kMarker(s: string): string | null {
  const h = s.lastIndexOf('####');
  if (h >= 0) {
    const v = s.slice(h + 4).trim().split('\n')[0]!.trim();
    if (v) return v;
  }
  const lines = s.trimEnd().split('\n');
  const lastLine = lines[lines.length - 1]!.trim();
  const m = /^(?:A|Answer)\s*:\s*(.+)$/i.exec(lastLine);
  return m ? m[1]!.trim() : null;
}

const NUMBER_RE = /[-\u2212\uFE63\uFF0D]?(?:\d{1,3}(?:,\d{3})+(?![\d])|\d+)(?:\.\d+)?(?:\/\d+(?:\.\d+)?)?|[-\u2212\uFE63\uFF0D]?\.\d+/g;

/**
 * The last number written in the text: an integer, a decimal, a thousands-separated integer (`8,000`: a comma
 * followed by exactly three digits) or a plain fraction `2/3`, with its sign (a typographic minus `−5` is
 * returned as `-5`). Returns null when the text holds no digit.
 */
export function lastNumber(s: string): string | null {
  const tail = s.length > 50_000 ? s.slice(s.length - 50_000) : s;
  let last: string | null = null;
  NUMBER_RE.lastIndex = 0;
  for (let m = NUMBER_RE.exec(tail); m; m = NUMBER_RE.exec(tail)) last = m[0];
  // a typographic minus (U+2212, small and full-width hyphen-minus) is a minus sign
  return last === null ? null : last.replace(/^[\u2212\uFE63\uFF0D]/, '-');
}

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
  const tail = s.length > 50_000 ? s.slice(s.length - 50_000) : s;
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
 * word of three or more letters followed by a number (`Hence −5`, `Thus 42`).
 * @returns the trimmed response, or null when it is prose, multi-line or longer than 300 characters.
 */
export function bareAnswer(s: string): string | null {
  const t = s.trim();
  if (t.length === 0 || t.length > 300 || t.includes('\n')) return null;
  const stripped = t.replace(/\\(?:text|mbox|textbf|mathrm)\s*\{[^{}]*\}/g, ' ').replace(/\\[a-zA-Z]+/g, ' ');
  if (/[a-zA-Z]{2,}[,.;:]?\s+[a-zA-Z]{2,}/.test(stripped)) return null;
  // a lead-in word before a number (`Hence −5`, `Thus 42`, `Total: 7`) is prose too: the number is the answer
  if (/(?:^|\s)[a-zA-Z]{3,}[,.;:]?\s+[-+\u2212\ufe63\uff0d$]?\s?\d/.test(stripped)) return null;
  return t;
}

/**
 * Extract the final answer, by priority: last balanced `\boxed{}`/`\fbox{}`; GLM box tokens; "final answer
 * is X" / "the answer is X" / "**Final answer: X**"; GSM8K `#### N` and `A: N`; the output of the last executed
 * program in a tool-integrated response ({@link lastProgramOutput}); a bare one-line answer ({@link bareAnswer});
 * else the last number.
 * @param response the full response (cut to its tail when over 1 MB)
 * @returns the raw answer text with its method, or null when nothing could be extracted.
 */
export function extractAnswer(response: string): Extraction | null {
  const s = cutResponse(response);
  const boxed = lastBoxed(s);
  if (boxed !== null && boxed.trim()) return { text: boxed.trim(), method: 'boxed' };
  const tok = lastBoxTokens(s);
  if (tok !== null && tok.trim()) {
    const inner = lastBoxed(tok);
    return { text: (inner ?? tok).trim(), method: 'box_tokens' };
  }
  // GSM8K markers (`#### N`, a final `A: N` line) are explicit final-answer conventions
  const marker = gsm8kMarker(s);
  if (marker !== null) return { text: marker, method: 'gsm8k_marker' };
  const phrase = lastAnswerPhrase(s);
  if (phrase !== null) return { text: phrase, method: 'answer_phrase' };
  const program = lastProgramOutput(s);
  if (program !== null) return { text: program, method: 'program_output' };
  const bare = bareAnswer(s);
  if (bare !== null) return { text: bare, method: 'bare' };
  const num = lastNumber(s);
  if (num !== null) return { text: num, method: 'last_number' };
  return null;
}

/**
 * Extract the gold answer from a dataset target: a full GSM8K answer (`… #### 72`) or a final `A: 72` line
 * reduces to what follows the marker; anything else is returned trimmed, unchanged.
 */
export function extractGold(target: string): string {
  const t = target.trim();
  if (t.includes('####') || /\n\s*A:\s*\S[^\n]*$/.test(t)) {
    const m = gsm8kMarker(t);
    if (m !== null) return m;
  }
  return t;
}

/**
 * Extract a multiple-choice letter A–J: from the last box, an "answer is (C)" / "Answer: C" phrase, a
 * `\text{(C)}` wrapper, or else the last parenthesised letter `(C)` in the text.
 * @returns the upper-case letter or null.
 */
export function extractChoice(response: string): string | null {
  const s = cutResponse(response);
  const fromText = (t: string): string | null => {
    const u = t
      .trim()
      .replace(/\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}/g, '$1')
      .replace(/[$*]/g, '')
      .trim();
    const m = /^(?:option\s+|choice\s+)?\(?\s*([A-Ja-j])\s*\)?(?:[.:)\s]|$)/i.exec(u);
    if (m && (u.length <= 3 || /^[(]?[A-J][).:]?(\s|$)/.test(u) || /^(option|choice)/i.test(u))) return m[1]!.toUpperCase();
    return null;
  };
  const boxed = lastBoxed(s);
  if (boxed !== null) {
    const c = fromText(boxed);
    if (c) return c;
  }
  const tok = lastBoxTokens(s);
  if (tok !== null) {
    const c = fromText(tok);
    if (c) return c;
  }
  const tail = s.length > 20_000 ? s.slice(s.length - 20_000) : s;
  const re = /answer(?:\s+(?:is|should be|would be|will be))?\s*(?::|is)?\s*[:\s]*\**\s*\$?(?:\\text\{)?\(?([A-J])\)?(?![A-Za-z])/gi;
  let last: string | null = null;
  for (let m = re.exec(tail); m; m = re.exec(tail)) last = m[1]!.toUpperCase();
  if (last) return last;
  const paren = /\(([A-J])\)/g;
  for (let m = paren.exec(tail); m; m = paren.exec(tail)) last = m[1]!;
  return last;
}

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
  const tail = s.length > 20_000 ? s.slice(s.length - 20_000) : s;
  const re = /confidence(?: score| level)?\s*(?:\*\*\s*)?[:=]\s*(?:\*\*\s*)?(\d+(?:\.\d+)?)(?!\d|\.\d) ?(\\?%|\/ ?100|percent)?/gi;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(tail); m; m = re.exec(tail)) last = m;
  if (!last) return null;
  let v = Number(last[1]);
  // a decimal fraction written with a point and no percent sign: `0.85` is 85%, and so `1.0` is 100% (not 1%)
  if (!last[2] && /^(?:0\.\d+|1\.0+)$/.test(last[1]!)) v *= 100;
  return Number.isFinite(v) && v >= 0 && v <= 100 ? v : null;
}
