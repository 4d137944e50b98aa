/**
 * `assay plan`: how many samples and epochs to detect a difference δ at power 1 − β, or what CI half-width a
 * design gives; from a pilot run (its variance components) or from assumed rates.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { omega2FromPilot, componentsFromPilot, componentsFromRates, planTable, ratesForDifference, type DesignComponents } from '../../stats/power.ts';
import { alignRuns, clustersOf, loadRunData } from '../../stats/pool-data.ts';
import { decomposeVariance } from '../../stats/variance.ts';
import { table } from '../format.ts';
import { collect, int, num, openPool, printJson } from '../common.ts';

export function register(program: Command): void {
  program
    .command('plan')
    .description('samples × epochs to detect a difference δ at power 1−β, or the CI half-width of a design; from a pilot run or assumed rates')
    .option('--delta <d>', 'difference to detect, in score units (0.03 = 3 points)', num('--delta'))
    .option('--half-width <h>', 'target 95% CI half-width of one run, in score units', num('--half-width'))
    .option('--power <p>', 'power 1 − β', num('--power'), 0.8)
    .option('--alpha <a>', 'two-sided significance level', num('--alpha'), 0.05)
    .option('--pilot <run>', 'estimate variance components from this run')
    .option('--pilot-b <run>', 'second pilot run on the same samples: measure the paired variance ω² directly')
    .option('--scorer <name>', 'scorer of the pilot run(s)')
    .option('--p <rate>', 'assumed accuracy of model A (without a pilot)', num('--p'))
    .option('--icc <rho>', 'assumed intra-class correlation σ²_b/(σ²_b+σ²_w) (without a pilot)', num('--icc'), 0.5)
    .option('--correlation <r>', "assumed correlation of the two models' per-sample accuracies", num('--correlation'), 0.5)
    .option('--samples <n>', 'a fixed benchmark size: report epochs needed and what each k gives', int('--samples', 2))
    .option('--epochs <k>', 'epoch counts to tabulate (repeatable)', collect)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      if (o.delta == null && o.halfWidth == null) throw new InputError('give --delta (difference to detect) or --half-width (CI half-width)');
      if (o.delta != null && o.halfWidth != null) throw new InputError('give either --delta or --half-width, not both (they are different plans)');
      if (o.delta != null && !(o.delta > 0 && o.delta < 1)) throw new InputError('--delta must be in (0, 1)');
      if (o.halfWidth != null && !(o.halfWidth > 0 && o.halfWidth < 1)) throw new InputError('--half-width must be in (0, 1)');
      if (!(o.power > 0 && o.power < 1) || !(o.alpha > 0 && o.alpha < 1)) throw new InputError('--power and --alpha must be in (0, 1)');
      if (o.pilot && o.p != null) throw new InputError('give either --pilot (measured variance) or --p (assumed accuracy), not both');
      if (o.pilotB && !o.pilot) throw new InputError('--pilot-b needs --pilot');
      let c: DesignComponents;
      try {
        if (o.pilot) {
          const pool = await openPool(o.pool);
          try {
            const a = await loadRunData(pool, o.pilot, o.scorer);
            const ca = clustersOf(a);
            if (!ca.length) throw new InputError(`pilot run ${a.run.id} has no graded attempt: nothing to estimate the variance from`);
            const va = decomposeVariance(ca, { seed: 0, replicates: 200, perEpoch: a.per_epoch });
            if (o.pilotB) {
              const b = await loadRunData(pool, o.pilotB, a.scorer);
              if (b.run.id === a.run.id) throw new InputError('--pilot and --pilot-b are the same run: a paired pilot needs two different runs');
              const cb = clustersOf(b);
              if (!cb.length) throw new InputError(`pilot run ${b.run.id} has no graded attempt: nothing to estimate the variance from`);
              const vb = decomposeVariance(cb, { seed: 0, replicates: 200, perEpoch: b.per_epoch });
              const al = alignRuns([a, b]);
              if (al.keys.length < 2) throw new InputError(`the two pilot runs share ${al.keys.length} graded sample(s) (matched by content hash); a paired pilot needs at least 2 shared samples`);
              const d = al.clusters[0]!.map((x, i) => mean(x) - mean(al.clusters[1]![i]!));
              const w2 = omega2FromPilot(d, va.within_variance, va.epochs_mean, vb.within_variance, vb.epochs_mean);
              c = componentsFromPilot(va, { b: vb, omega2: w2, label: `${a.run.id.slice(0, 8)} + ${b.run.id.slice(0, 8)}` });
            } else c = componentsFromPilot(va, { correlation: o.correlation, label: a.run.id.slice(0, 8) });
          } finally {
            await pool.close();
          }
        } else {
          if (o.p == null) throw new InputError('give --pilot <run> or an assumed accuracy --p');
          // Never clip B's rate to [0, 1]: that would plan for a smaller difference than the one asked for.
          const { pA, pB } = o.delta != null ? ratesForDifference(o.p, o.delta) : { pA: o.p, pB: o.p };
          c = componentsFromRates(pA, pB, { icc: o.icc, correlation: o.correlation });
        }
      } catch (e) {
        if (e instanceof RangeError) throw new InputError(e.message);
        throw e;
      }
      const ks = (o.epochs as string[] | undefined)?.map((k) => {
        const n = Number(k);
        if (!Number.isInteger(n) || n < 1) throw new InputError('--epochs must be positive integers');
        return n;
      });
      let plan: ReturnType<typeof planTable>;
      try {
        plan = planTable(c, { delta: o.delta, halfWidth: o.halfWidth, n: o.samples, ks, alpha: o.alpha, power: o.power });
      } catch (e) {
        if (e instanceof RangeError) throw new InputError(e.message);
        throw e;
      }
      if (o.json) return printJson({ components: c, delta: o.delta ?? null, half_width: o.halfWidth ?? null, alpha: o.alpha, power: o.power, samples: o.samples ?? null, ...plan });
      const target = o.delta != null ? `detect a difference of ${(100 * o.delta).toFixed(1)} pts with power ${o.power} at α ${o.alpha} (two-sided, paired on samples)` : `a ${+(100 * (1 - o.alpha)).toFixed(2)}% CI half-width of ${(100 * o.halfWidth).toFixed(1)} pts`;
      const lines = [`plan: ${target}`, `variance components — ${c.source}`, `  ω² (paired difference between samples) ${c.omega2.toFixed(4)}, σ²_w A ${c.withinA.toFixed(4)}, B ${c.withinB.toFixed(4)}, σ²_b ${c.between.toFixed(4)}`, ...(c.warning ? [`WARNING: ${c.warning}`] : []), ''];
      const headers = ['epochs k', 'samples needed', 'attempts per model'];
      if (o.samples) headers.push(`MDE at n=${o.samples} (pts)`, `CI half-width at n=${o.samples} (pts)`);
      lines.push(table(headers, plan.rows.map((r) => [r.epochs, r.samples, r.attempts, ...(o.samples ? [(100 * r.mde_at_n!).toFixed(2), (100 * r.half_width_at_n!).toFixed(2)] : [])])));
      if (o.samples) {
        lines.push('');
        lines.push(plan.epochs_at_n == null
          ? `with ${o.samples} samples no number of epochs reaches the target: the question-sampling floor alone gives an MDE of ${(100 * plan.floor_mde_at_n!).toFixed(2)} pts; more samples are needed.`
          : `with ${o.samples} samples: ${plan.epochs_at_n} epoch(s) per sample reach the target (the question-sampling floor is an MDE of ${(100 * plan.floor_mde_at_n!).toFixed(2)} pts).`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}

function mean(x: number[]): number {
  return x.reduce((s, v) => s + v, 0) / x.length;
}
