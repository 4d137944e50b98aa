/**
 * Text for the log-likelihood analyses: corpus perplexity, learnability selection, and the check of lm-eval's
 * reported accuracies.
 */
import type { RunLearnability, RunPerplexity } from '../analyses/loglikelihood.ts';
import type { LmEvalReproduction } from '../importers/lm-eval-loglikelihood.ts';
import type { Estimate } from '../stats/learnability.ts';
import { table } from './text.ts';

const f4 = (x: number) => (!Number.isFinite(x) ? String(x) : Math.abs(x) >= 1e6 ? x.toExponential(4) : x.toFixed(4));
const est = (e: Estimate | { value: number; ci95: { lo: number; hi: number } }) => `${f4(e.value)} [${f4(e.ci95.lo)}, ${f4(e.ci95.hi)}]`;

/** `assay perplexity`: the corpus figures with their 95% intervals. */
export function formatPerplexity(p: RunPerplexity): string {
  const rows = [
    ['bits per byte', est(p.bits_per_byte)],
    ['byte perplexity', est(p.byte_perplexity)],
    ['word perplexity', est(p.word_perplexity)],
    ['token perplexity', est(p.token_perplexity)],
    ['NLL per token (nats)', est(p.nll_per_token)],
  ];
  return [
    `run ${p.run_id} · ${p.model} · ${p.documents} documents, ${p.tokens.toLocaleString('en')} tokens, ${p.bytes.toLocaleString('en')} bytes, ${p.words.toLocaleString('en')} words${p.missing ? ` · ${p.missing} attempts without log-likelihoods left out` : ''}`,
    table(['figure (lm-eval definitions)', 'value [95% CI]'], rows),
    `95% CI: ${p.method}, ${p.replicates} replicates, seed ${p.seed}. Token figures depend on the tokenizer; bytes and words do not.`,
  ].join('\n');
}

/** `assay learnability`: the selection against random subsets, and the models' rankings. */
export function formatLearnability(l: RunLearnability): string {
  const out: string[] = [];
  out.push(`learnability = student loss − reference loss (NLL per ${l.loss === 'sum' ? 'item' : l.loss}, nats)`);
  out.push(`student ${l.student.model} (${l.student.run_id.slice(0, 8)}) · reference ${l.reference.model} (${l.reference.run_id.slice(0, 8)}) · ${l.items} items${l.unmatched ? ` (${l.unmatched} unmatched left out)` : ''}`);
  out.push(`selected: the top ${Math.round(l.fraction * 100)}% = ${l.k} items`);
  const d = l.difficulty;
  out.push(
    table(['on the subset', 'selected [95% CI]', 'random subset [2.5–97.5%]', 'selected − random [95% CI]'], [
      ['student loss', est(d.student_loss.selected), est(d.student_loss.random), est(d.student_loss.difference)],
      ['reference loss', est(d.reference_loss.selected), est(d.reference_loss.random), est(d.reference_loss.difference)],
      ['learnability', est(d.learnability.selected), est(d.learnability.random), est(d.learnability.difference)],
    ]),
  );
  if (l.rankings) {
    out.push('');
    out.push(
      table(['model', 'full pool', 'selected', 'random subset', 'rank full → selected'], l.rankings.models.map((m) => [m.name, est(m.full), est(m.selected), est(m.random), `${m.rank_full} → ${m.rank_selected}`])),
    );
    out.push(`Kendall τ (subset vs full-pool ranking): selected ${est(l.rankings.tau_selected)}; random subsets ${est(l.rankings.tau_random)}`);
  }
  out.push('');
  out.push(table(['most learnable', 'student', 'reference', 'learnability'], l.top.slice(0, 10).map((t) => [t.sample_id, f4(t.student), f4(t.reference), f4(t.learnability)])));
  out.push(`intervals: ${l.method}; ${l.replicates} replicates, ${l.draws} random subsets, seed ${l.seed}`);
  return out.join('\n');
}

/** The check of a `--log_samples` file: Assay's acc/acc_norm against lm-eval's. */
export function formatLmEvalCheck(c: LmEvalReproduction): string {
  const row = (name: string, m: LmEvalReproduction['acc']) => [
    name, String(m.recomputed), m.recorded === null ? '—' : String(m.recorded), m.reported === null ? '—' : String(m.reported), String(m.mismatched.length), m.reproduced ? 'yes' : 'NO',
  ];
  return [
    `lm-eval ${c.task}: ${c.documents} documents${c.unsupported ? ` (${c.unsupported} multiple-input left out)` : ''}, target delimiter ${JSON.stringify(c.target_delimiter)}${c.results_file ? `, reported in ${c.results_file}` : ', no results file'}`,
    table(['metric', 'Assay (recomputed)', 'lm-eval lines', 'lm-eval reported', 'lines differing', 'reproduced'], [row('acc', c.acc), row('acc_norm', c.acc_norm)]),
  ].join('\n');
}
