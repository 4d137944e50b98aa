/**
 * A sensitivity sweep (`assay sweep`; Hochlehnert et al. 2025, "A Sober Look at Progress in LM Reasoning", §3–4):
 * one model over a grid of generation settings (temperature, top_p, max tokens, prompt template, system prompt)
 * × seeds, each cell a normal resumable, content-addressed run in the pool, then the analysis of how much each
 * factor moves the score compared with the seed noise, read back from the pool (src/analyses/sweep.ts).
 */
import { sweepOfRuns } from '../analyses/sweep.ts';
import { InputError } from '../core/errors.ts';
import { GenerationConfigSchema, type GenerationConfig } from '../core/schemas.ts';
import { getTemplate } from '../core/templates.ts';
import { loadDataset } from '../datasets/index.ts';
import { createScorer } from '../scorers/registry.ts';
import type { Scorer } from '../scorers/types.ts';
import { expandGrid, type GridAxis, type SweepAnalysis } from '../stats/sweep.ts';
import type { Pool, RunLease } from '../store/types.ts';
import { executeRun, type RunResult } from './run.ts';

/** What to sweep. */
export interface SweepOptions {
  pool: Pool;
  /** A dataset ref, as for `assay run`, and the columns of a generic file. */
  dataset: string;
  fields?: { id?: string; input?: string; target?: string };
  /** Model address. */
  model: string;
  /** The settings grid (levels per factor); every cell is run with every seed. */
  axes: GridAxis[];
  /** Generation seeds: the noise factor. */
  seeds: number[];
  /** Epochs per run. */
  epochs: number;
  /** Scorer spec (default: the dataset's). */
  scorer?: string;
  /** Only the first n samples. */
  limit?: number | null;
  /** Requests in flight per run (default 32). */
  concurrency?: number;
  /** Seed of the analysis's bootstrap (default 0), and its replicates. */
  bootstrapSeed?: number;
  replicates?: number;
  /** Progress lines. */
  log?: (s: string) => void;
  /**
   * As for `assay run`: `false` (`--no-cache`) never copies another run's stored response into a cell's run (each
   * cell's own stored attempts are kept); retries per request; request timeout in ms.
   */
  cache?: boolean;
  maxRetries?: number;
  timeoutMs?: number;
  /** Stop (Ctrl-C): the cell running stops cleanly, no further cell starts, and no analysis is made. */
  signal?: AbortSignal;
  /** Told when another process holds a cell's run and this one waits for it (src/runner/lease.ts). */
  onWait?: (holder: RunLease) => void;
  /** Told after each cell: what it asked, reused and copied (for `--no-cache` notes). */
  onCell?: (r: RunResult) => void;
}

/** A sweep's runs (one per cell × seed, in grid order), its cells and the analysis (null when it was stopped). */
export interface SweepResult {
  run_ids: string[];
  cells: Record<string, number | string>[];
  analysis: SweepAnalysis | null;
  /** Set when `signal` stopped the sweep: how far it got. Run the same sweep again to resume. */
  stopped?: string;
}

/**
 * Execute a sweep: every grid cell × seed is one run (resumable, content-addressed like `assay run`), then the
 * analysis is read back from the pool. Errors: InputError for a bad dataset, scorer or setting (every cell is
 * checked before any runs) or a grid of fewer than two settings; a failed run is reported through `log`, not thrown.
 */
export async function sweep(o: SweepOptions): Promise<SweepResult> {
  const dataset = await loadDataset(o.dataset, { fields: o.fields });
  let scorer: Scorer;
  try {
    scorer = createScorer(o.scorer ?? dataset.defaultScorer);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError((err as Error).message, { field: 'scorer' });
  }
  let cells: Record<string, number | string>[];
  try {
    cells = expandGrid([...o.axes, { factor: 'seed', levels: o.seeds }]);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  if (cells.length < 2) throw new InputError('a sweep needs at least two settings (give several levels or several --seeds)');
  // Check every cell before running any: a bad level must not leave half a sweep in the pool.
  const planned = cells.map((cell) => {
    const { template: tpl, ...rest } = cell as Record<string, number | string>;
    const cfg = GenerationConfigSchema.safeParse(rest);
    if (!cfg.success) throw new InputError(`sweep setting ${JSON.stringify(cell)}: ` + cfg.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; '));
    return { cell, config: cfg.data as GenerationConfig, template: getTemplate(typeof tpl === 'string' ? tpl : dataset.defaultTemplate) };
  });
  const runIds: string[] = [];
  for (const [i, { cell, config, template }] of planned.entries()) {
    o.log?.(`sweep ${i + 1}/${cells.length}: ${JSON.stringify(cell)}`);
    const r = await executeRun({
      pool: o.pool, dataset, template, model: o.model, config, epochs: o.epochs, scorers: [scorer], limit: o.limit ?? null, concurrency: o.concurrency ?? 32,
      bootstrapSeed: o.bootstrapSeed ?? 0, cache: o.cache, maxRetries: o.maxRetries, timeoutMs: o.timeoutMs, signal: o.signal, lease: o.onWait ? { onWait: o.onWait } : undefined,
    });
    o.onCell?.(r);
    runIds.push(r.run_id);
    if (r.status === 'interrupted' || o.signal?.aborted) {
      return { run_ids: runIds, cells, analysis: null, stopped: `stopped during run ${i + 1} of ${cells.length} (${r.run_id.slice(0, 8)}${r.abort_reason ? `: ${r.abort_reason}` : ''}); run the same sweep again to resume` };
    }
    if (r.status !== 'complete') o.log?.(`  run ${r.run_id} ${r.status}: ${r.counts.error} failed attempts (excluded)`);
  }
  const analysis = await sweepOfRuns(o.pool, runIds, scorer.name, { seed: o.bootstrapSeed ?? 0, replicates: o.replicates });
  return { run_ids: runIds, cells, analysis };
}
