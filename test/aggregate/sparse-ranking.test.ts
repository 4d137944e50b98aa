/**
 * Rankings from sparse binary pools: Plackett–Luce with the samples as players is at least as good as
 * the plain mean at every missing level — on a seeded synthetic pool and on a real MMLU-Pro slice — where the
 * listwise orderings fit loses at 99% missing (it drops every ordering of one model); the Schur-complement Newton
 * gives the dense Plackett–Luce answer; and the IRT subset strategies beat random on a seeded 2PL pool, while a
 * strategy that does not is reported as not kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kendallTau } from '../../src/aggregate/baselines.ts';
import { ChoiceBuilder, sufficientStats } from '../../src/aggregate/choices.ts';
import { abilityMAP, fit2PL, fitSamplePlayers, itemInformation, kMeans } from '../../src/aggregate/irt.ts';
import { fitPlackettLuce } from '../../src/aggregate/plackett-luce.ts';
import { cheaperEvaluation, chooseSubset, weightedScores } from '../../src/aggregate/subset.ts';
import { choicesFromMatrix, completeBlock, dropMask, heldOutSplit, matrixFromMeasurements, meanScores, missingDataCurve, plSampleScores, syntheticBinary, type BinaryMatrix, type CurveRow } from '../../src/aggregate/validate.ts';
import { rankModels } from '../../src/aggregate/rank.ts';
import { sparseNote } from '../../src/cli/commands/rank.ts';
import type { PoolMeasurement } from '../../src/core/pool-measurement.ts';
import { createRng } from '../../src/core/rng.ts';
import { shared } from '../../testkit/shared.ts';

const FRACTIONS = [0, 0.5, 0.8, 0.9, 0.95, 0.99];
/**
 * "At least as good" is judged on the paired difference over the same drop masks (`vs_mean`): PL is behind only if
 * it is lower by more than max(TIE, two standard errors). Under random cell drops every model keeps the same share
 * of its samples, and at 99% missing few samples are measured twice, so there PL and the mean hold the same
 * information and can only tie, up to noise of a few discordant pairs; the orderings fit misses by 0.2–0.3.
 */
const TIE = 0.01;

function at(rows: CurveRow[], mode: string, p: number, method: string): CurveRow {
  return rows.find((r) => r.mode === mode && r.fraction === p && r.method === method)!;
}

function assertPLAtLeastMean(rows: CurveRow[], label: string): void {
  let sum = 0, n = 0;
  for (const mode of ['random', 'per-model']) {
    for (const p of FRACTIONS) {
      const pl = at(rows, mode, p, 'plackett-luce');
      const d = pl.vs_mean!, se = pl.vs_mean_se!;
      assert.ok(d > -Math.max(TIE, 2 * se), `${label} ${mode} ${p}: PL − mean = ${d.toFixed(3)} ± ${se.toFixed(3)}`);
      sum += d;
      n++;
    }
  }
  // and better on the whole curve, and where a few models keep almost nothing
  assert.ok(sum / n > 0, `${label}: mean PL − mean over the curve ${(sum / n).toFixed(4)}`);
  assert.ok(at(rows, 'per-model', 0.99, 'plackett-luce').vs_mean! > 0, `${label} per-model 0.99`);
}

test('seeded synthetic pool: PL (samples as players) is at least as good as the mean at every missing level; the orderings fit is not', () => {
  const { matrix, truth } = syntheticBinary({ models: 30, samples: 1000, seed: 4 });
  const rows = missingDataCurve(matrix, truth, { fractions: FRACTIONS, reps: 12, seed: 1, methods: ['plackett-luce', 'mean'] });
  assertPLAtLeastMean(rows, 'synthetic');
  // why the harness's PL changed: the listwise orderings drop every sample measured on one model only
  const sparse = missingDataCurve(matrix, truth, { fractions: [0.99], modes: ['random'], reps: 12, seed: 1, methods: ['pl-orderings', 'mean'] });
  const orderings = at(sparse, 'random', 0.99, 'pl-orderings').tau, mean = at(sparse, 'random', 0.99, 'mean').tau;
  assert.ok(orderings < mean - 0.1, `orderings τ ${orderings.toFixed(3)} vs mean ${mean.toFixed(3)} at 99% missing`);
});

/** MMLU-Pro results as a binary matrix (the cells `pool validate --source` reads). */
function mmluPro(): BinaryMatrix {
  const lines = readFileSync(join(shared('data/pool/mmlu_pro'), 'results.csv'), 'utf8').split('\n').slice(1);
  function* rows(): Generator<PoolMeasurement> {
    for (const l of lines) {
      if (!l) continue;
      const [model, q, , correct] = l.split(',');
      yield { source: 'mmlu_pro', slice: '', sample_key: `mmlu_pro/${q}`, model: model!, opponent: '', rep: 0, kind: 'binary', value: Number(correct), direction: 1, tie_tolerance: 0, weight: 1 };
    }
  }
  return matrixFromMeasurements(rows());
}

test('real pool slice (MMLU-Pro, 31 models × 1,500 items every model answered): PL reproduces the mean at full data and is at least as good at every missing level', () => {
  const block = completeBlock(mmluPro());
  assert.equal(block.models.length, 31);
  assert.ok(block.sampleKeys.length > 10_000 && block.sampleKeys.length < 12_032, `complete block of ${block.sampleKeys.length} items`);
  const S = block.sampleKeys.length, T = 1500;
  const slice: BinaryMatrix = { ...block, sampleKeys: block.sampleKeys.slice(0, T), values: new Float32Array(31 * T), categories: null };
  for (let m = 0; m < 31; m++) for (let t = 0; t < T; t++) slice.values[m * T + t] = block.values[m * S + t]!;
  const reference = meanScores(slice, null);
  // complete data: the raw score is sufficient in the Rasch model, so the order is the mean's exactly
  assert.equal(kendallTau(plSampleScores(slice, null), reference), 1);
  const rows = missingDataCurve(slice, reference, { fractions: FRACTIONS, reps: 6, seed: 2, methods: ['plackett-luce', 'mean'] });
  assert.equal(at(rows, 'random', 0, 'plackett-luce').tau, 1);
  assertPLAtLeastMean(rows, 'MMLU-Pro slice');
});

test('held-out reference (MMLU-Pro, 31 models × 3,000 items every model answered): a split no method sees, and PL is at least as good as the mean at every missing level against it', () => {
  const block = completeBlock(mmluPro());
  const S = block.sampleKeys.length, T = 3000;
  const slice: BinaryMatrix = { ...block, sampleKeys: block.sampleKeys.slice(0, T), values: new Float32Array(31 * T), categories: null };
  for (let m = 0; m < 31; m++) for (let t = 0; t < T; t++) slice.values[m * T + t] = block.values[m * S + t]!;
  // the split: two disjoint halves covering every item, the reference being the mean on the held-out one
  const sp = heldOutSplit(slice, 5);
  assert.equal(sp.fit.sampleKeys.length, 1500);
  const fitKeys = new Set(sp.fit.sampleKeys);
  const held = slice.sampleKeys.filter((k) => !fitKeys.has(k));
  assert.equal(held.length, 1500);
  const heldIdx = Int32Array.from(held, (k) => slice.sampleKeys.indexOf(k));
  assert.deepEqual([...sp.reference], [...meanScores(slice, null, heldIdx)]);
  assert.notDeepEqual([...sp.reference], [...meanScores(sp.fit, null)], 'the reference is not computed from the data the methods fit');
  const rows = missingDataCurve(slice, 'held-out-half', { fractions: FRACTIONS, reps: 6, seed: 2, methods: ['plackett-luce', 'mean'] });
  // unlike the full-data mean reference, nothing reproduces it exactly at 0% removed: it favours no method
  const t0 = at(rows, 'random', 0, 'mean').tau;
  assert.ok(t0 < 1 && t0 > 0.85, `mean τ to a held-out half at full data: ${t0}`);
  assert.equal(at(rows, 'random', 0, 'plackett-luce').vs_mean, 0, 'complete data: PL and the mean give the same order');
  for (const mode of ['random', 'per-model']) {
    for (const p of FRACTIONS) {
      const pl = at(rows, mode, p, 'plackett-luce');
      assert.ok(pl.vs_mean! > -Math.max(TIE, 2 * pl.vs_mean_se!), `held-out ${mode} ${p}: PL − mean = ${pl.vs_mean!.toFixed(3)} ± ${pl.vs_mean_se!.toFixed(3)}`);
    }
  }
  assert.throws(() => heldOutSplit({ ...slice, sampleKeys: slice.sampleKeys.slice(0, 3), values: new Float32Array(31 * 3) }, 0), RangeError);
});

test('`assay rank` notes when most orderings carry no information for the listwise fit (the regime where it trails the mean)', () => {
  const { matrix } = syntheticBinary({ models: 20, samples: 1500, seed: 6 });
  const full = rankModels(choicesFromMatrix(matrix, null), { replicates: 0, elo: false }).diagnostics;
  assert.equal(sparseNote(full), null, `full data: ${full.dropped_single_model + full.dropped_all_tied} of ${full.orderings} orderings dropped`);
  const keep = dropMask(matrix, 0.99, 'random', createRng(3));
  const sparse = rankModels(choicesFromMatrix(matrix, keep), { replicates: 0, elo: false }).diagnostics;
  const dropped = sparse.dropped_single_model + sparse.dropped_all_tied;
  assert.ok(dropped / sparse.orderings > 0.8, `99% removed: ${dropped} of ${sparse.orderings}`);
  const note = sparseNote(sparse)!;
  assert.match(note, new RegExp(`^note: ${Math.round((100 * dropped) / sparse.orderings)}% of the orderings \\(${dropped} of ${sparse.orderings}\\) carry no information`));
  assert.match(note, /assay pool validate/);
});

test('the Schur-complement Newton gives the dense Plackett–Luce fit of the same model-vs-sample games', () => {
  const { matrix } = syntheticBinary({ models: 6, samples: 30, seed: 9 });
  const M = 6, S = 30;
  // drop a third of the cells and make a few values fractional (avg@k): soft wins
  const keep = new Uint8Array(M * S).map((_, i) => (i % 3 === 1 ? 0 : 1));
  matrix.values[2] = 0.5;
  matrix.values[40] = 0.25;
  const fit = fitSamplePlayers(matrix, keep, { prior: 1, samplePrior: 1, tol: 1e-10 });
  assert.ok(fit.converged);
  // 'half': a value of ½ is half a win each way, as the Rasch likelihood reads it (under 'full' it would be dropped as a tie)
  const b = new ChoiceBuilder('half', { pairwiseMatrix: false });
  for (const name of matrix.models) b.model(name);
  for (let s = 0; s < S; s++) b.model(`sample-${s}`);
  for (let s = 0; s < S; s++) for (let m = 0; m < M; m++) if (keep[m * S + s]) b.addPair(b.cluster(`c${s}`), m, M + s, matrix.values[m * S + s]!);
  const d = b.build();
  const st = sufficientStats(d, null);
  const dense = fitPlackettLuce(d.setPtr, d.setIdx, st.wins, st.setMult, { prior: 1, tol: 1e-12 });
  for (let m = 0; m < M; m++) assert.ok(Math.abs(dense.theta[m]! - fit.theta[m]!) < 1e-6, `model ${m}: ${dense.theta[m]} vs ${fit.theta[m]}`);
  for (let s = 0; s < S; s++) {
    const measured = Array.from({ length: M }, (_, m) => keep[m * S + s]).some(Boolean);
    if (measured) assert.ok(Math.abs(dense.theta[M + s]! - fit.difficulty[s]!) < 1e-6, `sample ${s}`);
  }
});

test('2PL fit recovers abilities and discriminations; information is highest for discriminating samples among the abilities', () => {
  const rng = createRng(5);
  const M = 40, S = 1500;
  const theta = Float64Array.from({ length: M }, () => 2 * rng.float() - 1);
  const alpha = Float64Array.from({ length: S }, () => 0.3 + 2 * rng.float());
  const beta = Float64Array.from({ length: S }, () => 4 * rng.float() - 2);
  const values = new Float32Array(M * S);
  for (let m = 0; m < M; m++) for (let s = 0; s < S; s++) values[m * S + s] = rng.float() < 1 / (1 + Math.exp(-(alpha[s]! * theta[m]! - beta[s]!))) ? 1 : 0;
  const mat: BinaryMatrix = { models: Array.from({ length: M }, (_, m) => `m${m}`), sampleKeys: Array.from({ length: S }, (_, s) => `s${s}`), values, categories: null, categoryNames: [] };
  const fit = fit2PL(mat);
  assert.ok(kendallTau(fit.theta, theta) > 0.85, `θ τ ${kendallTau(fit.theta, theta)}`);
  assert.ok(kendallTau(fit.alpha, alpha) > 0.3, `α τ ${kendallTau(fit.alpha, alpha)}`);
  const info = itemInformation(fit);
  assert.ok(kendallTau(info, Float64Array.from(alpha, (a, s) => a * a * Math.exp(-Math.abs(beta[s]!)))) > 0.3);
  // a model's ability from its answers alone, under the fitted items, orders the models like their truth
  const items = Int32Array.from({ length: S }, (_, s) => s);
  const est = Float64Array.from({ length: M }, (_, m) => abilityMAP(fit, items, Array.from(items, (s) => values[m * S + s]!)));
  assert.ok(kendallTau(est, theta) > 0.85);
});

test('k-means finds well-separated clusters (seeded, k-means++)', () => {
  const x = new Float64Array(2 * 90);
  const rng = createRng(1);
  for (let i = 0; i < 90; i++) {
    const c = i % 3;
    x[2 * i] = c * 10 + rng.float();
    x[2 * i + 1] = -c * 5 + rng.float();
  }
  const { assign } = kMeans(x, 2, 3, createRng(2));
  for (let i = 3; i < 90; i++) assert.equal(assign[i], assign[i % 3], `point ${i}`);
  assert.equal(new Set(assign).size, 3);
  assert.throws(() => kMeans(x, 2, 91, rng), RangeError);
});

test('IRT subset strategies beat random on a seeded 2PL pool; the anchor points estimate accuracy better; rows say which strategy is kept', () => {
  const { matrix } = syntheticBinary({ models: 40, samples: 2000, seed: 3, categories: 4 });
  const rows = cheaperEvaluation(matrix, { budgets: [50], reps: 16, seed: 1, strategies: ['random', 'irt-information', 'irt-anchors'] });
  const get = (s: string) => rows.find((r) => r.strategy === s)!;
  assert.equal(get('random').beats_random, null);
  const info = get('irt-information');
  assert.ok(info.beats_random, `irt-information Δ ${info.vs_random} ± ${info.vs_random_se}`);
  assert.ok(info.tau_new > get('random').tau_new);
  // kept only where it beats random: one-sided paired t over the 16 splits, Holm-adjusted over the 2 non-random rows
  assert.ok(info.p_vs_random! < 0.025 && info.p_vs_random_adjusted! <= 0.05, `p ${info.p_vs_random}, adjusted ${info.p_vs_random_adjusted}`);
  const tested = rows.filter((r) => r.strategy !== 'random').sort((a, b) => a.p_vs_random! - b.p_vs_random!);
  assert.equal(tested.length, 2);
  assert.equal(tested[0]!.p_vs_random_adjusted, Math.min(1, 2 * tested[0]!.p_vs_random!));
  assert.equal(tested[1]!.p_vs_random_adjusted, Math.max(tested[0]!.p_vs_random_adjusted!, Math.min(1, tested[1]!.p_vs_random!)));
  for (const r of rows) if (r.strategy !== 'random') assert.equal(r.beats_random, r.p_vs_random_adjusted! <= 0.05);
  // a strategy no better than random is not kept (stratified sampling of 4 equal-difficulty categories is random sampling)
  const same = cheaperEvaluation(matrix, { budgets: [50, 100, 200], reps: 8, seed: 2, strategies: ['random', 'stratified'] });
  for (const r of same.filter((x) => x.strategy === 'stratified')) assert.equal(r.beats_random, false, `stratified at ${r.budget}: Δ ${r.vs_random} ± ${r.vs_random_se}, p ${r.p_vs_random}`);

  // tinyBenchmarks' claim for its anchor points: a better estimate of each new model's full accuracy than as many random samples
  const M = matrix.models.length;
  const known = Uint8Array.from({ length: M }, (_, m) => (m % 2 === 0 ? 1 : 0));
  const full = meanScores(matrix, null);
  const irt = fit2PL(matrix, known);
  const err = (strategy: 'random' | 'irt-anchors') => {
    let e = 0;
    for (let r = 0; r < 10; r++) {
      const sc = weightedScores(matrix, chooseSubset(matrix, 60, strategy, createRng(100 + r), known, irt));
      for (let m = 1; m < M; m += 2) e += Math.abs(sc[m]! - full[m]!);
    }
    return e;
  };
  assert.ok(err('irt-anchors') < err('random'), `anchor error ${err('irt-anchors')} vs random ${err('random')}`);
});

test('pool validate on synthetic data reports every method with its paired difference to the mean', async () => {
  const { missingDataValidation } = await import('../../src/analyses/pool-validation.ts');
  const { data, rows } = await missingDataValidation(null, { models: 12, samples: 300, fractions: [0, 0.9], reps: 3, seed: 1 });
  assert.match(data, /synthetic 2PL/);
  assert.deepEqual([...new Set(rows.map((r) => r.method))].sort(), ['elo', 'mean', 'pl-orderings', 'plackett-luce']);
  for (const r of rows) {
    if (r.method === 'mean') assert.equal(r.vs_mean, null);
    else assert.ok(Number.isFinite(r.vs_mean) && Number.isFinite(r.vs_mean_se), `${r.method} ${r.mode} ${r.fraction}`);
  }
});

test('`assay pool validate --source` judges against the full-data mean and a held-out half, each row labelled, with the paired Monte-Carlo error; `pool subset` keeps a strategy only on its adjusted p', async () => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { fileURLToPath } = await import('node:url');
  const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'assay-validate-'));
  try {
    const pool = join(dir, 'p.sqlite'), csv = join(dir, 'tool.csv');
    const { matrix } = syntheticBinary({ models: 8, samples: 200, seed: 2 });
    const lines = ['model,sample_id,value,kind'];
    for (let m = 0; m < 8; m++) for (let s = 0; s < 200; s++) lines.push(`${matrix.models[m]},${s},${matrix.values[m * 200 + s]},binary`);
    writeFileSync(csv, lines.join('\n') + '\n');
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--pool', pool], { encoding: 'utf8' });
    assert.equal(run('import', 'csv', csv).status, 0);
    const source = JSON.parse(run('pool', 'list', '--json').stdout).sources[0].id as string;
    const text = run('pool', 'validate', '--source', source, '--fractions', '0,0.9', '--reps', '3');
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /8 models × 200 samples .*reference = full-data mean score \(favours the mean by construction.*\); and held-out half \(methods fit 100 samples, reference = mean score on the other 100/);
    assert.match(text.stdout, /reference: full-data mean; drop mode: random/);
    assert.match(text.stdout, /reference: held-out half; drop mode: per-model/);
    assert.match(text.stdout, /PL − mean \(paired ± SE\)/);
    const doc = JSON.parse(run('pool', 'validate', '--source', source, '--fractions', '0,0.9', '--reps', '3', '--reference', 'held-out', '--json').stdout);
    assert.deepEqual([...new Set(doc.rows.map((r: CurveRow) => r.reference))], ['held-out half']);
    assert.equal(doc.rows.length, 2 * 2 * 4, 'modes × fractions × methods');
    // full data: the mean order is not the held-out reference's, so τ < 1; the complete block makes PL and the mean agree
    const mean0 = doc.rows.find((r: CurveRow) => r.method === 'mean' && r.mode === 'random' && r.fraction === 0);
    assert.ok(mean0.tau < 1 && mean0.tau > 0.5, `τ ${mean0.tau}`);
    assert.equal(run('pool', 'validate', '--source', source, '--reference', 'half').status, 2);
    // pool subset on the same source: every row with its paired difference and Holm-adjusted p; kept = adjusted p ≤ 0.05
    const sub = run('pool', 'subset', '--source', source, '--budgets', '20,50', '--reps', '4');
    assert.equal(sub.status, 0, sub.stderr);
    assert.match(sub.stdout, /p \/ Holm p/);
    assert.match(sub.stdout, /one-sided paired t test over the same 4 splits, Holm-adjusted over the 4 strategy × budget rows, adjusted p ≤ 0\.05/);
    assert.match(sub.stdout, /^ {2}20 samples: \S+/m);
    const rows = JSON.parse(run('pool', 'subset', '--source', source, '--budgets', '20,50', '--reps', '4', '--json').stdout).rows as { strategy: string; beats_random: boolean | null; p_vs_random_adjusted: number | null }[];
    assert.equal(rows.length, 6);
    for (const r of rows) assert.equal(r.beats_random, r.strategy === 'random' ? null : r.p_vs_random_adjusted! <= 0.05);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
