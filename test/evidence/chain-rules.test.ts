/**
 * Evidence chains against the edits that used to pass or crash `assay verify`: a link relabelled (the labelled chain
 * rule binds kind, sample, epoch, scorer and status), while chains of the older label-free rule still verify and are
 * extended by their own rule; a run written before chaining has its records adopted when its chain starts; link 0
 * removed (pool and evidence file) and malformed segment rows are reported as BROKEN, never thrown.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openPool } from '../../src/store/open.ts';
import type { ChainLink, Pool } from '../../src/store/types.ts';
import { collect } from '../helpers/collect.ts';
import { initSigningKey, type SigningKey } from '../../src/evidence/keys.ts';
import { signRun } from '../../src/evidence/sign.ts';
import { exportEvidence, verifyEvidenceFile, verifyRun } from '../../src/evidence/bundle.ts';
import { CHAIN_START, linkChain } from '../../src/store/chain-records.ts';
import { InputError } from '../../src/core/errors.ts';
import { attemptOf, measurementOf, plan, runOf, sampleOf } from '../store/conformance.ts';
import { rescoreRun } from '../../src/runner/rescore.ts';
import { createScorer } from '../../src/scorers/registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-chain-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const key: SigningKey = initSigningKey(join(dir, 'keys', 'signing-key.pem'));
const runId = 'run-a';

async function withPool<T>(file: string, f: (p: Pool) => Promise<T>): Promise<T> {
  const pool = await openPool(file, { create: true });
  try {
    return await f(pool);
  } finally {
    await pool.close();
  }
}

function edit(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file);
  db.prepare(sql).run(...params);
  db.close();
}

/** A run of 3 samples × 2 epochs with one scorer in a new pool file (unsigned unless `sign`). */
async function run3x2(sign = true): Promise<string> {
  const file = join(dir, `pool-${++n}.sqlite`);
  await withPool(file, async (pool) => {
    await pool.ensureRun(runOf(runId), plan([sampleOf(0), sampleOf(1), sampleOf(2)]));
    for (let s = 0; s < 3; s++) for (let e = 0; e < 2; e++) await pool.write(attemptOf(runId, `s${s}`, e), [measurementOf(runId, `s${s}`, e, 'exact', (s + e) % 2)]);
    if (sign) await signRun(pool, runId, key);
  });
  return file;
}

/** Store `links` as one full-form segment per link (as migrated pools hold them), in place of the run's segments. */
function storeLinks(file: string, links: ChainLink[]): void {
  const db = new Database(file);
  db.prepare(`DELETE FROM chain_segments WHERE run_id = ?`).run(runId);
  const ins = db.prepare(`INSERT INTO chain_segments (run_id, first_seq, last_seq, links) VALUES (?, ?, ?, ?)`);
  for (const l of links) ins.run(runId, l.seq, l.seq, JSON.stringify([[l.seq, l.kind, l.sample_id, l.epoch, l.scorer, l.status, l.record_hash, l.chain]]));
  db.close();
}

test('rollback by relabel: failed rows restored and the ok links relabelled to another sample is BROKEN', async () => {
  const file = join(dir, `pool-${++n}.sqlite`);
  const failed = join(dir, `pool-${n}-failed.sqlite`);
  await withPool(file, async (pool) => {
    await pool.ensureRun(runOf(runId), plan([sampleOf(0), sampleOf(1)]));
    for (const s of ['s0', 's1']) await pool.write(attemptOf(runId, s, 0, { status: 'error', response: null, error: 'HTTP 500' }), [{ ...measurementOf(runId, s, 0, 'exact', null), status: 'attempt_error' }]);
  });
  copyFileSync(file, failed);
  await withPool(file, async (pool) => {
    for (const s of ['s0', 's1']) await pool.write(attemptOf(runId, s, 0), [measurementOf(runId, s, 0, 'exact', 1)]);
    await signRun(pool, runId, key);
  });
  const links = await withPool(file, (p) => collect(p.iterateChain(runId)));
  assert.deepEqual(links.map((l) => `${l.seq}${l.kind[0]}${l.sample_id ?? ''}${l.status ?? ''}`), ['0r', '1as0error', '2ms0attempt_error', '3as1error', '4ms1attempt_error', '5as0ok', '6ms0ok', '7as1ok', '8ms1ok']);
  // The tester's attack: sample s0's failed rows copied back, its ok links (5, 6) relabelled as sample s1's (which
  // links 7, 8 replace again), so that replaying the labels expects the failed rows for s0.
  const db = new Database(file);
  db.exec(`ATTACH '${failed}' AS old;
    DELETE FROM attempts WHERE run_id = '${runId}' AND sample_id = 's0'; INSERT INTO attempts SELECT * FROM old.attempts WHERE run_id = '${runId}' AND sample_id = 's0';
    DELETE FROM measurements WHERE run_id = '${runId}' AND sample_id = 's0'; INSERT INTO measurements SELECT * FROM old.measurements WHERE run_id = '${runId}' AND sample_id = 's0';`);
  db.close();
  const relabelled = links.map((l) => (l.seq === 5 || l.seq === 6 ? { ...l, sample_id: 's1' } : l));
  storeLinks(file, relabelled);
  const r = await withPool(file, (p) => verifyRun(p, runId));
  assert.equal(r.status, 'broken', JSON.stringify(r.problems));
  assert.equal(r.first!.seq, 5);
  assert.equal(r.first!.problem, 'chain');
  // Relabelled inside a compact segment (chain values left out) instead: the chain recomputed from the new label no
  // longer reaches the signed head.
  edit(file, `DELETE FROM chain_segments WHERE run_id = ?`, runId);
  await withPool(file, (p) => p.appendChain(links));
  const stored = new Database(file).prepare(`SELECT links FROM chain_segments WHERE run_id = ?`).pluck().all(runId) as string[];
  assert.equal(stored.length, 1);
  assert.match(stored[0]!, /^\["L",\[0,"r"/);
  edit(file, `UPDATE chain_segments SET links = replace(replace(links, '[5,"a","s0"', '[5,"a","s1"'), '[6,"m","s0"', '[6,"m","s1"') WHERE run_id = ?`, runId);
  const r2 = await withPool(file, (p) => verifyRun(p, runId));
  assert.equal(r2.status, 'broken', JSON.stringify(r2.problems));
  assert.ok(r2.problems.some((p) => p.problem === 'signature' && /not in the chain/.test(p.detail)), JSON.stringify(r2.problems));
});

test('a label-free chain (older Assay) still verifies, with its caveat, and is extended by its own rule', async () => {
  const file = await run3x2(false);
  // Recompute the chain by the plain rule, as an older Assay wrote it.
  const links = await withPool(file, (p) => collect(p.iterateChain(runId)));
  let prev = CHAIN_START;
  storeLinks(file, links.map((l) => ({ ...l, chain: (prev = linkChain('plain', prev, l)) })));
  await withPool(file, (p) => signRun(p, runId, key));
  const r = await withPool(file, (p) => verifyRun(p, runId));
  assert.equal(r.status, 'verified', JSON.stringify(r.problems));
  assert.deepEqual(r.caveats, ['label-free chain (older Assay): relabelling is not detectable']);
  // Resumed: the chaining layer extends it by the plain rule (a labelled link would break it).
  await withPool(file, async (p) => {
    await p.write(attemptOf(runId, 's0', 0, { response: 'again' }), [measurementOf(runId, 's0', 0, 'exact', 0)]);
    await signRun(p, runId, key);
  });
  const r2 = await withPool(file, (p) => verifyRun(p, runId));
  assert.equal(r2.status, 'verified', JSON.stringify(r2.problems));
  assert.equal(r2.links, 13 + 2);
  const after = await withPool(file, (p) => collect(p.iterateChain(runId)));
  assert.equal(after[14]!.chain, linkChain('plain', after[13]!.chain, after[14]!));
});

test('a run written before chaining (pool v2) rescored: its records are adopted, verify is not BROKEN and says so', async () => {
  const file = join(dir, `pool-${++n}.sqlite`);
  const db = new Database(file);
  db.exec(readFileSync(new URL('../fixtures/pool-v2.sql', import.meta.url), 'utf8'));
  db.close();
  const legacy = '694d50ffaf30a7b2';
  const held = await withPool(file, async (p) => {
    let a = 0;
    for await (const _ of p.iterateAttempts(legacy)) a++;
    return a;
  });
  assert.ok(held > 0);
  await withPool(file, (p) => rescoreRun(p, legacy, [createScorer('gsm8k')]));
  const r = await withPool(file, (p) => verifyRun(p, legacy));
  assert.notEqual(r.status, 'broken', JSON.stringify(r.problems.slice(0, 3)));
  assert.equal(r.status, 'unsigned');
  assert.deepEqual(r.problems.map((p) => p.problem), ['unsigned']);
  assert.equal(r.caveats.length, 1);
  assert.match(r.caveats[0]!, /written before chaining.*adopted.*tampering with them before then is not detectable/);
  const links = await withPool(file, (p) => collect(p.iterateChain(legacy)));
  // Link 0, then every attempt held, before anything the rescoring wrote.
  assert.deepEqual(links.slice(1, 1 + held).map((l) => l.kind), Array(held).fill('attempt'));
  // A record of the adopted ones changed afterwards is found.
  edit(file, `UPDATE attempts SET response = 'x' WHERE run_id = ? AND sample_id = ?`, legacy, links[1]!.sample_id);
  const r2 = await withPool(file, (p) => verifyRun(p, legacy));
  assert.equal(r2.status, 'broken');
  assert.equal(r2.first!.seq, 1);
  assert.equal(r2.first!.problem, 'changed');
});

test('link 0 deleted from the pool, or from an evidence file: BROKEN naming link 0 removed', async () => {
  const file = await run3x2();
  const exported = join(dir, `evidence-${n}.jsonl`);
  await withPool(file, async (p) => {
    const out = createWriteStream(exported);
    await exportEvidence(p, runId, out);
    await new Promise((res) => out.end(res));
  });
  const links = await withPool(file, (p) => collect(p.iterateChain(runId)));
  storeLinks(file, links.slice(1));
  const r = await withPool(file, (p) => verifyRun(p, runId));
  assert.equal(r.status, 'broken');
  assert.equal(r.first!.problem, 'removed');
  assert.equal(r.first!.seq, 0);
  assert.equal(r.first!.detail, 'the link of the run record (its id and spec) (link 0) was removed from the chain');
  const lines = readFileSync(exported, 'utf8').split('\n');
  assert.match(lines[1]!, /"seq":0/);
  lines.splice(1, 1);
  writeFileSync(exported, lines.join('\n'));
  const f = await verifyEvidenceFile(exported);
  assert.equal(f.status, 'broken');
  assert.equal(f.first!.problem, 'removed');
  assert.equal(f.first!.seq, 0);
  assert.match(f.first!.detail, /run record .*link 0.* was removed/);
});

test('malformed segment JSON: the pool names the row (InputError), verify reports it as BROKEN', async () => {
  const file = await run3x2();
  const first = new Database(file).prepare(`SELECT first_seq FROM chain_segments WHERE run_id = ? ORDER BY first_seq DESC LIMIT 1`).pluck().get(runId) as number;
  const cases: [string, string | ((s: string) => string), RegExp][] = [
    ['truncated', (s) => s.slice(0, s.length - 7), /its links are not valid JSON/],
    ['null', 'null', /its links are not a JSON array/],
    ['short tuple', '[[1,"a"]]', /link 1 of the segment is not \[seq, kind/],
    ['wrong type', '[[1,"a","s0",0,null,"ok",7,"x"]]', /link 1 of the segment has a field of the wrong type/],
  ];
  const original = new Database(file).prepare(`SELECT links FROM chain_segments WHERE run_id = ? AND first_seq = ?`).pluck().get(runId, first) as string;
  for (const [name, bad, why] of cases) {
    edit(file, `UPDATE chain_segments SET links = ? WHERE run_id = ? AND first_seq = ?`, typeof bad === 'string' ? bad : bad(original), runId, first);
    const where = `chain_segments row (run "${runId}", first_seq ${first})`;
    await withPool(file, async (p) => {
      await assert.rejects(collect(p.iterateChain(runId)), (e: Error) => e instanceof InputError && e.message.startsWith(where) && why.test(e.message), name);
      await assert.rejects(p.chainHead(runId), InputError, name);
    });
    const r = await withPool(file, (p) => verifyRun(p, runId));
    assert.equal(r.status, 'broken', name);
    assert.equal(r.first!.problem, 'chain', name);
    assert.ok(r.first!.detail.includes(where) && why.test(r.first!.detail), `${name}: ${r.first!.detail}`);
  }
  edit(file, `UPDATE chain_segments SET links = ? WHERE run_id = ? AND first_seq = ?`, original, runId, first);
  assert.equal((await withPool(file, (p) => verifyRun(p, runId))).status, 'verified');
});
