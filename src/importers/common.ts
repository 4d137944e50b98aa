/**
 * Shared machinery of the importers: streaming line and CSV (./csv.ts) readers that know file and line numbers, the file's
 * sha256 (streamed), and `runImport`, which wraps one import in one transaction: either every row is in the pool
 * or none (a bad row aborts the import with an InputError naming file, line and field).
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../core/errors.ts';
import { utf8Chunks } from './utf8.ts';
import { CsvSyntaxError, csvBatches } from './csv.ts';
import type { ImportTransaction, Pool, SourceRecord } from '../store/types.ts';

/** sha256 hex of a file, streamed. Errors: InputError when the file cannot be read. */
export async function fileSha256(file: string): Promise<string> {
  checkReadable(file);
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Throws InputError when `file` is missing or not a regular file. */
export function checkReadable(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new InputError('file not found', { file });
  }
  if (!st.isFile()) throw new InputError('not a regular file', { file });
}

/**
 * Stream the lines of a UTF-8 text file with 1-based line numbers, never holding more than one chunk. The last
 * line is flagged `unterminated` when the file does not end with a newline (a hint of truncation). Blank lines are
 * skipped; a UTF-8 byte-order mark at the start of the file and a CR before each LF are removed.
 */
export async function* readLines(file: string): AsyncGenerator<{ line: number; text: string; unterminated: boolean }> {
  for await (const batch of readLineBatches(file)) yield* batch;
}

/** Lines per batch of `readLineBatches`. */
const LINE_BATCH = 4096;

/**
 * `readLines` in batches (at most LINE_BATCH lines each, from 1 MiB reads), for importers that read millions of
 * lines: no promise is awaited per line. Same lines, numbers, flags and skipping as `readLines`.
 */
export async function* readLineBatches(file: string): AsyncGenerator<{ line: number; text: string; unterminated: boolean }[]> {
  checkReadable(file);
  let rest = '';
  let line = 0;
  const decoder = new StringDecoder('utf8');
  for await (const bytes of utf8Chunks(file)) {
    const parts = (rest + decoder.write(bytes)).split('\n');
    rest = parts.pop()!;
    // batches of at most LINE_BATCH lines: short-lived, so they die young (see ./csv.ts, BATCH_RECORDS)
    let out: { line: number; text: string; unterminated: boolean }[] = [];
    for (const p of parts) {
      line++;
      let text = p.endsWith('\r') ? p.slice(0, -1) : p;
      if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.trim() !== '') out.push({ line, text, unterminated: false });
      if (out.length >= LINE_BATCH) {
        yield out;
        out = [];
      }
    }
    if (out.length) yield out;
  }
  if (line === 0 && rest.charCodeAt(0) === 0xfeff) rest = rest.slice(1);
  if (rest.trim() !== '') yield [{ line: line + 1, text: rest.endsWith('\r') ? rest.slice(0, -1) : rest, unterminated: true }];
}

/** Parse one JSONL line; errors name file and line, and say "truncated?" for an unterminated last line. */
export function parseJsonLine(file: string, l: { line: number; text: string; unterminated: boolean }): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(l.text);
  } catch (err) {
    throw new InputError(`invalid JSON${l.unterminated ? ' on the last line, which has no newline: is the file truncated?' : ''} (${(err as Error).message})`, { file, line: l.line });
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError('expected a JSON object', { file, line: l.line });
  return v as Record<string, unknown>;
}

/** Whether a file's last byte is a newline (an empty file counts as terminated). */
async function endsWithNewline(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    await fh.close();
  }
}

/** A batch of CSV data records (after the header): `records[k]` ends on line `lines[k]`; `last` marks the file's last batch. */
export interface CsvRecords {
  header: string[];
  records: string[][];
  lines: number[];
  last: boolean;
}

/**
 * Stream CSV data records in batches with their 1-based line numbers, parsed by ./csv.ts (RFC 4180 quoting, quoted
 * fields may span lines, a UTF-8 BOM is ignored), never loading the whole file. `header` is the trimmed header.
 * Errors: InputError for a missing required column (line 1), a column named twice, a record with the wrong number
 * of fields (its line), malformed quoting (its line), a header-only file, and a last record without a final
 * newline (a cut inside its last field would parse as a different value, e.g. a score 10 cut to 1) unless
 * `allowUnterminated`. The last record is handed out only once that check has passed.
 */
export async function* readCsvRecords(file: string, required: string[], opts: { allowUnterminated?: boolean } = {}): AsyncGenerator<CsvRecords> {
  checkReadable(file);
  const terminated = await endsWithNewline(file);
  const truncHint = terminated ? '' : ' — the last line has no newline: is the file truncated?';
  let header: string[] | null = null;
  let pending: { record: string[]; line: number } | null = null;
  let rows = 0;
  try {
    for await (const batch of csvBatches(file)) {
      let k = 0;
      if (!header) {
        header = batch.records[0]!.map((h) => h.trim());
        const dupCol = header.find((h, j) => h !== '' && header!.indexOf(h) !== j);
        if (dupCol !== undefined) throw new InputError(`column "${dupCol}" appears twice in the header`, { file, line: 1, field: dupCol });
        const missing = required.filter((c) => !header!.includes(c));
        if (missing.length) throw new InputError(`missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}; the header has ${header.map((c) => `"${c}"`).join(', ')}`, { file, line: 1, field: missing[0] });
        k = 1;
      }
      const width = header.length;
      const records: string[][] = [], lines: number[] = [];
      if (pending && k < batch.records.length) {
        records.push(pending.record);
        lines.push(pending.line);
        pending = null;
      }
      for (; k < batch.records.length; k++) {
        const record = batch.records[k]!, line = batch.lines[k]!;
        if (record.length !== width) {
          // hand out the records before it first: a caller that stops early (`limit`) never reaches the bad one
          if (records.length) yield { header, records, lines, last: false };
          throw new InputError(`expected ${width} fields (${header.join(',')}), got ${record.length}${truncHint}`, { file, line });
        }
        rows++;
        if (k === batch.records.length - 1) pending = { record, line };
        else {
          records.push(record);
          lines.push(line);
        }
      }
      if (records.length) yield { header, records, lines, last: false };
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    if (err instanceof CsvSyntaxError) {
      const what = err.code === 'CSV_QUOTE_NOT_CLOSED' ? 'unterminated quoted field (is the file truncated?)' : `malformed CSV: ${err.message}`;
      throw new InputError(what, { file, line: err.lines });
    }
    throw err;
  }
  if (!header) throw new InputError('empty file (no header)', { file });
  if (!rows) throw new InputError(terminated ? 'no data rows (header only)' : 'the file is only a header line without a newline: is it truncated?', { file, line: 1 });
  if (!terminated && !opts.allowUnterminated) {
    // A CSV cut inside its last field still parses (a score "10" cut to "1"), so an unterminated last record is
    // refused unless the caller says the file is complete.
    throw new InputError(
      'the last line has no newline: is the file truncated? A record cut inside its last field would still parse, so it is not imported; if the file is complete, end it with a newline (or pass --allow-unterminated)',
      { file, line: pending!.line },
    );
  }
  if (pending) yield { header, records: [pending.record], lines: [pending.line], last: true };
}

/**
 * Stream CSV records as objects keyed by the header, with their 1-based line numbers (`readCsvRecords`, one record
 * at a time). Errors: those of `readCsvRecords`.
 */
export async function* readCsv(
  file: string,
  required: string[],
  opts: { allowUnterminated?: boolean } = {},
): AsyncGenerator<{ line: number; row: Record<string, string>; last: boolean }> {
  for await (const b of readCsvRecords(file, required, opts)) {
    for (let k = 0; k < b.records.length; k++) {
      const rec = b.records[k]!;
      const row: Record<string, string> = {};
      for (let j = 0; j < b.header.length; j++) row[b.header[j]!] = rec[j]!;
      yield { line: b.lines[k]!, row, last: b.last && k === b.records.length - 1 };
    }
  }
}

/** Options every importer accepts. */
export interface ImportOptions {
  /**
   * Import again a file already imported, or a changed file imported before from the same path and in the same
   * format (the old source is replaced in the same transaction).
   */
  replace?: boolean;
  /**
   * Import a changed file beside its earlier import from the same path (both sources stay; a cell measured in both
   * counts twice: ranked on both values). Without it, or `replace`, such an import is refused.
   */
  keepBoth?: boolean;
  /** Only the first `limit` data rows (tests, previews). */
  limit?: number;
  /** Progress callback (rows so far). */
  progress?: (rows: number) => void;
  /** Accept a CSV whose last line has no final newline (by default refused as a possible truncation). */
  allowUnterminated?: boolean;
}

export interface ImportResult extends SourceRecord {
  seconds: number;
}

/**
 * Run `body` inside one import transaction for `file`. On any error the transaction is rolled back (nothing
 * half-written) and the error rethrown. `body` returns the counts recorded with the source.
 */
export async function runImport(
  store: Pool,
  info: { format: string; file: string; options?: Record<string, unknown>; replace?: boolean; keepBoth?: boolean },
  body: (tx: ImportTransaction) => Promise<{ measurements: number; samples: number }>,
): Promise<ImportResult> {
  const t0 = performance.now();
  const sha = await fileSha256(info.file);
  // The same path imported before in the same format with other bytes: a corrected (or grown) file. Kept beside the
  // old source, every cell in both would be ranked on both values; so it is refused unless the user says which.
  const here = resolve(info.file);
  const earlier = (await store.sources()).filter((s) => s.format === info.format && s.file_sha256 !== sha && resolve(s.file) === here);
  if (earlier.length && !info.replace && !info.keepBoth) {
    const list = earlier.map((s) => `"${s.id}" (${s.imported_at}, ${s.measurements} measurements)`).join(', ');
    throw new InputError(
      `this file was imported before from the same path as source ${list} and has changed since: kept beside it, a measurement in both would be ranked on both values. Pass --replace to replace ${earlier.length > 1 ? 'them' : 'it'} with this file, or --keep-both to keep both`,
      { file: info.file },
    );
  }
  const tx = await store.beginImport({
    format: info.format, file: info.file, sha256: sha, options: info.options, replace: info.replace,
    ...(earlier.length && info.replace ? { replaces: earlier.map((s) => s.id) } : {}),
  });
  try {
    const counts = await body(tx);
    if (counts.measurements === 0) throw new InputError('no measurements found', { file: info.file });
    const rec = await tx.commit(counts);
    return { ...rec, seconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    // A store that finds repeated measurements only at commit is asked for one before this error: a repeat on an
    // earlier line is what an immediate check would have reported.
    let e = err;
    if (err instanceof InputError && tx.firstDuplicate) {
      const dup = await tx.firstDuplicate().catch(() => null);
      const at = (x: InputError) => x.where.line ?? Infinity;
      if (dup instanceof InputError && at(dup) < at(err)) e = dup;
    }
    await tx.rollback();
    throw e;
  }
}

/** A UTF-16 surrogate without its pair. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Plain decimal numbers only: `Number()` would also take `0x10`, `0b1`, `0o7` and `Infinity`. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parse a finite decimal number from a field (surrounding spaces allowed; hex/octal/binary literals, NaN and
 * ±Infinity and values that overflow to them refused), or take a number as given (a JSONL number: finite);
 * InputError naming file, line and field otherwise.
 */
export function numberField(file: string, line: number, field: string, raw: string | number | undefined): number {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw new InputError(`expected a finite number, got ${raw}`, { file, line, field });
    return raw;
  }
  const t = raw === undefined ? '' : raw.trim();
  const v = DECIMAL.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(v)) throw new InputError(`expected a number, got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`, { file, line, field });
  return v;
}

/**
 * A required non-empty name or id (model, sample id, …), trimmed: " m1" and "m1" are one model. Numbers are
 * turned into strings. Errors: InputError for a missing/empty value or one containing control characters (a NUL,
 * tab or newline in a name is a corrupt file, and would break keys and tables).
 */
export function stringField(file: string, line: number, field: string, raw: unknown): string {
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw !== 'string' || raw.trim() === '') throw new InputError(`expected a non-empty value, got ${JSON.stringify(raw) ?? 'nothing'}`, { file, line, field });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new InputError(`control character in ${JSON.stringify(raw)}`, { file, line, field });
  // a lone surrogate (`"\ud800"` in JSON) is no Unicode text: stored, it would be invalid UTF-8 in the pool
  if (LONE_SURROGATE.test(raw)) throw new InputError(`not Unicode text (a lone surrogate) in ${JSON.stringify(raw)}`, { file, line, field });
  return raw.trim();
}
