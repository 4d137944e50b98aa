/**
 * What only the SQLite pool has: the batching writer (by size and by timer, seen from a second connection), WAL,
 * the schema version check, and `openPool`'s addresses and errors. Every behaviour of the interface itself is in the
 * conformance suite (conformance.ts).
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { openPool } from '../../src/store/open.ts';
import { SCHEMA_VERSION, openSqlitePool } from '../../src/store/sqlite.ts';
import { attemptOf, measurementOf, plan, runOf, sampleOf } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Attempts stored in the file, as another connection sees them. */
function storedAttempts(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT COUNT(*) FROM attempts`).pluck().get() as number;
  } finally {
    db.close();
  }
}

test('the batching writer commits a batch when it is full, and queued rows after its timer', async () => {
  const file = join(dir, 'batch.sqlite');
  const pool = openSqlitePool(file, { batchSize: 4, flushIntervalMs: 30 });
  await pool.ensureRun(runOf('run1'), plan([sampleOf(0), sampleOf(1)]));
  await pool.write(attemptOf('run1', 's0', 0), [measurementOf('run1', 's0', 0, 'exact', 1)]);
  assert.equal(storedAttempts(file), 0); // queued: 2 rows of 4
  await pool.write(attemptOf('run1', 's0', 1), [measurementOf('run1', 's0', 1, 'exact', 0)]);
  assert.equal(storedAttempts(file), 2); // full batch committed
  await pool.write(attemptOf('run1', 's1', 0), []);
  assert.equal(storedAttempts(file), 2);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(storedAttempts(file), 3); // the timer flushed
  await pool.close();
});

test('a fresh pool file is in WAL mode at the current schema version (9: evidence chains stored a segment at a time), with a busy timeout of a minute', async () => {
  const file = join(dir, 'fresh.sqlite');
  await (await openPool(file, { create: true })).close();
  const db = new Database(file, { readonly: true });
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(SCHEMA_VERSION, 10);
  db.close();
  const { openSqliteDatabase } = await import('../../src/store/sqlite-connection.ts');
  const conn = openSqliteDatabase(file);
  assert.equal(conn.pragma('busy_timeout', { simple: true }), 60_000);
  conn.close();
});

test('a pool of a newer schema, or a file that is not a pool, is an InputError', async () => {
  const newer = join(dir, 'newer.sqlite');
  const db = new Database(newer);
  db.pragma('user_version = 99');
  db.close();
  await assert.rejects(openPool(newer), (e: unknown) => e instanceof InputError && /schema version 99 is newer/.test(e.message));
  const junk = join(dir, 'junk.sqlite');
  writeFileSync(junk, 'this is not a database, just text that is long enough to have a header of a hundred bytes or so.'.repeat(20));
  await assert.rejects(openPool(junk), (e: unknown) => e instanceof InputError && /cannot open the pool/.test(e.message) && e.message.includes(junk));
});

test('openPool: addresses memory:, sqlite:<path>, sqlite://<path>, a plain path, sqlite::memory:', async () => {
  const mem = await openPool('memory:');
  assert.equal(mem.url, 'memory:');
  await mem.close();
  const sm = await openPool('sqlite::memory:');
  assert.equal(sm.url, 'sqlite::memory:');
  await sm.close();
  const file = join(dir, 'addr', 'p.sqlite');
  for (const url of [`sqlite:${file}`, `sqlite://${file}`, file]) {
    const p = await openPool(url, { create: true });
    assert.equal(p.url, `sqlite:${resolve(file)}`);
    await p.ensureRun(runOf(`run-${url.length}`), plan([sampleOf(0)]));
    await p.close();
  }
  const p = await openPool(`sqlite:${file}`);
  assert.equal((await p.listRuns()).length, 3);
  await p.close();
});

test('openPool errors: a missing file without create, a directory, a PostgreSQL server that is not there, an unknown scheme', async () => {
  const missing = join(dir, 'missing', 'pool.sqlite');
  await assert.rejects(openPool(missing), (e: unknown) => e instanceof InputError && e.message === `${missing}: no pool here (run \`assay quickstart\` or \`assay run\` first, or pass --pool <file>)`);
  await assert.rejects(openPool(`sqlite:${missing}`), InputError);
  const folder = join(dir, 'a-folder');
  mkdirSync(folder);
  await assert.rejects(openPool(folder), (e: unknown) => e instanceof InputError && /is a directory/.test(e.message));
  // Port 1 on the loopback: nothing listens there. The error names host:port, never the password.
  await assert.rejects(openPool('postgres://user:s3cret@127.0.0.1:1/assay'), (e: unknown) => e instanceof InputError && e.message === 'field "pool": cannot connect to PostgreSQL at 127.0.0.1:1: connection refused (is the server running, and listening there?)');
  await assert.rejects(openPool('postgresql://127.0.0.1:1/assay', { create: true }), (e: unknown) => e instanceof InputError && /PostgreSQL at 127\.0\.0\.1:1/.test(e.message));
  await assert.rejects(openPool('mysql://localhost/assay'), (e: unknown) => e instanceof InputError && /unknown pool address/.test(e.message));
  await assert.rejects(openPool('sqlite:'), InputError);
});

test('a write whose batch cannot be stored is reported by the next write or flush, and its rows are kept for a retry', async () => {
  const file = join(dir, 'locked.sqlite');
  const pool = openSqlitePool(file, { batchSize: 1000, flushIntervalMs: 10_000 });
  await pool.ensureRun(runOf('run1'), plan([sampleOf(0)]));
  // A failing store (a full disk, say), simulated by a trigger that another connection puts on the file.
  const other = new Database(file);
  other.exec(`CREATE TRIGGER block BEFORE INSERT ON attempts BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;`);
  await pool.write(attemptOf('run1', 's0', 0), []);
  await assert.rejects(pool.flush(), /disk on fire/);
  other.exec(`DROP TRIGGER block`);
  other.close();
  await pool.flush();
  assert.equal((await pool.counts('run1')).attempts, 1);
  await pool.close();
});
