/**
 * Whether a run's lease holder is still alive, as far as this host can tell: the pool lists a run held by a dead
 * process as interrupted, and the runner takes such a run over at once (src/runner/lease.ts).
 */
import { hostname } from 'node:os';
import type { RunLease } from './types.ts';

/** Whether the process of a lease holder is known to be gone: same host, and no process with its pid. */
export function holderIsGone(l: RunLease, host = hostname()): boolean {
  if (l.pid == null || l.host !== host || l.pid === process.pid) return false;
  try {
    process.kill(l.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
