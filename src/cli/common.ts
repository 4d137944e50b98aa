/**
 * Helpers shared by CLI commands: option parsers, pool opening, JSON output.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { createWriteStream, type WriteStream } from 'node:fs';
import { GenerationConfigSchema, type GenerationConfig } from '../core/schemas.ts';
import { InputError } from '../core/errors.ts';
import { thousands } from '../core/limits.ts';
import { createScorer } from '../scorers/registry.ts';
import type { Scorer } from '../scorers/types.ts';
import { describeHolder } from '../runner/lease.ts';
import type { RunLease } from '../store/types.ts';

/** Commander parser for a finite number option. */
export const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
  return n;
};
/** Commander parser for an integer option in [min, max] (max: a documented ceiling, e.g. MAX_CONCURRENCY). */
export const int = (name: string, min = 0, max = Number.MAX_SAFE_INTEGER) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}${max < Number.MAX_SAFE_INTEGER ? ` and ≤ ${thousands(max)}` : ''}`);
  if (n > max) throw new InvalidArgumentError(`${name} must be at most ${thousands(max)}, got ${v}`);
  return n;
};
/**
 * Commander parser for a number in a range: `(lo, hi]`-style bounds, each open or closed (default: both closed).
 * Validates at the flag what the library would only refuse deep inside (with a RangeError and a stack).
 */
export const numIn = (name: string, lo: number, hi: number, open: { lo?: boolean; hi?: boolean } = {}) => (v: string) => {
  const n = Number(v);
  const ok = Number.isFinite(n) && (open.lo ? n > lo : n >= lo) && (open.hi ? n < hi : n <= hi);
  if (!ok) throw new InvalidArgumentError(`${name} must be a number in ${open.lo ? '(' : '['}${lo}, ${hi}${open.hi ? ')' : ']'}, got ${v}`);
  return n;
};

/** Ceilings of `--concurrency` and `--epochs`: the library's (src/core/limits.ts), so flags and library agree. */
export { MAX_CONCURRENCY, MAX_EPOCHS } from '../core/limits.ts';
/** Ceiling of `--replicates`, `--permutations`, `--draws` (bootstrap and Monte Carlo draws). */
export const MAX_REPLICATES = 1_000_000;
/** Ceiling of sample counts (`--limit`, `--samples`, `--repeats`, `--models`…). */
export const MAX_COUNT = 1_000_000_000;

/**
 * Map a file-system error on an output file the user named (ENOENT, EISDIR, EACCES…) to an InputError naming the
 * path and the flag: a bad `-o` is bad input (exit 2, one line), not a crash. Other errors are returned unchanged.
 */
export function outputError(err: unknown, path: string, flag = '--output'): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return err;
  const why: Record<string, string> = {
    ENOENT: 'its directory does not exist', EISDIR: 'it is a directory', EACCES: 'permission denied', EPERM: 'permission denied',
    ENOTDIR: 'a parent is not a directory', EROFS: 'read-only file system', ENOSPC: 'no space left on the device',
  };
  return new InputError(`cannot write ${path}: ${why[code] ?? code}`, { field: flag });
}

/** Open a write stream on an output file, resolved once the file is open; errors as `outputError`. */
export function openOutputStream(path: string, flag = '--output'): Promise<WriteStream> {
  return new Promise((res, rej) => {
    const s = createWriteStream(path);
    s.once('error', (e) => rej(outputError(e, path, flag)));
    s.once('open', () => res(s));
  });
}
/**
 * The footnote under a table of 95% CIs naming how they were computed: each distinct method once (the headline
 * interval `ci95` of the statistics, the one `assay stats` prints first: Wilson score for 0/1 scores, …).
 */
export function ciFootnote(methods: readonly (string | undefined)[]): string {
  const distinct = [...new Set(methods.filter((m): m is string => !!m))];
  return `95% CI: ${distinct.join('; ') || 'method not recorded'} (the interval \`assay stats\` prints first)`;
}

/** Commander collector for repeatable options. */
export const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * The pool given by `--pool` (a path or a pool url; default `$ASSAY_POOL` or `./.assay/pool.sqlite`), opened by the
 * library's `openPool` (store/open.ts). Commands that only read (`create` false, the default) never create a file:
 * a missing pool is an InputError, as is a file that is not a pool (another program's SQLite database is refused
 * untouched). Commands that only read pass `{ readonly: true }` (list, stats, compare, rank, report, export,
 * needle-limit, calibration, runs, diff, plan --pilot): nothing is written to the pool, and a pool this user may
 * only read can be read.
 */
export { defaultPoolPath, openPool } from '../store/open.ts';

/** Create a scorer from a CLI spec; an unknown name or bad option is bad usage (InputError, exit 2), not a crash. */
export function scorerFromCli(spec: string): Scorer {
  try {
    return createScorer(spec);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError((err as Error).message, { field: 'scorer' });
  }
}

/** Print one JSON document on stdout (non-finite numbers become null). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}

/** Add the generation-config flags (temperature, top-p, top-k, max tokens, seed, stop, system prompt, no chat template) to a command. */
export function generationFlags(cmd: Command): Command {
  return cmd
    .option('--temperature <t>', 'sampling temperature', num('--temperature'))
    .option('--top-p <p>', 'nucleus sampling', num('--top-p'))
    .option('--top-k <k>', 'top-k sampling', int('--top-k', 1))
    .option('--max-tokens <n>', 'maximum generated tokens', int('--max-tokens', 1))
    .option('--seed <n>', 'generation seed (epoch e sends seed+e)', int('--seed', 0))
    .option('--stop <s>', 'stop sequence (repeatable; generation and grading end there)', collect)
    .option('--system <text>', 'system prompt')
    .option('--no-chat-template', 'send the prompt as plain text, without the chat template (base models: openai-compatible: uses /v1/completions, llama-cpp: a plain completion)');
}

/**
 * The generation settings given on the command line (only those given), validated.
 * Errors: InputError naming the bad setting.
 */
export function generationConfigOf(o: Record<string, unknown>): Partial<GenerationConfig> {
  const given: Partial<GenerationConfig> = {
    temperature: o.temperature as number | undefined, top_p: o.topP as number | undefined, top_k: o.topK as number | undefined,
    max_tokens: o.maxTokens as number | undefined, seed: o.seed as number | undefined, stop: o.stop as string[] | undefined, system_prompt: o.system as string | undefined,
    // Commander sets chatTemplate true unless --no-chat-template: only the flag counts as given.
    chat_template: o.chatTemplate === false ? false : undefined,
  };
  const parsed = GenerationConfigSchema.partial().safeParse(given);
  if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), { field: 'generation config' });
  const out: Partial<GenerationConfig> = {};
  for (const [k, v] of Object.entries(given)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * Run `fn` with an AbortSignal wired to Ctrl-C / SIGTERM: the first stops cleanly (in-flight calls cancelled,
 * everything finished is stored), a second exits at once with code 130.
 */
export async function withSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write('\nstopping: finishing writes (Ctrl-C again to quit at once)…\n');
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * What a run invocation reused instead of asking, said plainly: attempts this run already stored (resume; kept even
 * with --no-cache, which only stops copying other runs' stored responses) and responses copied from other runs.
 */
export function cacheNotes(r: { executed: number; resumed: number; planned: number; cached: number }, noCache: boolean): string[] {
  const out: string[] = [];
  if (r.resumed > 0 && noCache) {
    out.push(`--no-cache: the ${r.resumed} attempts this run had already stored were kept, not asked again (--no-cache stops copying stored responses of other runs; it does not discard this run's own). To ask the server again for every attempt, run the same command with --new-run (a separate, labelled run).`);
  } else if (r.resumed > 0 && r.executed === 0 && r.resumed >= r.planned) {
    out.push(`nothing was asked: all ${r.resumed} attempts were already stored in this run, so the server was not contacted (a change of server since would go unnoticed). To ask again, use --new-run (a separate, labelled run).`);
  }
  if (r.cached > 0) out.push(`${r.cached} of the ${r.executed} attempts made were copied from stored responses of other runs to the same request (the cache), not asked; --no-cache asks the server instead.`);
  return out;
}

/** What a run prints while another process holds it (its lease) and this one waits: once per holder, on stderr. */
export function waitingNote(holder: RunLease): void {
  process.stderr.write(`assay: run ${holder.run_id.slice(0, 16)} is being run by another process (${describeHolder(holder)}); waiting for it to finish, then completing what is left (Ctrl-C to stop waiting)\n`);
}
