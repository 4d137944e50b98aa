/**
 * Export of a run (the library side of `assay export`): stream every attempt of a run with one scorer's measurement as JSONL or CSV
 * (sample id, epoch, response, extracted answer, score, finish reason, tokens, latency, error; in JSONL also the
 * whole conversation of a multi-turn solver, `transcript`).
 */
import type { Writable } from 'node:stream';
import type { Pool } from '../store/types.ts';

const COLUMNS = ['sample_id', 'epoch', 'status', 'response', 'extracted', 'score', 'measurement_status', 'explanation', 'finish_reason', 'prompt_tokens', 'completion_tokens', 'latency_ms', 'tries', 'cached', 'model_id', 'error'] as const;

/** The CSV columns of an export, in order (JSONL rows have the same keys, plus `transcript` for multi-turn solvers). */
export const EXPORT_COLUMNS = COLUMNS;

/**
 * Write every attempt of run `runId` with scorer `scorer`'s measurement to `out` as JSONL (one object per line) or
 * CSV (header `EXPORT_COLUMNS`), honouring back-pressure; returns the number of attempts written. `scorer` may be
 * undefined (score columns left empty). `out` is not ended: the caller closes it.
 * (The run's evidence file — its hash chain, signatures and records, for `assay verify` without the pool — is
 * `exportEvidence` in src/evidence/bundle.ts.)
 */
export async function exportRun(pool: Pool, runId: string, scorer: string | undefined, format: 'jsonl' | 'csv', out: Writable): Promise<number> {
  let n = 0;
  // A stream that fails while full (a disk that fills up) rejects instead of waiting for a 'drain' that never comes.
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r, j) => {
    const onError = (e: Error) => j(e);
    out.once('error', onError);
    out.once('drain', () => (out.off('error', onError), r()));
  }));
  const { stringify } = await import('csv-stringify/sync'); // loaded here: `assay run` imports this module but never writes CSV
  if (format === 'csv') await write(stringify([COLUMNS as unknown as string[]]));
  for await (const a of pool.iterateAttempts(runId, scorer)) {
    const row = {
      sample_id: a.sample_id, epoch: a.epoch, status: a.status, response: a.response, extracted: a.measurement?.extracted ?? null,
      score: a.measurement?.value ?? null, measurement_status: a.measurement?.status ?? null, explanation: a.measurement?.explanation ?? null, finish_reason: a.finish_reason,
      prompt_tokens: a.prompt_tokens, completion_tokens: a.completion_tokens, latency_ms: Math.round(a.latency_ms * 100) / 100, tries: a.tries,
      cached: a.cached, model_id: a.model_id, error: a.error,
    };
    await write(format === 'csv' ? stringify([COLUMNS.map((c) => (row[c] == null ? '' : String(row[c])))]) : JSON.stringify(a.transcript ? { ...row, transcript: a.transcript } : row) + '\n');
    n++;
  }
  return n;
}
