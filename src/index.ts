/**
 * Assay as a library: `import { evaluate, defineTask, openPool } from 'assay'`.
 *
 * ```ts
 * import { defineTask, evaluate, evalSetTable, openPool } from 'assay';
 * const task = defineTask({ name: 'my-qa', dataset: 'data/qa.jsonl', scorers: ['math'], epochs: 4 });
 * await using pool = await openPool('sqlite:.assay/pool.sqlite');
 * const result = await evaluate([task, 'gsm8k'], ['openai-compatible:http://127.0.0.1:8000/v1#qwen'], { pool });
 * const table = await evalSetTable(pool, result.eval_set_id);   // accuracy with 95% CIs; ranking with rank intervals
 * ```
 *
 * The CLI is a thin layer over these functions: whatever a command does, code can.
 */

// Core shapes
export type {
  Attempt, ContentPart, FinishReason, GenerationConfig, Manifest, Measurement, MeasurementKind, Message, PlannedSample, RunDataset, RunRecord, RunSpec, Sample,
} from './core/schemas.ts';
export { GenerationConfigSchema, MessageSchema, SampleSchema, messageText } from './core/schemas.ts';
export { InputError, RunError } from './core/errors.ts';
export { createRng, type Rng } from './core/rng.ts';
export { getTemplate, templateNames, type PromptTemplate } from './core/templates.ts';

// Tasks
export { datasetTask, defineTask, getTask, isTask, loadTasks, registerTask, resolveTask, taskNames, type FewShotConfig, type ResolvedTask, type Task, type TaskDefinition } from './tasks/index.ts';

// Solvers
export { chain, chainOfThought, fewShot, generate, multiTurn, systemMessage } from './solvers/builtin.ts';
export { createSolver, registerSolver, solverNames } from './solvers/registry.ts';
export type { Generate, ModelOutput, Solver, SolverSpec, TaskState } from './solvers/types.ts';

// Scorers
export { createScorer, registerScorer, scorerNames } from './scorers/registry.ts';
export type { ScoredState, Scorer, Verdict } from './scorers/types.ts';

// Providers
export { createProvider, providerKinds, registerProvider, type ProviderFactory } from './providers/registry.ts';
export { ProviderError, type GenerateRequest, type GenerateResponse, type Provider, type ProviderCapabilities, type ProviderOptions } from './providers/types.ts';

// Datasets
export { loadDataset, namedDatasets, type LoadedDataset } from './datasets/index.ts';
export { registerDataset, registeredDatasetNames } from './datasets/registry.ts';

// Running
export { evaluate, type EvalCell, type EvalResult, type EvaluateOptions } from './runner/evaluate.ts';
export { executeRun, type RunOptions, type RunResult } from './runner/run.ts';
export { regrade } from './runner/rescore.ts';

// The pool
export { openPool } from './store/open.ts';
export type { EvalSetRecord, ModelRecord, Pool, PoolMeasurement, PoolSample, RunSummary, TaskRecord } from './store/types.ts';

// Statistics (pure functions) and analyses over the pool
export { computeRunStatistics, passAtK, type RunStatistics, type SampleScores } from './stats/accuracy.ts';
export { runStatistics, sampleScoresOf } from './stats/from-pool.ts';
export { comparePaired, mcnemar, pairedT, signFlipTest, wilcoxonSignedRank } from './stats/paired.ts';
export { holm, benjaminiHochberg } from './stats/multiplicity.ts';
export { rankRuns, rankAcrossTasks } from './stats/rank.ts';
export { calibrationReport } from './stats/calibration.ts';
export { effectiveContextLimit } from './stats/context-limit.ts';
export { rankModels } from './aggregate/rank.ts';
export { evalSetTable, type EvalTable, type EvalTableRow } from './analyses/eval-set.ts';
