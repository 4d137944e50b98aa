/**
 * The viewer under several processes and with its analyses on a thread, over real HTTP on loopback:
 * `assay serve --workers 2` (node:cluster) answers every route from either worker with the same content; a note
 * written through one worker is read through the other, and notes written at once through both are all kept; the
 * rate limit holds across the workers (the primary's buckets); and a run's statistics, computed on the analysis
 * thread, do not hold up other requests: /health is answered while they compute.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runStatistics } from '../../src/analyses/statistics.ts';
import { FileTokenStore, stateFiles } from '../../src/serve/auth.ts';
import { serve } from '../../src/serve/server.ts';
import { openPool } from '../../src/store/open.ts';
import { buildFixture, IDS, sampleId } from './fixture.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
let dir = '';
let poolFile = '';
let tokens: { read: string; write: string } = { read: '', write: '' };

interface Answer {
  status: number;
  worker: string | undefined;
  body: string;
}

/** One request on a new connection (so that the primary hands it to the next worker). */
function hit(url: string, o: { method?: string; token?: string; body?: unknown } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = request(url, {
      method: o.method ?? 'GET', agent: false,
      headers: { connection: 'close', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(data ? { 'content-type': 'application/json' } : {}) },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: res.headers['x-assay-worker'] as string | undefined, body }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Start `assay serve` with `args`; resolves with its url once it says it listens. */
async function start(args: string[]): Promise<{ url: string; child: ChildProcess; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--pool', poolFile, '--port', '0', ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /assay serve: (http:\/\/127\.0\.0\.1:\d+)\//.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return {
    url, child,
    stop: async () => {
      const code = new Promise<number | null>((r) => child.once('exit', r));
      child.kill('SIGTERM');
      return code;
    },
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'assay-serve-cluster-'));
  poolFile = join(dir, 'pool.sqlite');
  const p = await openPool(poolFile, { create: true });
  await buildFixture(p);
  await p.close();
  const store = new FileTokenStore(stateFiles(`${poolFile}.serve`).tokens);
  tokens = { read: store.create({ name: 'reader', role: 'read', by: 'test' }).token, write: store.create({ name: 'writer', role: 'write', by: 'test' }).token };
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('assay serve --workers 2', () => {
  let server: Awaited<ReturnType<typeof start>>;
  before(async () => {
    server = await start(['--workers', '2', '--replicates', '200']);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('answers every route from both workers, with the same content as the library computes', async () => {
    const routes = [
      '/api/runs', `/api/runs/${IDS.alpha}`, `/api/runs/${IDS.alpha}/stats`, `/api/runs/${IDS.alpha}/attempts?limit=5&filter=incorrect`,
      `/api/runs/${IDS.alpha}/sample?id=${encodeURIComponent(sampleId(2))}`, `/api/compare?runs=${IDS.alpha},${IDS.beta}`, `/api/runs/${IDS.alpha}/progress`,
      '/', `/runs/${IDS.alpha}`, `/runs/${IDS.alpha}/sample?id=${encodeURIComponent(sampleId(2))}`, `/compare?runs=${IDS.alpha},${IDS.beta}`,
    ];
    const seen = new Set<string>();
    for (const route of routes) {
      // Consecutive new connections go to the workers in turn.
      const answers = await Promise.all([hit(server.url + route, { token: tokens.read }), hit(server.url + route, { token: tokens.read })]);
      for (const a of answers) {
        assert.equal(a.status, 200, `${route}: ${a.body.slice(0, 300)}`);
        seen.add(a.worker!);
      }
      if (route.startsWith('/api/') && !route.endsWith('/progress')) assert.deepEqual(JSON.parse(answers[0].body), JSON.parse(answers[1].body), route);
    }
    assert.deepEqual([...seen].sort(), ['1', '2']);
    const runs = JSON.parse((await hit(`${server.url}/api/runs`, { token: tokens.read })).body).runs.map((r: { id: string }) => r.id);
    assert.deepEqual(runs.sort(), Object.values(IDS).filter((id) => id !== IDS.live).sort());
    const pool = await openPool(poolFile, { readonly: true });
    try {
      const expected = await runStatistics(pool, IDS.alpha, { scorer: 'math', replicates: 200 });
      for (let k = 0; k < 2; k++) {
        const got = JSON.parse((await hit(`${server.url}/api/runs/${IDS.alpha}/stats`, { token: tokens.read })).body);
        assert.deepEqual(got.scorers.find((s: { scorer: string }) => s.scorer === 'math'), JSON.parse(JSON.stringify(expected)));
      }
    } finally {
      await pool.close();
    }
  });

  it('a note written through one worker is read through the other; notes written at once through both are all kept', async () => {
    const sid = encodeURIComponent(sampleId(5));
    const posted = await hit(`${server.url}/api/runs/${IDS.alpha}/notes?id=${sid}`, { method: 'POST', token: tokens.write, body: { label: 'bad-gold', text: 'first' } });
    assert.equal(posted.status, 201, posted.body);
    let other: Answer | null = null;
    for (let k = 0; k < 6 && !other; k++) {
      const a = await hit(`${server.url}/api/runs/${IDS.alpha}/notes?id=${sid}`, { token: tokens.read });
      if (a.worker !== posted.worker) other = a;
    }
    assert.ok(other, 'no answer from the other worker');
    assert.deepEqual(JSON.parse(other.body).notes.map((n: { label: string; text: string }) => [n.label, n.text]), [['bad-gold', 'first']]);
    // 20 notes at once, spread over both workers.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => hit(`${server.url}/api/runs/${IDS.alpha}/notes?id=${sid}`, { method: 'POST', token: tokens.write, body: { label: 'grader-wrong', text: `note ${i}` } })));
    assert.deepEqual(many.map((a) => a.status), Array(20).fill(201));
    assert.deepEqual(new Set(many.map((a) => a.worker)), new Set(['1', '2']));
    const lines = readFileSync(stateFiles(`${poolFile}.serve`).notes, 'utf8').trim().split('\n').map((l) => JSON.parse(l).text);
    assert.deepEqual(lines.slice(1).sort(), Array.from({ length: 20 }, (_, i) => `note ${i}`).sort());
    for (let k = 0; k < 2; k++) {
      const a = await hit(`${server.url}/api/runs/${IDS.alpha}/notes?id=${sid}`, { token: tokens.read });
      assert.equal(JSON.parse(a.body).notes.length, 21, `worker ${a.worker}`);
    }
    const audit = readFileSync(stateFiles(`${poolFile}.serve`).audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.action === 'note.add');
    assert.equal(audit.length, 21);
  });
});

it('the rate limit holds across workers: one client gets the burst, then 429, whichever worker answers', async () => {
  const server = await start(['--workers', '2', '--rate-limit', '1', '--burst', '3']);
  try {
    const t0 = performance.now();
    const answers: Answer[] = [];
    for (let k = 0; k < 8; k++) answers.push(await hit(`${server.url}/api/me`, { token: tokens.read }));
    const elapsedS = (performance.now() - t0) / 1000;
    const ok = answers.filter((a) => a.status === 200).length;
    assert.deepEqual(new Set(answers.map((a) => a.worker)), new Set(['1', '2']));
    // Each worker alone would allow its own burst of 3 (6 or more in all); the shared bucket allows 3 plus its refill.
    assert.ok(ok >= 3 && ok <= 3 + Math.floor(elapsedS), `${ok} answered in ${elapsedS.toFixed(2)} s`);
    assert.equal(answers.filter((a) => a.status === 429).length, 8 - ok);
    assert.ok(answers.filter((a) => a.status === 429).every((a) => JSON.parse(a.body).error === 'too many requests; slow down'));
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

it('statistics are computed on the analysis thread: /health is answered while they compute, and they are right', async () => {
  const pool = await openPool(poolFile, { readonly: true });
  const running = await serve(pool, { port: 0, tokens: new FileTokenStore(stateFiles(`${poolFile}.serve`).tokens), rateLimit: null, replicates: 400_000 });
  try {
    const order: string[] = [];
    const stats = hit(`${running.url}/api/runs/${IDS.alpha}/stats`, { token: tokens.read }).then((a) => (order.push('stats'), a));
    await new Promise((r) => setTimeout(r, 50));
    const health = await hit(`${running.url}/health`).then((a) => (order.push('health'), a));
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok', worker: 0 });
    const s = await stats;
    assert.deepEqual(order, ['health', 'stats']);
    assert.equal(s.status, 200, s.body);
    const expected = await runStatistics(pool, IDS.alpha, { scorer: 'judge', replicates: 400_000 });
    assert.deepEqual(JSON.parse(s.body).scorers.find((x: { scorer: string }) => x.scorer === 'judge'), JSON.parse(JSON.stringify(expected)));
  } finally {
    await running.close();
    await pool.close();
  }
});
