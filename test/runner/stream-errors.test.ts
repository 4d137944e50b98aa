/**
 * Bad stream files (YAML and JSON): every error names the stream file, the line, the entry (checkpoint i, adaptation
 * task j, zero-shot task j; 0-based) and the field — for syntax errors, schema errors found when the file is read,
 * and errors found when its tasks are loaded and placed (unknown checkpoints, duplicates, a bad task file, an order
 * missing an entry's number). The CLI exits with code 2 and prints the same message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/core/errors.ts';
import { readStreamFile, resolveStream } from '../../src/runner/stream.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'assay-stream-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const t of ['a', 'b', 'z']) {
  writeFileSync(join(dir, `${t}.jsonl`), `{"id":"${t}1","question":"1+1?","answer":"2"}\n`);
  writeFileSync(join(dir, `${t}.yaml`), `name: ${t}\ndataset: ${join(dir, `${t}.jsonl`)}\nscorers: [exact]\n`);
}
writeFileSync(join(dir, 'broken-task.yaml'), 'name: broken\ndataset: x.jsonl\nscorerz: [exact]\n');

/** Write a stream file and return the InputError that reading and resolving it throws. */
async function errorOf(name: string, text: string): Promise<{ err: InputError; file: string }> {
  const file = join(dir, name);
  writeFileSync(file, text);
  try {
    const read = readStreamFile(file);
    await resolveStream(read.definition, read.baseDir, { source: read.source });
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    return { err, file };
  }
  assert.fail(`${name}: no error`);
}

const CKPTS = ['checkpoints:', '  - { name: base, model: "openai:m0" }', '  - { name: s1, model: "openai:m1" }', '  - { name: s2, model: "openai:m2" }'];

it('YAML and JSON syntax errors name the file and the line', async () => {
  const y = await errorOf('syntax.yaml', [...CKPTS, 'adaptation:', '  - { task: a.yaml, at: 1', 'zero_shot: [z.yaml]'].join('\n'));
  assert.equal(y.err.where.file, y.file);
  assert.match(y.err.message, /^.*syntax\.yaml:\d+: YAML: /);
  assert.ok(y.err.where.line! >= 6, String(y.err.where.line));
  const j = await errorOf('syntax.json', '{\n  "checkpoints": ["openai:m0", "openai:m1"],\n  "zero_shot": ["z.yaml"],,\n}\n');
  assert.equal(j.err.where.file, j.file);
  assert.match(j.err.message, /syntax\.json:3: JSON: /);
});

it('schema errors name the entry, the field and its line: a checkpoint without a model, an unknown key, a bad count', async () => {
  const m = await errorOf('no-model.yaml', ['checkpoints:', '  - "openai:m0"', '  - { name: s1, model: "openai:m1" }', '  - { name: s2 }', 'zero_shot: [z.yaml]'].join('\n'));
  assert.equal(m.err.where.field, 'checkpoints[2].model');
  assert.equal(m.err.where.line, 4);
  assert.match(m.err.message, /no-model\.yaml:4 field "checkpoints\[2\]\.model": checkpoint 2 \(s2\): /);
  const k = await errorOf('unknown-key.yaml', [...CKPTS, 'adaptation:', '  - { task: a.yaml, at: 1 }', '  - task: b.yaml', '    atx: 2', 'zero_shot: [z.yaml]'].join('\n'));
  assert.equal(k.err.where.field, 'adaptation[1].atx');
  assert.equal(k.err.where.line, 8);
  assert.match(k.err.message, /adaptation task 1 \(b\.yaml\): .*atx/);
  const e = await errorOf('epochs.json', JSON.stringify({ checkpoints: ['openai:m0'], zero_shot: ['z.yaml'], epochs: 0 }, null, 2));
  assert.equal(e.err.where.field, 'epochs');
  assert.equal(e.err.where.line, 8);
  const top = await errorOf('list.yaml', '- openai:m0\n- openai:m1\n');
  assert.match(top.err.message, /list\.yaml:1 field "\(stream\)": a stream file is a mapping/);
});

it('placement errors name the adaptation task and its line: an unknown checkpoint, the base, no "at"', async () => {
  const at = await errorOf('bad-at.yaml', [...CKPTS, 'adaptation:', '  - { task: a.yaml, at: s1 }', '  - { task: b.yaml, at: s9 }', 'zero_shot: [z.yaml]'].join('\n'));
  assert.equal(at.err.where.field, 'adaptation[1].at');
  assert.equal(at.err.where.line, 7);
  assert.match(at.err.message, /adaptation task 1 \(b\.yaml\): "at: s9" names no checkpoint \(base, s1, s2\)/);
  const base = await errorOf('at-base.yaml', [...CKPTS, 'adaptation:', '  - { task: a.yaml, at: 0 }'].join('\n'));
  assert.equal(base.err.where.field, 'adaptation[0].at');
  assert.match(base.err.message, /adaptation task 0 \(a\.yaml\): an adaptation task is introduced at a checkpoint after the base: a row ≥ 1/);
  const none = await errorOf('no-at.yaml', [...CKPTS, 'adaptation:', '  - { task: a.yaml, at: 1 }', '  - { task: b.yaml }'].join('\n'));
  assert.equal(none.err.where.field, 'adaptation[1]');
  assert.equal(none.err.where.line, 7);
});

it('duplicates, a missing or broken task file and an order missing an entry\'s difficulty name the entry that is wrong', async () => {
  const dup = await errorOf('dup-model.yaml', ['checkpoints:', '  - { name: base, model: "openai:m0" }', '  - { name: s1, model: "openai:m0" }', 'zero_shot: [z.yaml]'].join('\n'));
  assert.equal(dup.err.where.field, 'checkpoints[1].model');
  assert.equal(dup.err.where.line, 3);
  assert.match(dup.err.message, /checkpoint 1 \(s1\): checkpoint 0 has the same model address/);
  const twice = await errorOf('dup-task.yaml', [...CKPTS, 'adaptation:', '  - { task: a.yaml, at: 1 }', 'zero_shot: [z.yaml, a.yaml]'].join('\n'));
  assert.equal(twice.err.where.field, 'zero_shot[1]');
  assert.match(twice.err.message, /zero-shot task 1 \(a\.yaml\): task "a" is already in the stream \(adaptation task 0\)/);
  const missing = await errorOf('missing-task.yaml', [...CKPTS, 'zero_shot:', '  - z.yaml', '  - nope.yaml'].join('\n'));
  assert.equal(missing.err.where.field, 'zero_shot[1]');
  assert.equal(missing.err.where.line, 7);
  assert.match(missing.err.message, /missing-task\.yaml:7 field "zero_shot\[1\]": zero-shot task 1 \(nope\.yaml\): /);
  // The task file's own error (its file and field) inside the stream's.
  const broken = await errorOf('broken.yaml', [...CKPTS, 'adaptation:', '  - { task: broken-task.yaml, at: 2 }'].join('\n'));
  assert.equal(broken.err.where.field, 'adaptation[0].task');
  assert.equal(broken.err.where.line, 6);
  assert.match(broken.err.message, /adaptation task 0 \(broken-task\.yaml\): .*broken-task\.yaml:3 field "scorerz"/);
  const diff = await errorOf('difficulty.yaml', [...CKPTS, 'order: { by: difficulty }', 'adaptation:', '  - { task: a.yaml, difficulty: 0.2 }', '  - { task: b.yaml }'].join('\n'));
  assert.equal(diff.err.where.field, 'adaptation[1].difficulty');
  assert.equal(diff.err.where.line, 8);
  assert.match(diff.err.message, /adaptation task 1 \(b\.yaml\): the difficulty order needs a finite "difficulty"/);
});

it('assay stream --plan on a bad file exits 2 with the located message', () => {
  const file = join(dir, 'cli.yaml');
  writeFileSync(file, [...CKPTS, 'adaptation:', '  - { task: a.yaml, at: s7 }'].join('\n'));
  const r = spawnSync(process.execPath, [BIN, 'stream', file, '--plan'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /cli\.yaml:6 field "adaptation\[0\]\.at": adaptation task 0 \(a\.yaml\): "at: s7" names no checkpoint/);
});

it('a merged checkpoint\'s errors name its entry and field: a bad spec, an unknown or later parent, a parent that is no GGUF, a missing base', async () => {
  const spec = await errorOf('merge-spec.yaml', [...CKPTS, '  - { name: m, merge: { method: ties, density: 2, parents: [s1, s2], base: base } }', 'zero_shot: [z.yaml]'].join('\n'));
  assert.equal(spec.err.where.field, 'checkpoints[3].merge.density');
  assert.equal(spec.err.where.line, 5);
  assert.match(spec.err.message, /checkpoint 3 \(m\): merge spec: /);
  const unknown = await errorOf('merge-unknown.yaml', [...CKPTS, '  - { name: m, merge: { method: average, parents: [nope, s1] } }', 'zero_shot: [z.yaml]'].join('\n'));
  assert.equal(unknown.err.where.field, 'checkpoints[3].merge.parents[0]');
  assert.match(unknown.err.message, /"nope" is no earlier checkpoint \(base, s1, s2\) and no file/);
  const later = await errorOf('merge-later.yaml', ['checkpoints:', '  - { name: base, model: "openai:m0" }', '  - { name: m, merge: { method: average, parents: [s2] } }', '  - { name: s2, model: "openai:m2" }', 'zero_shot: [z.yaml]'].join('\n'));
  assert.equal(later.err.where.field, 'checkpoints[1].merge.parents[0]');
  assert.match(later.err.message, /"s2" is a later checkpoint: a merge's inputs come before it/);
  const notGguf = await errorOf('merge-openai.yaml', [...CKPTS, '  - { name: m, merge: { method: average, parents: [s1, s2] } }', 'zero_shot: [z.yaml]'].join('\n'));
  assert.match(notGguf.err.message, /checkpoint "s1" is openai:m1: a merge reads GGUF files/);
  writeFileSync(join(dir, 'w.gguf'), 'GGUF');
  const noBase = await errorOf('merge-nobase.yaml', [...CKPTS, '  - { name: m, merge: { method: task_arithmetic, parents: [w.gguf, w.gguf] } }', 'zero_shot: [z.yaml]'].join('\n'));
  assert.equal(noBase.err.where.field, 'checkpoints[3].merge.base');
  assert.match(noBase.err.message, /task_arithmetic merges task vectors: give the base/);
});
