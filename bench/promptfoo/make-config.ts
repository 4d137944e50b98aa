/**
 * Writes a promptfoo config that evaluates N GSM8K questions against an OpenAI-compatible endpoint (the fake
 * server), for the peer throughput comparison in bench/promptfoo/run.sh.
 *
 *   node --import tsx bench/promptfoo/make-config.ts --url http://127.0.0.1:8000/v1 --n 1319 \
 *        --gsm8k /work/shared/data/gsm8k/test.jsonl --out /tmp/x/promptfooconfig.json [--model fake-model] [--concurrency 64]
 *
 * N larger than the file repeats the questions in order (the scaling case: 50,000). Each test carries the
 * question and its gold answer (text after "#### "); one javascript assertion per test (in `defaultTest`)
 * compares the last number of the output with the gold answer — the same grading Assay's GSM8K task does.
 * Prints `{"config": path, "n": N}`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** JavaScript assertion body (promptfoo `javascript` type): last number in the output equals the gold answer. */
export const LAST_NUMBER_ASSERTION =
  "(m => !!m && Number(m[m.length - 1]) === Number(context.vars.gold))(String(output).replace(/,/g, '').match(/-?\\d+(?:\\.\\d+)?/g))";

/** The prompt template (nunjucks, as promptfoo renders it). */
export const PROMPT = 'Solve the following math problem step by step. End with "The answer is N".\n\n{{question}}';

/**
 * Builds the promptfoo config object for `n` tests drawn in order (cycling) from GSM8K rows.
 * @param rows GSM8K rows `{question, gold}` (gold already extracted), at least one.
 */
export function buildConfig(
  rows: Array<{ question: string; gold: string }>,
  n: number,
  url: string,
  model: string,
  concurrency: number,
): Record<string, unknown> {
  if (rows.length === 0) throw new Error('no GSM8K rows');
  const tests = new Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i % rows.length] as { question: string; gold: string };
    tests[i] = { vars: { question: r.question, gold: r.gold } };
  }
  return {
    description: `Assay peer benchmark: GSM8K x${n} against ${url}`,
    prompts: [PROMPT],
    providers: [
      {
        id: `openai:chat:${model}`,
        config: { apiBaseUrl: url, apiKey: 'sk-dummy-fake-server', temperature: 0, max_tokens: 512 },
      },
    ],
    defaultTest: { assert: [{ type: 'javascript', value: LAST_NUMBER_ASSERTION }] },
    evaluateOptions: { maxConcurrency: concurrency, cache: false, showProgressBar: false },
    sharing: false,
    tests,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      n: { type: 'string', default: '1319' },
      gsm8k: { type: 'string', default: '/work/shared/data/gsm8k/test.jsonl' },
      out: { type: 'string' },
      model: { type: 'string', default: 'fake-model' },
      concurrency: { type: 'string', default: '64' },
    },
  });
  if (!values.url || !values.out) throw new Error('--url and --out are required');
  const rows = readFileSync(values.gsm8k, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const j = JSON.parse(l) as { question: string; answer: string };
      const i = j.answer.lastIndexOf('#### ');
      return { question: j.question, gold: j.answer.slice(i + 5).trim().replace(/,/g, '') };
    });
  const n = Number(values.n);
  const config = buildConfig(rows, n, values.url, values.model, Number(values.concurrency));
  writeFileSync(values.out, JSON.stringify(config));
  process.stdout.write(`${JSON.stringify({ config: values.out, n })}\n`);
}

main();
