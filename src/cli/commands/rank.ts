/**
 * `assay rank`: Plackett–Luce / Bradley–Terry ranking of the models in the pool (or in a capability query), with
 * bootstrap CIs and rank intervals over samples, diagnostics, and the mean-score and Elo baselines.
 */
import { Option, type Command } from 'commander';
import { rankFromPool, type PoolRanking } from '../../analyses/pool-ranking.ts';
import { FEW_SAMPLES } from '../../aggregate/rank.ts';
import { InputError } from '../../core/errors.ts';
import { POOL_KINDS, type PoolKind } from '../../store/types.ts';
import { parseFilters } from '../../query/search.ts';
import { collect, int, MAX_REPLICATES, num, numIn, openPool, printJson } from '../common.ts';
import { table } from '../../report/text.ts';

/** Fewest bootstrap replicates `assay rank` accepts: below it the 2.5% and 97.5% percentiles are not estimable. */
export const MIN_REPLICATES = 100;

/**
 * Share of orderings at or above which `assay rank` warns that the listwise fit is in its sparse regime: half of
 * the samples' orderings carry no information for it (a sample measured on one model, or answered alike by every
 * model on it). On MMLU-Pro (31 models × 12,032 items, random drops) that share is 13% at 50% of the measurements
 * removed, 32% at 80%, 56% at 90%, 75% at 95% and 94% at 99%; in bench/validate-subset.ts the listwise fit trails
 * the plain mean score from 95% removed on (τ to a held-out half: 0.859 vs 0.875 at 95%, 0.498 vs 0.733 at 99%).
 */
export const SPARSE_ORDERINGS_SHARE = 0.5;

/**
 * The note `assay rank` prints when at least {@link SPARSE_ORDERINGS_SHARE} of the orderings carry no information
 * for the listwise Plackett–Luce fit, else null. Pure.
 */
export function sparseNote(d: PoolRanking['diagnostics']): string | null {
  const dropped = d.dropped_single_model + d.dropped_all_tied;
  if (d.orderings === 0 || dropped / d.orderings < SPARSE_ORDERINGS_SHARE) return null;
  return `note: ${((100 * dropped) / d.orderings).toFixed(0)}% of the orderings (${dropped} of ${d.orderings}) carry no information for this listwise fit (one model on the sample, or all alike). With data this sparse \`assay pool validate\` measures the listwise fit ranking worse than the plain mean score (its "PL orderings" column): read the mean column beside the scores, or check the pool with \`assay pool validate --source <id>\`.`;
}

/** Human-readable ranking: table, then fit, bootstrap and diagnostics lines. */
export function formatRanking(r: PoolRanking): string {
  const f = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);
  const lines: string[] = [];
  lines.push(`Plackett–Luce ranking (${r.algorithm.toUpperCase()} + Newton, prior λ=${r.prior}, ties ${r.ties}) of ${r.models.length} models from ${r.measurements} measurements; sources ${r.sources.join(', ')}`);
  if (r.selection.hash) lines.push(`selection ${r.selection.hash.slice(0, 12)} (${r.selection.samples} samples${r.selection.query ? `, query "${r.selection.query}"` : ''})`);
  if (r.diagnostics.components.length > 1) {
    // Group sizes, grouped themselves when there are many (`120 × 1, 2 × 3` rather than 126 terms).
    const sizes = r.diagnostics.components.map((c) => c.length);
    const bySize = [...new Set(sizes)].sort((a, b) => b - a).map((n) => [n, sizes.filter((x) => x === n).length] as const);
    const sizeText = sizes.length <= 8 ? sizes.join(' + ') : bySize.map(([n, k]) => (k > 1 ? `${k} groups of ${n}` : `1 group of ${n}`)).join(', ');
    lines.push(`WARNING: the models fall into ${r.diagnostics.components.length} groups never compared: no sample on which a model of one group scored differently from a model of another (${sizeText} models; ties and samples measured on one model carry no order; see diagnostics below).`);
    lines.push('         Order between groups rests on the prior only, and their rank intervals span every rank outside their group.');
    lines.push('         Rank one benchmark at a time with --source, --slice or --model.');
  }
  lines.push('');
  lines.push(table(
    ['rank', 'model', 'score', `${Math.round(r.bootstrap.level * 100)}% CI`, 'rank interval', 'samples', 'mean', 'elo'],
    r.models.map((m) => [m.rank, m.model, f(m.score), Number.isFinite(m.ci[0]) ? `[${f(m.ci[0])}, ${f(m.ci[1])}]` : 'n/a (never compared)', `${m.rank_interval[0]}–${m.rank_interval[1]}`, m.samples, Number.isFinite(m.mean_score) ? m.mean_score.toFixed(4) : r.scales?.length ? 'per scale' : 'n/a', m.elo == null ? '' : m.elo.toFixed(0)]),
  ));
  lines.push('');
  lines.push(`score = centred log-strength θ (natural log; exp(θa − θb) = odds that a is chosen over b). CI and rank interval: percentile bootstrap over samples, ${r.bootstrap.replicates} replicates, seed ${r.bootstrap.seed}${r.bootstrap.failed_refits ? `, ${r.bootstrap.failed_refits} refits not converged` : ''}.`);
  const tau = r.tau_pl_mean;
  lines.push(`Kendall τ(PL, mean score) = ${Number.isNaN(tau) ? (r.scales?.length ? 'n/a (several scales: no one mean score)' : 'n/a (a constant column)') : tau.toFixed(3)}; fit ${r.fit.iterations} iterations + ${r.fit.newton_steps} Newton steps (${r.fit.converged ? 'converged' : 'NOT converged'}), ${r.fit.ms.toFixed(0)} ms; bootstrap ${(r.fit.bootstrap_ms / 1000).toFixed(1)} s.`);
  const d = r.diagnostics;
  lines.push(`diagnostics: ${d.orderings} orderings (${d.dropped_single_model} with one model, ${d.dropped_all_tied} all tied: no information), ${d.events} choice events; comparison graph ${d.components.length === 1 ? 'connected' : `has ${d.components.length} components: ${d.components.map((c) => `{${c.join(', ')}}`).join(' ')} — scores across components rest on the prior only`}.`);
  const note = sparseNote(d);
  if (note) lines.push(note);
  if (d.few_samples.length) lines.push(`few samples (< ${FEW_SAMPLES}): ${d.few_samples.map((x) => `${x.model} (${x.samples})`).join(', ')} — their intervals rest on very few bootstrap units; read them with care.`);
  const slicesBySource = new Map<string, number>();
  for (const src of r.sources) slicesBySource.set(src, r.slices.filter((x) => x.startsWith(`${src}:`)).length);
  const multi = [...slicesBySource].filter(([, k]) => k > 1);
  if (multi.length) lines.push(`note: ${multi.map(([src, k]) => `${k} slices of ${src}`).join(', ')} are ranked together (orderings stay within a slice, but the slices add up); pass --slice to rank one slice.`);
  if (r.scales?.length) {
    // Measurements on different scales (0/1 verdicts, 1–10 judge scores…) are never averaged together: each model's mean per scale.
    lines.push(`the measurements are on ${r.scales.length} scales, so no mean is taken across them (the Plackett–Luce scores above compare orderings within each sample); each model's mean per scale, with its 95% CI:`);
    for (const sc of r.scales) {
      const pctScale = sc.kind !== 'numeric' && sc.kind !== 'ordinal';
      const v = (x: number) => (!Number.isFinite(x) ? 'n/a' : pctScale ? `${(100 * x).toFixed(1)}%` : x.toFixed(4));
      lines.push(`  ${sc.scale}${sc.kind === 'numeric' || sc.kind === 'ordinal' ? '' : ` (${sc.sources.join(', ')})`}; CI: ${sc.models[0]?.ci95.method ?? ''}`);
      lines.push(table(['model', 'mean', '95% CI', 'samples'], sc.models.map((x) => [x.model, v(x.mean), `[${v(x.ci95.lo)}, ${v(x.ci95.hi)}]`, x.samples])).replace(/^/gm, '    '));
    }
  }
  lines.push(`intransitive 3-cycles of the pairwise majority: ${d.cycles.count} of ${d.cycles.triples} triples${d.cycles.examples.length ? ', e.g. ' + d.cycles.examples.slice(0, 3).map((c) => `${c.models.join(' > ')} > ${c.models[0]} (margin ${c.margin.toFixed(3)})`).join('; ') : ''}.`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('rank')
    .description('rank models from the pool with Plackett–Luce (Bradley–Terry for battles): scores, CIs, rank intervals, diagnostics')
    .option('--query <text|hash>', 'a saved selection hash (from `assay pool query`) or a capability query text')
    .option('--filter <key=value>', 'sample filter (repeatable): category, dataset, tag, key', collect)
    .option('--source <id>', 'only this source (repeatable; `runs` = the pool\'s own runs)', collect)
    .option('--slice <name>', 'only this slice (repeatable), e.g. v2.0625/gpt-4o-2024-05-13', collect)
    .option('--kind <kind>', `only this kind (repeatable): ${POOL_KINDS.join(', ')}`, collect)
    .option('--model <name>', 'only this model (repeatable)', collect)
    .addOption(new Option('--ties <convention>', 'tie convention: full (listwise, Breslow) or half (pairwise, ties ½)').choices(['full', 'half']).default('full'))
    .addOption(new Option('--method <alg>', 'PL algorithm before the Newton polish').choices(['mm', 'lsr']).default('mm'))
    .addOption(new Option('--battle-weights <how>', 'repeated battle verdicts: counts (as weights) or dedupe').choices(['counts', 'dedupe']).default('counts'))
    .option('--prior <lambda>', 'prior strength: virtual games per model against the anchor', numIn('--prior', 0, 1e6, { lo: true }), 1)
    .option('--replicates <n>', `bootstrap replicates over samples (at least ${MIN_REPLICATES}: a ranking is never printed without rank intervals)`, int('--replicates', MIN_REPLICATES, MAX_REPLICATES), 1000)
    .option('--seed <n>', 'bootstrap seed (recorded)', int('--seed', 0), 0)
    .option('--no-runs', 'leave out the pool\'s own runs')
    .option('--pool <file>', 'pool file (default $ASSAY_POOL or ./.assay/pool.sqlite)')
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      const kinds = o.kind as string[] | undefined;
      for (const k of kinds ?? []) if (!(POOL_KINDS as readonly string[]).includes(k)) throw new InputError(`unknown kind "${k}"`, { field: '--kind' });
      if (!(o.prior > 0)) throw new InputError('--prior must be > 0', { field: '--prior' });
      // Read-only, unless a new query's selection is saved (rankFromPool saves it, so that its hash can be reused).
      const store = await openPool(o.pool, { readonly: o.query === undefined && !(o.filter as string[] | undefined)?.length });
      try {
        const r = await rankFromPool(store, {
          query: o.query, filters: parseFilters(o.filter), sources: o.source, slices: o.slice, kinds: kinds as PoolKind[] | undefined, models: o.model,
          runs: o.runs, ties: o.ties, method: o.method, battleWeights: o.battleWeights, prior: o.prior, replicates: o.replicates, seed: o.seed,
        });
        if (o.json) return printJson({ ranking: r });
        process.stdout.write(formatRanking(r) + '\n');
      } finally {
        await store.close();
      }
    });
}
