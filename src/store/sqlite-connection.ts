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
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../core/errors.ts';

export const SCHEMA_VERSION = 4;

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
];

/**
 * Open (creating if needed) a pool database with WAL and every migration applied; `:memory:` for a private one.
 * A file of an older schema is migrated in place, one version per transaction (another process opening the same
 * file waits for it, up to {@link BUSY_TIMEOUT_MS}). Errors: InputError when the file was written by a newer Assay; better-sqlite3's error when it
 * is not a SQLite database.
 */
export function openSqliteDatabase(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    // The busy timeout before anything else: switching to WAL needs a lock another process may hold for a moment.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
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
      }).immediate();
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
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
