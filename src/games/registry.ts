/** The arena's games by name. */
import { InputError } from '../core/errors.ts';
import { checkers } from './checkers.ts';
import { chess } from './chess.ts';
import { connect4 } from './connect4.ts';
import { holdem } from './holdem.ts';
import { negotiation } from './negotiation.ts';
import { othello } from './othello.ts';
import { pong } from './pong.ts';
import { surround } from './surround.ts';
import { ticTacToe } from './tictactoe.ts';
import type { Game } from './types.ts';

/** Every built-in game, keyed by name (GAMEBoT's eight games, then chess through chess.js). */
export const GAMES: Readonly<Record<string, Game<any>>> = Object.freeze({
  tictactoe: ticTacToe, connect4, othello, checkers, negotiation, holdem, surround, pong, chess,
});

/** Names of the built-in games. */
export function gameNames(): string[] {
  return Object.keys(GAMES);
}

/** A game by name. Errors: InputError for an unknown name (the known ones listed). */
export function getGame(name: string): Game<any> {
  const g = GAMES[name];
  if (!g) throw new InputError(`unknown game "${name}"; known: ${gameNames().join(', ')}`, { field: 'game' });
  return g;
}
