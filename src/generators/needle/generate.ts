/**
 * The needle-threading generator: one parametric, seeded, pure function from (task parameters, seed) to a sample
 * with its ground truth, after Roberts, Han, Albanie 2024, "Needle Threading: Can LLMs Follow Threads through
 * Near-Million-Scale Haystacks?" (arXiv:2411.05000), §3 and Fig. 1.
 *
 * The **haystack** is one JSON object of key–value pairs written on one line, `{"k": "v", "k": "v", …}`, every key
 * and value a random UUID-form string (32 hex digits, 8-4-4-4-12). Each pair with its separator takes exactly
 * 80 characters, so a haystack of n pairs is exactly 80·n characters; it is sized to the largest n with
 * 80·n ≤ the target length in **characters** (the paper's unit; tokens differ between tokenizers, see src/tokenizers).
 *
 * **Tasks** (the prompt is the haystack, a newline, then the instruction; the answer formats are stated in it):
 * - `single`: one needle; return its value.
 * - `multiple`: k needles; the question lists their keys (in a random order); return the values as a list.
 * - `conditional`: k needles whose keys contain a marker character (default `*`, never a hex digit) in place of
 *   one hex digit; return the values of all keys containing it, as a list in order of appearance.
 * - `threading`: a chain of L pairs k₀→k₁→…→k_L where each value is the next key; given k₀, return the final value.
 *   `direction` orders the chain's pairs through the context: `forward` (each hop later in the context),
 *   `backward` (each hop earlier) or `random`.
 * - `multi-threading`: T such chains at once (their pairs interleaved at random positions); return the T final
 *   values as a list in the order of the starting keys.
 * - `branched`: a chain that forks: after `forkAt` hops (default 1) the current key appears `branches` times in the
 *   object with different values, and each branch continues to a leaf so every root-to-leaf path has L hops.
 *   Return every leaf, as a list in order of appearance. Repeated keys are valid JSON syntax (RFC 8259 §4: names
 *   SHOULD be unique) but `JSON.parse` keeps only the last; solvers must read the pairs, as a reader would.
 *
 * **Placement** of the needles of `single` / `multiple` / `conditional`: `depth` (a block of consecutive needles
 * whose start is at `depth` percent of the pairs: 0 = first pair, 100 = last pair block), `random` (independent
 * uniform positions) or `clustered` (a block of consecutive pairs at a uniform random position). Thread tasks
 * place their pairs at uniform random distinct positions, ordered by `direction`; their `depth` is null.
 *
 * Every sample records the generator name and version, the grid seed, the derived per-sample seed, the canonical
 * parameters, and the ground truth (answer, every needle's key, value, pair index, character offset and depth).
 * The per-sample seed is sha256(version, seed, canonical parameters), so each sample can be regenerated alone and
 * the same (parameters, seed) give the same bytes on every platform.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../../core/errors.ts';
import { stableStringify } from '../../core/hash.ts';
import type { Sample } from '../../core/schemas.ts';
import { createRng, type Rng } from '../../core/rng.ts';
import { UniqueUuids } from './uuid.ts';

/** Bump when the bytes produced for a given (parameters, seed) change. Recorded in every sample. */
export const NEEDLE_GENERATOR_VERSION = 1;

export const NEEDLE_TASKS = ['single', 'multiple', 'conditional', 'threading', 'multi-threading', 'branched'] as const;
export type NeedleTask = (typeof NEEDLE_TASKS)[number];
export const THREAD_TASKS: readonly NeedleTask[] = ['threading', 'multi-threading', 'branched'];
export const DIRECTIONS = ['forward', 'backward', 'random'] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const PLACEMENTS = ['depth', 'random', 'clustered'] as const;
export type Placement = (typeof PLACEMENTS)[number];

/** Characters of one `"key": "value"` pair (78) plus its `, ` separator: a haystack of n pairs has 80·n chars. */
export const CHARS_PER_PAIR = 80;

/**
 * Longest haystack, in characters: 100 M, a hundred times the longest grid length. A haystack is one JavaScript
 * string inside one JSONL line, and V8 strings stop at ~536 M characters; well below that, memory (buffer, string,
 * escaped JSON line, the uniqueness set) stays around 1 GB.
 */
export const MAX_NEEDLE_CHARS = 100_000_000;

/** Characters allowed as the conditional-needle marker: printable, JSON-safe, never a hex digit, hyphen or brace. */
export const CONDITIONAL_CHARS = '*&@#%!+=~^?$|<>;:';

/** Parameters of one needle sample (input form: everything but `task` and `chars` has a default). */
export interface NeedleParamsInput {
  task: NeedleTask;
  /** Target haystack length in characters (80 to {@link MAX_NEEDLE_CHARS}). The haystack is the largest 80·n ≤ chars. */
  chars: number;
  /** Needle depth in percent, 0–100 (placement `depth` only; default 50). */
  depth?: number | null;
  /** `single` / `multiple` / `conditional` only (default `depth`). */
  placement?: Placement;
  /** Thread tasks only (default `forward`). */
  direction?: Direction;
  /** Needles for `multiple` and `conditional` (default 3). */
  k?: number;
  /** Hops per thread for thread tasks (default 3; `branched`: hops per root-to-leaf path, ≥ 2). */
  threadLength?: number;
  /** Threads for `multi-threading` (default 2). */
  threads?: number;
  /** Branches at the fork for `branched` (default 2). */
  branches?: number;
  /** Hops before the fork for `branched` (default 1; 1 ≤ forkAt < threadLength). */
  forkAt?: number;
  /** Marker for `conditional` (default `*`; one of {@link CONDITIONAL_CHARS}). */
  conditionalChar?: string;
  /** Repeat index (different repeats draw different haystacks). Default 0. */
  repeat?: number;
}

/** Canonical parameters: only the fields the task uses, with defaults filled in (this object is hashed into the seed). */
export type NeedleParams = NeedleParamsInput & { repeat: number };

/** One needle pair as placed in the haystack. `offset` is the character offset of its opening quote. */
export interface PlacedNeedle {
  key: string;
  value: string;
  /** 0-based pair index in the haystack. */
  index: number;
  /** Character offset of the pair's opening `"` in the haystack (= 1 + 80·index). */
  offset: number;
  /** Position in percent of the pairs: 100·index/(n−1) (0 for a one-pair haystack). */
  depth: number;
}

/** Ground truth of a sample (stored in `metadata.ground_truth`). */
export interface NeedleGroundTruth {
  /** The gold answer: one value, or the list of values in the stated order. */
  answer: string | string[];
  /** Every placed needle pair, in haystack order. */
  needles: PlacedNeedle[];
  /** Thread tasks: each thread's chain of keys from start to final value (branched: one chain per leaf). */
  threads?: string[][];
}

/** A generated sample plus its haystack (also the prefix of `sample.input`). */
export interface NeedleSample {
  sample: Sample;
  haystack: string;
  truth: NeedleGroundTruth;
}

/** The instruction texts (the reference solver recognises the task by them). `{…}` parts are filled in. */
export const INSTRUCTIONS = {
  single: 'Extract the value corresponding to the specified key in the JSON object above. Answer with the value only.\nKey: {key}\nCorresponding value:',
  multiple: 'Extract the values corresponding to the specified keys in the JSON object above. Answer with a JSON list of the values, in the order of the keys.\nKeys: {keys}\nCorresponding values:',
  conditional: 'Extract the values of all keys in the JSON object above that contain the character {char}. Answer with a JSON list of the values, in the order they appear in the object.\nCorresponding values:',
  threading: 'The value of a key in the JSON object above may itself be a key elsewhere in the object. Starting from the key below, follow the thread: look up its value, use that value as the next key, and repeat until the value is not a key in the object. Answer with the final value only.\nKey: {key}\nFinal value:',
  'multi-threading': 'The value of a key in the JSON object above may itself be a key elsewhere in the object. For each starting key below, follow its thread: look up its value, use that value as the next key, and repeat until the value is not a key in the object. Answer with a JSON list of the final values, in the order of the starting keys.\nKeys: {keys}\nFinal values:',
  branched: 'The value of a key in the JSON object above may itself be a key elsewhere in the object, and a key may appear more than once with different values. Starting from the key below, follow every branch of the thread: look up every value of the key, use each value as a next key, and repeat until a value is not a key in the object. Answer with a JSON list of every final value (every leaf), in the order they appear in the object.\nKey: {key}\nFinal values:',
} as const satisfies Record<NeedleTask, string>;

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

/**
 * Fill defaults, drop fields the task does not use, and validate.
 * @throws InputError for an unknown task/placement/direction, a length under 80 or over {@link MAX_NEEDLE_CHARS} characters, a depth outside 0–100,
 *   counts below 1, a marker outside {@link CONDITIONAL_CHARS}, or more needle pairs than the haystack holds.
 */
export function canonicalParams(input: NeedleParamsInput): NeedleParams {
  const f = 'needle params';
  if (!NEEDLE_TASKS.includes(input.task)) throw new InputError(`unknown needle task "${String(input.task)}"; known: ${NEEDLE_TASKS.join(', ')}`, { field: 'task' });
  if (!isInt(input.chars) || input.chars < CHARS_PER_PAIR || input.chars > MAX_NEEDLE_CHARS) throw new InputError(`chars must be an integer in [${CHARS_PER_PAIR}, ${MAX_NEEDLE_CHARS}] (characters), got ${input.chars}`, { field: 'chars' });
  const repeat = input.repeat ?? 0;
  if (!isInt(repeat) || repeat < 0) throw new InputError(`repeat must be an integer ≥ 0, got ${repeat}`, { field: 'repeat' });
  const task = input.task;
  const out: NeedleParams = { task, chars: input.chars, repeat };
  const count = (name: 'k' | 'threadLength' | 'threads' | 'branches', def: number, min: number): number => {
    const v = input[name] ?? def;
    if (!isInt(v) || v < min) throw new InputError(`${name} must be an integer ≥ ${min}, got ${v}`, { field: name });
    return v;
  };
  if (THREAD_TASKS.includes(task)) {
    const direction = input.direction ?? 'forward';
    if (!DIRECTIONS.includes(direction)) throw new InputError(`unknown direction "${direction}"; known: ${DIRECTIONS.join(', ')}`, { field: 'direction' });
    out.direction = direction;
    out.threadLength = count('threadLength', 3, task === 'branched' ? 2 : 1);
    if (task === 'multi-threading') out.threads = count('threads', 2, 1);
    if (task === 'branched') {
      out.branches = count('branches', 2, 2);
      const forkAt = input.forkAt ?? 1;
      if (!isInt(forkAt) || forkAt < 1 || forkAt >= out.threadLength) throw new InputError(`forkAt must be an integer in [1, threadLength), got ${forkAt}`, { field: 'forkAt' });
      out.forkAt = forkAt;
    }
  } else {
    const placement = input.placement ?? 'depth';
    if (!PLACEMENTS.includes(placement)) throw new InputError(`unknown placement "${placement}"; known: ${PLACEMENTS.join(', ')}`, { field: 'placement' });
    out.placement = placement;
    if (placement === 'depth') {
      const depth = input.depth ?? 50;
      if (typeof depth !== 'number' || !Number.isFinite(depth) || depth < 0 || depth > 100) throw new InputError(`depth must be a number in [0, 100] percent, got ${depth}`, { field: 'depth' });
      out.depth = depth;
    }
    if (task !== 'single') out.k = count('k', 3, 1);
    if (task === 'conditional') {
      const c = input.conditionalChar ?? '*';
      if (c.length !== 1 || !CONDITIONAL_CHARS.includes(c)) throw new InputError(`conditionalChar must be one of ${CONDITIONAL_CHARS}, got ${JSON.stringify(c)}`, { field: 'conditionalChar' });
      out.conditionalChar = c;
    }
  }
  const needed = needlePairs(out);
  const n = pairsFor(out.chars);
  if (needed > n) throw new InputError(`${task} needs ${needed} needle pairs but ${out.chars} characters hold only ${n} pairs (80 characters each)`, { field: f });
  return out;
}

/** Pairs in a haystack of at most `chars` characters: floor(chars / 80), at least 1. */
export function pairsFor(chars: number): number {
  return Math.max(1, Math.floor(chars / CHARS_PER_PAIR));
}

/** Number of needle pairs a task places. */
export function needlePairs(p: NeedleParams): number {
  switch (p.task) {
    case 'single':
      return 1;
    case 'multiple':
    case 'conditional':
      return p.k!;
    case 'threading':
      return p.threadLength!;
    case 'multi-threading':
      return p.threads! * p.threadLength!;
    case 'branched':
      return p.forkAt! + p.branches! * (p.threadLength! - p.forkAt!);
  }
}

/**
 * The per-sample seed: the first 32 bits of sha256("assay-needle", version, grid seed, canonical parameters).
 * Platform-independent; the same inputs always give the same seed.
 */
export function sampleSeedOf(params: NeedleParams, seed: number): number {
  return createHash('sha256').update(`assay-needle\u0000${NEEDLE_GENERATOR_VERSION}\u0000${seed}\u0000${stableStringify(params)}`).digest().readUInt32BE(0);
}

/** Stable sample id: `needle-<task>-<chars>-<d<depth>|placement|direction>-r<repeat>`. */
export function sampleIdOf(p: NeedleParams): string {
  const where = p.depth != null ? `d${p.depth}` : (p.direction ?? p.placement);
  return `needle-${p.task}-${p.chars}-${where}-r${p.repeat}`;
}

/** k distinct indices in [0, n), uniform, ascending. */
function distinctIndices(rng: Rng, n: number, k: number): number[] {
  if (k * 2 > n) {
    // Partial Fisher–Yates over all indices when the sample is dense.
    const all = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(n - i);
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all.slice(0, k).sort((a, b) => a - b);
  }
  const s = new Set<number>();
  while (s.size < k) s.add(rng.int(n));
  return [...s].sort((a, b) => a - b);
}

function shuffle<T>(rng: Rng, a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Block start for m consecutive needles at `depth` percent: round(depth/100 · (n − m)). */
export function blockStart(depth: number, n: number, m: number): number {
  return Math.round((depth / 100) * (n - m));
}

/** Order positions (ascending) for a chain by direction: forward keeps them, backward reverses, random shuffles. */
function orderBy(rng: Rng, ascending: number[], direction: Direction): number[] {
  if (direction === 'forward') return ascending;
  if (direction === 'backward') return ascending.slice().reverse();
  return shuffle(rng, ascending.slice());
}

const quoteList = (xs: string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;

/**
 * Generate one needle sample. Pure: the same (params, seed) give the same bytes.
 * @param input task parameters (see {@link NeedleParamsInput}; defaults filled by {@link canonicalParams})
 * @param seed grid seed (integer; the per-sample seed is derived from it and the parameters)
 * @returns the sample (`input` = haystack + "\n" + instruction; `target` = the value, or a JSON list of values),
 *   the haystack, and the ground truth. Metadata keys: generator, generator_version, seed, sample_seed, params,
 *   task, chars (target), context_chars (haystack), prompt_chars, pairs, depth (percent or null), placement,
 *   direction, answer_type (`single` | `list`), ordered, ground_truth.
 * @throws InputError for invalid parameters (see {@link canonicalParams}).
 */
export function generateNeedleSample(input: NeedleParamsInput, seed: number): NeedleSample {
  const p = canonicalParams(input);
  const sampleSeed = sampleSeedOf(p, seed);
  const rng = createRng(sampleSeed);
  const n = pairsFor(p.chars);
  const ids = new UniqueUuids(rng, 2 * n + 8);
  const keys: (string | undefined)[] = new Array(n);
  const values: (string | undefined)[] = new Array(n);
  const needleSet = new Set<number>();
  const put = (index: number, key: string, value: string): void => {
    keys[index] = key;
    values[index] = value;
    needleSet.add(index);
  };
  let answer: string | string[];
  let instruction: string;
  let threads: string[][] | undefined;
  const task = p.task;

  if (task === 'single' || task === 'multiple' || task === 'conditional') {
    const m = task === 'single' ? 1 : p.k!;
    let positions: number[];
    if (p.placement === 'depth') {
      const start = blockStart(p.depth!, n, m);
      positions = Array.from({ length: m }, (_, i) => start + i);
    } else if (p.placement === 'clustered') {
      const start = rng.int(n - m + 1);
      positions = Array.from({ length: m }, (_, i) => start + i);
    } else positions = distinctIndices(rng, n, m);
    const pairs = positions.map((index) => ({ index, key: task === 'conditional' ? ids.nextMarked(p.conditionalChar!) : ids.next(), value: ids.next() }));
    for (const q of pairs) put(q.index, q.key, q.value);
    if (task === 'single') {
      answer = pairs[0]!.value;
      instruction = INSTRUCTIONS.single.replace('{key}', () => JSON.stringify(pairs[0]!.key));
    } else if (task === 'multiple') {
      const asked = shuffle(rng, pairs.slice());
      answer = asked.map((q) => q.value);
      instruction = INSTRUCTIONS.multiple.replace('{keys}', () => quoteList(asked.map((q) => q.key)));
    } else {
      answer = pairs.map((q) => q.value);
      instruction = INSTRUCTIONS.conditional.replace('{char}', () => JSON.stringify(p.conditionalChar!));
    }
  } else if (task === 'threading' || task === 'multi-threading') {
    const T = task === 'threading' ? 1 : p.threads!;
    const L = p.threadLength!;
    // Uniform distinct positions for all T·L pairs, dealt to threads at random, each thread ordered by direction.
    const all = shuffle(rng, distinctIndices(rng, n, T * L));
    threads = [];
    const finals: string[] = [];
    for (let t = 0; t < T; t++) {
      const pos = orderBy(rng, all.slice(t * L, (t + 1) * L).sort((a, b) => a - b), p.direction!);
      const chain = Array.from({ length: L + 1 }, () => ids.next());
      for (let h = 0; h < L; h++) put(pos[h]!, chain[h]!, chain[h + 1]!);
      threads.push(chain);
      finals.push(chain[L]!);
    }
    if (task === 'threading') {
      answer = finals[0]!;
      instruction = INSTRUCTIONS.threading.replace('{key}', () => JSON.stringify(threads![0]![0]!));
    } else {
      answer = finals;
      instruction = INSTRUCTIONS['multi-threading'].replace('{keys}', () => quoteList(threads!.map((c) => c[0]!)));
    }
  } else {
    // branched: a stem of forkAt hops, then `branches` paths of (L − forkAt) hops each from the fork key.
    const L = p.threadLength!, f = p.forkAt!, b = p.branches!;
    const stem = Array.from({ length: f + 1 }, () => ids.next());
    const branches = Array.from({ length: b }, () => Array.from({ length: L - f }, () => ids.next()));
    // Pairs in level order (so every root-to-leaf path goes through strictly increasing levels).
    const levels: { key: string; value: string; path: number }[][] = [];
    for (let h = 0; h < f; h++) levels.push([{ key: stem[h]!, value: stem[h + 1]!, path: -1 }]);
    for (let h = 0; h < L - f; h++) levels.push(branches.map((br, j) => ({ key: h === 0 ? stem[f]! : br[h - 1]!, value: br[h]!, path: j })));
    const flat = levels.flat();
    const asc = distinctIndices(rng, n, flat.length);
    // forward: level order gets ascending positions; backward: descending; random: shuffled.
    const pos = orderBy(rng, asc, p.direction!);
    flat.forEach((q, i) => put(pos[i]!, q.key, q.value));
    const leafPairs = flat.filter((_, i) => i >= flat.length - b).map((q, j) => ({ leaf: q.value, index: pos[flat.length - b + j]!, path: q.path }));
    leafPairs.sort((a, b2) => a.index - b2.index);
    answer = leafPairs.map((l) => l.leaf);
    threads = branches.map((br) => [...stem, ...br]);
    instruction = INSTRUCTIONS.branched.replace('{key}', () => JSON.stringify(stem[0]!));
  }

  // The haystack bytes: a fixed frame of 80 bytes per pair, needle strings written in, filler UUIDs drawn straight
  // into the buffer (in pair order, key before value).
  const buf = Buffer.allocUnsafe(CHARS_PER_PAIR * n);
  buf[0] = 123; // {
  for (let i = 0; i < n; i++) {
    const o = 1 + CHARS_PER_PAIR * i;
    buf[o] = 34;
    buf[o + 37] = 34;
    buf[o + 38] = 58;
    buf[o + 39] = 32;
    buf[o + 40] = 34;
    buf[o + 77] = 34;
    if (i < n - 1) {
      buf[o + 78] = 44;
      buf[o + 79] = 32;
    } else buf[o + 78] = 125; // }
    const k = keys[i];
    if (k === undefined) {
      ids.nextInto(buf, o + 1);
      ids.nextInto(buf, o + 41);
    } else {
      buf.write(k, o + 1, 'latin1');
      buf.write(values[i]!, o + 41, 'latin1');
    }
  }
  const haystack = buf.toString('latin1');
  const needles: PlacedNeedle[] = [];
  for (const index of [...needleSet].sort((a, b) => a - b)) {
    needles.push({ key: keys[index]!, value: values[index]!, index, offset: 1 + CHARS_PER_PAIR * index, depth: n > 1 ? round3((100 * index) / (n - 1)) : 0 });
  }
  const truth: NeedleGroundTruth = threads ? { answer, needles, threads } : { answer, needles };
  const inputText = `${haystack}\n${instruction}`;
  const target = typeof answer === 'string' ? answer : JSON.stringify(answer);
  const sample: Sample = {
    id: sampleIdOf(p),
    input: inputText,
    target,
    metadata: {
      generator: 'needle',
      generator_version: NEEDLE_GENERATOR_VERSION,
      seed,
      sample_seed: sampleSeed,
      params: p,
      task,
      chars: p.chars,
      context_chars: haystack.length,
      prompt_chars: inputText.length,
      pairs: n,
      depth: p.depth ?? null,
      placement: p.placement ?? 'random',
      direction: p.direction ?? null,
      answer_type: typeof answer === 'string' ? 'single' : 'list',
      ordered: task === 'multiple' || task === 'multi-threading',
      ground_truth: truth,
    },
  };
  return { sample, haystack, truth };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
