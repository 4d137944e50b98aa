import { readFileSync } from 'node:fs';
import { createScorer } from '../../src/scorers/registry.ts';
const rows = readFileSync('/work/shared/data/outputs/qwen25math_math_cot_100.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const sc = createScorer('math');
let agree = 0, n = 0; const t0 = Date.now(); let maxMs = 0;
for (const r of rows) for (let i = 0; i < r.code.length; i++) {
  const t = Date.now();
  const v = await sc.score({ id: String(r.idx), input: 'q', target: r.answer, metadata: {} }, r.code[i]);
  maxMs = Math.max(maxMs, Date.now() - t);
  n++;
  if ((v.value === 1) === r.score[i]) agree++;
  else console.log('DIS idx', r.idx, 'resp', i, 'published', r.score[i], 'pred', JSON.stringify(r.pred[i]), 'gold', JSON.stringify(r.answer), JSON.stringify(v));
}
console.log('agree', agree, '/', n, (agree / n * 100).toFixed(2) + '%', 'ms', Date.now() - t0, 'max', maxMs);
