/**
 * Error types with exit codes (0 done, 1 failed, 2 bad usage or bad input).
 */

/** Bad user input: a malformed dataset file, an unknown model address, a bad flag. Exit code 2. */
export class InputError extends Error {
  readonly exitCode = 2;
  /** The message without its location prefix (to re-throw it with a better `where`). */
  readonly detail: string;
  constructor(
    message: string,
    /** Where: file path, 1-based line, and field when known. */
    readonly where: { file?: string; line?: number; field?: string } = {},
  ) {
    super(formatWhere(where) + message);
    this.name = 'InputError';
    this.detail = message;
  }
}

function formatWhere(w: { file?: string; line?: number; field?: string }): string {
  const parts: string[] = [];
  if (w.file) parts.push(w.file + (w.line !== undefined ? `:${w.line}` : ''));
  else if (w.line !== undefined) parts.push(`line ${w.line}`);
  if (w.field) parts.push(`field "${w.field}"`);
  return parts.length ? parts.join(' ') + ': ' : '';
}

/** A failure of the system, not of the user's input. Exit code 1. */
export class RunError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}
