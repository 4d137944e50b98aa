/**
 * Importer registry: `assay import <format> <file>` looks formats up here.
 */
import type { Pool } from '../store/types.ts';
import type { ImportOptions, ImportResult } from './common.ts';
import { importArenaHard, importMmluPro, importWildBench } from './pool-data.ts';
import { importGenericCsv, importGenericJsonl, importLmEval } from './tools.ts';
import { importInspect } from './inspect.ts';
import { importLmEvalLoglikelihoods } from './lm-eval-loglikelihood.ts';

export type { ImportOptions, ImportResult } from './common.ts';
export { importArenaHard, importMmluPro, importWildBench } from './pool-data.ts';
export { importGenericCsv, importGenericJsonl, importLmEval } from './tools.ts';
export { importInspect } from './inspect.ts';
export { importLmEvalLoglikelihoods, reproduceLmEvalAccuracy, type LmEvalReproduction } from './lm-eval-loglikelihood.ts';

/** Extra per-format options the CLI may pass (unknown ones are ignored by a format). */
export interface AnyImportOptions extends ImportOptions {
  model?: string;
  metric?: string;
  task?: string;
  scorer?: string;
  key?: 'file' | 'canonical';
  direction?: 1 | -1;
  /** lm-eval-loglikelihood: the results file to check against. */
  results?: string;
}

export const IMPORTERS: Record<string, { describe: string; run: (store: Pool, file: string, o: AnyImportOptions) => Promise<ImportResult> }> = {
  'mmlu-pro': { describe: 'MMLU-Pro results.csv (+ items.jsonl beside it): binary', run: (s, f, o) => importMmluPro(s, f, o) },
  wildbench: { describe: 'WildBench v2 scores.csv: ordinal 1–10, slice = version/judge', run: (s, f, o) => importWildBench(s, f, o) },
  'arena-hard': { describe: 'Arena-Hard battles.jsonl: pairwise battles, repeated verdicts as weights', run: (s, f, o) => importArenaHard(s, f, o) },
  'lm-eval': { describe: 'lm-evaluation-harness samples_<task>_*.jsonl (--model, --metric)', run: (s, f, o) => importLmEval(s, f, o) },
  'lm-eval-loglikelihood': {
    describe: 'lm-evaluation-harness multiple-choice samples_<task>_*.jsonl: acc and acc_norm recomputed from the recorded log-likelihoods and checked against lm-eval\'s (--model, --task)',
    run: (s, f, o) => importLmEvalLoglikelihoods(s, f, o),
  },
  inspect: { describe: 'Inspect eval log: .eval (zip, Inspect\'s default) or --log-format json (--scorer)', run: (s, f, o) => importInspect(s, f, o) },
  csv: { describe: 'generic CSV: model,sample_id,value,kind[,dataset,opponent,direction,tie_tolerance,weight,slice,repeat,category,tags,text]', run: (s, f, o) => importGenericCsv(s, f, o) },
  jsonl: { describe: 'generic JSON Lines: one object per line with the generic CSV\'s fields as keys', run: (s, f, o) => importGenericJsonl(s, f, o) },
};
