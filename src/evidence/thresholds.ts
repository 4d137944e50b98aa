/**
 * Capability thresholds: a declarative YAML file of capabilities, each judged on the confidence interval of a metric
 * of the runs of one task, never on a point estimate.
 *
 * ```yaml
 * capabilities:
 *   - name: multi-step arithmetic
 *     task: gsm8k              # runs of this task (its name), or of this dataset (its name) for dataset runs
 *     metric: accuracy         # accuracy (avg@k) | pass@<k> | maj@k
 *     scorer: gsm8k            # default: each run's first scorer
 *     alert: 0.5               # alert when the CI's upper bound reaches it
 *     critical: 0.8            # critical when the CI's lower bound reaches it
 *     min_samples: 100         # fewer, and a CI that spans a level, is inconclusive
 *     models: [openai:gpt-4o]  # optional: only runs of these model addresses
 * ```
 * Errors name the file, the line and the key (as task files do, src/tasks/yaml.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../core/errors.ts';
import { lazyPackage } from '../core/lazy.ts';
import { lineOf } from '../tasks/yaml.ts';

const yaml = lazyPackage<typeof import('yaml')>('yaml');

const level = z.number().min(0, 'a level is a proportion in [0, 1]').max(1, 'a level is a proportion in [0, 1]');

/** One capability of a thresholds file. */
export const CapabilitySchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    task: z.string().min(1),
    metric: z.string().regex(/^(accuracy|avg@k|pass@[1-9]\d*|maj@k)$/, 'a metric is accuracy, avg@k, pass@<k> or maj@k'),
    scorer: z.string().min(1).optional(),
    alert: level,
    critical: level,
    min_samples: z.number().int().positive(),
    models: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.alert > c.critical) ctx.addIssue({ code: 'custom', path: ['critical'], message: `the critical level (${c.critical}) is below the alert level (${c.alert})` });
  });
export type Capability = z.infer<typeof CapabilitySchema>;

export const ThresholdsSchema = z
  .object({
    version: z.literal(1).optional(),
    capabilities: z.array(CapabilitySchema).min(1, 'list at least one capability'),
  })
  .strict()
  .superRefine((t, ctx) => {
    const seen = new Map<string, number>();
    t.capabilities.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['capabilities', i, 'name'], message: `capability "${c.name}" is already defined (item ${seen.get(c.name)! + 1})` });
      else seen.set(c.name, i);
    });
  });

/** A validated thresholds file. */
export interface Thresholds {
  file: string;
  capabilities: Capability[];
}

/**
 * Read and validate a thresholds file. Errors: InputError naming the file, line and key for unreadable files, YAML
 * syntax errors, unknown keys, wrong types, levels outside [0, 1], a critical level below the alert level, repeated
 * names.
 */
export function loadThresholds(file: string): Thresholds {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the thresholds file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  return parseThresholds(text, path);
}

/** {@link loadThresholds} on text already read (`file` names it in errors). */
export function parseThresholds(text: string, file: string): Thresholds {
  const { LineCounter, parseDocument, isMap } = yaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) throw new InputError(`YAML: ${err.message.split('\n')[0]}`, { file, line: lines.linePos(err.pos[0]).line });
  if (!doc.contents || !isMap(doc.contents)) throw new InputError('a thresholds file is a mapping with a `capabilities` list', { file, line: 1 });
  const parsed = ThresholdsSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    let keyPath = issue.path.map(String);
    if (issue.code === 'unrecognized_keys' && issue.keys.length) keyPath = [...keyPath, issue.keys[0]!];
    throw new InputError(issue.message, { file, line: lineOf(doc, keyPath, lines), field: keyPath.join('.') || '(file)' });
  }
  return { file, capabilities: parsed.data.capabilities };
}
