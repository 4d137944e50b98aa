/**
 * A checkpoint stream of embedding models with zero-shot embedding tasks, an order and a stratified subset, against
 * the fake server's deterministic `/v1/embeddings` (testkit/fake-embeddings.ts; no real embedding model runs here).
 * Each fake image carries its embedding and the checkpoints at which it gets fixed or broken, so every cell of the
 * matrix is known by hand. Checked: the order places the adaptation tasks (by difficulty) and is recorded; each
 * column is an ordinary run and the matrix read back equals the hand values; a second call resumes without a request;
 * the subset is drawn once (the same items at every checkpoint) and recorded; `assay stream --plan` shows the plan.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fakeEmbeddings, fakeImage, type FakeEmbedInput } from '../../testkit/fake-embeddings.ts';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { streamTable } from '../../src/analyses/stream.ts';
import { InputError } from '../../src/core/errors.ts';
import { openPool } from '../../src/store/open.ts';
import { evaluateStream, resolveStream, type StreamRecordSpec } from '../../src/runner/stream.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const CLASSES = ['cat', 'dog', 'bird', 'fish', 'frog', 'horse'];
const axis = (c: number, d = 6) => Array.from({ length: d }, (_, i) => (i === c ? 1 : 0));
/** Captions in the model's 6 dimensions (the last two unused): the retrieval case of test/stats/zeroshot.test.ts. */
const CAPTIONS: Record<string, number[]> = Object.fromEntries(Object.entries({
  c0a: [1, 0, 0, 0], c0b: [0.2, 1, 0, 0], c1a: [0, 1, 0, 0], c1b: [0, 1, 0, 0],
  c2a: [0, 0, 0.3, 1], c2b: [0.5, 0.6, 0.1, 0.7], c3a: [0, 0, 0, 1], c3b: [0, 0, 0.5, 1],
}).map(([k, v]) => [k, [...v, 0, 0]]));
/** A fake image: its embedding `v`, and the checkpoint from which it embeds to its label's axis (fixed) or to the next class's (broken). */
type Img = { v: number[]; label: number; fixedAt?: number; brokenAt?: number };
/** Checkpoint k is served as model `ck<k>`. */
function embed(x: FakeEmbedInput, model: string): number[] {
  const k = Number(model.replace(/^ck/, ''));
  if (x.kind === 'image') {
    const img = JSON.parse(x.bytes.toString('utf8')) as Img;
    if (img.brokenAt !== undefined && k >= img.brokenAt) return axis((img.label + 1) % 6, img.v.length);
    if (img.fixedAt !== undefined && k >= img.fixedAt) return axis(img.label, img.v.length);
    return img.v;
  }
  if (CAPTIONS[x.text]) return CAPTIONS[x.text]!;
  return axis(CLASSES.findIndex((c) => new RegExp(`\\b${c}\\b`).test(x.text)));
}
const BASE: [number[], number][] = [
  [axis(0), 0], [axis(1), 1], [axis(2), 2], [axis(3), 3], [axis(4), 4], [axis(5), 5],
  [[1, 2, 0, 0, 0, 0], 0], [[0.5, 0.6, 0.4, 0.7, 0.8, 0.9], 2], [[0.9, 0, 0, 0.5, 1, 0.8], 3], [[0, 0, 0, 0, 1, 1], 5],
];
// pets: image 6 fixed from ck1, image 7 from ck2, image 0 broken from ck2 → top-1 0.6, 0.7, 0.7 at ck0, ck1, ck2.
// herd: image 6 fixed from ck2 only → 0.6, 0.6, 0.7.
const changes: Record<string, Record<number, Partial<Img>>> = { pets: { 6: { fixedAt: 1 }, 7: { fixedAt: 2 }, 0: { brokenAt: 2 } }, herd: { 6: { fixedAt: 2 } } };

const route = fakeEmbeddings({ embed });
let server: FakeOpenAIServer;
const dir = mkdtempSync(join(tmpdir(), 'assay-stream-zs-'));
let streamFile = '';
before(async () => {
  server = await startFakeOpenAIServer({ embeddings: route, modelId: 'fake-clip' });
  for (const name of ['pets', 'herd']) {
    const rows = BASE.map(([v, y], i) => JSON.stringify({ id: `${name}${i}`, image: fakeImage(JSON.stringify({ v, label: y, ...(changes[name]![i] ?? {}) })), label: CLASSES[y] }));
    writeFileSync(join(dir, `${name}.jsonl`), rows.join('\n') + '\n');
    writeFileSync(join(dir, `${name}.yaml`), `kind: zeroshot-classification\nname: ${name}\nclasses: [${CLASSES.join(', ')}]\ntemplates: clip-7\ndata: ${name}.jsonl\n`);
  }
  writeFileSync(join(dir, 'captions.jsonl'), [0, 1, 2, 3].map((i) => JSON.stringify({ id: `im${i}`, image: fakeImage(JSON.stringify({ v: axis(i), label: i })), texts: [`c${i}a`, `c${i}b`] })).join('\n') + '\n');
  writeFileSync(join(dir, 'captions.yaml'), 'kind: zeroshot-retrieval\nname: captions\ndata: captions.jsonl\n');
  streamFile = join(dir, 'stream.yaml');
  writeFileSync(streamFile, [
    'name: clip-stream',
    'checkpoints:',
    ...[0, 1, 2].map((k) => `  - { name: ${k ? `step${k}` : 'base'}, model: "openai-compatible:${server.url}#ck${k}" }`),
    'adaptation:',
    '  - { task: pets.yaml, difficulty: 0.4 }',
    '  - { task: herd.yaml, difficulty: 0.2 }',
    'zero_shot: [captions.yaml]',
    'order: { by: difficulty, seed: 3 }',
    'bootstrap: { seed: 1, replicates: 200 }',
  ].join('\n') + '\n');
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('streams of embedding checkpoints with zero-shot tasks, orders and subsets', () => {
  it('the order places herd (easier) at step1 and pets at step2; the matrix equals the hand values; resumed without a request', async () => {
    const pool = await openPool('memory:');
    try {
      const r = await evaluateStream(streamFile, { pool });
      assert.equal(r.status, 'complete');
      assert.deepEqual(r.stream.tasks.map((t) => [t.zeroshot ? t.zeroshot.name : t.task.name, t.role]), [
        ['herd', { role: 'adaptation', introduced: 1 }], ['pets', { role: 'adaptation', introduced: 2 }],
        ['captions.text-to-image', { role: 'zero-shot' }], ['captions.image-to-text', { role: 'zero-shot' }],
      ]);
      assert.deepEqual(r.stream.order, { order: ['herd', 'pets'], spec: { by: 'difficulty', seed: 3, direction: 'ascending' } });
      assert.equal(r.cells.length, 12);
      const t = await streamTable(pool, r.stream_id);
      assert.deepEqual(t.columns.map((c) => [c.task, c.scorer, c.samples]), [['herd@1', 'top1', 10], ['pets@1', 'top1', 10], ['captions.text-to-image@1', 'recall@1', 4], ['captions.image-to-text@1', 'recall@1', 4]]);
      const R = t.report.matrix.map((row) => row.map((e) => e.value));
      assert.deepEqual(R, [[0.6, 0.6, 0.625, 0.75], [0.6, 0.7, 0.625, 0.75], [0.7, 0.7, 0.625, 0.75]]);
      for (const row of t.report.matrix) for (const e of row) assert.ok(e.ci95 && e.ci95.lo <= e.value! && e.value! <= e.ci95.hi);
      // The continual metrics read these columns like any other (herd introduced at 1, pets at 2).
      assert.equal(t.report.accumulation[2]!.value, (0.7 + 0.7) / 2);
      assert.equal(t.report.zero_shot[2]!.value, (0.625 + 0.75) / 2);
      const set = (await pool.getEvalSet(r.stream_id))!;
      assert.deepEqual((set.spec as unknown as StreamRecordSpec).order?.order, ['herd', 'pets']);
      const n0 = route.stats.requests;
      const again = await evaluateStream(streamFile, { pool });
      assert.equal(again.stream_id, r.stream_id);
      assert.equal(route.stats.requests, n0);
      assert.ok(again.cells.every((c) => c.result.executed === 0));
    } finally {
      await pool.close();
    }
  });

  it('a stratified subset: drawn once, the same items at every checkpoint, recorded; another stream id', async () => {
    const pool = await openPool('memory:');
    try {
      const r = await evaluateStream(streamFile, { pool, subset: { fraction: 0.5, by: 'label', seed: 2 } });
      const t = await streamTable(pool, r.stream_id);
      // Every column keeps half its items (10 → 5, 4 → 2), aligned across the three checkpoints.
      assert.deepEqual(t.columns.map((c) => c.samples), [5, 5, 2, 2]);
      const spec = (await pool.getEvalSet(r.stream_id))!.spec as unknown as StreamRecordSpec;
      assert.deepEqual(spec.subset!.spec, { fraction: 0.5, by: 'label', seed: 2 });
      const pets = spec.subset!.draws['pets@1']!;
      assert.equal(pets.spec.size, 5);
      assert.equal(pets.strata.reduce((a, s) => a + s.drawn, 0), 5);
      // 10 items by label: cat 2, dog 1, bird 2, fish 2, frog 1, horse 2 → quotas 1 each for the pairs; the last goes to dog (a tie with frog, key order).
      assert.deepEqual(pets.strata.map((s) => [s.key, s.drawn]), [['bird', 1], ['cat', 1], ['dog', 1], ['fish', 1], ['frog', 0], ['horse', 1]]);
      // The same items at every checkpoint: each checkpoint's run planned the same sample ids.
      const idsOf = async (run: string) => {
        const ids: string[] = [];
        for await (const p of pool.iteratePlanned(run)) ids.push(p.sample.id);
        return ids.join();
      };
      const first = await idsOf(t.runs[0]![1]!);
      for (let c = 1; c < 3; c++) assert.equal(await idsOf(t.runs[c]![1]!), first);
      await assert.rejects(evaluateStream(streamFile, { pool, subset: { size: 7, by: 'label' } }), (e: unknown) => e instanceof InputError && e.where.field === 'subset.size');
    } finally {
      await pool.close();
    }
  });

  it('bad streams: an order with an "at", an adaptation task without either, a checkpoint that is no embeddings endpoint', async () => {
    const pool = await openPool('memory:');
    try {
      const base = { checkpoints: [`openai-compatible:${server.url}#ck0`, `openai-compatible:${server.url}#ck1`], zero_shot: [join(dir, 'captions.yaml')] };
      await assert.rejects(evaluateStream({ ...base, adaptation: [{ task: join(dir, 'pets.yaml'), at: 1 }], order: { by: 'random' } }, { pool }), (e: unknown) => e instanceof InputError && e.where.field === 'adaptation[0].at');
      await assert.rejects(evaluateStream({ ...base, adaptation: [{ task: join(dir, 'pets.yaml') }] }, { pool }), (e: unknown) => e instanceof InputError && e.where.field === 'adaptation[0]' && /or the stream an order/.test((e as Error).message));
      await assert.rejects(evaluateStream({ ...base, checkpoints: ['reference:oracle', `openai-compatible:${server.url}#ck1`] }, { pool }), (e: unknown) => e instanceof InputError && e.where.field === 'model');
      assert.deepEqual(await pool.listRuns(), []);
    } finally {
      await pool.close();
    }
  });

  it('a similarity order from an embeddings endpoint: each adaptation task embedded by its name and classes, recorded', async () => {
    const n0 = route.received.length;
    const r = await resolveStream({
      checkpoints: ['reference:oracle', 'reference:oracle?seed=1', 'reference:oracle?seed=2'],
      adaptation: [{ task: join(dir, 'pets.yaml') }, { task: join(dir, 'herd.yaml') }],
      order: { by: 'similarity', seed: 0, embed_with: `openai-compatible:${server.url}#ck0` },
    });
    const sent = route.received.slice(n0).flatMap((b) => b.input as string[]);
    assert.deepEqual(sent, [`pets: ${CLASSES.join(', ')}`, `herd: ${CLASSES.join(', ')}`]);
    assert.deepEqual([...r.order!.order].sort(), ['herd', 'pets']);
    assert.equal((r.order!.spec as { embed_with?: string }).embed_with, `openai-compatible:${server.url}#ck0`);
    assert.deepEqual(r.tasks.map((t) => (t.role.role === 'adaptation' ? t.role.introduced : 0)), [1, 2]);
  });

  it('assay stream --plan prints the introductions, the order and the subset draws without a model call', async () => {
    const n0 = route.stats.requests;
    const out = await new Promise<{ code: number; out: string; err: string }>((res) => {
      execFile(process.execPath, [BIN, 'stream', streamFile, '--plan', '--order', 'reverse', '--subset', '4', '--stratify', 'label'], { cwd: dir, encoding: 'utf8' }, (e, o, err) => res({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: o, err }));
    });
    assert.equal(out.code, 0, out.err);
    assert.match(out.out, /order: by reverse, seed 0: herd → pets/);
    assert.match(out.out, /^1\s+step1\s+\S+#ck1\s+herd@1$/m);
    assert.match(out.out, /^2\s+step2\s+\S+#ck2\s+pets@1$/m);
    assert.match(out.out, /held out \(zero-shot\): captions\.text-to-image@1, captions\.image-to-text@1/);
    assert.match(out.out, /pets@1: 4 of 10: bird 1\/2, cat 1\/2/);
    assert.equal(route.stats.requests, n0);
  });
});
