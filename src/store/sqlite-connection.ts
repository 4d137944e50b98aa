/**
 * The SQLite pool's database: opening with WAL and migrating the schema, and the one connection-wide rule of
 * better-sqlite3 that the pool has to live with — a transaction belongs to the connection, not to a caller.
 *
 * Rows that must stay invisible until a caller commits (an import, a plan given as an async iterable) are staged in
 * TEMP tables, which readers of the pool's tables never see. Staged inserts run inside a transaction that is opened
 * lazily (`stage`) for speed and committed (`settle`) before any other statement of the pool runs, so that nothing
 * else — the batching writer above all — ever executes inside it. Committing staged rows only commits them to the
 * TEMP tables; the caller's own commit copies them into the pool in one transaction.
 */
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../core/errors.ts';

export const SCHEMA_VERSION = 10;

/**
 * How long a statement waits for another connection's lock before failing with SQLITE_BUSY, in ms. Set first on
 * every connection, before any other statement (the WAL switch and the migrations included): two processes on one
 * pool (two terminals, a script and a user) wait for each other instead of failing with "database is locked".
 */
export const BUSY_TIMEOUT_MS = 60_000;

/** Migration `i` takes the schema from version i to i + 1; each runs in one transaction with its version bump. */
const MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS runs (
     id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
     spec TEXT NOT NULL, manifest TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS samples (
     sample_hash TEXT PRIMARY KEY, content_hash TEXT NOT NULL, id TEXT NOT NULL, input TEXT NOT NULL, target TEXT NOT NULL,
     choices TEXT, metadata TEXT NOT NULL);
   CREATE INDEX IF NOT EXISTS samples_content_hash ON samples (content_hash);
   CREATE TABLE IF NOT EXISTS run_samples (
     run_id TEXT NOT NULL, sample_id TEXT NOT NULL, idx INTEGER NOT NULL, content_hash TEXT NOT NULL,
     sample_hash TEXT NOT NULL, prompt_hash TEXT NOT NULL, target_hash TEXT NOT NULL, messages TEXT NOT NULL,
     PRIMARY KEY (run_id, sample_id)) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS attempts (
     run_id TEXT NOT NULL, sample_id TEXT NOT NULL, epoch INTEGER NOT NULL, status TEXT NOT NULL,
     response TEXT, finish_reason TEXT NOT NULL, prompt_tokens INTEGER, completion_tokens INTEGER,
     latency_ms REAL NOT NULL, tries INTEGER NOT NULL, error TEXT, model_id TEXT, cache_key TEXT NOT NULL,
     cached INTEGER NOT NULL, meta TEXT, created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, sample_id, epoch));
   CREATE INDEX IF NOT EXISTS attempts_cache_key ON attempts (cache_key);
   CREATE TABLE IF NOT EXISTS measurements (
     run_id TEXT NOT NULL, sample_id TEXT NOT NULL, epoch INTEGER NOT NULL, scorer TEXT NOT NULL,
     kind TEXT NOT NULL, value REAL, extracted TEXT, explanation TEXT, status TEXT NOT NULL,
     PRIMARY KEY (run_id, sample_id, epoch, scorer)) WITHOUT ROWID;`,
  // 2: imported sample-level measurements, their samples and sources, saved selections.
  `CREATE TABLE IF NOT EXISTS pool_sources (
     id TEXT PRIMARY KEY, format TEXT NOT NULL, file TEXT NOT NULL, file_sha256 TEXT NOT NULL,
     imported_at TEXT NOT NULL, measurements INTEGER NOT NULL, samples INTEGER NOT NULL, options TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS pool_samples (
     key TEXT PRIMARY KEY, dataset TEXT NOT NULL, sample_id TEXT NOT NULL, category TEXT, tags TEXT NOT NULL,
     text TEXT, content_hash TEXT, metadata TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS pool_measurements (
     source TEXT NOT NULL, slice TEXT NOT NULL, sample_key TEXT NOT NULL, model TEXT NOT NULL, opponent TEXT NOT NULL,
     rep INTEGER NOT NULL, kind TEXT NOT NULL, value REAL NOT NULL, direction INTEGER NOT NULL, tie_tolerance REAL NOT NULL,
     weight REAL NOT NULL, line INTEGER,
     PRIMARY KEY (source, slice, model, opponent, sample_key, rep)) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS pool_selections (
     hash TEXT PRIMARY KEY, query TEXT NOT NULL, filters TEXT NOT NULL, lim INTEGER, created_at TEXT NOT NULL,
     sample_keys TEXT NOT NULL);`,
  // 3: one pool interface — multi-turn transcripts of attempts; task, model and eval-set metadata; run samples found
  // by content hash (the pool's view of a run's samples).
  `ALTER TABLE attempts ADD COLUMN transcript TEXT;
   CREATE INDEX IF NOT EXISTS run_samples_content_hash ON run_samples (content_hash);
   CREATE TABLE IF NOT EXISTS tasks (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, hash TEXT NOT NULL, definition TEXT NOT NULL,
     created_at TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS models (
     address TEXT PRIMARY KEY, kind TEXT NOT NULL, reported_model_ids TEXT NOT NULL, system_fingerprints TEXT NOT NULL,
     metadata TEXT NOT NULL, updated_at TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS eval_sets (
     id TEXT PRIMARY KEY, name TEXT, tasks TEXT NOT NULL, models TEXT NOT NULL, runs TEXT NOT NULL, spec TEXT NOT NULL,
     status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);`,
  // 4: run leases — one process runs a run at a time (src/store/types.ts, RunLease).
  `CREATE TABLE IF NOT EXISTS run_leases (
     run_id TEXT PRIMARY KEY, owner TEXT NOT NULL, pid INTEGER, host TEXT, acquired_at TEXT NOT NULL,
     heartbeat_at TEXT NOT NULL, expires_at TEXT NOT NULL) WITHOUT ROWID;`,
  // 5: evidence chains — each run's records hashed in write order, and signatures of the chain head (src/evidence/).
  `CREATE TABLE IF NOT EXISTS chain_links (
     run_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, sample_id TEXT, epoch INTEGER, scorer TEXT, status TEXT,
     record_hash TEXT NOT NULL, chain TEXT NOT NULL,
     PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS chain_signatures (
     run_id TEXT NOT NULL, seq INTEGER NOT NULL, head TEXT NOT NULL, key_id TEXT NOT NULL, public_key TEXT NOT NULL,
     signature TEXT NOT NULL, signed_at TEXT NOT NULL,
     PRIMARY KEY (run_id, seq, key_id)) WITHOUT ROWID;`,
  // 6: images — each image's bytes once, by the sha256 of the bytes (messages name them by hash). A rowid table: its
  // rows are large, which WITHOUT ROWID tables handle badly.
  `CREATE TABLE IF NOT EXISTS images (
     sha256 TEXT PRIMARY KEY, mime_type TEXT NOT NULL, size INTEGER NOT NULL, bytes BLOB NOT NULL, created_at TEXT NOT NULL);`,
  // 7: private held-out sets — items encrypted (the key is never here), and which endpoint saw which item when
  // (src/private/).
  `CREATE TABLE IF NOT EXISTS private_sets (
     name TEXT PRIMARY KEY, allow TEXT NOT NULL, key_id TEXT NOT NULL, content_mac TEXT NOT NULL, items INTEGER NOT NULL,
     created_at TEXT NOT NULL, source TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS private_items (
     set_name TEXT NOT NULL, idx INTEGER NOT NULL, id TEXT NOT NULL, canary TEXT NOT NULL, iv TEXT NOT NULL, tag TEXT NOT NULL,
     ciphertext TEXT NOT NULL, PRIMARY KEY (set_name, idx)) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS private_exposures (
     set_name TEXT NOT NULL, item_id TEXT NOT NULL, endpoint TEXT NOT NULL, run_id TEXT NOT NULL, epoch INTEGER NOT NULL, at TEXT NOT NULL);
   CREATE INDEX IF NOT EXISTS private_exposures_set ON private_exposures (set_name);`,
  // 8: a run's samples in plan order, so that keyset pages of its plan, attempts and measurements are read from an
  // index instead of sorting the whole run for every page (a 200k-attempt run: 1 ms a page instead of 150 ms).
  `CREATE INDEX IF NOT EXISTS run_samples_order ON run_samples (run_id, idx);`,
  // 9: evidence chains stored a segment at a time — the links one write batch commits for a run, as one row (a JSON
  // array of links, compact form in sqlite.ts SegmentLink) instead of a row per link: a run writes about two links per
  // attempt, and a row per link (200 bytes) cost the runner about a twentieth of its time. A rowid table: a link written
  // again (same run and seq) is read from the segment written last (the greatest rowid). Old links become one-link
  // segments in full form ([seq, kind, sample_id, epoch, scorer, status, record_hash, chain]).
  `CREATE TABLE chain_segments (
     run_id TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, links TEXT NOT NULL);
   CREATE INDEX chain_segments_first ON chain_segments (run_id, first_seq);
   CREATE INDEX chain_segments_last ON chain_segments (run_id, last_seq);
   INSERT INTO chain_segments (run_id, first_seq, last_seq, links)
     SELECT run_id, seq, seq, json_array(json_array(seq, kind, sample_id, epoch, scorer, status, record_hash, chain))
     FROM chain_links ORDER BY run_id, seq;
   DROP TABLE chain_links;`,
  // 10: a run's failed attempts indexed (a partial index: only attempts with status 'error', a few per hundred), so
  // that counting them (listRuns: the viewer's run list) reads the index instead of every attempt row of the run —
  // 280 ms to under 1 ms on a 200k-attempt run.
  `CREATE INDEX IF NOT EXISTS attempts_failed ON attempts (run_id) WHERE status = 'error';`,
];

/** The pool's mark in the SQLite header (`PRAGMA application_id`): "ASSY". Written when a pool is created or migrated. */
export const APPLICATION_ID = 0x41535359;

/** Options of {@link openSqliteDatabase}. */
export interface OpenDatabaseOptions {
  /**
   * Never write to the file: open it read-only (the commands that only read). A pool of the current schema is read
   * as it is; one of an older schema is migrated first when this user may write it (the upgrade any open of an older
   * pool makes), else an InputError says so. When the pool is in WAL mode, SQLite needs its `-shm` file: when that
   * file is absent and cannot be created (a directory this user may not write), the pool is read from a snapshot of
   * the file in memory (it must then have no write-ahead log waiting to be checkpointed).
   */
  readonly?: boolean;
}

/** SQLite error codes of a read-only open that only lacks the `-shm` file it cannot create. */
const NO_SHM = new Set(['SQLITE_CANTOPEN', 'SQLITE_READONLY_DIRECTORY', 'SQLITE_READONLY_CANTINIT', 'SQLITE_READONLY_CANTLOCK', 'SQLITE_READONLY_RECOVERY']);

const notAPool = (path: string, why: string) =>
  new InputError(`is not an Assay pool (${why}); nothing was written to it — give a pool file or a new path with --pool`, { file: path });

/** The tables and columns of a pool of schema `version` (cached), as the migrations make them. */
const expectedSchemas = new Map<number, Map<string, string[]>>();
function expectedSchema(version: number): Map<string, string[]> {
  let out = expectedSchemas.get(version);
  if (!out) {
    const mem = new Database(':memory:');
    try {
      for (let v = 0; v < version; v++) mem.exec(MIGRATIONS[v]!);
      out = tableColumns(mem);
    } finally {
      mem.close();
    }
    expectedSchemas.set(version, out);
  }
  return out;
}

function tableColumns(db: Database.Database): Map<string, string[]> {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`).pluck().all() as string[];
  return new Map(tables.map((t) => [t, db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(t) as string[]]));
}

/**
 * What the file holds, read without writing: its schema version (0: an empty database, nothing in it yet).
 * Errors (InputError naming the file): a newer schema; a database that is not an Assay pool — another program's
 * mark in the header, tables without an Assay schema version, or a schema version whose tables or columns are missing.
 */
function inspect(db: Database.Database, path: string): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw new InputError(`pool schema version ${version} is newer than this Assay (${SCHEMA_VERSION})`, { file: path });
  const appId = db.pragma('application_id', { simple: true }) as number;
  if (appId !== 0 && appId !== APPLICATION_ID) throw notAPool(path, `its header carries another program's application id, 0x${(appId >>> 0).toString(16)}`);
  const objects = db.prepare(`SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`).pluck().all() as string[];
  if (version === 0) {
    if (objects.length) throw notAPool(path, `it holds ${objects.length === 1 ? 'a table' : 'tables'} (${objects.slice(0, 5).join(', ')}${objects.length > 5 ? ', …' : ''}) but no Assay schema version`);
    return 0;
  }
  const actual = tableColumns(db);
  for (const [table, columns] of expectedSchema(version)) {
    const have = actual.get(table);
    if (!have) throw notAPool(path, `schema version ${version} but no table "${table}"`);
    const missing = columns.filter((c) => !have.includes(c));
    if (missing.length) throw notAPool(path, `schema version ${version} but table "${table}" lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  }
  return version;
}

/**
 * Page cache of a writable pool connection, in KiB. better-sqlite3 builds SQLite with a 16 MB default, which a growing
 * run fills page by page: the peak RSS of a 50k-attempt run crept up by about 20 MB over the run (bench/memory.ts).
 * A run's writes append to the end of the tables and their indexes, and the operating system's file cache serves the
 * pages read back, so 4 MB costs no throughput there.
 */
const PAGE_CACHE_KIB = 4000;

/**
 * Open a pool database; `:memory:` for a private one. Read-write (the default): created if needed, with WAL and every
 * migration applied — a file of an older schema is migrated in place, one version per transaction (another process
 * opening the same file waits for it, up to {@link BUSY_TIMEOUT_MS}); a file this user may not write is opened
 * read-only instead (its writes then fail: see sqlite.ts). `readonly`: see {@link OpenDatabaseOptions}.
 * Nothing is written to an existing file before it is known to be an empty database or an Assay pool.
 * Errors: InputError (naming the file) when it was written by a newer Assay or is another program's database;
 * better-sqlite3's error when it is not a SQLite database.
 */
export function openSqliteDatabase(path: string, opts: OpenDatabaseOptions = {}): Database.Database {
  if (path !== ':memory:') {
    if (opts.readonly) return openReadonly(path);
    if (existsSync(path) && !writable(path)) return openReadonly(path, 'the file is read-only for this user');
    mkdirSync(dirname(path), { recursive: true });
  }
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    // The busy timeout before anything else: switching to WAL needs a lock another process may hold for a moment.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Read what the file is before writing anything to it (the WAL switch included): another program's database is
    // refused untouched. In one read transaction, so that a pool another process is creating or migrating at this
    // moment is seen before or after one of its migrations, never halfway (its tables without its version).
    busyRetry(() => db.transaction(() => inspect(db, path))());
    if (db.readonly) {
      db.close();
      return openReadonly(path, 'the file is read-only for this user');
    }
    // Two processes creating one pool at once: SQLite can refuse the WAL switch at once with SQLITE_BUSY instead of
    // waiting (measured: 2 of 40 pairs), so it is tried again until the busy timeout.
    busyRetry(() => db.pragma('journal_mode = WAL'));
    db.pragma('synchronous = NORMAL');
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    migrate(db, path);
  } catch (err) {
    if (db.open) db.close();
    throw err;
  }
  return db;
}

/** Whether `e` is SQLite's "database is locked" (SQLITE_BUSY and its extended codes). */
function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * `f()`, tried again while SQLite answers SQLITE_BUSY without having waited (pauses of 5 ms doubling to 100 ms, up to
 * {@link BUSY_TIMEOUT_MS}); a synchronous wait, as every open is. Errors: the last error past the timeout, any other at once.
 */
function busyRetry<T>(f: () => T): T {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let pause = 5; ; pause = Math.min(100, pause * 2)) {
    try {
      return f();
    } catch (e) {
      if (!isBusy(e) || Date.now() > deadline) throw e;
      Atomics.wait(cell, 0, 0, pause);
    }
  }
}

function migrate(db: Database.Database, path: string): void {
  for (;;) {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new InputError(`pool schema version ${version} is newer than this Assay (${SCHEMA_VERSION})`, { file: path });
    if (version === SCHEMA_VERSION) break;
    db.transaction(() => {
      // Read the version again inside the write lock: another process may have migrated meanwhile.
      const v = db.pragma('user_version', { simple: true }) as number;
      if (v !== version) return;
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
      db.pragma(`application_id = ${APPLICATION_ID}`);
    }).immediate();
  }
}

/** Whether this process may write the file (and so create the pool's `-wal` and `-shm` beside it). */
function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A read-only connection to the pool at `path` (see {@link OpenDatabaseOptions}); `why`: why it is not read-write. */
function openReadonly(path: string, why?: string): Database.Database {
  let db: Database.Database | null = null;
  let version: number;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    version = inspect(db, path);
  } catch (err) {
    db?.close();
    db = null;
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !NO_SHM.has(code)) throw err;
    // A WAL pool whose -shm this user can neither open nor create: read a snapshot of the file, unless a write-ahead
    // log holds commits not yet in it.
    const wal = `${path}-wal`;
    if (existsSync(wal) && statSync(wal).size > 0) {
      throw new InputError(`cannot read the pool read-only: SQLite needs its ${path}-shm file, which this user cannot create, to read its write-ahead log (${(err as Error).message})`, { file: path });
    }
    const buf = readFileSync(path);
    // The copy in memory is read in rollback-journal mode (header bytes 18-19: 1), which an in-memory database needs.
    if (buf.length >= 100 && buf[18] === 2 && buf[19] === 2) buf[18] = buf[19] = 1;
    db = new Database(buf, { readonly: true });
    try {
      version = inspect(db, path);
    } catch (e) {
      db.close();
      throw e;
    }
  }
  if (version === SCHEMA_VERSION) {
    // The read-only commands scan the pool once (rank, subset, report): the interior pages of the B-trees are what
    // is read again, so the page cache of a writable connection is enough (instead of better-sqlite3's 16 MB).
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    return db;
  }
  db.close();
  if (version === 0) throw new InputError('holds no pool yet (an empty database)', { file: path });
  if (why || !writable(path)) throw new InputError(`is a pool of an older Assay (schema version ${version}) that needs migrating, and ${why ?? 'the file is read-only for this user'}: open it once as a user who may write it`, { file: path });
  // A pool of an older release: migrated once (as any open of it does), then read.
  openSqliteDatabase(path).close();
  return openReadonly(path);
}

/** A connection with the staging rule described above. */
export class Connection {
  private staging = false;
  private tempCounter = 0;

  constructor(readonly db: Database.Database) {}

  /** Before a staged insert: open the staging transaction if none is open. */
  stage(): void {
    if (!this.staging) {
      this.db.exec('BEGIN');
      this.staging = true;
    }
  }

  /** Before any other statement: commit staged rows, so the connection runs nothing inside another's transaction. */
  settle(): void {
    if (this.staging) {
      this.staging = false;
      if (this.db.inTransaction) this.db.exec('COMMIT');
    }
  }

  /** A fresh name for a TEMP table of this connection. */
  tempName(prefix: string): string {
    return `${prefix}_${++this.tempCounter}`;
  }

  /** Drop TEMP tables (after settling); quiet when the connection is already closed. */
  dropTemp(...names: string[]): void {
    if (!this.db.open) return;
    this.settle();
    for (const n of names) this.db.exec(`DROP TABLE IF EXISTS temp."${n}"`);
  }
}
