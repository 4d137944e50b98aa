/**
 * Helpers shared by CLI commands: option parsers, pool opening, JSON output.
 */
import { InvalidArgumentError } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { createScorer } from '../scorers/registry.ts';
import type { Scorer } from '../scorers/types.ts';
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

/**
 * Open the pool given by `--pool` (or the default). Commands that only read (`create` false, the default) never
 * create a file: a missing pool is an InputError. A file that is not a pool is an InputError too, not a crash.
 */
export function openPool(path: string | undefined, opts: { create?: boolean } = {}): Pool {
  const file = path ?? defaultPoolPath();
  if (!opts.create && !existsSync(file)) throw new InputError('no pool here (run `assay quickstart` or `assay run` first, or pass --pool <file>)', { file });
  if (existsSync(file) && statSync(file).isDirectory()) throw new InputError('is a directory, not a pool file', { file });
  try {
    return openSqlitePool(file);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot open the pool: ${(err as Error).message}`, { file });
  }
}

/** Create a scorer from a CLI spec; an unknown name or bad option is bad usage (InputError, exit 2), not a crash. */
export function scorerFromCli(spec: string): Scorer {
  try {
    return createScorer(spec);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError((err as Error).message, { field: 'scorer' });
  }
}

/** Print one JSON document on stdout (non-finite numbers become null). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}
