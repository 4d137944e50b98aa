/**
 * What a server says about itself, and whether it is still the server a stored run talked to.
 *
 * Each response may carry the model id the server reports, a `system_fingerprint` (OpenAI: "the backend
 * configuration that the model runs with", which changes when OpenAI changes that configuration; llama.cpp: its
 * build) and a few response headers naming the server software. The runner records them in the manifest
 * (`reported_model_ids`, `system_fingerprints`, `server`) and, when the same command meets the server again,
 * stops if `identityMismatch` finds the server is now a different one, instead of mixing two models in one run.
 */

/**
 * The response headers recorded as the server's identity (lower-case names). Only headers that name the server
 * software or API version, the same for every response of one deployment; never credentials, organisation or
 * project ids, request ids (`x-request-id`, `request-id`, `cf-ray`), timings or rate-limit state.
 * - `server`: the HTTP server (`uvicorn` for vLLM and SGLang, `llama.cpp`, `cloudflare` in front of OpenAI and
 *   Anthropic).
 * - `openai-version`: the API version OpenAI answers with.
 * - `x-powered-by`: the framework, when a server names it.
 * - `x-litellm-version`: the LiteLLM proxy's version; `x-vllm-version`: a vLLM deployment's version, where one
 *   sends it.
 * Exact names, never a prefix: vLLM also sends per-request headers under `x-vllm-` (`x-vllm-request-id`, request
 * timings) and LiteLLM under `x-litellm-` (call ids, cost), which would make every response look like a new server.
 */
export const IDENTITY_HEADERS = ['server', 'openai-version', 'x-powered-by', 'x-vllm-version', 'x-litellm-version'] as const;

/** Longest header value kept (a longer one is cut): identity, not payload. */
const MAX_HEADER_VALUE = 200;

/**
 * Pick the identity headers (`IDENTITY_HEADERS`) from a response's headers: a plain record with lower-case names
 * (undici's `res.headers`) or a fetch `Headers`. Repeated headers are joined with `, `; values are trimmed and cut
 * to 200 characters. Returns `{}` when none is present.
 */
export function serverHeaders(headers: Record<string, string | string[] | undefined> | Headers | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const get =
    typeof (headers as Headers).get === 'function'
      ? (name: string) => (headers as Headers).get(name) ?? undefined
      : (name: string) => (headers as Record<string, string | string[] | undefined>)[name];
  for (const name of IDENTITY_HEADERS) {
    const raw = get(name);
    if (raw === undefined) continue;
    const value = (Array.isArray(raw) ? raw.join(', ') : raw).trim();
    if (value !== '') out[name] = value.length > MAX_HEADER_VALUE ? value.slice(0, MAX_HEADER_VALUE) : value;
  }
  return out;
}

/** What a stored run saw (the manifest's `provider` object has these fields). */
export interface StoredIdentity {
  reported_model_ids: readonly string[];
  system_fingerprints?: readonly string[] | null;
}

/** What the server says now (a `GenerateResponse` has these fields). */
export interface SeenIdentity {
  model_id: string | null;
  system_fingerprint?: string | null;
}

function quoteList(xs: readonly string[]): string {
  return xs.map((x) => JSON.stringify(x)).join(', ');
}

/**
 * Is the server now a different one from the server a stored run talked to? Returns a message naming each
 * difference, or null when there is none. Strings are compared exactly (case and whitespace count).
 *
 * - Model id: a mismatch when the server now reports a model id and the stored run recorded some, none of them
 *   this one. A stored run with no reported ids, or a response without one, is not evidence either way.
 * - Fingerprint: a mismatch when the server now reports a fingerprint and the stored run recorded some, none of
 *   them this one. The stored list is every fingerprint the run saw, so a fingerprint that changed while the
 *   stored run was going (OpenAI rotates them with its backend) is accepted afterwards too. A stored run with no
 *   fingerprints (the server reported none, or the run predates fingerprints) accepts any; a response without one
 *   says nothing (some servers omit it on some responses) and is accepted.
 */
export function identityMismatch(stored: StoredIdentity, seen: SeenIdentity): string | null {
  const problems: string[] = [];
  const ids = stored.reported_model_ids ?? [];
  if (seen.model_id !== null && seen.model_id !== undefined && ids.length > 0 && !ids.includes(seen.model_id)) {
    problems.push(`the server now reports model ${JSON.stringify(seen.model_id)}, but the stored run's server reported ${quoteList(ids)}`);
  }
  const fps = stored.system_fingerprints ?? [];
  const fp = seen.system_fingerprint;
  if (fp !== null && fp !== undefined && fps.length > 0 && !fps.includes(fp)) {
    problems.push(
      `the server now reports system_fingerprint ${JSON.stringify(fp)}, but the stored run saw ${quoteList(fps)} ` +
        '(a changed backend configuration can change the outputs)',
    );
  }
  if (problems.length === 0) return null;
  return `${problems.join('; and ')}: continuing would mix the answers of two different servers in one run`;
}
