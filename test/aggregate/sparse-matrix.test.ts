/**
 * The sparse (by-sample) form of the models × samples matrix, which `assay pool subset` and `pool validate --source`
 * read the pool into: built one measurement at a time, it is the dense `matrixFromMeasurements` matrix (same model
 * and sample numbering, the last of a repeated cell kept, the same categories); and every function that takes either
 * form gives the same numbers on both — against a dense 2PL fit written out here as the reference (the fit as it
 * was before it read the sparse form).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { fit2PL, itemInformation, type TwoPL } from '../../src/aggregate/irt.ts';
import { denseOf, SparseMatrixBuilder, sparseOf, type BinaryMatrix } from '../../src/aggregate/matrix.ts';
import { cheaperEvaluation, chooseSubset, weightedScores } from '../../src/aggregate/subset.ts';
import { choicesFromMatrix, matrixFromMeasurements, meanScores, syntheticBinary } from '../../src/aggregate/validate.ts';
import type { PoolMeasurement } from '../../src/core/pool-measurement.ts';
import { createRng } from '../../src/core/rng.ts';

/** A messy stream: models and samples in no order, cells repeated (the last counts), fractional values, categories. */
function stream(): { ms: PoolMeasurement[]; cat: Map<string, string | null> } {
  const rng = createRng(11);
  const ms: PoolMeasurement[] = [];
  const cat = new Map<string, string | null>();
  for (let k = 0; k < 4000; k++) {
    const s = rng.index(300), m = rng.index(17);
    cat.set(`d/${s}`, s % 5 === 0 ? null : `c${s % 3}`);
    const value = rng.float() < 0.1 ? [0.25, 0.5, 1 / 3][rng.index(3)]! : rng.index(2);
    ms.push({ source: 'x', slice: '', sample_key: `d/${s}`, model: `m${(m * 7) % 17}`, opponent: '', rep: 0, kind: 'binary', value, direction: 1, tie_tolerance: 0, weight: 1, line: k + 2 });
  }
  return { ms, cat };
}

it('SparseMatrixBuilder gives the dense matrix of matrixFromMeasurements, in the sparse form', () => {
  const { ms, cat } = stream();
  const dense = matrixFromMeasurements(ms, (k) => cat.get(k) ?? null);
  for (const expected of [0, ms.length, 10]) {
    const b = new SparseMatrixBuilder(expected);
    for (const m of ms) b.add(m.model, m.sample_key, m.value);
    // a key's number (for the categories read afterwards), without adding it
    assert.deepEqual(dense.sampleKeys.map((k) => b.sampleOf(k)), dense.sampleKeys.map((_, i) => i));
    assert.equal(b.sampleOf('no such sample'), undefined);
    const sp = b.build(dense.sampleKeys.map((k) => cat.get(k) ?? null));
    assert.deepEqual(sp.models, dense.models);
    assert.deepEqual(Array.from(sp.sampleKeys), dense.sampleKeys);
    assert.deepEqual(sp.categoryNames, dense.categoryNames);
    assert.deepEqual(sp.categories, dense.categories);
    assert.deepEqual(denseOf(sp), dense, `expected ${expected}`);
    const ref = sparseOf(dense);
    assert.deepEqual(Array.from(sp.samplePtr), Array.from(ref.samplePtr));
    assert.deepEqual(Array.from(sp.cellModel), Array.from(ref.cellModel));
    assert.deepEqual(Array.from(sp.cellValue), Array.from(ref.cellValue));
  }
  // a repeated cell keeps the value given last; cells within a sample come out by model
  const b = new SparseMatrixBuilder();
  b.add('b', 's', 1);
  b.add('a', 's', 0);
  b.add('b', 's', 0.5);
  b.add('a', 't', 1);
  const sp = b.build();
  assert.deepEqual(sp.models, ['b', 'a']);
  assert.deepEqual(Array.from(sp.samplePtr), [0, 2, 3]);
  assert.deepEqual(Array.from(sp.cellModel), [0, 1, 1]);
  assert.deepEqual(Array.from(sp.cellValue), [0.5, 0, 1]);
  // values in bytes while every one is 0 or 1; float32 from the first that is not (then rounded as the dense form is)
  assert.ok(sp.cellValue instanceof Float32Array);
  const bin = new SparseMatrixBuilder(2);
  for (let i = 0; i < 3000; i++) bin.add(`m${i % 3}`, `s${i >> 2}`, (i * 7) % 3 === 0 ? 1 : 0);
  const spBin = bin.build();
  assert.ok(spBin.cellValue instanceof Uint8Array);
  const f = new SparseMatrixBuilder(2);
  for (let i = 0; i < 3000; i++) f.add(`m${i % 3}`, `s${i >> 2}`, i === 2999 ? 0.1 : (i * 7) % 3 === 0 ? 1 : 0);
  const spF = f.build();
  assert.ok(spF.cellValue instanceof Float32Array);
  assert.equal(spF.cellValue[spF.cellValue.length - 1], Math.fround(0.1));
  assert.deepEqual(Array.from(spF.cellValue.subarray(0, 100)), Array.from(spBin.cellValue.subarray(0, 100)));
});

/** The dense 2PL fit as written before the sparse form (the reference). */
function fit2PLDense(mat: BinaryMatrix, models: Uint8Array | null): TwoPL {
  const sigma = (x: number) => 1 / (1 + Math.exp(-x));
  const M = mat.models.length, S = mat.sampleKeys.length;
  const use = Array.from({ length: M }, (_, m) => m).filter((m) => !models || models[m]);
  const theta = new Float64Array(M).fill(NaN);
  const alpha = new Float64Array(S).fill(1), beta = new Float64Array(S);
  for (const m of use) {
    let s1 = 0, n = 0;
    for (let s = 0; s < S; s++) {
      const v = mat.values[m * S + s]!;
      if (!Number.isNaN(v)) {
        s1 += v;
        n++;
      }
    }
    const p = Math.min(0.99, Math.max(0.01, n ? s1 / n : 0.5));
    theta[m] = Math.log(p / (1 - p));
  }
  const mu = use.reduce((a, m) => a + theta[m]!, 0) / Math.max(1, use.length);
  const sd = Math.sqrt(use.reduce((a, m) => a + (theta[m]! - mu) ** 2, 0) / Math.max(1, use.length)) || 1;
  for (const m of use) theta[m] = (theta[m]! - mu) / sd;
  let r = 0;
  for (; r < 50; r++) {
    let change = 0;
    for (let s = 0; s < S; s++) {
      let ga = -(alpha[s]! - 1), gb = -beta[s]! / 4, haa = 1, hab = 0, hbb = 0.25;
      for (const m of use) {
        const y = mat.values[m * S + s]!;
        if (Number.isNaN(y)) continue;
        const th = theta[m]!;
        const p = sigma(alpha[s]! * th - beta[s]!);
        const w = p * (1 - p);
        ga += (y - p) * th;
        gb -= y - p;
        haa += w * th * th;
        hab -= w * th;
        hbb += w;
      }
      const det = haa * hbb - hab * hab;
      if (!(det > 0)) continue;
      let da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
      const big = Math.max(Math.abs(da), Math.abs(db));
      if (big > 1) {
        da /= big;
        db /= big;
      }
      alpha[s]! += da;
      beta[s]! += db;
      change = Math.max(change, big);
    }
    for (const m of use) {
      let g = -theta[m]!, h = 1;
      for (let s = 0; s < S; s++) {
        const y = mat.values[m * S + s]!;
        if (Number.isNaN(y)) continue;
        const p = sigma(alpha[s]! * theta[m]! - beta[s]!);
        g += (y - p) * alpha[s]!;
        h += p * (1 - p) * alpha[s]! * alpha[s]!;
      }
      const d = Math.max(-1, Math.min(1, g / h));
      theta[m]! += d;
      change = Math.max(change, Math.abs(d));
    }
    if (change < 1e-3) {
      r++;
      break;
    }
  }
  return { theta, alpha, beta, rounds: r };
}

it('the 2PL fit, choice data, means, subsets and the cheaper-evaluation rows are the same from either form', () => {
  // a 2PL pool with 70% of the cells missing
  const { matrix } = syntheticBinary({ models: 24, samples: 600, seed: 9, categories: 3 });
  const rng = createRng(2);
  for (let i = 0; i < matrix.values.length; i++) if (rng.float() < 0.7) matrix.values[i] = NaN;
  const sp = sparseOf(matrix);
  assert.ok(sp.cellModel.length < 0.4 * matrix.values.length);
  const known = Uint8Array.from({ length: 24 }, (_, m) => m % 3 === 0 ? 0 : 1);
  const ref = fit2PLDense(matrix, known);
  for (const mat of [matrix, sp]) assert.deepEqual(fit2PL(mat, known), ref);
  assert.deepEqual(choicesFromMatrix(sp, null), choicesFromMatrix(matrix, null));
  // from the builder (keys in a KeyTable, every sample measured): the clusters are the matrix's own table, shared
  const bld = new SparseMatrixBuilder();
  for (let m = 0; m < 24; m++) for (let s = 0; s < 600; s++) if (!Number.isNaN(matrix.values[m * 600 + s]!)) bld.add(matrix.models[m]!, matrix.sampleKeys[s]!, matrix.values[m * 600 + s]!);
  const spB = bld.build();
  assert.equal(spB.sampleKeys.length, 600);
  const viaTable = choicesFromMatrix(spB, null), viaKeys = choicesFromMatrix(denseOf(spB), null);
  assert.equal(viaTable.clusters, spB.sampleKeys);
  assert.deepEqual(Array.from(viaTable.clusters), Array.from(viaKeys.clusters));
  assert.deepEqual({ ...viaTable, clusters: null }, { ...viaKeys, clusters: null });
  const subset = Int32Array.from([5, 3, 400, 17, 599]);
  assert.deepEqual(choicesFromMatrix(sp, null, 'half', subset), choicesFromMatrix(matrix, null, 'half', subset));
  assert.deepEqual(meanScores(sp, null), meanScores(matrix, null));
  for (const strategy of ['random', 'stratified', 'irt-anchors', 'irt-information', 'irt-sampled'] as const) {
    const a = chooseSubset(sp, 40, strategy, createRng(3), known, ref), b = chooseSubset(matrix, 40, strategy, createRng(3), known, ref);
    assert.deepEqual(a, b, strategy);
    assert.deepEqual(weightedScores(sp, a), weightedScores(matrix, b), strategy);
  }
  const opts = { budgets: [20, 80], reps: 3, seed: 4, strategies: ['random', 'stratified', 'irt-anchors', 'irt-information', 'irt-sampled'] as const };
  assert.deepEqual(cheaperEvaluation(sp, { ...opts, strategies: [...opts.strategies] }), cheaperEvaluation(matrix, { ...opts, strategies: [...opts.strategies] }));
  assert.deepEqual(cheaperEvaluation(sp, { budgets: [30], reps: 2, seed: 1, method: 'mean' }), cheaperEvaluation(matrix, { budgets: [30], reps: 2, seed: 1, method: 'mean' }));
  assert.throws(() => choicesFromMatrix(sp, new Uint8Array(24 * 600)), RangeError);
});

it('the information strategies choose what the sort of every sample chose (reference written out)', () => {
  const { matrix } = syntheticBinary({ models: 20, samples: 900, seed: 12, categories: 3 });
  const known = Uint8Array.from({ length: 20 }, (_, m) => m % 2);
  const irt = fit2PL(matrix, known), info = itemInformation(irt);
  const S = 900, cats = matrix.categories!;
  for (const budget of [1, 7, 60, 900]) {
    // irt-sampled as it was: keys for every sample, a stable sort, the first b
    const rng = createRng(budget);
    let floor = 0;
    for (const x of info) floor = Math.max(floor, x);
    floor *= 1e-3;
    const keys = Array.from({ length: S }, (_, s) => [Math.log(1 - rng.float()) / Math.max(info[s]!, floor, 1e-300), s] as const);
    keys.sort((x, y) => y[0] - x[0]);
    assert.deepEqual(Array.from(chooseSubset(matrix, budget, 'irt-sampled', createRng(budget), known, irt).samples), keys.slice(0, budget).map(([, s]) => s));
    assert.deepEqual(chooseSubset(matrix, budget, 'irt-sampled', createRng(budget), known, irt, info), chooseSubset(matrix, budget, 'irt-sampled', createRng(budget), known, irt));
    // irt-information as it was: per category, a stable sort by information (jittered), the allocation's first
    const r2 = createRng(budget + 1);
    const jitter = Float64Array.from({ length: S }, () => r2.float());
    const key = (s: number) => info[s]! + 1e-12 * jitter[s]!;
    const chosen = Array.from(chooseSubset(matrix, budget, 'irt-information', createRng(budget + 1), known, irt).samples);
    const byCat = [0, 1, 2].map((c) => Array.from({ length: S }, (_, s) => s).filter((s) => cats[s] === c).sort((x, y) => key(y) - key(x)));
    let at = 0;
    for (const list of byCat) {
      const n = chosen.slice(at).findIndex((s) => cats[s] !== cats[list[0]!]);
      const mine = n < 0 ? chosen.slice(at) : chosen.slice(at, at + n);
      assert.deepEqual(mine, list.slice(0, mine.length));
      at += mine.length;
    }
    assert.equal(at, budget);
  }
});

it('missing-data curves: the same rows from the sparse form (drop masks per measured cell, the same draws) as from the dense one, with either reference', async () => {
  const { missingDataCurve, heldOutSplit, completeBlock, columnsOf, dropMask } = await import('../../src/aggregate/validate.ts');
  const { matrix, truth } = syntheticBinary({ models: 14, samples: 300, seed: 21 });
  const rng = createRng(4);
  // 40% missing, and one model with nothing on samples 1–200; sample 0 measured on every model (so the builder below
  // numbers the models in the dense order)
  for (let i = 0; i < matrix.values.length; i++) if (rng.float() < 0.4) matrix.values[i] = NaN;
  for (let s = 1; s <= 200; s++) matrix.values[3 * 300 + s] = NaN;
  for (let m = 0; m < 14; m++) if (Number.isNaN(matrix.values[m * 300]!)) matrix.values[m * 300] = m % 2;
  // a block of samples measured on every model, so the held-out reference has a complete block
  for (let s = 280; s < 300; s++) for (let m = 0; m < 14; m++) if (Number.isNaN(matrix.values[m * 300 + s]!)) matrix.values[m * 300 + s] = (m + s) % 2;
  const sp = sparseOf(matrix);
  // from the builder too (sample keys in a KeyTable, values in bytes)
  const b = new SparseMatrixBuilder();
  for (let s = 0; s < 300; s++) for (let m = 0; m < 14; m++) if (!Number.isNaN(matrix.values[m * 300 + s]!)) b.add(matrix.models[m]!, matrix.sampleKeys[s]!, matrix.values[m * 300 + s]!);
  const built = b.build();
  assert.deepEqual(built.models, matrix.models);
  assert.ok(built.cellValue instanceof Uint8Array);
  assert.deepEqual(Array.from(built.sampleKeys), matrix.sampleKeys);
  // the masks: the same kept cells
  const dm = dropMask(matrix, 0.6, 'per-model', createRng(8)), sm = dropMask(sp, 0.6, 'per-model', createRng(8));
  const keptDense: number[] = [], keptSparse: number[] = [];
  for (let s = 0; s < 300; s++) for (let m = 0; m < 14; m++) if (dm[m * 300 + s]) keptDense.push(m * 300 + s);
  for (let s = 0; s < 300; s++) for (let k = sp.samplePtr[s]!; k < sp.samplePtr[s + 1]!; k++) if (sm[k]) keptSparse.push(sp.cellModel[k]! * 300 + s);
  assert.deepEqual(keptSparse, keptDense);
  assert.ok(keptDense.length > 500 && keptDense.length < 0.6 * sp.cellModel.length);
  assert.throws(() => meanScores(sp, dm), RangeError, 'a dense mask on the sparse form');
  const opts = { fractions: [0, 0.5, 0.9], reps: 2, seed: 3 };
  for (const ref of [truth, 'held-out-half' as const]) {
    const want = missingDataCurve(matrix, ref, opts);
    assert.deepEqual(missingDataCurve(sp, ref, opts), want);
    assert.deepEqual(missingDataCurve(built, ref, opts), want);
  }
  // the pieces of the held-out split, in either form
  const hs = heldOutSplit(sp, 5), hd = heldOutSplit(matrix, 5);
  assert.deepEqual([...hs.reference], [...hd.reference]);
  assert.deepEqual(denseOf(hs.fit as never), hd.fit);
  assert.equal(completeBlock(sp).sampleKeys.length, completeBlock(matrix).sampleKeys.length);
  assert.deepEqual(denseOf(columnsOf(sp, [7, 2, 280]) as never), columnsOf(matrix, [7, 2, 280]));
  // a sample chosen twice: kept twice (its keys then as strings)
  assert.deepEqual(denseOf(columnsOf(built, [7, 2, 7]) as never), columnsOf(denseOf(built), [7, 2, 7]));
});
