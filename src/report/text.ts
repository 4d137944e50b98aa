/**
 * Plain-text renderings of issue-4 analyses for the CLI (aligned tables, no colours). Every score comes with its
 * interval; no ranking appears without rank intervals.
 */
import { pct, table } from '../cli/format.ts';
import type { Ranking } from '../stats/rank.ts';
import type { SweepAnalysis } from '../stats/sweep.ts';
import type { TruncationAnalysis } from '../stats/truncation.ts';
import type { VarianceDecomposition } from '../stats/variance.ts';
import { fmtP, type ComparisonReport } from './analyses.ts';
import type { RunDiff } from './diff.ts';

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
    lines.push(`  mean ${pct(p.mean_a)} vs ${pct(p.mean_b)}; difference ${pts(p.difference)} pts, 95% CI [${pts(p.ci95_bootstrap.lo)}, ${pts(p.ci95_bootstrap.hi)}] (paired cluster bootstrap, ${p.ci95_bootstrap.replicates} replicates), SE ${(100 * p.ci95_bootstrap.se).toFixed(2)} pts`);
    lines.push(`  sign-flip permutation p = ${fmtP(p.sign_flip.p)} (${p.sign_flip.method}${p.sign_flip.method === 'monte carlo' ? `, ${p.sign_flip.permutations}` : ''}); adjusted p = ${fmtP(p.p_adjusted)}`);
    lines.push(`  paired t on per-sample means: t = ${p.paired_t.t.toFixed(2)}, df ${p.paired_t.df}, p = ${fmtP(p.paired_t.p)};  Wilcoxon signed-rank: W+ = ${p.wilcoxon.w_plus}, ${p.wilcoxon.m} non-zero, p = ${fmtP(p.wilcoxon.p)} (${p.wilcoxon.method})`);
    if (p.mcnemar) {
      const m = p.mcnemar.first_epoch;
      lines.push(`  McNemar (first epoch): b = ${m.b}, c = ${m.c}, exact p = ${fmtP(m.p_exact)}, mid-p = ${fmtP(m.p_mid)}` + (p.mcnemar.clustered ? `;  clustered McNemar (Durkalski, all matched epochs): X² = ${p.mcnemar.clustered.statistic.toFixed(2)}, p = ${fmtP(p.mcnemar.clustered.p)}` : ''));
    }
    lines.push(`  per sample: A better on ${p.wins}, B better on ${p.losses}, equal on ${p.ties};  minimum detectable effect (80% power, α ${p.mde_alpha}): ${mdeText(p.mde)}`);
    lines.push(`  ${p.verdict}`);
  }
  if (r.ranking) lines.push('', formatRanking(r.ranking));
  return lines.join('\n');
}

/** A ranking table: mean with CI, 95% rank interval, tied group. */
export function formatRanking(r: Ranking): string {
  return [
    `ranking with 95% rank intervals (joint bootstrap, ${r.replicates} replicates, seed ${r.seed}); runs in one group are not significantly different from the group's best (${r.adjustment === 'holm' ? 'Holm' : 'BH'}, α ${r.alpha})`,
    table(['group', 'rank interval', 'label', 'mean', '95% CI', 'tied with'], r.runs.map((x) => [x.group, x.rank_interval.lo === x.rank_interval.hi ? `${x.rank_interval.lo}` : `${x.rank_interval.lo}–${x.rank_interval.hi}`, x.label, pct(x.mean), ci(x.ci95), x.tied_with.join(', ') || '—'])),
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
    `seed noise of one run's score: ${s.seed_sd_observed != null ? `${(100 * s.seed_sd_observed).toFixed(2)} pts observed over seeds; ` : ''}${fx(100 * s.seed_sd_model, 2)} pts from the within-sample variance`,
    table(['factor', 'levels (score, 95% CI)', 'range', 'range / seed sd', 'adj. p (best vs worst)', 'verdict'], s.factors.map((f) => [
      f.factor, f.levels.map((l) => `${l.level.slice(0, 20)}: ${pct(l.mean)} ${ci(l.ci95)}`).join('; '), `${(100 * f.range).toFixed(1)} pts`, f.ratio_to_seed_sd == null ? 'n/a' : f.ratio_to_seed_sd.toFixed(1), fmtP(f.p_adjusted), f.verdict,
    ])),
  ];
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
