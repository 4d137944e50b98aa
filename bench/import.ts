/**
 * Import benchmark (not a test): `assay import csv` and `assay import jsonl` of the seeded synthetic pool of
 * bench/synthetic-pool.ts (100 models, items = measurements / 10, 90% of the cells missing, binary), one process per
 * import into a fresh pool, measured by /usr/bin/time -v: wall time, CPU time (user + system), peak resident memory,
 * and rows per second (measurements / wall). Beside each figure the 1-minute load average (`/proc/loadavg`) before
 * the import, since the machine is shared: a figure taken at load 4 on 2 cores says little about the code.
 *
 *   node scripts/build.mjs   # or pass --cli <path to cli/main.js>
 *   node --import tsx bench/import.ts [--sizes 1000000] [--formats csv,jsonl] [--repeat 2] [--cli bin/assay.js]
 *
 * Prints a markdown table (and JSON with --json). The files and pools live in a temporary folder, removed at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeSyntheticPool } from './synthetic-pool.ts';
import { cliCommand } from './cli-command.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000000' },
    formats: { type: 'string', default: 'csv,jsonl' },
    repeat: { type: 'string', default: '2' },
    cli: { type: 'string', default: join(root, 'bin/assay.js') },
    json: { type: 'boolean', default: false },
  },
});
const cli = resolve(values.cli);
if (!existsSync(cli)) throw new Error(`no built CLI at ${cli}: run \`node scripts/build.mjs\` or pass --cli`);
if (!existsSync('/usr/bin/time')) throw new Error('needs /usr/bin/time (GNU time) for peak memory');

interface Figure { format: string; measurements: number; run: number; load: number; wall: number; cpu: number; rssMB: number; rowsPerSecond: number; ok: boolean; note: string }

const load = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const work = mkdtempSync(join(tmpdir(), 'assay-import-bench-'));
const figures: Figure[] = [];
try {
  for (const size of values.sizes.split(',').map(Number)) {
    for (const format of values.formats.split(',')) {
      const file = join(work, `pool-${size}.${format}`);
      const { measurements } = await writeSyntheticPool(file, { models: 100, items: Math.round(size / 10), missing: 0.9, seed: 0 });
      for (let run = 1; run <= Number(values.repeat); run++) {
        const pool = join(work, `pool-${size}-${format}.sqlite`);
        for (const f of [pool, `${pool}-wal`, `${pool}-shm`]) rmSync(f, { force: true });
        const before = load();
        const r = spawnSync('/usr/bin/time', ['-v', ...cliCommand(cli), 'import', format, file, '--pool', pool, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
        const num = (re: RegExp) => Number(re.exec(r.stderr)?.[1] ?? NaN);
        const el = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(r.stderr)?.[1] ?? '';
        const wall = el.split(':').reduce((a, p) => a * 60 + Number(p), 0);
        const cpu = num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/);
        const ok = r.status === 0;
        const fig: Figure = {
          format, measurements, run, load: before, wall, cpu, rssMB: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024, rowsPerSecond: measurements / wall, ok,
          note: ok ? '' : (r.stderr.split('\n').find((l) => /error|Error/.test(l)) ?? `exit ${r.status}`).slice(0, 160),
        };
        figures.push(fig);
        console.error(`${format} ${measurements}: ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU, ${fig.rssMB.toFixed(0)} MB, ${Math.round(fig.rowsPerSecond).toLocaleString('en')} rows/s (load ${before})${ok ? '' : `  ${fig.note}`}`);
        for (const f of [pool, `${pool}-wal`, `${pool}-shm`]) rmSync(f, { force: true });
      }
      rmSync(file, { force: true });
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (values.json) console.log(JSON.stringify(figures, null, 1));
else {
  console.log('| format | measurements | run | load before | wall | CPU | peak RSS | rows/s (wall) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const f of figures) {
    console.log(`| ${f.format} | ${f.measurements.toLocaleString('en')} | ${f.run} | ${f.load.toFixed(2)} | ${f.ok ? `${f.wall.toFixed(1)} s` : `failed (${f.note})`} | ${f.cpu.toFixed(1)} s | ${f.rssMB.toFixed(0)} MB | ${Math.round(f.rowsPerSecond).toLocaleString('en')} |`);
  }
}
