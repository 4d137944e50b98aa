/**
 * A small safetensors reader and writer for merging checkpoints tensor by tensor (never the whole model in memory).
 *
 * Format (https://github.com/huggingface/safetensors, README "Format"): an unsigned little-endian 64-bit integer N,
 * then N bytes of a UTF-8 JSON object — per tensor name `{"dtype": "F32" | "F16" | "BF16" | …, "shape": [d0, d1, …],
 * "data_offsets": [begin, end]}` (offsets relative to the byte after the header; row-major, little-endian; tensors
 * contiguous, without holes), and an optional `"__metadata__"` map of strings to strings — then the byte buffer. The
 * reference implementation rejects headers over 100 MB and pads the header with spaces to a multiple of 8 bytes;
 * this writer does the same.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../core/errors.ts';

/** Bytes per element of the dtypes a merge handles. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({ F32: 4, F16: 2, BF16: 2 });
/** Every dtype the format defines, with its size (to check offsets of tensors a merge does not handle). */
const ALL_DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
});
/** The largest header the reference implementation reads (100 MB). */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

/** One tensor of a safetensors file. */
export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Elements (product of the shape; 1 for a scalar). */
  elements: number;
  /** Absolute byte offsets in the file: [begin, end). */
  begin: number;
  end: number;
}

/** A parsed safetensors header. */
export interface SafetensorsHeader {
  path: string;
  /** Absolute offset of the byte buffer (8 + N). */
  dataOffset: number;
  metadata: Record<string, string>;
  /** Tensors in the order of their data. */
  tensors: SafetensorsTensor[];
  fileBytes: number;
}

/** Does the file start like a safetensors file (a plausible header length followed by `{`)? */
export function looksLikeSafetensors(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const b = Buffer.alloc(9);
    if (readSync(fd, b, 0, 9, 0) < 9) return false;
    const n = b.readBigUInt64LE(0);
    return n > 1n && n <= BigInt(MAX_SAFETENSORS_HEADER) && b[8] === 0x7b;
  } finally {
    closeSync(fd);
  }
}

/**
 * Read a safetensors file's header (not its data).
 * @throws InputError naming the file (and the tensor) for unreadable files, a header length past the file or over
 *   100 MB, a header that is not a JSON object, a tensor entry without a dtype, shape or offsets, offsets that do not
 *   match the shape and dtype or run past the file, and overlapping tensors
 */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InputError(`cannot read the safetensors file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  try {
    const fileBytes = fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    if (readSync(fd, lenBuf, 0, 8, 0) < 8) throw new InputError('safetensors: the file is shorter than its 8-byte header length', { file: path });
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(MAX_SAFETENSORS_HEADER)) throw new InputError(`safetensors: header of ${n} bytes (at most ${MAX_SAFETENSORS_HEADER})`, { file: path });
    const len = Number(n);
    if (8 + len > fileBytes) throw new InputError(`safetensors: header of ${len} bytes runs past the end of the file (${fileBytes} bytes)`, { file: path });
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, 8);
    let doc: unknown;
    try {
      doc = JSON.parse(buf.toString('utf8'));
    } catch (err) {
      throw new InputError(`safetensors: the header is not JSON (${(err as Error).message})`, { file: path });
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new InputError('safetensors: the header is not a JSON object', { file: path });
    const dataOffset = 8 + len;
    const metadata: Record<string, string> = {};
    const tensors: SafetensorsTensor[] = [];
    for (const [name, v] of Object.entries(doc as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (v && typeof v === 'object') for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (typeof x === 'string') metadata[k] = x;
        continue;
      }
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
      const bad = (what: string) => new InputError(`safetensors: tensor ${name}: ${what}`, { file: path, field: name });
      if (!e || typeof e !== 'object') throw bad('not an object');
      if (typeof e.dtype !== 'string' || !(e.dtype in ALL_DTYPE_BYTES)) throw bad(`unknown dtype ${JSON.stringify(e.dtype)}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('shape is not a list of non-negative integers');
      const off = e.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[1] < off[0]) throw bad('data_offsets is not [begin, end]');
      const elements = (e.shape as number[]).reduce((a, b) => a * b, 1);
      if (off[1] - off[0] !== elements * ALL_DTYPE_BYTES[e.dtype]!) throw bad(`data_offsets span ${off[1] - off[0]} bytes, the shape and dtype need ${elements * ALL_DTYPE_BYTES[e.dtype]!}`);
      if (dataOffset + off[1] > fileBytes) throw bad('runs past the end of the file');
      tensors.push({ name, dtype: e.dtype, shape: e.shape as number[], elements, begin: dataOffset + off[0], end: dataOffset + off[1] });
    }
    tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
    for (let i = 1; i < tensors.length; i++) {
      if (tensors[i]!.begin < tensors[i - 1]!.end) throw new InputError(`safetensors: tensors ${tensors[i - 1]!.name} and ${tensors[i]!.name} overlap`, { file: path });
    }
    return { path, dataOffset, metadata, tensors, fileBytes };
  } finally {
    closeSync(fd);
  }
}

/**
 * The header of a new safetensors file: tensors laid out contiguously in the given order, metadata as
 * `__metadata__`, the JSON padded with spaces to a multiple of 8 bytes.
 * @returns the header bytes (length prefix included) and each tensor's absolute byte offset in the file
 * @throws InputError for a dtype other than F32, F16, BF16
 */
export function buildSafetensorsHeader(tensors: { name: string; dtype: string; shape: number[] }[], metadata: Record<string, string>): { header: Buffer; offsets: number[]; dataBytes: number } {
  const doc: Record<string, unknown> = {};
  if (Object.keys(metadata).length) doc.__metadata__ = metadata;
  const rel: number[] = [];
  let at = 0;
  for (const t of tensors) {
    const bpe = SAFETENSORS_DTYPE_BYTES[t.dtype];
    if (!bpe) throw new InputError(`tensor ${t.name}: dtype ${t.dtype} cannot be written (F32, F16 or BF16 only)`);
    const bytes = bpe * t.shape.reduce((a, b) => a * b, 1);
    doc[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + bytes] };
    rel.push(at);
    at += bytes;
  }
  let json = Buffer.from(JSON.stringify(doc), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const header = Buffer.concat([len, json]);
  return { header, offsets: rel.map((o) => header.length + o), dataBytes: at };
}
