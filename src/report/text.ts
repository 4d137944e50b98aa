/**
 * Plain-text renderings for the CLI: aligned tables, the statistics block, comparisons, variance, truncation,
 * sweeps and diffs (no colours: output is often piped). Every score comes with its interval; no ranking appears
 * without rank intervals.
 */
import type { Metric, MetricInfo } from '../core/schemas.ts';
import { NUMERIC_LOGLIKELIHOOD_SCORERS } from '../scorers/loglikelihood.ts';
import { fmtP, type ComparisonReport } from '../analyses/compare.ts';
import type { RunDiff } from '../analyses/diff.ts';
import type { RunStatistics } from '../stats/accuracy.ts';
import type { Ranking } from '../stats/rank.ts';
import type { SweepAnalysis } from '../stats/sweep.ts';
import type { TruncationAnalysis } from '../stats/truncation.ts';
import type { VarianceDecomposition } from '../stats/variance.ts';

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

/** A number in a numeric metric's unit, e.g. `11.9995 bits/byte`; `n/a` when not finite. */
export function fmtNumber(x: number | null | undefined, unit: string, digits = 4): string {
  return x == null || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

/** A value of a metric: a percentage for binary and proportion metrics, a number in its unit for numeric ones. */
export function fmtMetricValue(m: Metric | undefined, x: number | null | undefined): string {
  return m?.kind === 'numeric' ? fmtNumber(x, m.unit) : pct(x);
}

/** An interval of a metric's values: `[73.1%, 80.2%]`, or `[11.5395, 12.4595] bits/byte` for a numeric metric. */
export function fmtMetricInterval(m: Metric | undefined, c: { lo: number; hi: number }): string {
  if (m?.kind !== 'numeric') return `[${pct(c.lo)}, ${pct(c.hi)}]`;
  return `[${fmtNumber(c.lo, '')}, ${fmtNumber(c.hi, '')}]${m.unit ? ` ${m.unit}` : ''}`;
}

/** How a numeric metric reads, e.g. `bits/byte, lower is better`; says so when unit or direction is unknown. */
export function describeNumeric(m: Extract<Metric, { kind: 'numeric' }> & { source?: MetricInfo['source'] }): string {
  const dir = m.higher_is_better == null ? 'direction unknown' : m.higher_is_better ? 'higher is better' : 'lower is better';
  const inferred = m.source === 'inferred' ? '; inferred from the stored values: the run does not record its scorer\'s metric' : '';
  return `${m.unit || 'unit unknown'}, ${dir}${inferred}`;
}

/** The human-readable statistics block of `assay stats`. */
export function formatStatistics(runId: string, scorer: string, s: RunStatistics, header: string): string {
  if (s.metric ? s.metric.kind === 'numeric' : NUMERIC_LOGLIKELIHOOD_SCORERS.has(scorer.split('?')[0]!)) return formatNumericStatistics(runId, scorer, s, header);
  const lines: string[] = [];
  lines.push(header);
  lines.push(`run ${runId}  scorer ${scorer}`);
  lines.push(`samples ${s.samples}/${s.samples_planned}  epochs ${s.epochs}  attempts ${s.attempts} (graded ${s.graded}, failed ${s.failed}, ungraded ${s.ungraded}, no answer ${s.no_answer}, truncated ${s.truncated})`);
  lines.push('');
  lines.push(`accuracy (avg@${s.epochs})   ${pct(s.accuracy)}   95% CI [${pct(s.ci95.lo)}, ${pct(s.ci95.hi)}]  (${s.ci95.method}; for the ${s.ci95.estimand.split(' (')[0]})`);
  // A zero-width bootstrap or Wald interval (every sample scored alike) is printed as what it is, never as certainty.
  const degenerate = (c: { lo: number; hi: number }) => (c.hi - c.lo <= 1e-12 ? '; zero width because every sample scored alike: not certainty, see the 95% CI above' : '');
  lines.push(`  cluster bootstrap         [${pct(s.ci95_bootstrap.lo)}, ${pct(s.ci95_bootstrap.hi)}]  (${s.ci95_bootstrap.method}, ${s.ci95_bootstrap.replicates} replicates, seed ${s.ci95_bootstrap.seed}; under-covers below a few hundred samples${degenerate(s.ci95_bootstrap)})`);
  lines.push(`  Wald interval             [${pct(s.ci95_wald.lo)}, ${pct(s.ci95_wald.hi)}]  (±1.96·SE, SE ${Number.isFinite(s.ci95_wald.se) ? (100 * s.ci95_wald.se).toFixed(2) + ' pts' : 'n/a'} over per-sample means${degenerate(s.ci95_wald)})`);
  if (s.epochs > 1 && Number.isFinite(s.std_over_epochs)) {
    const per = s.per_epoch_accuracy.length > 12 ? `${s.per_epoch_accuracy.slice(0, 12).map(pct).join(' ')} … (${s.per_epoch_accuracy.length} epochs; all in --json)` : s.per_epoch_accuracy.map(pct).join(' ');
    lines.push(`  std over epochs           ${(100 * s.std_over_epochs).toFixed(2)} pts  (seed noise of a single-epoch score; not a CI)   per-epoch: ${per}`);
  }
  for (const [k, v] of Object.entries(s.pass_at_k)) {
    if (k === 'pass@1') continue;
    const n = s.pass_at_k_samples?.[k];
    const kci = s.pass_at_k_ci95?.[k];
    lines.push(`${k.padEnd(26)}${pct(v)}${kci ? `   95% CI [${pct(kci.lo)}, ${pct(kci.hi)}]` : ''}  (unbiased estimator, Chen et al. 2021${kci ? `; ${kci.method}` : ''}${n != null && n < s.samples ? `; on the ${n} samples with ≥ ${k.slice(5)} graded attempts` : ''})`);
  }
  if (s.maj_at_k) lines.push(`maj@${s.maj_at_k.k}`.padEnd(26) + `${pct(s.maj_at_k.value)}   95% CI [${pct(s.maj_at_k.ci95.lo)}, ${pct(s.maj_at_k.ci95.hi)}]${s.maj_at_k.ci95.method ? `  (${s.maj_at_k.ci95.method})` : ''}`);
  if (s.truncated) lines.push(`without truncated attempts ${pct(s.accuracy_without_truncated)}  (${s.truncated} attempts hit the token limit)`);
  if (s.failed) lines.push(`WARNING: ${s.failed} attempts failed after retries and are excluded; run the same command again to retry them.`);
  const timeouts = s.ungraded - s.grader_errors;
  if (timeouts) lines.push(`WARNING: ${timeouts} responses could not be graded within the grader's time budget: counted as wrong above; excluding them instead: ${pct(s.accuracy_excluding_ungraded)}.`);
  if (s.grader_errors) lines.push(`WARNING: ${s.grader_errors} attempts have a grader error (bad gold, unreachable judge…): excluded from accuracy; see \`assay export\`.`);
  return lines.join('\n');
}

/**
 * The statistics block of a numeric scorer (bits per byte, log-likelihood): the mean over samples as a number in its
 * unit (never a percentage), its headline t interval over per-sample means, the cluster bootstrap and the normal
 * interval beside it, none of them clamped.
 */
function formatNumericStatistics(runId: string, scorer: string, s: RunStatistics, header: string): string {
  const m = s.metric?.kind === 'numeric' ? s.metric : { kind: 'numeric' as const, unit: '', higher_is_better: null };
  const f = (x: number) => fmtNumber(x, '');
  const u = m.unit ? ` ${m.unit}` : '';
  const se = s.ci95_wald.se;
  return [
    header,
    `run ${runId}  scorer ${scorer} (numeric: ${describeNumeric(m)})`,
    `samples ${s.samples}/${s.samples_planned}  epochs ${s.epochs}  attempts ${s.attempts} (graded ${s.graded}, failed ${s.failed}, ungraded ${s.ungraded})`,
    '',
    `mean over samples (avg@${s.epochs})   ${fmtNumber(s.accuracy, m.unit)}   95% CI [${f(s.ci95.lo)}, ${f(s.ci95.hi)}]${u}  (${s.ci95.method}; for the ${s.ci95.estimand.split(' (')[0]})`,
    `  cluster bootstrap         [${f(s.ci95_bootstrap.lo)}, ${f(s.ci95_bootstrap.hi)}]${u}  (${s.ci95_bootstrap.method}, ${s.ci95_bootstrap.replicates} replicates, seed ${s.ci95_bootstrap.seed})`,
    `  normal interval           [${f(s.ci95_wald.lo)}, ${f(s.ci95_wald.hi)}]${u}  (mean ± 1.96·SE, SE ${fmtNumber(se, m.unit)} over per-sample means)`,
    ...(scorer.startsWith('bits_per_byte') || scorer.startsWith('nll_per_token') ? ['  (a mean of per-document values; the corpus figure, a ratio of sums as lm-eval reports it, is `assay perplexity <run>`)'] : []),
    ...(s.failed ? [`WARNING: ${s.failed} attempts failed after retries and are excluded; run the same command again to retry them.`] : []),
    ...(s.grader_errors ? [`WARNING: ${s.grader_errors} attempts have a grader error: excluded from the mean; see \`assay export\`.`] : []),
  ].join('\n');
}

/** A number with `d` decimals, or `n/a` when it is not finite (e.g. a seed variance from a one-epoch run). */
const fx = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

const pts = (x: number | null | undefined, d = 1) => (x == null || Number.isNaN(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(d)}`);
const ci = (c: { lo: number; hi: number }) => `[${pct(c.lo)}, ${pct(c.hi)}]`;

/** An MDE for display: `±x.x pts`, or why there is none. */
export function mdeText(mde: number): string {
  return Number.isFinite(mde) ? `±${(100 * mde).toFixed(1)} pts` : 'n/a (differences do not vary or < 2 samples)';
}

/** `assay compare` output. */
export function formatComparison(r: ComparisonReport): string {
  const lines: string[] = [];
  lines.push(`paired comparison on ${r.shared_samples} shared samples, scorer ${r.scorer}; p-values adjusted with ${r.adjustment === 'holm' ? 'Holm' : 'Benjamini–Hochberg'} over ${r.pairs.length} comparison(s); bootstrap seed ${r.seed}`);
  lines.push('');
  lines.push(table(['run', 'label', 'samples', 'epochs'], r.runs.map((x) => [x.id.slice(0, 12), x.label, x.samples, x.epochs])));
  for (const p of r.pairs) {
    lines.push('');
    lines.push(`${p.a_label}  vs  ${p.b_label}`);
    const dci = p.ci95 ?? { ...p.ci95_bootstrap, method: 'paired cluster bootstrap' };
    const m = r.metric?.kind === 'numeric' ? r.metric : null;
    if (m) {
      const d = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(4)}` : 'n/a');
      const u = m.unit ? ` ${m.unit}` : '';
      lines.push(`  mean ${fmtNumber(p.mean_a, m.unit)} vs ${fmtNumber(p.mean_b, m.unit)} (${describeNumeric(m)}); difference A − B ${d(p.difference)}${u}, 95% CI [${d(dci.lo)}, ${d(dci.hi)}]${u} (${dci.method}; population of questions); paired cluster bootstrap [${d(p.ci95_bootstrap.lo)}, ${d(p.ci95_bootstrap.hi)}]${u} (${p.ci95_bootstrap.replicates} replicates), SE ${fmtNumber(p.ci95_bootstrap.se, m.unit)}`);
    } else lines.push(`  mean ${pct(p.mean_a)} vs ${pct(p.mean_b)}; difference ${pts(p.difference)} pts, 95% CI [${pts(dci.lo)}, ${pts(dci.hi)}] (${dci.method}; population of questions); paired cluster bootstrap [${pts(p.ci95_bootstrap.lo)}, ${pts(p.ci95_bootstrap.hi)}] (${p.ci95_bootstrap.replicates} replicates), SE ${(100 * p.ci95_bootstrap.se).toFixed(2)} pts`);
    lines.push(`  sign-flip permutation mid-p = ${fmtP(p.sign_flip.p)} (${p.sign_flip.method}${p.sign_flip.method === 'monte carlo' ? `, ${p.sign_flip.permutations}` : ''}${p.sign_flip.p_conventional != null ? `; conventional p = ${fmtP(p.sign_flip.p_conventional)}, conservative with ties` : ''}); adjusted p = ${fmtP(p.p_adjusted)}`);
    lines.push(`  paired t on per-sample means: t = ${p.paired_t.t.toFixed(2)}, df ${p.paired_t.df}, p = ${fmtP(p.paired_t.p)};  Wilcoxon signed-rank: W+ = ${p.wilcoxon.w_plus}, ${p.wilcoxon.m} non-zero, p = ${fmtP(p.wilcoxon.p)} (${p.wilcoxon.method})`);
    if (p.mcnemar) {
      const m = p.mcnemar.first_epoch;
      lines.push(`  McNemar (first epoch): b = ${m.b}, c = ${m.c}, mid-p = ${fmtP(m.p_mid)} (exact conditional p = ${fmtP(m.p_exact)}, conservative)` + (p.mcnemar.clustered ? `;  clustered McNemar (Durkalski, all matched epochs): X² = ${p.mcnemar.clustered.statistic.toFixed(2)}, p = ${fmtP(p.mcnemar.clustered.p)}` : ''));
    }
    if (m) {
      const perSample = m.higher_is_better == null ? `A higher on ${p.wins}, B higher on ${p.losses} (direction unknown)` : `A better on ${p.a_better_on ?? (m.higher_is_better ? p.wins : p.losses)}, B better on ${p.b_better_on ?? (m.higher_is_better ? p.losses : p.wins)} (${m.higher_is_better ? 'higher' : 'lower'} is better)`;
      lines.push(`  per sample: ${perSample}, equal on ${p.ties};  minimum detectable effect (80% power, α ${p.mde_alpha}): ${Number.isFinite(p.mde) ? `±${fmtNumber(p.mde, m.unit)}` : 'n/a (differences do not vary or < 2 samples)'}`);
    } else lines.push(`  per sample: A better on ${p.wins}, B better on ${p.losses}, equal on ${p.ties};  minimum detectable effect (80% power, α ${p.mde_alpha}): ${mdeText(p.mde)}`);
    lines.push(`  ${p.verdict}`);
  }
  if (r.ranking) lines.push('', formatRanking(r.ranking));
  return lines.join('\n');
}

/** A ranking table: mean with CI, 95% rank interval, tied group. */
export function formatRanking(r: Ranking): string {
  const m = r.metric?.kind === 'numeric' ? r.metric : null;
  return [
    `ranking with ${r.rank_interval_method ?? `95% rank intervals`} (CIs: joint bootstrap, ${r.replicates} replicates, seed ${r.seed}); runs in one group are not significantly different from the group's best (${r.adjustment === 'holm' ? 'Holm' : 'BH'}, α ${r.alpha})${m ? `; means in ${describeNumeric(m)}` : ''}`,
    table(['group', 'rank interval', 'label', 'mean', '95% CI', 'tied with'], r.runs.map((x) => [x.group, x.rank_interval.lo === x.rank_interval.hi ? `${x.rank_interval.lo}` : `${x.rank_interval.lo}–${x.rank_interval.hi}`, x.label, m ? fmtNumber(x.mean, m.unit) : pct(x.mean), m ? fmtMetricInterval(m, x.ci95) : ci(x.ci95), x.tied_with.join(', ') || '—'])),
  ].join('\n');
}

/** The variance block (decomposition and variance-vs-k table). */
export function formatVariance(v: VarianceDecomposition): string {
  const lines = [
    `avg@k ${pct(v.mean)}  95% CI ${ci(v.ci95_bootstrap)} (clustered bootstrap, ${v.ci95_bootstrap.replicates} replicates, seed ${v.ci95_bootstrap.seed})`,
    `variance components (one-way random effects, ANOVA): within-sample (seed) σ²_w = ${fx(v.within_variance, 4)}, between-sample (questions) σ²_b = ${fx(v.between_variance, 4)}, intra-class correlation ${fx(v.icc, 2)}`,
    `SE of the mean at k = ${v.epochs_mean.toFixed(1)}: ${fx(100 * v.se_mean, 2)} pts = √(questions ${fx(100 * Math.sqrt(v.var_mean_questions), 2)}² + seed ${fx(100 * Math.sqrt(v.var_mean_seed), 2)}²); seed noise is ${fx(100 * v.seed_share, 0)}% of the variance`,
  ];
  if (v.std_over_epochs != null) lines.push(`std over epochs ${(100 * v.std_over_epochs).toFixed(2)} pts (seed noise of a single-epoch score; not a CI)`);
  lines.push(table(['k', 'SE total (model)', 'SE seed', 'SE questions (floor)', 'SE observed'], v.curve.map((c) => [c.k, (100 * c.se_total).toFixed(2), (100 * Math.sqrt(c.var_seed)).toFixed(2), (100 * Math.sqrt(c.var_questions)).toFixed(2), c.se_observed == null ? '—' : (100 * c.se_observed).toFixed(2)])));
  return lines.join('\n');
}

/** The truncation block. */
export function formatTruncation(t: TruncationAnalysis): string {
  const lines = [`truncated (finish reason length): ${t.truncated}/${t.attempts} attempts (${pct(t.truncated_share)}); accuracy ${pct(t.accuracy_all)} with, ${pct(t.accuracy_without_truncated ?? t.accuracy_all)} without${t.accuracy_of_truncated != null ? `; truncated attempts alone ${pct(t.accuracy_of_truncated)}` : ''}`];
  lines.push(table([`length (${t.unit})`, 'attempts', 'truncated', 'accuracy', '95% CI'], t.bins.map((b) => [`${b.lo}–${b.hi}`, b.attempts, b.truncated, pct(b.accuracy), ci(b.ci95)])));
  return lines.join('\n');
}

/** The sweep block. */
export function formatSweep(s: SweepAnalysis): string {
  const lines = [
    `seed noise of one run's score: ${s.seed_noise}`,
    table(['factor', 'levels (score, 95% CI)', 'range', 'range / seed sd', 'test (best vs worst)', 'p', 'adj. p', 'result'], s.factors.map((f) => [
      f.factor, f.levels.map((l) => `${l.level.slice(0, 20)}: ${pct(l.mean)} ${ci(l.ci95)}`).join('; '), `${(100 * f.range).toFixed(1)} pts`, f.ratio_to_seed_sd == null ? 'n/a (no seed noise measured)' : f.ratio_to_seed_sd.toFixed(1),
      'sign-flip permutation', fmtP(f.p), fmtP(f.p_adjusted), f.significant ? `significant at α = ${f.test.alpha}` : 'not significant at this size',
    ])),
  ];
  for (const f of s.factors) lines.push(`  ${f.verdict}`);
  return lines.join('\n');
}

/** `assay diff` output. */
export function formatDiff(d: RunDiff): string {
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v)).slice(0, 80);
  const real = d.fields.filter((f) => !f.informational);
  const lines = [`diff ${d.a} ${d.b}: ${real.length} field(s) differ` + (d.fields.length > real.length ? ` (+ ${d.fields.length - real.length} informational)` : '') +
    (d.same_run ? ' — A and B are the same run, so nothing can differ; give two different runs to check reproducibility' : '')];
  if (d.fields.length) lines.push(table(['field', 'A', 'B'], d.fields.map((f) => [f.path + (f.informational ? ' (informational)' : ''), show(f.a), show(f.b)])));
  const s = d.samples;
  lines.push(`samples: ${s.shared} shared, ${s.only_a} only in A, ${s.only_b} only in B; of the shared, ${s.prompt_differs} with a different prompt hash, ${s.target_differs} with a different target hash`);
  for (const e of s.examples) lines.push(`  sample ${e.sample_id}: ${[e.prompt_differs ? 'prompt differs' : '', e.target_differs ? 'target differs' : ''].filter(Boolean).join(', ')}`);
  return lines.join('\n');
}
