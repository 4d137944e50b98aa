/**
 * The plain text a base model sees for a conversation, when no chat template is applied (`chat_template: false`,
 * and every log-likelihood request). The layout is lm-evaluation-harness's few-shot layout, so a task's few-shot
 * examples (earlier user/assistant turns) become the usual "question answer\n\nquestion answer\n\nquestion" prompt:
 *
 * ```
 * <system>\n\n<user 1><target delimiter><assistant 1>\n\n<user 2><target delimiter><assistant 2>\n\n<user n>
 * ```
 *
 * Defaults as lm-eval's: target delimiter `" "` (between a question and its answer), few-shot delimiter `"\n\n"`
 * (between examples). A conversation that ends with an assistant message (a prefill) ends with
 * `<user n><target delimiter><assistant n>`.
 */
import { messageText, type Message } from './schemas.ts';

/** Delimiters of the raw layout (lm-eval's `target_delimiter` and `fewshot_delimiter`). */
export interface RawPromptOptions {
  /** Between a question and its answer (default `" "`). */
  targetDelimiter?: string;
  /** Between examples, and after a system text (default `"\n\n"`). */
  fewshotDelimiter?: string;
}

/** lm-eval's defaults. */
export const RAW_PROMPT_DEFAULTS = { targetDelimiter: ' ', fewshotDelimiter: '\n\n' } as const;

/**
 * Render `messages` as one plain text (see the module comment). Pure. Consecutive messages of the same role are
 * joined with the few-shot delimiter.
 */
export function rawPrompt(messages: readonly Message[], opts: RawPromptOptions = {}): string {
  const td = opts.targetDelimiter ?? RAW_PROMPT_DEFAULTS.targetDelimiter;
  const fd = opts.fewshotDelimiter ?? RAW_PROMPT_DEFAULTS.fewshotDelimiter;
  let out = '';
  let prev: Message['role'] | null = null;
  for (const m of messages) {
    const text = messageText(m);
    if (prev === null) out = text;
    else if (m.role === 'assistant' && prev === 'user') out += td + text;
    else out += fd + text;
    prev = m.role;
  }
  return out;
}
