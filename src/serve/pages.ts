/**
 * The viewer's pages, rendered on the server from data the routes read (src/serve/app.ts): plain HTML forms and links,
 * one external script (/static/app.js) for polling and conveniences, one style sheet. Every value from the pool goes
 * through the escaping `html` template (src/serve/html.ts); the only unescaped markup is the report's SVG plots
 * (src/report/svg.ts, which escape their own labels) and the pages' own fixed markup.
 */
import type { ComparisonReport } from '../analyses/compare.ts';
import { fmtP } from '../analyses/compare.ts';
import type { RunCalibration } from '../analyses/calibration.ts';
import type { ContextLimits } from '../analyses/context-limit.ts';
import type { EvalTable } from '../analyses/eval-set.ts';
import type { PoolRanking } from '../analyses/pool-ranking.ts';
import { messageImages, messageText, type Message, type PlannedSample, type RunRecord } from '../core/schemas.ts';
import { forestPlot, lineChart } from '../report/svg.ts';
import { fmtMetricInterval, fmtMetricValue } from '../report/text.ts';
import type { ContextLimitResult } from '../stats/context-limit.ts';
import type { AttemptPageRow, EvalSetRecord, PrivateSetRecord, RunSummary } from '../store/types.ts';
import { roleAtLeast, type AuditEntry, type Role, type TokenRecord } from './auth.ts';
import { isPrivateRun, OUTCOME_FILTERS, type AttemptListRow, type AttemptPage, type RunProgress, type RunStats } from './data.ts';
import { html, path, query, trusted, type Html } from './html.ts';
import type { Note } from './notes.ts';

/** Who is looking: their role, how they authenticated, and the token's name. */
export interface Viewer {
  role: Role;
  /** `none`: the server runs without tokens (loopback only). */
  via: 'none' | 'bearer' | 'cookie';
  name: string | null;
}

const pct = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
const ci = (c: { lo: number; hi: number } | null | undefined) => (c ? `[${pct(c.lo)}, ${pct(c.hi)}]` : 'n/a');
/** Number formats by decimals, made once (`toLocaleString` with options builds a formatter per call: slow in tables). */
const formats = new Map<number, Intl.NumberFormat>();
const num = (x: number | null | undefined, d = 0) => {
  if (x == null || !Number.isFinite(x)) return '—';
  let f = formats.get(d);
  if (!f) formats.set(d, (f = new Intl.NumberFormat('en', { maximumFractionDigits: d, minimumFractionDigits: d })));
  return f.format(x);
};
const excerpt = (s: string | null, n = 240) => (s == null ? '' : s.length > n ? `${s.slice(0, n)}…` : s);

export const runHref = (id: string) => path('runs', id);
export const sampleHref = (run: string, sample: string) => `${path('runs', run, 'sample')}${query({ id: sample })}`;

/** The page frame: header with navigation, the viewer's role, and the content. */
export function layout(title: string, viewer: Viewer | null, body: Html | Html[]): string {
  const nav = viewer
    ? html`<nav><a href="/">Runs</a><a href="/compare">Compare</a><a href="/ranking">Ranking</a><a href="/eval-sets">Eval sets</a>${roleAtLeast(viewer.role, 'admin') ? html`<a href="/admin/tokens">Tokens</a><a href="/admin/audit">Audit log</a><a href="/admin/private-sets">Private sets</a>` : ''}</nav>
      <span class="who">${viewer.via === 'none' ? 'no tokens (loopback)' : viewer.name} · ${viewer.role}</span>${viewer.via === 'cookie' ? html`<form method="post" action="/logout"><button type="submit">Log out</button></form>` : ''}`
    : html`<nav></nav>`;
  return `<!doctype html>\n${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Assay</title><link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>
<body><header><a class="brand" href="/">Assay</a>${nav}</header><main>${body}</main></body></html>`}\n`;
}

function table(headers: (string | [string, 'num'])[], rows: unknown[][], cls = ''): Html {
  const isNum = headers.map((h) => Array.isArray(h));
  return html`<div class="table-wrap"><table class="${cls}"><thead><tr>${headers.map((h) => (Array.isArray(h) ? html`<th class="num">${h[0]}</th>` : html`<th>${h}</th>`))}</tr></thead><tbody>${rows.map(
    (r) => html`<tr>${r.map((c, j) => (isNum[j] ? html`<td class="num">${c}</td>` : html`<td>${c}</td>`))}</tr>`,
  )}</tbody></table></div>`;
}

function downloads(base: string, params: Record<string, string | number | null | undefined> = {}): Html {
  return html`<p class="downloads">Download: ${['csv', 'json', 'jsonl'].map((f, i) => html`${i ? ' · ' : ''}<a href="${base}${query({ ...params, format: f })}">${f.toUpperCase()}</a>`)}</p>`;
}

/** An error page: the status and its message (escaped). */
export function errorPage(status: number, message: string, viewer: Viewer | null): string {
  return layout(`Error ${status}`, viewer, html`<h1>Error ${status}</h1><p class="err">${message}</p><p><a href="/">Back to the runs</a></p>`);
}

/** The login form (a token in a password field, posted to /login), with an optional message. */
export function loginPage(message: string | null): string {
  return layout('Log in', null, html`<h1>Log in</h1>${message ? html`<p class="err">${message}</p>` : ''}
<p>This viewer needs an API token (<code>assay serve tokens create --name … --role read</code>).</p>
<form method="post" action="/login"><label>Token <input type="password" name="token" autocomplete="off" size="70" required></label> <button type="submit">Log in</button></form>`);
}

// --- run list ----------------------------------------------------------------------------------------------------------

export interface RunListFilters {
  task: string;
  model: string;
  status: string;
  q: string;
  page: number;
}

/** The run list: filters (task, model, status, text), `pageSize` runs per page (newest first), checkboxes to compare, downloads. */
export function runListPage(runs: RunSummary[], all: RunSummary[], f: RunListFilters, pageSize: number, viewer: Viewer): string {
  const tasks = [...new Set(all.map((r) => r.task ?? '(none)'))].sort();
  const models = [...new Set(all.map((r) => r.model))].sort();
  const statuses = [...new Set(all.map((r) => r.status))].sort();
  const from = f.page * pageSize;
  const shown = runs.slice(from, from + pageSize);
  const sel = (name: string, values: string[], current: string, label: string) =>
    html`<label>${label}<select name="${name}" data-autosubmit><option value="">all</option>${values.map((v) => html`<option value="${v}"${v === current ? trusted(' selected') : ''}>${v}</option>`)}</select></label>`;
  const params = { task: f.task, model: f.model, status: f.status, q: f.q };
  return layout('Runs', viewer, html`<h1>Runs</h1>
<form class="filters" method="get" action="/">${sel('task', tasks, f.task, 'task')}${sel('model', models, f.model, 'model')}${sel('status', statuses, f.status, 'status')}
<label>search<input type="search" name="q" value="${f.q}" maxlength="200" placeholder="id, model, dataset"></label><button type="submit">Filter</button></form>
<p class="meta">${runs.length} of ${all.length} runs. Tick two or more to compare them (paired by sample).</p>
<form method="get" action="/compare">
${table(['', 'run', 'status', 'created', 'model', 'dataset', 'task', ['epochs', 'num'], ['samples', 'num'], ['attempts', 'num'], ['failed', 'num'], 'scorers'],
    shown.map((r) => [html`<input type="checkbox" name="runs" value="${r.id}" aria-label="compare ${r.id}">`, html`<a href="${runHref(r.id)}">${r.id}</a>`, r.status, r.created_at.slice(0, 19).replace('T', ' '),
      r.model, r.dataset, r.task ?? '—', r.epochs, num(r.samples), num(r.attempts), num(r.failed), r.scorers.join(', ')]), 'runs')}
<button type="submit">Compare ticked runs</button></form>
<div class="pager">${f.page > 0 ? html`<a href="/${query({ ...params, page: f.page - 1 })}">← previous</a>` : ''}${from + pageSize < runs.length ? html`<a href="/${query({ ...params, page: f.page + 1 })}">next →</a>` : ''}</div>
${downloads('/api/runs', params)}`);
}

// --- run page ----------------------------------------------------------------------------------------------------------

export interface RunPageInput {
  run: RunRecord;
  /** The statistics section ({@link statsSection}, which callers may keep while the run does not change), or null. */
  stats: Html | null;
  statsError: string | null;
  scorers: string[];
  scorer: string | null;
  filter: string;
  q: string;
  page: AttemptPage;
  after: string | null;
  limit: number;
}

/** The statistics section of a run page: a table of every scorer's avg@k with its intervals, and the forest plot. */
export function statsSection(run: RunRecord, stats: RunStats): Html {
  const rows = stats.scorers.map(({ scorer, statistics: s }) => [
    scorer, fmtMetricValue(s.metric, s.accuracy), html`${fmtMetricInterval(s.metric, s.ci95)}<br><span class="meta">${s.ci95.method}</span>`, fmtMetricInterval(s.metric, s.ci95_bootstrap),
    fmtMetricInterval(s.metric, s.ci95_wald), Object.entries(s.pass_at_k).map(([k, v]) => `${k} ${pct(v)} ${ci(s.pass_at_k_ci95[k])}`).join('; ') || '—',
    s.maj_at_k ? `${pct(s.maj_at_k.value)} ${ci(s.maj_at_k.ci95)}` : '—', `${s.samples} / ${s.samples_planned}`, num(s.attempts), num(s.failed), num(s.truncated), num(s.ungraded),
  ]);
  const plotRows = stats.scorers.filter((x) => Number.isFinite(x.statistics.accuracy) && x.statistics.metric?.kind !== 'numeric').map((x) => ({ label: x.scorer, mean: x.statistics.accuracy, lo: x.statistics.ci95.lo, hi: x.statistics.ci95.hi }));
  return html`<h2 id="statistics">Statistics</h2>
<p class="note">avg@k over ${run.spec.epochs} epoch(s) per sample. The first interval is the headline 95% CI (its method below it); the cluster bootstrap (seed ${run.manifest.seeds.bootstrap}) and Wald intervals are beside it, labelled. Failed model calls and grader errors are excluded and counted; grader timeouts count as wrong.</p>
${table(['scorer', ['avg@k', 'num'], '95% CI (headline)', 'cluster bootstrap 95%', 'Wald 95%', 'pass@k (95% CI)', 'maj@k (95% CI)', ['samples graded', 'num'], ['attempts', 'num'], ['failed', 'num'], ['truncated', 'num'], ['ungraded', 'num']], rows, 'stats')}
${plotRows.length ? trusted(forestPlot(plotRows, `${run.spec.model}: accuracy with 95% CI per scorer`)) : ''}`;
}

function attemptRow(runId: string, r: AttemptListRow): unknown[] {
  return [
    num(r.index), html`<a href="${sampleHref(runId, r.sample_id)}">${r.sample_id}</a>`, r.epoch, html`<span class="outcome-${r.outcome}">${r.outcome}</span>`, r.value == null ? '—' : num(r.value, 3),
    Object.entries(r.scores).map(([k, v]) => `${k}: ${v == null ? '—' : num(v, 2)}`).join(', '), excerpt(r.extracted, 60), html`<span class="excerpt">${excerpt(r.response ?? r.error)}</span>`, r.finish_reason,
    r.completion_tokens ?? '—',
  ];
}

/** A run page: links, the statistics section, the attempts of one keyset page with its filters, downloads, spec and manifest. */
export function runPage(p: RunPageInput, viewer: Viewer): string {
  const { run } = p;
  const id = run.id;
  const priv = isPrivateRun(run);
  const filterParams = { filter: p.filter === 'all' ? '' : p.filter, scorer: p.scorer ?? '', q: p.q };
  const needle = run.spec.dataset.ref.startsWith('generated:needle') || run.spec.dataset.name.includes('needle');
  return layout(`Run ${id}`, viewer, html`<h1>${run.spec.model} <span class="meta">on</span> ${run.spec.dataset.ref} ${priv ? html`<span class="badge private">private held-out set</span>` : ''}</h1>
<p class="meta">run <code>${id}</code> · ${run.status} · created ${run.created_at} · ${run.spec.epochs} epoch(s) · template ${run.spec.template.name}${run.spec.task ? ` · task ${run.spec.task.name}@${run.spec.task.version}` : ''}</p>
<p><a href="${path('runs', id, 'live')}">Live view</a> · <a href="${path('runs', id, 'calibration')}">Calibration</a> · <a href="${path('runs', id, 'context')}">Context limit${needle ? '' : ' (needle runs)'}</a> · <a href="/compare${query({ runs: id })}">Compare with other runs</a> · <a href="${path('api', 'runs', id)}">JSON</a></p>
${priv && !roleAtLeast(viewer.role, 'admin') ? html`<p class="warn">This run evaluates a private held-out set: prompts, targets, responses and extracted answers are withheld; scores are shown.</p>` : ''}
${p.stats ?? html`<h2>Statistics</h2><p class="note">${p.statsError ?? 'No measurements yet.'}</p>`}
${p.stats ? downloads(path('api', 'runs', id, 'stats')) : ''}
<h2 id="attempts">Attempts</h2>
<form class="filters" method="get" action="${runHref(id)}#attempts">
<label>outcome<select name="filter" data-autosubmit>${OUTCOME_FILTERS.map((f) => html`<option value="${f === 'all' ? '' : f}"${f === p.filter ? trusted(' selected') : ''}>${f === 'disagree' ? 'grader disagreement' : f}</option>`)}</select></label>
<label>scorer<select name="scorer" data-autosubmit>${p.scorers.map((s) => html`<option value="${s}"${s === p.scorer ? trusted(' selected') : ''}>${s}</option>`)}</select></label>
<label>search<input type="search" name="q" value="${p.q}" maxlength="200" placeholder="sample id or text in responses"></label>
<label>from sample #<input type="number" name="from" min="0" step="1" size="8"></label>
<button type="submit">Apply</button></form>
<p class="meta">${p.page.rows.length} attempt(s) shown${p.after ? html` from position ${p.after}` : ''}; ${num(p.page.scanned)} looked at.${p.page.budget_exhausted ? html` <span class="warn">Stopped after looking at ${num(p.page.scanned)} attempts without filling the page: continue with “next”.</span>` : ''}</p>
${table([['#', 'num'], 'sample', ['epoch', 'num'], 'outcome', ['value', 'num'], 'scores', 'extracted', 'response', 'finish', ['tokens', 'num']], p.page.rows.map((r) => attemptRow(id, r)), 'attempts')}
<div class="pager">${p.after ? html`<a href="${runHref(id)}${query({ ...filterParams })}#attempts">⇤ first page</a>` : ''}${p.page.next ? html`<a href="${runHref(id)}${query({ ...filterParams, after: p.page.next })}#attempts" rel="next">next →</a>` : html`<span class="meta">end of the run</span>`}</div>
${downloads(path('api', 'runs', id, 'attempts'), filterParams)}
<details><summary>Spec and manifest</summary><pre>${JSON.stringify({ spec: run.spec, manifest: run.manifest }, null, 2)}</pre></details>`);
}

// --- sample page -------------------------------------------------------------------------------------------------------

function messageBlock(m: Message): Html {
  const images = messageImages(m);
  return html`<div class="msg ${m.role}"><div class="role">${m.role}</div><pre>${messageText(m)}</pre>${images.map((im) => html`<img class="sample-image" src="${path('api', 'images', im.sha256)}" alt="image ${im.sha256.slice(0, 12)} (${im.mime_type})">`)}</div>`;
}

function attemptBlock(a: AttemptPageRow): Html {
  const turns = a.transcript;
  return html`<div class="attempt" id="epoch-${a.epoch}"><h3>Epoch ${a.epoch} <span class="meta">${a.status} · finish ${a.finish_reason} · ${a.prompt_tokens ?? '?'} + ${a.completion_tokens ?? '?'} tokens · ${num(a.latency_ms, 1)} ms · ${a.tries} tr${a.tries === 1 ? 'y' : 'ies'}${a.cached ? ' · from cache' : ''}${a.model_id ? ` · ${a.model_id}` : ''}</span></h3>
${table(['scorer', 'status', ['value', 'num'], 'extracted', 'explanation'], a.measurements.map((m) => [m.scorer, m.status, m.value == null ? '—' : num(m.value, 3), m.extracted ?? '—', excerpt(m.explanation, 2000) || '—']))}
${a.error ? html`<p class="err">Error:</p><pre>${a.error}</pre>` : ''}
${turns ? html`<details open><summary>Transcript (${turns.length} turns)</summary>${turns.map(messageBlock)}</details>` : html`<div class="msg assistant"><div class="role">response</div><pre>${a.response ?? '(none)'}</pre></div>`}
${a.meta ? html`<details><summary>meta</summary><pre>${JSON.stringify(a.meta, null, 2)}</pre></details>` : ''}</div>`;
}

export interface SamplePageInput {
  run: RunRecord;
  planned: PlannedSample;
  attempts: AttemptPageRow[];
  redacted: boolean;
  notes: Note[];
}

/** A sample page: prompt (with images), target, every attempt with its measurements and whole transcript, notes (a form for `write`). */
export function samplePage(p: SamplePageInput, viewer: Viewer): string {
  const { run, planned } = p;
  const s = planned.sample;
  return layout(`Sample ${s.id}`, viewer, html`<h1>Sample <code>${s.id}</code></h1>
<p class="meta">run <a href="${runHref(run.id)}">${run.id}</a> · ${run.spec.model} · ${run.spec.dataset.ref} · sample #${planned.index} · content hash ${planned.content_hash.slice(0, 16)}</p>
${p.redacted ? html`<p class="warn">A private held-out item: its content is withheld.</p>` : ''}
<h2>Prompt</h2>${planned.messages.map(messageBlock)}
<h2>Target</h2><pre>${s.target}</pre>
${s.choices?.length ? html`<h2>Choices</h2><ol type="A">${s.choices.map((c) => html`<li>${c}</li>`)}</ol>` : ''}
<details><summary>Metadata</summary><pre>${JSON.stringify(s.metadata, null, 2)}</pre></details>
<h2>Attempts (${p.attempts.length})</h2>
${p.attempts.length ? p.attempts.map(attemptBlock) : html`<p class="note">No attempt stored yet.</p>`}
<p><a href="/compare/sample${query({ a: run.id, id: s.id })}">This sample side by side with another run →</a></p>
<h2>Notes</h2>
${p.notes.length ? table(['when', 'by', 'label', 'note'], p.notes.map((n) => [n.at.slice(0, 19).replace('T', ' '), n.by, n.label || '—', n.text])) : html`<p class="note">No notes.</p>`}
${roleAtLeast(viewer.role, 'write') ? html`<form method="post" action="${path('runs', run.id, 'notes')}${query({ id: s.id })}" class="filters"><label>label<input name="label" maxlength="40" pattern="[A-Za-z0-9_\\-]*" placeholder="bad-gold"></label><label>note<textarea name="text" rows="2" cols="60" maxlength="4000"></textarea></label><button type="submit">Add note</button></form>` : ''}
<p class="downloads">JSON: <a href="${path('api', 'runs', run.id, 'sample')}${query({ id: s.id })}">this sample with every attempt</a></p>`);
}

/** Pick the second run of a side-by-side view of sample `sampleId` of run `a`. */
export function sideBySidePicker(a: RunRecord, sampleId: string, runs: RunSummary[], viewer: Viewer): string {
  return layout(`Sample ${sampleId}: side by side`, viewer, html`<h1>Sample <code>${sampleId}</code> side by side</h1>
<p class="meta">run <a href="${runHref(a.id)}">${a.id}</a> · ${a.spec.model} · ${a.spec.dataset.ref}</p>
<form class="filters" method="get" action="/compare/sample"><input type="hidden" name="a" value="${a.id}"><input type="hidden" name="id" value="${sampleId}">
<label>with run<select name="b">${runs.filter((r) => r.id !== a.id).map((o) => html`<option value="${o.id}">${o.id.slice(0, 12)} · ${o.model} · ${o.dataset}</option>`)}</select></label><button type="submit">Show</button></form>`);
}

/** One sample in two runs, in two columns (a run without the sample says so). */
export function sideBySidePage(sampleId: string, sides: { run: RunRecord; planned: PlannedSample | null; attempts: AttemptPageRow[]; redacted: boolean }[], viewer: Viewer): string {
  return layout(`Sample ${sampleId}: side by side`, viewer, html`<h1>Sample <code>${sampleId}</code> in ${sides.length} runs</h1>
<div class="cols">${sides.map((x) => html`<section><h2><a href="${runHref(x.run.id)}">${x.run.spec.model}</a></h2><p class="meta">run ${x.run.id} · ${x.run.spec.dataset.ref}${x.redacted ? ' · private: content withheld' : ''}</p>
${x.planned ? html`${x.planned.messages.map(messageBlock)}<p><b>Target:</b></p><pre>${x.planned.sample.target}</pre>
${x.attempts.map(attemptBlock)}<p><a href="${sampleHref(x.run.id, sampleId)}">sample page</a></p>` : html`<p class="warn">This run has no sample with this id.</p>`}</section>`)}</div>`);
}

// --- comparison, ranking, eval sets ------------------------------------------------------------------------------------

/** A paired comparison (`ComparisonReport`): runs, pairs with CIs, p-values and verdicts, the ranking with rank intervals; the run picker. */
export function comparePage(runs: RunSummary[], picked: string[], report: ComparisonReport | null, error: string | null, viewer: Viewer): string {
  const picker = html`<form method="get" action="/compare" class="filters"><label>runs (tick two or more)<select name="runs" multiple size="${Math.min(8, Math.max(3, runs.length))}">${runs.map((r) => html`<option value="${r.id}"${picked.includes(r.id) ? trusted(' selected') : ''}>${r.id.slice(0, 12)} · ${r.model} · ${r.dataset}</option>`)}</select></label><button type="submit">Compare</button></form>`;
  if (!report) return layout('Compare runs', viewer, html`<h1>Compare runs</h1>${error ? html`<p class="err">${error}</p>` : ''}${picker}`);
  const m = report.metric;
  const d = (x: number) => (m.kind === 'numeric' ? x.toPrecision(4) : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} pts`);
  return layout('Compare runs', viewer, html`<h1>Paired comparison (${report.runs.length} runs, ${report.shared_samples} shared samples)</h1>
<p class="note">Scorer ${report.scorer}. Paired by sample (content hash). Difference = A − B; headline 95% CI: paired t on per-sample differences (the cluster bootstrap beside it); p from the sign-flip permutation test, ${report.adjustment === 'holm' ? 'Holm' : 'Benjamini–Hochberg'}-adjusted over ${report.pairs.length} comparison(s); α = ${report.alpha}; seed ${report.seed}.</p>
${table(['run', 'model', ['samples', 'num'], ['epochs', 'num']], report.runs.map((r) => [html`<a href="${runHref(r.id)}">${r.label}</a>`, r.model, r.samples, r.epochs]))}
${table(['A', 'B', ['mean A', 'num'], ['mean B', 'num'], ['difference', 'num'], '95% CI', 'bootstrap 95% CI', ['sign-flip p', 'num'], ['adjusted p', 'num'], 'McNemar mid-p', 'verdict'],
    report.pairs.map((p) => [p.a_label, p.b_label, fmtMetricValue(m, p.mean_a), fmtMetricValue(m, p.mean_b), d(p.difference), `[${d(p.ci95.lo)}, ${d(p.ci95.hi)}]`, `[${d(p.ci95_bootstrap.lo)}, ${d(p.ci95_bootstrap.hi)}]`,
      fmtP(p.sign_flip.p), fmtP(p.p_adjusted), p.mcnemar ? fmtP(p.mcnemar.first_epoch.p_mid) : '—', p.verdict]), 'pairs')}
${report.ranking ? html`<h2>Ranking with rank intervals</h2><p class="note">${report.ranking.rank_interval_method}</p>
${table(['group', 'rank interval', 'run', ['mean', 'num'], '95% CI', 'tied with'], report.ranking.runs.map((r) => [r.group, r.rank_interval.lo === r.rank_interval.hi ? String(r.rank_interval.lo) : `${r.rank_interval.lo}–${r.rank_interval.hi}`, r.label, fmtMetricValue(m, r.mean), fmtMetricInterval(m, r.ci95), r.tied_with.join(', ') || '—']), 'ranking')}
${m.kind !== 'numeric' ? trusted(forestPlot(report.ranking.runs.map((r) => ({ label: r.label, mean: r.mean, lo: r.ci95.lo, hi: r.ci95.hi })), 'mean with 95% CI on the shared samples')) : ''}` : ''}
${downloads('/api/compare', { runs: report.runs.map((r) => r.id).join(','), scorer: report.scorer })}
${report.runs.length === 2 ? html`<p>A sample in both runs: open a sample of <a href="${runHref(report.runs[0]!.id)}#attempts">${report.runs[0]!.label}</a> and choose “side by side”.</p>` : ''}
${picker}`);
}

/** The pool's Plackett–Luce ranking: scores with 95% CIs and rank intervals, the forest plot. */
export function poolRankingPage(r: PoolRanking | null, error: string | null, viewer: Viewer): string {
  if (!r) return layout('Ranking', viewer, html`<h1>Ranking of the pool</h1><p class="note">${error ?? 'No measurements.'}</p>`);
  const f3 = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(3)}` : 'n/a');
  return layout('Ranking', viewer, html`<h1>Ranking of the pool (Plackett–Luce)</h1>
<p class="note">${r.models.length} models from ${num(r.measurements)} measurements (sources ${r.sources.join(', ')}). Score = centred log-strength; 95% CI and simultaneous rank interval from a bootstrap over samples (${r.bootstrap.replicates} replicates, seed ${r.bootstrap.seed}). ${r.diagnostics.components.length > 1 ? `The models fall into ${r.diagnostics.components.length} groups never compared (no sample on which models of two groups scored differently: ties carry no order).` : 'The comparison graph is connected.'}</p>
${table(['model', ['score', 'num'], '95% CI', 'rank interval', ['samples', 'num'], ['mean', 'num']], r.models.map((m) => [m.model, f3(m.score), Number.isFinite(m.ci[0]) ? `[${f3(m.ci[0])}, ${f3(m.ci[1])}]` : 'n/a', `${m.rank_interval[0]}–${m.rank_interval[1]}`, num(m.samples), num(m.mean_score, 4)]), 'pool-ranking')}
${trusted(forestPlot(r.models.filter((m) => Number.isFinite(m.ci[0])).map((m) => ({ label: m.model, mean: m.score, lo: m.ci[0], hi: m.ci[1] })), 'Plackett–Luce score with 95% CI', { fmt: (v) => v.toFixed(2), tickFmt: (v) => String(v), axisLabel: 'centred log-strength (95% CI)' }))}
${downloads('/api/ranking')}`);
}

/** Every eval set. */
export function evalSetsPage(sets: EvalSetRecord[], viewer: Viewer): string {
  return layout('Eval sets', viewer, html`<h1>Eval sets</h1>
${table(['id', 'name', 'status', 'tasks', 'models', ['runs', 'num'], 'created'], sets.map((s) => [html`<a href="${path('eval-sets', s.id)}">${s.id.slice(0, 16)}</a>`, s.name ?? '—', s.status, s.tasks.join(', '), s.models.join(', '), Object.keys(s.runs).length, s.created_at.slice(0, 19).replace('T', ' ')]))}
${downloads('/api/eval-sets')}`);
}

/** An eval set's table (task × model: avg@k with its headline CI) and its ranking across tasks. */
export function evalSetPage(t: EvalTable, viewer: Viewer): string {
  return layout(`Eval set ${t.eval_set_id}`, viewer, html`<h1>Eval set <code>${t.eval_set_id.slice(0, 16)}</code></h1>
${table(['task', 'model', 'run', 'scorer', 'status', ['avg@k', 'num'], '95% CI', ['samples', 'num'], ['failed', 'num']], t.rows.map((r) => [r.task, r.model, html`<a href="${runHref(r.run_id)}">${r.run_id.slice(0, 12)}</a>`, r.scorer, r.status, fmtMetricValue(r.statistics.metric, r.statistics.accuracy), fmtMetricInterval(r.statistics.metric, r.statistics.ci95), r.statistics.samples, r.statistics.failed]), 'eval-table')}
${t.ranking ? html`<h2>Ranking across tasks</h2>${table(['model', ['mean', 'num'], '95% CI', 'rank interval'], t.ranking.models.map((m) => [m.label, pct(m.mean), ci(m.ci95), `${m.rank_interval.lo}–${m.rank_interval.hi}`]), 'ranking')}` : html`<p class="note">${t.ranking_note ?? 'No ranking (fewer than two models, or a cell without graded samples).'}</p>`}
${downloads(path('api', 'eval-sets', t.eval_set_id))}`);
}

// --- live, calibration, context limit -------------------------------------------------------------------------------

/** The live view of a run: progress and accuracy so far with its CI, refreshed by /static/app.js from /api/runs/:run/progress every 2 s while the run runs or waits on a work queue (`queued`). */
export function livePage(run: RunRecord, p: RunProgress, viewer: Viewer): string {
  return layout(`Live: ${run.id}`, viewer, html`<h1>Live: ${run.spec.model} on ${run.spec.dataset.ref}</h1>
<p class="meta">run <a href="${runHref(run.id)}">${run.id}</a>. This page asks the server for the run's progress every 2 seconds while it runs or waits on a work queue.</p>
<div id="live" data-src="${path('api', 'runs', run.id, 'progress')}" data-every="2000" data-status="${p.status}">
<p><progress id="live-bar" max="1" value="${p.done}"></progress> <span id="live-done">${pct(p.done)}</span></p>
${table(['', ''], [['status', html`<span id="live-status">${p.status}</span>`], ['attempts stored', html`<span id="live-attempts">${num(p.attempts)} of ${num(p.planned)}</span>`], ['failed', html`<span id="live-failed">${p.failed}</span>`],
    [`accuracy so far (${p.scorer ?? 'no scorer yet'})`, html`<span id="live-accuracy">${pct(p.accuracy)}</span>`], ['95% CI', html`<span id="live-ci">${ci(p.ci95)}</span> <span class="meta" id="live-method">${p.ci95?.method ?? ''}</span>`],
    ['samples graded', html`<span id="live-samples">${p.graded_samples}</span>`], ['updated', html`<span id="live-updated">${p.updated_at}</span>`], ['polls', html`<span id="live-polls">0</span>`]])}
<p class="err" id="live-error"></p></div>`);
}

/** Calibration of a run's stated confidence: RMS calibration error, ECE, Brier with CIs, and the reliability bins. */
export function calibrationPage(run: RunRecord, c: RunCalibration | null, error: string | null, viewer: Viewer): string {
  if (!c) return layout(`Calibration: ${run.id}`, viewer, html`<h1>Calibration</h1><p class="meta">run <a href="${runHref(run.id)}">${run.id}</a></p><p class="note">${error}</p>`);
  const k = c.calibration;
  const w = (x: { value: number; ci95: { lo: number; hi: number }; method?: string }) => `${pct(x.value)} ${ci(x.ci95)}`;
  return layout(`Calibration: ${run.id}`, viewer, html`<h1>Calibration of stated confidence</h1>
<p class="meta">run <a href="${runHref(run.id)}">${run.id}</a> · ${c.model} · scorer ${c.scorer} · confidence from ${c.confidence_from} · ${k.n} items (${k.missing} without a stated confidence; ${c.excluded} attempts excluded; ${c.timeouts} grader timeouts counted wrong)</p>
${table(['measure', 'value (95% CI)'], [['accuracy', pct(k.accuracy)], ['mean confidence', pct(k.mean_confidence)], ['RMS calibration error', w(k.rms_calibration_error)], ['ECE', w(k.ece)], ['Brier score', `${k.brier.value.toFixed(4)} [${k.brier.ci95.lo.toFixed(4)}, ${k.brier.ci95.hi.toFixed(4)}]`]])}
<p class="note">Intervals: ${k.bootstrap.method}, ${k.bootstrap.replicates} replicates over ${k.bootstrap.clusters} samples (seed ${k.bootstrap.seed}).</p>
<h2>Reliability (equal-mass bins)</h2>
${table([['confidence from', 'num'], ['to', 'num'], ['items', 'num'], ['mean confidence', 'num'], ['accuracy', 'num'], ['gap', 'num']], k.reliability.equal_mass.map((b) => [pct(b.lo), pct(b.hi), b.n, pct(b.mean_confidence), pct(b.accuracy), pct(b.gap)]), 'reliability')}
${downloads(path('api', 'runs', run.id, 'calibration'))}`);
}

function heatClass(acc: number): string {
  return `heat-${Math.max(0, Math.min(10, Math.round(acc * 10)))}`;
}

function contextSection(label: string, r: ContextLimitResult): Html {
  const { depths, lengths, cells } = r.heatmap;
  const at = new Map(cells.map((c) => [`${c.depth}|${c.length}`, c]));
  const lim = r.effective_limit == null ? 'below the shortest length tested' : `${num(r.effective_limit)} characters${r.censored ? ' (every length passed: at least this)' : ''}`;
  return html`<h2>${label}</h2><p>Effective limit at accuracy ≥ ${pct(r.threshold)}: <b>${lim}</b>; ${Math.round(r.ci.level * 100)}% interval ${r.ci.lo == null ? 'below shortest' : num(r.ci.lo)} – ${r.ci.hi == null ? 'below shortest' : num(r.ci.hi)} characters (bootstrap over samples, ${r.ci.replicates} replicates).</p>
${r.by_length.length ? trusted(lineChart(r.by_length.map((b) => b.length), [
    { name: 'accuracy', values: r.by_length.map((b) => 100 * b.accuracy), color: '#1f5fa8' },
    { name: '95% CI low', values: r.by_length.map((b) => 100 * b.ci95.lo), color: '#7f9fc8', dashed: true },
    { name: '95% CI high', values: r.by_length.map((b) => 100 * b.ci95.hi), color: '#7f9fc8', dashed: true },
    { name: 'threshold', values: r.by_length.map(() => 100 * r.threshold), color: '#c0392b', dashed: true },
  ], { title: `accuracy vs context length: ${label}`, xLabel: 'context length (characters, log scale)', yLabel: 'accuracy (%)' })) : ''}
${depths.length && lengths.length ? html`<div class="table-wrap"><table class="heatmap"><thead><tr><th>depth \\ length</th>${lengths.map((l) => html`<th>${num(l)}</th>`)}</tr></thead><tbody>${depths.map((d) => html`<tr><th>${d}%</th>${lengths.map((l) => {
    const c = at.get(`${d}|${l}`);
    return c ? html`<td class="${heatClass(c.accuracy)}" title="${c.samples} samples">${pct(c.accuracy)}</td>` : html`<td>–</td>`;
  })}</tr>`)}</tbody></table></div>` : ''}`;
}

/** A needle-threading run's effective context limit: per task, accuracy vs length (with CI bounds) and the depth × length heatmap. */
export function contextPage(run: RunRecord, l: ContextLimits | null, error: string | null, viewer: Viewer): string {
  if (!l) return layout(`Context limit: ${run.id}`, viewer, html`<h1>Context limit</h1><p class="meta">run <a href="${runHref(run.id)}">${run.id}</a></p><p class="note">${error}</p>`);
  return layout(`Context limit: ${run.id}`, viewer, html`<h1>Long context: effective context limit</h1>
<p class="meta">run <a href="${runHref(run.id)}">${run.id}</a> · ${run.spec.model} · scorer ${l.scorer}. Lengths in characters; ${l.token_scale ? l.token_scale.description : l.token_note ?? ''}</p>
${contextSection('all needle tasks', l.all)}${Object.entries(l.tasks).map(([t, r]) => contextSection(`task ${t}`, r))}
${downloads(path('api', 'runs', run.id, 'context'))}`);
}

// --- admin -------------------------------------------------------------------------------------------------------------

/** Token management (admin): the tokens (never their secrets), a just-created token shown once, create and revoke forms. */
export function tokensPage(tokens: TokenRecord[], created: { token: string; record: TokenRecord } | null, viewer: Viewer): string {
  return layout('Tokens', viewer, html`<h1>API tokens</h1>
${created ? html`<p>New ${created.record.role} token <b>${created.record.name}</b> (id ${created.record.id}). It is shown this once; only its sha256 is kept:</p><p class="token-once">${created.token}</p>` : ''}
${table(['id', 'name', 'role', 'created', 'by', 'revoked', ''], tokens.map((t) => [t.id, t.name, t.role, t.created_at.slice(0, 19).replace('T', ' '), t.created_by, t.revoked_at?.slice(0, 19).replace('T', ' ') ?? '—',
    t.revoked_at ? '' : html`<form method="post" action="${path('admin', 'tokens', t.id, 'revoke')}" data-confirm="Revoke token ${t.id}?"><button type="submit">Revoke</button></form>`]))}
<h2>New token</h2><form method="post" action="/admin/tokens" class="filters"><label>name<input name="name" required maxlength="64"></label><label>role<select name="role"><option>read</option><option>write</option><option>admin</option></select></label><button type="submit">Create</button></form>`);
}

/** The last audit-log entries, newest first. */
export function auditPage(entries: AuditEntry[], viewer: Viewer): string {
  return layout('Audit log', viewer, html`<h1>Audit log (last ${entries.length})</h1>
${table(['when', 'actor', 'address', 'action', 'target', 'details'], entries.slice().reverse().map((e) => [e.at.replace('T', ' ').slice(0, 23), e.actor, e.ip ?? '—', e.action, e.target, JSON.stringify(e.details)]))}
${downloads('/api/audit')}`);
}

/** Private held-out sets' records (admin): never an item's ciphertext or canary. */
export function privateSetsPage(sets: PrivateSetRecord[], viewer: Viewer): string {
  return layout('Private sets', viewer, html`<h1>Private held-out sets</h1>
<p class="note">Records only: the viewer never shows an item's ciphertext or canary (see <code>assay private</code>).</p>
${table(['name', ['items', 'num'], 'key id', 'allowed endpoints', 'source', 'created'], sets.map((s) => [s.name, s.items, s.key_id, s.allow.join(', ') || '—', s.source, s.created_at.slice(0, 19).replace('T', ' ')]))}`);
}
