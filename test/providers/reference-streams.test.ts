/**
 * Each reference model draws from its own seeded stream: two noisy models with different p are not nested (with one
 * shared stream, p=0.6 would be right only where p=0.8 is right, so "B better on 0" — real data never look like
 * that), while a model stays reproducible per seed and the same model under two spellings is one stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateArithmetic } from '../../src/generators/arithmetic.ts';
import { generateNeedleSample } from '../../src/generators/needle/index.ts';
import { createReferenceProvider, referenceStream } from '../../src/providers/reference.ts';
import type { GenerateRequest, Provider } from '../../src/providers/types.ts';
import { gradeNeedle } from '../../src/scorers/needle.ts';
import type { Sample } from '../../src/core/schemas.ts';

const samples = generateArithmetic(400, 0);

const request = (sample: Sample, epoch: number, seed = 0): GenerateRequest => ({
  messages: [{ role: 'user', content: String(sample.input) }],
  config: { chat_template: true, seed },
  sample,
  epoch,
  signal: new AbortController().signal,
});

/** 1 when the answer carries the target in its box, per (sample, epoch). */
async function outcomes(p: Provider, seed = 0, epochs = 2): Promise<number[]> {
  const out: number[] = [];
  for (const s of samples) {
    for (let e = 0; e < epochs; e++) {
      const r = await p.generate(request(s, e, seed));
      out.push(r.text.includes(`\\boxed{${s.target}}`) ? 1 : 0);
    }
  }
  return out;
}

test('noisy reference models with different p decide independently: neither is right only where the other is', async () => {
  const opts = { concurrency: 1, seed: 0 };
  const a = await outcomes(createReferenceProvider('reference:noisy?p=0.8', opts));
  const b = await outcomes(createReferenceProvider('reference:noisy?p=0.6', opts));
  const n = a.length;
  const bOnly = a.filter((x, i) => x === 0 && b[i] === 1).length;
  const aOnly = a.filter((x, i) => x === 1 && b[i] === 0).length;
  // independent streams: P(b right, a wrong) ≈ 0.6 · 0.2 · 0.95 ≈ 0.11 per attempt; nested streams give exactly 0
  assert.ok(bOnly > 0.05 * n, `p=0.6 right where p=0.8 is wrong on ${bOnly} of ${n}`);
  assert.ok(aOnly > bOnly, 'the better model still wins more of the discordant attempts');
  const both = a.filter((x, i) => x === 1 && b[i] === 1).length / n;
  const pa = a.reduce((s, x) => s + x, 0) / n, pb = b.reduce((s, x) => s + x, 0) / n;
  assert.ok(Math.abs(both - pa * pb) < 0.05, `joint rate ${both.toFixed(3)} vs product ${(pa * pb).toFixed(3)}`);
});

test('a reference model is reproducible per seed; one model under two spellings is one stream; seeds change it', async () => {
  const first = await outcomes(createReferenceProvider('reference:noisy?p=0.7', { concurrency: 1, seed: 3 }));
  assert.deepEqual(await outcomes(createReferenceProvider('reference:noisy?p=0.7', { concurrency: 1, seed: 3 })), first);
  assert.deepEqual(await outcomes(createReferenceProvider('reference:noisy', { concurrency: 1, seed: 3 })), first, 'p=0.7 is the default');
  assert.deepEqual(await outcomes(createReferenceProvider('reference:noisy?p=0.70', { concurrency: 1, seed: 3 })), first, 'same number, same stream');
  assert.notDeepEqual(await outcomes(createReferenceProvider('reference:noisy?p=0.7', { concurrency: 1, seed: 4 })), first);
  assert.notDeepEqual(await outcomes(createReferenceProvider('reference:noisy?p=0.7', { concurrency: 1, seed: 3 }), 5), first, 'the generation seed changes it too');
  assert.equal(referenceStream('needle-noisy', { p: 0.95, limit: 16000 }), 'needle-noisy?limit=16000&p=0.95');
});

test('noisy needle models with different settings are not nested either', async () => {
  const opts = { concurrency: 1, seed: 0 };
  const hi = createReferenceProvider('reference:needle-noisy?p=0.8&limit=100000', opts);
  const lo = createReferenceProvider('reference:needle-noisy?p=0.6&limit=100000', opts);
  let loOnly = 0, n = 0;
  for (let depth = 0; depth <= 100; depth += 10) {
    // the sample id names the grid cell (not the seed), so vary the cell and the epoch
    const { sample } = generateNeedleSample({ task: 'single', chars: 1500, depth }, 0);
    for (let epoch = 0; epoch < 10; epoch++) {
      const r = request(sample, epoch);
      const a = gradeNeedle(sample.target, (await hi.generate(r)).text).exact === 1;
      const b = gradeNeedle(sample.target, (await lo.generate(r)).text).exact === 1;
      if (b && !a) loOnly++;
      n++;
    }
  }
  assert.ok(loOnly >= 3, `p=0.6 right where p=0.8 is wrong on ${loOnly} of ${n}`);
});
