/**
 * The viewer under load: a 200k-attempt pool (one run, 50,000 samples × 4 epochs, written straight through the pool
 * interface: synthetic but complete attempts and measurements, 2% failed, 5% truncated, 70% right), served by
 * `assay serve`'s library (`serve`, tokens required from a token file, the pool open read-only) in one process, or in
 * N worker processes behind a primary (`--workers`, node:cluster as `assay serve --workers N` runs them: rate limits in
 * the primary, here none), driven from this process over loopback by an open-loop load generator (requests sent on a
 * fixed schedule whatever the answers, so a slow server shows as latency, not as fewer requests; latency counted from
 * the scheduled time) through one keep-alive agent of up to 256 sockets. Mixed routes: the run page (statistics with
 * CIs and the first page of attempts), sample pages (the sample and its attempts with transcripts), attempts pages deep
 * in the run (HTML, and JSON with an outcome filter).
 * Reports, for each worker count and rate: achieved rate, p50/p99 latency, errors, the server's CPU time per request
 * (every server process); then the capacity (closed loop, 16 connections); and the RSS of every server process (from
 * /proc, sampled every 500 ms through the whole run: first, last and max per process): memory should stay flat
 * however many requests. Also: the first run page (its statistics computed on the analysis thread) and how long a
 * /health request takes meanwhile.
 *
 *   node --import tsx bench/serve.ts [--samples 50000 --epochs 4] [--workers 1,2] [--rates 50,500] [--seconds 30] [--pool <file>] [--out bench/out/serve.json]
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
import { FileTokenStore } from '../src/serve/auth.ts';
import { announceListening, isServeWorker, onStopRequest, startCluster, workerId } from '../src/serve/cluster.ts';
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

/**
 * The server: `serve` over the pool (read-only), tokens from `stateDir`'s token file, no rate limit (one client sends
 * all the load). With `workers` > 1 this process is the primary and its forks (this script again) serve. Prints one
 * JSON line: url and process ids.
 */
async function serverMain(file: string, stateDir: string, workers: number): Promise<void> {
  if (workers > 1 && !isServeWorker()) {
    const c = await startCluster({ workers, rateLimit: null });
    process.stdout.write(JSON.stringify({ url: c.url, pids: [process.pid, ...c.pids()] }) + '\n');
    process.on('SIGTERM', async () => {
      await c.close();
      process.exit(0);
    });
    return;
  }
  const pool = await openPool(file, { readonly: true });
  const tokens = new FileTokenStore(join(stateDir, 'tokens.json'));
  const running = await serve(pool, { port: 0, tokens, rateLimit: null, workerId: workerId() });
  const stop = async () => {
    await running.close();
    await pool.close();
    process.exit(0);
  };
  if (isServeWorker()) {
    announceListening(running.url);
    onStopRequest(stop);
  } else process.stdout.write(JSON.stringify({ url: running.url, pids: [process.pid] }) + '\n');
  process.on('SIGTERM', stop);
}

/** CPU time (user + system) the process has used, in ms (from /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const cpuAll = (pids: number[]) => pids.reduce((a, p) => a + cpuMs(p), 0);

/** RSS of each process sampled every `everyMs` until stopped: per process first, last, max (MB) and the samples. */
function rssSampler(pids: number[], everyMs = 500) {
  const series = new Map<number, { t: number; mb: number }[]>(pids.map((p) => [p, []]));
  const t0 = performance.now();
  const sample = () => {
    for (const p of pids) {
      const mb = rssMb(p);
      if (Number.isFinite(mb)) series.get(p)!.push({ t: r2((performance.now() - t0) / 1000), mb: r2(mb) });
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    /** Summary of the samples taken since `fromS` seconds (all by default). */
    summary(fromS = 0) {
      return Object.fromEntries([...series].map(([pid, v]) => {
        const w = v.filter((x) => x.t >= fromS);
        return [pid, { first_mb: w[0]?.mb ?? NaN, last_mb: w.at(-1)?.mb ?? NaN, max_mb: Math.max(...w.map((x) => x.mb)), samples: w.length }];
      }));
    },
    now: () => (performance.now() - t0) / 1000,
    stop() {
      sample();
      clearInterval(timer);
      return Object.fromEntries([...series].map(([pid, v]) => [pid, v]));
    },
  };
}

interface Stage {
  rate: number;
  seconds: number;
  sent: number;
  ok: number;
  errors: number;
  /** Errors by HTTP status (0: no answer — a connection error). */
  errors_by_status: Record<string, number>;
  achieved_rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  by_route: Record<string, { n: number; p50_ms: number; p99_ms: number }>;
  /** Server CPU time per request (user + system, every server process), a figure less sensitive than latency to other load on the machine. */
  server_cpu_ms_per_request: number;
  /** The machine's 1-minute load average when the stage started (2 cores here: above 2, other processes compete). */
  load_average: number;
  /** RSS of each server process during the stage (first, last, max sample, MB). */
  rss: Record<string, { first_mb: number; last_mb: number; max_mb: number; samples: number }>;
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
async function capacity(base: string, token: string, pids: number[], connections: number, seconds: number, samples: number, epochs: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const rng = createRng(7);
  const lat: number[] = [];
  let errors = 0;
  const cpu0 = cpuAll(pids), load = loadavg()[0]!;
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
  return { connections, seconds, requests: lat.length, errors, rps: r2(lat.length / elapsed), p50_ms: r2(quantile(lat, 0.5)), p99_ms: r2(quantile(lat, 0.99)), server_cpu_ms_per_request: r2((cpuAll(pids) - cpu0) / lat.length), load_average: r2(load) };
}

/** Open-loop load at `rate` requests/s for `seconds`; latency from each request's scheduled time to its last byte. */
async function stage(base: string, token: string, pids: number[], rss: ReturnType<typeof rssSampler>, rate: number, seconds: number, samples: number, epochs: number, seed: number): Promise<Stage> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const rng = createRng(seed);
  const from = rss.now();
  const cpu0 = cpuAll(pids);
  const load = loadavg()[0]!;
  const total = Math.round(rate * seconds);
  const lat: number[] = [];
  const routes = new Map<string, number[]>();
  let ok = 0, errors = 0;
  const byStatus: Record<string, number> = {};
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
      else {
        errors++;
        byStatus[status] = (byStatus[status] ?? 0) + 1;
      }
    }));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return {
    rate, seconds, sent: total, ok, errors, errors_by_status: byStatus, achieved_rps: r2(total / elapsed), p50_ms: r2(quantile(lat, 0.5)), p90_ms: r2(quantile(lat, 0.9)), p99_ms: r2(quantile(lat, 0.99)), max_ms: r2(lat[lat.length - 1] ?? NaN),
    by_route: Object.fromEntries([...routes].map(([k, v]) => {
      v.sort((a, b) => a - b);
      return [k, { n: v.length, p50_ms: r2(quantile(v, 0.5)), p99_ms: r2(quantile(v, 0.99)) }];
    })),
    server_cpu_ms_per_request: r2((cpuAll(pids) - cpu0) / total), load_average: r2(load),
    rss: rss.summary(from),
  };
}

/** One server configuration (`workers` processes) through the warm-up, every rate and the capacity. */
async function runConfig(file: string, stateDir: string, token: string, workers: number, rates: number[], seconds: number, samples: number, epochs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', HERE, '--server', file, '--state', stateDir, '--workers', String(workers)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout! }).once('line', res);
    child.once('exit', (c) => rej(new Error(`server exited ${c}`)));
  });
  const { url, pids } = JSON.parse(first) as { url: string; pids: number[] };
  const rss = rssSampler(pids);
  try {
    // Each worker computes the run's statistics (2000 bootstrap replicates over 50k samples) once, on its analysis
    // thread (the stats route waits for them); meanwhile /health and a run page are asked (the HTTP thread stays free;
    // the run page says the statistics are being computed after 2 s).
    const agent = new Agent({ keepAlive: false });
    let t = performance.now();
    const coldStats = Array.from({ length: workers }, () => get(agent, `${url}/api/runs/${RUN}/stats`, token));
    await new Promise((r) => setTimeout(r, 200));
    let th = performance.now();
    const health = await get(agent, `${url}/health`, token);
    const healthMs = performance.now() - th;
    th = performance.now();
    const computingPage = await get(agent, `${url}/runs/${RUN}`, token);
    const computingPageMs = performance.now() - th;
    const cold = await Promise.all(coldStats);
    const coldMs = performance.now() - t;
    t = performance.now();
    await get(agent, `${url}/runs/${RUN}`, token);
    const warmMs = performance.now() - t;
    t = performance.now();
    const deep = await get(agent, `${url}/runs/${RUN}?after=${samples - 10}.0`, token);
    const deepMs = performance.now() - t;
    t = performance.now();
    await get(agent, `${url}/api/runs`, token);
    const listMs = performance.now() - t;
    agent.destroy();
    process.stderr.write(`[${workers} worker${workers > 1 ? 's' : ''}] first statistics ${coldMs.toFixed(0)} ms (${cold.join(',')}); meanwhile /health ${healthMs.toFixed(1)} ms (${health}), run page ${computingPageMs.toFixed(0)} ms (${computingPage}); then run page ${warmMs.toFixed(1)} ms; deepest page ${deepMs.toFixed(1)} ms (${deep}); run list ${listMs.toFixed(1)} ms\n`);
    const stages: Stage[] = [];
    for (const [k, rate] of rates.entries()) {
      const s = await stage(url, token, pids, rss, rate, seconds, samples, epochs, 100 + k);
      stages.push(s);
      const mem = Object.entries(s.rss).map(([p, r]) => `${p}: ${r.first_mb.toFixed(0)}→${r.last_mb.toFixed(0)} (max ${r.max_mb.toFixed(0)})`).join(', ');
      process.stderr.write(`[${workers}] ${rate} req/s: sent ${s.sent}, ok ${s.ok}, errors ${s.errors}${s.errors ? ` ${JSON.stringify(s.errors_by_status)}` : ''}, achieved ${s.achieved_rps}/s, p50 ${s.p50_ms} ms, p90 ${s.p90_ms} ms, p99 ${s.p99_ms} ms, max ${s.max_ms} ms; server CPU ${s.server_cpu_ms_per_request} ms/request; load average ${s.load_average}; RSS MB ${mem}\n`);
      for (const [r, v] of Object.entries(s.by_route)) process.stderr.write(`    ${r}: ${v.n} requests, p50 ${v.p50_ms} ms, p99 ${v.p99_ms} ms\n`);
    }
    const cap = await capacity(url, token, pids, 16, Math.min(seconds, 15), samples, epochs);
    process.stderr.write(`[${workers}] capacity (closed loop, ${cap.connections} connections, ${cap.seconds} s): ${cap.rps} req/s, p50 ${cap.p50_ms} ms, p99 ${cap.p99_ms} ms, errors ${cap.errors}; server CPU ${cap.server_cpu_ms_per_request} ms/request; load average ${cap.load_average}\n`);
    const whole = rss.summary();
    const series = rss.stop();
    process.stderr.write(`[${workers}] RSS over the whole run (MB, first/last/max): ${Object.entries(whole).map(([p, r]) => `${p} ${r.first_mb.toFixed(0)}/${r.last_mb.toFixed(0)}/${r.max_mb.toFixed(0)}`).join(', ')}\n`);
    return { workers, pids, first_statistics_ms: r2(coldMs), health_during_first_statistics_ms: r2(healthMs), run_page_during_first_statistics_ms: r2(computingPageMs), warm_run_page_ms: r2(warmMs), deepest_page_ms: r2(deepMs), run_list_ms: r2(listMs), stages, capacity: cap, rss: whole, rss_series: series };
  } finally {
    rss.stop();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main(): Promise<void> {
  const samples = Number(arg('samples', '50000')), epochs = Number(arg('epochs', '4'));
  const rates = arg('rates', '50,500').split(',').map(Number);
  const workerCounts = arg('workers', '1,2').split(',').map(Number);
  const seconds = Number(arg('seconds', '30'));
  const tmp = mkdtempSync(join(tmpdir(), 'assay-bench-serve-'));
  const file = arg('pool', join(tmp, 'pool.sqlite'));
  try {
    let buildS: number | null = null;
    if (!existsSync(file)) {
      buildS = await buildPool(file, samples, epochs);
      process.stderr.write(`built ${samples * epochs} attempts in ${buildS.toFixed(1)} s (${file})\n`);
    }
    const stateDir = join(tmp, 'state');
    const { token } = new FileTokenStore(join(stateDir, 'tokens.json')).create({ name: 'bench', role: 'read', by: 'bench' });
    const configs = [];
    for (const w of workerCounts) configs.push(await runConfig(file, stateDir, token, w, rates, seconds, samples, epochs));
    const result = { attempts: samples * epochs, samples, epochs, build_s: buildS, configs, cores: availableParallelism(), node: process.version };
    const out = arg('out', '');
    if (out) {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    }
    process.stdout.write(JSON.stringify({ ...result, configs: configs.map(({ rss_series: _s, ...c }) => c) }, null, 2) + '\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv.includes('--server')) await serverMain(arg('server', ''), arg('state', ''), Number(arg('workers', '1')));
else await main();
