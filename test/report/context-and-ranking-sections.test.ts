/**
 * The HTML report carries the long-context section (effective limit, accuracy vs length, depth × length heatmap)
 * for needle-threading runs and, with --rank, the pool's Plackett–Luce ranking with rank intervals.
 * Real Arena-Hard battles from ../shared; the needle grid is generated (seeded) and answered by the synthetic
 * reference:needle-noisy model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shared } from '../../testkit/shared.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const ARENA = shared('data/pool/arena_hard/battles.jsonl');
const assay = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

test('report: needle runs get the context-limit section and heatmap; --rank adds the pool ranking with rank intervals', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-report-needle-'));
  const pool = join(dir, 'p.sqlite');
  const grid = join(dir, 'grid.jsonl');
  assert.equal(assay(['gen', 'needle', '-o', grid, '--tasks', 'single', '--lengths', '1k,4k,16k', '--depths', '0,25,50,75,100']).status, 0);
  const run = assay(['run', '--dataset', grid, '--model', 'reference:needle-noisy?p=0.95&limit=6000', '--scorer', 'needle', '--epochs', '3', '--pool', pool, '--json']);
  assert.equal(run.status, 0, run.stderr);
  const runId = JSON.parse(run.stdout).run.run_id as string;
  const imp = assay(['import', 'arena-hard', ARENA, '--pool', pool, '--json']);
  assert.equal(imp.status, 0, imp.stderr);
  const source = JSON.parse(imp.stdout).source.id as string;
  const out = join(dir, 'r.html');
  const rep = assay(['report', runId, '-o', out, '--rank', '--rank-source', source, '--pool', pool]);
  assert.equal(rep.status, 0, rep.stderr);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /id="context"/);
  assert.match(html, /Effective limit at accuracy ≥ 75\.0%: <b>4,000 characters<\/b>/);
  const heat = html.match(/<table class="heatmap">[\s\S]*?<\/table>/)?.[0] ?? '';
  assert.equal((heat.match(/class="heat"/g) ?? []).length, 15, '5 depths × 3 lengths');
  assert.match(html, /id="pool-ranking"/);
  const rank = html.slice(html.indexOf('id="pool-ranking"'));
  const rows = rank.slice(0, rank.indexOf('</table>')).match(/<tr>(?!<th)/g) ?? [];
  assert.equal(rows.length, 5, 'five Arena-Hard models');
  assert.match(rank, /claude-3-5-sonnet[\s\S]*?<td[^>]*>1–\d<\/td>/);
});
