#!/usr/bin/env node
// Compile src/ to dist/ (plain JavaScript, faster start-up than running TypeScript through tsx), copy the
// .mjs worker files, and write a stamp. bin/assay.js uses dist/ only while the stamp is newer than every
// source file, so an edited checkout always runs its current source.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
const copy = (dir) => {
  for (const e of readdirSync(join(root, 'src', dir), { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) copy(rel);
    else if (e.name.endsWith('.mjs') || e.name.endsWith('.json')) {
      mkdirSync(dirname(join(root, 'dist', rel)), { recursive: true });
      cpSync(join(root, 'src', rel), join(root, 'dist', rel));
    }
  }
};
copy('');
writeFileSync(join(root, 'dist/.build-stamp'), new Date().toISOString() + '\n');
