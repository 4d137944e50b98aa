/**
 * A small, safe, in-process evaluator for the common shapes of math answers: numbers, `+ - * /`, `\cdot`,
 * `\times`, `\div`, `^`, `\frac`, `\sqrt`, `\pi`, implicit multiplication, parentheses, elementary functions and
 * free variables. It keeps **exact rationals** (BigInt) where it can (so `2/3` is two thirds and `1/2^{98}` is not
 * `1/2^{99}`), and falls back to floats otherwise. Every operation is bounded: exact powers are only computed
 * when the result stays under {@link MAX_EXACT_BITS} bits, any other exact result over {@link MAX_RESULT_BITS}
 * bits becomes a float marked lost, fractions are reduced only while the reduction is cheap, and anything
 * unsupported makes the parse fail (the caller then hands the pair to the symbolic worker).
 *
 * Cost bounds (measured on Node 20, one core): an exact power at the cap (`3^{165000}`, 262,000 bits) takes about
 * 10 ms; a product of two such values about 3 ms. So a power tower whose value is cheap (`2^{2^{2^{2^{2}}}}` =
 * `2^{65536}`) is evaluated exactly, and one whose value is not (`2^{2^{2^{2^{2^{2}}}}}`) is a lost float.
 */

/** Exact powers whose result would exceed this many bits (2^18, about 79,000 decimal digits) are computed in floating point instead. */
export const MAX_EXACT_BITS = 262_144;
/**
 * All the large exact powers of one evaluation together may have at most this many bits (four powers at the cap,
 * about 40 ms); later ones are computed in floating point. So an answer of 130 powers `3^{165000}` costs
 * milliseconds, not seconds.
 */
export const EXACT_BUDGET_BITS = 4 * MAX_EXACT_BITS;
/** Any other exact result (sum, product, quotient) over this many bits becomes a float marked lost. */
export const MAX_RESULT_BITS = 2 * MAX_EXACT_BITS;
/**
 * Fractions are reduced (gcd) only when the smaller of numerator and denominator has at most this many bits:
 * Euclid's algorithm on two 20,000-bit numbers takes about 85 ms, on two 4,096-bit numbers about 3 ms. Larger
 * fractions stay unreduced; equality is decided by cross-multiplication ({@link qEqual}), never by components.
 */
export const MAX_GCD_BITS = 4096;

/**
 * A value: `f` as a float, `q` as an exact rational when known; `approx` when a decimal literal or a float op was
 * involved; `lost` when the float overflowed or underflowed on the way (`2^{30000}`, `e^{-1000}`, a product with
 * such a value), so that `f` says nothing about the value and two such floats must never be called equal.
 */
export interface Val {
  f: number;
  q: { n: bigint; d: bigint } | null;
  approx: boolean;
  lost?: boolean;
}

/**
 * Has this value's float lost the value (over/underflow, here or in an operand)? Exact values whose float is
 * 0 or infinite count too (their rational is still exact, but a float operation on them is not).
 */
export function isLost(v: Val): boolean {
  if (v.lost) return true;
  if (v.q) return (v.f === 0 && v.q.n !== 0n) || v.f === Infinity || v.f === -Infinity;
  return false;
}

type Node =
  | { t: 'num'; v: Val }
  | { t: 'var'; name: string }
  | { t: 'bin'; op: '+' | '-' | '*' | '/' | '^'; a: Node; b: Node }
  | { t: 'neg'; a: Node }
  | { t: 'fn'; name: string; a: Node }
  | { t: 'root'; a: Node; k: Node | null };

const FUNCS = new Set([
  'sin', 'cos', 'tan', 'cot', 'sec', 'csc', 'ln', 'log', 'exp', 'arcsin', 'arccos', 'arctan', 'sinh', 'cosh', 'tanh',
]);
const GREEK = new Set([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta', 'lambda', 'mu',
  'nu', 'xi', 'rho', 'sigma', 'tau', 'phi', 'varphi', 'chi', 'psi', 'omega', 'Gamma', 'Delta', 'Theta', 'Lambda',
  'Sigma', 'Phi', 'Psi', 'Omega',
]);

function bitLen(x: bigint): number {
  if (x < 0n) x = -x;
  if (x < 0x20000000000000n) return x === 0n ? 0 : Math.floor(Math.log2(Number(x))) + 1;
  const h = x.toString(16);
  return (h.length - 1) * 4 + Math.floor(Math.log2(parseInt(h[0]!, 16))) + 1;
}
/** log2 of |x| for x ≠ 0 (exact enough to size a power: within one bit). */
function log2Abs(x: bigint): number {
  const b = bitLen(x);
  if (b <= 1000) return Math.log2(Math.abs(Number(x)));
  return b;
}
function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}
function ratToFloat(n: bigint, d: bigint): number {
  const shift = Math.max(0, Math.max(bitLen(n), bitLen(d)) - 1000);
  const s = BigInt(shift);
  return Number(n >> s) / Number(d >> s);
}
/**
 * Build an exact value n/d (d ≠ 0): the denominator made positive, reduced when that is cheap (see
 * {@link MAX_GCD_BITS}); compare with {@link qEqual}, never by components.
 */
export function rat(n: bigint, d: bigint, approx = false): Val {
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  if (d !== 1n && Math.min(bitLen(n), bitLen(d)) <= MAX_GCD_BITS) {
    const g = gcd(n, d) || 1n;
    n /= g;
    d /= g;
  }
  return { f: ratToFloat(n, d), q: { n, d }, approx };
}

/** Exact equality of two rationals n/d (denominators positive; reduced or not), by cross-multiplication. */
export function qEqual(a: { n: bigint; d: bigint }, b: { n: bigint; d: bigint }): boolean {
  if (a.d === b.d) return a.n === b.n;
  return a.n * b.d === b.n * a.d;
}
function float(f: number, lost = false): Val {
  return lost ? { f, q: null, approx: true, lost: true } : { f, q: null, approx: true };
}
/** A float result of an operation on `inputs`: lost when an input was, or when it over/underflowed here. */
function floatOf(r: number, inputs: Val[], zeroIsLoss: boolean): Val {
  const lost = inputs.some(isLost) || r === Infinity || r === -Infinity || (zeroIsLoss && r === 0 && inputs.every((v) => v.f !== 0));
  return float(r, lost);
}

/** Parse a decimal literal (`12`, `0.15`, `.35625`, `025`) into an exact value; `approx` is set for decimals with a fractional part. */
export function parseDecimal(s: string): Val | null {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === '' && !m[3])) return null;
  const frac = m[3] ?? '';
  const n = BigInt((m[2] || '0') + frac) * (m[1] ? -1n : 1n);
  const d = 10n ** BigInt(frac.length);
  return rat(n, d, /[1-9]/.test(frac));
}

type Tok = string;

function tokenize(s: string): Tok[] | null {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ') {
      i++;
      continue;
    }
    if (c === '\\') {
      const m = /^\\([a-zA-Z]+|.)/.exec(s.slice(i, i + 40));
      if (!m) return null;
      out.push(m[0]);
      i += m[0].length;
      continue;
    }
    if (/[0-9.]/.test(c)) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)/.exec(s.slice(i, i + 400));
      if (!m) return null;
      out.push(m[0]);
      i += m[0].length;
      continue;
    }
    if (/[a-zA-Z+\-*/^_(){}[\]]/.test(c)) {
      out.push(c);
      i++;
      continue;
    }
    return null;
  }
  return out;
}

class Parser {
  i = 0;
  depth = 0;
  constructor(private toks: Tok[]) {}
  peek(): Tok | undefined {
    return this.toks[this.i];
  }
  next(): Tok {
    const t = this.toks[this.i++];
    if (t === undefined) throw new Error('eof');
    return t;
  }
  expect(t: Tok): void {
    if (this.next() !== t) throw new Error(`expected ${t}`);
  }
  parseAll(): Node {
    const n = this.expr();
    if (this.i !== this.toks.length) throw new Error('trailing');
    return n;
  }
  expr(): Node {
    if (++this.depth > 200) throw new Error('too deep');
    let a = this.term();
    for (;;) {
      const t = this.peek();
      if (t === '+' || t === '-') {
        this.i++;
        a = { t: 'bin', op: t, a, b: this.term() };
      } else break;
    }
    this.depth--;
    return a;
  }
  term(): Node {
    let a = this.unary();
    for (;;) {
      const t = this.peek();
      if (t === '*' || t === '\\cdot' || t === '\\times') {
        this.i++;
        a = { t: 'bin', op: '*', a, b: this.unary() };
      } else if (t === '/' || t === '\\div') {
        this.i++;
        a = { t: 'bin', op: '/', a, b: this.unary() };
      } else if (t !== undefined && this.startsPrimary(t)) {
        a = { t: 'bin', op: '*', a, b: this.power() };
      } else break;
    }
    return a;
  }
  startsPrimary(t: Tok): boolean {
    if (/^[0-9.]/.test(t) || /^[a-zA-Z]$/.test(t) || t === '(' || t === '{') return true;
    if (t.startsWith('\\')) {
      const c = t.slice(1);
      return c === 'frac' || c === 'sqrt' || c === 'pi' || FUNCS.has(c) || GREEK.has(c);
    }
    return false;
  }
  unary(): Node {
    const t = this.peek();
    if (t === '-') {
      this.i++;
      return { t: 'neg', a: this.unary() };
    }
    if (t === '+') {
      this.i++;
      return this.unary();
    }
    return this.power();
  }
  power(): Node {
    const base = this.primary();
    if (this.peek() === '^') {
      this.i++;
      const e = this.peek() === '-' ? (this.i++, { t: 'neg', a: this.primaryArg() } as Node) : this.primaryArg();
      return { t: 'bin', op: '^', a: base, b: e };
    }
    return base;
  }
  /** A braced group or a single token (exponent, fraction argument). */
  primaryArg(): Node {
    const t = this.peek();
    if (t === '{') return this.primary();
    if (t !== undefined && /^\d+/.test(t)) {
      // `x^23` means x^{2}3 in LaTeX; take one digit
      this.i++;
      if (t.length > 1 && !t.includes('.')) {
        this.toks.splice(this.i, 0, t.slice(1));
        return { t: 'num', v: parseDecimal(t[0]!)! };
      }
      return { t: 'num', v: parseDecimal(t)! };
    }
    return this.primary();
  }
  primary(): Node {
    if (++this.depth > 200) throw new Error('too deep');
    const t = this.next();
    let r: Node;
    if (t === '(' || t === '{' || t === '[') {
      const close = t === '(' ? ')' : t === '{' ? '}' : ']';
      r = this.expr();
      this.expect(close);
    } else if (/^[0-9.]/.test(t)) {
      const v = parseDecimal(t);
      if (!v) throw new Error('bad number');
      r = { t: 'num', v };
    } else if (/^[a-zA-Z]$/.test(t)) {
      let name = t;
      if (this.peek() === '_') {
        this.i++;
        const s = this.next();
        if (s === '{') {
          let sub = '';
          while (this.peek() !== '}') sub += this.next();
          this.i++;
          name += '_' + sub;
        } else name += '_' + s;
      }
      r = { t: 'var', name };
    } else if (t === '\\frac') {
      const a = this.primaryArg();
      const b = this.primaryArg();
      r = { t: 'bin', op: '/', a, b };
    } else if (t === '\\sqrt') {
      let k: Node | null = null;
      if (this.peek() === '[') {
        this.i++;
        k = this.expr();
        this.expect(']');
      }
      r = { t: 'root', a: this.primaryArg(), k };
    } else if (t === '\\pi') {
      r = { t: 'var', name: '\\pi' };
    } else if (t.startsWith('\\') && GREEK.has(t.slice(1))) {
      r = { t: 'var', name: t };
    } else if (t.startsWith('\\') && FUNCS.has(t.slice(1))) {
      let pow: Node | null = null;
      if (this.peek() === '^') {
        this.i++;
        pow = this.primaryArg();
      }
      const arg = this.peek() === '(' || this.peek() === '{' ? this.primary() : this.power();
      r = { t: 'fn', name: t.slice(1), a: arg };
      if (pow) r = { t: 'bin', op: '^', a: r, b: pow };
    } else throw new Error(`unsupported ${t}`);
    this.depth--;
    return r;
  }
}

/** A parsed expression ready for evaluation, with its free variables. */
export interface Parsed {
  node: Node;
  vars: Set<string>;
}

/**
 * Parse a normalised answer into an expression tree, or return null when it uses anything this evaluator
 * does not support (the caller then falls back to the symbolic worker).
 */
export function parseExpr(s: string): Parsed | null {
  if (s.length > 2000) return null;
  const toks = tokenize(s);
  if (!toks || toks.length === 0) return null;
  try {
    const node = new Parser(toks).parseAll();
    const vars = new Set<string>();
    const walk = (n: Node): void => {
      if (n.t === 'var' && n.name !== '\\pi') vars.add(n.name);
      else if (n.t === 'bin') {
        walk(n.a);
        walk(n.b);
      } else if (n.t === 'neg' || n.t === 'fn') walk(n.a);
      else if (n.t === 'root') {
        walk(n.a);
        if (n.k) walk(n.k);
      }
    };
    walk(node);
    return { node, vars };
  } catch {
    return null;
  }
}

function isqrt(n: bigint): bigint | null {
  if (n < 0n) return null;
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  if (bitLen(n) > 100) {
    // Newton from above
    x = 1n << BigInt(Math.ceil(bitLen(n) / 2));
    for (;;) {
      const y = (x + n / x) >> 1n;
      if (y >= x) break;
      x = y;
    }
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x * x === n ? x : null;
}

/**
 * The value of an exact integer power base^e (e ≥ 0), or null when it would exceed {@link MAX_EXACT_BITS} bits
 * or the evaluation's remaining budget of exact power bits ({@link EXACT_BUDGET_BITS}).
 */
function exactPow(base: bigint, e: bigint, budget: { bits: number }): bigint | null {
  if (e === 0n) return 1n;
  if (base === 0n || base === 1n) return base;
  if (base === -1n) return e % 2n === 0n ? 1n : -1n;
  if (e > BigInt(MAX_EXACT_BITS)) return null;
  const bits = log2Abs(base) * Number(e);
  if (bits > MAX_EXACT_BITS || bits > budget.bits) return null;
  // small powers are free; large ones draw on the budget (a 262,000-bit power costs about 10 ms)
  if (bits > 4096) budget.bits -= bits;
  return base ** e;
}

/** An exact result, or a lost float when it is over {@link MAX_RESULT_BITS} bits (never computed at that size). */
function boundedRat(n: () => bigint, d: () => bigint, sizeN: number, sizeD: number, f: () => number, approx: boolean): Val {
  if (sizeN > MAX_RESULT_BITS || sizeD > MAX_RESULT_BITS) return float(f(), true);
  return rat(n(), d(), approx);
}

/**
 * Evaluate a parsed expression with the given variable values: floats, or exact values ({@link Val}) when a caller
 * needs exact arithmetic at a rational point (solving a linear inequality for its endpoint).
 * Exact rational arithmetic for `+ - * /` and bounded integer powers ({@link MAX_EXACT_BITS}); floats otherwise.
 * Division by zero gives NaN. Never throws on well-formed trees; every step is bounded in size.
 */
export function evaluate(n: Node, env: Map<string, number | Val>): Val {
  return ev(n, env, { bits: EXACT_BUDGET_BITS });
}

function ev(n: Node, env: Map<string, number | Val>, budget: { bits: number }): Val {
  const evaluate = (m: Node, e: Map<string, number | Val>) => ev(m, e, budget);
  switch (n.t) {
    case 'num':
      return n.v;
    case 'var': {
      if (n.name === '\\pi') return float(Math.PI);
      const v = env.get(n.name);
      if (typeof v === 'object') return v;
      return float(v === undefined ? NaN : v);
    }
    case 'neg': {
      const a = evaluate(n.a, env);
      return a.q ? { f: -a.f, q: { n: -a.q.n, d: a.q.d }, approx: a.approx } : float(-a.f, isLost(a));
    }
    case 'root': {
      const a = evaluate(n.a, env);
      const k = n.k ? evaluate(n.k, env) : rat(2n, 1n);
      if (k.q && k.q.d === 1n && k.q.n === 2n && a.q && bitLen(a.q.n) <= 20_000 && bitLen(a.q.d) <= 20_000) {
        const rn = isqrt(a.q.n);
        const rd = isqrt(a.q.d);
        if (rn !== null && rd !== null) return rat(rn, rd, a.approx);
      }
      if (k.f === 3 && a.f < 0) return floatOf(-Math.cbrt(-a.f), [a, k], true);
      return floatOf(Math.pow(a.f, 1 / k.f), [a, k], true);
    }
    case 'fn': {
      const av = evaluate(n.a, env);
      const a = av.f;
      const f: Record<string, (x: number) => number> = {
        sin: Math.sin, cos: Math.cos, tan: Math.tan, cot: (x) => 1 / Math.tan(x), sec: (x) => 1 / Math.cos(x),
        csc: (x) => 1 / Math.sin(x), ln: Math.log, log: Math.log10, exp: Math.exp, arcsin: Math.asin,
        arccos: Math.acos, arctan: Math.atan, sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh,
      };
      return floatOf(f[n.name]!(a), [av], n.name === 'exp');
    }
    case 'bin': {
      const a = evaluate(n.a, env);
      const b = evaluate(n.b, env);
      const approx = a.approx || b.approx;
      if (n.op === '^') {
        if (a.q && b.q && b.q.d === 1n) {
          const e = b.q.n < 0n ? -b.q.n : b.q.n;
          const pn = exactPow(a.q.n, e, budget);
          const pd = pn === null ? null : exactPow(a.q.d, e, budget);
          if (pn !== null && pd !== null) {
            if (b.q.n < 0n) {
              if (a.q.n === 0n) return float(NaN);
              return rat(pd, pn, approx);
            }
            // a reduced fraction stays reduced under a power: no gcd needed
            return { f: ratToFloat(pn, pd), q: { n: pn, d: pd }, approx };
          }
        }
        return floatOf(Math.pow(a.f, b.f), [a, b], true);
      }
      if (a.q && b.q) {
        const { n: an, d: ad } = a.q;
        const { n: bn, d: bd } = b.q;
        const [la, lb, lc, ld] = [bitLen(an), bitLen(ad), bitLen(bn), bitLen(bd)];
        const fr = () => (n.op === '+' ? a.f + b.f : n.op === '-' ? a.f - b.f : n.op === '*' ? a.f * b.f : a.f / b.f);
        if (n.op === '+' || n.op === '-') {
          if (ad === bd) return boundedRat(() => (n.op === '+' ? an + bn : an - bn), () => ad, Math.max(la, lc) + 1, lb, fr, approx);
          return boundedRat(() => (n.op === '+' ? an * bd + bn * ad : an * bd - bn * ad), () => ad * bd, Math.max(la + ld, lc + lb) + 1, lb + ld, fr, approx);
        }
        if (n.op === '*') return boundedRat(() => an * bn, () => ad * bd, la + lc, lb + ld, fr, approx);
        if (bn === 0n) return float(NaN);
        return boundedRat(() => an * bd, () => ad * bn, la + ld, lb + lc, fr, approx);
      }
      const r = n.op === '+' ? a.f + b.f : n.op === '-' ? a.f - b.f : n.op === '*' ? a.f * b.f : a.f / b.f;
      return floatOf(r, [a, b], n.op === '*' || n.op === '/');
    }
  }
}

/**
 * Two powers with the same exact positive base other than 1, `b^x` and `b^y`, are equal exactly when their
 * exponents are: compare the exponents (recursively, for towers whose value is too large to compute:
 * `3^{3^{3^{3}}}` against `3^{7625597484987}`, `2^{2^{2^{2^{2^{2}}}}}` against `2^{2^{65536}}`). At most 8 levels.
 * @returns `eq` or `ne` when decided, null when the expressions are not two such powers or an exponent is not exact
 */
export function samePowerBase(a: Parsed, b: Parsed): 'eq' | 'ne' | null {
  const empty = new Map<string, number>();
  const go = (x: Node, y: Node, depth: number): 'eq' | 'ne' | null => {
    if (depth > 8 || x.t !== 'bin' || x.op !== '^' || y.t !== 'bin' || y.op !== '^') return null;
    const bx = evaluate(x.a, empty);
    const by = evaluate(y.a, empty);
    if (!bx.q || !by.q || bx.approx || by.approx || !qEqual(bx.q, by.q) || bx.q.n <= 0n || bx.q.n === bx.q.d) return null;
    const ex = evaluate(x.b, empty);
    const ey = evaluate(y.b, empty);
    if (ex.q && ey.q && !ex.approx && !ey.approx) return qEqual(ex.q, ey.q) ? 'eq' : 'ne';
    return go(x.b, y.b, depth + 1);
  };
  if (a.vars.size > 0 || b.vars.size > 0) return null;
  return go(a.node, b.node, 0);
}

/** Relative closeness: |a−b| ≤ relTol·max(|a|,|b|) (no absolute tolerance; 0 only equals 0). */
export function relClose(a: number, b: number, relTol: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= relTol * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Compare two values: exactly when both are exact and neither came from a decimal literal or a float
 * operation; else by relative tolerance.
 */
export function valuesEqual(a: Val, b: Val, relTol: number): boolean {
  if (a.q && b.q && !a.approx && !b.approx) return qEqual(a.q, b.q);
  if (a.q && b.q && qEqual(a.q, b.q)) return true;
  return relClose(a.f, b.f, relTol);
}
