/**
 * The records of an evidence chain and their hashes (`record`: which kind of record). Every record the pool keeps for a run — the run itself (its id
 * and spec), each attempt, each measurement — has one canonical JSON form: the fields the pool stores, keys sorted
 * (core/hash.ts `stableStringify`), absent optional fields as null, strings made well-formed (a lone UTF-16 surrogate
 * becomes U+FFFD, as SQLite's UTF-8 storage makes it). The chain hashes that form as the record is written, and a
 * verifier hashes the same form of what it reads back: equal content gives equal hashes in any pool and in an export.
 *
 * Chain rules (hex strings, `chain_{-1}` = 64 zeros, `record_hash = sha256(canonical JSON)`):
 * - `labelled` (every chain Assay starts now): `chain_i = sha256(chain_{i-1} + "\n" + record_hash_i + "\n" + label_i)`,
 *   `label_i` the canonical JSON of `[kind, sample_id, epoch, scorer, status]` of the link, so that relabelling a link
 *   (which decides the record its key must hold) breaks the chain;
 * - `plain` (chains of older Assay, still verified): `chain_i = sha256(chain_{i-1} + "\n" + record_hash_i)`.
 * A chain uses one rule throughout; which one is told from its stored values (`chainRuleOf`).
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
  /** Present (true) when the chain started on a run that already held records, which were chained right after it. */
  adopted?: true;
}
export type AttemptChainRecord = { record: 'attempt' } & Omit<Attempt, 'transcript'> & { transcript: NonNullable<Attempt['transcript']> | null };
export type MeasurementChainRecord = { record: 'measurement' } & Measurement;
/** Any record of a chain. */
export type ChainRecord = RunChainRecord | AttemptChainRecord | MeasurementChainRecord;

/** The run's record (link 0); `adopted`: the chain adopts records the run held before it started. */
export function runRecord(runId: string, spec: RunSpec, adopted = false): RunChainRecord {
  return adopted ? { record: 'run', run_id: runId, spec, adopted: true } : { record: 'run', run_id: runId, spec };
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

/** The chain hash after `prev` with a record of hash `recordHash`, by the `plain` rule (chains of older Assay). */
export function nextChain(prev: string, recordHashHex: string): string {
  return sha256(`${prev}\n${recordHashHex}`);
}

/** The rule a chain's hashes follow (module comment). */
export type ChainRule = 'labelled' | 'plain';
/** The rule of every chain started now. */
export const CHAIN_RULE: ChainRule = 'labelled';

/** What a link's label is made of: the fields that name the record and decide what its key must hold. */
export type LinkLabel = Pick<ChainLink, 'kind' | 'sample_id' | 'epoch' | 'scorer' | 'status'>;

/** The canonical JSON of a link's label: `[kind, sample_id, epoch, scorer, status]` (absent fields null). */
export function linkLabel(l: LinkLabel): string {
  return canonicalJson([l.kind, l.sample_id ?? null, l.epoch ?? null, l.scorer ?? null, l.status ?? null]);
}

/** The chain hash of link `l` (its record hash and label) after the chain hash `prev`, by `rule`. */
export function linkChain(rule: ChainRule, prev: string, l: LinkLabel & Pick<ChainLink, 'record_hash'>): string {
  return rule === 'plain' ? nextChain(prev, l.record_hash) : sha256(`${prev}\n${l.record_hash}\n${linkLabel(l)}`);
}

/**
 * The rule of a chain, from its stored links (in seq order): the first link whose hash follows, by one rule, from the
 * one before it (link 0 from the chain start) tells. Null when no link follows by either rule. Cost: at most two
 * sha256 per link looked at; usually link 0 tells.
 */
export function chainRuleOf(links: readonly ChainLink[]): ChainRule | null {
  for (let i = 0; i < links.length; i++) {
    const l = links[i]!;
    const prev = i === 0 ? (l.seq === 0 ? CHAIN_START : null) : links[i - 1]!.seq === l.seq - 1 ? links[i - 1]!.chain : null;
    if (prev === null) continue;
    if (l.chain === linkChain('labelled', prev, l)) return 'labelled';
    if (l.chain === linkChain('plain', prev, l)) return 'plain';
  }
  return null;
}

/** The link of `record` at `seq` after the chain hash `prev`, by `rule` (default: the rule of new chains). */
export function linkOf(record: ChainRecord, seq: number, prev: string, rule: ChainRule = CHAIN_RULE): ChainLink {
  const h = recordHash(record);
  const link: ChainLink = {
    run_id: record.run_id, seq, kind: record.record,
    sample_id: record.record === 'run' ? null : record.sample_id,
    epoch: record.record === 'run' ? null : record.epoch,
    scorer: record.record === 'measurement' ? record.scorer : null,
    status: record.record === 'run' ? null : record.status,
    record_hash: h, chain: '',
  };
  link.chain = linkChain(rule, prev, link);
  return link;
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
