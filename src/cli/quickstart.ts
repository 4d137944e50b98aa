/**
 * `assay quickstart`: the whole pipeline offline on the embedded store. A seeded generator makes 200 arithmetic
 * word problems; three clearly labelled synthetic reference models answer them for 5 epochs (an oracle, and two
 * "noisy" models right with probability 0.8 and 0.6 per attempt, 5% of whose answers are truncated);
 * the math scorer grades every response; statistics come with cluster-bootstrap CIs. Then a small needle-threading
 * grid (seeded) answered by `reference:needle-noisy`, with its effective context limit in characters and in tokens
 * (the synthetic model has no tokenizer and records no prompt tokens, so a named one is used and said:
 * {@link QUICKSTART_TOKENIZER}).
 */
import { sha256, stableStringify } from '../core/hash.ts';
import { getTemplate } from '../core/templates.ts';
import { generateArithmetic } from '../generators/arithmetic.ts';
import { executeRun } from '../runner/run.ts';
import { createScorer } from '../scorers/registry.ts';
import { contextLimitOfRun } from '../analyses/context-limit.ts';
import { runStatistics } from '../analyses/statistics.ts';
import type { Pool } from '../store/types.ts';
import { formatStatistics, pct, table } from '../report/text.ts';
import { ciFootnote } from './common.ts';
import { DEFAULT_GRID, generateGrid, validateGrid } from '../generators/needle/index.ts';

/** The tokenizer the quickstart states its needle limit in (the synthetic needle model has none of its own). */
export const QUICKSTART_TOKENIZER = 'cl100k' as const;

const MODELS = ['reference:oracle', 'reference:noisy?p=0.8', 'reference:noisy?p=0.6'];

/** Run the quickstart against `pool`. Returns the run ids. */
export async function runQuickstart(pool: Pool, io: { json: boolean; log: (s: string) => void; out: (s: string) => void; printJson: (v: unknown) => void }): Promise<string[]> {
  const samples = generateArithmetic(200, 0);
  const dataset = { ref: 'generated:arithmetic?n=200&seed=0', name: 'arithmetic', path: null, hash: sha256(stableStringify(samples)), samples };
  const template = getTemplate('math-boxed');
  const scorer = createScorer('math');
  const rows = [];
  const results = [];
  io.log('assay quickstart: 200 generated arithmetic problems × 3 reference models × 5 epochs (synthetic models, offline)');
  for (const model of MODELS) {
    const r = await executeRun({ pool, dataset, template, model, config: { seed: 0, chat_template: true }, epochs: 5, scorers: [scorer], concurrency: 8 });
    const { statistics: s } = await runStatistics(pool, r.run_id, { scorer: 'math' });
    results.push({ model, run: r, statistics: s });
    rows.push([r.run_id, model, pct(s.accuracy), `[${pct(s.ci95.lo)}, ${pct(s.ci95.hi)}]`, pct(s.pass_at_k['pass@5']), pct(s.maj_at_k?.value), String(s.truncated)]);
  }
  // Long context: a small needle-threading grid answered by a synthetic model whose accuracy falls past 8,000 characters.
  const grid = validateGrid({ ...DEFAULT_GRID, tasks: ['single', 'multiple', 'threading'], lengths: [1000, 4000, 16000, 32000], depths: [0, 50, 100], directions: ['forward'] });
  const needleSamples = [...generateGrid(grid, 0)];
  const needleData = { ref: 'generated:needle?quickstart&seed=0', name: 'needle', path: null, hash: sha256(stableStringify(needleSamples)), samples: needleSamples };
  const needleModel = 'reference:needle-noisy?p=0.95&limit=8000';
  const needleRun = await executeRun({ pool, dataset: needleData, template: getTemplate('plain'), model: needleModel, config: { seed: 0, chat_template: true }, epochs: 2, scorers: [createScorer('needle')], concurrency: 8 });
  const limits = await contextLimitOfRun(pool, needleRun.run_id, { scorer: 'needle', seed: 0, tokenizer: QUICKSTART_TOKENIZER });
  const limit = limits.all;
  if (io.json) {
    io.printJson({ runs: results, needle: { run: needleRun, effective_limit: limit.effective_limit, ci: limit.ci, by_length: limit.by_length, tokens: limit.tokens ?? null, token_scale: limits.token_scale ?? null } });
    return [...results.map((r) => r.run.run_id), needleRun.run_id];
  }
  io.out(table(['run', 'model (synthetic)', 'avg@5', '95% CI', 'pass@5', 'maj@5', 'truncated'], rows));
  io.out(ciFootnote(results.map((r) => r.statistics.ci95.method)));
  io.out('');
  io.out(formatStatistics(results[1]!.run.run_id, 'math', results[1]!.statistics, `in detail: ${MODELS[1]}`));
  io.out('');
  io.out('What happened: each model answered every problem 5 times; every attempt and verdict is in the pool.');
  io.out('The noisy model is right with probability 0.8 per attempt, so its avg@5 CI should cover 80% (minus truncation).');
  io.out('');
  io.out(`Long context (needle threading, ${needleSamples.length} generated haystacks × 2 epochs, synthetic ${needleModel}):`);
  const scale = limits.token_scale ?? null;
  const tokAt = (length: number) => scale?.by_length.find((b) => b.length === length)?.tokens;
  const tokCell = (length: number) => (tokAt(length) == null ? '—' : tokAt(length)!.toLocaleString('en'));
  io.out(table(['length (chars)', `tokens (${QUICKSTART_TOKENIZER})`, 'accuracy', '95% CI'], limit.by_length.map((b) => [b.length.toLocaleString('en'), tokCell(b.length), pct(b.accuracy), `[${pct(b.ci95.lo)}, ${pct(b.ci95.hi)}]`])));
  io.out('95% CI: cluster bootstrap over the samples of each length (each with its epochs)');
  const bound = (x: number | null) => (x == null ? 'below 1,000' : x.toLocaleString('en'));
  const tb = (x: number | null | undefined) => (x == null ? '?' : x.toLocaleString('en'));
  const t = limit.tokens;
  const inTokens = t && limit.effective_limit != null ? ` = ${tb(t.effective_limit)} tokens, interval [${limit.ci.lo == null ? 'below 1,000 chars' : tb(t.ci.lo)}, ${limit.ci.hi == null ? 'below 1,000 chars' : tb(t.ci.hi)}] tokens` : '';
  io.out(`effective context limit (accuracy ≥ ${pct(limit.threshold)}): ${bound(limit.effective_limit)} characters, ${Math.round(limit.ci.level * 100)}% interval [${bound(limit.ci.lo)}, ${bound(limit.ci.hi)}] characters${inTokens} — this model was built to degrade past 8,000 characters.`);
  if (scale) io.out(`tokens: ${scale.description} (the synthetic model has no tokenizer of its own; a real model's run uses the prompt_tokens its server reports: assay needle-limit <run>)`);
  io.out('');
  io.out(`Next: assay runs · assay stats ${results[1]!.run.run_id.slice(0, 8)} · assay export ${results[1]!.run.run_id.slice(0, 8)} --format csv · assay report ${[...results.map((r) => r.run.run_id), needleRun.run_id].map((id) => id.slice(0, 8)).join(' ')} -o report.html`);
  return results.map((r) => r.run.run_id);
}
