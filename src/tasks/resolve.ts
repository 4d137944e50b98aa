/**
 * From a task (what an author wrote) to what the runner executes: the dataset loaded, few-shot examples drawn with
 * their recorded seed (and removed from the evaluated samples when they come from the same dataset), the prompt
 * renderer, the solver chain, the scorers, the epochs and the generation config.
 */
import { InputError } from '../core/errors.ts';
import { hashJson } from '../core/hash.ts';
import { createRng } from '../core/rng.ts';
import { imageFromBytes, loadImage, memoryImageEntry, type DatasetImages, type ImageBlob } from '../core/images.ts';
import { GenerationConfigSchema, messageImages, messageText, type GenerationConfig, type Message, type RunDataset, type Sample } from '../core/schemas.ts';
import { checkTemplateFields, fillTemplate, getTemplate, isTemplateName, renderMessages } from '../core/templates.ts';
import { loadDataset, type LoadedDataset } from '../datasets/index.ts';
import { createScorer } from '../scorers/registry.ts';
import type { Scorer } from '../scorers/types.ts';
import { chain, generate } from '../solvers/builtin.ts';
import { createSolver } from '../solvers/registry.ts';
import { solverGenerates, type Solver, type SolverSpec } from '../solvers/types.ts';
import type { SolverInput, Task } from './task.ts';

/** A task ready to run. */
export interface ResolvedTask {
  task: Task;
  dataset: RunDataset;
  template: { name: string; hash: string };
  render: (sample: Sample) => Message[];
  solver: Solver;
  /** Registry specs of the solver chain (a function solver appears as `{ name: 'fn:<name>:<hash>' }`). */
  solverSpec: SolverSpec[];
  scorers: Scorer[];
  epochs: number;
  config: GenerationConfig;
  /** Only the first `limit` samples are evaluated (recorded in the run spec). */
  limit: number | null;
  /** Ids of the samples drawn as few-shot examples (excluded from evaluation when drawn from the same dataset). */
  fewShotIds: string[];
}

/** Overrides a command or an `evaluate` call puts over the task's own settings. */
export interface TaskOverrides {
  epochs?: number;
  config?: Partial<GenerationConfig>;
  limit?: number | null;
  /** Scorer specs that replace the task's. */
  scorers?: string[];
  /** Dataset options (download cache, a test's download source). */
  datasetOptions?: Parameters<typeof loadDataset>[1];
}

/**
 * Resolve a task for running.
 * @throws InputError for a dataset that cannot be loaded, a few-shot `k` larger than the split, a missing few-shot
 *   output field, an unknown template/solver/scorer (each message names the task and the field).
 */
export async function resolveTask(task: Task, over: TaskOverrides = {}): Promise<ResolvedTask> {
  try {
    return await resolveTaskAt(task, over);
  } catch (err) {
    throw locate(task, err);
  }
}

/**
 * An error of a task read from a file, placed at its file and line: the field an InputError names (`fewShot.k`,
 * `scorers.1`, `template`) is looked up in the task's source map (`Task.source`, set by the YAML loader).
 */
function locate(task: Task, err: unknown): unknown {
  if (!task.source || !(err instanceof InputError) || err.where.file) return err;
  const prefix = `${task.name}.`;
  const raw = err.where.field ?? '';
  const field = raw.startsWith(prefix) ? raw.slice(prefix.length) : raw;
  const detail = err.detail.startsWith(`task "${task.name}": `) ? err.detail.slice(`task "${task.name}": `.length) : err.detail;
  return new InputError(detail, { file: task.source.file, line: task.source.line(field), field: field || undefined });
}

/** Run `fn`; an InputError it throws without a field gets `field` (so the task file's line can be found). */
function inField<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InputError && !err.where.field && !err.where.file) throw new InputError(err.detail, { field });
    throw err;
  }
}

async function resolveTaskAt(task: Task, over: TaskOverrides): Promise<ResolvedTask> {
  const def = task.definition;
  // Tasks from a file name the field as written there (the file and line say which task), a plain dataset run names
  // the setting (`--template`'s "template"); others name the task too.
  const where = (field: string) => ({ field: task.source || task.implicit ? field : `${task.name}.${field}` });
  let loaded: Pick<LoadedDataset, 'name' | 'ref' | 'path' | 'hash' | 'samples' | 'defaultScorer' | 'defaultTemplate' | 'images' | 'textOnly'>;
  if (typeof def.dataset === 'string') {
    loaded = await loadDataset(def.dataset, { ...(over.datasetOptions ?? {}), fields: def.fields ?? over.datasetOptions?.fields });
  } else {
    const samples = def.dataset.samples;
    if (!Array.isArray(samples) || samples.length === 0) throw new InputError(`task "${task.name}": inline dataset "${def.dataset.name}" has no samples`, where('dataset'));
    const images = inlineImages(def.dataset.images, task.name);
    loaded = { name: def.dataset.name, ref: `inline:${def.dataset.name}`, path: null, hash: hashJson(samples), samples, defaultScorer: 'math', defaultTemplate: 'plain', ...(images ? { images } : {}) };
  }

  // Few-shot examples: drawn once with the recorded seed (Fisher–Yates prefix), in drawn order.
  let samples = loaded.samples;
  let fewShotTurns: Message[] = [];
  const fewShotIds: string[] = [];
  const fewShotExamples: { ex: Sample; out: string }[] = [];
  if (def.fewShot) {
    const fs = def.fewShot;
    const pool = fs.from ? (await inField('fewShot.from', () => loadDataset(fs.from!, over.datasetOptions))).samples : loaded.samples;
    if (fs.k > pool.length - (fs.from ? 0 : 1)) throw new InputError(`task "${task.name}": fewShot.k = ${fs.k} but the split has ${pool.length} samples`, where('fewShot.k'));
    const idx = pool.map((_, i) => i);
    const rng = createRng(fs.seed ?? 0);
    for (let i = 0; i < fs.k; i++) {
      const j = i + rng.int(idx.length - i);
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    const field = fs.output ?? 'target';
    for (const i of idx.slice(0, fs.k)) {
      const ex = pool[i]!;
      let out: unknown = ex.target;
      if (field.startsWith('metadata.')) {
        out = ex.metadata[field.slice(9)];
        if (typeof out !== 'string' && typeof out !== 'number') throw new InputError(`task "${task.name}": few-shot sample "${ex.id}" has no ${field}`, where('fewShot.output'));
      }
      fewShotExamples.push({ ex, out: String(out) });
      fewShotIds.push(ex.id);
    }
    if (!fs.from) {
      const drawn = new Set(fewShotIds);
      samples = samples.filter((s) => !drawn.has(s.id));
    }
  }

  const parsedConfig = GenerationConfigSchema.safeParse({ ...(def.config ?? {}), ...stripUndefined(over.config ?? {}) });
  if (!parsedConfig.success) throw new InputError(`task "${task.name}": ${parsedConfig.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, where('config'));
  const config = parsedConfig.data;

  // The prompt: a message list with placeholders, or a template (the dataset's by default).
  let template: { name: string; hash: string };
  let renderOne: (s: Sample) => Message[];
  if (def.messages) {
    const msgs = def.messages;
    template = { name: 'messages', hash: hashJson(msgs) };
    renderOne = (s) => {
      const out: Message[] = [];
      if (config.system_prompt && msgs[0]?.role !== 'system') out.push({ role: 'system', content: config.system_prompt });
      // The question's images go with the message that holds `{question}` (the first user message when none does).
      const images = typeof s.input === 'string' ? [] : messageImages(s.input[s.input.length - 1]!);
      let at = images.length ? msgs.findIndex((m) => /\{question\}/.test(messageText(m))) : -1;
      if (images.length && at < 0) at = msgs.findIndex((m) => m.role === 'user');
      msgs.forEach((m, i) => {
        const text = fillPlaceholders(messageText(m), s, task.name);
        out.push({ role: m.role, content: i === at ? [{ type: 'text', text }, ...images] : text });
      });
      return out;
    };
    msgs.forEach((m, i) => checkTemplateFields(messageText(m), samples, where(`messages.${i}`).field));
  } else {
    const name = def.template ?? loaded.defaultTemplate;
    // Text with a placeholder (`Q: {question}`) is a template of its own; a bare word is a built-in template's name.
    const literal = !isTemplateName(name) && !name.startsWith('text:') && /\{[^{}\s]*\}|\s/.test(name);
    const text = literal ? name : name.startsWith('text:') ? name.slice(5) : null;
    // Every placeholder must be a field of the dataset: checked on every sample, before any request.
    if (text !== null) checkTemplateFields(text, [...samples, ...fewShotExamples.map((e) => e.ex)], where('template').field);
    const t = inField(where('template').field, () => getTemplate(literal ? `text:${name}` : name));
    template = { name: t.name, hash: t.hash };
    renderOne = (s) => renderMessages(t, s, config);
  }
  // The solver (built before the few-shot turns: it says how an example's answer is written, see Solver.fewShotAnswer).
  const solverInputs: SolverInput[] = def.solver === undefined ? [] : Array.isArray(def.solver) ? def.solver : [def.solver];
  const solverSpec: SolverSpec[] = [];
  const solvers: Solver[] = solverInputs.map((s) => {
    if (typeof s === 'function') {
      const spec = (s as { spec?: SolverSpec }).spec ?? { name: (task.spec.solver as (SolverSpec | string)[])[solverSpec.length] as string, options: {} };
      solverSpec.push(typeof spec === 'string' ? { name: spec, options: {} } : spec);
      return s;
    }
    const spec = typeof s === 'string' ? { name: s, options: {} } : { name: s.name, options: s.options ?? {} };
    const i = solverSpec.length;
    solverSpec.push(spec);
    return inField(where(Array.isArray(def.solver) ? `solver.${i}` : 'solver').field, () => createSolver(spec));
  });
  const solver = solvers.length === 0 ? generate() : solvers.length === 1 ? solvers[0]! : chain(...solvers);
  // A chain that only prepares the prompt (chain_of_thought, system_message, few_shot) never calls the model: every
  // attempt would fail with "no model output". Refused before the first request.
  if (!solverGenerates(solver)) {
    const names = solverSpec.map((s) => s.name).join(', ');
    throw new InputError(`the solver chain [${names}] never calls the model (each of its solvers only prepares the prompt); end it with generate, e.g. [${names}, generate]`, where('solver'));
  }

  // An example's question: as the sample holds it (default), or through the task's own template (`fewShot.format:
  // template`, lm-eval's layout: every example written like the question that follows it).
  for (const { ex, out } of fewShotExamples) {
    let q: string;
    if (def.fewShot?.format === 'template') {
      const rendered = renderOne(ex);
      const lastUser = [...rendered].reverse().find((m) => m.role === 'user');
      q = lastUser ? messageText(lastUser) : '';
    } else q = typeof ex.input === 'string' ? ex.input : messageText(ex.input[ex.input.length - 1]!);
    // An answer taken from the target is written as the solver scores it (loglikelihood_choice: the gold option's
    // text or letter, lm-eval's doc_to_choice[doc_to_target]); an answer from metadata is kept as it is.
    const answer = (def.fewShot?.output ?? 'target') === 'target' ? (solver.fewShotAnswer?.(ex) ?? out) : out;
    fewShotTurns.push({ role: 'user', content: q }, { role: 'assistant', content: answer });
  }
  const render = fewShotTurns.length
    ? (s: Sample) => {
        const m = renderOne(s);
        const at = m[0]?.role === 'system' ? 1 : 0;
        return [...m.slice(0, at), ...fewShotTurns, ...m.slice(at)];
      }
    : renderOne;
  if (fewShotTurns.length) template = { name: `${template.name}+${def.fewShot!.k}-shot`, hash: hashJson({ template: template.hash, fewShot: fewShotTurns }) };

  const scorerInputs = over.scorers ?? def.scorers ?? [loaded.defaultScorer];
  // A scorer named on the command line (over.scorers) is not the task file's: its error names the scorer only.
  const scorers = scorerInputs.map((s, i) => (typeof s === 'string' ? (over.scorers ? createScorer(s) : inField(where(`scorers.${i}`).field, () => createScorer(s))) : s));

  const epochs = over.epochs ?? def.epochs ?? 1;
  const limit = over.limit ?? def.limit ?? null;
  // corpus statistics a scorer takes from the evaluated samples (CIDEr-D's document frequencies)
  for (const s of scorers) s.prepare?.(limit ? samples.slice(0, limit) : samples);
  return {
    task,
    dataset: {
      ref: loaded.ref, name: loaded.name, path: loaded.path, hash: loaded.hash, samples,
      ...(loaded.images ? { images: loaded.images } : {}), ...(loaded.textOnly ? { textOnly: loaded.textOnly } : {}),
    },
    limit,
    template,
    render,
    solver,
    solverSpec,
    scorers,
    epochs,
    config,
    fewShotIds,
  };
}

/**
 * The images of an inline dataset (`dataset: { name, samples, images }`): each a file path, a data URI or bytes, read
 * and checked now. Errors: InputError naming the task and the image's index.
 */
function inlineImages(given: (string | Uint8Array | ImageBlob)[] | undefined, taskName: string): DatasetImages | undefined {
  if (!given?.length) return undefined;
  const out: DatasetImages = new Map();
  given.forEach((g, i) => {
    const where = { field: `${taskName}.dataset.images.${i}` };
    const blob = typeof g === 'string' || g instanceof Uint8Array ? loadImage(g, { where }) : imageFromBytes(g.bytes, where, g.mime_type);
    out.set(blob.sha256, memoryImageEntry(blob));
  });
  return out;
}

function stripUndefined<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * Fill `{question}`, `{choices}`, `{metadata.<key>}` and `{<key>}` (a metadata field) in a message template
 * (`checkTemplateFields` has checked every sample has them). A message-list question is its last message's text.
 */
function fillPlaceholders(text: string, s: Sample, _taskName: string): string {
  const input = typeof s.input === 'string' ? s.input : messageText(s.input[s.input.length - 1]!);
  return fillTemplate(text, { ...s, input });
}
