/**
 * Every line of shared/cases/answer_grading_more.jsonl (issue 12): the expected verdict, each within 2 s. A line with
 * `"scorer": "choice"` goes through the multiple-choice scorer, every other line through the `math` scorer. Some
 * lines are comparison kinds (an interval against an inequality, an equation times −1, a power tower) graded by
 * compare.ts; the rest are extraction kinds (see extraction-kinds.test.ts for our own cases of each kind).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer } from '../../src/scorers/registry.ts';
import { readJsonl, timed } from './helpers.ts';

interface Case { id: string; gold: string; response: string; expected_correct: boolean; why: string; scorer?: string }

const math = createScorer('math');
const choice = createScorer('choice');

test('shared answer-grading cases (second set): expected verdict, each within 2 s', async () => {
  const cases = readJsonl<Case>('cases/answer_grading_more.jsonl');
  assert.ok(cases.length >= 13);
  const failures: string[] = [];
  for (const c of cases) {
    const scorer = c.scorer === 'choice' ? choice : math;
    const { v, ms } = await timed(scorer, c.gold, c.response);
    if ((v.value === 1) !== c.expected_correct) failures.push(`${c.id} (${c.why}): ${JSON.stringify(v).slice(0, 300)}`);
    if (ms >= 2000) failures.push(`${c.id} took ${ms.toFixed(0)} ms`);
    assert.ok(['ok', 'no_answer', 'grader_timeout', 'grader_error'].includes(v.status), `${c.id}: ${v.status}`);
  }
  assert.deepEqual(failures, []);
});
