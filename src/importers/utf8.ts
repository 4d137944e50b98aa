/**
 * Reading a text file as UTF-8 that refuses what is not UTF-8. Node's decoders replace an invalid byte with U+FFFD
 * silently, so two ids differing only in an invalid byte (`s\xff1`, `s\xfe1`) would become one sample; here such a
 * file is an InputError naming the line and byte.
 */
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { InputError } from '../core/errors.ts';

/**
 * The bytes of `file` in chunks of about `chunkBytes` (default 1 MiB), each ending on a character boundary and each
 * valid UTF-8 (checked natively: `buffer.isUtf8`). Errors: InputError naming the file, the 1-based line and the byte
 * offset of the first byte that is not UTF-8 (an invalid byte, a truncated sequence at the end of the file, an
 * overlong form or an encoded surrogate); the file system's errors.
 */
export async function* utf8Chunks(file: string, chunkBytes = 1 << 20): AsyncGenerator<Buffer> {
  let carry: Buffer | null = null;
  let offset = 0; // bytes of the file before `carry` + the chunk being checked
  for await (const raw of createReadStream(file, { highWaterMark: chunkBytes })) {
    let chunk: Buffer = carry ? Buffer.concat([carry, raw as Buffer]) : (raw as Buffer);
    // keep a character cut by the chunk's end for the next chunk (at most 3 bytes of a 4-byte sequence)
    const cut = incompleteTail(chunk);
    carry = cut ? Buffer.from(chunk.subarray(chunk.length - cut)) : null;
    if (cut) chunk = chunk.subarray(0, chunk.length - cut);
    if (!isUtf8(chunk)) throw notUtf8(file, offset + firstInvalid(chunk));
    offset += chunk.length;
    if (chunk.length) yield chunk;
  }
  if (carry) throw notUtf8(file, offset);
}

/** How many bytes at the end of `b` start a multi-byte sequence that the buffer does not finish (0–3). */
function incompleteTail(b: Buffer): number {
  for (let k = 1; k <= Math.min(3, b.length); k++) {
    const c = b[b.length - k]!;
    if ((c & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}

/** Offset of the first byte of `b` that does not begin a valid UTF-8 sequence (RFC 3629, section 4), or b.length. */
function firstInvalid(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n = 0, min = 0;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) { n = 1; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; min = 0x10000; }
    else return i;
    let cp = c & (0xff >> (n + 2));
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return i;
}

function notUtf8(file: string, at: number): InputError {
  // the line: newlines before the byte (read again: this is the error path only)
  const fd = openSync(file, 'r');
  let line = 1;
  try {
    const buf = Buffer.alloc(1 << 16);
    for (let pos = 0; pos < at; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, at - pos), pos);
      if (n <= 0) break;
      for (let k = 0; k < n; k++) if (buf[k] === 10) line++;
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return new InputError(`is not UTF-8 text: byte ${at} (0-based) starts no valid UTF-8 character; save the file as UTF-8`, { file, line });
}
