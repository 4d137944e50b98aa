/**
 * The runner: executes (or resumes) one run — a dataset × prompt × solver × model × generation config × epochs,
 * graded by the run's scorers — against a provider with bounded, adaptive concurrency. It streams: the plan goes
 * into the pool and comes back out in pages, attempts go to the pool's batching writer as they finish.
 *
 * Concerns live in their own files: planning and content addresses (`plan.ts`), one attempt through the solver
 * (`attempt.ts`), retries and timeouts (`retry.ts`), concurrency (`scheduler.ts`), grading (`grade.ts`), the
 * manifest (`manifest.ts`). This file wires them and keeps the run's bookkeeping honest: what the server said about
 * itself, which settings were not sent, why a run stopped.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Attempt, GenerationConfig, Manifest, Measurement, Message, PlannedSample, RunDataset, RunRecord, RunSpec, Sample } from '../core/schemas.ts';
import { InputError } from '../core/errors.ts';
import { checkCount, countProblem, MAX_CONCURRENCY, MAX_EPOCHS } from '../core/limits.ts';
import { renderMessages, type PromptTemplate } from '../core/templates.ts';
import { createProvider } from '../providers/registry.ts';
import { ensureCapabilities } from '../providers/scoring.ts';
import { unsentSettings } from '../providers/settings.ts';
import type { Provider } from '../providers/types.ts';
import { metricOfScorer, type Scorer } from '../scorers/types.ts';
import { generate } from '../solvers/builtin.ts';
import { isDefaultSolver } from '../solvers/registry.ts';
import { solverNeeds, type Solver, type SolverSpec } from '../solvers/types.ts';
import type { Pool, PrivateExposure, RunLease } from '../store/types.ts';
import type { SigningKey } from '../evidence/keys.ts';
import { signRun } from '../evidence/sign.ts';
import { checkImageSupport } from '../providers/images.ts';
import { attemptAt, attemptContextOf, recordServerFacts, responseGuard } from './execution.ts';
import { releaseIdleGradingWorkers } from './grading-pool.ts';
import { imagesSpecOf, sampleImages, storeRunImages } from './images.ts';
import { takeRunLease, type HeldLease } from './lease.ts';
import { buildManifest } from './manifest.ts';
import { pendingWork, planIter, runIdOf } from './plan.ts';
import { silentProgress, type Progress } from './progress.ts';
import { AdaptiveLimiter, ConcurrencyGate } from './scheduler.ts';

export type { RunDataset } from '../core/schemas.ts';

export interface RunOptions {
  pool: Pool;
  dataset: RunDataset;
  /** The prompt template (name and hash are recorded; `render` may replace how it is applied). */
  template: Pick<PromptTemplate, 'name' | 'hash'> & Partial<PromptTemplate>;
  /** Render a sample into the planned messages (default: `renderMessages(template, sample, config)`). */
  render?: (sample: Sample) => Message[];
  /** Model address, e.g. `openai-compatible:http://127.0.0.1:8000/v1#m`. */
  model: string;
  config: GenerationConfig;
  epochs: number;
  scorers: Scorer[];
  /** How the model is driven (default: one `generate`). */
  solver?: Solver;
  /** The solver's registry specs (recorded in the run spec when not the default). */
  solverSpec?: SolverSpec[];
  /** The task this run evaluates (recorded in the run spec). */
  task?: { name: string; version: string; hash: string };
  /**
   * A label separating this run from an otherwise identical one (`--new-run`). A labelled run exists to ask the
   * server again, so by default it reuses no stored response (`cache` defaults to false for it).
   */
  label?: string;
  /** Only the first `limit` samples (part of the run spec). */
  limit?: number | null;
  /** Maximum requests in flight (default 64). */
  concurrency?: number;
  /** A concurrency gate shared with other runs on the same endpoint (eval sets); default: one of this run's own. */
  gate?: ConcurrencyGate;
  /** Per-request timeout in ms (default 120,000). */
  timeoutMs?: number;
  /** Retries after the first try (default 6). */
  maxRetries?: number;
  /** Seed of the bootstrap used by `stats` (recorded in the manifest; default 0). */
  bootstrapSeed?: number;
  /**
   * Reuse stored responses of OTHER runs with the same cache key for attempts this run does not have yet (default
   * true, false for a labelled run; only for remote providers). `false` (`--no-cache`) means no stored response of
   * any other run is copied into this run: every attempt this invocation makes is asked of the server. It does not
   * re-ask attempts this run already stored — those are the run (resume); a new run (`label`, `--new-run`) re-asks.
   */
  cache?: boolean;
  progress?: Progress;
  /** Abort to stop cleanly (Ctrl-C): in-flight calls are cancelled and not recorded; the run is marked interrupted. */
  signal?: AbortSignal;
  /** Inject a provider instead of resolving `model` through the registry (it is not closed by the run). */
  provider?: Provider;
  /** Backoff base in ms (default 250; tests lower it). */
  backoffBaseMs?: number;
  /** Warnings for the user (settings not sent); default: none printed (they are recorded in the manifest either way). */
  warn?: (message: string) => void;
  /**
   * The run's lease (one process runs a run at a time, src/runner/lease.ts): its ttl in ms (default 30 s; a holder
   * killed without a word is taken over after it, at once when it ran on this host) and what to tell the user while
   * another process holds the run and this one waits for it.
   */
  lease?: { ttlMs?: number; pollMs?: number; onWait?: (holder: RunLease) => void };
  /**
   * Sign the run's evidence chain (src/evidence/) with this Ed25519 key when the run stops (complete, failed or
   * interrupted): its public key is recorded in the manifest (`signing_keys`). Default: the chain is kept unsigned.
   */
  signingKey?: SigningKey;
  /**
   * The dataset is a private held-out set (src/private/): its items go only to allowed endpoints (checked before the
   * first request, the capability probe included), the pool keeps no item text (planned samples, responses, extracted
   * answers and explanations are redacted or sealed by the policy), and every request is recorded as an exposure.
   */
  privacy?: PrivacyPolicy;
}

/** What a run over a private held-out set keeps to (implemented by src/private/sets.ts `privacyPolicy`). */
export interface PrivacyPolicy {
  /** The private set's name. */
  set: string;
  /** Whether its items may be sent to `endpoint` (a provider's base URL, or its address when it has none). */
  allows(endpoint: string): boolean;
  /** Endpoints allowed, for the error message. */
  allow: string[];
  /** What the pool stores of a planned sample (no item text; hashes keyed). */
  redactPlanned(p: PlannedSample): PlannedSample;
  /** What the pool stores of an attempt and its measurements (the model's text sealed, transcripts dropped). */
  redactResult(attempt: Attempt, measurements: Measurement[]): { attempt: Attempt; measurements: Measurement[] };
}

export interface RunResult {
  run_id: string;
  status: RunRecord['status'];
  /** Planned attempts (samples × epochs). */
  planned: number;
  /** Attempts already complete when this invocation started (resume). */
  resumed: number;
  /** Attempts made by this invocation (asked of the server, or copied from the cache: see `cached`). */
  executed: number;
  /** Of `executed`, attempts whose response was copied from another run's stored response (the cache). */
  cached: number;
  /** Whether stored responses of other runs could be reused (`cache` and a remote provider). */
  cache: boolean;
  counts: { attempts: number; ok: number; error: number; measurements: number };
  reported_model_ids: string[];
  min_concurrency: number;
  seconds: number;
  /** Why the run stopped early on its own (the endpoint looked dead, the server changed), or null. */
  abort_reason: string | null;
  /** The most frequent errors of attempts that failed in this invocation, with counts. */
  errors: { error: string; count: number }[];
}

/**
 * Build the run spec (everything that defines the plan and its outputs; hashed into the run id). Fields that are at
 * their defaults (no task, the default solver, no label) are left out, so a plain dataset run keeps the id it had
 * before tasks existed.
 */
export function buildRunSpec(o: Pick<RunOptions, 'dataset' | 'template' | 'model' | 'config' | 'epochs' | 'scorers' | 'limit' | 'task' | 'solverSpec' | 'label'>): RunSpec {
  return {
    dataset: { ref: o.dataset.ref, name: o.dataset.name, hash: o.dataset.hash, path: o.dataset.path, size: o.dataset.samples.length, limit: o.limit ?? null },
    template: { name: o.template.name, hash: o.template.hash },
    model: o.model,
    config: o.config,
    epochs: o.epochs,
    scorers: o.scorers.map((s) => ({ name: s.name, options: s.options })),
    ...(o.task ? { task: o.task } : {}),
    ...(isDefaultSolver(o.solverSpec) ? {} : { solver: o.solverSpec }),
    ...(o.label ? { label: o.label } : {}),
    ...imagesField(o.limit ? o.dataset.samples.slice(0, o.limit) : o.dataset.samples),
  };
}

/** The run spec's `images` field (left out of a text run's spec: see `imagesSpecOf`). */
function imagesField(samples: Sample[]): Pick<RunSpec, 'images'> {
  const images = imagesSpecOf(samples);
  return images ? { images } : {};
}

/** What `planRun` leaves ready: the run stored with its plan and manifest, and what executing it needs. */
export interface PlannedRun {
  runId: string;
  spec: RunSpec;
  /** The samples evaluated (the first `limit` of the dataset). */
  samples: Sample[];
  /** How a sample becomes its planned messages. */
  render: (sample: Sample) => Message[];
  /** The manifest as built by this invocation (the stored one may be older: a resumed run keeps its own). */
  manifest: Manifest;
  /** Whether the samples have image parts (providers then get their bytes from the pool). */
  images: boolean;
  /** The provider's base URL, else its address: the endpoint a private set's policy and the endpoint limits name. */
  endpoint: string;
  /** Requests in flight: the requested concurrency, capped by what the provider can serve at once. */
  concurrency: number;
}

/** The checks of a run's counts (epochs, concurrency), before anything else. Errors: InputError. */
function checkRunCounts(o: Pick<RunOptions, 'epochs' | 'concurrency'>): void {
  const epochsProblem = countProblem('epochs', o.epochs, MAX_EPOCHS);
  if (epochsProblem) throw new InputError(epochsProblem, { field: 'epochs' });
  checkCount('concurrency', o.concurrency, MAX_CONCURRENCY);
}

/**
 * Plan a run without executing it: check it against the provider (a private set's allowed endpoints, image support,
 * log-likelihood capability — probed once), build its manifest, store its images, and create the run with its plan
 * in the pool (`ensureRun`: nothing happens to a run that exists, so planning again resumes). Both the in-process
 * runner (`executeRun`) and the queue (src/queue/enqueue.ts) start here. The provider is not closed.
 * Errors: InputError for bad counts, an endpoint a private set may not be sent to, images the provider cannot send,
 * a task that needs log-likelihoods from a provider that cannot give them — all before anything is stored.
 */
export async function planRun(o: RunOptions, provider: Provider): Promise<PlannedRun> {
  checkRunCounts(o);
  const requested = o.concurrency ?? 64;
  // An in-process model serves as many calls at once as it has sequences: more workers would only queue (and time out).
  const concurrency = Math.max(1, Math.min(requested, provider.capabilities.maxConcurrency ?? requested));
  const samples = o.limit ? o.dataset.samples.slice(0, o.limit) : o.dataset.samples;
  const spec = buildRunSpec(o);
  const runId = runIdOf(spec);
  // A private set's items go to allowed endpoints only: checked before anything is asked of the provider.
  const endpoint = provider.baseUrl ?? provider.address;
  if (o.privacy && !o.privacy.allows(endpoint)) {
    throw new InputError(`private set "${o.privacy.set}" may be sent only to ${o.privacy.allow.join(', ') || 'no endpoint'}, not to ${endpoint}: nothing was sent (add it with \`assay private allow ${o.privacy.set} <endpoint>\`)`, { field: 'model' });
  }
  // Image parts need a provider that sends them: refused here, before anything is stored or asked (the probe too).
  const imageUse = sampleImages(samples);
  const ignoresImages = checkImageSupport(provider, imageUse, o.dataset.name);
  if (ignoresImages) o.warn?.(ignoresImages);
  // A solver that scores log-likelihoods needs a provider that returns them: checked (probed once) before anything runs.
  await ensureCapabilities(provider, solverNeeds(o.solver), o.signal);
  const unsent = unsentSettings(provider, o.config);
  for (const u of unsent) o.warn?.(`${provider.kind} does not send ${u.setting}=${JSON.stringify(u.value)}: ${u.reason} (recorded as not sent)`);
  const now = new Date().toISOString();
  const manifest = buildManifest(spec, provider, { bootstrapSeed: o.bootstrapSeed ?? 0, referenceSeed: null, concurrency, timeoutMs: o.timeoutMs ?? 120_000, maxRetries: o.maxRetries ?? 6, unsent });
  if (o.signingKey) manifest.signing_keys = [{ algorithm: 'ed25519', key_id: o.signingKey.keyId, public_key: o.signingKey.publicKeyBase64 }];
  // Each scorer's scale and direction, which every analysis reads (binary/proportion as %, numeric in its unit).
  manifest.scorers = manifest.scorers.map((e) => {
    const sc = o.scorers.find((x) => x.name === e.name);
    return sc ? { ...e, metric: metricOfScorer(sc) } : e;
  });
  // Each image once in the pool, before the plan that names them; attempts and transcripts name them by hash.
  if (imageUse.images) {
    const bytes = await storeRunImages(o.pool, o.dataset, imageUse);
    manifest.images = { mode: 'multimodal', count: imageUse.images, bytes, sha256: spec.images!.sha256, provider: ignoresImages ? 'ignored' : 'sent' };
  } else if (o.dataset.textOnly) manifest.images = { mode: 'text-only', count: 0, dropped: o.dataset.textOnly.dropped };
  const render = o.render ?? ((s: Sample) => renderMessages(o.template as PromptTemplate, s, o.config));
  // The plan streams into the pool and back out in pages: memory stays flat however large the dataset.
  const privacy = o.privacy;
  const plan = privacy ? (function* () { for (const p of planIter(samples, render)) yield privacy.redactPlanned(p); })() : planIter(samples, render);
  await o.pool.ensureRun({ id: runId, spec, manifest, status: 'running', created_at: now, updated_at: now }, plan);
  return { runId, spec, samples, render, manifest, images: imageUse.images > 0, endpoint, concurrency };
}

/**
 * Execute (or resume) a run. Errors: InputError for a bad model address, `epochs` / `concurrency` not an integer
 * from 1 to MAX_EPOCHS / MAX_CONCURRENCY (src/core/limits.ts), or samples with image parts on a provider that cannot
 * send them (providers/images.ts), before anything is stored or asked; provider failures become recorded
 * `error` attempts, never exceptions. Returns when every planned attempt is stored, the signal aborted, or the run
 * stopped on its own (`abort_reason`: a dead endpoint, or a server that reports a different model or fingerprint
 * than the stored run — then nothing of the new server's answers is stored).
 */
export async function executeRun(o: RunOptions): Promise<RunResult> {
  checkRunCounts(o);
  const t0 = performance.now();
  const requested = o.concurrency ?? 64;
  const timeoutMs = o.timeoutMs ?? 120_000;
  const maxRetries = o.maxRetries ?? 6;
  const progress = o.progress ?? silentProgress;
  const provider = o.provider ?? (await createProvider(o.model, { concurrency: requested }));
  let held: HeldLease | null = null;
  const exposures: PrivateExposure[] = [];
  const flushExposures = async () => {
    if (exposures.length) await o.pool.recordExposures(exposures.splice(0));
  };
  try {
    const { runId, spec, samples, render, manifest, images, endpoint, concurrency } = await planRun(o, provider);
    const solverSalt = spec.solver ? spec.solver : undefined;
    const privacy = o.privacy;
    // One owner at a time: wait while another process runs this run, before reading what is left to do.
    held = await takeRunLease(o.pool, runId, { ...o.lease, signal: o.signal });
    if (!held) {
      return {
        run_id: runId, status: 'interrupted', planned: (await o.pool.plannedCount(runId)) * o.epochs, resumed: 0, executed: 0, cached: 0, cache: false,
        counts: await o.pool.counts(runId), reported_model_ids: [], min_concurrency: concurrency, seconds: (performance.now() - t0) / 1000,
        abort_reason: 'stopped while waiting for another process that is running this run', errors: [],
      };
    }
    await o.pool.setRunStatus(runId, 'running');
    const storedManifest = (await o.pool.getRun(runId))!.manifest;
    // A text-only run made before runs were labelled (same spec, same id) gets the label now.
    if (manifest.images && !storedManifest.images) await o.pool.updateManifest(runId, (m) => ({ ...m, images: manifest.images }));
    const stored = storedManifest.provider;
    const completed = await o.pool.completedKeys(runId);
    const total = (await o.pool.plannedCount(runId)) * o.epochs;
    // A private run's plan is stored redacted: its items come back from memory (the decrypted set), by sample id.
    const byId = privacy ? new Map(samples.map((s) => [s.id, s])) : null;
    const planned = byId
      ? (async function* () {
          for await (const p of o.pool.iteratePlanned(runId)) {
            const sample = byId.get(p.sample.id);
            if (sample) yield { ...p, sample, messages: render(sample) };
          }
        })()
      : o.pool.iteratePlanned(runId);
    const work = pendingWork(planned, o.epochs, completed);

    const gate = o.gate ?? new ConcurrencyGate(new AdaptiveLimiter(concurrency));
    const stop = new AbortController();
    setMaxListeners(0, stop.signal); // one listener per request in flight
    const onAbort = () => stop.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted) stop.abort();

    let abortReason: string | null = null;
    held.onLost((by) => {
      if (!abortReason) abortReason = `another process took this run over${by ? ` (pid ${by.pid ?? '?'}${by.host ? ` on ${by.host}` : ''})` : ''}: this one had not renewed its lease in time (was it stalled?); stopped so that the run has one owner`;
      stop.abort();
    });
    // What the server says about itself: checked against the stored run before anything of it is stored.
    const guard = responseGuard(stored, (mismatch) => {
      if (!abortReason) abortReason = `${mismatch}. Stopped before storing any of its answers; to evaluate this server, run the same command with --new-run (a separate, labelled run).`;
      stop.abort();
    });

    // A private run never reuses a stored response (another run's are sealed, or of other items).
    const useCache = (o.cache ?? !o.label) && provider.capabilities.remote && !privacy;
    const ctx = attemptContextOf({
      runId, provider, config: o.config, solver: o.solver ?? generate(), scorers: o.scorers, policy: { timeoutMs, maxRetries, backoffBaseMs: o.backoffBaseMs ?? 250 },
      limiter: gate.limiter, stop: stop.signal, pool: o.pool, cache: useCache, guard, images,
    });

    let executed = 0;
    let cachedCount = 0;
    /** Why the pool could not store an attempt (the run stops, is marked failed if it can be, and this is thrown). */
    let unstored: unknown = null;
    let succeeded = 0;
    let consecutiveFailures = 0;
    const errorCounts = new Map<string, number>();
    /** Stop early when the endpoint looks dead: this many final failures in a row before any success. */
    const deadAfter = Math.max(10, Math.min(concurrency, 64));
    progress.start(total, completed.size);

    const processOne = async (p: PlannedSample, epoch: number): Promise<void> => {
      const done = await attemptAt(ctx, p, epoch, solverSalt);
      if (!done) return;
      try {
        if (privacy) {
          if (!done.attempt.cached) exposures.push({ set: privacy.set, item_id: done.attempt.sample_id, endpoint, run_id: runId, epoch, at: new Date().toISOString() });
          const r = privacy.redactResult(done.attempt, done.measurements);
          await o.pool.write(r.attempt, r.measurements);
          if (exposures.length >= 256) await flushExposures();
        } else await o.pool.write(done.attempt, done.measurements);
      } catch (err) {
        // The pool cannot store what the run makes (a full disk, a pool open read-only): stop asking the model.
        unstored ??= err;
        stop.abort();
        return;
      }
      executed++;
      if (done.attempt.cached) cachedCount++;
      if (done.attempt.status === 'ok') {
        succeeded++;
        consecutiveFailures = 0;
      } else {
        const key = (done.attempt.error ?? 'unknown error').slice(0, 160);
        errorCounts.set(key, (errorCounts.get(key) ?? 0) + 1);
        if (++consecutiveFailures >= deadAfter && succeeded === 0 && !abortReason) {
          abortReason = `the first ${consecutiveFailures} attempts all failed after retries (last error: ${key}); stopping early — is the model endpoint up?`;
          stop.abort();
        }
      }
      progress.tick(done.attempt.status === 'ok');
    };

    const worker = async (): Promise<void> => {
      let sinceYield = 0;
      while (!stop.signal.aborted) {
        // Providers that answer at once (replay, reference) never leave the microtask queue: yield to the event loop
        // now and then so signals (Ctrl-C) and timers (the writer's flush) are handled.
        if (++sinceYield >= 16) {
          sinceYield = 0;
          await new Promise<void>((r) => setImmediate(r));
        }
        if (!(await gate.acquire(stop.signal))) return;
        try {
          const next = await work.next();
          if (next.done) return;
          await processOne(next.value.planned, next.value.epoch);
        } finally {
          gate.release();
        }
      }
    };

    try {
      await Promise.all(Array.from({ length: concurrency }, worker));
    } finally {
      progress.stop();
      o.signal?.removeEventListener('abort', onAbort);
      try {
        await o.pool.flush();
        await flushExposures();
      } catch (err) {
        unstored ??= err;
      }
      await releaseIdleGradingWorkers();
    }
    if (unstored) {
      // Marked failed when that small write still succeeds; otherwise the run stays `running` without a holder once
      // its lease is released or lapses (listed as interrupted), and the next run of it resumes it either way.
      await o.pool.setRunStatus(runId, 'failed').catch(() => {});
      throw unstored;
    }
    await recordServerFacts(o.pool, runId, guard, o.scorers);
    const counts = await o.pool.counts(runId);
    // complete = every planned attempt stored with a response; failed = some attempts failed after retries (they are
    // retried by running the same command again) or the run stopped on its own; interrupted = stopped by the user.
    const status: RunRecord['status'] = abortReason ? 'failed' : stop.signal.aborted ? 'interrupted' : counts.ok === total ? 'complete' : 'failed';
    await o.pool.setRunStatus(runId, status);
    // The head of everything stored, signed: later writes (a resume, re-grading) extend the chain and sign again.
    if (o.signingKey) await signRun(o.pool, runId, o.signingKey);
    return {
      run_id: runId, status, planned: total, resumed: completed.size, executed, cached: cachedCount, cache: useCache, counts,
      reported_model_ids: (await o.pool.getRun(runId))?.manifest.provider.reported_model_ids ?? [], min_concurrency: gate.limiter.minReached,
      seconds: (performance.now() - t0) / 1000,
      abort_reason: abortReason,
      errors: [...errorCounts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([error, count]) => ({ error, count })),
    };
  } finally {
    await held?.release();
    if (!o.provider) await provider.close();
  }
}
