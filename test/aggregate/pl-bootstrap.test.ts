/**
 * The fast bootstrap of `rankModels` (chord refits warm-started from the full fit, worker threads) against the
 * plain one it replaced (every replicate refitted by Newton from the full fit, MM + Newton when that fails): same
 * resamples, same point ranking, replicate scores and intervals equal to within the refit tolerance, rank intervals
 * identical; the same result on any number of threads; and the streaming `ChoiceAccumulator` building exactly the
 * choice data of the object-holding conversion it replaced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChoiceAccumulator, ChoiceBuilder, choicesFromMeasurements, sufficientStats, type ChoiceData, type TieConvention } from '../../src/aggregate/choices.ts';
import { fitPlackettLuce } from '../../src/aggregate/plackett-luce.ts';
import { centred, componentIndex, rankModels, rankModelsAsync } from '../../src/aggregate/rank.ts';
import { ClusterCounts } from '../../src/aggregate/pl-bootstrap.ts';
import { quantileSorted } from '../../src/aggregate/baselines.ts';
import { maxTRankIntervals } from '../../src/stats/rank.ts';
import { createRng } from '../../src/core/rng.ts';
import type { PoolMeasurement } from '../../src/store/types.ts';

/** The bootstrap loop as it was: multinomial cluster counts, Newton refit from the full fit, MM + Newton fallback. */
function plainBootstrap(d: ChoiceData, B: number, seed: number, prior = 1): { point: Float64Array; reps: Float64Array[] } {
  const n = d.models.length;
  const full = sufficientStats(d, null);
  const fit = fitPlackettLuce(d.setPtr, d.setIdx, full.wins, full.setMult, { method: 'mm', prior });
  const reps = Array.from({ length: n }, () => new Float64Array(B));
  const rng = createRng(seed);
  const nC = d.clusters.length;
  const counts = new Int32Array(nC);
  for (let b = 0; b < B; b++) {
    counts.fill(0);
    for (let k = 0; k < nC; k++) counts[rng.index(nC)]!++;
    const st = sufficientStats(d, counts);
    let f = fitPlackettLuce(d.setPtr, d.setIdx, st.wins, st.setMult, { prior, init: fit.theta, newtonOnly: true });
    if (!f.converged) f = fitPlackettLuce(d.setPtr, d.setIdx, st.wins, st.setMult, { method: 'mm', prior });
    const sc = centred(f.theta);
    for (let i = 0; i < n; i++) reps[i]![b] = sc[i]!;
  }
  return { point: centred(fit.theta), reps };
}

/** Sparse 2PL binary data: `models` × `samples`, each cell kept with probability 1 − missing. */
function sparseBinary(models: number, samples: number, missing: number, seed: number): PoolMeasurement[] {
  const rng = createRng(seed);
  const theta = Array.from({ length: models }, () => 2 * rng.float() - 1);
  const ms: PoolMeasurement[] = [];
  for (let s = 0; s < samples; s++) {
    const b = 3 * rng.float() - 1.5;
    for (let m = 0; m < models; m++) {
      if (rng.float() < missing) continue;
      const v = rng.float() < 1 / (1 + Math.exp(-(theta[m]! - b))) ? 1 : 0;
      ms.push({ source: 'syn', slice: '', sample_key: `syn/${s}`, model: `m${m}`, opponent: '', rep: 0, kind: 'binary', value: v, direction: 1, tie_tolerance: 0, weight: 1 });
    }
  }
  return ms;
}

function compareWithPlain(d: ChoiceData, B: number, seed: number): void {
  const fast = rankModels(d, { replicates: B, seed, keepReplicates: true, elo: false });
  const plain = plainBootstrap(d, B, seed);
  const n = d.models.length;
  const byModel = new Map(fast.models.map((m) => [m.model, m]));
  let maxDiff = 0;
  for (let i = 0; i < n; i++) {
    const m = byModel.get(d.models[i]!)!;
    assert.equal(m.score, plain.point[i], 'the point scores are the same computation');
    for (let b = 0; b < B; b++) maxDiff = Math.max(maxDiff, Math.abs(fast.bootstrap_scores![i]![b]! - plain.reps[i]![b]!));
  }
  assert.ok(maxDiff < 1e-8, `replicate scores differ by ${maxDiff}`);
  // intervals from the plain replicates, computed as rankModels does
  const comp = componentIndex(d);
  const groups: number[][] = [];
  for (let i = 0; i < n; i++) (groups[comp[i]!] ??= []).push(i);
  const ri = maxTRankIntervals(plain.point, plain.reps, { level: 0.95, groups });
  for (let i = 0; i < n; i++) {
    const m = byModel.get(d.models[i]!)!;
    const outside = n - groups[comp[i]!]!.length;
    assert.deepEqual(m.rank_interval, [ri.lo[i]!, Math.min(n, ri.hi[i]! + outside)], `rank interval of ${m.model}`);
    const s = Float64Array.from(plain.reps[i]!).sort();
    if (groups[comp[i]!]!.length > 1) {
      assert.ok(Math.abs(m.ci[0] - quantileSorted(s, 0.025)) < 1e-8 && Math.abs(m.ci[1] - quantileSorted(s, 0.975)) < 1e-8, `CI of ${m.model}`);
    }
  }
  // the point ranking is the same
  const order = [...plain.point.keys()].sort((a, b) => plain.point[b]! - plain.point[a]! || d.models[a]!.localeCompare(d.models[b]!));
  assert.deepEqual(fast.models.map((m) => m.model), order.map((i) => d.models[i]!));
}

test('fast bootstrap = plain Newton bootstrap on sparse binary data (same seed: same replicates, CIs, rank intervals)', () => {
  const d = choicesFromMeasurements(sparseBinary(12, 600, 0.7, 5));
  compareWithPlain(d, 200, 11);
});

test('fast bootstrap = plain bootstrap on ordinal data with ties, battles and two components', () => {
  const rng = createRng(9);
  const ms: PoolMeasurement[] = [];
  for (let s = 0; s < 150; s++) {
    for (const m of ['a', 'b', 'c', 'd', 'e']) {
      if (rng.float() < 0.3) continue;
      ms.push({ source: 'x', slice: 'v1', sample_key: `o/${s}`, model: m, opponent: '', rep: 0, kind: 'ordinal', value: 1 + Math.floor(rng.float() * 5) + (m < 'c' ? 1 : 0), direction: 1, tie_tolerance: 0, weight: 1 });
    }
  }
  for (let s = 0; s < 80; s++) {
    const v = rng.float();
    ms.push({ source: 'arena', slice: '', sample_key: `q/${s}`, model: 'p', opponent: 'q', rep: 0, kind: 'battle', value: v < 0.6 ? 1 : v < 0.8 ? 0.5 : 0, direction: 1, tie_tolerance: 0, weight: 1 + Math.floor(rng.float() * 3) });
  }
  for (const ties of ['full', 'half'] as TieConvention[]) compareWithPlain(choicesFromMeasurements(ms, { ties }), 150, 3);
});

test('rankModelsAsync gives the same result on 1, 2 and 3 threads as rankModels', async () => {
  const d = choicesFromMeasurements(sparseBinary(9, 300, 0.5, 2));
  const strip = (r: Awaited<ReturnType<typeof rankModelsAsync>>) => ({ ...r, fit: { ...r.fit, ms: 0, bootstrap_ms: 0 } });
  const one = strip(rankModels(d, { replicates: 120, seed: 4, keepReplicates: true }));
  for (const threads of [1, 2, 3]) assert.deepEqual(strip(await rankModelsAsync(d, { replicates: 120, seed: 4, keepReplicates: true, threads })), one, `${threads} threads`);
});

/** The object-holding conversion as it was (reference for the streaming accumulator). */
function choicesReference(measurements: PoolMeasurement[], opts: { ties?: TieConvention; battleWeights?: 'counts' | 'dedupe' } = {}): ChoiceData {
  const runningMean = (mean: number, v: number, k: number) => (k === 1 ? v : mean * ((k - 1) / k) + v / k);
  const b = new ChoiceBuilder(opts.ties ?? 'full');
  type Group = { c: number; dir: 1 | -1; tol: number; byModel: Map<number, { s: number; n: number }> };
  type Pair = { c: number; a: number; b: number; v: number; w: number };
  const groups = new Map<string, Group>();
  const pairs: Pair[] = [];
  for (const m of measurements) {
    const c = b.cluster(m.sample_key);
    const a = b.model(m.model);
    if (m.kind === 'binary' || m.kind === 'numeric' || m.kind === 'ordinal') {
      const tol = m.kind === 'numeric' ? m.tie_tolerance : 0;
      const key = JSON.stringify([m.slice, m.sample_key, m.kind, m.direction, tol]);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { c, dir: m.direction, tol, byModel: new Map() }));
      const r = g.byModel.get(a);
      if (r) r.s = runningMean(r.s, m.value, ++r.n);
      else g.byModel.set(a, { s: m.value, n: 1 });
    } else pairs.push({ c, a, b: b.model(m.opponent), v: m.value, w: opts.battleWeights === 'dedupe' ? 1 : m.weight });
  }
  const items: (Group | Pair)[] = [...groups.values(), ...pairs];
  items.sort((x, y) => x.c - y.c);
  for (const it of items) {
    if ('byModel' in it) b.addListwise(it.c, [...it.byModel.keys()], [...it.byModel.values()].map((r) => r.s), it.dir, it.tol);
    else b.addPair(it.c, it.a, it.b, it.v, it.w);
  }
  return b.build();
}

test('ChoiceAccumulator builds the same choice data as the object-holding conversion (mixed kinds, repeats, slices)', () => {
  const rng = createRng(21);
  const kinds = ['binary', 'numeric', 'ordinal', 'preference', 'battle'] as const;
  const ms: PoolMeasurement[] = [];
  for (let k = 0; k < 3000; k++) {
    const kind = kinds[rng.index(kinds.length)]!;
    const model = `m${rng.index(7)}`;
    let opponent = '';
    if (kind === 'preference' || kind === 'battle') do opponent = `m${rng.index(7)}`; while (opponent === model);
    const value = kind === 'binary' ? rng.index(2) : kind === 'numeric' ? rng.float() * 3 : kind === 'ordinal' ? rng.index(4) : kind === 'battle' ? [0, 0.5, 1][rng.index(3)]! : rng.float();
    ms.push({
      source: `src${rng.index(2)}`, slice: `sl${rng.index(2)}`, sample_key: `k/${rng.index(120)}`, model, opponent, rep: rng.index(2), kind, value,
      direction: rng.float() < 0.8 ? 1 : -1, tie_tolerance: kind === 'numeric' ? [0, 0.25][rng.index(2)]! : 0, weight: 1 + rng.index(3),
    });
  }
  for (const ties of ['full', 'half'] as TieConvention[]) {
    for (const battleWeights of ['counts', 'dedupe'] as const) {
      const acc = new ChoiceAccumulator({ ties, battleWeights });
      for (const m of ms) acc.add(m);
      assert.deepEqual(acc.build(), choicesReference(ms, { ties, battleWeights }), `${ties}/${battleWeights}`);
    }
  }
});

test('ClusterCounts: one byte a cluster, every count exact past 255 (the wrapped multiples of 256 kept aside)', () => {
  const rng = createRng(7);
  const n = 5;
  const cc = new ClusterCounts(n);
  const want = new Int32Array(n);
  // cluster 0 drawn 1,000 times (wraps three times), the others at random
  for (let k = 0; k < 1000; k++) {
    cc.add(0);
    want[0]!++;
  }
  for (let k = 0; k < 2000; k++) {
    const i = rng.index(n);
    cc.add(i);
    want[i]!++;
  }
  assert.ok(want.some((k, i) => i > 0 && k > 255), 'another cluster passes 255 as well');
  for (let i = 0; i < n; i++) assert.equal(cc.get(i), want[i], `cluster ${i}`);
  cc.clear();
  for (let i = 0; i < n; i++) assert.equal(cc.get(i), 0);
});
