/**
 * Plain-text rendering for the CLI: aligned tables and the statistics block. No colours (output is often piped).
 */
import type { RunStatistics } from '../stats/accuracy.ts';

/** Render rows as an aligned table with a header line. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** A proportion as a percentage with one decimal, e.g. 0.7312 → "73.1%". */
export function pct(x: number | null | undefined): string {
  return x == null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`;
}

/** The human-readable statistics block of `assay stats`. */
export function formatStatistics(runId: string, scorer: string, s: RunStatistics, header: string): string {
  const lines: string[] = [];
  lines.push(header);
  lines.push(`run ${runId}  scorer ${scorer}`);
  lines.push(`samples ${s.samples}/${s.samples_planned}  epochs ${s.epochs}  attempts ${s.attempts} (graded ${s.graded}, failed ${s.failed}, ungraded ${s.ungraded}, no answer ${s.no_answer}, truncated ${s.truncated})`);
  lines.push('');
  lines.push(`accuracy (avg@${s.epochs})   ${pct(s.accuracy)}   95% CI [${pct(s.ci95_bootstrap.lo)}, ${pct(s.ci95_bootstrap.hi)}]  (${s.ci95_bootstrap.method}, ${s.ci95_bootstrap.replicates} replicates, seed ${s.ci95_bootstrap.seed})`);
  lines.push(`  Wald interval             [${pct(s.ci95_wald.lo)}, ${pct(s.ci95_wald.hi)}]  (±1.96·SE, SE ${Number.isFinite(s.ci95_wald.se) ? (100 * s.ci95_wald.se).toFixed(2) + ' pts' : 'n/a'} over per-sample means)`);
  if (s.epochs > 1 && Number.isFinite(s.std_over_epochs)) {
    const per = s.per_epoch_accuracy.length > 12 ? `${s.per_epoch_accuracy.slice(0, 12).map(pct).join(' ')} … (${s.per_epoch_accuracy.length} epochs; all in --json)` : s.per_epoch_accuracy.map(pct).join(' ');
    lines.push(`  std over epochs           ${(100 * s.std_over_epochs).toFixed(2)} pts  (seed noise of a single-epoch score; not a CI)   per-epoch: ${per}`);
  }
  for (const [k, v] of Object.entries(s.pass_at_k)) {
    if (k === 'pass@1') continue;
    const n = s.pass_at_k_samples?.[k];
    lines.push(`${k.padEnd(26)}${pct(v)}  (unbiased estimator, Chen et al. 2021${n != null && n < s.samples ? `; on the ${n} samples with ≥ ${k.slice(5)} graded attempts` : ''})`);
  }
  if (s.maj_at_k) lines.push(`maj@${s.maj_at_k.k}`.padEnd(26) + `${pct(s.maj_at_k.value)}   95% CI [${pct(s.maj_at_k.ci95.lo)}, ${pct(s.maj_at_k.ci95.hi)}]`);
  if (s.truncated) lines.push(`without truncated attempts ${pct(s.accuracy_without_truncated)}  (${s.truncated} attempts hit the token limit)`);
  if (s.failed) lines.push(`WARNING: ${s.failed} attempts failed after retries and are excluded; run the same command again to retry them.`);
  const timeouts = s.ungraded - s.grader_errors;
  if (timeouts) lines.push(`WARNING: ${timeouts} responses could not be graded within the grader's time budget: counted as wrong above; excluding them instead: ${pct(s.accuracy_excluding_ungraded)}.`);
  if (s.grader_errors) lines.push(`WARNING: ${s.grader_errors} attempts have a grader error (bad gold, unreachable judge…): excluded from accuracy; see \`assay export\`.`);
  return lines.join('\n');
}
