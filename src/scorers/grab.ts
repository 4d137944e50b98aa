/**
 * The `grab` scorer: GRAB's exact-match rule (Roberts, Han, Albanie 2024, arXiv:2408.11817, §4: a question is
 * right when the model's answer equals the ground truth at the precision the question states), with the model's
 * number normalised to that precision before comparing:
 * - numbers: the extracted number rounded half away from zero to the stated precision (`metadata.precision`:
 *   `int`, `1dp`, `nearest10`; without it, inferred from the target: one decimal → `1dp`, else `int`) equals the
 *   target so rounded (`3.4` is right for `3`; `-1.04` for `-1.0`). Both values are first rounded to 9 significant
 *   digits, so a computed value that floating point left just under a half (`12.4999999999`, `0.35` stored as
 *   0.34999…) rounds as the decimal it stands for ({@link roundAtPrecision});
 * - pairs `[x1, x2]`: both numbers, each so rounded, as an unordered pair;
 * - equations: coefficients compared term by term (`y = 0x^3 - 2x^2 + 5x + 2` equals `y = -2x^2 + 5x + 2`);
 *   a sinusoid `y = A sin(Bx + C) + D` also equals `y = −A sin(−Bx − C) + D`, the same function.
 * How answers are read from a response (LaTeX fractions, units with exponents, the last pair, prose after an
 * equation, the many ways of writing a sinusoid): grab-read.ts.
 * The explanation reports the near miss: the relative error |pred − gold| / max(|gold|, 1e-9) of numbers.
 */
import type { Sample } from '../core/schemas.ts';
import type { Scorer, Verdict } from './types.ts';
import { extractAnswer, noAnswerReason } from './extract.ts';
import { askedCoordinate, equationPlain, numberValue, parsePolynomial, parseSine, readEquation, readNumber, readPair } from './grab-read.ts';
import { evaluate, parseExpr } from './expression.ts';
import { safely } from './math.ts';

export { parsePolynomial, parseSine } from './grab-read.ts';

type Precision = 'int' | '1dp' | 'nearest10';

/** Decimal places of a precision: `1dp` 1, `int` 0, `nearest10` −1. */
const PLACES: Record<Precision, number> = { '1dp': 1, int: 0, nearest10: -1 };

/**
 * Round half away from zero at a precision, in decimal: `v` is first rounded to 9 significant digits (its
 * `toExponential(8)` digits), which absorbs the floating-point error of a computed value (12.4999999999 → 12.5,
 * 0.35 stored as 0.34999999999999998 → 0.35), then those digits are rounded at the precision's decimal place
 * exactly (no binary division). Returns the rounded value as a canonical string (`-1.0`, `12`, `120`; no negative
 * zero; exact integers for any magnitude). Non-finite values give `String(v)`.
 */
export function roundAtPrecision(v: number, p: Precision): string {
  if (!Number.isFinite(v)) return String(v);
  const places = PLACES[p];
  const [mant, exp] = Math.abs(v).toExponential(8).split('e') as [string, string];
  const digits = mant.replace('.', ''); // 9 significant digits: |v| ≈ 0.d₁d₂…d₉ × 10^(e+1)
  const keep = Number(exp) + 1 + places; // digits left of the rounding place
  let units: bigint;
  if (keep < 0) units = 0n;
  else if (keep === 0) units = digits[0]! >= '5' ? 1n : 0n;
  else if (keep >= digits.length) units = BigInt(digits) * 10n ** BigInt(keep - digits.length);
  else units = BigInt(digits.slice(0, keep)) + (digits[keep]! >= '5' ? 1n : 0n);
  const sign = v < 0 && units !== 0n ? '-' : '';
  if (places === 1) {
    const s = units.toString().padStart(2, '0');
    return `${sign}${s.slice(0, -1)}.${s.slice(-1)}`;
  }
  return `${sign}${places === -1 && units !== 0n ? `${units}0` : units}`;
}

function samePoly(a: Map<number, number>, b: Map<number, number>): boolean {
  const degs = new Set([...a.keys(), ...b.keys()]);
  for (const d of degs) if (Math.abs((a.get(d) ?? 0) - (b.get(d) ?? 0)) > 1e-9) return false;
  return true;
}

/** Points at which a written polynomial is compared with the gold one: more than any GRAB degree (at most 3) + 1. */
const POLY_POINTS = [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6];

/**
 * A factored or bracketed polynomial (`y = 8(x - 1) - 1`, `y = 2(x + 1)^2 - 3`) compared with gold coefficients by
 * expanding it: the expression (parsed by expression.ts, x its only variable) equals the gold polynomial at 12 points,
 * so two polynomials of degree ≤ 11 that agree there are the same polynomial. True/false; null when the text is not
 * an expression in x alone.
 */
function sameAsPolynomial(gold: Map<number, number>, eq: string): boolean | null {
  const parsed = parseExpr(equationPlain(eq));
  if (!parsed || [...parsed.vars].some((v) => v !== 'x') ) return null;
  for (const x of POLY_POINTS) {
    const got = evaluate(parsed.node, new Map([['x', x]])).f;
    let want = 0;
    for (const [d, c] of gold) want += c * x ** d;
    if (!Number.isFinite(got) || Math.abs(got - want) > 1e-9 * Math.max(1, Math.abs(want))) return false;
  }
  return true;
}

/** The question's text (the text parts of a message list). */
function questionText(sample: Sample): string {
  if (typeof sample.input === 'string') return sample.input;
  return sample.input.map((m) => (typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? m.content.map((c) => ('text' in c && typeof c.text === 'string' ? c.text : '')).join(' ') : '')).join('\n');
}

function precisionOf(sample: Sample): Precision {
  const p = sample.metadata?.precision;
  if (p === 'int' || p === '1dp' || p === 'nearest10') return p;
  return /^-?\d+\.\d$/.test(sample.target.trim()) ? '1dp' : 'int';
}

/** `grab`: GRAB's exact match at the stated precision (see the module comment). */
export class GrabScorer implements Scorer {
  readonly name = 'grab';
  readonly kind = 'binary' as const;
  readonly options: Record<string, unknown> = {};

  /** Grade a response; never throws. No number (or equation, or pair) found is `no_answer`. */
  score(sample: Sample, response: string): Verdict {
    return safely(() => {
      const gold = sample.target.trim();
      const resp = response ?? '';
      // equations
      if (/^y\s*=/.test(gold)) {
        const eq = readEquation(resp);
        if (!eq) return { value: 0, extracted: null, explanation: 'no equation y = … found', status: 'no_answer' };
        const gs = parseSine(gold);
        if (gs) {
          const ps = parseSine(eq);
          if (!ps) return { value: 0, extracted: eq, explanation: 'not a sinusoid of the form y = A sin(Bx + C) + D', status: 'ok' };
          const same = (s: number[]) => s.every((v, i) => Math.abs(v - ps[i]!) < 1e-9);
          const ok = same(gs) || same([-gs[0], -gs[1], -gs[2], gs[3]]);
          return { value: ok ? 1 : 0, extracted: eq, explanation: ok ? 'same coefficients' : `coefficients (${ps.join(', ')}) ≠ (${gs.join(', ')})`, status: 'ok' };
        }
        const gp = parsePolynomial(gold);
        if (!gp) return { value: null, extracted: null, explanation: `gold is not a polynomial or sinusoid: ${gold.slice(0, 80)}`, status: 'grader_error' };
        const pp = parsePolynomial(eq);
        if (!pp) {
          const same = sameAsPolynomial(gp, eq);
          if (same === null) return { value: 0, extracted: eq, explanation: 'not a polynomial in x', status: 'ok' };
          return { value: same ? 1 : 0, extracted: eq, explanation: same ? 'same polynomial once expanded' : 'coefficients differ once expanded', status: 'ok' };
        }
        const ok = samePoly(gp, pp);
        return { value: ok ? 1 : 0, extracted: eq, explanation: ok ? 'same coefficients' : 'coefficients differ', status: 'ok' };
      }
      const prec = precisionOf(sample);
      // A response cut off inside its final \boxed{ (or <think>) gave no answer: an earlier, abandoned one is not credited.
      const cutOff = () => !extractAnswer(resp) && /^cut off/.test(noAnswerReason(resp));
      // pairs
      const gPair = /^\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\]$/.exec(gold);
      if (gPair) {
        const got = cutOff() ? null : readPair(resp);
        if (!got) return { value: 0, extracted: null, explanation: cutOff() ? noAnswerReason(resp) : 'no pair [x1, x2] found', status: 'no_answer' };
        const p = got.values.map((v) => roundAtPrecision(v, prec)).sort();
        const g = [Number(gPair[1]), Number(gPair[2])].map((v) => roundAtPrecision(v, prec)).sort();
        const ok = p[0] === g[0] && p[1] === g[1];
        return { value: ok ? 1 : 0, extracted: got.raw, explanation: ok ? `same pair at precision ${prec}` : `pair [${p.join(', ')}] ≠ [${g.join(', ')}] at precision ${prec}`, status: 'ok' };
      }
      // numbers
      const g = numberValue(gold);
      if (!Number.isFinite(g)) return { value: null, extracted: null, explanation: `gold is not a number: ${gold.slice(0, 80)}`, status: 'grader_error' };
      if (cutOff()) return { value: 0, extracted: null, explanation: noAnswerReason(resp), status: 'no_answer' };
      const got = readNumber(resp, askedCoordinate(questionText(sample)));
      if (got === null) return { value: 0, extracted: null, explanation: noAnswerReason(resp), status: 'no_answer' };
      const p = got.value;
      if (!Number.isFinite(p)) return { value: 0, extracted: got.raw, explanation: got.raw.startsWith('(') ? `a point, not a number, and the question names no coordinate: ${got.raw}` : `not a number: ${got.raw}`, status: 'ok' };
      const ok = roundAtPrecision(p, prec) === roundAtPrecision(g, prec);
      const rel = Math.abs(p - g) / Math.max(Math.abs(g), 1e-9);
      return { value: ok ? 1 : 0, extracted: got.raw, explanation: `${ok ? 'equal' : 'differs'} at precision ${prec} (${roundAtPrecision(p, prec)} vs ${roundAtPrecision(g, prec)}); relative error ${rel.toPrecision(3)}`, status: 'ok' };
    }) as Verdict;
  }
}
