/**
 * The SQLite import's staging (src/store/sqlite-imports.ts): rows staged narrow against interned profiles, rows past
 * MAX_PROFILES staged whole, samples added once per key without a set of every key, and the sorted copy at commit.
 * Each test checks what is stored (or that nothing is), so a wrong join, order, count or rollback fails it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { csvBatches } from '../../src/importers/csv.ts';
import { readLineBatches } from '../../src/importers/common.ts';
import { importGenericCsv, importGenericJsonl } from '../../src/importers/index.ts';
import { createRng } from '../../src/core/rng.ts';
import { openPool } from '../../src/store/open.ts';
import { MAX_PROFILES } from '../../src/store/sqlite-imports.ts';
import { InputError } from '../../src/core/errors.ts';
import { collect } from '../helpers/collect.ts';
import type { Pool } from '../../src/store/types.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'assay-import-staging-'));
const measurementsOf = async (pool: Pool) => collect(pool.iteratePoolMeasurements({ runs: false }));
const samplesOf = async (pool: Pool) => collect(pool.iteratePoolSamples({ runs: false }));

describe('SQLite import staging', () => {
  it('a failing import (bad row or repeat past many batches, or a failing --replace) leaves the pool as it was', async () => {
    const dir = tmp();
    const pool = await openPool(join(dir, 'p.sqlite'), { create: true });
    const good = join(dir, 'good.csv');
    writeFileSync(good, 'model,sample_id,value,kind,category\na,1,1,binary,alg\nb,1,0,binary,alg\na,2,0.5,binary,geo\n');
    const first = await importGenericCsv(pool, good);
    const before = { sources: await pool.sources(), measurements: await measurementsOf(pool), samples: await samplesOf(pool) };
    assert.equal(before.measurements.length, 3);
    // 20,000 good rows (several store batches) then a bad one: nothing of them is kept, not even their samples
    const rows = Array.from({ length: 20_000 }, (_, i) => `m${i % 7},q${i},${i % 2},binary,new`);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, ['model,sample_id,value,kind,category', ...rows, 'm1,q0x,2,binary,new'].join('\n') + '\n');
    await assert.rejects(importGenericCsv(pool, bad), (e: unknown) => e instanceof InputError && e.message.startsWith(`${bad}:20002 field "value": binary value must be in [0, 1]`));
    // a repeat found only at commit, far from its first arrival
    const dup = join(dir, 'dup.csv');
    writeFileSync(dup, ['model,sample_id,value,kind,category', ...rows, 'm3,q3,1,binary,new'].join('\n') + '\n');
    await assert.rejects(importGenericCsv(pool, dup), (e: unknown) => e instanceof InputError && e.message === `${dup}:20002: duplicate measurement: model "m3" on sample "dup/q3" was already given at line 5`);
    // a file imported, then again with --replace, now failing: the first import of it stays
    const replacing = join(dir, 'good.jsonl');
    writeFileSync(replacing, '{"model":"z","sample_id":"9","value":1,"kind":"binary"}\n{"model":"z","sample_id":"8","value":0,"kind":"binary"}\n');
    await importGenericJsonl(pool, replacing);
    const withJsonl = { sources: await pool.sources(), measurements: await measurementsOf(pool), samples: await samplesOf(pool) };
    assert.equal(withJsonl.measurements.length, 5);
    writeFileSync(replacing, '{"model":"z","sample_id":"9","value":1,"kind":"binary"}\n{"model":"z","sample_id":"8","value":7,"kind":"binary"}\n');
    await assert.rejects(importGenericJsonl(pool, replacing, { replace: true }), (e: unknown) => e instanceof InputError && /good\.jsonl:2 field "value"/.test(e.message));
    assert.deepEqual(await pool.sources(), withJsonl.sources);
    assert.deepEqual(await measurementsOf(pool), withJsonl.measurements);
    assert.deepEqual(await samplesOf(pool), withJsonl.samples);
    assert.deepEqual(withJsonl.sources.slice(0, 1), before.sources);
    assert.deepEqual(withJsonl.samples.filter((s) => s.dataset === 'good' && ['1', '2'].includes(s.sample_id)), before.samples);
    assert.equal(first.measurements, 3);
    await pool.close();
  });

  it('rows past MAX_PROFILES profiles are staged whole: every value stored, in key order, repeats found across both kinds', async () => {
    const dir = tmp();
    const pool = await openPool(join(dir, 'p.sqlite'), { create: true });
    // each tie tolerance is a profile of its own: MAX_PROFILES + 500 profiles, the last 500 rows staged whole
    const n = MAX_PROFILES + 500;
    const lines = ['model,sample_id,value,kind,tie_tolerance,slice,repeat'];
    for (let i = 0; i < n; i++) lines.push(`m${i % 3},s${(i * 7919) % n},${(i % 10) / 10},numeric,${i + 1},${i % 2 ? 'x' : ''},${i % 4}`);
    const file = join(dir, 'w.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    const rec = await importGenericCsv(pool, file);
    assert.equal(rec.measurements, n);
    const got = await measurementsOf(pool);
    assert.equal(got.length, n);
    // each stored row is the one of its line (value, tie tolerance, slice, repeat all from that line)
    for (const m of got) {
      const i = m.line! - 2;
      assert.deepEqual([m.model, m.sample_key, m.value, m.tie_tolerance, m.slice, m.rep, m.kind], [`m${i % 3}`, `w/s${(i * 7919) % n}`, (i % 10) / 10, i + 1, i % 2 ? 'x' : '', i % 4, 'numeric']);
    }
    // key order: slice, model, opponent, sample key, repeat (code points)
    const keys = got.map((m) => [m.slice, m.model, m.opponent, m.sample_key, String(m.rep).padStart(3, '0')].join('\u0000'));
    assert.deepEqual(keys, [...keys].sort());
    // a repeat of a narrow row (line 2) given after the cap, staged whole: found, with both lines
    const again = join(dir, 'again.csv');
    writeFileSync(again, [...lines, 'm0,s0,1,numeric,1,,0'].join('\n') + '\n');
    await assert.rejects(importGenericCsv(pool, again), (e: unknown) => e instanceof InputError && e.message === `${again}:${n + 2}: duplicate measurement: model "m0" on sample "again/s0" was already given at line 2`);
    await pool.close();
  });

  it('samples are added once per key, the first row deciding, without a set of every key (more keys than the recent set holds)', async () => {
    const dir = tmp();
    const pool = await openPool(join(dir, 'p.sqlite'), { create: true });
    // model-major: each model meets all 6,000 samples, so a sample's key comes back after 6,000 others
    const lines = ['model,sample_id,value,kind,category'];
    for (const m of ['a', 'b', 'c']) for (let s = 0; s < 6000; s++) lines.push(`${m},q${s},1,binary,${m === 'a' ? (s % 2 ? 'odd' : '') : 'later'}`);
    const file = join(dir, 'cats.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    const rec = await importGenericCsv(pool, file);
    assert.deepEqual([rec.measurements, rec.samples], [18_000, 6000]);
    const samples = await samplesOf(pool);
    assert.equal(samples.length, 6000);
    // the first row of each sample (model a) decides: "odd" for odd ids, none for even ones (not "later")
    for (const s of samples) assert.equal(s.category, Number(s.sample_id.slice(1)) % 2 ? 'odd' : null, s.key);
    // the in-memory pool gives the same samples
    const mem = await openPool('memory:');
    await importGenericCsv(mem, file);
    assert.deepEqual(await samplesOf(mem), samples);
    assert.deepEqual((await measurementsOf(mem)).map(({ source: _s, ...m }) => m), (await measurementsOf(pool)).map(({ source: _s, ...m }) => m));
    await mem.close();
    await pool.close();
  });

  it('the readers hand out the same records and lines across their batch boundaries (4,096 records), quoted line ends included', async () => {
    const dir = tmp();
    const rng = createRng(7);
    // 20,000 records, some quoted with commas, doubled quotes and line ends, some blank lines between
    const rows: string[] = ['a,b,c'];
    for (let i = 0; i < 20_000; i++) {
      const r = rng.index(10);
      rows.push(r === 0 ? `${i},"x\ny, ""q""",z` : r === 1 ? `${i},"multi\n\nline",` : `${i},v${i},w`);
      if (rng.index(50) === 0) rows.push('');
    }
    const text = rows.join('\n') + '\n';
    const file = join(dir, 'big.csv');
    writeFileSync(file, text);
    const want: string[] = [];
    for await (const { record, info } of parse(text, { info: true, skip_empty_lines: true }) as AsyncIterable<{ record: string[]; info: { lines: number } }>) want.push(`${info.lines} ${JSON.stringify(record)}`);
    const got: string[] = [];
    let batches = 0;
    for await (const b of csvBatches(file)) {
      batches++;
      assert.ok(b.records.length <= 4096);
      b.records.forEach((r, k) => got.push(`${b.lines[k]} ${JSON.stringify(r)}`));
    }
    assert.ok(batches >= 5);
    assert.deepEqual(got, want);
    // JSON Lines: every non-blank line once, with its number
    const lines = Array.from({ length: 10_000 }, (_, i) => (i % 97 === 0 ? '' : `{"i":${i}}`));
    const jf = join(dir, 'big.jsonl');
    writeFileSync(jf, lines.join('\n') + '\n');
    const seen: string[] = [];
    for await (const b of readLineBatches(jf)) {
      assert.ok(b.length <= 4096);
      for (const l of b) seen.push(`${l.line}:${l.text}`);
    }
    assert.deepEqual(seen, lines.map((t, i) => `${i + 1}:${t}`).filter((x) => !x.endsWith(':')));
  });
});
