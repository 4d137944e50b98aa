/**
 * A small multiple-choice task for log-likelihood tests and the fake server's `tokenLogprob`: n sums as 4-option
 * questions, and a model that gives the gold option −(base + noise) nats and every other option one nat less, the
 * noise (in [0, 2)) varying by question so per-sample bits per byte vary. A lower `base` is the better model.
 */
import type { Sample } from '../src/core/schemas.ts';
import { hash32 } from './fake-openai-server.ts';

/** n questions `What is a + b?` with options [gold, gold + 1, gold − 3, gold + 10]. */
export function sumQuestions(n: number): Sample[] {
  return Array.from({ length: n }, (_, i) => {
    const a = 10 + i, b = 7 + ((i * 13) % 50);
    const gold = a + b;
    return { id: `sum-${i}`, input: `What is ${a} + ${b}?`, target: String(gold), choices: [gold, gold + 1, gold - 3, gold + 10].map(String), metadata: {} };
  });
}

/** The log-probability a model of strength `base` gives `token` after `prefix` (prompt `text:{question}\nAnswer:`). */
export const sumModel = (base: number) => (prefix: string, token: string): number => {
  const m = /What is (\d+) \+ (\d+)\?\nAnswer:$/.exec(prefix);
  if (!m) return -1;
  const gold = Number(m[1]) + Number(m[2]);
  const noise = (hash32(`${m[1]}+${m[2]}:${base}`) / 4294967296) * 2;
  return token === ` ${gold}` ? -(base + noise) : -(base + 1 + noise);
};
