#!/usr/bin/env node
// Entry point for `npx assay`: runs the TypeScript CLI through tsx's ESM loader (no build step).
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
