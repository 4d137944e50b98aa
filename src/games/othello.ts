/**
 * Othello (Reversi) on 8×8. Squares `a1`…`h8` (columns a–h, rows 1–8; row 1 drawn at the top, as Othello diagrams
 * do); Black (seat 0) moves first from the standard start (d4, e5 White; e4, d5 Black). A move must flank at least
 * one line of opponent discs, which flip. A side without a legal move must `pass` (its only legal move); the game
 * ends when neither side can move, and the side with more discs wins.
 *
 * Subproblems (GAMEBoT, Lin et al. 2025, §3.2, Othello): the corners available to the side to move, and wedge moves.
 * A wedge (Rose, "Othello: A Minute to Learn… A Lifetime to Master", 2005, ch. 8 "Edge play") is a legal move on an
 * edge square lying in a run of empty edge squares whose two ends, along that edge, are both opponent discs, when the
 * run's length is odd (1, 3, 5: the opponent cannot close an odd gap by parity). Every legal square of such a run
 * counts, so 3- and 5-square gaps are counted, not only single holes.
 */
import { drawResult, moveCanon, other, parseFromList, type Game, type GameResult, type Seat } from './types.ts';

/** `board[row * 8 + col]`, row 0 = row 1. */
export interface OthelloState {
  board: (Seat | null)[];
  turn: Seat;
  /** Consecutive passes so far (2 ends the game). */
  passes: number;
}

const DIRS = [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]] as const;
const MARK = ['B', 'W'] as const;
const NAMES = ['Black', 'White'] as const;

/** Square name of index `i` (`0` → `a1`). */
export function othelloSquare(i: number): string {
  return `${String.fromCharCode(97 + (i % 8))}${Math.floor(i / 8) + 1}`;
}
function indexOf(name: string): number {
  const m = /^([a-h])([1-8])$/.exec(name);
  return m ? (Number(m[2]) - 1) * 8 + m[1]!.charCodeAt(0) - 97 : -1;
}

/** Discs flipped by `seat` playing at index `i` (empty list: not a legal placement). */
export function othelloFlips(board: (Seat | null)[], seat: Seat, i: number): number[] {
  if (board[i] != null) return [];
  const out: number[] = [];
  const r0 = Math.floor(i / 8), c0 = i % 8;
  for (const [dr, dc] of DIRS) {
    const run: number[] = [];
    let r = r0 + dr, c = c0 + dc;
    while (r >= 0 && r < 8 && c >= 0 && c < 8 && board[r * 8 + c] === other(seat)) { run.push(r * 8 + c); r += dr; c += dc; }
    if (run.length && r >= 0 && r < 8 && c >= 0 && c < 8 && board[r * 8 + c] === seat) out.push(...run);
  }
  return out;
}

/** Indices where `seat` may place a disc (ignoring whose turn it is). */
export function othelloPlacements(board: (Seat | null)[], seat: Seat): number[] {
  const out: number[] = [];
  for (let i = 0; i < 64; i++) if (board[i] == null && othelloFlips(board, seat, i).length) out.push(i);
  return out;
}

const CORNERS = [0, 7, 56, 63];
/** The four edges as lists of indices in order along the edge (corners included). */
const EDGES: number[][] = [
  Array.from({ length: 8 }, (_, k) => k),
  Array.from({ length: 8 }, (_, k) => 56 + k),
  Array.from({ length: 8 }, (_, k) => k * 8),
  Array.from({ length: 8 }, (_, k) => k * 8 + 7),
];

/** Corner squares (sorted names) where `seat` may place a disc now. */
export function othelloCorners(board: (Seat | null)[], seat: Seat): string[] {
  return CORNERS.filter((i) => othelloFlips(board, seat, i).length).map(othelloSquare).sort();
}

/**
 * Wedge moves of `seat` (sorted names): legal placements on an edge square inside a run of empty edge squares of odd
 * length (1, 3, 5) bounded at both ends along the edge by opponent discs (see the module comment for the source).
 */
export function othelloWedges(board: (Seat | null)[], seat: Seat): string[] {
  const out = new Set<string>();
  const opp = other(seat);
  for (const edge of EDGES) {
    let k = 0;
    while (k < 8) {
      if (board[edge[k]!] != null) { k++; continue; }
      let e = k;
      while (e < 8 && board[edge[e]!] == null) e++;
      const len = e - k;
      if (k > 0 && e < 8 && board[edge[k - 1]!] === opp && board[edge[e]!] === opp && len % 2 === 1) {
        for (let j = k; j < e; j++) if (othelloFlips(board, seat, edge[j]!).length) out.add(othelloSquare(edge[j]!));
      }
      k = e;
    }
  }
  return [...out].sort();
}

function count(board: (Seat | null)[], seat: Seat): number {
  let n = 0;
  for (const x of board) if (x === seat) n++;
  return n;
}

function startBoard(): (Seat | null)[] {
  const b: (Seat | null)[] = Array(64).fill(null);
  b[indexOf('d4')] = 1; b[indexOf('e5')] = 1; b[indexOf('e4')] = 0; b[indexOf('d5')] = 0;
  return b;
}

/** The Othello engine (rules and sources in the module comment). */
export const othello: Game<OthelloState> = {
  name: 'othello',
  title: 'Othello',
  rules: 'An 8×8 board; Black moves first. Place a disc so that one or more straight lines (horizontal, vertical, diagonal) of opponent discs lie between it and another of your discs; those discs flip to your colour. If you have no such move you must pass. The game ends when neither player can move; more discs wins.',
  moveFormat: 'a square as column letter and row number, e.g. d3, or pass when it is the only legal move',
  perfectInformation: true,
  maxPlies: 130,
  initial: () => ({ board: startBoard(), turn: 0, passes: 0 }),
  toMove: (s) => s.turn,
  legalMoves(s) {
    if (s.passes >= 2) return [];
    const p = othelloPlacements(s.board, s.turn);
    if (p.length) return p.map(othelloSquare);
    return othelloPlacements(s.board, other(s.turn)).length ? ['pass'] : [];
  },
  apply(s, move) {
    if (move === 'pass') {
      if (!this.legalMoves(s).includes('pass')) throw new Error('pass is illegal: a placement exists or the game is over');
      return { board: s.board, turn: other(s.turn), passes: s.passes + 1 };
    }
    const i = indexOf(move);
    const flips = i < 0 ? [] : othelloFlips(s.board, s.turn, i);
    if (!flips.length) throw new Error(`illegal othello move ${move}`);
    const board = s.board.slice();
    board[i] = s.turn;
    for (const f of flips) board[f] = s.turn;
    return { board, turn: other(s.turn), passes: 0 };
  },
  result(s): GameResult | null {
    if (s.passes < 2 && (othelloPlacements(s.board, s.turn).length || othelloPlacements(s.board, other(s.turn)).length)) return null;
    const b = count(s.board, 0), w = count(s.board, 1);
    if (b === w) return drawResult(`${b}–${w}`);
    return b > w ? { winner: 0, score: [1, -1], reason: `${b}–${w} discs` } : { winner: 1, score: [-1, 1], reason: `${b}–${w} discs` };
  },
  adjudicate(s) {
    const b = count(s.board, 0), w = count(s.board, 1);
    return b === w ? drawResult('turn cap, equal discs') : { winner: b > w ? 0 : 1, score: b > w ? [1, -1] : [-1, 1], reason: `turn cap, ${b}–${w} discs` };
  },
  render(s, seat) {
    const lines = ['  a b c d e f g h'];
    for (let r = 0; r < 8; r++) lines.push(`${r + 1} ${Array.from({ length: 8 }, (_, c) => { const v = s.board[r * 8 + c]; return v == null ? '.' : MARK[v]; }).join(' ')} ${r + 1}`);
    lines.push('  a b c d e f g h');
    return `${lines.join('\n')}\nB = Black, W = White; row 1 is the top row. Discs: Black ${count(s.board, 0)}, White ${count(s.board, 1)}.\nYou play ${NAMES[seat]}. ${NAMES[s.turn]} to move.\nLegal moves: ${this.legalMoves(s).join(', ')}`;
  },
  parseMove(s, text) {
    return parseFromList(text, this.legalMoves(s), /^([a-z]\d+|pass)$/, 'a square such as d3 or pass');
  },
  subproblems(s, seat) {
    const canon = moveCanon(othello, s);
    return [
      { id: 'corners', kind: 'set', canon, question: 'Which corner squares (a1, h1, a8, h8) can you take with a legal move now? (list, or "none")', truth: othelloCorners(s.board, seat) },
      { id: 'wedges', kind: 'set', canon, question: 'Which of your legal moves are wedges: a move on an edge square inside a gap of an odd number (1, 3 or 5) of empty edge squares that has an opponent disc at both ends along that edge? (list all, or "none")', truth: othelloWedges(s.board, seat) },
    ];
  },
  heuristic(s, seat) {
    // Disc difference, mobility and corners (a simple positional evaluation).
    const opp = other(seat);
    let v = count(s.board, seat) - count(s.board, opp);
    v += 3 * (othelloPlacements(s.board, seat).length - othelloPlacements(s.board, opp).length);
    for (const c of CORNERS) v += s.board[c] === seat ? 25 : s.board[c] === opp ? -25 : 0;
    return v;
  },
};
