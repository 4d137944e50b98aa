/**
 * Normalisation of an answer string (gold or prediction, same rules for both) into a canonical LaTeX-ish form.
 *
 * Rules (each linear in the input):
 * - math delimiters `$…$`, `$$…$$`, `\(…\)`, `\[…\]`, markdown `**`, `\displaystyle`, `\left`/`\right`, spacing
 *   commands (`\!`, `\,`, `\;`, `\ `) are dropped;
 * - `\dfrac`/`\tfrac`/`\cfrac` → `\frac`; shorthand arguments are braced: `\frac12` → `\frac{1}{2}`,
 *   `\frac 59` → `\frac{5}{9}`, `\sqrt2` → `\sqrt{2}`;
 * - a trailing unit, written `\text{ cents}`, `\mbox{ inches}^2` or as a plain unit word after a number
 *   (`5 cm`, `12 square units`), is dropped (unit policy `strip`, the default; `keep` leaves it); `\text{}`/`\mbox{}`/`\textbf{}`/`\mathrm{}` are then unwrapped;
 * - degrees `^\circ`, `^{\circ}`, `°`, `\degree` and currency `\$`, `$` are dropped;
 * - a trailing percent sign (`\%`, `%`) is removed and reported in `percent` (the comparison applies the policy);
 * - thousands separators: `{,}`, `,\!` and `\,` between digits followed by exactly three digits are always
 *   separators; a plain comma is a separator only in a bare number whose groups are 1–3 digits then exactly
 *   three digits with no space after the comma (`8,000`, `11,111,100`). So `3, 5, 7`, `1331, 1728` and `1,-2`
 *   stay lists;
 * - whitespace is removed (except where it separates a command from a following letter: `\cot x`);
 * - a trailing `.` is dropped (an ellipsis `...` is kept: it never equals a value);
 * - a mixed number `1\frac{4}{5}` (integer immediately followed by a fraction of integers, the whole answer)
 *   becomes `\frac{9}{5}` (MATH convention);
 * - JSON-escaped LaTeX (every backslash doubled, as in `\\frac{1}{2}` copied from a JSON string) is un-escaped:
 *   only when every run of backslashes has even length and one of them precedes a command name or `%`, so a
 *   matrix row separator `\\` stays;
 * - relation signs get one spelling: `\le` (`<=`, `\leq`, `\leqslant`, `≤`), `\ge`, `\ne` (`!=`, `\neq`, `\not=`,
 *   `≠`), `<` (`\lt`), `>` (`\gt`), `\approx` (`≈`);
 * - "and" and "or" between values (`12 \text{ and } 13`, `19, 46, and 82`, `x<-2 \text{ or } x>3`) become a
 *   comma and `\lor` (an answer made only of words, `\text{Evelyn and Navin}`, is left alone);
 * - semicolons separate elements like commas (`(1;2)`, `1; 2; 3`); inside a bracket that also holds commas
 *   they are left alone;
 * - a percent written as a word (`percent`, `per cent`, `percentage`, `pct`) is a percent sign;
 * - a time of day with a.m./p.m. (`4:30 \text{ p.m.}`, `\text{4:30 PM}`, `4 p.m.`, `noon`) becomes 24-hour
 *   `H:MM` (`16:30`); a time without a.m./p.m. is read as written on a 24-hour clock (`04:30` → `4:30`), so
 *   `4:30` equals `4:30 a.m.` and not `4:30 p.m.`.
 */

/**
 * Unit policy: `strip` (default) drops a trailing unit on both sides (`5.4 \text{ cents}` equals 5.4);
 * `keep` leaves units in place, so an answer with a unit equals only an answer with the same unit.
 * Degree signs (`^\circ`, `°`) and currency signs (`\$`) are always dropped: they are notation, not a unit choice.
 */
export type UnitPolicy = 'strip' | 'keep';

/** Options of {@link normalizeAnswer}. */
export interface NormalizeOptions {
  units: UnitPolicy;
}

/** Default normalisation options: `units` `'strip'`. */
export const NORMALIZE_DEFAULTS: NormalizeOptions = { units: 'strip' };

/** A normalised answer: the canonical text and whether a trailing percent sign was removed. */
export interface Normalized {
  text: string;
  percent: boolean;
}

const TEXT_CMDS = 'text|textbf|textrm|textit|textnormal|mbox|mathrm|mathbf|mathit|mathsf|operatorname|hbox';

const UNIT_WORDS = [
  'cents?', 'dollars?', 'euros?', 'inch(?:es)?', 'feet', 'foot', 'ft', 'yards?', 'yd', 'miles?', 'mph',
  'cm', 'mm', 'km', 'meters?', 'metres?', 'centimeters?', 'millimeters?', 'kilometers?', 'units?',
  'hours?', 'hrs?', 'minutes?', 'mins?', 'seconds?', 'secs?', 'days?', 'weeks?', 'months?', 'years?',
  'degrees?', 'deg', 'radians?', 'rad', 'pounds?', 'lbs?', 'ounces?', 'oz', 'kg', 'grams?', 'kilograms?',
  'liters?', 'litres?', 'ml', 'gallons?', 'cups?', 'people', 'persons?', 'students?', 'points?', 'times',
  'ways', 'squares?', 'cubes?', 'sq',
].join('|');
const SPACED_UNIT_WORDS = 'm|s|h|g|l|in|mi';
const ANY_UNIT = `(?:${UNIT_WORDS}|${SPACED_UNIT_WORDS})`;
// a unit, optionally compound (`m/s`, `km/h`, `miles per hour` is left alone), after a number or a closing brace
const UNIT_TAIL = new RegExp(
  `^(.*?[0-9}])(?:\\s*(?:(?:square|sq\\.?|cubic)\\s+)?(?:${UNIT_WORDS})(?:\\s*/\\s*${ANY_UNIT})?|\\s+${ANY_UNIT}(?:\\s*/\\s*${ANY_UNIT})?|\\s*${ANY_UNIT}\\s*/\\s*${ANY_UNIT})\\.?(?:\\s*\\^\\s*\\{?[23]\\}?)?$`,
  'i',
);

/**
 * Brace the shorthand arguments of `\frac` and `\sqrt`: `\frac12` → `\frac{1}{2}`, `\frac 59` → `\frac{5}{9}`,
 * `\frac9{19}` → `\frac{9}{19}`, `\sqrt2` → `\sqrt{2}`. Braced arguments are kept as they are.
 */
export function braceShorthand(s: string): string {
  if (!/\\(?:frac|sqrt)/.test(s)) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const m = /^\\(frac|sqrt)(?![a-zA-Z])/.exec(s.slice(i, i + 6));
    if (!m) {
      out += s[i];
      i++;
      continue;
    }
    out += '\\' + m[1];
    i += m[0].length;
    if (m[1] === 'sqrt') {
      while (s[i] === ' ') i++;
      if (s[i] === '[') {
        const close = s.indexOf(']', i);
        if (close > 0) {
          out += s.slice(i, close + 1);
          i = close + 1;
        }
      }
    }
    const nargs = m[1] === 'frac' ? 2 : 1;
    for (let a = 0; a < nargs; a++) {
      while (s[i] === ' ') i++;
      if (i >= s.length) break;
      if (s[i] === '{') {
        // braced argument: copy the balanced group (its content normalised too)
        let depth = 0;
        let j = i;
        for (; j < s.length; j++) {
          if (s[j] === '\\') {
            j++;
            continue;
          }
          if (s[j] === '{') depth++;
          else if (s[j] === '}' && --depth === 0) break;
        }
        if (j >= s.length) break;
        out += '{' + braceShorthand(s.slice(i + 1, j)) + '}';
        i = j + 1;
        continue;
      }
      const cmd = /^\\[a-zA-Z]+/.exec(s.slice(i, i + 40));
      if (cmd) {
        out += '{' + cmd[0] + '}';
        i += cmd[0].length;
      } else {
        out += '{' + s[i] + '}';
        i++;
      }
    }
  }
  return out;
}

const PERCENT_WORDS = '(?:percent(?:age)?s?|per\\s?cent|pct)';
const PERCENT_WORD = new RegExp(`(?:\\\\(?:${TEXT_CMDS})\\s*\\{\\s*${PERCENT_WORDS}\\s*\\}|(?<![a-zA-Z])${PERCENT_WORDS})\\s*$`, 'i');
const TEXT_UNIT_TAIL = new RegExp(`^(.*\\S)\\s*\\\\(?:${TEXT_CMDS})\\s*\\{\\s*[a-zA-Z][a-zA-Z ./]*\\}\\s*(?:\\^\\s*\\{?[23]\\}?)?$`);
const TEXT_WRAP = new RegExp(`\\\\(?:${TEXT_CMDS})\\s*\\{([^{}]*)\\}`, 'g');

function dropTrailingUnits(s: string): string {
  if (!/[a-zA-Z]/.test(s)) return s;
  for (let k = 0; k < 3; k++) {
    const before = s;
    // a trailing \text{ unit words} group (optionally squared) after something
    s = s.replace(
      TEXT_UNIT_TAIL,
      (all, head: string) => (/[0-9}.)a-zA-Z]$/.test(head) && !/\\(?:text|mbox)\{[^}]*$/.test(head) ? head : all),
    );
    s = s.replace(UNIT_TAIL, '$1');
    if (s === before) break;
  }
  return s;
}

/** Unwrap `\text{…}`-like commands (innermost first, bounded passes). */
function unwrapText(s: string): string {
  if (!s.includes('\\')) return s;
  const re = TEXT_WRAP;
  re.lastIndex = 0;
  for (let k = 0; k < 5 && re.test(s); k++) {
    re.lastIndex = 0;
    s = s.replace(re, '$1');
  }
  return s;
}

/** Strip enclosing math delimiters `$…$`, `$$…$$`, `\(…\)`, `\[…\]` (repeatedly). */
function stripDelimiters(s: string): string {
  for (let k = 0; k < 4; k++) {
    const t = s.trim();
    let u = t;
    if (t.startsWith('$$') && t.endsWith('$$') && t.length >= 4) u = t.slice(2, -2);
    else if (t.startsWith('$') && t.endsWith('$') && t.length >= 2 && !t.startsWith('\\$')) u = t.slice(1, -1);
    else if ((t.startsWith('\\(') && t.endsWith('\\)')) || (t.startsWith('\\[') && t.endsWith('\\]'))) u = t.slice(2, -2);
    if (u === t) return t;
    s = u;
  }
  return s.trim();
}

/**
 * Un-escape JSON-escaped LaTeX: when every run of backslashes has even length and some `\\` precedes a letter,
 * `%`, or (outside a matrix) a brace (`\\frac{1}{2}`, `\\{1, 2\\}`, `\\begin{pmatrix}1\\\\2\\end{pmatrix}`), halve every run. Unescaped LaTeX always has a
 * single backslash before a command, so it is never changed.
 */
export function unescapeJsonLatex(s: string): string {
  if (!s.includes('\\\\')) return s;
  let escapedCommand = false;
  const runs = /\\+/g;
  for (let m = runs.exec(s); m; m = runs.exec(s)) {
    if (m[0].length % 2 === 1) return s;
    const next = s[m.index + m[0].length] ?? '';
    if (/[a-zA-Z%]/.test(next) || (/[{}]/.test(next) && !s.includes('&'))) escapedCommand = true;
  }
  return escapedCommand ? s.replace(/\\+/g, (r) => r.slice(0, r.length / 2)) : s;
}

const REL_SPELLINGS: Array<[RegExp, string]> = [
  [/\\(?:leqslant|leqq|leq|le)(?![a-zA-Z])|<=|\u2264|\u2a7d/g, '\\le '],
  [/\\(?:geqslant|geqq|geq|ge)(?![a-zA-Z])|>=|\u2265|\u2a7e/g, '\\ge '],
  // `!=` (not after a digit or a bracket: `5!=120` is a factorial)
  [/\\(?:neq|ne)(?![a-zA-Z])|\\not\s*=|(?<![\d)}\]])!=|\u2260/g, '\\ne '],
  [/\\lt(?![a-zA-Z])/g, '<'],
  [/\\gt(?![a-zA-Z])/g, '>'],
  [/\u2248/g, '\\approx '],
];

/** One spelling per relation sign (see the module comment). */
function canonicalRelations(s: string): string {
  if (!/[<>=!\u2264\u2265\u2260\u2248\u2a7d\u2a7e]|\\(?:l|g|n)/.test(s)) return s;
  for (const [re, to] of REL_SPELLINGS) s = s.replace(re, to);
  return s;
}

/** "and"/"or" between values (only in an answer holding math: a digit, a command, a relation sign). */
function joinWords(s: string): string {
  if (!/\b(?:and|or)\b/i.test(s) || !/[\d\\=<>]/.test(s)) return s;
  return s.replace(/\s*,?\s*\band\b\s*/gi, ',').replace(/\s*,?\s*\bor\b\s*/gi, ' \\lor ').replace(/^,|,$/g, '');
}

/** Semicolons as element separators: all of them when there is no comma, else those outside brackets. */
function semicolons(s: string): string {
  if (!s.includes(';')) return s;
  if (!s.includes(',')) return s.replace(/;/g, ',');
  let depth = 0;
  let out = '';
  for (const c of s) {
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    out += c === ';' && depth === 0 ? ',' : c;
  }
  return out;
}

const TIME_RE = /^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?([ap])\.?m\.?$/i;

/**
 * A time of day with a.m./p.m. in 24-hour `H:MM` (`H:MM:SS`) form, or null. Read on a copy of the answer without
 * text wrappers and spaces: `4:30 \text{ p.m.}`, `\text{4:30 p.m.}`, `4:30PM`, `4 p.m.`, `12:15 a.m.` (→ `0:15`),
 * `noon` (→ `12:00`), `midnight` (→ `0:00`).
 */
export function timeOfDay(s: string): string | null {
  if (!/[apn]/i.test(s)) return null;
  const t = s.replace(new RegExp(`\\\\(?:${TEXT_CMDS})\\s*\\{([^{}]*)\\}`, 'g'), '$1').replace(/\\[,;:! ]|~|\s/g, '');
  if (/^(?:12(?::00)?)?noon$/i.test(t)) return '12:00';
  if (/^(?:12(?::00)?)?midnight$/i.test(t)) return '0:00';
  const m = TIME_RE.exec(t);
  if (!m) return null;
  let h = Number(m[1]);
  if (h < 1 || h > 12 || Number(m[2] ?? '0') > 59 || Number(m[3] ?? '0') > 59) return null;
  const pm = m[4]!.toLowerCase() === 'p';
  if (h === 12) h = pm ? 12 : 0;
  else if (pm) h += 12;
  return `${h}:${m[2] ?? '00'}${m[3] ? ':' + m[3] : ''}`;
}

/**
 * Normalise one answer string (see the module comment for the rules).
 * @param raw an extracted answer or a dataset gold (already reduced from GSM8K format)
 * @returns the canonical text (never throws; inputs are expected to be ≤ 10k characters)
 */
export function normalizeAnswer(raw: string, opts: NormalizeOptions = NORMALIZE_DEFAULTS): Normalized {
  const units = opts.units !== 'keep';
  let s = raw
    .replace(/[\u2212\u2013\uFE63\uFF0D]/g, '-')
    .replace(/\u00d7/g, '\\times ')
    .replace(/\u00f7/g, '\\div ')
    .replace(/\u03c0/g, '\\pi ')
    .replace(/\u221e/g, '\\infty ')
    .replace(/\u00b0/g, '^\\circ')
    .replace(/\u221a/g, '\\sqrt')
    .replace(/\u00a0/g, ' ');
  s = unescapeJsonLatex(s);
  s = s.replace(/\*\*/g, '').trim();
  s = stripDelimiters(s);
  // nested boxes inside an extracted answer
  for (let k = 0; k < 3 && /\\(?:boxed|fbox)\s*\{/.test(s); k++) s = s.replace(/\\(?:boxed|fbox)\s*\{([^{}]*)\}/g, '$1');
  s = s
    .replace(/\\displaystyle/g, '')
    .replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![a-zA-Z])\s*\.?/g, '')
    .replace(/\\(?:d|t|c)frac(?![a-zA-Z])/g, '\\frac')
    .replace(/\\\$/g, '')
    .replace(/\$/g, '');
  // thousands separators written in LaTeX
  s = s.replace(/(\d)(?:\{,\}|,\\!|\\,|,\\,)\s*(?=\d{3}(?!\d))/g, '$1');
  // protect row separators `\\` of matrices from the spacing-command removal
  s = s.replace(/\\\\/g, '\u0002');
  s = s.replace(/\\[!;:]|\\ |~/g, ' ').replace(/\\,/g, ' ');
  // degrees
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}/g, '');
  s = s.trim();
  const time = timeOfDay(s);
  if (time !== null) return { text: time, percent: false };
  s = canonicalRelations(s);
  // a percent written as a word (`28 percent`, `28\\text{ per cent}`) is a percent sign, never a unit to drop
  s = s.replace(PERCENT_WORD, '\\%');
  if (units) s = dropTrailingUnits(s);
  s = unwrapText(s);
  s = joinWords(s).trim();
  // percent
  let percent = false;
  const pm = /\s*\\?%\s*$/.exec(s);
  if (pm && pm.index > 0) {
    percent = true;
    s = s.slice(0, pm.index);
  }
  s = s.replace(/\\%/g, '%');
  s = s.trim();
  if (units) s = dropTrailingUnits(s);
  // plain thousands separators in a bare number (no space after the comma)
  if (/^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  s = braceShorthand(s);
  // whitespace: keep one space only between a command and a following letter
  s = s.replace(/(\\[a-zA-Z]+)\s+(?=[a-zA-Z])/g, '$1\u0001').replace(/\s+/g, '').replace(/\u0001/g, ' ');
  // sentence punctuation at the end, never an ellipsis (`1, 2, 3, ...` is an unfinished list)
  if (!/\.\.$/.test(s)) s = s.replace(/[.;]+$/, '');
  s = s.replace(/\u0002/g, '\\\\');
  s = semicolons(s);
  s = s.replace(/\+\\infty(?![a-zA-Z])/g, '\\infty');
  // a time written without a.m./p.m. is read on a 24-hour clock: `04:30` is `4:30`
  s = s.replace(/^0(\d:\d\d)$/, '$1');
  // mixed numbers: 1\frac{4}{5} → \frac{9}{5}
  const mixed = /^(-?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$/.exec(s);
  if (mixed && mixed[4] !== '0' && mixed[2]!.length < 16 && mixed[3]!.length < 16 && mixed[4]!.length < 16) {
    const d = BigInt(mixed[4]!);
    s = `${mixed[1]}\\frac{${BigInt(mixed[2]!) * d + BigInt(mixed[3]!)}}{${d}}`;
  }
  if (s.startsWith('{') && s.endsWith('}') && s.length > 2 && matchesWhole(s)) s = s.slice(1, -1);
  // scientific notation as a whole answer: 1.5e3, 1.5E+03, 2e-5 → 1.5\times10^{3} (`e` alone stays Euler's number)
  const sci = /^([-+]?(?:\d+\.?\d*|\.\d+))[eE]([-+]?)(\d{1,6})$/.exec(s);
  if (sci) s = `${sci[1]}\\times10^{${sci[2] === '-' ? '-' : ''}${sci[3]}}`;
  // the empty set, however written: \{\}, \varnothing, \emptyset, ∅
  if (/^(?:\\\{\\\}|\\varnothing|\\emptyset|\\O|\u2205|\{\})$/.test(s)) s = '\\emptyset';
  return { text: s, percent };
}

/** True when the `{` at 0 closes at the very end. */
function matchesWhole(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      i++;
      continue;
    }
    if (s[i] === '{') depth++;
    else if (s[i] === '}') {
      depth--;
      if (depth === 0) return i === s.length - 1;
    }
  }
  return false;
}
