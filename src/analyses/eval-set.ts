/**
 * The summary of an eval set: one row per task × model with accuracy (avg@k) and its statistics, whose headline 95% CI
 * (`statistics.ci95`, with its `method`: Wilson score for 0/1 scores, as `assay stats` prints first) tables show, and a
 * ranking of the models across tasks (macro-averaged accuracy with CI and rank interval; never a bare order).
 */
import { InputError } from '../core/errors.ts';
import type { RunStatistics } from '../stats/accuracy.ts';
import { rankAcrossTasks, type RankedModel } from '../stats/rank.ts';
import type { Pool } from '../store/types.ts';
import { readRunOutcomes } from './outcomes.ts';
import { statisticsOfData } from './statistics.ts';

export interface EvalTableRow {
  task: string;
  model: string;
  run_id: string;
  scorer: string;
  status: string;
  statistics: RunStatistics;
}

export interface EvalTable {
  eval_set_id: string;
  tasks: string[];
  models: string[];
  rows: EvalTableRow[];
  /**
   * Null with fewer than two models, when some cell has no graded sample, or when a task's first scorer is numeric
   * (a macro-average of accuracies cannot take bits per byte or log-likelihoods: `ranking_note` says so).
   */
  ranking: { models: RankedModel[]; replicates: number; seed: number; samples_per_task: Record<string, number> } | null;
  /** Why there is no ranking when the reason is the scale of the ranked scorer (absent otherwise). */
  ranking_note?: string;
}

/**
 * Summarise an eval set from the pool (each run read once, through the one reader: grader timeouts count as wrong,
 * failed calls and grader errors are left out and counted).
 * Per cell: one row per scorer with measurements (the task's, in order, then any added by re-grading). Ranking: by
 * the task's first scorer, models aligned within each task on the samples graded for all of them.
 * @throws InputError for an unknown eval set id
 */
export async function evalSetTable(pool: Pool, evalSetId: string, opts: { seed?: number; replicates?: number } = {}): Promise<EvalTable> {
  const set = await pool.getEvalSet(evalSetId);
  if (!set) throw new InputError(`no eval set "${evalSetId}" in the pool`);
  const rows: EvalTableRow[] = [];
  const scores = new Map<string, Map<string, number[]>>(); // run → sample → graded values
  const numericFirst = new Set<string>(); // tasks whose first scorer is numeric (bits per byte…)
  for (const task of set.tasks) {
    for (const model of set.models) {
      const runId = set.runs[`${task}\u0000${model}`];
      if (!runId) continue;
      const run = await pool.getRun(runId);
      if (!run) continue;
      // Every scorer with measurements, the task's own first (in order), then any added by re-grading; the ranking
      // reads the task's first scorer.
      const stored = await pool.scorersOf(runId);
      const first = run.spec.scorers[0]?.name;
      const scorers = [...new Set([...run.spec.scorers.map((x) => x.name), ...stored])].filter((x) => stored.includes(x));
      for (const scorer of scorers) {
        const d = await readRunOutcomes(pool, run, scorer);
        const statistics = statisticsOfData(d, { seed: opts.seed, replicates: opts.replicates });
        rows.push({ task, model, run_id: runId, scorer, status: run.status, statistics });
        if (scorer !== first) continue;
        if (d.metric.kind === 'numeric') numericFirst.add(`${task} (${scorer})`);
        const bySample = new Map<string, number[]>();
        for (const s of d.samples) if (s.values.length) bySample.set(s.sample_id, s.values);
        scores.set(runId, bySample);
      }
    }
  }
  let ranking: EvalTable['ranking'] = null;
  let rankingNote: string | undefined;
  if (set.models.length >= 2 && numericFirst.size) {
    rankingNote = `no ranking across tasks: it macro-averages each task's first scorer as an accuracy, and ${[...numericFirst].join(', ')} ${numericFirst.size > 1 ? 'are' : 'is'} numeric; compare the models with \`assay compare\``;
  } else if (set.models.length >= 2) {
    const tasksClusters: number[][][][] = [];
    const samplesPerTask: Record<string, number> = {};
    let ok = true;
    for (const task of set.tasks) {
      const maps = set.models.map((m) => scores.get(set.runs[`${task}\u0000${m}`] ?? '') ?? null);
      if (maps.some((x) => !x)) {
        ok = false;
        break;
      }
      const shared = [...maps[0]!.keys()].filter((id) => maps.every((mp) => mp!.has(id)));
      if (!shared.length) {
        ok = false;
        break;
      }
      samplesPerTask[task] = shared.length;
      tasksClusters.push(maps.map((mp) => shared.map((id) => mp!.get(id)!)));
    }
    if (ok && tasksClusters.length) {
      const r = rankAcrossTasks(set.models, tasksClusters, { seed: opts.seed ?? 0, replicates: opts.replicates ?? 2000 });
      ranking = { ...r, samples_per_task: samplesPerTask };
    }
  }
  return { eval_set_id: set.id, tasks: set.tasks, models: set.models, rows, ranking, ...(rankingNote ? { ranking_note: rankingNote } : {}) };
}
