/**
 * A gold answer that cannot grade anything (empty, unbalanced braces) is a grader error — excluded from accuracy
 * and visible — never a 0 for the model. The kind of fault: a broken dataset row silently lowering a score.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer } from '../../src/scorers/registry.ts';

test('malformed golds give grader_error with a reason; well-formed golds with escaped braces still grade', async () => {
  const math = createScorer('math');
  for (const gold of ['', '   ', '\\frac{1}{', '}}{{', '\\boxed{']) {
    const v = await math.score({ id: 's', input: 'q', target: gold, metadata: {} }, 'The answer is \\boxed{5}.');
    assert.equal(v.status, 'grader_error', JSON.stringify(gold));
    assert.equal(v.value, null);
    assert.match(v.explanation ?? '', /gold is not a well-formed answer/);
  }
  // an empty gold is a grader error whatever the response, also an empty one (never a silent "no answer" 0)
  for (const response of ['', 'no idea', '\\boxed{5}']) {
    const v = await math.score({ id: 's', input: 'q', target: '', metadata: {} }, response);
    assert.equal(v.status, 'grader_error', JSON.stringify(response));
    assert.equal(v.value, null);
    assert.match(v.explanation ?? '', /gold is not a well-formed answer: empty/);
  }
  const ok = await math.score({ id: 's', input: 'q', target: '\\{1,2\\}', metadata: {} }, '\\boxed{\\{1,2\\}}');
  assert.equal(ok.value, 1);
});
