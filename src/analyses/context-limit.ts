/**
 * Effective context limits of needle-threading runs (`assay needle-limit`, the report's long-context section): the
 * per-sample grid scores of a run — its samples' needle coordinates (metadata `chars`, `depth`, `task`) with the
 * values the one outcome rule counts (grader timeouts 0; failed calls and grader errors left out) — and the limit
 * with its bootstrap interval (Roberts, Han, Albanie 2024, "Needle Threading"; formulas in src/stats/context-limit.ts).
 */
import { InputError } from '../core/errors.ts';
import { messageText } from '../core/schemas.ts';
import { effectiveContextLimit, limitInTokens, tokenScale, type ContextLimitOptions, type ContextLimitResult, type GridScores, type TokenPoint, type TokenScale } from '../stats/context-limit.ts';
import type { Pool } from '../store/types.ts';
import { TOKENIZER_FAMILIES, TOKENIZER_LABELS, countTokens, familyOfModel, type TokenizerFamily } from '../tokenizers/index.ts';
import { readRunOutcomes, resolveRun, type RunData } from './outcomes.ts';

/** Grid scores of outcomes already read: one per planned needle sample, in dataset order (`values` may be empty). */
export function gridScoresOf(d: RunData): GridScores[] {
  return d.grid_samples.map((s) => ({ sample_id: s.sample_id, length: s.grid!.length, depth: s.grid!.depth, task: s.grid!.task, values: s.values }));
}

/** Effective context limits over all tasks together and for each task. */
export interface ContextLimits {
  scorer: string;
  all: ContextLimitResult;
  /** By needle task (tasks with at least one counted value), sorted by name. */
  tasks: Record<string, ContextLimitResult>;
  /**
   * How the grid's character lengths translate into tokens (each result's `tokens` is its limit in this scale), or
   * null when no token count is available; `token_note` then says why and what to pass.
   */
  token_scale?: TokenScale | null;
  token_note?: string;
}

/**
 * Which token counts state the limit in tokens: `auto` (default) — the `prompt_tokens` the server recorded for the
 * run's attempts when there are any, else a tokenizer chosen by the model's family (guessed from its address and
 * reported ids, {@link familyOfModel}), else none; a family name — that tokenizer; `none` — characters only.
 */
export type TokenChoice = 'auto' | 'none' | TokenizerFamily;

/**
 * The token scale of a needle run: median prompt tokens at each grid length, from the recorded `prompt_tokens` of
 * its ok attempts, or from a named tokenizer over the rendered prompt (message texts, without chat-template tokens)
 * of the first planned sample at each length (the lengths' prompts differ only in random UUIDs and the task's
 * question, so one per length is counted; a full grid's long prompts take seconds each to tokenize).
 * Uses what `readRunOutcomes(…, { tokens: true })` kept (`token_points`, `grid_prompts`) so the run is not read
 * again; reads the pool only for data read without them.
 * Returns the scale (null when none is available) and a note saying which source was used, or why none was.
 * Errors: InputError for an unknown tokenizer family.
 */
export async function tokenScaleOfRun(pool: Pool, d: RunData, choice: TokenChoice = 'auto'): Promise<{ scale: TokenScale | null; note: string }> {
  if (choice === 'none') return { scale: null, note: 'tokens not reported (--tokenizer none)' };
  if (choice !== 'auto' && !TOKENIZER_FAMILIES.includes(choice)) throw new InputError(`unknown tokenizer family "${choice}"; known: ${TOKENIZER_FAMILIES.join(', ')} (or auto, none)`, { field: 'tokenizer' });
  const lengthOf = new Map(d.grid_samples.map((s) => [s.sample_id, s.grid!.length]));
  if (choice === 'auto') {
    let points: TokenPoint[] | null = d.token_points;
    if (!points) {
      points = [];
      for await (const a of pool.iterateAttempts(d.run.id)) {
        const length = lengthOf.get(a.sample_id);
        if (a.status === 'ok' && a.prompt_tokens != null && length !== undefined) points.push({ length, tokens: a.prompt_tokens });
      }
    }
    if (points.length) {
      const ids = d.run.manifest.provider.reported_model_ids;
      return {
        scale: tokenScale(points, 'recorded', null, `prompt_tokens the server reported (${ids.length ? `model ${ids.join(', ')}` : d.run.spec.model}; its own tokenizer, whole prompt with chat template), median of ${points.length} ok attempts over the lengths`),
        note: 'tokens: recorded prompt_tokens',
      };
    }
  }
  const names = [d.run.spec.model, ...d.run.manifest.provider.reported_model_ids];
  const family = choice === 'auto' ? familyOfModel(names) : choice;
  if (!family) return { scale: null, note: `no token counts: the server recorded no prompt_tokens and the tokenizer family of ${d.run.spec.model} is not known; pass --tokenizer <family> (${TOKENIZER_FAMILIES.join(', ')})` };
  let prompts = d.grid_prompts;
  if (!prompts) {
    prompts = [];
    const seen = new Set<number>();
    for await (const p of pool.iteratePlanned(d.run.id)) {
      const length = lengthOf.get(p.sample.id);
      if (length === undefined || seen.has(length)) continue;
      seen.add(length);
      prompts.push({ length, text: p.messages.map((m) => messageText(m)).join('\n') });
    }
  }
  const points: TokenPoint[] = [];
  for (const p of prompts) points.push({ length: p.length, tokens: (await countTokens(p.text, [family]))[family]! });
  const how = choice === 'auto' ? `the model's family guessed from its name "${names.find((n) => familyOfModel([n]) === family)}"` : '--tokenizer';
  return {
    scale: tokenScale(points, 'tokenizer', family, `${TOKENIZER_LABELS[family]} tokenizer (${how}; the server recorded no prompt_tokens), counted on the rendered prompt of one sample per length, chat-template tokens not included`),
    note: `tokens: ${family} tokenizer`,
  };
}

/** The limits with each result's limit stated in the scale's tokens (unchanged when there is no scale). */
export function withTokens(l: ContextLimits, t: { scale: TokenScale | null; note: string }): ContextLimits {
  const conv = (r: ContextLimitResult): ContextLimitResult => ({ ...r, tokens: t.scale ? limitInTokens(r, t.scale) : null });
  return { ...l, all: conv(l.all), tasks: Object.fromEntries(Object.entries(l.tasks).map(([k, v]) => [k, conv(v)])), token_scale: t.scale, token_note: t.note };
}

/**
 * Effective context limits of outcomes already read.
 * Errors: InputError for a run without needle samples or without counted outcomes for its scorer.
 */
export function contextLimitsOfData(d: RunData, opts: ContextLimitOptions = {}): ContextLimits {
  const scores = gridScoresOf(d);
  const runId = d.run.id, scorer = d.scorer;
  if (!scores.length) throw new InputError(`run ${runId} has no needle-threading samples (metadata chars/task)`);
  if (!scores.some((s) => s.values.length)) throw new InputError(`run ${runId} has no graded measurements for scorer "${scorer}" (re-grade with \`assay score ${runId} --scorer ${scorer}\`, or pick another with --scorer)`, { field: 'scorer' });
  const tasks: Record<string, ContextLimitResult> = {};
  for (const task of [...new Set(scores.map((s) => s.task))].sort()) {
    const these = scores.filter((s) => s.task === task && s.values.length);
    if (these.length) tasks[task] = effectiveContextLimit(these, opts);
  }
  return { scorer, all: effectiveContextLimit(scores, opts), tasks };
}

/**
 * Effective context limits of a run (id or unique prefix) for one scorer: over all tasks together and for each
 * task. Shapes: `ContextLimitResult` (lengths in characters; accuracy in [0, 1]; bootstrap interval on the grid).
 * @throws InputError for an unknown run, or a run without needle samples or counted outcomes for the scorer.
 */
export async function contextLimitsOfRun(pool: Pool, runId: string, scorer: string, opts: ContextLimitOptions = {}): Promise<ContextLimits> {
  return contextLimitsOfData(await readRunOutcomes(pool, runId, scorer), opts);
}

/**
 * `assay needle-limit`: the context limits of a run (id or unique prefix) for `scorer` (default: the run's first),
 * with what identifies the run, each limit also in tokens ({@link tokenScaleOfRun}: recorded prompt_tokens, else
 * a tokenizer by model family or `tokenizer`).
 * @throws InputError for an unknown run, a run without scorer, or as {@link contextLimitsOfRun}.
 */
export async function contextLimitOfRun(pool: Pool, runRef: string, opts: ContextLimitOptions & { scorer?: string; tokenizer?: TokenChoice } = {}): Promise<ContextLimits & { run_id: string; model: string; dataset: string }> {
  const run = await resolveRun(pool, runRef);
  const scorer = opts.scorer ?? run.spec.scorers[0]?.name;
  if (!scorer) throw new InputError(`run ${run.id} has no scorer`);
  const { scorer: _s, tokenizer, ...limitOpts } = opts;
  const data = await readRunOutcomes(pool, run, scorer, { tokens: tokenizer !== 'none' });
  const r = withTokens(contextLimitsOfData(data, limitOpts), await tokenScaleOfRun(pool, data, tokenizer ?? 'auto'));
  return { run_id: run.id, model: run.spec.model, dataset: run.spec.dataset.ref, ...r };
}
