/**
 * Chess through chess.js (move generation, SAN, check and mate detection): the arena's extra game beside GAMEBoT's
 * eight. White is seat 0 and moves first. The state is a plain JSON value: the position in Forsyth–Edwards Notation
 * (FEN, PGN standard §16.1) and the repetition keys of the positions since the last capture or pawn move, so the
 * threefold-repetition rule needs no hidden history.
 *
 * The game ends (FIDE Laws of Chess, 2023, Articles 5 and 9) by checkmate; as a draw by stalemate, by insufficient
 * material (chess.js: K v K, K+minor v K, K+B v K+B with bishops on one colour), by threefold repetition (the same
 * placement, side to move, castling rights and en-passant capture; counted here without a claim) or by the 50-move
 * rule (100 plies without a capture or a pawn move; applied without a claim); or at the turn cap, as a draw.
 *
 * Moves: the canonical form is Standard Algebraic Notation as chess.js writes it (`e4`, `Nbd2`, `exd6`, `O-O`,
 * `e8=Q`, `Qxf7#`). `parseMove` also reads UCI long algebraic notation (`e2e4`, `e7e8q`, `e1g1`), tolerates case when
 * it is unambiguous (`nf3`), spaces (`N f3`, `e7 e8 q`), brackets and quotes, move numbers (`12. Nf3`), `+`/`#`/`!?`
 * marks, `0-0` for castling, a promotion without `=` (`e8Q`) and `e.p.`; a comment after the move (`Nf3 (developing)`)
 * is dropped, and two moves (`e4 e5`) are a format error, never read as the UCI move `e4e5`.
 *
 * Subproblems (rule-based ground truth, each answer token read as SAN or UCI and compared as UCI):
 * - `mate_in_one`: the moves that checkmate at once;
 * - `checks`: the moves that give check (mates included);
 * - `free_captures`: the captures that win material outright: the captured piece is worth more than the capturing
 *   piece (P 1, N 3, B 3, R 5, Q 9), or the opponent has no legal capture back on that square;
 * - `material`: own material minus the opponent's, in pawns (P 1, N 3, B 3, R 5, Q 9; kings not counted).
 *
 * `heuristic` is that material balance, so the greedy reference player is greedy by material (a mate in one first)
 * and `alphabeta:<d>` searches d plies with a material evaluation.
 */
import { Chess, validateFen } from 'chess.js';
import { InputError } from '../core/errors.ts';
import { drawResult, other, renderGrid, winFor, type Game, type GameResult, type ParsedMove, type Seat, type Subproblem } from './types.ts';

/** A chess position: FEN and the repetition keys (FEN's first four fields) since the last capture or pawn move, current last. */
export interface ChessState {
  fen: string;
  keys: string[];
}

/** The standard start position. */
export const CHESS_START_FEN = 'rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1';

/** Material values in pawns (the common 1/3/3/5/9 scale; the king is not counted). */
export const PIECE_VALUES: Readonly<Record<string, number>> = Object.freeze({ p: 1, n: 3, b: 3, r: 5, q: 9, k: 0 });

const NAMES = ['White', 'Black'] as const;

/** FEN's first four fields: placement, side to move, castling rights, en-passant square (chess.js writes one only when a capture there is legal). */
function repetitionKey(fen: string): string {
  return fen.split(' ').slice(0, 4).join(' ');
}

interface Info { san: string[]; inCheck: boolean; insufficient: boolean }
const infoCache = new Map<string, Info>();
const INFO_CACHE_MAX = 50_000;

/** Legal SAN moves and status of a FEN (cached: search visits the same positions often). */
function info(fen: string): Info {
  let i = infoCache.get(fen);
  if (i) return i;
  const c = new Chess(fen, { skipValidation: true });
  i = { san: c.moves(), inCheck: c.inCheck(), insufficient: c.isInsufficientMaterial() };
  if (infoCache.size >= INFO_CACHE_MAX) infoCache.clear();
  infoCache.set(fen, i);
  return i;
}

/** SAN without check and mate marks (`Qxf7#` → `Qxf7`). */
function bareSan(san: string): string {
  return san.replace(/[+#]+$/, '');
}

/**
 * A state from a FEN (with no earlier positions for the repetition rule). Errors: InputError naming what is wrong
 * with the FEN (chess.js's validation: six fields, kings, pawns on the back ranks, castling and en-passant fields).
 */
export function chessFromFen(fen: string): ChessState {
  const t = fen.trim().replace(/\s+/g, ' ');
  const v = validateFen(t);
  if (!v.ok) throw new InputError(`bad FEN "${fen}": ${v.error ?? 'invalid'}`, { field: 'fen' });
  const norm = new Chess(t).fen();
  return { fen: norm, keys: [repetitionKey(norm)] };
}

/** A legal move in both notations. */
export interface ChessMove {
  san: string;
  uci: string;
  from: string;
  to: string;
  promotion: string | null;
}

/** Every legal move of the side to move, in SAN (as chess.js writes it) and UCI (`e7e8q`), in chess.js's order. */
export function chessMoves(s: ChessState): ChessMove[] {
  return new Chess(s.fen, { skipValidation: true }).moves({ verbose: true }).map((m) => ({ san: m.san, uci: m.lan, from: m.from, to: m.to, promotion: m.promotion ?? null }));
}

/** Moves of the side to move that checkmate at once (SAN, sorted). */
export function chessMateInOne(s: ChessState): string[] {
  return info(s.fen).san.filter((m) => m.endsWith('#')).sort();
}

/** Moves of the side to move that give check, mates included (SAN, sorted). */
export function chessChecks(s: ChessState): string[] {
  return info(s.fen).san.filter((m) => /[+#]$/.test(m)).sort();
}

/** The piece letters of a FEN's placement by square (`e4` → `P`), empty squares absent. */
function placement(fen: string): Map<string, string> {
  const out = new Map<string, string>();
  fen.split(' ')[0]!.split('/').forEach((row, k) => {
    let col = 0;
    for (const ch of row) {
      if (/\d/.test(ch)) col += Number(ch);
      else out.set(`${String.fromCharCode(97 + col++)}${8 - k}`, ch);
    }
  });
  return out;
}

/** Own material minus the opponent's for `seat`, in pawns (see `PIECE_VALUES`). */
export function chessMaterial(s: ChessState, seat: Seat): number {
  let v = 0;
  for (const ch of s.fen.split(' ')[0]!) {
    const val = PIECE_VALUES[ch.toLowerCase()];
    if (val == null) continue;
    const white = ch !== ch.toLowerCase();
    v += (white === (seat === 0) ? 1 : -1) * val;
  }
  return v;
}

/**
 * Captures of the side to move that win material outright (SAN, sorted): the captured piece is worth more than the
 * capturing piece (a promoting pawn counts as a pawn), or after the capture the opponent has no legal capture on the
 * destination square (a king's capture is always of this kind). En passant captures a pawn.
 */
export function chessFreeCaptures(s: ChessState): string[] {
  const board = placement(s.fen);
  const out: string[] = [];
  for (const san of info(s.fen).san) {
    const m = /x([a-h][1-8])/.exec(san);
    if (!m) continue;
    const to = m[1]!;
    const attacker = /^[KQRBN]/.test(san) ? san[0]!.toLowerCase() : 'p';
    const victim = (board.get(to) ?? 'p').toLowerCase();
    if (PIECE_VALUES[victim]! > PIECE_VALUES[attacker]! && attacker !== 'k') { out.push(san); continue; }
    const after = chess.apply(s, san);
    const recapture = info(after.fen).san.some((r) => new RegExp(`x${to}(=|[+#]|$)`).test(r));
    if (!recapture) out.push(san);
  }
  return out.sort();
}

/** A move as UCI when `token` reads as a legal move here, else the token unchanged (for comparing answers). */
function uciOf(s: ChessState, token: string, moves: () => ChessMove[]): string {
  const p = chess.parseMove(s, token);
  if (p.kind !== 'move') return token;
  return moves().find((m) => m.san === p.move)?.uci ?? token;
}

const SAN_LIKE = /^([KQRBNP]?[a-h]?[1-8]?[-x:]?[a-h][1-8](=?[QRBNqrbn])?|O-O(-O)?|[a-h][1-8][-x:]?[a-h][1-8]=?[qrbnQRBN]?)$/i;

/**
 * A reply's move text read as one move: a comment after it (`Nf3 (developing)`, `Nf3 - develops the knight`,
 * `Nf3 because …`) is dropped; spaces inside one move (`N f3`, `e2 e4`, `e7 e8 q`) are tolerated when the joined text
 * is a legal move; two moves (`e4 e5`, `1. e4 e5`) are a format error, never joined into a UCI move. See
 * {@link parseChessToken} for the notations read.
 */
function parseChess(s: ChessState, text: string): ParsedMove {
  let t = text.trim();
  // a parenthesised or dashed comment after the move (`e.p.` is read by parseChessToken)
  for (let prev = ''; prev !== t;) {
    prev = t;
    t = t.replace(/\s+\((?!\s*e\.\s?p)[^()]*\)\s*[.!]?$/i, '').replace(/\s+(?:--?|\u2013|\u2014|:)\s+(?=[^\n]*[a-zA-Z]{2})[^\n]*$/, '').trim();
  }
  const words = t.replace(/^\d+\s*\.+\s*/, '').split(/\s+/).filter(Boolean);
  if (words.length < 2) return parseChessToken(s, t || text);
  const joined = parseChessToken(s, t);
  if (joined.kind === 'move') return joined;
  const first = parseChessToken(s, words[0]!);
  const rest = words.slice(1).map((w) => w.replace(/^[\s"'`*([{<]+|[\s"'`*)\]}>.;,!?+#]+$/g, '').replace(/^\d+\s*\.+/, '')).filter(Boolean);
  // A second move is a move-like word right after the first move, after another move, or after a word that lists
  // moves (`e4 e5`, `1. e4 e5`, `Nf3 or e4`, `Nf3 then Ng5`, `Nf3 followed by Ng5`); one after other prose names a
  // square or a threat (`Nf3 attacking e5`, `Nf3 to attack e5`, `Nf3 threatening Ng5`) and is part of the comment.
  const moveLike = (w: string) => SAN_LIKE.test(w) || /^[0o]-?[0o]/i.test(w);
  // Inside the comment (after the first prose word) a plan (`Nf3 attacking e5 and d4, then Ng5`) is still comment;
  // only an alternative (`or`) names a second move.
  const lists = /^(?:or|and|then|by|followed|next|after|before|vs|versus|alternatively|also|\/|&|\d+\.*)$/i;
  const alternatives = /^(?:or|alternatively|vs|versus|\/)$/i;
  let comment = false;
  const second = rest.some((w, i) => {
    const prev = i ? rest[i - 1]! : '';
    const starts = moveLike(w) && (i === 0 || moveLike(prev) || (comment ? alternatives : lists).test(prev));
    if (!moveLike(w) && !lists.test(w) && /[a-z]{2,}/i.test(w)) comment = true;
    return starts;
  });
  if (second) return { kind: 'format', reason: `"${text.trim().slice(0, 60)}" holds several moves: give one move` };
  // a move followed by prose (`Nf3 developing the knight`, `Nf3 attacking e5`)
  if (first.kind === 'move' && /[a-z]{2,}/i.test(rest[0] ?? '')) return first;
  return joined;
}

function parseChessToken(s: ChessState, text: string): ParsedMove {
  let t = text.trim();
  for (let prev = ''; prev !== t;) {
    prev = t;
    t = t.replace(/^[\s"'`*([{<]+|[\s"'`*)\]}>]+$/g, '')
      .replace(/^\d+\s*\.+\s*/, '')
      .replace(/\s*\(?\s*e\.\s?p\.?\s*\)?\s*$/i, '')
      .replace(/[.;,!?+#]+$/, '');
  }
  t = t.replace(/\s+/g, '');
  if (!t) return { kind: 'format', reason: 'empty move' };
  if (/^[0o]-?[0o](-?[0o])?$/i.test(t)) t = t.replace(/-/g, '').length === 3 ? 'O-O-O' : 'O-O';
  const legal = info(s.fen).san;
  const bare = legal.map(bareSan);
  const found = (i: number): ParsedMove => ({ kind: 'move', move: legal[i]! });
  let i = bare.indexOf(t);
  if (i >= 0) return found(i);
  // UCI (`e2e4`, `e7e8q`, `e2-e4`, `e7e8=Q`).
  const u = /^([a-h][1-8])[-x:]?([a-h][1-8])=?([qrbn])?$/i.exec(t);
  if (u) {
    const [from, to, promo] = [u[1]!.toLowerCase(), u[2]!.toLowerCase(), u[3]?.toLowerCase() ?? null];
    const all = chessMoves(s).filter((m) => m.from === from && m.to === to);
    const hit = all.find((m) => m.promotion === promo);
    if (hit) return { kind: 'move', move: hit.san };
    if (all.length && !promo) return { kind: 'illegal', move: t, reason: `a promotion must name the piece (e.g. ${from}${to}q)` };
    return { kind: 'illegal', move: `${from}${to}${promo ?? ''}`, reason: `no legal move from ${from} to ${to}${promo ? ` promoting to ${promo}` : ''} here` };
  }
  // A promotion written without `=` or with a lower-case piece (`e8q`, `exd8Q`).
  const promo = t.replace(/^([a-h](?:x[a-h])?[18])=?([qrbnQRBN])$/, (_, a: string, p: string) => `${a}=${p.toUpperCase()}`);
  if ((i = bare.indexOf(promo)) >= 0) return found(i);
  // Case: only when one legal move matches (`nf3` → Nf3; `BXC3` with both Bxc3 and bxc3 legal stays ambiguous).
  const lower = promo.toLowerCase();
  const same = bare.flatMap((b, k) => (b.toLowerCase() === lower ? [k] : []));
  if (same.length === 1) return found(same[0]!);
  if (same.length > 1) return { kind: 'illegal', move: t, reason: `${t} is ambiguous: ${same.map((k) => legal[k]).join(' or ')}` };
  // Over-specified SAN (`Ng1f3`, `Ng1-f3`) through chess.js's permissive parser.
  try {
    const san = new Chess(s.fen, { skipValidation: true }).move(t, { strict: false }).san;
    if ((i = legal.indexOf(san)) >= 0) return found(i);
  } catch { /* not a move chess.js reads */ }
  if (SAN_LIKE.test(t)) return { kind: 'illegal', move: t, reason: `${t} is not a legal move here` };
  return { kind: 'format', reason: `"${text.trim().slice(0, 60)}" is not a move in SAN (e.g. Nf3, exd5, O-O, e8=Q) or UCI (e.g. g1f3, e7e8q)` };
}

/** The chess engine (rules, notation and sources in the module comment). */
export const chess: Game<ChessState> = {
  name: 'chess',
  title: 'Chess',
  rules: 'Standard chess (FIDE Laws). White moves first. Checkmate wins. Stalemate, insufficient material, threefold repetition of a position and 50 moves by each side without a capture or a pawn move are draws (no claim needed).',
  moveFormat: 'a move in Standard Algebraic Notation (e.g. Nf3, exd5, O-O, e8=Q) or UCI (e.g. g1f3, e7e8q)',
  perfectInformation: true,
  maxPlies: 200,
  initial: () => ({ fen: CHESS_START_FEN, keys: [repetitionKey(CHESS_START_FEN)] }),
  toMove: (s) => (s.fen.split(' ')[1] === 'w' ? 0 : 1),
  legalMoves(s) {
    return chess.result(s) ? [] : info(s.fen).san;
  },
  apply(s, move) {
    if (!chess.legalMoves(s).includes(move)) throw new Error(`illegal chess move ${move} in ${s.fen}`);
    const c = new Chess(s.fen, { skipValidation: true });
    c.move(move);
    const fen = c.fen();
    const key = repetitionKey(fen);
    return { fen, keys: fen.split(' ')[4] === '0' ? [key] : [...s.keys, key] };
  },
  result(s): GameResult | null {
    const i = info(s.fen);
    const turn = chess.toMove(s);
    if (!i.san.length) return i.inCheck ? winFor(other(turn), `${NAMES[turn]} is checkmated`) : drawResult('stalemate');
    if (i.insufficient) return drawResult('insufficient material');
    const key = s.keys[s.keys.length - 1]!;
    if (s.keys.filter((k) => k === key).length >= 3) return drawResult('threefold repetition');
    if (Number(s.fen.split(' ')[4]) >= 100) return drawResult('50-move rule');
    return null;
  },
  render(s, seat) {
    const board = placement(s.fen);
    const [, turn, castling, ep, half, full] = s.fen.split(' ');
    const toMove = chess.toMove(s);
    const moves = chessMoves(s);
    const status = info(s.fen).inCheck ? ` ${NAMES[toMove]} is in check.` : '';
    return [
      `FEN: ${s.fen}`,
      renderGrid(8, 8, (c, r) => board.get(`${String.fromCharCode(97 + c)}${r + 1}`) ?? '.'),
      `Upper case = White, lower case = Black (K king, Q queen, R rook, B bishop, N knight, P pawn), . = empty square. You play ${NAMES[seat]}. ${turn === 'w' ? 'White' : 'Black'} to move (move ${full}).${status} Castling rights: ${castling}; en passant: ${ep}; plies since a capture or pawn move: ${half}.`,
      `Legal moves: ${moves.map((m) => m.san).join(', ')}`,
      `Legal moves in UCI: ${moves.map((m) => m.uci).join(', ')}`,
    ].join('\n');
  },
  parseMove: parseChess,
  subproblems(s, seat): Subproblem[] {
    let cached: ChessMove[] | null = null;
    const moves = () => (cached ??= chessMoves(s));
    const canon = (token: string) => uciOf(s, token, moves);
    return [
      { id: 'mate_in_one', kind: 'set', canon, question: 'Which of your legal moves checkmate the opponent at once? (list all, or "none")', truth: chessMateInOne(s) },
      { id: 'checks', kind: 'set', canon, question: 'Which of your legal moves give check (checkmates included)? (list all, or "none")', truth: chessChecks(s) },
      { id: 'free_captures', kind: 'set', canon, question: 'Which of your captures win material outright: the captured piece is worth more than the capturing piece (P 1, N 3, B 3, R 5, Q 9), or the opponent cannot capture back on that square? (list all, or "none")', truth: chessFreeCaptures(s) },
      { id: 'material', kind: 'number', question: 'Your material minus the opponent\'s, in pawns (P 1, N 3, B 3, R 5, Q 9; kings not counted)?', truth: chessMaterial(s, seat), tolerance: 0 },
    ];
  },
  heuristic: (s, seat) => chessMaterial(s, seat),
};
