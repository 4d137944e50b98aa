/** `assay probe <canary|masked-option|verbatim>`: contamination probes, each an ordinary run beside the scores. */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { PROBE_KINDS, runProbe, type ProbeKind } from '../../contamination/probes.ts';
import { loadDataset } from '../../datasets/index.ts';
import { findSigningKey } from '../../evidence/keys.ts';
import type { PrivacyPolicy } from '../../runner/run.ts';
import type { RunDataset } from '../../core/schemas.ts';
import { int, openPool, printJson, withSignals } from '../common.ts';

export function register(program: Command): void {
  program
    .command('probe <kind>')
    .description('contamination probes (<kind>: canary | masked-option | verbatim): does the model complete the set\'s canaries (canary), fill a masked wrong option (masked-option), continue an item verbatim (verbatim)? The hit rate with its 95% CI, stored as a run')
    .requiredOption('--dataset <ref>', 'the dataset to probe (any dataset ref, or private:<name> for a private set)')
    .requiredOption('--model <address>', 'the model to probe')
    .option('--canary <string>', 'canary probe: the set\'s canary string, for items without metadata.canary')
    .option('--seed <n>', 'masked-option probe: seed of the option masked', int('--seed', 0), 0)
    .option('--limit <n>', 'only the first n items', int('--limit', 1))
    .option('--epochs <k>', 'attempts per probe (default 1, greedy)', int('--epochs', 1, 64), 1)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (kind: ProbeKind, o) => {
      if (!(PROBE_KINDS as readonly string[]).includes(kind)) throw new InputError(`unknown probe "${kind}"; one of: ${PROBE_KINDS.join(', ')}`, { field: 'kind' });
      const pool = await openPool(o.pool, { create: true });
      try {
        let dataset: RunDataset, privacy: PrivacyPolicy | undefined;
        if (String(o.dataset).startsWith('private:')) {
          const { openPrivateSet } = await import('../../private/sets.ts');
          const { loadPrivateKey } = await import('../../private/crypto.ts');
          const open = await openPrivateSet(pool, loadPrivateKey(), String(o.dataset).slice('private:'.length));
          dataset = open.dataset;
          privacy = open.policy;
        } else dataset = await loadDataset(o.dataset);
        const r = await withSignals((signal) =>
          runProbe({ pool, kind, dataset, model: o.model, canary: o.canary, seed: o.seed, limit: o.limit, epochs: o.epochs, privacy, signingKey: findSigningKey() ?? undefined, signal }),
        );
        if (o.json) return printJson(r);
        const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
        process.stdout.write(`${r.kind} probe of ${r.dataset} × ${r.model}: ${pct(r.rate)} reproduced, 95% CI [${pct(r.ci95.lo)}, ${pct(r.ci95.hi)}] (${r.ci95.method}); ${r.probed} items probed${r.skipped ? `, ${r.skipped} not applicable` : ''}; run ${r.run_id}\n`);
        if (r.evidence === true) process.stdout.write('evidence of contamination: a canary came back (chance 16^-16 per item)\n');
        else if (r.evidence === false) process.stdout.write('no canary came back\n');
        else process.stdout.write(`compare with the same probe on items the model cannot have seen (${r.reference})\n`);
        process.exitCode = r.status === 'complete' ? 0 : 1;
      } finally {
        await pool.close();
      }
    });
}
