/**
 * The runner's bookkeeping against a local OpenAI-compatible server written for the tests (no real model runs here):
 * settings a provider cannot send are warned about and recorded as not sent; what the server says about itself is
 * recorded; a resumed run that meets a server reporting another model or fingerprint stops before storing anything,
 * and `newRun` starts a separate, labelled run. Also: multi-turn transcripts, stop sequences cut what is graded, and
 * the same command resumes without new calls.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openPool } from '../../src/store/open.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { defineTask } from '../../src/tasks/task.ts';
import { multiTurn } from '../../src/solvers/builtin.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { regrade } from '../../src/runner/rescore.ts';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const samples = Array.from({ length: 6 }, (_, i) => ({ id: `s${i}`, input: `Question ${i}: what is ${i}+${i}?`, target: String(2 * i), metadata: { turns: [`Question ${i}: what is ${i}+${i}?`, 'Are you sure?'] } }));
const gold = (q: string) => {
  const m = /(\d+)\+(\d+)/.exec(q);
  return m ? String(Number(m[1]) + Number(m[2])) : undefined;
};
let server: FakeOpenAIServer;
before(async () => {
  server = await startFakeOpenAIServer({ gold, modelId: 'org/model-a', systemFingerprint: 'fp_1', headers: { server: 'vllm-fake/0.1', 'x-request-id': 'secret-per-request' }, recordRequests: true });
});
after(async () => server.close());

const task = defineTask({ name: 'add', dataset: { name: 'add', samples }, scorers: ['math'], epochs: 2, config: { seed: 3, top_k: 20 } });

test('unsent settings are warned and recorded; the server identity is recorded; a changed server stops the resumed run', async () => {
  await using pool = await openPool('memory:');
  const warnings: string[] = [];
  // `openai:` addresses talk to the OpenAI API, which has no top_k: it must not be sent.
  process.env.OPENAI_API_KEY = 'test-key';
  process.env.OPENAI_BASE_URL = server.url;
  const model = 'openai:org/model-a';
  const r1 = await evaluate([task], [model], { pool, warn: (m) => warnings.push(m), backoffBaseMs: 1 });
  assert.equal(r1.status, 'complete');
  assert.ok(warnings.some((w) => /top_k=20/.test(w)), warnings.join('\n'));
  assert.ok(server.received.length > 0 && server.received.every((b) => !('top_k' in b)), 'top_k never reaches the OpenAI API');
  const run = (await pool.getRun(r1.cells[0]!.run_id))!;
  assert.deepEqual(run.manifest.provider.unsent_settings?.map((u) => u.setting), ['top_k']);
  assert.equal((run.manifest.generation_config as Record<string, unknown>).top_k, undefined, 'the manifest config holds what was sent');
  assert.equal(run.spec.config.top_k, 20, 'the spec keeps what was asked');
  assert.deepEqual(run.manifest.provider.reported_model_ids, ['org/model-a']);
  assert.deepEqual(run.manifest.provider.system_fingerprints, ['fp_1']);
  assert.equal(run.manifest.provider.server?.server, 'vllm-fake/0.1');
  assert.equal(run.manifest.provider.server?.['x-request-id'], undefined, 'per-request ids are not identity');

  // The same command again: resumes (nothing to do), no calls.
  const before = server.received.length;
  const again = await evaluate([task], [model], { pool, backoffBaseMs: 1 });
  assert.equal(again.cells[0]!.result.executed, 0);
  assert.equal(server.received.length, before);

  // The server now reports another fingerprint: a resumed run with missing attempts must not mix the two.
  await pool.writeMeasurements([]);
  const bigger = defineTask({ ...task.definition, version: 2, epochs: 3 });
  const r2 = await evaluate([bigger], [model], { pool, backoffBaseMs: 1 });
  assert.equal(r2.status, 'complete', 'a new run (epochs changed) on the same server is fine');
  server.setIdentity({ systemFingerprint: 'fp_2' });
  const dataset = { name: 'add', samples: [...samples, { id: 's9', input: 'Question 9: what is 9+9?', target: '18', metadata: {} }] };
  const grown = defineTask({ ...bigger.definition, version: 3, dataset });
  const first = await evaluate([grown], [model], { pool, backoffBaseMs: 1 });
  assert.equal(first.status, 'complete', 'a run that never talked to the old server accepts the new one');
  // Resume the 3-epoch run after deleting nothing: it is complete, so no call is made and nothing is compared.
  const resumed = await evaluate([bigger], [model], { pool, backoffBaseMs: 1, limit: undefined });
  assert.equal(resumed.cells[0]!.result.executed, 0);
});

test('a resumed run that meets a different server stops before storing any of its answers; newRun starts a labelled run', async () => {
  await using pool = await openPool('memory:');
  server.setIdentity({ modelId: 'org/model-a', systemFingerprint: 'fp_1' });
  const model = `openai-compatible:${server.url}#model-a`;
  const ac = new AbortController();
  // First invocation: interrupted after a few attempts (Ctrl-C).
  let n = 0;
  const r1 = await evaluate([task], [model], {
    pool, concurrency: 1, signal: ac.signal, backoffBaseMs: 1,
    progress: () => ({ start() {}, tick() { if (++n === 3) ac.abort(); }, stop() {} }),
  });
  assert.equal(r1.status, 'interrupted');
  const runId = r1.cells[0]!.run_id;
  const stored = (await pool.counts(runId)).attempts;
  assert.ok(stored >= 3 && stored < 12, `${stored}`);
  // The server is now another model: the resumed run stops, and nothing of the new server is stored.
  server.setIdentity({ modelId: 'org/model-b' });
  const r2 = await evaluate([task], [model], { pool, concurrency: 4, backoffBaseMs: 1 });
  assert.equal(r2.status, 'failed');
  assert.match(r2.cells[0]!.result.abort_reason ?? '', /now reports model "org\/model-b".*"org\/model-a".*--new-run/s);
  assert.equal((await pool.counts(runId)).attempts, stored, 'no answer of the other server was stored');
  // --new-run: a separate run, labelled; the old one is untouched.
  const r3 = await evaluate([task], [model], { pool, backoffBaseMs: 1, newRun: 'new-run:server-b' });
  assert.equal(r3.status, 'complete');
  assert.notEqual(r3.cells[0]!.run_id, runId);
  assert.equal((await pool.getRun(r3.cells[0]!.run_id))!.spec.label, 'new-run:server-b');
  assert.deepEqual((await pool.getRun(r3.cells[0]!.run_id))!.manifest.provider.reported_model_ids, ['org/model-b']);
  assert.equal((await pool.counts(runId)).attempts, stored);
  server.setIdentity({ modelId: 'org/model-a' });
});

test('multi-turn attempts store every turn; stop sequences cut what is graded, not what is stored', async () => {
  await using pool = await openPool('memory:');
  const model = `openai-compatible:${server.url}#model-a`;
  const mt = defineTask({ name: 'mt', dataset: { name: 'add', samples }, solver: multiTurn(), scorers: ['math'] });
  const r = await evaluate([mt], [model], { pool, backoffBaseMs: 1 });
  assert.equal(r.status, 'complete');
  for await (const a of pool.iterateAttempts(r.cells[0]!.run_id, 'math')) {
    assert.deepEqual(a.transcript?.map((m) => m.role), ['user', 'assistant', 'user', 'assistant']);
    assert.equal(a.transcript?.[2]?.content, 'Are you sure?');
  }
  // A base model that runs on into the next few-shot question (a replayed response: nothing cut it at generation
  // time): only the text before the task's stop sequence is graded; the stored response keeps everything.
  const dir = mkdtempSync(join(tmpdir(), 'assay-runon-'));
  const file = join(dir, 'runon.jsonl');
  writeFileSync(file, samples.map((x) => JSON.stringify({ id: x.id, response: `The answer is ${x.target}.\n\nQuestion: what is 5+5? The answer is 10.` })).join('\n') + '\n');
  const graded = async (stop: string[] | undefined) => {
    const t = defineTask({ name: stop ? 'runon-stop' : 'runon', dataset: { name: 'add', samples }, scorers: ['math'], ...(stop ? { config: { stop } } : {}) });
    const r2 = await evaluate([t], [`replay:${file}`], { pool });
    const out: Record<string, number | null> = {};
    for await (const a of pool.iterateAttempts(r2.cells[0]!.run_id, 'math')) {
      assert.match(a.response ?? '', /Question: what is 5\+5/, 'the stored response is whole');
      out[a.sample_id] = a.measurement?.value ?? null;
    }
    return out;
  };
  const withStop = await graded(['\n\nQuestion:']);
  assert.deepEqual(Object.values(withStop), samples.map(() => 1), 'graded on the answer before the run-on');
  // Re-grading a stored run cuts at the run's stop sequences too.
  const stopRun = (await pool.listRuns()).find((r) => r.task === 'runon-stop@1')!;
  const rescorer = createScorer('math?relTol=0.001');
  await regrade(pool, stopRun.id, rescorer);
  for await (const a of pool.iterateAttempts(stopRun.id, rescorer.name)) assert.equal(a.measurement?.value, 1, `re-graded ${a.sample_id}`);
  const withoutStop = await graded(undefined);
  assert.deepEqual(Object.entries(withoutStop).filter(([, v]) => v === 1).map(([k]) => k), ['s5'], 'without the stop sequence the run-on answer (10) is read');
});
