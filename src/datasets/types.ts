/**
 * The shapes every dataset loader shares: what `loadDataset` accepts and returns.
 */
import type { DatasetImages } from '../core/images.ts';
import type { Sample } from '../core/schemas.ts';
import type { FieldMap } from './rows.ts';

/** Options for `loadDataset`. */
export interface DatasetOptions {
  /** Column names for generic files (ignored by named loaders). */
  fields?: FieldMap;
  /** Keep only the first N samples (the hash still covers the whole file). Positive integer. */
  limit?: number;
  /** Download cache folder for named datasets given without a path. */
  cacheDir?: string;
  /** Test hook: override a named dataset's download source (URL and expected sha256). */
  source?: { url: string; sha256: string };
  /** Longest accepted line in bytes (JSONL) or record in characters (CSV). Default 16 MiB. */
  maxLineBytes?: number;
  /**
   * Read no images: questions that have one (an HLE image question, a row's `fields.image`) are given as their text
   * alone, as before images were sent (`--text-only`). The run records it (`manifest.images.mode: text-only`).
   */
  textOnly?: boolean;
}

/** A loaded dataset. */
export interface LoadedDataset {
  /** `gsm8k`, `math500`, …, or the file's base name without extension for generic files. */
  name: string;
  /** The ref as given. */
  ref: string;
  /** Absolute path of the file read (the cache file for downloads). */
  path: string | null;
  /** sha256 (hex) of the file bytes. */
  hash: string;
  samples: Sample[];
  /** `gsm8k` | `math` | `choice` | `exact`. */
  defaultScorer: string;
  /** `plain` | `math-boxed`. */
  defaultTemplate: string;
  /** The images the samples' image parts name, by sha256 (absent for a text dataset). */
  images?: DatasetImages;
  /** Present when read with `textOnly`: how many samples had an image that is not sent. */
  textOnly?: { dropped: number };
}

