/**
 * Continual metrics (src/stats/continual.ts) against values computed by hand on a 4-checkpoint × 4-task matrix:
 * three adaptation tasks introduced at checkpoints 1, 2, 3 and one held-out zero-shot task.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { continualMetrics, continualReport, type StreamTaskRole } from '../../src/stats/continual.ts';

// Rows: base, c1, c2, c3. Columns: A (introduced at 1), B (at 2), C (at 3), Z (held out).
const R = [
  [0.2, 0.3, 0.1, 0.8],
  [0.7, 0.4, 0.2, 0.7],
  [0.5, 0.9, 0.3, 0.6],
  [0.4, 0.7, 0.8, 0.4],
];
const roles: StreamTaskRole[] = [
  { role: 'adaptation', introduced: 1 },
  { role: 'adaptation', introduced: 2 },
  { role: 'adaptation', introduced: 3 },
  { role: 'zero-shot' },
];
const close = (a: number | null | undefined, b: number, msg?: string) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} vs ${b}`);

describe('continual metrics on a hand-computed matrix', () => {
  const m = continualMetrics(R, roles);

  it('knowledge accumulation: mean over the adaptation tasks introduced so far', () => {
    assert.equal(m.accumulation[0], null);
    close(m.accumulation[1], 0.7); // A
    close(m.accumulation[2], (0.5 + 0.9) / 2);
    close(m.accumulation[3], (0.4 + 0.7 + 0.8) / 3);
  });

  it('zero-shot accuracy, retention relative to the base, geometric mean', () => {
    [0.8, 0.7, 0.6, 0.4].forEach((z, t) => close(m.zero_shot[t], z));
    [1, 0.875, 0.75, 0.5].forEach((r, t) => close(m.retention[t], r));
    assert.equal(m.geometric_mean[0], null);
    close(m.geometric_mean[1], 0.7); // √(0.7 · 0.7)
    close(m.geometric_mean[2], Math.sqrt(0.7 * 0.6));
    close(m.geometric_mean[3], Math.sqrt((1.9 / 3) * 0.4));
  });

  it('forgetting (Chaudhry et al. 2018): max over earlier rows minus now, averaged over earlier tasks', () => {
    assert.equal(m.forgetting[0], null);
    assert.equal(m.forgetting[1], null);
    close(m.forgetting[2], 0.7 - 0.5); // A only
    close(m.forgetting[3], ((0.7 - 0.4) + (0.9 - 0.7)) / 2); // A: max(.7,.5) − .4; B: max(.4,.9) − .7
  });

  it('GEM ACC, BWT, FWT (Lopez-Paz & Ranzato 2017)', () => {
    close(m.acc, 1.9 / 3);
    close(m.bwt, ((0.4 - 0.7) + (0.7 - 0.9)) / 2); // A, B (C is learnt at the last row)
    close(m.fwt, ((0.4 - 0.3) + (0.3 - 0.1)) / 2); // B: R[1][B] − R[0][B]; C: R[2][C] − R[0][C]
  });

  it('rejects a task introduced at the base or after the last checkpoint, and ragged matrices', () => {
    assert.throws(() => continualMetrics(R, [{ role: 'adaptation', introduced: 0 }, ...roles.slice(1)]), /introduced/);
    assert.throws(() => continualMetrics(R, [{ role: 'adaptation', introduced: 4 }, ...roles.slice(1)]), /introduced/);
    assert.throws(() => continualMetrics([[0.1, 0.2], [0.3]], roles.slice(0, 2)), /columns/);
  });
});

describe('paired bootstrap intervals', () => {
  // 10 samples per task whose 0/1 scores average to R exactly (round(10·R) ones first).
  const scores = roles.map((_, j) => R.map((row) => Array.from({ length: 10 }, (_, i) => (i < Math.round(row[j]! * 10) ? 1 : 0))));

  it('point values equal the matrix metrics; intervals contain them; same seed, same intervals', () => {
    const r = continualReport(scores, roles, { replicates: 400, seed: 3 });
    assert.deepEqual(r.samples, [10, 10, 10, 10]);
    r.matrix.forEach((row, c) => row.forEach((e, j) => close(e.value, R[c]![j]!)));
    close(r.bwt.value, -0.25);
    close(r.fwt.value, 0.15);
    for (const e of [r.acc, r.bwt, r.fwt, ...r.accumulation.slice(1), ...r.forgetting.slice(2), ...r.retention.slice(1)]) {
      assert.ok(e.ci95 && e.ci95.lo <= e.value! && e.value! <= e.ci95.hi, JSON.stringify(e));
    }
    assert.equal(r.accumulation[0]!.ci95, null);
    assert.deepEqual(continualReport(scores, roles, { replicates: 400, seed: 3 }), r);
    assert.match(r.method, /seed 3/);
  });

  it('is paired across checkpoints: a task scored identically at every checkpoint has zero forgetting in every replicate', () => {
    const flat = [[0, 1, 1, 0, 1, 0, 0, 1], [0, 1, 1, 0, 1, 0, 0, 1], [0, 1, 1, 0, 1, 0, 0, 1]];
    const r = continualReport([flat, flat.map((x) => x.map((v) => 1 - v))], [{ role: 'adaptation', introduced: 1 }, { role: 'zero-shot' }], { replicates: 300, seed: 1 });
    assert.deepEqual(r.forgetting[2], { value: 0, ci95: { lo: 0, hi: 0 } });
    assert.deepEqual(r.retention[2], { value: 1, ci95: { lo: 1, hi: 1 } });
    // The cells themselves vary between replicates (an unpaired draw would make the differences vary too).
    assert.ok(r.matrix[1]![0]!.ci95!.lo < r.matrix[1]![0]!.ci95!.hi);
  });
});

it('a stream cell at 100% or 0% keeps an interval of non-zero width (Wilson on its samples)', () => {
  const ones = Array.from({ length: 30 }, () => 1);
  const zeros = Array.from({ length: 30 }, () => 0);
  const r = continualReport([[ones, zeros]], [{ role: 'adaptation', introduced: 1 }], { replicates: 200, seed: 1 });
  const top = r.matrix[0]![0]!, bottom = r.matrix[1]![0]!;
  assert.equal(top.value, 1);
  assert.equal(top.ci95!.hi, 1);
  assert.ok(Math.abs(top.ci95!.lo - 0.8865) < 0.001, `Wilson lower bound for 30/30 is 0.8865, got ${top.ci95!.lo}`);
  assert.equal(bottom.value, 0);
  assert.equal(bottom.ci95!.lo, 0);
  assert.ok(Math.abs(bottom.ci95!.hi - 0.1135) < 0.001, `Wilson upper bound for 0/30 is 0.1135, got ${bottom.ci95!.hi}`);
});
