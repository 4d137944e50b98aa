/**
 * Importers for other tools' sample-level output: lm-evaluation-harness per-sample logs and Assay's documented
 * generic CSV (Inspect eval logs: ./inspect.ts). Each writes one transaction per file.
 */
import { basename, dirname } from 'node:path';
import { InputError } from '../core/errors.ts';
import { POOL_KINDS, type ImportTransaction, type Pool, type PoolKind, type PoolMeasurement, type PoolSample } from '../store/types.ts';
import { numberField, parseJsonLine, readCsvRecords, readLineBatches, readLines, runImport, stringField, type ImportOptions, type ImportResult } from './common.ts';

/** Largest `weight` the generic CSV accepts: a count of identical verdicts; beyond it sums overflow the fit. */
export const MAX_WEIGHT = 1e6;

const BINARY_METRICS = new Set(['acc', 'acc_norm', 'exact_match', 'em', 'exact', 'correct', 'pass', 'pass@1']);
const TEXT_FIELDS = ['question', 'query', 'problem', 'prompt', 'input', 'text', 'sentence', 'context', 'goal', 'ctx'];

function docText(doc: unknown): string | null {
  if (typeof doc === 'string') return doc;
  if (!doc || typeof doc !== 'object') return null;
  const o = doc as Record<string, unknown>;
  for (const f of TEXT_FIELDS) if (typeof o[f] === 'string' && o[f]) return o[f] as string;
  const s = JSON.stringify(doc);
  return s.length > 4000 ? s.slice(0, 4000) : s;
}

/**
 * lm-evaluation-harness `--log_samples` output: `samples_<task>_<timestamp>.jsonl`, one object per line with
 * `doc_id`, `doc`, `target` and one numeric field per metric (`acc`, `exact_match`, …).
 * `model` defaults to the parent folder name (lm-eval writes `<output>/<model>/samples_…`); `metric` defaults to the
 * first of acc, exact_match, acc_norm present. acc/exact_match-like metrics are binary, others numeric with
 * `direction` (default higher is better). Samples: `lm-eval:<task>/<doc_id>`.
 * lm-eval writes one line per document *per filter* (`"filter": "strict-match"`, `"flexible-extract"`, or `"none"`),
 * so the slice is `<metric>` for filter `none` (or no filter field) and `<metric>,<filter>` otherwise (lm-eval's
 * own `metric,filter` naming); each (filter, doc_id) must appear once (lm-eval's `repeats` live inside one line).
 * Errors: invalid JSON, a missing doc_id, a missing or non-numeric metric, a (filter, doc_id) given twice (file, line, field).
 */
export async function importLmEval(store: Pool, file: string, opts: ImportOptions & { model?: string; metric?: string; task?: string; direction?: 1 | -1 } = {}): Promise<ImportResult> {
  const name = basename(file);
  const task = opts.task ?? name.replace(/^samples_/, '').replace(/_\d{4}-\d{2}-\d{2}T[\d\-.:]+\.jsonl$/, '').replace(/\.jsonl$/, '');
  const model = opts.model ?? basename(dirname(file));
  return runImport(store, { format: 'lm-eval', file, options: { model, task, metric: opts.metric ?? null }, replace: opts.replace, keepBoth: opts.keepBoth }, async (tx) => {
    let metric = opts.metric;
    let n = 0;
    const samples = new Set<string>();
    const firstLine = new Map<string, number>();
    for await (const l of readLines(file)) {
      if (opts.limit !== undefined && n >= opts.limit) break;
      const o = parseJsonLine(file, l);
      const docId = stringField(file, l.line, 'doc_id', o.doc_id);
      if (!metric) metric = ['acc', 'exact_match', 'acc_norm'].find((m) => typeof o[m] === 'number');
      if (!metric) throw new InputError('no metric field found (looked for acc, exact_match, acc_norm); pass --metric', { file, line: l.line });
      const raw = o[metric];
      const value = typeof raw === 'boolean' ? Number(raw) : typeof raw === 'number' ? raw : NaN;
      if (!Number.isFinite(value)) throw new InputError(`expected a number, got ${JSON.stringify(raw)}`, { file, line: l.line, field: metric });
      const kind: PoolKind = BINARY_METRICS.has(metric) ? 'binary' : 'numeric';
      if (kind === 'binary' && value !== 0 && value !== 1) throw new InputError(`metric ${metric} should be 0 or 1, got ${value}`, { file, line: l.line, field: metric });
      const key = `lm-eval:${task}/${docId}`;
      const filter = typeof o.filter === 'string' && o.filter.trim() !== '' && o.filter !== 'none' ? o.filter.trim() : null;
      const slice = filter ? `${metric},${filter}` : metric;
      const dupKey = JSON.stringify([slice, docId]);
      const prev = firstLine.get(dupKey);
      if (prev !== undefined) throw new InputError(`duplicate measurement: doc_id ${docId}${filter ? ` with filter "${filter}"` : ''} was already given at line ${prev}`, { file, line: l.line, field: 'doc_id' });
      firstLine.set(dupKey, l.line);
      if (!samples.has(key)) {
        samples.add(key);
        const doc = o.doc as Record<string, unknown> | undefined;
        const cat = doc && typeof doc === 'object' ? (doc.subject ?? doc.category) : undefined;
        await tx.addSample({ key, dataset: `lm-eval:${task}`, sample_id: docId, category: typeof cat === 'string' ? cat : task, tags: [task], text: docText(o.doc), content_hash: typeof o.doc_hash === 'string' ? o.doc_hash : null, metadata: { target: o.target ?? null } });
      }
      await tx.addMeasurement({ slice, sample_key: key, model, opponent: '', rep: 0, kind, value, direction: opts.direction ?? 1, tie_tolerance: 0, weight: 1, line: l.line });
      n++;
    }
    return { measurements: n, samples: samples.size };
  });
}

// Inspect eval logs (`.eval` zip archives and JSON) have their own module: ./inspect.ts.
export { INSPECT_MAX_BYTES, importInspect } from './inspect.ts';

/**
 * Assay's generic CSV, so any tool's output can come in. Required columns: `model,sample_id,value,kind`.
 * Optional: `dataset` (default: the file name without extension; the sample key is `<dataset>/<sample_id>`),
 * `opponent` (preference/battle), `direction` (`higher`/`lower`, or 1/−1; default higher), `tie_tolerance`
 * (numeric; default 0), `weight` (battle and preference only: a count of identical verdicts; default 1, at most
 * MAX_WEIGHT), `slice`, `repeat` (integer ≥ 0, default 0), `category`, `tags`
 * (`;`-separated), `text`.
 * Per kind: binary value 0/1 (fractions allowed for avg@k); numeric any real; ordinal integers; preference value
 * ∈ [0, 1] for `model` over `opponent`; battle value 1 (model wins), 0 (opponent wins), 0.5 (tie).
 * Errors: a column the format does not have (line 1, with the nearest known name), unknown kind, bad value for the
 * kind, missing opponent, a duplicate (slice, sample, model, opponent, repeat).
 */
export async function importGenericCsv(store: Pool, file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const defaultDataset = basename(file).replace(/\.[^.]+$/, '');
  return runImport(store, { format: 'csv', file, options: {}, replace: opts.replace, keepBoth: opts.keepBoth }, async (tx) => {
    const sink = new GenericSink(tx);
    let cols: number[] | null = null;
    const v: (string | undefined)[] = new Array(GENERIC_FIELDS.length);
    try {
      for await (const b of readCsvRecords(file, ['model', 'sample_id', 'value', 'kind'], opts)) {
        if (!cols) {
          // a column the format does not have is refused, not ignored: a misspelt `direction` or `weight` would
          // otherwise change every number silently (an empty header cell, a trailing comma, is no column)
          const unknown = b.header.find((h) => h !== '' && !GENERIC_FIELD_SET.has(h));
          if (unknown !== undefined) throw unknownField(file, 1, unknown, 'column');
          cols = GENERIC_FIELDS.map((f) => b.header.indexOf(f));
        }
        for (let k = 0; k < b.records.length; k++) {
          if (opts.limit !== undefined && sink.n >= opts.limit) return await sink.end();
          const rec = b.records[k]!;
          for (let j = 0; j < cols.length; j++) v[j] = cols[j]! >= 0 ? rec[cols[j]!] : undefined;
          await sink.row(file, b.lines[k]!, v, defaultDataset);
        }
      }
    } catch (err) {
      // the rows before a bad one are the store's before the error: a repeat among them is reported first (runImport)
      await sink.flush();
      throw err;
    }
    return await sink.end();
  });
}

/**
 * The generic format as JSON Lines: one object per line with the generic CSV's fields as keys (`model`, `sample_id`,
 * `value`, `kind` required; the optional ones as in `importGenericCsv`). Values may be JSON strings, numbers or
 * booleans (taken as their text, so the checks are the CSV's); a missing key or null is an empty field; `tags` may
 * also be an array of strings. The dataset defaults to the file name without extension.
 * Errors: invalid JSON (its line; "truncated?" for an unterminated last line), a key the format does not have or a
 * value of another type (its line and key), and every error of `importGenericCsv`.
 */
export async function importGenericJsonl(store: Pool, file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const defaultDataset = basename(file).replace(/\.[^.]+$/, '');
  return runImport(store, { format: 'jsonl', file, options: {}, replace: opts.replace, keepBoth: opts.keepBoth }, async (tx) => {
    const sink = new GenericSink(tx);
    const v: (string | number | undefined)[] = new Array(GENERIC_FIELDS.length);
    const raw: unknown[] = new Array(GENERIC_FIELDS.length);
    try {
      for await (const batch of readLineBatches(file)) {
        for (const l of batch) {
          if (opts.limit !== undefined && sink.n >= opts.limit) return await sink.end();
          const o = parseJsonLine(file, l);
          // the line's keys once (each to its field's place; an unknown key refused), then the fields in their order
          raw.fill(undefined);
          for (const k in o) {
            const j = GENERIC_FIELD_INDEX.get(k);
            if (j === undefined) throw unknownField(file, l.line, k, 'key');
            raw[j] = o[k];
          }
          for (let j = 0; j < GENERIC_FIELDS.length; j++) {
            const f = GENERIC_FIELDS[j]!;
            const x = raw[j];
            if (x === undefined || x === null) v[j] = undefined;
            else if (typeof x === 'string') v[j] = x;
            // a number for a numeric field is taken as it is (not printed and parsed again: the checks are the same)
            else if (typeof x === 'number' && NUMERIC_FIELD[j]) v[j] = x;
            else if (typeof x === 'number' || typeof x === 'boolean') v[j] = String(typeof x === 'boolean' ? Number(x) : x);
            else if (f === 'tags' && Array.isArray(x) && x.every((t) => typeof t === 'string')) v[j] = x.join(';');
            else throw new InputError(`expected a string or a number, got ${JSON.stringify(x).slice(0, 80)}`, { file, line: l.line, field: f });
          }
          await sink.row(file, l.line, v, defaultDataset);
        }
      }
    } catch (err) {
      await sink.flush();
      throw err;
    }
    return await sink.end();
  });
}

/** The generic format's fields (CSV columns; JSONL keys), in the order of the value arrays below. */
const GENERIC_FIELDS = ['model', 'sample_id', 'value', 'kind', 'dataset', 'opponent', 'direction', 'tie_tolerance', 'weight', 'slice', 'repeat', 'category', 'tags', 'text'] as const;
const GENERIC_FIELD_SET: ReadonlySet<string> = new Set(GENERIC_FIELDS);
/** Each generic field's place in GENERIC_FIELDS. */
const GENERIC_FIELD_INDEX: ReadonlyMap<string, number> = new Map(GENERIC_FIELDS.map((f, j) => [f, j]));

/**
 * One generic row's fields, in GENERIC_FIELDS order: text (undefined when absent), except that the numeric fields
 * (`NUMERIC_FIELD`: value, tie_tolerance, weight, repeat) may be numbers, as a JSONL line gives them.
 */
type GenericRow = readonly (string | number | undefined)[];

/** The error for a column (CSV) or key (JSONL) the generic format does not have, naming the nearest one it has. */
function unknownField(file: string, line: number, name: string, what: 'column' | 'key'): InputError {
  const near = GENERIC_FIELDS.map((f) => [f, editDistance(name.toLowerCase(), f)] as const).sort((a, b) => a[1] - b[1])[0]!;
  const hint = near[1] <= Math.max(1, Math.floor(near[0].length / 3)) ? ` (did you mean "${near[0]}"?)` : '';
  return new InputError(`unknown ${what} "${name}"${hint}: the generic format's ${what}s are ${GENERIC_FIELDS.join(', ')}; remove it or rename it`, { file, line, field: name });
}

/** Levenshtein distance (insertions, deletions, substitutions), for the hint above. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

const F_MODEL = 0, F_SAMPLE_ID = 1, F_VALUE = 2, F_KIND = 3, F_DATASET = 4, F_OPPONENT = 5, F_DIRECTION = 6, F_TIE = 7, F_WEIGHT = 8, F_SLICE = 9, F_REPEAT = 10, F_CATEGORY = 11, F_TAGS = 12, F_TEXT = 13;
/** Whether field j is read as a number (a JSONL number is then kept as it is). */
const NUMERIC_FIELD: readonly boolean[] = GENERIC_FIELDS.map((_, j) => j === F_VALUE || j === F_TIE || j === F_WEIGHT || j === F_REPEAT);

/** Measurements handed to the store per call (`addMeasurements`). */
const ROW_BATCH = 4096;
/** Sample keys of the import remembered as already added (a bounded set, emptied when full). */
const RECENT_SAMPLES = 4096;

/**
 * Where the generic importers' rows go: measurements in batches of ROW_BATCH (`addMeasurements` when the store has
 * it), samples the first time their key comes (`addSampleIfNew` when the store has it, so no set of every key is
 * kept: memory flat in the file's size; else a set of the keys seen).
 */
class GenericSink {
  rows: Omit<PoolMeasurement, 'source'>[] = [];
  /** Rows handed to the store. */
  private stored = 0;
  samples = 0;
  lastKey = '';
  private readonly recent = new Set<string>();
  private readonly seen: Set<string> | null;

  constructor(private readonly tx: ImportTransaction) {
    this.seen = tx.addSampleIfNew ? null : new Set();
  }

  /** Rows handed to the store or waiting in `rows`. */
  get n(): number {
    return this.stored + this.rows.length;
  }

  /** One row (`v`: its fields in GENERIC_FIELDS order): checked, its sample added when new, the measurement queued. */
  async row(file: string, line: number, v: GenericRow, defaultDataset: string): Promise<void> {
    const m = genericMeasurement(file, line, v, defaultDataset);
    if (m.sample_key !== this.lastKey) await this.sample(m.sample_key, v, defaultDataset);
    this.rows.push(m);
    if (this.rows.length >= ROW_BATCH) await this.flush();
  }

  /** Add the sample of a row (`v`: its fields) unless already added. */
  async sample(key: string, row: GenericRow, defaultDataset: string): Promise<void> {
    const v = row as readonly (string | undefined)[]; // the sample's fields are text
    this.lastKey = key;
    if (this.recent.has(key)) return;
    if (this.recent.size >= RECENT_SAMPLES) this.recent.clear();
    this.recent.add(key);
    if (this.seen) {
      if (this.seen.has(key)) return;
      this.seen.add(key);
    }
    const tags = (v[F_TAGS] ?? '').split(';').map((t) => t.trim()).filter(Boolean);
    const sample: PoolSample = {
      key, dataset: (v[F_DATASET] ?? '').trim() || defaultDataset, sample_id: (v[F_SAMPLE_ID] ?? '').trim(), category: (v[F_CATEGORY] ?? '').trim() || null,
      tags, text: v[F_TEXT] ? v[F_TEXT] : null, content_hash: null, metadata: {},
    };
    if (this.seen) {
      await this.tx.addSample(sample);
      this.samples++;
    } else if (await this.tx.addSampleIfNew!(sample)) this.samples++;
  }

  /** Hand the waiting measurements to the store. */
  async flush(): Promise<void> {
    const rows = this.rows;
    if (!rows.length) return;
    this.rows = [];
    this.stored += rows.length;
    if (this.tx.addMeasurements) await this.tx.addMeasurements(rows);
    else for (const m of rows) await this.tx.addMeasurement(m);
  }

  /** Flush and give the counts. */
  async end(): Promise<{ measurements: number; samples: number }> {
    await this.flush();
    return { measurements: this.n, samples: this.samples };
  }
}

/**
 * Check one generic row (`v`: its fields as text, indexed as GENERIC_FIELDS; undefined when absent) and give its
 * measurement (sample key `<dataset>/<sample_id>`). Errors: InputError naming file, line and field (see
 * `importGenericCsv`).
 */
function genericMeasurement(file: string, line: number, row: GenericRow, defaultDataset: string): Omit<PoolMeasurement, 'source'> {
  const v = row as readonly (string | undefined)[]; // the fields read as text below are text
  const given = (x: string | number | undefined) => x !== undefined && x !== '';
  const model = stringField(file, line, 'model', v[F_MODEL]);
  const sid = stringField(file, line, 'sample_id', v[F_SAMPLE_ID]);
  const kind = (v[F_KIND] ?? '').trim() as PoolKind;
  if (!POOL_KINDS.includes(kind)) throw new InputError(`unknown kind ${JSON.stringify(v[F_KIND])}; expected one of ${POOL_KINDS.join(', ')}`, { file, line, field: 'kind' });
  const value = numberField(file, line, 'value', row[F_VALUE]);
  const opponent = (v[F_OPPONENT] ?? '').trim();
  if ((kind === 'preference' || kind === 'battle') && !opponent) throw new InputError(`a ${kind} needs an opponent`, { file, line, field: 'opponent' });
  if ((kind === 'preference' || kind === 'battle') && opponent === model) throw new InputError('opponent is the model itself', { file, line, field: 'opponent' });
  if (kind === 'binary' && (value < 0 || value > 1)) throw new InputError(`binary value must be in [0, 1], got ${value}`, { file, line, field: 'value' });
  if (kind === 'preference' && (value < 0 || value > 1)) throw new InputError(`preference value must be in [0, 1], got ${value}`, { file, line, field: 'value' });
  if (kind === 'battle' && value !== 0 && value !== 0.5 && value !== 1) throw new InputError(`battle value must be 1, 0 or 0.5, got ${value}`, { file, line, field: 'value' });
  if (kind === 'ordinal' && !Number.isInteger(value)) throw new InputError(`ordinal value must be an integer, got ${value}`, { file, line, field: 'value' });
  const dirRaw = v[F_DIRECTION] ? v[F_DIRECTION].trim().toLowerCase() : '';
  const direction = dirRaw === '' || dirRaw === 'higher' || dirRaw === '1' || dirRaw === '+1' ? 1 : dirRaw === 'lower' || dirRaw === '-1' ? -1 : 0;
  if (direction === 0) throw new InputError(`direction must be higher/lower (or 1/-1), got ${JSON.stringify(v[F_DIRECTION])}`, { file, line, field: 'direction' });
  const tol = given(row[F_TIE]) ? numberField(file, line, 'tie_tolerance', row[F_TIE]) : 0;
  if (tol < 0) throw new InputError('tie_tolerance must be ≥ 0', { file, line, field: 'tie_tolerance' });
  const weight = given(row[F_WEIGHT]) ? numberField(file, line, 'weight', row[F_WEIGHT]) : 1;
  if (weight < 0 || weight > MAX_WEIGHT) throw new InputError(`weight must be between 0 and ${MAX_WEIGHT} (a multiplicity of identical verdicts), got ${weight}`, { file, line, field: 'weight' });
  // Only the pairwise kinds read a weight (the fit and the win rate); given to another kind it would be ignored.
  if (weight !== 1 && kind !== 'battle' && kind !== 'preference') throw new InputError(`weight counts identical pairwise verdicts (battle, preference); a ${kind} measurement takes none, got ${weight}`, { file, line, field: 'weight' });
  const rep = given(row[F_REPEAT]) ? numberField(file, line, 'repeat', row[F_REPEAT]) : 0;
  if (!Number.isInteger(rep) || rep < 0) throw new InputError('repeat must be an integer ≥ 0', { file, line, field: 'repeat' });
  const dataset = v[F_DATASET] ? v[F_DATASET].trim() || defaultDataset : defaultDataset;
  return { slice: v[F_SLICE] ? v[F_SLICE].trim() : '', sample_key: `${dataset}/${sid}`, model, opponent, rep, kind, value, direction, tie_tolerance: tol, weight, line };
}
