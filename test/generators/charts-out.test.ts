// A chart dataset on its way out of the generator and into a run: `gen charts --out DIR` keeps only the files of
// its own generation (a manifest lists what it wrote; a user's files stay), and a chart dataset read without its
// image column is refused unless the text-only reading is asked for (a labelled, separate run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/core/errors.ts';
import { CHARTS_MANIFEST, writeChartDataset } from '../../src/generators/charts/write.ts';
import { loadDataset } from '../../src/datasets/index.ts';

const bin = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const pngs = (dir: string) => readdirSync(join(dir, 'images')).sort();

test('writing into a folder again removes the files of the earlier generation, and only those', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-charts-out-'));
  try {
    const first = await writeChartDataset(dir, 6, 1);
    assert.equal(first.removed, 0);
    assert.equal(pngs(dir).length, 6);
    // a user's own files in the folder, and a manifest entry that points outside it
    writeFileSync(join(dir, 'images', 'mine.png'), 'my own chart');
    writeFileSync(join(dir, 'notes.txt'), 'notes');
    writeFileSync(join(dir, '..', `outside-${process.pid}.jsonl`), 'not the generator\'s');
    const manifest = JSON.parse(readFileSync(join(dir, CHARTS_MANIFEST), 'utf8')) as { files: string[]; complete: boolean; seed: number; n: number };
    assert.deepEqual(manifest.files, ['charts.jsonl', ...Array.from({ length: 6 }, (_, i) => `images/charts-1-${i}.png`)].sort());
    assert.deepEqual([manifest.complete, manifest.seed, manifest.n], [true, 1, 6]);
    manifest.files.push(`../outside-${process.pid}.jsonl`, 'notes.txt', 'images/../notes.txt');
    writeFileSync(join(dir, CHARTS_MANIFEST), JSON.stringify(manifest));

    // fewer charts, same seed: the 4 extra PNGs go
    const second = await writeChartDataset(dir, 2, 1);
    assert.equal(second.removed, 4);
    assert.equal(second.untracked, 1);
    assert.deepEqual(pngs(dir), ['charts-1-0.png', 'charts-1-1.png', 'mine.png']);
    assert.equal(readFileSync(join(dir, 'charts.jsonl'), 'utf8').trim().split('\n').length, 2);
    assert.ok(existsSync(join(dir, 'notes.txt')), 'a name the generator never writes is never removed');
    assert.ok(existsSync(join(dir, '..', `outside-${process.pid}.jsonl`)), 'nothing outside the folder is removed');

    // another seed and another file name: every file of the earlier generation goes, the user's stay
    const third = await writeChartDataset(dir, 3, 2, { file: 'other.jsonl' });
    assert.equal(third.removed, 3); // 2 PNGs and charts.jsonl
    assert.deepEqual(pngs(dir), ['charts-2-0.png', 'charts-2-1.png', 'charts-2-2.png', 'mine.png']);
    assert.ok(!existsSync(join(dir, 'charts.jsonl')));
    assert.ok(existsSync(join(dir, 'other.jsonl')));
    await assert.rejects(writeChartDataset(dir, 1, 2, { file: '../x.jsonl' }), (e: unknown) => e instanceof InputError && /must be a plain <name>\.jsonl/.test(e.message));

    // the CLI: a larger run, then a smaller one into the same folder
    const out = join(dir, 'cli');
    const gen = (n: number) => spawnSync(process.execPath, [bin, 'gen', 'charts', '--n', String(n), '--seed', '5', '--out', out, '--json'], { encoding: 'utf8' });
    assert.equal(gen(5).status, 0);
    const small = gen(2);
    assert.equal(small.status, 0, small.stderr);
    assert.equal(JSON.parse(small.stdout).removed, 3);
    assert.deepEqual(pngs(out), ['charts-5-0.png', 'charts-5-1.png']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(dir, '..', `outside-${process.pid}.jsonl`), { force: true });
  }
});

test('a chart dataset without --image-field is refused, not silently text-only; --text-only is a labelled choice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-charts-noimg-'));
  try {
    const r = await writeChartDataset(dir, 3, 7);
    await assert.rejects(loadDataset(r.jsonl), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, new RegExp(`^${r.jsonl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} field "image": chart questions without their charts: 3 sample\\(s\\) \\(the first "charts-7-0"\\)`));
      assert.match(e.message, /--image-field image/);
      assert.match(e.message, /--text-only/);
      return true;
    });
    const text = await loadDataset(r.jsonl, { textOnly: true });
    assert.deepEqual(text.textOnly, { dropped: 3 });
    assert.equal(text.images, undefined);
    assert.ok(text.samples.every((s) => typeof s.input === 'string'));
    const withImages = await loadDataset(r.jsonl, { fields: { image: 'image' } });
    assert.equal(withImages.images!.size, 3);
    assert.equal(withImages.defaultScorer, 'grab');
    assert.equal(withImages.textOnly, undefined);
    // rows that are not the chart generator's keep their image column as metadata, as before
    const plain = join(dir, 'plain.jsonl');
    writeFileSync(plain, JSON.stringify({ id: 'a', question: 'q', answer: '1', image: 'images/charts-7-0.png' }) + '\n');
    assert.equal((await loadDataset(plain)).samples[0]!.input, 'q');

    // the CLI: exit code 2 with the message, before any model call or pool file
    const poolFile = join(dir, 'pool.sqlite');
    const p = spawnSync(process.execPath, [bin, 'run', '--dataset', r.jsonl, '--model', 'openai-compatible:http://127.0.0.1:9/v1#m', '--pool', poolFile], { encoding: 'utf8' });
    assert.equal(p.status, 2, p.stderr);
    assert.match(p.stderr, /chart questions without their charts.*--image-field image/s);
    assert.ok(!existsSync(poolFile), 'no pool file for refused input');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an earlier generation\'s file is removed only with the sha256 recorded for it; a user\'s charts.jsonl is not overwritten without force', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-charts-sha-'));
  try {
    await writeChartDataset(dir, 5, 3);
    const mine = join(dir, 'images', 'charts-3-4.png');
    writeFileSync(mine, 'a chart the user saved over the generated one');
    const second = await writeChartDataset(dir, 3, 3);
    assert.equal(second.removed, 1, 'charts-3-3.png, unchanged, goes');
    assert.deepEqual(second.kept, [{ file: 'images/charts-3-4.png', reason: 'changed' }]);
    assert.equal(readFileSync(mine, 'utf8'), 'a chart the user saved over the generated one');
    assert.ok(!existsSync(join(dir, 'images', 'charts-3-3.png')));

    // a manifest written before per-file hashes: the old charts.jsonl's image_sha256 is the record
    await writeChartDataset(dir, 4, 8);
    const m = JSON.parse(readFileSync(join(dir, CHARTS_MANIFEST), 'utf8')) as Record<string, unknown>;
    delete m.sha256s;
    writeFileSync(join(dir, CHARTS_MANIFEST), JSON.stringify(m));
    writeFileSync(join(dir, 'images', 'charts-8-2.png'), 'changed');
    const third = await writeChartDataset(dir, 1, 9, { file: 'other.jsonl' });
    assert.deepEqual(third.kept, [{ file: 'images/charts-8-2.png', reason: 'changed' }]);
    assert.equal(third.removed, 4, '3 unchanged PNGs and charts.jsonl (its sha256 in the manifest)');
    assert.deepEqual(pngs(dir), ['charts-3-4.png', 'charts-8-2.png', 'charts-9-0.png']);

    // the generator's dataset file edited since: not overwritten
    writeFileSync(join(dir, 'other.jsonl'), 'edited\n');
    await assert.rejects(writeChartDataset(dir, 1, 9, { file: 'other.jsonl' }), (e: unknown) => e instanceof InputError && /other\.jsonl exists and has changed since the generator wrote it: not overwritten.*--force/.test(e.message));
    assert.equal(readFileSync(join(dir, 'other.jsonl'), 'utf8'), 'edited\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // a folder with the user's own charts.jsonl and no manifest: refused (library and CLI), overwritten with force
  const own = mkdtempSync(join(tmpdir(), 'assay-charts-own-'));
  try {
    writeFileSync(join(own, 'charts.jsonl'), '{"id":"mine"}\n');
    await assert.rejects(writeChartDataset(own, 2, 1), (e: unknown) => e instanceof InputError && /charts\.jsonl exists and was not written by the generator \(not listed in assay-charts-files\.json\): not overwritten/.test(e.message));
    const cli = spawnSync(process.execPath, [bin, 'gen', 'charts', '--n', '2', '--out', own], { encoding: 'utf8' });
    assert.equal(cli.status, 2, cli.stderr);
    assert.match(cli.stderr, /was not written by the generator.*--force/);
    assert.equal(readFileSync(join(own, 'charts.jsonl'), 'utf8'), '{"id":"mine"}\n');
    const forced = await writeChartDataset(own, 2, 1, { force: true });
    assert.equal(forced.samples, 2);
    assert.equal(readFileSync(join(own, 'charts.jsonl'), 'utf8').trim().split('\n').length, 2);
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
});
