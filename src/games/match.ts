/**
 * Matches: a game played to the end between two agents (a model or a reference player), every move recorded.
 * `playMatch` is the loop; `gameMatchSolver` runs it inside the ordinary task/solver seam (a custom-loop solver,
 * `async (state, generate) => state`), so a model's match is one attempt in the pool: its transcript holds every
 * prompt and reply, and its stored solver metadata the match record (each move's state, prompt, raw replies with
 * their token counts, parsed move, its kind — legal, illegal, format error — the subproblem answers with their
 * verdicts, and each seat's model calls and tokens).
 *
 * In a model-vs-model match the opponent model's calls are in the host attempt's transcript too, in order, each as
 * two user turns marked with the opponent's address (`[opponent <address>: prompt]` then `[opponent <address>:
 * reply]`, the text after a line break), so the transcript's assistant turns stay the run's own model's replies and
 * its `prompt_tokens` / `completion_tokens` the run's own model's; the opponent's tokens are in the match record
 * (`MatchRecord.usage`).
 */
import { InputError } from '../core/errors.ts';
import { hashJson } from '../core/hash.ts';
import { messageText, type Message, type Sample } from '../core/schemas.ts';
import type { Scorer } from '../scorers/types.ts';
import type { Generate, Solver, TaskState } from '../solvers/types.ts';
import { referencePlayer, type Player } from './players.ts';
import { buildPrompt, DEFAULT_POLICY, gradeReply, parseMoveReply, retryPrompt, type IllegalMovePolicy, type PromptForm, type SubproblemResult } from './protocol.ts';
import { getGame } from './registry.ts';
import { drawResult, mulberry32, other, winFor, type Game, type GameResult, type Seat } from './types.ts';

/** A model's reply with the token counts its server reported (null: not reported). */
export interface ModelReply {
  text: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

/** A model seen as a player: answers a conversation (user/assistant turns) with text, or text and its token counts. */
export interface ModelAgent {
  kind: 'model';
  name: string;
  respond(conversation: Message[]): Promise<string | ModelReply>;
}
export type Agent = ModelAgent | { kind: 'reference'; name: string; player: Player };

/**
 * A model opponent as a match solver sees it: answers one conversation of a match (`sample`, `epoch` are the match's
 * own, for providers that match on them). Errors: whatever the model call throws after its retries (the match then
 * fails as an attempt and is played again when the run resumes).
 */
export type ModelResponder = (conversation: Message[], ctx: { sample: Sample; epoch: number }) => Promise<string | ModelReply>;

/** The marker line that opens an opponent model's turn in the host attempt's transcript (see the module comment). */
export function opponentMark(address: string, part: 'prompt' | 'reply'): string {
  return `[opponent ${address}: ${part}]`;
}

/** How one match is played (all recorded with it). */
export interface MatchConfig {
  seed: number;
  form: PromptForm;
  policy: IllegalMovePolicy;
  /** Turn cap in plies (default: the game's). */
  maxPlies?: number;
}

/** One try of a model at a move. */
export interface MoveTry {
  reply: string;
  kind: 'move' | 'illegal' | 'format';
  move: string | null;
  reason: string | null;
  /** Tokens of this call as the model's server reported them (null: not reported; absent in older records). */
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
}

/** One seat's model calls in a match and their tokens (sums of the reported counts; null when none was reported). */
export interface SeatUsage {
  calls: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

/** One ply. Model moves carry the prompt, every try and the subproblem verdicts of the first reply. */
export interface MoveRecord {
  ply: number;
  seat: Seat;
  player: string;
  /** The state before the move (the engine's JSON state). */
  state: unknown;
  move: string;
  prompt?: string;
  tries?: MoveTry[];
  /** The move was a random legal move played for the model under the illegal-move policy. */
  substituted?: boolean;
  subproblems?: SubproblemResult[];
}

export interface MatchRecord {
  game: string;
  seed: number;
  players: [string, string];
  form: PromptForm;
  policy: IllegalMovePolicy;
  max_plies: number;
  moves: MoveRecord[];
  result: GameResult;
  /** The game reached the turn cap and was adjudicated. */
  capped: boolean;
  /** The seat that forfeited under the policy, or null. */
  forfeit: Seat | null;
  /** Random moves played for each seat under the policy. */
  substitutions: [number, number];
  /** Outcome scores after penalties, each ≥ −1. */
  adjusted: [number, number];
  /** Model calls and tokens per seat (a reference player's seat: 0 calls, null tokens). Absent in older records. */
  usage?: [SeatUsage, SeatUsage];
}

/**
 * Play one match to the end. Seat 0 is `agents[0]`. Reference players draw from one generator seeded by
 * `cfg.seed` (the game's own chance also comes from `cfg.seed`), so a match between reference players is a pure
 * function of its config. Errors: whatever a model agent's `respond` throws (a failed model call) propagates.
 */
export async function playMatch<S>(game: Game<S>, agents: [Agent, Agent], cfg: MatchConfig): Promise<MatchRecord> {
  const rand = mulberry32((cfg.seed ^ 0x9e3779b9) >>> 0);
  const maxPlies = cfg.maxPlies ?? game.maxPlies;
  let s = game.initial(cfg.seed);
  const moves: MoveRecord[] = [];
  const substitutions: [number, number] = [0, 0];
  const usage: [SeatUsage, SeatUsage] = [{ calls: 0, prompt_tokens: null, completion_tokens: null }, { calls: 0, prompt_tokens: null, completion_tokens: null }];
  let forfeit: Seat | null = null;
  let result: GameResult | null = game.result(s);
  let capped = false;
  while (!result) {
    if (moves.length >= maxPlies) {
      capped = true;
      result = game.adjudicate ? game.adjudicate(s) : drawResult('turn cap');
      break;
    }
    const seat = game.toMove(s);
    const agent = agents[seat];
    const rec: MoveRecord = { ply: moves.length, seat, player: agent.name, state: s, move: '' };
    if (agent.kind === 'reference') {
      rec.move = agent.player.choose(game, s, rand);
    } else {
      const { text, subproblems } = buildPrompt(game, s, cfg.form);
      rec.prompt = text;
      rec.tries = [];
      const conversation: Message[] = [{ role: 'user', content: text }];
      for (let k = 0; k <= cfg.policy.retries; k++) {
        const answer = await agent.respond(conversation);
        const { text: reply, prompt_tokens, completion_tokens } = typeof answer === 'string' ? { text: answer, prompt_tokens: null, completion_tokens: null } : answer;
        const u = usage[seat];
        u.calls++;
        if (prompt_tokens != null) u.prompt_tokens = (u.prompt_tokens ?? 0) + prompt_tokens;
        if (completion_tokens != null) u.completion_tokens = (u.completion_tokens ?? 0) + completion_tokens;
        conversation.push({ role: 'assistant', content: reply });
        if (k === 0 && subproblems.length) rec.subproblems = gradeReply(subproblems, reply);
        const parsed = parseMoveReply(game, s, reply);
        rec.tries.push({ reply, kind: parsed.kind, move: parsed.kind === 'format' ? null : parsed.move, reason: parsed.kind === 'move' ? null : parsed.reason, prompt_tokens, completion_tokens });
        if (parsed.kind === 'move') { rec.move = parsed.move; break; }
        if (k < cfg.policy.retries) conversation.push({ role: 'user', content: retryPrompt(game, s, parsed) });
      }
      if (!rec.move) {
        if (cfg.policy.then === 'forfeit') {
          forfeit = seat;
          moves.push(rec);
          result = winFor(other(seat), `${agent.name} forfeited: no legal move in ${cfg.policy.retries + 1} tries`);
          break;
        }
        const legal = game.legalMoves(s);
        rec.move = legal[Math.floor(rand() * legal.length)]!;
        rec.substituted = true;
        substitutions[seat]++;
      }
    }
    moves.push(rec);
    s = game.apply(s, rec.move);
    result = game.result(s);
  }
  const adjusted = result.score.map((x, i) => Math.max(-1, x - cfg.policy.penalty * substitutions[i]!)) as [number, number];
  return { game: game.name, seed: cfg.seed, players: [agents[0].name, agents[1].name], form: cfg.form, policy: cfg.policy, max_plies: maxPlies, moves, result, capped, forfeit, substitutions, adjusted, usage };
}

/** What a match sample carries in its metadata (written by `matchSamples`). */
export interface MatchSampleMeta {
  game: string;
  seed: number;
  /** The model's seat. */
  seat: Seat;
  /** A reference player's name, or (with `opponent_kind: 'model'`) another model's address. */
  opponent: string;
  /** `model` for model-vs-model matches (absent: a reference player). */
  opponent_kind?: 'reference' | 'model';
  form: PromptForm;
  policy: IllegalMovePolicy;
  max_plies?: number;
}

/**
 * Match samples for one game against each opponent: `matches` seeds per opponent (seeds `seed`, `seed+1`, …), the
 * model's seat alternating 0, 1, 0, … so colours are balanced when `matches` is even. Opponents are reference
 * players (default) or, with `opponentKind: 'model'`, other models' addresses (sample ids then carry a hash of the
 * address, not the address). Errors: InputError for an unknown game or reference player.
 */
export function matchSamples(game: string, opponents: readonly string[], matches: number, opts: { seed?: number; form?: PromptForm; policy?: IllegalMovePolicy; maxPlies?: number; opponentKind?: 'reference' | 'model' } = {}): Sample[] {
  getGame(game);
  const kind = opts.opponentKind ?? 'reference';
  if (kind === 'reference') for (const o of opponents) referencePlayer(o);
  const out: Sample[] = [];
  for (const opponent of opponents) for (let i = 0; i < matches; i++) {
    const meta: MatchSampleMeta = { game, seed: (opts.seed ?? 0) + i, seat: (i % 2) as Seat, opponent, ...(kind === 'model' ? { opponent_kind: 'model' as const } : {}), form: opts.form ?? 'plain', policy: opts.policy ?? DEFAULT_POLICY, ...(opts.maxPlies ? { max_plies: opts.maxPlies } : {}) };
    const tag = kind === 'model' ? `model-${hashJson(opponent).slice(0, 12)}` : opponent;
    out.push({ id: `${game}-${tag}-${meta.seed}-seat${meta.seat}`, input: `A ${game} match against ${opponent}, seed ${meta.seed}; you play seat ${meta.seat}.`, target: '', metadata: { ...meta } });
  }
  return out;
}

/**
 * The custom-loop solver that plays the match its sample describes (`MatchSampleMeta` in `sample.metadata`): the model
 * is one seat, the opponent the other: a reference player, or another model answered through `opts.models[address]`
 * (model-vs-model matches). Each move is asked in a fresh conversation (the state prompt is complete), re-prompts
 * continue it; every turn of the run's model is appended to `state.messages` (the stored transcript), and so is every
 * call of an opponent model, marked with its address (`opponentMark`; see the module comment); the match record —
 * with both models' prompts, replies and token counts — goes to `state.metadata.match`. Errors: InputError for an
 * unknown game or opponent in the sample; a failed call of either model fails the attempt.
 */
export function gameMatchSolver(opts: { models?: Readonly<Record<string, ModelResponder>> } = {}): Solver {
  return async (state: TaskState, generate: Generate) => {
    const meta = state.sample.metadata as unknown as MatchSampleMeta;
    const game = getGame(meta.game);
    const model: ModelAgent = {
      kind: 'model',
      name: 'model',
      async respond(conversation) {
        const tmp: TaskState = { ...state, messages: conversation.map((m) => ({ ...m })), output: null };
        const out = await generate(tmp);
        state.calls = out.calls;
        state.output = out.output;
        const n = conversation.length;
        if (n === 1) state.messages.push(conversation[0]!);
        else state.messages.push(conversation[n - 1]!);
        const text = out.output?.text ?? '';
        state.messages.push({ role: 'assistant', content: text });
        return { text, prompt_tokens: out.output?.prompt_tokens ?? null, completion_tokens: out.output?.completion_tokens ?? null };
      },
    };
    let opponent: Agent;
    if (meta.opponent_kind === 'model') {
      const respond = opts.models?.[meta.opponent];
      if (!respond) throw new InputError(`no model answers for the opponent "${meta.opponent}" of match ${state.sample.id}`, { field: 'opponent' });
      const address = meta.opponent;
      opponent = {
        kind: 'model',
        name: address,
        async respond(conversation) {
          const answer = await respond(conversation, { sample: state.sample, epoch: state.epoch });
          const text = typeof answer === 'string' ? answer : answer.text;
          state.messages.push({ role: 'user', content: `${opponentMark(address, 'prompt')}\n${messageText(conversation[conversation.length - 1]!)}` });
          state.messages.push({ role: 'user', content: `${opponentMark(address, 'reply')}\n${text}` });
          return answer;
        },
      };
    } else {
      const opp = referencePlayer(meta.opponent);
      opponent = { kind: 'reference', name: opp.name, player: opp };
    }
    const agents: [Agent, Agent] = meta.seat === 0 ? [model, opponent] : [opponent, model];
    const rec = await playMatch(game, agents, { seed: meta.seed, form: meta.form, policy: meta.policy, maxPlies: meta.max_plies });
    state.metadata.match = rec;
    if (!state.output) state.output = { text: '', finish_reason: 'stop', model_id: null, prompt_tokens: null, completion_tokens: null };
    return state;
  };
}

function matchOf(state: { metadata: Readonly<Record<string, unknown>> } | undefined): MatchRecord | null {
  const m = state?.metadata?.match as MatchRecord | undefined;
  return m && Array.isArray(m.moves) ? m : null;
}
function modelSeat(m: MatchRecord): Seat {
  return m.players[0] === 'model' ? 0 : 1;
}

/** The model's outcome score in [−1, 1] after penalties (numeric, higher is better). */
export const gameOutcomeScorer: Scorer = {
  name: 'game_outcome',
  kind: 'numeric',
  metric: { kind: 'numeric', unit: 'outcome score', higher_is_better: true },
  options: {},
  score(_sample, _response, state) {
    const m = matchOf(state);
    if (!m) return { value: null, extracted: null, explanation: 'no match record', status: 'no_answer' };
    const seat = modelSeat(m);
    return { value: m.adjusted[seat], extracted: m.result.winner == null ? 'draw' : m.result.winner === seat ? 'win' : 'loss', explanation: m.result.reason, status: 'ok' };
  },
};

/** Share of the model's moves whose first reply was a legal move (a proportion). */
export const gameLegalScorer: Scorer = {
  name: 'game_legal_first_try',
  kind: 'numeric',
  metric: { kind: 'proportion' },
  options: {},
  score(_sample, _response, state) {
    const m = matchOf(state);
    const mine = m ? m.moves.filter((x) => x.tries && x.seat === modelSeat(m)) : [];
    if (!mine.length) return { value: null, extracted: null, explanation: 'no model move', status: 'no_answer' };
    const ok = mine.filter((x) => x.tries![0]!.kind === 'move').length;
    return { value: ok / mine.length, extracted: `${ok}/${mine.length}`, explanation: 'first replies that were legal moves', status: 'ok' };
  },
};

/** Mean subproblem score (F1 for sets, 0/1 otherwise) over the model's moves (chain-of-thought matches only). */
export const gameSubproblemScorer: Scorer = {
  name: 'game_subproblems',
  kind: 'numeric',
  metric: { kind: 'proportion' },
  options: {},
  score(_sample, _response, state) {
    const m = matchOf(state);
    const all = m ? m.moves.filter((x) => x.seat === modelSeat(m)).flatMap((x) => x.subproblems ?? []) : [];
    if (!all.length) return { value: null, extracted: null, explanation: 'no subproblems asked', status: 'no_answer' };
    const mean = all.reduce((a, r) => a + r.score, 0) / all.length;
    return { value: mean, extracted: `${all.filter((r) => r.correct).length}/${all.length} exact`, explanation: 'mean subproblem score', status: 'ok' };
  },
};

/**
 * A match record as text, move by move: for each ply the position as the mover saw it (the board picture with its
 * coordinates), who moved and what, and for model moves every reply's verdict (legal / illegal / format error, a
 * substituted random move) and the subproblem verdicts (answer, truth, score). Ends with the result. Pure.
 */
export function formatMatch(rec: MatchRecord): string {
  const game = getGame(rec.game);
  const out = [`${game.title}, seed ${rec.seed}: ${rec.players[0]} (seat 0) vs ${rec.players[1]} (seat 1); prompt form ${rec.form}; illegal moves: retry ${rec.policy.retries}× then ${rec.policy.then}`];
  for (const m of rec.moves) {
    out.push('', `— ply ${m.ply + 1}: ${m.player} (seat ${m.seat})`, game.render(m.state as never, m.seat).replace(/\nLegal moves:.*$/s, ''));
    for (const t of m.tries ?? []) out.push(`  reply → ${t.kind === 'move' ? `legal move ${t.move}` : t.kind === 'illegal' ? `illegal move ${t.move} (${t.reason})` : `format error (${t.reason})`}`);
    for (const r of m.subproblems ?? []) out.push(`  ${r.id}: answered ${r.answer ?? '(no answer)'}; truth ${JSON.stringify(r.truth)}; score ${r.score.toFixed(2)}`);
    out.push(`  plays ${m.move}${m.substituted ? ' (random legal move substituted under the policy)' : ''}`);
  }
  out.push('', `Result: ${rec.result.winner == null ? 'draw' : `${rec.players[rec.result.winner]} wins`} (${rec.result.reason})${rec.capped ? ', at the turn cap' : ''}; outcome scores after penalties ${rec.adjusted[0]} / ${rec.adjusted[1]}`);
  return out.join('\n');
}
