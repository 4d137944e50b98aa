/**
 * The viewer's routes in process (`createViewer(pool).fetch`, no socket): every route without a token, with a forged
 * one, with each role; hostile model output escaped on every page; private held-out items withheld from read tokens in
 * every route (downloads included); streamed downloads; ids validated (no traversal); body and rate limits; the
 * same-origin rule for cookie writes; the audit log; the Host check of a viewer without tokens; security headers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openPool } from '../../src/store/open.ts';
import type { Pool } from '../../src/store/types.ts';
import { createViewer, type ViewerApp } from '../../src/serve/app.ts';
import { MemoryAuditLog, MemoryTokenStore } from '../../src/serve/auth.ts';
import { NoteStore } from '../../src/serve/notes.ts';
import { buildFixture, CANARY, EPOCHS, HOSTILE, HOSTILE_ID, IDS, liveRun, N, redSquare, SECRET } from './fixture.ts';

let pool: Pool;
let viewer: ViewerApp;
const tokens = new MemoryTokenStore();
const audit = new MemoryAuditLog();
const tok: Record<'read' | 'write' | 'admin', string> = { read: '', write: '', admin: '' };
let forged = '';
const enc = encodeURIComponent;

before(async () => {
  pool = await openPool('memory:');
  await buildFixture(pool);
  for (const role of ['read', 'write', 'admin'] as const) tok[role] = tokens.create({ name: `${role} user`, role, by: 'test' }).token;
  // The id of a real token with another secret: well-formed, unknown secret.
  forged = tok.admin.slice(0, -8) + (tok.admin.endsWith('AAAAAAAA') ? 'BBBBBBBB' : 'AAAAAAAA');
  viewer = createViewer(pool, { tokens, audit, notes: new NoteStore(null), rateLimit: null, replicates: 200 });
});
after(async () => pool?.close());

function req(path: string, o: { token?: string; method?: string; body?: string; headers?: Record<string, string>; v?: ViewerApp } = {}): Promise<Response> {
  const headers: Record<string, string> = { host: 'viewer.test', ...(o.headers ?? {}) };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.body && !headers['content-type']) headers['content-type'] = 'application/json';
  return Promise.resolve((o.v ?? viewer).fetch(new Request(`http://viewer.test${path}`, { method: o.method ?? 'GET', headers, body: o.body })));
}

const sampleQ = (run: string, id: string) => `/api/runs/${run}/sample?id=${enc(id)}`;

/** Every route: method, path, the least role that may use it, and a body for writes. */
const ROUTES: { method: string; path: string; role: 'read' | 'write' | 'admin'; body?: string; ok?: number; html?: boolean }[] = [
  { method: 'GET', path: '/api/me', role: 'read' },
  { method: 'GET', path: '/api/runs', role: 'read' },
  { method: 'GET', path: '/api/runs?format=csv', role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.alpha}`, role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.alpha}/stats`, role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.alpha}/stats?format=csv`, role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.alpha}/progress`, role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.alpha}/attempts?limit=5`, role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.alpha}/attempts?format=jsonl`, role: 'read' },
  { method: 'GET', path: sampleQ(IDS.alpha, HOSTILE_ID), role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.alpha}/attempt?id=s002&epoch=1`, role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.alpha}/measurements?scorer=judge&format=csv`, role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.alpha}/calibration`, role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.needle}/context`, role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.needle}/context?format=csv`, role: 'read' },
  { method: 'GET', path: `/api/runs/${IDS.alpha}/notes?id=s001`, role: 'read' },
  { method: 'POST', path: `/api/runs/${IDS.alpha}/notes?id=s001`, role: 'write', body: JSON.stringify({ label: 'bad-gold', text: 'route check' }), ok: 201 },
  { method: 'GET', path: `/api/compare?runs=${IDS.alpha},${IDS.beta}`, role: 'read' },
  { method: 'GET', path: `/api/compare?runs=${IDS.alpha},${IDS.beta},${IDS.gamma}&format=csv`, role: 'read' },
  { method: 'GET', path: '/api/ranking', role: 'read' },
  { method: 'GET', path: '/api/eval-sets', role: 'read' },
  { method: 'GET', path: '/api/eval-sets/e0e0e0e0e0e0e0e0', role: 'read' },
  { method: 'GET', path: `/api/images/${redSquare().sha256}`, role: 'read' },
  { method: 'GET', path: '/api/private-sets', role: 'admin' },
  { method: 'GET', path: '/api/tokens', role: 'admin' },
  { method: 'POST', path: '/api/tokens', role: 'admin', body: JSON.stringify({ name: 'made by route check', role: 'read' }), ok: 201 },
  { method: 'GET', path: '/api/audit', role: 'admin' },
  { method: 'GET', path: '/', role: 'read', html: true },
  { method: 'GET', path: `/runs/${IDS.alpha}`, role: 'read', html: true },
  { method: 'GET', path: `/runs/${IDS.alpha}?filter=failed`, role: 'read', html: true },
  { method: 'GET', path: `/runs/${IDS.alpha}/sample?id=${enc(HOSTILE_ID)}`, role: 'read', html: true },
  { method: 'GET', path: `/runs/${IDS.alpha}/live`, role: 'read', html: true },
  { method: 'GET', path: `/runs/${IDS.alpha}/calibration`, role: 'read', html: true },
  { method: 'GET', path: `/runs/${IDS.needle}/context`, role: 'read', html: true },
  { method: 'GET', path: `/compare?runs=${IDS.alpha}&runs=${IDS.beta}&runs=${IDS.gamma}`, role: 'read', html: true },
  { method: 'GET', path: `/compare/sample?a=${IDS.alpha}&b=${IDS.beta}&id=${enc(HOSTILE_ID)}`, role: 'read', html: true },
  { method: 'GET', path: `/compare/sample?a=${IDS.alpha}&id=${enc(HOSTILE_ID)}`, role: 'read', html: true },
  { method: 'GET', path: '/ranking', role: 'read', html: true },
  { method: 'GET', path: '/eval-sets', role: 'read', html: true },
  { method: 'GET', path: '/eval-sets/e0e0e0e0e0e0e0e0', role: 'read', html: true },
  { method: 'GET', path: '/admin/tokens', role: 'admin', html: true },
  { method: 'GET', path: '/admin/audit', role: 'admin', html: true },
  { method: 'GET', path: '/admin/private-sets', role: 'admin', html: true },
];

/** Check a page for markup that could run: raw hostile markup, event-handler attributes, javascript: URLs, scripts other than the app's. */
function assertInert(page: string, where: string): void {
  assert.ok(!page.includes('<script>window.__xss'), `${where}: a raw <script> from the data`);
  assert.ok(!/<img[^>]*onerror/i.test(page), `${where}: a raw <img onerror>`);
  assert.ok(!/href\s*=\s*["']?\s*javascript:/i.test(page), `${where}: a javascript: link`);
  // Tags of the page (values are escaped, so a tag ends at the first '>'), their quoted attribute values blanked.
  const tags = (page.match(/<[a-z][^>]*>/gi) ?? []).map((t) => t.replace(/"[^"]*"|'[^']*'/g, '""'));
  assert.deepEqual(tags.filter((t) => /\son[a-z]+\s*=/i.test(t)), [], `${where}: an element with an event-handler attribute`);
  const scripts = page.match(/<script\b[^>]*>/gi) ?? [];
  assert.deepEqual(scripts, ['<script src="/static/app.js" defer>'], `${where}: scripts other than /static/app.js`);
  assert.ok(!page.includes('style='), `${where}: an inline style (the CSP allows none)`);
}

describe('access control on every route', () => {
  it('without a token every route but /static and /login answers 401 (JSON for the API, the login page for pages)', async () => {
    for (const r of ROUTES) {
      const res = await req(r.path, { method: r.method, body: r.body });
      assert.equal(res.status, 401, `${r.method} ${r.path}`);
      const text = await res.text();
      if (r.path.startsWith('/api/')) assert.match(JSON.parse(text).error, /token is required/);
      else assert.match(text, /<form method="post" action="\/login">/);
      assert.ok(!text.includes(SECRET) && !text.includes('__xss'), `${r.path}: a 401 shows nothing of the pool`);
    }
    assert.equal((await req('/static/app.js')).status, 200);
    assert.equal((await req('/login')).status, 200);
  });

  it('a forged token (a real id with another secret), a malformed one and a revoked one are refused on every route', async () => {
    const v = createViewer(pool, { tokens, rateLimit: null, authFailureLimit: { perSecond: 1000, burst: 1e6 } });
    const spare = tokens.create({ name: 'to revoke', role: 'admin', by: 'test' });
    assert.equal((await req('/api/me', { token: spare.token })).status, 200);
    tokens.revoke(spare.record.id, 'test');
    for (const bad of [forged, 'assay_000000000000_' + 'x'.repeat(43), 'not-a-token', spare.token]) {
      for (const r of ROUTES) {
        const res = await req(r.path, { method: r.method, body: r.body, token: bad, v });
        assert.equal(res.status, 401, `${bad.slice(0, 20)} ${r.method} ${r.path}`);
        await res.body?.cancel();
      }
    }
  });

  it('each role reaches exactly the routes of its level: read reads, write also writes notes, admin also manages tokens', async () => {
    for (const role of ['read', 'write', 'admin'] as const) {
      for (const r of ROUTES) {
        const res = await req(r.path, { method: r.method, body: r.body, token: tok[role] });
        const allowed = ['read', 'write', 'admin'].indexOf(role) >= ['read', 'write', 'admin'].indexOf(r.role);
        const body = await res.text();
        assert.equal(res.status, allowed ? (r.ok ?? 200) : 403, `${role} ${r.method} ${r.path}: ${body.slice(0, 300)}`);
        if (r.html && allowed) assertInert(body, `${role} ${r.path}`);
      }
    }
  });

  it('security headers on every answer: pages, API, downloads, images, errors', async () => {
    for (const [path, token] of [['/', tok.read], ['/api/runs?format=csv', tok.read], [`/api/images/${redSquare().sha256}`, tok.read], ['/api/nope', tok.read], ['/', undefined], ['/static/app.js', undefined]] as const) {
      const res = await req(path, { token });
      await res.body?.cancel();
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.ok(path.startsWith('/api/images') ? /sandbox/.test(csp) : /script-src 'self'/.test(csp) && !csp.includes('unsafe-inline'), `${path}: ${csp}`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
    }
  });
});

describe('hostile model output', () => {
  it('renders as text on every page, visible as the characters the model wrote', async () => {
    const pages = ROUTES.filter((r) => r.html).map((r) => r.path);
    let seen = 0;
    for (const p of pages) {
      const page = await (await req(p, { token: tok.admin })).text();
      assertInert(page, p);
      if (page.includes('&lt;script&gt;window.__xss=')) seen++;
    }
    // the escaped markup is shown where the data is: run list and run pages (model name), sample pages, comparisons…
    assert.ok(seen >= 8, `escaped hostile text on ${seen} pages`);
    const sample = await (await req(`/runs/${IDS.alpha}/sample?id=${enc('s001')}`, { token: tok.read })).text();
    assert.ok(sample.includes('Answer: &lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x onerror=&quot;window.__xss=2&quot;&gt;&lt;a href=&quot;javascript:window.__xss=3&quot;&gt;click me&lt;/a&gt;'));
    const transcript = await (await req(`/runs/${IDS.alpha}/sample?id=s002`, { token: tok.read })).text();
    assert.match(transcript, /Transcript \(4 turns\)/);
    assert.ok(transcript.includes('e4 &lt;script&gt;'));
  });

  it('in the JSON API it stays data (served as application/json), and in CSV a formula-looking cell is defused', async () => {
    const res = await req(`/api/runs/${IDS.alpha}/attempt?id=s001&epoch=0`, { token: tok.read });
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal((await res.json()).attempt.response, `Answer: ${HOSTILE} Confidence: 90%`);
    const csv = await (await req(`/api/runs/${IDS.alpha}/attempts?format=csv&q=${enc('HTTP 500')}`, { token: tok.read })).text();
    assert.match(csv, /"HTTP 500: <script>window.__xss=1<\/script><img src=x onerror=""window.__xss=2"">/);
  });
});

describe('pages and API read the pool in pages', () => {
  it('the attempts API pages by keyset cursor through the whole run, each attempt once, in order', async () => {
    const seen: string[] = [];
    let after = '';
    for (let i = 0; i < 100; i++) {
      const page = await (await req(`/api/runs/${IDS.alpha}/attempts?limit=7${after ? `&after=${after}` : ''}`, { token: tok.read })).json();
      for (const r of page.rows) seen.push(`${r.index}.${r.epoch}`);
      if (!page.next) break;
      after = page.next;
    }
    assert.equal(seen.length, N * EPOCHS);
    assert.deepEqual(seen, Array.from({ length: N * EPOCHS }, (_, k) => `${Math.floor(k / EPOCHS)}.${k % EPOCHS}`));
  });

  it('filters give exactly the attempts of their class; search finds text in responses; the scan budget bounds the work', async () => {
    const rows = async (q: string) => (await (await req(`/api/runs/${IDS.alpha}/attempts?limit=500&${q}`, { token: tok.read })).json()).rows as { sample_id: string; epoch: number; outcome: string; finish_reason: string; scores: Record<string, number | null> }[];
    assert.deepEqual((await rows('filter=failed')).map((r) => `${r.sample_id}/${r.epoch}`), ['s004/0']);
    assert.ok((await rows('filter=truncated')).every((r) => r.sample_id === 's005' && r.finish_reason === 'length'));
    assert.equal((await rows('filter=truncated')).length, EPOCHS);
    const dis = await rows('filter=disagree');
    assert.deepEqual([...new Set(dis.map((r) => r.sample_id))], ['s007', 's008']);
    assert.equal(dis.length, 2 * EPOCHS);
    const correct = await rows('filter=correct'), incorrect = await rows('filter=incorrect');
    assert.ok(correct.every((r) => r.outcome === 'correct') && incorrect.every((r) => r.outcome === 'incorrect'));
    assert.equal(correct.length + incorrect.length, N * EPOCHS - 1);
    assert.deepEqual((await rows(`q=${enc('confidence: 90%')}`)).map((r) => r.sample_id), ['s001', 's001', 's001']);
    // A budget of 10 attempts: a filter that matches nothing in the first 10 returns an empty page and a cursor to go on.
    const small = createViewer(pool, { tokens, rateLimit: null, scanBudget: 10 });
    const page = await (await req(`/api/runs/${IDS.alpha}/attempts?filter=disagree`, { token: tok.read, v: small })).json();
    assert.equal(page.rows.length, 0);
    assert.equal(page.scanned, 10);
    assert.equal(page.budget_exhausted, true);
    assert.equal(page.next, '3.0');
  });

  it('statistics come from the analysis functions with their CIs; a comparison of three runs has a ranking with rank intervals', async () => {
    const stats = await (await req(`/api/runs/${IDS.gamma}/stats`, { token: tok.read })).json();
    const s = stats.scorers[0].statistics;
    assert.equal(s.accuracy, 1);
    assert.ok(s.ci95.lo < 1 && s.ci95.hi === 1 && /Wilson|clustered/.test(s.ci95.method));
    const cmp = await (await req(`/api/compare?runs=${IDS.alpha},${IDS.beta},${IDS.gamma}`, { token: tok.read })).json();
    assert.equal(cmp.pairs.length, 3);
    assert.equal(cmp.ranking.runs.length, 3);
    assert.equal(cmp.ranking.runs[0].label.includes('oracle'), true);
    assert.ok(cmp.ranking.runs.every((r: { rank_interval: { lo: number; hi: number } }) => r.rank_interval.lo <= r.rank_interval.hi));
    const heat = await (await req(`/api/runs/${IDS.needle}/context`, { token: tok.read })).json();
    assert.deepEqual(heat.all.heatmap.lengths, [1000, 4000, 16000]);
    assert.equal(heat.all.heatmap.cells.find((c: { length: number; depth: number }) => c.length === 1000 && c.depth === 0).accuracy, 1);
    const cal = await (await req(`/api/runs/${IDS.alpha}/calibration`, { token: tok.read })).json();
    assert.equal(cal.scorer, 'judge');
    assert.ok(cal.calibration.n > 0 && Number.isFinite(cal.calibration.ece.value));
  });

  it('downloads stream every row: the attempts CSV has a header and one line per attempt', async () => {
    const res = await req(`/api/runs/${IDS.beta}/attempts?format=csv`, { token: tok.read });
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="attempts-b2b2b2b2b2b2b2b2.csv"/);
    const lines = (await res.text()).trim().split('\r\n');
    assert.equal(lines[0], 'index,sample_id,epoch,status,finish_reason,outcome,scorer,value,extracted,response,error,prompt_tokens,completion_tokens,latency_ms,tries,cached,model_id,score:math');
    // the hostile response of sample 0 spans no line (quoted), so lines = attempts + header
    assert.equal(lines.length, N * EPOCHS + 1);
    const json = await (await req(`/api/runs?format=json`, { token: tok.read })).json();
    assert.equal(json.length, 5);
  });

  it('progress: a running run held by a live process is running; once nobody holds it, interrupted', async () => {
    const p2 = await openPool('memory:');
    try {
      await liveRun(p2, 6);
      const v = createViewer(p2, { tokens, rateLimit: null });
      const a = await (await req(`/api/runs/${IDS.live}/progress`, { token: tok.read, v })).json();
      assert.deepEqual([a.status, a.attempts, a.planned, a.done], ['running', 6, N * 2, 6 / (N * 2)]);
      assert.ok(a.ci95.lo <= a.accuracy && a.accuracy <= a.ci95.hi);
      await p2.releaseLease(IDS.live, 'fixture-writer');
      assert.equal((await (await req(`/api/runs/${IDS.live}/progress`, { token: tok.read, v })).json()).status, 'interrupted');
    } finally {
      await p2.close();
    }
  });

  it('images come back byte for byte with their type', async () => {
    const img = redSquare();
    const res = await req(`/api/images/${img.sha256}`, { token: tok.read });
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(img.bytes));
  });
});

describe('private held-out items', () => {
  const privRoutes = [
    `/api/runs/${IDS.priv}/sample?id=p1`, `/api/runs/${IDS.priv}/attempt?id=p1&epoch=0`, `/api/runs/${IDS.priv}/attempts`, `/api/runs/${IDS.priv}/attempts?format=csv`,
    `/api/runs/${IDS.priv}/attempts?q=${SECRET}`, `/api/runs/${IDS.priv}/measurements?format=jsonl`, `/runs/${IDS.priv}`, `/runs/${IDS.priv}/sample?id=p1`,
    `/compare/sample?a=${IDS.priv}&b=${IDS.alpha}&id=p1`, '/', '/api/runs',
  ];

  it('a read or write token never sees what the pool holds of them, in any route; scores are shown', async () => {
    for (const role of ['read', 'write'] as const) {
      for (const p of privRoutes) {
        const res = await req(p, { token: tok[role] });
        const body = await res.text();
        assert.equal(res.status, 200, `${p}: ${body.slice(0, 200)}`);
        assert.ok(!body.includes(SECRET), `${role} ${p} shows private text`);
        assert.ok(!body.includes(CANARY), `${role} ${p} shows a canary`);
      }
      // search cannot probe the withheld text either
      assert.equal((await (await req(`/api/runs/${IDS.priv}/attempts?q=${SECRET}`, { token: tok[role] })).json()).rows.length, 0);
      assert.equal((await req('/api/private-sets', { token: tok[role] })).status, 403);
    }
    const stats = await (await req(`/api/runs/${IDS.priv}/stats`, { token: tok.read })).json();
    assert.equal(stats.scorers[0].statistics.accuracy, 0.5);
  });

  it('an admin sees the stored (sealed) text, and the private set record without its canary or ciphertext', async () => {
    assert.ok((await (await req(`/api/runs/${IDS.priv}/sample?id=p1`, { token: tok.admin })).text()).includes(`${SECRET} response 1`));
    const sets = await (await req('/api/private-sets', { token: tok.admin })).text();
    assert.match(sets, /secret-set/);
    assert.ok(!sets.includes(CANARY) && !sets.includes('Y2lwaGVydGV4dA=='));
    assert.ok(!(await (await req('/admin/private-sets', { token: tok.admin })).text()).includes(CANARY));
  });
});

describe('input limits, ids, origin, audit', () => {
  it('ids are validated: traversal-looking or malformed ids are a 400 or 404, never a file', async () => {
    for (const p of ['/api/images/..%2F..%2Fetc%2Fpasswd', '/api/images/ABC', `/api/runs/..%2F..%2Fetc/stats`, '/api/runs/%2E%2E', '/static/..%2Fapp.ts', '/static/app.js%00',
      `/api/runs/${IDS.alpha}/sample?id=${enc('../../../../etc/passwd')}`, `/api/runs/${IDS.alpha}/sample?id=${enc('a\u0000b')}`, `/api/runs/${IDS.alpha}/attempts?after=1;drop`,
      `/api/runs/${IDS.alpha}/attempts?limit=100000`, `/api/runs/${IDS.alpha}/attempts?filter=evil`, `/api/runs/${IDS.alpha}/attempts?scorer=${enc("math' OR 1=1")}`, '/api/tokens/..%2F', '/eval-sets/..%2F..%2F']) {
      const res = await req(p, { token: tok.admin });
      const body = await res.text();
      assert.ok([400, 404].includes(res.status), `${p}: ${res.status}`);
      assert.ok(!body.includes('root:') && !body.includes('import '), p);
    }
  });

  it('a body over the limit is refused with 413; a bad JSON body with 400', async () => {
    const big = JSON.stringify({ label: 'x', text: 'y'.repeat(70_000) });
    const res = await req(`/api/runs/${IDS.alpha}/notes?id=s001`, { method: 'POST', token: tok.write, body: big });
    assert.equal(res.status, 413);
    assert.equal((await req(`/api/runs/${IDS.alpha}/notes?id=s001`, { method: 'POST', token: tok.write, body: '{nope' })).status, 400);
    assert.equal((await req(`/api/runs/${IDS.alpha}/notes?id=s001`, { method: 'POST', token: tok.write, body: JSON.stringify({ label: '<b>', text: '' }) })).status, 400);
  });

  it('the rate limit answers 429 with Retry-After once a token has used its burst; other tokens are not slowed', async () => {
    const v = createViewer(pool, { tokens, rateLimit: { perSecond: 0.5, burst: 3 } });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await req('/api/me', { token: tok.read, v })).status);
    assert.deepEqual(codes, [200, 200, 200, 429, 429]);
    const limited = await req('/api/me', { token: tok.read, v });
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal((await req('/api/me', { token: tok.write, v })).status, 200);
  });

  it('repeated failed authentications from one address are slowed down (429)', async () => {
    const v = createViewer(pool, { tokens, rateLimit: null });
    const codes: number[] = [];
    for (let i = 0; i < 25; i++) codes.push((await req('/api/me', { token: forged, v })).status);
    assert.equal(codes.filter((c) => c === 401).length, 20);
    assert.equal(codes.at(-1), 429);
  });

  it('a cookie-carried write must come from this origin; a bearer write need not (no ambient credential)', async () => {
    const form = 'label=cookie&text=hello';
    const headers = (origin: string) => ({ cookie: `assay_token=${tok.write}`, origin, 'content-type': 'application/x-www-form-urlencoded' });
    const cross = await req(`/runs/${IDS.alpha}/notes?id=s009`, { method: 'POST', body: form, headers: headers('https://evil.example') });
    assert.equal(cross.status, 403);
    // a browser says where a request comes from in Sec-Fetch-Site (read first: with no-referrer pages, Origin is "null")
    assert.equal((await req(`/runs/${IDS.alpha}/notes?id=s009`, { method: 'POST', body: form, headers: { ...headers('null'), 'sec-fetch-site': 'cross-site' } })).status, 403);
    assert.equal((await req(`/runs/${IDS.alpha}/notes?id=s009`, { method: 'POST', body: form, headers: { ...headers('null') } })).status, 403);
    // a bearer token is no ambient credential: its writes need no origin
    assert.equal((await req(`/api/runs/${IDS.alpha}/notes?id=s009`, { method: 'POST', token: tok.write, body: JSON.stringify({ label: 'bearer', text: '' }), headers: { 'sec-fetch-site': 'cross-site' } })).status, 201);
    const same = await req(`/runs/${IDS.alpha}/notes?id=s009`, { method: 'POST', body: form, headers: headers('http://viewer.test') });
    assert.equal(same.status, 303);
    assert.equal(same.headers.get('location'), `/runs/${IDS.alpha}/sample?id=s009`);
    const notes = await (await req(`/api/runs/${IDS.alpha}/notes?id=s009`, { token: tok.read })).json();
    assert.deepEqual(notes.notes.map((n: { label: string; text: string }) => [n.label, n.text]), [['bearer', ''], ['cookie', 'hello']]);
  });

  it('log in sets an HttpOnly, SameSite=Strict cookie; a wrong token is refused and audited', async () => {
    const good = await req('/login', { method: 'POST', body: `token=${enc(tok.read)}`, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://viewer.test' } });
    assert.equal(good.status, 303);
    const cookie = good.headers.get('set-cookie') ?? '';
    assert.match(cookie, /assay_token=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const before = audit.entries.length;
    const bad = await req('/login', { method: 'POST', body: `token=${enc(forged)}`, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://viewer.test' } });
    assert.equal(bad.status, 401);
    assert.equal(audit.entries.length, before + 1);
    assert.equal(audit.entries.at(-1)!.action, 'login.failed');
  });

  it('every write is in the audit log: tokens created and revoked through the API, notes added', async () => {
    const made = await (await req('/api/tokens', { method: 'POST', token: tok.admin, body: JSON.stringify({ name: 'audited', role: 'write' }) })).json();
    assert.match(made.token, /^assay_[0-9a-f]{12}_/);
    assert.equal(made.record.sha256, undefined);
    assert.equal((await req('/api/me', { token: made.token })).status, 200);
    assert.equal((await req(`/api/tokens/${made.record.id}`, { method: 'DELETE', token: tok.admin })).status, 200);
    assert.equal((await req('/api/me', { token: made.token })).status, 401);
    await req(`/api/runs/${IDS.alpha}/notes?id=s010`, { method: 'POST', token: tok.write, body: JSON.stringify({ label: 'grader-wrong', text: HOSTILE }) });
    const entries = (await (await req('/api/audit', { token: tok.admin })).json()).entries as { action: string; target: string; actor: string }[];
    const adminId = tokens.list().find((t) => t.name === 'admin user')!.id, writeId = tokens.list().find((t) => t.name === 'write user')!.id;
    assert.ok(entries.some((e) => e.action === 'token.create' && e.target === made.record.id && e.actor === `token:${adminId}`));
    assert.ok(entries.some((e) => e.action === 'token.revoke' && e.target === made.record.id));
    assert.ok(entries.some((e) => e.action === 'note.add' && e.target === `${IDS.alpha}/s010` && e.actor === `token:${writeId}`));
    // the note's hostile text is shown escaped
    const page = await (await req(`/runs/${IDS.alpha}/sample?id=s010`, { token: tok.read })).text();
    assertInert(page, 'sample page with a hostile note');
    assert.ok(page.includes('grader-wrong'));
  });
});

describe('without tokens (loopback)', () => {
  it('every request may read, only when addressed to the loopback host; nothing may write', async () => {
    const open = createViewer(pool, { tokens: null, rateLimit: null });
    assert.equal((await req('/api/me', { v: open, headers: { host: '127.0.0.1:8400' } })).status, 200);
    assert.equal((await req('/', { v: open, headers: { host: 'localhost:8400' } })).status, 200);
    // a DNS-rebinding page reaches the loopback port under its own name
    assert.equal((await req('/api/runs', { v: open, headers: { host: 'evil.example:8400' } })).status, 400);
    assert.equal((await req(`/api/runs/${IDS.alpha}/notes?id=s001`, { v: open, method: 'POST', body: '{"label":"x","text":"y"}', headers: { host: '127.0.0.1:8400' } })).status, 403);
    assert.equal((await req('/api/tokens', { v: open, headers: { host: '127.0.0.1' } })).status, 403);
    // private items stay withheld (the role is read)
    assert.ok(!(await (await req(`/api/runs/${IDS.priv}/sample?id=p1`, { v: open, headers: { host: '127.0.0.1' } })).text()).includes(SECRET));
  });
});
