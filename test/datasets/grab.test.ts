// The `grab:` loader on the real, shared GRAB question file (which has no images): a missing chart is an error naming
// it; --text-only reads the questions alone, labelled; a folder of images is read and sent as image parts; every
// question carries the precision and answer type the grab scorer needs, and every published answer grades itself
// right; a bad entry is named by its key and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import type { Message, Sample } from '../../src/core/schemas.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { grabPrecision, parseGrabRef } from '../../src/datasets/grab.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { shared } from '../../testkit/shared.ts';

const FILE = shared('data/grab/grab.json');
const png = (i: number) => Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from(`chart ${i}`)]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('grab: without its images the shared file is refused, naming the missing chart and the two ways on', async () => {
  await assert.rejects(loadDataset(`grab:${FILE}`, { limit: 3 }), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.where.file, FILE);
    assert.equal(e.where.field, '0.image');
    assert.match(e.message, /image file not found or unreadable: .*grab\/images\/0\.png/);
    assert.match(e.message, /images=<folder>/);
    assert.match(e.message, /--text-only/);
    return true;
  });
  await assert.rejects(loadDataset('grab:'), /grab:<path\/to\/grab\.json>/);
  assert.deepEqual(parseGrabRef('grab:a,b/grab.json,images=/x/y'), { path: 'a,b/grab.json', images: '/x/y' });
});

test('grab --text-only: a handful of real rows with GRAB\'s task, category, complexity, precision and answer type', async () => {
  const ds = await loadDataset(`grab:${FILE}`, { textOnly: true, limit: 5 });
  assert.equal(ds.name, 'grab');
  assert.equal(ds.defaultScorer, 'grab');
  assert.deepEqual(ds.textOnly, { dropped: 5 });
  assert.equal(ds.images, undefined);
  assert.deepEqual(ds.samples.map((s) => s.id), ['0', '1', '2', '3', '4']);
  const first = ds.samples[0]!;
  assert.equal(first.input, 'What is the value of the x-intercept of the function? Give your answer as an integer.');
  assert.equal(first.target, '-9');
  assert.deepEqual(first.metadata, { source: 'grab', pid: 0, task: 'properties', category: 'Intercepts and Gradients', complexity: 0, precision: 'int', answer_type: 'number', image: 'images/0.png' });
  assert.equal(ds.hash, sha(Buffer.from(await (await import('node:fs/promises')).readFile(FILE))));
});

test('grab: every question of the shared file gets a precision, and every published answer grades itself right', async () => {
  const ds = await loadDataset(`grab:${FILE}`, { textOnly: true });
  assert.equal(ds.samples.length, 2170);
  const count = (k: (s: Sample) => string) => ds.samples.reduce((m, s) => m.set(k(s), (m.get(k(s)) ?? 0) + 1), new Map<string, number>());
  assert.deepEqual(Object.fromEntries(count((s) => s.metadata.precision as string)), { int: 1545, '1dp': 565, nearest10: 30, equation: 30 });
  assert.deepEqual(Object.fromEntries(count((s) => s.metadata.answer_type as string)), { number: 2110, pair: 30, equation: 30 });
  assert.deepEqual(Object.fromEntries(count((s) => s.metadata.task as string)), { properties: 660, function: 710, series: 490, transform: 310 });
  assert.equal(ds.samples.find((s) => s.id === '150')!.metadata.answer_type, 'pair');
  const g = createScorer('grab');
  for (const s of ds.samples) {
    const v = g.score(s, `The answer is ${s.target}.`) as { value: number | null; explanation: string };
    assert.equal(v.value, 1, `${s.id} ${s.target}: ${v.explanation}`);
  }
  assert.equal(grabPrecision('Estimate it. Give your answer to the nearest 10.'), 'nearest10');
  assert.equal(grabPrecision('Estimate it.'), null);
});

test('grab with a folder of images: each chart read, hashed and sent as an image part; a missing one is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-grab-'));
  try {
    for (let i = 0; i < 4; i++) writeFileSync(join(dir, `${i}.png`), png(i));
    const ds = await loadDataset(`grab:${FILE},images=${dir}`, { limit: 4 });
    assert.equal(ds.images!.size, 4);
    for (const [i, s] of ds.samples.entries()) {
      assert.equal(s.metadata.image_sha256, sha(png(i)));
      const parts = (s.input as Message[])[0]!.content as { type: string; sha256?: string; text?: string }[];
      assert.deepEqual(parts.map((p) => p.type), ['text', 'image']);
      assert.equal(parts[1]!.sha256, sha(png(i)));
      assert.ok(ds.images!.get(sha(png(i)))!.load().equals(png(i)));
    }
    await assert.rejects(loadDataset(`grab:${FILE},images=${dir}`, { limit: 5 }), (e: unknown) => e instanceof InputError && e.where.field === '4.image' && new RegExp(`${dir}/4\\.png`).test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('grab: bad entries are named by key and field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-grab-bad-'));
  try {
    const good = { pid: 0, question: 'What is the gradient? Give your answer as an integer.', answer: '2', category: 'Intercepts and Gradients', complexity: 0, task: 'properties', image: 'images/0.png' };
    const expectBad = async (entry: Record<string, unknown>, field: string, re: RegExp) => {
      const f = join(dir, 'g.json');
      writeFileSync(f, JSON.stringify({ 0: good, 1: { ...good, pid: 1, ...entry } }));
      await assert.rejects(loadDataset(`grab:${f}`, { textOnly: true }), (e: unknown) => e instanceof InputError && e.where.field === field && re.test(e.message), `${field} ${re}`);
    };
    await expectBad({ task: 'pie' }, '1.task', /unknown task "pie"/);
    await expectBad({ pid: 7 }, '1.pid', /not the entry's key 1/);
    await expectBad({ complexity: 12 }, '1.complexity', /0–9/);
    await expectBad({ answer: 3 }, '1.answer', /expected a string, got number/);
    await expectBad({ question: 'What is the gradient?' }, '1.question', /states no precision/);
    writeFileSync(join(dir, 'list.json'), '[]');
    await assert.rejects(loadDataset(`grab:${join(dir, 'list.json')}`), /expected GRAB's JSON object keyed by pid, got array/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
