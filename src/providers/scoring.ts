/**
 * Log-likelihood scoring, the parts every provider shares: lm-evaluation-harness's conventions for splitting a
 * (context, continuation) pair and for cutting a long text into rolling windows, and the up-front check that a
 * provider can score at all (probed once per provider, before the first sample is run).
 *
 * Conventions (lm-evaluation-harness, `lm_eval/api/model.py` `_encode_pair` and `lm_eval/utils.py`
 * `get_rolling_token_windows` / `make_disjoint_window`; our own code):
 * - Trailing whitespace of the context is moved to the start of the continuation, so "Answer: " + "B" is scored
 *   as "Answer:" + " B" (tokenizers attach a leading space to the next word).
 * - The continuation's tokens are the tokens of `context + continuation` after the first `n` tokens, where `n` is
 *   the number of tokens of `context` alone (a boundary merge is charged to the continuation).
 * - An empty context is replaced by one prefix token (BOS, else EOS), so the first token has something to be
 *   conditioned on.
 * - A rolling text is cut into windows of at most `maxLength` tokens: the first predicts tokens 0…L−1 after the
 *   prefix token; each later window predicts the next L tokens, conditioned on the L−1… tokens before them.
 */
import { InputError, RunError } from '../core/errors.ts';
import { ProviderError, type ProbeResult, type Provider } from './types.ts';

/** What a solver can need of a provider beyond chat generation. */
export type ProviderNeed = 'loglikelihood';

/**
 * lm-eval's split of a log-likelihood request: trailing whitespace of `context` moves to the front of
 * `continuation`. Pure. Example: `("Q: 2+2?\nA: ", "4")` → `{ context: "Q: 2+2?\nA:", continuation: " 4" }`.
 */
export function splitContinuation(context: string, continuation: string): { context: string; continuation: string } {
  const trimmed = context.replace(/\s+$/u, '');
  if (trimmed.length === context.length) return { context, continuation };
  return { context: trimmed, continuation: context.slice(trimmed.length) + continuation };
}

/** One rolling window: the tokens fed to the model (`input`) and how many of its last positions are scored. */
export interface RollingWindow {
  /** Tokens to evaluate, in order. */
  input: number[];
  /** The tokens predicted: `input[i+1]` for the scored positions, then the last target after the final input token. */
  targets: number[];
}

/**
 * Cut `tokens` into lm-eval's disjoint rolling windows (context length 1, as lm-eval's HF and vLLM backends use):
 * every token is predicted exactly once, the first from `prefix` alone, each from at most `maxLength − 1` tokens
 * before it. Returned windows give the whole input (context then the predicted tokens but the last) and the targets.
 * Errors: RangeError when `maxLength < 2`.
 */
export function rollingWindows(tokens: readonly number[], prefix: number, maxLength: number): RollingWindow[] {
  if (!(maxLength >= 2)) throw new RangeError(`rolling windows need a maximum length of at least 2 tokens (got ${maxLength})`);
  const out: RollingWindow[] = [];
  if (tokens.length === 0) return out;
  const first = Math.min(maxLength, tokens.length);
  out.push({ input: [prefix, ...tokens.slice(0, first - 1)], targets: tokens.slice(0, first) });
  let predicted = first;
  while (predicted < tokens.length) {
    const n = Math.min(tokens.length - predicted, maxLength);
    const end = predicted + n;
    // lm-eval: input = tokens[end − maxLength − 1 : end − 1], targets = tokens[end − n : end]; then the disjoint
    // window keeps input[: len(input) − (n − 1)] as context, i.e. the context is everything before the targets.
    const start = Math.max(0, end - maxLength - 1);
    out.push({ input: tokens.slice(start, end - 1), targets: tokens.slice(end - n, end) });
    predicted = end;
  }
  return out;
}

/** Byte length of a string in UTF-8 (lm-eval's `count_bytes`). */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Word count as lm-eval's `count_words`: `len(re.split(r"\s+", text))` (an empty string counts 1, like Python's). */
export function countWords(s: string): number {
  return s.split(/\s+/u).length;
}

const probes = new WeakMap<Provider, Promise<ProbeResult>>();

/**
 * Make sure `provider` can serve `needs`, before any sample is run. A provider that declares no log-likelihood
 * support fails at once; one that declares `probe` is asked once (the answer is kept for the provider's lifetime,
 * so a run, or an eval set sharing the provider, probes once).
 * @throws InputError when the provider cannot score (its declared reason or the probe's answer, naming the
 *   address); RunError when the probe itself could not reach the server (a connection failure, a timeout).
 */
export async function ensureCapabilities(provider: Provider, needs: readonly ProviderNeed[], signal?: AbortSignal): Promise<void> {
  if (!needs.includes('loglikelihood')) return;
  const how = provider.capabilities.loglikelihood;
  if (!how || !provider.loglikelihood || !provider.loglikelihoodRolling) {
    const why = provider.capabilities.loglikelihoodReason ?? `the ${provider.kind} provider returns no log-probabilities`;
    throw new InputError(`this task scores log-likelihoods, but ${provider.address} cannot: ${why}`, { field: 'model' });
  }
  if (how === 'native') return;
  if (!provider.probeScoring) throw new InputError(`this task scores log-likelihoods, but ${provider.address} has no way to check that its server returns them`, { field: 'model' });
  let p = probes.get(provider);
  if (!p) {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 60_000);
    const relay = () => ac.abort();
    signal?.addEventListener('abort', relay, { once: true });
    p = provider.probeScoring(ac.signal).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', relay);
    });
    probes.set(provider, p);
  }
  let r: ProbeResult;
  try {
    r = await p;
  } catch (err) {
    probes.delete(provider);
    const msg = err instanceof ProviderError || err instanceof Error ? err.message : String(err);
    throw new RunError(`could not check whether ${provider.address} returns log-probabilities: ${msg}`);
  }
  if (!r.ok) throw new InputError(`this task scores log-likelihoods, but ${provider.address} does not return prompt log-probabilities: ${r.reason}`, { field: 'model' });
}
