/**
 * The whole tree type-checks (TypeScript strict). `npm ci` compiles src/ to dist/ and bin/assay.js falls back
 * to the source when that build fails, so a type error would otherwise go unnoticed: this test makes it fail CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('tsc --noEmit passes on src, testkit, test and bench', () => {
  const r = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '--noEmit', '-p', `${ROOT}tsconfig.json`], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
