#!/usr/bin/env node
// Entry point for `npx assay`. Runs the compiled dist/ when it is up to date with src/ (built by `npm ci` /
// `npm run build`), otherwise the TypeScript source through tsx's loader, so an edited checkout never runs stale code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.build-stamp');

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

if (process.env.ASSAY_FROM_SOURCE !== '1' && existsSync(stamp) && statSync(stamp).mtimeMs >= newestMtime(join(root, 'src'))) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
