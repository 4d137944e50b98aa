/**
 * Tic-Tac-Toe on a 3×3 grid. Cells `a1`…`c3` (column letter, row number, row 1 at the bottom); X (seat 0) moves
 * first; three in a row wins; a full board is a draw. Subproblems after GAMEBoT (Lin et al. 2025, §3.2, Tic-Tac-Toe):
 * own immediate winning cells, the opponent's, and the forced blocks.
 */
import { cellName, drawResult, moveCanon, other, parseFromList, renderGrid, winFor, type Game, type GameResult, type Seat, type Subproblem } from './types.ts';

/** A Tic-Tac-Toe state: `board[row * 3 + col]` is 0 (X), 1 (O) or null. */
export interface TicTacToeState {
  board: (Seat | null)[];
  turn: Seat;
}

const LINES = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]] as const;
const MARK = ['X', 'O'] as const;

function lineWinner(board: (Seat | null)[]): Seat | null {
  for (const [a, b, c] of LINES) if (board[a] != null && board[a] === board[b] && board[a] === board[c]) return board[a]!;
  return null;
}

/**
 * Cells where `seat` completes three in a row by playing now (whoever is to move: used for both sides).
 * @returns canonical cell names, sorted
 */
export function tttWinningCells(s: TicTacToeState, seat: Seat): string[] {
  const out: string[] = [];
  for (let i = 0; i < 9; i++) {
    if (s.board[i] != null) continue;
    const b = s.board.slice();
    b[i] = seat;
    if (lineWinner(b) === seat) out.push(cellName(i % 3, Math.floor(i / 3)));
  }
  return out.sort();
}

/**
 * Immediate-threat subproblems shared by the connection games: own winning moves, the opponent's winning moves,
 * and forced blocks (the opponent's winning moves when the side to move has no win of its own, else none). Each is a
 * "list all" question (several cells may win or need blocking), graded as a set; `canon` reads an answered token as
 * the move it names (see `moveCanon`).
 */
export function threatSubproblems(own: string[], opp: string[], what: string, canon?: (token: string) => string): Subproblem[] {
  return [
    { id: 'own_wins', kind: 'set', canon, question: `Which ${what} would win the game for you immediately? (list all, or "none")`, truth: own },
    { id: 'opponent_wins', kind: 'set', canon, question: `Which ${what} would win the game for your opponent on their next move if you did not occupy it? (list all, or "none")`, truth: opp },
    { id: 'forced_blocks', kind: 'set', canon, question: `If you cannot win now, which ${what} would you have to occupy to stop every immediate opponent win? (list all — when the opponent has two winning ${what}, both — or "none" when you can win now or nothing must be blocked)`, truth: own.length ? [] : opp },
  ];
}

/** The Tic-Tac-Toe engine (rules and sources in the module comment). */
export const ticTacToe: Game<TicTacToeState> = {
  name: 'tictactoe',
  title: 'Tic-Tac-Toe',
  rules: 'Two players take turns placing their mark (X moves first, then O) on an empty cell of a 3×3 grid. Three of your marks in a row, column or diagonal wins; a full grid without three in a row is a draw.',
  moveFormat: 'a cell as column letter and row number, e.g. b2',
  perfectInformation: true,
  maxPlies: 9,
  initial: () => ({ board: Array(9).fill(null), turn: 0 }),
  toMove: (s) => s.turn,
  legalMoves(s) {
    if (this.result(s)) return [];
    const out: string[] = [];
    for (let i = 0; i < 9; i++) if (s.board[i] == null) out.push(cellName(i % 3, Math.floor(i / 3)));
    return out;
  },
  apply(s, move) {
    const m = /^([a-c])([1-3])$/.exec(move);
    const i = m ? (Number(m[2]) - 1) * 3 + (m[1]!.charCodeAt(0) - 97) : -1;
    if (i < 0 || s.board[i] != null || this.result(s)) throw new Error(`illegal tic-tac-toe move ${move}`);
    const board = s.board.slice();
    board[i] = s.turn;
    return { board, turn: other(s.turn) };
  },
  result(s): GameResult | null {
    const w = lineWinner(s.board);
    if (w != null) return winFor(w, 'three in a row');
    if (s.board.every((c) => c != null)) return drawResult('board full');
    return null;
  },
  render(s, seat) {
    const grid = renderGrid(3, 3, (c, r) => { const v = s.board[r * 3 + c]; return v == null ? '.' : MARK[v]; });
    return `${grid}\nYou play ${MARK[seat]}. ${MARK[s.turn]} to move.\nLegal moves: ${this.legalMoves(s).join(', ')}`;
  },
  parseMove(s, text) {
    return parseFromList(text, this.legalMoves(s), /^[a-z]\d+$/, 'a cell such as b2');
  },
  subproblems(s, seat) {
    return threatSubproblems(tttWinningCells(s, seat), tttWinningCells(s, other(seat)), 'cells', moveCanon(ticTacToe, s));
  },
  heuristic(s, seat) {
    let v = 0;
    for (const line of LINES) {
      const mine = line.filter((i) => s.board[i] === seat).length;
      const theirs = line.filter((i) => s.board[i] === other(seat)).length;
      if (!theirs) v += mine * mine;
      if (!mine) v -= theirs * theirs;
    }
    return v;
  },
};
