/**
 * The hand evaluator over every one of the 2,598,960 five-card hands: category counts equal the published
 * frequencies (e.g. Wikipedia "Poker probability", 5-card table: 4 royal flushes, 36 other straight flushes, 10,200
 * straights including the 10 wheels…) and the number of distinct hand values is 7,462, the known number of
 * equivalence classes of five-card poker hands (Cactus Kev's evaluator), which checks every tie-break.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateFive, HAND_CATEGORIES } from '../../src/games/index.ts';

test('every five-card hand: published category frequencies and 7,462 distinct values', () => {
  const deck: string[] = [];
  for (const r of '23456789TJQKA') for (const s of 'cdhs') deck.push(r + s);
  const counts = Object.fromEntries(HAND_CATEGORIES.map((c) => [c, 0])) as Record<string, number>;
  const values = new Set<number>();
  let wheels = 0;
  for (let a = 0; a < 52; a++) for (let b = a + 1; b < 52; b++) for (let c = b + 1; c < 52; c++) for (let d = c + 1; d < 52; d++) for (let e = d + 1; e < 52; e++) {
    const v = evaluateFive([deck[a]!, deck[b]!, deck[c]!, deck[d]!, deck[e]!]);
    counts[v.category]!++;
    values.add(v.score);
    if (v.category === 'straight' && a < 4 && e >= 48 && deck[d]![0] === '5') wheels++;
  }
  assert.deepEqual(counts, {
    'high card': 1302540, 'one pair': 1098240, 'two pair': 123552, 'three of a kind': 54912, straight: 10200, flush: 5108,
    'full house': 3744, 'four of a kind': 624, 'straight flush': 36, 'royal flush': 4,
  });
  assert.equal(values.size, 7462);
  assert.equal(wheels, 4 ** 5 - 4, 'A-2-3-4-5 in mixed suits: 1,020 wheels');
});
