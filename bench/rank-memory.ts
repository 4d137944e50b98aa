/**
 * Where the memory of `assay rank` goes, phase by phase (not a test): reads a pool (e.g. one made by
 * bench/synthetic-pool.ts + `assay import csv`) into the choice accumulator, builds the choice data and ranks it,
 * printing after each phase the resident set size, its peak so far (VmHWM), the JavaScript heap and the ArrayBuffers,
 * and the bytes the choice data holds per measurement. Peak RSS of the whole command: `/usr/bin/time -v assay rank`.
 *
 *   node --import tsx bench/rank-memory.ts <pool.sqlite> [--replicates 100]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openPool } from '../src/store/open.ts';
import { rankFromPool } from '../src/analyses/pool-ranking.ts';
import { ChoiceAccumulator, type ChoiceData } from '../src/aggregate/choices.ts';
import { rankModelsAsync } from '../src/aggregate/rank.ts';
import { collectGarbage } from '../src/core/gc.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { replicates: { type: 'string', default: '100' }, whole: { type: 'boolean', default: false } } });
const file = positionals[0];
if (!file) throw new Error('usage: rank-memory.ts <pool.sqlite> [--replicates 100] [--whole]');
const B = Number(values.replicates);
const t0 = performance.now();
const mb = (x: number) => `${(x / 1e6).toFixed(0)} MB`;
function phase(name: string): void {
  const m = process.memoryUsage();
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024;
  console.log(`${((performance.now() - t0) / 1000).toFixed(1).padStart(7)} s  ${name.padEnd(34)} rss ${mb(m.rss).padStart(7)}  peak ${mb(hwm).padStart(7)}  heap ${mb(m.heapUsed).padStart(6)}  array buffers ${mb(m.arrayBuffers).padStart(7)}`);
}

const store = await openPool(file, { readonly: true });
phase('pool open');
if (values.whole) {
  // the command's own path (src/analyses/pool-ranking.ts)
  const r = await rankFromPool(store, { replicates: B });
  phase(`ranked ${r.measurements} measurements`);
} else {
  const expected = (await store.sources()).reduce((a, x) => a + x.measurements, 0);
  const acc = new ChoiceAccumulator({ expected });
  for await (const m of store.iteratePoolMeasurements({})) acc.add(m);
  phase(`read ${acc.count} measurements`);
  const d: ChoiceData = acc.build();
  phase('choice data built');
  const bytes = d.clusterPtr.byteLength + d.evWinner.byteLength + d.evSet.byteLength + (d.evWeight?.byteLength ?? 0) + d.setPtr.byteLength + d.setIdx.byteLength;
  console.log(`         choice data: ${d.evWinner.length} events, ${d.setPtr.length - 1} choice sets, ${d.clusters.length} samples; bootstrap arrays ${mb(bytes)} (${(bytes / acc.count).toFixed(2)} bytes per measurement; model indices ${d.setIdx.BYTES_PER_ELEMENT} byte(s), event weights ${d.evWeight ? 'stored' : 'all 1, not stored'})`);
  collectGarbage();
  phase('collected');
  const r = await rankModelsAsync(d, { replicates: B });
  phase(`ranked (${B} replicates, fit ${r.fit.ms.toFixed(0)} ms, bootstrap ${r.fit.bootstrap_ms.toFixed(0)} ms)`);
}
await store.close();
