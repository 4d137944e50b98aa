/**
 * A custom task written against Assay's public API, as a user would write it in their own project:
 * its own dataset (data/capitals.jsonl), its own scorer, and a two-turn solver (answer, then confirm in one word).
 *
 *   npx assay run --task examples/custom-task/task.ts --model <address>        # from the command line
 *   node --import tsx examples/custom-task/run.ts <address>                   # from code (run.ts)
 */
import { fileURLToPath } from 'node:url';
import { defineTask, type Scorer, type Solver } from 'assay';

/** Two turns: the model answers, then is asked to confirm its final answer in one word. Both turns are stored. */
export const answerThenConfirm: Solver = async (state, generate) => {
  state = await generate(state);
  state.messages.push({ role: 'user', content: 'Confirm your final answer: reply with the city name only.' });
  return generate(state);
};

/**
 * Correct when the confirmed answer (the reply, or its `\boxed{}` content) is the gold city, case and punctuation
 * ignored. A model whose first turn did not contain its confirmed answer is marked in the explanation.
 */
export const cityScorer: Scorer = {
  name: 'city',
  kind: 'binary',
  options: {},
  score(sample, response, state) {
    const boxed = /\\boxed\{([^{}]*)\}/.exec(response)?.[1];
    const said = (boxed ?? response).trim().replace(/[.!"'\s]+$/g, '').replace(/^["'\s]+/, '').toLowerCase();
    if (!said) return { value: 0, extracted: null, explanation: 'empty reply', status: 'no_answer' };
    const gold = sample.target.toLowerCase();
    const first = state?.messages.find((m, i) => m.role === 'assistant' && i < state.messages.length - 1);
    const changed = first && typeof first.content === 'string' && !first.content.toLowerCase().includes(said);
    return {
      value: said === gold ? 1 : 0,
      extracted: said,
      explanation: `${said === gold ? 'matches' : 'differs from'} ${sample.target}${changed ? ' (changed between turns)' : ''}`,
      status: 'ok',
    };
  },
};

export default defineTask({
  name: 'capitals',
  version: 1,
  description: 'capital cities, answered then confirmed',
  dataset: fileURLToPath(new URL('./data/capitals.jsonl', import.meta.url)),
  template: 'Answer the question. {question}',
  solver: answerThenConfirm,
  scorers: [cityScorer],
  epochs: 2,
  config: { temperature: 0.7, max_tokens: 64, seed: 1 },
});
