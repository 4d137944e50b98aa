/**
 * The pool conformance suite: every behaviour of the `Pool` interface (src/store/types.ts), written once and run
 * against every implementation (evalite's `testAllStorage` pattern). `conformance.test.ts` runs it on the in-memory
 * pool, SQLite `:memory:` and a SQLite file; a new implementation (PostgreSQL) adds one line there:
 *
 *   testPool('postgres', () => openPool(process.env.PG_URL), { reopen: (url) => openPool(url) });
 *
 * `makePool` must give a new, empty pool each time. `reopen`, for stores that outlive their handle, opens a second
 * handle on the same store (by `pool.url`): then durability after `flush` and after `close` is checked too.
 * The fixtures are built here, from the schemas alone, so the suite depends on nothing but the interface.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { hashJson, sha256 } from '../../src/core/hash.ts';
import type { Attempt, Measurement, Message, PlannedSample, RunRecord, Sample } from '../../src/core/schemas.ts';
import { PAGE } from '../../src/store/shared.ts';
import type { ChainLink, ChainSignature, EvalSetRecord, Pool, PoolMeasurement, PoolSample, PrivateExposure, PrivateItem, PrivateSetRecord } from '../../src/store/types.ts';

export interface PoolSuiteOptions {
  /** Open another handle on the store behind `url` (persistent stores only). */
  reopen?: (url: string) => Promise<Pool>;
}

// --- fixtures ---------------------------------------------------------------------------------------------------------

export function sampleOf(i: number, extra: Partial<Sample> = {}): Sample {
  return { id: `s${i}`, input: `What is ${i} + 1?`, target: String(i + 1), metadata: { category: i % 2 ? 'odd' : 'even', tags: ['arith'] }, ...extra };
}

export function plan(samples: Sample[]): PlannedSample[] {
  return samples.map((sample, index) => {
    const messages: Message[] = typeof sample.input === 'string' ? [{ role: 'user', content: sample.input }] : sample.input;
    return {
      sample, index, messages, prompt_hash: sha256(JSON.stringify(messages)), target_hash: sha256(sample.target),
      content_hash: hashJson({ input: sample.input, target: sample.target }),
    };
  });
}

export function runOf(id: string, o: { model?: string; dataset?: string; scorers?: string[]; created_at?: string; epochs?: number; task?: { name: string; version: string; hash: string } } = {}): RunRecord {
  const created = o.created_at ?? '2025-01-01T00:00:00.000Z';
  return {
    id, status: 'running', created_at: created, updated_at: created,
    spec: {
      dataset: { ref: `jsonl:${o.dataset ?? 'arith'}.jsonl`, name: o.dataset ?? 'arith', hash: 'dhash', path: null, size: 3, limit: null },
      template: { name: 'plain', hash: 'thash' }, model: o.model ?? 'reference:oracle', config: { chat_template: true }, epochs: o.epochs ?? 2,
      scorers: (o.scorers ?? ['exact']).map((name) => ({ name, options: {} })), ...(o.task ? { task: o.task } : {}),
    },
    manifest: {
      toolkit: { name: 'assay', version: '0.0.0', git_commit: null }, node: 'v20', os: { platform: 'linux', release: 'x', arch: 'x64' }, cpu: { model: 'cpu', cores: 2 },
      provider: { address: o.model ?? 'reference:oracle', kind: 'reference', base_url: null, requested_model: null, reported_model_ids: [] },
      generation_config: { chat_template: true }, template: { name: 'plain', hash: 'thash' }, dataset: { name: o.dataset ?? 'arith', ref: 'x', hash: 'dhash', size: 3 },
      epochs: o.epochs ?? 2, seeds: { generation: null, bootstrap: 0, reference: null }, scorers: [], runner: { concurrency: 1, timeout_ms: 1000, max_retries: 0 },
      created_at: created,
    },
  };
}

export function attemptOf(runId: string, sampleId: string, epoch: number, o: Partial<Attempt> = {}): Attempt {
  const ok = (o.status ?? 'ok') === 'ok';
  return {
    run_id: runId, sample_id: sampleId, epoch, status: 'ok', response: ok ? `answer ${sampleId}/${epoch}` : null, finish_reason: ok ? 'stop' : 'error',
    prompt_tokens: 5, completion_tokens: ok ? 3 : null, latency_ms: 1.5, tries: 1, error: ok ? null : 'HTTP 500', model_id: ok ? 'm-1' : null,
    cache_key: `ck:${runId}:${sampleId}:${epoch}`, cached: false, meta: null, ...o,
  };
}

export function measurementOf(runId: string, sampleId: string, epoch: number, scorer: string, value: number | null, status: Measurement['status'] = value == null ? 'attempt_error' : 'ok'): Measurement {
  return { run_id: runId, sample_id: sampleId, epoch, scorer, kind: 'binary', value, extracted: value == null ? null : String(value), explanation: null, status };
}

/** A small image of the given type: its signature and `seed`-dependent bytes (the pool reads the type from the signature). */
export function imageOf(kind: 'png' | 'jpeg' | 'webp', seed: number): { sha256: string; mime_type: 'image/png' | 'image/jpeg' | 'image/webp'; bytes: Buffer } {
  const body = Buffer.from(Array.from({ length: 64 + seed }, (_, i) => (i * 31 + seed * 7) & 0xff));
  const head =
    kind === 'png' ? Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    : kind === 'jpeg' ? Buffer.from([0xff, 0xd8, 0xff, 0xe0])
    : Buffer.concat([Buffer.from('RIFF'), Buffer.from([0, 0, 0, 0]), Buffer.from('WEBPVP8 ')]);
  const bytes = Buffer.concat([head, body]);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), mime_type: `image/${kind}` as 'image/png', bytes };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A run `id` with `n` planned samples (and the plan). */
async function withRun(pool: Pool, id: string, n: number, o: Parameters<typeof runOf>[1] = {}): Promise<PlannedSample[]> {
  const p = plan(Array.from({ length: n }, (_, i) => sampleOf(i)));
  await pool.ensureRun(runOf(id, o), p);
  return p;
}

/** A deterministic shuffle (so rows are written out of order). */
function shuffled<T>(xs: T[]): T[] {
  const a = [...xs];
  let s = 12345;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const csvImport = { format: 'csv', file: 'results.csv', sha256: 'a'.repeat(64) };

function pm(o: Partial<Omit<PoolMeasurement, 'source'>> & { model: string; sample_key: string }): Omit<PoolMeasurement, 'source'> {
  return { slice: '', opponent: '', rep: 0, kind: 'binary', value: 1, direction: 1, tie_tolerance: 0, weight: 1, line: null, ...o };
}

function ps(key: string, o: Partial<PoolSample> = {}): PoolSample {
  const [dataset, id] = key.split('/');
  return { key, dataset: dataset!, sample_id: id!, category: null, tags: [], text: null, content_hash: null, metadata: {}, ...o };
}

/** Import `rows` (and a sample per distinct key) as one committed source. */
async function importRows(pool: Pool, rows: Omit<PoolMeasurement, 'source'>[], info: Partial<typeof csvImport> & { replace?: boolean; replaces?: string[] } = {}) {
  const tx = await pool.beginImport({ ...csvImport, ...info });
  const keys = new Set<string>();
  for (const r of rows) {
    if (!keys.has(r.sample_key)) {
      keys.add(r.sample_key);
      await tx.addSample(ps(r.sample_key));
    }
    await tx.addMeasurement(r);
  }
  return tx.commit({ measurements: rows.length, samples: keys.size });
}

// --- the suite --------------------------------------------------------------------------------------------------------

/** Register the conformance tests of `Pool` for one implementation. */
export function testPool(name: string, makePool: () => Promise<Pool>, opts: PoolSuiteOptions = {}): void {
  /** Run `fn` on a fresh pool, closing it afterwards. */
  const withPool = (fn: (pool: Pool) => Promise<void>) => async () => {
    const pool = await makePool();
    try {
      await fn(pool);
    } finally {
      await pool.close();
    }
  };

  describe(`pool conformance: ${name}`, () => {
    // --- runs ---------------------------------------------------------------------------------------------------------
    it('ensureRun stores the run and its plan; getRun and iteratePlanned give them back exactly', withPool(async (pool) => {
      const samples = [
        sampleOf(0),
        sampleOf(1, { choices: ['A', 'B'], metadata: { nested: { a: [1, 2] } } }),
        sampleOf(2, { input: [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'What is 2 + 1?' }] }] }),
      ];
      const p = plan(samples);
      const run = runOf('run-a', { task: { name: 'arith', version: '1', hash: 'h' } });
      await pool.ensureRun(run, p);
      assert.deepEqual(await pool.getRun('run-a'), run);
      assert.equal(await pool.getRun('nope'), null);
      assert.equal(await pool.plannedCount('run-a'), 3);
      assert.equal(await pool.plannedCount('nope'), 0);
      assert.deepEqual(await collect(pool.iteratePlanned('run-a')), p);
      assert.deepEqual(await collect(pool.iteratePlanned('nope')), []);
    }));

    it('ensureRun is idempotent: the same id again changes nothing (resume)', withPool(async (pool) => {
      const p = await withRun(pool, 'run-a', 3);
      await pool.ensureRun({ ...runOf('run-a'), status: 'complete' }, plan([sampleOf(7)]));
      assert.equal((await pool.getRun('run-a'))!.status, 'running');
      assert.deepEqual(await collect(pool.iteratePlanned('run-a')), p);
    }));

    it('ensureRun accepts an async plan, consumed lazily', withPool(async (pool) => {
      const p = plan([sampleOf(0), sampleOf(1)]);
      async function* gen() {
        for (const x of p) {
          await new Promise((r) => setImmediate(r));
          yield x;
        }
      }
      await pool.ensureRun(runOf('run-a'), gen());
      assert.deepEqual(await collect(pool.iteratePlanned('run-a')), p);
    }));

    for (const kind of ['sync', 'async'] as const) {
      it(`ensureRun is all or nothing: a ${kind} plan that fails half-way leaves no run`, withPool(async (pool) => {
        const p = plan([sampleOf(0), sampleOf(1), sampleOf(2)]);
        function* bad() {
          yield p[0]!;
          yield p[1]!;
          throw new Error('dataset broke');
        }
        async function* badAsync() {
          yield* bad();
        }
        await assert.rejects(pool.ensureRun(runOf('run-a'), kind === 'sync' ? bad() : badAsync()), /dataset broke/);
        assert.equal(await pool.getRun('run-a'), null);
        assert.equal(await pool.plannedCount('run-a'), 0);
        assert.deepEqual(await pool.listRuns(), []);
        await pool.ensureRun(runOf('run-a'), p);
        assert.equal(await pool.plannedCount('run-a'), 3);
      }));
    }

    it('samples with the same content but different ids are all kept; a repeated id keeps the first', withPool(async (pool) => {
      const p = plan([sampleOf(0, { id: 'a' }), sampleOf(0, { id: 'b', metadata: { copy: true } }), sampleOf(5, { id: 'a' })]);
      assert.equal(p[0]!.content_hash, p[1]!.content_hash);
      await pool.ensureRun(runOf('run-a'), p);
      assert.deepEqual((await collect(pool.iteratePlanned('run-a'))).map((x) => [x.sample.id, x.index, x.sample.metadata]), [['a', 0, { category: 'even', tags: ['arith'] }], ['b', 1, { copy: true }]]);
    }));

    it('resolveRunId: exact id, unique prefix; InputError when empty, unknown or ambiguous', withPool(async (pool) => {
      await withRun(pool, 'abc123', 1);
      await withRun(pool, 'abd456', 1);
      await withRun(pool, 'abc1234', 1);
      assert.equal(await pool.resolveRunId('abd'), 'abd456');
      assert.equal(await pool.resolveRunId('abc123'), 'abc123'); // exact, although also a prefix of abc1234
      assert.equal(await pool.resolveRunId('abc1234'), 'abc1234');
      await assert.rejects(pool.resolveRunId('ab'), (e: unknown) => e instanceof InputError && /ambiguous/.test(e.message));
      await assert.rejects(pool.resolveRunId('zz'), (e: unknown) => e instanceof InputError && /no run with id "zz"/.test(e.message));
      await assert.rejects(pool.resolveRunId('ABD'), InputError); // prefixes are case-sensitive
      await assert.rejects(pool.resolveRunId('  '), (e: unknown) => e instanceof InputError && /required/.test(e.message));
      await assert.rejects(pool.resolveRunId('a%'), InputError); // no pattern characters
    }));

    it('listRuns: oldest first, with samples, attempts, failures, task, every scorer and the lease in force', withPool(async (pool) => {
      await withRun(pool, 'late', 2, { created_at: '2025-03-01T00:00:00.000Z', model: 'm2', scorers: ['math', 'gsm8k'] });
      await withRun(pool, 'early', 3, { created_at: '2025-02-01T00:00:00.000Z', task: { name: 'gsm8k', version: '2', hash: 'x' } });
      await pool.write(attemptOf('early', 's0', 0), []);
      await pool.write(attemptOf('early', 's1', 0, { status: 'error' }), []);
      const { lease } = await pool.acquireLease('early', { id: 'owner-1', pid: 42, host: 'h' }, 60_000);
      const runs = await pool.listRuns();
      assert.deepEqual(runs.map((r) => r.id), ['early', 'late']);
      assert.deepEqual(runs[0], {
        id: 'early', status: 'running', created_at: '2025-02-01T00:00:00.000Z', dataset: 'jsonl:arith.jsonl', model: 'reference:oracle', task: 'gsm8k@2',
        epochs: 2, samples: 3, attempts: 2, failed: 1, scorers: ['exact'], lease,
      });
      assert.equal(runs[1]!.task, null);
      assert.equal(runs[1]!.attempts, 0);
      assert.equal(runs[1]!.lease, null);
      // stored as running, but held by no process: not running (it stopped without a word), shown as interrupted
      assert.equal((await pool.getRun('late'))!.status, 'running');
      assert.equal(runs[1]!.status, 'interrupted');
      // ... and so is one whose holder's process on this host is gone, while its lease has not lapsed yet
      const dead = spawnSync(process.execPath, ['-e', '']).pid!;
      const gone = await pool.acquireLease('late', { id: 'dead', pid: dead, host: hostname() }, 60_000);
      assert.deepEqual((await pool.listRuns()).map((r) => [r.id, r.status, r.lease]), [['early', 'running', lease], ['late', 'interrupted', gone.lease]]);
      await pool.releaseLease('late', 'dead');
      // a run that ended keeps its status, lease or none
      await pool.setRunStatus('late', 'failed');
      assert.equal((await pool.listRuns())[1]!.status, 'failed');
      // every scorer, not only the first: the spec's in order, then one a re-grade recorded in the manifest
      await pool.updateManifest('late', (m) => ({ ...m, scorers: [{ name: 'math', options: {} }, { name: 'judge?model=x:y', options: {} }] }));
      assert.deepEqual((await pool.listRuns())[1]!.scorers, ['math', 'gsm8k', 'judge?model=x:y']);
      // a lapsed lease is not shown
      await pool.acquireLease('late', { id: 'gone' }, 1);
      await new Promise((r) => setTimeout(r, 5));
      assert.equal((await pool.listRuns())[1]!.lease, null);
    }));

    it('leases: one holder at a time; renewed by its holder; released; lapsed or dead ones taken over', withPool(async (pool) => {
      await withRun(pool, 'run-a', 1);
      assert.equal(await pool.getLease('run-a'), null);
      const a = await pool.acquireLease('run-a', { id: 'A', pid: 1, host: 'h1' }, 60_000);
      assert.equal(a.acquired, true);
      assert.deepEqual({ ...a.lease, acquired_at: '', heartbeat_at: '', expires_at: '' }, { run_id: 'run-a', owner: 'A', pid: 1, host: 'h1', acquired_at: '', heartbeat_at: '', expires_at: '' });
      assert.ok(Date.parse(a.lease.expires_at) - Date.parse(a.lease.heartbeat_at) === 60_000);
      assert.deepEqual(await pool.getLease('run-a'), a.lease);
      // another holder is refused and told who holds it
      const b = await pool.acquireLease('run-a', { id: 'B' }, 60_000);
      assert.equal(b.acquired, false);
      assert.deepEqual(b.lease, a.lease);
      // the holder again: renewed, acquired_at kept
      await new Promise((r) => setTimeout(r, 3));
      const again = await pool.acquireLease('run-a', { id: 'A', pid: 1, host: 'h1' }, 60_000);
      assert.equal(again.acquired, true);
      assert.equal(again.lease.acquired_at, a.lease.acquired_at);
      assert.ok(again.lease.expires_at > a.lease.expires_at);
      // heartbeats: only the holder renews
      assert.equal(await pool.renewLease('run-a', 'A', 120_000), true);
      assert.ok(Date.parse((await pool.getLease('run-a'))!.expires_at) > Date.now() + 100_000);
      assert.equal(await pool.renewLease('run-a', 'B', 120_000), false);
      // taken over when the caller names the (dead) holder, never another one
      assert.equal((await pool.acquireLease('run-a', { id: 'B' }, 60_000, { takeOver: 'someone-else' })).acquired, false);
      const taken = await pool.acquireLease('run-a', { id: 'B' }, 60_000, { takeOver: 'A' });
      assert.equal(taken.acquired, true);
      assert.equal(taken.lease.owner, 'B');
      assert.equal(await pool.renewLease('run-a', 'A', 60_000), false, 'the old holder learns it lost the run');
      // release: only by the holder
      await pool.releaseLease('run-a', 'A');
      assert.equal((await pool.getLease('run-a'))!.owner, 'B');
      await pool.releaseLease('run-a', 'B');
      assert.equal(await pool.getLease('run-a'), null);
      assert.equal(await pool.renewLease('run-a', 'B', 60_000), false);
      // a lapsed lease is anyone's
      await pool.acquireLease('run-a', { id: 'C' }, 1);
      await new Promise((r) => setTimeout(r, 5));
      assert.equal((await pool.acquireLease('run-a', { id: 'D' }, 60_000)).acquired, true);
      // errors
      await assert.rejects(pool.acquireLease('nope', { id: 'A' }, 1000), InputError);
      await assert.rejects(pool.acquireLease('run-a', { id: 'A' }, 0), RangeError);
      await assert.rejects(pool.acquireLease('run-a', { id: 'A' }, Number.NaN), RangeError);
      if (opts.reopen) {
        // across handles (processes): the second handle sees the first one's lease and is refused
        await pool.flush();
        const other = await opts.reopen(pool.url);
        try {
          const seen = await other.acquireLease('run-a', { id: 'E' }, 60_000);
          assert.equal(seen.acquired, false);
          assert.equal(seen.lease.owner, 'D');
          assert.equal((await other.listRuns())[0]!.lease?.owner, 'D');
        } finally {
          await other.close();
        }
      }
    }));

    it('setRunStatus and updateManifest change the run; an unknown run is an InputError', withPool(async (pool) => {
      await withRun(pool, 'run-a', 1);
      await pool.setRunStatus('run-a', 'complete');
      const r = (await pool.getRun('run-a'))!;
      assert.equal(r.status, 'complete');
      assert.ok(r.updated_at >= r.created_at);
      await pool.updateManifest('run-a', (m) => {
        m.provider.reported_model_ids = ['model-x'];
        m.scorer_reports = { judge: { judge_model_ids: ['j'] } };
        return m;
      });
      await pool.updateManifest('run-a', (m) => ({ ...m, provider: { ...m.provider, reported_model_ids: [...m.provider.reported_model_ids, 'model-y'] } }));
      const m = (await pool.getRun('run-a'))!.manifest;
      assert.deepEqual(m.provider.reported_model_ids, ['model-x', 'model-y']);
      assert.deepEqual(m.scorer_reports, { judge: { judge_model_ids: ['j'] } });
      // A patch that throws changes nothing.
      await assert.rejects(pool.updateManifest('run-a', (x) => {
        x.provider.reported_model_ids = [];
        throw new Error('no');
      }), /no/);
      assert.deepEqual((await pool.getRun('run-a'))!.manifest.provider.reported_model_ids, ['model-x', 'model-y']);
      await assert.rejects(pool.setRunStatus('nope', 'complete'), InputError);
      await assert.rejects(pool.updateManifest('nope', (x) => x), InputError);
    }));

    it('updateManifest is atomic: concurrent patches of one run are all kept', withPool(async (pool) => {
      await withRun(pool, 'run-a', 1);
      await Promise.all(Array.from({ length: 20 }, (_, i) => pool.updateManifest('run-a', (m) => {
        m.provider.reported_model_ids = [...m.provider.reported_model_ids, `id-${String(i).padStart(2, '0')}`];
        return m;
      })));
      assert.equal((await pool.getRun('run-a'))!.manifest.provider.reported_model_ids.length, 20);
    }));

    it('what the pool hands out is a copy: changing it changes nothing stored', withPool(async (pool) => {
      const p = await withRun(pool, 'run-a', 1);
      const run = (await pool.getRun('run-a'))!;
      run.spec.model = 'changed';
      run.manifest.provider.reported_model_ids.push('x');
      const [planned] = await collect(pool.iteratePlanned('run-a'));
      planned!.sample.metadata.category = 'changed';
      const a = attemptOf('run-a', 's0', 0, { meta: { k: 1 } });
      await pool.write(a, []);
      a.meta!.k = 2;
      assert.equal((await pool.getRun('run-a'))!.spec.model, 'reference:oracle');
      assert.deepEqual((await pool.getRun('run-a'))!.manifest.provider.reported_model_ids, []);
      assert.deepEqual(await collect(pool.iteratePlanned('run-a')), p);
      assert.deepEqual((await collect(pool.iterateAttempts('run-a')))[0]!.meta, { k: 1 });
    }));

    // --- attempts and measurements -----------------------------------------------------------------------------------
    it('write replaces on (run, sample, epoch[, scorer]): an attempt written twice is stored once', withPool(async (pool) => {
      await withRun(pool, 'run-a', 2);
      await pool.write(attemptOf('run-a', 's0', 0, { status: 'error' }), [measurementOf('run-a', 's0', 0, 'exact', null)]);
      await pool.write(attemptOf('run-a', 's0', 0), [measurementOf('run-a', 's0', 0, 'exact', 1)]); // the retry replaces the failure
      await pool.write(attemptOf('run-a', 's1', 0), [measurementOf('run-a', 's1', 0, 'exact', 0)]);
      await pool.write(attemptOf('run-a', 's1', 0, { response: 'again' }), [measurementOf('run-a', 's1', 0, 'exact', 1)]); // a duplicate delivery
      await pool.writeMeasurements([measurementOf('run-a', 's1', 0, 'math', 1), measurementOf('run-a', 's1', 0, 'math', 0, 'no_answer')]);
      assert.deepEqual(await pool.counts('run-a'), { attempts: 2, ok: 2, error: 0, measurements: 3 });
      const rows = await collect(pool.iterateAttempts('run-a', 'exact'));
      assert.deepEqual(rows.map((r) => [r.sample_id, r.epoch, r.status, r.response, r.measurement?.value]), [['s0', 0, 'ok', 'answer s0/0', 1], ['s1', 0, 'ok', 'again', 1]]);
      const math = await collect(pool.iterateMeasurements('run-a', 'math'));
      assert.deepEqual(math.map((m) => [m.sample_id, m.value, m.status]), [['s1', 0, 'no_answer']]);
    }));

    it('a failed attempt never replaces an ok one, nor does its attempt_error measurement (two processes on one run)', withPool(async (pool) => {
      await withRun(pool, 'run-a', 3);
      // s0: ok first, then a failure from a less patient process: the ok attempt and its verdict stay
      await pool.write(attemptOf('run-a', 's0', 0), [measurementOf('run-a', 's0', 0, 'exact', 1)]);
      await pool.write(attemptOf('run-a', 's0', 0, { status: 'error', error: 'HTTP 500 (other process)' }), [measurementOf('run-a', 's0', 0, 'exact', null)]);
      // s1: both in one batch, failure last
      await pool.write(attemptOf('run-a', 's1', 0), [measurementOf('run-a', 's1', 0, 'exact', 0)]);
      await pool.write(attemptOf('run-a', 's1', 0, { status: 'error' }), [measurementOf('run-a', 's1', 0, 'exact', null)]);
      await pool.flush();
      // s2: a failure first, then ok: the ok replaces it (a retry), and a failure after that is dropped again
      await pool.write(attemptOf('run-a', 's2', 0, { status: 'error' }), [measurementOf('run-a', 's2', 0, 'exact', null)]);
      await pool.flush();
      await pool.write(attemptOf('run-a', 's2', 0), [measurementOf('run-a', 's2', 0, 'exact', 1)]);
      await pool.flush();
      await pool.write(attemptOf('run-a', 's2', 0, { status: 'error' }), [measurementOf('run-a', 's2', 0, 'exact', null)]);
      // a re-grade's attempt_error measurement of an ok attempt is dropped too
      await pool.writeMeasurements([measurementOf('run-a', 's0', 0, 'exact', null)]);
      assert.deepEqual(await pool.counts('run-a'), { attempts: 3, ok: 3, error: 0, measurements: 3 });
      const rows = await collect(pool.iterateAttempts('run-a', 'exact'));
      assert.deepEqual(rows.map((r) => [r.sample_id, r.status, r.error, r.measurement?.value, r.measurement?.status]), [
        ['s0', 'ok', null, 1, 'ok'], ['s1', 'ok', null, 0, 'ok'], ['s2', 'ok', null, 1, 'ok'],
      ]);
      assert.equal((await pool.completedKeys('run-a')).size, 3);
      // an error over an error is replaced (the later failure's text is kept)
      await pool.write(attemptOf('run-a', 's0', 1, { status: 'error', error: 'first' }), [measurementOf('run-a', 's0', 1, 'exact', null)]);
      await pool.write(attemptOf('run-a', 's0', 1, { status: 'error', error: 'second' }), [measurementOf('run-a', 's0', 1, 'exact', null)]);
      const failed = (await collect(pool.iterateAttempts('run-a', 'exact'))).filter((r) => r.status === 'error');
      assert.deepEqual(failed.map((r) => [r.sample_id, r.epoch, r.error, r.measurement?.status]), [['s0', 1, 'second', 'attempt_error']]);
    }));

    it('completedKeys: ok attempts only, keyed sample \\0 epoch', withPool(async (pool) => {
      await withRun(pool, 'run-a', 3);
      await pool.write(attemptOf('run-a', 's0', 0), []);
      await pool.write(attemptOf('run-a', 's0', 1), []);
      await pool.write(attemptOf('run-a', 's1', 0, { status: 'error' }), []);
      assert.deepEqual([...(await pool.completedKeys('run-a'))].sort(), ['s0\u00000', 's0\u00001']);
      assert.deepEqual([...(await pool.completedKeys('nope'))], []);
    }));

    it('cacheLookup: an ok response from any run, with meta and transcript; failures never; seen before flush', withPool(async (pool) => {
      await withRun(pool, 'run-a', 2);
      await withRun(pool, 'run-b', 2);
      const transcript: Message[] = [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'text', text: 'a' }] }];
      await pool.write(attemptOf('run-a', 's0', 0, { cache_key: 'shared', meta: { recorded_correct: true }, transcript, finish_reason: 'length', completion_tokens: 9 }), []);
      await pool.write(attemptOf('run-b', 's1', 0, { cache_key: 'failed', status: 'error' }), []);
      assert.deepEqual(await pool.cacheLookup('shared'), {
        response: 'answer s0/0', finish_reason: 'length', prompt_tokens: 5, completion_tokens: 9, model_id: 'm-1', meta: { recorded_correct: true }, transcript,
      });
      assert.equal(await pool.cacheLookup('failed'), null);
      assert.equal(await pool.cacheLookup('missing'), null);
      await pool.flush();
      assert.equal((await pool.cacheLookup('shared'))!.response, 'answer s0/0');
      const plain = await pool.cacheLookup('ck:run-b:s1:0');
      assert.equal(plain, null);
      await pool.write(attemptOf('run-b', 's1', 0), []);
      assert.deepEqual(await pool.cacheLookup('ck:run-b:s1:0'), { response: 'answer s1/0', finish_reason: 'stop', prompt_tokens: 5, completion_tokens: 3, model_id: 'm-1', meta: null, transcript: null });
    }));

    it('flush makes writes durable' + (opts.reopen ? ' (seen by a second handle, and after close)' : ''), withPool(async (pool) => {
      await withRun(pool, 'run-a', 2);
      for (let e = 0; e < 3; e++) await pool.write(attemptOf('run-a', 's0', e), [measurementOf('run-a', 's0', e, 'exact', e % 2)]);
      await pool.flush();
      await pool.flush(); // nothing queued: fine
      assert.equal((await pool.counts('run-a')).attempts, 3);
      if (!opts.reopen) return;
      const other = await opts.reopen(pool.url);
      try {
        assert.deepEqual(await other.counts('run-a'), { attempts: 3, ok: 3, error: 0, measurements: 3 });
        await other.write(attemptOf('run-a', 's1', 0), []);
      } finally {
        await other.close(); // close flushes
      }
      await pool.write(attemptOf('run-a', 's1', 1), []);
      await pool.close();
      const again = await opts.reopen(pool.url);
      try {
        assert.deepEqual((await collect(again.iterateAttempts('run-a'))).map((a) => `${a.sample_id}/${a.epoch}`), ['s0/0', 's0/1', 's0/2', 's1/0', 's1/1']);
      } finally {
        await again.close();
      }
    }));

    it('attempts round-trip every field; transcript is null unless given', withPool(async (pool) => {
      await withRun(pool, 'run-a', 2);
      const transcript: Message[] = [{ role: 'user', content: 'turn 1' }, { role: 'assistant', content: 'a1' }, { role: 'user', content: 'turn 2' }, { role: 'assistant', content: 'a2' }];
      const a0 = attemptOf('run-a', 's0', 0, { cached: true, meta: { recorded_pred: 'x' }, transcript, latency_ms: 12.25 });
      const a1 = attemptOf('run-a', 's1', 0, { status: 'error', tries: 7, error: 'timeout after 10 ms' });
      await pool.write(a0, []);
      await pool.write(a1, []);
      const rows = await collect(pool.iterateAttempts('run-a'));
      assert.deepEqual(rows, [{ ...a0, measurement: null }, { ...a1, transcript: null, measurement: null }]);
    }));

    it('iterators page in (sample index, epoch) order over more than one page of rows', withPool(async (pool) => {
      const n = PAGE + 300;
      const p = await withRun(pool, 'run-a', n);
      const keys = p.flatMap((x) => [0, 1].map((e) => [x.sample.id, e] as const));
      for (const [s, e] of shuffled(keys)) {
        await pool.write(attemptOf('run-a', s, e, { status: (Number(s.slice(1)) + e) % 7 === 0 ? 'error' : 'ok' }), [measurementOf('run-a', s, e, 'exact', (Number(s.slice(1)) + e) % 2)]);
      }
      const planned = await collect(pool.iteratePlanned('run-a'));
      assert.deepEqual(planned.map((x) => x.index), p.map((x) => x.index));
      const attempts = await collect(pool.iterateAttempts('run-a', 'exact'));
      assert.deepEqual(attempts.map((a) => `${a.sample_id}/${a.epoch}`), keys.map(([s, e]) => `${s}/${e}`));
      assert.ok(attempts.every((a) => a.measurement?.value === (Number(a.sample_id.slice(1)) + a.epoch) % 2));
      const ms = await collect(pool.iterateMeasurements('run-a', 'exact'));
      assert.deepEqual(ms.map((m) => `${m.sample_id}/${m.epoch}`), keys.map(([s, e]) => `${s}/${e}`));
      const failed = ms.filter((m) => m.attempt_status === 'error');
      assert.ok(failed.length > 0 && failed.every((m) => m.finish_reason === 'error'));
      assert.deepEqual(await pool.counts('run-a'), { attempts: 2 * n, ok: 2 * n - failed.length, error: failed.length, measurements: 2 * n });
    }));

    it('writing while iterating is safe: every row is yielded once, in order', withPool(async (pool) => {
      const n = PAGE + 50;
      const p = await withRun(pool, 'run-a', n);
      for (const x of p) await pool.write(attemptOf('run-a', x.sample.id, 0), [measurementOf('run-a', x.sample.id, 0, 'exact', 0)]);
      await pool.flush();
      const seen: string[] = [];
      for await (const a of pool.iterateAttempts('run-a', 'exact')) {
        seen.push(a.sample_id);
        // Re-grade what was read, and add a second epoch, as `assay score` and a resumed run would.
        await pool.writeMeasurements([measurementOf('run-a', a.sample_id, 0, 'exact', 1), measurementOf('run-a', a.sample_id, 0, 'math', 1)]);
        await pool.write(attemptOf('run-a', a.sample_id, 0, { response: 'rewritten' }), []);
      }
      assert.deepEqual(seen.filter((s, i) => seen.indexOf(s) === i), p.map((x) => x.sample.id));
      assert.equal(seen.length, n);
      const plannedSeen: number[] = [];
      for await (const x of pool.iteratePlanned('run-a')) {
        plannedSeen.push(x.index);
        if (x.index % 100 === 0) await pool.write(attemptOf('run-a', x.sample.id, 1), []);
      }
      assert.equal(plannedSeen.length, n);
      assert.deepEqual(await pool.counts('run-a'), { attempts: n + Math.ceil(n / 100), ok: n + Math.ceil(n / 100), error: 0, measurements: 2 * n });
      assert.ok((await collect(pool.iterateMeasurements('run-a', 'exact'))).every((m) => m.value === 1));
    }));

    it('a loop may stop iterating early and use the pool at once', withPool(async (pool) => {
      const p = await withRun(pool, 'run-a', PAGE + 10);
      for (const x of p) await pool.write(attemptOf('run-a', x.sample.id, 0), []);
      for await (const a of pool.iterateAttempts('run-a')) {
        assert.equal(a.sample_id, 's0');
        break;
      }
      for await (const _ of pool.iteratePlanned('run-a')) break;
      assert.equal((await pool.counts('run-a')).attempts, PAGE + 10);
    }));

    it('scorersOf is sorted; counts and iterators of an unknown run are empty', withPool(async (pool) => {
      await withRun(pool, 'run-a', 1);
      await pool.write(attemptOf('run-a', 's0', 0), [measurementOf('run-a', 's0', 0, 'math', 1), measurementOf('run-a', 's0', 0, 'exact', 1), measurementOf('run-a', 's0', 0, 'Judge', 0)]);
      assert.deepEqual(await pool.scorersOf('run-a'), ['Judge', 'exact', 'math']);
      assert.deepEqual(await pool.scorersOf('nope'), []);
      assert.deepEqual(await pool.counts('nope'), { attempts: 0, ok: 0, error: 0, measurements: 0 });
      assert.deepEqual(await collect(pool.iterateAttempts('nope')), []);
      assert.deepEqual(await collect(pool.iterateMeasurements('nope', 'exact')), []);
    }));

    it('pageAttempts: keyset pages in (sample index, epoch) order over more than a page, each attempt with all its measurements', withPool(async (pool) => {
      const n = PAGE + 40;
      const p = await withRun(pool, 'run-a', n);
      const keys = p.flatMap((x) => [0, 1].map((e) => [x.sample.id, e] as const));
      for (const [s, e] of shuffled(keys)) {
        const i = Number(s.slice(1));
        const ms = [measurementOf('run-a', s, e, 'math', (i + e) % 2)];
        if (i % 3 === 0) ms.push(measurementOf('run-a', s, e, 'exact', 1));
        await pool.write(attemptOf('run-a', s, e, { status: (i + e) % 7 === 0 ? 'error' : 'ok' }), ms);
      }
      // A whole walk in pages of 777: every attempt once, in order, as iterateAttempts gives it.
      const seen: string[] = [];
      let after: { index: number; epoch: number } | null = null;
      for (;;) {
        const page = await pool.pageAttempts('run-a', { limit: 777, after });
        if (!page.length) break;
        assert.ok(page.length <= 777);
        for (const a of page) {
          seen.push(`${a.sample_id}/${a.epoch}`);
          assert.equal(a.index, Number(a.sample_id.slice(1)));
          const i = a.index;
          assert.deepEqual(a.measurements.map((m) => m.scorer), i % 3 === 0 ? ['exact', 'math'] : ['math']);
          assert.equal(a.measurements.find((m) => m.scorer === 'math')!.value, (i + a.epoch) % 2);
          assert.equal(a.status, (i + a.epoch) % 7 === 0 ? 'error' : 'ok');
        }
        after = { index: page.at(-1)!.index, epoch: page.at(-1)!.epoch };
      }
      assert.deepEqual(seen, keys.map(([s, e]) => `${s}/${e}`));
      // A page from the middle of a sample: after (s1500, epoch 0) comes (s1500, epoch 1).
      const mid = await pool.pageAttempts('run-a', { limit: 3, after: { index: 1500, epoch: 0 } });
      assert.deepEqual(mid.map((a) => `${a.sample_id}/${a.epoch}`), ['s1500/1', 's1501/0', 's1501/1']);
      // One sample's attempts, whatever its place in the run; the same rows as the walk gave.
      const one = await pool.pageAttempts('run-a', { limit: 10, sampleId: `s${PAGE + 5}` });
      assert.deepEqual(one.map((a) => a.epoch), [0, 1]);
      assert.deepEqual(one[1], (await pool.pageAttempts('run-a', { limit: 1, after: { index: PAGE + 5, epoch: 0 } }))[0]);
      assert.deepEqual(await pool.pageAttempts('run-a', { limit: 10, sampleId: `s${PAGE + 5}`, after: { index: PAGE + 5, epoch: 0 } }).then((r) => r.map((a) => a.epoch)), [1]);
      assert.deepEqual(await pool.pageAttempts('run-a', { limit: 10, sampleId: 'nope' }), []);
      assert.deepEqual(await pool.pageAttempts('nope', { limit: 10 }), []);
      for (const limit of [0, PAGE + 1, 1.5, Number.NaN]) await assert.rejects(pool.pageAttempts('run-a', { limit }), RangeError);
    }));

    it('pageAttempts gives every field of an attempt back, the transcript null unless given; queued writes are seen', withPool(async (pool) => {
      await withRun(pool, 'run-a', 2);
      const transcript: Message[] = [{ role: 'user', content: 'turn 1' }, { role: 'assistant', content: 'a1' }];
      const a0 = attemptOf('run-a', 's0', 0, { cached: true, meta: { recorded_pred: 'x' }, transcript, latency_ms: 12.25 });
      const a1 = attemptOf('run-a', 's1', 0, { status: 'error', tries: 7, error: 'timeout after 10 ms' });
      await pool.write(a0, [measurementOf('run-a', 's0', 0, 'math', 1)]);
      await pool.write(a1, [measurementOf('run-a', 's1', 0, 'math', null)]);
      assert.deepEqual(await pool.pageAttempts('run-a', { limit: 5 }), [
        { ...a0, index: 0, measurements: [measurementOf('run-a', 's0', 0, 'math', 1)] },
        { ...a1, transcript: null, index: 1, measurements: [measurementOf('run-a', 's1', 0, 'math', null)] },
      ]);
    }));

    it('getPlanned: one planned sample by id, as iteratePlanned gives it; null for an unknown run or sample', withPool(async (pool) => {
      const p = await withRun(pool, 'run-a', PAGE + 3);
      const all = await collect(pool.iteratePlanned('run-a'));
      assert.deepEqual(await pool.getPlanned('run-a', `s${PAGE + 1}`), all[PAGE + 1]);
      assert.deepEqual(await pool.getPlanned('run-a', 's0'), p[0]);
      assert.equal(await pool.getPlanned('run-a', 'nope'), null);
      assert.equal(await pool.getPlanned('nope', 's0'), null);
    }));

    // --- imported measurements -------------------------------------------------------------------------------------
    it('an import is invisible until commit, then lists its source, samples and measurements', withPool(async (pool) => {
      const tx = await pool.beginImport({ ...csvImport, options: { limit: null } });
      assert.equal(tx.source, 'csv:aaaaaaaaaaaa');
      await tx.addSample(ps('d/q1', { category: 'algebra', tags: ['hard'], text: 'Solve x' }));
      await tx.addMeasurement(pm({ model: 'm1', sample_key: 'd/q1', line: 2 }));
      await tx.addMeasurement(pm({ model: 'm2', sample_key: 'd/q1', value: 0, line: 3 }));
      assert.deepEqual(await pool.sources(), []);
      assert.deepEqual(await collect(pool.iteratePoolMeasurements()), []);
      assert.deepEqual(await collect(pool.iteratePoolSamples()), []);
      const rec = await tx.commit({ measurements: 2, samples: 1 });
      assert.deepEqual(rec, { id: 'csv:aaaaaaaaaaaa', format: 'csv', file: 'results.csv', file_sha256: 'a'.repeat(64), imported_at: rec.imported_at, measurements: 2, samples: 1, options: { limit: null } });
      assert.deepEqual(await pool.sources(), [rec]);
      assert.deepEqual(await collect(pool.iteratePoolSamples()), [ps('d/q1', { category: 'algebra', tags: ['hard'], text: 'Solve x' })]);
      assert.deepEqual(await collect(pool.iteratePoolMeasurements()), [
        { source: rec.id, ...pm({ model: 'm1', sample_key: 'd/q1', line: 2 }) },
        { source: rec.id, ...pm({ model: 'm2', sample_key: 'd/q1', value: 0, line: 3 }) },
      ]);
      await assert.rejects(tx.addMeasurement(pm({ model: 'm3', sample_key: 'd/q1' })), /finished/);
    }));

    it('a measurement given twice in one import is an InputError naming the file and both lines', withPool(async (pool) => {
      const tx = await pool.beginImport(csvImport);
      await tx.addMeasurement(pm({ model: 'm1', sample_key: 'd/q1', opponent: 'm2', kind: 'battle', slice: 'v1', rep: 2, line: 4 }));
      await tx.addMeasurement(pm({ model: 'm1', sample_key: 'd/q1', opponent: 'm2', kind: 'battle', slice: 'v1', rep: 3, line: 5 })); // another repeat: fine
      // At once, or (a store that stages rows unindexed) from `firstDuplicate` and `commit`: the same error.
      const expected = (e: unknown) => e instanceof InputError && e.message === 'results.csv:9: duplicate measurement: model "m1" vs "m2" on sample "d/q1" (slice v1) repeat 2 was already given at line 4';
      const repeat = pm({ model: 'm1', sample_key: 'd/q1', opponent: 'm2', kind: 'battle', slice: 'v1', rep: 2, value: 0, line: 9 });
      if (tx.firstDuplicate) {
        await tx.addMeasurement(repeat);
        await tx.addMeasurement(pm({ model: 'm1', sample_key: 'd/q1', opponent: 'm2', kind: 'battle', slice: 'v1', rep: 2, value: 1, line: 12 })); // a later repeat of the same
        assert.ok(expected(await tx.firstDuplicate()));
        await assert.rejects(tx.commit({ measurements: 4, samples: 0 }), expected);
      } else await assert.rejects(tx.addMeasurement(repeat), expected);
      await tx.rollback();
      await tx.rollback(); // idempotent
      assert.deepEqual(await pool.sources(), []);
      assert.deepEqual(await collect(pool.iteratePoolMeasurements()), []);
      // The same file can come in after a rollback.
      await importRows(pool, [pm({ model: 'm1', sample_key: 'd/q1' })]);
      assert.equal((await pool.sources()).length, 1);
    }));

    it('a rolled-back import leaves nothing, samples included; runs written meanwhile are kept', withPool(async (pool) => {
      await withRun(pool, 'run-a', 1);
      const tx = await pool.beginImport(csvImport);
      await tx.addSample(ps('d/q1'));
      await tx.addMeasurement(pm({ model: 'm1', sample_key: 'd/q1' }));
      await pool.write(attemptOf('run-a', 's0', 0), [measurementOf('run-a', 's0', 0, 'exact', 1)]);
      await pool.flush();
      await tx.addMeasurement(pm({ model: 'm2', sample_key: 'd/q1' }));
      await tx.rollback();
      assert.deepEqual(await collect(pool.iteratePoolSamples({ runs: false })), []);
      assert.deepEqual(await collect(pool.iteratePoolMeasurements({ runs: false })), []);
      assert.deepEqual(await pool.counts('run-a'), { attempts: 1, ok: 1, error: 0, measurements: 1 });
    }));

    it('the same file twice is an InputError unless replace; replace swaps the source when it commits', withPool(async (pool) => {
      const first = await importRows(pool, [pm({ model: 'm1', sample_key: 'd/q1' }), pm({ model: 'm2', sample_key: 'd/q2' })]);
      await assert.rejects(pool.beginImport(csvImport), (e: unknown) => e instanceof InputError && /already imported as source "csv:aaaaaaaaaaaa"/.test(e.message) && /--replace/.test(e.message));
      const tx = await pool.beginImport({ ...csvImport, replace: true });
      await tx.addSample(ps('d/q3'));
      await tx.addMeasurement(pm({ model: 'm3', sample_key: 'd/q3' }));
      assert.deepEqual((await collect(pool.iteratePoolMeasurements())).map((m) => m.model), ['m1', 'm2']); // not yet
      const second = await tx.commit({ measurements: 1, samples: 1 });
      assert.equal(second.id, first.id);
      assert.deepEqual((await pool.sources()).map((s) => s.measurements), [1]);
      assert.deepEqual((await collect(pool.iteratePoolMeasurements())).map((m) => m.model), ['m3']);
      // A replace whose import is rolled back keeps the old source.
      const tx2 = await pool.beginImport({ ...csvImport, replace: true });
      await tx2.addMeasurement(pm({ model: 'm4', sample_key: 'd/q3' }));
      await tx2.rollback();
      assert.deepEqual((await collect(pool.iteratePoolMeasurements())).map((m) => m.model), ['m3']);
      // A different format of the same bytes is another source.
      await importRows(pool, [pm({ model: 'm5', sample_key: 'd/q1' })], { format: 'lm-eval' });
      assert.deepEqual((await pool.sources()).map((s) => s.id).sort(), ['csv:aaaaaaaaaaaa', 'lm-eval:aaaaaaaaaaaa']);
    }));

    it('replaces: the named sources (an earlier import of the file, since changed) go when the import commits, not before', withPool(async (pool) => {
      const old = await importRows(pool, [pm({ model: 'm1', sample_key: 'd/q1', value: 0 })]);
      const other = await importRows(pool, [pm({ model: 'm9', sample_key: 'd/q9' })], { sha256: 'c'.repeat(64), file: 'other.csv' });
      // rolled back: the old source stays
      const rolled = await pool.beginImport({ ...csvImport, sha256: 'b'.repeat(64), replace: true, replaces: [old.id] });
      await rolled.addMeasurement(pm({ model: 'm1', sample_key: 'd/q1', value: 1 }));
      await rolled.rollback();
      assert.deepEqual((await pool.sources()).map((s) => s.id).sort(), [old.id, other.id].sort());
      const tx = await pool.beginImport({ ...csvImport, sha256: 'b'.repeat(64), replace: true, replaces: [old.id] });
      await tx.addSample(ps('d/q1'));
      await tx.addMeasurement(pm({ model: 'm1', sample_key: 'd/q1', value: 1 }));
      assert.equal((await pool.sources()).length, 2, 'not before the commit');
      const rec = await tx.commit({ measurements: 1, samples: 1 });
      assert.deepEqual((await pool.sources()).map((s) => s.id).sort(), [rec.id, other.id].sort());
      assert.deepEqual((await collect(pool.iteratePoolMeasurements({ sources: [rec.id, old.id] }))).map((m) => [m.source, m.model, m.value]), [[rec.id, 'm1', 1]]);
    }));

    it('deleteSource removes the source and its measurements (not the samples) and returns how many', withPool(async (pool) => {
      const a = await importRows(pool, [pm({ model: 'm1', sample_key: 'd/q1' }), pm({ model: 'm2', sample_key: 'd/q1' })]);
      await importRows(pool, [pm({ model: 'm1', sample_key: 'd/q2' })], { sha256: 'b'.repeat(64) });
      assert.equal(await pool.deleteSource(a.id), 2);
      assert.equal(await pool.deleteSource(a.id), 0);
      assert.deepEqual((await pool.sources()).map((s) => s.id), ['csv:bbbbbbbbbbbb']);
      assert.deepEqual((await collect(pool.iteratePoolMeasurements())).map((m) => m.sample_key), ['d/q2']);
      assert.deepEqual((await collect(pool.iteratePoolSamples())).map((s) => s.key), ['d/q1', 'd/q2']);
    }));

    it('samples merge across imports: category, text and content hash kept when absent; tags and metadata replaced unless empty', withPool(async (pool) => {
      let tx = await pool.beginImport(csvImport);
      await tx.addSample(ps('d/q1', { category: 'algebra', text: 'Solve', tags: ['a'], metadata: { x: 1 }, content_hash: 'c1' }));
      await tx.addSample(ps('d/q1', { category: null, text: null, tags: [], metadata: {} })); // within one import too
      await tx.commit({ measurements: 0, samples: 1 });
      assert.deepEqual(await collect(pool.iteratePoolSamples()), [ps('d/q1', { category: 'algebra', text: 'Solve', tags: ['a'], metadata: { x: 1 }, content_hash: 'c1' })]);
      tx = await pool.beginImport({ ...csvImport, sha256: 'b'.repeat(64) });
      await tx.addSample(ps('d/q1', { category: 'geometry', tags: ['b', 'c'], metadata: { y: 2 } }));
      await tx.commit({ measurements: 0, samples: 1 });
      assert.deepEqual(await collect(pool.iteratePoolSamples()), [ps('d/q1', { category: 'geometry', text: 'Solve', tags: ['b', 'c'], metadata: { y: 2 }, content_hash: 'c1' })]);
    }));

    it('imported measurements come in key order (code points) over more than one page, then the runs', withPool(async (pool) => {
      const rows: Omit<PoolMeasurement, 'source'>[] = [];
      const models = ['m\uFF21', 'm\u{1F600}', 'mB', 'ma'];
      for (let i = 0; i < PAGE + 100; i++) rows.push(pm({ model: models[i % 4]!, sample_key: `d/q${String(Math.floor(i / 4)).padStart(4, '0')}`, slice: i % 3 ? 's1' : 's0', rep: i % 2, value: i % 2 }));
      await importRows(pool, shuffled(rows));
      await importRows(pool, [pm({ model: 'z', sample_key: 'e/q1' })], { format: 'wildbench', sha256: 'b'.repeat(64) });
      await withRun(pool, 'run-a', 1);
      await pool.write(attemptOf('run-a', 's0', 0), [measurementOf('run-a', 's0', 0, 'exact', 1)]);
      const got = await collect(pool.iteratePoolMeasurements());
      const order = ['m' + 'B', 'ma', 'm\uFF21', 'm\u{1F600}']; // UTF-8 byte order: 'B' < 'a' < U+FF21 < U+1F600
      const expected = [...rows]
        .map((r) => ({ source: 'csv:aaaaaaaaaaaa', ...r }))
        .sort((x, y) => (x.slice < y.slice ? -1 : x.slice > y.slice ? 1 : 0) || order.indexOf(x.model) - order.indexOf(y.model) || (x.sample_key < y.sample_key ? -1 : x.sample_key > y.sample_key ? 1 : 0) || x.rep - y.rep);
      assert.equal(got.length, rows.length + 2);
      assert.deepEqual(got.slice(0, rows.length), expected);
      assert.deepEqual(got.slice(rows.length).map((m) => m.source), ['wildbench:bbbbbbbbbbbb', 'runs']);
    }));

    it('filters of iteratePoolMeasurements: sources, slices, kinds, models (both sides of a pair), sample keys, runs, imported', withPool(async (pool) => {
      await importRows(pool, [
        pm({ model: 'A', sample_key: 'd/q1', slice: 'v1' }),
        pm({ model: 'B', sample_key: 'd/q1', slice: 'v2', kind: 'numeric', value: 3.5, direction: -1, tie_tolerance: 0.5 }),
        pm({ model: 'A', sample_key: 'd/q2', opponent: 'B', kind: 'battle', value: 0.5, weight: 3 }),
        pm({ model: 'A', sample_key: 'd/q2', opponent: 'C', kind: 'battle', value: 1 }),
        pm({ model: 'C', sample_key: 'd/q3', opponent: 'baseline', kind: 'preference', value: 0.25 }),
      ]);
      await importRows(pool, [pm({ model: 'A', sample_key: 'e/q1', kind: 'ordinal', value: 7 })], { format: 'wildbench', sha256: 'b'.repeat(64) });
      await withRun(pool, 'run-a', 2, { model: 'A' });
      await pool.write(attemptOf('run-a', 's0', 0), [measurementOf('run-a', 's0', 0, 'exact', 1)]);
      const p = plan([sampleOf(0)]);
      const runKey = `sha256:${p[0]!.content_hash}`;
      const keysOf = async (f: Parameters<Pool['iteratePoolMeasurements']>[0]) =>
        (await collect(pool.iteratePoolMeasurements(f))).map((m) => `${m.source === 'runs' ? 'runs' : m.source.split(':')[0]}|${m.model}${m.opponent ? '>' + m.opponent : ''}|${m.sample_key === runKey ? 'run-sample' : m.sample_key}`);
      assert.equal((await keysOf({})).length, 7);
      assert.deepEqual(await keysOf({ sources: ['wildbench:bbbbbbbbbbbb'] }), ['wildbench|A|e/q1']);
      assert.deepEqual(await keysOf({ sources: ['runs'] }), ['runs|A|run-sample']);
      assert.deepEqual(await keysOf({ sources: [] }), []);
      assert.deepEqual(await keysOf({ slices: ['v2'] }), ['csv|B|d/q1']);
      assert.deepEqual(await keysOf({ slices: ['exact'] }), ['runs|A|run-sample']);
      assert.deepEqual(await keysOf({ kinds: ['battle'] }), ['csv|A>B|d/q2', 'csv|A>C|d/q2']);
      assert.deepEqual(await keysOf({ kinds: ['binary'], imported: false }), ['runs|A|run-sample']);
      assert.deepEqual(await keysOf({ models: ['A', 'B'] }), ['csv|A>B|d/q2', 'csv|A|d/q1', 'csv|B|d/q1', 'wildbench|A|e/q1', 'runs|A|run-sample']);
      assert.deepEqual(await keysOf({ models: ['C'] }), []);
      assert.deepEqual(await keysOf({ models: [] }), []);
      assert.deepEqual(await keysOf({ sampleKeys: ['d/q2', runKey, 'x/none'] }), ['csv|A>B|d/q2', 'csv|A>C|d/q2', 'runs|A|run-sample']);
      assert.deepEqual(await keysOf({ sampleKeys: new Set(['d/q1']), models: ['B'], runs: false }), ['csv|B|d/q1']);
      assert.deepEqual(await keysOf({ runs: false, imported: false }), []);
      const numeric = (await collect(pool.iteratePoolMeasurements({ kinds: ['numeric'] })))[0]!;
      assert.deepEqual(numeric, { source: 'csv:aaaaaaaaaaaa', ...pm({ model: 'B', sample_key: 'd/q1', slice: 'v2', kind: 'numeric', value: 3.5, direction: -1, tie_tolerance: 0.5 }) });
    }));

    it("the runs' measurements: first scorer, binary values under the one outcome rule (timeouts 0) averaged over epochs and runs of a model", withPool(async (pool) => {
      const p = await withRun(pool, 'run-a', 2, { model: 'M', scorers: ['exact', 'math'], created_at: '2025-01-01T00:00:00.000Z' });
      await withRun(pool, 'run-b', 2, { model: 'M', scorers: ['exact'], dataset: 'other', created_at: '2025-01-02T00:00:00.000Z' });
      await withRun(pool, 'run-c', 2, { model: 'N', scorers: ['math'], created_at: '2025-01-03T00:00:00.000Z' });
      const w = (run: string, s: string, e: number, scorer: string, v: number | null, st?: Measurement['status']) => pool.write(attemptOf(run, s, e), [measurementOf(run, s, e, scorer, v, st)]);
      await w('run-a', 's0', 0, 'exact', 1);
      await w('run-a', 's0', 1, 'exact', 0, 'no_answer');
      await pool.writeMeasurements([measurementOf('run-a', 's0', 0, 'math', 0)]); // not the run's first scorer
      await w('run-a', 's1', 0, 'exact', null, 'grader_error');
      await w('run-a', 's1', 1, 'exact', null, 'attempt_error');
      await w('run-b', 's0', 0, 'exact', 1);
      await w('run-c', 's1', 0, 'math', 1);
      await w('run-c', 's1', 1, 'math', null, 'grader_timeout'); // a grader timeout counts as wrong (core/outcome.ts)
      const k = (i: number) => `sha256:${p[i]!.content_hash}`;
      const got = await collect(pool.iteratePoolMeasurements({ imported: false }));
      assert.deepEqual(got, [
        { source: 'runs', slice: 'exact', sample_key: k(0), model: 'M', opponent: '', rep: 0, kind: 'binary', value: 2 / 3, direction: 1, tie_tolerance: 0, weight: 1, line: null },
        { source: 'runs', slice: 'math', sample_key: k(1), model: 'N', opponent: '', rep: 0, kind: 'binary', value: 1 / 2, direction: 1, tie_tolerance: 0, weight: 1, line: null },
      ].sort((x, y) => (x.slice < y.slice ? -1 : 1)));
      assert.deepEqual(await pool.summary(), [{ source: 'runs', kind: 'binary', slices: 2, models: 2, samples: 2, measurements: 2 }]);
    }));

    it('iteratePoolSamples: imported by key, then one per content hash of the runs (unless runs: false)', withPool(async (pool) => {
      await importRows(pool, [pm({ model: 'm', sample_key: 'z/q9' }), pm({ model: 'm', sample_key: 'a/q1' })]);
      const samples = [sampleOf(0), sampleOf(1, { input: [{ role: 'system', content: 'sys' }, { role: 'user', content: [{ type: 'text', text: 'part one' }, { type: 'text', text: 'part two' }] }] })];
      const p = plan(samples);
      await pool.ensureRun(runOf('run-b', { dataset: 'zeta' }), p);
      await pool.ensureRun(runOf('run-a', { dataset: 'alpha' }), plan([sampleOf(0)]));
      const all = await collect(pool.iteratePoolSamples());
      assert.deepEqual(all.slice(0, 2).map((s) => s.key), ['a/q1', 'z/q9']);
      const runSamples = all.slice(2);
      const expected = [
        { key: `sha256:${p[0]!.content_hash}`, dataset: 'alpha', sample_id: 's0', category: 'even', tags: ['arith'], text: 'What is 0 + 1?', content_hash: p[0]!.content_hash, metadata: samples[0]!.metadata },
        { key: `sha256:${p[1]!.content_hash}`, dataset: 'zeta', sample_id: 's1', category: 'odd', tags: ['arith'], text: 'sys\npart one\n\npart two', content_hash: p[1]!.content_hash, metadata: samples[1]!.metadata },
      ].sort((x, y) => (x.key < y.key ? -1 : 1));
      assert.deepEqual(runSamples, expected);
      assert.deepEqual((await collect(pool.iteratePoolSamples({ runs: false }))).map((s) => s.key), ['a/q1', 'z/q9']);
    }));

    it('iteratePoolSamples pages over more than one page of imported samples', withPool(async (pool) => {
      const tx = await pool.beginImport(csvImport);
      const keys = Array.from({ length: PAGE + 20 }, (_, i) => `d/q${String(i).padStart(5, '0')}`);
      for (const k of shuffled(keys)) await tx.addSample(ps(k));
      await tx.commit({ measurements: 0, samples: keys.length });
      assert.deepEqual((await collect(pool.iteratePoolSamples())).map((s) => s.key), keys);
    }));

    it('summary: per source × kind (models counted on both sides), then the runs', withPool(async (pool) => {
      await importRows(pool, [
        pm({ model: 'A', sample_key: 'd/q1', slice: 'v1' }),
        pm({ model: 'B', sample_key: 'd/q1', slice: 'v2' }),
        pm({ model: 'A', sample_key: 'd/q2', opponent: 'C', kind: 'battle' }),
      ]);
      assert.deepEqual(await pool.summary(), [
        { source: 'csv:aaaaaaaaaaaa', kind: 'battle', slices: 1, models: 2, samples: 1, measurements: 1 },
        { source: 'csv:aaaaaaaaaaaa', kind: 'binary', slices: 2, models: 2, samples: 1, measurements: 2 },
      ]);
    }));

    it('selections: saved and found by hash or unique prefix; ambiguous prefix is an InputError; non-hex finds nothing', withPool(async (pool) => {
      const sel = { hash: 'abcd1234'.repeat(8), query: 'algebra', filters: { category: ['algebra'] }, limit: 10, created_at: '2025-01-01T00:00:00.000Z', sample_keys: ['d/q1', 'd/q2'] };
      await pool.saveSelection(sel);
      await pool.saveSelection({ ...sel, hash: 'abcd9999'.repeat(8), limit: null });
      assert.deepEqual(await pool.getSelection(sel.hash), sel);
      assert.deepEqual(await pool.getSelection('abcd1'), sel);
      await assert.rejects(pool.getSelection('abcd'), (e: unknown) => e instanceof InputError && /ambiguous/.test(e.message));
      assert.equal(await pool.getSelection('ffff'), null);
      assert.equal(await pool.getSelection('algebra'), null);
      assert.equal(await pool.getSelection('ab'), null);
      await pool.saveSelection({ ...sel, query: 'again' }); // same hash: replaced
      assert.equal((await pool.getSelection(sel.hash))!.query, 'again');
    }));

    // --- metadata -----------------------------------------------------------------------------------------------------
    it('tasks: recorded once per id; the same id with another definition is an InputError', withPool(async (pool) => {
      const t = { id: 'gsm8k@1', name: 'gsm8k', version: '1', hash: 'h1', definition: { dataset: 'gsm8k', fewShot: { k: 4 } }, created_at: '2025-01-01T00:00:00.000Z' };
      await pool.putTask(t);
      await pool.putTask({ ...t, created_at: '2026-01-01T00:00:00.000Z' }); // idempotent
      await pool.putTask({ ...t, id: 'aime@2', name: 'aime', version: '2' });
      assert.deepEqual(await pool.getTask('gsm8k@1'), t);
      assert.equal(await pool.getTask('gsm8k@2'), null);
      assert.deepEqual((await pool.listTasks()).map((x) => x.id), ['aime@2', 'gsm8k@1']);
      await assert.rejects(pool.putTask({ ...t, hash: 'h2' }), (e: unknown) => e instanceof InputError && /version/.test(e.message));
      assert.equal((await pool.getTask('gsm8k@1'))!.hash, 'h1');
    }));

    it('models: ids and fingerprints unioned, metadata merged, kind replaced', withPool(async (pool) => {
      await pool.putModel({ address: 'openai-compatible:http://x/v1#m', kind: 'openai-compatible', reported_model_ids: ['m-2'], system_fingerprints: ['fp1'], metadata: { family: 'qwen', params: 7 } });
      await pool.putModel({ address: 'openai-compatible:http://x/v1#m', kind: 'openai-compatible', reported_model_ids: ['m-1', 'm-2'], system_fingerprints: [], metadata: { params: 8 } });
      await pool.putModel({ address: 'anthropic:claude', kind: 'anthropic', reported_model_ids: [], system_fingerprints: [], metadata: {} });
      const m = (await pool.getModel('openai-compatible:http://x/v1#m'))!;
      assert.deepEqual({ ...m, updated_at: undefined }, {
        address: 'openai-compatible:http://x/v1#m', kind: 'openai-compatible', reported_model_ids: ['m-1', 'm-2'], system_fingerprints: ['fp1'], metadata: { family: 'qwen', params: 8 }, updated_at: undefined,
      });
      assert.match(m.updated_at, /^\d{4}-\d\d-\d\dT/);
      assert.equal(await pool.getModel('nope'), null);
      assert.deepEqual((await pool.listModels()).map((x) => x.address), ['anthropic:claude', 'openai-compatible:http://x/v1#m']);
    }));

    it('eval sets: ensure creates or returns the stored one with runs merged in; update; found by prefix', withPool(async (pool) => {
      const set: EvalSetRecord = {
        id: 'es-0123456789', name: 'nightly', tasks: ['gsm8k@1', 'aime@1'], models: ['A', 'B'], runs: { 'gsm8k@1\u0000A': 'r1' }, spec: { epochs: 4 }, status: 'running',
        created_at: '2025-01-01T00:00:00.000Z', updated_at: '2025-01-01T00:00:00.000Z',
      };
      assert.deepEqual(await pool.ensureEvalSet(set), set);
      const again = await pool.ensureEvalSet({ ...set, name: 'other', runs: { 'gsm8k@1\u0000A': 'changed', 'aime@1\u0000B': 'r2' }, status: 'complete' });
      assert.equal(again.name, 'nightly'); // the stored one
      assert.equal(again.status, 'running');
      assert.deepEqual(again.runs, { 'gsm8k@1\u0000A': 'r1', 'aime@1\u0000B': 'r2' });
      await pool.updateEvalSet(set.id, { runs: { 'gsm8k@1\u0000B': 'r3' }, status: 'interrupted' });
      const got = (await pool.getEvalSet('es-01'))!;
      assert.equal(got.status, 'interrupted');
      assert.deepEqual(got.runs, { 'gsm8k@1\u0000A': 'r1', 'aime@1\u0000B': 'r2', 'gsm8k@1\u0000B': 'r3' });
      assert.equal(got.created_at, set.created_at);
      await pool.ensureEvalSet({ ...set, id: 'es-0199', created_at: '2025-02-01T00:00:00.000Z' });
      await assert.rejects(pool.getEvalSet('es-01'), (e: unknown) => e instanceof InputError && /ambiguous/.test(e.message));
      assert.equal((await pool.getEvalSet('es-0123456789'))!.id, 'es-0123456789');
      assert.equal(await pool.getEvalSet('zz'), null);
      assert.deepEqual((await pool.listEvalSets()).map((s) => s.id), ['es-0123456789', 'es-0199']);
      await assert.rejects(pool.updateEvalSet('nope', { status: 'complete' }), InputError);
    }));

    // --- images -------------------------------------------------------------------------------------------------------
    it('images are stored once by the sha256 of their bytes, read back intact, and checked on the way in', withPool(async (pool) => {
      const png = imageOf('png', 1), jpeg = imageOf('jpeg', 2), webp = imageOf('webp', 3);
      assert.deepEqual(await pool.imageStats(), { images: 0, bytes: 0 });
      assert.equal(await pool.hasImage(png.sha256), false);
      assert.equal(await pool.getImage(png.sha256), null);
      assert.equal(await pool.putImage(png), true);
      // Again (another run, epoch or process): nothing new is stored.
      assert.equal(await pool.putImage(png), false);
      assert.equal(await pool.putImage({ ...png, bytes: Buffer.from(png.bytes) }), false);
      assert.equal(await pool.putImage(jpeg), true);
      assert.equal(await pool.putImage(webp), true);
      assert.deepEqual(await pool.imageStats(), { images: 3, bytes: png.bytes.length + jpeg.bytes.length + webp.bytes.length });
      assert.equal(await pool.hasImage(jpeg.sha256), true);
      for (const img of [png, jpeg, webp]) {
        const got = (await pool.getImage(img.sha256))!;
        assert.equal(got.sha256, img.sha256);
        assert.equal(got.mime_type, img.mime_type);
        assert.ok(Buffer.from(got.bytes).equals(img.bytes), 'bytes intact');
        got.bytes[0] = 0; // a caller changing what it read changes nothing in the pool
      }
      assert.ok(Buffer.from((await pool.getImage(png.sha256))!.bytes).equals(png.bytes));
      // Content-addressed: the hash must be of the bytes, the type that of the bytes, and the bytes an image.
      await assert.rejects(pool.putImage({ ...png, sha256: jpeg.sha256 }), (e: unknown) => e instanceof InputError && /hash to/.test(e.message));
      await assert.rejects(pool.putImage({ ...png, mime_type: 'image/jpeg' }), (e: unknown) => e instanceof InputError && /is image\/png, not image\/jpeg/.test(e.message));
      const text = Buffer.from('not an image');
      await assert.rejects(pool.putImage({ sha256: sha256(text.toString()), mime_type: 'image/png', bytes: text }), (e: unknown) => e instanceof InputError && /unknown image type/.test(e.message));
      assert.equal((await pool.imageStats()).images, 3);
      if (opts.reopen) {
        await pool.flush();
        const other = await opts.reopen(pool.url);
        try {
          assert.ok(Buffer.from((await other.getImage(webp.sha256))!.bytes).equals(webp.bytes), 'durable, seen by a second handle');
          assert.equal(await other.putImage(webp), false);
          assert.equal((await other.imageStats()).images, 3);
        } finally {
          await other.close();
        }
      }
    }));

    // --- lifecycle ----------------------------------------------------------------------------------------------------
    it('close flushes, is idempotent, and ends the pool; await using closes it', async () => {
      const pool = await makePool();
      await withRun(pool, 'run-a', 1);
      await pool.write(attemptOf('run-a', 's0', 0), []);
      await pool.close();
      await pool.close();
      await assert.rejects(pool.listRuns());
      let disposed: Pool;
      {
        await using p = await makePool();
        disposed = p;
        await withRun(p, 'run-a', 1);
      }
      await assert.rejects(disposed.getRun('run-a'));
      assert.match(disposed.url, /^[a-z]+:/);
    });

    // --- evidence chain (the chaining layer itself is tested in test/evidence/) -------------------------------------
    // `openPool` chains what is written through it (store/chained.ts): the links it adds itself come first, so these
    // tests number theirs from the head they find.
    const baseOf = async (pool: Pool, runId: string) => ((await pool.chainHead(runId))?.seq ?? -1) + 1;
    const linkOf = (runId: string, seq: number, o: Partial<ChainLink> = {}): ChainLink => ({
      run_id: runId, seq, kind: seq === 0 ? 'run' : 'attempt', sample_id: seq === 0 ? null : `s${seq}`, epoch: seq === 0 ? null : 0, scorer: null,
      status: seq === 0 ? null : 'ok', record_hash: sha256(`r${seq}`), chain: sha256(`c${seq}`), ...o,
    });

    it('evidence chain: links stored with rows and alone, read back in seq order; the head sees queued links', withPool(async (pool) => {
      await pool.ensureRun(runOf('run-a'), plan([sampleOf(0), sampleOf(1)]));
      const b = await baseOf(pool, 'run-a');
      await pool.appendChain([linkOf('run-a', b)]);
      await pool.write(attemptOf('run-a', 's0', 0), [measurementOf('run-a', 's0', 0, 'exact', 1)], [linkOf('run-a', b + 1), linkOf('run-a', b + 2, { kind: 'measurement', scorer: 'exact' })]);
      await pool.writeMeasurements([measurementOf('run-a', 's0', 0, 'other', 0)], [linkOf('run-a', b + 3, { kind: 'measurement', scorer: 'other' })]);
      assert.deepEqual(await pool.chainHead('run-a'), linkOf('run-a', b + 3, { kind: 'measurement', scorer: 'other' }));
      await pool.flush();
      const links = (await collect(pool.iterateChain('run-a'))).slice(b);
      assert.deepEqual(links.map((l) => l.seq), [b, b + 1, b + 2, b + 3]);
      assert.deepEqual(links[2], linkOf('run-a', b + 2, { kind: 'measurement', scorer: 'exact' }));
      // A failed attempt over an ok one is dropped, its link is kept (the verifier replays the same rule).
      await pool.write(attemptOf('run-a', 's0', 0, { status: 'error' }), [], [linkOf('run-a', b + 4, { status: 'error' })]);
      assert.equal((await pool.chainHead('run-a'))!.seq, b + 4);
      assert.equal((await collect(pool.iterateAttempts('run-a')))[0]!.status, 'ok');
      // Links of a run that is not in the pool are dropped, as its rows are.
      await pool.appendChain([linkOf('nope', 0)]);
      assert.equal(await pool.chainHead('nope'), null);
      assert.deepEqual(await collect(pool.iterateChain('nope')), []);
    }));

    it('evidence chain: a link given again (same run and seq) replaces the stored one, in any batch shape', withPool(async (pool) => {
      await pool.ensureRun(runOf('run-a'), plan([sampleOf(0)]));
      const b = await baseOf(pool, 'run-a');
      await pool.appendChain([0, 1, 2, 3, 4, 5].map((i) => linkOf('run-a', b + i)));
      // Two writers at once (a forked chain): the second rewrites seqs 2–3, then 5 alone, then 1 with 6 in one call.
      const forked = (seq: number) => linkOf('run-a', seq, { record_hash: sha256(`forked r${seq}`), chain: sha256(`forked c${seq}`) });
      await pool.appendChain([forked(b + 2), forked(b + 3)]);
      await pool.appendChain([forked(b + 5)]);
      await pool.appendChain([forked(b + 1), linkOf('run-a', b + 6)]);
      const want = [linkOf('run-a', b), forked(b + 1), forked(b + 2), forked(b + 3), linkOf('run-a', b + 4), forked(b + 5), linkOf('run-a', b + 6)];
      assert.deepEqual((await collect(pool.iterateChain('run-a'))).slice(b), want);
      assert.deepEqual(await pool.chainHead('run-a'), linkOf('run-a', b + 6));
      await pool.appendChain([forked(b + 6)]);
      await pool.flush();
      assert.deepEqual(await pool.chainHead('run-a'), forked(b + 6));
      assert.deepEqual((await collect(pool.iterateChain('run-a'))).slice(b), [...want.slice(0, 6), forked(b + 6)]);
    }));

    it('evidence chain: more links than a page come back whole and in order', withPool(async (pool) => {
      await pool.ensureRun(runOf('run-a'), plan([sampleOf(0)]));
      const b = await baseOf(pool, 'run-a');
      const n = PAGE + 5;
      for (let i = b; i < n; i += 100) await pool.appendChain(Array.from({ length: Math.min(100, n - i) }, (_, k) => linkOf('run-a', i + k)));
      const links = await collect(pool.iterateChain('run-a'));
      assert.equal(links.length, n);
      assert.ok(links.every((l, i) => l.seq === i));
    }));

    it('evidence chain: signatures stored by seq and key, replaced on both; unknown run refused', withPool(async (pool) => {
      await pool.ensureRun(runOf('run-a'), plan([sampleOf(0)]));
      const sig = (seq: number, key_id: string, signature = 'sig'): ChainSignature => ({ run_id: 'run-a', seq, head: sha256(`c${seq}`), key_id, public_key: 'pk', signature, signed_at: '2025-01-01T00:00:00.000Z' });
      await pool.putChainSignature(sig(5, 'k2'));
      await pool.putChainSignature(sig(2, 'k1'));
      await pool.putChainSignature(sig(5, 'k1'));
      await pool.putChainSignature(sig(5, 'k1', 'again'));
      assert.deepEqual(await pool.chainSignatures('run-a'), [sig(2, 'k1'), sig(5, 'k1', 'again'), sig(5, 'k2')]);
      assert.deepEqual(await pool.chainSignatures('nope'), []);
      await assert.rejects(pool.putChainSignature({ ...sig(1, 'k1'), run_id: 'nope' }), InputError);
    }));

    // --- private held-out sets ---------------------------------------------------------------------------------------
    const privateSet = (name: string, allow: string[] = ['http://127.0.0.1:1/v1']): PrivateSetRecord => ({
      name, allow, key_id: 'k'.repeat(16), content_mac: 'm'.repeat(64), items: 2, created_at: '2025-01-01T00:00:00.000Z', source: 'file.jsonl',
    });
    const items = (set: string): PrivateItem[] => [1, 0].map((idx) => ({ set, idx, id: `i${idx}`, canary: `ASSAY-CANARY-${idx}`, iv: 'aXY=', tag: 'dGFn', ciphertext: `Y3Q${idx}` }));

    it('private sets: stored whole, read back by idx, listed by name; a taken name refused unless replaced', withPool(async (pool) => {
      await pool.putPrivateSet(privateSet('b'), items('b'));
      await pool.putPrivateSet(privateSet('a'), items('a'));
      assert.deepEqual(await pool.getPrivateSet('b'), { set: privateSet('b'), items: items('b').reverse() });
      assert.equal(await pool.getPrivateSet('nope'), null);
      assert.deepEqual((await pool.listPrivateSets()).map((s) => s.name), ['a', 'b']);
      await assert.rejects(pool.putPrivateSet(privateSet('a'), []), InputError);
      await pool.putPrivateSet(privateSet('a', ['x']), items('a').slice(0, 1), { replace: true });
      const a = (await pool.getPrivateSet('a'))!;
      assert.deepEqual(a.set.allow, ['x']);
      assert.equal(a.items.length, 1);
    }));

    it('private sets: exposures appended and read back per set in order', withPool(async (pool) => {
      const e = (set: string, i: number): PrivateExposure => ({ set, item_id: `i${i}`, endpoint: 'http://h/v1', run_id: 'r', epoch: i % 2, at: `2025-01-01T00:00:0${i}.000Z` });
      await pool.recordExposures([e('a', 1), e('b', 2)]);
      await pool.recordExposures([e('a', 3)]);
      assert.deepEqual(await collect(pool.iterateExposures('a')), [e('a', 1), e('a', 3)]);
      assert.deepEqual(await collect(pool.iterateExposures('nope')), []);
    }));

    if (opts.reopen) {
      it('evidence chain: durable after close', withPool(async (pool) => {
        await pool.ensureRun(runOf('run-a'), plan([sampleOf(0)]));
        const b = await baseOf(pool, 'run-a');
        await pool.write(attemptOf('run-a', 's0', 0), [], [linkOf('run-a', b), linkOf('run-a', b + 1)]);
        await pool.close();
        const again = await opts.reopen!(pool.url);
        try {
          assert.deepEqual((await collect(again.iterateChain('run-a'))).map((l) => l.seq).slice(b), [b, b + 1]);
        } finally {
          await again.close();
        }
      }));
    }
  });
}
