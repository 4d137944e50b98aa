/**
 * The viewer's analysis cache (src/serve/data.ts AnalysisCache) is bounded in estimated bytes as well as entries:
 * least recently used values go first once the bytes exceed the bound, a value larger than the bound is answered but
 * not kept, and concurrent requests share one computation.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { AnalysisCache, estimateBytes } from '../../src/serve/data.ts';

it('keeps at most maxBytes of values (estimated), dropping the least recently used first', async () => {
  assert.equal(estimateBytes('x'.repeat(100)), 200);
  assert.equal(estimateBytes({ a: 1 }), 2 * JSON.stringify({ a: 1 }).length);
  const cache = new AnalysisCache(100, 1000);
  const computed: string[] = [];
  const get = (k: string, chars: number) => cache.get(k, 'f', async () => (computed.push(k), 'x'.repeat(chars)));
  await get('a', 200); // 400 bytes
  await get('b', 200); // 800
  await get('a', 200); // a used again: b is now the least recently used
  await get('c', 200); // 1200 > 1000: b dropped
  assert.equal(cache.size, 2);
  assert.equal(cache.bytes, 800);
  await get('a', 200);
  await get('b', 200);
  assert.deepEqual(computed, ['a', 'b', 'c', 'b']);
  // Larger than the whole bound: answered, not kept (and nothing else dropped for it).
  const big = await get('big', 600);
  assert.equal(big.length, 600);
  assert.equal(cache.size, 2);
  assert.ok(cache.bytes <= 1000);
  await get('big', 600);
  assert.equal(computed.filter((k) => k === 'big').length, 2);
  // Concurrent requests share one computation.
  let n = 0;
  const slow = () => cache.get('s', 'f', async () => (n++, 'y'));
  await Promise.all([slow(), slow(), slow()]);
  assert.equal(n, 1);
});
