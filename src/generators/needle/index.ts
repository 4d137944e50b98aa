/**
 * Needle threading (Roberts, Han, Albanie 2024, arXiv:2411.05000): seeded UUID key–value haystacks, six tasks,
 * grids of lengths × depths, and an exact solver. See generate.ts for the task definitions.
 */
export * from './generate.ts';
export * from './grid.ts';
export * from './solver.ts';
export { randomUuid, isUuidForm, UUID_CHARS } from './uuid.ts';
