/**
 * Reading what issue-4 statistics need from the pool: per-sample graded values of a run (one scorer), samples
 * aligned across runs by content hash, and per-attempt lengths for the truncation analysis.
 * Statistics read measurements through the pool interface (DESIGN.md §3); only `attemptLengths` looks at a
 * response, and only at its length.
 */
import { epochScoreOf, scoredValue } from './accuracy.ts';
import { InputError } from '../core/errors.ts';
import type { RunRecord } from '../core/schemas.ts';
import type { Pool } from '../store/types.ts';
import type { EpochScore } from './accuracy.ts';

export interface RunSampleScores {
  sample_id: string;
  /** The sample's content hash (input + target): the identity used to pair runs. */
  key: string;
  /** Graded values in epoch order (failed and ungraded attempts left out). */
  values: number[];
  epochs: EpochScore[];
}

export interface RunData {
  run: RunRecord;
  scorer: string;
  samples: RunSampleScores[];
  /** Accuracy of each epoch over samples (epoch order). */
  per_epoch: number[];
}

/**
 * Load one scorer's measurements of a run (default scorer: the run's first). `runRef` may be an id prefix.
 * Errors: InputError for an unknown run or a scorer without measurements.
 */
export async function loadRunData(pool: Pool, runRef: string, scorer?: string): Promise<RunData> {
  const id = await pool.resolveRunId(runRef);
  const run = (await pool.getRun(id))!;
  const scorers = await pool.scorersOf(id);
  const sc = scorer ?? run.spec.scorers.find((s) => scorers.includes(s.name))?.name ?? scorers[0];
  if (!sc || !scorers.includes(sc)) throw new InputError(`run ${id} has no measurements for scorer "${scorer ?? ''}"; it has: ${scorers.join(', ') || 'none'}`);
  const keyOf = new Map<string, string>();
  for await (const p of pool.iteratePlanned(id)) keyOf.set(p.sample.id, p.content_hash);
  const samples: RunSampleScores[] = [];
  const perEpoch = new Map<number, { s: number; n: number }>();
  let cur: RunSampleScores | null = null;
  for await (const m of pool.iterateMeasurements(id, sc)) {
    if (!cur || cur.sample_id !== m.sample_id) {
      cur = { sample_id: m.sample_id, key: keyOf.get(m.sample_id) ?? m.sample_id, values: [], epochs: [] };
      samples.push(cur);
    }
    const e = epochScoreOf(m); // grader timeouts count as wrong, as in `assay stats`
    const value = e.value;
    cur.epochs.push(e);
    if (value != null) {
      cur.values.push(value);
      const pe = perEpoch.get(m.epoch) ?? { s: 0, n: 0 };
      pe.s += value;
      pe.n++;
      perEpoch.set(m.epoch, pe);
    }
  }
  return { run, scorer: sc, samples, per_epoch: [...perEpoch.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v.s / v.n) };
}

/** Non-empty clusters of graded values of one run (samples with no graded epoch dropped). */
export function clustersOf(d: RunData): number[][] {
  return d.samples.filter((s) => s.values.length > 0).map((s) => s.values);
}

/**
 * Align runs on the samples they all share (same content hash) with at least one graded value in every run,
 * in the first run's order. Returns the shared keys, the first run's sample ids, `clusters[r][i]` (graded values)
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

/** The generation-config and template fields that can differ between runs of one model (sweep factors). */
export const FACTOR_FIELDS = ['temperature', 'top_p', 'top_k', 'max_tokens', 'seed', 'system_prompt', 'template', 'stop'] as const;
export type FactorName = (typeof FACTOR_FIELDS)[number];

/** A factor's level in a run, as a display string (`—` when unset). */
export function levelOf(run: RunRecord, f: FactorName): string {
  const v = f === 'template' ? run.spec.template.name + (run.spec.template.name === 'custom' ? `#${run.spec.template.hash.slice(0, 6)}` : '') : (run.spec.config as Record<string, unknown>)[f];
  if (v === undefined || v === null) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
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

/** One attempt's length and verdict, for the truncation analysis. */
export interface LengthRecord {
  sample_id: string;
  epoch: number;
  value: number | null;
  truncated: boolean;
  /** Completion tokens when the provider reported them for every attempt of the run, else response characters. */
  length: number;
}

/**
 * Lengths and verdicts of a run's ok attempts (one scorer). The unit is `tokens` when every ok attempt has
 * `completion_tokens`, else `characters`. Streams the attempts; keeps only numbers.
 */
export async function attemptLengths(pool: Pool, runId: string, scorer: string): Promise<{ unit: 'tokens' | 'characters'; records: LengthRecord[] }> {
  const recs: (LengthRecord & { tokens: number | null })[] = [];
  let allTokens = true;
  for await (const a of pool.iterateAttempts(runId, scorer)) {
    if (a.status !== 'ok') continue;
    if (a.completion_tokens == null) allTokens = false;
    recs.push({ sample_id: a.sample_id, epoch: a.epoch, value: a.measurement ? scoredValue(a.measurement) : null, truncated: a.finish_reason === 'length', length: (a.response ?? '').length, tokens: a.completion_tokens });
  }
  const unit = allTokens && recs.length > 0 ? 'tokens' : 'characters';
  return { unit, records: recs.map(({ tokens, ...r }) => (unit === 'tokens' ? { ...r, length: tokens! } : r)) };
}
