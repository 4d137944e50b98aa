/**
 * Continual metrics (src/stats/continual.ts) against values computed by hand on a 4-checkpoint × 4-task matrix:
 * three adaptation tasks introduced at checkpoints 1, 2, 3 and one held-out zero-shot task.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { continualMetrics, continualReport, type StreamTaskRole } from '../../src/stats/continual.ts';

const jstat = createRequire(import.meta.url)('jstat') as { beta: { inv(p: number, a: number, b: number): number } };

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

  it('backward and forward transfer over the stream so far (GEM on the first t + 1 rows); the last row is BWT / FWT', () => {
    assert.deepEqual(m.backward_transfer.slice(0, 2), [null, null]);
    close(m.backward_transfer[2], 0.5 - 0.7); // A, learnt at 1
    close(m.backward_transfer[3], m.bwt!);
    assert.deepEqual(m.forward_transfer.slice(0, 2), [null, null]);
    close(m.forward_transfer[2], 0.4 - 0.3); // B, introduced at 2: R[1][B] − R[0][B]
    close(m.forward_transfer[3], m.fwt!);
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

  it('is paired across checkpoints: a task scored identically at every checkpoint has a narrow forgetting interval around 0, never one of zero width', () => {
    const flat = [[0, 1, 1, 0, 1, 0, 0, 1], [0, 1, 1, 0, 1, 0, 0, 1], [0, 1, 1, 0, 1, 0, 0, 1]];
    const roles2: StreamTaskRole[] = [{ role: 'adaptation', introduced: 1 }, { role: 'zero-shot' }];
    const r = continualReport([flat, flat.map((x) => x.map((v) => 1 - v))], roles2, { replicates: 2000, seed: 1 });
    const f = r.forgetting[2]!;
    assert.equal(f.value, 0);
    assert.ok(f.ci95 && f.ci95.lo <= 0 && 0 < f.ci95.hi, JSON.stringify(f));
    // Paired: the samples' own variation cancels; what is left is the prior's discordant profiles (mass 1 against 8
    // samples), narrower than one cell's interval (an unpaired draw would be about √2 times a cell's width).
    const cellWidth = r.matrix[1]![0]!.ci95!.hi - r.matrix[1]![0]!.ci95!.lo;
    assert.ok(f.ci95.hi - f.ci95.lo < 0.75 * cellWidth, `${f.ci95.hi - f.ci95.lo} vs cell ${cellWidth}`);
    assert.equal(r.retention[0]!.note, 'exact: 1 by definition at the base');
    assert.deepEqual(r.retention[0]!.ci95, { lo: 1, hi: 1 });
    assert.ok(r.retention[2]!.ci95!.lo < 1 && r.retention[2]!.ci95!.hi > 1);
    // The percentile bootstrap collapses here: reported as undefined with the reason, never as [0, 0].
    const p = continualReport([flat, flat.map((x) => x.map((v) => 1 - v))], roles2, { replicates: 300, seed: 1, interval: 'percentile-bootstrap' });
    assert.equal(p.forgetting[2]!.value, 0);
    assert.equal(p.forgetting[2]!.ci95, null);
    assert.match(p.forgetting[2]!.note!, /every draw gives the same value/);
    assert.equal(p.retention[2]!.ci95, null);
    assert.match(p.method, /paired cluster bootstrap/);
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

it('the interval of a derived metric reading one 0/1 cell is Jeffreys\' interval; at 30/30 it keeps its width and reaches 1 (Brown, Cai & DasGupta)', () => {
  const ones = Array.from({ length: 30 }, () => 1);
  const x27 = Array.from({ length: 30 }, (_, i) => (i < 27 ? 1 : 0));
  const r = continualReport([[x27, x27]], [{ role: 'adaptation', introduced: 1 }], { replicates: 8000, seed: 2 });
  const a = r.accumulation[1]!;
  assert.ok(Math.abs(a.ci95!.lo - jstat.beta.inv(0.025, 27.5, 3.5)) < 0.006, `${a.ci95!.lo}`);
  assert.ok(Math.abs(a.ci95!.hi - jstat.beta.inv(0.975, 27.5, 3.5)) < 0.006, `${a.ci95!.hi}`);
  // Every sample right at both rows: accumulation [Jeffreys lower bound, 1]; forgetting-free BWT around 0, not [0, 0].
  const full = continualReport([[ones, ones, ones]], [{ role: 'adaptation', introduced: 1 }], { replicates: 8000, seed: 3 });
  const acc = full.accumulation[2]!;
  assert.equal(acc.value, 1);
  assert.equal(acc.ci95!.hi, 1);
  assert.ok(Math.abs(acc.ci95!.lo - jstat.beta.inv(0.025, 30.5, 0.5)) < 0.006, `${acc.ci95!.lo}`);
  const bwt = full.bwt;
  assert.equal(bwt.value, 0);
  assert.ok(bwt.ci95!.lo < 0 && bwt.ci95!.hi > 0, JSON.stringify(bwt));
  assert.ok(full.forgetting[2]!.ci95!.hi > 0);
  // The percentile bootstrap on the same data: undefined with its reason.
  const p = continualReport([[ones, ones, ones]], [{ role: 'adaptation', introduced: 1 }], { replicates: 200, seed: 3, interval: 'percentile-bootstrap' });
  for (const e of [p.accumulation[2]!, p.bwt, p.forgetting[2]!]) {
    assert.equal(e.ci95, null);
    assert.match(e.note!, /zero-width interval would claim certainty/);
  }
});

it('a percentile interval over draws where the metric is undefined is reported undefined, not conditioned on the rest', () => {
  // Held-out task with 1 of 30 right at the base: a resample without that sample has base zero-shot accuracy 0.
  const z = [Array.from({ length: 30 }, (_, i) => (i === 0 ? 1 : 0)), Array.from({ length: 30 }, (_, i) => (i < 3 ? 1 : 0))];
  const p = continualReport([z], [{ role: 'zero-shot' }], { replicates: 500, seed: 4, interval: 'percentile-bootstrap' });
  close(p.retention[1]!.value, 3);
  assert.equal(p.retention[1]!.ci95, null);
  assert.match(p.retention[1]!.note!, /undefined in \d+ of 500 draws \(the base zero-shot accuracy is 0/);
  const b = continualReport([z], [{ role: 'zero-shot' }], { replicates: 2000, seed: 4 });
  assert.ok(b.retention[1]!.ci95 && b.retention[1]!.ci95.lo < 3 && b.retention[1]!.ci95.hi > 3, JSON.stringify(b.retention[1]));
});

it('a single checkpoint: zero-shot accuracy with its interval, retention exactly 1, every stream metric undefined', () => {
  const r = continualReport([[[1, 0, 1, 1]]], [{ role: 'zero-shot' }], { replicates: 500, seed: 0 });
  assert.equal(r.zero_shot[0]!.value, 0.75);
  assert.ok(r.zero_shot[0]!.ci95!.lo < 0.75 && r.zero_shot[0]!.ci95!.hi > 0.75);
  assert.deepEqual(r.retention[0], { value: 1, ci95: { lo: 1, hi: 1 }, note: 'exact: 1 by definition at the base' });
  for (const e of [r.accumulation[0]!, r.forgetting[0]!, r.backward_transfer[0]!, r.acc, r.bwt, r.fwt]) assert.deepEqual(e, { value: null, ci95: null });
});
