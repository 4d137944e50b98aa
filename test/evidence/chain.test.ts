/**
 * Tamper-evident results: every attempt and measurement written through a pool is chained; `verifyRun` and
 * `verifyEvidenceFile` name the first record changed, removed or reordered — in a SQLite pool edited directly and in
 * an exported evidence file edited by hand; a wrong key fails; a resumed run (the real runner) verifies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openPool } from '../../src/store/open.ts';
import type { ChainLink, Pool } from '../../src/store/types.ts';
import { collect } from '../helpers/collect.ts';
import { initSigningKey, loadPublicKey, type SigningKey } from '../../src/evidence/keys.ts';
import { signRun } from '../../src/evidence/sign.ts';
import { exportEvidence, verifyEvidenceFile, verifyRun } from '../../src/evidence/bundle.ts';
import { CHAIN_START, linkChain } from '../../src/store/chain-records.ts';
import { sha256 } from '../../src/core/hash.ts';
import { attemptOf, measurementOf, plan, runOf, sampleOf } from '../store/conformance.ts';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { getTemplate } from '../../src/core/templates.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { executeRun } from '../../src/runner/run.ts';
import { shared } from '../../testkit/shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-evidence-'));
let n = 0;
const key: SigningKey = initSigningKey(join(dir, 'keys', 'signing-key.pem'));
const otherKey: SigningKey = initSigningKey(join(dir, 'keys', 'other.pem'));

/** A signed run of 3 samples × 2 epochs with one scorer, in a new SQLite pool file; returns the file and run id. */
async function signedRun(): Promise<{ file: string; runId: string }> {
  const file = join(dir, `pool-${++n}.sqlite`);
  const pool = await openPool(file, { create: true });
  const runId = 'run-a';
  await pool.ensureRun(runOf(runId), plan([sampleOf(0), sampleOf(1), sampleOf(2)]));
  for (let s = 0; s < 3; s++) {
    for (let e = 0; e < 2; e++) await pool.write(attemptOf(runId, `s${s}`, e), [measurementOf(runId, `s${s}`, e, 'exact', (s + e) % 2)]);
  }
  await signRun(pool, runId, key);
  await pool.close();
  return { file, runId };
}

async function withPool<T>(file: string, f: (p: Pool) => Promise<T>): Promise<T> {
  const pool = await openPool(file, { readonly: true });
  try {
    return await f(pool);
  } finally {
    await pool.close();
  }
}

function edit(file: string, sql: string): void {
  const db = new Database(file);
  db.exec(sql);
  db.close();
}

/**
 * Edit the stored links of `runId` directly in the file, as someone with the file could: `f` gets them (as the pool
 * reads them) in seq order and returns what is to be stored, written back one segment per link in full form.
 */
async function editLinks(file: string, runId: string, f: (links: ChainLink[]) => ChainLink[]): Promise<void> {
  const links = await withPool(file, (p) => collect(p.iterateChain(runId)));
  const db = new Database(file);
  db.prepare(`DELETE FROM chain_segments WHERE run_id = ?`).run(runId);
  const ins = db.prepare(`INSERT INTO chain_segments (run_id, first_seq, last_seq, links) VALUES (?, ?, ?, ?)`);
  for (const l of f(links)) ins.run(runId, l.seq, l.seq, JSON.stringify([[l.seq, l.kind, l.sample_id, l.epoch, l.scorer, l.status, l.record_hash, l.chain]]));
  db.close();
}

test('an unmodified run verifies: chain intact, every record as chained, signed through its head', async () => {
  const { file, runId } = await signedRun();
  const r = await withPool(file, (p) => verifyRun(p, runId));
  assert.equal(r.status, 'verified', JSON.stringify(r.problems));
  assert.equal(r.links, 1 + 6 + 6);
  assert.equal(r.records, 13);
  assert.equal(r.signed_through, 12);
  assert.deepEqual(r.key_ids, [key.keyId]);
  // The chain is the documented (labelled) rule: chain_i = sha256(chain_{i-1} + "\n" + record_hash_i + "\n" + label_i).
  const links = await withPool(file, async (p) => { const out = []; for await (const l of p.iterateChain(runId)) out.push(l); return out; });
  let prev = CHAIN_START;
  for (const l of links) {
    assert.equal(l.chain, sha256(`${prev}\n${l.record_hash}\n${JSON.stringify([l.kind, l.sample_id, l.epoch, l.scorer, l.status])}`));
    prev = l.chain;
  }
  // The public key is recorded in the manifest.
  assert.deepEqual((await withPool(file, (p) => p.getRun(runId)))!.manifest.signing_keys, [{ algorithm: 'ed25519', key_id: key.keyId, public_key: key.publicKeyBase64 }]);
});

test('one byte changed in a stored attempt: verify names that attempt', async () => {
  const { file, runId } = await signedRun();
  edit(file, `UPDATE attempts SET response = 'answer s1/2' WHERE sample_id = 's1' AND epoch = 1`);
  const r = await withPool(file, (p) => verifyRun(p, runId));
  assert.equal(r.status, 'broken');
  assert.deepEqual([r.first!.problem, r.first!.record, r.first!.sample_id, r.first!.epoch], ['changed', 'attempt', 's1', 1]);
  assert.equal(r.problems.filter((p) => p.problem !== 'unsigned').length, 1);
});

test('a changed score is named with its scorer', async () => {
  const { file, runId } = await signedRun();
  edit(file, `UPDATE measurements SET value = 1 - value WHERE sample_id = 's2' AND epoch = 0`);
  const r = await withPool(file, (p) => verifyRun(p, runId));
  assert.deepEqual([r.first!.problem, r.first!.record, r.first!.sample_id, r.first!.epoch, r.first!.scorer], ['changed', 'measurement', 's2', 0, 'exact']);
});

test('a deleted attempt: verify names it as removed', async () => {
  const { file, runId } = await signedRun();
  edit(file, `DELETE FROM attempts WHERE sample_id = 's0' AND epoch = 1`);
  const r = await withPool(file, (p) => verifyRun(p, runId));
  assert.deepEqual([r.first!.problem, r.first!.record, r.first!.sample_id, r.first!.epoch], ['removed', 'attempt', 's0', 1]);
});

test('two attempts swapped: verify names the first and the one it was swapped with', async () => {
  const { file, runId } = await signedRun();
  edit(file, `UPDATE attempts SET sample_id = 'tmp' WHERE sample_id = 's0' AND epoch = 0;
              UPDATE attempts SET sample_id = 's0' WHERE sample_id = 's2' AND epoch = 0;
              UPDATE attempts SET sample_id = 's2' WHERE sample_id = 'tmp' AND epoch = 0;`);
  const r = await withPool(file, (p) => verifyRun(p, runId));
  assert.deepEqual([r.first!.problem, r.first!.record, r.first!.sample_id, r.first!.epoch], ['reordered', 'attempt', 's0', 0]);
  assert.match(r.first!.detail, /sample "s2", epoch 0/);
});

test('links of the chain swapped, or one deleted, in the pool: verify names them', async () => {
  const { file, runId } = await signedRun();
  // Links 3 and 4: the attempt of s0, epoch 1 and its measurement (0 = the run, 1 = attempt s0/0, 2 = its measurement).
  await editLinks(file, runId, (links) => links.map((l) => (l.seq === 3 ? { ...l, seq: 4 } : l.seq === 4 ? { ...l, seq: 3 } : l)));
  const r = await withPool(file, (p) => verifyRun(p, runId));
  assert.equal(r.first!.problem, 'reordered');
  assert.equal(r.first!.seq, 3);
  assert.deepEqual([r.first!.record, r.first!.sample_id, r.first!.epoch], ['measurement', 's0', 1]);

  const b = await signedRun();
  await editLinks(b.file, b.runId, (links) => links.filter((l) => l.seq !== 5));
  const r2 = await withPool(b.file, (p) => verifyRun(p, b.runId));
  assert.deepEqual([r2.first!.problem, r2.first!.seq, r2.first!.record, r2.first!.sample_id, r2.first!.epoch], ['removed', 5, 'attempt', 's1', 0]);
});

test('a chain rewritten after signing (row and links recomputed) fails on its signature', async () => {
  const { file, runId } = await signedRun();
  // Rewrite: change a response and recompute every link from there, as someone without the key could.
  const pool = await openPool(file);
  const links = [];
  for await (const l of pool.iterateChain(runId)) links.push(l);
  await pool.close();
  const { attemptRecord, recordHash } = await import('../../src/store/chain-records.ts');
  edit(file, `UPDATE attempts SET response = 'forged' WHERE sample_id = 's0' AND epoch = 0`);
  const forged = recordHash(attemptRecord({ ...attemptOf(runId, 's0', 0), response: 'forged' }));
  let prev = CHAIN_START;
  const rewritten = new Map<number, [string, string]>();
  for (const l of links) {
    const h = l.seq === 1 ? forged : l.record_hash;
    prev = linkChain('labelled', prev, { ...l, record_hash: h });
    rewritten.set(l.seq, [h, prev]);
  }
  await editLinks(file, runId, (stored) => stored.map((l) => ({ ...l, record_hash: rewritten.get(l.seq)![0], chain: rewritten.get(l.seq)![1] })));
  const r = await withPool(file, (p) => verifyRun(p, runId));
  assert.equal(r.status, 'broken');
  assert.equal(r.first!.problem, 'signature');
  assert.match(r.first!.detail, /not in the chain: the chain was rewritten after signing/);
});

test('a wrong key fails; the right one given explicitly passes', async () => {
  const { file, runId } = await signedRun();
  const wrong = await withPool(file, (p) => verifyRun(p, runId, { trustedKeys: [loadPublicKey(join(dir, 'keys', 'other.pem.pub'))] }));
  assert.equal(wrong.status, 'broken');
  assert.equal(wrong.first!.problem, 'signature');
  assert.match(wrong.first!.detail, new RegExp(`by key ${key.keyId}, not by the key given \\(${otherKey.keyId}\\)`));
  const right = await withPool(file, (p) => verifyRun(p, runId, { trustedKeys: [loadPublicKey(join(dir, 'keys', 'signing-key.pem.pub'))] }));
  assert.equal(right.status, 'verified');
  assert.equal(right.trust, 'given');
  // A signature by a key the run does not record is refused when no key is given.
  const pool = await openPool(file);
  await signRun(pool, runId, otherKey);
  await pool.updateManifest(runId, (m) => ({ ...m, signing_keys: m.signing_keys!.filter((k) => k.key_id !== otherKey.keyId) }));
  await pool.close();
  const unrecorded = await withPool(file, (p) => verifyRun(p, runId));
  assert.match(unrecorded.first!.detail, /which the run does not record/);
});

test('unsigned links after the last signature make the run unsigned, not verified', async () => {
  const { file, runId } = await signedRun();
  const pool = await openPool(file);
  await pool.writeMeasurements([measurementOf(runId, 's0', 0, 'other', 1)]);
  await pool.flush();
  const r = await verifyRun(pool, runId);
  assert.equal(r.status, 'unsigned');
  assert.equal(r.first!.problem, 'unsigned');
  await signRun(pool, runId, key);
  assert.equal((await verifyRun(pool, runId)).status, 'verified');
  await pool.close();
});

test('export → verify without the pool; a flipped byte, a dropped record and two swapped links are each named', async () => {
  const { file, runId } = await signedRun();
  const out = join(dir, 'run.evidence.jsonl');
  await withPool(file, async (p) => {
    const s = createWriteStream(out);
    await exportEvidence(p, runId, s);
    await new Promise<void>((res) => s.end(() => res()));
  });
  const ok = await verifyEvidenceFile(out);
  assert.equal(ok.status, 'verified', JSON.stringify(ok.problems));
  assert.equal(ok.links, 13);
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  const variant = async (name: string, ls: string[]) => {
    const f = join(dir, name);
    writeFileSync(f, ls.join('\n') + '\n');
    return verifyEvidenceFile(f);
  };
  const recordLine = (s: string, e: number, kind: 'attempt' | 'measurement') => lines.findIndex((l) => l.includes(`"record":"${kind}"`) && l.includes(`"sample_id":"${s}"`) && l.includes(`"epoch":${e}`));

  // One byte: "answer s1/0" → "answer s1/1" in the attempt of s1, epoch 0.
  const flipped = [...lines];
  const i = recordLine('s1', 0, 'attempt');
  flipped[i] = flipped[i]!.replace('answer s1/0', 'answer s1/1');
  const r1 = await variant('flipped.jsonl', flipped);
  assert.deepEqual([r1.first!.problem, r1.first!.record, r1.first!.sample_id, r1.first!.epoch], ['changed', 'attempt', 's1', 0]);

  // A record dropped.
  const dropped = lines.filter((_, k) => k !== recordLine('s2', 1, 'measurement'));
  const r2 = await variant('dropped.jsonl', dropped);
  assert.deepEqual([r2.first!.problem, r2.first!.record, r2.first!.sample_id, r2.first!.epoch, r2.first!.scorer], ['removed', 'measurement', 's2', 1, 'exact']);

  // A link line dropped: named by the record it chained.
  const linkLine = (seq: number) => lines.findIndex((l) => l.startsWith(`{"link":{"seq":${seq},`));
  const droppedLink = lines.filter((_, k) => k !== linkLine(7));
  const r3 = await variant('dropped-link.jsonl', droppedLink);
  assert.deepEqual([r3.first!.problem, r3.first!.seq, r3.first!.record, r3.first!.sample_id, r3.first!.epoch], ['removed', 7, 'attempt', 's1', 1]);

  // Two link lines swapped.
  const swapped = [...lines];
  [swapped[linkLine(3)], swapped[linkLine(4)]] = [swapped[linkLine(4)]!, swapped[linkLine(3)]!];
  const r4 = await variant('swapped.jsonl', swapped);
  assert.equal(r4.first!.problem, 'reordered');
  assert.equal(r4.first!.seq, 3);

  // The spec in the header edited (the model swapped for another): link 0 no longer matches.
  const header = JSON.parse(lines[0]!);
  header.spec.model = 'openai:gpt-4o';
  const r5 = await variant('header.jsonl', [JSON.stringify(header), ...lines.slice(1)]);
  assert.deepEqual([r5.first!.problem, r5.first!.seq, r5.first!.record], ['changed', 0, 'run']);

  // A wrong key fails on the export too.
  const r6 = await verifyEvidenceFile(out, { trustedKeys: [otherKey.publicKeyBase64] });
  assert.equal(r6.first!.problem, 'signature');
});

test('a resumed run (the real runner) extends its chain, is signed again and verifies, failed attempts replaced included', async () => {
  const ds = await loadDataset(`gsm8k:${shared('data/gsm8k/test.jsonl')}`);
  const answers = new Map(ds.samples.map((s) => [s.input as string, s.target]));
  const server = await startFakeOpenAIServer({ answers, accuracy: 0.7, modelId: 'fake-7b' });
  const file = join(dir, 'runner.sqlite');
  try {
    const common = { template: getTemplate('plain'), config: { seed: 0, temperature: 0.6, chat_template: true }, epochs: 2, limit: 40, scorers: [createScorer('gsm8k')], concurrency: 8, backoffBaseMs: 1, signingKey: key, dataset: ds, model: `openai-compatible:${server.url}#fake-7b` };
    server.setFaults({ serverError: { rate: 0.3, seed: 2 } });
    let pool = await openPool(file, { create: true });
    const r1 = await executeRun({ ...common, pool, maxRetries: 0 });
    assert.equal(r1.status, 'failed');
    assert.ok(r1.counts.error > 0);
    const v1 = await verifyRun(pool, r1.run_id);
    assert.equal(v1.status, 'verified', JSON.stringify(v1.problems.slice(0, 3)));
    await pool.close();
    server.setFaults({});
    pool = await openPool(file);
    const r2 = await executeRun({ ...common, pool });
    assert.equal(r2.status, 'complete');
    const v2 = await verifyRun(pool, r2.run_id, { trustedKeys: [key.publicKeyBase64] });
    assert.equal(v2.status, 'verified', JSON.stringify(v2.problems.slice(0, 3)));
    assert.ok(v2.links > v1.links);
    assert.equal((await pool.chainSignatures(r2.run_id)).length, 2);
    await pool.close();
    // And a failed attempt written over an ok one (dropped by the pool) is replayed the same way by verify.
    pool = await openPool(file);
    const [first] = await (async () => { const out = []; for await (const a of pool.iterateAttempts(r2.run_id)) { out.push(a); break; } return out; })();
    await pool.write({ ...first!, status: 'error', response: null, error: 'late failure', finish_reason: 'error' }, [measurementOf(r2.run_id, first!.sample_id, first!.epoch, 'gsm8k', null)]);
    await signRun(pool, r2.run_id, key);
    assert.equal((await verifyRun(pool, r2.run_id)).status, 'verified');
    await pool.close();
  } finally {
    await server.close();
  }
});

test('a second process that waited for the run extends the chain from where the first left it', async () => {
  const file = join(dir, 'two-handles.sqlite');
  const a = await openPool(file, { create: true });
  const b = await openPool(file);
  try {
    await a.ensureRun(runOf('run-a'), plan([sampleOf(0), sampleOf(1)]));
    await b.ensureRun(runOf('run-a'), plan([sampleOf(0), sampleOf(1)])); // b reads the head now (link 0) and waits
    assert.equal((await a.acquireLease('run-a', { id: 'a' }, 60_000)).acquired, true);
    for (const e of [0, 1]) await a.write(attemptOf('run-a', 's0', e), [measurementOf('run-a', 's0', e, 'exact', 1)]);
    await a.flush();
    await a.releaseLease('run-a', 'a');
    assert.equal((await b.acquireLease('run-a', { id: 'b' }, 60_000)).acquired, true);
    for (const e of [0, 1]) await b.write(attemptOf('run-a', 's1', e), [measurementOf('run-a', 's1', e, 'exact', 0)]);
    await signRun(b, 'run-a', key);
    const r = await verifyRun(b, 'run-a');
    assert.equal(r.status, 'verified', JSON.stringify(r.problems));
    assert.equal(r.links, 9);
  } finally {
    await a.close();
    await b.close();
  }
});

test('the fast canonical form of attempts and measurements is the general one, key for key (so old chains still verify)', async () => {
  const { attemptRecord, measurementRecord, canonicalJson, recordHash } = await import('../../src/store/chain-records.ts');
  const { sha256 } = await import('../../src/core/hash.ts');
  const attempts = [
    { run_id: 'r', sample_id: 's\uD800x', epoch: 0, status: 'ok', response: 'caf\u00e9 -0 "q"', finish_reason: 'stop', prompt_tokens: 12, completion_tokens: -0, latency_ms: 1.5, tries: 1, error: null, model_id: 'm', cache_key: 'k', cached: false, meta: { z: 1, a: [{ y: -0, b: 'x' }] }, transcript: [{ role: 'user', content: 'hi' }] },
    { run_id: 'r', sample_id: 's2', epoch: 3, status: 'error', response: null, finish_reason: null, prompt_tokens: null, completion_tokens: null, latency_ms: 0, tries: 3, error: 'HTTP 500', model_id: null, cache_key: 'k2', cached: true },
  ];
  for (const a of attempts) {
    const rec = attemptRecord(a as never);
    assert.equal(recordHash(rec), sha256(canonicalJson(rec)));
  }
  const ms = [
    { run_id: 'r', sample_id: 's', epoch: 0, scorer: 'math', kind: 'binary', value: 1, extracted: '42', explanation: 'equal', status: 'ok' },
    { run_id: 'r', sample_id: 's', epoch: 0, scorer: 'm', kind: 'numeric', value: -0, extracted: null, explanation: '\uDC00', status: 'grader_error' },
  ];
  for (const m of ms) {
    const rec = measurementRecord(m as never);
    assert.equal(recordHash(rec), sha256(canonicalJson(rec)));
  }
  // a record with an extra key takes the general form
  const extra = { ...measurementRecord(ms[0] as never), note: 'x' };
  assert.equal(recordHash(extra as never), sha256(canonicalJson(extra)));
});
