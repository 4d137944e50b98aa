/**
 * Tasks written in YAML: the serialisable part of a task definition (`TaskSpecSchema`), validated field by field.
 * Every error names the file, the line and the key, e.g. `tasks/my.yaml:7 field "fewShot.k": Too small: expected
 * number to be >0`. Solvers and scorers are named by registry spec (`chain_of_thought`, `math?percent=scaled`).
 *
 * ```yaml
 * name: gsm8k-cot
 * version: 2
 * dataset: gsm8k
 * template: gsm8k-cot
 * fewShot: { k: 5, seed: 0, output: metadata.solution }
 * solver: [chain_of_thought]
 * scorers: [gsm8k, math]
 * epochs: 4
 * config: { temperature: 0.6, max_tokens: 1024, stop: ["\n\nQuestion:"] }
 * ```
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { lazyPackage } from '../core/lazy.ts';
import { InputError } from '../core/errors.ts';
import { defineTask, TaskSpecSchema, type Task, type TaskDefinition } from './task.ts';

/** The yaml package, loaded when the first task file is read (see core/lazy.ts). */
const yaml = lazyPackage<typeof import('yaml')>('yaml');

/**
 * Read the tasks of a YAML file (one task per document; `---` separates several).
 * @throws InputError naming file, line and key for YAML syntax errors, unknown keys, wrong types and bad values
 */
export function loadYamlTasks(file: string): Task[] {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the task file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  const { LineCounter, parseAllDocuments, isMap } = yaml();
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(docs)) throw new InputError('the task file holds no YAML document', { file: path });
  const tasks: Task[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) throw new InputError(`YAML: ${err.message.split('\n')[0]}`, { file: path, line: lines.linePos(err.pos[0]).line });
    if (doc.contents === null) continue;
    if (!isMap(doc.contents)) throw new InputError('a task is a mapping of keys (name, dataset, …)', { file: path, line: lineOf(doc, [], lines) });
    const parsed = TaskSpecSchema.safeParse(doc.toJS());
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      let keyPath = issue.path.map(String);
      // An unknown key: point at the key itself.
      if (issue.code === 'unrecognized_keys' && issue.keys.length) keyPath = [...keyPath, issue.keys[0]!];
      throw new InputError(issue.message, { file: path, line: lineOf(doc, keyPath, lines), field: keyPath.join('.') || '(task)' });
    }
    try {
      const task = defineTask(parsed.data as TaskDefinition);
      // Errors found later, when the task is resolved (dataset loaded, scorers and solvers built), name this file and line.
      tasks.push(Object.freeze({ ...task, source: Object.freeze({ file: path, line: (field: string) => lineOf(doc, field ? field.split('.') : [], lines) }) }));
    } catch (e) {
      if (e instanceof InputError) {
        const field = e.where.field;
        throw new InputError(e.detail.replace(/^task "[^"]*": /, ''), { file: path, line: lineOf(doc, field ? field.split('.') : [], lines), field });
      }
      throw e;
    }
  }
  if (!tasks.length) throw new InputError('the task file defines no task', { file: path });
  return tasks;
}

/** The 1-based line of the node at `keyPath` (or of its nearest existing ancestor). */
export function lineOf(doc: Document, keyPath: string[], lines: LineCounter): number {
  const { isMap, isSeq } = yaml();
  for (let n = keyPath.length; n >= 0; n--) {
    const p = keyPath.slice(0, n).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const node = n === 0 ? doc.contents : doc.getIn(p, true);
    // For a key whose value is missing or is the thing at fault, the key's own position is the most useful.
    const parent = n === 0 ? null : n === 1 ? doc.contents : doc.getIn(p.slice(0, -1), true);
    if (parent && isMap(parent) && n > 0) {
      const pair = parent.items.find((it) => (it.key as { value?: unknown })?.value === p[p.length - 1]);
      const k = pair?.key as { range?: [number, number, number] } | undefined;
      if (k?.range) return lines.linePos(k.range[0]).line;
    }
    if (parent && isSeq(parent) && node && (node as { range?: number[] }).range) return lines.linePos((node as { range: number[] }).range[0]!).line;
    const r = (node as { range?: number[] } | null)?.range;
    if (r) return lines.linePos(r[0]!).line;
  }
  return 1;
}
