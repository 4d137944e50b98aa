/** `assay assess <thresholds.yaml>`: capability thresholds judged on confidence bounds of the runs in the pool. */
import type { Command } from 'commander';
import { assessCapabilities, type Assessment } from '../../evidence/assess.ts';
import { loadThresholds } from '../../evidence/thresholds.ts';
import { table } from '../../report/text.ts';
import { openPool, printJson } from '../common.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { InputError } from '../../core/errors.ts';

function writeOutput(file: string, text: string, flag: string): void {
  try {
    writeFileSync(file, text);
  } catch (err) {
    throw new InputError(`cannot write ${flag}: ${(err as Error).message}`, { file });
  }
}

const f3 = (x: number) => x.toFixed(3);

/** The assessment as text: one block per capability, one row per run with its elicitation. */
export function formatAssessment(a: Assessment): string {
  const out: string[] = [];
  for (const c of a.capabilities) {
    const cap = c.capability;
    out.push(`${cap.name}: ${c.decision.toUpperCase()}  (task ${cap.task}, ${cap.metric}; alert ≥ ${cap.alert} on the upper bound, critical ≥ ${cap.critical} on the lower bound, min ${cap.min_samples} samples)`);
    if (c.verdicts.length) {
      out.push(table(['verdict', 'run', 'model', 'estimate', '95% CI', 'n', 'elicitation', 'evidence'], c.verdicts.map((v) => [
        v.verdict, v.run_id.slice(0, 12), v.elicitation.model, f3(v.estimate), `[${f3(v.ci95.lo)}, ${f3(v.ci95.hi)}]`, String(v.samples),
        `${v.elicitation.task ?? v.elicitation.dataset} · ${v.elicitation.template.name} · ${v.elicitation.solver.map((s) => s.name).join('+')} · ${v.elicitation.epochs} epoch(s) · ${JSON.stringify(v.elicitation.generation_config)}`,
        v.evidence ?? '—',
      ])));
      for (const v of c.verdicts) {
        out.push(`  ${v.run_id.slice(0, 12)}: ${v.reason}${v.more_samples ? `; about ${v.more_samples.more} more samples (${v.more_samples.samples_needed} in all at ${v.more_samples.epochs} epoch(s)) would separate it from ${v.more_samples.level}` : ''}`);
      }
    } else out.push('  not evaluated: no run of this task in the pool');
    for (const s of c.skipped) out.push(`  skipped ${s.run_id.slice(0, 12)}: ${s.reason}`);
    out.push('');
  }
  return out.join('\n');
}

export function register(program: Command): void {
  program
    .command('assess <thresholds>')
    .description('judge capability thresholds (a YAML file: capabilities → task, metric, alert and critical levels, minimum samples) on the confidence bounds of the runs in the pool')
    .option('--no-verify', 'do not check each run\'s evidence chain')
    .option('--case <file>', 'also write the safety case: claims, evidence runs (verified chains), contamination probes, what was not evaluated, the decision — JSON, signed with the signing key when there is one')
    .option('--html <file>', 'the safety case as a self-contained HTML page')
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (file: string, o) => {
      const thresholds = loadThresholds(file);
      const pool = await openPool(o.pool, { readonly: true });
      try {
        if (o.case || o.html) {
          const { buildSafetyCase, renderSafetyCaseHtml } = await import('../../evidence/safety-case.ts');
          const { findSigningKey } = await import('../../evidence/keys.ts');
          const doc = await buildSafetyCase(pool, thresholds, { key: findSigningKey() ?? undefined, thresholdsText: readFileSync(thresholds.file, 'utf8') });
          if (o.case) writeOutput(o.case, JSON.stringify(doc, null, 2) + '\n', '--case');
          if (o.html) writeOutput(o.html, renderSafetyCaseHtml(doc), '--html');
          process.stderr.write(`assay: safety case${doc.signature ? ` signed with key ${doc.signature.key_id}` : ' (not signed: no signing key; `assay keys init`)'}; decision ${doc.decision}\n`);
        }
        const a = await assessCapabilities(pool, thresholds, { verify: o.verify });
        if (o.json) printJson(a);
        else process.stdout.write(formatAssessment(a));
      } finally {
        await pool.close();
      }
    });
}
