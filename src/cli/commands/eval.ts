/**
 * `assay eval <task…> --model A --model B …`: an eval set — every task × model, each an ordinary resumable run,
 * one concurrency limit per endpoint shared across tasks — then one table task × model with CIs and a ranking of
 * the models with rank intervals. Running the same command again resumes the whole set.
 */
import { findSigningKey } from '../../evidence/keys.ts';
import type { Command } from 'commander';
import { evalSetTable } from '../../analyses/eval-set.ts';
import { evaluate } from '../../runner/evaluate.ts';
import { terminalProgress } from '../../runner/progress.ts';
import { taskNames } from '../../tasks/index.ts';
import { cacheNotes, ciFootnote, collect, generationConfigOf, generationFlags, int, MAX_CONCURRENCY, MAX_COUNT, MAX_EPOCHS, MAX_REPLICATES, openPool, printJson, waitingNote, withSignals } from '../common.ts';
import { fmtMetricInterval, fmtMetricValue, pct, table } from '../../report/text.ts';
import { isPercentMetric } from '../../analyses/metric.ts';
import { checkQueueFlags, enqueueFromCli, queueFlags } from './queue.ts';

export function register(program: Command): void {
  const cmd = program
    .command('eval <tasks...>')
    .description(`evaluate tasks × models as one resumable eval set; tasks: ${taskNames().join(', ')}, or task files (.yaml, .ts)`)
    .requiredOption('--model <address>', 'model address (repeatable)', collect);
  generationFlags(cmd)
    .option('--epochs <k>', `epochs for every task (default: each task's own) (at most ${MAX_EPOCHS})`, int('--epochs', 1, MAX_EPOCHS))
    .option('--limit <n>', 'only the first n samples of every task', int('--limit', 1, MAX_COUNT))
    .option('--scorer <spec>', 'scorer replacing every task\'s (repeatable)', collect)
    .option('--concurrency <n>', `maximum requests in flight per endpoint, shared by all tasks (at most ${MAX_CONCURRENCY})`, int('--concurrency', 1, MAX_CONCURRENCY), 64)
    .option('--timeout <ms>', 'per-request timeout in ms', int('--timeout', 1, 86_400_000), 120_000)
    .option('--max-retries <n>', 'retries per call after the first try', int('--max-retries', 0, 100), 6)
    .option('--no-cache', "ask the server for every attempt a run does not have yet, never copying another run's stored response; attempts already stored are kept (use --new-run to ask again)")
    .option('--new-run', 'start separate, labelled runs that ask the server for every attempt again instead of resuming (e.g. the server changed); they reuse no stored response')
    .option('--replicates <n>', 'bootstrap replicates of the table and ranking', int('--replicates', 100, MAX_REPLICATES), 2000)
    .option('--text-only', 'send questions that have an image (HLE) as their text alone, as a separate run labelled text-only')
    .option('--name <name>', 'a name for the eval set')
    .option('--pool <url>', 'pool (default $ASSAY_POOL or ./.assay/pool.sqlite)')
    .option('--json', 'one JSON document on stdout');
  queueFlags(cmd)
    .action(async (tasks: string[], o) => {
      checkQueueFlags(o);
      if (o.queue) {
        // Planned here, made by `assay worker` processes (src/queue/).
        return enqueueFromCli(tasks, o.model, o, {
          epochs: o.epochs, limit: o.limit, scorers: o.scorer, config: generationConfigOf(o), concurrency: o.concurrency, timeoutMs: o.timeout, maxRetries: o.maxRetries,
          cache: o.cache, newRun: o.newRun ? `new-run:${new Date().toISOString()}` : undefined, name: o.name, ...(o.textOnly ? { textOnly: true } : {}),
          warn: (m) => process.stderr.write(`assay: warning: ${m}\n`),
        });
      }
      const pool = await openPool(o.pool, { create: true });
      try {
        const result = await withSignals((signal) =>
          evaluate(tasks, o.model, {
            pool, epochs: o.epochs, limit: o.limit, scorers: o.scorer, config: generationConfigOf(o), concurrency: o.concurrency, timeoutMs: o.timeout,
            maxRetries: o.maxRetries, cache: o.cache, newRun: o.newRun ? `new-run:${new Date().toISOString()}` : undefined, name: o.name, signal,
            ...(o.textOnly ? { textOnly: true } : {}),
            progress: (label) => terminalProgress(label), warn: (m) => process.stderr.write(`assay: warning: ${m}\n`), lease: { onWait: waitingNote },
            signingKey: findSigningKey() ?? undefined,
          }),
        );
        const summary = await evalSetTable(pool, result.eval_set_id, { replicates: o.replicates });
        if (o.json) printJson({ eval_set: result, table: summary });
        else {
          process.stderr.write(`eval set ${result.eval_set_id}: ${result.status}\n`);
          process.stdout.write(
            // Accuracies as percentages; a numeric scorer's mean (bits per byte…) as a number in its unit, never as a %.
            table(['task', 'model', 'run', 'scorer', summary.rows.every((r) => isPercentMetric(r.statistics.metric)) ? 'accuracy' : 'score', '95% CI', 'samples', 'failed', 'truncated'],
              summary.rows.map((r) => [r.task, r.model, r.run_id.slice(0, 8), r.scorer, fmtMetricValue(r.statistics.metric, r.statistics.accuracy), fmtMetricInterval(r.statistics.metric, r.statistics.ci95), r.statistics.samples, r.statistics.failed, r.statistics.truncated])) + '\n',
          );
          // The headline interval of each row (as `assay stats`), its method named: never a bare "95% CI".
          if (summary.rows.length) process.stdout.write(ciFootnote(summary.rows.map((r) => r.statistics.ci95.method)) + '\n');
          if (summary.ranking_note) process.stdout.write(`\n${summary.ranking_note}\n`);
          if (summary.ranking) {
            process.stdout.write(`\nranking across ${summary.tasks.length} task(s) (macro-average accuracy; ${summary.ranking.replicates} bootstrap replicates, seed ${summary.ranking.seed})\n`);
            process.stdout.write(table(['model', 'mean', '95% CI', 'rank interval'],
              summary.ranking.models.map((m) => [m.label, pct(m.mean), `[${pct(m.ci95.lo)}, ${pct(m.ci95.hi)}]`, m.rank_interval.lo === m.rank_interval.hi ? String(m.rank_interval.lo) : `${m.rank_interval.lo}–${m.rank_interval.hi}`])) + '\n');
          }
          for (const c of result.cells) if (c.result.abort_reason) process.stderr.write(`assay: ${c.task} × ${c.model}: ${c.result.abort_reason}\n`);
          for (const c of result.cells) for (const line of cacheNotes(c.result, o.cache === false)) process.stderr.write(`assay: ${c.task} × ${c.model}: ${line}\n`);
        }
        process.exitCode = result.status === 'complete' ? 0 : 1;
      } finally {
        await pool.close();
      }
    });
}
