/**
 * `assay pool validate` and `assay pool subset` on a source far smaller than their defaults assume (3 models × 3
 * samples), run as child processes: the default budgets adapt to the source, a held-out reference that cannot be
 * made is refused naming --reference (no stack trace), and undefined figures print as "—", never NaN or Infinity.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSubsetBudgets } from '../../src/analyses/pool-validation.ts';
import { InputError } from '../../src/core/errors.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
let dir = '';
let pool = '';
let source = '';

function assay(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--pool', pool], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'assay-pool-small-'));
  pool = join(dir, 'pool.sqlite');
  const csv = join(dir, 'small.csv');
  // A better than B better than C, every cell measured
  const rows = ['model,sample_id,value,kind', 'A,s1,1,binary', 'A,s2,1,binary', 'A,s3,0,binary', 'B,s1,1,binary', 'B,s2,0,binary', 'B,s3,0,binary', 'C,s1,0,binary', 'C,s2,0,binary', 'C,s3,0,binary'];
  writeFileSync(csv, rows.join('\n') + '\n');
  const r = assay(['import', 'csv', csv, '--json']);
  assert.equal(r.code, 0, r.err);
  source = JSON.parse(r.out).source.id;
  assert.match(source, /^csv:/);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the default subset budgets are those below the source size, else half of it', () => {
  assert.deepEqual(defaultSubsetBudgets(1200), [50, 100, 200, 500, 1000]);
  assert.deepEqual(defaultSubsetBudgets(300), [50, 100, 200]);
  assert.deepEqual(defaultSubsetBudgets(50), [25]);
  assert.deepEqual(defaultSubsetBudgets(3), [1]);
  assert.throws(() => defaultSubsetBudgets(1), InputError);
});

test('pool subset with its defaults on a 3-sample source: budget 1, no NaN or Infinity', () => {
  const j = assay(['pool', 'subset', '--source', source, '--reps', '2', '--json']);
  assert.equal(j.code, 0, j.err);
  const rows = JSON.parse(j.out).rows as { budget: number }[];
  assert.ok(rows.length > 0);
  assert.deepEqual([...new Set(rows.map((r) => r.budget))], [1]);
  const t = assay(['pool', 'subset', '--source', source, '--reps', '1']);
  assert.equal(t.code, 0, t.err);
  assert.doesNotMatch(t.out, /NaN|Infinity/);
  assert.match(t.out, /1 samples: /);
  // a budget the source cannot give is still refused, naming the option
  const big = assay(['pool', 'subset', '--source', source, '--budgets', '5']);
  assert.equal(big.code, 2);
  assert.match(big.err, /--budgets/);
});

test('pool validate: a held-out reference on 3 samples is refused naming --reference; --reps 1 prints no NaN', () => {
  const r = assay(['pool', 'validate', '--source', source]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--reference/);
  assert.match(r.err, /at least 4/);
  assert.doesNotMatch(r.err, /at .*\.ts:\d+/, 'no stack trace');
  const full = assay(['pool', 'validate', '--source', source, '--reference', 'full', '--reps', '1', '--fractions', '0,0.5,0.99']);
  assert.equal(full.code, 0, full.err);
  assert.doesNotMatch(full.out, /NaN|Infinity/);
  assert.match(full.out, /One repetition: no standard error/);
});

test('rank: models that only tie are "never compared", not "never measured on a common sample"', () => {
  const csv = join(dir, 'tie.csv');
  // A and B tie on s1 and s2 (measured together, never ordered); C beats A on s3
  writeFileSync(csv, ['model,sample_id,value,kind', 'A,s1,1,binary', 'B,s1,1,binary', 'A,s2,0,binary', 'B,s2,0,binary', 'C,s3,1,binary', 'A,s3,0,binary'].join('\n') + '\n');
  const tiePool = join(dir, 'tie.sqlite');
  const imp = spawnSync(process.execPath, [BIN, 'import', 'csv', csv, '--pool', tiePool, '--json'], { encoding: 'utf8' });
  assert.equal(imp.status, 0, imp.stderr);
  const r = spawnSync(process.execPath, [BIN, 'rank', '--pool', tiePool, '--replicates', '100'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /2 groups never compared/);
  assert.match(r.stdout, /ties and samples measured on one model carry no order/);
  assert.doesNotMatch(r.stdout, /never measured on a common sample/);
});

test('import: a changed file imported again from the same path is refused; --replace replaces the old source, --keep-both keeps both', () => {
  const csv = join(dir, 'results.csv');
  const p = join(dir, 'reimport.sqlite');
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--pool', p], { encoding: 'utf8' });
  const mean = () => {
    const r = run(['rank', '--replicates', '100', '--json']);
    assert.equal(r.status, 0, r.stderr);
    return Object.fromEntries((JSON.parse(r.stdout).ranking.models as { model: string; mean_score: number }[]).map((m) => [m.model, m.mean_score]));
  };
  const rows = (c: number) => ['model,sample_id,value,kind', 'A,s1,1,binary', 'A,s2,1,binary', 'B,s1,1,binary', 'B,s2,0,binary', `C,s1,${c},binary`, `C,s2,${c},binary`].join('\n') + '\n';
  writeFileSync(csv, rows(0));
  assert.equal(run(['import', 'csv', csv]).status, 0);
  const first = JSON.parse(run(['pool', 'list', '--json']).stdout);
  writeFileSync(csv, rows(1)); // C corrected
  const refused = run(['import', 'csv', csv]);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /imported before from the same path as source "csv:[0-9a-f]{12}".*changed since.*--replace.*--keep-both/s);
  assert.deepEqual(JSON.parse(run(['pool', 'list', '--json']).stdout), first, 'the pool is as it was');
  assert.equal(mean().C, 0);
  assert.equal(run(['import', 'csv', csv, '--replace', '--keep-both']).status, 2);
  const replaced = run(['import', 'csv', csv, '--replace']);
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.equal(mean().C, 1, 'ranked on the corrected file alone');
  writeFileSync(csv, rows(0));
  assert.equal(run(['import', 'csv', csv, '--keep-both']).status, 0);
  assert.equal(mean().C, 0.5, 'both sources kept: both values counted');
});

test('weights: a battle of weight 3 counts as three identical battles in the mean as in the fit; weight 0 counts nothing; a binary weight is refused', () => {
  const rankOf = (name: string, lines: string[]) => {
    const csv = join(dir, `${name}.csv`);
    const p = join(dir, `${name}.sqlite`);
    writeFileSync(csv, ['model,sample_id,value,kind,opponent,weight,repeat', ...lines].join('\n') + '\n');
    const imp = spawnSync(process.execPath, [BIN, 'import', 'csv', csv, '--pool', p], { encoding: 'utf8' });
    assert.equal(imp.status, 0, imp.stderr);
    const r = spawnSync(process.execPath, [BIN, 'rank', '--pool', p, '--replicates', '100', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return Object.fromEntries((JSON.parse(r.stdout).ranking.models as { model: string; mean_score: number; score: number }[]).map((m) => [m.model, m]));
  };
  const rest = ['B,q2,1,battle,C,1,0', 'C,q3,1,battle,A,1,0', 'B,q1,1,battle,A,1,0'];
  const weighted = rankOf('bw1', ['A,q1,1,battle,B,3,0', ...rest]);
  const repeated = rankOf('bw2', ['A,q1,1,battle,B,1,0', 'A,q1,1,battle,B,1,1', 'A,q1,1,battle,B,1,2', ...rest]);
  for (const m of ['A', 'B', 'C']) {
    assert.equal(weighted[m]!.mean_score, repeated[m]!.mean_score, `mean of ${m}`);
    assert.ok(Math.abs(weighted[m]!.score - repeated[m]!.score) < 1e-9, `score of ${m}`);
  }
  assert.ok(Math.abs(weighted.A!.mean_score - 3 / 5) < 1e-12, 'A: 3 weighted wins of 5 verdicts');
  const zero = rankOf('bw4', ['A,q1,1,battle,B,0,0', ...rest]);
  assert.equal(zero.A!.mean_score, 0, 'the weight-0 win counts nothing: A lost its other battle');
  const csv = join(dir, 'wt.csv');
  writeFileSync(csv, 'model,sample_id,value,kind,weight\nA,s1,1,binary,3\nB,s1,0,binary,1\n');
  const bad = spawnSync(process.execPath, [BIN, 'import', 'csv', csv, '--pool', join(dir, 'wt.sqlite')], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /wt\.csv:2 field "weight": weight counts identical pairwise verdicts/);
});
