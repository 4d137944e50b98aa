/**
 * Ratings from match results: Bradley–Terry strengths (Bradley & Terry 1952) fitted by Hunter's MM algorithm
 * (Hunter 2004, "MM algorithms for generalized Bradley–Terry models", §3), a draw counted as half a win for each side
 * (the Elo convention), with a weak prior: every player also plays one drawn game against a virtual player of
 * strength θ = 0, so unbeaten or winless players keep finite ratings. Intervals: percentile bootstrap (Efron &
 * Tibshirani 1993, ch. 13), seeded, for the strengths and for the ranks, in one of two forms:
 * - `parametric` (default): every match is played again from the fitted model (Efron & Tibshirani 1993, §6.5): a
 *   draw with the pair's observed draw share δ, else a win for `a` with probability σ(θa − θb) − δ/2 of the rest.
 *   Because the prior keeps σ away from 0 and 1, an 8–0 record still gets an interval of honest width.
 * - `matches`: matches resampled with replacement. It cannot see uncertainty a sample does not show: a pair whose
 *   results are all alike gives every replicate the same record (an interval of zero width).
 * The rank intervals are marginal (each player's own 2.5–97.5% range of bootstrap ranks), not simultaneous.
 */
import { createRng } from '../core/rng.ts';
import { InputError } from '../core/errors.ts';

/** One match: players `a` and `b`, `score` for `a` (1 win, 0.5 draw, 0 loss). */
export interface MatchOutcome {
  a: string;
  b: string;
  score: number;
}

export interface PlayerRating {
  player: string;
  /** Centred log-strength θ (natural log: exp(θa − θb) = odds that a beats b). */
  theta: number;
  /** θ on the Elo scale (θ · 400 / ln 10). */
  elo: number;
  ci: [number, number];
  rank: number;
  rank_interval: [number, number];
  matches: number;
  wins: number;
  draws: number;
  losses: number;
}

export interface Ratings {
  players: PlayerRating[];
  method: string;
  bootstrap: { replicates: number; seed: number; level: number; resample: 'parametric' | 'matches' };
}

/** Fit centred Bradley–Terry log-strengths (see the module comment). `players` fixes the order of the result. */
export function fitBradleyTerry(outcomes: readonly MatchOutcome[], players: readonly string[], iterations = 2000, tol = 1e-10): Float64Array {
  const n = players.length;
  const index = new Map(players.map((p, i) => [p, i]));
  const wins = new Float64Array(n).fill(0.5); // the virtual draw
  const games: Map<number, number>[] = players.map(() => new Map());
  for (const o of outcomes) {
    const i = index.get(o.a), j = index.get(o.b);
    if (i == null || j == null || i === j) continue;
    wins[i] += o.score;
    wins[j] += 1 - o.score;
    games[i]!.set(j, (games[i]!.get(j) ?? 0) + 1);
    games[j]!.set(i, (games[j]!.get(i) ?? 0) + 1);
  }
  let g = new Float64Array(n).fill(1);
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(n);
    let change = 0;
    for (let i = 0; i < n; i++) {
      let denom = 1 / (g[i]! + 1); // the virtual game against strength 1
      for (const [j, c] of games[i]!) denom += c / (g[i]! + g[j]!);
      next[i] = wins[i]! / denom;
    }
    for (let i = 0; i < n; i++) change = Math.max(change, Math.abs(Math.log(next[i]!) - Math.log(g[i]!)));
    g = next;
    if (change < tol) break;
  }
  const theta = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) { theta[i] = Math.log(g[i]!); mean += theta[i]! / n; }
  for (let i = 0; i < n; i++) theta[i]! -= mean;
  return theta;
}

/**
 * Ranks with ties (competition ranking, 1 = best): player i's best rank is 1 + the players strictly stronger, its
 * worst rank the players at least as strong (itself included). Strengths within 1e-9 are tied, so equal players
 * share a range of ranks instead of being ordered by their index.
 */
function ranksOf(theta: Float64Array): { best: number[]; worst: number[] } {
  const n = theta.length;
  const best = new Array<number>(n).fill(1);
  const worst = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (theta[j]! > theta[i]! + 1e-9) best[i]!++;
      if (theta[j]! >= theta[i]! - 1e-9) worst[i]!++;
    }
  }
  return { best, worst };
}

function pct(sorted: number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]!) - sorted[lo]!);
}

/**
 * Bradley–Terry ratings with percentile-bootstrap CIs and rank intervals over matches.
 * @param outcomes match results (at least one)
 * @param opts replicates (default 1000, ≥ 100), seed (default 0), level (default 0.95), resample (default `parametric`)
 * @returns players sorted by θ, each with CI, rank, marginal rank interval and record
 * @throws InputError for no outcomes, a score outside [0, 1], or fewer than 100 replicates
 */
export function rateMatches(outcomes: readonly MatchOutcome[], opts: { replicates?: number; seed?: number; level?: number; resample?: 'parametric' | 'matches' } = {}): Ratings {
  const replicates = opts.replicates ?? 1000, seed = opts.seed ?? 0, level = opts.level ?? 0.95, resample = opts.resample ?? 'parametric';
  if (!outcomes.length) throw new InputError('no match outcomes to rate');
  if (replicates < 100) throw new InputError('at least 100 bootstrap replicates are needed for a 95% interval');
  for (const o of outcomes) if (!(o.score >= 0 && o.score <= 1)) throw new InputError(`match score ${o.score} is outside [0, 1]`);
  const players = [...new Set(outcomes.flatMap((o) => [o.a, o.b]))].sort();
  const theta = fitBradleyTerry(outcomes, players);
  const rank = ranksOf(theta);
  const rng = createRng(seed);
  const thetas: number[][] = players.map(() => []);
  const bestRanks: number[][] = players.map(() => []);
  const worstRanks: number[][] = players.map(() => []);
  const sample = new Array<MatchOutcome>(outcomes.length);
  // Parametric: per match, P(draw) = the pair's draw share, P(a wins) = σ(θa − θb) − P(draw)/2.
  const index = new Map(players.map((p, i) => [p, i]));
  const pairKey = (o: MatchOutcome) => (o.a < o.b ? `${o.a}\u0000${o.b}` : `${o.b}\u0000${o.a}`);
  const drawShare = new Map<string, [number, number]>();
  for (const o of outcomes) { const e = drawShare.get(pairKey(o)) ?? [0, 0]; e[0] += o.score === 0.5 ? 1 : 0; e[1]++; drawShare.set(pairKey(o), e); }
  const model = outcomes.map((o) => {
    const [d, n] = drawShare.get(pairKey(o))!;
    // the pair's draw share shrunk toward ½ by one virtual half-draw (Jeffreys-style), so that a pair seen only
    // drawing is not replayed as drawing with certainty (which gave zero-width intervals)
    const delta = (d + 0.5) / (n + 1);
    const e = 1 / (1 + Math.exp(theta[index.get(o.b)!]! - theta[index.get(o.a)!]!));
    const win = Math.min(1 - delta, Math.max(0, e - delta / 2));
    return { delta, win };
  });
  for (let b = 0; b < replicates; b++) {
    if (resample === 'matches') for (let k = 0; k < outcomes.length; k++) sample[k] = outcomes[rng.index(outcomes.length)]!;
    else for (let k = 0; k < outcomes.length; k++) {
      const u = rng.float(), o = outcomes[k]!, m = model[k]!;
      sample[k] = { a: o.a, b: o.b, score: u < m.delta ? 0.5 : u < m.delta + m.win ? 1 : 0 };
    }
    const t = fitBradleyTerry(sample, players, 500, 1e-8);
    const r = ranksOf(t);
    players.forEach((_, i) => { thetas[i]!.push(t[i]!); bestRanks[i]!.push(r.best[i]!); worstRanks[i]!.push(r.worst[i]!); });
  }
  const a = (1 - level) / 2;
  const out: PlayerRating[] = players.map((p, i) => {
    const ts = thetas[i]!.sort((x, y) => x - y), rb = bestRanks[i]!.sort((x, y) => x - y), rw = worstRanks[i]!.sort((x, y) => x - y);
    let wins = 0, draws = 0, losses = 0;
    for (const o of outcomes) {
      const s = o.a === p ? o.score : o.b === p ? 1 - o.score : null;
      if (s == null) continue;
      if (s === 1) wins++; else if (s === 0) losses++; else draws++;
    }
    return {
      player: p, theta: theta[i]!, elo: (theta[i]! * 400) / Math.LN10, ci: [pct(ts, a), pct(ts, 1 - a)], rank: rank.best[i]!,
      rank_interval: [Math.floor(pct(rb, a)), Math.ceil(pct(rw, 1 - a))], matches: wins + draws + losses, wins, draws, losses,
    };
  });
  out.sort((x, y) => x.rank - y.rank || y.theta - x.theta || (x.player < y.player ? -1 : 1));
  return {
    players: out,
    method: `Bradley–Terry (MM, Hunter 2004; draws = half wins; one virtual draw vs θ=0 per player), percentile ${resample === 'parametric' ? 'parametric bootstrap (matches replayed from the fit)' : 'bootstrap over matches'}; rank intervals marginal`,
    bootstrap: { replicates, seed, level, resample },
  };
}
