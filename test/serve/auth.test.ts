/**
 * The viewer's access-control parts on their own: tokens stored as sha256 only (file mode 0600), verified in constant
 * time, forged and revoked ones refused, a running server's store seeing the CLI's changes; the token-bucket limiter;
 * CSV fields defused against formula injection; the escaping template.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { defaultStateDir, FileTokenStore, MemoryTokenStore, RateLimiter } from '../../src/serve/auth.ts';
import { html, path, trusted } from '../../src/serve/html.ts';
import { csvField } from '../../src/serve/tables.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-serve-auth-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a token file holds only the sha256 of each token, mode 0600; the token verifies, a forged one does not', () => {
  const file = join(dir, 'state', 'tokens.json');
  const store = new FileTokenStore(file);
  assert.equal(store.hasActive(), false);
  const { token, record } = store.create({ name: 'ci reader', role: 'read', by: 'cli' });
  assert.match(token, /^assay_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  const text = readFileSync(file, 'utf8');
  // the secret is everything after `assay_<id>_` (base64url: it may itself hold `_`, so not split('_')[2], which was
  // sometimes a one-letter fragment found in the file by chance)
  const secret = token.slice('assay_'.length + 12 + 1);
  assert.equal(secret.length, 43);
  assert.ok(!text.includes(secret), 'the secret is not in the file');
  assert.equal(JSON.parse(text).tokens[0].sha256, createHash('sha256').update(token).digest('hex'));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(store.verify(token)?.id, record.id);
  const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
  for (const bad of [flipped, `${token}x`, token.slice(0, -1), '', 'Bearer ' + token, token.replace(record.id, 'ffffffffffff')]) assert.equal(store.verify(bad), null, bad);
});

test('a second store on the same file (a running server) sees tokens created and revoked by another (the CLI) within a second', async () => {
  const file = join(dir, 'shared.json');
  const cli = new FileTokenStore(file), server = new FileTokenStore(file);
  const { token, record } = cli.create({ name: 'late', role: 'admin', by: 'cli' });
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(server.verify(token)?.role, 'admin');
  assert.equal(cli.revoke(record.id, 'cli'), true);
  assert.equal(cli.revoke(record.id, 'cli'), false);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(server.verify(token), null);
  assert.equal(server.hasActive(), false);
  assert.ok(server.list()[0]!.revoked_at);
});

test('bad names, roles and token files are InputErrors naming what is wrong', () => {
  const store = new MemoryTokenStore();
  assert.throws(() => store.create({ name: '<script>', role: 'read', by: 'x' }), (e: unknown) => e instanceof InputError && /name/.test(e.message));
  assert.throws(() => store.create({ name: 'ok', role: 'root' as 'read', by: 'x' }), (e: unknown) => e instanceof InputError && /role/.test(e.message));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"tokens": [{"id": 1}]}');
  assert.throws(() => new FileTokenStore(bad), (e: unknown) => e instanceof InputError && e.message.includes('not a token file'));
  assert.equal(defaultStateDir('sqlite:/x/pool.sqlite'), '/x/pool.sqlite.serve');
  assert.throws(() => defaultStateDir('memory:'), /--state-dir/);
});

test('the rate limiter allows a burst, then perSecond on average, per key; memory is bounded', () => {
  const rl = new RateLimiter(2, 3, 100);
  const at = (s: number) => s * 1000;
  assert.deepEqual([0, 0, 0, 0].map(() => rl.take('a', at(0))), [0, 0, 0, 0.5]);
  assert.equal(rl.take('b', at(0)), 0);
  assert.equal(rl.take('a', at(0.5)), 0); // one token refilled after half a second at 2/s
  assert.ok(rl.take('a', at(0.5)) > 0);
  for (let i = 0; i < 1000; i++) rl.take(`k${i}`, at(1));
  assert.ok((rl as unknown as { buckets: Map<string, unknown> }).buckets.size <= 100);
});

test('CSV fields: quoted when needed; text that a spreadsheet would run as a formula is prefixed with a quote', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"\n'), '"say ""hi""\n"');
  assert.equal(csvField('=HYPERLINK("http://evil")'), `"'=HYPERLINK(""http://evil"")"`);
  for (const f of ['+1', '-cmd', '@SUM(A1)', '\tx']) assert.equal(csvField(f)[0] === '"' ? csvField(f)[1] : csvField(f)[0], "'", f);
  assert.equal(csvField(-0.5), '-0.5');
  assert.equal(csvField(null), '');
  assert.equal(csvField(Number.NaN), '');
});

test('the html template escapes every value; only trusted markup passes; paths encode ids as one segment', () => {
  const evil = `<script>alert(1)</script>"'\``;
  assert.equal(html`<p title="${evil}">${evil}</p>`.value, '<p title="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&#96;">&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&#96;</p>');
  assert.equal(html`${[evil, trusted('<b>ok</b>'), null, false, 0]}`.value, '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&#96;<b>ok</b>0');
  assert.equal(path('runs', '../x/y?z#w', 'sample'), '/runs/..%2Fx%2Fy%3Fz%23w/sample');
});
