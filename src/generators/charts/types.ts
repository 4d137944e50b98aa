/**
 * The vocabulary of the GRAB-style chart generator (Roberts, Han, Albanie 2024, arXiv:2408.11817, §3): four
 * tasks, GRAB's categories, and the properties asked about.
 */

/**
 * - `properties`: one property of a single function or data series (complexity 0);
 * - `function`: a property averaged over 1–10 plotted functions (complexity = functions − 1);
 * - `series`: a property averaged over 1–10 plotted data series (complexity = series − 1);
 * - `transform`: a property of one plotted function after 0–9 geometric transformations (complexity = steps).
 */
export const CHART_TASKS = ['properties', 'function', 'series', 'transform'] as const;
export type ChartTask = (typeof CHART_TASKS)[number];

export const CHART_CATEGORIES = [
  'Area Bounded',
  'Correlation',
  'Counting',
  'Extrema',
  'Functions',
  'Intercepts and Gradients',
  'Measures of Spread',
  'Range',
  'Stationary Points',
  'Trigonometric',
] as const;
export type ChartCategory = (typeof CHART_CATEGORIES)[number];

/**
 * What a question asks for. Names ending `_data` are properties of a data series' y values (or x extent);
 * the same names without it are properties of a plotted function on its plotted domain.
 */
export const CHART_PROPERTIES = [
  'gradient', 'x_intercept', 'y_intercept',
  'stationary_x', 'stationary_pair', 'peak',
  'amplitude', 'period', 'phase_shift', 'vertical_shift',
  'max', 'min', 'domain_length', 'range_span',
  'max_data', 'min_data', 'domain_length_data', 'range_span_data',
  'net_area', 'total_area',
  'mean', 'median', 'iqr', 'variance', 'variance_function',
  'pearson', 'spearman', 'kendall',
  'count_points', 'count_series',
  'equation_linear', 'equation_quadratic', 'equation_cubic', 'equation_quartic', 'equation_sine',
] as const;
export type ChartProperty = (typeof CHART_PROPERTIES)[number];

/**
 * The precision an answer is asked at: `int` (as an integer), `1dp` (to 1 decimal place), `nearest10` (to the
 * nearest 10), `equation` (an equation with integer coefficients in a stated form).
 */
export const PRECISION_KINDS = ['int', '1dp', 'nearest10', 'equation'] as const;
export type PrecisionKind = (typeof PRECISION_KINDS)[number];
