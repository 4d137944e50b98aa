/**
 * The `math` and `gsm8k` scorers.
 *
 * `math`: extract the final answer (see `extract.ts`), normalise gold and prediction with the same rules
 * (`normalize.ts`), check structural limits (`guard.ts`), compare structurally (`compare.ts`) with the exact/real
 * in-process evaluator, and hand only the pairs it cannot decide to the compute-engine worker pool
 * (`symbolic.ts`), under the verdict's time budget. Plain numbers, fractions and GSM8K answers never leave
 * the calling thread, and the verdict is then returned synchronously.
 *
 * `gsm8k`: the same extraction chain, numbers only: the first number of the extracted answer against the gold
 * number (exact rationals; relative tolerance when a decimal is involved). Always synchronous.
 */
import type { Sample } from '../core/schemas.ts';
import type { Scorer, Verdict } from './types.ts';
import { extractAnswer, extractGold, lastNumber, mixedNumber, noAnswerReason } from './extract.ts';
import { normalizeAnswer, type UnitPolicy } from './normalize.ts';
import { compareLiteralFactorials, structuralProblem, LIMITS } from './guard.ts';
import { atomInProcess, compareValues, parseStructure, unknownPairs, type CompareOptions, type PercentPolicy, type SetPolicy, type Tri } from './compare.ts';
import { evaluate, isLost, parseDecimal, parseExpr, valuesEqual, rat, type Val } from './expression.ts';
import { sharedPool, type SymbolicPool } from './symbolic.ts';

/**
 * Options of the `math` scorer: every grading policy is a named option, recorded with the run (spec and
 * manifest `scorers[].options`) so a verdict can always be traced to the rules that produced it.
 * - `relTol` (default 1e-6): relative tolerance for reals, |g−p| ≤ relTol·max(|g|,|p|); never absolute, so
 *   1/2^98 ≠ 1/2^99. Exact rationals are compared exactly when neither side is a decimal literal.
 * - `percent` (default `'strip'`): see {@link PercentPolicy}.
 * - `units` (default `'strip'`): see {@link UnitPolicy}.
 * - `sets` (default `'exact'`): see {@link SetPolicy}.
 * - `timeoutMs` (default 2000): the verdict's time budget in milliseconds; past it the verdict is
 *   `grader_timeout` (value null, recorded; statistics count it as wrong and show the accuracy without it), never a
 *   crash. An extracted answer over the size limit is scored 0 (it cannot be an answer).
 */
export interface MathOptions {
  relTol: number;
  percent: PercentPolicy;
  units: UnitPolicy;
  sets: SetPolicy;
  timeoutMs: number;
}

/** Default options of the `math` scorer. */
export const MATH_DEFAULTS: MathOptions = { relTol: 1e-6, percent: 'strip', units: 'strip', sets: 'exact', timeoutMs: 2000 };

function verdict(value: number | null, extracted: string | null, explanation: string, status: Verdict['status'] = 'ok'): Verdict {
  return { value, extracted, explanation, status };
}

/** Wrap a scorer body so that any exception becomes a `grader_error` verdict (never a throw). */
export function safely(fn: () => Verdict | Promise<Verdict>): Verdict | Promise<Verdict> {
  try {
    const r = fn();
    if (r instanceof Promise) return r.catch((e: unknown) => verdict(null, null, `grader error: ${String(e)}`, 'grader_error'));
    return r;
  } catch (e) {
    return verdict(null, null, `grader error: ${String(e)}`, 'grader_error');
  }
}

/** Why a gold answer cannot be used (empty, unbalanced braces), or null when it is fine. */
export function malformedGold(goldRaw: string, normalized: string): string | null {
  if (goldRaw.trim() === '' || normalized.trim() === '') return 'empty';
  let depth = 0;
  for (let i = 0; i < goldRaw.length; i++) {
    const c = goldRaw[i];
    if (c === '\\') {
      i++; // an escaped brace \{ \} is content
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth < 0) return 'unbalanced braces';
  }
  return depth === 0 ? null : 'unbalanced braces';
}

/**
 * Grade one prediction text (already extracted) against one gold text (already reduced from GSM8K form).
 * Roles are explicit and never swapped: `goldRaw` is the dataset's answer, `predRaw` the model's.
 * Synchronous when the in-process comparison decides; a Promise when the symbolic worker is needed.
 * @param start epoch ms when the verdict's budget started (the symbolic deadline is `start + timeoutMs − 50`).
 */
export function gradeMath(goldRaw: string, predRaw: string, opts: MathOptions, pool: SymbolicPool, start = Date.now()): Verdict | Promise<Verdict> {
  const extracted = predRaw.length > 200 ? predRaw.slice(0, 200) + '…' : predRaw;
  // An answer too long to be an answer is wrong (scored 0), not ungradable: junk can never be excluded from accuracy.
  if (predRaw.length > LIMITS.maxChars) return verdict(0, extracted, `extracted answer longer than ${LIMITS.maxChars} characters: scored wrong`, 'ok');
  const g = normalizeAnswer(goldRaw, opts);
  // A gold that is empty or not well-formed LaTeX (unbalanced braces) cannot grade anything: a grader error
  // (excluded, and visible), never a silent 0 for the model.
  const goldProblem = malformedGold(goldRaw, g.text);
  if (goldProblem) return verdict(null, extracted, `gold is not a well-formed answer: ${goldProblem}`, 'grader_error');
  const p = normalizeAnswer(predRaw, opts);
  if (p.text === '') return verdict(0, predRaw, 'empty answer after normalisation', 'no_answer');
  const pctOk = opts.percent !== 'strict' || g.percent === p.percent;
  if (g.text === p.text && pctOk) return verdict(1, predRaw, 'equal after normalisation');
  // `100001!` against `100000!`: decided by the arguments in microseconds, never handed to an evaluator (guard.ts)
  const fact = compareLiteralFactorials(g.text, p.text);
  if (fact) return verdict(fact === 'eq' ? 1 : 0, predRaw, `factorials of integer literals compared by their arguments (${fact === 'eq' ? 'equal' : 'different'}), never evaluated`);
  const gProblem = structuralProblem(g.text);
  const pProblem = structuralProblem(p.text);
  const cmp: CompareOptions = { relTol: opts.relTol, percent: opts.percent };
  const atom = (a: string, b: string): Tri => atomInProcess(a, b, cmp, g.percent, p.percent);
  if (gProblem || pProblem) {
    // A power tower is evaluated in process, exactly while its value is cheap (BigInt under a bit cap, see
    // expression.ts): `2^{2^{2^{2^{2}}}}` equals `2^{65536}`; two towers on the same base are compared by their
    // exponents. Only what that cannot decide is refused, and a tower is never handed to the symbolic worker.
    const tower = (x: string | null) => x === null || /^exponent tower/.test(x);
    const decided = tower(gProblem) && tower(pProblem) ? compareValues(parseStructure(g.text), parseStructure(p.text), atom, opts.sets) : 'unknown';
    if (decided === 'eq') return verdict(1, predRaw, 'equivalent (in-process: power tower evaluated exactly or compared by exponents)');
    if (decided === 'ne') return verdict(0, predRaw, 'not equivalent (in-process: power tower evaluated exactly or compared by exponents)');
    if (gProblem) return verdict(null, predRaw, `gold exceeds structural limits: ${gProblem}`, 'grader_error');
    return verdict(0, predRaw, `prediction not evaluated (${pProblem}); not equal to the gold as written`);
  }
  const gv = parseStructure(g.text);
  const pv = parseStructure(p.text);
  const r = compareValues(gv, pv, atom, opts.sets);
  if (r === 'eq') return verdict(1, predRaw, 'equivalent (in-process)');
  if (r === 'ne') return verdict(0, predRaw, 'not equivalent (in-process)');
  const pairs = unknownPairs(gv, pv, atom, opts.sets);
  const deadline = start + opts.timeoutMs - 50;
  return pool.compare(pairs, opts.relTol, deadline).then((res) => {
    if (res.kind === 'timeout') return verdict(null, predRaw, `symbolic comparison exceeded ${opts.timeoutMs} ms`, 'grader_timeout');
    if (res.kind === 'error') return verdict(null, predRaw, `symbolic comparison failed: ${res.message}`, 'grader_error');
    const known = new Map<string, Tri>();
    pairs.forEach(([a, b], i) => known.set(a + '\u0000' + b, res.results[i] ?? 'unknown'));
    const r2 = compareValues(gv, pv, (a, b) => {
      const x = atom(a, b);
      if (x !== 'unknown') return x;
      return known.get(a + '\u0000' + b) ?? 'unknown';
    }, opts.sets);
    if (r2 === 'eq') return verdict(1, predRaw, 'equivalent (compute-engine)');
    if (r2 === 'ne') return verdict(0, predRaw, 'not equivalent (compute-engine)');
    return verdict(0, predRaw, 'equivalence could not be shown');
  });
}

/** The `math` scorer (binary). See the module comment for the pipeline. */
export class MathScorer implements Scorer {
  readonly name = 'math';
  readonly kind = 'binary' as const;
  readonly options: Record<string, unknown>;
  private readonly opts: MathOptions;
  constructor(options: Partial<MathOptions> = {}, private readonly pool: SymbolicPool = sharedPool()) {
    this.opts = { ...MATH_DEFAULTS, ...options };
    this.options = { ...this.opts };
  }
  /** Grade a response; never throws; within `timeoutMs`. */
  score(sample: Sample, response: string): Verdict | Promise<Verdict> {
    const start = Date.now();
    return safely(() => {
      const gold = extractGold(sample.target);
      // an empty gold grades nothing, whatever the response (an empty response must not make it a silent "no answer")
      if (gold.trim() === '') return verdict(null, null, 'gold is not a well-formed answer: empty', 'grader_error');
      const ex = extractAnswer(response ?? '');
      if (!ex) return verdict(0, null, noAnswerReason(response ?? ''), 'no_answer');
      const v = gradeMath(gold, ex.text, this.opts, this.pool, start);
      const tag = (x: Verdict): Verdict => ({ ...x, explanation: `${ex.method}: ${x.explanation}` });
      return v instanceof Promise ? v.then(tag) : tag(v);
    });
  }
}

/**
 * Parse the number of a GSM8K-style answer text (`$1,234.50`, `72`, `2/3`, `-5`, `\\frac{-1}{2}`, `1.5\\times10^{3}`,
 * a plain mixed number `2 2/3` = 8/3), or null. A plain number is read directly; an expression without variables (`\\frac{1}{2}`, `2\\sqrt{2}`) is
 * evaluated, never read as one of its digits. Otherwise the last number of the text is taken (`x = 5`, `5 apples`),
 * but only when the text holds no LaTeX structure (`\\`, `^`, `{`) that the number could be a part of, and, with
 * `strict` (used for golds), only when the text holds exactly one number.
 * @param strict golds: `[2,5)` or `-\\frac{1}{2}` must not be read as 5 or 2 (they are not numbers: null)
 */
export function numberOf(text: string, strict = false): Val | null {
  const t = normalizeAnswer(mixedNumber(text) ?? text).text;
  let m = /^([-+]?)(\d*\.?\d+)(?:\/(\d+))?$/.exec(t);
  if (!m) {
    const parsed = t.length <= 2000 && structuralProblem(t) === null ? parseExpr(t) : null;
    if (parsed && parsed.vars.size === 0) {
      const v = evaluate(parsed.node, new Map());
      if (Number.isFinite(v.f) && !isLost(v)) return v;
      if (v.q && !Number.isNaN(v.f)) return v;
      return null;
    }
    if (/[\\^{]/.test(t)) return null;
    const all = t.match(/\d*\.?\d+/g) ?? [];
    if (strict && all.length !== 1) return null;
    const n = lastNumber(text);
    if (n === null) return null;
    // a plain-text mixed number (`2 2/3`) is one value, never its whole part or its fraction alone
    const mixed = mixedNumber(n);
    if (mixed) return numberOf(mixed, strict);
    m = /^([-+]?)(\d*\.?\d+)(?:\/(\d+))?$/.exec(n.replace(/,/g, '').replace(/\.$/, ''));
    if (!m) return null;
  }
  const v = parseDecimal((m[1] === '-' ? '-' : '') + m[2]!);
  if (!v || !v.q) return null;
  if (m[3]) {
    const d = BigInt(m[3]);
    if (d === 0n) return null;
    return rat(v.q.n, v.q.d * d, v.approx);
  }
  return v;
}

/** Options of the `gsm8k` scorer. Default `relTol` 1e-6. */
export interface Gsm8kOptions {
  relTol: number;
}

/** The `gsm8k` scorer (binary): numbers only, synchronous, fast. */
export class Gsm8kScorer implements Scorer {
  readonly name = 'gsm8k';
  readonly kind = 'binary' as const;
  readonly options: Record<string, unknown>;
  private readonly relTol: number;
  constructor(options: Partial<Gsm8kOptions> = {}) {
    this.relTol = options.relTol ?? 1e-6;
    this.options = { relTol: this.relTol };
  }
  /** Grade a response; never throws. A gold that is not a number is a `grader_error`. */
  score(sample: Sample, response: string): Verdict {
    return safely(() => {
      const gold = numberOf(extractGold(sample.target), true);
      if (!gold) return verdict(null, null, `gold is not a number: ${sample.target.slice(0, 80)}`, 'grader_error');
      const ex = extractAnswer(response ?? '');
      if (!ex) return verdict(0, null, noAnswerReason(response ?? ''), 'no_answer');
      if (ex.text.length > LIMITS.maxChars) return verdict(0, ex.text.slice(0, 200), `extracted answer longer than ${LIMITS.maxChars} characters: scored wrong`, 'ok');
      const pred = numberOf(ex.text);
      if (!pred) return verdict(0, ex.text, `${ex.method}: no number in the extracted answer`, 'no_answer');
      const ok = valuesEqual(gold, pred, this.relTol);
      return verdict(ok ? 1 : 0, ex.text, `${ex.method}: ${ok ? 'numbers equal' : 'numbers differ'}`);
    }) as Verdict;
  }
}
