// The chart renderer: nice ticks, SVG text (escaping, determinism), PNG bytes (IHDR size, not blank, font drawn),
// golden hashes per chart type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { niceNumber, niceTicks, tickLabel } from '../../src/generators/charts/ticks.ts';
import { escapeXml, layoutChart, renderSvg, sampleFunction, type ChartSpec } from '../../src/generators/charts/svg.ts';
import { chartFontPath, pngSize, svgToPixels, svgToPng } from '../../src/generators/charts/png.ts';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

function nonWhite(pixels: Buffer): number {
  let n = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i]! < 250 || pixels[i + 1]! < 250 || pixels[i + 2]! < 250) n++;
  return n;
}

test('niceNumber: 1, 2, 2.5, 5, 10 times a power of ten', () => {
  assert.equal(niceNumber(0.7, true), 0.5);
  assert.equal(niceNumber(1.4, true), 1);
  assert.equal(niceNumber(3, true), 2.5);
  assert.equal(niceNumber(6, true), 5);
  assert.equal(niceNumber(8, true), 10);
  assert.equal(niceNumber(11.1, false), 20);
  assert.equal(niceNumber(230, false), 250);
  assert.throws(() => niceNumber(0, true), RangeError);
});

test('niceTicks: snapped outwards to multiples of a nice step', () => {
  const t = niceTicks(0, 10, 6);
  assert.equal(t.step, 2);
  assert.deepEqual(t.values, [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(t.labels, ['0', '2', '4', '6', '8', '10']);
  const u = niceTicks(-3.2, 7.9, 8);
  assert.equal(u.step, 2.5);
  assert.deepEqual(u.values, [-5, -2.5, 0, 2.5, 5, 7.5, 10]);
  assert.deepEqual(u.labels, ['\u22125.0', '\u22122.5', '0.0', '2.5', '5.0', '7.5', '10.0']);
  const v = niceTicks(0.013, 0.087, 5);
  assert.equal(v.step, 0.025);
  assert.deepEqual(v.values, [0, 0.025, 0.05, 0.075, 0.1]);
  assert.deepEqual(niceTicks(3, 3).values.length > 1, true); // a degenerate range is widened
  assert.equal(tickLabel(-0.0001, 2), '0.00'); // no negative zero
});

test('escapeXml escapes the five special characters; hostile labels stay text', () => {
  assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  const svg = renderSvg({ title: '</text><script>alert(1)</script>', xLabel: 'x & y', yLabel: '"q"', series: [{ kind: 'line', name: "<b>it's</b>", points: [[0, 0], [1, 1]] }] });
  assert.ok(!svg.includes('<script>'));
  assert.ok(svg.includes('&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(svg.includes('x &amp; y'));
  assert.ok(svg.includes('&lt;b&gt;it&apos;s&lt;/b&gt;'));
  const png = svgToPng(svg); // resvg parses it: the escaping made well-formed XML
  assert.deepEqual(pngSize(png.png), { width: 800, height: 600 });
});

test('layout maps data to pixels inside the plot rectangle', () => {
  const L = layoutChart({ xRange: [0, 10], yRange: [0, 10], series: [] });
  assert.equal(L.px(L.xTicks.min), L.plot.left);
  assert.equal(L.px(L.xTicks.max), L.plot.right);
  assert.equal(L.py(L.yTicks.min), L.plot.bottom);
  assert.equal(L.py(L.yTicks.max), L.plot.top);
});

const LINE: ChartSpec = { xLabel: 'x', yLabel: 'y', series: [{ kind: 'line', points: sampleFunction((x) => x ** 3 - 3 * x, -3, 3, 200) }] };
const SCATTER: ChartSpec = { series: [{ kind: 'scatter', points: [[1, 2], [2, 3.5], [3, 1], [4, 4.2], [5, 2.2]], marker: 'square' }] };
const MULTI: ChartSpec = {
  title: 'Several series',
  series: [
    { kind: 'line', name: 'sin', points: sampleFunction(Math.sin, -6, 6, 200) },
    { kind: 'line', name: 'cos', points: sampleFunction(Math.cos, -6, 6, 200), dash: [8, 4] },
    { kind: 'scatter', name: 'data', points: [[-4, 0.5], [0, -0.5], [4, 0.9]], marker: 'triangle' },
    { kind: 'scatter', name: 'more', points: [[-2, -0.9], [2, 0.2]], marker: 'diamond' },
  ],
};

test('PNG: IHDR gives the fixed size; the image is not blank; the bundled font draws text', () => {
  assert.match(chartFontPath(), /dejavu-fonts-ttf[\\/]ttf[\\/]DejaVuSans\.ttf$/);
  const r = svgToPng(renderSvg(LINE));
  assert.deepEqual(r.png.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  assert.equal(r.png.toString('latin1', 12, 16), 'IHDR');
  assert.equal(r.png.readUInt32BE(16), 800);
  assert.equal(r.png.readUInt32BE(20), 600);
  assert.deepEqual(pngSize(r.png), { width: 800, height: 600 });
  assert.equal(r.sha256, sha(r.png));
  const px = svgToPixels(renderSvg(LINE));
  assert.equal(px.pixels.length, 800 * 600 * 4);
  const ink = nonWhite(px.pixels);
  assert.ok(ink > 10_000 && ink < 200_000, `ink ${ink}`);
  // text alone: with system fonts off, pixels appear only if the bundled font was loaded
  const text = svgToPixels('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"><text x="5" y="30" font-family="DejaVu Sans" font-size="20">Assay 123</text></svg>');
  assert.ok(nonWhite(text.pixels) > 200, 'text is drawn');
  assert.throws(() => pngSize(Buffer.from('not a png at all, really not')), /not a PNG/);
});

test('the line series is drawn in its colour where the function is', () => {
  const spec: ChartSpec = { xRange: [-1, 1], yRange: [-1, 1], grid: false, series: [{ kind: 'line', points: [[-1, 0.5], [1, 0.5]], color: '#ff0000', width: 4 }] };
  const L = layoutChart(spec);
  const { pixels, width } = svgToPixels(renderSvg(spec));
  const at = (x: number, y: number) => {
    const i = (Math.round(L.py(y)) * width + Math.round(L.px(x))) * 4;
    return [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!];
  };
  assert.deepEqual(at(0.3, 0.5), [255, 0, 0]);
  assert.deepEqual(at(0.3, -0.5), [255, 255, 255]);
});

test('the same spec gives the same SVG and PNG bytes; a different spec differs', () => {
  const a = svgToPng(renderSvg(MULTI)), b = svgToPng(renderSvg(MULTI));
  assert.equal(a.sha256, b.sha256);
  assert.ok(a.png.equals(b.png));
  const c = svgToPng(renderSvg({ ...MULTI, title: 'Several series.' }));
  assert.notEqual(a.sha256, c.sha256);
});

// Golden hashes: a change means the renderer's output changed (bump CHARTS_GENERATOR_VERSION) or resvg did
// (it is pinned at 2.6.2). The SVG hashes are platform-independent text; the PNG hashes also depend on resvg.
test('golden hashes per chart type (line, scatter, several series with legend)', () => {
  const got = Object.fromEntries(Object.entries({ line: LINE, scatter: SCATTER, multi: MULTI }).map(([k, spec]) => {
    const svg = renderSvg(spec);
    return [k, { svg: sha(svg).slice(0, 16), png: svgToPng(svg).sha256.slice(0, 16) }];
  }));
  assert.deepEqual(got, GOLDEN);
});

const GOLDEN = {
  line: { svg: 'eb1f5c39549b563d', png: '79cfc292314e6cf3' },
  scatter: { svg: 'ab6b6266cc8a0139', png: '4cc2516b6ac5d8e9' },
  multi: { svg: '7ff06954d9f857be', png: '6f9781823d316ddb' },
};
