/**
 * The command line as a user runs it (a child process): exit codes, JSON documents, bad input that names
 * file/line/field and leaves the pool untouched, re-scoring, export, and re-grading real recorded outputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

function assay(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('quickstart runs offline and `runs --json` lists its three runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-cli-'));
  const pool = join(dir, 'pool.sqlite');
  const q = assay(['quickstart', '--pool', pool, '--json']);
  assert.equal(q.code, 0, q.err);
  const doc = JSON.parse(q.out);
  assert.equal(doc.runs.length, 3);
  assert.equal(doc.runs[0].statistics.accuracy, 1, 'the oracle reference model is always right');
  const noisy = doc.runs[1].statistics;
  assert.ok(noisy.ci95_bootstrap.lo < noisy.accuracy && noisy.accuracy < noisy.ci95_bootstrap.hi);
  const runs = JSON.parse(assay(['runs', '--pool', pool, '--json']).out).runs;
  assert.deepEqual(runs.map((r: { attempts: number }) => r.attempts), [1000, 1000, 1000]);
  // export: one JSONL line per attempt with the listed fields
  const ex = assay(['export', runs[1].id.slice(0, 8), '--pool', pool]);
  assert.equal(ex.code, 0, ex.err);
  const lines = ex.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 1000);
  for (const k of ['sample_id', 'epoch', 'response', 'extracted', 'score', 'finish_reason', 'prompt_tokens', 'completion_tokens', 'latency_ms', 'error']) assert.ok(k in lines[0], k);
  const csv = assay(['export', runs[1].id, '--pool', pool, '--format', 'csv']);
  assert.equal(csv.out.trim().split('\n')[0], 'sample_id,epoch,status,response,extracted,score,measurement_status,finish_reason,prompt_tokens,completion_tokens,latency_ms,tries,cached,model_id,error');
  // unknown run id → exit 2
  assert.equal(assay(['stats', 'ffffffff', '--pool', pool]).code, 2);
});

test('bad dataset input: clear error naming file, line and field; exit 2; nothing written to the pool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-bad-'));
  const cases: [string, string, RegExp][] = [
    ['broken.jsonl', '{"id":"a","question":"q","answer":"1"}\n{"id":"b","question":"q2",\n', /broken\.jsonl:2/],
    ['missing.jsonl', '{"id":"a","question":"q","answer":"1"}\n{"id":"b","answer":"2"}\n', /missing\.jsonl:2.*question/],
    ['wrongtype.jsonl', '{"id":"a","question":"q","answer":{"x":1}}\n', /wrongtype\.jsonl:1.*answer/],
    ['empty.jsonl', '', /empty\.jsonl.*no samples/],
  ];
  for (const [name, content, re] of cases) {
    const file = join(dir, name);
    writeFileSync(file, content);
    const pool = join(dir, `${name}.sqlite`);
    const r = assay(['run', '--dataset', `jsonl:${file}`, '--model', 'reference:oracle', '--pool', pool]);
    assert.equal(r.code, 2, `${name}: ${r.err}`);
    assert.match(r.err, re, name);
    assert.ok(!existsSync(pool), `${name}: the pool was not touched`);
  }
  // a 50 MB line
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, '{"id":"a","question":"' + 'x'.repeat(50 * 1024 * 1024) + '","answer":"1"}\n');
  const r = assay(['run', '--dataset', `jsonl:${big}`, '--model', 'reference:oracle', '--pool', join(dir, 'big.sqlite')]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /big\.jsonl:1/);
  assert.ok(!existsSync(join(dir, 'big.sqlite')));
  // bad usage
  assert.equal(assay(['run', '--dataset', 'x.jsonl']).code, 2);
  assert.equal(assay(['run', '--dataset', `jsonl:${big}`, '--model', 'nosuch:thing', '--epochs', '0']).code, 2);
  const badModel = assay(['run', '--dataset', `gsm8k:${join(DATA, 'gsm8k/test.jsonl')}`, '--model', 'nosuch:thing', '--pool', join(dir, 'm.sqlite')]);
  assert.equal(badModel.code, 2);
  assert.match(badModel.err, /unknown model address/);
});

test('re-grading the 4 recorded GSM8K systems reproduces their published accuracies; two scorers compared', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-regrade-'));
  const pool = join(dir, 'pool.sqlite');
  const published: Record<string, number> = { '6b_finetuning': 0.2168, '6b_verification': 0.3904, '175b_finetuning': 0.3472, '175b_verification': 0.5625 };
  for (const [system, acc] of Object.entries(published)) {
    const r = assay(['run', '--dataset', `gsm8k:${join(DATA, 'gsm8k/test.jsonl')}`, '--model', `replay:${join(DATA, 'gsm8k/model_solutions.jsonl')}#${system}`, '--scorer', 'gsm8k', '--pool', pool, '--json']);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out);
    const id = doc.run.run_id;
    const stats = JSON.parse(assay(['stats', id, '--pool', pool, '--json']).out).statistics[0];
    assert.ok(Math.abs(stats.statistics.accuracy - acc) < 0.0001, `${system}: ${stats.statistics.accuracy}`);
    assert.equal(stats.recorded.compared, 1319);
    assert.ok(stats.recorded.rate >= 0.99, `${system} agreement ${stats.recorded.rate}`);
    if (system === '175b_verification') {
      const sc = assay(['score', id, '--scorer', 'gsm8k', '--scorer', 'exact', '--pool', pool, '--json']);
      assert.equal(sc.code, 0, sc.err);
      const d = JSON.parse(sc.out).disagreement;
      assert.equal(d.compared, 1319);
      assert.ok(d.disagree > 0, 'exact match on the whole response disagrees with the numeric grader');
    }
  }
});

test('re-grading Qwen2.5-Math (8 samples per problem): avg@8, pass@8, maj@8 with CIs, agreement with the recorded score', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-qwen-'));
  const pool = join(dir, 'pool.sqlite');
  const file = join(DATA, 'outputs/qwen25math_math_cot_100.jsonl');
  const r = assay(['run', '--dataset', `jsonl:${file}`, '--id-field', 'idx', '--model', `replay:${file}#qwen25-math`, '--epochs', '8', '--scorer', 'math', '--pool', pool, '--json']);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  const s = doc.statistics[0].statistics;
  assert.equal(s.attempts, 800);
  assert.ok(Math.abs(s.accuracy - 0.91) < 0.005, `avg@8 ${s.accuracy}`); // published per-sample accuracy 0.91
  assert.ok(s.pass_at_k['pass@8'] >= 0.96 && s.pass_at_k['pass@8'] <= 0.98);
  assert.ok(s.maj_at_k.value >= 0.92 && s.maj_at_k.value <= 0.94);
  assert.ok(s.ci95_bootstrap.lo < s.accuracy && s.accuracy < s.ci95_bootstrap.hi);
  const st = JSON.parse(assay(['stats', doc.run.run_id, '--pool', pool, '--json']).out).statistics[0];
  assert.ok(st.recorded.rate >= 0.99, `agreement ${st.recorded.rate}`);
});
