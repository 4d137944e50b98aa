/**
 * `openPool(url)`: the one way to open a pool, from the CLI or the library.
 *
 * | url | pool |
 * |---|---|
 * | `memory:` | a new, empty in-memory pool (`memory.ts`) |
 * | `sqlite:<path>`, `sqlite://<path>`, or a plain path | the SQLite pool in that file (`sqlite.ts`); `sqlite::memory:` for a private in-memory database |
 * | `postgres://user@host:port/db`, `postgresql://…` | the PostgreSQL pool in that database (`postgres.ts`), in its schema `assay` (`?schema=name` for another: several pools in one database); shared by processes on several machines; the password in the url, `$PGPASSWORD` or `~/.pgpass` |
 *
 * `await using pool = await openPool('sqlite:.assay/pool.sqlite', { create: true })` closes it at the end of the scope.
 * `$ASSAY_POOL` may be any of these, a PostgreSQL url included.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { withEvidenceChain } from './chained.ts';
import { openMemoryPool } from './memory.ts';
import { openSqlitePool } from './sqlite.ts';
import type { Pool } from './types.ts';

/** `$ASSAY_POOL` or `./.assay/pool.sqlite` (absolute). */
export function defaultPoolPath(): string {
  return process.env.ASSAY_POOL ?? resolve('.assay', 'pool.sqlite');
}

export interface OpenPoolOptions {
  /**
   * Create the pool when its file does not exist, or when the PostgreSQL database holds none (default false: a
   * command that only reads never leaves a file or a schema behind, and a mistyped address is an error rather than a
   * new, empty pool).
   */
  create?: boolean;
  /**
   * Only read: open the SQLite file read-only, so that nothing is ever written to it (the commands that only read
   * use this; `create` is then ignored). A write attempted through the pool fails with an InputError naming the
   * file. A file this user may not write is opened read-only anyway. A PostgreSQL pool runs every transaction
   * read-only (and refuses writes with an InputError). An in-memory pool ignores it.
   */
  readonly?: boolean;
}

/**
 * Open the pool at `url` (default: `defaultPoolPath()`). A SQLite file written by an older Assay is migrated in place.
 * Nothing is written to an existing file that is not an Assay pool (another program's SQLite database).
 * Every attempt and measurement written through the pool is hashed into its run's evidence chain (store/chained.ts).
 * Errors (all InputError): a missing file without `create` (or with `readonly`), a directory, a file that is not a
 * pool or is of a newer schema, an unknown scheme; for PostgreSQL (naming host:port, never the password): a server
 * that cannot be reached or refuses the user, a missing database, a database without a pool (and no `create`), an
 * `assay` schema that is not a pool, a pool of a newer schema.
 */
export async function openPool(url?: string, opts: OpenPoolOptions = {}): Promise<Pool> {
  return withEvidenceChain(await openStore(url, opts));
}

/**
 * `openPool` without the evidence-chain layer: the store as it is, for code that writes chain links itself (copying
 * a pool, store/copy.ts). Same addresses, options and errors as `openPool`.
 */
export async function openStore(url: string | undefined, opts: OpenPoolOptions = {}): Promise<Pool> {
  const u = url ?? defaultPoolPath();
  if (u === 'memory:') return openMemoryPool();
  if (/^postgres(ql)?:\/\//i.test(u)) {
    // Loaded when used: commands on a SQLite pool do not pay for the PostgreSQL client.
    const { openPostgresPool } = await import('./postgres.ts');
    return openPostgresPool(u, { create: opts.create, readonly: opts.readonly });
  }
  let file: string;
  if (/^sqlite:/i.test(u)) file = u.slice('sqlite:'.length).replace(/^\/\//, '');
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) throw new InputError(`unknown pool address "${u.replace(/\/\/[^@/]*@/, '//…@')}"; expected memory:, sqlite:<path>, a file path, or postgres://user@host:port/database`, { field: 'pool' });
  else file = u;
  if (!file) throw new InputError('the pool address names no file (sqlite:<path>)', { field: 'pool' });
  if (file === ':memory:') return openSqlitePool(':memory:');
  if ((!opts.create || opts.readonly) && !existsSync(file)) throw new InputError('no pool here (run `assay quickstart` or `assay run` first, or pass --pool <file>)', { file });
  if (existsSync(file) && statSync(file).isDirectory()) throw new InputError('is a directory, not a pool file', { file });
  try {
    return openSqlitePool(file, { readonly: opts.readonly });
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot open the pool: ${(err as Error).message}`, { file });
  }
}
