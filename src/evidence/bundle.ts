/**
 * Evidence of a run from the pool, and as a file a third party verifies without the pool.
 *
 * The evidence file (`assay export <run> --format evidence`) is JSON Lines:
 * 1. a header `{"assay_evidence": 1, "run_id", "status", "spec", "manifest", "signatures": [...]}`;
 * 2. the chain, one `{"link": {seq, kind, sample_id, epoch, scorer, status, record_hash, chain}}` per line, by seq;
 * 3. the records the pool holds, one `{"record": {...}}` per line (attempts by sample order and epoch, then each
 *    scorer's measurements): their canonical form (src/store/chain-records.ts).
 * Links carry the chain's order, so the order of record lines carries no meaning; a link or record line dropped,
 * changed or moved, and a header edited (the spec is link 0's record), is found by `verifyEvidenceFile`.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { InputError } from '../core/errors.ts';
import type { RunRecord, RunSpec } from '../core/schemas.ts';
import type { ChainLink, ChainSignature, Pool } from '../store/types.ts';
import type { ChainRecord } from '../store/chain-records.ts';
import { heldRecords as poolRecords } from '../store/chained.ts';
import { verifyEvidence, type EvidenceReport } from './verify.ts';

/** Options of a verification. */
export interface VerifyOptions {
  /** Public keys to require (SPKI DER base64, see keys.ts `loadPublicKey`); default: trust the keys the run records. */
  trustedKeys?: string[];
}

const recordedKeys = (run: Pick<RunRecord, 'manifest'>) => (run.manifest.signing_keys ?? []).map((k) => k.key_id);

/**
 * Verify run `runRef` (an id or unique prefix) in `pool`: its chain, its records as the pool holds them now, its
 * signatures. Errors: InputError for an unknown run. Tampering is never an error: see the report's `problems`.
 */
export async function verifyRun(pool: Pool, runRef: string, opts: VerifyOptions = {}): Promise<EvidenceReport> {
  const runId = await pool.resolveRunId(runRef);
  const run = (await pool.getRun(runId))!;
  return verifyEvidence({
    runId, spec: run.spec, links: pool.iterateChain(runId), records: poolRecords(pool, runId), signatures: await pool.chainSignatures(runId),
    trustedKeys: opts.trustedKeys, recordedKeys: recordedKeys(run),
  });
}

/**
 * Write run `runId`'s evidence file (see the module comment) to `out`, honouring back-pressure; `out` is not ended.
 * Returns the numbers of links and records written. Errors: InputError for an unknown run.
 */
export async function exportEvidence(pool: Pool, runId: string, out: Writable): Promise<{ links: number; records: number }> {
  await pool.flush();
  const run = await pool.getRun(runId);
  if (!run) throw new InputError(`no run with id "${runId}" in the pool (see \`assay runs\`)`);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((res, rej) => {
    const onError = (e: Error) => rej(e);
    out.once('error', onError);
    out.once('drain', () => (out.off('error', onError), res()));
  }));
  const signatures = await pool.chainSignatures(runId);
  await write(JSON.stringify({ assay_evidence: 1, run_id: run.id, status: run.status, spec: run.spec, manifest: run.manifest, signatures }) + '\n');
  let links = 0, records = 0;
  for await (const l of pool.iterateChain(runId)) {
    const { run_id: _r, ...link } = l;
    await write(JSON.stringify({ link }) + '\n');
    links++;
  }
  for await (const r of poolRecords(pool, runId)) {
    await write(JSON.stringify({ record: r }) + '\n');
    records++;
  }
  return { links, records };
}

/**
 * Verify an evidence file (see the module comment) without any pool. Lines that are not JSON, or not a header, link
 * or record, are problems named by line. Errors: InputError when the file cannot be read or its first line is not an
 * evidence header.
 */
export async function verifyEvidenceFile(file: string, opts: VerifyOptions = {}): Promise<EvidenceReport & { file: string }> {
  const stream = createReadStream(file, 'utf8');
  const open = new Promise<void>((res, rej) => {
    stream.once('open', () => res());
    stream.once('error', (e) => rej(new InputError(`cannot read the evidence file: ${e.message}`, { file })));
  });
  await open;
  const lines = createInterface({ input: stream, crlfDelay: Infinity })[Symbol.asyncIterator]();
  const first = await lines.next();
  let header: { assay_evidence?: unknown; run_id?: unknown; spec?: RunSpec; manifest?: RunRecord['manifest']; signatures?: ChainSignature[] };
  try {
    header = first.done ? {} : JSON.parse(first.value);
  } catch {
    header = {};
  }
  if (header.assay_evidence !== 1 || typeof header.run_id !== 'string' || !header.spec) {
    stream.destroy();
    throw new InputError('is not an Assay evidence file (its first line is not an evidence header; write one with `assay export <run> --format evidence`)', { file, line: 1 });
  }
  const runId = header.run_id;
  const links: ChainLink[] = [];
  const bad: { line: number; why: string }[] = [];
  let lineNo = 1;
  // Links come before records: read them all, then stream the records into the verification.
  let pendingRecord: ChainRecord | null = null;
  for (;;) {
    const n = await lines.next();
    if (n.done) break;
    lineNo++;
    if (!n.value.trim()) continue;
    let row: { link?: Omit<ChainLink, 'run_id'>; record?: ChainRecord };
    try {
      row = JSON.parse(n.value);
    } catch {
      bad.push({ line: lineNo, why: 'is not valid JSON' });
      continue;
    }
    if (row.link) links.push({ run_id: runId, ...row.link });
    else if (row.record) {
      pendingRecord = row.record;
      break;
    } else bad.push({ line: lineNo, why: 'is neither a link nor a record' });
  }
  async function* records(): AsyncIterable<ChainRecord> {
    if (pendingRecord) yield pendingRecord;
    for (;;) {
      const n = await lines.next();
      if (n.done) return;
      lineNo++;
      if (!n.value.trim()) continue;
      let row: { link?: unknown; record?: ChainRecord };
      try {
        row = JSON.parse(n.value);
      } catch {
        bad.push({ line: lineNo, why: 'is not valid JSON' });
        continue;
      }
      if (row.record && typeof row.record === 'object') yield row.record;
      else bad.push({ line: lineNo, why: row.link ? 'is a link among the records (links come first)' : 'is neither a link nor a record' });
    }
  }
  const report = await verifyEvidence({
    runId, spec: header.spec, links, records: records(), signatures: header.signatures ?? [], trustedKeys: opts.trustedKeys,
    recordedKeys: (header.manifest?.signing_keys ?? []).map((k) => k.key_id),
  });
  for (const b of bad) report.problems.push({ problem: 'changed', seq: null, record: null, sample_id: null, epoch: null, scorer: null, detail: `line ${b.line} ${b.why}` });
  if (bad.length && report.status !== 'broken') {
    report.status = 'broken';
    report.ok = false;
    report.first = report.problems.find((p) => p.problem !== 'unsigned') ?? null;
  }
  return { ...report, file };
}
