/**
 * SVG → PNG with @resvg/resvg-js (a Rust SVG renderer compiled for Node; no browser, no node-canvas) and the
 * bundled DejaVu Sans from the `dejavu-fonts-ttf` npm package. System fonts are never loaded, so the same SVG gives
 * the same PNG bytes on every machine with the same resvg version.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import { FONT_FAMILY } from './svg.ts';
import { collectGarbage } from '../../core/gc.ts';

const require = createRequire(import.meta.url);

let fontPath: string | null = null;

/**
 * Absolute path of the bundled DejaVuSans.ttf.
 * @throws Error when the `dejavu-fonts-ttf` package is not installed
 */
export function chartFontPath(): string {
  if (fontPath) return fontPath;
  try {
    fontPath = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
  } catch {
    throw new Error('the chart font is missing: install the dejavu-fonts-ttf package (a dependency of assay)');
  }
  return fontPath;
}

/** A rendered PNG: its bytes, size in pixels, and sha256 (hex) of the bytes. */
export interface RenderedPng {
  png: Buffer;
  width: number;
  height: number;
  sha256: string;
}

/** The SVG rendered by resvg at its own size on white, with the bundled font only. */
function rasterise(svg: string) {
  return new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: [chartFontPath()], defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
    fitTo: { mode: 'original' },
    background: '#ffffff',
    logLevel: 'off',
  }).render();
}

/**
 * Rasterise an SVG document at its own size (1 SVG unit = 1 pixel) on a white background.
 * @param svg SVG text (as renderSvg produces)
 * @returns the PNG bytes (RGBA, 8 bits per channel), width, height and sha256
 * @throws Error from resvg for malformed SVG
 */
export function svgToPng(svg: string): RenderedPng {
  const img = rasterise(svg);
  const png = img.asPng();
  return { png, width: img.width, height: img.height, sha256: createHash('sha256').update(png).digest('hex') };
}

/**
 * The RGBA pixels of an SVG rendered as {@link svgToPng} does (for checks: is anything drawn, which colours).
 * @returns width, height and a Buffer of width·height·4 bytes, rows top to bottom
 */
export function svgToPixels(svg: string): { width: number; height: number; pixels: Buffer } {
  const img = rasterise(svg);
  return { width: img.width, height: img.height, pixels: Buffer.from(img.pixels) };
}

/**
 * Read width and height from a PNG's IHDR chunk (PNG spec, ISO/IEC 15948 §11.2.2: signature, then IHDR with
 * big-endian width at byte 16 and height at byte 20).
 * @throws Error when the bytes do not start with the PNG signature and an IHDR chunk
 */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || sig.some((b, i) => png[i] !== b)) throw new Error('not a PNG (bad signature)');
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG (no IHDR chunk first)');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/**
 * Free the native memory of finished renders. resvg-js 2.6.2 does not tell V8 about the ~2 MB of pixels each
 * render holds outside the JavaScript heap (fixed upstream later by reporting it as external memory), so V8 sees no
 * pressure, never collects, and a loop of thousands of renders grows by ~2 MB per chart (1,000 charts: 2.2 GB RSS).
 * This runs a full garbage collection (src/core/gc.ts `collectGarbage`) and then yields to the event loop so the
 * addon's finalizers run. About 10–20 ms; call it every few dozen renders (writeChartDataset does every 32).
 */
export async function releaseRenderMemory(): Promise<void> {
  collectGarbage();
  await new Promise<void>((r) => setImmediate(r));
}

