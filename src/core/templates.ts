/**
 * Prompt templates. A template turns a sample into chat messages; its hash (of its name and text) is recorded
 * in the manifest so two runs with different prompts can never be mistaken for one another.
 */
import { hashJson } from './hash.ts';
import type { GenerationConfig, Message, Sample } from './schemas.ts';
import { InputError } from './errors.ts';

export interface PromptTemplate {
  name: string;
  /** The template text; `{question}` is replaced by the sample's input. */
  text: string;
  /** sha256 of {name, text}. */
  hash: string;
}

const BUILTIN: Record<string, string> = {
  /** The question as it is. */
  plain: '{question}',
  /** The Qwen2.5-Math / DeepSeek-style math prompt ("reason step by step, box the final answer"). */
  'math-boxed': '{question}\nPlease reason step by step, and put your final answer within \\boxed{}.',
  /** GSM8K-style: ask for the final number on the last line. */
  'gsm8k-cot': "{question}\nLet's think step by step. At the end, write \"The answer is N\" where N is the final number.",
  /** Multiple choice with lettered options. */
  'choice': '{question}\n\n{choices}\n\nAnswer with the letter of the correct option.',
};

/** Names of the built-in templates. */
export function templateNames(): string[] {
  return Object.keys(BUILTIN);
}

/**
 * Get a template by built-in name, or build one from literal text containing `{question}` (given as `text:<...>`).
 * Errors: InputError for an unknown name or a literal without `{question}`.
 */
export function getTemplate(nameOrText: string): PromptTemplate {
  let name = nameOrText;
  let text = BUILTIN[nameOrText];
  if (text === undefined && nameOrText.startsWith('text:')) {
    text = nameOrText.slice(5);
    name = 'custom';
    if (!text.includes('{question}')) throw new InputError('a custom template must contain {question}', { field: 'template' });
  }
  if (text === undefined) throw new InputError(`unknown template "${nameOrText}"; known: ${templateNames().join(', ')}, or text:<template with {question}>`, { field: 'template' });
  return { name, text, hash: hashJson({ name, text }) };
}

/**
 * Render a sample into chat messages: optional system prompt from the generation config, then the user turn.
 * A sample whose input is already a message list is used as is (the system prompt is prepended if none is there).
 */
export function renderMessages(template: PromptTemplate, sample: Sample, config: GenerationConfig): Message[] {
  const messages: Message[] = [];
  if (Array.isArray(sample.input)) {
    if (config.system_prompt && sample.input[0]?.role !== 'system') messages.push({ role: 'system', content: config.system_prompt });
    messages.push(...sample.input);
    return messages;
  }
  if (config.system_prompt) messages.push({ role: 'system', content: config.system_prompt });
  const choices = sample.choices ? sample.choices.map((c, i) => `${String.fromCharCode(65 + i)}. ${c}`).join('\n') : '';
  const content = template.text.replace('{choices}', () => choices).replace('{question}', () => sample.input as string);
  messages.push({ role: 'user', content });
  return messages;
}
