// The chart generator as a whole: the same seed gives the same questions and PNG bytes, different seeds differ;
// the written dataset (PNGs + JSONL) loads with the generic loader; `assay gen charts`; the `grab` scorer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHARTS_GENERATOR_VERSION, generateCharts, itemSeed, makeChartItem, renderChartItem } from '../../src/generators/charts/generate.ts';
import { pngSize } from '../../src/generators/charts/png.ts';
import { writeChartDataset } from '../../src/generators/charts/write.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { parsePolynomial, parseSine } from '../../src/scorers/grab.ts';
import type { Sample } from '../../src/core/schemas.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('the same seed gives the same samples and PNG bytes; different seeds differ', () => {
  const a = [...generateCharts(12, 7)], b = [...generateCharts(12, 7)], c = [...generateCharts(12, 8)];
  assert.equal(a.length, 12);
  for (let i = 0; i < a.length; i++) {
    assert.deepEqual(a[i]!.sample, b[i]!.sample);
    assert.ok(a[i]!.png.equals(b[i]!.png), `png ${i}`);
    assert.equal(a[i]!.sample.metadata.image_sha256, sha(a[i]!.png));
    assert.deepEqual(pngSize(a[i]!.png), { width: 800, height: 600 });
    assert.equal(a[i]!.sample.metadata.image, `images/charts-7-${i}.png`);
    assert.equal(a[i]!.sample.metadata.version, CHARTS_GENERATOR_VERSION);
  }
  const hashes = (xs: typeof a) => xs.map((x) => x.sample.metadata.image_sha256);
  assert.equal(new Set(hashes(a)).size, 12, 'every chart differs');
  assert.equal(hashes(a).filter((h) => hashes(c).includes(h)).length, 0, 'another seed gives other charts');
  assert.notDeepEqual(a.map((x) => x.sample.input), c.map((x) => x.sample.input));
});

test('an item can be regenerated alone from its spec and item seed', () => {
  const [first] = [...generateCharts(1, 3)];
  const m = first!.sample.metadata;
  const spec = { task: m.task, category: m.category, property: m.property, precision: m.precision, complexity: m.complexity } as Parameters<typeof makeChartItem>[0];
  assert.equal(itemSeed(3, 0, spec), m.item_seed);
  const again = renderChartItem(makeChartItem(spec, m.item_seed as number), first!.sample.id, 3, 0);
  assert.ok(again.png.equals(first!.png));
  assert.deepEqual(again.sample, first!.sample);
  assert.throws(() => makeChartItem({ ...spec, complexity: 10 }, 1), RangeError);
});

test('a task filter keeps only those tasks; GRAB complexity is the number of series − 1', () => {
  const xs = [...generateCharts(8, 2, { tasks: ['series'] })];
  assert.ok(xs.every((x) => x.sample.metadata.task === 'series'));
  for (const x of xs) assert.equal((x.sample.metadata.data as unknown[]).length, (x.sample.metadata.complexity as number) + 1);
});

test('writeChartDataset: PNGs and a JSONL the generic loader reads; `assay gen charts` writes the same bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-charts-'));
  const r = await writeChartDataset(dir, 10, 4);
  assert.equal(r.samples, 10);
  assert.equal(readdirSync(join(dir, 'images')).length, 10);
  const text = readFileSync(r.jsonl);
  assert.equal(sha(text), r.sha256);
  const ds = await loadDataset(r.jsonl, { fields: { image: 'image' } });
  assert.equal(ds.samples.length, 10);
  assert.equal(ds.images!.size, 10);
  for (const s of ds.samples) {
    const png = readFileSync(join(dir, s.metadata.image as string));
    assert.equal(sha(png), s.metadata.image_sha256);
    assert.equal(s.metadata.generator, 'charts');
    assert.ok(ds.images!.get(s.metadata.image_sha256 as string)!.load().equals(png));
  }

  const out = join(dir, 'cli');
  const bin = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
  const p = spawnSync(process.execPath, [bin, 'gen', 'charts', '--n', '10', '--seed', '4', '--out', out, '--json'], { encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  const summary = JSON.parse(p.stdout);
  assert.equal(summary.sha256, r.sha256);
  assert.equal(summary.samples, 10);
  assert.equal(summary.generator, 'charts');
  const bad = spawnSync(process.execPath, [bin, 'gen', 'charts', '--n', '3', '--out', out, '--tasks', 'pie'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown task "pie"/);
});

// ---------------------------------------------------------------------------------------------------------------
// the grab scorer

const sample = (target: string, precision?: string): Sample => ({ id: 's', input: 'q', target, metadata: precision ? { precision } : {} });

test('grab scorer: numbers compared after rounding to the stated precision', () => {
  const g = createScorer('grab');
  assert.equal(g.name, 'grab');
  const v = (t: string, r: string, p?: string) => (g.score(sample(t, p), r) as { value: number | null }).value;
  assert.equal(v('3', 'The answer is 3.'), 1);
  assert.equal(v('3', 'about 3.4', 'int'), 1);
  assert.equal(v('3', '3.6', 'int'), 0);
  assert.equal(v('-1.0', '-1.04', '1dp'), 1);
  assert.equal(v('-1.0', '-1', '1dp'), 1);
  assert.equal(v('-1.0', '−1.0'), 1); // typographic minus; precision inferred from the target
  assert.equal(v('0.3', '0.35', '1dp'), 0); // 0.35 rounds half away from zero to 0.4
  assert.equal(v('120', '115', 'nearest10'), 1);
  assert.equal(v('120', '114', 'nearest10'), 0);
  assert.equal(v('7', 'I think \\boxed{7}'), 1);
  const none = g.score(sample('3', 'int'), 'no idea') as { value: number; status: string };
  assert.deepEqual([none.value, none.status], [0, 'no_answer']);
  const near = g.score(sample('10', 'int'), '12') as { explanation: string };
  assert.match(near.explanation, /relative error 0\.200/);
});

test('grab scorer: pairs as unordered pairs, equations by coefficients', () => {
  const g = createScorer('grab');
  const v = (t: string, r: string) => (g.score(sample(t, t.startsWith('[') ? 'int' : 'equation'), r) as { value: number | null }).value;
  assert.equal(v('[-10, -3]', 'The stationary points are at [-10, -3].'), 1);
  assert.equal(v('[-10, -3]', '[-3.2, -9.8]'), 1);
  assert.equal(v('[-10, -3]', '[-10, -4]'), 0);
  assert.equal(v('y = 0x^3 - 2x^2 + 5x + 2', 'y = -2x^2 + 5x + 2'), 1);
  assert.equal(v('y = 0x^3 - 2x^2 + 5x + 2', 'So y = 0x^3 - 2x^2 + 5x + 3'), 0);
  assert.equal(v('y = -1x - 3', 'y = -x - 3'), 1);
  assert.equal(v('y = 2sin(3x - 1) + 6', 'y = 2sin(3x - 1) + 6'), 1);
  assert.equal(v('y = 2sin(3x - 1) + 6', 'y = -2 sin(-3x + 1) + 6'), 1); // the same function
  assert.equal(v('y = 2sin(3x - 1) + 6', 'y = 2sin(3x + 1) + 6'), 0);
  assert.deepEqual([...parsePolynomial('y = 3x^2 - x + 1')!.entries()].sort(), [[0, 1], [1, -1], [2, 3]]);
  assert.deepEqual(parseSine('y = sin(x)'), [1, 1, 0, 0]);
  assert.equal(parsePolynomial('y = hello'), null);
});

test('grab scorer: an equation is read from its final answer, whatever wraps it', () => {
  const g = createScorer('grab');
  const v = (r: string) => (g.score(sample('y = 6x + 1', 'equation'), r) as { value: number | null; extracted: string | null });
  // every wrapper a model writes around its final equation, with the same equation inside
  for (const r of [
    'Working it out step by step.\nThe answer is \\boxed{y = 6x + 1}.',
    'Final answer: $y = 6x + 1$.',
    'So the line is \\(y = 6x + 1\\).',
    '**y = 6x + 1**',
    'The equation is `y = 6x + 1`;',
    'From the points, y = 2x + 1 is wrong; the line is y = 6x + 1.',
    '\\[ \\boxed{y = 6x + 1} \\]',
  ]) {
    const verdict = v(r);
    assert.equal(verdict.value, 1, `${r} → ${verdict.extracted}`);
    assert.equal(verdict.extracted, 'y = 6x + 1', r);
  }
  // a boxed final answer wins over an equation written later in the reasoning
  assert.equal(v('\\boxed{y = 6x + 1}\nCheck: y = 6x + 2 would miss the point (0, 1).').value, 1);
  assert.equal(v('The answer is \\boxed{y = 6x + 2}.').value, 0);
  assert.equal(v('\\boxed{y = 6(x + 1)}').value, 0);
});

test('grab scorer: every generated target grades itself as right', () => {
  const g = createScorer('grab');
  for (const { sample: s } of generateCharts(60, 9)) {
    const verdict = g.score(s, `Answer: ${s.target}`) as { value: number | null; explanation: string };
    assert.equal(verdict.value, 1, `${s.id} ${s.target}: ${verdict.explanation}`);
  }
});

test('grab scorer: an abandoned boxed answer is not credited; LaTeX thousands separators are read whole (shared cases of the same kinds)', () => {
  const g = createScorer('grab');
  const v = (target: string, r: string) => g.score(sample(target, 'int'), r) as { value: number | null; status: string; extracted: string | null };
  const cut = v('12', 'So the area is \\boxed{12}. Hmm, that is wrong; redoing it, the answer is \\boxed{');
  assert.equal(cut.status, 'no_answer');
  assert.equal(cut.value, 0);
  assert.equal(v('1', '\\boxed{1').status, 'no_answer');
  assert.equal(v('-3', 'The answer is \\boxed{-3.').status, 'no_answer');
  assert.equal(v('9500', 'The total is \\boxed{\\$9{,}500}').value, 1);
  assert.equal(v('9500', 'The total is \\boxed{\\$9{,}500}').extracted, '9,500');
  assert.equal(v('12', 'The answer is \\boxed{12}.').value, 1);
});
