/**
 * The viewer under load: a 200k-attempt pool (one run, 50,000 samples × 4 epochs, written straight through the pool
 * interface: synthetic but complete attempts and measurements, 2% failed, 5% truncated, 70% right), served by
 * `assay serve`'s library (`serve`, tokens required, the pool open read-only) in one process, driven from this process
 * over loopback by an open-loop load generator (requests sent on a fixed schedule whatever the answers, so a slow
 * server shows as latency, not as fewer requests; latency counted from the scheduled time) through one keep-alive
 * agent. Mixed routes: the run page (statistics with CIs and the first page of attempts), sample pages (the sample and
 * its attempts with transcripts), attempts pages deep in the run (HTML, and JSON with an outcome filter).
 * Reports per rate: p50/p99 latency, errors, achieved rate, the server's CPU time per request; then the capacity
 * (closed loop, 16 connections); and the server's RSS (from /proc) before and after each stage: memory should stay
 * flat however many requests.
 *
 *   node --import tsx bench/serve.ts [--samples 50000 --epochs 4] [--rates 50,500] [--seconds 20] [--pool <file>] [--out bench/out/serve.json]
 *
 * Not a test: timings are reported, never asserted.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hashJson, sha256 } from '../src/core/hash.ts';
import { createRng } from '../src/core/rng.ts';
import type { Attempt, Measurement, PlannedSample, RunRecord } from '../src/core/schemas.ts';
import { openPool } from '../src/store/open.ts';
import { MemoryTokenStore } from '../src/serve/auth.ts';
import { serve } from '../src/serve/server.ts';

const HERE = fileURLToPath(import.meta.url);
const RUN = 'bench0serve00001';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

/** Write the run: `samples` × `epochs` attempts with a math measurement each. Returns seconds taken. */
async function buildPool(file: string, samples: number, epochs: number): Promise<number> {
  const t0 = performance.now();
  const pool = await openPool(file, { create: true });
  const created = '2025-06-01T00:00:00.000Z';
  const run: RunRecord = {
    id: RUN, status: 'complete', created_at: created, updated_at: created,
    spec: { dataset: { ref: 'generated:bench', name: 'bench', hash: 'h', path: null, size: samples, limit: null }, template: { name: 'plain', hash: 't' }, model: 'reference:noisy?p=0.7', config: { chat_template: true }, epochs, scorers: [{ name: 'math', options: {} }] },
    manifest: {
      toolkit: { name: 'assay', version: '0', git_commit: null }, node: process.version, os: { platform: 'linux', release: '', arch: 'x64' }, cpu: { model: '', cores: 2 },
      provider: { address: 'reference:noisy?p=0.7', kind: 'reference', base_url: null, requested_model: null, reported_model_ids: [] }, generation_config: { chat_template: true },
      template: { name: 'plain', hash: 't' }, dataset: { name: 'bench', ref: 'generated:bench', hash: 'h', size: samples }, epochs, seeds: { generation: 0, bootstrap: 0, reference: 0 },
      scorers: [{ name: 'math', options: {}, metric: { kind: 'binary' } }], runner: { concurrency: 1, timeout_ms: 1, max_retries: 0 }, created_at: created,
    },
  };
  function* plan(): Generator<PlannedSample> {
    for (let i = 0; i < samples; i++) {
      const sample = { id: `q${i}`, input: `Question ${i}: what is ${i} + ${i % 97}? Think step by step.`, target: String(i + (i % 97)), metadata: { category: ['algebra', 'geometry', 'number'][i % 3] } };
      const messages = [{ role: 'user' as const, content: sample.input }];
      yield { sample, index: i, messages, prompt_hash: sha256(JSON.stringify(messages)), target_hash: sha256(sample.target), content_hash: hashJson({ input: sample.input, target: sample.target }) };
    }
  }
  await pool.ensureRun(run, plan());
  const rng = createRng(1);
  for (let i = 0; i < samples; i++) {
    for (let e = 0; e < epochs; e++) {
      const ok = rng.float() >= 0.02, right = rng.float() < 0.7, truncated = rng.float() < 0.05;
      const answer = right ? i + (i % 97) : i;
      const a: Attempt = {
        run_id: RUN, sample_id: `q${i}`, epoch: e, status: ok ? 'ok' : 'error', response: ok ? `Let me work through it. ${i} plus ${i % 97} gives ${answer}. The answer is \\boxed{${answer}}.` : null,
        finish_reason: ok ? (truncated ? 'length' : 'stop') : 'error', prompt_tokens: 24, completion_tokens: ok ? 30 : null, latency_ms: 12, tries: 1, error: ok ? null : 'HTTP 503: overloaded',
        model_id: 'noisy', cache_key: `ck${i}.${e}`, cached: false, meta: null,
      };
      const m: Measurement = { run_id: RUN, sample_id: `q${i}`, epoch: e, scorer: 'math', kind: 'binary', value: ok ? (right ? 1 : 0) : null, extracted: ok ? String(answer) : null, explanation: null, status: ok ? 'ok' : 'attempt_error' };
      await pool.write(a, [m]);
    }
  }
  await pool.close();
  return (performance.now() - t0) / 1000;
}

/** The server process: `serve` over the pool (read-only), tokens required, no rate limit (one client sends all the load). */
async function serverMain(file: string): Promise<void> {
  const pool = await openPool(file, { readonly: true });
  const tokens = new MemoryTokenStore();
  const { token } = tokens.create({ name: 'bench', role: 'read', by: 'bench' });
  const running = await serve(pool, { port: 0, tokens, rateLimit: null });
  process.stdout.write(JSON.stringify({ url: running.url, token, pid: process.pid }) + '\n');
  process.on('SIGTERM', async () => {
    await running.close();
    await pool.close();
    process.exit(0);
  });
}

/** CPU time (user + system) the process has used, in ms (from /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Stage {
  rate: number;
  seconds: number;
  sent: number;
  ok: number;
  errors: number;
  achieved_rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  by_route: Record<string, { n: number; p50_ms: number; p99_ms: number }>;
  /** Server CPU time per request (user + system), a figure less sensitive than latency to other load on the machine. */
  server_cpu_ms_per_request: number;
  /** The machine's 1-minute load average when the stage started (2 cores here: above 2, other processes compete). */
  load_average: number;
  rss_before_mb: number;
  rss_after_mb: number;
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);

function get(agent: Agent, url: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** The mixed workload: 20% run page, 40% sample pages, 25% attempts pages (HTML), 15% filtered attempts (JSON), at random places in the run. */
function pick(rng: ReturnType<typeof createRng>, samples: number, epochs: number): [string, string] {
  const u = rng.float();
  const i = Math.floor(rng.float() * samples);
  if (u < 0.2) return ['run page', `/runs/${RUN}`];
  if (u < 0.6) return ['sample page', `/runs/${RUN}/sample?id=q${i}`];
  if (u < 0.85) return ['attempts page (HTML)', `/runs/${RUN}?after=${i}.${epochs - 1}`];
  return ['attempts page (JSON, filter)', `/api/runs/${RUN}/attempts?after=${i}.${epochs - 1}&limit=50&filter=${rng.float() < 0.5 ? 'incorrect' : 'truncated'}`];
}

/** Closed-loop capacity: `connections` clients each sending the next request when the last is answered, for `seconds`. */
async function capacity(base: string, token: string, pid: number, connections: number, seconds: number, samples: number, epochs: number): Promise<{ connections: number; seconds: number; requests: number; errors: number; rps: number; p50_ms: number; p99_ms: number; server_cpu_ms_per_request: number; load_average: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const rng = createRng(7);
  const lat: number[] = [];
  let errors = 0;
  const cpu0 = cpuMs(pid), load = loadavg()[0]!;
  const t0 = performance.now(), end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      if ((await get(agent, base + pick(rng, samples, epochs)[1], token)) !== 200) errors++;
      lat.push(performance.now() - t);
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return { connections, seconds, requests: lat.length, errors, rps: r2(lat.length / elapsed), p50_ms: r2(quantile(lat, 0.5)), p99_ms: r2(quantile(lat, 0.99)), server_cpu_ms_per_request: r2((cpuMs(pid) - cpu0) / lat.length), load_average: r2(load) };
}

/** Open-loop load at `rate` requests/s for `seconds`; latency from each request's scheduled time to its last byte. */
async function stage(base: string, token: string, pid: number, rate: number, seconds: number, samples: number, epochs: number, seed: number): Promise<Stage> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const rng = createRng(seed);
  const rssBefore = rssMb(pid);
  const cpu0 = cpuMs(pid);
  const load = loadavg()[0]!;
  const total = Math.round(rate * seconds);
  const lat: number[] = [];
  const routes = new Map<string, number[]>();
  let ok = 0, errors = 0;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let k = 0; k < total; k++) {
    const at = t0 + (k * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const [route, path] = pick(rng, samples, epochs);
    pending.push(get(agent, base + path, token).then((status) => {
      const ms = performance.now() - at;
      lat.push(ms);
      (routes.get(route) ?? routes.set(route, []).get(route)!).push(ms);
      if (status === 200) ok++;
      else errors++;
    }));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    rate, seconds, sent: total, ok, errors, achieved_rps: r2(total / elapsed), p50_ms: r2(quantile(lat, 0.5)), p90_ms: r2(quantile(lat, 0.9)), p99_ms: r2(quantile(lat, 0.99)), max_ms: r2(lat[lat.length - 1] ?? NaN),
    by_route: Object.fromEntries([...routes].map(([k, v]) => {
      v.sort((a, b) => a - b);
      return [k, { n: v.length, p50_ms: r2(quantile(v, 0.5)), p99_ms: r2(quantile(v, 0.99)) }];
    })),
    server_cpu_ms_per_request: r2((cpuMs(pid) - cpu0) / total), load_average: r2(load),
    rss_before_mb: r2(rssBefore), rss_after_mb: r2(rssMb(pid)),
  };
}

async function main(): Promise<void> {
  const samples = Number(arg('samples', '50000')), epochs = Number(arg('epochs', '4'));
  const rates = arg('rates', '50,500').split(',').map(Number);
  const seconds = Number(arg('seconds', '20'));
  const tmp = mkdtempSync(join(tmpdir(), 'assay-bench-serve-'));
  const file = arg('pool', join(tmp, 'pool.sqlite'));
  try {
    let buildS: number | null = null;
    if (!existsSync(file)) {
      buildS = await buildPool(file, samples, epochs);
      process.stderr.write(`built ${samples * epochs} attempts in ${buildS.toFixed(1)} s (${file})\n`);
    }
    const child = spawn(process.execPath, ['--import', 'tsx', HERE, '--server', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await new Promise<string>((res, rej) => {
      createInterface({ input: child.stdout! }).once('line', res);
      child.once('exit', (c) => rej(new Error(`server exited ${c}`)));
    });
    const { url, token, pid } = JSON.parse(first) as { url: string; token: string; pid: number };
    const rssStart = rssMb(pid);
    // The first run page computes the run's statistics (2000 bootstrap replicates over 50k samples) and caches them.
    const agent = new Agent({ keepAlive: true });
    let t = performance.now();
    const cold = await get(agent, `${url}/runs/${RUN}`, token);
    const coldMs = performance.now() - t;
    t = performance.now();
    await get(agent, `${url}/runs/${RUN}`, token);
    const warmMs = performance.now() - t;
    t = performance.now();
    const deep = await get(agent, `${url}/runs/${RUN}?after=${samples - 10}.0`, token);
    const deepMs = performance.now() - t;
    agent.destroy();
    const rssWarm = rssMb(pid);
    process.stderr.write(`server up: RSS ${rssStart.toFixed(0)} MB; run page cold ${coldMs.toFixed(0)} ms (${cold}), warm ${warmMs.toFixed(1)} ms, deepest page ${deepMs.toFixed(1)} ms (${deep}); RSS ${rssWarm.toFixed(0)} MB\n`);
    const stages: Stage[] = [];
    for (const [k, rate] of rates.entries()) {
      const s = await stage(url, token, pid, rate, seconds, samples, epochs, 100 + k);
      stages.push(s);
      process.stderr.write(`${rate} req/s: sent ${s.sent}, ok ${s.ok}, errors ${s.errors}, achieved ${s.achieved_rps}/s, p50 ${s.p50_ms} ms, p90 ${s.p90_ms} ms, p99 ${s.p99_ms} ms, max ${s.max_ms} ms; server CPU ${s.server_cpu_ms_per_request} ms/request; load average ${s.load_average}; RSS ${s.rss_before_mb} → ${s.rss_after_mb} MB\n`);
      for (const [r, v] of Object.entries(s.by_route)) process.stderr.write(`    ${r}: ${v.n} requests, p50 ${v.p50_ms} ms, p99 ${v.p99_ms} ms\n`);
    }
    const cap = await capacity(url, token, pid, 16, Math.min(seconds, 15), samples, epochs);
    process.stderr.write(`capacity (closed loop, ${cap.connections} connections, ${cap.seconds} s): ${cap.rps} req/s, p50 ${cap.p50_ms} ms, p99 ${cap.p99_ms} ms, errors ${cap.errors}; server CPU ${cap.server_cpu_ms_per_request} ms/request; load average ${cap.load_average}; RSS ${rssMb(pid).toFixed(0)} MB\n`);
    const rssEnd = rssMb(pid);
    child.kill('SIGTERM');
    const result = { attempts: samples * epochs, samples, epochs, build_s: buildS, rss_start_mb: rssStart, cold_run_page_ms: coldMs, warm_run_page_ms: warmMs, deepest_page_ms: deepMs, rss_after_warmup_mb: rssWarm, stages, capacity: cap, rss_end_mb: rssEnd, cores: availableParallelism(), node: process.version };
    const out = arg('out', '');
    if (out) {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    }
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    if (!process.argv.includes('--pool')) rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv.includes('--server')) await serverMain(arg('server', ''));
else await main();
