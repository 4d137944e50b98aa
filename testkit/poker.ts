/**
 * An independent check of the Hold'em hand evaluator (src/games/holdem.ts `bestHand`): pokersolver (npm, 2.1; its
 * own code, written apart from ours) solves the same seven cards. Shared by test/games/holdem-evaluator.test.ts and
 * bench/holdem-evaluator.ts. A deal is a heads-up showdown: five board cards and two hole cards per player, drawn
 * without replacement from one seeded generator, so each deal gives two seven-card hands and one head-to-head result.
 */
import pokersolver from 'pokersolver';
import { bestHand, HAND_CATEGORIES, type HandCategory } from '../src/games/holdem.ts';
import { mulberry32 } from '../src/games/types.ts';

const { Hand } = pokersolver;

/** The 52 cards, rank then suit (`2c` … `As`; T for ten), as both evaluators read them. */
export const DECK: readonly string[] = Object.freeze([...'23456789TJQKA'].flatMap((r) => [...'cdhs'].map((s) => r + s)));

const NAMES: Record<string, HandCategory> = {
  'High Card': 'high card', Pair: 'one pair', 'Two Pair': 'two pair', 'Three of a Kind': 'three of a kind', Straight: 'straight', Flush: 'flush',
  'Full House': 'full house', 'Four of a Kind': 'four of a kind', 'Straight Flush': 'straight flush',
};

/** pokersolver's category of the best hand from `cards`, in our names (its `Royal Flush` is a straight flush it describes apart). Errors: Error for a name it never gives in the standard game. */
export function pokersolverCategory(cards: readonly string[]): HandCategory {
  return categoryOf(Hand.solve([...cards]));
}
function categoryOf(h: { name: string; descr: string }): HandCategory {
  const c = NAMES[h.name];
  if (!c) throw new Error(`pokersolver category "${h.name}" unknown`);
  return c === 'straight flush' && h.descr === 'Royal Flush' ? 'royal flush' : c;
}

/** One showdown: the board and each player's two cards. */
export interface Deal {
  board: string[];
  a: string[];
  b: string[];
}

/** A random deal (nine distinct cards by a partial Fisher–Yates shuffle) from `rand` (uniform in [0, 1)). */
export function randomDeal(rand: () => number): Deal {
  const d = DECK.slice();
  for (let i = 0; i < 9; i++) {
    const j = i + Math.floor(rand() * (52 - i));
    [d[i], d[j]] = [d[j]!, d[i]!];
  }
  return { board: d.slice(0, 5), a: d.slice(5, 7), b: d.slice(7, 9) };
}

/** `count` deals from seed `seed` (mulberry32). */
export function randomDeals(count: number, seed: number): Deal[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => randomDeal(rand));
}

/** A showdown as one evaluator sees it: each player's category and the winner (`a`, `b` or `tie`). */
export interface Verdict {
  a: HandCategory;
  b: HandCategory;
  winner: 'a' | 'b' | 'tie';
}

/** Our evaluator's verdict on a deal. */
export function ourVerdict(d: Deal): Verdict {
  const va = bestHand([...d.a, ...d.board]), vb = bestHand([...d.b, ...d.board]);
  return { a: va.category, b: vb.category, winner: va.score === vb.score ? 'tie' : va.score > vb.score ? 'a' : 'b' };
}

/** pokersolver's verdict on a deal (`Hand.winners`: both hands on a tie). */
export function pokersolverVerdict(d: Deal): Verdict {
  const ha = Hand.solve([...d.a, ...d.board]), hb = Hand.solve([...d.b, ...d.board]);
  const w = Hand.winners([ha, hb]);
  return { a: categoryOf(ha), b: categoryOf(hb), winner: w.length === 2 ? 'tie' : w[0] === ha ? 'a' : 'b' };
}

/** Category index (0 high card … 9 royal flush), for compact tallies. */
export function categoryIndex(c: HandCategory): number {
  return HAND_CATEGORIES.indexOf(c);
}
