/**
 * Helpers shared by CLI commands: option parsers, pool opening, JSON output.
 */
import { InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { openSqlitePool } from '../store/sqlite.ts';
import type { Pool } from '../store/types.ts';

/** Commander parser for a finite number option. */
export const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
  return n;
};
/** Commander parser for an integer option ≥ min. */
export const int = (name: string, min = 0) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};
/** Commander collector for repeatable options. */
export const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `$ASSAY_POOL` or `./.assay/pool.sqlite`. */
export function defaultPoolPath(): string {
  return process.env.ASSAY_POOL ?? resolve('.assay', 'pool.sqlite');
}

/** Open the pool given by `--pool` (or the default). */
export function openPool(path: string | undefined): Pool {
  return openSqlitePool(path ?? defaultPoolPath());
}

/** Print one JSON document on stdout (non-finite numbers become null). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}
