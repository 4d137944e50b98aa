/**
 * Evaluate the custom task from code: `node --import tsx examples/custom-task/run.ts <model address> [pool]`.
 * Prints one JSON document: the eval set, each run's accuracy with its 95% CI, and one stored transcript.
 */
import { evaluate, evalSetTable, openPool } from 'assay';
import task from './task.ts';

const [model = 'reference:oracle', poolUrl = 'sqlite:.assay/example.sqlite'] = process.argv.slice(2);
await using pool = await openPool(poolUrl, { create: true });
const result = await evaluate([task], [model], { pool, concurrency: 4 });
const table = await evalSetTable(pool, result.eval_set_id, { replicates: 500 });
const runId = result.cells[0]!.run_id;
let transcript = null;
for await (const a of pool.iterateAttempts(runId)) {
  transcript = a.transcript;
  break;
}
console.log(JSON.stringify({
  eval_set: result.eval_set_id,
  status: result.status,
  rows: table.rows.map((r) => ({ task: r.task, model: r.model, run: r.run_id, accuracy: r.statistics.accuracy, ci95: r.statistics.ci95_bootstrap, attempts: r.statistics.attempts })),
  transcript,
}));
