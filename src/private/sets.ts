/**
 * Private held-out sets: a dataset stored in the pool only as AES-256-GCM ciphertext (crypto.ts), with an allow-list
 * of endpoints, a canary string per item, and a record of which endpoint was sent which item when.
 *
 * - `addPrivateSet` encrypts each sample (canonical JSON, its canary in `metadata.canary`) with associated data
 *   `assay-private-v1\n<set>\n<idx>\n<id>`, so a ciphertext moved to another place does not decrypt.
 * - `openPrivateSet` decrypts it in memory, as a dataset a run can use, with the `PrivacyPolicy` the runner keeps to:
 *   allowed endpoints only (checked before the first request); the plan stored with placeholders instead of text
 *   and keyed hashes; the model's response and extracted answer sealed; transcripts, meta and explanations dropped;
 *   an exposure per request.
 * - Statistics, comparisons and exports read scores as usual; no item text is in the pool to show.
 */
import { randomBytes } from 'node:crypto';
import { InputError } from '../core/errors.ts';
import { stableStringify } from '../core/hash.ts';
import type { Attempt, Measurement, PlannedSample, RunDataset, Sample } from '../core/schemas.ts';
import type { PrivacyPolicy } from '../runner/run.ts';
import type { Pool, PrivateExposure, PrivateItem, PrivateSetRecord } from '../store/types.ts';
import { defineTask, type Task } from '../tasks/task.ts';
import { decrypt, encrypt, mac, seal, type PrivateKey } from './crypto.ts';

const itemAad = (set: string, idx: number, id: string) => `assay-private-v1\n${set}\n${idx}\n${id}`;

/** A set name: letters, digits, `.`, `_`, `-` (it becomes part of a dataset ref). Errors: InputError otherwise. */
export function checkSetName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new InputError(`a private set name is 1–64 letters, digits, ".", "_" or "-" (starting with a letter or digit), got "${name}"`, { field: 'name' });
}

/**
 * Normalise an endpoint for the allow-list: a URL without its trailing slashes, lower-case scheme and host; any
 * other address as given. Errors: none.
 */
export function normalizeEndpoint(e: string): string {
  const t = e.trim();
  try {
    if (/^https?:\/\//i.test(t)) {
      const u = new URL(t);
      return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}${u.search}`;
    }
  } catch {
    // not a URL: as given
  }
  return t.replace(/\/+$/, '');
}

/** A canary string: `ASSAY-CANARY-` + 32 random hex digits (BIG-bench-style, unique per item). */
export function newCanary(): string {
  return `ASSAY-CANARY-${randomBytes(16).toString('hex')}`;
}

/**
 * Encrypt `samples` into the pool as private set `name`, allowed to `allow` (endpoints: base URLs, or model
 * addresses of providers without one). Returns the stored record. Errors: InputError for a bad name, no samples,
 * repeated sample ids, a name already taken (unless `replace`).
 */
export async function addPrivateSet(pool: Pool, key: PrivateKey, name: string, samples: Sample[], o: { allow: string[]; source: string; replace?: boolean }): Promise<PrivateSetRecord> {
  checkSetName(name);
  if (!samples.length) throw new InputError(`the dataset ${o.source} has no samples`);
  const ids = new Set<string>();
  for (const s of samples) {
    if (ids.has(s.id)) throw new InputError(`sample id "${s.id}" appears twice in ${o.source}: items of a private set are named by their ids`);
    ids.add(s.id);
  }
  const items: PrivateItem[] = samples.map((s, idx) => {
    const canary = newCanary();
    const box = encrypt(key, stableStringify({ ...s, metadata: { ...s.metadata, canary } }), itemAad(name, idx, s.id));
    return { set: name, idx, id: s.id, canary, ...box };
  });
  const record: PrivateSetRecord = {
    name, allow: [...new Set(o.allow.map(normalizeEndpoint))], key_id: key.id, content_mac: mac(key, stableStringify(samples)), items: items.length,
    created_at: new Date().toISOString(), source: o.source,
  };
  await pool.putPrivateSet(record, items, { replace: o.replace });
  return record;
}

/** Change a private set's allow-list (`add` and `remove` endpoints). Errors: InputError for an unknown set. */
export async function allowEndpoints(pool: Pool, name: string, change: { add?: string[]; remove?: string[] }): Promise<PrivateSetRecord> {
  const p = await pool.getPrivateSet(name);
  if (!p) throw new InputError(`no private set named "${name}" (see \`assay private list\`)`);
  const remove = new Set((change.remove ?? []).map(normalizeEndpoint));
  const allow = [...new Set([...p.set.allow, ...(change.add ?? []).map(normalizeEndpoint)])].filter((e) => !remove.has(e));
  const set = { ...p.set, allow };
  await pool.putPrivateSet(set, p.items, { replace: true });
  return set;
}

/** A private set opened with its key: the dataset a run uses and the policy it keeps to. */
export interface OpenPrivateSet {
  record: PrivateSetRecord;
  dataset: RunDataset;
  /** Canaries by item id (what contamination probes look for). */
  canaries: Map<string, string>;
  policy: PrivacyPolicy;
}

/**
 * Decrypt private set `name` in memory. Errors: InputError for an unknown set, a key other than the set's, or an
 * item that does not decrypt (altered ciphertext).
 */
export async function openPrivateSet(pool: Pool, key: PrivateKey, name: string): Promise<OpenPrivateSet> {
  const p = await pool.getPrivateSet(name);
  if (!p) throw new InputError(`no private set named "${name}" (see \`assay private list\`)`);
  if (p.set.key_id !== key.id) throw new InputError(`private set "${name}" is encrypted with key ${p.set.key_id}, not with this one (${key.id}, from ${key.source})`);
  const samples = p.items.map((it) => JSON.parse(decrypt(key, it, itemAad(name, it.idx, it.id))) as Sample);
  const dataset: RunDataset = { ref: `private:${name}`, name: `private:${name}`, path: null, hash: `hmac:${p.set.content_mac}`, samples };
  return { record: p.set, dataset, canaries: new Map(p.items.map((it) => [it.id, it.canary])), policy: privacyPolicy(key, p.set) };
}

/** The policy of a run over private set `set` (see the module comment). */
export function privacyPolicy(key: PrivateKey, set: PrivateSetRecord): PrivacyPolicy {
  const allowed = new Set(set.allow.map(normalizeEndpoint));
  const placeholder = (id: string) => `[private item ${set.name}/${id}]`;
  return {
    set: set.name,
    allow: set.allow,
    allows: (endpoint) => allowed.has(normalizeEndpoint(endpoint)),
    redactPlanned(p: PlannedSample): PlannedSample {
      const id = p.sample.id;
      return {
        index: p.index, prompt_hash: mac(key, `prompt\n${p.prompt_hash}`), target_hash: mac(key, `target\n${p.target_hash}`), content_hash: mac(key, `content\n${p.content_hash}`),
        messages: [{ role: 'user', content: placeholder(id) }],
        sample: { id, input: placeholder(id), target: '[private]', metadata: { private_set: set.name } },
      };
    },
    redactResult(attempt: Attempt, measurements: Measurement[]) {
      const where = `${attempt.run_id}\n${attempt.sample_id}\n${attempt.epoch}`;
      return {
        attempt: { ...attempt, response: attempt.response == null ? null : seal(key, attempt.response, `response\n${where}`), transcript: null, meta: null },
        measurements: measurements.map((m) => ({ ...m, extracted: m.extracted == null ? null : seal(key, m.extracted, `extracted\n${where}\n${m.scorer}`), explanation: null })),
      };
    },
  };
}

/** Every exposure of a set (which endpoint was sent which item, in which run and epoch, when), in order. */
export async function exposuresOf(pool: Pool, name: string): Promise<PrivateExposure[]> {
  const out: PrivateExposure[] = [];
  for await (const e of pool.iterateExposures(name)) out.push(e);
  return out;
}

/**
 * The task of a run over an opened private set (what `assay run --dataset private:<name>` evaluates): its samples
 * inline, the given template and scorers (defaults: `plain`, `math`). Like a plain dataset run it records no task
 * definition in the pool (which would hold the samples).
 */
export function privateTask(open: OpenPrivateSet, opts: { template?: string; scorers?: string[] } = {}): Task {
  const t = defineTask({ name: `private-${open.record.name}`, dataset: { name: `private:${open.record.name}`, samples: open.dataset.samples }, template: opts.template, scorers: opts.scorers });
  return Object.freeze({ ...t, implicit: true });
}
