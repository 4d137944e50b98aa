/**
 * Memory and throughput of a run as it grows: `assay run` (the compiled CLI) on GSM8K's 1,319 test questions with
 * 1, 4, 16 and 38 epochs (1.3k to 50k attempts) against a zero-latency local OpenAI-compatible server (the fake
 * server in its own process), every attempt parsed, graded and durably stored. Reports attempts/s and the peak RSS
 * of the assay process (GNU time). Memory should stay flat as the run grows: the plan and the attempts stream.
 *
 *   node --import tsx bench/memory.ts [--epochs 1,4,16,38] [--root <checkout to measure>] [--out bench/out/memory.json]
 *
 * `--root` measures another checkout (e.g. a worktree of an older commit, built with `node scripts/build.mjs`), so two
 * releases are compared on one machine in one session. Not a test: timings are reported, never asserted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { shared as sharedPath } from '../testkit/shared.ts';

const HERE = fileURLToPath(new URL('..', import.meta.url));
const GSM8K = sharedPath('data/gsm8k/test.jsonl');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'bench/fake-server-cli.ts'), '--port', '0', '--gsm8k', GSM8K, '--accuracy', '0.7'], { cwd: HERE, stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((res, rej) => {
    rl.once('line', res);
    child.once('exit', (c) => rej(new Error(`fake server exited ${c}`)));
  });
  return { url: JSON.parse(first).url, stop: () => child.kill('SIGTERM') };
}

async function main(): Promise<void> {
  const root = resolve(arg('root', HERE));
  const epochsList = arg('epochs', '1,4,16,38').split(',').map(Number);
  const outFile = arg('out', join(HERE, 'bench/out/memory.json'));
  spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  const server = await startServer();
  const dir = mkdtempSync(join(tmpdir(), 'assay-mem-'));
  const rows = [];
  try {
    for (const epochs of epochsList) {
      const pool = join(dir, `e${epochs}.sqlite`);
      const args = ['run', '--dataset', `gsm8k:${GSM8K}`, '--model', `openai-compatible:${server.url}#fake-model`, '--epochs', String(epochs), '--seed', '0', '--temperature', '0.6', '--pool', pool, '--json', '--concurrency', '64'];
      const t0 = process.hrtime.bigint();
      // The CLI as users start it (`npx assay` runs bin/assay.js through its shebang, with its V8 flags).
      const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', join(root, 'bin/assay.js'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r.status !== 0) throw new Error(`assay run failed (${r.status}): ${r.stderr.slice(-2000)}`);
      const peak = Number(/MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024;
      const json = JSON.parse(r.stdout);
      const attempts = json.run.planned as number;
      const row = { epochs, attempts, seconds_process: +seconds.toFixed(2), seconds_run: +json.run.seconds.toFixed(2), attempts_per_s: Math.round(attempts / json.run.seconds), peak_rss_mb: +peak.toFixed(1), accuracy: json.statistics[0]?.statistics.accuracy };
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
      rmSync(pool, { force: true });
    }
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const out = { root, node: process.version, date: new Date().toISOString(), rows };
  mkdirSync(join(HERE, 'bench/out'), { recursive: true });
  writeFileSync(outFile, JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

await main();
