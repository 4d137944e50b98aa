/**
 * The game arena's common shapes: one `Game` interface every engine implements, subproblems with rule-based ground
 * truth, tolerant move parsing and board rendering helpers.
 *
 * After GAMEBoT (Lin et al. 2025, "GAMEBoT: Transparent Assessment of LLM Reasoning in Games", §3): each move is
 * decomposed into subproblems whose answers are computed by rules, so a model's play is explained, not only scored.
 * Engines are small, pure and deterministic: every state is a plain JSON value, `apply` returns a new state, and all
 * chance (cards, a random end, a ball's serve) is drawn from the seed given to `initial`.
 */

/** A seat: 0 moves first (X, Black, the button, the left paddle…), 1 second. */
export type Seat = 0 | 1;

/** The end of a game. */
export interface GameResult {
  /** The winning seat, or null for a draw (including a split pot or an unresolved negotiation). */
  winner: Seat | null;
  /** Outcome score per seat in [−1, 1]: +1 a win, −1 a loss, 0 a draw; Hold'em: chips won / starting stack. */
  score: [number, number];
  /** Why it ended, in words (`three in a row`, `no legal move`, `40-move rule`, `turn cap`…). */
  reason: string;
}

/** What a model's move text parsed to: a legal move, a well-formed but illegal move, or no move at all. */
export type ParsedMove =
  | { kind: 'move'; move: string }
  | { kind: 'illegal'; move: string; reason: string }
  | { kind: 'format'; reason: string };

/**
 * One subproblem of a position with its rule-based answer. The truth holds every correct answer:
 * - `set` ("list all" questions): the whole set of canonical tokens (moves, cells, cards) that answer it; graded by F1
 *   against that set (both empty: 1) and exact match.
 * - `one_of` ("name one" questions, several answers equally correct): `truth` lists every correct answer, each a set
 *   of tokens (a move is a one-token set; a five-card hand five tokens); the answer is graded against the correct
 *   answer nearest to it: score = the largest F1 over them, exact when it equals one of them.
 * - `number`: graded |answer − truth| ≤ `tolerance` (symmetric: the same margin above and below; default 0).
 * - `text`: a label (e.g. a hand category), graded by equality after `normalizeToken`, with `synonyms`.
 */
export type Subproblem = {
  /** Stable id, also the answer key the model writes (upper-cased): `own_wins` → `OWN_WINS: …`. */
  id: string;
  /** The question asked in the chain-of-thought prompt (with the domain hint a player needs). */
  question: string;
  /** Canonical form of one answered token for this subproblem (default `normalizeToken`), e.g. `10h` → `th`. */
  canon?: (token: string) => string;
  /** Answer tokens may also be separated by spaces alone (cards as the game prints them: `As Kd Qh Jc Tc`). */
  spaceSeparated?: boolean;
} & (
  | { kind: 'set'; truth: string[] }
  | { kind: 'one_of'; truth: string[][] }
  | { kind: 'number'; truth: number; tolerance?: number }
  | { kind: 'text'; truth: string; synonyms?: Record<string, string> }
);

/**
 * A two-player game engine. `S` is its state: a plain JSON value, never mutated.
 * Moves are canonical strings (`b2`, `d`, `c3xe5xg7`, `propose 1,0,2`, `raise 12`); `parseMove` maps a model's text
 * to one of them tolerating case, spaces inside and around, brackets, quotes and a trailing full stop.
 */
export interface Game<S = unknown> {
  /** Registry name (`tictactoe`, `connect4`, `othello`, `checkers`, `negotiation`, `holdem`, `surround`, `pong`). */
  readonly name: string;
  readonly title: string;
  /** The rules in a few sentences (sent to the model). */
  readonly rules: string;
  /** How a move is written, with an example (sent to the model). */
  readonly moveFormat: string;
  /** True when both players see the whole state and nothing is left to chance after `initial` (search players apply). */
  readonly perfectInformation: boolean;
  /** Default turn cap in plies; a game reaching it ends by `adjudicate`, else as a draw. */
  readonly maxPlies: number;
  /** The start state; every random draw of the game comes from `seed` (32-bit integer). */
  initial(seed: number): S;
  /** Whose turn it is (undefined behaviour on a finished game). */
  toMove(s: S): Seat;
  /**
   * Legal moves of the side to move, canonical. For games with a continuum of moves (Hold'em raise sizes) a
   * representative list; `parseMove` then accepts every legal value.
   */
  legalMoves(s: S): string[];
  /** The state after `move`. Errors: Error when `move` is not legal. */
  apply(s: S, move: string): S;
  /** The result when the game is over, else null. */
  result(s: S): GameResult | null;
  /** Result at the turn cap (default: a draw). */
  adjudicate?(s: S): GameResult;
  /** The state as `seat` sees it: board with coordinates, whose turn, the legal moves (hidden information hidden). */
  render(s: S, seat: Seat): string;
  /** Parse a model's move text (see `ParsedMove`). */
  parseMove(s: S, text: string): ParsedMove;
  /** The subproblems of this position for `seat` (the side to move), with ground truth. */
  subproblems(s: S, seat: Seat): Subproblem[];
  /** Static evaluation from `seat`'s view (larger is better), for greedy and alpha–beta players. */
  heuristic?(s: S, seat: Seat): number;
  /** A rule-based move for games where search does not apply (hidden information): the greedy reference player. */
  greedy?(s: S, rand: () => number): string;
}

/** Canonical form for comparing tokens: lower case, without whitespace, brackets, quotes, `*`, a trailing `.`. */
export function normalizeToken(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\s"'`*()[\]{}<>]/g, '')
    .replace(/[.;!]+$/, '');
}

/**
 * Tolerant parse against an enumerated list of legal moves: the text normalised (`normalizeToken`) is compared to
 * each normalised legal move; when none matches, text that still looks like a move (`syntax`, tested on the
 * normalised text) is an illegal move, anything else a format error.
 */
export function parseFromList(text: string, legal: readonly string[], syntax: RegExp, describe = 'a move'): ParsedMove {
  const t = normalizeToken(text);
  if (!t) return { kind: 'format', reason: 'empty move' };
  for (const m of legal) if (normalizeToken(m) === t) return { kind: 'move', move: m };
  if (syntax.test(t)) return { kind: 'illegal', move: t, reason: `${t} is not a legal move here` };
  return { kind: 'format', reason: `"${text.trim().slice(0, 60)}" is not ${describe}` };
}

/**
 * The canonical form of a move named in a subproblem answer: the legal move `game.parseMove` reads it as (so every
 * notation the game accepts for a move — `c3d4` for `c3-d4`, `4` for column `d`, `u` for `up` — names the same
 * answer token), else the token unchanged. For subproblems whose tokens are legal moves of the side to move.
 */
export function moveCanon<S>(game: Pick<Game<S>, 'parseMove'>, s: S): (token: string) => string {
  return (token) => {
    const p = game.parseMove(s, token);
    return p.kind === 'move' ? p.move : token;
  };
}

/** Column letters a, b, c, … for `n` columns. */
export function columnLetters(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i));
}

/** A cell name: column letter and 1-based row (`c` 2, `r` 4 → `c5`), never with a space inside. */
export function cellName(col: number, row: number): string {
  return `${String.fromCharCode(97 + col)}${row + 1}`;
}

/** Parse a cell name (`c5` → { col 2, row 4 }), or null. */
export function parseCell(name: string, cols: number, rows: number): { col: number; row: number } | null {
  const m = /^([a-z])(\d{1,2})$/.exec(normalizeToken(name));
  if (!m) return null;
  const col = m[1]!.charCodeAt(0) - 97;
  const row = Number(m[2]) - 1;
  return col >= 0 && col < cols && row >= 0 && row < rows ? { col, row } : null;
}

/**
 * A grid drawn with coordinates: column letters above and below, row numbers on both sides, the highest row first.
 * `cell(col, row)` gives one character per cell.
 */
export function renderGrid(cols: number, rows: number, cell: (col: number, row: number) => string): string {
  const letters = columnLetters(cols).join(' ');
  const w = String(rows).length;
  const lines = [`${' '.repeat(w + 1)}${letters}`];
  for (let r = rows - 1; r >= 0; r--) {
    const cells = Array.from({ length: cols }, (_, c) => cell(c, r)).join(' ');
    lines.push(`${String(r + 1).padStart(w)} ${cells} ${r + 1}`);
  }
  lines.push(`${' '.repeat(w + 1)}${letters}`);
  return lines.join('\n');
}

/** A small deterministic generator from a 32-bit seed (mulberry32), for engines whose chance lives in the state. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The other seat. */
export function other(seat: Seat): Seat {
  return (1 - seat) as Seat;
}

/** The result of a win for `seat` (scores +1 / −1). */
export function winFor(seat: Seat, reason: string): GameResult {
  return { winner: seat, score: seat === 0 ? [1, -1] : [-1, 1], reason };
}
/** The result of a draw (scores 0 / 0). */
export function drawResult(reason: string): GameResult {
  return { winner: null, score: [0, 0], reason };
}
