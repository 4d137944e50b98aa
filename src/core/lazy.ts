/**
 * Load a package on first use instead of at import time, synchronously (through `require`, so the callers stay
 * synchronous). `assay run` never parses CSV or YAML task files or computes a t quantile while it generates, and
 * each of those packages costs the process 4–9 MB of resident memory when loaded; loading them on first use keeps
 * the run's footprint to what it uses. Only for packages that ship a CommonJS entry (jstat, yaml, csv-parse,
 * csv-stringify do).
 *
 * Shape: `lazyPackage<T>('name')` returns a getter `() => T`; the first call loads the package, later calls return
 * the same module object. Errors: the getter throws what `require` throws (a missing package names itself).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazyPackage<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
