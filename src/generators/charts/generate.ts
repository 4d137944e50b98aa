/**
 * The GRAB-style chart generator: one seeded, pure function from (item spec, seed) to a chart question with its
 * ground truth, after Roberts, Han, Albanie 2024, "GRAB: A Challenging GRaph Analysis Benchmark for Large
 * Multimodal Models" (arXiv:2408.11817), §3: four tasks (`properties` of one function or series; `function`: a
 * property averaged over 1–10 plotted functions; `series`: over 1–10 data series; `transform`: a property after 0–9
 * geometric transformations), GRAB's categories, and answers at a stated precision (as an integer, to 1 decimal
 * place, to the nearest 10, or an equation with integer coefficients).
 *
 * **Ground truth** is computed from the generating parameters and data, never from pixels: functions.ts
 * (extrema, stationary points, areas, sinusoid parameters), stats.ts (mean, median, IQR, variance, correlations),
 * transforms.ts (affine images of polynomial graphs). The unrounded value is kept in `metadata.value` (and each
 * function's or series' own value in `metadata.values`); the target is that value rounded half away from zero at
 * the stated precision (GRAB's answers are such strings: `"-3"`, `"0.3"`, `"120"`, `"[-10, -3]"`,
 * `"y = 0x^3 - 2x^2 + 5x + 2"`). Items whose value lies within 1e-6 of a rounding boundary are redrawn, so
 * floating-point error can never flip an answer.
 *
 * **Wording** states every convention a question depends on (population variance, quartiles by linear
 * interpolation, Kendall's τ-b, the form of a phase shift, the direction of a rotation, each operation's map).
 *
 * **Determinism**: the per-item seed is the first 32 bits of sha256(version, dataset seed, index, spec); the chart
 * is an SVG with two-decimal coordinates (svg.ts) rendered by resvg with the bundled font (png.ts), so the same
 * (spec, seed) gives the same question, target and PNG bytes.
 */
import { createHash } from 'node:crypto';
import type { Sample } from '../../core/schemas.ts';
import { createRng, type Rng } from '../../core/rng.ts';
import { evalFunction, functionExtrema, netArea, normalisedSine, stationaryPoints, totalArea, xIntercepts, type ChartFunction } from './functions.ts';
import { iqr, kendallTauB, mean, median, pearson, spearman, variance } from './stats.ts';
import { PALETTE, renderSvg, sampleFunction, type ChartSpec, type Series } from './svg.ts';
import { svgToPng } from './png.ts';
import { describeOp, sequenceAffine, transformedProperties, type TransformOp } from './transforms.ts';
import type { ChartCategory, ChartProperty, ChartTask, PrecisionKind } from './types.ts';
import { grabDistribution, type GrabCell } from './distribution.ts';

/** Bump when the question, target or image produced for a given (spec, seed) changes. Recorded in every sample. */
export const CHARTS_GENERATOR_VERSION = 1;

/** Canvas size of every chart, in pixels. */
export const CHART_WIDTH = 800;
export const CHART_HEIGHT = 600;

/** What one item asks: task, category, property, precision and complexity (GRAB's 0–9). */
export interface ChartItemSpec {
  task: ChartTask;
  category: ChartCategory;
  property: ChartProperty;
  precision: PrecisionKind;
  /** `function` / `series`: plotted functions / series − 1; `transform`: operations; `properties`: 0. */
  complexity: number;
}

/** A data series: paired x and y values (y rounded to 0.1, x to 0.1, as plotted). */
export interface DataSeries {
  xs: number[];
  ys: number[];
}

/** One generated item before rendering: the chart to draw, the question, the target and the ground truth. */
export interface ChartItem {
  spec: ChartItemSpec;
  seed: number;
  question: string;
  target: string;
  /** The unrounded ground truth: a number, a pair of numbers (stationary points), or equation coefficients. */
  value: number | number[];
  /** Each function's or series' own value (function and series tasks); the value is their mean. */
  values: number[] | null;
  functions: ChartFunction[];
  series: DataSeries[];
  transforms: TransformOp[];
  chart: ChartSpec;
}

// ---------------------------------------------------------------------------------------------------------------
// rounding

/** The rounding unit of a precision kind (1, 0.1 or 10). */
export function precisionUnit(p: PrecisionKind): number {
  return p === '1dp' ? 0.1 : p === 'nearest10' ? 10 : 1;
}

/**
 * Round half away from zero at a precision and format as GRAB writes answers: `int` → `"-3"`, `1dp` → `"0.3"` /
 * `"5.0"`, `nearest10` → `"120"`. Negative zero prints as `0` / `0.0`.
 * @throws RangeError for a non-finite value or the `equation` kind
 */
export function formatAnswer(v: number, p: PrecisionKind): string {
  if (!Number.isFinite(v)) throw new RangeError(`cannot round ${v}`);
  if (p === 'equation') throw new RangeError('equations are formatted by formatEquation');
  const unit = precisionUnit(p);
  const k = Math.sign(v) * Math.round(Math.abs(v) / unit + 1e-9);
  const r = p === '1dp' ? (k / 10).toFixed(1) : String(k * (p === 'nearest10' ? 10 : 1));
  return r === '-0' || r === '-0.0' ? r.slice(1) : r;
}

/** True when v lies within 1e-6 units of a rounding boundary (a half unit), where float error could flip it. */
export function nearTie(v: number, p: PrecisionKind): boolean {
  if (p === 'equation') return false;
  const u = Math.abs(v) / precisionUnit(p);
  return Math.abs(u - Math.floor(u) - 0.5) < 1e-6;
}

/** `y = 0x^3 - 2x^2 + 5x + 2` from integer coefficients highest degree first (GRAB's written form). */
export function formatPolyEquation(coeffsHighFirst: readonly number[]): string {
  const deg = coeffsHighFirst.length - 1;
  const term = (c: number, d: number) => (d === 0 ? `${Math.abs(c)}` : d === 1 ? `${Math.abs(c)}x` : `${Math.abs(c)}x^${d}`);
  let s = `y = ${coeffsHighFirst[0]! < 0 ? '-' : ''}${term(coeffsHighFirst[0]!, deg)}`;
  for (let i = 1; i <= deg; i++) s += ` ${coeffsHighFirst[i]! < 0 ? '-' : '+'} ${term(coeffsHighFirst[i]!, deg - i)}`;
  return s;
}

/** `y = 2sin(3x - 1) + 6` from integer A, B, C, D (GRAB's written form). */
export function formatSineEquation(A: number, B: number, C: number, D: number): string {
  return `y = ${A}sin(${B}x ${C < 0 ? '-' : '+'} ${Math.abs(C)}) ${D < 0 ? '-' : '+'} ${Math.abs(D)}`;
}

const PRECISION_SENTENCE: Record<Exclude<PrecisionKind, 'equation'>, string> = {
  int: 'Give your answer as an integer.',
  '1dp': 'Give your answer to 1 decimal place.',
  nearest10: 'Give your answer to the nearest 10.',
};

// ---------------------------------------------------------------------------------------------------------------
// random helpers

const uni = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng.float();
const irange = (rng: Rng, lo: number, hi: number) => lo + rng.int(hi - lo + 1);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const sgn = (rng: Rng) => (rng.int(2) === 0 ? -1 : 1);
const r1 = (v: number) => Math.round(v * 10) / 10 + 0; // one decimal, no negative zero
const r2 = (v: number) => Math.round(v * 100) / 100 + 0;

/** Real-valued parameters are kept to 2 decimals so that metadata is short and the question reproducible. */
function line(m: number, c: number, domain: [number, number]): ChartFunction {
  return { family: 'polynomial', coeffs: [c, m], domain };
}

/** A polynomial with the given real roots scaled so that its largest |value| on the domain is `peak`. */
function rootsPoly(roots: number[], peak: number, domain: [number, number]): ChartFunction {
  let c = [1];
  for (const r of roots) c = c.map((v, i) => -r * v + (c[i - 1] ?? 0)).concat([c[c.length - 1]!]);
  const f: ChartFunction = { family: 'polynomial', coeffs: c, domain };
  const e = functionExtrema(f);
  const s = peak / Math.max(Math.abs(e.max), Math.abs(e.min), 1e-9);
  return { family: 'polynomial', coeffs: c.map((v) => r2(v * s * 1e4) / 1e4), domain };
}

function randomDomain(rng: Rng, integer: boolean): [number, number] {
  if (integer) {
    const a = irange(rng, -10, -2), b = irange(rng, 2, 10);
    return [a, b];
  }
  const a = r1(uni(rng, -10, -1)), b = r1(uni(rng, 1, 10));
  return [a, b];
}

/** A random function of a random family on a random domain (for extrema and range questions). */
function randomFunction(rng: Rng, integer: boolean): ChartFunction {
  const domain = randomDomain(rng, integer);
  const kind = rng.int(4);
  if (kind === 0) return line(r1(uni(rng, -3, 3)), r1(uni(rng, -8, 8)), domain);
  if (kind === 1) {
    const roots = Array.from({ length: irange(rng, 2, 3) }, () => r1(uni(rng, domain[0], domain[1])));
    return rootsPoly(roots, r1(uni(rng, 3, 15)) * sgn(rng), domain);
  }
  if (kind === 2) return { family: 'sine', A: r1(uni(rng, 1, 6)), B: r2((2 * Math.PI) / uni(rng, 3, 10)), C: r2(uni(rng, -3, 3)), D: r1(uni(rng, -6, 6)), domain };
  return { family: 'gaussian', H: r1(uni(rng, 2, 10)) * sgn(rng), mu: r1(uni(rng, domain[0] + 1, domain[1] - 1)), sigma: r1(uni(rng, 0.6, 2.5)), domain };
}

function randomSine(rng: Rng, integer: boolean): ChartFunction {
  if (integer) {
    const P = irange(rng, 3, 10), h = irange(rng, Math.floor(-P / 2) + 1, Math.ceil(P / 2) - 1);
    const B = (2 * Math.PI) / P;
    return { family: 'sine', A: irange(rng, 1, 9), B, C: -B * h, D: irange(rng, -9, 9), domain: [-10, 10] };
  }
  const P = r2(uni(rng, 2, 10)), B = (2 * Math.PI) / P, h = r2(uni(rng, -P / 2 + 0.05, P / 2 - 0.05));
  return { family: 'sine', A: r1(uni(rng, 0.5, 6)), B, C: -B * h, D: r1(uni(rng, -8, 8)), domain: [-10, 10] };
}

function randomBell(rng: Rng, integer: boolean, integerVariance = false): ChartFunction {
  const mu = integer && !integerVariance ? irange(rng, -7, 7) : r1(uni(rng, -6, 6));
  const sigma = integerVariance ? Math.sqrt(irange(rng, 1, 9)) : r2(uni(rng, 0.5, 3));
  const half = Math.max(10, Math.ceil(Math.abs(mu) + 4 * sigma));
  return { family: 'gaussian', H: r1(uni(rng, 2, 10)), mu, sigma, domain: [-half, half] };
}

function areaPoly(rng: Rng, integerDomain: boolean): ChartFunction {
  const domain = randomDomain(rng, integerDomain);
  const deg = irange(rng, 1, 3);
  const roots = Array.from({ length: deg }, () => r1(uni(rng, domain[0] - 2, domain[1] + 2)));
  return rootsPoly(roots, r1(uni(rng, 3, 15)) * sgn(rng), domain);
}

// ---------------------------------------------------------------------------------------------------------------
// data series

function randomSeries(rng: Rng, n: number, opts: { rho?: number; xLo?: number; xHi?: number } = {}): DataSeries {
  const xLo = opts.xLo ?? r1(uni(rng, -10, 0)), xHi = opts.xHi ?? r1(uni(rng, xLo + 4, 12));
  const xs: number[] = [];
  // distinct x, sorted: a jittered grid so points never share an x
  for (let i = 0; i < n; i++) xs.push(r1(xLo + ((xHi - xLo) * (i + 0.2 + 0.6 * rng.float())) / n));
  const level = uni(rng, -6, 6), spread = uni(rng, 0.5, 5);
  let ys: number[];
  if (opts.rho !== undefined) {
    const mx = mean(xs), sx = Math.sqrt(variance(xs)) || 1;
    ys = xs.map((x) => level + spread * (opts.rho! * ((x - mx) / sx) + Math.sqrt(1 - opts.rho! ** 2) * gauss(rng)));
  } else {
    const slope = uni(rng, -1, 1) * spread / Math.max(1, xHi - xLo);
    ys = xs.map((x) => level + slope * (x - xLo) + spread * gauss(rng));
  }
  return { xs, ys: ys.map(r1) };
}

/** A standard normal draw (Box–Muller, Box & Muller 1958). */
function gauss(rng: Rng): number {
  const u = 1 - rng.float(), v = rng.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const MARKERS = ['circle', 'square', 'triangle', 'diamond'] as const;

function dataSeriesChart(series: DataSeries[], joined: boolean): Series[] {
  const out: Series[] = [];
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = s.xs.map((x, j) => [x, s.ys[j]!] as [number, number]);
    if (joined) out.push({ kind: 'line', points: pts, color, width: 1.5 });
    out.push({ kind: 'scatter', points: pts, color, marker: MARKERS[i % MARKERS.length], radius: 4 });
  });
  return out;
}

function functionChart(fs: ChartFunction[]): Series[] {
  return fs.map((f, i) => ({ kind: 'line', points: sampleFunction((x) => evalFunction(f, x), f.domain[0], f.domain[1], 400), color: PALETTE[i % PALETTE.length]! }));
}

// ---------------------------------------------------------------------------------------------------------------
// properties and wording

type Subject = 'function' | 'series';

/** The noun phrase of a property about "it" (one function or one series). */
const PHRASE: Record<string, string> = {
  gradient: 'the gradient (slope) of the line',
  x_intercept: 'the x-intercept of the line (the x value where it crosses the x-axis)',
  y_intercept: 'the y-intercept of the line (its y value at x = 0)',
  stationary_x: 'the x-coordinate of the stationary point (the vertex) of the parabola',
  peak: 'the x-coordinate of the peak of the bell-shaped curve',
  variance_function: 'the variance σ² of the bell-shaped curve y = H·exp(−(x − μ)²/(2σ²))',
  amplitude: 'the amplitude of the sinusoid',
  period: 'the period of the sinusoid',
  phase_shift: 'the phase shift h of the sinusoid, written y = A·sin(B(x − h)) + D with A > 0, B > 0 and −P/2 ≤ h < P/2, where P is the period',
  vertical_shift: 'the vertical shift D of the sinusoid, written y = A·sin(Bx + C) + D (the height of its midline)',
  max: 'the maximum value of the function over the plotted interval',
  min: 'the minimum value of the function over the plotted interval',
  domain_length: 'the domain length of the function (the largest x minus the smallest x of the plotted curve)',
  range_span: 'the range span of the function over the plotted interval (its maximum value minus its minimum value)',
  max_data: 'the maximum y value of the data',
  min_data: 'the minimum y value of the data',
  domain_length_data: 'the domain length of the data (the largest x value minus the smallest x value)',
  range_span_data: 'the range span of the data (the largest y value minus the smallest y value)',
  net_area: 'the net area bounded by the function and the x-axis over the plotted interval (area above the x-axis counts positive, area below it negative)',
  total_area: 'the total area bounded by the function and the x-axis over the plotted interval (every region counts positive)',
  mean: 'the mean of the y values of the data',
  median: 'the median of the y values of the data',
  iqr: 'the interquartile range of the y values of the data (Q3 − Q1, quartiles by linear interpolation between the sorted values)',
  variance: 'the population variance of the y values of the data (the mean squared deviation from their mean, dividing by the number of points)',
  pearson: "Pearson's correlation coefficient between the x and y values of the data",
  spearman: "Spearman's rank correlation coefficient between the x and y values of the data",
  kendall: "Kendall's rank correlation coefficient (tau-b) between the x and y values of the data",
};

/** The noun phrases of the transform task (about the image of the plotted graph). */
const TRANSFORM_PHRASE: Partial<Record<ChartProperty, string>> = {
  gradient: 'the gradient (slope) of the transformed line',
  max: 'the maximum y value of the transformed graph',
  min: 'the minimum y value of the transformed graph',
  domain_length: 'the domain length of the transformed graph (its largest x minus its smallest x)',
  range_span: 'the range span of the transformed graph (its largest y minus its smallest y)',
  net_area: 'the net area bounded by the transformed graph and the x-axis (area above the x-axis counts positive, area below it negative)',
  total_area: 'the total area bounded by the transformed graph and the x-axis (every region counts positive)',
};

/** The phrase for the function task: the subject becomes "that function" / "that series". */
function phraseOf(p: ChartProperty, many: boolean): string {
  const s = PHRASE[p];
  if (!s) throw new Error(`no wording for ${p}`);
  if (!many) return s;
  return s
    .replace('the line', 'that line')
    .replace('the function', 'that function')
    .replace('the parabola', 'that parabola')
    .replace('the bell-shaped curve', 'that bell-shaped curve')
    .replace('the sinusoid', 'that sinusoid')
    .replace(/the data\b/, 'that series');
}

function subjectNoun(p: ChartProperty): string {
  if (['gradient', 'x_intercept', 'y_intercept'].includes(p)) return 'line';
  if (p === 'stationary_x') return 'parabola';
  if (p === 'peak' || p === 'variance_function') return 'bell-shaped curve';
  if (['amplitude', 'period', 'phase_shift', 'vertical_shift'].includes(p)) return 'sinusoid';
  return 'function';
}

/** The property of one function (numbers), computed analytically. */
function functionValue(f: ChartFunction, p: ChartProperty): number {
  switch (p) {
    case 'gradient':
      return (f as { coeffs: number[] }).coeffs[1]!;
    case 'x_intercept': {
      const r = xIntercepts(f);
      if (r.length !== 1) throw new Error('expected one x-intercept');
      return r[0]!;
    }
    case 'y_intercept':
      return evalFunction(f, 0);
    case 'stationary_x': {
      const s = stationaryPoints(f);
      if (s.length !== 1) throw new Error('expected one stationary point');
      return s[0]!;
    }
    case 'peak':
      return (f as { mu: number }).mu;
    case 'variance_function':
      return (f as { sigma: number }).sigma ** 2;
    case 'amplitude':
      return normalisedSine(f as Extract<ChartFunction, { family: 'sine' }>).A;
    case 'period':
      return (2 * Math.PI) / normalisedSine(f as Extract<ChartFunction, { family: 'sine' }>).B;
    case 'phase_shift': {
      const n = normalisedSine(f as Extract<ChartFunction, { family: 'sine' }>);
      return -n.C / n.B;
    }
    case 'vertical_shift':
      return (f as { D: number }).D;
    case 'max':
      return functionExtrema(f).max;
    case 'min':
      return functionExtrema(f).min;
    case 'domain_length':
      return f.domain[1] - f.domain[0];
    case 'range_span': {
      const e = functionExtrema(f);
      return e.max - e.min;
    }
    case 'net_area':
      return netArea(f);
    case 'total_area':
      return totalArea(f);
    default:
      throw new Error(`not a function property: ${p}`);
  }
}

/** The property of one data series. */
function seriesValue(s: DataSeries, p: ChartProperty): number {
  switch (p) {
    case 'max_data':
      return Math.max(...s.ys);
    case 'min_data':
      return Math.min(...s.ys);
    case 'domain_length_data':
      return Math.max(...s.xs) - Math.min(...s.xs);
    case 'range_span_data':
      return Math.max(...s.ys) - Math.min(...s.ys);
    case 'mean':
      return mean(s.ys);
    case 'median':
      return median(s.ys);
    case 'iqr':
      return iqr(s.ys);
    case 'variance':
      return variance(s.ys);
    case 'pearson':
      return pearson(s.xs, s.ys);
    case 'spearman':
      return spearman(s.xs, s.ys);
    case 'kendall':
      return kendallTauB(s.xs, s.ys);
    default:
      throw new Error(`not a data property: ${p}`);
  }
}

const SERIES_PROPS = new Set<ChartProperty>(['max_data', 'min_data', 'domain_length_data', 'range_span_data', 'mean', 'median', 'iqr', 'variance', 'pearson', 'spearman', 'kendall']);

/** A function suited to a property (integer parameters in the properties task, where GRAB's answers are exact). */
function functionFor(rng: Rng, p: ChartProperty, integer: boolean): ChartFunction {
  switch (p) {
    case 'gradient':
    case 'y_intercept':
      return integer ? line(irange(rng, -5, 5), irange(rng, -9, 9), [-10, 10]) : line(r2(uni(rng, -5, 5)), r2(uni(rng, -9, 9)), [-10, 10]);
    case 'x_intercept': {
      const r = integer ? irange(rng, -9, 9) : r2(uni(rng, -9, 9));
      const m = integer ? irange(rng, 1, 4) * sgn(rng) : r2(uni(rng, 0.3, 4)) * sgn(rng);
      return line(m, r2(-m * r), [-10, 10]);
    }
    case 'stationary_x': {
      const h = integer ? irange(rng, -8, 8) : r2(uni(rng, -8, 8));
      const a = pick(rng, [0.25, 0.5, 1, 2]) * sgn(rng), k = integer ? irange(rng, -9, 9) : r1(uni(rng, -9, 9));
      return { family: 'polynomial', coeffs: [a * h * h + k, -2 * a * h, a], domain: [-10, 10] };
    }
    case 'peak':
      return randomBell(rng, integer);
    case 'variance_function':
      return randomBell(rng, integer, integer);
    case 'amplitude':
    case 'period':
    case 'phase_shift':
    case 'vertical_shift':
      return randomSine(rng, integer);
    case 'net_area':
    case 'total_area':
      return areaPoly(rng, integer);
    default:
      return randomFunction(rng, integer);
  }
}

const TRANSLATIONS = Array.from({ length: 21 }, (_, i) => i - 10);
const SCALES = [0.1, 0.5, 1, 2, 3, 5, 10];

function randomOp(rng: Rng): TransformOp {
  switch (rng.int(4)) {
    case 0:
      return { op: 'rotate', degrees: pick(rng, [0, 90, 180, 270] as const) };
    case 1: {
      const k = rng.int(6);
      if (k < 4) return { op: 'reflect', line: (['x-axis', 'y-axis', 'y=x', 'y=-x'] as const)[k]! };
      return k === 4 ? { op: 'reflect-x', k: irange(rng, -9, 9) } : { op: 'reflect-y', k: irange(rng, -9, 9) };
    }
    case 2:
      return { op: 'scale', axis: pick(rng, ['x', 'y'] as const), factor: pick(rng, SCALES) };
    default:
      return { op: 'translate', axis: pick(rng, ['x', 'y'] as const), by: pick(rng, TRANSLATIONS) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// items

/** Draw one candidate item; returns null when the draw must be redone (an undefined or near-tie value). */
function draw(spec: ChartItemSpec, rng: Rng, seed: number): ChartItem | null {
  const { task, property: p, precision } = spec;
  const base = { spec, seed, functions: [] as ChartFunction[], series: [] as DataSeries[], transforms: [] as TransformOp[], values: null as number[] | null };
  const sentence = precision === 'equation' ? '' : PRECISION_SENTENCE[precision];
  const numeric = (value: number, question: string, chart: ChartSpec, extra: Partial<ChartItem> = {}): ChartItem | null =>
    !Number.isFinite(value) || nearTie(value, precision) ? null : { ...base, ...extra, question, target: formatAnswer(value, precision), value, chart };
  const chart = (series: Series[]): ChartSpec => ({ width: CHART_WIDTH, height: CHART_HEIGHT, series, xLabel: 'x', yLabel: 'y' });

  // counting
  if (p === 'count_points') {
    const n = irange(rng, 5, 100);
    const pts: Array<[number, number]> = [];
    for (let tries = 0; pts.length < n && tries < 100_000; tries++) {
      const x = rng.float(), y = rng.float();
      if (pts.every(([u, v]) => Math.hypot((u - x) * 1.4, v - y) > 0.035)) pts.push([x, y]);
    }
    if (pts.length < n) return null;
    const sx = r1(uni(rng, 5, 20)), ox = r1(uni(rng, -10, 5)), sy = r1(uni(rng, 5, 20)), oy = r1(uni(rng, -10, 5));
    const s: DataSeries = { xs: pts.map(([x]) => r2(ox + sx * x)), ys: pts.map(([, y]) => r2(oy + sy * y)) };
    return numeric(n, `How many data points are shown in the plot? ${sentence}`, chart(dataSeriesChart([s], false)), { series: [s] });
  }
  if (p === 'count_series') {
    const k = irange(rng, 1, 10);
    const ss = Array.from({ length: k }, () => randomSeries(rng, irange(rng, 5, 12), { xLo: 0, xHi: 10 }));
    return numeric(k, `How many data series are shown in the plot? Each series has its own colour and marker. ${sentence}`, chart(dataSeriesChart(ss, true)), { series: ss });
  }

  // equations (integer coefficients; the form is stated)
  if (p.startsWith('equation_')) {
    if (p === 'equation_sine') {
      const A = irange(rng, 1, 9), B = irange(rng, 1, 3), C = irange(rng, -3, 3), D = irange(rng, -9, 9);
      const f: ChartFunction = { family: 'sine', A, B, C, D, domain: [-10, 10] };
      const q = 'The plot shows the graph of a function. What is its equation? Write your answer in the form y = <a>sin(<b>x + <c>) + <d>, where a, b, c and d are integers, a > 0, b > 0 and −π < c ≤ π.';
      return { ...base, functions: [f], question: q, target: formatSineEquation(A, B, C, D), value: [A, B, C, D], chart: chart(functionChart([f])) };
    }
    const deg = ({ equation_linear: 1, equation_quadratic: 2, equation_cubic: 3, equation_quartic: 4 } as Record<string, number>)[p]!;
    const half = ({ 1: 10, 2: 5, 3: 3, 4: 2.5 } as Record<number, number>)[deg]!;
    const hi = Array.from({ length: deg + 1 }, (_, i) => (i === 0 ? irange(rng, 1, deg === 1 ? 9 : 3) * sgn(rng) : irange(rng, deg === 1 ? -9 : -7, deg === 1 ? 9 : 7)));
    const f: ChartFunction = { family: 'polynomial', coeffs: [...hi].reverse(), domain: [-half, half] };
    const letters = deg === 1 ? ['m', 'c'] : ['a', 'b', 'c', 'd', 'e'].slice(0, deg + 1);
    const formText = 'y = ' + letters.map((l, i) => `<${l}>${deg - i === 0 ? '' : deg - i === 1 ? 'x' : `x^${deg - i}`}`).join(' + ');
    const q = `The plot shows the graph of a function. What is its equation? Write your answer in the form ${formText}, where every coefficient is an integer (write 0 and 1 explicitly).`;
    return { ...base, functions: [f], question: q, target: formatPolyEquation(hi), value: hi, chart: chart(functionChart([f])) };
  }

  if (p === 'stationary_pair') {
    const pp = irange(rng, -9, 7), qq = irange(rng, pp + 2, Math.min(9, pp + 12));
    const drop = r1(uni(rng, 6, 25)) * sgn(rng); // f(p) − f(q)
    const a = (2 * drop) / (qq - pp) ** 3; // f′ = 3a(x − p)(x − q), f(p) − f(q) = a(q − p)³/2
    const d = irange(rng, -8, 8);
    const domain: [number, number] = [pp - r1(uni(rng, 1, 3)), qq + r1(uni(rng, 1, 3))];
    const f: ChartFunction = { family: 'polynomial', coeffs: [d, 3 * a * pp * qq, -1.5 * a * (pp + qq), a], domain };
    const s = stationaryPoints(f);
    if (s.length !== 2 || s.some((x) => nearTie(x, 'int'))) return null;
    const q = `The plot shows the graph of a function over a closed interval. What are the x-coordinates of its two stationary points? Write your answer in the form [x1, x2], where x1 < x2. ${PRECISION_SENTENCE.int.replace('your answer', 'each value')}`;
    return { ...base, functions: [f], question: q, target: `[${formatAnswer(s[0]!, 'int')}, ${formatAnswer(s[1]!, 'int')}]`, value: s, chart: chart(functionChart([f])) };
  }

  if (task === 'properties' || task === 'function') {
    const many = task === 'function';
    const k = many ? spec.complexity + 1 : 1;
    if (SERIES_PROPS.has(p)) {
      if (many) throw new Error(`${p} is a data property, not a function property`);
      const rho = ['pearson', 'spearman', 'kendall'].includes(p) ? uni(rng, -1, 1) : undefined;
      const s = randomSeries(rng, irange(rng, 8, 30), rho === undefined ? {} : { rho });
      const v = seriesValue(s, p);
      return numeric(v, `The plot shows a data series. What is ${phraseOf(p, false)}? ${sentence}`, chart(dataSeriesChart([s], rho === undefined)), { series: [s] });
    }
    const fs = Array.from({ length: k }, () => functionFor(rng, p, !many));
    let values: number[];
    try {
      values = fs.map((f) => functionValue(f, p));
    } catch {
      return null;
    }
    const v = mean(values);
    const noun = subjectNoun(p);
    const q = many
      ? `The plot shows one or more ${noun === 'function' ? 'function' : noun}s. For each one, take ${phraseOf(p, true)}. Estimate the mean of these values over all the ${noun === 'function' ? 'function' : noun}s shown. ${sentence}`
      : `The plot shows ${noun === 'function' ? 'the graph of a function over a closed interval' : `a ${noun}`}. What is ${phraseOf(p, false)}? ${sentence}`;
    return numeric(v, q, chart(functionChart(fs)), { functions: fs, values: many ? values : null });
  }

  if (task === 'series') {
    const k = spec.complexity + 1;
    const corr = ['pearson', 'spearman', 'kendall'].includes(p);
    const xLo = r1(uni(rng, -10, 0)), xHi = r1(uni(rng, xLo + 5, 12));
    const ss = Array.from({ length: k }, () => randomSeries(rng, irange(rng, 6, corr ? 25 : 15), corr ? { rho: uni(rng, -1, 1) } : rng.int(2) ? {} : { xLo, xHi }));
    let values: number[];
    try {
      values = ss.map((s) => seriesValue(s, p));
    } catch {
      return null;
    }
    const v = mean(values);
    const q = `The plot shows one or more data series (one colour and marker each). For each series, take ${phraseOf(p, true)}. Estimate the mean of these values over all the series shown. ${sentence}`;
    return numeric(v, q, chart(dataSeriesChart(ss, !corr)), { series: ss, values });
  }

  // transform: one polynomial, 0–9 operations, the property of its image
  const f: ChartFunction = p === 'gradient' ? line(r1(uni(rng, -4, 4)), r1(uni(rng, -8, 8)), randomDomain(rng, false)) : (() => {
    const domain = randomDomain(rng, false);
    const deg = irange(rng, 1, 3);
    return rootsPoly(Array.from({ length: deg }, () => r1(uni(rng, domain[0] - 2, domain[1] + 2))), r1(uni(rng, 3, 12)) * sgn(rng), domain);
  })();
  const coeffs = (f as { coeffs: number[] }).coeffs;
  for (let tries = 0; tries < 50; tries++) {
    const ops = Array.from({ length: spec.complexity }, () => randomOp(rng));
    const props = transformedProperties(coeffs, f.domain[0], f.domain[1], sequenceAffine(ops));
    const v = props[p as keyof typeof props];
    if (v === null || v === undefined || !Number.isFinite(v) || nearTie(v, precision)) continue;
    const steps = ops.map((o, i) => `${i + 1}. ${describeOp(o)};`).join('\n');
    const what = TRANSFORM_PHRASE[p]!.replace(/transformed (graph|line)/g, (_, w: string) => (ops.length ? `transformed ${w}` : w));
    const q = ops.length === 0
      ? `The plot shows the graph of a function over a closed interval. Estimate ${what}. ${sentence}`
      : `The plot shows the graph of a function over a closed interval. Transform the graph by the following operations, applied in order to every point (x, y) of it:\n${steps}\nEstimate ${what}. ${sentence}`;
    return { ...base, functions: [f], transforms: ops, question: q, target: formatAnswer(v, precision), value: v, chart: chart(functionChart([f])) };
  }
  return null;
}

/**
 * The per-item seed: the first 32 bits of sha256 over the generator version, the dataset seed, the item index and
 * the spec, so any item can be regenerated alone.
 */
export function itemSeed(seed: number, index: number, spec: ChartItemSpec): number {
  const h = createHash('sha256').update(JSON.stringify([CHARTS_GENERATOR_VERSION, seed, index, spec.task, spec.category, spec.property, spec.precision, spec.complexity])).digest();
  return h.readUInt32BE(0);
}

/**
 * Generate one item (without rendering) from its spec and per-item seed. Pure.
 * @throws Error when no valid item is found in 1,000 draws (an impossible spec, e.g. a data property asked of the
 *   function task) or the spec is malformed
 */
export function makeChartItem(spec: ChartItemSpec, seed: number): ChartItem {
  if (!Number.isInteger(spec.complexity) || spec.complexity < 0 || spec.complexity > 9) throw new RangeError(`complexity must be an integer 0–9, got ${spec.complexity}`);
  if (spec.task === 'properties' && spec.complexity !== 0) throw new RangeError('the properties task has complexity 0');
  const rng = createRng(seed);
  for (let i = 0; i < 1000; i++) {
    const item = draw(spec, rng, seed);
    if (item) return item;
  }
  throw new Error(`no valid chart item for ${JSON.stringify(spec)} after 1000 draws`);
}

/** A rendered item: the sample (question, target, metadata), the PNG bytes and the SVG text. */
export interface ChartSample {
  sample: Sample;
  png: Buffer;
  svg: string;
}

/**
 * Render an item and build its sample.
 * - `sample.input`: the question text (the image is not a message content part yet: it is referenced by
 *   `metadata.image`, a path relative to the dataset file, and identified by `metadata.image_sha256`);
 * - `sample.target`: the rounded answer string;
 * - `sample.metadata`: generator, version, dataset and item seeds, task, category, property, precision,
 *   complexity, value (unrounded), values (per function or series), the generating functions, data and
 *   transforms, and the image's path, sha256, width and height in pixels.
 */
export function renderChartItem(item: ChartItem, id: string, datasetSeed: number, index: number): ChartSample {
  const svg = renderSvg(item.chart);
  const r = svgToPng(svg);
  const sample: Sample = {
    id,
    input: item.question,
    target: item.target,
    metadata: {
      generator: 'charts',
      version: CHARTS_GENERATOR_VERSION,
      seed: datasetSeed,
      index,
      item_seed: item.seed,
      task: item.spec.task,
      category: item.spec.category,
      property: item.spec.property,
      precision: item.spec.precision,
      complexity: item.spec.complexity,
      value: item.value,
      values: item.values,
      functions: item.functions,
      data: item.series,
      transforms: item.transforms,
      image: `images/${id}.png`,
      image_sha256: r.sha256,
      image_width: r.width,
      image_height: r.height,
    },
  };
  return { sample, png: r.png, svg };
}

/**
 * The item specs of a dataset of n items, mirroring GRAB's task × category × property × precision × complexity
 * distribution (distribution.ts): the 2,170 GRAB cells expanded to one spec per question, shuffled with the seed;
 * n = 2170 gives GRAB's counts exactly, n < 2170 a seeded sample without replacement of them (its proportions in
 * expectation), n > 2170 whole copies plus such a sample. `tasks` keeps only those tasks' questions first.
 * @throws RangeError for n not a non-negative integer; Error when the task filter leaves nothing
 */
export function chartSpecs(n: number, seed: number, opts: { tasks?: readonly ChartTask[] } = {}): ChartItemSpec[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  let cells: GrabCell[] = grabDistribution();
  if (opts.tasks?.length) cells = cells.filter((c) => opts.tasks!.includes(c.task));
  if (cells.length === 0) throw new Error('no chart questions for the chosen tasks');
  const all: ChartItemSpec[] = [];
  for (const c of cells) for (let i = 0; i < c.count; i++) all.push({ task: c.task, category: c.category, property: c.property, precision: c.precision, complexity: c.complexity });
  const rng = createRng(seed ^ 0x5eed);
  const shuffle = <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  };
  const specs: ChartItemSpec[] = [];
  for (let k = 0; k < Math.floor(n / all.length); k++) specs.push(...all);
  specs.push(...shuffle([...all]).slice(0, n % all.length));
  return shuffle(specs);
}

/** The id of the index-th sample of the dataset of a seed (`charts-<seed>-<index>`); its image is `images/<id>.png`. */
export function chartSampleId(seed: number, index: number): string {
  return `charts-${seed}-${index}`;
}

/**
 * Generate n rendered chart samples from a seed, lazily. Ids are `charts-<seed>-<index>`. Each render holds ~2 MB
 * of native memory until a garbage collection V8 does not know it needs: a consumer of more than a few hundred
 * charts should `await releaseRenderMemory()` (png.ts) every few dozen, as writeChartDataset does.
 * @param opts.tasks keep only these tasks (default all four, in GRAB's proportions)
 */
export function* generateCharts(n: number, seed: number, opts: { tasks?: readonly ChartTask[] } = {}): Generator<ChartSample> {
  const specs = chartSpecs(n, seed, opts);
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    const item = makeChartItem(spec, itemSeed(seed, i, spec));
    yield renderChartItem(item, chartSampleId(seed, i), seed, i);
  }
}
