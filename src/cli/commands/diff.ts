/** `assay diff <runA> <runB>`: every manifest and spec field that differs, and per-sample prompt/target hash differences. */
import type { Command } from 'commander';
import { diffRuns } from '../../analyses/diff.ts';
import { formatDiff } from '../../report/text.ts';
import { openPool, printJson } from '../common.ts';

export function register(program: Command): void {
  program
    .command('diff <runA> <runB>')
    .description('list every manifest field that differs between two runs (model id, template hash, generation config, versions, dataset hash, hardware) and samples whose prompt or target differs')
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (a: string, b: string, o) => {
      const pool = await openPool(o.pool, { readonly: true });
      try {
        const d = await diffRuns(pool, a, b);
        if (o.json) printJson(d);
        else process.stdout.write(formatDiff(d) + '\n');
      } finally {
        await pool.close();
      }
    });
}
