/**
 * Log-likelihood benchmarks: requests per second against the loopback test server, tokens per second on
 * the tiny GGUF through the real llama.cpp runtime.
 *
 *   node --import tsx bench/loglikelihood.ts [--items 4000] [--concurrency 64] [--gguf-threads 1] [--out bench/out/loglikelihood.json]
 *
 * 1. HTTP, provider level: `items` 4-option multiple-choice items, each one `/v1/completions` call with echo +
 *    logprobs carrying the context and the four context + option prompts (lm-eval's request unit is one
 *    (context, continuation) pair: 4 per item). The server (testkit/fake-openai-server.ts) runs in its own process.
 * 2. HTTP, end to end: the same items as a task through `evaluate` (solver `loglikelihood_choice`, scorers acc and
 *    acc_norm, every attempt and measurement stored in a SQLite pool).
 * 3. GGUF: the tiny model of the test suite (2 layers × 64 dims, 261 tokens), one thread: generation tokens/s
 *    (greedy, 128 tokens), scoring tokens/s (log-likelihoods of 4 continuations after a ~100-token context: prompt
 *    tokens evaluated per second) and rolling tokens/s (2,000-token texts in 256-token windows).
 * Not a test: timings are reported, never asserted.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { writeTinyGguf } from '../testkit/tiny-gguf.ts';
import type { Sample } from '../src/core/schemas.ts';
import { createProvider } from '../src/providers/registry.ts';
import type { Provider } from '../src/providers/types.ts';
import { evaluate } from '../src/runner/evaluate.ts';
import { openPool } from '../src/store/open.ts';
import { defineTask } from '../src/tasks/task.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/fake-server-cli.ts'), '--port', '0', '--synthetic', '10'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((res, rej) => {
    rl.once('line', res);
    child.once('exit', (c) => rej(new Error(`fake server exited ${c}`)));
  });
  return { url: JSON.parse(first).url, stop: () => child.kill('SIGTERM') };
}

function items(n: number): Sample[] {
  return Array.from({ length: n }, (_, i) => {
    const a = 100 + (i % 900), b = 7 + ((i * 31) % 500);
    const g = a + b;
    return { id: `q${i}`, input: `Question ${i}: a shop has ${a} apples and receives ${b} more. How many apples does it have now?`, target: String(g), choices: [String(g), String(g + 1), String(g - 10), String(g + 100)], metadata: {} };
  });
}

async function providerLevel(p: Provider, samples: Sample[], concurrency: number): Promise<{ items: number; requests: number; seconds: number; requests_per_s: number; http_calls_per_s: number }> {
  const signal = new AbortController().signal;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < samples.length) {
      const s = samples[next++]!;
      const context = `${s.input}\nAnswer:`;
      await p.loglikelihood!({ requests: s.choices!.map((c) => ({ context, continuation: ` ${c}` })), sample: s, epoch: 0, signal });
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const requests = samples.length * 4;
  return { items: samples.length, requests, seconds, requests_per_s: requests / seconds, http_calls_per_s: samples.length / seconds };
}

async function main(): Promise<void> {
  const n = Number(arg('items', '4000'));
  const concurrency = Number(arg('concurrency', '64'));
  const threads = Number(arg('gguf-threads', '1'));
  const outFile = arg('out', join(ROOT, 'bench/out/loglikelihood.json'));
  const dir = mkdtempSync(join(tmpdir(), 'assay-llbench-'));
  const out: Record<string, unknown> = { node: process.version, items: n, concurrency };
  const server = await startServer();
  try {
    const samples = items(n);
    const p = await createProvider(`openai-compatible:${server.url}#fake`, { concurrency });
    await providerLevel(p, samples.slice(0, 200), concurrency); // warm-up
    out.http_provider = await providerLevel(p, samples, concurrency);
    await p.close();
    console.error('http provider', out.http_provider);

    const pool = await openPool(join(dir, 'pool.sqlite'), { create: true });
    const task = defineTask({ name: 'bench-mc', dataset: { name: 'bench-mc', samples }, template: 'text:{question}\nAnswer:', solver: 'loglikelihood_choice', scorers: ['acc', 'acc_norm'] });
    const t0 = performance.now();
    const r = await evaluate(task, `openai-compatible:${server.url}#fake`, { pool, concurrency, cache: false });
    const seconds = (performance.now() - t0) / 1000;
    await pool.close();
    out.http_end_to_end = { status: r.status, items: n, requests: 4 * n, seconds, items_per_s: n / seconds, requests_per_s: (4 * n) / seconds, stored: 'sqlite (WAL), attempts + 2 measurements per item' };
    console.error('http end to end', out.http_end_to_end);
  } finally {
    server.stop();
  }

  const gguf = writeTinyGguf(join(dir, 'tiny.gguf'), { seed: 1 });
  const tLoad = performance.now();
  const q = await createProvider(`llama-cpp:${gguf.path}?context_size=256&threads=${threads}`, { concurrency: 1 });
  const loadSeconds = (performance.now() - tLoad) / 1000;
  const signal = new AbortController().signal;
  const s0: Sample = { id: 'x', input: 'x', target: 'x', metadata: {} };
  // Generation: greedy, 128 tokens, 20 calls.
  let genTokens = 0;
  let t = performance.now();
  for (let i = 0; i < 20; i++) {
    const g = await q.generate({ messages: [{ role: 'user', content: `Story ${i}: once upon a time` }], config: { chat_template: false, temperature: 0, max_tokens: 128 }, sample: s0, epoch: 0, signal });
    genTokens += g.completion_tokens ?? 0;
  }
  const genSeconds = (performance.now() - t) / 1000;
  // Scoring: 200 items × 4 continuations after a ~100-token context.
  const context = 'The following is a question about arithmetic. '.repeat(2) + 'How many apples are there?\nAnswer:';
  let scored = 0;
  t = performance.now();
  for (let i = 0; i < 200; i++) {
    const r = await q.loglikelihood!({ requests: [' 12', ' 13', ' 112', ' 2'].map((c) => ({ context: context + ` (${i})`, continuation: c })), sample: s0, epoch: 0, signal });
    scored += r.prompt_tokens ?? 0;
  }
  const scoreSeconds = (performance.now() - t) / 1000;
  // Rolling: 10 texts of about 2,000 tokens.
  let rolled = 0;
  t = performance.now();
  for (let i = 0; i < 10; i++) {
    const r = await q.loglikelihoodRolling!({ requests: [`Document ${i}. ` + 'All work and no play makes Jack a dull boy. '.repeat(45)], sample: s0, epoch: 0, signal });
    rolled += r.results[0]!.tokens;
  }
  const rollSeconds = (performance.now() - t) / 1000;
  await q.close();
  out.gguf = {
    model: `tiny GGUF: ${gguf.bytes} bytes, vocabulary ${gguf.vocab}, 2 layers × 64 dims, F32`, threads, load_seconds: loadSeconds,
    generation: { tokens: genTokens, seconds: genSeconds, tokens_per_s: genTokens / genSeconds },
    scoring: { items: 200, requests: 800, prompt_tokens_evaluated: scored, seconds: scoreSeconds, tokens_per_s: scored / scoreSeconds, requests_per_s: 800 / scoreSeconds },
    rolling: { tokens: rolled, seconds: rollSeconds, tokens_per_s: rolled / rollSeconds },
  };
  console.error('gguf', out.gguf);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

await main();
