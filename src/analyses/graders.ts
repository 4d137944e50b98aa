/**
 * Comparing graders on the stored responses of a run: where two scorers disagree, and how often a scorer agrees
 * with verdicts published with replayed outputs (`meta.recorded_correct`).
 */
import type { Measurement } from '../core/schemas.ts';
import type { Pool } from '../store/types.ts';
import { streamOutcomes } from './outcomes.ts';

export interface Disagreement {
  a: string;
  b: string;
  compared: number;
  disagree: number;
  items: { sample_id: string; epoch: number; a_value: number | null; b_value: number | null; a_extracted: string | null; b_extracted: string | null }[];
}

/**
 * Attempts on which scorers `a` and `b` give different verdicts. This compares the graders themselves, so it reads
 * the stored verdicts as they are (null — a timeout or grader error — counts as a value of its own) rather than the
 * outcomes analyses count; attempts whose model call failed are left out.
 */
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
  for await (const o of streamOutcomes(pool, runId, scorer, { recorded: true })) {
    // the one outcome rule: a grader timeout is our verdict "wrong"; failed calls and grader errors are left out
    const value = o.value;
    if (!o.recorded || o.unmeasured || value == null) continue;
    const r = o.recorded.correct;
    out.compared++;
    rec += r ? 1 : 0;
    ours += value;
    if ((value >= 0.5) === r) out.agree++;
    else out.disagreements.push({ sample_id: o.sample_id, epoch: o.epoch, ours: value, recorded: r, extracted: o.extracted, recorded_pred: o.recorded.pred, explanation: o.recorded.explanation });
  }
  if (!out.compared) return null;
  out.rate = out.agree / out.compared;
  out.recorded_accuracy = rec / out.compared;
  out.our_accuracy = ours / out.compared;
  return out;
}
