/**
 * Checkpoint streams: evaluate an ordered list of checkpoints on every task of a stream — the whole
 * matrix checkpoints × tasks — as ordinary runs in the pool, through `evaluate` (one eval set per checkpoint, so only
 * one checkpoint's model is loaded at a time), then record the stream itself as an eval set whose spec holds the
 * order and each task's role. Running the same stream again resumes every run.
 *
 * A stream file (YAML):
 * ```yaml
 * name: tiny-stream
 * checkpoints:                         # in stream order; the first is the base (before any update)
 *   - { name: base, model: "llama-cpp:ckpt0.gguf" }
 *   - { name: step1, model: "llama-cpp:ckpt1.gguf" }
 *   - "llama-cpp:ckpt2.gguf"           # a bare address: named c2
 * adaptation:                          # tasks trained on, each introduced at a checkpoint (name or row ≥ 1)
 *   - { task: tasks/a.yaml, at: step1 }
 *   - { task: tasks/b.yaml, at: 2 }
 * zero_shot: [tasks/held-out.yaml]     # held-out tasks (never trained on)
 * limit: 50                            # run settings for every cell (optional): epochs, limit, config
 * config: { max_tokens: 64 }
 * bootstrap: { seed: 0, replicates: 2000 }
 * subset: { size: 200, by: subject, seed: 1 }   # optional: a stratified subset of every task (src/datasets/stratified.ts)
 * merge_dir: .assay/merges             # where merged checkpoints are built (default; relative to this file's folder)
 * ```
 * A checkpoint may be a **merge** instead of a model: `{ name: m, merge: { method: ties, density: 0.5, parents: [step1,
 * step2], base: base, time: { deployment: merge } } }` — a merge spec (src/merge/methods.ts) whose parents and base are
 * earlier checkpoints (GGUF, `llama-cpp:` addresses, or earlier merges) or GGUF files. The merged file's name is the
 * content address of the spec and the inputs' contents (`merge-<sha256 prefix>.gguf`): `evaluateStream` builds it when
 * the stream reaches it unless it is there, records the model with its parents in the pool (`metadata.merge`), and
 * evaluates it with the first parent's runtime options.
 *
 * Errors in a stream file name the file, the line, the entry (`checkpoint 2 (step2)`, `adaptation task 1 (b.yaml)`,
 * `zero-shot task 0`; 0-based, as rows are) and the field (`checkpoints[2].model`), for the file's schema and for
 * what resolving it finds (unknown checkpoints, duplicates, a task file's own error inside its entry's).
 * Task references are task names or files; relative paths are read from the stream file's folder. A zero-shot
 * embedding task file (`kind: zeroshot-classification | zeroshot-retrieval`, src/zeroshot/task.ts) is evaluated on
 * checkpoints that are embeddings endpoints: each of its columns (classification; retrieval's two directions) is a
 * column of the stream and an ordinary run.
 *
 * Instead of an `at` for every adaptation task, a stream may give an **order** (src/generators/stream-order.ts):
 * `order: { by: random | reverse | difficulty | frequency | similarity | given, seed, direction, start, embed_with }`;
 * the adaptation tasks are then put in that order (reading `difficulty`, `frequency` or `embedding` from each
 * adaptation entry, or, for `similarity` with `embed_with: <embeddings endpoint>`, embedding each task's description
 * or name) and introduced over the checkpoints after the base in contiguous runs (`introductionRows`). The order and
 * its seed are recorded with the stream. `order: { by: difficulty, difficulty_from: base }` reads each adaptation task's
 * difficulty from the base checkpoint's runs in the pool (its error rate; src/analyses/base-difficulty.ts) — evaluating
 * the base first when they are missing — and records the runs and rates with the order; `subset: { …, difficulty_from:
 * base }` stratifies by each sample's error at the base (the base's run of the whole task must be in the pool).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { InputError, RunError } from '../core/errors.ts';
import { MAX_EPOCHS, thousands } from '../core/limits.ts';
import { hashJson, sha256, shortId, stableStringify } from '../core/hash.ts';
import { checkMerge, mergeModels } from '../merge/merge.ts';
import { MergeSpecSchema, needsBase, type MergeSpec } from '../merge/methods.ts';
import { GenerationConfigSchema } from '../core/schemas.ts';
import type { StreamTaskRole } from '../stats/continual.ts';
import type { EvalSetRecord } from '../store/types.ts';
import { loadDataset } from '../datasets/index.ts';
import { stratifiedSamples, stratifiedSubset, type StratifiedSpec, type StratifiedSubset } from '../datasets/stratified.ts';
import { introductionRows, STREAM_ORDERS, streamOrder, type OrderItem, type StreamOrder, type StreamOrderSpec } from '../generators/stream-order.ts';
import { loadTasks } from '../tasks/index.ts';
import { lineOf } from '../tasks/yaml.ts';
import { defineTask, isTask, type Task } from '../tasks/task.ts';
import { createEmbedder, type Embedder } from '../zeroshot/embedder.ts';
import { evaluateZeroShot } from './zeroshot.ts';
import { isZeroShotFile, isZeroShotTask, readZeroShotFile, stratifiedZeroShot, zeroShotColumns, type ZeroShotColumn, type ZeroShotTask } from '../zeroshot/task.ts';
import { evaluate, type EvalCell, type EvaluateOptions } from './evaluate.ts';
import { findBaseRun, MissingBaseRunError, runDifficulty, type BaseRunDifficulty } from '../analyses/base-difficulty.ts';
import type { Pool } from '../store/types.ts';
import type { RunResult } from './run.ts';

const MergeEntrySchema = z.object({ parents: z.array(z.string().min(1)).min(1), base: z.string().min(1).optional() }).catchall(z.unknown());
const CheckpointSchema = z.union([
  z.string().min(1),
  z.object({ name: z.string().min(1).optional(), model: z.string().min(1) }).strict(),
  z.object({ name: z.string().min(1).optional(), merge: MergeEntrySchema }).strict(),
]);
const TaskRefSchema = z.string().min(1);
const SubsetSchema = z
  .object({
    size: z.number().int().min(1).optional(), fraction: z.number().gt(0).max(1).optional(), by: z.string().min(1).optional(), seed: z.number().int().optional(),
    difficulty_from: z.literal('base').optional(),
  })
  .strict();
const OrderSchema = z
  .object({
    by: z.enum(STREAM_ORDERS), seed: z.number().int().optional(), direction: z.enum(['ascending', 'descending']).optional(), start: z.string().min(1).optional(),
    embed_with: z.string().min(1).optional(), difficulty_from: z.literal('base').optional(),
  })
  .strict();

/** The serialisable stream definition (a stream file's contents). */
export const StreamSpecSchema = z
  .object({
    name: z.string().min(1).optional(),
    checkpoints: z.array(CheckpointSchema).min(1),
    merge_dir: z.string().min(1).optional(),
    adaptation: z
      .array(
        z
          .object({
            task: TaskRefSchema, at: z.union([z.string().min(1), z.number().int().min(1, 'an adaptation task is introduced at a checkpoint after the base: a row ≥ 1 (or a checkpoint name)')]).optional(),
            difficulty: z.number().optional(), frequency: z.number().min(0).optional(), embedding: z.array(z.number()).min(1).optional(),
          })
          .strict(),
      )
      .default([]),
    zero_shot: z.array(TaskRefSchema).default([]),
    epochs: z.number().int().min(1).max(MAX_EPOCHS, `epochs must be at most ${thousands(MAX_EPOCHS)}`).optional(),
    limit: z.number().int().min(1).optional(),
    config: GenerationConfigSchema.partial().optional(),
    bootstrap: z.object({ seed: z.number().int().optional(), replicates: z.number().int().min(1).optional() }).strict().optional(),
    order: OrderSchema.optional(),
    subset: SubsetSchema.optional(),
  })
  .strict();

/** A task of a stream: a task value, or a zero-shot embedding task (src/zeroshot/task.ts). */
export type StreamTaskInput = string | Task | ZeroShotTask;

/** One adaptation entry: a task, introduced at a checkpoint (`at`), or placed by the stream's `order`. */
export interface AdaptationEntry {
  task: StreamTaskInput;
  /** The checkpoint that introduces it (its name, or its row ≥ 1); leave out when the stream has an `order`. */
  at?: string | number;
  /** What the `difficulty`, `frequency` and `similarity` orders read. */
  difficulty?: number;
  frequency?: number;
  embedding?: number[];
}

/**
 * A stream's order: a {@link StreamOrderSpec}, plus an embeddings endpoint for `similarity` without given embeddings,
 * and for `difficulty` where the difficulties come from: `difficulty_from: base` = each adaptation task's error rate on
 * the base checkpoint (its run in the pool; src/analyses/base-difficulty.ts), instead of each entry's `difficulty`.
 */
export type StreamOrderInput = StreamOrderSpec & { embed_with?: string; difficulty_from?: 'base' };

/** What a stream records of difficulty measured on its base checkpoint: the checkpoint, and per task its run and error rate. */
export interface BaseDifficultyRecord {
  from: 'base';
  checkpoint: string;
  model: string;
  tasks: { task: string; run_id: string; scorer: string; samples: number; error_rate: number }[];
}

/** A stream as code: like the file, but tasks may also be task values (from `defineTask`). */
export interface StreamDefinition {
  name?: string;
  /**
   * Model addresses in stream order, or `{ name, model }`, or `{ name, merge }` (a merge of earlier checkpoints or
   * GGUF files, built when the stream reaches it; {@link MergeCheckpointInput}); the first is the base. Names default
   * to `c<row>`.
   */
  checkpoints: (string | { name?: string; model: string } | { name?: string; merge: MergeCheckpointInput })[];
  /** Where merged checkpoints are written (default `.assay/merges` in the stream file's folder, else the working directory). */
  merge_dir?: string;
  /** Adaptation tasks: each introduced at a checkpoint (its name, or its row ≥ 1), or placed by `order`. */
  adaptation?: AdaptationEntry[];
  /** Held-out zero-shot tasks. */
  zero_shot?: StreamTaskInput[];
  epochs?: number;
  limit?: number;
  config?: EvaluateOptions['config'];
  bootstrap?: { seed?: number; replicates?: number };
  /** Put the adaptation tasks in this order and introduce them over the checkpoints (instead of `at`). */
  order?: StreamOrderInput;
  /** Evaluate every task on a stratified subset of its samples (the same at every checkpoint: paired). */
  subset?: StratifiedSpec;
}

/**
 * A merged checkpoint as a stream gives it: a merge spec (src/merge/methods.ts `MergeSpecSchema`: method and its
 * settings, TIME's `time` choices) with its parents — names of earlier checkpoints, or GGUF files (relative paths from
 * the stream file's folder) — oldest first, and for the task-vector methods a base (a checkpoint name or a file).
 */
export type MergeCheckpointInput = Record<string, unknown> & { parents: string[]; base?: string };

/** What a stream records of a merged checkpoint: the merge, its inputs by content, and the file it built. */
export interface MergeRecord {
  spec: MergeSpec;
  parents: { checkpoint: string | null; path: string; content: string }[];
  base: { checkpoint: string | null; path: string; content: string } | null;
  /** Content address of the merge: sha256 of the spec and the inputs' contents (a merged input by its own address). */
  id: string;
  /** The merged GGUF file (`merge-<id16>.gguf`); built once, reused while present. */
  file: string;
}

/** A column of a resolved stream: an ordinary task, or one column of a zero-shot embedding task. */
export type StreamEntry =
  | { task: Task; zeroshot?: undefined; role: StreamTaskRole }
  | { task: ZeroShotTask; zeroshot: ZeroShotColumn; role: StreamTaskRole };

/** The pool's id of a stream column: `name@version` of its task (of its zero-shot column). */
export function streamColumnId(e: StreamEntry): string {
  return `${e.zeroshot ? e.zeroshot.name : e.task.name}@${e.task.version}`;
}

/** A stream with its tasks loaded and roles resolved to rows. */
export interface ResolvedStream {
  name: string | null;
  /** In stream order; a merged checkpoint carries its merge (its model: `llama-cpp:<merged file>`). */
  checkpoints: { name: string; model: string; merge?: MergeRecord }[];
  /** Every column of the stream: adaptation tasks first (in stream order), then the held-out ones. */
  tasks: StreamEntry[];
  epochs?: number;
  limit?: number;
  config?: EvaluateOptions['config'];
  bootstrap: { seed: number; replicates: number };
  /** The order that placed the adaptation tasks (null when each gave its `at`), with the base's difficulties when it read them. */
  order: (StreamOrder & { difficulty?: BaseDifficultyRecord }) | null;
  /** The subset drawn of each task, by column id (null without a subset), with the base's difficulties when its strata came from them. */
  subset: { spec: StratifiedSpec; draws: Record<string, Omit<StratifiedSubset, 'ids'>>; difficulty?: BaseDifficultyRecord } | null;
}

/** Where a stream came from (a file), to name the file, the line and the entry of an error found after parsing. */
export interface StreamSource {
  /** The stream file's absolute path. */
  file: string;
  /** The 1-based line of the node at a path of the file (e.g. `['adaptation', 1, 'at']`), or of its nearest ancestor. */
  lineOf: (path: (string | number)[]) => number;
}

/**
 * A stream error naming the entry, the field and (for a file) the line: `checkpoints[2].model`, with the message
 * prefixed by the entry (`checkpoint 2 (step2): …`, `adaptation task 1 (tasks/mul.yaml): …`, `zero-shot task 0: …`;
 * indices 0-based, as rows are). Exported for the stream's own callers (merges); not a general-purpose helper.
 */
export function streamError(def: { checkpoints?: unknown; adaptation?: unknown; zero_shot?: unknown } | null, path: (string | number)[], message: string, source?: StreamSource): InputError {
  const [head, index] = path;
  let entry = '';
  if (typeof index === 'number') {
    const list = (def as Record<string, unknown> | null)?.[head as string];
    const item = Array.isArray(list) ? list[index] : undefined;
    const name = typeof item === 'string' ? item : item && typeof item === 'object' ? ((item as { name?: unknown; task?: unknown }).name ?? (item as { task?: unknown }).task) : undefined;
    const what = head === 'checkpoints' ? 'checkpoint' : head === 'adaptation' ? 'adaptation task' : head === 'zero_shot' ? 'zero-shot task' : String(head);
    entry = `${what} ${index}${typeof name === 'string' ? ` (${name})` : ''}: `;
  }
  const field = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${p}`)).join('') || '(stream)';
  return new InputError(entry + message, { file: source?.file, line: source?.lineOf(path), field });
}

/**
 * Read and validate a stream file (YAML, or JSON — a JSON document is YAML).
 * @returns the definition, the folder relative task files are read from, and the source (file and line lookup) that
 *   `resolveStream` uses to name the line of errors it finds later
 * @throws InputError naming the file, the line, the entry (checkpoint i, adaptation task j, zero-shot task j; 0-based)
 *   and the field (`checkpoints[2].model`) for unreadable files, YAML/JSON syntax errors, unknown keys, wrong types
 *   and invalid values
 */
export function readStreamFile(file: string): { definition: StreamDefinition; baseDir: string; source: StreamSource } {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the stream file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) throw new InputError(`${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${err.message.split('\n')[0]}`, { file: path, line: lines.linePos(err.pos[0]).line });
  const source: StreamSource = { file: path, lineOf: (p) => lineOf(doc, p.map(String), lines) };
  const data = doc.toJS() as unknown;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new InputError('a stream file is a mapping with checkpoints, adaptation and zero_shot', { file: path, line: 1, field: '(stream)' });
  const parsed = StreamSpecSchema.safeParse(data);
  if (!parsed.success) {
    let issue = parsed.error.issues[0]!;
    let p = issue.path.filter((x): x is string | number => typeof x !== 'symbol');
    // A union (a checkpoint is an address or { name, model }): the branch that got furthest says what is wrong.
    while (issue.code === 'invalid_union' && issue.errors.length) {
      const best = issue.errors.map((b) => b[0]).filter((x) => x !== undefined).sort((a, b) => b.path.length - a.path.length)[0];
      if (!best) break;
      p = [...p, ...best.path.filter((x): x is string | number => typeof x !== 'symbol')];
      issue = best as typeof issue;
    }
    // An unknown key: point at the key itself.
    if (issue.code === 'unrecognized_keys' && issue.keys.length) p = [...p, issue.keys[0]!];
    throw streamError(data as Record<string, unknown>, p, issue.message, source);
  }
  return { definition: parsed.data as StreamDefinition, baseDir: dirname(path), source };
}

/**
 * Load a stream's tasks (ordinary and zero-shot embedding tasks) and resolve checkpoint names and introduction rows:
 * each adaptation task's `at`, or the rows of the stream's `order` (src/generators/stream-order.ts:
 * `streamOrder`, then `introductionRows`); draw the stratified subset of every task once (src/datasets/stratified.ts).
 * @param baseDir folder that relative task files are read from (default: the working directory)
 * @param opts.source the stream file the definition came from (`readStreamFile`): errors then name its file and line
 * @throws InputError naming the entry (checkpoint i, adaptation task j, zero-shot task j; 0-based) and the field
 *   (`adaptation[1].at`), and with a source the file and line, for duplicate checkpoint names or models, an `at` naming no checkpoint or the base (row 0), an
 *   adaptation task without `at` in a stream without an order (or with one in a stream with an order), every error of
 *   `streamOrder` and `stratifiedSubset` (naming the field), a task in two roles or twice, and every error of loading
 *   a task; EmbeddingError when `order.embed_with` is given and its endpoint fails
 */
export async function resolveStream(def: StreamDefinition, baseDir?: string, opts: { source?: StreamSource; pool?: Pool } = {}): Promise<ResolvedStream> {
  const fail = (path: (string | number)[], message: string) => streamError(def, path, message, opts.source);
  const checkpoints: ResolvedStream['checkpoints'] = [];
  const mergeDir = resolve(baseDir ?? process.cwd(), def.merge_dir ?? join('.assay', 'merges'));
  for (const [i, c] of def.checkpoints.entries()) {
    if (typeof c === 'string') checkpoints.push({ name: `c${i}`, model: c });
    else if ('model' in c) checkpoints.push({ name: c.name ?? `c${i}`, model: c.model });
    else checkpoints.push(resolveMerge(def, i, checkpoints, mergeDir, baseDir, fail));
  }
  for (const [i, c] of checkpoints.entries()) {
    const j = checkpoints.findIndex((x) => x.name === c.name);
    if (j < i) throw fail(['checkpoints', i, ...(typeof def.checkpoints[i] === 'string' ? [] : ['name'])], `checkpoint ${j} has the same name "${c.name}"`);
    const k = checkpoints.findIndex((x) => x.model === c.model);
    const own = def.checkpoints[i]!;
    if (k < i) throw fail(['checkpoints', i, ...(typeof own === 'string' ? [] : 'merge' in own ? ['merge'] : ['model'])], `checkpoint ${k} has the same model${'merge' in Object(own) ? ' (the same merge of the same inputs)' : ' address'}`);
  }
  const load = async (ref: StreamTaskInput, path: (string | number)[]): Promise<(Task | ZeroShotTask)[]> => {
    if (isTask(ref) || isZeroShotTask(ref)) return [ref];
    const local = baseDir && !isAbsolute(ref) ? resolve(baseDir, ref) : ref;
    const file = baseDir && existsSync(local) ? local : ref;
    try {
      if (isZeroShotFile(file)) return [readZeroShotFile(file)];
      return await loadTasks(file);
    } catch (err) {
      // The task's own error (its file, line and field) inside the stream's (the stream file, the entry and its line).
      if (err instanceof InputError) throw fail(path, err.message);
      throw err;
    }
  };
  const rowOf = (at: string | number, i: number): number => {
    const row = typeof at === 'number' ? at : checkpoints.findIndex((c) => c.name === at);
    if (row < 0) throw fail(['adaptation', i, 'at'], `"at: ${at}" names no checkpoint (${checkpoints.map((c) => c.name).join(', ')})`);
    if (row < 1 || row >= checkpoints.length) throw fail(['adaptation', i, 'at'], `an adaptation task is introduced at a checkpoint after the base: row 1…${checkpoints.length - 1}, not ${at}`);
    return row;
  };
  const adaptation = def.adaptation ?? [];
  const loaded: { entry: AdaptationEntry; tasks: (Task | ZeroShotTask)[] }[] = [];
  for (const [i, a] of adaptation.entries()) loaded.push({ entry: a, tasks: await load(a.task, typeof def.adaptation?.[i] === 'object' ? ['adaptation', i, 'task'] : ['adaptation', i]) });
  const held: { j: number; tasks: (Task | ZeroShotTask)[] }[] = [];
  for (const [j, ref] of (def.zero_shot ?? []).entries()) held.push({ j, tasks: await load(ref, ['zero_shot', j]) });
  const entriesOf = (t: Task | ZeroShotTask, role: StreamTaskRole): StreamEntry[] =>
    isZeroShotTask(t) ? zeroShotColumns(t).map((c) => ({ task: t, zeroshot: c, role })) : [{ task: t, role }];
  const entryOf = new Map<Task | ZeroShotTask, (string | number)[]>();
  loaded.forEach((l, i) => l.tasks.forEach((t) => entryOf.set(t, ['adaptation', i])));
  held.forEach((h) => h.tasks.forEach((t) => entryOf.set(t, ['zero_shot', h.j])));
  const all = [...loaded.flatMap((l) => l.tasks), ...held.flatMap((h) => h.tasks)];
  if (!all.length) throw fail(['adaptation'], 'a stream needs at least one task (adaptation or zero_shot)');
  for (const [i, t] of all.entries()) {
    const first = all.findIndex((x) => x.name === t.name);
    if (first < i) {
      const [list, j] = entryOf.get(all[first]!) ?? [];
      throw fail(entryOf.get(t) ?? ['adaptation'], `task "${t.name}" is already in the stream (${list === 'zero_shot' ? 'zero-shot' : 'adaptation'} task ${j}); each task has one role`);
    }
  }
  const base = checkpoints[0]!;
  /** The base checkpoint's runs of a task (one per column), and what they measured; a missing run is an error for `use`. */
  const measured = async (t: Task | ZeroShotTask, use: 'order' | 'subset') => {
    if (!opts.pool) throw fail(use === 'order' ? ['order', 'difficulty_from'] : ['subset', 'difficulty_from'], 'difficulty from the base checkpoint is read from the pool: give the stream a pool');
    const out = [];
    for (const e of entriesOf(t, { role: 'zero-shot' })) {
      const id = streamColumnId(e);
      const run = await findBaseRun(opts.pool, { id, hash: e.task.hash }, base.model);
      if (!run) {
        const path = entryOf.get(t) ?? [use];
        const e2 = fail(path, `${use === 'order' ? 'the order' : 'the subset'} reads difficulty from the base checkpoint, and the pool holds no run of ${id} by ${base.model}${use === 'subset' ? ' on the whole task: evaluate the base on it first (assay run)' : ''}`);
        throw new MissingBaseRunError(e2.detail, use, id, e2.where);
      }
      try {
        out.push(await runDifficulty(opts.pool, run));
      } catch (err) {
        if (err instanceof InputError) throw fail(entryOf.get(t) ?? [use], err.message);
        throw err;
      }
    }
    return out;
  };
  const recordOf = (ds: BaseRunDifficulty[]): BaseDifficultyRecord => ({
    from: 'base', checkpoint: base.name, model: base.model, tasks: ds.map(({ per_sample: _p, ...d }) => d),
  });
  // A stratified subset of every task, drawn once (the same samples at every checkpoint), before the order: an
  // order by the base's difficulty reads the base's runs of the tasks the stream evaluates.
  let subset: ResolvedStream['subset'] = null;
  if (def.subset) {
    const draws: Record<string, Omit<StratifiedSubset, 'ids'>> = {};
    const measuredForSubset: BaseRunDifficulty[] = [];
    const sub = async (t: Task | ZeroShotTask, role: StreamTaskRole): Promise<Task | ZeroShotTask> => {
      let strata: Map<string, string> | undefined;
      if (def.subset!.difficulty_from === 'base') {
        const ds = await measured(t, 'subset');
        measuredForSubset.push(...ds);
        // A sample's stratum: its error rate at the base (mean over the task's columns), to 3 decimals.
        const sum = new Map<string, { s: number; n: number }>();
        for (const d of ds) for (const [id, err] of d.per_sample) {
          const x = sum.get(id) ?? { s: 0, n: 0 };
          x.s += err;
          x.n++;
          sum.set(id, x);
        }
        strata = new Map([...sum].map(([id, x]) => [id, `base error ${(x.s / x.n).toFixed(3)}`]));
      }
      let x: Awaited<ReturnType<typeof subsetOf>>;
      try {
        x = await subsetOf(t, def.subset!, strata);
      } catch (err) {
        if (err instanceof InputError) throw fail((err.where.field ?? 'subset').split('.'), err.detail);
        throw err;
      }
      const { ids: _ids, ...rest } = x.draw;
      for (const e of entriesOf(x.task, role)) draws[streamColumnId(e)] = rest;
      entryOf.set(x.task, entryOf.get(t)!);
      return x.task;
    };
    for (const l of loaded) l.tasks = await Promise.all(l.tasks.map((t) => sub(t, { role: 'zero-shot' })));
    for (const h of held) h.tasks = await Promise.all(h.tasks.map((t) => sub(t, { role: 'zero-shot' })));
    subset = { spec: def.subset, draws, ...(measuredForSubset.length ? { difficulty: recordOf(measuredForSubset) } : {}) };
  }
  // Where each adaptation entry is introduced: its own `at`, or its place in the stream's order.
  let order: ResolvedStream['order'] = null;
  let rows: number[];
  if (def.order) {
    const given = adaptation.findIndex((a) => a.at !== undefined);
    if (given >= 0) throw fail(['adaptation', given, 'at'], 'give every adaptation task an "at", or the stream an order, not both');
    if (!adaptation.length) throw fail(['order'], 'an order places adaptation tasks, and the stream has none');
    const ids = loaded.map((l) => l.tasks.map((t) => t.name).join('+'));
    const items: OrderItem[] = loaded.map((l, i) => ({ id: ids[i]!, difficulty: l.entry.difficulty, frequency: l.entry.frequency, embedding: l.entry.embedding }));
    const { embed_with, difficulty_from, ...spec } = def.order;
    let difficulty: BaseDifficultyRecord | undefined;
    if (difficulty_from === 'base') {
      if (spec.by !== 'difficulty') throw fail(['order', 'difficulty_from'], `difficulty_from applies to the difficulty order, not "${spec.by}"`);
      const given = loaded.findIndex((l) => l.entry.difficulty !== undefined);
      if (given >= 0) throw fail(['adaptation', given, 'difficulty'], 'the order reads difficulty from the base checkpoint (difficulty_from: base): give no difficulty here');
      const all: BaseRunDifficulty[] = [];
      for (const [i, l] of loaded.entries()) {
        // An entry's difficulty: the mean error rate of its tasks' columns at the base.
        const ds = (await Promise.all(l.tasks.map((t) => measured(t, 'order')))).flat();
        all.push(...ds);
        items[i]!.difficulty = ds.reduce((a, d) => a + d.error_rate, 0) / ds.length;
      }
      difficulty = recordOf(all);
    }
    if (spec.by === 'similarity' && embed_with && items.some((x) => !x.embedding)) {
      const e = createEmbedder(embed_with);
      try {
        const texts = loaded.map((l) => l.tasks.map((t) => (isZeroShotTask(t) ? `${t.description ?? t.name}${t.classes.length ? `: ${t.classes.join(', ')}` : ''}` : (t.definition.description ?? t.name))).join('; '));
        const vs = await e.embed(texts.map((text) => ({ text })));
        items.forEach((x, i) => (x.embedding ??= [...vs[i]!]));
      } finally {
        await e.close();
      }
    }
    let o: StreamOrder;
    try {
      o = streamOrder(items, spec);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      // An item's missing number or vector is that adaptation entry's field; every other error is the order's.
      const field = err.where.field ?? 'order';
      const item = /"([^"]+)" has/.exec(err.detail)?.[1];
      const i = item === undefined ? -1 : ids.indexOf(item);
      throw fail(i >= 0 && !field.startsWith('order') ? ['adaptation', i, field] : field.split('.'), err.detail);
    }
    order = {
      ...o, spec: { ...o.spec, ...(embed_with ? { embed_with } : {}), ...(difficulty_from ? { difficulty_from } : {}) } as StreamOrder['spec'],
      ...(difficulty ? { difficulty } : {}),
    };
    const placed = introductionRows(order.order, checkpoints.length - 1);
    rows = ids.map((id) => placed.get(id)!);
  } else {
    rows = adaptation.map((a, i) => {
      if (a.at === undefined) throw fail(['adaptation', i], 'no "at": give each adaptation task the checkpoint that introduces it, or the stream an order');
      return rowOf(a.at, i);
    });
  }
  const raw: { task: Task | ZeroShotTask; role: StreamTaskRole }[] = [];
  loaded.forEach((l, i) => l.tasks.forEach((t) => raw.push({ task: t, role: { role: 'adaptation', introduced: rows[i]! } })));
  // With an order, adaptation columns follow it (by introduction row; order within a row); else file order.
  if (order) {
    const pos = new Map(order.order.map((id, i) => [id, i]));
    const idOf = new Map(loaded.flatMap((l) => l.tasks.map((t) => [t, l.tasks.map((x) => x.name).join('+')] as const)));
    raw.sort((a, b) => pos.get(idOf.get(a.task)!)! - pos.get(idOf.get(b.task)!)!);
  }
  for (const h of held) for (const t of h.tasks) raw.push({ task: t, role: { role: 'zero-shot' } });
  const tasks = raw.flatMap((r) => entriesOf(r.task, r.role));
  return {
    name: def.name ?? null, checkpoints, tasks, epochs: def.epochs, limit: def.limit, config: def.config,
    bootstrap: { seed: def.bootstrap?.seed ?? 0, replicates: def.bootstrap?.replicates ?? 2000 }, order, subset,
  };
}

/** sha256 of files already hashed in this process, by path, size and modification time. */
const fileHashes = new Map<string, string>();

/** The sha256 of a file's contents, read 4 MiB at a time (remembered by path, size and mtime). */
function sha256File(path: string): string {
  const st = statSync(path);
  const key = `${path}\u0000${st.size}\u0000${st.mtimeMs}`;
  const known = fileHashes.get(key);
  if (known) return known;
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 22);
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  const d = h.digest('hex');
  fileHashes.set(key, d);
  return d;
}

/** `llama-cpp:<file>[?query]` → the file (resolved as the provider resolves it) and the query. */
function llamaCppFileOf(model: string): { file: string; query: string } {
  const rest = model.slice('llama-cpp:'.length);
  const q = rest.lastIndexOf('?');
  return { file: resolve(q >= 0 ? rest.slice(0, q) : rest), query: q >= 0 ? rest.slice(q + 1) : '' };
}

/**
 * A merged checkpoint of a stream (row i): its merge spec validated, its inputs resolved — earlier checkpoints by
 * name (their GGUF files; a merged one by its own content address) or files — and checked (src/merge/merge.ts
 * `checkMerge`, when every input exists), its content address and the file it will be built into; its model is
 * `llama-cpp:<file>` with the runtime options of its first parent.
 */
function resolveMerge(def: StreamDefinition, i: number, earlier: ResolvedStream['checkpoints'], mergeDir: string, baseDir: string | undefined, fail: (path: (string | number)[], message: string) => InputError): ResolvedStream['checkpoints'][number] {
  const c = def.checkpoints[i] as { name?: string; merge: MergeCheckpointInput };
  const name = c.name ?? `c${i}`;
  const { parents, base, ...rest } = c.merge;
  const parsed = MergeSpecSchema.safeParse(rest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    let path = issue.path.filter((x): x is string | number => typeof x !== 'symbol');
    if (issue.code === 'unrecognized_keys' && issue.keys.length) path = [...path, issue.keys[0]!];
    throw fail(['checkpoints', i, 'merge', ...path], `merge spec: ${issue.message}`);
  }
  const spec = parsed.data;
  const later = def.checkpoints.slice(i).map((x, j) => (typeof x === 'string' ? `c${i + j}` : (x.name ?? `c${i + j}`)));
  const input = (ref: string, path: (string | number)[]) => {
    const cp = earlier.find((x) => x.name === ref);
    if (cp) {
      if (cp.merge) return { checkpoint: cp.name, path: cp.merge.file, content: `merge:${cp.merge.id}`, query: llamaCppFileOf(cp.model).query };
      if (!cp.model.startsWith('llama-cpp:')) throw fail(path, `checkpoint "${ref}" is ${cp.model}: a merge reads GGUF files (llama-cpp: checkpoints)`);
      const { file, query } = llamaCppFileOf(cp.model);
      if (!existsSync(file)) throw fail(path, `checkpoint "${ref}": no GGUF file at ${file}`);
      return { checkpoint: cp.name, path: file, content: sha256File(file), query };
    }
    if (later.includes(ref)) throw fail(path, `"${ref}" is ${ref === name ? 'this checkpoint' : 'a later checkpoint'}: a merge's inputs come before it in the stream`);
    const file = resolve(baseDir ?? process.cwd(), ref);
    if (!existsSync(file)) throw fail(path, `"${ref}" is no earlier checkpoint (${earlier.map((x) => x.name).join(', ') || 'none'}) and no file (${file})`);
    return { checkpoint: null, path: file, content: sha256File(file), query: '' };
  };
  const ins = parents.map((p, j) => input(p, ['checkpoints', i, 'merge', 'parents', j]));
  const b = base === undefined ? null : input(base, ['checkpoints', i, 'merge', 'base']);
  if (ins.every((x) => existsSync(x.path)) && (!b || existsSync(b.path))) {
    try {
      const plan = checkMerge({ parents: ins.map((x) => x.path), base: b?.path, spec, out: 'merged.gguf' });
      if (plan.format !== 'gguf') throw new InputError('a merged checkpoint is evaluated by the local GGUF runtime: its inputs must be GGUF files');
    } catch (err) {
      if (err instanceof InputError) throw fail(['checkpoints', i, 'merge', ...(err.where.field === 'base' ? ['base'] : err.where.field === 'weights' ? ['weights'] : [])], err.detail);
      throw err;
    }
  } else if (needsBase(spec) && !b) throw fail(['checkpoints', i, 'merge', 'base'], `${spec.method} merges task vectors: give the base`);
  const strip = ({ query: _q, ...x }: (typeof ins)[number]) => x;
  const id = sha256(stableStringify({ spec, parents: ins.map((x) => x.content), base: b?.content ?? null }));
  const file = join(mergeDir, `merge-${id.slice(0, 16)}.gguf`);
  const query = ins[0]!.query;
  return { name, model: `llama-cpp:${file}${query ? `?${query}` : ''}`, merge: { spec, parents: ins.map(strip), base: b ? strip(b) : null, id, file } };
}

/**
 * Build a merged checkpoint's file unless it is there (content-addressed: the same merge of the same inputs is the
 * same file), and record the merged model with its parents in the pool (the model's `metadata.merge`).
 * @returns whether the file was built now
 */
async function ensureMerged(c: ResolvedStream['checkpoints'][number], pool: Pool): Promise<boolean> {
  const m = c.merge!;
  let built = false;
  if (!existsSync(m.file)) {
    mkdirSync(dirname(m.file), { recursive: true });
    mergeModels({ parents: m.parents.map((p) => p.path), base: m.base?.path, spec: m.spec, out: m.file });
    built = true;
  }
  await pool.putModel({ address: c.model, kind: 'llama-cpp', reported_model_ids: [], system_fingerprints: [], metadata: { merge: { method: m.spec.method, spec: m.spec, parents: m.parents, base: m.base, id: m.id, file: m.file } } });
  return built;
}

/**
 * A stratified subset of one task: a zero-shot task keeps its hash and records the draw; an ordinary task becomes the
 * same task over the drawn samples (inline, the dataset's own template and scorer kept), version `<v>-subset-<hash>`
 * so it never collides with the full task in the pool.
 */
async function subsetOf(t: Task | ZeroShotTask, spec: StratifiedSpec, strata?: Map<string, string>): Promise<{ task: Task | ZeroShotTask; draw: StratifiedSubset }> {
  if (isZeroShotTask(t)) {
    try {
      return stratifiedZeroShot(t, spec, { strata });
    } catch (err) {
      if (err instanceof InputError) throw new InputError(`task "${t.name}": ${err.detail}`, err.where);
      throw err;
    }
  }
  const def = t.definition;
  let samples, name: string, template: string | undefined, scorer: string | undefined;
  if (typeof def.dataset === 'string') {
    // Read as the task's own runs read it (evaluate: the ref as written).
    const d = await loadDataset(def.dataset, { fields: def.fields });
    ({ samples, name } = d);
    template = d.defaultTemplate;
    scorer = d.defaultScorer;
  } else ({ samples, name } = def.dataset);
  if (def.limit) samples = samples.slice(0, def.limit);
  let draw: ReturnType<typeof stratifiedSamples>;
  try {
    draw = stratifiedSamples(samples, spec, { strata });
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`task "${t.name}": ${err.detail}`, err.where);
    throw err;
  }
  const version = `${t.version}-subset-${shortId(hashJson({ spec: draw.spec, ids: draw.ids }), 8)}`;
  const task = defineTask({
    ...def, version, dataset: { name, samples: draw.samples }, limit: undefined, fields: undefined,
    template: def.template ?? (def.messages ? undefined : template), scorers: def.scorers ?? (scorer ? [scorer] : undefined),
  });
  return { task, draw };
}

/** What the pool records of a stream (the spec of its eval set, `kind: 'stream'`). */
export interface StreamRecordSpec {
  kind: 'stream';
  name: string | null;
  checkpoints: { name: string; model: string }[];
  /** By task id (`name@version`), in column order. */
  tasks: { id: string; role: StreamTaskRole }[];
  bootstrap: { seed: number; replicates: number };
  /** Run settings of every cell (part of the stream's identity: other settings, other runs). */
  settings: { epochs: number | null; limit: number | null; config: Record<string, unknown> };
  /** The order that placed the adaptation tasks (method, seed, the order itself), when the stream gave one. */
  order?: StreamOrder;
  /** The stratified subset of every task (spec, and per column the strata drawn), when the stream gave one. */
  subset?: NonNullable<ResolvedStream['subset']>;
}

/** What {@link evaluateStream} returns. */
export interface StreamResult {
  /** The eval set recording the stream (read it back with `streamTable`). */
  stream_id: string;
  status: EvalSetRecord['status'];
  /** Every cell, checkpoint by checkpoint, tasks in stream order. */
  cells: (EvalCell & { checkpoint: string })[];
  stream: ResolvedStream;
}

/** Options of {@link evaluateStream}: those of `evaluate` (run settings here override the stream's). */
export type StreamOptions = Omit<EvaluateOptions, 'dataset' | 'name'> & {
  /** Folder that relative task files are read from (a stream file's folder). */
  baseDir?: string;
  /** Called before each checkpoint is evaluated (row, name, model). */
  onCheckpoint?: (row: number, name: string, model: string) => void;
  /** Called when a merged checkpoint's file is ready (row, name, file, whether it was built now or already there). */
  onMerge?: (row: number, name: string, file: string, built: boolean) => void;
  /** An order over the stream's own (replaces it; the adaptation tasks must then have no `at`). */
  order?: StreamOrderInput;
  /** A stratified subset of every task over the stream's own. */
  subset?: StratifiedSpec;
  /** Zero-shot embedding tasks: inputs per request and how images are sent (src/zeroshot/embedder.ts). */
  embeddings?: { batchSize?: number; imageRequest?: 'input' | 'messages' };
};

/**
 * Evaluate a checkpoint stream: every checkpoint × every task (tasks not yet introduced included — forward transfer
 * and forgetting need them), one `evaluate` call per checkpoint in stream order, each cell an ordinary resumable run.
 * The stream is recorded as an eval set (`spec.kind = 'stream'`) with the order and roles.
 * @param stream a stream definition, or the path of a stream file (YAML)
 * Zero-shot embedding tasks are evaluated after the ordinary tasks of each checkpoint (`evaluateZeroShot`, one run
 * per column, one embedder per checkpoint whose in-memory cache serves the whole stream).
 * @returns the stream's eval-set id, its status (complete only when every run is) and the cells
 * @throws InputError for invalid streams or tasks, orders, subsets, or a checkpoint that is no embeddings endpoint in a
 *   stream with zero-shot embedding tasks (all before any model call); every error of `evaluate`; an EmbeddingError
 *   (src/zeroshot/embedder.ts) when an embeddings endpoint fails: the stream stops, what was stored stays
 */
export async function evaluateStream(stream: StreamDefinition | string, options: StreamOptions): Promise<StreamResult> {
  let def: StreamDefinition;
  let baseDir = options.baseDir;
  let source: StreamSource | undefined;
  if (typeof stream === 'string') {
    const read = readStreamFile(stream);
    def = read.definition;
    baseDir ??= read.baseDir;
    source = read.source;
  } else def = stream;
  if (options.order) def = { ...def, order: options.order };
  if (options.subset) def = { ...def, subset: options.subset };
  const pool = typeof options.pool === 'function' ? await options.pool() : options.pool;
  let resolved: ResolvedStream;
  try {
    resolved = await resolveStream(def, baseDir, { source, pool });
  } catch (err) {
    if (!(err instanceof MissingBaseRunError && err.use === 'order')) throw err;
    // The order reads the base checkpoint's runs: evaluate the base first — the stream's own row-0 runs, the same
    // whatever the order — then place the tasks by what it measured.
    const plain = await resolveStream({ ...def, order: { by: 'given' } }, baseDir, { source, pool });
    const first = await withEmbedders(plain, options, (emb) => evaluateRow(plain, 0, emb, options, pool));
    if (first.status !== 'complete') throw new RunError(`the base checkpoint's runs, which the order reads, are ${first.status}: run the same command again`);
    resolved = await resolveStream(def, baseDir, { source, pool });
  }
  return withEmbedders(resolved, options, (emb) => runStream(resolved, emb, options, pool));
}

/**
 * Run `f` with an embedder per checkpoint when the stream has zero-shot embedding tasks (every checkpoint must then be
 * an embeddings endpoint: checked, and the embedders made — their caches kept for the stream — before any model
 * call), closing them afterwards.
 */
async function withEmbedders<T>(resolved: ResolvedStream, options: StreamOptions, f: (embedders: Map<string, Embedder>) => Promise<T>): Promise<T> {
  const embedders = new Map<string, Embedder>();
  try {
    if (resolved.tasks.some((t) => t.zeroshot)) {
      for (const c of resolved.checkpoints) {
        embedders.set(c.model, createEmbedder(c.model, { batchSize: options.embeddings?.batchSize, imageRequest: options.embeddings?.imageRequest, timeoutMs: options.timeoutMs, maxRetries: options.maxRetries, backoffBaseMs: options.backoffBaseMs }));
      }
    }
    return await f(embedders);
  } finally {
    for (const e of embedders.values()) await e.close();
  }
}

/** The run settings of every cell: options' defined fields over the stream's (an undefined field keeps the stream's). */
function settingsOf(resolved: ResolvedStream, options: StreamOptions) {
  return {
    epochs: options.epochs ?? resolved.epochs, limit: options.limit ?? resolved.limit,
    config: { ...(resolved.config ?? {}), ...Object.fromEntries(Object.entries(options.config ?? {}).filter(([, v]) => v !== undefined)) },
  };
}

/** Evaluate one checkpoint (row) of a stream on every task: ordinary tasks through `evaluate`, zero-shot columns after. */
async function evaluateRow(resolved: ResolvedStream, row: number, embedders: Map<string, Embedder>, options: StreamOptions, pool: Pool): Promise<{ cells: StreamResult['cells']; status: EvalSetRecord['status'] }> {
  const c = resolved.checkpoints[row]!;
  const tasks = resolved.tasks.flatMap((t) => (t.zeroshot ? [] : [t.task]));
  const zeroShot = [...new Set(resolved.tasks.flatMap((t) => (t.zeroshot ? [t.task] : [])))];
  const { epochs, limit, config } = settingsOf(resolved, options);
  const cells: StreamResult['cells'] = [];
  let status = 'complete' as EvalSetRecord['status'];
  if (c.merge) {
    const built = await ensureMerged(c, pool);
    options.onMerge?.(row, c.name, c.merge.file, built);
  }
  options.onCheckpoint?.(row, c.name, c.model);
  if (tasks.length) {
    const r = await evaluate(tasks, c.model, { ...options, pool, name: `${resolved.name ?? 'stream'} @ ${c.name}`, epochs, limit, config });
    for (const cell of r.cells) cells.push({ ...cell, checkpoint: c.name });
    if (r.status !== 'complete') status = r.status === 'interrupted' ? 'interrupted' : 'failed';
  }
  // Zero-shot embedding tasks: one ordinary run per column; an endpoint failure stops the stream with its error
  // (what was stored stays; running the stream again resumes).
  for (const zt of zeroShot) {
    if (options.signal?.aborted) {
      status = 'interrupted';
      break;
    }
    const t0 = Date.now();
    const r = await evaluateZeroShot(zt, c.model, { pool, embedder: embedders.get(c.model)!, signal: options.signal, lease: options.lease });
    for (const col of r.columns) {
      const counts = await pool.counts(col.run_id);
      const result: RunResult = {
        run_id: col.run_id, status: 'complete', planned: r.items, resumed: r.resumed ? r.items : 0, executed: r.resumed ? 0 : r.items, cached: 0, cache: false, counts,
        reported_model_ids: r.embeddings.reported_model_ids, min_concurrency: 1, seconds: (Date.now() - t0) / 1000, abort_reason: null, errors: [],
      };
      cells.push({ task: col.name, model: c.model, run_id: col.run_id, result, checkpoint: c.name });
    }
  }
  return { cells, status };
}

async function runStream(resolved: ResolvedStream, embedders: Map<string, Embedder>, options: StreamOptions, pool: Pool): Promise<StreamResult> {
  const { epochs, limit, config } = settingsOf(resolved, options);
  const cells: StreamResult['cells'] = [];
  let status = 'complete' as EvalSetRecord['status'];
  for (const row of resolved.checkpoints.keys()) {
    if (options.signal?.aborted) {
      status = 'interrupted';
      break;
    }
    const r = await evaluateRow(resolved, row, embedders, options, pool);
    cells.push(...r.cells);
    if (r.status !== 'complete') status = r.status === 'interrupted' || status === 'interrupted' ? 'interrupted' : 'failed';
  }
  const runs: Record<string, string> = {};
  for (const cell of cells) {
    const e = resolved.tasks.find((x) => (x.zeroshot ? x.zeroshot.name : x.task.name) === cell.task)!;
    runs[`${streamColumnId(e)}\u0000${cell.model}`] = cell.run_id;
  }
  const spec: StreamRecordSpec = {
    kind: 'stream', name: resolved.name, checkpoints: resolved.checkpoints, tasks: resolved.tasks.map((t) => ({ id: streamColumnId(t), role: t.role })),
    bootstrap: resolved.bootstrap, settings: { epochs: epochs ?? null, limit: limit ?? null, config },
    ...(resolved.order ? { order: resolved.order } : {}), ...(resolved.subset ? { subset: resolved.subset } : {}),
  };
  // The id covers what the stream is (order, tasks by content hash, roles, settings), never how far it got, so an
  // interrupted stream run again completes the same record.
  const id = shortId(hashJson({ ...spec, task_hashes: resolved.tasks.map((t) => t.task.hash) }), 16);
  const now = new Date().toISOString();
  await pool.ensureEvalSet({
    id, name: resolved.name, tasks: resolved.tasks.map((t) => streamColumnId(t)), models: resolved.checkpoints.map((c) => c.model), runs,
    spec: spec as unknown as Record<string, unknown>, status: 'running', created_at: now, updated_at: now,
  });
  await pool.updateEvalSet(id, { runs, status });
  return { stream_id: id, status, cells, stream: resolved };
}
