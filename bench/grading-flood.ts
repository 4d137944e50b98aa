/**
 * Grading-flood benchmark (every verdict within the grader's time bound): a model stuck in a repetition loop until
 * its token limit writes ~700 KB of the same thing. Each shape below is graded by the `math`, `choice` and `gsm8k` scorers, one verdict at
 * a time as the runner does, and timed (wall clock, best and worst of a few rounds); `100001!` against `100000!`
 * (and a few other huge factorials) is timed through the `math` scorer, which must refuse or decide it cheaply
 * instead of spending the symbolic worker's 2 s budget.
 *
 *   node --import tsx bench/grading-flood.ts [--rounds 3] [--kb 700]     # writes bench/out/grading-flood.json
 *
 * Figures, not assertions: the only timed assertion is the 2 s verdict bound in the tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Sample } from '../src/core/schemas.ts';
import { createScorer } from '../src/scorers/registry.ts';
import { sharedPool } from '../src/scorers/symbolic.ts';
import type { Scorer } from '../src/scorers/types.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const rounds = arg('--rounds', 3);
const size = arg('--kb', 700) * 1000;

/** `unit` repeated (whole units) to about `size` characters, then `end`. */
const flood = (unit: string, end = ''): string => unit.repeat(Math.max(1, Math.round(size / unit.length))) + end;

/** The flood shapes: [name, response, math/gsm8k gold, choice gold]. */
const SHAPES: Array<[string, string, string, string]> = [
  ['unclosed boxes (`\\boxed{` ×100k, then 7)', flood('\\boxed{', '7'), '5', 'B'],
  ['nested closed boxes then a final box', flood('\\boxed{1}') + ' so \\boxed{5}', '5', 'B'],
  ['repeated reasoning line', flood('Wait, let me recompute: 3 * 4 = 12, and 12 + 5 = 17, so the total is 17.\n'), '17', 'B'],
  ['repeated "Answer:" lines', flood('Answer: 17\n'), '17', 'B'],
  ['repeated "The answer is (B)." lines', flood('The answer is (B).\n'), '5', 'B'],
  ['unclosed math spans (`\\(` and `$` ×100k)', flood('\\( $ 1 '), '1', 'B'],
  ['braces without boxes (`{` ×700k)', flood('{', '}'), '5', 'B'],
  ['"answer" with long whitespace runs', flood('answer' + ' '.repeat(5000)), '5', 'B'],
  ['unclosed think block', '<think>' + flood('hmm, maybe \\boxed{3}. '), '3', 'B'],
  ['letters and parentheses', flood('(A) (B) I think A is wrong. '), '5', 'B'],
];

const sample = (target: string): Sample => ({ id: 'flood', input: 'q', target, metadata: {} });

interface Row { shape: string; scorer: string; chars: number; best_ms: number; worst_ms: number; value: number | null; status: string; explanation: string | null }

async function time(scorer: Scorer, target: string, response: string): Promise<{ ms: number; v: Awaited<ReturnType<Scorer['score']>> }> {
  const t = performance.now();
  const v = await scorer.score(sample(target), response);
  return { ms: performance.now() - t, v };
}

const scorers = { math: createScorer('math'), choice: createScorer('choice'), gsm8k: createScorer('gsm8k') };
// warm the code paths (and the symbolic worker) once so the figures are the steady state
for (const s of Object.values(scorers)) await s.score(sample('1'), 'The answer is \\boxed{1}.');
await scorers.math.score(sample('120'), '5!');

const rows: Row[] = [];
for (const [shape, response, gold, letter] of SHAPES) {
  for (const [name, scorer] of Object.entries(scorers)) {
    const times: number[] = [];
    let last: Awaited<ReturnType<typeof time>>['v'] | null = null;
    for (let r = 0; r < rounds; r++) {
      // a fresh string each time (a harmless prefix), so no verdict reuses the scan of an earlier one
      const { ms, v } = await time(scorer, name === 'choice' ? letter : gold, `[round ${r}, ${name}] ${response}`);
      times.push(ms);
      last = v;
    }
    rows.push({ shape, scorer: name, chars: response.length, best_ms: Math.min(...times), worst_ms: Math.max(...times), value: last!.value, status: last!.status, explanation: last!.explanation });
  }
}

/** Huge factorials through the `math` scorer: [gold, response]. */
const FACTORIALS: Array<[string, string]> = [
  ['100000!', '100001!'],
  ['100000!', '\\boxed{100000!}'],
  ['5', '\\boxed{100001!}'],
  ['1', '\\boxed{(10^6)!}'],
  ['100000!', '\\boxed{100000 \\cdot 99999!}'],
  ['\\frac{1}{2004!}', '\\boxed{\\frac{1}{2006!}}'],
  ['120', '\\boxed{5!}'],
];
const facts: Array<{ gold: string; response: string; best_ms: number; worst_ms: number; value: number | null; status: string; explanation: string | null }> = [];
for (const [gold, response] of FACTORIALS) {
  const times: number[] = [];
  let last: Awaited<ReturnType<typeof time>>['v'] | null = null;
  for (let r = 0; r < rounds; r++) {
    const { ms, v } = await time(scorers.math, gold, response);
    times.push(ms);
    last = v;
  }
  facts.push({ gold, response, best_ms: Math.min(...times), worst_ms: Math.max(...times), value: last!.value, status: last!.status, explanation: last!.explanation });
}

const f = (x: number) => x.toFixed(1).padStart(8);
console.log(`grading flood: ${(size / 1000).toFixed(0)} KB responses, ${rounds} rounds, ${cpus().length} CPUs, Node ${process.version}`);
console.log(`${'shape'.padEnd(46)} ${'scorer'.padEnd(7)} ${'best ms'.padStart(8)} ${'worst ms'.padStart(8)}  verdict`);
for (const r of rows) console.log(`${r.shape.slice(0, 46).padEnd(46)} ${r.scorer.padEnd(7)} ${f(r.best_ms)} ${f(r.worst_ms)}  ${r.value} ${r.status}: ${(r.explanation ?? '').slice(0, 60)}`);
console.log('\nhuge factorials (math scorer)');
for (const r of facts) console.log(`${`${r.gold} vs ${r.response}`.slice(0, 54).padEnd(54)} ${f(r.best_ms)} ${f(r.worst_ms)}  ${r.value} ${r.status}: ${(r.explanation ?? '').slice(0, 70)}`);
const worst = Math.max(...rows.map((r) => r.worst_ms));
console.log(`\nslowest flood verdict: ${worst.toFixed(1)} ms; slowest factorial verdict: ${Math.max(...facts.map((r) => r.worst_ms)).toFixed(1)} ms`);

mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./out/grading-flood.json', import.meta.url),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, chars: size, rounds, floods: rows, factorials: facts }, null, 2) + '\n',
);
await sharedPool().close?.();
process.exit(0);
