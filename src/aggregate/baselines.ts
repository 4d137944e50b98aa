/**
 * Comparison baselines and rank statistics: Kendall τ-b (from stats/kendall.ts), Elo (for comparison only: order-dependent), ranks from
 * scores, quantiles.
 */
import type { Rng } from '../core/rng.ts';
import type { ChoiceData } from './choices.ts';

export { kendallTau } from '../stats/kendall.ts';


/** Ranks (1 = best) from scores, higher is better; equal scores get the same (minimum) rank. */
export function ranksOf(scores: ArrayLike<number>): Int32Array {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const r = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    r[i] = k > 0 && scores[order[k - 1]!] === scores[i] ? r[order[k - 1]!]! : k + 1;
  }
  return r;
}

/** Quantile of sorted values (type 7): one implementation, shared with the statistics module. */
export { quantileSorted } from '../stats/quantile.ts';

/**
 * Online Elo over the comparisons in `d` (Elo 1978, "The rating of chessplayers, past and present"): clusters in a
 * seeded random order; within a cluster, every stage (choice set) gives pairwise games between its winners and the
 * rest (score 1), and a two-model set with split weights gives one game with score w_a / (w_a + w_b).
 * Ratings start at 1000, K = 4, logistic base 10 with scale 400 (the Chatbot-Arena online-Elo settings).
 * Returns ratings (length n). For comparison only: the result depends on the order of games.
 */
export function eloRatings(d: ChoiceData, rng: Rng, opts: { k?: number } = {}): Float64Array {
  const n = d.models.length;
  const K = opts.k ?? 4;
  const r = new Float64Array(n).fill(1000);
  const nC = d.clusters.length;
  const perm = Int32Array.from({ length: nC }, (_, i) => i);
  for (let i = nC - 1; i > 0; i--) {
    const j = rng.index(i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  const game = (a: number, b: number, s: number) => {
    const e = 1 / (1 + Math.pow(10, (r[b]! - r[a]!) / 400));
    r[a]! += K * (s - e);
    r[b]! -= K * (s - e);
  };
  for (const c of perm) {
    const a0 = d.clusterPtr[c]!, b0 = d.clusterPtr[c + 1]!;
    // group events by set
    const sets = new Map<number, Map<number, number>>();
    for (let e = a0; e < b0; e++) {
      const s = d.evSet[e]!;
      let m = sets.get(s);
      if (!m) sets.set(s, (m = new Map()));
      m.set(d.evWinner[e]!, (m.get(d.evWinner[e]!) ?? 0) + (d.evWeight ? d.evWeight[e]! : 1));
    }
    for (const [s, wins] of sets) {
      const p0 = d.setPtr[s]!, p1 = d.setPtr[s + 1]!;
      if (p1 - p0 === 2) {
        const a = d.setIdx[p0]!, b = d.setIdx[p0 + 1]!;
        const wa = wins.get(a) ?? 0, wb = wins.get(b) ?? 0;
        if (wa + wb > 0) game(a, b, wa / (wa + wb));
        continue;
      }
      for (const [i] of wins) for (let p = p0; p < p1; p++) {
        const j = d.setIdx[p]!;
        if (!wins.has(j)) game(i, j, 1);
      }
    }
  }
  return r;
}
