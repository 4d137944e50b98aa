/**
 * A seeded generator of small arithmetic word problems with exact answers, for the offline quickstart
 * (no download, no keys). Pure: (count, seed) → the same samples, byte for byte.
 */
import type { Sample } from '../core/schemas.ts';
import { createRng } from '../core/rng.ts';

const ITEMS = ['apples', 'books', 'marbles', 'stamps', 'coins', 'pencils', 'shells', 'cards'];
const NAMES = ['Ada', 'Bo', 'Chen', 'Dara', 'Eli', 'Fatima', 'Goran', 'Hana'];

/** Generate `count` distinct two-step arithmetic problems. Metadata records generator name, version, seed and kind. */
export function generateArithmetic(count: number, seed: number): Sample[] {
  const rng = createRng(seed);
  const out: Sample[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; ) {
    const name = NAMES[rng.int(NAMES.length)]!;
    const item = ITEMS[rng.int(ITEMS.length)]!;
    const a = 2 + rng.int(40), b = 2 + rng.int(9), c = 1 + rng.int(30);
    const kind = rng.int(3);
    let question: string, answer: number;
    if (kind === 0) {
      question = `${name} has ${a} boxes with ${b} ${item} each and gives away ${c} ${item}. How many ${item} are left?`;
      answer = a * b - c;
    } else if (kind === 1) {
      question = `${name} buys ${a} ${item} every day for ${b} days, then finds ${c} more. How many ${item} does ${name} have?`;
      answer = a * b + c;
    } else {
      question = `${name} shares ${a * b} ${item} equally among ${b} friends and keeps ${c} extra. How many ${item} does ${name} keep in total if ${name} also takes one share?`;
      answer = a + c;
    }
    if (seen.has(question)) continue; // every problem distinct: a duplicate would count one question twice
    seen.add(question);
    out.push({ id: `arith-${seed}-${i}`, input: question, target: String(answer), metadata: { generator: 'arithmetic', version: 2, seed, kind } });
    i++;
  }
  return out;
}
