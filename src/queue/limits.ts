/**
 * Per-endpoint limits shared by every worker, kept in PostgreSQL so that N workers on any number of machines together
 * never exceed them (an endpoint is a provider's base URL, else its address):
 *
 * - **Concurrency** (`max_concurrency`): a table of `max_concurrency` slot rows per endpoint. A request holds one slot
 *   for as long as it is in flight: taken with `UPDATE … FOR UPDATE SKIP LOCKED` (no two holders), given back when the
 *   request ends with a `NOTIFY` that wakes the waiting workers (they also poll, in case a notification is missed).
 *   A slot is a lease: its holder renews it every ttl/3; the slot of a worker that died lapses after the ttl.
 * - **Rate** (`rpm`, requests per minute): the generic cell rate algorithm with no burst (GCRA; ATM Forum Traffic
 *   Management 4.0, 1996, as the "virtual scheduling" form of the leaky bucket): one row per endpoint holds the
 *   theoretical arrival time `tat`; a request reserves the start `max(tat, now)` and moves `tat` to that start plus
 *   T = 60/rpm s, in one atomic UPDATE, then sleeps until its start. Starts are thus at least T apart, so no window of
 *   60 s holds more than `rpm` starts (whatever the number of workers), measured on the server's clock alone.
 *
 * A request first takes a slot, then reserves its start: a request that waits for its start holds its slot, so
 * starts, not reservations, are what the rate spaces out.
 */
import pg from 'pg';
import { InputError } from '../core/errors.ts';
import { MAX_CONCURRENCY } from '../core/limits.ts';
import { sleep } from '../runner/retry.ts';
import type { QueueConnection } from './connection.ts';

/** The limits of one endpoint (null: none). */
export interface EndpointLimit {
  endpoint: string;
  /** Most requests in flight over all workers. */
  max_concurrency: number | null;
  /** Most request starts per minute over all workers (spaced evenly: one per 60/rpm s). */
  rpm: number | null;
}

/** Most requests per minute that can be set (one start every 60 µs). */
export const MAX_RPM = 1_000_000;

/** The PostgreSQL notification channel on which freed slots are announced (payload: the endpoint). */
const CHANNEL = 'assay_endpoint_slots';

/**
 * Set (or, with null, remove) an endpoint's limits; a field left undefined keeps its value. Takes effect for every
 * worker within its refresh interval (2 s). Returns the limits now in force.
 * Errors: InputError for a `maxConcurrency` that is not an integer from 1 to MAX_CONCURRENCY, an `rpm` that is not a
 * number in (0, MAX_RPM], or an empty endpoint.
 */
export async function setEndpointLimit(q: QueueConnection, endpoint: string, limit: { maxConcurrency?: number | null; rpm?: number | null }): Promise<EndpointLimit> {
  if (!endpoint) throw new InputError('an endpoint limit needs an endpoint (a base URL or a model address)', { field: 'endpoint' });
  const mc = limit.maxConcurrency;
  if (mc != null && (!Number.isInteger(mc) || mc < 1 || mc > MAX_CONCURRENCY)) throw new InputError(`--max-concurrency-per-endpoint must be an integer from 1 to ${MAX_CONCURRENCY}, got ${mc}`, { field: 'max-concurrency-per-endpoint' });
  const rpm = limit.rpm;
  if (rpm != null && !(Number.isFinite(rpm) && rpm > 0 && rpm <= MAX_RPM)) throw new InputError(`--rpm must be a number in (0, ${MAX_RPM}], got ${rpm}`, { field: 'rpm' });
  const c = await q.pg.connect();
  try {
    await c.query('BEGIN');
    const cur = await c.query<{ max_concurrency: number | null; rpm: number | null }>(`SELECT max_concurrency, rpm FROM assay_queue.endpoint_limits WHERE endpoint = $1 FOR UPDATE`, [endpoint]);
    const next = {
      max_concurrency: mc !== undefined ? mc : (cur.rows[0]?.max_concurrency ?? null),
      rpm: rpm !== undefined ? rpm : (cur.rows[0]?.rpm ?? null),
    };
    if (next.max_concurrency == null && next.rpm == null) await c.query(`DELETE FROM assay_queue.endpoint_limits WHERE endpoint = $1`, [endpoint]);
    else {
      await c.query(
        `INSERT INTO assay_queue.endpoint_limits (endpoint, max_concurrency, rpm) VALUES ($1, $2, $3)
         ON CONFLICT (endpoint) DO UPDATE SET max_concurrency = EXCLUDED.max_concurrency, rpm = EXCLUDED.rpm, updated_at = now()`,
        [endpoint, next.max_concurrency, next.rpm],
      );
    }
    // One row per slot: 0 … max_concurrency − 1 (slots beyond a lowered limit go, held or not: their holders' releases become no-ops).
    if (next.max_concurrency == null) await c.query(`DELETE FROM assay_queue.endpoint_slots WHERE endpoint = $1`, [endpoint]);
    else {
      await c.query(`INSERT INTO assay_queue.endpoint_slots (endpoint, slot) SELECT $1, generate_series(0, $2::int - 1) ON CONFLICT DO NOTHING`, [endpoint, next.max_concurrency]);
      await c.query(`DELETE FROM assay_queue.endpoint_slots WHERE endpoint = $1 AND slot >= $2`, [endpoint, next.max_concurrency]);
    }
    await c.query(`SELECT pg_notify($1, $2)`, [CHANNEL, endpoint]);
    await c.query('COMMIT');
    return { endpoint, ...next };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

/** Every endpoint's limits with the slots held now (by live or lapsed holders: `held` counts unexpired ones), by endpoint. */
export async function endpointLimits(q: QueueConnection): Promise<(EndpointLimit & { held: number })[]> {
  const r = await q.query<EndpointLimit & { held: string }>(
    `SELECT l.endpoint, l.max_concurrency, l.rpm,
            (SELECT count(*) FROM assay_queue.endpoint_slots s WHERE s.endpoint = l.endpoint AND s.holder IS NOT NULL AND s.expires_at > clock_timestamp()) AS held
     FROM assay_queue.endpoint_limits l ORDER BY l.endpoint`,
  );
  return r.rows.map((x) => ({ endpoint: x.endpoint, max_concurrency: x.max_concurrency, rpm: x.rpm, held: Number(x.held) }));
}

/** Options of {@link SharedLimits}. */
export interface SharedLimitsOptions {
  /** A held slot lapses this long after its holder's last renewal (default 30 s; renewed every third of it). */
  slotTtlMs?: number;
  /** How often an endpoint's limits are read again (default 2 s). */
  refreshMs?: number;
  /** How often waiters ask again when no notification came (default 250 ms, jittered ±50%). */
  pollMs?: number;
  /** Told of errors talking to PostgreSQL (waiters keep waiting and asking). */
  onError?: (err: Error) => void;
}

interface Waiter {
  resolve: (slot: number | null) => void;
  stop: AbortSignal;
  onAbort: () => void;
}

interface EndpointState {
  waiters: Waiter[];
  pumping: boolean;
  /** Ends the pump's wait (a notification came, a waiter arrived). */
  wake: (() => void) | null;
  /** Something happened while the pump was asking: ask again at once. */
  kicked: boolean;
}

/** No slot needed (the endpoint has no concurrency limit any more). */
const NO_SLOT = -1;
const noop = () => {};

/**
 * One worker's side of the shared limits: `admitFor(endpoint)` gives the `RetryPolicy.admit` hook of that endpoint's
 * requests. Holder id `holder` names this worker's slots. `start()` before use, `close()` after (gives every held slot
 * back). Never throws from `admit`: when PostgreSQL cannot be reached, requests wait and it asks again.
 */
export class SharedLimits {
  private readonly slotTtlMs: number;
  private readonly refreshMs: number;
  private readonly pollMs: number;
  private readonly limits = new Map<string, { limit: EndpointLimit | null; at: number; pending: Promise<EndpointLimit | null> | null }>();
  private readonly states = new Map<string, EndpointState>();
  /** Slots held now, as `endpoint\u0000slot`. */
  private readonly held = new Set<string>();
  private listener: pg.Client | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly q: QueueConnection,
    readonly holder: string,
    private readonly o: SharedLimitsOptions = {},
  ) {
    this.slotTtlMs = o.slotTtlMs ?? 30_000;
    this.refreshMs = o.refreshMs ?? 2000;
    this.pollMs = o.pollMs ?? 250;
  }

  /** Listen for freed slots and start renewing held ones. Errors: none (without notifications, waiters poll). */
  async start(): Promise<void> {
    try {
      const client = new pg.Client({ connectionString: this.q.url, application_name: 'assay-limits' });
      client.on('error', (err) => {
        this.o.onError?.(err);
        this.listener = null;
      });
      await client.connect();
      client.on('notification', (msg) => {
        if (msg.channel === CHANNEL && msg.payload) this.kick(this.states.get(msg.payload));
      });
      await client.query(`LISTEN ${CHANNEL}`);
      this.listener = client;
    } catch (err) {
      this.o.onError?.(err as Error);
    }
    this.heartbeat = setInterval(() => {
      if (!this.held.size) return;
      this.q.query(`UPDATE assay_queue.endpoint_slots SET expires_at = clock_timestamp() + $2 * interval '1 millisecond' WHERE holder = $1`, [this.holder, this.slotTtlMs])
        .catch((err) => this.o.onError?.(err as Error));
    }, Math.max(100, Math.floor(this.slotTtlMs / 3)));
    this.heartbeat.unref();
  }

  /** The admission hook of requests to `endpoint` (see `RetryPolicy.admit`). */
  admitFor(endpoint: string): (stop: AbortSignal) => Promise<(() => void) | null> {
    return async (stop) => {
      const limit = await this.limitOf(endpoint);
      if (!limit || (limit.max_concurrency == null && limit.rpm == null)) return noop;
      let release = noop;
      if (limit.max_concurrency != null) {
        const slot = await this.takeSlot(endpoint, stop);
        if (slot === null) return null;
        if (slot !== NO_SLOT) {
          let given = false;
          release = () => {
            if (given) return;
            given = true;
            this.releaseSlot(endpoint, slot);
          };
        }
      }
      if (limit.rpm != null) {
        const wait = await this.reserveStart(endpoint, limit.rpm);
        if (wait > 0) await sleep(wait, stop);
        if (stop.aborted) {
          release();
          return null;
        }
      }
      return release;
    };
  }

  /** Give back every slot and stop. Waiters get null (their requests end as stopped). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const st of this.states.values()) for (const w of st.waiters.splice(0)) {
      w.stop.removeEventListener('abort', w.onAbort);
      w.resolve(null);
    }
    if (this.held.size) {
      await this.q.query(
        `WITH r AS (UPDATE assay_queue.endpoint_slots SET holder = NULL, expires_at = NULL WHERE holder = $1 RETURNING endpoint)
         SELECT pg_notify($2, endpoint) FROM (SELECT DISTINCT endpoint FROM r) e`,
        [this.holder, CHANNEL],
      ).catch(() => {});
      this.held.clear();
    }
    await this.listener?.end().catch(() => {});
    this.listener = null;
  }

  /** The endpoint's limits, read again when older than `refreshMs`; the last known ones when PostgreSQL fails. */
  private async limitOf(endpoint: string): Promise<EndpointLimit | null> {
    let e = this.limits.get(endpoint);
    if (e && Date.now() - e.at < this.refreshMs) return e.limit;
    if (e?.pending) return e.pending;
    const entry = e ?? { limit: null, at: 0, pending: null };
    this.limits.set(endpoint, entry);
    entry.pending = this.q
      .query<{ max_concurrency: number | null; rpm: number | null }>(`SELECT max_concurrency, rpm FROM assay_queue.endpoint_limits WHERE endpoint = $1`, [endpoint])
      .then(
        (r) => {
          entry.limit = r.rows[0] ? { endpoint, max_concurrency: r.rows[0].max_concurrency, rpm: r.rows[0].rpm } : null;
          entry.at = Date.now();
          return entry.limit;
        },
        (err) => {
          this.o.onError?.(err as Error);
          return entry.limit;
        },
      )
      .finally(() => {
        entry.pending = null;
      });
    return entry.pending;
  }

  private stateOf(endpoint: string): EndpointState {
    let st = this.states.get(endpoint);
    if (!st) this.states.set(endpoint, (st = { waiters: [], pumping: false, wake: null, kicked: false }));
    return st;
  }

  private kick(st: EndpointState | undefined): void {
    if (!st) return;
    st.kicked = true;
    st.wake?.();
  }

  /** Wait for a slot of `endpoint`: its number, NO_SLOT when the endpoint no longer has a concurrency limit, or null when `stop` aborted. */
  private takeSlot(endpoint: string, stop: AbortSignal): Promise<number | null> {
    if (stop.aborted || this.closed) return Promise.resolve(null);
    const st = this.stateOf(endpoint);
    return new Promise<number | null>((resolve) => {
      const w: Waiter = {
        resolve,
        stop,
        onAbort: () => {
          const i = st.waiters.indexOf(w);
          if (i >= 0) st.waiters.splice(i, 1);
          resolve(null);
        },
      };
      stop.addEventListener('abort', w.onAbort, { once: true });
      st.waiters.push(w);
      if (st.pumping) this.kick(st);
      else void this.pump(endpoint, st);
    });
  }

  /** Hand free slots to this worker's waiters, in arrival order, until none waits; between tries, wait for a notification or the poll. */
  private async pump(endpoint: string, st: EndpointState): Promise<void> {
    if (st.pumping) return;
    st.pumping = true;
    try {
      while (st.waiters.length && !this.closed) {
        st.kicked = false;
        const limit = await this.limitOf(endpoint);
        if (!limit || limit.max_concurrency == null) {
          for (const w of st.waiters.splice(0)) {
            w.stop.removeEventListener('abort', w.onAbort);
            w.resolve(NO_SLOT);
          }
          break;
        }
        let slots: number[] = [];
        try {
          const r = await this.q.query<{ slot: number }>(
            `WITH free AS (
               SELECT slot FROM assay_queue.endpoint_slots
               WHERE endpoint = $1 AND (holder IS NULL OR expires_at < clock_timestamp())
               ORDER BY slot LIMIT $2 FOR UPDATE SKIP LOCKED)
             UPDATE assay_queue.endpoint_slots s SET holder = $3, expires_at = clock_timestamp() + $4 * interval '1 millisecond'
             FROM free WHERE s.endpoint = $1 AND s.slot = free.slot RETURNING s.slot`,
            [endpoint, st.waiters.length, this.holder, this.slotTtlMs],
          );
          slots = r.rows.map((x) => x.slot);
        } catch (err) {
          this.o.onError?.(err as Error);
        }
        for (const slot of slots) {
          this.held.add(`${endpoint}\u0000${slot}`);
          const w = st.waiters.shift();
          if (!w) {
            // Its waiter stopped while the slot was being taken.
            this.releaseSlot(endpoint, slot);
            continue;
          }
          w.stop.removeEventListener('abort', w.onAbort);
          w.resolve(slot);
        }
        if (!st.waiters.length || this.closed) break;
        if (st.kicked) continue;
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, this.pollMs * (0.5 + Math.random()));
          function done() {
            clearTimeout(t);
            resolve();
          }
          st.wake = done;
        });
        st.wake = null;
      }
    } finally {
      st.pumping = false;
    }
  }

  /** Give a slot back and announce it (fire and forget: a lost release lapses with the slot's ttl). */
  private releaseSlot(endpoint: string, slot: number): void {
    this.held.delete(`${endpoint}\u0000${slot}`);
    this.q
      .query(
        `WITH r AS (UPDATE assay_queue.endpoint_slots SET holder = NULL, expires_at = NULL WHERE endpoint = $1 AND slot = $2 AND holder = $3 RETURNING endpoint)
         SELECT pg_notify($4, endpoint) FROM r`,
        [endpoint, slot, this.holder, CHANNEL],
      )
      .catch((err) => this.o.onError?.(err as Error));
  }

  /**
   * Reserve the next start of `endpoint` under its rate (GCRA, see the module comment): milliseconds to wait before
   * starting. When PostgreSQL cannot be asked, one interval (60/rpm s) — never a burst.
   */
  private async reserveStart(endpoint: string, rpm: number): Promise<number> {
    try {
      const r = await this.q.query<{ wait_ms: number | null }>(
        `UPDATE assay_queue.endpoint_limits
         SET tat = GREATEST(COALESCE(tat, clock_timestamp()), clock_timestamp()) + (60000.0 / rpm) * interval '1 millisecond'
         WHERE endpoint = $1 AND rpm IS NOT NULL
         RETURNING GREATEST(0, EXTRACT(EPOCH FROM (tat - (60000.0 / rpm) * interval '1 millisecond' - clock_timestamp())) * 1000)::float8 AS wait_ms`,
        [endpoint],
      );
      return r.rows[0]?.wait_ms ?? 0;
    } catch (err) {
      this.o.onError?.(err as Error);
      return 60_000 / rpm;
    }
  }
}
