/**
 * Dataset loading: one entry point, `loadDataset(ref)`, for named benchmarks (gsm8k, math500, aime24, aime25,
 * amc23) and generic JSONL/CSV files.
 *
 * Refs:
 * - `gsm8k`, `math500`, `aime24`, `amc23`: downloaded once from a pinned public commit into the cache
 *   (`opts.cacheDir` ?? `$ASSAY_CACHE_DIR/datasets` ?? `~/.cache/assay/datasets`), sha256-checked.
 *   `aime25` has no single upstream file and needs a path.
 * - `<name>:<path>`: the named loader on a local file (always offline; the file's own hash is recorded).
 * - `hle:<path>` (Humanity's Last Exam, hle.ts) and `grab:<grab.json>[,images=<folder>]` (the published GRAB
 *   benchmark with its charts, grab.ts): local files only.
 * - `jsonl:<path>`, `csv:<path>`, or a bare path ending in `.jsonl` / `.csv`: generic files.
 * - `<registered>` or `<registered>?k=v&…`: a dataset or generator registered with `registerDataset` (`registry.ts`),
 *   e.g. `arithmetic?count=200&seed=0`, `needle?seed=1`; looked up first.
 *
 * Generic files need no mapping when rows have an id column (`id`, else `idx`, `unique_id`, `question_id`: the
 * first present in the first row), an input column (`question`, else `problem`) and a target column (`answer`).
 * Other names go through `fields`. A `choices` column (a list; JSON text in CSV) makes multiple-choice samples.
 * Numbers are stringified with `String()` (JSON `27.0` → `"27"`), the raw value kept in `metadata.raw_answer`
 * (`metadata.raw_id` for ids); every other column goes into `metadata`. Empty ids and inputs are refused, and so
 * is an empty target in a file whose other rows have targets (`e.jsonl:3 field "answer": empty …`) and any empty
 * target of a named benchmark; a file in which every target is empty holds no targets (documents for
 * `loglikelihood_rolling`, prompts for a judge) and is read as it is.
 */
import { basename, dirname, extname, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import type { Sample } from '../core/schemas.ts';
import { datasetCacheDir, ensureCached } from './download.ts';
import { readGenericCsv, readGenericJsonl, readJsonl, type FileSamples } from './files.ts';
import { allNamedDatasets, getNamedDataset } from './named.ts';
import type { FieldMap, ImageContext } from './rows.ts';
import { loadHleDataset } from './hle.ts';
import { loadGrabDataset } from './grab.ts';
import { loadRegisteredDataset } from './registry.ts';

export type { FieldMap } from './rows.ts';
export { DEFAULT_MAX_LINE_BYTES } from './lines.ts';
export { datasetCacheDir } from './download.ts';

export type { DatasetOptions, LoadedDataset } from './types.ts';
import type { DatasetOptions, LoadedDataset } from './types.ts';

type Parsed =
  | { kind: 'named'; name: string; path: string | null }
  | { kind: 'generic'; format: 'jsonl' | 'csv'; path: string };

function parseRef(ref: string): Parsed {
  const colon = ref.indexOf(':');
  if (colon > 0) {
    const prefix = ref.slice(0, colon);
    const rest = ref.slice(colon + 1);
    if (getNamedDataset(prefix)) return { kind: 'named', name: prefix, path: rest === '' ? null : rest };
    if (prefix === 'jsonl' || prefix === 'csv') {
      if (rest === '') throw new InputError(`dataset ref "${ref}" needs a file path: ${prefix}:<path>`);
      return { kind: 'generic', format: prefix, path: rest };
    }
  }
  if (getNamedDataset(ref)) return { kind: 'named', name: ref, path: null };
  const ext = extname(ref).toLowerCase();
  if (ext === '.jsonl' || ext === '.csv') return { kind: 'generic', format: ext === '.csv' ? 'csv' : 'jsonl', path: ref };
  const names = allNamedDatasets().map((d) => d.name);
  throw new InputError(
    `unknown dataset "${ref}": use one of ${names.join(', ')} (optionally <name>:<path>), jsonl:<path>, csv:<path>, or a path ending in .jsonl/.csv`,
  );
}

/**
 * Load a dataset by ref (see the module comment for the ref forms and column rules).
 * Reads the file as a stream line by line while hashing its bytes.
 * @returns `{name, ref, path, hash, samples, defaultScorer, defaultTemplate}`; samples in file order.
 * @throws InputError naming file, 1-based line and field for: unknown refs, missing files, broken JSON,
 *   missing fields, wrong types (e.g. an object answer), an empty file ("no samples"), a line over
 *   `maxLineBytes`, duplicate ids, a download whose sha256 does not match, `aime25` without a path.
 * @throws RunError when a download fails (network, HTTP status).
 */
export async function loadDataset(ref: string, opts: DatasetOptions = {}): Promise<LoadedDataset> {
  const registered = await loadRegisteredDataset(ref); // datasets and generators registered by name (registry.ts)
  if (registered) {
    const samples = opts.limit ? registered.samples.slice(0, opts.limit) : registered.samples;
    return { name: registered.name, ref, path: null, hash: registered.hash, samples, defaultScorer: registered.defaultScorer, defaultTemplate: registered.defaultTemplate };
  }
  if (ref === 'hle' || ref.startsWith('hle:')) return loadHleDataset(ref, opts); // Humanity's Last Exam: JSONL or Parquet (hle.ts)
  if (ref === 'grab' || ref.startsWith('grab:')) return loadGrabDataset(ref, opts); // GRAB's question file with its charts (grab.ts)
  const parsed = parseRef(ref);
  const readOpts = { limit: opts.limit, maxLineBytes: opts.maxLineBytes };
  if (parsed.kind === 'generic') {
    const path = resolve(parsed.path);
    const fields = opts.fields ?? {};
    const imageCtx: ImageContext | undefined = fields.image ? { images: new Map(), baseDir: dirname(path), textOnly: !!opts.textOnly, dropped: 0 } : undefined;
    const fileOpts = { ...readOpts, images: imageCtx };
    const res: FileSamples =
      parsed.format === 'csv' ? await readGenericCsv(path, fields, fileOpts) : await readGenericJsonl(path, fields, fileOpts);
    const hasChoices = res.samples.some((s) => s.choices !== undefined);
    const chartImages = fields.image ? 0 : unreadChartImages(res.samples, path, !!opts.textOnly);
    return {
      name: basename(path, extname(path)),
      ref,
      path,
      hash: res.hash,
      samples: res.samples,
      // `math` extracts the final answer (boxed, "the answer is", last line) before comparing; `exact` would
      // compare the whole response with the gold and score almost every real model response 0.
      // chart questions (`assay gen charts`) are graded by GRAB's rule at their stated precision
      defaultScorer: hasChoices ? 'choice' : res.samples.length && res.samples.every((s) => s.metadata.generator === 'charts') ? 'grab' : 'math',
      defaultTemplate: 'plain',
      ...(imageCtx && imageCtx.images.size ? { images: imageCtx.images } : {}),
      ...(opts.textOnly ? { textOnly: { dropped: imageCtx?.dropped ?? chartImages } } : {}),
    };
  }

  const def = getNamedDataset(parsed.name)!;
  let path: string;
  if (parsed.path !== null) {
    path = resolve(parsed.path);
  } else {
    const source = opts.source ?? def.source;
    if (!source) throw new InputError(def.noSourceHint ?? `dataset "${def.name}" has no download source: pass a local path`);
    path = await ensureCached({ name: def.name, url: source.url, sha256: source.sha256, cacheDir: datasetCacheDir(opts.cacheDir) });
  }
  const res = await readJsonl(path, def.mapper(path), { ...readOpts, idField: def.idField });
  return {
    name: def.name,
    ref,
    path,
    hash: res.hash,
    samples: res.samples,
    defaultScorer: def.defaultScorer,
    defaultTemplate: def.defaultTemplate,
  };
}

/**
 * A chart dataset (rows written by `assay gen charts`: `generator: "charts"` and an `image` path) read without its
 * image column: its questions are about charts the model would never see, so it is refused unless the text-only
 * reading was asked for explicitly. Returns how many samples have a chart that is not sent (the text-only count).
 * @throws InputError naming the file, the first such sample and the two ways on (`--image-field image` to send the
 *   charts, `--text-only` for a separate run labelled text-only)
 */
function unreadChartImages(samples: readonly Sample[], file: string, textOnly: boolean): number {
  let n = 0, first: Sample | null = null;
  for (const s of samples) {
    if (s.metadata.generator !== 'charts' || typeof s.metadata.image !== 'string' || s.metadata.image === '') continue;
    n++;
    first ??= s;
  }
  if (first && !textOnly) {
    throw new InputError(
      `chart questions without their charts: ${n} sample(s) (the first "${first.id}") were generated by \`assay gen charts\` and ask about the chart in column "image", which is not read. ` +
        'Pass --image-field image (fields: { image: \'image\' } in the library) to send each chart with its question, or --text-only (textOnly) to send the questions alone as a separate run labelled text-only.',
      { file, field: 'image' },
    );
  }
  return n;
}

/**
 * The named datasets this build knows: name, one-line description, and the pinned download URL
 * (null when the dataset must be given as a local path, e.g. `aime25`).
 */
export function namedDatasets(): { name: string; description: string; url: string | null }[] {
  return allNamedDatasets().map((d) => ({ name: d.name, description: d.description, url: d.source?.url ?? null }));
}
