/**
 * Coverage of the continual metrics' intervals (src/stats/continual.ts) on simulated streams with a known truth, at 30
 * samples per task and accuracies near 0 and 1: does the 95% interval of each derived metric cover the metric of the
 * true accuracy matrix 95% of the time, and how often is an interval undefined or of zero width?
 *
 *   node --import tsx bench/stream-coverage.ts [--reps 1000] [--draws 1000] [--quick] [--render]
 *
 * The stream: a base and 3 updates; task A introduced at row 1, task B at row 2, one held-out task Z. Per scenario a
 * true accuracy matrix μ[c][j]. Sample i of a task has a persistent ability g_i ~ N(0, 1); at checkpoint c it is
 * right iff √ρ·g_i + √(1−ρ)·e_ci < Φ⁻¹(μ[c][j]) (e_ci ~ N(0, 1) fresh), so each cell is right with probability
 * μ[c][j] exactly and a sample's results at different checkpoints are correlated (ρ = 0.8: what a model gets right it
 * mostly keeps). The truth of a metric is the metric of μ (src/stats/continual.ts `continualMetrics`). Each
 * repetition draws 30 samples per task and asks whether each interval at the last checkpoint holds the truth;
 * an undefined interval counts as a miss (the coverage column) and is also counted on its own.
 * Methods: the Bayesian bootstrap with a Dirichlet-process prior (the default) and the paired percentile bootstrap.
 * Every rate is printed with its Monte-Carlo standard error √(c(1−c)/reps).
 * Writes bench/out/stream-coverage.md and .json; `--render` rewrites the .md from the .json without simulating.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRng, type Rng } from '../src/core/rng.ts';
import { continualMetrics, continualReport, type ContinualInterval, type Estimate, type StreamTaskRole } from '../src/stats/continual.ts';
import { normalQuantile } from '../src/stats/distributions.ts';
import { normalDraw } from '../src/stats/simulate.ts';

const argv = process.argv.slice(2);
const opt = (n: string) => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes('--quick');
const render = argv.includes('--render');
const REPS = Number(opt('reps') ?? (quick ? 300 : 1000));
const DRAWS = Number(opt('draws') ?? (quick ? 400 : 1000));
const N = 30;
const RHO = 0.8;
const OUT = join(import.meta.dirname, 'out');
mkdirSync(OUT, { recursive: true });
const t0 = performance.now();
const log = (s: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)}s] ${s}\n`);

const roles: StreamTaskRole[] = [{ role: 'adaptation', introduced: 1 }, { role: 'adaptation', introduced: 2 }, { role: 'zero-shot' }];
/** True accuracy matrices, rows base…c3, columns A, B, Z. */
const SCENARIOS: { name: string; mu: number[][] }[] = [
  { name: 'near 1', mu: [[0.9, 0.9, 0.97], [0.97, 0.92, 0.96], [0.95, 0.98, 0.95], [0.96, 0.97, 0.96]] },
  { name: 'at 1 (every sample right)', mu: [[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1]] },
  { name: 'near 0', mu: [[0.02, 0.03, 0.08], [0.08, 0.03, 0.06], [0.05, 0.1, 0.05], [0.04, 0.08, 0.04]] },
  { name: 'middle', mu: [[0.4, 0.45, 0.6], [0.7, 0.5, 0.55], [0.6, 0.75, 0.5], [0.55, 0.7, 0.45]] },
];
const METRICS = ['accumulation', 'zero_shot', 'retention', 'geometric_mean', 'forgetting', 'backward_transfer', 'forward_transfer'] as const;
const METHODS: ContinualInterval[] = ['bayesian-bootstrap', 'percentile-bootstrap'];

interface Row { scenario: string; metric: string; method: ContinualInterval; truth: number; coverage: number; mc_se: number; coverage_defined: number; no_value: number; undefined: number; zero_width: number; mean_width: number }
const rows: Row[] = render ? (JSON.parse(readFileSync(join(OUT, 'stream-coverage.json'), 'utf8')) as { rows: Row[] }).rows : [];

/** One simulated stream: scores[j][c][i], 0/1. */
function simulate(rng: Rng, mu: number[][]): number[][][] {
  const T = mu.length;
  return mu[0]!.map((_, j) => {
    const g = Array.from({ length: N }, () => normalDraw(rng));
    return Array.from({ length: T }, (_, c) => {
      const m = mu[c]![j]!;
      const cut = m >= 1 ? Infinity : m <= 0 ? -Infinity : normalQuantile(m);
      return g.map((gi) => (Math.sqrt(RHO) * gi + Math.sqrt(1 - RHO) * normalDraw(rng) < cut ? 1 : 0));
    });
  });
}

if (!render) {
  for (const [si, s] of SCENARIOS.entries()) {
    const truth = continualMetrics(s.mu, roles);
    const T = s.mu.length - 1;
    const tally = new Map<string, { cover: number; none: number; undef: number; zero: number; width: number; defined: number }>();
    const rng = createRng(100 + si);
    for (let rep = 0; rep < REPS; rep++) {
      const scores = simulate(rng, s.mu);
      for (const method of METHODS) {
        const r = continualReport(scores, roles, { replicates: DRAWS, seed: rep, interval: method });
        for (const m of METRICS) {
          const key = `${m}|${method}`;
          let t = tally.get(key);
          if (!t) tally.set(key, (t = { cover: 0, none: 0, undef: 0, zero: 0, width: 0, defined: 0 }));
          const e: Estimate = r[m][T]!;
          const want = truth[m][T]!;
          if (e.value === null) {
            t.none++;
            continue;
          }
          if (!e.ci95) {
            t.undef++;
            continue;
          }
          t.defined++;
          t.width += e.ci95.hi - e.ci95.lo;
          if (e.ci95.hi === e.ci95.lo) t.zero++;
          if (e.ci95.lo - 1e-12 <= want && want <= e.ci95.hi + 1e-12) t.cover++;
        }
      }
    }
    for (const m of METRICS) for (const method of METHODS) {
      const t = tally.get(`${m}|${method}`)!;
      const c = t.cover / REPS;
      rows.push({ scenario: s.name, metric: m, method, truth: truth[m][T]!, coverage: c, mc_se: Math.sqrt((c * (1 - c)) / REPS), coverage_defined: t.defined ? t.cover / t.defined : NaN, no_value: t.none, undefined: t.undef, zero_width: t.zero, mean_width: t.defined ? t.width / t.defined : NaN });
    }
    log(`${s.name}: done`);
  }
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '–');
const reps = render ? (JSON.parse(readFileSync(join(OUT, 'stream-coverage.json'), 'utf8')) as { reps: number }).reps : REPS;
const draws = render ? (JSON.parse(readFileSync(join(OUT, 'stream-coverage.json'), 'utf8')) as { draws: number }).draws : DRAWS;
const f3 = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);
const md = [
  '# Coverage of the continual metrics\' intervals',
  '',
  `Nominal 95%; ${N} samples per task; ${reps} repetitions per scenario, ${draws} bootstrap draws per interval; written by`,
  'bench/stream-coverage.ts (the simulated streams are described in its header). Metrics at the last checkpoint.',
  '"no value": repetitions where the metric itself is undefined on the data (retention when the base zero-shot accuracy is 0);',
  '"undefined": a value without an interval (reported undefined, with the reason). Both count as misses in "coverage";',
  '"coverage | defined" is over the intervals given. "zero-width": intervals of width 0 (none may be reported).',
  '',
  '| scenario | metric | interval | truth | coverage | ± MC SE | coverage \\| defined | no value | undefined | zero-width | mean width |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.scenario} | ${r.metric} | ${r.method} | ${['accumulation', 'zero_shot', 'geometric_mean'].includes(r.metric) ? pct(r.truth) : f3(r.truth)} | ${pct(r.coverage)} | ${pct(r.mc_se)} | ${pct(r.coverage_defined)} | ${r.no_value} | ${r.undefined} | ${r.zero_width} | ${Number.isFinite(r.mean_width) ? r.mean_width.toFixed(3) : '–'} |`),
  '',
].join('\n');
writeFileSync(join(OUT, 'stream-coverage.md'), md);
if (!render) writeFileSync(join(OUT, 'stream-coverage.json'), JSON.stringify({ reps: REPS, draws: DRAWS, n: N, rho: RHO, rows }, null, 1));
process.stdout.write(md);
