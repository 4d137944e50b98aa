/** Position builders shared by the game tests. */
import type { OthelloState, Seat, TicTacToeState } from '../../src/games/index.ts';

/** Tic-tac-toe board from rows 3, 2, 1 (top first): X, O, '.'. */
export function ttt(rows: string[], turn: Seat): TicTacToeState {
  const board: (Seat | null)[] = Array(9).fill(null);
  rows.forEach((line, k) => [...line].forEach((ch, c) => { if (ch !== '.') board[(2 - k) * 3 + c] = ch === 'X' ? 0 : 1; }));
  return { board, turn };
}

/** Othello board from rows 1..8 (top first, as drawn): B, W, '.'. */
export function oth(rows: string[], turn: Seat): OthelloState {
  const board: (Seat | null)[] = Array(64).fill(null);
  rows.forEach((line, r) => [...line].forEach((ch, c) => { if (ch !== '.') board[r * 8 + c] = ch === 'B' ? 0 : 1; }));
  return { board, turn, passes: 0 };
}
