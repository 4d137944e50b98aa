/**
 * Hostile and careless input to the importers: cut files, odd numbers, BOM/CRLF, names with stray spaces or control
 * characters, repeated header columns, lm-eval's one-line-per-filter logs, one-model-per-file formats that must still
 * be compared, and the --model filter on pairwise data. Every rejection must leave the pool exactly as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { openPool } from '../../src/store/open.ts';
import type { Pool } from '../../src/store/types.ts';
import { collect } from '../helpers/collect.ts';
import { importArenaHard, importGenericCsv, importInspect, importLmEval, importMmluPro, importWildBench } from '../../src/importers/index.ts';
import { numberField, stringField } from '../../src/importers/common.ts';
import { rankFromPool } from '../../src/analyses/pool-ranking.ts';
import { InputError } from '../../src/core/errors.ts';
import { shared } from '../../testkit/shared.ts';

const DATA = shared('data/pool/');
const tmp = () => mkdtempSync(join(tmpdir(), 'assay-hostile-'));

async function rejects(p: Promise<unknown>, re: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.match((e as Error).message, re);
    return true;
  });
}

/** Every row of the pool's import tables (measurements, samples, sources): nothing may change on a failed import. */
async function snapshot(store: Pool): Promise<string> {
  const ms = (await collect(store.iteratePoolMeasurements({ runs: false }))).map((m) => JSON.stringify(m)).sort();
  const ss = (await collect(store.iteratePoolSamples({ runs: false }))).map((s) => JSON.stringify(s)).sort();
  return createHash('sha256').update(JSON.stringify([ms, ss, (await store.sources()).map((s) => s.id).sort()])).digest('hex') + ` (${ms.length} measurements, ${ss.length} samples)`;
}

test('a CSV cut anywhere in its last line is refused by every CSV importer, and nothing is written', async () => {
  const dir = tmp();
  const store = await openPool(join(dir, 'p.sqlite'), { create: true });
  await importWildBench(store, join(DATA, 'wildbench/scores.csv'), { limit: 20 });
  const wb = readFileSync(join(DATA, 'wildbench/scores.csv'), 'utf8').split('\n');
  // a line whose score is 10, so that cutting one byte leaves a valid-looking score of 1
  const ten = wb.find((l) => l.endsWith(',10'))!;
  const cases: { name: string; header: string; body: string[]; last: string; run: (f: string, o?: { allowUnterminated?: boolean }) => Promise<unknown> }[] = [
    { name: 'scores.csv', header: wb[0]!, body: wb.slice(1, 4), last: ten, run: (f, o) => importWildBench(store, f, o) },
    {
      name: 'results.csv', header: 'model,question_id,pred,correct', body: ['m1,1,A,1', 'm1,2,B,0'], last: 'm2,12,C,1',
      run: (f, o) => importMmluPro(store, f, o),
    },
    {
      name: 'tool.csv', header: 'model,sample_id,kind,value', body: ['a,1,numeric,0.25', 'b,1,numeric,0.5'], last: 'c,1,numeric,12.75',
      run: (f, o) => importGenericCsv(store, f, o),
    },
  ];
  for (const c of cases) {
    const before = await snapshot(store);
    const sub = mkdtempSync(join(dir, 'cut-'));
    const file = join(sub, c.name);
    const head = [c.header, ...c.body].join('\n') + '\n';
    // every prefix of the last line, including the whole line without its newline
    for (let k = 1; k <= c.last.length; k++) {
      writeFileSync(file, head + c.last.slice(0, k));
      await rejects(c.run(file), /no newline: is the file truncated\?/);
      assert.equal(await snapshot(store), before, `${c.name} cut at ${k}: the pool changed`);
    }
    // also with CRLF line ends
    writeFileSync(file, head.replace(/\n/g, '\r\n') + c.last.slice(0, -1));
    await rejects(c.run(file), /no newline: is the file truncated\?/);
    assert.equal(await snapshot(store), before);
    // a complete file with the final newline imports; without it only when the caller vouches for it
    writeFileSync(file, head + c.last);
    const r = (await c.run(file, { allowUnterminated: true })) as { measurements: number };
    assert.equal(r.measurements, c.body.length + 1);
  }
  await store.close();
});

test('number fields take finite decimal numbers only (no hex/octal/binary literals, NaN, Infinity or overflow)', async () => {
  for (const bad of ['0x10', '0b1', '0o7', 'NaN', 'Infinity', '-Infinity', '+Infinity', '1e999', '-1e999', '', ' ', '1_000', '1,5', '1.2.3', 'e5', '--1', '١']) {
    assert.throws(() => numberField('f.csv', 2, 'value', bad), (e: unknown) => e instanceof InputError && /f\.csv:2 field "value": expected a number/.test((e as Error).message), JSON.stringify(bad));
  }
  assert.throws(() => numberField('f.csv', 2, 'value', undefined), InputError);
  for (const [raw, v] of [['1', 1], [' 2 ', 2], ['-3.5', -3.5], ['+4', 4], ['.5', 0.5], ['5.', 5], ['1e308', 1e308], ['-1.5E-3', -0.0015], ['007', 7]] as const) {
    assert.equal(numberField('f.csv', 2, 'value', raw), v, raw);
  }
  // through an importer: nothing written
  const dir = tmp();
  const store = await openPool('sqlite::memory:');
  for (const [i, bad] of ['0x10', 'NaN', 'Infinity', '1e400'].entries()) {
    const f = join(dir, `n${i}.csv`);
    writeFileSync(f, `model,sample_id,value,kind\na,1,2,numeric\nb,1,${bad},numeric\n`);
    await rejects(importGenericCsv(store, f), /:3 field "value": expected a number/);
  }
  // huge weights would overflow the fit: bounded
  const w = join(dir, 'w.csv');
  writeFileSync(w, 'model,sample_id,value,kind,opponent,weight\na,1,1,battle,b,1e308\n');
  await rejects(importGenericCsv(store, w), /w\.csv:2 field "weight": weight must be between 0 and/);
  assert.equal((await collect(store.iteratePoolMeasurements())).length, 0);
  await store.close();
});

test('BOM and CRLF are invisible to every importer (CSV and JSONL)', async () => {
  const dir = tmp();
  const store = await openPool('sqlite::memory:');
  const bom = '\uFEFF';
  const crlf = (s: string) => s.replace(/\n/g, '\r\n');
  // arena-hard JSONL with a BOM and CRLF
  const arena = readFileSync(join(DATA, 'arena_hard/battles.jsonl'), 'utf8').split('\n').slice(0, 6).join('\n') + '\n';
  const af = join(dir, 'battles.jsonl');
  writeFileSync(af, bom + crlf(arena));
  const ar = await importArenaHard(store, af);
  assert.ok(ar.measurements > 0);
  // lm-eval JSONL with a BOM and CRLF
  const lmDir = join(dir, 'm-bom');
  mkdirSync(lmDir);
  const lf = join(lmDir, 'samples_t_2024-01-01T00-00-00.jsonl');
  writeFileSync(lf, bom + crlf([0, 1].map((i) => JSON.stringify({ doc_id: i, doc: { question: 'q' }, acc: i })).join('\n') + '\n'));
  assert.equal((await importLmEval(store, lf)).measurements, 2);
  // generic CSV and WildBench CSV with a BOM and CRLF: no "\r" or BOM ends up in a name or value
  const gf = join(dir, 'g.csv');
  writeFileSync(gf, bom + crlf('model,sample_id,value,kind\na,1,1,binary\nb,1,0,binary\n'));
  await importGenericCsv(store, gf);
  const wf = join(dir, 'scores.csv');
  writeFileSync(wf, bom + crlf(readFileSync(join(DATA, 'wildbench/scores.csv'), 'utf8').split('\n').slice(0, 4).join('\n') + '\n'));
  await importWildBench(store, wf);
  for await (const m of store.iteratePoolMeasurements()) {
    for (const v of [m.model, m.opponent, m.sample_key, m.slice]) assert.ok(!/[\r\uFEFF]/.test(v), JSON.stringify(m));
  }
  const models = new Set((await collect(store.iteratePoolMeasurements())).map((m) => m.model));
  assert.ok(models.has('a') && models.has('b'));
  await store.close();
});

test('names and ids are trimmed; control characters and repeated header columns are refused', async () => {
  assert.equal(stringField('f', 1, 'model', '  m1 '), 'm1');
  assert.equal(stringField('f', 1, 'model', 7), '7');
  for (const bad of ['a\tb', 'a\u0000b', 'a\nb', '\u007f', '   ', '', null, undefined, {}, NaN]) {
    assert.throws(() => stringField('f', 1, 'model', bad), InputError, JSON.stringify(bad));
  }
  const dir = tmp();
  const store = await openPool('sqlite::memory:');
  // " a" and "a" are one model; " b" as opponent is "b"
  const f = join(dir, 'spaces.csv');
  writeFileSync(f, 'model,sample_id,value,kind,opponent\n a ,1,1,binary,\nb, 1 ,0,binary,\na,2,1,battle, b \n');
  await importGenericCsv(store, f);
  const ms = (await collect(store.iteratePoolMeasurements()));
  assert.deepEqual(new Set(ms.map((m) => m.model)), new Set(['a', 'b']));
  assert.deepEqual(new Set(ms.map((m) => m.sample_key)), new Set(['spaces/1', 'spaces/2']));
  const before = await snapshot(store);
  const nul = join(dir, 'nul.jsonl');
  writeFileSync(nul, JSON.stringify({ question_id: 1, model_a: 'x\u0000y', model_b: 'z', winner: 'tie' }) + '\n');
  await rejects(importArenaHard(store, nul), /nul\.jsonl:1 field "model_a": control character/);
  const dup = join(dir, 'dup.csv');
  writeFileSync(dup, 'model,sample_id,value,kind,model\na,1,1,binary,b\n');
  await rejects(importGenericCsv(store, dup), /dup\.csv:1 field "model": column "model" appears twice/);
  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, '');
  await rejects(importGenericCsv(store, empty), /empty file/);
  writeFileSync(empty, '\uFEFF');
  await rejects(importGenericCsv(store, empty), /empty file/);
  writeFileSync(empty, 'model,sample_id,value,kind\n');
  await rejects(importGenericCsv(store, empty), /no data rows/);
  assert.equal(await snapshot(store), before);
  await store.close();
});

test('lm-eval logs: one line per filter is one slice each, a repeated (filter, doc_id) is an error, and per-model files are ranked together', async () => {
  const dir = tmp();
  const store = await openPool('sqlite::memory:');
  const write = (model: string, rows: object[]) => {
    mkdirSync(join(dir, model), { recursive: true });
    const f = join(dir, model, 'samples_gsm8k_2024-05-01T12-00-00.000000.jsonl');
    writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return f;
  };
  // lm-eval writes every doc once per filter (gsm8k: strict-match and flexible-extract)
  const rows = (p: (d: number) => number) =>
    ['strict-match', 'flexible-extract'].flatMap((filter) => Array.from({ length: 30 }, (_, d) => ({ doc_id: d, doc: { question: `q${d}` }, target: '1', filter, metrics: ['exact_match'], exact_match: p(d) })));
  const a = await importLmEval(store, write('strong', rows((d) => (d % 10 < 8 ? 1 : 0))));
  const b = await importLmEval(store, write('weak', rows((d) => (d % 10 < 3 ? 1 : 0))));
  assert.equal(a.samples, 30);
  const ms = (await collect(store.iteratePoolMeasurements({ sources: [a.id] })));
  assert.equal(ms.length, 60);
  assert.deepEqual(new Set(ms.map((m) => m.slice)), new Set(['exact_match,strict-match', 'exact_match,flexible-extract']));
  assert.ok(ms.every((m) => m.rep === 0), 'filters are not repeats');
  // filter "none" (or no filter field) keeps the plain metric name
  const none = await importLmEval(store, write('plain', [{ doc_id: 0, filter: 'none', acc: 1 }, { doc_id: 1, acc: 0 }]));
  assert.deepEqual(new Set((await collect(store.iteratePoolMeasurements({ sources: [none.id] }))).map((m) => m.slice)), new Set(['acc']));
  // two files, one model each: one ranking, connected, in the right order
  const r = await rankFromPool(store, { sources: [a.id, b.id], slices: ['exact_match,strict-match'], replicates: 100 });
  assert.equal(r.diagnostics.components.length, 1);
  assert.deepEqual(r.models.map((m) => m.model), ['strong', 'weak']);
  assert.ok(r.diagnostics.events > 0);
  // a doc given twice under the same filter is a duplicate, named with both lines; nothing written
  const before = await snapshot(store);
  const dupRows = [{ doc_id: 0, filter: 'strict-match', exact_match: 1 }, { doc_id: 1, filter: 'strict-match', exact_match: 0 }, { doc_id: 0, filter: 'strict-match', exact_match: 0 }];
  await rejects(importLmEval(store, write('dup', dupRows)), /:3 field "doc_id": duplicate measurement: doc_id 0 with filter "strict-match" was already given at line 1/);
  assert.equal(await snapshot(store), before);
  await store.close();
});

test('one-model-per-file formats (Inspect logs, generic CSV per model) are compared on shared samples', async () => {
  const dir = tmp();
  const store = await openPool('sqlite::memory:');
  const inspect = (model: string, values: unknown[]) => {
    const f = join(dir, `${model.replace(/\W/g, '_')}.json`);
    writeFileSync(f, JSON.stringify({
      eval: { task: 'quiz', model, dataset: { name: 'quiz' } },
      samples: values.map((v, i) => ({ id: i, epoch: 1, input: `question ${i}`, target: 'A', scores: { match: { value: v } } })),
    }));
    return f;
  };
  // C/I/P values: one kind per scorer whatever the value (P used to become "numeric" and split the ordering)
  const good = await importInspect(store, inspect('org/good', ['C', 'C', 'P', 'C', 'C', 'C', 'I', 'C']));
  const bad = await importInspect(store, inspect('org/bad', ['I', 'P', 'I', 'I', 'C', 'I', 'I', 'I']));
  const kinds = new Set((await collect(store.iteratePoolMeasurements({ sources: [good.id, bad.id] }))).map((m) => m.kind));
  assert.deepEqual(kinds, new Set(['binary']));
  const ri = await rankFromPool(store, { sources: [good.id, bad.id], replicates: 100 });
  assert.equal(ri.diagnostics.components.length, 1);
  assert.equal(ri.diagnostics.dropped_single_model, 0);
  assert.deepEqual(ri.models.map((m) => m.model), ['org/good', 'org/bad']);
  // the same (sample, epoch) twice in one log: named by its entry, nothing written
  const dupLog = join(dir, 'dup.json');
  writeFileSync(dupLog, JSON.stringify({ eval: { model: 'org/dup', task: 'quiz' }, samples: [{ id: 1, epoch: 1, scores: { s: { value: 'C' } } }, { id: 1, epoch: 1, scores: { s: { value: 'I' } } }] }));
  const before = await snapshot(store);
  await rejects(importInspect(store, dupLog), /dup\.json field "samples\[1\]": duplicate measurement: model "org\/dup" on sample "quiz\/1"/);
  assert.equal(await snapshot(store), before);
  // generic CSV, one file per model, same dataset: compared
  const ids: string[] = [];
  for (const [model, p] of [['x', 0.9], ['y', 0.5], ['z', 0.1]] as const) {
    const f = join(dir, `${model}.csv`);
    writeFileSync(f, 'model,sample_id,value,kind,dataset\n' + Array.from({ length: 40 }, (_, s) => `${model},${s},${(s * 7919) % 100 < p * 100 ? 1 : 0},binary,bench`).join('\n') + '\n');
    ids.push((await importGenericCsv(store, f)).id);
  }
  const rc = await rankFromPool(store, { sources: ids, replicates: 100 });
  assert.equal(rc.diagnostics.components.length, 1);
  assert.deepEqual(rc.models.map((m) => m.model), ['x', 'y', 'z']);
  // but different slices or kinds of the same sample never form one ordering
  const other = join(dir, 'other.csv');
  writeFileSync(other, 'model,sample_id,value,kind,dataset,slice\nw,0,1,binary,bench,judge-b\n');
  const o = await importGenericCsv(store, other);
  const ro = await rankFromPool(store, { sources: [...ids, o.id], replicates: 100 });
  assert.equal(ro.diagnostics.components.length, 2);
  await store.close();
});

test('MMLU-Pro without items.jsonl counts distinct questions; the --model filter keeps a battle only when both sides are selected', async () => {
  const dir = tmp();
  const store = await openPool('sqlite::memory:');
  const src = readFileSync(join(DATA, 'mmlu_pro/results.csv'), 'utf8').split('\n');
  const f = join(dir, 'results.csv');
  // two models × the same 50 questions (no items.jsonl beside it)
  const m1 = src.slice(1, 51);
  const m2 = src.filter((l) => l.startsWith('gpt4o,')).slice(0, 50);
  writeFileSync(f, [src[0], ...m1, ...m2].join('\n') + '\n');
  const r = await importMmluPro(store, f);
  assert.equal(r.measurements, 100);
  assert.equal(r.samples, new Set([...m1, ...m2].map((l) => l.split(',')[1])).size);
  // Arena-Hard: model_a is always the baseline; selecting two models keeps only their battles
  const a = join(dir, 'arena');
  mkdirSync(a);
  copyFileSync(join(DATA, 'arena_hard/battles.jsonl'), join(a, 'battles.jsonl'));
  const ah = await importArenaHard(store, a);
  const pick = ['gpt-4o', 'claude-3-haiku-20240307'];
  const ms = (await collect(store.iteratePoolMeasurements({ sources: [ah.id], models: pick })));
  assert.ok(ms.length > 0);
  assert.ok(ms.every((m) => pick.includes(m.model) && pick.includes(m.opponent)), 'a battle against an unselected model leaked in');
  const rk = await rankFromPool(store, { sources: [ah.id], models: pick, replicates: 100 });
  assert.deepEqual(rk.models.map((m) => m.model).sort(), [...pick].sort());
  // selecting only the baseline leaves no battle at all
  await rejects(rankFromPool(store, { sources: [ah.id], models: ['claude-3-haiku-20240307'], replicates: 100 }), /no measurements match/);
  await store.close();
});

test('generic CSV/JSONL: a column or key the format does not have is refused (a misspelt direction would reverse a ranking), with the nearest name; nothing is written', async () => {
  const { importGenericJsonl } = await import('../../src/importers/index.ts');
  const dir = tmp();
  const store = await openPool(join(dir, 'pool.sqlite'), { create: true });
  try {
    const before = await snapshot(store);
    const csv = join(dir, 'loss.csv');
    writeFileSync(csv, 'model,sample_id,value,kind,directon\nm1,q1,0.3,numeric,lower\nm2,q1,0.5,numeric,lower\n');
    await assert.rejects(importGenericCsv(store, csv), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match((e as Error).message, /unknown column "directon" \(did you mean "direction"\?\)/);
      assert.equal((e as InputError).where.file, csv);
      assert.equal((e as InputError).where.line, 1);
      assert.equal((e as InputError).where.field, "directon");
      return true;
    });
    writeFileSync(csv, 'model,sample_id,value,kind,latency_ms\nm1,q1,0.3,numeric,12\n');
    await rejects(importGenericCsv(store, csv), /unknown column "latency_ms": the generic format's columns are model, sample_id/);
    const jl = join(dir, 'loss.jsonl');
    writeFileSync(jl, '{"model":"m1","sample_id":"q1","value":1,"kind":"binary"}\n{"model":"m2","sample_id":"q1","value":0,"kind":"binary","wieght":3}\n');
    await assert.rejects(importGenericJsonl(store, jl), (e: unknown) => {
      assert.match((e as Error).message, /unknown key "wieght" \(did you mean "weight"\?\)/);
      assert.equal((e as InputError).where.line, 2);
      return true;
    });
    assert.equal(await snapshot(store), before);
    // a trailing comma in the header (an empty column) is no column: accepted
    writeFileSync(csv, 'model,sample_id,value,kind,\nm1,q1,1,binary,\nm2,q1,0,binary,\n');
    const r = await importGenericCsv(store, csv);
    assert.equal(r.measurements, 2);
  } finally {
    await store.close();
  }
});
