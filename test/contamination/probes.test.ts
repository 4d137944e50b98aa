/**
 * Contamination probes through the test server: a model that memorised half the canaries, every masked option, or
 * nothing; rates with hand-computed Wilson intervals (k = 1); a private set probed under its policy.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { RunDataset, Sample } from '../../src/core/schemas.ts';
import { probeSamples, runProbe } from '../../src/contamination/probes.ts';
import { loadPrivateKey } from '../../src/private/crypto.ts';
import { addPrivateSet, openPrivateSet } from '../../src/private/sets.ts';
import { openPool } from '../../src/store/open.ts';
import { startFakeOpenAIServer } from '../../testkit/fake-openai-server.ts';

const canaryOf = (i: number) => `ASSAY-CANARY-${(i * 7919).toString(16).padStart(8, '0')}${'0123456789abcdef'.repeat(2).slice(i, i + 24)}`;
const items: Sample[] = Array.from({ length: 12 }, (_, i) => ({
  id: `q${i}`,
  input: `In the year ${1900 + i}, which of the following instruments was most often used by the surveyors of the northern district ${i}?`,
  target: 'B',
  choices: [`theodolite ${i}`, `plane table ${i}`, `chain ${i}`, `sextant ${i}`],
  metadata: { canary: canaryOf(i) },
}));
const dataset: RunDataset = { ref: 'inline:survey', name: 'survey', path: null, hash: 'h', samples: items };

/** A model that memorised: the canaries of even items, every masked option, and the continuation of items 0–2. */
function memoriser(question: string): { content: string } {
  const c = /ASSAY-CANARY-[0-9a-f]+/.exec(question);
  if (c) {
    const i = items.findIndex((s) => (s.metadata.canary as string).startsWith(c[0]));
    return { content: i >= 0 && i % 2 === 0 ? `Sure: ${items[i]!.metadata.canary}` : `${c[0]}0000000000000000` };
  }
  const m = /Question: ([\s\S]*?)\nOptions:\n([\s\S]*)$/.exec(question);
  if (m) {
    const s = items.find((x) => x.input === m[1]);
    const masked = m[2]!.split('\n').findIndex((l) => l.includes('[MASK]'));
    return { content: s ? `${String.fromCharCode(65 + masked)}. ${s.choices![masked]}` : '?' };
  }
  const i = items.findIndex((s) => question.includes((s.input as string).slice(0, 40)));
  if (i >= 0 && i < 3) {
    const text = items[i]!.input as string;
    const prefix = question.slice(question.indexOf('\n\n') + 2);
    return { content: text.slice(prefix.length) };
  }
  return { content: 'I cannot recall that.' };
}

test('probe prompts: the canary without its last 16 characters, one wrong option masked (never the gold), half the text', () => {
  const c = probeSamples('canary', items).samples[3]!;
  assert.equal(c.target, canaryOf(3).slice(-16));
  assert.ok((c.input as string).endsWith(canaryOf(3).slice(0, -16)));
  const m = probeSamples('masked-option', items, { seed: 1 }).samples;
  assert.ok(m.every((s) => s.metadata.masked !== 1 && (s.input as string).includes('[MASK]')));
  assert.deepEqual(probeSamples('masked-option', items, { seed: 1 }).samples, m, 'seeded');
  const v = probeSamples('verbatim', items).samples[0]!;
  assert.ok((items[0]!.input as string).includes(v.target));
  assert.equal(v.target.length, 32);
  assert.deepEqual(probeSamples('canary', [{ ...items[0]!, metadata: {} }, items[1]!]).skipped, 1);
  assert.throws(() => probeSamples('canary', [{ ...items[0]!, metadata: {} }]), /no item of the dataset can be probed with "canary"/);
});

test('probes through the test server: rates with their intervals, stored as runs', async () => {
  const server = await startFakeOpenAIServer({ answer: memoriser, modelId: 'memoriser' });
  const pool = await openPool('memory:');
  try {
    const model = `openai-compatible:${server.url}#memoriser`;
    const canary = await runProbe({ pool, kind: 'canary', dataset, model });
    // 6 of 12: Wilson by hand, p̂ = 0.5, n = 12, z² = 3.841459: centre 0.5, half-width
    // 1.959964·√(0.25/12 + 3.841459/576)/(1 + 3.841459/12) = 1.959964·0.165839/1.320122 = 0.246224.
    assert.equal(canary.rate, 0.5);
    assert.ok(Math.abs(canary.ci95.lo - 0.253776) < 1e-5 && Math.abs(canary.ci95.hi - 0.746224) < 1e-5, JSON.stringify(canary.ci95));
    assert.equal(canary.evidence, true);
    assert.equal(canary.probed, 12);
    const masked = await runProbe({ pool, kind: 'masked-option', dataset, model, seed: 3 });
    assert.equal(masked.rate, 1);
    // 12 of 12: Wilson's lower bound n/(n + z²) = 12/15.841459 = 0.757505.
    assert.ok(Math.abs(masked.ci95.lo - 0.757505) < 1e-5, JSON.stringify(masked.ci95));
    const verbatim = await runProbe({ pool, kind: 'verbatim', dataset, model });
    assert.equal(verbatim.rate, 3 / 12);
    assert.equal(verbatim.evidence, null);
    // The probes are runs beside the scores: listed, with their own dataset names.
    const runs = await pool.listRuns();
    assert.deepEqual(runs.map((r) => r.dataset).sort(), ['probe:canary:inline:survey', 'probe:masked-option:inline:survey', 'probe:verbatim:inline:survey']);
    // Run again: resumed, nothing asked.
    const before = server.stats.total;
    await runProbe({ pool, kind: 'canary', dataset, model });
    assert.equal(server.stats.total, before);
  } finally {
    await pool.close();
    await server.close();
  }
});

test('a private set is probed under its policy: off the allow-list nothing is sent; its canaries probed on an allowed endpoint', async () => {
  process.env.ASSAY_PRIVATE_KEY = randomBytes(32).toString('hex');
  const key = loadPrivateKey();
  const server = await startFakeOpenAIServer({ answer: () => ({ content: 'no idea' }), modelId: 'clean' });
  const pool = await openPool('memory:');
  try {
    await addPrivateSet(pool, key, 'survey', items.map((s) => ({ ...s, metadata: {} })), { allow: [server.url], source: 'inline' });
    const open = await openPrivateSet(pool, key, 'survey');
    await assert.rejects(runProbe({ pool, kind: 'canary', dataset: open.dataset, model: 'reference:oracle', privacy: open.policy }), /may be sent only to/);
    const r = await runProbe({ pool, kind: 'canary', dataset: open.dataset, model: `openai-compatible:${server.url}#clean`, privacy: open.policy });
    assert.equal(r.rate, 0);
    assert.equal(r.evidence, false);
    assert.equal(r.probed, 12, 'every item has its own canary');
    // None of 12: Wilson's upper bound z²/(n + z²) = 3.841459/15.841459 = 0.242495.
    assert.ok(Math.abs(r.ci95.hi - 0.242495) < 1e-5);
    const planned = [];
    for await (const p of pool.iteratePlanned(r.run_id)) planned.push(p);
    assert.ok(planned.every((p) => !JSON.stringify(p).includes('ASSAY-CANARY')), 'the probe plan is stored redacted');
  } finally {
    await pool.close();
    await server.close();
  }
});
