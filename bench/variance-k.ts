/**
 * Variance decomposition and the variance-vs-k curve on the Qwen2.5-Math recorded responses (100 MATH problems ×
 * 8 sampled responses), replayed into a temporary pool exactly as `assay run --dataset jsonl:<file> --id-field idx
 * --model replay:<file>#qwen --epochs 8 --scorer math` does, then read back from the pool.
 *
 *   node --import tsx bench/variance-k.ts [--file ../shared/data/outputs/qwen25math_math_cot_100.jsonl]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTemplate } from '../src/core/templates.ts';
import { loadDataset } from '../src/datasets/index.ts';
import { executeRun } from '../src/runner/run.ts';
import { createScorer } from '../src/scorers/registry.ts';
import { formatVariance } from '../src/report/text.ts';
import { clustersOf, loadRunData } from '../src/analyses/outcomes.ts';
import { decomposeVariance } from '../src/stats/variance.ts';
import { openSqlitePool } from '../src/store/sqlite.ts';
import { shared } from '../testkit/shared.ts';

const i = process.argv.indexOf('--file');
const file = i >= 0 ? process.argv[i + 1]! : shared('data/outputs/qwen25math_math_cot_100.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'assay-variance-k-'));
const pool = openSqlitePool(join(dir, 'pool.sqlite'));
try {
  const dataset = await loadDataset(`jsonl:${file}`, { fields: { id: 'idx' } });
  const r = await executeRun({ pool, dataset, template: getTemplate(dataset.defaultTemplate), model: `replay:${file}#qwen`, config: { chat_template: true }, epochs: 8, scorers: [createScorer('math')] });
  const d = await loadRunData(pool, r.run_id, 'math');
  const v = decomposeVariance(clustersOf(d), { seed: 0, replicates: 2000, perEpoch: d.per_epoch, ks: [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64] });
  console.log(`Qwen2.5-Math, MATH CoT, ${v.samples} problems × 8 responses (run ${r.run_id})`);
  console.log(formatVariance(v));
} finally {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
}
