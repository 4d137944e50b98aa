/**
 * `assay import <format> <file>`: other tools' and public sample-level results into the pool (one transaction per file).
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { IMPORTERS } from '../../importers/index.ts';
import { formatLmEvalCheck } from '../../report/loglikelihood.ts';
import type { LmEvalReproduction } from '../../importers/lm-eval-loglikelihood.ts';
import { int, MAX_COUNT, openPool, printJson } from '../common.ts';

export function register(program: Command): void {
  program
    .command('import <format> <file>')
    .description(`import sample-level results into the pool; formats: ${Object.keys(IMPORTERS).join(', ')}`)
    .option('--model <name>', 'lm-eval: model name (default: the parent folder)')
    .option('--metric <name>', 'lm-eval: metric field (default: acc, exact_match or acc_norm)')
    .option('--task <name>', 'lm-eval: task name (default: from the file name)')
    .option('--lower-is-better', 'lm-eval: the metric is better when lower (numeric metrics)')
    .option('--results <file>', 'lm-eval-loglikelihood: the results_*.json to check against (default: the one beside the samples file)')
    .option('--scorer <name>', 'inspect: which scorer (default: each sample\'s first)')
    .option('--key <which>', 'mmlu-pro: file (the correct column, default) or canonical (regrade pred against items.jsonl)')
    .option('--limit <n>', 'only the first n rows', int('--limit', 1, MAX_COUNT))
    .option('--replace', 'import again a file already imported, or a changed file imported before from the same path (replaces that source)')
    .option('--keep-both', 'import a changed file beside its earlier import from the same path (both sources are ranked)')
    .option('--allow-unterminated', 'CSV formats: accept a last line without a final newline (refused by default: it may be a truncated file)')
    .option('--pool <file>', 'pool file (default $ASSAY_POOL or ./.assay/pool.sqlite)')
    .option('--json', 'one JSON document on stdout')
    .addHelpText('after', '\nFormats:\n' + Object.entries(IMPORTERS).map(([k, v]) => `  ${k.padEnd(11)} ${v.describe}`).join('\n'))
    .action(async (format: string, file: string, o) => {
      const imp = IMPORTERS[format];
      if (!imp) throw new InputError(`unknown import format "${format}"; formats: ${Object.keys(IMPORTERS).join(', ')}`);
      if (o.replace && o.keepBoth) throw new InputError('--replace and --keep-both exclude each other: replace the earlier import, or keep both', { field: '--keep-both' });
      if (o.key && o.key !== 'file' && o.key !== 'canonical') throw new InputError('--key must be file or canonical', { field: '--key' });
      const store = await openPool(o.pool, { create: true });
      try {
        const res = await imp.run(store, file, {
          model: o.model, metric: o.metric, task: o.task, scorer: o.scorer, key: o.key, limit: o.limit, replace: !!o.replace, keepBoth: !!o.keepBoth, results: o.results,
          allowUnterminated: !!o.allowUnterminated,
          direction: o.lowerIsBetter ? -1 : 1,
          progress: o.json || !process.stderr.isTTY ? undefined : (n) => process.stderr.write(`\r${n} rows…`),
        });
        const check = (res as { check?: LmEvalReproduction }).check;
        if (o.json) return printJson({ source: res, ...(check ? { check } : {}) });
        if (process.stderr.isTTY) process.stderr.write('\r');
        process.stdout.write(`imported ${res.measurements} measurements on ${res.samples} samples from ${file} as source ${res.id} (${res.seconds.toFixed(1)} s)\n`);
        if (check) process.stdout.write(formatLmEvalCheck(check) + '\n');
      } finally {
        await store.close();
      }
    });
}
