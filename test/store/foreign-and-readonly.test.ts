/**
 * Opening pool files that Assay must not, or cannot, write:
 * - another program's SQLite database is refused with one line naming the file, and left byte for byte as it was;
 *   an empty file or a new path still becomes a pool;
 * - a read-only open (the commands that only read) never writes, and a write through it says the pool is read-only;
 *   a pool this user may not write (mode 644, someone else's folder) is read by `assay runs` and `assay stats`;
 * - a full disk mid-run: a one-line error naming the file and "disk full", the run marked failed, and the next run
 *   resumes it.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { InputError, RunError } from '../../src/core/errors.ts';
import { getTemplate } from '../../src/core/templates.ts';
import { executeRun, type RunOptions } from '../../src/runner/run.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { openPool } from '../../src/store/open.ts';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../src/store/sqlite-connection.ts';
import { openSqlitePool } from '../../src/store/sqlite.ts';
import type { Pool } from '../../src/store/types.ts';
import { attemptOf, measurementOf, plan, runOf, sampleOf } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-foreign-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const repo = resolve(import.meta.dirname, '../..');

const md5 = (file: string) => createHash('md5').update(readFileSync(file)).digest('hex');

/** A SQLite file made by another program with `sql`. */
function foreign(name: string, sql: string, pragmas: string[] = []): string {
  const file = join(dir, name);
  const db = new Database(file);
  for (const p of pragmas) db.pragma(p);
  db.exec(sql);
  db.close();
  return file;
}

const refusal = (file: string) => (e: unknown) =>
  e instanceof InputError && e.message.startsWith(`${file}: is not an Assay pool (`) && /nothing was written/.test(e.message) && !e.message.includes('\n');

test("another program's SQLite database is refused untouched, however it is opened", async () => {
  const file = foreign('other.sqlite', 'create table runs(x); insert into runs values(1); create table notes(t);');
  const before = md5(file);
  for (const opts of [{}, { create: true }, { readonly: true }]) {
    await assert.rejects(openPool(file, opts), refusal(file));
    await assert.rejects(openPool(`sqlite:${file}`, opts), refusal(file));
  }
  assert.equal(md5(file), before, 'not a byte written');
  assert.deepEqual(readdirNames(file), ['other.sqlite'], 'no -wal or -shm left beside it');
  const db = new Database(file, { readonly: true });
  assert.deepEqual(db.prepare(`SELECT name FROM sqlite_master ORDER BY name`).pluck().all(), ['notes', 'runs']);
  assert.equal(db.pragma('user_version', { simple: true }), 0);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'delete');
  db.close();
});

function readdirNames(file: string): string[] {
  return ['', '-wal', '-shm', '-journal'].filter((s) => existsSync(file + s)).map((s) => file.split('/').pop() + s);
}

test('a schema version without its tables or columns, or another program\'s application id, is not a pool either', async () => {
  // user_version 3, but not Assay's tables
  const v3 = foreign('v3.sqlite', 'create table runs(id text primary key, status text); create table attempts(x);', ['user_version = 3']);
  // Assay's v4 tables except one column
  const fresh = join(dir, 'fresh-for-copy.sqlite');
  await (await openPool(fresh, { create: true })).close();
  const noColumn = join(dir, 'no-column.sqlite');
  writeFileSync(noColumn, readFileSync(fresh));
  const db = new Database(noColumn);
  db.exec('ALTER TABLE runs DROP COLUMN manifest');
  db.close();
  // another program's mark
  const marked = foreign('marked.sqlite', 'create table t(x);', ['application_id = 1234']);
  for (const [file, why] of [[v3, /schema version 3 but table "runs" lacks columns created_at, updated_at, spec, manifest/], [noColumn, /table "runs" lacks column manifest/], [marked, /another program's application id, 0x4d2/]] as const) {
    const before = md5(file);
    await assert.rejects(openPool(file), (e: unknown) => refusal(file)(e) && why.test((e as Error).message));
    assert.equal(md5(file), before);
  }
});

test('an empty file or a new path still becomes a pool, marked as Assay\'s', async () => {
  const empty = join(dir, 'empty.sqlite');
  writeFileSync(empty, '');
  await (await openPool(empty)).close();
  const fresh = join(dir, 'sub', 'new.sqlite');
  await (await openPool(fresh, { create: true })).close();
  for (const file of [empty, fresh]) {
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('application_id', { simple: true }), APPLICATION_ID);
    db.close();
  }
  // Read-only, an empty file is no pool yet (nothing to read, and nothing is written).
  const empty2 = join(dir, 'empty2.sqlite');
  writeFileSync(empty2, '');
  await assert.rejects(openPool(empty2, { readonly: true }), (e: unknown) => e instanceof InputError && e.message === `${empty2}: holds no pool yet (an empty database)`);
  assert.equal(readFileSync(empty2).length, 0);
  // Read-only never creates a file.
  await assert.rejects(openPool(join(dir, 'missing.sqlite'), { readonly: true, create: true }), /no pool here/);
  assert.equal(existsSync(join(dir, 'missing.sqlite')), false);
});

/** A pool file with one run of two planned samples and one attempt, closed (its WAL checkpointed and removed). */
async function poolWithRun(name: string): Promise<string> {
  const file = join(dir, name);
  const pool = await openPool(file, { create: true });
  await pool.ensureRun(runOf('run-1'), plan([sampleOf(0), sampleOf(1)]));
  await pool.write(attemptOf('run-1', 's0', 0), [measurementOf('run-1', 's0', 0, 'exact', 1)]);
  await pool.setRunStatus('run-1', 'complete');
  await pool.close();
  return file;
}

test('a read-only open reads the pool and never writes; a write through it says so, naming the file', async () => {
  const file = await poolWithRun('ro.sqlite');
  const before = md5(file);
  const pool = await openPool(file, { readonly: true });
  try {
    assert.deepEqual((await pool.listRuns()).map((r) => [r.id, r.status, r.samples, r.attempts]), [['run-1', 'complete', 2, 1]]);
    assert.equal((await pool.counts('run-1')).attempts, 1);
    // a read that stages its keys in a TEMP table works read-only too
    const keys: string[] = [];
    for await (const s of pool.iteratePoolSamples()) keys.push(s.key);
    assert.equal(keys.length, 2);
    const m: unknown[] = [];
    for await (const x of pool.iteratePoolMeasurements({ sampleKeys: keys })) m.push(x);
    const readOnly = (e: unknown) => e instanceof InputError && e.message.startsWith(`${file}: cannot write to the pool: it is open read-only`) && !e.message.includes('\n');
    await assert.rejects(pool.setRunStatus('run-1', 'failed'), readOnly);
    await assert.rejects(pool.ensureRun(runOf('run-2'), plan([sampleOf(3)])), readOnly);
    await assert.rejects((async () => {
      await pool.write(attemptOf('run-1', 's1', 0), []);
      await pool.flush();
    })(), readOnly);
    assert.equal((await pool.getRun('run-1'))!.status, 'complete');
  } finally {
    await pool.close().catch(() => {});
  }
  assert.equal(md5(file), before, 'not a byte written');
});

test('a read-only open of a pool from an older release migrates it first (when it may be written), then reads it', async () => {
  const file = join(dir, 'v2.sqlite');
  const db = new Database(file);
  db.exec(readFileSync(new URL('../fixtures/pool-v2.sql', import.meta.url), 'utf8'));
  db.close();
  const pool = await openPool(file, { readonly: true });
  assert.equal((await pool.listRuns()).length, 3);
  await pool.close();
  const after = new Database(file, { readonly: true });
  assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  after.close();
});

const asRoot = process.getuid?.() === 0 && spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0;

test('a pool this user may only read (mode 644 in a folder it may not write): runs and stats read it; a write says read-only', { skip: !asRoot && 'needs root and runuser' }, async () => {
  const folder = join(dir, 'theirs');
  mkdirSync(folder);
  const file = await poolWithRun('theirs/pool.sqlite');
  assert.equal(existsSync(`${file}-shm`), false, 'closed cleanly: no -shm, which nobody cannot create here');
  chmodSync(dir, 0o755);
  chmodSync(folder, 0o755);
  chmodSync(file, 0o644);
  const before = md5(file);
  const asNobody = (...args: string[]) =>
    spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '--import', 'tsx', ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, HOME: dir, ASSAY_POOL: '' } });

  const runs = asNobody('src/cli/main.ts', 'runs', '--pool', file, '--json');
  assert.equal(runs.status, 0, runs.stderr);
  assert.deepEqual(JSON.parse(runs.stdout).runs.map((r: { id: string; status: string }) => [r.id, r.status]), [['run-1', 'complete']]);
  const stats = asNobody('src/cli/main.ts', 'stats', 'run-1', '--pool', file, '--json');
  assert.equal(stats.status, 0, stats.stderr);
  assert.equal(JSON.parse(stats.stdout).run.id, 'run-1');

  // The library opens it read-only even when not asked to; a write is a clear error naming the file.
  const script = `
    import { openPool } from ${JSON.stringify(join(repo, 'src/store/open.ts'))};
    const pool = await openPool(${JSON.stringify(file)});
    console.log((await pool.listRuns()).length);
    try { await pool.setRunStatus('run-1', 'failed'); } catch (e) { console.log(e.message); }
    await pool.close();`;
  const lib = asNobody('--input-type=module', '-e', script);
  assert.equal(lib.status, 0, lib.stderr);
  const [count, message] = lib.stdout.trim().split('\n');
  assert.equal(count, '1');
  assert.match(message!, new RegExp(`^${file.replace(/[.]/g, '\\.')}: cannot write to the pool: it is open read-only`));
  assert.equal(md5(file), before, 'not a byte written');
  assert.deepEqual(readdirNames(file), ['pool.sqlite']);
});

test('a full disk mid-run: one line naming the file and "disk full", the run marked failed; the next run resumes it', async () => {
  const file = join(dir, 'full.sqlite');
  const pool: Pool = openSqlitePool(file, { batchSize: 4 });
  const samples = Array.from({ length: 40 }, (_, i) => ({ id: `s${i}`, input: `question ${i} ${'x'.repeat(200)}`, target: String(i), metadata: {} }));
  const o: RunOptions = {
    pool, dataset: { ref: 'jsonl:q.jsonl', name: 'q', hash: 'h-q', path: null, samples }, template: getTemplate('plain'), model: 'reference:oracle',
    config: { chat_template: true }, epochs: 4, scorers: [createScorer('exact')], concurrency: 2,
  };
  // Plan the run, then let the file grow no further: the attempts cannot be stored.
  const ac = new AbortController();
  ac.abort();
  const { run_id: runId } = await executeRun({ ...o, signal: ac.signal });
  const db = (pool as unknown as { db: Database.Database }).db;
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);

  await assert.rejects(executeRun(o), (e: unknown) => {
    assert.ok(e instanceof RunError, String(e));
    assert.ok(e.message.startsWith(`${file}: disk full — `), e.message);
    assert.match(e.message, /database or disk is full/);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
  const run = await pool.getRun(runId);
  assert.equal(run!.status, 'failed', 'marked failed: that small write still fits');
  // What `assay runs` shows meanwhile (another process, read-only): failed, held by no one.
  const reader = await openPool(file, { readonly: true });
  assert.deepEqual((await reader.listRuns()).map((x) => [x.id, x.status, x.lease]), [[runId, 'failed', null]]);
  await reader.close();
  assert.equal(await pool.getLease(runId), null, 'the lease is given up');

  // Space again: the same run resumes and completes.
  db.pragma('max_page_count = 1073741823');
  const r = await executeRun(o);
  assert.equal(r.run_id, runId);
  assert.equal(r.status, 'complete');
  assert.equal(r.counts.ok, 160);
  await pool.close();
});
