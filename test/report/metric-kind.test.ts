/**
 * The HTML report shows each run's values on its metric's scale: a report of two bits-per-byte runs (the fake OpenAI
 * server's echo + logprobs, as in test/analyses/metric-kind.test.ts) gives means, intervals, the forest plot, the
 * paired comparison and the variance section in bits/byte, never as percentages, and names the lower-bpb model
 * better. Read from the HTML string; no browser.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { sumModel, sumQuestions } from '../../testkit/sums-loglikelihood.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { reportData, type ReportData } from '../../src/analyses/report.ts';
import { renderReport } from '../../src/report/html.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { openPool } from '../../src/store/open.ts';
import type { Pool } from '../../src/store/types.ts';
import { defineTask } from '../../src/tasks/task.ts';

const QUESTIONS: Sample[] = sumQuestions(20);
const model = sumModel;

/** The inner HTML of the first element `<tag class="cls" …>…</tag>`. */
function section(html: string, tag: string, cls: string): string {
  const start = html.indexOf(`<${tag} class="${cls}"`);
  assert.ok(start >= 0, `no <${tag} class="${cls}">`);
  return html.slice(start, html.indexOf(`</${tag}>`, start));
}
/** Rows of a table's body as arrays of cell texts. */
const rowsOf = (table: string): string[][] => [...table.matchAll(/<tr>(.*?)<\/tr>/g)].slice(1).map((r) => [...r[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1]!));

describe('report: a numeric metric (bits per byte) in its unit', () => {
  let big: FakeOpenAIServer, small: FakeOpenAIServer, pool: Pool;
  let data: ReportData, html = '';
  before(async () => {
    big = await startFakeOpenAIServer({ tokenLogprob: model(3), topToken: () => ({ token: ' the', logprob: -0.1 }), modelId: 'big' });
    small = await startFakeOpenAIServer({ tokenLogprob: model(6), topToken: () => ({ token: ' the', logprob: -0.1 }), modelId: 'small' });
    pool = await openPool('memory:');
    const task = defineTask({ name: 'sums-ll', dataset: { name: 'sums', samples: QUESTIONS }, template: 'text:{question}\nAnswer:', solver: 'loglikelihood_choice', scorers: ['bits_per_byte', 'acc'] });
    const r = await evaluate(task, [`openai-compatible:${big.url}#big`, `openai-compatible:${small.url}#small`], { pool, concurrency: 2 });
    assert.equal(r.status, 'complete');
    const runBig = r.cells.find((c) => c.model.endsWith('#big'))!.run_id;
    const runSmall = r.cells.find((c) => c.model.endsWith('#small'))!.run_id;
    data = await reportData(pool, [runSmall, runBig], { scorer: 'bits_per_byte', replicates: 200 });
    html = renderReport(data, { now: new Date(0) });
  });
  after(async () => {
    await pool.close();
    await big.close();
    await small.close();
  });

  it('runs table: means and intervals in bits/byte, not percentages', () => {
    const rows = rowsOf(section(html, 'table', 'runs'));
    assert.equal(rows.length, 2);
    for (const [i, row] of rows.entries()) {
      const v = data.analyses[i]!.variance!;
      assert.equal(row[5], `${v.mean.toFixed(4)} bits/byte`);
      const c = data.analyses[i]!.ci95!;
      assert.equal(row[6], `[${c.lo.toFixed(4)}, ${c.hi.toFixed(4)}] bits/byte`);
      assert.match(c.method, /^t interval over per-sample means/);
      assert.match(row[7]!, /^\[\d+\.\d{4}, \d+\.\d{4}\] bits\/byte$/);
      for (const cell of row.slice(5, 8)) assert.ok(!cell.includes('%') && cell.endsWith('bits/byte'), cell);
      assert.ok(v.mean > 2 && c.hi > 1, `unclamped: ${v.mean} ${JSON.stringify(c)}`);
    }
    assert.match(html, /<th class="num">score \(avg@k\)<\/th>/);
  });

  it('forest plot: axis and labels in bits/byte, the axis not bounded to [0, 1]', () => {
    const svg = section(html, 'svg', 'plot forest');
    assert.ok(!/\d\.\d%/.test(svg), svg); // no percentages (only "95% CI")
    assert.match(svg, /score \(95% CI\), bits\/byte, lower is better/);
    const v = data.analyses[0]!.variance!;
    assert.ok(svg.includes(`${data.analyses[0]!.label}: ${v.mean.toFixed(4)} bits/byte`), svg);
  });

  it('paired comparison: the difference in bits/byte, the lower-bpb model named better', () => {
    const [smallLabel, bigLabel] = data.labels as [string, string];
    const pairs = section(html, 'table', 'pairs');
    assert.ok(pairs.includes('difference (bits/byte)'), pairs);
    assert.ok(!/pts|\d\.\d%/.test(pairs), pairs);
    const [row] = rowsOf(pairs);
    const p = data.comparison!.pairs[0]!;
    assert.ok(p.difference > 1, `small − big = ${p.difference}`);
    assert.equal(row![2], `+${p.difference.toFixed(4)}`);
    assert.match(row![3]!, /^\[\+\d+\.\d{4}, \+\d+\.\d{4}\] bits\/byte$/);
    assert.equal(row![9], bigLabel);
    assert.ok(row![10]!.startsWith(`${bigLabel} is better than ${smallLabel}`), row![10]);
  });

  it('variance section: standard errors in bits/byte, not points', () => {
    const tables = [...html.matchAll(/<table class="variance">.*?<\/table>/g)].map((m) => m[0]);
    assert.equal(tables.length, 2);
    for (const [i, t] of tables.entries()) {
      const v = data.analyses[i]!.variance!;
      assert.ok(t.includes(`<td>${v.se_mean.toFixed(4)} bits/byte</td>`), t);
      assert.ok(!/pts/.test(t), t);
    }
    assert.match(html, /<th class="num">SE total \(model\), bits\/byte<\/th>/);
    assert.ok(!/SE of avg@k \(pts\)/.test(html));
  });
});
