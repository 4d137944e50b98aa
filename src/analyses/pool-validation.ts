/**
 * Validation experiments on the measurement pool (ONEBench, Ghosh et al. 2024, §4–5): how stable a ranking stays as
 * measurements go missing (`assay pool validate`), and how few samples preserve it (`assay pool subset`). The
 * experiments themselves are pure functions on a model × sample matrix (src/aggregate/validate.ts, subset.ts); this
 * file reads the matrix from the pool.
 */
import { InputError } from '../core/errors.ts';
import { cheaperEvaluation, type SubsetRow, type SubsetStrategy } from '../aggregate/subset.ts';
import { denseOf, SparseMatrixBuilder, type SparseBinaryMatrix } from '../aggregate/matrix.ts';
import { completeBlock, meanScores, missingDataCurve, syntheticBinary, type BinaryMatrix, type CurveRow } from '../aggregate/validate.ts';
import type { Pool } from '../store/types.ts';

/**
 * The binary models × samples matrix of one source of the pool, in the sparse form (src/aggregate/matrix.ts: 8 bytes
 * per measurement), read a page at a time: no measurement object is kept. Models and samples are numbered in order
 * of first arrival; a cell measured twice keeps the value read last (as `matrixFromMeasurements`). With
 * `withCategories` each sample's category is read from the pool's samples (for stratified subsets).
 * Errors: InputError when the source has no binary measurements.
 */
export async function sourceCells(pool: Pool, source: string, opts: { withCategories?: boolean } = {}): Promise<SparseBinaryMatrix> {
  // the source's size (binary and other kinds) sizes the arrays once
  const b = new SparseMatrixBuilder((await pool.sources()).find((x) => x.id === source)?.measurements ?? 0);
  for await (const m of pool.iteratePoolMeasurements({ sources: [source], kinds: ['binary'] })) if (m.kind === 'binary') b.add(m.model, m.sample_key, m.value);
  if (!b.models.length) throw new InputError(`source "${source}" has no binary measurements`, { field: '--source' });
  const cats: (string | null)[] = [];
  if (opts.withCategories) {
    for await (const s of pool.iteratePoolSamples({ runs: false })) {
      const i = b.sampleOf(s.key);
      if (i !== undefined) cats[i] = s.category;
    }
  }
  return b.build(cats);
}

/**
 * The same matrix in the dense form (4 bytes per model × sample: for the missing-data experiments, which need it).
 * Errors: InputError when the source has no binary measurements.
 */
export async function sourceMatrix(pool: Pool, source: string, opts: { withCategories?: boolean } = {}): Promise<BinaryMatrix> {
  return denseOf(await sourceCells(pool, source, opts));
}

/** Options of {@link missingDataValidation}. */
export interface MissingDataOptions {
  /** A binary source of the pool (its full-data mean-score ranking is the reference); without it, synthetic data. */
  source?: string;
  /** Synthetic data: models and samples (2PL, seeded). */
  models?: number;
  samples?: number;
  /** Fractions of measurements removed, each in [0, 1). */
  fractions: number[];
  /** Repetitions per fraction (default 3). */
  reps?: number;
  seed?: number;
  /**
   * With `source`: the reference(s) τ is taken against (default `both`). `full`: the full-data mean score, which
   * favours the mean by construction (at 0% removed the mean *is* the reference); `held-out`: per repetition half
   * of the samples are held out, the methods fit the other half (with measurements removed), and the reference is
   * the mean score on the held-out samples measured on every model — data no method sees (validate.ts `heldOutSplit`).
   */
  reference?: 'full' | 'held-out' | 'both';
}

/**
 * Missing-data curves: Kendall τ-b between each method's ranking (Plackett–Luce with the samples as players, the
 * listwise Plackett–Luce orderings of `assay rank`, mean score, Elo) on the kept measurements and the reference
 * ranking, per fraction removed and drop mode (random cells, or whole models' measurements). References (each row
 * says which in `reference`): on a source, the full-data mean score of its samples measured on every model (all
 * samples when none is) and/or a held-out half (`o.reference`); on synthetic 2PL data, the true abilities.
 * `pool` is needed only with `source`. Errors: InputError for a source without binary measurements, and for a
 * held-out reference (`held-out`, `both`) on fewer than 4 samples.
 */
export async function missingDataValidation(pool: Pool | null, o: MissingDataOptions): Promise<{ data: string; rows: CurveRow[] }> {
  const opts = { fractions: o.fractions, reps: o.reps, seed: o.seed };
  if (o.source) {
    if (!pool) throw new InputError('a pool is needed to validate on a source');
    // The complete block (samples measured on every model): there the mean-score order is the one to reproduce; on
    // the whole source it is itself skewed by which samples each model was measured on (validate.ts completeBlock).
    // Sparse throughout: the curves drop measured cells (one byte of mask per cell) and every method reads only the
    // kept ones — the same rows as the dense form (src/aggregate/validate.ts), without 4 bytes per model × sample.
    const cells = await sourceCells(pool, o.source);
    const block = completeBlock(cells);
    const wholeSamples = cells.sampleKeys.length;
    const isBlock = block.sampleKeys.length >= 2;
    const mat = isBlock ? block : cells;
    const which = o.reference ?? 'both';
    const rows: CurveRow[] = [];
    const parts: string[] = [];
    if (which !== 'held-out') {
      rows.push(...missingDataCurve(mat, meanScores(mat, null), opts).map((r) => ({ ...r, reference: 'full-data mean' })));
      parts.push('full-data mean score (favours the mean by construction: at 0% removed the mean is the reference)');
    }
    if (which !== 'full') {
      if (mat.sampleKeys.length < 4) {
        throw new InputError(`source "${o.source}" has ${mat.sampleKeys.length} sample${mat.sampleKeys.length === 1 ? '' : 's'} ${isBlock ? 'measured on every model' : ''}: a held-out reference needs at least 4 (half to fit, half to hold out); use --reference full`.replace('  ', ' '), { field: '--reference' });
      }
      rows.push(...missingDataCurve(mat, 'held-out-half', opts).map((r) => ({ ...r, reference: 'held-out half' })));
      parts.push(`held-out half (methods fit ${Math.ceil(mat.sampleKeys.length / 2)} samples, reference = mean score on the other ${Math.floor(mat.sampleKeys.length / 2)}; a new split per repetition)`);
    }
    const data = isBlock
      ? `${o.source}: ${mat.models.length} models × ${mat.sampleKeys.length} samples (the ${mat.sampleKeys.length} of ${wholeSamples} measured on every model); reference = ${parts.join('; and ')}`
      : `${o.source}: ${mat.models.length} models × ${mat.sampleKeys.length} samples (no sample was measured on every model); reference = ${parts.join('; and ')}`;
    return { data, rows };
  }
  const models = o.models ?? 50, samples = o.samples ?? 2000, seed = o.seed ?? 0;
  const syn = syntheticBinary({ models, samples, seed });
  const data = `synthetic 2PL data (seed ${seed}): ${models} models × ${samples} samples; reference = true abilities`;
  return { data, rows: missingDataCurve(syn.matrix, syn.truth, opts).map((r) => ({ ...r, reference: 'true abilities' })) };
}

/**
 * Cheaper evaluation on one binary source: for each budget b and strategy, Kendall τ between the Plackett–Luce
 * ranking on b chosen samples and on all samples (held-out half of the models, and all models), the paired
 * difference to random, its one-sided paired-t p (raw and Holm-adjusted over the strategy × budget rows) and whether
 * the strategy is kept there (adjusted p ≤ 0.05: it beats random; src/aggregate/subset.ts `cheaperEvaluation`).
 * Errors: InputError for a source without binary measurements.
 */
export async function subsetValidation(
  pool: Pool,
  source: string,
  o: { budgets?: number[]; strategies?: SubsetStrategy[]; reps?: number; seed?: number },
): Promise<{ models: number; samples: number; budgets: number[]; rows: SubsetRow[] }> {
  const mat = await sourceCells(pool, source, { withCategories: true });
  const budgets = o.budgets ?? defaultSubsetBudgets(mat.sampleKeys.length);
  return { models: mat.models.length, samples: mat.sampleKeys.length, budgets, rows: cheaperEvaluation(mat, { budgets, strategies: o.strategies, reps: o.reps, seed: o.seed }) };
}

/** The budgets `pool subset` tries by default. */
export const DEFAULT_SUBSET_BUDGETS: readonly number[] = [50, 100, 200, 500, 1000];

/**
 * The default budgets for a source of `samples` samples: those of DEFAULT_SUBSET_BUDGETS below it (a subset as large
 * as the source is no subset), else half of it. Errors: InputError below 2 samples (nothing to choose).
 */
export function defaultSubsetBudgets(samples: number): number[] {
  if (samples < 2) throw new InputError(`a source of ${samples} sample${samples === 1 ? '' : 's'} has no subset to choose`, { field: '--source' });
  const under = DEFAULT_SUBSET_BUDGETS.filter((b) => b < samples);
  return under.length ? under : [Math.floor(samples / 2)];
}
