/**
 * Reading a GRAB answer from a model's response (the `grab` scorer, grab.ts): numbers at a stated precision,
 * unordered pairs `[x1, x2]`, and equations (polynomials and sinusoids) compared by their coefficients.
 *
 * What a model writes, and how it is read (each kind is tested with several variants in
 * test/scorers/grab-read.test.ts):
 * - LaTeX wrappers and spacing are dropped: `\left( … \right)`, `\!`, `\,`, `\;`, `{,}` (a thousands comma),
 *   `\text{…}`/`\mathrm{…}` keep their text; `\dfrac`, `\tfrac`, `\cfrac` are `\frac`;
 * - numeric fractions are values: `\frac{7}{2}`, `\frac72`, `-\frac{1}{3}`, `2\frac{1}{2}` (a mixed number, the MATH
 *   convention), plain `7/2` and `2 1/2`; scientific notation `1.2 \times 10^{3}`, `1.2e3`;
 * - a power of numbers is its value: `10^3`, `10^{3}` 1000, `12^2` 144, `3²` 9, `2^-1` 0.5, `e^2` e², never its
 *   exponent;
 * - notes after the answer are not numbers of it: `(Note: step 3 of 4)`, a `Note:` line, `step 3 of 4`;
 * - a number question answered with a point (`The x-intercept is at (-3, 0).`) reads the coordinate the question asks
 *   for (x-intercept / x-coordinate: the first; y-: the second), and with none asked the point is refused, never read
 *   as its last number;
 * - an equation that is not a plain sum of terms (`y = 8(x - 1) - 1`, `y = 2(x + 1)^2 - 3`) is expanded by the grab
 *   scorer (grab.ts, through expression.ts) and compared by its coefficients;
 * - units are not numbers: an exponent written on a unit (`12 units^2`, `12 \text{ units}^2`, `12 m²`,
 *   `12 cm^{2}`) is dropped, so the answer reads 12, never 2; `12 square units` reads 12;
 * - the question's precision echoed after the answer (`190 to the nearest 10`, `3.5 (to 1 decimal place)`) is not a
 *   number of the answer;
 * - a pair comes from the marked final answer (a box, "the answer is", `Answer:`) when that holds one (its last
 *   `[a, b]` or `(a, b)`, or two bare numbers `a, b` / `x = a and x = b`), else from the last line that states the
 *   answer, else the last `[a, b]` anywhere, else the last `(a, b)` (a round pair is often a point (x, y), so a square
 *   one, the form GRAB asks for, wins);
 * - an equation is the last `y = …` (or `f(x) = …`) of the final answer, else of the text, up to where prose or a
 *   wrapper starts (`y = 2x + 1, which is the line` → `y = 2x + 1`; a closing `$`, `\)`, brace or bracket that the
 *   equation never opened; `**`, a backtick, `,`, `;`, a sentence's full stop, a word other than `sin`, a LaTeX
 *   command other than `\sin`, `\cdot`, `\times`, `\left`, `\right`); a chain `y = 3(x + 1) - 2 = 3x + 1` gives its
 *   last right-hand side;
 * - a sinusoid `A sin(Bx + C) + D` is read whatever the order of its terms and however its signs are written:
 *   `3 sin(2x + 1) + -1`, `3\sin(2x+1) - 1`, `-1 + 3sin(2x + 1)`, `3\sin\left(2x\right)`, `\sin{(2x + 1)}`,
 *   `3 sin(2(x + 0.5))` (B = 2, C = 1), `3 sin(1 + 2x)`, with or without spaces, `*`, `·` or `\cdot`;
 * - a polynomial likewise (`x^{2}`, `x²`, `2 \cdot x`, `+ -3x`, `-1x`, `0x^3`).
 * Sources of the kinds: GRAB's answer forms (shared/data/grab/grab.json), and the output forms exercised by
 * huggingface/Math-Verify's tests (fraction variants `\dfrac`/`\tfrac`/`\cfrac` and `\frac13`, `\left( … \right)`,
 * units after a number such as `m²`, the last `=` of an answer). The code is our own. Nothing here throws.
 */
import { cutResponse, extractAnswer, lastNumber } from './extract.ts';

const NUM = String.raw`[-+]?(?:\d+(?:\.\d+)?|\.\d+)`;

/** Typographic minus signs as ASCII `-`. */
const ascii = (s: string): string => s.replace(/[\u2212\uFE63\uFF0D\u2013]/g, '-');

/** A number as plain decimal text (never exponent notation, which number readers would split). */
function decimalText(v: number): string {
  const s = String(Number(v.toPrecision(15)));
  if (!/e/i.test(s)) return s;
  return v.toFixed(20).replace(/\.?0+$/, '');
}

/**
 * LaTeX spacing and wrappers dropped: `\left`/`\right`/`\big…` sizing, thin spaces `\!`, `\,`, `\;`, `\:`, `\ `,
 * `{,}` as a comma, `\dfrac`/`\tfrac`/`\cfrac` as `\frac`, `\text{…}` (and `\mathrm`, `\textbf`, `\mbox`,
 * `\operatorname`) replaced by their text, `^\circ` and `^{\circ}` dropped, typographic minus as `-`.
 */
export function latexPlain(s: string): string {
  return ascii(s)
    .replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![a-zA-Z])\s*/g, '')
    .replace(/\\[!,;: ]/g, '')
    .replace(/\{,\}/g, ',')
    .replace(/\\[dtc]frac(?![a-zA-Z])/g, '\\frac')
    .replace(/\\(?:text|mathrm|textbf|textit|mbox|operatorname|mathbf)\s*\{([^{}]*)\}/g, ' $1 ')
    .replace(/\^\s*\{?\s*\\circ\s*\}?/g, '');
}

/** Superscript digits 0–9, at their value's index. */
const SUPERSCRIPTS = '\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079';

/** The numeric value of a LaTeX fraction argument (`{7}`, `{-7}`, `7`), or NaN. */
function argValue(a: string): number {
  const t = a.startsWith('{') ? a.slice(1, -1).trim() : a;
  return new RegExp(`^${NUM}$`).test(t) ? Number(t) : NaN;
}

/**
 * Text in which numbers read as their values: numeric LaTeX fractions (with a sign, or a whole part as a mixed number)
 * and scientific notation become decimals, and exponents on units are dropped (see the module comment). Apply to
 * {@link latexPlain}'s output. Only for reading numbers: it drops exponents on letters (`x^2` → `x`).
 */
export function numberPlain(s: string): string {
  return s
    // a × 10^n, a \times 10^{n}, a \cdot 10^{n}
    .replace(/(?<![\d.])(\d+(?:\.\d+)?)\s*(?:\\times|\\cdot|×|\*)\s*10\s*\^\s*\{?\s*([-+]?\d{1,3})\s*\}?/g, (_, a: string, n: string) => decimalText(Number(a) * 10 ** Number(n)))
    // 1.2e3, 5E-2 (not inside a word)
    .replace(/(?<![\w.])(\d+(?:\.\d+)?)[eE]([-+]?\d{1,3})(?![\w.])/g, (_, a: string, n: string) => decimalText(Number(a) * 10 ** Number(n)))
    // a power of numbers is its value: 10^3, 10^{3}, 2^-1, 2^{-1}, 3², e^2 (never its exponent)
    .replace(/(?<![\w.^}])(\d+(?:\.\d+)?|e)\s*\^\s*(?:\{\s*([-+]?\d+(?:\.\d+)?)\s*\}|([-+]?\d+(?:\.\d+)?))/g, (all, b: string, n1: string | undefined, n2: string | undefined) => {
      const v = (b === 'e' ? Math.E : Number(b)) ** Number(n1 ?? n2);
      return Number.isFinite(v) ? decimalText(v) : all;
    })
    .replace(/(?<![\w.])(\d+(?:\.\d+)?)([\u207b]?[\u00b2\u00b3\u00b9\u2070\u2074-\u2079]+)/g, (all, b: string, sup: string) => {
      const n = Number([...sup].map((c) => (c === '\u207b' ? '-' : String(SUPERSCRIPTS.indexOf(c)))).join(''));
      const v = Number(b) ** n;
      return Number.isFinite(v) ? decimalText(v) : all;
    })
    // [-] [whole] \frac{a}{b} | \frac ab
    .replace(/(-\s*)?((?<![\d.])\d+ ?)?\\frac\s*(\{[^{}]*\}|\d)\s*(\{[^{}]*\}|\d)/g, (all, sign: string | undefined, whole: string | undefined, a: string, b: string) => {
      const n = argValue(a), d = argValue(b);
      if (!Number.isFinite(n) || !Number.isFinite(d) || d === 0) return all;
      const v = (whole ? Number(whole.trim()) : 0) + n / d;
      return (sign ? '-' : '') + decimalText(v);
    })
    // an exponent on a unit: a letter (or a `}` closing one) followed by ^2, ^{2}, ², ³
    .replace(/([a-zA-Z}])\s*(?:\^\s*(?:\{\s*-?\d+\s*\}|-?\d+)|[\u00b2\u00b3\u00b9\u2070\u2074-\u2079]+)/g, '$1');
}

/**
 * The value of a number as `lastNumber` returns it: a decimal, a thousands-separated integer (`9,500`), a plain
 * fraction `7/2` or a mixed number `2 1/2`. NaN for anything else (a clock time, a ratio).
 */
export function numberValue(raw: string): number {
  const t = ascii(raw).trim();
  const mixed = /^(-?)(\d+)[ \t]+(\d+)\s*\/\s*(\d+)$/.exec(t);
  if (mixed) return (mixed[1] ? -1 : 1) * (Number(mixed[2]) + Number(mixed[3]) / Number(mixed[4]));
  const frac = /^(-?\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(t);
  if (frac) return Number(frac[2]) === 0 ? NaN : Number(frac[1]) / Number(frac[2]);
  if (!/^-?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$/.test(t) || !/\d/.test(t)) return NaN;
  return Number(t.replace(/,/g, ''));
}

/**
 * The question's precision echoed after the answer (`190 to the nearest 10`, `3.5 (to 1 decimal place)`, `rounded to
 * the nearest integer`) removed: its number is not the answer.
 */
function withoutPrecisionPhrases(t: string): string {
  return t.replace(/(?:\(\s*)?(?:\b(?:rounded|correct|accurate)\s+)?\bto\s+(?:the\s+nearest\s+(?:10|ten|whole\s+number|integer|unit|tenth|0\.1)|(?:1|one)\s+(?:decimal\s+places?|d\.?\s?p\.?)|(?:1|one)\s+significant\s+figures?)\s*\)?/gi, ' ');
}

/**
 * Notes after an answer removed: a parenthesised note (`(Note: step 3 of 4)`, `(Hint: …)`, `(N.B. …)`), a line that
 * starts `Note:`, and a progress count `step 3 of 4`. Their numbers are not the answer.
 */
function withoutNotes(t: string): string {
  return t
    .replace(/\(\s*(?:\*\*)?(?:note|n\.\s?b\.?|hint|remark|aside)\b[^()\n]{0,300}\)/gi, ' ')
    .replace(/^[ \t>*_#-]*(?:note|n\.\s?b\.|hint|remark)\b\s*[:.][^\n]*$/gim, ' ')
    .replace(/\bsteps?\s+\d+\s+(?:of|out\s+of)\s+\d+\b/gi, ' ');
}

/** A number read from a response: the text it was read from and its value. */
export interface ReadNumber {
  raw: string;
  value: number;
}

/** Which coordinate of a point a question asks for, when it asks for one. */
export type AskedCoordinate = 'x' | 'y' | null;

/**
 * The coordinate a question asks for: `x` for an x-intercept, an x-coordinate or "the value of x"; `y` for a
 * y-intercept or a y-coordinate; null otherwise (or when it names both).
 */
export function askedCoordinate(question: string): AskedCoordinate {
  const x = /\bx[-\s]?(?:intercept|coordinate|value)s?\b/i.test(question);
  const y = /\by[-\s]?(?:intercept|coordinate|value)s?\b/i.test(question);
  return x === y ? null : x ? 'x' : 'y';
}

const POINT_RE = new RegExp(String.raw`\(\s*(${NUM})\s*,\s*(${NUM})\s*\)`, 'g');

/** The point `(a, b)` that ends `t` (nothing but punctuation, `$`, `*` or spaces after it), or null. */
function endingPoint(t: string): RegExpExecArray | null {
  let last: RegExpExecArray | null = null;
  POINT_RE.lastIndex = 0;
  for (let m = POINT_RE.exec(t); m; m = POINT_RE.exec(t)) last = m;
  return last && !/\d/.test(t.slice(last.index + last[0].length)) ? last : null;
}

/**
 * The number a response answers with: the last number of its final answer (box, answer phrase, `Answer:` line, a
 * line that is one bold number; see extract.ts), else the last number of the text, both read after
 * {@link latexPlain} and {@link numberPlain}, with the question's precision echoed and notes (`(Note: step 3 of 4)`)
 * removed. When that number ends a point `(a, b)` (`The x-intercept is at (-3, 0).`), the coordinate `asked` names
 * is read (`-3`); with no coordinate asked the point is not a number (value NaN, raw the point).
 * Null when there is no number.
 */
export function readNumber(response: string, asked: AskedCoordinate = null): ReadNumber | null {
  const text = withoutNotes(withoutPrecisionPhrases(numberPlain(latexPlain(cutResponse(response)))));
  const ex = extractAnswer(text);
  // extraction may write a plain mixed number the MATH way (`2 1/2` → `2\frac{1}{2}`): read it as a value again
  const fromAnswer = ex && ex.method !== 'last_number' && ex.method !== 'last_math' ? numberPlain(ex.text) : null;
  const inAnswer = fromAnswer === null ? null : lastNumber(fromAnswer);
  const source = inAnswer !== null ? fromAnswer! : text;
  const raw = inAnswer ?? (ex ? lastNumber(numberPlain(ex.text)) : null) ?? lastNumber(text);
  if (raw === null) return null;
  const point = endingPoint(source.length > 20_000 ? source.slice(-20_000) : source);
  if (point && Number(point[2]) === numberValue(raw)) {
    if (asked === null) return { raw: point[0], value: NaN };
    const v = asked === 'x' ? point[1]! : point[2]!;
    return { raw: v, value: Number(v) };
  }
  return { raw, value: numberValue(raw) };
}

const PAIR_RE = new RegExp(String.raw`([\[(])\s*(${NUM})\s*[,;]\s*(${NUM})\s*([\])])`, 'g');
const BARE_PAIR_RE = new RegExp(String.raw`^\s*(?:x_?\{?\d?\}?\s*=\s*)?(${NUM})\s*(?:,|and|&)\s*(?:x_?\{?\d?\}?\s*=\s*)?(${NUM})\s*\.?\s*$`);

const ANSWER_LINE_RE = /\banswer\b[^\n]{0,300}/gi;
const NAMED_PAIR_RE = new RegExp(String.raw`x_?\{?\d?\}?\s*=\s*(${NUM})\s*(?:,|and|&)\s*(?:x_?\{?\d?\}?\s*=\s*)?(${NUM})`);

/** The last bracketed pair in `t` (`[` wins over `(` when `squareFirst`), as [raw text, a, b], or null. */
function lastPair(t: string, squareFirst: boolean): [string, number, number] | null {
  let square: RegExpExecArray | null = null, any: RegExpExecArray | null = null;
  PAIR_RE.lastIndex = 0;
  for (let m = PAIR_RE.exec(t); m; m = PAIR_RE.exec(t)) {
    any = m;
    if (m[1] === '[' && m[4] === ']') square = m;
  }
  const m = squareFirst ? square ?? any : any;
  return m ? [m[0], Number(m[2]), Number(m[3])] : null;
}

/**
 * The pair `[x1, x2]` a response answers with (see the module comment for the order of preference), as the text
 * read and its two values; null when there is none.
 */
export function readPair(response: string): { raw: string; values: [number, number] } | null {
  const text = numberPlain(latexPlain(cutResponse(response)));
  const ex = extractAnswer(text);
  if (ex) {
    const inAnswer = lastPair(ex.text, false);
    if (inAnswer) return { raw: inAnswer[0], values: [inAnswer[1], inAnswer[2]] };
    const bare = BARE_PAIR_RE.exec(ex.text);
    if (bare) return { raw: bare[0].trim(), values: [Number(bare[1]), Number(bare[2])] };
  }
  const tail = text.length > 50_000 ? text.slice(-50_000) : text;
  // the last line that states the answer, when it names two values (`the answer is x = -10 and x = -3`)
  let statement: RegExpExecArray | null = null;
  ANSWER_LINE_RE.lastIndex = 0;
  for (let m = ANSWER_LINE_RE.exec(tail); m; m = ANSWER_LINE_RE.exec(tail)) statement = m;
  if (statement) {
    const inLine = lastPair(statement[0], true);
    if (inLine) return { raw: inLine[0], values: [inLine[1], inLine[2]] };
    const named = NAMED_PAIR_RE.exec(statement[0]);
    if (named) return { raw: named[0].trim(), values: [Number(named[1]), Number(named[2])] };
  }
  const p = lastPair(tail, true);
  return p ? { raw: p[0], values: [p[1], p[2]] } : null;
}

// ---------------------------------------------------------------------------------------------------------------
// Equations

const EQ_START_RE = /(?:(?<![a-zA-Z\\])y|(?<![a-zA-Z\\])f\s*\(\s*x\s*\))\s*=/g;
/** LaTeX commands an equation may hold; any other ends it. */
const EQ_COMMANDS = new Set(['sin', 'cdot', 'times', 'left', 'right', 'frac']);

/**
 * Cut an equation that starts at `y =` where it ends (see the module comment): at prose, a wrapper that closes
 * what the equation never opened, a comma or semicolon, a sentence's full stop, a line end; a chain of `=` gives
 * `y = ` and its last right-hand side.
 */
export function cutEquation(s: string): string {
  const lhs = /^[^=]*=/.exec(s)![0];
  let i = lhs.length, depth = 0, end = s.length;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\n' || c === '$' || c === '`' || c === ',' || c === ';' || c === ':' || c === '|') { end = i; break; }
    if (c === '*' && s[i + 1] === '*') { end = i; break; }
    if (c === '.' && !/\d/.test(s[i + 1] ?? '')) { end = i; break; }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) { end = i; break; }
      depth--;
    } else if (c === '\\') {
      const cmd = /^\\([a-zA-Z]+|.)/.exec(s.slice(i, i + 20))?.[1] ?? '';
      if (!EQ_COMMANDS.has(cmd)) { end = i; break; }
      i += cmd.length;
    } else if (/[a-zA-Z]/.test(c)) {
      const word = /^[a-zA-Z]+/.exec(s.slice(i, i + 40))![0];
      if (word.length > 1 && word !== 'sin') { end = i; break; }
      i += word.length - 1;
    }
  }
  let rhs = s.slice(lhs.length, end);
  // a chain y = 3(x + 1) - 2 = 3x + 1: its last right-hand side (only `=` outside brackets)
  const parts = rhs.split('=');
  if (parts.length > 1 && parts[parts.length - 1]!.trim() !== '') rhs = parts[parts.length - 1]!;
  // what an unfinished bracket left at the end (`y = 2x + 1 (`), trailing signs and spaces
  rhs = rhs.replace(/[\s([{+\-*]+$/, '');
  return `${lhs.trim().replace(/\s*=$/, '')} = ${rhs.trim()}`;
}

/**
 * The equation a response gives: the last `y = …` / `f(x) = …` of its final answer when that holds one, else of the
 * whole text, cut by {@link cutEquation}; else the final answer as it is; null when there is neither.
 */
export function readEquation(response: string): string | null {
  const text = latexPlain(cutResponse(response));
  const fromAnswer = extractAnswer(text)?.text ?? null;
  EQ_START_RE.lastIndex = 0;
  const source = fromAnswer && EQ_START_RE.test(fromAnswer) ? fromAnswer : text;
  let at = -1;
  EQ_START_RE.lastIndex = 0;
  for (let m = EQ_START_RE.exec(source); m; m = EQ_START_RE.exec(source)) at = m.index;
  if (at < 0) return fromAnswer === null ? null : fromAnswer.trim() || null;
  return cutEquation(source.slice(at));
}

/**
 * An equation's right-hand side in a canonical plain form: no spaces, `$`, multiplication signs (`*`, `·`, `×`,
 * `\cdot`, `\times`), `\left`/`\right`, backslashes before `sin`; superscript digits as `^n`; runs of signs collapsed
 * (`+-` → `-`, `--` → `+`); lower case; a leading `y =` or `f(x) =` and a final full stop removed.
 */
export function equationPlain(text: string): string {
  let t = latexPlain(text)
    .replace(/\\(?:cdot|times)(?![a-zA-Z])/g, '')
    .replace(/\\sin(?![a-zA-Z])/g, 'sin')
    .replace(/[\u00b2]/g, '^2').replace(/[\u00b3]/g, '^3').replace(/\u2074/g, '^4')
    .replace(/[\s$*·×]/g, '')
    .toLowerCase()
    .replace(/^(?:y|f\(x\))=/, '')
    .replace(/\.$/, '');
  for (let prev = ''; prev !== t; ) {
    prev = t;
    t = t.replace(/\+\+|--/g, '+').replace(/\+-|-\+/g, '-');
  }
  return t;
}

/**
 * Polynomial coefficients by degree from `y = 3x^2 - x + 1` (or without `y =`; see {@link equationPlain} for what is
 * ignored; a missing coefficient is 1, a missing term 0, a degree may be written `x^{2}` or `x²`). Null when the text
 * is not such a polynomial.
 */
export function parsePolynomial(text: string): Map<number, number> | null {
  const t = equationPlain(text);
  if (t === '' || !/^[-+]?[0-9.x^+\-{}]+$/.test(t)) return null;
  const out = new Map<number, number>();
  const terms = t.replace(/(?<=[^e^{])-/g, '+-').split('+').filter((x) => x !== '');
  for (const term of terms) {
    const m = /^([-+]?(?:\d+(?:\.\d+)?|\.\d+)?)(x(?:\^\{?(\d+)\}?)?)?$/.exec(term);
    if (!m || (m[1] === '' && !m[2]) || m[1] === '-' && !m[2]) return null;
    const c = m[1] === '' || m[1] === '+' ? 1 : m[1] === '-' ? -1 : Number(m[1]);
    const d = m[2] ? (m[3] ? Number(m[3]) : 1) : 0;
    if (!Number.isFinite(c)) return null;
    out.set(d, (out.get(d) ?? 0) + c);
  }
  return out;
}

/** The index of the bracket closing the one at `open`, or -1. */
function closing(t: string, open: number): number {
  let depth = 0;
  for (let i = open; i < t.length; i++) {
    if (t[i] === '(') depth++;
    else if (t[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** `(B, C)` of a linear argument `Bx + C`, `C + Bx`, `B(x + h)` (then C = B·h), or null. */
function linearArgument(inner: string): [number, number] | null {
  let t = inner;
  while (t.startsWith('(') && closing(t, 0) === t.length - 1) t = t.slice(1, -1);
  const factored = /^([-+]?(?:\d+(?:\.\d+)?|\.\d+)?)\((.+)\)$/.exec(t);
  if (factored && closing(t, factored[1]!.length) === t.length - 1) {
    const k = factored[1] === '' || factored[1] === '+' ? 1 : factored[1] === '-' ? -1 : Number(factored[1]);
    const innerLin = linearArgument(factored[2]!);
    return innerLin ? [k * innerLin[0], k * innerLin[1]] : null;
  }
  const p = parsePolynomial(t);
  if (!p || [...p.keys()].some((d) => d > 1) || !p.get(1)) return null;
  return [p.get(1)!, p.get(0) ?? 0];
}

/** The sum of constant terms `+4-2` (empty is 0), or null when it is anything else. */
function constants(t: string): number | null {
  if (t === '') return 0;
  if (!new RegExp(String.raw`^(?:[-+]?(?:\d+(?:\.\d+)?|\.\d+))(?:[-+](?:\d+(?:\.\d+)?|\.\d+))*$`).test(t)) return null;
  return [...t.matchAll(/[-+]?(?:\d+(?:\.\d+)?|\.\d+)/g)].reduce((s, m) => s + Number(m[0]), 0);
}

/**
 * (A, B, C, D) from `y = A sin(Bx + C) + D`, its terms in any order (`D + A sin(…)`), A and B omitted for 1, C and D
 * for 0, the argument written `Bx + C`, `C + Bx` or `B(x + h)`; see {@link equationPlain} for what is ignored.
 * Null for anything else (no sine, two sines, a non-linear argument).
 */
export function parseSine(text: string): [number, number, number, number] | null {
  const t = equationPlain(text).replace(/\{/g, '(').replace(/\}/g, ')');
  const at = t.indexOf('sin(');
  if (at < 0 || t.indexOf('sin', at + 3) >= 0) return null;
  const close = closing(t, at + 3);
  if (close < 0) return null;
  const arg = linearArgument(t.slice(at + 4, close));
  if (!arg) return null;
  const pre = /^(.*?)([-+]?)((?:\d+(?:\.\d+)?|\.\d+)?)$/.exec(t.slice(0, at))!;
  const a = pre[3] === '' ? (pre[2] === '-' ? -1 : 1) : (pre[2] === '-' ? -1 : 1) * Number(pre[3]);
  if (pre[1] !== '' && pre[2] === '') return null;
  const d1 = constants(pre[1]!), d2 = constants(t.slice(close + 1));
  if (d1 === null || d2 === null) return null;
  return [a, arg[0], arg[1], d1 + d2];
}
