/**
 * What the fake model servers (OpenAI-compatible, Anthropic, Gemini) do with the images a request carries: decode
 * the base64, check the bytes are the type the request declares, and hash them, so a test can check that an image
 * arrived intact and typed right (the server answers with the hashes it decoded). No real model runs here.
 */
import { createHash } from 'node:crypto';

/** One image as a fake server received it. */
export interface FakeImage {
  /** The MIME type the request declared. */
  mime_type: string;
  /** The type the bytes are (from their signature), or null when they are none of PNG, JPEG, WebP. */
  sniffed: string | null;
  /** sha256 (hex) of the decoded bytes. */
  sha256: string;
  bytes: number;
}

function sniff(b: Buffer): string | null {
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return null;
}

/** Decode base64 image data declared as `mime`. Errors: Error when the base64 is invalid. */
export function decodeFakeImage(mime: string, base64: string): FakeImage {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 === 1) throw new Error('invalid base64 image data');
  const bytes = Buffer.from(base64, 'base64');
  return { mime_type: mime, sniffed: sniff(bytes), sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

/** Decode a `data:<mime>;base64,…` URI. Errors: Error for anything else. */
export function decodeFakeDataUri(uri: string): FakeImage {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(uri);
  if (!m) throw new Error(`not a base64 data URI: ${uri.slice(0, 30)}`);
  return decodeFakeImage(m[1]!, m[2]!);
}

/** The answer a fake server gives when asked to echo images: one line per image, `image <mime> <sha256>`. */
export function describeFakeImages(images: readonly FakeImage[]): string {
  return images.map((i) => `image ${i.mime_type} ${i.sha256}`).join('\n');
}
