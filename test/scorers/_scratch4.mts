import { readFileSync } from 'node:fs';
import { createScorer } from '../../src/scorers/registry.ts';
const rd = (p: string) => readFileSync('/work/shared/data/' + p, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const rows = rd('gsm8k/model_solutions.jsonl');
const systems = Object.keys(rows[0]).filter((k) => typeof rows[0][k] === 'object');
for (const name of ['gsm8k', 'math']) {
  const sc = createScorer(name);
  let n = 0; const t0 = process.hrtime.bigint();
  const dis: Record<string, number> = {};
  for (const sys of systems) {
    dis[sys] = 0;
    for (const r of rows) {
      const v = await sc.score({ id: 'x', input: 'q', target: r.ground_truth, metadata: {} }, r[sys].solution);
      n++;
      if ((v.value === 1) !== r[sys].is_correct) { dis[sys]++; if (process.env.SHOW) console.log(name, sys, r[sys].is_correct, JSON.stringify(v), JSON.stringify(r[sys].solution.slice(-150)), JSON.stringify(r.ground_truth.slice(-30))); }
    }
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(name, n, 'verdicts', (n / s).toFixed(0), '/s', JSON.stringify(dis));
}
