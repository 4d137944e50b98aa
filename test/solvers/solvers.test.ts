import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import type { Sample } from '../../src/core/schemas.ts';
import { chain, chainOfThought, fewShot, generate, multiTurn, systemMessage } from '../../src/solvers/builtin.ts';
import { createSolver, registerSolver, solverNames } from '../../src/solvers/registry.ts';
import type { Generate, TaskState } from '../../src/solvers/types.ts';

const sample: Sample = { id: 's1', input: 'Q1', target: 'x', metadata: { turns: ['Q1', 'Q2', 'Q3'], persona: 'a pirate' } };
const state = (): TaskState => ({ sample, epoch: 0, messages: [{ role: 'user', content: 'Q1' }], output: null, metadata: {}, store: new Map(), completed: false, calls: 0 });
/** A generate that replies "reply <n> to <last user text>". */
const echo: Generate = Object.assign(
  async (st: TaskState) => {
    const last = [...st.messages].reverse().find((m) => m.role === 'user')!;
    const text = `reply ${st.calls + 1} to ${last.content}`;
    st.messages.push({ role: 'assistant', content: text });
    st.output = { text, finish_reason: 'stop', model_id: null, prompt_tokens: null, completion_tokens: null };
    st.calls++;
    return st;
  },
  { loglikelihood: () => Promise.reject(new Error('no scoring here')), loglikelihoodRolling: () => Promise.reject(new Error('no scoring here')) },
);

test('multiTurn keeps every turn and answers the last', async () => {
  const s = await multiTurn()(state(), echo);
  assert.equal(s.calls, 3);
  assert.deepEqual(s.messages.map((m) => `${m.role}:${m.content}`), [
    'user:Q1', 'assistant:reply 1 to Q1', 'user:Q2', 'assistant:reply 2 to Q2', 'user:Q3', 'assistant:reply 3 to Q3',
  ]);
  assert.equal(s.output!.text, 'reply 3 to Q3');
  await assert.rejects(multiTurn('missing')(state(), echo), /sample "s1" has no list of strings in metadata.missing/);
});

test('a chain composes system message, few-shot, chain of thought and generate in order', async () => {
  const s = await chain(systemMessage('You are {persona}.'), fewShot([{ input: 'E1', output: 'A1' }]), chainOfThought(), generate())(state(), echo);
  assert.deepEqual(s.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant']);
  assert.equal(s.messages[0]!.content, 'You are a pirate.');
  assert.equal(s.messages[3]!.content, "Q1\n\nLet's think step by step.");
  assert.equal(s.calls, 1);
});

test('a solver that sets completed ends the chain', async () => {
  const stopper = async (st: TaskState) => ((st.completed = true), st);
  const s = await chain(stopper, generate())(state(), echo);
  assert.equal(s.calls, 0);
});

test('registered solvers are built from stored specs; bad specs name what is wrong', async () => {
  registerSolver('test_twice', z.strictObject({ times: z.number().int().min(1) }), (o) => async (st, gen) => {
    for (let i = 0; i < (o.times as number); i++) st = await gen(st);
    return st;
  });
  assert.ok(solverNames().includes('test_twice'));
  const s = createSolver({ name: 'test_twice', options: { times: 2 } });
  assert.deepEqual(s.spec, { name: 'test_twice', options: { times: 2 } });
  assert.equal((await s(state(), echo)).calls, 2);
  assert.throws(() => createSolver({ name: 'test_twice', options: { times: 0 } }), /invalid options for solver "test_twice": times/);
  assert.throws(() => createSolver({ name: 'nope', options: {} }), /unknown solver "nope"; registered solvers: .*generate/);
  assert.throws(() => registerSolver('test_twice', z.strictObject({}), () => generate()), /already registered/);
});
