/**
 * The ceilings of epochs and concurrency (src/core/limits.ts) hold in the library as at the CLI flags: a task
 * definition, a task file (with its file and line), `evaluate` options and `executeRun` options beyond them are
 * refused with an InputError naming the field, before any pool is opened or run stored.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { MAX_CONCURRENCY, MAX_EPOCHS } from '../../src/core/limits.ts';
import * as cli from '../../src/cli/common.ts';
import { getTemplate } from '../../src/core/templates.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { executeRun } from '../../src/runner/run.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { openPool } from '../../src/store/open.ts';
import { defineTask, loadTasks } from '../../src/tasks/index.ts';

const inputError = (field: string, message: RegExp) => (e: unknown) => {
  assert.ok(e instanceof InputError, String(e));
  assert.equal(e.where.field, field);
  assert.match(e.message, message);
  return true;
};

test('the CLI flags and the library share one set of ceilings', () => {
  assert.equal(cli.MAX_EPOCHS, MAX_EPOCHS);
  assert.equal(cli.MAX_CONCURRENCY, MAX_CONCURRENCY);
  assert.deepEqual([MAX_EPOCHS, MAX_CONCURRENCY], [100_000, 4096]);
});

test('defineTask: epochs above the ceiling are refused, the ceiling itself is accepted', () => {
  assert.equal(defineTask({ name: 'a', dataset: 'gsm8k', epochs: MAX_EPOCHS }).spec.epochs, MAX_EPOCHS);
  assert.throws(() => defineTask({ name: 'a', dataset: 'gsm8k', epochs: MAX_EPOCHS + 1 }), inputError('epochs', /^field "epochs": task "a": epochs must be an integer from 1 to 100,000, got 100001$/));
  assert.throws(() => defineTask({ name: 'a', dataset: 'gsm8k', epochs: 0 }), inputError('epochs', /epochs must be an integer from 1 to 100,000, got 0$/));
});

test('a task file: epochs above the ceiling are refused with the file, line and field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-limits-'));
  const file = join(dir, 'big.yaml');
  writeFileSync(file, 'name: a\ndataset: gsm8k\nscorers: [math]\nepochs: 100001\n');
  await assert.rejects(loadTasks(file), (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.deepEqual([e.where.line, e.where.field], [4, 'epochs']);
    assert.match(e.message, /big\.yaml:4 field "epochs": epochs must be at most 100,000$/);
    return true;
  });
  writeFileSync(file, 'name: a\ndataset: gsm8k\nscorers: [math]\nepochs: 100000\n');
  assert.equal((await loadTasks(file))[0]!.spec.epochs, 100_000);
});

test('evaluate: epochs and concurrency above the ceilings are refused before the pool is opened', async () => {
  const task = defineTask({ name: 'a', dataset: { name: 'tiny', samples: [{ id: 's0', input: '1 + 1', target: '2', metadata: {} }] }, scorers: ['math'] });
  let opened = 0;
  const pool = async () => {
    opened++;
    return openPool('memory:');
  };
  await assert.rejects(evaluate(task, 'reference:oracle', { pool, epochs: MAX_EPOCHS + 1 }), inputError('epochs', /^field "epochs": epochs must be an integer from 1 to 100,000, got 100001$/));
  await assert.rejects(evaluate(task, 'reference:oracle', { pool, concurrency: MAX_CONCURRENCY + 1 }), inputError('concurrency', /^field "concurrency": concurrency must be an integer from 1 to 4,096, got 4097$/));
  await assert.rejects(evaluate(task, 'reference:oracle', { pool, concurrency: 0 }), inputError('concurrency', /got 0$/));
  assert.equal(opened, 0);
});

test('executeRun: epochs and concurrency above the ceilings are refused before a run is stored', async () => {
  const pool = await openPool('memory:');
  try {
    const base = {
      pool, dataset: { ref: 'tiny', name: 'tiny', path: null, hash: 'h'.repeat(64), samples: [{ id: 's0', input: '1 + 1', target: '2', metadata: {} }] },
      template: getTemplate('plain'), model: 'reference:oracle', config: { seed: 0 }, scorers: [createScorer('math')],
    } as unknown as Parameters<typeof executeRun>[0];
    await assert.rejects(executeRun({ ...base, epochs: MAX_EPOCHS + 1 }), inputError('epochs', /^field "epochs": epochs must be an integer from 1 to 100,000, got 100001$/));
    await assert.rejects(executeRun({ ...base, epochs: 1, concurrency: MAX_CONCURRENCY + 1 }), inputError('concurrency', /^field "concurrency": concurrency must be an integer from 1 to 4,096, got 4097$/));
    assert.deepEqual(await pool.listRuns(), []);
  } finally {
    await pool.close();
  }
});
