/**
 * Runs and provenance: `--no-cache` means what it says — no stored response of another run is copied into
 * a run, and a run run again with it says plainly that its own stored attempts were kept, not asked again, and that
 * `--new-run` asks again; `--new-run` reuses nothing stored (a server that changed must not have its predecessor's
 * answers copied into the new run); the manifest and the model record keep what the server reports.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cacheNotes } from '../../src/cli/common.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { openPool } from '../../src/store/open.ts';
import { defineTask } from '../../src/tasks/task.ts';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'assay-provenance-'));
const samples = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, input: `Question ${i}: what is ${i}+${i}?`, target: String(2 * i), metadata: {} }));
const gold = (q: string) => {
  const m = /(\d+)\+(\d+)/.exec(q);
  return m ? String(Number(m[1]) + Number(m[2])) : undefined;
};
let server: FakeOpenAIServer;
before(async () => {
  server = await startFakeOpenAIServer({ gold, modelId: 'org/a', systemFingerprint: 'fp_1', headers: { server: 'vllm-fake/0.1' }, recordRequests: true });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const task = defineTask({ name: 'add', dataset: { name: 'add', samples }, scorers: ['math'], epochs: 2 });
const other = defineTask({ name: 'add-exact', dataset: { name: 'add', samples }, scorers: ['exact'], epochs: 2 });

test('--no-cache: nothing of another run is copied, a run keeps its own attempts and says so; --new-run asks again; the manifest keeps what the server reports', async () => {
  await using pool = await openPool('memory:');
  const model = `openai-compatible:${server.url}#a`;
  const asked = () => server.received.length;
  const r1 = (await evaluate([task], [model], { pool, backoffBaseMs: 1 })).cells[0]!;
  assert.equal(r1.result.status, 'complete');
  assert.deepEqual([r1.result.executed, r1.result.cached, r1.result.cache], [10, 0, true]);
  const run = (await pool.getRun(r1.run_id))!;
  assert.deepEqual(run.manifest.provider.reported_model_ids, ['org/a']);
  assert.deepEqual(run.manifest.provider.system_fingerprints, ['fp_1']);
  assert.equal(run.manifest.provider.server?.server, 'vllm-fake/0.1');
  assert.deepEqual((await pool.getModel(model))?.system_fingerprints, ['fp_1'], 'the model record keeps the fingerprints too');

  // The same command again, with and without --no-cache: nothing asked, and it says why.
  let n = asked();
  const again = (await evaluate([task], [model], { pool, cache: false })).cells[0]!.result;
  assert.deepEqual([again.executed, again.resumed, asked() - n], [0, 10, 0]);
  const [noCacheNote] = cacheNotes(again, true);
  assert.match(noCacheNote ?? '', /--no-cache: the 10 attempts this run had already stored were kept, not asked again .* --new-run/);
  const plain = (await evaluate([task], [model], { pool })).cells[0]!.result;
  assert.match(cacheNotes(plain, false)[0] ?? '', /nothing was asked: all 10 attempts were already stored .* --new-run/);

  // Another run with the same requests (another scorer): by default its attempts are copied from the first run's
  // stored responses (the cache) and it says so; with --no-cache every one is asked.
  n = asked();
  const copied = (await evaluate([other], [model], { pool })).cells[0]!.result;
  assert.deepEqual([copied.executed, copied.cached, asked() - n], [10, 10, 0]);
  assert.match(cacheNotes(copied, false)[0] ?? '', /10 of the 10 attempts made were copied from stored responses of other runs/);
  await using pool2 = await openPool('memory:');
  await evaluate([task], [model], { pool: pool2 });
  n = asked();
  const fresh = (await evaluate([other], [model], { pool: pool2, cache: false })).cells[0]!.result;
  assert.deepEqual([fresh.executed, fresh.cached, fresh.cache, asked() - n], [10, 0, false, 10]);
  assert.deepEqual(cacheNotes(fresh, true), []);

  // The server changes behind the same address: the same command stops (nothing to ask here: complete runs ask
  // nothing); --new-run asks every attempt anew — none copied from the old server's answers — and records the new one.
  server.setIdentity({ modelId: 'org/b', systemFingerprint: 'fp_2' });
  n = asked();
  const renewed = (await evaluate([task], [model], { pool, newRun: 'new-run:server-b' })).cells[0]!;
  assert.equal(renewed.result.status, 'complete');
  assert.notEqual(renewed.run_id, r1.run_id);
  assert.deepEqual([renewed.result.executed, renewed.result.cached, renewed.result.cache, asked() - n], [10, 0, false, 10]);
  const m2 = (await pool.getRun(renewed.run_id))!.manifest.provider;
  assert.deepEqual([m2.reported_model_ids, m2.system_fingerprints], [['org/b'], ['fp_2']]);
  for await (const a of pool.iterateAttempts(renewed.run_id)) assert.equal(a.model_id, 'org/b');
  assert.deepEqual((await pool.getModel(model))?.system_fingerprints, ['fp_1', 'fp_2']);
  server.setIdentity({ modelId: 'org/a', systemFingerprint: 'fp_1' });
});

test('`assay run --no-cache` on a complete run says that nothing was asked and how to ask again', async () => {
  const file = join(dir, 'add.jsonl');
  writeFileSync(file, samples.map((s) => JSON.stringify({ id: s.id, question: s.input, answer: s.target })).join('\n') + '\n');
  const pool = join(dir, 'cli.sqlite');
  const run = (extra: string[]) => new Promise<{ code: number | null; err: string }>((res) => {
    const child = spawn(process.execPath, [BIN, 'run', '--dataset', file, '--model', `openai-compatible:${server.url}#a`, '--scorer', 'math', '--pool', pool, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => res({ code, err }));
  });
  const first = await run([]);
  assert.equal(first.code, 0, first.err);
  const again = await run(['--no-cache']);
  assert.equal(again.code, 0, again.err);
  assert.match(again.err, /0 attempts made, 5 already stored/);
  assert.match(again.err, /assay: --no-cache: the 5 attempts this run had already stored were kept, not asked again/);
  assert.match(again.err, /run the same command with --new-run/);
});

test('`assay sweep --no-cache` asks the server for every cell instead of copying stored responses of other runs (as `assay run` does)', async () => {
  const file = join(dir, 'sweep.jsonl');
  writeFileSync(file, samples.map((s) => JSON.stringify({ id: s.id, question: s.input, answer: s.target })).join('\n') + '\n');
  const pool = join(dir, 'sweep.sqlite');
  const sweep = (extra: string[]) => new Promise<{ code: number | null; err: string }>((res) => {
    const child = spawn(process.execPath, [BIN, 'sweep', '--dataset', file, '--model', `openai-compatible:${server.url}#a`, '--temperature', '0,1', '--seeds', '0', '--replicates', '100', '--pool', pool, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => res({ code, err }));
  });
  let n = server.received.length;
  const first = await sweep(['--scorer', 'math']);
  assert.equal(first.code, 0, first.err);
  assert.equal(server.received.length - n, 10, '2 cells × 5 samples asked');
  // the same grid under another scorer: other runs, the same requests — copied by default, and said so
  n = server.received.length;
  const copied = await sweep(['--scorer', 'exact']);
  assert.equal(copied.code, 0, copied.err);
  assert.equal(server.received.length - n, 0);
  assert.match(copied.err, /5 of the 5 attempts made were copied from stored responses of other runs/);
  // and with --no-cache (a third scorer, so new runs again): every cell asked
  n = server.received.length;
  const fresh = await sweep(['--scorer', 'gsm8k', '--no-cache']);
  assert.equal(fresh.code, 0, fresh.err);
  assert.equal(server.received.length - n, 10, '--no-cache: 2 cells × 5 samples asked again');
  assert.doesNotMatch(fresh.err, /copied from stored responses/);
});
