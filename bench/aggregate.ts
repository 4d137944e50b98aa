/**
 * Aggregation benchmark (Plackett–Luce fits and bootstrap refits at pool scale), not a test:
 *   1. one Plackett–Luce fit on synthetic binary data, 100 models × 100,000 samples with 90% of the measurements
 *      missing (2PL item-response data, seed 0): build time, MM + Newton fit, LSR + Newton fit;
 *   2. 1,000 bootstrap refits over samples on the MMLU-Pro pool (31 models × 12,032 samples, 371,244 measurements,
 *      imported into a temporary pool first).
 * Prints times and the process's peak resident memory after each phase.
 *
 *   node --import tsx bench/aggregate.ts [--models 100 --samples 100000 --missing 0.9 --replicates 1000]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChoiceBuilder, sufficientStats } from '../src/aggregate/choices.ts';
import { fitPlackettLuce } from '../src/aggregate/plackett-luce.ts';
import { kendallTau } from '../src/aggregate/baselines.ts';
import { normal } from '../src/aggregate/validate.ts';
import { rankFromPool } from '../src/analyses/pool-ranking.ts';
import { importMmluPro } from '../src/importers/index.ts';
import { openPool } from '../src/store/open.ts';
import { createRng } from '../src/core/rng.ts';
import { shared } from '../testkit/shared.ts';

const { values } = parseArgs({ options: { models: { type: 'string', default: '100' }, samples: { type: 'string', default: '100000' }, missing: { type: 'string', default: '0.9' }, replicates: { type: 'string', default: '1000' } } });
const M = Number(values.models), S = Number(values.samples), p = Number(values.missing), B = Number(values.replicates);
const peak = () => `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB peak RSS`;
const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;

console.log(`node ${process.version}, ${process.arch}`);
// 1. synthetic sparse fit
{
  let t = performance.now();
  const rng = createRng(0);
  const truth = Float64Array.from({ length: M }, () => normal(rng));
  const b = new ChoiceBuilder('full', { pairwiseMatrix: false });
  for (let m = 0; m < M; m++) b.model(`model-${m}`);
  const mi: number[] = [], vs: number[] = [];
  let measured = 0;
  for (let s = 0; s < S; s++) {
    const diff = 1.5 * normal(rng), a = Math.exp(0.3 * normal(rng));
    mi.length = 0;
    vs.length = 0;
    for (let m = 0; m < M; m++) {
      if (rng.float() < p) continue;
      mi.push(m);
      vs.push(rng.float() < 1 / (1 + Math.exp(-a * (truth[m]! - diff))) ? 1 : 0);
    }
    measured += mi.length;
    if (mi.length) b.addListwise(b.cluster(`s${s}`), mi, vs);
  }
  const d = b.build();
  console.log(`synthetic: ${M} models × ${S} samples, ${(100 * p).toFixed(0)}% missing → ${measured} measurements, ${d.evWinner.length} choice events, ${d.setPtr.length - 1} distinct choice sets; generate + build ${ms(t)}; ${peak()}`);
  const st = sufficientStats(d, null);
  for (const method of ['mm', 'lsr'] as const) {
    t = performance.now();
    const f = fitPlackettLuce(d.setPtr, d.setIdx, st.wins, st.setMult, { method });
    console.log(`  fit ${method.toUpperCase()} + Newton: ${ms(t)} (${f.iterations} iterations, ${f.newtonSteps} Newton steps, converged ${f.converged}); τ to truth ${kendallTau(f.theta, truth).toFixed(4)}; ${peak()}`);
  }
}
// 2. MMLU-Pro bootstrap
{
  const store = await openPool(join(mkdtempSync(join(tmpdir(), 'assay-bench-')), 'pool.sqlite'), { create: true });
  let t = performance.now();
  const imp = await importMmluPro(store, shared('data/pool/mmlu_pro'));
  console.log(`MMLU-Pro import: ${imp.measurements} measurements in ${ms(t)}; ${peak()}`);
  t = performance.now();
  const r = await rankFromPool(store, { replicates: B, seed: 0 });
  console.log(`MMLU-Pro rank: load + build + fit + ${B} bootstrap refits ${ms(t)} (fit ${r.fit.ms.toFixed(0)} ms, bootstrap ${r.fit.bootstrap_ms.toFixed(0)} ms = ${(r.fit.bootstrap_ms / B).toFixed(2)} ms/refit, ${r.bootstrap.failed_refits} not converged); ${peak()}`);
  await store.close();
}
