/**
 * The viewer's heavy reads, by name, so that they can run off the HTTP thread (src/serve/analysis-thread.ts): each
 * reads a whole run or the whole pool (every outcome of a run, every run's counts) and, for the statistics, computes a
 * bootstrap — seconds on a 200k-attempt run, which on the HTTP thread (and with SQLite's synchronous reads) would stop
 * every other request meanwhile. Arguments and results are plain data (structured clone).
 *
 * Ops: `listRuns` → RunSummary[]; `scorers` (run id) → string[]; `stats` (run id, scorers, replicates) → RunStats;
 * `progress` (run, scorer) → counts and accuracy so far; `compare`, `calibration`, `context`, `ranking`, `evalSet`:
 * the library's analyses of the same names (src/analyses/).
 */
import { calibrationOfRun } from '../analyses/calibration.ts';
import { compareRuns } from '../analyses/compare.ts';
import { contextLimitOfRun } from '../analyses/context-limit.ts';
import { evalSetTable } from '../analyses/eval-set.ts';
import { readRunOutcomes } from '../analyses/outcomes.ts';
import { rankFromPool } from '../analyses/pool-ranking.ts';
import { runStatistics, statisticsOfData } from '../analyses/statistics.ts';
import type { RunRecord } from '../core/schemas.ts';
import type { RunStatistics } from '../stats/accuracy.ts';
import type { Pool } from '../store/types.ts';

/** Per-scorer statistics of a run. */
export interface RunStats {
  run_id: string;
  scorers: { scorer: string; statistics: RunStatistics }[];
}

/** What the live view needs of a run's store: counts, plan size, and accuracy so far with the headline 95% interval. */
export interface ProgressFigures {
  attempts: number;
  ok: number;
  error: number;
  planned: number;
  accuracy: number | null;
  ci95: { lo: number; hi: number; method: string } | null;
  graded: number;
}

/** The ops (see the module comment). Each takes the pool and its arguments. */
export const ANALYSES = {
  listRuns: (pool: Pool) => pool.listRuns(),
  scorers: (pool: Pool, runId: string) => pool.scorersOf(runId),
  stats: async (pool: Pool, runId: string, scorers: string[], replicates: number | undefined): Promise<RunStats> => {
    const out: RunStats['scorers'] = [];
    for (const s of scorers) out.push(await runStatistics(pool, runId, { scorer: s, replicates }));
    return { run_id: runId, scorers: out };
  },
  /** Accuracy so far with 200 bootstrap replicates (the headline interval needs none; the bootstrap is not shown). */
  progress: async (pool: Pool, run: RunRecord, scorer: string | null): Promise<ProgressFigures> => {
    const [counts, planned] = await Promise.all([pool.counts(run.id), pool.plannedCount(run.id)]);
    let accuracy: number | null = null, ci95: ProgressFigures['ci95'] = null, graded = 0;
    if (scorer) {
      const s = statisticsOfData(await readRunOutcomes(pool, run, scorer), { replicates: 200 });
      graded = s.samples;
      if (s.samples > 0) {
        accuracy = s.accuracy;
        ci95 = { lo: s.ci95.lo, hi: s.ci95.hi, method: s.ci95.method };
      }
    }
    return { attempts: counts.attempts, ok: counts.ok, error: counts.error, planned, accuracy, ci95, graded };
  },
  compare: (pool: Pool, ids: string[], scorer: string | undefined, replicates: number | undefined) => compareRuns(pool, ids, { scorer, replicates }),
  calibration: (pool: Pool, runId: string, scorer: string | undefined, replicates: number | undefined) => calibrationOfRun(pool, runId, { scorer, replicates }),
  context: (pool: Pool, runId: string, scorer: string | undefined) => contextLimitOfRun(pool, runId, { scorer }),
  ranking: (pool: Pool) => rankFromPool(pool, {}),
  evalSet: (pool: Pool, id: string, replicates: number | undefined) => evalSetTable(pool, id, { replicates }),
};

export type AnalysisOp = keyof typeof ANALYSES;
type Rest<F> = F extends (pool: Pool, ...args: infer A) => unknown ? A : never;
/** The arguments of op `K` (after the pool). */
export type AnalysisArgs<K extends AnalysisOp> = Rest<(typeof ANALYSES)[K]>;
/** The result of op `K`. */
export type AnalysisResult<K extends AnalysisOp> = Awaited<ReturnType<(typeof ANALYSES)[K]>>;

/** Where the ops run: on this thread (`inlineAnalyses`) or on a worker thread (`AnalysisThread`). */
export interface AnalysisRunner {
  run<K extends AnalysisOp>(op: K, ...args: AnalysisArgs<K>): Promise<AnalysisResult<K>>;
  close(): Promise<void>;
}

/** The ops on this thread, over `pool` (a `memory:` pool, which no other thread can open, and library users). */
export function inlineAnalyses(pool: Pool): AnalysisRunner {
  return {
    run: (op, ...args) => (ANALYSES[op] as (p: Pool, ...a: unknown[]) => Promise<never>)(pool, ...args),
    close: async () => {},
  };
}
