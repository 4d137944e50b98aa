/**
 * Labels shortened for display: plot labels are cut in the middle so runs that differ only at the end stay distinct;
 * dataset refs are shortened to their file name, keeping the loader prefix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortDataset } from '../../src/analyses/outcomes.ts';
import { shortLabel } from '../../src/report/svg.ts';

test('plot labels are shortened in the middle so runs that differ only at the end stay distinct', () => {
  const labels = ['openai-compatible:http://127.0.0.1:18777/v1#fake-model temperature=—', 'openai-compatible:http://127.0.0.1:18777/v1#fake-model temperature=0.3', 'replay:model_solutions.jsonl#175b_verification', 'replay:model_solutions.jsonl#175b_finetuning'];
  for (const max of [14, 24, 48]) {
    const short = labels.map((l) => shortLabel(l, max));
    assert.equal(new Set(short).size, labels.length, short.join(' | '));
    for (const s of short) assert.ok(s.length <= max);
  }
  assert.equal(shortLabel('abc', 14), 'abc');
});

test('dataset refs are shortened to their file name for display, keeping the loader prefix', () => {
  assert.equal(shortDataset('gsm8k:/work/shared/data/gsm8k/test.jsonl'), 'gsm8k:test.jsonl');
  assert.equal(shortDataset('/tmp/x/d50.jsonl'), 'd50.jsonl');
  assert.equal(shortDataset('d50.jsonl'), 'd50.jsonl');
  assert.equal(shortDataset('gsm8k'), 'gsm8k');
});
