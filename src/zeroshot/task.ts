/**
 * Zero-shot embedding tasks: classification (items and a class list, read through prompt templates) and retrieval
 * (items, each with its own texts), as values (`defineZeroShotTask`) or files (YAML, `readZeroShotFile`).
 *
 * A task file:
 * ```yaml
 * kind: zeroshot-classification      # or zeroshot-retrieval
 * name: pets
 * version: 1                         # optional (default 1)
 * classes: [cat, dog, bird]          # classification only
 * templates: clip-7                  # a named set (clip-1, clip-7) or a list of prompts with {} for the class name
 * data: items.jsonl                  # one item per line, or `items: [...]` inline
 * ```
 * Items (JSONL, one object per line; every other field is kept as metadata, e.g. `subject` for stratified subsets):
 * - classification: `{"id": "x1", "image": "img/x1.png", "label": "cat"}` or `{"id": "x2", "text": "…", "label": 1}`
 *   (label: a class name or a 0-based class index);
 * - retrieval: `{"id": "img1", "image": "img/1.png", "texts": ["a cat on a mat", "…"]}` (image↔text), or
 *   `{"id": "doc1", "text": "…", "texts": ["a query", …]}` (document↔query).
 * `image` is a `data:` URI or a file path (relative paths from the data file's folder; png, jpeg, webp, gif, bmp),
 * sent as a data URI. The pool records an image by its path (or `sha256:` of its data URI), never its bytes.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../core/errors.ts';
import { hashJson, sha256 } from '../core/hash.ts';
import { stratifiedSubset, type StratifiedSpec, type StratifiedSubset } from '../datasets/stratified.ts';
import type { EmbedInput } from './embedder.ts';

/**
 * Prompt-template sets for class names (`{}` is the class name). `clip-1`: CLIP's single default prompt; `clip-7`: the
 * seven-prompt ensemble CLIP's authors selected for ImageNet (Radford et al. 2021, §3.1.4; the CLIP repository's
 * notebook "Prompt_Engineering_for_ImageNet").
 */
export const TEMPLATE_SETS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'clip-1': ['a photo of a {}.'],
  'clip-7': ['itap of a {}.', 'a bad photo of the {}.', 'a origami {}.', 'a photo of the large {}.', 'a {} in a video game.', 'art of the {}.', 'a photo of the small {}.'],
});

/** One item of a zero-shot task as written. */
export interface ZeroShotItemInput {
  id?: string;
  /** A text item (or a document, for retrieval). */
  text?: string;
  /** An image item: a data URI or a file path. */
  image?: string;
  /** Classification: a class name or 0-based index. */
  label?: string | number;
  /** Retrieval: the item's own texts (captions or queries), ≥ 1. */
  texts?: string[];
  [key: string]: unknown;
}

/** What a zero-shot task author writes. */
export interface ZeroShotDefinition {
  type: 'classification' | 'retrieval';
  name: string;
  version?: string | number;
  description?: string;
  /** Classification: the class names (≥ 2, distinct). */
  classes?: string[];
  /** Classification: a template set name or prompts with `{}` (default `clip-1`). */
  templates?: string | string[];
  /** The items, or a JSONL file of them. */
  items: ZeroShotItemInput[] | string;
}

/** An item ready to embed. */
export interface ZeroShotItem {
  id: string;
  input: EmbedInput;
  /** What the pool records as the item's input: the text, or `image:<path>` / `image:sha256:<hash>`. */
  ref: string;
  /** Classification: the class index. */
  label?: number;
  /** Retrieval: its texts. */
  texts?: string[];
  /** Every other field of the item (and `label` as a class name, for classification). */
  metadata: Record<string, unknown>;
}

/** A validated zero-shot task (what `defineZeroShotTask` returns). */
export interface ZeroShotTask {
  readonly kind: 'assay.zeroshot';
  readonly type: 'classification' | 'retrieval';
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly classes: readonly string[];
  readonly templates: { readonly name: string; readonly prompts: readonly string[] };
  readonly items: readonly ZeroShotItem[];
  /** `image` when every item is an image, `text` when every item is a text, else `mixed`. */
  readonly modality: 'image' | 'text' | 'mixed';
  /** sha256 of the items as embedded (ids, inputs, labels, texts). */
  readonly dataHash: string;
  /** sha256 of the whole task (type, name, version, classes, prompts, data hash); a subset keeps its task's. */
  readonly hash: string;
  /** The file the task came from, when it did. */
  readonly source?: string;
  /** When the items are a subset (a stratified draw): how it was made (recorded in runs). */
  readonly subset?: Record<string, unknown>;
}

/** Is `x` a zero-shot task from `defineZeroShotTask`? */
export function isZeroShotTask(x: unknown): x is ZeroShotTask {
  return !!x && typeof x === 'object' && (x as ZeroShotTask).kind === 'assay.zeroshot';
}

const MIME: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif', '.bmp': 'image/bmp' };

function imageInput(image: string, baseDir: string | undefined, where: { file?: string; line?: number }): { input: EmbedInput; ref: string } {
  if (image.startsWith('data:')) {
    if (!/^data:[^;,]+;base64,[A-Za-z0-9+/=\s]+$/.test(image)) throw new InputError('image: a data URI must be data:<mime>;base64,<data>', { ...where, field: 'image' });
    return { input: { image }, ref: `image:sha256:${sha256(image)}` };
  }
  const mime = MIME[extname(image).toLowerCase()];
  if (!mime) throw new InputError(`image: "${image}" is neither a data URI nor a png, jpeg, webp, gif or bmp file`, { ...where, field: 'image' });
  const path = baseDir && !isAbsolute(image) ? resolve(baseDir, image) : resolve(image);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`image: cannot read "${image}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { ...where, field: 'image' });
  }
  return { input: { image: `data:${mime};base64,${bytes.toString('base64')}` }, ref: `image:${image}#sha256:${sha256(bytes)}` };
}

function readItems(file: string): { items: ZeroShotItemInput[]; lines: number[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the items: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file, field: 'items' });
  }
  const items: ZeroShotItemInput[] = [];
  const lines: number[] = [];
  text.split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    let o: unknown;
    try {
      o = JSON.parse(l);
    } catch (err) {
      throw new InputError(`not JSON: ${(err as Error).message}`, { file, line: i + 1 });
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) throw new InputError('expected one JSON object per line', { file, line: i + 1 });
    items.push(o as ZeroShotItemInput);
    lines.push(i + 1);
  });
  return { items, lines };
}

/**
 * Validate a zero-shot task and give it its content address.
 * @param baseDir folder that a relative items file and image paths are read from (default: the working directory)
 * @returns a frozen task; `hash` covers type, name, version, classes, prompts and every item
 * @throws InputError naming the field (and file:line for item files): an empty or duplicated class list
 *   (`classes`), a template without `{}` or an unknown set (`templates`), no items (`items`), an item with neither or
 *   both of text and image, a label that is no class, retrieval items without texts, duplicate ids (`id`)
 */
export function defineZeroShotTask(def: ZeroShotDefinition, baseDir?: string): ZeroShotTask {
  if (!def || typeof def !== 'object') throw new InputError('a zero-shot task is an object');
  if (def.type !== 'classification' && def.type !== 'retrieval') throw new InputError(`type is "classification" or "retrieval", not ${JSON.stringify(def.type)}`, { field: 'type' });
  if (typeof def.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(def.name)) throw new InputError(`task name must be letters, digits, ".", "_" and "-" (got ${JSON.stringify(def.name)})`, { field: 'name' });
  const version = String(def.version ?? '1');
  let classes: string[] = [];
  let templates = { name: 'none', prompts: [] as string[] };
  if (def.type === 'classification') {
    classes = def.classes ?? [];
    if (!Array.isArray(classes) || classes.length === 0) throw new InputError(`task "${def.name}": the class list is empty (zero-shot classification needs at least two class names)`, { field: 'classes' });
    if (classes.length < 2) throw new InputError(`task "${def.name}": one class leaves nothing to choose; give at least two`, { field: 'classes' });
    for (const [i, c] of classes.entries()) if (typeof c !== 'string' || !c.trim()) throw new InputError(`task "${def.name}": class ${i} is not a non-empty string`, { field: `classes.${i}` });
    const dup = classes.find((c, i) => classes.indexOf(c) !== i);
    if (dup !== undefined) throw new InputError(`task "${def.name}": class "${dup}" is listed twice`, { field: 'classes' });
    const t = def.templates ?? 'clip-1';
    if (typeof t === 'string') {
      const set = TEMPLATE_SETS[t];
      if (!set) throw new InputError(`task "${def.name}": unknown template set "${t}" (${Object.keys(TEMPLATE_SETS).join(', ')}, or a list of prompts with {})`, { field: 'templates' });
      templates = { name: t, prompts: [...set] };
    } else {
      if (!Array.isArray(t) || !t.length) throw new InputError(`task "${def.name}": templates is a set name or a non-empty list of prompts`, { field: 'templates' });
      for (const [i, p] of t.entries()) if (typeof p !== 'string' || !p.includes('{}')) throw new InputError(`task "${def.name}": template ${i} has no {} for the class name`, { field: `templates.${i}` });
      templates = { name: `custom-${hashJson(t).slice(0, 12)}`, prompts: [...t] };
    }
  } else if (def.classes !== undefined || def.templates !== undefined) {
    throw new InputError(`task "${def.name}": classes and templates belong to classification tasks`, { field: def.classes !== undefined ? 'classes' : 'templates' });
  }
  let raw: ZeroShotItemInput[];
  let lines: number[] | null = null;
  let file: string | undefined;
  let dataDir = baseDir;
  if (typeof def.items === 'string') {
    file = baseDir && !isAbsolute(def.items) ? resolve(baseDir, def.items) : resolve(def.items);
    ({ items: raw, lines } = readItems(file));
    dataDir = dirname(file);
  } else if (Array.isArray(def.items)) raw = def.items;
  else throw new InputError(`task "${def.name}": items is a list or a JSONL file`, { field: 'items' });
  if (!raw.length) throw new InputError(`task "${def.name}": no items`, { field: 'items', file });
  const ids = new Set<string>();
  const items = raw.map((r, i): ZeroShotItem => {
    const where = file ? { file, line: lines![i] } : {};
    const at = (field: string) => ({ ...where, field: file ? field : `items.${i}.${field}` });
    const id = r.id === undefined ? String(i) : String(r.id);
    if (ids.has(id)) throw new InputError(`item id "${id}" appears twice`, at('id'));
    ids.add(id);
    const { id: _id, text, image, label, texts, ...rest } = r;
    if ((text === undefined) === (image === undefined)) throw new InputError('an item has either "text" or "image" (one of them)', at(text === undefined ? 'image' : 'text'));
    let input: EmbedInput, ref: string;
    if (text !== undefined) {
      if (typeof text !== 'string') throw new InputError('text must be a string', at('text'));
      input = { text };
      ref = text;
    } else {
      if (typeof image !== 'string') throw new InputError('image must be a string (a data URI or a file path)', at('image'));
      ({ input, ref } = imageInput(image, dataDir, where));
    }
    const metadata: Record<string, unknown> = { ...rest };
    if (def.type === 'classification') {
      let y: number;
      if (typeof label === 'number') y = label;
      else if (typeof label === 'string') y = classes.indexOf(label);
      else throw new InputError('a classification item needs a "label" (a class name or index)', at('label'));
      if (!Number.isInteger(y) || y < 0 || y >= classes.length) throw new InputError(`label ${JSON.stringify(label)} is not one of the ${classes.length} classes`, at('label'));
      if (texts !== undefined) throw new InputError('"texts" belongs to retrieval items', at('texts'));
      metadata.label = classes[y];
      return { id, input, ref, label: y, metadata };
    }
    if (!Array.isArray(texts) || !texts.length || !texts.every((t) => typeof t === 'string')) throw new InputError('a retrieval item needs "texts": a non-empty list of strings (its captions or queries)', at('texts'));
    if (label !== undefined) metadata.label = label;
    return { id, input, ref, texts: [...texts], metadata };
  });
  return finishTask({ type: def.type, name: def.name, version, description: def.description, classes, templates, items, source: file });
}

function finishTask(t: Omit<ZeroShotTask, 'kind' | 'modality' | 'dataHash' | 'hash'>, parentHash?: string): ZeroShotTask {
  const kinds = new Set(t.items.map((i) => ('image' in i.input ? 'image' : 'text')));
  const modality = kinds.size === 1 ? ([...kinds][0] as 'image' | 'text') : 'mixed';
  const dataHash = hashJson(t.items.map((i) => ({ id: i.id, input: 'text' in i.input ? i.input.text : sha256(i.input.image), label: i.label ?? null, texts: i.texts ?? null })));
  // A subset is the same task evaluated on fewer items (like a run's limit): it keeps the task's hash, and its runs
  // differ from the full task's by their data hash and recorded draw.
  const hash = parentHash ?? hashJson({ type: t.type, name: t.name, version: t.version, classes: t.classes, prompts: t.templates.prompts, data: dataHash });
  return Object.freeze({ kind: 'assay.zeroshot' as const, ...t, modality, dataHash, hash });
}

/**
 * The same task restricted to some of its items (a subset, e.g. a stratified draw), in the given order; `subset`
 * records how they were chosen (in the runs' dataset ref). The task keeps its hash; its data hash is the subset's,
 * so subset runs never mix with full ones.
 * Errors: InputError for an id that is not an item of the task, or no ids.
 */
export function zeroShotSubset(task: ZeroShotTask, ids: readonly string[], subset: Record<string, unknown>): ZeroShotTask {
  const byId = new Map(task.items.map((i) => [i.id, i]));
  if (!ids.length) throw new InputError(`task "${task.name}": an empty subset`, { field: 'subset' });
  const items = ids.map((id) => {
    const it = byId.get(id);
    if (!it) throw new InputError(`task "${task.name}": no item "${id}"`, { field: 'subset' });
    return it;
  });
  const { kind: _k, modality: _m, dataHash: _d, hash: _h, ...rest } = task;
  return finishTask({ ...rest, items, subset }, task.hash);
}

/**
 * A stratified subset of a task's items (src/datasets/stratified.ts: proportional allocation, recorded seed); strata
 * from an item field or metadata field (`label` is the class name). The draw is recorded in the task (`subset`).
 * Errors: every InputError of `stratifiedSubset`.
 */
export function stratifiedZeroShot(task: ZeroShotTask, spec: StratifiedSpec, opts: { strata?: ReadonlyMap<string, string> } = {}): { task: ZeroShotTask; draw: StratifiedSubset } {
  const draw = stratifiedSubset(task.items.map((i) => ({ id: i.id, metadata: i.metadata })), spec, opts);
  return { task: zeroShotSubset(task, draw.ids, { ...draw.spec, strata: draw.strata }), draw };
}

/** Does this YAML/JSON file hold a zero-shot task (`kind: zeroshot-classification | zeroshot-retrieval`)? False for unreadable files. */
export function isZeroShotFile(file: string): boolean {
  if (!/\.(ya?ml|json)$/i.test(file)) return false;
  try {
    return /^\s*"?kind"?\s*:\s*"?zeroshot-(classification|retrieval)\b/m.test(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Read a zero-shot task file (YAML or JSON; module comment). Relative paths are read from the file's folder.
 * @throws InputError naming the file and the field, for unreadable files, YAML errors and every error of
 *   {@link defineZeroShotTask}
 */
export function readZeroShotFile(file: string): ZeroShotTask {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the task file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    // a YAML syntax error: its message and the line it is on (yaml's YAMLParseError carries linePos)
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new InputError(`YAML: ${(err as Error).message.split('\n')[0]}`, { file: path, ...(line ? { line } : {}) });
  }
  if (!doc || typeof doc !== 'object') throw new InputError('a zero-shot task file holds a mapping', { file: path });
  const { kind, data, items, ...rest } = doc as Record<string, unknown>;
  if (kind !== 'zeroshot-classification' && kind !== 'zeroshot-retrieval') throw new InputError(`kind is zeroshot-classification or zeroshot-retrieval, not ${JSON.stringify(kind)}`, { file: path, field: 'kind' });
  const known = ['name', 'version', 'description', 'classes', 'templates'];
  for (const k of Object.keys(rest)) if (!known.includes(k)) throw new InputError(`unknown field "${k}" (kind, name, version, description, classes, templates, data or items)`, { file: path, field: k });
  if ((data === undefined) === (items === undefined)) throw new InputError('give the items as "data: <file.jsonl>" or "items: [...]" (one of them)', { file: path, field: 'data' });
  try {
    return defineZeroShotTask({ ...(rest as Omit<ZeroShotDefinition, 'type' | 'items'>), type: kind === 'zeroshot-classification' ? 'classification' : 'retrieval', items: (data ?? items) as ZeroShotDefinition['items'] }, dirname(path));
  } catch (err) {
    if (err instanceof InputError && !err.where.file) throw new InputError(err.detail, { ...err.where, file: path });
    throw err;
  }
}

/** One column of a zero-shot task (one run per model): its name, direction and scorers. */
export interface ZeroShotColumn {
  /** The run's task name: the task's name, plus the direction for retrieval (`coco.text-to-image`). */
  name: string;
  /** `classify`, or the retrieval direction. */
  direction: 'classify' | 'text-to-item' | 'item-to-text';
  /** Scorer names in order (the first is the headline, what a stream shows). */
  scorers: string[];
}

/**
 * The columns of a task: classification → one (`top1`, and `top5` with more than five classes); retrieval → text→item (`recall@1/5/10`, per item:
 * the share of its texts that retrieve it) and item→text (`recall@1/5/10`, 0/1 per item), named after the modality
 * (`text-to-image`/`image-to-text`, or `query-to-document`/`document-to-query` for text items).
 */
export function zeroShotColumns(task: ZeroShotTask): ZeroShotColumn[] {
  // top-5 says nothing with five classes or fewer (always right): then top-1 only.
  if (task.type === 'classification') return [{ name: task.name, direction: 'classify', scorers: task.classes.length > 5 ? ['top1', 'top5'] : ['top1'] }];
  const img = task.modality === 'image';
  const r = ['recall@1', 'recall@5', 'recall@10'];
  return [
    { name: `${task.name}.${img ? 'text-to-image' : 'query-to-document'}`, direction: 'text-to-item', scorers: r },
    { name: `${task.name}.${img ? 'image-to-text' : 'document-to-query'}`, direction: 'item-to-text', scorers: r },
  ];
}
