/**
 * Temporal model merging (TIME, Dziadzio et al.) of checkpoints of one architecture stored as GGUF or safetensors
 * (F32, F16 and BF16 tensors), tensor by tensor — at most one tensor of each parent (and of the base) in memory at a
 * time, and a tensor larger than `chunkBytes` (default 0.5 GiB) never whole: it is merged in pieces, TIES's
 * per-tensor trim threshold found by a streaming radix selection (src/merge/methods.ts `trimRuleStreaming`). The
 * output has the parents' format and each tensor the first parent's type; it copies the first parent's metadata and
 * records the merge (`assay.merge.*`: method, spec, parents, base). It is written to a temporary file beside the
 * target and renamed into place when complete, so a crash never leaves a half-written model.
 */
import { closeSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { InputError } from '../core/errors.ts';
import { stableStringify } from '../core/hash.ts';
import { buildHeader, decodeBF16, decodeF16, encodeBF16, encodeF16, GGML_BF16, GGML_F16, GGML_F32, readGgufHeader, type GgufHeader } from './gguf.ts';
import { mergeTensor, MergeSpecSchema, needsBase, tensorMerger, trimRuleStreaming, type MergeSpec, type TrimRule } from './methods.ts';
import { buildSafetensorsHeader, looksLikeSafetensors, readSafetensorsHeader, type SafetensorsHeader } from './safetensors.ts';

/** The element types a merge reads and writes. */
export type TensorDtype = 'F32' | 'F16' | 'BF16';
const DTYPE_BYTES: Record<TensorDtype, number> = { F32: 4, F16: 2, BF16: 2 };
const GGML_DTYPE: Record<number, TensorDtype> = { [GGML_F32]: 'F32', [GGML_F16]: 'F16', [GGML_BF16]: 'BF16' };

/** One tensor of an input model: where its bytes are and how to decode them. */
export interface ModelTensor {
  name: string;
  /** As stored: GGUF dims (ne0 first), safetensors shape (row-major). */
  dims: number[];
  /** `F32`, `F16`, `BF16`, or the file's own name of a type a merge does not handle (`ggml type 8`, `I8`). */
  dtype: string;
  elements: number;
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
}

/** An input model: its format, architecture (GGUF's `general.architecture`; null for safetensors) and tensors. */
export interface ModelInput {
  path: string;
  format: 'gguf' | 'safetensors';
  architecture: string | null;
  /** In file order. */
  tensors: ModelTensor[];
  gguf?: GgufHeader;
  safetensors?: SafetensorsHeader;
}

/**
 * Open a model file's header: GGUF (by its magic) or safetensors.
 * @throws InputError for unreadable files, files that are neither, and every header error of the two readers
 */
export function readModelHeader(path: string): ModelInput {
  let magic = '';
  try {
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(4);
      readSync(fd, b, 0, 4, 0);
      magic = b.toString('latin1');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new InputError(`cannot read the model file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  if (magic === 'GGUF') {
    const h = readGgufHeader(path);
    const arch = h.entries.find((e) => e.key === 'general.architecture')?.value;
    const tensors = h.tensors.map((t) => ({ name: t.name, dims: t.dims, dtype: GGML_DTYPE[t.type] ?? `ggml type ${t.type}`, elements: t.elements, offset: h.dataOffset + t.offset }));
    for (const t of tensors) {
      const bpe = DTYPE_BYTES[t.dtype as TensorDtype];
      if (bpe && t.offset + bpe * t.elements > h.fileBytes) throw new InputError(`tensor ${t.name} runs past the end of ${path}`);
    }
    return { path, format: 'gguf', architecture: typeof arch === 'string' ? arch : null, tensors: tensors.sort((a, b) => a.offset - b.offset), gguf: h };
  }
  if (looksLikeSafetensors(path)) {
    const h = readSafetensorsHeader(path);
    return { path, format: 'safetensors', architecture: null, tensors: h.tensors.map((t) => ({ name: t.name, dims: t.shape, dtype: t.dtype, elements: t.elements, offset: t.begin })), safetensors: h };
  }
  throw new InputError('not a GGUF or safetensors model file', { file: path });
}

/**
 * Read `count` elements of a tensor from element `start` as float32 values (F16 and BF16 decoded exactly).
 * @throws InputError for a type a merge does not handle or a short read
 */
export function readTensorPiece(fd: number, m: ModelInput, t: ModelTensor, start: number, count: number): Float32Array {
  const dtype = t.dtype as TensorDtype;
  const bpe = DTYPE_BYTES[dtype];
  if (!bpe) throw new InputError(`tensor ${t.name} of ${m.path}: ${t.dtype} is not merged (F32, F16 and BF16 are)`);
  const bytes = bpe * count;
  const buf = Buffer.allocUnsafe(bytes);
  let done = 0;
  while (done < bytes) {
    const n = readSync(fd, buf, done, bytes - done, t.offset + bpe * start + done);
    if (n <= 0) throw new InputError(`tensor ${t.name}: short read of ${m.path}`);
    done += n;
  }
  const aligned = buf.byteOffset % 4 === 0;
  const ab = aligned ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + bytes);
  const off = aligned ? buf.byteOffset : 0;
  if (dtype === 'F32') return new Float32Array(ab, off, count);
  const bits = new Uint16Array(ab, off, count);
  return dtype === 'BF16' ? decodeBF16(bits) : decodeF16(bits);
}

/** Merged float64 values → the bytes of `dtype` (float32 rounding; F16 and BF16 to nearest, ties to even). */
export function encodeTensorPiece(dtype: TensorDtype, values: Float64Array): Buffer {
  const data = dtype === 'F32' ? new Float32Array(values) : dtype === 'BF16' ? encodeBF16(values) : encodeF16(values);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Options of {@link mergeModels}. */
export interface MergeOptions {
  /** Parent model files (GGUF or safetensors, all one format), oldest first (≥ 1; EMA reads this order as time). */
  parents: string[];
  /** The base (common initialisation): required by task_arithmetic, ties, dare. */
  base?: string;
  /** The method and its settings (validated with `MergeSpecSchema`). */
  spec: MergeSpec;
  /** Output path: `.gguf` for GGUF parents, `.safetensors` for safetensors parents. */
  out: string;
  /** Called after each tensor (done, total, tensor name). */
  onTensor?: (done: number, total: number, name: string) => void;
  /**
   * Tensors whose stored size is above this many bytes are merged in pieces of at most min(chunkBytes, 16 MiB)
   * bytes each, never whole in memory (default 2^29 = 0.5 GiB). A small value forces the piecewise path (tests).
   */
  chunkBytes?: number;
}

/** What {@link mergeModels} returns. */
export interface MergeResult {
  path: string;
  format: 'gguf' | 'safetensors';
  /** Output file size in bytes. */
  bytes: number;
  tensors: number;
  /** Tensors merged in pieces (larger than `chunkBytes`). */
  chunked_tensors: number;
  /** Tensor bytes read from all inputs (parents and base; a piecewise TIES reads a tensor more than once). */
  bytes_read: number;
  /** Wall time in seconds. */
  seconds: number;
  spec: MergeSpec;
  parents: string[];
  base: string | null;
}

/** A checked merge: the spec, the inputs (parents, then the base) and the output format. */
export interface MergePlan {
  spec: MergeSpec;
  format: 'gguf' | 'safetensors';
  parents: ModelInput[];
  base: ModelInput | null;
}

/** Whether a path is an existing directory. */
const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** The output extension of each format. */
const EXT = { gguf: '.gguf', safetensors: '.safetensors' } as const;

/**
 * Check a merge without writing anything: the spec, the inputs' formats (all one), architectures (GGUF), tensor
 * sets, shapes and types, and the output's extension.
 * @throws InputError for an invalid spec, a missing base for a task-vector method, weights not matching the parents,
 *   files that are not GGUF or safetensors, mixed formats, an output extension that is not the parents' format,
 *   different architectures, tensor sets or shapes, and tensor types other than F32, F16 and BF16
 */
export function checkMerge(opts: { parents: string[]; base?: string; spec: MergeSpec; out?: string }): MergePlan {
  const parsed = MergeSpecSchema.safeParse(opts.spec);
  if (!parsed.success) throw new InputError(`merge spec: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(spec)'}: ${i.message}`).join('; ')}`, { field: 'spec' });
  const spec = parsed.data;
  if (!opts.parents.length) throw new InputError('a merge needs at least one parent', { field: 'parents' });
  if (needsBase(spec) && !opts.base) throw new InputError(`${spec.method} merges task vectors: give the base model (--base)`, { field: 'base' });
  if ('weights' in spec && spec.weights && spec.weights.length !== opts.parents.length) throw new InputError(`${spec.weights.length} weights for ${opts.parents.length} parents`, { field: 'weights' });
  const parents = opts.parents.map((p) => readModelHeader(p));
  const base = needsBase(spec) ? readModelHeader(opts.base!) : null;
  const first = parents[0]!;
  const all = [...parents, ...(base ? [base] : [])];
  for (const m of all) if (m.format !== first.format) throw new InputError(`${m.path} is ${m.format}, ${first.path} is ${first.format}: a merge reads one format`);
  // (A directory given as the output is left to the write, which names it.)
  if (opts.out !== undefined && !isDirectory(opts.out) && extname(opts.out).toLowerCase() !== EXT[first.format]) throw new InputError(`the output of a merge of ${first.format} files is a ${EXT[first.format]} file, not ${basename(opts.out)}`, { field: 'out' });
  for (const m of all.slice(1)) {
    if (m.architecture !== first.architecture) throw new InputError(`${m.path}: architecture ${String(m.architecture)} differs from ${String(first.architecture)} of ${first.path}`);
    if (m.tensors.length !== first.tensors.length) throw new InputError(`${m.path}: ${m.tensors.length} tensors, ${first.path} has ${first.tensors.length}`);
  }
  const byName = all.map((m) => new Map(m.tensors.map((t) => [t.name, t])));
  for (const t of first.tensors) {
    if (!DTYPE_BYTES[t.dtype as TensorDtype]) throw new InputError(`tensor ${t.name} of ${first.path} is ${t.dtype} (quantised or integer); merging takes F32, F16 and BF16 tensors`);
    for (const [i, m] of byName.entries()) {
      const o = m.get(t.name);
      const path = all[i]!.path;
      if (!o) throw new InputError(`${path} has no tensor ${t.name}`);
      if (o.dims.join('x') !== t.dims.join('x')) throw new InputError(`tensor ${t.name}: shape ${o.dims.join('×')} in ${path}, ${t.dims.join('×')} in ${first.path}`);
      if (!DTYPE_BYTES[o.dtype as TensorDtype]) throw new InputError(`tensor ${t.name} of ${path} is ${o.dtype} (quantised or integer)`);
    }
  }
  return { spec, format: first.format, parents, base };
}

/** Default `chunkBytes`: 0.5 GiB. */
export const DEFAULT_CHUNK_BYTES = 2 ** 29;
/** The largest piece of a tensor merged in pieces, in stored bytes (16 MiB). */
const MAX_PIECE_BYTES = 2 ** 24;

/**
 * Merge model files (GGUF or safetensors) into a new file of the same format (module comment).
 * @throws InputError: every error of {@link checkMerge} (before anything is written); a short read of an input
 */
export function mergeModels(opts: MergeOptions): MergeResult {
  const started = performance.now();
  const plan = checkMerge(opts);
  const { spec } = plan;
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!(Number.isInteger(chunkBytes) && chunkBytes >= 16)) throw new InputError(`chunkBytes is an integer ≥ 16, not ${chunkBytes}`, { field: 'chunkBytes' });
  const first = plan.parents[0]!;
  const inputs = [...plan.parents, ...(plan.base ? [plan.base] : [])];
  const byName = inputs.map((m) => new Map(m.tensors.map((t) => [t.name, t])));
  const K = plan.parents.length;

  // The output header and each tensor's absolute offset in the output.
  const parentsNote = opts.parents.map((p) => basename(p));
  let header: Buffer;
  let outOffset: number[];
  let pad: (bytes: number) => number;
  if (plan.format === 'gguf') {
    const extra = {
      'assay.merge.method': { type: 'string' as const, value: spec.method },
      'assay.merge.spec': { type: 'string' as const, value: stableStringify(spec) },
      'assay.merge.parents': { type: 'strings' as const, value: parentsNote },
      ...(opts.base ? { 'assay.merge.base': { type: 'string' as const, value: basename(opts.base) } } : {}),
    };
    const h = first.gguf!;
    const b = buildHeader(h, h.tensors, extra);
    header = b.header;
    const rel = new Map(h.tensors.map((t, i) => [t.name, b.offsets[i]!]));
    outOffset = first.tensors.map((t) => header.length + rel.get(t.name)!);
    pad = (bytes) => Math.ceil(bytes / h.alignment) * h.alignment;
  } else {
    const meta = {
      ...first.safetensors!.metadata,
      'assay.merge.method': spec.method, 'assay.merge.spec': stableStringify(spec), 'assay.merge.parents': JSON.stringify(parentsNote),
      ...(opts.base ? { 'assay.merge.base': basename(opts.base) } : {}),
    };
    const b = buildSafetensorsHeader(first.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.dims })), meta);
    header = b.header;
    outOffset = b.offsets;
    pad = (bytes) => bytes;
  }

  const tmp = `${opts.out}.tmp-${process.pid}`;
  const fds = inputs.map((m) => openSync(m.path, 'r'));
  let outFd: number | null = null;
  let bytesRead = 0;
  let size = header.length;
  let chunked = 0;
  try {
    outFd = openSync(tmp, 'w');
    writeSync(outFd, header, 0, header.length, 0);
    const read = (i: number, name: string, start: number, count: number) => {
      const t = byName[i]!.get(name)!;
      bytesRead += DTYPE_BYTES[t.dtype as TensorDtype] * count;
      return readTensorPiece(fds[i]!, inputs[i]!, t, start, count);
    };
    for (const [done, t] of first.tensors.entries()) {
      const dtype = t.dtype as TensorDtype;
      const bpe = DTYPE_BYTES[dtype];
      const n = t.elements;
      const baseIdx = plan.base ? K : -1;
      if (bpe * n <= chunkBytes) {
        const values = plan.parents.map((_, p) => read(p, t.name, 0, n));
        const base = baseIdx >= 0 ? read(baseIdx, t.name, 0, n) : null;
        const bytes = encodeTensorPiece(dtype, mergeTensor(spec, values, base, t.name));
        writeSync(outFd, bytes, 0, bytes.length, outOffset[done]!);
      } else {
        chunked++;
        const piece = Math.max(1, Math.floor(Math.min(chunkBytes, MAX_PIECE_BYTES) / bpe));
        let trims: TrimRule[] | undefined;
        if (spec.method === 'ties') {
          // Each parent's trim threshold over the whole tensor, from passes over |θ_t − θ_b| piece by piece.
          trims = plan.parents.map((_, p) => trimRuleStreaming(n, spec.density, function* () {
            for (let s = 0; s < n; s += piece) {
              const c = Math.min(piece, n - s);
              const a = read(p, t.name, s, c), b = read(baseIdx, t.name, s, c);
              const abs = new Float64Array(c);
              for (let i = 0; i < c; i++) abs[i] = Math.abs(a[i]! - b[i]!);
              yield abs;
            }
          }, piece));
        }
        const merge = tensorMerger(spec, K, t.name, trims);
        for (let s = 0; s < n; s += piece) {
          const c = Math.min(piece, n - s);
          const values = plan.parents.map((_, p) => read(p, t.name, s, c));
          const base = baseIdx >= 0 ? read(baseIdx, t.name, s, c) : null;
          const bytes = encodeTensorPiece(dtype, merge(values, base));
          writeSync(outFd, bytes, 0, bytes.length, outOffset[done]! + bpe * s);
        }
      }
      // Pad each tensor to the alignment (explicit zeros, so the file's size covers the last tensor's padding).
      const end = outOffset[done]! + bpe * n;
      const padded = outOffset[done]! + pad(bpe * n);
      if (padded > end) writeSync(outFd, Buffer.alloc(padded - end), 0, padded - end, end);
      size = Math.max(size, padded);
      opts.onTensor?.(done + 1, first.tensors.length, t.name);
    }
    closeSync(outFd);
    outFd = null;
    renameSync(tmp, opts.out);
  } catch (err) {
    if (outFd !== null) {
      try {
        closeSync(outFd);
      } catch {
        /* already closed */
      }
    }
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  return {
    path: opts.out, format: plan.format, bytes: size, tensors: first.tensors.length, chunked_tensors: chunked, bytes_read: bytesRead,
    seconds: (performance.now() - started) / 1000, spec, parents: opts.parents, base: opts.base ?? null,
  };
}

/** {@link mergeModels} under its first name (GGUF was the first format). */
export const mergeGguf = mergeModels;
