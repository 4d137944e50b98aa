/**
 * Solvers (DESIGN.md §7, after Inspect's Solver): how a model is driven for one (sample, epoch).
 *
 * A solver is an async function from a task state and a `generate` function to a new state. The state carries the
 * conversation so far, the latest model output, metadata and a small store, so one solver can make any number of
 * model calls: a single generation (the default), scripted follow-up turns (MT-Bench), a game played move by move,
 * an agent loop. A list of solvers composes into a chain (`chain`). Solvers know nothing of HTTP, retries, caching
 * or storage: `generate` hides them, and the runner stores the final state.
 */
import type { FinishReason, GenerationConfig, Message, Sample } from '../core/schemas.ts';
import type { ProviderNeed } from '../providers/scoring.ts';
import type { LoglikelihoodRequest, LoglikelihoodResult, RollingLoglikelihoodResult } from '../providers/types.ts';

export type { LoglikelihoodRequest, LoglikelihoodResult, RollingLoglikelihoodResult } from '../providers/types.ts';

/** One model call's result, as solvers and scorers see it. */
export interface ModelOutput {
  /** The generated text. */
  text: string;
  /** `length` marks a truncated generation. */
  finish_reason: FinishReason;
  /** The model id the server reported, when it reports one. */
  model_id: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

/** The state of one (sample, epoch) as a solver moves it along. */
export interface TaskState {
  /** The sample being solved (read-only by convention). */
  readonly sample: Sample;
  /** 0-based epoch (repeat) index. */
  readonly epoch: number;
  /** The conversation so far: the planned prompt, then every turn added by solvers and model calls. */
  messages: Message[];
  /** The latest model output (null before the first call). */
  output: ModelOutput | null;
  /** Facts a solver wants stored with the attempt (JSON-serialisable), e.g. a game's moves. */
  metadata: Record<string, unknown>;
  /** Scratch space shared by the solvers of one chain (not stored). */
  store: Map<string, unknown>;
  /** Set by a solver to end a chain early (the remaining solvers are skipped). */
  completed: boolean;
  /** Number of model calls made so far for this state. */
  calls: number;
}

/**
 * Call the model on `state.messages`, append its reply as an assistant message, set `state.output` and return the
 * state. `config` overrides the run's generation config for this call only (e.g. a different `max_tokens`).
 * Retries, timeouts, rate limits and the response cache are handled behind it; a call that still fails throws, and
 * the attempt is recorded as failed.
 *
 * Scoring (lm-evaluation-harness's two other request types), for solvers that declare `needs: ['loglikelihood']`
 * (the runner then checks, once and before any sample, that the provider can serve them):
 * - `generate.loglikelihood(requests)`: for each `{ context, continuation }` (plain text, no chat template), the
 *   continuation's summed token log-probability, whether it is the greedy continuation, and its token count.
 * - `generate.loglikelihoodRolling(texts)`: each whole text's log-likelihood from its first token (long texts in
 *   rolling windows).
 * Both go through the same retries, timeouts and concurrency limit as a generation; neither touches `state.output`.
 */
export interface Generate {
  (state: TaskState, config?: Partial<GenerationConfig>): Promise<TaskState>;
  loglikelihood(requests: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]>;
  loglikelihoodRolling(texts: string[]): Promise<RollingLoglikelihoodResult[]>;
}

/**
 * A solver: `(state, generate) → state`. May call `generate` any number of times. `needs` lists what it asks of the
 * provider beyond chat generation (`loglikelihood`), so a task that cannot run on a model fails before its first
 * request.
 */
export type Solver = ((state: TaskState, generate: Generate) => Promise<TaskState>) & {
  readonly needs?: readonly ProviderNeed[];
  /**
   * How this solver wants a few-shot example's answer written, when the task takes the answer from the sample's
   * target (the default): e.g. `loglikelihood_choice` writes the gold option as it scores it (the option's text, or its
   * letter with `continuation: letter`), as lm-eval writes `doc_to_choice[doc_to_target]`. Null: the target as it is.
   */
  readonly fewShotAnswer?: (example: Sample) => string | null;
  /**
   * True for a solver that only prepares the conversation (`systemMessage`, `fewShot`, `chainOfThought`) and never
   * calls the model: a chain made only of such solvers can never produce a model output, so a task with one is
   * refused before the first request (`solverGenerates`). A solver without the flag (`generate`, `multiTurn`, a
   * custom loop function) is taken to produce an output.
   */
  readonly preparesOnly?: boolean;
};

/** Can this solver (or chain) produce a model output? False only when it is made of prompt-preparing solvers. */
export function solverGenerates(solver: Solver | undefined): boolean {
  return !solver?.preparesOnly;
}

/** What a solver (or a chain) needs of the provider, without duplicates. */
export function solverNeeds(solver: Solver | undefined): ProviderNeed[] {
  return [...new Set(solver?.needs ?? [])];
}

/** A solver as stored with a run: its registry name and options, enough to rebuild it. */
export interface SolverSpec {
  name: string;
  options: Record<string, unknown>;
}

/** A solver built from the registry, carrying its spec (stored in the run spec so an old run can be rebuilt). */
export interface NamedSolver extends Solver {
  readonly spec: SolverSpec;
}
