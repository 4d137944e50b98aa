/**
 * Toolkit information recorded in every run manifest (DESIGN.md §5): Assay's version and the git commit of its checkout.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Manifest } from './schemas.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let cachedToolkit: Manifest['toolkit'] | null = null;

/** Assay's version (package.json) and the git commit of its checkout (null when not a git checkout). */
export function toolkitInfo(): Manifest['toolkit'] {
  if (cachedToolkit) return cachedToolkit;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (commit && dirty) commit += '-dirty';
  } catch {
    commit = null;
  }
  cachedToolkit = { name: 'assay', version: pkg.version, git_commit: commit };
  return cachedToolkit;
}

