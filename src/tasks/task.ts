/**
 * Tasks: the unit of evaluation (DESIGN.md §2, after Inspect's Task). A task is a value — a dataset, a prompt
 * (template or message list), optional few-shot examples drawn with a recorded seed, a solver, scorers, epochs,
 * a generation config (stop sequences included) and metrics — under a name and a version. The run id of a task
 * run covers all of it: change anything that changes outputs and you get a new run; bump `version` when the
 * meaning of a task changes in a way its definition cannot show (e.g. a custom solver's code).
 *
 * Tasks are written in TypeScript with `defineTask({...})` or in YAML (`yaml.ts`), and run with
 * `evaluate(tasks, models)` or `assay run --task <file|name>` / `assay eval <task…>`.
 */
import { z } from 'zod';
import { InputError } from '../core/errors.ts';
import { countProblem, MAX_EPOCHS, thousands } from '../core/limits.ts';
import { hashJson } from '../core/hash.ts';
import { GenerationConfigSchema, MessageSchema, type GenerationConfig, type Message, type Sample } from '../core/schemas.ts';
import type { ImageBlob } from '../core/images.ts';
import type { Scorer } from '../scorers/types.ts';
import type { Solver, SolverSpec } from '../solvers/types.ts';

/** A solver given by registry name (`"chain_of_thought"`), by spec, or as a function (TypeScript tasks only). */
export type SolverInput = string | SolverSpec | Solver;
/** A scorer given by registry spec (`"math?percent=scaled"`) or as an object (TypeScript tasks only). */
export type ScorerInput = string | Scorer;
/**
 * A dataset given by ref (`"gsm8k"`, `"gsm8k:path"`, `"data.jsonl"`, a registered name) or inline samples. Inline
 * samples with image parts (`imagePart(loadImage(…))`) give those images' bytes in `images`: file paths, data URIs,
 * bytes, or blobs from `loadImage`.
 */
export type DatasetInput = string | { name: string; samples: Sample[]; images?: (string | Uint8Array | ImageBlob)[] };

/** Settings for few-shot examples (lm-evaluation-harness's `num_fewshot` / `fewshot_split`). */
export interface FewShotConfig {
  /** Number of examples (≥ 1). */
  k: number;
  /**
   * Dataset ref to draw them from (the "train" split). When absent they are drawn from the evaluated dataset
   * itself and the drawn samples are excluded from evaluation (by id), so no example is ever also a question.
   */
  from?: string;
  /** Seed of the draw (default 0; recorded in the task hash). */
  seed?: number;
  /** Where an example's answer comes from: `target` (default) or `metadata.<key>` (e.g. GSM8K's worked `solution`). */
  output?: string;
  /**
   * How an example's question is written: `question` (default: the sample's question as it is) or `template` (through
   * the task's prompt template, like the question that follows: lm-eval's few-shot layout, what log-likelihood tasks
   * on base models expect, e.g. "Question: …\nAnswer: <target>").
   */
  format?: 'question' | 'template';
}

/** What a task author writes. Everything but `name` and `dataset` has a default. */
export interface TaskDefinition {
  name: string;
  /** Version of the task's meaning (default "1"); part of the run id. */
  version?: string | number;
  description?: string;
  dataset: DatasetInput;
  /** Generic files: column names (see `loadDataset`); `image`: a column of image paths or data URIs, sent with the question. */
  fields?: { id?: string; input?: string; target?: string; image?: string };
  /** Only the first `limit` samples. */
  limit?: number;
  /**
   * The prompt: a built-in template name (`plain`, `math-boxed`, `gsm8k-cot`, `choice`) or text with `{question}`
   * (and optionally `{choices}` and any other field of the dataset, `{context}` or `{metadata.context}`: a placeholder
   * that is not a field of every sample is refused before any request). Default: the dataset's own template.
   * Exclusive with `messages`.
   */
  template?: string;
  /** The prompt as a message list; `{question}`, `{choices}`, `{metadata.<key>}` and `{<key>}` are filled per sample. */
  messages?: Message[];
  fewShot?: FewShotConfig;
  /** One solver or a chain (default: `generate`). */
  solver?: SolverInput | SolverInput[];
  /** Default: the dataset's own scorer. */
  scorers?: ScorerInput[];
  /** Independent attempts per sample (default 1). */
  epochs?: number;
  /** Generation config defaults for this task (a run's own settings override them); `stop` ends generations and grading. */
  config?: Partial<GenerationConfig>;
  /** Metrics to report (default `accuracy`): `accuracy`, `pass@k`, `maj@k`. */
  metrics?: ('accuracy' | 'pass@k' | 'maj@k')[];
}

/** A validated task (what `defineTask` returns). `spec` is its serialisable definition and `hash` its content address. */
export interface Task {
  readonly kind: 'assay.task';
  readonly name: string;
  readonly version: string;
  readonly definition: Readonly<TaskDefinition>;
  /** JSON form of the definition (functions replaced by their name and a hash of their source). */
  readonly spec: Record<string, unknown>;
  /** sha256 of `spec`. */
  readonly hash: string;
  /**
   * True for the task that a plain dataset run stands for (`assay run --dataset …`, `datasetTask`): its runs record
   * no task, so they keep the ids they had before tasks existed.
   */
  readonly implicit?: boolean;
  /**
   * Where the task was written, for tasks read from a file (YAML): errors found when it is resolved (an unknown
   * scorer or solver, a placeholder that is not a field, few-shot k larger than the split) name the file and the line
   * of the field (`line('fewShot.k')`, `line('scorers.1')`; an unknown field gives the task's first line).
   */
  readonly source?: { readonly file: string; readonly line: (field: string) => number };
}

export const METRICS = ['accuracy', 'pass@k', 'maj@k'] as const;

/** The serialisable part of a task definition, as YAML tasks write it (validated field by field). */
export const TaskSpecSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only'),
  version: z.union([z.string().min(1), z.number()]).optional(),
  description: z.string().optional(),
  dataset: z.string().min(1),
  fields: z.strictObject({ id: z.string().optional(), input: z.string().optional(), target: z.string().optional(), image: z.string().optional() }).optional(),
  limit: z.number().int().positive().optional(),
  template: z.string().min(1).optional(),
  messages: z.array(MessageSchema).min(1).optional(),
  fewShot: z
    .strictObject({
      k: z.number().int().positive(),
      from: z.string().min(1).optional(),
      seed: z.number().int().optional(),
      output: z.string().regex(/^(target|metadata\.[\w.-]+)$/, 'either "target" or "metadata.<key>"').optional(),
      format: z.enum(['question', 'template']).optional(),
    })
    .optional(),
  solver: z
    .union([
      z.string().min(1),
      z.strictObject({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).default({}) }),
      z.array(z.union([z.string().min(1), z.strictObject({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).default({}) })])),
    ])
    .optional(),
  scorers: z.array(z.string().min(1)).min(1).optional(),
  epochs: z.number().int().positive().max(MAX_EPOCHS, `epochs must be at most ${thousands(MAX_EPOCHS)}`).optional(),
  config: GenerationConfigSchema.partial().strict().optional(),
  metrics: z.array(z.enum(METRICS)).optional(),
});

/** The source-text hash of a function (what a task records for an inline solver or dataset loader). */
function fnId(f: { name?: string; toString(): string }): string {
  return `fn:${f.name || 'anonymous'}:${hashJson(f.toString()).slice(0, 16)}`;
}

function solverSpecOf(s: SolverInput): SolverSpec | string {
  if (typeof s === 'string') return { name: s, options: {} };
  if (typeof s === 'function') return (s as { spec?: SolverSpec }).spec ?? fnId(s);
  return { name: s.name, options: s.options ?? {} };
}

/**
 * Validate a task definition and give it its content address.
 * @returns a frozen `Task`; `task.hash` covers name, version, dataset (ref, or the hash of inline samples), prompt,
 *   few-shot settings, solver specs (an inline function by its source hash), scorer specs, epochs, config, metrics.
 * @throws InputError naming the field for: a missing name or dataset, `template` with `messages`, a bad few-shot
 *   setting, epochs not an integer from 1 to MAX_EPOCHS, an unknown metric, a generation config out of range.
 */
export function defineTask(def: TaskDefinition): Task {
  if (!def || typeof def !== 'object') throw new InputError('defineTask needs an object');
  if (typeof def.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(def.name)) throw new InputError(`task name must be letters, digits, ".", "_" and "-" (got ${JSON.stringify(def.name)})`, { field: 'name' });
  if (def.dataset === undefined) throw new InputError(`task "${def.name}" has no dataset`, { field: 'dataset' });
  if (def.template !== undefined && def.messages !== undefined) throw new InputError(`task "${def.name}": give either template or messages, not both`, { field: 'messages' });
  if (def.epochs !== undefined && countProblem('epochs', def.epochs, MAX_EPOCHS)) throw new InputError(`task "${def.name}": ${countProblem('epochs', def.epochs, MAX_EPOCHS)}`, { field: 'epochs' });
  if (def.fewShot && (!Number.isInteger(def.fewShot.k) || def.fewShot.k < 1)) throw new InputError(`task "${def.name}": fewShot.k must be an integer ≥ 1`, { field: 'fewShot.k' });
  if (def.fewShot?.output && !/^(target|metadata\.[\w.-]+)$/.test(def.fewShot.output)) throw new InputError(`task "${def.name}": fewShot.output must be "target" or "metadata.<key>"`, { field: 'fewShot.output' });
  if (def.fewShot?.format !== undefined && def.fewShot.format !== 'question' && def.fewShot.format !== 'template') throw new InputError(`task "${def.name}": fewShot.format must be "question" or "template"`, { field: 'fewShot.format' });
  for (const m of def.metrics ?? []) if (!(METRICS as readonly string[]).includes(m)) throw new InputError(`task "${def.name}": unknown metric "${m}"; known: ${METRICS.join(', ')}`, { field: 'metrics' });
  if (def.config) {
    const c = GenerationConfigSchema.partial().safeParse(def.config);
    if (!c.success) throw new InputError(`task "${def.name}": ${c.error.issues.map((i) => `config.${i.path.join('.')}: ${i.message}`).join('; ')}`, { field: 'config' });
  }
  const version = String(def.version ?? '1');
  const solvers = def.solver === undefined ? [] : Array.isArray(def.solver) ? def.solver : [def.solver];
  const spec: Record<string, unknown> = {
    name: def.name,
    version,
    dataset: typeof def.dataset === 'string' ? def.dataset : { name: def.dataset.name, samples_sha256: hashJson(def.dataset.samples) },
    fields: def.fields,
    limit: def.limit,
    template: def.template,
    messages: def.messages,
    fewShot: def.fewShot ? { seed: 0, output: 'target', ...def.fewShot } : undefined,
    solver: solvers.length ? solvers.map(solverSpecOf) : undefined,
    scorers: def.scorers?.map((s) => (typeof s === 'string' ? s : `${s.name}#${fnId(s.score)}`)),
    epochs: def.epochs,
    config: def.config,
    metrics: def.metrics,
  };
  return Object.freeze({ kind: 'assay.task' as const, name: def.name, version, definition: Object.freeze({ ...def }), spec, hash: hashJson(spec) });
}

/** Is `x` a task made by `defineTask`? */
export function isTask(x: unknown): x is Task {
  return !!x && typeof x === 'object' && (x as Task).kind === 'assay.task';
}

/**
 * The task behind a plain dataset run: the dataset by ref, its own template and scorer unless given. Its runs record no
 * task in their spec (`implicit`), so `assay run --dataset gsm8k …` keeps the run ids it always had.
 */
export function datasetTask(ref: string, opts: { template?: string; scorers?: string[]; fields?: TaskDefinition['fields'] } = {}): Task {
  const name = ref.replace(/^.*[\\/]/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'dataset';
  const t = defineTask({ name, dataset: ref, template: opts.template, scorers: opts.scorers, fields: opts.fields });
  return Object.freeze({ ...t, implicit: true });
}
