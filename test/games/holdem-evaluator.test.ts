/**
 * The Hold'em hand evaluator against an independent one (pokersolver 2.1, npm): on 10,000 seeded random heads-up
 * deals (20,000 seven-card hands) both give every hand the same category and every showdown the same winner, ties
 * included; and on special hands — royal flush, the wheel A-2-3-4-5 as a straight and as a straight flush (each the
 * lowest of its kind), two pairs with the best kicker out of three pairs, a full house from two trips, split pots
 * where the board plays. The 1,000,000-hand run is bench/holdem-evaluator.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestHand } from '../../src/games/index.ts';
import { ourVerdict, pokersolverCategory, pokersolverVerdict, randomDeals, type Deal } from '../../testkit/poker.ts';

test('20,000 seeded random hands: the same category and the same head-to-head winner as pokersolver', () => {
  const deals = randomDeals(10_000, 2025);
  const seen = new Set<string>();
  let ties = 0;
  const disagree: string[] = [];
  for (const d of deals) {
    const ours = ourVerdict(d), theirs = pokersolverVerdict(d);
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) disagree.push(`${d.board.join(' ')} | ${d.a.join(' ')} vs ${d.b.join(' ')}: ours ${JSON.stringify(ours)}, pokersolver ${JSON.stringify(theirs)}`);
    seen.add(ours.a).add(ours.b);
    if (ours.winner === 'tie') ties++;
  }
  assert.deepEqual(disagree.slice(0, 5), []);
  // The sample reaches the common categories up to four of a kind, and split pots.
  for (const c of ['high card', 'one pair', 'two pair', 'three of a kind', 'straight', 'flush', 'full house', 'four of a kind']) assert.ok(seen.has(c), c);
  assert.ok(ties > 50, `${ties} split pots`);
});

test('special hands: royal flush, wheels, two pairs with kicker, full house from two trips, split pots', () => {
  const cases: { board: string; a: string; b: string; cats: [string, string]; winner: 'a' | 'b' | 'tie' }[] = [
    // Royal flush against a king-high straight flush.
    { board: 'Kh Qh Jh Th 2c', a: 'Ah 3d', b: '9h 3s', cats: ['royal flush', 'straight flush'], winner: 'a' },
    // The wheel A-2-3-4-5 is a straight, and loses to the six-high straight.
    { board: '2c 3d 4h 5s Kd', a: 'Ac Kc', b: '6d 7d', cats: ['straight', 'straight'], winner: 'b' },
    // The steel wheel (A-5 of one suit) is a straight flush, the lowest one: a six-high straight flush beats it.
    { board: '2d 3d 4d 5d 9c', a: 'Ad Kc', b: '6d Qs', cats: ['straight flush', 'straight flush'], winner: 'b' },
    // And it beats four of a kind.
    { board: '2d 3d 4d 5d 5c', a: 'Ad Kc', b: '5h 5s', cats: ['straight flush', 'four of a kind'], winner: 'a' },
    // Three pairs: the best two pairs play with the best kicker (the third pair's queen beats a jack).
    { board: 'As Ah Kd Kc 2s', a: 'Qh Qs', b: 'Jh 3c', cats: ['two pair', 'two pair'], winner: 'a' },
    // Two pairs on the board, the kicker decides.
    { board: '9s 9h 4d 4c 2s', a: 'Ah 3c', b: 'Kh Qc', cats: ['two pair', 'two pair'], winner: 'a' },
    // Two trips make a full house, aces full of kings, over kings full of aces.
    { board: 'As Ah Kd Kc 2s', a: 'Ad Kh', b: 'Ks Qh', cats: ['full house', 'full house'], winner: 'a' },
    // The board plays for both: a split pot.
    { board: 'Ts Js Qs Ks As', a: '2c 3d', b: '4h 5h', cats: ['royal flush', 'royal flush'], winner: 'tie' },
    { board: '2s 2h 7d 7c Ad', a: '3c 4d', b: '5h 6h', cats: ['two pair', 'two pair'], winner: 'tie' },
    // A flush beats a straight; the higher flush card decides.
    { board: '6h 7h 8c 9h 2h', a: 'Th 3c', b: 'Ah 4c', cats: ['flush', 'flush'], winner: 'b' },
  ];
  for (const c of cases) {
    const d: Deal = { board: c.board.split(' '), a: c.a.split(' '), b: c.b.split(' ') };
    const want = { a: c.cats[0], b: c.cats[1], winner: c.winner };
    assert.deepEqual(ourVerdict(d), want, `ours: ${c.board} | ${c.a} vs ${c.b}`);
    assert.deepEqual(pokersolverVerdict(d), want, `pokersolver: ${c.board} | ${c.a} vs ${c.b}`);
  }
  // The five cards of two pairs from three: aces and kings with a queen kicker.
  const five = bestHand('As Ah Kd Kc 2s Qh Qs'.split(' ')).cards;
  assert.deepEqual(five.filter((x) => x[0] !== 'Q').sort(), ['Ah', 'As', 'Kc', 'Kd']);
  assert.equal(five.filter((x) => x[0] === 'Q').length, 1);
  assert.equal(pokersolverCategory('Ac 2d 3h 4s 5c 9d Kh'.split(' ')), 'straight');
});
