/**
 * The provider interface: one per model backend (DESIGN.md §3). A provider knows nothing of scoring.
 * Providers are looked up by address prefix in `registry.ts`, e.g. `openai-compatible:http://127.0.0.1:8000/v1#m`.
 */
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
}

export interface Provider {
  /** The address as given, e.g. `openai:gpt-4o-mini`. */
  readonly address: string;
  /** Registry name, e.g. `openai-compatible`. */
  readonly kind: string;
  readonly baseUrl: string | null;
  readonly model: string | null;
  readonly capabilities: ProviderCapabilities;
  generate(req: GenerateRequest): Promise<GenerateResponse>;
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
