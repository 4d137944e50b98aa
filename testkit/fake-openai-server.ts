/**
 * A small, fast, deterministic OpenAI-compatible chat server for tests and benchmarks.
 *
 * No real model runs on the test machines, so tests and throughput benchmarks talk to this server instead.
 * It speaks enough of the OpenAI chat API (`POST /v1/chat/completions`, `GET /v1/models`, SSE streaming)
 * for an OpenAI-compatible provider, serves `POST /v1/completions` for base models (plain completions, and prompt
 * log-probabilities with `echo` + `logprobs` shaped like vLLM's, from a deterministic fake model), answers
 * GSM8K-style questions from a table of gold answers (right with a seeded probability `accuracy`, wrong
 * otherwise), and injects reproducible faults (429, 500, hangs, malformed JSON, dropped connections, missing
 * `choices`; on completions: 429, 500 and hangs).
 *
 * Built on `node:http` only and kept cheap per request (one JSON.parse, one JSON.stringify, a hash), so it
 * sustains well over 10,000 requests per second on loopback with keep-alive and is never the bottleneck.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { FakeEmbeddings } from './fake-embeddings.ts';
import { decodeFakeDataUri, describeFakeImages, type FakeImage } from './fake-images.ts';

// ---------------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------------

/** One chat message as sent by a client (content may be a string or an array of OpenAI content parts). */
export interface FakeChatMessage {
  role: string;
  content?: string | Array<{ type?: string; text?: string; image_url?: { url?: string } }> | null;
}

/** The parsed body of `POST /v1/chat/completions` (fields the server reads; others are kept as sent). */
export interface FakeChatRequest {
  model?: string;
  messages: FakeChatMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  seed?: number;
  stop?: string | string[] | null;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  [key: string]: unknown;
}

/** What an answer callback returns: the assistant text and, optionally, its finish reason (default `stop`). */
export interface FakeAnswer {
  content: string;
  finish_reason?: string;
}

/**
 * When a fault fires. All forms are reproducible:
 * - `number` p: shorthand for `{ rate: p, seed: 0 }`.
 * - `{ rate, seed? }`: fires with probability `rate`, decided by a hash of (raw request body, how many times
 *   this exact body has been seen before, `seed`, fault kind). Independent of arrival order and concurrency:
 *   the same request gets the same verdict on its k-th attempt in every run, and a retry gets a fresh draw.
 * - `{ every, offset? }`: fires on chat requests number k (1-based, counted since the faults were set) with
 *   `k % every === offset % every` (default offset 0: requests every, 2·every, …).
 * - `{ at }`: fires on the listed chat request numbers (1-based, counted since the faults were set).
 * - `{ firstN }`: fires on the first `firstN` chat requests (counted since the faults were set).
 */
export type FaultSchedule =
  | number
  | { rate: number; seed?: number }
  | { every: number; offset?: number }
  | { at: number[] }
  | { firstN: number };

/** The kinds of fault the server can inject. */
export type FaultKind = 'rateLimit' | 'serverError' | 'timeout' | 'malformedJson' | 'dropConnection' | 'badSchema';

/** Fault kinds in the order they are checked; the first one that fires decides the request's fate. */
export const FAULT_KINDS: readonly FaultKind[] = [
  'timeout',
  'dropConnection',
  'rateLimit',
  'serverError',
  'malformedJson',
  'badSchema',
];

/**
 * Fault injection settings (`opts.faults` or `setFaults`). Only chat-completion requests are affected.
 * - `rateLimit`: 429 with `Retry-After: <retryAfterSeconds>` (default 1) and, when `retryAfterMs` is set,
 *   also `retry-after-ms: <retryAfterMs>`; JSON error body of type `rate_limit_exceeded`.
 * - `serverError`: 500 with a JSON error body.
 * - `timeout`: never answers; the socket stays open until the client gives up or the server closes.
 * - `malformedJson`: 200, `content-type: application/json`, truncated (invalid) JSON body.
 * - `dropConnection`: headers and half the body are written, then the socket is destroyed.
 * - `badSchema`: 200 with valid JSON lacking `choices`.
 * - `failFirst`: the first `n` requests whose question (last user message) is a given text fail with
 *   `kind` (default `serverError`); later requests for that question go through the other faults as usual.
 *   Lets a test check that retries happen and every sample eventually succeeds.
 */
export interface FaultConfig {
  rateLimit?: FaultSchedule;
  serverError?: FaultSchedule;
  timeout?: FaultSchedule;
  malformedJson?: FaultSchedule;
  dropConnection?: FaultSchedule;
  badSchema?: FaultSchedule;
  failFirst?: { n: number; kind?: FaultKind };
  /** Value of the `Retry-After` header on 429 answers, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** When set, 429 answers also carry `retry-after-ms` with this value, in milliseconds. */
  retryAfterMs?: number;
}

/** Options of {@link startFakeOpenAIServer}. */
export interface FakeServerOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Host to bind; default `127.0.0.1`. */
  host?: string;
  /** Model id reported by `/v1/models` and in every completion's `model` field; default `fake-model`. */
  modelId?: string;
  /**
   * `system_fingerprint` of every completion (JSON body and each SSE chunk). Default: the field is left out, as many
   * servers do; `null` sends `"system_fingerprint": null`.
   */
  systemFingerprint?: string | null;
  /** Extra headers on every answer (chat completions, any status, and `/v1/models`), e.g. `{ server: 'vllm-fake' }`. */
  headers?: Record<string, string>;
  /**
   * Keep every parsed chat request body in `received` (default false: a benchmark's millions of requests must not
   * pile up in memory).
   */
  recordRequests?: boolean;
  /** Question text → gold answer, used by the default answerer. A plain object is accepted too. */
  answers?: Map<string, string> | Record<string, string>;
  /**
   * Gold answer computed from the question (the last user message) when it is not in `answers`; return
   * `undefined` for "unknown question". Used by the default answerer, so `accuracy` applies to it.
   */
  gold?: (question: string) => string | undefined;
  /**
   * Full control: question (text of the last user message) and parsed request → answer. When given,
   * `answers`, `gold` and `accuracy` are not used; `max_tokens` and `stop` truncation still apply.
   */
  answer?: (question: string, req: FakeChatRequest) => FakeAnswer;
  /**
   * Answer a chat request that carries images (`image_url` parts with data URIs, decoded and hashed by the server)
   * with one line per image, `image <mime> <sha256>`, so a test sees what arrived. Default false.
   */
  answerImageHashes?: boolean;
  /**
   * Probability in [0, 1] that the default answerer gives the gold answer (default 1). Decided by a hash of
   * (question, request `seed`, request `temperature`, `seed` option), so identical requests get identical answers.
   */
  accuracy?: number;
  /** Extra seed mixed into the accuracy draw (default 0). */
  seed?: number;
  /** Filler words inserted in the default answer's reasoning, to make answers longer (default 0). */
  padWords?: number;
  /** Fixed delay before every chat answer, in milliseconds (default 0). */
  latencyMs?: number;
  /** Initial fault injection settings (default none). */
  faults?: FaultConfig;
  /**
   * The fake base model behind `POST /v1/completions` with `echo` + `logprobs` (as vLLM serves them): the natural-log
   * probability of `token` coming right after the text `prefix` (the prompt text before it, BOS excluded). Default:
   * a deterministic hash of the last 32 characters of `prefix` and the token, in [−6.05, −0.05].
   */
  tokenLogprob?: (prefix: string, token: string) => number;
  /**
   * The most probable next token after `prefix` and its log-probability (what `top_logprobs` lists beside the prompt
   * token; the prompt token is greedy when its log-probability is at least this). Default: `" the"` with a hash-based
   * log-probability in [−3.05, −0.05].
   */
  topToken?: (prefix: string) => { token: string; logprob: number };
  /** The BOS token the fake tokenizer puts before every completions prompt (default `<s>`); null: none (like Qwen's). */
  bos?: string | null;
  /** Answer `POST /v1/completions` with 404, as a chat-only server does (default false). */
  noCompletions?: boolean;
  /** Answer echo requests without `logprobs` (a server that ignores `echo`/`logprobs`; default false). */
  noPromptLogprobs?: boolean;
  /** Serve `POST /v1/embeddings` with this deterministic route (`fakeEmbeddings()` in fake-embeddings.ts); default: 404. */
  embeddings?: FakeEmbeddings;
}

/** Length in Unicode code points (Python's `len`): UTF-16 units minus one per surrogate pair. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

/**
 * The fake tokenizer of `/v1/completions`: GPT-2's pre-tokenizer pattern (a word with its leading space, a number, a
 * run of punctuation, whitespace), so " Paris" is one token and "Answer:" two. Returns the tokens in order; they
 * concatenate to `text`.
 */
export function fakeTokenize(text: string): string[] {
  return text.match(/'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu) ?? [];
}

/** Outcomes counted in {@link FakeServerStats.byOutcome}. */
export type FakeOutcome = 'ok' | FaultKind | 'badRequest' | 'notFound';

/** Live counters (the object is mutated in place; read it whenever you like). */
export interface FakeServerStats {
  /** All HTTP requests received, any path. */
  total: number;
  /** `POST /v1/chat/completions` requests received. */
  chat: number;
  /** `GET /v1/models` requests answered. */
  models: number;
  /** Requests by outcome (chat requests, plus bad requests and unknown paths). */
  byOutcome: Record<FakeOutcome, number>;
  /** Successful chat answers sent as SSE. */
  streamed: number;
  /** `POST /v1/completions` requests received (plain completions and echo/logprobs scoring). */
  completions: number;
  /** Prompts scored by echo + logprobs requests (a request may carry several). */
  scoredPrompts: number;
  /** Successful chat answers with finish_reason `length`. */
  truncated: number;
  /** Successful default answers to questions not found in `answers`/`gold`. */
  unknownQuestion: number;
  /** Chat requests currently being handled (received, response not yet finished or abandoned). */
  inFlight: number;
  /** High-water mark of `inFlight`. */
  maxConcurrency: number;
  /** Images decoded from chat requests (`image_url` parts with base64 data URIs). */
  images: number;
}

/** Handle returned by {@link startFakeOpenAIServer}. */
export interface FakeOpenAIServer {
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:41234/v1`. */
  url: string;
  /** Port actually bound. */
  port: number;
  /** Live counters. */
  stats: FakeServerStats;
  /** Replace the fault settings; schedule counters (`every`, `at`, `firstN`, attempt counts, `failFirst`) restart. */
  setFaults(f: FaultConfig | undefined): void;
  /**
   * Change what the server says about itself from the next request on, keeping its address (so a test can make the
   * "same" server report another model, fingerprint or build between two runs). Fields left out keep their value;
   * `systemFingerprint: undefined` given explicitly stops sending the field; `headers` replaces the extra headers.
   */
  setIdentity(id: Pick<FakeServerOptions, 'modelId' | 'systemFingerprint' | 'headers'>): void;
  /** Chat request bodies received, in arrival order (only with `recordRequests: true`; otherwise stays empty). */
  received: FakeChatRequest[];
  /** The images of each chat request that had any, decoded (only with `recordRequests: true`). */
  receivedImages: FakeImage[][];
  /** Zero all counters (except `inFlight`). */
  resetStats(): void;
  /** Stop listening, destroy every socket (including hung `timeout` ones) and cancel pending delays. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Hashing and the default answerer
// ---------------------------------------------------------------------------------------------------------

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * 32-bit string hash: FNV-1a over UTF-16 code units, then the MurmurHash3 finaliser (fmix32) for avalanche.
 * Returns an unsigned integer in [0, 2^32). Not cryptographic; used for reproducible pseudo-random choices.
 */
export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** Maps a 32-bit unsigned hash to a number in [0, 1). */
function unit(h: number): number {
  return h / 4294967296;
}

/**
 * The default answer text: `"Let me think step by step. ... The answer is <answer>."`, with `padWords`
 * filler words (`"hmm"`) after the `...` when asked for longer reasoning.
 */
export function stepByStepAnswer(answer: string, padWords = 0): string {
  const pad = padWords > 0 ? ` ${'hmm '.repeat(padWords).trimEnd()}` : '';
  return `Let me think step by step. ...${pad} The answer is ${answer}.`;
}

/**
 * A wrong answer near `gold`, chosen by hash `h` (deterministic): for a number, gold ± (1..9) keeping
 * integers integral; for anything else, an integer in [0, 1000) different from gold.
 */
export function wrongAnswer(gold: string, h: number): string {
  const n = Number(gold.replace(/,/g, '').trim());
  const d = 1 + (h % 9);
  if (gold.trim() !== '' && Number.isFinite(n)) {
    const w = (h >>> 8) & 1 ? n + d : n - d;
    return Number.isInteger(n) ? String(w) : String(Number(w.toFixed(6)));
  }
  const w = String(h % 1000);
  return w === gold ? String((h % 1000) + 1) : w;
}

/** Text of a message's content (string, or the concatenated `text` of content parts). */
function messageText(m: FakeChatMessage | undefined): string {
  if (!m) return '';
  const c = m.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) {
    let s = '';
    for (const p of c) if (p && typeof p.text === 'string') s += p.text;
    return s;
  }
  return '';
}

/** The images of a chat request's messages (`image_url` parts), decoded. Errors: Error for a part that is not a base64 data URI. */
function chatImages(messages: FakeChatMessage[]): FakeImage[] {
  const out: FakeImage[] = [];
  for (const m of messages) {
    if (!m || !Array.isArray(m.content)) continue;
    for (const p of m.content) if (p && p.type === 'image_url') out.push(decodeFakeDataUri(String(p.image_url?.url ?? '')));
  }
  return out;
}

/** The question of a request: the content of the last user message ('' when there is none). */
function lastUserText(messages: FakeChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m && m.role === 'user') return messageText(m);
  }
  return '';
}

function countWords(s: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const space = c === 32 || c === 10 || c === 9 || c === 13;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Fault scheduling
// ---------------------------------------------------------------------------------------------------------

interface CompiledFault {
  kind: FaultKind;
  salt: number;
  decide: (k: number, bodyHash: number, attempt: number) => boolean;
}

function compileSchedule(kind: FaultKind, s: FaultSchedule): CompiledFault {
  const salt = hash32(kind);
  let decide: CompiledFault['decide'];
  if (typeof s === 'number' || 'rate' in s) {
    const rate = typeof s === 'number' ? s : s.rate;
    const seed = typeof s === 'number' ? 0 : (s.seed ?? 0);
    decide = (_k, bodyHash, attempt) =>
      rate > 0 && unit(fmix32((bodyHash ^ salt ^ Math.imul(attempt + 1, 0x9e3779b1) ^ fmix32(seed >>> 0)) >>> 0)) < rate;
  } else if ('every' in s) {
    const every = Math.max(1, Math.floor(s.every));
    const off = (((s.offset ?? 0) % every) + every) % every;
    decide = (k) => k % every === off;
  } else if ('at' in s) {
    const set = new Set(s.at);
    decide = (k) => set.has(k);
  } else if ('firstN' in s) {
    const n = s.firstN;
    decide = (k) => k <= n;
  } else {
    throw new Error(`fake-openai-server: unknown fault schedule for ${kind}: ${JSON.stringify(s)}`);
  }
  return { kind, salt, decide };
}

// ---------------------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------------------

const JSON_HEADERS = 'application/json';

function emptyOutcomes(): Record<FakeOutcome, number> {
  return {
    ok: 0,
    rateLimit: 0,
    serverError: 0,
    timeout: 0,
    malformedJson: 0,
    dropConnection: 0,
    badSchema: 0,
    badRequest: 0,
    notFound: 0,
  };
}

/**
 * Starts the fake OpenAI-compatible server and resolves once it listens.
 *
 * Endpoints: `POST /v1/chat/completions` (OpenAI chat format, `stream: true` answered as SSE `data:` lines
 * ending with `data: [DONE]`), `GET /v1/models` (`{object:'list', data:[{id: modelId, object:'model'}]}`),
 * `POST /v1/completions` (a prompt or a list of prompts, one choice each by `index`; with `echo: true` and
 * `logprobs: n` every prompt comes back as vLLM gives it: `<s>` first (unless `bos: null`), then the prompt's tokens
 * under `fakeTokenize` with their log-probabilities from `tokenLogprob` (the first null), `top_logprobs` holding the
 * token and `topToken`'s alternative, `text_offset`s counting every token's text, then `max_tokens` generated top
 * tokens; without `echo`, a plain completion from the chat answerer on the prompt text).
 * Anything else gets 404; an unparsable body or one without `messages` gets 400 (both JSON error bodies).
 *
 * Answers: `opts.answer(question, req)` when given; otherwise the default answerer looks the question (last
 * user message) up in `opts.answers` — exact match first, then, on a miss, the longest known question
 * contained in the message (memoised) — then in `opts.gold`, and replies {@link stepByStepAnswer} with the
 * gold answer, or with a {@link wrongAnswer} with probability `1 - accuracy` (hash of question, request seed
 * and temperature). Unknown questions get "I do not know.". Completion tokens are counted as
 * whitespace-separated words; `max_tokens` (or `max_completion_tokens`) below the answer's word count keeps
 * the first `max_tokens` words with `finish_reason: 'length'`; `stop` strings cut the answer. Prompt tokens
 * are estimated as ceil(characters / 4) of all message text. `id` is derived from the request and `created`
 * is the server start time, so identical requests get byte-identical responses.
 *
 * Identity: every completion reports `modelId` and, when set, `systemFingerprint` (in the JSON body and in each
 * SSE chunk); `headers` go on every answer. `setIdentity` changes them while the address stays the same.
 *
 * @throws if the port cannot be bound (the promise rejects).
 */
export async function startFakeOpenAIServer(opts: FakeServerOptions = {}): Promise<FakeOpenAIServer> {
  let modelId = opts.modelId ?? 'fake-model';
  let fingerprint: string | null | undefined = opts.systemFingerprint;
  let extraHeaders: Record<string, string> = { ...(opts.headers ?? {}) };
  const received: FakeChatRequest[] = [];
  const receivedImages: FakeImage[][] = [];
  // The `"system_fingerprint":…,` member of completion objects ('' when the field is left out).
  const fingerprintMember = (): string => (fingerprint === undefined ? '' : `"system_fingerprint":${JSON.stringify(fingerprint)},`);
  const accuracy = opts.accuracy ?? 1;
  const seedOpt = opts.seed ?? 0;
  const padWords = opts.padWords ?? 0;
  const latencyMs = opts.latencyMs ?? 0;
  const created = Math.floor(Date.now() / 1000);

  // Known questions: exact map, plus a list sorted by length (longest first) for the containment search.
  const answers = new Map<string, string>(
    opts.answers instanceof Map ? opts.answers : Object.entries(opts.answers ?? {}),
  );
  let byLength: string[] | undefined;
  const containCache = new Map<string, string | null>();
  const CONTAIN_CACHE_MAX = 20_000;
  const correctText = new Map<string, { content: string; words: number }>();

  function findKnown(text: string): string | undefined {
    if (answers.has(text)) return text;
    if (answers.size === 0) return undefined;
    const cached = containCache.get(text);
    if (cached !== undefined) return cached ?? undefined;
    byLength ??= [...answers.keys()].filter((q) => q.length > 0).sort((a, b) => b.length - a.length);
    let found: string | null = null;
    for (const q of byLength) {
      if (q.length > text.length) continue;
      if (text.includes(q)) {
        found = q;
        break;
      }
    }
    if (containCache.size >= CONTAIN_CACHE_MAX) containCache.clear();
    containCache.set(text, found);
    return found ?? undefined;
  }

  function defaultAnswer(question: string, req: FakeChatRequest): { content: string; words: number; known: boolean } {
    const q = findKnown(question);
    let gold: string | undefined;
    let key = question;
    if (q !== undefined) {
      gold = answers.get(q);
      key = q;
    } else if (opts.gold) {
      gold = opts.gold(question);
    }
    if (gold === undefined) {
      const content = 'Let me think step by step. ... I do not know.';
      return { content, words: countWords(content), known: false };
    }
    const h = hash32(`${key}\u0000${String(req.seed)}\u0000${String(req.temperature)}`, seedOpt);
    if (accuracy >= 1 || unit(h) < accuracy) {
      let c = correctText.get(key);
      if (!c) {
        const content = stepByStepAnswer(gold, padWords);
        c = { content, words: countWords(content) };
        if (correctText.size < CONTAIN_CACHE_MAX) correctText.set(key, c);
      }
      return { ...c, known: true };
    }
    const content = stepByStepAnswer(wrongAnswer(gold, fmix32(h ^ 0x5bd1e995)), padWords);
    return { content, words: countWords(content), known: true };
  }

  // Stats.
  const stats: FakeServerStats = {
    total: 0,
    chat: 0,
    models: 0,
    byOutcome: emptyOutcomes(),
    streamed: 0,
    completions: 0,
    scoredPrompts: 0,
    truncated: 0,
    unknownQuestion: 0,
    inFlight: 0,
    maxConcurrency: 0,
    images: 0,
  };

  // Faults.
  let faults: FaultConfig = {};
  let compiled: CompiledFault[] = [];
  let needAttempts = false;
  let chatSinceFaults = 0;
  const attempts = new Map<number, number>();
  const failFirstCounts = new Map<string, number>();

  function setFaults(f: FaultConfig | undefined): void {
    faults = { ...(f ?? {}) };
    compiled = [];
    needAttempts = false;
    for (const kind of FAULT_KINDS) {
      const s = faults[kind];
      if (s === undefined) continue;
      const c = compileSchedule(kind, s);
      compiled.push(c);
      if (typeof s === 'number' || 'rate' in s) needAttempts = true;
    }
    chatSinceFaults = 0;
    attempts.clear();
    failFirstCounts.clear();
  }
  setFaults(opts.faults);

  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  function sendJson(res: http.ServerResponse, status: number, body: string, extra?: Record<string, string>): void {
    const headers: Record<string, string | number> = {
      ...extraHeaders,
      'content-type': JSON_HEADERS,
      'content-length': Buffer.byteLength(body),
    };
    if (extra) Object.assign(headers, extra);
    res.writeHead(status, headers);
    res.end(body);
  }

  function errorBody(message: string, type: string, code: string | number | null): string {
    return JSON.stringify({ error: { message, type, param: null, code } });
  }

  function chooseFault(raw: string, question: string): FaultKind | undefined {
    const k = ++chatSinceFaults;
    if (faults.failFirst && faults.failFirst.n > 0) {
      const seen = failFirstCounts.get(question) ?? 0;
      if (seen < faults.failFirst.n) {
        failFirstCounts.set(question, seen + 1);
        return faults.failFirst.kind ?? 'serverError';
      }
    }
    if (compiled.length === 0) return undefined;
    let bodyHash = 0;
    let attempt = 0;
    if (needAttempts) {
      bodyHash = hash32(raw);
      attempt = attempts.get(bodyHash) ?? 0;
      attempts.set(bodyHash, attempt + 1);
    }
    for (const c of compiled) if (c.decide(k, bodyHash, attempt)) return c.kind;
    return undefined;
  }

  function handleChat(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    stats.chat++;
    stats.inFlight++;
    if (stats.inFlight > stats.maxConcurrency) stats.maxConcurrency = stats.inFlight;
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        stats.inFlight--;
      }
    };
    res.once('close', finish);

    let body: FakeChatRequest;
    try {
      body = JSON.parse(raw) as FakeChatRequest;
    } catch {
      stats.byOutcome.badRequest++;
      sendJson(res, 400, errorBody('Invalid JSON body', 'invalid_request_error', null));
      return;
    }
    if (!body || typeof body !== 'object' || !Array.isArray(body.messages)) {
      stats.byOutcome.badRequest++;
      sendJson(res, 400, errorBody("'messages' is required and must be an array", 'invalid_request_error', null));
      return;
    }
    if (opts.recordRequests) received.push(body);
    // Images: every image_url part is decoded as a real server would; one that is not a valid data URI is a 400.
    let images: FakeImage[] = [];
    try {
      images = chatImages(body.messages);
    } catch (err) {
      stats.byOutcome.badRequest++;
      sendJson(res, 400, errorBody(`Invalid image: ${(err as Error).message}`, 'invalid_request_error', null));
      return;
    }
    if (images.length) {
      stats.images += images.length;
      if (opts.recordRequests) receivedImages.push(images);
    }
    const question = lastUserText(body.messages);
    const fault = chooseFault(raw, question);
    if (fault === 'timeout') {
      // Never answer. The socket stays open until the client gives up or close() destroys it.
      stats.byOutcome.timeout++;
      req.socket.setTimeout(0);
      return;
    }
    if (latencyMs > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed && !res.writableEnded) respond(res, body, raw, question, fault);
      }, latencyMs);
      timers.add(t);
    } else {
      // Answer in the check phase, after the event loop has read every request that arrived in this turn:
      // costs nothing measurable and lets `inFlight`/`maxConcurrency` see the client's real concurrency.
      setImmediate(() => {
        if (!res.destroyed && !res.writableEnded) respond(res, body, raw, question, fault);
      });
    }
  }

  // ---- /v1/completions: plain completions, and echo + logprobs scoring as vLLM serves it -------------------------
  const bos = opts.bos === undefined ? '<s>' : opts.bos;
  const tokenLogprob =
    opts.tokenLogprob ?? ((prefix: string, token: string) => -(0.05 + 6 * unit(hash32(`${prefix.slice(-32)}\u0000${token}`, seedOpt))));
  const topToken = opts.topToken ?? ((prefix: string) => ({ token: ' the', logprob: -(0.05 + 3 * unit(hash32(`${prefix.slice(-32)}\u0001`, seedOpt))) }));

  /**
   * The echo of one prompt as vLLM gives it (`echo: true, logprobs: n, max_tokens: 1`): the prompt's tokens (BOS first)
   * with their log-probabilities (the first null), each position's top alternatives, `text_offset`s that count every
   * token's text (BOS included, as vLLM's do), then one generated token (the top token after the whole prompt).
   */
  function echoPrompt(prompt: string, maxTokens: number): { text: string; logprobsJson: string; promptTokens: number; completionTokens: number } {
    const pieces = fakeTokenize(prompt);
    // The answer's `logprobs` object is written as JSON text directly: building one small object per token and
    // serialising it was most of the server's time (profiled), and the server must not be a benchmark's bottleneck.
    const tokens: string[] = [];
    const lps: string[] = [];
    const tops: string[] = [];
    const offsets: number[] = [];
    let at = 0;
    const push = (t: string, lp: number | null, top: { token: string; logprob: number } | null) => {
      const tj = JSON.stringify(t);
      tokens.push(tj);
      lps.push(lp === null ? 'null' : String(lp));
      tops.push(lp === null ? 'null' : top === null || top.token === t ? `{${tj}:${lp}}` : `{${tj}:${lp},${JSON.stringify(top.token)}:${top.logprob}}`);
      offsets.push(at);
      at += codePoints(t); // as Python counts them
    };
    if (bos !== null) push(bos, null, null);
    // The default model reads only the last 32 characters: keep just those (slicing a long concatenated prefix at
    // every token would flatten it every time). Custom models get the whole prefix.
    const whole = opts.tokenLogprob !== undefined || opts.topToken !== undefined;
    let prefix = '';
    const see = (t: string) => {
      prefix = whole ? prefix + t : (prefix + t).slice(-32);
    };
    for (const t of pieces) {
      if (tokens.length === 0) push(t, null, null);
      else push(t, tokenLogprob(prefix, t), topToken(prefix));
      see(t);
    }
    let text = '';
    for (let i = 0; i < maxTokens; i++) {
      const top = topToken(prefix);
      push(top.token, top.logprob, null);
      see(top.token);
      text += top.token;
    }
    const logprobsJson = `{"tokens":[${tokens.join(',')}],"token_logprobs":[${lps.join(',')}],"top_logprobs":[${tops.join(',')}],"text_offset":[${offsets.join(',')}]}`;
    return { text, logprobsJson, promptTokens: pieces.length + (bos === null ? 0 : 1), completionTokens: maxTokens };
  }

  function handleCompletions(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    stats.completions++;
    if (opts.noCompletions) {
      stats.byOutcome.notFound++;
      sendJson(res, 404, errorBody('Unknown route POST /v1/completions', 'invalid_request_error', 'not_found'));
      return;
    }
    let body: { prompt?: unknown; echo?: boolean; logprobs?: number | null; max_tokens?: number; stop?: string | string[] | null; seed?: number; temperature?: number; model?: string };
    try {
      body = JSON.parse(raw);
    } catch {
      stats.byOutcome.badRequest++;
      sendJson(res, 400, errorBody('Invalid JSON body', 'invalid_request_error', null));
      return;
    }
    const prompts = typeof body?.prompt === 'string' ? [body.prompt] : Array.isArray(body?.prompt) && body.prompt.every((p) => typeof p === 'string') ? (body.prompt as string[]) : null;
    if (!prompts || prompts.length === 0) {
      stats.byOutcome.badRequest++;
      sendJson(res, 400, errorBody("'prompt' is required: a string or a list of strings", 'invalid_request_error', null));
      return;
    }
    const fault = chooseFault(raw, prompts[0]!);
    if (fault === 'timeout') {
      stats.byOutcome.timeout++;
      req.socket.setTimeout(0);
      return;
    }
    const answer = (): void => {
      if (res.destroyed || res.writableEnded) return;
      if (fault === 'rateLimit') {
        stats.byOutcome.rateLimit++;
        sendJson(res, 429, errorBody('Rate limit reached (fake server)', 'rate_limit_exceeded', 'rate_limit_exceeded'), { 'retry-after': String(faults.retryAfterSeconds ?? 1) });
        return;
      }
      if (fault === 'serverError') {
        stats.byOutcome.serverError++;
        sendJson(res, 500, errorBody('The server had an error while processing your request (fake)', 'server_error', null));
        return;
      }
      let promptTokens = 0;
      let completionTokens = 0;
      const choices = prompts.map((prompt, index) => {
        if (body.echo === true && typeof body.logprobs === 'number' && !opts.noPromptLogprobs) {
          stats.scoredPrompts++;
          const e = echoPrompt(prompt, Math.max(0, Math.min(body.max_tokens ?? 16, 16)));
          promptTokens += e.promptTokens;
          completionTokens += e.completionTokens;
          return `{"index":${index},"text":${JSON.stringify(prompt + e.text)},"logprobs":${e.logprobsJson},"finish_reason":"length"}`;
        }
        // A plain completion: the chat answerer on the prompt text, cut by stop and max_tokens (words).
        const fakeReq = { messages: [{ role: 'user', content: prompt }], seed: body.seed, temperature: body.temperature } as FakeChatRequest;
        let content = opts.answer ? opts.answer(prompt, fakeReq).content : defaultAnswer(prompt, fakeReq).content;
        let finish = 'stop';
        const stop = body.stop;
        for (const st of stop == null ? [] : typeof stop === 'string' ? [stop] : stop) {
          const i = st ? content.indexOf(st) : -1;
          if (i >= 0) content = content.slice(0, i);
        }
        const words = content.split(/\s+/).filter((w) => w !== '');
        if (typeof body.max_tokens === 'number' && words.length > body.max_tokens) {
          content = words.slice(0, body.max_tokens).join(' ');
          finish = 'length';
        }
        promptTokens += fakeTokenize(prompt).length;
        completionTokens += Math.min(words.length, body.max_tokens ?? words.length);
        return JSON.stringify({ index, text: (body.echo === true ? prompt : '') + content, logprobs: null, finish_reason: finish });
      });
      stats.byOutcome.ok++;
      const head = JSON.stringify({ id: `cmpl-fake${hash32(raw).toString(16)}`, object: 'text_completion', created, model: modelId, ...(fingerprint === undefined ? {} : { system_fingerprint: fingerprint }) });
      const usage = JSON.stringify({ prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens });
      sendJson(res, 200, `${head.slice(0, -1)},"choices":[${choices.join(',')}],"usage":${usage}}`);
    };
    if (latencyMs > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        answer();
      }, latencyMs);
      timers.add(t);
    } else setImmediate(answer);
  }

  function respond(
    res: http.ServerResponse,
    body: FakeChatRequest,
    raw: string,
    question: string,
    fault: FaultKind | undefined,
  ): void {
    if (fault === 'rateLimit') {
      stats.byOutcome.rateLimit++;
      const extra: Record<string, string> = { 'retry-after': String(faults.retryAfterSeconds ?? 1) };
      if (faults.retryAfterMs !== undefined) extra['retry-after-ms'] = String(faults.retryAfterMs);
      sendJson(res, 429, errorBody('Rate limit reached (fake server)', 'rate_limit_exceeded', 'rate_limit_exceeded'), extra);
      return;
    }
    if (fault === 'serverError') {
      stats.byOutcome.serverError++;
      sendJson(res, 500, errorBody('The server had an error while processing your request (fake)', 'server_error', null));
      return;
    }

    // Compute the answer.
    let content: string;
    let finishReason = 'stop';
    let words: number;
    const images = opts.answerImageHashes ? chatImages(body.messages) : [];
    if (images.length) {
      content = describeFakeImages(images);
      words = countWords(content);
    } else if (opts.answer) {
      const a = opts.answer(question, body);
      content = a.content;
      finishReason = a.finish_reason ?? 'stop';
      words = countWords(content);
    } else {
      const a = defaultAnswer(question, body);
      content = a.content;
      words = a.words;
      if (!a.known) stats.unknownQuestion++;
    }
    const stop = body.stop;
    if (stop !== undefined && stop !== null) {
      const list = typeof stop === 'string' ? [stop] : stop;
      let cut = -1;
      for (const s of list) {
        if (typeof s !== 'string' || s === '') continue;
        const i = content.indexOf(s);
        if (i >= 0 && (cut < 0 || i < cut)) cut = i;
      }
      if (cut >= 0) {
        content = content.slice(0, cut);
        words = countWords(content);
        finishReason = 'stop';
      }
    }
    const maxTokens = body.max_tokens ?? body.max_completion_tokens;
    if (typeof maxTokens === 'number' && maxTokens >= 0 && words > maxTokens) {
      content = content.split(/\s+/).filter((w) => w !== '').slice(0, maxTokens).join(' ');
      words = maxTokens;
      finishReason = 'length';
    }
    let promptChars = 0;
    for (const m of body.messages) promptChars += messageText(m).length;
    const promptTokens = Math.ceil(promptChars / 4);
    const usage = { prompt_tokens: promptTokens, completion_tokens: words, total_tokens: promptTokens + words };
    const id = `chatcmpl-fake${hash32(raw).toString(16)}`;

    if (body.stream === true) {
      streamAnswer(res, id, content, finishReason, usage, body.stream_options?.include_usage === true, fault);
      return;
    }

    if (fault === 'badSchema') {
      stats.byOutcome.badSchema++;
      sendJson(res, 200, JSON.stringify({ id, object: 'chat.completion', created, model: modelId, usage }));
      return;
    }
    const json = JSON.stringify({
      id,
      object: 'chat.completion',
      created,
      model: modelId,
      ...(fingerprint === undefined ? {} : { system_fingerprint: fingerprint }),
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
      usage,
    });
    if (fault === 'malformedJson') {
      stats.byOutcome.malformedJson++;
      sendJson(res, 200, json.slice(0, Math.max(1, Math.floor(json.length / 2))));
      return;
    }
    if (fault === 'dropConnection') {
      stats.byOutcome.dropConnection++;
      dropMidway(res, json, JSON_HEADERS);
      return;
    }
    stats.byOutcome.ok++;
    if (finishReason === 'length') stats.truncated++;
    sendJson(res, 200, json);
  }

  function dropMidway(res: http.ServerResponse, full: string, contentType: string): void {
    const buf = Buffer.from(full);
    res.writeHead(200, { ...extraHeaders, 'content-type': contentType, 'content-length': buf.length });
    const sock = res.socket;
    res.write(buf.subarray(0, Math.max(1, buf.length >> 1)), () => sock?.destroy());
  }

  function streamAnswer(
    res: http.ServerResponse,
    id: string,
    content: string,
    finishReason: string,
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number },
    includeUsage: boolean,
    fault: FaultKind | undefined,
  ): void {
    const base = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(modelId)},${fingerprintMember()}`;
    const lines: string[] = [];
    const chunk = (delta: object, fr: string | null, extra = ''): string =>
      `data: ${base}"choices":[{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":${fr === null ? 'null' : JSON.stringify(fr)}}]${extra}}\n\n`;
    lines.push(chunk({ role: 'assistant', content: '' }, null));
    // One piece per word, each keeping its leading whitespace, so the pieces concatenate to `content`.
    const pieces: string[] = content.match(/\s*\S+/g) ?? [];
    const trailing = content.length - pieces.join('').length;
    if (trailing > 0) pieces.push(content.slice(content.length - trailing));
    for (const p of pieces) lines.push(chunk({ content: p }, null));
    lines.push(chunk({}, finishReason));
    if (includeUsage) lines.push(`data: ${base}"choices":[],"usage":${JSON.stringify(usage)}}\n\n`);
    lines.push('data: [DONE]\n\n');

    const sseHeaders = { ...extraHeaders, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
    if (fault === 'badSchema') {
      stats.byOutcome.badSchema++;
      const bad = `data: ${base}"usage":${JSON.stringify(usage)}}\n\ndata: [DONE]\n\n`;
      res.writeHead(200, sseHeaders);
      res.end(bad);
      return;
    }
    if (fault === 'malformedJson') {
      stats.byOutcome.malformedJson++;
      const first = lines[0] ?? '';
      res.writeHead(200, sseHeaders);
      res.end(`${first}data: ${base}"choices":[{"index":0,"delta":{"content":"tru\n\ndata: [DONE]\n\n`);
      return;
    }
    if (fault === 'dropConnection') {
      stats.byOutcome.dropConnection++;
      const half = lines.slice(0, Math.max(1, lines.length >> 1)).join('');
      res.writeHead(200, sseHeaders);
      const sock = res.socket;
      res.write(half, () => sock?.destroy());
      return;
    }
    stats.byOutcome.ok++;
    stats.streamed++;
    if (finishReason === 'length') stats.truncated++;
    res.writeHead(200, sseHeaders);
    res.end(lines.join(''));
  }

  const modelsJson = (): string => JSON.stringify({ object: 'list', data: [{ id: modelId, object: 'model', created, owned_by: 'assay-fake' }] });
  let modelsBody = modelsJson();

  const server = http.createServer(
    { keepAlive: true, noDelay: true, requestTimeout: 0, headersTimeout: 60_000 },
    (req, res) => {
      stats.total++;
      const url = req.url ?? '';
      if (req.method === 'POST' && (url === '/v1/chat/completions' || url.startsWith('/v1/chat/completions?'))) {
        let raw = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => {
          raw += c;
        });
        req.on('end', () => handleChat(req, res, raw));
        req.on('error', () => res.destroy());
        return;
      }
      if (req.method === 'POST' && (url === '/v1/completions' || url.startsWith('/v1/completions?'))) {
        let raw = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => {
          raw += c;
        });
        req.on('end', () => handleCompletions(req, res, raw));
        req.on('error', () => res.destroy());
        return;
      }
      if (req.method === 'POST' && opts.embeddings && (url === '/v1/embeddings' || url.startsWith('/v1/embeddings?'))) {
        const route = opts.embeddings;
        let raw = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => {
          raw += c;
        });
        req.on('end', () => route.handle(raw, res));
        req.on('error', () => res.destroy());
        return;
      }
      if (req.method === 'GET' && (url === '/v1/models' || url.startsWith('/v1/models?'))) {
        stats.models++;
        sendJson(res, 200, modelsBody);
        return;
      }
      req.resume();
      stats.byOutcome.notFound++;
      sendJson(res, 404, errorBody(`Unknown route ${req.method} ${url}`, 'invalid_request_error', 'not_found'));
    },
  );
  server.keepAliveTimeout = 65_000;
  server.maxRequestsPerSocket = 0;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => {
    if (!socket.destroyed) socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}/v1`,
    port: addr.port,
    stats,
    setFaults,
    received,
    receivedImages,
    setIdentity(id): void {
      if ('modelId' in id && id.modelId !== undefined) {
        modelId = id.modelId;
        modelsBody = modelsJson();
      }
      if ('systemFingerprint' in id) fingerprint = id.systemFingerprint;
      if ('headers' in id) extraHeaders = { ...(id.headers ?? {}) };
    },
    resetStats(): void {
      stats.total = 0;
      stats.chat = 0;
      stats.models = 0;
      Object.assign(stats.byOutcome, emptyOutcomes());
      stats.streamed = 0;
      stats.completions = 0;
      stats.scoredPrompts = 0;
      stats.truncated = 0;
      stats.unknownQuestion = 0;
      stats.images = 0;
      stats.maxConcurrency = stats.inFlight;
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        sockets.clear();
      });
      return closing;
    },
  };
}
