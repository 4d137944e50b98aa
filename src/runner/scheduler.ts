/**
 * Adaptive concurrency (AIMD, as in TCP congestion control): start at the configured limit; on a rate-limit
 * (429) halve the limit and pause new requests until the server's Retry-After has passed; after `limit`
 * consecutive successes raise the limit by one, up to the configured maximum.
 */
export class AdaptiveLimiter {
  private current: number;
  private successes = 0;
  private pausedUntil = 0;
  /** Lowest limit reached (for diagnostics). */
  minReached: number;

  constructor(readonly max: number) {
    this.current = max;
    this.minReached = max;
  }

  get limit(): number {
    return this.current;
  }

  /** Milliseconds to wait before the next request may start (0 if none). */
  delay(now = Date.now()): number {
    return Math.max(0, this.pausedUntil - now);
  }

  onSuccess(): void {
    if (++this.successes >= this.current && this.current < this.max) {
      this.current++;
      this.successes = 0;
    }
  }

  /** A 429: halve the limit; pause until Retry-After (default 1 s). */
  onRateLimit(retryAfterMs: number | undefined, now = Date.now()): void {
    this.current = Math.max(1, Math.floor(this.current / 2));
    this.minReached = Math.min(this.minReached, this.current);
    this.successes = 0;
    this.pausedUntil = Math.max(this.pausedUntil, now + (retryAfterMs ?? 1000));
  }
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter", 2015):
 * a uniform delay in [0, min(cap, base·2^try)] ms. The jitter does not affect results, only timing.
 */
export function backoffMs(tryIndex: number, baseMs = 250, capMs = 20_000, rand: () => number = Math.random): number {
  return Math.round(rand() * Math.min(capMs, baseMs * 2 ** tryIndex));
}

/**
 * A concurrency gate for one endpoint: at most `limiter.limit` calls in flight, shared by every run that talks to
 * the endpoint (an eval set's tasks all share one gate per endpoint). Waiters are served first come, first served;
 * a rate-limit pause (`limiter.delay()`) holds every new call.
 */
export class ConcurrencyGate {
  private inFlight = 0;
  private readonly waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly limiter: AdaptiveLimiter) {}

  /** Calls in flight now. */
  get active(): number {
    return this.inFlight;
  }

  /** Wait for a slot. Resolves false (without taking a slot) when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.waiters.length === 0 && this.inFlight < this.limiter.limit && this.limiter.delay() === 0) {
      this.inFlight++;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        this.inFlight++;
        resolve(true);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(wake);
      this.pump();
    });
  }

  /** Give a slot back. */
  release(): void {
    this.inFlight--;
    this.pump();
  }

  private pump(): void {
    while (this.waiters.length && this.inFlight < this.limiter.limit) {
      const delay = this.limiter.delay();
      if (delay > 0) {
        if (!this.timer) {
          this.timer = setTimeout(() => {
            this.timer = null;
            this.pump();
          }, delay);
        }
        return;
      }
      this.waiters.shift()!();
    }
  }
}
