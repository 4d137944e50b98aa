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
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hash32, startFakeOpenAIServer, type FakeOpenAIServer } from '../../testkit/fake-openai-server.ts';
import { formatMatch, runArena, type MatchRecord } from '../../src/games/index.ts';
import { openPool } from '../../src/store/open.ts';

const BIN = fileURLToPath(new URL('../../bin/assay.js', import.meta.url));

/** What the server was set to do with a first prompt: by a hash of its text, 20% illegal, 10% no move, else legal. */
function intended(prompt: string): 'illegal' | 'format' | 'move' {
  const h = hash32(prompt, 11) % 10;
  return h < 2 ? 'illegal' : h < 3 ? 'format' : 'move';
}
function firstLegal(text: string): string {
  return /Legal moves[^:]*: ([^,\n]+)/.exec(text)![1]!.trim();
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
