/** The test server (testkit/fake-openai-server.ts): answers in the OpenAI chat format, accuracy and determinism, injected faults. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { type FakeOpenAIServer, hash32, startFakeOpenAIServer, wrongAnswer } from '../../testkit/fake-openai-server.ts';

const Q1 = 'Janet has 3 apples and buys 4 more. How many apples does she have?';
const Q2 = 'A train travels 60 km in 1 hour. How far does it go in 3 hours?';
const answers = new Map([
  [Q1, '7'],
  [Q2, '180'],
]);

type Json = Record<string, any>;

function chatBody(content: string, extra: Json = {}): string {
  return JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content }], temperature: 0, ...extra });
}

async function chat(
  server: FakeOpenAIServer,
  content: string,
  extra: Json = {},
  dispatcher?: Agent,
): Promise<{ status: number; headers: Record<string, any>; text: string }> {
  const r = await request(`${server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: chatBody(content, extra),
    ...(dispatcher ? { dispatcher } : {}),
  });
  return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
}

describe('fake OpenAI server: answers', () => {
  let server: FakeOpenAIServer;
  before(async () => {
    server = await startFakeOpenAIServer({ answers, modelId: 'fake-7b' });
  });
  after(() => server.close());

  it('answers a known question in the OpenAI chat format', async () => {
    const r = await chat(server, Q1);
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /application\/json/);
    const j = JSON.parse(r.text);
    assert.equal(j.object, 'chat.completion');
    assert.equal(j.model, 'fake-7b');
    assert.equal(typeof j.id, 'string');
    assert.equal(typeof j.created, 'number');
    assert.equal(j.choices.length, 1);
    assert.equal(j.choices[0].index, 0);
    assert.equal(j.choices[0].message.role, 'assistant');
    assert.equal(j.choices[0].message.content, 'Let me think step by step. ... The answer is 7.');
    assert.equal(j.choices[0].finish_reason, 'stop');
    assert.equal(j.usage.completion_tokens, 11);
    assert.equal(j.usage.total_tokens, j.usage.prompt_tokens + j.usage.completion_tokens);
  });

  it('finds a known question wrapped in a template', async () => {
    const r = await chat(server, `Solve the problem below.\n\n${Q2}\n\nEnd with "The answer is N".`);
    assert.match(JSON.parse(r.text).choices[0].message.content, /The answer is 180\.$/);
  });

  it('reports the model id from /v1/models', async () => {
    const j = (await (await request(`${server.url}/models`)).body.json()) as Json;
    assert.equal(j.object, 'list');
    assert.equal(j.data[0].id, 'fake-7b');
    assert.equal(j.data[0].object, 'model');
  });

  it('truncates to max_tokens words with finish_reason length', async () => {
    const j = JSON.parse((await chat(server, Q1, { max_tokens: 4 })).text);
    assert.equal(j.choices[0].message.content, 'Let me think step');
    assert.equal(j.choices[0].finish_reason, 'length');
    assert.equal(j.usage.completion_tokens, 4);
    const full = JSON.parse((await chat(server, Q1, { max_tokens: 11 })).text);
    assert.equal(full.choices[0].finish_reason, 'stop');
    assert.ok(server.stats.truncated >= 1);
  });

  it('cuts at a stop sequence', async () => {
    const j = JSON.parse((await chat(server, Q1, { stop: ['...'] })).text);
    assert.equal(j.choices[0].message.content, 'Let me think step by step. ');
    assert.equal(j.choices[0].finish_reason, 'stop');
  });

  it('streams SSE chunks that concatenate to the answer, then [DONE]', async () => {
    const r = await chat(server, Q1, { stream: true, stream_options: { include_usage: true } });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /text\/event-stream/);
    const events = r.text
      .split('\n\n')
      .filter((e) => e !== '')
      .map((e) => {
        assert.ok(e.startsWith('data: '), e);
        return e.slice(6);
      });
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Json);
    let text = '';
    let finish: string | null = null;
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      const ch = c.choices[0];
      if (ch?.delta?.content) text += ch.delta.content;
      if (ch?.finish_reason) finish = ch.finish_reason;
    }
    assert.equal(text, 'Let me think step by step. ... The answer is 7.');
    assert.equal(finish, 'stop');
    assert.equal(chunks.at(-1)?.usage.completion_tokens, 11);
  });

  it('streams a truncated answer with finish_reason length', async () => {
    const r = await chat(server, Q1, { stream: true, max_tokens: 2 });
    const chunks = r.text
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)) as Json);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Let me');
    assert.equal(chunks.at(-1)?.choices[0].finish_reason, 'length');
  });

  it('answers 400 to a bad body and 404 to an unknown route', async () => {
    const r = await request(`${server.url}/chat/completions`, { method: 'POST', body: '{nope' });
    assert.equal(r.statusCode, 400);
    assert.ok(((await r.body.json()) as Json).error.message);
    const r2 = await request(`${server.url}/embeddings`, { method: 'POST', body: '{}' });
    assert.equal(r2.statusCode, 404);
    await r2.body.text();
  });

  it('says it does not know an unknown question', async () => {
    const before = server.stats.unknownQuestion;
    const j = JSON.parse((await chat(server, 'What is the airspeed of an unladen swallow?')).text);
    assert.match(j.choices[0].message.content, /I do not know/);
    assert.equal(server.stats.unknownQuestion, before + 1);
  });
});

describe('fake OpenAI server: accuracy and determinism', () => {
  it('identical requests get identical responses; accuracy is close to the setting', async () => {
    const many = new Map<string, string>();
    for (let i = 0; i < 400; i++) many.set(`Question ${i}: what is ${i}+1?`, String(i + 1));
    const server = await startFakeOpenAIServer({ answers: many, accuracy: 0.7 });
    try {
      let right = 0;
      for (const [q, gold] of many) {
        const a = await chat(server, q, { seed: 3, temperature: 0.6 });
        const b = await chat(server, q, { seed: 3, temperature: 0.6 });
        assert.equal(a.text, b.text, 'same request, same bytes');
        const content = JSON.parse(a.text).choices[0].message.content as string;
        const got = /The answer is (-?[\d.]+)\.$/.exec(content)?.[1];
        assert.ok(got !== undefined, content);
        if (got === gold) right++;
      }
      const acc = right / many.size;
      assert.ok(acc > 0.6 && acc < 0.8, `accuracy ${acc}`);

      // Another seed changes some answers (the draw depends on the request seed).
      let changed = 0;
      for (const q of [...many.keys()].slice(0, 100)) {
        const a = await chat(server, q, { seed: 3, temperature: 0.6 });
        const b = await chat(server, q, { seed: 4, temperature: 0.6 });
        if (JSON.parse(a.text).choices[0].message.content !== JSON.parse(b.text).choices[0].message.content) changed++;
      }
      assert.ok(changed > 10, `changed ${changed}`);
    } finally {
      await server.close();
    }

    // A restarted server gives the same answers.
    const again = await startFakeOpenAIServer({ answers: many, accuracy: 0.7 });
    const q = [...many.keys()][5] as string;
    const first = await startFakeOpenAIServer({ answers: many, accuracy: 0.7 });
    try {
      const x = JSON.parse((await chat(again, q, { seed: 9 })).text).choices[0].message.content;
      const y = JSON.parse((await chat(first, q, { seed: 9 })).text).choices[0].message.content;
      assert.equal(x, y);
    } finally {
      await again.close();
      await first.close();
    }
  });

  it('wrong answers differ from gold; hash32 is stable', () => {
    for (let h = 0; h < 1000; h++) {
      assert.notEqual(wrongAnswer('42', hash32(String(h))), '42');
      assert.notEqual(wrongAnswer('abc', hash32(String(h))), 'abc');
    }
    assert.equal(hash32('assay'), hash32('assay'));
    assert.notEqual(hash32('assay'), hash32('assay', 1));
  });

  it('uses the answer callback and the gold callback', async () => {
    const server = await startFakeOpenAIServer({
      answer: (q, req) => ({ content: `echo ${q} t=${req.temperature}`, finish_reason: 'stop' }),
    });
    const server2 = await startFakeOpenAIServer({ gold: (q) => /(\d+)\+(\d+)/.exec(q)?.slice(1).reduce((a, b) => String(Number(a) + Number(b))) });
    try {
      assert.equal(JSON.parse((await chat(server, 'hi')).text).choices[0].message.content, 'echo hi t=0');
      assert.match(JSON.parse((await chat(server2, 'what is 2+40?')).text).choices[0].message.content, /The answer is 42\.$/);
    } finally {
      await server.close();
      await server2.close();
    }
  });
});

describe('fake OpenAI server: faults', () => {
  let server: FakeOpenAIServer;
  before(async () => {
    server = await startFakeOpenAIServer({ answers });
  });
  after(() => server.close());

  it('429 carries Retry-After (seconds) and retry-after-ms', async () => {
    server.setFaults({ rateLimit: { firstN: 1 }, retryAfterMs: 25 });
    const r = await chat(server, Q1);
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(r.headers['retry-after-ms'], '25');
    assert.equal(JSON.parse(r.text).error.type, 'rate_limit_exceeded');
    assert.equal((await chat(server, Q1)).status, 200);
    assert.equal(server.stats.byOutcome.rateLimit, 1);
  });

  it('500 with a JSON error body', async () => {
    server.setFaults({ serverError: { every: 2 } });
    assert.equal((await chat(server, Q1)).status, 200);
    const r = await chat(server, Q1);
    assert.equal(r.status, 500);
    assert.ok(JSON.parse(r.text).error.message);
  });

  it('malformed JSON with status 200', async () => {
    server.setFaults({ malformedJson: { at: [1] } });
    const r = await chat(server, Q1);
    assert.equal(r.status, 200);
    assert.throws(() => JSON.parse(r.text));
  });

  it('valid JSON without choices', async () => {
    server.setFaults({ badSchema: 1 });
    const r = await chat(server, Q1);
    assert.equal(r.status, 200);
    const j = JSON.parse(r.text);
    assert.equal(j.choices, undefined);
    assert.equal(j.object, 'chat.completion');
  });

  it('dropped connection mid-response makes the client fail', async () => {
    server.setFaults({ dropConnection: 1 });
    await assert.rejects(chat(server, Q1));
    await assert.rejects(chat(server, Q1, { stream: true }));
    assert.equal(server.stats.byOutcome.dropConnection, 2);
    server.setFaults(undefined);
    assert.equal((await chat(server, Q1)).status, 200);
  });

  it('timeout never answers; the client gives up; close() frees the socket', async () => {
    const s = await startFakeOpenAIServer({ answers, faults: { timeout: 1 } });
    const agent = new Agent({ headersTimeout: 150, bodyTimeout: 150 });
    const t0 = Date.now();
    await assert.rejects(chat(s, Q1, {}, agent), (e: any) => /Timeout/i.test(String(e?.code ?? e?.name)));
    assert.ok(Date.now() - t0 >= 140);
    assert.equal(s.stats.byOutcome.timeout, 1);
    // A hung request whose client never gives up is released by close().
    const hung = chat(s, Q2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.stats.inFlight >= 1, true);
    const closing = s.close();
    await assert.rejects(hung);
    await closing;
    await agent.close();
  });

  it('rate faults are reproducible and independent of order; retries get a fresh draw', async () => {
    const qs = Array.from({ length: 200 }, (_, i) => `q${i}`);
    const verdicts = async (order: string[]): Promise<Map<string, number[]>> => {
      const s = await startFakeOpenAIServer({ faults: { serverError: { rate: 0.3, seed: 11 } } });
      const out = new Map<string, number[]>();
      try {
        for (const q of order) {
          const codes: number[] = [];
          for (let k = 0; k < 3; k++) codes.push((await chat(s, q)).status);
          out.set(q, codes);
        }
      } finally {
        await s.close();
      }
      return out;
    };
    const a = await verdicts(qs);
    const b = await verdicts([...qs].reverse());
    for (const q of qs) assert.deepEqual(a.get(q), b.get(q));
    const firsts = [...a.values()].map((c) => c[0]);
    const failRate = firsts.filter((c) => c === 500).length / firsts.length;
    assert.ok(failRate > 0.2 && failRate < 0.4, `fail rate ${failRate}`);
    // Not all attempts of a failing request fail (a retry is a new draw).
    assert.ok([...a.values()].some((c) => c[0] === 500 && c.includes(200)));
  });

  it('failFirst: the first N requests per question fail, then all succeed', async () => {
    server.setFaults({ failFirst: { n: 2, kind: 'rateLimit' }, retryAfterSeconds: 0 });
    for (const q of [Q1, Q2]) {
      assert.equal((await chat(server, q)).status, 429);
      assert.equal((await chat(server, q)).status, 429);
      assert.equal((await chat(server, q)).status, 200);
      assert.equal((await chat(server, q)).status, 200);
    }
    server.setFaults(undefined);
  });

  it('records the concurrency high-water mark and applies latency', async () => {
    const s = await startFakeOpenAIServer({ answers, latencyMs: 30 });
    const agent = new Agent({ connections: 16 });
    try {
      const t0 = Date.now();
      const rs = await Promise.all(Array.from({ length: 16 }, () => chat(s, Q1, {}, agent)));
      assert.ok(rs.every((r) => r.status === 200));
      assert.ok(Date.now() - t0 >= 25);
      assert.equal(s.stats.maxConcurrency, 16);
      assert.equal(s.stats.inFlight, 0);
      assert.equal(s.stats.byOutcome.ok, 16);
    } finally {
      await agent.close();
      await s.close();
    }
  });
});
