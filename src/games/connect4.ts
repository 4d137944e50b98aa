/**
 * Connect Four on the standard 6-row × 7-column board. Columns `a`…`g`, rows 1 (bottom) to 6; a move names a column
 * and the disc falls to its lowest empty cell. Seat 0 (X) moves first; four in a row (horizontal, vertical,
 * diagonal) wins; a full board is a draw. Subproblems (GAMEBoT, Lin et al. 2025, §3.2, Connect4): own and opponent's
 * immediate winning columns and forced blocks.
 */
import { columnLetters, drawResult, moveCanon, other, parseFromList, renderGrid, winFor, type Game, type GameResult, type Seat } from './types.ts';
import { threatSubproblems } from './tictactoe.ts';

export const C4_ROWS = 6;
export const C4_COLS = 7;

/** A Connect Four state: `board[row * 7 + col]` (row 0 at the bottom) is a seat or null; `last` the last cell played. */
export interface Connect4State {
  board: (Seat | null)[];
  turn: Seat;
  last: number | null;
  plies: number;
}

const LETTERS = columnLetters(C4_COLS);
const MARK = ['X', 'O'] as const;

function fourThrough(board: (Seat | null)[], idx: number): boolean {
  const who = board[idx];
  if (who == null) return false;
  const r0 = Math.floor(idx / C4_COLS);
  const c0 = idx % C4_COLS;
  for (const [dr, dc] of [[0, 1], [1, 0], [1, 1], [1, -1]] as const) {
    let n = 1;
    for (const sgn of [1, -1]) {
      let r = r0 + sgn * dr;
      let c = c0 + sgn * dc;
      while (r >= 0 && r < C4_ROWS && c >= 0 && c < C4_COLS && board[r * C4_COLS + c] === who) { n++; r += sgn * dr; c += sgn * dc; }
    }
    if (n >= 4) return true;
  }
  return false;
}

function dropRow(board: (Seat | null)[], col: number): number {
  for (let r = 0; r < C4_ROWS; r++) if (board[r * C4_COLS + col] == null) return r;
  return -1;
}

/** Columns (letters, sorted) where `seat` connects four by dropping a disc now, whoever is to move. */
export function c4WinningColumns(s: Connect4State, seat: Seat): string[] {
  const out: string[] = [];
  for (let c = 0; c < C4_COLS; c++) {
    const r = dropRow(s.board, c);
    if (r < 0) continue;
    const b = s.board.slice();
    b[r * C4_COLS + c] = seat;
    if (fourThrough(b, r * C4_COLS + c)) out.push(LETTERS[c]!);
  }
  return out;
}

/** The Connect Four engine (rules and sources in the module comment). */
export const connect4: Game<Connect4State> = {
  name: 'connect4',
  title: 'Connect Four',
  rules: 'A 6-row by 7-column upright board. Players alternately drop a disc into a column (X first); it falls to the lowest empty cell of that column. Four of your discs in a line (horizontal, vertical or diagonal) wins; a full board is a draw.',
  moveFormat: 'a column letter a–g, e.g. d',
  perfectInformation: true,
  maxPlies: 42,
  initial: () => ({ board: Array(C4_ROWS * C4_COLS).fill(null), turn: 0, last: null, plies: 0 }),
  toMove: (s) => s.turn,
  legalMoves(s) {
    if (this.result(s)) return [];
    return LETTERS.filter((_, c) => s.board[(C4_ROWS - 1) * C4_COLS + c] == null);
  },
  apply(s, move) {
    const c = LETTERS.indexOf(move);
    const r = c < 0 ? -1 : dropRow(s.board, c);
    if (r < 0 || this.result(s)) throw new Error(`illegal connect four move ${move}`);
    const board = s.board.slice();
    board[r * C4_COLS + c] = s.turn;
    return { board, turn: other(s.turn), last: r * C4_COLS + c, plies: s.plies + 1 };
  },
  result(s): GameResult | null {
    if (s.last != null && fourThrough(s.board, s.last)) return winFor(s.board[s.last]!, 'four in a row');
    if (s.plies >= C4_ROWS * C4_COLS) return drawResult('board full');
    return null;
  },
  render(s, seat) {
    const grid = renderGrid(C4_COLS, C4_ROWS, (c, r) => { const v = s.board[r * C4_COLS + c]; return v == null ? '.' : MARK[v]; });
    return `${grid}\nRow 1 is the bottom. You play ${MARK[seat]}. ${MARK[s.turn]} to move.\nLegal moves (columns): ${this.legalMoves(s).join(', ')}`;
  },
  parseMove(s, text) {
    // "column d", "d4" (a cell in column d) and "4" (1-based column number) are read as the column too.
    let t = text.trim().toLowerCase().replace(/^column\s*/, '');
    const num = /^\s*[[(]?\s*([1-7])\s*[\])]?\s*\.?$/.exec(t);
    if (num) t = LETTERS[Number(num[1]) - 1]!;
    const cell = /^\s*[[(]?\s*([a-z])\s*\d\s*[\])]?\s*\.?$/.exec(t);
    if (cell) t = cell[1]!;
    return parseFromList(t, this.legalMoves(s), /^[a-z]$/, 'a column letter');
  },
  subproblems(s, seat) {
    return threatSubproblems(c4WinningColumns(s, seat), c4WinningColumns(s, other(seat)), 'columns', moveCanon(connect4, s));
  },
  heuristic(s, seat) {
    // Open windows of four, weighted by the square of the discs in them; centre column bonus.
    let v = 0;
    const b = s.board;
    for (let r = 0; r < C4_ROWS; r++) for (let c = 0; c < C4_COLS; c++) {
      for (const [dr, dc] of [[0, 1], [1, 0], [1, 1], [1, -1]] as const) {
        const er = r + 3 * dr, ec = c + 3 * dc;
        if (er < 0 || er >= C4_ROWS || ec < 0 || ec >= C4_COLS) continue;
        let mine = 0, theirs = 0;
        for (let k = 0; k < 4; k++) { const x = b[(r + k * dr) * C4_COLS + c + k * dc]; if (x === seat) mine++; else if (x != null) theirs++; }
        if (!theirs) v += mine * mine;
        if (!mine) v -= theirs * theirs;
      }
    }
    for (let r = 0; r < C4_ROWS; r++) { const x = b[r * C4_COLS + 3]; if (x === seat) v += 2; else if (x != null) v -= 2; }
    return v;
  },
};
