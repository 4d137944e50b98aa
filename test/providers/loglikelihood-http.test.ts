/**
 * Log-likelihoods over an OpenAI-compatible endpoint (src/providers/openai-compatible.ts) against the test server's
 * `/v1/completions` with `echo` + `logprobs` (testkit/fake-openai-server.ts, shaped like vLLM's answers): the probe,
 * lm-eval's context/continuation split, continuation log-probabilities as differences of prompt totals, greedy flags,
 * plain-text completions for base models, and a 4-option multiple-choice task end to end (acc, acc_norm with CIs,
 * re-scoring, the response cache, the up-front refusal of an endpoint that cannot score).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { fakeTokenize, hash32, startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { InputError } from '../../src/core/errors.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { perplexityOfRun } from '../../src/analyses/loglikelihood.ts';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { createProvider } from '../../src/providers/registry.ts';
import type { Provider } from '../../src/providers/types.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { regrade } from '../../src/runner/rescore.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { openPool } from '../../src/store/open.ts';
import { defineTask } from '../../src/tasks/task.ts';

const sample: Sample = { id: 'x', input: 'q', target: 't', metadata: {} };
const signal = new AbortController().signal;

// 40 sums as 4-option questions. The fake base model "knows" a question when a hash of it falls below 0.7: it then
// gives the gold option's token log-probability −0.2, otherwise it prefers the first wrong option; every other
// option gets −1.5. So acc is exactly the fraction of known questions.
const QUESTIONS: Sample[] = Array.from({ length: 40 }, (_, i) => {
  const a = 10 + i, b = 7 + ((i * 13) % 50);
  const gold = a + b;
  const options = [gold, gold + 1, gold - 3, gold + 10];
  const order = [0, 1, 2, 3].sort((x, y) => hash32(`${i}:${x}`) - hash32(`${i}:${y}`));
  return { id: `sum-${i}`, input: `What is ${a} + ${b}?`, target: String(gold), choices: order.map((k) => String(options[k])), metadata: {} };
});
const knows = (q: string) => hash32(q) / 4294967296 < 0.7;
function sumModel(prefix: string, token: string): number {
  const m = /What is (\d+) \+ (\d+)\?\nAnswer:$/.exec(prefix);
  if (!m) return -1.5;
  const q = `What is ${m[1]} + ${m[2]}?`;
  const gold = Number(m[1]) + Number(m[2]);
  const s = QUESTIONS.find((x) => x.input === q)!;
  const favoured = knows(q) ? String(gold) : s.choices!.find((c) => c !== String(gold))!;
  return token === ` ${favoured}` ? -0.2 : -1.5;
}

describe('log-likelihoods over HTTP (echo + logprobs)', () => {
  let server: FakeOpenAIServer;
  let p: Provider;
  before(async () => {
    server = await startFakeOpenAIServer({ tokenLogprob: sumModel, topToken: () => ({ token: ' the', logprob: -0.1 }), modelId: 'fake-base' });
    p = await createProvider(`openai-compatible:${server.url}#base`, { concurrency: 4 });
  });
  after(async () => {
    await p.close();
    await server.close();
  });

  it('the test server echoes prompts as vLLM does: BOS first, offsets counting every token, one generated token last', async () => {
    const r = await request(`${server.url}/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', prompt: ['Hello world', 'Hi'], echo: true, logprobs: 1, max_tokens: 1, temperature: 0 }) });
    const j = (await r.body.json()) as { choices: { index: number; text: string; logprobs: { tokens: string[]; token_logprobs: (number | null)[]; top_logprobs: (Record<string, number> | null)[]; text_offset: number[] } }[] };
    assert.deepEqual(j.choices.map((c) => c.index), [0, 1]);
    const lp = j.choices[0]!.logprobs;
    assert.deepEqual(lp.tokens, ['<s>', 'Hello', ' world', ' the']);
    assert.deepEqual(lp.text_offset, [0, 3, 8, 14]);
    assert.equal(lp.token_logprobs[0], null);
    assert.equal(lp.top_logprobs[0], null);
    assert.equal(j.choices[0]!.text, 'Hello world the');
    assert.deepEqual(fakeTokenize('Answer: 12 apples!'), ['Answer', ':', ' 12', ' apples', '!']);
  });

  it('probes once: an endpoint that echoes log-probabilities is accepted, others are refused with the reason', async () => {
    assert.deepEqual(await p.probeScoring!(signal), { ok: true, detail: `${server.url}/completions echoes prompt log-probabilities` });
    // A server that fills the field with zeros (or with numbers above 0) is refused too: never silent zeros.
    const cases: [Parameters<typeof startFakeOpenAIServer>[0], RegExp][] = [
      [{ noCompletions: true }, /HTTP 404/], [{ noPromptLogprobs: true }, /no logprobs/],
      [{ tokenLogprob: () => 0 }, /every echoed prompt token came back with log-probability 0 \(2 tokens of "Hello world"\): placeholders/],
      [{ tokenLogprob: (_p, t) => (t === ' world' ? 0.25 : -1) }, /not log-probabilities \(0\.25 > 0\)/],
    ];
    for (const [opts, why] of cases) {
      const s = await startFakeOpenAIServer(opts);
      const q = await createProvider(`openai-compatible:${s.url}#m`, { concurrency: 1 });
      const r = await q.probeScoring!(signal);
      assert.equal(r.ok, false);
      assert.match((r as { reason: string }).reason, why);
      await q.close();
      await s.close();
    }
  });

  it('a continuation\'s log-probability is the difference of the two prompts\' totals; trailing space moves to the continuation', async () => {
    const ctx = 'What is 10 + 7?\nAnswer:';
    const r = await p.loglikelihood!({ requests: [{ context: ctx, continuation: ' 17' }, { context: ctx + ' ', continuation: '17' }, { context: ctx, continuation: ' 17 apples' }], sample, epoch: 0, signal });
    const [a, b, c] = r.results;
    assert.deepEqual(a, b);
    assert.equal(a!.tokens, 1);
    const totals = await p.loglikelihoodRolling!({ requests: [ctx, ctx + ' 17 apples'], sample, epoch: 0, signal });
    assert.ok(Math.abs(totals.results[1]!.logprob - totals.results[0]!.logprob - c!.logprob) < 1e-12);
    assert.deepEqual(c!.token_logprobs.length, 2);
    assert.ok(Math.abs(c!.token_logprobs.reduce((x, y) => x + y, 0) - c!.logprob) < 1e-12);
    assert.equal(r.model_id, 'fake-base');
  });

  it('is_greedy: every continuation token is the top alternative; an empty context is conditioned on the BOS token', async () => {
    const s = await startFakeOpenAIServer({ tokenLogprob: (_p, t) => (t === ' sky' ? -0.01 : -4), topToken: () => ({ token: ' the', logprob: -0.5 }) });
    const q = await createProvider(`openai-compatible:${s.url}#m`, { concurrency: 1 });
    const r = await q.loglikelihood!({ requests: [{ context: 'Look at', continuation: ' sky' }, { context: 'Look at', continuation: ' sky sky' }, { context: 'Look at', continuation: ' ground' }, { context: '', continuation: 'sky' }], sample, epoch: 0, signal });
    assert.deepEqual(r.results.map((x) => x.is_greedy), [true, true, false, false]);
    assert.deepEqual(r.results[3]!.tokens, 1); // "sky" after <s>
    await q.close();
    await s.close();
    // A tokenizer without BOS: the first token of a context-free text cannot be scored, and the provider says so.
    const nb = await startFakeOpenAIServer({ bos: null });
    const q2 = await createProvider(`openai-compatible:${nb.url}#m`, { concurrency: 1 });
    await assert.rejects(q2.loglikelihood!({ requests: [{ context: '', continuation: 'sky' }], sample, epoch: 0, signal }), /prepends no BOS token/);
    assert.equal((await q2.loglikelihood!({ requests: [{ context: 'a', continuation: ' sky' }], sample, epoch: 0, signal })).results[0]!.tokens, 1);
    await q2.close();
    await nb.close();
  });

  it('chat_template: false sends the conversation as one plain text to /v1/completions (base models)', async () => {
    const seen: string[] = [];
    const s = await startFakeOpenAIServer({ answer: (q) => (seen.push(q), { content: 'four' }) });
    const q = await createProvider(`openai-compatible:${s.url}#m`, { concurrency: 1 });
    const messages = [{ role: 'user' as const, content: 'Q: 1+1?\nA:' }, { role: 'assistant' as const, content: 'two' }, { role: 'user' as const, content: 'Q: 2+2?\nA:' }];
    const out = await q.generate({ messages, config: { chat_template: false, max_tokens: 5 }, sample, epoch: 0, signal });
    assert.equal(out.text, 'four');
    assert.deepEqual(seen, ['Q: 1+1?\nA: two\n\nQ: 2+2?\nA:']);
    assert.deepEqual([s.stats.completions, s.stats.chat], [1, 0]);
    await q.generate({ messages, config: { chat_template: true }, sample, epoch: 0, signal });
    assert.deepEqual([s.stats.completions, s.stats.chat], [1, 1]);
    await q.close();
    await s.close();
  });

  it('a 4-option multiple-choice task scored by log-likelihood end to end: acc, acc_norm with CIs, re-scored, cached', async () => {
    const pool = await openPool('memory:');
    try {
      const task = defineTask({
        name: 'sums-mc', dataset: { name: 'sums', samples: QUESTIONS }, template: 'text:{question}\nAnswer:', solver: 'loglikelihood_choice',
        scorers: ['acc', 'acc_norm', 'greedy_match', 'loglikelihood'],
      });
      const before = server.stats.scoredPrompts;
      const r = await evaluate(task, `openai-compatible:${server.url}#base`, { pool, concurrency: 8 });
      assert.equal(r.status, 'complete');
      const run = r.cells[0]!.run_id;
      // One request per question: the context once, then context + each option.
      assert.equal(server.stats.scoredPrompts - before, 40 * 5 + 1 /* the probe */);
      const expected = QUESTIONS.filter((q) => knows(q.input!.toString())).length / 40;
      for (const s of ['acc', 'acc_norm']) {
        const st = (await runStatistics(pool, run, { scorer: s })).statistics;
        assert.equal(st.accuracy, expected, s);
        assert.ok(st.ci95_bootstrap.lo < expected && expected < st.ci95_bootstrap.hi, `${s} CI ${JSON.stringify(st.ci95_bootstrap)}`);
        assert.equal(st.samples, 40);
      }
      assert.equal((await runStatistics(pool, run, { scorer: 'greedy_match' })).statistics.accuracy, 0); // the fake's top token is " the"
      const attempts = [];
      for await (const a of pool.iterateAttempts(run, 'acc')) attempts.push(a);
      assert.equal(attempts.length, 40);
      for (const a of attempts) {
        const q = QUESTIONS.find((x) => x.id === a.sample_id)!;
        assert.equal(a.transcript, null);
        assert.equal(a.measurement!.value, a.response === q.target ? 1 : 0);
        assert.ok(q.choices!.includes(a.response!));
        assert.equal(a.model_id, 'fake-base');
      }
      // Re-scoring reads the stored log-likelihoods: the same verdicts.
      const again = await regrade(pool, run, createScorer('acc'));
      assert.deepEqual(again, { graded: 40, failed: 0 });
      assert.equal((await runStatistics(pool, run, { scorer: 'acc' })).statistics.accuracy, expected);
      // A second, labelled run is served from the response cache, with the log-likelihoods restored for the scorers.
      const scored = server.stats.scoredPrompts;
      const r2 = await evaluate(task, `openai-compatible:${server.url}#base`, { pool, concurrency: 8, newRun: 'again', cache: true });
      assert.equal(server.stats.scoredPrompts - scored, 1); // the probe of the new provider only
      const cachedRun = r2.cells[0]!.run_id;
      assert.notEqual(cachedRun, run);
      let cached = 0;
      for await (const a of pool.iterateAttempts(cachedRun, 'acc_norm')) cached += a.cached ? 1 : 0;
      assert.equal(cached, 40);
      assert.equal((await runStatistics(pool, cachedRun, { scorer: 'acc_norm' })).statistics.accuracy, expected);
    } finally {
      await pool.close();
    }
  });

  it('a task that needs log-likelihoods against a chat-only endpoint fails before any request, storing nothing', async () => {
    const chatOnly = await startFakeOpenAIServer({ noCompletions: true });
    const pool = await openPool('memory:');
    try {
      const task = defineTask({ name: 'mc', dataset: { name: 'sums', samples: QUESTIONS.slice(0, 3) }, solver: 'loglikelihood_choice', scorers: ['acc'] });
      await assert.rejects(evaluate(task, `openai-compatible:${chatOnly.url}#m`, { pool }), (e: Error) => e instanceof InputError && /does not return prompt log-probabilities: .*HTTP 404/.test(e.message));
      assert.deepEqual([chatOnly.stats.chat, chatOnly.stats.completions], [0, 1]);
      assert.deepEqual(await pool.listRuns(), []);
      // The reference models and replays cannot score at all: refused without a request.
      await assert.rejects(evaluate(task, 'reference:oracle', { pool }), /reference:oracle cannot/);
    } finally {
      await pool.close();
      await chatOnly.close();
    }
  });

  it('rolling log-likelihoods give the corpus bits per byte; target log-likelihoods the greedy match', async () => {
    const docs: Sample[] = ['The quick brown fox jumps over the lazy dog.', 'Pack my box with five dozen liquor jugs.', 'How vexingly quick daft zebras jump!'].map((t, i) => ({ id: `d${i}`, input: t, target: '', metadata: {} }));
    const flat = await startFakeOpenAIServer({ tokenLogprob: () => -2, topToken: () => ({ token: ' the', logprob: -1 }) });
    const pool = await openPool('memory:');
    try {
      const task = defineTask({ name: 'ppl', dataset: { name: 'pangrams', samples: docs }, solver: 'loglikelihood_rolling', scorers: ['bits_per_byte', 'nll_per_token'] });
      const r = await evaluate(task, `openai-compatible:${flat.url}#m`, { pool });
      const ppl = await perplexityOfRun(pool, r.cells[0]!.run_id, { replicates: 200 });
      // Every token after BOS costs 2 nats: the corpus NLL per token is 2 exactly, bits per byte = 2·tokens / bytes / ln 2.
      const tokens = docs.reduce((a, d) => a + fakeTokenize(d.input as string).length, 0);
      const bytes = docs.reduce((a, d) => a + Buffer.byteLength(d.input as string), 0);
      assert.equal(ppl.tokens, tokens);
      assert.equal(ppl.bytes, bytes);
      assert.ok(Math.abs(ppl.nll_per_token.value - 2) < 1e-12);
      assert.ok(Math.abs(ppl.bits_per_byte.value - (2 * tokens) / bytes / Math.LN2) < 1e-12);
      assert.ok(ppl.bits_per_byte.ci95.lo <= ppl.bits_per_byte.value && ppl.bits_per_byte.value <= ppl.bits_per_byte.ci95.hi);
      assert.ok(Math.abs(ppl.token_perplexity.value - Math.exp(2)) < 1e-9);
      const tgt = defineTask({ name: 'greedy', dataset: { name: 'g', samples: [{ id: 'a', input: 'Say', target: 'the', metadata: {} }, { id: 'b', input: 'Say', target: 'dog', metadata: {} }] }, solver: 'loglikelihood_target', scorers: ['greedy_match', 'loglikelihood'] });
      const g = await evaluate(tgt, `openai-compatible:${flat.url}#m`, { pool });
      const verdicts: Record<string, number | null> = {};
      for await (const a of pool.iterateAttempts(g.cells[0]!.run_id, 'greedy_match')) verdicts[a.sample_id] = a.measurement!.value;
      assert.deepEqual(verdicts, { a: 1, b: 0 }); // " the" is the model's top token after anything; " dog" never is
    } finally {
      await pool.close();
      await flat.close();
    }
  });
});
