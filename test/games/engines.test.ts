/**
 * Each engine's rules on hand-built positions: perft counts from the start positions (Othello to depth 8 = 390,216,
 * the published value; checkers' published counts; Connect Four's 7^n, with 7 sequences short at depth 7), wins,
 * draws, captures, multi-jumps, crowning, the draw rule, passes, hand ranks (royal flush, the wheel), betting, the
 * negotiation's random end, Surround crashes and Pong's bounces.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bestHand, checkers, checkersFromRows, CHECKERS_DRAW_PLIES, connect4, evaluateFive, holdem, negotiation, othello, pong, surround, ticTacToe,
  type Game, type PongState, type SurroundState, type TicTacToeState,
} from '../../src/games/index.ts';
import { oth, ttt } from './positions.ts';

function perft<S>(g: Game<S>, s: S, d: number): number {
  const ms = g.legalMoves(s);
  if (d === 1) return ms.length;
  let n = 0;
  for (const m of ms) n += perft(g, g.apply(s, m), d - 1);
  return n;
}
function play<S>(g: Game<S>, moves: string[], s: S = g.initial(0)): S {
  for (const m of moves) s = g.apply(s, m);
  return s;
}
test('tic-tac-toe: wins, a draw, illegal moves', () => {
  const s = play(ticTacToe, ['a1', 'a2', 'b1', 'b2', 'c1']);
  assert.deepEqual(ticTacToe.result(s), { winner: 0, score: [1, -1], reason: 'three in a row' });
  assert.deepEqual(ticTacToe.legalMoves(s), []);
  const draw = ttt(['XOX', 'XOO', 'OXX'], 1);
  assert.equal(ticTacToe.result(draw)?.winner, null);
  assert.equal(ticTacToe.result(draw)?.reason, 'board full');
  assert.throws(() => ticTacToe.apply(play(ticTacToe, ['b2']), 'b2'), /illegal/);
  const games = (t: TicTacToeState): number => (ticTacToe.result(t) ? 1 : ticTacToe.legalMoves(t).reduce((a, m) => a + games(ticTacToe.apply(t, m)), 0));
  assert.equal(games(ticTacToe.initial(0)), 255168, 'the number of distinct tic-tac-toe games');
});

test('connect four: perft, a vertical and a diagonal win, a full column', () => {
  const s0 = connect4.initial(0);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((d) => perft(connect4, s0, d)), [7, 49, 343, 2401, 16807, 117649]);
  assert.equal(perft(connect4, s0, 7), 823543 - 7, 'the 7 sequences that fill one column in 6 plies have 6 seventh moves');
  const v = play(connect4, ['a', 'b', 'a', 'b', 'a', 'b', 'a']);
  assert.equal(connect4.result(v)?.winner, 0);
  // X: a1 b2 c3 d4 diagonal; O fills under it.
  const d = play(connect4, ['a', 'b', 'b', 'c', 'c', 'd', 'c', 'd', 'd', 'g', 'd']);
  assert.equal(connect4.result(d)?.winner, 0);
  assert.equal(connect4.result(d)?.reason, 'four in a row');
  const full = play(connect4, ['a', 'a', 'a', 'a', 'a', 'a']);
  assert.ok(!connect4.legalMoves(full).includes('a'));
  assert.equal(connect4.parseMove(full, 'a').kind, 'illegal');
});

test('othello: perft to depth 8 = 390,216, the start moves, a forced pass, the end', () => {
  const s0 = othello.initial(0);
  assert.deepEqual(othello.legalMoves(s0).sort(), ['c4', 'd3', 'e6', 'f5']);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((d) => perft(othello, s0, d)), [4, 12, 56, 244, 1396, 8200, 55092, 390216]);
  // Black cannot move (W W B on the top edge); White can (d1 flanks c1).
  const p = oth(['WWB.....', '........', '........', '........', '........', '........', '........', '........'], 0);
  assert.deepEqual(othello.legalMoves(p), ['pass']);
  assert.equal(othello.result(p), null);
  const afterPass = othello.apply(p, 'pass');
  assert.deepEqual(othello.legalMoves(afterPass), ['d1']);
  assert.throws(() => othello.apply(afterPass, 'pass'), /illegal/);
  const end = othello.apply(afterPass, 'd1');
  assert.deepEqual(othello.result(end), { winner: 1, score: [-1, 1], reason: '0–4 discs' });
  // Flips in two directions at once.
  const two = oth(['........', '........', '..B.....', '...W....', '..BW....', '........', '........', '........'], 0);
  const t = othello.apply(two, 'e5');
  assert.deepEqual([t.board[3 * 8 + 3], t.board[4 * 8 + 3], t.board[4 * 8 + 4]], [0, 0, 0], 'd4 and d5 flip, e5 placed');
});

test('checkers: perft, compulsory capture, multi-jumps, crowning ends the move, kings, the draw rule, no move loses', () => {
  const s0 = checkers.initial(0);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((d) => perft(checkers, s0, d)), [7, 49, 302, 1469, 7361, 36768]);
  const forced = checkersFromRows(['........', '........', '........', '........', '...w....', '..b.....', '........', 'b.......'], 0);
  assert.deepEqual(checkers.legalMoves(forced), ['c3xe5'], 'the capture is compulsory: a1-b2 is not allowed');
  const multi = checkersFromRows(['........', '........', '........', '........', '...w.w..', '........', '...w....', '..b.....'], 0);
  assert.deepEqual(checkers.legalMoves(multi).sort(), ['c1xe3xc5', 'c1xe3xg5'], 'a capturing piece must keep jumping');
  // A multi-jump written from start to end only reads as the one path with those ends; two such paths are ambiguous.
  assert.deepEqual(checkers.parseMove(multi, 'c1xg5'), { kind: 'move', move: 'c1xe3xg5' });
  assert.deepEqual(checkers.parseMove(multi, 'C1-C5'), { kind: 'move', move: 'c1xe3xc5' });
  assert.equal(checkers.parseMove(multi, 'c1xe5').kind, 'illegal');
  const twoWays = checkersFromRows(['........', '........', '........', '........', '.w.w....', '........', '.w.w....', '..b.....'], 0);
  assert.deepEqual(checkers.legalMoves(twoWays).sort(), ['c1xa3xc5', 'c1xe3xc5']);
  const amb = checkers.parseMove(twoWays, 'c1xc5');
  assert.equal(amb.kind, 'illegal');
  assert.match((amb as { reason: string }).reason, /ambiguous.*c1xa3xc5 or c1xe3xc5/);
  assert.deepEqual(checkers.parseMove(twoWays, 'c1xe3xc5'), { kind: 'move', move: 'c1xe3xc5' });
  const after = checkers.apply(multi, 'c1xe3xg5');
  assert.equal(after.board[4 * 8 + 6], 1);
  assert.equal(after.board[1 * 8 + 3], 0);
  assert.equal(after.board[3 * 8 + 5], 0);
  assert.equal(after.board[3 * 8 + 3], 3, 'the other white man stays');
  const crown = checkersFromRows(['........', '..w.w...', '.b......', '........', '........', '........', '........', '........'], 0);
  assert.deepEqual(checkers.legalMoves(crown), ['b6xd8'], 'crowning ends the move: no d8xf6');
  const crowned = checkers.apply(crown, 'b6xd8');
  assert.equal(crowned.board[7 * 8 + 3], 2, 'a black king');
  const king = checkersFromRows(['.......w', '........', '........', '........', '...B....', '........', '........', '........'], 0);
  assert.deepEqual(checkers.legalMoves(king).sort(), ['d4-c3', 'd4-c5', 'd4-e3', 'd4-e5']);
  const quiet = { ...king, quiet: CHECKERS_DRAW_PLIES - 1 };
  const drawn = checkers.apply(quiet, 'd4-e5');
  assert.equal(checkers.result(drawn)?.winner, null);
  assert.match(checkers.result(drawn)!.reason, /40 moves/);
  assert.equal(checkers.apply({ ...king, quiet: 10 }, 'd4-e5').quiet, 11);
  const none = checkersFromRows(['........', '........', '........', '........', '........', '........', '........', '.......w'], 0);
  assert.deepEqual(checkers.result(none), { winner: 1, score: [-1, 1], reason: 'Black has no legal move' });
});

test('hold\'em hand ranks: royal flush, the wheel, steel wheel, kickers, best of seven', () => {
  assert.equal(evaluateFive(['As', 'Ks', 'Qs', 'Js', 'Ts']).category, 'royal flush');
  assert.equal(evaluateFive(['9s', 'Ks', 'Qs', 'Js', 'Ts']).category, 'straight flush');
  const wheel = evaluateFive(['Ah', '2d', '3c', '4s', '5h']);
  assert.equal(wheel.category, 'straight');
  assert.ok(wheel.score < evaluateFive(['6h', '2d', '3c', '4s', '5h']).score, 'the wheel is the lowest straight');
  assert.ok(wheel.score > evaluateFive(['Ah', 'Ad', 'Ac', '4s', '5h']).score, 'a straight beats three of a kind');
  assert.equal(evaluateFive(['Ad', 'Kh', 'Qc', 'Js', 'Th']).category, 'straight');
  assert.equal(evaluateFive(['Ac', 'Kc', 'Qc', 'Jc', '9c']).category, 'flush');
  assert.equal(evaluateFive(['Ks', 'Kc', 'Qs', 'Qd', '2c']).category, 'two pair');
  assert.equal(evaluateFive(['Ks', 'Kc', 'Kd', 'Qd', 'Qc']).category, 'full house');
  assert.ok(evaluateFive(['Ks', 'Kc', 'Qs', 'Qd', '2c']).score < evaluateFive(['Kh', 'Kd', 'Qh', 'Qc', '3c']).score, 'the kicker decides');
  assert.ok(evaluateFive(['5s', '4s', '3s', '2s', 'As']).score < evaluateFive(['6s', '5s', '4s', '3s', '2s']).score, 'steel wheel is the lowest straight flush');
  assert.equal(evaluateFive(['5s', '4s', '3s', '2s', 'As']).category, 'straight flush');
  assert.ok(evaluateFive(['Ac', 'Kc', 'Qc', 'Jc', '9c']).score < evaluateFive(['2s', '2c', '2d', '3d', '3c']).score, 'a full house beats a flush');
  const best = bestHand(['Ah', 'Kh', 'Qh', 'Jh', 'Th', '2c', '3d']);
  assert.equal(best.category, 'royal flush');
  assert.deepEqual(best.cards.slice().sort(), ['Ah', 'Jh', 'Kh', 'Qh', 'Th']);
  const w7 = bestHand(['Ad', '2c', '3h', '4s', '5d', 'Kc', 'Kd']);
  assert.equal(w7.category, 'straight', 'the wheel beats the board pair');
  assert.deepEqual(w7.cards.slice().sort(), ['2c', '3h', '4s', '5d', 'Ad']);
});

test("hold'em betting: blinds, limp and check to the flop, raise bounds, a fold, an all-in run-out", () => {
  const s = holdem.initial(7);
  assert.deepEqual([s.stacks, s.bets, s.turn], [[199, 198], [1, 2], 0]);
  assert.deepEqual(holdem.legalMoves(s), ['fold', 'call', 'raise 4', 'raise 6', 'raise 200']);
  assert.equal(holdem.parseMove(s, 'raise 3').kind, 'illegal', 'below the minimum raise');
  const limp = holdem.apply(s, 'call');
  assert.equal(limp.turn, 1, 'the big blind has the option');
  const flop = holdem.apply(limp, 'check');
  assert.equal(flop.street, 1);
  assert.equal(flop.pot, 4);
  assert.equal(flop.board.length, 3);
  assert.equal(flop.turn, 1, 'the big blind acts first after the flop');
  const fold = holdem.apply(s, 'fold');
  assert.deepEqual(holdem.result(fold)!.score, [-1 / 200, 1 / 200]);
  const shove = holdem.apply(holdem.apply(s, 'raise 200'), 'call');
  assert.equal(shove.board.length, 5, 'all-in and called: the board runs out');
  const r = holdem.result(shove)!;
  assert.ok(shove.final![0] + shove.final![1] === 400);
  assert.equal(Math.abs(r.score[0]), r.winner == null ? 0 : 1);
});

test('negotiation: proposals, accept, values, and the random end after round 8 from the seed', () => {
  const s = negotiation.initial(3);
  for (const seat of [0, 1] as const) assert.equal(s.counts.reduce((a, n, i) => a + n * s.values[seat]![i]!, 0), 10);
  const p = negotiation.apply(s, `propose ${s.counts.join(',')}`);
  assert.deepEqual(negotiation.legalMoves(p)[0], 'accept');
  const deal = negotiation.apply(p, 'accept');
  const r = negotiation.result(deal)!;
  assert.deepEqual(r.score, [1, -1], 'seat 0 kept everything: 10 against 0');
  const ends = new Set<number>();
  for (let seed = 0; seed < 200; seed++) {
    let t = negotiation.initial(seed);
    assert.ok(t.endRound >= 8 && t.endRound <= 20);
    ends.add(t.endRound);
    let plies = 0;
    while (!negotiation.result(t)) { t = negotiation.apply(t, 'propose 0,0,0'); plies++; }
    assert.equal(plies, t.endRound + 1, 'a counter-proposal after the last round ends the game');
    assert.equal(negotiation.result(t)!.winner, null);
    assert.equal(negotiation.initial(seed).endRound, t.endRound, 'the end comes from the seed');
  }
  assert.ok(ends.has(8) && ends.size >= 5, 'the end round varies with the seed');
});

test('surround: moves leave walls, crashing loses', () => {
  const s = surround.initial(0);
  const a = surround.apply(s, 'up');
  assert.deepEqual(a.heads[0], [2, 5]);
  assert.equal(a.walls[4 * 10 + 2], 1, 'the old head is a wall');
  const back = surround.apply(surround.apply(a, 'up'), 'down');
  assert.deepEqual(surround.result(back), { winner: 1, score: [-1, 1], reason: 'A crashed' });
  let edge: SurroundState = s;
  for (const m of ['left', 'down', 'left', 'down']) edge = surround.apply(edge, m);
  const off = surround.apply(edge, 'left');
  assert.equal(surround.result(off)?.winner, 1, 'moving off the grid crashes');
});

test('pong: wall bounces, a paddle return, a miss scores and serves again', () => {
  const base = pong.initial(0);
  const hit: PongState = { ...base, ball: { x: 1, y: 3, dx: -1, dy: 0 }, paddles: [3, 4], turn: 0 };
  const h = pong.apply(pong.apply(hit, 'stay'), 'stay');
  assert.deepEqual(h.ball, { x: 1, y: 3, dx: 1, dy: 0 });
  const miss: PongState = { ...hit, paddles: [6, 4] };
  const m = pong.apply(pong.apply(miss, 'stay'), 'stay');
  assert.deepEqual(m.points, [0, 1]);
  assert.equal(m.ball.dx, -1, 'served toward the side that lost the point');
  const wall: PongState = { ...base, ball: { x: 5, y: 7, dx: 1, dy: 1 }, turn: 0 };
  const w = pong.apply(pong.apply(wall, 'stay'), 'stay');
  assert.deepEqual(w.ball, { x: 6, y: 6, dx: 1, dy: -1 }, 'off the top wall');
  assert.deepEqual(pong.legalMoves({ ...base, paddles: [6, 4], turn: 0 }), ['stay', 'down'], 'the paddle stays on the court');
  const won = { ...base, points: [1, 0] as [number, number] };
  const last = pong.apply(pong.apply({ ...won, ball: { x: 10, y: 0, dx: 1, dy: 0 }, paddles: [3, 6], turn: 0 }, 'stay'), 'stay');
  assert.deepEqual(pong.result(last), { winner: 0, score: [1, -1], reason: '2–0' });
});
