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
 * ```
 * Task references are task names or files; relative paths are read from the stream file's folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../core/errors.ts';
import { MAX_EPOCHS } from '../core/limits.ts';
import { hashJson, shortId } from '../core/hash.ts';
import { GenerationConfigSchema } from '../core/schemas.ts';
import type { StreamTaskRole } from '../stats/continual.ts';
import type { EvalSetRecord } from '../store/types.ts';
import { loadTasks } from '../tasks/index.ts';
import { isTask, type Task } from '../tasks/task.ts';
import { evaluate, type EvalCell, type EvaluateOptions } from './evaluate.ts';

const CheckpointSchema = z.union([z.string().min(1), z.object({ name: z.string().min(1).optional(), model: z.string().min(1) }).strict()]);
const TaskRefSchema = z.string().min(1);

/** The serialisable stream definition (a stream file's contents). */
export const StreamSpecSchema = z
  .object({
    name: z.string().min(1).optional(),
    checkpoints: z.array(CheckpointSchema).min(1),
    adaptation: z.array(z.object({ task: TaskRefSchema, at: z.union([z.string().min(1), z.number().int().min(1)]) }).strict()).default([]),
    zero_shot: z.array(TaskRefSchema).default([]),
    epochs: z.number().int().min(1).max(MAX_EPOCHS, `epochs must be at most ${MAX_EPOCHS.toLocaleString('en-US')}`).optional(),
    limit: z.number().int().min(1).optional(),
    config: GenerationConfigSchema.partial().optional(),
    bootstrap: z.object({ seed: z.number().int().optional(), replicates: z.number().int().min(1).optional() }).strict().optional(),
  })
  .strict();

/** A stream as code: like the file, but tasks may also be task values (from `defineTask`). */
export interface StreamDefinition {
  name?: string;
  /** Model addresses in stream order, or `{ name, model }`; the first is the base. Names default to `c<row>`. */
  checkpoints: (string | { name?: string; model: string })[];
  /** Adaptation tasks: each introduced at a checkpoint (its name, or its row ≥ 1). */
  adaptation?: { task: string | Task; at: string | number }[];
  /** Held-out zero-shot tasks. */
  zero_shot?: (string | Task)[];
  epochs?: number;
  limit?: number;
  config?: EvaluateOptions['config'];
  bootstrap?: { seed?: number; replicates?: number };
}

/** A stream with its tasks loaded and roles resolved to rows. */
export interface ResolvedStream {
  name: string | null;
  checkpoints: { name: string; model: string }[];
  /** Every task of the stream, adaptation tasks first (in file order), then the held-out ones. */
  tasks: { task: Task; role: StreamTaskRole }[];
  epochs?: number;
  limit?: number;
  config?: EvaluateOptions['config'];
  bootstrap: { seed: number; replicates: number };
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
 * Load a stream's tasks and resolve checkpoint names and introduction rows.
 * @param baseDir folder that relative task files are read from (default: the working directory)
 * @throws InputError for duplicate checkpoint names or models, an `at` naming no checkpoint or the base (row 0), a task
 *   in two roles or twice, and every error of loading a task
 */
export async function resolveStream(def: StreamDefinition, baseDir?: string): Promise<ResolvedStream> {
  const checkpoints = def.checkpoints.map((c, i) => (typeof c === 'string' ? { name: `c${i}`, model: c } : { name: c.name ?? `c${i}`, model: c.model }));
  if (new Set(checkpoints.map((c) => c.name)).size !== checkpoints.length) throw new InputError('two checkpoints share a name', { field: 'checkpoints' });
  if (new Set(checkpoints.map((c) => c.model)).size !== checkpoints.length) throw new InputError('two checkpoints share a model address', { field: 'checkpoints' });
  const load = async (ref: string | Task): Promise<Task[]> => {
    if (isTask(ref)) return [ref];
    const local = baseDir && !isAbsolute(ref) ? resolve(baseDir, ref) : ref;
    return loadTasks(baseDir && existsSync(local) ? local : ref);
  };
  const rowOf = (at: string | number): number => {
    const row = typeof at === 'number' ? at : checkpoints.findIndex((c) => c.name === at);
    if (row < 0) throw new InputError(`"at: ${at}" names no checkpoint (${checkpoints.map((c) => c.name).join(', ')})`, { field: 'adaptation.at' });
    if (row < 1 || row >= checkpoints.length) throw new InputError(`an adaptation task is introduced at a checkpoint after the base: row 1…${checkpoints.length - 1}, not ${at}`, { field: 'adaptation.at' });
    return row;
  };
  const tasks: ResolvedStream['tasks'] = [];
  for (const a of def.adaptation ?? []) for (const t of await load(a.task)) tasks.push({ task: t, role: { role: 'adaptation', introduced: rowOf(a.at) } });
  for (const ref of def.zero_shot ?? []) for (const t of await load(ref)) tasks.push({ task: t, role: { role: 'zero-shot' } });
  if (!tasks.length) throw new InputError('a stream needs at least one task (adaptation or zero_shot)', { field: 'adaptation' });
  if (new Set(tasks.map((t) => t.task.name)).size !== tasks.length) throw new InputError('a task appears twice in the stream (each task has one role)', { field: 'adaptation' });
  return {
    name: def.name ?? null, checkpoints, tasks, epochs: def.epochs, limit: def.limit, config: def.config,
    bootstrap: { seed: def.bootstrap?.seed ?? 0, replicates: def.bootstrap?.replicates ?? 2000 },
  };
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
};

/**
 * Evaluate a checkpoint stream: every checkpoint × every task (tasks not yet introduced included — forward transfer
 * and forgetting need them), one `evaluate` call per checkpoint in stream order, each cell an ordinary resumable run.
 * The stream is recorded as an eval set (`spec.kind = 'stream'`) with the order and roles.
 * @param stream a stream definition, or the path of a stream file (YAML)
 * @returns the stream's eval-set id, its status (complete only when every run is) and the cells
 * @throws InputError for invalid streams or tasks (before any model call) and every error of `evaluate`
 */
export async function evaluateStream(stream: StreamDefinition | string, options: StreamOptions): Promise<StreamResult> {
  let def: StreamDefinition;
  let baseDir = options.baseDir;
  if (typeof stream === 'string') {
    const read = readStreamFile(stream);
    def = read.definition;
    baseDir ??= read.baseDir;
  } else def = stream;
  const resolved = await resolveStream(def, baseDir);
  const pool = typeof options.pool === 'function' ? await options.pool() : options.pool;
  const tasks = resolved.tasks.map((t) => t.task);
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
    const r = await evaluate(tasks, c.model, {
      ...options, pool, name: `${resolved.name ?? 'stream'} @ ${c.name}`,
      epochs, limit, config,
    });
    for (const cell of r.cells) cells.push({ ...cell, checkpoint: c.name });
    if (r.status !== 'complete') status = r.status === 'interrupted' || status === 'interrupted' ? 'interrupted' : 'failed';
  }
  const taskId = (t: Task) => `${t.name}@${t.version}`;
  const runs: Record<string, string> = {};
  for (const cell of cells) {
    const t = resolved.tasks.find((x) => x.task.name === cell.task)!.task;
    runs[`${taskId(t)}\u0000${cell.model}`] = cell.run_id;
  }
  const spec: StreamRecordSpec = {
    kind: 'stream', name: resolved.name, checkpoints: resolved.checkpoints, tasks: resolved.tasks.map((t) => ({ id: taskId(t.task), role: t.role })),
    bootstrap: resolved.bootstrap, settings: { epochs: epochs ?? null, limit: limit ?? null, config },
  };
  // The id covers what the stream is (order, tasks by content hash, roles, settings), never how far it got, so an
  // interrupted stream run again completes the same record.
  const id = shortId(hashJson({ ...spec, task_hashes: resolved.tasks.map((t) => t.task.hash) }), 16);
  const now = new Date().toISOString();
  await pool.ensureEvalSet({
    id, name: resolved.name, tasks: resolved.tasks.map((t) => taskId(t.task)), models: resolved.checkpoints.map((c) => c.model), runs,
    spec: spec as unknown as Record<string, unknown>, status: 'running', created_at: now, updated_at: now,
  });
  await pool.updateEvalSet(id, { runs, status });
  return { stream_id: id, status, cells, stream: resolved };
}
