/**
 * Keys and ciphers of private held-out sets (node:crypto only). One 32-byte master key, never stored in the pool:
 * `$ASSAY_PRIVATE_KEY` (64 hex digits, or base64), else the file `$ASSAY_PRIVATE_KEY_FILE`, else
 * `$XDG_CONFIG_HOME/assay/private.key` (default `~/.config/assay/private.key`; 64 hex digits, mode 0600).
 * Sub-keys by HKDF-SHA256 (RFC 5869): `assay-private-enc` for AES-256-GCM (NIST SP 800-38D; 12-byte random IV,
 * 16-byte tag, associated data binding each ciphertext to its place), `assay-private-mac` for HMAC-SHA256 of hashes
 * that would otherwise give short answers away (sha256("42") is a table look-up).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';

/** A loaded private-set key. */
export interface PrivateKey {
  /** First 16 hex digits of HMAC-SHA256(mac key, "assay-private-key-id"): names the key without revealing it. */
  id: string;
  enc: Buffer;
  mac: Buffer;
  /** Where it came from: `env`, or the file. */
  source: string;
}

/** `$ASSAY_PRIVATE_KEY_FILE`, else `$XDG_CONFIG_HOME/assay/private.key` (default `~/.config/assay/private.key`). */
export function defaultPrivateKeyPath(): string {
  if (process.env.ASSAY_PRIVATE_KEY_FILE) return resolve(process.env.ASSAY_PRIVATE_KEY_FILE);
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'assay', 'private.key');
}

function keyOf(master: Buffer, source: string): PrivateKey {
  if (master.length !== 32) throw new InputError(`a private-set key is 32 bytes (64 hex digits); ${source} holds ${master.length}`);
  const enc = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'assay-private-enc', 32));
  const mac = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'assay-private-mac', 32));
  return { id: createHmac('sha256', mac).update('assay-private-key-id').digest('hex').slice(0, 16), enc, mac, source };
}

function parseKey(text: string, source: string): PrivateKey {
  const t = text.trim();
  const buf = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  return keyOf(buf, source);
}

/**
 * The private-set key: `$ASSAY_PRIVATE_KEY`, else the key file (`file`, default {@link defaultPrivateKeyPath}).
 * Errors: InputError when there is none (saying how to make one) or it is not 32 bytes.
 */
export function loadPrivateKey(file?: string): PrivateKey {
  if (!file && process.env.ASSAY_PRIVATE_KEY) return parseKey(process.env.ASSAY_PRIVATE_KEY, '$ASSAY_PRIVATE_KEY');
  const path = file ?? defaultPrivateKeyPath();
  if (!existsSync(path)) throw new InputError('no private-set key: set $ASSAY_PRIVATE_KEY, or create a key file with `assay private key-init`', { file: path });
  return parseKey(readFileSync(path, 'utf8'), path);
}

/** Create a random key file (mode 0600). Errors: InputError when it exists (unless `force`) or cannot be written. */
export function initPrivateKey(file = defaultPrivateKeyPath(), opts: { force?: boolean } = {}): PrivateKey {
  if (existsSync(file) && !opts.force) throw new InputError('a private-set key already exists here; replacing it makes every set encrypted with it unreadable (pass --force to do so anyway)', { file });
  const master = randomBytes(32);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, master.toString('hex') + '\n', { mode: 0o600, flag: opts.force ? 'w' : 'wx' });
  } catch (err) {
    throw new InputError(`cannot write the key: ${(err as Error).message}`, { file });
  }
  return keyOf(master, file);
}

/** AES-256-GCM of `plaintext` bound to `aad`: base64 IV, tag and ciphertext. */
export function encrypt(key: PrivateKey, plaintext: string, aad: string): { iv: string; tag: string; ciphertext: string } {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key.enc, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return { iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), ciphertext: ct.toString('base64') };
}

/** The plaintext of {@link encrypt}'s output. Errors: InputError when the key is wrong or anything was altered. */
export function decrypt(key: PrivateKey, box: { iv: string; tag: string; ciphertext: string }, aad: string): string {
  try {
    const d = createDecipheriv('aes-256-gcm', key.enc, Buffer.from(box.iv, 'base64'));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(Buffer.from(box.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(box.ciphertext, 'base64')), d.final()]).toString('utf8');
  } catch {
    throw new InputError(`cannot decrypt (${aad.split('\n').slice(1).join('/')}): wrong key (${key.id}), or the stored ciphertext was altered`);
  }
}

/** A sealed string, stored in place of text a private run must not keep in clear: `assay-sealed:v1:<iv>:<tag>:<ct>`. */
export function seal(key: PrivateKey, text: string, aad: string): string {
  const b = encrypt(key, text, aad);
  return `assay-sealed:v1:${b.iv}:${b.tag}:${b.ciphertext}`;
}

/** The text of {@link seal}'s output. Errors: InputError for a string that is not sealed, a wrong key, an alteration. */
export function unseal(key: PrivateKey, sealed: string, aad: string): string {
  const m = /^assay-sealed:v1:([^:]+):([^:]+):([^:]*)$/.exec(sealed);
  if (!m) throw new InputError('not a sealed value');
  return decrypt(key, { iv: m[1]!, tag: m[2]!, ciphertext: m[3]! }, aad);
}

/** HMAC-SHA256 (hex) of `data` under the key's MAC sub-key. */
export function mac(key: PrivateKey, data: string): string {
  return createHmac('sha256', key.mac).update(data).digest('hex');
}
