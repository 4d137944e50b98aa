/**
 * Model-vs-model matches audited from both sides, and `assay report` on arena runs. Two models are two addresses of
 * the OpenAI-compatible test server (testkit/fake-openai-server.ts; it reports prompt tokens as ⌈characters / 4⌉ of
 * the messages sent and completion tokens as the reply's words, so every count can be recomputed from what was
 * stored). Checked: the host attempt's transcript holds the opponent model's every prompt and reply, marked with its
 * address and in the order they happened, while its assistant turns and token counts stay the host's own; each try
 * records its own call's tokens; the arena summary (in process and `assay arena --json`) gives each model its own
 * calls and tokens; `assay report <run>` of an arena run shows each stored match move by move.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { messageText, type Message } from '../../src/core/schemas.ts';
import { formatArena, getGame, opponentMark, runArena, type ArenaReport, type Game, type MatchRecord } from '../../src/games/index.ts';
import { arenaRunMatches, boardText, isArenaRun, renderArenaReport } from '../../src/report/arena.ts';
import { esc } from '../../src/report/svg.ts';
import { openPool } from '../../src/store/open.ts';
import type { Pool } from '../../src/store/types.ts';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));

const firstLegal = (text: string) => /Legal moves[^:]*: ([^,\n]+)/.exec(text)![1]!.replace(/\. Reply with.*$/, '').trim();
/** The test server's token counts for one call (see the module comment). */
const promptTokens = (conversation: string[]) => Math.ceil(conversation.reduce((n, m) => n + m.length, 0) / 4);
const words = (s: string) => s.split(/[ \n\t\r]+/).filter(Boolean).length;

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let first: FakeOpenAIServer;
let shaky: FakeOpenAIServer;
let A: string, B: string;
let dir: string;
let poolPath: string;
let report: ArenaReport;

before(async () => {
  first = await startFakeOpenAIServer({ modelId: 'first', answer: (q) => ({ content: `OWN_WINS: none\nLet me think about it.\nMOVE: ${firstLegal(q)}` }) });
  // Every first reply an illegal move, every re-prompt answered with the last legal move.
  shaky = await startFakeOpenAIServer({ modelId: 'shaky', answer: (q) => ({ content: /^That move is illegal/.test(q) ? `Fine, then.\nMOVE: ${/Legal moves: ([^\n]*?)\. Reply/.exec(q)![1]!.split(', ').at(-1)}` : 'I take z9.\nMOVE: z9' }) });
  A = `openai-compatible:${first.url}#first`;
  B = `openai-compatible:${shaky.url}#shaky`;
  dir = mkdtempSync(join(tmpdir(), 'assay-arena-models-'));
  poolPath = join(dir, 'pool.sqlite');
  await using pool = await openPool(poolPath, { create: true });
  report = await runArena({ games: ['tictactoe'], models: [A, B], opponents: ['random'], matches: 2, modelMatches: 2, referenceMatches: 0, form: 'cot', policy: { retries: 1, then: 'random', penalty: 0.1 }, pool, concurrency: 2, maxRetries: 0, bootstrap: { replicates: 100, seed: 1 }, keepMatches: true });
});
after(async () => {
  await first?.close();
  await shaky?.close();
});

/** Every stored match of the report's runs, with the run's model address for `model`. */
async function storedMatches(pool: Pool, r: Pick<ArenaReport, 'runs'>): Promise<{ run: ArenaReport['runs'][number]; m: MatchRecord; transcript: Message[]; prompt_tokens: number | null; completion_tokens: number | null }[]> {
  const out = [];
  for (const x of r.runs) {
    for await (const a of pool.iterateAttempts(x.run_id)) {
      assert.equal(a.status, 'ok');
      const m = (a.meta!.solver as { match: MatchRecord }).match;
      out.push({ run: x, m: { ...m, players: m.players.map((p) => (p === 'model' ? x.model : p)) as [string, string] }, transcript: a.transcript!, prompt_tokens: a.prompt_tokens, completion_tokens: a.completion_tokens });
    }
  }
  return out;
}

/** Each model's own calls and tokens summed over the tries of its seat in every stored match. */
function tokensByModel(matches: { m: MatchRecord }[]): Map<string, { calls: number; prompt: number; completion: number }> {
  const out = new Map<string, { calls: number; prompt: number; completion: number }>();
  for (const { m } of matches) for (const mv of m.moves) for (const t of mv.tries ?? []) {
    const e = out.get(m.players[mv.seat]) ?? { calls: 0, prompt: 0, completion: 0 };
    e.calls++;
    e.prompt += t.prompt_tokens!;
    e.completion += t.completion_tokens!;
    out.set(m.players[mv.seat], e);
  }
  return out;
}

test('model against model: the host transcript holds the opponent model\'s every prompt and reply, marked with its address, in order; token counts stay each model\'s own', async () => {
  await using pool = await openPool(poolPath, { readonly: true });
  const all = await storedMatches(pool, report);
  const pair = all.filter((x) => x.run.opponent === B);
  assert.equal(pair.length, 2, 'two matches of A against B, one in each seat');
  assert.deepEqual(pair.map((x) => x.m.players.indexOf(A)).sort(), [0, 1]);
  let opponentTurns = 0;
  for (const { m, transcript, prompt_tokens, completion_tokens } of pair) {
    // Replay the transcript as the two conversations it interleaves, recomputing each call's tokens by the server's rule.
    const calls: { who: string; prompt: string; reply: string; prompt_tokens: number; completion_tokens: number }[] = [];
    const conv: Record<string, string[]> = { [A]: [], [B]: [] };
    const markP = `${opponentMark(B, 'prompt')}\n`, markR = `${opponentMark(B, 'reply')}\n`;
    for (const msg of transcript.slice(1)) {
      const text = messageText(msg);
      if (msg.role === 'assistant') {
        calls.push({ who: A, prompt: conv[A]![0]!, reply: text, prompt_tokens: promptTokens(conv[A]!), completion_tokens: words(text) });
        conv[A]!.push(text);
      } else if (text.startsWith(markP)) {
        const p = text.slice(markP.length);
        if (p.startsWith('You are playing')) conv[B] = [p];
        else conv[B]!.push(p);
      } else if (text.startsWith(markR)) {
        const r = text.slice(markR.length);
        calls.push({ who: B, prompt: conv[B]![0]!, reply: r, prompt_tokens: promptTokens(conv[B]!), completion_tokens: words(r) });
        conv[B]!.push(r);
        opponentTurns++;
      } else if (text.startsWith('You are playing')) conv[A] = [text];
      else conv[A]!.push(text);
    }
    // The same calls, in the same order, as the match record's tries; each try's tokens are its own call's.
    const tries = m.moves.flatMap((mv) => (mv.tries ?? []).map((t) => ({ who: m.players[mv.seat], prompt: mv.prompt!, reply: t.reply, prompt_tokens: t.prompt_tokens, completion_tokens: t.completion_tokens })));
    assert.deepEqual(calls, tries, `seed ${m.seed}`);
    // B's first reply is always illegal and its re-prompt legal: two calls per move, both in the transcript.
    const bMoves = m.moves.filter((mv) => m.players[mv.seat] === B);
    assert.ok(bMoves.length > 0 && bMoves.every((mv) => mv.tries!.map((t) => t.kind).join() === 'illegal,move'));
    assert.equal(transcript.filter((x) => messageText(x).startsWith(markP)).length, 2 * bMoves.length);
    // The attempt's own counts are the host's only; the record's usage gives each seat its own.
    const host = m.players.indexOf(A) as 0 | 1;
    const mine = tries.filter((t) => t.who === A), theirs = tries.filter((t) => t.who === B);
    const sum = (xs: typeof tries, k: 'prompt_tokens' | 'completion_tokens') => xs.reduce((n, t) => n + t[k]!, 0);
    assert.equal(prompt_tokens, sum(mine, 'prompt_tokens'));
    assert.equal(completion_tokens, sum(mine, 'completion_tokens'));
    assert.equal(transcript.filter((x) => x.role === 'assistant').length, mine.length, 'assistant turns are the host model\'s replies only');
    assert.deepEqual(m.usage![host], { calls: mine.length, prompt_tokens: sum(mine, 'prompt_tokens'), completion_tokens: sum(mine, 'completion_tokens') });
    assert.deepEqual(m.usage![(1 - host) as 0 | 1], { calls: theirs.length, prompt_tokens: sum(theirs, 'prompt_tokens'), completion_tokens: sum(theirs, 'completion_tokens') });
  }
  assert.ok(opponentTurns >= 4);
  // Matches against the reference player: no opponent turn in the transcript, the reference seat without calls.
  for (const { run: r, m, transcript } of all.filter((x) => !x.run.opponent)) {
    assert.ok(!transcript.some((x) => messageText(x).startsWith('[opponent ')), r.model);
    assert.deepEqual(m.usage![m.players.indexOf('random') as 0 | 1], { calls: 0, prompt_tokens: null, completion_tokens: null });
  }
  // The summary gives each model its own calls and tokens over all its matches (hosting, or as the opponent model),
  // and they add up to every request each server answered.
  const want = tokensByModel(all);
  for (const [model, server] of [[A, first], [B, shaky]] as const) {
    const row = report.players.find((p) => p.player === model)!;
    const w = want.get(model)!;
    assert.deepEqual([row.model_calls, row.prompt_tokens, row.completion_tokens], [w.calls, w.prompt, w.completion], model);
    assert.equal(row.model_calls, server.stats.chat, `${model}: every request counted once, for its own model`);
  }
  assert.notEqual(want.get(A)!.prompt, want.get(B)!.prompt);
  const text = formatArena(report);
  for (const model of [A, B]) {
    const w = want.get(model)!;
    assert.ok(text.includes(`${model} on tictactoe:`) && text.includes(`own model calls ${w.calls}: ${w.prompt} prompt + ${w.completion} completion tokens`), model);
  }
  const page = renderArenaReport(report, { now: new Date(0) });
  assert.match(page, /<th>prompt tokens<\/th><th>completion tokens<\/th>/);
  for (const model of [A, B]) {
    const w = want.get(model)!;
    assert.ok(page.includes(`<td class="num">${w.calls}</td><td class="num">${w.prompt}</td><td class="num">${w.completion}</td>`), model);
  }
});

test('assay arena --json: each model\'s own prompt and completion tokens', async () => {
  const pool = join(dir, 'cli.sqlite');
  const before = { a: first.stats.chat, b: shaky.stats.chat };
  const out = await run(['arena', '--game', 'tictactoe', '--model', A, '--model', B, '--opponent', 'random', '--matches', '2', '--reference-matches', '0', '--illegal', 'retry:1,random', '--replicates', '100', '--pool', pool, '--json']);
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout) as ArenaReport;
  await using p = await openPool(pool, { readonly: true });
  const want = tokensByModel(await storedMatches(p, r));
  for (const [model, n] of [[A, first.stats.chat - before.a], [B, shaky.stats.chat - before.b]] as const) {
    const row = r.players.find((x) => x.player === model)!;
    assert.deepEqual([row.model_calls, row.prompt_tokens, row.completion_tokens], [want.get(model)!.calls, want.get(model)!.prompt, want.get(model)!.completion], model);
    assert.equal(row.model_calls, n);
    assert.ok(row.prompt_tokens! > 0 && row.completion_tokens! > 0);
  }
});

test('assay report <run> of an arena run: every stored match move by move, with the board after each move; other runs\' reports have no match section', async () => {
  const pairRun = report.runs.find((r) => r.opponent === B)!.run_id;
  const refRun = report.runs.find((r) => !r.opponent && r.model === B)!.run_id;
  const outFile = join(dir, 'report.html');
  const out = await run(['report', pairRun, refRun, '-o', outFile, '--pool', poolPath, '--replicates', '100']);
  assert.equal(out.status, 0, out.stderr);
  const page = readFileSync(outFile, 'utf8');
  await using pool = await openPool(poolPath, { readonly: true });
  const stored = (await storedMatches(pool, { runs: [pairRun, refRun].map((id) => report.runs.find((r) => r.run_id === id)!) })).map((x) => x.m);
  assert.equal(stored.length, 4);
  assert.match(page, /<h2 id="matches">Matches move by move<\/h2>/);
  assert.match(page, /pre\.board\{/, 'the match styles come with the section');
  const sections = page.split('<details class="match"').slice(1);
  assert.equal(sections.length, stored.length, 'one section per stored match');
  const game = getGame('tictactoe') as Game<unknown>;
  stored.forEach((m, k) => {
    const section = sections[k]!;
    assert.ok(section.includes(`${esc(m.players[0])} (seat 0) vs ${esc(m.players[1])} (seat 1)`), 'both players named, the models by address');
    const shown = [...section.matchAll(/<tr><td class="num">(\d+)<\/td><td class="nowrap">(.*?) <span class="meta">\(seat \d\)<\/span><\/td><td class="nowrap"><b>([^<]*)<\/b><\/td>/g)].map((x) => [Number(x[1]), x[2], x[3]]);
    assert.deepEqual(shown, m.moves.map((mv) => [mv.ply + 1, esc(m.players[mv.seat]), esc(mv.move)]), `seed ${m.seed}: every move, in order, by its player`);
    let s = game.initial(m.seed);
    let at = 0;
    for (const mv of m.moves) {
      s = game.apply(s, mv.move);
      const i = section.indexOf(`<pre class="board">${esc(boardText(game, s, mv.seat))}</pre>`, at);
      assert.ok(i > at, `the board after ply ${mv.ply + 1}`);
      at = i;
    }
    // The opponent model's illegal first tries are marked in its moves' verdicts.
    if (m.players.includes(B)) assert.ok(section.includes('<span class="illegal">illegal move z9</span>'));
  });
  // The ordinary sections are still there.
  assert.match(page, /<h2 id="runs">Runs<\/h2>/);
  assert.match(page, /<h2 id="manifests">Manifests<\/h2>/);
  // Only runs of an arena task are read for matches: the same run under another task's name gives none.
  const stored0 = (await pool.getRun(refRun))!;
  assert.ok(isArenaRun(stored0));
  assert.equal((await arenaRunMatches(pool, [stored0])).length, 2);
  const other = { ...stored0, spec: { ...stored0.spec, task: { ...stored0.spec.task!, name: 'gsm8k' } } };
  assert.equal(isArenaRun(other), false);
  assert.equal(isArenaRun({ spec: { ...stored0.spec, task: { ...stored0.spec.task!, name: 'arena-hard' } } }), false, 'an imported Arena-Hard run');
  assert.ok(isArenaRun({ spec: { ...stored0.spec, task: { ...stored0.spec.task!, name: 'arena-chess-vs-model' } } }));
  assert.deepEqual(await arenaRunMatches(pool, [other]), []);
});
