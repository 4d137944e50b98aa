/**
 * Scorer registry: scorers are created by name and options, and that spec is stored with a run so that old
 * runs can be re-scored (DESIGN.md §7).
 *
 * | name    | options (defaults)                                                        |
 * |---------|---------------------------------------------------------------------------|
 * | `math`  | `relTol` 1e-6 (relative only), `percent` `'strip'` \| `'strict'` \| `'equivalent'`, `timeoutMs` 2000 |
 * | `gsm8k` | `relTol` 1e-6                                                             |
 * | `exact` | `ignoreCase` false                                                        |
 * | `choice`| none                                                                      |
 */
import { z } from 'zod';
import type { Scorer } from './types.ts';
import { Gsm8kScorer, MathScorer } from './math.ts';
import { ChoiceScorer, ExactScorer } from './simple.ts';

const relTol = z.number().positive().max(0.1);
const SPECS = {
  math: {
    schema: z.strictObject({
      relTol: relTol.optional(),
      percent: z.enum(['strip', 'strict', 'equivalent']).optional(),
      timeoutMs: z.number().int().positive().max(600_000).optional(),
    }),
    make: (o: Record<string, unknown>): Scorer => new MathScorer(o),
  },
  gsm8k: {
    schema: z.strictObject({ relTol: relTol.optional() }),
    make: (o: Record<string, unknown>): Scorer => new Gsm8kScorer(o),
  },
  exact: {
    schema: z.strictObject({ ignoreCase: z.boolean().optional() }),
    make: (o: Record<string, unknown>): Scorer => new ExactScorer({ ignoreCase: (o.ignoreCase as boolean | undefined) ?? false }),
  },
  choice: {
    schema: z.strictObject({}),
    make: (): Scorer => new ChoiceScorer(),
  },
} as const;

type Name = keyof typeof SPECS;

/** The names of all registered scorers, sorted. */
export function scorerNames(): string[] {
  return Object.keys(SPECS).sort();
}

/**
 * Create a scorer by registry name.
 * @param name one of {@link scorerNames}
 * @param options scorer options (validated; unknown keys are rejected)
 * @throws Error for an unknown name (the message lists the known names) or invalid options (the message says which)
 */
export function createScorer(name: string, options: Record<string, unknown> = {}): Scorer {
  if (!Object.prototype.hasOwnProperty.call(SPECS, name)) {
    throw new Error(`unknown scorer "${name}"; known scorers: ${scorerNames().join(', ')}`);
  }
  const spec = SPECS[name as Name];
  const parsed = spec.schema.safeParse(options ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
    throw new Error(`invalid options for scorer "${name}": ${issues}`);
  }
  return spec.make(parsed.data as Record<string, unknown>);
}
