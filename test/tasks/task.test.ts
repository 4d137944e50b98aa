import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { defineTask, loadTasks, resolveTask } from '../../src/tasks/index.ts';
import { chainOfThought } from '../../src/solvers/builtin.ts';

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
  writeFileSync(ok, 'name: arith\nversion: 3\ndataset: arithmetic?count=5\ntemplate: math-boxed\nsolver: [chain_of_thought]\nscorers: [math]\nepochs: 2\nconfig:\n  temperature: 0.5\n  stop: ["\\n\\nQ:"]\n');
  const [t] = await loadTasks(ok);
  assert.equal(t!.name, 'arith');
  assert.equal(t!.version, '3');
  const r = await resolveTask(t!);
  assert.equal(r.dataset.samples.length, 5);
  assert.deepEqual(r.config.stop, ['\n\nQ:']);
  assert.deepEqual(r.solverSpec, [{ name: 'chain_of_thought', options: {} }]);

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
  await assert.rejects(resolveTask(defineTask({ name: 'x', dataset: { name: 'd', samples }, scorers: ['bleu'] })), /unknown scorer "bleu"; known scorers: .*math/);
});
