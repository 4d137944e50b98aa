/** The pool's own runs feed the ranking as binary measurements (model = run model, sample = content hash), and a capability query selects among their samples. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPool } from '../../src/store/open.ts';
import { rankFromPool } from '../../src/analyses/pool-ranking.ts';
import { openSqlitePool } from '../../src/store/sqlite.ts';
import { planSamples } from '../../src/runner/plan.ts';
import { getTemplate } from '../../src/core/templates.ts';
import type { RunRecord } from '../../src/core/schemas.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'assay-rank-runs-'));

test("the pool's own runs feed rank as binary measurements (model = run model, sample = content hash)", async () => {
  const file = join(tmp(), 'runs.sqlite');
  const pool = openSqlitePool(file);
  const samples = Array.from({ length: 30 }, (_, i) => ({ id: `s${i}`, input: `What is ${i}+1?`, target: String(i + 1), metadata: { category: 'arith' } }));
  const planned = planSamples(samples, getTemplate('plain'), { chat_template: true });
  const models = ['reference:oracle', 'reference:noisy?p=0.7', 'reference:noisy?p=0.3'];
  for (const [k, model] of models.entries()) {
    const run = { id: `run${k}`, status: 'complete', created_at: 'now', updated_at: 'now',
      spec: { dataset: { ref: 'x', name: 'arith', hash: 'h', path: null, size: 30, limit: null }, template: { name: 'plain', hash: 't' }, model, config: { chat_template: true }, epochs: 1, scorers: [{ name: 'exact', options: {} }] },
      manifest: { provider: { reported_model_ids: [] }, seeds: { bootstrap: 0 } } } as unknown as RunRecord;
    await pool.ensureRun(run, planned);
    for (const [i, s] of samples.entries()) {
      const ok = k === 0 || (i * 7919 + k * 13) % 10 < (k === 1 ? 7 : 3);
      await pool.write({ run_id: run.id, sample_id: s.id, epoch: 0, status: 'ok', response: 'x', finish_reason: 'stop', prompt_tokens: 1, completion_tokens: 1, latency_ms: 0, tries: 1, error: null, model_id: null, cache_key: `${k}-${i}`, cached: false, meta: null },
        [{ run_id: run.id, sample_id: s.id, epoch: 0, scorer: 'exact', kind: 'binary', value: ok ? 1 : 0, extracted: null, explanation: null, status: 'ok' }]);
    }
  }
  await pool.close();
  const store = await openPool(file);
  assert.equal((await store.summary())[0]!.source, 'runs');
  const r = await rankFromPool(store, { replicates: 50 });
  assert.deepEqual(r.models.map((m) => m.model), models);
  assert.equal(r.models[0]!.samples, 30);
  // a capability query over the runs' samples
  const q = await rankFromPool(store, { filters: { category: ['arith'] }, replicates: 0 });
  assert.equal(q.selection.samples, 30);
  await store.close();
});
