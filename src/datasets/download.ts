/**
 * Download-once cache for named datasets: the pinned public file is fetched with undici on first use,
 * its sha256 checked while streaming, and written atomically (temp file + rename) into the cache folder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { InputError, RunError } from '../core/errors.ts';
import { hashFile } from './lines.ts';

/** Largest file the cache accepts (bytes): guards the disk against a wrong URL. */
export const MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024;

/**
 * The dataset cache folder: `explicit` ?? `$ASSAY_CACHE_DIR/datasets` ?? `~/.cache/assay/datasets`.
 */
export function datasetCacheDir(explicit?: string, env: Record<string, string | undefined> = process.env): string {
  if (explicit) return explicit;
  if (env.ASSAY_CACHE_DIR) return join(env.ASSAY_CACHE_DIR, 'datasets');
  return join(homedir(), '.cache', 'assay', 'datasets');
}

/** Cache file name for a dataset pinned to a hash: `<name>-<first 16 hex of sha256>.<ext>`. */
export function cacheFileName(name: string, sha256: string, ext = 'jsonl'): string {
  return `${name}-${sha256.slice(0, 16)}.${ext}`;
}

/**
 * Make sure `<cacheDir>/<file>` holds the bytes of `url` with sha256 `expected`; download when absent.
 * A cached copy whose bytes no longer match `sha256` is deleted and downloaded again.
 * @returns the cached file path.
 * @throws InputError when the downloaded bytes do not match `expected` (the file is not kept);
 *   RunError for network failures, a non-200 status, or a body over `MAX_DOWNLOAD_BYTES`.
 */
export async function ensureCached(opts: { name: string; url: string; sha256: string; cacheDir: string; ext?: string }): Promise<string> {
  const target = join(opts.cacheDir, cacheFileName(opts.name, opts.sha256, opts.ext));
  let cached = false;
  try {
    cached = (await stat(target)).isFile();
  } catch {
    /* not cached yet */
  }
  if (cached) {
    // A cached copy is used only if its bytes still match the pin; otherwise it is replaced.
    if ((await hashFile(target)).sha256 === opts.sha256) return target;
    await rm(target, { force: true });
  }
  await mkdir(opts.cacheDir, { recursive: true });
  const tmp = join(opts.cacheDir, `.${cacheFileName(opts.name, opts.sha256, opts.ext)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const hash = createHash('sha256');
  let size = 0;
  try {
    let res;
    try {
      const { request } = await import('undici'); // loaded on a download only: a run over a cached file never needs it
      res = await request(opts.url, { method: 'GET', headersTimeout: 30_000, bodyTimeout: 60_000 });
    } catch (err) {
      throw new RunError(`could not download dataset "${opts.name}" from ${opts.url}: ${(err as Error).message}; pass a local file path instead`);
    }
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => undefined);
      throw new RunError(`could not download dataset "${opts.name}" from ${opts.url}: HTTP ${res.statusCode}; pass a local file path instead`);
    }
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > MAX_DOWNLOAD_BYTES) {
          cb(new RunError(`download of "${opts.name}" exceeds ${MAX_DOWNLOAD_BYTES} bytes: ${opts.url}`));
          return;
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(res.body, tap, createWriteStream(tmp, { flags: 'wx' }));
    } catch (err) {
      if (err instanceof RunError) throw err;
      throw new RunError(`could not download dataset "${opts.name}" from ${opts.url}: ${(err as Error).message}`);
    }
    const got = hash.digest('hex');
    if (got !== opts.sha256) {
      throw new InputError(
        `sha256 mismatch for dataset "${opts.name}" downloaded from ${opts.url}: expected ${opts.sha256}, got ${got} (${size} bytes); the file was not kept`,
        { file: opts.url },
      );
    }
    await rename(tmp, target);
    return target;
  } finally {
    await rm(tmp, { force: true });
  }
}
