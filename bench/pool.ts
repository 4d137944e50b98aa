/**
 * Pool benchmark: what the runner asks of the store per attempt (a cache lookup and a write), a run's plan going in
 * and coming back out in pages, and reading a run's measurements, for each implementation (SQLite file, SQLite in
 * memory, in-memory). Not a test: timings are reported, never asserted.
 *
 *   node --import tsx bench/pool.ts [--samples 20000] [--epochs 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hashJson, sha256 } from '../src/core/hash.ts';
import type { Attempt, PlannedSample, RunRecord } from '../src/core/schemas.ts';
import { openPool } from '../src/store/open.ts';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '20000' }, epochs: { type: 'string', default: '2' } } });
const N = Number(values.samples), E = Number(values.epochs);

function* planned(): Generator<PlannedSample> {
  for (let i = 0; i < N; i++) {
    const sample = { id: `s${i}`, input: `Question ${i}: what is ${i} + ${i + 1}?`, target: String(2 * i + 1), metadata: { category: 'arith' } };
    const messages = [{ role: 'user' as const, content: sample.input }];
    yield { sample, index: i, messages, prompt_hash: sha256(sample.input), target_hash: sha256(sample.target), content_hash: hashJson({ input: sample.input, target: sample.target }) };
  }
}

const run = {
  id: 'bench', status: 'running', created_at: new Date().toISOString(), updated_at: new Date().toISOString(),
  spec: { dataset: { ref: 'synthetic', name: 'synthetic', hash: 'h', path: null, size: N, limit: null }, template: { name: 'plain', hash: 't' }, model: 'm', config: { chat_template: true }, epochs: E, scorers: [{ name: 'gsm8k', options: {} }] },
  manifest: { provider: { reported_model_ids: [] }, seeds: { bootstrap: 0 } },
} as unknown as RunRecord;

const dir = mkdtempSync(join(tmpdir(), 'assay-bench-pool-'));
try {
  for (const url of [`sqlite:${join(dir, 'pool.sqlite')}`, 'sqlite::memory:', 'memory:']) {
    const pool = await openPool(url, { create: true });
    let t = performance.now();
    await pool.ensureRun(run, planned());
    const tPlan = performance.now() - t;
    t = performance.now();
    let n = 0;
    for await (const p of pool.iteratePlanned(run.id)) {
      for (let e = 0; e < E; e++) {
        const cacheKey = `${p.prompt_hash}:${e}`;
        await pool.cacheLookup(cacheKey);
        const a: Attempt = {
          run_id: run.id, sample_id: p.sample.id, epoch: e, status: 'ok', response: `The answer is ${p.sample.target}.`, finish_reason: 'stop', prompt_tokens: 20,
          completion_tokens: 6, latency_ms: 1.25, tries: 1, error: null, model_id: 'm', cache_key: cacheKey, cached: false, meta: null,
        };
        await pool.write(a, [{ run_id: run.id, sample_id: p.sample.id, epoch: e, scorer: 'gsm8k', kind: 'binary', value: 1, extracted: p.sample.target, explanation: 'equal', status: 'ok' }]);
        n++;
      }
    }
    await pool.flush();
    const tWrite = performance.now() - t;
    t = performance.now();
    let m = 0;
    for await (const _ of pool.iterateMeasurements(run.id, 'gsm8k')) m++;
    const tRead = performance.now() - t;
    await pool.close();
    console.log(JSON.stringify({
      pool: url.startsWith('sqlite:/') ? 'sqlite file' : url, samples: N, attempts: n,
      plan_in_per_s: Math.round(N / (tPlan / 1000)), lookup_and_write_per_s: Math.round(n / (tWrite / 1000)), read_measurements_per_s: Math.round(m / (tRead / 1000)),
    }));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
