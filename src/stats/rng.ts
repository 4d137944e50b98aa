/**
 * Seeded random numbers for every random choice in statistics (DESIGN.md: every random choice comes from a
 * recorded seed). xoroshiro128+ from pure-rand; the same seed gives the same stream on every platform.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';

export interface Rng {
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform float in [0, 1). */
  float(): number;
}

/** A seeded RNG. `seed` is a 32-bit integer (larger values are reduced modulo 2^32). */
export function createRng(seed: number): Rng {
  const g = xoroshiro128plus(seed | 0);
  return {
    int: (n: number) => uniformInt(g, 0, n - 1),
    float: () => uniformFloat64(g),
  };
}
