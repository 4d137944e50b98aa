/**
 * A negotiation game after "Deal or No Deal?" (Lewis et al. 2017, §2) as GAMEBoT plays it (Lin et al. 2025, §3.2,
 * Negotiation v2): a pool of three item types (books, hats, balls; 1–4 of each), each player with private
 * non-negative integer values summing to 10 over the pool. Players alternate proposals naming how many of each item
 * the proposer keeps (`propose 2,0,1`); the other side may `accept` the proposal on the table or counter-propose.
 * From round 8 on (a round is one proposal) the negotiation may end after any round, with probability 1/4 each
 * time (drawn from the seed when the game starts, hidden from the players; at most 20 rounds): a counter-proposal
 * after the last round ends it without a deal. With a deal each side gets the value of its share; without, 0.
 * Outcome: score = (own value − other's value) / 10 per side, in [−1, 1]; the higher value wins, equal is a draw.
 */
import { mulberry32, other, parseFromList, type Game, type GameResult, type Seat } from './types.ts';

/** The three item types, in the order proposals list them. */
export const ITEMS = ['books', 'hats', 'balls'] as const;
/** Rounds before the negotiation may end; the per-round end probability after it; the hard cap. */
export const NEGOTIATION_MIN_ROUNDS = 8;
export const NEGOTIATION_END_PROBABILITY = 0.25;
export const NEGOTIATION_MAX_ROUNDS = 20;

export interface NegotiationState {
  counts: [number, number, number];
  /** values[seat][item]; Σ counts·values[seat] = 10. */
  values: [number[], number[]];
  turn: Seat;
  /** Proposals made so far. */
  round: number;
  /** The proposal on the table: what its proposer keeps. */
  offer: { by: Seat; keep: number[] } | null;
  /** The last round (hidden from players). */
  endRound: number;
  /** The agreed split, what seat 0 gets; null without one. */
  deal: number[] | null;
  over: boolean;
}

/**
 * Value of a proposal to each side. `keep` is what `by` keeps (the rest goes to the other side).
 * @returns [value to seat 0, value to seat 1], each in 0..10
 */
export function proposalValues(s: Pick<NegotiationState, 'counts' | 'values'>, by: Seat, keep: readonly number[]): [number, number] {
  const give = s.counts.map((n, i) => n - keep[i]!);
  const v = (seat: Seat, q: readonly number[]) => q.reduce((a, x, i) => a + x * s.values[seat][i]!, 0);
  const mine = v(by, keep), theirs = v(other(by), give);
  return by === 0 ? [mine, theirs] : [theirs, mine];
}

function drawValues(counts: number[], rand: () => number): number[] {
  for (let tries = 0; tries < 10_000; tries++) {
    const v = counts.map(() => Math.floor(rand() * 11));
    if (counts.reduce((a, n, i) => a + n * v[i]!, 0) === 10) return v;
  }
  // Always reachable: put the whole value on an item whose count divides 10.
  const i = counts.findIndex((n) => 10 % n === 0);
  return counts.map((n, k) => (k === i ? 10 / n : 0));
}

function parseProposal(move: string): number[] | null {
  const m = /^propose(\d+),(\d+),(\d+)$/.exec(move.replace(/\s/g, ''));
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** The negotiation engine (rules and sources in the module comment). */
export const negotiation: Game<NegotiationState> = {
  name: 'negotiation',
  title: 'Negotiation',
  rules: `Two players divide a pool of books, hats and balls. Each player values the items privately (your values are shown; the other player's are hidden); each player's values over the whole pool sum to 10. Players alternate: propose how many of each item you keep (the rest goes to the other player), or accept the proposal on the table. From round ${NEGOTIATION_MIN_ROUNDS} on the negotiation may end at random after any round, and then nobody gets anything. With a deal you score the value of your share.`,
  moveFormat: 'propose B,H,L with the numbers of books, hats and balls you keep (e.g. propose 2,0,1), or accept',
  perfectInformation: false,
  maxPlies: NEGOTIATION_MAX_ROUNDS + 1,
  initial(seed) {
    const rand = mulberry32(seed);
    const counts = [1 + Math.floor(rand() * 4), 1 + Math.floor(rand() * 4), 1 + Math.floor(rand() * 4)] as [number, number, number];
    const values: [number[], number[]] = [drawValues(counts, rand), drawValues(counts, rand)];
    let endRound = NEGOTIATION_MIN_ROUNDS;
    while (endRound < NEGOTIATION_MAX_ROUNDS && rand() >= NEGOTIATION_END_PROBABILITY) endRound++;
    return { counts, values, turn: 0, round: 0, offer: null, endRound, deal: null, over: false };
  },
  toMove: (s) => s.turn,
  legalMoves(s) {
    if (s.over) return [];
    const out: string[] = s.offer ? ['accept'] : [];
    for (let a = 0; a <= s.counts[0]; a++) for (let b = 0; b <= s.counts[1]; b++) for (let c = 0; c <= s.counts[2]; c++) out.push(`propose ${a},${b},${c}`);
    return out;
  },
  apply(s, move) {
    if (s.over) throw new Error('the negotiation is over');
    if (move === 'accept') {
      if (!s.offer) throw new Error('nothing to accept');
      const keep = s.offer.keep;
      const deal = s.offer.by === 0 ? keep.slice() : s.counts.map((n, i) => n - keep[i]!);
      return { ...s, deal, over: true };
    }
    const q = parseProposal(move);
    if (!q || q.some((x, i) => x < 0 || x > s.counts[i]!)) throw new Error(`illegal proposal ${move}`);
    if (s.round >= s.endRound) return { ...s, round: s.round + 1, over: true };
    return { ...s, round: s.round + 1, offer: { by: s.turn, keep: q }, turn: other(s.turn) };
  },
  result(s): GameResult | null {
    if (!s.over) return null;
    if (!s.deal) return { winner: null, score: [0, 0], reason: `no deal after ${s.round - 1} rounds` };
    const v0 = s.deal.reduce((a, x, i) => a + x * s.values[0][i]!, 0);
    const v1 = s.counts.reduce((a, n, i) => a + (n - s.deal![i]!) * s.values[1][i]!, 0);
    const d = (v0 - v1) / 10;
    return { winner: v0 === v1 ? null : v0 > v1 ? 0 : 1, score: [d, -d], reason: `deal: values ${v0} and ${v1}` };
  },
  adjudicate: () => ({ winner: null, score: [0, 0], reason: 'turn cap, no deal' }),
  render(s, seat) {
    const pool = ITEMS.map((it, i) => `${s.counts[i]} ${it}`).join(', ');
    const vals = ITEMS.map((it, i) => `${it} ${s.values[seat][i]} each`).join(', ');
    let table = 'No proposal is on the table.';
    if (s.offer) {
      const yours = s.offer.by === seat ? s.offer.keep : s.counts.map((n, i) => n - s.offer!.keep[i]!);
      table = `On the table (proposed by ${s.offer.by === seat ? 'you' : 'the other player'}): you would get ${ITEMS.map((it, i) => `${yours[i]} ${it}`).join(', ')}.`;
    }
    const legal = `${s.offer ? 'accept, or ' : ''}propose B,H,L with 0 ≤ B ≤ ${s.counts[0]}, 0 ≤ H ≤ ${s.counts[1]}, 0 ≤ L ≤ ${s.counts[2]}`;
    return `Pool: ${pool}.\nYour values: ${vals} (the pool is worth 10 to you).\nRound ${s.round + 1} (the negotiation may end at random after round ${NEGOTIATION_MIN_ROUNDS}).\n${table}\n${s.turn === seat ? 'Your turn.' : 'The other player is to move.'}\nLegal moves: ${legal}`;
  },
  parseMove(s, text) {
    let t = text.toLowerCase().replace(/\b(books?|hats?|balls?)\b\s*[:=]?/g, '').replace(/[;/]/g, ',');
    const nums = /propos\w*\D*(\d+)\D+(\d+)\D+(\d+)/.exec(t);
    if (nums) t = `propose ${nums[1]},${nums[2]},${nums[3]}`;
    else if (/^\W*(accept\w*|deal|yes)\W*$/.test(t.trim())) t = 'accept';
    return parseFromList(t, this.legalMoves(s), /^(propose\d+,\d+,\d+|accept)$/, 'accept or propose B,H,L');
  },
  subproblems(s, seat) {
    const out: ReturnType<Game['subproblems']> = [];
    if (s.offer) {
      const v = proposalValues(s, s.offer.by, s.offer.keep)[seat];
      out.push({ id: 'offer_value', kind: 'number', question: 'What is the proposal on the table worth to you (the sum over items of the number you would get times your value)?', truth: v, tolerance: 0 });
    }
    out.push({ id: 'pool_value', kind: 'number', question: 'What is the whole pool worth to you?', truth: s.counts.reduce((a, n, i) => a + n * s.values[seat][i]!, 0), tolerance: 0 });
    return out;
  },
  greedy(s) {
    // Accept 6 or more (5 or more from the round the end may come); else keep the items worth most to us per unit
    // until our share is worth at least 7, giving away the rest.
    const me = s.turn;
    if (s.offer) {
      const v = proposalValues(s, s.offer.by, s.offer.keep)[me];
      if (v >= (s.round >= NEGOTIATION_MIN_ROUNDS ? 5 : 6)) return 'accept';
    }
    const order = [0, 1, 2].sort((a, b) => s.values[me][b]! - s.values[me][a]!);
    const keep = [0, 0, 0];
    let v = 0;
    for (const i of order) while (keep[i]! < s.counts[i]! && v < 7 && s.values[me][i]! > 0) { keep[i] = keep[i]! + 1; v += s.values[me][i]!; }
    return `propose ${keep.join(',')}`;
  },
};
