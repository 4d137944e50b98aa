/**
 * Needle-threading benchmark (not a test; figures, not assertions):
 * 1. generation rate (MB/s of haystack) for 1M-character haystacks, per task, and peak memory (max RSS) while
 *    generating — measured before any tokenizer is loaded, since tokenizers dominate memory;
 * 2. the full grid (462 samples, ≈85 M characters) generated, serialised to JSONL and hashed, streaming;
 * 3. tokenizing speed per family (load time; characters per second on a 1M-character haystack and on prose).
 *
 *   node --import tsx bench/needle.ts [--samples 10] [--token-chars 1000000] [--out bench/out/needle.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FULL_GRID, NEEDLE_TASKS, generateNeedleSample, hashGrid, sampleToJsonl } from '../src/generators/needle/index.ts';
import { PROSE, TOKENIZER_FAMILIES, chunks, loadTokenizer } from '../src/tokenizers/index.ts';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const SAMPLES = Number(arg('samples', '10'));
const TOKEN_CHARS = Number(arg('token-chars', '1000000'));
const OUT = arg('out', 'bench/out/needle.json');
const maxRssMB = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
const mb = (chars: number): number => chars / 1e6;

const result: Record<string, unknown> = { node: process.version, cpu: (await import('node:os')).cpus()[0]?.model, date: new Date().toISOString() };

// 1. Generation of 1M-character haystacks.
const rss0 = maxRssMB();
const gen: Record<string, { mb_per_s: number; ms_per_sample: number; with_jsonl_mb_per_s: number }> = {};
generateNeedleSample({ task: 'single', chars: 1_000_000, depth: 50, repeat: 999 }, 0); // warm-up
for (const task of NEEDLE_TASKS) {
  let chars = 0;
  let t = 0, tj = 0;
  for (let r = 0; r < SAMPLES; r++) {
    const p = task === 'single' || task === 'multiple' || task === 'conditional' ? { task, chars: 1_000_000, depth: (r * 10) % 110, repeat: r } : { task, chars: 1_000_000, direction: 'forward' as const, repeat: r };
    const t0 = performance.now();
    const s = generateNeedleSample(p, 0);
    const t1 = performance.now();
    sampleToJsonl(s.sample);
    const t2 = performance.now();
    t += t1 - t0;
    tj += t2 - t0;
    chars += s.haystack.length;
  }
  gen[task] = { mb_per_s: mb(chars) / (t / 1000), ms_per_sample: t / SAMPLES, with_jsonl_mb_per_s: mb(chars) / (tj / 1000) };
}
result.generation_1M = { samples_per_task: SAMPLES, by_task: gen, max_rss_mb_before: rss0, max_rss_mb_after: maxRssMB() };

// 2. The full grid, streamed: generate + JSONL + sha256.
const tg = performance.now();
const full = hashGrid(FULL_GRID, 0);
const fullS = (performance.now() - tg) / 1000;
result.full_grid = { ...full, seconds: fullS, mb_per_s: mb(full.context_chars) / fullS, max_rss_mb: maxRssMB() };

// 3. Tokenizers.
const hay = generateNeedleSample({ task: 'single', chars: TOKEN_CHARS, depth: 50 }, 0).haystack;
let prose = '';
while (prose.length < 200_000) prose += PROSE + '\n';
const tok: Record<string, unknown> = {};
for (const f of TOKENIZER_FAMILIES) {
  const l0 = performance.now();
  const t = await loadTokenizer(f);
  const loadMs = performance.now() - l0;
  const h0 = performance.now();
  let hn = 0;
  for (const piece of chunks(hay, 200_000)) hn += t.count(piece);
  const hs = (performance.now() - h0) / 1000;
  const p0 = performance.now();
  let pn = 0;
  for (const piece of chunks(prose, 200_000)) pn += t.count(piece);
  const ps = (performance.now() - p0) / 1000;
  tok[f] = { load_ms: Math.round(loadMs), haystack_chars_per_s: Math.round(hay.length / hs), haystack_tokens: hn, haystack_chars_per_token: hay.length / hn, prose_chars_per_s: Math.round(prose.length / ps), prose_chars_per_token: prose.length / pn, max_rss_mb: maxRssMB() };
  process.stderr.write(`${f}: ${JSON.stringify(tok[f])}\n`);
}
result.tokenizers = { haystack_chars: hay.length, prose_chars: prose.length, by_family: tok };

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
const g = result.generation_1M as { by_task: typeof gen; max_rss_mb_after: number };
process.stdout.write('generation of 1M-character haystacks (MB/s of haystack; with JSONL serialisation)\n');
for (const [task, v] of Object.entries(g.by_task)) process.stdout.write(`  ${task.padEnd(16)} ${v.mb_per_s.toFixed(1).padStart(6)} MB/s  ${v.ms_per_sample.toFixed(1).padStart(6)} ms/sample  ${v.with_jsonl_mb_per_s.toFixed(1).padStart(6)} MB/s with JSONL\n`);
process.stdout.write(`  peak RSS while generating: ${g.max_rss_mb_after} MB\n`);
process.stdout.write(`full grid: ${full.samples} samples, ${(full.context_chars / 1e6).toFixed(1)} M chars, generated+JSONL+sha256 in ${fullS.toFixed(1)} s (${(mb(full.context_chars) / fullS).toFixed(1)} MB/s), peak RSS ${(result.full_grid as { max_rss_mb: number }).max_rss_mb} MB, sha256 ${full.sha256}\n`);
process.stdout.write(`wrote ${OUT}\n`);
