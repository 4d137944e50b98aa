/**
 * The Hold'em hand evaluator (src/games/holdem.ts `bestHand`) against pokersolver 2.1 (npm, an independent
 * implementation) on 1,000,000 seeded random seven-card hands: 500,000 heads-up deals (five board cards, two hole
 * cards each), each hand's category and each showdown's winner (ties included) compared. Prints the disagreements
 * (must be 0; the first few are listed), the category counts, and hands per second for each evaluator; writes
 * bench/out/holdem-evaluator.json.
 *
 *   node --import tsx bench/holdem-evaluator.ts [--hands 1000000] [--seed 7]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { HAND_CATEGORIES } from '../src/games/holdem.ts';
import { categoryIndex, ourVerdict, pokersolverVerdict, randomDeals, type Verdict } from '../testkit/poker.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const hands = arg('hands', 1_000_000), seed = arg('seed', 7);
const deals = Math.ceil(hands / 2);
const CHUNK = 50_000;
let oursMs = 0, theirsMs = 0, disagreements = 0, ties = 0;
const examples: string[] = [];
const counts = new Array<number>(HAND_CATEGORIES.length).fill(0);
// Deals are drawn chunk by chunk from one seeded generator stream (chunk k uses seed + k), each side timed apart.
for (let k = 0, done = 0; done < deals; k++) {
  const n = Math.min(CHUNK, deals - done);
  const batch = randomDeals(n, seed + k);
  let t = performance.now();
  const ours: Verdict[] = batch.map(ourVerdict);
  oursMs += performance.now() - t;
  t = performance.now();
  const theirs: Verdict[] = batch.map(pokersolverVerdict);
  theirsMs += performance.now() - t;
  for (let i = 0; i < n; i++) {
    const a = ours[i]!, b = theirs[i]!;
    counts[categoryIndex(a.a)]!++;
    counts[categoryIndex(a.b)]!++;
    if (a.winner === 'tie') ties++;
    const bad = (a.a !== b.a ? 1 : 0) + (a.b !== b.b ? 1 : 0) + (a.winner !== b.winner ? 1 : 0);
    if (bad) {
      disagreements += bad;
      const d = batch[i]!;
      if (examples.length < 10) examples.push(`${d.board.join(' ')} | ${d.a.join(' ')} vs ${d.b.join(' ')}: ours ${JSON.stringify(a)}, pokersolver ${JSON.stringify(b)}`);
    }
  }
  done += n;
  process.stderr.write(`\r${(2 * done).toLocaleString('en')} hands`);
}
process.stderr.write('\n');
const result = {
  hands: 2 * deals, showdowns: deals, seed, disagreements, split_pots: ties,
  categories: Object.fromEntries(HAND_CATEGORIES.map((c, i) => [c, counts[i]])),
  ours: { seconds: +(oursMs / 1000).toFixed(2), hands_per_second: Math.round((2 * deals) / (oursMs / 1000)) },
  pokersolver: { seconds: +(theirsMs / 1000).toFixed(2), hands_per_second: Math.round((2 * deals) / (theirsMs / 1000)) },
  examples, node: process.version,
};
console.log(`${result.hands.toLocaleString('en')} hands (${deals.toLocaleString('en')} showdowns, seed ${seed}): ${disagreements} disagreements (categories and winners), ${ties.toLocaleString('en')} split pots`);
console.log(`ours:        ${result.ours.seconds} s, ${result.ours.hands_per_second.toLocaleString('en')} hands/s`);
console.log(`pokersolver: ${result.pokersolver.seconds} s, ${result.pokersolver.hands_per_second.toLocaleString('en')} hands/s`);
console.log(JSON.stringify(result.categories));
for (const e of examples) console.log('  ' + e);
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
writeFileSync(new URL('./out/holdem-evaluator.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
if (disagreements) process.exitCode = 1;
