/**
 * Reproducibility check (`assay diff <runA> <runB>`): every manifest and spec field that differs between two runs,
 * and how their planned samples differ (prompt and target hashes per sample, DESIGN.md §5).
 */
import type { Pool } from '../store/types.ts';

export interface FieldDifference {
  /** Dotted path, e.g. `manifest.generation_config.temperature`. */
  path: string;
  a: unknown;
  b: unknown;
  /** Fields expected to differ between any two runs (creation time): listed, but not a reproducibility concern. */
  informational: boolean;
}

export interface RunDiff {
  a: string;
  b: string;
  /** True when both references name the same run (then nothing can differ, and that says nothing about reproducibility). */
  same_run: boolean;
  fields: FieldDifference[];
  samples: {
    only_a: number;
    only_b: number;
    shared: number;
    /** Shared sample ids whose rendered prompt hash differs. */
    prompt_differs: number;
    /** Shared sample ids whose target hash differs. */
    target_differs: number;
    examples: { sample_id: string; prompt_differs: boolean; target_differs: boolean }[];
  };
}

const INFORMATIONAL = new Set(['manifest.created_at']);

/**
 * Flatten a JSON value to dotted paths → leaf values. Arrays of scalars are leaves (compared as a whole);
 * arrays of objects are indexed (`scorers.0.name`). Absent fields are `undefined`.
 */
export function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !(Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object'))) {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out.set(prefix, value);
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, value);
  return out;
}

function same(x: unknown, y: unknown): boolean {
  return JSON.stringify(x) === JSON.stringify(y);
}

/** Compare two objects field by field (union of paths, sorted). */
export function diffObjects(a: unknown, b: unknown, prefix: string): FieldDifference[] {
  const fa = flatten(a, prefix), fb = flatten(b, prefix);
  const paths = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  return paths.filter((p) => !same(fa.get(p), fb.get(p))).map((p) => ({ path: p, a: fa.get(p), b: fb.get(p), informational: INFORMATIONAL.has(p) }));
}

/** Diff two runs of the pool (ids or unique prefixes). Errors: InputError for unknown runs (from the pool). */
export async function diffRuns(pool: Pool, refA: string, refB: string, maxExamples = 10): Promise<RunDiff> {
  const a = await pool.resolveRunId(refA), b = await pool.resolveRunId(refB);
  const ra = (await pool.getRun(a))!, rb = (await pool.getRun(b))!;
  const fields = [...diffObjects(ra.spec, rb.spec, 'spec'), ...diffObjects(ra.manifest, rb.manifest, 'manifest')];
  // Only the hashes of each planned sample are kept (a plan's prompts can be large).
  const hashesOf = async (id: string) => {
    const m = new Map<string, { prompt_hash: string; target_hash: string }>();
    for await (const p of pool.iteratePlanned(id)) m.set(p.sample.id, { prompt_hash: p.prompt_hash, target_hash: p.target_hash });
    return m;
  };
  const pa = await hashesOf(a);
  const pb = await hashesOf(b);
  let shared = 0, promptDiffers = 0, targetDiffers = 0, onlyA = 0;
  const examples: RunDiff['samples']['examples'] = [];
  for (const [id, x] of pa) {
    const y = pb.get(id);
    if (!y) {
      onlyA++;
      continue;
    }
    shared++;
    const pd = x.prompt_hash !== y.prompt_hash, td = x.target_hash !== y.target_hash;
    if (pd) promptDiffers++;
    if (td) targetDiffers++;
    if ((pd || td) && examples.length < maxExamples) examples.push({ sample_id: id, prompt_differs: pd, target_differs: td });
  }
  return { a, b, same_run: a === b, fields, samples: { only_a: onlyA, only_b: pb.size - shared, shared, prompt_differs: promptDiffers, target_differs: targetDiffers, examples } };
}
