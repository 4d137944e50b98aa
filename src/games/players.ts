/**
 * Reference players: fixed, seeded opponents that keep arena scores comparable over time (GAMEBoT, Lin et al. 2025,
 * §4, plays models against each other; fixed reference players anchor the ratings).
 *
 * - `random`: a uniformly random legal move.
 * - `greedy`: an immediate win if there is one, else the move with the best static evaluation one ply ahead
 *   (`Game.heuristic`); games with hidden information use their rule-based `Game.greedy`.
 * - `alphabeta:<d>`: depth-d alpha–beta search (Knuth & Moore 1975, "An analysis of alpha-beta pruning") over the
 *   heuristic, wins and losses scored ±1e6 (sooner wins preferred); hidden-information games fall back to greedy.
 * Ties between equally good moves are broken by the player's seeded random draw.
 */
import { InputError } from '../core/errors.ts';
import { type Game, type Seat } from './types.ts';

/** A reference player: picks a legal move for the side to move. `rand` is the match's seeded draw in [0, 1). */
export interface Player {
  readonly name: string;
  choose<S>(game: Game<S>, s: S, rand: () => number): string;
}

const WIN = 1e6;

function pick<T>(xs: readonly T[], rand: () => number): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

/** A uniformly random legal move. */
export const randomPlayer: Player = {
  name: 'random',
  choose(game, s, rand) {
    return pick(game.legalMoves(s), rand);
  },
};

function terminalValue<S>(game: Game<S>, s: S, seat: Seat, depthLeft: number): number | null {
  const r = game.result(s);
  if (!r) return null;
  return r.winner == null ? 0 : (r.winner === seat ? 1 : -1) * (WIN + depthLeft);
}

function alphabeta<S>(game: Game<S>, s: S, depth: number, alpha: number, beta: number, seat: Seat): number {
  const t = terminalValue(game, s, seat, depth);
  if (t != null) return t;
  if (depth === 0) return game.heuristic ? game.heuristic(s, seat) : 0;
  const maximizing = game.toMove(s) === seat;
  let best = maximizing ? -Infinity : Infinity;
  for (const m of game.legalMoves(s)) {
    const v = alphabeta(game, game.apply(s, m), depth - 1, alpha, beta, seat);
    if (maximizing) { best = Math.max(best, v); alpha = Math.max(alpha, v); }
    else { best = Math.min(best, v); beta = Math.min(beta, v); }
    if (beta <= alpha) break;
  }
  return best;
}

/** Search `depth` plies and return the best move (ties broken by `rand`). */
function searchMove<S>(game: Game<S>, s: S, depth: number, rand: () => number): string {
  const seat = game.toMove(s);
  const moves = game.legalMoves(s);
  let best = -Infinity;
  let bestMoves: string[] = [];
  for (const m of moves) {
    const v = alphabeta(game, game.apply(s, m), depth - 1, -Infinity, Infinity, seat);
    if (v > best + 1e-9) { best = v; bestMoves = [m]; }
    else if (Math.abs(v - best) <= 1e-9) bestMoves.push(m);
  }
  return pick(bestMoves, rand);
}

/** One ply ahead: a win if there is one, else the best heuristic value; hidden-information games: `Game.greedy`. */
export const greedyPlayer: Player = {
  name: 'greedy',
  choose(game, s, rand) {
    if (!game.perfectInformation || !game.heuristic) return game.greedy ? game.greedy(s, rand) : randomPlayer.choose(game, s, rand);
    return searchMove(game, s, 1, rand);
  },
};

/** Deepest alpha–beta search a reference player may use. */
export const MAX_ALPHABETA_DEPTH = 8;

/** Reference player names, as error messages list them. */
export const REFERENCE_PLAYERS = `random, greedy, alphabeta:<d> (d = 1..${MAX_ALPHABETA_DEPTH}; alphabeta alone is depth 3)`;

/** Depth-`depth` alpha–beta search (`depth` ≥ 1). Errors: InputError (field `opponent`) for a depth outside 1..8. */
export function alphaBetaPlayer(depth: number): Player {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_ALPHABETA_DEPTH) throw new InputError(`alpha–beta depth must be an integer from 1 to ${MAX_ALPHABETA_DEPTH} (got ${depth})`, { field: 'opponent' });
  return {
    name: `alphabeta:${depth}`,
    choose(game, s, rand) {
      if (!game.perfectInformation || !game.heuristic) return greedyPlayer.choose(game, s, rand);
      return searchMove(game, s, depth, rand);
    },
  };
}

/**
 * A reference player by name: `random`, `greedy`, `alphabeta:<d>` (d = 1..8; `alphabeta` alone is depth 3); case and
 * surrounding spaces are ignored. Errors: InputError (field `opponent`) for an unknown name or a depth that is not an
 * integer from 1 to 8, listing the known names.
 */
export function referencePlayer(name: string): Player {
  const t = name.trim().toLowerCase();
  if (t === 'random') return randomPlayer;
  if (t === 'greedy') return greedyPlayer;
  const m = /^alpha-?beta(?:\s*[:=]\s*(.*))?$/.exec(t);
  if (m) {
    if (m[1] == null) return alphaBetaPlayer(3);
    if (!/^\d+$/.test(m[1]) || Number(m[1]) < 1 || Number(m[1]) > MAX_ALPHABETA_DEPTH) throw new InputError(`reference player "${name}": the alpha–beta depth "${m[1]}" is not an integer from 1 to ${MAX_ALPHABETA_DEPTH}; known players: ${REFERENCE_PLAYERS}`, { field: 'opponent' });
    return alphaBetaPlayer(Number(m[1]));
  }
  throw new InputError(`unknown reference player "${name}"; known: ${REFERENCE_PLAYERS}`, { field: 'opponent' });
}
