import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusteredBootstrapCI, computeRunStatistics, majorityVote, passAtK, quantileSorted, sampleStd, type SampleScores } from '../../src/stats/accuracy.ts';
import { outcomeOf } from '../../src/core/outcome.ts';
import { createRng } from '../../src/core/rng.ts';

/** C(n, k) by exact integer arithmetic (BigInt), an independent computation of the pass@k definition. */
function binom(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}

test('pass@k equals 1 − C(n−c,k)/C(n,k) computed exactly', () => {
  for (const [n, c, k] of [[10, 3, 1], [10, 3, 5], [8, 0, 4], [8, 8, 1], [20, 2, 10], [5, 1, 5], [100, 7, 13]] as const) {
    const exact = 1 - Number(binom(n - c, k)) / Number(binom(n, k));
    assert.ok(Math.abs(passAtK(n, c, k) - exact) < 1e-12, `n=${n} c=${c} k=${k}`);
  }
  assert.equal(passAtK(10, 3, 1), 0.3); // pass@1 is the plain mean
  assert.throws(() => passAtK(3, 4, 1), RangeError);
  assert.throws(() => passAtK(3, 1, 4), RangeError);
});

test('majority vote picks the most frequent answer, ties to the earliest', () => {
  const e = (epoch: number, extracted: string | null, value: number | null) => ({ epoch, extracted, value, truncated: false, failed: false });
  assert.equal(majorityVote([e(0, '5', 0), e(1, '7', 1), e(2, '7', 1)]), 1);
  assert.equal(majorityVote([e(0, '5', 0), e(1, '7', 1)]), 0); // tie → earliest answer "5"
  assert.equal(majorityVote([e(0, null, 0), e(1, '7', 1)]), 1); // no-answer attempts do not vote
  assert.equal(majorityVote([e(0, null, null)]), null);
});

test('quantile (type 7) and sample std match hand computation', () => {
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
  assert.ok(Math.abs(sampleStd([2, 4, 4, 4, 5, 5, 7, 9]) - Math.sqrt(32 / 7)) < 1e-12);
});

test('hand-computed run statistics: accuracy, std over epochs, pass@k, truncation, failures', () => {
  const mk = (id: string, vals: (number | null)[], opts: { trunc?: number[]; failed?: number[]; ex?: (string | null)[] } = {}): SampleScores => ({
    sample_id: id,
    epochs: vals.map((v, i) => ({ epoch: i, value: v, extracted: opts.ex?.[i] ?? (v == null ? null : String(v)), truncated: !!opts.trunc?.includes(i), failed: !!opts.failed?.includes(i) })),
  });
  const samples = [mk('a', [1, 1]), mk('b', [0, 1], { trunc: [0] }), mk('c', [0, 0]), mk('d', [1, null], { failed: [1] })];
  const s = computeRunStatistics(samples, { seed: 1, epochs: 2, replicates: 500 });
  // per-sample means: a 1, b 0.5, c 0, d 1 → 2.5/4
  assert.equal(s.accuracy, 0.625);
  assert.equal(s.attempts, 8);
  assert.equal(s.failed, 1);
  assert.equal(s.ungraded, 0);
  assert.equal(s.truncated, 1);
  // epoch 0: a1 b0 c0 d1 → 0.5; epoch 1: a1 b1 c0 → 2/3
  assert.deepEqual(s.per_epoch_accuracy.map((x) => +x.toFixed(6)), [0.5, 0.666667]);
  assert.ok(Math.abs(s.std_over_epochs - Math.abs(0.5 - 2 / 3) / Math.SQRT2) < 1e-12);
  // pass@2 on samples with 2 graded epochs: a 1, b 1, c 0 → 2/3 ; pass@1 includes d
  assert.ok(Math.abs(s.pass_at_k['pass@2']! - 2 / 3) < 1e-12);
  assert.equal(s.pass_at_k['pass@1'], 0.625);
  // without the truncated attempt: b → [1] → mean 1 → (1+1+0+1)/4
  assert.equal(s.accuracy_without_truncated, 0.75);
  assert.ok(s.ci95_bootstrap.lo <= s.accuracy && s.accuracy <= s.ci95_bootstrap.hi);
});

test('clustered bootstrap is seeded: same seed, same interval; different seed, different replicates', () => {
  const clusters = Array.from({ length: 50 }, (_, i) => [i % 2, (i * 7) % 3 === 0 ? 1 : 0, 1]);
  const a = clusteredBootstrapCI(clusters, { seed: 42, replicates: 1000 });
  const b = clusteredBootstrapCI(clusters, { seed: 42, replicates: 1000 });
  const c = clusteredBootstrapCI(clusters, { seed: 43, replicates: 1000 });
  assert.deepEqual(a, b);
  assert.notDeepEqual([a.lo, a.hi], [c.lo, c.hi]);
});

test('clustered bootstrap 95% CI covers the true accuracy 93–97% of the time (simulation, fixed seed)', () => {
  // Each sample has its own difficulty p_i ~ Beta-like mixture; k=4 epochs Bernoulli(p_i). Truth = mean of p_i over the population.
  const rng = createRng(2024);
  const trials = 400;
  let covered = 0;
  const truth = 0.6;
  for (let t = 0; t < trials; t++) {
    const clusters: number[][] = [];
    for (let i = 0; i < 100; i++) {
      const p = rng.float() < truth ? 0.9 : 0.1; // population mean = 0.1 + 0.8·0.6 = 0.58
      clusters.push(Array.from({ length: 4 }, () => (rng.float() < p ? 1 : 0)));
    }
    const ci = clusteredBootstrapCI(clusters, { seed: t, replicates: 400 });
    if (ci.lo <= 0.58 && 0.58 <= ci.hi) covered++;
  }
  const rate = covered / trials;
  assert.ok(rate >= 0.92 && rate <= 0.98, `coverage ${rate}`);
});

test('grader timeouts count as wrong in the headline accuracy (other bound reported); grader errors and failed calls are excluded', () => {
  // built from stored measurements the way `assay stats` reads them (the one rule, outcomeOf)
  const m = (value: number | null, status: string, attempt_status = 'ok') => outcomeOf({ epoch: 0, value, status, extracted: value == null ? null : String(value), finish_reason: attempt_status === 'ok' ? 'stop' : 'error', attempt_status });
  const samples: SampleScores[] = [
    { sample_id: 'a', epochs: [m(1, 'ok')] },
    { sample_id: 'b', epochs: [m(null, 'grader_timeout')] }, // grader timeout on a hostile answer
    { sample_id: 'c', epochs: [m(null, 'attempt_error', 'error')] }, // model call failed: no response at all
    { sample_id: 'd', epochs: [m(0, 'ok')] },
    { sample_id: 'e', epochs: [m(null, 'grader_error')] }, // grader error (e.g. the judge was unreachable)
  ];
  const s = computeRunStatistics(samples, { seed: 0, epochs: 1, replicates: 200 });
  assert.equal(s.ungraded, 2);
  assert.equal(s.grader_errors, 1);
  assert.equal(s.failed, 1);
  assert.equal(s.accuracy, 1 / 3); // a 1, b 0 (ungraded), d 0; c excluded
  assert.equal(s.accuracy_excluding_ungraded, 1 / 2); // a 1, d 0
  assert.deepEqual(s.per_epoch_accuracy, [1 / 3]);
});

test('headlineIntervalOfTotals gives headlineInterval of the clusters written out (0/1, proportions, numeric)', async () => {
  const { headlineInterval, headlineIntervalOfTotals } = await import('../../src/stats/accuracy.ts');
  const rng = createRng(9);
  for (let t = 0; t < 60; t++) {
    const kind = t % 3; // 0: 0/1 verdicts, 1: scores in [0, 1], 2: numeric
    const clusters = Array.from({ length: 5 + rng.index(40) }, () => Array.from({ length: 1 + rng.index(kind === 0 ? 6 : 3) }, () => (kind === 0 ? (rng.float() < 0.7 ? 1 : 0) : kind === 1 ? rng.index(3) / 2 : 10 * rng.float() - 3)));
    const k = clusters.map((c) => c.length), s = clusters.map((c) => c.reduce((a, b) => a + b, 0));
    const want = headlineInterval(clusters, 0.95, { numeric: kind === 2 });
    const got = headlineIntervalOfTotals(k, s, { binary: kind === 0, numeric: kind === 2 });
    assert.deepEqual(got, want);
  }
  // a cluster of a million identical verdicts: two numbers, the same interval as a smaller weight's shape allows
  const big = headlineIntervalOfTotals([1e6, 1e6, 3], [1e6, 0, 2], { binary: true });
  assert.ok(big.lo < 0.6 && big.hi > 0.4 && big.lo >= 0 && big.hi <= 1, JSON.stringify(big));
  assert.throws(() => headlineIntervalOfTotals([2], [3], { binary: true }), RangeError);
});
