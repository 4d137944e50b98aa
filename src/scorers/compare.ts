/**
 * Comparison of a normalised gold answer with a normalised prediction. Roles are explicit: `gold` first,
 * `prediction` second, never swapped (a set gold requires the whole set; a scalar gold does not accept a set).
 *
 * Structure recognised (see {@link parseStructure}): unordered sets (`\{…\}`, bare comma lists, `\pm`
 * expansions), ordered brackets (tuples and intervals with their endpoint types: `[2,5)` ≠ `(2,5)`), unions of
 * intervals, matrices (`matrix`, `pmatrix`, `bmatrix`, `Bmatrix`, `smallmatrix`, `array`: one kind; `vmatrix`
 * and `Vmatrix` are determinants), ratios (`11:21`, times `16:30`), labelled values (`x = 5`, `(p,q) = (3,2)`,
 * `AB = 4`, `|AB| = 1`, `V_1:V_2 = 11:21`, `f(2) = 5`), chains (`x = 5+5+1 = 11`, `x \approx 11`), relations
 * (equations and inequalities between expressions) and the regions inequalities describe, and scalar atoms.
 *
 * What counts as equal (the grading rules; README "Scorers" summarises them):
 * - **Labelled values.** A gold `label = value` equals the bare value, and `label = value` with the same label;
 *   a label is a variable (`x`, `x_1`, `\theta`), a name (`AB`, `Area`), `|AB|`, `\overline{AB}`, `\angle ABC`,
 *   `[ABC]`, a function value (`f(2)`, `\cos\theta`), a tuple of labels `(p,q)` or a ratio of labels `V_1:V_2`.
 *   A gold `(p,q) = (3,2)` also equals the list `p = 3, q = 2`.
 * - **Chains.** In `x = 5+5+1 = 7 = 11` the last right-hand side (11) is the answer, labelled by the first label
 *   of the chain; intermediate steps are not graded. After `\approx`, the approximation is the answer only when
 *   what precedes it is a label (`x \approx 11` is 11); an exact value followed by its approximation
 *   (`x = \frac{1}{3} \approx 0.33`) is graded on the exact value.
 * - **A prediction equation naming a quantity** (`m+n = 293`: variables without numbers on one side, a nonzero
 *   constant on the other) against a bare gold: the constant side is the answer (`5x-7y+4 = 0` names nothing);
 *   a computation with two constant sides (`3+4 = 7`) is its right side. A gold equation between expressions
 *   (`2x+z = 1`) never equals a bare value.
 * - **Equations between expressions** (planes, lines, conics: `34x+45y-20z+100=0`) are equal when
 *   lhs − rhs of one is a nonzero constant multiple of lhs − rhs of the other (any constant: the same zero set),
 *   checked in process at 4 fixed pseudo-random points (the ratio constant to 1e-9, see {@link proportional}):
 *   `-34x-45y+20z-100=0`, `68x+90y-40z+200=0` and `y=-\frac{34}{45}x+…` all equal the gold; so do two labelled
 *   relations with different labels (`y = 2x+3`, `x = \frac{y-3}{2}`). A labelled value whose value is
 *   constant (`x = 5`) is graded as a value: `2x = 10` does not equal it. `x = 5` and `y = 5` differ.
 *   A relation this parser cannot read (`a < b < c < d`) never equals a value without a relation sign.
 * - **Inequalities** are equal when they describe the same relation: after writing both as `f < 0`, `f ≤ 0`
 *   (`>` and `≥` flipped), `f ≠ 0`, the functions are positive multiples (`x ≥ 5`, `5 ≤ x`, `-x ≤ -5`,
 *   `2x ≥ 10`; `x \ge 5` ≠ `x > 5`). `\ne` allows any nonzero multiple.
 * - **Inequality against interval (both directions).** An inequality in one variable whose other side is
 *   constant (`x < 3`, `3 > x`, `-x > -1`, `2x+1 ≤ 7`: a lone variable or a linear function), a double
 *   inequality (`-2 ≤ x < 7`), `x \ne 3`, or such inequalities joined by "or", describes a region of the real
 *   line; it equals an interval or a union of intervals with the same endpoints and endpoint types:
 *   `x < 3` = `(-\infty, 3)`, `x \geq 5` = `[5, \infty)`, `x \ne 3` = `(-\infty,3) \cup (3,\infty)`. The
 *   variable's name does not matter against an interval (`\mathbb{R}` is `(-\infty,\infty)`). Only these
 *   forms are solved: `x^3 < 8` is not rewritten as `x < 2`.
 * - **Unions** of intervals are compared as sets of intervals (order does not matter).
 * - **A gold tuple `(a,b)` against a bare list `a, b`** is compared in order (`{1,3}` written with grouping braces
 *   is the list 1, 3); a braced set `\{1,3\}` never equals a tuple.
 * - **Matrices** are equal when they have the same shape and equal entries, whatever the environment and the
 *   brackets around it (`pmatrix` = `bmatrix` = `\left[\begin{array}{cc}…\end{array}\right]`); a determinant
 *   (`vmatrix`) equals only a determinant.
 * - **Ratios** `a:b` are compared term by term (`11:21` ≠ `22:42`, a ratio never equals the fraction `11/21`).
 * - **Power towers** too large to compute on the same exact base are compared by their exponents
 *   (`3^{3^{3^{3}}}` = `3^{7625597484987}`); smaller ones are evaluated exactly (see `expression.ts`).
 * - **Numerals with a base** (`204_5`, `A3_{16}`) equal the same digits in the same base; a bare numeral is
 *   base 10 (`204` ≠ `204_5`).
 * - **Mixed numbers** as list elements follow the MATH convention (`15\frac{39}{40}` is 639/40); an ellipsis
 *   (`1, 2, 3, \dots`) equals nothing but itself.
 *
 * Atoms are compared in process when possible (canonical string, choice letters, exact rationals, relative
 * tolerance for reals, random-point evaluation for expressions with variables). Pairs the in-process
 * evaluator cannot decide are reported as `unknown`; the scorer hands them to the symbolic worker and re-runs
 * the comparison with its answers.
 */
import { evaluate, isLost, parseExpr, qEqual, rat, samePowerBase, valuesEqual, type Val } from './expression.ts';

/** Three-valued outcome of a comparison. */
export type Tri = 'eq' | 'ne' | 'unknown';

/**
 * Percent policy (what a percent sign, or its absence, means):
 * - `strip` (default): the sign is dropped on both sides: `28\%` equals 28; 0.28 does not equal 28.
 * - `strict`: a percent sign on one side only is a mismatch (`28\%` ≠ 28).
 * - `equivalent`: a written percent may also be read as a fraction: `28\%` equals 28 and 0.28. Without a sign on
 *   either side, 0.28 still does not equal 28.
 * - `scaled`: the prediction also matches gold×100 and gold/100, whatever the signs: 0.05 equals a gold of 5.
 *   This is the `include_percentage=True` rule of ToRA's and Qwen2.5-Math's `math_equal` (microsoft/ToRA
 *   `src/eval/grader.py`); it accepts real errors (a model that divides by 100 by mistake), so use it only to
 *   reproduce published numbers.
 */
export type PercentPolicy = 'strip' | 'strict' | 'equivalent' | 'scaled';

/**
 * Set policy (how unordered answers such as `3, 5, 7`, `\{1, 2\}` or a `\pm` expansion are compared):
 * - `exact` (default): exact-set semantics: every gold element is matched by a predicted element and every
 *   predicted element matches a gold element; order and repetition do not matter (`1, 2` = `2, 1, 2`), a missing
 *   or an extra element is wrong.
 * - `multiset`: like `exact` but counts matter: a one-to-one matching of equal length (`1, 2` ≠ `1, 1, 2`).
 * - `ordered`: bare comma lists are compared element-wise in order (`3, 5` ≠ `5, 3`); braced sets `\{…\}` and
 *   `\pm` expansions stay unordered (`exact`).
 */
export type SetPolicy = 'exact' | 'multiset' | 'ordered';

/** Options of the comparison. `relTol` default 1e-6 (relative only, never absolute). */
export interface CompareOptions {
  relTol: number;
  percent: PercentPolicy;
}

/** A relation operator after normalisation (`>` and `\ge` are kept as written; see {@link relForm}). */
export type RelOp = '<' | '\\le' | '>' | '\\ge' | '=' | '\\ne';

/** A structured answer. */
export type Value =
  | { t: 'set'; items: Value[]; bare?: boolean }
  | { t: 'seq'; open: string; close: string; items: Value[] }
  | { t: 'union'; parts: Value[] }
  | { t: 'matrix'; rows: Value[][]; det?: boolean }
  | { t: 'eqn'; lhs: string; rhs: Value; rhsText: string }
  | { t: 'rel'; op: RelOp; lhs: string; rhs: string; variable: string | null; region: Value | null }
  | { t: 'region'; variable: string; region: Value }
  | { t: 'atom'; s: string };

/** Split at top-level occurrences of `sep` (outside (), [], {} and `\{ \}`). */
export function splitTop(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      if (s[i + 1] === '{' || s[i + 1] === '}') {
        depth += s[i + 1] === '{' ? 1 : -1;
        i++;
        continue;
      }
      if (depth === 0 && s.startsWith(sep, i) && sep.startsWith('\\') && !/[a-zA-Z]/.test(s[i + sep.length] ?? '')) {
        parts.push(s.slice(start, i));
        start = i + sep.length;
        i += sep.length - 1;
      }
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && !sep.startsWith('\\') && s.startsWith(sep, i)) {
      parts.push(s.slice(start, i));
      start = i + sep.length;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** Index of the bracket closing the one at 0 (any of ( [ { closes with any of ) ] } for intervals), or -1. */
function closingOfFirst(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

// ---- labels: what may stand on the left of `label = value` ----
const CONSTANT_CMDS = new Set(['pi', 'infty', 'emptyset', 'varnothing', 'circ', 'cdot', 'times', 'div', 'pm', 'mp', 'sqrt', 'frac', 'dots', 'ldots', 'cdots']);
const SUB = String.raw`(?:_(?:\{[a-zA-Z0-9,]+\}|[a-zA-Z0-9]))?'*`;
const VAR_RE = String.raw`(?:[a-zA-Z]|\\[a-zA-Z]+)${SUB}`;
const LABEL_ONE = String.raw`(?:${VAR_RE}|[a-zA-Z]{2,24}${SUB}|[a-zA-Z](?:\^\{-1\})?\([a-zA-Z0-9,]+\)|\|[a-zA-Z]{1,4}${SUB}\||\\overline\{[A-Z]{1,4}\}|m?\\(?:angle|measuredangle) ?[A-Z]{1,3}|\[[A-Z]{2,4}\]|\\(?:sin|cos|tan|cot|sec|csc)(?: ?[a-zA-Z]|\\[a-zA-Z]+|\([a-zA-Z0-9]+\)))`;
const LABEL_RE = new RegExp(String.raw`^(?:${LABEL_ONE}|\(${LABEL_ONE}(?:,${LABEL_ONE})+\)|${LABEL_ONE}(?::${LABEL_ONE})+)$`);
const LONE_VAR_RE = new RegExp(`^${VAR_RE}$`);

/** A label (`x`, `x_1`, `\theta`, `AB`, `|AB|`, `f(2)`, `(p,q)`, `V_1:V_2`…): the name of a value, not a value. */
export function isLabel(s: string): boolean {
  if (s.length === 0 || s.length > 80 || !LABEL_RE.test(s)) return false;
  const cmd = /^\\([a-zA-Z]+)$/.exec(s);
  return !(cmd && CONSTANT_CMDS.has(cmd[1]!));
}

/** A single variable (`x`, `x_1`, `\theta`), the kind an inequality can be solved for. */
function isLoneVar(s: string): boolean {
  return LONE_VAR_RE.test(s) && isLabel(s) && s !== 'e' && s !== 'i';
}

/** Text with no free variable: it parses without variables, or (unparseable, e.g. `\infty`, `\log_2 3`) has no letter outside commands. */
function isConstantText(s: string): boolean {
  if (s === '') return false;
  const p = parseExpr(s);
  if (p) return p.vars.size === 0;
  return !/[a-zA-Z]/.test(s.replace(/\\[a-zA-Z]+/g, '').replace(/_\{[^{}]*\}|_./g, ''));
}

/** Text that parses with at least one free variable. */
function hasVariables(s: string): boolean {
  const p = parseExpr(s);
  return p !== null && p.vars.size > 0;
}

const REL_CMDS: Record<string, RelOp | '\\approx'> = {
  le: '\\le', leq: '\\le', leqslant: '\\le', leqq: '\\le', lt: '<',
  ge: '\\ge', geq: '\\ge', geqslant: '\\ge', geqq: '\\ge', gt: '>',
  ne: '\\ne', neq: '\\ne', approx: '\\approx',
};

/** Split at top-level relation signs (`= < > \le \ge \ne \approx`); null when there is none. */
export function splitRelations(s: string): { parts: string[]; ops: Array<RelOp | '\\approx'> } | null {
  const parts: string[] = [];
  const ops: Array<RelOp | '\\approx'> = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const m = /^\\([a-zA-Z]+)/.exec(s.slice(i, i + 12));
      if (!m) {
        if (s[i + 1] === '{') depth++;
        else if (s[i + 1] === '}') depth--;
        i++;
        continue;
      }
      const op = REL_CMDS[m[1]!];
      if (op && depth === 0) {
        parts.push(s.slice(start, i));
        ops.push(op);
        start = i + m[0].length;
      }
      i += m[0].length - 1;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && (c === '=' || c === '<' || c === '>')) {
      let op: RelOp = c;
      let len = 1;
      if ((c === '<' || c === '>') && s[i + 1] === '=') {
        op = c === '<' ? '\\le' : '\\ge';
        len = 2;
      }
      parts.push(s.slice(start, i));
      ops.push(op);
      start = i + len;
      i += len - 1;
    }
  }
  if (ops.length === 0) return null;
  parts.push(s.slice(start));
  return { parts: parts.map((x) => x.trim()), ops };
}

const INEQ = new Set<string>(['<', '\\le', '>', '\\ge']);
const isLess = (op: string) => op === '<' || op === '\\le';

/** An interval (as a `seq` value) from its endpoint texts and types. */
function interval(lo: string, loClosed: boolean, hi: string, hiClosed: boolean): Value {
  return { t: 'seq', open: loClosed ? '[' : '(', close: hiClosed ? ']' : ')', items: [{ t: 'atom', s: lo }, { t: 'atom', s: hi }] };
}

/** `\frac{n}{d}` (or `n`) for an exact rational. */
function ratText(q: { n: bigint; d: bigint }): string {
  const neg = q.n < 0n;
  const n = neg ? -q.n : q.n;
  const body = q.d === 1n ? `${n}` : `\\frac{${n}}{${q.d}}`;
  return neg ? `-${body}` : body;
}

/**
 * The region `var op bound` describes (`op` read with the variable on the left): an interval, or for `\ne` the
 * union of two open rays.
 */
function rayRegion(op: RelOp, bound: string): Value | null {
  switch (op) {
    case '<': return interval('-\\infty', false, bound, false);
    case '\\le': return interval('-\\infty', false, bound, true);
    case '>': return interval(bound, false, '\\infty', false);
    case '\\ge': return interval(bound, true, '\\infty', false);
    case '\\ne': return { t: 'union', parts: [interval('-\\infty', false, bound, false), interval(bound, false, '\\infty', false)] };
    default: return null;
  }
}

const FLIP: Record<RelOp, RelOp> = { '<': '>', '>': '<', '\\le': '\\ge', '\\ge': '\\le', '=': '=', '\\ne': '\\ne' };

/**
 * Solve a relation in one variable for the region it describes: a lone variable against a constant
 * (`x < 3`, `3 > x`), or a linear function of one variable against a constant (`-x > -1`, `2x+1 \le 7`), the
 * endpoint then computed exactly where the coefficients are rational. Null when neither applies.
 */
function solveRegion(op: RelOp, lhs: string, rhs: string): { variable: string; region: Value } | null {
  if (op === '=') return null;
  // variable names as the evaluator spells them (`x_{12}` is `x_12`)
  const name = (v: string) => v.replace(/[{}]/g, '');
  if (isLoneVar(lhs) && isConstantText(rhs)) {
    const r = rayRegion(op, rhs);
    return r ? { variable: name(lhs), region: r } : null;
  }
  if (isLoneVar(rhs) && isConstantText(lhs)) {
    const r = rayRegion(FLIP[op], lhs);
    return r ? { variable: name(rhs), region: r } : null;
  }
  // linear in one variable: f(v) = (lhs) - (rhs) = a v + b
  const f = parseExpr(`(${lhs})-(${rhs})`);
  if (!f || f.vars.size !== 1) return null;
  const v = [...f.vars][0]!;
  if (!isLoneVar(v)) return null;
  const at = (x: number | Val) => evaluate(f.node, new Map([[v, x]]));
  const [f0, f1, f2] = [at(rat(0n, 1n)), at(rat(1n, 1n)), at(rat(2n, 1n))];
  // linearity: at the integer points exactly (or to 1e-12), and at two irrational-ish points in floating point
  const lin = (x: number) => f0.f + (f1.f - f0.f) * x;
  for (const x of [0.37, 1.91]) {
    const y = at(x).f;
    if (!Number.isFinite(y) || Math.abs(y - lin(x)) > 1e-9 * Math.max(1, Math.abs(y))) return null;
  }
  let root: string;
  let a: number;
  if (f0.q && f1.q && f2.q) {
    const an = f1.q.n * f0.q.d - f0.q.n * f1.q.d; // a = f1 − f0 over f1.d·f0.d
    const ad = f1.q.d * f0.q.d;
    // exact linearity check: f2 − 2 f1 + f0 = 0
    const second = rat(f2.q.n * f1.q.d * f0.q.d - 2n * f1.q.n * f2.q.d * f0.q.d + f0.q.n * f2.q.d * f1.q.d, f2.q.d * f1.q.d * f0.q.d);
    if (second.q!.n !== 0n || an === 0n) return null;
    // root = −f0 / a
    const r = rat(-f0.q.n * ad, f0.q.d * an);
    root = ratText(r.q!);
    a = an > 0n ? 1 : -1;
  } else {
    a = f1.f - f0.f;
    if (!Number.isFinite(a) || a === 0) return null;
    root = String(-f0.f / a);
  }
  // f < 0 with a > 0 means v < root; with a < 0 it means v > root
  const region = rayRegion(a > 0 ? op : FLIP[op], root);
  return region ? { variable: v, region } : null;
}

/** Regions of relations joined by "or" (`x < -2 \lor x > 3`), when they all are regions of one variable. */
function orRegion(parts: Value[]): Value | null {
  let variable: string | null = null;
  const regions: Value[] = [];
  for (const p of parts) {
    const r = p.t === 'rel' ? p.region : p.t === 'region' ? p.region : null;
    const v = p.t === 'rel' ? p.variable : p.t === 'region' ? p.variable : null;
    if (!r || !v || (variable !== null && v !== variable)) return null;
    variable = v;
    regions.push(...(r.t === 'union' ? r.parts : [r]));
  }
  return variable ? { t: 'region', variable, region: { t: 'union', parts: regions } } : null;
}

/** Parse the relations of a string (equations, chains, inequalities); null when it has no top-level relation sign. */
function parseRelations(s: string, depth: number): Value | null {
  const sp = splitRelations(s);
  if (!sp) return null;
  const { parts, ops } = sp;
  if (ops.every((o) => o === '=' || o === '\\approx')) {
    const k = ops.length;
    // the answer: the last side, or the exact value before a final `\approx` (unless that is a label)
    let vi = k;
    if (ops[k - 1] === '\\approx' && k >= 1 && parts[k - 1] !== '' && !isLabel(parts[k - 1]!)) vi = k - 1;
    const valueText = parts[vi]!;
    if (valueText === '') return null;
    if (k === 1 && ops[0] === '=') {
      const [l, r] = [parts[0]!, parts[1]!];
      if (r === '') return null;
      if (l === '') return parseStructure(r, depth + 1); // `= 5`: the value after a dangling sign
      if (isLabel(l)) return { t: 'eqn', lhs: l, rhs: parseStructure(r, depth + 1), rhsText: r };
      if (isLabel(r)) return { t: 'eqn', lhs: r, rhs: parseStructure(l, depth + 1), rhsText: l };
      // a computation `3+4 = 7`: the right side is the result
      if (isConstantText(l) && isConstantText(r)) return parseStructure(r, depth + 1);
      return { t: 'rel', op: '=', lhs: l, rhs: r, variable: null, region: null };
    }
    const label = parts.slice(0, vi).find((x) => isLabel(x));
    if (label) return { t: 'eqn', lhs: label, rhs: parseStructure(valueText, depth + 1), rhsText: valueText };
    return parseStructure(valueText, depth + 1);
  }
  if (ops.includes('=') || ops.includes('\\approx')) return null;
  if (ops.length === 1) {
    const op = ops[0] as RelOp;
    const [l, r] = [parts[0]!, parts[1]!];
    if (l === '' || r === '') return null;
    const solved = solveRegion(op, l, r);
    return { t: 'rel', op, lhs: l, rhs: r, variable: solved?.variable ?? null, region: solved?.region ?? null };
  }
  if (ops.length === 2 && INEQ.has(ops[0]!) && INEQ.has(ops[1]!) && isLess(ops[0]!) === isLess(ops[1]!)) {
    // a double inequality `a < x \le b` (or `b > x \ge a`) around a lone variable
    const [a, x, b] = parts as [string, string, string];
    if (!isLoneVar(x) || !isConstantText(a) || !isConstantText(b)) return null;
    const less = isLess(ops[0]!);
    const [lo, loOp, hi, hiOp] = less ? [a, ops[0]!, b, ops[1]!] : [b, ops[1]!, a, ops[0]!];
    return { t: 'region', variable: x.replace(/[{}]/g, ''), region: interval(lo, loOp === '\\le' || loOp === '\\ge', hi, hiOp === '\\le' || hiOp === '\\ge') };
  }
  return null;
}

const MATRIX_RE = /^\\begin\{(matrix|[pbvBV]matrix|smallmatrix|array)\}(?:\{[^{}]*\})?([\s\S]*)\\end\{\1\}$/;

/** Flatten `\pm` expansions inside a set: `\{1\pm\sqrt5, -2\}` has three elements. */
function flatten(items: Value[]): Value[] {
  return items.flatMap((v) => (v.t === 'set' && !v.bare ? v.items : [v]));
}

/**
 * Parse a normalised answer into its structure. Bounded: at most 8 `\pm` expansions, recursion depth ≤ 20
 * (deeper inputs become opaque atoms). Never throws.
 */
export function parseStructure(s: string, depth = 0): Value {
  if (depth > 20) return { t: 'atom', s };
  // "x \in [a,b]" → "[a,b]"
  const inM = /^[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?\\in(?![a-zA-Z])/.exec(s);
  if (inM) s = s.slice(inM[0].length).trim();
  if (/^(?:\\mathbb\{?R\}?|\\R|\u211d)$/.test(s)) return interval('-\\infty', false, '\\infty', false);
  // "or" between alternatives: inequalities joined by "or" describe a union; other alternatives are a list
  const ors = splitTop(s, '\\lor').filter((x) => x !== '');
  if (ors.length > 1) {
    const items = ors.map((p) => parseStructure(p, depth + 1));
    return orRegion(items) ?? { t: 'set', bare: true, items: flatten(items) };
  }
  const union = splitTop(s, '\\cup');
  if (union.length > 1) return { t: 'union', parts: union.map((p) => parseStructure(p, depth + 1)) };
  // a matrix, also inside brackets: `\left[\begin{array}{cc}…\end{array}\right]`, `(\begin{pmatrix}…\end{pmatrix})`
  const bare = /^[([]\\begin\{/.test(s) && /\\end\{[a-zA-Z]+\}[)\]]$/.test(s) ? s.slice(1, -1) : s;
  const mat = MATRIX_RE.exec(bare);
  if (mat) {
    const body = mat[2]!.replace(/\\hline|\\cline\{[^{}]*\}/g, '');
    const rows = body.split('\\\\').filter((r) => r.trim() !== '');
    return {
      t: 'matrix', det: mat[1] === 'vmatrix' || mat[1] === 'Vmatrix',
      rows: rows.map((r) => r.split('&').map((c) => parseStructure(c.trim(), depth + 1))),
    };
  }
  if (s.startsWith('\\{') && s.endsWith('\\}')) {
    const inner = s.slice(2, -2);
    return { t: 'set', items: flatten(splitTop(inner, ',').filter((x) => x !== '').map((p) => parseStructure(p, depth + 1))) };
  }
  const first = s[0];
  if ((first === '(' || first === '[') && /[)\]]$/.test(s) && closingOfFirst(s) === s.length - 1) {
    const inner = s.slice(1, -1);
    const items = splitTop(inner, ',');
    if (items.length > 1) return { t: 'seq', open: first, close: s[s.length - 1]!, items: items.map((p) => parseStructure(p, depth + 1)) };
    if (first === '(' && s.endsWith(')')) return parseStructure(inner, depth + 1);
  }
  const list = splitTop(s, ',');
  if (list.length > 1) return { t: 'set', bare: true, items: flatten(list.filter((x) => x !== '').map((p) => parseStructure(p, depth + 1))) };
  // equations, chains, inequalities (see the module comment)
  const rel = parseRelations(s, depth);
  if (rel) return rel;
  // ratios (and times of day): `11:21`, `16:30`
  const ratio = splitTop(s, ':');
  if (ratio.length > 1 && ratio.length <= 4 && ratio.every((x) => x !== '')) {
    return { t: 'seq', open: ':', close: ':', items: ratio.map((p) => parseStructure(p, depth + 1)) };
  }
  // ± expands to a two-element set
  const pm = s.search(/\\(?:pm|mp)(?![a-zA-Z])/);
  if (pm >= 0) {
    const len = 3;
    const a = s.slice(0, pm) + '+' + s.slice(pm + len);
    const b = s.slice(0, pm) + '-' + s.slice(pm + len);
    const fix = (x: string) => x.replace(/^\+/, '').replace(/\+-|-\+/g, '-').replace(/--/g, '+');
    return { t: 'set', items: [parseStructure(fix(a), depth + 1), parseStructure(fix(b), depth + 1)] };
  }
  // a mixed number as an element (`15\frac{39}{40}, \frac{639}{40}`): the MATH convention, as for a whole answer
  const mixed = /^(-?)(\d{1,15})\\frac\{(\d{1,15})\}\{([1-9]\d{0,14})\}$/.exec(s);
  if (mixed) {
    const d = BigInt(mixed[4]!);
    return { t: 'atom', s: `${mixed[1]}\\frac{${BigInt(mixed[2]!) * d + BigInt(mixed[3]!)}}{${d}}` };
  }
  return { t: 'atom', s };
}

/** A multiple-choice letter written as `C`, `(C)`, `C)` or `C.`; else null. */
export function choiceLetter(s: string): string | null {
  const m = /^\(?([A-J])\)?\.?$/.exec(s);
  return m ? m[1]! : null;
}

function kleeneAnd(xs: Tri[]): Tri {
  if (xs.includes('ne')) return 'ne';
  if (xs.includes('unknown')) return 'unknown';
  return 'eq';
}

function kleeneOr(xs: Tri[]): Tri {
  if (xs.includes('eq')) return 'eq';
  if (xs.includes('unknown')) return 'unknown';
  return 'ne';
}

/** Atom comparator: synchronous, three-valued. */
export type AtomComparator = (gold: string, pred: string) => Tri;

/**
 * A relation written as `f op 0` with `op` one of `<`, `\le`, `=`, `\ne` (`a > b` becomes `b − a < 0`).
 * @returns the function's LaTeX text and the operator
 */
export function relForm(op: RelOp, lhs: string, rhs: string): { f: string; op: '<' | '\\le' | '=' | '\\ne' } {
  if (op === '>') return { f: `(${rhs})-(${lhs})`, op: '<' };
  if (op === '\\ge') return { f: `(${rhs})-(${lhs})`, op: '\\le' };
  return { f: `(${lhs})-(${rhs})`, op };
}

let seedState = 0x2545f491;
function rnd(): number {
  // xorshift32, deterministic across runs
  seedState ^= seedState << 13;
  seedState ^= seedState >>> 17;
  seedState ^= seedState << 5;
  return (seedState >>> 0) / 4294967296;
}
const POINTS: number[][] = Array.from({ length: 4 }, () => Array.from({ length: 16 }, () => 0.3 + 2.1 * rnd()));

/**
 * Is `fp` a constant nonzero multiple of `fg` (`fp = c·fg`)? Decided in process at 4 fixed pseudo-random points
 * (ratios equal to 1e-9 relative). `positive`: the constant must be positive (inequalities keep their direction).
 * @returns `eq`, `ne`, or `unknown` when a side does not parse or too few points evaluate.
 */
export function proportional(fg: string, fp: string, positive: boolean): Tri {
  const g = parseExpr(fg);
  const p = parseExpr(fp);
  if (!g || !p) return 'unknown';
  const vars = [...new Set([...g.vars, ...p.vars])].sort();
  if (vars.length === 0 || vars.length > 16) return 'unknown';
  const unsure = vars.includes('i') || vars.includes('e');
  let ratio: number | null = null;
  let compared = 0;
  for (const pt of POINTS) {
    const env = new Map<string, number>(vars.map((v, i) => [v, pt[i]!]));
    const a = evaluate(g.node, env);
    const b = evaluate(p.node, env);
    if (isLost(a) || isLost(b) || !Number.isFinite(a.f) || !Number.isFinite(b.f)) continue;
    if (a.f === 0 || b.f === 0) {
      if (a.f === 0 && b.f === 0) continue;
      return unsure ? 'unknown' : 'ne';
    }
    const r = b.f / a.f;
    compared++;
    if (ratio === null) ratio = r;
    else if (!(Math.abs(r - ratio) <= 1e-9 * Math.max(Math.abs(r), Math.abs(ratio)))) return unsure ? 'unknown' : 'ne';
  }
  if (compared < 2 || ratio === null) return 'unknown';
  if (positive && ratio < 0) return 'ne';
  return 'eq';
}

/** The region (interval or union of intervals) a value describes, with its variable when it has one; else null. */
function regionOf(v: Value): { variable: string | null; region: Value } | null {
  if (v.t === 'rel') return v.region ? { variable: v.variable, region: v.region } : null;
  if (v.t === 'region') return { variable: v.variable, region: v.region };
  if (v.t === 'seq' && v.items.length === 2 && '(['.includes(v.open) && ')]'.includes(v.close)) return { variable: null, region: v };
  if (v.t === 'union' && v.parts.every((x) => regionOf(x) !== null)) return { variable: null, region: v };
  return null;
}

/** The intervals of a region (a union flattened). */
function intervalsOf(v: Value): Value[] {
  if (v.t === 'union') return v.parts.flatMap((x) => { const r = regionOf(x); return r ? intervalsOf(r.region) : [x]; });
  const r = regionOf(v);
  return r && r.region !== v ? intervalsOf(r.region) : [v];
}

/**
 * Compare two structured answers with an atom comparator (Kleene logic for unknowns). Roles: `g` is the gold,
 * `p` the prediction. The rules are listed in the module comment; in short: sets by the {@link SetPolicy}
 * (default exact-set semantics; a set gold with more than one distinct element never equals a scalar prediction,
 * and vice versa); sequences (tuples, intervals, ratios) with the same brackets and length, element-wise; unions
 * of intervals and regions of inequalities as sets of intervals; matrices with the same shape, element-wise;
 * labelled values by their value; relations by {@link proportional}.
 */
export function compareValues(g: Value, p: Value, atom: AtomComparator, sets: SetPolicy = 'exact'): Tri {
  const rec = (a: Value, b: Value): Tri => compareValues(a, b, atom, sets);
  if (g.t === 'atom' && p.t === 'atom') {
    // a relation this parser could not read (`a < b < c < d`) never equals a value without one
    if ((splitRelations(g.s) === null) !== (splitRelations(p.s) === null)) return 'ne';
    return atom(g.s, p.s);
  }
  // labelled values and relations
  if (g.t === 'eqn' && p.t === 'eqn') {
    if (g.lhs === p.lhs) return rec(g.rhs, p.rhs);
    // different labels: the same relation written differently (`y = 2x+3`, `x = (y-3)/2`), else different
    const r = compareRelations('=', g.lhs, g.rhsText, '=', p.lhs, p.rhsText, atom, false);
    return r === 'eq' ? 'eq' : 'ne';
  }
  if (g.t === 'rel' && p.t === 'rel') return compareRel(g, p, atom);
  if (g.t === 'eqn' && p.t === 'rel') return eqnVsRel(g, p, atom);
  if (g.t === 'rel' && p.t === 'eqn') return eqnVsRel(p, g, atom);
  if (g.t === 'eqn' && p.t === 'set' && tupleLabel(g) && p.items.every((x) => x.t === 'eqn')) return rec(tupleLabel(g)!, p);
  if (g.t === 'eqn') return rec(g.rhs, p);
  if (p.t === 'eqn') return rec(g, p.rhs);
  // regions: an inequality against an interval, a union, another region (both directions)
  const gr = regionOf(g);
  const pr = regionOf(p);
  if ((g.t === 'rel' || g.t === 'region' || p.t === 'rel' || p.t === 'region') && gr && pr) {
    if (gr.variable && pr.variable && gr.variable !== pr.variable) return 'ne';
    return compareIntervals(intervalsOf(gr.region), intervalsOf(pr.region), atom, sets);
  }
  if (p.t === 'rel' && p.op === '=') {
    // a prediction `m+n = 293` against a bare gold: its constant side is the answer
    const side = constantSide(p);
    return side === null ? 'ne' : rec(g, parseStructure(side, 1));
  }
  if (g.t === 'rel' || p.t === 'rel' || g.t === 'region' || p.t === 'region') return 'ne';
  if (g.t === 'seq' && g.open === '(' && g.close === ')' && p.t === 'set' && p.bare && p.items.length === g.items.length) {
    // a tuple gold against a bare list (`{1,3}` written with grouping braces): in order
    return kleeneAnd(g.items.map((x, i) => rec(x, p.items[i]!)));
  }
  if (g.t === 'set' && p.t !== 'set') return distinctCount(g.items, atom, sets) === 1 ? rec(g.items[0]!, p) : 'ne';
  if (p.t === 'set' && g.t !== 'set') return distinctCount(p.items, atom, sets) === 1 ? rec(g, p.items[0]!) : 'ne';
  if (g.t === 'set' && p.t === 'set') {
    if (sets === 'ordered' && g.bare && p.bare) {
      if (g.items.length !== p.items.length) return 'ne';
      return kleeneAnd(g.items.map((x, i) => rec(x, p.items[i]!)));
    }
    return compareSets(g.items, p.items, atom, sets);
  }
  if (g.t === 'seq' && p.t === 'seq') {
    if (g.open !== p.open || g.close !== p.close || g.items.length !== p.items.length) return 'ne';
    return kleeneAnd(g.items.map((x, i) => rec(x, p.items[i]!)));
  }
  if (g.t === 'union' && p.t === 'union') return compareIntervals(g.parts, p.parts, atom, sets);
  if (g.t === 'matrix' && p.t === 'matrix') {
    if (Boolean(g.det) !== Boolean(p.det)) return 'ne';
    if (g.rows.length !== p.rows.length || g.rows.some((r, i) => r.length !== p.rows[i]!.length)) return 'ne';
    return kleeneAnd(g.rows.flatMap((r, i) => r.map((x, j) => rec(x, p.rows[i]![j]!))));
  }
  return 'ne';
}

/** Unions of intervals: as sets of intervals (exact-set semantics, whatever the set policy). */
function compareIntervals(gi: Value[], pi: Value[], atom: AtomComparator, sets: SetPolicy): Tri {
  if (gi.length === 1 && pi.length === 1) return compareValues(gi[0]!, pi[0]!, atom, sets);
  return compareSets(gi, pi, atom, sets === 'multiset' ? 'exact' : sets);
}

/** `(p,q) = (3,2)` as the list `p = 3, q = 2`; null when the label is not a tuple matching the value. */
function tupleLabel(e: Extract<Value, { t: 'eqn' }>): Value | null {
  if (!e.lhs.startsWith('(') || e.rhs.t !== 'seq') return null;
  const labels = splitTop(e.lhs.slice(1, -1), ',');
  if (labels.length !== e.rhs.items.length) return null;
  return { t: 'set', bare: true, items: labels.map((l, i) => ({ t: 'eqn', lhs: l, rhs: (e.rhs as { items: Value[] }).items[i]!, rhsText: '' })) };
}

/**
 * The constant side of an equation whose other side names a quantity (`m+n = 293` → `293`, `\frac{p}{q} = 7`):
 * variables without numbers. An equation in standard form (`5x - 7y + 11z + 4 = 0`, `a + b = 0`) names no
 * quantity: null.
 */
function constantSide(r: Extract<Value, { t: 'rel' }>): string | null {
  const names = (x: string) => hasVariables(x) && !/\d/.test(x);
  const nonZero = (x: string) => !/^[-+]?0*(?:\.0*)?$/.test(x);
  if (isConstantText(r.rhs) && nonZero(r.rhs) && names(r.lhs)) return r.rhs;
  if (isConstantText(r.lhs) && nonZero(r.lhs) && names(r.rhs)) return r.lhs;
  return null;
}

/**
 * A labelled value against an equation between expressions: equal as relations only when the labelled value
 * is itself a relation between variables (`y = 2x+3` against `2x - y + 3 = 0`); `x = 5` is a value and does
 * not equal `2x = 10`.
 */
function eqnVsRel(e: Extract<Value, { t: 'eqn' }>, r: Extract<Value, { t: 'rel' }>, atom: AtomComparator): Tri {
  if (r.op !== '=' || !hasVariables(e.rhsText)) return 'ne';
  return compareRelations('=', e.lhs, e.rhsText, '=', r.lhs, r.rhs, atom, true);
}

function compareRel(g: Extract<Value, { t: 'rel' }>, p: Extract<Value, { t: 'rel' }>, atom: AtomComparator): Tri {
  const r = compareRelations(g.op, g.lhs, g.rhs, p.op, p.lhs, p.rhs, atom, !(g.region && p.region));
  if (r !== 'unknown' || !g.region || !p.region) return r;
  // not decidable as functions (an endpoint the evaluator cannot read): compare the regions they describe
  if (g.variable !== p.variable) return 'ne';
  return compareIntervals(intervalsOf(g.region), intervalsOf(p.region), atom, 'exact');
}

/**
 * Two relations `lg opg rg` and `lp opp rp`: the same operator after flipping, and proportional functions
 * ({@link proportional}). When the evaluator cannot read a side, the functions are compared (with their
 * negation for `=` and `\ne`) through the atom comparator (so the symbolic worker decides) if `viaAtoms`.
 */
function compareRelations(opg: RelOp, lg: string, rg: string, opp: RelOp, lp: string, rp: string, atom: AtomComparator, viaAtoms: boolean): Tri {
  const G = relForm(opg, lg, rg);
  const P = relForm(opp, lp, rp);
  if (G.op !== P.op) return 'ne';
  const signed = G.op === '<' || G.op === '\\le';
  const r = proportional(G.f, P.f, signed);
  if (r !== 'unknown' || !viaAtoms) return r;
  return signed ? atom(G.f, P.f) : kleeneOr([atom(G.f, P.f), atom(G.f, `-(${P.f})`)]);
}

/** Number of distinct elements of a set (by the comparator; `multiset` counts every element; unknown pairs count as distinct). */
function distinctCount(items: Value[], atom: AtomComparator, sets: SetPolicy): number {
  if (sets === 'multiset' || items.length > 64) return items.length;
  let n = 0;
  for (let i = 0; i < items.length; i++) {
    let dup = false;
    for (let j = 0; j < i && !dup; j++) dup = compareValues(items[j]!, items[i]!, atom, sets) === 'eq';
    if (!dup) n++;
  }
  return n;
}

function compareSets(gi: Value[], pi: Value[], atom: AtomComparator, sets: SetPolicy): Tri {
  if (gi.length > 64 || pi.length > 64) return 'unknown';
  const m = gi.map((g) => pi.map((p) => compareValues(g, p, atom, sets)));
  if (sets !== 'multiset') {
    // exact-set semantics: every gold element is covered and every predicted element is in the gold set
    const rowEq = m.every((r) => r.includes('eq'));
    const colEq = pi.every((_, j) => m.some((r) => r[j] === 'eq'));
    if (rowEq && colEq) return 'eq';
    const rowNe = m.some((r) => r.every((t) => t === 'ne'));
    const colNe = pi.some((_, j) => m.every((r) => r[j] === 'ne'));
    return rowNe || colNe ? 'ne' : 'unknown';
  }
  if (gi.length !== pi.length) return 'ne';
  const hasMatching = (allowed: (t: Tri) => boolean): boolean => {
    const used = new Array<boolean>(pi.length).fill(false);
    let steps = 0;
    const go = (i: number): boolean => {
      if (i === gi.length) return true;
      if (++steps > 10_000) return false;
      for (let j = 0; j < pi.length; j++) {
        if (!used[j] && allowed(m[i]![j]!)) {
          used[j] = true;
          if (go(i + 1)) return true;
          used[j] = false;
        }
      }
      return false;
    };
    return go(0);
  };
  if (hasMatching((t) => t === 'eq')) return 'eq';
  if (!hasMatching((t) => t !== 'ne')) return 'ne';
  return 'unknown';
}

const INFINITY = /^([-+]?)\\infty$/;
const BASE_NUMERAL = /^([0-9A-Za-z]*\d[0-9A-Za-z]*)_(?:\{(\d{1,2})\}|(\d))$/;
/** A numeral in base 2–36 with a subscript base (`204_5`, `A3_{16}`): every digit below the base; else null. */
function baseNumeral(s: string): RegExpExecArray | null {
  const m = BASE_NUMERAL.exec(s);
  if (!m) return null;
  const b = Number(m[2] ?? m[3]);
  if (b < 2 || b > 36) return null;
  return [...m[1]!].every((c) => parseInt(c, 36) < b) ? m : null;
}
const ELLIPSIS = /^(?:\.{2,}|\\[lc]?dots[cbo]?|\u2026)$/;

/**
 * The in-process atom comparator: canonical string equality (case-insensitive for words), choice letters,
 * infinities (`\infty` equals `+\infty` and nothing finite), then the exact/real evaluator; expressions with variables
 * are compared at 4 fixed pseudo-random points.
 * Returns `unknown` when the evaluator cannot parse a side, or when `i`/`e` (complex unit, Euler's number)
 * make variable-based evaluation unsound.
 */
export function atomInProcess(gold: string, pred: string, opts: CompareOptions, gPct = false, pPct = false): Tri {
  const pctOk = opts.percent !== 'strict' || gPct === pPct;
  if (gold === pred) return pctOk ? 'eq' : 'ne';
  const gl = choiceLetter(gold);
  const pl = choiceLetter(pred);
  if (gl || pl) return gl === pl ? 'eq' : 'ne';
  if (/^[a-zA-Z]{2,}$/.test(gold) || /^[a-zA-Z]{2,}$/.test(pred)) return gold.toLowerCase() === pred.toLowerCase() ? 'eq' : 'ne';
  // an ellipsis (`1, 2, 3, \dots`: an unfinished list) equals nothing but itself
  if (ELLIPSIS.test(gold) || ELLIPSIS.test(pred)) return 'ne';
  // numbers written in a base (`204_5`, `1112112_{3}`): the same base and the same digits; a bare numeral is a
  // base-10 numeral (`204` is not `204_5`, `11` is `11_{10}`)
  const gb = baseNumeral(gold);
  const pb = baseNumeral(pred);
  if ((gb || pb) && (gb || /^\d+$/.test(gold)) && (pb || /^\d+$/.test(pred))) {
    const digits = (m: RegExpExecArray | null, t: string) => (m ? m[1]! : t).replace(/^0+(?=.)/, '').toUpperCase();
    const base = (m: RegExpExecArray | null) => (m ? Number(m[2] ?? m[3]) : null);
    const [bg, bp] = [base(gb) ?? 10, base(pb) ?? 10];
    return bg === bp && digits(gb, gold) === digits(pb, pred) ? 'eq' : 'ne';
  }
  // infinities (interval endpoints): equal only to the same infinity
  const gi = INFINITY.exec(gold);
  const pi = INFINITY.exec(pred);
  if (gi || pi) return gi && pi && (gi[1] === '-') === (pi[1] === '-') ? 'eq' : 'ne';
  const gp = parseExpr(gold);
  const pp = parseExpr(pred);
  if (!gp || !pp) return 'unknown';
  const vars = [...new Set([...gp.vars, ...pp.vars])].sort();
  if (vars.length === 0) {
    const gv = evaluate(gp.node, new Map());
    const pv = evaluate(pp.node, new Map());
    // a float that over/underflowed (`2^{30000}`, `3\\cdot 2^{-30000}`) says nothing: exact rationals may still
    // decide equality; anything else goes to the symbolic worker (never "Infinity equals Infinity")
    const bothExact = gv.q && pv.q && !gv.approx && !pv.approx;
    if (!bothExact && (isLost(gv) || isLost(pv))) {
      if (gv.q && pv.q && qEqual(gv.q, pv.q) && pctOk) return 'eq';
      // towers too large to compute: `3^{3^{3^{3}}}` and `3^{7625597484987}` compared by their exponents
      const towers = samePowerBase(gp, pp);
      if (towers !== null) return towers === 'eq' && pctOk ? 'eq' : 'ne';
      return 'unknown';
    }
    if (Number.isNaN(gv.f) || Number.isNaN(pv.f)) return gv.f !== gv.f && pv.f !== pv.f ? 'unknown' : 'ne';
    if (!pctOk) return 'ne';
    if (valuesEqual(gv, pv, opts.relTol)) return 'eq';
    if (opts.percent === 'scaled') {
      // ToRA / Qwen2.5-Math `math_equal(include_percentage=True)`: the prediction against gold/100 and gold×100
      for (const [mul, div] of [[100n, 1n], [1n, 100n]] as const) {
        const scaled: Val = gv.q ? rat(gv.q.n * mul, gv.q.d * div, gv.approx) : { f: (gv.f * Number(mul)) / Number(div), q: null, approx: true };
        if (valuesEqual(scaled, pv, opts.relTol)) return 'eq';
      }
    }
    if (opts.percent === 'equivalent') {
      const scale = (v: typeof gv, pct: boolean) => (pct ? v.f / 100 : v.f);
      if (gPct !== pPct && Math.abs(scale(gv, gPct) - scale(pv, pPct)) <= opts.relTol * Math.max(Math.abs(scale(gv, gPct)), Math.abs(scale(pv, pPct)))) return 'eq';
    }
    // two exact values (however large: `2^{65536}`) that differ are different
    if (bothExact) return 'ne';
    if (!Number.isFinite(gv.f) || !Number.isFinite(pv.f)) return Number.isFinite(gv.f) !== Number.isFinite(pv.f) ? 'ne' : 'unknown';
    return 'ne';
  }
  if (vars.length > 16) return 'unknown';
  let compared = 0;
  for (const pt of POINTS) {
    const env = new Map(vars.map((v, i) => [v, pt[i]!]));
    const av = evaluate(gp.node, env);
    const bv = evaluate(pp.node, env);
    if (isLost(av) || isLost(bv)) continue;
    const a = av.f;
    const b = bv.f;
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    compared++;
    if (!(Math.abs(a - b) <= Math.max(opts.relTol, 1e-9) * Math.max(Math.abs(a), Math.abs(b)))) {
      return vars.includes('i') || vars.includes('e') ? 'unknown' : 'ne';
    }
  }
  if (compared === 0) return 'unknown';
  return pctOk ? 'eq' : 'ne';
}

/** Collect the atom pairs a comparison left `unknown` (for the symbolic worker). */
export function unknownPairs(g: Value, p: Value, atom: AtomComparator, sets: SetPolicy = 'exact'): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  compareValues(g, p, (a, b) => {
    const r = atom(a, b);
    const key = a + '\u0000' + b;
    if (r === 'unknown' && out.length < 32 && !seen.has(key)) {
      seen.add(key);
      out.push([a, b]);
    }
    return r;
  }, sets);
  return out;
}

