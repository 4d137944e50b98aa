/**
 * A small, deterministic SVG chart renderer: a fixed-size canvas, a framed plot area spanning the data ± 5% (or the
 * given ranges) with ticks at nice numbers inside it (ticks.ts), a light grid, darker zero lines (the x- and y-axes when they fall inside the plot), axis labels,
 * an optional title and legend, and any number of line and scatter series (a function is a line series of
 * sampled points, see {@link sampleFunction}). Coordinates are written with two decimals, so the same spec gives
 * the same SVG text on every platform; every text is XML-escaped. No DOM, no browser: a string is built.
 */
import { niceTicks, type Ticks } from './ticks.ts';

/** A line through points in data coordinates; a non-finite y (or x) breaks the line into pieces. */
export interface LineSeries {
  kind: 'line';
  name?: string;
  points: ReadonlyArray<readonly [number, number]>;
  color?: string;
  /** Stroke width in pixels (default 2.5). */
  width?: number;
  /** Dash pattern in pixels, e.g. `[8, 4]`. */
  dash?: number[];
}

/** Markers at points in data coordinates. */
export interface ScatterSeries {
  kind: 'scatter';
  name?: string;
  points: ReadonlyArray<readonly [number, number]>;
  color?: string;
  /** Marker radius in pixels (default 4). */
  radius?: number;
  marker?: 'circle' | 'square' | 'triangle' | 'diamond';
}

export type Series = LineSeries | ScatterSeries;

/** What to draw. Sizes in pixels; ranges in data units. */
export interface ChartSpec {
  /** Canvas width in pixels (default 800). */
  width?: number;
  /** Canvas height in pixels (default 600). */
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Shown x range before snapping to ticks (default: the data's, padded by 5%). */
  xRange?: readonly [number, number];
  /** Shown y range before snapping to ticks (default: the data's, padded by 5%). */
  yRange?: readonly [number, number];
  /** Wanted number of ticks per axis (default 8). */
  ticks?: number;
  /** Grid lines at the ticks (default true). */
  grid?: boolean;
  /** Legend of the named series (default: when at least one series has a name). */
  legend?: boolean;
  series: Series[];
}

/** Ten distinguishable colours (Tableau 10, the matplotlib default cycle), used in order for series without one. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'] as const;

/** The font family every text uses (DejaVu Sans, loaded from the bundled file by png.ts). */
export const FONT_FAMILY = 'DejaVu Sans';

/** Escape the five XML special characters, so any label is safe inside an element or attribute. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * Sample f at n + 1 evenly spaced points of [a, b] (both ends included), for a line series.
 * @throws RangeError for n < 1 or a > b
 */
export function sampleFunction(f: (x: number) => number, a: number, b: number, n = 400): Array<[number, number]> {
  if (!(n >= 1) || !(a <= b)) throw new RangeError(`bad sampling: [${a}, ${b}] in ${n} steps`);
  const out: Array<[number, number]> = [];
  for (let i = 0; i <= n; i++) {
    const x = i === n ? b : a + ((b - a) * i) / n;
    out.push([x, f(x)]);
  }
  return out;
}

const fmt = (v: number): string => {
  const s = v.toFixed(2);
  return s === '-0.00' ? '0.00' : s;
};

function dataRange(series: Series[], axis: 0 | 1): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const s of series) for (const p of s.points) {
    const v = p[axis];
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === Infinity) return [-1, 1];
  const pad = (hi - lo) * 0.05 || 1;
  return [lo - pad, hi + pad];
}

/** The pixel layout of a rendered chart: canvas, plot area, ticks, and the data → pixel maps. */
export interface ChartLayout {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  xTicks: Ticks;
  yTicks: Ticks;
  px: (x: number) => number;
  py: (y: number) => number;
}

/** The ticks inside [lo, hi], with lo and hi as the axis limits (the plot is not widened to the next tick). */
function within(t: Ticks, [lo, hi]: readonly [number, number]): Ticks {
  if (!(lo < hi)) return t; // degenerate range: keep the widened one niceTicks made
  const eps = (hi - lo) * 1e-9;
  const keep = t.values.map((v, i) => [v, t.labels[i]!] as const).filter(([v]) => v >= lo - eps && v <= hi + eps);
  return { min: lo, max: hi, step: t.step, values: keep.map((k) => k[0]), labels: keep.map((k) => k[1]) };
}

/** Compute the layout of a spec (ranges, ticks, plot rectangle). Pure. */
export function layoutChart(spec: ChartSpec): ChartLayout {
  const width = spec.width ?? 800, height = spec.height ?? 600;
  const n = spec.ticks ?? 8;
  const xr = spec.xRange ?? dataRange(spec.series, 0);
  const yr = spec.yRange ?? dataRange(spec.series, 1);
  const xTicks = within(niceTicks(xr[0], xr[1], n), xr);
  const yTicks = within(niceTicks(yr[0], yr[1], n), yr);
  const longest = Math.max(...yTicks.labels.map((l) => l.length));
  const left = 30 + (spec.yLabel ? 26 : 0) + longest * 8.5;
  const plot = { left, top: spec.title ? 48 : 20, right: width - 24, bottom: height - (spec.xLabel ? 62 : 40) };
  const px = (x: number) => plot.left + ((x - xTicks.min) / (xTicks.max - xTicks.min)) * (plot.right - plot.left);
  const py = (y: number) => plot.bottom - ((y - yTicks.min) / (yTicks.max - yTicks.min)) * (plot.bottom - plot.top);
  return { width, height, plot, xTicks, yTicks, px, py };
}

function marker(kind: ScatterSeries['marker'], x: number, y: number, r: number, color: string): string {
  switch (kind ?? 'circle') {
    case 'square':
      return `<rect x="${fmt(x - r)}" y="${fmt(y - r)}" width="${fmt(2 * r)}" height="${fmt(2 * r)}" fill="${color}"/>`;
    case 'triangle':
      return `<path d="M${fmt(x)} ${fmt(y - r * 1.2)}L${fmt(x + r * 1.1)} ${fmt(y + r * 0.8)}L${fmt(x - r * 1.1)} ${fmt(y + r * 0.8)}Z" fill="${color}"/>`;
    case 'diamond':
      return `<path d="M${fmt(x)} ${fmt(y - r * 1.3)}L${fmt(x + r)} ${fmt(y)}L${fmt(x)} ${fmt(y + r * 1.3)}L${fmt(x - r)} ${fmt(y)}Z" fill="${color}"/>`;
    default:
      return `<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(r)}" fill="${color}"/>`;
  }
}

/**
 * Render a chart spec to an SVG document (a string, UTF-8 text). Deterministic: equal specs give equal strings.
 * Series are drawn in order, clipped to the plot area; series without a colour take {@link PALETTE} in turn.
 * @throws RangeError for a non-finite axis range
 */
export function renderSvg(spec: ChartSpec): string {
  const L = layoutChart(spec);
  const { plot, xTicks, yTicks, px, py, width, height } = L;
  const o: string[] = [];
  const font = `font-family="${FONT_FAMILY}"`;
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  o.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  o.push(`<defs><clipPath id="plot"><rect x="${fmt(plot.left)}" y="${fmt(plot.top)}" width="${fmt(plot.right - plot.left)}" height="${fmt(plot.bottom - plot.top)}"/></clipPath></defs>`);
  // grid
  if (spec.grid ?? true) {
    const g: string[] = [];
    for (const v of xTicks.values) g.push(`M${fmt(px(v))} ${fmt(plot.top)}V${fmt(plot.bottom)}`);
    for (const v of yTicks.values) g.push(`M${fmt(plot.left)} ${fmt(py(v))}H${fmt(plot.right)}`);
    o.push(`<path d="${g.join('')}" stroke="#dddddd" stroke-width="1" fill="none"/>`);
  }
  // zero lines (the axes proper)
  const z: string[] = [];
  if (xTicks.min < 0 && xTicks.max > 0) z.push(`M${fmt(px(0))} ${fmt(plot.top)}V${fmt(plot.bottom)}`);
  if (yTicks.min < 0 && yTicks.max > 0) z.push(`M${fmt(plot.left)} ${fmt(py(0))}H${fmt(plot.right)}`);
  if (z.length) o.push(`<path d="${z.join('')}" stroke="#555555" stroke-width="1.2" fill="none"/>`);
  // series
  o.push(`<g clip-path="url(#plot)">`);
  spec.series.forEach((s, i) => {
    const color = escapeXml(s.color ?? PALETTE[i % PALETTE.length]!);
    if (s.kind === 'line') {
      const d: string[] = [];
      let pen = false;
      for (const [x, y] of s.points) {
        if (!Number.isFinite(x) || !Number.isFinite(y)) {
          pen = false;
          continue;
        }
        d.push(`${pen ? 'L' : 'M'}${fmt(px(x))} ${fmt(py(y))}`);
        pen = true;
      }
      const dash = s.dash?.length ? ` stroke-dasharray="${s.dash.map(fmt).join(' ')}"` : '';
      if (d.length) o.push(`<path d="${d.join('')}" stroke="${color}" stroke-width="${fmt(s.width ?? 2.5)}" fill="none" stroke-linejoin="round" stroke-linecap="round"${dash}/>`);
    } else {
      for (const [x, y] of s.points) if (Number.isFinite(x) && Number.isFinite(y)) o.push(marker(s.marker, px(x), py(y), s.radius ?? 4, color));
    }
  });
  o.push(`</g>`);
  // frame and ticks
  o.push(`<rect x="${fmt(plot.left)}" y="${fmt(plot.top)}" width="${fmt(plot.right - plot.left)}" height="${fmt(plot.bottom - plot.top)}" fill="none" stroke="#222222" stroke-width="1.2"/>`);
  const tk: string[] = [];
  for (const v of xTicks.values) tk.push(`M${fmt(px(v))} ${fmt(plot.bottom)}v6`);
  for (const v of yTicks.values) tk.push(`M${fmt(plot.left)} ${fmt(py(v))}h-6`);
  o.push(`<path d="${tk.join('')}" stroke="#222222" stroke-width="1.2"/>`);
  o.push(`<g ${font} font-size="14" fill="#222222">`);
  xTicks.values.forEach((v, i) => o.push(`<text x="${fmt(px(v))}" y="${fmt(plot.bottom + 22)}" text-anchor="middle">${escapeXml(xTicks.labels[i]!)}</text>`));
  yTicks.values.forEach((v, i) => o.push(`<text x="${fmt(plot.left - 10)}" y="${fmt(py(v) + 5)}" text-anchor="end">${escapeXml(yTicks.labels[i]!)}</text>`));
  o.push(`</g>`);
  if (spec.xLabel) o.push(`<text x="${fmt((plot.left + plot.right) / 2)}" y="${fmt(height - 16)}" ${font} font-size="16" text-anchor="middle" fill="#222222">${escapeXml(spec.xLabel)}</text>`);
  if (spec.yLabel) {
    const cy = (plot.top + plot.bottom) / 2;
    o.push(`<text x="22" y="${fmt(cy)}" ${font} font-size="16" text-anchor="middle" fill="#222222" transform="rotate(-90 22 ${fmt(cy)})">${escapeXml(spec.yLabel)}</text>`);
  }
  if (spec.title) o.push(`<text x="${fmt(width / 2)}" y="30" ${font} font-size="18" font-weight="bold" text-anchor="middle" fill="#222222">${escapeXml(spec.title)}</text>`);
  // legend
  const named = spec.series.map((s, i) => ({ s, i })).filter((e) => e.s.name);
  if ((spec.legend ?? named.length > 0) && named.length > 0) {
    const rowH = 20, w = 26 + 8.2 * Math.max(...named.map((e) => e.s.name!.length)) + 16;
    const h = rowH * named.length + 10;
    const x0 = plot.right - w - 10, y0 = plot.top + 10;
    o.push(`<g><rect x="${fmt(x0)}" y="${fmt(y0)}" width="${fmt(w)}" height="${fmt(h)}" fill="#ffffff" fill-opacity="0.9" stroke="#999999" stroke-width="1"/>`);
    named.forEach(({ s, i }, r) => {
      const color = escapeXml(s.color ?? PALETTE[i % PALETTE.length]!);
      const cy = y0 + 5 + rowH * r + rowH / 2;
      if (s.kind === 'line') o.push(`<path d="M${fmt(x0 + 8)} ${fmt(cy)}h20" stroke="${color}" stroke-width="${fmt(s.width ?? 2.5)}"${s.dash?.length ? ` stroke-dasharray="${s.dash.map(fmt).join(' ')}"` : ''}/>`);
      else o.push(marker(s.marker, x0 + 18, cy, s.radius ?? 4, color));
      o.push(`<text x="${fmt(x0 + 34)}" y="${fmt(cy + 5)}" ${font} font-size="14" fill="#222222">${escapeXml(s.name!)}</text>`);
    });
    o.push(`</g>`);
  }
  o.push(`</svg>`);
  return o.join('\n');
}
