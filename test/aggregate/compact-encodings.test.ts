/**
 * The compact encodings of the choice data (src/aggregate/choices.ts): indices in 1, 2 or 4 bytes (`GrowIndex`),
 * measurement values as bits while they are 0/1 (`Values`), sample keys interned in typed arrays (`KeyTable`), and
 * unit event weights not stored. Each must give back exactly what was put in, and a ranking must not depend on the
 * width the indices were stored in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChoiceAccumulator, ChoiceBuilder, GrowIndex, KeyTable, Values, type ChoiceData } from '../../src/aggregate/choices.ts';
import { rankModels } from '../../src/aggregate/rank.ts';
import { createRng } from '../../src/core/rng.ts';
import type { PoolMeasurement } from '../../src/store/types.ts';

test('GrowIndex widens from 1 to 2 to 4 bytes at the first index that needs it, keeping every index', () => {
  const g = new GrowIndex(4);
  const put: number[] = [];
  for (let i = 0; i < 256; i++) put.push(i);
  for (const v of put) g.push(v);
  assert.ok(g.view() instanceof Uint8Array);
  put.push(256, 3, 65535);
  for (const v of put.slice(256)) g.push(v);
  assert.ok(g.view() instanceof Uint16Array);
  put.push(65536, 7, 2 ** 31 - 1);
  for (const v of put.slice(259)) g.push(v);
  assert.ok(g.view() instanceof Int32Array);
  assert.deepEqual(Array.from(g.view()), put);
});

test('Values holds 0/1 as bits, then float32, then float64, reading back every value added (−0 included)', () => {
  const v = new Values(16);
  const put = [1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1];
  for (const x of put) v.push(x);
  assert.equal(v.bytes, 128); // 1,024 bits: the minimum capacity, one bit each
  // set (as the in-place sort permutes): every bit flipped
  for (let i = 0; i < put.length; i++) v.set(i, 1 - v.get(i));
  for (let i = 0; i < put.length; i++) put[i] = 1 - put[i]!;
  assert.deepEqual(Array.from({ length: put.length }, (_, i) => v.get(i)), put);
  for (const x of [-0, 0.5, 3]) put.push(x), v.push(x);
  assert.ok(Object.is(v.get(put.length - 3), -0));
  for (const x of [0.1, 1e300]) put.push(x), v.push(x);
  assert.deepEqual(Array.from({ length: put.length }, (_, i) => v.get(i)), put);
});

test('KeyTable numbers keys in order of first arrival and gives each back (one-byte and wider characters)', () => {
  const t = new KeyTable();
  const keys = Array.from({ length: 5000 }, (_, i) => `pool/s${i}`);
  keys.push('', 'ünïcödé', '数据/1', 'x'.repeat(10000));
  const ids = keys.map((k) => t.intern(k));
  assert.deepEqual(ids, keys.map((_, i) => i));
  assert.deepEqual(keys.map((k) => t.intern(k)), ids); // again: the same numbers
  assert.equal(t.intern('pool/s5000'), keys.length);
  t.freeze();
  assert.equal(t.length, keys.length + 1);
  assert.deepEqual([...t].slice(0, keys.length), keys);
  assert.throws(() => t.get(keys.length + 1), RangeError);
  assert.throws(() => t.intern('new'), /freeze/);
});

/** Binary 2PL-like measurements of `models` models (seeded). */
function binary(models: number, samples: number, missing: number, seed: number): PoolMeasurement[] {
  const rng = createRng(seed);
  const theta = Array.from({ length: models }, () => 2 * rng.float() - 1);
  const ms: PoolMeasurement[] = [];
  for (let m = 0; m < models; m++) {
    for (let s = 0; s < samples; s++) {
      if (rng.float() < missing) continue;
      const b = Math.sin(s) * 1.5;
      const v = rng.float() < 1 / (1 + Math.exp(-(theta[m]! - b))) ? 1 : 0;
      ms.push({ source: 'syn', slice: '', sample_key: `syn/${s}`, model: `m${m}`, opponent: '', rep: 0, kind: 'binary', value: v, direction: 1, tie_tolerance: 0, weight: 1 });
    }
  }
  return ms;
}

/** The same choice data with every index array as Int32Array and every weight stored (the encoding before). */
function widened(d: ChoiceData): ChoiceData {
  const nE = d.evWinner.length;
  return { ...d, evWinner: Int32Array.from(d.evWinner), evSet: Int32Array.from(d.evSet), setIdx: Int32Array.from(d.setIdx), evWeight: d.evWeight ?? new Float64Array(nE).fill(1) };
}

test('more than 256 models: model indices switch to 2 bytes, and the ranking equals the one from 4-byte indices', () => {
  const acc = new ChoiceAccumulator({ pairwiseMatrix: false });
  for (const m of binary(300, 60, 0.8, 5)) acc.add(m);
  const d = acc.build();
  assert.equal(d.models.length, 300);
  assert.ok(d.evWinner instanceof Uint16Array && d.setIdx instanceof Uint16Array, 'model indices in 2 bytes');
  assert.equal(d.evWeight, null, 'unit weights are not stored');
  const opts = { replicates: 30, seed: 3, keepReplicates: true, elo: true };
  const strip = (r: ReturnType<typeof rankModels>) => ({ ...r, fit: { ...r.fit, ms: 0, bootstrap_ms: 0 } });
  assert.deepEqual(strip(rankModels(d, opts)), strip(rankModels(widened(d), opts)));
});

test('at most 256 models: one byte per model index; weights other than 1 are stored; same ranking as 4-byte indices', () => {
  const ms = binary(12, 200, 0.3, 8);
  // a battle of weight 3 makes the weights be stored (the earlier events' weights 1)
  ms.push({ source: 'arena', slice: '', sample_key: 'b/1', model: 'm1', opponent: 'm2', rep: 0, kind: 'battle', value: 1, direction: 1, tie_tolerance: 0, weight: 3 });
  const acc = new ChoiceAccumulator();
  for (const m of ms) acc.add(m);
  const d = acc.build();
  assert.ok(d.evWinner instanceof Uint8Array && d.setIdx instanceof Uint8Array);
  assert.ok(d.evWeight instanceof Float64Array);
  assert.deepEqual([...new Set(d.evWeight)].sort(), [1, 3]);
  const opts = { replicates: 40, seed: 1, keepReplicates: true };
  const strip = (r: ReturnType<typeof rankModels>) => ({ ...r, fit: { ...r.fit, ms: 0, bootstrap_ms: 0 } });
  assert.deepEqual(strip(rankModels(d, opts)), strip(rankModels(widened(d), opts)));
});

test('sampleKeys: false keeps only the number of samples, and the same choice data otherwise', () => {
  const ms = binary(5, 40, 0.2, 2);
  const kept = new ChoiceAccumulator(), dropped = new ChoiceAccumulator({ sampleKeys: false });
  for (const m of ms) kept.add(m), dropped.add(m);
  const a = kept.build(), b = dropped.build();
  assert.equal(b.clusters.length, 40);
  assert.equal(a.clusters.get(7), 'syn/7');
  assert.throws(() => b.clusters.get(7), /not kept/);
  const { clusters: _a, ...restA } = a, { clusters: _b, ...restB } = b;
  assert.deepEqual(restB, restA);
});

test('events added out of cluster order are sorted by cluster (stable), as when added in order', () => {
  // pairs (cluster, a, b, value, weight): cluster 0's second pair arrives after cluster 1's
  const pairs: [number, number, number, number, number][] = [[0, 0, 1, 1, 1], [1, 1, 2, 0.5, 2], [0, 2, 0, 0.25, 1], [2, 0, 2, 1, 1], [1, 0, 1, 0, 3]];
  const make = (order: number[]) => {
    const b = new ChoiceBuilder('half');
    for (const k of ['a', 'b', 'c']) b.model(k);
    for (const k of ['q0', 'q1', 'q2']) b.cluster(k);
    for (const i of order) b.addPair(...pairs[i]!);
    return b.build();
  };
  const shuffled = make([0, 1, 2, 3, 4]), sorted = make([0, 2, 1, 4, 3]);
  assert.deepEqual(Array.from(shuffled.clusterPtr), [0, 3, 6, 7]); // a value of 1 or 0 gives the loser no event
  // set numbers follow first arrival, so compare the events themselves: (cluster, winner, choice set, weight)
  const events = (d: ChoiceData) => {
    const out: string[] = [];
    for (let c = 0; c + 1 < d.clusterPtr.length; c++) {
      for (let e = d.clusterPtr[c]!; e < d.clusterPtr[c + 1]!; e++) {
        const s = d.evSet[e]!, set = Array.from(d.setIdx.subarray(d.setPtr[s]!, d.setPtr[s + 1]!));
        out.push(`${c}:${d.evWinner[e]}:${set.join(',')}:${d.evWeight ? d.evWeight[e] : 1}`);
      }
    }
    return out;
  };
  assert.deepEqual(events(shuffled), events(sorted));
  assert.deepEqual(events(shuffled), ['0:0:0,1:1', '0:2:0,2:0.25', '0:0:0,2:0.75', '1:1:1,2:1', '1:2:1,2:1', '1:1:0,1:3', '2:0:0,2:1']);
});

test('KeyTable: keys crafted to share one FNV-1a hash (from its published start) do not share one chain: the start is random per table', () => {
  // For each key a 3-character suffix is searched so that the key's FNV-1a state (start 0x811c9dc5 ^ length, as this
  // table hashed before) is one fixed value: under that fixed start every key would probe one chain (quadratic time).
  const P = 0x01000193;
  let inv = P;
  for (let i = 0; i < 5; i++) inv = Math.imul(inv, 2 - Math.imul(P, inv)) >>> 0;
  const target = 0x12345678, U = Math.imul(target, inv) >>> 0;
  const fnv = (s: string) => {
    let h = 0x811c9dc5 ^ s.length;
    for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), P);
    return h >>> 0;
  };
  const keys: string[] = [];
  for (let i = 0; keys.length < 400; i++) {
    const pre = `d/k${i}`;
    let h = 0x811c9dc5 ^ (pre.length + 3);
    for (let k = 0; k < pre.length; k++) h = Math.imul(h ^ pre.charCodeAt(k), P);
    search: for (let c0 = 0x4e00; c0 < 0x9fff; c0++) {
      const h0 = Math.imul(h ^ c0, P);
      for (let c1 = 0x4e00; c1 < 0x9fff; c1++) {
        const h1 = Math.imul(h0 ^ c1, P) >>> 0;
        if (h1 >>> 16 !== U >>> 16) continue;
        const c2 = (h1 ^ U) & 0xffff;
        if (c2 < 0x3000 || (c2 >= 0xd800 && c2 <= 0xdfff) || c2 >= 0xfff0) continue;
        keys.push(pre + String.fromCharCode(c0, c1, c2));
        break search;
      }
    }
  }
  assert.equal(new Set(keys.map(fnv)).size, 1, 'every key has the one FNV-1a hash');
  const t = new KeyTable();
  keys.forEach((k, i) => assert.equal(t.intern(k), i));
  keys.forEach((k, i) => assert.equal(t.indexOf(k), i));
  assert.ok(t.longestProbe < 40, `longest probe ${t.longestProbe} (400 under the fixed start)`);
  assert.deepEqual([...t], keys);
});
