/**
 * `assay pool …`: what the pool holds, copying a pool between SQLite and PostgreSQL, capability queries (saved
 * selections), the missing-data validation harness and the cheaper-evaluation experiment.
 */
import { Option, type Command } from 'commander';
import { DEFAULT_SUBSET_BUDGETS, missingDataValidation, subsetValidation } from '../../analyses/pool-validation.ts';
import { DEFAULT_SUBSET_STRATEGIES, SUBSET_STRATEGIES, type SubsetStrategy } from '../../aggregate/subset.ts';
import { InputError } from '../../core/errors.ts';
import { parseFilters, querySamples } from '../../query/search.ts';
import { endpointEmbedder, fileEmbeddings } from '../../query/embeddings.ts';
import { table } from '../../report/text.ts';
import { fmtP } from '../../analyses/compare.ts';
import { copyPool, type CopyReport } from '../../store/copy.ts';
import { collect, int, MAX_COUNT, MAX_REPLICATES, openPool, printJson } from '../common.ts';

/** The check of `assay pool copy`: rows and content hash per table, source and copy side by side. */
function printCopy(r: CopyReport, json: boolean): void {
  if (json) return printJson(r);
  process.stdout.write(`${r.from} → ${r.to} (${r.seconds.toFixed(1)} s)\n`);
  process.stdout.write(table(['table', 'rows (from)', 'rows (to)', 'sha256 (from)', 'sha256 (to)', ''], r.tables.map((t) => [
    t.table, t.from.rows, t.to.rows, t.from.sha256.slice(0, 16), t.to.sha256.slice(0, 16), t.equal ? 'equal' : 'DIFFERS',
  ])) + '\n');
  if (!r.mismatched.length) process.stdout.write('every table equal: the copy is whole\n');
}

/** A comma-separated list of numbers, each in [lo, hi] (`integer`: whole numbers only). */
const list = (name: string, lo = -Infinity, hi = Infinity, integer = false, hiOpen = false) => (v: string) => {
  const xs = v.split(',').map((s) => (s.trim() === '' ? NaN : Number(s.trim())));
  if (xs.some((x) => !Number.isFinite(x))) throw new InputError(`${name} must be a comma-separated list of numbers`, { field: name });
  const bad = xs.find((x) => x < lo || (hiOpen ? x >= hi : x > hi) || (integer && !Number.isInteger(x)));
  if (bad !== undefined) throw new InputError(`${name}: ${bad} is not ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}${hiOpen ? ')' : ']'}`, { field: name });
  return xs;
};
/** Ceilings of the synthetic validation data (models × samples are held in memory). */
const MAX_SYNTHETIC_MODELS = 1000;
const MAX_SYNTHETIC_SAMPLES = 100_000;

export function register(program: Command): void {
  const pool = program.command('pool').description('the pool of sample-level measurements: list, query, validate, subset');

  pool
    .command('list')
    .description('sources and measurement counts in the pool (imports and the pool\'s own runs)')
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      const store = await openPool(o.pool, { readonly: true });
      try {
        const sources = await store.sources();
        const summary = await store.summary();
        if (o.json) return printJson({ sources, summary });
        if (!summary.length) return void process.stdout.write('the pool has no measurements yet (see `assay import --help`)\n');
        process.stdout.write(table(['source', 'kind', 'slices', 'models', 'samples', 'measurements'], summary.map((s) => [s.source, s.kind, s.slices, s.models, s.samples, s.measurements])) + '\n');
        if (sources.length) process.stdout.write('\n' + table(['source', 'file', 'sha256', 'imported'], sources.map((s) => [s.id, s.file, s.file_sha256.slice(0, 16), s.imported_at.slice(0, 19)])) + '\n');
      } finally {
        await store.close();
      }
    });

  pool
    .command('copy <from> <to>')
    .description('copy a whole pool between SQLite files and PostgreSQL databases (either way), then check it: rows and a content hash per table on both sides')
    .option('--json', 'one JSON document on stdout')
    .action(async (from: string, to: string, o) => {
      const progress = o.json || !process.stderr.isTTY ? undefined : (t: string, n: number) => process.stderr.write(`\r${t}: ${n} rows…        `);
      let report: CopyReport;
      try {
        report = await copyPool(from, to, { progress });
      } catch (err) {
        const failed = (err as { report?: CopyReport }).report;
        if (failed) printCopy(failed, !!o.json);
        throw err;
      } finally {
        if (progress) process.stderr.write('\r');
      }
      printCopy(report, !!o.json);
    });

  pool
    .command('query [text]')
    .description('select samples by BM25 text search and metadata filters; the selection is saved under a hash for `assay rank --query <hash>`')
    .option('--filter <key=value>', 'category, dataset, tag or key (prefix with *) (repeatable)', collect)
    .option('--limit <n>', 'at most n samples', int('--limit', 1, MAX_COUNT))
    .option('--show <n>', 'hits to print', int('--show', 0), 10)
    .option('--embeddings <file>', 'optional sample vectors (JSONL {key, vector}); needs --embeddings-url and --embeddings-model for the query')
    .option('--embeddings-url <url>', 'OpenAI-compatible base URL for embedding the query')
    .option('--embeddings-model <name>', 'embedding model')
    .option('--no-save', 'do not save the selection')
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (text: string | undefined, o) => {
      const store = await openPool(o.pool);
      try {
        let embeddings;
        if (o.embeddings) {
          if (!o.embeddingsUrl || !o.embeddingsModel) throw new InputError('--embeddings needs --embeddings-url and --embeddings-model', { field: '--embeddings' });
          embeddings = { provider: await fileEmbeddings(o.embeddings, endpointEmbedder(o.embeddingsUrl, o.embeddingsModel)) };
        }
        const r = await querySamples(store, text ?? '', { filters: parseFilters(o.filter), limit: o.limit, embeddings });
        if (o.save) await store.saveSelection(r.selection);
        if (o.json) return printJson({ selection: { ...r.selection, saved: !!o.save }, filtered: r.filtered, hits: r.hits.slice(0, o.show) });
        process.stdout.write(`${r.hits.length} samples selected (of ${r.filtered} passing the filters); selection ${r.selection.hash.slice(0, 12)}${o.save ? ' saved' : ''}\n`);
        process.stdout.write(table(['key', 'category', 'score', 'text'], r.hits.slice(0, o.show).map((h) => [h.key, h.category ?? '', h.score.toFixed(3), h.snippet.slice(0, 70)])) + '\n');
        if (o.save) process.stdout.write(`rank on it: assay rank --query ${r.selection.hash.slice(0, 12)}\n`);
      } finally {
        await store.close();
      }
    });

  pool
    .command('validate')
    .description('missing-data curves (ONEBench): Kendall τ vs fraction of measurements removed, for Plackett–Luce (samples as players; listwise orderings as `assay rank`), mean score and Elo')
    .option('--source <id>', 'a binary source of the pool (its samples measured on every model); default: synthetic data with known truth (reference = the true abilities)')
    .addOption(new Option('--reference <which>', 'with --source: τ against the full-data mean-score ranking (favours the mean by construction), against a held-out half of the samples (no method sees it), or both').choices(['full', 'held-out', 'both']).default('both'))
    .option('--models <n>', 'synthetic: models', int('--models', 2, MAX_SYNTHETIC_MODELS), 50)
    .option('--samples <n>', 'synthetic: samples', int('--samples', 2, MAX_SYNTHETIC_SAMPLES), 2000)
    .option('--fractions <list>', 'fractions removed', list('--fractions', 0, 1, false, true), [0, 0.5, 0.8, 0.9, 0.95, 0.99])
    .option('--reps <n>', 'repetitions per fraction', int('--reps', 1, MAX_REPLICATES), 3)
    .option('--seed <n>', 'seed', int('--seed', 0), 0)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      const pool = o.source ? await openPool(o.pool) : null;
      let what: string, rows;
      try {
        ({ data: what, rows } = await missingDataValidation(pool, { source: o.source, models: o.models, samples: o.samples, fractions: o.fractions, reps: o.reps, seed: o.seed, reference: o.reference }));
      } finally {
        await pool?.close();
      }
      if (o.json) return printJson({ data: what, rows });
      process.stdout.write(what + '\n\n');
      const references = [...new Set(rows.map((r) => r.reference))];
      for (const ref of references) {
        const these = rows.filter((r) => r.reference === ref);
        for (const mode of ['random', 'per-model'] as const) {
          process.stdout.write(`reference: ${ref}; drop mode: ${mode}\n`);
          process.stdout.write(table(['removed', 'kept/rep', 'τ PL', 'τ PL orderings', 'τ mean', 'τ Elo', 'PL − mean (paired ± SE)'], o.fractions.map((p: number) => {
            const get = (m: string) => these.find((r) => r.mode === mode && r.fraction === p && r.method === m)!;
            const cell = (m: string) => (Number.isFinite(get(m).tau) ? `${f3(get(m).tau)} (min ${f3(get(m).tau_min)})` : '— (too few kept)');
            const pl = get('plackett-luce');
            return [`${(p * 100).toFixed(0)}%`, Math.round(get('mean').kept), cell('plackett-luce'), cell('pl-orderings'), cell('mean'), cell('elo'), pairedCell(pl.vs_mean, pl.vs_mean_se, o.reps)];
          })) + '\n\n');
        }
      }
      process.stdout.write(`τ: mean over ${o.reps} repetitions (min = worst repetition); ± is the standard error of the paired difference over the same drop masks (the Monte-Carlo error of these ${o.reps} repetitions). PL = Plackett–Luce with every sample as a player (keeps every measurement); PL orderings = the listwise fit of \`assay rank\`, which drops samples measured on one model or answered alike.\n`);
      // PL vs mean, paired over the same drop masks: behind only when by more than two standard errors
      const pl = rows.filter((r) => r.method === 'plackett-luce' && r.vs_mean !== null && Number.isFinite(r.vs_mean) && Number.isFinite(r.vs_mean_se ?? NaN));
      const behind = pl.filter((r) => r.vs_mean! < 0 && !(r.vs_mean! + 2 * r.vs_mean_se! > 0));
      const tied = pl.filter((r) => r.vs_mean! < 0 && r.vs_mean! + 2 * r.vs_mean_se! > 0);
      const at = (r: (typeof rows)[number]) => `${references.length > 1 ? `${r.reference}, ` : ''}${r.mode} ${(r.fraction * 100).toFixed(0)}% (${r.vs_mean!.toFixed(3)} ± ${r.vs_mean_se!.toFixed(3)})`;
      if (o.reps < 2) process.stdout.write('One repetition: no standard error of the paired difference, so no verdict on PL against the mean (use --reps 2 or more).\n');
      else if (behind.length) process.stdout.write(`PL is behind the mean (paired, by more than two standard errors) at: ${behind.map(at).join(', ')}${references.includes('full-data mean') ? ' (against the full-data mean, the mean is favoured by construction: see the held-out reference)' : ''}\n`);
      else process.stdout.write(`PL is not behind the mean at any level (paired over the same drop masks)${tied.length ? `; its τ is lower only within two standard errors at ${tied.map(at).join(', ')}` : ''}.\n`);
    });

  pool
    .command('subset')
    .description('cheaper evaluation: choose b samples that preserve the ranking; τ vs the full ranking for held-out models')
    .requiredOption('--source <id>', 'a binary source of the pool')
    .option('--budgets <list>', `budgets b (default ${DEFAULT_SUBSET_BUDGETS.join(',')}: those below the source's number of samples, else half of it)`, list('--budgets', 1, MAX_COUNT, true))
    .option('--strategy <s>', `${SUBSET_STRATEGIES.join(', ')} (repeatable; default ${DEFAULT_SUBSET_STRATEGIES.join(', ')}; random always runs, as the baseline)`, collect)
    .option('--reps <n>', 'repetitions', int('--reps', 1, MAX_REPLICATES), 5)
    .option('--seed <n>', 'seed', int('--seed', 0), 0)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      for (const st of (o.strategy ?? []) as string[]) if (!(SUBSET_STRATEGIES as readonly string[]).includes(st)) throw new InputError(`unknown strategy "${st}"; known: ${SUBSET_STRATEGIES.join(', ')}`, { field: '--strategy' });
      const store = await openPool(o.pool);
      let r;
      try {
        r = await subsetValidation(store, o.source, { budgets: o.budgets as number[] | undefined, strategies: o.strategy as SubsetStrategy[] | undefined, reps: o.reps, seed: o.seed });
      } catch (err) {
        // A budget larger than the source's samples is known only once the source is read: bad input, not a crash.
        if (err instanceof RangeError && /^budget must be between/.test(err.message)) throw new InputError(err.message, { field: '--budgets' });
        throw err;
      } finally {
        await store.close();
      }
      const rows = r.rows;
      if (o.json) return printJson({ rows });
      process.stdout.write(`${o.source}: ${r.models} models × ${r.samples} samples; τ of the ranking on b samples (Plackett–Luce; irt-anchors: their weighted accuracy) vs the Plackett–Luce ranking on all samples (held-out half of the models; all models)\n`);
      const vs = (r: (typeof rows)[number]) => (r.vs_random === null ? '' : pairedCell(r.vs_random, r.vs_random_se, o.reps));
      const kept = (r: (typeof rows)[number]) => (r.beats_random === null ? 'baseline' : r.beats_random ? 'yes' : 'no: use random');
      const pv = (r: (typeof rows)[number]) => (r.p_vs_random === null ? '' : `${fmtP(r.p_vs_random)} / ${fmtP(r.p_vs_random_adjusted!)}`);
      process.stdout.write(table(['budget', 'strategy', 'τ new models', 'min', 'τ all', 'vs random (± SE)', 'p / Holm p', 'kept'], rows.map((r) => [r.budget, r.strategy, f3(r.tau_new), f3(r.tau_new_min), f3(r.tau_all), vs(r), pv(r), kept(r)])) + '\n');
      process.stdout.write(`A strategy is kept at a budget only where it beats random: one-sided paired t test over the same ${o.reps} splits, Holm-adjusted over the ${rows.filter((x) => x.strategy !== 'random').length} strategy × budget rows, adjusted p ≤ 0.05.\n`);
      if (rows.some((x) => !Number.isFinite(x.tau_new))) process.stdout.write('— : τ undefined (every model tied on the chosen samples: the budget is too small to order them).\n');
      for (const b of r.budgets) {
        const best = rows.filter((x) => x.budget === b && x.beats_random).sort((x, y) => y.tau_new - x.tau_new)[0];
        process.stdout.write(`  ${b} samples: ${best ? `${best.strategy} (τ ${best.tau_new.toFixed(3)})` : 'random'}\n`);
      }
    });
}

/** A τ to three places; '—' where undefined (NaN: too few samples kept to order the models). */
function f3(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : '—';
}

/** A paired difference ± its SE over `reps` repetitions; with one repetition there is no SE to give. */
function pairedCell(diff: number | null | undefined, se: number | null | undefined, reps: number): string {
  if (diff == null || !Number.isFinite(diff)) return '—';
  const d = `${diff >= 0 ? '+' : ''}${diff.toFixed(3)}`;
  return reps < 2 || se == null || !Number.isFinite(se) ? `${d} (no SE: one repetition)` : `${d} ± ${se.toFixed(3)}`;
}
