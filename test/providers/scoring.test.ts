/**
 * lm-evaluation-harness's conventions as Assay implements them (src/providers/scoring.ts, src/core/raw-prompt.ts):
 * the trailing-whitespace split of a (context, continuation) pair, rolling windows that predict every token once,
 * word and byte counts, the up-front capability check, and the raw few-shot layout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InputError, RunError } from '../../src/core/errors.ts';
import { rawPrompt } from '../../src/core/raw-prompt.ts';
import { countWords, ensureCapabilities, rollingWindows, splitContinuation, utf8Bytes } from '../../src/providers/scoring.ts';
import { ProviderError, type Provider } from '../../src/providers/types.ts';

test('splitContinuation moves the context\'s trailing whitespace to the continuation (lm-eval _encode_pair)', () => {
  assert.deepEqual(splitContinuation('Question: 2+2?\nAnswer: ', '4'), { context: 'Question: 2+2?\nAnswer:', continuation: ' 4' });
  assert.deepEqual(splitContinuation('Answer:', ' 4'), { context: 'Answer:', continuation: ' 4' });
  assert.deepEqual(splitContinuation('a \n\t', 'b'), { context: 'a', continuation: ' \n\tb' });
  assert.deepEqual(splitContinuation('   ', 'x'), { context: '', continuation: '   x' });
  fc.assert(fc.property(fc.string(), fc.string(), (c, x) => {
    const s = splitContinuation(c, x);
    return s.context + s.continuation === c + x && !/\s$/u.test(s.context);
  }));
});

test('rollingWindows: lm-eval\'s disjoint windows (context length 1) predict every token exactly once, in order', () => {
  const toks = Array.from({ length: 10 }, (_, i) => 100 + i);
  // Fits in one window: BOS + the first 9 tokens predict all 10.
  assert.deepEqual(rollingWindows(toks, 1, 16), [{ input: [1, ...toks.slice(0, 9)], targets: toks }]);
  // maxLength 4: first window [BOS, t0, t1, t2] → t0..t3; then each window feeds the maxLength tokens before its last
  // target (lm-eval: input = tokens[end − L − 1 : end − 1]) and scores its last n positions.
  const w = rollingWindows(toks, 1, 4);
  assert.deepEqual(w, [
    { input: [1, 100, 101, 102], targets: [100, 101, 102, 103] },
    { input: [103, 104, 105, 106], targets: [104, 105, 106, 107] },
    { input: [105, 106, 107, 108], targets: [108, 109] },
  ]);
  assert.deepEqual(rollingWindows([], 1, 4), []);
  assert.throws(() => rollingWindows(toks, 1, 1), RangeError);
  fc.assert(fc.property(fc.array(fc.integer({ min: 2, max: 99 }), { maxLength: 60 }), fc.integer({ min: 2, max: 12 }), (t, L) => {
    const ws = rollingWindows(t, 0, L);
    const predicted = ws.flatMap((x) => x.targets);
    if (JSON.stringify(predicted) !== JSON.stringify(t)) return false;
    // Each window's input fits, and its last targets.length positions predict the targets (input[i+1] or the next target).
    return ws.every((x) => x.input.length <= L && x.targets.length <= x.input.length && x.targets.every((tok, i) => {
      const pos = x.input.length - x.targets.length + i;
      return pos + 1 < x.input.length ? x.input[pos + 1] === tok : i === x.targets.length - 1;
    }));
  }));
});

test('countWords and utf8Bytes count as lm-eval\'s count_words (re.split(r"\\s+")) and count_bytes (UTF-8)', () => {
  // Values checked against Python: len(re.split(r"\s+", s)).
  assert.equal(countWords(''), 1);
  assert.equal(countWords(' a b '), 4);
  assert.equal(countWords('a\tb\n c'), 3);
  assert.equal(utf8Bytes('100 °C'), 7);
  assert.equal(utf8Bytes('naïve 😀'), 11);
});

test('rawPrompt: few-shot turns become "question answer" blocks separated by a blank line (lm-eval layout)', () => {
  const m = [
    { role: 'system' as const, content: 'The following are questions.' },
    { role: 'user' as const, content: 'Q: 1+1?\nA:' },
    { role: 'assistant' as const, content: '2' },
    { role: 'user' as const, content: 'Q: 2+2?\nA:' },
  ];
  assert.equal(rawPrompt(m), 'The following are questions.\n\nQ: 1+1?\nA: 2\n\nQ: 2+2?\nA:');
  assert.equal(rawPrompt(m, { targetDelimiter: '', fewshotDelimiter: '\n###\n' }), 'The following are questions.\n###\nQ: 1+1?\nA:2\n###\nQ: 2+2?\nA:');
  assert.equal(rawPrompt([{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }]), 'a\n\nb');
  assert.equal(rawPrompt([]), '');
});

function fakeProvider(over: Partial<Provider> & { capabilities: Provider['capabilities'] }): Provider {
  return { address: 'fake:x', kind: 'fake', baseUrl: null, model: null, generate: async () => { throw new Error('no'); }, close: async () => {}, ...over } as Provider;
}
const settings = { temperature: 'sent', top_p: 'sent', top_k: 'sent', max_tokens: 'sent', seed: 'sent', stop: 'sent', system_prompt: 'sent', chat_template: 'sent' } as const;
const scoring = { loglikelihood: async () => ({ results: [], model_id: null, prompt_tokens: null }), loglikelihoodRolling: async () => ({ results: [], model_id: null, prompt_tokens: null }) };

test('ensureCapabilities: declared, never guessed; probed once per provider; a dead server is a RunError, a refusal an InputError', async () => {
  await ensureCapabilities(fakeProvider({ capabilities: { remote: false, settings } }), []);
  await assert.rejects(ensureCapabilities(fakeProvider({ capabilities: { remote: false, settings, loglikelihoodReason: 'it only chats' } }), ['loglikelihood']), (e: Error) => e instanceof InputError && /fake:x cannot: it only chats/.test(e.message));
  await ensureCapabilities(fakeProvider({ capabilities: { remote: false, settings, loglikelihood: 'native' }, ...scoring }), ['loglikelihood']);
  let probes = 0;
  const ok = fakeProvider({ capabilities: { remote: true, settings, loglikelihood: 'probe' }, ...scoring, probeScoring: async () => (probes++, { ok: true }) });
  await ensureCapabilities(ok, ['loglikelihood']);
  await ensureCapabilities(ok, ['loglikelihood']);
  assert.equal(probes, 1);
  const no = fakeProvider({ capabilities: { remote: true, settings, loglikelihood: 'probe' }, ...scoring, probeScoring: async () => ({ ok: false, reason: 'no echo' }) });
  await assert.rejects(ensureCapabilities(no, ['loglikelihood']), (e: Error) => e instanceof InputError && /does not return prompt log-probabilities: no echo/.test(e.message));
  const dead = fakeProvider({ capabilities: { remote: true, settings, loglikelihood: 'probe' }, ...scoring, probeScoring: async () => { throw new ProviderError('connection failed: ECONNREFUSED', { retryable: true }); } });
  await assert.rejects(ensureCapabilities(dead, ['loglikelihood']), (e: Error) => e instanceof RunError && /ECONNREFUSED/.test(e.message));
});
