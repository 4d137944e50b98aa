/**
 * `assay compare <runA> <runB> [...]`: paired comparison on the samples the runs share (paired bootstrap CI,
 * sign-flip permutation, McNemar, paired t, Wilcoxon signed-rank, MDE), Holm (default) or BH over several
 * comparisons, and with ≥ 3 runs a ranking with rank intervals and tied groups.
 */
import { Option, type Command } from 'commander';
import { compareRuns } from '../../analyses/compare.ts';
import { formatComparison } from '../../report/text.ts';
import { int, MAX_REPLICATES, num, numIn, openPool, printJson } from '../common.ts';

export function register(program: Command): void {
  program
    .command('compare <runs...>')
    .description('paired comparison of runs on their shared samples: difference with CI, permutation/McNemar/t/Wilcoxon p-values, MDE; rank intervals for 3+ runs')
    .option('--scorer <name>', "which stored scorer (default: the first run's first)")
    .option('--baseline <run>', 'compare each run with this one instead of all pairs')
    .addOption(new Option('--adjust <method>', 'multiple-comparison adjustment').choices(['holm', 'bh']).default('holm'))
    .option('--alpha <a>', 'significance level', numIn('--alpha', 0, 1, { lo: true, hi: true }), 0.05)
    .option('--replicates <n>', 'bootstrap replicates', int('--replicates', 100, MAX_REPLICATES), 2000)
    .option('--permutations <n>', 'Monte Carlo sign flips (exact enumeration for ≤ 20 non-zero differences)', int('--permutations', 100, MAX_REPLICATES), 10000)
    .option('--seed <n>', 'seed of bootstrap and permutations (recorded in the output)', int('--seed', 0), 0)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (runs: string[], o) => {
      const pool = await openPool(o.pool, { readonly: true });
      try {
        const r = await compareRuns(pool, runs, { scorer: o.scorer, baseline: o.baseline, adjustment: o.adjust, alpha: o.alpha, replicates: o.replicates, permutations: o.permutations, seed: o.seed });
        if (o.json) printJson(r);
        else process.stdout.write(formatComparison(r) + '\n');
      } finally {
        await pool.close();
      }
    });
}
