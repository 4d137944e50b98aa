/**
 * Re-grading stored responses (no model calls) and comparing graders: the scorer's name and options are stored
 * with each measurement, so an old run can be re-scored with a new grader and the two compared sample by sample.
 */
import type { Measurement, Sample } from '../core/schemas.ts';
import type { Scorer } from '../scorers/types.ts';
import type { Pool } from '../store/types.ts';
import { gradeAll } from './grade.ts';

/**
 * Grade every stored attempt of a run with `scorer` and store the measurements (replacing that scorer's old ones).
 * Failed attempts get an `attempt_error` measurement. Up to `opts.concurrency` verdicts (default 16) are in
 * flight at once, so a judge model is not called one request at a time; synchronous scorers are unaffected.
 * Returns counts.
 */
export async function regrade(pool: Pool, runId: string, scorer: Scorer, opts: { concurrency?: number } = {}): Promise<{ graded: number; failed: number }> {
  const planned = new Map<string, Sample>();
  for await (const p of pool.iteratePlanned(runId)) planned.set(p.sample.id, p.sample);
  const window = Math.max(1, opts.concurrency ?? 16);
  let graded = 0, failed = 0;
  let batch: Measurement[] = [];
  let pending: Promise<Measurement>[] = [];
  const drain = async () => {
    batch.push(...(await Promise.all(pending)));
    pending = [];
    if (batch.length >= 1000) {
      await pool.writeMeasurements(batch);
      batch = [];
    }
  };
  for await (const a of pool.iterateAttempts(runId)) {
    const base = { run_id: runId, sample_id: a.sample_id, epoch: a.epoch, scorer: scorer.name, kind: scorer.kind };
    if (a.status !== 'ok' || a.response == null) {
      failed++;
      batch.push({ ...base, value: null, extracted: null, explanation: `attempt failed: ${a.error}`, status: 'attempt_error' });
    } else {
      pending.push(gradeAll([scorer], planned.get(a.sample_id)!, a.response).then(([v]) => ({ ...base, ...v! })));
      graded++;
    }
    if (pending.length >= window || batch.length >= 1000) await drain();
  }
  await drain();
  await pool.writeMeasurements(batch);
  await pool.flush();
  const report = scorer.report?.();
  if (report) {
    await pool.updateManifest(runId, (m) => {
      m.scorer_reports = { ...(m.scorer_reports ?? {}), [scorer.name]: report };
      return m;
    });
  }
  return { graded, failed };
}

export interface Disagreement {
  a: string;
  b: string;
  compared: number;
  disagree: number;
  items: { sample_id: string; epoch: number; a_value: number | null; b_value: number | null; a_extracted: string | null; b_extracted: string | null }[];
}

/** Attempts on which scorers `a` and `b` give different values (null counts as a value). */
export async function scorerDisagreement(pool: Pool, runId: string, a: string, b: string): Promise<Disagreement> {
  const bByKey = new Map<string, Measurement>();
  for await (const m of pool.iterateMeasurements(runId, b)) bByKey.set(`${m.sample_id}\u0000${m.epoch}`, m);
  const out: Disagreement = { a, b, compared: 0, disagree: 0, items: [] };
  for await (const m of pool.iterateMeasurements(runId, a)) {
    const o = bByKey.get(`${m.sample_id}\u0000${m.epoch}`);
    if (!o || m.status === 'attempt_error') continue;
    out.compared++;
    if (m.value !== o.value) {
      out.disagree++;
      out.items.push({ sample_id: m.sample_id, epoch: m.epoch, a_value: m.value, b_value: o.value, a_extracted: m.extracted, b_extracted: o.extracted });
    }
  }
  return out;
}

export interface RecordedAgreement {
  compared: number;
  agree: number;
  rate: number;
  recorded_accuracy: number;
  our_accuracy: number;
  disagreements: { sample_id: string; epoch: number; ours: number | null; recorded: boolean; extracted: string | null; recorded_pred: string | null; explanation: string | null }[];
}

/**
 * For replayed published outputs that carry their own verdict (`meta.recorded_correct`): how often our grader
 * agrees, and every disagreement. Null when the run has no recorded verdicts.
 */
export async function recordedAgreement(pool: Pool, runId: string, scorer: string): Promise<RecordedAgreement | null> {
  const out: RecordedAgreement = { compared: 0, agree: 0, rate: NaN, recorded_accuracy: NaN, our_accuracy: NaN, disagreements: [] };
  let rec = 0, ours = 0;
  for await (const a of pool.iterateAttempts(runId, scorer)) {
    const r = a.meta?.recorded_correct;
    if (typeof r !== 'boolean' || !a.measurement || a.measurement.value == null) continue;
    out.compared++;
    rec += r ? 1 : 0;
    ours += a.measurement.value;
    if ((a.measurement.value >= 0.5) === r) out.agree++;
    else out.disagreements.push({ sample_id: a.sample_id, epoch: a.epoch, ours: a.measurement.value, recorded: r, extracted: a.measurement.extracted, recorded_pred: typeof a.meta?.recorded_pred === 'string' ? a.meta.recorded_pred : null, explanation: a.measurement.explanation });
  }
  if (!out.compared) return null;
  out.rate = out.agree / out.compared;
  out.recorded_accuracy = rec / out.compared;
  out.our_accuracy = ours / out.compared;
  return out;
}
