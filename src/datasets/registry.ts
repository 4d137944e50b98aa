/**
 * The dataset registry: datasets and generators registered by name, with zod-validated options, addressed as
 * `name` or `name?key=value&…` (the same inline form as scorer specs). Built in: `arithmetic` (the quickstart's
 * seeded word problems) and `needle` (a seeded needle-threading grid). Files and the named benchmarks (`gsm8k`,
 * `math500`, …, `<name>:<path>`, `*.jsonl`) are resolved by `loadDataset` after the registry.
 */
import { z } from 'zod';
import { Registry, type Registration } from '../core/registry.ts';
import { hashJson } from '../core/hash.ts';
import type { Sample } from '../core/schemas.ts';
import { parseSpec } from '../core/spec.ts';
import { generateArithmetic } from '../generators/arithmetic.ts';
import { DEFAULT_GRID, generateGrid, validateGrid } from '../generators/needle/index.ts';

/** What a registered dataset loader returns. `hash` defaults to the hash of the samples. */
export interface RegisteredDataset {
  samples: Sample[];
  hash?: string;
  /** Scorer used when the task or command names none (default `math`). */
  defaultScorer?: string;
  /** Template used when the task or command names none (default `plain`). */
  defaultTemplate?: string;
}

type Loader = () => Promise<RegisteredDataset> | RegisteredDataset;
const DATASETS = new Registry<Loader>('dataset');

DATASETS.register('arithmetic', {
  schema: z.strictObject({ count: z.number().int().positive().max(1_000_000).default(200), seed: z.number().int().default(0) }),
  make: (o) => () => ({ samples: generateArithmetic(o.count as number, o.seed as number), defaultScorer: 'math', defaultTemplate: 'math-boxed' }),
  description: 'seeded arithmetic word problems (the quickstart)',
});
DATASETS.register('needle', {
  schema: z.strictObject({ seed: z.number().int().default(0) }),
  make: (o) => () => {
    validateGrid(DEFAULT_GRID);
    return { samples: [...generateGrid(DEFAULT_GRID, o.seed as number)], defaultScorer: 'needle', defaultTemplate: 'plain' };
  },
  description: 'needle-threading haystacks on the default grid (seeded)',
});

/**
 * Register a dataset (or generator) under `name`; `load` receives the options validated by `schema` and returns
 * samples. Errors: Error when the name is taken (unless `replace`).
 * @example registerDataset('my-qa', z.strictObject({ split: z.enum(['dev', 'test']).default('test') }), (o) => () => readMyQa(o.split))
 */
export function registerDataset(name: string, schema: Registration<Loader>['schema'], make: (options: Record<string, unknown>) => Loader, opts: { replace?: boolean; description?: string } = {}): void {
  DATASETS.register(name, { schema, make, description: opts.description }, opts);
}

/** Names of registered datasets, sorted. */
export function registeredDatasetNames(): string[] {
  return DATASETS.names();
}

/**
 * Load a registered dataset by ref (`name` or `name?k=v&…`), or return null when the name is not registered.
 * @returns samples, their hash (the loader's, or sha256 of the canonical samples), and defaults.
 * @throws InputError for bad options (named).
 */
export async function loadRegisteredDataset(ref: string): Promise<{ name: string; hash: string; samples: Sample[]; defaultScorer: string; defaultTemplate: string } | null> {
  const { name, options } = parseSpec(ref);
  if (!DATASETS.has(name)) return null;
  const loaded = await DATASETS.create(name, options)();
  return {
    name,
    hash: loaded.hash ?? hashJson({ name, options: Object.keys(options).length ? options : undefined, samples: hashJson(loaded.samples) }),
    samples: loaded.samples,
    defaultScorer: loaded.defaultScorer ?? 'math',
    defaultTemplate: loaded.defaultTemplate ?? 'plain',
  };
}
