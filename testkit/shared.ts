/**
 * Where the tests and benchmarks find the real public benchmark data (`shared/data`, `shared/cases`): the folder
 * `shared` beside this checkout (as CI lays it out), or `$ASSAY_SHARED` when set. The data is never copied into
 * the repository. When the folder is missing, importing this module fails with one clear message instead of a
 * scatter of ENOENT errors.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the shared folder. */
export const SHARED_DIR = resolve(process.env.ASSAY_SHARED ?? fileURLToPath(new URL('../../shared/', import.meta.url)));

if (!existsSync(join(SHARED_DIR, 'data'))) {
  throw new Error(
    `the shared benchmark data was not found at ${SHARED_DIR}: the tests read real data from a folder "shared" beside this checkout (../shared/data, ../shared/cases); put it there or set ASSAY_SHARED=/path/to/shared`,
  );
}

/** Absolute path of `rel` inside the shared folder, e.g. `shared('data/gsm8k/test.jsonl')`. */
export function shared(rel: string): string {
  return join(SHARED_DIR, rel);
}
