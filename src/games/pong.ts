/**
 * Pong on a 12-column × 8-row grid, turn-based. Columns `a`…`l`, rows 1 (bottom) to 8. Seat 0's paddle is in column
 * a, seat 1's in column l; each paddle covers three rows and is named by its middle row (2..7). A round: seat 0 moves
 * its paddle (`up`, `down` or `stay`, one row), then seat 1, then the ball moves one column (dx = ±1) and dy ∈ {−1,
 * 0, +1} rows, reflecting off the top and bottom walls (row 0 ↔ row 1 mirror: y → −y, y → 2·7 − y). A ball entering a
 * paddle column where the paddle covers its row bounces back (dx reversed, and dy turned by where it hit: top row
 * +1, middle row kept, bottom row −1); otherwise the other side scores and the ball is served again from the middle
 * toward the side that lost the point, its row and dy drawn from the seed. First to 2 points wins; the turn cap is
 * adjudicated by points.
 *
 * Subproblem (GAMEBoT, Lin et al. 2025, §3.2, Pong): the row where the ball will reach your paddle column, when it is
 * moving toward you, wall bounces included; graded within a symmetric tolerance (default 0 rows).
 */
import { cellName, columnLetters, mulberry32, other, parseFromList, winFor, type Game, type GameResult, type Seat } from './types.ts';

export const PONG_W = 12;
export const PONG_H = 8;
export const PONG_POINTS = 2;

export interface PongState {
  /** Ball column 1..W−2 and row 0..H−1 (0-based), velocity. */
  ball: { x: number; y: number; dx: 1 | -1; dy: -1 | 0 | 1 };
  /** Paddle middle rows (0-based, 1..H−2). */
  paddles: [number, number];
  points: [number, number];
  turn: Seat;
  /** Serves so far (the serve draw's counter). */
  serves: number;
  seed: number;
  plies: number;
}

function reflect(y: number, dy: number): [number, number] {
  let ny = y + dy, ndy = dy;
  if (ny < 0) { ny = -ny; ndy = -ndy; }
  if (ny > PONG_H - 1) { ny = 2 * (PONG_H - 1) - ny; ndy = -ndy; }
  return [ny, ndy];
}

/**
 * The 0-based row where the ball, moving as it does now and bouncing off the walls, enters the paddle column of
 * `seat`; null when it moves away from that side.
 */
export function pongCrossingRow(s: Pick<PongState, 'ball'>, seat: Seat): number | null {
  const target = seat === 0 ? 0 : PONG_W - 1;
  if ((seat === 0 ? -1 : 1) !== s.ball.dx) return null;
  let { x, y, dy } = s.ball as { x: number; y: number; dy: number };
  while (x !== target) { x += s.ball.dx; [y, dy] = reflect(y, dy); }
  return y;
}

function serve(s: PongState, toward: Seat): PongState {
  const rand = mulberry32((s.seed * 7919 + s.serves * 104729) >>> 0);
  const y = 1 + Math.floor(rand() * (PONG_H - 2));
  const dy = ([-1, 0, 1] as const)[Math.floor(rand() * 3)]!;
  const dx = toward === 0 ? -1 : 1;
  return { ...s, ball: { x: toward === 0 ? PONG_W / 2 : PONG_W / 2 - 1, y, dx, dy }, serves: s.serves + 1 };
}

function stepBall(s: PongState): PongState {
  const { x, y, dx, dy } = s.ball;
  const nx = x + dx;
  const [ny, ndy] = reflect(y, dy);
  if (nx === 0 || nx === PONG_W - 1) {
    const seat: Seat = nx === 0 ? 0 : 1;
    const off = ny - s.paddles[seat];
    if (Math.abs(off) <= 1) {
      const bdy = Math.max(-1, Math.min(1, ndy + off)) as -1 | 0 | 1;
      return { ...s, ball: { x, y: ny, dx: (-dx) as 1 | -1, dy: bdy } };
    }
    const points: [number, number] = [s.points[0], s.points[1]];
    points[other(seat)]++;
    return serve({ ...s, points }, seat);
  }
  return { ...s, ball: { x: nx, y: ny, dx, dy: ndy as -1 | 0 | 1 } };
}

const LETTERS = columnLetters(PONG_W);

/** The turn-based Pong engine (rules and sources in the module comment). */
export const pong: Game<PongState> = {
  name: 'pong',
  title: 'Pong',
  rules: `A ${PONG_W}-column by ${PONG_H}-row court. The left player's paddle is in column a, the right player's in column l; a paddle covers three rows (its middle row and the rows above and below). Each round the left player moves its paddle up, down or stay (one row), then the right player, then the ball moves one column left or right and up to one row up or down, bouncing off the top and bottom walls. A ball reaching your column where your paddle covers its row bounces back; otherwise your opponent scores. First to ${PONG_POINTS} points wins.`,
  moveFormat: 'up, down or stay (up increases the row number)',
  perfectInformation: true,
  maxPlies: 240,
  initial(seed) {
    const s: PongState = { ball: { x: 0, y: 0, dx: 1, dy: 0 }, paddles: [PONG_H / 2, PONG_H / 2 - 1], points: [0, 0], turn: 0, serves: 0, seed: seed >>> 0, plies: 0 };
    return serve(s, (seed & 1) as Seat);
  },
  toMove: (s) => s.turn,
  legalMoves(s) {
    if (this.result(s)) return [];
    const p = s.paddles[s.turn];
    return ['stay', ...(p < PONG_H - 2 ? ['up'] : []), ...(p > 1 ? ['down'] : [])];
  },
  apply(s, move) {
    if (!this.legalMoves(s).includes(move)) throw new Error(`illegal pong move ${move}`);
    const paddles: [number, number] = [s.paddles[0], s.paddles[1]];
    paddles[s.turn] += move === 'up' ? 1 : move === 'down' ? -1 : 0;
    const t: PongState = { ...s, paddles, turn: other(s.turn), plies: s.plies + 1 };
    return s.turn === 1 ? stepBall(t) : t;
  },
  result(s): GameResult | null {
    for (const p of [0, 1] as Seat[]) if (s.points[p] >= PONG_POINTS) return winFor(p, `${s.points[0]}–${s.points[1]}`);
    return null;
  },
  adjudicate(s) {
    if (s.points[0] === s.points[1]) return { winner: null, score: [0, 0], reason: `turn cap at ${s.points[0]}–${s.points[1]}` };
    return winFor(s.points[0] > s.points[1] ? 0 : 1, `turn cap at ${s.points[0]}–${s.points[1]}`);
  },
  render(s, seat) {
    const lines = [`  ${LETTERS.join(' ')}`];
    for (let r = PONG_H - 1; r >= 0; r--) {
      const row = LETTERS.map((_, c) => {
        if (c === 0 && Math.abs(r - s.paddles[0]) <= 1) return '|';
        if (c === PONG_W - 1 && Math.abs(r - s.paddles[1]) <= 1) return '|';
        return c === s.ball.x && r === s.ball.y ? 'o' : '.';
      });
      lines.push(`${r + 1} ${row.join(' ')} ${r + 1}`);
    }
    lines.push(`  ${LETTERS.join(' ')}`);
    const dir = `${s.ball.dx > 0 ? 'right' : 'left'}${s.ball.dy > 0 ? ' and up' : s.ball.dy < 0 ? ' and down' : ''}`;
    return `${lines.join('\n')}\n| = paddles, o = ball. Row 1 is the bottom. Score: left ${s.points[0]}, right ${s.points[1]}.\nYou are the ${seat === 0 ? 'left' : 'right'} paddle (column ${seat === 0 ? 'a' : 'l'}), centred on row ${s.paddles[seat] + 1}. The ball is at ${cellName(s.ball.x, s.ball.y)} moving ${dir} (one column and ${s.ball.dy === 0 ? 'no rows' : 'one row'} per round).\n${s.turn === seat ? 'Your turn.' : 'Opponent to move.'}\nLegal moves: ${this.legalMoves(s).join(', ')}`;
  },
  parseMove(s, text) {
    const t = text.toLowerCase().replace(/\b(move|paddle)\b/g, '');
    const k = t.replace(/[^a-z]/g, '');
    const alias: Record<string, string> = { u: 'up', d: 'down', s: 'stay', none: 'stay', hold: 'stay', wait: 'stay' };
    return parseFromList(alias[k] ?? t, this.legalMoves(s), /^(up|down|stay)$/, 'up, down or stay');
  },
  subproblems(s, seat) {
    const row = pongCrossingRow(s, seat);
    if (row == null) return [];
    return [{ id: 'crossing_row', kind: 'number', question: `The ball is moving toward you. At which row (1–${PONG_H}) will it reach your paddle column (${seat === 0 ? 'a' : 'l'}), counting bounces off the top and bottom walls?`, truth: row + 1, tolerance: 0 }];
  },
  heuristic(s, seat) {
    const row = pongCrossingRow(s, seat);
    const miss = row == null ? Math.abs(s.paddles[seat] - PONG_H / 2) * 0.1 : Math.max(0, Math.abs(row - s.paddles[seat]) - 1);
    return 10 * (s.points[seat] - s.points[other(seat)]) - miss;
  },
};
