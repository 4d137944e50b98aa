/**
 * Inspect (UK AISI) eval logs into the pool: the default `.eval` format (a zip archive) and `--log-format json`.
 *
 * `.eval` layout (inspect_ai `log/_recorders/eval.py`): `header.json` (the `EvalLog` without samples: `eval.{task,
 * model, dataset.name}`, `status`, `results`, `stats`), one `samples/<id>_epoch_<epoch>.json` per sample × epoch
 * (an `EvalSample`: `id`, `epoch`, `input`, `target`, `scores: {<scorer>: {value, answer, explanation}}`,
 * `metadata`, messages and events), `summaries.json` (per sample × epoch: `id`, `epoch`, `input`, `target`,
 * `scores`), `reductions.json`, and a `_journal/` (`start.json` with `eval` and `plan`; `summaries/<n>.json`) written
 * while the eval runs. Older logs have `start.json` + `results.json` and `summary.json` / `summaries/<n>.json`
 * instead. A log still running (or that crashed) has no `header.json`: its `_journal/start.json` names the eval and
 * the samples written so far are imported. Entries are read one at a time from the zip's central directory
 * (yauzl), so memory holds one sample, never the whole log. Samples come from `samples/`; a log written without
 * them falls back to the summaries (no metadata there).
 *
 * Values C/I/P/N map to 1/0/0.5/0 (Inspect's `value_to_float`); letter and boolean values are binary (P = ½),
 * numeric values (numbers, numeric strings) numeric. Samples: `<dataset>/<id>`; epochs are repeats (rep = epoch − 1).
 */
import { readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { InputError } from '../core/errors.ts';
import { duplicateMeasurement } from '../store/shared.ts';
import type { ImportTransaction, Pool, PoolKind } from '../store/types.ts';
import { checkReadable, runImport, stringField, type ImportOptions, type ImportResult } from './common.ts';

/** Largest Inspect JSON log read (the format is one JSON document, so it is parsed whole). */
export const INSPECT_MAX_BYTES = 512 * 1024 * 1024;
/** Largest single entry of a `.eval` archive read (one sample with its transcript, or a summaries file), uncompressed. */
export const INSPECT_EVAL_MAX_ENTRY_BYTES = 256 * 1024 * 1024;

/** Inspect's score values: C(orrect)=1, I(ncorrect)=0, P(artial)=0.5, N(o answer)=0, booleans, numbers. */
function inspectValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === 'C') return 1;
  if (v === 'I' || v === 'N') return 0;
  if (v === 'P') return 0.5;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return NaN;
}

/** The eval an Inspect log is of: its model and the dataset its samples are keyed under. */
interface InspectEval {
  model: string;
  dataset: string;
}

function evalOf(file: string, ev: unknown, field: string): InspectEval {
  const e = (ev ?? {}) as Record<string, unknown>;
  const model = stringField(file, 0, `${field}.model`, e.model);
  const dataset = String(((e.dataset ?? {}) as Record<string, unknown>).name ?? e.task ?? basename(file));
  return { model, dataset };
}

/** Adds Inspect samples to an import, one at a time; counts what it added. */
class InspectSamples {
  measurements = 0;
  private seen = new Set<string>();
  /** (scorer, sample, epoch) already added: the log has no lines, so a repeat is named by its entry here, at once. */
  private given = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly tx: ImportTransaction,
    private readonly ev: InspectEval,
    private readonly scorer: string | undefined,
  ) {}

  get samples(): number {
    return this.seen.size;
  }

  /** One `EvalSample` (or summary) `s`, named `where` in errors. */
  async add(s: Record<string, unknown>, where: string): Promise<void> {
    const file = this.file;
    if (s.id === undefined || s.id === null) throw new InputError('sample without id', { file, field: `${where}.id` });
    const id = String(s.id);
    const scores = (s.scores ?? {}) as Record<string, { value?: unknown }>;
    const scorer = this.scorer ?? Object.keys(scores)[0];
    if (!scorer || !scores[scorer]) throw new InputError(`no score${this.scorer ? ` from scorer "${this.scorer}"` : ''}`, { file, field: `${where}.scores` });
    const raw = scores[scorer]!.value;
    const value = inspectValue(raw);
    if (!Number.isFinite(value)) throw new InputError(`cannot map score value ${JSON.stringify(raw)} to a number`, { file, field: `${where}.scores.${scorer}.value` });
    // By the value's type, never by the value: C/I/P/N letters and booleans are binary (P = ½, a fraction as binary
    // allows), numbers numeric, so one scorer's samples all get one kind and stay in one ordering.
    const kind: PoolKind = typeof raw === 'number' || (typeof raw === 'string' && !/^[CIPN]$/.test(raw)) ? 'numeric' : 'binary';
    const key = `${this.ev.dataset}/${id}`;
    if (!this.seen.has(key)) {
      this.seen.add(key);
      const input = s.input;
      const text = typeof input === 'string' ? input : Array.isArray(input) ? input.map((m) => (typeof m === 'object' && m ? contentText((m as { content?: unknown }).content) : '')).join('\n') : null;
      const md = (s.metadata ?? {}) as Record<string, unknown>;
      const cat = md.category ?? md.subject;
      await this.tx.addSample({ key, dataset: this.ev.dataset, sample_id: id, category: typeof cat === 'string' ? cat : null, tags: [], text, content_hash: null, metadata: { target: s.target ?? null, ...md } });
    }
    const epoch = typeof s.epoch === 'number' ? s.epoch : 1;
    const m = { slice: scorer, sample_key: key, model: this.ev.model, opponent: '', rep: Math.max(0, epoch - 1), kind, value, direction: 1 as const, tie_tolerance: 0, weight: 1, line: null };
    const given = JSON.stringify([m.slice, m.sample_key, m.rep]);
    if (this.given.has(given)) throw new InputError(`${duplicateMeasurement(file, m, null).detail} (epoch ${epoch})`, { file, field: where });
    this.given.add(given);
    try {
      await this.tx.addMeasurement(m);
    } catch (err) {
      // the log has no lines: name the sample entry instead
      if (err instanceof InputError) throw new InputError(`${err.message.replace(/^.*?: (?=duplicate)/, '')} (epoch ${epoch})`, { file, field: where });
      throw err;
    }
    this.measurements++;
  }
}

/** A message's content as text: a string, or the text parts of a content list (images and other parts left out). */
function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).filter(Boolean).join('\n');
  return '';
}

/** Whether `file` starts with a zip local-file header (`PK\x03\x04`): an Inspect `.eval` log. */
async function isZip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && b.readUInt32LE(0) === 0x04034b50;
  } finally {
    await fh.close();
  }
}

/**
 * Inspect eval log, `.eval` (zip, Inspect's default) or JSON (`--log-format json`), told apart by the file's first
 * bytes. `scorer`: which of the samples' scorers (default: each sample's first). See the module comment for the
 * layout and value mapping.
 * Errors (InputError naming the file and the entry or field): a zip that is not an Inspect log (no header), a
 * corrupt or truncated archive, invalid JSON in an entry, no samples, a sample without id or the chosen scorer, an
 * unmappable value, an entry over {@link INSPECT_EVAL_MAX_ENTRY_BYTES}; for JSON, a file over {@link INSPECT_MAX_BYTES}.
 */
export async function importInspect(store: Pool, file: string, opts: ImportOptions & { scorer?: string } = {}): Promise<ImportResult> {
  checkReadable(file);
  if (await isZip(file)) return importInspectEval(store, file, opts);
  if (statSync(file).size > INSPECT_MAX_BYTES) throw new InputError(`Inspect JSON log larger than ${INSPECT_MAX_BYTES} bytes; split it or export samples as the generic CSV`, { file });
  return runImport(store, { format: 'inspect', file, options: { scorer: opts.scorer ?? null }, replace: opts.replace, keepBoth: opts.keepBoth }, async (tx) => {
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new InputError(`invalid JSON (truncated file?): ${(err as Error).message}${/\.eval$/i.test(file) ? ' — a .eval log is a zip archive, and this file is not one' : ''}`, { file });
    }
    const ev = evalOf(file, doc.eval, 'eval');
    const samples = doc.samples;
    if (!Array.isArray(samples)) throw new InputError('no "samples" array (was the log written with samples?)', { file, field: 'samples' });
    const add = new InspectSamples(file, tx, ev, opts.scorer);
    for (let k = 0; k < samples.length; k++) {
      if (opts.limit !== undefined && add.measurements >= opts.limit) break;
      await add.add(samples[k] as Record<string, unknown>, `samples[${k}]`);
      opts.progress?.(add.measurements);
    }
    return { measurements: add.measurements, samples: add.samples };
  });
}

/** Read one zip entry whole (bounded) and parse it as JSON. */
async function readJsonEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, file: string): Promise<unknown> {
  if (entry.uncompressedSize > INSPECT_EVAL_MAX_ENTRY_BYTES) throw new InputError(`entry ${entry.fileName} is ${entry.uncompressedSize} bytes uncompressed, over ${INSPECT_EVAL_MAX_ENTRY_BYTES}`, { file, field: entry.fileName });
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw new InputError(`cannot read entry ${entry.fileName}: ${(err as Error).message}`, { file, field: entry.fileName });
  }
  const parts: Buffer[] = [];
  try {
    for await (const chunk of stream) parts.push(chunk as Buffer);
  } catch (err) {
    throw new InputError(`cannot read entry ${entry.fileName} (corrupt or truncated archive?): ${(err as Error).message}`, { file, field: entry.fileName });
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch (err) {
    throw new InputError(`invalid JSON in entry ${entry.fileName}: ${(err as Error).message}`, { file, field: entry.fileName });
  }
}

/** The `.eval` (zip) reader of {@link importInspect}. */
async function importInspectEval(store: Pool, file: string, opts: ImportOptions & { scorer?: string }): Promise<ImportResult> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: false });
  } catch (err) {
    throw new InputError(`not a readable .eval (zip) archive (truncated or corrupt?): ${(err as Error).message}`, { file });
  }
  try {
    const entries = new Map<string, yauzl.Entry>();
    try {
      for await (const e of zip.eachEntry()) if (!e.fileName.endsWith('/')) entries.set(e.fileName, e);
    } catch (err) {
      throw new InputError(`corrupt .eval (zip) archive: ${(err as Error).message}`, { file });
    }
    const headerName = ['header.json', '_journal/start.json', 'start.json'].find((n) => entries.has(n));
    if (!headerName) throw new InputError('not an Inspect .eval log: the archive has no header.json (nor _journal/start.json)', { file });
    const header = (await readJsonEntry(zip, entries.get(headerName)!, file)) as Record<string, unknown>;
    const ev = evalOf(file, header.eval, `${headerName}: eval`);
    const sampleNames = [...entries.keys()].filter((n) => /^samples\/[^/]+\.json$/.test(n)).sort(compareSampleNames);
    return await runImport(store, { format: 'inspect', file, options: { scorer: opts.scorer ?? null, log: 'eval', status: typeof header.status === 'string' ? header.status : null }, replace: opts.replace, keepBoth: opts.keepBoth }, async (tx) => {
      const add = new InspectSamples(file, tx, ev, opts.scorer);
      if (sampleNames.length) {
        for (const name of sampleNames) {
          if (opts.limit !== undefined && add.measurements >= opts.limit) break;
          await add.add((await readJsonEntry(zip, entries.get(name)!, file)) as Record<string, unknown>, name);
          opts.progress?.(add.measurements);
        }
      } else {
        // No sample files: the summaries (id, epoch, input, target, scores) carry what the pool needs.
        const journal = [...entries.keys()].filter((n) => /^(_journal\/)?summaries\/\d+\.json$/.test(n)).sort((a, b) => summaryIndex(a) - summaryIndex(b));
        const summaryFiles = ['summaries.json', 'summary.json'].filter((n) => entries.has(n)).slice(0, 1);
        const names = summaryFiles.length ? summaryFiles : journal;
        if (!names.length) throw new InputError('the .eval log holds no samples (samples/*.json) and no summaries: was it written with --no-log-samples?', { file, field: 'samples' });
        for (const name of names) {
          const list = await readJsonEntry(zip, entries.get(name)!, file);
          if (!Array.isArray(list)) throw new InputError(`entry ${name} is not a list of sample summaries`, { file, field: name });
          for (let k = 0; k < list.length; k++) {
            if (opts.limit !== undefined && add.measurements >= opts.limit) break;
            await add.add(list[k] as Record<string, unknown>, `${name}[${k}]`);
          }
        }
      }
      return { measurements: add.measurements, samples: add.samples };
    });
  } finally {
    zip.close();
  }
}

/** `summaries/12.json` → 12. */
function summaryIndex(name: string): number {
  return Number(/(\d+)\.json$/.exec(name)?.[1] ?? 0);
}

/** Sample entries in (id, epoch) order: `samples/<id>_epoch_<n>.json`, ids numerically when both are numbers. */
function compareSampleNames(a: string, b: string): number {
  const parse = (n: string) => {
    const m = /^samples\/(.+)_epoch_(\d+)\.json$/.exec(n);
    return m ? { id: m[1]!, epoch: Number(m[2]) } : { id: n, epoch: 0 };
  };
  const x = parse(a), y = parse(b);
  const nx = Number(x.id), ny = Number(y.id);
  const byId = Number.isFinite(nx) && Number.isFinite(ny) && x.id !== '' && y.id !== '' ? nx - ny : x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
  return byId || x.epoch - y.epoch;
}
