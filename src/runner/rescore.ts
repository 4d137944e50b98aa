/**
 * Re-grading stored responses (no model calls): the scorer's name and options are stored with each measurement, so
 * an old run can be re-scored with a new grader and the graders compared sample by sample (src/analyses/graders.ts).
 */
import { recordedAgreement, scorerDisagreement, type Disagreement, type RecordedAgreement } from '../analyses/graders.ts';
import { runStatistics } from '../analyses/statistics.ts';
import { InputError } from '../core/errors.ts';
import type { Measurement, PlannedSample } from '../core/schemas.ts';
import { metricOfScorer, type ScoredState, type Scorer } from '../scorers/types.ts';
import type { RunStatistics } from '../stats/accuracy.ts';
import type { Pool } from '../store/types.ts';
import { cutAtStop, gradeAll } from './grade.ts';

/**
 * Grade every stored attempt of a run with `scorer` and store the measurements (replacing that scorer's old ones).
 * Failed attempts get an `attempt_error` measurement. Up to `opts.concurrency` verdicts (default 16) are in
 * flight at once, so a judge model is not called one request at a time; synchronous scorers are unaffected.
 * Returns counts.
 */
export async function regrade(pool: Pool, runId: string, scorer: Scorer, opts: { concurrency?: number } = {}): Promise<{ graded: number; failed: number }> {
  const run = await pool.getRun(runId);
  if (!run) throw new InputError(`no run ${runId} in the pool`);
  // Graded as the runner grades: the final output cut at the run's stop sequences, with the whole final state.
  const stops = run.spec.config.stop;
  const planned = new Map<string, PlannedSample>();
  for await (const p of pool.iteratePlanned(runId)) planned.set(p.sample.id, p);
  scorer.prepare?.([...planned.values()].map((p) => p.sample)); // corpus statistics from the run's samples (CIDEr-D)
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
      const p = planned.get(a.sample_id)!;
      const state: ScoredState = {
        messages: a.transcript ?? [...p.messages, { role: 'assistant', content: a.response }],
        output: { text: a.response, finish_reason: a.finish_reason },
        metadata: (a.meta?.solver as Record<string, unknown> | undefined) ?? {},
        epoch: a.epoch,
      };
      pending.push(gradeAll([scorer], p.sample, cutAtStop(a.response, stops), state).then(([v]) => ({ ...base, ...v! })));
      graded++;
    }
    if (pending.length >= window || batch.length >= 1000) await drain();
  }
  await drain();
  await pool.writeMeasurements(batch);
  await pool.flush();
  const report = scorer.report?.();
  await pool.updateManifest(runId, (m) => {
    // The manifest lists every scorer the run is graded with (`assay runs` shows them all), re-graders included.
    if (!m.scorers.some((x) => x.name === scorer.name)) m.scorers = [...m.scorers, { name: scorer.name, options: scorer.options, metric: metricOfScorer(scorer) }];
    else m.scorers = m.scorers.map((x) => (x.name === scorer.name && !x.metric ? { ...x, metric: metricOfScorer(scorer) } : x));
    if (report) m.scorer_reports = { ...(m.scorer_reports ?? {}), [scorer.name]: report };
    return m;
  });
  return { graded, failed };
}

/** What `assay score` reports: per grader the counts, statistics and agreement with recorded verdicts; every pair's disagreements. */
export interface RescoreResult {
  run_id: string;
  graded: { scorer: string; graded: number; failed: number }[];
  statistics: { scorer: string; statistics: RunStatistics; recorded: RecordedAgreement | null }[];
  /** One per pair of binary (0/1) scorers (in the order given). */
  disagreements: Disagreement[];
  /**
   * The pairs not compared, with why: agreement is defined only between two binary verdicts; a proportion or a
   * numeric metric (CIDEr-D, BLEU, bits per byte) is on another scale, so "same value" would mean nothing.
   */
  not_compared: { a: string; b: string; reason: string }[];
}

/**
 * Re-grade a run's stored responses with each of `scorers` (see `regrade`), then read back each grader's statistics
 * (the one outcome rule), its agreement with recorded verdicts, and where every pair of binary graders disagrees
 * (pairs involving a proportion or numeric metric are listed in `not_compared` with the reason).
 * `runRef` may be a unique id prefix. The scorers stay open (the caller closes them).
 * Errors: InputError for an unknown run.
 */
export async function rescoreRun(pool: Pool, runRef: string, scorers: Scorer[]): Promise<RescoreResult> {
  const runId = await pool.resolveRunId(runRef);
  const graded: RescoreResult['graded'] = [];
  for (const s of scorers) graded.push({ scorer: s.name, ...(await regrade(pool, runId, s)) });
  const statistics: RescoreResult['statistics'] = [];
  for (const s of scorers) statistics.push({ ...(await runStatistics(pool, runId, { scorer: s.name })), recorded: await recordedAgreement(pool, runId, s.name) });
  const disagreements: Disagreement[] = [];
  const notCompared: RescoreResult['not_compared'] = [];
  const kindOf = (i: number) => statistics[i]!.statistics.metric?.kind ?? 'binary';
  const scale = (i: number) => { const m = statistics[i]!.statistics.metric; return m?.kind === 'numeric' ? `numeric${m.unit ? ` (${m.unit})` : ''}` : m?.kind ?? 'binary'; };
  for (let i = 0; i < scorers.length; i++) {
    for (let j = i + 1; j < scorers.length; j++) {
      const [a, b] = [scorers[i]!.name, scorers[j]!.name];
      if (kindOf(i) === 'binary' && kindOf(j) === 'binary') disagreements.push(await scorerDisagreement(pool, runId, a, b));
      else notCompared.push({ a, b, reason: `agreement is counted only between binary (0/1) scorers: ${a} is ${scale(i)}, ${b} is ${scale(j)}` });
    }
  }
  return { run_id: runId, graded, statistics, disagreements, not_compared: notCompared };
}
