/**
 * Every scorer is shown (a table used to show only each run's first scorer): the eval-set table has a row per
 * scorer of a cell (the task's, then one added by re-grading), and `listRuns` names them all; the ranking stays on
 * the task's first scorer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evalSetTable } from '../../src/analyses/eval-set.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { regrade } from '../../src/runner/rescore.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { openPool } from '../../src/store/open.ts';
import { defineTask } from '../../src/tasks/task.ts';

const samples = Array.from({ length: 12 }, (_, i) => ({ id: `s${i}`, input: `What is ${i}+${i}?`, target: String(2 * i), metadata: {} }));

test('an eval set with two scorers per task shows both (and a re-grader), ranks on the first; runs lists every scorer', async () => {
  await using pool = await openPool('memory:');
  const task = defineTask({ name: 'double', dataset: { name: 'double', samples }, scorers: ['math', 'exact'], epochs: 2 });
  const r = await evaluate([task], ['reference:oracle', 'reference:noisy?p=0.5'], { pool });
  assert.equal(r.status, 'complete');
  const oracleRun = r.cells.find((c) => c.model === 'reference:oracle')!.run_id;
  await regrade(pool, oracleRun, createScorer('gsm8k'));
  const t = await evalSetTable(pool, r.eval_set_id, { replicates: 200 });
  assert.deepEqual(t.rows.map((x) => [x.model, x.scorer]), [
    ['reference:oracle', 'math'], ['reference:oracle', 'exact'], ['reference:oracle', 'gsm8k'],
    ['reference:noisy?p=0.5', 'math'], ['reference:noisy?p=0.5', 'exact'],
  ]);
  assert.equal(t.rows[0]!.statistics.accuracy, 1, 'math reads the boxed answer');
  assert.equal(t.rows[1]!.statistics.accuracy, 0, 'exact compares the whole response');
  assert.deepEqual(t.ranking!.models.map((m) => m.label), ['reference:oracle', 'reference:noisy?p=0.5'], 'ranked on the first scorer (math)');
  const runs = await pool.listRuns();
  assert.deepEqual(runs.find((x) => x.id === oracleRun)!.scorers, ['math', 'exact', 'gsm8k']);
  assert.deepEqual(runs.find((x) => x.id !== oracleRun)!.scorers, ['math', 'exact']);
});
