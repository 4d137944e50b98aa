/**
 * The seeded synthetic pool of the scaling benchmarks: binary measurements from a two-parameter logistic
 * item-response model (Birnbaum 1968), P(model m right on item s) = σ(a_s (θ_m − b_s)), θ_m ~ N(0, 1),
 * b_s ~ N(0, 1.5²), a_s = exp(N(0, 0.3²)), each (model, item) cell kept with probability 1 − `missing`
 * (the generator of bench/aggregate.ts, written to a file instead of a ChoiceBuilder). Not a test.
 *
 *   node --import tsx bench/synthetic-pool.ts <out.csv|out.jsonl> [--models 100 --items 100000 --missing 0.9 --seed 0]
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createRng } from '../src/core/rng.ts';
import { normal } from '../src/aggregate/validate.ts';

export interface SyntheticPoolOptions {
  models: number;
  items: number;
  /** Share of (model, item) cells left out, in [0, 1). */
  missing: number;
  seed: number;
}

/**
 * Write the pool as the generic CSV (`model,sample_id,value,kind`) or, for a `.jsonl` name, one JSON object per line
 * with the same fields. Returns the true abilities (model order) and the number of measurements written.
 */
export async function writeSyntheticPool(file: string, o: SyntheticPoolOptions): Promise<{ truth: Float64Array; measurements: number }> {
  const rng = createRng(o.seed);
  const truth = Float64Array.from({ length: o.models }, () => normal(rng));
  const jsonl = file.endsWith('.jsonl');
  const out = createWriteStream(file);
  let buf = jsonl ? '' : 'model,sample_id,value,kind\n';
  let n = 0;
  for (let s = 0; s < o.items; s++) {
    const b = 1.5 * normal(rng), a = Math.exp(0.3 * normal(rng));
    for (let m = 0; m < o.models; m++) {
      if (rng.float() < o.missing) continue;
      const v = rng.float() < 1 / (1 + Math.exp(-a * (truth[m]! - b))) ? 1 : 0;
      buf += jsonl ? `{"model":"model-${m}","sample_id":"s${s}","value":${v},"kind":"binary"}\n` : `model-${m},s${s},${v},binary\n`;
      n++;
    }
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  return { truth, measurements: n };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { models: { type: 'string', default: '100' }, items: { type: 'string', default: '100000' }, missing: { type: 'string', default: '0.9' }, seed: { type: 'string', default: '0' } } });
  const file = positionals[0];
  if (!file) throw new Error('usage: synthetic-pool.ts <out.csv|out.jsonl> [--models --items --missing --seed]');
  const r = await writeSyntheticPool(file, { models: Number(values.models), items: Number(values.items), missing: Number(values.missing), seed: Number(values.seed) });
  console.log(`${file}: ${r.measurements} measurements`);
}
