/**
 * `evaluate(tasks, models, options)`: the library's front door and the engine of `assay run --task` and
 * `assay eval`. Every task × model is one ordinary content-addressed run in the pool, so evaluating again resumes
 * (only missing or failed attempts are made), and the whole is recorded as an eval set. Runs on the same endpoint
 * share one concurrency limit, whatever the number of tasks.
 */
import { hashJson, shortId } from '../core/hash.ts';
import { InputError } from '../core/errors.ts';
import { checkCount, MAX_CONCURRENCY, MAX_EPOCHS } from '../core/limits.ts';
import type { GenerationConfig } from '../core/schemas.ts';
import { createProvider } from '../providers/registry.ts';
import { checkImageSupport } from '../providers/images.ts';
import { ensureCapabilities } from '../providers/scoring.ts';
import type { Provider } from '../providers/types.ts';
import { solverNeeds } from '../solvers/types.ts';
import type { EvalSetRecord, Pool } from '../store/types.ts';
import { loadTasks } from '../tasks/index.ts';
import { resolveTask, type ResolvedTask } from '../tasks/resolve.ts';
import { defineTask, isTask, type Task } from '../tasks/task.ts';
import type { Progress } from './progress.ts';
import { sampleImages } from './images.ts';
import { buildRunSpec, executeRun, type RunOptions, type RunResult } from './run.ts';
import { runIdOf } from './plan.ts';
import { AdaptiveLimiter, ConcurrencyGate } from './scheduler.ts';

/** Options of `evaluate`. Run settings here override each task's own. */
export interface EvaluateOptions {
  /** The pool to write to (see `openPool`), or a function that opens it: called only once every task resolved. */
  pool: Pool | (() => Promise<Pool>);
  /** Epochs for every task (default: each task's own, else 1). */
  epochs?: number;
  /** Generation settings over each task's config (undefined fields keep the task's). */
  config?: Partial<GenerationConfig>;
  /** Only the first n samples of every task. */
  limit?: number;
  /** Scorer specs replacing every task's scorers. */
  scorers?: string[];
  /** A dataset ref replacing the task's (e.g. `aime25:path`); only with a single task. */
  dataset?: string;
  /** Generic files: column names (`image`: a column of image paths or data URIs, sent as image parts). */
  fields?: { id?: string; input?: string; target?: string; image?: string };
  /**
   * Read datasets without their images (`--text-only`): questions with an image are sent as their text alone, as
   * before images were supported; the runs are labelled text-only in their manifests (`manifest.images.mode`).
   */
  textOnly?: boolean;
  /** Maximum requests in flight per endpoint, shared by all tasks on it (default 64). */
  concurrency?: number;
  timeoutMs?: number;
  maxRetries?: number;
  backoffBaseMs?: number;
  /**
   * Reuse stored responses of other runs for attempts a run does not have yet (default true, false with `newRun`;
   * remote providers only). Attempts a run already stored are kept either way (see `RunOptions.cache`).
   */
  cache?: boolean;
  bootstrapSeed?: number;
  /** Start separate, labelled runs instead of resuming (e.g. the server changed). The label is recorded. */
  newRun?: string;
  /** A name for the eval set (recorded; not part of its id). */
  name?: string;
  signal?: AbortSignal;
  /** A progress reporter per run. */
  progress?: (label: string) => Progress;
  warn?: (message: string) => void;
  /** Run leases (one process per run at a time): ttl, and what to say while waiting for another process (see `RunOptions.lease`). */
  lease?: RunOptions['lease'];
  /** Providers to use instead of resolving addresses (tests, custom clients), by model address. Not closed. */
  providers?: Record<string, Provider>;
  /** Sign each run's evidence chain with this key when the run stops (see `RunOptions.signingKey`). */
  signingKey?: RunOptions['signingKey'];
  /** The tasks' dataset is a private held-out set: its policy (see `RunOptions.privacy`). */
  privacy?: RunOptions['privacy'];
  /** Dataset download options (cache folder, a test's download source). */
  datasetOptions?: { cacheDir?: string; source?: { url: string; sha256: string } };
}

/** One task × model cell of an evaluation. */
export interface EvalCell {
  task: string;
  model: string;
  run_id: string;
  result: RunResult;
}

/** What `evaluate` returns. Analyse it with `evalSetTable` (accuracy with CIs per cell, ranking with rank intervals). */
export interface EvalResult {
  eval_set_id: string;
  status: EvalSetRecord['status'];
  cells: EvalCell[];
}

/**
 * Evaluate every task on every model.
 * @param tasks tasks (from `defineTask`), names of known tasks, or task files (YAML or modules)
 * @param models model addresses (`openai-compatible:http://…#m`, `replay:file`, `reference:oracle`, …)
 * @returns the eval set id and each cell's run result; the runs are in the pool
 * @throws InputError for unknown tasks or models, bad task definitions or datasets, `epochs` or `concurrency` not an
 *   integer from 1 to MAX_EPOCHS / MAX_CONCURRENCY (src/core/limits.ts), a task with images and a model that cannot
 *   take them — all before any model call (and, for images, before the pool is opened)
 */
export async function evaluate(tasks: Task | string | (Task | string)[], models: string | string[], options: EvaluateOptions): Promise<EvalResult> {
  const ev = await prepareEvaluation(tasks, models, options);
  try {
    const { pool, label } = ev;
    // One concurrency gate per endpoint (base URL, else the address), shared by every task on it.
    const gates = new Map<string, ConcurrencyGate>();
    const gateOf = (p: Provider) => {
      const key = p.baseUrl ?? p.address;
      let g = gates.get(key);
      const limit = Math.max(1, Math.min(options.concurrency ?? 64, p.capabilities.maxConcurrency ?? Infinity));
      if (!g) gates.set(key, (g = new ConcurrencyGate(new AdaptiveLimiter(limit))));
      return g;
    };
    const results = await Promise.all(
      ev.cells.map(async (c) => {
        const provider = c.provider;
        const result = await executeRun({
          ...cellRunOptions(c, options, pool, label), gate: gateOf(provider), progress: options.progress?.(`${c.r.task.name} × ${c.model}`), lease: options.lease,
        });
        if (result.run_id !== c.run_id) throw new Error(`internal: run id ${result.run_id} differs from the planned ${c.run_id}`);
        const fingerprints = (await pool.getRun(c.run_id))?.manifest.provider.system_fingerprints ?? [];
        await pool.putModel({ address: c.model, kind: provider.kind, reported_model_ids: result.reported_model_ids, system_fingerprints: fingerprints, metadata: {} });
        return { task: c.r.task.name, model: c.model, run_id: c.run_id, result } satisfies EvalCell;
      }),
    );
    for (const r of ev.resolved) for (const s of r.scorers) await s.close?.();
    const status: EvalSetRecord['status'] = results.every((c) => c.result.status === 'complete')
      ? 'complete'
      : results.some((c) => c.result.status === 'interrupted')
        ? 'interrupted'
        : 'failed';
    await pool.updateEvalSet(ev.setId, { status });
    return { eval_set_id: ev.setId, status, cells: results };
  } finally {
    await ev.close();
  }
}

/** One task × model of a prepared evaluation: its resolved task, model address, run id and provider. */
export interface PreparedCell {
  r: ResolvedTask;
  model: string;
  run_id: string;
  provider: Provider;
}

/** An evaluation resolved, checked and recorded as an eval set, ready to run (in process) or to enqueue. */
export interface PreparedEvaluation {
  pool: Pool;
  resolved: ResolvedTask[];
  cells: PreparedCell[];
  setId: string;
  /** The `--new-run` label, if any. */
  label: string | undefined;
  /** Close the providers this preparation created (not those given in `options.providers`). */
  close(): Promise<void>;
}

/**
 * Everything `evaluate` does before its first model call, shared with the queue (src/queue/enqueue.ts): resolve every
 * task (datasets, few-shot examples, scorers, solvers), create the providers, check images and log-likelihood
 * capabilities for every task × model, open the pool, record the eval set and the tasks. The caller closes the
 * result (`close()`). Errors: as `evaluate`, all before any model call.
 */
export async function prepareEvaluation(tasks: Task | string | (Task | string)[], models: string | string[], options: EvaluateOptions): Promise<PreparedEvaluation> {
  checkCount('epochs', options.epochs, MAX_EPOCHS);
  checkCount('concurrency', options.concurrency, MAX_CONCURRENCY);
  const taskList: Task[] = [];
  for (const t of Array.isArray(tasks) ? tasks : [tasks]) taskList.push(...(isTask(t) ? [t] : await loadTasks(t)));
  const modelList = Array.isArray(models) ? models : [models];
  if (!taskList.length) throw new InputError('evaluate needs at least one task', { field: 'task' });
  if (!modelList.length) throw new InputError('evaluate needs at least one model', { field: 'model' });
  if (new Set(taskList.map((t) => t.name)).size !== taskList.length) throw new InputError('two tasks share a name; give each task its own name', { field: 'task' });
  if (options.dataset && taskList.length > 1) throw new InputError('a dataset override applies to a single task', { field: 'dataset' });

  // Resolve everything before the first model call: bad input fails up front, never half-way.
  const resolved: ResolvedTask[] = [];
  for (const t of taskList) {
    const task = options.dataset ? withDataset(t, options.dataset) : t;
    resolved.push(
      await resolveTask(task, {
        epochs: options.epochs,
        config: options.config,
        limit: options.limit,
        scorers: options.scorers,
        datasetOptions: { ...(options.datasetOptions ?? {}), fields: options.fields, ...(options.textOnly ? { textOnly: true } : {}) },
      }),
    );
  }
  const providers = new Map<string, Provider>();
  const owned: Provider[] = [];
  const close = async () => {
    for (const p of owned) await p.close();
  };
  try {
    for (const m of modelList) {
      if (providers.has(m)) continue;
      const given = options.providers?.[m];
      const p = given ?? (await createProvider(m, { concurrency: options.concurrency ?? 64 }));
      if (!given) owned.push(p);
      providers.set(m, p);
    }
    // Tasks with images need providers that send them: every task × model checked before the pool is opened, so a
    // text-only model fails the whole evaluation up front with the reason, never sample by sample.
    for (const r of resolved) {
      const use = sampleImages(r.limit ? r.dataset.samples.slice(0, r.limit) : r.dataset.samples);
      if (use.images) for (const m of modelList) checkImageSupport(providers.get(m)!, use, r.dataset.name);
    }
    const pool = typeof options.pool === 'function' ? await options.pool() : options.pool;
    // Tasks that score log-likelihoods need providers that return them: checked (probed once per provider) before
    // anything is stored or run, so a base-model task on a chat-only endpoint fails up front with the reason.
    for (const r of resolved) {
      const needs = solverNeeds(r.solver);
      if (needs.length) for (const m of modelList) await ensureCapabilities(providers.get(m)!, needs, options.signal);
    }
    const label = options.newRun;
    const cells = resolved.flatMap((r) =>
      modelList.map((model) => {
        const spec = buildRunSpec({ dataset: r.dataset, template: r.template, model, config: r.config, epochs: r.epochs, scorers: r.scorers, limit: r.limit, task: taskRef(r.task), solverSpec: r.solverSpec, label });
        return { r, model, run_id: runIdOf(spec), provider: providers.get(model)! };
      }),
    );
    const setSpec = { tasks: resolved.map((r) => taskRef(r.task)), models: modelList, runs: cells.map((c) => c.run_id) };
    const now = new Date().toISOString();
    const setId = shortId(hashJson(setSpec), 16);
    await pool.ensureEvalSet({
      id: setId, name: options.name ?? null, tasks: resolved.map((r) => `${r.task.name}@${r.task.version}`), models: modelList,
      runs: Object.fromEntries(cells.map((c) => [`${c.r.task.name}@${c.r.task.version}\u0000${c.model}`, c.run_id])), spec: setSpec,
      status: 'running', created_at: now, updated_at: now,
    });
    for (const r of resolved) {
      if (r.task.implicit) continue; // a plain dataset run records no task
      await pool.putTask({ id: `${r.task.name}@${r.task.version}`, name: r.task.name, version: r.task.version, hash: r.task.hash, definition: r.task.spec, created_at: now });
    }
    return { pool, resolved, cells, setId, label, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The run options of one cell of an evaluation (without what only the in-process runner uses: gate, progress, lease).
 * Shared by `evaluate` and the queue, so a run planned for workers is the same run `evaluate` would make.
 */
export function cellRunOptions(c: PreparedCell, options: EvaluateOptions, pool: Pool, label: string | undefined): RunOptions {
  return {
    pool, dataset: c.r.dataset, template: c.r.template, render: c.r.render, model: c.model, config: c.r.config, epochs: c.r.epochs,
    scorers: c.r.scorers, solver: c.r.solver, solverSpec: c.r.solverSpec, task: taskRef(c.r.task), label, limit: c.r.limit,
    concurrency: options.concurrency ?? 64, timeoutMs: options.timeoutMs, maxRetries: options.maxRetries,
    backoffBaseMs: options.backoffBaseMs, cache: options.cache, bootstrapSeed: options.bootstrapSeed, signal: options.signal,
    provider: c.provider, warn: options.warn, signingKey: options.signingKey, privacy: options.privacy,
  };
}

/** What a run records of its task (nothing for the implicit task of a plain dataset run). */
function taskRef(t: Task): { name: string; version: string; hash: string } | undefined {
  return t.implicit ? undefined : { name: t.name, version: t.version, hash: t.hash };
}

/** The same task over another dataset ref, rebuilt through defineTask so the task hash covers the new dataset. */
function withDataset(t: Task, dataset: string): Task {
  return defineTask({ ...t.definition, dataset });
}
