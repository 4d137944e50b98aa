// VQA accuracy, BLEU-4 and CIDEr-D (src/scorers/vqa.ts, src/scorers/caption.ts): hand-computed values on small
// cases, sacreBLEU's published test vectors (its test_bleu.py and test_sentence_bleu.py), SummEval's published
// CIDEr value on its test captions, and the scorers registered and run end to end (CIDEr-D's document frequencies
// come from the evaluated dataset, in a run and in re-scoring).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sample } from '../../src/core/schemas.ts';
import { bleuFromStats, bleuStats, captionTokens, ciderD, corpusBleu, sentenceBleu } from '../../src/scorers/caption.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { vqaAccuracy, vqaNormalize, vqaPunctuation } from '../../src/scorers/vqa.ts';
import { regrade } from '../../src/runner/rescore.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { openPool } from '../../src/store/open.ts';
import { defineTask } from '../../src/tasks/task.ts';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const close = (a: number, b: number, eps: number, what: string) => assert.ok(Math.abs(a - b) < eps, `${what}: ${a} vs ${b}`);

test('VQA accuracy: min(humans / 3, 1) averaged over the ten leave-one-out subsets, hand-computed', () => {
  const humans = ['two', '2', '2', '2', '3', '3', '3', 'red', 'red', 'yes'];
  // "2": three humans; leaving out one of them leaves 2 (2/3), leaving out any other leaves 3 (1): (3·2/3 + 7)/10
  close(vqaAccuracy('2', humans), 0.9, 1e-12, '2');
  close(vqaAccuracy('Two.', humans), 0.9, 1e-12, 'Two. (number word, full stop)');
  close(vqaAccuracy('red', humans), (2 * (1 / 3) + 8 * (2 / 3)) / 10, 1e-12, 'red');
  close(vqaAccuracy('A red', humans), 0.6, 1e-12, 'article');
  close(vqaAccuracy('yes', humans), 0.3, 1e-12, 'yes');
  close(vqaAccuracy('blue', humans), 0, 1e-12, 'blue');
  // the official script does not normalise the human answers' number words; option `normalize` does
  close(vqaAccuracy('2', humans, { answers: 'normalize' }), 1, 1e-12, 'normalize');
  close(vqaAccuracy('4', Array(10).fill('4')), 1, 1e-12, 'all ten');
  assert.throws(() => vqaAccuracy('x', ['x']), RangeError);
});

test('VQA answer normalisation: punctuation, articles, number words, contractions (the official rules and quirks)', () => {
  assert.equal(vqaPunctuation('yes, it is'), 'yes it is'); // a mark next to a space is deleted
  assert.equal(vqaPunctuation('left-right'), 'left right'); // else replaced by a space
  assert.equal(vqaPunctuation('1,000 (approx)'), '1000 approx'); // a comma between digits: every mark deleted
  assert.equal(vqaPunctuation('3.5 m.'), '3.5 m');
  assert.equal(vqaNormalize('  The Three\tdogs!\n'), '3 dogs');
  assert.equal(vqaNormalize('an apple'), 'apple');
  assert.equal(vqaNormalize('dont know'), "don't know"); // the current script's table: straight apostrophes
  assert.equal(vqaNormalize('isnt it'), "isn't it");
  assert.equal(vqaNormalize('whats that'), "what's that");
  assert.equal(vqaNormalize('oclock'), "o'clock");
  assert.equal(vqaNormalize("couldnt've"), "couldn't've");
  assert.equal(vqaNormalize("don't know"), "don't know"); // an apostrophe is not punctuation in the current script
  assert.equal(vqaNormalize('Im here'), 'im here'); // capitalised keys never match (the script's quirk)
  assert.equal(vqaNormalize('none'), '0');
  close(vqaAccuracy('dont know', Array(10).fill("don't know")), 1, 1e-12, 'contraction');
  // three humans wrote "don't know", one "dont know", six "no": the official script gives 0.9
  close(vqaAccuracy('dont know', [...Array(3).fill("don't know"), 'dont know', ...Array(6).fill('no')]), 0.9, 1e-12, 'contraction, mixed answers');
  close(vqaAccuracy('isnt', [...Array(3).fill("isn't"), ...Array(7).fill('is')]), 0.9, 1e-12, 'isnt');
  close(vqaAccuracy('dont know', Array(10).fill('don’t know')), 0, 1e-12, 'a typographic apostrophe is another answer');
});

test('vqa scorer: human answers from metadata (strings or VQAv2 objects) or a JSON list target; a proportion', async () => {
  const s = createScorer('vqa');
  assert.deepEqual(s.metric, { kind: 'proportion' });
  const humans = ['two', '2', '2', '2', '3', '3', '3', 'red', 'red', 'yes'];
  const a: Sample = { id: 'a', input: 'How many?', target: '2', metadata: { answers: humans.map((answer, i) => ({ answer, answer_id: i + 1 })) } };
  const b: Sample = { id: 'b', input: 'How many?', target: JSON.stringify(humans), metadata: {} };
  for (const sample of [a, b]) {
    const v = (await s.score(sample, 'Two.')) as { value: number; status: string };
    close(v.value, 0.9, 1e-12, sample.id);
  }
  const bad = (await s.score({ id: 'c', input: 'q', target: 'red', metadata: {} }, 'red')) as { status: string };
  assert.equal(bad.status, 'grader_error');
  const final = createScorer('vqa?extract=final');
  close(((await final.score(a, 'Counting them carefully.\nAnswer: 3')) as { value: number }).value, 0.9, 1e-12, 'extract=final');
});

// sacreBLEU's README example (test_bleu.py): three hypotheses, two reference streams
const HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const STREAMS = [['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'], ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.']];
const REFS = HYPS.map((_, i) => STREAMS.map((s) => s[i]!));

test('corpus BLEU matches sacreBLEU\'s published values (13a and whitespace tokens)', () => {
  close(100 * corpusBleu(HYPS, REFS, { tokenize: '13a' }).bleu, 48.530827, 1e-6, '13a');
  close(100 * corpusBleu(HYPS, REFS, { tokenize: 'none' }).bleu, 49.1919566, 1e-6, 'none');
  assert.equal(corpusBleu(['', '', ''], REFS, { tokenize: '13a' }).bleu, 0);
  // statistics and scoring vectors
  const st = bleuStats('am I am a character sequence'.split(' '), ['I am a symbol string sequence a a'.split(' ')]);
  assert.deepEqual([st.matches, st.totals], [[4, 2, 1, 0], [6, 5, 4, 3]]);
  close(bleuFromStats(st, { smoothing: 'floor', value: 0.1, effectiveOrder: true }).bleu, 0.1555722182, 1e-8, 'floor 0.1');
  assert.equal(bleuFromStats(st, { smoothing: 'none' }).bleu, 0);
  close(bleuFromStats({ matches: [9, 7, 5, 3], totals: [10, 8, 6, 4], hyp_len: 11, ref_len: 11 }).bleu, 0.8375922397, 1e-8, 'scoring');
  const raw = (h: string, r: string) => bleuFromStats(bleuStats(h.split(' '), [r.split(' ')]), { smoothing: 'floor', value: 0.01, effectiveOrder: true }).bleu;
  close(raw('this is a fest', 'this is a test'), 0.223606797749979, 1e-8, 'fest');
  close(raw('test', 'a test'), 0.3678794411714425, 1e-8, 'effective order 1');
  close(raw('a little test', 'a test'), 0.03218297948685433, 1e-8, 'effective order 3');
  // by hand: a perfect hypothesis shorter than its only reference is its brevity penalty
  close(corpusBleu(['a b c d'], [['a b c d e f']], { tokenize: 'none' }).bleu, Math.exp(1 - 6 / 4), 1e-12, 'brevity');
});

test('sentence BLEU smoothing matches sacreBLEU\'s published values (test_sentence_bleu.py)', () => {
  const REF = 'producţia de zahăr brut se exprimă în zahăr alb;';
  const SYS = 'Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;';
  const cases: [Parameters<typeof sentenceBleu>[2], number][] = [
    [{ tokenize: '13a', smoothing: 'exp' }, 8.493],
    [{ tokenize: '13a', smoothing: 'none' }, 0.0],
    [{ tokenize: '13a', smoothing: 'floor' }, 4.51688],
    [{ tokenize: '13a', smoothing: 'floor', value: 0.5 }, 10.1],
    [{ tokenize: '13a', smoothing: 'add-k' }, 14.882],
    [{ tokenize: '13a', smoothing: 'add-k', value: 2 }, 21.389],
    [{ tokenize: 'none', smoothing: 'exp' }, 7.347],
  ];
  for (const [o, want] of cases) close(100 * sentenceBleu(SYS, [REF], o).bleu, want, 1e-3, JSON.stringify(o));
  for (const smoothing of ['exp', 'none', 'floor', 'add-k'] as const) assert.equal(sentenceBleu('this is a cat', ['okay thanks'], { tokenize: '13a', smoothing }).bleu, 0);
});

test('CIDEr-D: hand-computed values (IDF, clipping, length penalty, ×10) and SummEval\'s published corpus value', () => {
  // two items: "a" occurs in both reference sets (IDF 0), every other n-gram in one (IDF ln 2)
  const refs = [['a cat'], ['a dog']];
  const perfect = ciderD(['a cat', 'a dog'], refs, { tokenize: 'none' });
  // unigram and bigram cosines are 1, no trigrams or 4-grams (0), equal lengths: 10 · (1 + 1 + 0 + 0) / 4
  close(perfect.scores[0]!, 5, 1e-12, 'perfect');
  close(perfect.score, 5, 1e-12, 'mean');
  // "a cat cat": unigram cat clipped at the reference's weight (cos 1/2), bigrams (a cat, cat cat) cos 1/√2,
  // one more bigram than the reference: penalty exp(−1/72)
  const rep = ciderD(['a cat cat', 'a dog'], refs, { tokenize: 'none' }).scores[0]!;
  close(rep, (10 / 4) * (0.5 + Math.SQRT1_2) * Math.exp(-1 / 72), 1e-12, 'clipped');
  assert.equal(ciderD(['a dog', 'a cat'], refs, { tokenize: 'none' }).scores[0], 0);
  // SummEval's test of pycocoevalcap's CIDEr-D (evaluation/tests/test_cider.py), whitespace tokens
  const CANDS = [
    '28-year-old chef found dead in San Francisco mall',
    'A 28-year-old chef who recently moved to San Francisco was found dead in the staircase of a local shopping center.',
    'The victim\'s brother said he cannot imagine anyone who would want to harm him,"Finally, it went uphill again at him."',
  ];
  const SREFS = [
    '28-Year-Old Chef Found Dead at San Francisco Mall',
    'A 28-year-old chef who had recently moved to San Francisco was found dead in the stairwell of a local mall this week.',
    'But the victim\'s brother says he can\'t think of anyone who would want to hurt him, saying, "Things were finally going well for him."',
  ];
  close(ciderD(CANDS, SREFS.map((r) => [r]), { tokenize: 'none' }).score, 2.5759014911864084, 1e-9, 'SummEval');
  // the coco tokens: lower case, clitics split, punctuation dropped
  assert.deepEqual(captionTokens("A dog's ball, isn't it?"), ['a', 'dog', "'s", 'ball', 'is', "n't", 'it']);
});

test('bleu and cider_d scorers in a run: CIDEr-D uses the evaluated dataset\'s references, in the run and in re-scoring', async () => {
  const samples: Sample[] = [
    { id: 'c1', input: 'Describe image 1.', target: 'a cat on a mat', metadata: { references: ['a cat on a mat', 'a cat sitting on a mat', 'the cat is on the mat'] } },
    { id: 'c2', input: 'Describe image 2.', target: 'a dog in a park', metadata: { references: ['a dog in a park', 'a dog running in the park'] } },
    { id: 'c3', input: 'Describe image 3.', target: 'two birds', metadata: { references: ['two birds on a wire', 'birds sitting on a wire'] } },
  ];
  const said: Record<string, string> = { 'Describe image 1.': 'A cat on a mat.', 'Describe image 2.': 'A dog in the park.', 'Describe image 3.': 'A plane in the sky.' };
  const server = await startFakeOpenAIServer({ answer: (q) => ({ content: said[q.trim()] ?? '' }) });
  const pool = await openPool('memory:');
  try {
    const task = defineTask({ name: 'captions', dataset: { name: 'captions', samples }, template: 'plain', scorers: ['cider_d', 'bleu'] });
    const r = await evaluate(task, [`openai-compatible:${server.url}#cap`], { pool });
    assert.equal(r.status, 'complete');
    const runId = r.cells[0]!.run_id;
    const want = ciderD(samples.map((s) => said[s.input as string]!), samples.map((s) => s.metadata.references as string[]));
    const got = new Map<string, number>();
    for await (const m of pool.iterateMeasurements(runId, 'cider_d')) got.set(m.sample_id, m.value!);
    samples.forEach((s, i) => close(got.get(s.id)!, want.scores[i]!, 1e-12, s.id));
    assert.ok(want.scores[0]! > want.scores[2]!, 'the right caption scores higher than the wrong one');
    for await (const m of pool.iterateMeasurements(runId, 'bleu')) {
      const s = samples.find((x) => x.id === m.sample_id)!;
      close(m.value!, sentenceBleu(said[s.input as string]!, s.metadata.references as string[]).bleu, 1e-12, `bleu ${s.id}`);
    }
    // re-scoring with a fresh scorer prepares it from the run's planned samples: the same values
    const again = createScorer('cider_d?sigma=6.5');
    await regrade(pool, runId, again);
    const want2 = ciderD(samples.map((s) => said[s.input as string]!), samples.map((s) => s.metadata.references as string[]), { sigma: 6.5 });
    for await (const m of pool.iterateMeasurements(runId, again.name)) close(m.value!, want2.scores[samples.findIndex((s) => s.id === m.sample_id)]!, 1e-12, `rescored ${m.sample_id}`);
    // without prepare: a clear grader error, never a silent 0
    const unprepared = (await createScorer('cider_d').score(samples[0]!, 'a cat')) as { status: string; explanation: string };
    assert.equal(unprepared.status, 'grader_error');
    assert.match(unprepared.explanation, /reference corpus/);
  } finally {
    await pool.close();
    await server.close();
  }
});
