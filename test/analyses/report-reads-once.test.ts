/**
 * The report reads each run ONCE: one pass over its planned samples and one over its outcomes, from which every
 * section (runs, paired comparison and ranking, variance, truncation, sweeps, the needle context limit) is derived.
 * Counted through a pool wrapper that records every iterator call per run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, stableStringify } from '../../src/core/hash.ts';
import { getTemplate } from '../../src/core/templates.ts';
import { generateArithmetic } from '../../src/generators/arithmetic.ts';
import { DEFAULT_GRID, generateGrid, validateGrid } from '../../src/generators/needle/index.ts';
import { buildReport } from '../../src/report/html.ts';
import { executeRun } from '../../src/runner/run.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { openPool } from '../../src/store/open.ts';
import type { Pool } from '../../src/store/types.ts';

type Reads = Map<string, { planned: number; outcomes: number }>;

/** A pool that counts, per run, the calls of the iterators that read a run. */
function counting(pool: Pool, reads: Reads): Pool {
  const bump = (runId: string, k: 'planned' | 'outcomes') => {
    const r = reads.get(runId) ?? { planned: 0, outcomes: 0 };
    r[k]++;
    reads.set(runId, r);
  };
  return new Proxy(pool, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      if (prop === 'iteratePlanned') return (runId: string) => (bump(runId, 'planned'), v.call(target, runId));
      if (prop === 'iterateMeasurements' || prop === 'iterateAttempts') return (runId: string, ...rest: unknown[]) => (bump(runId, 'outcomes'), v.call(target, runId, ...rest));
      return v.bind(target);
    },
  });
}

test('report: each run is read once (one pass over its plan, one over its outcomes) for every section', async () => {
  const pool = await openPool('memory:');
  try {
    const arith = generateArithmetic(40, 0);
    const math = { ref: 'generated:arithmetic?n=40', name: 'arithmetic', path: null, hash: sha256(stableStringify(arith)), samples: arith };
    const scorer = createScorer('math');
    const ids: string[] = [];
    const run = async (model: string, temperature?: number) =>
      ids.push((await executeRun({ pool, dataset: math, template: getTemplate('math-boxed'), model, config: { seed: 0, chat_template: true, ...(temperature === undefined ? {} : { temperature }) }, epochs: 3, scorers: [scorer], concurrency: 4 })).run_id);
    await run('reference:oracle');
    await run('reference:noisy?p=0.7', 0);
    await run('reference:noisy?p=0.7', 0.8); // a sweep group with the run before: temperature differs
    const grid = validateGrid({ ...DEFAULT_GRID, tasks: ['single'], lengths: [1000, 4000, 16000], depths: [0, 50, 100], directions: ['forward'] });
    const needle = [...generateGrid(grid, 0)];
    const nd = { ref: 'generated:needle?report', name: 'needle', path: null, hash: sha256(stableStringify(needle)), samples: needle };
    ids.push((await executeRun({ pool, dataset: nd, template: getTemplate('plain'), model: 'reference:needle-noisy?p=0.95&limit=6000', config: { seed: 0, chat_template: true }, epochs: 2, scorers: [createScorer('needle')], concurrency: 4 })).run_id);
    await pool.flush();

    const reads: Reads = new Map();
    const html = await buildReport(counting(pool, reads), ids.map((id) => id.slice(0, 10)), { replicates: 200, now: new Date(0) });
    for (const section of ['id="runs"', 'id="compare"', 'id="variance"', 'id="sweep"', 'id="context"', 'id="manifests"']) assert.ok(html.includes(section), `section ${section}`);
    assert.deepEqual([...reads.keys()].sort(), [...ids].sort(), 'every run read, nothing else');
    for (const id of ids) assert.deepEqual(reads.get(id), { planned: 1, outcomes: 1 }, `run ${id.slice(0, 8)}`);

    // the same report from a pool read as often as it likes
    assert.equal(await buildReport(pool, ids, { replicates: 200, now: new Date(0) }), html);
  } finally {
    await pool.close();
  }
});
