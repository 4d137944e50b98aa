/**
 * `assay sweep`: run one model over a grid of generation settings (temperature, top_p, max tokens, prompt template,
 * system prompt) × seeds, each cell a normal resumable run in the pool, then report how much each factor moves the
 * score compared with the seed noise.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { formatSweep } from '../../report/text.ts';
import { sweep } from '../../runner/sweep.ts';
import type { GridAxis } from '../../stats/sweep.ts';
import { cacheNotes, collect, int, MAX_CONCURRENCY, MAX_COUNT, MAX_EPOCHS, MAX_REPLICATES, openPool, printJson, waitingNote, withSignals } from '../common.ts';

/** Most levels of one sweep factor (or seeds): each level × seed is a whole run. */
export const MAX_SWEEP_LEVELS = 1000;

/** A comma-separated list of numbers (`integer`: whole numbers ≥ `min`), at most MAX_SWEEP_LEVELS of them. */
const numList = (name: string, integer?: { min: number }) => (v: string) => {
  const parts = v.split(',').map((s) => s.trim());
  // Number('') is 0: an empty entry ("0.5,," or ",") must not become a silent level 0.
  const xs = parts.map((s) => (s === '' ? NaN : Number(s)));
  if (!xs.length || xs.some((x) => !Number.isFinite(x))) throw new InputError(`${name} takes comma-separated numbers, got "${v}"`, { field: name });
  if (integer && xs.some((x) => !Number.isSafeInteger(x) || x < integer.min)) throw new InputError(`${name} takes comma-separated integers ≥ ${integer.min}, got "${v}"`, { field: name });
  if (xs.length > MAX_SWEEP_LEVELS) throw new InputError(`${name}: ${xs.length} values; at most ${MAX_SWEEP_LEVELS} (each is a run)`, { field: name });
  return xs;
};

export function register(program: Command): void {
  program
    .command('sweep')
    .description("run one model over a grid of settings × seeds and report each factor's effect: a paired sign-flip test of its best vs worst level, with the seed noise measured")
    .requiredOption('--dataset <ref>', 'dataset ref, as for `assay run`')
    .requiredOption('--model <address>', 'model address, as for `assay run`')
    .option('--temperature <list>', 'temperatures, comma-separated', numList('--temperature'))
    .option('--top-p <list>', 'top_p values, comma-separated', numList('--top-p'))
    .option('--max-tokens <list>', 'max_tokens values, comma-separated', numList('--max-tokens', { min: 1 }))
    .option('--template <name>', 'prompt template (repeatable: one level each)', collect)
    .option('--system <text>', 'system prompt (repeatable: one level each)', collect)
    .option('--seeds <list>', 'generation seeds (the noise factor)', numList('--seeds', { min: 0 }), [0, 1, 2])
    .option('--epochs <k>', `epochs per run (at most ${MAX_EPOCHS})`, int('--epochs', 1, MAX_EPOCHS), 1)
    .option('--scorer <name>', "scorer (default: the dataset's)")
    .option('--limit <n>', 'only the first n samples', int('--limit', 1, MAX_COUNT))
    .option('--id-field <name>', 'generic files: id column')
    .option('--input-field <name>', 'generic files: question column')
    .option('--target-field <name>', 'generic files: answer column')
    .option('--concurrency <n>', `requests in flight per run (at most ${MAX_CONCURRENCY})`, int('--concurrency', 1, MAX_CONCURRENCY), 32)
    .option('--timeout <ms>', 'per-request timeout in ms', int('--timeout', 1, 86_400_000))
    .option('--max-retries <n>', 'retries per request', int('--max-retries', 0, 100))
    .option('--no-cache', "ask the server for every attempt a run does not have yet, never copying another run's stored response; attempts already stored are kept")
    .option('--replicates <n>', 'bootstrap replicates', int('--replicates', 100, MAX_REPLICATES), 1000)
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
        const r = await withSignals((signal) => sweep({
          pool, dataset: o.dataset, fields: { id: o.idField, input: o.inputField, target: o.targetField }, model: o.model, axes, seeds: o.seeds, epochs: o.epochs,
          scorer: o.scorer, limit: o.limit, concurrency: o.concurrency, bootstrapSeed: o.bootstrapSeed, replicates: o.replicates, log: (s) => process.stderr.write(s + '\n'),
          cache: o.cache, maxRetries: o.maxRetries, timeoutMs: o.timeout, signal, onWait: waitingNote,
          onCell: (c) => {
            for (const line of cacheNotes(c, o.cache === false)) process.stderr.write(`assay:   ${line}\n`);
          },
        }));
        if (r.stopped || !r.analysis) {
          process.stderr.write(`assay: sweep ${r.stopped ?? 'stopped'}\n`);
          if (o.json) printJson(r);
          process.exitCode = 1;
          return;
        }
        if (o.json) printJson(r);
        else process.stdout.write(`sweep of ${o.model}: ${r.run_ids.length} runs (report: assay report ${r.run_ids.map((id) => id.slice(0, 8)).join(' ')} -o sweep.html)\n${formatSweep(r.analysis)}\n` +
          (r.analysis.factors.length === 0 ? 'only the seed varies in this sweep: the table has no factor; give two or more levels of a setting (e.g. --temperature 0,0.6) to measure its effect\n' : ''));
      } finally {
        await pool.close();
      }
    });
}
