/**
 * The arena: models play the built-in games against fixed reference players and, with two or more models, a round
 * robin among themselves; every match is an ordinary attempt of an ordinary run (`evaluate`), so a second call
 * resumes and every move stays in the pool. Against reference players: one task per game, run on every model.
 * Model against model: each unordered pair {A, B} (A listed first) is one task per game run on A, whose solver asks
 * B for B's moves through B's own provider (same generation config, retries and timeout); seats alternate over the
 * pair's matches, so colours balance when the count is even. The reference players also play a round robin among
 * themselves (pure functions of their seeds, replayed, not stored), which anchors the ratings. Reported: Bradley–Terry ratings with bootstrap CIs and rank intervals (`ratings.ts`),
 * per-subproblem scores (GAMEBoT, Lin et al. 2025, §4.2: F1 for sets, accuracy otherwise), outcome scores, the
 * illegal-move and format-error rates of each model, per game, and each model's own calls and prompt/completion tokens
 * (in a model-vs-model run the opponent's are counted for the opponent, not the run's model).
 */
import { InputError } from '../core/errors.ts';
import { GenerationConfigSchema, type GenerationConfig } from '../core/schemas.ts';
import { createProvider } from '../providers/registry.ts';
import type { Provider } from '../providers/types.ts';
import { evaluate, type EvalResult } from '../runner/evaluate.ts';
import { callWithRetry } from '../runner/retry.ts';
import { AdaptiveLimiter } from '../runner/scheduler.ts';
import type { Pool } from '../store/types.ts';
import { defineTask, type Task } from '../tasks/task.ts';
import { hashJson } from '../core/hash.ts';
import { gameLegalScorer, gameMatchSolver, gameOutcomeScorer, gameSubproblemScorer, matchSamples, playMatch, type MatchRecord, type ModelResponder, type SeatUsage } from './match.ts';
import { referencePlayer } from './players.ts';
import { DEFAULT_POLICY, type IllegalMovePolicy, type PromptForm } from './protocol.ts';
import { rateMatches, type MatchOutcome, type Ratings } from './ratings.ts';
import { getGame } from './registry.ts';
import type { Seat } from './types.ts';

export interface ArenaOptions {
  /** Game names (see `gameNames()`). */
  games: string[];
  /** Model addresses; may be empty for a reference-only tournament. */
  models: string[];
  /** Reference opponents (default `random`, `greedy`). */
  opponents?: string[];
  /** Matches per model × opponent × game (default 4; seats alternate, so an even number balances them). */
  matches?: number;
  /** Matches per pair of reference players per game in their round robin (default = `matches`; 0: none). */
  referenceMatches?: number;
  /** Matches per pair of models per game in their round robin (default = `matches`; 0: none; needs ≥ 2 models). */
  modelMatches?: number;
  /** Return every match record in `ArenaReport.matches` (for the move-by-move HTML report; default false). */
  keepMatches?: boolean;
  form?: PromptForm;
  policy?: IllegalMovePolicy;
  /** Turn cap in plies (default: each game's). */
  maxPlies?: number;
  /** First match seed (default 0). */
  seed?: number;
  pool: Pool;
  config?: Partial<GenerationConfig>;
  concurrency?: number;
  providers?: Record<string, Provider>;
  /** Ratings bootstrap: replicates (default 1000), seed (0), resample `parametric` (default) or `matches` (see ratings.ts). */
  bootstrap?: { replicates?: number; seed?: number; resample?: 'parametric' | 'matches' };
  signal?: AbortSignal;
  timeoutMs?: number;
  maxRetries?: number;
  backoffBaseMs?: number;
}

/** Per player and game: how its moves went. */
export interface ArenaPlayerGame {
  player: string;
  game: string;
  matches: number;
  mean_outcome: number;
  model_moves: number;
  /** Share of moves whose first reply was a well-formed but illegal move / had no readable move. */
  illegal_rate: number;
  format_error_rate: number;
  substitutions: number;
  forfeits: number;
  /** Subproblem id → answers, mean score (F1 or accuracy), exact share. */
  subproblems: Record<string, { n: number; mean_score: number; exact: number }>;
  /**
   * This model's own calls in these matches (re-prompts included) and their tokens as its server reported them
   * (sums; null when no call reported a count), whether it hosted the run or was the opponent model in another's.
   */
  model_calls: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

/** One match of the tournament: its game, the run that stored it (null: the reference round robin, replayed), its record with real player names. */
export interface ArenaMatch {
  game: string;
  run_id: string | null;
  m: MatchRecord;
}

export interface ArenaReport {
  ratings: Ratings;
  /** Ratings per game. */
  by_game: Record<string, Ratings | null>;
  players: ArenaPlayerGame[];
  /** Runs made; `opponent` names the other model of a model-vs-model run (absent: against reference players). */
  runs: { game: string; model: string; run_id: string; status: string; opponent?: string }[];
  matches: number;
  form: PromptForm;
  policy: IllegalMovePolicy;
  /** Every match (model matches first, in run order), with `keepMatches` only. */
  match_records?: ArenaMatch[];
}

/** The task that plays `game` matches against `opponents` (one sample per match). */
export function arenaTask(game: string, opponents: readonly string[], matches: number, opts: { seed?: number; form?: PromptForm; policy?: IllegalMovePolicy; maxPlies?: number; config?: Partial<GenerationConfig> } = {}): Task {
  const samples = matchSamples(game, opponents, matches, opts);
  // The version names the settings (opponents, matches, seed, form, policy, plies, config): another tournament of the
  // same game is another task version, never a clash with the definition recorded for this one; the same settings
  // give the same version, so running them again resumes.
  const settings = hashJson({ opponents, matches, seed: opts.seed ?? 0, form: opts.form ?? null, policy: opts.policy ?? null, maxPlies: opts.maxPlies ?? null, config: opts.config ?? null });
  return defineTask({
    name: `arena-${game}`,
    version: `1-${settings.slice(0, 8)}`,
    description: `${getGame(game).title} matches against reference players`,
    dataset: { name: `arena-${game}`, samples },
    template: '{question}',
    solver: gameMatchSolver(),
    scorers: [gameOutcomeScorer, gameLegalScorer, gameSubproblemScorer],
    config: opts.config,
  });
}

/**
 * The task that plays `game` matches of the run's model against the model at `opponent` (one sample per match, the
 * run's model taking seat 0 in even matches), the opponent answered by `respond`. Another opponent or other settings
 * are another task version; the same ones resume.
 */
export function arenaPairTask(game: string, opponent: string, matches: number, respond: ModelResponder, opts: { seed?: number; form?: PromptForm; policy?: IllegalMovePolicy; maxPlies?: number; config?: Partial<GenerationConfig> } = {}): Task {
  const samples = matchSamples(game, [opponent], matches, { ...opts, opponentKind: 'model' });
  const settings = hashJson({ opponent, matches, seed: opts.seed ?? 0, form: opts.form ?? null, policy: opts.policy ?? null, maxPlies: opts.maxPlies ?? null, config: opts.config ?? null });
  return defineTask({
    name: `arena-${game}-vs-model`,
    version: `1-${settings.slice(0, 8)}`,
    description: `${getGame(game).title} matches against another model`,
    dataset: { name: `arena-${game}-vs-model`, samples },
    template: '{question}',
    solver: gameMatchSolver({ models: { [opponent]: respond } }),
    scorers: [gameOutcomeScorer, gameLegalScorer, gameSubproblemScorer],
    config: opts.config,
  });
}

/**
 * A model as an opponent inside another model's match: one call per turn through its provider with the runner's
 * failure policy (`callWithRetry`: timeout, retries with backoff, 429 handling). Errors: Error after the retries.
 */
function responderOf(provider: Provider, o: Pick<ArenaOptions, 'config' | 'concurrency' | 'timeoutMs' | 'maxRetries' | 'backoffBaseMs' | 'signal'>): ModelResponder {
  const config = GenerationConfigSchema.parse(Object.fromEntries(Object.entries(o.config ?? {}).filter(([, v]) => v !== undefined)));
  const limiter = new AdaptiveLimiter(Math.max(1, Math.min(o.concurrency ?? 64, provider.capabilities.maxConcurrency ?? Infinity)));
  const policy = { timeoutMs: o.timeoutMs ?? 120_000, maxRetries: o.maxRetries ?? 6, backoffBaseMs: o.backoffBaseMs ?? 250 };
  const stop = o.signal ?? new AbortController().signal;
  return async (conversation, { sample, epoch }) => {
    const out = await callWithRetry(provider, { messages: conversation, config, sample, epoch }, policy, limiter, stop);
    if (!out.ok) throw new Error(`opponent model ${provider.address}: ${out.error}`);
    return { text: out.response.text, prompt_tokens: out.response.prompt_tokens, completion_tokens: out.response.completion_tokens };
  };
}

function outcomeOf(m: MatchRecord): MatchOutcome {
  const w = m.result.winner;
  return { a: m.players[0], b: m.players[1], score: w == null ? 0.5 : w === 0 ? 1 : 0 };
}

/**
 * Round robin among reference players on one game: every ordered pair plays `matches` matches with seeds `seed`,
 * `seed+1`, … (both seat orders are played, so colours balance). Pure: the same arguments give the same records.
 */
export async function referenceRoundRobin(game: string, players: readonly string[], matches: number, opts: { seed?: number; maxPlies?: number } = {}): Promise<MatchRecord[]> {
  const g = getGame(game);
  const out: MatchRecord[] = [];
  for (let i = 0; i < players.length; i++) for (let j = 0; j < players.length; j++) {
    if (i === j) continue;
    const a = referencePlayer(players[i]!), b = referencePlayer(players[j]!);
    for (let k = 0; k < matches; k++) {
      out.push(await playMatch(g, [{ kind: 'reference', name: a.name, player: a }, { kind: 'reference', name: b.name, player: b }], { seed: (opts.seed ?? 0) + k, form: 'plain', policy: DEFAULT_POLICY, maxPlies: opts.maxPlies }));
    }
  }
  return out;
}

/** A seat's model calls and tokens in a match: the record's `usage`, or (older records) counted from its tries. */
function seatUsage(m: MatchRecord, seat: Seat): SeatUsage {
  if (m.usage) return m.usage[seat];
  const out: SeatUsage = { calls: 0, prompt_tokens: null, completion_tokens: null };
  for (const mv of m.moves) if (mv.seat === seat) for (const t of mv.tries ?? []) {
    out.calls++;
    if (t.prompt_tokens != null) out.prompt_tokens = (out.prompt_tokens ?? 0) + t.prompt_tokens;
    if (t.completion_tokens != null) out.completion_tokens = (out.completion_tokens ?? 0) + t.completion_tokens;
  }
  return out;
}

function summarise(player: string, game: string, records: { m: MatchRecord; seat: Seat }[]): ArenaPlayerGame {
  let moves = 0, illegal = 0, format = 0, subs = 0, forfeits = 0, outcome = 0;
  const tokens: SeatUsage = { calls: 0, prompt_tokens: null, completion_tokens: null };
  const sp: Record<string, { n: number; sum: number; exact: number }> = {};
  for (const { m, seat } of records) {
    const u = seatUsage(m, seat);
    tokens.calls += u.calls;
    if (u.prompt_tokens != null) tokens.prompt_tokens = (tokens.prompt_tokens ?? 0) + u.prompt_tokens;
    if (u.completion_tokens != null) tokens.completion_tokens = (tokens.completion_tokens ?? 0) + u.completion_tokens;
    outcome += m.adjusted[seat];
    subs += m.substitutions[seat];
    if (m.forfeit === seat) forfeits++;
    for (const mv of m.moves) {
      if (mv.seat !== seat || !mv.tries) continue;
      moves++;
      if (mv.tries[0]!.kind === 'illegal') illegal++;
      if (mv.tries[0]!.kind === 'format') format++;
      for (const r of mv.subproblems ?? []) {
        const e = (sp[r.id] ??= { n: 0, sum: 0, exact: 0 });
        e.n++; e.sum += r.score; e.exact += r.correct ? 1 : 0;
      }
    }
  }
  return {
    player, game, matches: records.length, mean_outcome: records.length ? outcome / records.length : NaN, model_moves: moves,
    illegal_rate: moves ? illegal / moves : NaN, format_error_rate: moves ? format / moves : NaN, substitutions: subs, forfeits,
    subproblems: Object.fromEntries(Object.entries(sp).map(([k, v]) => [k, { n: v.n, mean_score: v.sum / v.n, exact: v.exact / v.n }])),
    model_calls: tokens.calls, prompt_tokens: tokens.prompt_tokens, completion_tokens: tokens.completion_tokens,
  };
}

/**
 * Refuse an arena in which no match could be played, naming the flag that is short, before any match (never "nothing
 * to rate" after): an `--opponent` list with no name in it, a lone reference opponent with no `--model`, reference
 * players with `--reference-matches 0`, a lone model with no opponent. `opponents` undefined means the default
 * (random, greedy); match counts default as in `runArena`.
 * @throws InputError with field `opponent` or `model`
 */
export function checkArenaPlayers(models: readonly string[], opponents: readonly string[] | undefined, counts: { matches?: number; modelMatches?: number; referenceMatches?: number } = {}): void {
  if (opponents && !opponents.length) throw new InputError('--opponent names no reference opponent: give one or more of random, greedy, alphabeta:<depth 1..8>, or leave the flag out for random,greedy', { field: 'opponent' });
  const opp = opponents ?? ['random', 'greedy'];
  const matches = counts.matches ?? 4;
  const anyMatch = (models.length > 0 && opp.length > 0) || (models.length >= 2 && (counts.modelMatches ?? matches) > 0) || (opp.length >= 2 && (counts.referenceMatches ?? matches) > 0);
  if (anyMatch) return;
  if (models.length === 0) {
    throw new InputError(`--opponent ${opp.join(',')} with no --model: ${opp.length === 1 ? 'one reference player has no one to play' : 'the reference players play no match (--reference-matches 0)'}; give --model <address>${opp.length === 1 ? ', or two or more opponents' : ''}`, { field: 'opponent' });
  }
  throw new InputError(`--model ${models[0]} has no one to play: give --opponent, or a second --model with --model-matches above 0`, { field: 'model' });
}

/**
 * Run the arena (see the module comment) and rate every player.
 * @returns ratings overall and per game, per-player/game move statistics, the runs made
 * @throws InputError for an unknown game or opponent, fewer than 1 match, or nothing to rate; model-call failures are
 *   failed attempts of the runs (their matches are left out of the ratings), as for any run
 */
export async function runArena(opts: ArenaOptions): Promise<ArenaReport> {
  const opponents = (opts.opponents ?? ['random', 'greedy']).map((o) => referencePlayer(o).name);
  const matches = opts.matches ?? 4;
  if (!Number.isInteger(matches) || matches < 1) throw new InputError('matches must be a positive integer', { field: 'matches' });
  if (!opts.games.length) throw new InputError('the arena needs at least one game', { field: 'game' });
  for (const g of opts.games) getGame(g);
  if (new Set(opts.games).size !== opts.games.length) throw new InputError(`a game is listed twice (${opts.games.join(', ')})`, { field: 'game' });
  for (const o of opponents) referencePlayer(o);
  if (new Set(opponents).size !== opponents.length) throw new InputError(`a reference opponent is listed twice (${opponents.join(', ')})`, { field: 'opponent' });
  if (new Set(opts.models).size !== opts.models.length) throw new InputError('a model is listed twice: each model plays once in the arena', { field: 'model' });
  const modelMatches = opts.modelMatches ?? matches;
  if (!Number.isInteger(modelMatches) || modelMatches < 0) throw new InputError('model matches must be a non-negative integer', { field: 'model-matches' });
  checkArenaPlayers(opts.models, opts.opponents, { matches, modelMatches, referenceMatches: opts.referenceMatches });
  const form = opts.form ?? 'plain';
  const policy = opts.policy ?? DEFAULT_POLICY;
  const records: { game: string; model: string | null; run_id: string | null; m: MatchRecord }[] = [];
  const runs: ArenaReport['runs'] = [];
  const runOpts = { pool: opts.pool, concurrency: opts.concurrency, providers: opts.providers, signal: opts.signal, timeoutMs: opts.timeoutMs, maxRetries: opts.maxRetries, backoffBaseMs: opts.backoffBaseMs };
  const collect = async (res: EvalResult, opponent?: string) => {
    for (const c of res.cells) {
      const game = c.task.replace(/^arena-/, '').replace(/-vs-model$/, '');
      runs.push({ game, model: c.model, run_id: c.run_id, status: c.result.status, ...(opponent ? { opponent } : {}) });
      for await (const a of opts.pool.iterateAttempts(c.run_id)) {
        const m = (a.meta?.solver as { match?: MatchRecord } | undefined)?.match;
        if (a.status !== 'ok' || !m) continue;
        const named: MatchRecord = { ...m, players: m.players.map((p) => (p === 'model' ? c.model : p)) as [string, string] };
        records.push({ game, model: c.model, run_id: c.run_id, m: named });
      }
    }
  };
  if (opts.models.length) {
    const tasks = opts.games.map((g) => arenaTask(g, opponents, matches, { seed: opts.seed, form, policy, maxPlies: opts.maxPlies, config: opts.config }));
    await collect(await evaluate(tasks, opts.models, runOpts));
  }
  if (opts.models.length >= 2 && modelMatches > 0) {
    // The opponents' providers: given ones are used as they are, the others made here and closed at the end.
    const owned: Provider[] = [];
    try {
      const responders = new Map<string, ModelResponder>();
      for (const m of opts.models.slice(1)) {
        let p = opts.providers?.[m];
        if (!p) owned.push((p = await createProvider(m, { concurrency: opts.concurrency ?? 64 })));
        responders.set(m, responderOf(p, opts));
      }
      for (let i = 0; i < opts.models.length; i++) for (let j = i + 1; j < opts.models.length; j++) {
        const host = opts.models[i]!, opponent = opts.models[j]!;
        const tasks = opts.games.map((g) => arenaPairTask(g, opponent, modelMatches, responders.get(opponent)!, { seed: opts.seed, form, policy, maxPlies: opts.maxPlies, config: opts.config }));
        await collect(await evaluate(tasks, [host], runOpts), opponent);
      }
    } finally {
      for (const p of owned) await p.close();
    }
  }
  const refMatches = opts.referenceMatches ?? matches;
  if (refMatches > 0 && opponents.length > 1) for (const g of opts.games) for (const m of await referenceRoundRobin(g, opponents, refMatches, { seed: opts.seed, maxPlies: opts.maxPlies })) records.push({ game: g, model: null, run_id: null, m });
  if (!records.length) throw new InputError('no matches finished: nothing to rate');
  const boot = { replicates: opts.bootstrap?.replicates ?? 1000, seed: opts.bootstrap?.seed ?? 0, resample: opts.bootstrap?.resample ?? 'parametric' };
  const ratings = rateMatches(records.map((r) => outcomeOf(r.m)), boot);
  const by_game: Record<string, Ratings | null> = {};
  for (const g of opts.games) {
    const rs = records.filter((r) => r.game === g);
    by_game[g] = rs.length ? rateMatches(rs.map((r) => outcomeOf(r.m)), boot) : null;
  }
  const players: ArenaPlayerGame[] = [];
  for (const g of opts.games) for (const model of opts.models) {
    const mine = records.filter((r) => r.game === g && r.model != null && r.m.players.includes(model)).map((r) => ({ m: r.m, seat: (r.m.players[0] === model ? 0 : 1) as Seat }));
    if (mine.length) players.push(summarise(model, g, mine));
  }
  return { ratings, by_game, players, runs, matches, form, policy, ...(opts.keepMatches ? { match_records: records.map((r) => ({ game: r.game, run_id: r.run_id, m: r.m })) } : {}) };
}

/** The arena report as text: ratings with intervals, then each model's move statistics per game. */
export function formatArena(r: ArenaReport): string {
  const f = (x: number) => (Number.isFinite(x) ? (x >= 0 ? '+' : '') + x.toFixed(2) : 'n/a');
  const pctf = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
  const lines = [`Arena ratings (${r.ratings.method}; ${r.ratings.bootstrap.replicates} replicates, seed ${r.ratings.bootstrap.seed}); prompt form ${r.form}; illegal moves: retry ${r.policy.retries}× then ${r.policy.then}${r.policy.then === 'random' ? ` (penalty ${r.policy.penalty})` : ''}`];
  // Full player names, the column as wide as the longest: two models on one host differ only in their tail.
  const w = Math.max(30, ...r.ratings.players.map((p) => p.player.length));
  lines.push(`rank  ${'player'.padEnd(w + 1)} θ       95% CI            rank int.  W-D-L`);
  for (const p of r.ratings.players) lines.push(`${String(p.rank).padEnd(5)} ${p.player.padEnd(w + 1)} ${f(p.theta).padStart(6)}  [${f(p.ci[0])}, ${f(p.ci[1])}]`.padEnd(w + 34) + ` ${p.rank_interval[0]}–${p.rank_interval[1]}`.padEnd(11) + ` ${p.wins}-${p.draws}-${p.losses}`);
  for (const [game, gr] of Object.entries(r.by_game)) {
    if (!gr) continue;
    lines.push('', `${game}: ${gr.players.map((p) => `${p.rank}. ${p.player} ${f(p.theta)} [${f(p.ci[0])}, ${f(p.ci[1])}] (ranks ${p.rank_interval[0]}–${p.rank_interval[1]}, ${p.wins}-${p.draws}-${p.losses})`).join('; ')}`);
  }
  for (const p of r.players) {
    lines.push('');
    lines.push(`${p.player} on ${p.game}: ${p.matches} matches, mean outcome ${f(p.mean_outcome)}, ${p.model_moves} moves, illegal ${pctf(p.illegal_rate)}, format errors ${pctf(p.format_error_rate)}, random substitutions ${p.substitutions}, forfeits ${p.forfeits}`);
    lines.push(`  own model calls ${p.model_calls}: ${p.prompt_tokens ?? 'n/a'} prompt + ${p.completion_tokens ?? 'n/a'} completion tokens (as its server reported them)`);
    for (const [id, s] of Object.entries(p.subproblems)) lines.push(`  ${id}: mean score ${s.mean_score.toFixed(3)} (F1 for lists, accuracy otherwise), exact ${pctf(s.exact)}, n = ${s.n}`);
  }
  return lines.join('\n');
}
