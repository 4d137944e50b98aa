/**
 * Import speed of the PostgreSQL pool beside SQLite's: `assay import csv` of a seeded synthetic pool
 * (bench/synthetic-pool.ts: 100 models, 90% of cells missing, so about `rows` binary measurements) into a new SQLite
 * file and into a new PostgreSQL database, then `assay pool copy` of the SQLite pool into another database (read
 * back, written, and both sides digested). Reports measurements/s and the peak RSS of the assay process (GNU time)
 * as a markdown table.
 *
 * The PostgreSQL server is testkit/postgres.ts's: `$ASSAY_TEST_POSTGRES`, else a throw-away cluster on 127.0.0.1 with
 * fsync and synchronous commit off (no network latency and no durability cost: a real server is slower). Not a test:
 * timings are reported, never asserted.
 *
 *   node --import tsx bench/postgres.ts [--rows 100000,1000000] [--no-copy] [--out bench/out/postgres.json]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDatabase } from '../testkit/postgres.ts';
import { writeSyntheticPool } from './synthetic-pool.ts';

const HERE = fileURLToPath(new URL('..', import.meta.url));

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

interface Row {
  what: string;
  pool: string;
  measurements: number;
  seconds: number;
  per_s: number;
  peak_rss_mb: number;
}

/** `assay <args>` under GNU time: wall seconds and peak RSS. Throws with the command's stderr when it fails. */
function assay(args: string[]): { seconds: number; rssMb: number; out: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, join(HERE, 'bin/assay.js'), ...args], { cwd: HERE, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`assay ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const kb = Number(/MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { seconds, rssMb: kb / 1024, out: r.stdout };
}

const sizes = arg('rows', '100000').split(',').map(Number);
const out = arg('out', '');
const dir = mkdtempSync(join(tmpdir(), 'assay-bench-pg-'));
const rows: Row[] = [];
try {
  for (const size of sizes) {
    const csv = join(dir, `pool-${size}.csv`);
    const { measurements } = await writeSyntheticPool(csv, { models: 100, items: Math.round(size / 10), missing: 0.9, seed: 0 });
    const sqlite = join(dir, `pool-${size}.sqlite`);
    const pg = await freshDatabase();
    for (const [pool, target] of [['sqlite', sqlite], ['postgres', pg]] as const) {
      const r = assay(['import', 'csv', csv, '--pool', target, '--json']);
      const n = JSON.parse(r.out).source.measurements as number;
      if (n !== measurements) throw new Error(`${pool}: imported ${n} measurements, the file has ${measurements}`);
      rows.push({ what: 'import csv', pool, measurements: n, seconds: r.seconds, per_s: n / r.seconds, peak_rss_mb: r.rssMb });
      console.error(`${pool} ${n}: ${r.seconds.toFixed(1)} s`);
    }
    if (process.argv.includes('--no-copy')) continue;
    const r = assay(['pool', 'copy', sqlite, await freshDatabase(), '--json']);
    if (JSON.parse(r.out).mismatched.length) throw new Error('the copy differs');
    rows.push({ what: 'pool copy (+ both digests)', pool: 'sqlite → postgres', measurements, seconds: r.seconds, per_s: measurements / r.seconds, peak_rss_mb: r.rssMb });
    console.error(`copy ${measurements}: ${r.seconds.toFixed(1)} s`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const table = [
  '| what | pool | measurements | seconds | measurements/s | peak RSS (MB) |',
  '|---|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.what} | ${r.pool} | ${r.measurements.toLocaleString('en')} | ${r.seconds.toFixed(1)} | ${Math.round(r.per_s).toLocaleString('en')} | ${Math.round(r.peak_rss_mb)} |`),
].join('\n');
console.log(table);
if (out) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ rows }, null, 2) + '\n');
}
