/**
 * The records of an evidence chain and their hashes (`record`: which kind of record). Every record the pool keeps for a run — the run itself (its id
 * and spec), each attempt, each measurement — has one canonical JSON form: the fields the pool stores, keys sorted
 * (core/hash.ts `stableStringify`), absent optional fields as null, strings made well-formed (a lone UTF-16 surrogate
 * becomes U+FFFD, as SQLite's UTF-8 storage makes it). The chain hashes that form as the record is written, and a
 * verifier hashes the same form of what it reads back: equal content gives equal hashes in any pool and in an export.
 *
 * Chain rule: `chain_i = sha256(chain_{i-1} + "\n" + record_hash_i)` (hex strings), `chain_{-1}` = 64 zeros;
 * `record_hash = sha256(canonical JSON)`.
 */
import { sha256 } from '../core/hash.ts';
import type { Attempt, Measurement, RunSpec } from '../core/schemas.ts';
import type { ChainLink } from './types.ts';

/** The chain hash before link 0. */
export const CHAIN_START = '0'.repeat(64);

/** The run's own record, link 0 of its chain. */
export interface RunChainRecord {
  record: 'run';
  run_id: string;
  spec: RunSpec;
}
export type AttemptChainRecord = { record: 'attempt' } & Omit<Attempt, 'transcript'> & { transcript: NonNullable<Attempt['transcript']> | null };
export type MeasurementChainRecord = { record: 'measurement' } & Measurement;
/** Any record of a chain. */
export type ChainRecord = RunChainRecord | AttemptChainRecord | MeasurementChainRecord;

/** The run's record (link 0). */
export function runRecord(runId: string, spec: RunSpec): RunChainRecord {
  return { record: 'run', run_id: runId, spec };
}

/** An attempt as the chain records it: the fields the pool stores, `meta` and `transcript` null when absent. */
export function attemptRecord(a: Attempt): AttemptChainRecord {
  return {
    record: 'attempt', run_id: a.run_id, sample_id: a.sample_id, epoch: a.epoch, status: a.status, response: a.response, finish_reason: a.finish_reason,
    prompt_tokens: a.prompt_tokens, completion_tokens: a.completion_tokens, latency_ms: a.latency_ms, tries: a.tries, error: a.error, model_id: a.model_id,
    cache_key: a.cache_key, cached: !!a.cached, meta: a.meta ?? null, transcript: a.transcript ?? null,
  };
}

/** A measurement as the chain records it. */
export function measurementRecord(m: Measurement): MeasurementChainRecord {
  return { record: 'measurement', run_id: m.run_id, sample_id: m.sample_id, epoch: m.epoch, scorer: m.scorer, kind: m.kind, value: m.value, extracted: m.extracted, explanation: m.explanation, status: m.status };
}

/** The canonical JSON of a record: keys sorted, undefined dropped, strings well-formed, -0 as 0. */
export function canonicalJson(record: unknown): string {
  return JSON.stringify(canonical(record));
}

function canonical(v: unknown): unknown {
  if (typeof v === 'string') return wellFormed(v);
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[wellFormed(k)] = canonical(x);
    }
    return out;
  }
  if (typeof v === 'number' && Object.is(v, -0)) return 0;
  return v;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
function wellFormed(s: string): string {
  // A quick test first: almost every string has no surrogate at all.
  return /[\uD800-\uDFFF]/.test(s) ? s.replace(LONE_SURROGATE, '\uFFFD') : s;
}

/** The keys of the records the chain writes most (every attempt, every measurement), in canonical (sorted) order. */
const ATTEMPT_KEYS = ['record', 'run_id', 'sample_id', 'epoch', 'status', 'response', 'finish_reason', 'prompt_tokens', 'completion_tokens', 'latency_ms', 'tries', 'error', 'model_id', 'cache_key', 'cached', 'meta', 'transcript'].sort();
const MEASUREMENT_KEYS = ['record', 'run_id', 'sample_id', 'epoch', 'scorer', 'kind', 'value', 'extracted', 'explanation', 'status'].sort();

/**
 * `canonicalJson` of an attempt or measurement record with exactly its known keys, written key by key in their sorted
 * order instead of copying and sorting the object: the same text (test/evidence/chain.test.ts checks it), a fraction
 * of the work, on the path of every write. Null for any other record (the general form then applies).
 */
function knownRecordJson(record: ChainRecord): string | null {
  const keys = record.record === 'attempt' ? ATTEMPT_KEYS : record.record === 'measurement' ? MEASUREMENT_KEYS : null;
  if (!keys) return null;
  const r = record as unknown as Record<string, unknown>;
  let n = 0;
  for (const k in r) if (Object.prototype.hasOwnProperty.call(r, k)) n++;
  if (n !== keys.length) return null;
  let out = '{';
  for (const k of keys) {
    const v = r[k];
    if (v === undefined) {
      if (!(k in r)) return null;
      continue;
    }
    out += `${out.length > 1 ? ',' : ''}"${k}":${JSON.stringify(canonical(v))}`;
  }
  return `${out}}`;
}

/** sha256 (hex) of a record's canonical JSON. */
export function recordHash(record: ChainRecord): string {
  return sha256(knownRecordJson(record) ?? canonicalJson(record));
}

/** The chain hash after `prev` with a record of hash `recordHash`. */
export function nextChain(prev: string, recordHashHex: string): string {
  return sha256(`${prev}\n${recordHashHex}`);
}

/** The link of `record` at `seq` after the chain hash `prev`. */
export function linkOf(record: ChainRecord, seq: number, prev: string): ChainLink {
  const h = recordHash(record);
  return {
    run_id: record.run_id, seq, kind: record.record,
    sample_id: record.record === 'run' ? null : record.sample_id,
    epoch: record.record === 'run' ? null : record.epoch,
    scorer: record.record === 'measurement' ? record.scorer : null,
    status: record.record === 'run' ? null : record.status,
    record_hash: h, chain: nextChain(prev, h),
  };
}

/** The key that a record replaces on in the pool: `a|m` + sample + epoch (+ scorer). */
export function recordKey(l: Pick<ChainLink, 'kind' | 'sample_id' | 'epoch' | 'scorer'>): string {
  return l.kind === 'run' ? 'run' : l.kind === 'attempt' ? `a\u0000${l.sample_id}\u0000${l.epoch}` : `m\u0000${l.sample_id}\u0000${l.epoch}\u0000${l.scorer}`;
}

/** How a record is named to a person: `attempt of sample "s3", epoch 1`. */
export function describeRecord(l: Pick<ChainLink, 'kind' | 'sample_id' | 'epoch' | 'scorer'>): string {
  if (l.kind === 'run') return 'the run record (its id and spec)';
  return `${l.kind === 'attempt' ? 'attempt' : `measurement "${l.scorer}"`} of sample "${l.sample_id}", epoch ${l.epoch}`;
}
