/**
 * Copying a whole pool between two addresses (SQLite ↔ PostgreSQL, either way, or SQLite → SQLite), and the digest
 * that proves nothing was lost: per table, the number of rows and a sha256 of their content, computed the same way
 * on both sides from the `Pool` interface's own readers in their canonical order.
 *
 * What is copied: runs (record, planned samples, attempts, every scorer's measurements, evidence-chain links and
 * signatures), images, imported sources with their samples and measurements (import times kept), tasks, models
 * (update times kept), eval sets, saved selections, private sets with their encrypted items, and exposures. Not
 * copied: leases (a lease is a live process's claim on a run, not data), and the internal write times of attempts.
 * Everything is streamed: runs, attempts and measurements page through the source and go into the destination in
 * batches, so a pool of any size is copied in bounded memory.
 */
import { createHash } from 'node:crypto';
import { InputError, RunError } from '../core/errors.ts';
import { canonicalJson } from './chain-records.ts';
import { openStore } from './open.ts';
import type { Attempt, Measurement } from '../core/schemas.ts';
import type { ChainLink, Pool, PoolMeasurement, PrivateExposure } from './types.ts';

/** The tables of a digest, in the order printed. */
export const DIGEST_TABLES = [
  'runs', 'planned_samples', 'attempts', 'measurements', 'chain_links', 'chain_signatures', 'images', 'sources', 'pool_samples', 'pool_measurements',
  'tasks', 'models', 'eval_sets', 'selections', 'private_sets', 'private_items', 'private_exposures',
] as const;
export type DigestTable = (typeof DIGEST_TABLES)[number];

/** Rows and content hash of one table: sha256 (hex) over each row's canonical JSON and a newline, in canonical order. */
export interface TableDigest {
  rows: number;
  sha256: string;
}

export type PoolDigest = Record<DigestTable, TableDigest>;

/**
 * The digest of a pool, read through its interface: runs by (created_at, id) and, per run, its plan by index, its
 * attempts and each scorer's measurements by (sample index, epoch) with scorers sorted, its chain by seq and its
 * signatures by (seq, key); images by sha256 (their bytes as a sha256 and a size); imported samples by key and
 * measurements by key; sources, tasks, models, eval sets, selections and private sets in their listing order; the
 * items of each private set by index; exposures by set, then in the order recorded. Rows are hashed as canonical
 * JSON (keys sorted: chain-records.ts). Errors: those of the pool's readers.
 */
export async function poolDigest(pool: Pool): Promise<PoolDigest> {
  const hashers = new Map<DigestTable, { n: number; h: ReturnType<typeof createHash> }>();
  for (const t of DIGEST_TABLES) hashers.set(t, { n: 0, h: createHash('sha256') });
  const add = (t: DigestTable, row: unknown) => {
    const x = hashers.get(t)!;
    x.n++;
    x.h.update(canonicalJson(row));
    x.h.update('\n');
  };
  for (const { id } of await pool.listRuns()) {
    add('runs', await pool.getRun(id));
    for await (const p of pool.iteratePlanned(id)) add('planned_samples', { run_id: id, ...p });
    for await (const a of pool.iterateAttempts(id)) add('attempts', a);
    for (const scorer of await pool.scorersOf(id)) for await (const m of pool.iterateMeasurements(id, scorer)) add('measurements', m);
    for await (const l of pool.iterateChain(id)) add('chain_links', l);
    for (const s of await pool.chainSignatures(id)) add('chain_signatures', s);
  }
  for await (const img of pool.iterateImages()) add('images', { sha256: img.sha256, mime_type: img.mime_type, size: img.bytes.length, bytes_sha256: createHash('sha256').update(img.bytes).digest('hex') });
  for (const s of await pool.sources()) add('sources', s);
  for await (const s of pool.iteratePoolSamples({ runs: false })) add('pool_samples', s);
  for await (const m of pool.iteratePoolMeasurements({ runs: false })) add('pool_measurements', m);
  for (const t of await pool.listTasks()) add('tasks', t);
  for (const m of await pool.listModels()) add('models', m);
  for (const e of await pool.listEvalSets()) add('eval_sets', e);
  for (const s of await pool.listSelections()) add('selections', s);
  for (const s of await pool.listPrivateSets()) {
    add('private_sets', s);
    for (const it of (await pool.getPrivateSet(s.name))?.items ?? []) add('private_items', it);
  }
  for await (const e of pool.iterateExposures()) add('private_exposures', e);
  const out = {} as PoolDigest;
  for (const [t, x] of hashers) out[t] = { rows: x.n, sha256: x.h.digest('hex') };
  return out;
}

/** What {@link copyPool} did: both addresses (no password), both digests, the tables that differ, and the time taken. */
export interface CopyReport {
  from: string;
  to: string;
  tables: { table: DigestTable; from: TableDigest; to: TableDigest; equal: boolean }[];
  /** Tables whose rows or hash differ (empty when the copy is whole). */
  mismatched: DigestTable[];
  seconds: number;
}

export interface CopyOptions {
  /** Rows per batch written (default 1000). */
  batch?: number;
  /** Told as each part is copied: the table and the rows copied so far. */
  progress?: (table: DigestTable, rows: number) => void;
  /** Check the copy (digests of both pools) and throw on a mismatch (default true). */
  verify?: boolean;
}

/** An address for messages: a url's password never appears. */
const shown = (u: string) => u.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:…@');

/**
 * Copy the pool at `from` into a new or empty pool at `to` (SQLite paths or urls, PostgreSQL urls; not `memory:`),
 * then compare the digests ({@link poolDigest}) of both. `from` is opened read-only; `to` is created if needed.
 * Copy a pool that no process is writing: rows written meanwhile may be missed and the check then fails.
 * Returns the report (with `mismatched` empty) when the copy is whole.
 * Errors: InputError for `memory:` on either side, the same address twice, a destination that already holds
 * anything, or an address that cannot be opened (openPool's errors); RunError when the digests differ (the copy is
 * left as it is, for inspection).
 */
export async function copyPool(from: string, to: string, opts: CopyOptions = {}): Promise<CopyReport> {
  const t0 = performance.now();
  for (const [u, side] of [[from, 'source'], [to, 'destination']] as const) {
    if (u.trim() === 'memory:') throw new InputError(`an in-memory pool cannot be copied (${side} memory:): copy between SQLite files and PostgreSQL databases`, { field: side });
  }
  if (from === to) throw new InputError('the source and destination are the same pool', { field: 'destination' });
  const batch = opts.batch ?? 1000;
  const src = await openStore(from, { readonly: true });
  let dst: Pool | null = null;
  try {
    dst = await openStore(to, { create: true });
    if (src.url === dst.url) throw new InputError('the source and destination are the same pool', { field: 'destination' });
    const held = await contents(dst);
    if (held) throw new InputError(`the destination pool is not empty (it holds ${held}); copy into a new file or an empty database`, { file: shown(dst.url) });
    await copyInto(src, dst, batch, opts.progress ?? (() => {}));
    await dst.flush();
    const report: CopyReport = { from: shown(src.url), to: shown(dst.url), tables: [], mismatched: [], seconds: 0 };
    if (opts.verify !== false) {
      const [a, b] = [await poolDigest(src), await poolDigest(dst)];
      for (const t of DIGEST_TABLES) {
        const equal = a[t].rows === b[t].rows && a[t].sha256 === b[t].sha256;
        report.tables.push({ table: t, from: a[t], to: b[t], equal });
        if (!equal) report.mismatched.push(t);
      }
    }
    report.seconds = (performance.now() - t0) / 1000;
    if (report.mismatched.length) {
      const err = new RunError(`the copy differs from ${report.from} in ${report.mismatched.map((t) => `${t} (${report.tables.find((x) => x.table === t)!.from.rows} rows → ${report.tables.find((x) => x.table === t)!.to.rows})`).join(', ')}; the copy at ${report.to} is left as it is`);
      (err as RunError & { report?: CopyReport }).report = report;
      throw err;
    }
    return report;
  } finally {
    await dst?.close();
    await src.close();
  }
}

/** What a pool holds, in words (`3 runs, 1 source`), or null when it holds nothing. */
async function contents(p: Pool): Promise<string | null> {
  const parts: [number, string][] = [
    [(await p.listRuns()).length, 'run'], [(await p.sources()).length, 'source'], [(await p.imageStats()).images, 'image'], [(await p.listTasks()).length, 'task'],
    [(await p.listModels()).length, 'model'], [(await p.listEvalSets()).length, 'eval set'], [(await p.listSelections()).length, 'selection'],
    [(await p.listPrivateSets()).length, 'private set'],
  ];
  for await (const _ of p.iteratePoolSamples({ runs: false })) {
    parts.push([1, 'imported sample (or more)']);
    break;
  }
  for await (const _ of p.iterateExposures()) {
    parts.push([1, 'exposure (or more)']);
    break;
  }
  const held = parts.filter(([n]) => n > 0).map(([n, w]) => `${n} ${w}${n > 1 ? 's' : ''}`);
  return held.length ? held.join(', ') : null;
}

async function copyInto(src: Pool, dst: Pool, batch: number, progress: (t: DigestTable, n: number) => void): Promise<void> {
  for (const t of await src.listTasks()) await dst.putTask(t);
  for (const m of await src.listModels()) await dst.putModel(m);
  for (const e of await src.listEvalSets()) await dst.ensureEvalSet(e);
  for (const s of await src.listSelections()) await dst.saveSelection(s);
  for (const s of await src.listPrivateSets()) {
    const got = await src.getPrivateSet(s.name);
    if (got) await dst.putPrivateSet(got.set, got.items);
  }
  let exposures: PrivateExposure[] = [];
  for await (const e of src.iterateExposures()) {
    exposures.push(e);
    if (exposures.length >= batch) {
      await dst.recordExposures(exposures);
      exposures = [];
    }
  }
  if (exposures.length) await dst.recordExposures(exposures);

  let images = 0;
  for await (const img of src.iterateImages()) {
    await dst.putImage(img);
    progress('images', ++images);
  }

  let attempts = 0, measurements = 0;
  for (const { id } of await src.listRuns()) {
    const run = (await src.getRun(id))!;
    await dst.ensureRun(run, src.iteratePlanned(id));
    // Measurements before attempts: an `attempt_error` measurement kept beside an ok attempt (another scorer's, from
    // before a retry) would be dropped if its attempt were already stored as ok.
    for (const scorer of await src.scorersOf(id)) {
      let rows: Measurement[] = [];
      for await (const { finish_reason: _f, attempt_status: _s, ...m } of src.iterateMeasurements(id, scorer)) {
        rows.push(m);
        if (rows.length >= batch) {
          await dst.writeMeasurements(rows);
          measurements += rows.length;
          progress('measurements', measurements);
          rows = [];
        }
      }
      if (rows.length) await dst.writeMeasurements(rows);
      measurements += rows.length;
    }
    await dst.flush();
    for await (const { measurement: _m, ...a } of src.iterateAttempts(id)) {
      await dst.write(a as Attempt, []);
      if (++attempts % batch === 0) progress('attempts', attempts);
    }
    let links: ChainLink[] = [];
    for await (const l of src.iterateChain(id)) {
      links.push(l);
      if (links.length >= batch) {
        await dst.appendChain(links);
        links = [];
      }
    }
    if (links.length) await dst.appendChain(links);
    await dst.flush();
    for (const s of await src.chainSignatures(id)) await dst.putChainSignature(s);
    progress('runs', attempts);
  }

  // Imported samples go in with the first source (samples belong to no source); without any source, in an import
  // made for them and then deleted (deleting a source keeps its samples).
  const sources = await src.sources();
  let samplesCopied = false;
  const addSamples = async (tx: Awaited<ReturnType<Pool['beginImport']>>) => {
    if (samplesCopied) return;
    samplesCopied = true;
    let n = 0;
    for await (const s of src.iteratePoolSamples({ runs: false })) {
      await tx.addSample(s);
      if (++n % batch === 0) progress('pool_samples', n);
    }
  };
  let copied = 0;
  for (const s of sources) {
    const tx = await dst.beginImport({ format: s.format, file: s.file, sha256: s.file_sha256, options: s.options });
    try {
      await addSamples(tx);
      for await (const { source: _s, ...m } of src.iteratePoolMeasurements({ sources: [s.id], runs: false })) {
        await tx.addMeasurement(m as Omit<PoolMeasurement, 'source'>);
        if (++copied % (batch * 10) === 0) progress('pool_measurements', copied);
      }
      await tx.commit({ measurements: s.measurements, samples: s.samples, imported_at: s.imported_at });
    } catch (err) {
      await tx.rollback();
      throw err;
    }
  }
  if (!samplesCopied) {
    let any = false;
    for await (const _ of src.iteratePoolSamples({ runs: false })) {
      any = true;
      break;
    }
    if (any) {
      const tx = await dst.beginImport({ format: 'assay-pool-copy', file: '(samples of a copied pool)', sha256: '0'.repeat(64) });
      try {
        await addSamples(tx);
        const rec = await tx.commit({ measurements: 0, samples: 0 });
        await dst.deleteSource(rec.id);
      } catch (err) {
        await tx.rollback();
        throw err;
      }
    }
  }
}
