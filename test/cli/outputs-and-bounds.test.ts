/**
 * Bad output paths and out-of-range flags, as a user gives them: every one is one line on stderr naming the file or
 * the flag, exit 2, never a stack trace or an unhandled 'error' event; and the ceilings of count flags are enforced at
 * the flag, before any pool, model or request.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTinyGguf } from '../../testkit/tiny-gguf.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));

let dir = '';
let pool = '';
let data = '';
let runId = '';

function assay(args: string[]) {
  // `merge` works on files only: it takes no pool
  const r = spawnSync(process.execPath, [BIN, ...args, ...(args[0] === 'merge' ? [] : ['--pool', pool])], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
/** Exit 2 with no stack trace; the first line of stderr matches `re`. */
function refused(args: string[], re: RegExp) {
  const r = assay(args);
  assert.equal(r.code, 2, r.err);
  assert.doesNotMatch(r.err, /\n\s+at |Error: ENOENT|RangeError|Unhandled/, r.err);
  assert.match(r.err.split('\n')[0]!, re);
  return r;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'assay-outputs-'));
  pool = join(dir, 'pool.sqlite');
  data = join(dir, 'd.jsonl');
  writeFileSync(data, Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: `s${i}`, question: `What is ${i} + 1?`, answer: String(i + 1) })).join('\n') + '\n');
  const r = assay(['run', '--dataset', `jsonl:${data}`, '--model', 'reference:noisy?p=0.3', '--scorer', 'math', '--json']);
  assert.equal(r.code, 0, r.err);
  runId = JSON.parse(r.out).run.run_id;
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('export -o into a missing directory or onto a directory: one line naming the path, exit 2', () => {
  refused(['export', runId, '-o', join(dir, 'nope', 'x.csv')], new RegExp(`^assay: field "--output": cannot write ${join(dir, 'nope', 'x.csv').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: its directory does not exist$`));
  refused(['export', runId, '-o', dir], /^assay: field "--output": cannot write .*: it is a directory$/);
  // a good path still writes every attempt
  const out = join(dir, 'x.jsonl');
  const r = assay(['export', runId, '-o', out]);
  assert.equal(r.code, 0, r.err);
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 8);
});

test('report -o into a missing directory: one line naming the path, exit 2, nothing written', () => {
  const bad = join(dir, 'missing', 'r.html');
  refused(['report', runId, '-o', bad], /^assay: field "--output": cannot write .*missing\/r\.html: its directory does not exist$/);
  assert.equal(existsSync(bad), false);
});

test('merge -o into a missing directory or onto a directory names the path and --out', () => {
  const parents = [1, 2].map((seed) => writeTinyGguf(join(dir, `p${seed}.gguf`), { seed, layers: 1, dim: 8, heads: 2, ff: 16 }).path);
  refused(['merge', ...parents, '--method', 'average', '--json', '-o', join(dir, 'missing', 'm.gguf')], /^assay: field "--out": cannot write .*missing\/m\.gguf: its directory does not exist$/);
  refused(['merge', ...parents, '--method', 'average', '--json', '-o', dir], /^assay: field "--out": cannot write .*: it is a directory$/);
  const ok = assay(['merge', ...parents, '--method', 'average', '-o', join(dir, 'm.gguf'), '--json']);
  assert.equal(ok.code, 0, ok.err);
  assert.ok(existsSync(join(dir, 'm.gguf')));
});

test('flags the library would refuse deep inside (RangeError) are refused at the flag', () => {
  for (const f of ['0', '2', '-1']) refused(['learnability', '--student', 'a', '--reference', 'b', '--fraction', f], /--fraction must be a number in \(0, 1\], got /);
  refused(['compare', runId, runId, '--alpha', '1'], /--alpha must be a number in \(0, 1\)/);
  refused(['plan', '--delta', '0.05', '--p', '1.5'], /--p must be a number in \[0, 1\]/);
  refused(['plan', '--delta', '0.05', '--p', '0.5', '--icc', '2'], /--icc must be a number in \[0, 1\]/);
  refused(['calibration', runId, '--missing-confidence', '101'], /--missing-confidence must be a number in \[0, 100\]/);
  refused(['needle-limit', runId, '--threshold', '1.5'], /--threshold must be a number in \[0, 1\]/);
});

test('count flags have documented ceilings: concurrency 4096, epochs 100,000, replicates 10^6', () => {
  const run = ['run', '--dataset', `jsonl:${data}`, '--model', 'reference:noisy?p=0.3'];
  refused([...run, '--concurrency', '1000000000'], /--concurrency must be at most 4,096, got 1000000000/);
  refused([...run, '--epochs', '1e12'], /--epochs must be at most 100,000, got 1e12/);
  refused(['eval', 'arithmetic', '--model', 'reference:noisy?p=0.3', '--concurrency', '5000'], /--concurrency must be at most 4,096/);
  refused(['stats', runId, '--replicates', '2000000'], /--replicates must be at most 1,000,000/);
  refused(['compare', runId, runId, '--permutations', '1e9'], /--permutations must be at most 1,000,000/);
  refused(['sweep', '--dataset', `jsonl:${data}`, '--model', 'reference:noisy?p=0.3', '--seeds', '0,1.5'], /--seeds takes comma-separated integers ≥ 0/);
  refused(['plan', '--delta', '0.05', '--p', '0.5', '--epochs', '1000000'], /--epochs must be integers from 1 to 100000/);
  const help = spawnSync(process.execPath, [BIN, 'run', '--help'], { encoding: 'utf8' }).stdout;
  assert.match(help, /at most 4096/);
  assert.match(help, /at most 100000/);
  // the ceilings themselves are accepted
  const ok = assay([...run, '--concurrency', '4096', '--epochs', '2', '--limit', '2', '--json']);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(JSON.parse(ok.out).run.planned, 4);
});

test('plan refuses a δ below 0.001 instead of printing billions of samples; 0.001 itself is planned', () => {
  refused(['plan', '--delta', '1e-9', '--p', '0.5'], /^assay: field "--delta": 1e-9 is below the smallest planned difference, 0\.001/);
  refused(['plan', '--half-width', '1e-5', '--p', '0.5'], /below the smallest planned half-width/);
  const r = assay(['plan', '--delta', '0.001', '--p', '0.5', '--json']);
  assert.equal(r.code, 0, r.err);
  const rows = JSON.parse(r.out).rows as { epochs: number; samples: number }[];
  assert.ok(rows.length > 0);
  for (const row of rows) assert.ok(row.samples > 1e5 && row.samples < 1e7, String(row.samples));
});

test('a template placeholder that is not a field is refused before any request, naming the task file and line', () => {
  const fresh = join(dir, 'untouched.sqlite');
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'run', ...args, '--model', 'openai-compatible:http://127.0.0.1:1/v1#none', '--pool', fresh], { encoding: 'utf8' });
  const r = run(['--dataset', `jsonl:${data}`, '--template', 'Q: {question} context: {context}']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim(), 'assay: field "template": placeholder {context} is not a field of the dataset (fields: question)');
  const task = join(dir, 'task.yaml');
  writeFileSync(task, `name: t\ndataset: jsonl:${data}\nscorers: [math]\ntemplate: "Q: {nosuchfield}"\n`);
  const y = run(['--task', task]);
  assert.equal(y.status, 2, y.stderr);
  assert.equal(y.stderr.trim(), `assay: ${task}:4 field "template": placeholder {nosuchfield} is not a field of the dataset (fields: question)`);
  writeFileSync(task, `name: t\ndataset: jsonl:${data}\nscorers: [math]\nsolver: [chain_of_thought]\n`);
  const s = run(['--task', task]);
  assert.equal(s.status, 2, s.stderr);
  assert.match(s.stderr, new RegExp(`^assay: ${task.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4 field "solver": the solver chain \\[chain_of_thought\\] never calls the model`));
  assert.equal(existsSync(fresh), false, 'refused before the pool was opened or any request made');
});
