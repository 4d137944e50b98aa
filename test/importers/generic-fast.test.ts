/**
 * The fast generic importers: the streaming CSV reader reads what csv-parse reads (records, line numbers, errors),
 * the generic JSONL format imports the same pool as the generic CSV, and a repeated measurement found at commit is
 * still reported as an immediate check would (before a later bad row, with both lines).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { csvBatches } from '../../src/importers/csv.ts';
import { importGenericCsv, importGenericJsonl } from '../../src/importers/index.ts';
import { openPool } from '../../src/store/open.ts';
import { InputError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import { collect } from '../helpers/collect.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'assay-generic-fast-'));

async function viaCsvParse(text: string): Promise<string> {
  const out: string[] = [];
  try {
    for await (const { record, info } of parse(text, { bom: true, info: true, skip_empty_lines: true, relax_column_count: true }) as AsyncIterable<{ record: string[]; info: { lines: number } }>) out.push(`${info.lines} ${JSON.stringify(record)}`);
    return out.join(' | ');
  } catch (e) {
    const err = e as { code?: string; lines?: number };
    return `ERR ${err.code === 'CSV_QUOTE_NOT_CLOSED' ? err.code : 'malformed'} ${err.lines}`;
  }
}

async function viaReader(file: string): Promise<string> {
  const out: string[] = [];
  try {
    for await (const b of csvBatches(file)) b.records.forEach((r, k) => out.push(`${b.lines[k]} ${JSON.stringify(r)}`));
    return out.join(' | ');
  } catch (e) {
    const err = e as { code?: string; lines?: number };
    return `ERR ${err.code === 'CSV_QUOTE_NOT_CLOSED' ? err.code : 'malformed'} ${err.lines}`;
  }
}

test('the CSV reader gives csv-parse\'s records, line numbers and errors (LF files, random quoting)', async () => {
  const dir = tmp();
  const file = join(dir, 'x.csv');
  const rng = createRng(1);
  const alphabet = ['a', 'b', ',', ',', '"', '\n', '\n', ' ', 'x', '""'];
  const fixed = ['h\n1,"x\ny"\n2,z\n', '\ufeffa,b\n1,2\n', 'a,b\n1,x"y\n', 'a,b\n1,"x"y\n', 'a,b\n1,"xy\n2,3\n', 'a,b\n  \n1,2\n', 'a,b\n,\n1,2', 'a,b\r\n1,2\r\n\r\n3,4\r\n', 'a,b\r\n1,"2"\r\n'];
  const cases = [...fixed];
  for (let t = 0; t < 1500; t++) {
    let s = 'h1,h2\n';
    for (let k = rng.index(30); k > 0; k--) s += alphabet[rng.index(alphabet.length)];
    cases.push(s);
  }
  for (const text of cases) {
    writeFileSync(file, text);
    const want = await viaCsvParse(text), got = await viaReader(file);
    // csv-parse, reading a string, throws before handing out the records before the error: compare the error only
    assert.equal(want.startsWith('ERR') ? got.slice(got.indexOf('ERR')) : got, want, JSON.stringify(text));
  }
});

test('generic JSONL imports the same measurements and samples as the generic CSV; its errors name line and key', async () => {
  const dir = tmp();
  const rows = [
    { model: 'a', sample_id: '1', value: 1, kind: 'binary', category: 'alg', tags: ['x', 'y'] },
    { model: 'b', sample_id: '1', value: 0, kind: 'binary' },
    { model: 'a', sample_id: '2', value: 0.31, kind: 'numeric', direction: 'lower', tie_tolerance: 0.05, text: 'a "quoted" prompt' },
    { model: 'a', sample_id: '3', value: 1, kind: 'battle', opponent: 'b', weight: 3, repeat: 1, slice: 'v1' },
    // numbers as numbers (taken as given, not printed and parsed again): 0 is a value, not an absent field
    { model: 'b', sample_id: '3', value: 0, kind: 'battle', opponent: 'a', weight: 0, repeat: 0, slice: 'v1' },
    { model: 'b', sample_id: '2', value: 1e-7, kind: 'numeric', direction: 'lower', tie_tolerance: 0 },
    { model: 'c', sample_id: '2', value: 2.5e3, kind: 'numeric', direction: 'lower', tie_tolerance: 0.05, repeat: 2 },
  ];
  writeFileSync(join(dir, 'tool.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const csvField = (v: unknown) => (v === undefined ? '' : Array.isArray(v) ? v.join(';') : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const cols = ['model', 'sample_id', 'value', 'kind', 'opponent', 'direction', 'tie_tolerance', 'weight', 'slice', 'repeat', 'category', 'tags', 'text'];
  writeFileSync(join(dir, 'tool.csv'), [cols.join(','), ...rows.map((r) => cols.map((c) => csvField((r as Record<string, unknown>)[c])).join(','))].join('\n') + '\n');
  const a = await openPool(join(dir, 'a.sqlite'), { create: true });
  const b = await openPool(join(dir, 'b.sqlite'), { create: true });
  await importGenericJsonl(a, join(dir, 'tool.jsonl'));
  await importGenericCsv(b, join(dir, 'tool.csv'));
  const strip = (ms: { source: string; line?: number | null }[]) => ms.map(({ source: _s, line: _l, ...m }) => m);
  assert.deepEqual(strip(await collect(a.iteratePoolMeasurements({ runs: false }))), strip(await collect(b.iteratePoolMeasurements({ runs: false }))));
  assert.deepEqual(await collect(a.iteratePoolSamples({ runs: false })), await collect(b.iteratePoolSamples({ runs: false })));
  writeFileSync(join(dir, 'bad.jsonl'), '{"model":"a","sample_id":"1","value":1,"kind":"binary"}\n{"model":"a","sample_id":{"x":1},"value":1,"kind":"binary"}\n');
  await assert.rejects(importGenericJsonl(a, join(dir, 'bad.jsonl')), (e: unknown) => e instanceof InputError && /bad\.jsonl:2 field "sample_id": expected a string or a number/.test(e.message));
  const weights = (await collect(a.iteratePoolMeasurements({ runs: false }))).filter((m) => m.kind === 'battle').map((m) => m.weight).sort();
  assert.deepEqual(weights, [0, 3], 'a weight of 0 given as a JSON number is 0');
  writeFileSync(join(dir, 'huge.jsonl'), '{"model":"a","sample_id":"9","value":1e400,"kind":"numeric"}\n');
  await assert.rejects(importGenericJsonl(a, join(dir, 'huge.jsonl')), (e: unknown) => e instanceof InputError && /huge\.jsonl:1 field "value": expected a finite number/.test(e.message));
  writeFileSync(join(dir, 'cut.jsonl'), '{"model":"a","sample_id":"1","value":1,"kind":"binary"}\n{"model":"a","sample_id":"2","val');
  await assert.rejects(importGenericJsonl(a, join(dir, 'cut.jsonl')), (e: unknown) => e instanceof InputError && /cut\.jsonl:2: invalid JSON on the last line, which has no newline/.test(e.message));
  await a.close();
  await b.close();
});

test('a repeated measurement is reported before a later bad row, with both lines, and nothing is written', async () => {
  const dir = tmp();
  const store = await openPool(join(dir, 'p.sqlite'), { create: true });
  const file = join(dir, 'dup.csv');
  writeFileSync(file, 'model,sample_id,value,kind\na,1,1,binary\nb,1,0,binary\nc,2,1,binary\na,1,0,binary\nb,2,7,binary\n');
  await assert.rejects(importGenericCsv(store, file), (e: unknown) => e instanceof InputError && e.message === `${file}:5: duplicate measurement: model "a" on sample "dup/1" was already given at line 2`);
  // the repeat after the bad row: the bad row is reported
  writeFileSync(file, 'model,sample_id,value,kind\na,1,1,binary\nb,2,7,binary\na,1,0,binary\n');
  await assert.rejects(importGenericCsv(store, file), (e: unknown) => e instanceof InputError && /dup\.csv:3 field "value": binary value must be in \[0, 1\]/.test(e.message));
  // only the repeat: found at commit, the same message
  writeFileSync(file, 'model,sample_id,value,kind\na,1,1,binary\nb,2,1,binary\na,1,0,binary\n');
  await assert.rejects(importGenericCsv(store, file), (e: unknown) => e instanceof InputError && e.message === `${file}:4: duplicate measurement: model "a" on sample "dup/1" was already given at line 2`);
  assert.deepEqual(await store.sources(), []);
  assert.deepEqual(await collect(store.iteratePoolMeasurements({ runs: false })), []);
  await store.close();
});
