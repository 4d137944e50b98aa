/**
 * Merging safetensors files and BF16 tensors, and the piecewise path for tensors larger than `chunkBytes`
 * (src/merge/merge.ts, safetensors.ts, gguf.ts): files are written here by hand (header JSON + raw little-endian
 * tensors) and read back here by hand, independently of the code under test; merged values are checked against a
 * direct reference computation rounded to the tensor's type by a brute-force nearest-value search; bfloat16 against
 * known bit patterns, every pattern's round trip and the brute-force rounding of random doubles; the piecewise path
 * (forced by a small chunk size) gives byte-identical files for every method, TIES ties included.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readGgufFileInfo } from 'node-llama-cpp';
import { createRng } from '../../src/core/rng.ts';
import { InputError } from '../../src/core/errors.ts';
import { buildHeader, decodeBF16, encodeBF16, encodeEntry, GGML_BF16, GGML_F32, readGgufHeader, toBF16, type GgufHeader } from '../../src/merge/gguf.ts';
import { checkMerge, mergeModels } from '../../src/merge/merge.ts';
import { emaWeights, mergeTensor, trimRule, trimRuleStreaming, type MergeSpec } from '../../src/merge/methods.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-safetensors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// ---- independent codecs (the test's own) -------------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** bfloat16 bits → number. */
const bf16Value = (h: number) => {
  u32[0] = h << 16;
  return f32[0]!;
};
/** The nearest bfloat16 to x by search over the two neighbouring patterns (ties to the even pattern). */
function nearestBF16(x: number): number {
  f32[0] = x;
  const t = u32[0]! >>> 16; // truncation (toward zero) of the float32 nearest x: a neighbour of x's bf16 rounding or x itself
  const cands = [t - 1, t, t + 1, t + 2].filter((h) => h >= 0 && h <= 0xffff && (h & 0x7fff) <= 0x7f80 && (h & 0x8000) === (t & 0x8000));
  let best = cands[0]!;
  for (const h of cands) {
    const d = Math.abs(bf16Value(h) - x), db = Math.abs(bf16Value(best) - x);
    if (d < db || (d === db && (h & 1) === 0)) best = h;
  }
  return best;
}
/** IEEE half bits → number (the test's own decoder). */
function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  return e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
}
/** The nearest half to x (ties to even), by search: the reference for F16 rounding. */
function nearestHalf(x: number): number {
  let lo = 0, hi = 0x7bff;
  const a = Math.abs(x);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (halfValue(mid) <= a) lo = mid;
    else hi = mid - 1;
  }
  let best = lo;
  if (lo < 0x7bff) {
    const dl = a - halfValue(lo), du = halfValue(lo + 1) - a;
    if (du < dl || (du === dl && (lo & 1) === 1)) best = lo + 1;
  }
  return (x < 0 || Object.is(x, -0) ? 0x8000 : 0) | best;
}

type DT = 'F32' | 'F16' | 'BF16';
const BYTES: Record<DT, number> = { F32: 4, F16: 2, BF16: 2 };
/** The stored value of x in a dtype (what a file of that dtype holds). */
const stored = (dt: DT, x: number) => (dt === 'F32' ? Math.fround(x) : dt === 'BF16' ? bf16Value(nearestBF16(x)) : halfValue(nearestHalf(x)));
function encode(dt: DT, xs: number[]): Buffer {
  const b = Buffer.alloc(xs.length * BYTES[dt]);
  xs.forEach((x, i) => (dt === 'F32' ? b.writeFloatLE(x, 4 * i) : b.writeUInt16LE(dt === 'BF16' ? nearestBF16(x) : nearestHalf(x), 2 * i)));
  return b;
}
function decode(dt: DT, b: Buffer): number[] {
  const n = b.length / BYTES[dt];
  return Array.from({ length: n }, (_, i) => (dt === 'F32' ? b.readFloatLE(4 * i) : dt === 'BF16' ? bf16Value(b.readUInt16LE(2 * i)) : halfValue(b.readUInt16LE(2 * i))));
}

interface T { name: string; dtype: DT; shape: number[]; values: number[] }
/** A safetensors file written by hand: header JSON (tensors in the given order, contiguous), spaces to 8 bytes, data. */
function writeSafetensors(path: string, tensors: T[], metadata: Record<string, string> = {}): void {
  const head: Record<string, unknown> = { __metadata__: metadata };
  let at = 0;
  const data: Buffer[] = [];
  for (const t of tensors) {
    const b = encode(t.dtype, t.values);
    head[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + b.length] };
    at += b.length;
    data.push(b);
  }
  let json = JSON.stringify(head);
  while (json.length % 8) json += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, Buffer.from(json), ...data]));
}
/** A safetensors file read by hand: metadata and each tensor's dtype, shape and values. */
function readSafetensorsByHand(path: string): { metadata: Record<string, string>; tensors: Map<string, { dtype: DT; shape: number[]; values: number[] }> } {
  const b = readFileSync(path);
  const n = Number(b.readBigUInt64LE(0));
  const head = JSON.parse(b.subarray(8, 8 + n).toString()) as Record<string, { dtype: DT; shape: number[]; data_offsets: [number, number] }> & { __metadata__?: Record<string, string> };
  const tensors = new Map<string, { dtype: DT; shape: number[]; values: number[] }>();
  for (const [name, e] of Object.entries(head)) {
    if (name === '__metadata__') continue;
    const t = e as { dtype: DT; shape: number[]; data_offsets: [number, number] };
    tensors.set(name, { dtype: t.dtype, shape: t.shape, values: decode(t.dtype, b.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1])) });
  }
  return { metadata: (head.__metadata__ ?? {}) as Record<string, string>, tensors };
}

const random = (seed: number, n: number, quantum = 0) => {
  const r = createRng(seed);
  return Array.from({ length: n }, () => {
    const v = r.float() * 2 - 1;
    return quantum ? Math.round(v / quantum) * quantum : v;
  });
};
const LAYOUT: { name: string; dtype: DT; shape: number[] }[] = [
  { name: 'embed.weight', dtype: 'BF16', shape: [6, 5] },
  { name: 'blk.0.attn.weight', dtype: 'F32', shape: [4, 4] },
  { name: 'blk.0.norm', dtype: 'F16', shape: [9] },
  { name: 'head.weight', dtype: 'BF16', shape: [3, 2, 3] },
];
/** Model s: every tensor random (quantised to 1/16 when `quantum`: many equal magnitudes, TIES ties). */
const model = (s: number, quantum = 0): T[] => LAYOUT.map((l, i) => ({ ...l, values: random(100 * s + i, l.shape.reduce((a, b) => a * b, 1), quantum) }));

// ---- the direct reference of each method on one tensor (float64 on the stored values) -------------------------

function reference(spec: MergeSpec, parents: number[][], base: number[] | null, tensor: string): number[] {
  const n = parents[0]!.length;
  if (spec.method === 'average') {
    const w = spec.weights ?? parents.map(() => 1);
    const tot = w.reduce((a, b) => a + b, 0);
    return Array.from({ length: n }, (_, i) => parents.reduce((a, p, t) => a + (w[t]! / tot) * p[i]!, 0));
  }
  if (spec.method === 'ema') {
    let e = parents[0]!.slice();
    for (const p of parents.slice(1)) e = e.map((v, i) => spec.beta * v + (1 - spec.beta) * p[i]!);
    return e;
  }
  if (spec.method === 'task_arithmetic') {
    const w = spec.weights ?? parents.map(() => 1);
    return base!.map((b, i) => b + (spec.lambda ?? 1) * parents.reduce((a, p, t) => a + w[t]! * (p[i]! - b), 0));
  }
  // TIES and DARE: the method functions, checked against their own direct references in merge.test.ts.
  return [...mergeTensor(spec, parents, base, tensor)];
}

const SPECS: MergeSpec[] = [
  { method: 'average', weights: [1, 3] },
  { method: 'ema', beta: 0.6 },
  { method: 'task_arithmetic', lambda: 0.5, weights: [1, 2] },
  { method: 'ties', density: 0.3 },
  { method: 'dare', drop: 0.5, seed: 4 },
];

describe('bfloat16', () => {
  it('known bit patterns: exact values, ties to even, and one rounding from the double (never float32 first)', () => {
    const cases: [number, number][] = [[0, 0], [-0, 0x8000], [1, 0x3f80], [-2, 0xc000], [3.140625, 0x4049], [Infinity, 0x7f80], [-Infinity, 0xff80],
      [1 + 2 ** -8, 0x3f80], [1 + 3 * 2 ** -8, 0x3f82], [1 + 2 ** -8 + 2 ** -40, 0x3f81], [1 + 2 ** -8 - 2 ** -40, 0x3f80], [3.4e38, 0x7f80], [2 ** -133, 0x0001]];
    for (const [x, h] of cases) assert.equal(toBF16(x), h, `${x} → ${toBF16(x).toString(16)}, expected ${h.toString(16)}`);
    assert.equal(toBF16(NaN) & 0x7fc0, 0x7fc0);
    // 1 + 2^-8 + 2^-40 is a float64 just above a bfloat16 midpoint; rounded to float32 first it would sit on it.
    assert.equal(Math.fround(1 + 2 ** -8 + 2 ** -40), 1 + 2 ** -8);
  });
  it('round trip: every non-NaN pattern decodes and encodes to itself', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = encodeBF16(decodeBF16(all));
    for (let h = 0; h < 65536; h++) if ((h & 0x7f80) !== 0x7f80 || (h & 0x7f) === 0) assert.equal(back[h], h, h.toString(16));
  });
  it('random doubles round to the nearest pattern found by search', () => {
    const r = createRng(7);
    for (let i = 0; i < 20000; i++) {
      const x = (r.float() * 2 - 1) * 2 ** Math.floor(r.float() * 60 - 30);
      assert.equal(toBF16(x), nearestBF16(x), String(x));
    }
  });
});

describe('merging safetensors files', () => {
  const parents = [1, 2].map((s) => {
    const p = join(dir, `p${s}.safetensors`);
    writeSafetensors(p, model(s), { format: 'pt', note: `parent ${s}` });
    return p;
  });
  const base = join(dir, 'base.safetensors');
  writeSafetensors(base, model(0), { format: 'pt' });
  const values = (p: string) => readSafetensorsByHand(p).tensors;

  for (const spec of SPECS) {
    it(`${spec.method}: every tensor is the reference computation on the stored values, rounded to its dtype (F32, F16, BF16); metadata kept and the merge recorded`, () => {
      const out = join(dir, `m-${spec.method}.safetensors`);
      const r = mergeModels({ parents, base, spec, out });
      assert.equal(r.format, 'safetensors');
      assert.equal(r.tensors, LAYOUT.length);
      const got = readSafetensorsByHand(out);
      const [p1, p2, b] = [values(parents[0]!), values(parents[1]!), values(base)];
      for (const l of LAYOUT) {
        const t = got.tensors.get(l.name)!;
        assert.equal(t.dtype, l.dtype);
        assert.deepEqual(t.shape, l.shape);
        const want = reference(spec, [p1.get(l.name)!.values, p2.get(l.name)!.values], b.get(l.name)!.values, l.name).map((x) => stored(l.dtype, x));
        assert.deepEqual(t.values, want, l.name);
      }
      assert.equal(got.metadata.note, 'parent 1');
      assert.equal(got.metadata['assay.merge.method'], spec.method);
      assert.deepEqual(JSON.parse(got.metadata['assay.merge.parents']!), ['p1.safetensors', 'p2.safetensors']);
    });
  }

  it('EMA weights as the test computes them (β^(K−1), (1−β)·β^(K−t))', () => {
    assert.deepEqual(emaWeights(2, 0.6).map((w) => +w.toFixed(12)), [0.6, 0.4]);
  });

  it('refuses mixed formats, an output extension of the other format, integer tensors and corrupt headers, before writing', () => {
    const gguf = writeGgufModel(join(dir, 'g.gguf'), model(1));
    const out = join(dir, 'never.safetensors');
    assert.throws(() => mergeModels({ parents: [parents[0]!, gguf], spec: { method: 'average' }, out }), /a merge reads one format/);
    assert.throws(() => mergeModels({ parents, spec: { method: 'average' }, out: join(dir, 'x.gguf') }), (e: unknown) => e instanceof InputError && e.where.field === 'out');
    const ints = join(dir, 'ints.safetensors');
    writeSafetensors(ints, model(1));
    const b = readFileSync(ints);
    const n = Number(b.readBigUInt64LE(0));
    const head = b.subarray(8, 8 + n).toString().replace('"dtype":"F16"', '"dtype":"I16"');
    writeFileSync(ints, Buffer.concat([b.subarray(0, 8), Buffer.from(head), b.subarray(8 + n)]));
    assert.throws(() => mergeModels({ parents: [ints, ints], spec: { method: 'average' }, out }), /blk\.0\.norm .*I16/);
    const corrupt = join(dir, 'corrupt.safetensors');
    writeFileSync(corrupt, Buffer.concat([b.subarray(0, 8), Buffer.from('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}'.padEnd(n, ' ')), b.subarray(8 + n)]));
    assert.throws(() => checkMerge({ parents: [corrupt], spec: { method: 'average' } }), (e: unknown) => e instanceof InputError && /data_offsets span 4 bytes, the shape and dtype need 8/.test(e.message) && e.where.file === corrupt);
  });
});

/** A GGUF file with the given tensors (dims reversed to ggml's ne0-first order), written with our header writer. */
function writeGgufModel(path: string, tensors: T[]): string {
  const h: GgufHeader = {
    path, version: 3, alignment: 32, dataOffset: 0, fileBytes: 0,
    entries: [{ key: 'general.architecture', type: 8, value: 'llama', raw: encodeEntry('general.architecture', { type: 'string', value: 'llama' }) }],
    tensors: tensors.map((t) => ({ name: t.name, dims: [...t.shape].reverse(), type: t.dtype === 'F32' ? GGML_F32 : t.dtype === 'BF16' ? GGML_BF16 : 1, offset: 0, elements: t.values.length })),
  };
  const { header, offsets, dataBytes } = buildHeader(h, h.tensors, {});
  const buf = Buffer.alloc(header.length + dataBytes);
  header.copy(buf);
  tensors.forEach((t, i) => encode(t.dtype, t.values).copy(buf, header.length + offsets[i]!));
  writeFileSync(path, buf);
  return path;
}
/** A GGUF file's tensors read by hand from node-llama-cpp's offsets and types (independent of our reader). */
async function readGgufByHand(path: string): Promise<Map<string, { type: number; values: number[] }>> {
  const info = await readGgufFileInfo(path, { logWarnings: false });
  const b = readFileSync(path);
  const out = new Map<string, { type: number; values: number[] }>();
  for (const t of info.fullTensorInfo ?? info.tensorInfo ?? []) {
    const type = Number(t.ggmlType);
    const dt: DT = type === 0 ? 'F32' : type === 30 ? 'BF16' : 'F16';
    const n = t.dimensions.reduce<number>((a, d) => a * Number(d), 1);
    const start = Number(t.fileOffset);
    out.set(t.name, { type, values: decode(dt, b.subarray(start, start + n * BYTES[dt])) });
  }
  return out;
}

describe('GGUF with BF16 tensors', () => {
  it('node-llama-cpp reads our BF16 tensors as ggml type 30; a merge of BF16/F32/F16 parents is the reference rounded to each type', async () => {
    const [g0, g1, g2] = [0, 1, 2].map((s) => writeGgufModel(join(dir, `g${s}.gguf`), model(s)));
    const spec: MergeSpec = { method: 'task_arithmetic', lambda: 0.7 };
    const out = join(dir, 'g-merged.gguf');
    const r = mergeModels({ parents: [g1!, g2!], base: g0!, spec, out });
    assert.equal(r.format, 'gguf');
    const [b, p1, p2, m] = await Promise.all([g0!, g1!, g2!, out].map(readGgufByHand));
    for (const l of LAYOUT) {
      const t = m!.get(l.name)!;
      assert.equal(t.type, l.dtype === 'BF16' ? 30 : l.dtype === 'F32' ? 0 : 1);
      const want: number[] = reference(spec, [p1!.get(l.name)!.values, p2!.get(l.name)!.values], b!.get(l.name)!.values, l.name).map((x) => stored(l.dtype, x));
      assert.deepEqual(t.values, want, l.name);
    }
    assert.ok(readGgufHeader(out).tensors.some((t) => t.type === GGML_BF16));
  });
});

describe('tensors merged in pieces (a small chunk size forces the path a tensor over 0.5 GiB takes)', () => {
  // Values on a 1/16 grid: many equal |τ|, so TIES's threshold ties are split across pieces.
  const st = [0, 1, 2].map((s) => {
    const p = join(dir, `q${s}.safetensors`);
    writeSafetensors(p, model(s, 1 / 16));
    return p;
  });
  const gg = [0, 1, 2].map((s) => writeGgufModel(join(dir, `q${s}.gguf`), model(s, 1 / 16)));
  for (const spec of SPECS) {
    for (const [format, files, ext] of [['safetensors', st, 'safetensors'], ['gguf', gg, 'gguf']] as const) {
      it(`${spec.method}, ${format}: pieces of 16 bytes give the file the whole-tensor path gives, byte for byte`, () => {
        const whole = join(dir, `whole-${spec.method}.${ext}`), pieces = join(dir, `pieces-${spec.method}.${ext}`);
        const a = mergeModels({ parents: [files[1]!, files[2]!], base: files[0]!, spec, out: whole });
        const b = mergeModels({ parents: [files[1]!, files[2]!], base: files[0]!, spec, out: pieces, chunkBytes: 16 });
        assert.equal(a.chunked_tensors, 0);
        assert.equal(b.chunked_tensors, LAYOUT.length);
        assert.ok(readFileSync(whole).equals(readFileSync(pieces)));
      });
    }
  }

  it('the streaming TIES threshold equals the in-memory one: duplicates, every density, candidate budgets down to 1 (all four radix passes)', () => {
    const r = createRng(11);
    for (const n of [1, 2, 5, 37, 200]) {
      for (let rep = 0; rep < 6; rep++) {
        const tau = Float64Array.from({ length: n }, () => (rep % 2 ? Math.round((r.float() * 2 - 1) * 4) / 4 : r.float() * 2 - 1));
        const abs = tau.map(Math.abs);
        for (const density of [0.01, 0.2, 0.5, 0.9, 1]) {
          for (const [piece, maxCollect] of [[1, 1], [3, 2], [7, 64], [n, n]] as const) {
            const pieces = function* () {
              for (let s = 0; s < n; s += piece) yield abs.slice(s, s + piece);
            };
            assert.deepEqual(trimRuleStreaming(n, density, pieces, maxCollect), trimRule(tau, density), `n ${n} density ${density} piece ${piece}`);
          }
        }
      }
    }
  });
});
