/**
 * The `llama-cpp:` provider on the real runtime (node-llama-cpp 3.21.1, its prebuilt CPU binary): the suite writes a
 * tiny GGUF itself (testkit/tiny-gguf.ts: llama architecture, 2 layers × 64 dims, random F32 weights, a byte-level
 * BPE vocabulary of 261 tokens, a Jinja chat template) and checks that the runtime loads it, uses the file's chat
 * template, generates the same tokens for the same seed, returns log-probabilities that add up (a continuation's
 * equals the difference of the two prompts' totals; a greedy continuation is flagged greedy), cuts long texts into
 * rolling windows, loads a file once, and scores a 4-option multiple-choice task (2-shot) end to end; `assay quickstart
 * --model llama-cpp:<file>` runs as a command on it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { TINY_CHAT_TEMPLATE, writeTinyGguf } from '../../testkit/tiny-gguf.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { perplexityOfRun } from '../../src/analyses/loglikelihood.ts';
import { arithmeticChoices } from '../../src/cli/quickstart-model.ts';
import { generateArithmetic } from '../../src/generators/arithmetic.ts';
import { loadedModelCount, modelLoadCount } from '../../src/providers/llama-cpp.ts';
import { createProvider } from '../../src/providers/registry.ts';
import type { Provider } from '../../src/providers/types.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { openPool } from '../../src/store/open.ts';
import { resolveTask } from '../../src/tasks/resolve.ts';
import { defineTask } from '../../src/tasks/task.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-gguf-'));
const file = writeTinyGguf(join(dir, 'tiny.gguf'), { seed: 7 });
// One thread: on a busy 2-core machine, more threads made decoding hundreds of times slower (spinning workers).
const address = `llama-cpp:${file.path}?context_size=256&threads=1`;
const sample: Sample = { id: 'x', input: 'q', target: 't', metadata: {} };
const signal = new AbortController().signal;
const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
type LlamaProvider = Provider & { chatWrapper: string; chatPrompt(m: unknown[]): string; tokenize(t: string): number[]; contextSize: number; threads: number };

describe('llama-cpp on a tiny GGUF written by the test', () => {
  let p: LlamaProvider;
  before(async () => {
    p = (await createProvider(address, { concurrency: 4 })) as LlamaProvider;
  });
  after(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the file: declared settings, one sequence, the file\'s own chat template', () => {
    assert.equal(file.vocab, 261);
    assert.ok(file.bytes > 400_000 && file.bytes < 500_000, String(file.bytes));
    assert.equal(p.kind, 'llama-cpp');
    assert.deepEqual(Object.values(p.capabilities.settings), Array(8).fill('sent'));
    assert.equal(p.capabilities.loglikelihood, 'native');
    assert.equal(p.capabilities.maxConcurrency, 1);
    assert.equal(p.contextSize, 256);
    assert.equal(p.threads, 1);
    assert.match(p.chatWrapper, /Jinja/);
    assert.ok(TINY_CHAT_TEMPLATE.includes('<|turn:'));
    assert.equal(p.chatPrompt([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]), '<|turn:system|>Be brief.<|end|>\n<|turn:user|>Hi<|end|>\n<|turn:assistant|>');
    assert.deepEqual(p.tokenize(' the'), [258]); // the merges Ġ t → Ġt, h e → he, Ġt he → Ġthe
  });

  it('generates the same tokens for the same seed, others for another seed; max_tokens truncates; stop cuts', async () => {
    const gen = (config: Record<string, unknown>, epoch = 0) => p.generate({ messages: [{ role: 'user', content: 'Tell me a story.' }], config: { chat_template: true, ...config }, sample, epoch, signal });
    const a = await gen({ seed: 11, temperature: 1, max_tokens: 24 });
    const b = await gen({ seed: 11, temperature: 1, max_tokens: 24 });
    const c = await gen({ seed: 12, temperature: 1, max_tokens: 24 });
    assert.equal(a.text, b.text);
    assert.notEqual(a.text, c.text);
    // The per-epoch seed is seed + epoch, as on HTTP providers.
    assert.equal((await gen({ seed: 11, temperature: 1, max_tokens: 24 }, 1)).text, c.text);
    assert.equal(a.completion_tokens, 24);
    assert.equal(a.finish_reason, 'length');
    assert.ok(a.prompt_tokens! > 30);
    assert.equal(a.model_id, `assay-tiny (tiny.gguf, ${file.bytes} bytes)`);
    assert.match(a.system_fingerprint!, /^node-llama-cpp@3\.21\.1 /);
    const greedy1 = await gen({ temperature: 0, max_tokens: 16 });
    const greedy2 = await gen({ temperature: 0, max_tokens: 16 });
    assert.equal(greedy1.text, greedy2.text);
    const stopAt = [...greedy1.text].slice(3, 5).join('');
    const cut = await gen({ temperature: 0, max_tokens: 16, stop: [stopAt] });
    assert.ok(!cut.text.includes(stopAt) && greedy1.text.startsWith(cut.text), JSON.stringify([greedy1.text, stopAt, cut.text]));
    // top_k and top_p are sent: keeping one candidate (top_k 1, or a top_p below the top token's probability) makes
    // sampling at temperature 1 greedy whatever the seed, while the same seed without them samples something else.
    const sampled = await gen({ seed: 11, temperature: 1, max_tokens: 16 });
    assert.notEqual(sampled.text, greedy1.text);
    for (const narrow of [{ top_k: 1 }, { top_p: 1e-6 }]) {
      assert.equal((await gen({ seed: 11, temperature: 1, max_tokens: 16, ...narrow })).text, greedy1.text, JSON.stringify(narrow));
    }
    // Without the chat template: a plain-text completion of the raw prompt.
    const raw = await p.generate({ messages: [{ role: 'user', content: 'Once upon a time' }], config: { chat_template: false, temperature: 0, max_tokens: 8 }, sample, epoch: 0, signal });
    assert.equal(raw.meta?.chat_wrapper, null);
    assert.ok(raw.prompt_tokens! < 20);
  });

  it('a continuation\'s log-probability is the difference of the two prompts\' totals, and sums its tokens', async () => {
    const pairs = [
      ['The capital of France is', ' Paris'],
      ['The capital of France is ', 'Paris'],
      ['Question: what is 2 + 2?\nAnswer:', ' 4'],
      ['x', ' the the the'],
    ] as const;
    const r = await p.loglikelihood!({ requests: pairs.map(([context, continuation]) => ({ context, continuation })), sample, epoch: 0, signal });
    assert.deepEqual(r.results[0], r.results[1]);
    // Each prompt's total in a call of its own (a call never reuses another's evaluation): the difference matches to
    // float rounding (measured: 0 to 1.2e-7 nats; within one call, a reused prefix moves sums by up to ~4e-4).
    const total = async (text: string) => (await p.loglikelihoodRolling!({ requests: [text], sample, epoch: 0, signal })).results[0]!.logprob;
    for (let i = 0; i < pairs.length; i++) {
      const res = r.results[i]!;
      const [c, x] = pairs[i]!;
      const diff = (await total(c + x)) - (await total(c.trimEnd()));
      assert.ok(Math.abs(diff - res.logprob) < 1e-6, `${pairs[i]}: ${diff} vs ${res.logprob}`);
      assert.ok(Math.abs(res.token_logprobs.reduce((a, b) => a + b, 0) - res.logprob) < 1e-9);
      assert.ok(res.logprob < 0 && res.token_logprobs.every((x) => x < 0));
    }
    assert.equal(r.results[3]!.tokens, 3); // " the" is one token
    assert.equal(r.model_id, `assay-tiny (tiny.gguf, ${file.bytes} bytes)`);
  });

  it('the greedy continuation is flagged greedy; changing a character of it is not', async () => {
    // A second file whose only tokens with output weights are letters without merges (a–z but h): its greedy text
    // re-tokenizes into the very tokens it was decoded as (random byte tokens would not survive UTF-8 decoding).
    const letters = writeTinyGguf(join(dir, 'letters.gguf'), { seed: 7, outputChars: 'abcdefgijklmnopqrstuvwxyz' });
    const loads = modelLoadCount();
    const q = (await createProvider(`llama-cpp:${letters.path}?context_size=256&threads=1`, { concurrency: 1 })) as LlamaProvider;
    assert.equal(modelLoadCount(), loads + 1); // another file: loaded once
    try {
      const context = 'Once upon a time';
      const g = await q.generate({ messages: [{ role: 'user', content: context }], config: { chat_template: false, temperature: 0, max_tokens: 6 }, sample, epoch: 0, signal });
      assert.match(g.text, /^[a-gi-z]{6}$/);
      const altered = g.text.slice(0, 5) + (g.text[5] === 'a' ? 'b' : 'a');
      const r = await q.loglikelihood!({ requests: [{ context, continuation: g.text }, { context, continuation: altered }], sample, epoch: 0, signal });
      assert.deepEqual([r.results[0]!.is_greedy, r.results[0]!.tokens], [true, 6], g.text);
      assert.equal(r.results[1]!.is_greedy, false);
      assert.ok(r.results[1]!.logprob < r.results[0]!.logprob);
    } finally {
      await q.close();
    }
  });

  it('long texts are scored in rolling windows of the context size, every token once', async () => {
    const text = 'All work and no play makes Jack a dull boy. '.repeat(14); // 616 bytes, about 600 tokens
    const n = p.tokenize(text).length;
    const [r] = (await p.loglikelihoodRolling!({ requests: [text], sample, epoch: 0, signal })).results;
    assert.equal(r!.tokens, n);
    assert.equal(r!.windows, Math.ceil(n / 256));
    assert.ok(r!.logprob < 0);
  });

  it('one model load per file, shared by the providers of a run, released with the last', async () => {
    const [before, loads] = [loadedModelCount(), modelLoadCount()];
    const q = await createProvider(address, { concurrency: 1 });
    assert.deepEqual([loadedModelCount(), modelLoadCount()], [before, loads]);
    await q.close();
    assert.deepEqual([loadedModelCount(), modelLoadCount()], [before, loads]);
  });

  it('assay quickstart --model llama-cpp:<file> (the command, in its own process): generation, choice by log-likelihood and bits per byte, with CIs', async () => {
    const poolFile = join(dir, 'quickstart.sqlite');
    const r = await new Promise<{ code: number; out: string; err: string }>((res) => {
      execFile(process.execPath, [BIN, 'quickstart', '--model', address, '--limit', '4', '--epochs', '1', '--pool', poolFile, '--json'], { encoding: 'utf8', maxBuffer: 1 << 24 }, (e, out, err) => res({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
    });
    assert.equal(r.code, 0, r.err);
    type Stat = { samples: number; accuracy: number; ci95: { lo: number; hi: number } };
    const doc = JSON.parse(r.out) as { model: string; runs: string[]; generation: Stat; choice: Record<'acc' | 'acc_norm', Stat>; loglikelihood_skipped: string | null; perplexity: { documents: number; bits_per_byte: { value: number; ci95: { lo: number; hi: number } } } };
    assert.equal(doc.model, address);
    assert.equal(doc.runs.length, 3);
    assert.equal(doc.loglikelihood_skipped, null);
    assert.equal(doc.generation.samples, 4);
    // The headline interval of `assay stats` (never of zero width, even on 4 questions).
    for (const st of [doc.generation, doc.choice.acc, doc.choice.acc_norm]) assert.ok(st.ci95.lo <= st.accuracy && st.accuracy <= st.ci95.hi && st.ci95.lo < st.ci95.hi, JSON.stringify(st.ci95));
    assert.equal(doc.perplexity.documents, 4);
    const bpb = doc.perplexity.bits_per_byte;
    assert.ok(bpb.value > 0 && bpb.ci95.lo <= bpb.value && bpb.value <= bpb.ci95.hi, JSON.stringify(bpb));
    // What the command stored is what this process's model computes: the same per-option log-likelihoods for the same
    // prompts, and acc is the share of questions whose largest one is the gold option's.
    const mc = arithmeticChoices(generateArithmetic(4, 0), 0);
    const pool = await openPool(poolFile);
    try {
      let right = 0;
      for await (const a of pool.iterateAttempts(doc.runs[1]!, 'acc')) {
        const s = mc.find((x) => x.id === a.sample_id)!;
        const stored = (a.meta!.solver as { loglikelihood: { logprobs: number[] } }).loglikelihood.logprobs;
        const mine = await p.loglikelihood!({ requests: s.choices!.map((c) => ({ context: `Question: ${s.input}\nAnswer:`, continuation: ` ${c}` })), sample, epoch: 0, signal });
        // Bit for bit: a sample's log-likelihoods depend on its own requests only, never on what was evaluated before.
        assert.deepEqual(mine.results.map((x) => x.logprob), stored, s.id);
        const best = stored.indexOf(Math.max(...stored));
        assert.equal(a.measurement!.value, s.choices![best] === s.target ? 1 : 0);
        right += a.measurement!.value!;
      }
      assert.equal(doc.choice.acc.accuracy, right / 4);
    } finally {
      await pool.close();
    }
  });

  it('a 4-option multiple-choice task (2-shot) and a perplexity run scored end to end on the tiny model, one load for both', async () => {
    const samples: Sample[] = Array.from({ length: 14 }, (_, i) => ({
      id: `q${i}`, input: `What is ${i} + ${i}?`, target: String(2 * i), choices: [String(2 * i), String(2 * i + 1), String(i), String(3 * i + 2)], metadata: {},
    }));
    const pool = await openPool('memory:');
    try {
      const mc = defineTask({ name: 'tiny-mc', dataset: { name: 'doubles', samples }, template: 'text:Question: {question}\nAnswer:', fewShot: { k: 2, seed: 0, format: 'template' }, solver: 'loglikelihood_choice', scorers: ['acc', 'acc_norm', 'greedy_match'] });
      const docs = defineTask({ name: 'tiny-ppl', dataset: { name: 'docs', samples: samples.map((s) => ({ ...s, choices: undefined })) }, solver: 'loglikelihood_rolling', scorers: ['bits_per_byte'] });
      // The eval set makes its own provider for the address (no provider passed in): it shares the loaded file.
      const loads = modelLoadCount();
      const r = await evaluate([mc, docs], address, { pool });
      assert.equal(r.status, 'complete');
      assert.equal(modelLoadCount(), loads);
      const [mcRun, pplRun] = r.cells.map((c) => c.run_id);
      const st = (await runStatistics(pool, mcRun!, { scorer: 'acc' })).statistics;
      assert.equal(st.samples, 12);
      assert.ok(st.ci95_bootstrap.lo <= st.accuracy && st.accuracy <= st.ci95_bootstrap.hi);
      const norm = (await runStatistics(pool, mcRun!, { scorer: 'acc_norm' })).statistics;
      let acc = 0, accNorm = 0, n = 0;
      // The two few-shot examples (drawn with seed 0, in drawn order; never evaluated) precede every question.
      const fewShot = (await resolveTask(mc)).fewShotIds.map((id) => samples.find((x) => x.id === id)!);
      for await (const a of pool.iterateAttempts(mcRun!, 'acc')) {
        const s = samples.find((x) => x.id === a.sample_id)!;
        const ll = (a.meta!.solver as { loglikelihood: { logprobs: number[]; tokens: number[] } }).loglikelihood;
        assert.equal(ll.logprobs.length, 4);
        assert.ok(ll.logprobs.every((x) => Number.isFinite(x) && x < 0));
        assert.equal(a.measurement!.status, 'ok');
        assert.ok(!fewShot.includes(s));
        // The stored log-likelihoods are the model's for the 2-shot context in lm-eval's layout, asked directly.
        const context = [...fewShot.map((ex) => `Question: ${ex.input}\nAnswer: ${ex.target}`), `Question: ${s.input}\nAnswer:`].join('\n\n');
        const direct = await p.loglikelihood!({ requests: s.choices!.map((c) => ({ context, continuation: ` ${c}` })), sample, epoch: 0, signal });
        assert.deepEqual(direct.results.map((x) => x.logprob), ll.logprobs, s.id); // bit for bit, whatever came before
        n++;
        const best = (xs: number[]) => xs.indexOf(Math.max(...xs));
        assert.equal(a.measurement!.value, best(ll.logprobs) === 0 ? 1 : 0); // the gold is the first option
        acc += best(ll.logprobs) === 0 ? 1 : 0;
        accNorm += best(ll.logprobs.map((x, i) => x / s.choices![i]!.length)) === 0 ? 1 : 0;
      }
      assert.equal(n, 12);
      assert.equal(st.accuracy, acc / 12);
      assert.equal(norm.accuracy, accNorm / 12);
      const ppl = await perplexityOfRun(pool, pplRun!, { replicates: 200 });
      assert.equal(ppl.documents, 14);
      // A random model over 261 tokens is near the uniform 8.03 bits per token; bytes are tokens here (byte-level BPE).
      assert.ok(ppl.nll_per_token.value > 3 && ppl.nll_per_token.value < 9, String(ppl.nll_per_token.value));
      assert.ok(ppl.bits_per_byte.ci95.lo <= ppl.bits_per_byte.value && ppl.bits_per_byte.value <= ppl.bits_per_byte.ci95.hi);
    } finally {
      await pool.close();
    }
  });
});
