/**
 * Two processes creating one SQLite pool at the same moment (two `assay run`s started together on a new --pool): both
 * open it. Before, about 1 pair in 10 failed: SQLite refused the WAL switch at once with "database is locked"
 * instead of waiting, or one process inspected the file between another's migrations and took it for another
 * program's database (its tables without its version). Real processes, real files; 16 pairs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONNECTION = fileURLToPath(new URL('../../src/store/sqlite-connection.ts', import.meta.url));
const SCRIPT = `import { openSqliteDatabase } from ${JSON.stringify(CONNECTION)};
const db = openSqliteDatabase(process.argv[1]);
console.log(db.pragma('user_version', { simple: true }));
db.close();`;

function openIn(path: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

test('two processes creating one pool at once both open it, at the current schema version', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-create-'));
  try {
    const { SCHEMA_VERSION } = await import('../../src/store/sqlite-connection.ts');
    for (let i = 0; i < 16; i++) {
      const path = join(dir, `pool-${i}.sqlite`);
      const both = await Promise.all([openIn(path), openIn(path)]);
      for (const r of both) {
        assert.equal(r.code, 0, `pair ${i}: ${r.err}`);
        assert.equal(r.out.trim(), String(SCHEMA_VERSION));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
