/** Shared helpers of the scorer tests. */
import { readFileSync } from 'node:fs';
import type { Sample } from '../../src/core/schemas.ts';
import type { Scorer, Verdict } from '../../src/scorers/types.ts';
import { shared } from '../../testkit/shared.ts';


/** Read a JSONL file under the shared folder. */
export function readJsonl<T = Record<string, any>>(rel: string): T[] {
  return readFileSync(shared(rel), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** A minimal sample with the given target. */
export function sample(target: string, extra: Partial<Sample> = {}): Sample {
  return { id: 's', input: 'q', target, metadata: {}, ...extra };
}

/**
 * A hang guard, not a timing figure (timings are never test assertions; grading speed is measured in bench/grading.ts):
 * a grade that takes this long is a runaway — catastrophic backtracking, an unbounded expansion, quadratic work on a
 * huge response — whatever the machine's load.
 */
export const HANG_MS = 30_000;

/** Score and measure wall time (ms). */
export async function timed(scorer: Scorer, target: string, response: string): Promise<{ v: Verdict; ms: number }> {
  const t = performance.now();
  const v = await scorer.score(sample(target), response);
  return { v, ms: performance.now() - t };
}
