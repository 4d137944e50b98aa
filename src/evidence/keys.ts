/**
 * Signing keys of evidence chains: Ed25519 (RFC 8032) through node:crypto. The private key lives in a PEM file
 * (PKCS #8) outside the pool — `$ASSAY_SIGNING_KEY`, else `$XDG_CONFIG_HOME/assay/signing-key.pem` (default
 * `~/.config/assay/signing-key.pem`) — written with mode 0600; its public key beside it (`<file>.pub`, SPKI PEM).
 * A key is named by its id: the first 16 hex digits of the sha256 of its raw 32-byte public key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';

/** A loaded signing key. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** See the module comment. */
  keyId: string;
  /** The public key as SPKI DER in base64 (what a run's manifest and signatures record). */
  publicKeyBase64: string;
  /** The file it was read from, when read from one. */
  file: string | null;
}

/** `$ASSAY_SIGNING_KEY`, else `$XDG_CONFIG_HOME/assay/signing-key.pem` (default `~/.config/assay/signing-key.pem`). */
export function defaultKeyPath(): string {
  if (process.env.ASSAY_SIGNING_KEY) return resolve(process.env.ASSAY_SIGNING_KEY);
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'assay', 'signing-key.pem');
}

/** The id of an Ed25519 public key (KeyObject or SPKI DER base64). */
export function keyIdOf(publicKey: KeyObject | string): string {
  const der = typeof publicKey === 'string' ? Buffer.from(publicKey, 'base64') : publicKey.export({ type: 'spki', format: 'der' });
  // The SPKI DER of an Ed25519 key is a 12-byte header and the raw 32-byte key.
  return sha256(der.subarray(der.length - 32)).slice(0, 16);
}

function keyOf(privateKey: KeyObject, file: string | null): SigningKey {
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), file };
}

/**
 * Create a new Ed25519 key pair in `file` (default {@link defaultKeyPath}) and `<file>.pub`. Errors: InputError when
 * the file exists (unless `force`) or cannot be written.
 */
export function initSigningKey(file = defaultKeyPath(), opts: { force?: boolean } = {}): SigningKey {
  if (existsSync(file) && !opts.force) throw new InputError('a signing key already exists here; pass --force to replace it (runs it signed stay verifiable with its public key)', { file });
  const { privateKey } = generateKeyPairSync('ed25519');
  const key = keyOf(privateKey, file);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: opts.force ? 'w' : 'wx' });
    writeFileSync(`${file}.pub`, key.publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  } catch (err) {
    throw new InputError(`cannot write the signing key: ${(err as Error).message}`, { file });
  }
  return key;
}

/** Read the private key in `file`. Errors: InputError when it is missing, unreadable or not an Ed25519 private key. */
export function loadSigningKey(file = defaultKeyPath()): SigningKey {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new InputError(`cannot read the signing key (create one with \`assay keys init\`): ${(err as Error).message}`, { file });
  }
  let k: KeyObject;
  try {
    k = createPrivateKey(pem);
  } catch (err) {
    throw new InputError(`is not a private key in PEM: ${(err as Error).message}`, { file });
  }
  if (k.asymmetricKeyType !== 'ed25519') throw new InputError(`holds a ${k.asymmetricKeyType} key; evidence is signed with Ed25519 keys (\`assay keys init\`)`, { file });
  return keyOf(k, file);
}

/** The signing key at the default path when one is there, else null (runs are then chained but not signed). */
export function findSigningKey(): SigningKey | null {
  const file = defaultKeyPath();
  return existsSync(file) ? loadSigningKey(file) : null;
}

/**
 * Read a public key to trust: a PEM file (public or private: its public half), or SPKI DER in base64. Returns its
 * SPKI DER base64. Errors: InputError when it is not an Ed25519 key.
 */
export function loadPublicKey(fileOrBase64: string): string {
  let k: KeyObject;
  try {
    if (existsSync(fileOrBase64)) {
      const text = readFileSync(fileOrBase64, 'utf8');
      k = /PRIVATE KEY/.test(text) ? createPublicKey(createPrivateKey(text)) : createPublicKey(text);
    } else k = createPublicKey({ key: Buffer.from(fileOrBase64, 'base64'), format: 'der', type: 'spki' });
  } catch (err) {
    throw new InputError(`not a public key (a PEM file or SPKI DER in base64): ${(err as Error).message}`, { field: 'public-key' });
  }
  if (k.asymmetricKeyType !== 'ed25519') throw new InputError(`a ${k.asymmetricKeyType} key; evidence is signed with Ed25519 keys`, { field: 'public-key' });
  return k.export({ type: 'spki', format: 'der' }).toString('base64');
}
