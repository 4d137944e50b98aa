/**
 * A small GGUF reader and writer for merging checkpoints tensor by tensor (never the whole model in memory).
 *
 * Why our own: `@huggingface/gguf` (the maintained npm parser, Node ≥ 20) only reads metadata and tensor infos, pulls
 * in `@huggingface/tasks`, and has no writer; node-llama-cpp's `readGgufFileInfo` parses values into plain JS (a
 * number no longer says whether it was u32 or f32), so neither can write a file back. Merging needs only this:
 * read the header keeping every metadata entry's raw bytes, read one tensor's bytes at a time, and write a header
 * that copies those bytes (plus entries of our own) followed by the new tensor data.
 *
 * Format (GGUF v2/v3, https://github.com/ggml-org/ggml/blob/master/docs/gguf.md), little-endian: magic `GGUF`,
 * version (u32), tensor count (u64), metadata count (u64), metadata (key string, value type u32, value), tensor infos
 * (name, n_dims u32, dims u64 × n_dims with ne0 first, ggml type u32, offset u64 relative to the data section), padding
 * to `general.alignment` (default 32), tensor data (each tensor's offset a multiple of the alignment).
 * Strings are a u64 byte length and UTF-8 bytes.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../core/errors.ts';

/** GGUF metadata value types. */
export const GGUF_TYPE = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;
/**
 * The ggml tensor types a merge reads and writes: F32 (4 bytes per element), F16 (2 bytes, IEEE half) and BF16
 * (2 bytes, bfloat16: the high half of a float32; `GGML_TYPE_BF16` = 30 in ggml.h).
 */
export const GGML_F32 = 0;
export const GGML_F16 = 1;
export const GGML_BF16 = 30;

/** One metadata entry: parsed value and its raw bytes (key, type and value as stored). */
export interface GgufEntry {
  key: string;
  type: number;
  /** Scalars as numbers (u64/i64 as bigint), strings, arrays as JS arrays. */
  value: unknown;
  raw: Buffer;
}

/** One tensor's description. */
export interface GgufTensorInfo {
  name: string;
  /** Dimensions, ne0 (fastest) first. */
  dims: number[];
  /** ggml type (0 F32, 1 F16, others are quantised). */
  type: number;
  /** Byte offset within the data section. */
  offset: number;
  /** Elements (product of dims). */
  elements: number;
}

/** A parsed GGUF header. */
export interface GgufHeader {
  path: string;
  version: number;
  alignment: number;
  entries: GgufEntry[];
  tensors: GgufTensorInfo[];
  /** Absolute byte offset of the data section. */
  dataOffset: number;
  /** File size in bytes. */
  fileBytes: number;
}

class Cursor {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('need more header bytes');
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  u64n(what: string): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(`GGUF: ${what} ${v} is too large`);
    return Number(v);
  }
  str(): string {
    const n = this.u64n('string length');
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  value(type: number, depth = 0): unknown {
    const b = this.buf;
    const scalar = (size: number, read: (o: number) => number | bigint) => {
      this.need(size);
      const v = read(this.pos);
      this.pos += size;
      return v;
    };
    switch (type) {
      case 0: return scalar(1, (o) => b.readUInt8(o));
      case 1: return scalar(1, (o) => b.readInt8(o));
      case 2: return scalar(2, (o) => b.readUInt16LE(o));
      case 3: return scalar(2, (o) => b.readInt16LE(o));
      case 4: return scalar(4, (o) => b.readUInt32LE(o));
      case 5: return scalar(4, (o) => b.readInt32LE(o));
      case 6: return scalar(4, (o) => b.readFloatLE(o));
      case 7: return scalar(1, (o) => b.readUInt8(o)) !== 0;
      case 8: return this.str();
      case 9: {
        if (depth > 4) throw new InputError('GGUF: arrays nested too deeply');
        const itemType = this.u32();
        const n = this.u64n('array length');
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(itemType, depth + 1));
        return out;
      }
      case 10: return scalar(8, (o) => b.readBigUInt64LE(o));
      case 11: return scalar(8, (o) => b.readBigInt64LE(o));
      case 12: return scalar(8, (o) => b.readDoubleLE(o));
      default: throw new InputError(`GGUF: unknown metadata value type ${type}`);
    }
  }
}

/** Bytes per element of the tensor types a merge handles (F32, F16, BF16), or null for others (quantised). */
export function bytesPerElement(type: number): number | null {
  return type === GGML_F32 ? 4 : type === GGML_F16 || type === GGML_BF16 ? 2 : null;
}

/**
 * Read a GGUF file's header (metadata and tensor infos), not its tensor data. Reads 1 MB, then more only while the
 * header needs it.
 * @throws InputError for unreadable files, a wrong magic, versions other than 2 and 3, and truncated headers
 */
export function readGgufHeader(path: string): GgufHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InputError(`cannot read the GGUF file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  try {
    const fileBytes = fstatSync(fd).size;
    for (let size = Math.min(fileBytes, 1 << 20); ; size = Math.min(fileBytes, size * 4)) {
      const buf = Buffer.alloc(size);
      readSync(fd, buf, 0, size, 0);
      try {
        return { ...parseHeader(buf, path), fileBytes };
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        if (size >= fileBytes) throw new InputError('GGUF: the file ends inside its header', { file: path });
      }
    }
  } finally {
    closeSync(fd);
  }
}

function parseHeader(buf: Buffer, path: string): Omit<GgufHeader, 'fileBytes'> {
  const c = new Cursor(buf);
  c.need(4);
  if (buf.toString('latin1', 0, 4) !== 'GGUF') throw new InputError('not a GGUF file (magic)', { file: path });
  c.pos = 4;
  const version = c.u32();
  if (version !== 2 && version !== 3) throw new InputError(`GGUF version ${version} is not supported (2 or 3)`, { file: path });
  const nTensors = c.u64n('tensor count');
  const nKv = c.u64n('metadata count');
  const entries: GgufEntry[] = [];
  for (let i = 0; i < nKv; i++) {
    const start = c.pos;
    const key = c.str();
    const type = c.u32();
    const value = c.value(type);
    entries.push({ key, type, value, raw: Buffer.from(buf.subarray(start, c.pos)) });
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = c.str();
    const nd = c.u32();
    if (nd > 8) throw new InputError(`GGUF: tensor ${name} has ${nd} dimensions`, { file: path });
    const dims: number[] = [];
    for (let d = 0; d < nd; d++) dims.push(c.u64n('dimension'));
    const type = c.u32();
    const offset = c.u64n('tensor offset');
    tensors.push({ name, dims, type, offset, elements: dims.reduce((a, b) => a * b, 1) });
  }
  const alignEntry = entries.find((e) => e.key === 'general.alignment');
  const alignment = typeof alignEntry?.value === 'number' && alignEntry.value > 0 ? alignEntry.value : 32;
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  return { path, version, alignment, entries, tensors, dataOffset };
}

/** A metadata value to write: a string, a u32, or a string array. */
export type GgufNewValue = { type: 'string'; value: string } | { type: 'u32'; value: number } | { type: 'strings'; value: string[] };

function strBytes(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([len, b]);
}

/** The raw bytes of a new metadata entry. */
export function encodeEntry(key: string, v: GgufNewValue): Buffer {
  const t = Buffer.alloc(4);
  if (v.type === 'string') {
    t.writeUInt32LE(GGUF_TYPE.string);
    return Buffer.concat([strBytes(key), t, strBytes(v.value)]);
  }
  if (v.type === 'u32') {
    t.writeUInt32LE(GGUF_TYPE.u32);
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v.value);
    return Buffer.concat([strBytes(key), t, b]);
  }
  t.writeUInt32LE(GGUF_TYPE.array);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(GGUF_TYPE.string, 0);
  head.writeBigUInt64LE(BigInt(v.value.length), 4);
  return Buffer.concat([strBytes(key), t, head, ...v.value.map(strBytes)]);
}

/**
 * The header of a new GGUF v3 file: `entries` copied byte for byte (minus keys in `extra`), then `extra`, then the
 * tensor infos with offsets laid out afresh (each tensor aligned), padded to the alignment.
 * @returns the header bytes and each tensor's new offset within the data section, and the data section's size
 */
export function buildHeader(h: GgufHeader, tensors: GgufTensorInfo[], extra: Record<string, GgufNewValue>): { header: Buffer; offsets: number[]; dataBytes: number } {
  const kept = h.entries.filter((e) => !(e.key in extra));
  const parts: Buffer[] = [Buffer.from('GGUF', 'latin1')];
  const counts = Buffer.alloc(20);
  counts.writeUInt32LE(3, 0);
  counts.writeBigUInt64LE(BigInt(tensors.length), 4);
  counts.writeBigUInt64LE(BigInt(kept.length + Object.keys(extra).length), 12);
  parts.push(counts, ...kept.map((e) => e.raw), ...Object.entries(extra).map(([k, v]) => encodeEntry(k, v)));
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    const bpe = bytesPerElement(t.type);
    if (bpe === null) throw new InputError(`tensor ${t.name}: ggml type ${t.type} cannot be written (F32, F16 or BF16 only)`);
    offsets.push(offset);
    const info = Buffer.alloc(4 + 8 * t.dims.length + 12);
    info.writeUInt32LE(t.dims.length, 0);
    t.dims.forEach((d, i) => info.writeBigUInt64LE(BigInt(d), 4 + 8 * i));
    info.writeUInt32LE(t.type, 4 + 8 * t.dims.length);
    info.writeBigUInt64LE(BigInt(offset), 8 + 8 * t.dims.length);
    parts.push(strBytes(t.name), info);
    offset += Math.ceil((bpe * t.elements) / h.alignment) * h.alignment;
  }
  let header = Buffer.concat(parts);
  const pad = (h.alignment - (header.length % h.alignment)) % h.alignment;
  if (pad) header = Buffer.concat([header, Buffer.alloc(pad)]);
  return { header, offsets, dataBytes: offset };
}

// ---- IEEE half precision ----

let HALF_TABLE: Float32Array | null = null;

/** The float value of every half-precision bit pattern (built once, 256 KB). */
function halfTable(): Float32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (HALF_TABLE = t);
}

/** Half-precision bit patterns → floats. */
export function decodeF16(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  const t = halfTable();
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]!]!;
  return out;
}

const F = new Float32Array(1);
const U = new Uint32Array(F.buffer);

/**
 * A float → the nearest half-precision bit pattern, ties to even (overflow → ±Inf, NaN → quiet NaN); the float is
 * first rounded to float32. Algorithm: F. Giesen, "float_to_half_fast3_rtne" (public domain, 2016).
 */
export function toF16(x: number): number {
  F[0] = x;
  let f = U[0]!;
  const sign = (f >>> 16) & 0x8000;
  f = (f & 0x7fffffff) >>> 0;
  let o: number;
  if (f >= 0x47800000) o = f > 0x7f800000 ? 0x7e00 : 0x7c00;
  else if (f < 0x38800000) {
    U[0] = f;
    F[0] = F[0]! + 0.5; // float32 addition: the magic 0.5 shifts the subnormal into the low mantissa bits, rounded
    o = (U[0]! - 0x3f000000) >>> 0;
  } else {
    const odd = (f >>> 13) & 1;
    o = ((f + (((15 - 127) << 23) >>> 0) + 0xfff + odd) >>> 0) >>> 13;
  }
  return (o | sign) & 0xffff;
}

/** Floats → half-precision bit patterns (each {@link toF16}). */
export function encodeF16(values: ArrayLike<number>, out = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) out[i] = toF16(values[i]!);
  return out;
}

// ---- bfloat16 ----

/** bfloat16 bit patterns → floats (exact: a bfloat16 is the high half of a float32). */
export function decodeBF16(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i]! << 16;
  return out;
}

/**
 * A number → the nearest bfloat16 bit pattern, ties to even (overflow → ±Inf, NaN → quiet NaN), rounded once from
 * the double itself: the float32 rounding is exact in all but one case — when it lands on a bfloat16 midpoint — and
 * there the side of the double decides (a double rounding would break the tie to even instead).
 */
export function toBF16(x: number): number {
  F[0] = x;
  const f = U[0]!;
  const sign = (f >>> 16) & 0x8000;
  if ((f & 0x7fffffff) > 0x7f800000) return sign | 0x7fc0;
  let hi = f >>> 16;
  const low = f & 0xffff;
  let up = low > 0x8000;
  if (low === 0x8000) {
    const exact = F[0] === x;
    up = exact ? (hi & 1) === 1 : Math.abs(x) > Math.abs(F[0]!);
  }
  if (up) hi += 1;
  return hi & 0xffff;
}

/** Numbers → bfloat16 bit patterns (each {@link toBF16}). */
export function encodeBF16(values: ArrayLike<number>, out = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) out[i] = toBF16(values[i]!);
  return out;
}

/**
 * Read one tensor as float32 values (F16 and BF16 decoded), from an open file descriptor.
 * @throws InputError for a quantised tensor or one running past the end of the file
 */
export function readTensor(fd: number, h: GgufHeader, t: GgufTensorInfo): Float32Array {
  const bpe = bytesPerElement(t.type);
  if (bpe === null) throw new InputError(`tensor ${t.name} of ${h.path}: ggml type ${t.type} is quantised (merging takes F32, F16 and BF16 tensors)`);
  const bytes = bpe * t.elements;
  const start = h.dataOffset + t.offset;
  if (start + bytes > h.fileBytes) throw new InputError(`tensor ${t.name} runs past the end of ${h.path}`);
  const buf = Buffer.allocUnsafe(bytes);
  let done = 0;
  while (done < bytes) {
    const n = readSync(fd, buf, done, bytes - done, start + done);
    if (n <= 0) throw new InputError(`tensor ${t.name}: short read of ${h.path}`);
    done += n;
  }
  // A view when the Buffer is aligned (large ones are not pooled: offset 0), else an aligned copy.
  const ab = buf.byteOffset % 4 === 0 ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + bytes);
  const off = buf.byteOffset % 4 === 0 ? buf.byteOffset : 0;
  return bpe === 4 ? new Float32Array(ab, off, t.elements) : t.type === GGML_BF16 ? decodeBF16(new Uint16Array(ab, off, t.elements)) : decodeF16(new Uint16Array(ab, off, t.elements));
}
