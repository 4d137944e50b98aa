/**
 * `assay zeroshot <task-file…> --model <embeddings endpoint>`: zero-shot classification (top-1/top-5 accuracy) and
 * retrieval (recall@1/5/10 both ways) of embedding models through an OpenAI-compatible `/embeddings` endpoint, every
 * figure with its 95% interval; each task × model column is recorded as an ordinary run in the pool (so `assay
 * stats`, `compare`, `export` read it), and running the same command again asks nothing.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { formatZeroShot } from '../../report/zeroshot.ts';
import { createEmbedder } from '../../zeroshot/embedder.ts';
import { evaluateZeroShot, type ZeroShotResult } from '../../runner/zeroshot.ts';
import { readZeroShotFile, stratifiedZeroShot } from '../../zeroshot/task.ts';
import { collect, int, MAX_CONCURRENCY, numIn, openPool, printJson, waitingNote, withSignals } from '../common.ts';

export function register(program: Command): void {
  program
    .command('zeroshot <tasks...>')
    .description('zero-shot classification (top-1/top-5) and image↔text or query↔document retrieval (recall@1/5/10) of embedding models through an OpenAI-compatible /embeddings endpoint, with 95% CIs; each column an ordinary run in the pool')
    .requiredOption('-m, --model <address>', 'embeddings endpoint, openai-compatible:<base-url>#<model> or openai:<model> (repeatable)', collect)
    .option('--batch-size <n>', 'inputs per request', int('--batch-size', 1, 65_536), 64)
    .option('--image-request <shape>', 'how images are sent: input (infinity: {"input": [data URIs], "modality": "image"}) or messages (vLLM: one image_url message per request)', (v: string) => {
      if (v !== 'input' && v !== 'messages') throw new InvalidArgumentError('--image-request is input or messages');
      return v;
    }, 'input')
    .option('--concurrency <n>', 'requests in flight', int('--concurrency', 1, MAX_CONCURRENCY), 4)
    .option('--timeout <ms>', 'per-request timeout in ms', int('--timeout', 1, 86_400_000), 120_000)
    .option('--max-retries <n>', 'retries per request after the first try (429, 5xx, network errors)', int('--max-retries', 0, 100), 4)
    .option('--subset <n>', 'evaluate a stratified subset of n items of every task (proportional allocation; the draw is recorded)', int('--subset', 1))
    .option('--subset-fraction <f>', 'the subset as a share of each task\'s items, in (0, 1]', numIn('--subset-fraction', 0, 1, { lo: true }))
    .option('--stratify <field>', 'the field whose values are the strata of the subset (e.g. label, subject)')
    .option('--subset-seed <n>', 'seed of the subset draw', int('--subset-seed', 0), 0)
    .option('--pool <url>', 'pool (default $ASSAY_POOL or ./.assay/pool.sqlite)')
    .option('--json', 'one JSON document on stdout (a list when there are several tasks or models)')
    .action(async (files: string[], o) => {
      if (o.subset !== undefined && o.subsetFraction !== undefined) throw new InputError('give --subset or --subset-fraction, not both', { field: 'subset' });
      if (o.stratify !== undefined && o.subset === undefined && o.subsetFraction === undefined) throw new InputError('--stratify needs --subset or --subset-fraction', { field: 'stratify' });
      // Every task read (and every subset drawn) before the first request.
      const tasks = files.map((f) => {
        const t = readZeroShotFile(f);
        if (o.subset === undefined && o.subsetFraction === undefined) return t;
        return stratifiedZeroShot(t, { size: o.subset, fraction: o.subsetFraction, by: o.stratify, seed: o.subsetSeed }).task;
      });
      const models = o.model as string[];
      const embedders = models.map((m) => createEmbedder(m, { batchSize: o.batchSize, imageRequest: o.imageRequest, concurrency: o.concurrency, timeoutMs: o.timeout, maxRetries: o.maxRetries }));
      const pool = await openPool(o.pool, { create: true });
      const results: ZeroShotResult[] = [];
      try {
        await withSignals(async (signal) => {
          for (const [i, m] of models.entries()) {
            for (const t of tasks) {
              const r = await evaluateZeroShot(t, m, { pool, embedder: embedders[i], signal, lease: { onWait: waitingNote } });
              results.push(r);
              if (!o.json) process.stdout.write(formatZeroShot(r) + '\n\n');
            }
          }
        });
        if (o.json) printJson(results.length === 1 ? results[0] : results);
      } finally {
        for (const e of embedders) await e.close();
        await pool.close();
      }
    });
}
