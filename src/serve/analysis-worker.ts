/**
 * The viewer's analysis thread (started by src/serve/analysis-thread.ts): opens the pool read-only and answers ops
 * (src/serve/analyses.ts) posted to it, each with its id; errors are sent as data.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../core/errors.ts';
import { openPool } from '../store/open.ts';
import type { Pool } from '../store/types.ts';
import { ANALYSES } from './analyses.ts';
import type { OpReply, OpRequest } from './analysis-thread.ts';

const { poolUrl } = workerData as { poolUrl: string };
let pool: Promise<Pool> | null = null;

parentPort!.on('message', async (m: OpRequest) => {
  let reply: OpReply;
  try {
    pool ??= openPool(poolUrl, { readonly: true }).catch((e) => {
      pool = null;
      throw e;
    });
    const fn = ANALYSES[m.op] as ((p: Pool, ...a: unknown[]) => Promise<unknown>) | undefined;
    if (!fn) throw new Error(`no analysis "${String(m.op)}"`);
    reply = { id: m.id, ok: true, value: await fn(await pool, ...m.args) };
  } catch (e) {
    const err = e as Error;
    reply = { id: m.id, ok: false, error: err instanceof InputError ? { name: 'InputError', message: err.message, detail: err.detail, where: err.where } : { name: err?.name ?? 'Error', message: err?.message ?? String(e) } };
  }
  parentPort!.postMessage(reply);
});
