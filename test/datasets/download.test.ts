/**
 * Download-on-first-use for named datasets, against a local node:http server (no internet here).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, datasetCacheDir } from '../../src/datasets/index.ts';
import { InputError, RunError } from '../../src/core/errors.ts';
import { shared } from '../../testkit/shared.ts';

const GSM = shared('data/gsm8k/test.jsonl');
const GSM_SHA = readFileSync(shared('data/SHA256SUMS'), 'utf8')
  .split('\n')
  .find((l) => l.endsWith('  gsm8k/test.jsonl'))!
  .split(' ')[0]!;

let server: Server;
let base: string;
let hits = 0;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'assay-dl-'));
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/gsm8k/test.jsonl') {
      res.writeHead(200, { 'content-type': 'application/jsonl' });
      createReadStream(GSM).pipe(res);
    } else if (req.url === '/truncated.jsonl') {
      res.writeHead(200);
      res.end('{"question": "q", "answer": "#### 1"}\n');
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  assert.ok(addr && typeof addr === 'object');
  base = `http://127.0.0.1:${addr.port}`;
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

test('named dataset without a path downloads once into the cache, sha256-checked, then loads offline', async () => {
  const cacheDir = join(dir, 'ok');
  const source = { url: `${base}/gsm8k/test.jsonl`, sha256: GSM_SHA };
  hits = 0;
  const d = await loadDataset('gsm8k', { cacheDir, source });
  assert.equal(hits, 1);
  assert.equal(d.samples.length, 1319);
  assert.equal(d.samples[0]!.target, '18');
  assert.equal(d.hash, GSM_SHA);
  assert.equal(d.path, join(cacheDir, `gsm8k-${GSM_SHA.slice(0, 16)}.jsonl`));
  assert.deepEqual(await readdir(cacheDir), [`gsm8k-${GSM_SHA.slice(0, 16)}.jsonl`], 'no temp files left');

  const again = await loadDataset('gsm8k', { cacheDir, source: { url: `${base}/never-fetched`, sha256: GSM_SHA }, limit: 3 });
  assert.equal(hits, 1, 'served from the cache');
  assert.equal(again.samples.length, 3);
  assert.equal(again.hash, GSM_SHA);
});

test('a corrupted cache file is replaced by a fresh download', async () => {
  const cacheDir = join(dir, 'corrupt');
  const source = { url: `${base}/gsm8k/test.jsonl`, sha256: GSM_SHA };
  await loadDataset('gsm8k', { cacheDir, source });
  await writeFile(join(cacheDir, `gsm8k-${GSM_SHA.slice(0, 16)}.jsonl`), '{"question": "tampered", "answer": "#### 0"}\n');
  hits = 0;
  const d = await loadDataset('gsm8k', { cacheDir, source });
  assert.equal(hits, 1);
  assert.equal(d.samples.length, 1319);
});

test('sha256 mismatch is an InputError and the bad file is not kept', async () => {
  const cacheDir = join(dir, 'bad');
  const wrong = '0'.repeat(64);
  await assert.rejects(loadDataset('gsm8k', { cacheDir, source: { url: `${base}/gsm8k/test.jsonl`, sha256: wrong } }), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /sha256 mismatch/);
    assert.match(err.message, new RegExp(GSM_SHA));
    return true;
  });
  assert.deepEqual(await readdir(cacheDir), []);
  await assert.rejects(loadDataset('amc23', { cacheDir, source: { url: `${base}/truncated.jsonl`, sha256: GSM_SHA } }), InputError);
  assert.deepEqual(await readdir(cacheDir), []);
});

test('HTTP errors and unreachable hosts are RunErrors that suggest a local path', async () => {
  const cacheDir = join(dir, 'http');
  await assert.rejects(loadDataset('math500', { cacheDir, source: { url: `${base}/missing`, sha256: GSM_SHA } }), (err: unknown) => {
    assert.ok(err instanceof RunError);
    assert.match(err.message, /HTTP 404/);
    assert.match(err.message, /local file path/);
    return true;
  });
  // port 1 on loopback: connection refused, no internet needed
  await assert.rejects(loadDataset('math500', { cacheDir, source: { url: 'http://127.0.0.1:1/x.jsonl', sha256: GSM_SHA } }), RunError);
  assert.deepEqual(await readdir(cacheDir), []);
});

test('cache folder: explicit ?? $ASSAY_CACHE_DIR/datasets ?? ~/.cache/assay/datasets', () => {
  assert.equal(datasetCacheDir('/x'), '/x');
  assert.equal(datasetCacheDir(undefined, { ASSAY_CACHE_DIR: '/c' }), '/c/datasets');
  assert.match(datasetCacheDir(undefined, {}), /\.cache\/assay\/datasets$/);
});
