/**
 * Where a calibration item's confidence comes from: the `auto` source takes the judge's recorded confidence when
 * there is one and the response's otherwise (a judge's null is "none found", not "none stated"); `judge` and
 * `response` take only their own; ungraded attempts are excluded and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrationItems, type ConfidenceSource } from '../../src/analyses/calibration.ts';
import type { AttemptWithMeasurement, Pool } from '../../src/store/types.ts';

/** A pool holding only what `calibrationItems` reads. */
function stubPool(rows: Array<{ response: string; explanation: string | null; value: number | null; status?: string }>): Pool {
  const attempts = rows.map((r, i) => ({
    run_id: 'r', sample_id: `s${i}`, epoch: 0, status: r.status ?? 'ok', response: r.response,
    measurement: { value: r.value, explanation: r.explanation },
  })) as unknown as AttemptWithMeasurement[];
  return {
    async *iterateAttempts() {
      yield* attempts;
    },
  } as unknown as Pool;
}

test('confidence source: auto falls back to the response when the judge recorded none (null or absent)', async () => {
  const judge = (confidence: number | null) => JSON.stringify({ grader: 'judge', correct: 'yes', confidence });
  const pool = stubPool([
    { response: 'Answer: 4\nConfidence: 80%', explanation: judge(70), value: 1 }, // judge's wins
    { response: 'Answer: 4\nConfidence: 80%', explanation: judge(null), value: 1 }, // judge found none: the response's
    { response: 'Answer: 4', explanation: judge(null), value: 0 }, // none anywhere: missing
    { response: 'Answer: 4\nConfidence: 30%', explanation: 'equal after normalisation', value: 0 }, // not a judge
    { response: 'Answer: 4\nConfidence: 30%', explanation: JSON.stringify({ grader: 'letter', correct: 'no' }), value: 0 }, // no key
    { response: 'Confidence: 90%', explanation: judge(90), value: null, status: 'ok' }, // ungraded: excluded
  ]);
  const conf = async (from: ConfidenceSource) => (await calibrationItems(pool, 'r', 'judge', from)).items.map((i) => (i.confidence === null ? null : Math.round(i.confidence * 100)));
  assert.deepEqual(await conf('auto'), [70, 80, null, 30, 30]);
  assert.deepEqual(await conf('judge'), [70, null, null, null, null]);
  assert.deepEqual(await conf('response'), [80, 80, null, 30, 30]);
  assert.equal((await calibrationItems(pool, 'r', 'judge', 'auto')).excluded, 1);
});
