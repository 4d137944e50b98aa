/**
 * Write a generated chart dataset to a folder: `images/<id>.png` for every sample and one JSONL file
 * (`charts.jsonl` by default) of generic rows `{id, question, answer, ...metadata}` that `assay run --dataset`
 * reads; `metadata.image` is the PNG's path relative to the folder, `metadata.image_sha256` its hash.
 *
 * A folder written before keeps only this generation: the generator lists every file it writes in a manifest,
 * `assay-charts-files.json` in the folder, and removes the files an earlier generation listed there that this one
 * does not write (a run of 10 charts after one of 2,170 leaves 10 PNGs, not 2,170). It never removes a file it did
 * not list — a user's own files in the folder stay, whatever their names — and it reads from a manifest only names
 * it could have written (`images/<name>.png`, `<name>.jsonl`, no folder, no `..`). The manifest lists the union of
 * the old and the new files while the generation runs, so a generation killed half way still leaves every file it
 * wrote listed for the next one.
 *
 * Before removing a listed file it checks the file still has the sha256 recorded for it (the manifest's `sha256s`,
 * else the `image_sha256` of its row in a listed JSONL, else the manifest's `sha256` for the dataset file): a file
 * changed since (a user's chart saved over it) or with no recorded hash (a manifest of a generation killed half way,
 * or written before hashes were recorded) is left in place and reported in `kept`. A dataset file already in the
 * folder that no manifest lists as the generator's with its hash (a user's own `charts.jsonl`) is not overwritten
 * unless `force` is given.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import type { Sample } from '../../core/schemas.ts';
import { CHARTS_GENERATOR_VERSION, chartSampleId, generateCharts } from './generate.ts';
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
  /** Files of an earlier generation in the folder (listed in its manifest) that this one removed. */
  removed: number;
  /** Files under `images/` that no generation listed (a user's own): left alone, counted here. */
  untracked: number;
  /**
   * Files an earlier generation listed that this one would have removed but left in place: `changed` when the bytes
   * differ from the sha256 recorded for it, `unrecorded` when no sha256 was recorded.
   */
  kept: { file: string; reason: 'changed' | 'unrecorded' }[];
}

/** The manifest of the files a generation wrote, in the dataset folder. */
export const CHARTS_MANIFEST = 'assay-charts-files.json';

/** A name the generator could have written: `images/<name>.png` or `<name>.jsonl`, no folder, no `..`. */
const OWN_FILE_RE = /^(?:images\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ownFile = (f: unknown): f is string => typeof f === 'string' && OWN_FILE_RE.test(f) && !f.includes('..') && (f.startsWith('images/') ? f.endsWith('.png') : f.endsWith('.jsonl'));

/**
 * The files the manifest in `dir` lists (only names the generator could have written), or none, with the sha256
 * (hex) recorded for each where one was: the manifest's `sha256s`, the `image_sha256` of the rows of listed JSONL
 * files, the manifest's `sha256` (of its dataset file, the one listed JSONL of a complete generation).
 */
function listedFiles(dir: string): { files: string[]; hashes: Map<string, string> } {
  const path = join(dir, CHARTS_MANIFEST);
  const hashes = new Map<string, string>();
  if (!existsSync(path)) return { files: [], hashes };
  let files: string[];
  let m: { files?: unknown; sha256s?: unknown; sha256?: unknown; complete?: unknown };
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as typeof m;
    files = Array.isArray(m.files) ? m.files.filter(ownFile) : [];
  } catch {
    return { files: [], hashes }; // an unreadable manifest lists nothing: nothing is removed on its word
  }
  const HEX = /^[0-9a-f]{64}$/;
  const jsonls = files.filter((f) => f.endsWith('.jsonl'));
  for (const f of jsonls) {
    let text: string;
    try {
      text = readFileSync(join(dir, f), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      try {
        const row = JSON.parse(line) as { image?: unknown; image_sha256?: unknown };
        if (typeof row.image === 'string' && ownFile(row.image) && typeof row.image_sha256 === 'string' && HEX.test(row.image_sha256)) hashes.set(row.image, row.image_sha256);
      } catch {
        // not a row: no hash from it
      }
    }
  }
  if (m.complete === true && jsonls.length === 1 && typeof m.sha256 === 'string' && HEX.test(m.sha256)) hashes.set(jsonls[0]!, m.sha256);
  if (m.sha256s && typeof m.sha256s === 'object') {
    for (const [f, h] of Object.entries(m.sha256s as Record<string, unknown>)) if (ownFile(f) && typeof h === 'string' && HEX.test(h)) hashes.set(f, h);
  }
  return { files, hashes };
}

const sha256Of = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function writeManifest(dir: string, files: readonly string[], info: Record<string, unknown>): void {
  const path = join(dir, CHARTS_MANIFEST);
  const tmp = `${path}.${process.pid}.partial`;
  writeFileSync(tmp, JSON.stringify({ generator: 'charts', version: CHARTS_GENERATOR_VERSION, ...info, files: [...files].sort() }, null, 1) + '\n');
  renameSync(tmp, path);
}

/**
 * Generate n charts from a seed and write them under `dir` (created if missing). The JSONL is written to a temporary
 * file and renamed when whole, so a run never reads a half-written dataset; images are written first.
 * @param opts.tasks keep only these tasks; opts.file the JSONL name (default `charts.jsonl`);
 *   opts.onSample called after each sample is written (progress)
 * Memory stays flat (about 150 MB) at any n: the native memory of finished renders is released every 32 charts
 * (see releaseRenderMemory). Files an earlier generation listed in the folder's manifest and this one does not write
 * are removed (`removed`); other files are never touched (`untracked` counts those under `images/`); see the module
 * comment.
 * Listed files whose bytes no longer match their recorded sha256, or with none recorded, are kept (`kept`); a
 * dataset file in the folder the manifest does not list with its hash is overwritten only with `opts.force`.
 * @throws InputError when the folder cannot be written, for a dataset file name that is not a plain `<name>.jsonl`,
 *   or when that file exists and was not written by the generator (no `opts.force`)
 */
export async function writeChartDataset(
  dir: string,
  n: number,
  seed: number,
  opts: { tasks?: readonly ChartTask[]; file?: string; onSample?: (s: Sample, done: number) => void; force?: boolean } = {},
): Promise<ChartWriteResult> {
  const images = join(dir, 'images');
  try {
    mkdirSync(images, { recursive: true });
  } catch (e) {
    throw new InputError(`cannot write ${dir}: ${(e as Error).message}`, { field: 'out' });
  }
  const file = opts.file ?? 'charts.jsonl';
  if (!ownFile(file) || file.startsWith('images/')) throw new InputError(`the dataset file name "${file}" must be a plain <name>.jsonl`, { field: 'file' });
  const path = join(dir, file);
  // the files this generation writes, known up front; listed with the old ones before anything is written
  const { files: old, hashes: oldHashes } = listedFiles(dir);
  if (!opts.force && existsSync(path)) {
    const recorded = oldHashes.get(file);
    if (!old.includes(file) || (recorded && sha256Of(path) !== recorded)) {
      throw new InputError(`${path} exists and ${old.includes(file) ? 'has changed since the generator wrote it' : `was not written by the generator (not listed in ${CHARTS_MANIFEST})`}: not overwritten. Write to another folder or --file, or pass --force to overwrite it`, { file: path });
    }
  }
  const planned = [file, ...Array.from({ length: n }, (_, i) => `images/${chartSampleId(seed, i)}.png`)];
  // the old files' recorded hashes stay with them while this generation runs (a name it rewrites loses its old hash)
  const carried = Object.fromEntries([...oldHashes].filter(([f]) => !planned.includes(f)));
  writeManifest(dir, [...new Set([...old, ...planned])], { seed, n, complete: false, sha256s: carried });
  const tmp = `${path}.${process.pid}.${Date.now()}.partial`;
  const h = createHash('sha256');
  const lines: string[] = [];
  const sha256s: Record<string, string> = {};
  let pngBytes = 0, jsonlBytes = 0, done = 0;
  let ok = false;
  try {
    for (const { sample, png } of generateCharts(n, seed, opts.tasks ? { tasks: opts.tasks } : {})) {
      writeFileSync(join(dir, sample.metadata.image as string), png);
      sha256s[sample.metadata.image as string] = typeof sample.metadata.image_sha256 === 'string' ? sample.metadata.image_sha256 : createHash('sha256').update(png).digest('hex');
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
  const sha256 = h.digest('hex');
  // what an earlier generation wrote and this one did not: removed; then the manifest lists this generation alone
  const keep = new Set(planned);
  let removed = 0;
  const kept: ChartWriteResult['kept'] = [];
  for (const f of old) {
    if (keep.has(f) || !existsSync(join(dir, f))) continue;
    // removed only when its bytes are the ones recorded for it: a user's file saved over it stays
    const recorded = oldHashes.get(f);
    if (!recorded) {
      kept.push({ file: f, reason: 'unrecorded' });
      continue;
    }
    if (sha256Of(join(dir, f)) !== recorded) {
      kept.push({ file: f, reason: 'changed' });
      continue;
    }
    rmSync(join(dir, f), { force: true });
    removed++;
  }
  sha256s[file] = sha256;
  writeManifest(dir, planned, { seed, n, complete: true, sha256, sha256s });
  const untracked = readdirSync(images).filter((f) => !keep.has(`images/${f}`)).length;
  return { jsonl: path, sha256, samples: done, jsonl_bytes: jsonlBytes, png_bytes: pngBytes, removed, untracked, kept };
}
