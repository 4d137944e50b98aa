import { readFileSync } from 'node:fs';
import { createScorer } from '../../src/scorers/registry.ts';
const math = createScorer('math');
const rd = (p: string) => readFileSync('/work/shared/data/' + p, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const golds: string[] = [];
for (const r of rd('math500/test.jsonl')) golds.push(r.answer);
for (const r of rd('aime24/test.jsonl')) golds.push(String(r.answer));
for (const r of rd('aime25/test.jsonl')) golds.push(String(r.answer));
for (const r of rd('amc23/test.jsonl')) { golds.push(String(r.answer)); golds.push(Number(r.answer).toFixed(1)); }
for (const r of rd('gsm8k/test.jsonl')) golds.push(r.answer.split('#### ').pop().trim());
let bad = 0; const t0 = Date.now();
for (const g of golds) for (const resp of ['\\boxed{' + g + '}', g]) {
  const v = await math.score({ id: 'x', input: 'q', target: g, metadata: {} }, resp);
  if (v.value !== 1) { bad++; console.log('FAIL', JSON.stringify(g), JSON.stringify(resp), JSON.stringify(v)); }
}
console.log('golds', golds.length, 'bad', bad, 'ms', Date.now() - t0);
