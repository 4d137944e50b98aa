/**
 * A run's images: which the planned samples name (for the run spec and the up-front provider check), storing them
 * once in the pool before the first request, and handing providers their bytes from the pool while the run goes.
 */
import { InputError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';
import type { ImageBlob, ImageResolver } from '../core/images.ts';
import { messageImages, type Message, type RunDataset, type Sample } from '../core/schemas.ts';
import type { ImageUse } from '../providers/images.ts';
import type { Pool } from '../store/types.ts';

/** The images of a dataset's samples: distinct hashes in first-use order, and how many samples have one. */
export interface SampleImages extends ImageUse {
  /** Distinct sha256s, in order of first use. */
  hashes: string[];
  /** MIME type by sha256, as the image parts say. */
  types: Map<string, string>;
}

/**
 * Scan samples for image parts (message-list inputs only: a string input has none, so a text dataset costs one type
 * check per sample). Pure.
 */
export function sampleImages(samples: readonly Sample[]): SampleImages {
  const types = new Map<string, string>();
  let withImages = 0;
  let first: string | null = null;
  for (const s of samples) {
    if (typeof s.input === 'string') continue;
    let has = false;
    for (const m of s.input as Message[]) {
      for (const p of messageImages(m)) {
        has = true;
        if (!types.has(p.sha256)) types.set(p.sha256, p.mime_type);
      }
    }
    if (has) {
      withImages++;
      first ??= s.id;
    }
  }
  return { hashes: [...types.keys()], types, images: types.size, samples: withImages, firstSampleId: first };
}

/**
 * The run spec's `images` field: the number of distinct images and the sha256 of their sorted hashes (one per line),
 * or undefined when there are none (a text run's spec, and so its id, is what it was before images existed).
 */
export function imagesSpecOf(samples: readonly Sample[]): { count: number; sha256: string } | undefined {
  const { hashes } = sampleImages(samples);
  if (hashes.length === 0) return undefined;
  return { count: hashes.length, sha256: sha256([...hashes].sort().join('\n')) };
}

/**
 * Store every image the samples name in the pool (each once: images already stored are not read again), reading their
 * bytes from the dataset one at a time. Returns the images' total size in bytes.
 * @throws InputError when a sample names an image the dataset does not hold and the pool does not have, or a file
 *   changed since the dataset was read
 */
export async function storeRunImages(pool: Pool, dataset: Pick<RunDataset, 'name' | 'images'>, use: SampleImages): Promise<number> {
  let bytes = 0;
  for (const h of use.hashes) {
    const entry = dataset.images?.get(h);
    if (await pool.hasImage(h)) {
      bytes += entry?.size ?? (await pool.getImage(h))!.bytes.length;
      continue;
    }
    if (!entry) throw new InputError(`a sample of ${dataset.name} names image ${h}, which neither the dataset nor the pool holds (give its bytes with the dataset)`, { field: 'image' });
    const blob: ImageBlob = { sha256: entry.sha256, mime_type: entry.mime_type, bytes: entry.load() };
    await pool.putImage(blob);
    bytes += blob.bytes.length;
  }
  return bytes;
}

/**
 * An image resolver over the pool, keeping the most recently used images in memory up to `maxBytes` (default
 * 32 MiB): the epochs of a sample and the samples that share a chart reuse their bytes instead of reading them again.
 * Errors: `get` rejects for a hash the pool does not hold.
 */
export function poolImageResolver(pool: Pick<Pool, 'getImage'>, maxBytes = 32 * 1024 * 1024): ImageResolver {
  const cache = new Map<string, ImageBlob>();
  let held = 0;
  return {
    async get(hash: string): Promise<ImageBlob> {
      const hit = cache.get(hash);
      if (hit) {
        cache.delete(hash);
        cache.set(hash, hit); // most recent last
        return hit;
      }
      const img = await pool.getImage(hash);
      if (!img) throw new Error(`the pool holds no image ${hash}`);
      const blob: ImageBlob = { sha256: img.sha256, mime_type: img.mime_type, bytes: Buffer.from(img.bytes) };
      if (blob.bytes.length <= maxBytes) {
        cache.set(hash, blob);
        held += blob.bytes.length;
        for (const [k, v] of cache) {
          if (held <= maxBytes) break;
          cache.delete(k);
          held -= v.bytes.length;
        }
      }
      return blob;
    },
  };
}
