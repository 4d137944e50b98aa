/**
 * Rankings must be right on hand-solvable data and honest about what they do not know: the Bradley–Terry case with
 * the documented prior against its score equations, rank intervals that widen for ties and for disconnected
 * comparison graphs, no interval pretending to exist without a bootstrap, no NaN scores from extreme weights, no
 * overflowing means, and a CLI that never prints a ranking without rank intervals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChoiceBuilder, choicesFromMeasurements } from '../../src/aggregate/choices.ts';
import { rankModels, ranksWithin } from '../../src/aggregate/rank.ts';
import type { PoolMeasurement } from '../../src/store/types.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const sigma = (x: number) => 1 / (1 + Math.exp(-x));

const bin = (sample: string, model: string, value: number, extra: Partial<PoolMeasurement> = {}): PoolMeasurement => ({
  source: 's', slice: '', sample_key: sample, model, opponent: '', rep: 0, kind: 'binary', value, direction: 1, tie_tolerance: 0, weight: 1, ...extra,
});

/** Two models, a beats b `w` times and loses `l` times (one battle per sample). */
function battles(w: number, l: number) {
  const b = new ChoiceBuilder('full');
  const A = b.model('a'), B = b.model('b');
  for (let k = 0; k < w + l; k++) b.addPair(b.cluster(`q${k}`), A, B, k < w ? 1 : 0);
  return b.build();
}

test('Bradley–Terry on two models solves the documented MAP equations; with a vanishing prior p = w/(w+l)', () => {
  for (const [w, l] of [[30, 10], [10, 30], [7, 7], [1, 0], [0, 5], [200, 3]] as const) {
    for (const prior of [1, 4]) {
      const r = rankModels(battles(w, l), { prior, replicates: 0, elo: false });
      const s = Object.fromEntries(r.models.map((m) => [m.model, m.score]));
      const d = s.a! - s.b!;
      // scores are centred, so θa = θb + d and θa + θb = 0 only up to the anchor; recover θ from the stationarity
      // conditions of the documented log-posterior: w + λ/2 − λσ(θa) − (w+l)σ(θa−θb) = 0 and the same for b.
      // Summing the two: w + l + λ − λ(σ(θa) + σ(θb)) − (w + l) = 0 ⇒ σ(θa) + σ(θb) = 1 ⇒ θb = −θa (symmetric about the anchor).
      const ta = d / 2, tb = -d / 2;
      const ga = w + prior / 2 - prior * sigma(ta) - (w + l) * sigma(ta - tb);
      const gb = l + prior / 2 - prior * sigma(tb) - (w + l) * sigma(tb - ta);
      assert.ok(Math.abs(ga) < 1e-6 && Math.abs(gb) < 1e-6, `w=${w} l=${l} λ=${prior}: gradient ${ga}, ${gb}`);
      if (w === l) assert.ok(Math.abs(d) < 1e-9);
      // the prior shrinks towards an even match, never past it
      if (w > l && l > 0) assert.ok(d > 0 && d < Math.log(w / l));
      assert.ok(Number.isFinite(d), 'a clean sweep still has a finite score (the prior)');
    }
    if (w > 0 && l > 0) {
      const weak = rankModels(battles(w, l), { prior: 1e-7, replicates: 0, elo: false });
      const s = Object.fromEntries(weak.models.map((m) => [m.model, m.score]));
      assert.ok(Math.abs(sigma(s.a! - s.b!) - w / (w + l)) < 1e-5, `p(a beats b) = w/(w+l) for w=${w} l=${l}`);
    }
  }
});

test('binary listwise data on two models reduce to the same Bradley–Terry fit (a right and b wrong is one win)', () => {
  const ms: PoolMeasurement[] = [];
  // 12 samples a right / b wrong, 4 samples b right / a wrong, 9 samples both right, 5 both wrong (no information)
  let k = 0;
  const add = (va: number, vb: number, n: number) => {
    for (let i = 0; i < n; i++, k++) ms.push(bin(`x${k}`, 'a', va), bin(`x${k}`, 'b', vb));
  };
  add(1, 0, 12);
  add(0, 1, 4);
  add(1, 1, 9);
  add(0, 0, 5);
  const fromBinary = rankModels(choicesFromMeasurements(ms), { replicates: 0, elo: false });
  const fromBattles = rankModels(battles(12, 4), { replicates: 0, elo: false });
  const sc = (r: ReturnType<typeof rankModels>) => Object.fromEntries(r.models.map((m) => [m.model, m.score]));
  assert.ok(Math.abs(sc(fromBinary).a! - sc(fromBattles).a!) < 1e-9);
  assert.equal(fromBinary.diagnostics.dropped_all_tied, 14);
});

test('rank intervals: ties span their shared ranks, disconnected components span the ranks outside them, no bootstrap means [1, n]', () => {
  const lo = new Int32Array(5), hi = new Int32Array(5);
  ranksWithin([3, 1, 3, 0, 1], [[0, 1, 2, 3, 4]], lo, hi);
  assert.deepEqual([...lo], [1, 3, 1, 5, 3]);
  assert.deepEqual([...hi], [2, 4, 2, 5, 4]);
  ranksWithin([3, 1, 3, 0, 1], [[0, 1], [2, 3, 4]], lo, hi);
  assert.deepEqual([...lo], [1, 2, 1, 3, 2]);
  assert.deepEqual([...hi], [1, 2, 1, 3, 2]);

  // every sample all tied (full convention: no events at all; half: ½-wins only): every model could be anywhere
  const tied: PoolMeasurement[] = [];
  for (let s = 0; s < 20; s++) for (const m of ['a', 'b', 'c']) tied.push(bin(`t${s}`, m, s % 2));
  for (const ties of ['full', 'half'] as const) {
    const r = rankModels(choicesFromMeasurements(tied, { ties }), { replicates: 100 });
    for (const m of r.models) assert.deepEqual(m.rank_interval, [1, 3], `${ties}: ${m.model}`);
  }

  // two groups never measured together: a ≫ b and c ≫ d, with lots of data inside each group
  const disc: PoolMeasurement[] = [];
  for (let s = 0; s < 60; s++) {
    disc.push(bin(`g1/${s}`, 'a', s % 10 < 9 ? 1 : 0), bin(`g1/${s}`, 'b', s % 10 < 2 ? 1 : 0));
    disc.push(bin(`g2/${s}`, 'c', s % 10 < 9 ? 1 : 0), bin(`g2/${s}`, 'd', s % 10 < 2 ? 1 : 0));
  }
  const r = rankModels(choicesFromMeasurements(disc), { replicates: 200 });
  assert.equal(r.diagnostics.components.length, 2);
  const iv = Object.fromEntries(r.models.map((m) => [m.model, m.rank_interval]));
  // within its group each is sure (a above b); across groups nothing is known: two more ranks each way
  assert.deepEqual(iv.a, [1, 3]);
  assert.deepEqual(iv.c, [1, 3]);
  assert.deepEqual(iv.b, [2, 4]);
  assert.deepEqual(iv.d, [2, 4]);

  // one model alone: [1, 1]; no bootstrap: no claim at all
  const solo = rankModels(choicesFromMeasurements([bin('s1', 'm', 1), bin('s2', 'm', 0)]), { replicates: 50 });
  assert.deepEqual(solo.models[0]!.rank_interval, [1, 1]);
  const none = rankModels(choicesFromMeasurements(disc), { replicates: 0 });
  for (const m of none.models) {
    assert.deepEqual(m.rank_interval, [1, 4]);
    assert.ok(Number.isNaN(m.ci[0]) && Number.isNaN(m.ci[1]));
  }
  // the point rank always lies inside its interval on these data
  for (const m of r.models) assert.ok(m.rank_interval[0] <= m.rank && m.rank <= m.rank_interval[1], m.model);
});

test('a model with a single sample is flagged, and its interval is not tighter than the data allow', () => {
  const ms: PoolMeasurement[] = [];
  for (let s = 0; s < 100; s++) for (const [m, p] of [['a', 8], ['b', 5], ['c', 2]] as const) ms.push(bin(`s${s}`, m, (s * 37) % 10 < p ? 1 : 0));
  ms.push(bin('s0', 'newbie', 1));
  const r = rankModels(choicesFromMeasurements(ms), { replicates: 300 });
  assert.deepEqual(r.diagnostics.few_samples, [{ model: 'newbie', samples: 1 }]);
  const nb = r.models.find((m) => m.model === 'newbie')!;
  assert.ok(nb.rank_interval[1] - nb.rank_interval[0] >= 2, `newbie interval ${nb.rank_interval}`);
});

test('extreme weights and values: a clear error instead of NaN scores; means never overflow', () => {
  const b = new ChoiceBuilder('full');
  const A = b.model('a'), B = b.model('b');
  b.addPair(b.cluster('q1'), A, B, 1, 1e308);
  b.addPair(b.cluster('q2'), A, B, 1, 1e308);
  b.addPair(b.cluster('q3'), B, A, 1, 1e308);
  assert.throws(() => rankModels(b.build(), { replicates: 10 }), RangeError);

  const ms = [
    bin('s1', 'a', 1.7e308, { kind: 'numeric' }), bin('s1', 'a', 1.7e308, { kind: 'numeric', rep: 1 }), bin('s1', 'b', -1.7e308, { kind: 'numeric' }),
    bin('s2', 'a', 1.7e308, { kind: 'numeric' }), bin('s2', 'b', 1e308, { kind: 'numeric' }),
  ];
  const d = choicesFromMeasurements(ms);
  for (const v of d.meanScore) assert.ok(Number.isFinite(v), String(v));
  const r = rankModels(d, { replicates: 50 });
  assert.equal(r.models[0]!.model, 'a');
  for (const m of r.models) assert.ok(Number.isFinite(m.score) && Number.isFinite(m.mean_score));
});

test('orderings mix sources but never slices, kinds or directions', () => {
  const ms: PoolMeasurement[] = [
    bin('x/1', 'a', 1, { source: 'file-a' }), bin('x/1', 'b', 0, { source: 'file-b' }),
    // same sample, other slice: its own ordering
    bin('x/1', 'c', 1, { source: 'file-c', slice: 'judge2' }), bin('x/1', 'a', 0, { source: 'file-c', slice: 'judge2' }),
    // same sample and slice, lower is better: never merged with the higher-is-better ordering
    bin('x/1', 'd', 5, { source: 'file-d', kind: 'numeric', direction: -1 }), bin('x/1', 'e', 7, { source: 'file-e', kind: 'numeric', direction: -1 }),
  ];
  const d = choicesFromMeasurements(ms);
  assert.equal(d.orderings, 3);
  assert.equal(d.droppedSingle, 0);
  const r = rankModels(d, { replicates: 0, elo: false });
  const s = Object.fromEntries(r.models.map((m) => [m.model, m.score]));
  assert.ok(s.a! > s.b! && s.c! > s.a! && s.d! > s.e!);
});

test('assay rank: every printed row has a rank interval; fewer than 100 replicates is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-rankcli-'));
  const pool = join(dir, 'p.sqlite');
  const csv = join(dir, 'tool.csv');
  const rows = ['model,sample_id,value,kind'];
  for (let s = 0; s < 30; s++) for (const [m, p] of [['α-model', 8], ['b', 5], ['c c', 2]] as const) rows.push(`${m},${s},${(s * 37) % 10 < p ? 1 : 0},binary`);
  rows.push('solo,999,1,binary');
  writeFileSync(csv, rows.join('\n') + '\n');
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--pool', pool], { encoding: 'utf8' });
  assert.equal(run('import', 'csv', csv).status, 0);
  const out = run('rank', '--replicates', '100');
  assert.equal(out.status, 0, out.stderr);
  const table = out.stdout.split('\n').filter((l) => /^\d+\s/.test(l));
  assert.equal(table.length, 4);
  for (const l of table) assert.match(l, /\s\d+–\d+\s/, l);
  assert.match(out.stdout, /rank interval/);
  assert.match(out.stdout, /few samples \(< 10\): solo \(1\)/);
  assert.match(out.stdout, /components/);
  const zero = run('rank', '--replicates', '0');
  assert.equal(zero.status, 2);
  assert.match(zero.stderr, /--replicates must be an integer ≥ 100/);
  const json = JSON.parse(run('rank', '--replicates', '100', '--json').stdout);
  for (const m of json.ranking.models) assert.ok(Array.isArray(m.rank_interval) && m.rank_interval[0] <= m.rank_interval[1]);
});

test('a model never compared with another (alone in its component) gets no score CI and the full rank interval', () => {
  const ms: PoolMeasurement[] = [];
  for (let s = 0; s < 40; s++) ms.push(bin(`q${s}`, 'a', s % 10 < 8 ? 1 : 0), bin(`q${s}`, 'b', s % 10 < 3 ? 1 : 0));
  for (let s = 0; s < 40; s++) ms.push(bin(`solo${s}`, 'loner', 1)); // measured only on samples no other model saw
  const r = rankModels(choicesFromMeasurements(ms), { replicates: 200 });
  const loner = r.models.find((m) => m.model === 'loner')!;
  assert.ok(Number.isNaN(loner.ci[0]) && Number.isNaN(loner.ci[1]), 'no CI for a score set by the prior alone');
  assert.deepEqual(loner.rank_interval, [1, 3]);
  const a = r.models.find((m) => m.model === 'a')!;
  assert.ok(Number.isFinite(a.ci[0]) && a.ci[0] < a.score && a.score < a.ci[1]);
});
