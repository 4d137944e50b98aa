/**
 * The run manifest (DESIGN.md §5): toolkit version and git commit, Node, OS, CPU, provider, generation config,
 * template and dataset hashes, seeds, scorers and runner settings. Per-sample prompt and target hashes are stored
 * beside it in the pool (`run_samples`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Manifest, RunSpec } from '../core/schemas.ts';
import type { Provider } from '../providers/types.ts';

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

/** Build the manifest for a run spec and its provider. */
export function buildManifest(spec: RunSpec, provider: Provider, settings: { bootstrapSeed: number; referenceSeed: number | null; concurrency: number; timeoutMs: number; maxRetries: number }): Manifest {
  const cpus = os.cpus();
  return {
    toolkit: toolkitInfo(),
    node: process.version,
    os: { platform: os.platform(), release: os.release(), arch: os.arch() },
    cpu: { model: cpus[0]?.model ?? 'unknown', cores: cpus.length },
    provider: { address: provider.address, kind: provider.kind, base_url: provider.baseUrl, requested_model: provider.model, reported_model_ids: [] },
    generation_config: spec.config,
    template: spec.template,
    dataset: { name: spec.dataset.name, ref: spec.dataset.ref, hash: spec.dataset.hash, size: spec.dataset.size },
    epochs: spec.epochs,
    seeds: { generation: spec.config.seed ?? null, bootstrap: settings.bootstrapSeed, reference: settings.referenceSeed },
    scorers: spec.scorers.map((s) => ({ name: s.name, options: s.options ?? {} })),
    runner: { concurrency: settings.concurrency, timeout_ms: settings.timeoutMs, max_retries: settings.maxRetries },
    created_at: new Date().toISOString(),
  };
}
