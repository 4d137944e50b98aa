/**
 * The reduced coverage suite: a few cells of each table of bench/coverage.ts, at fixed seeds, so that a
 * change to any interval or test that breaks its coverage or its size fails CI. The full tables are written by
 * `node --import tsx bench/coverage.ts` (bench/out/coverage.md and .json) and summarised in README "Statistics".
 *
 * Tolerance: every simulated rate r from R repetitions has Monte-Carlo standard error se = sqrt(r₀(1 − r₀)/R) at
 * the nominal rate r₀; a cell passes when it lies within TOL = 3 such errors of its band (93–97% for a 95% interval,
 * 4–6% for a 5% test; ≥ 95% − TOL for the simultaneous rank intervals, which are conservative by construction). A
 * correct method fails a cell with probability < 0.3% per side at the edge of its band, and the seeds are fixed,
 * so the outcome is deterministic; each group also checks that the method the issue replaced fails the same
 * tolerance on the same cell, so the test can tell a broken interval from a working one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as C from '../../src/analyses/coverage.ts';

const TOL = 3;
const se = (r0: number, reps: number) => Math.sqrt((r0 * (1 - r0)) / reps);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Lower and upper limits for a 95% interval's coverage from `reps` repetitions (exact cells: the band itself). */
function coverageLimits(reps: number, exact = false): [number, number] {
  const e = exact ? 0 : TOL * se(0.95, reps);
  return [0.93 - e, 0.97 + e];
}

test('avg@k headline (clustered score) interval covers 93–97% at 30 questions near 0 and 1 and is never of zero width; the bootstrap it replaced does not', () => {
  const reps = 400;
  const [lo, hi] = coverageLimits(reps);
  const cells = [
    // n = 30 near 0 and 1 (the 58.8–80.8% cells), and the wide grid's corners
    { n: 30, k: 4, mu: 0.03, kappa: 2 },
    { n: 30, k: 16, mu: 0.97, kappa: 2 },
    { n: 30, k: 16, mu: 0.3, kappa: 2 },
    { n: 10, k: 64, mu: 0.1, kappa: 0.5 },
    { n: 100, k: 16, mu: 0.9, kappa: 20 },
    { n: 1000, k: 4, mu: 0.99, kappa: 2 },
  ];
  for (const [i, c] of cells.entries()) {
    const r = C.avgAtKCell({ ...c, reps, seed: 1400 + i, bootstrap: i === 0 ? 200 : 0 });
    const s = r.methods.score!;
    const where = `n=${c.n} k=${c.k} μ=${c.mu} κ=${c.kappa}`;
    assert.ok(s.rate >= lo && s.rate <= hi, `${where}: clustered score interval covers ${pct(s.rate)}, outside [${pct(lo)}, ${pct(hi)}]`);
    assert.equal(r.zero_width.score, 0, `${where}: a zero-width interval from finite data`);
    if (i === 0) {
      // the previous headline on the same data: under-covers (and is [0, 0] whenever nothing was right)
      assert.ok(r.methods.bootstrap!.rate < lo, `${where}: bootstrap ${pct(r.methods.bootstrap!.rate)} — the test must be able to tell`);
      assert.ok(r.zero_width.bootstrap! > 0.05, `${where}: bootstrap zero-width share ${pct(r.zero_width.bootstrap!)}`);
    }
  }
  // k = 1 is exact (a binomial sum): Wilson at n = 30 on the cells (the bootstrap covered 58.8% and 60.0% at 0.03 and 0.97)
  for (const mu of [0.03, 0.6, 0.97]) {
    const r = C.avgAtKCell({ n: 30, k: 1, mu, kappa: 2, reps: 1, seed: 1 });
    assert.ok(r.methods.score!.exact && r.methods.score!.rate >= 0.93 && r.methods.score!.rate <= 0.97, `n=30 k=1 μ=${mu}: exact ${pct(r.methods.score!.rate)}`);
  }
});

test('pass@k (Wilson on the samples) does not under-cover; maj@k and pass@k at every epoch are exact Wilson', () => {
  const reps = 300;
  const lo = 0.93 - TOL * se(0.95, reps);
  for (const [i, c] of [{ n: 30, k: 16, mu: 0.1, kappa: 0.5 }, { n: 100, k: 4, mu: 0.9, kappa: 2 }, { n: 10, k: 64, mu: 0.01, kappa: 2 }].entries()) {
    const r = C.passMajCell({ ...c, kp: c.k / 4, reps, seed: 1410 + i });
    assert.ok(r.pass.rate >= lo, `pass@${c.k / 4} of ${c.k} at n=${c.n} μ=${c.mu} κ=${c.kappa}: ${pct(r.pass.rate)}`);
    assert.ok(r.maj.exact && r.maj.rate >= 0.9, `maj@${c.k}: exact ${pct(r.maj.rate)}`);
  }
});

test('compare: each test keeps its size (4–6% at α = 5%) under exchangeable A/B; the difference interval covers; power matches the planner', () => {
  const reps = 1000;
  const e = TOL * se(0.05, reps);
  const [clo, chi] = coverageLimits(reps);
  // The tests whose p-values decide the verdict (mid-p) or are printed as tests. The conventional p and McNemar's
  // exact conditional p are printed labelled "conservative" beside their mid-p and are only checked not to exceed 6%.
  const sized = ['sign-flip (mid-p)', 'paired t', 'Wilcoxon (mid-p)', 'McNemar first epoch (mid-p)', 'clustered McNemar (Durkalski)'];
  for (const [i, c] of [{ n: 100, k: 1, mu: 0.6 }, { n: 100, k: 4, mu: 0.3 }, { n: 30, k: 4, mu: 0.6 }].entries()) {
    const r = C.compareCell({ ...c, kappa: 2, delta: 0, reps, seed: 1420 + i });
    const where = `n=${c.n} k=${c.k} μ=${c.mu}`;
    for (const t of sized) {
      const x = r.rejections[t]!.rate;
      assert.ok(x >= 0.04 - e && x <= 0.06 + e, `${where}: ${t} rejects ${pct(x)} under H0, outside [${pct(0.04 - e)}, ${pct(0.06 + e)}]`);
    }
    for (const t of ['sign-flip (conventional)', 'McNemar first epoch (exact)']) assert.ok(r.rejections[t]!.rate <= 0.06 + e, `${where}: ${t} ${pct(r.rejections[t]!.rate)}`);
    const cov = r.coverage['paired t (headline)']!.rate;
    assert.ok(cov >= clo && cov <= chi, `${where}: difference interval covers ${pct(cov)}`);
  }
  // power at δ = 5 points, n = 100, k = 4 against the planner given the design's true components
  const preps = 400;
  const p = C.compareCell({ n: 100, k: 4, mu: 0.6, kappa: 2, delta: 0.05, reps: preps, seed: 1430 });
  const tolP = 0.05 + TOL * se(0.5, preps);
  for (const t of ['sign-flip (mid-p)', 'paired t']) {
    const x = p.rejections[t]!.rate;
    assert.ok(Math.abs(x - p.planner_power!) <= tolP, `power of ${t} ${pct(x)} vs planner ${pct(p.planner_power!)}`);
  }
  const pc = p.coverage['paired t (headline)']!.rate;
  const [plo, phi] = coverageLimits(preps);
  assert.ok(pc >= plo && pc <= phi, `difference interval at δ = 0.05 covers ${pct(pc)}`);
});

test('rank intervals cover the true ranks jointly at 95% (runs on shared questions; Plackett–Luce pool at pool validate’s sparsity)', () => {
  const theta = [-0.6, -0.3, 0, 0, 0.15, 0.3, 0.6, 1.2];
  const runs = C.rankRunsCell({ theta, n: 100, k: 1, reps: 60, seed: 1440, replicates: 300 });
  const s = runs.methods['simultaneous (Holm sign-flip)']!;
  assert.ok(s.rate >= 0.95 - TOL * se(0.95, runs.reps), `rankRuns: joint coverage ${pct(s.rate)}`);
  const pl = C.plRankCell({ models: 8, samples: 600, drop: 0.9, spread: 2, reps: 30, seed: 1441, replicates: 150 });
  const m = pl.methods['simultaneous (max-t)']!;
  assert.ok(m.rate >= 0.95 - TOL * se(0.95, pl.reps), `Plackett–Luce at 90% removed: joint coverage ${pct(m.rate)}`);
  assert.ok(m.mean_length < 8, 'the intervals say something (not every rank 1–8)');
});

test('RMS calibration error interval covers the population RMS error (n = 100 and 500)', () => {
  for (const [i, c] of [{ scenario: 'overconfident', n: 500, reps: 150 }, { scenario: 'hle-like', n: 100, reps: 200 }].entries()) {
    const r = C.calibrationCell({ ...c, seed: 1450 + i, replicates: 200 });
    const [lo, hi] = coverageLimits(c.reps);
    const x = r.methods.headline!.rate;
    assert.ok(x >= lo && x <= hi, `${c.scenario} n=${c.n}: ${pct(x)} outside [${pct(lo)}, ${pct(hi)}]`);
  }
});
