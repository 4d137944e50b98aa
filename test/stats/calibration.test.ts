/**
 * Calibration metrics checked against values computed by hand on small inputs (ties in confidence included),
 * the HLE reference's quirks reproduced (skipped last bin, failure below beta items, order dependence on ties),
 * missing confidences, and the seeded clustered bootstrap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  brierScore, calibrationReport, equalMassBins, equalWidthBins, expectedCalibrationError, hleCalibErr, hleCompat, rmsCalibrationError,
} from '../../src/stats/calibration.ts';

const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} ≠ ${b}`);

// Example A: n = 5, bin size 2 → bins {0.1, 0.4} and {0.6, 0.8, 0.9} (the last takes the remainder)
const A = { conf: [0.1, 0.4, 0.6, 0.9, 0.8], corr: [0, 1, 0, 1, 1] };

test('RMS calibration error, equal-mass bins, every bin counted (hand-computed)', () => {
  const bins = equalMassBins(A.conf, A.corr, 2);
  assert.equal(bins.length, 2);
  assert.deepEqual(bins.map((b) => b.n), [2, 3]);
  close(bins[0]!.mean_confidence, 0.25);
  close(bins[0]!.accuracy, 0.5);
  close(bins[1]!.mean_confidence, 2.3 / 3);
  close(bins[1]!.accuracy, 2 / 3);
  // sqrt(2/5 · 0.25² + 3/5 · 0.1²) = sqrt(0.025 + 0.006)
  close(rmsCalibrationError(A.conf, A.corr, 2), Math.sqrt(0.031));
  // fewer items than a bin: one bin of everything (no failure)
  close(rmsCalibrationError([0.9, 0.7], [1, 0], 100), Math.abs(0.8 - 0.5));
  assert.ok(Number.isNaN(rmsCalibrationError([], [], 100)));
  // perfectly calibrated bins give 0
  close(rmsCalibrationError([0.5, 0.5, 1, 1], [1, 0, 1, 1], 2), 0);
});

test('ECE with 10 equal-width bins and Brier score (hand-computed)', () => {
  // bins 1, 4, 6, 8, 9 hold one item each: (0.1 + 0.6 + 0.6 + 0.2 + 0.1) / 5
  close(expectedCalibrationError(A.conf, A.corr, 10), 0.32);
  // (0.01 + 0.36 + 0.36 + 0.01 + 0.04) / 5
  close(brierScore(A.conf, A.corr), 0.156);
  // edges: 0.7 lands in [0.7, 0.8) despite float noise; 1.0 in the last (closed) bin
  const w = equalWidthBins([0.7, 1.0, 0.0], [1, 1, 0], 10);
  assert.deepEqual(w.map((b) => [b.lo, b.n]), [[0, 1], [0.7, 1], [0.9, 1]]);
  close(expectedCalibrationError([0.7, 1.0, 0.0], [1, 1, 0], 10), 0.3 / 3);
});

test('ties in confidence: each tie contributes its mean correctness, so input order never matters', () => {
  // four items at 0.5 (two correct), two at 0.9 (both correct), bins of 2: the 0.5 tie straddles a boundary
  const conf = [0.5, 0.5, 0.5, 0.5, 0.9, 0.9];
  const orders = [[1, 1, 0, 0, 1, 1], [1, 0, 1, 0, 1, 1], [0, 0, 1, 1, 1, 1], [0, 1, 1, 0, 1, 1]];
  for (const corr of orders) {
    const bins = equalMassBins(conf, corr, 2);
    assert.deepEqual(bins.map((b) => b.accuracy), [0.5, 0.5, 1]);
    // gaps 0, 0, −0.1 → sqrt(1/3 · 0.01)
    close(rmsCalibrationError(conf, corr, 2), Math.sqrt(0.01 / 3));
  }
  // an unequal tie group: 0.5 ×4 with one correct → every 0.5 item counts 0.25
  close(rmsCalibrationError(conf, [1, 0, 0, 0, 1, 1], 2), Math.sqrt((2 / 6) * 0.0625 * 2 + (2 / 6) * 0.01));
  // the reference, by contrast, depends on the order of the tied items (stable order here)
  close(hleCalibErr(conf, orders[0]!, '2', 2), Math.sqrt((2 / 6) * 0.25 + (2 / 6) * 0.25));
  close(hleCalibErr(conf, orders[1]!, '2', 2), 0);
});

test('hle-compat reproduces calib_err exactly: last bin skipped, weights over all n, fails below beta', () => {
  // example A with beta 2: only the first bin counts, weight 2/5: sqrt(2/5 · 0.0625)
  close(hleCalibErr(A.conf, A.corr, '2', 2), Math.sqrt(0.025));
  close(hleCalibErr(A.conf, A.corr, '1', 2), (2 / 5) * 0.25);
  close(hleCalibErr(A.conf, A.corr, 'infty', 2), 0.25);
  const c = hleCompat(A.conf, A.corr, 2);
  assert.equal(c.reported, 16, 'printed as 100 * round(0.158…, 2)');
  assert.equal(c.skipped_items, 3);
  // n < beta: the reference raises IndexError
  assert.throws(() => hleCalibErr([0.9], [1], '2', 100), /1 items < beta 100/);
  assert.deepEqual(hleCompat(new Array(99).fill(1), new Array(99).fill(0)), { value: null, reported: null, error: 'hle-compat: 99 items < beta 100; the reference fails here (IndexError on bins[-1])', skipped_items: 99 });
  // beta ≤ n < 2·beta: the only bin is skipped → exactly 0, however miscalibrated
  const n150 = { conf: new Array(150).fill(1), corr: new Array(150).fill(0) };
  assert.equal(hleCalibErr(n150.conf, n150.corr), 0);
  close(rmsCalibrationError(n150.conf, n150.corr), 1);
  // 250 items: 100 at 0.3 with 30 correct (calibrated), 150 at 0.9 all wrong: the reference sees only the first bin
  const conf = [...new Array(100).fill(0.3), ...new Array(150).fill(0.9)];
  const corr = [...new Array(30).fill(1), ...new Array(70).fill(0), ...new Array(150).fill(0)];
  close(hleCalibErr(conf, corr), 0); // 0 up to float noise: the mean of 100 × 0.3 is 0.29999999999999993
  close(rmsCalibrationError(conf, corr), Math.sqrt((150 / 250) * 0.81));
  const rep = calibrationReport(conf.map((c, i) => ({ confidence: c, correct: corr[i]! })), { replicates: 0 });
  close(rep.rms_calibration_error.value, Math.sqrt(0.486));
  close(rep.hle_compat.value!, 0);
  assert.equal(rep.hle_compat.reported, 0);
  assert.equal(rep.hle_compat.skipped_items, 150);
});

test('missing confidence: excluded and counted by default; the reference default (100%) is an explicit option', () => {
  const items = [
    { confidence: 0.8, correct: true },
    { confidence: null, correct: false },
    { confidence: 0.6, correct: false },
  ];
  const ex = calibrationReport(items, { replicates: 0 });
  assert.equal(ex.n, 2);
  assert.equal(ex.missing, 1);
  close(ex.brier.value, (0.04 + 0.36) / 2);
  const filled = calibrationReport(items, { replicates: 0, missingConfidence: 1 });
  assert.equal(filled.n, 3);
  assert.equal(filled.missing, 1);
  close(filled.brier.value, (0.04 + 1 + 0.36) / 3);
  assert.throws(() => calibrationReport([{ confidence: 85, correct: 1 }]), /item 0: confidence must be a probability in \[0, 1\], got 85/);
  assert.throws(() => calibrationReport([{ confidence: 0.5, correct: 2 }]), /item 0: correct must be 0\/1/);
  assert.throws(() => calibrationReport([], { binSize: 0 }), /binSize/);
});

test('bootstrap CIs: seeded (same seed, same interval), clustered by sample, cover the point estimate', () => {
  // 300 items from 100 samples × 3 epochs; confidence rises with a seeded pseudo-random pattern
  const items = Array.from({ length: 300 }, (_, i) => {
    const c = ((i * 37) % 100) / 100;
    return { confidence: c, correct: ((i * 53) % 100) / 100 < c ? 1 : 0, cluster: `s${i % 100}` };
  });
  const a = calibrationReport(items, { replicates: 300, seed: 7 });
  const b = calibrationReport(items, { replicates: 300, seed: 7 });
  const c = calibrationReport(items, { replicates: 300, seed: 8 });
  assert.deepEqual(a.rms_calibration_error, b.rms_calibration_error);
  assert.notDeepEqual(a.rms_calibration_error.ci95, c.rms_calibration_error.ci95);
  assert.equal(a.bootstrap.clusters, 100);
  assert.equal(a.bootstrap.seed, 7);
  // Brier is a mean: its interval covers it; binned errors are biased upward and their replicates more so
  assert.ok(a.brier.ci95.lo <= a.brier.value && a.brier.value <= a.brier.ci95.hi, JSON.stringify(a.brier));
  assert.ok(Math.abs(a.brier.bootstrap_bias) < 0.01);
  for (const m of [a.ece, a.rms_calibration_error]) {
    assert.ok(m.ci95.lo < m.ci95.hi);
    assert.ok(m.bootstrap_bias > 0, 'the upward bias of binned calibration errors shows in the bootstrap');
  }
  const off = calibrationReport(items, { replicates: 0 });
  assert.ok(Number.isNaN(off.ece.ci95.lo) && Number.isNaN(off.ece.bootstrap_bias));
  assert.equal(a.reliability.equal_mass.length, 3);
  assert.equal(a.reliability.equal_mass.reduce((s, x) => s + x.n, 0), 300);
  assert.ok(a.reliability.equal_width.length <= 10);
  assert.ok(a.hle_compat.value !== null);
});

test('hle-compat equals the reference calib_err run with numpy (values computed out of tree, numpy 2.4.6)', () => {
  // the same seeded LCG as the out-of-tree check: n in [100, 2100), distinct confidences, correctness ~ confidence
  let seed = 12345;
  const r = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const reference = [[0.03315666082784046, 3], [0.045012550427909644, 5], [0.03545118278694878, 4]];
  for (const [value, printed] of reference) {
    const n = 100 + Math.floor(r() * 2000);
    const conf = Array.from({ length: n }, () => r());
    const corr = conf.map((c) => (r() < c * (0.5 + r()) ? 1 : 0));
    const h = hleCompat(conf, corr);
    assert.ok(Math.abs(h.value! - value!) < 1e-15, `${h.value} vs ${value}`);
    assert.equal(h.reported, printed);
  }
});
