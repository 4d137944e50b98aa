/**
 * The PostgreSQL pool's database: connecting (with errors a person can act on, never showing a password), the schema
 * and its migrations, and the check that a database holds an Assay pool before anything is written to it.
 *
 * Everything Assay keeps lives in one schema of the database the url names, `assay` unless the url says another
 * (`?schema=name`: several pools in one database): the database may hold other things (a job queue's schema, say)
 * beside it. `<schema>.assay_migrations` records each schema version applied; the pool's version is the largest. Migration `i` takes the schema from version i to i + 1; all pending ones run in one
 * transaction under an advisory lock, so that processes opening a new pool at once create it once.
 *
 * Column types: text columns are `COLLATE "C"` (code-point order, as SQLite's BINARY and `compareBinary` in
 * shared.ts, whatever the database's locale), JSON is kept as its text (exactly as written: key order, `\u0000`
 * escapes and numbers as JSON.stringify gave them; jsonb would rewrite them), times as ISO 8601 text (as given),
 * image bytes as bytea. Version 1 holds what SQLite's schema version 7 holds (sqlite-connection.ts), plus columns
 * derived once from a run's spec (model, dataset name, first scorer) that the pool's queries read.
 */
import pg from 'pg';
import { InputError } from '../core/errors.ts';

/** The schema version this Assay writes. */
export const PG_SCHEMA_VERSION = 2;

/** The database schema that holds a pool, unless its url names another (`?schema=`). */
export const PG_SCHEMA = 'assay';

const T = 'text COLLATE "C"';

/** Migration `i` takes the schema from version i to i + 1; `tables`: the tables it creates (checked when opening). */
const MIGRATIONS: { sql: string; tables: string[] }[] = [
  {
    tables: [
      'runs', 'samples', 'run_samples', 'attempts', 'measurements', 'pool_sources', 'pool_samples', 'pool_measurements', 'pool_selections', 'tasks', 'models',
      'eval_sets', 'run_leases', 'chain_links', 'chain_signatures', 'images', 'private_sets', 'private_items', 'private_exposures',
    ],
    sql: `
      CREATE TABLE runs (
        id ${T} PRIMARY KEY, status ${T} NOT NULL, created_at ${T} NOT NULL, updated_at ${T} NOT NULL, spec text NOT NULL, manifest text NOT NULL,
        model ${T} NOT NULL, dataset_name ${T}, first_scorer ${T});
      CREATE TABLE samples (
        sample_hash ${T} PRIMARY KEY, content_hash ${T} NOT NULL, id ${T} NOT NULL, input text NOT NULL, target text NOT NULL, choices text, metadata text NOT NULL);
      CREATE INDEX samples_content_hash ON samples (content_hash, sample_hash);
      CREATE TABLE run_samples (
        run_id ${T} NOT NULL, sample_id ${T} NOT NULL, idx integer NOT NULL, content_hash ${T} NOT NULL, sample_hash ${T} NOT NULL,
        prompt_hash ${T} NOT NULL, target_hash ${T} NOT NULL, messages text NOT NULL, PRIMARY KEY (run_id, sample_id));
      CREATE INDEX run_samples_idx ON run_samples (run_id, idx);
      CREATE INDEX run_samples_content_hash ON run_samples (content_hash);
      CREATE TABLE attempts (
        run_id ${T} NOT NULL, sample_id ${T} NOT NULL, epoch integer NOT NULL, status ${T} NOT NULL, response text, finish_reason ${T} NOT NULL,
        prompt_tokens bigint, completion_tokens bigint, latency_ms double precision NOT NULL, tries integer NOT NULL, error text, model_id ${T},
        cache_key ${T} NOT NULL, cached boolean NOT NULL, meta text, transcript text, created_at ${T} NOT NULL,
        PRIMARY KEY (run_id, sample_id, epoch));
      CREATE INDEX attempts_cache_key ON attempts (cache_key);
      CREATE TABLE measurements (
        run_id ${T} NOT NULL, sample_id ${T} NOT NULL, epoch integer NOT NULL, scorer ${T} NOT NULL, kind ${T} NOT NULL, value double precision,
        extracted text, explanation text, status ${T} NOT NULL, PRIMARY KEY (run_id, sample_id, epoch, scorer));
      CREATE TABLE pool_sources (
        id ${T} PRIMARY KEY, format ${T} NOT NULL, file text NOT NULL, file_sha256 ${T} NOT NULL, imported_at ${T} NOT NULL,
        measurements bigint NOT NULL, samples bigint NOT NULL, options text NOT NULL);
      CREATE TABLE pool_samples (
        key ${T} PRIMARY KEY, dataset ${T} NOT NULL, sample_id ${T} NOT NULL, category ${T}, tags text NOT NULL, text text, content_hash ${T},
        metadata text NOT NULL);
      CREATE TABLE pool_measurements (
        source ${T} NOT NULL, slice ${T} NOT NULL, sample_key ${T} NOT NULL, model ${T} NOT NULL, opponent ${T} NOT NULL, rep integer NOT NULL,
        kind ${T} NOT NULL, value double precision NOT NULL, direction smallint NOT NULL, tie_tolerance double precision NOT NULL,
        weight double precision NOT NULL, line bigint,
        PRIMARY KEY (source, slice, model, opponent, sample_key, rep));
      CREATE TABLE pool_selections (
        hash ${T} PRIMARY KEY, query text NOT NULL, filters text NOT NULL, lim bigint, created_at ${T} NOT NULL, sample_keys text NOT NULL);
      CREATE TABLE tasks (
        id ${T} PRIMARY KEY, name ${T} NOT NULL, version ${T} NOT NULL, hash ${T} NOT NULL, definition text NOT NULL, created_at ${T} NOT NULL);
      CREATE TABLE models (
        address ${T} PRIMARY KEY, kind ${T} NOT NULL, reported_model_ids text NOT NULL, system_fingerprints text NOT NULL, metadata text NOT NULL,
        updated_at ${T} NOT NULL);
      CREATE TABLE eval_sets (
        id ${T} PRIMARY KEY, name ${T}, tasks text NOT NULL, models text NOT NULL, runs text NOT NULL, spec text NOT NULL, status ${T} NOT NULL,
        created_at ${T} NOT NULL, updated_at ${T} NOT NULL);
      CREATE TABLE run_leases (
        run_id ${T} PRIMARY KEY, owner ${T} NOT NULL, pid integer, host ${T}, acquired_at ${T} NOT NULL, heartbeat_at ${T} NOT NULL,
        expires_at ${T} NOT NULL);
      CREATE TABLE chain_links (
        run_id ${T} NOT NULL, seq integer NOT NULL, kind ${T} NOT NULL, sample_id ${T}, epoch integer, scorer ${T}, status ${T},
        record_hash ${T} NOT NULL, chain ${T} NOT NULL, PRIMARY KEY (run_id, seq));
      CREATE TABLE chain_signatures (
        run_id ${T} NOT NULL, seq integer NOT NULL, head ${T} NOT NULL, key_id ${T} NOT NULL, public_key text NOT NULL, signature text NOT NULL,
        signed_at ${T} NOT NULL, PRIMARY KEY (run_id, seq, key_id));
      CREATE TABLE images (
        sha256 ${T} PRIMARY KEY, mime_type ${T} NOT NULL, size bigint NOT NULL, bytes bytea NOT NULL, created_at ${T} NOT NULL);
      CREATE TABLE private_sets (
        name ${T} PRIMARY KEY, allow text NOT NULL, key_id ${T} NOT NULL, content_mac ${T} NOT NULL, items integer NOT NULL, created_at ${T} NOT NULL,
        source text NOT NULL);
      CREATE TABLE private_items (
        set_name ${T} NOT NULL, idx integer NOT NULL, id ${T} NOT NULL, canary text NOT NULL, iv text NOT NULL, tag text NOT NULL,
        ciphertext text NOT NULL, PRIMARY KEY (set_name, idx));
      CREATE TABLE private_exposures (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, set_name ${T} NOT NULL, item_id ${T} NOT NULL, endpoint text NOT NULL,
        run_id ${T} NOT NULL, epoch integer NOT NULL, at ${T} NOT NULL);
      CREATE INDEX private_exposures_set ON private_exposures (set_name, seq);`,
  },
  {
    // 2: a run's failed attempts indexed (partial: only status 'error'), so that counting them (listRuns: the
    // viewer's run list) reads the index instead of every attempt row of the run — SQLite's schema 10 holds the same.
    tables: [],
    sql: `CREATE INDEX IF NOT EXISTS attempts_failed ON attempts (run_id) WHERE status = 'error';`,
  },
];

/** Where a pool is, for messages: never its password. */
export interface PgAddress {
  /** `postgres://user@host:port/db` (query parameters kept, password removed): the pool's `url`. */
  url: string;
  /** `host:port`. */
  hostPort: string;
  database: string;
  user: string;
  /** The schema that holds the pool: `?schema=` of the url, else `assay`. */
  schema: string;
}

/**
 * The parts of a `postgres://` or `postgresql://` url that name the server and the pool, without the password.
 * Errors: InputError for a url that does not parse, or whose `schema` is not a plain lowercase name.
 */
export function pgAddress(url: string): PgAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError('the PostgreSQL pool address does not parse as a url (postgres://user@host:port/database)', { field: 'pool' });
  }
  const user = decodeURIComponent(u.username) || process.env.PGUSER || process.env.USER || '';
  const host = decodeURIComponent(u.hostname) || u.searchParams.get('host') || process.env.PGHOST || 'localhost';
  const port = u.port || u.searchParams.get('port') || process.env.PGPORT || '5432';
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || process.env.PGDATABASE || user;
  const schema = u.searchParams.get('schema') ?? PG_SCHEMA;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new InputError(`schema "${schema}" in the pool address is not a plain lowercase name (letters, digits, _)`, { field: 'pool' });
  const safe = new URL(u.toString());
  safe.password = '';
  safe.searchParams.delete('password');
  return { url: safe.toString(), hostPort: host.startsWith('/') ? `${host} (socket), port ${port}` : `${host}:${port}`, database, user, schema };
}

/** int8 and numeric as JavaScript numbers (counts and sums the pool keeps are far below 2^53), the rest as pg reads them. */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;

/** Options of {@link connectPg}. */
export interface PgConnectOptions {
  /** Connections at most (default 10). */
  max?: number;
  /** Every transaction read-only (`default_transaction_read_only`): the server itself refuses writes. */
  readonly?: boolean;
}

/**
 * A `pg.Pool` on the database at `url` with the pool's session settings (search_path = the pool's schema, UTC, and
 * read-only transactions when asked), and one connection made to check that the server answers.
 * Errors: InputError naming `host:port` (never the password) when the server cannot be reached, refuses the user,
 * or has no such database.
 */
export async function connectPg(url: string, opts: PgConnectOptions = {}): Promise<{ pg: pg.Pool; address: PgAddress }> {
  const address = pgAddress(url);
  const u = new URL(url);
  // Our session settings go in `options`; any the url gave are kept after them.
  const given = u.searchParams.get('options');
  u.searchParams.delete('options');
  u.searchParams.delete('schema');
  const options = [`-c search_path=${address.schema}`, '-c TimeZone=UTC', ...(opts.readonly ? ['-c default_transaction_read_only=on'] : []), ...(given ? [given] : [])].join(' ');
  const config = { connectionString: u.toString(), options, types: TYPES, application_name: 'assay' };
  // One connection first, with a time limit, to say plainly when the server cannot be had. The pool itself has none:
  // there a caller may wait as long as connections are busy (an import holds one for its whole length).
  const probe = new pg.Client({ ...config, connectionTimeoutMillis: 15_000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
  } catch (err) {
    throw connectError(err, address);
  } finally {
    await probe.end().catch(() => {});
  }
  const pool = new pg.Pool({ ...config, max: opts.max ?? 10, allowExitOnIdle: true });
  // An idle connection the server closes (a restart) must not crash the process: the next query reports it.
  pool.on('error', () => {});
  return { pg: pool, address };
}

/** The InputError of a failed connection: what failed, where, and what to do; the password never appears. */
export function connectError(err: unknown, a: PgAddress): InputError {
  const e = err as { code?: string; message?: string };
  const where = `PostgreSQL at ${a.hostPort}`;
  const msg = (e.message ?? String(err)).replace(/password=\S+/gi, 'password=…');
  switch (e.code) {
    case 'ECONNREFUSED':
      return new InputError(`cannot connect to ${where}: connection refused (is the server running, and listening there?)`, { field: 'pool' });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new InputError(`cannot connect to ${where}: no such host`, { field: 'pool' });
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new InputError(`cannot connect to ${where}: ${e.code} (the host does not answer)`, { field: 'pool' });
    case '3D000':
      return new InputError(`cannot connect to ${where}: database "${a.database}" does not exist (create it first, e.g. \`createdb ${a.database}\`)`, { field: 'pool' });
    case '28P01':
    case '28000':
      return new InputError(`cannot connect to ${where} as user "${a.user}": ${msg} (give the password in the url, $PGPASSWORD or ~/.pgpass)`, { field: 'pool' });
    default:
      if (/timeout/i.test(msg)) return new InputError(`cannot connect to ${where}: no answer within 15 s`, { field: 'pool' });
      return new InputError(`cannot connect to ${where} (database "${a.database}", user "${a.user}"): ${msg}`, { field: 'pool' });
  }
}

const notAPool = (a: PgAddress, why: string) =>
  new InputError(`is not an Assay pool (${why}); nothing was written to it — give the url of an Assay pool or of a database without an "${a.schema}" schema`, { file: a.url });

/**
 * What the database holds, read without writing: the pool's schema version, 0 when there is no pool schema (`assay`)
 * or an empty one. Errors (InputError naming the url): a newer schema; a pool schema that is not an Assay pool (tables
 * but no migrations table, or a version whose tables are missing).
 */
export async function inspectPg(c: pg.PoolClient | pg.Pool, a: PgAddress): Promise<number> {
  const tables = (await c.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [a.schema])).rows.map((r) => r.t);
  if (!tables.includes('assay_migrations')) {
    if (tables.length) throw notAPool(a, `its "${a.schema}" schema holds ${tables.length === 1 ? 'a table' : 'tables'} (${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}) but no Assay schema version`);
    return 0;
  }
  const version = (await c.query<{ v: number | null }>(`SELECT MAX(version) AS v FROM ${a.schema}.assay_migrations`)).rows[0]!.v ?? 0;
  if (version > PG_SCHEMA_VERSION) throw new InputError(`pool schema version ${version} is newer than this Assay (${PG_SCHEMA_VERSION}); use a newer Assay`, { file: a.url });
  for (let v = 0; v < version; v++) {
    const missing = MIGRATIONS[v]!.tables.filter((t) => !tables.includes(t));
    if (missing.length) throw notAPool(a, `schema version ${version} but no table${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  }
  return version;
}

/**
 * Bring the database to {@link PG_SCHEMA_VERSION}: create the pool's schema and apply every pending migration in one
 * transaction, under an advisory lock (another process migrating at the same time waits, then finds nothing to do).
 * Runs read-write even on a read-only session. Errors: as {@link inspectPg}, re-checked under the lock.
 */
export async function migratePg(pool: pg.Pool, a: PgAddress): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN READ WRITE');
    await c.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`${a.schema}.migrate`]);
    const version = await inspectPg(c, a);
    if (version < PG_SCHEMA_VERSION) {
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${a.schema}`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${a.schema}.assay_migrations (version integer PRIMARY KEY, applied_at text NOT NULL)`);
      // search_path names the schema already; SET LOCAL makes sure, even when the url's options changed it.
      await c.query(`SET LOCAL search_path = ${a.schema}`);
      for (let v = version; v < PG_SCHEMA_VERSION; v++) {
        await c.query(MIGRATIONS[v]!.sql);
        await c.query(`INSERT INTO ${a.schema}.assay_migrations (version, applied_at) VALUES ($1, $2)`, [v + 1, new Date().toISOString()]);
      }
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}
