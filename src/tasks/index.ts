/**
 * Tasks by name or file: the built-in benchmarks, tasks registered by code (`registerTask`), and task files —
 * YAML (`.yaml`/`.yml`) or TypeScript/JavaScript modules (`.ts`/`.mts`/`.js`/`.mjs`) whose default export (or
 * named exports) are tasks made with `defineTask`.
 */
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../core/errors.ts';
import { BUILTIN_TASKS } from './builtin.ts';
import { isTask, type Task } from './task.ts';
import { loadYamlTasks } from './yaml.ts';

export { datasetTask, defineTask, isTask, METRICS, TaskSpecSchema, type Task, type TaskDefinition, type FewShotConfig } from './task.ts';
export { resolveTask, type ResolvedTask, type TaskOverrides } from './resolve.ts';
export { loadYamlTasks } from './yaml.ts';

const TASKS = new Map<string, Task>(BUILTIN_TASKS.map((t) => [t.name, t]));

/** Register a task under its name, so commands and eval sets can name it. Errors: Error when the name is taken (unless `replace`). */
export function registerTask(task: Task, opts: { replace?: boolean } = {}): void {
  if (!isTask(task)) throw new Error('registerTask needs a task made with defineTask');
  if (TASKS.has(task.name) && !opts.replace) throw new Error(`a task named "${task.name}" is already registered (pass { replace: true } to replace it)`);
  TASKS.set(task.name, task);
}

/** Names of the known tasks (built-in and registered), sorted. */
export function taskNames(): string[] {
  return [...TASKS.keys()].sort();
}

/** A known task by name, or undefined. */
export function getTask(name: string): Task | undefined {
  return TASKS.get(name);
}

const CODE_EXTS = new Set(['.ts', '.mts', '.js', '.mjs']);

/**
 * The tasks a reference names: a known task name, or a task file (YAML or a module).
 * @throws InputError for an unknown name (listing the known ones), a missing file, a module that exports no task,
 *   and every error of a YAML file (with file, line and key)
 */
export async function loadTasks(ref: string): Promise<Task[]> {
  const known = TASKS.get(ref);
  if (known) return [known];
  const ext = extname(ref).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return loadYamlTasks(ref);
  if (CODE_EXTS.has(ext)) {
    const path = resolve(ref);
    if (!existsSync(path)) throw new InputError('no such task file', { file: path });
    let mod: Record<string, unknown>;
    try {
      // TypeScript modules go through tsx's loader (a dependency of Assay), so users need no build step.
      if (ext === '.ts' || ext === '.mts') {
        const { tsImport } = await import('tsx/esm/api');
        mod = (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
      } else mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (err) {
      throw new InputError(`cannot load the task module: ${(err as Error).message}`, { file: path });
    }
    const found: Task[] = [];
    const seen = new Set<string>();
    const take = (v: unknown) => {
      for (const t of Array.isArray(v) ? v : [v]) if (isTask(t) && !seen.has(t.hash)) (seen.add(t.hash), found.push(t));
    };
    take(mod.default);
    for (const [k, v] of Object.entries(mod)) if (k !== 'default') take(v);
    if (!found.length) throw new InputError('the module exports no task (export default defineTask({...}))', { file: path });
    return found;
  }
  throw new InputError(`unknown task "${ref}"; known tasks: ${taskNames().join(', ')}; or a task file (.yaml, .yml, .ts, .js, .mjs)`, { field: 'task' });
}
