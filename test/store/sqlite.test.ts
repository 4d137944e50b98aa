import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlitePool } from '../../src/store/sqlite.ts';
import { planSamples } from '../../src/runner/plan.ts';
import { getTemplate } from '../../src/core/templates.ts';
import type { Attempt, Measurement, RunRecord } from '../../src/core/schemas.ts';

function fixture() {
  const samples = [
    { id: 's1', input: 'What is 1+1?', target: '2', metadata: {} },
    { id: 's2', input: 'What is 2+2?', target: '4', metadata: {} },
  ];
  const planned = planSamples(samples, getTemplate('plain'), { chat_template: true });
  const run = {
    id: 'run1', status: 'running', created_at: 'now', updated_at: 'now',
    spec: { dataset: { ref: 'x', name: 'x', hash: 'h', path: null, size: 2, limit: null }, template: { name: 'plain', hash: 't' }, model: 'm', config: { chat_template: true }, epochs: 2, scorers: [{ name: 'exact', options: {} }] },
    manifest: { provider: { reported_model_ids: [] }, seeds: { bootstrap: 0 } },
  } as unknown as RunRecord;
  const attempt = (sample_id: string, epoch: number, status: 'ok' | 'error', response: string | null): Attempt => ({
    run_id: 'run1', sample_id, epoch, status, response, finish_reason: status === 'ok' ? 'stop' : 'error', prompt_tokens: 3, completion_tokens: 1,
    latency_ms: 1, tries: 1, error: status === 'ok' ? null : 'HTTP 500', model_id: 'm', cache_key: `k-${sample_id}-${epoch}`, cached: false, meta: null,
  });
  const meas = (sample_id: string, epoch: number, value: number | null): Measurement => ({
    run_id: 'run1', sample_id, epoch, scorer: 'exact', kind: 'binary', value, extracted: value == null ? null : String(value), explanation: null, status: value == null ? 'attempt_error' : 'ok',
  });
  return { planned, run, attempt, meas };
}

test('pool: ensureRun is idempotent; writes upsert so each (run, sample, epoch) is stored once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-pool-'));
  const { planned, run, attempt, meas } = fixture();
  let pool = openSqlitePool(join(dir, 'p.sqlite'), { batchSize: 3 });
  pool.ensureRun(run, planned);
  pool.ensureRun(run, planned);
  assert.equal(pool.plannedSamples('run1').length, 2);
  pool.write(attempt('s1', 0, 'error', null), [meas('s1', 0, null)]);
  pool.write(attempt('s1', 0, 'ok', '2'), [meas('s1', 0, 1)]); // retry on resume replaces the failed attempt
  pool.write(attempt('s2', 0, 'ok', '5'), [meas('s2', 0, 0)]);
  pool.flush();
  assert.deepEqual(pool.counts('run1'), { attempts: 2, ok: 2, error: 0, measurements: 2 });
  assert.deepEqual([...pool.completedKeys('run1')].sort(), ['s1\u00000', 's2\u00000']);
  assert.equal(pool.cacheLookup('k-s1-0')?.response, '2');
  assert.equal(pool.cacheLookup('k-missing'), null);
  pool.close();
  // durable across reopen
  pool = openSqlitePool(join(dir, 'p.sqlite'));
  const rows = [...pool.iterateAttempts('run1', 'exact')];
  assert.deepEqual(rows.map((r) => [r.sample_id, r.epoch, r.response, r.measurement?.value]), [['s1', 0, '2', 1], ['s2', 0, '5', 0]]);
  assert.equal(pool.resolveRunId('ru'), 'run1');
  assert.throws(() => pool.resolveRunId('zz'), /no run/);
  assert.equal(pool.listRuns()[0]!.attempts, 2);
  pool.close();
});

test('pool: plannedSamples round-trips sample, hashes and messages', () => {
  const { planned, run } = fixture();
  const pool = openSqlitePool(':memory:');
  pool.ensureRun(run, planned);
  const back = pool.plannedSamples('run1');
  assert.deepEqual(back, planned);
  pool.close();
});

test('pool: samples with the same content but different ids are both kept (no attempt overwrites another)', () => {
  const samples = [
    { id: 'a', input: 'What is 1+1?', target: '2', metadata: {} },
    { id: 'b', input: 'What is 1+1?', target: '2', metadata: { copy: true } },
  ];
  const planned = planSamples(samples, getTemplate('plain'), { chat_template: true });
  assert.equal(planned[0]!.content_hash, planned[1]!.content_hash);
  const { run } = fixture();
  const pool = openSqlitePool(':memory:');
  pool.ensureRun(run, planned);
  assert.deepEqual(pool.plannedSamples('run1').map((p) => [p.sample.id, p.sample.metadata]), [['a', {}], ['b', { copy: true }]]);
  pool.close();
});
