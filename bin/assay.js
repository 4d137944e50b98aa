#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=8 --heap-growing-percent=50
// Entry point for `npx assay`. The V8 flags above keep a long run's memory flat (bench/memory.ts): a young generation
// of 8 MB per semi-space instead of up to 16 (a run allocates many short-lived objects per attempt, and the larger young
// generation only holds more garbage), and an old generation that grows by 50% over its live size between full
// collections instead of up to 4×. Smaller values save more memory and cost throughput (4 MB and 25%: about 15 MB
// less at 21k attempts, about 25% more CPU). MALLOC_MMAP_THRESHOLD_ (glibc's malloc; other C libraries ignore it) keeps
// every allocation from 128 KiB up in its own mapping, returned to the system when freed: the typed arrays of a pool
// read at scale (src/aggregate/) are freed between phases, and with glibc's default (a threshold that rises to 32 MB
// as large blocks are freed) they were kept in its heap instead — a ranking of 10M measurements peaked at 260 MB,
// 80 MB of it freed memory, and 198 MB with it (bench/scale.ts). `node bin/assay.js` runs without these settings
// (the same results, a larger footprint).
// Runs the compiled dist/ when it is up to date with src/ (built by `npm ci` /
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
