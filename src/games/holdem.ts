/**
 * Heads-up no-limit Texas Hold'em, one hand, with our own hand evaluator. Stacks of 200 chips, blinds 1/2; seat 0
 * is the button: it posts the small blind and acts first before the flop, last after it (the heads-up rule of the
 * Robert's Rules of Poker, §"Heads-up"). Actions: `fold`, `check`, `call`, `raise N` where N is the total of the
 * player's bet in this betting round (a bet when nobody has bet yet); the minimum raise is the size of the last bet
 * or raise (at least the big blind), and an all-in for less is allowed. Stacks start equal, so no side pot arises.
 * Cards are written rank then suit: `As`, `Td`, `9c` (T for ten). All cards come from the seed.
 *
 * Outcome: score = chips won / 200 (the starting stack), in [−1, 1].
 *
 * Subproblems (GAMEBoT, Lin et al. 2025, §3.2, Texas Hold'em): the best five-card hand from your two cards and the
 * board (its category and its five cards: when several sets of five make an equal hand, any of them is correct), and
 * the amount to call.
 */
import { mulberry32, normalizeToken, other, type Game, type GameResult, type ParsedMove, type Seat } from './types.ts';

/** Starting stack and blinds, in chips. */
export const STACK = 200;
export const SMALL_BLIND = 1;
export const BIG_BLIND = 2;

const RANKS = '23456789TJQKA';
const SUITS = 'cdhs';

/** Hand categories from weakest to strongest; a royal flush is the ace-high straight flush (named apart). */
export const HAND_CATEGORIES = ['high card', 'one pair', 'two pair', 'three of a kind', 'straight', 'flush', 'full house', 'four of a kind', 'straight flush', 'royal flush'] as const;
export type HandCategory = (typeof HAND_CATEGORIES)[number];

/** A five-card hand's value: `score` orders hands (larger is stronger, equal is a tie). */
export interface HandValue {
  category: HandCategory;
  /** Comparable strength: category index (straight flush and royal flush share one) then tie-break ranks. */
  score: number;
  /** The five cards. */
  cards: string[];
}

/** Rank of a card, 2..14 (A = 14). Errors: Error for a malformed card. */
export function cardRank(card: string): number {
  const r = RANKS.indexOf(card[0]!.toUpperCase());
  if (r < 0 || card.length !== 2 || !SUITS.includes(card[1]!.toLowerCase())) throw new Error(`bad card ${card}`);
  return r + 2;
}

/** Suit symbols (filled and outlined) as the suit letters. */
const SUIT_SYMBOLS: Record<string, string> = { '\u2660': 's', '\u2664': 's', '\u2665': 'h', '\u2661': 'h', '\u2666': 'd', '\u2662': 'd', '\u2663': 'c', '\u2667': 'c' };

/**
 * Canonical card (`10h`, `th`, `TH`, `T♥`, `10♥` → `Th`; markdown and quotes around it ignored), or the token unchanged
 * when it is not a card.
 */
export function canonCard(token: string): string {
  const t = token.trim().replace(/^[*_`'"(]+|[*_`'".)]+$/g, '').replace(/\ufe0f/g, '').replace(/[\u2660-\u2667]/g, (c) => SUIT_SYMBOLS[c] ?? c).replace(/^10/, 'T');
  if (t.length !== 2) return token;
  const r = t[0]!.toUpperCase(), s = t[1]!.toLowerCase();
  return RANKS.includes(r) && SUITS.includes(s) ? r + s : token;
}

/**
 * Category index (0 high card … 9 royal flush) and comparable score of five cards given as ranks sorted high to low
 * (2..14) and whether they are all of one suit; the ranking of `evaluateFive`. Allocation-light (the inner loop of
 * `bestHand`).
 */
function valueOfSorted(r: readonly number[], flush: boolean): { cat: number; score: number } {
  // Groups (rank, size) ordered by size then rank: the tie-break order. Ranks arrive sorted, so equal ranks are adjacent.
  const gr: number[] = [], gs: number[] = [];
  for (let i = 0; i < 5;) {
    let j = i + 1;
    while (j < 5 && r[j] === r[i]) j++;
    gr.push(r[i]!); gs.push(j - i);
    i = j;
  }
  // Stable insertion sort of the groups by size (descending); ranks within a size stay descending.
  for (let i = 1; i < gr.length; i++) {
    const a = gr[i]!, b = gs[i]!;
    let j = i - 1;
    while (j >= 0 && gs[j]! < b) { gr[j + 1] = gr[j]!; gs[j + 1] = gs[j]!; j--; }
    gr[j + 1] = a; gs[j + 1] = b;
  }
  const distinct = gr.length === 5;
  let straightHigh = 0;
  if (distinct && r[0]! - r[4]! === 4) straightHigh = r[0]!;
  else if (distinct && r[0] === 14 && r[1] === 5 && r[4] === 2) straightHigh = 5;
  const top = gs[0]!, second = gs[1] ?? 0;
  let cat: number;
  let tie: readonly number[];
  if (straightHigh && flush) { cat = straightHigh === 14 ? 9 : 8; tie = [straightHigh]; }
  else if (top === 4) { cat = 7; tie = gr; }
  else if (top === 3 && second === 2) { cat = 6; tie = gr; }
  else if (flush) { cat = 5; tie = r; }
  else if (straightHigh) { cat = 4; tie = [straightHigh]; }
  else if (top === 3) { cat = 3; tie = gr; }
  else if (top === 2 && second === 2) { cat = 2; tie = gr; }
  else if (top === 2) { cat = 1; tie = gr; }
  else { cat = 0; tie = r; }
  let score = Math.min(cat, 8);
  for (let k = 0; k < 5; k++) score = score * 15 + (tie[k] ?? 0);
  return { cat, score };
}

/**
 * Value of exactly five cards: category and tie-breaks by the standard ranking (Robert's Rules of Poker, "Poker
 * Hand Rankings"): A-2-3-4-5 (the wheel) is the lowest straight, ranked by its five; A-K-Q-J-T of one suit is a
 * royal flush. Errors: Error for a malformed card or not five cards.
 */
export function evaluateFive(cards: readonly string[]): HandValue {
  if (cards.length !== 5) throw new Error('evaluateFive needs five cards');
  const ranks = cards.map(cardRank).sort((a, b) => b - a);
  const suit = cards[0]![1]!.toLowerCase();
  const { cat, score } = valueOfSorted(ranks, cards.every((c) => c[1]!.toLowerCase() === suit));
  return { category: HAND_CATEGORIES[cat]!, score, cards: cards.map(canonCard) };
}

/**
 * The five-card subsets of 5–7 cards with the highest value, as index lists (each ascending), in the order the
 * subsets are enumerated (by rank, high first, then position): the first is `bestHand`'s. `all` false stops at the
 * first best subset's value (still scanning every subset, keeping one). Allocation-light.
 */
function bestSubsets(cards: readonly string[], all: boolean): number[][] {
  if (cards.length < 5) throw new Error('bestHand needs at least five cards');
  const n = cards.length;
  const rank = cards.map(cardRank);
  const suit = cards.map((c) => c[1]!.toLowerCase());
  // Indices sorted by rank (high first), so each subset taken in this order is already sorted.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rank[b]! - rank[a]! || a - b);
  const r = [0, 0, 0, 0, 0];
  let bestScore = -1;
  let best: number[][] = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) for (let c = b + 1; c < n; c++) for (let d = c + 1; d < n; d++) for (let e = d + 1; e < n; e++) {
    const idx = [order[a]!, order[b]!, order[c]!, order[d]!, order[e]!];
    for (let k = 0; k < 5; k++) r[k] = rank[idx[k]!]!;
    const s0 = suit[idx[0]!];
    const flush = suit[idx[1]!] === s0 && suit[idx[2]!] === s0 && suit[idx[3]!] === s0 && suit[idx[4]!] === s0;
    const v = valueOfSorted(r, flush).score;
    if (v > bestScore) { bestScore = v; best = [idx]; }
    else if (all && v === bestScore) best.push(idx);
  }
  return best.map((idx) => idx.sort((x, y) => x - y));
}

/**
 * The best five-card hand from 5–7 cards (every 5-subset tried; when several subsets tie, e.g. a kicker from a
 * pair, the first in order of rank, then position, is returned; `bestHands` gives them all). Errors: Error for a
 * malformed card or fewer than five cards.
 */
export function bestHand(cards: readonly string[]): HandValue {
  return evaluateFive(bestSubsets(cards, false)[0]!.map((i) => cards[i]!));
}

/**
 * Every five-card set of 5–7 cards that makes the best hand: all subsets of the highest value (equal `score`), e.g.
 * two pair with either of two queens as the kicker, or a straight with either of two nines (a set appears once;
 * within a set the cards keep their input order). The first is `bestHand`'s. Errors:
 * Error for a malformed card or fewer than five cards.
 */
export function bestHands(cards: readonly string[]): HandValue[] {
  return bestSubsets(cards, true).map((idx) => evaluateFive(idx.map((i) => cards[i]!)));
}

export interface HoldemState {
  deck: string[];
  hole: [string[], string[]];
  /** Board cards visible now (0, 3, 4 or 5). */
  board: string[];
  /** 0 pre-flop, 1 flop, 2 turn, 3 river. */
  street: number;
  stacks: [number, number];
  /** Chips put in during this betting round. */
  bets: [number, number];
  /** Chips from finished betting rounds. */
  pot: number;
  turn: Seat;
  acted: [boolean, boolean];
  /** Size of the last bet or raise in this round (the minimum raise). */
  lastRaise: number;
  folded: Seat | null;
  /** Chips each seat ends with, once the hand is over. */
  final: [number, number] | null;
  showdown: boolean;
}

function shuffled(seed: number): string[] {
  const deck: string[] = [];
  for (const r of RANKS) for (const s of SUITS) deck.push(r + s);
  const rand = mulberry32(seed);
  for (let i = deck.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [deck[i], deck[j]] = [deck[j]!, deck[i]!]; }
  return deck;
}

function bounds(s: HoldemState) {
  const me = s.turn, opp = other(me);
  const current = Math.max(s.bets[0], s.bets[1]);
  const toCall = current - s.bets[me];
  const maxTo = Math.min(s.bets[me] + s.stacks[me], s.bets[opp] + s.stacks[opp]);
  const minTo = current + Math.max(s.lastRaise, BIG_BLIND);
  const canRaise = maxTo > current && s.stacks[opp] > 0;
  return { toCall, current, maxTo, minTo: Math.min(minTo, maxTo), canRaise };
}

function finish(s: HoldemState): HoldemState {
  const total = s.pot + s.bets[0] + s.bets[1];
  const base: [number, number] = [s.stacks[0], s.stacks[1]];
  if (s.folded != null) {
    base[other(s.folded)] += total;
    return { ...s, final: base };
  }
  const board = s.deck.slice(4, 9);
  const v0 = bestHand([...s.hole[0], ...board]).score, v1 = bestHand([...s.hole[1], ...board]).score;
  if (v0 === v1) { base[0] += total / 2; base[1] += total / 2; }
  else base[v0 > v1 ? 0 : 1] += total;
  return { ...s, board, final: base, showdown: true };
}

function nextRound(s: HoldemState): HoldemState {
  const pot = s.pot + s.bets[0] + s.bets[1];
  const t: HoldemState = { ...s, pot, bets: [0, 0], acted: [false, false], lastRaise: BIG_BLIND, turn: 1 };
  if (s.street === 3 || s.stacks[0] === 0 || s.stacks[1] === 0) return finish({ ...t, street: 3 });
  const street = s.street + 1;
  return { ...t, street, board: s.deck.slice(4, 4 + [0, 3, 4, 5][street]!) };
}

/** Parse `raise N` / `bet N` / `raise to N` / `all-in` into a canonical move or a reason it is not one. */
function canonical(s: HoldemState, text: string): { move: string } | { illegal: string } | null {
  const t = normalizeToken(text).replace(/-/g, '');
  if (['fold', 'check', 'call'].includes(t)) return { move: t };
  const b = bounds(s);
  if (t === 'allin' || t === 'shove') return b.canRaise ? { move: `raise ${b.maxTo}` } : { illegal: 'allin' };
  const m = /^(raise|bet)(to)?(\d+)(chips?)?$/.exec(t);
  if (!m) return null;
  return { move: `raise ${Number(m[3])}` };
}

function isLegal(s: HoldemState, move: string): boolean {
  if (s.final) return false;
  const b = bounds(s);
  if (move === 'fold' || move === 'call') return b.toCall > 0;
  if (move === 'check') return b.toCall === 0;
  const m = /^raise (\d+)$/.exec(move);
  if (!m || !b.canRaise) return false;
  const n = Number(m[1]);
  return n > b.current && n <= b.maxTo && (n >= b.minTo || n === b.maxTo);
}

const NAMES = ['button (small blind)', 'big blind'];

/** The heads-up no-limit Hold'em engine, one hand (rules and sources in the module comment). */
export const holdem: Game<HoldemState> = {
  name: 'holdem',
  title: "Heads-up no-limit Texas Hold'em",
  rules: `One hand of heads-up no-limit Texas Hold'em. Each player starts with ${STACK} chips; the button posts the small blind (${SMALL_BLIND}) and acts first before the flop, the other player posts the big blind (${BIG_BLIND}) and acts first after it. Five community cards come out in three rounds (flop 3, turn 1, river 1). Actions: fold, check, call, or raise N where N is the total you will have bet in this betting round (the minimum raise is the size of the last bet or raise; all-in is always allowed). At showdown the best five-card hand from your two cards and the board wins the pot.`,
  moveFormat: 'fold, check, call, or raise N (N = your total bet this betting round, e.g. raise 6), or all-in',
  perfectInformation: false,
  maxPlies: 200,
  initial(seed) {
    const deck = shuffled(seed);
    return {
      deck, hole: [[deck[0]!, deck[2]!], [deck[1]!, deck[3]!]], board: [], street: 0,
      stacks: [STACK - SMALL_BLIND, STACK - BIG_BLIND], bets: [SMALL_BLIND, BIG_BLIND], pot: 0, turn: 0,
      acted: [false, false], lastRaise: BIG_BLIND, folded: null, final: null, showdown: false,
    };
  },
  toMove: (s) => s.turn,
  legalMoves(s) {
    if (s.final) return [];
    const b = bounds(s);
    const out = b.toCall > 0 ? ['fold', 'call'] : ['check'];
    if (b.canRaise) {
      const pot = s.pot + s.bets[0] + s.bets[1] + b.toCall;
      for (const to of [b.minTo, Math.min(b.maxTo, b.current + pot), b.maxTo]) if (isLegal(s, `raise ${to}`) && !out.includes(`raise ${to}`)) out.push(`raise ${to}`);
    }
    return out;
  },
  apply(s, move) {
    if (!isLegal(s, move)) throw new Error(`illegal hold'em move ${move}`);
    const me = s.turn, opp = other(me);
    const b = bounds(s);
    const stacks: [number, number] = [s.stacks[0], s.stacks[1]];
    const bets: [number, number] = [s.bets[0], s.bets[1]];
    const acted: [boolean, boolean] = [s.acted[0], s.acted[1]];
    acted[me] = true;
    let lastRaise = s.lastRaise;
    if (move === 'fold') return finish({ ...s, folded: me });
    if (move === 'call') { const c = Math.min(b.toCall, stacks[me]); stacks[me] -= c; bets[me] += c; }
    if (move.startsWith('raise')) {
      const to = Number(move.slice(6));
      stacks[me] -= to - bets[me];
      lastRaise = Math.max(lastRaise, to - b.current);
      bets[me] = to;
      acted[opp] = false;
    }
    const t: HoldemState = { ...s, stacks, bets, acted, lastRaise, turn: opp };
    const settled = bets[0] === bets[1] && (acted[0] && acted[1]);
    const allInCalled = bets[0] === bets[1] && (stacks[0] === 0 || stacks[1] === 0) && move === 'call';
    return settled || allInCalled ? nextRound(t) : t;
  },
  result(s): GameResult | null {
    if (!s.final) return null;
    const d0 = (s.final[0] - STACK) / STACK;
    const reason = s.folded != null ? `seat ${s.folded} folded` : `showdown: ${bestHand([...s.hole[0], ...s.board]).category} vs ${bestHand([...s.hole[1], ...s.board]).category}`;
    return { winner: d0 === 0 ? null : d0 > 0 ? 0 : 1, score: [d0, -d0], reason };
  },
  adjudicate: () => ({ winner: null, score: [0, 0], reason: 'turn cap' }),
  render(s, seat) {
    const b = bounds(s);
    const legal = this.legalMoves(s).filter((m) => !m.startsWith('raise'));
    if (b.canRaise) legal.push(b.minTo === b.maxTo ? `raise ${b.maxTo} (all-in)` : `raise N with ${b.minTo} ≤ N ≤ ${b.maxTo} (${b.maxTo} is all-in)`);
    const street = ['pre-flop', 'flop', 'turn', 'river'][s.street];
    return [
      `You are the ${NAMES[seat]}. Your cards: ${s.hole[seat].join(' ')}.`,
      `Board: ${s.board.length ? s.board.join(' ') : '(none yet)'} — ${street}.`,
      `Pot from earlier rounds: ${s.pot}. Bets this round: you ${s.bets[seat]}, opponent ${s.bets[other(seat)]}. Stacks: you ${s.stacks[seat]}, opponent ${s.stacks[other(seat)]}.`,
      s.turn === seat ? `Your turn; to call: ${b.toCall}.` : 'The opponent is to act.',
      `Legal moves: ${legal.join(', ')}`,
    ].join('\n');
  },
  parseMove(s, text): ParsedMove {
    const c = canonical(s, text.replace(/[.!]+\s*$/, ''));
    if (!c) return { kind: 'format', reason: `"${text.trim().slice(0, 60)}" is not fold, check, call, raise N or all-in` };
    if ('illegal' in c) return { kind: 'illegal', move: c.illegal, reason: 'raising is not possible here' };
    return isLegal(s, c.move) ? { kind: 'move', move: c.move } : { kind: 'illegal', move: c.move, reason: `${c.move} is not legal here` };
  },
  subproblems(s, seat) {
    const out: ReturnType<Game['subproblems']> = [{ id: 'to_call', kind: 'number', question: 'How many chips must you add to call?', truth: bounds(s).toCall, tolerance: 0 }];
    if (s.board.length >= 3) {
      const hands = bestHands([...s.hole[seat], ...s.board]);
      const best = hands[0]!;
      const synonyms = { pair: 'onepair', highcard: 'highcard', trips: 'threeofakind', set: 'threeofakind', quads: 'fourofakind', fullhouse: 'fullhouse', boat: 'fullhouse', royal: 'royalflush', twopairs: 'twopair' };
      out.push({ id: 'best_hand', kind: 'text', question: `What is the category of your best five-card hand (${HAND_CATEGORIES.join(', ')})? A-2-3-4-5 is a straight; A-K-Q-J-T of one suit is a royal flush.`, truth: best.category, synonyms });
      // Several five-card sets can make hands of equal value (a kicker of either of two equal ranks; the board's
      // straight with either of two equal cards): each is a correct answer.
      const fives = hands.map((h) => h.cards.slice().sort());
      out.push({ id: 'best_five', kind: 'one_of', question: 'Which five cards make that hand (e.g. As, Kd, …)? When several sets of five make an equal hand, name any one of them.', truth: fives, canon: canonCard, spaceSeparated: true });
    }
    return out;
  },
  greedy(s) {
    const me = s.turn;
    const b = bounds(s);
    const legal = this.legalMoves(s);
    const raise = legal.filter((m) => m.startsWith('raise'));
    let strength: number;
    if (s.board.length === 0) {
      const [r1, r2] = s.hole[me].map(cardRank) as [number, number];
      strength = r1 === r2 ? 2 : Math.max(r1, r2) >= 13 || (s.hole[me][0]![1] === s.hole[me][1]![1] && Math.abs(r1 - r2) === 1) ? 1 : 0;
    } else {
      const cat = HAND_CATEGORIES.indexOf(bestHand([...s.hole[me], ...s.board]).category);
      strength = cat >= 2 ? 2 : cat === 1 ? 1 : 0;
    }
    if (strength === 2 && raise.length) return raise[Math.min(1, raise.length - 1)]!;
    if (strength >= 1) return b.toCall > 0 ? 'call' : 'check';
    if (b.toCall === 0) return 'check';
    return b.toCall <= BIG_BLIND ? 'call' : 'fold';
  },
};
