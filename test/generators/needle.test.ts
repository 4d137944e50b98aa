/**
 * The needle-threading generator: haystack format and size, needle placement, task ground truth, determinism
 * (same seed, same bytes — also for the full 1M-character grid, hashed streaming), and the exact solver scoring
 * 100% on every task and length of the full grid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHARS_PER_PAIR, DEFAULT_GRID, FULL_GRID, INSTRUCTIONS, NEEDLE_TASKS, blockStart, canonicalParams, detectTask, generateGrid,
  generateNeedleSample, gridSize, hashGrid, isUuidForm, pairsFor, parseHaystack, sampleToJsonl, solveNeedlePrompt, type NeedleTask,
} from '../../src/generators/needle/index.ts';
import { UniqueUuids } from '../../src/generators/needle/uuid.ts';
import { gradeNeedle } from '../../src/scorers/needle.ts';
import { createRng } from '../../src/core/rng.ts';
import { InputError } from '../../src/core/errors.ts';

/** sha256 of the default grid's JSONL at seed 0. Changing it means the bytes changed: bump NEEDLE_GENERATOR_VERSION. */
const DEFAULT_GRID_SHA256_SEED0 = '8ecd660b0577297b3739861a271e4ba840f8ff91e0e4f80e98c3bceaad704d24';

test('the haystack is one JSON object of UUID-form pairs, exactly 80 characters per pair, sized to the target in characters', () => {
  for (const chars of [80, 1000, 1999, 2000, 123_457]) {
    const { haystack, sample } = generateNeedleSample({ task: 'single', chars, depth: 50 }, 3);
    const n = pairsFor(chars);
    assert.equal(haystack.length, CHARS_PER_PAIR * n);
    assert.ok(haystack.length <= chars && haystack.length > chars - CHARS_PER_PAIR);
    const obj = JSON.parse(haystack) as Record<string, string>;
    assert.equal(Object.keys(obj).length, n, 'keys are unique');
    for (const [k, v] of Object.entries(obj)) assert.ok(isUuidForm(k) && isUuidForm(v), `${k}: ${v}`);
    assert.equal(sample.metadata.context_chars, haystack.length);
    assert.ok((sample.input as string).startsWith(haystack + '\n'));
  }
});

test('UUIDs never repeat within a source, also past its sizing hint', () => {
  const u = new UniqueUuids(createRng(1), 4);
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) seen.add(u.next());
  assert.equal(seen.size, 20_000);
  const buf = Buffer.alloc(36);
  u.nextInto(buf, 0);
  assert.ok(isUuidForm(buf.toString('latin1')));
});

test('every task × placement/direction: needles sit at their recorded offsets and the ground truth is what the haystack says', () => {
  for (const task of NEEDLE_TASKS) {
    const variants: { placement?: 'depth' | 'random' | 'clustered'; depth?: number; direction?: 'forward' | 'backward' | 'random' }[] = ['threading', 'multi-threading', 'branched'].includes(task)
      ? (['forward', 'backward', 'random'] as const).map((direction) => ({ direction }))
      : [{ placement: 'depth' as const, depth: 0 }, { placement: 'depth' as const, depth: 30 }, { placement: 'depth' as const, depth: 100 }, { placement: 'random' as const }, { placement: 'clustered' as const }];
    for (const v of variants) {
      for (const chars of [1000, 20_000]) {
        const { haystack, sample, truth } = generateNeedleSample({ task, chars, ...v }, 11);
        const where = `${task} ${JSON.stringify(v)} ${chars}`;
        for (const nd of truth.needles) assert.equal(haystack.slice(nd.offset, nd.offset + 78), `"${nd.key}": "${nd.value}"`, where);
        const h = parseHaystack(haystack)!;
        assert.equal(h.keys.length, pairsFor(chars), where);
        // Only branched threading repeats a key (the fork), exactly `branches` times.
        const repeated = [...h.index.values()].filter((a) => a.length > 1);
        if (task === 'branched') assert.deepEqual(repeated.map((a) => a.length), [2], where);
        else assert.equal(repeated.length, 0, where);
        const m = sample.metadata;
        assert.equal(m.generator, 'needle');
        assert.equal(typeof m.generator_version, 'number');
        assert.equal(m.seed, 11);
        assert.deepEqual(m.params, canonicalParams({ task, chars, ...v }));
        if (v.placement === 'depth') {
          const k = truth.needles.length;
          assert.deepEqual(truth.needles.map((x) => x.index), Array.from({ length: k }, (_, i) => blockStart(v.depth!, h.keys.length, k) + i), where);
        }
        if (v.placement === 'clustered') truth.needles.forEach((x, i) => assert.equal(x.index, truth.needles[0]!.index + i));
        if (truth.threads) {
          for (const chain of truth.threads) {
            assert.ok(!h.index.has(chain[chain.length - 1]!), 'a thread ends at a value that is not a key');
            const pos = chain.slice(0, -1).map((k, i) => (h.index.get(k)!.find((j) => h.values[j] === chain[i + 1]))!);
            const inc = pos.every((p, i) => i === 0 || p > pos[i - 1]!);
            const dec = pos.every((p, i) => i === 0 || p < pos[i - 1]!);
            if (v.direction === 'forward') assert.ok(inc, `${where} forward ${pos}`);
            if (v.direction === 'backward') assert.ok(dec, `${where} backward ${pos}`);
          }
        }
        if (task === 'conditional') {
          const marked = h.keys.filter((k) => k.includes('*'));
          assert.equal(marked.length, 3);
          assert.deepEqual(truth.answer, marked.map((k) => h.values[h.index.get(k)![0]!]));
        }
        assert.equal(sample.target, typeof truth.answer === 'string' ? truth.answer : JSON.stringify(truth.answer));
      }
    }
  }
});

test('each instruction text is recognised as its task', () => {
  for (const [task, text] of Object.entries(INSTRUCTIONS)) assert.equal(detectTask(text), task as NeedleTask);
});

test('same seed, same bytes; another seed or repeat, other bytes; a sample regenerates alone', () => {
  const a = [...generateGrid(DEFAULT_GRID, 0)].map(sampleToJsonl);
  const b = [...generateGrid(DEFAULT_GRID, 0)].map(sampleToJsonl);
  assert.deepEqual(a, b);
  const c = [...generateGrid(DEFAULT_GRID, 1)].map(sampleToJsonl);
  assert.notEqual(a[0], c[0]);
  const one = generateNeedleSample({ task: 'multiple', chars: 8000, depth: 50, k: 3, placement: 'depth' }, 0).sample;
  assert.equal(sampleToJsonl(one), a.find((l) => l.startsWith('{"id":"needle-multiple-8000-d50-r0"')));
  const r1 = generateNeedleSample({ task: 'single', chars: 4000, depth: 50, repeat: 1 }, 0).haystack;
  assert.notEqual(r1, generateNeedleSample({ task: 'single', chars: 4000, depth: 50, repeat: 0 }, 0).haystack);
  assert.equal(new Set(a.map((l) => JSON.parse(l).id)).size, a.length, 'ids are unique');
  assert.equal(hashGrid(DEFAULT_GRID, 0).sha256, DEFAULT_GRID_SHA256_SEED0, 'the default grid bytes are pinned (bump the generator version when they change)');
});

test('grid sizes: default 90 samples ≈0.94 M chars; full 462 samples per repeat ≈85 M chars, 1k–1M, depths 0–100 step 10', () => {
  assert.deepEqual(gridSize(DEFAULT_GRID), { samples: 90, chars: 944_400 });
  assert.deepEqual(gridSize(FULL_GRID), { samples: 462, chars: 84_964_320 });
  assert.equal(FULL_GRID.lengths[0], 1000);
  assert.equal(FULL_GRID.lengths.at(-1), 1_000_000);
  assert.deepEqual(FULL_GRID.depths, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
});

test('the full grid generates deterministically (streamed hash) and the exact solver scores 100% on every task and length', () => {
  const h1 = hashGrid(FULL_GRID, 0);
  const h2 = hashGrid(FULL_GRID, 0);
  assert.equal(h1.sha256, h2.sha256);
  assert.equal(h1.samples, 462);
  const wrong: string[] = [];
  const seen = new Set<string>();
  for (const s of generateGrid(FULL_GRID, 0)) {
    const sol = solveNeedlePrompt(s.input as string);
    const text = sol ? (typeof sol.answer === 'string' ? sol.answer : JSON.stringify(sol.answer)) : '';
    const g = gradeNeedle(s.target, text, { ordered: true });
    if (g.exact !== 1) wrong.push(s.id);
    seen.add(`${s.metadata.task}@${s.metadata.chars}`);
  }
  assert.deepEqual(wrong, []);
  assert.equal(seen.size, 6 * 11, 'every task at every length');
});

test('bad parameters are InputErrors that say what is wrong', () => {
  assert.throws(() => generateNeedleSample({ task: 'nope' as NeedleTask, chars: 1000 }, 0), InputError);
  assert.throws(() => generateNeedleSample({ task: 'single', chars: 50 }, 0), /chars must be/);
  assert.throws(() => generateNeedleSample({ task: 'single', chars: 1000, depth: 101 }, 0), /depth/);
  assert.throws(() => generateNeedleSample({ task: 'multiple', chars: 400, k: 6 }, 0), /needs 6 needle pairs/);
  assert.throws(() => generateNeedleSample({ task: 'conditional', chars: 1000, conditionalChar: 'a' }, 0), /conditionalChar/);
  assert.throws(() => generateNeedleSample({ task: 'branched', chars: 1000, threadLength: 1 }, 0), /threadLength/);
});
