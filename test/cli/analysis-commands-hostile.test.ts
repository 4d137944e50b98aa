/**
 * The analysis commands (compare, report, plan, sweep, diff) given what a new or hostile user gives them — runs where B
 * wins, a run whose every attempt failed, HTML in model names and sample ids, impossible plans, bad sweep grids, a run
 * diffed with itself — run as child processes on a temporary pool; the report is rendered in headless Chromium.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { verdictOf } from '../../src/analyses/compare.ts';
import { comparePaired } from '../../src/stats/paired.ts';
import { createRng } from '../../src/core/rng.ts';
import { shared } from '../../testkit/shared.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
/** A recorded model whose name is markup: `replay:<file>#<name>` (the generic replay format takes any name). */
const HOSTILE_NAME = '<script>alert(1)</script>';

let dir = '';
let pool = '';
let data = '';
const ids: Record<string, string> = {};

function assay(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--pool', pool], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function json(args: string[], code = 0) {
  const r = assay([...args, '--json']);
  assert.equal(r.code, code, r.err);
  return JSON.parse(r.out);
}
const runCount = () => json(['runs']).runs.length as number;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'assay-hostile-commands-'));
  pool = join(dir, 'pool.sqlite');
  data = join(dir, 'hostile.jsonl');
  // sample ids and questions full of HTML
  writeFileSync(data, Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `<img src=x onerror=alert(${i})>&"'`, question: `<b>What</b> is ${i} + 1?`, answer: String(i + 1) })).join('\n') + '\n');
  const base = ['run', '--dataset', `jsonl:${data}`, '--epochs', '3', '--scorer', 'math'];
  // a model right on 70% of attempts, replayed from a file, under a name full of markup
  const replay = join(dir, 'replay.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) for (let e = 0; e < 3; e++) lines.push(JSON.stringify({ id: `<img src=x onerror=alert(${i})>&"'`, epoch: e, response: `The answer is \\boxed{${(i * 3 + e) % 10 < 7 ? i + 1 : i + 2}}.` }));
  writeFileSync(replay, lines.join('\n') + '\n');
  ids.p7 = json([...base, '--model', `replay:${replay}#${HOSTILE_NAME}`]).run.run_id;
  ids.p3 = json([...base, '--model', 'reference:noisy?p=0.3']).run.run_id;
  // every attempt fails: nothing listens on port 1
  ids.dead = json(['run', '--dataset', `jsonl:${data}`, '--epochs', '1', '--scorer', 'math', '--model', 'openai-compatible:http://127.0.0.1:1/v1#dead', '--max-retries', '0', '--timeout', '2000'], 1).run.run_id;
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the verdict states the difference and its CI in the direction it names (higher − lower), whichever run is A', () => {
  const rng = createRng(5);
  for (let trial = 0; trial < 40; trial++) {
    const n = 30 + rng.index(40);
    const pa = rng.float(), pb = rng.float();
    const a = Array.from({ length: n }, () => [rng.float() < pa ? 1 : 0, rng.float() < pa ? 1 : 0]);
    const b = Array.from({ length: n }, () => [rng.float() < pb ? 1 : 0, rng.float() < pb ? 1 : 0]);
    const c = comparePaired(a, b, { seed: trial, replicates: 300, permutations: 500 });
    const v = verdictOf(c, 'RUN-A', 'RUN-B', c.sign_flip.p, 0.05);
    const m = v.match(/^(RUN-[AB]) scores higher than (RUN-[AB]) by (-?[\d.]+) pts \(95% CI (-?[\d.]+) pts to (-?[\d.]+) pts/);
    if (!m) {
      assert.match(v, /^No detectable difference at this size/);
      continue;
    }
    const [, hi, , d, lo, up] = m;
    assert.equal(hi, c.difference > 0 ? 'RUN-A' : 'RUN-B', v);
    assert.ok(Number(lo) > 0 && Number(lo) <= Number(d) + 0.05 && Number(d) <= Number(up) + 0.05, `CI must bracket the stated gap: ${v}`);
  }
  // through the CLI: B (p=0.7) beats A (p=0.3)
  const r = json(['compare', ids.p3!, ids.p7!, '--replicates', '400']);
  const p = r.pairs[0];
  assert.ok(p.difference < 0);
  assert.match(p.verdict, /scores higher than reference:noisy\?p=0\.3 by [\d.]+ pts \(95% CI [\d.]+ pts to [\d.]+ pts/);
});

test('compare refuses significance levels outside (0, 1) and explains a run without graded attempts', () => {
  for (const a of ['0', '1', '1.5', '-0.2']) {
    const r = assay(['compare', ids.p7!, ids.p3!, '--alpha', a]);
    assert.equal(r.code, 2, `--alpha ${a}: ${r.out}`);
    assert.match(r.err, /alpha/);
  }
  const dead = assay(['compare', ids.p7!, ids.dead!]);
  assert.equal(dead.code, 2);
  assert.match(dead.err, /no graded attempt \(40 failed/);
  // identical per-sample scores: no "minimum detectable effect of ±0.0 pts"
  const same = assay(['compare', ids.p7!, ids.p7!.slice(0, 10)]);
  assert.equal(same.code, 2, 'the same run twice');
});

test('report: a run with zero graded attempts is shown (not a crash), HTML in names and ids is escaped, the layout fits', async (t) => {
  const out = join(dir, 'r.html');
  const r = assay(['report', ids.p7!, ids.p3!, ids.dead!, '-o', out, '--replicates', '300', '--title', '<script>alert("title")</script>']);
  assert.equal(r.code, 0, r.err);
  const html = readFileSync(out, 'utf8');
  assert.doesNotMatch(html, /<script|<img/i, 'no live markup from titles, model names or sample ids');
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /has no graded attempt: 40 of its 40 attempt\(s\) failed/);
  const alone = join(dir, 'dead.html');
  assert.equal(assay(['report', ids.dead!, '-o', alone]).code, 0, 'a report of only a failed run still renders');
  assert.match(readFileSync(alone, 'utf8'), /no graded attempt/);

  if (!existsSync(CHROMIUM)) return t.skip('chromium not installed at /usr/bin/chromium');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    for (const width of [1200, 1000]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(pathToFileURL(out).href);
      assert.deepEqual(dialogs, [], 'no script ran');
      assert.equal(await page.title(), '<script>alert("title")</script>', 'the title is shown as text');
      assert.equal(await page.locator('table.runs tbody tr').count(), 3, 'the failed run has its row');
      assert.equal(await page.locator('svg.forest .mark.point').count(), 2, 'only graded runs get a point');
      // the page never scrolls sideways: wide tables wrap (or scroll inside their own box)
      const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(sideways <= 0, `page scrolls sideways by ${sideways}px at width ${width}`);
      // at a desktop width every table fits whole; narrower, a wide table scrolls inside its own box
      const cut = await page.evaluate(() => [...document.querySelectorAll('table')].filter((tb) => tb.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map((tb) => tb.className));
      if (width >= 1200) assert.deepEqual(cut, [], `tables cut off at width ${width}`);
      else {
        const unscrollable = await page.evaluate(() => [...document.querySelectorAll('table')].filter((tb) => tb.parentElement!.scrollWidth > tb.parentElement!.clientWidth && getComputedStyle(tb.parentElement!).overflowX !== 'auto').length);
        assert.equal(unscrollable, 0);
      }
      await page.close();
    }
  } finally {
    await browser.close();
  }
});

test('plan: no clipped rates, no NaN tables, no stack traces', () => {
  const hi = json(['plan', '--p', '0.99', '--delta', '0.03']);
  assert.match(hi.components.source, /0\.990 vs 0\.960/, 'B is 3 points away, not clipped at 100%');
  const one = json(['plan', '--p', '1', '--delta', '0.03']);
  assert.ok(one.rows[0].samples > 100, `p=1, δ=0.03 needs real samples, got ${one.rows[0].samples}`);
  const bad: string[][] = [
    ['--p', '0.5', '--delta', '0.6'],
    ['--p', '0.7', '--delta', '0.03', '--half-width', '0.02'],
    ['--pilot', ids.dead!, '--delta', '0.03'],
    ['--pilot', ids.p7!, '--pilot-b', ids.p7!, '--delta', '0.03'],
    ['--pilot', ids.p7!, '--p', '0.5', '--delta', '0.03'],
    ['--p', '0.7', '--delta', '0'],
    ['--p', '0.7', '--delta', '0.03', '--power', '1'],
  ];
  for (const args of bad) {
    const r = assay(['plan', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.out}${r.err}`);
    assert.doesNotMatch(r.err, /\n\s+at /, `no stack trace for ${args.join(' ')}`);
  }
  const pilot = json(['plan', '--pilot', ids.p7!, '--delta', '0.1']);
  assert.ok(pilot.rows.every((r: { samples: number }) => Number.isInteger(r.samples)));
});

test('sweep: a bad grid is refused before any run is made', () => {
  const before = runCount();
  const base = ['sweep', '--dataset', `jsonl:${data}`, '--model', 'reference:noisy?p=0.7', '--scorer', 'math', '--limit', '5'];
  for (const grid of [['--temperature', '0.5,-1'], ['--temperature', ','], ['--temperature', '0.5,,1'], ['--seeds', '0,0'], ['--top-p', '0.5,2'], ['--temperature', '0.2,0.2', '--seeds', '0']]) {
    const r = assay([...base, ...grid]);
    assert.equal(r.code, 2, `${grid.join(' ')}: ${r.err}`);
    assert.equal(runCount(), before, `${grid.join(' ')} left runs in the pool`);
  }
});

test('diff of a run with itself says so', () => {
  const d = json(['diff', ids.p7!, ids.p7!]);
  assert.equal(d.same_run, true);
  assert.equal(d.fields.length, 0);
  const text = assay(['diff', ids.p7!, ids.p7!]);
  assert.match(text.out, /same run/);
  assert.equal(json(['diff', ids.p7!, ids.p3!]).same_run, false);
});

test('sweep: Ctrl-C stops the running cell cleanly (run interrupted, lease given up), starts no other cell, and says how to resume', async () => {
  const { spawn } = await import('node:child_process');
  const own = join(dir, 'sweep-stop.sqlite');
  const child = spawn(process.execPath, [BIN, 'sweep', '--dataset', `gsm8k:${shared('data/gsm8k/test.jsonl')}`, '--model', 'reference:noisy?p=0.7', '--temperature', '0,1', '--seeds', '0,1', '--epochs', '500', '--scorer', 'gsm8k', '--pool', own], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '', out = '';
  child.stdout.on('data', (d) => (out += d));
  const started = new Promise<void>((res) => child.stderr.on('data', (d) => {
    err += d;
    if (/sweep 1\/4/.test(err)) res();
  }));
  const done = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  await started;
  child.kill('SIGINT');
  const code = await done;
  assert.equal(code, 1, err);
  assert.match(err, /assay: sweep stopped during run 1 of 4 \([0-9a-f]{8}\); run the same sweep again to resume/);
  assert.doesNotMatch(err, /sweep 2\/4/);
  assert.equal(out, '', 'no analysis of a stopped sweep');
  const runs = JSON.parse(spawnSync(process.execPath, [BIN, 'runs', '--json', '--pool', own], { encoding: 'utf8' }).stdout).runs;
  assert.deepEqual(runs.map((r: { status: string; lease: unknown }) => [r.status, r.lease]), [['interrupted', null]]);
});
