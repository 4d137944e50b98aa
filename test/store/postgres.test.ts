/**
 * The PostgreSQL pool (src/store/postgres.ts) on a real, throw-away PostgreSQL server (testkit/postgres.ts): the pool
 * conformance suite unchanged, then what only a shared server has — two processes writing the same attempts at once,
 * lease contention between two handles, reopening, and databases that are not (yet) pools.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { InputError } from '../../src/core/errors.ts';
import { openPool } from '../../src/store/open.ts';
import { decodeText, encodeText } from '../../src/store/postgres.ts';
import { PG_SCHEMA_VERSION } from '../../src/store/postgres-schema.ts';
import type { Pool } from '../../src/store/types.ts';
import { freshDatabase, postgresUnavailable } from '../../testkit/postgres.ts';
import { attemptOf, measurementOf, plan, runOf, sampleOf, testPool } from './conformance.ts';

const skip = postgresUnavailable();
const WRITER = fileURLToPath(new URL('./postgres-writer.ts', import.meta.url));

/** Rows of `sql` on the database at `url`, read with a plain client (not through the pool). */
async function sql(url: string, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows;
  } finally {
    await c.end();
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function child(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  return new Promise((res) => p.on('close', (code) => res({ code, out, err })));
}

if (skip) it('PostgreSQL pool', { skip }, () => {});
else {
  // Each test a new pool: a schema of its own in one database (a new database per test costs a copy of the template).
  let suiteDb: Promise<string> | null = null;
  let n = 0;
  testPool('postgres', async () => openPool(`${await (suiteDb ??= freshDatabase())}?schema=pool_${++n}`, { create: true }), { reopen: (url) => openPool(url) });

  describe('PostgreSQL pool: shared by processes', () => {
    it('two processes create the same pool and run and write the same attempts at once: each stored once, an ok never replaced by a failure', async () => {
      const url = await freshDatabase();
      const N = 300, E = 2;
      const [a, b] = await Promise.all([child([WRITER, url, 'A', String(N), String(E)]), child([WRITER, url, 'B', String(N), String(E)])]);
      assert.equal(a.code, 0, a.err);
      assert.equal(b.code, 0, b.err);
      const [raw] = await sql(url, `SELECT COUNT(*)::int AS n, COUNT(DISTINCT (sample_id, epoch))::int AS keys FROM assay.attempts`);
      assert.deepEqual(raw, { n: N * E, keys: N * E });
      assert.deepEqual(await sql(url, `SELECT COUNT(*)::int AS n FROM assay.runs`), [{ n: 1 }]);
      assert.deepEqual(await sql(url, `SELECT MAX(version)::int AS version FROM assay.assay_migrations`), [{ version: PG_SCHEMA_VERSION }]);
      await using pool = await openPool(url, { readonly: true });
      assert.deepEqual(await pool.counts('shared'), { attempts: N * E, ok: N * E, error: 0, measurements: N * E });
      assert.equal(await pool.plannedCount('shared'), N);
      const rows = await collect(pool.iterateAttempts('shared', 'exact'));
      assert.equal(rows.length, N * E);
      for (const r of rows) {
        const i = Number(r.sample_id.slice(1));
        // Where B failed, A's ok attempt stands, whichever came last; elsewhere either process's answer.
        if ((i + r.epoch) % 5 === 0) assert.equal(r.response, `A s${i}/${r.epoch}`);
        else assert.match(r.response!, new RegExp(`^[AB] s${i}/${r.epoch}$`));
        assert.deepEqual([r.status, r.measurement?.status, r.measurement?.value], ['ok', 'ok', 1]);
      }
    });

    it('lease contention between two handles: one holder at a time, taken over only once lapsed, atomically', async () => {
      const url = await freshDatabase();
      await using p1 = await openPool(url, { create: true });
      await using p2 = await openPool(url);
      await p1.ensureRun(runOf('run-l'), plan([sampleOf(0)]));
      const race = async (prefix: string) => Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? p1 : p2).acquireLease('run-l', { id: `${prefix}${i}`, pid: i }, 60_000)));
      const first = await race('h');
      const winners = first.filter((r) => r.acquired);
      assert.equal(winners.length, 1);
      const owner = winners[0]!.lease.owner;
      assert.ok(first.every((r) => r.lease.owner === owner), 'the refused are told who holds it');
      const other = owner === 'h0' ? 'h1' : 'h0';
      assert.equal(await p1.renewLease('run-l', other, 60_000), false);
      assert.equal(await p2.renewLease('run-l', owner, 60_000), true);
      // Manifest patches from both handles at once: all kept.
      await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? p1 : p2).updateManifest('run-l', (m) => ({ ...m, provider: { ...m.provider, reported_model_ids: [...m.provider.reported_model_ids, `id${i}`] } }))));
      assert.equal((await p1.getRun('run-l'))!.manifest.provider.reported_model_ids.length, 12);
      // The holder lets it lapse; sixteen try to take it over at once: one does, and the old holder learns it lost it.
      assert.equal((await p1.acquireLease('run-l', { id: owner }, 1)).acquired, true);
      await new Promise((r) => setTimeout(r, 10));
      const second = (await race('g')).filter((r) => r.acquired);
      assert.equal(second.length, 1);
      assert.match(second[0]!.lease.owner, /^g/);
      assert.equal(await p1.renewLease('run-l', owner, 60_000), false);
      assert.equal((await p2.getLease('run-l'))!.owner, second[0]!.lease.owner);
    });

    it('reopened after close, the pool has everything; a read-only handle reads it and refuses to write', async () => {
      const url = await freshDatabase();
      const p = await openPool(url, { create: true });
      await p.ensureRun(runOf('run-a'), plan([sampleOf(0), sampleOf(1)]));
      await p.write(attemptOf('run-a', 's0', 0), [measurementOf('run-a', 's0', 0, 'exact', 1)]);
      await p.write(attemptOf('run-a', 's1', 0, { status: 'error' }), [measurementOf('run-a', 's1', 0, 'exact', null)]);
      const tx = await p.beginImport({ format: 'csv', file: 'r.csv', sha256: 'c'.repeat(64) });
      await tx.addSample({ key: 'd/q1', dataset: 'd', sample_id: 'q1', category: null, tags: [], text: 'x', content_hash: null, metadata: {} });
      await tx.addMeasurement({ slice: '', sample_key: 'd/q1', model: 'm', opponent: '', rep: 0, kind: 'binary', value: 1, direction: 1, tie_tolerance: 0, weight: 1, line: 2 });
      await tx.commit({ measurements: 1, samples: 1 });
      await p.close(); // queued writes are stored by close
      const ro = await openPool(url, { readonly: true });
      try {
        assert.deepEqual(await ro.counts('run-a'), { attempts: 2, ok: 1, error: 1, measurements: 2 });
        assert.equal((await ro.sources())[0]!.id, 'csv:cccccccccccc');
        assert.equal((await ro.listRuns())[0]!.id, 'run-a');
        const readOnly = (e: unknown) => e instanceof InputError && /read-only/.test(e.message);
        await assert.rejects(ro.write(attemptOf('run-a', 's1', 1), []), readOnly);
        await assert.rejects(ro.ensureRun(runOf('run-b'), plan([sampleOf(0)])), readOnly);
        await assert.rejects(ro.beginImport({ format: 'csv', file: 'r.csv', sha256: 'd'.repeat(64) }), readOnly);
        await assert.rejects(ro.acquireLease('run-a', { id: 'x' }, 1000), readOnly);
      } finally {
        await ro.close();
      }
      assert.deepEqual(await sql(url, `SELECT COUNT(*)::int AS n FROM assay.attempts`), [{ n: 2 }]);
    });

    it('free text PostgreSQL cannot hold (NUL) round-trips, and so does text that looks escaped', async () => {
      for (const s of ['plain', 'a\u0000b', '\u0001"x"', '\u0001', '', 'é\u{1F600}']) assert.equal(decodeText(encodeText(s)), s);
      assert.equal(encodeText('plain'), 'plain', 'ordinary text is stored as it is');
      await using pool = await openPool(await freshDatabase(), { create: true });
      await pool.ensureRun(runOf('run-a'), plan([sampleOf(0, { target: 'one\u0000two' })]));
      const a = attemptOf('run-a', 's0', 0, { response: 'bad\u0000bytes', error: '\u0001 not json' });
      await pool.write(a, [{ ...measurementOf('run-a', 's0', 0, 'exact', 0), extracted: '\u0000', explanation: 'why\u0000' }]);
      const [got] = await collect(pool.iterateAttempts('run-a', 'exact'));
      assert.equal(got!.response, 'bad\u0000bytes');
      assert.equal(got!.error, '\u0001 not json');
      assert.deepEqual([got!.measurement!.extracted, got!.measurement!.explanation], ['\u0000', 'why\u0000']);
      assert.equal((await collect(pool.iteratePlanned('run-a')))[0]!.sample.target, 'one\u0000two');
      assert.equal((await pool.cacheLookup(a.cache_key))!.response, 'bad\u0000bytes');
    });
  });

  describe('PostgreSQL pool: opening', () => {
    it('pools in one database, one schema each (?schema=): apart, each found again by its url', async () => {
      const db = await freshDatabase();
      const [a, b] = [await openPool(`${db}?schema=team_a`, { create: true }), await openPool(`${db}?schema=team_b`, { create: true })];
      try {
        await a.ensureRun(runOf('run-a'), plan([sampleOf(0)]));
        await b.ensureRun(runOf('run-b'), plan([sampleOf(0)]));
        // The same lease in both: apart (advisory locks are per pool too).
        await a.ensureRun(runOf('same'), plan([sampleOf(0)]));
        await b.ensureRun(runOf('same'), plan([sampleOf(0)]));
        assert.equal((await a.acquireLease('same', { id: 'x' }, 60_000)).acquired, true);
        assert.equal((await b.acquireLease('same', { id: 'y' }, 60_000)).acquired, true);
        assert.deepEqual((await a.listRuns()).map((r) => r.id), ['run-a', 'same']);
        assert.match(b.url, /\?schema=team_b$/);
        await using again = await openPool(b.url, { readonly: true });
        assert.deepEqual((await again.listRuns()).map((r) => r.id), ['run-b', 'same']);
      } finally {
        await a.close();
        await b.close();
      }
      await assert.rejects(openPool(`${db}?schema=team_c`), (e: unknown) => e instanceof InputError && /no "team_c" schema/.test(e.message));
      await assert.rejects(openPool(`${db}?schema=Bad-Name`, { create: true }), (e: unknown) => e instanceof InputError && /not a plain lowercase name/.test(e.message));
    });

    it('a database without a pool: refused unless create (nothing written), then initialised beside what it holds', async () => {
      const url = await freshDatabase();
      await sql(url, `CREATE TABLE public.other (x int); INSERT INTO public.other VALUES (1)`);
      const none = (e: unknown) => e instanceof InputError && /holds no Assay pool yet/.test(e.message);
      await assert.rejects(openPool(url), none);
      await assert.rejects(openPool(url, { readonly: true }), none);
      await assert.rejects(openPool(url, { create: true, readonly: true }), none);
      assert.deepEqual(await sql(url, `SELECT 1 FROM pg_namespace WHERE nspname = 'assay'`), [], 'no schema created');
      // Two processes creating it at once: one schema, each version applied once.
      const [a, b] = await Promise.all([openPool(url, { create: true }), openPool(url, { create: true })]);
      await a.close();
      await b.close();
      assert.deepEqual(await sql(url, `SELECT version FROM assay.assay_migrations ORDER BY version`), Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })));
      assert.deepEqual(await sql(url, `SELECT x FROM public.other`), [{ x: 1 }]);
      await (await openPool(url)).close();
      // A version-1 pool (before the failed-attempts index) migrates in place on open.
      const failedIndex = `SELECT indexname FROM pg_indexes WHERE schemaname = 'assay' AND indexname = 'attempts_failed'`;
      assert.deepEqual(await sql(url, failedIndex), [{ indexname: 'attempts_failed' }]);
      await sql(url, `DROP INDEX assay.attempts_failed; DELETE FROM assay.assay_migrations WHERE version > 1`);
      await (await openPool(url)).close();
      assert.deepEqual(await sql(url, failedIndex), [{ indexname: 'attempts_failed' }]);
      assert.deepEqual(await sql(url, `SELECT MAX(version)::int AS version FROM assay.assay_migrations`), [{ version: PG_SCHEMA_VERSION }]);
    });

    it("another program's \"assay\" schema is refused untouched; a newer pool is refused; errors name host:port, never the password", async () => {
      const url = await freshDatabase();
      await sql(url, `CREATE SCHEMA assay; CREATE TABLE assay.notes (t text)`);
      for (const opts of [{}, { create: true }, { readonly: true }]) {
        await assert.rejects(openPool(url, opts), (e: unknown) => e instanceof InputError && /is not an Assay pool \(its "assay" schema holds a table \(notes\)/.test(e.message) && /nothing was written/.test(e.message));
      }
      assert.deepEqual(await sql(url, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'assay'`), [{ table_name: 'notes' }]);

      const newer = await freshDatabase();
      await (await openPool(newer, { create: true })).close();
      await sql(newer, `INSERT INTO assay.assay_migrations VALUES (${PG_SCHEMA_VERSION + 1}, 'later')`);
      await assert.rejects(openPool(newer), (e: unknown) => e instanceof InputError && e.message.endsWith(`pool schema version ${PG_SCHEMA_VERSION + 1} is newer than this Assay (${PG_SCHEMA_VERSION}); use a newer Assay`));

      const u = new URL(url);
      u.password = 'hunter2';
      u.pathname = '/no_such_db';
      await assert.rejects(openPool(u.toString()), (e: unknown) => e instanceof InputError && e.message.includes(`PostgreSQL at ${u.host}`) && /database "no_such_db" does not exist/.test(e.message) && !e.message.includes('hunter2'));
      // A server that accepts the password (trust authentication here): the pool's url leaves it out.
      const dbUrl = (await freshDatabase()).replace('//postgres@', '//postgres:hunter2@');
      const p: Pool = await openPool(dbUrl, { create: true });
      try {
        assert.ok(!p.url.includes('hunter2') && p.url.startsWith('postgres://postgres@'), p.url);
      } finally {
        await p.close();
      }
    });
  });
}
