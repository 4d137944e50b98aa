/**
 * Reading images for datasets: from a file, bytes or a data URI (core/images.ts), in generic rows (`fields.image`,
 * what `assay gen charts` writes) and in HLE exports. Bad input — a missing image file, an unknown MIME type, a
 * corrupt data URI, bytes that are not an image — is an InputError naming the file, line and field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import { imageFromBytes, imageFromDataUri, loadImage, sniffImageType } from '../../src/core/images.ts';
import type { Message } from '../../src/core/schemas.ts';
import { loadDataset } from '../../src/datasets/index.ts';

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('a chart, more or less')]);
const JPEG = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), Buffer.from('a photo')]);
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 pixels')]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const uri = (mime: string, b: Buffer) => `data:${mime};base64,${b.toString('base64')}`;

test('images from bytes, data URIs and files: typed by their bytes, hashed; bad ones are InputErrors', () => {
  assert.equal(sniffImageType(PNG), 'image/png');
  assert.equal(sniffImageType(JPEG), 'image/jpeg');
  assert.equal(sniffImageType(WEBP), 'image/webp');
  assert.equal(sniffImageType(Buffer.from('GIF89a......')), null);
  const p = imageFromBytes(PNG);
  assert.deepEqual([p.mime_type, p.sha256], ['image/png', sha(PNG)]);
  assert.equal(imageFromDataUri(uri('image/jpg', JPEG)).mime_type, 'image/jpeg', 'image/jpg is JPEG');
  assert.equal(loadImage(uri('image/webp', WEBP)).sha256, sha(WEBP));
  assert.equal(loadImage(new Uint8Array(PNG)).sha256, sha(PNG));
  const where = { file: 'd.jsonl', line: 3, field: 'image' };
  const bad: [string | Buffer, RegExp][] = [
    [uri('image/gif', Buffer.from('GIF89a')), /unknown image MIME type "image\/gif"/],
    ['data:image/png;base64,@@@not base64', /corrupt data URI/],
    ['data:image/png,plain', /not a base64 data URI/],
    [uri('image/png', JPEG), /declared image\/png but its bytes are image\/jpeg/],
    [Buffer.from('hello'), /unknown image type: the bytes are not PNG, JPEG or WebP/],
    ['/nonexistent/chart.png', /image file not found or unreadable: \/nonexistent\/chart\.png/],
    ['https://example.org/x.png', /image URLs are not fetched/],
    [Buffer.alloc(0), /empty image/],
  ];
  for (const [source, re] of bad) {
    assert.throws(() => loadImage(source, { where }), (e: unknown) => e instanceof InputError && e.message.startsWith('d.jsonl:3 field "image": ') && re.test(e.message), String(re));
  }
});

test('generic rows with an image column (what `assay gen charts` writes) become image parts; --text-only leaves them out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-rows-images-'));
  try {
    mkdirSync(join(dir, 'images'));
    writeFileSync(join(dir, 'images', 'a.png'), PNG);
    writeFileSync(join(dir, 'images', 'b.jpg'), JPEG);
    const file = join(dir, 'charts.jsonl');
    const rows = [
      { id: 'a', question: 'What is the gradient?', answer: '2', image: 'images/a.png', image_sha256: sha(PNG) },
      { id: 'b', question: 'How many points?', answer: '7', image: 'images/b.jpg' },
      { id: 'c', question: 'Inline?', answer: '1', image: uri('image/webp', WEBP) },
      { id: 'd', question: 'No image here.', answer: '0', image: '' },
      { id: 'e', question: 'Same chart again', answer: '2', image: 'images/a.png' },
    ];
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const ds = await loadDataset(`jsonl:${file}`, { fields: { image: 'image' } });
    assert.deepEqual([...ds.images!.keys()].sort(), [sha(PNG), sha(JPEG), sha(WEBP)].sort(), 'each image once');
    assert.deepEqual(ds.samples[0]!.input, [{ role: 'user', content: [{ type: 'text', text: 'What is the gradient?' }, { type: 'image', sha256: sha(PNG), mime_type: 'image/png' }] }]);
    assert.equal(((ds.samples[1]!.input as Message[])[0]!.content as { type: string }[]).at(-1)!.type, 'image');
    assert.equal(ds.samples[2]!.metadata.image, `sha256:${sha(WEBP)}`, 'a data URI is not kept twice');
    assert.equal(ds.samples[0]!.metadata.image, 'images/a.png');
    assert.equal(ds.samples[3]!.input, 'No image here.');
    assert.ok(ds.images!.get(sha(PNG))!.load().equals(PNG));
    // Text only: today's samples, counted.
    const text = await loadDataset(`jsonl:${file}`, { fields: { image: 'image' }, textOnly: true });
    assert.deepEqual(text.samples.map((s) => s.input), rows.map((r) => r.question));
    assert.deepEqual(text.textOnly, { dropped: 4 });
    assert.equal(text.images, undefined);
    // Without the option, the column is metadata, as before.
    assert.equal((await loadDataset(`jsonl:${file}`)).samples[0]!.input, 'What is the gradient?');

    // Bad rows: file, line and field named.
    const bad = join(dir, 'bad.jsonl');
    const expectBad = async (row: Record<string, unknown>, re: RegExp) => {
      writeFileSync(bad, JSON.stringify(rows[3]) + '\n' + JSON.stringify(row) + '\n');
      await assert.rejects(loadDataset(`jsonl:${bad}`, { fields: { image: 'image' } }), (e: unknown) => e instanceof InputError && re.test(e.message), String(re));
      // --text-only does not read the image at all
      assert.equal((await loadDataset(`jsonl:${bad}`, { fields: { image: 'image' }, textOnly: true })).samples.length, 2);
    };
    const at = /bad\.jsonl:2 field "image": /.source;
    await expectBad({ id: 'x', question: 'q', answer: '1', image: 'images/missing.png' }, new RegExp(`${at}image file not found or unreadable: .*images/missing\\.png`));
    await expectBad({ id: 'x', question: 'q', answer: '1', image: uri('image/gif', Buffer.from('GIF89a')) }, new RegExp(`${at}unknown image MIME type "image/gif"`));
    await expectBad({ id: 'x', question: 'q', answer: '1', image: 'data:image/png;base64,***' }, new RegExp(`${at}corrupt data URI`));
    writeFileSync(join(dir, 'images', 'text.png'), 'not a png');
    await expectBad({ id: 'x', question: 'q', answer: '1', image: 'images/text.png' }, new RegExp(`${at}.*text\\.png: unknown image type`));
    await expectBad({ id: 'x', question: 'q', answer: '1', image: 'images/a.png', image_sha256: sha(JPEG) }, new RegExp(`${at}image images/a\\.png has sha256 ${sha(PNG)}, but the row's image_sha256 says`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hle: image questions carry their image (data URI or a file beside the export); bad images name file, line and field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assay-hle-images-'));
  try {
    writeFileSync(join(dir, 'fig.jpg'), JPEG);
    const row = (id: string, image: string) => ({ id, question: `Question ${id}?`, answer: '1', answer_type: 'exactMatch', image, category: 'Math' });
    const file = join(dir, 'hle.jsonl');
    writeFileSync(file, [row('t1', ''), row('i1', uri('image/png', PNG)), row('i2', 'fig.jpg')].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const ds = await loadDataset(`hle:${file}`);
    const [t1, i1, i2] = ds.samples;
    assert.equal((t1!.input as Message[])[1]!.content, 'Question t1?');
    assert.deepEqual((i1!.input as Message[])[1], { role: 'user', content: [{ type: 'text', text: 'Question i1?' }, { type: 'image', sha256: sha(PNG), mime_type: 'image/png' }] });
    assert.deepEqual(((i2!.input as Message[])[1]!.content as { type: string; mime_type?: string }[])[1], { type: 'image', sha256: sha(JPEG), mime_type: 'image/jpeg' });
    assert.equal(i1!.metadata.has_image, true);
    assert.equal(i1!.metadata.image, `sha256:${sha(PNG)}`);
    assert.equal(ds.images!.size, 2);
    const text = await loadDataset(`hle:${file}`, { textOnly: true });
    assert.deepEqual(text.textOnly, { dropped: 2 });
    assert.deepEqual((text.samples[1]!.input as Message[])[1], { role: 'user', content: 'Question i1?' });
    assert.equal(text.samples[1]!.metadata.image, uri('image/png', PNG), 'text only: the row as before');

    const bad = join(dir, 'bad.jsonl');
    for (const [image, re] of [
      ['missing.png', /bad\.jsonl:2 field "image": image file not found or unreadable: .*missing\.png/],
      ['data:image/png;base64,%%%', /bad\.jsonl:2 field "image": corrupt data URI/],
      [uri('image/tiff', Buffer.from('II*\0')), /bad\.jsonl:2 field "image": unknown image MIME type "image\/tiff"/],
      ['https://example.org/fig.png', /bad\.jsonl:2 field "image": image URLs are not fetched/],
    ] as const) {
      writeFileSync(bad, JSON.stringify(row('t1', '')) + '\n' + JSON.stringify(row('b', image)) + '\n');
      await assert.rejects(loadDataset(`hle:${bad}`), (e: unknown) => e instanceof InputError && re.test(e.message), String(re));
      assert.equal((await loadDataset(`hle:${bad}`, { textOnly: true })).samples.length, 2, 'text only reads no image');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
