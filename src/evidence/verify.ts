/**
 * Verification of a run's evidence: recompute its hash chain, replay it with the pool's replacement rules to know
 * which record each (sample, epoch[, scorer]) must hold now, compare with the records actually held (in the pool, or
 * in an export), and check the signatures of the chain head. The same function serves a pool and an export file.
 *
 * What is found, named by the record (sample id, epoch, scorer) and its place in the chain (`seq`):
 * - `changed`: a record differs from the one chained (one flipped byte is enough);
 * - `removed`: a chained record is not there; or links are missing from the chain;
 * - `reordered`: links are out of order (two links swapped), or a record holds what was chained for another key
 *   (two records swapped);
 * - `added`: a record that was never chained;
 * - `chain`: a link whose hash does not follow from the one before (the chain itself was edited);
 * - `signature`: a signature that does not verify, signs another head, or is by a key not trusted;
 * - `unsigned`: links after the last valid signature (a run stopped before it could sign, or never signed).
 * Problems are sorted by `seq` (records outside the chain last); the first is the first break. A chain that cannot
 * be read at all (its stored form is malformed) is one `chain` problem naming where.
 *
 * The chain's rule (store/chain-records.ts) is told from its stored values and applied to the whole run: a chain of
 * older Assay (the `plain` rule) still verifies, with the caveat that relabelling its links is not detectable. A run
 * written before chaining had its records adopted when its chain started: a caveat says tampering before then is not
 * detectable.
 */
import type { RunSpec } from '../core/schemas.ts';
import type { ChainLink, ChainSignature } from '../store/types.ts';
import { CHAIN_RULE, CHAIN_START, chainRuleOf, describeRecord, linkChain, recordHash, recordKey, type ChainRecord } from '../store/chain-records.ts';
import { signatureValid } from './sign.ts';
import { keyIdOf } from './keys.ts';

export type ProblemKind = 'changed' | 'removed' | 'reordered' | 'added' | 'chain' | 'signature' | 'unsigned';

/** One problem found. */
export interface EvidenceProblem {
  problem: ProblemKind;
  /** The link's place in the chain, or null for a record outside it. */
  seq: number | null;
  record: ChainLink['kind'] | null;
  sample_id: string | null;
  epoch: number | null;
  scorer: string | null;
  /** One sentence naming what was found. */
  detail: string;
}

/** What `verifyRun` / `verifyEvidenceFile` report. */
export interface EvidenceReport {
  run_id: string;
  /** `verified`: chain intact, every record as chained, signed through its last link by a trusted key. */
  status: 'verified' | 'broken' | 'unsigned' | 'no-chain';
  ok: boolean;
  /** Links in the chain. */
  links: number;
  /** Records compared (the run record, attempts, measurements). */
  records: number;
  /** The last link a valid, trusted signature covers, or null. */
  signed_through: number | null;
  /** Ids of the keys whose valid signatures were accepted. */
  key_ids: string[];
  /** Where trust in the key comes from: keys given by the verifier, or those the run records. */
  trust: 'given' | 'recorded';
  problems: EvidenceProblem[];
  /** What the verification cannot tell for this run (an older chain rule, records adopted from before chaining). */
  caveats: string[];
  /** `problems[0]`, or null. */
  first: EvidenceProblem | null;
}

/** The material of a verification. */
export interface EvidenceInput {
  runId: string;
  spec: RunSpec;
  /** The chain's links in stored order (by seq). */
  links: AsyncIterable<ChainLink> | Iterable<ChainLink>;
  /** The records held now: attempts and measurements (the run record is made from `spec`). */
  records: AsyncIterable<ChainRecord> | Iterable<ChainRecord>;
  signatures: ChainSignature[];
  /** Public keys (SPKI DER base64) the recorded ones are checked against; empty or absent: the run's own (`recordedKeys`). */
  trustedKeys?: string[];
  /** Key ids the run's manifest records (trusted when `trustedKeys` is not given). */
  recordedKeys?: string[];
}

/** At most this many mismatched records are compared pairwise to find swapped ones. */
const SWAP_SEARCH = 200;

const named = (l: Pick<ChainLink, 'kind' | 'sample_id' | 'epoch' | 'scorer'>) => ({ record: l.kind, sample_id: l.sample_id, epoch: l.epoch, scorer: l.scorer });

/** A record with the key fields of `l` (to test whether it is the one chained under that key). */
function rekeyed(r: ChainRecord, l: ChainLink): ChainRecord {
  if (r.record === 'run' || l.kind === 'run') return r;
  return { ...r, sample_id: l.sample_id!, epoch: l.epoch!, ...(r.record === 'measurement' ? { scorer: l.scorer! } : {}) } as ChainRecord;
}

/**
 * Verify a run's evidence (see the module comment). Memory: the links and one entry per key of the run (a few
 * hundred bytes each); records are streamed. Never throws for tampered input: every finding is a problem.
 */
export async function verifyEvidence(input: EvidenceInput): Promise<EvidenceReport> {
  const trusted = (input.trustedKeys ?? []).map((k) => keyIdOf(k));
  const links: ChainLink[] = [];
  try {
    for await (const l of input.links) links.push(l);
    return await verifyLinks(input, links, trusted);
  } catch (e) {
    // A store that cannot read what it holds (a malformed row) names it: that is a finding, not a failure.
    const p: EvidenceProblem = { problem: 'chain', seq: null, record: null, sample_id: null, epoch: null, scorer: null, detail: `the evidence cannot be read: ${(e as Error).message}` };
    return {
      run_id: input.runId, links: links.length, trust: trusted.length ? 'given' : 'recorded', status: 'broken', ok: false, records: 0,
      signed_through: null, key_ids: [], problems: [p], caveats: [], first: p,
    };
  }
}

/** `verifyEvidence` once the links are read. */
async function verifyLinks(input: EvidenceInput, links: ChainLink[], trusted: string[]): Promise<EvidenceReport> {
  const problems: EvidenceProblem[] = [];
  const caveats: string[] = [];
  const base = { run_id: input.runId, links: links.length, trust: trusted.length ? ('given' as const) : ('recorded' as const) };
  if (!links.length) {
    let records = 0;
    for await (const _ of input.records) records++;
    return { ...base, status: 'no-chain', ok: false, records, signed_through: null, key_ids: [], problems, caveats, first: null };
  }
  // One rule for the whole run: mixing rules would break the chain before the signed head.
  const rule = chainRuleOf(links) ?? CHAIN_RULE;
  if (rule === 'plain') caveats.push('label-free chain (older Assay): relabelling is not detectable');
  const next = (prev: string, l: Parameters<typeof linkChain>[2]) => linkChain(rule, prev, l);

  // 1. The chain: each link's hash must follow from the one before; seqs count from 0 without gaps.
  const byChain = new Map<string, number>();
  links.forEach((l, i) => byChain.set(l.chain, i));
  /** Positions of links whose stored hash cannot be trusted (the chain broke there). */
  const gaps: { at: number; prev: string; seq: number }[] = [];
  let prev = CHAIN_START;
  let searched = 0;
  for (let i = 0; i < links.length; i++) {
    const l = links[i]!;
    const expectedSeq = i === 0 ? 0 : links[i - 1]!.seq + 1;
    if (l.chain !== next(prev, l) || l.seq !== expectedSeq) {
      // Which edit explains it: a link moved (its hash follows from a link stored after it), links removed (a gap in
      // seq), or this link edited (the next one follows from its stored hash, but it does not follow from the last).
      let movedAfter = -1;
      // The search costs one hash per link: done for the first breaks only (a chain broken everywhere is broken).
      if (++searched <= SWAP_SEARCH) for (let j = 0; j < links.length && movedAfter < 0; j++) if (j !== i && l.chain === next(links[j]!.chain, l)) movedAfter = j;
      if (l.seq < expectedSeq || (movedAfter > i)) {
        const other = movedAfter >= 0 ? links[movedAfter]! : null;
        problems.push({ problem: 'reordered', seq: expectedSeq, ...named(l), detail: `link ${expectedSeq} holds ${describeRecord(l)} (chained as link ${l.seq})${other ? `, which was chained after ${describeRecord(other)}` : ''}: links are out of order` });
      } else if (l.seq > expectedSeq) {
        gaps.push({ at: i, prev, seq: expectedSeq });
        problems.push({ problem: 'removed', seq: expectedSeq, record: null, sample_id: null, epoch: null, scorer: null, detail: `link${l.seq - expectedSeq > 1 ? `s ${expectedSeq}–${l.seq - 1} are` : ` ${expectedSeq} is`} missing from the chain (before ${describeRecord(l)})` });
      } else {
        problems.push({ problem: 'chain', seq: l.seq, ...named(l), detail: `the link of ${describeRecord(l)} does not follow from the link before it: the chain was edited here` });
      }
    }
    prev = l.chain;
  }

  // 2. Replay with the pool's rules: the record each key must hold now.
  interface Expected { link: ChainLink; seen: boolean }
  const expected = new Map<string, Expected>();
  for (const l of links) {
    const k = recordKey(l);
    const cur = expected.get(k);
    // A failed attempt never replaces an ok one, nor an attempt_error measurement one of an ok attempt (store/types.ts).
    if (l.kind === 'attempt' && l.status === 'error' && cur?.link.status === 'ok') continue;
    if (l.kind === 'measurement' && l.status === 'attempt_error' && expected.get(`a\u0000${l.sample_id}\u0000${l.epoch}`)?.link.status === 'ok') continue;
    expected.set(k, { link: l, seen: false });
  }

  // 3. The records held now.
  let records = 0;
  let adopted = false;
  const mismatched: { record: ChainRecord; exp: Expected; hash: string }[] = [];
  const unchained: { record: ChainRecord; hash: string }[] = [];
  const all = async function* (): AsyncIterable<ChainRecord> {
    yield { record: 'run', run_id: input.runId, spec: input.spec };
    yield* input.records;
  };
  for await (const r of all()) {
    records++;
    const key = r.record === 'run' ? 'run' : recordKey({ kind: r.record, sample_id: r.sample_id, epoch: r.epoch, scorer: r.record === 'measurement' ? r.scorer : null });
    const exp = expected.get(key);
    let h = recordHash(r);
    // Link 0 of a chain that adopted the records of a run written before chaining marks its run record so.
    if (r.record === 'run' && exp && h !== exp.link.record_hash) {
      const marked = recordHash({ ...r, adopted: true });
      if (marked === exp.link.record_hash) (h = marked), (adopted = true);
    }
    if (!exp) {
      unchained.push({ record: r, hash: h });
      continue;
    }
    exp.seen = true;
    if (h !== exp.link.record_hash) mismatched.push({ record: r, exp, hash: h });
  }
  for (const m of mismatched) {
    let swapped: ChainLink | null = null;
    if (mismatched.length <= SWAP_SEARCH) {
      for (const o of mismatched) if (o !== m && recordHash(rekeyed(m.record, o.exp.link)) === o.exp.link.record_hash) swapped = o.exp.link;
    }
    const l = m.exp.link;
    problems.push(swapped
      ? { problem: 'reordered', seq: l.seq, ...named(l), detail: `${describeRecord(l)} holds what was chained for ${describeRecord(swapped)} (link ${swapped.seq}): records were swapped` }
      : { problem: 'changed', seq: l.seq, ...named(l), detail: `${describeRecord(l)} differs from what was chained at link ${l.seq}` });
  }
  for (const e of expected.values()) {
    if (!e.seen) problems.push({ problem: 'removed', seq: e.link.seq, ...named(e.link), detail: `${describeRecord(e.link)}, chained at link ${e.link.seq}, is not there` });
  }
  for (const u of unchained) {
    const r = u.record;
    const l = { kind: r.record, sample_id: r.record === 'run' ? null : r.sample_id, epoch: r.record === 'run' ? null : r.epoch, scorer: r.record === 'measurement' ? r.scorer : null, status: r.record === 'run' ? null : r.status, record_hash: u.hash } as ChainLink;
    // A record whose link was removed: the link after the gap follows from it (a run record, marked adopted or not).
    const follows = (g: (typeof gaps)[number]) => {
      const after = links[g.at]!;
      if (after.chain === next(next(g.prev, l), after)) return true;
      return r.record === 'run' && after.chain === next(next(g.prev, { ...l, record_hash: recordHash({ ...r, adopted: true }) }), after);
    };
    const gap = gaps.find(follows);
    if (gap) {
      const p = problems.find((x) => x.problem === 'removed' && x.seq === gap.seq && x.record === null);
      if (p) Object.assign(p, named(l), { detail: `the link of ${describeRecord(l)} (link ${p.seq}) was removed from the chain` });
      continue;
    }
    problems.push({ problem: 'added', seq: null, ...named(l), detail: `${describeRecord(l)} is not in the chain (written without it, or added afterwards)` });
  }

  // 4. Signatures: valid, of a head that is in the chain, by a trusted key.
  const last = links[links.length - 1]!;
  const recorded = new Set(input.recordedKeys ?? []);
  let signedThrough: number | null = null;
  const keyIds = new Set<string>();
  for (const s of input.signatures) {
    const at = byChain.get(s.head);
    const link = at === undefined ? undefined : links[at];
    const kid = keyIdOf(s.public_key);
    let why: string | null = null;
    if (s.run_id !== input.runId) why = `is of another run (${s.run_id})`;
    else if (!signatureValid(s)) why = `does not verify with its public key (key ${kid})`;
    else if (kid !== s.key_id) why = `names key ${s.key_id} but carries key ${kid}`;
    else if (!link || link.seq !== s.seq) why = `signs a head (link ${s.seq}, ${s.head.slice(0, 12)}…) that is not in the chain: the chain was rewritten after signing`;
    else if (trusted.length && !trusted.includes(kid)) why = `is by key ${kid}, not by ${trusted.length > 1 ? 'any of the keys' : 'the key'} given (${trusted.join(', ')})`;
    else if (!trusted.length && recorded.size && !recorded.has(kid)) why = `is by key ${kid}, which the run does not record`;
    if (why) {
      problems.push({ problem: 'signature', seq: s.seq, record: null, sample_id: null, epoch: null, scorer: null, detail: `the signature of link ${s.seq} ${why}` });
      continue;
    }
    keyIds.add(kid);
    if (signedThrough === null || s.seq > signedThrough) signedThrough = s.seq;
  }
  if (signedThrough === null || signedThrough < last.seq) {
    const from = signedThrough === null ? 0 : signedThrough + 1;
    const l = links.find((x) => x.seq === from) ?? last;
    problems.push({ problem: 'unsigned', seq: from, ...named(l), detail: signedThrough === null ? `no valid${trusted.length ? ', trusted' : ''} signature covers the chain (${links.length} links)` : `links ${from}–${last.seq} come after the last signature (link ${signedThrough})` });
  }

  problems.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity) || (a.problem === 'unsigned' ? 1 : 0) - (b.problem === 'unsigned' ? 1 : 0));
  const broken = problems.some((p) => p.problem !== 'unsigned');
  const status = broken ? 'broken' : problems.length ? 'unsigned' : 'verified';
  const first = problems.find((p) => p.problem !== 'unsigned') ?? problems[0] ?? null;
  if (adopted) caveats.push('the run was written before chaining: the records it held when its chain started were adopted into the chain then (right after link 0); tampering with them before then is not detectable');
  return { ...base, status, ok: status === 'verified', records, signed_through: signedThrough, key_ids: [...keyIds].sort(), problems, caveats, first };
}
