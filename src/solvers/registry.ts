/**
 * The solver registry: built-in solvers under their names, user solvers added with `registerSolver`.
 *
 * | name | options |
 * |---|---|
 * | `generate` | none: one model call (the default) |
 * | `system_message` | `text` (required; `{key}` filled from sample metadata) |
 * | `few_shot` | `examples`: list of `{input, output}` |
 * | `chain_of_thought` | `instruction` (default Kojima et al.'s "Let's think step by step.") |
 * | `multi_turn` | `field` (default `turns`): scripted follow-up user turns from sample metadata |
 * | `loglikelihood_choice` | `target_delimiter` (default `" "`), `fewshot_delimiter` (`"\n\n"`), `continuation` `text` \| `letter`: multiple choice by option log-likelihood |
 * | `loglikelihood_target` | `target_delimiter`, `fewshot_delimiter`: the target's log-likelihood and greedy match |
 * | `loglikelihood_rolling` | `field` `input` \| `target`: the whole text's log-likelihood (perplexity, bits per byte) |
 */
import { z } from 'zod';
import { Registry, type Registration } from '../core/registry.ts';
import { chain, chainOfThought, DEFAULT_COT, fewShot, generate, multiTurn, systemMessage } from './builtin.ts';
import { loglikelihoodChoice, loglikelihoodRolling, loglikelihoodTarget } from './loglikelihood.ts';
import type { NamedSolver, Solver, SolverSpec } from './types.ts';

const SOLVERS = new Registry<Solver>('solver');

SOLVERS.register('generate', { schema: z.strictObject({}), make: () => generate(), description: 'one model call (default)' });
SOLVERS.register('system_message', {
  schema: z.strictObject({ text: z.string().min(1) }),
  make: (o) => systemMessage(o.text as string),
  description: 'set the system message',
});
SOLVERS.register('few_shot', {
  schema: z.strictObject({ examples: z.array(z.strictObject({ input: z.string(), output: z.string() })).min(1) }),
  make: (o) => fewShot(o.examples as { input: string; output: string }[]),
  description: 'worked examples as earlier turns',
});
SOLVERS.register('chain_of_thought', {
  schema: z.strictObject({ instruction: z.string().min(1).optional() }),
  make: (o) => chainOfThought((o.instruction as string | undefined) ?? DEFAULT_COT),
  description: 'append a step-by-step instruction',
});
SOLVERS.register('multi_turn', {
  schema: z.strictObject({ field: z.string().min(1).optional() }),
  make: (o) => multiTurn((o.field as string | undefined) ?? 'turns'),
  description: 'scripted follow-up turns (MT-Bench)',
});

SOLVERS.register('loglikelihood_choice', {
  schema: z.strictObject({ target_delimiter: z.string().optional(), fewshot_delimiter: z.string().optional(), continuation: z.enum(['text', 'letter']).optional() }),
  make: (o) => loglikelihoodChoice({ targetDelimiter: o.target_delimiter as string | undefined, fewshotDelimiter: o.fewshot_delimiter as string | undefined, continuation: o.continuation as 'text' | 'letter' | undefined }),
  description: 'multiple choice by option log-likelihood (base models; needs prompt log-probabilities)',
});
SOLVERS.register('loglikelihood_target', {
  schema: z.strictObject({ target_delimiter: z.string().optional(), fewshot_delimiter: z.string().optional() }),
  make: (o) => loglikelihoodTarget({ targetDelimiter: o.target_delimiter as string | undefined, fewshotDelimiter: o.fewshot_delimiter as string | undefined }),
  description: "the target's log-likelihood and whether it is the greedy continuation",
});
SOLVERS.register('loglikelihood_rolling', {
  schema: z.strictObject({ field: z.enum(['input', 'target']).optional() }),
  make: (o) => loglikelihoodRolling({ field: o.field as 'input' | 'target' | undefined }),
  description: "a whole text's log-likelihood (perplexity, bits per byte)",
});

/**
 * Register a solver under `name` so tasks (TypeScript or YAML) can name it and stored runs can rebuild it.
 * `make` receives the options validated by `schema`. Errors: Error when the name is taken (unless `replace`).
 * @example registerSolver('tic_tac_toe', z.strictObject({ depth: z.number().int() }), (o) => playTicTacToe(o.depth))
 */
export function registerSolver(name: string, schema: Registration<Solver>['schema'], make: Registration<Solver>['make'], opts: { replace?: boolean; description?: string } = {}): void {
  SOLVERS.register(name, { schema, make, description: opts.description }, opts);
}

/** Names of the registered solvers, sorted. */
export function solverNames(): string[] {
  return SOLVERS.names();
}

/** Build one solver from its spec. Errors: InputError for an unknown name (listing the known ones) or bad options. */
export function createSolver(spec: SolverSpec): NamedSolver {
  const s = SOLVERS.create(spec.name, spec.options);
  return Object.assign((state: Parameters<Solver>[0], gen: Parameters<Solver>[1]) => s(state, gen), { spec: { name: spec.name, options: spec.options }, ...(s.needs ? { needs: s.needs } : {}), ...(s.fewShotAnswer ? { fewShotAnswer: s.fewShotAnswer } : {}), ...(s.preparesOnly ? { preparesOnly: true as const } : {}) });
}

/** Build a chain from a list of specs (an empty list is the default `generate`). */
export function createSolverChain(specs: SolverSpec[]): Solver {
  if (specs.length === 0) return generate();
  return chain(...specs.map(createSolver));
}

/** True when a solver spec list is the default (a single `generate`, or nothing). */
export function isDefaultSolver(specs: SolverSpec[] | undefined): boolean {
  return !specs || specs.length === 0 || (specs.length === 1 && specs[0]!.name === 'generate' && Object.keys(specs[0]!.options).length === 0);
}
