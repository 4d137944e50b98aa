/**
 * Merge throughput and peak memory: writes a base and two parent GGUF models of `--mb` MB of F32 tensors each
 * (default 1100 MB: larger than 1 GB) to `--dir` (default /tmp), merges them with `--method` (default ties) tensor by
 * tensor, and reports MB/s (tensor bytes read from all inputs per second, and bytes written per second) and the peak
 * resident set size of the process (`process.resourceUsage().maxRSS`, and the largest RSS sampled every 50 ms during
 * the merge). Peak RSS should track a few tensors (`--tensor-mb`, default 16 MB each), not the model size.
 *
 *   node --import tsx bench/merge.ts [--mb 1100] [--tensor-mb 16] [--method ties|average|ema|task_arithmetic|dare] [--dir /tmp] [--keep]
 *                                   [--format gguf|safetensors] [--dtype f32|bf16] [--chunk-bytes N]
 *
 * `--format safetensors` writes safetensors models, `--dtype bf16` BF16 tensors (2 bytes per element: `--mb` counts the
 * stored bytes); `--chunk-bytes N` merges every tensor larger than N bytes in pieces (with `--tensor-mb 600`, one
 * tensor over 0.5 GiB merged the way the default `chunkBytes` merges it).
 * Results: bench/out/merge.json for the defaults, else bench/out/merge-<format>-<dtype>[-chunked].json. The files are
 * deleted afterwards unless --keep.
 */
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { buildHeader, encodeBF16, encodeEntry, GGML_BF16, type GgufHeader, type GgufTensorInfo } from '../src/merge/gguf.ts';
import { mergeModels } from '../src/merge/merge.ts';
import { buildSafetensorsHeader } from '../src/merge/safetensors.ts';
import type { MergeSpec } from '../src/merge/methods.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const totalMb = Number(arg('mb', '1100'));
const tensorMb = Number(arg('tensor-mb', '16'));
const method = arg('method', 'ties');
const dir = arg('dir', '/tmp');
const keep = process.argv.includes('--keep');
const format = arg('format', 'gguf');
const dtype = arg('dtype', 'f32');
const chunkBytes = process.argv.includes('--chunk-bytes') ? Number(arg('chunk-bytes', '0')) : undefined;
if (format !== 'gguf' && format !== 'safetensors') throw new Error(`--format gguf|safetensors, not ${format}`);
if (dtype !== 'f32' && dtype !== 'bf16') throw new Error(`--dtype f32|bf16, not ${dtype}`);
const bpe = dtype === 'f32' ? 4 : 2;

const elements = Math.floor((tensorMb * 1e6) / bpe / 1024) * 1024;
const count = Math.max(1, Math.round((totalMb * 1e6) / (elements * bpe)));
const tensors: GgufTensorInfo[] = Array.from({ length: count }, (_, i) => ({ name: `blk.${i}.weight`, dims: [1024, elements / 1024], type: dtype === 'f32' ? 0 : GGML_BF16, offset: 0, elements }));
const header: GgufHeader = {
  path: '(synthetic)', version: 3, alignment: 32, dataOffset: 0, fileBytes: 0,
  entries: [
    { key: 'general.architecture', type: 8, value: 'llama', raw: encodeEntry('general.architecture', { type: 'string', value: 'llama' }) },
    { key: 'general.alignment', type: 4, value: 32, raw: encodeEntry('general.alignment', { type: 'u32', value: 32 }) },
  ],
  tensors,
};

/** Write one model: seeded pseudo-random values (xorshift32), one tensor buffer at a time. */
function writeModel(path: string, seed: number): void {
  const { header: h, offsets } = format === 'gguf'
    ? (() => {
      const b = buildHeader(header, tensors, {});
      return { header: b.header, offsets: b.offsets.map((o) => b.header.length + o) };
    })()
    : buildSafetensorsHeader(tensors.map((t) => ({ name: t.name, dtype: dtype === 'f32' ? 'F32' : 'BF16', shape: [elements / 1024, 1024] })), {});
  const fd = openSync(path, 'w');
  writeSync(fd, h, 0, h.length, 0);
  const buf = new Float32Array(elements);
  let x = seed >>> 0 || 1;
  for (let t = 0; t < count; t++) {
    for (let i = 0; i < elements; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      buf[i] = (x / 4294967296 - 0.5) * 0.1;
    }
    const data = dtype === 'f32' ? buf : encodeBF16(buf);
    writeSync(fd, Buffer.from(data.buffer, data.byteOffset, data.byteLength), 0, data.byteLength, offsets[t]!);
  }
  closeSync(fd);
}

const ext = format === 'gguf' ? 'gguf' : 'safetensors';
const files = ['base', 'p1', 'p2'].map((n) => join(dir, `assay-bench-merge-${n}.${ext}`));
const out = join(dir, `assay-bench-merge-out.${ext}`);
const t0 = performance.now();
files.forEach((f, i) => writeModel(f, 11 + i));
const writeSeconds = (performance.now() - t0) / 1000;
const specs: Record<string, MergeSpec> = {
  ties: { method: 'ties', density: 0.2 }, average: { method: 'average' }, ema: { method: 'ema', beta: 0.5 },
  task_arithmetic: { method: 'task_arithmetic', lambda: 1 }, dare: { method: 'dare', drop: 0.9, seed: 0 },
};
const spec = specs[method];
if (!spec) throw new Error(`unknown method ${method}`);
let sampled = 0;
const timer = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage.rss())), 50);
const rssBefore = process.memoryUsage.rss();
const r = mergeModels({ parents: files.slice(1), base: files[0], spec, out, chunkBytes, onTensor: () => (sampled = Math.max(sampled, process.memoryUsage.rss())) });
clearInterval(timer);
const result = {
  method, format, dtype, chunk_bytes: chunkBytes ?? null, chunked_tensors: r.chunked_tensors,
  model_mb: (count * elements * bpe) / 1e6, tensors: count, tensor_mb: (elements * bpe) / 1e6,
  inputs: files.length, seconds: r.seconds, read_mb_per_s: r.bytes_read / 1e6 / r.seconds, write_mb_per_s: r.bytes / 1e6 / r.seconds,
  rss_before_merge_mb: rssBefore / 1e6, peak_rss_sampled_mb: sampled / 1e6, max_rss_process_mb: process.resourceUsage().maxRSS / 1e3,
  write_inputs_seconds: writeSeconds, node: process.version,
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
const name = format === 'gguf' && dtype === 'f32' && chunkBytes === undefined ? 'merge' : `merge-${format}-${dtype}${chunkBytes !== undefined ? '-chunked' : ''}`;
writeFileSync(new URL(`./out/${name}.json`, import.meta.url), JSON.stringify(result, null, 2) + '\n');
if (!keep) for (const f of [...files, out]) rmSync(f, { force: true });
