/**
 * Learnability (student loss − reference loss, ACID) and corpus perplexity: the pure functions
 * (src/stats/learnability.ts, src/stats/perplexity.ts) on constructed pools whose answers are known, and the pool
 * analysis (src/analyses/loglikelihood.ts) over two real log-likelihood runs against the test server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { createRng } from '../../src/core/rng.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { learnabilityOfRuns } from '../../src/analyses/loglikelihood.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { rankByLearnability, selectByLearnability, subsetSize, type LearnabilityItem } from '../../src/stats/learnability.ts';
import { corpusPerplexity } from '../../src/stats/perplexity.ts';
import { openPool } from '../../src/store/open.ts';
import { defineTask } from '../../src/tasks/task.ts';

/** 400 items: reference losses uniform in [0.5, 1.5]; the student is worse by a gap uniform in [0, 1]. */
function pool400(seed = 3): LearnabilityItem[] {
  const rng = createRng(seed);
  return Array.from({ length: 400 }, (_, i) => {
    const reference = 0.5 + rng.float();
    return { id: `i${String(i).padStart(3, '0')}`, reference, student: reference + rng.float() };
  });
}

test('learnability ranks by student − reference loss, ties by id; the subset size is round(fraction · n)', () => {
  const r = rankByLearnability([
    { id: 'b', student: 2, reference: 1 },
    { id: 'a', student: 3, reference: 2 },
    { id: 'c', student: 5, reference: 1 },
    { id: 'd', student: 1, reference: 2 },
  ]);
  assert.deepEqual(r.map((x) => [x.id, x.learnability, x.rank]), [['c', 4, 1], ['a', 1, 2], ['b', 1, 3], ['d', -1, 4]]);
  assert.equal(subsetSize(400, 0.1), 40);
  assert.equal(subsetSize(3, 0.01), 1);
  assert.throws(() => subsetSize(10, 0), RangeError);
  assert.throws(() => rankByLearnability([{ id: 'x', student: NaN, reference: 1 }]), /finite/);
});

test('the selected top 10% is more learnable and harder for the student than random subsets, with intervals that say so', () => {
  const items = pool400();
  const s = selectByLearnability(items, { fraction: 0.1, seed: 5, replicates: 400, draws: 400 });
  assert.equal(s.k, 40);
  assert.equal(s.selected.length, 40);
  const d = s.difficulty;
  // The gap is uniform in [0, 1]: the top 10% have gaps near 0.95, a random subset near 0.5.
  assert.ok(d.learnability.selected.value > 0.9 && d.learnability.random.value > 0.45 && d.learnability.random.value < 0.55, JSON.stringify(d.learnability));
  assert.ok(d.learnability.difference.ci95.lo > 0.3, JSON.stringify(d.learnability.difference));
  assert.ok(d.student_loss.difference.ci95.lo > 0, 'the student finds the selected items harder');
  // The reference loss is independent of the gap: its difference interval covers 0.
  assert.ok(d.reference_loss.difference.ci95.lo < 0 && d.reference_loss.difference.ci95.hi > 0, JSON.stringify(d.reference_loss.difference));
  // Random subsets' means spread around the pool mean; the selected interval sits inside the bootstrap's.
  assert.ok(d.learnability.random.ci95.lo < d.learnability.random.value && d.learnability.random.value < d.learnability.random.ci95.hi);
  assert.equal(s.rankings, null);
  // Seeded: the same seed gives the same intervals, another seed other intervals but the same selection.
  assert.deepEqual(selectByLearnability(items, { fraction: 0.1, seed: 5, replicates: 400, draws: 400 }), s);
  const t = selectByLearnability(items, { fraction: 0.1, seed: 6, replicates: 400, draws: 400 });
  assert.deepEqual(t.selected, s.selected);
  assert.notDeepEqual(t.difficulty.learnability.difference.ci95, s.difficulty.learnability.difference.ci95);
});

test('model rankings on the selected subset against the full pool and random subsets (Kendall τ with intervals)', () => {
  const items = pool400();
  const ranked = rankByLearnability(items);
  const learnable = new Set(ranked.slice(0, 40).map((r) => r.id));
  const rng = createRng(9);
  // Three models: A is best overall; B is a little worse overall but excels exactly on the learnable items; C is worst.
  const scores = (f: (id: string) => number) => new Map(items.map((it) => [it.id, f(it.id)]));
  const models = [
    { name: 'A', scores: scores(() => (rng.float() < 0.8 ? 1 : 0)) },
    { name: 'B', scores: scores((id) => (learnable.has(id) ? 1 : rng.float() < 0.7 ? 1 : 0)) },
    { name: 'C', scores: scores(() => (rng.float() < 0.4 ? 1 : 0)) },
  ];
  const s = selectByLearnability(items, { fraction: 0.1, models, seed: 1, replicates: 300, draws: 300 });
  const by = Object.fromEntries(s.rankings!.models.map((m) => [m.name, m]));
  assert.deepEqual([by.A!.rank_full, by.B!.rank_full, by.C!.rank_full], [1, 2, 3]);
  assert.deepEqual([by.B!.rank_selected, by.A!.rank_selected, by.C!.rank_selected], [1, 2, 3]);
  assert.equal(by.B!.selected.value, 1);
  assert.ok(by.B!.full.ci95.lo < by.B!.full.value && by.B!.full.value < by.B!.full.ci95.hi);
  // Swapping the top two of three models: τ = 1/3 on the selected subset; random subsets mostly keep the order.
  assert.ok(Math.abs(s.rankings!.tau_selected.value - 1 / 3) < 1e-12);
  assert.ok(s.rankings!.tau_random.value > 0.6, JSON.stringify(s.rankings!.tau_random));
  // Lower-is-better scores rank the other way round.
  const losses = selectByLearnability(items, { fraction: 0.1, models: models.map((m) => ({ ...m, higherIsBetter: false })), seed: 1, replicates: 50, draws: 50 });
  assert.deepEqual(losses.rankings!.models.map((m) => m.rank_full), [3, 2, 1]);
});

test('corpus perplexity is a ratio of sums (lm-eval\'s weighted_perplexity and bits_per_byte), with a bootstrap interval', () => {
  const items = [
    { logprob: -10, tokens: 5, bytes: 20, words: 4 },
    { logprob: -30, tokens: 10, bytes: 40, words: 8 },
    { logprob: -2, tokens: 1, bytes: 4, words: 1 },
  ];
  const p = corpusPerplexity(items, { seed: 0, replicates: 500 });
  assert.equal(p.bits_per_byte.value, 42 / 64 / Math.LN2);
  assert.equal(p.byte_perplexity.value, Math.exp(42 / 64));
  assert.equal(p.word_perplexity.value, Math.exp(42 / 13));
  assert.equal(p.token_perplexity.value, Math.exp(42 / 16));
  assert.equal(p.nll_per_token.value, 42 / 16);
  // Not the mean of the per-document values.
  const meanOfRatios = items.reduce((a, it) => a + -it.logprob / it.tokens, 0) / items.length;
  assert.notEqual(p.nll_per_token.value, meanOfRatios);
  for (const f of [p.bits_per_byte, p.word_perplexity, p.nll_per_token]) assert.ok(f.ci95.lo <= f.value && f.value <= f.ci95.hi, JSON.stringify(f));
  assert.deepEqual(corpusPerplexity(items, { seed: 0, replicates: 500 }), p);
  assert.throws(() => corpusPerplexity([]), RangeError);
});

test('learnability of two log-likelihood runs read from the pool: the items the student has yet to learn are selected', async () => {
  // 30 documents; the student finds the ten about "zebra" hard (3 nats per token), everything else easy (1 nat);
  // the reference model finds everything easy.
  const docs: Sample[] = Array.from({ length: 30 }, (_, i) => ({ id: `d${i}`, input: i % 3 === 0 ? `The zebra number ${i} runs across the plain.` : `The horse number ${i} walks along the road.`, target: '', metadata: {} }));
  const student = await startFakeOpenAIServer({ tokenLogprob: (prefix) => (prefix.includes('zebra') ? -3 : -1), modelId: 'student' });
  const reference = await startFakeOpenAIServer({ tokenLogprob: () => -1, modelId: 'reference' });
  const pool = await openPool('memory:');
  try {
    const task = defineTask({ name: 'animals', dataset: { name: 'animals', samples: docs }, solver: 'loglikelihood_rolling', scorers: ['bits_per_byte'] });
    const rs = await evaluate(task, [`openai-compatible:${student.url}#student`, `openai-compatible:${reference.url}#reference`], { pool });
    const [sRun, rRun] = rs.cells.map((c) => c.run_id);
    const l = await learnabilityOfRuns(pool, { student: sRun!, reference: rRun!, fraction: 1 / 3, compare: [sRun!, rRun!], replicates: 200, draws: 200 });
    assert.equal(l.items, 30);
    assert.equal(l.k, 10);
    assert.deepEqual(new Set(l.selected), new Set(docs.filter((_, i) => i % 3 === 0).map((d) => d.id)));
    assert.ok(l.difficulty.learnability.difference.ci95.lo > 0);
    assert.equal(l.loss, 'byte');
    assert.equal(l.top.length, 10);
    // Ranked by bits per byte (lower is better): the reference model is first on the full pool and on the subset.
    const ranks = Object.fromEntries(l.rankings!.models.map((m) => [m.name.split(' ')[0], [m.rank_full, m.rank_selected]]));
    assert.deepEqual(ranks, { [`openai-compatible:${student.url}#student`]: [2, 2], [`openai-compatible:${reference.url}#reference`]: [1, 1] });
    // Runs over different datasets are refused.
    const other = defineTask({ name: 'other', dataset: { name: 'other', samples: docs.slice(0, 5) }, solver: 'loglikelihood_rolling', scorers: ['bits_per_byte'] });
    const o = await evaluate(other, `openai-compatible:${reference.url}#reference`, { pool });
    await assert.rejects(learnabilityOfRuns(pool, { student: sRun!, reference: o.cells[0]!.run_id }), /score different datasets/);
  } finally {
    await pool.close();
    await student.close();
    await reference.close();
  }
});
