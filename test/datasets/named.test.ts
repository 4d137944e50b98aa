/**
 * Named loaders on the real shared data files (never copied into the repo).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadDataset, namedDatasets } from '../../src/datasets/index.ts';
import { InputError } from '../../src/core/errors.ts';
import { shared } from '../../testkit/shared.ts';

const data = (rel: string): string => shared(`data/${rel}`);
const SUMS = new Map(
  readFileSync(data('SHA256SUMS'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [hash, path] = l.split(/\s+/);
      return [path!, hash!] as const;
    }),
);

test('gsm8k: 1319 samples, targets after ####, ids are 0-based row indices, hash matches SHA256SUMS', async () => {
  const d = await loadDataset(`gsm8k:${data('gsm8k/test.jsonl')}`);
  assert.equal(d.name, 'gsm8k');
  assert.equal(d.samples.length, 1319);
  assert.equal(d.hash, SUMS.get('gsm8k/test.jsonl'));
  assert.equal(d.path, data('gsm8k/test.jsonl'));
  assert.equal(d.defaultScorer, 'gsm8k');
  assert.equal(d.defaultTemplate, 'plain');
  const first = d.samples[0]!;
  assert.equal(first.id, '0');
  assert.equal(first.target, '18');
  assert.match(first.input as string, /^Janet\u2019s ducks lay 16 eggs/);
  assert.match(first.metadata.solution as string, /<<16-3-4=9>>[\s\S]*#### 18$/);
  assert.equal(d.samples[1318]!.id, '1318');
  // thousands separators kept as in the file (the scorer normalises); negatives kept
  const withComma = d.samples.filter((s) => s.target.includes(','));
  assert.equal(withComma.length, 14);
  assert.ok(withComma.every((s) => /^-?\d{1,3}(,\d{3})+$/.test(s.target)), withComma.map((s) => s.target).join(' '));
  assert.equal(d.samples.filter((s) => s.target.startsWith('-')).length, 2);
  assert.ok(d.samples.every((s) => !s.target.includes('#') && s.target === s.target.trim() && s.target !== ''));
});

test('math500: 500 samples keyed by unique_id with subject and int level', async () => {
  const d = await loadDataset(`math500:${data('math500/test.jsonl')}`);
  assert.equal(d.samples.length, 500);
  assert.equal(d.hash, SUMS.get('math500/test.jsonl'));
  assert.equal(d.defaultScorer, 'math');
  assert.equal(d.defaultTemplate, 'math-boxed');
  const s = d.samples[0]!;
  assert.equal(s.id, 'test/precalculus/807.json');
  assert.equal(s.target, '\\left( 3, \\frac{\\pi}{2} \\right)');
  assert.equal(s.metadata.subject, 'Precalculus');
  assert.equal(typeof s.metadata.level, 'number');
  assert.equal(typeof s.metadata.solution, 'string');
  assert.equal(s.metadata.unique_id, undefined);
  const subjects = new Map<string, number>();
  for (const x of d.samples) subjects.set(x.metadata.subject as string, (subjects.get(x.metadata.subject as string) ?? 0) + 1);
  assert.equal(subjects.get('Algebra'), 124);
  assert.equal(subjects.get('Counting & Probability'), 38);
});

test('aime24: 30 samples, string ids from ints, leading-zero answers kept', async () => {
  const d = await loadDataset(`aime24:${data('aime24/test.jsonl')}`);
  assert.equal(d.samples.length, 30);
  assert.equal(d.hash, SUMS.get('aime24/test.jsonl'));
  assert.deepEqual(d.samples.map((s) => s.id), Array.from({ length: 30 }, (_, i) => String(60 + i)));
  const zeros = d.samples.filter((s) => s.target.startsWith('0')).map((s) => s.target).sort();
  assert.deepEqual(zeros, ['023', '025', '033', '045', '055', '073', '080']);
  const s = d.samples[0]!;
  assert.equal(s.target, '204');
  assert.equal(s.metadata.raw_id, 60);
  assert.equal(s.metadata.question, undefined, 'question duplicates problem and is dropped');
  assert.match(s.metadata.url as string, /artofproblemsolving/);
});

test('aime25: 30 samples from a local path; no path gives a clear InputError', async () => {
  const d = await loadDataset(`aime25:${data('aime25/test.jsonl')}`);
  assert.equal(d.samples.length, 30);
  assert.equal(d.hash, SUMS.get('aime25/test.jsonl'));
  assert.equal(d.samples[0]!.id, 'aime_2025_I_1');
  assert.deepEqual(d.samples.slice(0, 3).map((s) => s.target), ['70', '588', '16']);
  assert.deepEqual(d.samples.slice(15, 18).map((s) => s.target), ['468', '49', '82']);
  assert.equal(d.samples[0]!.metadata.source, 'AIME 2025 I Problem 1');
  await assert.rejects(loadDataset('aime25', { cacheDir: '/nonexistent-never-used' }), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.match(err.message, /local path/);
    assert.match(err.message, /aime25:<path/);
    return true;
  });
});

test('amc23: 40 samples, float answers become integer strings, raw float kept', async () => {
  const d = await loadDataset(`amc23:${data('amc23/test.jsonl')}`);
  assert.equal(d.samples.length, 40);
  assert.equal(d.hash, SUMS.get('amc23/test.jsonl'));
  const s = d.samples[0]!;
  assert.equal(s.id, '0');
  assert.equal(s.target, '27');
  assert.equal(s.metadata.raw_answer, 27);
  assert.ok(d.samples.some((x) => x.target === '-1'));
  assert.ok(d.samples.some((x) => x.target === '3159'));
  assert.ok(d.samples.every((x) => /^-?\d+$/.test(x.target)));
  assert.equal(new Set(d.samples.map((x) => x.id)).size, 40);
});

test('limit keeps the first N samples while hashing the whole file', async () => {
  const d = await loadDataset(`gsm8k:${data('gsm8k/test.jsonl')}`, { limit: 5 });
  assert.equal(d.samples.length, 5);
  assert.deepEqual(d.samples.map((s) => s.id), ['0', '1', '2', '3', '4']);
  assert.equal(d.hash, SUMS.get('gsm8k/test.jsonl'));
  const big = await loadDataset(`amc23:${data('amc23/test.jsonl')}`, { limit: 1000 });
  assert.equal(big.samples.length, 40);
  await assert.rejects(loadDataset(`amc23:${data('amc23/test.jsonl')}`, { limit: 0 }), InputError);
});

test('namedDatasets lists the five loaders with pinned commit URLs (aime25: none)', () => {
  const list = namedDatasets();
  assert.deepEqual(list.map((d) => d.name), ['gsm8k', 'math500', 'aime24', 'aime25', 'amc23']);
  for (const d of list) {
    assert.ok(d.description.length > 10);
    if (d.name === 'aime25') assert.equal(d.url, null);
    else assert.match(d.url!, /^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/[0-9a-f]{40}\//);
  }
});

test('unknown refs and missing files are InputErrors', async () => {
  await assert.rejects(loadDataset('mmlu'), (e: unknown) => e instanceof InputError && /unknown dataset "mmlu"/.test(e.message));
  await assert.rejects(loadDataset('gsm8k:/nonexistent/test.jsonl'), (e: unknown) => e instanceof InputError && e.where.file === '/nonexistent/test.jsonl' && /not found/.test(e.message));
  await assert.rejects(loadDataset('jsonl:'), InputError);
  await assert.rejects(loadDataset(`jsonl:${data('gsm8k')}`), (e: unknown) => e instanceof InputError && /not a regular file/.test(e.message));
});
