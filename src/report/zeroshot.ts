/**
 * Plain-text rendering of a zero-shot evaluation (`assay zeroshot`): per column of the task, each figure with its 95%
 * interval and the method that made it, the run id, and the embedding traffic.
 */
import type { ZeroShotResult } from '../runner/zeroshot.ts';
import { pct, table } from './text.ts';

/** The text block of one task × model: a table of figures per column, then the methods and the traffic. */
export function formatZeroShot(r: ZeroShotResult): string {
  const out: string[] = [];
  out.push(`${r.task} × ${r.model}: zero-shot ${r.type}, ${r.items} items${r.resumed ? ' (every run already in the pool: nothing asked)' : ''}`);
  const methods = new Set<string>();
  for (const c of r.columns) {
    out.push('');
    out.push(`${c.name} (run ${c.run_id})`);
    out.push(table(['figure', 'value, 95% CI', 'n'], Object.entries(c.figures).map(([name, f]) => {
      methods.add(f.method);
      return [name, `${pct(f.value)} [${pct(f.ci95.lo)}, ${pct(f.ci95.hi)}]`, f.n];
    })));
  }
  out.push('');
  for (const m of methods) out.push(`interval: ${m}`);
  const e = r.embeddings;
  out.push(`embeddings: ${e.requests} requests, ${e.sent} inputs sent, ${e.cached} from the in-memory cache${e.dims ? `, ${e.dims} dimensions` : ''}${e.reported_model_ids.length ? `; server model ${e.reported_model_ids.join(', ')}` : ''}`);
  return out.join('\n');
}
