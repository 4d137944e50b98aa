/**
 * Inspect's default `.eval` logs (zip archives) are imported, not refused. The archives are built here from
 * Inspect's documented layout (inspect_ai `log/_recorders/eval.py`): `header.json`, `samples/<id>_epoch_<n>.json`,
 * `summaries.json`, `reductions.json`, and the `_journal/` written while an eval runs. Checked: the same measurements
 * as the JSON log of the same eval; a log still running (journal only); a log without sample files (summaries);
 * stored and deflated entries; and clear errors for a zip that is no Inspect log and for a truncated archive.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { InputError } from '../../src/core/errors.ts';
import { importInspect } from '../../src/importers/index.ts';
import { openPool } from '../../src/store/open.ts';
import type { Pool, PoolMeasurement } from '../../src/store/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-inspect-eval-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));

/** A zip archive of `files` (name → text), each entry deflated (method 8) or stored (method 0), as Python's zipfile writes them. */
function zip(files: [string, string][], method: 0 | 8 = 8): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of files) {
    const data = Buffer.from(text, 'utf8');
    const body = method === 8 ? deflateRawSync(data) : data;
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x5a21, 12); // 2025-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x5a21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, body);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

// --- one small eval: 3 samples × 2 epochs, a `match` scorer with C/I/P values ------------------------------------------
const evalSpec = { run_id: 'r1', task: 'quiz_task', task_version: 0, model: 'openai/gpt-4o-mini', dataset: { name: 'quiz', samples: 3 }, config: { epochs: 2 } };
const plan = { name: 'plan', steps: [{ solver: 'generate', params: {} }] };
const VALUES: Record<string, string[]> = { '1': ['C', 'C'], '2': ['I', 'P'], '3': ['C', 'I'] };
const samples = Object.entries(VALUES).flatMap(([id, vs]) => vs.map((v, e) => ({
  id: Number(id), epoch: e + 1,
  input: [{ role: 'system', content: 'Answer briefly.' }, { role: 'user', content: [{ type: 'text', text: `Question ${id}?` }, { type: 'image', image: 'data:…' }] }],
  target: `A${id}`, metadata: { category: id === '2' ? 'hard' : 'easy' },
  messages: [{ role: 'user', content: `Question ${id}?` }, { role: 'assistant', content: `answer ${e}` }],
  output: { model: 'gpt-4o-mini-2024-07-18', choices: [] }, events: [{ event: 'model', timestamp: '2025-01-01T00:00:00Z' }],
  scores: { match: { value: v, answer: `answer ${e}`, explanation: 'compared' }, includes: { value: v === 'C' ? 'C' : 'I' } },
})));
const summaries = samples.map(({ id, epoch, input, target, scores }) => ({ id, epoch, input, target, scores }));
const header = { version: 2, status: 'success', eval: evalSpec, plan, results: { total_samples: 6, completed_samples: 6, scores: [] }, stats: { started_at: '2025-01-01', completed_at: '2025-01-01' } };
const j = (x: unknown) => JSON.stringify(x, null, 2);
const sampleFiles = samples.map((s) => [`samples/${s.id}_epoch_${s.epoch}.json`, j(s)] as [string, string]);

const complete: [string, string][] = [
  ['_journal/start.json', j({ version: 2, eval: evalSpec, plan })],
  ...sampleFiles.slice(0, 4),
  ['_journal/summaries/1.json', j(summaries.slice(0, 4))],
  ...sampleFiles.slice(4),
  ['_journal/summaries/2.json', j(summaries.slice(4))],
  ['summaries.json', j(summaries)],
  ['reductions.json', j([{ scorer: 'match', samples: [] }])],
  ['header.json', j(header)],
];

async function measurements(pool: Pool, source: string): Promise<PoolMeasurement[]> {
  const out: PoolMeasurement[] = [];
  for await (const m of pool.iteratePoolMeasurements({ sources: [source] })) out.push(m);
  return out;
}
const shape = (ms: PoolMeasurement[]) => ms.map((m) => [m.slice, m.sample_key, m.model, m.rep, m.kind, m.value]);

test('a .eval log (zip) imports the same measurements as the JSON log of the same eval, from stored or deflated entries', async () => {
  await using pool = await openPool('memory:');
  const evalFile = join(dir, '2025-01-01T00-00-00_quiz-task_abc.eval');
  writeFileSync(evalFile, zip(complete));
  const r = await importInspect(pool, evalFile);
  assert.equal(r.format, 'inspect');
  assert.equal(r.measurements, 6);
  assert.equal(r.samples, 3);
  const got = await measurements(pool, r.id);
  assert.deepEqual(shape(got), [
    ['match', 'quiz/1', 'openai/gpt-4o-mini', 0, 'binary', 1], ['match', 'quiz/1', 'openai/gpt-4o-mini', 1, 'binary', 1],
    ['match', 'quiz/2', 'openai/gpt-4o-mini', 0, 'binary', 0], ['match', 'quiz/2', 'openai/gpt-4o-mini', 1, 'binary', 0.5],
    ['match', 'quiz/3', 'openai/gpt-4o-mini', 0, 'binary', 1], ['match', 'quiz/3', 'openai/gpt-4o-mini', 1, 'binary', 0],
  ]);
  const ps = [];
  for await (const s of pool.iteratePoolSamples({ runs: false })) ps.push(s);
  assert.deepEqual(ps.map((s) => [s.key, s.category, s.text]), [['quiz/1', 'easy', 'Answer briefly.\nQuestion 1?'], ['quiz/2', 'hard', 'Answer briefly.\nQuestion 2?'], ['quiz/3', 'easy', 'Answer briefly.\nQuestion 3?']]);
  // The JSON log of the same eval: identical measurements.
  const jsonFile = join(dir, 'quiz.json');
  writeFileSync(jsonFile, j({ ...header, samples }));
  const rj = await importInspect(pool, jsonFile);
  assert.deepEqual(shape(await measurements(pool, rj.id)), shape(got));
  // Another scorer, and stored (uncompressed) entries.
  const stored = join(dir, 'stored.eval');
  writeFileSync(stored, zip(complete, 0));
  const rs = await importInspect(pool, stored, { scorer: 'includes' });
  assert.deepEqual((await measurements(pool, rs.id)).map((m) => m.value), [1, 1, 0, 0, 1, 0]);
  await assert.rejects(importInspect(pool, stored, { scorer: 'nope', replace: true }), (e: unknown) => e instanceof InputError && /no score from scorer "nope"/.test(e.message) && /samples\/1_epoch_1\.json/.test(e.message));
});

test('a .eval log still running (journal only), and one without sample files (summaries), are imported', async () => {
  await using pool = await openPool('memory:');
  const running = join(dir, 'running.eval');
  writeFileSync(running, zip([['_journal/start.json', j({ version: 2, eval: evalSpec, plan })], ...sampleFiles.slice(0, 4), ['_journal/summaries/1.json', j(summaries.slice(0, 4))]]));
  const r = await importInspect(pool, running);
  assert.equal(r.measurements, 4, 'the samples written so far');
  assert.equal(r.options.status, null);
  const noSamples = join(dir, 'summaries-only.eval');
  writeFileSync(noSamples, zip([['header.json', j(header)], ['summaries.json', j(summaries)]]));
  const s = await importInspect(pool, noSamples);
  assert.equal(s.measurements, 6);
  assert.equal(s.options.status, 'success');
  const journalOnly = join(dir, 'journal-summaries.eval');
  writeFileSync(journalOnly, zip([['_journal/start.json', j({ version: 2, eval: evalSpec, plan })], ['_journal/summaries/2.json', j(summaries.slice(4))], ['_journal/summaries/1.json', j(summaries.slice(0, 4))]]));
  assert.equal((await importInspect(pool, journalOnly)).measurements, 6);
});

test('a zip that is not an Inspect log, a truncated .eval, an entry that is not JSON, and a log without samples get clear errors', async () => {
  await using pool = await openPool('memory:');
  const other = join(dir, 'other.eval');
  writeFileSync(other, zip([['readme.txt', 'hello']]));
  await assert.rejects(importInspect(pool, other), (e: unknown) => e instanceof InputError && /not an Inspect \.eval log: the archive has no header\.json/.test(e.message));
  const full = zip(complete);
  const cut = join(dir, 'cut.eval');
  writeFileSync(cut, full.subarray(0, Math.floor(full.length * 0.6)));
  await assert.rejects(importInspect(pool, cut), (e: unknown) => e instanceof InputError && /truncated or corrupt|corrupt/.test(e.message));
  const badJson = join(dir, 'bad-json.eval');
  writeFileSync(badJson, zip([['header.json', j(header)], ['samples/1_epoch_1.json', '{"id": 1, "epoch": 1, "scores": ']]));
  await assert.rejects(importInspect(pool, badJson), (e: unknown) => e instanceof InputError && /invalid JSON in entry samples\/1_epoch_1\.json/.test(e.message));
  const empty = join(dir, 'empty.eval');
  writeFileSync(empty, zip([['header.json', j(header)]]));
  await assert.rejects(importInspect(pool, empty), (e: unknown) => e instanceof InputError && /no samples/.test(e.message));
  const notZip = join(dir, 'not-a-zip.eval');
  writeFileSync(notZip, 'garbage');
  await assert.rejects(importInspect(pool, notZip), (e: unknown) => e instanceof InputError && /a \.eval log is a zip archive/.test(e.message));
  assert.equal((await pool.sources()).length, 0, 'nothing half-imported');
});

test('`assay import inspect <file>.eval` on the command line', () => {
  const file = join(dir, 'cli.eval');
  writeFileSync(file, zip(complete));
  const pool = join(dir, 'cli.sqlite');
  const r = spawnSync(process.execPath, [BIN, 'import', 'inspect', file, '--pool', pool, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.source.measurements, 6);
  assert.equal(doc.source.format, 'inspect');
  assert.ok(readFileSync(file).length > 0);
});
