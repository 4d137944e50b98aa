/**
 * Plain-text rendering of a checkpoint stream (`assay stream`): the matrix checkpoints × tasks with intervals, the
 * per-checkpoint trajectories (accumulation, zero-shot accuracy, retention, geometric mean, forgetting) and GEM's
 * ACC / BWT / FWT, every figure with its 95% interval and the method that made it.
 */
import type { StreamTable } from '../analyses/stream.ts';
import type { Estimate } from '../stats/continual.ts';
import { pct, table } from './text.ts';

const num = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);

/** A proportion estimate as `73.1% [60.2%, 84.0%]` (or `n/a`). */
function est(e: Estimate | undefined, fmt: (x: number) => string = pct): string {
  if (!e || e.value === null) return 'n/a';
  return e.ci95 ? `${fmt(e.value)} [${fmt(e.ci95.lo)}, ${fmt(e.ci95.hi)}]` : fmt(e.value);
}

/** The text block of a stream: matrix, trajectories, summary, method. */
export function formatStream(s: StreamTable): string {
  const r = s.report;
  const head = s.columns.map((c) => `${c.task.replace(/@[^@]*$/, '')} (${c.role.role === 'adaptation' ? `adapt @${c.role.introduced}` : 'zero-shot'}, n=${c.samples})`);
  const out: string[] = [];
  out.push(`stream ${s.stream_id}${s.name ? ` (${s.name})` : ''}: ${s.status}; ${s.checkpoints.length} checkpoints × ${s.columns.length} tasks; row 0 is the base`);
  out.push('');
  out.push('accuracy, 95% CI');
  out.push(table(['#', 'checkpoint', ...head], s.checkpoints.map((c, i) => [i, c.name, ...r.matrix[i]!.map((e) => est(e))])));
  out.push('');
  out.push(table(['#', 'checkpoint', 'accumulation', 'zero-shot', 'retention (÷ base)', 'geometric mean', 'forgetting'],
    s.checkpoints.map((c, i) => [i, c.name, est(r.accumulation[i]), est(r.zero_shot[i]), est(r.retention[i], (x) => x.toFixed(3)), est(r.geometric_mean[i]), est(r.forgetting[i], num)])));
  out.push('');
  out.push(`ACC ${est(r.acc)}   BWT ${est(r.bwt, num)}   FWT ${est(r.fwt, num)}   (at the last checkpoint)`);
  out.push(`intervals: ${r.method}`);
  out.push('accumulation, zero-shot: FoMo-in-Flux (Roth et al. 2024); forgetting: Chaudhry et al. 2018; ACC/BWT/FWT: GEM (Lopez-Paz & Ranzato 2017)');
  return out.join('\n');
}
