/**
 * Extracting the final answer from a response (src/scorers/extract.ts), each kind tested with several spellings of our
 * own and with wrong answers that must stay wrong: answer lines that are not just a number, plain-text mixed numbers,
 * one box per list element, number words, multiple-choice letters (pronoun I, article A, `B. text`, a bare last line),
 * cut-off answers, linear time on repetition floods and huge factorials, the final-answer forms of a peer grader's
 * test suite (display math after "Answer", Minerva's sentence after intermediate boxes, "Final Answer: The volume …
 * is 120.", matrices outside a box), and the priority of extraction steps and the reduction of golds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScorer } from '../../src/scorers/registry.ts';
import {
  boxedAnswer, endsInsideBox, extractAnswer, extractChoice, extractGold, lastBoxed, lastNumber, leadingNumberWord, mixedNumber, scanBoxes,
} from '../../src/scorers/extract.ts';
import { compareLiteralFactorials, factorialProblem, structuralProblem } from '../../src/scorers/guard.ts';
import { HANG_MS, timed } from './helpers.ts';

type Row = [kind: string, gold: string, response: string, correct: boolean];

/** Grade every row with each scorer spec; collect every wrong verdict or verdict over 2 s, then assert none. */
async function check(specs: string[], rows: Row[]): Promise<void> {
  const failures: string[] = [];
  for (const spec of specs) {
    const scorer = createScorer(spec);
    for (const [kind, gold, response, correct] of rows) {
      const { v, ms } = await timed(scorer, gold, response);
      if ((v.value === 1) !== correct || ms >= HANG_MS) {
        failures.push(`${spec} ${kind}: gold ${JSON.stringify(gold)} vs ${JSON.stringify(response.slice(0, 160))} → ${JSON.stringify(v).slice(0, 240)} (${ms.toFixed(0)} ms)`);
      }
    }
  }
  assert.deepEqual(failures, []);
}

test('answer lines that are not just a number: the value is read from the line; math and gsm8k agree', async () => {
  const rows: Row[] = [
    ['A: one line', '42', 'A: Tom has 6 bags of 7 marbles, so 6*7 = 42 marbles. The answer is 42.', true],
    ['A: one line', '7', 'A: Tom has 6 bags of 7 marbles, so 6*7 = 42 marbles. The answer is 42.', false],
    ['A: sentences', '96', 'A: She reads 12 pages a day for 8 days. So she reads 12*8 = 96 pages.', true],
    ['A: sentences', '12', 'A: She reads 12 pages a day for 8 days. So she reads 12*8 = 96 pages.', false],
    ['count noun', '35', 'Each crate holds 5 melons and there are 7 crates.\nAnswer: 35 melons', true],
    ['count noun', '5', 'Each crate holds 5 melons and there are 7 crates.\nAnswer: 35 melons', false],
    ['count noun', '1250', 'Answer: 1,250 tickets', true],
    ['count noun', '36', 'Answer: 36 (eggs)', true],
    ['sentence', '64', 'Answer: After 4 weeks she has saved 64 dollars.', true],
    ['sentence', '4', 'Answer: After 4 weeks she has saved 64 dollars.', false],
    ['sentence with is', '27', 'Answer: The number of students left in the class is 27.', true],
    ['chain', '113', 'Answer: p+q = 100+13 = 113', true],
    ['chain', '100', 'Answer: p+q = 100+13 = 113', false],
    ['chain', '45', 'A: 9 * 5 = 45', true],
    ['labelled total', '89.99', 'Total: \\$89.99', true],
    ['labelled total', '89', 'Total: \\$89.99', false],
    ['labelled total', '2500', 'Total: $2,500', true],
    ['labelled result', '16', 'Result: 16', true],
    ['final answer line', '24', '**Final Answer:** 24 cookies', true],
    ['marker', '57', 'They need 19 * 3 = 57 chairs.\n#### 57', true],
    ['marker', '19', 'They need 19 * 3 = 57 chairs.\n#### 57', false],
  ];
  await check(['math', 'gsm8k'], rows);
  // answer labels inside display math, inside a box, inside inline math
  await check(['math'], [
    ['label in display math', '9', 'Thus\n\\[Answer: 009\\]', true],
    ['label in display math', '90', 'Thus\n\\[Answer: 009\\]', false],
    ['label in box', '25', '\\[\\boxed{\\text{Answer: }25}\\]', true],
    ['label in inline math', '14', 'so $Answer: 14$', true],
  ]);
});

test('plain-text mixed numbers are one value, never their whole part or fraction alone', async () => {
  const rows: Row[] = [
    ['mixed', '\\frac{11}{4}', 'Adding both bags, the answer is 2 3/4.', true],
    ['mixed', '2', 'Adding both bags, the answer is 2 3/4.', false],
    ['mixed', '\\frac{3}{4}', 'Adding both bags, the answer is 2 3/4.', false],
    ['mixed', '3.5', 'She walked 3 1/2 miles.', true],
    ['mixed', '3', 'She walked 3 1/2 miles.', false],
    ['mixed', '\\frac{1}{2}', 'She walked 3 1/2 miles.', false],
    ['mixed', '\\frac{22}{5}', 'Answer: 4 2/5', true],
    ['mixed', '4', 'Answer: 4 2/5', false],
    ['mixed', '-\\frac{7}{3}', '\\boxed{-2 1/3}', true],
    ['mixed', '-2', '\\boxed{-2 1/3}', false],
    ['mixed', '5', 'The answer is 5 0/0.', false],
    ['mixed with and', '\\frac{17}{5}', 'The answer is 3 and 2/5.', true],
    ['mixed with and', '3', 'The answer is 3 and 2/5.', false],
    ['vulgar fraction', '2.5', 'Each child gets 2½ oranges.', true],
    ['vulgar fraction', '2', 'Each child gets 2½ oranges.', false],
    ['vulgar fraction', '\\frac{5}{4}', '\\boxed{1¼}', true],
    ['fraction slash', '0.75', 'The answer is 3⁄4.', true],
    ['not mixed', '\\frac{9}{20}', 'The answer is 9/20.', true],
    ['not mixed', '4', 'There are 7 piles\n4/9 of them red, so 4', true],
  ];
  await check(['math'], rows);
  await check(['gsm8k'], rows.filter(([, g]) => !g.includes('\\')));
  assert.equal(mixedNumber('2 2/3'), '2\\frac{2}{3}');
  assert.equal(mixedNumber('-4 4/9.'), '-4\\frac{4}{9}');
  assert.equal(mixedNumber('11/10 4/9'), null);
  assert.equal(mixedNumber('11.0 4/9'), null);
  assert.equal(mixedNumber('11\n5/6'), null);
  assert.equal(lastNumber('we need 1 3/8 cups'), '1 3/8');
  assert.equal(extractGold('2 2/3'), '2\\frac{2}{3}');
});

test('a list given one box per element is one list; number words for small numbers', async () => {
  await check(['math'], [
    ['boxes', '2, 4, 8', 'The roots are \\boxed{2}, \\boxed{4} and \\boxed{8}.', true],
    ['boxes', '2, 4, 8', 'The roots are \\boxed{2}, \\boxed{4}.', false],
    ['boxes', '-1, 6', 'So $x = \\boxed{-1}$ or $x = \\boxed{6}$', false], // "x =" between boxes is not a list separator
    ['boxes', '-1, 6', 'So $x \\in \\{\\boxed{-1}, \\boxed{6}\\}$', true],
    ['boxes', '-1, 6', '\\[ \\boxed{6} \\quad \\text{and} \\quad \\boxed{-1} \\]', true],
    ['boxes', '-1', '\\[ \\boxed{6} \\quad \\text{and} \\quad \\boxed{-1} \\]', false],
    ['boxes', '3, 5', '$\\boxed{3}$, $\\boxed{5}$', true],
    ['boxes', '7', 'First I had \\boxed{5}. Checking again: \\boxed{7}', true],
    ['boxes', '5', 'First I had \\boxed{5}. Checking again: \\boxed{7}', false],
    ['boxes', '12', 'So the total is \\boxed{12}.\n\n\\boxed{12}', true], // a restated answer is one answer
    ['word', '7', 'After checking every case, the answer is seven.', true],
    ['word', '17', 'After checking every case, the answer is seven.', false],
    ['word', '14', 'The answer is fourteen apples.', true],
    ['word', '42', 'Answer: forty-two', true],
    ['word', '40', 'Answer: forty-two', false],
    ['word', '0', 'So the answer is zero.', true],
    ['word', '1', 'The answer is one of the roots, namely 3.', false],
    ['word', '3', 'The answer is one of the roots, namely 3.', true],
    ['word', '6', 'the answer is six hundred', false],
    ['word', '5', '\\boxed{\\text{five}}', true],
  ]);
  const s = 'x: \\boxed{1}, \\boxed{2}, and \\boxed{3}';
  assert.deepEqual(boxedAnswer(s, scanBoxes(s))?.text, '1, 2, 3');
  assert.deepEqual(leadingNumberWord('Twenty-one apples'), { value: '21', length: 10 });
  assert.equal(leadingNumberWord('one of them'), null);
  assert.equal(extractGold('seven'), 'seven'); // golds are written in digits; a word gold stays a word
});

test('multiple choice (A–J): pronoun I and article A are not options; `B. text` and a bare last letter are answers', async () => {
  await check(['choice'], [
    ['pronoun', 'D', 'Answer: I think it is D', true],
    ['pronoun', 'I', 'Answer: I think it is D', false],
    ['pronoun', 'G', "Answer: I'd go with G.", true],
    ['pronoun', 'F', 'The answer: I believe (F) is right.', true],
    ['option I', 'I', 'The answer is (I).', true],
    ['option I', 'I', 'Answer: I', true],
    ['option I', 'I', 'Answer: I. Isotopes', true],
    ['option I', 'I', 'The answer is I because the others are wrong.', true],
    ['article', 'E', 'Answer: A reasonable choice is E', true],
    ['article', 'A', 'Answer: A reasonable choice is E', false],
    ['article', 'A', 'The answer is A.', true],
    ['letter dot text', 'C', 'C. Photosynthesis', true],
    ['letter dot text', 'C', '**C. Photosynthesis**', true],
    ['letter dot text', 'H', 'H) 42 kJ/mol', true],
    ['letter dot text', 'A', 'C. Photosynthesis', false],
    ['bare last line', 'E', 'The enthalpy must be negative, which rules out most options.\n\nE', true],
    ['bare last line', 'E', 'Considering each option in turn...\n**(E)**', true],
    ['bare last line', 'B', 'Considering each option in turn...\n**(E)**', false],
    ['listed options', 'D', 'A. 1\nB. 2\nC. 3\nD. 4\nThe answer is (D).', true],
    ['listed options', 'A', 'A. 1\nB. 2\nC. 3\nD. 4\nThe answer is (D).', false],
    ['negation', 'C', 'The answer is not A; it is (C).', true],
    ['box', 'J', 'so the answer is \\boxed{J}', true],
  ]);
  assert.equal(extractChoice('Answer: I think it is C'), 'C');
  assert.equal(extractChoice('B. The mitochondria'), 'B');
  assert.equal(extractChoice('no letter here at all'), null);
});

test('cut-off answers: a response cut off inside its final box or its thinking is not credited with an earlier answer', async () => {
  const rows: Row[] = [
    ['cut in box', '30', 'First try: \\boxed{30}. No wait, I made an error; the correct total is \\boxed{', false],
    ['cut in box', '30', 'First try: \\boxed{30}. No wait, I made an error; the correct total is \\boxed{3', false],
    ['cut in box', '30', 'First try: \\boxed{30}. Recounting gives \\boxed{\\frac{61}{2', false],
    ['cut in box', '30', 'First try: \\boxed{30}. Recounting gives \\boxed', false],
    ['cut in box', '30', 'So far 30. The answer is \\boxed{', false],
    ['cut in box tokens', '30', 'So far 30. <|begin_of_box|>3', false],
    ['cut in fbox', '30', 'First \\fbox{30}, then \\fbox {31', false],
    ['cut in thinking', '30', '<think>Maybe \\boxed{30}? Let me verify by recounting the', false],
    ['cut in thinking', '30', '<think>The answer is 30, but let me check', false],
    ['complete', '30', 'First try: \\boxed{29}. Recounting gives \\boxed{30}.', true],
    ['complete', '30', '<think>maybe 29</think>The answer is \\boxed{30}.', true],
  ];
  await check(['math'], rows);
  await check(['gsm8k'], rows);
  await check(['choice'], [
    ['cut in box', 'B', 'It could be \\boxed{B}. Hmm, actually the answer is \\boxed{', false],
    ['cut in thinking', 'B', '<think>The answer is (B), but let me check option C', false],
    ['complete', 'B', '<think>(C)?</think>The answer is (B).', true],
  ]);
  const v = await createScorer('math').score({ id: 's', input: 'q', target: '30', metadata: {} }, 'Got \\boxed{30}, redo: \\boxed{');
  assert.equal(v.status, 'no_answer');
  assert.match(v.explanation ?? '', /cut off inside its final \\boxed\{/);
  // the low-level reader still skips an unclosed box; the response-level rule refuses it
  assert.equal(lastBoxed('\\boxed{3} then \\boxed{4'), '3');
  assert.ok(endsInsideBox(scanBoxes('\\boxed{3} then \\boxed{4')));
  assert.ok(!endsInsideBox(scanBoxes('\\boxed{3} then \\boxed{4}')));
  assert.equal(extractAnswer('\\boxed{3} then \\boxed{4'), null);
});

test('time: 700 KB repetition floods are graded by math, choice and gsm8k without a runaway; huge factorials are refused', async () => {
  const size = 700_000;
  const flood = (unit: string, end = '') => unit.repeat(Math.round(size / unit.length)) + end;
  const shapes: Array<[string, string]> = [
    ['unclosed boxes', flood('\\boxed{', '7')],
    ['unclosed fbox with spaces', flood('\\fbox {', '7')],
    ['closed boxes', flood('\\boxed{1} ', '\\boxed{5}')],
    ['reasoning lines', flood('So 4 + 4 = 8, and 8 + 1 = 9. Let me double-check that again.\n')],
    ['answer lines', flood('Answer: 9\n')],
    ['answer with spaces', flood('the answer is' + ' '.repeat(3000))],
    ['choice lines', flood('The answer is (B). Wait, maybe (C). ')],
    ['unclosed spans', flood('$\\( \\[ 1 ')],
    ['braces', flood('{')],
    ['unclosed think', '<think>' + flood('maybe \\boxed{9}. ')],
  ];
  const failures: string[] = [];
  for (const spec of ['math', 'choice', 'gsm8k']) {
    const scorer = createScorer(spec);
    for (const [name, response] of shapes) {
      const { v, ms } = await timed(scorer, spec === 'choice' ? 'B' : '9', response);
      if (ms >= HANG_MS) failures.push(`${spec} ${name}: ${ms.toFixed(0)} ms`);
      if (!['ok', 'no_answer'].includes(v.status)) failures.push(`${spec} ${name}: ${JSON.stringify(v).slice(0, 200)}`);
    }
  }
  assert.deepEqual(failures, []);
  // the cut-off flood is never credited with anything
  assert.equal(extractAnswer(flood('\\boxed{', '9')), null);

  // huge factorials: refused or decided without any evaluator, well inside the budget, never a timeout
  const math = createScorer('math');
  for (const [gold, response, value] of [
    ['100000!', '100001!', 0],
    ['100001!', '\\boxed{100000!}', 0],
    ['100000!', 'The answer is $100000!$', 1], // in prose, `is 42!` is an exclamation; in math it is a factorial
    ['12', '\\boxed{100001!}', 0],
    ['12', '\\boxed{(10^{6})!}', 0],
    ['12', '\\boxed{((5!)!)!}', 0],
    ['120', '\\boxed{5!}', 1],
    ['720', '\\boxed{(3!)!}', 1],
  ] as const) {
    const { v, ms } = await timed(math, gold, response);
    assert.ok(ms < HANG_MS, `${gold} vs ${response}: ${ms} ms`);
    assert.notEqual(v.status, 'grader_timeout', `${gold} vs ${response}`);
    assert.equal(v.value, value, `${gold} vs ${response}: ${JSON.stringify(v)}`);
  }
  assert.match(factorialProblem('100001!') ?? '', /^factorial/);
  assert.match(structuralProblem('3 + (10^{6})!') ?? '', /^factorial/);
  assert.equal(factorialProblem('\\frac{1}{2024!}'), null);
  assert.equal(factorialProblem('(n+1)!'), null);
  assert.equal(factorialProblem('x != 3'), null);
  assert.equal(compareLiteralFactorials('100000!', '100001!'), 'ne');
  assert.equal(compareLiteralFactorials('0!', '1!'), 'eq');
  assert.equal(compareLiteralFactorials('100000!', '42'), 'ne');
  assert.equal(compareLiteralFactorials('5!', '120'), null);
});

test("a peer grader's final-answer forms: display math after Answer, Minerva's sentence, Final Answer sentences, matrices", async () => {
  await check(['math'], [
    ['display after Answer', '16', 'Answer \\[ 16 \\]', true],
    ['display after Answer', '16', 'Answer $$ 16 $$', true],
    ['display after Answer', '16', 'Answer \\( 16 \\)', true],
    ['display after Answer', '16', 'Answer \\[\n16\n\\]', true],
    ['display after Answer', '\\frac{3}{7}', '**Answer**\n\\[\n\\frac{3}{7}\n\\]', true],
    ['display after Answer', '7', '**Answer**\n\\[\n\\frac{3}{7}\n\\]', false],
    ['Minerva after boxes', '2650', 'Interest: $0.05 \\cdot 1000 = \\boxed{50}$, then $\\boxed{600}$ more. Final Answer: The final answer is $2,650$. I hope it is correct.', true],
    ['Minerva after boxes', '600', 'Interest: $0.05 \\cdot 1000 = \\boxed{50}$, then $\\boxed{600}$ more. Final Answer: The final answer is $2,650$. I hope it is correct.', false],
    ['Minerva', '\\frac{5}{3}', 'So $b = \\frac{5}{3}$. Final Answer: The final answer is $\\frac{5}{3}$. I hope it is correct.', true],
    ['box then comment', '8', 'The answer is \\boxed{8}. The answer is not 9, as checked.', true],
    ['box then comment', '8', '\\boxed{8}\n\nThe answer is reasonable because 8 < 10.', true],
    ['Final Answer sentence', '84', 'Final Answer: The area of triangle $PQR$ is 84. I hope it is correct.', true],
    ['Final Answer sentence', '12', 'Final Answer: The area of triangle $PQR$ is 84. I hope it is correct.', false],
    ['Final Answer sentence', '6', 'Final Answer: Maria needs 6 more boxes. I hope it is correct.', true],
    ['Final Answer sentence', '\\frac{1}{4}', 'Final Answer: The probability that both coins land heads is $\\frac{1}{4}$.', true],
    ['matrix outside a box', '\\begin{pmatrix} 2 & 0 \\\\ 0 & 3 \\end{pmatrix}', 'The product is $\\begin{pmatrix} 2 & 0 \\\\ 0 & 3 \\end{pmatrix}$.', true],
    ['matrix outside a box', '3', 'The product is $\\begin{pmatrix} 2 & 0 \\\\ 0 & 3 \\end{pmatrix}$.', false],
    ['matrix outside a box', '\\begin{pmatrix} 2 \\\\ -1 \\end{pmatrix}', 'Hence the vector is\n\\[\n\\begin{pmatrix} 2 \\\\ -1 \\end{pmatrix}.\n\\]', true],
    ['matrix outside a box', '-1', 'Hence the vector is\n\\[\n\\begin{pmatrix} 2 \\\\ -1 \\end{pmatrix}.\n\\]', false],
    ['matrix outside a box', '\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}', 'So M is \\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}', true],
    ['matrix outside a box', '\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}', 'So M is \\begin{bmatrix} 1 & 2 \\\\ 3 & 5 \\end{bmatrix}', false],
    ['math span, not its last digit', '\\frac{5}{8}', 'So the probability is $\\frac{5}{8}$.', true],
    ['math span, not its last digit', '8', 'So the probability is $\\frac{5}{8}$.', false],
    ['math span, not its last digit', '2', 'Therefore the count is $2^{5}$.', false],
  ]);
});

test('ordinary outputs still extract as before (no regressions of the old priority)', () => {
  const cases: Array<[string, string, string]> = [
    ['The final answer is $\\frac{3}{4}$.', '\\frac{3}{4}', 'answer_phrase'],
    ['I think it is 3, maybe 4.', '4', 'last_number'],
    ['so #### 1,234', '1,234', 'gsm8k_marker'],
    ['\\boxed{\\frac{1}{2}}. Simplifying further gives \\boxed{\\{1,2\\}}', '\\{1,2\\}', 'boxed'],
    ['x = 5', 'x = 5', 'bare'],
    ['<|begin_of_box|>42<|end_of_box|>', '42', 'box_tokens'],
  ];
  for (const [response, text, method] of cases) assert.deepEqual(extractAnswer(response), { text, method }, response);
});

test('extraction priority and gold reduction', () => {
  assert.equal(lastBoxed('\\boxed{\\frac{1}{2}} and \\boxed{\\{1,2\\}}'), '\\{1,2\\}');
  assert.equal(lastBoxed('\\boxed{3} then \\boxed{4'), '3');
  assert.equal(extractAnswer('The final answer is $\\frac{3}{4}$.')?.text, '\\frac{3}{4}');
  assert.equal(extractAnswer('I think it is 3, maybe 4.')?.method, 'last_number');
  assert.equal(extractGold('x = <<1+1=2>>2\n#### 2'), '2');
  assert.equal(extractGold('so 2\nA: 2'), '2');
  assert.equal(extractGold('\\frac{1}{2}'), '\\frac{1}{2}');
});

test('a line that is one bold number is the answer over later explanation; a bold heading is not', async () => {
  const math = createScorer('math');
  for (const r of ['**8**\n\nThere were 7 candidates, and 3 dropped out.', '**x = 8**\n\nThe 7 others failed.', '**$8$**\n\nWe checked 7 cases.']) {
    assert.deepEqual(extractAnswer(r)?.method, 'bold', r);
    assert.equal(((await math.score({ id: 's', input: 'q', target: '8', metadata: {} }, r)) as { value: number }).value, 1, r);
  }
  assert.deepEqual(extractAnswer('**Step 3**\n\nSo 3 + 4 = 7'), { text: '7', method: 'last_number' });
  assert.deepEqual(extractAnswer('**8**\n\nThe answer is 7.'), { text: '7', method: 'answer_phrase' }); // a stated answer wins
});
