/**
 * The plan: samples × epochs, enumerated up front and content-addressed (DESIGN.md §3).
 * The run id is a hash of the run spec (dataset hash, template hash, model address, generation config, epochs,
 * scorers), so running the same command again finds the same run and completes only what is missing.
 */
import { hashJson, sha256, shortId } from '../core/hash.ts';
import type { GenerationConfig, Message, PlannedSample, RunSpec, Sample } from '../core/schemas.ts';
import { renderMessages, type PromptTemplate } from '../core/templates.ts';

/** Plan one sample: render its messages and hash its prompt, target and content. */
export function planSample(sample: Sample, index: number, render: (sample: Sample) => Message[]): PlannedSample {
  const messages = render(sample);
  return {
    sample,
    index,
    messages,
    prompt_hash: hashJson(messages),
    target_hash: sha256(sample.target),
    content_hash: hashJson({ input: sample.input, target: sample.target }),
  };
}

/** Plan every sample, in order (an array: for small datasets and tests). */
export function planSamples(samples: Sample[], template: PromptTemplate, config: GenerationConfig): PlannedSample[] {
  return samples.map((sample, index) => planSample(sample, index, (s) => renderMessages(template, s, config)));
}

/** Plan lazily, one sample at a time (the runner streams the plan into the pool; nothing accumulates). */
export function* planIter(samples: Iterable<Sample>, render: (sample: Sample) => Message[]): Generator<PlannedSample> {
  let index = 0;
  for (const sample of samples) yield planSample(sample, index++, render);
}

/** The run id: 16 hex digits of the spec's hash. Equal specs give equal ids (resume); any output-changing field changes it. */
export function runIdOf(spec: RunSpec): string {
  return shortId(hashJson(spec), 16);
}

/**
 * The response-cache key of one request: everything that changes the model's output (provider address, rendered
 * messages, sampling parameters, the epoch index) and nothing that does not (timeouts, concurrency, retries).
 * Repeats never share an entry because the epoch is part of the key. A solver other than the default single
 * generation (`solver`, its specs) is part of the key too: a multi-turn conversation is not a single reply.
 */
export function cacheKeyOf(providerAddress: string, promptHash: string, config: GenerationConfig, epoch: number, solver?: unknown): string {
  const { temperature, top_p, top_k, max_tokens, seed, stop, chat_template } = config;
  return hashJson({ providerAddress, promptHash, temperature, top_p, top_k, max_tokens, seed, stop, chat_template, epoch, solver });
}

/** Lazily enumerate (sample index, epoch) pairs not yet completed, sample-major so early samples finish first. */
export async function* pendingWork(planned: AsyncIterable<PlannedSample>, epochs: number, completed: Set<string>): AsyncGenerator<{ planned: PlannedSample; epoch: number }> {
  for await (const p of planned) {
    for (let epoch = 0; epoch < epochs; epoch++) {
      if (!completed.has(`${p.sample.id}\u0000${epoch}`)) yield { planned: p, epoch };
    }
  }
}
