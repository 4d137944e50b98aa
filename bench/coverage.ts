/**
 * Coverage suite: does every interval Assay prints hold, and do its tests keep their size?
 * Simulation from models with known truth (src/analyses/coverage.ts). Writes bench/out/coverage-<part>.json per part
 * and, with `--report`, bench/out/coverage.md and bench/out/coverage.json from all parts present.
 *
 *   node --import tsx bench/coverage.ts [--part avg|issue|pass|compare|rank|calibration|all] [--shard i/N] [--quick] [--report]
 *                                       [--reps R] [--ns 30,100] [--no-bootstrap]
 *
 * Parts (full sizes; `--quick` divides repetitions by 5 and trims the grids):
 *   issue        the grid first measured (n 30, 100, 500, 1319; κ 2), headline vs the previous bootstrap and Wald
 *   avg          avg@k: n 10–10,000 × k 1–64 × μ 0.01–0.99 × κ 0.5, 2, 20 (bootstrap for n ≤ 100)
 *   pass         pass@k (k below the epochs, and every epoch) and maj@k
 *   compare      type-I error (δ = 0, 4,000 repetitions) and power (δ = 0.05; 0.15 at n = 30) of every test
 *                `compare` prints, the planner's prediction, difference-interval coverage
 *   rank         joint coverage of the rank intervals: rankRuns, rankAcrossTasks, the Plackett–Luce pool ranking
 *                at `pool validate`'s drop fractions
 *   calibration  RMS calibration error interval at n = 100, 500, 3,000
 * Several processes can run parts (or shards of `avg`) side by side; `--report` merges them. `--reps R` sets every
 * cell's repetitions; `--ns` keeps only those numbers of questions (issue, avg; written to coverage-<part>.n<ns>.json,
 * merged by `--report`); `--no-bootstrap` skips the bootstrap columns (the slow part at n ≥ 500).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as C from '../src/analyses/coverage.ts';

const OUT = join(import.meta.dirname, 'out');
mkdirSync(OUT, { recursive: true });
const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes('--quick');
const part = opt('part') ?? (argv.includes('--report') ? 'none' : 'all');
const [shard, shards] = (opt('shard') ?? '0/1').split('/').map(Number) as [number, number];
const repsOverride = opt('reps') ? Number(opt('reps')) : undefined;
const R = (full: number) => repsOverride ?? (quick ? Math.max(100, Math.round(full / 5)) : full);
/** `--ns 30,100` keeps only those numbers of questions (issue and avg parts); `--no-bootstrap` skips the bootstrap beside. */
const nsOnly = opt('ns')?.split(',').map(Number);
const keepN = (n: number) => !nsOnly || nsOnly.includes(n);
const noBoot = argv.includes('--no-bootstrap');
const t0 = performance.now();
const log = (s: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)}s] ${s}\n`);
const save = (name: string, data: unknown) => writeFileSync(join(OUT, `coverage-${name}.json`), JSON.stringify(data, null, 1));
const seedOf = (...xs: number[]) => xs.reduce((s, x) => (Math.imul(s, 31) + Math.round(x * 1000)) | 0, 17);

if (part === 'issue' || part === 'all') {
  const cells: C.AvgCell[] = [];
  for (const [n, ks, reps, B] of [[30, [1, 4, 16], 2000, 2000], [100, [4, 16], 2000, 2000], [500, [1, 4, 16], 1000, 1000], [1319, [1, 4, 16], 1000, 1000]] as const) {
    if (!keepN(n)) continue;
    for (const k of ks) for (const mu of [0.03, 0.3, 0.6, 0.9, 0.97]) {
      cells.push(C.avgAtKCell({ n, k, mu, kappa: 2, reps: R(reps), seed: seedOf(1, n, k, mu), bootstrap: noBoot ? 0 : quick ? 500 : B }));
      log(`issue n=${n} k=${k} μ=${mu}`);
    }
  }
  save(nsOnly ? `issue.n${nsOnly.join('-')}` : 'issue', cells);
}

if (part === 'avg' || part === 'all') {
  const ns = (quick ? [10, 30, 100, 1000] : [10, 30, 100, 1000, 10000]).filter(keepN).concat(nsOnly?.includes(10000) && quick ? [10000] : []);
  const ks = quick ? [1, 4, 64] : [1, 4, 16, 64];
  const mus = [0.01, 0.03, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 0.99];
  const kappas = [0.5, 2, 20];
  const cells: C.AvgCell[] = [];
  let idx = 0;
  for (const n of ns) for (const k of ks) for (const kappa of kappas) {
    if (k === 1 && kappa !== 2) continue; // with one epoch avg@k is binomial whatever κ
    for (const mu of mus) {
      if (idx++ % shards !== shard) continue;
      const reps = R(n >= 10000 ? 1000 : 2000);
      cells.push(C.avgAtKCell({ n, k, mu, kappa, reps, seed: seedOf(2, n, k, mu, kappa), bootstrap: n <= 100 && !noBoot ? (quick ? 500 : 1000) : 0 }));
      log(`avg n=${n} k=${k} κ=${kappa} μ=${mu}`);
    }
  }
  save(shards > 1 ? `avg.${shard}` : nsOnly ? `avg.n${nsOnly.join('-')}` : 'avg', cells);
}

if (part === 'pass' || part === 'all') {
  const cells = [];
  for (const n of [10, 30, 100, 1000]) for (const k of [4, 16, 64]) for (const kappa of [0.5, 2, 20]) for (const mu of [0.01, 0.1, 0.5, 0.9, 0.99]) {
    const pm = C.passMajCell({ n, k, kp: k / 4 >= 2 ? k / 4 : 2, mu, kappa, reps: R(1000), seed: seedOf(3, n, k, mu, kappa) });
    const full = C.truePassAtK(mu, kappa, k);
    const passAll = C.exactBinomialCoverage(n, full, (x) => wilsonIntervalOf(x, n));
    cells.push({ ...pm, pass_all_truth: full, pass_all: passAll });
  }
  log('pass');
  save('pass', cells);
}

function wilsonIntervalOf(x: number, n: number) {
  const z = 1.959963984540054, p = x / n, d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d, h = (z / d) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { lo: x === 0 ? 0 : Math.max(0, c - h), hi: x === n ? 1 : Math.min(1, c + h) };
}

if (part === 'compare' || part === 'all') {
  const cells: C.CompareCell[] = [];
  for (const n of [30, 100, 500]) for (const k of [1, 4]) for (const mu of [0.3, 0.6, 0.9]) {
    cells.push(C.compareCell({ n, k, mu, kappa: 2, delta: 0, reps: R(4000), seed: seedOf(4, n, k, mu), bootstrap: noBoot ? 0 : quick ? 200 : 500 }));
    log(`compare null n=${n} k=${k} μ=${mu}`);
  }
  for (const kappa of [0.5, 20]) for (const n of [30, 100, 500]) for (const k of [1, 4]) {
    cells.push(C.compareCell({ n, k, mu: 0.6, kappa, delta: 0, reps: R(4000), seed: seedOf(5, n, k, kappa) }));
    log(`compare null κ=${kappa} n=${n} k=${k}`);
  }
  for (const n of [30, 100, 500]) for (const k of [1, 4]) for (const mu of [0.3, 0.6]) for (const delta of n === 30 ? [0.05, 0.15] : [0.05]) {
    cells.push(C.compareCell({ n, k, mu, kappa: 2, delta, reps: R(1000), seed: seedOf(6, n, k, mu, delta), bootstrap: noBoot ? 0 : quick ? 200 : 1000 }));
    log(`compare power n=${n} k=${k} μ=${mu} δ=${delta}`);
  }
  save('compare', cells);
}

if (part === 'rank' || part === 'all') {
  const cells: C.RankCell[] = [];
  const theta = [-0.6, -0.3, 0, 0, 0.15, 0.3, 0.6, 1.2];
  for (const n of [30, 100, 500]) for (const k of [1, 4]) {
    cells.push(C.rankRunsCell({ theta, n, k, reps: R(500), seed: seedOf(7, n, k), replicates: 500 }));
    log(`rankRuns n=${n} k=${k}`);
  }
  for (const n of [30, 100, 300]) {
    cells.push(C.rankAcrossTasksCell({ theta, tasks: 4, n, k: 1, reps: R(400), seed: seedOf(8, n), replicates: 500 }));
    log(`rankAcrossTasks n=${n}`);
  }
  for (const drop of [0, 0.5, 0.8, 0.9, 0.95, 0.99]) {
    cells.push(C.plRankCell({ models: 12, samples: drop >= 0.8 ? 2000 : 400, drop, spread: 2, reps: R(200), seed: seedOf(9, drop), replicates: 200 }));
    log(`pl drop=${drop}`);
  }
  save('rank', cells);
}

if (part === 'calibration' || part === 'all') {
  const cells: C.CalibrationCell[] = [];
  for (const scenario of Object.keys(C.CALIBRATION_SCENARIOS)) for (const n of [100, 500, 3000]) {
    cells.push(C.calibrationCell({ scenario, n, reps: R(n >= 3000 ? 400 : 1000), seed: seedOf(10, n, scenario.length), replicates: 300 }));
    log(`calibration ${scenario} n=${n}`);
  }
  save('calibration', cells);
}

// ---------------------------------------------------------------- report
if (argv.includes('--report')) {
  const load = <T>(name: string): T[] => {
    const files = readdirSync(OUT).filter((f) => f === `coverage-${name}.json` || (f.startsWith(`coverage-${name}.`) && f.endsWith('.json')));
    return files.flatMap((f) => JSON.parse(readFileSync(join(OUT, f), 'utf8')) as T[]);
  };
  const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '—');
  const band = (r: number) => r >= 0.93 && r <= 0.97;
  const md: string[] = ['# Coverage of Assay\'s intervals and size of its tests', '', `Generated by \`node --import tsx bench/coverage.ts\`${quick ? ' (quick)' : ''}. Nominal level 95%; band 93–97%. MC error: ±1 standard error in parentheses (exact cells: none). Models and estimands: src/analyses/coverage.ts.`, ''];

  // classify an avg@k cell's headline coverage
  const reasonAvg = (c: C.AvgCell): string => {
    const m = c.methods.score!;
    if (band(m.rate)) return '';
    // With one epoch the interval is a function of the count of right answers, Bin(n, μ): discreteness can put the
    // band out of reach of any interval. (With k > 1 the interval depends on more than a count: no such argument.)
    if (c.k === 1 && !C.bandAttainable(c.n, Math.min(c.mu, 1 - c.mu))) return `discrete: the number of right (wrong) answers, Bin(${c.n}, ${Math.min(c.mu, 1 - c.mu).toFixed(3)}), admits no coverage in 93–97%`;
    if (c.k === 1) return 'k = 1: Wilson\'s exact coverage oscillates with nμ (Brown, Cai & DasGupta 2001)';
    if (Math.abs(m.rate - (m.rate < 0.93 ? 0.93 : 0.97)) <= 2 * m.mc_se) return 'within 2 MC standard errors of the band';
    return m.rate > 0.97 ? 'conservative' : 'UNDER-COVERS';
  };
  const avgTable = (cells: C.AvgCell[], title: string, methods: string[]) => {
    if (!cells.length) return;
    md.push(`## ${title}`, '', `| n | k | κ | μ | ${methods.join(' | ')} | zero-width (old) | note |`, `|---|---|---|---|${methods.map(() => '---').join('|')}|---|---|`);
    for (const c of cells) {
      const cellOf = (m: string) => {
        const x = c.methods[m];
        if (!x) return '—';
        return `${pct(x.rate)}${x.exact ? ' (exact)' : ` (±${pct(x.mc_se)})`}`;
      };
      const zw = Math.max(c.zero_width.bootstrap ?? 0, c.zero_width.wald ?? 0);
      md.push(`| ${c.n} | ${c.k} | ${c.kappa} | ${c.mu} | ${methods.map(cellOf).join(' | ')} | ${zw ? pct(zw) + '%' : ''} | ${reasonAvg(c)} |`);
    }
    const scored = cells.map((c) => c.methods.score!.rate);
    const inBand = scored.filter(band).length;
    const under = cells.filter((c) => reasonAvg(c) === 'UNDER-COVERS').length;
    md.push('', `Headline (clustered score) in 93–97%: ${inBand} of ${cells.length} cells; unexplained under-coverage: ${under}. Range ${pct(Math.min(...scored))}–${pct(Math.max(...scored))}%.`, '');
  };
  /** One cell per design: a re-run with more repetitions (`--reps`, `--ns`) replaces the cell it repeats. */
  const dedupe = (cells: C.AvgCell[]): C.AvgCell[] => {
    const best = new Map<string, C.AvgCell>();
    for (const c of cells) {
      const key = `${c.n}|${c.k}|${c.mu}|${c.kappa}`, old = best.get(key);
      if (!old || c.reps > old.reps) best.set(key, old && !c.methods.bootstrap && old.methods.bootstrap ? { ...c, methods: { ...c.methods, bootstrap: old.methods.bootstrap }, zero_width: { ...c.zero_width, bootstrap: old.zero_width.bootstrap! } } : c);
    }
    return [...best.values()];
  };
  const issue = dedupe(load<C.AvgCell>('issue')).sort((a, b) => a.n - b.n || a.k - b.k || a.mu - b.mu);
  avgTable(issue, 'avg@k on the first-measured grid (κ = 2): headline vs the previous intervals', ['score', 'bootstrap', 'wald']);
  const avg = dedupe(load<C.AvgCell>('avg')).sort((a, b) => a.n - b.n || a.k - b.k || a.kappa - b.kappa || a.mu - b.mu);
  avgTable(avg, 'avg@k, wide grid', ['score', 'bootstrap', 'wald', 'wilson_moment']);

  const pass = load<ReturnType<typeof C.passMajCell> & { pass_all_truth: number; pass_all: C.MethodCoverage }>('pass');
  if (pass.length) {
    // An exact cell outside the band is explained when no interval that is a function of the count can reach it.
    const exactNote = (what: string, n: number, q: number, r: number) => (band(r) ? '' : !C.bandAttainable(n, Math.min(q, 1 - q)) ? `${what}: out of reach by discreteness (Bin(${n}, ${Math.min(q, 1 - q).toPrecision(2)}))` : r > 0.97 ? `${what}: conservative` : r >= 0.92 ? `${what}: Wilson's exact coverage oscillates with n·q (Brown, Cai & DasGupta 2001)` : `${what}: UNDER-COVERS`);
    md.push('## pass@k and maj@k (Wilson on the samples)', '', '| n | k | κ | μ | pass@k/4 truth | coverage | pass@k truth | coverage (exact) | maj@k truth | coverage (exact) | note |', '|---|---|---|---|---|---|---|---|---|---|---|');
    for (const c of pass) md.push(`| ${c.n} | ${c.k} | ${c.kappa} | ${c.mu} | ${c.pass_truth.toFixed(4)} | ${pct(c.pass.rate)} (±${pct(c.pass.mc_se)}) | ${c.pass_all_truth.toFixed(4)} | ${pct(c.pass_all.rate)} | ${c.maj_truth.toFixed(4)} | ${pct(c.maj.rate)} | ${[exactNote(`pass@${c.k}`, c.n, c.pass_all_truth, c.pass_all.rate), exactNote(`maj@${c.k}`, c.n, c.maj_truth, c.maj.rate)].filter(Boolean).join('; ')} |`);
    const exactUnder = pass.flatMap((c) => [exactNote('p', c.n, c.pass_all_truth, c.pass_all.rate), exactNote('m', c.n, c.maj_truth, c.maj.rate)]).filter((x) => x.endsWith('UNDER-COVERS')).length;
    md.push('', `pass@k (every epoch) and maj@k cells below 93% that discreteness does not explain: ${exactUnder}.`);
    const lows = pass.filter((c) => c.pass.rate < 0.93 - 2 * c.pass.mc_se);
    md.push('', `pass@k/4 cells below 93% by more than 2 MC errors: ${lows.length} of ${pass.length}. The interval is conservative by design (each sample's pass@k estimate counted as one Bernoulli trial); cells at 100% have pass@k within 10⁻³ of 1, where any interval of non-zero width covers.`, '');
  }

  const cmp = load<C.CompareCell>('compare');
  if (cmp.length) {
    const tests = Object.keys(cmp[0]!.rejections);
    md.push('## compare: type-I error at α = 5% (A and B exchangeable per question)', '', `| n | k | μ | κ | discordant (1st epoch) | ${tests.join(' | ')} | difference CI: paired t | percentile bootstrap |`, `|---|---|---|---|---|${tests.map(() => '---').join('|')}|---|---|`);
    for (const c of cmp.filter((x) => x.delta === 0)) {
      md.push(`| ${c.n} | ${c.k} | ${c.mu} | ${c.kappa} | ${c.mean_discordant.toFixed(1)} | ${tests.map((t) => `${pct(c.rejections[t]!.rate)}`).join(' | ')} | ${pct(c.coverage['paired t (headline)']!.rate)} | ${c.coverage['percentile bootstrap'] ? pct(c.coverage['percentile bootstrap'].rate) : '—'} |`);
    }
    const se0 = cmp.find((x) => x.delta === 0)!;
    md.push('', `MC error of a 5% rate: ±${pct(Math.sqrt(0.05 * 0.95 / se0.reps))} points (${se0.reps} repetitions).`, '');
    md.push('## compare: power at a true difference δ, against the planner', '', 'The planner (`plan`, src/stats/power.ts `powerOfDesign`) is given the design\'s true components; "planner k=1" is its prediction for one epoch per sample, the design first-epoch McNemar uses.', '', `| n | k | μ | δ | planner | planner k=1 | ${tests.join(' | ')} | difference CI: paired t | percentile bootstrap |`, `|---|---|---|---|---|---|${tests.map(() => '---').join('|')}|---|---|`);
    for (const c of cmp.filter((x) => x.delta > 0)) {
      md.push(`| ${c.n} | ${c.k} | ${c.mu} | ${c.delta} | ${pct(c.planner_power!)} | ${pct(c.planner_power_first_epoch ?? NaN)} | ${tests.map((t) => pct(c.rejections[t]!.rate)).join(' | ')} | ${pct(c.coverage['paired t (headline)']!.rate)} | ${c.coverage['percentile bootstrap'] ? pct(c.coverage['percentile bootstrap'].rate) : '—'} |`);
    }
    const p1 = cmp.find((x) => x.delta > 0);
    if (p1) md.push('', `MC error of a power near 50%: ±${pct(Math.sqrt(0.25 / p1.reps))} points (${p1.reps} repetitions).`, '');
  }

  const rank = load<C.RankCell>('rank');
  if (rank.length) {
    md.push('## Rank intervals: joint coverage of the true ranks (nominal 95%)', '', '| scenario | parameters | method | joint coverage | mean length (ranks) |', '|---|---|---|---|---|');
    for (const c of rank) for (const [m, x] of Object.entries(c.methods)) md.push(`| ${c.scenario} | ${Object.entries(c.params).map(([k, v]) => `${k} ${v}`).join(', ')} | ${m} | ${pct(x.rate)} (±${pct(x.mc_se)}) | ${x.mean_length.toFixed(2)} |`);
    md.push('', 'Simultaneous intervals are conservative by construction (≥ 95% jointly); 100% where every pair is either clearly apart or tied in truth.', '');
  }

  const cal = load<C.CalibrationCell>('calibration');
  if (cal.length) {
    md.push('## RMS calibration error (bins of 100): coverage of the population RMS error', '', '| scenario | n | truth | mean binned value | mean debiased | headline | percentile bootstrap (before) |', '|---|---|---|---|---|---|---|');
    for (const c of cal) md.push(`| ${C.CALIBRATION_SCENARIOS[c.scenario]!.label} | ${c.n} | ${c.truth.toFixed(3)} | ${c.mean_value.toFixed(3)} | ${c.mean_debiased.toFixed(3)} | ${pct(c.methods.headline!.rate)} (±${pct(c.methods.headline!.mc_se)}) | ${pct(c.methods['percentile bootstrap of the binned value (before)']!.rate)} |`);
    md.push('');
  }
  writeFileSync(join(OUT, 'coverage.md'), md.join('\n'));
  writeFileSync(join(OUT, 'coverage.json'), JSON.stringify({ generated: new Date().toISOString(), quick, issue, avg, pass, compare: cmp, rank, calibration: cal }, null, 1));
  log('wrote bench/out/coverage.md and coverage.json');
}
