/**
 * Temporal merging (src/merge/): every method against a direct reference computation on small random tensors; half
 * precision against known bit patterns and a round trip of every pattern; the GGUF reader against node-llama-cpp's own
 * parser; files merged tensor by tensor equal the methods applied to the parents' tensors (read back with
 * node-llama-cpp's offsets), F32 and F16; a TIES merge of two tiny checkpoints loads in llama.cpp and is evaluated.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readGgufFileInfo } from 'node-llama-cpp';
import { writeTinyGguf } from '../../testkit/tiny-gguf.ts';
import { createRng } from '../../src/core/rng.ts';
import type { Sample } from '../../src/core/schemas.ts';
import { buildHeader, decodeF16, encodeF16, GGML_F16, readGgufHeader, readTensor, toF16 } from '../../src/merge/gguf.ts';
import { mergeGguf } from '../../src/merge/merge.ts';
import { dareSeed, emaWeights, mergeTensor, type MergeSpec, kthSmallest } from '../../src/merge/methods.ts';
import { evaluate } from '../../src/runner/evaluate.ts';
import { openPool } from '../../src/store/open.ts';
import { defineTask } from '../../src/tasks/task.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-merge-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function randomTensor(seed: number, n: number): number[] {
  const r = createRng(seed);
  return Array.from({ length: n }, () => Math.fround(r.float() * 2 - 1));
}
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `at ${i}: ${a[i]} vs ${b[i]}`);
};

describe('merge methods against direct reference computations', () => {
  const n = 200;
  const base = randomTensor(1, n);
  const parents = [2, 3, 4].map((s) => randomTensor(s, n));
  const tau = parents.map((p) => p.map((v, i) => v - base[i]!));

  it('weight average (uniform and weighted)', () => {
    close(mergeTensor({ method: 'average' }, parents, null, 't'), base.map((_, i) => (parents[0]![i]! + parents[1]![i]! + parents[2]![i]!) / 3));
    close(mergeTensor({ method: 'average', weights: [1, 2, 5] }, parents, null, 't'), base.map((_, i) => (parents[0]![i]! + 2 * parents[1]![i]! + 5 * parents[2]![i]!) / 8));
  });

  it('EMA over time equals the recurrence ema_t = β·ema_{t−1} + (1−β)·θ_t', () => {
    const beta = 0.7;
    let ema = parents[0]!.slice();
    for (const p of parents.slice(1)) ema = ema.map((v, i) => beta * v + (1 - beta) * p[i]!);
    close(mergeTensor({ method: 'ema', beta }, parents, null, 't'), ema);
    close(emaWeights(3, beta), [0.49, 0.3 * 0.7, 0.3]);
  });

  it('task arithmetic: base + λ Σ w_t (θ_t − base)', () => {
    close(mergeTensor({ method: 'task_arithmetic', lambda: 0.4, weights: [1, 0.5, 2] }, parents, base, 't'), base.map((b, i) => b + 0.4 * (tau[0]![i]! + 0.5 * tau[1]![i]! + 2 * tau[2]![i]!)));
  });

  it('TIES: trim by rank of magnitude, elect the sign, disjoint mean (quadratic reference)', () => {
    const density = 0.3;
    const m = Math.round(density * n);
    const trimmed = tau.map((t) => t.map((v, i) => {
      let rank = 0;
      for (let j = 0; j < n; j++) if (Math.abs(t[j]!) > Math.abs(v) || (Math.abs(t[j]!) === Math.abs(v) && j < i)) rank++;
      return rank < m ? v : 0;
    }));
    for (const t of trimmed) assert.equal(t.filter((v) => v !== 0).length, m);
    const expected = base.map((b, i) => {
      const vals = trimmed.map((t) => t[i]!);
      const total = vals.reduce((a, c) => a + c, 0);
      const agree = vals.filter((v) => v !== 0 && Math.sign(v) === Math.sign(total));
      return b + 0.8 * (total === 0 || !agree.length ? 0 : agree.reduce((a, c) => a + c, 0) / agree.length);
    });
    close(mergeTensor({ method: 'ties', density, lambda: 0.8 }, parents, base, 't'), expected);
    // density 1 with one parent: the parent itself.
    close(mergeTensor({ method: 'ties', density: 1 }, [parents[0]!], base, 't'), parents[0]!, 1e-9);
  });

  it('DARE: the recorded seed decides the mask; kept entries are rescaled by 1/(1−p); p = 0 is task arithmetic', () => {
    const drop = 0.6;
    const expected = base.map((b) => b);
    const kept = [0, 0, 0];
    for (let t = 0; t < 3; t++) {
      const r = createRng(dareSeed(9, 'blk.0.w', t));
      for (let i = 0; i < n; i++) if (r.uint32() / 2 ** 32 >= drop) (expected[i]! += (tau[t]![i]! / (1 - drop)) * 1), kept[t]!++;
    }
    close(mergeTensor({ method: 'dare', drop, seed: 9 }, parents, base, 'blk.0.w'), expected);
    // Kept fractions near 1 − p (binomial, n = 200: SE 0.035).
    for (const k of kept) assert.ok(Math.abs(k / n - 0.4) < 0.15, String(k));
    assert.notDeepEqual(mergeTensor({ method: 'dare', drop, seed: 10 }, parents, base, 'blk.0.w'), mergeTensor({ method: 'dare', drop, seed: 9 }, parents, base, 'blk.0.w'));
    close(mergeTensor({ method: 'dare', drop: 0, seed: 1 }, parents, base, 'x'), mergeTensor({ method: 'task_arithmetic' }, parents, base, 'x'));
  });

  it('errors: missing base, weights not matching the parents', () => {
    assert.throws(() => mergeTensor({ method: 'ties', density: 0.5 }, parents, null, 't'), /needs a base/);
    assert.throws(() => mergeTensor({ method: 'average', weights: [1] }, parents, null, 't'), /1 weights for 3 parents/);
  });
});

describe('half precision', () => {
  it('known bit patterns, ties to even, overflow and subnormals', () => {
    const cases: [number, number][] = [[0, 0], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-Infinity, 0xfc00],
      [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [2 ** -14, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02]];
    for (const [x, h] of cases) assert.equal(toF16(x), h, `${x} → ${toF16(x).toString(16)}`);
    assert.equal(toF16(NaN) & 0x7c00, 0x7c00);
  });
  it('every non-NaN pattern survives decode → encode', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = encodeF16(decodeF16(all));
    for (let h = 0; h < 65536; h++) if (((h >> 10) & 0x1f) !== 31 || (h & 0x3ff) === 0) assert.equal(back[h], h);
  });
});

/** Tensor values read with node-llama-cpp's parser (its absolute file offsets), independently of ours. */
async function tensorsByLlamaCpp(path: string): Promise<Map<string, Float32Array>> {
  const info = await readGgufFileInfo(path, { logWarnings: false });
  const fd = openSync(path, 'r');
  const out = new Map<string, Float32Array>();
  try {
    for (const t of info.fullTensorInfo ?? info.tensorInfo ?? []) {
      const n = t.dimensions.reduce<number>((a, b) => a * Number(b), 1);
      const f16 = Number(t.ggmlType) === 1;
      const buf = Buffer.alloc(n * (f16 ? 2 : 4));
      readSync(fd, buf, 0, buf.length, Number(t.fileOffset));
      const copy = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
      out.set(t.name, f16 ? decodeF16(new Uint16Array(copy)) : new Float32Array(copy));
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** The tiny model with every tensor stored as F16 (our header writer, F16 data). */
function toF16File(src: string, dst: string): void {
  const h = readGgufHeader(src);
  const tensors = h.tensors.map((t) => ({ ...t, type: GGML_F16 }));
  const { header, offsets, dataBytes } = buildHeader(h, tensors, {});
  const out = Buffer.alloc(header.length + dataBytes);
  header.copy(out);
  const fd = openSync(src, 'r');
  for (const [i, t] of h.tensors.entries()) {
    const bits = encodeF16(readTensor(fd, h, t));
    Buffer.from(bits.buffer).copy(out, header.length + offsets[i]!);
  }
  closeSync(fd);
  writeFileSync(dst, out);
}

describe('merging GGUF files tensor by tensor', () => {
  const small = { layers: 1, dim: 16, heads: 2, ff: 32 };
  const files = [0, 1, 2].map((s) => writeTinyGguf(join(dir, `small${s}.gguf`), { ...small, seed: 20 + s }).path);

  it('our header reader agrees with node-llama-cpp\'s parser (names, shapes, types, offsets)', async () => {
    const ours = readGgufHeader(files[0]!);
    const theirs = await readGgufFileInfo(files[0]!, { logWarnings: false });
    assert.equal(ours.version, 3);
    assert.deepEqual(ours.tensors.map((t) => [t.name, t.dims, t.type, ours.dataOffset + t.offset]), (theirs.tensorInfo ?? []).map((t) => [t.name, t.dimensions.map(Number), Number(t.ggmlType), Number(t.fileOffset)]));
    assert.equal(ours.entries.find((e) => e.key === 'general.architecture')!.value, 'llama');
  });

  const specs: MergeSpec[] = [
    { method: 'average', weights: [1, 3] },
    { method: 'ema', beta: 0.6 },
    { method: 'task_arithmetic', lambda: 0.5 },
    { method: 'ties', density: 0.2 },
    { method: 'dare', drop: 0.5, seed: 4 },
  ];
  for (const spec of specs) {
    it(`${spec.method}: the merged file holds the method applied to each tensor of the parents (F32), and records the merge`, async () => {
      const out = join(dir, `m-${spec.method}.gguf`);
      const r = mergeGguf({ parents: [files[1]!, files[2]!], base: files[0], spec, out });
      assert.equal(r.tensors, 12);
      const [b, p1, p2, merged] = await Promise.all([files[0]!, files[1]!, files[2]!, out].map(tensorsByLlamaCpp));
      for (const [name, values] of merged) close(values, Float32Array.from(mergeTensor(spec, [p1!.get(name)!, p2!.get(name)!], b!.get(name)!, name)), 0);
      const info = await readGgufFileInfo(out, { logWarnings: false });
      const meta = info.metadata as unknown as Record<string, Record<string, Record<string, unknown>>>;
      assert.equal(meta.assay!.merge!.method, spec.method);
      assert.deepEqual(meta.assay!.merge!.parents, ['small1.gguf', 'small2.gguf']);
      assert.equal(meta.general!.architecture, 'llama');
    });
  }

  it('F16 parents: the merge is computed on the decoded values and rounded to half precision', async () => {
    const f16 = files.map((f, i) => {
      const p = join(dir, `half${i}.gguf`);
      toF16File(f, p);
      return p;
    });
    const spec: MergeSpec = { method: 'ties', density: 0.5, lambda: 1 };
    const out = join(dir, 'm-half.gguf');
    mergeGguf({ parents: [f16[1]!, f16[2]!], base: f16[0], spec, out });
    const [b, p1, p2, merged] = await Promise.all([f16[0]!, f16[1]!, f16[2]!, out].map(tensorsByLlamaCpp));
    for (const [name, values] of merged) close(values, decodeF16(encodeF16(mergeTensor(spec, [p1!.get(name)!, p2!.get(name)!], b!.get(name)!, name))), 0);
    assert.ok(readGgufHeader(out).tensors.every((t) => t.type === GGML_F16));
  });

  it('refuses different shapes, a missing base, and bad specs — before writing anything', () => {
    const other = writeTinyGguf(join(dir, 'other.gguf'), { ...small, dim: 8, heads: 2, seed: 1 }).path;
    const out = join(dir, 'never.gguf');
    assert.throws(() => mergeGguf({ parents: [files[1]!, other], spec: { method: 'average' }, out }), /shape/);
    assert.throws(() => mergeGguf({ parents: [files[1]!, files[2]!], spec: { method: 'ties', density: 0.5 }, out }), /base/);
    assert.throws(() => mergeGguf({ parents: [files[1]!], spec: { method: 'dare', drop: 1, seed: 0 } as MergeSpec, out }), /drop/);
    assert.throws(() => readGgufHeader(join(dir, 'nope.gguf')), /cannot read/);
  });
});

describe('a TIES merge of two tiny checkpoints in the local runtime', () => {
  it('loads in llama.cpp and is evaluated on a multiple-choice task like any checkpoint', async () => {
    const [c0, c1, c2] = [3, 4, 5].map((seed, i) => writeTinyGguf(join(dir, `ckpt${i}.gguf`), { seed }).path);
    const out = join(dir, 'ties.gguf');
    const r = mergeGguf({ parents: [c1!, c2!], base: c0!, spec: { method: 'ties', density: 0.2, time: { initialization: 'base', deployment: 'merge' } }, out });
    assert.equal(r.base, c0);
    const samples: Sample[] = Array.from({ length: 4 }, (_, i) => ({ id: `q${i}`, input: `What is ${i} + ${i + 1}?`, target: String(2 * i + 1), choices: [String(2 * i + 1), String(2 * i), String(i)], metadata: {} }));
    const task = defineTask({ name: 'tiny-mc', dataset: { name: 'sums', samples }, template: 'text:Question: {question}\nAnswer:', solver: 'loglikelihood_choice', scorers: ['acc'] });
    const pool = await openPool('memory:');
    try {
      const models = [c1!, out].map((p) => `llama-cpp:${p}?context_size=256&threads=1`);
      const e = await evaluate(task, models, { pool });
      assert.equal(e.status, 'complete');
      const lls = new Map<string, number[][]>();
      for (const c of e.cells) {
        const rows: number[][] = [];
        for await (const a of pool.iterateAttempts(c.run_id, 'acc')) rows.push((a.meta!.solver as { loglikelihood: { logprobs: number[] } }).loglikelihood.logprobs);
        assert.equal(rows.length, 4);
        assert.ok(rows.flat().every((x) => Number.isFinite(x) && x < 0));
        lls.set(c.model, rows);
      }
      // The merged weights are a different model: its log-likelihoods differ from its parent's.
      assert.notDeepEqual(lls.get(models[0]!), lls.get(models[1]!));
    } finally {
      await pool.close();
    }
  });
});

it('the TIES threshold selection (quickselect) returns the k-th smallest value, with duplicates, at every k tried', () => {
  let seed = 1;
  const r = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const n of [1, 2, 3, 10, 101, 1000]) {
    for (let rep = 0; rep < 30; rep++) {
      const a = Float64Array.from({ length: n }, () => (rep % 3 === 0 ? Math.floor(r() * 5) : r()));
      const sorted = a.slice().sort();
      for (const k of [0, n - 1, Math.floor(n / 2), Math.floor(r() * n)]) assert.equal(kthSmallest(a.slice(), k), sorted[k]);
    }
  }
  assert.throws(() => kthSmallest(new Float64Array(3), 3), RangeError);
});
