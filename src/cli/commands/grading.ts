/**
 * `assay calibration <run>`: calibration of the confidence a model states (HLE response format
 * `Confidence: NN%`) against one grader's verdicts: RMS calibration error (equal-mass bins), ECE, Brier score
 * with bootstrap CIs, the HLE reference's figure beside ours, and reliability-diagram bins.
 *
 * Confidence comes from the judge's structured verdict when the grader is a judge that recorded one
 * (`--confidence-from judge`), else from the response text (`--confidence-from response`, `extractConfidence`);
 * `auto` (default) takes the judge's when present, else the response's. Attempts that failed or could not be
 * graded are left out and counted.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { extractConfidence } from '../../scorers/extract.ts';
import { calibrationReport, type CalibrationItem, type CalibrationReport, type ReliabilityBin } from '../../stats/calibration.ts';
import type { Pool } from '../../store/types.ts';
import { int, num, openPool, printJson } from '../common.ts';
import { table } from '../format.ts';

/** Where a confidence came from. */
export type ConfidenceSource = 'auto' | 'judge' | 'response';

/** The judge's recorded confidence (percent) from a measurement explanation, or undefined when it recorded none. */
function judgeConfidence(explanation: string | null): number | null | undefined {
  if (!explanation || !explanation.startsWith('{')) return undefined;
  try {
    const o = JSON.parse(explanation) as { confidence?: unknown };
    if (!('confidence' in o)) return undefined;
    return typeof o.confidence === 'number' ? o.confidence : null;
  } catch {
    return undefined;
  }
}

/**
 * Calibration items of one scorer of a run: one per graded attempt (value 0/1), confidence in [0, 1] or null,
 * clustered by sample.
 * @returns the items and how many attempts were left out (failed or ungraded)
 */
export async function calibrationItems(pool: Pool, runId: string, scorer: string, from: ConfidenceSource = 'auto'): Promise<{ items: CalibrationItem[]; excluded: number }> {
  const items: CalibrationItem[] = [];
  let excluded = 0;
  for await (const a of pool.iterateAttempts(runId, scorer)) {
    const m = a.measurement;
    if (a.status !== 'ok' || !m || m.value === null) {
      excluded++;
      continue;
    }
    let pctConf: number | null | undefined = from === 'response' ? undefined : judgeConfidence(m.explanation);
    // `auto`: the judge's confidence when it recorded one, else the response's (a judge's null is "none found",
    // not "the response states none"); `judge`: the judge's only
    if (pctConf === undefined || (pctConf === null && from === 'auto')) pctConf = from === 'judge' ? (pctConf ?? null) : extractConfidence(a.response ?? '');
    items.push({ confidence: pctConf === null ? null : pctConf / 100, correct: m.value >= 0.5 ? 1 : 0, cluster: a.sample_id });
  }
  return { items, excluded };
}

const pct = (x: number | null | undefined, d = 1) => (x == null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(d)}`);

/** Plain-text rendering of a calibration report. */
export function formatCalibration(r: CalibrationReport, header: string, excluded: number): string {
  const ci = (w: { value: number; ci95: { lo: number; hi: number } }) => `${pct(w.value)}  [${pct(w.ci95.lo)}, ${pct(w.ci95.hi)}]`;
  const lines = [header];
  lines.push(`items ${r.n} (missing confidence: ${r.missing}${r.options.missingConfidence === null ? ', excluded' : `, taken as ${pct(r.options.missingConfidence, 0)}%`}; not graded or failed: ${excluded})`);
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
    .option('--missing-confidence <pct>', 'confidence (0–100) assumed when none was stated (default: exclude; the HLE reference uses 100)', num('--missing-confidence'))
    .option('--replicates <n>', 'bootstrap replicates', int('--replicates', 0), 1000)
    .option('--seed <n>', 'bootstrap seed', int('--seed', 0), 0)
    .option('--pool <file>', 'pool file')
    .option('--json', 'one JSON document on stdout')
    .action(async (runRef: string, o) => {
      if (!['auto', 'judge', 'response'].includes(o.confidenceFrom)) throw new InputError(`--confidence-from must be auto, judge or response, got "${o.confidenceFrom}"`);
      if (o.missingConfidence !== undefined && !(o.missingConfidence >= 0 && o.missingConfidence <= 100)) throw new InputError('--missing-confidence must be in [0, 100]');
      const pool = await openPool(o.pool);
      try {
        const runId = await pool.resolveRunId(runRef);
        const run = (await pool.getRun(runId))!;
        const stored = await pool.scorersOf(runId);
        const scorer: string | undefined = o.scorer ?? stored.find((s) => s === 'judge' || s.startsWith('judge?')) ?? run.spec.scorers[0]?.name ?? stored[0];
        if (!scorer || !stored.includes(scorer)) throw new InputError(`run ${runId} has no measurements for scorer "${scorer ?? ''}"; it has: ${stored.join(', ') || 'none'}`);
        const { items, excluded } = await calibrationItems(pool, runId, scorer, o.confidenceFrom);
        const report = calibrationReport(items, {
          binSize: o.binSize, eceBins: o.eceBins, replicates: o.replicates, seed: o.seed,
          missingConfidence: o.missingConfidence === undefined ? null : o.missingConfidence / 100,
        });
        if (o.json) return printJson({ run_id: runId, scorer, confidence_from: o.confidenceFrom, excluded, calibration: report });
        process.stdout.write(formatCalibration(report, `${run.spec.dataset.ref} × ${run.spec.model}\nrun ${runId}  scorer ${scorer}  confidence from ${o.confidenceFrom}`, excluded) + '\n');
      } finally {
        await pool.close();
      }
    });
}
