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
 * ```
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
 * its seed are recorded with the stream.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../core/errors.ts';
import { MAX_EPOCHS, thousands } from '../core/limits.ts';
import { hashJson, shortId } from '../core/hash.ts';
import { GenerationConfigSchema } from '../core/schemas.ts';
import type { StreamTaskRole } from '../stats/continual.ts';
import type { EvalSetRecord } from '../store/types.ts';
import { loadDataset } from '../datasets/index.ts';
import { stratifiedSamples, stratifiedSubset, type StratifiedSpec, type StratifiedSubset } from '../datasets/stratified.ts';
import { introductionRows, STREAM_ORDERS, streamOrder, type OrderItem, type StreamOrder, type StreamOrderSpec } from '../generators/stream-order.ts';
import { loadTasks } from '../tasks/index.ts';
import { defineTask, isTask, type Task } from '../tasks/task.ts';
import { createEmbedder, type Embedder } from '../zeroshot/embedder.ts';
import { evaluateZeroShot } from './zeroshot.ts';
import { isZeroShotFile, isZeroShotTask, readZeroShotFile, stratifiedZeroShot, zeroShotColumns, type ZeroShotColumn, type ZeroShotTask } from '../zeroshot/task.ts';
import { evaluate, type EvalCell, type EvaluateOptions } from './evaluate.ts';
import type { RunResult } from './run.ts';

const CheckpointSchema = z.union([z.string().min(1), z.object({ name: z.string().min(1).optional(), model: z.string().min(1) }).strict()]);
const TaskRefSchema = z.string().min(1);
const SubsetSchema = z
  .object({ size: z.number().int().min(1).optional(), fraction: z.number().gt(0).max(1).optional(), by: z.string().min(1).optional(), seed: z.number().int().optional() })
  .strict();
const OrderSchema = z
  .object({
    by: z.enum(STREAM_ORDERS), seed: z.number().int().optional(), direction: z.enum(['ascending', 'descending']).optional(), start: z.string().min(1).optional(),
    embed_with: z.string().min(1).optional(),
  })
  .strict();

/** The serialisable stream definition (a stream file's contents). */
export const StreamSpecSchema = z
  .object({
    name: z.string().min(1).optional(),
    checkpoints: z.array(CheckpointSchema).min(1),
    adaptation: z
      .array(
        z
          .object({
            task: TaskRefSchema, at: z.union([z.string().min(1), z.number().int().min(1)]).optional(),
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

/** A stream's order: a {@link StreamOrderSpec}, plus an embeddings endpoint for `similarity` without given embeddings. */
export type StreamOrderInput = StreamOrderSpec & { embed_with?: string };

/** A stream as code: like the file, but tasks may also be task values (from `defineTask`). */
export interface StreamDefinition {
  name?: string;
  /** Model addresses in stream order, or `{ name, model }`; the first is the base. Names default to `c<row>`. */
  checkpoints: (string | { name?: string; model: string })[];
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
  checkpoints: { name: string; model: string }[];
  /** Every column of the stream: adaptation tasks first (in stream order), then the held-out ones. */
  tasks: StreamEntry[];
  epochs?: number;
  limit?: number;
  config?: EvaluateOptions['config'];
  bootstrap: { seed: number; replicates: number };
  /** The order that placed the adaptation tasks (null when each gave its `at`). */
  order: StreamOrder | null;
  /** The subset drawn of each task, by column id (null without a subset). */
  subset: { spec: StratifiedSpec; draws: Record<string, Omit<StratifiedSubset, 'ids'>> } | null;
}

/**
 * Read and validate a stream file (YAML).
 * @throws InputError naming the file and the field for unreadable files, YAML errors and invalid fields
 */
export function readStreamFile(file: string): { definition: StreamDefinition; baseDir: string } {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the stream file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InputError(`YAML: ${(err as Error).message.split('\n')[0]}`, { file: path });
  }
  const parsed = StreamSpecSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(issue.message, { file: path, field: issue.path.map(String).join('.') || '(stream)' });
  }
  return { definition: parsed.data as StreamDefinition, baseDir: dirname(path) };
}

/**
 * Load a stream's tasks (ordinary and zero-shot embedding tasks) and resolve checkpoint names and introduction rows:
 * each adaptation task's `at`, or the rows of the stream's `order` (src/generators/stream-order.ts:
 * `streamOrder`, then `introductionRows`); draw the stratified subset of every task once (src/datasets/stratified.ts).
 * @param baseDir folder that relative task files are read from (default: the working directory)
 * @throws InputError for duplicate checkpoint names or models, an `at` naming no checkpoint or the base (row 0), an
 *   adaptation task without `at` in a stream without an order (or with one in a stream with an order), every error of
 *   `streamOrder` and `stratifiedSubset` (naming the field), a task in two roles or twice, and every error of loading
 *   a task; EmbeddingError when `order.embed_with` is given and its endpoint fails
 */
export async function resolveStream(def: StreamDefinition, baseDir?: string): Promise<ResolvedStream> {
  const checkpoints = def.checkpoints.map((c, i) => (typeof c === 'string' ? { name: `c${i}`, model: c } : { name: c.name ?? `c${i}`, model: c.model }));
  if (new Set(checkpoints.map((c) => c.name)).size !== checkpoints.length) throw new InputError('two checkpoints share a name', { field: 'checkpoints' });
  if (new Set(checkpoints.map((c) => c.model)).size !== checkpoints.length) throw new InputError('two checkpoints share a model address', { field: 'checkpoints' });
  const load = async (ref: StreamTaskInput): Promise<(Task | ZeroShotTask)[]> => {
    if (isTask(ref) || isZeroShotTask(ref)) return [ref];
    const local = baseDir && !isAbsolute(ref) ? resolve(baseDir, ref) : ref;
    const path = baseDir && existsSync(local) ? local : ref;
    if (isZeroShotFile(path)) return [readZeroShotFile(path)];
    return loadTasks(path);
  };
  const rowOf = (at: string | number): number => {
    const row = typeof at === 'number' ? at : checkpoints.findIndex((c) => c.name === at);
    if (row < 0) throw new InputError(`"at: ${at}" names no checkpoint (${checkpoints.map((c) => c.name).join(', ')})`, { field: 'adaptation.at' });
    if (row < 1 || row >= checkpoints.length) throw new InputError(`an adaptation task is introduced at a checkpoint after the base: row 1…${checkpoints.length - 1}, not ${at}`, { field: 'adaptation.at' });
    return row;
  };
  const adaptation = def.adaptation ?? [];
  const loaded = [];
  for (const a of adaptation) loaded.push({ entry: a, tasks: await load(a.task) });
  // Where each adaptation entry is introduced: its own `at`, or its place in the stream's order.
  let order: StreamOrder | null = null;
  let rows: number[];
  if (def.order) {
    const given = adaptation.findIndex((a) => a.at !== undefined);
    if (given >= 0) throw new InputError('give every adaptation task an "at", or the stream an order, not both', { field: `adaptation.${given}.at` });
    if (!adaptation.length) throw new InputError('an order places adaptation tasks, and the stream has none', { field: 'order' });
    const ids = loaded.map((l) => l.tasks.map((t) => t.name).join('+'));
    const items: OrderItem[] = loaded.map((l, i) => ({ id: ids[i]!, difficulty: l.entry.difficulty, frequency: l.entry.frequency, embedding: l.entry.embedding }));
    const { embed_with, ...spec } = def.order;
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
    order = streamOrder(items, spec);
    if (embed_with) order = { ...order, spec: { ...order.spec, embed_with } as StreamOrder['spec'] };
    const placed = introductionRows(order.order, checkpoints.length - 1);
    rows = ids.map((id) => placed.get(id)!);
  } else {
    rows = adaptation.map((a, i) => {
      if (a.at === undefined) throw new InputError(`adaptation task ${i + 1} has no "at": give each adaptation task the checkpoint that introduces it, or the stream an order`, { field: `adaptation.${i}.at` });
      return rowOf(a.at);
    });
  }
  const entriesOf = (t: Task | ZeroShotTask, role: StreamTaskRole): StreamEntry[] =>
    isZeroShotTask(t) ? zeroShotColumns(t).map((c) => ({ task: t, zeroshot: c, role })) : [{ task: t, role }];
  const raw: { task: Task | ZeroShotTask; role: StreamTaskRole; row: number }[] = [];
  loaded.forEach((l, i) => l.tasks.forEach((t) => raw.push({ task: t, role: { role: 'adaptation', introduced: rows[i]! }, row: rows[i]! })));
  // With an order, adaptation columns follow it (by introduction row; order within a row); else file order.
  if (order) {
    const pos = new Map(order.order.map((id, i) => [id, i]));
    const idOf = new Map(loaded.flatMap((l) => l.tasks.map((t) => [t, l.tasks.map((x) => x.name).join('+')] as const)));
    raw.sort((a, b) => pos.get(idOf.get(a.task)!)! - pos.get(idOf.get(b.task)!)!);
  }
  for (const ref of def.zero_shot ?? []) for (const t of await load(ref)) raw.push({ task: t, role: { role: 'zero-shot' }, row: Infinity });
  if (!raw.length) throw new InputError('a stream needs at least one task (adaptation or zero_shot)', { field: 'adaptation' });
  if (new Set(raw.map((t) => t.task.name)).size !== raw.length) throw new InputError('a task appears twice in the stream (each task has one role)', { field: 'adaptation' });
  // A stratified subset of every task, drawn once: the same samples at every checkpoint.
  let subset: ResolvedStream['subset'] = null;
  if (def.subset) {
    const draws: Record<string, Omit<StratifiedSubset, 'ids'>> = {};
    for (const r of raw) {
      const { task, draw } = await subsetOf(r.task, def.subset);
      r.task = task;
      const { ids: _ids, ...rest } = draw;
      for (const e of entriesOf(task, r.role)) draws[streamColumnId(e)] = rest;
    }
    subset = { spec: def.subset, draws };
  }
  const tasks = raw.flatMap((r) => entriesOf(r.task, r.role));
  return {
    name: def.name ?? null, checkpoints, tasks, epochs: def.epochs, limit: def.limit, config: def.config,
    bootstrap: { seed: def.bootstrap?.seed ?? 0, replicates: def.bootstrap?.replicates ?? 2000 }, order, subset,
  };
}

/**
 * A stratified subset of one task: a zero-shot task keeps its hash and records the draw; an ordinary task becomes the
 * same task over the drawn samples (inline, the dataset's own template and scorer kept), version `<v>-subset-<hash>`
 * so it never collides with the full task in the pool.
 */
async function subsetOf(t: Task | ZeroShotTask, spec: StratifiedSpec): Promise<{ task: Task | ZeroShotTask; draw: StratifiedSubset }> {
  if (isZeroShotTask(t)) return stratifiedZeroShot(t, spec);
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
    draw = stratifiedSamples(samples, spec);
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
  if (typeof stream === 'string') {
    const read = readStreamFile(stream);
    def = read.definition;
    baseDir ??= read.baseDir;
  } else def = stream;
  if (options.order) def = { ...def, order: options.order };
  if (options.subset) def = { ...def, subset: options.subset };
  const resolved = await resolveStream(def, baseDir);
  const tasks = resolved.tasks.flatMap((t) => (t.zeroshot ? [] : [t.task]));
  const zeroShot = [...new Set(resolved.tasks.flatMap((t) => (t.zeroshot ? [t.task] : [])))];
  // Every checkpoint must be an embeddings endpoint when the stream has zero-shot embedding tasks: checked (and the
  // embedders made, one per checkpoint, their caches kept for the stream) before any model call.
  const embedders = new Map<string, Embedder>();
  if (zeroShot.length) {
    for (const c of resolved.checkpoints) {
      embedders.set(c.model, createEmbedder(c.model, { batchSize: options.embeddings?.batchSize, imageRequest: options.embeddings?.imageRequest, timeoutMs: options.timeoutMs, maxRetries: options.maxRetries, backoffBaseMs: options.backoffBaseMs }));
    }
  }
  try {
    return await runStream(resolved, tasks, zeroShot, embedders, options);
  } finally {
    for (const e of embedders.values()) await e.close();
  }
}

async function runStream(resolved: ResolvedStream, tasks: Task[], zeroShot: ZeroShotTask[], embedders: Map<string, Embedder>, options: StreamOptions): Promise<StreamResult> {
  const pool = typeof options.pool === 'function' ? await options.pool() : options.pool;
  const epochs = options.epochs ?? resolved.epochs;
  const limit = options.limit ?? resolved.limit;
  // Options' defined fields over the stream's (an undefined field keeps the stream's value).
  const config = { ...(resolved.config ?? {}), ...Object.fromEntries(Object.entries(options.config ?? {}).filter(([, v]) => v !== undefined)) };
  const cells: StreamResult['cells'] = [];
  let status = 'complete' as EvalSetRecord['status'];
  for (const [row, c] of resolved.checkpoints.entries()) {
    if (options.signal?.aborted) {
      status = 'interrupted';
      break;
    }
    options.onCheckpoint?.(row, c.name, c.model);
    if (tasks.length) {
      const r = await evaluate(tasks, c.model, {
        ...options, pool, name: `${resolved.name ?? 'stream'} @ ${c.name}`,
        epochs, limit, config,
      });
      for (const cell of r.cells) cells.push({ ...cell, checkpoint: c.name });
      if (r.status !== 'complete') status = r.status === 'interrupted' || status === 'interrupted' ? 'interrupted' : 'failed';
    }
    // Zero-shot embedding tasks: one ordinary run per column; an endpoint failure stops the stream with its error
    // (what was stored stays; running the stream again resumes).
    for (const zt of zeroShot) {
      if (options.signal?.aborted) break;
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
