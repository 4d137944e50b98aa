/**
 * The `grab` scorer: GRAB's exact-match rule (Roberts, Han, Albanie 2024, arXiv:2408.11817, §4: a question is
 * right when the model's answer equals the ground truth at the precision the question states), with the model's
 * number normalised to that precision before comparing:
 * - numbers: the extracted number rounded half away from zero to the stated precision (`metadata.precision`:
 *   `int`, `1dp`, `nearest10`; without it, inferred from the target: one decimal → `1dp`, else `int`) equals the
 *   target so rounded (`3.4` is right for `3`; `-1.04` for `-1.0`);
 * - pairs `[x1, x2]`: both numbers, each so rounded, as an unordered pair;
 * - equations: coefficients compared term by term (`y = 0x^3 - 2x^2 + 5x + 2` equals `y = -2x^2 + 5x + 2`);
 *   a sinusoid `y = A sin(Bx + C) + D` also equals `y = −A sin(−Bx − C) + D`, the same function.
 * The explanation reports the near miss: the relative error |pred − gold| / max(|gold|, 1e-9) of numbers.
 */
import type { Sample } from '../core/schemas.ts';
import type { Scorer, Verdict } from './types.ts';
import { cutResponse, extractAnswer, lastNumber, noAnswerReason } from './extract.ts';
import { safely } from './math.ts';

type Precision = 'int' | '1dp' | 'nearest10';

/** Round half away from zero to a precision; returns the rounded value as a canonical string (no negative zero). */
export function roundAtPrecision(v: number, p: Precision): string {
  const unit = p === '1dp' ? 0.1 : p === 'nearest10' ? 10 : 1;
  const k = Math.sign(v) * Math.round(Math.abs(v) / unit + 1e-9);
  const s = p === '1dp' ? (k / 10).toFixed(1) : String(k * (p === 'nearest10' ? 10 : 1));
  return s === '-0' || s === '-0.0' ? s.slice(1) : s;
}

const num = (s: string): number => Number(s.replace(/[\u2212\uFE63\uFF0D]/g, '-').replace(/,(?=\d{3}\b)/g, ''));

/**
 * Polynomial coefficients by degree from `y = 3x^2 - x + 1` (or without `y =`; `*`, `·`, spaces and a typographic
 * minus allowed; a missing coefficient is 1, a missing term 0). Null when the text is not such a polynomial.
 */
export function parsePolynomial(text: string): Map<number, number> | null {
  let t = text.replace(/[\u2212\uFE63\uFF0D]/g, '-').replace(/\s+/g, '').replace(/[*·×]/g, '').replace(/\$/g, '');
  t = t.replace(/^y=/i, '').replace(/\.$/, '');
  if (t === '' || !/^[-+]?[0-9.x^+\-{}]+$/i.test(t)) return null;
  const out = new Map<number, number>();
  const terms = t.replace(/(?<=[^e^{])-/g, '+-').split('+').filter((x) => x !== '');
  for (const term of terms) {
    const m = /^([-+]?(?:\d+(?:\.\d+)?|\.\d+)?)(x(?:\^\{?(\d+)\}?)?)?$/i.exec(term);
    if (!m || (m[1] === '' && !m[2])) return null;
    const c = m[1] === '' || m[1] === '+' ? 1 : m[1] === '-' ? -1 : Number(m[1]);
    const d = m[2] ? (m[3] ? Number(m[3]) : 1) : 0;
    if (!Number.isFinite(c)) return null;
    out.set(d, (out.get(d) ?? 0) + c);
  }
  return out;
}

/** (A, B, C, D) from `y = A sin(Bx + C) + D` (A and B may be omitted for 1, C and D for 0). Null otherwise. */
export function parseSine(text: string): [number, number, number, number] | null {
  const t = text.replace(/[\u2212\uFE63\uFF0D]/g, '-').replace(/\s+/g, '').replace(/[*·×]/g, '').replace(/\$/g, '').replace(/^y=/i, '').replace(/\.$/, '');
  const m = /^([-+]?\d*(?:\.\d+)?)sin\(([-+]?\d*(?:\.\d+)?)x([-+]\d+(?:\.\d+)?)?\)([-+]\d+(?:\.\d+)?)?$/i.exec(t);
  if (!m) return null;
  const coef = (s: string) => (s === '' || s === '+' ? 1 : s === '-' ? -1 : Number(s));
  return [coef(m[1]!), coef(m[2]!), m[3] ? Number(m[3]) : 0, m[4] ? Number(m[4]) : 0];
}

function samePoly(a: Map<number, number>, b: Map<number, number>): boolean {
  const degs = new Set([...a.keys(), ...b.keys()]);
  for (const d of degs) if (Math.abs((a.get(d) ?? 0) - (b.get(d) ?? 0)) > 1e-9) return false;
  return true;
}

function precisionOf(sample: Sample): Precision {
  const p = sample.metadata?.precision;
  if (p === 'int' || p === '1dp' || p === 'nearest10') return p;
  return /^-?\d+\.\d$/.test(sample.target.trim()) ? '1dp' : 'int';
}

/**
 * The equation a response gives: from its final answer (`\\boxed{y = …}`, "the answer is y = …") when that holds one,
 * else the last `y = …` written in the text (to the end of its line); then without what wraps it — closing braces or
 * brackets left from `\\boxed{…}`/`\\(…\\)`/`$…$`, Markdown emphasis or code ticks, a final full stop. Null if none.
 */
function answerEquation(text: string, response: string): string | null {
  const fromAnswer = extractAnswer(response)?.text ?? null;
  let eq: string | null = null;
  // the last `y = …` of the final answer if it holds one, else of the whole text, to the end of its line
  const source = fromAnswer && /y\s*=/i.test(fromAnswer) ? fromAnswer : text;
  const re = /\by\s*=/gi;
  let at = -1;
  for (let m = re.exec(source); m; m = re.exec(source)) at = m.index;
  if (at >= 0) eq = source.slice(at).split('\n')[0]!;
  if (eq === null) return fromAnswer;
  let prev = '';
  while (prev !== eq) {
    prev = eq;
    eq = eq.trim().replace(/\\[)\]]$/, '').replace(/[.;,]$/, '').replace(/[$`*_]+$/, '');
    // a closing brace or bracket that nothing in the equation opened (what is left of \boxed{ or [ around it)
    const opens = (eq.match(/[{(\[]/g) ?? []).length;
    const closes = (eq.match(/[})\]]/g) ?? []).length;
    if (closes > opens && /[})\]]$/.test(eq)) eq = eq.slice(0, -1);
  }
  return eq.trim();
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
      const text = cutResponse(response ?? '');
      // equations
      if (/^y\s*=/.test(gold)) {
        const eq = answerEquation(text, response ?? '');
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
        if (!pp) return { value: 0, extracted: eq, explanation: 'not a polynomial in x', status: 'ok' };
        const ok = samePoly(gp, pp);
        return { value: ok ? 1 : 0, extracted: eq, explanation: ok ? 'same coefficients' : 'coefficients differ', status: 'ok' };
      }
      const prec = precisionOf(sample);
      // pairs
      const gPair = /^\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\]$/.exec(gold);
      if (gPair) {
        const all = [...text.matchAll(/\[\s*([-\u2212]?\d+(?:\.\d+)?)\s*,\s*([-\u2212]?\d+(?:\.\d+)?)\s*\]/g)];
        const last = all[all.length - 1];
        if (!last) return { value: 0, extracted: null, explanation: 'no pair [x1, x2] found', status: 'no_answer' };
        const p = [num(last[1]!), num(last[2]!)].map((v) => roundAtPrecision(v, prec)).sort();
        const g = [num(gPair[1]!), num(gPair[2]!)].map((v) => roundAtPrecision(v, prec)).sort();
        const ok = p[0] === g[0] && p[1] === g[1];
        return { value: ok ? 1 : 0, extracted: last[0], explanation: ok ? `same pair at precision ${prec}` : `pair [${p.join(', ')}] ≠ [${g.join(', ')}] at precision ${prec}`, status: 'ok' };
      }
      // numbers
      const g = num(gold);
      if (!Number.isFinite(g)) return { value: null, extracted: null, explanation: `gold is not a number: ${gold.slice(0, 80)}`, status: 'grader_error' };
      const ex = extractAnswer(response ?? '');
      // A response cut off inside its final \boxed{ (or <think>) gave no answer: an earlier, abandoned one is not credited.
      if (!ex && /^cut off/.test(noAnswerReason(response ?? ''))) return { value: 0, extracted: null, explanation: noAnswerReason(response ?? ''), status: 'no_answer' };
      // LaTeX's thousands separator `{,}` (9{,}500) is a comma; `num` then reads 9,500 as 9500
      const latexCommas = (t: string) => t.replace(/\{,\}/g, ',');
      const raw = ex ? lastNumber(latexCommas(ex.text)) ?? lastNumber(latexCommas(text)) : lastNumber(latexCommas(text));
      if (raw === null) return { value: 0, extracted: null, explanation: noAnswerReason(response ?? ''), status: 'no_answer' };
      const p = num(raw);
      if (!Number.isFinite(p)) return { value: 0, extracted: raw, explanation: `not a number: ${raw}`, status: 'ok' };
      const ok = roundAtPrecision(p, prec) === roundAtPrecision(g, prec);
      const rel = Math.abs(p - g) / Math.max(Math.abs(g), 1e-9);
      return { value: ok ? 1 : 0, extracted: raw, explanation: `${ok ? 'equal' : 'differs'} at precision ${prec} (${roundAtPrecision(p, prec)} vs ${roundAtPrecision(g, prec)}); relative error ${rel.toPrecision(3)}`, status: 'ok' };
    }) as Verdict;
  }
}
