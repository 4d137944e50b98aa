/**
 * Zero-shot classification and retrieval end to end against the fake OpenAI-compatible server's deterministic
 * `/v1/embeddings` (testkit/fake-embeddings.ts — no real embedding model runs here): every class prompt embeds to its
 * class's axis and every fake image carries its own embedding, so each rank, and so top-1/top-5 accuracy and
 * recall@k, is known by hand. Checked: the figures and their intervals, the runs in the pool (read by `assay stats`'s
 * own analysis), resume without a request, batching, the in-memory cache, both image request shapes, and bad input
 * or bad answers failing with an error that names the field, with nothing stored.
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
import { runStatistics } from '../../src/analyses/statistics.ts';
import { InputError } from '../../src/core/errors.ts';
import { wilsonInterval } from '../../src/stats/intervals.ts';
import { openPool } from '../../src/store/open.ts';
import { createEmbedder, EmbeddingError } from '../../src/zeroshot/embedder.ts';
import { evaluateZeroShot } from '../../src/runner/zeroshot.ts';
import { defineZeroShotTask, readZeroShotFile, zeroShotSubset } from '../../src/zeroshot/task.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const CLASSES = ['cat', 'dog', 'bird', 'fish', 'frog', 'horse'];
const axis = (c: number, d = 6) => Array.from({ length: d }, (_, i) => (i === c ? 1 : 0));
/** Captions and queries of the retrieval tasks: text → embedding. */
const TEXTS: Record<string, number[]> = {
  'c0a': [1, 0, 0, 0], 'c0b': [0.2, 1, 0, 0], 'c1a': [0, 1, 0, 0], 'c1b': [0, 1, 0, 0],
  'c2a': [0, 0, 0.3, 1], 'c2b': [0.5, 0.6, 0.1, 0.7], 'c3a': [0, 0, 0, 1], 'c3b': [0, 0, 0.5, 1],
};
/** The deterministic model: a class prompt → its class's axis; a caption → its table entry; an image → its bytes. */
function embed(x: FakeEmbedInput): number[] {
  if (x.kind === 'image') return JSON.parse(x.bytes.toString('utf8')) as number[];
  if (TEXTS[x.text]) return TEXTS[x.text]!;
  if (x.text.startsWith('doc:')) return JSON.parse(x.text.slice(4)) as number[];
  const c = CLASSES.findIndex((name) => new RegExp(`\\b${name}\\b`).test(x.text));
  if (c < 0) throw new Error(`fake model: no class in "${x.text}"`);
  return axis(c);
}
/** Ten images with their labels: ranks of the true class by hand in the comments. */
const IMAGES: [number[], number][] = [
  [axis(0), 0], [axis(1), 1], [axis(2), 2], [axis(3), 3], [axis(4), 4], [axis(5), 5], // rank 1 each
  [[1, 2, 0, 0, 0, 0], 0], // dog ahead of cat: rank 2
  [[0.5, 0.6, 0.4, 0.7, 0.8, 0.9], 2], // bird last of six: rank 6
  [[0.9, 0, 0, 0.5, 1, 0.8], 3], // frog, cat, horse ahead of fish: rank 4
  [[0, 0, 0, 0, 1, 1], 5], // horse ties frog: counted against: rank 2
];
// top-1: 6/10 right; top-5: 9/10 (only the bird at rank 6 misses).

const route = fakeEmbeddings({ embed });
let server: FakeOpenAIServer;
let model = '';
const dir = mkdtempSync(join(tmpdir(), 'assay-zeroshot-'));
before(async () => {
  server = await startFakeOpenAIServer({ embeddings: route, modelId: 'fake-clip' });
  model = `openai-compatible:${server.url}#fake-clip`;
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const pets = () => defineZeroShotTask({
  type: 'classification', name: 'pets', classes: CLASSES, templates: 'clip-7',
  items: IMAGES.map(([v, y], i) => ({ id: `img${i}`, image: fakeImage(v), label: CLASSES[y]!, subject: i < 5 ? 'a' : 'b' })),
});
const captions = () => defineZeroShotTask({
  type: 'retrieval', name: 'captions',
  items: [0, 1, 2, 3].map((i) => ({ id: `im${i}`, image: fakeImage(axis(i, 4)), texts: [`c${i}a`, `c${i}b`] })),
});

describe('zero-shot classification and retrieval', () => {
  it('classification: top-1 = 6/10 and top-5 = 9/10 with Wilson intervals; batched requests; runs in the pool', async () => {
    route.stats.requests = 0;
    route.stats.byShape = { input: 0, image_input: 0, messages: 0 };
    const pool = await openPool('memory:');
    try {
      const r = await evaluateZeroShot(pets(), model, { pool, batchSize: 4 });
      assert.equal(r.resumed, false);
      assert.equal(r.columns.length, 1);
      const col = r.columns[0]!;
      assert.equal(col.name, 'pets');
      assert.equal(col.figures.top1!.value, 0.6);
      assert.equal(col.figures.top5!.value, 0.9);
      assert.deepEqual(col.figures.top1!.ci95, wilsonInterval(0.6, 10));
      assert.deepEqual(col.figures.top5!.ci95, wilsonInterval(0.9, 10));
      assert.equal(col.figures.top1!.n, 10);
      // 6 classes × 7 templates = 42 prompts in batches of 4 (11 requests), 10 images in batches of 4 (3 requests).
      assert.deepEqual(route.stats.byShape, { input: 11, image_input: 3, messages: 0 });
      assert.equal(r.embeddings.requests, 14);
      assert.equal(r.embeddings.sent, 52);
      assert.equal(r.embeddings.dims, 6);
      assert.deepEqual(r.embeddings.reported_model_ids, ['fake-clip']);
      // An ordinary run: `assay stats`'s analysis reads it.
      const stats = await runStatistics(pool, col.run_id, { scorer: 'top1' });
      assert.equal(stats.statistics.accuracy, 0.6);
      const run = (await pool.getRun(col.run_id))!;
      assert.equal(run.status, 'complete');
      assert.deepEqual(run.spec.scorers.map((s) => s.name), ['top1', 'top5']);
      assert.deepEqual(run.manifest.scorers.map((s) => s.metric), [{ kind: 'binary' }, { kind: 'binary' }]);
      assert.deepEqual(run.manifest.provider.reported_model_ids, ['fake-clip']);
      const attempts = [];
      for await (const a of pool.iterateAttempts(col.run_id, 'top5')) attempts.push(a);
      assert.deepEqual(attempts.map((a) => (a.meta as { rank: number }).rank), [1, 1, 1, 1, 1, 1, 2, 6, 4, 2]);
      assert.equal(attempts[8]!.response, 'frog');
      assert.ok(attempts.every((a) => !String(a.response).startsWith('data:')));
      // Again on the same pool: resumed, not one request.
      const again = await evaluateZeroShot(pets(), model, { pool, batchSize: 4 });
      assert.equal(again.resumed, true);
      assert.equal(again.embeddings.requests, 0);
      assert.equal(again.columns[0]!.run_id, col.run_id);
      assert.deepEqual(again.columns[0]!.figures, col.figures);
    } finally {
      await pool.close();
    }
  });

  it('classification: mean per-class accuracy by hand (top-1 4/6, top-5 5.5/6), its MOVER interval, from a fresh and a resumed run alike', async () => {
    const pool = await openPool('memory:');
    try {
      const r = await evaluateZeroShot(pets(), model, { pool, batchSize: 16 });
      const f = r.columns[0]!.figures;
      // Per class (top-1): cat 1/2, dog 1/1, bird 1/2, fish 1/2, frog 1/1, horse 1/2; top-5: bird 1/2, every other 1.
      assert.ok(Math.abs(f.top1_mean_per_class!.value - 4 / 6) < 1e-12);
      assert.ok(Math.abs(f.top5_mean_per_class!.value - 5.5 / 6) < 1e-12);
      assert.equal(f.top1!.value, 0.6); // pooled over items: a different figure when classes are unequal
      for (const k of ['top1_mean_per_class', 'top5_mean_per_class']) {
        const x = f[k]!;
        assert.ok(x.ci95.lo < x.value && x.value < x.ci95.hi, JSON.stringify(x));
        assert.match(x.method, /mean over 6 classes of each class's accuracy; MOVER interval from each class's Jeffreys interval/);
      }
      const again = await evaluateZeroShot(pets(), model, { pool, batchSize: 16 });
      assert.deepEqual(again.columns[0]!.figures, f);
    } finally {
      await pool.close();
    }
  });

  it('the in-memory cache: a subset evaluated with the same embedder sends nothing; the subset is its own run', async () => {
    const embedder = createEmbedder(model, { batchSize: 64 });
    try {
      const full = await evaluateZeroShot(pets(), model, { embedder });
      assert.equal(full.embeddings.sent, 52);
      const sub = zeroShotSubset(pets(), ['img6', 'img7', 'img8'], { by: 'hand' });
      const r = await evaluateZeroShot(sub, model, { embedder });
      assert.equal(r.embeddings.requests, 0);
      assert.equal(r.embeddings.cached, 42 + 3);
      assert.equal(r.columns[0]!.figures.top1!.value, 0);
      assert.equal(r.columns[0]!.figures.top5!.value, 2 / 3);
      assert.notEqual(r.columns[0]!.run_id, full.columns[0]!.run_id);
      // 0 of 3 right: an interval of positive width all the same.
      assert.equal(r.columns[0]!.figures.top1!.ci95.lo, 0);
      assert.ok(r.columns[0]!.figures.top1!.ci95.hi > 0.4);
    } finally {
      await embedder.close();
    }
  });

  it('vLLM\'s chat-style image request: one image per request, as an image_url part; a different run', async () => {
    route.stats.byShape = { input: 0, image_input: 0, messages: 0 };
    route.received.length = 0;
    const r = await evaluateZeroShot(pets(), model, { imageRequest: 'messages' });
    assert.equal(route.stats.byShape.messages, 10);
    assert.equal(r.columns[0]!.figures.top1!.value, 0.6);
    const body = route.received.find((b) => 'messages' in b) as { messages: { role: string; content: { type: string; image_url: { url: string } }[] }[]; encoding_format: string };
    assert.equal(body.messages[0]!.role, 'user');
    assert.equal(body.messages[0]!.content[0]!.type, 'image_url');
    assert.match(body.messages[0]!.content[0]!.image_url.url, /^data:image\/png;base64,/);
    assert.equal(body.encoding_format, 'float');
  });

  it('retrieval: image↔text recall@1/5/10 by hand, text→image clustered by image', async () => {
    const pool = await openPool('memory:');
    try {
      const r = await evaluateZeroShot(captions(), model, { pool });
      assert.deepEqual(r.columns.map((c) => c.name), ['captions.text-to-image', 'captions.image-to-text']);
      const [t2i, i2t] = r.columns;
      // Text ranks per image: [1,2], [1,1], [2,4], [1,1] → recall@1 per image ½, 1, 0, 1 → 0.625.
      assert.equal(t2i!.figures['recall@1']!.value, 0.625);
      assert.equal(t2i!.figures['recall@5']!.value, 1);
      assert.equal(t2i!.figures['recall@10']!.value, 1);
      assert.match(t2i!.figures['recall@1']!.method, /clustered score interval, clusters = 4 items/);
      assert.equal(t2i!.figures['recall@5']!.ci95.hi, 1);
      assert.ok(t2i!.figures['recall@5']!.ci95.lo < 1);
      // Best own-caption rank per image: 1, 1, 2, 1 → recall@1 = 3/4.
      assert.equal(i2t!.figures['recall@1']!.value, 0.75);
      assert.deepEqual(i2t!.figures['recall@1']!.ci95, wilsonInterval(0.75, 4));
      assert.equal(i2t!.figures['recall@5']!.value, 1);
      const st = await runStatistics(pool, t2i!.run_id, { scorer: 'recall@1' });
      assert.equal(st.statistics.accuracy, 0.625);
      const run = (await pool.getRun(t2i!.run_id))!;
      assert.deepEqual(run.manifest.scorers[0]!.metric, { kind: 'proportion' });
    } finally {
      await pool.close();
    }
  });

  it('text retrieval (document↔query) from a task file, and `assay zeroshot` on the command line', async () => {
    writeFileSync(join(dir, 'docs.jsonl'), [
      { id: 'd0', text: 'doc:[1,0,0,0]', texts: ['c0a'] },
      { id: 'd1', text: 'doc:[0,1,0,0]', texts: ['c1a', 'c0b'] },
      { id: 'd2', text: 'doc:[0,0,0,1]', texts: ['c3a'] },
    ].map((o) => JSON.stringify(o)).join('\n') + '\n');
    writeFileSync(join(dir, 'docs.yaml'), 'kind: zeroshot-retrieval\nname: docs\ndata: docs.jsonl\n');
    const task = readZeroShotFile(join(dir, 'docs.yaml'));
    assert.equal(task.modality, 'text');
    const r = await evaluateZeroShot(task, model);
    assert.deepEqual(r.columns.map((c) => c.name), ['docs.query-to-document', 'docs.document-to-query']);
    // All four queries find their document first (c0b = [.2, 1, 0, 0] is nearest d1): recall@1 = 1 both ways.
    assert.equal(r.columns[0]!.figures['recall@1']!.value, 1);
    assert.equal(r.columns[1]!.figures['recall@1']!.value, 1);

    // The command line: image files whose bytes are their embeddings, a classification task file, JSON out.
    IMAGES.forEach(([v], i) => writeFileSync(join(dir, `img${i}.png`), JSON.stringify(v)));
    writeFileSync(join(dir, 'pets.jsonl'), IMAGES.map(([, y], i) => JSON.stringify({ id: `img${i}`, image: `img${i}.png`, label: CLASSES[y] })).join('\n') + '\n');
    writeFileSync(join(dir, 'pets.yaml'), `kind: zeroshot-classification\nname: pets\nclasses: [${CLASSES.join(', ')}]\ntemplates: clip-7\ndata: pets.jsonl\n`);
    const run = (args: string[]) => new Promise<{ code: number; out: string; err: string }>((res) => {
      execFile(process.execPath, [BIN, 'zeroshot', join(dir, 'pets.yaml'), '--model', model, '--pool', join(dir, 'pool.sqlite'), ...args], { cwd: dir, encoding: 'utf8' }, (e, out, err) => res({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
    });
    const text = await run([]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /pets × .*fake-clip/);
    assert.match(text.out, /top1\s+60\.0% \[\d+\.\d%, \d+\.\d%\]/);
    assert.match(text.out, /top5\s+90\.0%/);
    assert.match(text.out, /Wilson score interval on 10 items/);
    const json = await run(['--json']);
    assert.equal(json.code, 0, json.err);
    const doc = JSON.parse(json.out) as { resumed: boolean; columns: { figures: { top1: { value: number } } }[] };
    assert.equal(doc.resumed, true);
    assert.equal(doc.columns[0]!.figures.top1.value, 0.6);
    const bad = await run(['--batch-size', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--batch-size/);
  });

  it('bad input: an empty class list, a label that is no class, an item with no input — errors name the field', () => {
    const base = { type: 'classification' as const, name: 't', templates: 'clip-1', items: [{ id: 'a', text: 'x', label: 'cat' }] };
    assert.throws(() => defineZeroShotTask({ ...base, classes: [] }), (e: unknown) => e instanceof InputError && e.where.field === 'classes' && /class list is empty/.test(e.message));
    assert.throws(() => defineZeroShotTask({ ...base, classes: ['cat', 'dog'], items: [{ id: 'a', text: 'x', label: 'cow' }] }), (e: unknown) => e instanceof InputError && e.where.field === 'items.0.label');
    assert.throws(() => defineZeroShotTask({ ...base, classes: ['cat', 'dog'], items: [{ id: 'a', label: 'cat' }] }), (e: unknown) => e instanceof InputError && e.where.field === 'items.0.image');
    assert.throws(() => defineZeroShotTask({ ...base, classes: ['cat', 'dog'], templates: ['a photo'] }), (e: unknown) => e instanceof InputError && e.where.field === 'templates.0');
    assert.throws(() => defineZeroShotTask({ type: 'retrieval', name: 'r', items: [{ id: 'a', text: 'x' }] }), (e: unknown) => e instanceof InputError && e.where.field === 'items.0.texts');
    writeFileSync(join(dir, 'bad.jsonl'), '{"id":"a","text":"x","label":"cat"}\n{"id":"b","text":"y","label":"cow"}\n');
    writeFileSync(join(dir, 'bad.yaml'), 'kind: zeroshot-classification\nname: bad\nclasses: [cat, dog]\ndata: bad.jsonl\n');
    assert.throws(() => readZeroShotFile(join(dir, 'bad.yaml')), (e: unknown) => e instanceof InputError && e.where.line === 2 && e.where.field === 'label' && /bad\.jsonl:2/.test(e.message));
    assert.throws(() => createEmbedder('anthropic:claude'), (e: unknown) => e instanceof InputError && e.where.field === 'model');
  });

  it('bad answers: mismatched dimensions, a miscount, not JSON, HTTP 500 after retries, HTTP 400 at once — nothing stored', async () => {
    const pool = await openPool('memory:');
    const fails = async (kind: 'wrongDims' | 'wrongCount' | 'notJson' | 'serverError' | 'badRequest', check: (e: EmbeddingError) => void) => {
      route.setFaults([{ kind, always: true }]);
      const n0 = route.stats.requests;
      try {
        await assert.rejects(evaluateZeroShot(pets(), model, { pool, maxRetries: 2, backoffBaseMs: 1 }), (e: unknown) => {
          assert.ok(e instanceof EmbeddingError, String(e));
          check(e);
          return true;
        });
      } finally {
        route.setFaults([]);
      }
      return route.stats.requests - n0;
    };
    try {
      await fails('wrongDims', (e) => {
        assert.match(e.field, /^data\[\d+\]\.embedding$/);
        assert.match(e.message, /has 7 dimensions, but earlier embeddings of this model have 6|has 7 dimensions/);
      });
      await fails('wrongCount', (e) => {
        assert.equal(e.field, 'data');
        assert.match(e.message, /embeddings for \d+ inputs/);
      });
      await fails('notJson', (e) => assert.equal(e.field, 'body'));
      const tries = await fails('serverError', (e) => {
        assert.equal(e.field, 'embeddings');
        assert.equal(e.status, 500);
        assert.match(e.message, /HTTP 500 after 3 tries: fake embeddings: internal error/);
      });
      assert.ok(tries >= 3, String(tries));
      const once = await fails('badRequest', (e) => {
        assert.equal(e.status, 400);
        assert.match(e.message, /HTTP 400: fake embeddings: this model does not take images/);
      });
      assert.ok(once <= 4, `a 400 is not retried (${once} requests: one per batch in flight)`);
      assert.deepEqual(await pool.listRuns(), []);
    } finally {
      await pool.close();
    }
  });
});

it('a zero-shot task file with a YAML syntax error names the file and line, not a read error; a missing file is a read error', async () => {
  const { readZeroShotFile } = await import('../../src/zeroshot/task.ts');
  const dir = mkdtempSync(join(tmpdir(), 'assay-zs-yaml-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'kind: zeroshot-classification\nname: pets\n  classes: [cat, dog]\n');
  assert.throws(() => readZeroShotFile(bad), (e: Error) => e.message.startsWith(`${bad}:2: YAML: `) && !/cannot read/.test(e.message));
  const unclosed = join(dir, 'unclosed.yaml');
  writeFileSync(unclosed, 'kind: zeroshot-classification\nname: pets\nclasses: [cat, dog\n');
  assert.throws(() => readZeroShotFile(unclosed), (e: Error) => /^.*unclosed\.yaml:\d+: YAML: /.test(e.message));
  assert.throws(() => readZeroShotFile(join(dir, 'missing.yaml')), /cannot read the task file: ENOENT/);
});

it('mean per-class accuracy: MOVER from Jeffreys intervals by hand; one class is Jeffreys\' interval; all right reaches 1 with width; every class weighs the same', async () => {
  const { jeffreysInterval, meanPerClassFigure } = await import('../../src/stats/zeroshot.ts');
  const { createRequire } = await import('node:module');
  const jstat = createRequire(import.meta.url)('jstat') as { beta: { inv(p: number, a: number, b: number): number } };
  const one = meanPerClassFigure([1, 1, 1, 0, 1, 1, 1, 1, 0, 1], Array(10).fill('a'));
  assert.equal(one.value, 0.8);
  assert.ok(Math.abs(one.ci95.lo - jstat.beta.inv(0.025, 8.5, 2.5)) < 1e-9, `${one.ci95.lo}`);
  assert.ok(Math.abs(one.ci95.hi - jstat.beta.inv(0.975, 8.5, 2.5)) < 1e-9, `${one.ci95.hi}`);
  // Two classes, 2/4 and 3/3: θ = (0.5 + 1)/2; L = θ − √(((0.5 − l₁)/2)² + ((1 − l₂)/2)²), U = θ + (u₁ − 0.5)/2 (class 2 is at 1).
  const two = meanPerClassFigure([1, 0, 1, 0, 1, 1, 1], ['a', 'a', 'a', 'a', 'b', 'b', 'b']);
  const l1 = jstat.beta.inv(0.025, 2.5, 2.5), u1 = jstat.beta.inv(0.975, 2.5, 2.5), l2 = jstat.beta.inv(0.025, 3.5, 0.5);
  assert.equal(two.value, 0.75);
  assert.ok(Math.abs(two.ci95.lo - (0.75 - Math.hypot((0.5 - l1) / 2, (1 - l2) / 2))) < 1e-9);
  assert.ok(Math.abs(two.ci95.hi - (0.75 + (u1 - 0.5) / 2)) < 1e-9);
  assert.ok(Math.abs(jeffreysInterval(3, 3).lo - l2) < 1e-9);
  assert.equal(jeffreysInterval(3, 3).hi, 1);
  assert.equal(jeffreysInterval(0, 5).lo, 0);
  const all = meanPerClassFigure([1, 1, 1, 1], ['a', 'b', 'b', 'b']);
  assert.equal(all.value, 1);
  assert.equal(all.ci95.hi, 1);
  assert.ok(all.ci95.lo > 0.4 && all.ci95.lo < 0.99, `${all.ci95.lo}`); // a class of one item says little
  // 1 of 1 in class a, 0 of 9 in class b: (1 + 0) / 2, not 1/10.
  const unequal = meanPerClassFigure([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], ['a', ...Array(9).fill('b')]);
  assert.equal(unequal.value, 0.5);
  assert.equal(unequal.classes, 2);
  assert.throws(() => meanPerClassFigure([1, 2], [0, 1]), /0 or 1/);
  assert.throws(() => meanPerClassFigure([1], [0, 1]), /1 hits but 2 labels/);
});
