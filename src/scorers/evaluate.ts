/**
 * A small, safe, in-process evaluator for the common shapes of math answers: numbers, `+ - * /`, `\cdot`,
 * `\times`, `\div`, `^`, `\frac`, `\sqrt`, `\pi`, implicit multiplication, parentheses, elementary functions and
 * free variables. It keeps **exact rationals** (BigInt) where it can (so `2/3` is two thirds and `1/2^{98}` is not
 * `1/2^{99}`), and falls back to floats otherwise. Every operation is bounded: exact powers are only computed
 * when the result stays under {@link MAX_EXACT_BITS} bits, and anything unsupported makes the parse fail (the
 * caller then hands the pair to the symbolic worker).
 */

/** Exact powers whose result would exceed this many bits are computed in floating point instead. */
export const MAX_EXACT_BITS = 20_000;

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
  return (x < 0n ? -x : x).toString(2).length;
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
/** Build an exact value n/d (d ≠ 0), reduced. */
export function rat(n: bigint, d: bigint, approx = false): Val {
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d) || 1n;
  n /= g;
  d /= g;
  return { f: ratToFloat(n, d), q: { n, d }, approx };
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
 * Evaluate a parsed expression with the given variable values (floats).
 * Exact rational arithmetic for `+ - * /` and bounded integer powers; floats otherwise. Division by zero gives NaN.
 */
export function evaluate(n: Node, env: Map<string, number>): Val {
  switch (n.t) {
    case 'num':
      return n.v;
    case 'var': {
      if (n.name === '\\pi') return float(Math.PI);
      const v = env.get(n.name);
      return float(v === undefined ? NaN : v);
    }
    case 'neg': {
      const a = evaluate(n.a, env);
      return a.q ? rat(-a.q.n, a.q.d, a.approx) : float(-a.f, isLost(a));
    }
    case 'root': {
      const a = evaluate(n.a, env);
      const k = n.k ? evaluate(n.k, env) : rat(2n, 1n);
      if (k.q && k.q.d === 1n && k.q.n === 2n && a.q) {
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
          const bits = Math.max(bitLen(a.q.n), bitLen(a.q.d)) * Number(e);
          if (bits <= MAX_EXACT_BITS && e <= 100_000n) {
            if (b.q.n < 0n) {
              if (a.q.n === 0n) return float(NaN);
              return rat(a.q.d ** e, a.q.n ** e, approx);
            }
            return rat(a.q.n ** e, a.q.d ** e, approx);
          }
        }
        return floatOf(Math.pow(a.f, b.f), [a, b], true);
      }
      if (a.q && b.q) {
        const { n: an, d: ad } = a.q;
        const { n: bn, d: bd } = b.q;
        if (n.op === '+') return rat(an * bd + bn * ad, ad * bd, approx);
        if (n.op === '-') return rat(an * bd - bn * ad, ad * bd, approx);
        if (n.op === '*') return rat(an * bn, ad * bd, approx);
        if (bn === 0n) return float(NaN);
        return rat(an * bd, ad * bn, approx);
      }
      const r = n.op === '+' ? a.f + b.f : n.op === '-' ? a.f - b.f : n.op === '*' ? a.f * b.f : a.f / b.f;
      return floatOf(r, [a, b], n.op === '*' || n.op === '/');
    }
  }
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
  if (a.q && b.q && !a.approx && !b.approx) return a.q.n === b.q.n && a.q.d === b.q.d;
  if (a.q && b.q && a.q.n === b.q.n && a.q.d === b.q.d) return true;
  return relClose(a.f, b.f, relTol);
}
