/**
 * `assay calibration <run>`: calibration of the confidence a model states (HLE response format
 * `Confidence: NN%`) against one grader's verdicts: RMS calibration error (equal-mass bins), ECE, Brier score
 * with bootstrap CIs, the HLE reference's figure beside ours, and reliability-diagram bins.
 *
 * Confidence comes from the judge's structured verdict when the grader is a judge that recorded one
 * (`--confidence-from judge`), else from the response text (`--confidence-from response`); `auto` (default) takes
 * the judge's when present, else the response's. The analysis is `calibrationOfRun` (src/analyses/calibration.ts):
 * failed attempts and grader errors are left out and counted; grader timeouts count as wrong.
 */
import type { Command } from 'commander';
import { calibrationOfRun, type ConfidenceSource } from '../../analyses/calibration.ts';
import { InputError } from '../../core/errors.ts';
import { table } from '../../report/text.ts';
import type { CalibrationReport, ReliabilityBin } from '../../stats/calibration.ts';
import { int, MAX_REPLICATES, num, numIn, openPool, printJson } from '../common.ts';

const pct = (x: number | null | undefined, d = 1) => (x == null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(d)}`);

/** Plain-text rendering of a calibration report (`excluded`: attempts left out; `timeouts`: grader timeouts counted as wrong). */
export function formatCalibration(r: CalibrationReport, header: string, excluded: number, timeouts = 0): string {
  const ci = (w: { value: number; ci95: { lo: number; hi: number } }) => `${pct(w.value)}  [${pct(w.ci95.lo)}, ${pct(w.ci95.hi)}]`;
  const lines = [header];
  lines.push(`items ${r.n} (missing confidence: ${r.missing}${r.options.missingConfidence === null ? ', excluded' : `, taken as ${pct(r.options.missingConfidence, 0)}%`}; not graded or failed: ${excluded}${timeouts ? `; grader timeouts counted as wrong: ${timeouts}` : ''})`);
  if (r.n === 0) lines.push('no stated confidences: nothing to calibrate (--missing-confidence 100 assumes one, as the HLE reference does)');
  else lines.push(`accuracy ${pct(r.accuracy)}%   mean stated confidence ${pct(r.mean_confidence)}%`);
  lines.push('');
  lines.push(table(['metric (percent)', 'value  [95% CI]', 'definition'], [
    ['RMS calibration error', ci(r.rms_calibration_error), `equal-mass bins of ${r.options.binSize}, every bin counted`],
    ['  hle-compat (reference)', r.hle_compat.value === null ? `n/a: ${r.hle_compat.error}` : `${pct(r.hle_compat.value, 2)}  (printed as ${r.hle_compat.reported?.toFixed(0)})`, `calib_err: last bin (${r.hle_compat.skipped_items} items) skipped; missing confidence = 100`],
    ['ECE', ci(r.ece), `${r.options.eceBins} equal-width bins`],
    ['Brier score', ci(r.brier), 'mean (confidence − correct)²'],
  ]));
  lines.push(`bootstrap: ${r.bootstrap.replicates} replicates over ${r.bootstrap.clusters} clusters, seed ${r.bootstrap.seed}`);
  const bins = (b: ReliabilityBin[]) => b.map((x) => [`${pct(x.lo, 0)}–${pct(x.hi, 0)}`, x.n, pct(x.mean_confidence), pct(x.accuracy), pct(x.gap)]);
  lines.push('', 'reliability (equal-mass bins)');
  lines.push(table(['confidence', 'n', 'mean conf', 'accuracy', 'gap'], bins(r.reliability.equal_mass)));
  return lines.join('\n');
}

/** Register `assay calibration`. */
export function register(program: Command): void {
  program
    .command('calibration <run>')
    .description('calibration of stated confidence: RMS calibration error (equal-mass bins), ECE, Brier with bootstrap CIs; HLE reference figure beside ours')
    .option('--scorer <name>', "which stored grader's verdicts (default: the run's judge, else its first scorer)")
    .option('--confidence-from <src>', 'auto | judge | response', 'auto')
    .option('--bin-size <n>', 'items per equal-mass bin', int('--bin-size', 1), 100)
    .option('--ece-bins <n>', 'equal-width ECE bins', int('--ece-bins', 1), 10)
    .option('--missing-confidence <pct>', 'confidence (0–100) assumed when none was stated (default: exclude; the HLE reference uses 100)', numIn('--missing-confidence', 0, 100))
    .option('--replicates <n>', 'bootstrap replicates', int('--replicates', 0, MAX_REPLICATES), 1000)
    .option('--seed <n>', 'bootstrap seed', int('--seed', 0), 0)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (runRef: string, o) => {
      if (!['auto', 'judge', 'response'].includes(o.confidenceFrom)) throw new InputError(`--confidence-from must be auto, judge or response, got "${o.confidenceFrom}"`);
      if (o.missingConfidence !== undefined && !(o.missingConfidence >= 0 && o.missingConfidence <= 100)) throw new InputError('--missing-confidence must be in [0, 100]');
      const pool = await openPool(o.pool, { readonly: true });
      try {
        const r = await calibrationOfRun(pool, runRef, {
          scorer: o.scorer, confidenceFrom: o.confidenceFrom as ConfidenceSource, binSize: o.binSize, eceBins: o.eceBins, replicates: o.replicates, seed: o.seed,
          missingConfidence: o.missingConfidence === undefined ? null : o.missingConfidence / 100,
        });
        if (o.json) return printJson(r);
        process.stdout.write(formatCalibration(r.calibration, `${r.dataset} × ${r.model}\nrun ${r.run_id}  scorer ${r.scorer}  confidence from ${r.confidence_from}`, r.excluded, r.timeouts) + '\n');
      } finally {
        await pool.close();
      }
    });
}
