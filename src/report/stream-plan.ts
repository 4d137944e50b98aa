/**
 * Plain-text plan of a checkpoint stream (`assay stream --plan`): which task is introduced at which checkpoint (and
 * the order that placed it, with its seed), the held-out tasks, and the stratified subset drawn of each task — what a
 * training schedule needs before any checkpoint exists, and what the stream records.
 */
import type { ResolvedStream } from '../runner/stream.ts';
import { streamColumnId } from '../runner/stream.ts';
import { existsSync } from 'node:fs';
import { describeMerge } from './stream-html.ts';
import { table } from './text.ts';

/** The text block of a resolved stream's plan. */
export function formatStreamPlan(s: ResolvedStream): string {
  const out: string[] = [];
  out.push(`stream${s.name ? ` ${s.name}` : ''}: ${s.checkpoints.length} checkpoints × ${s.tasks.length} task columns; row 0 is the base`);
  if (s.order) {
    const o = s.order.spec as Record<string, unknown>;
    out.push(`order: ${Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(', ')}: ${s.order.order.join(' → ')}`);
    const d = s.order.difficulty;
    if (d) out.push(`difficulty measured at ${d.checkpoint} (${d.model}): ${d.tasks.map((t) => `${t.task} error ${t.error_rate.toFixed(3)} (run ${t.run_id.slice(0, 12)}, ${t.samples} samples)`).join('; ')}`);
  }
  out.push('');
  const merged = s.checkpoints.some((c) => c.merge);
  out.push(table(['#', 'checkpoint', 'model', 'introduces', ...(merged ? ['merged from'] : [])], s.checkpoints.map((c, i) => [
    i, c.name, c.model,
    s.tasks.filter((t) => t.role.role === 'adaptation' && t.role.introduced === i).map(streamColumnId).join(', ') || (i === 0 ? '(base)' : '—'),
    ...(merged ? [c.merge ? `${describeMerge(c.merge as unknown as Record<string, unknown>)} (${existsSync(c.merge.file) ? 'built' : 'built when reached'})` : '—'] : []),
  ])));
  const held = s.tasks.filter((t) => t.role.role === 'zero-shot').map(streamColumnId);
  out.push(`held out (zero-shot): ${held.join(', ') || 'none'}`);
  if (s.subset) {
    out.push('');
    const sp = s.subset.spec;
    out.push(`subset: ${sp.size !== undefined ? `${sp.size} samples` : `${(100 * sp.fraction!).toFixed(1)}% of the samples`} of every task, strata ${sp.difficulty_from ? 'the base checkpoint\'s error rate per sample' : (sp.by ?? '(none)')}, seed ${sp.seed ?? 0}, proportional allocation`);
    const d = s.subset.difficulty;
    if (d) out.push(`  error rates measured at ${d.checkpoint} (${d.model}): ${d.tasks.map((t) => `${t.task} run ${t.run_id.slice(0, 12)}`).join(', ')}`);
    for (const [id, d] of Object.entries(s.subset.draws)) {
      out.push(`  ${id}: ${d.spec.size} of ${d.spec.population}: ${d.strata.map((x) => `${x.key} ${x.drawn}/${x.population}`).join(', ')}`);
    }
  }
  return out.join('\n');
}
