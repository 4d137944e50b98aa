/**
 * Needle-threading grids: task × context length × depth (or thread direction) × repeat, enumerated lazily so a
 * grid of near-million-character haystacks is generated, written or hashed one sample at a time (memory stays at
 * one sample). Lengths are in characters, as in Roberts, Han, Albanie 2024 (arXiv:2411.05000).
 *
 * - {@link DEFAULT_GRID}: a quick run — all six tasks, 1k–32k characters (6 lengths), depths 0/50/100 %,
 *   thread directions forward/backward, 1 repeat: 90 samples, ≈0.94 M characters in all.
 * - {@link FULL_GRID}: 1k–1M characters (11 lengths, doubling from 1,000 to 512,000, then 1,000,000), depths 0–100 %
 *   in steps of 10, directions forward/backward/random, 1 repeat (raise `repeats` for more): 462 samples per
 *   repeat, ≈85 M characters.
 *
 * Depth-placed tasks (`single`, `multiple`, `conditional` with placement `depth`) iterate over the depths; thread
 * tasks iterate over the directions instead (their pairs are placed at random positions, see generate.ts);
 * `random` / `clustered` placement iterates over repeats only.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { InputError } from '../../core/errors.ts';
import type { Sample } from '../../core/schemas.ts';
import { CONDITIONAL_CHARS, DIRECTIONS, NEEDLE_TASKS, PLACEMENTS, THREAD_TASKS, canonicalParams, generateNeedleSample, type Direction, type NeedleParamsInput, type NeedleTask, type Placement } from './generate.ts';

/** A grid of needle samples. Lengths in characters; depths in percent. */
export interface NeedleGridSpec {
  tasks: NeedleTask[];
  lengths: number[];
  depths: number[];
  directions: Direction[];
  repeats: number;
  /** Placement of the needles of single/multiple/conditional (default `depth`). */
  placement: Placement;
  k: number;
  threadLength: number;
  threads: number;
  branches: number;
  conditionalChar: string;
}

const COMMON = { repeats: 1, placement: 'depth' as Placement, k: 3, threadLength: 3, threads: 2, branches: 2, conditionalChar: '*' };

/** The small default grid (90 samples, ≈0.94 M characters). */
export const DEFAULT_GRID: NeedleGridSpec = {
  ...COMMON,
  tasks: [...NEEDLE_TASKS],
  lengths: [1000, 2000, 4000, 8000, 16000, 32000],
  depths: [0, 50, 100],
  directions: ['forward', 'backward'],
};

/** The full grid: 1k–1M characters × depths 0–100 % step 10 (462 samples per repeat, ≈85 M characters). */
export const FULL_GRID: NeedleGridSpec = {
  ...COMMON,
  tasks: [...NEEDLE_TASKS],
  lengths: [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 512000, 1000000],
  depths: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
  directions: [...DIRECTIONS],
};

/**
 * Check a grid spec and return it with duplicate axis values removed (first occurrence kept; a duplicate would give
 * two samples one id, which no dataset loader accepts). Every sample's parameters are checked here, before anything
 * is generated or written, so a grid that cannot be generated fails at once, not half-way through a file.
 * @throws InputError for an empty axis, unknown task/direction/placement, a depth outside 0–100, a length under 80
 *   characters, repeats < 1, a marker character outside CONDITIONAL_CHARS, or parameters that do not fit a length
 *   (e.g. more needle pairs than the shortest haystack holds).
 */
export function validateGrid(g: NeedleGridSpec): NeedleGridSpec {
  if (!g.tasks.length || !g.lengths.length) throw new InputError('a needle grid needs at least one task and one length');
  for (const t of g.tasks) if (!NEEDLE_TASKS.includes(t)) throw new InputError(`unknown needle task "${t}"; known: ${NEEDLE_TASKS.join(', ')}`, { field: 'tasks' });
  for (const d of g.directions) if (!DIRECTIONS.includes(d)) throw new InputError(`unknown direction "${d}"; known: ${DIRECTIONS.join(', ')}`, { field: 'directions' });
  if (!PLACEMENTS.includes(g.placement)) throw new InputError(`unknown placement "${g.placement}"`, { field: 'placement' });
  for (const d of g.depths) if (!(typeof d === 'number' && d >= 0 && d <= 100)) throw new InputError(`depth must be in [0, 100] percent, got ${d}`, { field: 'depths' });
  for (const l of g.lengths) if (!Number.isInteger(l) || l < 80) throw new InputError(`length must be an integer ≥ 80 characters, got ${l}`, { field: 'lengths' });
  if (!Number.isInteger(g.repeats) || g.repeats < 1) throw new InputError(`repeats must be an integer ≥ 1, got ${g.repeats}`, { field: 'repeats' });
  if (typeof g.conditionalChar !== 'string' || g.conditionalChar.length !== 1 || !CONDITIONAL_CHARS.includes(g.conditionalChar)) throw new InputError(`the conditional marker must be one of ${CONDITIONAL_CHARS}, got ${JSON.stringify(g.conditionalChar)}`, { field: 'conditionalChar' });
  if (g.tasks.some((t) => THREAD_TASKS.includes(t)) && !g.directions.length) throw new InputError('thread tasks need at least one direction');
  if (g.tasks.some((t) => !THREAD_TASKS.includes(t)) && g.placement === 'depth' && !g.depths.length) throw new InputError('depth placement needs at least one depth');
  const unique = <T>(xs: T[]): T[] => [...new Set(xs.map((x) => (Object.is(x, -0) ? (0 as T) : x)))];
  const out: NeedleGridSpec = { ...g, tasks: unique(g.tasks), lengths: unique(g.lengths), depths: unique(g.depths), directions: unique(g.directions) };
  // Every cell's parameters (they do not depend on the repeat index): throws the generator's own InputError.
  for (const p of enumerate(out, 1)) canonicalParams(p);
  return out;
}

/** Enumerate the parameters of every sample of a grid, in a fixed order (task, length, depth|direction, repeat). */
export function* gridParams(g: NeedleGridSpec): Generator<NeedleParamsInput> {
  yield* enumerate(validateGrid(g), g.repeats);
}

function* enumerate(g: NeedleGridSpec, repeats: number): Generator<NeedleParamsInput> {
  for (const task of g.tasks) {
    const thread = THREAD_TASKS.includes(task);
    for (const chars of g.lengths) {
      const axis: ({ depth?: number; direction?: Direction })[] = thread
        ? g.directions.map((direction) => ({ direction }))
        : g.placement === 'depth' ? g.depths.map((depth) => ({ depth })) : [{}];
      for (const a of axis) {
        for (let repeat = 0; repeat < repeats; repeat++) {
          const base: NeedleParamsInput = { task, chars, repeat, ...a };
          if (thread) {
            base.threadLength = g.threadLength;
            if (task === 'multi-threading') base.threads = g.threads;
            if (task === 'branched') base.branches = g.branches;
          } else {
            base.placement = g.placement;
            if (task !== 'single') base.k = g.k;
            if (task === 'conditional') base.conditionalChar = g.conditionalChar;
          }
          yield base;
        }
      }
    }
  }
}

/** Number of samples in a grid and their total haystack characters (80·⌊length/80⌋ each), without generating them. */
export function gridSize(g: NeedleGridSpec): { samples: number; chars: number } {
  let samples = 0, chars = 0;
  for (const p of gridParams(g)) {
    samples++;
    chars += 80 * Math.floor(p.chars / 80);
  }
  return { samples, chars };
}

/**
 * Generate every sample of a grid, lazily, in grid order. Pure: the same (grid, seed) give the same samples.
 * @throws InputError for an invalid grid or parameters that do not fit (e.g. too many needles for a length).
 */
export function* generateGrid(g: NeedleGridSpec, seed: number): Generator<Sample> {
  for (const p of gridParams(g)) yield generateNeedleSample(p, seed).sample;
}

/**
 * One JSONL line (no newline) for a sample, in the generic dataset format `{id, question, answer, ...metadata}`
 * that `assay run --dataset <file>.jsonl` reads: `question` is the whole prompt, `answer` the target string; the
 * metadata (generator, version, seeds, parameters, ground truth) follows as further fields.
 */
export function sampleToJsonl(s: Sample): string {
  return JSON.stringify({ id: s.id, question: s.input, answer: s.target, ...s.metadata });
}

/**
 * sha256 of a grid's JSONL bytes (one line per sample, each ending in `\n`), computed streaming: only one sample is
 * held at a time. Returns the hash, the sample count and the total haystack characters.
 */
export function hashGrid(g: NeedleGridSpec, seed: number): { sha256: string; samples: number; context_chars: number } {
  const h = createHash('sha256');
  let samples = 0, chars = 0;
  for (const s of generateGrid(g, seed)) {
    h.update(sampleToJsonl(s));
    h.update('\n');
    samples++;
    chars += s.metadata.context_chars as number;
  }
  return { sha256: h.digest('hex'), samples, context_chars: chars };
}

/**
 * Write a grid as JSONL to `path`, streaming (one sample in memory at a time, with backpressure); all or nothing.
 * `onSample` sees each sample before it is written (e.g. to add token counts to its metadata).
 * Returns the sha256 of the bytes written, the sample count and total haystack characters.
 */
export async function writeGridJsonl(g: NeedleGridSpec, seed: number, path: string, onSample?: (s: Sample) => void | Promise<void>): Promise<{ sha256: string; samples: number; context_chars: number; bytes: number }> {
  const grid = validateGrid(g); // before the file is touched: a grid that cannot be generated writes nothing
  // Written to a temporary file beside `path` and renamed at the end: an error or interrupt never leaves a
  // half-written grid under the name a run would read (an existing file there is kept until the new one is whole).
  const tmp = `${path}.${process.pid}.${Date.now()}.partial`;
  const out = createWriteStream(tmp);
  try {
    await once(out, 'open'); // a missing directory or no permission: an InputError now, not a crash later
  } catch (e) {
    throw new InputError(`cannot write ${path}: ${(e as Error).message}`, { field: 'output' });
  }
  const h = createHash('sha256');
  let samples = 0, chars = 0, bytes = 0;
  let ok = false;
  try {
    try {
      for (const s of generateGrid(grid, seed)) {
        if (onSample) await onSample(s);
        const line = sampleToJsonl(s) + '\n';
        h.update(line);
        bytes += Buffer.byteLength(line);
        samples++;
        chars += s.metadata.context_chars as number;
        if (!out.write(line)) await once(out, 'drain');
      }
    } finally {
      await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
    }
    renameSync(tmp, path);
    ok = true;
  } finally {
    if (!ok) rmSync(tmp, { force: true });
  }
  return { sha256: h.digest('hex'), samples, context_chars: chars, bytes };
}
