/**
 * Difficulty curves of chart runs (GRAB, Roberts, Han, Albanie 2024, arXiv:2408.11817, §5: accuracy falls as more
 * functions or series are plotted and as more transformations are applied): for each GRAB task, each run's accuracy
 * at each complexity, with a 95% interval. The x value is what the complexity counts: the number of plotted
 * functions (`function`: complexity + 1), of data series (`series`: complexity + 1), or of transformation steps
 * (`transform`: complexity); `properties` questions (one function or series, complexity 0) give one point.
 *
 * The interval of a cell is the headline interval of src/stats/accuracy.ts on that cell's samples (repeats clustered
 * within a sample): with one epoch per sample, Wilson's score interval on the samples (Wilson 1927); with more, the
 * clustered score interval (Wilson-type, with a design effect for the repeats). Only runs whose scores lie in [0, 1]
 * (binary or proportion metrics) get curves.
 */
import { headlineInterval } from '../stats/accuracy.ts';
import type { RunData } from './outcomes.ts';

/** One point of a curve: a (run, task, complexity) cell. Accuracy and interval bounds are proportions. */
export interface DifficultyPoint {
  complexity: number;
  /** The plotted x value: functions, series, or transformation steps (see the module comment). */
  x: number;
  samples: number;
  attempts: number;
  /** Mean over the cell's samples of each sample's mean score (avg@k). */
  accuracy: number;
  ci95: { lo: number; hi: number };
  method: string;
}

/** One run's curve on one task. */
export interface DifficultyCurve {
  run_id: string;
  label: string;
  model: string;
  points: DifficultyPoint[];
}

/** The curves of one GRAB task, one per run with samples of that task. */
export interface DifficultyTask {
  task: string;
  /** What x counts (`number of functions`, `number of data series`, `transformation steps`, `complexity`). */
  x_label: string;
  curves: DifficultyCurve[];
}

const X_OF: Record<string, { label: string; offset: number }> = {
  function: { label: 'number of functions plotted', offset: 1 },
  series: { label: 'number of data series plotted', offset: 1 },
  transform: { label: 'transformation steps', offset: 0 },
  properties: { label: 'complexity (one function or series)', offset: 0 },
};
const TASK_ORDER = ['function', 'series', 'transform', 'properties'];

/**
 * Difficulty curves of the chart questions of runs already read (`readRunOutcomes`), in GRAB's task order
 * (function, series, transform, properties); empty when no run has chart questions with counted scores.
 * @param runs each run's outcomes with its report label
 */
export function difficultyCurves(runs: readonly { data: RunData; label: string }[]): DifficultyTask[] {
  const byTask = new Map<string, DifficultyCurve[]>();
  for (const { data, label } of runs) {
    if (data.metric.kind === 'numeric') continue;
    const cells = new Map<string, Map<number, number[][]>>();
    for (const s of data.samples) {
      if (!s.chart || s.values.length === 0) continue;
      const t = cells.get(s.chart.task) ?? new Map<number, number[][]>();
      cells.set(s.chart.task, t);
      const c = t.get(s.chart.complexity) ?? [];
      t.set(s.chart.complexity, c);
      c.push(s.values);
    }
    for (const [task, byComplexity] of cells) {
      const offset = X_OF[task]?.offset ?? 0;
      const points: DifficultyPoint[] = [...byComplexity.entries()].sort((a, b) => a[0] - b[0]).map(([complexity, clusters]) => {
        const iv = headlineInterval(clusters);
        const accuracy = clusters.reduce((sum, c) => sum + c.reduce((a, b) => a + b, 0) / c.length, 0) / clusters.length;
        return { complexity, x: complexity + offset, samples: clusters.length, attempts: clusters.reduce((n, c) => n + c.length, 0), accuracy, ci95: { lo: iv.lo, hi: iv.hi }, method: iv.method };
      });
      const list = byTask.get(task) ?? [];
      byTask.set(task, list);
      list.push({ run_id: data.run.id, label, model: data.run.spec.model, points });
    }
  }
  return [...byTask.entries()]
    .sort((a, b) => TASK_ORDER.indexOf(a[0]) - TASK_ORDER.indexOf(b[0]))
    .map(([task, curves]) => ({ task, x_label: X_OF[task]?.label ?? 'complexity', curves }));
}
