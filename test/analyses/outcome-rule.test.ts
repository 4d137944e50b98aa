/**
 * One outcome rule for every analysis: on ONE needle-threading run whose grader times out on every depth-50 sample,
 * `stats`, the pool ranking (that run against another), `needle-limit` and calibration all count the timed-out
 * attempts as wrong (value 0) — none drops them. Checked on the in-memory and the SQLite pool (the SQLite pool projects
 * runs into ranking measurements in SQL, the in-memory one in code). Expected figures are computed here by hand from
 * the raw stored measurements, without the library's rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrationItems, calibrationOfRun } from '../../src/analyses/calibration.ts';
import { contextLimitOfRun } from '../../src/analyses/context-limit.ts';
import { rankFromPool } from '../../src/analyses/pool-ranking.ts';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { sha256, stableStringify } from '../../src/core/hash.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { getTemplate } from '../../src/core/templates.ts';
import { DEFAULT_GRID, generateGrid, validateGrid } from '../../src/generators/needle/index.ts';
import { executeRun } from '../../src/runner/run.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import type { Scorer } from '../../src/scorers/types.ts';
import { openPool } from '../../src/store/open.ts';
import type { Pool } from '../../src/store/types.ts';

const SCORER = 'needle-timeouts';

/** The needle scorer, except that the grader "runs out of time" on every sample at depth 50. */
function timingOutScorer(): Scorer {
  const inner = createScorer('needle');
  return {
    name: SCORER,
    kind: 'binary',
    options: {},
    score(sample: Sample, response: string) {
      if (sample.metadata.depth === 50) return { value: null, extracted: null, explanation: 'grader ran out of time', status: 'grader_timeout' };
      return inner.score(sample, response);
    },
  };
}

const grid = validateGrid({ ...DEFAULT_GRID, tasks: ['single'], lengths: [1000, 4000, 16000], depths: [0, 50, 100], directions: ['forward'] });
const samples = [...generateGrid(grid, 0)];
const dataset = { ref: 'generated:needle?outcome-rule', name: 'needle', path: null, hash: sha256(stableStringify(samples)), samples };
const EPOCHS = 2;

/** Per-sample values by hand from the raw stored measurements: grader_timeout → 0; failed calls and grader errors left out. */
async function byHand(pool: Pool, runId: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for await (const m of pool.iterateMeasurements(runId, SCORER)) {
    let v: number | null;
    if (m.status === 'grader_timeout') v = 0;
    else if (m.attempt_status === 'error' || m.status === 'attempt_error' || m.status === 'grader_error') v = null;
    else v = m.value;
    if (v == null) continue;
    out.set(m.sample_id, [...(out.get(m.sample_id) ?? []), v]);
  }
  return out;
}

const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;

for (const backend of ['memory', 'sqlite'] as const) {
  test(`one rule (${backend} pool): stats, rank, needle-limit and calibration all count grader timeouts as wrong`, async () => {
    const pool = await openPool(backend === 'memory' ? 'memory:' : join(mkdtempSync(join(tmpdir(), 'assay-outcome-rule-')), 'pool.sqlite'), { create: true });
    try {
      const run = (model: string) =>
        executeRun({ pool, dataset, template: getTemplate('plain'), model, config: { seed: 0, chat_template: true }, epochs: EPOCHS, scorers: [timingOutScorer()], concurrency: 4 });
      const a = await run('reference:needle-noisy?p=0.95&limit=6000');
      const b = await run('reference:needle-noisy?p=0.6&limit=6000');
      assert.equal(a.status, 'complete');
      await pool.flush();

      const timedOut = samples.filter((s) => s.metadata.depth === 50).map((s) => s.id);
      assert.equal(timedOut.length, 3);
      const perSample = await byHand(pool, a.run_id);
      assert.equal(perSample.size, samples.length, 'every sample keeps its attempts: none is dropped');
      for (const id of timedOut) assert.deepEqual(perSample.get(id), [0, 0]);
      const expected = mean([...perSample.values()].map(mean));
      assert.ok(expected < 0.7, `the timeouts pull the score down (${expected})`);

      // stats: timeouts are in the headline accuracy as 0, counted as ungraded, not grader errors
      const s = (await runStatistics(pool, a.run_id, { scorer: SCORER, replicates: 100 })).statistics;
      assert.ok(Math.abs(s.accuracy - expected) < 1e-12, `stats ${s.accuracy} vs ${expected}`);
      assert.equal(s.ungraded, timedOut.length * EPOCHS);
      assert.equal(s.grader_errors, 0);
      assert.equal(s.samples, samples.length);

      // rank: the run's pool measurements hold the timed-out samples as 0, and its mean score is the stats accuracy
      const values = new Map<string, number>();
      const keyOf = new Map<string, string>();
      for await (const p of pool.iteratePlanned(a.run_id)) keyOf.set(`sha256:${p.content_hash}`, p.sample.id);
      for await (const m of pool.iteratePoolMeasurements({ sources: ['runs'], models: ['reference:needle-noisy?p=0.95&limit=6000'] })) values.set(keyOf.get(m.sample_key)!, m.value);
      assert.equal(values.size, samples.length);
      for (const id of timedOut) assert.equal(values.get(id), 0);
      const r = await rankFromPool(pool, { sources: ['runs'], replicates: 0 });
      const ra = r.models.find((m) => m.model === 'reference:needle-noisy?p=0.95&limit=6000')!;
      assert.equal(r.models.length, 2);
      assert.equal(ra.samples, samples.length);
      assert.ok(Math.abs(ra.mean_score - s.accuracy) < 1e-12, `rank mean ${ra.mean_score} vs stats ${s.accuracy}`);
      const sb = (await runStatistics(pool, b.run_id, { scorer: SCORER, replicates: 100 })).statistics;
      const rb = r.models.find((m) => m.model !== ra.model)!;
      assert.ok(Math.abs(rb.mean_score - sb.accuracy) < 1e-12, `rank mean ${rb.mean_score} vs stats ${sb.accuracy}`);

      // needle-limit: every length holds all its attempts, timeouts as 0; the lengths together give the stats accuracy
      const lim = await contextLimitOfRun(pool, a.run_id.slice(0, 10), { scorer: SCORER, replicates: 100 });
      for (const bl of lim.all.by_length) {
        const here = samples.filter((x) => x.metadata.chars === bl.length).map((x) => perSample.get(x.id)!);
        assert.equal(bl.samples, 3);
        assert.equal(bl.attempts, 3 * EPOCHS, 'the timed-out attempts are counted');
        assert.ok(Math.abs(bl.accuracy - mean(here.map(mean))) < 1e-12);
        assert.ok(bl.accuracy <= 2 / 3 + 1e-12, `one sample in three timed out at length ${bl.length}: at most 2/3 (${bl.accuracy})`);
      }
      const overall = lim.all.by_length.reduce((t, bl) => t + bl.accuracy * bl.samples, 0) / lim.all.by_length.reduce((t, bl) => t + bl.samples, 0);
      assert.ok(Math.abs(overall - s.accuracy) < 1e-12, `needle-limit ${overall} vs stats ${s.accuracy}`);
      assert.equal(lim.all.effective_limit, null, 'with timeouts as wrong no length reaches 75%');

      // calibration: every attempt is an item; the timed-out ones are wrong
      const cal = await calibrationItems(pool, a.run_id, SCORER, 'response');
      assert.equal(cal.items.length, samples.length * EPOCHS);
      assert.equal(cal.excluded, 0);
      assert.equal(cal.timeouts, timedOut.length * EPOCHS);
      for (const it of cal.items) if (timedOut.includes(String(it.cluster))) assert.equal(it.correct, 0);
      const rep = await calibrationOfRun(pool, a.run_id, { scorer: SCORER, missingConfidence: 1, replicates: 0 });
      assert.equal(rep.calibration.n, samples.length * EPOCHS);
      assert.ok(Math.abs(rep.calibration.accuracy - s.accuracy) < 1e-12, `calibration ${rep.calibration.accuracy} vs stats ${s.accuracy} (equal epochs per sample)`);
    } finally {
      await pool.close();
    }
  });
}
