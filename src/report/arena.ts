/**
 * The arena's HTML report (`assay arena … --html report.html`): one self-contained page (inline CSS and SVG, no
 * script, no external resource) with the Bradley–Terry ratings (95% bootstrap CIs, rank intervals, a forest plot),
 * the ratings per game, each model's move statistics and subproblem scores per game, and every match move by move:
 * for each ply who moved and what, each model reply's verdict (legal, illegal move, format error — the last two
 * marked), a random move substituted under the illegal-move policy, the subproblem answers against the rule-based
 * truth, and the board after the move as a text picture with coordinates; the final board and the result close each
 * match. Every text that comes from a model (replies, answers, the moves it wrote) is escaped.
 *
 * `assay report <run>` shows the same move-by-move section for runs of an arena task (`arenaRunMatches` reads their
 * stored match records from the pool, `arenaMatchesSection` renders them).
 */
import type { ArenaMatch, ArenaReport } from '../games/arena.ts';
import type { MatchRecord, MoveRecord } from '../games/match.ts';
import type { RunRecord } from '../core/schemas.ts';
import type { Pool } from '../store/types.ts';
import type { SubproblemResult } from '../games/protocol.ts';
import { GAMES, getGame } from '../games/registry.ts';
import type { Game } from '../games/types.ts';
import { toolkitInfo } from '../core/toolkit.ts';
import { esc, forestPlot } from './svg.ts';

/** The styles of the match section (boards, verdicts, collapsible matches and replies), for pages that embed it. */
export const ARENA_MATCH_CSS = `
pre.board{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82em;line-height:1.2;margin:0;background:#f6f6f6;padding:4px 6px;white-space:pre-wrap;max-width:46em}
td.nowrap{white-space:nowrap}td.text{min-width:14em}td.board{min-width:22em}
details.match{border:1px solid #ddd;border-radius:4px;margin:.5em 0;padding:.3em .6em}details.match>summary{cursor:pointer;overflow-wrap:anywhere}
details.reply pre{font-size:.8em;background:#f6f6f6;padding:6px;max-height:300px;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere}
.legal{color:#1d6b2f}.illegal{color:#a3161a;font-weight:600}.format{color:#8a4b00;font-weight:600}.sub{color:#8a4b00}.right{color:#1d6b2f}.wrong{color:#a3161a}`;

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#1b1b1b;line-height:1.45;padding:0 16px}
h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:2px solid #1f5fa8;padding-bottom:4px;margin-top:2em}h3{margin-bottom:.3em;overflow-wrap:anywhere}
.meta,.note{color:#555;font-size:.9em}.table-wrap{max-width:100%;overflow-x:auto}table{border-collapse:collapse;margin:.6em 0 1em;font-size:.88em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#eef3fa}td.num{text-align:right;white-space:nowrap}
${ARENA_MATCH_CSS}
.plot{display:block;margin:.4em 0 1em;max-width:100%;height:auto}`;

const f2 = (x: number) => (Number.isFinite(x) ? (x >= 0 ? '+' : '') + x.toFixed(2) : 'n/a');
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');

/** A table; `num` columns are right-aligned figures, `classes` gives other columns a class (`nowrap`, `text`, `board`). */
function table(headers: string[], rows: string[][], num: number[] = [], classes: Record<number, string> = {}): string {
  const cls = (j: number) => (num.includes(j) ? ' class="num"' : classes[j] ? ` class="${classes[j]}"` : '');
  return `<div class="table-wrap"><table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, j) => `<td${cls(j)}>${c}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`;
}

/** The board picture of a state: the game's rendering for `seat` without its legal-move lines. */
export function boardText(game: Game<unknown>, state: unknown, seat: 0 | 1): string {
  return game.render(state, seat).replace(/\nLegal moves:.*$/s, '');
}

/** A truth as text: a list, `none`, or (several equally correct answers) each answer in brackets joined by `or`. */
function fmtTruth(t: unknown): string {
  if (Array.isArray(t) && t.length && t.every(Array.isArray)) return `any of ${t.map((x) => `[${(x as unknown[]).join(', ')}]`).join(' or ')}`;
  return Array.isArray(t) ? (t.length ? t.join(', ') : 'none') : String(t);
}

function subproblemCell(rs: readonly SubproblemResult[]): string {
  return rs.map((r) => {
    const mark = r.correct ? '<span class="right">✓</span>' : `<span class="wrong">✗</span>`;
    return `${mark} <b>${esc(r.id)}</b>: answered ${r.answer == null ? '<i>(no answer)</i>' : esc(r.answer)}; truth ${esc(fmtTruth(r.truth))}${r.kind === 'set' || r.kind === 'one_of' ? `; F1 ${r.score.toFixed(2)}` : ''}`;
  }).join('<br>');
}

function verdictCell(mv: MoveRecord): string {
  if (!mv.tries) return '<span class="legal">reference player</span>';
  const parts = mv.tries.map((t, k) => {
    const head = mv.tries!.length > 1 ? `try ${k + 1}: ` : '';
    if (t.kind === 'move') return `${head}<span class="legal">legal</span>`;
    if (t.kind === 'illegal') return `${head}<span class="illegal">illegal move ${esc(t.move ?? '')}</span> (${esc(t.reason ?? '')})`;
    return `${head}<span class="format">format error</span> (${esc(t.reason ?? '')})`;
  });
  if (mv.substituted) parts.push('<span class="sub">random legal move substituted under the policy</span>');
  const replies = mv.tries.map((t, k) => `<details class="reply"><summary>reply ${k + 1}</summary><pre>${esc(t.reply)}</pre></details>`).join('');
  return parts.join('<br>') + replies;
}

/**
 * One match move by move (see the module comment): the start position, then one row per ply with the board after
 * it, then the result. Pure. Errors: Error when a stored move is not legal in its stored state (a corrupt record).
 */
export function matchHtml(rec: MatchRecord, o: { open?: boolean; runId?: string | null } = {}): string {
  const game = getGame(rec.game) as Game<unknown>;
  const start = rec.moves[0]?.state ?? game.initial(rec.seed);
  const rows: string[][] = [];
  let last: unknown = start;
  for (const mv of rec.moves) {
    // A forfeit ends the match on a move record without a move.
    const after = mv.move ? game.apply(mv.state, mv.move) : mv.state;
    last = after;
    rows.push([
      String(mv.ply + 1),
      `${esc(rec.players[mv.seat] ?? mv.player)} <span class="meta">(seat ${mv.seat})</span>`,
      mv.move ? `<b>${esc(mv.move)}</b>` : '<span class="illegal">no move: forfeit</span>',
      verdictCell(mv),
      mv.subproblems?.length ? subproblemCell(mv.subproblems) : '—',
      `<pre class="board">${esc(boardText(game, after, mv.seat))}</pre>`,
    ]);
  }
  const r = rec.result;
  const outcome = r.winner == null ? 'draw' : `${rec.players[r.winner]} wins`;
  const summary = `${esc(game.title)}, seed ${rec.seed}: ${esc(rec.players[0])} (seat 0) vs ${esc(rec.players[1])} (seat 1) — ${esc(outcome)} (${esc(r.reason)}${rec.capped && !/turn cap/.test(r.reason) ? ', at the turn cap' : ''}), ${rec.moves.length} plies`;
  const lastSeat = rec.moves.length ? rec.moves[rec.moves.length - 1]!.seat : 0;
  return [
    `<details class="match"${o.open ? ' open' : ''}><summary>${summary}</summary>`,
    `<p class="meta">Prompt form ${esc(rec.form)}; illegal moves: ${rec.policy.retries} re-prompt(s) then ${esc(rec.policy.then)}${rec.policy.then === 'random' ? ` (penalty ${rec.policy.penalty})` : ''}; turn cap ${rec.max_plies} plies${o.runId ? `; stored in run ${esc(o.runId)}` : '; a reference round-robin match (replayed from its seed, not stored)'}.</p>`,
    `<p>Start position:</p><pre class="board">${esc(boardText(game, start, 0))}</pre>`,
    table(['ply', 'player', 'move', 'verdict', 'subproblems (answer vs truth)', 'board after the move'], rows, [0], { 1: 'nowrap', 2: 'nowrap', 3: 'text', 4: 'text', 5: 'board' }),
    `<p><b>Final board</b> (${esc(outcome)}: ${esc(r.reason)}; outcome scores after penalties ${rec.adjusted[0]} / ${rec.adjusted[1]}; illegal-move substitutions ${rec.substitutions[0]} / ${rec.substitutions[1]}${rec.forfeit != null ? `; seat ${rec.forfeit} forfeited` : ''}):</p><pre class="board final">${esc(boardText(game, last, lastSeat))}</pre>`,
    '</details>',
  ].join('\n');
}

/**
 * The arena report as one self-contained HTML page (see the module comment). Matches come from
 * `report.match_records` (run the arena with `keepMatches`); without them the page has the ratings and statistics
 * only. `now` fixes the "generated at" time (tests). Pure.
 */
export function renderArenaReport(report: ArenaReport, o: { title?: string; now?: Date } = {}): string {
  const tk = toolkitInfo();
  const title = o.title ?? 'Assay game arena';
  const body: string[] = [];
  const rt = report.ratings;
  body.push(`<h1>${esc(title)}</h1>`);
  body.push(`<p class="meta">Games: ${esc(Object.keys(report.by_game).join(', '))}; prompt form ${esc(report.form)}; illegal moves: ${report.policy.retries} re-prompt(s) then ${esc(report.policy.then)}${report.policy.then === 'random' ? ` (penalty ${report.policy.penalty})` : ''}. Generated ${esc((o.now ?? new Date()).toISOString())} by Assay ${esc(tk.version)}.</p>`);
  body.push('<h2 id="ratings">Ratings</h2>');
  body.push(`<p class="note">${esc(rt.method)}; θ is the centred log-strength (exp(θa − θb) = odds that a beats b), draws count half. 95% CIs and rank intervals from ${rt.bootstrap.replicates} ${esc(rt.bootstrap.resample)} bootstrap replicates (seed ${rt.bootstrap.seed}).</p>`);
  body.push(table(['rank', 'player', 'θ', '95% CI', 'Elo scale', 'rank interval', 'W-D-L', 'matches'],
    rt.players.map((p) => [String(p.rank), esc(p.player), f2(p.theta), `[${f2(p.ci[0])}, ${f2(p.ci[1])}]`, Number.isFinite(p.elo) ? p.elo.toFixed(0) : 'n/a', `${p.rank_interval[0]}–${p.rank_interval[1]}`, `${p.wins}-${p.draws}-${p.losses}`, String(p.matches)]), [0, 2, 3, 4, 5, 6, 7]));
  if (rt.players.length) body.push(forestPlot(rt.players.map((p) => ({ label: p.player, mean: p.theta, lo: p.ci[0], hi: p.ci[1] })), 'Bradley–Terry strength θ with 95% bootstrap CI', { fmt: f2, tickFmt: (v) => v.toFixed(1), axisLabel: 'θ (log-odds scale)' }));
  for (const [game, gr] of Object.entries(report.by_game)) {
    if (!gr) continue;
    body.push(`<h3>${esc(game)}</h3>`);
    body.push(table(['rank', 'player', 'θ', '95% CI', 'rank interval', 'W-D-L'], gr.players.map((p) => [String(p.rank), esc(p.player), f2(p.theta), `[${f2(p.ci[0])}, ${f2(p.ci[1])}]`, `${p.rank_interval[0]}–${p.rank_interval[1]}`, `${p.wins}-${p.draws}-${p.losses}`]), [0, 2, 3, 4, 5]));
  }
  if (report.players.length) {
    body.push('<h2 id="models">Models: moves and subproblems</h2>');
    body.push('<p class="note">Rates are over each model\'s first reply per move: an illegal move is a readable move that is not legal; a format error is a reply with no readable move. Subproblem scores: F1 for lists, accuracy otherwise; exact = the share answered exactly.</p>');
    body.push('<p class="note">Calls and tokens are each model\'s own (re-prompts included; tokens as its server reported them, n/a when it reported none): in a match between two models each is counted for its own side.</p>');
    const tok = (x: number | null | undefined) => (x == null ? 'n/a' : String(x));
    body.push(table(['model', 'game', 'matches', 'mean outcome', 'moves', 'illegal', 'format errors', 'substitutions', 'forfeits', 'calls', 'prompt tokens', 'completion tokens'],
      report.players.map((p) => [esc(p.player), esc(p.game), String(p.matches), f2(p.mean_outcome), String(p.model_moves), pct(p.illegal_rate), pct(p.format_error_rate), String(p.substitutions), String(p.forfeits), tok(p.model_calls), tok(p.prompt_tokens), tok(p.completion_tokens)]), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
    const sp = report.players.flatMap((p) => Object.entries(p.subproblems).map(([id, s]) => [esc(p.player), esc(p.game), esc(id), String(s.n), s.mean_score.toFixed(3), pct(s.exact)]));
    if (sp.length) body.push(table(['model', 'game', 'subproblem', 'answers', 'mean score', 'exact'], sp, [3, 4, 5]));
  }
  const recs: ArenaMatch[] = report.match_records ?? [];
  if (recs.length) body.push(arenaMatchesSection(recs, Object.keys(report.by_game)));
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body>${body.join('\n')}</body></html>\n`;
}

/**
 * The "Matches move by move" section: a heading, a note on how to read it, then per game (in `games` order, else in
 * order of first appearance) each match as `matchHtml` draws it. Empty string without matches. Pure.
 */
export function arenaMatchesSection(recs: readonly ArenaMatch[], games?: readonly string[]): string {
  if (!recs.length) return '';
  const order = games ?? [...new Set(recs.map((r) => r.game))];
  const body = ['<h2 id="matches">Matches move by move</h2>'];
  body.push('<p class="note">Each match opens to its moves: the verdict of every model reply (illegal moves and format errors marked), the subproblem answers against the rule-based truth (✓ exact, ✗ not), the board after each move, and the final board.</p>');
  for (const game of order) {
    const mine = recs.filter((r) => r.game === game);
    if (!mine.length) continue;
    body.push(`<h3>${esc(getGame(game).title)} (${mine.length} match${mine.length === 1 ? '' : 'es'})</h3>`);
    for (const r of mine) body.push(matchHtml(r.m, { runId: r.run_id }));
  }
  return body.join('\n');
}

/**
 * Is this run's task an arena task: `arena-<game>` (against reference players) or `arena-<game>-vs-model`, `<game>` a
 * built-in game (so an imported `arena-hard` run is not one)?
 */
export function isArenaRun(run: Pick<RunRecord, 'spec'>): boolean {
  const m = /^arena-(.+?)(?:-vs-model)?$/.exec(run.spec.task?.name ?? '');
  return m != null && Object.hasOwn(GAMES, m[1]!);
}

/**
 * The stored match records of the arena runs among `runs` (other runs are skipped), in run order then sample order:
 * every ok attempt that carries a match record (`meta.solver.match`), the run's model named by its address instead of
 * `model`. Reads each arena run's attempts once. Errors: those of the pool's reads.
 */
export async function arenaRunMatches(pool: Pool, runs: readonly RunRecord[]): Promise<ArenaMatch[]> {
  const out: ArenaMatch[] = [];
  for (const run of runs) {
    if (!isArenaRun(run)) continue;
    for await (const a of pool.iterateAttempts(run.id)) {
      const m = (a.meta?.solver as { match?: MatchRecord } | undefined)?.match;
      if (a.status !== 'ok' || !m || !Array.isArray(m.moves)) continue;
      const named: MatchRecord = { ...m, players: m.players.map((p) => (p === 'model' ? run.spec.model : p)) as [string, string] };
      out.push({ game: m.game, run_id: run.id, m: named });
    }
  }
  return out;
}
