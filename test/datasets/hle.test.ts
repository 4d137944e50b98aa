/**
 * The `hle` loader (src/datasets/hle.ts) on JSONL and Parquet fixtures built at run time: both exports give the same
 * samples, bad rows name file, line and field; hostile rows (a __proto__ column, an image that is not a string).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/datasets/index.ts';
import { HLE_CHOICE_FORMAT, HLE_EXACT_FORMAT, hleRowToSample } from '../../src/datasets/hle.ts';
import { writeStringParquet } from './parquet-writer.ts';

const HLE_ROWS = [
  { id: 'h1', question: 'What is 2+2?', answer: '4', answer_type: 'exactMatch', image: '', category: 'Math', raw_subject: 'Arithmetic', rationale: 'sum' },
  { id: 'h2', question: 'Capital of France?', answer: 'Paris', answer_type: 'exactMatch', image: '', category: 'Humanities', raw_subject: 'Geography', rationale: '' },
  { id: 'h3', question: 'Pick the even one.\nA. 3\nB. 4', answer: 'B', answer_type: 'multipleChoice', image: 'data:image/png;base64,iVBORw0KGgo=', category: 'Math', raw_subject: 'Parity', rationale: '' },
  { id: 'h4', question: 'What is 7*6?', answer: '42', answer_type: 'exactMatch', image: '', category: 'Math', raw_subject: 'Arithmetic', rationale: '' },
];

test('hle loader: JSONL and Parquet exports give the same samples; bad rows name file, line and field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-hle-'));
  try {
    const jsonl = join(dir, 'hle.jsonl');
    writeFileSync(jsonl, HLE_ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const pq = join(dir, 'hle.parquet');
    writeStringParquet(pq, Object.keys(HLE_ROWS[0]!), HLE_ROWS);
    const a = await loadDataset(`hle:${jsonl}`);
    const b = await loadDataset(`hle:${pq}`);
    assert.equal(a.name, 'hle');
    assert.equal(a.defaultScorer, 'judge');
    assert.deepEqual(a.samples, b.samples);
    assert.notEqual(a.hash, b.hash, 'the hash is of the file bytes');
    const [s1, , s3] = a.samples;
    assert.deepEqual(s1!.input, [{ role: 'system', content: HLE_EXACT_FORMAT }, { role: 'user', content: 'What is 2+2?' }]);
    assert.equal((s3!.input as { content: string }[])[0]!.content, HLE_CHOICE_FORMAT);
    assert.equal(s3!.target, 'B');
    assert.deepEqual(
      { t: s3!.metadata.answer_type, c: s3!.metadata.category, s: s3!.metadata.raw_subject, h: s3!.metadata.has_image, i: s3!.metadata.image },
      // The image is sent as an image part; the metadata names it by hash instead of repeating the data URI.
      { t: 'multipleChoice', c: 'Math', s: 'Parity', h: true, i: `sha256:${createHash('sha256').update(Buffer.from('iVBORw0KGgo=', 'base64')).digest('hex')}` },
    );
    assert.equal(s1!.metadata.has_image, false);
    assert.equal(s1!.metadata.rationale, 'sum');
    assert.equal((await loadDataset(`hle:${pq}`, { limit: 2 })).samples.length, 2);

    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, JSON.stringify(HLE_ROWS[0]) + '\n' + JSON.stringify({ ...HLE_ROWS[1], answer_type: 'freeform' }) + '\n');
    await assert.rejects(loadDataset(`hle:${bad}`), /bad\.jsonl:2 field "answer_type": unknown answer_type "freeform"/);
    writeFileSync(bad, JSON.stringify({ ...HLE_ROWS[0], answer: '' }) + '\n');
    await assert.rejects(loadDataset(`hle:${bad}`), /bad\.jsonl:1 field "answer": empty value/);
    writeFileSync(bad, JSON.stringify({ ...HLE_ROWS[0], question: { text: 'x' } }) + '\n');
    await assert.rejects(loadDataset(`hle:${bad}`), /field "question": wrong type/);
    const badPq = join(dir, 'bad.parquet');
    writeStringParquet(badPq, ['id', 'question', 'answer', 'answer_type'], [HLE_ROWS[0]!, { ...HLE_ROWS[0]! }]);
    await assert.rejects(loadDataset(`hle:${badPq}`), /bad\.parquet:2 field "id": duplicate id "h1"/);
    writeFileSync(badPq, 'PAR1 not really');
    await assert.rejects(loadDataset(`hle:${badPq}`), /bad\.parquet: not a readable Parquet file/);
    await assert.rejects(loadDataset('hle'), /gated/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hle rows: a __proto__ column does not set the metadata prototype; an image must be a string', () => {
  const row = JSON.parse('{"id":"a","question":"q","answer":"1","answer_type":"exactMatch","__proto__":{"has_image":true,"polluted":1}}') as Record<string, unknown>;
  const s = hleRowToSample(row, 'f.jsonl', 1);
  assert.equal(Object.getPrototypeOf(s.metadata), Object.prototype);
  assert.equal((s.metadata as Record<string, unknown>).polluted, undefined);
  assert.equal(s.metadata!.has_image, false);
  for (const image of [5, true, { bytes: 'xx' }, ['u']]) {
    assert.throws(() => hleRowToSample({ id: 'a', question: 'q', answer: '1', answer_type: 'exactMatch', image }, 'f.jsonl', 3), /f\.jsonl.*3|image/);
  }
  assert.equal(hleRowToSample({ id: 'a', question: 'q', answer: '1', answer_type: 'exactMatch', image: '' }, 'f', 1).metadata!.has_image, false);
  assert.equal(hleRowToSample({ id: 'a', question: 'q', answer: '1', answer_type: 'exactMatch', image: null }, 'f', 1).metadata!.has_image, false);
});
