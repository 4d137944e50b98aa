/**
 * The arena's ratings table shows every player's whole name (two models on one host differ only in their tail), and
 * an arena with no match to play is refused up front with the flag that is short: an empty `--opponent`, or a lone
 * reference opponent with no `--model`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { Command } from 'commander';
import { InputError } from '../../src/core/errors.ts';
import { checkArenaPlayers, formatArena, type ArenaReport } from '../../src/games/arena.ts';
import { register as registerArena } from '../../src/cli/commands/arena.ts';

it('ratings table: full names, so two models on 127.0.0.1 are told apart', () => {
  const A = 'openai-compatible:http://127.0.0.1:41234/v1#model-a';
  const B = 'openai-compatible:http://127.0.0.1:41235/v1#model-b';
  const player = (name: string, rank: number) => ({ player: name, rank, theta: rank === 1 ? 0.5 : -0.5, ci: [0.1, 0.9], rank_interval: [1, 2], wins: 3, draws: 0, losses: 1 });
  const report = {
    ratings: { method: 'Bradley–Terry', bootstrap: { replicates: 100, seed: 0 }, players: [player(A, 1), player(B, 2), player('random', 3)] },
    by_game: {}, players: [], form: 'plain', policy: { retries: 2, then: 'random', penalty: 0.1 },
  } as unknown as ArenaReport;
  const lines = formatArena(report).split('\n');
  const rowA = lines.find((l) => l.startsWith('1 '))!, rowB = lines.find((l) => l.startsWith('2 '))!, rowR = lines.find((l) => l.startsWith('3 '))!;
  assert.ok(rowA.includes(A) && rowB.includes(B), `${rowA}\n${rowB}`);
  // columns stay aligned: θ in the same place in every row, after the longest name
  assert.equal(rowA.indexOf('+0.50'), rowB.indexOf('-0.50'));
  assert.equal(rowB.indexOf('-0.50'), rowR.indexOf('-0.50'));
  assert.ok(rowA.indexOf('+0.50') > 6 + A.length, rowA);
  assert.ok(lines[1]!.startsWith('rank  player ') && lines[1]!.indexOf('θ') > 6 + A.length, lines[1]);
});

it('arena: an empty --opponent, or one opponent with no --model, is refused naming the flag (library and command)', async () => {
  assert.throws(() => checkArenaPlayers(['openai-compatible:http://127.0.0.1:9/v1#m'], []), (e: unknown) => e instanceof InputError && e.where.field === 'opponent' && /--opponent names no reference opponent: give one or more of random, greedy, alphabeta/.test(e.message));
  assert.throws(() => checkArenaPlayers([], ['alphabeta:2']), (e: unknown) => e instanceof InputError && /--opponent alphabeta:2 with no --model: one reference player has no one to play; give --model <address>, or two or more opponents/.test(e.message));
  assert.throws(() => checkArenaPlayers([], undefined, { referenceMatches: 0 }), /--opponent random,greedy with no --model: the reference players play no match \(--reference-matches 0\)/);
  checkArenaPlayers(['m'], undefined); // one model against the default opponents
  checkArenaPlayers([], ['random', 'greedy']); // reference players only: a valid tournament
  checkArenaPlayers(['m'], ['random']);

  const pool = join(mkdtempSync(join(tmpdir(), 'assay-arena-short-')), 'pool.sqlite');
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
  const empty = await fails(['--game', 'chess', '--opponent', '', '--model', 'openai-compatible:http://127.0.0.1:9/v1#m']);
  assert.ok(empty instanceof InputError && /^field "opponent": --opponent names no reference opponent/.test(empty.message), empty.message);
  const lone = await fails(['--game', 'chess', '--opponent', 'alphabeta']);
  assert.ok(lone instanceof InputError, lone.message);
  assert.match(lone.message, /--opponent alphabeta:\d with no --model: one reference player has no one to play; give --model <address>/);
  assert.ok(!existsSync(pool), 'refused before a pool is opened');
});
