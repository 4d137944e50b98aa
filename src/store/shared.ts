/**
 * What every pool implementation shares: the wording of its errors, the merge rules of samples, models and eval sets,
 * the pool-sample view of a run's sample, and the byte order of keys. Keeping them here is what lets the SQLite,
 * PostgreSQL and in-memory pools give the same answers to the one conformance suite.
 */
import { InputError } from '../core/errors.ts';
import { imageFromBytes, type ImageBlob } from '../core/images.ts';
import { holderIsGone } from './lease-holder.ts';
import { EXCLUDED_STATUSES, WRONG_STATUSES } from '../core/outcome.ts';
import { messageText, type Message, type RunRecord, type Sample } from '../core/schemas.ts';
import type { EvalSetRecord, LeaseHolder, ModelRecord, PoolMeasurement, PoolSample, RunLease, RunSummary, TaskRecord } from './types.ts';

/** Rows per page when an iterator reads the store. */
export const PAGE = 2000;

/** The check of `Pool.pageAttempts`'s limit. Errors: RangeError unless an integer in 1..PAGE. */
export function checkPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE) throw new RangeError(`a page holds 1 to ${PAGE} attempts, got a limit of ${limit}`);
}

/**
 * How a run's measurement enters the pool's binary measurements (`source` = `runs`): the one outcome rule of
 * core/outcome.ts in SQL, for a measurements table aliased `m`. `where` keeps the measurements the rule counts
 * (verdicts and grader timeouts; failed calls and grader errors are left out), `value` is the value it counts
 * (0 for a timeout). The in-memory pool applies `scoredValue` itself; both must agree (test/store/conformance.ts).
 */
export const RUN_OUTCOME_SQL = {
  where: `(m.status IN (${WRONG_STATUSES.map((s) => `'${s}'`).join(', ')}) OR (m.status NOT IN (${EXCLUDED_STATUSES.map((s) => `'${s}'`).join(', ')}) AND m.value IS NOT NULL))`,
  value: `CASE WHEN m.status IN (${WRONG_STATUSES.map((s) => `'${s}'`).join(', ')}) THEN 0 ELSE m.value END`,
} as const;

/** The InputError of `resolveRunId` for an empty, unknown or ambiguous prefix. */
export function runIdError(prefix: string, matches: number): InputError {
  if (!prefix.trim()) return new InputError('a run id (or a unique prefix of one) is required; see `assay runs`');
  if (matches === 0) return new InputError(`no run with id "${prefix}" in the pool (see \`assay runs\`)`);
  return new InputError(`run id prefix "${prefix}" is ambiguous; give more characters`);
}

export function unknownRun(id: string): InputError {
  return new InputError(`no run with id "${id}" in the pool (see \`assay runs\`)`);
}

export function unknownEvalSet(id: string): InputError {
  return new InputError(`no eval set with id "${id}" in the pool`);
}

export function ambiguousEvalSet(prefix: string): InputError {
  return new InputError(`eval set id prefix "${prefix}" is ambiguous; give more characters`);
}

/** The InputError of `putPrivateSet` for a name already taken. */
export function privateSetExists(name: string): InputError {
  return new InputError(`a private set named "${name}" already exists; pass --replace to replace it`);
}

/** Id of an import source: the format and the first 12 hex digits of the file's sha256. */
export function sourceIdOf(format: string, sha256: string): string {
  return `${format}:${sha256.slice(0, 12)}`;
}

export function alreadyImported(id: string, importedAt: string, file: string): InputError {
  return new InputError(`this file was already imported as source "${id}" (${importedAt}); pass --replace to import it again`, { file });
}

/** The InputError of a measurement given twice in one import, naming both lines when known. */
export function duplicateMeasurement(file: string, m: Omit<PoolMeasurement, 'source'>, firstLine: number | null | undefined): InputError {
  return new InputError(
    `duplicate measurement: model "${m.model}"${m.opponent ? ` vs "${m.opponent}"` : ''} on sample "${m.sample_key}"${m.slice ? ` (slice ${m.slice})` : ''}${m.rep ? ` repeat ${m.rep}` : ''} was already given${firstLine ? ` at line ${firstLine}` : ''}`,
    { file, line: m.line ?? undefined },
  );
}

/** A selection lookup key must be 4–64 lowercase hex digits; anything else names no selection. */
export function isSelectionPrefix(s: string): boolean {
  return /^[0-9a-f]{4,64}$/.test(s);
}

export function ambiguousSelection(prefix: string): InputError {
  return new InputError(`selection hash prefix "${prefix}" is ambiguous; give more characters`);
}

/**
 * Merge an incoming sample into a stored one with the same key: dataset and sample id stay; category, text and content
 * hash are kept when the new row lacks them; tags and metadata are replaced unless the new ones are empty.
 */
export function mergeSample(old: PoolSample | undefined, s: PoolSample): PoolSample {
  if (!old) return s;
  return {
    key: old.key,
    dataset: old.dataset,
    sample_id: old.sample_id,
    category: s.category ?? old.category,
    text: s.text ?? old.text,
    content_hash: s.content_hash ?? old.content_hash,
    tags: s.tags.length ? s.tags : old.tags,
    metadata: Object.keys(s.metadata).length ? s.metadata : old.metadata,
  };
}

/** The pool's view of a run's sample: key `sha256:<content hash>`, text of its input, category and tags from metadata. */
export function poolSampleOfRun(contentHash: string, sample: Pick<Sample, 'id' | 'input' | 'metadata'>, dataset: string): PoolSample {
  const md = sample.metadata;
  const input = sample.input as string | Message[];
  const text = typeof input === 'string' ? input : input.map((m) => messageText(m)).join('\n');
  const tags = Array.isArray(md.tags) ? (md.tags as unknown[]).map(String) : [];
  return { key: `sha256:${contentHash}`, dataset, sample_id: sample.id, category: typeof md.category === 'string' ? md.category : null, tags, text, content_hash: contentHash, metadata: md };
}

/**
 * One row of `listRuns`. `scorers`: the spec's, in order, then those the manifest records beyond them (re-grading
 * adds its scorer there). `lease`: the stored lease when it has not lapsed at `now` (ms), else null. `status`: see
 * `RunSummary.status` (a `running` run no live process holds is `interrupted`).
 */
export function runSummaryOf(
  r: Pick<RunRecord, 'id' | 'status' | 'created_at' | 'spec'> & { manifest?: Pick<RunRecord['manifest'], 'scorers' | 'images'> },
  n: { samples: number; attempts: number; failed: number },
  lease: RunLease | null = null,
  now = Date.now(),
): RunSummary {
  const t = r.spec.task;
  const scorers = [...new Set([...r.spec.scorers.map((x) => x.name), ...(r.manifest?.scorers ?? []).map((x) => x.name)])];
  const live = liveLease(lease, now);
  // A run stored as running that no live process holds (no lease in force, or its holder's process is gone: killed,
  // a full disk, a power cut) is not running: it stopped without a word, and is shown as interrupted — running the
  // same command again resumes it.
  const status = r.status === 'running' && (!live || holderIsGone(live)) ? 'interrupted' : r.status;
  return {
    id: r.id, status, created_at: r.created_at, dataset: r.spec.dataset.ref, model: r.spec.model, task: t ? `${t.name}@${t.version}` : null,
    epochs: r.spec.epochs, samples: n.samples, attempts: n.attempts, failed: n.failed, scorers, lease: live,
    ...(r.manifest?.images?.mode === 'text-only' ? { text_only: true as const } : {}),
  };
}

// --- leases ---------------------------------------------------------------------------------------------------------

/** `acquireLease`/`renewLease`'s check of the ttl. Errors: RangeError unless a positive finite number of ms. */
export function checkTtl(ttlMs: number): void {
  if (!(Number.isFinite(ttlMs) && ttlMs > 0)) throw new RangeError(`a lease needs a positive ttl in ms, got ${ttlMs}`);
}

/** The lease `holder` holds from `now` (ms) for `ttlMs`; `acquiredAt` kept when it renews its own lease. */
export function leaseOf(runId: string, holder: LeaseHolder, now: number, ttlMs: number, acquiredAt?: string): RunLease {
  const at = new Date(now).toISOString();
  return { run_id: runId, owner: holder.id, pid: holder.pid ?? null, host: holder.host ?? null, acquired_at: acquiredAt ?? at, heartbeat_at: at, expires_at: new Date(now + ttlMs).toISOString() };
}

/** Whether a lease has lapsed at `now` (ms). */
export function leaseLapsed(l: RunLease, now: number): boolean {
  return Date.parse(l.expires_at) <= now;
}

/** The lease when it is in force at `now` (ms), else null. */
export function liveLease(l: RunLease | null, now: number): RunLease | null {
  return l && !leaseLapsed(l, now) ? l : null;
}

/** May `holderId` take the run whose lease is `current` at `now`: none, lapsed, its own, or held by `takeOver`. */
export function mayTakeLease(current: RunLease | null, holderId: string, now: number, takeOver?: string): boolean {
  return !current || current.owner === holderId || leaseLapsed(current, now) || (takeOver !== undefined && current.owner === takeOver);
}

/** `putTask`'s check: the same id with another definition hash is an InputError (the version must change). */
export function checkTask(old: TaskRecord | null, t: TaskRecord): void {
  if (old && old.hash !== t.hash) {
    throw new InputError(`task ${t.id} is already recorded with another definition (hash ${old.hash.slice(0, 12)}, now ${t.hash.slice(0, 12)}); change its version when its definition changes`);
  }
}

/** `putModel`'s merge: reported ids and fingerprints unioned (sorted), metadata keys overwritten, kind replaced. */
export function mergeModel(old: ModelRecord | null, m: Omit<ModelRecord, 'updated_at'>, now: string): ModelRecord {
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])].sort();
  return {
    address: m.address,
    kind: m.kind,
    reported_model_ids: union(old?.reported_model_ids ?? [], m.reported_model_ids),
    system_fingerprints: union(old?.system_fingerprints ?? [], m.system_fingerprints),
    metadata: { ...(old?.metadata ?? {}), ...m.metadata },
    updated_at: now,
  };
}

/** `ensureEvalSet`'s merge: the stored record with the argument's runs added (stored entries win). */
export function mergeEvalSetRuns(old: EvalSetRecord, runs: Record<string, string>, now: string): EvalSetRecord {
  const added = Object.entries(runs).filter(([k]) => !(k in old.runs));
  if (!added.length) return old;
  return { ...old, runs: { ...old.runs, ...Object.fromEntries(added) }, updated_at: now };
}

/** `updateEvalSet`'s patch: runs merged in (new entries replace old ones under the same key), status replaced. */
export function patchEvalSet(old: EvalSetRecord, patch: Partial<Pick<EvalSetRecord, 'runs' | 'status'>>, now: string): EvalSetRecord {
  return { ...old, runs: patch.runs ? { ...old.runs, ...patch.runs } : old.runs, status: patch.status ?? old.status, updated_at: now };
}

/**
 * Compare strings in the order of their UTF-8 bytes (SQLite's BINARY collation, PostgreSQL's "C"), which is the order
 * of code points. JavaScript's `<` compares UTF-16 code units, which differs only when a surrogate pair meets a
 * character in U+E000–U+FFFF.
 */
export function compareBinary(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (D800–DFFF) encode code points above FFFF: move them above E000–FFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Deep copy of a JSON-like value (what a store hands out must not alias what it keeps). */
export function clone<T>(v: T): T {
  return v === null || typeof v !== 'object' ? v : structuredClone(v);
}

/**
 * An image as a pool may store it: the bytes re-read (type from their signature, sha256 recomputed) and checked
 * against what the caller says. Errors: InputError for bytes that are not PNG/JPEG/WebP, or that do not hash to
 * `image.sha256` or are not of type `image.mime_type`.
 */
export function checkedImage(image: ImageBlob): ImageBlob {
  const checked = imageFromBytes(image.bytes, { field: 'image' });
  if (checked.sha256 !== image.sha256) throw new InputError(`image bytes hash to ${checked.sha256}, not ${image.sha256}: an image is stored under the sha256 of its bytes`, { field: 'image' });
  if (checked.mime_type !== image.mime_type) throw new InputError(`image ${image.sha256} is ${checked.mime_type}, not ${image.mime_type}`, { field: 'image' });
  return checked;
}
