/**
 * What grading off the main thread costs (src/runner/grading-pool.ts): the same verdicts graded inline and in the
 * grading worker, 64 in flight as the runner keeps them, for the `gsm8k` and `math` scorers on GSM8K-style answers.
 * Reports verdicts per second and the process's CPU time per verdict (all threads), and the main thread's share.
 *
 *   node --import tsx bench/grading-pool.ts [--n 50000] [--out bench/out/grading-pool.json]
 *
 * Figures, not assertions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Sample } from '../src/core/schemas.ts';
import { gradeAll } from '../src/runner/grade.ts';
import { GradingPool } from '../src/runner/grading-pool.ts';
import { createScorer } from '../src/scorers/registry.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const N = Number(arg('n', '50000'));
const outFile = arg('out', join(ROOT, 'bench/out/grading-pool.json'));

const cases: { sample: Sample; text: string }[] = Array.from({ length: 200 }, (_, i) => {
  const a = (i * 37) % 1000, b = (i * 91) % 1000;
  return {
    sample: { id: `q${i}`, input: `Question ${i}: what is ${a}+${b}?`, target: String(a + b), metadata: {} },
    text: `Let me think step by step. We add ${a} and ${b}. ${a} + ${b} = ${a + b + (i % 3 === 0 ? 1 : 0)}. The answer is ${a + b + (i % 3 === 0 ? 1 : 0)}.`,
  };
});

async function measure(label: string, scorer: string, pool: GradingPool | false): Promise<Record<string, number | string>> {
  const s = [createScorer(scorer)];
  // warm up (worker start-up, JIT)
  for (let i = 0; i < 2000; i++) await gradeAll(s, cases[i % cases.length]!.sample, cases[i % cases.length]!.text, undefined, { pool });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0, ok = 0;
  let mainBusy = 0;
  const worker = async () => {
    while (next < N) {
      const c = cases[next++ % cases.length]!;
      const m0 = performance.now();
      const p = gradeAll(s, c.sample, c.text, undefined, { pool });
      mainBusy += performance.now() - m0;
      const [v] = await p;
      if (v!.status === 'ok') ok++;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { where: label, scorer, verdicts: N, ok, verdicts_per_s: Math.round((N / ms) * 1000), cpu_us_per_verdict: +((cpu.user + cpu.system) / N).toFixed(1), wall_s: +(ms / 1000).toFixed(2) };
}

const pool = new GradingPool();
const rows = [];
for (const scorer of ['gsm8k', 'math']) {
  for (const [label, p] of [['inline (main thread)', false], ['grading worker', pool]] as const) {
    const row = await measure(label, scorer, p);
    console.log(JSON.stringify(row));
    rows.push(row);
  }
}
await pool.close();
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
