/**
 * The protocol: move parsing tolerates case, spaces, brackets and emphasis; a reply with no move is a format error,
 * a readable move that is not legal an illegal move; prompts carry coordinates, legal moves and (chain-of-thought)
 * the subproblem questions; subproblem answers are read from `KEY: answer` lines; policies parse.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alphaBetaPlayer, buildPrompt, checkers, checkersFromRows, connect4, gradeReply, holdem, negotiation, othello, parseMoveReply, parsePolicy, pong, referencePlayer, surround, ticTacToe } from '../../src/games/index.ts';
import { oth, ttt } from './positions.ts';

test('tic-tac-toe moves: case, spaces, brackets, emphasis; illegal vs format', () => {
  const s = ttt(['...', '.X.', '...'], 1);
  for (const t of ['a1', ' A1 ', '[a1]', '(a1).', '**a1**', 'a 1', '"A1"', '<a1>']) assert.deepEqual(ticTacToe.parseMove(s, t), { kind: 'move', move: 'a1' }, t);
  assert.equal(ticTacToe.parseMove(s, 'b2').kind, 'illegal', 'occupied');
  assert.equal(ticTacToe.parseMove(s, 'd5').kind, 'illegal', 'off the board, but a move');
  assert.equal(ticTacToe.parseMove(s, 'the centre').kind, 'format');
  assert.equal(ticTacToe.parseMove(s, '').kind, 'format');
});

test('other games: their notations, tolerantly', () => {
  const c = connect4.initial(0);
  for (const t of ['d', 'D', 'column d', 'Column 4', '4', '[d]']) assert.deepEqual(connect4.parseMove(c, t), { kind: 'move', move: 'd' }, t);
  const o = othello.initial(0);
  assert.deepEqual(othello.parseMove(o, ' D3 '), { kind: 'move', move: 'd3' });
  assert.equal(othello.parseMove(o, 'pass').kind, 'illegal', 'pass is illegal while a placement exists');
  assert.equal(othello.parseMove(oth(['WWB.....', '........', '........', '........', '........', '........', '........', '........'], 0), 'PASS').kind, 'move');
  const k = checkersFromRows(['........', '........', '........', '........', '...w....', '..b.....', '........', 'b.......'], 0);
  for (const t of ['c3xe5', 'C3 x E5', 'c3-e5', '(c3, e5)', 'c3 to e5', 'c3e5']) assert.deepEqual(checkers.parseMove(k, t), { kind: 'move', move: 'c3xe5' }, t);
  assert.equal(checkers.parseMove(k, 'a1-b2').kind, 'illegal', 'captures are compulsory');
  const h = holdem.initial(0);
  assert.deepEqual(holdem.parseMove(h, 'Raise to 10'), { kind: 'move', move: 'raise 10' });
  assert.deepEqual(holdem.parseMove(h, 'ALL-IN'), { kind: 'move', move: 'raise 200' });
  assert.deepEqual(holdem.parseMove(h, 'call.'), { kind: 'move', move: 'call' });
  assert.equal(holdem.parseMove(h, 'check').kind, 'illegal');
  assert.equal(holdem.parseMove(h, 'raise 500').kind, 'illegal');
  assert.equal(holdem.parseMove(h, 'I like my cards').kind, 'format');
  const n = negotiation.apply(negotiation.initial(5), 'propose 0,0,0');
  assert.deepEqual(negotiation.parseMove(n, 'Accept.'), { kind: 'move', move: 'accept' });
  assert.deepEqual(negotiation.parseMove(n, 'propose (1, 0, 1)'), { kind: 'move', move: 'propose 1,0,1' });
  assert.deepEqual(negotiation.parseMove(n, 'Propose books=1, hats=0, balls=1'), { kind: 'move', move: 'propose 1,0,1' });
  assert.equal(negotiation.parseMove(n, 'propose 9,9,9').kind, 'illegal');
  assert.deepEqual(surround.parseMove(surround.initial(0), ' UP '), { kind: 'move', move: 'up' });
  assert.deepEqual(surround.parseMove(surround.initial(0), 'move left'), { kind: 'move', move: 'left' });
  assert.deepEqual(pong.parseMove({ ...pong.initial(0), turn: 0 }, '[Stay]'), { kind: 'move', move: 'stay' });
});

test('reading a reply: the last MOVE line wins, a short bare reply is a move, anything else a format error', () => {
  const s = ticTacToe.initial(0);
  assert.deepEqual(parseMoveReply(ticTacToe, s, 'I will take the centre.\nMOVE: b2'), { kind: 'move', move: 'b2' });
  assert.deepEqual(parseMoveReply(ticTacToe, s, 'Move: a1 looks weak.\n**Final move:** [C3]'), { kind: 'move', move: 'c3' });
  assert.deepEqual(parseMoveReply(ticTacToe, s, 'move = a2'), { kind: 'move', move: 'a2' });
  assert.deepEqual(parseMoveReply(ticTacToe, s, ' b1 '), { kind: 'move', move: 'b1' });
  assert.equal(parseMoveReply(ticTacToe, s, 'The best move here is clearly the centre square, because it controls four lines.').kind, 'format');
  assert.equal(parseMoveReply(ticTacToe, s, 'MOVE: z9').kind, 'illegal');
  assert.equal(parseMoveReply(ticTacToe, s, '').kind, 'format');
});

test('prompts: coordinates, legal moves, the answer format; chain of thought adds the subproblems', () => {
  const s = ttt(['...', 'OO.', 'XX.'], 0);
  const plain = buildPrompt(ticTacToe, s, 'plain');
  assert.match(plain.text, / {2}a b c\n3 \. \. \. 3\n2 O O \. 2\n1 X X \. 1/);
  assert.match(plain.text, /\nLegal moves: c1, c2, a3, b3, c3\n/);
  assert.match(plain.text, /MOVE: <move>/);
  assert.deepEqual(plain.subproblems, []);
  const cot = buildPrompt(ticTacToe, s, 'cot');
  assert.match(cot.text, /1\. OWN_WINS: /);
  assert.match(cot.text, /3\. FORCED_BLOCKS: /);
  assert.equal(cot.subproblems.length, 3);
  // No coordinate is written with a space inside, in any game's prompt.
  for (const [g, st] of [[othello, othello.initial(0)], [checkers, checkers.initial(0)], [surround, surround.initial(0)], [pong, pong.initial(0)]] as const) {
    const text = buildPrompt(g as never, st as never, 'cot').text;
    const legal = /Legal moves: (.*)/.exec(text)![1]!;
    assert.doesNotMatch(legal, /\b[a-l] \d/, `${g.name}: ${legal}`);
  }
  const graded = gradeReply(cot.subproblems, 'Thinking.\n1. OWN_WINS: [C1]\n**OPPONENT_WINS**: c2, a3\nforced blocks: none\nMOVE: c1');
  assert.deepEqual(graded.map((g) => [g.id, g.score, g.correct]), [['own_wins', 1, true], ['opponent_wins', 2 / 3, false], ['forced_blocks', 1, true]]);
  assert.deepEqual(gradeReply(cot.subproblems, 'MOVE: c1').map((g) => g.answer), [null, null, null]);
});

test('illegal-move policies parse, and bad ones are refused', () => {
  assert.deepEqual(parsePolicy('retry:3,forfeit'), { retries: 3, then: 'forfeit', penalty: 0.1 });
  assert.deepEqual(parsePolicy('retry:0,random,penalty:0.25'), { retries: 0, then: 'random', penalty: 0.25 });
  assert.throws(() => parsePolicy('retry:x'), /re-prompt count "x" is not an integer from 0 to 10/);
  assert.throws(() => parsePolicy('retry:11'), /re-prompt count "11" is not an integer from 0 to 10/);
});

test('illegal-move policy grammar: reprompt and retry alike; every bad policy names its fault and the grammar', () => {
  assert.deepEqual(parsePolicy('reprompt:3,forfeit'), { retries: 3, then: 'forfeit', penalty: 0.1 });
  assert.deepEqual(parsePolicy(' Reprompt:0 , RANDOM , penalty:2 '), { retries: 0, then: 'random', penalty: 2 });
  assert.deepEqual(parsePolicy('random'), { retries: 2, then: 'random', penalty: 0.1 });
  const bad: [string, RegExp][] = [
    ['reprompt:3,forfit', /cannot read "forfit"/],
    ['reprompt:-1,random', /re-prompt count "-1" is not an integer from 0 to 10/],
    ['reprompt:2.5', /re-prompt count "2.5"/],
    ['reprompt:1,reprompt:2', /reprompt is given twice/],
    ['forfeit,random', /forfeit\/random is given twice/],
    ['random,penalty:3', /penalty "3" is not a number in \[0, 2\]/],
    ['random,penalty:abc', /penalty "abc"/],
    ['reprompt:1,forfeit,penalty:0.5', /a penalty applies to random moves only/],
    ['', /it is empty/],
    [' , ', /it is empty/],
  ];
  for (const [text, why] of bad) {
    assert.throws(() => parsePolicy(text), (err: Error) => {
      assert.equal(err.name, 'InputError', text);
      assert.match(err.message, why, text);
      assert.match(err.message, /^field "illegal": /, text);
      assert.match(err.message, /write reprompt:<k> \(or retry:<k>; k = 0\.\.10 re-prompts\), then forfeit or random/, text);
      return true;
    });
  }
});

test('reference players by name: case and spaces ignored; unknown names and bad depths refused with the known names', () => {
  assert.equal(referencePlayer(' Greedy ').name, 'greedy');
  assert.equal(referencePlayer('alphabeta').name, 'alphabeta:3');
  assert.equal(referencePlayer('AlphaBeta:5').name, 'alphabeta:5');
  for (const [name, why] of [['minimax', /unknown reference player "minimax"; known: random, greedy, alphabeta:<d> \(d = 1\.\.8/], ['alphabeta:0', /depth "0" is not an integer from 1 to 8/], ['alphabeta:9', /depth "9" is not an integer from 1 to 8/], ['alphabeta:x', /depth "x"/], ['', /unknown reference player ""/]] as const) {
    assert.throws(() => referencePlayer(name), (err: Error) => err.name === 'InputError' && why.test(err.message) && /^field "opponent": /.test(err.message), name);
  }
  assert.throws(() => alphaBetaPlayer(9), /from 1 to 8 \(got 9\)/);
});
