/**
 * Surround (the Atari 2600 game; the light-cycle game of Tron) on a 10×10 grid, turn-based: players alternate, each
 * moving its head one cell `up`, `down`, `left` or `right` and leaving a wall behind. Moving off the grid or onto
 * any wall or head crashes and loses. Seat 0 (A) starts at c5, seat 1 (B) at h6, and A moves first. Reaching the turn
 * cap is a draw.
 *
 * Subproblems (GAMEBoT, Lin et al. 2025, §3.2, Surround): the safe moves (those that do not crash at once), and the
 * moves that keep the most room: the safe moves whose region reachable from the new head (4-connected flood fill
 * over empty cells, the new head's own cell not counted) is largest.
 */
import { cellName, moveCanon, other, parseFromList, renderGrid, winFor, type Game, type GameResult, type Seat } from './types.ts';

export const SURROUND_SIZE = 10;
/** Moves as (column, row) steps; up increases the row number. */
export const DIRECTIONS = { up: [0, 1], down: [0, -1], left: [-1, 0], right: [1, 0] } as const;
export type Direction = keyof typeof DIRECTIONS;
const DIRS = Object.keys(DIRECTIONS) as Direction[];

export interface SurroundState {
  size: number;
  /** `walls[row * size + col]`: 0 empty, 1 wall of A, 2 wall of B (heads included). */
  walls: number[];
  heads: [[number, number], [number, number]];
  turn: Seat;
  crashed: Seat | null;
  plies: number;
}

function free(s: SurroundState, c: number, r: number): boolean {
  return c >= 0 && r >= 0 && c < s.size && r < s.size && s.walls[r * s.size + c] === 0;
}

/** Cells reachable from (c, r) through empty cells, 4-connected, the start cell not counted. */
export function floodFill(s: SurroundState, c: number, r: number): number {
  const seen = new Uint8Array(s.size * s.size);
  seen[r * s.size + c] = 1;
  const stack: [number, number][] = [[c, r]];
  let n = 0;
  while (stack.length) {
    const [x, y] = stack.pop()!;
    for (const d of DIRS) {
      const nx = x + DIRECTIONS[d][0], ny = y + DIRECTIONS[d][1];
      if (!free(s, nx, ny) || seen[ny * s.size + nx]) continue;
      seen[ny * s.size + nx] = 1;
      n++;
      stack.push([nx, ny]);
    }
  }
  return n;
}

/** Safe moves of `seat` (sorted): directions whose target cell is on the grid and empty. */
export function surroundSafeMoves(s: SurroundState, seat: Seat): Direction[] {
  const [c, r] = s.heads[seat];
  return DIRS.filter((d) => free(s, c + DIRECTIONS[d][0], r + DIRECTIONS[d][1])).sort();
}

/** The safe moves of `seat` whose flood-filled region from the new head is largest (sorted; empty when none is safe). */
export function surroundRoomiestMoves(s: SurroundState, seat: Seat): Direction[] {
  const [c, r] = s.heads[seat];
  const safe = surroundSafeMoves(s, seat);
  // The region is counted with the new head as a wall (it will be one).
  const sizes = safe.map((d) => {
    const nc = c + DIRECTIONS[d][0], nr = r + DIRECTIONS[d][1];
    const walls = s.walls.slice();
    walls[nr * s.size + nc] = seat + 1;
    return floodFill({ ...s, walls }, nc, nr);
  });
  const best = Math.max(...sizes);
  return safe.filter((_, i) => sizes[i] === best);
}

/** The Surround engine (rules and sources in the module comment). */
export const surround: Game<SurroundState> = {
  name: 'surround',
  title: 'Surround',
  rules: `A ${SURROUND_SIZE}×${SURROUND_SIZE} grid. Players alternate moving their head one cell up, down, left or right; every cell a head has visited stays a wall. Moving off the grid or into any wall or head crashes and loses. Survive longer than your opponent.`,
  moveFormat: 'a direction: up, down, left or right (up increases the row number)',
  perfectInformation: true,
  maxPlies: 200,
  initial() {
    const size = SURROUND_SIZE;
    const walls = Array(size * size).fill(0);
    const heads: [[number, number], [number, number]] = [[2, 4], [7, 5]];
    walls[4 * size + 2] = 1;
    walls[5 * size + 7] = 2;
    return { size, walls, heads, turn: 0, crashed: null, plies: 0 };
  },
  toMove: (s) => s.turn,
  legalMoves(s) {
    return this.result(s) ? [] : DIRS.slice();
  },
  apply(s, move) {
    if (!(move in DIRECTIONS) || this.result(s)) throw new Error(`illegal surround move ${move}`);
    const [c, r] = s.heads[s.turn];
    const nc = c + DIRECTIONS[move as Direction][0], nr = r + DIRECTIONS[move as Direction][1];
    if (!free(s, nc, nr)) return { ...s, crashed: s.turn, plies: s.plies + 1 };
    const walls = s.walls.slice();
    walls[nr * s.size + nc] = s.turn + 1;
    const heads = [s.heads[0], s.heads[1]] as SurroundState['heads'];
    heads[s.turn] = [nc, nr];
    return { ...s, walls, heads, turn: other(s.turn), plies: s.plies + 1 };
  },
  result(s): GameResult | null {
    if (s.crashed != null) return winFor(other(s.crashed), `${'AB'[s.crashed]} crashed`);
    return null;
  },
  render(s, seat) {
    const grid = renderGrid(s.size, s.size, (c, r) => {
      for (const p of [0, 1] as Seat[]) if (s.heads[p][0] === c && s.heads[p][1] === r) return 'AB'[p]!;
      const w = s.walls[r * s.size + c];
      return w === 0 ? '.' : w === 1 ? 'a' : 'b';
    });
    const h = s.heads[seat];
    return `${grid}\nA, B = heads; a, b = their walls; . = empty. Row 1 is the bottom; up increases the row number.\nYou are ${'AB'[seat]} at ${cellName(h[0], h[1])}; the opponent is at ${cellName(s.heads[other(seat)][0], s.heads[other(seat)][1])}. ${s.turn === seat ? 'Your turn.' : 'Opponent to move.'}\nLegal moves: ${this.legalMoves(s).join(', ')}`;
  },
  parseMove(s, text) {
    const t = text.toLowerCase().replace(/\b(move|go)\b/g, '').trim();
    const one = { u: 'up', d: 'down', l: 'left', r: 'right', north: 'up', south: 'down', west: 'left', east: 'right' } as Record<string, string>;
    const k = t.replace(/[^a-z]/g, '');
    return parseFromList(one[k] ?? t, this.legalMoves(s), /^[a-z]+$/, 'up, down, left or right');
  },
  subproblems(s, seat) {
    const canon = moveCanon(surround, s);
    return [
      { id: 'safe_moves', kind: 'set', canon, question: 'Which directions can you move without crashing immediately (off the grid, into a wall or a head)? (list, or "none")', truth: surroundSafeMoves(s, seat) },
      { id: 'roomiest_moves', kind: 'set', canon, question: 'Of the safe directions, which lead to the largest region of empty cells reachable from your new position (count by flood fill)? (list the ties, or "none")', truth: surroundRoomiestMoves(s, seat) },
    ];
  },
  heuristic(s, seat) {
    const [a, b] = [s.heads[seat], s.heads[other(seat)]];
    return floodFill(s, a[0], a[1]) - floodFill(s, b[0], b[1]) + 0.1 * surroundSafeMoves(s, seat).length;
  },
};
