/**
 * Grading inside the runner: what text a scorer sees (the final output cut at the task's stop sequences) and how
 * verdicts become measurements. A scorer that throws yields a recorded `grader_error`, never a crashed run.
 */
import type { Measurement, Sample } from '../core/schemas.ts';
import type { ScoredState, Scorer, Verdict } from '../scorers/types.ts';

/**
 * The text before the first occurrence of any stop sequence (the whole text when none occurs or `stops` is empty).
 * A base model that runs on past its answer into a new few-shot question ("\n\nQuestion:") is graded only on what
 * came before; servers that honour `stop` already cut there, so this changes nothing for them.
 */
export function cutAtStop(text: string, stops: readonly string[] | undefined): string {
  if (!stops || stops.length === 0) return text;
  let end = text.length;
  for (const s of stops) {
    if (!s) continue;
    const i = text.indexOf(s);
    if (i >= 0 && i < end) end = i;
  }
  return end === text.length ? text : text.slice(0, end);
}

/** Grade one response with every scorer, in order; a scorer that throws yields a `grader_error` verdict. */
export async function gradeAll(scorers: readonly Scorer[], sample: Sample, text: string, state?: ScoredState): Promise<Verdict[]> {
  const out: Verdict[] = [];
  for (const s of scorers) {
    try {
      out.push(await s.score(sample, text, state));
    } catch (err) {
      out.push({ value: null, extracted: null, explanation: `grader error: ${(err as Error).message}`, status: 'grader_error' });
    }
  }
  return out;
}

/** Measurements of an attempt from its verdicts (one per scorer, in scorer order). */
export function measurementsOf(base: { run_id: string; sample_id: string; epoch: number }, scorers: readonly Scorer[], verdicts: readonly Verdict[]): Measurement[] {
  return verdicts.map((v, i) => ({ ...base, scorer: scorers[i]!.name, kind: scorers[i]!.kind, ...v }));
}

/** The measurements recorded for a failed attempt: one `attempt_error` per scorer (excluded from accuracy, counted as failed). */
export function failedMeasurements(base: { run_id: string; sample_id: string; epoch: number }, scorers: readonly Scorer[], error: string): Measurement[] {
  return scorers.map((s) => ({ ...base, scorer: s.name, kind: s.kind, value: null, extracted: null, explanation: `attempt failed: ${error}`, status: 'attempt_error' as const }));
}
