/**
 * A full garbage collection on demand, for the few places that release large typed arrays and then allocate again
 * (the choice data of a ranking: src/aggregate/choices.ts, src/analyses/pool-ranking.ts). V8 frees an ArrayBuffer's
 * memory only when a collection finds it unreachable, and it collects by its own heap's pressure: arrays of hundreds
 * of megabytes released between two phases can stay resident through the next one (measured on a 10M-measurement
 * pool: about 130 MB of released arrays still resident when the bootstrap threads started).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null = null;

/**
 * Collect now (synchronous; tens of milliseconds for a heap of a few hundred megabytes): `globalThis.gc` when Node
 * was started with `--expose-gc`, else one obtained by setting that flag at run time and reading `gc` from a fresh
 * context. Errors: none (a runtime without it: nothing is done).
 */
export function collectGarbage(): void {
  if (!collect) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') collect = g;
    else {
      try {
        setFlagsFromString('--expose-gc');
        const f = runInNewContext('gc') as unknown;
        collect = typeof f === 'function' ? (f as () => void) : () => {};
      } catch {
        collect = () => {};
      }
    }
  }
  collect();
}
