/**
 * Distributed-run throughput: attempts per second with 1, 2 and 4 `assay worker` processes on one PostgreSQL queue,
 * against the fake OpenAI-compatible server (its own process) answering after a fixed latency (default 50 ms, so that
 * concurrency matters), every attempt graded and durably stored in one SQLite pool file shared by the workers. For
 * reference, the same run made by one in-process `assay run` at the same concurrency as one worker.
 *
 *   node --import tsx bench/workers.ts [--workers 1,2,4] [--questions 1500] [--epochs 2] [--concurrency 16]
 *                                      [--latency-ms 50] [--job-size 32] [--pool sqlite|postgres] [--out bench/out/workers.json]
 *
 * Timing of a worker row: from the moment the jobs are on the queue (workers started and warmed up by a small run of
 * their own) until every planned attempt is stored, read from the pool by `queueProgress` every 100 ms. `--pool
 * postgres` puts the pool in the queue's database instead of a SQLite file. The load average of the machine is printed
 * with the table: on a shared machine, CPU starvation shows in every row. The in-process row is the run's own
 * `seconds` (planning included). The ideal rate of one worker is concurrency / latency. Not a test: timings are
 * reported, never asserted. Needs PostgreSQL (testkit/postgres.ts starts a throw-away cluster).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { datasetTask } from '../src/tasks/index.ts';
import { enqueueRun } from '../src/queue/enqueue.ts';
import { openQueue } from '../src/queue/connection.ts';
import { queueProgress } from '../src/queue/progress.ts';
import { openPool } from '../src/store/open.ts';
import { freshDatabase, postgresUnavailable } from '../testkit/postgres.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/assay.js');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

async function startServer(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/fake-server-cli.ts'), '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((res, rej) => {
    rl.once('line', res);
    child.once('exit', (c) => rej(new Error(`fake server exited ${c}`)));
  });
  return { url: JSON.parse(first).url, child };
}

/** Start a worker process; resolves once it takes jobs. */
async function startWorker(queue: string, concurrency: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'worker', '--queue', queue, '--concurrency', String(concurrency), '--drain', '5', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.once('exit', () => {
    try {
      reports.push(JSON.parse(out));
    } catch {
      // killed before it reported
    }
  });
  const rl = createInterface({ input: child.stderr! });
  await new Promise<void>((res, rej) => {
    rl.on('line', (l) => {
      if (/taking jobs/.test(l)) res();
      if (/Error|error:/.test(l)) process.stderr.write(`worker: ${l}\n`);
    });
    child.once('exit', (c) => rej(new Error(`worker exited ${c}`)));
  });
  return child;
}

/** The JSON reports of the worker processes that stopped (their CPU time). */
const reports: { attempts_made: number; cpu_seconds: number }[] = [];

function stop(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    child.once('exit', () => res());
    child.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  const why = postgresUnavailable();
  if (why) throw new Error(why);
  const workerCounts = arg('workers', '1,2,4').split(',').map(Number);
  const questions = Number(arg('questions', '1500'));
  const epochs = Number(arg('epochs', '2'));
  const concurrency = Number(arg('concurrency', '16'));
  const latency = Number(arg('latency-ms', '50'));
  const jobSize = Number(arg('job-size', '32'));
  const outFile = arg('out', join(ROOT, 'bench/out/workers.json'));
  // The pool the workers share: a SQLite file, or the queue's PostgreSQL database.
  const poolKind = arg('pool', 'sqlite');
  const dir = mkdtempSync(join(tmpdir(), 'assay-workers-bench-'));
  const load0 = loadavg().map((x) => x.toFixed(1)).join(' ');
  const dataset = join(dir, 'synthetic.jsonl');
  const server = await startServer(['--synthetic', String(questions), '--write-dataset', dataset, '--latency-ms', String(latency)]);
  const model = `openai-compatible:${server.url}#fake-model`;
  const planned = questions * epochs;
  const rows: { setup: string; workers: number; attempts: number; seconds: number; per_second: number; ideal_per_second: number; cpu_ms_per_attempt?: number }[] = [];
  try {
    // Reference: the in-process runner, one process, the same concurrency as one worker.
    {
      const pool = join(dir, 'inprocess.sqlite');
      const child = spawn(process.execPath, [BIN, 'run', '--dataset', dataset, '--scorer', 'math', '--model', model, '--epochs', String(epochs), '--concurrency', String(concurrency), '--pool', pool, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      await new Promise((r) => child.once('exit', r));
      const seconds = JSON.parse(out).run.seconds as number;
      rows.push({ setup: 'assay run (in process, SQLite)', workers: 1, attempts: planned, seconds, per_second: planned / seconds, ideal_per_second: (concurrency * 1000) / latency });
    }
    for (const w of workerCounts) {
      const queue = await freshDatabase();
      const poolFile = join(dir, `workers-${w}.sqlite`);
      const poolUrl = poolKind === 'postgres' ? queue : `sqlite:${poolFile}`;
      const workers = await Promise.all(Array.from({ length: w }, () => startWorker(queue, concurrency)));
      try {
        const q = await openQueue(queue);
        try {
          const waitFor = async (runId: string, n: number) => {
            const pool = await openPool(poolUrl, { readonly: true });
            try {
              for (;;) {
                const p = await queueProgress(runId, { queue: q, pool });
                if (p.done + p.failed >= n) break;
                await new Promise((res) => setTimeout(res, 100));
              }
            } finally {
              await pool.close();
            }
          };
          // Warm-up (not timed): a small run of its own (another seed) starts every worker's grading thread and connections.
          const warm = await enqueueRun(datasetTask(dataset, { scorers: ['math'] }), model, { pool: poolUrl, queue: q, epochs: 1, limit: 16 * w, jobSize: 4, config: { seed: 1 } });
          await waitFor(warm.runs[0]!.run_id, 16 * w);
          const r = await enqueueRun(datasetTask(dataset, { scorers: ['math'] }), model, { pool: poolUrl, queue: q, epochs, jobSize, concurrency });
          const t0 = performance.now();
          await waitFor(r.runs[0]!.run_id, planned);
          const seconds = (performance.now() - t0) / 1000;
          rows.push({ setup: `${w} worker process${w > 1 ? 'es' : ''}`, workers: w, attempts: planned, seconds, per_second: planned / seconds, ideal_per_second: (w * concurrency * 1000) / latency });
        } finally {
          await q.close();
        }
      } finally {
        reports.length = 0;
        await Promise.all(workers.map(stop));
      }
      // CPU per attempt over the workers (warm-up and idle polling included).
      const made = reports.reduce((n, r) => n + r.attempts_made, 0);
      if (made) rows[rows.length - 1]!.cpu_ms_per_attempt = (1000 * reports.reduce((n, r) => n + r.cpu_seconds, 0)) / made;
    }
  } finally {
    server.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  const base = rows.find((r) => r.workers === 1 && r.setup.includes('worker'))?.per_second ?? NaN;
  process.stdout.write(`${planned} attempts (${questions} synthetic questions × ${epochs} epochs), ${latency} ms per call, concurrency ${concurrency} per worker, jobs of ${jobSize}; ` +
    `${cpus().length} cores (load average ${load0} before, ${loadavg().map((x) => x.toFixed(1)).join(' ')} after); the workers share a ${poolKind === 'postgres' ? 'PostgreSQL pool (the queue\'s database)' : 'SQLite pool file'}\n\n`);
  process.stdout.write('| setup | attempts/s | seconds | ideal attempts/s (concurrency / latency) | vs 1 worker | worker CPU ms per attempt |\n|---|---:|---:|---:|---:|---:|\n');
  for (const r of rows) process.stdout.write(`| ${r.setup} | ${r.per_second.toFixed(0)} | ${r.seconds.toFixed(2)} | ${r.ideal_per_second.toFixed(0)} | ${r.setup.includes('worker') ? `${(r.per_second / base).toFixed(2)}×` : '—'} | ${r.cpu_ms_per_attempt?.toFixed(2) ?? '—'} |\n`);
  mkdirSync(join(outFile, '..'), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ questions, epochs, latency_ms: latency, concurrency, job_size: jobSize, pool: poolKind, cores: cpus().length, load_before: load0, load_after: loadavg(), rows }, null, 2) + '\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench/workers: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
