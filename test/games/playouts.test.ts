/**
 * Random-vs-random full games (seeded) in every engine always terminate, every move legal when played; a match is a
 * pure function of its seed; a round robin of the reference players rates them alpha–beta > greedy > random with
 * separated intervals; the Bradley–Terry fit recovers known strengths.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitBradleyTerry, GAMES, playMatch, randomPlayer, rateMatches, referenceRoundRobin, type Game, type MatchOutcome } from '../../src/games/index.ts';
import { createRng } from '../../src/core/rng.ts';
import fc from 'fast-check';

test('random against random: every game ends, every move legal, replayable from its seed', async () => {
  for (const [name, game] of Object.entries(GAMES) as [string, Game<unknown>][]) {
    const reasons = new Set<string>();
    for (let seed = 0; seed < 25; seed++) {
      const rec = await playMatch(game, [{ kind: 'reference', name: 'r0', player: randomPlayer }, { kind: 'reference', name: 'r1', player: randomPlayer }], { seed, form: 'plain', policy: { retries: 0, then: 'random', penalty: 0 }, maxPlies: 2000 });
      assert.ok(!rec.capped, `${name} seed ${seed} ended on its own`);
      let s = game.initial(seed);
      for (const m of rec.moves) {
        assert.ok(game.legalMoves(s).includes(m.move), `${name} seed ${seed}: ${m.move} legal at ply ${m.ply}`);
        assert.equal(game.toMove(s), m.seat);
        s = game.apply(s, m.move);
      }
      const r = game.result(s)!;
      assert.deepEqual(r, rec.result);
      assert.ok(r.score[0] >= -1 && r.score[0] <= 1 && r.score[0] === -r.score[1], `${name}: zero-sum outcome in [−1, 1]`);
      assert.deepEqual(game.legalMoves(s), [], `${name}: no legal move after the end`);
      reasons.add(r.winner == null ? 'draw' : `w${r.winner}`);
      const again = await playMatch(game, [{ kind: 'reference', name: 'r0', player: randomPlayer }, { kind: 'reference', name: 'r1', player: randomPlayer }], { seed, form: 'plain', policy: { retries: 0, then: 'random', penalty: 0 }, maxPlies: 2000 });
      assert.deepEqual(again.moves.map((m) => m.move), rec.moves.map((m) => m.move), `${name}: the same seed replays the same game`);
    }
    assert.ok(reasons.size >= 2, `${name}: more than one kind of ending over 25 seeds (${[...reasons]})`);
  }
});

test('reference round robin on Connect Four: alpha–beta > greedy > random, intervals separated', async () => {
  const recs = await referenceRoundRobin('connect4', ['random', 'greedy', 'alphabeta:3'], 20);
  assert.equal(recs.length, 6 * 20);
  const outcomes: MatchOutcome[] = recs.map((m) => ({ a: m.players[0], b: m.players[1], score: m.result.winner == null ? 0.5 : m.result.winner === 0 ? 1 : 0 }));
  const r = rateMatches(outcomes, { replicates: 500, seed: 1 });
  assert.deepEqual(r.players.map((p) => p.player), ['alphabeta:3', 'greedy', 'random']);
  const [ab, gr, rd] = r.players;
  assert.ok(ab!.ci[0] > gr!.ci[1], `alpha–beta's interval above greedy's: ${ab!.ci} vs ${gr!.ci}`);
  assert.ok(gr!.ci[0] > rd!.ci[1], `greedy's interval above random's: ${gr!.ci} vs ${rd!.ci}`);
  assert.deepEqual(r.players.map((p) => p.rank_interval), [[1, 1], [2, 2], [3, 3]]);
  assert.equal(ab!.matches, 80);
  assert.deepEqual(r.bootstrap, { replicates: 500, seed: 1, level: 0.95, resample: 'parametric' });
  // Seeded: the same seed gives the same intervals.
  assert.deepEqual(rateMatches(outcomes, { replicates: 500, seed: 1 }), r);
});

test('Bradley–Terry recovers known strengths from simulated matches', () => {
  const truth = [1, 0, -1];
  const rng = createRng(7);
  const outcomes: MatchOutcome[] = [];
  for (let k = 0; k < 6000; k++) {
    const i = rng.int(3), j = (i + 1 + rng.int(2)) % 3;
    const p = 1 / (1 + Math.exp(truth[j]! - truth[i]!));
    outcomes.push({ a: `p${i}`, b: `p${j}`, score: rng.float() < p ? 1 : 0 });
  }
  const theta = fitBradleyTerry(outcomes, ['p0', 'p1', 'p2']);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(theta[i]! - truth[i]!) < 0.1, `θ${i} = ${theta[i]} vs ${truth[i]}`);
  assert.throws(() => rateMatches([]), /no match outcomes/);
  assert.throws(() => rateMatches([{ a: 'x', b: 'y', score: 2 }]), /outside/);
});

test('properties: apply never mutates its input, every canonical legal move parses to itself, subproblems are defined', () => {
  for (const [name, game] of Object.entries(GAMES) as [string, Game<unknown>][]) {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.array(fc.nat(), { maxLength: 60 }), (seed, picks) => {
        let s = game.initial(seed);
        for (const p of picks) {
          if (game.result(s)) break;
          const legal = game.legalMoves(s);
          const move = legal[p % legal.length]!;
          assert.deepEqual(game.parseMove(s, move), { kind: 'move', move }, `${name}: ${move}`);
          assert.deepEqual(game.parseMove(s, ` [${move.toUpperCase()}]. `), { kind: 'move', move }, `${name}: [${move.toUpperCase()}]`);
          for (const sp of game.subproblems(s, game.toMove(s))) assert.ok(sp.truth !== undefined && sp.question.length > 10);
          const before = JSON.stringify(s);
          const next = game.apply(s, move);
          assert.equal(JSON.stringify(s), before, `${name}: apply left its input alone`);
          s = next;
        }
      }),
      { numRuns: 40, seed: 42 },
    );
  }
});

test('a perfect record still gets an interval of non-zero width (parametric bootstrap), unlike resampling matches', () => {
  const outcomes: MatchOutcome[] = Array.from({ length: 8 }, (_, k) => ({ a: k % 2 ? 'x' : 'y', b: k % 2 ? 'y' : 'x', score: k % 2 ? 1 : 0 }));
  const p = rateMatches(outcomes, { replicates: 400, seed: 2 });
  const x = p.players.find((q) => q.player === 'x')!;
  assert.equal(x.wins, 8);
  assert.ok(x.ci[1] - x.ci[0] > 0.5, `width ${x.ci[1] - x.ci[0]}`);
  assert.ok(x.ci[0] < x.theta && x.ci[0] > 0);
  const m = rateMatches(outcomes, { replicates: 400, seed: 2, resample: 'matches' });
  const xm = m.players.find((q) => q.player === 'x')!;
  assert.equal(xm.ci[1] - xm.ci[0], 0, 'resampling identical results cannot show their uncertainty');
});

test('ratings: players who only drew share every rank and get intervals of non-zero width', () => {
  const outcomes = [];
  for (const [a, b] of [['p', 'q'], ['p', 'r'], ['q', 'r']] as const) for (let k = 0; k < 4; k++) outcomes.push({ a, b, score: 0.5 });
  const r = rateMatches(outcomes, { seed: 1 });
  for (const p of r.players) {
    assert.equal(p.rank, 1, `${p.player}: tied players share rank 1`);
    assert.deepEqual(p.rank_interval, [1, 3], `${p.player}: a tie can be any of the three ranks`);
    assert.ok(p.ci[0] < 0 && p.ci[1] > 0, `${p.player}: CI [${p.ci}] must have width around θ = 0`);
  }
});
