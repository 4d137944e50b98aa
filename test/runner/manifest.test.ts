/**
 * The run manifest records what DESIGN.md §5 lists: versions, machine, provider, the model id the server reports,
 * generation config, hashes and seeds. Uses the OpenAI-compatible test server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { getTemplate } from '../../src/core/templates.ts';
import { sha256 } from '../../src/core/hash.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { executeRun } from '../../src/runner/run.ts';
import { openSqlitePool } from '../../src/store/sqlite.ts';
import { messageText } from '../../src/core/schemas.ts';
import { collect } from '../helpers/collect.ts';
import { shared } from '../../testkit/shared.ts';

const GSM8K = shared('data/gsm8k/test.jsonl');

test('the manifest records versions, machine, provider, reported model id, config, hashes and seeds', async () => {
  const ds = await loadDataset(`gsm8k:${GSM8K}`);
  const server = await startFakeOpenAIServer({ answers: new Map(ds.samples.map((s) => [s.input as string, s.target])), modelId: 'served/qwen-test' });
  try {
    const pool = openSqlitePool(':memory:');
    const config = { temperature: 0.6, top_p: 0.95, max_tokens: 512, seed: 7, system_prompt: 'You are careful.', chat_template: true };
    const r = await executeRun({ pool, dataset: ds, template: getTemplate('math-boxed'), model: `openai-compatible:${server.url}#qwen-test`, config, epochs: 2, limit: 5, scorers: [createScorer('math')], bootstrapSeed: 11 });
    const run = (await pool.getRun(r.run_id))!;
    const m = run.manifest;
    assert.equal(m.toolkit.name, 'assay');
    assert.match(m.toolkit.version, /^\d+\.\d+\.\d+/);
    assert.equal(m.node, process.version);
    assert.ok(m.cpu.cores > 0 && m.os.platform.length > 0);
    assert.equal(m.provider.base_url, server.url);
    assert.equal(m.provider.requested_model, 'qwen-test');
    assert.deepEqual(m.provider.reported_model_ids, ['served/qwen-test']);
    assert.deepEqual(m.generation_config, config);
    assert.equal(m.template.hash, getTemplate('math-boxed').hash);
    assert.equal(m.dataset.hash, ds.hash);
    assert.deepEqual(m.seeds, { generation: 7, bootstrap: 11, reference: null });
    const planned = await collect(pool.iteratePlanned(r.run_id));
    assert.equal(planned.length, 5);
    assert.equal(planned[0]!.target_hash, sha256(ds.samples[0]!.target));
    assert.equal(messageText(planned[0]!.messages[0]!), 'You are careful.');
    assert.match(messageText(planned[0]!.messages[1]!), /\\boxed\{\}/);
    // epoch e sends seed + e, so repeats are independent draws and never share a cache entry
    const keys = new Set((await collect(pool.iterateAttempts(r.run_id))).map((a) => a.cache_key));
    assert.equal(keys.size, 10);
    await pool.close();
  } finally {
    await server.close();
  }
});
