/**
 * The report's Runs table prints the headline interval `assay stats` prints, with its method: at n = 5 with every
 * answer right that is Wilson's [56.6%, 100.0%], never the zero-width percentile bootstrap [100.0%, 100.0%].
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { reportData } from '../../src/analyses/report.ts';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { renderReport } from '../../src/report/html.ts';
import { fmtMetricInterval } from '../../src/report/text.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { openPool } from '../../src/store/open.ts';
import { defineTask } from '../../src/tasks/task.ts';

const samples = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, input: `What is ${i}+${i}?`, target: String(2 * i), metadata: {} }));

it('report Runs table: the same 95% CI and method as assay stats (n = 5, all correct: not zero width)', async () => {
  await using pool = await openPool('memory:');
  const task = defineTask({ name: 'double', dataset: { name: 'double', samples }, scorers: ['math'], epochs: 1 });
  const r = await evaluate([task], ['reference:oracle'], { pool });
  assert.equal(r.status, 'complete');
  const runId = r.cells[0]!.run_id;
  const { statistics: s } = await runStatistics(pool, runId, { replicates: 200 });
  assert.equal(s.accuracy, 1);
  assert.equal(s.ci95.method, 'Wilson score on the samples (one epoch each)');
  assert.ok(Math.abs(s.ci95.lo - 0.5655) < 1e-3 && s.ci95.hi === 1, JSON.stringify(s.ci95));
  const data = await reportData(pool, [runId], { replicates: 200 });
  assert.deepEqual({ lo: data.analyses[0]!.ci95!.lo, hi: data.analyses[0]!.ci95!.hi, method: data.analyses[0]!.ci95!.method }, { lo: s.ci95.lo, hi: s.ci95.hi, method: s.ci95.method });
  const html = renderReport(data, { now: new Date(0) });
  const start = html.indexOf('<table class="runs"');
  const table = html.slice(start, html.indexOf('</table>', start));
  const row = [...table.matchAll(/<tr>(.*?)<\/tr>/g)].slice(1).map((x) => [...x[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1]!))[0]!;
  assert.equal(row[6], fmtMetricInterval(data.analyses[0]!.metric, s.ci95));
  assert.equal(row[6], '[56.6%, 100.0%]');
  assert.ok(table.includes('95% CI (as in assay stats)'), table);
  assert.ok(html.includes('95% CI: Wilson score on the samples (one epoch each)'), 'method label printed');
});
