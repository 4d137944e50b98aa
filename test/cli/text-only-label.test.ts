/**
 * Text-only runs are told apart from the runs that sent the images: `--image-field` with `--text-only` is refused
 * (naming both flags), and the text-only run carries a "(text-only)" mark on its dataset in `assay runs`, the
 * `assay stats` header and the report's Runs table (the image run has none).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeChartDataset } from '../../src/generators/charts/write.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const assay = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

it('text-only: --image-field with --text-only refused; the label shown in runs, stats and the report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-tonly-'));
  try {
    const { jsonl } = await writeChartDataset(dir, 3, 7);
    const pool = join(dir, 'pool.sqlite');
    const both = assay(['run', '--dataset', jsonl, '--image-field', 'image', '--text-only', '--model', 'reference:oracle', '--pool', pool]);
    assert.equal(both.status, 2, both.stderr);
    assert.match(both.stderr, /--image-field image sends each question with its image and --text-only sends the questions without them: give one/);
    assert.doesNotMatch(both.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!existsSync(pool), 'refused before any pool file');

    const text = assay(['run', '--dataset', jsonl, '--text-only', '--model', 'reference:oracle', '--pool', pool, '--json']);
    assert.equal(text.status, 0, text.stderr);
    const textId = JSON.parse(text.stdout).run.run_id as string;
    const img = assay(['run', '--dataset', jsonl, '--image-field', 'image', '--model', 'reference:oracle', '--pool', pool, '--json']);
    assert.equal(img.status, 0, img.stderr);
    const imgId = JSON.parse(img.stdout).run.run_id as string;
    assert.notEqual(textId, imgId);

    const runs = assay(['runs', '--pool', pool]);
    assert.equal(runs.status, 0, runs.stderr);
    const line = (id: string) => runs.stdout.split('\n').find((l) => l.startsWith(id))!;
    assert.match(line(textId), /charts\.jsonl \(text-only\)/);
    assert.doesNotMatch(line(imgId), /text-only/);

    const st = assay(['stats', textId, '--pool', pool]);
    assert.equal(st.status, 0, st.stderr);
    assert.match(st.stdout.split('\n')[0]!, /charts\.jsonl \(text-only\) × reference:oracle/);

    const html = join(dir, 'r.html');
    const rep = assay(['report', textId, imgId, '-o', html, '--replicates', '100', '--pool', pool]);
    assert.equal(rep.status, 0, rep.stderr);
    const h = readFileSync(html, 'utf8');
    const start = h.indexOf('<table class="runs"');
    const rows = [...h.slice(start, h.indexOf('</table>', start)).matchAll(/<tr>(.*?)<\/tr>/g)].slice(1).map((x) => [...x[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1]!));
    assert.deepEqual(rows.map((r) => r[2]), ['charts.jsonl (text-only)', 'charts.jsonl']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
