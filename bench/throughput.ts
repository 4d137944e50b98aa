/**
 * Harness throughput benchmark (the runner's own overhead): `assay run` end to end against a zero-latency local
 * OpenAI-compatible server (testkit/fake-openai-server.ts in its own process), with every attempt and
 * measurement durably stored, parsing, grading and progress included. Reports samples/s and the peak RSS of the
 * assay process (GNU time), for GSM8K's 1,319 test questions and for 50,000 synthetic questions.
 *
 *   node --import tsx bench/throughput.ts [--sizes 1319,50000] [--concurrency 64] [--out bench/out/throughput.json]
 *
 * It builds dist/ first and measures the compiled CLI. Not a test: timings are reported, never asserted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { shared } from '../testkit/shared.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GSM8K = shared('data/gsm8k/test.jsonl');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

async function startServer(args: string[]): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/fake-server-cli.ts'), '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((res, rej) => {
    rl.once('line', res);
    child.once('exit', (c) => rej(new Error(`fake server exited ${c}`)));
  });
  return { url: JSON.parse(first).url, stop: () => child.kill('SIGTERM') };
}

/** Run `assay run` under GNU time; return wall seconds, peak RSS (MB) and the run's JSON. */
function timedRun(args: string[]): { seconds: number; peakRssMb: number; json: any } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, join(ROOT, 'dist/cli/main.js'), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`assay run failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const m = /MAXRSS_KB=(\d+)/.exec(r.stderr);
  return { seconds, peakRssMb: m ? Number(m[1]) / 1024 : NaN, json: JSON.parse(r.stdout) };
}

async function main(): Promise<void> {
  const sizes = arg('sizes', '1319,50000').split(',').map(Number);
  const concurrency = arg('concurrency', '64');
  const outFile = arg('out', join(ROOT, 'bench/out/throughput.json'));
  // Measure the compiled CLI (what `npm ci` installs), not the TypeScript source through tsx.
  spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'assay-bench-'));
  const results = [];
  try {
    for (const n of sizes) {
      let dataset: string;
      let server;
      if (n === 1319) {
        dataset = `gsm8k:${GSM8K}`;
        server = await startServer(['--gsm8k', GSM8K, '--accuracy', '0.7']);
      } else {
        dataset = `jsonl:${join(dir, `synthetic-${n}.jsonl`)}`;
        server = await startServer(['--synthetic', String(n), '--write-dataset', join(dir, `synthetic-${n}.jsonl`), '--accuracy', '0.7']);
      }
      try {
        const pool = join(dir, `pool-${n}.sqlite`);
        const r = timedRun(['run', '--dataset', dataset, '--model', `openai-compatible:${server.url}#fake-model`, '--scorer', 'gsm8k', '--concurrency', concurrency, '--pool', pool, '--json']);
        const run = r.json.run;
        const row = {
          tool: 'assay', n, concurrency: Number(concurrency), seconds_wall_process: +r.seconds.toFixed(2), seconds_run: +run.seconds.toFixed(2),
          samples_per_s_end_to_end: Math.round(n / r.seconds), samples_per_s_run_loop: Math.round(n / run.seconds),
          peak_rss_mb: +r.peakRssMb.toFixed(1), stored_ok: run.counts.ok, measurements: run.counts.measurements, accuracy: r.json.statistics[0].statistics.accuracy,
        };
        console.log(JSON.stringify(row));
        results.push(row);
      } finally {
        server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2));
  void readFileSync;
}

await main();
