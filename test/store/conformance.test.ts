/**
 * The pool conformance suite (conformance.ts) on every implementation: in-memory, SQLite in memory, SQLite file.
 * PostgreSQL runs the same suite, unchanged, in postgres.test.ts (on a real server it starts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { openPool } from '../../src/store/open.ts';
import { testPool } from './conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-pool-conformance-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

testPool('memory', () => openPool('memory:'));
testPool('sqlite in memory', () => openPool('sqlite::memory:'));
testPool('sqlite file', () => openPool(`sqlite:${join(dir, `pool-${++n}.sqlite`)}`, { create: true }), { reopen: (url) => openPool(url) });
