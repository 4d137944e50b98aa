/**
 * The `exact` and `choice` scorers: no math, synchronous.
 */
import type { Sample } from '../core/schemas.ts';
import type { Scorer, Verdict } from './types.ts';
import { cutResponse, extractChoice, noAnswerReason } from './extract.ts';
import { safely } from './math.ts';

/** `exact`: the trimmed response equals the trimmed target (option `ignoreCase`, default false). */
export class ExactScorer implements Scorer {
  readonly name = 'exact';
  readonly kind = 'binary' as const;
  readonly options: Record<string, unknown>;
  constructor(private readonly opts: { ignoreCase: boolean } = { ignoreCase: false }) {
    this.options = { ...opts };
  }
  /** Grade a response; never throws. An empty response is `no_answer`. */
  score(sample: Sample, response: string): Verdict {
    return safely(() => {
      let r = cutResponse(response ?? '').trim();
      let t = sample.target.trim();
      if (r === '') return { value: 0, extracted: null, explanation: 'empty response', status: 'no_answer' };
      const extracted = r.length > 200 ? r.slice(0, 200) + '…' : r;
      if (this.opts.ignoreCase) {
        r = r.toLowerCase();
        t = t.toLowerCase();
      }
      const ok = r === t;
      return { value: ok ? 1 : 0, extracted, explanation: ok ? 'exact match' : 'differs', status: 'ok' };
    }) as Verdict;
  }
}

/**
 * The gold letter of a multiple-choice sample: `C`, `(C)`, `\text{(C)}`, `$\textbf{(C)}$`, or, when the target
 * is one of `sample.choices`, that choice's letter (A = first). Null when none applies.
 */
export function goldLetter(sample: Sample): string | null {
  const t = sample.target
    .trim()
    .replace(/\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}/g, '$1')
    .replace(/[$\s*]/g, '');
  const m = /^\(?([A-Ja-j])\)?\.?$/.exec(t);
  if (m) return m[1]!.toUpperCase();
  const i = sample.choices?.findIndex((c) => c.trim() === sample.target.trim()) ?? -1;
  return i >= 0 && i < 10 ? String.fromCharCode(65 + i) : null;
}

/** `choice`: multiple-choice letter A–J (see `extractChoice` for the response side, {@link goldLetter} for the gold). */
export class ChoiceScorer implements Scorer {
  readonly name = 'choice';
  readonly kind = 'binary' as const;
  readonly options: Record<string, unknown> = {};
  /** Grade a response; never throws. A gold that is not a letter is a `grader_error`. */
  score(sample: Sample, response: string): Verdict {
    return safely(() => {
      const gold = goldLetter(sample);
      if (!gold) return { value: null, extracted: null, explanation: `gold is not a choice letter: ${sample.target.slice(0, 80)}`, status: 'grader_error' };
      const pred = extractChoice(response ?? '');
      if (!pred) {
        const why = noAnswerReason(response ?? '');
        return { value: 0, extracted: null, explanation: why.startsWith('cut off') ? why : 'no choice letter found', status: 'no_answer' };
      }
      const ok = pred === gold;
      return { value: ok ? 1 : 0, extracted: pred, explanation: ok ? 'same letter' : `letter ${pred} ≠ ${gold}`, status: 'ok' };
    }) as Verdict;
  }
}
