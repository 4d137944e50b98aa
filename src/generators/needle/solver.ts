/**
 * An exact solver of needle-threading prompts: it reads the haystack's pairs from the prompt text, recognises the
 * task from the instruction (the texts in generate.ts), and answers as the instruction asks. It never looks at the
 * sample's target or metadata, so scoring it is a test of the generator itself: it must score 100% on every task and
 * length (Roberts, Han, Albanie 2024 task definitions; see generate.ts).
 */
import type { NeedleTask } from './generate.ts';

/** The pairs of a haystack in order of appearance, plus an index from key to every value it has (in order). */
export interface ParsedHaystack {
  keys: string[];
  values: string[];
  /** key → pair indices where it appears (branched threading repeats keys). */
  index: Map<string, number[]>;
  /** Haystack length in characters, braces included. */
  chars: number;
}

/**
 * Parse the first `{…}` JSON object of a prompt as a list of `"key": "value"` string pairs, keeping repeated keys
 * (which `JSON.parse` would drop). Returns null when the prompt has no object. Keys and values may not contain
 * `"` or `}` (true of everything the generator writes).
 */
export function parseHaystack(prompt: string): ParsedHaystack | null {
  const start = prompt.indexOf('{');
  if (start < 0) return null;
  const end = prompt.indexOf('}', start);
  if (end < 0) return null;
  const body = prompt.slice(start, end + 1);
  const keys: string[] = [];
  const values: string[] = [];
  const index = new Map<string, number[]>();
  const re = /"([^"]*)"\s*:\s*"([^"]*)"/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    const i = keys.length;
    keys.push(m[1]!);
    values.push(m[2]!);
    const at = index.get(m[1]!);
    if (at) at.push(i);
    else index.set(m[1]!, [i]);
  }
  return { keys, values, index, chars: body.length };
}

/** What the solver found in a prompt: the task and its answer (one value or a list). */
export interface NeedleSolution {
  task: NeedleTask;
  answer: string | string[];
  /** Haystack length in characters. */
  chars: number;
  /** The parsed haystack (for noisy variants that pick distractors). */
  haystack: ParsedHaystack;
}

/** Distinguishing phrases of each instruction, checked in this order (a test checks each text maps to its task). */
const MARKERS: [string, NeedleTask][] = [
  ['follow every branch', 'branched'],
  ['For each starting key below', 'multi-threading'],
  ['Starting from the key below, follow the thread', 'threading'],
  ['that contain the character', 'conditional'],
  ['Extract the values corresponding', 'multiple'],
  ['Extract the value corresponding', 'single'],
];

/** How every instruction text begins (checked by a test against INSTRUCTIONS). */
export const INSTRUCTION_OPENINGS = ['Extract the value', 'The value of a key'] as const;

/** Which task an instruction text belongs to, or null. */
export function detectTask(instruction: string): NeedleTask | null {
  for (const [marker, task] of MARKERS) if (instruction.includes(marker)) return task;
  return null;
}

function follow(h: ParsedHaystack, start: string): string {
  let cur = start;
  for (let steps = 0; steps <= h.keys.length; steps++) {
    const at = h.index.get(cur);
    if (!at) return cur;
    cur = h.values[at[0]!]!;
  }
  return cur; // a cycle: cannot happen in generated haystacks
}

function leaves(h: ParsedHaystack, start: string): string[] {
  const out: { value: string; at: number }[] = [];
  const stack: { key: string; depth: number }[] = [{ key: start, depth: 0 }];
  while (stack.length) {
    const { key, depth } = stack.pop()!;
    for (const i of h.index.get(key) ?? []) {
      const v = h.values[i]!;
      if (h.index.has(v) && depth < h.keys.length) stack.push({ key: v, depth: depth + 1 });
      else out.push({ value: v, at: i });
    }
  }
  return out.sort((a, b) => a.at - b.at).map((o) => o.value);
}

/** The quoted strings of a `Keys: [...]` / `Key: "..."` line. */
function quotedAfter(text: string, label: string): string[] {
  const i = text.lastIndexOf(`\n${label}: `);
  if (i < 0) return [];
  const line = text.slice(i + label.length + 3).split('\n')[0]!;
  return [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
}

/**
 * Solve a needle prompt exactly. Returns null when the prompt is not a needle-threading prompt (no haystack or no
 * known instruction). Lists come back in the order the instruction asks for.
 */
export function solveNeedlePrompt(prompt: string): NeedleSolution | null {
  // The haystack is the object just before the instruction (the sample's input is haystack + "\n" + instruction);
  // a prompt template may put other text, braces included (`\boxed{}`, a JSON example), before or after it.
  const at = Math.max(...INSTRUCTION_OPENINGS.map((o) => prompt.lastIndexOf(o)));
  if (at < 0) return null;
  const end = prompt.lastIndexOf('}', at);
  const start = end < 0 ? -1 : prompt.lastIndexOf('{', end);
  if (start < 0) return null;
  const h = parseHaystack(prompt.slice(start, end + 1));
  if (!h) return null;
  const instruction = prompt.slice(end + 1);
  const task = detectTask(instruction);
  if (!task) return null;
  const lookup = (k: string): string => {
    const at = h.index.get(k);
    return at ? h.values[at[0]!]! : '';
  };
  let answer: string | string[];
  switch (task) {
    case 'single':
      answer = lookup(quotedAfter(instruction, 'Key')[0] ?? '');
      break;
    case 'multiple':
      answer = quotedAfter(instruction, 'Keys').map(lookup);
      break;
    case 'conditional': {
      const c = /contain the character "(.)"/.exec(instruction)?.[1] ?? '';
      answer = h.keys.flatMap((k, i) => (c && k.includes(c) ? [h.values[i]!] : []));
      break;
    }
    case 'threading':
      answer = follow(h, quotedAfter(instruction, 'Key')[0] ?? '');
      break;
    case 'multi-threading':
      answer = quotedAfter(instruction, 'Keys').map((k) => follow(h, k));
      break;
    case 'branched':
      answer = leaves(h, quotedAfter(instruction, 'Key')[0] ?? '');
      break;
  }
  return { task, answer, chars: h.chars, haystack: h };
}

/** The answer text a perfect model would write: the value itself, or a JSON list `["…", "…"]`. */
export function formatNeedleAnswer(answer: string | string[]): string {
  return typeof answer === 'string' ? answer : `[${answer.map((a) => JSON.stringify(a)).join(', ')}]`;
}
