/**
 * Generic JSONL / CSV loaders and the bad-input errors (file, 1-based line, field).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/datasets/index.ts';
import { InputError } from '../../src/core/errors.ts';
import { sha256 } from '../../src/core/hash.ts';
import { shared } from '../../testkit/shared.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'assay-datasets-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

/** Assert an InputError with the given where-fields. */
async function rejectsWhere(p: Promise<unknown>, where: { file?: string; line?: number; field?: string }, msg?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    for (const [k, v] of Object.entries(where)) assert.equal(err.where[k as keyof typeof where], v, `${k} in ${err.message}`);
    if (msg) assert.match(err.message, msg);
    return true;
  });
}

test('generic JSONL: id/question/answer need no mapping; extra columns go to metadata; numbers stringified', async () => {
  const content =
    '{"id": 1, "question": "2+2?", "answer": 4, "topic": "arith"}\n' +
    '\n' +
    '{"id": "b", "question": "Capital of France?", "answer": "Paris", "tags": ["geo"]}\r\n' +
    '{"id": 3, "question": "pi?", "answer": 3.0, "ok": true}';
  const p = await file('plain.jsonl', '\uFEFF' + content);
  for (const ref of [`jsonl:${p}`, p]) {
    const d = await loadDataset(ref);
    assert.equal(d.name, 'plain');
    assert.equal(d.path, p);
    assert.equal(d.hash, sha256(Buffer.from('\uFEFF' + content)));
    assert.equal(d.defaultScorer, 'math');
    assert.equal(d.defaultTemplate, 'plain');
    assert.deepEqual(d.samples, [
      { id: '1', input: '2+2?', target: '4', metadata: { topic: 'arith', raw_id: 1, raw_answer: 4 } },
      { id: 'b', input: 'Capital of France?', target: 'Paris', metadata: { tags: ['geo'] } },
      { id: '3', input: 'pi?', target: '3', metadata: { ok: true, raw_id: 3, raw_answer: 3 } },
    ]);
  }
});

test('generic JSONL: id fallbacks idx, unique_id, question_id; input fallback problem', async () => {
  for (const key of ['idx', 'unique_id', 'question_id']) {
    const p = await file(`fb-${key}.jsonl`, `{"${key}": "k1", "problem": "P", "answer": "A"}\n{"${key}": "k2", "problem": "Q", "answer": "B"}\n`);
    const d = await loadDataset(p);
    assert.deepEqual(d.samples.map((s) => [s.id, s.input, s.target]), [['k1', 'P', 'A'], ['k2', 'Q', 'B']]);
  }
});

test('generic JSONL: fields map other names; choices make a multiple-choice dataset; message inputs kept', async () => {
  const p = await file('mapped.jsonl', '{"qid": 7, "prompt": "Pick", "label": "B", "options": ["x", "y", 3]}\n');
  const d = await loadDataset(p, { fields: { id: 'qid', input: 'prompt', target: 'label', choices: 'options' } });
  assert.deepEqual(d.samples[0], { id: '7', input: 'Pick', target: 'B', choices: ['x', 'y', '3'], metadata: { raw_id: 7 } });
  assert.equal(d.defaultScorer, 'choice');
  const m = await file('messages.jsonl', '{"id": "m", "question": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}], "answer": "a"}\n');
  const dm = await loadDataset(m);
  assert.deepEqual(dm.samples[0]!.input, [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }]);
});

test('Qwen outputs file as a generic dataset with fields {id: "idx"}', async () => {
  const q = shared('data/outputs/qwen25math_math_cot_100.jsonl');
  const d = await loadDataset(`jsonl:${q}`, { fields: { id: 'idx' } });
  assert.equal(d.samples.length, 100);
  assert.equal(d.samples[0]!.id, '0');
  assert.equal(d.samples[0]!.target, '420');
  assert.equal(d.samples[0]!.metadata.level, 'Level 3');
});

test('generic CSV: header row, quoting, multi-line cells, mapping, choices as JSON text', async () => {
  const csv = 'id,question,answer,difficulty\r\n1,"What is 1,000 + 1?",1001,easy\r\n2,"Line one\nline two","say ""hi""",hard\r\n';
  const p = await file('set.csv', csv);
  for (const ref of [`csv:${p}`, p]) {
    const d = await loadDataset(ref);
    assert.equal(d.hash, sha256(csv));
    assert.deepEqual(d.samples, [
      { id: '1', input: 'What is 1,000 + 1?', target: '1001', metadata: { difficulty: 'easy' } },
      { id: '2', input: 'Line one\nline two', target: 'say "hi"', metadata: { difficulty: 'hard' } },
    ]);
  }
  const c = await file('mc.csv', 'n,q,gold,opts\n1,Pick one,A,"[""red"",""blue""]"\n');
  const dc = await loadDataset(c, { fields: { id: 'n', input: 'q', target: 'gold', choices: 'opts' } });
  assert.deepEqual(dc.samples[0]!.choices, ['red', 'blue']);
  assert.equal(dc.defaultScorer, 'choice');
  const lim = await loadDataset(p, { limit: 1 });
  assert.equal(lim.samples.length, 1);
  assert.equal(lim.hash, sha256(csv));
});

test('CSV errors: missing column, duplicate id, ragged row, empty file', async () => {
  const noAnswer = await file('noans.csv', 'id,question\n1,q\n');
  await rejectsWhere(loadDataset(noAnswer), { file: noAnswer, line: 1, field: 'answer' }, /missing target field/);
  const dup = await file('dup.csv', 'id,question,answer\n1,a,b\n2,c,d\n1,e,f\n');
  await rejectsWhere(loadDataset(dup), { file: dup, line: 4, field: 'id' }, /duplicate id "1" \(first seen on line 2\)/);
  const ragged = await file('ragged.csv', 'id,question,answer\n1,a,b\n2,c\n');
  await rejectsWhere(loadDataset(ragged), { file: ragged, line: 3 }, /malformed CSV/);
  const empty = await file('empty.csv', '');
  await rejectsWhere(loadDataset(empty), { file: empty }, /no samples/);
  const headerOnly = await file('header.csv', 'id,question,answer\n');
  await rejectsWhere(loadDataset(headerOnly), { file: headerOnly }, /no samples/);
  const emptyInput = await file('emptyq.csv', 'id,question,answer\n1,,b\n');
  await rejectsWhere(loadDataset(emptyInput), { file: emptyInput, line: 2, field: 'question' }, /empty input/);
});

test('JSONL errors name file, 1-based line and field', async () => {
  const ok = '{"id": 1, "question": "q", "answer": "a"}\n';
  const broken = await file('broken.jsonl', ok + '{"id": 2, "question": "q", "answer": \n');
  await rejectsWhere(loadDataset(broken), { file: broken, line: 2 }, /broken JSON/);

  const missing = await file('missing.jsonl', ok + '{"id": 2, "question": "q", "answer": "a"}\n{"id": 3, "question": "q"}\n');
  await rejectsWhere(loadDataset(missing), { file: missing, line: 3, field: 'answer' }, /missing field/);

  const wrongType = await file('wrongtype.jsonl', ok + '{"id": 2, "question": "q", "answer": {"value": 4}}\n');
  await rejectsWhere(loadDataset(wrongType), { file: wrongType, line: 2, field: 'answer' }, /wrong type.*object/);

  const nullAns = await file('null.jsonl', '{"id": 2, "question": "q", "answer": null}\n');
  await rejectsWhere(loadDataset(nullAns), { file: nullAns, line: 1, field: 'answer' }, /null/);

  const notObject = await file('array.jsonl', ok + '[1, 2]\n');
  await rejectsWhere(loadDataset(notObject), { file: notObject, line: 2 }, /expected a JSON object, got array/);

  const empty = await file('empty.jsonl', '');
  await rejectsWhere(loadDataset(empty), { file: empty }, /no samples/);
  const blank = await file('blank.jsonl', '\n  \n\n');
  await rejectsWhere(loadDataset(blank), { file: blank }, /no samples/);

  const dup = await file('dup.jsonl', ok + '{"id": 2, "question": "q", "answer": "a"}\n\n{"id": "1", "question": "q", "answer": "a"}\n');
  await rejectsWhere(loadDataset(dup), { file: dup, line: 4, field: 'id' }, /duplicate id "1" \(first seen on line 1\)/);

  const noId = await file('noid.jsonl', '{"question": "q", "answer": "a"}\n');
  await rejectsWhere(loadDataset(noId), { file: noId, line: 1, field: 'id' }, /fields\.id/);

  const emptyId = await file('emptyid.jsonl', '{"id": " ", "question": "q", "answer": "a"}\n');
  await rejectsWhere(loadDataset(emptyId), { file: emptyId, line: 1, field: 'id' }, /empty id/);

  const badChoices = await file('badchoices.jsonl', '{"id": 1, "question": "q", "answer": "a", "choices": "abc"}\n');
  await rejectsWhere(loadDataset(badChoices), { file: badChoices, line: 1, field: 'choices' });

  const gsmNoMarker = await file('gsm.jsonl', '{"question": "q", "answer": "#### 5"}\n{"question": "q2", "answer": "no marker"}\n');
  await rejectsWhere(loadDataset(`gsm8k:${gsmNoMarker}`), { file: gsmNoMarker, line: 2, field: 'answer' }, /####/);
});

test('a 50 MB line is rejected quickly without reading it whole; maxLineBytes is configurable', async () => {
  const p = join(dir, 'huge.jsonl');
  const fh = await open(p, 'w');
  await fh.write('{"id": 1, "question": "q", "answer": "a"}\n{"id": 2, "question": "');
  const block = Buffer.alloc(1 << 20, 0x78);
  for (let i = 0; i < 50; i++) await fh.write(block);
  await fh.write('", "answer": "a"}\n');
  await fh.close();
  const t0 = performance.now();
  await rejectsWhere(loadDataset(p), { file: p, line: 2 }, /longer than the limit of 16777216 bytes/);
  const ms = performance.now() - t0;
  assert.ok(ms < 30_000, `took ${ms} ms (a hang guard: timings are measured in bench/, not asserted)`);

  const small = await file('small.jsonl', '{"id": 1, "question": "q", "answer": "a"}\n{"id": 2, "question": "' + 'y'.repeat(200) + '", "answer": "a"}');
  await rejectsWhere(loadDataset(small, { maxLineBytes: 100 }), { file: small, line: 2 }, /longer than the limit of 100 bytes/);
  assert.equal((await loadDataset(small, { maxLineBytes: 1000 })).samples.length, 2);
});

test('multi-byte UTF-8 across read chunks survives (line split on bytes, decoded per line)', async () => {
  const q = 'Janet\u2019s ducks \u00e9\u{1F986} '.repeat(100_000); // ~2.4 MB line, spans several 1 MiB chunks
  const p = await file('utf8.jsonl', JSON.stringify({ id: 'u', question: q, answer: '18' }) + '\n');
  const d = await loadDataset(p);
  assert.equal(d.samples[0]!.input, q);
});

test('an empty target among rows with targets is refused with file, line and field; a file with no targets loads', async () => {
  // JSONL: an empty (or blank) answer after rows with answers, and before them
  const later = await file('emptyans-later.jsonl', '{"id": 1, "question": "q", "answer": "5"}\n\n{"id": 2, "question": "q2", "answer": "  "}\n');
  await rejectsWhere(loadDataset(later), { file: later, line: 3, field: 'answer' }, /empty/);
  const first = await file('emptyans-first.jsonl', '{"id": 1, "question": "q", "answer": ""}\n{"id": 2, "question": "q2", "answer": "7"}\n');
  await rejectsWhere(loadDataset(first), { file: first, line: 1, field: 'answer' }, /empty/);
  // a mapped target column is named in the error
  const mapped = await file('emptylabel.jsonl', '{"id": 1, "question": "q", "label": "A"}\n{"id": 2, "question": "q2", "label": ""}\n');
  await rejectsWhere(loadDataset(mapped, { fields: { target: 'label' } }), { file: mapped, line: 2, field: 'label' }, /empty/);
  // CSV: an empty cell (the header is line 1)
  const csv = await file('emptyans.csv', 'id,question,answer\n1,q,5\n2,q2,\n');
  await rejectsWhere(loadDataset(csv), { file: csv, line: 3, field: 'answer' }, /empty/);
  // a named benchmark refuses any empty answer, even on its only row
  const m500 = await file('m500.jsonl', '{"unique_id": "u1", "problem": "p", "answer": ""}\n');
  await rejectsWhere(loadDataset(`math500:${m500}`), { file: m500, line: 1, field: 'answer' }, /empty/);
  const amc = await file('amc.jsonl', '{"id": 1, "problem": "p", "answer": 27.0}\n{"id": 2, "problem": "p2", "answer": " "}\n');
  await rejectsWhere(loadDataset(`amc23:${amc}`), { file: amc, line: 2, field: 'answer' }, /empty/);
  // documents for loglikelihood_rolling / prompts for a judge: no row has a target, the file is read as it is
  const docs = await file('docs.jsonl', '{"id": "d0", "question": "A cat sleeps.", "answer": ""}\n{"id": "d1", "question": "A dog runs.", "answer": ""}\n');
  const d = await loadDataset(docs);
  assert.deepEqual(d.samples.map((s) => [s.id, s.target]), [['d0', ''], ['d1', '']]);
  const docsCsv = await file('docs.csv', 'id,question,answer\nd0,A cat sleeps.,\n');
  assert.deepEqual((await loadDataset(docsCsv)).samples.map((s) => s.target), ['']);
  // the limit reads only the first rows: an empty target past it is not looked at
  assert.deepEqual((await loadDataset(later, { limit: 1 })).samples.map((s) => s.target), ['5']);
});
