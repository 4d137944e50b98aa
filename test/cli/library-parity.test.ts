/**
 * Whatever a command does, code can: the functions behind `assay import`, `export`, `gen needle`, `tokens` and
 * `pool query` are exported by the package entry (src/index.ts) and give what the command gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as assay from '../../src/index.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));

test('the package entry exports the importers, exportRun, the needle generator, the tokenizers and the pool query', () => {
  for (const name of ['importMmluPro', 'importWildBench', 'importArenaHard', 'importGenericCsv', 'importInspect', 'importLmEval', 'importLmEvalLoglikelihoods', 'exportRun', 'writeGridJsonl', 'hashGrid', 'generateGrid', 'countTokens', 'charsPerToken', 'querySamples', 'parseFilters'] as const) {
    assert.equal(typeof assay[name], 'function', name);
  }
  assert.ok(['mmlu-pro', 'wildbench', 'arena-hard', 'csv', 'inspect', 'lm-eval'].every((k) => k in assay.IMPORTERS));
});

test('hashGrid gives the sha256 that `assay gen needle` prints for the same grid and seed', () => {
  const r = spawnSync(process.execPath, [BIN, 'gen', 'needle', '--lengths', '1k,2k', '--depths', '0,50', '--tasks', 'single', '--seed', '7', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const cli = JSON.parse(r.stdout);
  const lib = assay.hashGrid(assay.validateGrid({ ...assay.DEFAULT_GRID, lengths: [1000, 2000], depths: [0, 50], tasks: ['single'] }), 7);
  assert.equal(lib.sha256, cli.sha256);
  assert.equal(lib.samples, cli.samples);
});

test('exportRun writes every attempt of a run, as `assay export` does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-parity-'));
  try {
    const data = join(dir, 'd.jsonl');
    writeFileSync(data, Array.from({ length: 5 }, (_, i) => JSON.stringify({ id: `s${i}`, question: `What is ${i} + 1?`, answer: String(i + 1) })).join('\n') + '\n');
    await using pool = await assay.openPool('memory:');
    const task = assay.defineTask({ name: 'p', dataset: `jsonl:${data}`, scorers: ['math'], epochs: 2 });
    const result = await assay.evaluate([task], ['reference:oracle'], { pool });
    const runId = result.cells[0]!.result.run_id;
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    assert.equal(await assay.exportRun(pool, runId, 'math', 'jsonl', out), 10);
    const rows = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 10);
    assert.deepEqual(Object.keys(rows[0]), [...assay.EXPORT_COLUMNS]);
    assert.deepEqual(rows.map((r) => r.score), Array(10).fill(1), 'the oracle is right on every attempt');
    assert.deepEqual([...new Set(rows.map((r) => r.sample_id))].sort(), ['s0', 's1', 's2', 's3', 's4']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
