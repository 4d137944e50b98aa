/**
 * `assay tokens`: characters per token of each tokenizer family on a needle haystack (UUID key–value JSON) and on
 * ordinary prose (and on any files given), so a context length in characters can be read in each family's tokens.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { generateNeedleSample } from '../../generators/needle/generate.ts';
import { InputError } from '../../core/errors.ts';
import { charsPerToken, parseFamilies, PROSE, TOKENIZER_FAMILIES, TOKENIZER_LABELS, type TokenizerFamily } from '../../tokenizers/index.ts';
import { collect, int, printJson } from '../common.ts';
import { table } from '../../report/text.ts';

export function register(program: Command): void {
  program
    .command('tokens')
    .description('characters per token of each tokenizer family (o200k, cl100k, llama3, qwen3, gemma3, deepseek_v3, claude, gemini) on a needle haystack and on ordinary prose')
    .option('--families <list>', 'all, or a comma-separated list', 'all')
    .option('--haystack-chars <n>', 'length of the generated haystack in characters', int('--haystack-chars', 80), 100_000)
    .option('--seed <n>', 'haystack seed', int('--seed', 0), 0)
    .option('--file <path>', 'also measure this text file (repeatable)', collect)
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      const families = parseFamilies(o.families) as TokenizerFamily[];
      if (!families.length) throw new InputError(`--families names no tokenizer; use all or some of ${TOKENIZER_FAMILIES.join(', ')}`, { field: 'families' });
      // Everything that can fail on bad input fails here, before seconds of tokenizer loading.
      const files = ((o.file as string[] | undefined) ?? []).map((f) => {
        try {
          return { name: basename(f), text: readFileSync(f, 'utf8') };
        } catch (e) {
          throw new InputError(`cannot read --file ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { field: 'file' });
        }
      });
      const haystack = generateNeedleSample({ task: 'single', chars: o.haystackChars, depth: 50 }, o.seed).haystack;
      const texts = [
        { name: `needle haystack (${haystack.length} chars, seed ${o.seed})`, text: haystack },
        { name: `ordinary prose (${PROSE.length} chars)`, text: PROSE },
        ...files,
      ];
      process.stderr.write(`loading ${families.length} tokenizers (from node_modules; nothing is downloaded)…\n`);
      const rows = await charsPerToken(texts, families);
      if (o.json) return printJson({ families: Object.fromEntries(families.map((f) => [f, TOKENIZER_LABELS[f]])), rows });
      process.stdout.write('characters per token (higher = fewer tokens for the same text)\n');
      process.stdout.write(table(['text', ...families], rows.map((r) => [r.text, ...families.map((f) => { const c = r.chars_per_token[f]; return c == null ? '- (empty)' : c.toFixed(2); })])) + '\n\n');
      const hay = rows[0]!;
      process.stdout.write('a 1,000,000-character haystack in tokens:\n');
      process.stdout.write(table(['family', 'tokens (≈)', 'tokenizer'], families.map((f) => [f, Math.round(1_000_000 / hay.chars_per_token[f]!).toLocaleString('en-US'), TOKENIZER_LABELS[f]])) + '\n');
    });
}
