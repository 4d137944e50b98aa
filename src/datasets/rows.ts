/**
 * Turning one parsed row (a JSON object or a CSV record) into a Sample: field lookup with fallbacks,
 * value coercion with clear errors, and the remaining columns kept as metadata.
 */
import { InputError } from '../core/errors.ts';
import { fileImageEntry, imageFromDataUri, imageFromFile, memoryImageEntry, type DatasetImages, type ImageEntry } from '../core/images.ts';
import { imagePart, MessageSchema, type Message, type Sample } from '../core/schemas.ts';
import { describe } from './lines.ts';

/** Which source column feeds each Sample field. */
export interface FieldMap {
  id?: string;
  input?: string;
  target?: string;
  choices?: string;
  /**
   * Column holding an image for the question (a path relative to the dataset file, or a base64 data URI; an empty
   * value means none): sent as an image part after the question's text. A `<column>_sha256` column, when present,
   * must match the image's bytes (the chart generator writes one).
   */
  image?: string;
}

/** Default column names, tried in order, when `fields` does not name one. */
export const ID_FALLBACKS = ['id', 'idx', 'unique_id', 'question_id'] as const;
export const INPUT_FALLBACKS = ['question', 'problem'] as const;
export const TARGET_FALLBACKS = ['answer'] as const;
export const CHOICES_FALLBACKS = ['choices'] as const;

/** The columns a file uses, fixed from its first row so every row is read the same way. */
export interface ResolvedFields {
  id: string;
  input: string;
  target: string;
  choices: string | null;
  /** The image column (`fields.image`), or null. */
  image: string | null;
}

/**
 * Where the images of a file go while it is read: `images` collects every image read (by sha256), `baseDir` is the
 * folder relative image paths start from, and with `textOnly` the image column is not read and `dropped` counts the
 * rows that had an image.
 */
export interface ImageContext {
  images: DatasetImages;
  baseDir: string;
  textOnly: boolean;
  dropped: number;
}

/**
 * Fix the columns from the first row: explicit `fields` win, else the first fallback present in `row`.
 * @throws InputError (file, line, field) when no id / input / target column can be found.
 */
export function resolveFields(row: Record<string, unknown>, fields: FieldMap, file: string, line: number): ResolvedFields {
  const pick = (kind: string, explicit: string | undefined, fallbacks: readonly string[]): string => {
    if (explicit) return explicit;
    const found = fallbacks.find((k) => k in row);
    if (found) return found;
    throw new InputError(
      `missing ${kind} field: none of ${fallbacks.map((f) => `"${f}"`).join(', ')} present (map another column with --${kind}-field, or fields.${kind} in the library)`,
      { file, line, field: fallbacks[0] },
    );
  };
  return {
    id: pick('id', fields.id, ID_FALLBACKS),
    input: pick('input', fields.input, INPUT_FALLBACKS),
    target: pick('target', fields.target, TARGET_FALLBACKS),
    choices: fields.choices ?? (CHOICES_FALLBACKS.find((k) => k in row) ?? null),
    image: fields.image ?? null,
  };
}

/**
 * A scalar as a string: strings as is, numbers via `String()` (so `27.0` parsed from JSON gives `"27"`),
 * booleans as `"true"`/`"false"`.
 * @throws InputError (file, line, field) for a missing value, null, an object or an array.
 */
export function scalarString(row: Record<string, unknown>, key: string, file: string, line: number): string {
  if (!(key in row) || row[key] === undefined) throw new InputError('missing field', { file, line, field: key });
  const v = row[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new InputError(`expected a finite number, got ${v}`, { file, line, field: key });
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  throw new InputError(`wrong type: expected a string or number, got ${describe(v)}`, { file, line, field: key });
}

/**
 * Build a Sample from a row with fixed columns. Non-string id/target values are stringified and the raw value
 * kept as `metadata.raw_id` / `metadata.raw_answer`. `input` may be a string (or number) or a list of
 * `{role, content}` messages. Every other column goes into `metadata` (undefined values dropped).
 * @throws InputError (file, line, field) for missing fields, wrong types, empty id or input, bad choices.
 */
export function rowToSample(
  row: Record<string, unknown>,
  f: ResolvedFields,
  file: string,
  line: number,
  extraMetadata: Record<string, unknown> = {},
  imageCtx?: ImageContext,
): Sample {
  const id = scalarString(row, f.id, file, line).trim();
  if (id === '') throw new InputError('empty id', { file, line, field: f.id });
  let input: string | Message[] = inputValue(row, f.input, file, line);
  if (f.image !== null && imageCtx) input = withRowImage(input, row, f.image, file, line, imageCtx);
  const target = scalarString(row, f.target, file, line);
  let choices: string[] | undefined;
  if (f.choices !== null && f.choices in row) choices = choicesValue(row[f.choices], f.choices, file, line);

  const metadata: Record<string, unknown> = {};
  const used = new Set([f.id, f.input, f.target, ...(f.choices ? [f.choices] : [])]);
  for (const [k, v] of Object.entries(row)) if (!used.has(k) && v !== undefined) metadata[k] = v;
  if (typeof row[f.id] !== 'string') metadata.raw_id = row[f.id];
  if (typeof row[f.target] !== 'string') metadata.raw_answer = row[f.target];
  Object.assign(metadata, extraMetadata);
  // An image given inline (a data URI) is kept once, in the pool's image store: the metadata names it by hash.
  const img = f.image !== null && imageCtx && !imageCtx.textOnly ? metadata[f.image] : undefined;
  if (typeof img === 'string' && /^data:/i.test(img.trim()) && Array.isArray(input)) {
    const parts = input.flatMap((m) => (typeof m.content === 'string' ? [] : m.content));
    const last = parts.filter((p) => p.type === 'image').pop();
    if (last && last.type === 'image') metadata[f.image!] = `sha256:${last.sha256}`;
  }
  return choices ? { id, input, target, choices, metadata } : { id, input, target, metadata };
}

/**
 * The input with the row's image (column `key`) as an image part after the question text, the image recorded in
 * `ctx.images`. An empty or missing value leaves the input as it is; with `ctx.textOnly` the image is counted, not read.
 * @throws InputError (file, line, field) for a value that is not a string, a missing file, an unknown type, a corrupt
 *   data URI, or bytes that do not match the row's `<key>_sha256`
 */
function withRowImage(input: string | Message[], row: Record<string, unknown>, key: string, file: string, line: number, ctx: ImageContext): string | Message[] {
  const v = row[key];
  if (v === undefined || v === null || v === '') return input;
  if (typeof v !== 'string') throw new InputError(`wrong type: an image is a path or a data URI, got ${describe(v)}`, { file, line, field: key });
  if (ctx.textOnly) {
    ctx.dropped++;
    return input;
  }
  const where = { file, line, field: key };
  const entry = readImageEntry(v, ctx.baseDir, where);
  const expected = row[`${key}_sha256`];
  if (typeof expected === 'string' && expected !== entry.sha256) throw new InputError(`image ${v} has sha256 ${entry.sha256}, but the row's ${key}_sha256 says ${expected}`, where);
  if (!ctx.images.has(entry.sha256)) ctx.images.set(entry.sha256, entry);
  const part = imagePart(entry);
  if (typeof input === 'string') return [{ role: 'user', content: [{ type: 'text', text: input }, part] }];
  // A message-list input: the image goes with its last user message.
  const out = input.map((m) => ({ ...m }));
  for (let i = out.length - 1; i >= 0; i--) {
    const m = out[i]!;
    if (m.role !== 'user') continue;
    out[i] = { role: 'user', content: [...(typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : m.content), part] };
    return out;
  }
  throw new InputError('the input has no user message to put the image in', where);
}

/**
 * An image of a dataset row: a data URI (kept in memory) or a file relative to `baseDir` (read again when its bytes
 * are needed, so a dataset of thousands of images does not hold them all). Errors: InputError at `where` for a URL
 * (nothing is downloaded), a missing file, a corrupt data URI, an unknown type.
 */
export function readImageEntry(value: string, baseDir: string, where: { file?: string; line?: number; field?: string }): ImageEntry {
  if (/^data:/i.test(value.trim())) return memoryImageEntry(imageFromDataUri(value.trim(), where));
  if (/^https?:\/\//i.test(value.trim())) throw new InputError(`image URLs are not fetched (${value.trim().slice(0, 80)}): download the image and give its path or a data URI`, where);
  const blob = imageFromFile(value.trim(), { baseDir, where });
  return fileImageEntry(blob, blob.path, where);
}

function inputValue(row: Record<string, unknown>, key: string, file: string, line: number): string | Message[] {
  const v = row[key];
  if (Array.isArray(v)) {
    const parsed = MessageSchema.array().min(1).safeParse(v);
    if (!parsed.success) {
      throw new InputError('wrong type: a list input must be non-empty [{role, content}] messages', { file, line, field: key });
    }
    return parsed.data;
  }
  const s = scalarString(row, key, file, line);
  if (s.trim() === '') throw new InputError('empty input', { file, line, field: key });
  return s;
}

function choicesValue(v: unknown, key: string, file: string, line: number): string[] {
  let list: unknown = v;
  if (typeof v === 'string') {
    // CSV cells carry lists as JSON text.
    try {
      list = JSON.parse(v);
    } catch {
      throw new InputError('choices must be a JSON list of strings', { file, line, field: key });
    }
  }
  if (!Array.isArray(list) || list.length === 0) {
    throw new InputError(`wrong type: choices must be a non-empty list, got ${describe(list)}`, { file, line, field: key });
  }
  return list.map((c, i) => {
    if (typeof c === 'string') return c;
    if (typeof c === 'number' || typeof c === 'boolean') return String(c);
    throw new InputError(`wrong type: choice ${i} is ${describe(c)}`, { file, line, field: key });
  });
}
