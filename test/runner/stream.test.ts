/**
 * Checkpoint streams end to end on the real llama.cpp runtime: 4 tiny GGUF checkpoints (written by the test) × 3
 * multiple-choice tasks scored by log-likelihood (two adaptation tasks introduced at checkpoints 1 and 2, one held
 * out). `assay stream <file>` evaluates every cell as an ordinary run and prints the matrix and metrics with intervals; the
 * library call on the same pool resumes without a model call, the matrix read back equals each run's own accuracy
 * and the metrics equal the formulas applied by hand to that matrix.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeTinyGguf } from '../../testkit/tiny-gguf.ts';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { streamTable } from '../../src/analyses/stream.ts';
import { evaluateStream } from '../../src/runner/stream.ts';
import { mergeModels } from '../../src/merge/merge.ts';
import { openPool } from '../../src/store/open.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'assay-stream-'));
const models = [3, 4, 5, 6].map((seed) => `llama-cpp:${writeTinyGguf(join(dir, `ckpt${seed - 3}.gguf`), { seed }).path}?context_size=256&threads=1`);
const N = 6;
const taskFiles = (['add', 'mul', 'sub'] as const).map((op) => {
  const rows = Array.from({ length: N }, (_, i) => {
    const a = 3 * i + 5, b = i + 1;
    const ans = op === 'add' ? a + b : op === 'mul' ? a * b : a - b;
    return JSON.stringify({ id: `${op}-${i}`, question: `What is ${a} ${op === 'add' ? '+' : op === 'mul' ? '*' : '-'} ${b}?`, answer: String(ans), choices: [String(ans), String(ans + 1), String(ans - 2), String(ans * 2 + 1)] });
  });
  writeFileSync(join(dir, `${op}.jsonl`), rows.join('\n') + '\n');
  writeFileSync(join(dir, `${op}.yaml`), `name: ${op}\ndataset: ${join(dir, `${op}.jsonl`)}\ntemplate: "text:Question: {question}\\nAnswer:"\nsolver: loglikelihood_choice\nscorers: [acc]\n`);
  return `${op}.yaml`;
});
const streamFile = join(dir, 'stream.yaml');
writeFileSync(streamFile, [
  'name: tiny-stream',
  'checkpoints:',
  ...models.map((m, i) => `  - { name: ${i === 0 ? 'base' : `step${i}`}, model: "${m}" }`),
  'adaptation:',
  `  - { task: ${taskFiles[0]}, at: step1 }`,
  `  - { task: ${taskFiles[1]}, at: 2 }`,
  `zero_shot: [${taskFiles[2]}]`,
  'bootstrap: { seed: 5, replicates: 300 }',
].join('\n') + '\n');

after(() => rmSync(dir, { recursive: true, force: true }));

describe('checkpoint streams', () => {
  const poolFile = join(dir, 'pool.sqlite');
  let cliStreamId = '';
  let cliMatrix: number[][] = [];

  it('assay stream <file> evaluates the stream and prints the matrix, the trajectories and ACC/BWT/FWT with intervals; run again it resumes', async () => {
    const run = (args: string[]) => new Promise<{ code: number; out: string; err: string }>((res) => {
      execFile(process.execPath, [BIN, 'stream', streamFile, '--pool', poolFile, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 24 }, (e, out, err) => res({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
    });
    const text = await run([]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /stream [0-9a-f]{16} \(tiny-stream\): complete; 4 checkpoints × 3 tasks/);
    assert.match(text.out, /add \(adapt @1, n=6\)/);
    assert.match(text.out, /sub \(zero-shot, n=6\)/);
    assert.match(text.out, /^3\s+step3\s+\d+\.\d% \[\d+\.\d%, \d+\.\d%\]/m);
    assert.match(text.out, /ACC \d+\.\d% \[[^\]]+\]\s+BWT [+-]\d\.\d{3}/);
    const json = await run(['--json']);
    assert.equal(json.code, 0, json.err);
    const doc = JSON.parse(json.out) as { table: { report: { matrix: { value: number }[][] } }; stream: { cells: unknown[] } };
    assert.equal(doc.stream.cells.length, 12);
    assert.equal(doc.table.report.matrix.length, 4);
    cliStreamId = (JSON.parse(json.out) as { stream: { id: string } }).stream.id;
    cliMatrix = doc.table.report.matrix.map((r) => r.map((e) => e.value));
  });
  it('the library call on the same pool: the same stream, every run resumed without a model call; each cell is its run\'s accuracy; metrics by hand', async () => {
    const pool = await openPool(poolFile);
    try {
      const r = await evaluateStream(streamFile, { pool });
      assert.equal(r.status, 'complete');
      assert.equal(r.stream_id, cliStreamId);
      assert.ok(r.cells.every((c) => c.result.executed === 0), JSON.stringify(r.cells.map((c) => c.result.executed)));
      assert.equal(r.cells.length, 12);
      assert.deepEqual(r.stream.tasks.map((t) => [t.task.name, t.role]), [['add', { role: 'adaptation', introduced: 1 }], ['mul', { role: 'adaptation', introduced: 2 }], ['sub', { role: 'zero-shot' }]]);
      const t = await streamTable(pool, r.stream_id);
      assert.deepEqual(t.checkpoints.map((c) => c.name), ['base', 'step1', 'step2', 'step3']);
      assert.deepEqual(t.columns.map((c) => [c.task, c.samples, c.scorer]), [['add@1', N, 'acc'], ['mul@1', N, 'acc'], ['sub@1', N, 'acc']]);
      assert.equal(t.report.replicates, 300);
      assert.equal(t.report.seed, 5);
      // Each cell is its run's accuracy as `assay stats` computes it.
      const R: number[][] = [];
      for (let c = 0; c < 4; c++) {
        R.push([]);
        for (let j = 0; j < 3; j++) {
          const acc = (await runStatistics(pool, t.runs[c]![j]!, { scorer: 'acc' })).statistics.accuracy;
          R[c]!.push(acc);
          assert.equal(t.report.matrix[c]![j]!.value, acc);
          const e = t.report.matrix[c]![j]!;
          assert.ok(e.ci95!.lo <= e.value! && e.value! <= e.ci95!.hi);
        }
      }
      assert.ok(new Set(R.flat()).size > 1, `a degenerate matrix tells nothing: ${JSON.stringify(R)}`);
      // The formulas by hand on this matrix (columns: add @1, mul @2, sub held out).
      const close = (a: number | null, b: number | null) => assert.ok(a === b || (a !== null && b !== null && Math.abs(a - b) < 1e-12), `${a} vs ${b}`);
      close(t.report.accumulation[1]!.value, R[1]![0]!);
      close(t.report.accumulation[3]!.value, (R[3]![0]! + R[3]![1]!) / 2);
      close(t.report.zero_shot[2]!.value, R[2]![2]!);
      close(t.report.retention[3]!.value, R[0]![2]! === 0 ? null : R[3]![2]! / R[0]![2]!);
      close(t.report.geometric_mean[3]!.value, Math.sqrt(((R[3]![0]! + R[3]![1]!) / 2) * R[3]![2]!));
      close(t.report.forgetting[3]!.value, (Math.max(R[1]![0]!, R[2]![0]!) - R[3]![0]! + Math.max(R[1]![1]!, R[2]![1]!) - R[3]![1]!) / 2);
      close(t.report.bwt.value, (R[3]![0]! - R[1]![0]! + R[3]![1]! - R[2]![1]!) / 2);
      close(t.report.fwt.value, R[1]![1]! - R[0]![1]!);
      assert.deepEqual(R, cliMatrix);
    } finally {
      await pool.close();
    }
  });

  it('a stream entry naming a TIES merge of two checkpoints: built once (content-addressed) and evaluated as a fifth checkpoint; recorded with its parents; the HTML report has a point per checkpoint', async () => {
    const merged = join(dir, 'merged-stream.yaml');
    writeFileSync(merged, readFileSync(streamFile, 'utf8').replace('adaptation:', '  - { name: merged, merge: { method: ties, density: 0.5, parents: [step2, step3], base: base, time: { deployment: merge } } }\nadaptation:').replace('name: tiny-stream', 'name: tiny-stream-merged'));
    const html = join(dir, 'stream.html');
    const run = () => new Promise<{ code: number; out: string; err: string }>((res) => {
      execFile(process.execPath, [BIN, 'stream', merged, '--pool', poolFile, '--html', html], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 24 }, (e, out, err) => res({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
    });
    const first = await run();
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /complete; 5 checkpoints × 3 tasks/);
    const file = /checkpoint 4 merged: merged into (\S+merge-[0-9a-f]{16}\.gguf)/.exec(first.err)?.[1];
    assert.ok(file && existsSync(file), first.err);
    assert.equal(dirname(file), join(dir, '.assay', 'merges'));
    // The file is the merge itself: the same spec on the same parent files gives the same bytes.
    const direct = join(dir, 'direct.gguf');
    const parentFiles = [2, 3].map((i) => models[i]!.slice('llama-cpp:'.length).replace(/\?.*$/, ''));
    mergeModels({ parents: parentFiles, base: models[0]!.slice('llama-cpp:'.length).replace(/\?.*$/, ''), spec: { method: 'ties', density: 0.5, time: { deployment: 'merge' } }, out: direct });
    assert.ok(readFileSync(file).equals(readFileSync(direct)));
    const pool = await openPool(poolFile);
    try {
      const address = `llama-cpp:${file}?context_size=256&threads=1`;
      const rec = (await pool.getModel(address))!;
      const m = rec.metadata.merge as { method: string; parents: { checkpoint: string; path: string }[]; base: { checkpoint: string } };
      assert.equal(m.method, 'ties');
      assert.deepEqual(m.parents.map((p) => [p.checkpoint, p.path]), [['step2', parentFiles[0]], ['step3', parentFiles[1]]]);
      assert.equal(m.base.checkpoint, 'base');
      // Rows 0–3 are the first stream's runs (resumed); row 4 is new; run again, nothing is built or asked.
      const mtime = statSync(file).mtimeMs;
      const r = await evaluateStream(merged, { pool, onMerge: (_row, _name, _file, built) => assert.equal(built, false) });
      assert.equal(r.status, 'complete');
      assert.ok(r.cells.every((c) => c.result.executed === 0));
      assert.equal(statSync(file).mtimeMs, mtime);
      assert.equal(r.stream.checkpoints[4]!.model, address);
      const t = await streamTable(pool, r.stream_id);
      assert.equal(t.report.matrix.length, 5);
      // The HTML report: zero-shot accuracy has a point per checkpoint, at the matrix's values.
      const page = readFileSync(html, 'utf8');
      const zs = [...page.matchAll(/<circle class="mark point" data-series="zero-shot accuracy" data-row="(\d)" data-value="([^"]+)"/g)].map((x) => [Number(x[1]), Number(x[2])]);
      assert.deepEqual(zs, t.report.zero_shot.map((e, i) => [i, e.value]));
      assert.match(page, /ties \(density 0\.5, time \{&quot;deployment&quot;:&quot;merge&quot;\}\) of step2, step3 over base, merge-[0-9a-f]{16}\.gguf/);
    } finally {
      await pool.close();
    }
  });

});
