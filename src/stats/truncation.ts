/**
 * Truncation (DESIGN.md §5; Hochlehnert et al. 2025, "A Sober Look at Progress in LM Reasoning", §4: max-tokens
 * truncation moves scores): accuracy with and without attempts that hit the token limit (finish reason `length`),
 * accuracy by response-length bins, and a length histogram split by correctness.
 */
import { clusteredBootstrapMeans, packClusters, percentileInterval } from './bootstrap.ts';

/** One attempt's length and verdict, for the truncation analysis. */
export interface LengthRecord {
  sample_id: string;
  epoch: number;
  /** The value the outcome rule counts (0/1; 0 for a grader timeout), or null when excluded or not graded. */
  value: number | null;
  truncated: boolean;
  /** Completion tokens when the provider reported them for every attempt of the run, else response characters. */
  length: number;
}

export interface LengthBin {
  /** Inclusive lower and exclusive upper length (the last bin includes its upper edge). */
  lo: number;
  hi: number;
  attempts: number;
  correct: number;
  truncated: number;
  /** avg@k over the attempts in the bin (mean of per-sample means within the bin). */
  accuracy: number;
  /** Clustered bootstrap 95% CI over the samples with attempts in this bin. */
  ci95: { lo: number; hi: number };
}

export interface TruncationAnalysis {
  unit: 'tokens' | 'characters';
  attempts: number;
  graded: number;
  truncated: number;
  truncated_share: number;
  accuracy_all: number;
  /** Truncated attempts removed (samples left without attempts drop out). */
  accuracy_without_truncated: number | null;
  /** Accuracy of the truncated attempts alone (attempt-level). */
  accuracy_of_truncated: number | null;
  /** Equal-count bins (by length quantiles). */
  bins: LengthBin[];
  /** Equal-width histogram of lengths: `edges` (length + 1), counts of correct and incorrect graded attempts. */
  histogram: { edges: number[]; correct: number[]; incorrect: number[]; truncated: number[] };
}

function avgAtK(records: LengthRecord[]): { mean: number; clusters: number[][] } {
  const by = new Map<string, number[]>();
  for (const r of records) {
    if (r.value == null) continue;
    let c = by.get(r.sample_id);
    if (!c) by.set(r.sample_id, (c = []));
    c.push(r.value);
  }
  const clusters = [...by.values()];
  const mean = clusters.length ? clusters.reduce((s, c) => s + c.reduce((a, b) => a + b, 0) / c.length, 0) / clusters.length : NaN;
  return { mean, clusters };
}

/**
 * Analyse lengths and truncation. `bins`: number of equal-count bins (default 5); `histBins`: equal-width
 * histogram bins (default 20). Seeded bootstrap per bin. Records with `value: null` count as attempts, not graded.
 */
export function analyzeTruncation(records: LengthRecord[], unit: 'tokens' | 'characters', opts: { seed: number; bins?: number; histBins?: number; replicates?: number }): TruncationAnalysis {
  const graded = records.filter((r) => r.value != null);
  const trunc = records.filter((r) => r.truncated);
  const truncGraded = trunc.filter((r) => r.value != null);
  const all = avgAtK(records);
  const without = avgAtK(records.filter((r) => !r.truncated));
  const nb = Math.max(1, opts.bins ?? 5);
  const sorted = graded.map((r) => r.length).sort((a, b) => a - b);
  const edges: number[] = [];
  for (let b = 0; b <= nb; b++) edges.push(sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((b * sorted.length) / nb))]! : 0);
  if (sorted.length) edges[nb] = sorted[sorted.length - 1]!;
  const uniq = [...new Set(edges)];
  const bins: LengthBin[] = [];
  for (let b = 0; b + 1 < uniq.length || (b === 0 && uniq.length === 1); b++) {
    const lo = uniq[b]!, hi = uniq[b + 1] ?? uniq[b]!;
    const last = b + 2 >= uniq.length;
    const inBin = graded.filter((r) => r.length >= lo && (last ? r.length <= hi : r.length < hi));
    if (!inBin.length) continue;
    const { mean, clusters } = avgAtK(inBin);
    const ci = percentileInterval(clusteredBootstrapMeans(packClusters(clusters), { seed: opts.seed + b, replicates: opts.replicates ?? 1000 }));
    bins.push({ lo, hi, attempts: inBin.length, correct: inBin.filter((r) => r.value! >= 0.5).length, truncated: inBin.filter((r) => r.truncated).length, accuracy: mean, ci95: ci });
  }
  const hb = Math.max(1, opts.histBins ?? 20);
  const max = sorted.length ? sorted[sorted.length - 1]! : 1;
  const width = Math.max(1, Math.ceil((max + 1) / hb));
  const hEdges = Array.from({ length: hb + 1 }, (_, i) => i * width);
  const correct = new Array<number>(hb).fill(0), incorrect = new Array<number>(hb).fill(0), truncated = new Array<number>(hb).fill(0);
  for (const r of graded) {
    const i = Math.min(hb - 1, Math.floor(r.length / width));
    if (r.value! >= 0.5) correct[i]!++;
    else incorrect[i]!++;
    if (r.truncated) truncated[i]!++;
  }
  return {
    unit,
    attempts: records.length,
    graded: graded.length,
    truncated: trunc.length,
    truncated_share: records.length ? trunc.length / records.length : NaN,
    accuracy_all: all.mean,
    accuracy_without_truncated: trunc.length ? without.mean : null,
    accuracy_of_truncated: truncGraded.length ? truncGraded.reduce((s, r) => s + r.value!, 0) / truncGraded.length : null,
    bins,
    histogram: { edges: hEdges, correct, incorrect, truncated },
  };
}
