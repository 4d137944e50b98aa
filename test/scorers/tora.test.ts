/**
 * ToRA GSM8K outputs (../shared/data/outputs/tora): replayed through the whole pipeline (dataset → replay model →
 * graders → pool → statistics), our accuracy beside the published `.metrics` figures, item by item.
 *
 * Published: tora-70b 84.3, tora-code-34b 80.7 (ToRA's `math_equal`, microsoft/ToRA src/eval/grader.py).
 * - `math` (our defaults): 84.31 and 80.52. tora-70b agrees with ToRA on every item. tora-code-34b differs on
 *   idx 191 (pred 0.05, gold 5: the model divided by 70 instead of 7, a real error ToRA accepts because its
 *   grader also tries gold/100) and idx 806 (pred 0.7, gold 70: "overall pass rate" as a fraction; ToRA accepts
 *   it by the same gold/100 rule).
 * - `math?percent=scaled&relTol=0.0001` (ToRA's rule as a named policy): 84.31 and 80.67 → 84.3 and 80.7, with
 *   every item equal to ToRA's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTemplate } from '../../src/core/templates.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { executeRun } from '../../src/runner/run.ts';
import { scorerDisagreement } from '../../src/analyses/graders.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { openSqlitePool } from '../../src/store/sqlite.ts';
import { shared } from '../../testkit/shared.ts';

const GSM8K = shared('data/gsm8k/test.jsonl');
const SYSTEMS = [
  { dir: 'tora-70b-v1.0', published: 84.3, ours: 84.31, scaled: 84.31, differ: [] as string[] },
  { dir: 'tora-code-34b-v1.0', published: 80.7, ours: 80.52, scaled: 80.67, differ: ['191', '806'] },
];

test('ToRA GSM8K replays: our accuracy beside the published .metrics, every difference accounted for', async () => {
  const ds = await loadDataset(`gsm8k:${GSM8K}`);
  const dir = mkdtempSync(join(tmpdir(), 'assay-tora-'));
  const pool = openSqlitePool(join(dir, 'pool.sqlite'));
  try {
    for (const sys of SYSTEMS) {
      const file = shared(`data/outputs/tora/${sys.dir}/gsm8k/test_tora_-1_seed0_t0.0_s0_e1319.jsonl`);
      const metrics = readFileSync(file.replace(/\.jsonl$/, '.metrics'), 'utf8');
      assert.equal(Number(/Mean score: \[([\d.]+)\]/.exec(metrics)![1]), sys.published);
      const scorers = [createScorer('math'), createScorer('math?percent=scaled&relTol=0.0001'), createScorer('gsm8k')];
      assert.equal(scorers[1]!.name, 'math?percent=scaled&relTol=0.0001');
      const r = await executeRun({
        pool, dataset: ds, template: getTemplate('plain'), model: `replay:${file}`, config: { chat_template: true }, epochs: 1, scorers,
      });
      assert.equal(r.status, 'complete');
      assert.equal(r.counts.ok, 1319);
      const acc = async (name: string) => Math.round(10_000 * (await runStatistics(pool, r.run_id, { scorer: name, replicates: 10 })).statistics.accuracy) / 100;
      assert.equal(await acc('math'), sys.ours, `${sys.dir} math`);
      assert.equal(await acc('math?percent=scaled&relTol=0.0001'), sys.scaled, `${sys.dir} ToRA rule`);
      assert.equal(Math.round(sys.scaled * 10) / 10, sys.published, 'the ToRA rule reproduces the published figure');
      assert.equal(await acc('gsm8k'), sys.ours, `${sys.dir} gsm8k scorer`);
      const d = await scorerDisagreement(pool, r.run_id, 'math', 'math?percent=scaled&relTol=0.0001');
      assert.equal(d.compared, 1319);
      assert.deepEqual(d.items.map((x) => x.sample_id).sort(), sys.differ);
      for (const x of d.items) assert.deepEqual([x.a_value, x.b_value], [0, 1]);
      // our verdicts agree item by item with ToRA's recorded `pred` under its own rule
      const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { idx: number; gt: string; pred: string[] });
      let toraCorrect = 0;
      for (const row of rows) {
        const gt = Number(row.gt.replace(/,/g, ''));
        const p = Number(String(row.pred[0]).replace(/,/g, ''));
        if (String(row.pred[0]).trim() !== '' && [gt / 100, gt, gt * 100].some((x) => Math.abs(x - p) <= 1e-4 * Math.max(Math.abs(x), Math.abs(p)))) toraCorrect++;
      }
      assert.equal(Math.round((1000 * toraCorrect) / 1319) / 10, sys.published, 'ToRA grader re-implemented on its own preds');
    }
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
