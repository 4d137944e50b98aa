/**
 * Assay as a library: `import { evaluate, defineTask, openPool } from 'assay'`.
 *
 * ```ts
 * import { defineTask, evaluate, evalSetTable, openPool } from 'assay';
 * const task = defineTask({ name: 'my-qa', dataset: 'data/qa.jsonl', scorers: ['math'], epochs: 4 });
 * await using pool = await openPool('sqlite:.assay/pool.sqlite', { create: true });   // an ES module (.mts): top-level await
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
export { GenerationConfigSchema, MessageSchema, SampleSchema, imagePart, messageImages, messageText } from './core/schemas.ts';
export type { ImagePart } from './core/schemas.ts';
export { IMAGE_MIME_TYPES, loadImage, type ImageBlob, type ImageMimeType, type ImageResolver } from './core/images.ts';
export { InputError, RunError } from './core/errors.ts';
export { createRng, type Rng } from './core/rng.ts';
export { getTemplate, templateNames, type PromptTemplate } from './core/templates.ts';

// Tasks
export { datasetTask, defineTask, getTask, isTask, loadTasks, registerTask, resolveTask, taskNames, type FewShotConfig, type ResolvedTask, type Task, type TaskDefinition } from './tasks/index.ts';

// Solvers
export { chain, chainOfThought, fewShot, generate, multiTurn, systemMessage } from './solvers/builtin.ts';
export { createSolver, registerSolver, solverNames } from './solvers/registry.ts';
export type { Generate, ModelOutput, Solver, SolverSpec, TaskState } from './solvers/types.ts';
export { loglikelihoodChoice, loglikelihoodRolling, loglikelihoodTarget, type LoglikelihoodSolverOptions } from './solvers/loglikelihood.ts';
export { loglikelihoodOf, type ChoiceLoglikelihoods, type LoglikelihoodMetadata, type RollingLoglikelihood, type TargetLoglikelihood } from './core/loglikelihood.ts';
export { rawPrompt, type RawPromptOptions } from './core/raw-prompt.ts';

// Scorers
export { createScorer, registerScorer, scorerNames } from './scorers/registry.ts';
export type { ScoredState, Scorer, Verdict } from './scorers/types.ts';

// Providers
export { createProvider, providerKinds, registerProvider, type ProviderFactory } from './providers/registry.ts';
export {
  ProviderError, type GenerateRequest, type GenerateResponse, type LoglikelihoodRequest, type LoglikelihoodResult, type ProbeResult, type Provider, type ProviderCapabilities,
  type ProviderOptions, type RollingLoglikelihoodResult, type ScoringRequest, type ScoringResponse,
} from './providers/types.ts';
export { ensureCapabilities, rollingWindows, splitContinuation, type ProviderNeed } from './providers/scoring.ts';

// Datasets
export { loadDataset, namedDatasets, type LoadedDataset } from './datasets/index.ts';
export { registerDataset, registeredDatasetNames } from './datasets/registry.ts';

// Running
export { evaluate, type EvalCell, type EvalResult, type EvaluateOptions } from './runner/evaluate.ts';
export { executeRun, type RunOptions, type RunResult } from './runner/run.ts';
export { regrade } from './runner/rescore.ts';

/**
 * Distributed runs on a PostgreSQL queue (pg-boss): `enqueueRun` plans runs in the pool and puts their attempts on the
 * queue; `runWorker` processes on any machine make them (the runner's own attempt code), each exactly once;
 * `queueProgress` says where a run stands; `setEndpointLimit` caps an endpoint over all workers.
 */
export { enqueueRun, type EnqueueOptions, type EnqueueResult, type EnqueuedRun } from './queue/enqueue.ts';
export { runWorker, type WorkerOptions, type WorkerReport } from './queue/worker.ts';
export { queueProgress, queuedRuns, type QueueProgress, type QueueProgressOptions } from './queue/progress.ts';
export { endpointLimits, setEndpointLimit, type EndpointLimit } from './queue/limits.ts';
export { openQueue, type QueueConnection, type QueueConnectOptions } from './queue/connection.ts';

// The pool
export { openPool } from './store/open.ts';
/** Copy a whole pool between SQLite and PostgreSQL (either way) and check it: rows and a content hash per table. */
export { copyPool, poolDigest, DIGEST_TABLES, type CopyOptions, type CopyReport, type PoolDigest, type TableDigest } from './store/copy.ts';
export type { ChainLink, ChainSignature, EvalSetRecord, ModelRecord, Pool, PoolMeasurement, PoolSample, RunSummary, TaskRecord } from './store/types.ts';

/**
 * Evidence you can trust: every attempt and measurement hashed into its run's chain as it is written (`openPool`
 * chains every pool; `withEvidenceChain` for a pool of your own), the chain head signed with Ed25519 (`initSigningKey`,
 * `signRun`; `executeRun`'s `signingKey`), verified in the pool or from an exported evidence file without it.
 */
export { withEvidenceChain } from './store/chained.ts';
export { attemptRecord, canonicalJson, chainRuleOf, linkChain, linkLabel, measurementRecord, nextChain, recordHash, runRecord, CHAIN_RULE, CHAIN_START, type ChainRecord, type ChainRule } from './store/chain-records.ts';
export { defaultKeyPath, findSigningKey, initSigningKey, keyIdOf, loadPublicKey, loadSigningKey, type SigningKey } from './evidence/keys.ts';
export { headMessage, signatureValid, signRun } from './evidence/sign.ts';
export { verifyEvidence, type EvidenceInput, type EvidenceProblem, type EvidenceReport } from './evidence/verify.ts';
export { exportEvidence, verifyEvidenceFile, verifyRun, type VerifyOptions } from './evidence/bundle.ts';

/**
 * Capability thresholds (`assay assess`): a YAML file of capabilities → task, metric, alert and critical levels,
 * minimum samples, judged on the confidence bounds of the pool's runs, with each run's elicitation.
 */
export { CapabilitySchema, ThresholdsSchema, loadThresholds, parseThresholds, type Capability, type Thresholds } from './evidence/thresholds.ts';
export { assessCapabilities, judge, type Assessment, type CapabilityAssessment, type CapabilityVerdict, type Elicitation, type MoreSamples, type Verdict as CapabilityVerdictKind } from './evidence/assess.ts';

/**
 * Private held-out sets: items encrypted at rest in the pool (AES-256-GCM; the key from `$ASSAY_PRIVATE_KEY` or a key
 * file, never in the pool), an endpoint allow-list checked before the first request, per-item canaries, exposures.
 */
export { decrypt, defaultPrivateKeyPath, encrypt, initPrivateKey, loadPrivateKey, mac, seal, unseal, type PrivateKey } from './private/crypto.ts';
export { addPrivateSet, allowEndpoints, exposuresOf, newCanary, normalizeEndpoint, openPrivateSet, privacyPolicy, privateTask, type OpenPrivateSet } from './private/sets.ts';
export type { PrivacyPolicy } from './runner/run.ts';
export type { PrivateExposure, PrivateItem, PrivateSetRecord } from './store/types.ts';

/**
 * Contamination probes (`assay probe`): canary completion, masked-option guessing, verbatim continuation, each an
 * ordinary run with its interval; and the safety case of an assessment (`assay assess --case`), signed.
 */
export { PROBE_KINDS, probeSamples, probeScorer, runProbe, type ProbeKind, type ProbeResult as ContaminationProbeResult } from './contamination/probes.ts';
export { buildSafetyCase, renderSafetyCaseHtml, signSafetyCase, verifySafetyCase, type SafetyCase } from './evidence/safety-case.ts';

// The one outcome rule: failed calls and grader errors excluded (counted), grader timeouts wrong, truncation flagged
export { countOutcomes, outcomeOf, scoredValue, type Outcome, type OutcomeCounts } from './core/outcome.ts';

// Statistics (pure functions on arrays)
export { computeRunStatistics, passAtK, type RunStatistics, type SampleScores } from './stats/accuracy.ts';
export { corpusPerplexity, type CorpusPerplexity, type RollingItem } from './stats/perplexity.ts';
export { rankByLearnability, selectByLearnability, type LearnabilityItem, type LearnabilitySelection, type ModelScores } from './stats/learnability.ts';
export { choiceVerdicts, goldIndex } from './scorers/loglikelihood.ts';
/** Scorers of the image path: VQA accuracy (`vqa`), and caption scores against several references (`bleu`, `cider_d`; corpus BLEU and CIDEr-D of a whole corpus). */
export { humanAnswers, vqaAccuracy, vqaNormalize } from './scorers/vqa.ts';
export { bleuStats, captionTokens, ciderD, corpusBleu, referenceCaptions, sentenceBleu, type BleuScore, type CaptionTokenizer } from './scorers/caption.ts';
export { comparePaired, mcnemar, pairedT, signFlipTest, wilcoxonSignedRank } from './stats/paired.ts';
export { holm, benjaminiHochberg } from './stats/multiplicity.ts';
export { rankRuns, rankAcrossTasks } from './stats/rank.ts';
export { calibrationReport } from './stats/calibration.ts';
export { effectiveContextLimit } from './stats/context-limit.ts';
export { decomposeVariance } from './stats/variance.ts';
export { analyzeSweep } from './stats/sweep.ts';
export { analyzeTruncation } from './stats/truncation.ts';
export { planTable } from './stats/power.ts';
export { rankModels } from './aggregate/rank.ts';

// Analyses over the pool: every one reads outcomes through `streamOutcomes` / `readRunOutcomes` (one rule)
export { loadRunData, readRunOutcomes, streamOutcomes, type ConfidenceSource, type OutcomeRow, type ReadOptions, type RunData } from './analyses/outcomes.ts';
export { runStatistics, sampleScoresOf, statisticsOfRun, type RunStatisticsReport } from './analyses/statistics.ts';
export { compareRuns, compareRunData, type AnalysisOptions, type ComparisonReport, type PairResult } from './analyses/compare.ts';
export { rankFromPool, type PoolRanking, type PoolRankOptions } from './analyses/pool-ranking.ts';
export { calibrationItems, calibrationOfRun, type RunCalibration } from './analyses/calibration.ts';
export { contextLimitOfRun, contextLimitsOfRun, type ContextLimits } from './analyses/context-limit.ts';
export { sweepOfRuns, type SweepGroup } from './analyses/sweep.ts';
export { planEvaluation, planFromPilot, type Plan, type PlanRequest } from './analyses/plan.ts';
export { reportData, type ReportData, type RunAnalysis } from './analyses/report.ts';
export { diffRuns, type RunDiff } from './analyses/diff.ts';
export { recordedAgreement, scorerDisagreement } from './analyses/graders.ts';
export { missingDataValidation, subsetValidation } from './analyses/pool-validation.ts';
export { evalSetTable, type EvalTable, type EvalTableRow } from './analyses/eval-set.ts';
export { learnabilityOfRuns, perplexityOfRun, storedLoglikelihoods, type LearnabilityOptions, type RunLearnability, type RunPerplexity } from './analyses/loglikelihood.ts';
export { importLmEvalLoglikelihoods, reproduceLmEvalAccuracy, type LmEvalReproduction } from './importers/lm-eval-loglikelihood.ts';

// Evaluation over time: checkpoint streams, continual metrics, temporal merging of GGUF and safetensors checkpoints
export {
  evaluateStream, readStreamFile, resolveStream, streamColumnId, StreamSpecSchema, type AdaptationEntry, type ResolvedStream, type StreamDefinition, type StreamEntry, type StreamOptions,
  type StreamOrderInput, type StreamRecordSpec, type StreamResult, type StreamTaskInput, type StreamSource, type MergeCheckpointInput, type MergeRecord, type BaseDifficultyRecord,
} from './runner/stream.ts';
export { streamTable, type StreamColumn, type StreamTable } from './analyses/stream.ts';
export { findBaseRun, MissingBaseRunError, runDifficulty, type BaseRunDifficulty, type BaseTaskRef } from './analyses/base-difficulty.ts';
export { renderStreamReport, streamTrajectoryPlots } from './report/stream-html.ts';
export { continualMetrics, continualReport, type ContinualInterval, type ContinualMetrics, type ContinualOptions, type ContinualReport, type Estimate, type StreamTaskRole } from './stats/continual.ts';
export { checkMerge, mergeGguf, mergeModels, readModelHeader, type MergeOptions, type MergePlan, type MergeResult, type ModelInput, type ModelTensor, type TensorDtype } from './merge/merge.ts';
export { emaWeights, mergeTensor, MergeSpecSchema, tensorMerger, trimRule, trimRuleStreaming, type MergeSpec, type TrimRule } from './merge/methods.ts';
export { decodeBF16, encodeBF16, readGgufHeader, toBF16, type GgufHeader, type GgufTensorInfo } from './merge/gguf.ts';
export { buildSafetensorsHeader, readSafetensorsHeader, type SafetensorsHeader, type SafetensorsTensor } from './merge/safetensors.ts';

// Zero-shot classification and retrieval of embedding models (an OpenAI-compatible /embeddings endpoint), recorded as
// ordinary runs; stream orders and stratified subsets
export { createEmbedder, EmbeddingError, type EmbedInput, type Embedder, type EmbedderOptions, type EmbedderStats } from './zeroshot/embedder.ts';
export {
  defineZeroShotTask, isZeroShotTask, readZeroShotFile, stratifiedZeroShot, TEMPLATE_SETS, zeroShotColumns, zeroShotSubset,
  type ZeroShotColumn, type ZeroShotDefinition, type ZeroShotItem, type ZeroShotItemInput, type ZeroShotTask,
} from './zeroshot/task.ts';
export { evaluateZeroShot, zeroShotFigures, type ZeroShotColumnResult, type ZeroShotOptions, type ZeroShotResult } from './runner/zeroshot.ts';
export { classify, classPrototypes, clusteredFigure, hitsAt, jeffreysInterval, l2Normalize, meanPerClassFigure, proportionFigure, retrieve, type ClassificationOutcome, type RetrievalOutcome, type ZeroShotFigure } from './stats/zeroshot.ts';
export { introductionRows, STREAM_ORDERS, streamOrder, type OrderItem, type StreamOrder, type StreamOrderMethod, type StreamOrderSpec } from './generators/stream-order.ts';
export { fieldOf, stratifiedSamples, stratifiedSubset, type StratifiedSpec, type StratifiedSubset, type Stratum } from './datasets/stratified.ts';

// Running analyses that make runs, and the report
export { sweep, type SweepOptions, type SweepResult } from './runner/sweep.ts';
export { rescoreRun, type RescoreResult } from './runner/rescore.ts';
export { buildReport, renderReport, type ReportOptions } from './report/html.ts';

// What the remaining commands do, as functions (`assay import`, `export`, `gen needle`, `tokens`, `pool query`)

/**
 * Importers (`assay import <format> <file>`): other tools' and public sample-level results into a pool as a source,
 * one transaction per file. `IMPORTERS` maps each CLI format name to its description and runner; the functions import
 * one format each (MMLU-Pro, WildBench, Arena-Hard, a generic CSV, lm-evaluation-harness samples, Inspect logs).
 */
export { IMPORTERS, importArenaHard, importGenericCsv, importInspect, importLmEval, importMmluPro, importWildBench, type AnyImportOptions, type ImportOptions, type ImportResult } from './importers/index.ts';

/**
 * Export of a run (`assay export`): every attempt with one scorer's measurement, streamed as JSONL or CSV
 * (`EXPORT_COLUMNS`) to any writable stream.
 */
export { EXPORT_COLUMNS, exportRun } from './analyses/export.ts';

/**
 * The needle-threading generator (`assay gen needle`): seeded grids of long-context key–value haystacks, written as
 * JSONL that `loadDataset` reads (`writeGridJsonl`), hashed without writing (`hashGrid`), or sample by sample
 * (`generateGrid`, `generateNeedleSample`); `solveNeedlePrompt` answers a prompt exactly (the reference model).
 */
export {
  DEFAULT_GRID, FULL_GRID, NEEDLE_GENERATOR_VERSION, NEEDLE_TASKS, generateGrid, generateNeedleSample, gridSize, hashGrid, solveNeedlePrompt, validateGrid, writeGridJsonl,
  type Direction, type NeedleGridSpec, type NeedleSample, type NeedleTask, type Placement,
} from './generators/needle/index.ts';

/**
 * Charts (`assay gen charts`): a deterministic SVG chart renderer rendered to PNG with resvg and a bundled font
 * (`renderSvg`, `svgToPng`), and a GRAB-style generator of chart-analysis questions with analytic ground truth
 * (`generateCharts`, `makeChartItem`, `writeChartDataset`); grade with the `grab` scorer.
 */
export {
  CHARTS_GENERATOR_VERSION, CHART_TASKS, chartSpecs, generateCharts, grabDistribution, makeChartItem, releaseRenderMemory, renderChartItem, renderSvg, svgToPng, writeChartDataset,
  type ChartItem, type ChartItemSpec, type ChartSample, type ChartSpec, type ChartTask, type ChartWriteResult,
} from './generators/charts/index.ts';

/**
 * Tokenizers (`assay tokens`): token counts of text in each model family's tokenizer (`countTokens`), characters per
 * token (`charsPerToken`), the family of a model name (`familyOfModel`).
 */
export { TOKENIZER_FAMILIES, charsPerToken, countTokens, familyOfModel, loadTokenizer, parseFamilies, type CharsPerTokenRow, type TokenCounter, type TokenizerFamily } from './tokenizers/index.ts';

/**
 * Capability queries over the pool (`assay pool query`): BM25 text search with metadata filters (`parseFilters` reads
 * `key=value` specs), optionally re-ranked by embeddings; the selection (`Pool.saveSelection`) feeds `rankFromPool`.
 */
export { parseFilters, querySamples, type EmbeddingProvider, type QueryHit, type QueryOptions, type QueryResult } from './query/search.ts';
export { endpointEmbedder, fileEmbeddings } from './query/embeddings.ts';

/**
 * The game arena (`assay arena`, GAMEBoT-style): eight game engines and chess with rule-based subproblems, the prompt protocol
 * and tolerant move parsing, reference players, matches as a custom-loop solver (`gameMatchSolver`, every move stored
 * in the pool), Bradley–Terry ratings with bootstrap intervals over matches (`rateMatches`), and `runArena`.
 */
export {
  GAMES, gameNames, getGame, ticTacToe, connect4, othello, checkers, negotiation, holdem, surround, pong, chess, chessFromFen, bestHand, bestHands, evaluateFive, proposalValues,
  randomPlayer, greedyPlayer, alphaBetaPlayer, referencePlayer, buildPrompt, parseMoveReply, gradeReply, parsePolicy, playMatch, formatMatch, gameMatchSolver,
  matchSamples, rateMatches, runArena, arenaTask, arenaPairTask, referenceRoundRobin, formatArena,
  type Game, type GameResult, type Seat, type ParsedMove, type Subproblem, type Player, type IllegalMovePolicy, type PromptForm, type SubproblemResult,
  type MatchRecord, type MoveRecord, type MatchOutcome, type PlayerRating, type Ratings, type ArenaOptions, type ArenaReport, type ArenaPlayerGame, type ChessState,
} from './games/index.ts';
export { renderArenaReport, matchHtml } from './report/arena.ts';

/**
 * The viewer (`assay serve`): `createViewer(pool, { tokens })` builds the hono app — JSON API and server-rendered pages
 * (runs, statistics with CIs, samples with transcripts, comparisons, rankings, needle heatmaps, calibration, live
 * progress, streamed CSV/JSON downloads) behind API tokens with roles; `serve(pool, options)` runs it on 127.0.0.1.
 */
export {
  createViewer, serve, FileTokenStore, MemoryTokenStore, FileAuditLog, MemoryAuditLog, NoteStore,
  type ViewerApp, type ViewerOptions, type RunningViewer, type ServeOptions, type TokenStore, type TokenRecord, type Role, type AuditLog, type AuditEntry,
} from './serve/index.ts';
