/**
 * The pool interface (DESIGN.md §3, §9): the one store of everything Assay knows — runs with their planned
 * samples, attempts and measurements; measurements imported from other tools; model, task and eval-set metadata.
 *
 * Every method is asynchronous, so the same interface fits an embedded store (SQLite, in-memory) and a server
 * (PostgreSQL). Implementations: `sqlite.ts` (the default, `./.assay/pool.sqlite`), `postgres.ts` (a pool shared by
 * processes on several machines) and `memory.ts`; all pass the one conformance suite `test/store/conformance.ts`,
 * which a new implementation runs unchanged.
 *
 * Rules every implementation keeps:
 * - (run, sample, epoch) identifies an attempt and (run, sample, epoch, scorer) a measurement: writing one again
 *   replaces it, never duplicates it (resume, re-scoring, duplicate deliveries of a distributed job) — except that
 *   a failed attempt never replaces an ok one, nor an `attempt_error` measurement one of an ok attempt.
 * - A run has one lease holder at a time (`acquireLease`): the runner of a run holds it while it runs.
 * - `write` may queue; `flush` makes everything queued durable; every read sees what was written before it.
 * - Iterators page through the store: a run is never loaded whole, and writing while iterating is safe.
 * - Images are stored once, by the sha256 of their bytes: messages, planned prompts and transcripts name them by
 *   hash (image content parts), never inline them, however many runs, epochs and attempts use them.
 * - `close` flushes; `[Symbol.asyncDispose]` closes, so `await using pool = await openPool(url)` works.
 */
import type { ImageBlob } from '../core/images.ts';
import type { Attempt, Measurement, Message, PlannedSample, RunRecord } from '../core/schemas.ts';
import type { PoolKind, PoolMeasurement } from '../core/pool-measurement.ts';

/** One row of `assay runs`. */
export interface RunSummary {
  id: string;
  /**
   * The stored status, except that a run stored as `running` which no live process holds (no lease in force, or its
   * holder's process on this host is gone) is `interrupted`: it stopped without saying so, and running it again resumes it.
   */
  status: RunRecord['status'];
  created_at: string;
  dataset: string;
  model: string;
  /** Task name and version (`gsm8k@1`) when the run came from a task; null for runs made before tasks existed. */
  task: string | null;
  epochs: number;
  samples: number;
  /** Attempts stored (ok + error). */
  attempts: number;
  /** Attempts with status error. */
  failed: number;
  /**
   * Every scorer the run is graded with: the run's own (spec, in order), then any added later by re-grading
   * (`assay score`, recorded in the manifest's `scorers`).
   */
  scorers: string[];
  /** Who runs it now: the lease in force (not lapsed), or null when no process holds the run. */
  lease: RunLease | null;
  /** Present (true) when the run sent questions without their images (`--text-only`, manifest `images.mode`). */
  text_only?: true;
}

/**
 * A run's lease: which process runs it now. A run has one owner at a time (two `assay run` of the same run in two
 * terminals: the second waits for the first instead of racing it). The holder renews it while it runs (a
 * heartbeat); a holder that dies (kill -9) stops renewing, the lease lapses at `expires_at`, and another process
 * takes it over — at once when the holder was on the same host and its process is gone.
 * Times are ISO 8601 strings of the writer's clock.
 */
export interface RunLease {
  run_id: string;
  /** The holder's id, unique per runner invocation. */
  owner: string;
  /** The holder's process id and host name, when known. */
  pid: number | null;
  host: string | null;
  acquired_at: string;
  /** Last renewal. */
  heartbeat_at: string;
  /** When the lease lapses unless renewed; from then on anyone may take it. */
  expires_at: string;
}

/** Who asks for a lease. */
export interface LeaseHolder {
  id: string;
  pid?: number | null;
  host?: string | null;
}

/** An attempt joined with one scorer's measurement: the unit of `export` and of re-scoring. */
export interface AttemptWithMeasurement extends Attempt {
  measurement: Measurement | null;
}

/** A measurement of a run with what the analysis reader needs of its attempt. */
export type RunMeasurement = Measurement & { finish_reason: Attempt['finish_reason']; attempt_status: Attempt['status'] };

/** A position in a run's attempts, which are ordered by (sample index in the plan, epoch): a page starts after it. */
export interface AttemptCursor {
  index: number;
  epoch: number;
}

/** An attempt as `pageAttempts` gives it: with its sample's index in the plan and every measurement of it. */
export interface AttemptPageRow extends Attempt {
  /** The sample's position in the run's plan (0-based). */
  index: number;
  transcript: Message[] | null;
  /** Every scorer's measurement of this attempt, sorted by scorer name (code-point order). */
  measurements: Measurement[];
}

/** What a response-cache hit gives back. */
export type CachedResponse = Pick<Attempt, 'response' | 'finish_reason' | 'prompt_tokens' | 'completion_tokens' | 'model_id' | 'meta' | 'transcript'>;

// ---------------------------------------------------------------------------------------------------------------
// Imported measurements (ONEBench, Ghosh et al. 2024)
// ---------------------------------------------------------------------------------------------------------------

// The one list of measurement kinds and the shape of a pool measurement live in core (the aggregation reads them
// without knowing the store).
export { POOL_KINDS, type PoolKind, type PoolMeasurement } from '../core/pool-measurement.ts';

/** A sample as the pool knows it. `key` is `<dataset>/<id>` for imports and `sha256:<content hash>` for runs. */
export interface PoolSample {
  key: string;
  dataset: string;
  sample_id: string;
  category: string | null;
  tags: string[];
  text: string | null;
  content_hash: string | null;
  metadata: Record<string, unknown>;
}

/** One import. `id` is derived from the format and the file's sha256, so the same file cannot come in twice. */
export interface SourceRecord {
  id: string;
  format: string;
  file: string;
  file_sha256: string;
  imported_at: string;
  measurements: number;
  samples: number;
  options: Record<string, unknown>;
}

/** A saved capability query: the selected sample keys under a content hash, reusable by `rank --query <hash>`. */
export interface Selection {
  hash: string;
  query: string;
  filters: Record<string, string[]>;
  limit: number | null;
  created_at: string;
  sample_keys: string[];
}

/** Which measurements to read. Every field narrows (AND); lists are ORs. */
export interface MeasurementFilter {
  sampleKeys?: Iterable<string>;
  sources?: string[];
  slices?: string[];
  kinds?: PoolKind[];
  /** Only these models; a preference or battle is kept when both `model` and `opponent` are in the list. */
  models?: string[];
  /** Include measurements of the pool's own runs (default true). */
  runs?: boolean;
  /** Include imported measurements (default true). */
  imported?: boolean;
}

/** An import in progress: all or nothing; `commit` makes it visible, `rollback` erases it. */
/** What `Pool.beginImport` is told of an import. */
export interface ImportInfo {
  /** The importer's format name (`csv`, `jsonl`, `mmlu-pro`, …): with the file's hash it makes the source id. */
  format: string;
  /** The file as the user named it. */
  file: string;
  /** sha256 of the file's bytes (hex). */
  sha256: string;
  /** The importer's options, recorded with the source. */
  options?: Record<string, unknown>;
  /** Replace a source with the same format and hash (the same file imported again). */
  replace?: boolean;
  /** Source ids deleted when the import commits, in its transaction (an earlier import of this file, since changed). */
  replaces?: string[];
}

export interface ImportTransaction {
  readonly source: string;
  /** Insert or merge a sample (category/text/tags are kept when the new row lacks them). */
  addSample(s: PoolSample): Promise<void>;
  /**
   * Insert a measurement. Errors: InputError naming `file:line` when the same (source, slice, sample, model,
   * opponent, rep) was already given (with the line of the first one) — here, or, in a store that stages rows
   * unindexed (SQLite), from `commit`, naming the same measurement (the first repeat in arrival order).
   */
  addMeasurement(m: Omit<PoolMeasurement, 'source'>): Promise<void>;
  /**
   * Optional: `addMeasurement` for each of `ms` in order (the same checks and errors), in one call — for importers
   * that read millions of rows, where a promise per row costs more than storing it.
   */
  addMeasurements?(ms: readonly Omit<PoolMeasurement, 'source'>[]): Promise<void>;
  /**
   * Optional: add the sample unless this import already has one with its key (the one added first stays; at commit
   * it is merged into the pool as `addSample`'s are). Returns whether the key was new to this import, so an importer
   * that meets a sample on many rows keeps no set of the keys it has seen.
   */
  addSampleIfNew?(s: PoolSample): Promise<boolean>;
  /**
   * Stores that find repeats at commit: the error `commit` would give for the measurements added so far, or null.
   * Lets an import that stops at a bad row report an earlier repeat first, as an immediate check would.
   */
  firstDuplicate?(): Promise<Error | null>;
  /** Make the import visible. `imported_at`: the source's import time (default now; a copy of a pool keeps the original's). */
  commit(info: { measurements: number; samples: number; imported_at?: string }): Promise<SourceRecord>;
  rollback(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------------------------------------------

/** A task as recorded when a run of it is made: its name, version and full definition (a JSON spec). */
export interface TaskRecord {
  /** `name@version`. */
  id: string;
  name: string;
  version: string;
  /** sha256 of the canonical definition. */
  hash: string;
  definition: Record<string, unknown>;
  created_at: string;
}

/** What the pool knows of a model address: what its server said about itself, merged over runs. */
export interface ModelRecord {
  address: string;
  kind: string;
  reported_model_ids: string[];
  system_fingerprints: string[];
  /** Free-form facts (family, parameters, tokenizer…), set by users or importers. */
  metadata: Record<string, unknown>;
  updated_at: string;
}

/** An eval set: tasks × models run as one resumable whole. Its id is a content address of its spec. */
export interface EvalSetRecord {
  id: string;
  name: string | null;
  tasks: string[];
  models: string[];
  /** Run ids by `${task}\u0000${model}`, filled as the runs are created. */
  runs: Record<string, string>;
  spec: Record<string, unknown>;
  status: 'running' | 'complete' | 'interrupted' | 'failed';
  created_at: string;
  updated_at: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Evidence chain (tamper-evident results: src/evidence/)
// ---------------------------------------------------------------------------------------------------------------

/**
 * One link of a run's hash chain: one record (the run's spec, an attempt or a measurement) as it was written, in
 * write order. `seq` counts from 0 (the run itself) without gaps; `record_hash` is the sha256 (hex) of the record's
 * canonical JSON (src/store/chain-records.ts); `chain` = sha256(previous link's `chain` + "\n" + `record_hash`), the
 * previous of link 0 being 64 zeros. The key fields name the record: null where they do not apply.
 */
export interface ChainLink {
  run_id: string;
  seq: number;
  kind: 'run' | 'attempt' | 'measurement';
  sample_id: string | null;
  epoch: number | null;
  scorer: string | null;
  /** The record's status (an attempt's ok/error, a measurement's status): what the pool's replacement rules read. */
  status: string | null;
  record_hash: string;
  chain: string;
}

/** An Ed25519 signature of a run's chain head (link `seq` with chain hash `head`), by the key `key_id`. */
export interface ChainSignature {
  run_id: string;
  seq: number;
  head: string;
  /** First 16 hex digits of the sha256 of the raw 32-byte public key. */
  key_id: string;
  /** The public key, SPKI DER in base64. */
  public_key: string;
  /** The signature (64 bytes) in base64. */
  signature: string;
  signed_at: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Private held-out sets (src/private/): items stored encrypted, the key never in the pool
// ---------------------------------------------------------------------------------------------------------------

/** A private set: its items are kept only as AES-256-GCM ciphertext (`PrivateItem`); nothing here is item text. */
export interface PrivateSetRecord {
  name: string;
  /** Endpoints (base URLs, or model addresses of providers without one) its items may be sent to. */
  allow: string[];
  /** Id of the key that encrypts it (first 16 hex digits of sha256 of the key's HMAC identity, src/private/crypto.ts). */
  key_id: string;
  /** sha256 of the canonical plaintext samples (to recognise the same set), keyed: an HMAC, never a plain hash. */
  content_mac: string;
  items: number;
  created_at: string;
  /** Where it came from (the dataset ref as given) and free-form facts. */
  source: string;
}

/** One encrypted item: `ciphertext` of the sample's canonical JSON, its 12-byte `iv` and 16-byte GCM `tag` (base64). */
export interface PrivateItem {
  set: string;
  /** Position in the set. */
  idx: number;
  /** The sample id (ids are not item text: they name items in logs, scores and exposures). */
  id: string;
  /** The item's canary string (clear: it is what a contamination probe looks for). */
  canary: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** A record that an endpoint was sent an item (one per attempt that asked it). */
export interface PrivateExposure {
  set: string;
  item_id: string;
  endpoint: string;
  run_id: string;
  epoch: number;
  /** ISO 8601 time the attempt was stored. */
  at: string;
}

// ---------------------------------------------------------------------------------------------------------------
// The pool
// ---------------------------------------------------------------------------------------------------------------

export interface Pool extends AsyncDisposable {
  /** Where the pool lives, e.g. `sqlite:/abs/path/pool.sqlite` or `memory:`. */
  readonly url: string;

  // --- runs ---------------------------------------------------------------------------------------------------
  /**
   * Create the run and its planned samples, or do nothing if the run id exists (resume). All or nothing.
   * `planned` is consumed lazily, so the plan never has to be held in memory.
   */
  ensureRun(run: RunRecord, planned: Iterable<PlannedSample> | AsyncIterable<PlannedSample>): Promise<void>;
  getRun(id: string): Promise<RunRecord | null>;
  /** Resolve a unique id prefix (an exact id always resolves) to a run id. Errors: InputError when unknown or ambiguous. */
  resolveRunId(prefix: string): Promise<string>;
  /** Every run, oldest first (by `created_at`, then id). */
  listRuns(): Promise<RunSummary[]>;
  /** Errors: InputError for an unknown run. */
  setRunStatus(id: string, status: RunRecord['status']): Promise<void>;
  /**
   * Change a run's manifest with `patch` (read, modify, write; atomic with respect to other updates of the same
   * run). Used for what is learned while running: reported model ids, server fingerprints, scorer reports.
   * `patch` receives a copy it may modify. Errors: InputError for an unknown run.
   */
  updateManifest(id: string, patch: (manifest: RunRecord['manifest']) => RunRecord['manifest']): Promise<void>;
  /**
   * Take the run's lease for `ttlMs` when it is free, lapsed, already this holder's (then it is renewed), or held by
   * `opts.takeOver` (an owner id the caller knows to be dead). Atomic across processes sharing the store.
   * Returns whether it was acquired and the lease in force afterwards (the other holder's when not acquired).
   * Errors: InputError for an unknown run; RangeError for a ttl that is not a positive number.
   */
  acquireLease(runId: string, holder: LeaseHolder, ttlMs: number, opts?: { takeOver?: string }): Promise<{ acquired: boolean; lease: RunLease }>;
  /**
   * Extend this owner's lease to `ttlMs` from now (a heartbeat). Returns false when the lease is no longer this
   * owner's (it lapsed and another process took it, or it was released): the caller must stop working on the run.
   */
  renewLease(runId: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Give the lease up; nothing happens when `owner` does not hold it. */
  releaseLease(runId: string, owner: string): Promise<void>;
  /** The run's lease as stored (possibly lapsed: compare `expires_at` with now), or null. */
  getLease(runId: string): Promise<RunLease | null>;
  /** Keys `${sample_id}\u0000${epoch}` of attempts already stored with status ok (resume skips them). */
  completedKeys(runId: string): Promise<Set<string>>;
  /** A stored ok response for this cache key from any run, or null. */
  cacheLookup(cacheKey: string): Promise<CachedResponse | null>;
  /**
   * Store an attempt and its measurements (may be queued until `flush`; replaces on (run, sample, epoch[, scorer])),
   * except that a failed attempt never replaces an ok one: an `error` attempt written over a stored `ok` attempt is
   * dropped with its `attempt_error` measurements (two processes on one run, one of them less patient, never leave
   * the run worse than either alone).
   * Called once per attempt by the runner: implementations keep it cheap. When a queued batch cannot be stored, its
   * rows stay queued and the next `write`, `flush` or `close` tries again and rejects with the cause if it fails.
   * The run must have been created with `ensureRun` (rows of an unknown run may be dropped).
   * `chain`: evidence-chain links of these rows, stored in the same transaction as the rows (never one without the
   * other); the links are kept as given, whatever the replacement rules do with the rows.
   */
  write(attempt: Attempt, measurements: Measurement[], chain?: ChainLink[]): Promise<void>;
  /** Store measurements only (re-scoring); replaces on (run, sample, epoch, scorer); an `attempt_error` measurement is dropped when the attempt stored for it is ok. */
  writeMeasurements(measurements: Measurement[], chain?: ChainLink[]): Promise<void>;
  /** Make everything written so far durable. */
  flush(): Promise<void>;
  /** Number of planned samples of a run (without loading them). */
  plannedCount(runId: string): Promise<number>;
  /** Stream the planned samples of a run in dataset order (paged: safe to write while iterating). */
  iteratePlanned(runId: string): AsyncIterableIterator<PlannedSample>;
  /**
   * Stream attempts of a run (ordered by sample index, epoch), each with the named scorer's measurement (null
   * without `scorer`); `transcript` is always present (null for a single generation).
   */
  iterateAttempts(runId: string, scorer?: string): AsyncIterableIterator<AttemptWithMeasurement>;
  /** Stream measurements of one scorer (ordered by sample index, epoch). */
  iterateMeasurements(runId: string, scorer: string): AsyncIterableIterator<RunMeasurement>;
  /**
   * One page of a run's attempts in (sample index, epoch) order: at most `limit` (1 to `PAGE` = 2000) attempts after
   * `after` (exclusive; from the first when absent or null), only sample `sampleId`'s when given, each with its
   * sample's index and all its measurements. What a viewer reads: one indexed read per page however deep the page,
   * so a page of a 200k-attempt run costs what the first page costs. Nothing for an unknown run or sample.
   * Errors: RangeError for a `limit` that is not an integer in 1..2000.
   */
  pageAttempts(runId: string, opts: { limit: number; after?: AttemptCursor | null; sampleId?: string }): Promise<AttemptPageRow[]>;
  /** The planned sample `sampleId` of a run (its prompt messages, target and hashes), or null for an unknown run or sample. */
  getPlanned(runId: string, sampleId: string): Promise<PlannedSample | null>;
  /** Names of scorers with measurements in the run, sorted. */
  scorersOf(runId: string): Promise<string[]>;
  counts(runId: string): Promise<{ attempts: number; ok: number; error: number; measurements: number }>;

  // --- images -------------------------------------------------------------------------------------------------
  /**
   * Store an image under the sha256 of its bytes, once: storing it again (another run, epoch or process) changes
   * nothing. Returns true when it was not stored before. The pool checks what it stores: the bytes must hash to
   * `sha256` and be of type `mime_type` (PNG, JPEG or WebP). Errors: InputError otherwise.
   */
  putImage(image: ImageBlob): Promise<boolean>;
  /** Whether an image with this sha256 is stored (without reading its bytes). */
  hasImage(sha256: string): Promise<boolean>;
  /** The image stored under `sha256`, or null. */
  getImage(sha256: string): Promise<ImageBlob | null>;
  /** How many images the pool stores and their bytes in all. */
  imageStats(): Promise<{ images: number; bytes: number }>;
  /** Every image, by sha256 (paged a few images at a time: what copying a pool reads). */
  iterateImages(): AsyncIterableIterator<ImageBlob>;

  // --- imported measurements ------------------------------------------------------------------------------------
  /**
   * Start an import of `file` (`sha256` of its bytes). Errors: InputError when a source with the same format and
   * file hash exists, unless `replace` (then it is replaced when the import commits). The sources in `replaces` are
   * deleted in the commit's transaction (an earlier import of the same file, changed since).
   */
  beginImport(info: ImportInfo): Promise<ImportTransaction>;
  /** Every import, oldest first (by `imported_at`, then id). */
  sources(): Promise<SourceRecord[]>;
  /** Delete a source and its measurements (samples stay: other sources may use them). Returns rows deleted. */
  deleteSource(id: string): Promise<number>;
  /**
   * Every sample: imported ones (by key), then (unless `runs: false`) one per content hash of the pool's own runs
   * (by key; dataset = the smallest dataset name among the runs that planned it).
   */
  iteratePoolSamples(opts?: { runs?: boolean }): AsyncIterableIterator<PoolSample>;
  /**
   * Measurements: imported ones in key order (source, slice, model, opponent, sample key, rep; strings in code-point
   * order), then the runs' (`source` = `runs`: per model × first scorer × sample, the mean over epochs and runs of
   * the binary values under the one outcome rule of core/outcome.ts — grader timeouts count 0, failed calls and
   * grader errors are left out — ordered by scorer, sample key, model).
   */
  iteratePoolMeasurements(filter?: MeasurementFilter): AsyncIterableIterator<PoolMeasurement>;
  /** Counts per source × kind (imported) and for the runs. */
  summary(): Promise<{ source: string; kind: string; slices: number; models: number; samples: number; measurements: number }[]>;
  saveSelection(sel: Selection): Promise<void>;
  /** A saved selection by hash or unique hash prefix, or null. */
  getSelection(hashOrPrefix: string): Promise<Selection | null>;
  /** Every saved selection, by hash. */
  listSelections(): Promise<Selection[]>;

  // --- metadata -------------------------------------------------------------------------------------------------
  /** Record a task definition (idempotent on `id`; a different hash under the same id is an InputError: bump the version). */
  putTask(task: TaskRecord): Promise<void>;
  getTask(id: string): Promise<TaskRecord | null>;
  /** Sorted by id. */
  listTasks(): Promise<TaskRecord[]>;
  /**
   * Merge what is known of a model (ids and fingerprints are unioned, metadata keys overwritten). `updated_at`: the
   * time recorded (default now; a copy of a pool keeps the original's).
   */
  putModel(model: Omit<ModelRecord, 'updated_at'> & { updated_at?: string }): Promise<void>;
  getModel(address: string): Promise<ModelRecord | null>;
  /** Sorted by address. */
  listModels(): Promise<ModelRecord[]>;
  /** Create the eval set or return the stored one (same id = same spec); `runs` of the argument are merged in. */
  ensureEvalSet(set: EvalSetRecord): Promise<EvalSetRecord>;
  /** Merge `runs` in (a key given again is replaced), replace `status`. Errors: InputError for an unknown id. */
  updateEvalSet(id: string, patch: Partial<Pick<EvalSetRecord, 'runs' | 'status'>>): Promise<void>;
  /** By id or unique id prefix, or null. Errors: InputError when the prefix is ambiguous. */
  getEvalSet(idOrPrefix: string): Promise<EvalSetRecord | null>;
  /** Oldest first (by `created_at`, then id). */
  listEvalSets(): Promise<EvalSetRecord[]>;

  // --- evidence chain (src/evidence/; written by the chaining layer of store/chained.ts) ---------------------------
  /** Store links that come with no row (a run's link 0), queued like rows. Links of an unknown run may be dropped. */
  appendChain(links: ChainLink[]): Promise<void>;
  /** The run's links in `seq` order (paged; written and queued ones alike). */
  iterateChain(runId: string): AsyncIterableIterator<ChainLink>;
  /** The run's link with the largest `seq` (queued ones included), or null when it has none. */
  chainHead(runId: string): Promise<ChainLink | null>;
  /** Store a signature of the chain head (replaces one of the same run, seq and key). */
  putChainSignature(sig: ChainSignature): Promise<void>;
  /** The run's signatures by `seq`, then `key_id`. */
  chainSignatures(runId: string): Promise<ChainSignature[]>;

  // --- private held-out sets (src/private/) -------------------------------------------------------------------------
  /**
   * Store a private set and its encrypted items, all or nothing; `replace` replaces a set of the same name (its
   * exposures are kept). Errors: InputError when the name exists and not `replace`.
   */
  putPrivateSet(set: PrivateSetRecord, items: PrivateItem[], opts?: { replace?: boolean }): Promise<void>;
  /** A private set with its items (by idx), or null. */
  getPrivateSet(name: string): Promise<{ set: PrivateSetRecord; items: PrivateItem[] } | null>;
  /** Every private set, by name. */
  listPrivateSets(): Promise<PrivateSetRecord[]>;
  /** Append exposures (durable when the promise resolves). */
  recordExposures(rows: PrivateExposure[]): Promise<void>;
  /** A set's exposures in the order recorded; without `set`, every exposure, by set name, then in the order recorded. */
  iterateExposures(set?: string): AsyncIterableIterator<PrivateExposure>;

  /** Flush and release the store. Idempotent. */
  close(): Promise<void>;
}
