/**
 * Ctrl-C (SIGINT) stops a run cleanly: the run is marked interrupted, nothing is half-written, and the same command
 * completes it. Uses the OpenAI-compatible test server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { loadDataset } from '../../src/datasets/index.ts';
import { shared } from '../../testkit/shared.ts';

const GSM8K = shared('data/gsm8k/test.jsonl');
const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));

test('SIGINT stops cleanly (run marked interrupted, exit 1), and the same command completes the run', async () => {
  const ds = await loadDataset(`gsm8k:${GSM8K}`);
  const server = await startFakeOpenAIServer({ answers: new Map(ds.samples.map((s) => [s.input as string, s.target])), latencyMs: 20 });
  const dir = mkdtempSync(join(tmpdir(), 'assay-sigint-'));
  const pool = join(dir, 'p.sqlite');
  const args = ['run', '--dataset', `gsm8k:${GSM8K}`, '--model', `openai-compatible:${server.url}#m`, '--limit', '300', '--concurrency', '4', '--pool', pool, '--json'];
  const run = () => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    return { child, done: new Promise<{ code: number | null; out: string; err: string }>((r) => child.on('close', (code) => r({ code, out, err }))) };
  };
  try {
    const a = run();
    // wait until some attempts are durably stored (start-up time varies with machine load), then Ctrl-C
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        const db = new Database(pool, { readonly: true, fileMustExist: true });
        const n = (db.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n;
        db.close();
        if (n >= 20) break;
      } catch {}
    }
    a.child.kill('SIGINT');
    const ra = await a.done;
    assert.equal(ra.code, 1, ra.err);
    const doc = JSON.parse(ra.out);
    assert.equal(doc.run.status, 'interrupted');
    assert.ok(doc.run.counts.attempts > 0 && doc.run.counts.attempts < 300);
    const db = new Database(pool, { readonly: true });
    assert.equal((db.prepare('SELECT status FROM runs').get() as { status: string }).status, 'interrupted');
    db.close();
    const b = run();
    const rb = await b.done;
    assert.equal(rb.code, 0, rb.err);
    const doc2 = JSON.parse(rb.out);
    assert.equal(doc2.run.status, 'complete');
    assert.equal(doc2.run.resumed, doc.run.counts.attempts);
    assert.equal(doc2.run.counts.attempts, 300);
  } finally {
    await server.close();
  }
});
