import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { defineTask, loadTasks, resolveTask } from '../../src/tasks/index.ts';
import { chainOfThought, generate } from '../../src/solvers/builtin.ts';
import type { Generate, TaskState } from '../../src/solvers/types.ts';

const samples = Array.from({ length: 10 }, (_, i) => ({ id: `q${i}`, input: `What is ${i} + ${i}?`, target: String(2 * i), metadata: { solution: `${i} + ${i} = ${2 * i}. The answer is ${2 * i}.` } }));

test('the task hash covers what changes outputs, version included', () => {
  const base = { name: 't', dataset: { name: 'd', samples }, scorers: ['math'] };
  const a = defineTask(base);
  assert.equal(a.hash, defineTask({ ...base }).hash, 'same definition, same hash');
  assert.equal(a.version, '1');
  const variants = [
    defineTask({ ...base, version: 2 }),
    defineTask({ ...base, epochs: 4 }),
    defineTask({ ...base, template: 'math-boxed' }),
    defineTask({ ...base, fewShot: { k: 2 } }),
    defineTask({ ...base, fewShot: { k: 2, seed: 1 } }),
    defineTask({ ...base, solver: 'chain_of_thought' }),
    defineTask({ ...base, solver: chainOfThought('Think hard.') }),
    defineTask({ ...base, config: { stop: ['\n\nQ:'] } }),
    defineTask({ ...base, scorers: ['math?percent=scaled'] }),
    defineTask({ ...base, dataset: { name: 'd', samples: samples.slice(1) } }),
  ];
  const hashes = new Set([a.hash, ...variants.map((v) => v.hash)]);
  assert.equal(hashes.size, variants.length + 1, 'every variant has its own hash');
});

test('defineTask refuses bad definitions with the field named', () => {
  assert.throws(() => defineTask({ name: 'bad name', dataset: 'gsm8k' }), (e: unknown) => e instanceof InputError && /name/.test((e as Error).message));
  assert.throws(() => defineTask({ name: 't', dataset: 'gsm8k', template: 'plain', messages: [{ role: 'user', content: '{question}' }] }), /either template or messages/);
  assert.throws(() => defineTask({ name: 't', dataset: 'gsm8k', epochs: 0 }), /epochs/);
  assert.throws(() => defineTask({ name: 't', dataset: 'gsm8k', config: { temperature: -1 } }), /config.temperature/);
  assert.throws(() => defineTask({ name: 't', dataset: 'gsm8k', metrics: ['f1' as 'accuracy'] }), /unknown metric "f1"/);
});

test('few-shot examples are drawn with the recorded seed, excluded from evaluation, and put before the question', async () => {
  const t = defineTask({ name: 'fs', dataset: { name: 'd', samples }, fewShot: { k: 3, seed: 7, output: 'metadata.solution' } });
  const r1 = await resolveTask(t);
  const r2 = await resolveTask(t);
  assert.deepEqual(r1.fewShotIds, r2.fewShotIds, 'same seed, same examples');
  assert.equal(r1.fewShotIds.length, 3);
  assert.equal(r1.dataset.samples.length, 7, 'drawn examples are not evaluated');
  for (const id of r1.fewShotIds) assert.ok(!r1.dataset.samples.some((s) => s.id === id));
  const other = await resolveTask(defineTask({ name: 'fs', dataset: { name: 'd', samples }, fewShot: { k: 3, seed: 8, output: 'metadata.solution' } }));
  assert.notDeepEqual(other.fewShotIds, r1.fewShotIds, 'another seed draws other examples');
  const msgs = r1.render(r1.dataset.samples[0]!);
  assert.equal(msgs.length, 7, '3 × (user, assistant) + the question');
  assert.deepEqual(msgs.map((m) => m.role), ['user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
  const first = samples.find((s) => s.id === r1.fewShotIds[0])!;
  assert.equal(msgs[0]!.content, first.input);
  assert.equal(msgs[1]!.content, first.metadata.solution);
  assert.equal(msgs[6]!.content, r1.dataset.samples[0]!.input);
  assert.notEqual(r1.template.hash, (await resolveTask(defineTask({ name: 'fs', dataset: { name: 'd', samples } }))).template.hash);
  await assert.rejects(resolveTask(defineTask({ name: 'fs', dataset: { name: 'd', samples }, fewShot: { k: 10 } })), /fewShot.k = 10 but the split has 10/);
});

test('message-list prompts fill question, choices and metadata placeholders', async () => {
  const t = defineTask({
    name: 'msgs',
    dataset: { name: 'd', samples: [{ id: 'a', input: 'Which?', target: 'B', choices: ['x', 'y'], metadata: { topic: 'letters' } }] },
    messages: [
      { role: 'system', content: 'You are an expert in {metadata.topic}.' },
      { role: 'user', content: '{question}\n{choices}' },
    ],
  });
  const r = await resolveTask(t);
  assert.deepEqual(r.render(r.dataset.samples[0]!), [
    { role: 'system', content: 'You are an expert in letters.' },
    { role: 'user', content: 'Which?\nA. x\nB. y' },
  ]);
  assert.equal(r.template.name, 'messages');
});

test('YAML tasks: valid files load; every error names the file, line and key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-yaml-'));
  const ok = join(dir, 'ok.yaml');
  writeFileSync(ok, 'name: arith\nversion: 3\ndataset: arithmetic?count=5\ntemplate: math-boxed\nsolver: [chain_of_thought, generate]\nscorers: [math]\nepochs: 2\nconfig:\n  temperature: 0.5\n  stop: ["\\n\\nQ:"]\n');
  const [t] = await loadTasks(ok);
  assert.equal(t!.name, 'arith');
  assert.equal(t!.version, '3');
  const r = await resolveTask(t!);
  assert.equal(r.dataset.samples.length, 5);
  assert.deepEqual(r.config.stop, ['\n\nQ:']);
  assert.deepEqual(r.solverSpec, [{ name: 'chain_of_thought', options: {} }, { name: 'generate', options: {} }]);

  const cases: [string, RegExp][] = [
    ['name: a\ndataset: gsm8k\nepochs: 0\n', /bad\.yaml:3 field "epochs"/],
    ['name: a\ndataset: gsm8k\nfewShot:\n  k: 2\n  sede: 1\n', /bad\.yaml:5 field "fewShot\.sede"/],
    ['name: a\ndataset: gsm8k\nconfig:\n  temperature: hot\n', /bad\.yaml:4 field "config\.temperature"/],
    ['name: a\n  dataset: gsm8k\n', /bad\.yaml:\d+: YAML/],
    ['name: a\n', /bad\.yaml:1 field "dataset"/],
  ];
  for (const [text, re] of cases) {
    writeFileSync(join(dir, 'bad.yaml'), text);
    await assert.rejects(loadTasks(join(dir, 'bad.yaml')), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match((e as Error).message, re);
      return true;
    });
  }
  await assert.rejects(loadTasks('no-such-task'), /unknown task "no-such-task"; known tasks: .*gsm8k/);
});

test('unknown solvers and scorers are refused with the registered names', async () => {
  await assert.rejects(resolveTask(defineTask({ name: 'x', dataset: { name: 'd', samples }, solver: 'tree_of_thought' })), /unknown solver "tree_of_thought"; registered solvers: .*chain_of_thought/);
  await assert.rejects(resolveTask(defineTask({ name: 'x', dataset: { name: 'd', samples }, scorers: ['no-such-scorer'] })), /unknown scorer "no-such-scorer"; known scorers: .*math/);
});

test('errors found when a YAML task is resolved name the file and the line of the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-yaml-resolve-'));
  const data = join(dir, 'd.jsonl');
  writeFileSync(data, Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: `s${i}`, question: `q${i}`, answer: String(i), context: `c${i}` })).join('\n') + '\n');
  const cases: [string, RegExp][] = [
    [`name: a\ndataset: jsonl:${data}\nscorers:\n  - math\n  - mathh\n`, /bad\.yaml:5 field "scorers\.1": unknown scorer "mathh"; known scorers: /],
    [`name: a\ndataset: jsonl:${data}\nsolver: [chain_of_thoughtt]\n`, /bad\.yaml:3 field "solver": unknown solver "chain_of_thoughtt"/],
    [`name: t10\ndataset: jsonl:${data}\nfewShot:\n  k: 50\n`, /bad\.yaml:4 field "fewShot\.k": fewShot\.k = 50 but the split has 6 samples$/],
    [`name: a\ndataset: jsonl:${data}\ntemplate: "Q: {nosuchfield}"\n`, /bad\.yaml:3 field "template": placeholder \{nosuchfield\} is not a field of the dataset \(fields: question, context\)$/],
    [`name: a\ndataset: jsonl:${data}\ntemplate: "Q: {question} context: {ctx}"\n`, /bad\.yaml:3 field "template": placeholder \{ctx\} is not a field of the dataset/],
    [`name: a\ndataset: jsonl:${data}\nsolver: [{ name: system_message, options: { text: hi } }, chain_of_thought]\n`, /bad\.yaml:3 field "solver": the solver chain \[system_message, chain_of_thought\] never calls the model/],
    [`name: a\ndataset: jsonl:${data}\nmessages:\n  - role: user\n    content: "{question} {nope}"\n`, /bad\.yaml:\d+ field "messages\.0": placeholder \{nope\} is not a field/],
  ];
  for (const [text, re] of cases) {
    writeFileSync(join(dir, 'bad.yaml'), text);
    const [t] = await loadTasks(join(dir, 'bad.yaml'));
    await assert.rejects(resolveTask(t!), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match((e as Error).message, re);
      return true;
    });
  }
  // a placeholder that is a field of every sample is filled (every occurrence), not sent literally
  writeFileSync(join(dir, 'ok.yaml'), `name: a\ndataset: jsonl:${data}\ntemplate: "Q: {question} context: {context} / {context}"\n`);
  const [ok] = await loadTasks(join(dir, 'ok.yaml'));
  const r = await resolveTask(ok!);
  assert.deepEqual(r.render(r.dataset.samples[0]!), [{ role: 'user', content: 'Q: q0 context: c0 / c0' }]);
  assert.equal(r.template.name, 'custom');
});

test('a solver chain that can never produce a model output is refused; a custom loop function is allowed', async () => {
  await assert.rejects(resolveTask(defineTask({ name: 'x', dataset: { name: 'd', samples }, solver: [chainOfThought()] })), /field "x\.solver": the solver chain \[.*\] never calls the model .*generate/);
  await assert.rejects(resolveTask(defineTask({ name: 'x', dataset: { name: 'd', samples }, solver: [{ name: 'system_message', options: { text: 'hi' } }] })), /never calls the model/);
  const ok = await resolveTask(defineTask({ name: 'x', dataset: { name: 'd', samples }, solver: [chainOfThought(), generate()] }));
  assert.equal(ok.solverSpec.length, 2);
  const loop = async (state: TaskState, gen: Generate) => gen(state);
  const custom = await resolveTask(defineTask({ name: 'x', dataset: { name: 'd', samples }, solver: [chainOfThought(), loop] }));
  assert.equal(custom.solverSpec.length, 2);
});
