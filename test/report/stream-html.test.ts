/**
 * The stream report's trajectory plots (src/report/stream-html.ts, src/report/svg.ts `trajectoryPlot`): one point per
 * checkpoint where a metric has a value, drawn at the height of that value on the plot's own y axis (read back from
 * its tick marks), its interval bar spanning the bounds, bands between neighbouring intervals, and a hollow point
 * (no bar) where the interval is undefined.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StreamTable } from '../../src/analyses/stream.ts';
import { continualReport, type StreamTaskRole } from '../../src/stats/continual.ts';
import { renderStreamReport, streamTrajectoryPlots } from '../../src/report/stream-html.ts';

// 4 checkpoints × (A adapt @1, B adapt @2, Z held out), 20 samples per task with fixed 0/1 patterns.
const n = 20;
const col = (k: number) => Array.from({ length: n }, (_, i) => (i < k ? 1 : 0));
const scores = [
  [col(4), col(15), col(12), col(10)], // A
  [col(6), col(8), col(16), col(14)], // B
  [col(16), col(15), col(13), col(9)], // Z
];
const roles: StreamTaskRole[] = [{ role: 'adaptation', introduced: 1 }, { role: 'adaptation', introduced: 2 }, { role: 'zero-shot' }];
const names = ['base', 'step1', 'step2', 'step3'];

function tableOf(interval?: 'percentile-bootstrap'): StreamTable {
  const report = continualReport(scores, roles, { replicates: 400, seed: 1, interval });
  return {
    stream_id: 'abcdef0123456789', name: 'demo', status: 'complete', checkpoints: names.map((name, i) => ({ name, model: `llama-cpp:/m/ckpt${i}.gguf` })),
    columns: ['A@1', 'B@1', 'Z@1'].map((task, j) => ({ task, role: roles[j]!, scorer: 'acc', samples: n })), runs: names.map((_, c) => ['A', 'B', 'Z'].map((t) => `run-${t}-${c}`)),
    report, order: null, subset: null,
  };
}

/** Points, interval bars and the y axis (tick label → pixel) of one SVG. */
function parse(svg: string) {
  const attr = (tag: string, name: string) => tag.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];
  const points = [...svg.matchAll(/<circle class="mark point"[^>]*>/g)].map((m) => ({
    series: attr(m[0], 'data-series')!, row: Number(attr(m[0], 'data-row')), value: Number(attr(m[0], 'data-value')),
    lo: attr(m[0], 'data-lo'), hi: attr(m[0], 'data-hi'), cy: Number(attr(m[0], 'cy')), fill: attr(m[0], 'fill'),
  }));
  const bars = [...svg.matchAll(/<line class="mark ci"[^>]*>/g)].map((m) => ({ y1: Number(attr(m[0], 'y1')), y2: Number(attr(m[0], 'y2')) }));
  const ticks = [...svg.matchAll(/<g class="tick"><line [^>]*y1="([\d.]+)"[^>]*\/><text[^>]*>([^<]+)<\/text><\/g>/g)].map((m) => ({ y: Number(m[1]), label: m[2]! }));
  const bands = [...svg.matchAll(/<polygon class="mark band" data-series="([^"]*)"/g)].map((m) => m[1]!);
  return { points, bars, ticks, bands };
}

/** The pixel height of value v on an axis given by two of its ticks (linear). */
const pixelOf = (ticks: { y: number; v: number }[], v: number) => {
  const [a, b] = [ticks[0]!, ticks[ticks.length - 1]!];
  return a.y + ((v - a.v) / (b.v - a.v)) * (b.y - a.y);
};

it('proportions plot: one point per checkpoint with a value, at the height of the value; bars span the interval; bands join neighbours', () => {
  const t = tableOf();
  const { points, bars, ticks, bands } = parse(streamTrajectoryPlots(t).proportions);
  const axis = ticks.map((k) => ({ y: k.y, v: Number(k.label.replace('%', '')) / 100 }));
  assert.deepEqual(axis.map((a) => a.v), [0, 0.25, 0.5, 0.75, 1]);
  const series = { 'knowledge accumulation': t.report.accumulation, 'zero-shot accuracy': t.report.zero_shot, 'geometric mean': t.report.geometric_mean };
  for (const [name, est] of Object.entries(series)) {
    const mine = points.filter((p) => p.series === name);
    const rows = est.flatMap((e, c) => (e.value === null ? [] : [c]));
    assert.deepEqual(mine.map((p) => p.row), rows, name);
    for (const p of mine) {
      const e = est[p.row]!;
      assert.equal(p.value, e.value);
      assert.ok(Math.abs(p.cy - pixelOf(axis, e.value!)) <= 0.11, `${name} @${p.row}: cy ${p.cy}, expected ${pixelOf(axis, e.value!)}`);
      assert.equal(Number(p.lo), e.ci95!.lo);
      assert.equal(Number(p.hi), e.ci95!.hi);
    }
  }
  // Zero-shot accuracy at every checkpoint (Z: 16, 15, 13, 9 of 20); accumulation from row 1 (A alone: 15/20).
  assert.deepEqual(points.filter((p) => p.series === 'zero-shot accuracy').map((p) => p.value), [0.8, 0.75, 0.65, 0.45]);
  assert.equal(points.find((p) => p.series === 'knowledge accumulation' && p.row === 1)!.value, 0.75);
  // One bar per point, from the upper to the lower bound.
  assert.equal(bars.length, points.length);
  for (const p of points) {
    const bar = bars.find((b) => Math.abs(b.y1 - pixelOf(axis, Number(p.lo))) <= 0.11 && Math.abs(b.y2 - pixelOf(axis, Number(p.hi))) <= 0.11);
    assert.ok(bar, `no interval bar for ${p.series} @${p.row}`);
  }
  assert.deepEqual(bands.sort(), ['geometric mean', 'knowledge accumulation', 'zero-shot accuracy']);
});

it('retention and change plots: linear axes read back from their ticks; reference lines; forgetting from row 2', () => {
  const t = tableOf();
  const plots = streamTrajectoryPlots(t);
  const ret = parse(plots.retention);
  const rAxis = ret.ticks.map((k) => ({ y: k.y, v: Number(k.label) }));
  assert.deepEqual(ret.points.map((p) => p.row), [0, 1, 2, 3]);
  ret.points.forEach((p) => assert.ok(Math.abs(p.cy - pixelOf(rAxis, t.report.retention[p.row]!.value!)) <= 0.11));
  assert.equal(ret.points[3]!.value, 9 / 16);
  assert.match(plots.retention, /<line class="reference"/);
  const ch = parse(plots.change);
  const cAxis = ch.ticks.map((k) => ({ y: k.y, v: Number(k.label) }));
  const f = ch.points.filter((p) => p.series === 'forgetting');
  assert.deepEqual(f.map((p) => p.row), [2, 3]);
  // Forgetting at row 3: A: max(15, 12)/20 − 10/20 = 0.25; B: 16/20 − 14/20 = 0.1 (only B's row 2 counts) → 0.175.
  assert.ok(Math.abs(f[1]!.value - 0.175) < 1e-12);
  for (const p of ch.points) {
    const series = p.series === 'forgetting' ? t.report.forgetting : p.series === 'backward transfer so far' ? t.report.backward_transfer : t.report.forward_transfer;
    assert.ok(Math.abs(p.cy - pixelOf(cAxis, series[p.row]!.value!)) <= 0.11, `${p.series} @${p.row}`);
  }
});

it('a point whose interval is undefined is hollow, has no bar, and says why; the page carries the three plots and the notes', () => {
  // Every sample right at every checkpoint of A and B: the percentile bootstrap cannot vary there.
  const ones = Array.from({ length: n }, () => 1);
  const report = continualReport([[ones, ones, ones, ones], [ones, ones, ones, ones], scores[2]!], roles, { replicates: 300, seed: 2, interval: 'percentile-bootstrap' });
  const t = { ...tableOf(), report };
  const { points, bars } = parse(streamTrajectoryPlots(t).proportions);
  const acc = points.filter((p) => p.series === 'knowledge accumulation');
  assert.deepEqual(acc.map((p) => [p.row, p.value, p.lo, p.fill]), [[1, 1, '', '#fff'], [2, 1, '', '#fff'], [3, 1, '', '#fff']]);
  assert.equal(bars.length, points.filter((p) => p.lo !== '').length);
  const html = renderStreamReport(t, { now: new Date(0) });
  assert.equal(html.match(/<svg class="plot trajectory"/g)?.length, 3);
  assert.match(html, /no interval: interval undefined: every draw gives the same value/);
  assert.match(html, /<table class="matrix">/);
  assert.match(html, /100\.0% \[—\]/);
});
