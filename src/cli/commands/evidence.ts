/**
 * `assay keys init | show` (the Ed25519 key that signs evidence chains, kept outside the pool) and
 * `assay verify <run|evidence-file>` (recompute a run's chain and name the first record changed, removed or reordered).
 */
import { existsSync, openSync, readFileSync, readSync, closeSync, statSync } from 'node:fs';
import { InputError } from '../../core/errors.ts';
import type { Command } from 'commander';
import { verifyEvidenceFile, verifyRun } from '../../evidence/bundle.ts';
import { defaultKeyPath, initSigningKey, loadPublicKey, loadSigningKey } from '../../evidence/keys.ts';
import type { EvidenceReport } from '../../evidence/verify.ts';
import { collect, openPool, printJson } from '../common.ts';

/** Whether `arg` names an evidence file (its first bytes are an evidence header) rather than a run. */
function isEvidenceFile(arg: string): boolean {
  if (!existsSync(arg) || !statSync(arg).isFile()) return false;
  const fd = openSync(arg, 'r');
  try {
    const buf = Buffer.alloc(32);
    const n = readSync(fd, buf, 0, 32, 0);
    return /^\s*\{\s*"assay_evidence"/.test(buf.subarray(0, n).toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

/** The safety case in `arg` when it is one (a JSON file whose `format` is `assay-safety-case`), else null. */
function safetyCaseIn(arg: string): import('../../evidence/safety-case.ts').SafetyCase | null {
  if (!existsSync(arg) || !statSync(arg).isFile() || statSync(arg).size > 256 * 1024 * 1024) return null;
  const fd = openSync(arg, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(256);
    head = buf.subarray(0, readSync(fd, buf, 0, 256, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
  if (!/"format"\s*:\s*"assay-safety-case"/.test(head)) return null;
  try {
    return JSON.parse(readFileSync(arg, 'utf8'));
  } catch (err) {
    throw new InputError(`is not valid JSON: ${(err as Error).message}`, { file: arg });
  }
}

/** The report as text: the verdict, then each problem, the first break first. */
export function formatEvidenceReport(r: EvidenceReport & { file?: string }): string {
  const what = r.file ? `${r.file} (run ${r.run_id})` : `run ${r.run_id}`;
  const lines: string[] = [];
  const signed = r.signed_through === null ? 'not signed' : `signed through link ${r.signed_through} by ${r.key_ids.join(', ')} (${r.trust === 'given' ? 'the key you gave' : 'a key the run records; pass --public-key to require yours'})`;
  if (r.status === 'verified') lines.push(`${what}: verified — ${r.links} links, ${r.records} records as chained, ${signed}`);
  else if (r.status === 'no-chain') lines.push(`${what}: no evidence chain (made before chaining, or by a pool that does not chain) — nothing to verify`);
  else if (r.status === 'unsigned') lines.push(`${what}: chain intact (${r.links} links, ${r.records} records as chained) but ${r.first?.detail ?? 'not signed'}`);
  else {
    lines.push(`${what}: BROKEN — ${r.first?.detail ?? 'see below'}`);
    lines.push(`  ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} (${signed}):`);
    for (const p of r.problems.slice(0, 20)) lines.push(`  - [${p.problem}]${p.seq === null ? '' : ` link ${p.seq}:`} ${p.detail}`);
    if (r.problems.length > 20) lines.push(`  … and ${r.problems.length - 20} more (--json lists all)`);
  }
  for (const c of r.caveats ?? []) lines.push(`  caveat: ${c}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  const keys = program.command('keys').description('the Ed25519 key that signs evidence chains (kept outside the pool: $ASSAY_SIGNING_KEY or ~/.config/assay/signing-key.pem)');
  keys
    .command('init')
    .description('create a signing key; `assay run` and `assay eval` then sign every run they make or resume')
    .option('--key-file <file>', `where to write it (default ${defaultKeyPath()})`)
    .option('--force', 'replace an existing key')
    .option('--json', 'one JSON document on stdout')
    .action((o) => {
      const k = initSigningKey(o.keyFile ?? defaultKeyPath(), { force: !!o.force });
      if (o.json) return printJson({ key_id: k.keyId, file: k.file, public_key_file: `${k.file}.pub`, public_key: k.publicKeyBase64 });
      process.stdout.write(`key ${k.keyId} written to ${k.file} (mode 0600); its public key: ${k.file}.pub — give it to whoever verifies your runs\n`);
    });
  keys
    .command('show')
    .description('the signing key\'s id and public key')
    .option('--key-file <file>', 'the key file (default as for init)')
    .option('--json', 'one JSON document on stdout')
    .action((o) => {
      const k = loadSigningKey(o.keyFile ?? defaultKeyPath());
      if (o.json) return printJson({ key_id: k.keyId, file: k.file, public_key: k.publicKeyBase64 });
      process.stdout.write(`key ${k.keyId} (${k.file})\npublic key (SPKI, base64): ${k.publicKeyBase64}\n`);
    });

  program
    .command('verify <run-or-file>')
    .description('recompute a run\'s evidence chain (in the pool, or an evidence file from `assay export --format evidence`) and name the first record changed, removed or reordered; or check the signature of a safety case (`assay assess --case`)')
    .option('--public-key <file>', 'require signatures by this key (a .pub PEM file, or SPKI base64); repeatable (default: the keys the run records)', collect)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (arg: string, o) => {
      const trustedKeys = ((o.publicKey as string[] | undefined) ?? []).map((k) => loadPublicKey(k));
      const doc = safetyCaseIn(arg);
      if (doc) {
        const { verifySafetyCase } = await import('../../evidence/safety-case.ts');
        const v = verifySafetyCase(doc, trustedKeys);
        if (o.json) printJson(v);
        else process.stdout.write(`${arg} (safety case, decision ${doc.decision}): ${v.ok ? 'verified' : 'NOT VERIFIED'} — ${v.reason}\n`);
        process.exitCode = v.ok ? 0 : 1;
        return;
      }
      let report: EvidenceReport & { file?: string };
      if (isEvidenceFile(arg)) report = await verifyEvidenceFile(arg, { trustedKeys });
      else {
        const pool = await openPool(o.pool, { readonly: true });
        try {
          report = await verifyRun(pool, arg, { trustedKeys });
        } finally {
          await pool.close();
        }
      }
      if (o.json) printJson(report);
      else process.stdout.write(formatEvidenceReport(report) + '\n');
      process.exitCode = report.ok ? 0 : 1;
    });
}
