/**
 * The run manifest (DESIGN.md §5): toolkit version and git commit, Node, OS, CPU, provider, generation config,
 * template and dataset hashes, seeds, scorers and runner settings. Per-sample prompt and target hashes are stored
 * beside it in the pool (`run_samples`).
 */
import os from 'node:os';
import type { Manifest, RunSpec } from '../core/schemas.ts';
import { toolkitInfo } from '../core/toolkit.ts';
import type { UnsentSetting } from '../providers/settings.ts';
import type { Provider } from '../providers/types.ts';

/** Build the manifest for a run spec and its provider. */
export function buildManifest(
  spec: RunSpec,
  provider: Provider,
  settings: { bootstrapSeed: number; referenceSeed: number | null; concurrency: number; timeoutMs: number; maxRetries: number; unsent?: UnsentSetting[] },
): Manifest {
  const unsent = settings.unsent ?? [];
  // The manifest's generation config is what was sent; what the provider could not send is listed beside it.
  const sent: Record<string, unknown> = { ...spec.config };
  for (const u of unsent) delete sent[u.setting];
  const cpus = os.cpus();
  return {
    toolkit: toolkitInfo(),
    node: process.version,
    os: { platform: os.platform(), release: os.release(), arch: os.arch() },
    cpu: { model: cpus[0]?.model ?? 'unknown', cores: cpus.length },
    provider: {
      address: provider.address, kind: provider.kind, base_url: provider.baseUrl, requested_model: provider.model, reported_model_ids: [],
      ...(unsent.length ? { unsent_settings: unsent.map((u) => ({ setting: u.setting, value: u.value, reason: u.reason })) } : {}),
    },
    generation_config: sent as Manifest['generation_config'],
    template: spec.template,
    dataset: { name: spec.dataset.name, ref: spec.dataset.ref, hash: spec.dataset.hash, size: spec.dataset.size },
    epochs: spec.epochs,
    seeds: { generation: spec.config.seed ?? null, bootstrap: settings.bootstrapSeed, reference: settings.referenceSeed },
    scorers: spec.scorers.map((s) => ({ name: s.name, options: s.options ?? {} })),
    runner: { concurrency: settings.concurrency, timeout_ms: settings.timeoutMs, max_retries: settings.maxRetries },
    created_at: new Date().toISOString(),
  };
}
