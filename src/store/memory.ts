/**
 * In-memory implementation of the pool: the same semantics as the SQLite pool (the conformance suite runs both),
 * nothing written to disk. For tests, for library users who evaluate and analyse in one process, and as the
 * reference a new implementation can be read against. Values are stored and handed out as JSON copies, as a database
 * would: a caller that changes an object it wrote or read changes nothing in the pool.
 */
import type { ImageBlob } from '../core/images.ts';
import type { Attempt, Measurement, PlannedSample, RunRecord, Sample } from '../core/schemas.ts';
import { hashJson } from '../core/hash.ts';
import { scoredValue } from '../core/outcome.ts';
import {
  checkedImage, alreadyImported, ambiguousEvalSet, ambiguousSelection, checkTask, compareBinary, duplicateMeasurement, isSelectionPrefix,
  mergeEvalSetRuns, mergeModel, mergeSample, patchEvalSet, poolSampleOfRun, runIdError, runSummaryOf, sourceIdOf, unknownEvalSet, unknownRun,
  checkTtl, leaseOf, mayTakeLease, privateSetExists, checkPageLimit,
} from './shared.ts';
import type {
  AttemptCursor, AttemptPageRow, AttemptWithMeasurement, CachedResponse, ChainLink, ChainSignature, EvalSetRecord, PrivateExposure, PrivateItem, PrivateSetRecord, ImportInfo, ImportTransaction, LeaseHolder, MeasurementFilter, ModelRecord, Pool, PoolMeasurement, PoolSample,
  RunLease, RunMeasurement, RunSummary, Selection, SourceRecord, TaskRecord,
} from './types.ts';

/** A copy through JSON: what a database column of JSON text would give back. */
const copy = <T>(v: T): T => (v === null || typeof v !== 'object' ? v : JSON.parse(JSON.stringify(v)));

interface MemoryRun {
  record: RunRecord;
  /** Planned samples in dataset order, and by sample id (the first sample with an id wins). */
  planned: PlannedSample[];
  byId: Map<string, PlannedSample>;
  attempts: Map<string, Attempt & { created_at: string }>;
  measurements: Map<string, Measurement>;
  lease: RunLease | null;
  /** Evidence-chain links by seq order of arrival, and signatures. */
  chain: ChainLink[];
  signatures: ChainSignature[];
}

const attemptKey = (sampleId: string, epoch: number) => `${sampleId}\u0000${epoch}`;
const measurementKey = (sampleId: string, epoch: number, scorer: string) => `${sampleId}\u0000${epoch}\u0000${scorer}`;

/** The key order of imported measurements: source, slice, model, opponent, sample key (code points), rep. */
function compareMeasurements(a: PoolMeasurement, b: PoolMeasurement): number {
  return (
    compareBinary(a.source, b.source) || compareBinary(a.slice, b.slice) || compareBinary(a.model, b.model) || compareBinary(a.opponent, b.opponent) ||
    compareBinary(a.sample_key, b.sample_key) || a.rep - b.rep
  );
}

/** A sample as the samples table keeps it: its JSON fields, `choices` only when present. */
function storedSample(s: Sample): Sample {
  return copy({ id: s.id, input: s.input, target: s.target, ...(s.choices ? { choices: s.choices } : {}), metadata: s.metadata });
}

/** A new, empty in-memory pool. */
export function openMemoryPool(): Pool {
  return new MemoryPool();
}

class MemoryPool implements Pool {
  readonly url = 'memory:';
  private closed = false;
  private runs = new Map<string, MemoryRun>();
  /** Samples by the hash of the whole sample (first one wins), as the SQLite `samples` table. */
  private samples = new Map<string, { content_hash: string; sample: Sample }>();
  /** Attempt locations `${run}\0${sample}\0${epoch}` by cache key. */
  private cacheIndex = new Map<string, Set<string>>();
  private sourceRecords = new Map<string, SourceRecord>();
  private poolSamples = new Map<string, PoolSample>();
  private poolMeasurements = new Map<string, PoolMeasurement>();
  private selections = new Map<string, Selection>();
  private tasks = new Map<string, TaskRecord>();
  private models = new Map<string, ModelRecord>();
  private evalSets = new Map<string, EvalSetRecord>();
  private privateSets = new Map<string, { set: PrivateSetRecord; items: PrivateItem[] }>();
  private exposures: PrivateExposure[] = [];
  /** Images by sha256 (bytes copied in and out, as a database column would). */
  private images = new Map<string, ImageBlob>();

  private live(): void {
    if (this.closed) throw new Error('the pool is closed');
  }

  private run(id: string): MemoryRun {
    const r = this.runs.get(id);
    if (!r) throw unknownRun(id);
    return r;
  }

  // --- runs -----------------------------------------------------------------------------------------------------

  async ensureRun(run: RunRecord, planned: Iterable<PlannedSample> | AsyncIterable<PlannedSample>): Promise<void> {
    this.live();
    if (this.runs.has(run.id)) return;
    // Collect first, then add all at once: a plan that fails half-way leaves nothing behind.
    const list: PlannedSample[] = [];
    const byId = new Map<string, PlannedSample>();
    const newSamples = new Map<string, { content_hash: string; sample: Sample }>();
    const add = (p: PlannedSample) => {
      if (byId.has(p.sample.id)) return;
      const sample = storedSample(p.sample);
      const hash = hashJson(p.sample);
      if (!this.samples.has(hash) && !newSamples.has(hash)) newSamples.set(hash, { content_hash: p.content_hash, sample });
      const stored: PlannedSample = { index: p.index, prompt_hash: p.prompt_hash, target_hash: p.target_hash, content_hash: p.content_hash, messages: copy(p.messages), sample };
      byId.set(p.sample.id, stored);
      list.push(stored);
    };
    if (Symbol.iterator in planned) for (const p of planned) add(p);
    else for await (const p of planned) add(p);
    this.live();
    if (this.runs.has(run.id)) return;
    list.sort((a, b) => a.index - b.index);
    for (const [h, s] of newSamples) this.samples.set(h, s);
    this.runs.set(run.id, { record: copy(run), planned: list, byId, attempts: new Map(), measurements: new Map(), lease: null, chain: [], signatures: [] });
  }

  async getRun(id: string): Promise<RunRecord | null> {
    this.live();
    const r = this.runs.get(id);
    return r ? copy(r.record) : null;
  }

  async resolveRunId(prefix: string): Promise<string> {
    this.live();
    if (!prefix.trim()) throw runIdError(prefix, 0);
    if (this.runs.has(prefix)) return prefix;
    const ids = [...this.runs.keys()].filter((id) => id.startsWith(prefix));
    if (ids.length !== 1) throw runIdError(prefix, ids.length);
    return ids[0]!;
  }

  async listRuns(): Promise<RunSummary[]> {
    this.live();
    return [...this.runs.values()]
      .map((r) => r.record)
      .sort((a, b) => compareBinary(a.created_at, b.created_at) || compareBinary(a.id, b.id))
      .map((rec) => {
        const r = this.runs.get(rec.id)!;
        let attempts = 0, failed = 0;
        for (const a of r.attempts.values()) {
          attempts++;
          if (a.status === 'error') failed++;
        }
        return runSummaryOf(copy(rec), { samples: r.planned.length, attempts, failed }, r.lease ? copy(r.lease) : null);
      });
  }

  async setRunStatus(id: string, status: RunRecord['status']): Promise<void> {
    this.live();
    const r = this.run(id);
    r.record.status = status;
    r.record.updated_at = new Date().toISOString();
  }

  async updateManifest(id: string, patch: (manifest: RunRecord['manifest']) => RunRecord['manifest']): Promise<void> {
    this.live();
    const r = this.run(id);
    r.record.manifest = copy(patch(copy(r.record.manifest)));
    r.record.updated_at = new Date().toISOString();
  }

  async acquireLease(runId: string, holder: LeaseHolder, ttlMs: number, opts: { takeOver?: string } = {}): Promise<{ acquired: boolean; lease: RunLease }> {
    this.live();
    checkTtl(ttlMs);
    const r = this.run(runId);
    const now = Date.now();
    if (!mayTakeLease(r.lease, holder.id, now, opts.takeOver)) return { acquired: false, lease: copy(r.lease!) };
    r.lease = leaseOf(runId, holder, now, ttlMs, r.lease?.owner === holder.id ? r.lease.acquired_at : undefined);
    return { acquired: true, lease: copy(r.lease) };
  }

  async renewLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
    this.live();
    checkTtl(ttlMs);
    const r = this.runs.get(runId);
    if (!r?.lease || r.lease.owner !== owner) return false;
    const now = Date.now();
    r.lease = { ...r.lease, heartbeat_at: new Date(now).toISOString(), expires_at: new Date(now + ttlMs).toISOString() };
    return true;
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    this.live();
    const r = this.runs.get(runId);
    if (r?.lease?.owner === owner) r.lease = null;
  }

  async getLease(runId: string): Promise<RunLease | null> {
    this.live();
    const l = this.runs.get(runId)?.lease;
    return l ? copy(l) : null;
  }

  async completedKeys(runId: string): Promise<Set<string>> {
    this.live();
    const out = new Set<string>();
    for (const a of this.runs.get(runId)?.attempts.values() ?? []) if (a.status === 'ok') out.add(attemptKey(a.sample_id, a.epoch));
    return out;
  }

  async cacheLookup(cacheKey: string): Promise<CachedResponse | null> {
    this.live();
    for (const loc of this.cacheIndex.get(cacheKey) ?? []) {
      const [run, sample, epoch] = loc.split('\u0000');
      const a = this.runs.get(run!)?.attempts.get(attemptKey(sample!, Number(epoch)));
      if (a && a.status === 'ok' && a.cache_key === cacheKey) {
        return copy({ response: a.response, finish_reason: a.finish_reason, prompt_tokens: a.prompt_tokens, completion_tokens: a.completion_tokens, model_id: a.model_id, meta: a.meta, transcript: a.transcript ?? null });
      }
    }
    return null;
  }

  async write(attempt: Attempt, measurements: Measurement[], chain?: ChainLink[]): Promise<void> {
    this.live();
    if (chain) this.putChain(chain);
    const r = this.runs.get(attempt.run_id);
    if (r) {
      // Same columns as the SQLite pool's attempts table (a missing run's rows are kept nowhere, as no row there
      // would ever be read back).
      const key = attemptKey(attempt.sample_id, attempt.epoch);
      // A failed attempt never replaces an ok one (another process on the run already succeeded): dropped, with its
      // attempt_error measurements (putMeasurements drops those of an ok attempt).
      if (attempt.status === 'error' && r.attempts.get(key)?.status === 'ok') {
        this.putMeasurements(measurements);
        return;
      }
      const a = { ...copy(attempt), meta: attempt.meta ? copy(attempt.meta) : null, transcript: attempt.transcript ? copy(attempt.transcript) : null, created_at: new Date().toISOString() };
      r.attempts.set(key, a);
      const loc = `${a.run_id}\u0000${a.sample_id}\u0000${a.epoch}`;
      let set = this.cacheIndex.get(a.cache_key);
      if (!set) this.cacheIndex.set(a.cache_key, (set = new Set()));
      set.add(loc);
    }
    this.putMeasurements(measurements);
  }

  async writeMeasurements(measurements: Measurement[], chain?: ChainLink[]): Promise<void> {
    this.live();
    if (chain) this.putChain(chain);
    this.putMeasurements(measurements);
  }

  // --- evidence chain ---------------------------------------------------------------------------------------------

  private putChain(links: ChainLink[]): void {
    for (const l of links) {
      const r = this.runs.get(l.run_id);
      if (!r) continue;
      // (run, seq) is a key, as in the SQLite table: a link given again replaces the stored one.
      const link = copy(l);
      let at = r.chain.length - 1;
      while (at >= 0 && r.chain[at]!.seq > l.seq) at--;
      if (at >= 0 && r.chain[at]!.seq === l.seq) r.chain[at] = link;
      else r.chain.splice(at + 1, 0, link);
    }
  }

  async appendChain(links: ChainLink[]): Promise<void> {
    this.live();
    this.putChain(links);
  }

  async *iterateChain(runId: string): AsyncIterableIterator<ChainLink> {
    this.live();
    const links = this.runs.get(runId)?.chain ?? [];
    for (let i = 0; i < links.length; i++) yield copy(links[i]!);
  }

  async chainHead(runId: string): Promise<ChainLink | null> {
    this.live();
    const links = this.runs.get(runId)?.chain ?? [];
    return links.length ? copy(links[links.length - 1]!) : null;
  }

  async putChainSignature(sig: ChainSignature): Promise<void> {
    this.live();
    const r = this.run(sig.run_id);
    r.signatures = r.signatures.filter((x) => !(x.seq === sig.seq && x.key_id === sig.key_id));
    r.signatures.push(copy(sig));
    r.signatures.sort((a, b) => a.seq - b.seq || compareBinary(a.key_id, b.key_id));
  }

  async chainSignatures(runId: string): Promise<ChainSignature[]> {
    this.live();
    return (this.runs.get(runId)?.signatures ?? []).map(copy);
  }

  // --- private held-out sets ----------------------------------------------------------------------------------------

  async putPrivateSet(set: PrivateSetRecord, items: PrivateItem[], opts: { replace?: boolean } = {}): Promise<void> {
    this.live();
    if (this.privateSets.has(set.name) && !opts.replace) throw privateSetExists(set.name);
    this.privateSets.set(set.name, { set: copy(set), items: copy(items).sort((a, b) => a.idx - b.idx) });
  }

  async getPrivateSet(name: string): Promise<{ set: PrivateSetRecord; items: PrivateItem[] } | null> {
    this.live();
    const p = this.privateSets.get(name);
    return p ? copy(p) : null;
  }

  async listPrivateSets(): Promise<PrivateSetRecord[]> {
    this.live();
    return [...this.privateSets.values()].map((p) => copy(p.set)).sort((a, b) => compareBinary(a.name, b.name));
  }

  async recordExposures(rows: PrivateExposure[]): Promise<void> {
    this.live();
    for (const r of rows) this.exposures.push(copy(r));
  }

  async *iterateExposures(set?: string): AsyncIterableIterator<PrivateExposure> {
    this.live();
    if (set === undefined) {
      // Every set, by name (a stable sort keeps the order recorded within a set).
      yield* [...this.exposures].sort((a, b) => compareBinary(a.set, b.set)).map(copy);
      return;
    }
    for (let i = 0; i < this.exposures.length; i++) if (this.exposures[i]!.set === set) yield copy(this.exposures[i]!);
  }

  private putMeasurements(ms: Measurement[]): void {
    for (const m of ms) {
      const r = this.runs.get(m.run_id);
      if (!r) continue;
      if (m.status === 'attempt_error' && r.attempts.get(attemptKey(m.sample_id, m.epoch))?.status === 'ok') continue;
      r.measurements.set(measurementKey(m.sample_id, m.epoch, m.scorer), {
        run_id: m.run_id, sample_id: m.sample_id, epoch: m.epoch, scorer: m.scorer, kind: m.kind, value: m.value, extracted: m.extracted, explanation: m.explanation, status: m.status,
      });
    }
  }

  async flush(): Promise<void> {
    this.live();
  }

  async plannedCount(runId: string): Promise<number> {
    this.live();
    return this.runs.get(runId)?.planned.length ?? 0;
  }

  async *iteratePlanned(runId: string): AsyncIterableIterator<PlannedSample> {
    this.live();
    for (const p of this.runs.get(runId)?.planned ?? []) yield copy(p);
  }

  /** Attempt keys of a run in (sample index, epoch) order, as of now (attempts of unplanned samples left out). */
  private orderedAttemptKeys(r: MemoryRun): { index: number; epoch: number; key: string }[] {
    const keys: { index: number; epoch: number; key: string }[] = [];
    for (const [key, a] of r.attempts) {
      const p = r.byId.get(a.sample_id);
      if (p) keys.push({ index: p.index, epoch: a.epoch, key });
    }
    return keys.sort((x, y) => x.index - y.index || x.epoch - y.epoch);
  }

  async *iterateAttempts(runId: string, scorer?: string): AsyncIterableIterator<AttemptWithMeasurement> {
    this.live();
    const r = this.runs.get(runId);
    if (!r) return;
    for (const { key } of this.orderedAttemptKeys(r)) {
      const a = r.attempts.get(key)!;
      const m = scorer === undefined ? undefined : r.measurements.get(measurementKey(a.sample_id, a.epoch, scorer));
      const { created_at: _c, ...attempt } = copy(a);
      yield { ...attempt, transcript: attempt.transcript ?? null, measurement: m ? copy(m) : null };
    }
  }

  async *iterateMeasurements(runId: string, scorer: string): AsyncIterableIterator<RunMeasurement> {
    this.live();
    const r = this.runs.get(runId);
    if (!r) return;
    for (const { key } of this.orderedAttemptKeys(r)) {
      const a = r.attempts.get(key)!;
      const m = r.measurements.get(measurementKey(a.sample_id, a.epoch, scorer));
      if (m) yield { ...copy(m), finish_reason: a.finish_reason, attempt_status: a.status };
    }
  }

  async pageAttempts(runId: string, opts: { limit: number; after?: AttemptCursor | null; sampleId?: string }): Promise<AttemptPageRow[]> {
    checkPageLimit(opts.limit);
    this.live();
    const r = this.runs.get(runId);
    if (!r) return [];
    const after = opts.after ?? { index: -Infinity, epoch: -Infinity };
    const scorers = [...new Set([...r.measurements.values()].map((m) => m.scorer))].sort(compareBinary);
    const out: AttemptPageRow[] = [];
    for (const k of this.orderedAttemptKeys(r)) {
      if (k.index < after.index || (k.index === after.index && k.epoch <= after.epoch)) continue;
      const { created_at: _c, ...a } = copy(r.attempts.get(k.key)!);
      if (opts.sampleId !== undefined && a.sample_id !== opts.sampleId) continue;
      const measurements = scorers.map((sc) => r.measurements.get(measurementKey(a.sample_id, a.epoch, sc))).filter((m): m is Measurement => !!m).map(copy);
      out.push({ ...a, transcript: a.transcript ?? null, index: k.index, measurements });
      if (out.length >= opts.limit) break;
    }
    return out;
  }

  async getPlanned(runId: string, sampleId: string): Promise<PlannedSample | null> {
    this.live();
    const p = this.runs.get(runId)?.byId.get(sampleId);
    return p ? copy(p) : null;
  }

  async scorersOf(runId: string): Promise<string[]> {
    this.live();
    const out = new Set<string>();
    for (const m of this.runs.get(runId)?.measurements.values() ?? []) out.add(m.scorer);
    return [...out].sort(compareBinary);
  }

  async counts(runId: string): Promise<{ attempts: number; ok: number; error: number; measurements: number }> {
    this.live();
    const r = this.runs.get(runId);
    let ok = 0, error = 0;
    for (const a of r?.attempts.values() ?? []) {
      if (a.status === 'ok') ok++;
      else if (a.status === 'error') error++;
    }
    return { attempts: r?.attempts.size ?? 0, ok, error, measurements: r?.measurements.size ?? 0 };
  }

  // --- images -----------------------------------------------------------------------------------------------------

  async putImage(image: ImageBlob): Promise<boolean> {
    this.live();
    const img = checkedImage(image);
    if (this.images.has(img.sha256)) return false;
    this.images.set(img.sha256, { sha256: img.sha256, mime_type: img.mime_type, bytes: Buffer.from(img.bytes) });
    return true;
  }

  async hasImage(sha256: string): Promise<boolean> {
    this.live();
    return this.images.has(sha256);
  }

  async getImage(sha256: string): Promise<ImageBlob | null> {
    this.live();
    const img = this.images.get(sha256);
    return img ? { sha256: img.sha256, mime_type: img.mime_type, bytes: Buffer.from(img.bytes) } : null;
  }

  async *iterateImages(): AsyncIterableIterator<ImageBlob> {
    this.live();
    for (const sha of [...this.images.keys()].sort(compareBinary)) {
      const img = this.images.get(sha);
      if (img) yield { sha256: img.sha256, mime_type: img.mime_type, bytes: Buffer.from(img.bytes) };
    }
  }

  async imageStats(): Promise<{ images: number; bytes: number }> {
    this.live();
    let bytes = 0;
    for (const img of this.images.values()) bytes += img.bytes.length;
    return { images: this.images.size, bytes };
  }

  // --- imported measurements --------------------------------------------------------------------------------------

  async beginImport(info: ImportInfo): Promise<ImportTransaction> {
    this.live();
    const id = sourceIdOf(info.format, info.sha256);
    const existing = this.sourceRecords.get(id);
    if (existing && !info.replace) throw alreadyImported(id, existing.imported_at, info.file);
    const samples = new Map<string, PoolSample>();
    const measurements = new Map<string, PoolMeasurement>();
    let open = true;
    const check = () => {
      if (!open) throw new Error('import transaction already finished');
    };
    const add = (m: Omit<PoolMeasurement, 'source'>) => {
      check();
      const k = [m.slice, m.model, m.opponent, m.sample_key, m.rep].join('\u0000');
      const first = measurements.get(k);
      if (first) throw duplicateMeasurement(info.file, m, first.line);
      measurements.set(k, {
        source: id, slice: m.slice, sample_key: m.sample_key, model: m.model, opponent: m.opponent, rep: m.rep, kind: m.kind, value: m.value,
        direction: m.direction < 0 ? -1 : 1, tie_tolerance: m.tie_tolerance, weight: m.weight, line: m.line ?? null,
      });
    };
    return {
      source: id,
      addSample: async (s) => {
        check();
        samples.set(s.key, mergeSample(samples.get(s.key), copy(s)));
      },
      addSampleIfNew: async (s) => {
        check();
        if (samples.has(s.key)) return false;
        samples.set(s.key, mergeSample(undefined, copy(s)));
        return true;
      },
      addMeasurement: async (m) => add(m),
      addMeasurements: async (ms) => {
        for (const m of ms) add(m);
      },
      commit: async (counts) => {
        check();
        open = false;
        this.live();
        const now = this.sourceRecords.get(id);
        if (now) {
          if (!info.replace) throw alreadyImported(id, now.imported_at, info.file);
          this.deleteMeasurementsOf(id);
        }
        for (const old of info.replaces ?? []) if (old !== id) this.deleteMeasurementsOf(old);
        for (const [k, s] of samples) this.poolSamples.set(k, mergeSample(this.poolSamples.get(k), s));
        for (const m of measurements.values()) this.poolMeasurements.set(poolKey(m), m);
        const rec: SourceRecord = {
          id, format: info.format, file: info.file, file_sha256: info.sha256, imported_at: counts.imported_at ?? new Date().toISOString(),
          measurements: counts.measurements, samples: counts.samples, options: copy(info.options ?? {}),
        };
        this.sourceRecords.set(id, rec);
        return copy(rec);
      },
      rollback: async () => {
        open = false;
      },
    };
  }

  private deleteMeasurementsOf(source: string): number {
    let n = 0;
    for (const [k, m] of this.poolMeasurements) {
      if (m.source === source) {
        this.poolMeasurements.delete(k);
        n++;
      }
    }
    this.sourceRecords.delete(source);
    return n;
  }

  async sources(): Promise<SourceRecord[]> {
    this.live();
    return [...this.sourceRecords.values()].sort((a, b) => compareBinary(a.imported_at, b.imported_at) || compareBinary(a.id, b.id)).map(copy);
  }

  async deleteSource(id: string): Promise<number> {
    this.live();
    return this.deleteMeasurementsOf(id);
  }

  async *iteratePoolSamples(opts: { runs?: boolean } = {}): AsyncIterableIterator<PoolSample> {
    this.live();
    const keys = [...this.poolSamples.keys()].sort(compareBinary);
    for (const k of keys) {
      const s = this.poolSamples.get(k);
      if (s) yield copy(s);
    }
    if (opts.runs === false) return;
    // One sample per content hash: the one with the smallest whole-sample hash; dataset: the smallest name among
    // the runs that planned that content.
    const datasets = new Map<string, string>();
    for (const r of this.runs.values()) {
      const name = r.record.spec.dataset.name;
      for (const p of r.planned) {
        const d = datasets.get(p.content_hash);
        if (d === undefined || compareBinary(name, d) < 0) datasets.set(p.content_hash, name);
      }
    }
    const chosen = new Map<string, { hash: string; sample: Sample }>();
    for (const [hash, s] of this.samples) {
      if (!datasets.has(s.content_hash)) continue;
      const c = chosen.get(s.content_hash);
      if (!c || compareBinary(hash, c.hash) < 0) chosen.set(s.content_hash, { hash, sample: s.sample });
    }
    for (const ch of [...chosen.keys()].sort(compareBinary)) yield poolSampleOfRun(ch, copy(chosen.get(ch)!.sample), datasets.get(ch)!);
  }

  async *iteratePoolMeasurements(filter: MeasurementFilter = {}): AsyncIterableIterator<PoolMeasurement> {
    this.live();
    const keys = filter.sampleKeys ? new Set(filter.sampleKeys) : null;
    if (filter.imported !== false) {
      const sources = filter.sources ? new Set(filter.sources) : null;
      const slices = filter.slices ? new Set(filter.slices) : null;
      const kinds = filter.kinds ? new Set<string>(filter.kinds) : null;
      const models = filter.models ? new Set(filter.models) : null;
      const rows: PoolMeasurement[] = [];
      for (const m of this.poolMeasurements.values()) {
        if (sources && !sources.has(m.source)) continue;
        if (slices && !slices.has(m.slice)) continue;
        if (kinds && !kinds.has(m.kind)) continue;
        // A pairwise measurement belongs to the selection only when both sides do.
        if (models && !(models.has(m.model) && (m.opponent === '' || models.has(m.opponent)))) continue;
        if (keys && !keys.has(m.sample_key)) continue;
        rows.push(m);
      }
      rows.sort(compareMeasurements);
      for (const m of rows) yield copy(m);
    }
    if (filter.runs !== false && (!filter.sources || filter.sources.includes('runs')) && (!filter.kinds || filter.kinds.includes('binary'))) {
      const models = filter.models ? new Set(filter.models) : null;
      const slices = filter.slices ? new Set(filter.slices) : null;
      for (const m of this.runMeasurements()) {
        if (models && !models.has(m.model)) continue;
        if (slices && !slices.has(m.slice)) continue;
        if (keys && !keys.has(m.sample_key)) continue;
        yield m;
      }
    }
  }

  /** The runs as binary pool measurements (the one outcome rule, `scoredValue`; `RUN_OUTCOME_SQL` in the SQLite pool). */
  private runMeasurements(): PoolMeasurement[] {
    const groups = new Map<string, { model: string; scorer: string; sample_key: string; total: number; n: number }>();
    for (const r of this.runs.values()) {
      const scorer = r.record.spec.scorers[0]?.name;
      if (scorer === undefined) continue;
      const model = r.record.spec.model;
      for (const m of r.measurements.values()) {
        if (m.scorer !== scorer || m.kind !== 'binary') continue;
        const value = scoredValue(m);
        if (value == null) continue;
        const p = r.byId.get(m.sample_id);
        if (!p) continue;
        const sample_key = `sha256:${p.content_hash}`;
        const k = `${model}\u0000${scorer}\u0000${sample_key}`;
        const g = groups.get(k);
        if (g) {
          g.total += value;
          g.n++;
        } else groups.set(k, { model, scorer, sample_key, total: value, n: 1 });
      }
    }
    return [...groups.values()]
      .sort((a, b) => compareBinary(a.scorer, b.scorer) || compareBinary(a.sample_key, b.sample_key) || compareBinary(a.model, b.model))
      .map((g) => ({ source: 'runs', slice: g.scorer, sample_key: g.sample_key, model: g.model, opponent: '', rep: 0, kind: 'binary', value: g.total / g.n, direction: 1, tie_tolerance: 0, weight: 1, line: null }));
  }

  async summary() {
    this.live();
    const groups = new Map<string, { source: string; kind: string; slices: Set<string>; models: Set<string>; samples: Set<string>; measurements: number }>();
    const add = (m: PoolMeasurement) => {
      const k = `${m.source}\u0000${m.kind}`;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { source: m.source, kind: m.kind, slices: new Set(), models: new Set(), samples: new Set(), measurements: 0 }));
      g.slices.add(m.slice);
      g.models.add(m.model);
      if (m.opponent !== '') g.models.add(m.opponent);
      g.samples.add(m.sample_key);
      g.measurements++;
    };
    for (const m of this.poolMeasurements.values()) add(m);
    const out = [...groups.values()].sort((a, b) => compareBinary(a.source, b.source) || compareBinary(a.kind, b.kind));
    groups.clear();
    for (const m of this.runMeasurements()) add(m);
    out.push(...groups.values());
    return out.map((g) => ({ source: g.source, kind: g.kind, slices: g.slices.size, models: g.models.size, samples: g.samples.size, measurements: g.measurements }));
  }

  async saveSelection(sel: Selection): Promise<void> {
    this.live();
    this.selections.set(sel.hash, copy(sel));
  }

  async listSelections(): Promise<Selection[]> {
    this.live();
    return [...this.selections.values()].sort((a, b) => compareBinary(a.hash, b.hash)).map(copy);
  }

  async getSelection(hashOrPrefix: string): Promise<Selection | null> {
    this.live();
    if (!isSelectionPrefix(hashOrPrefix)) return null;
    const exact = this.selections.get(hashOrPrefix);
    if (exact) return copy(exact);
    const found = [...this.selections.values()].filter((s) => s.hash.startsWith(hashOrPrefix));
    if (found.length > 1) throw ambiguousSelection(hashOrPrefix);
    return found[0] ? copy(found[0]) : null;
  }

  // --- metadata -----------------------------------------------------------------------------------------------------

  async putTask(task: TaskRecord): Promise<void> {
    this.live();
    const old = this.tasks.get(task.id) ?? null;
    checkTask(old, task);
    if (!old) this.tasks.set(task.id, copy(task));
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    this.live();
    const t = this.tasks.get(id);
    return t ? copy(t) : null;
  }

  async listTasks(): Promise<TaskRecord[]> {
    this.live();
    return [...this.tasks.values()].sort((a, b) => compareBinary(a.id, b.id)).map(copy);
  }

  async putModel(model: Omit<ModelRecord, 'updated_at'> & { updated_at?: string }): Promise<void> {
    this.live();
    this.models.set(model.address, copy(mergeModel(this.models.get(model.address) ?? null, model, model.updated_at ?? new Date().toISOString())));
  }

  async getModel(address: string): Promise<ModelRecord | null> {
    this.live();
    const m = this.models.get(address);
    return m ? copy(m) : null;
  }

  async listModels(): Promise<ModelRecord[]> {
    this.live();
    return [...this.models.values()].sort((a, b) => compareBinary(a.address, b.address)).map(copy);
  }

  async ensureEvalSet(set: EvalSetRecord): Promise<EvalSetRecord> {
    this.live();
    const old = this.evalSets.get(set.id);
    const next = old ? mergeEvalSetRuns(old, copy(set.runs), new Date().toISOString()) : copy(set);
    this.evalSets.set(set.id, next);
    return copy(next);
  }

  async updateEvalSet(id: string, patch: Partial<Pick<EvalSetRecord, 'runs' | 'status'>>): Promise<void> {
    this.live();
    const old = this.evalSets.get(id);
    if (!old) throw unknownEvalSet(id);
    this.evalSets.set(id, patchEvalSet(old, copy(patch), new Date().toISOString()));
  }

  async getEvalSet(idOrPrefix: string): Promise<EvalSetRecord | null> {
    this.live();
    if (!idOrPrefix) return null;
    const exact = this.evalSets.get(idOrPrefix);
    if (exact) return copy(exact);
    const found = [...this.evalSets.values()].filter((s) => s.id.startsWith(idOrPrefix));
    if (found.length > 1) throw ambiguousEvalSet(idOrPrefix);
    return found[0] ? copy(found[0]) : null;
  }

  async listEvalSets(): Promise<EvalSetRecord[]> {
    this.live();
    return [...this.evalSets.values()].sort((a, b) => compareBinary(a.created_at, b.created_at) || compareBinary(a.id, b.id)).map(copy);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const poolKey = (m: PoolMeasurement) => [m.source, m.slice, m.model, m.opponent, m.sample_key, m.rep].join('\u0000');
