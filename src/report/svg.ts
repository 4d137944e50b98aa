/**
 * Small, dependency-free SVG plots for the HTML report: CI forest plot, variance (SE) vs k, score vs sweep factor,
 * accuracy vs difficulty (chart difficulty curves),
 * and a length histogram by correctness. Every data mark carries a class (`mark …`) and a `<title>` with its
 * numbers, so the report is readable without hovering tools and testable by counting marks.
 */

/** Escape text for XML/HTML. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Shorten a label to at most `max` characters by cutting out its middle (`start…end`): run labels differ in their
 * tails (`… temperature=0.3`, `…#6b_finetuning`), so cutting the end would make different runs look the same.
 */
export function shortLabel(s: string, max: number): string {
  if (s.length <= max) return s;
  const tail = Math.ceil((max - 1) / 2), head = max - 1 - tail;
  return s.slice(0, head) + '…' + s.slice(s.length - tail);
}

const f1 = (x: number) => (Math.round(x * 10) / 10).toString();
const pctStr = (x: number) => `${(100 * x).toFixed(1)}%`;

/** "Nice" tick values covering [lo, hi] (about `count` ticks). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function axisX(fr: Frame, ticks: number[], x: (v: number) => number, label: string, fmt: (v: number) => string): string {
  const y = fr.height - fr.bottom;
  return [
    `<line class="axis" x1="${fr.left}" x2="${fr.width - fr.right}" y1="${y}" y2="${y}" stroke="#444"/>`,
    ...ticks.map((t) => `<g class="tick"><line x1="${f1(x(t))}" x2="${f1(x(t))}" y1="${y}" y2="${y + 4}" stroke="#444"/><text x="${f1(x(t))}" y="${y + 16}" text-anchor="middle">${esc(fmt(t))}</text></g>`),
    `<text class="axis-label" x="${(fr.left + fr.width - fr.right) / 2}" y="${fr.height - 4}" text-anchor="middle">${esc(label)}</text>`,
  ].join('');
}

function axisY(fr: Frame, ticks: number[], y: (v: number) => number, label: string, fmt: (v: number) => string): string {
  return [
    `<line class="axis" x1="${fr.left}" x2="${fr.left}" y1="${fr.top}" y2="${fr.height - fr.bottom}" stroke="#444"/>`,
    ...ticks.map((t) => `<g class="tick"><line x1="${fr.left - 4}" x2="${fr.width - fr.right}" y1="${f1(y(t))}" y2="${f1(y(t))}" stroke="#e3e3e3"/><text x="${fr.left - 6}" y="${f1(y(t) + 4)}" text-anchor="end">${esc(fmt(t))}</text></g>`),
    `<text class="axis-label" transform="translate(12 ${(fr.top + fr.height - fr.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(label)}</text>`,
  ].join('');
}

function svgOpen(fr: Frame, cls: string, title: string): string {
  return `<svg class="plot ${cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${fr.width} ${fr.height}" width="${fr.width}" height="${fr.height}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="11"><title>${esc(title)}</title>`;
}

/**
 * Forest plot: one row per item with its point estimate and 95% CI on a shared horizontal axis (proportions 0..1
 * shown as %; with `o.fmt`, values of a numeric metric, formatted by it, on an axis not bounded to [0, 1], its ticks
 * formatted by `o.tickFmt`).
 * Marks: `mark point` (one per row), `mark ci` (one per row).
 */
export function forestPlot(rows: { label: string; mean: number; lo: number; hi: number }[], title = 'accuracy with 95% CI', o: { fmt?: (v: number) => string; tickFmt?: (v: number) => string; axisLabel?: string } = {}): string {
  const fmt = o.fmt ?? pctStr, bounded = !o.fmt;
  const labelW = Math.min(320, 20 + 6.5 * Math.max(8, ...rows.map((r) => r.label.length)));
  const fr: Frame = { width: labelW + 420, height: 40 + 26 * rows.length + 30, left: labelW, right: 20, top: 20, bottom: 36 };
  const vals = rows.flatMap((r) => [r.lo, r.hi, r.mean]).filter(Number.isFinite);
  let lo = Math.min(...vals), hi = Math.max(...vals);
  if (bounded) {
    const pad = Math.max(0.01, (hi - lo) * 0.1);
    lo = Math.max(0, lo - pad);
    hi = Math.min(1, hi + pad);
    if (!(hi > lo)) [lo, hi] = [0, 1];
  } else {
    const pad = Math.max(1e-6, (hi - lo) * 0.1, Math.abs(hi) * 0.01);
    lo -= pad;
    hi += pad;
    if (!(hi > lo)) [lo, hi] = [0, 1];
  }
  const x = (v: number) => fr.left + ((v - lo) / (hi - lo)) * (fr.width - fr.left - fr.right);
  const parts = [svgOpen(fr, 'forest', title), axisX(fr, niceTicks(lo, hi), x, o.axisLabel ?? 'score (95% CI)', o.tickFmt ?? fmt)];
  rows.forEach((r, i) => {
    const y = fr.top + 13 + 26 * i;
    parts.push(`<text x="${fr.left - 8}" y="${y + 4}" text-anchor="end">${esc(shortLabel(r.label, 48))}<title>${esc(r.label)}</title></text>`);
    parts.push(`<line class="mark ci" x1="${f1(x(r.lo))}" x2="${f1(x(r.hi))}" y1="${y}" y2="${y}" stroke="#1f5fa8" stroke-width="2"><title>${esc(`${r.label}: 95% CI ${fmt(r.lo)} – ${fmt(r.hi)}`)}</title></line>`);
    parts.push(`<rect class="mark point" x="${f1(x(r.mean) - 4)}" y="${y - 4}" width="8" height="8" fill="#1f5fa8"><title>${esc(`${r.label}: ${fmt(r.mean)}`)}</title></rect>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Line chart with a log₂ x axis (k = epochs) and a linear y axis (SE in points, or in a numeric metric's unit; ticks
 * formatted by `o.yFmt`): one polyline per series, a circle per point (`mark point`), dashed for model-only series.
 * Series values may be null (gap).
 */
export function lineChart(xs: number[], series: { name: string; values: (number | null)[]; color: string; dashed?: boolean }[], o: { title: string; xLabel: string; yLabel: string; yFmt?: (v: number) => string }): string {
  const fr: Frame = { width: 560, height: 300, left: 56, right: 150, top: 16, bottom: 40 };
  const vals = series.flatMap((s) => s.values).filter((v): v is number => v != null && Number.isFinite(v));
  const hi = Math.max(1e-9, ...vals) * 1.08;
  const lx = xs.map((v) => Math.log2(v));
  const x0 = Math.min(...lx), x1 = Math.max(...lx, x0 + 1);
  const x = (v: number) => fr.left + ((Math.log2(v) - x0) / (x1 - x0)) * (fr.width - fr.left - fr.right);
  const y = (v: number) => fr.height - fr.bottom - (v / hi) * (fr.height - fr.top - fr.bottom);
  const parts = [svgOpen(fr, 'line', o.title), axisX(fr, xs, x, o.xLabel, (v) => String(v)), axisY(fr, niceTicks(0, hi), y, o.yLabel, o.yFmt ?? ((v) => String(+v.toFixed(2))))];
  series.forEach((s, si) => {
    const pts = s.values.map((v, i) => (v == null || !Number.isFinite(v) ? null : [x(xs[i]!), y(v)] as const));
    const d = pts.map((p, i) => (p ? `${i && pts[i - 1] ? 'L' : 'M'}${f1(p[0])},${f1(p[1])}` : '')).join('');
    parts.push(`<path class="series" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    pts.forEach((p, i) => {
      if (p) parts.push(`<circle class="mark point" cx="${f1(p[0])}" cy="${f1(p[1])}" r="3" fill="${s.color}"><title>${esc(`${s.name}, k=${xs[i]}: ${s.values[i]!.toFixed(3)}`)}</title></circle>`);
    });
    const ly = fr.top + 14 + 18 * si;
    parts.push(`<line x1="${fr.width - fr.right + 10}" x2="${fr.width - fr.right + 30}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/><text x="${fr.width - fr.right + 34}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Score vs one sweep factor: per level, the pooled score with its 95% CI (`mark level` + `mark ci`), and each run's
 * score as a small hollow circle (`mark run`). Levels are categorical, in the given order. Scores are proportions shown
 * as %, or with `o.fmt` values of a numeric metric on an axis not bounded to [0, 1] (as in `forestPlot`).
 */
export function factorPlot(levels: { level: string; mean: number; lo: number; hi: number; runs: number[] }[], o: { title: string; factor: string; fmt?: (v: number) => string; tickFmt?: (v: number) => string; axisLabel?: string }): string {
  const fmt = o.fmt ?? pctStr;
  const fr: Frame = { width: Math.max(320, 110 + 90 * levels.length), height: 280, left: 60, right: 20, top: 16, bottom: 44 };
  const vals = levels.flatMap((l) => [l.lo, l.hi, ...l.runs]).filter(Number.isFinite);
  let lo = Math.min(...vals), hi = Math.max(...vals);
  if (!o.fmt) {
    const pad = Math.max(0.01, (hi - lo) * 0.15);
    lo = Math.max(0, lo - pad);
    hi = Math.min(1, hi + pad);
  } else {
    const pad = Math.max(1e-6, (hi - lo) * 0.15, Math.abs(hi) * 0.01);
    lo -= pad;
    hi += pad;
  }
  if (!(hi > lo)) [lo, hi] = [0, 1];
  const step = (fr.width - fr.left - fr.right) / levels.length;
  const cx = (i: number) => fr.left + step * (i + 0.5);
  const y = (v: number) => fr.height - fr.bottom - ((v - lo) / (hi - lo)) * (fr.height - fr.top - fr.bottom);
  const parts = [svgOpen(fr, 'factor', o.title), axisY(fr, niceTicks(lo, hi), y, o.axisLabel ?? 'score', o.tickFmt ?? fmt)];
  parts.push(`<line class="axis" x1="${fr.left}" x2="${fr.width - fr.right}" y1="${fr.height - fr.bottom}" y2="${fr.height - fr.bottom}" stroke="#444"/>`);
  levels.forEach((l, i) => {
    parts.push(`<text x="${f1(cx(i))}" y="${fr.height - fr.bottom + 16}" text-anchor="middle">${esc(shortLabel(l.level, 14))}<title>${esc(l.level)}</title></text>`);
    parts.push(`<line class="mark ci" x1="${f1(cx(i))}" x2="${f1(cx(i))}" y1="${f1(y(l.lo))}" y2="${f1(y(l.hi))}" stroke="#1f5fa8" stroke-width="2"><title>${esc(`${o.factor}=${l.level}: 95% CI ${fmt(l.lo)} – ${fmt(l.hi)}`)}</title></line>`);
    parts.push(`<rect class="mark level" x="${f1(cx(i) - 5)}" y="${f1(y(l.mean) - 5)}" width="10" height="10" fill="#1f5fa8"><title>${esc(`${o.factor}=${l.level}: ${fmt(l.mean)}`)}</title></rect>`);
    l.runs.forEach((r, j) => parts.push(`<circle class="mark run" cx="${f1(cx(i) + 14 + 4 * (j % 4))}" cy="${f1(y(r))}" r="3" fill="none" stroke="#c0392b"><title>${esc(`run at ${o.factor}=${l.level}: ${fmt(r)}`)}</title></circle>`));
  });
  parts.push(`<text class="axis-label" x="${(fr.left + fr.width - fr.right) / 2}" y="${fr.height - 4}" text-anchor="middle">${esc(o.factor)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Stacked histogram of response lengths by correctness: per bin, a green bar (`mark bar correct`) and a red bar
 * (`mark bar incorrect`) stacked on it; bins with zero count still get a zero-height bar so counts are stable.
 */
export function lengthHistogram(h: { edges: number[]; correct: number[]; incorrect: number[] }, o: { title: string; unit: string }): string {
  const fr: Frame = { width: 560, height: 260, left: 50, right: 120, top: 16, bottom: 40 };
  const bins = h.correct.length;
  const maxC = Math.max(1, ...h.correct.map((c, i) => c + h.incorrect[i]!));
  const bw = (fr.width - fr.left - fr.right) / bins;
  const y = (v: number) => fr.height - fr.bottom - (v / maxC) * (fr.height - fr.top - fr.bottom);
  const xTicks = [0, Math.floor(bins / 2), bins];
  const parts = [svgOpen(fr, 'histogram', o.title), axisY(fr, niceTicks(0, maxC), y, 'attempts', (v) => String(v))];
  parts.push(`<line class="axis" x1="${fr.left}" x2="${fr.width - fr.right}" y1="${fr.height - fr.bottom}" y2="${fr.height - fr.bottom}" stroke="#444"/>`);
  for (const t of xTicks) parts.push(`<text x="${f1(fr.left + t * bw)}" y="${fr.height - fr.bottom + 16}" text-anchor="middle">${h.edges[t]}</text>`);
  for (let i = 0; i < bins; i++) {
    const c = h.correct[i]!, w = h.incorrect[i]!;
    const range = `${h.edges[i]}–${h.edges[i + 1]} ${o.unit}`;
    parts.push(`<rect class="mark bar correct" x="${f1(fr.left + i * bw + 1)}" y="${f1(y(c))}" width="${f1(bw - 2)}" height="${f1(y(0) - y(c))}" fill="#2e8b57"><title>${esc(`${range}: ${c} correct`)}</title></rect>`);
    parts.push(`<rect class="mark bar incorrect" x="${f1(fr.left + i * bw + 1)}" y="${f1(y(c + w))}" width="${f1(bw - 2)}" height="${f1(y(c) - y(c + w))}" fill="#c0392b"><title>${esc(`${range}: ${w} incorrect`)}</title></rect>`);
  }
  parts.push(`<rect x="${fr.width - fr.right + 12}" y="${fr.top + 6}" width="12" height="12" fill="#2e8b57"/><text x="${fr.width - fr.right + 28}" y="${fr.top + 16}">correct</text>`);
  parts.push(`<rect x="${fr.width - fr.right + 12}" y="${fr.top + 26}" width="12" height="12" fill="#c0392b"/><text x="${fr.width - fr.right + 28}" y="${fr.top + 36}">incorrect</text>`);
  parts.push(`<text class="axis-label" x="${(fr.left + fr.width - fr.right) / 2}" y="${fr.height - 4}" text-anchor="middle">${esc(`response length (${o.unit})`)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}

const PALETTE = ['#1f5fa8', '#c0392b', '#2e8b57', '#8e44ad', '#d35400', '#16a085', '#7f8c8d', '#b7950b'];

/**
 * Accuracy against an integer difficulty (chart difficulty curves: functions, series or transformation steps): one
 * polyline per series on a linear x axis with a tick per x value and a y axis of 0–100%; per point a dot
 * (`mark point`, with `data-x`, `data-accuracy`, `data-lo`, `data-hi` as proportions) and its 95% interval as a
 * vertical bar (`mark ci`), series nudged apart horizontally so that their bars do not hide each other.
 */
export function difficultyPlot(series: { name: string; points: { x: number; mean: number; lo: number; hi: number; n: number }[] }[], o: { title: string; xLabel: string }): string {
  const fr: Frame = { width: 640, height: 300, left: 56, right: 190, top: 16, bottom: 40 };
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const x0 = (xs[0] ?? 0) - 0.5, x1 = (xs[xs.length - 1] ?? 0) + 0.5;
  const x = (v: number) => fr.left + ((v - x0) / (x1 - x0)) * (fr.width - fr.left - fr.right);
  const y = (v: number) => fr.height - fr.bottom - v * (fr.height - fr.top - fr.bottom);
  const step = Math.min(8, (fr.width - fr.left - fr.right) / Math.max(1, xs.length) / (series.length + 1));
  const parts = [svgOpen(fr, 'difficulty', o.title), axisX(fr, xs, x, o.xLabel, (v) => String(v)), axisY(fr, [0, 0.25, 0.5, 0.75, 1], y, 'accuracy (95% CI)', (v) => `${Math.round(100 * v)}%`)];
  series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length]!;
    const dx = (si - (series.length - 1) / 2) * step;
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    parts.push(`<path class="series" d="${pts.map((p, i) => `${i ? 'L' : 'M'}${f1(x(p.x) + dx)},${f1(y(p.mean))}`).join('')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of pts) {
      const label = `${s.name}, ${o.xLabel} ${p.x}: ${pctStr(p.mean)} (95% CI ${pctStr(p.lo)} – ${pctStr(p.hi)}, ${p.n} samples)`;
      parts.push(`<line class="mark ci" x1="${f1(x(p.x) + dx)}" x2="${f1(x(p.x) + dx)}" y1="${f1(y(p.lo))}" y2="${f1(y(p.hi))}" stroke="${color}" stroke-width="1.5" opacity="0.7"><title>${esc(label)}</title></line>`);
      parts.push(`<circle class="mark point" data-series="${esc(s.name)}" data-x="${p.x}" data-accuracy="${p.mean.toFixed(4)}" data-lo="${p.lo.toFixed(4)}" data-hi="${p.hi.toFixed(4)}" cx="${f1(x(p.x) + dx)}" cy="${f1(y(p.mean))}" r="3.5" fill="${color}"><title>${esc(label)}</title></circle>`);
    }
    const ly = fr.top + 14 + 18 * si;
    parts.push(`<line x1="${fr.width - fr.right + 10}" x2="${fr.width - fr.right + 30}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/><text x="${fr.width - fr.right + 34}" y="${ly + 4}">${esc(shortLabel(s.name, 26))}<title>${esc(s.name)}</title></text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** One point of a {@link trajectoryPlot} series: a value with its 95% interval (null bounds: no interval), or null (no value). */
export type TrajectoryPoint = { value: number; lo: number | null; hi: number | null; note?: string } | null;

/**
 * Trajectories over the checkpoints of a stream (evaluation over time): x = checkpoint rows in stream order
 * (categorical, labelled by name), one polyline per series; every point with its 95% interval, drawn as a vertical
 * bar at the point (`mark ci`) and, between neighbouring points that both have one, as a shaded band (`mark band`).
 * A point is a circle (`mark point`) with `data-series`, `data-row`, `data-value`, `data-lo`, `data-hi` (empty when
 * the interval is undefined: then the circle is hollow and its title gives the reason). y axis: `proportion` is
 * 0–100%; `linear` fits the values, the bounds and `reference` (a dashed line: 1 for a ratio, 0 for a difference),
 * its labels formatted by `fmt`. Series are nudged apart horizontally so that their bars do not hide each other.
 */
export function trajectoryPlot(checkpoints: string[], series: { name: string; points: TrajectoryPoint[] }[], o: { title: string; yLabel: string; scale: 'proportion' | 'linear'; fmt?: (v: number) => string; reference?: number }): string {
  const fr: Frame = { width: 660, height: 300, left: 60, right: 180, top: 16, bottom: 44 };
  const fmt = o.fmt ?? (o.scale === 'proportion' ? pctStr : (v: number) => String(+v.toFixed(3)));
  let lo = 0, hi = 1;
  let ticks = [0, 0.25, 0.5, 0.75, 1];
  if (o.scale === 'linear') {
    const vals = series.flatMap((s) => s.points.flatMap((p) => (p ? [p.value, p.lo, p.hi] : []))).filter((v): v is number => v != null && Number.isFinite(v));
    if (o.reference !== undefined) vals.push(o.reference);
    lo = vals.length ? Math.min(...vals) : 0;
    hi = vals.length ? Math.max(...vals) : 1;
    const pad = Math.max(1e-3, (hi - lo) * 0.08);
    ticks = niceTicks(lo - pad, hi + pad);
    lo = Math.min(lo - pad, ticks[0]!);
    hi = Math.max(hi + pad, ticks[ticks.length - 1]!);
  }
  const step = (fr.width - fr.left - fr.right) / Math.max(1, checkpoints.length);
  const x = (i: number) => fr.left + step * (i + 0.5);
  const y = (v: number) => fr.height - fr.bottom - ((v - lo) / (hi - lo)) * (fr.height - fr.top - fr.bottom);
  const parts = [svgOpen(fr, 'trajectory', o.title), axisY(fr, ticks, y, o.yLabel, fmt)];
  parts.push(`<line class="axis" x1="${fr.left}" x2="${fr.width - fr.right}" y1="${fr.height - fr.bottom}" y2="${fr.height - fr.bottom}" stroke="#444"/>`);
  checkpoints.forEach((c, i) => parts.push(`<text x="${f1(x(i))}" y="${fr.height - fr.bottom + 16}" text-anchor="middle">${esc(shortLabel(c, Math.max(4, Math.floor(step / 6.5))))}<title>${esc(`${i}: ${c}`)}</title></text>`));
  parts.push(`<text class="axis-label" x="${(fr.left + fr.width - fr.right) / 2}" y="${fr.height - 4}" text-anchor="middle">checkpoint (stream order; the first is the base)</text>`);
  if (o.reference !== undefined) parts.push(`<line class="reference" x1="${fr.left}" x2="${fr.width - fr.right}" y1="${f1(y(o.reference))}" y2="${f1(y(o.reference))}" stroke="#888" stroke-dasharray="4 3"/>`);
  const nudge = Math.min(6, step / (series.length + 2));
  series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length]!;
    const dx = (si - (series.length - 1) / 2) * nudge;
    const px = (i: number) => x(i) + dx;
    // Bands over runs of neighbouring points that all have an interval.
    let run: number[] = [];
    const flush = () => {
      if (run.length >= 2) {
        const up = run.map((i) => `${f1(px(i))},${f1(y(s.points[i]!.hi!))}`);
        const down = [...run].reverse().map((i) => `${f1(px(i))},${f1(y(s.points[i]!.lo!))}`);
        parts.push(`<polygon class="mark band" data-series="${esc(s.name)}" points="${[...up, ...down].join(' ')}" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
      }
      run = [];
    };
    s.points.forEach((p, i) => (p && p.lo != null && p.hi != null ? run.push(i) : flush()));
    flush();
    const d = s.points.map((p, i) => (p ? `${i && s.points[i - 1] ? 'L' : 'M'}${f1(px(i))},${f1(y(p.value))}` : '')).join('');
    if (d) parts.push(`<path class="series" data-series="${esc(s.name)}" d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    s.points.forEach((p, i) => {
      if (!p) return;
      const has = p.lo != null && p.hi != null;
      const label = `${s.name} at ${checkpoints[i]}: ${fmt(p.value)}${has ? ` (95% CI ${fmt(p.lo!)} – ${fmt(p.hi!)})` : ` (no interval${p.note ? `: ${p.note}` : ''})`}`;
      if (has) parts.push(`<line class="mark ci" x1="${f1(px(i))}" x2="${f1(px(i))}" y1="${f1(y(p.lo!))}" y2="${f1(y(p.hi!))}" stroke="${color}" stroke-width="1.5"><title>${esc(label)}</title></line>`);
      parts.push(`<circle class="mark point" data-series="${esc(s.name)}" data-row="${i}" data-value="${p.value}" data-lo="${has ? p.lo : ''}" data-hi="${has ? p.hi : ''}" cx="${f1(px(i))}" cy="${f1(y(p.value))}" r="3.5" fill="${has ? color : '#fff'}" stroke="${color}" stroke-width="1.5"><title>${esc(label)}</title></circle>`);
    });
    const ly = fr.top + 14 + 18 * si;
    parts.push(`<line x1="${fr.width - fr.right + 10}" x2="${fr.width - fr.right + 30}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/><text x="${fr.width - fr.right + 34}" y="${ly + 4}">${esc(shortLabel(s.name, 24))}<title>${esc(s.name)}</title></text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
