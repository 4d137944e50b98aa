/** A generate request for the provider tests: one question, a config, epoch 0, a signal that never aborts. */
import type { GenerationConfig, Message } from '../../src/core/schemas.ts';
import type { GenerateRequest } from '../../src/providers/types.ts';

export const sample = { id: 'q1', input: 'What is 6*7?', target: '42', metadata: {} };
const ask: Message[] = [{ role: 'user', content: 'What is 6*7?' }];

/** A request for `sample` with the chat template on, `config` on top, and any field replaced by `over`. */
export const req = (config: Partial<GenerationConfig>, over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: ask,
  config: { chat_template: true, ...config },
  sample,
  epoch: 0,
  signal: new AbortController().signal,
  ...over,
});
