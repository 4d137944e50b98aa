/**
 * Comparison of a normalised gold answer with a normalised prediction. Roles are explicit: `gold` first,
 * `prediction` second, never swapped (a set gold requires the whole set; a scalar gold does not accept a set).
 *
 * Structure recognised (see {@link parseStructure}): unordered sets (`\{…\}`, bare comma lists, `\pm`
 * expansions), ordered brackets (tuples and intervals with their endpoint types: `[2,5)` ≠ `(2,5)`), unions of
 * intervals, matrices, equations (`x = …` compared by right-hand side), and scalar atoms.
 *
 * Atoms are compared in process when possible (canonical string, choice letters, exact rationals, relative
 * tolerance for reals, random-point evaluation for expressions with variables). Pairs the in-process
 * evaluator cannot decide are reported as `unknown`; the scorer hands them to the symbolic worker and re-runs
 * the comparison with its answers.
 */
import { evaluate, isLost, parseExpr, rat, valuesEqual, type Val } from './evaluate.ts';

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

/** A structured answer. */
export type Value =
  | { t: 'set'; items: Value[]; bare?: boolean }
  | { t: 'seq'; open: string; close: string; items: Value[] }
  | { t: 'union'; parts: Value[] }
  | { t: 'matrix'; rows: Value[][] }
  | { t: 'eqn'; lhs: string; rhs: Value }
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

const SIMPLE_LHS = /^(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|\\[a-zA-Z]+|[a-zA-Z]\([a-zA-Z]\))$/;

/** Flatten `\pm` expansions inside a set: `\{1\pm\sqrt5, -2\}` has three elements. */
function flatten(items: Value[]): Value[] {
  return items.flatMap((v) => (v.t === 'set' ? v.items : [v]));
}

/**
 * Parse a normalised answer into its structure. Bounded: at most 8 `\pm` expansions, recursion depth ≤ 20
 * (deeper inputs become opaque atoms).
 */
export function parseStructure(s: string, depth = 0): Value {
  if (depth > 20) return { t: 'atom', s };
  // "x \in [a,b]" → "[a,b]"
  const inM = /^[a-zA-Z]\\in(?![a-zA-Z])/.exec(s);
  if (inM) s = s.slice(inM[0].length).trim();
  const union = splitTop(s, '\\cup');
  if (union.length > 1) return { t: 'union', parts: union.map((p) => parseStructure(p, depth + 1)) };
  const mat = /^\\begin\{([pbvB]?matrix|array)\}(?:\{[^}]*\})?([\s\S]*)\\end\{\1\}$/.exec(s);
  if (mat) {
    const rows = mat[2]!.split('\\\\').filter((r) => r.trim() !== '');
    return { t: 'matrix', rows: rows.map((r) => r.split('&').map((c) => parseStructure(c.trim(), depth + 1))) };
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
  // equations: "y = 2x+3" → "2x+3" when the left side is a single variable (`2x+3 = y` likewise); the variable
  // is kept so that two equations with different left sides (`x = 5` vs `y = 5`) do not match
  const eq = splitTop(s, '=');
  if (eq.length === 2 && SIMPLE_LHS.test(eq[0]!)) return { t: 'eqn', lhs: eq[0]!, rhs: parseStructure(eq[1]!, depth + 1) };
  if (eq.length === 2 && SIMPLE_LHS.test(eq[1]!) && !SIMPLE_LHS.test(eq[0]!)) return { t: 'eqn', lhs: eq[1]!, rhs: parseStructure(eq[0]!, depth + 1) };
  // ± expands to a two-element set
  const pm = s.search(/\\(?:pm|mp)(?![a-zA-Z])/);
  if (pm >= 0) {
    const len = 3;
    const a = s.slice(0, pm) + '+' + s.slice(pm + len);
    const b = s.slice(0, pm) + '-' + s.slice(pm + len);
    const fix = (x: string) => x.replace(/^\+/, '').replace(/\+-|-\+/g, '-').replace(/--/g, '+');
    return { t: 'set', items: [parseStructure(fix(a), depth + 1), parseStructure(fix(b), depth + 1)] };
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

/** Atom comparator: synchronous, three-valued. */
export type AtomComparator = (gold: string, pred: string) => Tri;

/**
 * Compare two structured answers with an atom comparator (Kleene logic for unknowns). Roles: `g` is the gold,
 * `p` the prediction. Sets: by the {@link SetPolicy} (default exact-set semantics); a set gold with more than one
 * distinct element never equals a scalar prediction, and vice versa. Sequences (tuples, intervals): same
 * brackets (so endpoint types count), same length, element-wise; unions: part-wise in order; matrices: same
 * shape, element-wise; equations: same left-hand variable, then right-hand sides (an equation against a bare
 * expression compares its right-hand side).
 */
export function compareValues(g: Value, p: Value, atom: AtomComparator, sets: SetPolicy = 'exact'): Tri {
  const rec = (a: Value, b: Value): Tri => compareValues(a, b, atom, sets);
  if (g.t === 'atom' && p.t === 'atom') return atom(g.s, p.s);
  // equations: same left-hand variable, then right-hand sides; an equation against a bare value compares its RHS
  if (g.t === 'eqn' && p.t === 'eqn') return g.lhs === p.lhs ? rec(g.rhs, p.rhs) : 'ne';
  if (g.t === 'eqn') return rec(g.rhs, p);
  if (p.t === 'eqn') return rec(g, p.rhs);
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
  if (g.t === 'union' && p.t === 'union') {
    if (g.parts.length !== p.parts.length) return 'ne';
    return kleeneAnd(g.parts.map((x, i) => rec(x, p.parts[i]!)));
  }
  if (g.t === 'matrix' && p.t === 'matrix') {
    if (g.rows.length !== p.rows.length || g.rows.some((r, i) => r.length !== p.rows[i]!.length)) return 'ne';
    return kleeneAnd(g.rows.flatMap((r, i) => r.map((x, j) => rec(x, p.rows[i]![j]!))));
  }
  return 'ne';
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
 * The in-process atom comparator: canonical string equality (case-insensitive for words), choice letters,
 * then the exact/real evaluator; expressions with variables are compared at 4 fixed pseudo-random points.
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
      return gv.q && pv.q && gv.q.n === pv.q.n && gv.q.d === pv.q.d && pctOk ? 'eq' : 'unknown';
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

