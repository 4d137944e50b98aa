/**
 * Times of day and ratios written in plain text (no box): the whole `h:mm` / `h:mm:ss` token with its a.m./p.m.,
 * or the whole ratio `a:b` / `a:b:c`, is the answer, never the number after (or before) its colon. Read from the
 * last number, from "the answer is …" and from `Answer: …` lines, then compared as in a box: a time with
 * a.m./p.m. equals its 24-hour gold, a ratio is compared term by term, and a plain-number gold is never matched
 * by one term of a time or ratio (`30` is not `4:30`). Things that only look alike keep their old reading:
 * addresses with ports, ISO timestamps, thousands groups, `Answer: 5`, GSM8K `#### N`, labelled list items.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer } from '../../src/scorers/registry.ts';
import { extractAnswer, lastNumber, trimAnswerPhrase } from '../../src/scorers/extract.ts';
import { timed } from './helpers.ts';

type Row = [gold: string, response: string, correct: boolean, extracted?: string];

async function check(scorerSpec: string, rows: Row[]): Promise<void> {
  const scorer = createScorer(scorerSpec);
  for (const [gold, response, correct, extracted] of rows) {
    const { v } = await timed(scorer, gold, response);
    const what = `${scorerSpec}: gold ${JSON.stringify(gold)} vs ${JSON.stringify(response)}: ${JSON.stringify(v)}`;
    assert.ok(['ok', 'no_answer'].includes(v.status), what);
    assert.equal(v.value === 1, correct, what);
    if (extracted !== undefined) assert.equal(v.extracted, extracted, what);
  }
}

test('the six reported cases get their right verdicts', async () => {
  await check('math', [
    ['16:30', 'The answer is 4:30 p.m.', true, '4:30 p.m.'],
    ['4:30', 'The meeting starts at 4:30.', true, '4:30'],
    ['30', 'He arrives at 4:30.', false, '4:30'],
    ['3:2', 'The ratio is 3:2.', true, '3:2'],
    ['16:30', 'Answer: 4:30 pm', true, '4:30 pm'],
    ['7', 'Final time 10:07', false, '10:07'],
  ]);
});

test('times with a.m./p.m. in plain text equal their 24-hour gold', async () => {
  await check('math', [
    ['16:30', 'So they meet at 4:30 p.m.', true, '4:30 p.m.'],
    ['16:30', 'They meet at 4:30PM.', true],
    ['16:30', 'The final answer is 4:30 P.M. on Friday.', true],
    ['9:15', 'The train leaves at 9:15 a.m.', true],
    ['0:15', 'Answer: 12:15 am', true],
    ['22:05:30', 'The clock shows 10:05:30 pm', true],
    ['12:00', 'Lunch is at 12:00 p.m.', true],
    // the a.m./p.m. reading is kept: 4:30 p.m. is not 4:30 on a 24-hour clock, and the wrong half of the day is wrong
    ['4:30', 'The answer is 4:30 p.m.', false],
    ['16:30', 'She arrives at 4:30 a.m.', false],
    ['16:30', 'Answer: 5:30 pm', false],
  ]);
});

test('24-hour times in plain text are read whole', async () => {
  await check('math', [
    ['16:30', 'The bus arrives at 16:30.', true, '16:30'],
    ['16:30', 'The answer is 16:30', true],
    ['4:30', 'Answer: 04:30', true],
    ['16:30', 'The bus arrives at 16:45.', false],
    ['16:30', 'He left at 16:30 and arrived at 18:00.', false, '18:00'],
  ]);
});

test('ratios in plain text are compared term by term', async () => {
  await check('math', [
    ['3:2', 'So the ratio of boys to girls is 3:2', true, '3:2'],
    ['1:2:3', 'The ratio is 1:2:3.', true, '1:2:3'],
    ['3:2', 'The answer is 3:2 (boys to girls).', true, '3:2'],
    ['1:4', '#### 1:4', true, '1:4'],
    ['3:2', 'The ratio is 6:4.', false], // term by term, never reduced
    ['3:2', 'The ratio is 2:3.', false],
    ['1:2:3', 'The ratio is 1:2:4.', false],
    ['3:2', 'Answer: 3', false],
  ]);
});

test('a plain-number gold is never matched by one term of a time or a ratio', async () => {
  await check('math', [
    ['30', 'He arrives at 4:30.', false],
    ['4', 'He arrives at 4:30 p.m.', false],
    ['7', 'Final time 10:07', false],
    ['16', 'The verse is John 3:16', false, '3:16'],
    ['2', 'The odds are 3:2', false],
    ['14', 'The final score was 21:14', false, '21:14'],
    // a number written after the time is still the last number
    ['90', 'From 3:00 to 4:30 is 90 minutes.', true, '90'],
    ['90', 'He ran from 3:00 to 4:30 p.m.; that is 90 minutes', true],
  ]);
  await check('gsm8k', [
    ['30', 'He arrives at 4:30.', false],
    ['7', 'Final time 10:07', false],
    ['90', 'From 3:00 to 4:30 is 90 minutes.', true],
  ]);
});

test('look-alikes keep their reading: answer lines, GSM8K markers, labels, addresses, timestamps, thousands', async () => {
  await check('math', [
    ['5', 'Answer: 5', true, '5'],
    ['5', 'She has 5 apples.\nAnswer: 5', true],
    ['18', 'She makes 9 * 2 = 18 dollars at 4:30 p.m.\n#### 18', true, '18'],
    ['12', 'Step 1: 5 apples\nStep 2: 7 apples\nTotal: 12', true, '12'],
    ['7', 'Step 1: 5\nStep 2: 7', true, '7'],
    ['8080', 'The server listens on http://10.0.0.1:8080', true, '8080'],
    ['1000', 'The ratio was 1,000:1 and the count is 1000', true, '1000'],
    ['3:2', 'The ratio is $3:2$.', true, '3:2'],
    ['16:30', '\\boxed{4:30 p.m.}', true, '4:30 p.m.'],
    ['3:2', 'Thus the ratio is \\boxed{3:2}.', true],
  ]);
  // an ISO timestamp is not a time token (no token starts after a letter)
  assert.notEqual(extractAnswer('logged 2024-01-15T10:30:00Z')?.text, '10:30:00');
});

test('the readers: last number and answer phrase give the whole token', () => {
  assert.equal(lastNumber('He arrives at 4:30 p.m. sharp'), '4:30 p.m.');
  assert.equal(lastNumber('the ratio 1.5:1'), '1.5:1');
  assert.equal(lastNumber('odds of 1:2:3:4'), '1:2:3:4');
  assert.equal(lastNumber('see 1.2.3.4:8080'), '8080');
  assert.equal(lastNumber('at 4:30 and then 5 more'), '5');
  assert.equal(trimAnswerPhrase('4:30 pm, sharp.'), '4:30 pm');
  assert.equal(trimAnswerPhrase('3:2 for the boys'), '3:2');
  assert.equal(trimAnswerPhrase('12'), '12');
});
