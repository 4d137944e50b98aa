/**
 * Plain-text rendering of a checkpoint stream (`assay stream`): the matrix checkpoints × tasks with intervals, the
 * per-checkpoint trajectories (accumulation, zero-shot accuracy, retention, geometric mean, forgetting, backward and
 * forward transfer so far) and GEM's ACC / BWT / FWT, every figure with its 95% interval and the method that made
 * it; an interval that is undefined is marked `[—]` and its reason listed below the tables.
 */
import type { StreamTable } from '../analyses/stream.ts';
import type { Estimate } from '../stats/continual.ts';
import { pct, table } from './text.ts';

const num = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);

/** An estimate as `73.1% [60.2%, 84.0%]`, `73.1% [—]` when its interval is undefined, or `n/a`. */
export function formatEstimate(e: Estimate | undefined, fmt: (x: number) => string = pct): string {
  if (!e || e.value === null) return 'n/a';
  return e.ci95 ? `${fmt(e.value)} [${fmt(e.ci95.lo)}, ${fmt(e.ci95.hi)}]` : `${fmt(e.value)} [—]`;
}

/** The per-checkpoint series of a stream report, with their labels and formats (shared by the text and HTML reports). */
export const STREAM_SERIES = [
  { key: 'accumulation', label: 'accumulation', fmt: pct },
  { key: 'zero_shot', label: 'zero-shot', fmt: pct },
  { key: 'retention', label: 'retention (÷ base)', fmt: (x: number) => x.toFixed(3) },
  { key: 'geometric_mean', label: 'geometric mean', fmt: pct },
  { key: 'forgetting', label: 'forgetting', fmt: num },
  { key: 'backward_transfer', label: 'BWT so far', fmt: num },
  { key: 'forward_transfer', label: 'FWT so far', fmt: num },
] as const;

/** Why intervals are undefined (or exact): one line per distinct note, naming the figures it applies to. */
export function intervalNotes(s: StreamTable): string[] {
  const r = s.report;
  const by = new Map<string, string[]>();
  const add = (what: string, e: Estimate | undefined) => {
    if (!e?.note || e.value === null) return;
    if (!by.has(e.note)) by.set(e.note, []);
    by.get(e.note)!.push(what);
  };
  for (const x of STREAM_SERIES) r[x.key].forEach((e, c) => add(`${x.label} @ ${s.checkpoints[c]!.name}`, e));
  add('ACC', r.acc);
  add('BWT', r.bwt);
  add('FWT', r.fwt);
  return [...by].map(([note, what]) => `${what.join(', ')}: ${note}`);
}

/** The text block of a stream: matrix, trajectories, summary, method. */
export function formatStream(s: StreamTable): string {
  const r = s.report;
  const head = s.columns.map((c) => `${c.task.replace(/@[^@]*$/, '')} (${c.role.role === 'adaptation' ? `adapt @${c.role.introduced}` : 'zero-shot'}, n=${c.samples})`);
  const out: string[] = [];
  out.push(`stream ${s.stream_id}${s.name ? ` (${s.name})` : ''}: ${s.status}; ${s.checkpoints.length} checkpoints × ${s.columns.length} tasks; row 0 is the base`);
  out.push('');
  out.push('accuracy, 95% CI');
  out.push(table(['#', 'checkpoint', ...head], s.checkpoints.map((c, i) => [i, c.name, ...r.matrix[i]!.map((e) => formatEstimate(e))])));
  out.push('');
  // Two tables, so that a row fits a terminal: what the model knows, then what changed since it was learnt.
  for (const part of [STREAM_SERIES.slice(0, 4), STREAM_SERIES.slice(4)]) {
    out.push(table(['#', 'checkpoint', ...part.map((x) => x.label)], s.checkpoints.map((c, i) => [i, c.name, ...part.map((x) => formatEstimate(r[x.key][i], x.fmt as (v: number) => string))])));
    out.push('');
  }
  out.pop();
  out.push('');
  out.push(`ACC ${formatEstimate(r.acc)}   BWT ${formatEstimate(r.bwt, num)}   FWT ${formatEstimate(r.fwt, num)}   (at the last checkpoint)`);
  for (const n of intervalNotes(s)) out.push(`note: ${n}`);
  out.push(`intervals: ${r.method}`);
  out.push('accumulation, zero-shot: FoMo-in-Flux (Roth et al. 2024); forgetting: Chaudhry et al. 2018; ACC/BWT/FWT: GEM (Lopez-Paz & Ranzato 2017)');
  return out.join('\n');
}
