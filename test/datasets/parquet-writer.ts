/**
 * A minimal Parquet writer for test fixtures (no Parquet writer is installed, and no real HLE data is available):
 * one row group, one uncompressed PLAIN data page per column, every column a REQUIRED UTF-8 string. Enough for
 * hyparquet to read back; not a general writer. Format: Apache Parquet `parquet.thrift` (FileMetaData, PageHeader),
 * Thrift compact protocol.
 */
import { writeFileSync } from 'node:fs';

class Compact {
  bytes: number[] = [];
  private last: number[] = [0];
  varint(n: bigint): void {
    let v = n;
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v) b |= 0x80;
      this.bytes.push(b);
    } while (v);
  }
  zigzag(n: number | bigint): void {
    const v = BigInt(n);
    this.varint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
  }
  field(id: number, type: number): void {
    const delta = id - this.last[this.last.length - 1]!;
    if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type);
    else {
      this.bytes.push(type);
      this.zigzag(id);
    }
    this.last[this.last.length - 1] = id;
  }
  i32(id: number, v: number): void {
    this.field(id, 5);
    this.zigzag(v);
  }
  i64(id: number, v: number): void {
    this.field(id, 6);
    this.zigzag(v);
  }
  binary(id: number, s: string): void {
    this.field(id, 8);
    this.rawBinary(s);
  }
  rawBinary(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.varint(BigInt(b.length));
    this.bytes.push(...b);
  }
  listHeader(id: number, elemType: number, size: number): void {
    this.field(id, 9);
    if (size < 15) this.bytes.push((size << 4) | elemType);
    else {
      this.bytes.push(0xf0 | elemType);
      this.varint(BigInt(size));
    }
  }
  beginStruct(id?: number): void {
    if (id !== undefined) this.field(id, 12);
    this.last.push(0);
  }
  endStruct(): void {
    this.bytes.push(0);
    this.last.pop();
  }
}

/**
 * Write `rows` (objects whose values are strings) to a Parquet file with the given column order.
 * @throws Error when a value is not a string
 */
export function writeStringParquet(path: string, columns: string[], rows: Record<string, string>[]): void {
  const parts: Buffer[] = [Buffer.from('PAR1')];
  let offset = 4;
  const chunks: { name: string; offset: number; size: number }[] = [];
  for (const name of columns) {
    const values = rows.map((r) => {
      const v = r[name];
      if (typeof v !== 'string') throw new Error(`column ${name}: not a string`);
      const b = Buffer.from(v, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      return Buffer.concat([len, b]);
    });
    const data = Buffer.concat(values);
    const h = new Compact();
    h.beginStruct();
    h.i32(1, 0); // DATA_PAGE
    h.i32(2, data.length);
    h.i32(3, data.length);
    h.beginStruct(5);
    h.i32(1, rows.length);
    h.i32(2, 0); // PLAIN
    h.i32(3, 3); // RLE
    h.i32(4, 3);
    h.endStruct();
    h.endStruct();
    const header = Buffer.from(h.bytes);
    chunks.push({ name, offset, size: header.length + data.length });
    parts.push(header, data);
    offset += header.length + data.length;
  }
  const m = new Compact();
  m.beginStruct();
  m.i32(1, 1);
  m.listHeader(2, 12, columns.length + 1);
  m.beginStruct();
  m.binary(4, 'schema');
  m.i32(5, columns.length);
  m.endStruct();
  for (const name of columns) {
    m.beginStruct();
    m.i32(1, 6); // BYTE_ARRAY
    m.i32(3, 0); // REQUIRED
    m.binary(4, name);
    m.i32(6, 0); // UTF8
    m.endStruct();
  }
  m.i64(3, rows.length);
  m.listHeader(4, 12, 1);
  m.beginStruct();
  m.listHeader(1, 12, chunks.length);
  for (const c of chunks) {
    m.beginStruct();
    m.i64(2, c.offset);
    m.beginStruct(3);
    m.i32(1, 6);
    m.listHeader(2, 5, 2);
    m.zigzag(0);
    m.zigzag(3);
    m.listHeader(3, 8, 1);
    m.rawBinary(c.name);
    m.i32(4, 0); // UNCOMPRESSED
    m.i64(5, rows.length);
    m.i64(6, c.size);
    m.i64(7, c.size);
    m.i64(9, c.offset);
    m.endStruct();
    m.endStruct();
  }
  m.i64(2, chunks.reduce((a, c) => a + c.size, 0));
  m.i64(3, rows.length);
  m.endStruct();
  m.endStruct();
  const footer = Buffer.from(m.bytes);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(footer.length);
  parts.push(footer, len, Buffer.from('PAR1'));
  writeFileSync(path, Buffer.concat(parts));
}
