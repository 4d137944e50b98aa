/**
 * Every import format on real files from ../shared: MMLU-Pro (full import, accuracies against model_accuracy.csv),
 * WildBench and Arena-Hard (slices, verdict weights), generic CSV, lm-eval samples and Inspect logs; and bad input
 * that gives clear errors and writes nothing half-way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPool } from '../../src/store/open.ts';
import type { Pool } from '../../src/store/types.ts';
import { collect } from '../helpers/collect.ts';
import { importArenaHard, importGenericCsv, importInspect, importLmEval, importMmluPro, importWildBench } from '../../src/importers/index.ts';
import { rankFromPool } from '../../src/analyses/pool-ranking.ts';
import { kendallTau } from '../../src/aggregate/baselines.ts';
import { InputError } from '../../src/core/errors.ts';
import { shared } from '../../testkit/shared.ts';

const DATA = shared('data/pool/');
const tmp = () => mkdtempSync(join(tmpdir(), 'assay-imp-'));
const count = async (store: Pool) => (await collect(store.iteratePoolMeasurements({ runs: false }))).length;

async function rejects(p: Promise<unknown>, re: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.match((e as Error).message, re);
    return true;
  });
}

test('MMLU-Pro: full import (371,244 rows), accuracies match model_accuracy.csv, PL τ vs mean accuracy', async () => {
  const store = await openPool(join(tmp(), 'p.sqlite'), { create: true });
  const res = await importMmluPro(store, join(DATA, 'mmlu_pro'));
  assert.equal(res.measurements, 371_244);
  assert.equal(res.samples, 12_032);
  const acc = new Map<string, { n: number; c: number }>();
  for await (const m of store.iteratePoolMeasurements()) {
    const a = acc.get(m.model) ?? { n: 0, c: 0 };
    a.n++;
    a.c += m.value;
    acc.set(m.model, a);
  }
  const lines = readFileSync(join(DATA, 'mmlu_pro/model_accuracy.csv'), 'utf8').trim().split('\n').slice(1);
  assert.equal(lines.length, 31);
  for (const l of lines) {
    const [model, n, c] = l.split(',');
    assert.equal(acc.get(model!)?.n, Number(n), model);
    assert.equal(acc.get(model!)?.c, Number(c), model);
  }
  const r = await rankFromPool(store, { replicates: 20, seed: 0 });
  const tau = kendallTau(r.models.map((m) => m.score), r.models.map((m) => m.mean_score));
  assert.ok(tau > 0.97, `τ(PL, mean accuracy) = ${tau}`);
  assert.equal(r.models[0]!.model, 'gpt4o');
  assert.equal(r.diagnostics.components.length, 1);
  // a capability query restricted to one category ranks on that category only
  const phys = await rankFromPool(store, { filters: { category: ['physics'] }, replicates: 0 });
  assert.ok(phys.selection.samples! > 1000 && phys.selection.samples! < 2000);
  await store.close();
});

test('WildBench and Arena-Hard: slices, verdict weights, cross-checks from the README', async () => {
  const store = await openPool('sqlite::memory:');
  await importWildBench(store, join(DATA, 'wildbench/scores.csv'));
  await importArenaHard(store, join(DATA, 'arena_hard'));
  const means = readFileSync(join(DATA, 'wildbench/model_means.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const slice = 'v2.0625/gpt-4o-2024-05-13';
  const ms = await collect(store.iteratePoolMeasurements({ slices: [slice] }));
  for (const row of means.filter((r) => `${r[0]}/${r[1]}` === slice)) {
    const xs = ms.filter((m) => m.model === row[2]);
    assert.equal(xs.length, Number(row[4]));
    assert.ok(Math.abs(xs.reduce((a, m) => a + m.value, 0) / xs.length - Number(row[5])) < 1e-4, row[2]);
  }
  const battles = await collect(store.iteratePoolMeasurements({ kinds: ['battle'] }));
  assert.equal(battles.reduce((a, m) => a + m.weight, 0), 2136);
  const sonnet = battles.filter((m) => m.opponent === 'claude-3-5-sonnet-20240620');
  const w = sonnet.reduce((a, m) => a + m.weight, 0);
  const won = sonnet.reduce((a, m) => a + m.weight * (1 - m.value), 0);
  assert.ok(Math.abs(won / w - 0.887) < 0.001, String(won / w));
  const r = await rankFromPool(store, { kinds: ['battle'], ties: 'half', replicates: 50 });
  assert.equal(r.models.length, 5);
  assert.equal(r.models[4]!.model, 'claude-3-haiku-20240307');
  const wb = await rankFromPool(store, { slices: [slice], replicates: 50 });
  assert.equal(wb.models.length, 8);
  assert.equal(wb.models[7]!.model, 'gemma-2b-it');
  await store.close();
});

test('bad input: truncated file, wrong column, duplicate measurement, re-import — clear errors, nothing half-written', async () => {
  const dir = tmp();
  const store = await openPool(join(dir, 'p.sqlite'), { create: true });
  await importWildBench(store, join(DATA, 'wildbench/scores.csv'), { limit: 100 });
  const before = await count(store);
  const src = readFileSync(join(DATA, 'mmlu_pro/results.csv'), 'utf8').split('\n').slice(0, 2001).join('\n');
  // truncated mid-line
  const trunc = join(dir, 'trunc', 'results.csv');
  mkdirSync(join(dir, 'trunc'));
  writeFileSync(trunc, src + '\nDeepSeek-Coder-V2,99');
  await rejects(importMmluPro(store, trunc), /results\.csv:2002: expected 4 fields .*truncated/);
  // truncated inside the last field: "correct" is empty (refused as a possible truncation before it is validated)
  writeFileSync(trunc, src + '\nDeepSeek-Coder-V2,99,A,');
  await rejects(importMmluPro(store, trunc), /results\.csv:2002: the last line has no newline: is the file truncated\?/);
  // the same bad value on a complete line: the field is named
  writeFileSync(trunc, src + '\nDeepSeek-Coder-V2,99,A,\n');
  await rejects(importMmluPro(store, trunc), /results\.csv:2002 field "correct": expected 0 or 1/);
  // wrong column
  writeFileSync(trunc, src.replace('model,question_id,pred,correct', 'model,qid,pred,correct'));
  await rejects(importMmluPro(store, trunc), /results\.csv:1 field "question_id": missing column "question_id"/);
  // duplicate measurement (same model and question twice)
  const lines = src.split('\n');
  writeFileSync(trunc, [...lines, lines[5]].join('\n') + '\n');
  await rejects(importMmluPro(store, trunc), /results\.csv:2002: duplicate measurement: model "DeepSeek-Coder-V2" on sample "mmlu_pro\/\d+" was already given at line 6/);
  // truncated JSONL (arena)
  const arena = readFileSync(join(DATA, 'arena_hard/battles.jsonl'), 'utf8');
  const aTrunc = join(dir, 'battles.jsonl');
  writeFileSync(aTrunc, arena.slice(0, 5000));
  await rejects(importArenaHard(store, aTrunc), /battles\.jsonl:\d+: invalid JSON on the last line, which has no newline: is the file truncated\?/);
  writeFileSync(aTrunc, '{"question_id":1,"model_a":"x","model_b":"y","winner":"model_c"}\n');
  await rejects(importArenaHard(store, aTrunc), /battles\.jsonl:1 field "winner"/);
  assert.equal(await count(store), before, 'no failed import left rows behind');
  assert.equal((await store.sources()).length, 1);
  // the same file twice: refused, unless --replace
  await rejects(importWildBench(store, join(DATA, 'wildbench/scores.csv'), { limit: 100 }), /already imported as source "wildbench:bf61255dc09d"/);
  await importWildBench(store, join(DATA, 'wildbench/scores.csv'), { limit: 50, replace: true });
  assert.equal(await count(store), 50);
  await store.close();
});

test('generic CSV (every kind), lm-eval samples, Inspect JSON log', async () => {
  const dir = tmp();
  const store = await openPool('sqlite::memory:');
  const csv = join(dir, 'mytool.csv');
  writeFileSync(csv, [
    'model,sample_id,value,kind,opponent,direction,tie_tolerance,category,text',
    'a,1,1,binary,,,,math,"What is 2+2, in words?"',
    'b,1,0,binary,,,,math,"What is 2+2, in words?"',
    'a,2,0.31,numeric,,lower,0.05,latency,"a ""quoted"" prompt"',
    'b,2,0.33,numeric,,lower,0.05,latency,"a ""quoted"" prompt"',
    'a,3,1,battle,b,,,,',
    'a,4,0.7,preference,b,,,,',
    'a,5,7,ordinal,,,,,',
    'b,5,9,ordinal,,,,,',
  ].join('\n') + '\n');
  const r = await importGenericCsv(store, csv);
  assert.equal(r.measurements, 8);
  const samples = await collect(store.iteratePoolSamples());
  assert.equal(samples.find((s) => s.key === 'mytool/1')!.text, 'What is 2+2, in words?');
  assert.equal(samples.find((s) => s.key === 'mytool/2')!.text, 'a "quoted" prompt');
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'model,sample_id,value,kind\na,1,1,binary\na,2,3,binary\n');
  await rejects(importGenericCsv(store, bad), /bad\.csv:3 field "value": binary value must be in \[0, 1\]/);
  writeFileSync(bad, 'model,sample_id,value,kind\na,1,1,battle\n');
  await rejects(importGenericCsv(store, bad), /bad\.csv:2 field "opponent"/);

  const lm = join(dir, 'pretrained__my-model');
  mkdirSync(lm);
  const lmFile = join(lm, 'samples_gsm8k_2024-06-01T12-00-00.123456.jsonl');
  writeFileSync(lmFile, [0, 1, 2].map((i) => JSON.stringify({ doc_id: i, doc: { question: `q${i}` }, target: '1', exact_match: i % 2 })).join('\n') + '\n');
  const lr = await importLmEval(store, lmFile);
  assert.equal(lr.measurements, 3);
  const lms = await collect(store.iteratePoolMeasurements({ sources: [lr.id] }));
  assert.deepEqual(new Set(lms.map((m) => m.model)), new Set(['pretrained__my-model']));
  assert.equal(lms[0]!.sample_key.startsWith('lm-eval:gsm8k/'), true);

  const insp = join(dir, 'log.json');
  writeFileSync(insp, JSON.stringify({
    eval: { task: 'mytask', model: 'openai/gpt-x', dataset: { name: 'ds' } },
    samples: [
      { id: 1, epoch: 1, input: 'hello', target: 'A', scores: { choice: { value: 'C' } } },
      { id: 1, epoch: 2, input: 'hello', target: 'A', scores: { choice: { value: 'I' } } },
      { id: 2, epoch: 1, input: [{ role: 'user', content: 'hi' }], target: 'B', scores: { choice: { value: 'C' } }, metadata: { category: 'x' } },
    ],
  }));
  const ir = await importInspect(store, insp);
  assert.equal(ir.measurements, 3);
  assert.equal(ir.samples, 2);
  writeFileSync(insp, '{"eval": {"model": "m"}, "samples": [');
  await rejects(importInspect(store, insp, { replace: true }), /invalid JSON/);
  await store.close();
});
