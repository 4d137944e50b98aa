/**
 * `assay report <run…> -o report.html`: one self-contained HTML file (inline CSS, inline SVG, no script, no
 * external resource), readable offline. It reads the pool, never a run in memory (DESIGN.md §3).
 *
 * Sections: runs (score, 95% CI, Wald, std over epochs, truncation, failures) with a CI forest plot; paired
 * comparisons and a ranking with rank intervals (when ≥ 2 runs share samples); per run, the variance decomposition
 * and a variance-vs-k plot, truncation by length with a histogram by correctness; sweeps (runs of one model whose
 * settings differ) with score-vs-factor plots; for chart runs (GRAB-style), accuracy against complexity per task with
 * 95% intervals; for runs of an arena task, every stored match move by move (src/report/arena.ts); and each run's
 * manifest.
 *
 * The figures come from `reportData` (src/analyses/report.ts), which reads each run once; `renderReport` only
 * formats them.
 */
import { fmtP } from '../analyses/compare.ts';
import { shortDataset } from '../analyses/outcomes.ts';
import { reportData, type ReportData, type ReportDataOptions } from '../analyses/report.ts';
import type { Metric } from '../core/schemas.ts';
import { toolkitInfo } from '../core/toolkit.ts';
import type { ContextLimitResult } from '../stats/context-limit.ts';
import type { Pool } from '../store/types.ts';
import type { ArenaMatch } from '../games/arena.ts';
import { ARENA_MATCH_CSS, arenaMatchesSection, arenaRunMatches } from './arena.ts';
import { difficultyPlot, esc, factorPlot, forestPlot, lengthHistogram, lineChart } from './svg.ts';
import { describeNumeric, fmtMetricInterval, fmtMetricValue, fmtNumber } from './text.ts';

/** A number with `d` decimals, or `n/a` when it is not finite (e.g. a seed variance from a one-epoch run). */
const fx = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

const pct = (x: number | null | undefined) => (x == null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
const pts = (x: number, d = 1) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(d)}`;
const ci = (c: { lo: number; hi: number }) => `[${pct(c.lo)}, ${pct(c.hi)}]`;

type NumericMetric = Extract<Metric, { kind: 'numeric' }>;
/** The metric when it is numeric (values shown in its unit), else null (values shown as percentages). */
const numericOf = (m: Metric | undefined): NumericMetric | null => (m?.kind === 'numeric' ? m : null);
/** A signed difference in a numeric metric's unit (without the unit), e.g. `-1.2345`. */
const signed = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${fmtNumber(x, '')}` : 'n/a');
/** Plot options for values of a numeric metric: labels in its unit, plain tick numbers, the unit and direction on the axis. */
const numericPlot = (m: NumericMetric) => ({ fmt: (v: number) => fmtMetricValue(m, v), tickFmt: (v: number) => String(v), axisLabel: `score (95% CI), ${describeNumeric(m)}` });

/**
 * A table. Columns listed in `num` hold figures (right-aligned, never broken across lines); columns in `wide` hold
 * sentences (given a readable minimum width). Every other cell may break long words (paths, model addresses) so that
 * the table fits the page; a table that still cannot fit scrolls inside its own box instead of widening the page.
 */
export function tableHtml(cls: string, headers: string[], rows: (string | number)[][], o: { num?: number[]; wide?: number[] } = {}): string {
  const klass = (j: number) => (o.num?.includes(j) ? ' class="num"' : o.wide?.includes(j) ? ' class="wide"' : '');
  return `<div class="table-wrap"><table class="${cls}"><thead><tr>${headers.map((h, j) => `<th${klass(j)}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, j) => `<td${klass(j)}>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`;
}

/** The reports' style sheet (this report and the stream report, src/report/stream-html.ts). */
export const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#1b1b1b;line-height:1.45;padding:0 16px}
h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:2px solid #1f5fa8;padding-bottom:4px;margin-top:2em}h3{margin-bottom:.3em;overflow-wrap:anywhere}
.meta{color:#555;font-size:.9em}.table-wrap{max-width:100%;overflow-x:auto}table{border-collapse:collapse;margin:.6em 0 1em;font-size:.88em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#eef3fa;overflow-wrap:normal;hyphens:auto}
td{min-width:5em}td.num,th.num{text-align:right}td.num{white-space:nowrap;overflow-wrap:normal;min-width:0}td.wide{min-width:15em}.note{color:#555;font-size:.88em;max-width:900px}.verdict{font-weight:600}
.warn{color:#8a4b00;font-weight:600}
.plot{display:block;margin:.4em 0 1em;max-width:100%;height:auto}.run-section{border-left:4px solid #eef3fa;padding-left:12px}
div.scroll{overflow-x:auto}table.heatmap td.heat{text-align:center;font-variant-numeric:tabular-nums;min-width:3.5em}table.heatmap th{font-weight:600}
details pre{font-size:.8em;background:#f6f6f6;padding:8px;overflow:auto;max-height:400px;white-space:pre-wrap;overflow-wrap:anywhere}summary{overflow-wrap:anywhere}`;

/** Options for `buildReport`. */
export interface ReportOptions extends ReportDataOptions {
  title?: string;
  /** Fixed "generated at" time (tests); default now. */
  now?: Date;
}

/**
 * Build the report for runs `refs` (ids or unique prefixes) from the pool, each run read once (`reportData`); the
 * attempts of arena runs are read once more for their match records (`arenaRunMatches`). With `rank` (or a ready
 * `poolRanking`) it adds the pool's Plackett–Luce ranking. Returns the HTML text.
 * Errors: InputError for unknown runs or scorers without measurements.
 */
export async function buildReport(pool: Pool, refs: string[], o: ReportOptions = {}): Promise<string> {
  const data = await reportData(pool, refs, o);
  return renderReport(data, { ...o, matches: await arenaRunMatches(pool, data.runs) });
}

/**
 * Render report data as one self-contained HTML page (no pool access). `matches`: the stored matches of the arena
 * runs among them, shown move by move (`arenaMatchesSection`).
 */
export function renderReport(r: ReportData, o: { title?: string; now?: Date; matches?: readonly ArenaMatch[] } = {}): string {
  const { analyses, comparison, sweeps } = r;
  const ungraded = analyses.filter((a) => !a.variance);
  const tk = toolkitInfo();
  const body: string[] = [];
  body.push(`<h1>${esc(o.title ?? 'Assay evaluation report')}</h1>`);
  body.push(`<p class="meta">${r.runs.length} run(s), scorer${r.scorers.length > 1 ? 's' : ''} <b>${esc(r.scorers.join(', '))}</b>; generated ${esc((o.now ?? new Date()).toISOString())} by Assay ${esc(tk.version)}${tk.git_commit ? ` (${esc(tk.git_commit.slice(0, 12))})` : ''}. Every score is shown with its 95% confidence interval; rankings only with rank intervals.</p>`);

  // Runs
  body.push(`<h2 id="runs">Runs</h2>`);
  const anyNumeric = analyses.some((a) => numericOf(a.metric));
  body.push(tableHtml('runs', ['run', 'label', 'dataset', 'samples', 'epochs', anyNumeric ? 'score (avg@k)' : 'accuracy (avg@k)', '95% CI (as in assay stats)', 'Wald 95%', 'std over epochs (seed noise, not a CI)', 'truncated', 'failed'],
    analyses.map((a) => {
      const v = a.variance;
      if (!v) return [a.id.slice(0, 12), a.label, `${shortDataset(a.dataset)}${a.text_only ? ' (text-only)' : ''}`, 0, a.epochs, 'n/a', '—', '—', '—', `${a.truncation.truncated}`, `${a.failed} of ${a.attempts}`];
      const m = numericOf(a.metric);
      return [a.id.slice(0, 12), a.label, `${shortDataset(a.dataset)}${a.text_only ? ' (text-only)' : ''}`, v.samples, a.epochs, fmtMetricValue(a.metric, v.mean), a.ci95 ? fmtMetricInterval(a.metric, a.ci95) : '—',
        fmtMetricInterval(a.metric, { lo: v.mean - 1.959964 * v.se_mean, hi: v.mean + 1.959964 * v.se_mean }),
        v.std_over_epochs == null ? '—' : m ? fmtNumber(v.std_over_epochs, m.unit) : `${(100 * v.std_over_epochs).toFixed(2)} pts`, `${a.truncation.truncated} (${pct(a.truncation.truncated_share)})`, a.failed];
    }), { num: [0, 3, 4, 5, 6, 7, 8, 9, 10] }));
  // The headline interval is the one `assay stats` prints, with its method: never the percentile bootstrap, which is of
  // zero width when every sample scored alike.
  const methods = new Map<string, string[]>();
  for (const a of analyses) if (a.ci95) methods.set(a.ci95.method, [...(methods.get(a.ci95.method) ?? []), a.label]);
  if (methods.size) body.push(`<p class="note">95% CI: ${[...methods].map(([m, labels]) => `${esc(m)}${methods.size > 1 ? ` (${esc(labels.join(', '))})` : ''}`).join('; ')}; the same interval as <code>assay stats</code>.</p>`);
  body.push(`<p class="note">Wald 95% here is mean ± 1.96·SE with SE from the variance components (questions + seed). Failed attempts (model call errors after retries) are excluded from accuracy, never scored 0.</p>`);
  const numericRuns = analyses.filter((a) => numericOf(a.metric));
  if (numericRuns.length) body.push(`<p class="note">Scores on a numeric metric are means in its unit, not percentages: ${numericRuns.map((a) => `${esc(a.label)}: ${esc(a.scorer)} (${esc(describeNumeric(numericOf(a.metric)!))})`).join('; ')}.</p>`);
  const timeouts = analyses.reduce((n, a) => n + a.outcomes.timeouts, 0), graderErrors = analyses.reduce((n, a) => n + a.outcomes.grader_errors, 0);
  if (timeouts || graderErrors) body.push(`<p class="note">${timeouts ? `${timeouts} response(s) the grader could not judge within its time budget count as wrong` : ''}${timeouts && graderErrors ? '; ' : ''}${graderErrors ? `${graderErrors} attempt(s) with a grader error are excluded, like failed calls` : ''} (${analyses.filter((a) => a.outcomes.timeouts || a.outcomes.grader_errors).map((a) => `${esc(a.label)}: ${a.outcomes.timeouts} timeout(s), ${a.outcomes.grader_errors} grader error(s)`).join('; ')}).</p>`);
  for (const a of ungraded) body.push(`<p class="warn">${esc(a.label)} (${esc(a.id.slice(0, 12))}) has no graded attempt: ${a.failed} of its ${a.attempts} attempt(s) failed${a.attempts > a.failed ? ', the rest went ungraded' : ''}. It has no score and is left out of the plots, comparisons and rankings; run it again to retry the failed attempts.</p>`);
  // One forest plot per scale: percentages share an axis; each numeric metric (unit and direction) gets its own.
  const scales = new Map<string, { metric: NumericMetric | null; rows: { label: string; mean: number; lo: number; hi: number }[] }>();
  for (const a of analyses) {
    if (!a.variance) continue;
    const m = numericOf(a.metric);
    const key = m ? `numeric|${m.unit}|${m.higher_is_better}` : 'percent';
    if (!scales.has(key)) scales.set(key, { metric: m, rows: [] });
    const c = a.ci95 ?? a.variance.ci95_bootstrap;
    scales.get(key)!.rows.push({ label: a.label, mean: a.variance.mean, lo: c.lo, hi: c.hi });
  }
  for (const { metric: m, rows } of scales.values()) {
    body.push(m ? forestPlot(rows, `CI forest plot: mean ${m.unit || 'score'} with 95% CI (as in assay stats)`, numericPlot(m)) : forestPlot(rows, 'CI forest plot: accuracy with 95% CI (as in assay stats)'));
  }

  // Comparison
  if (comparison) {
    body.push(`<h2 id="compare">Paired comparison</h2>`);
    const cm = numericOf(comparison.metric);
    if (cm) {
      const u = cm.unit ? ` ${cm.unit}` : '';
      body.push(`<p class="note">On the ${comparison.shared_samples} samples all ${ungraded.length ? 'graded ' : ''}runs share (matched by content hash), scored by ${esc(comparison.scorer)} (${esc(describeNumeric(cm))}). Difference = A − B in${esc(u || ' the metric\'s unit')}; CI from the paired cluster bootstrap; p from the sign-flip permutation test, adjusted with ${comparison.adjustment === 'holm' ? 'Holm' : 'Benjamini–Hochberg'} over ${comparison.pairs.length} comparison(s). Paired t and Wilcoxon signed-rank on per-sample means are shown beside it. ${cm.higher_is_better == null ? 'The metric\'s direction is unknown, so no run is called better.' : `The better run is the one with the ${cm.higher_is_better ? 'higher' : 'lower'} mean, as the verdict says.`}</p>`);
      body.push(tableHtml('pairs', ['A', 'B', `difference (${cm.unit || 'A − B'})`, '95% CI', 'sign-flip p', 'adjusted p', 'paired t p', 'Wilcoxon p', `MDE (80% power, α ${comparison.alpha})`, 'better', 'verdict'],
        comparison.pairs.map((p) => [p.a_label, p.b_label, signed(p.difference), `[${signed(p.ci95_bootstrap.lo)}, ${signed(p.ci95_bootstrap.hi)}]${u}`, fmtP(p.sign_flip.p), fmtP(p.p_adjusted), fmtP(p.paired_t.p), fmtP(p.wilcoxon.p),
          Number.isFinite(p.mde) ? `±${fmtNumber(p.mde, cm.unit)}` : 'n/a', p.better ?? '—', p.verdict]), { num: [2, 3, 4, 5, 6, 7, 8], wide: [10] }));
    } else {
      body.push(`<p class="note">On the ${comparison.shared_samples} samples all ${ungraded.length ? 'graded ' : ''}runs share (matched by content hash). Difference = A − B in points; CI from the paired cluster bootstrap; p from the sign-flip permutation test, adjusted with ${comparison.adjustment === 'holm' ? 'Holm' : 'Benjamini–Hochberg'} over ${comparison.pairs.length} comparison(s). Paired t and Wilcoxon signed-rank on per-sample means and McNemar (binary scores, epoch-matched) are shown beside it. The verdict names the higher-scoring run first.</p>`);
      body.push(tableHtml('pairs', ['A', 'B', 'difference (pts)', '95% CI', 'sign-flip p', 'adjusted p', 'paired t p', 'Wilcoxon p', 'McNemar mid-p', `MDE (80% power, α ${comparison.alpha})`, 'verdict'],
        comparison.pairs.map((p) => [p.a_label, p.b_label, pts(p.difference), `[${pts(p.ci95_bootstrap.lo)}, ${pts(p.ci95_bootstrap.hi)}]`, fmtP(p.sign_flip.p), fmtP(p.p_adjusted), fmtP(p.paired_t.p), fmtP(p.wilcoxon.p),
          p.mcnemar ? fmtP(p.mcnemar.first_epoch.p_mid) : '—', Number.isFinite(p.mde) ? `±${(100 * p.mde).toFixed(1)} pts` : 'n/a', p.verdict]), { num: [2, 3, 4, 5, 6, 7, 8, 9], wide: [10] }));
    }
    if (comparison.ranking) {
      const r = comparison.ranking;
      body.push(`<h3>Ranking with rank intervals</h3><p class="note">95% rank intervals from ${r.replicates} joint bootstrap replicates (seed ${r.seed}); runs in one group are not significantly different from the group's best run.</p>`);
      body.push(tableHtml('ranking', ['group', 'rank interval', 'label', 'mean', '95% CI', 'tied with'], r.runs.map((x) => [x.group, x.rank_interval.lo === x.rank_interval.hi ? String(x.rank_interval.lo) : `${x.rank_interval.lo}–${x.rank_interval.hi}`, x.label, fmtMetricValue(r.metric, x.mean), fmtMetricInterval(r.metric, x.ci95), x.tied_with.join(', ') || '—']), { num: [0, 1, 3, 4] }));
    }
  }

  // Per-run variance and truncation
  body.push(`<h2 id="variance">Variance: seed noise vs question sampling</h2>`);
  body.push(`<p class="note">One-way random-effects decomposition of each run's scores: σ²_w is the seed (within-sample) variance of one attempt, σ²_b the between-sample variance of the questions' true scores. Var(avg@k) = σ²_b/n + σ²_w/(n·k): the seed part falls like 1/k, the question part is a floor that only more samples lower. "Observed" is the between-sample variance of k-epoch means over random k-subsets of the recorded epochs.</p>`);
  for (const a of analyses) {
    const v = a.variance;
    body.push(`<div class="run-section"><h3>${esc(a.label)} <span class="meta">(${esc(a.id.slice(0, 12))})</span></h3>`);
    if (!v) {
      body.push(`<p class="warn">No graded attempt (${a.failed} of ${a.attempts} failed): no variance, truncation or length analysis.</p></div>`);
      continue;
    }
    const m = numericOf(a.metric);
    if (m) {
      // a numeric metric: standard errors in its unit, not points
      const u = m.unit || 'score units', n = (x: number) => fmtNumber(x, m.unit);
      body.push(tableHtml('variance', ['quantity', 'value'], [
        ['within-sample (seed) variance σ²_w', fx(v.within_variance, 4)],
        ['between-sample (question) variance σ²_b', fx(v.between_variance, 4)],
        ['intra-class correlation', Number.isFinite(v.icc) ? v.icc.toFixed(3) : 'n/a (no variance)'],
        [`SE of the mean at k = ${v.epochs_mean.toFixed(1)}`, n(v.se_mean)],
        ['  of which question sampling', n(Math.sqrt(v.var_mean_questions))],
        ['  of which seed noise', `${n(Math.sqrt(v.var_mean_seed))} (${fx(100 * v.seed_share, 0)}% of the variance)`],
      ]));
      body.push(tableHtml('curve', ['k (epochs)', `SE total (model), ${u}`, `SE seed, ${u}`, `SE questions (floor), ${u}`, `SE observed, ${u}`], v.curve.map((c) => [c.k, fmtNumber(c.se_total, ''), fmtNumber(Math.sqrt(c.var_seed), ''), fmtNumber(Math.sqrt(c.var_questions), ''), c.se_observed == null ? '—' : fmtNumber(c.se_observed, '')]), { num: [0, 1, 2, 3, 4] }));
      body.push(lineChart(v.curve.map((c) => c.k), [
        { name: 'total (model)', values: v.curve.map((c) => c.se_total), color: '#1f5fa8' },
        { name: 'observed', values: v.curve.map((c) => c.se_observed), color: '#111' },
        { name: 'seed part', values: v.curve.map((c) => Math.sqrt(c.var_seed)), color: '#c0392b', dashed: true },
        { name: 'question floor', values: v.curve.map((c) => Math.sqrt(c.var_questions)), color: '#2e8b57', dashed: true },
      ], { title: `variance vs k: SE of avg@k (${u}) for ${a.label}`, xLabel: 'epochs k (log scale)', yLabel: `SE of the mean (${u})`, yFmt: (x) => String(x) }));
    } else {
      body.push(tableHtml('variance', ['quantity', 'value'], [
        ['within-sample (seed) variance σ²_w', fx(v.within_variance, 4)],
        ['between-sample (question) variance σ²_b', fx(v.between_variance, 4)],
        ['intra-class correlation', Number.isFinite(v.icc) ? v.icc.toFixed(3) : 'n/a (no variance)'],
        [`SE of the mean at k = ${v.epochs_mean.toFixed(1)}`, `${fx(100 * v.se_mean, 2)} pts`],
        ['  of which question sampling', `${fx(100 * Math.sqrt(v.var_mean_questions), 2)} pts`],
        ['  of which seed noise', `${fx(100 * Math.sqrt(v.var_mean_seed), 2)} pts (${fx(100 * v.seed_share, 0)}% of the variance)`],
      ]));
      body.push(tableHtml('curve', ['k (epochs)', 'SE total (model), pts', 'SE seed, pts', 'SE questions (floor), pts', 'SE observed, pts'], v.curve.map((c) => [c.k, (100 * c.se_total).toFixed(2), (100 * Math.sqrt(c.var_seed)).toFixed(2), (100 * Math.sqrt(c.var_questions)).toFixed(2), c.se_observed == null ? '—' : (100 * c.se_observed).toFixed(2)]), { num: [0, 1, 2, 3, 4] }));
      const ks = v.curve.map((c) => c.k);
      body.push(lineChart(ks, [
        { name: 'total (model)', values: v.curve.map((c) => 100 * c.se_total), color: '#1f5fa8' },
        { name: 'observed', values: v.curve.map((c) => (c.se_observed == null ? null : 100 * c.se_observed)), color: '#111' },
        { name: 'seed part', values: v.curve.map((c) => 100 * Math.sqrt(c.var_seed)), color: '#c0392b', dashed: true },
        { name: 'question floor', values: v.curve.map((c) => 100 * Math.sqrt(c.var_questions)), color: '#2e8b57', dashed: true },
      ], { title: `variance vs k: SE of avg@k (pts) for ${a.label}`, xLabel: 'epochs k (log scale)', yLabel: 'SE of the mean (pts)' }));
    }
    const t = a.truncation;
    const val = (x: number | null | undefined) => fmtMetricValue(a.metric, x);
    body.push(`<h3>Truncation and response length</h3><p>${t.truncated} of ${t.attempts} attempts hit the token limit (${pct(t.truncated_share)}). ${m ? 'Mean' : 'Accuracy'} with them ${val(t.accuracy_all)}, without them ${val(t.accuracy_without_truncated ?? t.accuracy_all)}${t.accuracy_of_truncated != null ? `; truncated attempts alone ${val(t.accuracy_of_truncated)}` : ''}.</p>`);
    body.push(tableHtml('lengths', [`length (${t.unit})`, 'attempts', 'truncated', m ? 'mean' : 'accuracy', '95% CI'], t.bins.map((b) => [`${b.lo}–${b.hi}`, b.attempts, b.truncated, val(b.accuracy), fmtMetricInterval(a.metric, b.ci95)]), { num: [0, 1, 2, 3, 4] }));
    if (m) body.push(`<p class="note">No histogram by correctness: ${esc(a.scorer)} scores are not right or wrong.</p>`);
    else body.push(lengthHistogram(t.histogram, { title: `response length by correctness for ${a.label}`, unit: t.unit }));
    body.push(`</div>`);
  }

  // Sweeps
  if (sweeps.length) {
    body.push(`<h2 id="sweep">Sensitivity: score vs settings</h2>`);
    for (const s of sweeps) {
      const an = s.analysis;
      const sm = analyses.find((a) => a.id === s.run_ids[0])?.metric;
      const snum = numericOf(sm);
      body.push(`<h3>${esc(s.model)} on ${esc(s.dataset)} (${an.runs} runs, ${an.samples} shared samples)</h3>`);
      body.push(`<p class="note">Seed noise of one run's score: ${esc(an.seed_noise)}. Each factor's best and worst levels are compared by a sign-flip permutation test paired by sample, adjusted over factors (${esc(an.factors[0]?.test.adjustment === 'bh' ? 'Benjamini–Hochberg' : 'Holm')}); "not significant at this size" is what that test says, not a claim that the factor has no effect.</p>`);
      body.push(tableHtml('sweep', ['factor', 'levels', snum ? `range (${snum.unit || 'score units'})` : 'range (pts)', 'range / seed sd', 'p', 'adjusted p', 'verdict'], an.factors.map((f) => [f.factor, f.levels.map((l) => `${l.level}: ${fmtMetricValue(sm, l.mean)} ${fmtMetricInterval(sm, l.ci95)}`).join('; '), snum ? fmtNumber(f.range, '') : (100 * f.range).toFixed(1), f.ratio_to_seed_sd == null ? 'n/a (no seed noise measured)' : f.ratio_to_seed_sd.toFixed(1), fmtP(f.p), fmtP(f.p_adjusted), f.verdict]), { num: [2, 4, 5], wide: [6] }));
      for (const f of an.factors) body.push(factorPlot(f.levels.map((l) => ({ level: l.level, mean: l.mean, lo: l.ci95.lo, hi: l.ci95.hi, runs: l.run_means })), { title: `score vs ${f.factor}`, factor: f.factor, ...(snum ? numericPlot(snum) : {}) }));
    }
  }

  // Needle threading: effective context limit, accuracy vs length, depth × length heatmap
  if (r.needle.length) {
    body.push(`<h2 id="context">Long context: effective context limit</h2>`);
    body.push(`<p class="note">Needle-threading runs. The effective limit is the longest context length (characters) at which accuracy stays at or above the threshold at that length and every shorter one; its interval is a bootstrap over samples. Lengths are in characters: token counts differ between tokenizers (see <code>assay tokens</code>).</p>`);
    for (const x of r.needle) body.push(needleSection(x.label, x.limit, x.token_scale ? `Tokens: ${x.token_scale.description}.` : x.token_note));
  }

  // Charts: accuracy against complexity
  if (r.difficulty?.length) {
    body.push(`<h2 id="difficulty">Charts: accuracy vs complexity</h2>`);
    body.push(`<p class="note">Chart questions (GRAB-style) by the number of functions or data series plotted, or of transformation steps applied, per run. Intervals: 95% Wilson score on the samples of each point (one epoch), or the clustered score interval when samples were repeated. A curve that falls with complexity is GRAB's finding; points with few samples have wide intervals.</p>`);
    for (const t of r.difficulty) {
      body.push(`<h3>${esc(t.task)}</h3>`);
      body.push(difficultyPlot(t.curves.map((c) => ({ name: c.label, points: c.points.map((p) => ({ x: p.x, mean: p.accuracy, lo: p.ci95.lo, hi: p.ci95.hi, n: p.samples })) })), { title: `accuracy vs ${t.x_label}: ${t.task} questions`, xLabel: t.x_label }));
      body.push(tableHtml('difficulty', ['run', t.x_label, 'samples', 'attempts', 'accuracy', '95% CI'], t.curves.flatMap((c) => c.points.map((p) => [c.label, p.x, p.samples, p.attempts, pct(p.accuracy), ci(p.ci95)])), { num: [1, 2, 3, 4, 5] }));
    }
  }

  // Pool ranking
  if (r.pool_ranking) {
    const pr = r.pool_ranking;
    body.push(`<h2 id="pool-ranking">Ranking from the pool (Plackett–Luce)</h2>`);
    body.push(`<p class="note">${pr.models.length} models from ${pr.measurements} measurements (sources ${esc(pr.sources.join(', '))}). Score = centred log-strength; CI and rank interval from a bootstrap over samples (${pr.bootstrap.replicates} replicates, seed ${pr.bootstrap.seed}). ${pr.diagnostics.components.length > 1 ? `<b>The models fall into ${pr.diagnostics.components.length} groups never compared (no sample on which models of two groups scored differently: ties carry no order): order between groups rests on the prior only.</b>` : 'The comparison graph is connected.'}</p>`);
    const f3 = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(3);
    body.push(tableHtml('pool-ranking', ['model', 'score', '95% CI', 'rank interval', 'samples', 'mean'], pr.models.map((m) => [m.model, f3(m.score), Number.isFinite(m.ci[0]) ? `[${f3(m.ci[0])}, ${f3(m.ci[1])}]` : 'n/a (never compared)', `${m.rank_interval[0]}–${m.rank_interval[1]}`, m.samples, fx(m.mean_score, 4)]), { num: [1, 2, 3, 4, 5] }));
  }

  // Game arena: every stored match move by move
  const matches = o.matches ?? [];
  if (matches.length) body.push(arenaMatchesSection(matches));

  // Manifests
  body.push(`<h2 id="manifests">Manifests</h2>`);
  for (const run of r.runs) body.push(`<details><summary>${esc(run.id)} — ${esc(run.spec.model)}</summary><pre>${esc(JSON.stringify({ spec: run.spec, manifest: run.manifest }, null, 2))}</pre></details>`);
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(o.title ?? 'Assay evaluation report')}</title><style>${CSS}${matches.length ? ARENA_MATCH_CSS : ''}</style></head><body>${body.join('\n')}</body></html>\n`;
}

/** One needle-threading run: the limit, accuracy vs length (with CI bounds as dashed lines) and the depth × length heatmap. */
function needleSection(label: string, r: ContextLimitResult, note?: string): string {
  const out: string[] = [];
  const lim = r.effective_limit == null ? 'below the shortest length tested' : `${r.effective_limit.toLocaleString('en')} characters${r.censored ? ' (every length passed: at least this)' : ''}`;
  const ciTxt = `${r.ci.lo == null ? 'below shortest' : r.ci.lo.toLocaleString('en')} – ${r.ci.hi == null ? 'below shortest' : r.ci.hi.toLocaleString('en')}`;
  const t = r.tokens;
  const tok = (n: number | null) => (n == null ? '?' : n.toLocaleString('en'));
  const tokTxt = t && r.effective_limit != null ? ` = ${tok(t.effective_limit)} tokens (interval ${r.ci.lo == null ? 'below shortest' : tok(t.ci.lo)} – ${r.ci.hi == null ? 'below shortest' : tok(t.ci.hi)} tokens)` : '';
  out.push(`<h3>${esc(label)}</h3><p>Effective limit at accuracy ≥ ${pct(r.threshold)}: <b>${esc(lim)}</b>, ${Math.round(r.ci.level * 100)}% interval ${esc(ciTxt)} characters${esc(tokTxt)}.</p>`);
  if (note) out.push(`<p class="note">${esc(note)}</p>`);
  const xs = r.by_length.map((b) => b.length);
  out.push(lineChart(xs, [
    { name: 'accuracy', values: r.by_length.map((b) => 100 * b.accuracy), color: '#1f5fa8' },
    { name: '95% CI low', values: r.by_length.map((b) => 100 * b.ci95.lo), color: '#7f9fc8', dashed: true },
    { name: '95% CI high', values: r.by_length.map((b) => 100 * b.ci95.hi), color: '#7f9fc8', dashed: true },
    { name: 'threshold', values: r.by_length.map(() => 100 * r.threshold), color: '#c0392b', dashed: true },
  ], { title: `accuracy vs context length for ${label}`, xLabel: 'context length (characters, log scale)', yLabel: 'accuracy (%)' }));
  const { depths, lengths, cells } = r.heatmap;
  if (depths.length && lengths.length) {
    const at = new Map(cells.map((c) => [`${c.depth}|${c.length}`, c]));
    const head = `<tr><th>depth \\ length</th>${lengths.map((l) => `<th>${esc(l.toLocaleString('en'))}</th>`).join('')}</tr>`;
    const rows = depths.map((d) => `<tr><th>${d}%</th>${lengths.map((l) => {
      const c = at.get(`${d}|${l}`);
      if (!c) return '<td>–</td>';
      const hue = Math.round(120 * c.accuracy); // red (0) → green (1)
      return `<td class="heat" style="background:hsl(${hue},65%,82%)" title="${c.samples} samples">${pct(c.accuracy)}</td>`;
    }).join('')}</tr>`);
    out.push(`<p class="note">Depth × length heatmap (accuracy; tasks with a needle depth only).</p><div class="scroll"><table class="heatmap">${head}${rows.join('')}</table></div>`);
  }
  return out.join('\n');
}
