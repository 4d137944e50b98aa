/**
 * `assay arena`: models play the built-in games (GAMEBoT's eight) against reference players; every move is stored in
 * the pool as ordinary attempts; Bradley–Terry ratings with bootstrap CIs and rank intervals, subproblem scores,
 * illegal-move and format-error rates. A thin command over `runArena` (src/games/arena.ts).
 */
import { Option, type Command } from 'commander';
import { formatArena, runArena } from '../../games/arena.ts';
import { parsePolicy } from '../../games/protocol.ts';
import { gameNames } from '../../games/registry.ts';
import { collect, generationConfigOf, generationFlags, int, openPool, printJson, withSignals } from '../common.ts';

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((x) => x.trim()).filter(Boolean)];

/** Register `assay arena` on the program. */
export function register(program: Command): void {
  const cmd = program
    .command('arena')
    .description(`play games against reference players and rate every player (games: ${gameNames().join(', ')})`)
    .requiredOption('--game <names>', 'games, comma-separated or repeated', list)
    .option('--model <address>', 'model address (repeatable); none: the reference players only', collect, [])
    .option('--opponent <names>', 'reference opponents: random, greedy, alphabeta:<depth> (default random,greedy)', list)
    .option('--matches <n>', 'matches per model × opponent × game (seats alternate; default 4)', int('--matches', 1, 10_000), 4)
    .option('--reference-matches <n>', 'matches per ordered pair of reference players per game (default = --matches)', int('--reference-matches', 0, 10_000))
    .addOption(new Option('--form <form>', 'prompt form, recorded per match').choices(['plain', 'cot']).default('plain'))
    .option('--illegal <policy>', 'illegal-move policy: retry:<k>,forfeit|random[,penalty:<p>]', 'retry:2,random,penalty:0.1')
    .option('--max-plies <n>', 'turn cap in plies (default: each game\'s)', int('--max-plies', 1, 100_000))
    .option('--match-seed <n>', 'first match seed', int('--match-seed', 0), 0)
    .option('--replicates <n>', 'bootstrap replicates of the ratings', int('--replicates', 100, 1_000_000), 1000)
    .option('--bootstrap-seed <n>', 'seed of the ratings bootstrap', int('--bootstrap-seed', 0), 0)
    .option('--concurrency <n>', 'maximum requests in flight', int('--concurrency', 1, 4096))
    .option('--pool <url>', 'pool (default $ASSAY_POOL or ./.assay/pool.sqlite)')
    .option('--json', 'one JSON document on stdout');
  generationFlags(cmd).action(async (o) => {
    const policy = parsePolicy(o.illegal);
    const pool = await openPool(o.pool, { create: true });
    try {
      const report = await withSignals((signal) =>
        runArena({
          games: o.game, models: o.model, opponents: o.opponent, matches: o.matches, referenceMatches: o.referenceMatches, form: o.form, policy,
          maxPlies: o.maxPlies, seed: o.matchSeed, pool, config: generationConfigOf(o), concurrency: o.concurrency, signal,
          bootstrap: { replicates: o.replicates, seed: o.bootstrapSeed },
        }),
      );
      if (o.json) printJson(report);
      else process.stdout.write(formatArena(report) + '\n');
    } finally {
      await pool.close();
    }
  });
}
