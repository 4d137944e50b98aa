/**
 * Charts: a deterministic SVG chart renderer rendered to PNG with resvg and the bundled DejaVu Sans (svg.ts,
 * png.ts, ticks.ts), and a GRAB-style generator of chart-analysis questions with analytic ground truth
 * (Roberts, Han, Albanie 2024, arXiv:2408.11817): generate.ts, functions.ts, stats.ts, transforms.ts, write.ts.
 */
export * from './types.ts';
export * from './ticks.ts';
export * from './svg.ts';
export * from './png.ts';
export * from './poly.ts';
export * from './stats.ts';
export * from './functions.ts';
export * from './transforms.ts';
export * from './distribution.ts';
export * from './generate.ts';
export * from './write.ts';
