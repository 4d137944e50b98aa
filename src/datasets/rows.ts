/**
 * Turning one parsed row (a JSON object or a CSV record) into a Sample: field lookup with fallbacks,
 * value coercion with clear errors, and the remaining columns kept as metadata.
 */
import { InputError } from '../core/errors.ts';
import { MessageSchema, type Message, type Sample } from '../core/schemas.ts';
import { describe } from './lines.ts';

/** Which source column feeds each Sample field. */
export interface FieldMap {
  id?: string;
  input?: string;
  target?: string;
  choices?: string;
}

/** Default column names, tried in order, when `fields` does not name one. */
export const ID_FALLBACKS = ['id', 'idx', 'unique_id', 'question_id'] as const;
export const INPUT_FALLBACKS = ['question', 'problem'] as const;
export const TARGET_FALLBACKS = ['answer'] as const;
export const CHOICES_FALLBACKS = ['choices'] as const;

/** The columns a file uses, fixed from its first row so every row is read the same way. */
export interface ResolvedFields {
  id: string;
  input: string;
  target: string;
  choices: string | null;
}

/**
 * Fix the columns from the first row: explicit `fields` win, else the first fallback present in `row`.
 * @throws InputError (file, line, field) when no id / input / target column can be found.
 */
export function resolveFields(row: Record<string, unknown>, fields: FieldMap, file: string, line: number): ResolvedFields {
  const pick = (kind: string, explicit: string | undefined, fallbacks: readonly string[]): string => {
    if (explicit) return explicit;
    const found = fallbacks.find((k) => k in row);
    if (found) return found;
    throw new InputError(
      `missing ${kind} field: none of ${fallbacks.map((f) => `"${f}"`).join(', ')} present (map another column with --${kind}-field, or fields.${kind} in the library)`,
      { file, line, field: fallbacks[0] },
    );
  };
  return {
    id: pick('id', fields.id, ID_FALLBACKS),
    input: pick('input', fields.input, INPUT_FALLBACKS),
    target: pick('target', fields.target, TARGET_FALLBACKS),
    choices: fields.choices ?? (CHOICES_FALLBACKS.find((k) => k in row) ?? null),
  };
}

/**
 * A scalar as a string: strings as is, numbers via `String()` (so `27.0` parsed from JSON gives `"27"`),
 * booleans as `"true"`/`"false"`.
 * @throws InputError (file, line, field) for a missing value, null, an object or an array.
 */
export function scalarString(row: Record<string, unknown>, key: string, file: string, line: number): string {
  if (!(key in row) || row[key] === undefined) throw new InputError('missing field', { file, line, field: key });
  const v = row[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new InputError(`expected a finite number, got ${v}`, { file, line, field: key });
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  throw new InputError(`wrong type: expected a string or number, got ${describe(v)}`, { file, line, field: key });
}

/**
 * Build a Sample from a row with fixed columns. Non-string id/target values are stringified and the raw value
 * kept as `metadata.raw_id` / `metadata.raw_answer`. `input` may be a string (or number) or a list of
 * `{role, content}` messages. Every other column goes into `metadata` (undefined values dropped).
 * @throws InputError (file, line, field) for missing fields, wrong types, empty id or input, bad choices.
 */
export function rowToSample(
  row: Record<string, unknown>,
  f: ResolvedFields,
  file: string,
  line: number,
  extraMetadata: Record<string, unknown> = {},
): Sample {
  const id = scalarString(row, f.id, file, line).trim();
  if (id === '') throw new InputError('empty id', { file, line, field: f.id });
  const input = inputValue(row, f.input, file, line);
  const target = scalarString(row, f.target, file, line);
  let choices: string[] | undefined;
  if (f.choices !== null && f.choices in row) choices = choicesValue(row[f.choices], f.choices, file, line);

  const metadata: Record<string, unknown> = {};
  const used = new Set([f.id, f.input, f.target, ...(f.choices ? [f.choices] : [])]);
  for (const [k, v] of Object.entries(row)) if (!used.has(k) && v !== undefined) metadata[k] = v;
  if (typeof row[f.id] !== 'string') metadata.raw_id = row[f.id];
  if (typeof row[f.target] !== 'string') metadata.raw_answer = row[f.target];
  Object.assign(metadata, extraMetadata);
  return choices ? { id, input, target, choices, metadata } : { id, input, target, metadata };
}

function inputValue(row: Record<string, unknown>, key: string, file: string, line: number): string | Message[] {
  const v = row[key];
  if (Array.isArray(v)) {
    const parsed = MessageSchema.array().min(1).safeParse(v);
    if (!parsed.success) {
      throw new InputError('wrong type: a list input must be non-empty [{role, content}] messages', { file, line, field: key });
    }
    return parsed.data;
  }
  const s = scalarString(row, key, file, line);
  if (s.trim() === '') throw new InputError('empty input', { file, line, field: key });
  return s;
}

function choicesValue(v: unknown, key: string, file: string, line: number): string[] {
  let list: unknown = v;
  if (typeof v === 'string') {
    // CSV cells carry lists as JSON text.
    try {
      list = JSON.parse(v);
    } catch {
      throw new InputError('choices must be a JSON list of strings', { file, line, field: key });
    }
  }
  if (!Array.isArray(list) || list.length === 0) {
    throw new InputError(`wrong type: choices must be a non-empty list, got ${describe(list)}`, { file, line, field: key });
  }
  return list.map((c, i) => {
    if (typeof c === 'string') return c;
    if (typeof c === 'number' || typeof c === 'boolean') return String(c);
    throw new InputError(`wrong type: choice ${i} is ${describe(c)}`, { file, line, field: key });
  });
}
