/**
 * Every analysis knows a metric's scale and direction (src/analyses/metric.ts): two models scored by bits per byte over
 * the fake OpenAI server's echo + logprobs (testkit/fake-openai-server.ts). The metric is recorded in the manifest;
 * stats print bits per byte as numbers with an unclamped interval that contains the mean; compare names the
 * lower-bpb model better, with differences in bits/byte, not points; the eval table shows the unit; older runs infer
 * the metric from their values; `rank` never averages 0/1 verdicts with 1–10 scores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { sumModel, sumQuestions } from '../../testkit/sums-loglikelihood.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { compareRuns } from '../../src/analyses/compare.ts';
import { evalSetTable } from '../../src/analyses/eval-set.ts';
import { inferMetric, metricOf } from '../../src/analyses/metric.ts';
import { rankFromPool } from '../../src/analyses/pool-ranking.ts';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { computeRunStatistics } from '../../src/stats/accuracy.ts';
import { comparePaired } from '../../src/stats/paired.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { openPool } from '../../src/store/open.ts';
import type { Pool } from '../../src/store/types.ts';
import { defineTask } from '../../src/tasks/task.ts';
import { fmtMetricInterval, fmtMetricValue, formatComparison, formatStatistics } from '../../src/report/text.ts';

// 30 sums as 4-option questions; each model gives the gold option a log-probability that varies by question (so the
// per-sample bits per byte vary), the "small" model about 3 nats less than the "big" one: big has the lower bpb.
const QUESTIONS: Sample[] = sumQuestions(30);
const model = sumModel;

describe('metric kinds: bits per byte through stats, compare, the eval table', () => {
  let big: FakeOpenAIServer, small: FakeOpenAIServer, pool: Pool;
  let runBig = '', runSmall = '', setId = '';
  before(async () => {
    big = await startFakeOpenAIServer({ tokenLogprob: model(3), topToken: () => ({ token: ' the', logprob: -0.1 }), modelId: 'big' });
    small = await startFakeOpenAIServer({ tokenLogprob: model(6), topToken: () => ({ token: ' the', logprob: -0.1 }), modelId: 'small' });
    pool = await openPool('memory:');
    const task = defineTask({ name: 'sums-ll', dataset: { name: 'sums', samples: QUESTIONS }, template: 'text:{question}\nAnswer:', solver: 'loglikelihood_choice', scorers: ['acc', 'bits_per_byte'] });
    const r = await evaluate(task, [`openai-compatible:${big.url}#big`, `openai-compatible:${small.url}#small`], { pool, concurrency: 4 });
    assert.equal(r.status, 'complete');
    setId = r.eval_set_id;
    runBig = r.cells.find((c) => c.model.endsWith('#big'))!.run_id;
    runSmall = r.cells.find((c) => c.model.endsWith('#small'))!.run_id;
  });
  after(async () => {
    await pool.close();
    await big.close();
    await small.close();
  });

  it('records each scorer\'s metric in the run manifest', async () => {
    const run = (await pool.getRun(runBig))!;
    assert.deepEqual(run.manifest.scorers.map((s) => [s.name, s.metric]), [
      ['acc', { kind: 'binary' }],
      ['bits_per_byte', { kind: 'numeric', unit: 'bits/byte', higher_is_better: false }],
    ]);
  });

  it('stats: bits per byte as a number in its unit, with unclamped intervals that contain the mean', async () => {
    const { statistics: s } = await runStatistics(pool, runSmall, { scorer: 'bits_per_byte' });
    assert.deepEqual(s.metric, { kind: 'numeric', unit: 'bits/byte', higher_is_better: false, source: 'manifest' });
    assert.ok(s.accuracy > 2, `mean bpb ${s.accuracy}`);
    for (const [name, c] of [['headline', s.ci95], ['bootstrap', s.ci95_bootstrap], ['normal', s.ci95_wald]] as const) {
      assert.ok(c.lo < s.accuracy && s.accuracy < c.hi, `${name} [${c.lo}, ${c.hi}] contains ${s.accuracy}`);
      assert.ok(c.hi > 1 && c.lo > 1, `${name} not clamped to [0, 1]: [${c.lo}, ${c.hi}]`);
    }
    assert.match(s.ci95.method, /^t interval over per-sample means \(df 29\)$/);
    assert.deepEqual(s.pass_at_k, {}); // pass@k reads 0/1 verdicts
    const text = formatStatistics(runSmall, 'bits_per_byte', s, 'h');
    assert.match(text, /scorer bits_per_byte \(numeric: bits\/byte, lower is better\)/);
    assert.match(text, new RegExp(`mean over samples \\(avg@1\\)   ${s.accuracy.toFixed(4)} bits/byte   95% CI \\[${s.ci95.lo.toFixed(4)}, ${s.ci95.hi.toFixed(4)}\\] bits/byte  \\(t interval over per-sample means`));
    assert.match(text, /normal interval {11}\[\d+\.\d{4}, \d+\.\d{4}\] bits\/byte/);
    assert.ok(!/\d\.\d%/.test(text), text); // no percentages (only "95% CI")
    // a binary scorer of the same run is unchanged: a proportion with its Wilson interval
    const acc = (await runStatistics(pool, runSmall, { scorer: 'acc' })).statistics;
    assert.deepEqual(acc.metric, { kind: 'binary', source: 'manifest' });
    assert.match(formatStatistics(runSmall, 'acc', acc, 'h'), /accuracy \(avg@1\) {3}\d+\.\d%/);
  });

  it('compare: the lower-bpb model is better, differences in bits/byte with an unclamped interval', async () => {
    const r = await compareRuns(pool, [runBig, runSmall], { scorer: 'bits_per_byte' });
    const p = r.pairs[0]!;
    assert.equal(r.metric.kind, 'numeric');
    assert.ok(p.difference < -1, `big − small = ${p.difference}`); // big has the lower bits per byte
    assert.ok(p.ci95.lo < p.difference && p.difference < p.ci95.hi && p.ci95.hi < 0, JSON.stringify(p.ci95));
    assert.ok(p.ci95.lo < -1, `not clamped at −1: ${p.ci95.lo}`);
    assert.equal(p.better, p.a_label);
    assert.deepEqual([p.a_better_on, p.b_better_on], [30, 0]);
    assert.match(p.verdict, new RegExp(`^${p.a_label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is better than .*: its mean is lower by \\d+\\.\\d{4} bits/byte \\(95% CI \\d+\\.\\d{4} bits/byte to \\d+\\.\\d{4} bits/byte; .*lower is better\\.$`));
    const text = formatComparison(r);
    assert.match(text, /difference A − B -\d+\.\d{4} bits\/byte, 95% CI \[-\d+\.\d{4}, -\d+\.\d{4}\] bits\/byte/);
    assert.match(text, /per sample: A better on 30, B better on 0 \(lower is better\), equal on 0/);
    assert.ok(!/pts/.test(text), text);
    // the other order names the same model
    const q = (await compareRuns(pool, [runSmall, runBig], { scorer: 'bits_per_byte' })).pairs[0]!;
    assert.equal(q.better, q.b_label);
    assert.ok(q.difference > 1);
  });

  it('the eval table carries each row\'s metric: bits per byte shown in its unit, accuracy as a percentage', async () => {
    const t = await evalSetTable(pool, setId, { replicates: 200 });
    const bpb = t.rows.find((r) => r.scorer === 'bits_per_byte')!;
    const acc = t.rows.find((r) => r.scorer === 'acc')!;
    assert.match(fmtMetricValue(bpb.statistics.metric, bpb.statistics.accuracy), /^\d+\.\d{4} bits\/byte$/);
    assert.match(fmtMetricInterval(bpb.statistics.metric, bpb.statistics.ci95_bootstrap), /^\[\d+\.\d{4}, \d+\.\d{4}\] bits\/byte$/);
    assert.match(fmtMetricValue(acc.statistics.metric, acc.statistics.accuracy), /^\d+\.\d%$/);
    assert.ok(t.ranking, 'ranked by the first scorer, acc');
    assert.equal(t.ranking_note, undefined);
    // a task whose first scorer is bits per byte is not macro-averaged as an accuracy
    const task = defineTask({ name: 'sums-bpb', dataset: { name: 'sums', samples: QUESTIONS.slice(0, 5) }, template: 'text:{question}\nAnswer:', solver: 'loglikelihood_choice', scorers: ['bits_per_byte'] });
    const r = await evaluate(task, [`openai-compatible:${big.url}#big`, `openai-compatible:${small.url}#small`], { pool, concurrency: 4 });
    const t2 = await evalSetTable(pool, r.eval_set_id, { replicates: 200 });
    assert.equal(t2.ranking, null);
    assert.match(t2.ranking_note!, /^no ranking across tasks: .*sums-bpb@1 \(bits_per_byte\) is numeric; compare the models with `assay compare`$/);
  });
});

describe('metric kinds without a record, and in the pool ranking', () => {
  it('older runs: the manifest\'s metric, else the built-in scorer\'s, else inferred from the values', () => {
    const old = { manifest: { scorers: [{ name: 'x', options: {} }] } } as never;
    assert.deepEqual(metricOf(old, 'bits_per_byte', () => [3.2]), { kind: 'numeric', unit: 'bits/byte', higher_is_better: false, source: 'scorer' });
    assert.deepEqual(metricOf(old, 'needle?credit=partial', () => [0.5]), { kind: 'proportion', source: 'scorer' });
    assert.deepEqual(metricOf(old, 'custom', () => [0, 1, 1]), { kind: 'binary', source: 'inferred' });
    assert.deepEqual(metricOf(old, 'custom', () => [3, 7, 10]), { kind: 'numeric', unit: '', higher_is_better: null, source: 'inferred' });
    assert.deepEqual(inferMetric([0.25, 1]), { kind: 'proportion' });
    const rec = { manifest: { scorers: [{ name: 'custom', options: {}, metric: { kind: 'numeric', unit: 'pts', higher_is_better: true } }] } } as never;
    assert.deepEqual(metricOf(rec, 'custom', () => [0, 1]), { kind: 'numeric', unit: 'pts', higher_is_better: true, source: 'manifest' });
  });

  it('a numeric metric of unknown direction: stats say so, compare calls no model better', () => {
    const metric = { kind: 'numeric' as const, unit: '', higher_is_better: null, source: 'inferred' as const };
    const samples = Array.from({ length: 20 }, (_, i) => ({ sample_id: `s${i}`, epochs: [{ epoch: 0, value: 5 + (i % 4), extracted: null, truncated: false, failed: false, timeout: false }] }));
    const s = computeRunStatistics(samples, { seed: 0, epochs: 1, metric });
    assert.match(formatStatistics('r', 'custom', s, 'h'), /scorer custom \(numeric: unit unknown, direction unknown; inferred from the stored values/);
    assert.ok(s.ci95_wald.hi > 1 && s.ci95.hi > 1);
    const a = samples.map((x) => [x.epochs[0]!.value + 2]);
    const b = samples.map((x) => [x.epochs[0]!.value]);
    const c = comparePaired(a, b, { seed: 0, numeric: true });
    assert.equal(c.ci95.lo, 2); // the differences do not vary: zero width, never clipped to [−1, 1]
  });

  it('rank: measurements on different scales are never averaged together; each model\'s mean is given per scale', async () => {
    const pool = await openPool('memory:');
    try {
      const add = async (format: string, rows: { key: string; model: string; kind: 'binary' | 'ordinal'; value: number }[]) => {
        const tx = await pool.beginImport({ format, file: `${format}.csv`, sha256: (format === 'a' ? 'a' : 'b').repeat(64) });
        const keys = new Set<string>();
        for (const r of rows) {
          if (!keys.has(r.key)) {
            keys.add(r.key);
            const [dataset, id] = r.key.split('/');
            await tx.addSample({ key: r.key, dataset: dataset!, sample_id: id!, category: null, tags: [], text: null, content_hash: null, metadata: {} });
          }
          await tx.addMeasurement({ slice: '', sample_key: r.key, model: r.model, opponent: '', rep: 0, kind: r.kind, value: r.value, direction: 1, tie_tolerance: 0, weight: 1, line: null });
        }
        await tx.commit({ measurements: rows.length, samples: keys.size });
      };
      const models = ['m1', 'm2', 'm3'];
      await add('csv', Array.from({ length: 40 }, (_, i) => models.map((model, k) => ({ key: `mc/q${i}`, model, kind: 'binary' as const, value: (i * 7 + k * 3) % 10 < 8 - 2 * k ? 1 : 0 }))).flat());
      await add('wildbench', Array.from({ length: 40 }, (_, i) => models.map((model, k) => ({ key: `wb/q${i}`, model, kind: 'ordinal' as const, value: 1 + ((i * 3 + k) % 4) + 6 - 2 * k }))).flat());
      const r = await rankFromPool(pool, { replicates: 50, seed: 0 });
      assert.equal(r.scales.length, 2);
      for (const m of r.models) assert.ok(Number.isNaN(m.mean_score), 'no mean across scales');
      assert.ok(Number.isNaN(r.tau_pl_mean));
      const bin = r.scales.find((s) => s.kind === 'binary')!;
      const ord = r.scales.find((s) => s.kind === 'ordinal')!;
      for (const sc of [bin, ord]) for (const m of sc.models) assert.ok(m.ci95.lo <= m.mean && m.mean <= m.ci95.hi && m.samples === 40, JSON.stringify(m));
      for (const m of bin.models) assert.ok(m.mean >= 0 && m.mean <= 1);
      for (const m of ord.models) assert.ok(m.mean > 1);
      // one kind at a time: one scale, a plain mean
      const only = await rankFromPool(pool, { replicates: 50, seed: 0, kinds: ['binary'] });
      assert.deepEqual(only.scales, []);
      for (const m of only.models) assert.ok(m.mean_score >= 0 && m.mean_score <= 1);
    } finally {
      await pool.close();
    }
  });

  it('rank: per-scale battle win rates count each verdict by its weight; weight 0 counts no verdict (as the single-scale mean)', async () => {
    const pool = await openPool('memory:');
    try {
      const tx = await pool.beginImport({ format: 'csv', file: 'mixed.csv', sha256: 'c'.repeat(64) });
      for (let i = 0; i < 20; i++) {
        await tx.addSample({ key: `ar/q${i}`, dataset: 'ar', sample_id: `q${i}`, category: null, tags: [], text: null, content_hash: null, metadata: {} });
        await tx.addSample({ key: `mc/q${i}`, dataset: 'mc', sample_id: `q${i}`, category: null, tags: [], text: null, content_hash: null, metadata: {} });
        // a beats b on every even sample with weight 3, b beats a on every odd one with weight 1; and on samples 0–4
        // a verdict for b of weight 0 (recorded, counted as nothing)
        await tx.addMeasurement({ slice: '', sample_key: `ar/q${i}`, model: 'a', opponent: 'b', rep: 0, kind: 'battle', value: i % 2 ? 0 : 1, direction: 1, tie_tolerance: 0, weight: i % 2 ? 1 : 3, line: null });
        if (i < 5) await tx.addMeasurement({ slice: '', sample_key: `ar/q${i}`, model: 'b', opponent: 'a', rep: 1, kind: 'battle', value: 1, direction: 1, tie_tolerance: 0, weight: 0, line: null });
        // 0z (read first) only ever in weight-0 battles: no mean (listed last); a preference of p over o of 0.8: 0.8 and 0.2
        if (i === 0) await tx.addMeasurement({ slice: '', sample_key: `ar/q${i}`, model: '0z', opponent: 'a', rep: 2, kind: 'battle', value: 1, direction: 1, tie_tolerance: 0, weight: 0, line: null });
        await tx.addMeasurement({ slice: '', sample_key: `ar/q${i}`, model: 'p', opponent: 'o', rep: 0, kind: 'preference', value: 0.8, direction: 1, tie_tolerance: 0, weight: 1, line: null });
        for (const [k, m] of ['a', 'b'].entries()) await tx.addMeasurement({ slice: '', sample_key: `mc/q${i}`, model: m, opponent: '', rep: 0, kind: 'binary', value: (i + k) % 3 ? 1 : 0, direction: 1, tie_tolerance: 0, weight: 1, line: null });
      }
      await tx.commit({ measurements: 86, samples: 40 });
      const r = await rankFromPool(pool, { replicates: 50, seed: 0 });
      const battle = r.scales.find((s) => s.kind === 'battle')!;
      const by = Object.fromEntries(battle.models.map((m) => [m.model, m]));
      // per sample: a's win rate is 1 on even samples, 0 on odd ones (the weight-0 verdicts add nothing): mean ½
      assert.equal(by.a!.mean, 0.5);
      assert.equal(by.b!.mean, 0.5);
      assert.equal(by.a!.samples, 20);
      assert.equal(by.a!.measurements, 26, 'the weight-0 verdicts are measurements all the same');
      assert.ok(Number.isNaN(by['0z']!.mean));
      assert.deepEqual(battle.models.map((m) => m.model), ['a', 'b', '0z'], 'a model without a mean is listed last');
      const pref = Object.fromEntries(r.scales.find((s) => s.kind === 'preference')!.models.map((m) => [m.model, m.mean]));
      assert.ok(Math.abs(pref.p! - 0.8) < 1e-12 && Math.abs(pref.o! - 0.2) < 1e-12, JSON.stringify(pref));
      // weights at the importer's limit (10⁶ identical verdicts) are counted, not written out: 40 such battles used
      // to take gigabytes
      const heavy = await openPool('memory:');
      const hx = await heavy.beginImport({ format: 'csv', file: 'heavy.csv', sha256: 'd'.repeat(64) });
      for (let i = 0; i < 40; i++) {
        await hx.addSample({ key: `ar/q${i}`, dataset: 'ar', sample_id: `q${i}`, category: null, tags: [], text: null, content_hash: null, metadata: {} });
        await hx.addSample({ key: `mc/q${i}`, dataset: 'mc', sample_id: `q${i}`, category: null, tags: [], text: null, content_hash: null, metadata: {} });
        await hx.addMeasurement({ slice: '', sample_key: `ar/q${i}`, model: 'a', opponent: 'b', rep: 0, kind: 'battle', value: i % 4 ? 1 : 0, direction: 1, tie_tolerance: 0, weight: 1e6, line: null });
        for (const [k, m] of ['a', 'b'].entries()) await hx.addMeasurement({ slice: '', sample_key: `mc/q${i}`, model: m, opponent: '', rep: 0, kind: 'binary', value: (i + k) % 3 ? 1 : 0, direction: 1, tie_tolerance: 0, weight: 1, line: null });
      }
      await hx.commit({ measurements: 120, samples: 80 });
      const before = process.memoryUsage().rss;
      const h = await rankFromPool(heavy, { replicates: 50, seed: 0 });
      const ha = h.scales.find((x) => x.kind === 'battle')!.models.find((m) => m.model === 'a')!;
      assert.equal(ha.mean, 0.75);
      assert.ok(ha.ci95.lo < 0.75 && ha.ci95.hi > 0.75, JSON.stringify(ha));
      assert.ok(process.memoryUsage().rss - before < 500e6, 'no copy per verdict');
      await heavy.close();
      // the single-scale mean of the battles alone reads the same weights: a wins 10·3 of 10·3 + 10·1
      const only = await rankFromPool(pool, { replicates: 50, seed: 0, kinds: ['battle'] });
      assert.ok(Math.abs(only.models.find((m) => m.model === 'a')!.mean_score - 0.75) < 1e-12);
    } finally {
      await pool.close();
    }
  });

  it('rank: a lower-is-better metric\'s mean is its mean as measured (not its negative), and τ(PL, mean) reads it in that direction', async () => {
    const pool = await openPool('memory:');
    try {
      const add = async (tag: string, direction: 1 | -1, value: (i: number, k: number) => number, kind: 'numeric' | 'binary' = 'numeric') => {
        const tx = await pool.beginImport({ format: 'csv', file: `${tag}.csv`, sha256: tag.repeat(64).slice(0, 64) });
        for (let i = 0; i < 40; i++) {
          await tx.addSample({ key: `${tag}/q${i}`, dataset: tag, sample_id: `q${i}`, category: null, tags: [], text: null, content_hash: null, metadata: {} });
          for (let k = 0; k < 3; k++) await tx.addMeasurement({ slice: '', sample_key: `${tag}/q${i}`, model: `m${k}`, opponent: '', rep: 0, kind, value: value(i, k), direction, tie_tolerance: 0, weight: 1, line: null });
        }
        await tx.commit({ measurements: 120, samples: 40 });
      };
      // a loss: m0 lowest (best), m2 highest (worst); values all positive
      await add('a', -1, (i, k) => 1 + k + ((i * 7) % 5) / 10);
      const r = await rankFromPool(pool, { replicates: 50, seed: 0 });
      const by = Object.fromEntries(r.models.map((m) => [m.model, m]));
      for (let k = 0; k < 3; k++) {
        const want = Array.from({ length: 40 }, (_, i) => 1 + k + ((i * 7) % 5) / 10).reduce((a, b) => a + b, 0) / 40;
        assert.ok(Math.abs(by[`m${k}`]!.mean_score - want) < 1e-12, `m${k}: mean ${by[`m${k}`]!.mean_score}, measured ${want}`);
      }
      assert.deepEqual(r.models.map((m) => m.model), ['m0', 'm1', 'm2'], 'the lowest loss ranks first');
      assert.equal(r.tau_pl_mean, 1, 'PL and the mean agree once the mean is read lower-is-better');
      // binary verdicts of both directions in one ranking: no one mean
      await add('b', -1, (i, k) => ((i + k) % 3 === 0 ? 1 : 0), 'binary');
      await add('c', 1, (i, k) => ((i + k) % 2 === 0 ? 1 : 0), 'binary');
      const mixed = await rankFromPool(pool, { replicates: 20, seed: 0, kinds: ['binary'] });
      for (const m of mixed.models) assert.ok(Number.isNaN(m.mean_score), 'no mean of verdicts of both directions');
      assert.ok(Number.isNaN(mixed.tau_pl_mean));
    } finally {
      await pool.close();
    }
  });
});
