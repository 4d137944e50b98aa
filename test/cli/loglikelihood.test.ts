/**
 * The log-likelihood commands as a user runs them (child processes): `assay run --task` with a YAML multiple-choice
 * task against an endpoint that serves echo + logprobs, `assay perplexity`, `assay learnability`, the up-front refusal
 * of a chat-only endpoint (exit code 2), and `assay import lm-eval-loglikelihood` printing its check.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
// Async: the test server answers from this process, so the CLI must not block it.
function assay(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 }, (error, out, err) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out, err }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'assay-cli-ll-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const pool = join(dir, 'pool.sqlite');

test('a YAML multiple-choice task by log-likelihood, perplexity and learnability from the command line', async () => {
  // The model prefers " red" everywhere; the student finds texts about cats hard.
  const server = await startFakeOpenAIServer({ tokenLogprob: (prefix, t) => (t === ' red' ? -0.1 : prefix.includes('cat') ? -3 : -1), modelId: 'cli-base' });
  const chatOnly = await startFakeOpenAIServer({ noCompletions: true });
  try {
    const data = join(dir, 'colours.jsonl');
    writeFileSync(data, ['apple', 'sky', 'grass', 'cherry'].map((w, i) => JSON.stringify({ id: `c${i}`, question: `The colour of the ${w} is`, answer: ['red', 'blue', 'green', 'red'][i], choices: ['red', 'blue', 'green', 'yellow'] })).join('\n') + '\n');
    const task = join(dir, 'colours.yaml');
    writeFileSync(task, `name: colours\ndataset: ${data}\ntemplate: "text:{question}"\nsolver: loglikelihood_choice\nscorers: [acc, acc_norm]\n`);
    const model = `openai-compatible:${server.url}#base`;
    const r = await assay(['run', '--task', task, '--model', model, '--pool', pool, '--json']);
    assert.equal(r.code, 0, r.err);
    const run = JSON.parse(r.out);
    const runId: string = run.run_id ?? run.run?.run_id ?? run.result?.run_id;
    assert.ok(runId, r.out.slice(0, 300));
    const st = await assay(['stats', runId.slice(0, 8), '--pool', pool, '--scorer', 'acc', '--json']);
    assert.equal(st.code, 0, st.err);
    assert.equal(JSON.parse(st.out).statistics[0].statistics.accuracy, 0.5); // "red" is right for apple and cherry

    const refused = await assay(['run', '--task', task, '--model', `openai-compatible:${chatOnly.url}#m`, '--pool', pool]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /does not return prompt log-probabilities/);
    assert.equal(chatOnly.stats.chat, 0);

    const docs = join(dir, 'docs.jsonl');
    writeFileSync(docs, Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: `d${i}`, question: i % 4 === 0 ? `A cat named ${i} sleeps.` : `A dog named ${i} runs.`, answer: '' })).join('\n') + '\n');
    const pplTask = join(dir, 'docs.yaml');
    writeFileSync(pplTask, `name: docs\ndataset: ${docs}\nsolver: loglikelihood_rolling\nscorers: [bits_per_byte]\n`);
    const reference = await startFakeOpenAIServer({ tokenLogprob: () => -1, modelId: 'reference' });
    try {
      const s = JSON.parse((await assay(['run', '--task', pplTask, '--model', model, '--pool', pool, '--json'])).out);
      const ref = JSON.parse((await assay(['run', '--task', pplTask, '--model', `openai-compatible:${reference.url}#ref`, '--pool', pool, '--json'])).out);
      const sId: string = s.run_id ?? s.run?.run_id;
      const rId: string = ref.run_id ?? ref.run?.run_id;
      const ppl = await assay(['perplexity', sId, '--pool', pool, '--replicates', '200']);
      assert.equal(ppl.code, 0, ppl.err);
      assert.match(ppl.out, /bits per byte\s+\d+\.\d{4} \[\d+\.\d{4}, \d+\.\d{4}\]/);
      const l = await assay(['learnability', '--student', sId, '--reference', rId, '--fraction', '0.25', '--replicates', '200', '--draws', '200', '--pool', pool, '--json']);
      assert.equal(l.code, 0, l.err);
      const doc = JSON.parse(l.out);
      assert.deepEqual(new Set(doc.selected), new Set(['d0', 'd4', 'd8']));
      const text = await assay(['learnability', '--student', sId, '--reference', rId, '--fraction', '0.25', '--replicates', '100', '--draws', '100', '--pool', pool]);
      assert.match(text.out, /selected: the top 25% = 3 items/);
    } finally {
      await reference.close();
    }
  } finally {
    await server.close();
    await chatOnly.close();
  }
});

test('import lm-eval-loglikelihood prints whether Assay reproduces lm-eval\'s accuracies', async () => {
  const d = join(dir, 'lm', 'org__model');
  mkdirSync(d, { recursive: true });
  const line = (id: number, lls: string[], target: string, acc: number, accNorm: number) =>
    JSON.stringify({ doc_id: id, target, arguments: Object.fromEntries(['no', 'maybe'].map((c, j) => [`gen_args_${j}`, { arg_0: 'Q?\nA:', arg_1: ` ${c}` }])), filtered_resps: lls.map((l) => [l, 'False']), filter: 'none', acc, acc_norm: accNorm });
  writeFileSync(join(d, 'samples_yn_2024-01-01T00-00-00.000001.jsonl'), [line(0, ['-1.0', '-1.25'], '1', 0.0, 1.0), line(1, ['-3.0', '-1.0'], '1', 1.0, 1.0)].join('\n') + '\n');
  writeFileSync(join(d, 'results_2024-01-01T00-00-00.000001.json'), JSON.stringify({ results: { yn: { 'acc,none': 0.5, 'acc_norm,none': 1.0 } }, configs: { yn: { target_delimiter: ' ' } } }));
  const r = await assay(['import', 'lm-eval-loglikelihood', join(d, 'samples_yn_2024-01-01T00-00-00.000001.jsonl'), '--pool', pool]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /imported 4 measurements on 2 samples/);
  assert.match(r.out, /acc\s+0\.5\s+0\.5\s+0\.5\s+0\s+yes/);
  assert.match(r.out, /acc_norm\s+1\s+1\s+1\s+0\s+yes/);
});
