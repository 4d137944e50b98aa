/**
 * Grids that cannot be generated fail before anything is written, and a grid file is all or nothing: parameters
 * that do not fit the shortest length (k, thread length, threads, branches), a bad marker, a length past the
 * maximum, duplicate axis values (which would give two samples one id), through the library and through the CLI —
 * where every usage error prints a message and exits 2 without leaving a file behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_GRID, MAX_NEEDLE_CHARS, NEEDLE_TASKS, generateGrid, generateNeedleSample, gridParams, gridSize, validateGrid, writeGridJsonl, type NeedleGridSpec,
} from '../../src/generators/needle/index.ts';
import { parseLengths } from '../../src/cli/commands/gen.ts';
import { InputError } from '../../src/core/errors.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const assay = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const small = (over: Partial<NeedleGridSpec>): NeedleGridSpec => ({ ...DEFAULT_GRID, lengths: [1000, 4000], ...over });

/** Grids where some cell cannot be generated (always the shortest length, always at least one good cell before it). */
const UNFIT: [string, Partial<NeedleGridSpec>][] = [
  ['k larger than the pairs of the shortest length', { lengths: [8000, 1000], k: 13 }],
  ['thread longer than the haystack', { lengths: [8000, 1000], threadLength: 13 }],
  ['threads × length over the pairs', { tasks: ['single', 'multi-threading'], lengths: [8000, 1000], threads: 5, threadLength: 3 }],
  ['branches over the pairs', { tasks: ['single', 'branched'], lengths: [8000, 1000], branches: 12 }],
  ['conditional marker a hex digit', { conditionalChar: 'a' }],
  ['conditional marker two characters', { conditionalChar: '**' }],
  ['conditional marker a quote', { conditionalChar: '"' }],
  ['length past the maximum', { tasks: ['single'], lengths: [1000, MAX_NEEDLE_CHARS + 80] }],
  ['negative depth', { depths: [50, -10] }],
  ['depth 150', { depths: [150] }],
  ['length 0', { lengths: [0] }],
];

test('every grid with a cell that cannot be generated is rejected by validateGrid, before any sample', () => {
  for (const [what, over] of UNFIT) {
    const g = small(over);
    assert.throws(() => validateGrid(g), InputError, what);
    assert.throws(() => gridSize(g), InputError, what);
    assert.throws(() => generateGrid(g, 0).next(), InputError, `${what}: the first sample is not generated either`);
  }
});

test('writing an unfit grid leaves no file, no partial file, and an existing file untouched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-needle-unfit-'));
  const kept = join(dir, 'kept.jsonl');
  writeFileSync(kept, 'previous grid\n');
  for (const [what, over] of UNFIT) {
    const path = join(dir, 'g.jsonl');
    await assert.rejects(writeGridJsonl(small(over), 0, path), InputError, what);
    assert.equal(existsSync(path), false, what);
    await assert.rejects(writeGridJsonl(small(over), 0, kept), InputError, what);
    assert.equal(readFileSync(kept, 'utf8'), 'previous grid\n', what);
  }
  // A failure half-way (here: a sample callback that throws) does not leave the half under the name either.
  let n = 0;
  await assert.rejects(writeGridJsonl(DEFAULT_GRID, 0, kept, () => { if (++n === 5) throw new Error('interrupted'); }), /interrupted/);
  assert.equal(readFileSync(kept, 'utf8'), 'previous grid\n');
  assert.deepEqual(readdirSync(dir).sort(), ['kept.jsonl']);
  await assert.rejects(writeGridJsonl(DEFAULT_GRID, 0, join(dir, 'no-such-dir', 'g.jsonl')), InputError);
});

test('duplicate axis values give each sample one id: the grid is deduplicated, order kept', () => {
  const g = small({ tasks: ['single', 'threading', 'single'], lengths: [1000, 1000, 2000], depths: [50, 0, 50, -0], directions: ['forward', 'forward'] });
  const v = validateGrid(g);
  assert.deepEqual([v.tasks, v.lengths, v.depths, v.directions], [['single', 'threading'], [1000, 2000], [50, 0], ['forward']]);
  for (const grid of [g, DEFAULT_GRID, small({ repeats: 3, placement: 'random' }), small({ placement: 'clustered', repeats: 2 })]) {
    const ids = [...generateGrid(grid, 0)].map((s) => s.id);
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
    assert.equal(ids.length, gridSize(grid).samples);
    assert.equal(ids.length, [...gridParams(grid)].length);
  }
});

test('lengths: the maximum is enforced in the generator; decimal lengths scale exactly', () => {
  assert.throws(() => generateNeedleSample({ task: 'single', chars: MAX_NEEDLE_CHARS + 1 }, 0), /chars must be/);
  assert.throws(() => generateNeedleSample({ task: 'single', chars: 1e10 }, 0), InputError);
  for (const t of NEEDLE_TASKS) assert.doesNotThrow(() => validateGrid(small({ tasks: [t], lengths: [1000] })));
  assert.deepEqual(parseLengths('1.001k,2.3k,0.0001M,1.5M,80,1M'), [1001, 2300, 100, 1_500_000, 80, 1_000_000]);
  for (const bad of ['0', '79', '1.0005k', '1k,', ',1k', '1e3', '-1k', '200M', 'abc', '1.5']) assert.throws(() => parseLengths(bad), /./, bad);
});

test('CLI: every bad `gen needle` argument exits 2 with a message on stderr and writes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-needle-cli-'));
  const out = join(dir, 'g.jsonl');
  for (const args of [
    ['--lengths', '0'], ['--lengths', '1k,'], ['--lengths', '10G'], ['--depths', '50,'], ['--depths', '-10'], ['--depths', '150'],
    ['--k', '20', '--lengths', '1k'], ['--tasks', 'threading', '--thread-length', '20', '--lengths', '1k'], ['--tasks', 'foo'],
    ['--tasks', 'conditional', '--char', 'a'], ['--tasks', 'conditional', '--char', ''], ['--repeats', '0'], ['--branches', '1'],
  ]) {
    const r = assay(['gen', 'needle', '--tokens', 'none', '-o', out, ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /\S/, `${args.join(' ')}: says what is wrong`);
    assert.doesNotMatch(r.err, /\n\s+at /, `${args.join(' ')}: no stack trace`);
    assert.equal(existsSync(out), false, args.join(' '));
    assert.deepEqual(readdirSync(dir), [], `${args.join(' ')}: no partial file`);
  }
  const dup = assay(['gen', 'needle', '--tokens', 'none', '-o', out, '--tasks', 'single,single', '--lengths', '1k,1000', '--depths', '0,0', '--json']);
  assert.equal(dup.code, 0, dup.err);
  assert.equal(JSON.parse(dup.out).samples, 1);
});
