/**
 * `assay score` with graders on different scales: CIDEr-D (numeric) is printed in its own unit, BLEU (a proportion)
 * as a percentage, and agreement is counted only between binary graders; the other pairs are named as not compared.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { openPool } from '../../src/store/open.ts';
import { defineTask } from '../../src/tasks/task.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));

it('score: cider_d in CIDEr-D, bleu in %, disagreement only between the binary graders', async () => {
  const samples: Sample[] = [
    { id: 'c1', input: 'Describe image 1.', target: 'a cat on a mat', metadata: { references: ['a cat on a mat', 'a cat sitting on a mat', 'the cat is on the mat'] } },
    { id: 'c2', input: 'Describe image 2.', target: 'a dog in a park', metadata: { references: ['a dog in a park', 'a dog running in the park'] } },
    { id: 'c3', input: 'Describe image 3.', target: 'two birds', metadata: { references: ['two birds on a wire', 'birds sitting on a wire'] } },
  ];
  const said: Record<string, string> = { 'Describe image 1.': 'a cat on a mat', 'Describe image 2.': 'A dog in the park.', 'Describe image 3.': 'A plane in the sky.' };
  const server = await startFakeOpenAIServer({ answer: (q) => ({ content: said[q.trim()] ?? '' }) });
  const file = join(mkdtempSync(join(tmpdir(), 'assay-score-')), 'p.sqlite');
  let runId = '';
  try {
    const pool = await openPool(file, { create: true });
    const task = defineTask({ name: 'captions', dataset: { name: 'captions', samples }, template: 'plain', scorers: ['cider_d'] });
    const r = await evaluate(task, [`openai-compatible:${server.url}#cap`], { pool });
    assert.equal(r.status, 'complete');
    runId = r.cells[0]!.run_id;
    await pool.close();
  } finally {
    await server.close();
  }
  const run = (json: boolean) => spawnSync(process.execPath, [BIN, 'score', runId, '--scorer', 'cider_d', '--scorer', 'bleu', '--scorer', 'exact', '--scorer', 'math', '--pool', file, ...(json ? ['--json'] : [])], { encoding: 'utf8' });
  const j = run(true);
  assert.equal(j.status, 0, j.stderr);
  const doc = JSON.parse(j.stdout);
  assert.deepEqual(doc.disagreements.map((d: { a: string; b: string }) => `${d.a}/${d.b}`), ['exact/math']);
  assert.deepEqual(doc.not_compared.map((d: { a: string; b: string }) => `${d.a}/${d.b}`), ['cider_d/bleu', 'cider_d/exact', 'cider_d/math', 'bleu/exact', 'bleu/math']);
  const cider = doc.statistics.find((s: { scorer: string }) => s.scorer === 'cider_d').statistics;
  assert.equal(cider.metric.kind, 'numeric');
  const t = run(false);
  assert.equal(t.status, 0, t.stderr);
  const row = t.stdout.split('\n').find((l) => l.startsWith('cider_d ') && l.includes('CIDEr-D'))!;
  assert.ok(row, t.stdout);
  assert.ok(row.includes(`${cider.accuracy.toFixed(4)} CIDEr-D`) && !row.includes('%'), row);
  assert.ok(row.includes(`[${cider.ci95.lo.toFixed(4)}, ${cider.ci95.hi.toFixed(4)}] CIDEr-D`), row);
  const bleuRow = t.stdout.split('\n').find((l) => l.startsWith('bleu ') && l.includes('%'));
  assert.ok(bleuRow, t.stdout);
  assert.match(t.stdout, /cider_d vs bleu: not compared \(agreement is counted only between binary \(0\/1\) scorers: cider_d is numeric \(CIDEr-D\), bleu is proportion\)/);
  assert.match(t.stdout, /exact vs math: disagree on \d+\/3 attempts/);
  assert.doesNotMatch(t.stdout, /cider_d vs bleu: disagree/);
});
