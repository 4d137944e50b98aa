/**
 * `assay serve` and `assay serve tokens create|list|revoke` as a user runs them (child processes on a temporary pool):
 * tokens printed once and stored hashed beside the pool; a server that refuses a non-loopback address without a token,
 * starts on loopback, answers with the token it was given and stops on SIGTERM; `assay tokens` (tokenizer statistics)
 * unchanged.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { openPool } from '../../src/store/open.ts';
import { buildFixture, IDS } from './fixture.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
let dir = '';
let pool = '';

function assay(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'assay-serve-cli-'));
  pool = join(dir, 'pool.sqlite');
  const p = await openPool(pool, { create: true });
  await buildFixture(p);
  await p.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('serve tokens: create prints the token once and stores its sha256 beside the pool; list never shows it; revoke ends it', () => {
  const made = assay(['serve', 'tokens', 'create', '--name', 'ci', '--role', 'admin', '--pool', pool, '--json']);
  assert.equal(made.code, 0, made.err);
  const { token, id, role, file } = JSON.parse(made.out);
  assert.equal(role, 'admin');
  assert.equal(file, join(`${pool}.serve`, 'tokens.json'));
  const stored = readFileSync(file, 'utf8');
  assert.ok(!stored.includes(token) && stored.includes(id));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const listed = assay(['serve', 'tokens', 'list', '--pool', pool, '--json']);
  assert.equal(listed.code, 0, listed.err);
  assert.ok(!listed.out.includes(token) && !listed.out.includes('sha256'));
  assert.deepEqual(JSON.parse(listed.out).tokens.map((t: { id: string; revoked_at: string | null }) => [t.id, t.revoked_at]), [[id, null]]);
  assert.equal(assay(['serve', 'tokens', 'revoke', id, '--pool', pool]).code, 0);
  assert.ok(JSON.parse(readFileSync(file, 'utf8')).tokens[0].revoked_at);
  const audit = readFileSync(join(`${pool}.serve`, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).action);
  assert.deepEqual(audit, ['token.create', 'token.revoke']);
});

test('serve refuses a non-loopback address without an active token, naming what to do', () => {
  const r = assay(['serve', '--pool', pool, '--host', '0.0.0.0', '--port', '0']);
  assert.equal(r.code, 2);
  assert.match(r.err, /needs API tokens.*assay serve tokens create/);
});

test('serve on loopback with a token: answers the token, refuses none, stops on SIGTERM', async () => {
  const made = JSON.parse(assay(['serve', 'tokens', 'create', '--name', 'reader', '--pool', pool, '--json']).out);
  const child = spawn(process.execPath, [BIN, 'serve', '--pool', pool, '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = /assay serve: (http:\/\/127\.0\.0\.1:\d+)\//.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  try {
    assert.match(err, /API tokens required/);
    assert.equal((await fetch(`${url}/api/runs`)).status, 401);
    const res = await fetch(`${url}/api/runs/${IDS.alpha}`, { headers: { authorization: `Bearer ${made.token}` } });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).run.id, IDS.alpha);
  } finally {
    child.kill('SIGTERM');
  }
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  assert.equal(code, 0, err);
});

test('`assay tokens` is still the tokenizer statistics command', () => {
  const r = assay(['tokens', '--families', 'o200k', '--haystack-chars', '2000', '--json']);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.ok(doc.families.o200k);
  assert.ok(doc.rows[0].chars_per_token.o200k > 1);
});
