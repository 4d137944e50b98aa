/**
 * The one analysis reader: every analysis (stats, compare, sweep, plan, needle-limit, calibration, eval-set tables,
 * the report) reads a run's outcomes through `readRunOutcomes`, which applies the one rule of src/core/outcome.ts
 * (failed model calls and grader errors excluded and counted, grader timeouts counted as wrong, truncated attempts
 * flagged) in one place. A run is read once, streamed, into memory-light per-sample arrays (numbers and short
 * strings; never a response), from which every figure is derived.
 *
 * Statistics read measurements, never raw responses (DESIGN.md §3): only the lengths of responses (truncation
 * analysis) and the confidence a response states (calibration) are taken from them, on request.
 */
import { InputError } from '../core/errors.ts';
import { outcomeOf, type Outcome } from '../core/outcome.ts';
import { messageText, type MetricInfo, type RunRecord } from '../core/schemas.ts';
import { metricOf } from './metric.ts';
import { extractConfidence } from '../scorers/extract.ts';
import type { TokenPoint } from '../stats/context-limit.ts';
import { FACTOR_FIELDS, levelOf } from '../stats/sweep.ts';
import type { LengthRecord } from '../stats/truncation.ts';
import type { Pool } from '../store/types.ts';

/** Where a stated confidence is read from (calibration): a judge's structured verdict, the response text, or either. */
export type ConfidenceSource = 'auto' | 'judge' | 'response';

/** One attempt's outcome, with the confidence it states when that was asked for (a proportion in [0, 1], or null). */
export interface RunOutcome extends Outcome {
  confidence?: number | null;
}

/** Needle-threading grid coordinates of a sample (from its metadata `chars`, `depth`, `task`). */
export interface GridCoordinates {
  /** Context length in characters. */
  length: number;
  /** Needle depth in percent, or null. */
  depth: number | null;
  task: string;
}

/**
 * Chart-question coordinates of a sample (GRAB's task and complexity): a sample of the chart generator
 * (`metadata.generator: "charts"`) or of the GRAB file (`metadata.source: "grab"`) with a GRAB task and an integer
 * complexity (functions or series − 1, or transform steps).
 */
export interface ChartCoordinates {
  task: string;
  complexity: number;
}

const CHART_TASK_NAMES = new Set(['properties', 'function', 'series', 'transform']);

/** The chart coordinates of a sample's metadata, or null when it is not a chart question. */
export function chartCoordinatesOf(md: Readonly<Record<string, unknown>>): ChartCoordinates | null {
  if (md.generator !== 'charts' && md.source !== 'grab') return null;
  if (typeof md.task !== 'string' || !CHART_TASK_NAMES.has(md.task) || !Number.isInteger(md.complexity)) return null;
  return { task: md.task, complexity: md.complexity as number };
}

/** One sample's outcomes in a run. */
export interface RunSampleScores {
  sample_id: string;
  /** The sample's content hash (input + target): the identity used to pair runs. */
  key: string;
  /** The values the rule counts, in epoch order (failed attempts and grader errors left out; timeouts are 0). */
  values: number[];
  /** Every stored outcome of the sample (failed attempts and grader errors included), in epoch order. */
  epochs: RunOutcome[];
  /** Grid coordinates when the sample is a needle-threading sample, else null. */
  grid: GridCoordinates | null;
  /** Chart coordinates when the sample is a chart question (charts generator, GRAB), else absent or null. */
  chart?: ChartCoordinates | null;
}

/** A run's outcomes for one scorer, read once. */
export interface RunData {
  run: RunRecord;
  scorer: string;
  /** The scale and direction of the scorer's values (src/analyses/metric.ts: the manifest's, else declared or inferred). */
  metric: MetricInfo;
  /** Samples with at least one stored outcome for the scorer, in dataset order. */
  samples: RunSampleScores[];
  /** The planned samples with needle-threading grid coordinates, in dataset order, with or without outcomes. */
  grid_samples: RunSampleScores[];
  /** Number of planned samples. */
  planned: number;
  /** Accuracy of each epoch over samples (epoch order; timeouts count 0). */
  per_epoch: number[];
  /** Per-attempt lengths and values of the ok attempts (with `lengths: true`), for the truncation analysis. */
  lengths: { unit: 'tokens' | 'characters'; records: LengthRecord[] } | null;
  /** With `tokens`: the recorded prompt tokens of the ok attempts of needle samples, at their grid lengths. */
  token_points: TokenPoint[] | null;
  /** With `tokens`: the rendered prompt text (message texts) of the first planned needle sample at each grid length. */
  grid_prompts: { length: number; text: string }[] | null;
}

/** Options of {@link readRunOutcomes}. */
export interface ReadOptions {
  /** Also read each ok attempt's length (completion tokens when every ok attempt has them, else characters). */
  lengths?: boolean;
  /** Also read each attempt's stated confidence, from this source. */
  confidence?: ConfidenceSource;
  /** Also read the verdict published with a replayed output (`meta.recorded_correct`, `meta.recorded_pred`). */
  recorded?: boolean;
  /** Also read what states a needle run's lengths in tokens: recorded prompt tokens, one prompt text per grid length. */
  tokens?: boolean;
}

/** The judge's recorded confidence (percent) from a measurement explanation; undefined when it recorded none. */
export function judgeConfidence(explanation: string | null): number | null | undefined {
  if (!explanation || !explanation.startsWith('{')) return undefined;
  try {
    const o = JSON.parse(explanation) as { confidence?: unknown };
    if (!('confidence' in o)) return undefined;
    return typeof o.confidence === 'number' ? o.confidence : null;
  } catch {
    return undefined;
  }
}

/**
 * A stated confidence in percent. `auto`: the judge's when it recorded one, else the response's (a judge's null is
 * "none found", not "the response states none"); `judge`: the judge's only; `response`: the response's only.
 */
function confidenceOf(from: ConfidenceSource, explanation: string | null, response: string | null): number | null {
  let pct: number | null | undefined = from === 'response' ? undefined : judgeConfidence(explanation);
  if (pct === undefined || (pct === null && from === 'auto')) pct = from === 'judge' ? (pct ?? null) : extractConfidence(response ?? '');
  return pct;
}

/**
 * Resolve a run reference (id or unique prefix). Errors: InputError for an unknown or ambiguous reference.
 */
export async function resolveRun(pool: Pool, runRef: string): Promise<RunRecord> {
  const id = await pool.resolveRunId(runRef);
  const run = await pool.getRun(id);
  if (!run) throw new InputError(`no run ${id}`);
  return run;
}

/**
 * The scorer an analysis reads: `requested` when given, else the first of `prefer` (names or predicates) found
 * among the run's stored scorers, else the run's first scorer with measurements, else the first stored one.
 * Errors: InputError naming the stored scorers when the chosen one has no measurements.
 */
export async function scorerOfRun(pool: Pool, run: RunRecord, requested?: string, prefer: ((s: string) => boolean)[] = []): Promise<string> {
  const stored = await pool.scorersOf(run.id);
  let sc = requested;
  for (const p of prefer) if (sc === undefined) sc = stored.find(p);
  sc ??= run.spec.scorers.find((s) => stored.includes(s.name))?.name ?? stored[0];
  if (!sc || !stored.includes(sc)) throw new InputError(`run ${run.id} has no measurements for scorer "${requested ?? ''}"; it has: ${stored.join(', ') || 'none'}`);
  return sc;
}

/** One attempt as the reader hands it out: its sample, its outcome under the rule, and what was asked of its response. */
export interface OutcomeRow extends RunOutcome {
  sample_id: string;
  /** True when the attempt has no measurement for the scorer (attempt streams only): value null, not an outcome. */
  unmeasured?: boolean;
  /** With `lengths`, for attempts whose model call succeeded: the response's length in characters. */
  chars?: number;
  /** With `lengths`, for attempts whose model call succeeded: completion tokens (null when not reported). */
  tokens?: number | null;
  /** With `tokens`, for attempts whose model call succeeded: the prompt tokens the server reported (null when none). */
  prompt_tokens?: number | null;
  /** With `recorded`, when the attempt carries a published verdict: that verdict, its answer, and our grader's explanation. */
  recorded?: { correct: boolean; pred: string | null; explanation: string | null };
}

/**
 * THE reader of every analysis: stream one scorer's outcomes of a run (ordered by sample, epoch), each under the one
 * outcome rule (`outcomeOf`, src/core/outcome.ts). Reads the scorer's measurements joined with their attempts; with
 * `lengths`, `confidence`, `recorded` or `tokens` it streams the attempts instead (one pass either way; attempts without a
 * measurement for the scorer then come as `unmeasured` rows), keeping only each response's length, stated
 * confidence or published verdict.
 * `runId` must be a full run id. Errors: whatever the pool's iterators throw.
 */
export async function* streamOutcomes(pool: Pool, runId: string, scorer: string, opts: ReadOptions = {}): AsyncGenerator<OutcomeRow> {
  if (!opts.lengths && !opts.confidence && !opts.recorded && !opts.tokens) {
    for await (const m of pool.iterateMeasurements(runId, scorer)) yield { sample_id: m.sample_id, ...outcomeOf(m) };
    return;
  }
  for await (const a of pool.iterateAttempts(runId, scorer)) {
    const m = a.measurement;
    const row: OutcomeRow = m
      ? { sample_id: a.sample_id, ...outcomeOf({ epoch: a.epoch, value: m.value, status: m.status, extracted: m.extracted, finish_reason: a.finish_reason, attempt_status: a.status }) }
      : { sample_id: a.sample_id, epoch: a.epoch, value: null, extracted: null, truncated: a.finish_reason === 'length', failed: a.status === 'error', unmeasured: true };
    if (opts.lengths && a.status === 'ok') {
      row.chars = (a.response ?? '').length;
      row.tokens = a.completion_tokens;
    }
    if (opts.tokens && a.status === 'ok') row.prompt_tokens = a.prompt_tokens;
    if (opts.confidence && m) {
      const pct = confidenceOf(opts.confidence, m.explanation, a.response);
      row.confidence = pct === null ? null : pct / 100;
    }
    const rc = a.meta?.recorded_correct;
    if (opts.recorded && typeof rc === 'boolean') row.recorded = { correct: rc, pred: typeof a.meta?.recorded_pred === 'string' ? a.meta.recorded_pred : null, explanation: m?.explanation ?? null };
    yield row;
  }
}

/**
 * Read one scorer's outcomes of a run into per-sample arrays (through {@link streamOutcomes}): the planned samples
 * (content hashes, needle grid coordinates) and every outcome, grouped by sample in dataset order, with the
 * per-epoch accuracy and, with `lengths`, the per-attempt lengths of the truncation analysis. One pass over the
 * planned samples and one over the outcomes; memory: a few numbers per attempt.
 * Errors: InputError for an unknown run. A scorer without measurements gives a run with no outcomes.
 */
export async function readRunOutcomes(pool: Pool, runOrRef: RunRecord | string, scorer: string, opts: ReadOptions = {}): Promise<RunData> {
  const run = typeof runOrRef === 'string' ? await resolveRun(pool, runOrRef) : runOrRef;
  const bySample = new Map<string, RunSampleScores>();
  const order: RunSampleScores[] = [];
  const prompts = new Map<number, string>();
  const tokenPoints: TokenPoint[] = [];
  for await (const p of pool.iteratePlanned(run.id)) {
    const md = p.sample.metadata;
    const grid = typeof md.chars === 'number' && typeof md.task === 'string' ? { length: md.chars, depth: typeof md.depth === 'number' ? md.depth : null, task: md.task } : null;
    const chart = chartCoordinatesOf(md);
    const s: RunSampleScores = { sample_id: p.sample.id, key: p.content_hash, values: [], epochs: [], grid, ...(chart ? { chart } : {}) };
    bySample.set(s.sample_id, s);
    order.push(s);
    if (opts.tokens && grid && !prompts.has(grid.length)) prompts.set(grid.length, p.messages.map((m) => messageText(m)).join('\n'));
  }
  const planned = order.length;
  const recs: (LengthRecord & { tokens: number | null })[] = [];
  let allTokens = true;
  for await (const row of streamOutcomes(pool, run.id, scorer, opts)) {
    const { sample_id, unmeasured, chars, tokens, recorded: _recorded, prompt_tokens, ...o } = row;
    if (prompt_tokens != null) {
      const g = bySample.get(sample_id)?.grid;
      if (g) tokenPoints.push({ length: g.length, tokens: prompt_tokens });
    }
    if (chars !== undefined) {
      if (tokens == null) allTokens = false;
      recs.push({ sample_id, epoch: o.epoch, value: o.value, truncated: o.truncated, length: chars, tokens: tokens ?? null });
    }
    if (unmeasured) continue;
    let s = bySample.get(sample_id);
    if (!s) {
      s = { sample_id, key: sample_id, values: [], epochs: [], grid: null };
      bySample.set(sample_id, s);
      order.push(s);
    }
    s.epochs.push(o);
    if (o.value != null) s.values.push(o.value);
  }
  let lengths: RunData['lengths'] = null;
  if (opts.lengths) {
    const unit = allTokens && recs.length > 0 ? 'tokens' : 'characters';
    lengths = { unit, records: recs.map(({ tokens, ...r }) => (unit === 'tokens' ? { ...r, length: tokens! } : r)) };
  }
  const perEpoch = new Map<number, { s: number; n: number }>();
  for (const s of order) {
    for (const e of s.epochs) {
      if (e.value == null) continue;
      const pe = perEpoch.get(e.epoch) ?? { s: 0, n: 0 };
      pe.s += e.value;
      pe.n++;
      perEpoch.set(e.epoch, pe);
    }
  }
  const measured = order.filter((s) => s.epochs.length > 0);
  return {
    run,
    scorer,
    metric: metricOf(run, scorer, function* () {
      for (const s of measured) yield* s.values;
    }),
    samples: measured,
    grid_samples: order.filter((s) => s.grid !== null),
    planned,
    per_epoch: [...perEpoch.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v.s / v.n),
    lengths,
    token_points: opts.tokens ? tokenPoints : null,
    grid_prompts: opts.tokens ? [...prompts].map(([length, text]) => ({ length, text })) : null,
  };
}

/**
 * Load one scorer's outcomes of a run (default scorer: the run's first with measurements). `runRef` may be an id
 * prefix. Errors: InputError for an unknown run or a scorer without measurements.
 */
export async function loadRunData(pool: Pool, runRef: string, scorer?: string, opts: ReadOptions = {}): Promise<RunData> {
  const run = await resolveRun(pool, runRef);
  return readRunOutcomes(pool, run, await scorerOfRun(pool, run, scorer), opts);
}

/**
 * Load runs for comparison or a report: with `scorer` every run is read with it; otherwise each run with its own
 * first scorer (a report may hold runs of different tasks, e.g. a math run and a needle run).
 * Errors: InputError for unknown runs or a missing scorer.
 */
export async function loadRuns(pool: Pool, refs: string[], scorer?: string, opts: ReadOptions = {}): Promise<RunData[]> {
  const out: RunData[] = [];
  for (const r of refs) out.push(await loadRunData(pool, r, scorer, opts));
  return out;
}

/** Non-empty clusters of counted values of one run (samples with no counted epoch dropped). */
export function clustersOf(d: RunData): number[][] {
  return d.samples.filter((s) => s.values.length > 0).map((s) => s.values);
}

/**
 * Align runs on the samples they all share (same content hash) with at least one counted value in every run,
 * in the first run's order. Returns the shared keys, the first run's sample ids, `clusters[r][i]` (counted values)
 * and `epochs[r][i]` (the epoch number of each of those values, so that pairing by epoch survives failed attempts).
 */
export function alignRuns(runs: RunData[]): { keys: string[]; sample_ids: string[]; clusters: number[][][]; epochs: number[][][] } {
  const maps = runs.map((r) => new Map(r.samples.filter((s) => s.values.length > 0).map((s) => [s.key, s])));
  const keys: string[] = [];
  const ids: string[] = [];
  for (const s of runs[0]?.samples ?? []) {
    if (s.values.length === 0) continue;
    if (maps.every((m) => m.has(s.key))) {
      keys.push(s.key);
      ids.push(s.sample_id);
    }
  }
  return {
    keys,
    sample_ids: ids,
    clusters: maps.map((m) => keys.map((k) => m.get(k)!.values)),
    epochs: maps.map((m) => keys.map((k) => m.get(k)!.epochs.filter((e) => e.value != null).map((e) => e.epoch))),
  };
}

/** A short address for display: `replay:/long/path/file.jsonl#sys` → `replay:file.jsonl#sys`. */
export function shortModel(model: string): string {
  return model.replace(/^(replay:)(?:.*\/)?([^/#]+)(#.*)?$/, '$1$2$3');
}

/** A short dataset ref for display: `gsm8k:/long/path/test.jsonl` → `gsm8k:test.jsonl`, `/a/b/c.jsonl` → `c.jsonl`. */
export function shortDataset(ref: string): string {
  return ref.replace(/^((?:[a-z0-9_-]+:)?)(?:.*\/)([^/]+)$/i, '$1$2');
}

/**
 * Distinct human labels for runs: the model address (shortened), and where two runs share it, the config fields
 * that differ between them (e.g. `reference:noisy?p=0.8 temperature=0.6`); the id prefix as a last resort.
 */
export function runLabels(runs: RunRecord[]): string[] {
  const base = runs.map((r) => shortModel(r.spec.model));
  return runs.map((r, i) => {
    const same = runs.filter((_, j) => base[j] === base[i]);
    if (same.length === 1) return base[i]!;
    const diffs = FACTOR_FIELDS.filter((f) => new Set(same.map((s) => levelOf(s, f))).size > 1).map((f) => `${f}=${levelOf(r, f).slice(0, 24)}`);
    const withDiffs = diffs.length ? `${base[i]} ${diffs.join(' ')}` : base[i]!;
    const clash = runs.some((o, j) => j !== i && base[j] === base[i] && FACTOR_FIELDS.every((f) => levelOf(o, f) === levelOf(r, f)));
    return clash ? `${withDiffs} [${r.id.slice(0, 8)}]` : withDiffs;
  });
}
