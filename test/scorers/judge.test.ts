/**
 * The `judge` scorer against a small OpenAI-compatible server acting as the judge (no real model runs here),
 * including malformed replies (retried with the problem sent back), transport faults, a judge that never
 * answers well (a recorded grader_error), multiple-choice graded without a judge; and a whole HLE-style run:
 * model → judge → pool → calibration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAIServer, type FakeChatRequest } from '../../testkit/fake-openai-server.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { getTemplate } from '../../src/core/templates.ts';
import { executeRun } from '../../src/runner/run.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { regrade } from '../../src/runner/rescore.ts';
import { scorerDisagreement } from '../../src/analyses/graders.ts';
import { JUDGE_PROMPTS, judgePromptSha256, parseJudgeReply } from '../../src/scorers/judge.ts';
import { openSqlitePool } from '../../src/store/sqlite.ts';
import { calibrationItems } from '../../src/analyses/calibration.ts';
import { calibrationReport } from '../../src/stats/calibration.ts';
import type { Sample } from '../../src/core/schemas.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));

const text = (c: FakeChatRequest['messages'][number]['content']) => (typeof c === 'string' ? c : (c ?? []).map((p) => p.text ?? '').join(''));

/**
 * A judge that reads the prompt it was sent: the response's "Exact Answer:"/"Answer:" line against
 * [correct_answer], and its "Confidence:" line. Questions containing MALFORMED-ONCE get one unreadable reply
 * first; ALWAYS-BAD always gets one; LINES gets the `key: value` line format; NO-CONF gets a null confidence.
 */
function judgeAnswer(calls: Map<string, number>) {
  return (_q: string, req: FakeChatRequest) => {
    const prompt = text(req.messages[0]!.content);
    const question = /\[question\]: ([\s\S]*?)\n\n\[response\]/.exec(prompt)![1]!;
    const response = /\[response\]: ([\s\S]*?)\n\n\[correct_answer\]/.exec(prompt)![1]!;
    const gold = /\[correct_answer\]: ([\s\S]*?)\n\nReply with/.exec(prompt)![1]!.trim();
    const n = (calls.get(question) ?? 0) + 1;
    calls.set(question, n);
    if (question.includes('ALWAYS-BAD')) return { content: 'I think it is right, probably.' };
    if (question.includes('MALFORMED-ONCE') && n === 1) return { content: '{"extracted_final_answer": "4", "correct": "maybe"' };
    if (question.includes('WRONG-TYPE') && n === 1) return { content: '{"extracted_final_answer": "4", "reasoning": "same", "correct": "yes", "confidence": 400}' };
    const ans = (/(?:Exact Answer|Answer):\s*(.*)/.exec(response)?.[1] ?? 'None').trim();
    const conf = /Confidence:\s*(\d+)/.exec(response)?.[1];
    const correct = ans.toLowerCase() === gold.toLowerCase() ? 'yes' : 'no';
    if (question.includes('LINES')) return { content: `extracted_final_answer: ${ans}\nreasoning: compared\nthe two strings\ncorrect: ${correct}\nconfidence: ${conf ?? 100}` };
    const confidence = question.includes('NO-CONF') ? null : conf === undefined ? null : Number(conf);
    return { content: '```json\n' + JSON.stringify({ extracted_final_answer: ans, reasoning: `"${ans}" vs "${gold}"`, correct, confidence }) + '\n```' };
  };
}

const hleSample = (id: string, question: string, answer: string, type: 'exactMatch' | 'multipleChoice' = 'exactMatch'): Sample => ({
  id, input: [{ role: 'system', content: 'fmt' }, { role: 'user', content: question }], target: answer, metadata: { answer_type: type },
});

test('judge reply parsing: JSON, fenced JSON, key: value lines; schema violations are named', () => {
  const ok = parseJudgeReply('```json\n{"extracted_final_answer": 42, "reasoning": "r", "correct": "Yes", "confidence": "85%"}\n```');
  assert.deepEqual(ok, { verdict: { extracted_final_answer: '42', reasoning: 'r', correct: 'yes', confidence: 85 } });
  const lines = parseJudgeReply('extracted_final_answer: x\nreasoning: a\nb\ncorrect: no\nconfidence: None');
  assert.deepEqual(lines, { verdict: { extracted_final_answer: 'x', reasoning: 'a\nb', correct: 'no', confidence: null } });
  assert.match(JSON.stringify(parseJudgeReply('{"extracted_final_answer": "x", "reasoning": "r", "correct": "maybe", "confidence": 3}')), /correct/);
  assert.match(JSON.stringify(parseJudgeReply('{"extracted_final_answer": "x", "reasoning": "r", "correct": "no", "confidence": 101}')), /confidence/);
  assert.match(JSON.stringify(parseJudgeReply('no idea')), /no JSON object/);
  assert.match(JSON.stringify(parseJudgeReply('{"reasoning": "r", "correct": "no", "confidence": 1}')), /extracted_final_answer/);
});

test('judge scorer: verdicts, retries on malformed output and transport faults, recorded settings, MC without a judge', async () => {
  const calls = new Map<string, number>();
  const server = await startFakeOpenAIServer({ modelId: 'fake-judge-1', answer: judgeAnswer(calls) });
  const judge = createScorer(`judge?model=openai-compatible:${server.url}#fake-judge&max_retries=2`);
  try {
    assert.equal(judge.name, `judge?max_retries=2&model=openai-compatible:${server.url}#fake-judge`);
    assert.equal(judge.options.prompt_sha256, judgePromptSha256('hle-v1'));
    assert.equal(judge.options.temperature, 0);
    const right = await judge.score(hleSample('a', 'What is 2+2?', '4'), 'Explanation: sum\nExact Answer: 4\nConfidence: 90%');
    assert.equal(right.value, 1);
    assert.equal(right.status, 'ok');
    assert.equal(right.extracted, '4');
    const rec = JSON.parse(right.explanation!);
    assert.equal(rec.judge_model, 'fake-judge-1', 'the model id the judge server reported');
    assert.equal(rec.prompt_sha256, judgePromptSha256('hle-v1'));
    assert.equal(rec.confidence, 90);
    assert.equal(rec.tries, 1);
    const wrong = await judge.score(hleSample('b', 'What is 3+3?', '6'), 'Exact Answer: 5\nConfidence: 60%');
    assert.equal(wrong.value, 0);

    const once = await judge.score(hleSample('c', 'MALFORMED-ONCE: 2+2?', '4'), 'Exact Answer: 4\nConfidence: 80%');
    assert.equal(once.value, 1);
    assert.equal(JSON.parse(once.explanation!).tries, 2);
    assert.equal(calls.get('MALFORMED-ONCE: 2+2?'), 2);
    const typed = await judge.score(hleSample('c2', 'WRONG-TYPE: 2+2?', '4'), 'Exact Answer: 4\nConfidence: 80%');
    assert.equal(JSON.parse(typed.explanation!).tries, 2, 'a confidence of 400 fails the schema and is retried');
    assert.equal(JSON.parse(typed.explanation!).confidence, 80);

    const bad = await judge.score(hleSample('d', 'ALWAYS-BAD: 2+2?', '4'), 'Exact Answer: 4');
    assert.equal(bad.status, 'grader_error');
    assert.equal(bad.value, null, 'a judge failure is recorded, never a silent 0');
    assert.equal(calls.get('ALWAYS-BAD: 2+2?'), 3, '1 try + max_retries 2');
    assert.match(bad.explanation!, /malformed judge reply/);

    const lines = await judge.score(hleSample('e', 'LINES: capital of France?', 'Paris'), 'Exact Answer: paris\nConfidence: 70%');
    assert.equal(lines.value, 1);
    const noConf = await judge.score(hleSample('f', 'NO-CONF: 1+1?', '2'), 'Exact Answer: 2');
    assert.equal(JSON.parse(noConf.explanation!).confidence, null, 'missing confidence is recorded as missing');

    // transport faults: two 500s, then an answer
    server.setFaults({ serverError: { firstN: 2 } });
    const after = await judge.score(hleSample('g', 'What is 5+5?', '10'), 'Exact Answer: 10\nConfidence: 99%');
    assert.equal(after.value, 1);
    server.setFaults(undefined);

    // multiple choice: graded by letter, the judge is not called
    const before = server.stats.chat;
    const mc = await judge.score(hleSample('h', 'Pick one.\nA. x\nB. y', 'B', 'multipleChoice'), 'Explanation: y\nAnswer: B\nConfidence: 75%');
    assert.equal(mc.value, 1);
    assert.deepEqual(JSON.parse(mc.explanation!), { grader: 'letter', correct: 'yes', confidence: 75, reasoning: 'same letter' });
    assert.equal((await judge.score(hleSample('i', 'Pick.', 'A', 'multipleChoice'), 'Answer: C\nConfidence: 10%')).value, 0);
    assert.equal((await judge.score(hleSample('j', 'Pick.', 'A', 'multipleChoice'), 'I cannot decide')).status, 'no_answer');
    assert.equal(server.stats.chat, before);
    const viaJudge = createScorer(`judge?model=openai-compatible:${server.url}#fake-judge&multiple_choice=judge`);
    assert.equal((await viaJudge.score(hleSample('k', 'Pick.', 'B', 'multipleChoice'), 'Answer: B')).value, 1);
    assert.equal(server.stats.chat, before + 1);
    await viaJudge.close?.();
  } finally {
    await judge.close?.();
    await server.close();
  }
});

test('judge scorer: an unreachable judge and a bad address give recorded grader_errors, never a throw', async () => {
  const dead = createScorer('judge?model=openai-compatible:http://127.0.0.1:9/v1#x&max_retries=1&timeout_ms=2000');
  const v = await dead.score(hleSample('a', 'q', '1'), 'Exact Answer: 1');
  assert.equal(v.status, 'grader_error');
  assert.match(v.explanation!, /judge call failed/);
  await dead.close?.();
  const bogus = createScorer('judge?model=nosuch:thing');
  const w = await bogus.score(hleSample('a', 'q', '1'), 'x');
  assert.equal(w.status, 'grader_error');
  assert.match(w.explanation!, /unknown model address/);
  assert.throws(() => createScorer('judge', { model: 'openai:x', prompt_sha256: 'abc' }), /judge prompt changed/);
  assert.ok(JUDGE_PROMPTS['hle-v1'].includes('{correct_answer}'));
});

const HLE_ROWS = [
  { id: 'h1', question: 'What is 2+2?', answer: '4', answer_type: 'exactMatch', image: '', category: 'Math', raw_subject: 'Arithmetic', rationale: 'sum' },
  { id: 'h2', question: 'Capital of France?', answer: 'Paris', answer_type: 'exactMatch', image: '', category: 'Humanities', raw_subject: 'Geography', rationale: '' },
  { id: 'h3', question: 'Pick the even one.\nA. 3\nB. 4', answer: 'B', answer_type: 'multipleChoice', image: 'data:image/png;base64,iVBORw0KGgo=', category: 'Math', raw_subject: 'Parity', rationale: '' },
  { id: 'h4', question: 'What is 7*6?', answer: '42', answer_type: 'exactMatch', image: '', category: 'Math', raw_subject: 'Arithmetic', rationale: '' },
];

test('HLE-style run: model answers in Explanation/Answer/Confidence, judge grades, settings in the manifest, calibration', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-hle-run-'));
  const responses: Record<string, string> = {
    'What is 2+2?': 'Explanation: 2+2=4\nExact Answer: 4\nConfidence: 90%',
    'Capital of France?': 'Explanation: it is Lyon\nExact Answer: Lyon\nConfidence: 80%',
    'Pick the even one.\nA. 3\nB. 4': 'Explanation: 4 is even\nAnswer: B\nConfidence: 100%',
    'What is 7*6?': 'Explanation: guess\nExact Answer: 42',
  };
  const model = await startFakeOpenAIServer({ modelId: 'fake-examinee', answer: (q) => ({ content: responses[q] ?? 'no idea' }) });
  const calls = new Map<string, number>();
  const judgeServer = await startFakeOpenAIServer({ modelId: 'fake-judge-2', answer: judgeAnswer(calls) });
  const pool = openSqlitePool(join(dir, 'pool.sqlite'));
  try {
    const file = join(dir, 'hle.jsonl');
    writeFileSync(file, HLE_ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const ds = await loadDataset(`hle:${file}`);
    const judge = createScorer(`judge?model=openai-compatible:${judgeServer.url}#fake-judge`);
    const r = await executeRun({ pool, dataset: ds, template: getTemplate('plain'), model: `openai-compatible:${model.url}#examinee`, config: { temperature: 0, chat_template: true }, epochs: 1, scorers: [judge] });
    assert.equal(r.status, 'complete');
    const run = (await pool.getRun(r.run_id))!;
    assert.deepEqual(run.manifest.scorers[0], { name: judge.name, options: judge.options, metric: { kind: 'binary' } });
    assert.equal(run.manifest.scorers[0]!.options.prompt_sha256, judgePromptSha256('hle-v1'));
    assert.equal(run.manifest.scorers[0]!.options.model, `openai-compatible:${judgeServer.url}#fake-judge`);
    const ms = [];
    for await (const m of pool.iterateMeasurements(r.run_id, judge.name)) ms.push(m);
    assert.deepEqual(ms.map((m) => [m.sample_id, m.value]), [['h1', 1], ['h2', 0], ['h3', 1], ['h4', 1]]);
    assert.equal(judgeServer.stats.chat, 3, 'the multiple-choice question did not call the judge');
    assert.equal(JSON.parse(ms[0]!.explanation!).judge_model, 'fake-judge-2');
    // the judge's own reported model id, prompt hash and settings are in the run manifest
    const report = (await pool.getRun(r.run_id))!.manifest.scorer_reports?.[judge.name];
    assert.deepEqual(report?.reported_model_ids, ['fake-judge-2']);
    assert.equal(report?.prompt_sha256, judgePromptSha256('hle-v1'));
    assert.equal(report?.temperature, 0);

    const { items, excluded } = await calibrationItems(pool, r.run_id, judge.name);
    assert.equal(excluded, 0);
    assert.deepEqual(items.map((i) => i.confidence), [0.9, 0.8, 1, null]);
    const rep = calibrationReport(items, { replicates: 50 });
    assert.equal(rep.missing, 1);
    assert.equal(rep.n, 3);
    assert.equal(rep.hle_compat.value, null, 'the reference fails below 100 items');
    // one equal-mass bin of 3 items: mean confidence 0.9, accuracy 2/3
    assert.ok(Math.abs(rep.rms_calibration_error.value - (0.9 - 2 / 3)) < 1e-12);
    const filled = calibrationReport(items, { replicates: 0, missingConfidence: 1 });
    assert.equal(filled.n, 4);

    // re-grading the stored responses with a second judge configuration (letters by the judge too), concurrently
    const viaJudge = createScorer(`judge?model=openai-compatible:${judgeServer.url}#fake-judge&multiple_choice=judge`);
    const before = judgeServer.stats.chat;
    assert.deepEqual(await regrade(pool, r.run_id, viaJudge, { concurrency: 4 }), { graded: 4, failed: 0 });
    await viaJudge.close?.();
    assert.equal(judgeServer.stats.chat, before + 4);
    const d = await scorerDisagreement(pool, r.run_id, judge.name, viaJudge.name);
    assert.deepEqual([d.compared, d.disagree], [4, 0]);

    // the same through the CLI
    const cli = spawnSync(process.execPath, [BIN, 'calibration', r.run_id.slice(0, 10), '--pool', join(dir, 'pool.sqlite'), '--json', '--replicates', '20'], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    const doc = JSON.parse(cli.stdout);
    assert.equal(doc.scorer, judge.name);
    assert.equal(doc.calibration.n, 3);
    assert.equal(doc.calibration.missing, 1);
    const human = spawnSync(process.execPath, [BIN, 'calibration', r.run_id, '--pool', join(dir, 'pool.sqlite'), '--missing-confidence', '100', '--replicates', '20'], { encoding: 'utf8' });
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /RMS calibration error/);
    assert.match(human.stdout, /hle-compat \(reference\)\s+n\/a: hle-compat: 4 items < beta 100/);
    await judge.close?.();
  } finally {
    await pool.close();
    await model.close();
    await judgeServer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
