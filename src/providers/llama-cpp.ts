/**
 * Local GGUF models in process, through node-llama-cpp (pinned to 3.21.1: later releases break `npm ci` here) and
 * its prebuilt CPU binary (`getLlama({ gpu: false, build: 'never' })`: nothing is compiled or downloaded).
 *
 * Address: `llama-cpp:<file.gguf>[?context_size=N&threads=N&sequences=N&batch_size=N]`, e.g.
 * `llama-cpp:./models/qwen2.5-0.5b-q8_0.gguf?context_size=4096&threads=4`.
 * - `context_size`: tokens of the context (default: the model's training context, at most 4096). Rolling
 *   log-likelihoods use windows of this size.
 * - `threads`: CPU threads (default: half the available cores, at least 1; measured here on a loaded 2-core
 *   machine, two threads decoded the tiny test model about 400× slower than one).
 * - `sequences`: calls served at once (default 1); the runner caps its concurrency to it.
 * - `batch_size`: tokens evaluated per batch (default node-llama-cpp's).
 *
 * One model load per process and file: providers for the same file and options share the loaded model (counted,
 * released when the last one closes), so a run or an eval set loads it once.
 *
 * Generation: with `chat_template: true` (the default) the messages go through the chat template stored in the
 * file (`tokenizer.chat_template`, resolved by node-llama-cpp: a known family's wrapper, else the Jinja template
 * itself); with `chat_template: false` the conversation is one plain text (`rawPrompt`, lm-eval's layout), completed
 * as a base model would. Every setting is sent: temperature (unset: 1, as OpenAI-compatible servers default),
 * top_p (unset: 1), top_k (unset: off), max_tokens, seed (`seed + epoch`, as the HTTP providers; unset: a seed from
 * the clock, so unseeded sampling differs between calls), stop. No repeat penalty, no min-p: only what the config
 * says. Each call starts from an empty context, so the same request and seed give the same tokens.
 *
 * Scoring (`loglikelihood`, `loglikelihoodRolling`) follows lm-eval's conventions (scoring.ts): the model's own
 * tokenizer, a BOS token first when the file asks for one (`tokenizer.ggml.add_bos_token`), the full next-token
 * distribution at each scored position (temperature 0 sampling leaves the logits untouched; node-llama-cpp's
 * softmax in float32: a probability below 1.4e-45 would be reported as that floor), `is_greedy` when every scored
 * token is the distribution's most probable. Within one call (one sample's requests: a context and its options), a
 * request that shares its start with the previous one reuses the evaluated prefix (the last context token is always
 * re-evaluated for its distribution); a call never reuses what an earlier call left in the sequence. That keeps
 * scores reproducible: llama.cpp's sums depend on how tokens were split into batches (measured on the tiny test
 * model: up to 4e-4 nats on the same request, evaluated after another sample's shared prefix vs from scratch), so a
 * sample's log-likelihoods depend only on its own requests, never on which sample came before, bit for bit (with
 * `sequences` > 1, sequences evaluated in the same batch can still move them by that much). The price: a few-shot
 * prefix shared by every sample is evaluated again for each.
 */
import { availableParallelism } from 'node:os';
import { basename, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { rawPrompt } from '../core/raw-prompt.ts';
import { messageText, type Message } from '../core/schemas.ts';
import { rollingWindows, splitContinuation } from './scoring.ts';
import {
  ProviderError, type GenerateRequest, type GenerateResponse, type LoglikelihoodRequest, type LoglikelihoodResult, type Provider, type ProviderCapabilities,
  type ProviderOptions, type RollingLoglikelihoodResult, type ScoringRequest, type ScoringResponse,
} from './types.ts';

type NodeLlama = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<NodeLlama['getLlama']>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;
type LlamaContext = Awaited<ReturnType<LlamaModel['createContext']>>;
type Sequence = ReturnType<LlamaContext['getSequence']>;
type ChatHistoryItem = import('node-llama-cpp').ChatHistoryItem;

/** The pinned runtime version (also in package.json; recorded as the provider's fingerprint). */
export const NODE_LLAMA_CPP_VERSION = '3.21.1';

/** Options of a `llama-cpp:` address. */
export interface LlamaCppOptions {
  path: string;
  contextSize?: number;
  threads?: number;
  sequences: number;
  batchSize?: number;
}

/**
 * Parse `llama-cpp:<file.gguf>[?k=v&…]`. Errors: InputError for a missing file, an unknown option or a value that
 * is not a positive integer.
 */
export function parseLlamaCppAddress(address: string): LlamaCppOptions {
  const rest = address.slice('llama-cpp:'.length);
  const q = rest.lastIndexOf('?');
  const file = q >= 0 ? rest.slice(0, q) : rest;
  if (!file) throw new InputError('llama-cpp:<file.gguf> needs the path of a GGUF model file', { field: 'model' });
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new InputError(`no GGUF model file at ${path}`, { field: 'model' });
  const out: LlamaCppOptions = { path, sequences: 1 };
  const params = new URLSearchParams(q >= 0 ? rest.slice(q + 1) : '');
  for (const [k, v] of params) {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !(n >= 1)) throw new InputError(`llama-cpp option ${k}=${v}: expected a positive integer`, { field: 'model' });
    if (k === 'context_size') out.contextSize = n;
    else if (k === 'threads') out.threads = n;
    else if (k === 'sequences') out.sequences = n;
    else if (k === 'batch_size') out.batchSize = n;
    else throw new InputError(`unknown llama-cpp option "${k}"; known: context_size, threads, sequences, batch_size`, { field: 'model' });
  }
  return out;
}

// ---- one runtime and one model load per file --------------------------------------------------------------------

let runtime: Promise<{ lib: NodeLlama; llama: Llama }> | null = null;

/** The node-llama-cpp runtime with its prebuilt CPU binary (loaded once per process). */
async function getRuntime(): Promise<{ lib: NodeLlama; llama: Llama }> {
  runtime ??= (async () => {
    let lib: NodeLlama;
    try {
      lib = await import('node-llama-cpp');
    } catch (err) {
      throw new InputError(`llama-cpp: the node-llama-cpp package could not be loaded (${(err as Error).message}); install it with npm i -E node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`, { field: 'model' });
    }
    const llama = await lib.getLlama({ gpu: false, build: 'never', logLevel: lib.LlamaLogLevel.error, progressLogs: false });
    return { lib, llama };
  })();
  runtime.catch(() => (runtime = null));
  return runtime;
}

const models = new Map<string, { model: Promise<LlamaModel>; refs: number }>();
let loads = 0;

async function acquireModel(path: string): Promise<LlamaModel> {
  let entry = models.get(path);
  if (!entry) {
    entry = {
      refs: 0,
      model: getRuntime().then(async ({ llama }) => {
        try {
          loads++;
          return await llama.loadModel({ modelPath: path, gpuLayers: 0 });
        } catch (err) {
          throw new InputError(`llama-cpp: could not load ${path}: ${(err as Error).message}`, { field: 'model' });
        }
      }),
    };
    models.set(path, entry);
    entry.model.catch(() => models.delete(path));
  }
  entry.refs++;
  return entry.model;
}

async function releaseModel(path: string): Promise<void> {
  const entry = models.get(path);
  if (!entry) return;
  if (--entry.refs > 0) return;
  models.delete(path);
  const m = await entry.model.catch(() => null);
  await m?.dispose();
}

/** Number of models loaded now (tests check that a run loads a file once). */
export function loadedModelCount(): number {
  return models.size;
}

/** Number of times a model file was read by the runtime in this process, since it started (every `loadModel` call). */
export function modelLoadCount(): number {
  return loads;
}

// ---- the provider ------------------------------------------------------------------------------------------------

/** A sequence with its chat and completion front-ends, created once. */
interface Slot {
  seq: Sequence;
  chat: InstanceType<NodeLlama['LlamaChat']>;
  completion: InstanceType<NodeLlama['LlamaCompletion']>;
}

/** The smallest float32 (denormal): the floor of a probability node-llama-cpp can report. */
const MIN_PROB = 1.401298464324817e-45;

class LlamaCppProvider implements Provider {
  readonly kind = 'llama-cpp';
  readonly baseUrl = null;
  readonly model: string;
  readonly capabilities: ProviderCapabilities;
  private readonly free: Slot[] = [];
  private readonly waiting: ((s: Slot) => void)[] = [];
  private closed = false;
  readonly modelId: string;
  readonly fingerprint: string;
  /** The chat format used for `chat_template: true` (node-llama-cpp's wrapper name, e.g. `Jinja`, `Llama 3`, `ChatML`). */
  readonly chatWrapper: string;
  private readonly wrapper: InstanceType<NodeLlama['LlamaChat']>['chatWrapper'];

  constructor(
    readonly address: string,
    private readonly opts: LlamaCppOptions,
    private readonly lib: NodeLlama,
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaContext,
    llama: Llama,
  ) {
    this.model = opts.path;
    // The file's own name, its file name and its size: a different file under the same name is a different model.
    const name = llamaModel.fileInfo.metadata?.general?.name;
    const size = statSync(opts.path).size;
    this.modelId = `${typeof name === 'string' && name ? `${name} (${basename(opts.path)}, ${size} bytes)` : `${basename(opts.path)} (${size} bytes)`}`;
    this.fingerprint = `node-llama-cpp@${NODE_LLAMA_CPP_VERSION} llama.cpp ${llama.llamaCppRelease.release} ${llama.buildType} cpu`;
    for (let i = 0; i < context.totalSequences; i++) {
      const seq = context.getSequence();
      this.free.push({
        seq,
        chat: new lib.LlamaChat({ contextSequence: seq, autoDisposeSequence: false }),
        completion: new lib.LlamaCompletion({ contextSequence: seq, autoDisposeSequence: false }),
      });
    }
    this.wrapper = this.free[0]!.chat.chatWrapper;
    this.chatWrapper = this.wrapper.wrapperName;
    this.capabilities = {
      remote: false,
      settings: { temperature: 'sent', top_p: 'sent', top_k: 'sent', max_tokens: 'sent', seed: 'sent', stop: 'sent', system_prompt: 'sent', chat_template: 'sent' },
      loglikelihood: 'native',
      maxConcurrency: context.totalSequences,
      images: 'unsupported',
      imagesReason: 'llama-cpp: runs text models only (no vision projector is loaded)',
    };
  }

  /** Tokens of the context (the runtime's; rolling windows use it as their maximum length). */
  get contextSize(): number {
    return this.context.contextSize;
  }

  /** CPU threads the context evaluates with (the address's `threads`, else half the cores). */
  get threads(): number {
    return this.context.idealThreads;
  }

  /** Tokenize as the model does (no BOS; special-token text is kept as text). */
  tokenize(text: string): number[] {
    return this.llamaModel.tokenize(text, false) as number[];
  }

  /** The chat prompt text the file's template makes of `messages` (what `generate` evaluates with `chat_template: true`). */
  chatPrompt(messages: readonly Message[]): string {
    const wrapper = this.wrapper;
    const { contextText } = wrapper.generateContextState({ chatHistory: [...history(messages), { type: 'model', response: [] }] });
    return contextText.toString();
  }

  private async take(signal: AbortSignal): Promise<Slot> {
    if (this.closed) throw new ProviderError('the llama-cpp provider is closed', { retryable: false });
    const s = this.free.pop();
    if (s) return s;
    return new Promise<Slot>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(give);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason ?? new Error('aborted'));
      };
      const give = (slot: Slot) => {
        signal.removeEventListener('abort', onAbort);
        resolve(slot);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(give);
    });
  }

  private give(s: Slot): void {
    const w = this.waiting.shift();
    if (w) w(s);
    else this.free.push(s);
  }

  private get bosPrefix(): number[] {
    const bos = this.llamaModel.tokens.bos;
    return bos != null && this.llamaModel.tokens.shouldPrependBosToken ? [bos] : [];
  }

  /** lm-eval's prefix token for text without context: BOS, else EOS. */
  private get prefixToken(): number {
    const t = this.llamaModel.tokens.bos ?? this.llamaModel.tokens.eos;
    if (t == null) throw new ProviderError('the model has neither a BOS nor an EOS token to condition the first token on', { retryable: false });
    return t;
  }

  async generate(req: GenerateRequest): Promise<GenerateResponse> {
    const slot = await this.take(req.signal);
    try {
      await slot.seq.clearHistory();
      const c = req.config;
      // The prompt and the generation share the context: generation stops where the context ends (finish reason
      // `length`, a truncation the analyses count) instead of shifting the context under the prompt.
      const raw = c.chat_template === false ? rawPrompt(req.messages) : null;
      const promptTokens = raw !== null ? this.bosPrefix.length + this.tokenize(raw).length : this.llamaModel.tokenize(this.chatPrompt(req.messages), true).length;
      const room = this.context.contextSize - promptTokens;
      if (room < 1) throw new ProviderError(`the prompt (${promptTokens} tokens) does not fit the context of ${this.context.contextSize} tokens; raise context_size in the address`, { retryable: false });
      const sampling = {
        signal: req.signal,
        maxTokens: Math.min(c.max_tokens ?? room, room),
        temperature: c.temperature ?? 1,
        topP: c.top_p ?? 1,
        topK: c.top_k ?? 0,
        minP: 0,
        seed: c.seed === undefined ? undefined : c.seed + req.epoch,
        repeatPenalty: false as const,
        trimWhitespaceSuffix: false,
        customStopTriggers: c.stop?.filter((s) => s !== ''),
      };
      const before = slot.seq.tokenMeter.getState();
      let text: string;
      let stopReason: string;
      if (raw !== null) {
        const r = await slot.completion.generateCompletionWithMeta(raw, sampling);
        text = r.response;
        stopReason = r.metadata.stopReason;
      } else {
        const r = await slot.chat.generateResponse(history(req.messages), sampling);
        text = r.response;
        stopReason = r.metadata.stopReason;
      }
      if (stopReason === 'abort' || req.signal.aborted) throw req.signal.reason ?? new Error('aborted');
      const used = slot.seq.tokenMeter.diff(before);
      return {
        text,
        finish_reason: stopReason === 'maxTokens' ? 'length' : 'stop',
        model_id: this.modelId,
        prompt_tokens: used.usedInputTokens,
        completion_tokens: used.usedOutputTokens,
        system_fingerprint: this.fingerprint,
        meta: { chat_wrapper: c.chat_template === false ? null : this.chatWrapper },
      };
    } catch (err) {
      throw asProviderError(err, req.signal);
    } finally {
      this.give(slot);
    }
  }

  /**
   * Evaluate `input` on the slot's sequence, reusing the longest common prefix already in it (when `reuse`) but never
   * position `firstScored` or later, and return the next-token distribution at every input position from `firstScored`
   * on, with the number of tokens actually evaluated (the reused prefix is not).
   */
  private async distributions(slot: Slot, input: number[], firstScored: number, reuse: boolean): Promise<{ dists: Map<number, number>[]; evaluated: number }> {
    const seq = slot.seq;
    const cached = seq.contextTokens;
    let keep = 0;
    const limit = reuse ? Math.min(cached.length, input.length, firstScored) : 0;
    while (keep < limit && cached[keep] === input[keep]) keep++;
    if (keep < seq.nextTokenIndex) await seq.eraseContextTokenRanges([{ start: keep, end: seq.nextTokenIndex }]);
    const items = input.slice(keep).map((t, i) => (keep + i >= firstScored ? ([t, { generateNext: { probabilities: true } }] as [number, { generateNext: { probabilities: true } }]) : t));
    const out = await seq.controlledEvaluate(items as Parameters<Sequence['controlledEvaluate']>[0]);
    const dists: Map<number, number>[] = [];
    for (let i = firstScored - keep; i < items.length; i++) {
      const p = out[i]?.next.probabilities;
      if (!p) throw new ProviderError(`llama-cpp returned no distribution at position ${keep + i}`, { retryable: false });
      dists.push(p as Map<number, number>);
    }
    return { dists, evaluated: items.length };
  }

  /** Log-probabilities of `targets` under `dists` (one distribution per target), and whether each was the most probable. */
  private static score(dists: Map<number, number>[], targets: number[]): { lps: number[]; greedy: boolean } {
    const lps: number[] = [];
    let greedy = true;
    for (let i = 0; i < targets.length; i++) {
      const d = dists[i]!;
      const p = d.get(targets[i]!) ?? 0;
      lps.push(Math.log(Math.max(p, MIN_PROB)));
      const top = d.keys().next().value;
      if (top !== targets[i] && (d.get(top as number) ?? 0) > p) greedy = false;
    }
    return { lps, greedy };
  }

  async loglikelihood(req: ScoringRequest<LoglikelihoodRequest>): Promise<ScoringResponse<LoglikelihoodResult>> {
    const slot = await this.take(req.signal);
    let evaluated = 0;
    try {
      const results: LoglikelihoodResult[] = [];
      for (const r0 of req.requests) {
        if (req.signal.aborted) throw req.signal.reason ?? new Error('aborted');
        const r = splitContinuation(r0.context, r0.continuation);
        let ctx: number[];
        let whole: number[];
        if (r.context === '') {
          ctx = [this.prefixToken];
          whole = [...ctx, ...this.tokenize(r.continuation)];
        } else {
          ctx = [...this.bosPrefix, ...this.tokenize(r.context)];
          whole = [...this.bosPrefix, ...this.tokenize(r.context + r.continuation)];
        }
        const n = whole.length - ctx.length;
        if (n <= 0) throw new ProviderError(`the continuation ${JSON.stringify(r0.continuation.slice(0, 40))} adds no token to its context`, { retryable: false });
        // lm-eval keeps the last context-size + 1 tokens (the left of a long context is dropped).
        const start = Math.max(0, whole.length - 1 - this.context.contextSize);
        if (start > ctx.length - 1) throw new ProviderError(`a continuation of ${n} tokens does not fit a context of ${this.context.contextSize} tokens`, { retryable: false });
        const input = whole.slice(start, whole.length - 1);
        const { dists, evaluated: n2 } = await this.distributions(slot, input, ctx.length - 1 - start, results.length > 0);
        evaluated += n2;
        const { lps, greedy } = LlamaCppProvider.score(dists, whole.slice(ctx.length));
        results.push({ logprob: lps.reduce((a, b) => a + b, 0), is_greedy: greedy, tokens: n, token_logprobs: lps });
      }
      return { results, model_id: this.modelId, prompt_tokens: evaluated, system_fingerprint: this.fingerprint };
    } catch (err) {
      throw asProviderError(err, req.signal);
    } finally {
      this.give(slot);
    }
  }

  async loglikelihoodRolling(req: ScoringRequest<string>): Promise<ScoringResponse<RollingLoglikelihoodResult>> {
    const slot = await this.take(req.signal);
    let evaluated = 0;
    try {
      const results: RollingLoglikelihoodResult[] = [];
      for (const text of req.requests) {
        const windows = rollingWindows(this.tokenize(text), this.prefixToken, this.context.contextSize);
        let total = 0;
        let tokens = 0;
        for (const w of windows) {
          if (req.signal.aborted) throw req.signal.reason ?? new Error('aborted');
          const { dists, evaluated: n2 } = await this.distributions(slot, w.input, w.input.length - w.targets.length, results.length > 0 || tokens > 0);
          evaluated += n2;
          const { lps } = LlamaCppProvider.score(dists, w.targets);
          for (const lp of lps) total += lp;
          tokens += w.targets.length;
        }
        results.push({ logprob: total, tokens, windows: windows.length });
      }
      return { results, model_id: this.modelId, prompt_tokens: evaluated, system_fingerprint: this.fingerprint };
    } catch (err) {
      throw asProviderError(err, req.signal);
    } finally {
      this.give(slot);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.free) s.chat.dispose({ disposeSequence: false });
    await this.context.dispose();
    await releaseModel(this.opts.path);
  }
}

/** Assay messages as node-llama-cpp chat history (system, user, model turns). */
function history(messages: readonly Message[]): ChatHistoryItem[] {
  return messages.map((m) => {
    const text = messageText(m);
    if (m.role === 'system') return { type: 'system', text };
    if (m.role === 'user') return { type: 'user', text };
    return { type: 'model', response: [text] };
  });
}

/** Runtime errors are not retried (the same input fails the same way); aborts pass through. */
function asProviderError(err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted || err instanceof ProviderError) return err;
  return new ProviderError(`llama-cpp: ${(err as Error)?.message ?? String(err)}`, { retryable: false });
}

/**
 * Create a `llama-cpp:` provider: loads (or shares) the model and creates its context.
 * Errors: InputError for a bad address, a missing file, a file llama.cpp cannot load, or a runtime that cannot start.
 */
export async function createLlamaCppProvider(address: string, _opts: ProviderOptions): Promise<Provider> {
  const o = parseLlamaCppAddress(address);
  const { lib, llama } = await getRuntime();
  const model = await acquireModel(o.path);
  try {
    const context = await model.createContext({
      contextSize: o.contextSize ?? Math.min(model.trainContextSize || 4096, 4096),
      threads: o.threads ?? Math.max(1, Math.floor(availableParallelism() / 2)),
      sequences: o.sequences,
      ...(o.batchSize ? { batchSize: o.batchSize } : {}),
    });
    return new LlamaCppProvider(address, o, lib, model, context, llama);
  } catch (err) {
    await releaseModel(o.path);
    if (err instanceof InputError) throw err;
    throw new InputError(`llama-cpp: could not create a context for ${o.path}: ${(err as Error).message}`, { field: 'model' });
  }
}
