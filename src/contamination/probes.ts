/**
 * Contamination probes: did a model see a benchmark's items in training? Each probe turns the items into prompts whose
 * answer a model can only know from the items' text, runs them as an ordinary run (through any provider; in the pool
 * beside the scores, with the usual interval, resumable, chained), and reports the rate of hits with its 95% interval.
 *
 * | probe | asks | hit | reference |
 * |---|---|---|---|
 * | `canary` | the item's canary string (`metadata.canary`, or one given for the set) without its last 16 characters | the reply contains the hidden 16 | BIG-bench canary strings (Srivastava et al. 2022) |
 * | `masked-option` | the question with one wrong option replaced by `[MASK]` | the reply is that option (normalised exact match) | TS-Guessing (Deng et al. 2024, "Investigating Data Contamination in Modern Benchmarks for LLMs") |
 * | `verbatim` | the first half of the item's text (cut at a word) | the reply contains the next 32 characters (whitespace collapsed) | verbatim-completion tests (Carlini et al. 2021; Golchin & Surdeanu 2023, guided instruction) |
 *
 * A canary's 16 hidden hexadecimal digits are guessed by chance with probability 16^-16: any hit is evidence. The other
 * probes have no such floor (a famous quotation continues itself): read their rates against a set the model cannot
 * have seen. A private set is probed under its own policy (allowed endpoints only, nothing of its text stored).
 */
import { InputError } from '../core/errors.ts';
import { hashJson, hashUniform } from '../core/hash.ts';
import { messageText, type GenerationConfig, type Message, type RunDataset, type Sample } from '../core/schemas.ts';
import { getTemplate } from '../core/templates.ts';
import { runStatistics } from '../analyses/statistics.ts';
import { executeRun, type PrivacyPolicy, type RunResult } from '../runner/run.ts';
import type { SigningKey } from '../evidence/keys.ts';
import { goldIndex } from '../scorers/loglikelihood.ts';
import type { Scorer } from '../scorers/types.ts';
import type { Provider } from '../providers/types.ts';
import type { Pool } from '../store/types.ts';

export const PROBE_KINDS = ['canary', 'masked-option', 'verbatim'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

/** Characters of a canary that are hidden; characters of a continuation that must come back. */
const CANARY_HIDDEN = 16;
const CONTINUATION_CHARS = 32;

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();
/** Case, surrounding quotes and spaces, a trailing full stop, an `X.` / `(X)` option label: what exact match ignores. */
const normalizeOption = (s: string) => collapse(s.split('\n')[0] ?? '').replace(/^\(?[A-J][.)]\s+/, '').replace(/^["'“”‘’`]+|["'“”‘’`]+$/g, '').replace(/\.$/, '').toLowerCase();

/** The probe's grader: `contains` (canary, verbatim; whitespace collapsed) or `exact` (masked option, normalised). */
export function probeScorer(mode: 'contains' | 'exact'): Scorer {
  return {
    name: `contamination_${mode}`,
    kind: 'binary',
    metric: { kind: 'binary' },
    options: {},
    score(sample: Sample, response: string) {
      const r = response ?? '';
      const hit = mode === 'contains' ? collapse(r).includes(collapse(sample.target)) : normalizeOption(r) === normalizeOption(sample.target);
      return { value: hit ? 1 : 0, extracted: mode === 'exact' ? normalizeOption(r).slice(0, 500) : null, explanation: hit ? 'reproduced' : 'not reproduced', status: 'ok' as const };
    },
  };
}

function textOf(s: Sample): string {
  const input = s.input as string | Message[];
  return typeof input === 'string' ? input : input.map((m) => messageText(m)).join('\n');
}

/**
 * The probe prompts of `samples` (ids `<item id>~<kind>`, targets the hidden text). Items the probe does not apply to
 * (no canary; no choices or fewer than 2 wrong ones; text shorter than 80 characters) are counted in `skipped`.
 * `seed` picks the masked option. Errors: InputError when no item can be probed.
 */
export function probeSamples(kind: ProbeKind, samples: Sample[], o: { seed?: number; canary?: string } = {}): { samples: Sample[]; skipped: number } {
  const out: Sample[] = [];
  let skipped = 0;
  for (const s of samples) {
    const id = `${s.id}~${kind}`;
    if (kind === 'canary') {
      const canary = typeof s.metadata.canary === 'string' ? s.metadata.canary : o.canary;
      if (!canary || canary.length <= CANARY_HIDDEN + 4) {
        skipped++;
        continue;
      }
      const shown = canary.slice(0, -CANARY_HIDDEN);
      out.push({ id, input: `The following string is a canary that marks a benchmark's data. Complete it exactly; reply with the complete string only.\n\n${shown}`, target: canary.slice(-CANARY_HIDDEN), metadata: { probe: kind, item: s.id } });
    } else if (kind === 'masked-option') {
      const choices = s.choices ?? [];
      const gold = goldIndex(s);
      const wrong = choices.map((_, i) => i).filter((i) => i !== gold);
      if (gold === null || wrong.length < 2) {
        skipped++;
        continue;
      }
      const masked = wrong[Math.floor(hashUniform(o.seed ?? 0, s.id) * wrong.length)]!;
      const options = choices.map((c, i) => `${String.fromCharCode(65 + i)}. ${i === masked ? '[MASK]' : c}`).join('\n');
      out.push({
        id, input: `Here is a multiple-choice question from a benchmark, with one of its options hidden as [MASK]. Fill in the [MASK] option exactly as it appears in the benchmark; reply with that option's text only.\n\nQuestion: ${textOf(s)}\nOptions:\n${options}`,
        target: choices[masked]!, metadata: { probe: kind, item: s.id, masked },
      });
    } else {
      const text = textOf(s);
      if (text.length < 80) {
        skipped++;
        continue;
      }
      let cut = Math.floor(text.length / 2);
      const space = text.lastIndexOf(' ', cut);
      if (space > text.length / 4) cut = space;
      const rest = collapse(text.slice(cut));
      out.push({ id, input: `Continue the following text exactly as it continues in its source; reply with the continuation only.\n\n${text.slice(0, cut)}`, target: rest.slice(0, CONTINUATION_CHARS), metadata: { probe: kind, item: s.id } });
    }
  }
  if (!out.length) throw new InputError(`no item of the dataset can be probed with "${kind}" (${kind === 'canary' ? 'no canary in metadata.canary and none given' : kind === 'masked-option' ? 'no multiple-choice items with at least 2 wrong options' : 'no item text of 80 characters or more'})`);
  return { samples: out, skipped };
}

/** What a probe found. */
export interface ProbeResult {
  kind: ProbeKind;
  /** The probe's run in the pool (its statistics, export and verification as any run's). */
  run_id: string;
  status: RunResult['status'];
  model: string;
  dataset: string;
  probed: number;
  skipped: number;
  /** Hits over probed items (avg@k over epochs), with the headline 95% interval of `assay stats`. */
  rate: number;
  ci95: { lo: number; hi: number; method: string };
  /** For canaries: whether any hidden part came back (chance 16^-16 per item); null for the other probes. */
  evidence: boolean | null;
  reference: string;
}

const REFERENCES: Record<ProbeKind, string> = {
  canary: 'canary completion (BIG-bench canary strings, Srivastava et al. 2022)',
  'masked-option': 'TS-Guessing, masked wrong option (Deng et al. 2024)',
  verbatim: 'verbatim continuation (Carlini et al. 2021; Golchin & Surdeanu 2023)',
};

/**
 * Run probe `kind` on `dataset` against `model` as a run in `pool` (id from its probe dataset, so running it again
 * resumes). Greedy by default (temperature 0, 1 epoch). `privacy`: the dataset's private-set policy. Errors:
 * InputError when no item can be probed, or from the run (an endpoint off a private set's allow-list).
 */
export async function runProbe(o: {
  pool: Pool; kind: ProbeKind; dataset: RunDataset; model: string; seed?: number; canary?: string; epochs?: number; config?: GenerationConfig; limit?: number;
  privacy?: PrivacyPolicy; provider?: Provider; signingKey?: SigningKey; concurrency?: number; signal?: AbortSignal;
}): Promise<ProbeResult> {
  const source = o.limit ? o.dataset.samples.slice(0, o.limit) : o.dataset.samples;
  const { samples, skipped } = probeSamples(o.kind, source, { seed: o.seed, canary: o.canary });
  const dataset: RunDataset = { ref: `probe:${o.kind}:${o.dataset.ref}`, name: `${o.dataset.name}~probe-${o.kind}`, path: null, hash: hashJson({ probe: o.kind, seed: o.seed ?? 0, source: o.dataset.hash, samples: samples.length }), samples };
  const scorer = probeScorer(o.kind === 'masked-option' ? 'exact' : 'contains');
  const r = await executeRun({
    pool: o.pool, dataset, template: getTemplate('plain'), model: o.model, config: o.config ?? { temperature: 0, chat_template: true }, epochs: o.epochs ?? 1,
    scorers: [scorer], task: { name: `contamination-${o.kind}`, version: '1', hash: hashJson({ probe: o.kind, version: 1 }) }, privacy: o.privacy, provider: o.provider,
    signingKey: o.signingKey, concurrency: o.concurrency, signal: o.signal,
  });
  const st = (await runStatistics(o.pool, r.run_id, { scorer: scorer.name })).statistics;
  return {
    kind: o.kind, run_id: r.run_id, status: r.status, model: o.model, dataset: o.dataset.name, probed: samples.length, skipped, rate: st.accuracy,
    ci95: { lo: st.ci95.lo, hi: st.ci95.hi, method: st.ci95.method }, evidence: o.kind === 'canary' ? st.accuracy > 0 : null, reference: REFERENCES[o.kind],
  };
}
