/**
 * Chess through chess.js: known positions for every way a game ends (checkmate, stalemate, threefold repetition,
 * the 50-move rule, insufficient material), the special moves (en passant, castling, promotion written e8=Q and
 * e7e8q), perft counts from the Chess Programming Wiki ("Perft Results": start position, Kiwipete, position 3) through
 * our own legalMoves/apply, tolerant parsing of SAN and UCI, subproblem truths on hand-checked positions and against
 * a brute force over chess.js's verbose moves, and the reference players.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Chess } from 'chess.js';
import {
  buildPrompt, chess, chessChecks, chessFreeCaptures, chessFromFen, chessMateInOne, chessMaterial, chessMoves, gradeReply, mulberry32, parseMoveReply, playMatch,
  referencePlayer, type ChessState,
} from '../../src/games/index.ts';

const SCHOLAR = 'r1bqkbnr/pppp1ppp/2n5/4p3/2B1P3/5Q2/PPPP1PPP/RNB1K1NR w KQkq - 4 4';

function perft(s: ChessState, depth: number): number {
  if (depth === 0) return 1;
  const moves = chess.legalMoves(s);
  if (depth === 1) return moves.length;
  let n = 0;
  for (const m of moves) n += perft(chess.apply(s, m), depth - 1);
  return n;
}

test('perft through legalMoves/apply equals the published counts', () => {
  assert.equal(perft(chess.initial(0), 3), 8902);
  assert.equal(perft(chessFromFen('r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1'), 2), 2039, 'Kiwipete');
  assert.equal(perft(chessFromFen('8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 0 1'), 3), 2812, 'position 3');
});

test('checkmate, stalemate, insufficient material, the 50-move rule and threefold repetition end the game', () => {
  // Scholar's mate: Qxf7# wins for White.
  const mated = chess.apply(chessFromFen(SCHOLAR), 'Qxf7#');
  assert.deepEqual(chess.result(mated), { winner: 0, score: [1, -1], reason: 'Black is checkmated' });
  assert.deepEqual(chess.legalMoves(mated), []);
  // Qf7 leaves the black king on h8 no move and no check.
  const stale = chess.apply(chessFromFen('7k/8/6K1/8/8/8/8/5Q2 w - - 0 1'), 'Qf7');
  assert.deepEqual(chess.result(stale), { winner: null, score: [0, 0], reason: 'stalemate' });
  assert.equal(chess.result(chessFromFen('k7/8/8/8/8/8/8/KB6 w - - 0 1'))?.reason, 'insufficient material');
  assert.equal(chess.result(chessFromFen('k7/8/8/8/8/8/8/KR6 w - - 0 1')), null, 'a rook can mate');
  // 50-move rule: the 100th quiet ply draws; a mate on that ply still wins.
  const quiet = chessFromFen('k7/8/8/8/8/8/1R6/K7 w - - 99 80');
  assert.equal(chess.result(quiet), null);
  assert.equal(chess.result(chess.apply(quiet, 'Rb3'))?.reason, '50-move rule');
  assert.equal(chess.result(chess.apply(chessFromFen('k7/8/1K6/8/8/8/8/7R w - - 99 80'), 'Rh8#'))?.winner, 0);
  // Threefold repetition: the start position a third time after two knight dances.
  let s = chess.initial(0);
  const dance = ['Nf3', 'Nf6', 'Ng1', 'Ng8'];
  for (const m of dance) s = chess.apply(s, m);
  assert.equal(chess.result(s), null, 'twice is not enough');
  for (const m of dance) s = chess.apply(s, m);
  assert.deepEqual(chess.result(s), { winner: null, score: [0, 0], reason: 'threefold repetition' });
  // A pawn move clears the repetition history.
  const nf3 = chess.apply(chess.initial(0), 'Nf3');
  assert.equal(nf3.keys.length, 2);
  assert.equal(chess.apply(nf3, 'e5').keys.length, 1);
});

test('en passant, castling and promotion: legal, parsed in SAN and UCI, applied correctly', () => {
  const ep = chessFromFen('rnbqkbnr/1pp1pppp/p7/3pP3/8/8/PPPP1PPP/RNBQKBNR w KQkq d6 0 3');
  for (const t of ['exd6', 'e5d6', 'exd6 e.p.', 'EXD6', 'e5-d6', '[exd6]']) assert.deepEqual(chess.parseMove(ep, t), { kind: 'move', move: 'exd6' }, t);
  const afterEp = chess.apply(ep, 'exd6');
  assert.match(afterEp.fen, /^rnbqkbnr\/1pp1pppp\/p2P4\/8\/8\//, 'the d5 pawn is gone, the white pawn stands on d6');
  assert.equal(chessMaterial(afterEp, 0), 1);

  const castle = chessFromFen('r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1');
  for (const t of ['O-O', '0-0', 'o-o', 'e1g1', 'O-O+']) assert.deepEqual(chess.parseMove(castle, t), { kind: 'move', move: 'O-O' }, t);
  for (const t of ['O-O-O', '0-0-0', 'e1c1']) assert.deepEqual(chess.parseMove(castle, t), { kind: 'move', move: 'O-O-O' }, t);
  const castled = chess.apply(castle, 'O-O');
  assert.equal(castled.fen, 'r3k2r/8/8/8/8/8/8/R4RK1 b kq - 1 1');
  // Through an attacked square castling is illegal (written either way), the other side still legal.
  const attacked = chessFromFen('r3k2r/8/8/8/8/8/5r2/R3K2R w KQkq - 0 1');
  assert.equal(chess.parseMove(attacked, 'O-O').kind, 'illegal');
  assert.equal(chess.parseMove(attacked, 'e1g1').kind, 'illegal');
  assert.deepEqual(chess.parseMove(attacked, 'O-O-O'), { kind: 'move', move: 'O-O-O' });

  const promo = chessFromFen('8/4P1k1/8/8/8/8/8/4K3 w - - 0 1');
  for (const t of ['e8=Q', 'e7e8q', 'e8Q', 'e8=q', 'E7E8Q', 'e7-e8=Q', 'e7 e8 q', '"e8=Q"']) assert.deepEqual(chess.parseMove(promo, t), { kind: 'move', move: 'e8=Q' }, t);
  assert.deepEqual(chess.parseMove(promo, 'e7e8n'), { kind: 'move', move: 'e8=N+' }, 'the knight promotes with check');
  const bare = chess.parseMove(promo, 'e7e8');
  assert.equal(bare.kind, 'illegal');
  assert.match((bare as { reason: string }).reason, /must name the piece/);
  const queened = chess.apply(promo, 'e8=Q');
  assert.match(queened.fen, /^4Q3\//);
  assert.equal(chessMaterial(queened, 0), 9);
  assert.deepEqual(chessMoves(promo).filter((m) => m.promotion).map((m) => m.uci).sort(), ['e7e8b', 'e7e8n', 'e7e8q', 'e7e8r']);
});

test('parsing: case, spaces, brackets, move numbers and marks tolerated; illegal moves and format errors apart', () => {
  const s = chess.initial(0);
  for (const t of ['Nf3', 'nf3', ' N f3 ', '**Nf3**', '1. Nf3', 'Nf3!', 'Ng1f3', 'Ng1-f3', 'g1f3', '[g1f3]', 'G1F3', '(Nf3).']) assert.deepEqual(chess.parseMove(s, t), { kind: 'move', move: 'Nf3' }, t);
  assert.deepEqual(chess.parseMove(s, 'e2e4'), { kind: 'move', move: 'e4' });
  for (const t of ['Nf4', 'Ke2', 'e2e5', 'e5', 'Qxf7']) assert.equal(chess.parseMove(s, t).kind, 'illegal', t);
  for (const t of ['', 'hello there', 'I resign', 'knight to f three']) assert.equal(chess.parseMove(s, t).kind, 'format', t);
  // Upper case that could be a bishop or a b-pawn is ambiguous, written properly it is not.
  const both = chessFromFen('k7/8/8/8/8/2n5/1P1B4/K7 w - - 0 1');
  assert.equal(chess.parseMove(both, 'BXC3').kind, 'illegal');
  assert.deepEqual(chess.parseMove(both, 'bxc3'), { kind: 'move', move: 'bxc3' });
  assert.deepEqual(chess.parseMove(both, 'Bxc3'), { kind: 'move', move: 'Bxc3' });
  assert.deepEqual(chess.parseMove(both, 'd2c3'), { kind: 'move', move: 'Bxc3' });
  // Through the reply protocol.
  assert.deepEqual(parseMoveReply(chess, s, 'I open with the king pawn.\nMOVE: **e2e4**'), { kind: 'move', move: 'e4' });
  assert.throws(() => chessFromFen('rnbqkbnr/pppppppp/8/8 w KQkq - 0 1'), /bad FEN/);
});

test('subproblems: mate in one, checks, free captures and material on known positions, graded in SAN or UCI', () => {
  const s = chessFromFen(SCHOLAR);
  assert.deepEqual(chessMateInOne(s), ['Qxf7#']);
  assert.deepEqual(chessChecks(s), ['Bxf7+', 'Qxf7#']);
  assert.deepEqual(chessFreeCaptures(s), ['Bxf7+', 'Qxf7#'], 'the queen guards f7: Kxf7 is illegal after Bxf7+');
  assert.equal(chessMaterial(s, 0), 0);
  const sps = chess.subproblems(s, 0);
  assert.deepEqual(sps.map((x) => x.id), ['mate_in_one', 'checks', 'free_captures', 'material']);
  const graded = gradeReply(sps, 'MATE_IN_ONE: f3f7\nCHECKS: qxf7, Bxf7+\nFREE_CAPTURES: Qxf7\nMATERIAL: 0\nMOVE: Qxf7#');
  assert.deepEqual(graded.map((g) => [g.id, g.score]), [['mate_in_one', 1], ['checks', 1], ['free_captures', 2 / 3], ['material', 1]]);
  // A hanging queen: Nxd5 is free; Nxb5 is not (the queen takes back and a pawn is worth less than a knight).
  const q = chessFromFen('4k3/8/8/1p1q4/8/2N5/8/4K3 w - - 0 1');
  assert.deepEqual(chessFreeCaptures(q), ['Nxd5']);
  assert.deepEqual(chessChecks(q), []);
  assert.deepEqual(chessMateInOne(q), []);
  assert.equal(chessMaterial(q, 0), -7);
  assert.equal(chessMaterial(q, 1), 7);
  // Several mates at once.
  assert.deepEqual(chessMateInOne(chessFromFen('7k/5Q2/6K1/8/8/8/8/8 w - - 0 1')), ['Qe8#', 'Qf8#', 'Qg7#', 'Qh7#']);
});

test('subproblem truths agree with a brute force over chess.js verbose moves in seeded random positions', () => {
  const rand = mulberry32(11);
  const value: Record<string, number> = { p: 1, n: 3, b: 3, r: 5, q: 9, k: 0 };
  let positions = 0, captures = 0, mates = 0;
  for (let game = 0; game < 8; game++) {
    let s = chess.initial(game);
    for (let ply = 0; ply < 70 && !chess.result(s); ply++) {
      const c = new Chess(s.fen);
      const verbose = c.moves({ verbose: true });
      const mate: string[] = [], check: string[] = [], free: string[] = [];
      for (const m of verbose) {
        const after = new Chess(m.after);
        if (after.isCheckmate()) mate.push(m.san);
        if (after.inCheck()) check.push(m.san);
        if (m.captured) {
          captures++;
          const back = after.moves({ verbose: true }).some((r) => r.to === m.to && r.captured);
          if (m.piece !== 'k' && value[m.captured]! > value[m.piece]!) free.push(m.san);
          else if (!back) free.push(m.san);
        }
      }
      mates += mate.length;
      assert.deepEqual(chessMateInOne(s), mate.sort(), s.fen);
      assert.deepEqual(chessChecks(s), check.sort(), s.fen);
      assert.deepEqual(chessFreeCaptures(s), free.sort(), s.fen);
      positions++;
      const legal = chess.legalMoves(s);
      // Prefer captures and checks so that the positions get sharp.
      const sharp = legal.filter((m) => /[x+#]/.test(m));
      s = chess.apply(s, sharp.length && rand() < 0.6 ? sharp[Math.floor(rand() * sharp.length)]! : legal[Math.floor(rand() * legal.length)]!);
    }
  }
  assert.ok(positions > 250 && captures > 250, `${positions} positions, ${captures} captures`);
  assert.ok(mates > 0, 'some position had a mate in one');
});

test('prompt: FEN, a board with coordinates, legal moves in SAN and UCI; the chain-of-thought form asks the subproblems', () => {
  const { text, subproblems } = buildPrompt(chess, chess.initial(0), 'cot');
  assert.match(text, /FEN: rnbqkbnr\/pppppppp\/8\/8\/8\/8\/PPPPPPPP\/RNBQKBNR w KQkq - 0 1/);
  assert.match(text, /\n8 r n b q k b n r 8\n7 p p p p p p p p 7\n/);
  assert.match(text, /\n1 R N B Q K B N R 1\n {2}a b c d e f g h\n/);
  assert.match(text, /Legal moves: a3, a4, b3, /);
  assert.match(text, /Legal moves in UCI: a2a3, a2a4, /);
  assert.match(text, /MATE_IN_ONE: .*\n.*CHECKS: /);
  assert.equal(subproblems.length, 4);
  assert.match(chess.render(chessFromFen(SCHOLAR), 1), /You play Black\. White to move \(move 4\)\./);
});

test('reference players: greedy mates in one and takes a free queen; alpha–beta avoids a defended pawn; a match plays out', async () => {
  const rand = mulberry32(1);
  assert.equal(referencePlayer('greedy').choose(chess, chessFromFen(SCHOLAR), rand), 'Qxf7#');
  assert.equal(referencePlayer('greedy').choose(chess, chessFromFen('4k3/8/8/1p1q4/8/2N5/8/4K3 w - - 0 1'), rand), 'Nxd5');
  // The queen may take a pawn defended by a pawn: greedy does (one ply), alpha–beta at depth 2 does not.
  const trap = chessFromFen('4k3/8/2p5/3p4/8/8/8/3QK3 w - - 0 1');
  assert.equal(referencePlayer('greedy').choose(chess, trap, rand), 'Qxd5');
  for (let k = 0; k < 3; k++) assert.notEqual(referencePlayer('alphabeta:2').choose(chess, trap, mulberry32(k)), 'Qxd5');
  const rec = await playMatch(chess, [{ kind: 'reference', name: 'greedy', player: referencePlayer('greedy') }, { kind: 'reference', name: 'random', player: referencePlayer('random') }], { seed: 3, form: 'plain', policy: { retries: 0, then: 'random', penalty: 0 }, maxPlies: 120 });
  let s = chess.initial(3);
  for (const m of rec.moves) s = chess.apply(s, m.move);
  assert.deepEqual(chess.result(s) ?? { winner: null, score: [0, 0], reason: 'turn cap' }, rec.result);
  assert.ok(chessMaterial(s, 0) > 0, 'greedy ends ahead in material against random');
});

test('material answers keep their sign however it is written: Unicode minus, spaced, words, plus, decimals', () => {
  const s = chessFromFen('4k3/8/8/8/8/8/8/3QK3 w - - 0 1');
  const material = (seat: 0 | 1) => chess.subproblems(s, seat).find((x) => x.id === 'material')!;
  assert.equal(chessMaterial(s, 0), 9);
  assert.equal(chessMaterial(s, 1), -9);
  const score = (seat: 0 | 1, answer: string) => gradeReply([material(seat)], `MATERIAL: ${answer}`)[0]!.score;
  for (const a of ['−9', '- 9', 'minus 9', 'negative 9', '−9.0', '-9', '–9', 'Negative 9 pawns']) {
    assert.equal(score(1, a), 1, `truth -9 ← ${a}`);
    assert.equal(score(0, a), 0, `truth +9 ← ${a}`);
  }
  for (const a of ['9', '+9', '+ 9', 'plus 9', '9.0', 'positive 9']) {
    assert.equal(score(0, a), 1, `truth +9 ← ${a}`);
    assert.equal(score(1, a), 0, `truth -9 ← ${a}`);
  }
  assert.equal(score(0, 'none'), 0);
});

test('a comment after the move is dropped; two moves are a format error, never one UCI move', () => {
  const s = chess.initial(0);
  for (const [reply, move] of [
    ['MOVE: Nf3 (developing)', 'Nf3'], ['MOVE: **Nf3** (book move)', 'Nf3'], ['MOVE: Nf3 - develops the knight', 'Nf3'], ['MOVE: Nf3 developing the knight', 'Nf3'],
    ['MOVE: e4 (the king pawn)', 'e4'], ['MOVE: e2 e4', 'e4'], ['MOVE: e2 - e4', 'e4'], ['MOVE: g1 f3', 'Nf3'], ['MOVE: N f3', 'Nf3'], ['MOVE: Nf3 (e.g. Réti)', 'Nf3'],
    // a square or a threat named in the comment is not a second move
    ['MOVE: Nf3 attacking e5', 'Nf3'], ['MOVE: Nf3, attacking e5', 'Nf3'], ['MOVE: Nf3 to attack e5', 'Nf3'], ['MOVE: Nf3 threatening Ng5', 'Nf3'],
    ['MOVE: Nf3 attacking e5 and d4', 'Nf3'], ['MOVE: Nf3 attacking e5, then Ng5', 'Nf3'],
  ] as const) assert.deepEqual(parseMoveReply(chess, s, reply), { kind: 'move', move }, reply);
  for (const reply of ['MOVE: e4 e5', 'MOVE: 1. e4 e5', 'MOVE: Nf3 Nc6', 'MOVE: Nf3 or Nc3', 'MOVE: e5 e6', 'MOVE: Nf3 then Ng5', 'MOVE: Nf3 followed by Ng5', 'MOVE: Nf3 and e4', 'MOVE: e4, e5', 'MOVE: Nf3 2. Ng5']) {
    const p = parseMoveReply(chess, s, reply);
    assert.equal(p.kind, 'format', reply);
    assert.match((p as { reason: string }).reason, /several moves/, reply);
  }
  // castling written with spaces still reads, where legal
  const castle = chessFromFen('r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1');
  assert.deepEqual(parseMoveReply(chess, castle, 'MOVE: O - O'), { kind: 'move', move: 'O-O' });
  assert.deepEqual(parseMoveReply(chess, castle, 'MOVE: O-O (king safety)'), { kind: 'move', move: 'O-O' });
});
