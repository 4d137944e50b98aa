/**
 * Grading benchmark (the graders' speed and agreement on real recorded outputs): grade the 800 recorded Qwen2.5-Math
 * MATH responses and the 5,276 recorded GSM8K solutions (4 systems × 1319) with the `math` scorer (and the GSM8K
 * ones also with `gsm8k`), one verdict at a time as the runner does. Reports verdicts per second, the slowest single verdict (with what it was), how many
 * verdicts needed the symbolic worker, and agreement with the published verdicts.
 *
 *   node --import tsx bench/grading.ts [--rounds 3]      # writes bench/out/grading.json
 *
 * The first round includes the symbolic worker's start-up (compute-engine import); later rounds are warm.
 */
import { join } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Sample } from '../src/core/schemas.ts';
import { createScorer } from '../src/scorers/registry.ts';
import type { Scorer } from '../src/scorers/types.ts';
import { shared } from '../testkit/shared.ts';

const DATA = shared('data/');
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] ?? 0) || 3;

function jsonl<T = Record<string, any>>(rel: string): T[] {
  return readFileSync(join(DATA, rel), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
}

interface Item { sample: Sample; response: string; published: boolean; label: string }

const qwen: Item[] = [];
for (const r of jsonl('outputs/qwen25math_math_cot_100.jsonl')) {
  (r.code as string[]).forEach((resp, i) => qwen.push({ sample: { id: String(r.idx), input: r.question, target: r.answer, metadata: {} }, response: resp, published: r.score[i], label: `qwen idx ${r.idx} #${i}` }));
}
const gsm: Item[] = [];
const solutions = jsonl('gsm8k/model_solutions.jsonl');
for (const sys of ['6b_finetuning', '6b_verification', '175b_finetuning', '175b_verification']) {
  solutions.forEach((r, i) => gsm.push({ sample: { id: String(i), input: r.question, target: r.ground_truth, metadata: {} }, response: r[sys].solution, published: r[sys].is_correct, label: `gsm8k ${sys} #${i}` }));
}

interface Result { set: string; scorer: string; round: number; verdicts: number; seconds: number; verdicts_per_s: number; slowest_ms: number; slowest: string; p99_ms: number; async_verdicts: number; agree_with_published: number; timeouts: number }

async function grade(set: string, items: Item[], scorer: Scorer, round: number): Promise<Result> {
  const times: number[] = [];
  let slowest = 0, slowestLabel = '', asyncN = 0, agree = 0, timeouts = 0;
  const t0 = performance.now();
  for (const it of items) {
    const t = performance.now();
    const r = scorer.score(it.sample, it.response);
    if (r instanceof Promise) asyncN++;
    const v = await r;
    const ms = performance.now() - t;
    times.push(ms);
    if (ms > slowest) {
      slowest = ms;
      slowestLabel = `${it.label} (${v.status}, extracted ${JSON.stringify((v.extracted ?? '').slice(0, 40))})`;
    }
    if ((v.value === 1) === it.published) agree++;
    if (v.status === 'grader_timeout') timeouts++;
  }
  const seconds = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  return {
    set, scorer: scorer.name, round, verdicts: items.length, seconds: +seconds.toFixed(3), verdicts_per_s: Math.round(items.length / seconds),
    slowest_ms: +slowest.toFixed(1), slowest: slowestLabel, p99_ms: +times[Math.floor(0.99 * (times.length - 1))]!.toFixed(2), async_verdicts: asyncN,
    agree_with_published: agree, timeouts,
  };
}

const results: Result[] = [];
for (let round = 1; round <= rounds; round++) {
  const math = createScorer('math');
  results.push(await grade('qwen25math (800)', qwen, math, round));
  results.push(await grade('gsm8k solutions (5276)', gsm, math, round));
  results.push(await grade('gsm8k solutions (5276)', gsm, createScorer('gsm8k'), round));
}
for (const r of results) {
  console.log(`round ${r.round}  ${r.set.padEnd(24)} ${r.scorer.padEnd(6)} ${String(r.verdicts_per_s).padStart(7)} verdicts/s  slowest ${r.slowest_ms} ms (${r.slowest})  p99 ${r.p99_ms} ms  symbolic ${r.async_verdicts}  agree ${r.agree_with_published}/${r.verdicts}  timeouts ${r.timeouts}`);
}
const out = { when: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, results };
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
writeFileSync(new URL('./out/grading.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
process.exit(0);
