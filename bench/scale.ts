/**
 * Scaling benchmark (not a test): the seeded synthetic 2PL pool of bench/synthetic-pool.ts (100 models, items =
 * measurements / 10, 90% of the cells missing) at 10k, 100k and 1M measurements (10M with --10m: 100 models × 1M
 * items), and for each size the wall time, CPU time and peak resident memory of the built CLI, one process per step,
 * measured by /usr/bin/time -v:
 *   import csv (and import jsonl of the same pool into another pool, up to --jsonl-max measurements) → rank (default
 *   1,000 replicates) → pool subset (defaults) → report --rank (one tiny run added first, because `assay report`
 *   reports runs; its ranking section ranks the imported source).
 * Prints a markdown table and writes it with a log-log chart to docs/scaling.md and docs/scaling.svg; the figures go
 * to docs/scaling.json, each row labelled with the commit measured (`--label`, default the short HEAD plus
 * "+ working tree" when the tree has changes). With --append the rows already in scaling.json are kept (rows of the
 * same size and label are replaced; rows without a label get --previous-label), so a size can be measured on its
 * own and earlier measurements stay beside the new ones. --budget-minutes: the longest a size may take; the step
 * running at the limit is stopped and the rest are not run (both marked so in the table).
 *
 *   npm run build    # bin/assay.js (the default --cli, run as `npx assay` runs it: its shebang's memory settings
 *                    # apply, bench/cli-command.ts) uses the built dist/ when it is up to date
 *   node --import tsx bench/scale.ts [--sizes 10000,100000,1000000] [--10m] [--cli bin/assay.js] [--out docs]
 *     [--append] [--label <text>] [--previous-label <text>] [--budget-minutes <m>] [--jsonl-max <n>]
 *
 * The machine is shared: repeat a run before reading much into one figure; CPU time (user + system) is less
 * sensitive to other processes than wall time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeSyntheticPool } from './synthetic-pool.ts';
import { esc, niceTicks } from '../src/report/svg.ts';
import { cliCommand } from './cli-command.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    '10m': { type: 'boolean', default: false },
    cli: { type: 'string', default: join(root, 'bin/assay.js') },
    out: { type: 'string', default: join(root, 'docs') },
    keep: { type: 'boolean', default: false },
    replot: { type: 'boolean', default: false },
    append: { type: 'boolean', default: false },
    label: { type: 'string' },
    'previous-label': { type: 'string', default: 'earlier' },
    'budget-minutes': { type: 'string' },
    'jsonl-max': { type: 'string', default: '1000000' },
  },
});
const sizes = values.sizes.split(',').map(Number).concat(values['10m'] ? [10_000_000] : []);
const cli = resolve(values.cli);
if (!values.replot && !existsSync(cli)) throw new Error(`no built CLI at ${cli}: run \`npm run build\` or pass --cli`);
if (!existsSync('/usr/bin/time')) throw new Error('needs /usr/bin/time (GNU time) for peak memory');

interface Step { step: string; wall: number; cpu: number; rssMB: number; ok: boolean; note: string }
interface Row { size: number; measurements: number; steps: Step[]; label?: string }

const git = (...args: string[]) => {
  try {
    return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};
const commit = git('rev-parse', '--short', 'HEAD') || '?';
const label = values.label ?? `${commit}${git('status', '--porcelain', '--untracked-files=no') ? ' + working tree' : ''}`;
const budgetMs = values['budget-minutes'] ? Number(values['budget-minutes']) * 60_000 : Infinity;
let deadline = Infinity;
const notRun = (step: string, why: string): Step => ({ step, wall: NaN, cpu: NaN, rssMB: NaN, ok: false, note: `not run: ${why}` });

/** Run the CLI once under /usr/bin/time -v (stopped at the size's deadline); returns its figures and stdout. */
function timed(step: string, args: string[]): Step & { stdout: string } {
  const left = deadline - Date.now();
  if (left <= 0) return { ...notRun(step, 'time budget spent'), stdout: '' };
  const r = spawnSync('/usr/bin/time', ['-v', ...cliCommand(cli), ...args], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: Number.isFinite(left) ? left : undefined, killSignal: 'SIGKILL' });
  if (r.signal === 'SIGKILL' || (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') {
    return { step, wall: NaN, cpu: NaN, rssMB: NaN, ok: false, note: `stopped at the time budget (${values['budget-minutes']} min for the size)`, stdout: '' };
  }
  const num = (re: RegExp) => Number(re.exec(r.stderr)?.[1] ?? NaN);
  const el = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(r.stderr)?.[1] ?? '';
  const wall = el.split(':').reduce((a, p) => a * 60 + Number(p), 0);
  const cpu = num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/);
  const ok = r.status === 0;
  const note = ok ? '' : (r.stderr.split('\n').find((l) => /error|Error/.test(l)) ?? `exit ${r.status}`).slice(0, 160);
  return { step, wall, cpu, rssMB: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024, ok, note, stdout: r.stdout };
}

// --replot: redraw the table and chart from the figures of the last run (scaling.json beside them)
const previous: Row[] = values.replot || values.append ? (existsSync(join(values.out, 'scaling.json')) ? JSON.parse(readFileSync(join(values.out, 'scaling.json'), 'utf8')) : []) : [];
for (const r of previous) r.label ??= values['previous-label'];
const rows: Row[] = [];
const work = mkdtempSync(join(tmpdir(), 'assay-scale-'));
if (!values.replot) console.log(`node ${process.version}, ${cpus()[0]?.model ?? '?'} × ${availableParallelism()}; CLI ${cli}; work dir ${work}; rows labelled "${label}"`);
for (const size of values.replot ? [] : sizes) {
  deadline = Date.now() + budgetMs;
  const items = Math.round(size / 10);
  const csv = join(work, `pool-${size}.csv`), pool = join(work, `pool-${size}.sqlite`);
  const gen = await writeSyntheticPool(csv, { models: 100, items, missing: 0.9, seed: 0 });
  const steps: Step[] = [];
  const imp = timed('import csv', ['import', 'csv', csv, '--pool', pool, '--json']);
  steps.push(imp);
  // the same pool as JSON Lines, into a pool of its own (import speed only)
  if (size <= Number(values['jsonl-max'])) {
    const jsonl = join(work, `pool-${size}.jsonl`);
    await writeSyntheticPool(jsonl, { models: 100, items, missing: 0.9, seed: 0 });
    steps.push(timed('import jsonl', ['import', 'jsonl', jsonl, '--pool', join(work, `pool-${size}-jsonl.sqlite`), '--json']));
    if (!values.keep) rmSync(jsonl, { force: true });
    rmSync(join(work, `pool-${size}-jsonl.sqlite`), { force: true });
  } else steps.push(notRun('import jsonl', `above --jsonl-max ${values['jsonl-max']}`));
  const source = imp.ok ? (JSON.parse(imp.stdout) as { source: { id: string } }).source.id : '';
  steps.push(timed('rank (1,000 replicates)', ['rank', '--pool', pool, '--source', source, '--json']));
  steps.push(timed('pool subset', ['pool', 'subset', '--pool', pool, '--source', source, '--json']));
  // a tiny run for `report` to report on (20 questions, one synthetic oracle model)
  const qs = join(work, 'qs.jsonl');
  writeFileSync(qs, Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: String(i), question: `${i} + 1 = ?`, answer: String(i + 1) })).join('\n') + '\n');
  if (Date.now() >= deadline) steps.push(notRun('report --rank', 'time budget spent'));
  else {
    const [prog, ...pre] = cliCommand(cli);
    const run = spawnSync(prog!, [...pre, 'run', '--dataset', `jsonl:${qs}`, '--model', 'reference:oracle', '--epochs', '1', '--pool', pool, '--json'], { encoding: 'utf8' });
    const runId = run.status === 0 ? ((JSON.parse(run.stdout) as { run?: { run_id?: string } }).run?.run_id ?? '') : '';
    if (runId) steps.push(timed('report --rank', ['report', runId, '--rank', '--rank-source', source, '--pool', pool, '-o', join(work, `report-${size}.html`)]));
    else steps.push({ step: 'report --rank', wall: NaN, cpu: NaN, rssMB: NaN, ok: false, note: `could not make the run to report: ${run.stderr.split('\n')[0]}` });
  }
  rows.push({ size, measurements: gen.measurements, steps, label });
  for (const s of steps) console.log(`${gen.measurements} measurements: ${s.step.padEnd(24)} ${s.wall.toFixed(1)} s wall, ${s.cpu.toFixed(1)} s CPU, ${s.rssMB.toFixed(0)} MB${s.ok ? '' : `  ${s.note}`}`);
  if (!values.keep) {
    rmSync(csv, { force: true });
    for (const f of [pool, `${pool}-wal`, `${pool}-shm`]) rmSync(f, { force: true });
  }
}
// the rows kept from scaling.json, unless measured again now (same size and label), then the new ones; by label, then size
for (const r of previous) if (!rows.some((n) => n.size === r.size && n.label === r.label)) rows.push(r);
const labels = [...new Set(rows.map((r) => r.label!))].sort((a, b) => (a === label ? 1 : b === label ? -1 : 0));
rows.sort((a, b) => labels.indexOf(a.label!) - labels.indexOf(b.label!) || a.size - b.size);

const stepNames = rows[0]!.steps.map((s) => s.step);
const cellOf = (s: Step) => (s.ok ? `${s.wall.toFixed(1)} s / ${s.cpu.toFixed(1)} s / ${s.rssMB.toFixed(0)} MB` : s.note.startsWith('not run') || s.note.startsWith('stopped') ? `— (${s.note})` : `failed (${s.note})`);
const table = [
  `| code | measurements | ${stepNames.map((s) => `${s}: wall / CPU / peak RSS`).join(' | ')} |`,
  `|---|---:|${stepNames.map(() => '---:').join('|')}|`,
  ...rows.map((r) => `| ${r.label} | ${r.measurements.toLocaleString('en')} | ${stepNames.map((n) => r.steps.find((s) => s.step === n)).map((s) => (s ? cellOf(s) : '—')).join(' | ')} |`),
].join('\n');
console.log('\n' + table);

/**
 * Log-log chart: x measurements, y the quantity of each step (one panel per quantity); the rows of this run's label
 * in solid lines, rows of other labels (earlier commits) dashed and paler.
 */
function panel(title: string, unit: string, pick: (s: Step) => number, dx: number): string {
  const W = 420, H = 300, L = 60, R = 16, T = 28, B = 44;
  const xs = rows.map((r) => r.measurements);
  const ys = rows.flatMap((r) => r.steps.filter((s) => s.ok).map(pick)).filter((v) => v > 0 && Number.isFinite(v));
  const lx0 = Math.floor(Math.log10(Math.min(...xs)) + 0.05), lx1 = Math.max(lx0 + 1, Math.ceil(Math.log10(Math.max(...xs)) - 0.05));
  const ly0 = Math.floor(Math.log10(Math.min(...ys))), ly1 = Math.max(ly0 + 1, Math.ceil(Math.log10(Math.max(...ys))));
  const X = (v: number) => dx + L + ((Math.log10(v) - lx0) / Math.max(1, lx1 - lx0)) * (W - L - R);
  const Y = (v: number) => H - B - ((Math.log10(v) - ly0) / (ly1 - ly0)) * (H - T - B);
  const out = [`<text x="${dx + L}" y="16" font-weight="bold">${esc(title)}</text>`];
  for (let e = lx0; e <= lx1; e++) out.push(`<line x1="${X(10 ** e)}" x2="${X(10 ** e)}" y1="${T}" y2="${H - B}" stroke="#ddd"/><text x="${X(10 ** e)}" y="${H - B + 16}" text-anchor="middle">1e${e}</text>`);
  for (let e = ly0; e <= ly1; e++) out.push(`<line x1="${dx + L}" x2="${dx + W - R}" y1="${Y(10 ** e)}" y2="${Y(10 ** e)}" stroke="#ddd"/><text x="${dx + L - 6}" y="${Y(10 ** e) + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)}</text>`);
  out.push(`<text x="${dx + (L + W - R) / 2}" y="${H - 8}" text-anchor="middle">measurements (log)</text><text x="${dx + 14}" y="${(T + H - B) / 2}" transform="rotate(-90 ${dx + 14} ${(T + H - B) / 2})" text-anchor="middle">${esc(unit)} (log)</text>`);
  for (const lab of labels) {
    const mine = rows.filter((r) => r.label === lab);
    const style = lab === labels[labels.length - 1] ? 'stroke-width="2"' : 'stroke-width="1.5" stroke-dasharray="5 3" stroke-opacity="0.55"';
    stepNames.forEach((name, k) => {
      const pts = mine.map((r) => {
        const s = r.steps.find((x) => x.step === name);
        return s && s.ok && pick(s) > 0 ? [X(r.measurements), Y(pick(s))] : null;
      });
      const d = pts.map((p, i) => (p ? `${i && pts[i - 1] ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}` : '')).join('');
      out.push(`<path d="${d}" fill="none" stroke="${COLORS[k % COLORS.length]}" ${style}/>`);
      for (const p of pts) if (p) out.push(`<circle cx="${p[0].toFixed(1)}" cy="${p[1].toFixed(1)}" r="${style.includes('dash') ? 2 : 3}" fill="${COLORS[k % COLORS.length]}"${style.includes('dash') ? ' fill-opacity="0.55"' : ''}/>`);
    });
  }
  void niceTicks;
  return out.join('');
}
const COLORS = ['#1f77b4', '#ff7f0e', '#d62728', '#2ca02c', '#9467bd'];
const legend = stepNames.map((n, k) => `<line x1="${870}" x2="${890}" y1="${40 + 18 * k}" y2="${40 + 18 * k}" stroke="${COLORS[k]}" stroke-width="2"/><text x="894" y="${44 + 18 * k}">${esc(n)}</text>`).join('')
  + labels.map((lab, i) => {
    const y = 40 + 18 * (stepNames.length + 1 + i), cur = i === labels.length - 1;
    return `<line x1="870" x2="890" y1="${y}" y2="${y}" stroke="#333" ${cur ? 'stroke-width="2"' : 'stroke-width="1.5" stroke-dasharray="5 3" stroke-opacity="0.55"'}/><text x="894" y="${y + 4}">${esc(lab.length > 26 ? lab.slice(0, 25) + '…' : lab)}</text>`;
  }).join('');
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1060" height="300" font-family="DejaVu Sans, sans-serif" font-size="11"><rect width="1060" height="300" fill="white"/>${panel('CPU time (user + system)', 'seconds', (s) => s.cpu, 0)}${panel('peak resident memory', 'MB', (s) => s.rssMB, 430)}${legend}</svg>\n`;
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'scaling.svg'), svg);
if (!values.replot) writeFileSync(join(values.out, 'scaling.json'), JSON.stringify(rows, null, 1) + '\n');
writeFileSync(join(values.out, 'scaling.md'), `# Scaling: the synthetic pool from 10k to ${Math.max(...rows.map((r) => r.measurements)).toLocaleString('en')} measurements

Made by \`bench/scale.ts\` (node ${process.version}; ${availableParallelism()} cores, shared with other work, so wall times are
noisy and CPU times are the steadier figure). Pool: 100 models, seeded two-parameter logistic items
(bench/synthetic-pool.ts), items = measurements / 10 (the 10M pool: 100 models × 1M items), 90% of the cells missing,
binary measurements; one process per step, measured with \`/usr/bin/time -v\`. \`report --rank\` reports one 20-question
run plus the ranking of the imported source. The column "code" is the commit measured; rows of earlier commits are
kept for comparison (dashed in the chart).

${table}

![CPU time and peak memory against pool size, log-log](scaling.svg)

## What the steps do at scale

- The CLI is run as \`npx assay\` runs it (bin/assay.js, bench/cli-command.ts), so its launcher's settings apply: V8's
  young generation and heap growth, and glibc's mmap threshold fixed at 128 KiB (\`MALLOC_MMAP_THRESHOLD_\`), which
  returns every large typed array to the system when it is freed. With glibc's default threshold (it rises to 32 MB
  as large blocks are freed) the arrays freed between the phases of a ranking stayed in its heap: 80 MB of the 260 MB
  peak of the 10M ranking. Rows before \`4c0aaa9\` ran \`node dist/cli/main.js\` without these settings.
- Every step reads the pool a page at a time (2,000 rows per query) and keeps no measurement object: what grows with
  the pool is compact typed arrays, outside the JavaScript heap (test/cli/pool-memory-limit.test.ts runs the pool
  commands under a JavaScript heap smaller than the pool held as objects). A process starts at about 75 MB (the
  modules, the young generation of the collector), which is why the small pools' figures are flat.
- \`rank\` streams the selection into \`ChoiceAccumulator\` (src/aggregate/choices.ts: 5.1 bytes per binary measurement —
  its group 4, its model index 1 up to 256 models, its verdict 1 bit —, sized once from the sources' counts, sorted in
  place by ordering; sample keys interned in typed arrays, about 30 bytes per sample), releases it once the choice
  data is made (choice sets interned in a hash table of typed arrays, no key string per set; model indices and event
  weights stored only as wide as needed; each growing array collected as soon as it is copied to shared memory),
  collects the released arrays before the bootstrap threads start, fits Plackett–Luce once, and refits the 1,000
  bootstrap replicates with the chord method warm-started from the full fit and preconditioned by the full-data
  Hessian (src/aggregate/pl-bootstrap.ts: factored once and shared), on worker threads that each replay the one seeded
  resampling stream and read the one copy of the choice data on shared memory; a thread holds one byte per sample
  (the replicate's counts) and 8 per choice set (4 while the weights are whole). The replicates, and so the scores,
  CIs and rank intervals, are those of the Newton refits used before (equal to within the refit tolerance; checked by
  test/aggregate/pl-bootstrap.test.ts and on the 1M and 10M pools: the JSON identical apart from timings).
- \`pool subset\` and \`pool validate --source\` read the source into the sparse form of the models × samples matrix
  (src/aggregate/matrix.ts: 2 bytes per binary measurement up to 256 models — model index 1, verdict 1 — and 5 and a
  bit while reading; sample keys in a \`KeyTable\` of typed arrays, which the choice data of the whole matrix shares),
  in which \`pool subset\` works throughout (the 2PL fit, the choice data, the scores on a subset read only the
  measured cells; the same numbers as the dense form); the samples are chosen on typed arrays, each repetition's 2PL
  fit and each budget's per-sample arrays are collected before the next. \`pool validate --source\` draws its drop
  masks per measured cell (one byte each, the same draws as the dense form) and fits every method on the kept cells
  only (the 1M pool's JSON byte-identical to the dense form's). \`pool query\` indexes the samples as it reads them and
  keeps only what a hit shows.
- From 1M to 10M measurements (rows \`4c0aaa9\` and later) the peak memory of \`rank\` and \`report --rank\` goes from
  126–127 MB to about 200 MB, \`pool subset\` from 127 to about 240 MB, \`import csv\` from 131 to 146 MB; from 10k to 1M it
  is flat (119–127 MB). What still grows is the compact data itself: the ranking's accumulator while reading (about
  5 bytes per measurement and 35 per sample, its peak), then the choice data (3.9 bytes per measurement) that the
  1,000 bootstrap replicates read again and again; \`pool subset\`'s 2 bytes per cell and its per-sample arrays (the 2PL fit's, each strategy's). Constant
  memory would need that data on disk and read again for every replicate (37 MB a replicate for the 10M ranking: 37 GB of reads for 1,000).
- \`import csv\` / \`import jsonl\` parse in 1 MiB batches (src/importers/csv.ts, \`readLineBatches\`) and hand the
  store 4,096 rows a call; the store interns each row's slice, model, opponent, kind, direction, tie tolerance and
  weight as a numbered profile (at most 65,536 an import; rows past that are staged whole), appends the rows narrow
  (profile, sample key, repeat, value, line) to an unindexed staging table, and on commit sorts them narrow (SQLite's
  external sort) and writes them into the pool in key order; a measurement given twice is found by the key during
  that copy and reported with both lines. Samples are added once per key by the store (\`addSampleIfNew\`), so the
  importer keeps no set of every key: peak memory is flat from 1M to 10M measurements. bench/import.ts measures the
  imports alone (rows/s, CPU, peak RSS, and the load average beside each figure).
`);
if (!values.keep) rmSync(work, { recursive: true, force: true });
console.log(`\nwrote ${join(values.out, 'scaling.md')} and scaling.svg`);
