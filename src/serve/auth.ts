/**
 * Access control of the viewer (`assay serve`): API tokens with roles, stored as sha256 hashes only; the audit log of
 * writes; a token-bucket rate limit per token or address.
 *
 * - A token is `assay_<id>_<secret>`: `id` 12 hex digits (public: it names the token in lists, logs and the audit
 *   log), `secret` 32 random bytes in base64url. Only sha256(token) is stored, never the token: it is shown once,
 *   when created. Verification hashes what is presented and compares with `timingSafeEqual`.
 * - Roles are ordered: `read` < `write` < `admin`. `read` sees runs, scores and transcripts (never the content of
 *   private held-out items); `write` may also add notes to samples; `admin` also manages tokens, reads the audit log and
 *   sees private sets' records.
 * - The token file (`tokens.json`, mode 0600, in the viewer's state directory beside the pool) is read again when it
 *   changes on disk (checked at most once a second), so tokens created or revoked with the CLI or by another worker
 *   process take effect in a running server within a second; changes are made under a lock file, so concurrent ones
 *   from several processes are all kept.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors.ts';

/** Roles in increasing order of power. */
export const ROLES = ['read', 'write', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `have` includes what `need` allows. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** A token as stored: never the token itself, only its sha256 (hex). Times are ISO 8601. */
export interface TokenRecord {
  /** 12 hex digits, public (part of the token). */
  id: string;
  /** A label given at creation (who or what uses it). */
  name: string;
  role: Role;
  /** sha256 (hex) of the whole token string. */
  sha256: string;
  created_at: string;
  /** Who created it: `cli` or `token:<id>`. */
  created_by: string;
  revoked_at: string | null;
}

/** Where tokens are kept. Implementations: {@link FileTokenStore}, {@link MemoryTokenStore}. */
export interface TokenStore {
  /** Every token, oldest first (revoked ones included). */
  list(): TokenRecord[];
  /** Make a token of `role` named `name`; returns the token (shown once) and its record. Errors: InputError for a bad name or role. */
  create(o: { name: string; role: Role; by: string }): { token: string; record: TokenRecord };
  /** Revoke token `id`; false when there is no such active token. */
  revoke(id: string, by: string): boolean;
  /** The active token presented, or null (unknown, forged, malformed or revoked). */
  verify(token: string): TokenRecord | null;
  /** Whether any token is active (the server then requires one, even on loopback). */
  hasActive(): boolean;
}

const TOKEN_RE = /^assay_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** A token id as it appears in URLs and on the command line. */
export const TOKEN_ID_RE = /^[0-9a-f]{12}$/;
const NAME_RE = /^[\p{L}\p{N} ._@:+-]{1,64}$/u;

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** Check a token's name and role. Errors: InputError naming the field. */
function checkNew(o: { name: string; role: string }): void {
  if (!NAME_RE.test(o.name)) throw new InputError(`a token name is 1–64 letters, digits, spaces or . _ @ : + -, got ${JSON.stringify(o.name.slice(0, 80))}`, { field: 'name' });
  if (!(ROLES as readonly string[]).includes(o.role)) throw new InputError(`a token role is one of ${ROLES.join(', ')}, got ${JSON.stringify(o.role)}`, { field: 'role' });
}

/** Tokens in memory (tests, and library users who make their own). */
export class MemoryTokenStore implements TokenStore {
  protected records: TokenRecord[] = [];
  protected byId = new Map<string, TokenRecord>();

  constructor(records: TokenRecord[] = []) {
    this.load(records);
  }

  protected load(records: TokenRecord[]): void {
    this.records = records;
    this.byId = new Map(records.map((r) => [r.id, r]));
  }

  protected save(): void {}

  list(): TokenRecord[] {
    return this.records.map((r) => ({ ...r }));
  }

  create(o: { name: string; role: Role; by: string }): { token: string; record: TokenRecord } {
    checkNew(o);
    let id: string;
    do id = randomBytes(6).toString('hex');
    while (this.byId.has(id));
    const token = `assay_${id}_${randomBytes(32).toString('base64url')}`;
    const record: TokenRecord = { id, name: o.name, role: o.role, sha256: sha256hex(token), created_at: new Date().toISOString(), created_by: o.by, revoked_at: null };
    this.load([...this.records, record]);
    this.save();
    return { token, record: { ...record } };
  }

  revoke(id: string, _by: string): boolean {
    const r = this.byId.get(id);
    if (!r || r.revoked_at) return false;
    this.load(this.records.map((x) => (x.id === id ? { ...x, revoked_at: new Date().toISOString() } : x)));
    this.save();
    return true;
  }

  verify(token: string): TokenRecord | null {
    const m = TOKEN_RE.exec(token);
    if (!m) return null;
    const r = this.byId.get(m[1]!);
    if (!r || r.revoked_at) return null;
    const a = Buffer.from(sha256hex(token), 'hex'), b = Buffer.from(r.sha256, 'hex');
    return a.length === b.length && timingSafeEqual(a, b) ? r : null;
  }

  hasActive(): boolean {
    return this.records.some((r) => !r.revoked_at);
  }
}

/**
 * Tokens in a JSON file (`{ "version": 1, "tokens": [TokenRecord…] }`, mode 0600, written atomically by rename).
 * Re-read when its modification time or size changes, checked at most once a second. A missing file holds no token.
 * Errors: InputError naming the file when it is not a token file (bad JSON, wrong shape).
 */
export class FileTokenStore extends MemoryTokenStore {
  private stamp = '';
  private checkedAt = 0;

  constructor(readonly file: string) {
    super();
    this.refresh(true);
  }

  private refresh(force = false): void {
    const now = Date.now();
    if (!force && now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    if (!existsSync(this.file)) {
      if (this.stamp !== 'none') this.load([]);
      this.stamp = 'none';
      return;
    }
    const st = statSync(this.file);
    const stamp = `${st.mtimeMs}:${st.size}`;
    if (stamp === this.stamp) return;
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (e) {
      throw new InputError(`is not a token file: ${(e as Error).message}`, { file: this.file });
    }
    const tokens = (doc as { tokens?: unknown })?.tokens;
    if (!Array.isArray(tokens) || !tokens.every((t) => t && typeof t.id === 'string' && typeof t.sha256 === 'string' && (ROLES as readonly string[]).includes(t.role))) {
      throw new InputError('is not a token file (expected {"version": 1, "tokens": [{id, name, role, sha256, …}]})', { file: this.file });
    }
    this.load(tokens as TokenRecord[]);
    this.stamp = stamp;
  }

  protected override save(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, tokens: this.records }, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
    this.refresh(true);
  }

  override list(): TokenRecord[] {
    this.refresh();
    return super.list();
  }

  /**
   * Run `fn` holding the file's lock (`<file>.lock`, made with O_EXCL): a token created or revoked by one process
   * (a cluster worker, the CLI) is read, changed and written back whole before another may, so none is lost. A lock
   * older than 30 s is a crashed holder's and is taken over. Errors: InputError when the lock cannot be had in 10 s.
   */
  private locked<T>(fn: () => T): T {
    const lock = `${this.file}.lock`;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        closeSync(openSync(lock, 'wx', 0o600));
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        try {
          if (Date.now() - statSync(lock).mtimeMs > 30_000) unlinkSync(lock);
        } catch {
          // released meanwhile
        }
        if (Date.now() > deadline) throw new InputError('the token file is locked by another process (remove the lock file if no assay process is running)', { file: lock });
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
    try {
      this.refresh(true);
      return fn();
    } finally {
      unlinkSync(lock);
    }
  }

  override create(o: { name: string; role: Role; by: string }): { token: string; record: TokenRecord } {
    return this.locked(() => super.create(o));
  }

  override revoke(id: string, by: string): boolean {
    return this.locked(() => super.revoke(id, by));
  }

  override verify(token: string): TokenRecord | null {
    this.refresh();
    return super.verify(token);
  }

  override hasActive(): boolean {
    this.refresh();
    return super.hasActive();
  }
}

/** One audited write: who did what to which object, when, from where. */
export interface AuditEntry {
  at: string;
  /** `token:<id>` (with the token's name), `cli`, or `anonymous`. */
  actor: string;
  /** The client's address, or null (the CLI). */
  ip: string | null;
  /** e.g. `token.create`, `token.revoke`, `note.add`, `login.failed`. */
  action: string;
  /** What it acted on, e.g. a token id or `<run>/<sample>`. */
  target: string;
  details: Record<string, unknown>;
}

/** Where audited writes go: append-only. */
export interface AuditLog {
  append(e: Omit<AuditEntry, 'at'>): void;
  /** The last `limit` entries, newest last. */
  tail(limit: number): AuditEntry[];
}

/** An audit log in memory (tests). */
export class MemoryAuditLog implements AuditLog {
  readonly entries: AuditEntry[] = [];
  append(e: Omit<AuditEntry, 'at'>): void {
    this.entries.push({ at: new Date().toISOString(), ...e });
  }
  tail(limit: number): AuditEntry[] {
    return this.entries.slice(-limit);
  }
}

/**
 * An audit log as a JSON-lines file (`audit.jsonl`, mode 0600), appended synchronously: an entry is on disk before the
 * write it records is answered. Each entry is one write in append mode (O_APPEND), so the entries of several processes
 * serving one pool interleave whole; `tail` reads the file, so it shows every process's entries.
 */
export class FileAuditLog implements AuditLog {
  constructor(readonly file: string) {}
  append(e: Omit<AuditEntry, 'at'>): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    appendFileSync(this.file, JSON.stringify({ at: new Date().toISOString(), ...e }) + '\n', { mode: 0o600 });
  }
  tail(limit: number): AuditEntry[] {
    if (!existsSync(this.file)) return [];
    const lines = readFileSync(this.file, 'utf8').split('\n').filter(Boolean);
    return lines.slice(-limit).map((l) => JSON.parse(l) as AuditEntry);
  }
}

/**
 * The viewer's state directory for a pool: `<pool file>.serve/` beside a SQLite pool. Other pools (memory:,
 * postgres://) have no file to sit beside: the caller must name a directory. Errors: InputError then.
 */
export function defaultStateDir(poolUrl: string): string {
  const m = /^sqlite:(?!:memory:)(.+)$/.exec(poolUrl);
  if (!m) throw new InputError(`the pool ${poolUrl} is not a file: give the viewer's state directory (tokens, audit log, notes) with --state-dir`, { field: 'state-dir' });
  return `${m[1]!.replace(/^\/\//, '')}.serve`;
}

/** The token file and audit log of a state directory. */
export function stateFiles(dir: string): { tokens: string; audit: string; notes: string } {
  return { tokens: join(dir, 'tokens.json'), audit: join(dir, 'audit.jsonl'), notes: join(dir, 'notes.jsonl') };
}

/**
 * A rate limit: `take(key)` answers 0 when a request of `key` may go on, else the seconds to wait. A
 * {@link RateLimiter} in one process; across a cluster's workers, the primary's, asked over IPC (src/serve/cluster.ts).
 */
export interface RateLimit {
  take(key: string): number | Promise<number>;
}

/**
 * A token-bucket rate limiter: each key (a token id or a client address) may make `burst` requests at once and
 * `perSecond` on average. Keys idle long enough to have refilled are dropped; at most `maxKeys` are tracked (the
 * longest idle dropped first), so memory stays bounded whatever the number of clients.
 */
export class RateLimiter implements RateLimit {
  private buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly perSecond: number, readonly burst: number, private readonly maxKeys = 10_000) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError(`a rate limit needs perSecond > 0 and burst ≥ 1, got ${perSecond}, ${burst}`);
  }

  /** Take one request for `key`: 0 when allowed, else the seconds to wait before the next is allowed. */
  take(key: string, now = performance.now()): number {
    let b = this.buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
      this.buckets.delete(key); // re-insert: the map's order is least recently used first
    } else {
      b = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.perSecond;
  }
}
