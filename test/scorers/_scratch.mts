import { readFileSync } from 'node:fs';
import { createScorer } from '../../src/scorers/registry.ts';
const math = createScorer('math');
for (const line of readFileSync('/work/shared/cases/answer_grading.jsonl','utf8').trim().split('\n')) {
  const c = JSON.parse(line);
  const t = Date.now();
  const v = await math.score({ id: c.id, input: 'q', target: c.gold, metadata: {} }, c.response);
  const ok = (v.value === 1) === c.expected_correct;
  console.log(ok ? 'OK ' : 'BAD', c.id, Date.now()-t, 'ms', JSON.stringify(v));
}
