/**
 * The task × category × property × precision × complexity distribution of the published GRAB benchmark
 * (Roberts, Han, Albanie 2024, "GRAB: A Challenging GRaph Analysis Benchmark for Large Multimodal Models",
 * arXiv:2408.11817; the 2,170 questions of `data/grab.json` in jonathan-roberts1/GRAB), counted from that file with
 * each question mapped to the property it asks for. `assay gen charts` mirrors it by default; a test recounts it
 * from the shared copy of the file.
 */
import type { ChartCategory, ChartProperty, ChartTask, PrecisionKind } from './types.ts';

/** One row per (task, category, property, precision): the number of GRAB questions at complexity 0, 1, …, 9. */
const TABLE = [
  'properties|Intercepts and Gradients|x_intercept|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Intercepts and Gradients|y_intercept|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Intercepts and Gradients|gradient|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Measures of Spread|peak|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Stationary Points|stationary_x|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Stationary Points|stationary_pair|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Measures of Spread|variance_function|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Trigonometric|period|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Trigonometric|amplitude|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Trigonometric|phase_shift|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Trigonometric|vertical_shift|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Functions|equation_linear|equation|9,0,0,0,0,0,0,0,0,0',
  'properties|Functions|equation_cubic|equation|7,0,0,0,0,0,0,0,0,0',
  'properties|Functions|equation_quartic|equation|4,0,0,0,0,0,0,0,0,0',
  'properties|Functions|equation_sine|equation|8,0,0,0,0,0,0,0,0,0',
  'properties|Functions|equation_quadratic|equation|2,0,0,0,0,0,0,0,0,0',
  'properties|Counting|count_points|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Counting|count_series|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Extrema|min|int|15,0,0,0,0,0,0,0,0,0',
  'properties|Extrema|max|int|15,0,0,0,0,0,0,0,0,0',
  'properties|Extrema|min_data|int|15,0,0,0,0,0,0,0,0,0',
  'properties|Extrema|max_data|int|15,0,0,0,0,0,0,0,0,0',
  'properties|Area Bounded|net_area|nearest10|15,0,0,0,0,0,0,0,0,0',
  'properties|Area Bounded|total_area|nearest10|15,0,0,0,0,0,0,0,0,0',
  'properties|Measures of Spread|iqr|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Measures of Spread|median|int|30,0,0,0,0,0,0,0,0,0',
  'properties|Correlation|pearson|1dp|10,0,0,0,0,0,0,0,0,0',
  'properties|Correlation|spearman|1dp|10,0,0,0,0,0,0,0,0,0',
  'properties|Correlation|kendall|1dp|10,0,0,0,0,0,0,0,0,0',
  'properties|Range|range_span_data|int|15,0,0,0,0,0,0,0,0,0',
  'properties|Range|range_span|int|15,0,0,0,0,0,0,0,0,0',
  'properties|Range|domain_length_data|int|15,0,0,0,0,0,0,0,0,0',
  'properties|Range|domain_length|int|15,0,0,0,0,0,0,0,0,0',
  'series|Measures of Spread|mean|int|3,3,3,1,3,3,4,2,4,4',
  'series|Measures of Spread|mean|1dp|2,2,2,4,2,2,1,3,1,1',
  'series|Measures of Spread|variance|int|3,4,3,3,4,5,5,3,3,2',
  'series|Measures of Spread|variance|1dp|2,1,2,2,1,0,0,2,2,3',
  'series|Extrema|min_data|1dp|2,2,1,2,0,3,1,2,3,2',
  'series|Extrema|min_data|int|3,3,4,3,5,2,4,3,2,3',
  'series|Extrema|max_data|1dp|2,2,1,1,3,2,4,4,1,1',
  'series|Extrema|max_data|int|3,3,4,4,2,3,1,1,4,4',
  'series|Measures of Spread|iqr|int|3,5,2,4,3,3,2,3,5,1',
  'series|Measures of Spread|iqr|1dp|2,0,3,1,2,2,3,2,0,4',
  'series|Measures of Spread|median|int|5,4,4,3,4,4,4,4,4,2',
  'series|Measures of Spread|median|1dp|0,1,1,2,1,1,1,1,1,3',
  'series|Correlation|pearson|1dp|3,3,3,3,3,3,3,3,3,3',
  'series|Correlation|spearman|1dp|3,3,3,3,3,3,3,3,3,3',
  'series|Correlation|kendall|1dp|3,3,3,3,3,3,3,3,3,3',
  'series|Range|domain_length_data|1dp|3,1,2,1,2,2,1,0,3,1',
  'series|Range|domain_length_data|int|2,4,3,4,3,3,4,5,2,4',
  'series|Range|range_span_data|int|4,1,5,5,3,3,2,4,2,4',
  'series|Range|range_span_data|1dp|1,4,0,0,2,2,3,1,3,1',
  'function|Intercepts and Gradients|x_intercept|int|4,3,4,4,4,3,4,4,1,3',
  'function|Intercepts and Gradients|x_intercept|1dp|1,2,1,1,1,2,1,1,4,2',
  'function|Intercepts and Gradients|y_intercept|1dp|2,2,2,1,2,2,1,2,2,2',
  'function|Intercepts and Gradients|y_intercept|int|3,3,3,4,3,3,4,3,3,3',
  'function|Intercepts and Gradients|gradient|int|4,3,3,4,2,3,5,1,3,3',
  'function|Intercepts and Gradients|gradient|1dp|1,2,2,1,3,2,0,4,2,2',
  'function|Stationary Points|stationary_x|int|5,4,3,4,3,5,3,4,5,3',
  'function|Stationary Points|stationary_x|1dp|0,1,2,1,2,0,2,1,0,2',
  'function|Trigonometric|period|int|4,4,4,3,4,4,3,3,5,4',
  'function|Trigonometric|period|1dp|1,1,1,2,1,1,2,2,0,1',
  'function|Trigonometric|amplitude|int|2,2,3,3,3,0,3,5,4,2',
  'function|Trigonometric|amplitude|1dp|3,3,2,2,2,5,2,0,1,3',
  'function|Trigonometric|vertical_shift|1dp|4,1,2,1,1,3,3,1,0,3',
  'function|Trigonometric|vertical_shift|int|1,4,3,4,4,2,2,4,5,2',
  'function|Extrema|min|int|3,2,1,4,3,4,3,2,0,4',
  'function|Extrema|min|1dp|2,3,4,1,2,1,2,3,5,1',
  'function|Extrema|max|int|4,4,4,3,4,4,4,3,4,3',
  'function|Extrema|max|1dp|1,1,1,2,1,1,1,2,1,2',
  'function|Area Bounded|total_area|int|3,3,3,3,3,3,3,3,3,3',
  'function|Area Bounded|net_area|int|3,3,3,3,3,3,3,3,3,3',
  'function|Range|range_span|int|5,4,5,2,5,4,2,4,4,3',
  'function|Range|range_span|1dp|0,1,0,3,0,1,3,1,1,2',
  'function|Stationary Points|peak|1dp|2,2,1,3,2,2,1,2,3,0',
  'function|Stationary Points|peak|int|3,3,4,2,3,3,4,3,2,5',
  'function|Measures of Spread|variance_function|int|4,5,3,3,3,3,3,2,2,4',
  'function|Measures of Spread|variance_function|1dp|1,0,2,2,2,2,2,3,3,1',
  'function|Range|domain_length|1dp|3,1,2,1,2,2,2,0,2,1',
  'function|Range|domain_length|int|2,4,3,4,3,3,3,5,3,4',
  'transform|Range|domain_length|int|3,4,1,4,2,4,3,4,3,4',
  'transform|Range|domain_length|1dp|2,1,4,1,3,1,2,1,2,1',
  'transform|Range|range_span|int|4,4,5,3,4,3,4,3,2,3',
  'transform|Range|range_span|1dp|1,1,0,2,1,2,1,2,3,2',
  'transform|Extrema|min|int|4,1,3,4,4,3,4,4,2,4',
  'transform|Extrema|min|1dp|1,4,2,1,1,2,1,1,3,1',
  'transform|Extrema|max|int|3,4,3,1,4,2,2,2,3,2',
  'transform|Extrema|max|1dp|2,1,2,4,1,3,3,3,2,3',
  'transform|Area Bounded|total_area|int|3,3,3,3,3,3,3,3,3,3',
  'transform|Area Bounded|net_area|int|3,3,3,3,3,3,3,3,3,3',
  'transform|Intercepts and Gradients|gradient|int|4,4,4,4,2,5,3,2,4,4',
  'transform|Intercepts and Gradients|gradient|1dp|1,1,1,1,3,0,2,3,1,1',
] as const;

/** One cell of the distribution. */
export interface GrabCell {
  task: ChartTask;
  category: ChartCategory;
  property: ChartProperty;
  precision: PrecisionKind;
  complexity: number;
  count: number;
}

/** The cells of GRAB's distribution with a non-zero count (2,170 questions in all). */
export function grabDistribution(): GrabCell[] {
  const out: GrabCell[] = [];
  for (const row of TABLE) {
    const [task, category, property, precision, counts] = row.split('|') as [ChartTask, ChartCategory, ChartProperty, PrecisionKind, string];
    counts.split(',').forEach((c, complexity) => {
      const count = Number(c);
      if (count > 0) out.push({ task, category, property, precision, complexity, count });
    });
  }
  return out;
}
