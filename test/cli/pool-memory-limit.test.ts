/**
 * The pool commands read the pool a page at a time: a pool too large to hold as objects under a small JavaScript
 * heap (`node --max-old-space-size=40`) is ranked, queried, subset and validated by the CLI in child processes under
 * that limit, and each prints exactly the numbers computed in this process from the same measurements held whole as
 * objects (no limit here). The control: holding that pool's measurements as objects under the same limit runs out
 * of memory.
 *
 * The pool: a seeded two-parameter logistic pool (the generator of bench/synthetic-pool.ts) of 100 models × 25,000
 * items, 90% of the cells missing (about 150,000 binary measurements), four categories, imported with the CSV
 * importer. Held as objects it needs about 37 MB of heap besides the 14 MB of a process started through tsx; the
 * commands need far less (compact typed arrays, which live outside the JavaScript heap, and one string per model
 * and per sample): at 300,000 measurements they still pass under 32 MB.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { choicesFromMeasurements } from '../../src/aggregate/choices.ts';
import { rankModels } from '../../src/aggregate/rank.ts';
import { cheaperEvaluation } from '../../src/aggregate/subset.ts';
import { matrixFromMeasurements, meanScores, missingDataCurve, normal } from '../../src/aggregate/validate.ts';
import { kendallTau } from '../../src/aggregate/baselines.ts';
import type { PoolMeasurement } from '../../src/core/pool-measurement.ts';
import { createRng } from '../../src/core/rng.ts';
import { importGenericCsv } from '../../src/importers/index.ts';
import { openPool } from '../../src/store/open.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'src/cli/main.ts');
/** The heap limit of the children, MB: below what the pool takes as objects (the control shows it), above what the commands need. */
const LIMIT_MB = 40;
const MODELS = 100, ITEMS = 15_000, MISSING = 0.9, SEED = 7;

const dir = mkdtempSync(join(tmpdir(), 'assay-memlimit-'));
const csv = join(dir, 'synthetic.csv');
const pool = join(dir, 'pool.sqlite');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Write the synthetic pool; returns the true abilities and the keys of the items written (some may have no measurement). */
function writePool(): { truth: Float64Array; measurements: number; items: Set<number> } {
  const rng = createRng(SEED);
  const truth = Float64Array.from({ length: MODELS }, () => normal(rng));
  const lines = ['model,sample_id,value,kind,category'];
  const items = new Set<number>();
  for (let s = 0; s < ITEMS; s++) {
    const b = 1.5 * normal(rng), a = Math.exp(0.3 * normal(rng));
    for (let m = 0; m < MODELS; m++) {
      if (rng.float() < MISSING) continue;
      lines.push(`model-${m},s${s},${rng.float() < 1 / (1 + Math.exp(-a * (truth[m]! - b))) ? 1 : 0},binary,cat-${s % 4}`);
      items.add(s);
    }
  }
  writeFileSync(csv, lines.join('\n') + '\n');
  return { truth, measurements: lines.length - 1, items };
}

interface Child { code: number | null; out: string; err: string }
/** The CLI (from source) in a child process under the heap limit. */
function limited(args: string[]): Promise<Child> {
  return childUnderLimit(['--import', 'tsx', CLI, ...args, '--pool', pool]);
}
function childUnderLimit(args: string[]): Promise<Child> {
  const child = spawn(process.execPath, [`--max-old-space-size=${LIMIT_MB}`, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((res) => child.on('close', (code) => res({ code, out, err })));
}
/** As `printJson` writes numbers (non-finite → null). */
const asJson = <T>(v: T): T => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x)));

describe(`pool commands under --max-old-space-size=${LIMIT_MB}`, () => {
  let truth: Float64Array, written: number, items: Set<number>, source = '';
  let all: PoolMeasurement[] = [];
  const categories = new Map<string, string | null>();
  before(async () => {
    ({ truth, measurements: written, items } = writePool());
    const store = await openPool(pool, { create: true });
    try {
      source = (await importGenericCsv(store, csv)).id;
      // the reference: every measurement held as an object (this process has no limit)
      for await (const m of store.iteratePoolMeasurements({ sources: [source] })) all.push(m);
      for await (const s of store.iteratePoolSamples({ runs: false })) categories.set(s.key, s.category);
    } finally {
      await store.close();
    }
  });

  it('control: holding the pool as objects under the limit runs out of heap', async () => {
    assert.equal(all.length, written);
    const script = `import { openPool } from ${JSON.stringify(join(ROOT, 'src/store/open.ts'))};
const p = await openPool(${JSON.stringify(pool)}, { readonly: true });
const held = [];
for await (const m of p.iteratePoolMeasurements({})) held.push(m);
console.log('held', held.length);`;
    const r = await childUnderLimit(['--import', 'tsx', '--input-type=module', '-e', script]);
    assert.notEqual(r.code, 0, `holding ${written} measurements as objects fit under ${LIMIT_MB} MB: raise the pool size`);
    assert.match(r.err, /heap out of memory|Reached heap limit/);
    assert.doesNotMatch(r.out, /held/);
  });

  it('rank, pool subset, pool validate --source and pool query succeed under the limit with the numbers of the whole pool held in memory', async () => {
    // the children run together (two cores) while this process computes the same numbers from the objects
    const runs = {
      rank: limited(['rank', '--source', source, '--replicates', '100', '--seed', '3', '--json']),
      subset: limited(['pool', 'subset', '--source', source, '--budgets', '50', '--reps', '2', '--json']),
      validate: limited(['pool', 'validate', '--source', source, '--fractions', '0.5', '--reps', '1', '--reference', 'full', '--json']),
      query: limited(['pool', 'query', '--filter', 'category=cat-1', '--no-save', '--show', '3', '--json']),
    };

    const expectedRank = rankModels(choicesFromMeasurements(all), { replicates: 100, seed: 3, prior: 1, method: 'mm' });
    const dense = matrixFromMeasurements(all, (k) => categories.get(k) ?? null);
    const expectedSubset = cheaperEvaluation(dense, { budgets: [50], reps: 2, seed: 0 });
    // 90% missing: no sample is measured on every model, so validate uses the whole source
    const expectedCurve = missingDataCurve(dense, meanScores(dense, null), { fractions: [0.5], reps: 1, seed: 0 }).map((r) => ({ ...r, reference: 'full-data mean' }));
    all = [];

    const rank = await runs.rank;
    assert.equal(rank.code, 0, rank.err);
    const r = JSON.parse(rank.out).ranking;
    assert.equal(r.measurements, written);
    assert.equal(r.models.length, MODELS);
    assert.deepEqual(r.models, asJson(expectedRank.models));
    assert.deepEqual(r.diagnostics, asJson(expectedRank.diagnostics));
    const byName = new Map<string, number>(r.models.map((m: { model: string; score: number }) => [m.model, m.score]));
    assert.ok(kendallTau(Array.from(truth), Array.from(truth, (_t, m) => byName.get(`model-${m}`)!)) > 0.9, 'ranks the true abilities');

    const subset = await runs.subset;
    assert.equal(subset.code, 0, subset.err);
    assert.deepEqual(JSON.parse(subset.out).rows, asJson(expectedSubset));

    const validate = await runs.validate;
    assert.equal(validate.code, 0, validate.err);
    const v = JSON.parse(validate.out);
    assert.match(v.data, new RegExp(`${MODELS} models × ${items.size} samples \\(no sample was measured on every model\\)`));
    assert.deepEqual(v.rows, asJson(expectedCurve));

    const query = await runs.query;
    assert.equal(query.code, 0, query.err);
    const q = JSON.parse(query.out);
    const keys = [...items].filter((s) => s % 4 === 1).map((s) => `synthetic/s${s}`).sort();
    assert.equal(q.filtered, keys.length);
    assert.deepEqual(q.selection.sample_keys, keys);
    assert.deepEqual(q.hits.map((h: { key: string }) => h.key), keys.slice(0, 3));
  });
});
