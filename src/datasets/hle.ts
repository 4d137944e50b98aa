/**
 * Humanity's Last Exam (Phan et al. 2025) loader: `hle:<path>` for its JSONL or Parquet export (the Hugging Face
 * `cais/hle` test split). HLE is gated, so there is no download: a local path is required.
 *
 * Row fields used: `id` (string), `question` (string), `answer` (string), `answer_type` (`exactMatch` |
 * `multipleChoice`), `image` (a data URI or URL; `""` when none), `category`, `raw_subject`. Every other column
 * (`rationale`, `author_name`, `canary`, …) is kept in `metadata`; `image_preview` and `rationale_image` (binary
 * previews in the Parquet export) are dropped.
 *
 * Each sample's input is two messages: a system message with the HLE response format (Explanation / Answer /
 * Confidence, the exact-answer or the multiple-choice variant by `answer_type`) and the question as the user
 * message. A question with an image (`metadata.has_image`) is sent with it, as HLE's own evaluation sends it: the user
 * message is the question's text part, then the image part (the image is read from its data URI, or from a path
 * relative to the export; a URL is refused: download it). Its bytes go to the dataset's `images` (and, in a run, once
 * to the pool's image store); `metadata.image` names it `sha256:<hex>` instead of repeating the data URI.
 * With `textOnly` (`--text-only`), questions with images are answered from their text alone, exactly as before
 * images were sent (`metadata.image` keeps the reference as given), and the run is labelled text-only; the two
 * kinds of run have different run ids (a multimodal run's spec covers its images), so their results never mix.
 * Default scorer: `judge` (give its model: `--scorer 'judge?model=…'`); multiple-choice questions are graded by
 * their letter without a judge.
 */
import { dirname, extname, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { imagePart, type Message, type Sample } from '../core/schemas.ts';
import { readJsonl } from './files.ts';
import { checkReadableFile, describe, hashFile } from './lines.ts';
import { readImageEntry, type ImageContext } from './rows.ts';
import type { DatasetOptions, LoadedDataset } from './types.ts';

/** The response format asked of the model for exact-answer questions (HLE's Explanation / Answer / Confidence). */
export const HLE_EXACT_FORMAT =
  'Your response should be in the following format:\nExplanation: {your explanation for your final answer}\nExact Answer: {your succinct, final answer}\nConfidence: {your confidence score between 0% and 100% for your answer}';
/** The response format asked of the model for multiple-choice questions. */
export const HLE_CHOICE_FORMAT =
  'Your response should be in the following format:\nExplanation: {your explanation for your answer choice}\nAnswer: {your chosen answer}\nConfidence: {your confidence score between 0% and 100% for your answer}';

const ANSWER_TYPES = ['exactMatch', 'multipleChoice'] as const;
const DROPPED = new Set(['image_preview', 'rationale_image']);

function str(row: Record<string, unknown>, key: string, file: string, line: number, opts: { optional?: boolean; nonEmpty?: boolean; stringOnly?: boolean } = {}): string {
  const v = row[key];
  if (v === undefined || v === null) {
    if (opts.optional) return '';
    throw new InputError('missing field', { file, line, field: key });
  }
  if (typeof v !== 'string') {
    if (typeof v === 'number' && Number.isFinite(v) && !opts.stringOnly) return String(v);
    throw new InputError(`wrong type: expected a string, got ${describe(v)}`, { file, line, field: key });
  }
  if (opts.nonEmpty && v.trim() === '') throw new InputError('empty value', { file, line, field: key });
  return v;
}

/**
 * Map one HLE row to a Sample.
 * @param line 1-based JSONL line, or 1-based row number for Parquet
 * @param images where the row's image goes (see the module comment); without it, or with `images.textOnly`, the
 *   question is text only
 * @throws InputError (file, line, field) for a missing/empty id, question or answer, an unknown answer_type, or (when
 *   images are read) an image that is a URL, a missing file, a corrupt data URI or of an unknown type
 */
export function hleRowToSample(row: Record<string, unknown>, file: string, line: number, images?: ImageContext): Sample {
  const id = str(row, 'id', file, line, { nonEmpty: true }).trim();
  const question = str(row, 'question', file, line, { nonEmpty: true });
  const answer = str(row, 'answer', file, line, { nonEmpty: true });
  const answerType = str(row, 'answer_type', file, line);
  if (!(ANSWER_TYPES as readonly string[]).includes(answerType)) {
    throw new InputError(`unknown answer_type "${answerType}"; expected ${ANSWER_TYPES.join(' or ')}`, { file, line, field: 'answer_type' });
  }
  // an image is a data URI or a URL: a number is not one (it would count as "has an image")
  const image = str(row, 'image', file, line, { optional: true, stringOnly: true });
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'id' || k === 'question' || k === 'answer' || DROPPED.has(k) || v === undefined) continue;
    // a `__proto__` column (JSON.parse makes it an own key) would set the metadata object's prototype
    if (k === '__proto__') continue;
    metadata[k] = typeof v === 'bigint' ? Number(v) : v;
  }
  metadata.answer_type = answerType;
  metadata.category = str(row, 'category', file, line, { optional: true }) || null;
  metadata.raw_subject = str(row, 'raw_subject', file, line, { optional: true }) || null;
  metadata.image = image || null;
  metadata.has_image = image.trim() !== '';
  const system = answerType === 'multipleChoice' ? HLE_CHOICE_FORMAT : HLE_EXACT_FORMAT;
  let user: Message = { role: 'user', content: question };
  if (metadata.has_image && images) {
    if (images.textOnly) images.dropped++;
    else {
      const entry = readImageEntry(image, images.baseDir, { file, line, field: 'image' });
      if (!images.images.has(entry.sha256)) images.images.set(entry.sha256, entry);
      user = { role: 'user', content: [{ type: 'text', text: question }, imagePart(entry)] };
      if (/^data:/i.test(image.trim())) metadata.image = `sha256:${entry.sha256}`;
      metadata.image_sha256 = entry.sha256;
    }
  }
  return {
    id,
    input: [{ role: 'system', content: system }, user],
    target: answer,
    metadata,
  };
}

async function readParquetRows(file: string): Promise<Record<string, unknown>[]> {
  // imported on first use: most commands never read Parquet, and the CLI should start fast
  const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
  try {
    const buf = await asyncBufferFromFile(file);
    return (await parquetReadObjects({ file: buf })) as Record<string, unknown>[];
  } catch (e) {
    throw new InputError(`not a readable Parquet file: ${(e as Error).message}`, { file });
  }
}

/**
 * Load HLE from `hle:<path>` (`.parquet` → Parquet via hyparquet; anything else → JSONL).
 * @returns a LoadedDataset named `hle`, default scorer `judge`, default template `plain` (the input already
 *   holds the system and user messages), with the images of its image questions (unless `opts.textOnly`)
 * @throws InputError without a path, for a missing/unreadable file, bad rows (file, line/row, field), duplicate
 *   ids, an empty file
 */
export async function loadHleDataset(ref: string, opts: DatasetOptions = {}): Promise<LoadedDataset> {
  const rel = ref.startsWith('hle:') ? ref.slice(4) : '';
  if (rel === '') {
    throw new InputError("Humanity's Last Exam is gated and has no pinned public file: pass a local JSONL or Parquet export, hle:<path>", { field: 'dataset' });
  }
  const path = resolve(rel);
  const limit = opts.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new InputError(`limit must be a positive integer, got ${limit}`);
  let samples: Sample[];
  let hash: string;
  const images: ImageContext = { images: new Map(), baseDir: dirname(path), textOnly: !!opts.textOnly, dropped: 0 };
  if (extname(path).toLowerCase() === '.parquet') {
    await checkReadableFile(path);
    hash = (await hashFile(path)).sha256;
    const rows = await readParquetRows(path);
    samples = [];
    const seen = new Map<string, number>();
    for (let i = 0; i < rows.length; i++) {
      const s = hleRowToSample(rows[i]!, path, i + 1, images);
      const first = seen.get(s.id);
      if (first !== undefined) throw new InputError(`duplicate id "${s.id}" (first seen on row ${first})`, { file: path, line: i + 1, field: 'id' });
      seen.set(s.id, i + 1);
      samples.push(s);
      if (limit !== undefined && samples.length >= limit) break;
    }
    if (samples.length === 0) throw new InputError('no samples (the file is empty)', { file: path });
  } else {
    const res = await readJsonl(path, (row, line) => hleRowToSample(row, path, line, images), { limit, maxLineBytes: opts.maxLineBytes, idField: 'id' });
    samples = res.samples;
    hash = res.hash;
  }
  return {
    name: 'hle', ref, path, hash, samples, defaultScorer: 'judge', defaultTemplate: 'plain',
    ...(images.images.size ? { images: images.images } : {}),
    ...(images.textOnly ? { textOnly: { dropped: images.dropped } } : {}),
  };
}
