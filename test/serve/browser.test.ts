/**
 * The viewer in a real browser (Debian's headless Chromium driven by playwright-core) against a real server (`serve`,
 * on 127.0.0.1, tokens required) over a SQLite pool opened read-only, as `assay serve` runs it: logging in with a
 * token, the run list, a run page with its statistics and plot, the outcome filter (submitted by the app's script) and
 * search, the sample page of a sample whose id, text and responses are hostile markup (no script runs: the window
 * flags it would set stay unset), an image from the pool, the side-by-side view, the live view following a run that a
 * second process-like handle writes to, and a note added with a write token. No page logs a console error or a CSP
 * violation. A screenshot of each main page is checked for content.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { openPool } from '../../src/store/open.ts';
import type { Pool } from '../../src/store/types.ts';
import { FileAuditLog, FileTokenStore, stateFiles } from '../../src/serve/auth.ts';
import { NoteStore } from '../../src/serve/notes.ts';
import { serve, type RunningViewer } from '../../src/serve/server.ts';
import { buildFixture, HOSTILE, HOSTILE_ID, IDS, liveRun, N, redSquare } from './fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
let dir = '';
let reader: Pool;
let writer: Pool;
let server: RunningViewer;
let browser: Browser | null = null;
let live: Awaited<ReturnType<typeof liveRun>>;
const tok = { read: '', write: '' };
const problems: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'assay-serve-browser-'));
  const file = join(dir, 'pool.sqlite');
  writer = await openPool(file, { create: true });
  await buildFixture(writer);
  live = await liveRun(writer, 10);
  reader = await openPool(file, { readonly: true });
  const files = stateFiles(join(dir, 'pool.sqlite.serve'));
  const tokens = new FileTokenStore(files.tokens);
  tok.read = tokens.create({ name: 'reader', role: 'read', by: 'test' }).token;
  tok.write = tokens.create({ name: 'writer', role: 'write', by: 'test' }).token;
  server = await serve(reader, { port: 0, tokens, audit: new FileAuditLog(files.audit), notes: new NoteStore(files.notes), replicates: 200 });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await reader?.close();
  await writer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A browser context logged in with `token` through the login form; it records console errors and page errors. */
async function loggedIn(token: string): Promise<{ ctx: BrowserContext; page: Page }> {
  const { chromium } = await import('playwright-core');
  // launch() gives the browser a fresh, temporary profile (user data dir) of its own, removed when it closes.
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const first = await page.goto(`${server.url}/`);
  assert.equal(first?.status(), 401);
  await page.fill('input[name=token]', token);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
  // From here on (the 401 before logging in is expected) any console error or CSP report is a problem.
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { ctx, page };
}

/** No script from the data ran, no javascript: link exists, the only script is the app's. */
async function assertNothingRan(page: Page, where: string): Promise<void> {
  const r = await page.evaluate(() => ({
    xss: (window as unknown as { __xss?: unknown }).__xss ?? null,
    jsLinks: [...document.querySelectorAll('a')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')).length,
    scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
    handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
  }));
  assert.deepEqual(r, { xss: null, jsLinks: 0, scripts: ['/static/app.js'], handlers: 0 }, where);
}

/** A screenshot with content: a PNG of many distinct byte values, and many rendered text nodes on the page. */
async function assertScreenshot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot({ path: join(dir, `${name}.png`) });
  assert.ok(png.subarray(1, 4).toString() === 'PNG' && png.length > 15_000, `${name}: a PNG of ${png.length} bytes`);
  assert.ok(new Set(png).size > 200, `${name}: ${new Set(png).size} distinct byte values`);
  const textNodes = await page.evaluate(() => {
    const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let n = 0;
    while (w.nextNode()) {
      const el = w.currentNode.parentElement;
      if (w.currentNode.textContent!.trim() && el && el.getClientRects().length) n++;
    }
    return n;
  });
  assert.ok(textNodes > 30, `${name}: ${textNodes} rendered text nodes`);
}

test('a reader logs in, browses runs, filters, opens hostile samples, sees images and the side-by-side view; nothing runs', { timeout: 60_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) return t.skip('chromium not installed at /usr/bin/chromium');
  const { page } = await loggedIn(tok.read);
  // run list
  assert.equal(await page.locator('table.runs tbody tr').count(), 6);
  assert.ok((await page.textContent('table.runs'))!.includes('<script>window.__xss=5</script>'), 'the hostile model name is shown as text');
  await assertNothingRan(page, 'run list');
  await assertScreenshot(page, 'runs');

  // run page: statistics with CIs, the forest plot, the first page of attempts
  await Promise.all([page.waitForURL(`${server.url}/runs/${IDS.alpha}`), page.click(`a[href="/runs/${IDS.alpha}"]`)]);
  assert.match((await page.textContent('table.stats'))!, /math.*%.*\[.*%, .*%\]/s);
  assert.equal(await page.locator('svg.forest .mark.point').count(), 2);
  assert.equal(await page.locator('table.attempts tbody tr').count(), 50);
  await assertNothingRan(page, 'run page');
  await assertScreenshot(page, 'run');

  // the outcome filter submits itself when changed (app.js): only the failed attempt is left
  await Promise.all([page.waitForURL(/filter=failed/), page.selectOption('select[name=filter]', 'failed')]);
  assert.equal(await page.locator('table.attempts tbody tr').count(), 1);
  assert.match((await page.textContent('table.attempts tbody'))!, /s004.*failed/s);
  await Promise.all([page.waitForURL(/filter=disagree/), page.selectOption('select[name=filter]', 'disagree')]);
  assert.deepEqual([...new Set(await page.locator('table.attempts tbody tr td:nth-child(2)').allTextContents())], ['s007', 's008']);
  // search, all outcomes
  await page.selectOption('select[name=filter]', '');
  await page.waitForURL((u) => !u.search.includes('filter=disagree'));
  await page.fill('input[name=q]', 'Confidence: 90%');
  await Promise.all([page.waitForURL(/q=Confidence/), page.click('form.filters button[type=submit] >> text=Apply')]);
  assert.deepEqual(await page.locator('table.attempts tbody tr td:nth-child(2)').allTextContents(), ['s001', 's001', 's001']);
  // the responses in the table are the model's characters, as text
  assert.ok((await page.textContent('table.attempts'))!.includes('Answer: <script>window.__xss=1</script>'));
  await assertNothingRan(page, 'run page, searched');

  // the sample whose id, question, target and responses are hostile
  await page.goto(`${server.url}/runs/${IDS.alpha}`);
  await Promise.all([page.waitForURL(/\/sample\?id=/), page.locator('table.attempts tbody tr').first().locator('a').click()]);
  assert.equal(await page.textContent('h1 code'), HOSTILE_ID);
  const body = await page.textContent('main');
  assert.ok(body!.includes(`What is ${HOSTILE}?`) && body!.includes(`${HOSTILE} Confidence: 50%`));
  await assertNothingRan(page, 'hostile sample page');
  await assertScreenshot(page, 'sample');

  // a multi-turn transcript and an error text with markup
  await page.goto(`${server.url}/runs/${IDS.alpha}/sample?id=s002`);
  assert.equal(await page.locator('#epoch-0 details .msg').count(), 4);
  assert.equal(await page.locator('.attempt details .msg').count(), 12);
  await assertNothingRan(page, 'transcript');
  await page.goto(`${server.url}/runs/${IDS.alpha}/sample?id=s004`);
  assert.ok((await page.textContent('main'))!.includes(`HTTP 500: ${HOSTILE}`));
  await assertNothingRan(page, 'failed attempt');

  // an image of a prompt, served from the pool
  await page.goto(`${server.url}/runs/${IDS.alpha}/sample?id=s003`);
  const img = page.locator('img.sample-image');
  await img.waitFor();
  assert.deepEqual(await img.evaluate((el: HTMLImageElement) => el.decode().then(() => [el.naturalWidth, el.naturalHeight])), [40, 30]);
  assert.equal(await img.getAttribute('src'), `/api/images/${redSquare().sha256}`);

  // side by side with another run
  await Promise.all([page.waitForURL(/\/compare\/sample\?a=/), page.click('text=side by side with another run')]);
  await page.selectOption('select[name=b]', IDS.beta);
  await Promise.all([page.waitForURL(/\/compare\/sample\?/), page.click('text=Show')]);
  assert.equal(await page.locator('.cols section').count(), 2);
  assert.match((await page.textContent('.cols'))!, /reference:noisy\?p=0\.5/);

  // the comparison page of three runs: pairs and a ranking with rank intervals
  await page.goto(`${server.url}/compare?runs=${IDS.alpha}&runs=${IDS.beta}&runs=${IDS.gamma}`);
  assert.equal(await page.locator('table.pairs tbody tr').count(), 3);
  assert.equal(await page.locator('table.ranking tbody tr').count(), 3);
  await assertNothingRan(page, 'comparison');
  await assertScreenshot(page, 'compare');
  assert.deepEqual(problems, []);
});

test('the live view follows a run in progress: attempts and accuracy with its CI update while it runs', { timeout: 60_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) return t.skip('chromium not installed at /usr/bin/chromium');
  const { page } = await loggedIn(tok.read);
  await page.goto(`${server.url}/runs/${IDS.live}/live`);
  await page.waitForFunction(() => Number(document.getElementById('live-polls')?.textContent) >= 1);
  assert.equal(await page.textContent('#live-attempts'), `10 of ${N * 2}`);
  assert.match((await page.textContent('#live-ci'))!, /^\[\d+\.\d%, \d+\.\d%\]$/);
  await live.more(30);
  await page.waitForFunction((want) => document.getElementById('live-attempts')?.textContent === want, `30 of ${N * 2}`, { timeout: 15_000 });
  assert.match((await page.textContent('#live-done'))!, /^62\.5%$/);
  assert.equal(await page.getAttribute('#live-bar', 'value'), '0.625');
  // a run put on a work queue (`assay run --queue`) is followed too: its jobs are run by workers
  await writer.setRunStatus(IDS.live, 'queued');
  await page.waitForFunction(() => document.getElementById('live')?.getAttribute('data-status') === 'queued', undefined, { timeout: 15_000 });
  await live.more(34);
  await page.waitForFunction((want) => document.getElementById('live-attempts')?.textContent === want, `34 of ${N * 2}`, { timeout: 15_000 });
  await writer.setRunStatus(IDS.live, 'complete');
  await page.waitForFunction(() => document.getElementById('live')?.getAttribute('data-status') === 'complete', undefined, { timeout: 15_000 });
  await assertNothingRan(page, 'live view');
  assert.deepEqual(problems, []);
});

test('a writer adds a note (hostile text) through the form; it is shown as text and audited', { timeout: 60_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) return t.skip('chromium not installed at /usr/bin/chromium');
  const { page } = await loggedIn(tok.write);
  await page.goto(`${server.url}/runs/${IDS.alpha}/sample?id=s011`);
  await page.fill('input[name=label]', 'grader-wrong');
  await page.fill('textarea[name=text]', HOSTILE);
  await Promise.all([page.waitForURL(/\/sample\?id=s011$/), page.click('text=Add note')]);
  assert.ok((await page.textContent('main'))!.includes(HOSTILE));
  await assertNothingRan(page, 'sample page with a note');
  const audit = readFileSync(join(dir, 'pool.sqlite.serve', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(audit.some((e) => e.action === 'note.add' && e.target === `${IDS.alpha}/s011` && e.ip === '127.0.0.1'));
  // a reader sees the note but has no form to add one
  const r = await loggedIn(tok.read);
  await r.page.goto(`${server.url}/runs/${IDS.alpha}/sample?id=s011`);
  assert.ok((await r.page.textContent('main'))!.includes('grader-wrong'));
  assert.equal(await r.page.locator('textarea[name=text]').count(), 0);
  assert.deepEqual(problems, []);
});
