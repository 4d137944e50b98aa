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
import { evaluate, parseExpr, valuesEqual } from './evaluate.ts';

/** Three-valued outcome of a comparison. */
export type Tri = 'eq' | 'ne' | 'unknown';

/** Percent policy: `strip` (default: `28\%` equals 28), `strict` (a percent on one side only is a mismatch), `equivalent` (`28\%` equals 28 and 0.28). */
export type PercentPolicy = 'strip' | 'strict' | 'equivalent';

/** Options of the comparison. `relTol` default 1e-6 (relative only, never absolute). */
export interface CompareOptions {
  relTol: number;
  percent: PercentPolicy;
}

/** A structured answer. */
export type Value =
  | { t: 'set'; items: Value[] }
  | { t: 'seq'; open: string; close: string; items: Value[] }
  | { t: 'union'; parts: Value[] }
  | { t: 'matrix'; rows: Value[][] }
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
  if (list.length > 1) return { t: 'set', items: flatten(list.filter((x) => x !== '').map((p) => parseStructure(p, depth + 1))) };
  // equations: "y = 2x+3" → "2x+3" when the left side is a single variable
  const eq = splitTop(s, '=');
  if (eq.length === 2 && SIMPLE_LHS.test(eq[0]!)) return parseStructure(eq[1]!, depth + 1);
  if (eq.length === 2 && SIMPLE_LHS.test(eq[1]!) && !SIMPLE_LHS.test(eq[0]!)) return parseStructure(eq[0]!, depth + 1);
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
 * Compare two structured answers with an atom comparator (Kleene logic for unknowns). Sets: exact-set semantics
 * (every gold element matched by a distinct predicted element and nothing extra); sequences: same brackets,
 * same length, element-wise; unions: part-wise in order; matrices: same shape, element-wise.
 */
export function compareValues(g: Value, p: Value, atom: AtomComparator): Tri {
  if (g.t === 'atom' && p.t === 'atom') return atom(g.s, p.s);
  if (g.t === 'set' && p.t !== 'set') return g.items.length === 1 ? compareValues(g.items[0]!, p, atom) : 'ne';
  if (p.t === 'set' && g.t !== 'set') return p.items.length === 1 ? compareValues(g, p.items[0]!, atom) : 'ne';
  if (g.t === 'set' && p.t === 'set') return compareSets(g.items, p.items, atom);
  if (g.t === 'seq' && p.t === 'seq') {
    if (g.open !== p.open || g.close !== p.close || g.items.length !== p.items.length) return 'ne';
    return kleeneAnd(g.items.map((x, i) => compareValues(x, p.items[i]!, atom)));
  }
  if (g.t === 'union' && p.t === 'union') {
    if (g.parts.length !== p.parts.length) return 'ne';
    return kleeneAnd(g.parts.map((x, i) => compareValues(x, p.parts[i]!, atom)));
  }
  if (g.t === 'matrix' && p.t === 'matrix') {
    if (g.rows.length !== p.rows.length || g.rows.some((r, i) => r.length !== p.rows[i]!.length)) return 'ne';
    return kleeneAnd(g.rows.flatMap((r, i) => r.map((x, j) => compareValues(x, p.rows[i]![j]!, atom))));
  }
  return 'ne';
}

function compareSets(gi: Value[], pi: Value[], atom: AtomComparator): Tri {
  if (gi.length !== pi.length || gi.length > 64) return gi.length === pi.length ? 'unknown' : 'ne';
  const m = gi.map((g) => pi.map((p) => compareValues(g, p, atom)));
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
    if (Number.isNaN(gv.f) || Number.isNaN(pv.f)) return gv.f !== gv.f && pv.f !== pv.f ? 'unknown' : 'ne';
    if (!pctOk) return 'ne';
    if (valuesEqual(gv, pv, opts.relTol)) return 'eq';
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
    const a = evaluate(gp.node, env).f;
    const b = evaluate(pp.node, env).f;
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
export function unknownPairs(g: Value, p: Value, atom: AtomComparator): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  compareValues(g, p, (a, b) => {
    const r = atom(a, b);
    if (r === 'unknown' && out.length < 32) out.push([a, b]);
    return r;
  });
  return out;
}

