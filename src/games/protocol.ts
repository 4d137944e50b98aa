/**
 * The arena's protocol: how a position is put to a model and how its reply is read.
 *
 * Prompt forms (recorded per match):
 * - `plain`: rules, the state (board with coordinates, whose turn, the legal moves) and the answer format.
 * - `cot`: GAMEBoT's chain-of-thought form (Lin et al. 2025, §3.3): the same, then the game's subproblems as
 *   numbered questions with the domain hints a player needs, answered one per line before the move, so each answer
 *   is parsed and checked against the rule-based ground truth.
 *
 * Answer format (documented to the model): one line per subproblem `KEY: answer` (lists comma-separated, `none` for
 * an empty list), and a final line `MOVE: <move>`. The move line is found case-insensitively, tolerating markdown
 * emphasis and brackets; a reply without one is read as a move only when it is a single short line.
 * A reply with no readable move is a *format error*; a readable move that is not legal is an *illegal move*: the two
 * are counted apart.
 */
import { InputError } from '../core/errors.ts';
import { normalizeToken, type Game, type ParsedMove, type Subproblem } from './types.ts';

export type PromptForm = 'plain' | 'cot';

/**
 * What happens when a model's reply is not a legal move: re-prompt up to `retries` times (telling it why), then
 * `forfeit` the game or play a uniformly random legal move and charge `penalty` (outcome-score points, subtracted from
 * the model's score at the end, which stays ≥ −1).
 */
export interface IllegalMovePolicy {
  retries: number;
  then: 'forfeit' | 'random';
  penalty: number;
}

export const DEFAULT_POLICY: IllegalMovePolicy = { retries: 2, then: 'random', penalty: 0.1 };

/** The policy grammar, as error messages state it. */
export const POLICY_GRAMMAR = 'reprompt:<k> (or retry:<k>; k = 0..10 re-prompts), then forfeit or random, and with random optionally penalty:<p> (p in [0, 2] outcome points per random move), comma-separated; e.g. reprompt:3,forfeit or retry:2,random,penalty:0.1';

/**
 * Parse a policy written `reprompt:<k>,<forfeit|random>[,penalty:<p>]` (`retry:<k>` is the same as `reprompt:<k>`;
 * parts left out keep `DEFAULT_POLICY`'s values: e.g. `forfeit` alone is 2 re-prompts then a forfeit).
 * Errors: InputError (field `illegal`) naming the part that is wrong and the grammar: an unknown part, a count or
 * penalty out of range, a part given twice, both forfeit and random, a penalty with forfeit, an empty policy.
 */
export function parsePolicy(text: string): IllegalMovePolicy {
  const fail = (why: string) => new InputError(`illegal-move policy "${text}": ${why}; write ${POLICY_GRAMMAR}`, { field: 'illegal' });
  const parts = text.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  if (!parts.length) throw fail('it is empty');
  const p = { ...DEFAULT_POLICY };
  const seen = new Set<string>();
  const once = (key: string) => {
    if (seen.has(key)) throw fail(`${key === 'then' ? 'forfeit/random' : key} is given twice`);
    seen.add(key);
  };
  for (const part of parts) {
    let m: RegExpExecArray | null;
    if ((m = /^(?:retry|reprompt|retries|reprompts)\s*[:=]\s*(.*)$/.exec(part))) {
      once('reprompt');
      if (!/^\d+$/.test(m[1]!) || Number(m[1]) > 10) throw fail(`the re-prompt count "${m[1]}" is not an integer from 0 to 10`);
      p.retries = Number(m[1]);
    } else if (part === 'forfeit' || part === 'random') {
      once('then');
      p.then = part;
    } else if ((m = /^penalty\s*[:=]\s*(.*)$/.exec(part))) {
      once('penalty');
      const v = Number(m[1]);
      if (!/^\d*\.?\d+$/.test(m[1]!) || !(v >= 0 && v <= 2)) throw fail(`the penalty "${m[1]}" is not a number in [0, 2]`);
      p.penalty = v;
    } else throw fail(`cannot read "${part}"`);
  }
  if (p.then === 'forfeit' && seen.has('penalty')) throw fail('a penalty applies to random moves only, not with forfeit');
  return p;
}

/** The answer key of a subproblem (`own_wins` → `OWN_WINS`). */
export function answerKey(sp: Pick<Subproblem, 'id'>): string {
  return sp.id.toUpperCase();
}

/** The prompt for the side to move. `seat` must be the side to move. */
export function buildPrompt<S>(game: Game<S>, s: S, form: PromptForm): { text: string; subproblems: Subproblem[] } {
  const seat = game.toMove(s);
  const subproblems = form === 'cot' ? game.subproblems(s, seat) : [];
  const parts = [`You are playing ${game.title}.`, `Rules: ${game.rules}`, '', 'Current state:', game.render(s, seat), ''];
  if (form === 'cot' && subproblems.length) {
    parts.push('First answer these questions about the position, one line each, exactly in the form KEY: answer (lists comma-separated, "none" for an empty list):');
    subproblems.forEach((sp, i) => parts.push(`${i + 1}. ${answerKey(sp)}: ${sp.question}`));
    parts.push('Then think step by step about your move.');
  }
  parts.push(`Finish with a last line of the form MOVE: <move>, where <move> is ${game.moveFormat}. The move must be one of the legal moves.`);
  return { text: parts.join('\n'), subproblems };
}

/** The re-prompt after a reply that was not a legal move. */
export function retryPrompt<S>(game: Game<S>, s: S, parsed: Exclude<ParsedMove, { kind: 'move' }>): string {
  const why = parsed.kind === 'format' ? `I could not read a move: ${parsed.reason}.` : `That move is illegal: ${parsed.reason}.`;
  return `${why} Legal moves: ${game.legalMoves(s).join(', ')}. Reply with a last line MOVE: <move> (${game.moveFormat}).`;
}

const MOVE_LINE = /^[\s>*_#`-]*(?:final\s+)?move\s*[*_]*\s*[:=]\s*(.+?)\s*$/gim;

/** Find the move in a reply and parse it (see the module comment for the rules). */
export function parseMoveReply<S>(game: Game<S>, s: S, reply: string): ParsedMove {
  let last: string | null = null;
  for (const m of reply.matchAll(MOVE_LINE)) last = m[1]!;
  if (last != null) return game.parseMove(s, last.replace(/^[*_`]+|[*_`]+$/g, ''));
  const t = reply.trim();
  if (t && !t.includes('\n') && t.length <= 40) return game.parseMove(s, t);
  return { kind: 'format', reason: t ? 'no line of the form MOVE: <move>' : 'empty reply' };
}

/**
 * One subproblem's verdict. `score`: F1 for sets (for `one_of`, the largest F1 over the correct answers), 0/1
 * otherwise; `correct`: exact (for `one_of`: equal to one of the correct answers).
 */
export interface SubproblemResult {
  id: string;
  kind: Subproblem['kind'];
  truth: unknown;
  /** The raw answer text, or null when the reply had no line for it. */
  answer: string | null;
  /** The answer as read (a sorted list, a number, a label), or null. */
  parsed: unknown;
  score: number;
  correct: boolean;
}

function splitList(text: string, spaces = false): string[] | null {
  const t = text.trim().replace(/^\[|\]$/g, '');
  if (/^(none|nothing|no|n\/a|-|empty|\[\]|—)?\.?$/i.test(t)) return [];
  return t.split(spaces ? /\s*(?:,|;|\band\b|\s\/\s|\s)\s*/i : /\s*(?:,|;|\band\b|\s\/\s)\s*/i).map((x) => x.trim()).filter(Boolean);
}

/**
 * F1 of an answered set against the truth: 2·|A∩T| / (|A| + |T|), 1 when both are empty (a correct "none").
 * Symmetric in answer and truth.
 */
export function setF1(answer: readonly string[], truth: readonly string[]): number {
  const a = new Set(answer), t = new Set(truth);
  if (!a.size && !t.size) return 1;
  let both = 0;
  for (const x of a) if (t.has(x)) both++;
  return (2 * both) / (a.size + t.size);
}

/**
 * The first number of an answer with its sign, however the sign is written: ASCII `-9`, a spaced `- 9`, a Unicode
 * minus or dash (`−9`, U+2212; `–9`), the words `minus 9` / `negative 9`, and `+9` / `plus 9` / `positive 9`.
 * Decimals allowed (`−9.0`). Null when the answer holds no number.
 */
export function readSignedNumber(answer: string): number | null {
  const t = answer.replace(/[\u2212\u2012\u2013\u2014\uFE63\uFF0D]/g, '-').replace(/\uFF0B/g, '+');
  const m = /(?:\b(minus|negative|plus|positive)\s+|([-+])\s*)?(\d+(?:\.\d+)?|\.\d+)/i.exec(t);
  if (!m) return null;
  const neg = m[2] === '-' || /^(?:minus|negative)$/i.test(m[1] ?? '');
  const v = Number(m[3]);
  return neg ? (v === 0 ? 0 : -v) : v;
}

/**
 * Grade one subproblem answer (null: not answered, score 0). Tokens of `set` and `one_of` answers are compared in
 * their canonical form (`sp.canon`, then `normalizeToken`), truth tokens too. A `set` answer is scored by F1 against
 * the truth; a `one_of` answer by the largest F1 against any correct answer (see `Subproblem`).
 */
export function gradeSubproblem(sp: Subproblem, answer: string | null): SubproblemResult {
  const base = { id: sp.id, kind: sp.kind, truth: sp.truth, answer };
  if (answer == null) return { ...base, parsed: null, score: 0, correct: false };
  if (sp.kind === 'set' || sp.kind === 'one_of') {
    const canon = (x: string) => normalizeToken(sp.canon ? sp.canon(x) : x);
    const list = splitList(answer, sp.spaceSeparated === true);
    if (!list) return { ...base, parsed: null, score: 0, correct: false };
    const parsed = [...new Set(list.map(canon))].sort();
    const truths = sp.kind === 'set' ? [sp.truth] : sp.truth;
    let score = 0;
    for (const t of truths) score = Math.max(score, setF1(parsed, t.map(canon)));
    return { ...base, parsed, score, correct: score === 1 };
  }
  if (sp.kind === 'number') {
    const v = readSignedNumber(answer);
    if (v === null) return { ...base, parsed: null, score: 0, correct: false };
    const ok = Math.abs(v - sp.truth) <= (sp.tolerance ?? 0) + 1e-9;
    return { ...base, parsed: v, score: ok ? 1 : 0, correct: ok };
  }
  const t = normalizeToken(answer).replace(/[^a-z0-9]/g, '');
  const syn = sp.synonyms ?? {};
  const read = syn[t] ?? t;
  const truth = normalizeToken(sp.truth).replace(/[^a-z0-9]/g, '');
  const ok = read === truth;
  return { ...base, parsed: read, score: ok ? 1 : 0, correct: ok };
}

/** Read and grade every subproblem answer in a reply (`KEY: answer` lines; the last line for a key counts). */
export function gradeReply(subproblems: readonly Subproblem[], reply: string): SubproblemResult[] {
  return subproblems.map((sp) => {
    const key = answerKey(sp).replace(/_/g, '[_ ]');
    const re = new RegExp(`^[\\s>*_#\`\\d.)-]*${key}[*_\`]*\\s*[:=]\\s*(.*?)\\s*$`, 'gim');
    let last: string | null = null;
    for (const m of reply.matchAll(re)) last = m[1]!.replace(/^[*_`]+|[*_`]+$/g, '');
    return gradeSubproblem(sp, last);
  });
}
