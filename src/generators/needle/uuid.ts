/**
 * UUID-form random strings for needle-threading haystacks (Roberts, Han, Albanie 2024, "Needle Threading: Can LLMs
 * Follow Threads through Near-Million-Scale Haystacks?", §3: keys and values are UUIDs).
 *
 * A "UUID" here is 32 random lowercase hex digits in 8-4-4-4-12 form (36 characters with hyphens). Like the paper's
 * haystacks, the version/variant nibbles are not fixed: every hex digit is uniform, so nothing but the hyphens is
 * predictable. All randomness comes from a seeded {@link Rng}; the same stream gives the same strings.
 */
import type { Rng } from '../../core/rng.ts';

/** Length in characters of one UUID-form string. */
export const UUID_CHARS = 36;

/** Hex digits of every 16-bit number, zero-padded to 4 characters (built once, 65,536 entries). */
const HEX4: string[] = Array.from({ length: 65536 }, (_, i) => i.toString(16).padStart(4, '0'));

const TWO32 = 4294967296;

const HEX_CODES = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

/** Write the low `digits` hex digits of `x` (most significant first) as ASCII into `buf` at `at`. */
function writeHex(buf: Uint8Array, at: number, x: number, digits: number): void {
  for (let i = digits - 1; i >= 0; i--) {
    buf[at + i] = HEX_CODES[x & 15]!;
    x >>>= 4;
  }
}

const pow2Above = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(16, n)));

/** Format four 32-bit numbers as an 8-4-4-4-12 lowercase hex string. */
function formatUuid(a: number, b: number, c: number, d: number): string {
  return HEX4[a >>> 16]! + HEX4[a & 0xffff]! + '-' + HEX4[b >>> 16]! + '-' + HEX4[b & 0xffff]! + '-' + HEX4[c >>> 16]! + '-' + HEX4[c & 0xffff]! + HEX4[d >>> 16]! + HEX4[d & 0xffff]!;
}

/**
 * One random UUID-form string (8-4-4-4-12 lowercase hex) from 4 draws of 32 bits.
 * (`rng.index(2^32)` is the raw 32-bit output: floor(x·2^32/2^32) = x exactly in binary floating point.)
 * Shape: 36 characters, e.g. `3f2a1b4c-09d2-7e1f-a4b3-0c9d8e7f6a5b`.
 */
export function randomUuid(rng: Rng): string {
  return formatUuid(rng.index(TWO32), rng.index(TWO32), rng.index(TWO32), rng.index(TWO32));
}

/** True for a 36-character 8-4-4-4-12 lowercase hex string. */
export function isUuidForm(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s);
}

/** Positions (0-based, in the 36-character string) of the 32 hex digits of a UUID-form string. */
export const HEX_POSITIONS: readonly number[] = Array.from({ length: UUID_CHARS }, (_, i) => i).filter((i) => ![8, 13, 18, 23].includes(i));

/**
 * A source of UUID-form strings that never repeats within one haystack (a Set of everything drawn), so a needle
 * value can never collide with a filler key by chance (probability ~n²/2^129 anyway, but correctness is checked, not hoped).
 */
export class UniqueUuids {
  // Open-addressing hash set of 128-bit values in typed arrays (no per-UUID garbage): slot → record index + 1.
  private table: Int32Array;
  private records: Uint32Array;
  private count = 0;
  private readonly marked = new Set<string>();
  /** @param expected how many UUIDs will be drawn (a sizing hint; the set grows past it). */
  constructor(private readonly rng: Rng, expected = 1024) {
    this.table = new Int32Array(pow2Above(expected * 2));
    this.records = new Uint32Array(4 * Math.max(16, expected));
  }
  /**
   * Draw a fresh UUID (exactly as {@link next} would) and write its 36 ASCII bytes into `buf` at `offset` instead of
   * making a string (haystack filler: no garbage per pair).
   */
  nextInto(buf: Uint8Array, offset: number): void {
    const rng = this.rng;
    for (;;) {
      const a = rng.index(TWO32), b = rng.index(TWO32), c = rng.index(TWO32), d = rng.index(TWO32);
      if (!this.insert(a, b, c, d)) continue;
      writeHex(buf, offset, a, 8);
      buf[offset + 8] = 45;
      writeHex(buf, offset + 9, b >>> 16, 4);
      buf[offset + 13] = 45;
      writeHex(buf, offset + 14, b & 0xffff, 4);
      buf[offset + 18] = 45;
      writeHex(buf, offset + 19, c >>> 16, 4);
      buf[offset + 23] = 45;
      writeHex(buf, offset + 24, c & 0xffff, 4);
      writeHex(buf, offset + 28, d, 8);
      return;
    }
  }
  /** A fresh UUID-form string not returned before. */
  next(): string {
    const rng = this.rng;
    for (;;) {
      const a = rng.index(TWO32), b = rng.index(TWO32), c = rng.index(TWO32), d = rng.index(TWO32);
      if (this.insert(a, b, c, d)) return formatUuid(a, b, c, d);
    }
  }
  private insert(a: number, b: number, c: number, d: number): boolean {
    if ((this.count + 1) * 2 > this.table.length) this.grow();
    const mask = this.table.length - 1;
    const r = this.records;
    for (let slot = (a ^ (b >>> 7) ^ Math.imul(c, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const at = this.table[slot]!;
      if (at === 0) break;
      const j = (at - 1) * 4;
      if (r[j] === a && r[j + 1] === b && r[j + 2] === c && r[j + 3] === d) return false;
    }
    if ((this.count + 1) * 4 > r.length) {
      const bigger = new Uint32Array(r.length * 2);
      bigger.set(r);
      this.records = bigger;
    }
    const j = this.count * 4;
    this.records[j] = a;
    this.records[j + 1] = b;
    this.records[j + 2] = c;
    this.records[j + 3] = d;
    this.count++;
    this.place(this.count - 1);
    return true;
  }
  private place(i: number): void {
    const mask = this.table.length - 1;
    const r = this.records, j = i * 4;
    let slot = (r[j]! ^ (r[j + 1]! >>> 7) ^ Math.imul(r[j + 2]!, 0x9e3779b1)) & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = i + 1;
  }
  private grow(): void {
    this.table = new Int32Array(this.table.length * 2);
    for (let i = 0; i < this.count; i++) this.place(i);
  }
  /**
   * A fresh key with one hex digit (at a random position) replaced by `char` (the conditional-needle marker).
   * Shape: still 36 characters in 8-4-4-4-12 form, with one non-hex character (so it never equals a plain UUID).
   */
  nextMarked(char: string): string {
    for (;;) {
      const u = randomUuid(this.rng);
      const pos = HEX_POSITIONS[this.rng.int(HEX_POSITIONS.length)]!;
      const m = u.slice(0, pos) + char + u.slice(pos + 1);
      if (!this.marked.has(m)) {
        this.marked.add(m);
        return m;
      }
    }
  }
}
