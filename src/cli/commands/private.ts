/**
 * `assay private`: private held-out sets — items encrypted at rest in the pool (the key is never there), an
 * allow-list of endpoints, canaries, and which endpoint was sent which item when. Run one with
 * `assay run --dataset private:<name> --model …`.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { loadDataset } from '../../datasets/index.ts';
import { defaultPrivateKeyPath, initPrivateKey, loadPrivateKey } from '../../private/crypto.ts';
import { addPrivateSet, allowEndpoints, exposuresOf, openPrivateSet } from '../../private/sets.ts';
import { table } from '../../report/text.ts';
import { collect, openPool, printJson } from '../common.ts';

export function register(program: Command): void {
  const p = program.command('private').description('private held-out sets: encrypted at rest, sent only to allowed endpoints, every exposure recorded');
  p.command('key-init')
    .description(`create the private-set key file (default ${defaultPrivateKeyPath()}; or set $ASSAY_PRIVATE_KEY to 64 hex digits)`)
    .option('--key-file <file>', 'where to write it')
    .option('--force', 'replace an existing key (sets encrypted with it become unreadable)')
    .action((o) => {
      const k = initPrivateKey(o.keyFile ?? defaultPrivateKeyPath(), { force: !!o.force });
      process.stdout.write(`private-set key ${k.id} written to ${k.source} (mode 0600); keep it out of the pool and of backups of it\n`);
    });
  p.command('add <dataset>')
    .description('encrypt a dataset into the pool as a private set (AES-256-GCM; the key from $ASSAY_PRIVATE_KEY or the key file)')
    .requiredOption('--name <name>', 'the set\'s name (run it as --dataset private:<name>)')
    .option('--allow <endpoint>', 'an endpoint its items may be sent to: a base URL (http://host:port/v1) or a model address without one (repeatable)', collect)
    .option('--replace', 'replace a set of the same name')
    .option('--id-field <name>', 'generic files: id column')
    .option('--input-field <name>', 'generic files: question column')
    .option('--target-field <name>', 'generic files: answer column')
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (ref: string, o) => {
      const key = loadPrivateKey();
      const ds = await loadDataset(ref, { fields: { id: o.idField, input: o.inputField, target: o.targetField } });
      const pool = await openPool(o.pool, { create: true });
      try {
        const rec = await addPrivateSet(pool, key, o.name, ds.samples, { allow: o.allow ?? [], source: ref, replace: !!o.replace });
        if (o.json) return printJson(rec);
        process.stdout.write(`private set "${rec.name}": ${rec.items} items encrypted with key ${rec.key_id}; allowed endpoints: ${rec.allow.join(', ') || 'none yet (add with `assay private allow`)'}\n`);
        process.stderr.write(`assay: the file ${ref} itself is not changed: remove or protect it if it should not stay in clear on this disk\n`);
      } finally {
        await pool.close();
      }
    });
  p.command('allow <name> <endpoint...>')
    .description('add endpoints to a private set\'s allow-list (--remove: take them off)')
    .option('--remove', 'remove them instead')
    .option('--pool <file>', 'pool file')
    .action(async (name: string, endpoints: string[], o) => {
      const pool = await openPool(o.pool);
      try {
        const rec = await allowEndpoints(pool, name, o.remove ? { remove: endpoints } : { add: endpoints });
        process.stdout.write(`private set "${name}" may be sent to: ${rec.allow.join(', ') || 'no endpoint'}\n`);
      } finally {
        await pool.close();
      }
    });
  p.command('list')
    .description('the private sets: items, key id, allowed endpoints (never their text)')
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      const pool = await openPool(o.pool, { readonly: true });
      try {
        const sets = await pool.listPrivateSets();
        if (o.json) return printJson(sets);
        process.stdout.write(table(['set', 'items', 'key', 'allowed endpoints', 'created'], sets.map((s) => [s.name, s.items, s.key_id, s.allow.join(', ') || '—', s.created_at])) + '\n');
      } finally {
        await pool.close();
      }
    });
  p.command('exposures <name>')
    .description('which endpoint was sent which item of a private set, in which run, when')
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (name: string, o) => {
      const pool = await openPool(o.pool, { readonly: true });
      try {
        if (!(await pool.listPrivateSets()).some((s) => s.name === name)) throw new InputError(`no private set named "${name}" (see \`assay private list\`)`);
        const rows = await exposuresOf(pool, name);
        if (o.json) return printJson(rows);
        process.stdout.write(table(['item', 'endpoint', 'run', 'epoch', 'at'], rows.map((r) => [r.item_id, r.endpoint, r.run_id.slice(0, 12), r.epoch, r.at])) + '\n');
      } finally {
        await pool.close();
      }
    });
  p.command('canaries <name>')
    .description('each item\'s canary string (for contamination probes); needs the key, to check the set opens')
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (name: string, o) => {
      const pool = await openPool(o.pool, { readonly: true });
      try {
        const open = await openPrivateSet(pool, loadPrivateKey(), name);
        const rows = [...open.canaries].map(([id, canary]) => ({ id, canary }));
        if (o.json) return printJson(rows);
        process.stdout.write(table(['item', 'canary'], rows.map((r) => [r.id, r.canary])) + '\n');
      } finally {
        await pool.close();
      }
    });
}
