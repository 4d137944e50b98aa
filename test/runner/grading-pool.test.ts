/**
 * Grading where it cannot block the process (src/runner/grading-pool.ts): built-in text scorers give the same
 * verdicts in the grading worker as inline; a verdict that hangs becomes a grader_timeout at the hard limit while the
 * main thread keeps running and the other verdicts come back; a verdict that eats memory or throws becomes a
 * grader_error; one that never settles times out; the pool recovers after each.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import '../fixtures/hanging-scorer.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { gradeAll } from '../../src/runner/grade.ts';
import { GradingPool } from '../../src/runner/grading-pool.ts';
import { createScorer, offThreadSpec } from '../../src/scorers/registry.ts';

const pool = new GradingPool({ workers: 1, hardLimitMs: 600 });
after(() => pool.close());

const sample = (target: string, extra: Partial<Sample> = {}): Sample => ({ id: 'x', input: 'a long prompt '.repeat(1000), target, metadata: {}, ...extra });

test('built-in text scorers grade in the worker exactly as inline; the judge and hand-made scorers stay inline', async () => {
  const scorers = ['math', 'math?percent=scaled&relTol=0.001', 'gsm8k', 'exact?ignoreCase=true', 'choice', 'needle?credit=partial'].map((s) => createScorer(s));
  for (const s of scorers) assert.deepEqual(offThreadSpec(s), { label: s.name });
  assert.equal(offThreadSpec({ ...scorers[0]! }), null, 'a copy is not a registry-made scorer');
  const cases: [Sample, string][] = [
    [sample('\\frac{1}{2}'), 'so the answer is \\boxed{0.5}'],
    [sample('42'), 'The answer is 41.'],
    [sample('1,234'), '#### 1234'],
    [sample('B', { choices: ['x', 'y', 'z'] }), 'The answer is (B).'],
    [sample('Paris'), 'paris'],
    [sample('[1, 2, 3]'), '\\boxed{1, 2, 3}'],
    [sample('x^2+2x+1'), '\\boxed{(x+1)^2}'],
  ];
  for (const [smp, text] of cases) {
    const inline = await gradeAll(scorers, smp, text, undefined, { pool: false });
    const off = await gradeAll(scorers, smp, text, undefined, { pool });
    assert.deepEqual(off, inline, `${smp.target} / ${text}`);
  }
});

test('a verdict that hangs is stopped at the hard limit (grader_timeout) while the main thread runs on; the others come back', async () => {
  const s = createScorer('hang-test');
  const spec = offThreadSpec(s)!;
  assert.match(spec.module ?? '', /hanging-scorer\.ts$/);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 20);
  const t0 = performance.now();
  const [hung, ok1, ok2] = await Promise.all([
    gradeAll([s], sample('7'), 'HANG', undefined, { pool }),
    gradeAll([s], sample('7'), '7', undefined, { pool }),
    gradeAll([s], sample('7'), '8', undefined, { pool }),
  ]);
  clearInterval(timer);
  const ms = performance.now() - t0;
  assert.equal(hung[0]!.status, 'grader_timeout');
  assert.match(hung[0]!.explanation ?? '', /hard limit of 600 ms/);
  assert.deepEqual([ok1[0]!.value, ok2[0]!.value], [1, 0], 'the verdicts queued behind the stuck one are graded by a fresh worker');
  assert.ok(ms < 30_000, `${ms.toFixed(0)} ms: a hang guard (the stuck grade must not hold the others)`);
  assert.ok(ticks >= Math.floor(ms / 20) * 0.5, `the main thread kept running (${ticks} ticks in ${ms.toFixed(0)} ms)`);
  // and the pool is fine afterwards
  assert.equal((await gradeAll([s], sample('3'), '3', undefined, { pool }))[0]!.value, 1);
});

test('a verdict that eats memory, throws, or never settles becomes a recorded outcome, never a crash', async () => {
  const s = createScorer('hang-test');
  const [bloat, thrown, never] = await Promise.all([
    gradeAll([s], sample('1'), 'BLOAT', undefined, { pool }),
    gradeAll([s], sample('1'), 'THROW', undefined, { pool }),
    gradeAll([s], sample('1'), 'NEVER', undefined, { pool }),
  ]);
  assert.ok(bloat[0]!.status === 'grader_error' || bloat[0]!.status === 'grader_timeout', JSON.stringify(bloat[0]));
  assert.equal(thrown[0]!.status, 'grader_error');
  assert.match(thrown[0]!.explanation ?? '', /thrown on purpose/);
  assert.equal(never[0]!.status, 'grader_timeout');
  assert.equal((await gradeAll([s], sample('2'), '2', undefined, { pool }))[0]!.value, 1);
});

test('releaseIdle ends the workers that hold no verdict, leaves one that is grading, and grading starts them again', async () => {
  const p = new GradingPool({ workers: 1, hardLimitMs: 2_000 });
  try {
    const math = createScorer('math');
    assert.deepEqual(await gradeAll([math], sample('42'), 'The answer is 42.', undefined, { pool: p }), await gradeAll([math], sample('42'), 'The answer is 42.', undefined, { pool: false }));
    assert.equal(p.workers, 1);
    await p.releaseIdle();
    assert.equal(p.workers, 0, 'an idle worker is ended');
    // a verdict in flight keeps its worker: the hanging scorer holds it until the hard limit
    const hanging = gradeAll([createScorer('hang-test')], sample('1'), 'HANG', undefined, { pool: p });
    await new Promise((r) => setTimeout(r, 300));
    await p.releaseIdle();
    assert.equal(p.workers, 1, 'a worker holding a verdict is not ended');
    assert.equal((await hanging)[0]!.status, 'grader_timeout');
    const again = await gradeAll([math], sample('7'), '\\boxed{7}', undefined, { pool: p });
    assert.equal(again[0]!.value, 1, 'grading after a release starts a worker again');
  } finally {
    await p.close();
  }
});
