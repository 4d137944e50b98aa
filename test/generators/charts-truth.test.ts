// Ground truth of the chart generator: hand-worked functions and series, then every property of every task recomputed
// independently (numerically, from densely sampled points of the same function; by brute force for data), which
// must agree with the generator's analytic value at the stated precision.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { polyRealRoots, polyExtrema, polyAbsIntegral } from '../../src/generators/charts/poly.ts';
import { functionExtrema, netArea, normalisedSine, stationaryPoints, totalArea, xIntercepts, type ChartFunction } from '../../src/generators/charts/functions.ts';
import { iqr, kendallTauB, mean, median, pearson, quantile, spearman, variance } from '../../src/generators/charts/stats.ts';
import { applyAffine, sequenceAffine, transformedProperties, type TransformOp } from '../../src/generators/charts/transforms.ts';
import { chartSpecs, formatAnswer, formatPolyEquation, formatSineEquation, itemSeed, makeChartItem, nearTie, precisionUnit, type ChartItem, type DataSeries } from '../../src/generators/charts/generate.ts';
import { grabDistribution } from '../../src/generators/charts/distribution.ts';
import type { PrecisionKind } from '../../src/generators/charts/types.ts';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// ---------------------------------------------------------------------------------------------------------------
// hand-worked

test('cubic x³ − 3x on [−3, 3]: stationary points ±1, extrema ±18, net area 0, total area 22.5', () => {
  const f: ChartFunction = { family: 'polynomial', coeffs: [0, -3, 0, 1], domain: [-3, 3] };
  const s = stationaryPoints(f);
  assert.equal(s.length, 2);
  close(s[0]!, -1, 1e-12);
  close(s[1]!, 1, 1e-12);
  assert.deepEqual(functionExtrema(f), { max: 18, min: -18 });
  close(netArea(f), 0, 1e-12);
  // ∫₀^√3 (3x − x³) dx = 9/4, ∫_√3^3 (x³ − 3x) dx = 9, doubled by symmetry
  close(totalArea(f), 22.5, 1e-9);
  const roots = xIntercepts(f);
  assert.equal(roots.length, 3);
  close(roots[0]!, -Math.sqrt(3), 1e-12);
  close(roots[1]!, 0, 1e-12);
  close(roots[2]!, Math.sqrt(3), 1e-12);
});

test('areas: ∫₀³ x² dx = 9; a double root is found; |x − 1| split at its root', () => {
  close(netArea({ family: 'polynomial', coeffs: [0, 0, 1], domain: [0, 3] }), 9, 1e-12);
  const r = polyRealRoots([1, -2, 1], -5, 5); // (x − 1)², touching zero
  assert.equal(r.length, 1);
  close(r[0]!, 1, 1e-7);
  close(polyAbsIntegral([-1, 1], 0, 3), 0.5 + 2, 1e-12);
  const e = polyExtrema([0, 0, -1], -2, 1);
  assert.deepEqual([e.max + 0, e.argmax, e.min, e.argmin], [0, 0, -4, -2]);
});

test('sine 2·sin(3x + 1) + 4: amplitude 2, period 2π/3, vertical shift 4; normalised phase of equivalent forms', () => {
  const f = { family: 'sine' as const, A: 2, B: 3, C: 1, D: 4, domain: [-10, 10] as [number, number] };
  const n = normalisedSine(f);
  assert.deepEqual(n, { A: 2, B: 3, C: 1, D: 4 });
  assert.deepEqual(functionExtrema(f), { max: 6, min: 2 });
  // −2 sin(3x + 1) = 2 sin(3x + 1 − π); 2 sin(−3x + 1) = 2 sin(3x − 1 + π)
  close(normalisedSine({ ...f, A: -2 }).C, 1 - Math.PI, 1e-12);
  const g = normalisedSine({ ...f, B: -3 });
  assert.equal(g.A, 2);
  assert.equal(g.B, 3);
  close(g.C, Math.PI - 1, 1e-12);
  // stationary points: 3x + 1 = π/2 + kπ
  const s = stationaryPoints(f);
  assert.equal(s.length, Math.floor((30 + 1 - Math.PI / 2) / Math.PI) - Math.ceil((-30 + 1 - Math.PI / 2) / Math.PI) + 1);
  for (const x of s) close(Math.cos(3 * x + 1), 0, 1e-12);
  // net area of sin on [0, π] is 2
  close(netArea({ family: 'sine', A: 1, B: 1, C: 0, D: 0, domain: [0, Math.PI] }), 2, 1e-12);
});

test('series statistics: median, quartiles (linear interpolation), IQR, population variance, correlations', () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8];
  assert.equal(median(xs), 4.5);
  assert.equal(quantile(xs, 0.25), 2.75); // NumPy: np.percentile(range(1, 9), 25) = 2.75
  assert.equal(quantile(xs, 0.75), 6.25);
  assert.equal(iqr(xs), 3.5);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(variance([2, 4, 4, 4, 5, 5, 7, 9]), 4); // the classic example: σ = 2
  assert.equal(mean([2, 4, 4, 4, 5, 5, 7, 9]), 5);
  close(pearson([1, 2, 3, 4], [2, 4, 6, 8]), 1, 1e-15);
  close(pearson([1, 2, 3, 4], [8, 6, 4, 2]), -1, 1e-15);
  close(spearman([1, 2, 3, 4, 5], [1, 8, 27, 64, 125]), 1, 1e-15); // monotone, not linear
  close(kendallTauB([1, 2, 3, 4, 5], [1, 3, 2, 5, 4]), 0.6, 1e-15); // C = 8, D = 2
  close(kendallTauB([1, 1, 2, 3], [1, 2, 2, 3]), 0.8, 1e-15); // τ-b with ties: 4 / √(5·5) (SciPy: 0.8)
  assert.throws(() => pearson([1, 2], [3, 3]), /constant/);
  assert.throws(() => mean([]), RangeError);
});

test('transforms: order of operations, rotation sense, the image of a line and of a parabola', () => {
  const m = sequenceAffine([{ op: 'translate', axis: 'x', by: 1 }, { op: 'scale', axis: 'x', factor: 2 }]);
  assert.deepEqual(applyAffine(m, 1, 0), [4, 0]); // (1+1)·2, not 1·2+1
  assert.deepEqual(applyAffine(sequenceAffine([{ op: 'rotate', degrees: 90 }]), 1, 0), [0, 1]); // anticlockwise
  assert.deepEqual(applyAffine(sequenceAffine([{ op: 'reflect-x', k: 3 }]), 1, 5), [5, 5]);
  assert.deepEqual(applyAffine(sequenceAffine([{ op: 'reflect', line: 'y=-x' }]), 1, 2), [-2, -1]);
  // y = 2x + 1 on [0, 2] rotated 90°: from (−1, 0) to (−5, 2), gradient −1/2, area of the trapezoid 4
  const p = transformedProperties([1, 2], 0, 2, sequenceAffine([{ op: 'rotate', degrees: 90 }]));
  close(p.gradient!, -0.5, 1e-15);
  close(p.net_area!, 4, 1e-12);
  close(p.total_area!, 4, 1e-12);
  close(p.domain_length, 4, 1e-12);
  close(p.range_span, 2, 1e-12);
  // y = x² on [0, 2] reflected in y = x is y = √x on [0, 4]: area 16/3
  const q = transformedProperties([0, 0, 1], 0, 2, sequenceAffine([{ op: 'reflect', line: 'y=x' }]));
  close(q.net_area!, 16 / 3, 1e-12);
  assert.equal(q.gradient, null); // not a line
  // y = x² on [−1, 2] rotated 90° is not the graph of a function: no area
  const r = transformedProperties([0, 0, 1], -1, 2, sequenceAffine([{ op: 'rotate', degrees: 90 }]));
  assert.equal(r.net_area, null);
  // a horizontal line rotated 90° is vertical: no gradient
  assert.equal(transformedProperties([3, 0], 0, 1, sequenceAffine([{ op: 'rotate', degrees: 270 }])).gradient, null);
});

test('answers are rounded half away from zero and written as GRAB writes them', () => {
  assert.equal(formatAnswer(2.5, 'int'), '3');
  assert.equal(formatAnswer(-2.5, 'int'), '-3');
  assert.equal(formatAnswer(-0.04, '1dp'), '0.0');
  assert.equal(formatAnswer(-0.4, 'int'), '0');
  assert.equal(formatAnswer(5, '1dp'), '5.0');
  assert.equal(formatAnswer(0.25, '1dp'), '0.3');
  assert.equal(formatAnswer(124.9, 'nearest10'), '120');
  assert.equal(formatAnswer(-125, 'nearest10'), '-130');
  assert.ok(nearTie(2.5000000001, 'int'));
  assert.ok(!nearTie(2.51, 'int'));
  assert.equal(formatPolyEquation([0, -2, 5, 2]), 'y = 0x^3 - 2x^2 + 5x + 2');
  assert.equal(formatPolyEquation([-1, -3]), 'y = -1x - 3');
  assert.equal(formatSineEquation(2, 9, -7, 6), 'y = 2sin(9x - 7) + 6');
});

// ---------------------------------------------------------------------------------------------------------------
// independent numeric recomputation

function evalF(f: ChartFunction, x: number): number {
  if (f.family === 'polynomial') {
    let y = 0, xi = 1; // Σ cᵢ xⁱ term by term (not Horner's rule, as the generator uses)
    for (const c of f.coeffs) {
      y += c * xi;
      xi *= x;
    }
    return y;
  }
  if (f.family === 'sine') return f.A * Math.sin(f.B * x + f.C) + f.D;
  return f.H * Math.exp(-((x - f.mu) ** 2) / (2 * f.sigma ** 2));
}

const N = 5_000;
function grid(a: number, b: number, n = N): number[] {
  const out = new Array<number>(n + 1);
  for (let i = 0; i <= n; i++) out[i] = a + ((b - a) * i) / n;
  return out;
}

function trapz(xs: number[], ys: number[]): number {
  let s = 0;
  for (let i = 1; i < xs.length; i++) s += ((xs[i]! - xs[i - 1]!) * (ys[i]! + ys[i - 1]!)) / 2;
  return s;
}

/** Sign changes of ys along xs, located by linear interpolation. */
function crossings(xs: number[], ys: number[], up?: boolean): number[] {
  const out: number[] = [];
  for (let i = 1; i < xs.length; i++) {
    const a = ys[i - 1]!, b = ys[i]!;
    if ((a < 0 && b >= 0 && up !== false) || (a > 0 && b <= 0 && up !== true)) out.push(xs[i - 1]! + ((xs[i]! - xs[i - 1]!) * a) / (a - b));
  }
  return out;
}

function numericFunctionValue(f: ChartFunction, p: string): number | number[] {
  const [a, b] = f.domain;
  const xs = grid(a, b), ys = xs.map((x) => evalF(f, x));
  let max = -Infinity, min = Infinity;
  for (const y of ys) {
    if (y > max) max = y;
    if (y < min) min = y;
  }
  switch (p) {
    case 'max': return max;
    case 'min': return min;
    case 'domain_length': return b - a;
    case 'range_span': return max - min;
    case 'net_area': return trapz(xs, ys);
    case 'total_area': return trapz(xs, ys.map(Math.abs));
    case 'gradient': return (evalF(f, b) - evalF(f, a)) / (b - a);
    case 'y_intercept': return evalF(f, 0);
    case 'x_intercept': return crossings(xs, ys)[0]!;
    case 'stationary_x':
    case 'stationary_pair': {
      const d = ys.slice(1).map((y, i) => y - ys[i]!);
      const s = crossings(xs.slice(1).map((x, i) => (x + xs[i]!) / 2), d);
      return p === 'stationary_x' ? s[0]! : s;
    }
    case 'peak': {
      // the grid's argmax refined by the vertex of the parabola through it and its neighbours
      const i = ys.indexOf(max), h = xs[1]! - xs[0]!;
      const l = ys[i - 1]!, r = ys[i + 1]!;
      return xs[i]! + (h / 2) * ((l - r) / (l - 2 * max + r));
    }
    case 'variance_function': {
      const g = f as Extract<ChartFunction, { family: 'gaussian' }>;
      const ws = grid(g.mu - 12 * g.sigma, g.mu + 12 * g.sigma), vs = ws.map((x) => evalF(f, x));
      const m0 = trapz(ws, vs), m1 = trapz(ws, ws.map((x, i) => x * vs[i]!)) / m0;
      return trapz(ws, ws.map((x, i) => (x - m1) ** 2 * vs[i]!)) / m0;
    }
    case 'amplitude': return (max - min) / 2;
    case 'vertical_shift': return (max + min) / 2;
    case 'period':
    case 'phase_shift': {
      const mid = (max + min) / 2;
      const ups = crossings(xs, ys.map((y) => y - mid), true);
      const P = (ups[ups.length - 1]! - ups[0]!) / (ups.length - 1);
      if (p === 'period') return P;
      const h = ups[0]! - P * Math.round(ups[0]! / P);
      return h >= P / 2 - 1e-6 ? h - P : h;
    }
  }
  throw new Error(`no numeric check for ${p}`);
}

function bruteQuantile(v: number[], q: number): number {
  const s = [...v].sort((x, y) => x - y);
  const pos = (s.length - 1) * q, lo = Math.floor(pos);
  return lo + 1 < s.length ? s[lo]! * (1 - (pos - lo)) + s[lo + 1]! * (pos - lo) : s[lo]!;
}

function numericSeriesValue(s: DataSeries, p: string): number {
  const n = s.ys.length;
  const avg = (v: number[]) => v.reduce((t, x) => t + x, 0) / v.length;
  const corr = (u: number[], v: number[]) => {
    const mu = avg(u), mv = avg(v);
    const cov = u.reduce((t, x, i) => t + (x - mu) * (v[i]! - mv), 0);
    return cov / Math.sqrt(u.reduce((t, x) => t + (x - mu) ** 2, 0) * v.reduce((t, x) => t + (x - mv) ** 2, 0));
  };
  const rank = (v: number[]) => v.map((x) => v.filter((y) => y < x).length + (v.filter((y) => y === x).length + 1) / 2);
  switch (p) {
    case 'max_data': return s.ys.reduce((m, y) => (y > m ? y : m), -Infinity);
    case 'min_data': return s.ys.reduce((m, y) => (y < m ? y : m), Infinity);
    case 'domain_length_data': return s.xs.reduce((m, x) => Math.max(m, x), -Infinity) - s.xs.reduce((m, x) => Math.min(m, x), Infinity);
    case 'range_span_data': return s.ys.reduce((m, y) => Math.max(m, y), -Infinity) - s.ys.reduce((m, y) => Math.min(m, y), Infinity);
    case 'mean': return avg(s.ys);
    case 'median': return bruteQuantile(s.ys, 0.5);
    case 'iqr': return bruteQuantile(s.ys, 0.75) - bruteQuantile(s.ys, 0.25);
    case 'variance': return avg(s.ys.map((y) => (y - avg(s.ys)) ** 2));
    case 'pearson': return corr(s.xs, s.ys);
    case 'spearman': return corr(rank(s.xs), rank(s.ys));
    case 'kendall': {
      let c = 0, d = 0, tx = 0, ty = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) {
        const dx = s.xs[i]! - s.xs[j]!, dy = s.ys[i]! - s.ys[j]!;
        if (dx === 0) tx++;
        if (dy === 0) ty++;
        if (dx * dy > 0) c++;
        else if (dx * dy < 0) d++;
      }
      const n0 = (n * (n - 1)) / 2;
      return (c - d) / Math.sqrt((n0 - tx) * (n0 - ty));
    }
  }
  throw new Error(`no numeric check for ${p}`);
}

/** Each operation applied to a point directly (not through the composed affine map). */
function applyOp(o: TransformOp, [x, y]: [number, number]): [number, number] {
  switch (o.op) {
    case 'rotate': {
      const t = (o.degrees * Math.PI) / 180;
      const c = Math.round(Math.cos(t)), s = Math.round(Math.sin(t));
      return [x * c - y * s, x * s + y * c];
    }
    case 'reflect':
      return o.line === 'x-axis' ? [x, -y] : o.line === 'y-axis' ? [-x, y] : o.line === 'y=x' ? [y, x] : [-y, -x];
    case 'reflect-x': return [2 * o.k - x, y];
    case 'reflect-y': return [x, 2 * o.k - y];
    case 'scale': return o.axis === 'x' ? [x * o.factor, y] : [x, y * o.factor];
    case 'translate': return o.axis === 'x' ? [x + o.by, y] : [x, y + o.by];
  }
}

function numericTransformValue(item: ChartItem, p: string): number {
  const f = item.functions[0]!;
  const pts = grid(f.domain[0], f.domain[1]).map((x) => item.transforms.reduce((q, o) => applyOp(o, q), [x, evalF(f, x)] as [number, number]));
  const X = pts.map((q) => q[0]), Y = pts.map((q) => q[1]);
  const ext = (v: number[]) => [v.reduce((m, x) => Math.min(m, x), Infinity), v.reduce((m, x) => Math.max(m, x), -Infinity)] as const;
  switch (p) {
    case 'max': return ext(Y)[1];
    case 'min': return ext(Y)[0];
    case 'domain_length': return ext(X)[1] - ext(X)[0];
    case 'range_span': return ext(Y)[1] - ext(Y)[0];
    case 'gradient': return (Y[Y.length - 1]! - Y[0]!) / (X[X.length - 1]! - X[0]!);
    case 'net_area':
    case 'total_area': {
      const order = X[X.length - 1]! >= X[0]! ? pts : [...pts].reverse();
      assert.ok(order.every((q, i) => i === 0 || q[0] >= order[i - 1]![0]), 'the transformed graph is a function of x');
      const xs = order.map((q) => q[0]), ys = order.map((q) => (p === 'net_area' ? q[1] : Math.abs(q[1])));
      return trapz(xs, ys);
    }
  }
  throw new Error(`no numeric check for ${p}`);
}

/** The numeric value agrees with the analytic one well within the precision, and rounds to the target. */
function agrees(numeric: number, item: ChartItem, precision: PrecisionKind, label: string): void {
  const unit = precisionUnit(precision);
  const value = item.value as number;
  const tol = Math.max(0.01 * unit, 1e-6 * Math.abs(value));
  assert.ok(Math.abs(numeric - value) <= tol, `${label}: numeric ${numeric} vs analytic ${value}`);
  const frac = Math.abs(numeric) / unit - Math.floor(Math.abs(numeric) / unit);
  if (Math.abs(frac - 0.5) > 0.02) assert.equal(formatAnswer(numeric, precision), item.target, `${label}: target`);
}

test('every property of every task: the analytic ground truth agrees with an independent numeric recomputation', () => {
  const cells = grabDistribution();
  let checked = 0;
  const seen = new Set<string>();
  for (const cell of cells) {
    for (let rep = 0; rep < 3; rep++) {
      const spec = { task: cell.task, category: cell.category, property: cell.property, precision: cell.precision, complexity: cell.complexity };
      const item = makeChartItem(spec, itemSeed(11, rep, spec));
      const label = `${cell.task}/${cell.property}/${cell.precision}/c${cell.complexity}#${rep}`;
      seen.add(`${cell.task}/${cell.property}`);
      const p = cell.property;
      if (p === 'count_points') {
        assert.equal(String(item.series[0]!.xs.length), item.target);
        assert.equal(new Set(item.series[0]!.xs.map((x, i) => `${x},${item.series[0]!.ys[i]}`)).size, item.series[0]!.xs.length, 'points are distinct');
      } else if (p === 'count_series') {
        assert.equal(String(item.series.length), item.target);
        assert.ok(item.series.length >= 1 && item.series.length <= 10);
      } else if (p.startsWith('equation_')) {
        // the written equation, read back, is the plotted function at every x
        const f = item.functions[0]!;
        const coeffs = item.value as number[];
        for (const x of [-2, -0.5, 0, 1.3, 2]) {
          const y = p === 'equation_sine' ? coeffs[0]! * Math.sin(coeffs[1]! * x + coeffs[2]!) + coeffs[3]! : coeffs.reduce((s, c) => s * x + c, 0);
          close(y, evalF(f, x), 1e-9);
        }
        assert.ok(coeffs.every(Number.isInteger));
        if (p === 'equation_sine') assert.equal(item.target, formatSineEquation(coeffs[0]!, coeffs[1]!, coeffs[2]!, coeffs[3]!));
        else assert.equal(item.target, formatPolyEquation(coeffs));
      } else if (p === 'stationary_pair') {
        const s = numericFunctionValue(item.functions[0]!, p) as number[];
        assert.equal(s.length, 2, label);
        const v = item.value as number[];
        close(s[0]!, v[0]!, 1e-3);
        close(s[1]!, v[1]!, 1e-3);
        assert.equal(item.target, `[${formatAnswer(s[0]!, 'int')}, ${formatAnswer(s[1]!, 'int')}]`);
      } else if (cell.task === 'transform') {
        agrees(numericTransformValue(item, p), item, cell.precision, label);
        assert.equal(item.transforms.length, cell.complexity);
      } else if (item.series.length) {
        const vals = item.series.map((s) => numericSeriesValue(s, p));
        if (cell.task === 'series') assert.equal(item.series.length, cell.complexity + 1);
        agrees(vals.reduce((t, x) => t + x, 0) / vals.length, item, cell.precision, label);
      } else {
        const vals = item.functions.map((f) => numericFunctionValue(f, p) as number);
        if (cell.task === 'function') assert.equal(item.functions.length, cell.complexity + 1);
        agrees(vals.reduce((t, x) => t + x, 0) / vals.length, item, cell.precision, label);
      }
      // the question states the precision
      const sentence = { int: /as an integer/, '1dp': /to 1 decimal place/, nearest10: /to the nearest 10/, equation: /where .*integer/ }[cell.precision];
      assert.match(item.question, sentence, label);
      checked++;
    }
  }
  assert.equal(checked, cells.length * 3);
  assert.equal(seen.size, 66); // every (task, property) pair of GRAB
});

// ---------------------------------------------------------------------------------------------------------------
// the distribution

const shared = process.env.ASSAY_SHARED ?? join(import.meta.dirname, '../../../shared');
const grabFile = join(shared, 'data/grab/grab.json');

test('the embedded distribution has GRAB\'s 2,170 questions and task totals', () => {
  const cells = grabDistribution();
  const total = (t?: string) => cells.filter((c) => !t || c.task === t).reduce((s, c) => s + c.count, 0);
  assert.equal(total(), 2170);
  assert.deepEqual([total('function'), total('properties'), total('series'), total('transform')], [710, 660, 490, 310]);
  assert.ok(cells.filter((c) => c.task === 'properties').every((c) => c.complexity === 0));
  // n = 2170 mirrors it exactly; fewer is a sample of it
  const specs = chartSpecs(2170, 5);
  const count = (k: (s: (typeof specs)[number]) => string) => specs.reduce((m, s) => m.set(k(s), (m.get(k(s)) ?? 0) + 1), new Map<string, number>());
  const byCell = count((s) => `${s.task}|${s.property}|${s.precision}|${s.complexity}`);
  for (const c of cells) assert.equal(byCell.get(`${c.task}|${c.property}|${c.precision}|${c.complexity}`), c.count);
  assert.equal(chartSpecs(100, 5).length, 100);
  assert.equal(chartSpecs(4400, 5).length, 4400);
  assert.deepEqual(chartSpecs(50, 5), chartSpecs(50, 5));
  assert.notDeepEqual(chartSpecs(50, 5), chartSpecs(50, 6));
});

test('the embedded distribution matches the shared GRAB file (task × category × complexity)', { skip: !existsSync(grabFile) && 'shared GRAB file not found' }, () => {
  const rows = Object.values(JSON.parse(readFileSync(grabFile, 'utf8')) as Record<string, { task: string; category: string; complexity: number; question: string }>);
  const want = new Map<string, number>();
  for (const r of rows) {
    const k = `${r.task}|${r.category}|${r.complexity}`;
    want.set(k, (want.get(k) ?? 0) + 1);
  }
  const got = new Map<string, number>();
  for (const c of grabDistribution()) {
    const k = `${c.task}|${c.category}|${c.complexity}`;
    got.set(k, (got.get(k) ?? 0) + c.count);
  }
  assert.deepEqual([...got.entries()].sort(), [...want.entries()].sort());
  // precision split per (task, category)
  const prec = (q: string) => (/equation of the function/.test(q) ? 'equation' : /as an integer/.test(q) ? 'int' : /1 decimal/.test(q) ? '1dp' : /nearest 10/.test(q) ? 'nearest10' : 'equation');
  const wantP = new Map<string, number>(), gotP = new Map<string, number>();
  for (const r of rows) wantP.set(`${r.task}|${r.category}|${prec(r.question)}`, (wantP.get(`${r.task}|${r.category}|${prec(r.question)}`) ?? 0) + 1);
  for (const c of grabDistribution()) gotP.set(`${c.task}|${c.category}|${c.precision}`, (gotP.get(`${c.task}|${c.category}|${c.precision}`) ?? 0) + c.count);
  assert.deepEqual([...gotP.entries()].sort(), [...wantP.entries()].sort());
});
