/**
 * Checks against known numbers: Assay's acc/acc_norm, computed from the per-option log-likelihoods lm-eval recorded
 * with `--log_samples`, reproduce lm-eval's own per-document and reported accuracies exactly.
 *
 * No real lm-eval output is shipped in ../shared (checked: shared/data holds none), so the files below were written
 * by hand in lm-evaluation-harness 0.4.x's exact format (`EvaluationTracker.save_results_samples`: `arguments` as
 * `gen_args_i.arg_0/arg_1`, every leaf of `resps`/`filtered_resps` a string as its `sanitize_list` writes them,
 * `target` as `str()` of the gold index, the sha256 hashes), for eight ARC-Easy-style questions whose log-likelihoods
 * were chosen to exercise every rule: acc and acc_norm disagreeing both ways, a tie (numpy's argmax takes the first
 * index), a multi-byte option, a 17-digit float. The per-line `acc`/`acc_norm` fields were computed with
 * numpy.argmax exactly as lm-eval's `ConfigurableTask.process_results` does (lls / len(choice)), and the results file
 * holds their means and lm-eval's `mean_stderr` (sample std / √n), as lm-eval reports them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { importLmEvalLoglikelihoods, reproduceLmEvalAccuracy } from '../../src/importers/lm-eval-loglikelihood.ts';
import { openPool } from '../../src/store/open.ts';
import type { PoolMeasurement } from '../../src/store/types.ts';

const SAMPLES = String.raw`{"doc_id": 0, "doc": {"id": "Mercury_7029645", "question": "Which gas do plants absorb from the air for photosynthesis?", "choices": {"text": ["oxygen", "carbon dioxide", "nitrogen", "helium"], "label": ["A", "B", "C", "D"]}, "answerKey": "B"}, "target": "1", "arguments": {"gen_args_0": {"arg_0": "Question: Which gas do plants absorb from the air for photosynthesis?\nAnswer:", "arg_1": " oxygen"}, "gen_args_1": {"arg_0": "Question: Which gas do plants absorb from the air for photosynthesis?\nAnswer:", "arg_1": " carbon dioxide"}, "gen_args_2": {"arg_0": "Question: Which gas do plants absorb from the air for photosynthesis?\nAnswer:", "arg_1": " nitrogen"}, "gen_args_3": {"arg_0": "Question: Which gas do plants absorb from the air for photosynthesis?\nAnswer:", "arg_1": " helium"}}, "resps": [[["-9.5", "False"]], [["-6.25", "True"]], [["-8.75", "False"]], [["-11.0", "False"]]], "filtered_resps": [["-9.5", "False"], ["-6.25", "True"], ["-8.75", "False"], ["-11.0", "False"]], "filter": "none", "metrics": ["acc", "acc_norm"], "doc_hash": "f5335da3e400bd0ea9c998cb62e5f403b7c751c4cd503e7963c9aa6b4adecc73", "prompt_hash": "07585c6e01b0e940d1005669d897eb0bdcd5fe691a32e74df9a42d4ecf20f8dc", "target_hash": "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b", "acc": 1.0, "acc_norm": 1.0}
{"doc_id": 1, "doc": {"id": "NYSEDREGENTS_2015_4_8", "question": "What is the boiling point of water at sea level?", "choices": {"text": ["50 °C", "100 °C", "150 °C", "0 °C"], "label": ["A", "B", "C", "D"]}, "answerKey": "B"}, "target": "1", "arguments": {"gen_args_0": {"arg_0": "Question: What is the boiling point of water at sea level?\nAnswer:", "arg_1": " 50 °C"}, "gen_args_1": {"arg_0": "Question: What is the boiling point of water at sea level?\nAnswer:", "arg_1": " 100 °C"}, "gen_args_2": {"arg_0": "Question: What is the boiling point of water at sea level?\nAnswer:", "arg_1": " 150 °C"}, "gen_args_3": {"arg_0": "Question: What is the boiling point of water at sea level?\nAnswer:", "arg_1": " 0 °C"}}, "resps": [[["-7.0", "False"]], [["-7.5", "False"]], [["-9.0", "False"]], [["-6.9", "False"]]], "filtered_resps": [["-7.0", "False"], ["-7.5", "False"], ["-9.0", "False"], ["-6.9", "False"]], "filter": "none", "metrics": ["acc", "acc_norm"], "doc_hash": "3c133039ae692b7d6576e73c6f19ececf5651b17aa99a806db43c6e5c34c3a0c", "prompt_hash": "225f3df9577130a2101061771748a268535454e08ac0bd8dabe889aae5702d1f", "target_hash": "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b", "acc": 0.0, "acc_norm": 1.0}
{"doc_id": 2, "doc": {"id": "MCAS_2004_5_12", "question": "What force pulls objects toward Earth?", "choices": {"text": ["gravity", "magnetism", "friction", "the strong nuclear force"], "label": ["A", "B", "C", "D"]}, "answerKey": "A"}, "target": "0", "arguments": {"gen_args_0": {"arg_0": "Question: What force pulls objects toward Earth?\nAnswer:", "arg_1": " gravity"}, "gen_args_1": {"arg_0": "Question: What force pulls objects toward Earth?\nAnswer:", "arg_1": " magnetism"}, "gen_args_2": {"arg_0": "Question: What force pulls objects toward Earth?\nAnswer:", "arg_1": " friction"}, "gen_args_3": {"arg_0": "Question: What force pulls objects toward Earth?\nAnswer:", "arg_1": " the strong nuclear force"}}, "resps": [[["-4.0", "True"]], [["-6.0", "False"]], [["-5.5", "False"]], [["-8.0", "False"]]], "filtered_resps": [["-4.0", "True"], ["-6.0", "False"], ["-5.5", "False"], ["-8.0", "False"]], "filter": "none", "metrics": ["acc", "acc_norm"], "doc_hash": "f1cf21d2ce78313427f47db030210b83d0e778de38839c25ae9265d632592a0e", "prompt_hash": "e498c709d2c481f7e4a86d48effbf0358f21a4506f0eb8d81aed8db0053dde32", "target_hash": "5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9", "acc": 1.0, "acc_norm": 0.0}
{"doc_id": 3, "doc": {"id": "ACTAAP_2009_5_3", "question": "Which of these is found on a beach?", "choices": {"text": ["water", "sand", "rock", "oil"], "label": ["A", "B", "C", "D"]}, "answerKey": "B"}, "target": "1", "arguments": {"gen_args_0": {"arg_0": "Question: Which of these is found on a beach?\nAnswer:", "arg_1": " water"}, "gen_args_1": {"arg_0": "Question: Which of these is found on a beach?\nAnswer:", "arg_1": " sand"}, "gen_args_2": {"arg_0": "Question: Which of these is found on a beach?\nAnswer:", "arg_1": " rock"}, "gen_args_3": {"arg_0": "Question: Which of these is found on a beach?\nAnswer:", "arg_1": " oil"}}, "resps": [[["-5.0", "False"]], [["-5.0", "False"]], [["-7.0", "False"]], [["-9.0", "False"]]], "filtered_resps": [["-5.0", "False"], ["-5.0", "False"], ["-7.0", "False"], ["-9.0", "False"]], "filter": "none", "metrics": ["acc", "acc_norm"], "doc_hash": "f33aaab5ff639fddfebb9d1ea43f5f02c6dc5457fb8510ea5497c3b6cf1c485f", "prompt_hash": "c92a207cf4332aa380848a8d0a5c871c61c6b28fd7719ea774da5c6770fdf453", "target_hash": "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b", "acc": 0.0, "acc_norm": 0.0}
{"doc_id": 4, "doc": {"id": "Mercury_SC_401777", "question": "Which planet is closest to the Sun?", "choices": {"text": ["Mercury", "Venus", "Earth", "Mars"], "label": ["A", "B", "C", "D"]}, "answerKey": "A"}, "target": "0", "arguments": {"gen_args_0": {"arg_0": "Question: Which planet is closest to the Sun?\nAnswer:", "arg_1": " Mercury"}, "gen_args_1": {"arg_0": "Question: Which planet is closest to the Sun?\nAnswer:", "arg_1": " Venus"}, "gen_args_2": {"arg_0": "Question: Which planet is closest to the Sun?\nAnswer:", "arg_1": " Earth"}, "gen_args_3": {"arg_0": "Question: Which planet is closest to the Sun?\nAnswer:", "arg_1": " Mars"}}, "resps": [[["-8.0", "False"]], [["-6.0", "False"]], [["-5.0", "True"]], [["-7.0", "False"]]], "filtered_resps": [["-8.0", "False"], ["-6.0", "False"], ["-5.0", "True"], ["-7.0", "False"]], "filter": "none", "metrics": ["acc", "acc_norm"], "doc_hash": "f516b24f4275a73caeb38e48a634cb2e89d8b88b6170ba6a55f02d3ab0e24278", "prompt_hash": "9b73db6f6fd121f124cf7e34b0a9a11ad1196269d0e03fa07ba757dbd25434e0", "target_hash": "5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9", "acc": 0.0, "acc_norm": 0.0}
{"doc_id": 5, "doc": {"id": "MDSA_2010_5_26", "question": "A whale is an example of which kind of animal?", "choices": {"text": ["mammal", "reptile", "bird", "fish"], "label": ["A", "B", "C", "D"]}, "answerKey": "A"}, "target": "0", "arguments": {"gen_args_0": {"arg_0": "Question: A whale is an example of which kind of animal?\nAnswer:", "arg_1": " mammal"}, "gen_args_1": {"arg_0": "Question: A whale is an example of which kind of animal?\nAnswer:", "arg_1": " reptile"}, "gen_args_2": {"arg_0": "Question: A whale is an example of which kind of animal?\nAnswer:", "arg_1": " bird"}, "gen_args_3": {"arg_0": "Question: A whale is an example of which kind of animal?\nAnswer:", "arg_1": " fish"}}, "resps": [[["-3.25", "True"]], [["-7.5", "False"]], [["-6.0", "False"]], [["-6.5", "False"]]], "filtered_resps": [["-3.25", "True"], ["-7.5", "False"], ["-6.0", "False"], ["-6.5", "False"]], "filter": "none", "metrics": ["acc", "acc_norm"], "doc_hash": "ebb698bd32b3155242131756bb5e300ee9953fcf0ecabc2c0465bd778cf69776", "prompt_hash": "7a0ad9894959554fa4364ab8dcc4947742bc8df471a1c94b119012f349533a90", "target_hash": "5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9", "acc": 1.0, "acc_norm": 1.0}
{"doc_id": 6, "doc": {"id": "Mercury_7188790", "question": "A doorknob is an example of which simple machine?", "choices": {"text": ["a lever", "a pulley", "a wheel", "a screw"], "label": ["A", "B", "C", "D"]}, "answerKey": "C"}, "target": "2", "arguments": {"gen_args_0": {"arg_0": "Question: A doorknob is an example of which simple machine?\nAnswer:", "arg_1": " a lever"}, "gen_args_1": {"arg_0": "Question: A doorknob is an example of which simple machine?\nAnswer:", "arg_1": " a pulley"}, "gen_args_2": {"arg_0": "Question: A doorknob is an example of which simple machine?\nAnswer:", "arg_1": " a wheel"}, "gen_args_3": {"arg_0": "Question: A doorknob is an example of which simple machine?\nAnswer:", "arg_1": " a screw"}}, "resps": [[["-12.345678901234567", "False"]], [["-11.98", "False"]], [["-10.0000001", "False"]], [["-13.5", "False"]]], "filtered_resps": [["-12.345678901234567", "False"], ["-11.98", "False"], ["-10.0000001", "False"], ["-13.5", "False"]], "filter": "none", "metrics": ["acc", "acc_norm"], "doc_hash": "f8fa13eb7659bfd99d36feae002ce8fc0a9422bf96d374e873bdf83c03b7ebab", "prompt_hash": "13de2e21f7c59a4724356fd4dd81b6a8eaf3b049d1c2dfc7a8ecde19824e1f09", "target_hash": "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35", "acc": 1.0, "acc_norm": 1.0}
{"doc_id": 7, "doc": {"id": "TIMSS_2003_4_pg12", "question": "Which is water in its liquid state?", "choices": {"text": ["ice", "steam", "liquid water", "snow"], "label": ["A", "B", "C", "D"]}, "answerKey": "C"}, "target": "2", "arguments": {"gen_args_0": {"arg_0": "Question: Which is water in its liquid state?\nAnswer:", "arg_1": " ice"}, "gen_args_1": {"arg_0": "Question: Which is water in its liquid state?\nAnswer:", "arg_1": " steam"}, "gen_args_2": {"arg_0": "Question: Which is water in its liquid state?\nAnswer:", "arg_1": " liquid water"}, "gen_args_3": {"arg_0": "Question: Which is water in its liquid state?\nAnswer:", "arg_1": " snow"}}, "resps": [[["-6.0", "False"]], [["-7.0", "False"]], [["-8.4", "False"]], [["-7.9", "False"]]], "filtered_resps": [["-6.0", "False"], ["-7.0", "False"], ["-8.4", "False"], ["-7.9", "False"]], "filter": "none", "metrics": ["acc", "acc_norm"], "doc_hash": "f24094e4d3585a6d97ed3b92cca409cc8cf7d55acf5aee3b8588332509991c31", "prompt_hash": "8b121e34a38967380801a888c4802b99cdbf2a1d0a05e4f07814759033d9178c", "target_hash": "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35", "acc": 0.0, "acc_norm": 1.0}`;

const RESULTS = {
  results: { arc_easy: { alias: 'arc_easy', 'acc,none': 0.5, 'acc_stderr,none': 0.1889822365046136, 'acc_norm,none': 0.625, 'acc_norm_stderr,none': 0.18298126367784995 } },
  group_subtasks: { arc_easy: [] },
  configs: {
    arc_easy: {
      task: 'arc_easy', tag: ['ai2_arc'], dataset_path: 'allenai/ai2_arc', dataset_name: 'ARC-Easy', test_split: 'test',
      doc_to_text: 'Question: {{question}}\nAnswer:', doc_to_target: '{{choices.label.index(answerKey)}}', doc_to_choice: '{{choices.text}}',
      description: '', target_delimiter: ' ', fewshot_delimiter: '\n\n', num_fewshot: 0,
      metric_list: [{ metric: 'acc', aggregation: 'mean', higher_is_better: true }, { metric: 'acc_norm', aggregation: 'mean', higher_is_better: true }],
      output_type: 'multiple_choice', repeats: 1, should_decontaminate: true, doc_to_decontamination_query: 'Question: {{question}}\nAnswer:', metadata: { version: 1.0 },
    },
  },
  versions: { arc_easy: 1.0 }, 'n-shot': { arc_easy: 0 }, 'n-samples': { arc_easy: { original: 8, effective: 8 } },
  config: { model: 'hf', model_args: 'pretrained=EleutherAI/pythia-160m', batch_size: '1', limit: null, bootstrap_iters: 100000 },
  lm_eval_version: '0.4.3', date_id: '2024-05-01T12-00-00.123456',
};

const dir = mkdtempSync(join(tmpdir(), 'assay-lmeval-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const modelDir = join(dir, 'EleutherAI__pythia-160m');
mkdirSync(modelDir);
const samplesFile = join(modelDir, 'samples_arc_easy_2024-05-01T12-00-00.123456.jsonl');
writeFileSync(samplesFile, SAMPLES + '\n');
writeFileSync(join(modelDir, 'results_2024-05-01T12-00-00.123456.json'), JSON.stringify(RESULTS, null, 2));

test('acc and acc_norm recomputed from the recorded log-likelihoods equal lm-eval\'s, per document and as reported', async () => {
  const { check, docs } = await reproduceLmEvalAccuracy(samplesFile);
  assert.equal(check.task, 'arc_easy');
  assert.equal(check.documents, 8);
  assert.equal(check.target_delimiter, ' ');
  assert.ok(check.results_file?.endsWith('results_2024-05-01T12-00-00.123456.json'));
  assert.deepEqual([check.acc.recomputed, check.acc.recorded, check.acc.reported, check.acc.mismatched], [0.5, 0.5, 0.5, []]);
  assert.deepEqual([check.acc_norm.recomputed, check.acc_norm.recorded, check.acc_norm.reported, check.acc_norm.mismatched], [0.625, 0.625, 0.625, []]);
  assert.equal(check.acc.reproduced && check.acc_norm.reproduced, true);
  // lm-eval's standard error (sample std / √n), to the last bits.
  assert.ok(Math.abs(check.acc.stderr - RESULTS.results.arc_easy['acc_stderr,none']) < 1e-15);
  assert.ok(Math.abs(check.acc_norm.stderr - RESULTS.results.arc_easy['acc_norm_stderr,none']) < 1e-15);
  // What was read: strings back to numbers (17 digits kept), the tie, the gold index.
  assert.equal(docs[6]!.logprobs[0], -12.345678901234567);
  assert.deepEqual(docs[3]!.logprobs.slice(0, 2), [-5, -5]);
  assert.equal(docs[3]!.gold, 1);
  assert.deepEqual(docs[0]!.is_greedy, [false, true, false, false]);
});

test('a tie resolved the other way, or a per-character length counted in bytes, would not reproduce lm-eval', async () => {
  // Document 3 ties options 0 and 1 (gold 1): lm-eval (numpy) takes the first, so acc is 0 there; so does Assay.
  const { docs } = await reproduceLmEvalAccuracy(samplesFile);
  assert.equal(docs[3]!.recorded.acc, 0);
  // Alter one recorded verdict: the check names the document and no longer reproduces.
  const lines = SAMPLES.split('\n');
  const o = JSON.parse(lines[2]!);
  o.acc_norm = 1.0;
  lines[2] = JSON.stringify(o);
  const altered = join(modelDir, 'samples_arc_easy_altered.jsonl');
  writeFileSync(altered, lines.join('\n') + '\n');
  const { check } = await reproduceLmEvalAccuracy(altered, { results: join(modelDir, 'results_2024-05-01T12-00-00.123456.json'), task: 'arc_easy' });
  assert.deepEqual(check.acc_norm.mismatched, ['2']);
  assert.equal(check.acc_norm.reproduced, false);
  assert.equal(check.acc.reproduced, true);
});

test('older lm-eval files (arguments as pairs, numbers and booleans) and multiple-input tasks', async () => {
  const old = [
    { doc_id: 0, target: 0, arguments: [['Q: a?\nA:', ' yes'], ['Q: a?\nA:', ' no']], filtered_resps: [[-1.5, true], [-2.5, false]], acc: 1.0, acc_norm: 1.0 },
    { doc_id: 1, target: 'maybe', arguments: [['Q: b?\nA:', ' no'], ['Q: b?\nA:', ' maybe']], filtered_resps: [[-1.0, true], [-1.25, false]], acc: 0.0, acc_norm: 1.0 },
    // Winogrande-style: the options sit in the contexts, one continuation for all: left out (counted).
    { doc_id: 2, target: '1', arguments: [['The cup fell because the cup', ' was heavy.'], ['The cup fell because the table', ' was heavy.']], filtered_resps: [['-3.0', 'False'], ['-2.0', 'True']], acc: 1.0 },
  ];
  const f = join(dir, 'samples_tiny_2023-01-01T00-00-00.000000.jsonl');
  writeFileSync(f, old.map((x) => JSON.stringify(x)).join('\n') + '\n');
  const { check } = await reproduceLmEvalAccuracy(f, { results: null });
  assert.equal(check.documents, 2);
  assert.equal(check.unsupported, 1);
  assert.deepEqual([check.acc.recomputed, check.acc_norm.recomputed, check.acc.reported], [0.5, 1, null]);
  assert.equal(check.acc.reproduced && check.acc_norm.reproduced, true);
  // Unreadable input names the line and field.
  writeFileSync(f, JSON.stringify({ doc_id: 0, target: '0', arguments: [['c', ' x'], ['c', ' y']], filtered_resps: [['oops', 'False'], ['-1', 'False']] }) + '\n');
  await assert.rejects(reproduceLmEvalAccuracy(f, { results: null }), /:1 field "filtered_resps": unreadable log-likelihood "oops"/);
});

test('import: recomputed acc and acc_norm land in the pool as binary measurements with the check', async () => {
  const pool = await openPool('memory:');
  try {
    const r = await importLmEvalLoglikelihoods(pool, samplesFile);
    assert.equal(r.check.acc.reproduced, true);
    assert.equal(r.measurements, 16);
    assert.equal(r.samples, 8);
    const ms: PoolMeasurement[] = [];
    for await (const m of pool.iteratePoolMeasurements({ runs: false })) ms.push(m);
    const mean = (slice: string) => ms.filter((m) => m.slice === slice).reduce((a, m) => a + m.value, 0) / 8;
    assert.deepEqual([mean('acc'), mean('acc_norm')], [0.5, 0.625]);
    assert.deepEqual(new Set(ms.map((m) => m.model)), new Set(['EleutherAI__pythia-160m']));
    assert.ok(ms.every((m) => m.kind === 'binary' && m.sample_key.startsWith('lm-eval:arc_easy/')));
  } finally {
    await pool.close();
  }
});
