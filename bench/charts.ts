/**
 * Chart generator benchmark (not a test; figures, not assertions): N charts (default 1,000) generated in GRAB's
 * mix, with the time per chart split into the item (parameters and analytic ground truth), the SVG text, resvg's
 * rasterisation, its PNG encoding and the periodic release of resvg's native memory; PNG sizes (mean, median, max), charts per second, peak memory (max RSS).
 *
 *   node --import tsx bench/charts.ts [--n 1000] [--seed 0] [--out bench/out/charts.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Resvg } from '@resvg/resvg-js';
import { chartFontPath, chartSpecs, FONT_FAMILY, itemSeed, makeChartItem, releaseRenderMemory, renderSvg } from '../src/generators/charts/index.ts';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const N = Number(arg('n', '1000'));
const SEED = Number(arg('seed', '0'));
const OUT = arg('out', 'bench/out/charts.json');

const specs = chartSpecs(N, SEED);
const t = { item: 0, svg: 0, raster: 0, encode: 0, release: 0 };
const sizes: number[] = [];
const byTask: Record<string, { n: number; ms: number; bytes: number }> = {};
const t0 = performance.now();
for (let i = 0; i < specs.length; i++) {
  const spec = specs[i]!;
  const a = performance.now();
  const item = makeChartItem(spec, itemSeed(SEED, i, spec));
  const b = performance.now();
  const svg = renderSvg(item.chart);
  const c = performance.now();
  // the same options as png.ts's svgToPng, with the two resvg stages timed apart
  const img = new Resvg(svg, { font: { loadSystemFonts: false, fontFiles: [chartFontPath()], defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY }, fitTo: { mode: 'original' }, background: '#ffffff', logLevel: 'off' }).render();
  const d = performance.now();
  const png = img.asPng();
  const e = performance.now();
  t.item += b - a;
  t.svg += c - b;
  t.raster += d - c;
  t.encode += e - d;
  sizes.push(png.length);
  const k = (byTask[spec.task] ??= { n: 0, ms: 0, bytes: 0 });
  k.n++;
  k.ms += e - a;
  k.bytes += png.length;
  if ((i + 1) % 32 === 0) {
    const f = performance.now();
    await releaseRenderMemory(); // as writeChartDataset does: resvg's native pixels are freed only after a GC
    t.release += performance.now() - f;
  }
}
const total = performance.now() - t0;
sizes.sort((x, y) => x - y);
const per = (ms: number) => Number((ms / N).toFixed(2));
const result = {
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  date: new Date().toISOString(),
  n: N,
  seed: SEED,
  total_s: Number((total / 1000).toFixed(1)),
  charts_per_s: Number(((N * 1000) / total).toFixed(1)),
  ms_per_chart: { total: per(total), item: per(t.item), svg: per(t.svg), rasterise: per(t.raster), png_encode: per(t.encode), release_memory: per(t.release) },
  png_bytes: { mean: Math.round(sizes.reduce((s, x) => s + x, 0) / N), median: sizes[Math.floor(N / 2)], max: sizes[N - 1], min: sizes[0] },
  by_task: Object.fromEntries(Object.entries(byTask).map(([k, v]) => [k, { n: v.n, ms_per_chart: Number((v.ms / v.n).toFixed(1)), mean_png_bytes: Math.round(v.bytes / v.n) }])),
  max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
