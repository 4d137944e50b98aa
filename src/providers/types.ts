/**
 * The provider interface: one per model backend (DESIGN.md §3). A provider knows nothing of scoring.
 * Providers are looked up by address prefix in `registry.ts`, e.g. `openai-compatible:http://127.0.0.1:8000/v1#m`.
 */
import type { ImageResolver } from '../core/images.ts';
import type { FinishReason, GenerationConfig, Message, Sample } from '../core/schemas.ts';

/** What a provider is asked to do: one generation for one (sample, epoch). */
export interface GenerateRequest {
  messages: Message[];
  config: GenerationConfig;
  /** The sample being answered (replay and reference providers match on it; HTTP providers ignore it). */
  sample: Sample;
  epoch: number;
  /** Aborts the call (per-request timeout or Ctrl-C). */
  signal: AbortSignal;
  /**
   * The bytes of the images the messages' image parts name (by sha256). Given by the runner whenever the run has
   * images; a provider that meets an image part without it fails the call (not retryable).
   */
  images?: ImageResolver;
}

/** A provider's answer. `finish_reason: 'length'` marks a truncated generation. */
export interface GenerateResponse {
  text: string;
  finish_reason: FinishReason;
  /** The model id the server reported, when it reports one. */
  model_id: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  /** Provider-specific extras to store with the attempt (JSON-serialisable), e.g. a replayed published verdict. */
  meta?: Record<string, unknown>;
  /**
   * The `system_fingerprint` the server reported (OpenAI: the backend configuration the model ran with; llama.cpp:
   * its build), null when the server reported none. Absent for providers that call no server (replay, reference).
   */
  system_fingerprint?: string | null;
  /**
   * Response headers that identify the server software, picked by `serverHeaders` (identity.ts) from a fixed list:
   * never secrets, never per-request ids or rate-limit state. Absent for providers that call no server.
   */
  server?: Record<string, string>;
}

/**
 * A failed call. `retryable` tells the runner whether to try again; `retryAfterMs` carries a server's
 * Retry-After; `rateLimited` (HTTP 429) makes the adaptive scheduler lower its concurrency.
 */
/**
 * Whether an HTTP status from a model endpoint is worth retrying: no response at all (0), request timeout (408),
 * conflict (409), rate limited (429) or a server error (≥ 500); every other status is the request's own fault. One
 * rule for every provider.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 409 || status === 429 || status >= 500;
}

export class ProviderError extends Error {
  constructor(
    message: string,
    readonly opts: { retryable: boolean; retryAfterMs?: number; rateLimited?: boolean; status?: number } = { retryable: false },
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** A generation setting: one key of the generation config. */
export type GenerationSetting = keyof GenerationConfig;

/**
 * What a provider does with one generation setting:
 * - `sent`: passed to the model as given (for a synthetic reference model: used by it). For `chat_template`, `sent`
 *   means both values are honoured; chat APIs, which always apply the server's template, declare `unsupported`.
 * - `unsupported`: the API has no such parameter, so the provider leaves it out of the request.
 * - `ignored`: no model call could use it (a recorded response, a synthetic answer), so it has no effect.
 * Anything but `sent` is reported by `unsentSettings` (settings.ts) and never sent.
 */
export type SettingSupport = 'sent' | 'unsupported' | 'ignored';

/** Two settings the API rejects together: when both are given, only `keep` is sent and `drop` is reported. */
export interface SettingConflict {
  keep: GenerationSetting;
  drop: GenerationSetting;
  /** Why, as shown in the warning and recorded in the manifest. */
  reason: string;
}

/** Capabilities are declared, never guessed. */
export interface ProviderCapabilities {
  /** Does it call a real network service (and so benefit from the response cache)? */
  remote: boolean;
  /** What the provider does with each generation setting (every setting is declared, so a new one must be too). */
  settings: Record<GenerationSetting, SettingSupport>;
  /** Why a setting that is not `sent` is not sent; `unsentSettings` words a generic reason for the others. */
  reasons?: Partial<Record<GenerationSetting, string>>;
  /** Settings the API rejects together. */
  conflicts?: readonly SettingConflict[];
  /**
   * Log-likelihood scoring (`loglikelihood` and `loglikelihoodRolling`): `native` when the provider computes it
   * itself (an in-process model), `probe` when it depends on the server (an HTTP endpoint may or may not return
   * prompt log-probabilities: `probeScoring` finds out, once per run). Absent: the provider cannot score.
   */
  loglikelihood?: 'native' | 'probe';
  /** Why the provider cannot score log-likelihoods (shown in the error of a task that needs them). */
  loglikelihoodReason?: string;
  /** Most calls the provider can serve at once (an in-process model with n sequences); the runner caps its concurrency. */
  maxConcurrency?: number;
  /**
   * Image content parts (as for the settings above): `sent` — the provider sends them in its API's format and the
   * model takes them; `unsupported` — the API or this model takes no images (`imagesReason` says why), so a run
   * whose messages have image parts is refused before its first request; `ignored` — the provider's answers cannot
   * depend on them (a replayed or synthetic model): allowed, warned about and recorded. Absent: `unsupported`.
   */
  images?: SettingSupport;
  /** Why images are not sent (shown when a run with images is refused or warned about). */
  imagesReason?: string;
}

/**
 * One log-likelihood request (lm-evaluation-harness's `loglikelihood`): how likely is `continuation` after `context`?
 * Both are plain text (no chat template). Providers split them as lm-eval does (`splitContinuation` in scoring.ts):
 * trailing whitespace of the context moves to the continuation; the continuation's tokens are the tokens of
 * `context + continuation` after the tokens of `context`.
 */
export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}

/** The answer to one log-likelihood request. Log-probabilities are natural logarithms. */
export interface LoglikelihoodResult {
  /** Sum of the continuation tokens' log-probabilities (≤ 0). */
  logprob: number;
  /** True when every continuation token is the model's most probable next token (lm-eval's `is_greedy`). */
  is_greedy: boolean;
  /** Number of continuation tokens. */
  tokens: number;
  /** Per-token log-probabilities of the continuation, in order (sum = `logprob`). */
  token_logprobs: number[];
}

/** The answer to one rolling log-likelihood request (lm-eval's `loglikelihood_rolling`): the whole text, from its start. */
export interface RollingLoglikelihoodResult {
  /** Sum over every token of the text of its log-probability given all earlier tokens (within the model's window). */
  logprob: number;
  /** Tokens scored. */
  tokens: number;
  /** Windows the text was cut into (1 when it fits the context). */
  windows: number;
}

/** A batch of scoring requests for one (sample, epoch); `signal` aborts it. */
export interface ScoringRequest<T> {
  requests: T[];
  sample: Sample;
  epoch: number;
  signal: AbortSignal;
}

/** What a scoring call returns: one result per request, in order, and what the server said about itself. */
export interface ScoringResponse<R> {
  results: R[];
  model_id: string | null;
  /** Tokens the model evaluated for the whole batch (null when unknown). */
  prompt_tokens: number | null;
  system_fingerprint?: string | null;
  server?: Record<string, string>;
}

/** The answer of a capability probe: `ok`, or why not (shown to the user). */
export type ProbeResult = { ok: true; detail?: string } | { ok: false; reason: string };

export interface Provider {
  /** The address as given, e.g. `openai:gpt-4o-mini`. */
  readonly address: string;
  /** Registry name, e.g. `openai-compatible`. */
  readonly kind: string;
  readonly baseUrl: string | null;
  readonly model: string | null;
  readonly capabilities: ProviderCapabilities;
  generate(req: GenerateRequest): Promise<GenerateResponse>;
  /** Log-likelihoods of continuations (providers whose `capabilities.loglikelihood` is set). */
  loglikelihood?(req: ScoringRequest<LoglikelihoodRequest>): Promise<ScoringResponse<LoglikelihoodResult>>;
  /** Rolling log-likelihoods of whole texts (providers whose `capabilities.loglikelihood` is set). */
  loglikelihoodRolling?(req: ScoringRequest<string>): Promise<ScoringResponse<RollingLoglikelihoodResult>>;
  /**
   * Check that scoring works on this endpoint with one tiny request (for `capabilities.loglikelihood: 'probe'`).
   * Called at most once per provider by `ensureCapabilities` (scoring.ts), before any sample is run.
   */
  probeScoring?(signal: AbortSignal): Promise<ProbeResult>;
  /** Release sockets and files. */
  close(): Promise<void>;
}

/** Options every provider factory receives from the runner. */
export interface ProviderOptions {
  /** Maximum simultaneous requests (sizes HTTP connection pools). */
  concurrency: number;
  /** Environment for API keys (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** Seed for synthetic reference models. */
  seed?: number;
}
