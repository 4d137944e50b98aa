/** Hostile inputs: every one returns a verdict in < 2.5 s without throwing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer } from '../../src/scorers/registry.ts';
import { SymbolicPool } from '../../src/scorers/symbolic.ts';
import { structuralProblem } from '../../src/scorers/guard.ts';
import { HANG_MS, timed } from './helpers.ts';

const HOSTILE: Array<[string, string, string]> = [
  ['tower', '3', '\\boxed{10^{(5^{5^{5^{5^{5}}}}\\cdot\\log_{10}5)-4}}'],
  ['tower 2', '3', '\\boxed{2^{2^{2^{2^{2^{2}}}}}}'],
  ['huge power', '3', '\\boxed{9^{9999999}}'],
  ['big factorial', '3', '\\boxed{100000!}'],
  ['5 MB response', '7', 'x'.repeat(5_000_000) + ' so the answer is \\boxed{7}'],
  ['5 MB of digits', '7', '1'.repeat(5_000_000)],
  ['10,000 nested braces', '1', '\\boxed{' + '{'.repeat(10_000) + '1' + '}'.repeat(10_000) + '}'],
  ['10,000 unclosed braces', '1', '\\boxed{' + '{'.repeat(10_000)],
  ['huge extracted answer', '1', '\\boxed{' + '1+'.repeat(20_000) + '1}'],
  ['division by zero', '1', '\\boxed{\\frac{1}{0}}'],
  ['division by zero gold', '\\frac{1}{0}', '\\boxed{\\frac{1}{0}}'], // identical text: may be equal
  ['empty response', '1', ''],
  ['whitespace response', '1', '   \n  '],
  ['many boxes', '1', '\\boxed{2}'.repeat(200_000)],
  ['many parens', '1', '('.repeat(100_000)],
  ['regex bait', '1', 'the answer is '.repeat(100_000)],
  ['output-fence bait', '1', '```output\n'.repeat(200_000)],
  ['confidence bait', '1', 'Confidence: '.repeat(100_000) + 'confidence' + ' '.repeat(100_000)],
  ['huge program output', '1', '```output\n' + '9'.repeat(1_000_000) + '\n```'],
  ['deep set', '1', '\\boxed{' + '1,'.repeat(5_000) + '1}'],
];

for (const name of ['math', 'gsm8k', 'choice', 'exact']) {
  test(`hostile inputs (${name}): a verdict, no throw, no hang`, async () => {
    const scorer = createScorer(name);
    for (const [label, gold, response] of HOSTILE) {
      const { v, ms } = await timed(scorer, gold, response);
      assert.ok(ms < HANG_MS, `${label}: ${ms} ms`);
      assert.ok(['ok', 'no_answer', 'grader_timeout', 'grader_error'].includes(v.status), label);
      if (label === '5 MB response') {
        // the answer at the end survives the 1 MB cut
        if (name === 'math' || name === 'gsm8k') assert.equal(v.value, 1, JSON.stringify(v));
      } else if (label !== 'division by zero gold') assert.notEqual(v.value, 1, `${label} must not be graded correct: ${JSON.stringify(v)}`);
    }
  });
}

test('empty response is no_answer with value 0', async () => {
  const { v } = await timed(createScorer('math'), '1', '');
  assert.equal(v.status, 'no_answer');
  assert.equal(v.value, 0);
});

test('an extracted answer over 10k chars is scored wrong (value 0) with an explanation, never excluded', async () => {
  for (const scorer of ['math', 'gsm8k']) {
    const { v } = await timed(createScorer(scorer), '1', '\\boxed{' + '1+'.repeat(20_000) + '1}');
    assert.equal(v.status, 'ok', scorer);
    assert.equal(v.value, 0, scorer);
    assert.match(v.explanation ?? '', /10000/);
  }
});

test('structural guard refuses towers and deep nesting', () => {
  assert.match(structuralProblem('10^{(5^{5^{5^{5^{5}}}})}') ?? '', /tower/);
  assert.match(structuralProblem('{'.repeat(100) + '}'.repeat(100)) ?? '', /nesting/);
  assert.equal(structuralProblem('e^{x^2}'), null);
});

test('symbolic pool: a job past its deadline resolves as timeout and the worker is replaced', async () => {
  const pool = new SymbolicPool(1);
  try {
    const r = await pool.compare([['x', 'x']], 1e-6, Date.now() + 1); // too short even to start the worker
    assert.equal(r.kind, 'timeout');
    const ok = await pool.compare([['|x|', '|x|+0']], 1e-6, Date.now() + 5000);
    assert.equal(ok.kind, 'ok');
    assert.deepEqual(ok.kind === 'ok' && ok.results, ['eq']);
  } finally {
    await pool.close();
  }
});

test('timeoutMs budget gives grader_timeout (value null) when the worker cannot answer in time', async () => {
  const scorer = createScorer('math', { timeoutMs: 60 });
  // a fresh pool is not used here (shared pool), so force a cold, slow path with an unusual expression
  const { v, ms } = await timed(scorer, '|x|', '\\boxed{|x|+\\arcsec(2)-\\arcsec(2)}');
  assert.ok(ms < HANG_MS, `${ms} ms: the budget did not stop the grade`);
  assert.ok(v.status === 'grader_timeout' ? v.value === null : v.status === 'ok', JSON.stringify(v));
});
