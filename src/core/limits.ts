/**
 * Ceilings of run settings, one source for the library (task definitions and files, `evaluate`, `executeRun`) and
 * the CLI flags (src/cli/common.ts), so that a value refused at a flag is refused everywhere else too.
 */
import { InputError } from './errors.ts';

/** Ceiling of concurrency (requests in flight): more only exhausts memory and sockets. */
export const MAX_CONCURRENCY = 4096;
/** Ceiling of epochs (attempts per sample). */
export const MAX_EPOCHS = 100_000;

/**
 * An integer with comma thousands separators (`100000` → `100,000`), as `toLocaleString('en-US')` writes it but
 * without loading ICU's number formatting (about 6 MB of resident memory) into a process that only needs it for
 * a message.
 */
export function thousands(n: number): string {
  return Number.isInteger(n) ? String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : String(n);
}

/** The message for a count outside [1, max], e.g. `epochs must be an integer from 1 to 100,000, got 0`. */
export function countProblem(name: string, value: unknown, max: number): string | null {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max) return null;
  return `${name} must be an integer from 1 to ${thousands(max)}, got ${typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value)}`;
}

/** Check an optional count setting: InputError naming `field` unless it is absent or an integer in [1, max]. */
export function checkCount(field: string, value: unknown, max: number): void {
  if (value === undefined) return;
  const problem = countProblem(field, value, max);
  if (problem) throw new InputError(problem, { field });
}
