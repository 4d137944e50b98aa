/** `assay report <run…> -o report.html`: one self-contained HTML file read from the pool. */
import { Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildReport } from '../../report/html.ts';
import { collect, int, MAX_REPLICATES, openPool, outputError } from '../common.ts';

export function register(program: Command): void {
  program
    .command('report <runs...>')
    .description('one self-contained HTML report (tables, CI forest plot, variance vs k, score vs sweep factor, length histogram; arena runs: every match move by move), readable offline')
    .requiredOption('-o, --output <file>', 'HTML file to write')
    .option('--scorer <name>', "which stored scorer (default: the first run's first)")
    .option('--title <text>', 'report title')
    .addOption(new Option('--adjust <method>', 'multiple-comparison adjustment').choices(['holm', 'bh']).default('holm'))
    .option('--replicates <n>', 'bootstrap replicates', int('--replicates', 100, MAX_REPLICATES), 2000)
    .option('--seed <n>', 'bootstrap seed (default: each run manifest\'s)', int('--seed', 0))
    .option('--rank', 'add a Plackett–Luce ranking of the measurement pool (see `assay rank`)')
    .option('--rank-source <id>', 'rank only this source (repeatable; implies --rank)', collect)
    .option('--rank-slice <name>', 'rank only this slice (repeatable; implies --rank)', collect)
    .option('--pool <file>', 'pool file')
    .action(async (runs: string[], o) => {
      const pool = await openPool(o.pool, { readonly: true });
      try {
        const html = await buildReport(pool, runs, {
          scorer: o.scorer, title: o.title, adjustment: o.adjust, replicates: o.replicates, seed: o.seed,
          rank: o.rank || o.rankSource || o.rankSlice ? { sources: o.rankSource, slices: o.rankSlice, replicates: 1000, seed: o.seed ?? 0 } : undefined,
        });
        const out = resolve(o.output);
        try {
          writeFileSync(out, html);
        } catch (err) {
          throw outputError(err, out, '--output');
        }
        process.stderr.write(`wrote ${out} (${(html.length / 1024).toFixed(0)} KiB)\n`);
      } finally {
        await pool.close();
      }
    });
}
