/**
 * Files that are not UTF-8 are refused naming the line, never decoded with U+FFFD (which merged `s\xff1` and
 * `s\xfe1` into one sample); characters cut by a chunk boundary still read; a lone surrogate in a JSONL id is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8Chunks } from '../../src/importers/utf8.ts';
import { importGenericCsv, importGenericJsonl } from '../../src/importers/tools.ts';
import { InputError } from '../../src/core/errors.ts';
import { openPool } from '../../src/store/open.ts';

const dir = mkdtempSync(join(tmpdir(), 'assay-utf8-'));
const file = (name: string, bytes: Buffer | string) => {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
};
async function read(f: string, chunk: number): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of utf8Chunks(f, chunk)) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}
const refused = (line: number, byte: number) => (e: unknown) => e instanceof InputError && e.where.line === line && new RegExp(`not UTF-8 text: byte ${byte} `).test(e.message);

test('multi-byte characters cut by every chunk boundary read whole', async () => {
  const text = 'model,sample_id\n' + 'é漢字😀,Ω\n'.repeat(50);
  const f = file('ok.csv', text);
  for (const chunk of [1, 2, 3, 5, 7, 64]) assert.equal(await read(f, chunk), text, `chunks of ${chunk} bytes`);
});

test('invalid bytes, overlong forms, encoded surrogates and a cut last character are refused with their line', async () => {
  const head = Buffer.from('model,sample_id\nA,s1\n');
  const cases: [string, Buffer, number][] = [
    ['invalid byte', Buffer.from([0x42, 0x2c, 0x73, 0xff, 0x31, 0x0a]), 3],
    ['overlong /', Buffer.from([0x42, 0x2c, 0xc0, 0xaf, 0x0a]), 3],
    ['encoded surrogate', Buffer.from([0x42, 0x2c, 0xed, 0xa0, 0x80, 0x0a]), 3],
    ['above U+10FFFF', Buffer.from([0x42, 0x2c, 0xf4, 0x90, 0x80, 0x80, 0x0a]), 3],
    ['lone continuation', Buffer.from([0x0a, 0x42, 0x2c, 0x80, 0x0a]), 4],
  ];
  for (const [what, tail, line] of cases) {
    const f = file(`bad-${what.replace(/\W/g, '')}.csv`, Buffer.concat([head, tail]));
    const at = head.length + tail.findIndex((b, i) => b >= 0x80 && (i === 0 || tail[i - 1]! < 0x80));
    for (const chunk of [1, 3, 1 << 20]) await assert.rejects(read(f, chunk), refused(line, at), `${what}, chunks of ${chunk}`);
  }
  const cut = file('cut.csv', Buffer.concat([head, Buffer.from([0x42, 0x2c, 0xe6, 0xbc])]));
  await assert.rejects(read(cut, 1 << 20), refused(3, head.length + 2));
});

test('import csv refuses a file with invalid bytes (two ids no longer merge); import jsonl refuses a lone surrogate', async () => {
  const pool = await openPool('memory:');
  const csv = file('bad9.csv', Buffer.concat([Buffer.from('model,sample_id,value,kind\nA,s'), Buffer.from([0xff]), Buffer.from('1,1,binary\nB,s'), Buffer.from([0xfe]), Buffer.from('1,0,binary\n')]));
  await assert.rejects(importGenericCsv(pool, csv), (e: unknown) => e instanceof InputError && e.where.file === csv && e.where.line === 2 && /not UTF-8/.test(e.message));
  const jsonl = file('sur.jsonl', '{"model":"A","sample_id":"s1","value":1,"kind":"binary"}\n{"model":"A","sample_id":"s1\\ud800","value":1,"kind":"binary"}\n');
  await assert.rejects(importGenericJsonl(pool, jsonl), (e: unknown) => e instanceof InputError && e.where.line === 2 && e.where.field === 'sample_id' && /lone surrogate/.test(e.message));
  assert.deepEqual(await pool.sources(), []);
  await pool.close();
});
