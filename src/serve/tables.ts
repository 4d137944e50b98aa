/**
 * Downloads of the viewer's tables as CSV, JSON or JSON lines, streamed: rows are pulled from an async iterator as the
 * client reads (a `ReadableStream` with `pull`), so a 200k-attempt table never sits in memory and a slow client slows
 * the reader instead of filling a buffer.
 *
 * CSV (RFC 4180): every field quoted when it holds a comma, quote, CR or LF; text cells that a spreadsheet would take for
 * a formula (starting with `=`, `+`, `-`, `@`, tab or CR) are prefixed with `'` (OWASP "CSV injection"): model output is
 * hostile text. Numbers are written as numbers. JSON: one array of objects; JSON lines: one object per line.
 */
export type TableFormat = 'csv' | 'json' | 'jsonl';
export const TABLE_FORMATS: readonly TableFormat[] = ['csv', 'json', 'jsonl'];

/** A table: its column names and its rows (objects keyed by column; other keys are left out of CSV, kept in JSON). */
export interface Table {
  columns: string[];
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>;
}

/** One CSV field. */
export function csvField(v: unknown): string {
  if (v == null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const jsonOf = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x));

const CONTENT_TYPES: Record<TableFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
};

/**
 * A streamed download of `table` as a Response, with `Content-Disposition: attachment; filename="<name>.<format>"`
 * (`name`: letters, digits, `.`, `_`, `-` only; anything else becomes `_`). Rows are encoded in chunks of about 64 KB.
 */
export function tableResponse(table: Table, format: TableFormat, name: string, headers: Record<string, string> = {}): Response {
  const it = (Symbol.asyncIterator in table.rows ? (table.rows as AsyncIterable<Record<string, unknown>>)[Symbol.asyncIterator]() : (table.rows as Iterable<Record<string, unknown>>)[Symbol.iterator]()) as AsyncIterator<Record<string, unknown>> | Iterator<Record<string, unknown>>;
  const enc = new TextEncoder();
  let started = false, first = true, done = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return;
      let buf = '';
      if (!started) {
        started = true;
        if (format === 'csv') buf += table.columns.map(csvField).join(',') + '\r\n';
        else if (format === 'json') buf += '[';
      }
      try {
        while (buf.length < 65536) {
          const r = await it.next();
          if (r.done) {
            done = true;
            if (format === 'json') buf += first ? ']\n' : '\n]\n';
            break;
          }
          const row = r.value;
          if (format === 'csv') buf += table.columns.map((c) => csvField(row[c])).join(',') + '\r\n';
          else if (format === 'jsonl') buf += jsonOf(row) + '\n';
          else {
            buf += (first ? '\n' : ',\n') + jsonOf(row);
            first = false;
          }
        }
      } catch (err) {
        controller.error(err);
        return;
      }
      if (buf) controller.enqueue(enc.encode(buf));
      if (done) controller.close();
    },
    async cancel() {
      done = true;
      await it.return?.();
    },
  });
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'table';
  return new Response(stream, { headers: { ...headers, 'content-type': CONTENT_TYPES[format], 'content-disposition': `attachment; filename="${safe}.${format}"` } });
}
