/**
 * Grading inside the runner: what text a scorer sees (the final output cut at the task's stop sequences) and how
 * verdicts become measurements. A scorer that throws yields a recorded `grader_error`, never a crashed run.
 */
import type { Measurement, Sample } from '../core/schemas.ts';
import { offThreadSpec } from '../scorers/registry.ts';
import type { ScoredState, Scorer, Verdict } from '../scorers/types.ts';
import { sharedGradingPool, type GradingPool } from './grading-pool.ts';

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

/** `ASSAY_GRADING=inline`: grade every scorer in the calling thread (no worker; a hanging verdict then blocks the process). */
const INLINE = process.env.ASSAY_GRADING === 'inline';

/** Where verdicts are graded: built-in text scorers in the process's grading workers (default), or all inline. */
export interface GradeOptions {
  /** Grade built-in text scorers in this pool (default: the process-wide one); `false` grades everything inline. */
  pool?: GradingPool | false;
}

/**
 * Grade one response with every scorer, in order; a scorer that throws yields a `grader_error` verdict. Built-in text
 * scorers grade in a worker thread with a hard time limit (src/runner/grading-pool.ts), so a verdict that hangs
 * becomes a `grader_timeout` instead of blocking the process; the others (the judge, user scorers) grade here.
 */
export async function gradeAll(scorers: readonly Scorer[], sample: Sample, text: string, state?: ScoredState, o: GradeOptions = {}): Promise<Verdict[]> {
  const out: Verdict[] = [];
  for (const s of scorers) {
    const off = o.pool === false || (o.pool === undefined && INLINE) ? null : offThreadSpec(s);
    try {
      if (off !== null) {
        const budget = typeof s.options.timeoutMs === 'number' ? s.options.timeoutMs : 0;
        out.push(await (o.pool || sharedGradingPool()).grade(off.label, sample, text, budget, off.module));
      } else out.push(await s.score(sample, text, state));
    } catch (err) {
      out.push({ value: null, extracted: null, explanation: `grader error: ${(err as Error).message}`, status: 'grader_error' });
    }
  }
  return out;
}

/** Measurements of an attempt from its verdicts (one per scorer, in scorer order). */
export function measurementsOf(base: { run_id: string; sample_id: string; epoch: number }, scorers: readonly Scorer[], verdicts: readonly Verdict[]): Measurement[] {
  // Field by field, not by spreading (see attempt.ts: wide spread literals are promoted on V8).
  return verdicts.map((v, i) => ({
    run_id: base.run_id, sample_id: base.sample_id, epoch: base.epoch, scorer: scorers[i]!.name, kind: scorers[i]!.kind,
    value: v.value, extracted: v.extracted, explanation: v.explanation, status: v.status,
  }));
}

/** The measurements recorded for a failed attempt: one `attempt_error` per scorer (excluded from accuracy, counted as failed). */
export function failedMeasurements(base: { run_id: string; sample_id: string; epoch: number }, scorers: readonly Scorer[], error: string): Measurement[] {
  return scorers.map((s) => ({
    run_id: base.run_id, sample_id: base.sample_id, epoch: base.epoch, scorer: s.name, kind: s.kind, value: null, extracted: null,
    explanation: `attempt failed: ${error}`, status: 'attempt_error' as const,
  }));
}
