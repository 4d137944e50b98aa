/**
 * A streaming CSV reader (RFC 4180: fields separated by commas, records by the file's line ends; a field in double
 * quotes may hold commas, line ends and doubled quotes `""`). It reads the file in 1 MiB chunks and hands out records
 * in batches, so memory stays flat in the file's size and no promise is awaited per record.
 *
 * It reads what csv-parse (the reader before it) read with `bom: true, skip_empty_lines: true` and gives the same
 * line numbers: the record delimiter is the file's first line end (`\r\n`, `\n` or a lone `\r`); an empty line is
 * skipped; a UTF-8 byte-order mark is ignored; a record's line is the line on which it ends. Malformed quoting is an
 * error with csv-parse's wording: a quote inside an unquoted field ("Invalid Opening Quote"), a character other than
 * a comma or line end after a closing quote ("Invalid Closing Quote"), and a quote still open at the end of the file.
 */
import { utf8Chunks } from './utf8.ts';
import { StringDecoder } from 'node:string_decoder';

/** A parse error: csv-parse's code and message, and the 1-based line. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly code: 'CSV_QUOTE_NOT_CLOSED' | 'INVALID_OPENING_QUOTE' | 'CSV_INVALID_CLOSING_QUOTE',
    message: string,
    readonly lines: number,
  ) {
    super(message);
  }
}

/** A batch of records: `records[k]` ends on line `lines[k]`. */
export interface CsvBatch {
  records: string[][];
  lines: number[];
}

const QUOTE = 34, COMMA = 44, LF = 10, CR = 13;

/**
 * Stream the records of a CSV file in batches (at most BATCH_RECORDS records each, from 1 MiB reads). Errors: CsvSyntaxError for malformed
 * quoting (see the module comment); the file system's errors.
 */
export async function* csvBatches(file: string): AsyncGenerator<CsvBatch> {
  const decoder = new StringDecoder('utf8');
  let buf = '';
  let first = true;
  /** Record delimiter: '\n' (also for '\r\n', whose '\r' is dropped) or '\r'. Null until the first line end is seen. */
  let nl: string | null = null;
  let crlf = false;
  let line = 1;
  const stream = utf8Chunks(file);
  try {
    for await (const chunk of stream) {
      buf += decoder.write(chunk);
      if (first) {
        if (buf.length === 0) continue;
        if (buf.charCodeAt(0) === 0xfeff) buf = buf.slice(1);
        first = false;
      }
      if (nl === null) {
        const d = detect(buf, false);
        if (d === undefined) continue;
        ({ nl, crlf } = d);
      }
      let pos = 0;
      for (let full = true; full; ) {
        const out: CsvBatch = { records: [], lines: [] };
        const r = parse(buf, nl!, crlf, line, false, out, pos);
        ({ line, pos, full } = r);
        if (out.records.length) yield out;
      }
      buf = buf.slice(pos);
    }
    buf += decoder.end();
    if (first && buf.charCodeAt(0) === 0xfeff) buf = buf.slice(1);
    if (nl === null) ({ nl, crlf } = detect(buf, true)!);
    let pos = 0;
    for (let full = true; full; ) {
      const out: CsvBatch = { records: [], lines: [] };
      const r = parse(buf, nl, crlf, line, true, out, pos);
      ({ line, pos, full } = r);
      if (out.records.length) yield out;
    }
  } finally {
    await stream.return(undefined);
  }
}

/** The record delimiter from the first line end outside quotes; undefined when none is seen yet and more may come. */
function detect(s: string, eof: boolean): { nl: string; crlf: boolean } | undefined {
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) inQuote = !inQuote;
    else if (!inQuote && c === LF) return { nl: '\n', crlf: false };
    else if (!inQuote && c === CR) {
      if (i + 1 < s.length) return s.charCodeAt(i + 1) === LF ? { nl: '\n', crlf: true } : { nl: '\r', crlf: false };
      if (eof) return { nl: '\r', crlf: false };
      return undefined;
    }
  }
  return eof ? { nl: '\n', crlf: false } : undefined;
}

/**
 * Records per batch: a batch's records are short-lived (a batch of a whole 1 MiB chunk outlived the young generation
 * of the garbage collector, and its promotion cost about a second per million rows).
 */
const BATCH_RECORDS = 4096;

/**
 * Parse complete records of `s` from `start` into `out`, at most BATCH_RECORDS; returns where the rest starts, the
 * line reached, and `full` when it stopped at BATCH_RECORDS (more may follow in `s`). At `eof` the rest is the last
 * record (without a line end).
 */
function parse(s: string, nl: string, crlf: boolean, line: number, eof: boolean, out: CsvBatch, start: number): { pos: number; line: number; full: boolean } {
  const nlCode = nl.charCodeAt(0);
  let pos = start;
  const n = s.length;
  // the next quote at or after pos (searched again only once passed: linear in the text)
  let q = -2;
  while (pos < n) {
    if (out.records.length >= BATCH_RECORDS) return { pos, line, full: true };
    const end = s.indexOf(nl, pos);
    if (end < 0 && !eof) break;
    const lineEnd = end < 0 ? n : end;
    if (q !== -1 && q < pos) q = s.indexOf('"', pos);
    if (q < 0 || q >= lineEnd) {
      // fast path: no quote on this line
      const stop = crlf && lineEnd > pos && s.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
      if (stop > pos) {
        out.records.push(s.slice(pos, stop).split(','));
        out.lines.push(line);
      }
      if (end < 0) return { pos: n, line, full: false };
      pos = end + 1;
      line++;
      continue;
    }
    const r = quoted(s, pos, nlCode, crlf, line, eof);
    if (!r) break;
    out.records.push(r.fields);
    out.lines.push(r.line);
    pos = r.pos;
    line = r.nextLine;
  }
  return { pos, line, full: false };
}

/** Lines counted inside a quoted value: line ends of the file's kind ('\n' for LF and CRLF files, '\r' for CR files). */
function countLines(s: string, a: number, b: number, nlCode: number): number {
  let k = 0;
  for (let i = a; i < b; i++) if (s.charCodeAt(i) === nlCode) k++;
  return k;
}

/**
 * One record with quotes, from `start`. Returns null when the record is not complete in `s` (more data to come);
 * throws CsvSyntaxError for malformed quoting.
 */
function quoted(s: string, start: number, nlCode: number, crlf: boolean, line: number, eof: boolean): { fields: string[]; pos: number; line: number; nextLine: number } | null {
  const fields: string[] = [];
  const n = s.length;
  let i = start;
  let ln = line;
  for (;;) {
    if (i < n && s.charCodeAt(i) === QUOTE) {
      // quoted field
      let value = '';
      let j = i + 1;
      for (;;) {
        const k = s.indexOf('"', j);
        if (k < 0) {
          if (!eof) return null;
          ln += countLines(s, j, n, nlCode);
          const endLine = n > 0 && s.charCodeAt(n - 1) === nlCode ? ln - 1 : ln;
          throw new CsvSyntaxError('CSV_QUOTE_NOT_CLOSED', `Quote Not Closed: the parsing is finished with an opening quote at line ${endLine}`, endLine);
        }
        ln += countLines(s, j, k, nlCode);
        if (k + 1 >= n && !eof) return null;
        if (k + 1 < n && s.charCodeAt(k + 1) === QUOTE) {
          value += s.slice(j, k + 1);
          j = k + 2;
          continue;
        }
        value += s.slice(j, k);
        i = k + 1;
        break;
      }
      fields.push(value);
      if (i >= n) {
        if (!eof) return null;
        return { fields, pos: n, line: ln, nextLine: ln };
      }
      const c = s.charCodeAt(i);
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === nlCode) return { fields, pos: i + 1, line: ln, nextLine: ln + 1 };
      if (crlf && c === CR) {
        if (i + 1 >= n && !eof) return null;
        if (i + 1 < n && s.charCodeAt(i + 1) === LF) return { fields, pos: i + 2, line: ln, nextLine: ln + 1 };
      }
      throw new CsvSyntaxError('CSV_INVALID_CLOSING_QUOTE', `Invalid Closing Quote: got "${s[i]}" at line ${ln} instead of delimiter, record delimiter, trimable character (if activated) or comment`, ln);
    }
    // unquoted field: up to the next comma or line end
    let j = i;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === COMMA || c === nlCode) break;
      if (c === QUOTE) throw new CsvSyntaxError('INVALID_OPENING_QUOTE', `Invalid Opening Quote: a quote is found on field ${fields.length} at line ${ln}, value is ${JSON.stringify(s.slice(i, j))}`, ln);
      j++;
    }
    if (j >= n && !eof) return null;
    let stop = j;
    if (crlf && (j >= n || s.charCodeAt(j) === nlCode) && stop > i && s.charCodeAt(stop - 1) === CR) stop--;
    fields.push(s.slice(i, stop));
    if (j >= n) return { fields, pos: n, line: ln, nextLine: ln };
    if (s.charCodeAt(j) === COMMA) {
      i = j + 1;
      continue;
    }
    return { fields, pos: j + 1, line: ln, nextLine: ln + 1 };
  }
}
