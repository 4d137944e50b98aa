/**
 * `assay perplexity <run>` and `assay learnability --student <run> --reference <run>`: the log-likelihood analyses
 * (src/analyses/loglikelihood.ts) with their intervals.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { learnabilityOfRuns, perplexityOfRun, type LossUnit } from '../../analyses/loglikelihood.ts';
import { formatLearnability, formatPerplexity } from '../../report/loglikelihood.ts';
import { collect, int, MAX_REPLICATES, num, numIn, openPool, printJson } from '../common.ts';

export function register(program: Command): void {
  program
    .command('perplexity <run>')
    .description('corpus bits per byte, byte/word/token perplexity of a loglikelihood_rolling run, with bootstrap 95% CIs over documents')
    .option('--seed <n>', "bootstrap seed (default: the run manifest's)", int('--seed', 0))
    .option('--replicates <n>', 'bootstrap replicates', int('--replicates', 100, MAX_REPLICATES), 2000)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (run: string, o) => {
      const pool = await openPool(o.pool);
      try {
        const p = await perplexityOfRun(pool, run, { seed: o.seed, replicates: o.replicates });
        if (o.json) printJson(p);
        else process.stdout.write(formatPerplexity(p) + '\n');
      } finally {
        await pool.close();
      }
    });

  program
    .command('learnability')
    .description('per-item learnability (student loss − reference loss) of two log-likelihood runs; the top fraction against random subsets: difficulty and model rankings, with CIs')
    .requiredOption('--student <run>', "the student model's log-likelihood run")
    .requiredOption('--reference <run>', "the reference model's run over the same dataset")
    .option('--fraction <f>', 'fraction of items to select', numIn('--fraction', 0, 1, { lo: true }), 0.1)
    .option('--loss <unit>', 'byte (NLL per byte, default) | token | sum', 'byte')
    .option('--compare <run>', 'a run of an evaluated model on the same dataset (repeatable): its score and rank on the subsets', collect)
    .option('--scorer <name>', 'the scorer read from the --compare runs (default: each run\'s first)')
    .option('--seed <n>', "seed (default: the student run's bootstrap seed)", int('--seed', 0))
    .option('--replicates <n>', 'bootstrap replicates', int('--replicates', 100, MAX_REPLICATES), 1000)
    .option('--draws <n>', 'random subsets drawn', int('--draws', 100, MAX_REPLICATES), 1000)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      if (!['byte', 'token', 'sum'].includes(o.loss)) throw new InputError('--loss must be byte, token or sum', { field: '--loss' });
      const pool = await openPool(o.pool);
      try {
        const l = await learnabilityOfRuns(pool, {
          student: o.student, reference: o.reference, fraction: o.fraction, loss: o.loss as LossUnit, compare: o.compare, scorer: o.scorer,
          seed: o.seed, replicates: o.replicates, draws: o.draws,
        });
        if (o.json) printJson(l);
        else process.stdout.write(formatLearnability(l) + '\n');
      } finally {
        await pool.close();
      }
    });
}
