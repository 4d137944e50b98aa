/**
 * A real PostgreSQL server for the tests and benchmarks, on 127.0.0.1, never a mock.
 *
 * `postgresServer()` gives the address of a server and `freshDatabase()` a new, empty database on it:
 * - with `$ASSAY_TEST_POSTGRES` set (a `postgres://user@host:port/db` address of a server whose user may create
 *   databases), that server;
 * - else a throw-away cluster made for this process: `initdb` into a temporary folder (as the `postgres` user when
 *   running as root, since PostgreSQL refuses to run as root), started on a free port on 127.0.0.1 with trust
 *   authentication and durability switched off (tests need speed, not crash safety of the test cluster), stopped
 *   and removed when the process exits.
 *
 * The binaries are found through `$ASSAY_PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin` (Debian's
 * `postgresql` package, which `.ci/run` installs), else `pg_config --bindir`. When none is installed,
 * `postgresUnavailable()` says why, so that a test can skip with that reason on a machine without PostgreSQL;
 * CI always has it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

let server: Promise<string> | null = null;
let counter = 0;

/** The folder of PostgreSQL's binaries (initdb, pg_ctl), or null when none is installed. */
export function postgresBinDir(): string | null {
  if (process.env.ASSAY_PG_BIN) return process.env.ASSAY_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(root, versions[0]!, 'bin');
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dir && existsSync(join(dir, 'initdb'))) return dir;
  } catch { /* not installed */ }
  return null;
}

/** Why no PostgreSQL server can be had here (a reason to skip with), or null when one can. */
export function postgresUnavailable(): string | null {
  if (process.env.ASSAY_TEST_POSTGRES) return null;
  return postgresBinDir() ? null : 'PostgreSQL is not installed here (apt-get install postgresql, or set ASSAY_TEST_POSTGRES=postgres://…); .ci/run installs it';
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
  });
}

/** Stop the cluster in `dir` (fast shutdown, no checkpoint) and remove it. */
function stopAt(bin: string, dir: string, asRoot: boolean): void {
  const data = join(dir, 'data');
  if (existsSync(join(data, 'postmaster.pid'))) {
    const stop = ['-D', data, '-m', 'immediate', '-w', 'stop'];
    spawnSync(asRoot ? 'runuser' : join(bin, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...stop] : stop, { stdio: 'ignore' });
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Clusters left by test processes that died without stopping them (SIGKILL): stopped and removed. */
function sweepOrphans(bin: string, asRoot: boolean): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('assay-pg-')) continue;
    const dir = join(tmpdir(), name);
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch { continue; } // being made right now, or not ours
    try {
      process.kill(owner, 0);
      continue; // its owner is alive
    } catch { /* dead owner */ }
    stopAt(bin, dir, asRoot);
  }
}

async function startCluster(): Promise<string> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(postgresUnavailable()!);
  sweepOrphans(bin, userInfo().uid === 0);
  const dir = mkdtempSync(join(tmpdir(), 'assay-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const run = (cmd: string, args: string[]): void => {
    const full = asRoot ? ['-u', 'postgres', '--', join(bin, cmd), ...args] : args;
    const r = spawnSync(asRoot ? 'runuser' : join(bin, cmd), full, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout}`);
  };
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()));
  const user = asRoot ? 'postgres' : userInfo().username;
  run('initdb', ['-D', data, '-A', 'trust', '-U', user, '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const stopCluster = () => stopAt(bin, dir, asRoot);
  process.once('exit', stopCluster);
  // A test file the runner stops (a timeout, Ctrl-C) ends by a signal, which skips 'exit' handlers: stop it then too.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(sig, () => {
      stopCluster();
      process.kill(process.pid, sig);
    });
  }
  return `postgres://${user}@127.0.0.1:${port}/postgres`;
}

/** The address of the server for this process (started on first call; the same one afterwards). */
export function postgresServer(): Promise<string> {
  if (process.env.ASSAY_TEST_POSTGRES) return Promise.resolve(process.env.ASSAY_TEST_POSTGRES);
  server ??= startCluster();
  return server;
}

/** A new, empty database on the test server: its `postgres://` address. Names are `assay_test_<pid>_<n>`. */
export async function freshDatabase(): Promise<string> {
  const base = await postgresServer();
  const name = `assay_test_${process.pid}_${++counter}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}
