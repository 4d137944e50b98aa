/**
 * One attempt: a planned sample at one epoch, driven through the task's solver, graded, and turned into the rows the
 * pool stores. Concerns kept apart: the response cache (`cache.ts`), retries and timeouts (`retry.ts`), grading
 * (`grade.ts`); writing and scheduling belong to the run (`run.ts`).
 */
import type { ImageResolver } from '../core/images.ts';
import type { Attempt, GenerationConfig, Measurement, PlannedSample } from '../core/schemas.ts';
import type { GenerateResponse, Provider } from '../providers/types.ts';
import type { Scorer } from '../scorers/types.ts';
import type { Generate, Solver, TaskState } from '../solvers/types.ts';
import type { CachedResponse } from '../store/types.ts';
import { cutAtStop, failedMeasurements, gradeAll, measurementsOf } from './grade.ts';
import { callWithRetry, retrying, type RetryPolicy } from './retry.ts';
import type { AdaptiveLimiter } from './scheduler.ts';

/** Everything an attempt needs from its run. */
export interface AttemptContext {
  runId: string;
  provider: Provider;
  config: GenerationConfig;
  solver: Solver;
  scorers: readonly Scorer[];
  policy: RetryPolicy;
  limiter: AdaptiveLimiter;
  /** Aborts every call in flight (Ctrl-C, a dead endpoint, a changed server). */
  stop: AbortSignal;
  /** Look up a stored response for this cache key, or null (no cache: always null). */
  cacheLookup: (cacheKey: string) => Promise<CachedResponse | null>;
  /**
   * Called with every response the provider returns (the run learns the server's identity from them). Returning
   * false rejects the response (a server that is not the stored run's): the attempt is dropped, not recorded.
   */
  onResponse: (r: GenerateResponse) => boolean;
  /** The bytes of the images the messages name (runs with images only). */
  images?: ImageResolver;
}

/** A call that failed after every retry: ends the solver; the attempt is recorded as failed. */
class CallFailed extends Error {
  constructor(
    message: string,
    readonly tries: number,
    readonly aborted: boolean,
  ) {
    super(message);
  }
}

/**
 * Run one attempt. Returns the attempt and its measurements, or null when the run was stopped while it was in flight
 * (nothing is recorded, so a resumed run makes it again). Never throws: provider failures and solver errors become a
 * failed attempt with the error text.
 */
export async function runAttempt(ctx: AttemptContext, p: PlannedSample, epoch: number, cacheKey: string): Promise<{ attempt: Attempt; measurements: Measurement[] } | null> {
  const base = { run_id: ctx.runId, sample_id: p.sample.id, epoch };
  const hit = await ctx.cacheLookup(cacheKey);
  let state: TaskState;
  let tries = 0;
  let latency = 0;
  let promptTokens: number | null = null;
  let completionTokens: number | null = null;
  let modelId: string | null = null;
  let meta: Record<string, unknown> | null = null;
  let cached = false;
  if (hit && hit.response != null) {
    cached = true;
    tries = 1;
    const messages = hit.transcript ?? [...p.messages, { role: 'assistant' as const, content: hit.response }];
    state = newState(p, epoch, messages);
    state.output = { text: hit.response, finish_reason: hit.finish_reason, model_id: hit.model_id, prompt_tokens: hit.prompt_tokens, completion_tokens: hit.completion_tokens };
    state.calls = hit.transcript ? hit.transcript.filter((m) => m.role === 'assistant').length : 1;
    promptTokens = hit.prompt_tokens;
    completionTokens = hit.completion_tokens;
    modelId = hit.model_id;
    meta = hit.meta ?? null;
    // What the solver stored (a game's moves, log-likelihoods) comes back with the response, for the scorers.
    const solverMeta = hit.meta?.solver;
    if (solverMeta && typeof solverMeta === 'object') state.metadata = { ...(solverMeta as Record<string, unknown>) };
  } else {
    state = newState(p, epoch, p.messages.map((m) => ({ ...m })));
    const generateOnce = async (st: TaskState, override?: Partial<GenerationConfig>): Promise<TaskState> => {
      const config = override ? { ...ctx.config, ...override } : ctx.config;
      const out = await callWithRetry(ctx.provider, { messages: st.messages, config, sample: st.sample, epoch, images: ctx.images }, ctx.policy, ctx.limiter, ctx.stop);
      tries += out.tries;
      if (!out.ok) throw new CallFailed(out.error, out.tries, out.aborted);
      const r = out.response;
      if (!ctx.onResponse(r)) throw new CallFailed('the server is not the one the stored run talked to', out.tries, true);
      latency += out.latencyMs;
      if (r.prompt_tokens != null) promptTokens = (promptTokens ?? 0) + r.prompt_tokens;
      if (r.completion_tokens != null) completionTokens = (completionTokens ?? 0) + r.completion_tokens;
      if (r.model_id) modelId = r.model_id;
      if (r.meta) meta = { ...(meta ?? {}), ...r.meta };
      st.output = { text: r.text, finish_reason: r.finish_reason, model_id: r.model_id, prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens };
      st.messages.push({ role: 'assistant', content: r.text });
      st.calls++;
      return st;
    };
    // Scoring calls (log-likelihoods): same retries, timeouts and limiter; their tokens count as prompt tokens.
    const score = async <R>(call: (signal: AbortSignal) => Promise<{ results: R[]; model_id: string | null; prompt_tokens: number | null; system_fingerprint?: string | null; server?: Record<string, string> }>, n: number): Promise<R[]> => {
      const out = await retrying(call, ctx.policy, ctx.limiter, ctx.stop);
      tries += out.tries;
      if (!out.ok) throw new CallFailed(out.error, out.tries, out.aborted);
      const r = out.value;
      const seen: GenerateResponse = { text: '', finish_reason: 'stop', model_id: r.model_id, prompt_tokens: r.prompt_tokens, completion_tokens: null, system_fingerprint: r.system_fingerprint, server: r.server };
      if (!ctx.onResponse(seen)) throw new CallFailed('the server is not the one the stored run talked to', out.tries, true);
      if (r.results.length !== n) throw new CallFailed(`the provider answered ${r.results.length} results for ${n} requests`, out.tries, false);
      latency += out.latencyMs;
      if (r.prompt_tokens != null) promptTokens = (promptTokens ?? 0) + r.prompt_tokens;
      if (r.model_id) modelId = r.model_id;
      return r.results;
    };
    const provider = ctx.provider;
    const noScoring = () => new CallFailed(`${provider.address} cannot score log-likelihoods`, 1, false);
    const generate: Generate = Object.assign(generateOnce, {
      loglikelihood: (requests: Parameters<Generate['loglikelihood']>[0]) => {
        if (!provider.loglikelihood) return Promise.reject(noScoring());
        return score((signal) => provider.loglikelihood!({ requests, sample: p.sample, epoch, signal }), requests.length);
      },
      loglikelihoodRolling: (texts: string[]) => {
        if (!provider.loglikelihoodRolling) return Promise.reject(noScoring());
        return score((signal) => provider.loglikelihoodRolling!({ requests: texts, sample: p.sample, epoch, signal }), texts.length);
      },
    });
    try {
      state = await ctx.solver(state, generate);
    } catch (err) {
      if (err instanceof CallFailed) {
        if (err.aborted) return null;
        return failed(base, cacheKey, ctx.scorers, err.message, tries);
      }
      if (ctx.stop.aborted) return null;
      return failed(base, cacheKey, ctx.scorers, `solver error: ${(err as Error)?.message ?? String(err)}`, Math.max(1, tries));
    }
    if (!state.output) return failed(base, cacheKey, ctx.scorers, 'solver error: the solver finished without a model output', Math.max(1, tries));
    if (Object.keys(state.metadata).length) meta = { ...(meta ?? {}), solver: state.metadata };
  }
  const output = state.output!;
  // A single generation on the planned prompt needs no transcript: prompt = planned messages, reply = response.
  // A solver that only scored log-likelihoods (no call added a turn) needs none either.
  const single =
    (state.calls === 1 && state.messages.length === p.messages.length + 1 && sameMessages(state.messages, p.messages)) ||
    (state.calls === 0 && state.messages.length === p.messages.length && sameMessages(state.messages, p.messages));
  // Built field by field, never by spreading `base`: a spread object literal this wide is slow to build and, on V8,
  // survives young-generation collections (measured: 3 KB promoted per attempt, the whole growth of a long run's heap).
  const attempt: Attempt = {
    run_id: base.run_id, sample_id: base.sample_id, epoch, status: 'ok', response: output.text, finish_reason: output.finish_reason,
    prompt_tokens: promptTokens, completion_tokens: completionTokens, latency_ms: cached ? 0 : latency, tries, error: null, model_id: modelId,
    cache_key: cacheKey, cached, meta, transcript: single ? null : state.messages,
  };
  const graded = cutAtStop(output.text, ctx.config.stop);
  const verdicts = await gradeAll(ctx.scorers, p.sample, graded, state);
  return { attempt, measurements: measurementsOf(base, ctx.scorers, verdicts) };
}

function newState(p: PlannedSample, epoch: number, messages: TaskState['messages']): TaskState {
  return { sample: p.sample, epoch, messages, output: null, metadata: {}, store: new Map(), completed: false, calls: 0 };
}

function sameMessages(all: TaskState['messages'], prefix: PlannedSample['messages']): boolean {
  for (let i = 0; i < prefix.length; i++) {
    const a = all[i]!;
    const b = prefix[i]!;
    if (a.role !== b.role || (a.content !== b.content && JSON.stringify(a.content) !== JSON.stringify(b.content))) return false;
  }
  return true;
}

function failed(base: { run_id: string; sample_id: string; epoch: number }, cacheKey: string, scorers: readonly Scorer[], error: string, tries: number) {
  const attempt: Attempt = {
    run_id: base.run_id, sample_id: base.sample_id, epoch: base.epoch, status: 'error', response: null, finish_reason: 'error', prompt_tokens: null,
    completion_tokens: null, latency_ms: 0, tries: Math.max(1, tries), error: error || 'unknown error', model_id: null, cache_key: cacheKey, cached: false,
    meta: null, transcript: null,
  };
  return { attempt, measurements: failedMeasurements(base, scorers, attempt.error!) };
}
