/**
 * Planning an evaluation (`assay plan`): the variance components of a design from a pilot run (or two paired pilot
 * runs) read through the one reader, or from assumed rates, and the samples × epochs table they give (formulas and
 * sources in src/stats/power.ts: Miller 2024, "Adding Error Bars to Evals"; Chow, Shao & Wang 2008).
 */
import { InputError } from '../core/errors.ts';
import { componentsFromPilot, componentsFromRates, omega2FromPilot, planTable, ratesForDifference, type DesignComponents, type PlanRow } from '../stats/power.ts';
import { decomposeVariance } from '../stats/variance.ts';
import type { Pool } from '../store/types.ts';
import { alignRuns, clustersOf, loadRunData } from './outcomes.ts';

const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;

/**
 * Variance components from a pilot run (id or unique prefix; default scorer: its first): the one-way random-effects
 * decomposition of its outcomes (src/stats/variance.ts). With `pilotB` (a second run on the same samples) ω², the
 * variance of the per-sample difference, is measured directly (`omega2FromPilot`); otherwise model B is assumed to
 * have A's components and a per-sample `correlation` r with A (default 0.5).
 * Errors: InputError for unknown runs, a pilot without counted outcomes, the same run twice, or fewer than 2 shared
 * samples between paired pilots.
 */
export async function planFromPilot(pool: Pool, pilot: string, opts: { pilotB?: string; scorer?: string; correlation?: number } = {}): Promise<DesignComponents> {
  const a = await loadRunData(pool, pilot, opts.scorer);
  const ca = clustersOf(a);
  if (!ca.length) throw new InputError(`pilot run ${a.run.id} has no graded attempt: nothing to estimate the variance from`);
  const va = decomposeVariance(ca, { seed: 0, replicates: 200, perEpoch: a.per_epoch });
  if (!opts.pilotB) return componentsFromPilot(va, { correlation: opts.correlation ?? 0.5, label: a.run.id.slice(0, 8) });
  const b = await loadRunData(pool, opts.pilotB, a.scorer);
  if (b.run.id === a.run.id) throw new InputError('--pilot and --pilot-b are the same run: a paired pilot needs two different runs');
  const cb = clustersOf(b);
  if (!cb.length) throw new InputError(`pilot run ${b.run.id} has no graded attempt: nothing to estimate the variance from`);
  const vb = decomposeVariance(cb, { seed: 0, replicates: 200, perEpoch: b.per_epoch });
  const al = alignRuns([a, b]);
  if (al.keys.length < 2) throw new InputError(`the two pilot runs share ${al.keys.length} graded sample(s) (matched by content hash); a paired pilot needs at least 2 shared samples`);
  const d = al.clusters[0]!.map((x, i) => mean(x) - mean(al.clusters[1]![i]!));
  const w2 = omega2FromPilot(d, va.within_variance, va.epochs_mean, vb.within_variance, vb.epochs_mean);
  return componentsFromPilot(va, { b: vb, omega2: w2, label: `${a.run.id.slice(0, 8)} + ${b.run.id.slice(0, 8)}` });
}

/** What to plan for: a difference `delta` to detect, or a CI half-width `halfWidth` (score units, in (0, 1)). */
export interface PlanRequest {
  delta?: number;
  halfWidth?: number;
  /** Power 1 − β (default 0.8) and two-sided level α (default 0.05). */
  power?: number;
  alpha?: number;
  /** A fixed benchmark size: also report the epochs needed and what each k gives at this n. */
  samples?: number;
  /** Epoch counts to tabulate (default: the table's own). */
  epochs?: number[];
  /** A pilot run (needs `pool`), optionally a paired second pilot and the scorer to read. */
  pilot?: string;
  pilotB?: string;
  scorer?: string;
  /** Without a pilot: the assumed accuracy of model A and intra-class correlation (default 0.5). */
  p?: number;
  icc?: number;
  /** Assumed correlation of the two models' per-sample accuracies (default 0.5). */
  correlation?: number;
}

/** A plan: its components and the samples × epochs table (`planTable`). */
export interface Plan {
  components: DesignComponents;
  delta: number | null;
  half_width: number | null;
  alpha: number;
  power: number;
  samples: number | null;
  rows: PlanRow[];
  epochs_at_n: number | null;
  floor_mde_at_n: number | null;
}

/**
 * Plan an evaluation: components from the pilot(s) in `pool` or from assumed rates (`p`, `icc`, `correlation`;
 * model B at p ± δ, never clipped), then samples and attempts per epoch count. Errors: InputError for a request
 * with neither pilot nor `p`, or for values out of range (the message says which).
 */
export async function planEvaluation(pool: Pool | null, o: PlanRequest): Promise<Plan> {
  const alpha = o.alpha ?? 0.05, power = o.power ?? 0.8;
  try {
    let c: DesignComponents;
    if (o.pilot) {
      if (!pool) throw new InputError('a pilot run needs a pool');
      c = await planFromPilot(pool, o.pilot, { pilotB: o.pilotB, scorer: o.scorer, correlation: o.correlation });
    } else {
      if (o.p == null) throw new InputError('give --pilot <run> or an assumed accuracy --p');
      // Never clip B's rate to [0, 1]: that would plan for a smaller difference than the one asked for.
      const { pA, pB } = o.delta != null ? ratesForDifference(o.p, o.delta) : { pA: o.p, pB: o.p };
      c = componentsFromRates(pA, pB, { icc: o.icc ?? 0.5, correlation: o.correlation ?? 0.5 });
    }
    const plan = planTable(c, { delta: o.delta, halfWidth: o.halfWidth, n: o.samples, ks: o.epochs, alpha, power });
    return { components: c, delta: o.delta ?? null, half_width: o.halfWidth ?? null, alpha, power, samples: o.samples ?? null, ...plan };
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(e.message);
    throw e;
  }
}
