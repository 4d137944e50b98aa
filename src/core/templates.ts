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
  messages.push({ role: 'user', content: fillTemplate(template.text, sample) });
  return messages;
}

/**
 * A `{name}` placeholder: `{question}`, `{choices}`, `{metadata.<key>}` or `{<key>}` (a dataset field kept in the
 * sample's metadata, e.g. a `context` column). LaTeX arguments (`\boxed{x}`, `\frac{a}{b}`) are not placeholders.
 */
const PLACEHOLDER = /(?<!\\[A-Za-z]+|\})\{([A-Za-z_][\w.-]*)\}/g;

/** The placeholder names of a template text, in order of first appearance (`question`, `metadata.x`, `context`…). */
export function templatePlaceholders(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/** The dataset field a placeholder names: `question`, `choices`, or a metadata key. */
function metadataKey(name: string): string | null {
  return name === 'question' || name === 'choices' ? null : name.startsWith('metadata.') ? name.slice(9) : name;
}

/**
 * Fill a template's placeholders from a sample (every occurrence; filled text is not scanned again). A placeholder the
 * sample lacks is left as written: `checkTemplateFields` refuses such a template before any request.
 */
export function fillTemplate(text: string, sample: Sample): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    if (name === 'question') return typeof sample.input === 'string' ? sample.input : whole;
    if (name === 'choices') return sample.choices ? sample.choices.map((c, i) => `${String.fromCharCode(65 + i)}. ${c}`).join('\n') : '';
    const v = sample.metadata?.[metadataKey(name)!];
    return v === undefined || v === null ? whole : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

/**
 * Check that every placeholder of a template text names a field of the dataset (`question`, `choices`, or a key every
 * sample has in its metadata), so a prompt never goes out with a literal `{context}` in it.
 * Errors: InputError (field `field`) naming the placeholder and the dataset's fields, or the first sample without it.
 */
export function checkTemplateFields(text: string, samples: readonly Sample[], field = 'template'): void {
  const fields = new Set<string>();
  for (const s of samples) for (const k of Object.keys(s.metadata ?? {})) fields.add(k);
  for (const name of templatePlaceholders(text)) {
    const key = metadataKey(name);
    if (key === null) continue;
    if (!fields.has(key)) {
      const known = ['question', ...(samples.some((s) => s.choices) ? ['choices'] : []), ...[...fields].sort()];
      throw new InputError(`placeholder {${name}} is not a field of the dataset (fields: ${known.slice(0, 30).join(', ')}${known.length > 30 ? ', …' : ''})`, { field });
    }
    const missing = samples.filter((s) => s.metadata?.[key] === undefined || s.metadata?.[key] === null);
    if (missing.length) throw new InputError(`placeholder {${name}}: ${missing.length} of ${samples.length} samples have no "${key}" (first: "${missing[0]!.id}")`, { field });
  }
}

/** Is `name` a built-in template name? */
export function isTemplateName(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(BUILTIN, name);
}
