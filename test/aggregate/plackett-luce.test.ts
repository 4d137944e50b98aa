/**
 * Fitting Plackett–Luce and ranking models: the Bradley–Terry special case against its closed form, the MAP as a
 * maximum (finite differences), orderings from measurements with ties, and rankModels recovering a planted order
 * with seeded bootstrap intervals and diagnostics (components, cycles).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChoiceBuilder, choicesFromMeasurements, sufficientStats } from '../../src/aggregate/choices.ts';
import { fitPlackettLuce, plLogPosterior } from '../../src/aggregate/plackett-luce.ts';
import { kendallTau } from '../../src/aggregate/baselines.ts';
import { rankModels } from '../../src/aggregate/rank.ts';
import { syntheticBinary, choicesFromMatrix } from '../../src/aggregate/validate.ts';
import { createRng } from '../../src/core/rng.ts';
import type { PoolMeasurement } from '../../src/store/types.ts';

const bin = (sample: string, model: string, value: number, source = 's'): PoolMeasurement => ({
  source, slice: '', sample_key: sample, model, opponent: '', rep: 0, kind: 'binary', value, direction: 1, tie_tolerance: 0, weight: 1,
});

test('Bradley–Terry special case: MM, LSR and Newton agree and match the closed form for two models', () => {
  // a beats b 30 times, b beats a 10 times; prior λ: the MAP of θa − θb with anchor games solves the score equations.
  const b = new ChoiceBuilder('full');
  const A = b.model('a'), B = b.model('b');
  for (let k = 0; k < 40; k++) b.addPair(b.cluster(`q${k}`), A, B, k < 30 ? 1 : 0);
  const d = b.build();
  const st = sufficientStats(d, null);
  const weak = fitPlackettLuce(d.setPtr, d.setIdx, st.wins, st.setMult, { method: 'mm', prior: 1e-6 });
  // with a vanishing prior, θa − θb → log(30/10)
  assert.ok(Math.abs(weak.theta[0]! - weak.theta[1]! - Math.log(3)) < 1e-4, String(weak.theta[0]! - weak.theta[1]!));
  const mm = fitPlackettLuce(d.setPtr, d.setIdx, st.wins, st.setMult, { method: 'mm', prior: 1 });
  const lsr = fitPlackettLuce(d.setPtr, d.setIdx, st.wins, st.setMult, { method: 'lsr', prior: 1 });
  assert.ok(mm.converged && lsr.converged);
  assert.ok(Math.abs(lsr.theta[0]! - mm.theta[0]!) < 1e-8 && Math.abs(lsr.theta[1]! - mm.theta[1]!) < 1e-8);
  // the prior shrinks towards the anchor: the gap is smaller than log 3
  assert.ok(mm.theta[0]! - mm.theta[1]! < Math.log(3));
});

test('PL MAP is a maximum: the gradient vanishes (finite differences) on listwise data with ties', () => {
  const ms: PoolMeasurement[] = [];
  const rng = createRng(3);
  const models = ['m0', 'm1', 'm2', 'm3', 'm4'];
  for (let s = 0; s < 60; s++) for (const m of models) if (rng.float() < 0.8) ms.push({ ...bin(`x${s}`, m, Math.floor(rng.float() * 4)), kind: 'ordinal' });
  for (const ties of ['full', 'half'] as const) {
    const d = choicesFromMeasurements(ms, { ties });
    const st = sufficientStats(d, null);
    const f = fitPlackettLuce(d.setPtr, d.setIdx, st.wins, st.setMult, { prior: 1 });
    assert.ok(f.converged);
    for (let i = 0; i < f.theta.length; i++) {
      const up = Float64Array.from(f.theta), dn = Float64Array.from(f.theta);
      up[i]! += 1e-5;
      dn[i]! -= 1e-5;
      const g = (plLogPosterior(up, d.setPtr, d.setIdx, st.wins, st.setMult, 1) - plLogPosterior(dn, d.setPtr, d.setIdx, st.wins, st.setMult, 1)) / 2e-5;
      assert.ok(Math.abs(g) < 1e-4, `${ties} grad[${i}] = ${g}`);
    }
  }
});

test('orderings: full-tie convention drops all-tied samples; half-tie keeps ties as ½ wins', () => {
  const ms = [bin('s1', 'a', 1), bin('s1', 'b', 0), bin('s1', 'c', 0), bin('s2', 'a', 1), bin('s2', 'b', 1), bin('s2', 'c', 1)];
  const full = choicesFromMeasurements(ms, { ties: 'full' });
  assert.equal(full.orderings, 2);
  assert.equal(full.droppedAllTied, 1);
  assert.equal(full.evWinner.length, 1); // a chosen from {a,b,c}; the bottom block {b,c} is the remainder
  const half = choicesFromMeasurements(ms, { ties: 'half' });
  const st = sufficientStats(half, null);
  // s1: a beats b, a beats c, b–c tie (½ each); s2: three ties (½ each)
  assert.deepEqual([...st.wins], [2 + 1, 0.5 + 1, 0.5 + 1]);
  // numeric tie tolerance: 0.50 and 0.52 tie at tolerance 0.05, 0.40 is below
  const num = choicesFromMeasurements([
    { ...bin('n', 'a', 0.5), kind: 'numeric', tie_tolerance: 0.05 }, { ...bin('n', 'b', 0.52), kind: 'numeric', tie_tolerance: 0.05 }, { ...bin('n', 'c', 0.4), kind: 'numeric', tie_tolerance: 0.05 },
  ]);
  assert.equal(num.evWinner.length, 2); // b and a both chosen from {a,b,c}
  // lower-is-better: c best
  const low = choicesFromMeasurements([{ ...bin('n', 'a', 3), kind: 'numeric', direction: -1 }, { ...bin('n', 'b', 1), kind: 'numeric', direction: -1 }]);
  assert.equal(low.models[low.evWinner[0]!], 'b');
});

test('tie tolerance holds as given: 0 ties only equal values at every scale; a decimal tolerance holds as written', () => {
  const num = (sample: string, model: string, value: number, tie_tolerance: number, direction: 1 | -1 = 1) => ({ ...bin(sample, model, value), kind: 'numeric' as const, tie_tolerance, direction });
  const events = (ms: ReturnType<typeof num>[]) => choicesFromMeasurements(ms).evWinner.length;
  // tiny values (losses, p-values) are distinct at tolerance 0: one block above the other (one event); a fixed band
  // of 1e-12 tied them (no event)
  assert.equal(events([num('s', 'a', 1e-13, 0), num('s', 'b', 0, 0)]), 1);
  assert.equal(events([num('s', 'a', 3e-15, 0, -1), num('s', 'b', 2e-15, 0, -1)]), 1);
  assert.equal(events([num('s', 'a', 1e-300, 0), num('s', 'b', 0, 0)]), 1);
  // equal values tie at tolerance 0 (one block: no event), also a mean of repeats taken in another order
  assert.equal(events([num('s', 'a', 0.1 + 0.2, 0), num('s', 'b', 0.3, 0)]), 0);
  // a decimal tolerance as written: 1.1 − 1.0 is 0.10000000000000009 in binary, within 0.1; 1.1 − 0.99 is not
  assert.equal(events([num('s', 'a', 1.1, 0.1), num('s', 'b', 1.0, 0.1)]), 0);
  assert.equal(events([num('s', 'a', 1.1, 0.1), num('s', 'b', 0.99, 0.1)]), 1);
  // large scores: 1e9 and 1e9 + 1 are distinct at tolerance 0 (one unit is far above rounding there), and so are
  // 10¹⁵ + 1 and 10¹⁵ (8 units in the last place apart), also at a tolerance below their difference
  assert.equal(events([num('s', 'a', 1e9 + 1, 0), num('s', 'b', 1e9, 0)]), 1);
  assert.equal(events([num('s', 'a', 1e15 + 1, 0), num('s', 'b', 1e15, 0)]), 1);
  assert.equal(events([num('s', 'a', 1e15 + 1, 0.5), num('s', 'b', 1e15, 0.5)]), 1);
  // the same repeats in another order have the same mean: a tie at tolerance 0 (a running mean gave 1.4e-17 and
  // 6.9e-18, an ordering with a certain-looking winner); different repeats do not tie
  const reps = (model: string, values: number[]) => values.map((v, rep) => ({ ...num('s', model, v, 0), rep }));
  assert.equal(events([...reps('a', [0.1, 0.2, -0.3]), ...reps('b', [-0.3, 0.2, 0.1])]), 0);
  assert.equal(events([...reps('a', [1e16, 1, -1e16, 2]), ...reps('b', [2, -1e16, 1, 1e16])]), 0);
  assert.equal(events([...reps('a', [0.1, 0.2, -0.3]), ...reps('b', [-0.3, 0.2, 0.1 + 1e-16])]), 1);
});

test('rankModels: recovers a planted order, bootstrap is seeded, diagnostics find components and cycles', () => {
  const { matrix, truth } = syntheticBinary({ models: 8, samples: 600, seed: 1, spread: 1.5 });
  const d = choicesFromMatrix(matrix, null, 'full', null, true);
  const r1 = rankModels(d, { replicates: 100, seed: 7 });
  const r2 = rankModels(d, { replicates: 100, seed: 7 });
  assert.deepEqual(r1.models, r2.models);
  const byName = new Map(r1.models.map((m) => [m.model, m]));
  const tau = kendallTau(matrix.models.map((m) => byName.get(m)!.score), truth);
  assert.ok(tau > 0.85, `τ = ${tau}`);
  for (const m of r1.models) {
    assert.ok(m.ci[0] <= m.score + 1e-9 && m.score - 1e-9 <= m.ci[1]);
    assert.ok(m.rank_interval[0] <= m.rank && m.rank <= m.rank_interval[1]);
  }
  assert.equal(r1.diagnostics.components.length, 1);

  // two disconnected groups plus a rock–paper–scissors cycle
  const b = new ChoiceBuilder('full');
  const [x, y, z, u, v] = ['x', 'y', 'z', 'u', 'v'].map((n) => b.model(n)) as [number, number, number, number, number];
  let q = 0;
  for (let k = 0; k < 5; k++) {
    b.addPair(b.cluster(`q${q++}`), x, y, 1);
    b.addPair(b.cluster(`q${q++}`), y, z, 1);
    b.addPair(b.cluster(`q${q++}`), z, x, 1);
    b.addPair(b.cluster(`q${q++}`), u, v, 1);
  }
  const rr = rankModels(b.build(), { replicates: 50 });
  assert.equal(rr.diagnostics.components.length, 2);
  assert.equal(rr.diagnostics.cycles.count, 1);
  assert.deepEqual([...rr.diagnostics.cycles.examples[0]!.models].sort(), ['x', 'y', 'z']);
  // the prior keeps everything finite even for u (never loses) and v (never wins)
  for (const m of rr.models) assert.ok(Number.isFinite(m.score) && Math.abs(m.score) < 10);
});
