/**
 * Private held-out sets: items encrypted at rest (no item text anywhere on disk: the pool file and its WAL, exports,
 * the HTML report), a run against an endpoint off the allow-list makes zero requests (the test server counts them),
 * exposures recorded per request, canaries per item, scores shown, a wrong key refused.
 */
import assert from 'node:assert/strict';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { InputError } from '../../src/core/errors.ts';
import { getTemplate } from '../../src/core/templates.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { exportRun } from '../../src/analyses/export.ts';
import { exportEvidence } from '../../src/evidence/bundle.ts';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { loadPrivateKey, seal, unseal, encrypt, decrypt } from '../../src/private/crypto.ts';
import { addPrivateSet, allowEndpoints, exposuresOf, openPrivateSet } from '../../src/private/sets.ts';
import { executeRun } from '../../src/runner/run.ts';
import { createScorer } from '../../src/scorers/registry.ts';
import { openPool } from '../../src/store/open.ts';
import { verifyRun } from '../../src/evidence/bundle.ts';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-private-'));
process.env.ASSAY_PRIVATE_KEY = randomBytes(32).toString('hex');
const key = loadPrivateKey();

/** Items whose every text is distinctive, so that a grep finds any copy of it. */
const samples: Sample[] = Array.from({ length: 12 }, (_, i) => ({
  id: `item-${i}`, input: `Secret question ZEBRAFINCH-${i}: what is the password of vault ${i}?`, target: `QUOKKA${i}XYZ`, metadata: { category: 'vault', note: `NARWHAL-NOTE-${i}` },
}));
const TEXTS = ['ZEBRAFINCH', 'QUOKKA', 'NARWHAL', 'password of vault'];

function assertNoItemText(file: string) {
  for (const f of [file, `${file}-wal`]) {
    if (!existsSync(f)) continue;
    const bytes = readFileSync(f).toString('latin1');
    for (const t of TEXTS) assert.ok(!bytes.includes(t), `${f} holds "${t}"`);
  }
}

test('crypto: AES-256-GCM round trip; a changed byte, another place (associated data) or another key fail', () => {
  const box = encrypt(key, 'hello', 'aad');
  assert.equal(decrypt(key, box, 'aad'), 'hello');
  assert.throws(() => decrypt(key, box, 'other place'), InputError);
  const ct = Buffer.from(box.ciphertext, 'base64');
  ct[0]! ^= 1;
  assert.throws(() => decrypt(key, { ...box, ciphertext: ct.toString('base64') }, 'aad'), InputError);
  const other = { ...key, enc: randomBytes(32) };
  assert.throws(() => decrypt(other, box, 'aad'), InputError);
  assert.equal(unseal(key, seal(key, 'x y', 'a'), 'a'), 'x y');
  assert.notEqual(seal(key, 'same', 'a'), seal(key, 'same', 'a'), 'a fresh IV each time');
});

test('a private run: allowed endpoint only (zero requests otherwise), no item text on disk, exposures and scores recorded', async () => {
  const answers = new Map(samples.map((s) => [s.input as string, s.target]));
  // The model answers an item with its gold, except items 0, 4 and 8 (9 of 12 right).
  const answer = (question: string) => {
    const i = samples.findIndex((s) => question.includes(s.input as string));
    return { content: i < 0 ? 'I do not know' : i % 4 === 0 ? 'WRONG' : samples[i]!.target };
  };
  const server = await startFakeOpenAIServer({ answer, modelId: 'fake-private' });
  const file = join(dir, 'pool.sqlite');
  try {
    let pool = await openPool(file, { create: true });
    const rec = await addPrivateSet(pool, key, 'vault', samples, { allow: [`${server.url}/`], source: 'vault.jsonl' });
    assert.deepEqual(rec.allow, [server.url.replace(/\/+$/, '')]);
    assert.equal(rec.items, 12);
    await assert.rejects(addPrivateSet(pool, key, 'vault', samples, { allow: [], source: 'x' }), /already exists/);
    await pool.close();
    assertNoItemText(file);

    pool = await openPool(file);
    const open = await openPrivateSet(pool, key, 'vault');
    assert.deepEqual(open.dataset.samples.map((s) => s.input), samples.map((s) => s.input));
    assert.equal(open.canaries.size, 12);
    assert.ok([...open.canaries.values()].every((c) => /^ASSAY-CANARY-[0-9a-f]{32}$/.test(c)));
    assert.equal(new Set(open.canaries.values()).size, 12, 'one canary per item');
    assert.equal(open.dataset.samples[0]!.metadata.canary, open.canaries.get('item-0'));

    const common = { pool, dataset: open.dataset, template: getTemplate('plain'), config: { temperature: 0, chat_template: true }, epochs: 2, scorers: [createScorer('exact')], concurrency: 4, privacy: open.policy };
    // Off the allow-list: stopped before the first request.
    const other = await startFakeOpenAIServer({ answer, modelId: 'elsewhere' });
    try {
      await assert.rejects(executeRun({ ...common, model: `openai-compatible:${other.url}#elsewhere` }), (e: unknown) => e instanceof InputError && /may be sent only to .* not to /.test(e.message));
      assert.equal(other.stats.total, 0, 'the endpoint off the list got no request');
    } finally {
      await other.close();
    }
    assert.equal((await pool.listRuns()).length, 0, 'nothing was stored either');

    const r = await executeRun({ ...common, model: `openai-compatible:${server.url}#fake-private` });
    assert.equal(r.status, 'complete');
    assert.equal(r.counts.ok, 24);
    // Scores are there, with their interval.
    const st = (await runStatistics(pool, r.run_id)).statistics;
    assert.equal(st.samples, 12);
    assert.equal(st.accuracy, 0.75);
    // Every request recorded: endpoint, item, run, epoch, time.
    const ex = await exposuresOf(pool, 'vault');
    assert.equal(ex.length, 24);
    assert.ok(ex.every((e) => e.endpoint === server.url.replace(/\/+$/, '') && e.run_id === r.run_id && /^item-\d+$/.test(e.item_id)));
    assert.deepEqual(new Set(ex.map((e) => `${e.item_id}/${e.epoch}`)).size, 24);
    // Resumed: nothing asked again, nothing exposed again.
    const again = await executeRun({ ...common, model: `openai-compatible:${server.url}#fake-private` });
    assert.equal(again.executed, 0);
    assert.equal((await exposuresOf(pool, 'vault')).length, 24);
    // The evidence chain covers the redacted records and verifies.
    assert.equal((await verifyRun(pool, r.run_id)).status, 'unsigned');
    // Exports: the responses are sealed, scores are plain.
    const out = join(dir, 'export.jsonl');
    const s = createWriteStream(out);
    await exportRun(pool, r.run_id, 'exact', 'jsonl', s);
    await new Promise<void>((res) => s.end(() => res()));
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 24);
    assert.ok(rows.every((x) => x.response.startsWith('assay-sealed:v1:') && (x.score === 0 || x.score === 1)));
    const ev = join(dir, 'export.evidence.jsonl');
    const s2 = createWriteStream(ev);
    await exportEvidence(pool, r.run_id, s2);
    await new Promise<void>((res) => s2.end(() => res()));
    // The HTML report of the run.
    const { buildReport } = await import('../../src/report/html.ts');
    const reportFile = join(dir, 'report.html');
    writeFileSync(reportFile, await buildReport(pool, [r.run_id]));
    await pool.close();
    for (const f of [file, out, ev, reportFile]) assertNoItemText(f);

    // The sealed response opens with the key, at its place only.
    const first = rows[0]!;
    const text = unseal(key, first.response, `response\n${r.run_id}\n${first.sample_id}\n${first.epoch}`);
    assert.match(text, /QUOKKA\d+XYZ|\S/);
  } finally {
    await server.close();
  }
});

test('allow-list changes; a set opened with another key is refused', async () => {
  const pool = await openPool('memory:');
  await addPrivateSet(pool, key, 'small', samples.slice(0, 2), { allow: ['http://127.0.0.1:9/v1'], source: 'x' });
  assert.deepEqual((await allowEndpoints(pool, 'small', { add: ['reference:oracle', 'http://127.0.0.1:9/v1/'] })).allow, ['http://127.0.0.1:9/v1', 'reference:oracle']);
  assert.deepEqual((await allowEndpoints(pool, 'small', { remove: ['http://127.0.0.1:9/v1'] })).allow, ['reference:oracle']);
  const open = await openPrivateSet(pool, key, 'small');
  assert.equal(open.policy.allows('reference:oracle'), true);
  assert.equal(open.policy.allows('http://127.0.0.1:9/v1'), false);
  const saved = process.env.ASSAY_PRIVATE_KEY;
  process.env.ASSAY_PRIVATE_KEY = randomBytes(32).toString('hex');
  try {
    await assert.rejects(openPrivateSet(pool, loadPrivateKey(), 'small'), /is encrypted with key [0-9a-f]{16}, not with this one/);
  } finally {
    process.env.ASSAY_PRIVATE_KEY = saved;
  }
  await assert.rejects(openPrivateSet(pool, key, 'nope'), /no private set named "nope"/);
  await pool.close();
});
