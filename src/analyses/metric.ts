/**
 * The metric (scale and direction) of one scorer's values in a run, as every analysis reads it: the one recorded in
 * the run manifest (`manifest.scorers[].metric`); for runs made before it was recorded, the built-in scorer's
 * declaration (log-likelihood measures, `needle?credit=partial`); else inferred from the stored values — `binary` when
 * every value is 0 or 1, `proportion` when every value lies in [0, 1], else `numeric` of unknown unit and direction
 * (no model is then called better, and the output says so).
 */
import type { Metric, MetricInfo, RunRecord } from '../core/schemas.ts';
import { parseSpec } from '../core/spec.ts';
import { LOGLIKELIHOOD_METRICS } from '../scorers/loglikelihood.ts';

/** The metric a built-in scorer declares, from its label alone; null for other scorers. */
function builtinMetric(label: string): Metric | null {
  let name: string, options: Record<string, unknown>;
  try {
    ({ name, options } = parseSpec(label));
  } catch {
    return null;
  }
  if (Object.prototype.hasOwnProperty.call(LOGLIKELIHOOD_METRICS, name)) return LOGLIKELIHOOD_METRICS[name as keyof typeof LOGLIKELIHOOD_METRICS];
  if (name === 'needle' && options.credit === 'partial') return { kind: 'proportion' };
  return null;
}

/** A metric inferred from stored values (see the module comment). */
export function inferMetric(values: Iterable<number>): Metric {
  let binary = true, unit = true;
  for (const v of values) {
    if (v !== 0 && v !== 1) binary = false;
    if (!(v >= 0 && v <= 1)) unit = false;
    if (!binary && !unit) break;
  }
  return binary ? { kind: 'binary' } : unit ? { kind: 'proportion' } : { kind: 'numeric', unit: '', higher_is_better: null };
}

/** The metric of `scorer`'s values in `run` (see the module comment); `values`: the stored values, for the inference. */
export function metricOf(run: Pick<RunRecord, 'manifest'>, scorer: string, values: () => Iterable<number>): MetricInfo {
  const recorded = run.manifest?.scorers?.find((s) => s.name === scorer)?.metric;
  if (recorded) return { ...recorded, source: 'manifest' };
  const declared = builtinMetric(scorer);
  if (declared) return { ...declared, source: 'scorer' };
  return { ...inferMetric(values()), source: 'inferred' };
}

/** True when the metric's values are shown as percentages (binary or proportion). */
export const isPercentMetric = (m: Metric | undefined): boolean => !m || m.kind !== 'numeric';

/**
 * The metrics of several runs read under one scorer, checked to be on one scale: the first of them; an analysis that
 * compares or ranks values needs one scale. Returns `{ metric, mixed }`, `mixed` naming the scales when they differ.
 */
export function commonMetric(metrics: MetricInfo[]): { metric: MetricInfo; mixed: string | null } {
  const key = (m: Metric) => (m.kind === 'numeric' ? `numeric (${m.unit || 'unit unknown'}, ${m.higher_is_better == null ? 'direction unknown' : m.higher_is_better ? 'higher is better' : 'lower is better'})` : m.kind);
  const keys = [...new Set(metrics.map(key))];
  // binary and proportion share a scale ([0, 1], higher is better)
  const scales = [...new Set(metrics.map((m) => (m.kind === 'numeric' ? key(m) : 'percent')))];
  return { metric: metrics[0]!, mixed: scales.length > 1 ? keys.join(' vs ') : null };
}
