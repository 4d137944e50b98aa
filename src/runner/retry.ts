/**
 * One model call with the runner's failure policy: a per-request timeout, retries with exponential backoff and
 * jitter (or the server's Retry-After), adaptive concurrency on HTTP 429. Used by the `generate` function that
 * solvers receive; a solver never sees a retry.
 */
import { getEventListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { ProviderError, type GenerateRequest, type GenerateResponse, type Provider } from '../providers/types.ts';
import { backoffMs, type AdaptiveLimiter } from './scheduler.ts';

/** How hard to try. */
export interface RetryPolicy {
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /** Retries after the first try. */
  maxRetries: number;
  /** Backoff base in ms (full-jitter exponential backoff). */
  backoffBaseMs: number;
  /**
   * Admission of each try under a limit shared with other processes (the queue's per-endpoint concurrency slots and
   * request rate, kept in PostgreSQL: src/queue/limits.ts). Awaited before the try's timeout starts, so waiting for a
   * slot never counts as the request's time; resolves to the function that gives the slot back (called when the try
   * ends, before any backoff), or null when `stop` aborted the wait (the call ends as aborted). Never rejects.
   * Default: every try is admitted at once.
   */
  admit?: (stop: AbortSignal) => Promise<(() => void) | null>;
}

/** The outcome of one call: a response, or the last error after every retry. */
export type CallOutcome =
  | { ok: true; response: GenerateResponse; tries: number; latencyMs: number }
  | { ok: false; error: string; tries: number; aborted: boolean };

/**
 * Abort controllers of finished calls that never aborted and hold no listener, ready for the next call. A controller
 * per call is the largest single source of objects that outlive young-generation collections in a long run (measured
 * with V8's sampling heap profiler: about 15 MB promoted per 21,000 calls); reusing the unaborted ones removes it.
 */
const idleControllers: AbortController[] = [];
const MAX_IDLE_CONTROLLERS = 256;

function takeController(): AbortController {
  return idleControllers.pop() ?? new AbortController();
}

function giveBack(ac: AbortController): void {
  if (!ac.signal.aborted && idleControllers.length < MAX_IDLE_CONTROLLERS && getEventListeners(ac.signal, 'abort').length === 0) idleControllers.push(ac);
}

/** A sleep that ends early (without error) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Call `provider.generate` until it answers, a non-retryable error occurs, or `policy.maxRetries` retries are spent
 * (`retrying` with every error that is not a ProviderError retried too: a dropped connection surfaces as one).
 * Never throws for provider failures: they come back as `{ ok: false, error }`. `stop` aborts the call in flight
 * (then `aborted` is true and nothing should be recorded).
 */
export async function callWithRetry(
  provider: Provider,
  req: Omit<GenerateRequest, 'signal'>,
  policy: RetryPolicy,
  limiter: AdaptiveLimiter,
  stop: AbortSignal,
): Promise<CallOutcome> {
  const out = await retrying((signal) => provider.generate({ messages: req.messages, config: req.config, sample: req.sample, epoch: req.epoch, signal, ...(req.images ? { images: req.images } : {}) }), policy, limiter, stop, true);
  return out.ok ? { ok: true, response: out.value, tries: out.tries, latencyMs: out.latencyMs } : out;
}

/** The outcome of a retried call of any kind: its value, or the last error after every retry. */
export type RetriedOutcome<T> = { ok: true; value: T; tries: number; latencyMs: number } | { ok: false; error: string; tries: number; aborted: boolean };

/**
 * `callWithRetry`'s failure policy for any provider call (log-likelihood scoring): `invoke` is called with a signal
 * that aborts on the per-request timeout or on `stop`, until it resolves, throws a non-retryable ProviderError, or
 * the retries are spent; HTTP 429 lowers the adaptive concurrency. An error that is not a ProviderError (a bug, a
 * runtime failure of an in-process model) is retried only with `retryOtherErrors` (generation over HTTP); otherwise
 * the same input would fail the same way. Never throws for provider failures.
 */
export async function retrying<T>(invoke: (signal: AbortSignal) => Promise<T>, policy: RetryPolicy, limiter: AdaptiveLimiter, stop: AbortSignal, retryOtherErrors = false): Promise<RetriedOutcome<T>> {
  let tries = 0;
  let lastError = '';
  while (!stop.aborted) {
    const release = policy.admit ? await policy.admit(stop) : null;
    if (policy.admit && (!release || stop.aborted)) {
      release?.();
      break;
    }
    tries++;
    const ac = takeController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, policy.timeoutMs);
    const relay = () => ac.abort();
    stop.addEventListener('abort', relay, { once: true });
    const start = performance.now();
    let retryable = true;
    let waitMs: number | undefined;
    try {
      const value = await invoke(ac.signal);
      limiter.onSuccess();
      return { ok: true, value, tries, latencyMs: performance.now() - start };
    } catch (err) {
      if (stop.aborted) break;
      if (timedOut) lastError = `timeout after ${policy.timeoutMs} ms`;
      else if (err instanceof ProviderError) {
        lastError = err.message;
        retryable = err.opts.retryable;
        if (err.opts.rateLimited) {
          limiter.onRateLimit(err.opts.retryAfterMs);
          waitMs = err.opts.retryAfterMs ?? 1000;
        } else waitMs = err.opts.retryAfterMs;
      } else {
        lastError = `${(err as Error).name}: ${(err as Error).message}`;
        retryable = retryOtherErrors;
      }
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', relay);
      giveBack(ac);
      release?.();
    }
    if (!retryable || tries > policy.maxRetries) return { ok: false, error: lastError || 'unknown error', tries, aborted: false };
    await sleep(waitMs ?? backoffMs(tries - 1, policy.backoffBaseMs), stop);
  }
  return { ok: false, error: lastError || 'stopped', tries, aborted: true };
}
