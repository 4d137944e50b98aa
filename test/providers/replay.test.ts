/**
 * Replay provider on the real recorded outputs in shared/data.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReplayProvider, GSM8K_SYSTEMS } from '../../src/providers/replay.ts';
import { ProviderError, type GenerateRequest, type Provider } from '../../src/providers/types.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { InputError } from '../../src/core/errors.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { shared } from '../../testkit/shared.ts';

const data = (rel: string): string => shared(`data/${rel}`);
const SOLUTIONS = data('gsm8k/model_solutions.jsonl');
const QWEN = data('outputs/qwen25math_math_cot_100.jsonl');
const TORA = {
  'tora-70b': data('outputs/tora/tora-70b-v1.0/gsm8k/test_tora_-1_seed0_t0.0_s0_e1319.jsonl'),
  'tora-code-34b': data('outputs/tora/tora-code-34b-v1.0/gsm8k/test_tora_-1_seed0_t0.0_s0_e1319.jsonl'),
};

const req = (sample: Sample, epoch = 0): GenerateRequest => ({
  messages: [{ role: 'user', content: typeof sample.input === 'string' ? sample.input : '' }],
  config: { chat_template: true },
  sample,
  epoch,
  signal: new AbortController().signal,
});

let gsm: Sample[];
let dir: string;
before(async () => {
  gsm = (await loadDataset(`gsm8k:${data('gsm8k/test.jsonl')}`)).samples;
  dir = await mkdtemp(join(tmpdir(), 'assay-replay-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Replays every sample at epoch 0; returns [served, recorded-correct count]. */
async function replayAll(p: Provider, samples: Sample[], epoch = 0): Promise<{ texts: string[]; correct: number; preds: string[] }> {
  const texts: string[] = [];
  const preds: string[] = [];
  let correct = 0;
  for (const s of samples) {
    const r = await p.generate(req(s, epoch));
    assert.equal(r.finish_reason, 'stop');
    assert.equal(r.prompt_tokens, null);
    assert.equal(r.completion_tokens, null);
    texts.push(r.text);
    if (r.meta?.recorded_correct === true) correct++;
    if (typeof r.meta?.recorded_pred === 'string') preds.push(r.meta.recorded_pred);
  }
  return { texts, correct, preds };
}

test('GSM8K model_solutions: each of the 4 systems matches all 1319 samples; accuracies as published', async () => {
  const expected: Record<string, number> = { '6b_finetuning': 21.68, '6b_verification': 39.04, '175b_finetuning': 34.72, '175b_verification': 56.25 };
  const noFinal: Record<string, number> = { '6b_finetuning': 4, '6b_verification': 1, '175b_finetuning': 5, '175b_verification': 1 };
  for (const system of GSM8K_SYSTEMS) {
    const p = await createReplayProvider(`replay:${SOLUTIONS}#${system}`);
    assert.equal(p.kind, 'replay');
    assert.equal(p.baseUrl, null);
    assert.equal(p.model, system);
    assert.equal(p.capabilities.remote, false);
    assert.ok(Object.values(p.capabilities.settings).every((s) => s === 'ignored'), 'a recorded response honours no setting');
    const { texts, correct } = await replayAll(p, gsm);
    assert.equal(texts.length, 1319);
    // Data quirk: a few recorded solutions are cut off (runaway repetition) and carry no final "A: N".
    assert.equal(texts.filter((t) => !/A: /.test(t)).length, noFinal[system], system);
    assert.equal(Math.round((10000 * correct) / 1319) / 100, expected[system], system);
    const first = await p.generate(req(gsm[0]!));
    assert.equal(first.model_id, system);
    assert.equal(first.meta?.recorded_correct, system === '175b_verification');
    await assert.rejects(p.generate(req(gsm[0]!, 1)), (e: unknown) => e instanceof ProviderError && e.opts.retryable === false);
    await p.close();
  }
});

test('GSM8K model_solutions: question matching is whitespace-normalised', async () => {
  const p = await createReplayProvider(`replay:${SOLUTIONS}#6b_finetuning`);
  const s = gsm[5]!;
  const spaced: Sample = { ...s, id: 'other-id', input: `  ${(s.input as string).replace(/ /g, '  \n')}\t` };
  assert.equal((await p.generate(req(spaced))).text, (await p.generate(req(s))).text);
  const asMessages: Sample = { ...s, input: [{ role: 'system', content: 'sys' }, { role: 'user', content: s.input as string }] };
  assert.equal((await p.generate(req(asMessages))).text, (await p.generate(req(s))).text);
});

test('GSM8K model_solutions: missing or unknown #system is an InputError listing the 4 systems', async () => {
  for (const addr of [`replay:${SOLUTIONS}`, `replay:${SOLUTIONS}#7b_magic`]) {
    await assert.rejects(createReplayProvider(addr), (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.equal(err.where.file, SOLUTIONS);
      for (const s of GSM8K_SYSTEMS) assert.ok(err.message.includes(s), err.message);
      return true;
    });
  }
});

test('Qwen2.5-Math outputs: 100 problems × 8 epochs, recorded score and pred per epoch', async () => {
  const ds = await loadDataset(`jsonl:${QWEN}`, { fields: { id: 'idx' } });
  assert.equal(ds.samples.length, 100);
  const p = await createReplayProvider(`replay:${QWEN}`);
  assert.equal(p.model, 'qwen25math_math_cot_100.jsonl');
  let correct = 0;
  let firstCorrect = 0;
  for (const s of ds.samples) {
    const code = s.metadata.code as string[];
    const pred = s.metadata.pred as string[];
    const score = s.metadata.score as boolean[];
    for (let e = 0; e < 8; e++) {
      const r = await p.generate(req(s, e));
      assert.equal(r.text, code[e]);
      assert.equal(r.meta?.recorded_pred, pred[e]);
      assert.equal(r.meta?.recorded_correct, score[e]);
      if (r.meta?.recorded_correct) {
        correct++;
        if (e === 0) firstCorrect++;
      }
    }
    await assert.rejects(p.generate(req(s, 8)), (e: unknown) => e instanceof ProviderError && /epoch 8/.test(e.message));
  }
  assert.equal(correct / 800, 0.91); // README: mean per-sample accuracy 0.91
  assert.equal(firstCorrect / 100, 0.9); // README: first-sample accuracy 0.90
  // idx fallback: same id, unknown question text
  const byIdx = await p.generate(req({ ...ds.samples[3]!, input: 'a different rendering of the question' }, 2));
  assert.equal(byIdx.text, (ds.samples[3]!.metadata.code as string[])[2]);
  assert.equal(byIdx.meta?.matched_by, 'idx');
  assert.equal((await p.generate(req(ds.samples[3]!, 2))).meta?.matched_by, 'question');
});

test('ToRA outputs replay against GSM8K samples by question; recorded preds reproduce upstream accuracy', async () => {
  const want: Record<string, number> = { 'tora-70b': 84.31, 'tora-code-34b': 80.52 };
  for (const [name, file] of Object.entries(TORA)) {
    const p = await createReplayProvider(`replay:${file}#${name}`);
    assert.equal(p.model, name);
    const { texts, preds } = await replayAll(p, gsm);
    assert.equal(texts.length, 1319);
    assert.equal(preds.length, 1319);
    assert.ok(texts.every((t) => t.startsWith('```python')));
    const r = await p.generate(req(gsm[0]!));
    assert.equal(r.meta?.recorded_correct, undefined, 'ToRA files carry no score');
    assert.equal(r.meta?.recorded_pred, '18');
    // numeric comparison as in data README (|pred - gt| < 1e-4)
    let ok = 0;
    preds.forEach((pred, i) => {
      const gt = Number(gsm[i]!.target.replace(/,/g, ''));
      const v = Number(pred.replace(/,/g, ''));
      if (Number.isFinite(v) && Math.abs(v - gt) < 1e-4) ok++;
    });
    assert.equal(Math.round((10000 * ok) / 1319) / 100, want[name], name);
  }
});

test('no recorded response: ProviderError naming sample, epoch and file, not retryable', async () => {
  const p = await createReplayProvider(`replay:${TORA['tora-70b']}`);
  const stranger: Sample = { id: 'nope', input: 'What is the airspeed velocity of an unladen swallow?', target: '', metadata: {} };
  await assert.rejects(p.generate(req(stranger)), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(err.message, `no recorded response for sample nope epoch 0 in ${TORA['tora-70b']}`);
    assert.equal(err.opts.retryable, false);
    return true;
  });
  await assert.rejects(p.generate(req(gsm[0]!, 1)), /epoch 1/);
});

test('generic replay file: {id, response, epoch?}, several epochs per id, optional correct/pred', async () => {
  const f = join(dir, 'generic.jsonl');
  await writeFile(
    f,
    [
      { id: 'a', response: 'A0' },
      { id: 'a', response: 'A1', epoch: 1, correct: true, pred: '4' },
      { id: 7, response: 'S7', epoch: 0 },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
  const p = await createReplayProvider(`replay:${f}#my-model`);
  assert.equal(p.model, 'my-model');
  const a: Sample = { id: 'a', input: 'anything', target: '4', metadata: {} };
  assert.deepEqual(await p.generate(req(a)), { text: 'A0', finish_reason: 'stop', model_id: 'my-model', prompt_tokens: null, completion_tokens: null, meta: { matched_by: 'id' } });
  const r1 = await p.generate(req(a, 1));
  assert.equal(r1.text, 'A1');
  assert.deepEqual(r1.meta, { matched_by: 'id', recorded_correct: true, recorded_pred: '4' });
  assert.equal((await p.generate(req({ ...a, id: '7' }))).text, 'S7');
  await assert.rejects(p.generate(req(a, 2)), ProviderError);
  const noSys = await createReplayProvider(f);
  assert.equal(noSys.model, 'generic.jsonl');
  assert.equal(noSys.address, f);
});

test('replay file errors name file and line', async () => {
  const cases: [string, string, { line?: number; field?: string }, RegExp][] = [
    ['unknown.jsonl', '{"foo": 1}\n', { line: 1 }, /unrecognised replay format/],
    ['broken.jsonl', '{"id": "a", "response": "x"}\n{"id": \n', { line: 2 }, /broken JSON/],
    ['dup.jsonl', '{"id": "a", "response": "x"}\n{"id": "a", "response": "y", "epoch": 0}\n', { line: 2, field: 'id' }, /duplicate record/],
    ['badepoch.jsonl', '{"id": "a", "response": "x", "epoch": -1}\n', { line: 1, field: 'epoch' }, /epoch/],
    ['badresp.jsonl', '{"id": "a", "response": "x"}\n{"id": "b", "response": 5}\n', { line: 2, field: 'response' }, /wrong type/],
    ['badcode.jsonl', '{"question": "q", "idx": 0, "code": ["x"]}\n{"question": "r", "idx": 1, "code": [3]}\n', { line: 2, field: 'code' }, /code\[0\]/],
    ['empty.jsonl', '', {}, /empty/],
  ];
  for (const [name, content, where, msg] of cases) {
    const f = join(dir, name);
    await writeFile(f, content);
    await assert.rejects(createReplayProvider(`replay:${f}`), (err: unknown) => {
      assert.ok(err instanceof InputError, `${name}: ${String(err)}`);
      assert.equal(err.where.file, f);
      for (const [k, v] of Object.entries(where)) assert.equal(err.where[k as 'line'], v, `${name} ${k}: ${err.message}`);
      assert.match(err.message, msg);
      return true;
    });
  }
  await assert.rejects(createReplayProvider('replay:/nonexistent/file.jsonl'), (e: unknown) => e instanceof InputError && /not found/.test(e.message));
});
