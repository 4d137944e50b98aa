/**
 * Temporal model merging of GGUF checkpoints (TIME, Roth et al.): parents of one architecture, F32/F16 tensors, merged
 * tensor by tensor — at most one tensor of each parent (and of the base) in memory at a time — into a new GGUF that
 * copies the first parent's metadata and records the merge (`assay.merge.*`). The output is written to a temporary
 * file beside the target and renamed into place when complete, so a crash never leaves a half-written model.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../core/errors.ts';
import { stableStringify } from '../core/hash.ts';
import { buildHeader, bytesPerElement, encodeF16, GGML_F32, readGgufHeader, readTensor, type GgufHeader } from './gguf.ts';
import { mergeTensor, MergeSpecSchema, needsBase, type MergeSpec } from './methods.ts';

/** Options of {@link mergeGguf}. */
export interface MergeOptions {
  /** Parent GGUF files, oldest first (≥ 1; EMA reads this order as time). */
  parents: string[];
  /** The base (common initialisation): required by task_arithmetic, ties, dare. */
  base?: string;
  /** The method and its settings (validated with `MergeSpecSchema`). */
  spec: MergeSpec;
  /** Output path. */
  out: string;
  /** Called after each tensor (done, total, tensor name). */
  onTensor?: (done: number, total: number, name: string) => void;
}

/** What {@link mergeGguf} returns. */
export interface MergeResult {
  path: string;
  /** Output file size in bytes. */
  bytes: number;
  tensors: number;
  /** Tensor bytes read from all inputs (parents and base). */
  bytes_read: number;
  /** Wall time in seconds. */
  seconds: number;
  spec: MergeSpec;
  parents: string[];
  base: string | null;
}

/**
 * Merge GGUF checkpoints into a new GGUF file.
 * @throws InputError for an invalid spec, a missing base for a task-vector method, files that are not GGUF, different
 *   architectures, tensor sets, shapes or types between inputs, or quantised tensors (before anything is written)
 */
export function mergeGguf(opts: MergeOptions): MergeResult {
  const started = performance.now();
  const parsed = MergeSpecSchema.safeParse(opts.spec);
  if (!parsed.success) throw new InputError(`merge spec: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(spec)'}: ${i.message}`).join('; ')}`, { field: 'spec' });
  const spec = parsed.data;
  if (!opts.parents.length) throw new InputError('a merge needs at least one parent', { field: 'parents' });
  if (needsBase(spec) && !opts.base) throw new InputError(`${spec.method} merges task vectors: give the base model (--base)`, { field: 'base' });
  if ('weights' in spec && spec.weights && spec.weights.length !== opts.parents.length) throw new InputError(`${spec.weights.length} weights for ${opts.parents.length} parents`, { field: 'weights' });
  const headers = opts.parents.map((p) => readGgufHeader(p));
  const baseHeader = needsBase(spec) ? readGgufHeader(opts.base!) : null;
  const first = headers[0]!;
  const arch = (h: GgufHeader) => h.entries.find((e) => e.key === 'general.architecture')?.value ?? null;
  for (const h of [...headers.slice(1), ...(baseHeader ? [baseHeader] : [])]) {
    if (arch(h) !== arch(first)) throw new InputError(`${h.path}: architecture ${String(arch(h))} differs from ${String(arch(first))} of ${first.path}`);
    if (h.tensors.length !== first.tensors.length) throw new InputError(`${h.path}: ${h.tensors.length} tensors, ${first.path} has ${first.tensors.length}`);
  }
  const byName = [...headers, ...(baseHeader ? [baseHeader] : [])].map((h) => new Map(h.tensors.map((t) => [t.name, t])));
  for (const t of first.tensors) {
    if (bytesPerElement(t.type) === null) throw new InputError(`tensor ${t.name} of ${first.path} is quantised (ggml type ${t.type}); merging takes F32 and F16 tensors`);
    for (const [i, m] of byName.entries()) {
      const o = m.get(t.name);
      const path = i < headers.length ? headers[i]!.path : baseHeader!.path;
      if (!o) throw new InputError(`${path} has no tensor ${t.name}`);
      if (o.dims.join('x') !== t.dims.join('x')) throw new InputError(`tensor ${t.name}: shape ${o.dims.join('×')} in ${path}, ${t.dims.join('×')} in ${first.path}`);
      if (bytesPerElement(o.type) === null) throw new InputError(`tensor ${t.name} of ${path} is quantised (ggml type ${o.type})`);
    }
  }
  const extra = {
    'assay.merge.method': { type: 'string' as const, value: spec.method },
    'assay.merge.spec': { type: 'string' as const, value: stableStringify(spec) },
    'assay.merge.parents': { type: 'strings' as const, value: opts.parents.map((p) => basename(p)) },
    ...(opts.base ? { 'assay.merge.base': { type: 'string' as const, value: basename(opts.base) } } : {}),
  };
  const { header, offsets } = buildHeader(first, first.tensors, extra);
  const tmp = `${opts.out}.tmp-${process.pid}`;
  const fds = headers.map((h) => openSync(h.path, 'r'));
  const baseFd = baseHeader ? openSync(baseHeader.path, 'r') : null;
  const outFd = openSync(tmp, 'w');
  let bytesRead = 0;
  let size = header.length;
  try {
    writeSync(outFd, header, 0, header.length, 0);
    // Tensors in file order of the first parent (sequential reads), each written at its new offset.
    const order = first.tensors.map((t, i) => ({ t, i })).sort((a, b) => a.t.offset - b.t.offset);
    for (const [done, { t, i }] of order.entries()) {
      const values = headers.map((h, p) => {
        const info = byName[p]!.get(t.name)!;
        bytesRead += bytesPerElement(info.type)! * info.elements;
        return readTensor(fds[p]!, h, info);
      });
      let base: Float32Array | null = null;
      if (baseHeader) {
        const info = byName[headers.length]!.get(t.name)!;
        bytesRead += bytesPerElement(info.type)! * info.elements;
        base = readTensor(baseFd!, baseHeader, info);
      }
      const merged = mergeTensor(spec, values, base, t.name);
      const data = t.type === GGML_F32 ? new Float32Array(merged) : encodeF16(merged);
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const pos = header.length + offsets[i]!;
      writeSync(outFd, bytes, 0, bytes.length, pos);
      // Pad each tensor to the alignment (explicit zeros, so the file's size covers the last tensor's padding).
      const padded = Math.ceil(bytes.length / first.alignment) * first.alignment;
      if (padded > bytes.length) writeSync(outFd, Buffer.alloc(padded - bytes.length), 0, padded - bytes.length, pos + bytes.length);
      size = Math.max(size, pos + padded);
      opts.onTensor?.(done + 1, order.length, t.name);
    }
    closeSync(outFd);
    renameSync(tmp, opts.out);
  } catch (err) {
    try {
      closeSync(outFd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    for (const fd of fds) closeSync(fd);
    if (baseFd !== null) closeSync(baseFd);
  }
  return { path: opts.out, bytes: size, tensors: first.tensors.length, bytes_read: bytesRead, seconds: (performance.now() - started) / 1000, spec, parents: opts.parents, base: opts.base ?? null };
}
