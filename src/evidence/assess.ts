/**
 * `assay assess <thresholds.yaml>`: each capability of a thresholds file (thresholds.ts) judged on the 95% interval
 * of its metric in every run of its task in the pool, with the elicitation that produced the run.
 *
 * The rule, with [lo, hi] the interval, n the samples graded, A ≤ C the alert and critical levels:
 * 1. `critical` when lo ≥ C (the capability is there, even at the interval's low end);
 * 2. `inconclusive` when n < min_samples and the interval spans a level (lo < L ≤ hi for L = A or C): more samples
 *    are needed — as many as `assay plan` gives for a half-width |estimate − L| at the run's epochs, from the run's
 *    own variance components (src/analyses/plan.ts; Miller 2024), and at least min_samples;
 * 3. `alert` when hi ≥ A (the capability cannot be ruled out at the alert level);
 * 4. `below` otherwise (hi < A: ruled out at the alert level).
 * A capability's decision is the gravest verdict over its runs (critical, alert, inconclusive, below), or
 * `not evaluated` when the pool holds no run of its task.
 */
import type { GenerationConfig, RunRecord } from '../core/schemas.ts';
import { InputError } from '../core/errors.ts';
import { planEvaluation } from '../analyses/plan.ts';
import { runStatistics } from '../analyses/statistics.ts';
import type { RunStatistics } from '../stats/accuracy.ts';
import type { Pool } from '../store/types.ts';
import { verifyRun } from './bundle.ts';
import type { EvidenceReport } from './verify.ts';
import type { Capability, Thresholds } from './thresholds.ts';

export type Verdict = 'critical' | 'alert' | 'inconclusive' | 'below';

/** How the run was elicited: what the verdict holds for, and only for. */
export interface Elicitation {
  model: string;
  /** Model ids the server reported. */
  reported_model_ids: string[];
  /** `name@version`, or null for a dataset run. */
  task: string | null;
  dataset: string;
  template: { name: string; hash: string };
  /** The solver chain (registry specs); `[{ name: 'generate' }]` for a single generation. */
  solver: { name: string; options?: Record<string, unknown> }[];
  epochs: number;
  /** The generation config as sent (sampling: temperature, top_p, seed, max_tokens…). */
  generation_config: GenerationConfig;
  scorer: string;
  label: string | null;
}

/** What more samples would resolve an inconclusive verdict. */
export interface MoreSamples {
  /** The level whose resolution needs the most samples. */
  level: number;
  /** The half-width that separates the estimate from it, |estimate − level|. */
  half_width: number;
  /** Samples needed at the run's epochs (at least min_samples), and how many more than graded. */
  samples_needed: number;
  more: number;
  epochs: number;
  method: string;
}

/** The judgement of one capability on one run. */
export interface CapabilityVerdict {
  capability: string;
  run_id: string;
  run_status: RunRecord['status'];
  elicitation: Elicitation;
  metric: string;
  estimate: number;
  ci95: { lo: number; hi: number; method: string };
  samples: number;
  min_samples: number;
  alert: number;
  critical: number;
  verdict: Verdict;
  /** The bound the verdict rests on, and its value. */
  bound: { which: 'lower' | 'upper' | 'both'; value: number | [number, number] };
  reason: string;
  more_samples: MoreSamples | null;
  /** The run's evidence chain (`verifyRun`), or null when not checked. */
  evidence: EvidenceReport['status'] | null;
}

/** One capability over all its runs. */
export interface CapabilityAssessment {
  capability: Capability;
  decision: Verdict | 'not evaluated';
  verdicts: CapabilityVerdict[];
  /** Runs of the task that could not be judged, and why (no measurements of the scorer, no graded sample, …). */
  skipped: { run_id: string; reason: string }[];
}

export interface Assessment {
  file: string;
  assessed_at: string;
  capabilities: CapabilityAssessment[];
}

const GRAVITY: Record<Verdict, number> = { critical: 3, alert: 2, inconclusive: 1, below: 0 };

/**
 * The rule of the module comment on an interval: `ci` (proportions), `n` samples graded. Returns the verdict, the
 * bound it rests on, the levels the interval spans (lo < L ≤ hi) and a sentence. Pure.
 */
export function judge(ci: { lo: number; hi: number }, n: number, cap: Pick<Capability, 'alert' | 'critical' | 'min_samples'>): { verdict: Verdict; bound: CapabilityVerdict['bound']; spanned: number[]; reason: string } {
  const spanned = [...new Set([cap.alert, cap.critical])].filter((L) => ci.lo < L && L <= ci.hi);
  const f = (x: number) => x.toFixed(3);
  if (ci.lo >= cap.critical) return { verdict: 'critical', bound: { which: 'lower', value: ci.lo }, spanned, reason: `the lower bound ${f(ci.lo)} reaches the critical level ${cap.critical}` };
  if (n < cap.min_samples && spanned.length) {
    return {
      verdict: 'inconclusive', bound: { which: 'both', value: [ci.lo, ci.hi] }, spanned,
      reason: `the interval [${f(ci.lo)}, ${f(ci.hi)}] spans the ${spanned.map((L) => (L === cap.critical ? `critical level ${L}` : `alert level ${L}`)).join(' and the ')} with ${n} samples, fewer than the ${cap.min_samples} required`,
    };
  }
  if (ci.hi >= cap.alert) return { verdict: 'alert', bound: { which: 'upper', value: ci.hi }, spanned, reason: `the upper bound ${f(ci.hi)} reaches the alert level ${cap.alert}` };
  return { verdict: 'below', bound: { which: 'upper', value: ci.hi }, spanned, reason: `the upper bound ${f(ci.hi)} is below the alert level ${cap.alert}${n < cap.min_samples ? ` (with ${n} samples, fewer than the ${cap.min_samples} required)` : ''}` };
}

/** The metric's estimate and interval in a run's statistics. Errors: InputError when the run does not have it. */
function metricOf(st: RunStatistics, metric: string): { estimate: number; ci: { lo: number; hi: number; method: string } } {
  if (metric === 'accuracy' || metric === 'avg@k') return { estimate: st.accuracy, ci: { lo: st.ci95.lo, hi: st.ci95.hi, method: st.ci95.method } };
  if (metric === 'maj@k') {
    if (!st.maj_at_k) throw new InputError('has no maj@k (a single epoch, or no extracted answers)');
    return { estimate: st.maj_at_k.value, ci: { lo: st.maj_at_k.ci95.lo, hi: st.maj_at_k.ci95.hi, method: st.maj_at_k.ci95.method } };
  }
  const v = st.pass_at_k[metric], ci = st.pass_at_k_ci95[metric];
  if (v === undefined || !ci) throw new InputError(`has no ${metric} (it has ${Object.keys(st.pass_at_k).join(', ') || 'none'}; pass@k needs at least k epochs)`);
  return { estimate: v, ci: { lo: ci.lo, hi: ci.hi, method: ci.method } };
}

function elicitationOf(run: RunRecord, scorer: string): Elicitation {
  const s = run.spec;
  return {
    model: s.model, reported_model_ids: run.manifest.provider.reported_model_ids, task: s.task ? `${s.task.name}@${s.task.version}` : null, dataset: s.dataset.name,
    template: s.template, solver: s.solver ?? [{ name: 'generate' }], epochs: s.epochs, generation_config: run.manifest.generation_config, scorer, label: s.label ?? null,
  };
}

/** Whether `run` is a run of the capability's task (task name, else dataset name) and of one of its models. */
function matches(run: RunRecord, cap: Capability): boolean {
  const ofTask = run.spec.task ? run.spec.task.name === cap.task : run.spec.dataset.name === cap.task;
  return ofTask && (!cap.models || cap.models.includes(run.spec.model));
}

/**
 * Judge every capability of `thresholds` on the runs of `pool` (see the module comment). `verify` (default true):
 * check each judged run's evidence chain too. Errors: none for runs that cannot be judged (they are listed in
 * `skipped`); those of the pool.
 */
export async function assessCapabilities(pool: Pool, thresholds: Thresholds, opts: { verify?: boolean } = {}): Promise<Assessment> {
  const runs: RunRecord[] = [];
  for (const r of await pool.listRuns()) {
    const run = await pool.getRun(r.id);
    if (run) runs.push(run);
  }
  const out: CapabilityAssessment[] = [];
  for (const cap of thresholds.capabilities) {
    const verdicts: CapabilityVerdict[] = [];
    const skipped: CapabilityAssessment['skipped'] = [];
    for (const run of runs.filter((r) => matches(r, cap))) {
      let scorer: string, st: RunStatistics, m: ReturnType<typeof metricOf>;
      try {
        ({ scorer, statistics: st } = await runStatistics(pool, run.id, { scorer: cap.scorer }));
        if (st.samples === 0) throw new InputError('has no graded sample');
        m = metricOf(st, cap.metric);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        skipped.push({ run_id: run.id, reason: err.detail });
        continue;
      }
      const j = judge(m.ci, st.samples, cap);
      let more: MoreSamples | null = null;
      if (j.verdict === 'inconclusive') more = await moreSamples(pool, run.id, scorer, m.estimate, j.spanned, st, cap);
      const evidence = opts.verify === false ? null : (await verifyRun(pool, run.id)).status;
      verdicts.push({
        capability: cap.name, run_id: run.id, run_status: run.status, elicitation: elicitationOf(run, scorer), metric: cap.metric, estimate: m.estimate, ci95: m.ci,
        samples: st.samples, min_samples: cap.min_samples, alert: cap.alert, critical: cap.critical, verdict: j.verdict, bound: j.bound, reason: j.reason, more_samples: more, evidence,
      });
    }
    const decision = verdicts.length ? verdicts.reduce((a, v) => (GRAVITY[v.verdict] > GRAVITY[a] ? v.verdict : a), 'below' as Verdict) : 'not evaluated';
    out.push({ capability: cap, decision, verdicts, skipped });
  }
  return { file: thresholds.file, assessed_at: new Date().toISOString(), capabilities: out };
}

/** Samples to resolve every spanned level (the largest need), from the run's own variance components. */
async function moreSamples(pool: Pool, runId: string, scorer: string, estimate: number, spanned: number[], st: RunStatistics, cap: Capability): Promise<MoreSamples | null> {
  let best: MoreSamples | null = null;
  for (const L of spanned) {
    const h = Math.abs(estimate - L);
    if (!(h > 0 && h < 1)) continue;
    const plan = await planEvaluation(pool, { pilot: runId, scorer, halfWidth: h, epochs: [st.epochs] });
    const needed = Math.max(plan.rows[0]!.samples, cap.min_samples);
    const m: MoreSamples = {
      level: L, half_width: h, samples_needed: needed, more: Math.max(0, needed - st.samples), epochs: st.epochs,
      method: `assay plan: samples for a 95% half-width of ${h.toFixed(3)} at ${st.epochs} epoch(s), variance components from this run (normal approximation; Miller 2024), at least min_samples`,
    };
    if (!best || m.samples_needed > best.samples_needed) best = m;
  }
  return best;
}
