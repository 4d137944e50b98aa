import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPool } from '../../src/store/open.ts';
import { importMmluPro } from '../../src/importers/index.ts';
import { parseFilters, querySamples, type EmbeddingProvider } from '../../src/query/search.ts';
import { rankFromPool } from '../../src/analyses/pool-ranking.ts';
import { InputError } from '../../src/core/errors.ts';
import { shared } from '../../testkit/shared.ts';

const DATA = shared('data/pool/');

test('capability query: BM25 + filters over MMLU-Pro items, saved selection reused by rank', async () => {
  const store = await openPool('sqlite::memory:');
  await importMmluPro(store, join(DATA, 'mmlu_pro'), { limit: 40_000 }); // every item's text; the first models' results
  const q = await querySamples(store, 'entropy thermodynamics heat engine', { filters: parseFilters(['category=physics']), limit: 50 });
  assert.equal(q.hits.length, 50);
  assert.ok(q.hits.every((h) => h.category === 'physics'));
  assert.equal(q.hits[0]!.score, 1);
  assert.match(q.hits[0]!.snippet.toLowerCase(), /entropy|thermodynamic|heat|engine/);
  // the hash covers query, filters, limit and keys: same query → same hash
  const again = await querySamples(store, 'entropy thermodynamics heat engine', { filters: parseFilters(['category=physics']), limit: 50 });
  assert.equal(again.selection.hash, q.selection.hash);
  await store.saveSelection(q.selection);
  const r = await rankFromPool(store, { query: q.selection.hash.slice(0, 12), replicates: 10 });
  assert.equal(r.selection.hash, q.selection.hash);
  assert.equal(r.selection.samples, 50);
  assert.ok(r.measurements <= 50 * 31 && r.measurements > 0);
  // filter-only selection and errors
  const law = await querySamples(store, '', { filters: parseFilters(['category=law', 'category=history']) });
  assert.ok(law.hits.every((h) => h.category === 'law' || h.category === 'history'));
  assert.throws(() => parseFilters(['colour=red']), InputError);
  assert.throws(() => parseFilters(['category']), InputError);
  await assert.rejects(querySamples(store, 'zzzxxqqq'), InputError);
  // optional embeddings re-rank the BM25 hits
  const emb: EmbeddingProvider = { sample: (k) => (k === q.hits[49]!.key ? Float32Array.from([1, 0]) : Float32Array.from([0, 1])), query: async () => Float32Array.from([1, 0]) };
  const e = await querySamples(store, 'entropy thermodynamics heat engine', { filters: parseFilters(['category=physics']), limit: 50, embeddings: { provider: emb, weight: 0.9 } });
  assert.equal(e.hits[0]!.key, q.hits[49]!.key);
  await store.close();
});
