/**
 * The runner: executes a run's plan against a provider with bounded, adaptive concurrency, retries with backoff,
 * a per-request timeout, a response cache and resume; grades each response with the run's scorers and hands
 * attempt + measurements to the pool's batching writer. It streams: nothing but the plan is held in memory.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Attempt, GenerationConfig, Measurement, RunRecord, RunSpec, Sample } from '../core/schemas.ts';
import type { PromptTemplate } from '../core/templates.ts';
import { createProvider } from '../providers/registry.ts';
import { ProviderError, type GenerateResponse, type Provider } from '../providers/types.ts';
import type { Scorer, Verdict } from '../scorers/types.ts';
import type { Pool } from '../store/types.ts';
import { buildManifest } from './manifest.ts';
import { cacheKeyOf, pendingWork, planIter, runIdOf } from './plan.ts';
import type { PlannedSample } from '../core/schemas.ts';
import { silentProgress, type Progress } from './progress.ts';
import { AdaptiveLimiter, backoffMs } from './scheduler.ts';

/** The dataset as the runner needs it (what `loadDataset` returns). */
export interface RunDataset {
  ref: string;
  name: string;
  path: string | null;
  hash: string;
  samples: Sample[];
}

export interface RunOptions {
  pool: Pool;
  dataset: RunDataset;
  template: PromptTemplate;
  /** Model address, e.g. `openai-compatible:http://127.0.0.1:8000/v1#m`. */
  model: string;
  config: GenerationConfig;
  epochs: number;
  scorers: Scorer[];
  /** Only the first `limit` samples (part of the run spec). */
  limit?: number | null;
  /** Maximum requests in flight (default 64). */
  concurrency?: number;
  /** Per-request timeout in ms (default 120,000). */
  timeoutMs?: number;
  /** Retries after the first try (default 6). */
  maxRetries?: number;
  /** Seed of the bootstrap used by `stats` (recorded in the manifest; default 0). */
  bootstrapSeed?: number;
  /** Reuse stored responses with the same cache key (default true; only for remote providers). */
  cache?: boolean;
  progress?: Progress;
  /** Abort to stop cleanly (Ctrl-C): in-flight calls are cancelled and not recorded; the run is marked interrupted. */
  signal?: AbortSignal;
  /** Inject a provider instead of resolving `model` through the registry (tests). */
  provider?: Provider;
  /** Backoff base in ms (default 250; tests lower it). */
  backoffBaseMs?: number;
}

export interface RunResult {
  run_id: string;
  status: RunRecord['status'];
  /** Planned attempts (samples × epochs). */
  planned: number;
  /** Attempts already complete when this invocation started (resume). */
  resumed: number;
  /** Attempts made by this invocation. */
  executed: number;
  counts: { attempts: number; ok: number; error: number; measurements: number };
  reported_model_ids: string[];
  min_concurrency: number;
  seconds: number;
  /** Why the run stopped early on its own (the endpoint looked dead), or null. */
  abort_reason: string | null;
  /** The most frequent errors of attempts that failed in this invocation, with counts. */
  errors: { error: string; count: number }[];
}

/** Build the run spec (everything that defines the plan and its outputs; hashed into the run id). */
export function buildRunSpec(o: Pick<RunOptions, 'dataset' | 'template' | 'model' | 'config' | 'epochs' | 'scorers' | 'limit'>): RunSpec {
  return {
    dataset: { ref: o.dataset.ref, name: o.dataset.name, hash: o.dataset.hash, path: o.dataset.path, size: o.dataset.samples.length, limit: o.limit ?? null },
    template: { name: o.template.name, hash: o.template.hash },
    model: o.model,
    config: o.config,
    epochs: o.epochs,
    scorers: o.scorers.map((s) => ({ name: s.name, options: s.options })),
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Grade one response with every scorer; a scorer that throws yields a recorded `grader_error`. */
export async function gradeAll(scorers: Scorer[], sample: Sample, text: string): Promise<Verdict[]> {
  const out: Verdict[] = [];
  for (const s of scorers) {
    try {
      out.push(await s.score(sample, text));
    } catch (err) {
      out.push({ value: null, extracted: null, explanation: `grader error: ${(err as Error).message}`, status: 'grader_error' });
    }
  }
  return out;
}

/**
 * Execute (or resume) a run. Errors: InputError for a bad model address; provider failures become recorded
 * `error` attempts, never exceptions. Returns when every planned attempt is stored or the signal aborted.
 */
export async function executeRun(o: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const concurrency = o.concurrency ?? 64;
  const timeoutMs = o.timeoutMs ?? 120_000;
  const maxRetries = o.maxRetries ?? 6;
  const bootstrapSeed = o.bootstrapSeed ?? 0;
  const progress = o.progress ?? silentProgress;
  const samples = o.limit ? o.dataset.samples.slice(0, o.limit) : o.dataset.samples;
  const spec = buildRunSpec(o);
  const runId = runIdOf(spec);
  const provider = o.provider ?? (await createProvider(o.model, { concurrency }));
  const useCache = (o.cache ?? true) && provider.capabilities.remote;
  const now = new Date().toISOString();
  const manifest = buildManifest(spec, provider, { bootstrapSeed, referenceSeed: null, concurrency, timeoutMs, maxRetries });
  // The plan streams into the pool and back out in pages: memory stays flat however large the dataset.
  o.pool.ensureRun({ id: runId, spec, manifest, status: 'running', created_at: now, updated_at: now }, planIter(samples, o.template, o.config));
  o.pool.setRunStatus(runId, 'running');
  const completed = o.pool.completedKeys(runId);
  const total = o.pool.plannedCount(runId) * o.epochs;
  const work = pendingWork(o.pool.iteratePlanned(runId), o.epochs, completed);
  const limiter = new AdaptiveLimiter(concurrency);
  const modelIds = new Set<string>();
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per request in flight
  const onAbort = () => stop.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) stop.abort();
  let inFlight = 0;
  let executed = 0;
  let succeeded = 0;
  let consecutiveFailures = 0;
  let abortReason: string | null = null;
  const errorCounts = new Map<string, number>();
  /** Stop early when the endpoint looks dead: this many final failures in a row before any success. */
  const deadAfter = Math.max(10, Math.min(concurrency, 64));
  progress.start(total, completed.size);

  const processOne = async (p: PlannedSample, epoch: number): Promise<void> => {
    const cacheKey = cacheKeyOf(provider.address, p.prompt_hash, o.config, epoch);
    let response: GenerateResponse | null = null;
    let cached = false;
    let tries = 0;
    let latency = 0;
    let lastError = '';
    if (useCache) {
      const hit = o.pool.cacheLookup(cacheKey);
      if (hit && hit.response != null) {
        response = { text: hit.response, finish_reason: hit.finish_reason, model_id: hit.model_id, prompt_tokens: hit.prompt_tokens, completion_tokens: hit.completion_tokens, ...(hit.meta ? { meta: hit.meta } : {}) };
        cached = true;
        tries = 1;
      }
    }
    while (!response && !stop.signal.aborted) {
      tries++;
      const ac = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        ac.abort();
      }, timeoutMs);
      const relay = () => ac.abort();
      stop.signal.addEventListener('abort', relay, { once: true });
      const start = performance.now();
      let retryable = true;
      let waitMs: number | undefined;
      try {
        response = await provider.generate({ messages: p.messages, config: o.config, sample: p.sample, epoch, signal: ac.signal });
        latency = performance.now() - start;
        limiter.onSuccess();
      } catch (err) {
        if (stop.signal.aborted) return;
        if (timedOut) lastError = `timeout after ${timeoutMs} ms`;
        else if (err instanceof ProviderError) {
          lastError = err.message;
          retryable = err.opts.retryable;
          if (err.opts.rateLimited) {
            limiter.onRateLimit(err.opts.retryAfterMs);
            waitMs = err.opts.retryAfterMs ?? 1000;
          } else waitMs = err.opts.retryAfterMs;
        } else lastError = `${(err as Error).name}: ${(err as Error).message}`;
      } finally {
        clearTimeout(timer);
        stop.signal.removeEventListener('abort', relay);
      }
      if (response) break;
      if (!retryable || tries > maxRetries) break;
      await sleep(waitMs ?? backoffMs(tries - 1, o.backoffBaseMs ?? 250), stop.signal);
    }
    if (stop.signal.aborted && !response) return;
    const base = { run_id: runId, sample_id: p.sample.id, epoch };
    let attempt: Attempt;
    let measurements: Measurement[];
    if (response) {
      if (response.model_id) modelIds.add(response.model_id);
      attempt = {
        ...base, status: 'ok', response: response.text, finish_reason: response.finish_reason, prompt_tokens: response.prompt_tokens,
        completion_tokens: response.completion_tokens, latency_ms: cached ? 0 : latency, tries, error: null, model_id: response.model_id,
        cache_key: cacheKey, cached, meta: response.meta ?? null,
      };
      const verdicts = await gradeAll(o.scorers, p.sample, response.text);
      measurements = verdicts.map((v, i) => ({ ...base, scorer: o.scorers[i]!.name, kind: o.scorers[i]!.kind, ...v }));
    } else {
      attempt = {
        ...base, status: 'error', response: null, finish_reason: 'error', prompt_tokens: null, completion_tokens: null, latency_ms: 0, tries,
        error: lastError || 'unknown error', model_id: null, cache_key: cacheKey, cached: false, meta: null,
      };
      measurements = o.scorers.map((s) => ({ ...base, scorer: s.name, kind: s.kind, value: null, extracted: null, explanation: `attempt failed: ${attempt.error}`, status: 'attempt_error' as const }));
    }
    o.pool.write(attempt, measurements);
    executed++;
    if (attempt.status === 'ok') {
      succeeded++;
      consecutiveFailures = 0;
    } else {
      const key = (attempt.error ?? 'unknown error').slice(0, 160);
      errorCounts.set(key, (errorCounts.get(key) ?? 0) + 1);
      if (++consecutiveFailures >= deadAfter && succeeded === 0 && !abortReason) {
        abortReason = `the first ${consecutiveFailures} attempts all failed after retries (last error: ${key}); stopping early — is the model endpoint up?`;
        stop.abort();
      }
    }
    progress.tick(attempt.status === 'ok');
  };

  const worker = async (): Promise<void> => {
    let sinceYield = 0;
    while (!stop.signal.aborted) {
      // Providers that answer at once (replay, reference) never leave the microtask queue: yield to the event loop
      // now and then so signals (Ctrl-C) and timers (the writer's flush) are handled.
      if (++sinceYield >= 16) {
        sinceYield = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
      while (inFlight >= limiter.limit || limiter.delay() > 0) {
        await sleep(Math.max(5, limiter.delay()), stop.signal);
        if (stop.signal.aborted) return;
      }
      const next = work.next();
      if (next.done) return;
      inFlight++;
      try {
        await processOne(next.value.planned, next.value.epoch);
      } finally {
        inFlight--;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    progress.stop();
    o.signal?.removeEventListener('abort', onAbort);
    o.pool.flush();
    if (!o.provider) await provider.close();
  }
  if (modelIds.size) o.pool.addReportedModelIds(runId, [...modelIds]);
  for (const s of o.scorers) if (s.report) o.pool.setScorerReport(runId, s.name, s.report());
  const counts = o.pool.counts(runId);
  // complete = every planned attempt stored with a response; failed = some attempts failed after retries (they are
  // retried by running the same command again) or the run stopped early; interrupted = stopped by the user.
  const status: RunRecord['status'] = abortReason ? 'failed' : stop.signal.aborted ? 'interrupted' : counts.ok === total ? 'complete' : 'failed';
  o.pool.setRunStatus(runId, status);
  return {
    run_id: runId, status, planned: total, resumed: completed.size, executed, counts,
    reported_model_ids: o.pool.getRun(runId)?.manifest.provider.reported_model_ids ?? [], min_concurrency: limiter.minReached,
    seconds: (performance.now() - t0) / 1000,
    abort_reason: abortReason,
    errors: [...errorCounts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([error, count]) => ({ error, count })),
  };
}
