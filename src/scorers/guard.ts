/**
 * Structural limits checked before any evaluation, so hostile answers (exponent towers, 10,000 nested
 * braces, thousand-digit literals) are refused in microseconds instead of being handed to an evaluator.
 */

/**
 * Limits: extracted answers longer than `maxChars` are a grader error; the rest make an answer "unevaluable".
 * `maxFactorial`: the largest factorial argument evaluated (10000! has 35,660 digits and takes compute-engine about
 * 50 ms; 100000! takes it past the 2 s budget); `maxFactorialSum`: the largest sum of all factorial arguments of one
 * answer. Years (`\frac{1}{2024!}`) stay well inside both.
 */
export const LIMITS = { maxChars: 10_000, maxNesting: 40, maxExponentDepth: 2, maxDigitRun: 400, maxFactorial: 10_000, maxFactorialSum: 20_000 } as const;

/**
 * Check a normalised answer against {@link LIMITS}.
 * @returns null when within limits, else a short reason (e.g. `exponent tower of depth 5`).
 */
export function structuralProblem(s: string): string | null {
  if (s.length > LIMITS.maxChars) return `answer longer than ${LIMITS.maxChars} characters`;
  const fact = factorialProblem(s);
  if (fact) return fact;
  let depth = 0;
  let maxDepth = 0;
  // stack of "is this group an exponent" flags, to measure exponent towers
  const expStack: boolean[] = [];
  let expDepth = 0;
  let maxExp = 0;
  let digitRun = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c >= '0' && c <= '9') {
      if (++digitRun > LIMITS.maxDigitRun) return `number literal longer than ${LIMITS.maxDigitRun} digits`;
    } else digitRun = 0;
    if (c === '^') {
      let j = i + 1;
      while (s[j] === ' ') j++;
      if (s[j] === '{') {
        expStack.push(true);
        expDepth++;
        depth++;
        maxExp = Math.max(maxExp, expDepth);
        i = j;
      } else maxExp = Math.max(maxExp, expDepth + 1);
    } else if (c === '{' || c === '(' || c === '[') {
      expStack.push(false);
      depth++;
    } else if (c === '}' || c === ')' || c === ']') {
      if (expStack.pop()) expDepth--;
      depth--;
    }
    if (depth > maxDepth) maxDepth = depth;
    if (maxDepth > LIMITS.maxNesting) return `nesting deeper than ${LIMITS.maxNesting}`;
    if (maxExp > LIMITS.maxExponentDepth) return `exponent tower deeper than ${LIMITS.maxExponentDepth}`;
  }
  return null;
}

/**
 * Huge factorials, refused before any evaluator sees them: `100001!`, `(10^6)!`, `(4!)!!` and a sum of factorial
 * arguments over {@link LIMITS}.maxFactorialSum (or more than 100 factorial signs). The argument of each `!` (a digit run, or the group `(…)`/`{…}`
 * just before it, at most 200 characters back) is estimated cheaply: a literal, a nested factorial of a small
 * literal, or `+ - * / ^` arithmetic over literals; an argument with a variable (`(n+1)!`) is symbolic and
 * allowed. `!=` is a relation, `\!` a LaTeX space, neither a factorial. Linear in `s` (bounded work per `!`).
 * @returns a reason starting with `factorial`, or null.
 */
export function factorialProblem(s: string): string | null {
  if (!s.includes('!')) return null;
  let sum = 0;
  let count = 0;
  for (let i = s.indexOf('!'); i >= 0; i = s.indexOf('!', i + 1)) {
    if (s[i + 1] === '=' || s[i - 1] === '\\') continue;
    if (++count > 100) return 'factorial signs: more than 100';
    let j = i - 1;
    while (j >= 0 && s[j] === '!') j--; // a double factorial `n!!`: the argument is before the first `!`
    if (j < i - 1) continue; // counted at the first `!` of the run
    const arg = factorialOperand(s, j);
    if (arg === null) continue;
    const v = estimate(arg);
    if (v === null) continue;
    if (!(v <= LIMITS.maxFactorial)) return `factorial of ${arg.length > 40 ? arg.slice(0, 40) + '…' : arg} (over ${LIMITS.maxFactorial}!)`;
    sum += v;
    if (sum > LIMITS.maxFactorialSum) return `factorials whose arguments sum past ${LIMITS.maxFactorialSum}`;
  }
  return null;
}

/**
 * Two answers that are each one factorial of an integer literal (`100000!`, `(100001)!`), or such a factorial
 * against an integer literal, decided without computing anything: n! = m! exactly when n = m (or both are 0 or 1),
 * and a factorial over {@link LIMITS}.maxFactorial (over 35,000 digits) equals no literal within the digit limit.
 * @returns `'eq'`, `'ne'`, or null when the pair is not of that shape (compare it the usual way).
 */
export function compareLiteralFactorials(gold: string, pred: string): 'eq' | 'ne' | null {
  const fact = (t: string): bigint | null => {
    const m = /^\(?(\d{1,400})\)?!$/.exec(t.trim());
    return m ? BigInt(m[1]!) : null;
  };
  const lit = (t: string): boolean => /^-?\d{1,400}$/.test(t.trim());
  const g = fact(gold);
  const p = fact(pred);
  if (g !== null && p !== null) return g === p || (g <= 1n && p <= 1n) ? 'eq' : 'ne';
  const big = BigInt(LIMITS.maxFactorial);
  if ((g !== null && g > big && lit(pred)) || (p !== null && p > big && lit(gold))) return 'ne';
  return null;
}

/** The operand of the factorial whose `!` follows index `j`: a digit run or a bracketed group; null when it is neither. */
function factorialOperand(s: string, j: number): string | null {
  if (j < 0) return null;
  const c = s[j]!;
  if (c >= '0' && c <= '9') {
    let k = j;
    while (k > 0 && s[k - 1]! >= '0' && s[k - 1]! <= '9' && j - k < 450) k--;
    return s.slice(k, j + 1);
  }
  const open = c === ')' ? '(' : c === '}' ? '{' : c === ']' ? '[' : null;
  if (!open) return null;
  let depth = 0;
  for (let k = j; k >= 0 && j - k <= 200; k--) {
    if (s[k] === c) depth++;
    else if (s[k] === open && --depth === 0) return s.slice(k, j + 1);
  }
  return s.slice(Math.max(0, j - 200), j + 1); // a group longer than 200 characters: estimated as written
}

/**
 * A cheap float estimate of a factorial operand: integer literals, nested factorials, `+ - * / ^`, `\cdot`,
 * `\times`, brackets. Null when the operand holds a variable or anything else (it is then not a huge literal).
 * Infinity when the estimate overflows.
 */
function estimate(arg: string): number | null {
  const t = arg.replace(/\\(?:cdot|times)/g, '*').replace(/\\left|\\right/g, '').replace(/\s+/g, '');
  if (!/^[-+*/^(){}\[\]!\d.]+$/.test(t)) return null;
  let i = 0;
  const peek = (): string => t[i] ?? '';
  const atom = (): number => {
    let v: number;
    const c = peek();
    if (c === '(' || c === '{' || c === '[') {
      i++;
      v = sum();
      i++; // the closing bracket
    } else if (c === '-' || c === '+') {
      i++;
      v = c === '-' ? -atom() : atom();
    } else {
      const m = /^\d+(?:\.\d+)?/.exec(t.slice(i, i + 450));
      if (!m) throw new Error('unexpected');
      i += m[0].length;
      v = Number(m[0]);
    }
    while (peek() === '!') {
      i++;
      if (!(v <= 170)) return Infinity;
      let f = 1;
      for (let k = 2; k <= v; k++) f *= k;
      v = f;
    }
    return v;
  };
  const power = (): number => {
    const b = atom();
    if (peek() !== '^') return b;
    i++;
    return b ** power();
  };
  const product = (): number => {
    let v = power();
    while (peek() === '*' || peek() === '/') v = t[i++] === '*' ? v * power() : v / power();
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') v = t[i++] === '+' ? v + product() : v - product();
    return v;
  };
  try {
    const v = sum();
    return Number.isNaN(v) ? Infinity : Math.abs(v);
  } catch {
    return null;
  }
}
