/**
 * The built-in solvers: `generate` (one model call: the default), `systemMessage`, `fewShot`, `chainOfThought`,
 * `multiTurn` (scripted follow-up turns from the sample, every turn kept) and `chain` (a list run in order).
 * Each is a plain function returning a `Solver`; the registry (`registry.ts`) builds them from stored specs.
 */
import { InputError } from '../core/errors.ts';
import { messageText, type Message } from '../core/schemas.ts';
import type { Generate, Solver, TaskState } from './types.ts';

/** One model call on the conversation so far (today's behaviour, and the default solver of every task). */
export function generate(): Solver {
  return (state, gen) => gen(state);
}

/**
 * Put `text` as the system message: replaces an existing first system message, or is inserted first.
 * `{name}` placeholders are filled from `sample.metadata` (a missing key is an InputError naming it).
 */
export function systemMessage(text: string): Solver {
  return prepares(async (state) => {
    const content = fill(text, state);
    if (state.messages[0]?.role === 'system') state.messages[0] = { role: 'system', content };
    else state.messages.unshift({ role: 'system', content });
    return state;
  });
}

/**
 * Insert worked examples as earlier user/assistant turns, before the last user message.
 * `examples`: `{ input, output }` pairs, used in the order given (drawing them is the task's job: see
 * `TaskDefinition.fewShot`, which draws k from a split with a recorded seed).
 */
export function fewShot(examples: { input: string; output: string }[]): Solver {
  return prepares(async (state) => {
    const turns: Message[] = examples.flatMap((e) => [
      { role: 'user' as const, content: e.input },
      { role: 'assistant' as const, content: e.output },
    ]);
    const last = lastUserIndex(state.messages);
    state.messages.splice(last < 0 ? state.messages.length : last, 0, ...turns);
    return state;
  });
}

/** The zero-shot chain-of-thought instruction of Kojima et al. (2022), "Large Language Models are Zero-Shot Reasoners". */
export const DEFAULT_COT = "Let's think step by step.";

/**
 * Append a chain-of-thought instruction to the last user message (default: Kojima et al. 2022's sentence): to its
 * text, or, when the message has images, as a text part after them.
 */
export function chainOfThought(instruction: string = DEFAULT_COT): Solver {
  return prepares(async (state) => {
    const i = lastUserIndex(state.messages);
    if (i < 0) throw new InputError('chainOfThought: the conversation has no user message');
    const m = state.messages[i]!;
    // A message with images keeps them: the instruction is appended as one more text part.
    state.messages[i] = typeof m.content === 'string' || !m.content.some((p) => p.type === 'image')
      ? { role: 'user', content: `${messageText(m)}\n\n${instruction}` }
      : { role: 'user', content: [...m.content, { type: 'text', text: instruction }] };
    return state;
  });
}

/** Mark a solver as only preparing the conversation (it never calls the model: `Solver.preparesOnly`). */
function prepares(s: (state: TaskState, gen: Generate) => Promise<TaskState>): Solver {
  return Object.assign(s, { preparesOnly: true as const });
}

/**
 * Scripted follow-up turns (MT-Bench's second turn): generate for the first turn, then for each further user turn
 * in `sample.metadata[field]` (a list of strings whose first element is the first turn, as MT-Bench's `turns`),
 * append it and generate again. Every turn is kept in the conversation, which the runner stores as the attempt's
 * transcript; the final output is the reply to the last turn. Errors: InputError when the field is missing or not
 * a list of strings (the sample's id is named).
 */
export function multiTurn(field = 'turns'): Solver {
  return async (state, gen) => {
    const turns = state.sample.metadata[field];
    if (!Array.isArray(turns) || !turns.every((t) => typeof t === 'string')) {
      throw new InputError(`multiTurn: sample "${state.sample.id}" has no list of strings in metadata.${field}`, { field });
    }
    state = await gen(state);
    for (const turn of turns.slice(1) as string[]) {
      if (state.output?.finish_reason === 'error') break;
      state.messages.push({ role: 'user', content: turn });
      state = await gen(state);
    }
    return state;
  };
}

/**
 * Run solvers in order; stops early when a solver sets `state.completed`. The chain needs what its solvers need, and
 * writes few-shot answers as the first of them that says how (`Solver.fewShotAnswer`).
 */
export function chain(...solvers: Solver[]): Solver {
  const run = async (state: TaskState, gen: Generate) => {
    for (const s of solvers) {
      if (state.completed) break;
      state = await s(state, gen);
    }
    return state;
  };
  const needs = [...new Set(solvers.flatMap((s) => s.needs ?? []))];
  const fewShotAnswer = solvers.find((s) => s.fewShotAnswer)?.fewShotAnswer;
  // A chain of prompt-preparing solvers only (or none) never produces a model output.
  const preparesOnly = solvers.every((s) => s.preparesOnly);
  return Object.assign(run, needs.length ? { needs } : {}, fewShotAnswer ? { fewShotAnswer } : {}, preparesOnly ? { preparesOnly } : {});
}

function lastUserIndex(messages: Message[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return i;
  return -1;
}

function fill(text: string, state: TaskState): string {
  return text.replace(/\{(\w+)\}/g, (_m, key: string) => {
    const v = state.sample.metadata[key];
    if (v === undefined) throw new InputError(`systemMessage: sample "${state.sample.id}" has no metadata.${key}`, { field: key });
    return String(v);
  });
}
