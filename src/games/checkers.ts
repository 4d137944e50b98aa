/**
 * Checkers (English draughts) on 8×8, following the rules of the English Draughts Association / ACF: the dark
 * squares are played (`a1` is dark); Black (seat 0) starts on rows 1–3 and moves first, up the board; White on rows
 * 6–8. Men move one square diagonally forward, kings one square in any diagonal direction (no flying kings).
 * Captures are compulsory (any capturing sequence may be chosen, not necessarily the longest), a capturing piece
 * must keep jumping while it can, and a man reaching the far row is crowned and its move ends there. A side with no
 * legal move loses. Draw rule: 80 plies (40 moves each) without a capture or a man's move.
 *
 * Notation: `b2-c3` for a step, `c3xe5` and `c3xe5xg7` for captures (squares named column letter + row number,
 * never with a space inside).
 *
 * Subproblems (GAMEBoT, Lin et al. 2025, §3.2, Checkers): king-making moves, and moves that hand the opponent a free
 * capture. A move hands a free capture when, after it, the opponent has a capture and, over the opponent's best
 * capture and your best capture in reply (a two-ply exchange counted in pieces), you lose material: so a two-for-one
 * shot (you give one piece and take two back) is not a free capture.
 */
import { drawResult, moveCanon, other, parseFromList, type Game, type GameResult, type Seat } from './types.ts';

/** 0 empty, 1 Black man, 2 Black king, 3 White man, 4 White king; `board[row * 8 + col]`, row 0 = row 1. */
export interface CheckersState {
  board: number[];
  turn: Seat;
  /** Plies since the last capture or man move (the draw rule). */
  quiet: number;
  plies: number;
}

/** Plies without a capture or a man move that make a draw (40 moves each side). */
export const CHECKERS_DRAW_PLIES = 80;

const owner = (p: number): Seat | null => (p === 0 ? null : p <= 2 ? 0 : 1);
const isKing = (p: number) => p === 2 || p === 4;
const sq = (i: number) => `${String.fromCharCode(97 + (i % 8))}${Math.floor(i / 8) + 1}`;
function idx(name: string): number {
  const m = /^([a-h])([1-8])$/.exec(name);
  return m ? (Number(m[2]) - 1) * 8 + m[1]!.charCodeAt(0) - 97 : -1;
}

function dirsOf(p: number): [number, number][] {
  if (isKing(p)) return [[1, 1], [1, -1], [-1, 1], [-1, -1]];
  return owner(p) === 0 ? [[1, 1], [1, -1]] : [[-1, 1], [-1, -1]];
}

/** All capture sequences of `seat` as square paths (each a list of indices: start, landing, landing…). */
function jumpPaths(board: number[], seat: Seat): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < 64; i++) {
    const p = board[i]!;
    if (owner(p) !== seat) continue;
    const b = board.slice();
    b[i] = 0;
    const rec = (pos: number, path: number[], taken: Set<number>) => {
      let extended = false;
      const r = Math.floor(pos / 8), c = pos % 8;
      for (const [dr, dc] of dirsOf(p)) {
        const mr = r + dr, mc = c + dc, lr = r + 2 * dr, lc = c + 2 * dc;
        if (lr < 0 || lr > 7 || lc < 0 || lc > 7) continue;
        const mid = mr * 8 + mc, land = lr * 8 + lc;
        if (owner(b[mid]!) !== other(seat) || taken.has(mid) || b[land] !== 0) continue;
        extended = true;
        const crowned = !isKing(p) && (seat === 0 ? lr === 7 : lr === 0);
        const t2 = new Set(taken).add(mid);
        if (crowned) out.push([...path, land]);
        else rec(land, [...path, land], t2);
      }
      if (!extended && path.length > 1) out.push(path);
    };
    rec(i, [i], new Set());
  }
  return out;
}

/** Legal moves of `seat` in canonical notation (captures only when one exists). */
export function checkersMoves(board: number[], seat: Seat): string[] {
  const jumps = jumpPaths(board, seat);
  if (jumps.length) return jumps.map((p) => p.map(sq).join('x'));
  const out: string[] = [];
  for (let i = 0; i < 64; i++) {
    const p = board[i]!;
    if (owner(p) !== seat) continue;
    const r = Math.floor(i / 8), c = i % 8;
    for (const [dr, dc] of dirsOf(p)) {
      const nr = r + dr, nc = c + dc;
      if (nr >= 0 && nr < 8 && nc >= 0 && nc < 8 && board[nr * 8 + nc] === 0) out.push(`${sq(i)}-${sq(nr * 8 + nc)}`);
    }
  }
  return out;
}

/** Pieces a canonical move captures (the number of `x` in it). */
export function capturedBy(move: string): number {
  return (move.match(/x/g) ?? []).length;
}

function startBoard(): number[] {
  const b = Array(64).fill(0);
  for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) if ((r + c) % 2 === 0) { if (r <= 2) b[r * 8 + c] = 1; else if (r >= 5) b[r * 8 + c] = 3; }
  return b;
}

/** King-making moves of the side to move (sorted): moves whose man ends on the far row. */
export function checkersKingMoves(s: CheckersState): string[] {
  return checkersMoves(s.board, s.turn).filter((m) => {
    const parts = m.split(/[-x]/);
    const from = idx(parts[0]!), to = idx(parts[parts.length - 1]!);
    return !isKing(s.board[from]!) && Math.floor(to / 8) === (s.turn === 0 ? 7 : 0);
  }).sort();
}

/**
 * Moves of the side to move that hand the opponent a free capture (sorted), by the two-ply exchange of the module
 * comment: after the move the opponent must have a capture, and min over its captures of (your best capture in
 * reply − pieces it took) is negative.
 */
export function checkersFreeCaptureMoves(s: CheckersState): string[] {
  const me = s.turn;
  const out: string[] = [];
  for (const m of checkersMoves(s.board, me)) {
    const s1 = checkers.apply(s, m);
    if (checkers.result(s1)) continue;
    const replies = checkersMoves(s1.board, other(me));
    if (!replies.some((o) => capturedBy(o) > 0)) continue;
    let worst = Infinity;
    for (const o of replies) {
      const s2 = checkers.apply(s1, o);
      let back = 0;
      if (!checkers.result(s2)) for (const r of checkersMoves(s2.board, me)) back = Math.max(back, capturedBy(r));
      worst = Math.min(worst, back - capturedBy(o));
    }
    if (worst < 0) out.push(m);
  }
  return out.sort();
}

const GLYPH = ['.', 'b', 'B', 'w', 'W'];
const NAMES = ['Black', 'White'] as const;

/** Build a state from a picture (rows 8 to 1, top first; `b`/`B` Black man/king, `w`/`W` White, `.` or space empty). */
export function checkersFromRows(rows: string[], turn: Seat, quiet = 0): CheckersState {
  const board = Array(64).fill(0);
  rows.forEach((line, k) => {
    const r = 7 - k;
    [...line.replace(/\s/g, '')].forEach((ch, c) => { const v = GLYPH.indexOf(ch); if (v > 0) board[r * 8 + c] = v; });
  });
  return { board, turn, quiet, plies: 0 };
}

/** The checkers engine (rules and sources in the module comment). */
export const checkers: Game<CheckersState> = {
  name: 'checkers',
  title: 'Checkers',
  rules: 'English draughts on the dark squares of an 8×8 board; Black (b) starts on rows 1–3 and moves first, up the board; White (w) moves down. Men move one square diagonally forward; kings (B, W) one square diagonally in any direction. Jump an adjacent enemy piece to the empty square beyond to capture it; capturing is compulsory and a piece must keep jumping while it can. A man reaching the far row becomes a king and its move ends. You lose when you have no legal move. 40 moves each without a capture or a man move is a draw.',
  moveFormat: 'from-to for a step, e.g. c3-d4; from x landing squares for captures, e.g. c3xe5 or c3xe5xg7',
  perfectInformation: true,
  maxPlies: 200,
  initial: () => ({ board: startBoard(), turn: 0, quiet: 0, plies: 0 }),
  toMove: (s) => s.turn,
  legalMoves(s) {
    return s.quiet >= CHECKERS_DRAW_PLIES ? [] : checkersMoves(s.board, s.turn);
  },
  apply(s, move) {
    if (s.quiet >= CHECKERS_DRAW_PLIES || !checkersMoves(s.board, s.turn).includes(move)) throw new Error(`illegal checkers move ${move}`);
    const path = move.split(/[-x]/).map(idx);
    const board = s.board.slice();
    const from = path[0]!;
    let piece = board[from]!;
    const wasMan = !isKing(piece);
    board[from] = 0;
    if (move.includes('x')) for (let k = 1; k < path.length; k++) board[(path[k - 1]! + path[k]!) / 2] = 0;
    const to = path[path.length - 1]!;
    if (!isKing(piece) && Math.floor(to / 8) === (s.turn === 0 ? 7 : 0)) piece += 1;
    board[to] = piece;
    const quiet = wasMan || move.includes('x') ? 0 : s.quiet + 1;
    return { board, turn: other(s.turn), quiet, plies: s.plies + 1 };
  },
  result(s): GameResult | null {
    if (!checkersMoves(s.board, s.turn).length) return { winner: other(s.turn), score: s.turn === 0 ? [-1, 1] : [1, -1], reason: `${NAMES[s.turn]} has no legal move` };
    if (s.quiet >= CHECKERS_DRAW_PLIES) return drawResult('40 moves each without a capture or a man move');
    return null;
  },
  render(s, seat) {
    const lines = ['  a b c d e f g h'];
    for (let r = 7; r >= 0; r--) lines.push(`${r + 1} ${Array.from({ length: 8 }, (_, c) => ((r + c) % 2 === 0 ? GLYPH[s.board[r * 8 + c]!]! : ' ')).join(' ')} ${r + 1}`);
    lines.push('  a b c d e f g h');
    return `${lines.join('\n')}\nb/B = Black man/king, w/W = White man/king, . = empty dark square. You play ${NAMES[seat]} (${seat === 0 ? 'moving up' : 'moving down'}). ${NAMES[s.turn]} to move.\nLegal moves: ${this.legalMoves(s).join(', ')}`;
  },
  parseMove(s, text) {
    // "c3 x e5", "C3-D4", "(c3,d4)", "c3 to d4" all read; a step written with x or a capture with - too.
    let t = text.toLowerCase().replace(/\bto\b/g, '-').replace(/[,>]/g, '-').replace(/–/g, '-');
    const legal = this.legalMoves(s);
    const loose = (m: string) => m.replace(/[-x]/g, '');
    const bare = t.replace(/[^a-h1-8]/g, '');
    const hit = legal.find((m) => loose(m) === bare);
    if (hit && /^[\s"'`*()[\]{}<>a-h1-8x-]*\.?$/.test(t)) t = hit;
    else if (/^[a-h][1-8][a-h][1-8]$/.test(bare) && /^[\s"'`*()[\]{}<>a-h1-8x-]*\.?$/.test(t)) {
      // A multi-jump written from its start to its end square only (`c3xg7`, the short form of `c3xe5xg7`): the
      // capture path with those ends, when exactly one legal path has them; two paths with the same ends (different
      // pieces taken) cannot be told apart, and the reply is illegal with the paths named.
      const ends = legal.filter((m) => m.includes('x') && m.slice(0, 2) === bare.slice(0, 2) && m.slice(-2) === bare.slice(2));
      if (ends.length === 1) return { kind: 'move', move: ends[0]! };
      if (ends.length > 1) return { kind: 'illegal', move: `${bare.slice(0, 2)}x${bare.slice(2)}`, reason: `${bare.slice(0, 2)}x${bare.slice(2)} is ambiguous: write the whole path (${[...ends].sort().join(' or ')})` };
    }
    return parseFromList(t, legal, /^([a-h][1-8]){2,}$|^[a-z]\d+([-x][a-z]\d+)+$/, 'a move such as c3-d4 or c3xe5');
  },
  subproblems(s) {
    const canon = moveCanon(checkers, s);
    return [
      { id: 'king_moves', kind: 'set', canon, question: 'Which of your legal moves make a king (a man ending its move on the far row)? (list all, or "none")', truth: checkersKingMoves(s) },
      { id: 'free_capture_moves', kind: 'set', canon, question: 'Which of your legal moves hand the opponent a free capture: after it the opponent can capture and you lose material even after your best recapture (a two-for-one shot, where you then capture more than you lost, is not one)? (list all, or "none")', truth: checkersFreeCaptureMoves(s) },
    ];
  },
  heuristic(s, seat) {
    let v = 0;
    for (let i = 0; i < 64; i++) {
      const p = s.board[i]!;
      if (!p) continue;
      const r = Math.floor(i / 8);
      const val = isKing(p) ? 1.5 : 1 + 0.05 * (owner(p) === 0 ? r : 7 - r);
      v += owner(p) === seat ? val : -val;
    }
    // Pieces hanging: the side to move's best capture now (a one-ply quiescence term).
    let best = 0;
    for (const m of checkersMoves(s.board, s.turn)) best = Math.max(best, capturedBy(m));
    return v + (s.turn === seat ? 0.9 : -0.9) * best;
  },
};
