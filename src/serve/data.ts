/**
 * What the viewer reads, and how: the pool through its paged reads (`pageAttempts`, `getPlanned`, iterators — a run
 * is never loaded whole), the analyses through the library's own functions (`runStatistics`, `compareRuns`,
 * `calibrationOfRun`, `contextLimitOfRun`, `rankFromPool`, `evalSetTable`) and the run list, each result cached. The
 * analyses and the run list go through an {@link AnalysisRunner} (src/serve/analyses.ts): `serve` gives one on worker
 * threads, so that they do not hold up the HTTP thread.
 *
 * Caching: an analysis of a run is kept under the run's fingerprint — its status, its `updated_at` and the head of
 * its evidence chain (every attempt or measurement written through `openPool` extends the chain: src/store/chained.ts),
 * which costs two indexed reads — and recomputed once the fingerprint changes (a run in progress, a re-grading).
 * Concurrent requests for the same analysis share one computation. At most `maxEntries` results are kept (least
 * recently used dropped first), and at most `maxBytes` of them by estimated size (64 MiB).
 *
 * Private held-out items (src/private/): a run over a private set (`private:<name>`) is stored with placeholders and
 * sealed responses only; below the `admin` role even those are withheld (prompt, target, response, transcript, meta,
 * error, extracted answer, explanation), and search sees only sample ids. Scores, statistics and comparisons are shown.
 */
import { InputError } from '../core/errors.ts';
import { outcomeOf, scoredValue } from '../core/outcome.ts';
import type { PlannedSample, RunRecord } from '../core/schemas.ts';
import type { RunCalibration } from '../analyses/calibration.ts';
import type { ComparisonReport } from '../analyses/compare.ts';
import type { contextLimitOfRun } from '../analyses/context-limit.ts';
import type { EvalTable } from '../analyses/eval-set.ts';
import type { PoolRanking } from '../analyses/pool-ranking.ts';
import { runSummaryOf } from '../store/shared.ts';
import type { AttemptCursor, AttemptPageRow, Pool, RunSummary } from '../store/types.ts';
import { inlineAnalyses, type AnalysisRunner, type RunStats } from './analyses.ts';
import { roleAtLeast, type Role } from './auth.ts';

export type { RunStats } from './analyses.ts';

/** An error the viewer answers with a status (404 for unknown objects, 400 for bad parameters, 403 for roles). */
export class HttpError extends Error {
  constructor(readonly status: 400 | 401 | 403 | 404 | 413 | 429, message: string) {
    super(message);
  }
}

/** Run ids as stored: letters, digits, `.`, `_`, `-` (16 hex digits for runs Assay makes). */
export const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** An image's sha256. */
export const SHA256_RE = /^[0-9a-f]{64}$/;

/** Check a sample id given in a request: 1–1024 characters, no control characters. It is only ever a bound query parameter. */
export function checkSampleId(id: string | undefined): string {
  if (!id || id.length > 1024 || /[\u0000-\u001f\u007f]/.test(id)) throw new HttpError(400, 'a sample id is 1–1024 characters without control characters');
  return id;
}

/** Parse a cursor `<index>.<epoch>` (null when absent). */
export function parseCursor(s: string | undefined): AttemptCursor | null {
  if (s === undefined || s === '') return null;
  const m = /^(\d{1,9})\.(\d{1,6})$/.exec(s);
  if (!m) throw new HttpError(400, 'a cursor is <sample index>.<epoch>, e.g. 120.3');
  return { index: Number(m[1]), epoch: Number(m[2]) };
}

export const cursorText = (c: AttemptCursor) => `${c.index}.${c.epoch}`;

/** What a page of attempts may be narrowed to (`disagree`: two scorers of the run give different verdicts). */
export const OUTCOME_FILTERS = ['all', 'correct', 'incorrect', 'failed', 'truncated', 'ungraded', 'disagree'] as const;
export type OutcomeFilter = (typeof OUTCOME_FILTERS)[number];

/** The text shown instead of a private held-out item's content. */
export const WITHHELD = '[withheld: private held-out item]';

/** Whether a run evaluates a private held-out set (its dataset is `private:<name>`). */
export function isPrivateRun(run: Pick<RunRecord, 'spec'>): boolean {
  return run.spec.dataset.ref.startsWith('private:') || run.spec.dataset.name.startsWith('private:');
}

/** One attempt as lists show it: its outcome under the one rule for the chosen scorer, and each scorer's value. */
export interface AttemptListRow {
  index: number;
  sample_id: string;
  epoch: number;
  status: 'ok' | 'error';
  finish_reason: string;
  /** `correct` (value ≥ 0.5), `incorrect`, `timeout` (counted wrong), `failed`, `ungraded` (grader error or no measurement). */
  outcome: 'correct' | 'incorrect' | 'timeout' | 'failed' | 'ungraded';
  scorer: string | null;
  value: number | null;
  extracted: string | null;
  /** Every scorer's counted value (null: excluded). */
  scores: Record<string, number | null>;
  response: string | null;
  error: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  latency_ms: number;
  tries: number;
  cached: boolean;
  model_id: string | null;
}

/** The columns of the attempts table (CSV order). */
export const ATTEMPT_COLUMNS = ['index', 'sample_id', 'epoch', 'status', 'finish_reason', 'outcome', 'scorer', 'value', 'extracted', 'response', 'error', 'prompt_tokens', 'completion_tokens', 'latency_ms', 'tries', 'cached', 'model_id'];

/** A page of attempts and where the next one starts. */
export interface AttemptPage {
  rows: AttemptListRow[];
  /** Where the next page starts (null: the run's end was reached). */
  next: string | null;
  /** Attempts looked at to fill the page (a narrow filter looks at many; at most the scan budget per request). */
  scanned: number;
  /** True when the scan budget ran out before the page was full (the page is short; `next` continues the scan). */
  budget_exhausted: boolean;
}

/** Withhold a private item's content (see the module comment). */
function redactAttempt(a: AttemptPageRow): AttemptPageRow {
  return {
    ...a, response: a.response == null ? null : WITHHELD, transcript: null, meta: null, error: a.error == null ? null : WITHHELD,
    measurements: a.measurements.map((m) => ({ ...m, extracted: m.extracted == null ? null : WITHHELD, explanation: null })),
  };
}

function redactPlanned(p: PlannedSample): PlannedSample {
  const set = typeof p.sample.metadata.private_set === 'string' ? p.sample.metadata.private_set : null;
  return { ...p, messages: [{ role: 'user', content: WITHHELD }], sample: { id: p.sample.id, input: WITHHELD, target: WITHHELD, metadata: set ? { private_set: set } : {} } };
}

/** The outcome of an attempt for `scorer` under the one rule (src/core/outcome.ts). */
export function listRow(a: AttemptPageRow, scorer: string | null): AttemptListRow {
  const m = scorer ? a.measurements.find((x) => x.scorer === scorer) : a.measurements[0];
  let outcome: AttemptListRow['outcome'];
  let value: number | null = null;
  if (a.status === 'error') outcome = 'failed';
  else if (!m) outcome = 'ungraded';
  else {
    const o = outcomeOf({ epoch: a.epoch, value: m.value, status: m.status, extracted: m.extracted, finish_reason: a.finish_reason, attempt_status: a.status });
    value = o.value;
    outcome = o.failed ? 'failed' : o.timeout ? 'timeout' : o.value == null ? 'ungraded' : o.value >= 0.5 ? 'correct' : 'incorrect';
  }
  const scores: Record<string, number | null> = {};
  for (const x of a.measurements) scores[x.scorer] = a.status === 'error' ? null : scoredValue(x);
  return {
    index: a.index, sample_id: a.sample_id, epoch: a.epoch, status: a.status, finish_reason: a.finish_reason, outcome, scorer: m?.scorer ?? scorer, value,
    extracted: m?.extracted ?? null, scores, response: a.response, error: a.error, prompt_tokens: a.prompt_tokens, completion_tokens: a.completion_tokens,
    latency_ms: a.latency_ms, tries: a.tries, cached: a.cached, model_id: a.model_id,
  };
}

/** Whether a row passes a filter and a search text (lower-case; matched in the sample id, response, extracted answer and error). */
export function rowMatches(r: AttemptListRow, filter: OutcomeFilter, q: string): boolean {
  switch (filter) {
    case 'correct': if (r.outcome !== 'correct') return false; break;
    case 'incorrect': if (r.outcome !== 'incorrect' && r.outcome !== 'timeout') return false; break;
    case 'failed': if (r.outcome !== 'failed') return false; break;
    case 'truncated': if (r.finish_reason !== 'length') return false; break;
    case 'ungraded': if (r.outcome !== 'ungraded') return false; break;
    case 'disagree': {
      const v = Object.values(r.scores).filter((x): x is number => x != null);
      if (!(v.some((x) => x >= 0.5) && v.some((x) => x < 0.5))) return false;
      break;
    }
    default:
  }
  if (!q) return true;
  return [r.sample_id, r.response, r.extracted, r.error].some((s) => s != null && s.toLowerCase().includes(q));
}

interface Entry<T> {
  key: string;
  fingerprint: string;
  value: Promise<T>;
  /** Estimated size once resolved (0 while computing). */
  bytes: number;
}

/**
 * Estimated bytes a cached value holds: a string's UTF-16 size, otherwise twice its JSON length (numbers and
 * property names in memory cost about what their text does; strings twice). An estimate, to bound the cache.
 */
export function estimateBytes(v: unknown): number {
  if (typeof v === 'string') return 2 * v.length;
  try {
    return 2 * (JSON.stringify(v)?.length ?? 0);
  } catch {
    return 0;
  }
}

/**
 * A small LRU of analysis results under fingerprints, sharing in-flight computations. A failed computation is not
 * kept. Bounded both in entries (`maxEntries`) and in estimated bytes (`maxBytes`, default 64 MiB, measured by
 * {@link estimateBytes} when a value resolves): least recently used dropped first, and a value larger than the whole
 * bound is answered but not kept.
 */
export class AnalysisCache {
  private entries = new Map<string, Entry<unknown>>();
  private total = 0;
  constructor(private readonly maxEntries = 64, private readonly maxBytes = 64 << 20) {}

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.total -= e.bytes;
    this.entries.delete(key);
  }

  private trim(): void {
    while (this.entries.size > this.maxEntries || this.total > this.maxBytes) this.drop(this.entries.keys().next().value!);
  }

  get<T>(key: string, fingerprint: string, compute: () => Promise<T>): Promise<T> {
    const e = this.entries.get(key);
    if (e && e.fingerprint === fingerprint) {
      this.entries.delete(key);
      this.entries.set(key, e);
      return e.value as Promise<T>;
    }
    const value = compute();
    const entry: Entry<T> = { key, fingerprint, value, bytes: 0 };
    this.drop(key);
    this.entries.set(key, entry);
    this.trim();
    value.then((v) => {
      if (this.entries.get(key) !== entry) return;
      entry.bytes = estimateBytes(v);
      this.total += entry.bytes;
      if (entry.bytes > this.maxBytes) this.drop(key);
      else this.trim();
    }, () => {
      if (this.entries.get(key) === entry) this.drop(key);
    });
    return value;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes of the settled values kept. */
  get bytes(): number {
    return this.total;
  }
}

/** What the live view polls. */
export interface RunProgress {
  run_id: string;
  status: string;
  /** Planned attempts (samples × epochs) and stored ones. */
  planned: number;
  attempts: number;
  ok: number;
  failed: number;
  /** stored / planned in [0, 1]. */
  done: number;
  scorer: string | null;
  /** avg@k so far over the graded samples, with the headline 95% interval (src/stats/accuracy.ts `headlineInterval`), or null before any verdict. */
  accuracy: number | null;
  ci95: { lo: number; hi: number; method: string } | null;
  graded_samples: number;
  updated_at: string;
}

/** The viewer's reads of one pool. */
export class ViewerData {
  readonly cache: AnalysisCache;
  private runsCache: { at: number; value: Promise<RunSummary[]>; refreshing: boolean } | null = null;
  private heads = new Map<string, { at: number; value: Promise<string> }>();

  /** Where the heavy reads run (src/serve/analyses.ts): a worker thread, or this thread (the default). */
  readonly analyses: AnalysisRunner;

  constructor(readonly pool: Pool, private readonly o: { replicates?: number; maxEntries?: number; maxBytes?: number; runListTtlMs?: number; analyses?: AnalysisRunner } = {}) {
    this.cache = new AnalysisCache(o.maxEntries ?? 64, o.maxBytes);
    this.analyses = o.analyses ?? inlineAnalyses(pool);
  }

  /**
   * Every run (`listRuns`, which counts each run's attempts: a few hundred milliseconds on a 200k-attempt pool), kept
   * for `runListTtlMs` (default 10 s); once stale, the kept list is answered while a fresh one is read.
   */
  runs(): Promise<RunSummary[]> {
    const now = Date.now();
    const c = this.runsCache;
    if (c && now - c.at <= (this.o.runListTtlMs ?? 10_000)) return c.value;
    if (c && !c.refreshing) {
      c.refreshing = true;
      this.analyses.run('listRuns').then((list) => (this.runsCache = { at: Date.now(), value: Promise.resolve(list), refreshing: false }), () => (c.refreshing = false));
      return c.value;
    }
    if (c) return c.value;
    const value = this.analyses.run('listRuns');
    this.runsCache = { at: now, value, refreshing: false };
    value.catch(() => (this.runsCache = null));
    return value;
  }

  /** The run `ref` (an id or a unique prefix of at least 4 characters). Errors: HttpError 400 for a malformed id, 404 for an unknown or ambiguous one. */
  async run(ref: string | undefined): Promise<RunRecord> {
    if (!ref || !RUN_ID_RE.test(ref)) throw new HttpError(400, 'a run id is 1–128 letters, digits, ".", "_" or "-"');
    let id: string;
    try {
      id = ref.length >= 4 ? await this.pool.resolveRunId(ref) : ref;
    } catch (e) {
      if (e instanceof InputError) throw new HttpError(404, e.message);
      throw e;
    }
    const run = await this.pool.getRun(id);
    if (!run) throw new HttpError(404, `no run with id "${ref}" in the pool`);
    return run;
  }

  /** The run's fingerprint: status, last update, head of its evidence chain (see the module comment). */
  async fingerprint(run: RunRecord): Promise<string> {
    // The chain head is read at most every 250 ms per run (a page asks for it several times).
    const now = Date.now();
    let h = this.heads.get(run.id);
    if (!h || now - h.at > 250) {
      h = { at: now, value: this.pool.chainHead(run.id).then((head) => (head ? `${head.seq}:${head.chain}` : '-')) };
      this.heads.set(run.id, h);
      if (this.heads.size > 10_000) this.heads.delete(this.heads.keys().next().value!);
    }
    return `${run.status}|${run.updated_at}|${await h.value}`;
  }

  /** Scorers with measurements in the run (the run's own first, in spec order, then the others). */
  async scorers(run: RunRecord): Promise<string[]> {
    const stored = await this.cache.get(`scorers:${run.id}`, await this.fingerprint(run), () => this.analyses.run('scorers', run.id));
    const own = run.spec.scorers.map((s) => s.name).filter((s) => stored.includes(s));
    return [...own, ...stored.filter((s) => !own.includes(s))];
  }

  /** The scorer asked for (one of the run's), or the run's first. Errors: HttpError 400 for a scorer the run has no measurements of. */
  async scorerOf(run: RunRecord, requested: string | undefined): Promise<string | null> {
    const list = await this.scorers(run);
    if (requested === undefined || requested === '') return list[0] ?? null;
    if (!list.includes(requested)) throw new HttpError(400, `run ${run.id} has no measurements of scorer "${requested.slice(0, 100)}"; it has: ${list.join(', ') || 'none'}`);
    return requested;
  }

  /** Statistics of every scorer of the run (`runStatistics`: avg@k with its headline CI, bootstrap and Wald beside it, pass@k, maj@k). */
  async stats(run: RunRecord): Promise<RunStats> {
    const scorers = await this.scorers(run);
    return this.cache.get(`stats:${run.id}`, await this.fingerprint(run), () => this.analyses.run('stats', run.id, scorers, this.o.replicates));
  }

  /**
   * Progress of a run and its accuracy so far with the headline 95% interval (which needs no bootstrap, so polling a
   * large run in progress stays cheap: the bootstrap is run with 200 replicates here and not shown).
   */
  async progress(run: RunRecord): Promise<RunProgress> {
    const scorer = await this.scorerOf(run, undefined);
    // A run stored as running that no live process holds is interrupted (the pool's rule, store/shared.ts): the live
    // view stops polling it.
    const status = runSummaryOf(run, { samples: 0, attempts: 0, failed: 0 }, await this.pool.getLease(run.id)).status;
    return this.cache.get(`progress:${run.id}`, `${status}|${await this.fingerprint(run)}`, async () => {
      const { attempts, ok, error, planned, accuracy, ci95, graded } = await this.analyses.run('progress', run, scorer);
      const counts = { attempts, ok, error };
      const total = planned * run.spec.epochs;
      return {
        run_id: run.id, status, planned: total, attempts: counts.attempts, ok: counts.ok, failed: counts.error, done: total ? Math.min(1, counts.attempts / total) : 0,
        scorer, accuracy, ci95, graded_samples: graded, updated_at: new Date().toISOString(),
      };
    });
  }

  /**
   * One page of a run's attempts from `after`, narrowed by `filter` and `q`: pages of the pool are read until `limit`
   * rows match or `budget` attempts were looked at (so a request's work is bounded however rare the rows it asks for).
   */
  async attemptsPage(run: RunRecord, o: { after: AttemptCursor | null; limit: number; filter: OutcomeFilter; q: string; scorer: string | null; role: Role; budget?: number }): Promise<AttemptPage> {
    const budget = o.budget ?? 20_000;
    const redact = isPrivateRun(run) && !roleAtLeast(o.role, 'admin');
    const q = o.q.toLowerCase();
    const rows: AttemptListRow[] = [];
    let cursor = o.after, scanned = 0, end = false;
    const plain = o.filter === 'all' && !q;
    outer: while (rows.length < o.limit && scanned < budget) {
      const want = plain ? o.limit - rows.length : Math.min(2000, Math.max(200, (o.limit - rows.length) * 8), budget - scanned);
      const page = await this.pool.pageAttempts(run.id, { limit: want, after: cursor });
      if (!page.length) {
        end = true;
        break;
      }
      for (const a0 of page) {
        scanned++;
        cursor = { index: a0.index, epoch: a0.epoch };
        const r = listRow(redact ? redactAttempt(a0) : a0, o.scorer);
        if (rowMatches(r, o.filter, q)) rows.push(r);
        if (rows.length >= o.limit) break outer;
      }
      if (page.length < want) {
        end = true;
        break;
      }
    }
    // At the end of the run there is no next page; when the page filled up exactly at the end, one more empty read would say so.
    return { rows, next: end || !cursor ? null : cursorText(cursor), scanned, budget_exhausted: !end && rows.length < o.limit };
  }

  /** Every attempt of a run through `filter` and `q`, streamed page by page (downloads; no budget). */
  async *attemptRows(run: RunRecord, o: { filter: OutcomeFilter; q: string; scorer: string | null; role: Role }): AsyncGenerator<Record<string, unknown>> {
    const redact = isPrivateRun(run) && !roleAtLeast(o.role, 'admin');
    const q = o.q.toLowerCase();
    let after: AttemptCursor | null = null;
    for (;;) {
      const page = await this.pool.pageAttempts(run.id, { limit: 1000, after });
      if (!page.length) return;
      for (const a of page) {
        const r = listRow(redact ? redactAttempt(a) : a, o.scorer);
        if (rowMatches(r, o.filter, q)) yield { ...r, scores: undefined, ...Object.fromEntries(Object.entries(r.scores).map(([k, v]) => [`score:${k}`, v])) };
      }
      after = { index: page[page.length - 1]!.index, epoch: page[page.length - 1]!.epoch };
    }
  }

  /** A sample of a run: its plan (prompt messages, target) and every attempt with its whole transcript and measurements. Errors: HttpError 404 for an unknown sample. */
  async sample(run: RunRecord, sampleId: string, role: Role): Promise<{ planned: PlannedSample; attempts: AttemptPageRow[]; redacted: boolean }> {
    const planned = await this.pool.getPlanned(run.id, sampleId);
    if (!planned) throw new HttpError(404, `run ${run.id} has no sample "${sampleId.slice(0, 200)}"`);
    const attempts: AttemptPageRow[] = [];
    let after: AttemptCursor | null = null;
    for (;;) {
      const page = await this.pool.pageAttempts(run.id, { limit: 2000, after, sampleId });
      attempts.push(...page);
      if (page.length < 2000) break;
      after = { index: page[page.length - 1]!.index, epoch: page[page.length - 1]!.epoch };
    }
    const redacted = isPrivateRun(run) && !roleAtLeast(role, 'admin');
    return redacted ? { planned: redactPlanned(planned), attempts: attempts.map(redactAttempt), redacted } : { planned, attempts, redacted };
  }

  /** Paired comparison of runs (≥ 2; with ≥ 3 a ranking with rank intervals), under one scorer. */
  async compare(runs: RunRecord[], scorer: string | undefined): Promise<ComparisonReport> {
    const fps = await Promise.all(runs.map((r) => this.fingerprint(r)));
    return this.cache.get(`compare:${runs.map((r) => r.id).join(',')}:${scorer ?? ''}`, fps.join('/'), () => this.analyses.run('compare', runs.map((r) => r.id), scorer, this.o.replicates));
  }

  /** Calibration of a run's stated confidence against a grader (`calibrationOfRun`). */
  async calibration(run: RunRecord, scorer: string | undefined): Promise<RunCalibration> {
    return this.cache.get(`calibration:${run.id}:${scorer ?? ''}`, await this.fingerprint(run), () => this.analyses.run('calibration', run.id, scorer, this.o.replicates));
  }

  /** The needle-threading context limit of a run with its depth × length heatmap (`contextLimitOfRun`). */
  async contextLimit(run: RunRecord, scorer: string | undefined): Promise<Awaited<ReturnType<typeof contextLimitOfRun>>> {
    return this.cache.get(`context:${run.id}:${scorer ?? ''}`, await this.fingerprint(run), () => this.analyses.run('context', run.id, scorer));
  }

  /** The pool's Plackett–Luce ranking with rank intervals (`rankFromPool`, no selection: nothing is written), kept for a minute. */
  async poolRanking(): Promise<PoolRanking> {
    return this.cache.get('pool-ranking', String(Math.floor(Date.now() / 60_000)), () => this.analyses.run('ranking'));
  }

  /** An eval set's table (`evalSetTable`). Errors: HttpError 404 for an unknown eval set. */
  async evalSet(id: string): Promise<EvalTable> {
    if (!RUN_ID_RE.test(id)) throw new HttpError(400, 'an eval set id is 1–128 letters, digits, ".", "_" or "-"');
    let set;
    try {
      set = await this.pool.getEvalSet(id);
    } catch (e) {
      if (e instanceof InputError) throw new HttpError(404, e.message);
      throw e;
    }
    if (!set) throw new HttpError(404, `no eval set "${id}" in the pool`);
    const runs = await Promise.all(Object.values(set.runs).map(async (r) => (await this.pool.getRun(r)) ?? null));
    const fps = await Promise.all(runs.map((r) => (r ? this.fingerprint(r) : '-')));
    return this.cache.get(`eval-set:${set.id}`, `${set.status}|${set.updated_at}|${fps.join('/')}`, () => this.analyses.run('evalSet', set.id, this.o.replicates));
  }
}
