/**
 * Signing a run's chain head: Ed25519 over the UTF-8 bytes of `assay-evidence-v1\n<run id>\n<seq>\n<head chain hash>`
 * (RFC 8032 through node:crypto `sign(null, …)`). A signature covers every link up to `seq`, since each chain hash
 * covers all before it.
 */
import { createPublicKey, sign, verify } from 'node:crypto';
import { InputError } from '../core/errors.ts';
import type { ChainSignature, Pool } from '../store/types.ts';
import type { SigningKey } from './keys.ts';

/** The signed message of a head. */
export function headMessage(runId: string, seq: number, head: string): Buffer {
  return Buffer.from(`assay-evidence-v1\n${runId}\n${seq}\n${head}`, 'utf8');
}

/** Whether `sig` is a valid signature of its head by its own public key (true/false; a malformed key or signature is false). */
export function signatureValid(sig: Pick<ChainSignature, 'run_id' | 'seq' | 'head' | 'public_key' | 'signature'>): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(sig.public_key, 'base64'), format: 'der', type: 'spki' });
    return verify(null, headMessage(sig.run_id, sig.seq, sig.head), key, Buffer.from(sig.signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * Sign run `runId`'s chain head with `key` and store the signature; the key is recorded in the run's manifest
 * (`signing_keys`) when it is not yet. Flushes the pool first. Returns the signature, or null when the run has no
 * chain. Errors: InputError for an unknown run.
 */
export async function signRun(pool: Pool, runId: string, key: SigningKey): Promise<ChainSignature | null> {
  await pool.flush();
  const run = await pool.getRun(runId);
  if (!run) throw new InputError(`no run with id "${runId}" in the pool (see \`assay runs\`)`);
  const head = await pool.chainHead(runId);
  if (!head) return null;
  if (!(run.manifest.signing_keys ?? []).some((k) => k.key_id === key.keyId)) {
    await pool.updateManifest(runId, (m) => ({ ...m, signing_keys: [...(m.signing_keys ?? []), { algorithm: 'ed25519', key_id: key.keyId, public_key: key.publicKeyBase64 }] }));
  }
  const sig: ChainSignature = {
    run_id: runId, seq: head.seq, head: head.chain, key_id: key.keyId, public_key: key.publicKeyBase64,
    signature: sign(null, headMessage(runId, head.seq, head.chain), key.privateKey).toString('base64'), signed_at: new Date().toISOString(),
  };
  await pool.putChainSignature(sig);
  return sig;
}
