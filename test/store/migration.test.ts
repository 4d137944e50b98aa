/**
 * A pool written by the release before the one pool interface (schema version 2; test/fixtures/pool-v2.sql says how
 * it was made) opens with today's `openPool`, is migrated in place to the current version (6), and keeps every run, planned sample,
 * attempt, measurement, imported measurement, sample, source and selection, each readable through the interface.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openPool } from '../../src/store/open.ts';
import { SCHEMA_VERSION } from '../../src/store/sqlite.ts';
import type { Pool } from '../../src/store/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-migration-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const dump = readFileSync(new URL('../fixtures/pool-v2.sql', import.meta.url), 'utf8');

/** A fresh SQLite file holding the v2 dump. */
function v2File(name: string): string {
  const file = join(dir, name);
  const db = new Database(file);
  db.exec(dump);
  assert.equal(db.pragma('user_version', { simple: true }), 2);
  db.close();
  return file;
}

/** The v2 rows, read straight from the dump (the reference the migrated pool is checked against). */
const v2 = new Database(':memory:');
v2.exec(dump);
const rows = (sql: string, ...p: unknown[]) => v2.prepare(sql).all(...p) as Record<string, any>[];

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const json = (s: string | null) => (s == null ? null : JSON.parse(s));

test('a schema-2 pool from the previous release migrates in place to the current schema with nothing lost', async () => {
  const file = v2File('pool.sqlite');
  const pool: Pool = await openPool(file);
  try {
    // Runs, in creation order, with spec and manifest as written.
    const runs = rows(`SELECT * FROM runs ORDER BY created_at, id`);
    assert.equal(runs.length, 3);
    assert.deepEqual((await pool.listRuns()).map((r) => [r.id, r.status, r.samples, r.attempts, r.failed, r.task]), runs.map((r) => [
      r.id, r.status, rows(`SELECT 1 FROM run_samples WHERE run_id = ?`, r.id).length, rows(`SELECT 1 FROM attempts WHERE run_id = ?`, r.id).length,
      rows(`SELECT 1 FROM attempts WHERE run_id = ? AND status = 'error'`, r.id).length, null,
    ]));
    for (const r of runs) {
      assert.deepEqual(await pool.getRun(r.id), { id: r.id, status: r.status, created_at: r.created_at, updated_at: r.updated_at, spec: json(r.spec), manifest: json(r.manifest) });
      assert.equal(await pool.resolveRunId(r.id.slice(0, 6)), r.id);

      // The plan: every planned sample with its sample, hashes and messages.
      const planned = rows(`SELECT rs.*, s.input, s.target, s.choices, s.metadata FROM run_samples rs JOIN samples s ON s.sample_hash = rs.sample_hash WHERE rs.run_id = ? ORDER BY rs.idx`, r.id);
      assert.equal(await pool.plannedCount(r.id), planned.length);
      assert.deepEqual(await collect(pool.iteratePlanned(r.id)), planned.map((p) => ({
        index: p.idx, prompt_hash: p.prompt_hash, target_hash: p.target_hash, content_hash: p.content_hash, messages: json(p.messages),
        sample: { id: p.sample_id, input: json(p.input), target: p.target, ...(p.choices ? { choices: json(p.choices) } : {}), metadata: json(p.metadata) },
      })));

      // Every attempt, every field (no transcript: single generations).
      const attempts = rows(`SELECT a.* FROM attempts a JOIN run_samples rs ON rs.run_id = a.run_id AND rs.sample_id = a.sample_id WHERE a.run_id = ? ORDER BY rs.idx, a.epoch`, r.id);
      assert.ok(attempts.length > 0);
      assert.deepEqual(await collect(pool.iterateAttempts(r.id)), attempts.map((a) => ({
        run_id: a.run_id, sample_id: a.sample_id, epoch: a.epoch, status: a.status, response: a.response, finish_reason: a.finish_reason, prompt_tokens: a.prompt_tokens,
        completion_tokens: a.completion_tokens, latency_ms: a.latency_ms, tries: a.tries, error: a.error, model_id: a.model_id, cache_key: a.cache_key,
        cached: a.cached === 1, meta: json(a.meta), transcript: null, measurement: null,
      })));
      const ok = attempts.filter((a) => a.status === 'ok');
      assert.deepEqual([...(await pool.completedKeys(r.id))].sort(), ok.map((a) => `${a.sample_id}\u0000${a.epoch}`).sort());
      if (ok.length) assert.equal((await pool.cacheLookup(ok[0]!.cache_key))!.response, ok[0]!.response);

      // Every measurement of every scorer.
      const scorers = rows(`SELECT DISTINCT scorer FROM measurements WHERE run_id = ? ORDER BY scorer`, r.id).map((x) => x.scorer);
      assert.deepEqual(await pool.scorersOf(r.id), scorers);
      for (const sc of scorers) {
        const ms = rows(
          `SELECT m.*, a.finish_reason, a.status AS attempt_status FROM measurements m JOIN attempts a USING (run_id, sample_id, epoch)
           JOIN run_samples rs ON rs.run_id = m.run_id AND rs.sample_id = m.sample_id WHERE m.run_id = ? AND m.scorer = ? ORDER BY rs.idx, m.epoch`,
          r.id, sc,
        );
        assert.deepEqual(await collect(pool.iterateMeasurements(r.id, sc)), ms);
        assert.deepEqual((await collect(pool.iterateAttempts(r.id, sc))).map((a) => a.measurement), ms.map(({ finish_reason: _f, attempt_status: _s, ...m }) => m));
      }
      assert.deepEqual(await pool.counts(r.id), {
        attempts: attempts.length, ok: ok.length, error: attempts.length - ok.length, measurements: rows(`SELECT 1 FROM measurements WHERE run_id = ?`, r.id).length,
      });
    }
    assert.equal(rows(`SELECT 1 FROM attempts`).length, 23);
    assert.equal(rows(`SELECT 1 FROM measurements`).length, 33);

    // Imported measurements, their samples, the source and the saved selection.
    const sources = rows(`SELECT * FROM pool_sources ORDER BY imported_at, id`);
    assert.deepEqual(await pool.sources(), sources.map((s) => ({ ...s, options: json(s.options) })));
    const imported = rows(`SELECT * FROM pool_measurements ORDER BY source, slice, model, opponent, sample_key, rep`);
    assert.equal(imported.length, 6);
    assert.deepEqual(await collect(pool.iteratePoolMeasurements({ runs: false })), imported.map((m) => ({ ...m, direction: m.direction < 0 ? -1 : 1 })));
    assert.deepEqual(await collect(pool.iteratePoolSamples({ runs: false })), rows(`SELECT * FROM pool_samples ORDER BY key`).map((s) => ({ ...s, tags: json(s.tags), metadata: json(s.metadata) })));
    const [sel] = rows(`SELECT * FROM pool_selections`);
    assert.deepEqual(await pool.getSelection(sel!.hash), { hash: sel!.hash, query: sel!.query, filters: json(sel!.filters), limit: sel!.lim, created_at: sel!.created_at, sample_keys: json(sel!.sample_keys) });
    // The runs take part in the pool as before: their samples and binary measurements.
    assert.ok((await collect(pool.iteratePoolMeasurements({ imported: false }))).length > 0);
    assert.equal((await collect(pool.iteratePoolSamples())).length, 3 + rows(`SELECT DISTINCT content_hash FROM samples`).length);

    // What the new schema adds works on the migrated file.
    const [run] = runs;
    await pool.write({ ...(await collect(pool.iterateAttempts(run!.id)))[0]!, transcript: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }, []);
    assert.deepEqual((await collect(pool.iterateAttempts(run!.id)))[0]!.transcript, [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }]);
    await pool.putTask({ id: 't@1', name: 't', version: '1', hash: 'h', definition: {}, created_at: 'now' });
    assert.equal((await pool.listTasks()).length, 1);
    // ... and so do run leases (version 4).
    assert.equal((await pool.acquireLease(run!.id, { id: 'me' }, 10_000)).acquired, true);
    assert.equal((await pool.listRuns()).find((r) => r.id === run!.id)!.lease?.owner, 'me');
    // ... and evidence chains (version 5): a run made before chaining is chained from its first write on: link 0 is
    // the run, then the records it held then are adopted (its attempts, then its measurements), then the attempt
    // written above.
    const links = await collect(pool.iterateChain(run!.id));
    const heldA = rows(`SELECT count(*) AS n FROM attempts WHERE run_id = ?`, run!.id)[0]!.n as number;
    const heldM = rows(`SELECT count(*) AS n FROM measurements WHERE run_id = ?`, run!.id)[0]!.n as number;
    assert.ok(heldA > 0 && heldM > 0);
    assert.deepEqual(links.map((l) => [l.seq, l.kind]), [
      [0, 'run'], ...Array.from({ length: heldA }, (_, i) => [1 + i, 'attempt']), ...Array.from({ length: heldM }, (_, i) => [1 + heldA + i, 'measurement']), [1 + heldA + heldM, 'attempt'],
    ]);
    // ... and the image store (version 6): an image is stored once and read back intact.
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('pixels')]);
    const image = { sha256: createHash('sha256').update(png).digest('hex'), mime_type: 'image/png' as const, bytes: png };
    assert.equal(await pool.putImage(image), true);
    assert.equal(await pool.putImage(image), false);
    assert.ok(Buffer.from((await pool.getImage(image.sha256))!.bytes).equals(png));
    assert.deepEqual(await pool.imageStats(), { images: 1, bytes: png.length });
  } finally {
    await pool.close();
  }
  const db = new Database(file, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(SCHEMA_VERSION, 10);
  db.close();
  // Opening again changes nothing.
  const again = await openPool(file);
  assert.equal((await again.listRuns()).length, 3);
  await again.close();
});

test('the migrated schema is the schema of a new pool', async () => {
  const migrated = v2File('schema.sqlite');
  await (await openPool(migrated)).close();
  const fresh = join(dir, 'fresh.sqlite');
  await (await openPool(fresh, { create: true })).close();
  const schemaOf = (file: string) => {
    const db = new Database(file, { readonly: true });
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[];
    const out = Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY name`).all(t)]));
    const indexes = db.prepare(`SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' ORDER BY name`).all();
    db.close();
    return { out, indexes };
  };
  assert.deepEqual(schemaOf(migrated), schemaOf(fresh));
});

test('a schema-7 pool (a chain link per row) migrates to chain segments: the same links, and the run still verifies', async () => {
  const { verifyRun } = await import('../../src/evidence/bundle.ts');
  const { attemptOf, measurementOf, plan, runOf, sampleOf } = await import('./conformance.ts');
  const file = join(dir, 'v7-chain.sqlite');
  const pool = await openPool(file, { create: true });
  await pool.ensureRun(runOf('run-c'), plan([sampleOf(0), sampleOf(1)]));
  for (let s = 0; s < 2; s++) for (let e = 0; e < 2; e++) await pool.write(attemptOf('run-c', `s${s}`, e), [measurementOf('run-c', `s${s}`, e, 'exact', s)]);
  // A failed attempt replaced by an ok one: its link stays in the chain, written again after the first.
  await pool.write({ ...attemptOf('run-c', 's0', 2), status: 'error', response: null, error: 'timeout' }, []);
  await pool.write(attemptOf('run-c', 's0', 2), [measurementOf('run-c', 's0', 2, 'exact', 1)]);
  const links: unknown[] = [];
  for await (const l of pool.iterateChain('run-c')) links.push(l);
  await pool.close();
  assert.equal(links.length, 1 + 4 * 2 + 1 + 2);
  // The same pool as schema 7 stored it: one row per link in chain_links.
  const db = new Database(file);
  db.exec(`CREATE TABLE chain_links (
     run_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, sample_id TEXT, epoch INTEGER, scorer TEXT, status TEXT,
     record_hash TEXT NOT NULL, chain TEXT NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID`);
  const ins = db.prepare(`INSERT INTO chain_links VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  for (const l of links as { run_id: string; seq: number; kind: string; sample_id: string | null; epoch: number | null; scorer: string | null; status: string | null; record_hash: string; chain: string }[]) {
    ins.run(l.run_id, l.seq, l.kind, l.sample_id, l.epoch, l.scorer, l.status, l.record_hash, l.chain);
  }
  db.exec(`DROP TABLE chain_segments; PRAGMA user_version = 7;`);
  db.close();
  const migrated = await openPool(file);
  try {
    const again: unknown[] = [];
    for await (const l of migrated.iterateChain('run-c')) again.push(l);
    assert.deepEqual(again, links);
    assert.equal((await migrated.chainHead('run-c'))!.seq, links.length - 1);
    const r = await verifyRun(migrated, 'run-c');
    assert.equal(r.status, 'unsigned', JSON.stringify(r.first));
  } finally {
    await migrated.close();
  }
  const check = new Database(file, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal((check.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'chain_links'`).get() as { n: number }).n, 0);
  check.close();
});
