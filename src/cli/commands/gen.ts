/**
 * `assay gen needle`: write a seeded needle-threading grid as JSONL that `assay run --dataset <file>.jsonl` reads
 * (generic `{id, question, answer, ...metadata}` rows; score with `--scorer needle` and `--scorer needle?credit=partial`).
 * `assay needle-limit <run>`: effective context limit (with bootstrap CI) in characters and in tokens (recorded
 * prompt_tokens, else a tokenizer by model family or `--tokenizer`), accuracy by length and the depth × length
 * heatmap of a needle run in the pool.
 * `assay gen charts`: write seeded GRAB-style chart questions (PNG images + JSONL; src/generators/charts).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { DEFAULT_GRID, FULL_GRID, NEEDLE_GENERATOR_VERSION, gridSize, hashGrid, validateGrid, writeGridJsonl, type NeedleGridSpec } from '../../generators/needle/index.ts';
import { CHARS_PER_PAIR, DIRECTIONS, MAX_NEEDLE_CHARS, NEEDLE_TASKS, PLACEMENTS, type Direction, type NeedleTask, type Placement } from '../../generators/needle/generate.ts';
import { contextLimitOfRun } from '../../analyses/context-limit.ts';
import { DEFAULT_LIMIT_THRESHOLD, type ContextLimitResult, type TokenScale } from '../../stats/context-limit.ts';
import { TOKENIZER_FAMILIES, countTokens, parseFamilies } from '../../tokenizers/index.ts';
import { int, MAX_COUNT, MAX_REPLICATES, num, numIn, openPool, printJson } from '../common.ts';
import { pct, table } from '../../report/text.ts';
import { CHART_TASKS, type ChartTask } from '../../generators/charts/types.ts';

/**
 * Parse `1k,2k,1.5M,32000` into characters. Decimals are scaled exactly (`1.001k` = 1001, not 1000.9999…).
 * @throws InvalidArgumentError (a usage error naming the bad item) for an empty item, a malformed one, a length
 *   that is not a whole number of characters, or one outside [80, MAX_NEEDLE_CHARS].
 */
export function parseLengths(v: string): number[] {
  return v.split(',').map((x) => {
    const m = /^\s*(\d+)(?:\.(\d+))?\s*([kKmM]?)\s*$/.exec(x);
    if (!m) throw new InvalidArgumentError(`bad length "${x}" (use e.g. 1000, 4k, 1.5M)`);
    const zeros = m[3]!.toLowerCase() === 'k' ? 3 : m[3]!.toLowerCase() === 'm' ? 6 : 0;
    const frac = (m[2] ?? '').replace(/0+$/, '');
    if (frac.length > zeros) throw new InvalidArgumentError(`length ${x.trim()} is not a whole number of characters`);
    const n = Number(m[1]! + frac + '0'.repeat(zeros - frac.length));
    if (!Number.isSafeInteger(n) || n < CHARS_PER_PAIR || n > MAX_NEEDLE_CHARS) throw new InvalidArgumentError(`length ${x.trim()} must be between ${CHARS_PER_PAIR} and ${MAX_NEEDLE_CHARS.toLocaleString('en-US')} characters`);
    return n;
  });
}

const list = <T extends string>(name: string, allowed: readonly T[]) => (v: string): T[] =>
  v.split(',').map((x) => {
    const t = x.trim() as T;
    if (!allowed.includes(t)) throw new InvalidArgumentError(`unknown ${name} "${x}"; known: ${allowed.join(', ')}`);
    return t;
  });

const numbers = (name: string) => (v: string): number[] =>
  v.split(',').map((x) => {
    const n = x.trim() === '' ? NaN : Number(x); // Number('') is 0: an empty item (`50,`) must not become depth 0
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name}: "${x}" is not a number`);
    return n;
  });

/** Token counting is on by default for grids up to this many characters (the full grid would take many minutes). */
const AUTO_TOKENS_MAX_CHARS = 2_000_000;

const fmtLen = (n: number | null): string => (n == null ? '< shortest' : n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

const fmtTok = (n: number | null): string => (n == null ? '?' : n.toLocaleString('en-US'));

function limitLines(name: string, r: ContextLimitResult, scale: TokenScale | null): string[] {
  const t = r.tokens;
  const inTokens = t ? (r.effective_limit == null ? '' : ` = ${fmtTok(t.effective_limit)} tokens`) : '';
  const ciTokens = t ? ` = [${r.ci.lo == null ? '< shortest' : fmtTok(t.ci.lo)}, ${r.ci.hi == null ? '< shortest' : fmtTok(t.ci.hi)}] tokens` : '';
  const lines = [`${name}: effective limit ${fmtLen(r.effective_limit)}${r.effective_limit == null ? '' : ' chars'}${inTokens}${r.censored ? ' (every length passed: at least this)' : ''}   95% CI [${fmtLen(r.ci.lo)}, ${fmtLen(r.ci.hi)}] chars${ciTokens}  (threshold ${pct(r.threshold)}, rule ${r.rule}, ${r.ci.replicates} stratified bootstrap replicates, seed ${r.ci.seed})`];
  const tok = (length: number) => {
    const b = scale?.by_length.find((x) => x.length === length);
    return b ? (b.min === b.max ? fmtTok(b.tokens) : `${fmtTok(b.tokens)} (${fmtTok(b.min)}–${fmtTok(b.max)})`) : '—';
  };
  const tokHead = scale ? [`tokens (${scale.source === 'recorded' ? 'recorded' : scale.tokenizer})`] : [];
  lines.push(table(['length (chars)', ...tokHead, 'samples', 'attempts', 'accuracy', '95% CI'], r.by_length.map((b) => [b.length, ...(scale ? [tok(b.length)] : []), b.samples, b.attempts, pct(b.accuracy), `[${pct(b.ci95.lo)}, ${pct(b.ci95.hi)}]`])));
  if (r.heatmap.cells.length) {
    const cell = new Map(r.heatmap.cells.map((c) => [`${c.depth}|${c.length}`, c]));
    lines.push('accuracy by depth (rows, %) × length (columns, chars):');
    lines.push(table(['depth', ...r.heatmap.lengths.map(fmtLen)], r.heatmap.depths.map((d) => [`${d}%`, ...r.heatmap.lengths.map((l) => { const c = cell.get(`${d}|${l}`); return c ? pct(c.accuracy) : '-'; })])));
  }
  return lines;
}

export function register(program: Command): void {
  // `gen` is shared by generators (needle, charts, games): reuse it when another module has created it.
  const gen = program.commands.find((c) => c.name() === 'gen') ?? program.command('gen').description('generate fresh, seeded benchmark samples');
  gen
    .command('needle')
    .description('needle-threading haystacks (Roberts et al. 2024): UUID key-value JSON, six tasks, lengths in characters; writes JSONL for `assay run --dataset`')
    .option('-o, --output <file>', 'JSONL file to write (without it: only the grid summary and its sha256)')
    .option('--full', 'the full grid: 1k–1M characters × depths 0–100% step 10 × directions forward/backward/random (462 samples per repeat, ≈85 M chars)')
    .option('--tasks <list>', `comma-separated: ${NEEDLE_TASKS.join(', ')}`, list('task', NEEDLE_TASKS))
    .option('--lengths <list>', 'context lengths in characters, e.g. 1k,4k,32k,1M', parseLengths)
    .option('--depths <list>', 'needle depths in percent, e.g. 0,25,50,75,100', numbers('--depths'))
    .option('--directions <list>', `thread directions: ${DIRECTIONS.join(', ')}`, list('direction', DIRECTIONS))
    .addOption(new Option('--placement <p>', 'needle placement of single/multiple/conditional').choices([...PLACEMENTS]))
    .option('--repeats <n>', 'samples per grid cell', int('--repeats', 1, MAX_COUNT))
    .option('--k <n>', 'needles of multiple/conditional', int('--k', 1))
    .option('--thread-length <n>', 'hops per thread', int('--thread-length', 1))
    .option('--threads <n>', 'threads of multi-threading', int('--threads', 1))
    .option('--branches <n>', 'branches of branched threading', int('--branches', 2))
    .option('--char <c>', 'marker character of conditional needles')
    .option('--seed <n>', 'grid seed (recorded in every sample)', int('--seed', 0), 0)
    .option('--tokens <families>', `tokens of each whole prompt in metadata.tokens: all, none, or a list of families (default: all for grids up to ${AUTO_TOKENS_MAX_CHARS / 1e6}M characters — about a minute for the default grid — else none)`)
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      const base = o.full ? FULL_GRID : DEFAULT_GRID;
      const grid: NeedleGridSpec = validateGrid({
        ...base,
        ...(o.tasks ? { tasks: o.tasks as NeedleTask[] } : {}),
        ...(o.lengths ? { lengths: o.lengths as number[] } : {}),
        ...(o.depths ? { depths: o.depths as number[] } : {}),
        ...(o.directions ? { directions: o.directions as Direction[] } : {}),
        ...(o.placement ? { placement: o.placement as Placement } : {}),
        ...(o.repeats ? { repeats: o.repeats } : {}),
        ...(o.k ? { k: o.k } : {}),
        ...(o.threadLength ? { threadLength: o.threadLength } : {}),
        ...(o.threads ? { threads: o.threads } : {}),
        ...(o.branches ? { branches: o.branches } : {}),
        ...(o.char !== undefined ? { conditionalChar: o.char as string } : {}),
      });
      const size = gridSize(grid);
      const families = parseFamilies(o.tokens ?? (size.chars <= AUTO_TOKENS_MAX_CHARS ? 'all' : 'none'));
      const t0 = performance.now();
      let result: { sha256: string; samples: number; context_chars: number; bytes?: number };
      if (o.output) {
        const path = resolve(o.output);
        process.stderr.write(`generating ${size.samples} needle samples (${(size.chars / 1e6).toFixed(2)} M haystack chars, seed ${o.seed})${families.length ? `, counting tokens in ${families.join(', ')}` : ''} → ${path}\n`);
        let done = 0;
        result = await writeGridJsonl(grid, o.seed, path, families.length ? async (s) => {
          s.metadata.tokens = await countTokens(s.input as string, families);
          if (++done % 10 === 0 || done === size.samples) process.stderr.write(`  ${done}/${size.samples}${done === size.samples ? '\n' : '\r'}`);
        } : undefined);
      } else result = hashGrid(grid, o.seed);
      const seconds = (performance.now() - t0) / 1000;
      const summary = { generator: 'needle', generator_version: NEEDLE_GENERATOR_VERSION, seed: o.seed, grid, ...result, output: o.output ? resolve(o.output) : null, token_families: o.output ? families : [], seconds };
      if (o.json) return printJson(summary);
      process.stdout.write(`${result.samples} samples, ${(result.context_chars / 1e6).toFixed(2)} M haystack chars, sha256 ${result.sha256}${o.output ? ` → ${summary.output}` : ' (nothing written: pass -o file.jsonl)'} in ${seconds.toFixed(1)} s\n`);
      if (o.output) process.stdout.write(`next: assay run --dataset ${o.output} --model <address> --scorer needle --scorer 'needle?credit=partial'   then: assay needle-limit <run>\n`);
    });

  gen
    .command('charts')
    .description("GRAB-style chart questions (Roberts et al. 2024): seeded charts rendered to PNG with analytic ground truth; writes <out>/images/*.png and <out>/charts.jsonl (default: GRAB's task × category × complexity mix)")
    .requiredOption('--out <dir>', 'folder to write (created if missing); files an earlier `gen charts` wrote there and this one does not are removed (listed in its assay-charts-files.json) when they still have the sha256 it recorded; changed and other files are left alone')
    .option('--n <n>', 'number of questions (2170 = GRAB\'s counts exactly)', int('--n', 1, MAX_COUNT), 2170)
    .option('--seed <n>', 'dataset seed (recorded in every sample)', int('--seed', 0), 0)
    .option('--tasks <list>', `comma-separated: ${CHART_TASKS.join(', ')}`, list('task', CHART_TASKS))
    .option('--force', 'overwrite a charts.jsonl in --out that the generator did not write (or that changed since)')
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      // loaded here, not at the top: the renderer's native addon is not needed by `gen needle`
      const { CHARTS_GENERATOR_VERSION, writeChartDataset } = await import('../../generators/charts/index.ts');
      const out = resolve(o.out);
      const t0 = performance.now();
      const r = await writeChartDataset(out, o.n, o.seed, {
        ...(o.tasks ? { tasks: o.tasks as ChartTask[] } : {}),
        ...(o.force ? { force: true } : {}),
        onSample: (_s, done) => {
          if (!o.json && (done % 50 === 0 || done === o.n)) process.stderr.write(`  ${done}/${o.n}${done === o.n ? '\n' : '\r'}`);
        },
      });
      const seconds = (performance.now() - t0) / 1000;
      const summary = { generator: 'charts', generator_version: CHARTS_GENERATOR_VERSION, seed: o.seed, tasks: o.tasks ?? [...CHART_TASKS], ...r, seconds };
      if (o.json) return printJson(summary);
      process.stdout.write(`${r.samples} charts, ${(r.png_bytes / 1e6).toFixed(1)} MB of PNG, sha256 ${r.sha256} → ${r.jsonl} in ${seconds.toFixed(1)} s${r.removed ? ` (${r.removed} file(s) of an earlier generation removed)` : ''}\n`);
      if (r.kept.length) process.stderr.write(`note: ${r.kept.length} file(s) of an earlier generation were left in place: ${r.kept.slice(0, 5).map((k) => `${k.file} (${k.reason === 'changed' ? 'changed since it was written' : 'no sha256 recorded to check it'})`).join(', ')}${r.kept.length > 5 ? ', …' : ''}\n`);
      if (r.untracked) process.stderr.write(`note: ${out}/images holds ${r.untracked} file(s) this generator did not write; they were left as they are\n`);
    });

  program
    .command('needle-limit <run>')
    .description('effective context limit of a needle-threading run: longest length with accuracy ≥ threshold, bootstrap CI, accuracy by length, depth × length heatmap')
    .option('--scorer <name>', 'which stored scorer (default: the run\'s first)')
    .option('--threshold <x>', `accuracy threshold in [0,1] (default ${DEFAULT_LIMIT_THRESHOLD})`, numIn('--threshold', 0, 1))
    .addOption(new Option('--rule <r>', 'prefix: accuracy stays ≥ threshold at every shorter length; any: longest passing length').choices(['prefix', 'any']).default('prefix'))
    .option('--replicates <n>', 'bootstrap replicates', int('--replicates', 100, MAX_REPLICATES), 2000)
    .option('--seed <n>', 'bootstrap seed', int('--seed', 0), 0)
    .addOption(new Option('--tokenizer <family>', 'state the limit in tokens of this tokenizer family; auto: the prompt_tokens the server recorded, else the tokenizer of the model\'s family (guessed from its name); none: characters only').choices(['auto', 'none', ...TOKENIZER_FAMILIES]).default('auto'))
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (runRef: string, o) => {
      const pool = await openPool(o.pool, { readonly: true });
      try {
        const r = await contextLimitOfRun(pool, runRef, { scorer: o.scorer, threshold: o.threshold, rule: o.rule, replicates: o.replicates, seed: o.seed, tokenizer: o.tokenizer });
        if (o.json) return printJson(r);
        const scale = r.token_scale ?? null;
        const out = [`${r.dataset} × ${r.model}   run ${r.run_id}   scorer ${r.scorer}`, scale ? `tokens: ${scale.description}` : `${r.token_note ?? 'no token counts'}`, '', ...limitLines('all tasks', r.all, scale)];
        for (const [task, t] of Object.entries(r.tasks)) out.push('', ...limitLines(task, t, scale));
        process.stdout.write(out.join('\n') + '\n');
      } finally {
        await pool.close();
      }
    });
}
