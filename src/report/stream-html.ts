/**
 * The HTML report of a checkpoint stream (`assay stream --html`): one self-contained page with the checkpoints (and
 * the merge behind a merged one), the order and subset recorded, the accuracy matrix with intervals, trajectory plots
 * over the checkpoints — knowledge accumulation, zero-shot accuracy and their geometric mean; zero-shot retention
 * relative to the base; forgetting and backward / forward transfer so far — each point with its 95% interval band,
 * the metrics table, GEM's ACC / BWT / FWT, why any interval is undefined, the interval method and the runs.
 * Reads a `StreamTable` (src/analyses/stream.ts), never the pool.
 */
import type { StreamTable } from '../analyses/stream.ts';
import { toolkitInfo } from '../core/toolkit.ts';
import type { Estimate } from '../stats/continual.ts';
import { CSS, tableHtml } from './html.ts';
import { formatEstimate, intervalNotes, STREAM_SERIES } from './stream.ts';
import { esc, trajectoryPlot, type TrajectoryPoint } from './svg.ts';
import { pct } from './text.ts';

const signed = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);

/** A recorded merge as `ties (density 0.5) of step1, step2 over base, merge-….gguf`. */
export function describeMerge(m: Record<string, unknown>): string {
  const spec = (m.spec ?? {}) as Record<string, unknown>;
  const inputName = (x: unknown) => {
    const r = x as { checkpoint?: string | null; path?: string } | string;
    return typeof r === 'string' ? r : (r.checkpoint ?? (r.path ?? '?').split('/').pop()!);
  };
  const settings = Object.entries(spec).filter(([k]) => k !== 'method').map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ');
  const file = typeof m.file === 'string' ? m.file.split('/').pop() : null;
  return `${String(spec.method ?? m.method ?? '?')}${settings ? ` (${settings})` : ''} of ${((m.parents ?? []) as unknown[]).map(inputName).join(', ')}${m.base ? ` over ${inputName(m.base)}` : ''}${file ? `, ${file}` : ''}`;
}

/** An estimate as a plot point (null without a value; null bounds without an interval). */
function pointOf(e: Estimate | undefined): TrajectoryPoint {
  if (!e || e.value === null) return null;
  return { value: e.value, lo: e.ci95?.lo ?? null, hi: e.ci95?.hi ?? null, ...(e.note ? { note: e.note } : {}) };
}

/**
 * The three trajectory plots of a stream (SVG strings): proportions (accumulation, zero-shot accuracy, geometric
 * mean), retention (÷ base, reference line at 1), and forgetting with transfer so far (reference line at 0).
 */
export function streamTrajectoryPlots(s: StreamTable): { proportions: string; retention: string; change: string } {
  const r = s.report;
  const names = s.checkpoints.map((c) => c.name);
  const label = s.name ? ` (${s.name})` : '';
  return {
    proportions: trajectoryPlot(names, [
      { name: 'knowledge accumulation', points: r.accumulation.map(pointOf) },
      { name: 'zero-shot accuracy', points: r.zero_shot.map(pointOf) },
      { name: 'geometric mean', points: r.geometric_mean.map(pointOf) },
    ], { title: `knowledge accumulation, zero-shot accuracy and their geometric mean over the stream${label}, 95% intervals`, yLabel: 'accuracy (95% CI)', scale: 'proportion' }),
    retention: trajectoryPlot(names, [{ name: 'zero-shot retention', points: r.retention.map(pointOf) }], {
      title: `zero-shot retention relative to the base${label}, 95% intervals`, yLabel: 'zero-shot accuracy ÷ base (95% CI)', scale: 'linear', reference: 1, fmt: (v) => v.toFixed(2),
    }),
    change: trajectoryPlot(names, [
      { name: 'forgetting', points: r.forgetting.map(pointOf) },
      { name: 'backward transfer so far', points: r.backward_transfer.map(pointOf) },
      { name: 'forward transfer so far', points: r.forward_transfer.map(pointOf) },
    ], { title: `forgetting and transfer over the stream${label}, 95% intervals`, yLabel: 'accuracy difference (95% CI)', scale: 'linear', reference: 0, fmt: (v) => signed(v) }),
  };
}

/** Render a stream's report as one self-contained HTML page (no pool access). */
export function renderStreamReport(s: StreamTable, o: { title?: string; now?: Date } = {}): string {
  const r = s.report;
  const tk = toolkitInfo();
  const title = o.title ?? `Stream ${s.name ?? s.stream_id}`;
  const body: string[] = [];
  body.push(`<h1>${esc(title)}</h1>`);
  body.push(`<p class="meta">Stream ${esc(s.stream_id)}: ${esc(s.status)}; ${s.checkpoints.length} checkpoints × ${s.columns.length} tasks; row 0 is the base. Generated ${esc((o.now ?? new Date()).toISOString())} by Assay ${esc(tk.version)}${tk.git_commit ? ` (${esc(tk.git_commit.slice(0, 12))})` : ''}. Every figure is shown with its 95% interval.</p>`);

  body.push(`<h2 id="checkpoints">Checkpoints</h2>`);
  body.push(tableHtml('checkpoints', ['#', 'checkpoint', 'model', 'introduces', 'merged from'], s.checkpoints.map((c, i) => {
    const intro = s.columns.filter((x) => x.role.role === 'adaptation' && x.role.introduced === i).map((x) => x.task);
    return [i, c.name, c.model, intro.join(', ') || (i === 0 ? '(base)' : '—'), c.merge ? describeMerge(c.merge) : '—'];
  }), { num: [0] }));
  const held = s.columns.filter((c) => c.role.role === 'zero-shot').map((c) => c.task);
  body.push(`<p class="note">Held out (zero-shot): ${esc(held.join(', ') || 'none')}.${s.order ? ` Order: ${esc(JSON.stringify(s.order))}.` : ''}${s.subset ? ` Subset: ${esc(JSON.stringify((s.subset as { spec?: unknown }).spec ?? s.subset))}.` : ''}</p>`);

  body.push(`<h2 id="matrix">Accuracy matrix</h2>`);
  body.push(`<p class="note">Accuracy of each checkpoint on each task, on the samples graded at every checkpoint; 95% Wilson interval on the samples.</p>`);
  body.push(tableHtml('matrix', ['#', 'checkpoint', ...s.columns.map((c) => `${c.task} (${c.role.role === 'adaptation' ? `adapt @${c.role.introduced}` : 'zero-shot'}, n=${c.samples})`)],
    s.checkpoints.map((c, i) => [i, c.name, ...r.matrix[i]!.map((e) => formatEstimate(e))]), { num: [0, ...s.columns.map((_, j) => j + 2)] }));

  body.push(`<h2 id="trajectories">Trajectories</h2>`);
  const plots = streamTrajectoryPlots(s);
  body.push(`<p class="note">Knowledge accumulation: mean accuracy over the adaptation tasks introduced so far; zero-shot accuracy: mean over the held-out tasks; their geometric mean is FoMo-in-Flux's single summary (Roth et al. 2024). Shaded bands and bars: 95% intervals; a hollow point has no interval (the reason is in its tooltip and below).</p>`);
  body.push(plots.proportions);
  body.push(`<p class="note">Zero-shot retention: zero-shot accuracy relative to the base (dashed line: no change).</p>`);
  body.push(plots.retention);
  body.push(`<p class="note">Forgetting (Chaudhry et al. 2018): mean over the tasks introduced before a checkpoint of the best earlier accuracy minus the accuracy now. Backward and forward transfer so far: GEM's BWT and FWT (Lopez-Paz &amp; Ranzato 2017) on the stream up to each checkpoint (dashed line: 0).</p>`);
  body.push(plots.change);

  body.push(`<h2 id="metrics">Metrics</h2>`);
  body.push(tableHtml('metrics', ['#', 'checkpoint', ...STREAM_SERIES.map((x) => x.label)],
    s.checkpoints.map((c, i) => [i, c.name, ...STREAM_SERIES.map((x) => formatEstimate(r[x.key][i], x.fmt as (v: number) => string))]), { num: [0, 2, 3, 4, 5, 6, 7, 8] }));
  body.push(`<p><b>At the last checkpoint:</b> ACC ${esc(formatEstimate(r.acc, pct))}, BWT ${esc(formatEstimate(r.bwt, signed))}, FWT ${esc(formatEstimate(r.fwt, signed))}.</p>`);
  const notes = intervalNotes(s);
  if (notes.length) body.push(`<ul class="note">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  body.push(`<p class="note">Intervals: ${esc(r.method)}.</p>`);

  body.push(`<h2 id="runs">Runs</h2>`);
  body.push(`<details><summary>${s.checkpoints.length * s.columns.length} runs, one per cell</summary>${tableHtml('runs', ['checkpoint', ...s.columns.map((c) => c.task)], s.checkpoints.map((c, i) => [c.name, ...s.runs[i]!]))}</details>`);
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body>${body.join('\n')}</body></html>\n`;
}
