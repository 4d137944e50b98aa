/**
 * lm-evaluation-harness `--log_samples` output of multiple-choice tasks, read at the level of its recorded
 * per-option log-likelihoods: Assay recomputes `acc` and `acc_norm` from them with its own scorer code
 * (`choiceVerdicts`, src/scorers/loglikelihood.ts) and checks the result against what lm-eval wrote — per document
 * (the `acc`/`acc_norm` fields of each line) and in aggregate (`results_*.json`: `results.<task>["acc,none"]`).
 *
 * The line format (lm-eval 0.4.x, `EvaluationTracker.save_results_samples`; older files are read too):
 * ```
 * {"doc_id": 3, "doc": {...}, "target": "2",
 *  "arguments": {"gen_args_0": {"arg_0": "<context>", "arg_1": " <option 0>"}, "gen_args_1": {...}, …},
 *  "resps": [[["-7.25", "False"]], …], "filtered_resps": [["-7.25", "False"], …],
 *  "filter": "none", "metrics": ["acc", "acc_norm"], "doc_hash": "…", "acc": 0.0, "acc_norm": 1.0}
 * ```
 * lm-eval writes every leaf of `resps`/`filtered_resps` as a string (`sanitize_list`: Python's `str()` of the float,
 * `"True"`/`"False"`); older versions wrote numbers and booleans, and `arguments` as a list of `[context, continuation]`.
 * The gold index comes from `target` (`str()` of lm-eval's `doc_to_target`): a number is an index, text is looked up
 * among the options, a JSON list of indices is a multiple-target gold (`acc` = prediction among them). An option's
 * length for `acc_norm` is its continuation without the task's target delimiter (`configs.<task>.target_delimiter` of
 * the results file, else `" "`), counted in Unicode code points as Python's `len`. Multiple-input tasks (the options
 * in the context, one shared continuation: Winogrande) keep their option texts in the document only, so their
 * `acc_norm` cannot be recomputed: they are counted as unsupported and left out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readdirSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { choiceVerdicts } from '../scorers/loglikelihood.ts';
import type { Pool } from '../store/types.ts';
import { parseJsonLine, readLines, runImport, type ImportOptions, type ImportResult } from './common.ts';

/** One multiple-choice document as lm-eval recorded it. */
export interface LmEvalChoiceDoc {
  line: number;
  doc_id: string;
  filter: string;
  contexts: string[];
  continuations: string[];
  /** Per-option log-likelihoods (natural log) and greedy flags, from `filtered_resps`. */
  logprobs: number[];
  is_greedy: boolean[];
  /** Gold option index, or indices for a multiple-target gold; null when the target names no option. */
  gold: number | number[] | null;
  /** What lm-eval recorded on the line. */
  recorded: { acc: number | null; acc_norm: number | null };
  /** The options sit in the contexts (one continuation for all): `acc_norm` cannot be recomputed. */
  multiple_input: boolean;
}

/** Python's `str(float)` back to a number (`inf`, `-inf`, `nan` included). */
function pyFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return NaN;
  const s = v.trim().toLowerCase();
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  if (s === 'nan') return NaN;
  return s === '' ? NaN : Number(s);
}

function pyBool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 'True' || v === 'true' || v === 1 || v === '1') return true;
  if (v === 'False' || v === 'false' || v === 0 || v === '0') return false;
  return null;
}

/** `arguments` as (context, continuation) pairs, from the 0.4.x `gen_args_i` object or the older list. */
function argumentPairs(a: unknown): [string, string][] | null {
  if (Array.isArray(a)) return a.every((p) => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string') ? (a as [string, string][]) : null;
  if (!a || typeof a !== 'object') return null;
  const entries = Object.entries(a as Record<string, unknown>)
    .filter(([k]) => /^gen_args_\d+$/.test(k))
    .sort((x, y) => Number(x[0].slice(9)) - Number(y[0].slice(9)));
  const out: [string, string][] = [];
  for (const [, v] of entries) {
    const o = v as Record<string, unknown>;
    if (typeof o?.arg_0 !== 'string' || typeof o?.arg_1 !== 'string') return null;
    out.push([o.arg_0, o.arg_1]);
  }
  return out.length ? out : null;
}

function goldOf(target: unknown, options: string[]): number | number[] | null {
  if (typeof target === 'number' && Number.isInteger(target)) return target >= 0 && target < options.length ? target : null;
  if (typeof target !== 'string') return null;
  const t = target.trim();
  if (/^\d+$/.test(t)) {
    const i = Number(t);
    return i < options.length ? i : null;
  }
  if (/^\[[\d,\s]*\]$/.test(t)) {
    const list = JSON.parse(t) as number[];
    return list.length && list.every((i) => i < options.length) ? list : null;
  }
  const i = options.indexOf(target);
  return i >= 0 ? i : null;
}

/**
 * Parse one `--log_samples` line of a multiple-choice task. Errors: InputError naming file, line and field for a
 * line without `doc_id`, `arguments` or per-option `filtered_resps`, or with unreadable log-likelihoods.
 */
export function parseLmEvalChoiceLine(file: string, line: number, o: Record<string, unknown>, targetDelimiter = ' '): LmEvalChoiceDoc {
  if (o.doc_id === undefined || o.doc_id === null) throw new InputError('missing doc_id', { file, line, field: 'doc_id' });
  const pairs = argumentPairs(o.arguments);
  if (!pairs) throw new InputError('no (context, continuation) arguments: not a log-likelihood task', { file, line, field: 'arguments' });
  const fr = o.filtered_resps;
  if (!Array.isArray(fr) || fr.length !== pairs.length) throw new InputError(`filtered_resps should hold one (log-likelihood, is_greedy) pair per option (${pairs.length})`, { file, line, field: 'filtered_resps' });
  const logprobs: number[] = [];
  const greedy: boolean[] = [];
  for (const r of fr) {
    const pair = Array.isArray(r) && Array.isArray(r[0]) ? r[0] : r; // a response list kept unfiltered
    if (!Array.isArray(pair) || pair.length < 2) throw new InputError('a filtered response is not a (log-likelihood, is_greedy) pair', { file, line, field: 'filtered_resps' });
    const lp = pyFloat(pair[0]);
    const g = pyBool(pair[1]);
    if (Number.isNaN(lp) && String(pair[0]).toLowerCase() !== 'nan') throw new InputError(`unreadable log-likelihood ${JSON.stringify(pair[0])}`, { file, line, field: 'filtered_resps' });
    if (g === null) throw new InputError(`unreadable is_greedy ${JSON.stringify(pair[1])}`, { file, line, field: 'filtered_resps' });
    logprobs.push(lp);
    greedy.push(g);
  }
  const contexts = pairs.map((p) => p[0]);
  const continuations = pairs.map((p) => p[1]);
  const multipleInput = pairs.length > 1 && continuations.every((c) => c === continuations[0]) && new Set(contexts).size > 1;
  const options = continuations.map((c) => (targetDelimiter && c.startsWith(targetDelimiter) ? c.slice(targetDelimiter.length) : c));
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : null);
  return {
    line, doc_id: String(o.doc_id), filter: typeof o.filter === 'string' ? o.filter : 'none', contexts, continuations, logprobs, is_greedy: greedy,
    gold: goldOf(o.target, options), recorded: { acc: num(o.acc), acc_norm: num(o.acc_norm) }, multiple_input: multipleInput,
  };
}

/** Assay's verdicts on one document (lm-eval's definitions), or null for a multiple-input document. */
export function recomputeChoice(d: LmEvalChoiceDoc, targetDelimiter = ' '): { acc: number; acc_norm: number; pred: number; pred_norm: number } | null {
  if (d.multiple_input) return null;
  const lengths = d.continuations.map((c) => [...(targetDelimiter && c.startsWith(targetDelimiter) ? c.slice(targetDelimiter.length) : c)].length);
  const gold = d.gold;
  const v = choiceVerdicts(d.logprobs, lengths, typeof gold === 'number' ? gold : -100);
  if (Array.isArray(gold)) return { ...v, acc: gold.includes(v.pred) ? 1 : 0, acc_norm: gold.includes(v.pred_norm) ? 1 : 0 };
  return v;
}

/** What lm-eval reported for a task in its `results_*.json`, and the task's target delimiter. */
export interface LmEvalReported {
  acc: number | null;
  acc_norm: number | null;
  acc_stderr: number | null;
  acc_norm_stderr: number | null;
  target_delimiter: string | null;
}

/**
 * Read lm-eval's aggregated results for `task` (filter `none`). Errors: InputError for an unreadable file or a task
 * the file does not report.
 */
export function readLmEvalResults(file: string, task: string): LmEvalReported {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`cannot read lm-eval results: ${(err as Error).message}`, { file });
  }
  const r = (doc.results as Record<string, Record<string, unknown>> | undefined)?.[task];
  if (!r) throw new InputError(`the results file reports no task "${task}"`, { file, field: 'results' });
  const cfg = (doc.configs as Record<string, Record<string, unknown>> | undefined)?.[task];
  const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : null);
  return {
    acc: n('acc,none'), acc_norm: n('acc_norm,none'), acc_stderr: n('acc_stderr,none'), acc_norm_stderr: n('acc_norm_stderr,none'),
    target_delimiter: typeof cfg?.target_delimiter === 'string' ? cfg.target_delimiter : null,
  };
}

/** The `results_*.json` beside a samples file with the same timestamp (lm-eval writes both), or null. */
export function findLmEvalResults(samplesFile: string): string | null {
  const m = /^samples_.+_(\d{4}-\d{2}-\d{2}T[\d\-.:]+)\.jsonl$/.exec(basename(samplesFile));
  if (!m) return null;
  const candidate = join(dirname(samplesFile), `results_${m[1]}.json`);
  if (existsSync(candidate)) return candidate;
  const any = readdirSync(dirname(samplesFile)).filter((f) => /^results_.*\.json$/.test(f));
  return any.length === 1 ? join(dirname(samplesFile), any[0]!) : null;
}

/** One metric's check: Assay's value, lm-eval's, and whether they agree. */
export interface MetricCheck {
  /** Mean of Assay's per-document verdicts. */
  recomputed: number;
  /** Mean of the values lm-eval wrote on the lines (null when the lines carry none). */
  recorded: number | null;
  /** lm-eval's aggregate from the results file (null without one). */
  reported: number | null;
  /** Documents whose recomputed verdict differs from the line's recorded one. */
  mismatched: string[];
  /** lm-eval's standard error of the mean (sample std / √n), recomputed. */
  stderr: number;
  /** Recomputed = reported exactly (as floats), and no line differs. */
  reproduced: boolean;
}

/** The result of checking a samples file. */
export interface LmEvalReproduction {
  task: string;
  file: string;
  results_file: string | null;
  target_delimiter: string;
  documents: number;
  /** Multiple-input documents (not recomputed). */
  unsupported: number;
  acc: MetricCheck;
  acc_norm: MetricCheck;
}

function stderrOf(values: number[]): number {
  const n = values.length;
  if (n < 2) return NaN;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
}

function check(docs: { d: LmEvalChoiceDoc; v: number }[], pick: 'acc' | 'acc_norm', reported: number | null): MetricCheck {
  const values = docs.map((x) => x.v);
  const recomputed = values.reduce((a, b) => a + b, 0) / values.length;
  const rec = docs.map((x) => x.d.recorded[pick]);
  const recorded = rec.every((v) => v !== null) ? (rec as number[]).reduce((a, b) => a + b, 0) / rec.length : null;
  const mismatched = docs.filter((x) => x.d.recorded[pick] !== null && x.d.recorded[pick] !== x.v).map((x) => x.d.doc_id);
  return { recomputed, recorded, reported, mismatched, stderr: stderrOf(values), reproduced: mismatched.length === 0 && (reported === null || reported === recomputed) };
}

/** Options of the reader: the task name (default: from the file name), the results file, the target delimiter. */
export interface LmEvalReadOptions {
  task?: string;
  /** `results_*.json` to compare with (default: the one beside the samples file, when there is one). */
  results?: string | null;
  /** Default: the results file's `configs.<task>.target_delimiter`, else `" "`. */
  targetDelimiter?: string;
  /** Which filter's lines to read (default `none`). */
  filter?: string;
}

function taskOf(file: string): string {
  return basename(file).replace(/^samples_/, '').replace(/_\d{4}-\d{2}-\d{2}T[\d\-.:]+\.jsonl$/, '').replace(/\.jsonl$/, '');
}

/**
 * Read a multiple-choice `--log_samples` file and recompute `acc` and `acc_norm` from its log-likelihoods.
 * @returns the documents and the check against lm-eval's per-line and aggregate values
 * @throws InputError for unreadable lines (file, line, field), a file without documents, a results file that does
 *   not report the task
 */
export async function reproduceLmEvalAccuracy(file: string, opts: LmEvalReadOptions = {}): Promise<{ check: LmEvalReproduction; docs: LmEvalChoiceDoc[] }> {
  const task = opts.task ?? taskOf(file);
  const resultsFile = opts.results === undefined ? findLmEvalResults(file) : opts.results;
  const reported = resultsFile ? readLmEvalResults(resultsFile, task) : null;
  const td = opts.targetDelimiter ?? reported?.target_delimiter ?? ' ';
  const filter = opts.filter ?? 'none';
  const docs: LmEvalChoiceDoc[] = [];
  const seen = new Map<string, number>();
  for await (const l of readLines(file)) {
    const o = parseJsonLine(file, l);
    const d = parseLmEvalChoiceLine(file, l.line, o, td);
    if (d.filter !== filter) continue;
    const prev = seen.get(d.doc_id);
    if (prev !== undefined) throw new InputError(`doc_id ${d.doc_id} was already given at line ${prev}`, { file, line: l.line, field: 'doc_id' });
    seen.set(d.doc_id, l.line);
    docs.push(d);
  }
  if (!docs.length) throw new InputError(`no documents with filter "${filter}"`, { file });
  const scored = docs.map((d) => ({ d, r: recomputeChoice(d, td) })).filter((x): x is { d: LmEvalChoiceDoc; r: NonNullable<ReturnType<typeof recomputeChoice>> } => x.r !== null);
  if (!scored.length) throw new InputError('every document is multiple-input (options in the context): acc_norm cannot be recomputed', { file });
  return {
    docs,
    check: {
      task, file, results_file: resultsFile, target_delimiter: td, documents: scored.length, unsupported: docs.length - scored.length,
      acc: check(scored.map((x) => ({ d: x.d, v: x.r.acc })), 'acc', reported?.acc ?? null),
      acc_norm: check(scored.map((x) => ({ d: x.d, v: x.r.acc_norm })), 'acc_norm', reported?.acc_norm ?? null),
    },
  };
}

/**
 * Import a multiple-choice `--log_samples` file with `acc` and `acc_norm` recomputed by Assay from the recorded
 * log-likelihoods (slices `acc` and `acc_norm`, binary; samples `lm-eval:<task>/<doc_id>`; model: `opts.model`, else
 * the parent folder as lm-eval names it). The per-option log-likelihoods are kept in each sample's metadata under
 * the model's name. Returns the import and the check against lm-eval's own numbers.
 */
export async function importLmEvalLoglikelihoods(store: Pool, file: string, opts: ImportOptions & LmEvalReadOptions & { model?: string } = {}): Promise<ImportResult & { check: LmEvalReproduction }> {
  const { check: c, docs } = await reproduceLmEvalAccuracy(file, opts);
  const model = opts.model ?? basename(dirname(file));
  const td = c.target_delimiter;
  const result = await runImport(store, { format: 'lm-eval-loglikelihood', file, options: { model, task: c.task, target_delimiter: td }, replace: opts.replace, keepBoth: opts.keepBoth }, async (tx) => {
    let n = 0;
    for (const d of docs) {
      const r = recomputeChoice(d, td);
      if (!r) continue;
      const key = `lm-eval:${c.task}/${d.doc_id}`;
      await tx.addSample({
        key, dataset: `lm-eval:${c.task}`, sample_id: d.doc_id, category: c.task, tags: [c.task], text: d.contexts[0] ?? null, content_hash: null,
        metadata: { options: d.continuations, gold: d.gold, loglikelihoods: { [model]: d.logprobs } },
      });
      for (const [slice, value] of [['acc', r.acc], ['acc_norm', r.acc_norm]] as const) {
        await tx.addMeasurement({ slice, sample_key: key, model, opponent: '', rep: 0, kind: 'binary', value, direction: 1, tie_tolerance: 0, weight: 1, line: d.line });
        n++;
      }
    }
    return { measurements: n, samples: c.documents };
  });
  return { ...result, check: c };
}
