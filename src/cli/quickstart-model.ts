/**
 * `assay quickstart --model <address>`: the tour on the user's own model (a local GGUF through `llama-cpp:`, or any
 * endpoint), kept small enough for a CPU: the generated arithmetic problems answered by generation (epochs with
 * seeds, graded by the math scorer), the same problems as 4-option multiple choice scored by log-likelihood (`acc`,
 * `acc_norm`), and the problems' text scored as a corpus (bits per byte). The two log-likelihood parts run only when
 * the model can score (an in-process model, or an endpoint that returns prompt log-probabilities: probed once);
 * otherwise the tour says why they were skipped. Every figure comes with its 95% CI.
 */
import { InputError } from '../core/errors.ts';
import { sha256, stableStringify } from '../core/hash.ts';
import { createRng } from '../core/rng.ts';
import type { Sample } from '../core/schemas.ts';
import { getTemplate } from '../core/templates.ts';
import { generateArithmetic } from '../generators/arithmetic.ts';
import { perplexityOfRun } from '../analyses/loglikelihood.ts';
import { runStatistics } from '../analyses/statistics.ts';
import { createProvider } from '../providers/registry.ts';
import { ensureCapabilities } from '../providers/scoring.ts';
import { formatPerplexity } from '../report/loglikelihood.ts';
import { pct, table } from '../report/text.ts';
import { ciFootnote } from './common.ts';
import { executeRun } from '../runner/run.ts';
import { createScorer } from '../scorers/registry.ts';
import { loglikelihoodChoice, loglikelihoodRolling } from '../solvers/loglikelihood.ts';
import type { Pool } from '../store/types.ts';

/** The arithmetic problems as 4-option multiple choice: the answer and three near misses, in a seeded order. */
export function arithmeticChoices(samples: readonly Sample[], seed: number): Sample[] {
  const rng = createRng(seed);
  return samples.map((s) => {
    const gold = Number(s.target);
    const wrong = new Set<number>();
    while (wrong.size < 3) {
      const d = (1 + rng.int(9)) * (rng.int(2) ? 1 : -1);
      if (gold + d !== gold && gold + d >= 0) wrong.add(gold + d);
    }
    const options = [gold, ...wrong].map(String);
    for (let i = options.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [options[i], options[j]] = [options[j]!, options[i]!];
    }
    return { ...s, id: `${s.id}-mc`, choices: options, target: String(gold) };
  });
}

/**
 * Run the tour on `model`. Returns the run ids (generation, then choice and rolling when the model can score).
 * With `io.json`, prints one document: `{ model, runs, generation, choice: { acc, acc_norm } | null,
 * loglikelihood_skipped, perplexity }`, each statistic with its 95% CIs. Errors: InputError for a bad model address.
 */
export async function runModelQuickstart(
  pool: Pool,
  model: string,
  io: { json: boolean; log: (s: string) => void; out: (s: string) => void; printJson: (v: unknown) => void },
  opts: { limit?: number; epochs?: number } = {},
): Promise<string[]> {
  const n = opts.limit ?? 50;
  const epochs = opts.epochs ?? 2;
  const provider = await createProvider(model, { concurrency: 8 });
  try {
    const samples = generateArithmetic(n, 0);
    const dataset = { ref: `generated:arithmetic?n=${n}&seed=0`, name: 'arithmetic', path: null, hash: sha256(stableStringify(samples)), samples };
    io.log(`assay quickstart on ${model}: ${n} generated arithmetic problems × ${epochs} epochs (generation), then the same as multiple choice and as a corpus (log-likelihood)`);
    const gen = await executeRun({ pool, dataset, template: getTemplate('math-boxed'), model, config: { seed: 0, temperature: 0.7, max_tokens: 512, chat_template: true }, epochs, scorers: [createScorer('math')], concurrency: 8, provider });
    const genStats = (await runStatistics(pool, gen.run_id, { scorer: 'math' })).statistics;
    const rows: string[][] = [[gen.run_id.slice(0, 8), `generation, avg@${epochs}`, 'math', pct(genStats.accuracy), `[${pct(genStats.ci95.lo)}, ${pct(genStats.ci95.hi)}]`]];
    const runs = [gen.run_id];
    let skipped: string | null = null;
    let perplexity = null;
    const choice: Record<string, Awaited<ReturnType<typeof runStatistics>>['statistics']> = {};
    try {
      await ensureCapabilities(provider, ['loglikelihood']);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      skipped = err.message;
    }
    if (!skipped) {
      const mc = arithmeticChoices(samples, 0);
      const mcData = { ref: `generated:arithmetic-choice?n=${n}&seed=0`, name: 'arithmetic-choice', path: null, hash: sha256(stableStringify(mc)), samples: mc };
      const solver = loglikelihoodChoice();
      const mcRun = await executeRun({
        pool, dataset: mcData, template: getTemplate('text:Question: {question}\nAnswer:'), model, config: { chat_template: false }, epochs: 1,
        scorers: [createScorer('acc'), createScorer('acc_norm')], solver, solverSpec: [{ name: 'loglikelihood_choice', options: {} }], concurrency: 8, provider,
      });
      runs.push(mcRun.run_id);
      for (const s of ['acc', 'acc_norm']) {
        const st = (await runStatistics(pool, mcRun.run_id, { scorer: s })).statistics;
        choice[s] = st;
        rows.push([mcRun.run_id.slice(0, 8), '4-option choice by log-likelihood', s, pct(st.accuracy), `[${pct(st.ci95.lo)}, ${pct(st.ci95.hi)}]`]);
      }
      const rollRun = await executeRun({
        pool, dataset, template: getTemplate('plain'), model, config: { chat_template: false }, epochs: 1, scorers: [createScorer('bits_per_byte')],
        solver: loglikelihoodRolling(), solverSpec: [{ name: 'loglikelihood_rolling', options: {} }], concurrency: 8, provider,
      });
      runs.push(rollRun.run_id);
      perplexity = await perplexityOfRun(pool, rollRun.run_id);
    }
    if (io.json) {
      io.printJson({ model, runs, generation: genStats, choice: skipped ? null : choice, loglikelihood_skipped: skipped, perplexity });
      return runs;
    }
    io.out(table(['run', 'what', 'scorer', 'value', '95% CI'], rows));
    io.out(ciFootnote([genStats.ci95.method, ...Object.values(choice).map((st) => st.ci95.method)]));
    if (skipped) io.out(`\nlog-likelihood parts skipped: ${skipped}`);
    if (perplexity) io.out('\nThe problems as a corpus:\n' + formatPerplexity(perplexity));
    io.out(`\nNext: assay stats ${gen.run_id.slice(0, 8)} · assay export ${gen.run_id.slice(0, 8)} --format csv · assay report ${runs.map((r) => r.slice(0, 8)).join(' ')} -o report.html`);
    return runs;
  } finally {
    await provider.close();
  }
}
