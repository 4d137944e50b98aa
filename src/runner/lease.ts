/**
 * One owner per run (DESIGN.md §6, "two processes on one pool"): the runner takes the run's lease in the pool before
 * it reads what is left to do, renews it while it runs (a heartbeat) and gives it up when it stops. A second
 * process on the same run waits for the lease instead of racing the first (each would otherwise ask the same
 * questions and overwrite the other's answers); when the holder dies (kill -9) its lease lapses after `ttlMs`
 * without a heartbeat and the waiter takes the run over — at once when the holder ran on this host and its process
 * is gone. The pool's write rule (a failed attempt never replaces an ok one) covers what a lease cannot: a holder
 * stalled past its ttl that comes back after another took over.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { LeaseHolder, Pool, RunLease } from '../store/types.ts';
import { holderIsGone } from '../store/lease-holder.ts';

/** Default lease ttl: a holder that has not renewed for this long is taken for dead. */
export const LEASE_TTL_MS = 30_000;

/** Options of {@link takeRunLease}. */
export interface LeaseOptions {
  /** Lease ttl in ms (default {@link LEASE_TTL_MS}); heartbeats renew it every ttl/3. */
  ttlMs?: number;
  /** How often a waiter asks again, in ms (default min(1000, ttl/4)). */
  pollMs?: number;
  /** Stop waiting (Ctrl-C). */
  signal?: AbortSignal;
  /** Told once per holder when the run is held by another process and this one waits for it. */
  onWait?: (holder: RunLease) => void;
}

/** A held lease: its holder id, and `stop()` to end the heartbeat and release it. */
export interface HeldLease {
  owner: string;
  /** Called (once) when a heartbeat finds the lease taken by another process: the caller must stop. */
  onLost(fn: (by: RunLease | null) => void): void;
  /** Stop the heartbeat and give the lease up (idempotent; errors are swallowed: a lapsed lease frees itself). */
  release(): Promise<void>;
}

export { holderIsGone } from '../store/lease-holder.ts';

/**
 * Take the run's lease, waiting while another live process holds it. Returns the held lease (heartbeat running), or
 * null when `signal` aborted the wait. Errors: whatever the pool throws (InputError for an unknown run).
 */
export async function takeRunLease(pool: Pool, runId: string, o: LeaseOptions = {}): Promise<HeldLease | null> {
  const ttlMs = o.ttlMs ?? LEASE_TTL_MS;
  const pollMs = o.pollMs ?? Math.max(10, Math.min(1000, ttlMs / 4));
  const holder: LeaseHolder = { id: randomUUID(), pid: process.pid, host: hostname() };
  let told: string | null = null;
  let takeOver: string | undefined;
  for (;;) {
    if (o.signal?.aborted) return null;
    const r = await pool.acquireLease(runId, holder, ttlMs, takeOver ? { takeOver } : {});
    if (r.acquired) break;
    if (holderIsGone(r.lease)) {
      takeOver = r.lease.owner;
      continue;
    }
    takeOver = undefined;
    if (told !== r.lease.owner) {
      told = r.lease.owner;
      o.onWait?.(r.lease);
    }
    if (!(await sleep(pollMs, o.signal))) return null;
  }
  let lost: ((by: RunLease | null) => void) | null = null;
  let stopped = false;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = (async () => {
      try {
        if (stopped || (await pool.renewLease(runId, holder.id, ttlMs))) return;
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        lost?.(await pool.getLease(runId).catch(() => null));
      } catch {
        // A busy or closing store: the next heartbeat tries again; the ttl leaves room for a few misses.
      }
    })();
  }, Math.max(5, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    owner: holder.id,
    onLost(fn) {
      lost = fn;
    },
    async release() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await renewing;
      await pool.releaseLease(runId, holder.id).catch(() => {});
    },
  };
}

/** Resolve after `ms`, true; or false as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A lease holder in words, for a waiting process's message: `pid 1234 on host h, since 12:00:03 (lease until …)`. */
export function describeHolder(l: RunLease): string {
  const who = l.pid != null ? `pid ${l.pid}${l.host ? ` on ${l.host}` : ''}` : `holder ${l.owner.slice(0, 8)}`;
  return `${who}, running it since ${l.acquired_at.slice(0, 19).replace('T', ' ')} UTC (its lease lapses at ${l.expires_at.slice(11, 19)} UTC unless renewed)`;
}
