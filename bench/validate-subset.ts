/**
 * The curves behind `assay pool validate` and `assay pool subset`, measured on real and synthetic pools (not a
 * test: numbers are written, never asserted):
 *
 *   1. validate: Kendall τ-b to the reference vs fraction of measurements removed (0 … 0.99), per drop mode (random
 *      cells; per-model rates, where whole models lose most of their data), for each method: mean τ over the
 *      repetitions and the worst repetition, plus the share of repetitions where PL is at least as good as the
 *      mean. Pools: MMLU-Pro (31 models × 12,032 items; reference = full-data mean score, as before), its complete
 *      block (the 10,3xx items every model answered; reference = its mean score, which every method should
 *      reproduce at full data), and synthetic 2PL data (50 × 2,000, seed 0; reference = the true abilities).
 *      A full-data mean reference favours the mean by construction (at 0% removed the mean *is* the reference), so
 *      MMLU-Pro and its complete block are also judged against a held-out half (validate.ts `heldOutSplit`: per
 *      repetition, half of the items are set aside, measurements are dropped from the other half, and the reference
 *      is the mean score on the held-out items every model answered — data no method sees).
 *   2. subset: τ of the held-out models' ranking on b chosen items vs on all items, per strategy and budget
 *      (50 … 1,000), with the paired difference to random, on MMLU-Pro and on a synthetic 2PL pool.
 *
 * Writes bench/out/validate-subset-<label>.json and .md. The `pl-orderings` column is the harness's former
 * `plackett-luce` (same fit, same drop masks), so one run shows the curve before and after.
 *
 *   node --import tsx bench/validate-subset.ts [--label after] [--reps 10] [--subset-reps 30] [--only validate|subset]
 *       [--pools mmlu_pro,mmlu_pro_complete,synthetic,mmlu_pro_heldout,mmlu_pro_complete_heldout]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cheaperEvaluation, SUBSET_STRATEGIES, type SubsetRow } from '../src/aggregate/subset.ts';
import { completeBlock, matrixFromMeasurements, meanScores, missingDataCurve, syntheticBinary, type BinaryMatrix, type CurveRow } from '../src/aggregate/validate.ts';
import type { PoolMeasurement } from '../src/core/pool-measurement.ts';
import { shared } from '../testkit/shared.ts';

const { values } = parseArgs({
  options: {
    label: { type: 'string', default: 'after' },
    reps: { type: 'string', default: '10' },
    'subset-reps': { type: 'string', default: '30' },
    only: { type: 'string' },
    pools: { type: 'string' },
  },
});
const label = values.label!;
const reps = Number(values.reps), subsetReps = Number(values['subset-reps']);
const FRACTIONS = [0, 0.5, 0.8, 0.9, 0.95, 0.99];
const BUDGETS = [50, 100, 200, 500, 1000];

/** MMLU-Pro results.csv (+ item categories) as a binary matrix, the same cells `pool validate --source` reads. */
function mmluPro(): BinaryMatrix {
  const dir = shared('data/pool/mmlu_pro');
  const cats = new Map<string, string>();
  for (const l of readFileSync(join(dir, 'items.jsonl'), 'utf8').split('\n')) {
    if (!l) continue;
    const o = JSON.parse(l) as { question_id: number; category: string };
    cats.set(`mmlu_pro/${o.question_id}`, o.category);
  }
  const lines = readFileSync(join(dir, 'results.csv'), 'utf8').split('\n').slice(1);
  function* rows(): Generator<PoolMeasurement> {
    for (const l of lines) {
      if (!l) continue;
      const [model, q, , correct] = l.split(',');
      yield { source: 'mmlu_pro', slice: '', sample_key: `mmlu_pro/${q}`, model: model!, opponent: '', rep: 0, kind: 'binary', value: Number(correct), direction: 1, tie_tolerance: 0, weight: 1 };
    }
  }
  return matrixFromMeasurements(rows(), (k) => cats.get(k) ?? null);
}

const t0 = performance.now();
const mmlu = mmluPro();
const out: Record<string, unknown> = { label, node: process.version, reps, subset_reps: subsetReps, fractions: FRACTIONS, budgets: BUDGETS };
const md: string[] = [`# pool validate / pool subset curves (${label})`, '', `node ${process.version}; ${reps} repetitions per fraction; subset ${subsetReps} repetitions.`, ''];
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');

function curveTable(title: string, rows: CurveRow[]): void {
  const methods = [...new Set(rows.map((r) => r.method))];
  md.push(`### ${title}`, '');
  for (const mode of ['random', 'per-model'] as const) {
    md.push(`drop mode **${mode}** — τ mean (worst repetition)`, '');
    md.push(`| removed | kept | ${methods.join(' | ')} | PL − mean, paired ± SE |`, `|---|---|${methods.map(() => '---|').join('')}---|`);
    for (const p of FRACTIONS) {
      const at = rows.filter((r) => r.mode === mode && r.fraction === p);
      if (!at.length) continue;
      const pl = at.find((x) => x.method === 'plackett-luce')!;
      const d = pl.vs_mean!, se = pl.vs_mean_se!;
      // ahead, tied (within two standard errors of the paired difference) or behind
      const verdict = d >= 0 ? '≥' : d + 2 * se > 0 ? 'tie' : 'behind';
      md.push(`| ${p} | ${Math.round(at[0]!.kept)} | ${methods.map((m) => { const r = at.find((x) => x.method === m)!; return `${f3(r.tau)} (${f3(r.tau_min)})`; }).join(' | ')} | ${d >= 0 ? '+' : ''}${f3(d)} ± ${f3(se)} ${verdict} |`);
    }
    md.push('');
  }
}

if (values.only !== 'subset') {
  const block = completeBlock(mmlu);
  const pools: { name: string; mat: BinaryMatrix; reference: ArrayLike<number> | 'held-out-half'; what: string }[] = [
    { name: 'mmlu_pro', mat: mmlu, reference: meanScores(mmlu, null), what: `MMLU-Pro, ${mmlu.models.length} models × ${mmlu.sampleKeys.length} items; reference = full-data mean score` },
    { name: 'mmlu_pro_complete', mat: block, reference: meanScores(block, null), what: `MMLU-Pro complete block, ${block.models.length} models × ${block.sampleKeys.length} items (answered by every model); reference = full-data mean score` },
  ];
  const syn = syntheticBinary({ models: 50, samples: 2000, seed: 0 });
  pools.push({ name: 'synthetic', mat: syn.matrix, reference: syn.truth, what: 'synthetic 2PL, 50 models × 2,000 items, seed 0; reference = true abilities' });
  pools.push(
    { name: 'mmlu_pro_heldout', mat: mmlu, reference: 'held-out-half', what: `MMLU-Pro, ${mmlu.models.length} models × ${mmlu.sampleKeys.length} items; reference = **held-out half** (methods fit ${Math.ceil(mmlu.sampleKeys.length / 2)} items, reference = mean on the other half's items every model answered; new split per repetition)` },
    { name: 'mmlu_pro_complete_heldout', mat: block, reference: 'held-out-half', what: `MMLU-Pro complete block, ${block.models.length} models × ${block.sampleKeys.length} items; reference = **held-out half** (methods fit ${Math.ceil(block.sampleKeys.length / 2)} items, reference = mean on the other ${Math.floor(block.sampleKeys.length / 2)}; new split per repetition)` },
  );
  md.push('## pool validate: Kendall τ vs fraction of measurements removed', '',
    `PL − mean: paired difference τ(PL) − τ(mean) over the same ${reps} drop masks, mean ± its standard error (the Monte-Carlo error); ≥ = PL ahead or equal, tie = behind by less than 2 SE, behind = by more.`, '');
  const validate: Record<string, unknown> = {};
  const chosen = values.pools ? new Set(values.pools.split(',')) : null;
  for (const p of pools) {
    if (chosen && !chosen.has(p.name)) continue;
    const t = performance.now();
    const rows = missingDataCurve(p.mat, p.reference, { fractions: FRACTIONS, reps, seed: 0 });
    validate[p.name] = { data: p.what, ms: Math.round(performance.now() - t), rows };
    curveTable(p.what, rows);
    console.log(`validate ${p.name}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  out.validate = validate;
}

if (values.only !== 'validate') {
  const syn = syntheticBinary({ models: 60, samples: 4000, seed: 3, categories: 5 }).matrix;
  const pools = [
    { name: 'mmlu_pro', mat: mmlu, what: `MMLU-Pro, ${mmlu.models.length} models × ${mmlu.sampleKeys.length} items (14 categories)` },
    { name: 'synthetic', mat: syn, what: 'synthetic 2PL, 60 models × 4,000 items (5 categories), seed 3' },
  ];
  const subset: Record<string, unknown> = {};
  md.push('## pool subset: τ of the held-out models vs budget', '', `τ new models, mean over ${subsetReps} splits (worst); Δ = paired difference to random ± standard error; p = one-sided paired t, Holm-adjusted over the pool's ${(SUBSET_STRATEGIES.length - 1) * BUDGETS.length} strategy × budget rows; ✓ = kept (adjusted p ≤ 0.05)`, '');
  for (const p of pools) {
    const t = performance.now();
    const rows: SubsetRow[] = cheaperEvaluation(p.mat, { budgets: BUDGETS, reps: subsetReps, seed: 0, strategies: [...SUBSET_STRATEGIES] });
    subset[p.name] = { data: `${p.what}; τ of the held-out half of the models (b items vs all items)`, ms: Math.round(performance.now() - t), rows };
    const strategies = [...new Set(rows.map((r) => r.strategy))];
    md.push(`### ${p.what}`, '', `| budget | ${strategies.join(' | ')} |`, `|---|${strategies.map(() => '---|').join('')}`);
    for (const b of BUDGETS) {
      md.push(`| ${b} | ${strategies.map((s) => {
        const r = rows.find((x) => x.budget === b && x.strategy === s)!;
        const vs = r.vs_random === null ? '' : ` Δ ${r.vs_random >= 0 ? '+' : ''}${f3(r.vs_random)} ± ${f3(r.vs_random_se!)}, p ${r.p_vs_random_adjusted! < 0.001 ? '< 0.001' : f3(r.p_vs_random_adjusted!)}${r.beats_random ? ' ✓' : ''}`;
        return `${f3(r.tau_new)} (${f3(r.tau_new_min)})${vs}`;
      }).join(' | ')} |`);
    }
    md.push('');
    console.log(`subset ${p.name}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  out.subset = subset;
}

out.total_ms = Math.round(performance.now() - t0);
const dir = new URL('./out/', import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, `validate-subset-${label}.json`), JSON.stringify(out, null, 1) + '\n');
writeFileSync(join(dir, `validate-subset-${label}.md`), md.join('\n'));
console.log(md.join('\n'));
