/**
 * Sensitivity of scores to generation settings (Hochlehnert et al. 2025, "A Sober Look at Progress in LM
 * Reasoning", §3–4), read from the pool: the runs of one model on one dataset whose settings differ, aligned on
 * their shared samples through the one reader, analysed by `analyzeSweep` (src/stats/sweep.ts: each factor's
 * effect against the seed noise, best-vs-worst sign-flip tests adjusted over factors).
 */
import { analyzeSweep, varyingFactors, type SweepAnalysis } from '../stats/sweep.ts';
import type { Pool } from '../store/types.ts';
import type { AnalysisOptions } from './compare.ts';
import { alignRuns, clustersOf, loadRuns, type RunData } from './outcomes.ts';

/**
 * The sweep analysis of runs (ids or unique prefixes) under one scorer, on the samples they all share.
 * Errors: InputError for unknown runs or a scorer without measurements; RangeError from `analyzeSweep` for fewer
 * than two distinct runs or a bad alpha.
 */
export async function sweepOfRuns(pool: Pool, runRefs: string[], scorer: string, o: Omit<AnalysisOptions, 'scorer'> = {}): Promise<SweepAnalysis> {
  const data = await loadRuns(pool, runRefs, scorer);
  return analyzeSweep(data.map((d) => d.run), alignRuns(data).clusters, { seed: o.seed ?? 0, replicates: o.replicates, adjustment: o.adjustment, alpha: o.alpha });
}

/** A group of runs of one model on one dataset whose settings differ, with its analysis. */
export interface SweepGroup {
  model: string;
  dataset: string;
  run_ids: string[];
  analysis: SweepAnalysis;
}

/**
 * Sweep groups among runs already read: runs of the same model on the same dataset (hash) and scorer whose
 * generation settings differ. Returns one analysis per group of ≥ 2 runs that has at least one varying field and
 * shared counted samples.
 */
export function sweepGroups(runs: RunData[], o: Omit<AnalysisOptions, 'scorer'> = {}): SweepGroup[] {
  const groups = new Map<string, RunData[]>();
  for (const d of runs) {
    if (clustersOf(d).length === 0) continue;
    const key = `${d.run.spec.model}\u0000${d.run.spec.dataset.hash}\u0000${d.scorer}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(d);
  }
  const out: SweepGroup[] = [];
  for (const g of groups.values()) {
    if (g.length < 2 || varyingFactors(g.map((d) => d.run)).length === 0) continue;
    const aligned = alignRuns(g);
    if (!aligned.keys.length) continue;
    out.push({ model: g[0]!.run.spec.model, dataset: g[0]!.run.spec.dataset.ref, run_ids: g.map((d) => d.run.id), analysis: analyzeSweep(g.map((d) => d.run), aligned.clusters, { seed: o.seed ?? 0, replicates: o.replicates, adjustment: o.adjustment, alpha: o.alpha }) });
  }
  return out;
}
