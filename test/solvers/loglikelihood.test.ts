/**
 * The log-likelihood solvers (src/solvers/loglikelihood.ts): what they ask the model (contexts in lm-eval's few-shot
 * layout, continuations with the target delimiter, letters for MMLU-style prompts, whole texts), what they store, and
 * that their need for log-likelihoods survives the registry, chains and task definitions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { messageText, type Sample } from '../../src/core/schemas.ts';
import { chain, systemMessage } from '../../src/solvers/builtin.ts';
import { loglikelihoodChoice, loglikelihoodRolling, loglikelihoodTarget } from '../../src/solvers/loglikelihood.ts';
import { createSolver, createSolverChain } from '../../src/solvers/registry.ts';
import { solverNeeds, type Generate, type LoglikelihoodRequest, type TaskState } from '../../src/solvers/types.ts';
import { resolveTask } from '../../src/tasks/resolve.ts';
import { defineTask } from '../../src/tasks/task.ts';
import { loadYamlTasks } from '../../src/tasks/yaml.ts';

/** A generate that records scoring requests and answers −(length of the continuation). */
function recorder() {
  const seen: { ll: LoglikelihoodRequest[][]; rolling: string[][] } = { ll: [], rolling: [] };
  const gen: Generate = Object.assign(async (st: TaskState) => st, {
    loglikelihood: async (reqs: LoglikelihoodRequest[]) => (seen.ll.push(reqs), reqs.map((r) => ({ logprob: -r.continuation.length, is_greedy: r.continuation.length < 3, tokens: r.continuation.length, token_logprobs: [] }))),
    loglikelihoodRolling: async (texts: string[]) => (seen.rolling.push(texts), texts.map((t) => ({ logprob: -2 * t.length, tokens: t.length, windows: 1 }))),
  });
  return { gen, seen };
}
const state = (sample: Sample, messages: TaskState['messages']): TaskState => ({ sample, epoch: 0, messages, output: null, metadata: {}, store: new Map(), completed: false, calls: 0 });

test('loglikelihood_choice: one request per option after the prompt as plain text; the prediction is the output', async () => {
  const s: Sample = { id: 'q', input: 'Sky?', target: 'blue', choices: ['green', 'blue', 'a'], metadata: {} };
  const { gen, seen } = recorder();
  const out = await loglikelihoodChoice()(state(s, [{ role: 'user', content: 'Grass?\nA:' }, { role: 'assistant', content: 'green' }, { role: 'user', content: 'Sky?\nA:' }]), gen);
  assert.deepEqual(seen.ll[0], [
    { context: 'Grass?\nA: green\n\nSky?\nA:', continuation: ' green' },
    { context: 'Grass?\nA: green\n\nSky?\nA:', continuation: ' blue' },
    { context: 'Grass?\nA: green\n\nSky?\nA:', continuation: ' a' },
  ]);
  assert.deepEqual(out.metadata.loglikelihood, { kind: 'choice', target_delimiter: ' ', continuation: 'text', logprobs: [-6, -5, -2], is_greedy: [false, false, true], tokens: [6, 5, 2], chars: [5, 4, 1], bytes: [5, 4, 1], pred: 2 });
  assert.deepEqual([out.output!.text, out.output!.finish_reason, out.calls], ['a', 'stop', 0]);
  // MMLU style: the options are listed in the prompt, the continuations are letters.
  const { gen: g2, seen: s2 } = recorder();
  await loglikelihoodChoice({ continuation: 'letter', targetDelimiter: '' })(state(s, [{ role: 'user', content: 'Sky?\nA. green\nB. blue\nC. a\nAnswer: ' }]), g2);
  assert.deepEqual(s2.ll[0]!.map((r) => r.continuation), ['A', 'B', 'C']);
  await assert.rejects(loglikelihoodChoice()(state({ ...s, choices: undefined }, [{ role: 'user', content: 'x' }]), gen), /fewer than two choices/);
});

test('loglikelihood_target and loglikelihood_rolling: the target after the prompt; the whole text without one', async () => {
  const s: Sample = { id: 'q', input: 'The quick brown fox', target: 'jumps', metadata: {} };
  const { gen, seen } = recorder();
  const t = await loglikelihoodTarget()(state(s, [{ role: 'system', content: 'Continue.' }, { role: 'user', content: 'The quick brown fox' }]), gen);
  assert.deepEqual(seen.ll[0], [{ context: 'Continue.\n\nThe quick brown fox', continuation: ' jumps' }]);
  assert.deepEqual(t.metadata.loglikelihood, { kind: 'target', target_delimiter: ' ', logprob: -6, is_greedy: false, tokens: 6, bytes: 5 });
  const r = await loglikelihoodRolling()(state(s, [{ role: 'user', content: 'ignored prompt' }]), gen);
  assert.deepEqual(seen.rolling[0], ['The quick brown fox']);
  assert.deepEqual(r.metadata.loglikelihood, { kind: 'rolling', field: 'input', logprob: -38, tokens: 19, windows: 1, bytes: 19, words: 4 });
  await loglikelihoodRolling({ field: 'target' })(state(s, []), gen);
  assert.deepEqual(seen.rolling[1], ['jumps']);
  await assert.rejects(loglikelihoodRolling({ field: 'target' })(state({ ...s, target: '' }, []), gen), /empty target/);
});

test('the need for log-likelihoods survives the registry, chains and tasks (TypeScript and YAML)', async () => {
  assert.deepEqual(solverNeeds(createSolver({ name: 'loglikelihood_choice', options: { continuation: 'letter' } })), ['loglikelihood']);
  assert.deepEqual(solverNeeds(createSolverChain([{ name: 'system_message', options: { text: 'x' } }, { name: 'loglikelihood_rolling', options: {} }])), ['loglikelihood']);
  assert.deepEqual(solverNeeds(chain(systemMessage('x'), loglikelihoodTarget())), ['loglikelihood']);
  assert.deepEqual(solverNeeds(createSolverChain([{ name: 'generate', options: {} }])), []);
  assert.throws(() => createSolver({ name: 'loglikelihood_choice', options: { continuation: 'digit' } }), /continuation/);
  const samples: Sample[] = [{ id: 'a', input: '1+1?', target: '2', choices: ['2', '3'], metadata: {} }, { id: 'b', input: '2+2?', target: '4', choices: ['4', '5'], metadata: {} }, { id: 'c', input: '3+3?', target: '6', choices: ['6', '7'], metadata: {} }];
  const resolved = await resolveTask(defineTask({ name: 'mc', dataset: { name: 'm', samples }, template: 'text:Q: {question}\nA:', fewShot: { k: 1, seed: 0, format: 'template' }, solver: 'loglikelihood_choice', scorers: ['acc'] }));
  assert.deepEqual(solverNeeds(resolved.solver), ['loglikelihood']);
  // With format: template, the few-shot example is written like the question: "Q: …\nA: <target>", then the question.
  const { gen, seen } = recorder();
  const left = resolved.dataset.samples[0]!;
  await resolved.solver(state(left, resolved.render(left)), gen);
  const ex = samples.find((s) => s.id === resolved.fewShotIds[0])!;
  assert.equal(seen.ll[0]![0]!.context, `Q: ${ex.input}\nA: ${ex.target}\n\nQ: ${left.input}\nA:`);
  // ARC-style golds (the target is the answer key's letter): lm-eval writes an example's answer as the gold option
  // itself, doc_to_choice[doc_to_target], so "A: 2", never "A: A"; with letter continuations (MMLU) it is the gold's
  // letter, here for golds given as the option's text ("A: A", never "A: 2").
  const arc = samples.map((s) => ({ ...s, target: 'A' }));
  for (const [continuation, data, answer] of [['text', arc, (ex: Sample) => ex.choices![0]!], ['letter', samples, () => 'A']] as const) {
    const withWhy = data.map((s) => ({ ...s, metadata: { why: `because ${s.id}` } }));
    const r = await resolveTask(defineTask({ name: `arc-${continuation}`, dataset: { name: 'm', samples: data }, template: 'text:Q: {question}\nA:', fewShot: { k: 2, seed: 1, format: 'template' }, solver: { name: 'loglikelihood_choice', options: { continuation } }, scorers: ['acc'] }));
    const { gen: g3, seen: s3 } = recorder();
    const q = r.dataset.samples[0]!;
    await r.solver(state(q, r.render(q)), g3);
    const exs = r.fewShotIds.map((id) => data.find((s) => s.id === id)!);
    assert.equal(s3.ll[0]![0]!.context, `${exs.map((ex) => `Q: ${ex.input}\nA: ${answer(ex)}`).join('\n\n')}\n\nQ: ${q.input}\nA:`);
    // So does a chain that holds the solver; an answer from metadata (fewShot.output) is kept as it is.
    const chained = await resolveTask(defineTask({ name: 'arc-chain', dataset: { name: 'm', samples: data }, template: 'text:Q: {question}\nA:', fewShot: { k: 1, seed: 1, format: 'template' }, solver: [{ name: 'system_message', options: { text: 'Answer.' } }, { name: 'loglikelihood_choice', options: { continuation } }], scorers: ['acc'] }));
    assert.equal(messageText(chained.render(q).find((m) => m.role === 'assistant')!), answer(data.find((s) => s.id === chained.fewShotIds[0])!));
    const fromMeta = await resolveTask(defineTask({ name: 'arc-meta', dataset: { name: 'm', samples: withWhy }, fewShot: { k: 1, seed: 1, output: 'metadata.why' }, solver: { name: 'loglikelihood_choice', options: { continuation } }, scorers: ['acc'] }));
    assert.equal(messageText(fromMeta.render(q).find((m) => m.role === 'assistant')!), `because ${fromMeta.fewShotIds[0]}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'assay-llyaml-'));
  try {
    const f = join(dir, 'task.yaml');
    writeFileSync(f, 'name: hellaswag-like\ndataset: data.jsonl\ntemplate: "text:{question}"\nsolver: { name: loglikelihood_choice, options: { target_delimiter: " " } }\nscorers: [acc, acc_norm]\n');
    const [t] = loadYamlTasks(f);
    assert.deepEqual(t!.spec.solver, [{ name: 'loglikelihood_choice', options: { target_delimiter: ' ' } }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
