/**
 * Zero-shot statistics on hand-made vectors: prompt-ensemble prototypes, top-k ranks (ties against the item),
 * retrieval ranks both ways, and the intervals (never of zero width at 0% or 100%).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusteredScoreInterval, countTable, wilsonInterval } from '../../src/stats/intervals.ts';
import { classify, classPrototypes, clusteredFigure, hitsAt, l2Normalize, proportionFigure, retrieve } from '../../src/stats/zeroshot.ts';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

describe('zero-shot statistics', () => {
  it('prototypes: mean of the L2-normalised template embeddings, normalised again (CLIP prompt ensembling)', () => {
    // Class 0: templates [3, 0] and [0, 1] → units [1, 0], [0, 1] → mean [.5, .5] → [1/√2, 1/√2] (not [3, 1]/√10).
    const [p0, p1] = classPrototypes([[[3, 0], [0, 1]], [[0, 2]]]);
    close(p0![0]!, Math.SQRT1_2);
    close(p0![1]!, Math.SQRT1_2);
    assert.deepEqual([...p1!], [0, 1]);
    assert.throws(() => classPrototypes([]), /no classes/);
    assert.throws(() => classPrototypes([[[1, 0]], []]), /class 1 has no template/);
    assert.throws(() => classPrototypes([[[1, 0]], [[1, 0, 0]]]), /class 1 template embedding\[0\] has 3 dimensions, expected 2/);
    assert.throws(() => l2Normalize([0, 0]), /norm 0/);
    assert.throws(() => l2Normalize([1, NaN], 'item 3 embedding'), /item 3 embedding has a non-finite value at position 1/);
  });

  it('classification: ranks by hand, ties counted against the item', () => {
    const protos = [0, 1, 2, 3, 4, 5].map((c) => Float64Array.from({ length: 6 }, (_, i) => (i === c ? 1 : 0)));
    const items = [
      [0, 0, 0, 0, 0, 3], // label 5: rank 1
      [1, 2, 0, 0, 0, 0], // label 0: class 1 ahead → rank 2
      [0.5, 0.6, 0.4, 0.7, 0.8, 0.9], // label 2: last of 6 → rank 6 (outside the top 5)
      [0.9, 0, 0, 0.5, 1, 0.8], // label 3: 3 classes ahead → rank 4
      [0, 0, 0, 0, 1, 1], // label 5: a tie with class 4 → rank 2
    ];
    const out = classify(items, protos, [5, 0, 2, 3, 5]);
    assert.deepEqual(out.map((o) => o.rank), [1, 2, 6, 4, 2]);
    assert.deepEqual(out[3]!.top, [4, 0, 5, 3, 1]);
    assert.deepEqual(out[4]!.top.slice(0, 2), [4, 5]); // equal similarity: lower class index first in the list
    assert.deepEqual(hitsAt(out.map((o) => o.rank), 1), [1, 0, 0, 0, 0]);
    assert.deepEqual(hitsAt(out.map((o) => o.rank), 5), [1, 1, 0, 1, 1]);
    assert.throws(() => classify([[1, 0]], protos, [0]), /item embedding\[0\] has 2 dimensions, expected 6/);
    assert.throws(() => classify([[1, 0, 0, 0, 0, 0]], protos, [6]), /label of item 0 is 6/);
    assert.throws(() => classify([[1, 0, 0, 0, 0, 0]], protos, []), /1 items but 0 labels/);
  });

  it('retrieval: text→item rank of each text, item→text best rank of an item\'s texts', () => {
    const items = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
    const texts = [[1, 0, 0, 0], [0.2, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0.3, 1], [0.5, 0.6, 0.1, 0.7], [0, 0, 0, 1], [0, 0, 0.5, 1]];
    const owner = [0, 0, 1, 1, 2, 2, 3, 3];
    const r = retrieve(items, texts, owner);
    assert.deepEqual(r.textRank, [1, 2, 1, 1, 2, 4, 1, 1]);
    // Item 2's best own text is [0, 0, .3, 1] (cos .287); item 3's text [0, 0, .5, 1] is closer (cos .447): rank 2.
    assert.deepEqual(r.itemRank, [1, 1, 2, 1]);
    assert.throws(() => retrieve(items, texts.slice(0, 2), [0, 0]), /item 1 has no text/);
    assert.throws(() => retrieve(items, [[1, 0, 0]], [0]), /text embedding\[0\] has 3 dimensions, expected 4/);
  });

  it('intervals: Wilson on items for 0/1 per item, never of zero width at 0% or 100%', () => {
    const f = proportionFigure([1, 1, 1, 0, 1, 0, 1, 1, 1, 1]);
    assert.equal(f.value, 0.8);
    assert.deepEqual(f.ci95, wilsonInterval(0.8, 10));
    assert.equal(f.n, 10);
    assert.match(f.method, /Wilson score interval on 10 items/);
    // 30 items, none right / all right: the bound is z²/(n + z²) = 3.8415/33.8415 = 0.1135 (Wilson at p̂ = 0).
    const z2 = 1.959963984540054 ** 2;
    const none = proportionFigure(new Array(30).fill(0));
    assert.equal(none.ci95.lo, 0);
    close(none.ci95.hi, z2 / (30 + z2), 1e-9);
    const all = proportionFigure(new Array(30).fill(1));
    assert.equal(all.ci95.hi, 1);
    close(all.ci95.lo, 30 / (30 + z2), 1e-9);
    assert.throws(() => proportionFigure([]), /no items/);
    assert.throws(() => proportionFigure([0.5]), /0 or 1/);
  });

  it('intervals: clustered score interval over items for text→item (texts of one item together)', () => {
    const clusters = [[1, 0], [1, 1], [0, 0], [1, 1]];
    const f = clusteredFigure(clusters);
    assert.equal(f.value, 0.625);
    const direct = clusteredScoreInterval(countTable(clusters)!);
    assert.deepEqual(f.ci95, { lo: direct.lo, hi: direct.hi });
    assert.ok(f.ci95.lo < 0.625 && 0.625 < f.ci95.hi);
    // One text per item: exactly Wilson on the items.
    const one = clusteredFigure([[1], [0], [1], [1]]);
    const w = wilsonInterval(0.75, 4);
    close(one.ci95.lo, w.lo, 1e-9);
    close(one.ci95.hi, w.hi, 1e-9);
    // Every text of every item right: upper bound 1, lower bound below 1 (width > 0).
    const perfect = clusteredFigure(new Array(30).fill([1, 1, 1, 1, 1]));
    assert.equal(perfect.ci95.hi, 1);
    assert.ok(perfect.ci95.lo < 0.95 && perfect.ci95.lo > 0.8, String(perfect.ci95.lo));
    const nothing = clusteredFigure(new Array(30).fill([0, 0, 0, 0, 0]));
    assert.equal(nothing.ci95.lo, 0);
    assert.ok(nothing.ci95.hi > 0.05, String(nothing.ci95.hi));
    assert.throws(() => clusteredFigure([[1], []]), /at least one value/);
  });
});
