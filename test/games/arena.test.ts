/**
 * Matches against a model: a small OpenAI-compatible test server (testkit/fake-openai-server.ts; no real model runs
 * here) plays through the ordinary task/solver seam. The server is set to answer a reproducible share of first
 * prompts with an illegal move (`MOVE: z9`) or with no move at all, and every re-prompt with a legal move; the test
 * checks that every move is stored (transcript and match record), that each first reply is classed as the server
 * was set to answer it, that the reported rates equal those counts, that both illegal-move policies (forfeit, random
 * move with a penalty) do what they say, that a second call resumes, and that `assay arena` prints the same.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { hash32, startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { formatMatch, getGame, runArena, type Game, type MatchRecord } from '../../src/games/index.ts';
import { boardText, renderArenaReport } from '../../src/report/arena.ts';
import { esc } from '../../src/report/svg.ts';
import { openPool } from '../../src/store/open.ts';
import { register as registerArena } from '../../src/cli/commands/arena.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));

/** What the server was set to do with a first prompt: by a hash of its text, 20% illegal, 10% no move, else legal. */
function intended(prompt: string): 'illegal' | 'format' | 'move' {
  const h = hash32(prompt, 11) % 10;
  return h < 2 ? 'illegal' : h < 3 ? 'format' : 'move';
}
function firstLegal(text: string): string {
  // A re-prompt lists the legal moves and goes on with ". Reply with…" on the same line (seen when one move is left).
  return /Legal moves[^:]*: ([^,\n]+)/.exec(text)![1]!.replace(/\. Reply with.*$/, '').trim();
}

let mixed: FakeOpenAIServer;
let alwaysIllegal: FakeOpenAIServer;
let neverMoves: FakeOpenAIServer;

before(async () => {
  mixed = await startFakeOpenAIServer({
    modelId: 'mixed',
    answer: (question) => {
      if (/^(That move is illegal|I could not read)/.test(question)) return { content: `Sorry.\nMOVE: ${firstLegal(question)}` };
      const kind = intended(question);
      if (kind === 'illegal') return { content: 'OWN_WINS: none\nMOVE: z9' };
      if (kind === 'format') return { content: 'I am not sure what to do in this position; it is complicated and I would rather not say.' };
      return { content: `OWN_WINS: none\nOPPONENT_WINS: none\nFORCED_BLOCKS: none\nLet me think.\nMOVE: [${firstLegal(question).toUpperCase()}]` };
    },
  });
  alwaysIllegal = await startFakeOpenAIServer({ modelId: 'illegal', answer: () => ({ content: 'MOVE: z9' }) });
  neverMoves = await startFakeOpenAIServer({ modelId: 'mute', answer: () => ({ content: 'I would rather not play this game, thank you for asking me though.' }) });
});
after(async () => {
  await mixed?.close();
  await alwaysIllegal?.close();
  await neverMoves?.close();
});

test('a tournament against the test server stores every move and reports the rates the server was set to', async () => {
  await using pool = await openPool('memory:');
  const model = `openai-compatible:${mixed.url}#mixed`;
  const report = await runArena({ games: ['tictactoe', 'connect4'], models: [model], opponents: ['random', 'greedy'], matches: 4, form: 'cot', policy: { retries: 1, then: 'random', penalty: 0.1 }, pool, concurrency: 4, maxRetries: 0, bootstrap: { replicates: 200, seed: 3 } });
  assert.deepEqual(report.runs.map((r) => [r.game, r.status]), [['tictactoe', 'complete'], ['connect4', 'complete']]);
  let moves = 0;
  const counts = { illegal: 0, format: 0, move: 0 };
  for (const run of report.runs) {
    let attempts = 0;
    for await (const a of pool.iterateAttempts(run.run_id, 'game_outcome')) {
      attempts++;
      assert.equal(a.status, 'ok');
      const m = (a.meta!.solver as { match: MatchRecord }).match;
      assert.equal(m.form, 'cot');
      assert.deepEqual(m.policy, { retries: 1, then: 'random', penalty: 0.1 });
      assert.equal(a.measurement!.value, m.adjusted[m.players[0] === 'model' ? 0 : 1]);
      const mine = m.moves.filter((x) => x.tries);
      // The transcript holds every prompt and reply of the model, in order (after the planned match description).
      const replies = mine.flatMap((x) => x.tries!.map((t) => t.reply));
      assert.deepEqual(a.transcript!.filter((msg) => msg.role === 'assistant').map((msg) => msg.content), replies);
      const asked = a.transcript!.slice(1).filter((msg) => msg.role === 'user');
      assert.equal(asked.length, replies.length, 'one prompt or re-prompt per reply');
      assert.deepEqual(asked.filter((msg) => String(msg.content).startsWith('You are playing')).map((msg) => msg.content), mine.map((x) => x.prompt));
      for (const x of mine) {
        moves++;
        const want = intended(x.prompt!);
        counts[want]++;
        assert.equal(x.tries![0]!.kind, want, `ply ${x.ply}: first reply classed as the server meant it`);
        assert.equal(x.tries!.length, want === 'move' ? 1 : 2, 'one re-prompt after an illegal or unreadable move');
        assert.equal(x.tries!.at(-1)!.kind, 'move');
        assert.ok(!x.substituted);
        assert.ok(x.state && typeof x.state === 'object', 'the state before the move is stored');
        // Subproblems: the server answers "none" to each question it answers; correct exactly when the truth is empty.
        for (const r of x.subproblems ?? []) {
          if (r.answer == null) assert.equal(r.score, 0);
          else assert.equal(r.correct, Array.isArray(r.truth) && r.truth.length === 0, `${r.id} ${JSON.stringify(r.truth)}`);
        }
        assert.equal(x.subproblems!.length, 3);
      }
    }
    assert.equal(attempts, 8, '2 opponents × 4 matches');
    // The stored record reads back move by move, with the board picture and the verdicts.
    for await (const a of pool.iterateAttempts(run.run_id)) {
      const text = formatMatch((a.meta!.solver as { match: MatchRecord }).match);
      assert.match(text, run.game === 'tictactoe' ? /\n {2}a b c\n3 / : /\n {2}a b c d e f g\n6 /);
      assert.match(text, /own_wins: answered none; truth \[/);
      assert.match(text, /\nResult: /);
      break;
    }
  }
  assert.ok(counts.illegal > 0 && counts.format > 0 && counts.move > 0, JSON.stringify(counts));
  const rows = report.players;
  const total = rows.reduce((a, r) => a + r.model_moves, 0);
  assert.equal(total, moves);
  const illegal = rows.reduce((a, r) => a + r.illegal_rate * r.model_moves, 0);
  const format = rows.reduce((a, r) => a + r.format_error_rate * r.model_moves, 0);
  assert.equal(Math.round(illegal), counts.illegal);
  assert.equal(Math.round(format), counts.format);
  assert.deepEqual(report.ratings.players.map((p) => p.player).sort(), ['greedy', model, 'random'].sort());
  assert.equal(report.ratings.bootstrap.replicates, 200);
  assert.ok(rows.every((r) => r.subproblems.own_wins && r.subproblems.own_wins.n > 0));

  // A second call resumes: nothing is asked again.
  const requests = mixed.stats.chat;
  const again = await runArena({ games: ['tictactoe', 'connect4'], models: [model], opponents: ['random', 'greedy'], matches: 4, form: 'cot', policy: { retries: 1, then: 'random', penalty: 0.1 }, pool, concurrency: 4, maxRetries: 0, bootstrap: { replicates: 200, seed: 3 } });
  assert.deepEqual(again.runs.map((r) => r.run_id), report.runs.map((r) => r.run_id));
  assert.deepEqual(again.ratings, report.ratings);
  assert.equal(mixed.stats.chat, requests, 'no request made again');
});

test('forfeit policy: a model that only plays illegal moves forfeits after k re-prompts', async () => {
  await using pool = await openPool('memory:');
  const model = `openai-compatible:${alwaysIllegal.url}#illegal`;
  const report = await runArena({ games: ['tictactoe'], models: [model], opponents: ['random'], matches: 2, policy: { retries: 2, then: 'forfeit', penalty: 0 }, pool, referenceMatches: 0, bootstrap: { replicates: 100 } });
  for await (const a of pool.iterateAttempts(report.runs[0]!.run_id)) {
    const m = (a.meta!.solver as { match: MatchRecord }).match;
    const seat = m.players[0] === 'model' ? 0 : 1;
    assert.equal(m.forfeit, seat);
    assert.equal(m.result.winner, 1 - seat);
    assert.match(m.result.reason, /forfeited: no legal move in 3 tries/);
    const mine = m.moves.filter((x) => x.tries);
    assert.equal(mine.length, 1);
    assert.deepEqual(mine[0]!.tries!.map((t) => t.kind), ['illegal', 'illegal', 'illegal']);
    assert.equal(a.transcript!.filter((x) => x.role === 'assistant').length, 3);
  }
  assert.equal(report.players[0]!.forfeits, 2);
  assert.equal(report.players[0]!.illegal_rate, 1);
  assert.equal(report.players[0]!.mean_outcome, -1);
});

test('random-move policy: unreadable replies are replaced by random legal moves, each charged the penalty', async () => {
  await using pool = await openPool('memory:');
  const model = `openai-compatible:${neverMoves.url}#mute`;
  const report = await runArena({ games: ['tictactoe'], models: [model], opponents: ['random'], matches: 4, policy: { retries: 0, then: 'random', penalty: 0.1 }, pool, referenceMatches: 0, bootstrap: { replicates: 100 } });
  let n = 0;
  for await (const a of pool.iterateAttempts(report.runs[0]!.run_id)) {
    const m = (a.meta!.solver as { match: MatchRecord }).match;
    const seat = m.players[0] === 'model' ? 0 : 1;
    const mine = m.moves.filter((x) => x.tries);
    assert.ok(mine.every((x) => x.substituted && x.tries!.length === 1 && x.tries![0]!.kind === 'format'));
    assert.equal(m.substitutions[seat], mine.length);
    assert.equal(m.adjusted[seat], Math.max(-1, m.result.score[seat] - 0.1 * mine.length));
    n++;
  }
  assert.equal(n, 4);
  assert.equal(report.players[0]!.format_error_rate, 1);
  assert.equal(report.players[0]!.illegal_rate, 0);
});

test('assay arena: the command prints the ratings and the rates', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-arena-'));
  const model = `openai-compatible:${mixed.url}#mixed`;
  const out = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'arena', '--game', 'tictactoe', '--model', model, '--opponent', 'random,greedy', '--matches', '2', '--form', 'cot', '--illegal', 'retry:1,random', '--replicates', '200', '--pool', join(dir, 'pool.sqlite'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout);
  assert.equal(r.form, 'cot');
  assert.deepEqual(r.policy, { retries: 1, then: 'random', penalty: 0.1 });
  assert.equal(r.runs[0].status, 'complete');
  assert.equal(r.players[0].matches, 4);
  assert.equal(r.ratings.players.length, 3);
});

test('another tournament of the same game in the same pool (more matches, other opponents) is another task version; the same one resumes', async () => {
  await using pool = await openPool('memory:');
  const model = `openai-compatible:${mixed.url}#mixed`;
  const play = (matches: number, opponents: string[]) =>
    runArena({ games: ['tictactoe'], models: [model], opponents, matches, form: 'plain', policy: { retries: 1, then: 'random', penalty: 0.1 }, pool, concurrency: 4, maxRetries: 0, bootstrap: { replicates: 200, seed: 3 } });
  const first = await play(1, ['random']);
  const more = await play(2, ['random']);
  const other = await play(1, ['greedy']);
  assert.equal(first.runs[0]!.status, 'complete');
  assert.equal(more.runs[0]!.status, 'complete');
  assert.equal(other.runs[0]!.status, 'complete');
  assert.equal(new Set([first, more, other].map((r) => r.runs[0]!.run_id)).size, 3, 'three tournaments, three runs');
  const tasks = (await pool.listTasks()).filter((t) => t.name === 'arena-tictactoe');
  assert.equal(tasks.length, 3, 'one task version per tournament');
  const before = mixed.stats.chat;
  const again = await play(2, ['random']);
  assert.equal(again.runs[0]!.run_id, more.runs[0]!.run_id);
  assert.equal(mixed.stats.chat, before, 'the same tournament again asks the model nothing');
});

test('model against model: a round robin among three models, seats balanced, every move of both models stored, rated together, resumable', async () => {
  const lastLegal = (text: string) => /Legal moves[^:]*: ([^\n]+)/.exec(text)![1]!.split(', ').at(-1)!.trim();
  const first = await startFakeOpenAIServer({ modelId: 'first', answer: (q) => ({ content: `MOVE: ${firstLegal(q)}` }) });
  const last = await startFakeOpenAIServer({ modelId: 'last', answer: (q) => ({ content: `MOVE: ${lastLegal(q)}` }) });
  // Every first reply illegal, every re-prompt answered with the first legal move.
  const shaky = await startFakeOpenAIServer({ modelId: 'shaky', answer: (q) => ({ content: /^That move is illegal/.test(q) ? `MOVE: ${/Legal moves: ([a-c][1-3])/.exec(q)![1]}` : 'MOVE: z9' }) });
  try {
    await using pool = await openPool('memory:');
    const [A, B, C] = [`openai-compatible:${first.url}#first`, `openai-compatible:${last.url}#last`, `openai-compatible:${shaky.url}#shaky`];
    const play = () => runArena({ games: ['tictactoe'], models: [A, B, C], opponents: ['random'], matches: 2, modelMatches: 2, referenceMatches: 0, policy: { retries: 1, then: 'random', penalty: 0.1 }, pool, concurrency: 2, maxRetries: 0, bootstrap: { replicates: 200, seed: 5 } });
    const report = await play();
    const pairs = report.runs.filter((r) => r.opponent);
    assert.deepEqual(pairs.map((r) => [r.model, r.opponent, r.status]), [[A, B, 'complete'], [A, C, 'complete'], [B, C, 'complete']]);
    assert.equal(report.runs.length, 6, 'three runs against random, three pairs');
    const calls = new Map<string, number>([[A, 0], [B, 0], [C, 0]]);
    for (const run of report.runs) {
      const seats: number[] = [];
      for await (const a of pool.iterateAttempts(run.run_id, 'game_legal_first_try')) {
        assert.equal(a.status, 'ok');
        const m = (a.meta!.solver as { match: MatchRecord }).match;
        const hostSeat = m.players[0] === 'model' ? 0 : 1;
        seats.push(hostSeat);
        const names = m.players.map((p) => (p === 'model' ? run.model : p));
        for (const x of m.moves) {
          const who = names[x.seat]!;
          if (who === 'random') { assert.equal(x.tries, undefined); continue; }
          calls.set(who, calls.get(who)! + x.tries!.length);
          // Each model's moves are what its server was set to answer.
          if (who === A) assert.equal(x.move, firstLegal(x.prompt!));
          if (who === B) assert.equal(x.move, lastLegal(x.prompt!));
          if (who === C) assert.deepEqual(x.tries!.map((t) => t.kind), ['illegal', 'move'], JSON.stringify(x.tries));
        }
        // The run's scorer counts the run's own model only: A and B always play legal first replies, C never.
        assert.equal(a.measurement!.value, run.model === C ? 0 : 1, `${run.model} vs ${run.opponent ?? 'random'}`);
      }
      assert.deepEqual(seats.sort(), [0, 1], 'one match in each seat');
    }
    assert.deepEqual([...calls.values()], [first.stats.chat, last.stats.chat, shaky.stats.chat], 'every request of every model is a stored try');
    assert.deepEqual(report.ratings.players.map((p) => p.player).sort(), [A, B, C, 'random'].sort());
    for (const p of report.ratings.players) assert.equal(p.matches, 6, `${p.player}: a model plays 2 against random and 2 against each other model; random 2 against each model`);
    const rowC = report.players.find((r) => r.player === C)!;
    assert.equal(rowC.matches, 6);
    assert.equal(rowC.illegal_rate, 1);
    assert.equal(report.players.find((r) => r.player === A)!.illegal_rate, 0);
    // A second call resumes: no model is asked anything again.
    const before = [first.stats.chat, last.stats.chat, shaky.stats.chat];
    const again = await play();
    assert.deepEqual(again.runs.map((r) => r.run_id), report.runs.map((r) => r.run_id));
    assert.deepEqual(again.ratings, report.ratings);
    assert.deepEqual([first.stats.chat, last.stats.chat, shaky.stats.chat], before);
  } finally {
    await first.close();
    await last.close();
    await shaky.close();
  }
});

test('HTML report: each match move by move with the board after every move, the final board, verdicts marked, model text escaped', async () => {
  const firstMove = (q: string) => /Legal moves: ([^,\s]+?)\.?(?:,|\s|$)/.exec(q)![1]!;
  const html = await startFakeOpenAIServer({
    modelId: 'html',
    answer: (q) => {
      if (/^(That move is illegal|I could not read)/.test(q)) return { content: `MOVE: ${firstMove(q)}` };
      const h = hash32(q, 5) % 4;
      if (h === 0) return { content: '<script>alert(1)</script> I play z9 & win\nMOVE: z9' };
      if (h === 1) return { content: 'No idea <b>at all</b>, sorry.' };
      return { content: `OWN_WINS: none\nMATE_IN_ONE: none\nMOVE: [${firstMove(q)}]` };
    },
  });
  try {
    await using pool = await openPool('memory:');
    const model = `openai-compatible:${html.url}#html`;
    const report = await runArena({ games: ['tictactoe', 'chess'], models: [model], opponents: ['random'], matches: 2, referenceMatches: 0, form: 'cot', maxPlies: 12, policy: { retries: 1, then: 'random', penalty: 0.1 }, pool, maxRetries: 0, bootstrap: { replicates: 100 }, keepMatches: true });
    assert.equal(report.match_records!.length, 4);
    const page = renderArenaReport(report, { now: new Date('2025-01-01T00:00:00Z') });
    assert.ok(!/<script/i.test(page), 'no model text is left unescaped');
    assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt; I play z9 &amp; win'));
    assert.ok(page.includes('No idea &lt;b&gt;at all&lt;/b&gt;, sorry.'));
    const sections = page.split('<details class="match"').slice(1);
    assert.equal(sections.length, 4);
    let illegal = 0, format = 0, subs = 0;
    report.match_records!.forEach(({ game: name, m }, k) => {
      const game = getGame(name) as Game<unknown>;
      const section = sections[k]!;
      // Every move in order, each followed by the board after it (replayed here from the game's start).
      const shown = [...section.matchAll(/<tr><td class="num">(\d+)<\/td><td class="nowrap">.*?<\/td><td class="nowrap"><b>([^<]*)<\/b><\/td>/g)].map((x) => [Number(x[1]), x[2]]);
      assert.deepEqual(shown, m.moves.map((mv) => [mv.ply + 1, esc(mv.move)]), `${name} seed ${m.seed}: every move, in order`);
      let s = game.initial(m.seed);
      let at = 0;
      for (const mv of m.moves) {
        s = game.apply(s, mv.move);
        const board = `<pre class="board">${esc(boardText(game, s, mv.seat))}</pre>`;
        const i = section.indexOf(board, at);
        assert.ok(i > at, `${name}: the board after ply ${mv.ply + 1} follows the earlier ones`);
        at = i;
        for (const t of mv.tries ?? []) { if (t.kind === 'illegal') illegal++; if (t.kind === 'format') format++; }
        if (mv.substituted) subs++;
      }
      assert.ok(section.includes(`<pre class="board final">${esc(boardText(game, s, m.moves.at(-1)!.seat))}</pre>`), `${name}: the final board`);
      if (name === 'chess') assert.ok(section.includes('FEN: '), 'the chess board carries its FEN');
    });
    assert.ok(illegal > 0 && format > 0, `both kinds of fault occurred (${illegal}, ${format})`);
    assert.equal(page.match(/class="illegal">illegal move z9<\/span>/g)!.length, illegal, 'each illegal move marked');
    assert.equal(page.match(/class="format">format error<\/span>/g)!.length, format, 'each format error marked');
    assert.equal((page.match(/random legal move substituted/g) ?? []).length, subs);
    assert.match(page, /<span class="right">✓<\/span> <b>own_wins<\/b>: answered none; truth none; F1 1\.00/);
    assert.match(page, /<span class="wrong">✗<\/span> <b>opponent_wins<\/b>: answered <i>\(no answer\)<\/i>/);
    assert.match(page, /<h2 id="ratings">Ratings<\/h2>/);
    assert.match(page, /<svg[^>]*>/, 'a forest plot of the ratings');
  } finally {
    await html.close();
  }
});

test('assay arena: bad flags are refused before anything runs, each error naming the flag and the allowed values; --html writes the report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-arena-flags-'));
  const pool = join(dir, 'pool.sqlite');
  // In process: the command's own parsing and checks, each failure caught as the error it throws.
  const fails = async (args: string[]): Promise<Error> => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerArena(program);
    try {
      await program.parseAsync(['node', 'assay', 'arena', '--pool', pool, ...args]);
    } catch (err) {
      return err as Error;
    }
    throw new Error(`${args.join(' ')} was accepted`);
  };
  const bad: [string[], string, RegExp][] = [
    [['--game', 'tictactoe', '--illegal', 'reprompt:3,forfit'], 'InputError', /^field "illegal": illegal-move policy "reprompt:3,forfit": cannot read "forfit"; write reprompt:<k> \(or retry:<k>; k = 0\.\.10 re-prompts\), then forfeit or random/],
    [['--game', 'tictactoe', '--illegal', 'reprompt:12'], 'InputError', /re-prompt count "12" is not an integer from 0 to 10/],
    [['--game', 'tictactoe', '--opponent', 'random,minimax'], 'InputError', /^field "opponent": --opponent: unknown reference player "minimax"; known: random, greedy, alphabeta:<d> \(d = 1\.\.8/],
    [['--game', 'tictactoe', '--opponent', 'alphabeta:9'], 'InputError', /--opponent: reference player "alphabeta:9": the alpha–beta depth "9" is not an integer from 1 to 8/],
    [['--game', 'tictactoe', '--opponent', 'greedy,Greedy'], 'InputError', /--opponent: "greedy" is listed twice/],
    [['--game', 'go'], 'InputError', /^field "game": --game: unknown game "go"; known: tictactoe, connect4, othello, checkers, negotiation, holdem, surround, pong, chess/],
    [['--game', 'chess,chess'], 'InputError', /--game: "chess" is listed twice/],
    [['--game', 'chess', '--model-matches', '2', '--model', 'openai-compatible:http://127.0.0.1:9/v1#m'], 'InputError', /--model-matches needs two or more --model/],
    [['--game', 'chess', '--html', join(dir, 'missing', 'r.html')], 'InputError', /--html: the folder of .* does not exist/],
    [['--game', 'chess', '--matches', '0'], 'CommanderError', /--matches must be an integer ≥ 1/],
    [['--game', 'chess', '--model-matches', '-1'], 'CommanderError', /--model-matches must be an integer ≥ 0/],
    [['--game', 'chess', '--form', 'fancy'], 'CommanderError', /Allowed choices are plain, cot/],
  ];
  for (const [args, kind, why] of bad) {
    const err = await fails(args);
    assert.equal(err.name, kind, `${args.join(' ')}: ${err.message}`);
    assert.match(err.message, why, args.join(' '));
  }
  assert.ok(!existsSync(pool), 'no pool was opened for a bad flag');
  // Through the real binary: a bad flag exits 2 with its message; a reference-only tournament with --html writes the
  // page, and the JSON on stdout leaves the match records out.
  const run = (args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'arena', '--pool', pool, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  const [badRun, ok] = await Promise.all([
    run(['--game', 'tictactoe', '--opponent', 'minimax']),
    run(['--game', 'tictactoe', '--opponent', 'random,greedy', '--matches', '1', '--replicates', '100', '--html', join(dir, 'r.html'), '--json']),
  ]);
  assert.equal(badRun.status, 2);
  assert.match(badRun.stderr, /^assay: field "opponent": --opponent: unknown reference player "minimax"; known: random, greedy, alphabeta/);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).match_records, undefined);
  const page = readFileSync(join(dir, 'r.html'), 'utf8');
  assert.equal(page.split('<details class="match"').length - 1, 2, 'both reference matches, move by move');
  assert.match(page, /<pre class="board final">/);
});
