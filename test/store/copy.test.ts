/**
 * Copying a pool (src/store/copy.ts, `assay pool copy`): a SQLite pool made by a real small evaluation (two reference
 * models, a signed run, images, an import, a private set and its exposures, a selection) copied to PostgreSQL and from
 * there to a new SQLite file — every table's rows and content hash equal on all three, and so are the statistics
 * `assay stats` prints. The digest catches a difference; the command refuses what it must.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { statisticsOfRun } from '../../src/analyses/statistics.ts';
import { InputError } from '../../src/core/errors.ts';
import { initSigningKey } from '../../src/evidence/keys.ts';
import { signRun } from '../../src/evidence/sign.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { copyPool, DIGEST_TABLES, poolDigest } from '../../src/store/copy.ts';
import { openPool } from '../../src/store/open.ts';
import { defineTask } from '../../src/tasks/task.ts';
import { freshDatabase, postgresUnavailable } from '../../testkit/postgres.ts';
import { attemptOf, imageOf } from './conformance.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'assay-copy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const skip = postgresUnavailable();

/** A SQLite pool with something in every table. Returns its file and run ids. */
async function makePool(): Promise<{ file: string; runs: string[] }> {
  const file = join(dir, 'a.sqlite');
  const data = join(dir, 'add.jsonl');
  writeFileSync(data, Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: `q${i}`, question: `What is ${i} + ${i}?`, answer: String(2 * i) })).join('\n') + '\n');
  await using pool = await openPool(file, { create: true });
  const task = defineTask({ name: 'add', dataset: `jsonl:${data}`, scorers: ['math'], epochs: 3 });
  const result = await evaluate([task], ['reference:oracle', 'reference:noisy?p=0.6'], { pool });
  const runs = result.cells.map((c) => c.result.run_id);
  await signRun(pool, runs[0]!, initSigningKey(join(dir, 'key.pem')));
  await pool.putImage(imageOf('png', 1));
  await pool.putImage(imageOf('jpeg', 2));
  const tx = await pool.beginImport({ format: 'csv', file: 'results.csv', sha256: 'a'.repeat(64), options: { note: 'x' } });
  for (let i = 0; i < 40; i++) {
    if (i % 4 === 0) await tx.addSample({ key: `d/q${i / 4}`, dataset: 'd', sample_id: `q${i / 4}`, category: i % 8 ? 'algebra' : null, tags: ['t'], text: `text ${i}`, content_hash: null, metadata: { i } });
    await tx.addMeasurement({ slice: i % 3 ? 'v1' : '', sample_key: `d/q${Math.floor(i / 4)}`, model: `m${i % 4}`, opponent: i % 5 === 0 ? 'base' : '', rep: 0, kind: i % 5 === 0 ? 'battle' : 'binary', value: (i % 2) * 1, direction: 1, tie_tolerance: 0, weight: 1.5, line: i + 2 });
  }
  await tx.commit({ measurements: 40, samples: 10 });
  await pool.saveSelection({ hash: 'ab12'.repeat(16), query: 'algebra', filters: { category: ['algebra'] }, limit: 5, created_at: '2025-01-01T00:00:00.000Z', sample_keys: ['d/q1', 'd/q2'] });
  await pool.putPrivateSet({ name: 'held', allow: ['http://127.0.0.1:1/v1'], key_id: 'k'.repeat(16), content_mac: 'm'.repeat(64), items: 2, created_at: '2025-01-01T00:00:00.000Z', source: 'held.jsonl' },
    [0, 1].map((idx) => ({ set: 'held', idx, id: `h${idx}`, canary: `ASSAY-CANARY-${idx}`, iv: 'aXY=', tag: 'dGFn', ciphertext: `Y3Q${idx}` })));
  await pool.recordExposures([{ set: 'held', item_id: 'h1', endpoint: 'http://127.0.0.1:1/v1', run_id: runs[0]!, epoch: 0, at: '2025-01-02T00:00:00.000Z' }, { set: 'held', item_id: 'h0', endpoint: 'x', run_id: runs[1]!, epoch: 1, at: '2025-01-01T00:00:00.000Z' }]);
  return { file, runs };
}

/** Statistics of every run, as `assay stats` computes them. */
async function statsOf(url: string, runs: string[]) {
  await using pool = await openPool(url, { readonly: true });
  return await Promise.all(runs.map((r) => statisticsOfRun(pool, r)));
}

async function digestOf(url: string) {
  await using pool = await openPool(url, { readonly: true });
  return await poolDigest(pool);
}

it('SQLite → PostgreSQL → SQLite: every table copied whole (rows and content hash), the statistics unchanged', { skip: skip ?? false }, async () => {
  const { file, runs } = await makePool();
  const pg = await freshDatabase();
  const there = await copyPool(file, pg);
  assert.deepEqual(there.mismatched, []);
  assert.deepEqual(there.tables.map((t) => t.table), [...DIGEST_TABLES]);
  const rows = Object.fromEntries(there.tables.map((t) => [t.table, t.from.rows]));
  // Something in every table, so that each is really compared.
  for (const t of DIGEST_TABLES) assert.ok(rows[t]! > 0, `${t} has rows`);
  assert.deepEqual([rows.runs, rows.attempts, rows.measurements, rows.images, rows.chain_signatures, rows.private_exposures, rows.pool_measurements], [2, 72, 72, 2, 1, 2, 40]);
  const back = join(dir, 'b.sqlite');
  const again = await copyPool(pg, `sqlite:${back}`);
  assert.deepEqual(again.mismatched, []);
  const [a, p, b] = [await digestOf(file), await digestOf(pg), await digestOf(back)];
  assert.deepEqual(p, a);
  assert.deepEqual(b, a);
  const stats = await statsOf(file, runs);
  assert.deepEqual(await statsOf(pg, runs), stats);
  assert.deepEqual(await statsOf(back, runs), stats);
  assert.equal(stats[0]!.statistics[0]!.statistics.accuracy, 1, 'the oracle is always right');
  // `assay verify` (the chain replayed against the records, the signature checked) says of the copy what it says of
  // the original.
  const verify = (pool: string) => spawnSync(process.execPath, [BIN, 'verify', runs[0]!, '--pool', pool], { encoding: 'utf8' });
  const [v0, v1] = [verify(file), verify(pg)];
  assert.deepEqual([v1.status, v1.stdout], [v0.status, v0.stdout], v1.stderr);
  assert.match(v0.stdout, /signed through link|signed/);

  // The digest sees a difference: one more attempt in the copy.
  {
    await using pool = await openPool(back);
    await pool.write(attemptOf(runs[1]!, 'q0', 9), []);
  }
  const changed = await digestOf(back);
  assert.deepEqual(DIGEST_TABLES.filter((t) => changed[t].sha256 !== a[t].sha256), ['attempts', 'chain_links']);
});

it('`assay pool copy`: prints both sides per table; refuses memory:, the same pool, and a destination that is not empty', { skip: skip ?? false }, async () => {
  const src = join(dir, 'cli.sqlite');
  {
    await using pool = await openPool(src, { create: true });
    await pool.putImage(imageOf('webp', 3));
    await pool.putTask({ id: 't@1', name: 't', version: '1', hash: 'h', definition: { a: 1 }, created_at: '2025-01-01T00:00:00.000Z' });
  }
  const pg = await freshDatabase();
  const assay = (...args: string[]) => spawnSync(process.execPath, [BIN, 'pool', 'copy', ...args], { encoding: 'utf8' });
  const ok = assay(src, pg);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^images +1 +1 +([0-9a-f]{16}) +\1 +equal$/m);
  assert.match(ok.stdout, /^tasks +1 +1 +([0-9a-f]{16}) +\1 +equal$/m);
  assert.match(ok.stdout, /every table equal/);
  const json = JSON.parse(assay(pg, join(dir, 'cli-back.sqlite'), '--json').stdout);
  assert.deepEqual(json.mismatched, []);
  assert.equal(json.tables.find((t: { table: string }) => t.table === 'images').to.rows, 1);
  const full = assay(src, pg);
  assert.equal(full.status, 2);
  assert.match(full.stderr, /the destination pool is not empty \(it holds 1 image, 1 task\)/);
  await assert.rejects(copyPool('memory:', pg), (e: unknown) => e instanceof InputError && /in-memory pool cannot be copied/.test(e.message));
  await assert.rejects(copyPool(src, 'memory:'), InputError);
  await assert.rejects(copyPool(src, `sqlite:${src}`), (e: unknown) => e instanceof InputError && /same pool/.test(e.message));
});

it('the readers a copy needs agree on every implementation: every image by hash, every selection by hash, every exposure by set then as recorded', async () => {
  const urls = ['memory:', 'sqlite::memory:', ...(skip ? [] : [await freshDatabase()])];
  const seen: unknown[] = [];
  for (const url of urls) {
    await using pool = await openPool(url, { create: true });
    const imgs = [imageOf('webp', 5), imageOf('png', 1), imageOf('jpeg', 9)];
    for (const img of imgs) await pool.putImage(img);
    const e = (set: string, i: number) => ({ set, item_id: `i${i}`, endpoint: 'http://h/v1', run_id: 'r', epoch: i, at: `2025-01-01T00:00:0${i}.000Z` });
    await pool.recordExposures([e('b', 1), e('a', 2)]);
    await pool.recordExposures([e('b', 3), e('a', 4), e('c', 5)]);
    for (const h of ['ff00', '00ff', 'a0a0']) await pool.saveSelection({ hash: h.repeat(16), query: h, filters: {}, limit: null, created_at: '2025-01-01T00:00:00.000Z', sample_keys: [h] });
    const images = [];
    for await (const img of pool.iterateImages()) images.push([img.sha256, img.mime_type, Buffer.from(img.bytes).toString('base64')]);
    assert.deepEqual(images.map((x) => x[0]), imgs.map((i) => i.sha256).sort());
    const exposures = [];
    for await (const x of pool.iterateExposures()) exposures.push(`${x.set}${x.epoch}`);
    assert.deepEqual(exposures, ['a2', 'a4', 'b1', 'b3', 'c5'], url);
    const selections = (await pool.listSelections()).map((x) => x.query);
    assert.deepEqual(selections, ['00ff', 'a0a0', 'ff00']);
    seen.push({ images, exposures, selections });
  }
  for (const x of seen.slice(1)) assert.deepEqual(x, seen[0]);
});
