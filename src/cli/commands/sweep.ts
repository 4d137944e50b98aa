/**
 * `assay sweep`: run one model over a grid of generation settings (temperature, top_p, max tokens, prompt template,
 * system prompt) × seeds, each cell a normal resumable run in the pool, then report how much each factor moves the
 * score compared with the seed noise.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { GenerationConfigSchema, type GenerationConfig } from '../../core/schemas.ts';
import { getTemplate } from '../../core/templates.ts';
import { loadDataset } from '../../datasets/index.ts';
import { executeRun } from '../../runner/run.ts';
import { loadRuns } from '../../report/analyses.ts';
import { formatSweep } from '../../report/text.ts';
import { alignRuns } from '../../stats/pool-data.ts';
import { analyzeSweep, expandGrid, type GridAxis, type SweepAnalysis } from '../../stats/sweep.ts';
import type { Pool } from '../../store/types.ts';
import { collect, int, openPool, printJson, scorerFromCli } from '../common.ts';

/** A comma-separated list of numbers. */
const numList = (name: string) => (v: string) => {
  const parts = v.split(',').map((s) => s.trim());
  // Number('') is 0: an empty entry ("0.5,," or ",") must not become a silent level 0.
  const xs = parts.map((s) => (s === '' ? NaN : Number(s)));
  if (!xs.length || xs.some((x) => !Number.isFinite(x))) throw new InputError(`${name} takes comma-separated numbers, got "${v}"`);
  return xs;
};

export interface SweepOptions {
  pool: Pool;
  dataset: string;
  fields?: { id?: string; input?: string; target?: string };
  model: string;
  axes: GridAxis[];
  seeds: number[];
  epochs: number;
  scorer?: string;
  limit?: number | null;
  concurrency?: number;
  bootstrapSeed?: number;
  replicates?: number;
  log?: (s: string) => void;
}

/**
 * Execute a sweep: every grid cell × seed is one run (resumable, content-addressed like `assay run`), then the
 * analysis is read back from the pool. Errors: InputError for bad settings; a failed run is reported, not thrown.
 */
export async function executeSweep(o: SweepOptions): Promise<{ run_ids: string[]; cells: Record<string, number | string>[]; analysis: SweepAnalysis }> {
  const dataset = await loadDataset(o.dataset, { fields: o.fields });
  const scorer = scorerFromCli(o.scorer ?? dataset.defaultScorer);
  let cells: Record<string, number | string>[];
  try {
    cells = expandGrid([...o.axes, { factor: 'seed', levels: o.seeds }]);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  if (cells.length < 2) throw new InputError('a sweep needs at least two settings (give several levels or several --seeds)');
  // Check every cell before running any: a bad level must not leave half a sweep in the pool.
  const planned = cells.map((cell) => {
    const { template: tpl, ...rest } = cell as Record<string, number | string>;
    const cfg = GenerationConfigSchema.safeParse(rest);
    if (!cfg.success) throw new InputError(`sweep setting ${JSON.stringify(cell)}: ` + cfg.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; '));
    return { cell, config: cfg.data as GenerationConfig, template: getTemplate(typeof tpl === 'string' ? tpl : dataset.defaultTemplate) };
  });
  const runIds: string[] = [];
  for (const [i, { cell, config, template }] of planned.entries()) {
    o.log?.(`sweep ${i + 1}/${cells.length}: ${JSON.stringify(cell)}`);
    const r = await executeRun({ pool: o.pool, dataset, template, model: o.model, config, epochs: o.epochs, scorers: [scorer], limit: o.limit ?? null, concurrency: o.concurrency ?? 32, bootstrapSeed: o.bootstrapSeed ?? 0 });
    if (r.status !== 'complete') o.log?.(`  run ${r.run_id} ${r.status}: ${r.counts.error} failed attempts (excluded)`);
    runIds.push(r.run_id);
  }
  const data = await loadRuns(o.pool, runIds, scorer.name);
  const aligned = alignRuns(data);
  const analysis = analyzeSweep(data.map((d) => d.run), aligned.clusters, { seed: o.bootstrapSeed ?? 0, replicates: o.replicates });
  return { run_ids: runIds, cells, analysis };
}

export function register(program: Command): void {
  program
    .command('sweep')
    .description("run one model over a grid of settings × seeds and report each factor's effect against the seed noise")
    .requiredOption('--dataset <ref>', 'dataset ref, as for `assay run`')
    .requiredOption('--model <address>', 'model address, as for `assay run`')
    .option('--temperature <list>', 'temperatures, comma-separated', numList('--temperature'))
    .option('--top-p <list>', 'top_p values, comma-separated', numList('--top-p'))
    .option('--max-tokens <list>', 'max_tokens values, comma-separated', numList('--max-tokens'))
    .option('--template <name>', 'prompt template (repeatable: one level each)', collect)
    .option('--system <text>', 'system prompt (repeatable: one level each)', collect)
    .option('--seeds <list>', 'generation seeds (the noise factor)', numList('--seeds'), [0, 1, 2])
    .option('--epochs <k>', 'epochs per run', int('--epochs', 1), 1)
    .option('--scorer <name>', "scorer (default: the dataset's)")
    .option('--limit <n>', 'only the first n samples', int('--limit', 1))
    .option('--id-field <name>', 'generic files: id column')
    .option('--input-field <name>', 'generic files: question column')
    .option('--target-field <name>', 'generic files: answer column')
    .option('--concurrency <n>', 'requests in flight per run', int('--concurrency', 1), 32)
    .option('--replicates <n>', 'bootstrap replicates', int('--replicates', 100), 1000)
    .option('--bootstrap-seed <n>', 'seed of the analysis', int('--bootstrap-seed', 0), 0)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      const axes: GridAxis[] = [];
      if (o.temperature) axes.push({ factor: 'temperature', levels: o.temperature });
      if (o.topP) axes.push({ factor: 'top_p', levels: o.topP });
      if (o.maxTokens) axes.push({ factor: 'max_tokens', levels: o.maxTokens });
      if (o.template) axes.push({ factor: 'template', levels: o.template });
      if (o.system) axes.push({ factor: 'system_prompt', levels: o.system });
      const pool = await openPool(o.pool, { create: true });
      try {
        const r = await executeSweep({
          pool, dataset: o.dataset, fields: { id: o.idField, input: o.inputField, target: o.targetField }, model: o.model, axes, seeds: o.seeds, epochs: o.epochs,
          scorer: o.scorer, limit: o.limit, concurrency: o.concurrency, bootstrapSeed: o.bootstrapSeed, replicates: o.replicates, log: (s) => process.stderr.write(s + '\n'),
        });
        if (o.json) printJson(r);
        else process.stdout.write(`sweep of ${o.model}: ${r.run_ids.length} runs (report: assay report ${r.run_ids.map((id) => id.slice(0, 8)).join(' ')} -o sweep.html)\n${formatSweep(r.analysis)}\n` +
          (r.analysis.factors.length === 0 ? 'only the seed varies in this sweep: the table has no factor; give two or more levels of a setting (e.g. --temperature 0,0.6) to measure its effect\n' : ''));
      } finally {
        await pool.close();
      }
    });
}
