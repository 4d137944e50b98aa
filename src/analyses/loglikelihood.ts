/**
 * Analyses of log-likelihood runs read from the pool: corpus perplexity and bits per byte of a rolling run, and
 * learnability (student loss − reference loss) of the items two runs scored, with the selected subset compared
 * against random subsets and the rankings of evaluated models on each.
 *
 * Both read the log-likelihoods the solvers stored with each attempt (`meta.solver.loglikelihood`,
 * src/core/loglikelihood.ts), never raw responses. Failed attempts are left out (and counted).
 */
import { InputError } from '../core/errors.ts';
import { loglikelihoodOf, type LoglikelihoodMetadata } from '../core/loglikelihood.ts';
import type { RunRecord, Sample } from '../core/schemas.ts';
import { goldIndex } from '../scorers/loglikelihood.ts';
import { selectByLearnability, type LearnabilityItem, type LearnabilitySelection, type ModelScores } from '../stats/learnability.ts';
import { corpusPerplexity, type CorpusPerplexity, type RollingItem } from '../stats/perplexity.ts';
import type { Pool } from '../store/types.ts';
import { readRunOutcomes, resolveRun, scorerOfRun } from './outcomes.ts';

/** One sample's stored log-likelihoods (the first successful epoch). */
export interface StoredLoglikelihood {
  sample_id: string;
  epoch: number;
  ll: LoglikelihoodMetadata;
}

/**
 * The stored log-likelihoods of a run, one per sample (its first successful epoch: scoring is deterministic), in
 * dataset order, with the number of attempts that failed or carry none.
 * Errors: InputError for an unknown run.
 */
export async function storedLoglikelihoods(pool: Pool, runRef: string): Promise<{ run: RunRecord; items: StoredLoglikelihood[]; missing: number }> {
  const run = await resolveRun(pool, runRef);
  const items: StoredLoglikelihood[] = [];
  const seen = new Set<string>();
  let missing = 0;
  for await (const a of pool.iterateAttempts(run.id)) {
    if (seen.has(a.sample_id)) continue;
    const ll = a.status === 'ok' ? loglikelihoodOf(a.meta?.solver as Record<string, unknown> | undefined) : null;
    if (!ll) {
      missing++;
      continue;
    }
    seen.add(a.sample_id);
    items.push({ sample_id: a.sample_id, epoch: a.epoch, ll });
  }
  return { run, items, missing };
}

/** Corpus perplexity of a rolling run, and what was left out. */
export interface RunPerplexity extends CorpusPerplexity {
  run_id: string;
  model: string;
  /** Attempts without stored log-likelihoods (failed calls): not in the figures. */
  missing: number;
}

/**
 * Corpus perplexity, bits per byte and NLL per token of a `loglikelihood_rolling` run, with percentile-bootstrap
 * intervals over documents (src/stats/perplexity.ts). Errors: InputError for an unknown run or a run without
 * rolling log-likelihoods.
 */
export async function perplexityOfRun(pool: Pool, runRef: string, opts: { seed?: number; replicates?: number } = {}): Promise<RunPerplexity> {
  const { run, items, missing } = await storedLoglikelihoods(pool, runRef);
  const rolling: RollingItem[] = [];
  for (const it of items) if (it.ll.kind === 'rolling') rolling.push({ logprob: it.ll.logprob, tokens: it.ll.tokens, bytes: it.ll.bytes, words: it.ll.words });
  if (!rolling.length) throw new InputError(`run ${run.id} holds no rolling log-likelihoods (make it with the loglikelihood_rolling solver)`);
  const p = corpusPerplexity(rolling, { seed: opts.seed ?? run.manifest.seeds.bootstrap, replicates: opts.replicates });
  return { ...p, run_id: run.id, model: run.spec.model, missing };
}

/** How an item's loss is measured: negative log-likelihood per UTF-8 byte (default; compares across tokenizers), per token, or in total. */
export type LossUnit = 'byte' | 'token' | 'sum';

/** An item's loss from its stored log-likelihoods: the scored text (rolling), the target, or the gold option (bytes: of the text, without the target delimiter). */
export function itemLoss(ll: LoglikelihoodMetadata, unit: LossUnit, sample?: Sample): number | null {
  let logprob: number, tokens: number, bytes: number;
  if (ll.kind === 'choice') {
    const g = sample ? goldIndex(sample) : null;
    if (g === null || g >= ll.logprobs.length) return null;
    (logprob = ll.logprobs[g]!), (tokens = ll.tokens[g]!), (bytes = ll.bytes[g]!);
  } else (logprob = ll.logprob), (tokens = ll.tokens), (bytes = ll.bytes);
  const v = unit === 'sum' ? -logprob : unit === 'token' ? -logprob / tokens : -logprob / bytes;
  return Number.isFinite(v) ? v : null;
}

/** Options of `learnabilityOfRuns`. */
export interface LearnabilityOptions {
  /** The student's run (a log-likelihood run). */
  student: string;
  /** The reference model's run over the same dataset. */
  reference: string;
  /** Fraction of items to select (default 0.1). */
  fraction?: number;
  /** Loss unit (default `byte`). */
  loss?: LossUnit;
  /** Runs of evaluated models over the same dataset, whose rankings are compared on the subsets (scorer: the run's first, or `scorer`). */
  compare?: string[];
  scorer?: string;
  seed?: number;
  replicates?: number;
  draws?: number;
}

export interface RunLearnability extends LearnabilitySelection {
  student: { run_id: string; model: string };
  reference: { run_id: string; model: string };
  loss: LossUnit;
  /** The most learnable items with their losses (up to 20), for a first look. */
  top: { sample_id: string; student: number; reference: number; learnability: number }[];
  /** Items scored by one run only, or without a usable loss: left out. */
  unmatched: number;
}

async function samplesOf(pool: Pool, run: RunRecord): Promise<Map<string, Sample>> {
  const out = new Map<string, Sample>();
  for await (const p of pool.iteratePlanned(run.id)) out.set(p.sample.id, p.sample);
  return out;
}

/** Scorers whose values are losses (lower is better) among the built-in ones. */
const LOWER_IS_BETTER = new Set(['bits_per_byte', 'nll_per_token']);

/**
 * Learnability of the items two log-likelihood runs share (student loss − reference loss per item), the top
 * `fraction` selected and compared with random subsets (difficulty, and each `compare` run's score and rank), with
 * bootstrap intervals (src/stats/learnability.ts).
 * Errors: InputError for unknown runs, runs over different datasets, runs without log-likelihoods, fewer than 2
 * shared items.
 */
export async function learnabilityOfRuns(pool: Pool, o: LearnabilityOptions): Promise<RunLearnability> {
  const unit = o.loss ?? 'byte';
  const s = await storedLoglikelihoods(pool, o.student);
  const r = await storedLoglikelihoods(pool, o.reference);
  if (s.run.spec.dataset.hash !== r.run.spec.dataset.hash) {
    throw new InputError(`the student run ${s.run.id} (${s.run.spec.dataset.name}) and the reference run ${r.run.id} (${r.run.spec.dataset.name}) score different datasets`);
  }
  for (const x of [s, r]) if (!x.items.length) throw new InputError(`run ${x.run.id} holds no log-likelihoods (make it with a loglikelihood_* solver)`);
  const needSamples = s.items.some((i) => i.ll.kind === 'choice') || r.items.some((i) => i.ll.kind === 'choice');
  const samples = needSamples ? await samplesOf(pool, s.run) : new Map<string, Sample>();
  const refLoss = new Map<string, number>();
  for (const it of r.items) {
    const v = itemLoss(it.ll, unit, samples.get(it.sample_id));
    if (v !== null) refLoss.set(it.sample_id, v);
  }
  const items: LearnabilityItem[] = [];
  for (const it of s.items) {
    const v = itemLoss(it.ll, unit, samples.get(it.sample_id));
    const ref = refLoss.get(it.sample_id);
    if (v !== null && ref !== undefined) items.push({ id: it.sample_id, student: v, reference: ref });
  }
  if (items.length < 2) throw new InputError(`the two runs share ${items.length} scored item(s); learnability needs at least 2`);
  const models: ModelScores[] = [];
  for (const ref of o.compare ?? []) {
    const run = await resolveRun(pool, ref);
    if (run.spec.dataset.hash !== s.run.spec.dataset.hash) throw new InputError(`run ${run.id} evaluates another dataset (${run.spec.dataset.name})`);
    const scorer = await scorerOfRun(pool, run, o.scorer);
    const data = await readRunOutcomes(pool, run, scorer);
    const scores = new Map<string, number>();
    for (const smp of data.samples) {
      const vals = smp.epochs.map((e) => e.value).filter((v): v is number => v !== null);
      if (vals.length) scores.set(smp.sample_id, vals.reduce((a, b) => a + b, 0) / vals.length);
    }
    models.push({ name: `${run.spec.model} (${run.id.slice(0, 8)}, ${scorer})`, scores, higherIsBetter: !LOWER_IS_BETTER.has(scorer.split('?')[0]!) });
  }
  const sel = selectByLearnability(items, { fraction: o.fraction ?? 0.1, models, seed: o.seed ?? s.run.manifest.seeds.bootstrap, replicates: o.replicates, draws: o.draws });
  const byId = new Map(items.map((i) => [i.id, i]));
  return {
    ...sel,
    student: { run_id: s.run.id, model: s.run.spec.model },
    reference: { run_id: r.run.id, model: r.run.spec.model },
    loss: unit,
    top: sel.selected.slice(0, 20).map((id) => {
      const i = byId.get(id)!;
      return { sample_id: id, student: i.student, reference: i.reference, learnability: i.student - i.reference };
    }),
    unmatched: Math.max(s.items.length, r.items.length) - items.length,
  };
}
