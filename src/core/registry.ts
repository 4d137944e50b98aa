/**
 * Open registries (DESIGN.md §7): components — scorers, solvers, providers, datasets — are registered under a name
 * with a zod schema for their options, so a stored spec `{name, options}` rebuilds the same component (re-scoring
 * or re-running an old run), and an unknown name gets an error that lists the registered ones.
 */
import { z } from 'zod';
import { InputError } from './errors.ts';

/** How to build one kind of component from validated options. */
export interface Registration<T> {
  /** Options schema (zod). A strict object is recommended, so a typo in an option name is an error. */
  schema: z.ZodType<Record<string, unknown>>;
  make: (options: Record<string, unknown>) => T;
  /** One line for `--help` and error messages. */
  description?: string;
}

/**
 * A named registry of components of one kind (`what` names the kind in messages, e.g. "solver").
 * Registering a name twice replaces the earlier registration only with `{ replace: true }`; otherwise it is an error,
 * so two plugins cannot silently shadow each other.
 */
export class Registry<T> {
  private readonly entries = new Map<string, Registration<T>>();
  constructor(readonly what: string) {}

  /** Register `name`. Errors: Error when the name is taken (unless `replace`) or not `[a-z0-9][a-z0-9._-]*`. */
  register(name: string, reg: Registration<T>, opts: { replace?: boolean } = {}): void {
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new Error(`invalid ${this.what} name "${name}": use letters, digits, '.', '_' and '-'`);
    if (this.entries.has(name) && !opts.replace) throw new Error(`a ${this.what} named "${name}" is already registered (pass { replace: true } to replace it)`);
    this.entries.set(name, reg);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /**
   * Build a component from its spec. Errors: InputError for an unknown name (listing the registered names) or
   * options that fail the schema (naming each bad option).
   */
  create(name: string, options: Record<string, unknown> = {}): T {
    const reg = this.entries.get(name);
    if (!reg) throw new InputError(`unknown ${this.what} "${name}"; registered ${this.what}s: ${this.names().join(', ') || 'none'}`, { field: this.what });
    const parsed = reg.schema.safeParse(options);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
      throw new InputError(`invalid options for ${this.what} "${name}": ${issues}`, { field: this.what });
    }
    return reg.make(parsed.data);
  }
}
