/**
 * Runs with images, end to end against the OpenAI-compatible test server (no real model runs here; the server
 * decodes every image it receives and answers with their hashes): generated charts go out as image parts and arrive
 * intact; the pool stores each image once across epochs and runs (rows counted), prompts and attempts name images by
 * hash and never inline them; a provider that takes no images fails the run up front, before any request or pool;
 * HLE image questions go with their image, and `--text-only` is a separate, labelled run with another run id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import { writeChartDataset } from '../../src/generators/charts/write.ts';
import { createOpenAICompatibleProvider } from '../../src/providers/openai-compatible.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { executeRun } from '../../src/runner/run.ts';
import { openPool } from '../../src/store/open.ts';
import { resolveTask } from '../../src/tasks/resolve.ts';
import { datasetTask } from '../../src/tasks/task.ts';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('figure one')]);
const JPEG = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), Buffer.from('figure two')]);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

test('generated charts: sent as image parts and received intact; each image stored once across epochs and runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-run-images-'));
  const server = await startFakeOpenAIServer({ answerImageHashes: true, recordRequests: true });
  try {
    const written = await writeChartDataset(dir, 4, 11);
    const rows = readFileSync(written.jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; question: string; image: string; image_sha256: string });
    const hashes = new Set(rows.map((r) => r.image_sha256));
    const file = join(dir, 'pool.sqlite');
    const pool = await openPool(`sqlite:${file}`, { create: true });
    const task = datasetTask(`jsonl:${written.jsonl}`, { fields: { image: 'image' }, scorers: ['exact'] });
    const model = `openai-compatible:${server.url}#vlm`;
    try {
      const r1 = (await evaluate([task], [model], { pool, epochs: 3, concurrency: 2 })).cells[0]!;
      assert.equal(r1.result.status, 'complete');
      assert.equal(r1.result.counts.ok, 12);
      // Every request carried its sample's chart, byte for byte (the server hashed what it decoded), as a PNG.
      assert.equal(server.stats.images, 12);
      for (const [i, body] of server.received.entries()) {
        const got = server.receivedImages[i]!;
        assert.equal(got.length, 1);
        assert.equal(got[0]!.mime_type, 'image/png');
        assert.equal(got[0]!.sniffed, 'image/png');
        const text = (body.messages.at(-1)!.content as { type: string; text?: string }[]).find((p) => p.type === 'text')!.text!;
        const row = rows.find((r) => r.question === text)!;
        assert.ok(row, 'the question is one of the dataset rows');
        assert.equal(got[0]!.sha256, row.image_sha256, `${row.id}: its own chart`);
        assert.equal(got[0]!.sha256, sha(readFileSync(join(dir, row.image))), `${row.id}: the bytes of its PNG file`);
      }
      const attempts = await collect(pool.iterateAttempts(r1.run_id));
      for (const a of attempts) assert.match(a.response!, /^image image\/png [0-9a-f]{64}$/);
      assert.deepEqual(new Set(attempts.map((a) => a.response!.split(' ')[2])), hashes);
      // The run spec and manifest cover the images.
      const run = (await pool.getRun(r1.run_id))!;
      assert.equal(run.spec.images!.count, hashes.size);
      assert.equal(run.spec.images!.sha256, sha([...hashes].sort().join('\n')));
      assert.deepEqual(run.manifest.images, { mode: 'multimodal', count: hashes.size, bytes: written.png_bytes, sha256: run.spec.images!.sha256, provider: 'sent' });

      // Another run (another model, more epochs) and a resume: the images are not stored again.
      const r2 = (await evaluate([task], [`openai-compatible:${server.url}#vlm-2`], { pool, epochs: 2, concurrency: 2 })).cells[0]!;
      assert.equal(r2.result.counts.ok, 8);
      assert.notEqual(r2.run_id, r1.run_id);
      const again = (await evaluate([task], [model], { pool, epochs: 3 })).cells[0]!;
      assert.equal(again.run_id, r1.run_id);
      assert.equal(again.result.executed, 0);
      assert.deepEqual(await pool.imageStats(), { images: hashes.size, bytes: written.png_bytes });
      await pool.flush();
      const db = new Database(file, { readonly: true });
      try {
        assert.equal(db.prepare(`SELECT COUNT(*) FROM images`).pluck().get(), hashes.size, 'one row per image');
        assert.equal(db.prepare(`SELECT COUNT(*) FROM attempts`).pluck().get(), 20);
        // Prompts, samples and attempts name the images by hash; no image bytes anywhere but the images table.
        const planned = db.prepare(`SELECT messages FROM run_samples`).pluck().all() as string[];
        assert.ok(planned.every((m) => /"type":"image","sha256":"[0-9a-f]{64}","mime_type":"image\/png"/.test(m)));
        for (const [table, cols] of [['run_samples', 'messages'], ['samples', 'input || metadata'], ['attempts', "COALESCE(response, '') || COALESCE(transcript, '') || COALESCE(meta, '')"]] as const) {
          assert.equal(db.prepare(`SELECT COUNT(*) FROM ${table} WHERE ${cols} LIKE '%base64%' OR ${cols} LIKE '%iVBOR%'`).pluck().get(), 0, table);
        }
        const bytesPerAttempt = (db.prepare(`SELECT SUM(size) FROM images`).pluck().get() as number) / 20;
        assert.ok(bytesPerAttempt < written.png_bytes, `image bytes per attempt ${bytesPerAttempt.toFixed(0)}`);
      } finally {
        db.close();
      }
    } finally {
      await pool.close();
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a provider that takes no images fails the run up front with the reason: no request, no pool, no run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-run-images-'));
  const server = await startFakeOpenAIServer({ answerImageHashes: true });
  try {
    const data = join(dir, 'q.jsonl');
    writeFileSync(join(dir, 'a.png'), PNG);
    writeFileSync(data, [{ id: 'a', question: 'What is shown?', answer: 'x', image: 'a.png' }, { id: 'b', question: 'Text only', answer: 'y' }].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const task = datasetTask(`jsonl:${data}`, { fields: { image: 'image' }, scorers: ['exact'] });
    const textModel = createOpenAICompatibleProvider('openai:gpt-3.5-turbo', { concurrency: 1, env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: server.url } });
    let opened = false;
    const refused = (e: unknown) =>
      e instanceof InputError && /openai:gpt-3\.5-turbo cannot take images \(OpenAI's gpt-3\.5-turbo takes text only\), but 1 sample of q has image parts \(first: "a"\)\. Nothing was sent.*--text-only/.test(e.message);
    await assert.rejects(
      evaluate([task], ['openai:gpt-3.5-turbo'], { pool: async () => ((opened = true), openPool('memory:')), providers: { 'openai:gpt-3.5-turbo': textModel } }),
      refused,
    );
    assert.equal(opened, false, 'the pool is not even opened');
    // The runner alone refuses too, before anything is stored.
    const pool = await openPool('memory:');
    const r = await resolveTask(task);
    await assert.rejects(
      executeRun({ pool, dataset: r.dataset, template: r.template, render: r.render, model: 'openai:gpt-3.5-turbo', config: r.config, epochs: 2, scorers: r.scorers, provider: textModel }),
      refused,
    );
    assert.deepEqual(await pool.listRuns(), []);
    assert.deepEqual(await pool.imageStats(), { images: 0, bytes: 0 });
    assert.equal(server.stats.chat, 0, 'no request was made');
    // --text-only: the same model runs the text (the image question answered from its words), labelled.
    const warned: string[] = [];
    const text = (await evaluate([task], ['openai:gpt-3.5-turbo'], { pool, textOnly: true, providers: { 'openai:gpt-3.5-turbo': textModel }, warn: (m) => warned.push(m) })).cells[0]!;
    assert.equal(text.result.status, 'complete');
    assert.deepEqual((await pool.getRun(text.run_id))!.manifest.images, { mode: 'text-only', count: 0, dropped: 1 });
    assert.equal(server.stats.images, 0);
    // A synthetic reference model ignores images: allowed, warned about, recorded.
    const ref = (await evaluate([task], ['reference:oracle'], { pool, warn: (m) => warned.push(m) })).cells[0]!;
    assert.equal(ref.result.status, 'complete');
    assert.equal((await pool.getRun(ref.run_id))!.manifest.images!.provider, 'ignored');
    assert.ok(warned.some((w) => /reference:oracle ignores images/.test(w)));
    await textModel.close();
    await pool.close();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hle: image questions are sent with their image; --text-only is a separate run, labelled, with another run id', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-run-hle-'));
  const server = await startFakeOpenAIServer({ answerImageHashes: true, recordRequests: true });
  try {
    writeFileSync(join(dir, 'fig.jpg'), JPEG);
    const row = (id: string, image: string) => ({ id, question: `Question ${id}?`, answer: '1', answer_type: 'exactMatch', image, category: 'Math' });
    const file = join(dir, 'hle.jsonl');
    writeFileSync(file, [row('t1', ''), row('i1', `data:image/png;base64,${PNG.toString('base64')}`), row('i2', 'fig.jpg')].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const pool = await openPool('memory:');
    const task = datasetTask(`hle:${file}`, { scorers: ['exact'] });
    const model = `openai-compatible:${server.url}#vlm`;
    const multi = (await evaluate([task], [model], { pool, epochs: 2 })).cells[0]!;
    assert.equal(multi.result.status, 'complete');
    const byId = new Map((await collect(pool.iterateAttempts(multi.run_id))).map((a) => [`${a.sample_id}/${a.epoch}`, a.response]));
    assert.equal(byId.get('i1/0'), `image image/png ${sha(PNG)}`);
    assert.equal(byId.get('i2/1'), `image image/jpeg ${sha(JPEG)}`);
    assert.doesNotMatch(byId.get('t1/0')!, /^image /);
    assert.equal(server.stats.images, 4);
    const mRun = (await pool.getRun(multi.run_id))!;
    assert.equal(mRun.manifest.images!.mode, 'multimodal');
    assert.equal(mRun.spec.images!.count, 2);
    assert.deepEqual(await pool.imageStats(), { images: 2, bytes: PNG.length + JPEG.length });

    const text = (await evaluate([task], [model], { pool, epochs: 2, textOnly: true })).cells[0]!;
    assert.notEqual(text.run_id, multi.run_id, 'text-only and multimodal results are never mixed');
    const tRun = (await pool.getRun(text.run_id))!;
    assert.deepEqual(tRun.manifest.images, { mode: 'text-only', count: 0, dropped: 2 });
    assert.equal(tRun.spec.images, undefined, 'a text-only run has the spec (and the id) the same run had before images were sent');
    assert.equal(server.stats.images, 4, 'no image sent by the text-only run');
    const last = server.received.at(-1)!;
    assert.ok(last.messages.every((m) => typeof m.content === 'string'), 'sent as today: plain text messages');
    await pool.close();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('inline task datasets with images (bytes or data URIs), message templates and chain of thought keep the images', async () => {
  const { defineTask } = await import('../../src/tasks/task.ts');
  const { imagePart } = await import('../../src/core/schemas.ts');
  const { loadImage } = await import('../../src/core/images.ts');
  const { chainOfThought } = await import('../../src/solvers/builtin.ts');
  const png = loadImage(PNG);
  const sample = { id: 'v1', input: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'What is drawn?' }, imagePart(png)] }], target: 'a figure', metadata: {} };
  const task = defineTask({
    name: 'vision-inline', dataset: { name: 'figs', samples: [sample], images: [PNG] },
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Look closely. {question}' }], scorers: ['exact'],
  });
  const r = await resolveTask(task);
  assert.deepEqual([...r.dataset.images!.keys()], [png.sha256]);
  assert.deepEqual(r.render(r.dataset.samples[0]!), [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Look closely. What is drawn?' }, imagePart(png)] },
  ]);
  const state = { sample, epoch: 0, messages: r.render(sample), output: null, metadata: {}, store: new Map(), completed: false, calls: 0 };
  const after = await chainOfThought()(state, undefined as never);
  assert.deepEqual(after.messages[1]!.content, [{ type: 'text', text: 'Look closely. What is drawn?' }, imagePart(png), { type: 'text', text: "Let's think step by step." }]);
  // An image part whose bytes nobody gave is refused before the run.
  const orphan = defineTask({ name: 'orphan', dataset: { name: 'figs', samples: [sample] }, scorers: ['exact'] });
  const pool = await openPool('memory:');
  await assert.rejects(evaluate([orphan], ['reference:oracle'], { pool }), /names image [0-9a-f]{64}, which neither the dataset nor the pool holds/);
  await pool.close();
});
