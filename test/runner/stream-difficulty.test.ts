/**
 * Difficulty measured from the base checkpoint (src/analyses/base-difficulty.ts): a stream ordered `by: difficulty`
 * with `difficulty_from: base` evaluates the base checkpoint first when the pool lacks its runs, orders the adaptation
 * tasks by the base's error rate on each (each rate equal to 1 − the accuracy `assay stats` reports for that run) and
 * records the runs and rates with the order; a stratified subset with `difficulty_from: base` draws its strata from
 * the base's per-sample errors on the whole task. Models are the synthetic reference models (no server).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { MissingBaseRunError, runDifficulty } from '../../src/analyses/base-difficulty.ts';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { streamOrder } from '../../src/generators/stream-order.ts';
import { evaluateStream, resolveStream } from '../../src/runner/stream.ts';
import { openPool } from '../../src/store/open.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-stream-difficulty-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const N = 20;
for (const t of ['a', 'b', 'c', 'z']) {
  const rows = Array.from({ length: N }, (_, i) => JSON.stringify({ id: `${t}${i}`, question: `${t}: what is ${i} + ${i + 3}?`, answer: String(2 * i + 3) }));
  writeFileSync(join(dir, `${t}.jsonl`), rows.join('\n') + '\n');
  writeFileSync(join(dir, `${t}.yaml`), `name: ${t}\ndataset: ${join(dir, `${t}.jsonl`)}\ntemplate: "text:{question}"\nscorers: [math]\n`);
}
const BASE = 'reference:noisy?p=0.5';
const stream = (extra: string[]) => [
  'name: by-difficulty',
  'checkpoints:',
  `  - { name: base, model: "${BASE}" }`,
  '  - { name: s1, model: "reference:noisy?p=0.7" }',
  '  - { name: s2, model: "reference:oracle" }',
  'adaptation: [{ task: a.yaml }, { task: b.yaml }, { task: c.yaml }]',
  'zero_shot: [z.yaml]',
  'bootstrap: { replicates: 200 }',
  ...extra,
].join('\n') + '\n';

it('order by the base checkpoint\'s error rates: the base is evaluated first, the rates are its runs\', the order follows them and is recorded; run again it resumes', async () => {
  const file = join(dir, 'order.yaml');
  writeFileSync(file, stream(['order: { by: difficulty, difficulty_from: base, seed: 3 }']));
  const pool = await openPool(join(dir, 'pool.sqlite'), { create: true });
  try {
    const r = await evaluateStream(file, { pool });
    assert.equal(r.status, 'complete');
    const order = r.stream.order!;
    assert.equal(order.spec.by, 'difficulty');
    assert.equal((order.spec as Record<string, unknown>).difficulty_from, 'base');
    const d = order.difficulty!;
    assert.equal(d.checkpoint, 'base');
    assert.equal(d.model, BASE);
    assert.deepEqual(d.tasks.map((t) => t.task).sort(), ['a@1', 'b@1', 'c@1']);
    // Each recorded rate is 1 − the accuracy of the base's run of that task, as `assay stats` computes it.
    const rate: Record<string, number> = {};
    for (const t of d.tasks) {
      const acc = (await runStatistics(pool, t.run_id, { scorer: 'math' })).statistics.accuracy;
      assert.ok(Math.abs(t.error_rate - (1 - acc)) < 1e-12, `${t.task}: ${t.error_rate} vs 1 − ${acc}`);
      assert.equal((await pool.getRun(t.run_id))!.spec.model, BASE);
      assert.equal(t.samples, N);
      rate[t.task.replace('@1', '')] = t.error_rate;
    }
    assert.ok(new Set(Object.values(rate)).size > 1, `equal rates order nothing: ${JSON.stringify(rate)}`);
    // The order is the difficulty order of those rates (easy first, ties by the seed), and the base row's runs are
    // the stream's own.
    assert.deepEqual(order.order, streamOrder(Object.entries(rate).map(([id, difficulty]) => ({ id, difficulty })), { by: 'difficulty', seed: 3 }).order);
    for (let i = 1; i < order.order.length; i++) assert.ok(rate[order.order[i - 1]!]! <= rate[order.order[i]!]!);
    const baseRuns = r.cells.filter((c) => c.checkpoint === 'base' && c.task !== 'z').map((c) => c.run_id).sort();
    assert.deepEqual(baseRuns, d.tasks.map((t) => t.run_id).sort());
    // The stream record carries the order with its difficulties.
    const set = (await pool.getEvalSet(r.stream_id))!;
    assert.deepEqual((set.spec as { order: { difficulty: unknown } }).order.difficulty, d);
    const again = await evaluateStream(file, { pool });
    assert.equal(again.stream_id, r.stream_id);
    assert.ok(again.cells.every((c) => c.result.executed === 0));
  } finally {
    await pool.close();
  }
});

it('a subset stratified by the base checkpoint\'s per-sample error: strata are the base run\'s right and wrong samples, drawn in proportion', async () => {
  const pool = await openPool(join(dir, 'pool.sqlite'));
  try {
    // The base's runs of the whole tasks are in the pool (previous test).
    const file = join(dir, 'subset.yaml');
    writeFileSync(file, stream(['order: { by: given }', 'subset: { size: 10, difficulty_from: base, seed: 2 }']));
    const { definition, baseDir, source } = await import('../../src/runner/stream.ts').then((m) => m.readStreamFile(file));
    const resolved = await resolveStream(definition, baseDir, { source, pool });
    const sub = resolved.subset!;
    assert.equal(sub.difficulty!.checkpoint, 'base');
    for (const t of sub.difficulty!.tasks) {
      const d = await runDifficulty(pool, (await pool.getRun(t.run_id))!);
      const wrong = [...d.per_sample.values()].filter((e) => e === 1).length;
      const draw = Object.entries(sub.draws).find(([id]) => id.startsWith(`${t.task.replace('@1', '')}@`))![1];
      assert.equal(draw.spec.by, 'base error rate');
      assert.deepEqual(draw.strata.map((s) => [s.key, s.population]), [['base error 0.000', N - wrong], ['base error 1.000', wrong]].filter(([, n]) => (n as number) > 0));
      // Proportional allocation of 10 of 20: half of each stratum (largest remainder when odd).
      assert.equal(draw.strata.reduce((a, s) => a + s.drawn, 0), 10);
      for (const s of draw.strata) assert.ok(Math.abs(s.drawn - s.population / 2) <= 0.5, JSON.stringify(draw.strata));
    }
    // Without the base's runs (an empty pool) the subset cannot be drawn: the error names the task and the model.
    const empty = await openPool('memory:');
    try {
      await assert.rejects(resolveStream(definition, baseDir, { source, pool: empty }), (e: unknown) => e instanceof MissingBaseRunError && e.use === 'subset' && /no run of a@1 by reference:noisy\?p=0\.5 on the whole task/.test(e.message) && e.where.file === file);
    } finally {
      await empty.close();
    }
  } finally {
    await pool.close();
  }
});
