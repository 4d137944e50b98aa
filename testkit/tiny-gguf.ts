/**
 * A tiny GGUF model written from scratch, so tests and benchmarks can run the real llama.cpp runtime
 * (node-llama-cpp) without downloading anything (no model hub is reachable here, and none is needed).
 *
 * The model: llama architecture, F32 weights drawn from a seeded normal distribution, `layers` blocks of `dim`
 * dimensions with `heads` attention heads, a feed-forward width of `ff`. The tokenizer is GPT-2's byte-level BPE
 * (`tokenizer.ggml.model = gpt2`): one token per byte (GPT-2's byte → printable-character map), the merges
 * `Ġ t`, `h e` and `Ġt he` (so " the" is one token and BPE boundaries are exercised), then the control tokens
 * `<s>` (BOS) and `</s>` (EOS). A Jinja chat template is stored under `tokenizer.chat_template` (default: a small
 * ChatML-like template with markers of its own, so a test can tell it was used).
 *
 * File layout (GGUF v3, https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): magic `GGUF`, version 3,
 * tensor count (u64), metadata count (u64), metadata key/values, tensor infos (name, dims, type, offset), padding
 * to `general.alignment` (32), tensor data (each tensor padded to 32 bytes). All little-endian.
 */
import { writeFileSync } from 'node:fs';

/** Options of {@link writeTinyGguf}. */
export interface TinyGgufOptions {
  /** Seed of the weights (same seed: byte-identical file). Default 1. */
  seed?: number;
  layers?: number;
  dim?: number;
  heads?: number;
  ff?: number;
  /** `llama.context_length` (the training context). Default 2048. */
  contextLength?: number;
  /** Jinja chat template stored in the file; `null` stores none. */
  chatTemplate?: string | null;
  /** Standard deviation of the output projection (larger: peakier next-token distributions). Default 0.15. */
  outputScale?: number;
  /**
   * Only these characters' byte tokens get output weights; every other token's logit is exactly 0, so a greedy
   * decode emits only them (a test can then re-tokenize greedy text unchanged). Default: every token.
   */
  outputChars?: string;
}

/** The default chat template: ChatML-like with its own markers (`<|turn:ROLE|>` … `<|end|>`). */
export const TINY_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|turn:' + message['role'] + '|>' + message['content'] + '<|end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|turn:assistant|>' }}{% endif %}";

/** GPT-2's byte → unicode map (`bytes_to_unicode` in GPT-2's encoder.py): printable bytes map to themselves. */
export function gpt2ByteChars(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const out: string[] = new Array(256);
  for (const b of bs) out[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCharCode(256 + n++);
  return out;
}

const MERGES = ['Ġ t', 'h e', 'Ġt he'];

/** Tokens of the tiny vocabulary, in id order, and their GGUF token types (1 normal, 3 control). */
export function tinyVocabulary(): { tokens: string[]; types: number[]; bos: number; eos: number } {
  const tokens = [...gpt2ByteChars(), ...MERGES.map((m) => m.replace(' ', '')), '<s>', '</s>'];
  const types = tokens.map((_, i) => (i >= tokens.length - 2 ? 3 : 1));
  return { tokens, types, bos: tokens.length - 2, eos: tokens.length - 1 };
}

/** mulberry32 → standard normal pairs (Box–Muller): seeded, so the same seed writes the same file. */
function normals(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

class Writer {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  pad(align: number): void {
    const n = (align - (this.length % align)) % align;
    if (n) this.push(Buffer.alloc(n));
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

type Value = { t: 'u32'; v: number } | { t: 'f32'; v: number } | { t: 'bool'; v: boolean } | { t: 'str'; v: string } | { t: 'strs'; v: string[] } | { t: 'i32s'; v: number[] };

function writeValue(w: Writer, val: Value): void {
  switch (val.t) {
    case 'u32':
      w.u32(4), w.u32(val.v);
      break;
    case 'f32': {
      w.u32(6);
      const b = Buffer.alloc(4);
      b.writeFloatLE(val.v);
      w.push(b);
      break;
    }
    case 'bool':
      w.u32(7), w.push(Buffer.from([val.v ? 1 : 0]));
      break;
    case 'str':
      w.u32(8), w.str(val.v);
      break;
    case 'strs':
      w.u32(9), w.u32(8), w.u64(val.v.length);
      for (const s of val.v) w.str(s);
      break;
    case 'i32s': {
      w.u32(9), w.u32(5), w.u64(val.v.length);
      const b = Buffer.alloc(4 * val.v.length);
      val.v.forEach((x, i) => b.writeInt32LE(x, 4 * i));
      w.push(b);
      break;
    }
  }
}

/**
 * Write the tiny model to `path`.
 * @returns the path, the file size in bytes and the vocabulary size
 */
export function writeTinyGguf(path: string, opts: TinyGgufOptions = {}): { path: string; bytes: number; vocab: number } {
  const { seed = 1, layers = 2, dim = 64, heads = 4, ff = 128, contextLength = 2048, outputScale = 0.15 } = opts;
  const chatTemplate = opts.chatTemplate === undefined ? TINY_CHAT_TEMPLATE : opts.chatTemplate;
  const vocab = tinyVocabulary();
  const nv = vocab.tokens.length;
  const meta: [string, Value][] = [
    ['general.architecture', { t: 'str', v: 'llama' }],
    ['general.name', { t: 'str', v: 'assay-tiny' }],
    ['general.alignment', { t: 'u32', v: 32 }],
    ['llama.context_length', { t: 'u32', v: contextLength }],
    ['llama.embedding_length', { t: 'u32', v: dim }],
    ['llama.block_count', { t: 'u32', v: layers }],
    ['llama.feed_forward_length', { t: 'u32', v: ff }],
    ['llama.attention.head_count', { t: 'u32', v: heads }],
    ['llama.attention.head_count_kv', { t: 'u32', v: heads }],
    ['llama.attention.layer_norm_rms_epsilon', { t: 'f32', v: 1e-5 }],
    ['llama.rope.dimension_count', { t: 'u32', v: dim / heads }],
    ['llama.rope.freq_base', { t: 'f32', v: 10000 }],
    ['llama.vocab_size', { t: 'u32', v: nv }],
    ['tokenizer.ggml.model', { t: 'str', v: 'gpt2' }],
    ['tokenizer.ggml.pre', { t: 'str', v: 'default' }],
    ['tokenizer.ggml.tokens', { t: 'strs', v: vocab.tokens }],
    ['tokenizer.ggml.token_type', { t: 'i32s', v: vocab.types }],
    ['tokenizer.ggml.merges', { t: 'strs', v: MERGES }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: vocab.bos }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: vocab.eos }],
    ['tokenizer.ggml.add_bos_token', { t: 'bool', v: true }],
    ...(chatTemplate ? [['tokenizer.chat_template', { t: 'str', v: chatTemplate }] as [string, Value]] : []),
  ];
  // Tensors: [name, dims (ne0 first), standard deviation (0: all ones, for norms)].
  const tensors: [string, number[], number][] = [
    ['token_embd.weight', [dim, nv], 1],
    ['output_norm.weight', [dim], 0],
    ['output.weight', [dim, nv], outputScale],
  ];
  for (let l = 0; l < layers; l++) {
    const s = 1 / Math.sqrt(dim);
    tensors.push(
      [`blk.${l}.attn_norm.weight`, [dim], 0],
      [`blk.${l}.attn_q.weight`, [dim, dim], s],
      [`blk.${l}.attn_k.weight`, [dim, dim], s],
      [`blk.${l}.attn_v.weight`, [dim, dim], s],
      [`blk.${l}.attn_output.weight`, [dim, dim], s],
      [`blk.${l}.ffn_norm.weight`, [dim], 0],
      [`blk.${l}.ffn_gate.weight`, [dim, ff], s],
      [`blk.${l}.ffn_up.weight`, [dim, ff], s],
      [`blk.${l}.ffn_down.weight`, [ff, dim], 1 / Math.sqrt(ff)],
    );
  }
  const w = new Writer();
  w.push(Buffer.from('GGUF', 'ascii'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(meta.length);
  for (const [k, v] of meta) {
    w.str(k);
    writeValue(w, v);
  }
  let offset = 0;
  const data: Buffer[] = [];
  const rand = normals(seed);
  const allowed = opts.outputChars === undefined ? null : new Set([...Buffer.from(opts.outputChars, 'utf8')]);
  for (const [name, dims, sd] of tensors) {
    w.str(name);
    w.u32(dims.length);
    for (const d of dims) w.u64(d);
    w.u32(0); // GGML_TYPE_F32
    w.u64(offset);
    const n = dims.reduce((a, b) => a * b, 1);
    const buf = Buffer.alloc(Math.ceil((4 * n) / 32) * 32);
    for (let i = 0; i < n; i++) {
      const v = sd === 0 ? 1 : sd * rand();
      // output.weight is [dim, vocab] with dim fastest: element i belongs to token floor(i / dim).
      const masked = allowed !== null && name === 'output.weight' && !allowed.has(Math.floor(i / dim));
      buf.writeFloatLE(masked ? 0 : v, 4 * i);
    }
    data.push(buf);
    offset += buf.length;
  }
  w.pad(32);
  for (const d of data) w.push(d);
  const bytes = w.bytes();
  writeFileSync(path, bytes);
  return { path, bytes: bytes.length, vocab: nv };
}
