/**
 * The HTML report's chart section: for runs with chart questions (GRAB-style metadata), accuracy against complexity
 * per task and run, as an SVG plot whose points are the per-cell accuracies (recomputed here from the stored
 * measurements) with Wilson 95% intervals (recomputed here from the formula), and a table of the same numbers; no
 * section for runs without chart questions. Two synthetic reference models answer (oracle, noisy) with the grab scorer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Sample } from '../../src/core/schemas.ts';
import { reportData, type ReportData } from '../../src/analyses/report.ts';
import { renderReport } from '../../src/report/html.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { openPool } from '../../src/store/open.ts';
import type { Pool } from '../../src/store/types.ts';
import { defineTask } from '../../src/tasks/task.ts';

// function: complexity 0–3 (1–4 functions), 9 questions each; transform: 0–2 steps, 7 each; properties: 6 at 0.
const CELLS: [string, number, number][] = [['function', 0, 9], ['function', 1, 9], ['function', 2, 9], ['function', 3, 9], ['transform', 0, 7], ['transform', 1, 7], ['transform', 2, 7], ['properties', 0, 6]];
const SAMPLES: Sample[] = CELLS.flatMap(([task, complexity, n]) =>
  Array.from({ length: n }, (_, i) => ({
    id: `${task}-${complexity}-${i}`,
    input: `Estimate the mean gradient of the functions (${task} ${complexity} ${i}). Give your answer as an integer.`,
    target: String(i - 4),
    metadata: { generator: 'charts', task, category: 'Intercepts and Gradients', complexity, precision: 'int' },
  })),
);

/** Wilson 95% score interval, written out from Wilson (1927). */
function wilson(k: number, n: number): { lo: number; hi: number } {
  const z = 1.959963984540054, p = k / n, d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d, h = (z / d) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { lo: k === 0 ? 0 : c - h, hi: k === n ? 1 : c + h };
}

/** The plotted points of the plot titled `title`, by series. */
function points(html: string, title: string): Map<string, { x: number; acc: number; lo: number; hi: number }[]> {
  const start = html.indexOf(`<svg class="plot difficulty"`, html.indexOf(`aria-label="${title}"`) - 200);
  assert.ok(start >= 0, `no plot "${title}"`);
  const svg = html.slice(start, html.indexOf('</svg>', start));
  const out = new Map<string, { x: number; acc: number; lo: number; hi: number }[]>();
  for (const m of svg.matchAll(/<circle class="mark point" data-series="([^"]*)" data-x="(\d+)" data-accuracy="([\d.]+)" data-lo="([\d.]+)" data-hi="([\d.]+)"/g)) {
    const list = out.get(m[1]!) ?? [];
    out.set(m[1]!, list);
    list.push({ x: Number(m[2]), acc: Number(m[3]), lo: Number(m[4]), hi: Number(m[5]) });
  }
  return out;
}

describe('report: chart difficulty curves', () => {
  let pool: Pool, data: ReportData, html = '', noisyRun = '', oracleRun = '';
  before(async () => {
    pool = await openPool('memory:');
    const task = defineTask({ name: 'charts-mini', dataset: { name: 'charts-mini', samples: SAMPLES }, template: 'plain', scorers: ['grab'] });
    const r = await evaluate(task, ['reference:oracle', 'reference:noisy?p=0.55'], { pool, concurrency: 4 });
    assert.equal(r.status, 'complete');
    oracleRun = r.cells.find((c) => c.model === 'reference:oracle')!.run_id;
    noisyRun = r.cells.find((c) => c.model.startsWith('reference:noisy'))!.run_id;
    data = await reportData(pool, [oracleRun, noisyRun], { replicates: 200 });
    html = renderReport(data, { now: new Date(0) });
  });
  after(async () => {
    await pool.close();
  });

  it('one plot per task, x = functions plotted (complexity + 1) or transform steps (complexity)', () => {
    assert.match(html, /<h2 id="difficulty">Charts: accuracy vs complexity<\/h2>/);
    assert.deepEqual(data.difficulty.map((t) => t.task), ['function', 'transform', 'properties']);
    const fn = points(html, 'accuracy vs number of functions plotted: function questions');
    assert.equal(fn.size, 2, 'one series per run');
    for (const pts of fn.values()) assert.deepEqual(pts.map((p) => p.x), [1, 2, 3, 4]);
    const tr = points(html, 'accuracy vs transformation steps: transform questions');
    for (const pts of tr.values()) assert.deepEqual(pts.map((p) => p.x), [0, 1, 2]);
  });

  it('the points are the cells\' accuracies with Wilson intervals; the oracle is at 100%', async () => {
    const value = new Map<string, number>();
    for await (const m of pool.iterateMeasurements(noisyRun, 'grab')) value.set(m.sample_id, m.value!);
    assert.equal(value.size, SAMPLES.length);
    const label = (run: string) => data.labels[data.runs.findIndex((r) => r.id === run)]!;
    const check = (title: string, task: string, offset: number) => {
      const plotted = points(html, title);
      const noisy = plotted.get(label(noisyRun))!;
      for (const [t, complexity, n] of CELLS.filter((c) => c[0] === task)) {
        const right = SAMPLES.filter((s) => s.metadata.task === t && s.metadata.complexity === complexity).reduce((k, s) => k + value.get(s.id)!, 0);
        const p = noisy.find((q) => q.x === complexity + offset)!;
        const w = wilson(right, n);
        assert.equal(p.acc, Number((right / n).toFixed(4)), `${task} ${complexity}`);
        assert.ok(Math.abs(p.lo - w.lo) < 6e-5 && Math.abs(p.hi - w.hi) < 6e-5, `${task} ${complexity}: [${p.lo}, ${p.hi}] vs [${w.lo}, ${w.hi}]`);
      }
      for (const p of plotted.get(label(oracleRun))!) assert.equal(p.acc, 1);
    };
    check('accuracy vs number of functions plotted: function questions', 'function', 1);
    check('accuracy vs transformation steps: transform questions', 'transform', 0);
    // the noisy model is not at 100% everywhere (else the check above would not tell the runs apart)
    assert.ok([...value.values()].some((v) => v === 0));
    // the table holds the same numbers
    const table = html.slice(html.indexOf('<table class="difficulty"'), html.indexOf('</table>', html.indexOf('<table class="difficulty"')));
    assert.equal((table.match(/<tr>/g) ?? []).length - 1, 8, '2 runs × 4 complexities');
  });

  it('no section for runs without chart questions', async () => {
    const plain = defineTask({ name: 'plain', dataset: { name: 'plain', samples: SAMPLES.slice(0, 5).map((s) => ({ ...s, metadata: {} })) }, template: 'plain', scorers: ['grab'] });
    const r = await evaluate(plain, ['reference:oracle'], { pool });
    const d = await reportData(pool, [r.cells[0]!.run_id], { replicates: 100 });
    assert.deepEqual(d.difficulty, []);
    assert.ok(!renderReport(d).includes('id="difficulty"'));
  });
});
