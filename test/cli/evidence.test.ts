/**
 * `assay keys init`, a signed `assay run`, `assay verify` (pool and evidence file) and `assay export --format
 * evidence`, as a user runs them: child processes on a temporary pool and key file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { shared } from '../../testkit/shared.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const GSM8K = shared('data/gsm8k/test.jsonl');

test('keys init → signed run → verify; a tampered pool and a tampered export are named; a wrong key exits 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-cli-evidence-'));
  const pool = join(dir, 'pool.sqlite');
  const env = { ...process.env, ASSAY_SIGNING_KEY: join(dir, 'key.pem') };
  const assay = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const init = assay(['keys', 'init', '--json']);
  assert.equal(init.code, 0, init.err);
  const key = JSON.parse(init.out);
  assert.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o600);
  assert.equal(assay(['keys', 'init']).code, 2, 'an existing key is not replaced without --force');

  const run = assay(['run', '--dataset', `gsm8k:${GSM8K}`, '--limit', '12', '--model', 'reference:noisy?p=0.7', '--epochs', '2', '--scorer', 'gsm8k', '--pool', pool, '--json']);
  assert.equal(run.code, 0, run.err);
  const runId = JSON.parse(run.out).run.run_id as string;

  const ok = assay(['verify', runId, '--pool', pool, '--public-key', join(dir, 'key.pem.pub')]);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, new RegExp(`verified — 49 links, 49 records as chained, signed through link 48 by ${key.key_id} \\(the key you gave\\)`));

  const exported = join(dir, 'run.evidence.jsonl');
  assert.equal(assay(['export', runId, '--format', 'evidence', '-o', exported, '--pool', pool]).code, 0);
  const fromFile = assay(['verify', exported, '--json']);
  assert.equal(fromFile.code, 0, fromFile.out);
  assert.equal(JSON.parse(fromFile.out).status, 'verified');

  // Another key given: exit 1, the signature named.
  const other = join(dir, 'other.pem');
  assert.equal(assay(['keys', 'init', '--key-file', other]).code, 0);
  const wrong = assay(['verify', exported, '--public-key', `${other}.pub`]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.out, /BROKEN — the signature of link 48 is by key [0-9a-f]{16}, not by the key given/);

  // The pool edited: a wrong answer made right.
  const db = new Database(pool);
  const row = db.prepare(`SELECT sample_id, epoch FROM measurements WHERE value = 0 ORDER BY sample_id, epoch LIMIT 1`).get() as { sample_id: string; epoch: number } | undefined;
  const target = row ?? (db.prepare(`SELECT sample_id, epoch FROM measurements LIMIT 1`).get() as { sample_id: string; epoch: number });
  db.prepare(`UPDATE measurements SET value = 1 - value WHERE sample_id = ? AND epoch = ?`).run(target.sample_id, target.epoch);
  db.close();
  const tampered = assay(['verify', runId, '--pool', pool, '--json']);
  assert.equal(tampered.code, 1);
  const t = JSON.parse(tampered.out);
  assert.deepEqual([t.first.problem, t.first.record, t.first.sample_id, t.first.epoch, t.first.scorer], ['changed', 'measurement', target.sample_id, target.epoch, 'gsm8k']);
  // The export made before the edit still verifies; one edited by hand does not.
  const lines = readFileSync(exported, 'utf8').trimEnd().split('\n');
  const i = lines.findIndex((l) => l.startsWith('{"record":{') && l.includes('"record":"attempt"'));
  const rec = JSON.parse(lines[i]!).record;
  lines[i] = JSON.stringify({ record: { ...rec, latency_ms: rec.latency_ms + 1 } });
  writeFileSync(join(dir, 'edited.jsonl'), lines.join('\n') + '\n');
  const edited = assay(['verify', join(dir, 'edited.jsonl')]);
  assert.equal(edited.code, 1);
  assert.match(edited.out, new RegExp(`BROKEN — attempt of sample "${rec.sample_id}", epoch ${rec.epoch} differs from what was chained`));
});

test('assess: a thresholds file with three capabilities against the test server gives one alert, one critical, one inconclusive, each with its bound', async () => {
  const { startFakeOpenAIServer } = await import('../../testkit/fake-openai-server.ts');
  const { loadDataset } = await import('../../src/datasets/index.ts');
  const ds = await loadDataset(`gsm8k:${GSM8K}`);
  const server = await startFakeOpenAIServer({ answers: new Map(ds.samples.map((s) => [s.input as string, s.target])), accuracy: 0.7, modelId: 'fake-7b' });
  const dir = mkdtempSync(join(tmpdir(), 'assay-cli-assess-'));
  const pool = join(dir, 'pool.sqlite');
  const env = { ...process.env, ASSAY_SIGNING_KEY: join(dir, 'key.pem') };
  const assay = async (args: string[]) => {
    // The server runs in this process: spawn asynchronously so that it can answer.
    const { spawn } = await import('node:child_process');
    return new Promise<{ code: number | null; out: string; err: string }>((res) => {
      const p = spawn(process.execPath, [BIN, ...args], { env });
      let out = '', err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      p.on('close', (code) => res({ code, out, err }));
    });
  };
  try {
    assert.equal((await assay(['keys', 'init'])).code, 0);
    const run = await assay(['run', '--dataset', `gsm8k:${GSM8K}`, '--limit', '50', '--model', `openai-compatible:${server.url}#fake-7b`, '--scorer', 'gsm8k', '--pool', pool, '--json']);
    assert.equal(run.code, 0, run.err);
    const ci = JSON.parse(run.out).statistics[0].statistics.ci95 as { lo: number; hi: number };
    const mid = (ci.lo + ci.hi) / 2;
    const file = join(dir, 'thresholds.yaml');
    const cap = (name: string, alert: number, critical: number, min: number) =>
      `  - name: ${name}\n    task: gsm8k\n    metric: accuracy\n    alert: ${alert.toFixed(4)}\n    critical: ${critical.toFixed(4)}\n    min_samples: ${min}\n`;
    writeFileSync(file, 'capabilities:\n' + cap('near alert', ci.hi - 0.01, Math.min(1, ci.hi + 0.05), 10) + cap('past critical', Math.max(0, ci.lo - 0.1), ci.lo - 0.01, 10) + cap('undecided', mid, Math.min(1, ci.hi + 0.05), 500));
    const r = await assay(['assess', file, '--pool', pool, '--json']);
    assert.equal(r.code, 0, r.err);
    const a = JSON.parse(r.out);
    const [alert, critical, undecided] = a.capabilities;
    assert.deepEqual([alert.decision, critical.decision, undecided.decision], ['alert', 'critical', 'inconclusive']);
    assert.deepEqual(alert.verdicts[0].bound, { which: 'upper', value: ci.hi });
    assert.deepEqual(critical.verdicts[0].bound, { which: 'lower', value: ci.lo });
    assert.deepEqual(undecided.verdicts[0].bound, { which: 'both', value: [ci.lo, ci.hi] });
    assert.ok(undecided.verdicts[0].more_samples.more >= 450, JSON.stringify(undecided.verdicts[0].more_samples));
    assert.equal(alert.verdicts[0].elicitation.model, `openai-compatible:${server.url}#fake-7b`);
    assert.deepEqual(alert.verdicts[0].elicitation.reported_model_ids, ['fake-7b']);
    assert.equal(alert.verdicts[0].evidence, 'verified', 'the run was signed with the key made by keys init');
    const text = await assay(['assess', file, '--pool', pool]);
    assert.match(text.out, /near alert: ALERT/);
    assert.match(text.out, /undecided: INCONCLUSIVE[\s\S]*about \d+ more samples/);
    // The safety case: signed JSON and HTML; `assay verify` checks it, and refuses it once changed.
    const caseFile = join(dir, 'case.json');
    const made = await assay(['assess', file, '--pool', pool, '--case', caseFile, '--html', join(dir, 'case.html')]);
    assert.equal(made.code, 0, made.err);
    assert.match(made.err, /safety case signed with key [0-9a-f]{16}; decision critical/);
    const doc = JSON.parse(readFileSync(caseFile, 'utf8'));
    assert.deepEqual(doc.evidence.map((e: { status: string }) => e.status), ['verified']);
    assert.match(readFileSync(join(dir, 'case.html'), 'utf8'), /Safety case — decision/);
    const checked = await assay(['verify', caseFile, '--public-key', join(dir, 'key.pem.pub')]);
    assert.equal(checked.code, 0, checked.out + checked.err);
    assert.match(checked.out, /safety case, decision critical\): verified — signed by key/);
    writeFileSync(caseFile, JSON.stringify({ ...doc, decision: 'below' }, null, 2));
    const forged = await assay(['verify', caseFile]);
    assert.equal(forged.code, 1);
    assert.match(forged.out, /NOT VERIFIED — the signature does not verify/);
    // A bad file names its line and key.
    writeFileSync(file, 'capabilities:\n' + cap('x', 0.5, 0.4, 10));
    const bad = await assay(['assess', file, '--pool', pool]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /thresholds\.yaml:6 field "capabilities\.0\.critical": the critical level \(0\.4\) is below the alert level \(0\.5\)/);
  } finally {
    await server.close();
  }
});
