/**
 * Rankings with uncertainty: Plackett–Luce (or Bradley–Terry for pairwise data) fit, confidence intervals and
 * rank intervals from a seeded bootstrap over samples (clusters; never over pairs or events), diagnostics of the
 * comparison graph, and the mean-score and Elo baselines for comparison.
 */
import { createRng } from '../core/rng.ts';
import { eloRatings, quantileSorted, ranksOf } from './baselines.ts';
import { sufficientStats, type ChoiceData } from './choices.ts';
import { fitPlackettLuce, type PLFit } from './plackett-luce.ts';
import { defaultBootstrapThreads, plBootstrap, plBootstrapThreads, type PLBootstrapProblem, type PLBootstrapResult } from './pl-bootstrap.ts';
import { maxTRankIntervals } from '../stats/rank.ts';

export interface RankOptions {
  method?: 'mm' | 'lsr';
  /** Prior strength λ (virtual games per model against the anchor), default 1. */
  prior?: number;
  /** Bootstrap replicates (default 1000; 0 = none). */
  replicates?: number;
  /** Bootstrap seed (recorded in the result), default 0. */
  seed?: number;
  /** Two-sided interval level (default 0.95). */
  level?: number;
  /** Also compute the Elo baseline (seeded by `seed`). Default true. */
  elo?: boolean;
  /** Keep the centred bootstrap scores (replicate b of model i in `bootstrap_scores[i][b]`) in the result, for diagnostics (coverage studies). Default false. */
  keepReplicates?: boolean;
}

export interface ModelRanking {
  model: string;
  /** θ_i − mean θ: natural-log Plackett–Luce strength, centred over the ranked models. exp(θ_a − θ_b) = odds a beats b. */
  score: number;
  ci: [number, number];
  rank: number;
  /**
   * Simultaneous rank interval at `level`: with probability ≥ level every model's true rank lies in its interval at
   * once (Mogstad, Romano, Shaikh & Wilhelm 2024, Rev. Econ. Stud. 91:476, max-t method; src/stats/rank.ts
   * `maxTRankIntervals`): model i is placed above j only when θ̂_i − θ̂_j exceeds c·se_ij, se_ij the bootstrap SD of
   * the difference and c the `level` quantile of the largest studentized deviation over all pairs; lo = 1 + models
   * placed above, hi = models − models placed below. Exactly tied models never get a one-rank interval. When the
   * comparison graph has several components, ranks are taken within the model's component and the upper end grows
   * by the number of models outside it: data say nothing about how the components compare. Without bootstrap
   * (`replicates: 0`) it is [1, n] (no information). (Before the coverage study these were marginal percentile intervals of
   * bootstrap ranks, which did not cover the true ranks jointly.)
   */
  rank_interval: [number, number];
  samples: number;
  measurements: number;
  /** Mean of the model's own measurement values (accuracy for binary; win rate for pairwise): the naive baseline. */
  mean_score: number;
  elo: number | null;
}

export interface Diagnostics {
  /** Connected components of the comparison graph (models linked by a shared choice set); >1 means scores across components rest on the prior only. */
  components: string[][];
  orderings: number;
  dropped_single_model: number;
  dropped_all_tied: number;
  events: number;
  /** Directed 3-cycles of the pairwise-majority relation (a above b more often than b above a, etc.). */
  cycles: { count: number; triples: number; examples: { models: [string, string, string]; margin: number }[] };
  /** Models measured on fewer than FEW_SAMPLES samples: their intervals rest on very few bootstrap units. */
  few_samples: { model: string; samples: number }[];
}

/** Below this many samples a model is listed in `diagnostics.few_samples`. */
export const FEW_SAMPLES = 10;

export interface RankingResult {
  method: 'plackett-luce';
  algorithm: 'mm' | 'lsr';
  ties: ChoiceData['ties'];
  prior: number;
  bootstrap: { replicates: number; seed: number; level: number; unit: 'sample'; clusters: number; failed_refits: number };
  fit: { iterations: number; newton_steps: number; converged: boolean; ms: number; bootstrap_ms: number };
  models: ModelRanking[];
  diagnostics: Diagnostics;
  /** With `keepReplicates`: centred bootstrap scores per model (in `d.models` order), replicate order. */
  bootstrap_scores?: Float64Array[];
}

/**
 * Fit PL on all of `d`, then `replicates` bootstrap refits over clusters (./pl-bootstrap.ts: the multinomial
 * resample of clusters drawn from `seed`, each replicate's MAP refitted from the full fit by the chord method, with
 * the Newton and MM refits as fallbacks). Scores are centred per replicate before taking percentiles.
 * Runs on this thread; `rankModelsAsync` gives the same result on several threads.
 * Errors: RangeError when `d` has no models.
 */
export function rankModels(d: ChoiceData, opts: RankOptions = {}): RankingResult {
  const prep = prepareRanking(d, opts);
  const boot = prep.B ? plBootstrap(prep.problem, prep.seed, prep.B) : null;
  return finishRanking(d, opts, prep, boot);
}

/**
 * `rankModels` with the bootstrap refits spread over `threads` worker threads (default: the machine's cores, at
 * most 8; one thread when the work is small). Same result as `rankModels` for the same options, whatever `threads`.
 * Errors: RangeError when `d` has no models; a worker's error.
 */
export async function rankModelsAsync(d: ChoiceData, opts: RankOptions & { threads?: number } = {}): Promise<RankingResult> {
  const prep = prepareRanking(d, opts);
  // Starting a worker costs tens of milliseconds (more under tsx): only worth it for a second of work or more.
  const work = prep.B * (d.evWinner.length + d.clusters.length);
  const threads = opts.threads ?? (work >= 2e7 ? defaultBootstrapThreads() : 1);
  const boot = prep.B ? await plBootstrapThreads(prep.problem, prep.seed, prep.B, threads) : null;
  return finishRanking(d, opts, prep, boot);
}

interface Prepared {
  B: number;
  seed: number;
  prior: number;
  method: 'mm' | 'lsr';
  fit: PLFit;
  score: Float64Array;
  problem: PLBootstrapProblem;
  t0: number;
  t1: number;
}

function prepareRanking(d: ChoiceData, opts: RankOptions): Prepared {
  const n = d.models.length;
  if (n === 0) throw new RangeError('nothing to rank: no models in the selection');
  const prior = opts.prior ?? 1;
  const B = opts.replicates ?? 1000;
  const seed = opts.seed ?? 0;
  const method = opts.method ?? 'mm';
  const t0 = performance.now();
  const full = sufficientStats(d, null);
  for (const w of full.wins) if (!Number.isFinite(w)) throw new RangeError('measurement weights sum to a non-finite number; weights must be finite multiplicities');
  const fit = fitPlackettLuce(d.setPtr, d.setIdx, full.wins, full.setMult, { method, prior });
  const t1 = performance.now();
  if (fit.theta.some((t) => !Number.isFinite(t))) throw new RangeError('the Plackett–Luce fit produced non-finite strengths (are some weights extreme?)');
  const problem: PLBootstrapProblem = {
    n, clusterPtr: d.clusterPtr, evWinner: d.evWinner, evSet: d.evSet, evWeight: d.evWeight, setPtr: d.setPtr, setIdx: d.setIdx,
    theta: fit.theta, prior, method,
  };
  return { B, seed, prior, method, fit, score: centred(fit.theta), problem, t0, t1 };
}

function finishRanking(d: ChoiceData, opts: RankOptions, prep: Prepared, boot: PLBootstrapResult | null): RankingResult {
  const n = d.models.length;
  const { B, seed, prior, fit, score, t0, t1 } = prep;
  const level = opts.level ?? 0.95;
  const rank = ranksOf(score);
  const comp = componentIndex(d);
  const groups: number[][] = [];
  for (let i = 0; i < n; i++) (groups[comp[i]!] ??= []).push(i);
  const nC = d.clusters.length;
  const bootScores: Float64Array[] = boot ? boot.scores : Array.from({ length: n }, () => new Float64Array(0));
  const simultaneous = B ? maxTRankIntervals(score, bootScores, { level, groups }) : null;
  const kept = opts.keepReplicates ? bootScores.map((x) => Float64Array.from(x)) : undefined;
  const t2 = performance.now();
  const a = (1 - level) / 2;
  const elo = opts.elo === false ? null : eloRatings(d, createRng(seed));
  const models: ModelRanking[] = d.models.map((model, i) => {
    const s = bootScores[i]!.sort();
    const outside = n - groups[comp[i]!]!.length;
    // A model never compared with any other (alone in its component) has a score set by the prior alone: no CI.
    const compared = groups[comp[i]!]!.length > 1;
    return {
      model, score: score[i]!,
      ci: B && compared ? [quantileSorted(s, a), quantileSorted(s, 1 - a)] : [NaN, NaN],
      rank: rank[i]!,
      rank_interval: simultaneous ? [simultaneous.lo[i]!, Math.min(n, simultaneous.hi[i]! + outside)] : [1, n],
      samples: d.samplesPerModel[i]!, measurements: d.measurementsPerModel[i]!, mean_score: d.meanScore[i]!,
      elo: elo ? elo[i]! : null,
    };
  });
  models.sort((x, y) => x.rank - y.rank || x.model.localeCompare(y.model));
  return {
    method: 'plackett-luce', algorithm: prep.method, ties: d.ties, prior,
    bootstrap: { replicates: B, seed, level, unit: 'sample', clusters: nC, failed_refits: boot?.failed ?? 0 },
    fit: { iterations: fit.iterations, newton_steps: fit.newtonSteps, converged: fit.converged, ms: t1 - t0, bootstrap_ms: t2 - t1 },
    models, diagnostics: diagnose(d),
    ...(kept ? { bootstrap_scores: kept } : {}),
  };
}

/** θ minus its mean. */
export function centred(theta: Float64Array): Float64Array {
  let m = 0;
  for (const t of theta) m += t;
  m /= theta.length || 1;
  return theta.map((t) => t - m);
}

/**
 * Best and worst rank of every model within its group (1 = best): `lo[i]` = 1 + members scoring strictly higher,
 * `hi[i]` = members scoring at least as high (itself included). Ties thus span the ranks they share.
 */
export function ranksWithin(scores: ArrayLike<number>, groups: number[][], lo: Int32Array, hi: Int32Array): void {
  for (const g of groups) {
    const order = [...g].sort((x, y) => scores[y]! - scores[x]!);
    let k = 0;
    while (k < order.length) {
      let e = k + 1;
      while (e < order.length && scores[order[e]!] === scores[order[k]!]) e++;
      for (let t = k; t < e; t++) {
        lo[order[t]!] = k + 1;
        hi[order[t]!] = e;
      }
      k = e;
    }
  }
}

/** Component index (0-based, largest component first) of every model in the comparison graph. */
export function componentIndex(d: ChoiceData): Int32Array {
  const n = d.models.length;
  const parent = componentParents(d);
  const root = (x: number): number => {
    while (parent[x] !== x) x = parent[x]!;
    return x;
  };
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = root(i);
    if (!members.has(r)) members.set(r, []);
    members.get(r)!.push(i);
  }
  const comps = [...members.values()].sort((a, b) => b.length - a.length || a[0]! - b[0]!);
  const out = new Int32Array(n);
  comps.forEach((c, k) => {
    for (const i of c) out[i] = k;
  });
  return out;
}

/** Union–find parents over the choice sets that carry events. */
function componentParents(d: ChoiceData): Int32Array {
  const n = d.models.length;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  const used = new Uint8Array(d.setPtr.length - 1);
  for (let e = 0; e < d.evSet.length; e++) used[d.evSet[e]!] = 1;
  for (let s = 0; s < used.length; s++) {
    if (!used[s]) continue;
    const r0 = find(d.setIdx[d.setPtr[s]!]!);
    for (let p = d.setPtr[s]! + 1; p < d.setPtr[s + 1]!; p++) {
      const r = find(d.setIdx[p]!);
      if (r !== r0) parent[r] = r0;
    }
  }
  return parent;
}

/** Components (union–find over choice sets that carry events) and intransitive 3-cycles of the majority relation. */
export function diagnose(d: ChoiceData, maxExamples = 5): Diagnostics {
  const n = d.models.length;
  const comp = componentIndex(d);
  const components: string[][] = [];
  for (let i = 0; i < n; i++) (components[comp[i]!] ??= []).push(d.models[i]!);

  let count = 0, triples = 0;
  const examples: { models: [string, string, string]; margin: number }[] = [];
  const A = d.above;
  if (A) {
    const beats = (i: number, j: number) => A[i * n + j]! > A[j * n + i]!;
    const margin = (i: number, j: number) => (A[i * n + j]! - A[j * n + i]!) / (A[i * n + j]! + A[j * n + i]!);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        for (let k = j + 1; k < n; k++) {
          triples++;
          let cyc: [number, number, number] | null = null;
          if (beats(i, j) && beats(j, k) && beats(k, i)) cyc = [i, j, k];
          else if (beats(j, i) && beats(k, j) && beats(i, k)) cyc = [i, k, j];
          if (!cyc) continue;
          count++;
          const [x, y, z] = cyc;
          const m = Math.min(margin(x, y), margin(y, z), margin(z, x));
          examples.push({ models: [d.models[x]!, d.models[y]!, d.models[z]!], margin: m });
          if (examples.length > 4 * maxExamples) {
            examples.sort((p, q) => q.margin - p.margin);
            examples.length = maxExamples;
          }
        }
      }
    }
    examples.sort((p, q) => q.margin - p.margin);
    examples.length = Math.min(examples.length, maxExamples);
  }
  return {
    components, orderings: d.orderings, dropped_single_model: d.droppedSingle, dropped_all_tied: d.droppedAllTied,
    events: d.evWinner.length, cycles: { count, triples, examples },
    few_samples: d.models.map((model, i) => ({ model, samples: d.samplesPerModel[i]! })).filter((x) => x.samples < FEW_SAMPLES),
  };
}
