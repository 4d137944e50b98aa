/**
 * The evidence-chain layer: any pool, with every attempt and measurement written through it hashed into its run's
 * chain (src/store/chain-records.ts) in write order, the links stored with the rows in one transaction (`write`'s
 * `chain` argument). `openPool` puts it over every pool it opens, so a new implementation gets it by implementing the
 * five chain methods of the interface. The chain of a run starts with link 0 (the run's id and spec) when the run is
 * created, or when a run made before chaining is first written to again; a resumed run extends its chain, by the
 * rule it was started with (chain-records.ts). A run made before chaining that already holds records has them adopted
 * when its chain starts: link 0 (its run record marked `adopted`) is followed by a link for every record it holds.
 *
 * Cost per record: its canonical JSON and two sha256 of a few hundred bytes; the layer keeps one head (seq, hash)
 * per run written to, read again from the store whenever this process takes the run's lease (another process may have
 * written meanwhile). One process writes a run at a time (the lease): two writers at once would fork the chain, which
 * `assay verify` then reports.
 */
import { attemptRecord, CHAIN_RULE, CHAIN_START, chainRuleOf, linkOf, measurementRecord, runRecord, type ChainRecord, type ChainRule } from './chain-records.ts';
import type { Attempt, Measurement, PlannedSample, RunRecord } from '../core/schemas.ts';
import type { ChainLink, Pool } from './types.ts';

interface Head {
  seq: number;
  chain: string;
  rule: ChainRule;
}

/** Links appended at once while adopting a run's records. */
const ADOPT_BATCH = 1000;

/**
 * The records `pool` holds for run `runId`, streamed: attempts (sample order, epoch), then each scorer's
 * measurements, in their chain form. Errors: those of `pool`.
 */
export async function* heldRecords(pool: Pool, runId: string): AsyncIterable<ChainRecord> {
  for await (const a of pool.iterateAttempts(runId)) {
    const { measurement: _m, ...attempt } = a;
    yield attemptRecord(attempt);
  }
  for (const scorer of await pool.scorersOf(runId)) for await (const m of pool.iterateMeasurements(runId, scorer)) yield measurementRecord(m);
}

/** The rule of a stored chain, from its first two links (the rule of new chains when they do not tell). */
async function storedRule(pool: Pool, runId: string): Promise<ChainRule> {
  const first: ChainLink[] = [];
  for await (const l of pool.iterateChain(runId)) if (first.push(l) >= 2) break;
  return chainRuleOf(first) ?? CHAIN_RULE;
}

/**
 * Start the chain of run `run` (which has none): link 0, then, when the run already holds records (written before
 * chaining), one link for each, in one streamed pass. Returns the head.
 */
async function startChain(pool: Pool, run: RunRecord): Promise<Head> {
  const held = heldRecords(pool, run.id)[Symbol.asyncIterator]();
  let next = await held.next();
  const link0 = linkOf(runRecord(run.id, run.spec, !next.done), 0, CHAIN_START);
  const head: Head = { seq: 0, chain: link0.chain, rule: CHAIN_RULE };
  let batch: ChainLink[] = [link0];
  for (; !next.done; next = await held.next()) {
    const l = linkOf(next.value, head.seq + 1, head.chain, head.rule);
    head.seq = l.seq;
    head.chain = l.chain;
    batch.push(l);
    if (batch.length >= ADOPT_BATCH) {
      await pool.appendChain(batch);
      batch = [];
    }
  }
  if (batch.length) await pool.appendChain(batch);
  return head;
}

/** Whether `pool` is already chained (the layer is never stacked twice). */
const CHAINED = Symbol('assay.chained');

/**
 * `pool` with its writes chained. Returns `pool` itself when it is already chained. Reads, and everything else, go
 * straight to `pool`. Errors: those of `pool`.
 */
export function withEvidenceChain(pool: Pool): Pool {
  if ((pool as unknown as Record<symbol, unknown>)[CHAINED]) return pool;
  /** Each run's head once known; a promise while it is being read (writes wait for it, in order). */
  const heads = new Map<string, Head | null | Promise<Head | null>>();

  const loadHead = (runId: string): Head | null | Promise<Head | null> => {
    const known = heads.get(runId);
    if (known !== undefined) return known;
    const p = (async (): Promise<Head | null> => {
      const last = await pool.chainHead(runId);
      if (last) return { seq: last.seq, chain: last.chain, rule: await storedRule(pool, runId) };
      const run = await pool.getRun(runId);
      if (!run) return null;
      return startChain(pool, run);
    })();
    heads.set(runId, p);
    // Registered first, so it runs before any write waiting on `p`: later writes find the head at once.
    p.then((h) => heads.set(runId, h), () => heads.delete(runId));
    return p;
  };

  /** Links of `records` (in order), advancing the heads; null heads (unknown runs) give no link. */
  const linksOf = (records: ChainRecord[], loaded: Map<string, Head | null>): ChainLink[] => {
    const out: ChainLink[] = [];
    for (const r of records) {
      const h = loaded.get(r.run_id);
      if (!h) continue;
      const l = linkOf(r, h.seq + 1, h.chain, h.rule);
      h.seq = l.seq;
      h.chain = l.chain;
      out.push(l);
    }
    return out;
  };

  /** The heads of the runs of `records`: synchronously when all are known, else a promise. */
  const headsOf = (records: ChainRecord[]): Map<string, Head | null> | Promise<Map<string, Head | null>> => {
    const out = new Map<string, Head | null>();
    const pending: Promise<void>[] = [];
    for (const r of records) {
      if (out.has(r.run_id)) continue;
      const h = loadHead(r.run_id);
      if (h instanceof Promise) {
        out.set(r.run_id, null);
        pending.push(h.then((v) => void out.set(r.run_id, v)));
      } else out.set(r.run_id, h);
    }
    return pending.length ? Promise.all(pending).then(() => out) : out;
  };

  const chainedWrite = (records: ChainRecord[], store: (links: ChainLink[]) => Promise<void>): Promise<void> => {
    const h = headsOf(records);
    // The common case (the head is known) stays synchronous up to the store's own queue: write order is chain order.
    if (!(h instanceof Promise)) return store(linksOf(records, h));
    return h.then((loaded) => store(linksOf(records, loaded)));
  };

  const overrides: Partial<Pool> & Record<symbol, unknown> = {
    [CHAINED]: true,
    async ensureRun(run: RunRecord, planned: Iterable<PlannedSample> | AsyncIterable<PlannedSample>): Promise<void> {
      await pool.ensureRun(run, planned);
      const h = loadHead(run.id);
      if (h instanceof Promise) await h;
    },
    write(attempt: Attempt, measurements: Measurement[], chain?: ChainLink[]): Promise<void> {
      if (chain) return pool.write(attempt, measurements, chain);
      return chainedWrite([attemptRecord(attempt), ...measurements.map(measurementRecord)], (links) => pool.write(attempt, measurements, links));
    },
    // Taking a run's lease is when this process becomes its writer: another process may have extended the chain
    // while this one waited, so the head is read again (from the store, which flushes what is queued first).
    async acquireLease(...args: Parameters<Pool['acquireLease']>): ReturnType<Pool['acquireLease']> {
      const r = await pool.acquireLease(...args);
      if (r.acquired && !(heads.get(args[0]) instanceof Promise)) heads.delete(args[0]);
      return r;
    },
    writeMeasurements(measurements: Measurement[], chain?: ChainLink[]): Promise<void> {
      if (chain || !measurements.length) return pool.writeMeasurements(measurements, chain);
      return chainedWrite(measurements.map(measurementRecord), (links) => pool.writeMeasurements(measurements, links));
    },
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(pool, {
    get(target, prop) {
      if (prop in overrides) return overrides[prop as keyof typeof overrides];
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      let f = bound.get(prop);
      if (!f) bound.set(prop, (f = (v as (...a: unknown[]) => unknown).bind(target)));
      return f;
    },
  });
}
