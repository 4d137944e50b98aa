/**
 * Paired comparison of two runs (src/stats/paired.ts): McNemar (exact, mid-p, clustered), the sign-flip permutation
 * test, paired t and Wilcoxon signed-rank checked against hand computation and brute-force enumeration; attempts
 * paired by epoch number when some failed; and a minimum detectable effect that is never a made-up 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusteredMcNemar, comparePaired, mcnemar, pairedT, signFlipTest, wilcoxonSignedRank } from '../../src/stats/paired.ts';
import { createRng } from '../../src/core/rng.ts';

const close = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);

test('McNemar exact and mid-p match hand computation; clustered McNemar reduces to McNemar with one pair per cluster', () => {
  // b=5, c=1: X ~ Bin(6, 1/2), P(X ≤ 1) = 7/64, P(X = 1) = 6/64
  const m = mcnemar(5, 1);
  close(m.p_exact, 14 / 64, 1e-12);
  close(m.p_mid, 2 * (7 / 64 - 3 / 64), 1e-12);
  assert.equal(mcnemar(3, 3).p_exact, 1);
  close(mcnemar(3, 3).p_mid, 1, 1e-12);
  assert.deepEqual(mcnemar(0, 0), { b: 0, c: 0, p_exact: 1, p_mid: 1 });
  // Durkalski with b_i, c_i ∈ {0,1} per cluster = (b − c)²/(b + c)
  const pairs = [...Array(7).fill({ b: 1, c: 0 }), ...Array(2).fill({ b: 0, c: 1 }), ...Array(10).fill({ b: 0, c: 0 })];
  close(clusteredMcNemar(pairs).statistic, 25 / 9, 1e-12);
});

test('sign-flip permutation test equals brute-force enumeration (mid-p and conventional); lattice DP and Monte Carlo agree with it', () => {
  // [1, 2, 3]: |Σ| = 6 is reached by 2 of 8 sign assignments, none beyond: conventional 2/8, mid-p ½·2/8 (p is the mid-p)
  close(signFlipTest([1, 2, 3], { seed: 0 }).p_conventional, 2 / 8, 1e-12);
  close(signFlipTest([1, 2, 3], { seed: 0 }).p, 1 / 8, 1e-12);
  const rng = createRng(5);
  const d = Array.from({ length: 12 }, () => Math.round((rng.float() - 0.35) * 10) / 10);
  // brute force
  const nz = d.filter((v) => v !== 0);
  const obs = Math.abs(nz.reduce((s, v) => s + v, 0));
  let count = 0, ties = 0;
  for (let mask = 0; mask < 1 << nz.length; mask++) {
    let s = 0;
    nz.forEach((v, i) => (s += mask & (1 << i) ? -v : v));
    if (Math.abs(s) >= obs - 1e-9) count++;
    if (Math.abs(Math.abs(s) - obs) <= 1e-9) ties++;
  }
  const exact = signFlipTest(d, { seed: 0 });
  assert.equal(exact.method, 'exact');
  close(exact.p_conventional, count / 2 ** nz.length, 1e-12);
  close(exact.p, (count - ties / 2) / 2 ** nz.length, 1e-12);
  // the same on the integer lattice (differences in tenths: L = 10), counted by dynamic programming
  const lattice = signFlipTest(d, { seed: 0, lattice: 10, exactMax: 0 });
  assert.equal(lattice.method, 'exact');
  close(lattice.p, exact.p, 1e-12);
  close(lattice.p_conventional, exact.p_conventional, 1e-12);
  const mc = signFlipTest(d, { seed: 1, exactMax: 0, permutations: 20000 });
  assert.equal(mc.method, 'monte carlo');
  close(mc.p, exact.p, 0.01);
  close(mc.p_conventional, exact.p_conventional, 0.01);
  assert.equal(signFlipTest([0, 0], { seed: 0 }).p, 1);
});

test('paired t matches the textbook value; Wilcoxon signed-rank exact matches enumeration, with ties, and the normal approximation', () => {
  const t = pairedT([1, 2, 3, 4]);
  close(t.t, 2.5 / (Math.sqrt(5 / 3) / 2), 1e-12);
  close(t.p, 0.030466, 1e-5); // R: t.test(c(1,2,3,4))$p.value = 0.03046
  // Wilcoxon: 5 positive differences, no ties → P(W+ ≥ 15) = 1/32, two-sided 1/16
  close(wilcoxonSignedRank([1, 2, 3, 4, 5]).p_conventional, 1 / 16, 1e-12);
  close(wilcoxonSignedRank([1, 2, 3, 4, 5]).p, 1 / 32, 1e-12); // mid-p: P(W⁺ = 15) = 1/32 counted half, two-sided
  // ties and a zero: brute force over signs of average ranks
  const d = [0.5, -0.5, 1, 1, -2, 3, 0, 0.5, -1];
  const nz = d.filter((v) => v !== 0);
  const abs = nz.map(Math.abs);
  const rank = abs.map((a) => {
    const less = abs.filter((b) => b < a).length, eq = abs.filter((b) => b === a).length;
    return less + (eq + 1) / 2;
  });
  const w = nz.reduce((s, v, i) => s + (v > 0 ? rank[i]! : 0), 0);
  let lo = 0, hi = 0, eq = 0;
  const total = 2 ** nz.length;
  for (let mask = 0; mask < total; mask++) {
    let s = 0;
    rank.forEach((r, i) => (s += mask & (1 << i) ? r : 0));
    if (s <= w + 1e-9) lo++;
    if (s >= w - 1e-9) hi++;
    if (Math.abs(s - w) <= 1e-9) eq++;
  }
  const res = wilcoxonSignedRank(d);
  assert.equal(res.w_plus, w);
  close(res.p_conventional, Math.min(1, (2 * Math.min(lo, hi)) / total), 1e-12);
  close(res.p, Math.min(1, (2 * Math.min(lo, hi) - eq) / total), 1e-12); // mid-p: the observed W⁺ counted half on each side
  // normal approximation (m > 200) close to the exact distribution just below the threshold
  const rng = createRng(9);
  const big = Array.from({ length: 200 }, () => rng.float() - 0.45);
  const ex = wilcoxonSignedRank(big);
  const approx = wilcoxonSignedRank([...big, 1e-6]); // 201 non-zero → normal
  assert.equal(ex.method, 'exact');
  assert.equal(approx.method, 'normal');
  close(approx.p, ex.p, 0.01);
  close(approx.p_conventional, ex.p_conventional, 0.01);
});

test('McNemar pairs attempts by epoch number: failed (left-out) attempts never shift the pairing', () => {
  // Hand case: A graded at epochs 0 and 2 (epoch 1 failed), B at 0, 1, 2.
  // Epoch-matched pairs: epoch 0 (A 1, B 0) → b; epoch 2 (A 0, B 1) → c. Index pairing would wrongly give (1,0),(0,0).
  const c = comparePaired([[1, 0], [1]], [[0, 0, 1], [1]], { seed: 1, replicates: 50, epochsA: [[0, 2], [0]], epochsB: [[0, 1, 2], [0]] });
  // clustered: sample 1 has b_1 = c_1 = 1, sample 2 is concordant → X² = 0²/0 → statistic 0, p 1, 2 discordant pairs
  assert.equal(c.mcnemar!.clustered!.pairs, 2);
  assert.equal(c.mcnemar!.clustered!.statistic, 0);
  assert.deepEqual({ b: c.mcnemar!.first_epoch.b, c: c.mcnemar!.first_epoch.c }, { b: 1, c: 0 });

  // Property: on random runs with random failures, the counts equal a direct count over epochs graded in both.
  const rng = createRng(11);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + rng.index(8), K = 1 + rng.index(5);
    const a: number[][] = [], b: number[][] = [], ea: number[][] = [], eb: number[][] = [];
    let B = 0, C = 0, B1 = 0, C1 = 0;
    for (let i = 0; i < n; i++) {
      const full = Array.from({ length: K }, () => [rng.float() < 0.6 ? 1 : 0, rng.float() < 0.5 ? 1 : 0] as const);
      const okA = full.map(() => rng.float() < 0.7), okB = full.map(() => rng.float() < 0.7);
      okA[rng.index(K)] = true; // every sample keeps ≥ 1 graded epoch in each run
      okB[rng.index(K)] = true;
      a.push(full.filter((_, j) => okA[j]).map((x) => x[0]));
      ea.push(full.map((_, j) => j).filter((j) => okA[j]));
      b.push(full.filter((_, j) => okB[j]).map((x) => x[1]));
      eb.push(full.map((_, j) => j).filter((j) => okB[j]));
      let first = true;
      for (let j = 0; j < K; j++) {
        if (!okA[j] || !okB[j]) continue;
        const [x, y] = full[j]!;
        if (x === 1 && y === 0) { B++; if (first) B1++; }
        if (x === 0 && y === 1) { C++; if (first) C1++; }
        first = false;
      }
    }
    const r = comparePaired(a, b, { seed: trial, replicates: 20, permutations: 20, epochsA: ea, epochsB: eb });
    assert.equal(r.mcnemar!.first_epoch.b, B1, `trial ${trial}`);
    assert.equal(r.mcnemar!.first_epoch.c, C1, `trial ${trial}`);
    if (r.mcnemar!.clustered) assert.equal(r.mcnemar!.clustered.pairs, B + C, `trial ${trial}`);
    else assert.equal(B + C, B1 + C1);
  }
  // And the exact McNemar p of the hand case b = 3, c = 0: 2·(1/2)³ = 0.25.
  assert.ok(Math.abs(mcnemar(3, 0).p_exact - 0.25) < 1e-12);
});

test('the minimum detectable effect is never a made-up 0: NaN when differences do not vary or there is one sample', () => {
  const cases: [number[][], number[][]][] = [
    [[[1], [0], [1]], [[1], [0], [1]]], // identical runs
    [[[1, 1], [1, 1]], [[0, 0], [0, 0]]], // every difference equal to 1 (SE 0)
    [[[1, 0, 1]], [[0, 0, 1]]], // one shared sample
  ];
  for (const [a, b] of cases) {
    const c = comparePaired(a, b, { seed: 0, replicates: 100 });
    assert.ok(Number.isNaN(c.mde), `MDE ${c.mde} for ${JSON.stringify([a, b])}`);
  }
  const real = comparePaired([[1], [0], [1], [1]], [[0], [0], [1], [0]], { seed: 0, replicates: 200 });
  assert.ok(real.mde > 0 && Number.isFinite(real.mde));
  // The MDE follows the requested level: a stricter α needs a larger effect.
  const strict = comparePaired([[1], [0], [1], [1]], [[0], [0], [1], [0]], { seed: 0, replicates: 200, alpha: 0.01 });
  assert.ok(strict.mde > real.mde);
  assert.equal(strict.mde_alpha, 0.01);
});
