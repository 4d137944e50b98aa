/**
 * File readers shared by the generic and named loaders: JSONL and CSV, streamed, hashed, with the checks
 * every dataset gets (no samples, duplicate ids, first-N limit).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { SampleSchema, type Sample } from '../core/schemas.ts';
import { checkReadableFile, hashFile, parseJsonObject, scanLines } from './lines.ts';
import { resolveFields, rowToSample, type FieldMap, type ImageContext, type ResolvedFields } from './rows.ts';

/** Samples read from a file plus the sha256 of all its bytes (also when `limit` stopped parsing early). */
export interface FileSamples {
  samples: Sample[];
  hash: string;
}

/** Turns one parsed row into a Sample. `index` is the 0-based position of the row among non-blank rows. */
export type RowMapper = (row: Record<string, unknown>, line: number, index: number) => Sample;

interface ReadOptions {
  limit?: number;
  maxLineBytes?: number;
  /** Where the rows' images go (generic files with an image column: `fields.image`). */
  images?: ImageContext;
}

/**
 * Collects samples, enforcing unique ids, the limit, and targets: a row whose target field is present but empty
 * (blank) in a file whose other rows carry targets is a broken row, refused with its file, line and field (a
 * graded run would otherwise score it a silent 0). A file in which every target is empty holds no targets at all
 * (documents for `loglikelihood_rolling`, prompts for a judge-only task) and is read as it is.
 */
class Collector {
  readonly samples: Sample[] = [];
  private readonly lineOf = new Map<string, number>();
  /** Line of the first row with an empty target, and whether a row with a target was seen. */
  private firstEmptyTarget: number | null = null;
  private sawTarget = false;
  constructor(
    private readonly file: string,
    private readonly limit: number | undefined,
    private readonly idField: string,
    private readonly targetField: string = 'answer',
  ) {
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      throw new InputError(`limit must be a positive integer, got ${limit}`);
    }
  }
  /** Check a sample against SampleSchema and add it; returns true when the limit is reached. */
  add(candidate: Sample, line: number): boolean {
    const parsed = SampleSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(`invalid sample: ${issue.message}`, { file: this.file, line, field: issue.path.join('.') || undefined });
    }
    const sample = parsed.data;
    const first = this.lineOf.get(sample.id);
    if (first !== undefined) {
      throw new InputError(`duplicate id "${sample.id}" (first seen on line ${first})`, { file: this.file, line, field: this.idField });
    }
    this.lineOf.set(sample.id, line);
    if (sample.target.trim() === '') this.firstEmptyTarget ??= line;
    else this.sawTarget = true;
    if (this.sawTarget && this.firstEmptyTarget !== null) {
      throw new InputError('empty (the other rows have a target: fill it in, or remove the row)', {
        file: this.file,
        line: this.firstEmptyTarget,
        field: this.targetField,
      });
    }
    this.samples.push(sample);
    return this.limit !== undefined && this.samples.length >= this.limit;
  }
  finish(): Sample[] {
    if (this.samples.length === 0) throw new InputError('no samples (the file is empty)', { file: this.file });
    return this.samples;
  }
}

/**
 * Read a JSONL file with a row mapper. Blank lines are skipped.
 * @throws InputError (file, line[, field]) for broken JSON, non-object rows, mapper errors, duplicate ids,
 *   an empty target among rows with targets, over-long lines, an empty file, a missing file.
 */
export async function readJsonl(file: string, map: RowMapper, opts: ReadOptions & { idField?: string; targetField?: string } = {}): Promise<FileSamples> {
  const col = new Collector(file, opts.limit, opts.idField ?? 'id', opts.targetField ?? 'answer');
  let index = 0;
  const res = await scanLines(
    file,
    (text, line) => {
      const row = parseJsonObject(text, file, line);
      return col.add(map(row, line, index++), line) ? 'stop' : undefined;
    },
    { maxLineBytes: opts.maxLineBytes },
  );
  return { samples: col.finish(), hash: res.sha256 };
}

/**
 * Read a generic JSONL file: columns fixed from the first row (see `resolveFields`), every row via `rowToSample`.
 * @throws InputError as `readJsonl`, plus missing/wrong-typed fields.
 */
export async function readGenericJsonl(file: string, fields: FieldMap, opts: ReadOptions = {}): Promise<FileSamples> {
  let resolved: ResolvedFields | null = null;
  return readJsonl(
    file,
    (row, line) => {
      resolved ??= resolveFields(row, fields, file, line);
      return rowToSample(row, resolved, file, line, {}, opts.images);
    },
    { ...opts, idField: fields.id ?? 'id', targetField: fields.target ?? 'answer' },
  );
}

/**
 * Read a generic CSV file (header row, RFC 4180 quoting, BOM allowed) with csv-parse, streamed. All values are
 * strings; a `choices` cell must hold a JSON list. Line numbers are 1-based physical lines (the header is line 1;
 * for a record spanning lines, the line where it ends).
 * @throws InputError (file, line[, field]) for malformed CSV, missing columns, duplicate ids, empty file,
 *   a record longer than `maxLineBytes` characters.
 */
export async function readGenericCsv(file: string, fields: FieldMap, opts: ReadOptions = {}): Promise<FileSamples> {
  await checkReadableFile(file);
  const { parse } = await import('csv-parse'); // loaded here (before the file streams): a run over JSONL never needs it
  const col = new Collector(file, opts.limit, fields.id ?? 'id', fields.target ?? 'answer');
  const hash = createHash('sha256');
  const source = createReadStream(file, { highWaterMark: 1 << 20 });
  source.on('data', (chunk) => hash.update(chunk as Buffer));
  const parser = parse({
    columns: true,
    bom: true,
    info: true,
    skip_empty_lines: true,
    max_record_size: opts.maxLineBytes ?? 16 * 1024 * 1024,
  });
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  let resolved: ResolvedFields | null = null;
  let stoppedEarly = false;
  try {
    for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const line = item.info.lines;
      resolved ??= resolveFields(item.record, fields, file, 1);
      if (col.add(rowToSample(item.record, resolved, file, line, {}, opts.images), line)) {
        stoppedEarly = true;
        break;
      }
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const e = err as Error & { lines?: number; code?: string };
    throw new InputError(`malformed CSV: ${e.message}`, { file, line: typeof e.lines === 'number' ? e.lines : undefined });
  } finally {
    source.unpipe(parser);
    source.destroy();
  }
  const samples = col.finish();
  // When the limit stopped parsing, the tap saw only part of the file: hash it in full.
  const digest = stoppedEarly ? (await hashFile(file)).sha256 : hash.digest('hex');
  return { samples, hash: digest };
}
