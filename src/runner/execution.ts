/**
 * What every executor of a run's attempts shares: the in-process runner (`run.ts`) and the queue's workers
 * (src/queue/worker.ts) make each attempt with these functions, so an attempt is the same whichever path made it —
 * the same cache key, solver, retries, grading and identity check, and the same record of what the server said.
 *
 * - `rebuildRun`: the scorers and solver of a stored run, from its spec (a worker knows a run only by its id).
 * - `responseGuard`: checks every response against the server the stored run talked to and collects what it says.
 * - `attemptContextOf` and `attemptAt`: one attempt of a planned sample at an epoch (`attempt.ts`), keyed for the cache.
 * - `recordServerFacts`: what was learned while running, into the run's manifest.
 */
import { InputError } from '../core/errors.ts';
import type { Attempt, GenerationConfig, Manifest, Measurement, PlannedSample, RunSpec } from '../core/schemas.ts';
import { identityMismatch } from '../providers/identity.ts';
import type { GenerateResponse, Provider } from '../providers/types.ts';
import { createScorer } from '../scorers/registry.ts';
import type { Scorer } from '../scorers/types.ts';
import { generate } from '../solvers/builtin.ts';
import { createSolverChain } from '../solvers/registry.ts';
import type { Solver } from '../solvers/types.ts';
import type { Pool } from '../store/types.ts';
import { runAttempt, type AttemptContext } from './attempt.ts';
import { poolImageResolver } from './images.ts';
import { cacheKeyOf } from './plan.ts';
import type { RetryPolicy } from './retry.ts';
import type { AdaptiveLimiter } from './scheduler.ts';

/** What a server said about itself while a run went, and the check of each response against the stored run. */
export interface ResponseGuard {
  /**
   * Give to `AttemptContext.onResponse`: false (the response is dropped, nothing of it stored) when the server is not
   * the one the stored run talked to (another model id or fingerprint); then `onMismatch` was called with the reason.
   */
  onResponse(r: GenerateResponse): boolean;
  /** Model ids reported (in order of first sight). */
  readonly seenIds: Set<string>;
  /** `system_fingerprint`s reported. */
  readonly seenFingerprints: Set<string>;
  /** The first non-empty set of identity headers (providers/identity.ts), or null. */
  server(): Record<string, string> | null;
}

/**
 * A guard over the stored run's provider record (`manifest.provider`): the first model id and fingerprint seen become
 * the expected ones when the run has none yet (a new run), and every response after that must match them.
 * `onMismatch(reason)` is called for each refused response (the caller stops and keeps the first reason).
 */
export function responseGuard(stored: Pick<Manifest['provider'], 'reported_model_ids' | 'system_fingerprints'>, onMismatch: (reason: string) => void): ResponseGuard {
  const identity = { reported_model_ids: [...stored.reported_model_ids], system_fingerprints: [...(stored.system_fingerprints ?? [])] };
  const seenIds = new Set<string>();
  const seenFingerprints = new Set<string>();
  let server: Record<string, string> | null = null;
  return {
    seenIds,
    seenFingerprints,
    server: () => server,
    onResponse(r) {
      const mismatch = identityMismatch(identity, { model_id: r.model_id, system_fingerprint: r.system_fingerprint ?? null });
      if (mismatch) {
        onMismatch(mismatch);
        return false;
      }
      if (r.model_id && !seenIds.has(r.model_id)) {
        seenIds.add(r.model_id);
        if (identity.reported_model_ids.length === 0) identity.reported_model_ids.push(r.model_id);
      }
      if (r.system_fingerprint && !seenFingerprints.has(r.system_fingerprint)) {
        seenFingerprints.add(r.system_fingerprint);
        if (identity.system_fingerprints.length === 0) identity.system_fingerprints.push(r.system_fingerprint);
      }
      if (!server && r.server && Object.keys(r.server).length) server = r.server;
      return true;
    },
  };
}

/** What an attempt context is made of: the run's own parts of `AttemptContext`, and what the rest is built from. */
export interface AttemptContextOptions extends Pick<AttemptContext, 'runId' | 'provider' | 'config' | 'solver' | 'scorers' | 'policy' | 'limiter' | 'stop'> {
  pool: Pool;
  /** Reuse stored responses of other runs with the same cache key (the caller decides: remote providers only). */
  cache: boolean;
  guard: ResponseGuard;
  /** The run's samples have image parts: providers get their bytes from the pool. */
  images: boolean;
}

/** The context every attempt of a run shares. Pure. */
export function attemptContextOf(o: AttemptContextOptions): AttemptContext {
  const pool = o.pool;
  return {
    runId: o.runId, provider: o.provider, config: o.config, solver: o.solver, scorers: o.scorers, policy: o.policy, limiter: o.limiter, stop: o.stop,
    cacheLookup: o.cache ? (k) => pool.cacheLookup(k) : () => Promise.resolve(null),
    onResponse: (r) => o.guard.onResponse(r),
    ...(o.images ? { images: poolImageResolver(pool) } : {}),
  };
}

/**
 * One attempt of planned sample `p` at `epoch`, with its response-cache key (plan.ts `cacheKeyOf`: provider address,
 * prompt hash, sampling settings, epoch and `solverSalt`, the run spec's solver when it is not the default). Returns
 * the attempt and its measurements, or null when stopped in flight (nothing to record). Never throws for provider or
 * solver failures (see `runAttempt`).
 */
export function attemptAt(ctx: AttemptContext, p: PlannedSample, epoch: number, solverSalt: unknown): Promise<{ attempt: Attempt; measurements: Measurement[] } | null> {
  return runAttempt(ctx, p, epoch, cacheKeyOf(ctx.provider.address, p.prompt_hash, ctx.config, epoch, solverSalt));
}

/** A stored run's scorers, solver and the solver's cache salt, rebuilt from its spec by the registries. */
export interface RebuiltRun {
  scorers: Scorer[];
  solver: Solver;
  /** `spec.solver` when the run has one (part of every cache key), else undefined. */
  solverSalt: unknown;
}

/**
 * Rebuild what runs a stored run from its spec alone: each scorer by its label (`createScorer(name)`: the label holds
 * every option that differs from its default) and the solver chain by its registry specs. This is how a worker on
 * another machine runs a run it knows only by id.
 * Errors: InputError when a scorer or solver is not in the registries of this process (a function given in code,
 * `fn:<name>:<hash>`, or a user registration this process has not loaded), or rebuilds under another label.
 */
export function rebuildRun(spec: Pick<RunSpec, 'scorers' | 'solver'>): RebuiltRun {
  const scorers: Scorer[] = [];
  for (const s of spec.scorers) {
    let made: Scorer;
    try {
      made = createScorer(s.name);
    } catch (err) {
      throw new InputError(`scorer "${s.name}" cannot be rebuilt from the run's spec: ${(err as Error).message} (a worker rebuilds every scorer by its registered name; register it in a module the worker loads)`, { field: 'scorer' });
    }
    if (made.name !== s.name) throw new InputError(`scorer "${s.name}" rebuilds as "${made.name}" here: its registration differs from the one that planned the run`, { field: 'scorer' });
    scorers.push(made);
  }
  let solver: Solver;
  try {
    solver = spec.solver ? createSolverChain(spec.solver) : generate();
  } catch (err) {
    const names = (spec.solver ?? []).map((s) => s.name).join(', ');
    throw new InputError(`solver ${names} cannot be rebuilt from the run's spec: ${(err as Error).message} (a worker rebuilds the solver by its registered names; a solver given as a function cannot run on workers — register it with registerSolver in a module the worker loads)`, { field: 'solver' });
  }
  return { scorers, solver, solverSalt: spec.solver ? spec.solver : undefined };
}

/**
 * Record in the run's manifest what the server said about itself (model ids, fingerprints, identity headers, merged
 * with what was stored) and the scorers' reports. `mergeReports`: merge each report into the stored one (lists of
 * strings unioned, other fields replaced) instead of replacing it — for several workers that each graded a part of
 * the run. Errors: those of the pool.
 */
export async function recordServerFacts(pool: Pool, runId: string, guard: ResponseGuard, scorers: readonly Scorer[], opts: { mergeReports?: boolean } = {}): Promise<void> {
  const server = guard.server();
  await pool.updateManifest(runId, (m) => {
    m.provider.reported_model_ids = [...new Set([...m.provider.reported_model_ids, ...guard.seenIds])].sort();
    if (guard.seenFingerprints.size || m.provider.system_fingerprints) m.provider.system_fingerprints = [...new Set([...(m.provider.system_fingerprints ?? []), ...guard.seenFingerprints])].sort();
    if (server && !m.provider.server) m.provider.server = server;
    const reports: Record<string, Record<string, unknown>> = { ...(m.scorer_reports ?? {}) };
    for (const s of scorers) if (s.report) reports[s.name] = opts.mergeReports ? mergeReport(reports[s.name], s.report()) : s.report();
    if (Object.keys(reports).length) m.scorer_reports = reports;
    return m;
  });
}

/** `next` over `prev`: arrays of strings are unioned and sorted, anything else is replaced. */
function mergeReport(prev: Record<string, unknown> | undefined, next: Record<string, unknown>): Record<string, unknown> {
  if (!prev) return next;
  const out: Record<string, unknown> = { ...prev };
  for (const [k, v] of Object.entries(next)) {
    const old = prev[k];
    const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((e) => typeof e === 'string');
    out[k] = strings(v) && strings(old) ? [...new Set([...old, ...v])].sort() : v;
  }
  return out;
}
