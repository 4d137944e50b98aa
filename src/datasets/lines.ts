/**
 * Streaming line reader for JSONL-like files: reads the file in chunks, hashes every byte, and hands each
 * non-blank line to a callback with its 1-based line number. Lines are split on raw `\n` bytes (so a
 * multi-byte UTF-8 character is never cut), a trailing `\r` and a leading BOM are dropped.
 *
 * Why not `node:readline`: readline must buffer a whole line before it can emit it, so a hostile 50 MB
 * line is held in memory in full before it can be rejected. This splitter counts the bytes of the line
 * being assembled and fails as soon as it passes `maxLineBytes`, after reading at most that much of it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { InputError } from '../core/errors.ts';

/** Default longest accepted line: 16 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** What a line callback may return: `'stop'` ends parsing (the rest of the file is still hashed). */
export type LineAction = void | 'stop';

/** Result of a scan: sha256 (hex) of all file bytes, total bytes, and the number of non-blank lines seen. */
export interface ScanResult {
  sha256: string;
  bytes: number;
  lines: number;
}

/**
 * Open `file` for reading, turning "not found" and "is a directory" into InputErrors naming the file.
 * @throws InputError when the path does not exist or is not a regular file.
 */
export async function checkReadableFile(file: string): Promise<void> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(err)})`, { file });
  }
  if (!st.isFile()) throw new InputError('not a regular file', { file });
}

/**
 * Scan `file` line by line.
 * - `onLine(text, line)` gets each non-blank line (decoded as UTF-8, without `\r`/BOM) and its 1-based line number.
 *   It may throw (the scan stops and the error propagates, the file is closed) or return `'stop'`.
 * - After `'stop'`, the remaining bytes are read only to finish the hash.
 * @returns sha256 of the whole file's bytes, its size, and the count of non-blank lines handed out.
 * @throws InputError (file, line) when a line exceeds `maxLineBytes` bytes; InputError when the file is missing.
 */
export async function scanLines(
  file: string,
  onLine: (text: string, line: number) => LineAction,
  opts: { maxLineBytes?: number } = {},
): Promise<ScanResult> {
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  await checkReadableFile(file);
  const hash = createHash('sha256');
  let bytes = 0;
  let lineNo = 0; // physical lines completed so far
  let seen = 0;
  let stopped = false;
  let pending: Buffer[] = [];
  let pendingLen = 0;

  const decoder = new TextDecoder('utf-8', { fatal: true });
  const emit = (buf: Buffer): void => {
    lineNo += 1;
    let text: string;
    try {
      text = decoder.decode(buf);
    } catch {
      throw new InputError('line is not valid UTF-8 (the file must be UTF-8 encoded)', { file, line: lineNo });
    }
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') return;
    seen += 1;
    if (onLine(text, lineNo) === 'stop') stopped = true;
  };
  const tooLong = (): never => {
    throw new InputError(`line is longer than the limit of ${maxLineBytes} bytes (maxLineBytes)`, { file, line: lineNo + 1 });
  };

  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    if (stopped) continue;
    let start = 0;
    while (!stopped) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) {
        const rest = chunk.length - start;
        if (rest > 0) {
          if (pendingLen + rest > maxLineBytes) tooLong();
          pending.push(chunk.subarray(start));
          pendingLen += rest;
        }
        break;
      }
      const piece = chunk.subarray(start, nl);
      if (pendingLen + piece.length > maxLineBytes) tooLong();
      const line = pendingLen ? Buffer.concat([...pending, piece]) : piece;
      pending = [];
      pendingLen = 0;
      emit(line);
      start = nl + 1;
    }
  }
  if (!stopped && pendingLen > 0) emit(Buffer.concat(pending));
  return { sha256: hash.digest('hex'), bytes, lines: seen };
}

/**
 * sha256 (hex) and size of a file's bytes, read as a stream.
 * @throws InputError when the file is missing.
 */
export async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  await checkReadableFile(file);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Parse one JSONL line as a JSON object.
 * @throws InputError (file, line) for broken JSON or a value that is not an object.
 */
export function parseJsonObject(text: string, file: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`broken JSON: ${(err as Error).message}`, { file, line });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(`expected a JSON object, got ${describe(value)}`, { file, line });
  }
  return value as Record<string, unknown>;
}

/** Short type name of a JSON value for error messages: `null`, `array`, `object`, `string`, `number`, `boolean`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
