/**
 * `assay plan`: how many samples and epochs to detect a difference δ at power 1 − β, or what CI half-width a
 * design gives; from a pilot run (its variance components) or from assumed rates.
 */
import type { Command } from 'commander';
import { planEvaluation, type Plan } from '../../analyses/plan.ts';
import { InputError } from '../../core/errors.ts';
import { table } from '../../report/text.ts';
import { collect, int, MAX_COUNT, MAX_EPOCHS, num, numIn, openPool, printJson } from '../common.ts';

/**
 * Smallest difference (`--delta`) and CI half-width (`--half-width`) planned, in score units (0.1 points): below it
 * the samples needed run to billions (δ = 10⁻⁹ asked for ~10¹⁸), which no benchmark has.
 */
export const MIN_PLAN_DELTA = 0.001;

export function register(program: Command): void {
  program
    .command('plan')
    .description('samples × epochs to detect a difference δ at power 1−β, or the CI half-width of a design; from a pilot run or assumed rates')
    .option('--delta <d>', 'difference to detect, in score units (0.03 = 3 points)', num('--delta'))
    .option('--half-width <h>', 'target 95% CI half-width of one run, in score units', num('--half-width'))
    .option('--power <p>', 'power 1 − β', numIn('--power', 0, 1, { lo: true, hi: true }), 0.8)
    .option('--alpha <a>', 'two-sided significance level', numIn('--alpha', 0, 1, { lo: true, hi: true }), 0.05)
    .option('--pilot <run>', 'estimate variance components from this run')
    .option('--pilot-b <run>', 'second pilot run on the same samples: measure the paired variance ω² directly')
    .option('--scorer <name>', 'scorer of the pilot run(s)')
    .option('--p <rate>', 'assumed accuracy of model A (without a pilot)', numIn('--p', 0, 1))
    .option('--icc <rho>', 'assumed intra-class correlation σ²_b/(σ²_b+σ²_w) (without a pilot)', numIn('--icc', 0, 1), 0.5)
    .option('--correlation <r>', "assumed correlation of the two models' per-sample accuracies", numIn('--correlation', 0, 1), 0.5)
    .option('--samples <n>', 'a fixed benchmark size: report epochs needed and what each k gives', int('--samples', 2, MAX_COUNT))
    .option('--epochs <k>', 'epoch counts to tabulate (repeatable)', collect)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (o) => {
      if (o.delta == null && o.halfWidth == null) throw new InputError('give --delta (difference to detect) or --half-width (CI half-width)');
      if (o.delta != null && o.halfWidth != null) throw new InputError('give either --delta or --half-width, not both (they are different plans)');
      if (o.delta != null && !(o.delta > 0 && o.delta < 1)) throw new InputError('--delta must be in (0, 1)', { field: '--delta' });
      if (o.halfWidth != null && !(o.halfWidth > 0 && o.halfWidth < 1)) throw new InputError('--half-width must be in (0, 1)', { field: '--half-width' });
      if (o.delta != null && o.delta < MIN_PLAN_DELTA) throw new InputError(`${o.delta} is below the smallest planned difference, ${MIN_PLAN_DELTA} (0.1 points); smaller differences need up to billions of samples — plan a larger δ`, { field: '--delta' });
      if (o.halfWidth != null && o.halfWidth < MIN_PLAN_DELTA) throw new InputError(`${o.halfWidth} is below the smallest planned half-width, ${MIN_PLAN_DELTA} (0.1 points); narrower intervals need up to billions of samples — plan a wider interval`, { field: '--half-width' });
      if (!(o.power > 0 && o.power < 1) || !(o.alpha > 0 && o.alpha < 1)) throw new InputError('--power and --alpha must be in (0, 1)');
      if (o.pilot && o.p != null) throw new InputError('give either --pilot (measured variance) or --p (assumed accuracy), not both');
      if (o.pilotB && !o.pilot) throw new InputError('--pilot-b needs --pilot');
      if (!o.pilot && o.p == null) throw new InputError('give --pilot <run> or an assumed accuracy --p');
      const ks = (o.epochs as string[] | undefined)?.map((k) => {
        const n = Number(k);
        if (!Number.isInteger(n) || n < 1 || n > MAX_EPOCHS) throw new InputError(`--epochs must be integers from 1 to ${MAX_EPOCHS}, got "${k}"`, { field: '--epochs' });
        return n;
      });
      const pool = o.pilot ? await openPool(o.pool, { readonly: true }) : null;
      let plan: Plan;
      try {
        plan = await planEvaluation(pool, {
          delta: o.delta, halfWidth: o.halfWidth, power: o.power, alpha: o.alpha, samples: o.samples, epochs: ks,
          pilot: o.pilot, pilotB: o.pilotB, scorer: o.scorer, p: o.p, icc: o.icc, correlation: o.correlation,
        });
      } finally {
        await pool?.close();
      }
      const c = plan.components;
      if (o.json) return printJson(plan);
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

