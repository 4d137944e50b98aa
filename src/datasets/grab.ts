/**
 * The published GRAB benchmark (Roberts, Han, Albanie 2024, "GRAB: A Challenging GRaph Analysis Benchmark for Large
 * Multimodal Models", arXiv:2408.11817): `grab:<grab.json>[,images=<folder>]` reads the question file of
 * jonathan-roberts1/GRAB (`data/grab.json`: a JSON object keyed by pid, `"0"`…`"2169"`, each
 * `{pid, question, answer, category, complexity, task, image}`) with its chart images, so the published benchmark is
 * graded by the same `grab` scorer as generated charts.
 *
 * Each question becomes a sample: id = the pid, input = the question's text then its chart as an image part, target =
 * the answer string, metadata = `source: "grab"`, pid, task, category, complexity (what the report's difficulty
 * curves read), the `precision` the question states (`int` "as an integer", `1dp` "to 1 decimal place", `nearest10`
 * "to the nearest 10", `equation` "Write your answer in the form y = …"; what the grab scorer rounds at), the
 * `answer_type` (`number`, `pair` for `[x1, x2]`, `equation`), the image as the file gives it and its sha256.
 *
 * Images: `image` (`images/N.png`) is read relative to the folder of grab.json (the repository's layout,
 * `data/grab.json` beside `data/images/`), or with `images=<folder>`, as `<folder>/N.png`. The shared copy of the
 * file has no images: a missing image is an InputError naming it (and both ways on); `--text-only` (`textOnly`) reads
 * the questions alone, as a separate run labelled text-only.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { sha256Bytes } from '../core/images.ts';
import { imagePart, type Sample } from '../core/schemas.ts';
import { checkReadableFile, describe } from './lines.ts';
import { readImageEntry, type ImageContext } from './rows.ts';
import type { DatasetOptions, LoadedDataset } from './types.ts';

const TASKS = ['properties', 'function', 'series', 'transform'];

/** The precision a GRAB question states, or null when it states none this reader knows. */
export function grabPrecision(question: string): 'int' | '1dp' | 'nearest10' | 'equation' | null {
  if (/Write your answer in the form y\s*=/i.test(question)) return 'equation';
  if (/to 1 decimal place/i.test(question)) return '1dp';
  if (/to the nearest 10\b/i.test(question)) return 'nearest10';
  if (/as an integer/i.test(question)) return 'int';
  return null;
}

/** Split `grab:<path>[,images=<folder>]` (the option after the last comma). */
export function parseGrabRef(ref: string): { path: string; images: string | null } {
  const rest = ref.startsWith('grab:') ? ref.slice(5) : '';
  if (rest === '') throw new InputError('GRAB has no pinned download here: pass the question file, grab:<path/to/grab.json>[,images=<folder>]', { field: 'dataset' });
  const m = /^(.*),images=(.*)$/.exec(rest);
  if (!m) return { path: rest, images: null };
  if (m[1] === '' || m[2] === '') throw new InputError(`bad GRAB ref "${ref}": use grab:<path/to/grab.json>,images=<folder>`, { field: 'dataset' });
  return { path: m[1]!, images: m[2]! };
}

/**
 * Map one GRAB entry to a sample (see the module comment).
 * @param key the entry's key in the file (its pid)
 * @throws InputError naming the file and `<key>.<field>` for a missing or mistyped field, a pid that is not its key,
 *   an unknown task, a complexity outside 0–9, a question whose precision is not stated, a missing or unreadable image
 */
export function grabEntryToSample(key: string, row: unknown, file: string, images: ImageContext & { folder: string | null }): Sample {
  const at = (field: string) => ({ file, field: `${key}.${field}` });
  if (!row || typeof row !== 'object' || Array.isArray(row)) throw new InputError(`wrong type: expected an object, got ${describe(row)}`, { file, field: key });
  const r = row as Record<string, unknown>;
  const str = (field: string): string => {
    const v = r[field];
    if (typeof v !== 'string') throw new InputError(v === undefined ? 'missing field' : `wrong type: expected a string, got ${describe(v)}`, at(field));
    if (v.trim() === '') throw new InputError('empty value', at(field));
    return v;
  };
  if (r.pid !== Number(key) || !Number.isInteger(r.pid)) throw new InputError(`pid ${JSON.stringify(r.pid)} is not the entry's key ${key}`, at('pid'));
  const question = str('question'), answer = str('answer').trim(), category = str('category'), task = str('task'), image = str('image');
  if (!TASKS.includes(task)) throw new InputError(`unknown task "${task}"; GRAB's tasks are ${TASKS.join(', ')}`, at('task'));
  const complexity = r.complexity;
  if (!Number.isInteger(complexity) || (complexity as number) < 0 || (complexity as number) > 9) throw new InputError(`complexity must be an integer 0–9, got ${JSON.stringify(complexity)}`, at('complexity'));
  const precision = grabPrecision(question);
  if (!precision) throw new InputError('the question states no precision this reader knows ("as an integer", "to 1 decimal place", "to the nearest 10", "in the form y = …")', at('question'));
  const answerType = precision === 'equation' ? 'equation' : /^\[.*\]$/.test(answer) ? 'pair' : 'number';
  const metadata: Record<string, unknown> = { source: 'grab', pid: r.pid, task, category, complexity, precision, answer_type: answerType, image };
  let input: Sample['input'] = question;
  if (images.textOnly) images.dropped++;
  else {
    const ref = images.folder ? basename(image) : image;
    let entry;
    try {
      entry = readImageEntry(ref, images.folder ?? images.baseDir, at('image'));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      throw new InputError(`${e.detail}. GRAB's images are not in its question file: give their folder (grab:<file>,images=<folder>), or read the questions alone with --text-only (a separate run, labelled text-only)`, at('image'));
    }
    if (!images.images.has(entry.sha256)) images.images.set(entry.sha256, entry);
    metadata.image_sha256 = entry.sha256;
    input = [{ role: 'user', content: [{ type: 'text', text: question }, imagePart(entry)] }];
  }
  return { id: key, input, target: answer, metadata };
}

/**
 * Load GRAB from `grab:<grab.json>[,images=<folder>]` (module comment).
 * @returns samples in pid order (the first `opts.limit`), default scorer `grab`, template `plain`, the images read,
 *   `textOnly` with the count of charts not sent when read with `opts.textOnly`; `hash` is the sha256 of the file
 * @throws InputError for a missing ref path, a missing or unreadable file, a file that is not a JSON object of
 *   entries, a bad entry (see {@link grabEntryToSample}), an empty file
 */
export async function loadGrabDataset(ref: string, opts: DatasetOptions = {}): Promise<LoadedDataset> {
  const parsed = parseGrabRef(ref);
  const path = resolve(parsed.path);
  await checkReadableFile(path);
  const limit = opts.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new InputError(`limit must be a positive integer, got ${limit}`);
  const bytes = await readFile(path);
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message}`, { file: path });
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new InputError(`expected GRAB's JSON object keyed by pid, got ${describe(data)}`, { file: path });
  const keys = Object.keys(data).sort((a, b) => Number(a) - Number(b));
  if (keys.length === 0) throw new InputError('no samples (the file is an empty object)', { file: path });
  const images: ImageContext & { folder: string | null } = { images: new Map(), baseDir: dirname(path), textOnly: !!opts.textOnly, dropped: 0, folder: parsed.images ? resolve(parsed.images) : null };
  const samples: Sample[] = [];
  for (const key of limit ? keys.slice(0, limit) : keys) samples.push(grabEntryToSample(key, (data as Record<string, unknown>)[key], path, images));
  return {
    name: 'grab', ref, path, hash: sha256Bytes(bytes), samples, defaultScorer: 'grab', defaultTemplate: 'plain',
    ...(images.images.size ? { images: images.images } : {}),
    ...(images.textOnly ? { textOnly: { dropped: images.dropped } } : {}),
  };
}
