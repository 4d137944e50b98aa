/**
 * Component specs written inline: `name?key=value&key=value` (scorers, datasets, solvers on the command line).
 * Values are parsed as numbers and booleans when they look like them; `%26` (`&`), `%3D` (`=`) and `%25` (`%`)
 * escape the separators; a key without `=` is `true`.
 */
import { InputError } from './errors.ts';

const ESCAPE: Record<string, string> = { '%': '%25', '&': '%26', '=': '%3D' };

/** Escape a value for an inline spec. */
export function encodeSpecValue(v: unknown): string {
  return String(v).replace(/[%&=]/g, (c) => ESCAPE[c]!);
}

function parseValue(raw: string): unknown {
  let v: string;
  try {
    v = decodeURIComponent(raw);
  } catch {
    v = raw;
  }
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i.test(v)) return Number(v);
  return v;
}

/**
 * Split a spec `name?k=v&k=v` into its name and options.
 * @throws InputError for an empty key or a repeated key (the message names it)
 */
export function parseSpec(spec: string): { name: string; options: Record<string, unknown> } {
  const q = spec.indexOf('?');
  if (q < 0) return { name: spec, options: {} };
  const name = spec.slice(0, q);
  const options: Record<string, unknown> = {};
  for (const part of spec.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (!key) throw new InputError(`invalid spec "${spec}": empty option name`);
    if (key in options) throw new InputError(`invalid spec "${spec}": option "${key}" given twice`);
    options[key] = eq < 0 ? true : parseValue(part.slice(eq + 1));
  }
  return { name, options };
}
