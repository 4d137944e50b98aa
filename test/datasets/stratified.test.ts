/**
 * Stratified subsets: proportional allocation by the largest remainder (quotas by hand), a simple random sample within
 * each stratum (uniform over seeds), determinism by seed, nesting, and errors that name the field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { stratifiedSamples, stratifiedSubset } from '../../src/datasets/stratified.ts';

// 100 samples: subject algebra 50, geometry 30, logic 15, none 5.
const subjects = (i: number) => (i < 50 ? 'algebra' : i < 80 ? 'geometry' : i < 95 ? 'logic' : undefined);
const samples: Sample[] = Array.from({ length: 100 }, (_, i) => ({ id: `q${i}`, input: `question ${i}`, target: String(i % 4), metadata: subjects(i) ? { subject: subjects(i), difficulty: i % 3 } : {} }));
const fieldIs = (f: string) => (e: unknown) => e instanceof InputError && e.where.field === f;

describe('stratified subsets', () => {
  it('proportional allocation: quotas by hand (largest remainder), every stratum as its share', () => {
    const r = stratifiedSamples(samples, { size: 20, by: 'subject', seed: 1 });
    // 20·(50, 30, 15, 5)/100 = 10, 6, 3, 1 exactly.
    assert.deepEqual(r.strata, [{ key: '(missing)', population: 5, drawn: 1 }, { key: 'algebra', population: 50, drawn: 10 }, { key: 'geometry', population: 30, drawn: 6 }, { key: 'logic', population: 15, drawn: 3 }]);
    assert.equal(r.ids.length, 20);
    assert.equal(r.samples.filter((s) => s.metadata.subject === 'geometry').length, 6);
    // 7 of 100: exact 3.5, 2.1, 1.05, 0.35 → floors 3, 2, 1, 0 (6); the one left goes to the largest remainder (algebra, .5).
    const seven = stratifiedSubset(samples, { size: 7, by: 'subject' });
    assert.deepEqual(seven.strata.map((s) => s.drawn), [0, 4, 2, 1]);
    // Drawn ids keep the samples' order; the spec is recorded.
    assert.deepEqual(r.ids, [...r.ids].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
    assert.deepEqual(r.spec, { by: 'subject', size: 20, seed: 1, population: 100, allocation: 'proportional (largest remainder)' });
    // A fraction: round(0.25·100) = 25; a top-level field (target) as strata.
    const byTarget = stratifiedSubset(samples, { fraction: 0.25, by: 'target' });
    assert.deepEqual(byTarget.strata.map((s) => [s.key, s.drawn]), [['0', 7], ['1', 6], ['2', 6], ['3', 6]]);
    // Numbers as strata keys (metadata.difficulty, written explicitly).
    assert.deepEqual(stratifiedSubset(samples, { size: 19, by: 'metadata.difficulty' }).strata.map((s) => s.key), ['(missing)', '0', '1', '2']);
  });

  it('determinism by seed, order independence, nesting; within a stratum every sample equally likely', () => {
    const a = stratifiedSubset(samples, { size: 20, by: 'subject', seed: 4 });
    assert.deepEqual(stratifiedSubset(samples, { size: 20, by: 'subject', seed: 4 }).ids, a.ids);
    assert.deepEqual([...stratifiedSubset([...samples].reverse(), { size: 20, by: 'subject', seed: 4 }).ids].sort(), [...a.ids].sort());
    assert.notDeepEqual(stratifiedSubset(samples, { size: 20, by: 'subject', seed: 5 }).ids, a.ids);
    // 10 of 100 (quotas 0, 5, 3, 2: the tie of remainders .5 goes to the larger stratum) is inside 20 of 100 (1, 10, 6, 3).
    const small = stratifiedSubset(samples, { size: 10, by: 'subject', seed: 4 });
    assert.deepEqual(small.strata.map((x) => x.drawn), [0, 5, 3, 2]);
    for (const id of small.ids) assert.ok(a.ids.includes(id), id);
    // Inclusion frequency of each algebra sample over 2,000 seeds: 10/50 = 0.2 each (binomial sd 0.009; allow 5 sd).
    const counts = new Map<string, number>();
    for (let s = 0; s < 2000; s++) for (const id of stratifiedSubset(samples, { size: 20, by: 'subject', seed: s }).ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (let i = 0; i < 50; i++) {
      const f = (counts.get(`q${i}`) ?? 0) / 2000;
      assert.ok(Math.abs(f - 0.2) < 0.045, `q${i} drawn ${f}`);
    }
  });

  it('errors name the field', () => {
    assert.throws(() => stratifiedSubset(samples, { by: 'subject' }), fieldIs('subset.size'));
    assert.throws(() => stratifiedSubset(samples, { size: 5, fraction: 0.1 }), fieldIs('subset.size'));
    assert.throws(() => stratifiedSubset(samples, { size: 101 }), (e: unknown) => fieldIs('subset.size')(e) && /1 to 100/.test((e as Error).message));
    assert.throws(() => stratifiedSubset(samples, { fraction: 0 }), fieldIs('subset.fraction'));
    assert.throws(() => stratifiedSubset(samples, { size: 1, seed: 0.5 }), fieldIs('subset.seed'));
    assert.throws(() => stratifiedSubset([], { size: 1 }), fieldIs('subset'));
    assert.throws(() => stratifiedSubset([{ id: 'x' }, { id: 'x' }], { size: 1 }), fieldIs('id'));
  });
});

it('strata from the base checkpoint\'s difficulty: given per item (missing ones apart), recorded; never with a field, never without strata', () => {
  const items = Array.from({ length: 12 }, (_, i) => ({ id: `s${i}`, metadata: { subject: 'x' } }));
  // 8 items the base got right, 3 it got wrong, 1 not measured.
  const strata = new Map(items.slice(0, 11).map((it, i) => [it.id, i < 8 ? 'base error 0.000' : 'base error 1.000']));
  const r = stratifiedSubset(items, { size: 6, difficulty_from: 'base', seed: 4 }, { strata });
  assert.deepEqual(r.strata, [{ key: '(missing)', population: 1, drawn: 0 }, { key: 'base error 0.000', population: 8, drawn: 4 }, { key: 'base error 1.000', population: 3, drawn: 2 }]);
  assert.equal(r.spec.by, 'base error rate');
  assert.equal(r.spec.difficulty_from, 'base');
  assert.equal(r.ids.filter((id) => strata.get(id) === 'base error 1.000').length, 2);
  assert.throws(() => stratifiedSubset(items, { size: 6, difficulty_from: 'base', by: 'subject' }, { strata }), (e: unknown) => e instanceof InputError && e.where.field === 'subset.by');
  assert.throws(() => stratifiedSubset(items, { size: 6, difficulty_from: 'base' }), (e: unknown) => e instanceof InputError && e.where.field === 'subset.difficulty_from');
});
