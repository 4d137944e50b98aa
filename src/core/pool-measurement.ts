/**
 * Sample-level measurements as the pool holds them (ONEBench, Ghosh et al. 2024): imported from other tools or
 * projected from the pool's own runs. A plain shape in core, so that the aggregation (Plackett–Luce, Bradley–Terry)
 * reads measurements without knowing the store.
 */

/**
 * The one list of measurement kinds in the pool:
 * - `binary`: value 0/1 (fractions allowed for avg@k of repeated attempts); higher is better.
 * - `numeric`: any real value with a `direction` (+1 higher is better, −1 lower is better) and an explicit
 *   `tie_tolerance` (absolute, in the value's unit): two values within it are a tie.
 * - `ordinal`: ordered levels (e.g. judge scores 1–10) with a direction; equal levels tie.
 * - `preference`: `model` against `opponent` (a baseline) on a sample; value ∈ [0, 1] = how much `model` is preferred.
 * - `battle`: a pairwise battle `model` (A) vs `opponent` (B); 1 = A wins, 0 = B wins, 0.5 = tie; `weight` counts
 *   identical verdicts.
 * A run's measurements use the first four (`MeasurementKind` in core/schemas.ts is this list without `battle`).
 */
export const POOL_KINDS = ['binary', 'numeric', 'ordinal', 'preference', 'battle'] as const;
export type PoolKind = (typeof POOL_KINDS)[number];

/** One sample-level measurement. `opponent` is '' except for preference and battle. `rep` separates repeats. */
export interface PoolMeasurement {
  source: string;
  slice: string;
  sample_key: string;
  model: string;
  opponent: string;
  rep: number;
  kind: PoolKind;
  value: number;
  /** +1 higher is better, −1 lower is better. */
  direction: 1 | -1;
  /** Absolute tolerance within which two values tie (numeric); 0 otherwise. */
  tie_tolerance: number;
  /** Multiplicity (≥ 0); 1 unless the source repeats identical verdicts on purpose. */
  weight: number;
  /** 1-based line of the source file the measurement came from (null for runs). */
  line?: number | null;
}

