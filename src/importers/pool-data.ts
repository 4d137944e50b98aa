/**
 * Importers for the public sample-level results under `shared/data/pool/` (see its README for provenance and quirks):
 * MMLU-Pro per-model results (binary), WildBench v2 judge scores (ordinal 1–10), Arena-Hard battles (pairwise).
 * All stream their files and write one transaction per import.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors.ts';
import type { Pool } from '../store/types.ts';
import { numberField, parseJsonLine, readCsv, readLines, runImport, stringField, type ImportOptions, type ImportResult } from './common.ts';

/**
 * MMLU-Pro (TIGER-AI-Lab): `results.csv` (`model,question_id,pred,correct`) plus, when present beside it,
 * `items.jsonl` (`question_id, category, src, answer, question, options, …`) for sample text and category.
 * `path` is the folder or the results file. Samples are `mmlu_pro/<question_id>`; measurements are binary.
 * `key`: `file` (default) keeps the `correct` column, graded upstream against the key of each model's own dataset
 * revision; `canonical` regrades `pred` against items.jsonl's `answer` (newest revision; README quirk 1).
 * Errors: missing columns, `correct` not 0/1, a question id not in items.jsonl, a duplicate (model, question) row.
 */
export async function importMmluPro(store: Pool, path: string, opts: ImportOptions & { key?: 'file' | 'canonical' } = {}): Promise<ImportResult> {
  const dir = existsSync(path) && statSync(path).isDirectory() ? path : dirname(path);
  const results = existsSync(path) && statSync(path).isDirectory() ? join(path, 'results.csv') : path;
  const itemsFile = join(dir, 'items.jsonl');
  const key = opts.key ?? 'file';
  return runImport(store, { format: 'mmlu-pro', file: results, options: { key, limit: opts.limit ?? null }, replace: opts.replace, keepBoth: opts.keepBoth }, async (tx) => {
    const answers = new Map<string, string>();
    let samples = 0;
    if (existsSync(itemsFile)) {
      for await (const l of readLines(itemsFile)) {
        const o = parseJsonLine(itemsFile, l);
        const qid = stringField(itemsFile, l.line, 'question_id', o.question_id);
        const options = Array.isArray(o.options) ? (o.options as unknown[]).map(String) : [];
        const question = typeof o.question === 'string' ? o.question : '';
        const answer = stringField(itemsFile, l.line, 'answer', o.answer);
        answers.set(qid, answer);
        await tx.addSample({
          key: `mmlu_pro/${qid}`, dataset: 'mmlu_pro', sample_id: qid,
          category: typeof o.category === 'string' ? o.category : null,
          tags: typeof o.src === 'string' ? [o.src] : [],
          text: [question, ...options.map((op, i) => `${String.fromCharCode(65 + i)}. ${op}`)].join('\n'),
          content_hash: null,
          metadata: { answer, answer_index: o.answer_index ?? null, src: o.src ?? null, ...(o.answer_variants ? { answer_variants: o.answer_variants } : {}) },
        });
        samples++;
      }
    } else if (key === 'canonical') {
      throw new InputError('--key canonical needs items.jsonl beside results.csv', { file: itemsFile });
    }
    let n = 0;
    const seenQ = new Set<string>();
    for await (const { line, row } of readCsv(results, ['model', 'question_id', 'pred', 'correct'], opts)) {
      if (opts.limit !== undefined && n >= opts.limit) break;
      const model = stringField(results, line, 'model', row.model);
      const qid = stringField(results, line, 'question_id', row.question_id);
      if (!/^\d+$/.test(qid)) throw new InputError(`expected an integer question id, got ${JSON.stringify(qid)}`, { file: results, line, field: 'question_id' });
      if (row.correct !== '0' && row.correct !== '1') throw new InputError(`expected 0 or 1, got ${JSON.stringify(row.correct)}`, { file: results, line, field: 'correct' });
      const pred = row.pred ?? '';
      if (pred !== '' && !/^[A-J]$/.test(pred)) throw new InputError(`expected a letter A–J or empty, got ${JSON.stringify(pred)}`, { file: results, line, field: 'pred' });
      if (answers.size && !answers.has(qid)) throw new InputError(`question ${qid} is not in items.jsonl`, { file: results, line, field: 'question_id' });
      const value = key === 'canonical' ? (pred !== '' && pred === answers.get(qid) ? 1 : 0) : Number(row.correct);
      await tx.addMeasurement({ slice: '', sample_key: `mmlu_pro/${qid}`, model, opponent: '', rep: 0, kind: 'binary', value, direction: 1, tie_tolerance: 0, weight: 1, line });
      if (!answers.size && !seenQ.has(qid)) {
        // no items file: make sure the sample exists (once per question)
        seenQ.add(qid);
        await tx.addSample({ key: `mmlu_pro/${qid}`, dataset: 'mmlu_pro', sample_id: qid, category: null, tags: [], text: null, content_hash: null, metadata: {} });
      }
      if (++n % 50_000 === 0) opts.progress?.(n);
    }
    return { measurements: n, samples: answers.size ? samples : seenQ.size };
  });
}

/**
 * WildBench v2 (allenai) single-answer judge scores: `scores.csv` (`version,judge,model,session_id,score`), score an
 * integer 1–10. Measurements are ordinal, slice = `<version>/<judge>` (README: rank within a slice, never across),
 * samples `wildbench/<session_id>` (no text or category in these files).
 * Errors: missing columns, a score that is not an integer 1–10, a duplicate (slice, model, session) row.
 */
export async function importWildBench(store: Pool, path: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'scores.csv') : path;
  return runImport(store, { format: 'wildbench', file, options: { limit: opts.limit ?? null }, replace: opts.replace, keepBoth: opts.keepBoth }, async (tx) => {
    const seen = new Set<string>();
    let n = 0;
    for await (const { line, row } of readCsv(file, ['version', 'judge', 'model', 'session_id', 'score'], opts)) {
      if (opts.limit !== undefined && n >= opts.limit) break;
      const version = stringField(file, line, 'version', row.version);
      const judge = stringField(file, line, 'judge', row.judge);
      const model = stringField(file, line, 'model', row.model);
      const sid = stringField(file, line, 'session_id', row.session_id);
      const score = numberField(file, line, 'score', row.score);
      if (!Number.isInteger(score) || score < 1 || score > 10) throw new InputError(`expected an integer score 1–10, got ${row.score}`, { file, line, field: 'score' });
      if (!seen.has(sid)) {
        seen.add(sid);
        await tx.addSample({ key: `wildbench/${sid}`, dataset: 'wildbench', sample_id: sid, category: null, tags: [], text: null, content_hash: null, metadata: {} });
      }
      await tx.addMeasurement({ slice: `${version}/${judge}`, sample_key: `wildbench/${sid}`, model, opponent: '', rep: 0, kind: 'ordinal', value: score, direction: 1, tie_tolerance: 0, weight: 1, line });
      n++;
    }
    return { measurements: n, samples: seen.size };
  });
}

/**
 * Arena-Hard-Auto battles (`battles.jsonl`: `{question_id, model_a, model_b, winner}`, winner ∈ model_a | model_b | tie).
 * The file repeats verdicts on purpose (README: a strong verdict 3×, weak and tie 1×, two judge games per pair):
 * identical rows are aggregated into one battle measurement whose `weight` is the count, and `rep` encodes the
 * verdict (0 = model_a, 1 = model_b, 2 = tie) so the three verdicts of one pair are distinct rows. `rank
 * --battle-weights dedupe` uses weight 1 instead. Samples are `arena_hard/<question_id>`.
 * Errors: invalid JSON (truncated last line), missing fields, an unknown winner, model_a = model_b.
 */
export async function importArenaHard(store: Pool, path: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'battles.jsonl') : path;
  return runImport(store, { format: 'arena-hard', file, options: { limit: opts.limit ?? null }, replace: opts.replace, keepBoth: opts.keepBoth }, async (tx) => {
    const agg = new Map<string, { q: string; a: string; b: string; v: number; rep: number; w: number; line: number }>();
    let rows = 0;
    for await (const l of readLines(file)) {
      if (opts.limit !== undefined && rows >= opts.limit) break;
      const o = parseJsonLine(file, l);
      const q = stringField(file, l.line, 'question_id', o.question_id);
      const a = stringField(file, l.line, 'model_a', o.model_a);
      const b = stringField(file, l.line, 'model_b', o.model_b);
      if (a === b) throw new InputError(`model_a and model_b are the same model (${a})`, { file, line: l.line, field: 'model_b' });
      const winner = o.winner;
      const rep = winner === 'model_a' ? 0 : winner === 'model_b' ? 1 : winner === 'tie' ? 2 : -1;
      if (rep < 0) throw new InputError(`expected winner "model_a", "model_b" or "tie", got ${JSON.stringify(winner)}`, { file, line: l.line, field: 'winner' });
      const k = JSON.stringify([q, a, b, rep]);
      const e = agg.get(k);
      if (e) e.w++;
      else agg.set(k, { q, a, b, v: rep === 0 ? 1 : rep === 1 ? 0 : 0.5, rep, w: 1, line: l.line });
      rows++;
    }
    const qs = new Set<string>();
    for (const e of agg.values()) {
      if (!qs.has(e.q)) {
        qs.add(e.q);
        await tx.addSample({ key: `arena_hard/${e.q}`, dataset: 'arena_hard', sample_id: e.q, category: null, tags: [], text: null, content_hash: null, metadata: {} });
      }
      await tx.addMeasurement({ slice: '', sample_key: `arena_hard/${e.q}`, model: e.a, opponent: e.b, rep: e.rep, kind: 'battle', value: e.v, direction: 1, tie_tolerance: 0, weight: e.w, line: e.line });
    }
    return { measurements: agg.size, samples: qs.size };
  });
}
