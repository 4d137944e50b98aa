/** The game arena: engines, subproblems, protocol, reference players, matches, ratings (see each file). */
export * from './types.ts';
export { ticTacToe, tttWinningCells, threatSubproblems, type TicTacToeState } from './tictactoe.ts';
export { connect4, c4WinningColumns, type Connect4State } from './connect4.ts';
export { othello, othelloCorners, othelloWedges, othelloFlips, othelloPlacements, othelloSquare, type OthelloState } from './othello.ts';
export { checkers, checkersMoves, checkersKingMoves, checkersFreeCaptureMoves, checkersFromRows, capturedBy, CHECKERS_DRAW_PLIES, type CheckersState } from './checkers.ts';
export { negotiation, proposalValues, type NegotiationState } from './negotiation.ts';
export { holdem, bestHand, bestHands, evaluateFive, canonCard, cardRank, HAND_CATEGORIES, type HandCategory, type HandValue, type HoldemState } from './holdem.ts';
export { surround, floodFill, surroundSafeMoves, surroundRoomiestMoves, type SurroundState } from './surround.ts';
export { pong, pongCrossingRow, type PongState } from './pong.ts';
export { chess, chessFromFen, chessMoves, chessMateInOne, chessChecks, chessFreeCaptures, chessMaterial, CHESS_START_FEN, PIECE_VALUES, type ChessMove, type ChessState } from './chess.ts';
export { GAMES, gameNames, getGame } from './registry.ts';
export { randomPlayer, greedyPlayer, alphaBetaPlayer, referencePlayer, MAX_ALPHABETA_DEPTH, REFERENCE_PLAYERS, type Player } from './players.ts';
export { buildPrompt, parseMoveReply, gradeReply, gradeSubproblem, setF1, parsePolicy, POLICY_GRAMMAR, DEFAULT_POLICY, type IllegalMovePolicy, type PromptForm, type SubproblemResult } from './protocol.ts';
export { playMatch, formatMatch, gameMatchSolver, matchSamples, opponentMark, gameOutcomeScorer, gameLegalScorer, gameSubproblemScorer, type Agent, type MatchConfig, type MatchRecord, type MoveRecord, type MoveTry, type ModelAgent, type ModelReply, type ModelResponder, type SeatUsage } from './match.ts';
export { rateMatches, fitBradleyTerry, type MatchOutcome, type PlayerRating, type Ratings } from './ratings.ts';
export { runArena, arenaTask, arenaPairTask, referenceRoundRobin, formatArena, type ArenaMatch, type ArenaOptions, type ArenaReport, type ArenaPlayerGame } from './arena.ts';
