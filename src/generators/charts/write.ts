/**
 * Write a generated chart dataset to a folder: `images/<id>.png` for every sample and one JSONL file
 * (`charts.jsonl` by default) of generic rows `{id, question, answer, ...metadata}` that `assay run --dataset`
 * reads; `metadata.image` is the PNG's path relative to the folder, `metadata.image_sha256` its hash.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import type { Sample } from '../../core/schemas.ts';
import { generateCharts } from './generate.ts';
import { releaseRenderMemory } from './png.ts';
import type { ChartTask } from './types.ts';

/** One JSONL line of a sample (no trailing newline). */
export function chartSampleToJsonl(s: Sample): string {
  return JSON.stringify({ id: s.id, question: s.input, answer: s.target, ...s.metadata });
}

/** What was written. Sizes in bytes. */
export interface ChartWriteResult {
  /** Absolute or given path of the JSONL file. */
  jsonl: string;
  /** sha256 (hex) of the JSONL bytes (which hold every image's sha256, so it covers the images too). */
  sha256: string;
  samples: number;
  jsonl_bytes: number;
  png_bytes: number;
}

/**
 * Generate n charts from a seed and write them under `dir` (created if missing). The JSONL is written to a temporary
 * file and renamed when whole, so a run never reads a half-written dataset; images are written first.
 * @param opts.tasks keep only these tasks; opts.file the JSONL name (default `charts.jsonl`);
 *   opts.onSample called after each sample is written (progress)
 * Memory stays flat (about 150 MB) at any n: the native memory of finished renders is released every 32 charts
 * (see releaseRenderMemory).
 * @throws InputError when the folder cannot be written
 */
export async function writeChartDataset(
  dir: string,
  n: number,
  seed: number,
  opts: { tasks?: readonly ChartTask[]; file?: string; onSample?: (s: Sample, done: number) => void } = {},
): Promise<ChartWriteResult> {
  const images = join(dir, 'images');
  try {
    mkdirSync(images, { recursive: true });
  } catch (e) {
    throw new InputError(`cannot write ${dir}: ${(e as Error).message}`, { field: 'out' });
  }
  const path = join(dir, opts.file ?? 'charts.jsonl');
  const tmp = `${path}.${process.pid}.${Date.now()}.partial`;
  const h = createHash('sha256');
  const lines: string[] = [];
  let pngBytes = 0, jsonlBytes = 0, done = 0;
  let ok = false;
  try {
    for (const { sample, png } of generateCharts(n, seed, opts.tasks ? { tasks: opts.tasks } : {})) {
      writeFileSync(join(dir, sample.metadata.image as string), png);
      pngBytes += png.length;
      const line = chartSampleToJsonl(sample) + '\n';
      h.update(line);
      jsonlBytes += Buffer.byteLength(line);
      lines.push(line);
      done++;
      opts.onSample?.(sample, done);
      if (done % 32 === 0) await releaseRenderMemory();
    }
    writeFileSync(tmp, lines.join(''));
    renameSync(tmp, path);
    ok = true;
  } finally {
    if (!ok) rmSync(tmp, { force: true });
  }
  return { jsonl: path, sha256: h.digest('hex'), samples: done, jsonl_bytes: jsonlBytes, png_bytes: pngBytes };
}
