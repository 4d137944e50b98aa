/**
 * `assay arena`: models play the built-in games (GAMEBoT's eight and chess) against reference players and, with two
 * or more models, against each other (a round robin, seats balanced); every move is stored in the pool as ordinary
 * attempts; Bradley–Terry ratings with bootstrap CIs and rank intervals, subproblem scores, illegal-move and
 * format-error rates; `--html` writes the move-by-move report. A thin command over `runArena` (src/games/arena.ts).
 * Every flag is checked before the pool is opened or a model called.
 */
import { Option, type Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { checkArenaPlayers, formatArena, runArena } from '../../games/arena.ts';
import { referencePlayer } from '../../games/players.ts';
import { parsePolicy } from '../../games/protocol.ts';
import { gameNames, getGame } from '../../games/registry.ts';
import { renderArenaReport } from '../../report/arena.ts';
import { collect, generationConfigOf, generationFlags, int, openPool, outputError, printJson, withSignals } from '../common.ts';

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((x) => x.trim()).filter(Boolean)];

/** Check a list flag's names with `check` (which throws an InputError listing the known ones) and refuse repeats. */
function names(flag: string, values: string[], check: (name: string) => string): string[] {
  const out = values.map((v) => {
    try {
      return check(v);
    } catch (err) {
      if (err instanceof InputError) throw new InputError(`${flag}: ${err.detail}`, { field: flag.replace(/^--/, '') });
      throw err;
    }
  });
  const twice = out.find((v, i) => out.indexOf(v) !== i);
  if (twice) throw new InputError(`${flag}: "${twice}" is listed twice`, { field: flag.replace(/^--/, '') });
  return out;
}

/** Register `assay arena` on the program. */
export function register(program: Command): void {
  const cmd = program
    .command('arena')
    .description(`play games against reference players and each other, and rate every player (games: ${gameNames().join(', ')})`)
    .requiredOption('--game <names>', `games, comma-separated or repeated: ${gameNames().join(', ')}`, list)
    .option('--model <address>', 'model address (repeatable); two or more also play each other; none: the reference players only', collect, [])
    .option('--opponent <names>', 'reference opponents: random, greedy, alphabeta:<depth 1..8> (default random,greedy)', list)
    .option('--matches <n>', 'matches per model × opponent × game (seats alternate; default 4)', int('--matches', 1, 10_000), 4)
    .option('--model-matches <n>', 'matches per pair of models per game (seats alternate; default = --matches; 0: no model-vs-model matches)', int('--model-matches', 0, 10_000))
    .option('--reference-matches <n>', 'matches per ordered pair of reference players per game (default = --matches)', int('--reference-matches', 0, 10_000))
    .addOption(new Option('--form <form>', 'prompt form, recorded per match').choices(['plain', 'cot']).default('plain'))
    .option('--illegal <policy>', 'illegal-move policy: reprompt:<k>,forfeit|random[,penalty:<p>] (retry:<k> also reads)', 'reprompt:2,random,penalty:0.1')
    .option('--max-plies <n>', 'turn cap in plies (default: each game\'s)', int('--max-plies', 1, 100_000))
    .option('--match-seed <n>', 'first match seed', int('--match-seed', 0), 0)
    .option('--replicates <n>', 'bootstrap replicates of the ratings', int('--replicates', 100, 1_000_000), 1000)
    .option('--bootstrap-seed <n>', 'seed of the ratings bootstrap', int('--bootstrap-seed', 0), 0)
    .option('--concurrency <n>', 'maximum requests in flight', int('--concurrency', 1, 4096))
    .option('--html <file>', 'also write the HTML report: ratings, statistics and every match move by move with its boards')
    .option('--pool <url>', 'pool (default $ASSAY_POOL or ./.assay/pool.sqlite)')
    .option('--json', 'one JSON document on stdout');
  generationFlags(cmd).action(async (o) => {
    const policy = parsePolicy(o.illegal);
    const games = names('--game', o.game, (g) => getGame(g).name);
    const opponents = o.opponent ? names('--opponent', o.opponent, (p) => referencePlayer(p).name) : undefined;
    const models = names('--model', o.model, (m) => m);
    if (o.modelMatches && models.length < 2) throw new InputError('--model-matches needs two or more --model', { field: 'model-matches' });
    checkArenaPlayers(models, opponents, { matches: o.matches, modelMatches: o.modelMatches, referenceMatches: o.referenceMatches });
    if (o.html && !existsSync(dirname(resolve(o.html)))) throw new InputError(`--html: the folder of ${resolve(o.html)} does not exist`, { field: 'html' });
    const pool = await openPool(o.pool, { create: true });
    try {
      const report = await withSignals((signal) =>
        runArena({
          games, models, opponents, matches: o.matches, modelMatches: o.modelMatches, referenceMatches: o.referenceMatches, form: o.form, policy,
          maxPlies: o.maxPlies, seed: o.matchSeed, pool, config: generationConfigOf(o), concurrency: o.concurrency, signal,
          bootstrap: { replicates: o.replicates, seed: o.bootstrapSeed }, keepMatches: Boolean(o.html),
        }),
      );
      if (o.html) {
        const out = resolve(o.html);
        try {
          writeFileSync(out, renderArenaReport(report));
        } catch (err) {
          throw outputError(err, out, '--html');
        }
        process.stderr.write(`wrote ${out}\n`);
      }
      const { match_records: _, ...summary } = report;
      if (o.json) printJson(summary);
      else process.stdout.write(formatArena(summary) + '\n');
    } finally {
      await pool.close();
    }
  });
}
