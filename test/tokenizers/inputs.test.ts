/**
 * Tokenizer inputs a user gets wrong: a family named twice, no family at all, an empty or missing file. Each gives
 * one column per family, a stated "no ratio" instead of NaN, or a usage error (exit 2, a message, no stack trace)
 * before any tokenizer is loaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { charsPerToken, parseFamilies, TOKENIZER_FAMILIES } from '../../src/tokenizers/index.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const assay = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('a family named more than once is counted once, in first-mention order', () => {
  assert.deepEqual(parseFamilies('o200k, qwen3,o200k ,qwen3'), ['o200k', 'qwen3']);
  for (const f of TOKENIZER_FAMILIES) assert.deepEqual(parseFamilies(`${f},${f}`), [f]);
});

test('an empty text has no characters-per-token ratio (null), never NaN', async () => {
  const [row] = await charsPerToken([{ name: 'empty', text: '' }], ['o200k']);
  assert.equal(row!.tokens.o200k, 0);
  assert.equal(row!.chars_per_token.o200k, null);
  assert.equal(JSON.stringify(row), JSON.stringify({ ...row, chars_per_token: { o200k: null } }));
});

test('`assay tokens`: bad inputs are usage errors before any tokenizer loads; an empty file is shown as such', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-tokens-'));
  for (const args of [['--families', 'none'], ['--families', ''], ['--families', 'o200k', '--file', join(dir, 'missing.txt')], ['--families', 'gpt5']]) {
    const r = assay(['tokens', ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /assay: |error: /, args.join(' '));
    assert.doesNotMatch(r.err, /\n\s+at /, `${args.join(' ')}: no stack trace`);
    assert.doesNotMatch(r.err, /loading \d+ tokenizers/, `${args.join(' ')}: fails before loading`);
  }
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '');
  const r = assay(['tokens', '--families', 'o200k,o200k', '--haystack-chars', '800', '--file', empty]);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.out, /NaN/);
  assert.match(r.out, /empty\.txt\s+- \(empty\)/);
  assert.equal(r.out.split('\n')[1]!.trim().split(/\s+/).filter((c) => c === 'o200k').length, 1, 'one column per family');
  const j = assay(['tokens', '--families', 'o200k', '--haystack-chars', '800', '--file', empty, '--json']);
  assert.equal(JSON.parse(j.out).rows[2].chars_per_token.o200k, null);
});
