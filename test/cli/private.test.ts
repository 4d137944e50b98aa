/** `assay private add | allow | list | exposures | canaries` and `assay run --dataset private:<name>` as a user runs them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));

test('a private set from the command line: encrypted, run on an allowed model only, exposures and canaries listed, no text in the pool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-cli-private-'));
  const pool = join(dir, 'pool.sqlite');
  const data = join(dir, 'vault.jsonl');
  writeFileSync(data, Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: `v${i}`, question: `Which PANGOLIN-${i} opens the vault?`, answer: `${1000 + i}` })).join('\n') + '\n');
  const env = { ...process.env, ASSAY_PRIVATE_KEY: randomBytes(32).toString('hex'), ASSAY_SIGNING_KEY: join(dir, 'none.pem') };
  const assay = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const add = assay(['private', 'add', data, '--name', 'vault', '--allow', 'reference:oracle', '--pool', pool]);
  assert.equal(add.code, 0, add.err);
  assert.match(add.out, /private set "vault": 6 items encrypted with key [0-9a-f]{16}; allowed endpoints: reference:oracle/);

  const denied = assay(['run', '--dataset', 'private:vault', '--model', 'reference:noisy?p=0.5', '--scorer', 'math', '--pool', pool]);
  assert.equal(denied.code, 2);
  assert.match(denied.err, /private set "vault" may be sent only to reference:oracle, not to reference:noisy\?p=0\.5: nothing was sent/);

  const run = assay(['run', '--dataset', 'private:vault', '--model', 'reference:oracle', '--scorer', 'math', '--epochs', '2', '--pool', pool, '--json']);
  assert.equal(run.code, 0, run.err);
  const r = JSON.parse(run.out);
  assert.equal(r.run.counts.ok, 12);
  assert.equal(r.statistics[0].statistics.accuracy, 1);

  const ex = JSON.parse(assay(['private', 'exposures', 'vault', '--pool', pool, '--json']).out);
  assert.equal(ex.length, 12);
  assert.ok(ex.every((e: { endpoint: string }) => e.endpoint === 'reference:oracle'));
  const list = JSON.parse(assay(['private', 'list', '--pool', pool, '--json']).out);
  assert.deepEqual(list.map((s: { name: string; items: number }) => [s.name, s.items]), [['vault', 6]]);
  const canaries = JSON.parse(assay(['private', 'canaries', 'vault', '--pool', pool, '--json']).out);
  assert.equal(canaries.length, 6);
  // Without the key, the set cannot be run.
  const nokey = spawnSync(process.execPath, [BIN, 'run', '--dataset', 'private:vault', '--model', 'reference:oracle', '--pool', pool], { encoding: 'utf8', env: { ...env, ASSAY_PRIVATE_KEY: '', ASSAY_PRIVATE_KEY_FILE: join(dir, 'missing.key') } });
  assert.equal(nokey.status, 2);
  assert.match(nokey.stderr, /no private-set key/);

  for (const f of [pool, `${pool}-wal`]) {
    let bytes = '';
    try {
      bytes = readFileSync(f).toString('latin1');
    } catch {
      continue;
    }
    assert.ok(!bytes.includes('PANGOLIN'), `${f} holds item text`);
    assert.ok(!bytes.includes('opens the vault'), `${f} holds item text`);
  }
});
