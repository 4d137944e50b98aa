/**
 * Images as message content: reading them (a file, bytes, a data URI), knowing their type from their bytes (PNG,
 * JPEG, WebP: the types every multimodal API of Assay's providers accepts), and addressing them by content.
 *
 * A message never carries image bytes: its image part names the image by the sha256 of its bytes
 * (`{ type: 'image', sha256, mime_type }`, core/schemas.ts). The bytes travel beside the messages — a dataset's
 * `images` (what a loader read), the pool's image store (each image stored once, whatever the number of runs,
 * epochs and transcripts that name it), and an `ImageResolver` that gives a provider the bytes of a hash when it
 * builds its request.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InputError } from './errors.ts';

/** Where an input came from, for errors: file, 1-based line, field (InputError's `where`). */
export type InputErrorWhere = InputError['where'];

/** The image types Assay sends: what OpenAI, Anthropic and Gemini all accept. */
export const IMAGE_MIME_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type ImageMimeType = (typeof IMAGE_MIME_TYPES)[number];

/** Largest image accepted, in bytes (20 MiB: above every provider's per-image limit, so a bigger one is a mistake). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/** An image with its bytes. `sha256`: lower-case hex of the bytes; `mime_type` as read from the bytes. */
export interface ImageBlob {
  sha256: string;
  mime_type: ImageMimeType;
  bytes: Buffer;
}

/**
 * An image a dataset refers to, with its bytes loaded on demand (a dataset of thousands of charts must not hold every
 * PNG in memory): `size` in bytes; `load()` returns the bytes and throws InputError when they no longer hash to
 * `sha256` (the file changed after the dataset was read) or cannot be read.
 */
export interface ImageEntry {
  sha256: string;
  mime_type: ImageMimeType;
  size: number;
  load(): Buffer;
}

/** Image entries of a dataset by sha256. */
export type DatasetImages = Map<string, ImageEntry>;

/** Gives the bytes of an image by its sha256 (what providers call while building a request). */
export interface ImageResolver {
  /** Errors: rejects when no image with that hash is known (the caller reports it as a failed call). */
  get(sha256: string): Promise<ImageBlob>;
}

/** sha256 (lower-case hex) of bytes. */
export function sha256Bytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The image type of `bytes` from their signature (PNG `89 50 4E 47 0D 0A 1A 0A`; JPEG `FF D8 FF`; WebP `RIFF????WEBP`),
 * or null for anything else (GIF, SVG, text, a truncated header).
 */
export function sniffImageType(bytes: Uint8Array): ImageMimeType | null {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'image/webp';
  return null;
}

/** `image/jpg` is what many files and servers say for JPEG. */
function normalMime(m: string): string {
  const t = m.trim().toLowerCase();
  return t === 'image/jpg' ? 'image/jpeg' : t;
}

/**
 * An image from its bytes: typed by its signature and hashed.
 * @param declared a MIME type the source claims (a data URI's, a caller's): must be one of IMAGE_MIME_TYPES and
 *   agree with the bytes
 * @param where where the bytes came from, for errors (file, line, field)
 * @throws InputError for empty or oversized bytes, bytes that are not PNG/JPEG/WebP ("unknown image type"), or a
 *   declared type that is not supported or disagrees with the bytes
 */
export function imageFromBytes(bytes: Uint8Array, where: InputErrorWhere = {}, declared?: string): ImageBlob {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) throw new InputError('empty image (0 bytes)', where);
  if (buf.length > MAX_IMAGE_BYTES) throw new InputError(`image of ${buf.length} bytes is larger than ${MAX_IMAGE_BYTES} bytes`, where);
  if (declared !== undefined && !(IMAGE_MIME_TYPES as readonly string[]).includes(normalMime(declared))) {
    throw new InputError(`unknown image MIME type "${declared}"; supported: ${IMAGE_MIME_TYPES.join(', ')}`, where);
  }
  const mime = sniffImageType(buf);
  if (!mime) throw new InputError(`unknown image type: the bytes are not PNG, JPEG or WebP (they start ${[...buf.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ')})`, where);
  if (declared !== undefined && normalMime(declared) !== mime) throw new InputError(`the image is declared ${declared} but its bytes are ${mime}`, where);
  return { sha256: sha256Bytes(buf), mime_type: mime, bytes: buf };
}

/**
 * Parse a base64 data URI (`data:image/png;base64,…`).
 * @throws InputError (at `where`) for a string that is not a base64 data URI, invalid base64, an unsupported MIME
 *   type, or bytes that are not what it declares
 */
export function imageFromDataUri(uri: string, where: InputErrorWhere = {}): ImageBlob {
  const m = /^data:([^;,]*)((?:;[^;,]*)*?);base64,/i.exec(uri);
  if (!m) throw new InputError(`not a base64 data URI (expected data:image/<type>;base64,…): ${JSON.stringify(uri.slice(0, 40))}`, where);
  const payload = uri.slice(m[0].length).replace(/\s+/g, '');
  if (payload.length === 0 || payload.length % 4 === 1 || !/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) throw new InputError('corrupt data URI: its payload is not valid base64', where);
  return imageFromBytes(Buffer.from(payload, 'base64'), where, m[1] || undefined);
}

/**
 * Read an image file (relative paths against `baseDir`, default the working directory).
 * @throws InputError (at `where`, the message naming the path) for a missing or unreadable file, or bytes that are
 *   not PNG/JPEG/WebP
 */
export function imageFromFile(path: string, opts: { baseDir?: string; where?: InputErrorWhere } = {}): ImageBlob & { path: string } {
  const where = opts.where ?? {};
  const abs = isAbsolute(path) ? path : resolve(opts.baseDir ?? '.', path);
  let bytes: Buffer;
  try {
    const st = statSync(abs);
    if (!st.isFile()) throw new InputError(`image ${abs} is not a file`, where);
    if (st.size > MAX_IMAGE_BYTES) throw new InputError(`image ${abs} is larger than ${MAX_IMAGE_BYTES} bytes`, where);
    bytes = readFileSync(abs);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`image file not found or unreadable: ${abs} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, where);
  }
  try {
    return { ...imageFromBytes(bytes, where), path: abs };
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${abs}: ${e.detail}`, where);
    throw e;
  }
}

/**
 * An image from any source a user gives: bytes, a data URI (`data:…`), or a file path (relative to `baseDir`).
 * URLs are refused (nothing is downloaded during a run: save the image and give its path).
 * @throws InputError as `imageFromBytes`, `imageFromDataUri`, `imageFromFile`
 */
export function loadImage(source: string | Uint8Array, opts: { baseDir?: string; where?: InputErrorWhere; mimeType?: string } = {}): ImageBlob {
  const where = opts.where ?? {};
  if (typeof source !== 'string') return imageFromBytes(source, where, opts.mimeType);
  const s = source.trim();
  if (s === '') throw new InputError('empty image reference', where);
  if (/^data:/i.test(s)) return imageFromDataUri(s, where);
  if (/^https?:\/\//i.test(s)) throw new InputError(`image URLs are not fetched (${s.slice(0, 80)}): download the image and give its path or a data URI`, where);
  const { path: _p, ...blob } = imageFromFile(s, { baseDir: opts.baseDir, where });
  return blob;
}

/**
 * An entry for `DatasetImages` that keeps `blob` in memory (bytes given inline: a data URI, a caller's buffer).
 */
export function memoryImageEntry(blob: ImageBlob): ImageEntry {
  return { sha256: blob.sha256, mime_type: blob.mime_type, size: blob.bytes.length, load: () => blob.bytes };
}

/**
 * An entry for `DatasetImages` that reads the file again when the bytes are needed (checked against `blob.sha256`).
 * @param path absolute path of the file `blob` was read from
 */
export function fileImageEntry(blob: ImageBlob, path: string, where: InputErrorWhere = {}): ImageEntry {
  return {
    sha256: blob.sha256,
    mime_type: blob.mime_type,
    size: blob.bytes.length,
    load: () => {
      const again = imageFromFile(path, { where });
      if (again.sha256 !== blob.sha256) throw new InputError(`image ${path} changed since the dataset was read (sha256 ${again.sha256}, was ${blob.sha256})`, where);
      return again.bytes;
    },
  };
}

/** `data:<mime>;base64,<bytes>`. */
export function dataUriOf(blob: Pick<ImageBlob, 'mime_type' | 'bytes'>): string {
  return `data:${blob.mime_type};base64,${blob.bytes.toString('base64')}`;
}
