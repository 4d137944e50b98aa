/**
 * Subproblem ground truth on positions whose answers were worked out by hand (each comment says how), and the same
 * ground truth checked against brute force where a brute force exists.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bestHand, bestHands, c4WinningColumns, chess, chessFromFen, chessMateInOne, checkers, checkersFreeCaptureMoves, checkersFromRows, checkersKingMoves, connect4, floodFill, gradeSubproblem, holdem,
  negotiation, othello, othelloCorners, othelloWedges, pong, pongCrossingRow, proposalValues, surround, surroundRoomiestMoves, surroundSafeMoves,
  evaluateFive, canonCard, ticTacToe, tttWinningCells, mulberry32, type HoldemState, type NegotiationState, type Seat, type Subproblem, type SurroundState,
} from '../../src/games/index.ts';
import { oth, ttt } from './positions.ts';

const truthOf = (sps: { id: string; truth: unknown }[], id: string) => sps.find((s) => s.id === id)?.truth;

test('tic-tac-toe: own wins, opponent wins, forced blocks', () => {
  // X a1 b1, O a2 b2, X to move: X wins at c1; O threatens c2; X can win, so nothing must be blocked.
  const s = ttt(['...', 'OO.', 'XX.'], 0);
  const sp = ticTacToe.subproblems(s, 0);
  assert.deepEqual(truthOf(sp, 'own_wins'), ['c1']);
  assert.deepEqual(truthOf(sp, 'opponent_wins'), ['c2']);
  assert.deepEqual(truthOf(sp, 'forced_blocks'), []);
  // X a1 c3, O b1 b2, X to move: no X line can close; O closes the b column at b3: the forced block.
  const f = ttt(['..X', '.O.', 'XO.'], 0);
  assert.deepEqual(ticTacToe.subproblems(f, 0).map((x) => x.truth), [[], ['b3'], ['b3']]);
  // Brute force: a cell is a winning cell iff playing it ends the game with that seat winning.
  for (const cell of ticTacToe.legalMoves(f)) assert.equal(tttWinningCells(f, 0).includes(cell), ticTacToe.result(ticTacToe.apply(f, cell))?.winner === 0);
});

test('connect four: winning columns and the forced block', () => {
  let s = connect4.initial(0);
  for (const m of ['a', 'a', 'b', 'b', 'c']) s = connect4.apply(s, m);
  // X a1 b1 c1, O a2 b2, O to move: X wins at d; O cannot win; O must block d.
  const sp = connect4.subproblems(s, 1);
  assert.deepEqual(sp.map((x) => x.truth), [[], ['d'], ['d']]);
  assert.deepEqual(c4WinningColumns(s, 0), ['d']);
});

test('othello: corners, and wedges with gaps of 1, 3 and 5 (an even gap is none)', () => {
  // Top edge (row 1): W W . W W B -> c1 is a 1-gap between b1 and d1; c1 flanks d1 e1 against f1.
  // Bottom edge (row 8): B W . . . W B -> c8..e8 is a 3-gap; c8 (flanks b8) and e8 (flanks f8) are legal, d8 is not.
  // Left edge (column a): a1 W, a2..a6 empty (5-gap), a7 W, a8 B -> a6 flanks a7.
  // Right edge (column h): h2 W, h3 h4 empty (2-gap), h5 W, h6 B -> h4 is legal but the gap is even: no wedge.
  const s = oth([
    'WW.WWB..',
    '.......W',
    '........',
    '........',
    '.......W',
    '.......B',
    'W.......',
    'BW...WB.',
  ], 0);
  assert.deepEqual(othelloWedges(s.board, 0), ['a6', 'c1', 'c8', 'e8']);
  assert.ok(othello.legalMoves(s).includes('h4'), 'h4 is legal, only not a wedge');
  assert.deepEqual(othelloCorners(s.board, 0), []);
  assert.deepEqual(othelloCorners(s.board, 1), ['h8'], 'White takes h8 by flanking g8 against f8');
  const sp = othello.subproblems(s, 0);
  assert.deepEqual(truthOf(sp, 'wedges'), ['a6', 'c1', 'c8', 'e8']);
  // Brute force for corners at the start of many random games: a corner is available iff it is among the legal moves.
  let t = othello.initial(0);
  let k = 1;
  while (!othello.result(t)) {
    const legal = othello.legalMoves(t);
    assert.deepEqual(othelloCorners(t.board, t.turn), legal.filter((m) => ['a1', 'h1', 'a8', 'h8'].includes(m)).sort());
    t = othello.apply(t, legal[(k = (k * 48271) % 2147483647) % legal.length]!);
  }
});

test('checkers: king-making moves; free captures, and a two-for-one shot is not one', () => {
  const k = checkersFromRows(['........', '..b.....', '........', '........', '........', 'b.......', '........', '........'], 0);
  assert.deepEqual(checkersKingMoves(k), ['c7-b8', 'c7-d8']);
  // Black a1 b2 c3 e3, White c5 e5, Black to move (worked by hand):
  //  b2-a3: nothing can be captured -> not free.
  //  c3-b4: c5xa3xc1 takes two, Black cannot reply -> free.
  //  c3-d4: only e5xc3 (c5xe3 is blocked by e3; the jump cannot go on to a1, occupied); Black answers b2xd4xb6
  //         taking two: a two-for-one shot -> not free.
  //  e3-d4: c5xe3 (e5xc3 is blocked by c3), no recapture -> free.  e3-f4: e5xg3, no recapture -> free.
  const s = checkersFromRows(['........', '........', '........', '..w.w...', '........', '..b.b...', '.b......', 'b.......'], 0);
  assert.deepEqual(checkers.legalMoves(s).sort(), ['b2-a3', 'c3-b4', 'c3-d4', 'e3-d4', 'e3-f4']);
  assert.deepEqual(checkersFreeCaptureMoves(s), ['c3-b4', 'e3-d4', 'e3-f4']);
  const afterShot = checkers.apply(checkers.apply(s, 'c3-d4'), 'e5xc3');
  assert.deepEqual(checkers.legalMoves(afterShot), ['b2xd4xb6']);
  assert.deepEqual(truthOf(checkers.subproblems(s, 0), 'free_capture_moves'), ['c3-b4', 'e3-d4', 'e3-f4']);
});

test('negotiation: the value of a proposal to each side', () => {
  const s: NegotiationState = { counts: [2, 1, 3], values: [[2, 0, 2], [1, 5, 1]], turn: 0, round: 1, offer: { by: 1, keep: [1, 1, 0] }, endRound: 9, deal: null, over: false };
  // Seat 1 keeps 1 book and the hat (1 + 5 = 6); seat 0 gets 1 book and 3 balls (2 + 6 = 8).
  assert.deepEqual(proposalValues(s, 1, [1, 1, 0]), [8, 6]);
  assert.deepEqual(proposalValues(s, 0, [2, 1, 3]), [10, 0]);
  const sp = negotiation.subproblems(s, 0);
  assert.equal(truthOf(sp, 'offer_value'), 8);
  assert.equal(truthOf(sp, 'pool_value'), 10);
});

test("hold'em: best five-card hand on the flop", () => {
  let s = holdem.initial(0);
  s = { ...s, hole: [['Ah', '2c'], s.hole[1]], deck: s.deck };
  s = holdem.apply(holdem.apply(s, 'call'), 'check');
  const fixed = { ...s, board: ['3d', '4s', '5h'], hole: [['Ah', '2c'], ['Kd', 'Kc']] as [string[], string[]] };
  const sp = holdem.subproblems(fixed, 0);
  assert.equal(truthOf(sp, 'best_hand'), 'straight');
  assert.deepEqual(truthOf(sp, 'best_five'), [['2c', '3d', '4s', '5h', 'Ah']], 'one set of five makes the wheel here');
  assert.equal(truthOf(sp, 'to_call'), 0);
  const b = holdem.subproblems(fixed, 1);
  assert.equal(truthOf(b, 'best_hand'), 'one pair');
  assert.equal(bestHand(['Kd', 'Kc', '3d', '4s', '5h']).category, 'one pair');
  // Answers: synonyms and card spellings are accepted.
  const bh = sp.find((x) => x.id === 'best_five')!;
  assert.equal(gradeSubproblem(bh, '[ah, 2C, 3d, 4s, 5H]').score, 1);
  assert.equal(gradeSubproblem(sp.find((x) => x.id === 'best_hand')!, 'Straight (wheel)').correct, false);
  assert.equal(gradeSubproblem(sp.find((x) => x.id === 'best_hand')!, 'straight').correct, true);
});

function surroundWith(head0: [number, number], head1: [number, number], walls: [number, number][]): SurroundState {
  const s = surround.initial(0);
  const w = Array(100).fill(0);
  for (const [c, r] of walls) w[r * 10 + c] = 1;
  w[head0[1] * 10 + head0[0]] = 1;
  w[head1[1] * 10 + head1[0]] = 2;
  return { ...s, walls: w, heads: [head0, head1], turn: 0 };
}

test('surround: safe moves and the roomiest moves by flood fill', () => {
  // A at b1 with a wall at a2: left goes to a1, a dead end (0 cells beyond); up and right reach the same big region.
  const s = surroundWith([1, 0], [9, 9], [[0, 1]]);
  assert.deepEqual(surroundSafeMoves(s, 0), ['left', 'right', 'up']);
  assert.deepEqual(surroundRoomiestMoves(s, 0), ['right', 'up']);
  // On the start board the head's region is every other empty cell: 100 − 2 heads.
  const s0 = surround.initial(0);
  assert.equal(floodFill(s0, 2, 4), 98);
  // A walled pocket: A at e5 enclosed on the left by a wall column at c4..c6 and row walls; right is the big side.
  const pocket = surroundWith([4, 4], [9, 9], [[3, 3], [3, 5], [2, 4]]);
  // left -> d5: its only free neighbour set is {} (d4, d6 walls, c5 wall): a dead end of size 0.
  assert.deepEqual(surroundRoomiestMoves(pocket, 0), ['down', 'right', 'up']);
  assert.ok(surroundSafeMoves(pocket, 0).includes('left'));
  assert.deepEqual(truthOf(surround.subproblems(s, 0), 'safe_moves'), ['left', 'right', 'up']);
});

test('pong: the crossing row with wall bounces, and none when the ball moves away', () => {
  const base = pong.initial(0);
  // x 6 -> 0 in six steps; y 2,1,0,-1->1 (bounce),2,3,4: row index 4 = row 5.
  const s = { ...base, ball: { x: 6, y: 2, dx: -1 as const, dy: -1 as const }, turn: 0 as Seat };
  assert.equal(pongCrossingRow(s, 0), 4);
  assert.equal(truthOf(pong.subproblems(s, 0), 'crossing_row'), 5);
  // x 8 -> 11 in three steps; y 6, 7, 8->6 (top bounce), 5: row 6.
  const t = { ...base, ball: { x: 8, y: 6, dx: 1 as const, dy: 1 as const }, turn: 1 as Seat };
  assert.equal(pongCrossingRow(t, 1), 5);
  assert.equal(pongCrossingRow(t, 0), null);
  assert.deepEqual(pong.subproblems({ ...t, turn: 0 }, 0), []);
  // Brute force: the predicted row is where the ball actually arrives when both paddles stay out of its way.
  for (let seed = 0; seed < 30; seed++) {
    let u = pong.initial(seed);
    const toward: Seat = u.ball.dx < 0 ? 0 : 1;
    const predicted = pongCrossingRow(u, toward)!;
    let ball = u.ball;
    while (ball.x !== (toward === 0 ? 1 : 10) || ball.dx !== (toward === 0 ? -1 : 1)) { u = pong.apply(pong.apply(u, pong.legalMoves(u)[0]!), pong.legalMoves(pong.apply(u, pong.legalMoves(u)[0]!))[0]!); ball = u.ball; }
    const [ny] = ((y: number, dy: number) => { let a = y + dy, d = dy; if (a < 0) { a = -a; d = -d; } if (a > 7) { a = 14 - a; d = -d; } return [a, d]; })(ball.y, ball.dy);
    assert.equal(ny, predicted, `seed ${seed}`);
  }
});

test('symmetric tolerance and set F1', () => {
  const sp = { id: 'crossing_row', question: '', kind: 'number' as const, truth: 5, tolerance: 1 };
  assert.deepEqual([3, 4, 5, 6, 7].map((a) => gradeSubproblem(sp, String(a)).correct), [false, true, true, true, false]);
  const set = { id: 'own_wins', question: '', kind: 'set' as const, truth: ['a1', 'b2'] };
  assert.equal(gradeSubproblem(set, 'a1').score, 2 / 3);
  assert.equal(gradeSubproblem(set, 'a1, b2, c3').score, 0.8);
  assert.equal(gradeSubproblem({ ...set, truth: [] }, 'none').score, 1);
  assert.equal(gradeSubproblem({ ...set, truth: [] }, 'a1').score, 0);
  assert.equal(gradeSubproblem(set, null).score, 0);
});

test('ground truth agrees with brute force through the engines on positions from random games', () => {
  const rand = (() => { let x = 12345; return () => ((x = (x * 48271) % 2147483647) / 2147483647); })();
  const pos = <S>(g: { initial(seed: number): S; result(s: S): unknown; legalMoves(s: S): string[]; apply(s: S, m: string): S }, seed: number, plies: number): S | null => {
    let s = g.initial(seed);
    for (let k = 0; k < plies; k++) { if (g.result(s)) return null; const l = g.legalMoves(s); s = g.apply(s, l[Math.floor(rand() * l.length)]!); }
    return g.result(s) ? null : s;
  };
  let checked = 0;
  for (let seed = 0; seed < 60; seed++) {
    // Connect Four: a column wins for the side to move iff dropping there ends the game with its win.
    const c = pos(connect4, seed, 6 + (seed % 20));
    if (c) {
      const me = connect4.toMove(c);
      assert.deepEqual(c4WinningColumns(c, me), connect4.legalMoves(c).filter((m) => connect4.result(connect4.apply(c, m))?.winner === me));
      checked++;
    }
    // Surround: a move is safe iff playing it does not end the game with a crash.
    const s = pos(surround, seed, 4 + (seed % 30));
    if (s) {
      const me = surround.toMove(s);
      assert.deepEqual(surroundSafeMoves(s, me), surround.legalMoves(s).filter((m) => surround.apply(s, m).crashed == null).sort());
      checked++;
    }
    // Checkers: king moves are exactly the moves after which a man of ours stands crowned on the far row.
    const k = pos(checkers, seed, 10 + (seed % 40));
    if (k) {
      const me = k.turn;
      const kings = (b: number[]) => b.filter((p) => p === (me === 0 ? 2 : 4)).length;
      assert.deepEqual(checkersKingMoves(k), checkers.legalMoves(k).filter((m) => kings(checkers.apply(k, m).board) > kings(k.board)).sort());
      // Free captures, by a plain two-ply material count over every reply and re-reply.
      const material = (b: number[], who: Seat) => b.filter((p) => p !== 0 && (p <= 2 ? 0 : 1) === who).length;
      const brute = checkers.legalMoves(k).filter((m) => {
        const s1 = checkers.apply(k, m);
        if (checkers.result(s1)) return false;
        const replies = checkers.legalMoves(s1);
        if (!replies.some((o) => o.includes('x'))) return false;
        const worst = Math.min(...replies.map((o) => {
          const s2 = checkers.apply(s1, o);
          const lost = material(s1.board, me) - material(s2.board, me);
          const back = checkers.result(s2) ? 0 : Math.max(0, ...checkers.legalMoves(s2).map((r) => material(s2.board, (1 - me) as Seat) - material(checkers.apply(s2, r).board, (1 - me) as Seat)));
          return back - lost;
        }));
        return worst < 0;
      }).sort();
      assert.deepEqual(checkersFreeCaptureMoves(k), brute);
      checked++;
    }
    // Othello: a wedge is always a legal edge move.
    const o = pos(othello, seed, 20 + (seed % 30));
    if (o) for (const w of othelloWedges(o.board, o.turn)) assert.ok(othello.legalMoves(o).includes(w) && /^[a-h][18]$|^[ah][1-8]$/.test(w));
  }
  assert.ok(checked > 100, `${checked} positions checked`);
});

/** A Hold'em state at the river with these hole cards and board (to call: the big blind's 1 chip). */
function river(hole: [string, string], board: string[]): HoldemState {
  const s = holdem.initial(0);
  return { ...s, hole: [hole, ['2c', '2d']], board, street: 3 };
}
const spOf = (sps: Subproblem[], id: string): Subproblem => sps.find((x) => x.id === id)!;

test("hold'em best five: every set of five of equal value is a correct answer, any one accepted, a weaker one rejected", () => {
  // Two pair aces and kings: the kicker is either queen (two queens for one slot).
  const q = spOf(holdem.subproblems(river(['Qh', 'Qs'], ['As', 'Ah', 'Kd', 'Kc', '2s']), 0), 'best_five');
  assert.equal(q.kind, 'one_of');
  assert.deepEqual(q.truth, [['Ah', 'As', 'Kc', 'Kd', 'Qh'], ['Ah', 'As', 'Kc', 'Kd', 'Qs']]);
  for (const a of ['As, Ah, Kd, Kc, Qh', 'As, Ah, Kd, Kc, Qs', '[qs, KC, kd, AH, as]']) {
    const g = gradeSubproblem(q, a);
    assert.ok(g.correct && g.score === 1, a);
  }
  const weaker = gradeSubproblem(q, 'As, Ah, Kd, Kc, 2s');
  assert.equal(weaker.correct, false, 'the deuce kicker makes a weaker hand');
  assert.equal(weaker.score, 0.8);
  assert.equal(gradeSubproblem(q, 'As, Ah, Kd, Kc, Qh, Qs').correct, false, 'six cards are not a hand of five');
  // Equal kickers of different suits: jacks and nines with a five, the five of hearts or of diamonds.
  const k = spOf(holdem.subproblems(river(['Jh', 'Jd'], ['9c', '9s', '5h', '5d', '3c']), 0), 'best_five');
  assert.deepEqual(k.truth, [['5h', '9c', '9s', 'Jd', 'Jh'], ['5d', '9c', '9s', 'Jd', 'Jh']].map((x) => x.sort()));
  assert.ok(gradeSubproblem(k, 'Jh, Jd, 9c, 9s, 5d').correct);
  assert.ok(gradeSubproblem(k, 'Jh, Jd, 9c, 9s, 5h').correct);
  assert.equal(gradeSubproblem(k, 'Jh, Jd, 9c, 9s, 3c').correct, false);
  // A straight with either nine.
  const n = spOf(holdem.subproblems(river(['9h', '9d'], ['5c', '6d', '7s', '8h', 'Kc']), 0), 'best_five');
  assert.equal((n.truth as string[][]).length, 2);
  assert.ok(gradeSubproblem(n, '5c 6d 7s 8h 9h'.split(' ').join(', ')).correct);
  assert.ok(gradeSubproblem(n, '5c, 6d, 7s, 8h, 9d').correct);
  assert.equal(gradeSubproblem(n, '9h, 9d, Kc, 8h, 7s').correct, false, 'a pair of nines is not the best hand');
  // A board that plays: one set only.
  assert.deepEqual(spOf(holdem.subproblems(river(['2h', '3d'], ['Ts', 'Js', 'Qs', 'Ks', 'As']), 0), 'best_five').truth, [['As', 'Js', 'Ks', 'Qs', 'Ts']]);
});

test("hold'em best five against brute force: on 3,000 random seven-card hands the correct sets are exactly the five-card subsets of the best value", () => {
  const deck: string[] = [];
  for (const r of '23456789TJQKA') for (const c of 'cdhs') deck.push(r + c);
  const rand = mulberry32(77);
  let several = 0;
  for (let t = 0; t < 3000; t++) {
    const d = deck.slice();
    for (let i = d.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [d[i], d[j]] = [d[j]!, d[i]!]; }
    const seven = d.slice(0, 7);
    const subsets: string[][] = [];
    for (let a = 0; a < 7; a++) for (let b = a + 1; b < 7; b++) for (let c = b + 1; c < 7; c++) for (let e = c + 1; e < 7; e++) for (let f = e + 1; f < 7; f++) subsets.push([seven[a]!, seven[b]!, seven[c]!, seven[e]!, seven[f]!]);
    const scores = subsets.map((x) => evaluateFive(x).score);
    const top = Math.max(...scores);
    const want = subsets.filter((_, i) => scores[i] === top).map((x) => x.slice().sort().join(' ')).sort();
    const got = bestHands(seven).map((h) => h.cards.slice().sort().join(' ')).sort();
    assert.deepEqual(got, want, seven.join(' '));
    assert.equal(bestHand(seven).score, top);
    if (want.length > 1) several++;
  }
  assert.ok(several > 40, `${several} hands with more than one correct set of five`);
});

test('list-all subproblems: the truth is every correct answer; an answer naming them all, in any notation the game reads, is accepted; a partial or wrong one is not', () => {
  // Tic-tac-toe, O to move: X (a3, a1, c1) threatens a2 (column a) and b1 (row 1); O (b2, c3) has no win. Both
  // threats are forced blocks, and the question asks for all of them.
  const fork = ttt(['X.O', '.O.', 'X.X'], 1);
  const fs = ticTacToe.subproblems(fork, 1);
  assert.deepEqual(fs.map((x) => x.truth), [[], ['a2', 'b1'], ['a2', 'b1']]);
  assert.match(spOf(fs, 'forced_blocks').question, /list all/);
  assert.ok(gradeSubproblem(spOf(fs, 'forced_blocks'), 'B1, (a2)').correct);
  assert.ok(gradeSubproblem(spOf(fs, 'opponent_wins'), 'a 2 and b1').correct);
  assert.equal(gradeSubproblem(spOf(fs, 'forced_blocks'), 'b1').correct, false, 'one of two threats named');
  assert.equal(gradeSubproblem(spOf(fs, 'forced_blocks'), 'c2').score, 0);
  // Connect Four: a column named by its letter, its number or a cell in it.
  let c = connect4.initial(0);
  for (const m of ['a', 'g', 'b', 'g', 'c', 'f']) c = connect4.apply(c, m);
  // X a1 b1 c1, O g1 g2 f1, X to move: X wins at d.
  const cs = connect4.subproblems(c, 0);
  assert.deepEqual(truthOf(cs, 'own_wins'), ['d']);
  for (const a of ['d', 'D', '4', 'column d', 'd1']) assert.ok(gradeSubproblem(spOf(cs, 'own_wins'), a).correct, a);
  assert.equal(gradeSubproblem(spOf(cs, 'own_wins'), 'e').correct, false);
  // Checkers: king-making moves written without their dash, or with spaces.
  const k = checkersFromRows(['........', '..b.....', '........', '........', '........', 'b.......', '........', '........'], 0);
  const ks = spOf(checkers.subproblems(k, 0), 'king_moves');
  for (const a of ['c7-b8, c7-d8', 'c7b8, c7d8', 'C7 - D8, c7 b8', 'c7 to b8 and c7 to d8']) assert.ok(gradeSubproblem(ks, a).correct, a);
  assert.equal(gradeSubproblem(ks, 'c7b8').score, 2 / 3, 'one of two king moves');
  assert.equal(gradeSubproblem(ks, 'a3-b4').score, 0);
  // Surround: directions by their initials or compass names.
  const s = surroundWith([1, 0], [9, 9], [[0, 1]]);
  const ss = spOf(surround.subproblems(s, 0), 'roomiest_moves');
  for (const a of ['up, right', 'U, R', 'north, east']) assert.ok(gradeSubproblem(ss, a).correct, a);
  assert.equal(gradeSubproblem(ss, 'left').score, 0);
  // Othello: Black takes h8 by flanking b8..g8 against a8; the corner named with brackets and capitals.
  const o = othello.subproblems(oth(['........', '........', '........', '........', '........', '........', '........', 'BWWWWWW.'], 0), 0);
  assert.deepEqual(truthOf(o, 'corners'), ['h8']);
  assert.ok(gradeSubproblem(spOf(o, 'corners'), '[H8]').correct);
  assert.equal(gradeSubproblem(spOf(o, 'corners'), 'a1').correct, false);
  // Chess: two mates in one (back rank), named in SAN and in UCI.
  const ch = chessFromFen('6k1/5ppp/8/8/8/8/5PPP/R2Q2K1 w - - 0 1');
  assert.deepEqual(chessMateInOne(ch), ['Qd8#', 'Ra8#']);
  const mate = spOf(chess.subproblems(ch, 0), 'mate_in_one');
  for (const a of ['Ra8#, Qd8#', 'a1a8, d1d8', 'Qd8, ra8']) assert.ok(gradeSubproblem(mate, a).correct, a);
  assert.equal(gradeSubproblem(mate, 'Ra8').score, 2 / 3, 'one of two mates');
  assert.equal(gradeSubproblem(mate, 'Qd7').score, 0);
});

test("hold'em best five in the game's own notation: spaces, suit symbols, 10 or T, any case, markdown", () => {
  const q = spOf(holdem.subproblems(river(['Qh', 'Qs'], ['As', 'Ah', 'Kd', 'Kc', '2s']), 0), 'best_five');
  for (const a of [
    'As Ah Kd Kc Qh', 'as ah kd kc qs', 'A♠, A♥, K♦, K♣, Q♥', 'A♠ A♥ K♦ K♣ Q♠', '**As** **Ah** Kd Kc Qh', 'As Ah Kd Kc Qh.', '[As Ah Kd Kc Qh]', 'A♤ A♡ K♢ K♧ Q♡',
  ]) {
    const g = gradeSubproblem(q, a);
    assert.ok(g.correct && g.score === 1, a);
  }
  assert.equal(gradeSubproblem(q, 'As Ah Kd Kc 2s').score, 0.8);
  assert.equal(gradeSubproblem(q, 'A♠ A♥ K♦ K♣ 2♠').correct, false);
  // a ten written 10 or T
  const t = spOf(holdem.subproblems(river(['Th', 'Jh'], ['Qh', 'Kh', 'Ah', '2c', '3d']), 0), 'best_five');
  for (const a of ['Ah Kh Qh Jh Th', 'Ah Kh Qh Jh 10h', 'A♥ K♥ Q♥ J♥ 10♥', 'a♥ k♥ q♥ j♥ t♥']) assert.ok(gradeSubproblem(t, a).correct, a);
  assert.equal(canonCard('10♥'), 'Th');
  assert.equal(canonCard('Q♠'), 'Qs');
  assert.equal(canonCard('queen'), 'queen');
});
