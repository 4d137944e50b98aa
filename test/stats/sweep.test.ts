/**
 * Sensitivity sweeps (src/stats/sweep.ts): grid expansion; a factor that moves every question is beyond the seed noise
 * and one that moves nothing is not significant, each verdict naming its test and numbers; grids with repeated, empty or non-finite levels are refused; no seed noise
 * gives a null ratio, never Infinity or NaN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../src/core/rng.ts';
import { analyzeSweep, expandGrid } from '../../src/stats/sweep.ts';
import type { RunRecord } from '../../src/core/schemas.ts';

const close = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);

test('sweep analysis: a factor that moves every question is beyond the seed noise, one that moves nothing is inside it', () => {
  assert.deepEqual(expandGrid([{ factor: 'temperature', levels: [0, 1] }, { factor: 'seed', levels: [0, 1] }]), [
    { temperature: 0, seed: 0 }, { temperature: 0, seed: 1 }, { temperature: 1, seed: 0 }, { temperature: 1, seed: 1 },
  ]);
  const rng = createRng(4);
  const n = 150;
  const base = Array.from({ length: n }, () => 0.2 + 0.6 * rng.float());
  const runs: RunRecord[] = [];
  const clusters: number[][][] = [];
  for (const template of ['a', 'b']) {
    for (const temperature of [0, 1]) {
      for (const seed of [0, 1, 2]) {
        const shift = template === 'b' ? -0.15 : 0; // template matters, temperature does not
        runs.push({ id: `${template}${temperature}${seed}`, spec: { model: 'm', dataset: { hash: 'h' }, template: { name: template, hash: template }, config: { temperature, seed, chat_template: true } } } as never);
        clusters.push(base.map((p) => Array.from({ length: 2 }, () => (rng.float() < p + shift ? 1 : 0))));
      }
    }
  }
  const a = analyzeSweep(runs, clusters, { seed: 1, replicates: 300 });
  const by = Object.fromEntries(a.factors.map((f) => [f.factor, f]));
  assert.equal(by.template!.significant, true);
  assert.match(by.template!.verdict, /^template moves the score: a − b = 1\d\.\d pts \(95% CI .*sign-flip permutation test of template a vs b paired by sample .*\|Σ d_i\| = [\d.]+ over 150 shared samples × 12\/12 attempts, p .*Holm-adjusted over 2 factors p .* ≤ α = 0\.05; the range is [\d.]+ × the seed-noise SD of [\d.]+ pts \(observed over seeds\)\.$/);
  assert.equal(by.template!.best, 'a');
  close(by.template!.range, 0.15, 0.05);
  assert.equal(by.temperature!.significant, false);
  assert.match(by.temperature!.verdict, /^Not significant at this size: .* sign-flip permutation test of temperature .* p = [\d.]+, Holm-adjusted over 2 factors p = [\d.]+ > α = 0\.05; the minimum detectable effect at 80% power is ±[\d.]+ pts; the range is [\d.]+ × the seed-noise SD/);
  assert.doesNotMatch(by.temperature!.verdict, /inside seed noise/);
  assert.equal(by.temperature!.test.name, 'sign-flip permutation test');
  assert.equal(by.temperature!.test.comparisons, 2);
  assert.equal(by.temperature!.test.p_adjusted, by.temperature!.p_adjusted);
  assert.ok(a.seed_sd_observed! > 0);
  close(a.seed_sd_observed!, a.seed_sd_model, 0.02, 'observed vs model-based seed noise');
  assert.ok(!('seed' in by), 'seed is the noise, not a factor');
});

test('sweep grids refuse repeated, empty and non-finite levels (a copy of a run is not seed noise)', () => {
  const bad: Parameters<typeof expandGrid>[0][] = [
    [{ factor: 'temperature', levels: [0.2, 0.2] }],
    [{ factor: 'seed', levels: [0, 1, 0] }],
    [{ factor: 'temperature', levels: [] }],
    [{ factor: 'temperature', levels: [Number.NaN, 1] }],
    [{ factor: 'temperature', levels: [0, 1] }, { factor: 'temperature', levels: [0.5] }],
    [{ factor: 'template', levels: ['a', 'a'] }],
  ];
  for (const g of bad) assert.throws(() => expandGrid(g), RangeError, JSON.stringify(g));
  assert.equal(expandGrid([{ factor: 'temperature', levels: [0, 1] }, { factor: 'seed', levels: [0, 1, 2] }]).length, 6);
  // the same run twice is not a sweep
  const r = { id: 'x', spec: { model: 'm', dataset: { hash: 'h' }, template: { name: 't', hash: 't' }, config: { seed: 0 } } } as unknown as RunRecord;
  assert.throws(() => analyzeSweep([r, r], [[[1]], [[1]]], { seed: 0, replicates: 20 }), RangeError);
});

test('sweep: with no measurable seed noise the ratio to it is null, never Infinity or NaN', () => {
  const runs = ([[0, 0], [0, 1], [1, 0], [1, 1]] as const).map(([t, s]) => ({ id: `t${t}s${s}`, spec: { model: 'm', dataset: { hash: 'h' }, template: { name: 'x', hash: 'x' }, config: { temperature: t, seed: s } } }) as unknown as RunRecord);
  // a deterministic model: both seeds give the same answers; temperature 1 loses one question
  const t0 = [[1], [1], [0], [1]], t1 = [[1], [0], [0], [1]];
  const a = analyzeSweep(runs, [t0, t0, t1, t1], { seed: 0, replicates: 50 });
  assert.equal(a.seed_sd_observed, 0);
  for (const f of a.factors) assert.equal(f.ratio_to_seed_sd, null);
  // the verdict names the test and its numbers, and says that no seed noise was measured (never "inside seed noise" of 0.00 pts)
  const t = a.factors[0]!;
  assert.equal(t.significant, false);
  assert.match(t.verdict, /^Not significant at this size: 0 − 1 = 25\.0 pts \(95% CI .*\); sign-flip permutation test of temperature 0 vs 1 paired by sample \(exact\): \|Σ d_i\| = 1\.00 over 4 shared samples × 2\/2 attempts, p = 0\.500 > α = 0\.05/);
  assert.match(t.verdict, /seed-noise SD 0\.00 pts observed over seeds \(runs that differ only in seed scored identically, so no seed noise was measured/);
  assert.match(a.seed_noise, /no seed noise was measured/);
  assert.doesNotThrow(() => JSON.stringify(a));
});
