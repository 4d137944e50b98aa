/**
 * `assay stream <stream.yaml>`: evaluate a checkpoint stream — every checkpoint × every task, each cell an ordinary
 * resumable run in the pool, one checkpoint at a time — then print the accuracy matrix with intervals and the
 * continual metrics (accumulation, zero-shot retention, geometric mean, forgetting, BWT, FWT) with paired bootstrap
 * intervals. Running the same command again resumes the stream.
 *
 * `assay merge <parents…> --method M -o out.gguf|out.safetensors`: temporal merging (TIME) of GGUF or safetensors
 * checkpoints (F32, F16, BF16), tensor by tensor; the merged file records its method and parents and can be added to a
 * stream as a checkpoint (or a stream entry names the merge and `assay stream` builds it).
 */
import type { Command } from 'commander';
import { streamTable } from '../../analyses/stream.ts';
import { formatStream } from '../../report/stream.ts';
import { renderStreamReport } from '../../report/stream-html.ts';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { terminalProgress } from '../../runner/progress.ts';
import { evaluateStream, readStreamFile, resolveStream, type StreamOrderInput } from '../../runner/stream.ts';
import { formatStreamPlan } from '../../report/stream-plan.ts';
import { STREAM_ORDERS } from '../../generators/stream-order.ts';
import type { StratifiedSpec } from '../../datasets/stratified.ts';
import { InputError } from '../../core/errors.ts';
import { mergeModels } from '../../merge/merge.ts';
import type { MergeSpec } from '../../merge/methods.ts';
import { InvalidArgumentError } from 'commander';
import { generationConfigOf, generationFlags, int, MAX_CONCURRENCY, MAX_COUNT, MAX_EPOCHS, MAX_REPLICATES, num, numIn, openPool, outputError, printJson, waitingNote, withSignals } from '../common.ts';

const oneOf = (flag: string, values: readonly string[]) => (v: string) => {
  if (!values.includes(v)) throw new InvalidArgumentError(`${flag} is one of ${values.join(', ')}`);
  return v;
};

/** The stream's order and subset from the flags (undefined when no flag gives one: the stream file's apply). */
function orderAndSubset(o: Record<string, unknown>): { order?: StreamOrderInput; subset?: StratifiedSpec } {
  const orderFlags = o.orderSeed !== undefined || o.orderDirection !== undefined || o.orderStart !== undefined || o.orderEmbedWith !== undefined || o.orderDifficultyFrom !== undefined;
  if (orderFlags && o.order === undefined) throw new InputError('--order-seed, --order-direction, --order-start, --order-embed-with and --order-difficulty-from go with --order', { field: 'order' });
  if (o.subset !== undefined && o.subsetFraction !== undefined) throw new InputError('give --subset or --subset-fraction, not both', { field: 'subset' });
  const subsetFlags = o.stratify !== undefined || o.subsetSeed !== undefined || o.stratifyDifficultyFrom !== undefined;
  if (subsetFlags && o.subset === undefined && o.subsetFraction === undefined) throw new InputError('--stratify, --stratify-difficulty-from and --subset-seed go with --subset or --subset-fraction', { field: 'subset' });
  const clean = <T extends object>(x: T) => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as T;
  return {
    order: o.order === undefined ? undefined : clean({ by: o.order, seed: o.orderSeed, direction: o.orderDirection, start: o.orderStart, embed_with: o.orderEmbedWith, difficulty_from: o.orderDifficultyFrom } as StreamOrderInput),
    subset: o.subset === undefined && o.subsetFraction === undefined ? undefined : clean({ size: o.subset, fraction: o.subsetFraction, by: o.stratify, seed: o.subsetSeed, difficulty_from: o.stratifyDifficultyFrom } as StratifiedSpec),
  };
}

export function register(program: Command): void {
  registerStream(program);
  registerMerge(program);
}

function registerStream(program: Command): void {
  const cmd = program
    .command('stream <file>')
    .description('evaluate a checkpoint stream (YAML: checkpoints in order, adaptation tasks with the checkpoint that introduces them, held-out zero-shot tasks): matrix + continual metrics with CIs');
  generationFlags(cmd)
    .option('--epochs <k>', `epochs for every task (default: the stream's, else each task's own) (at most ${MAX_EPOCHS})`, int('--epochs', 1, MAX_EPOCHS))
    .option('--limit <n>', 'only the first n samples of every task (default: the stream\'s)', int('--limit', 1, MAX_COUNT))
    .option('--concurrency <n>', `maximum requests in flight per endpoint (at most ${MAX_CONCURRENCY})`, int('--concurrency', 1, MAX_CONCURRENCY), 64)
    .option('--timeout <ms>', 'per-request timeout in ms', int('--timeout', 1, 86_400_000), 120_000)
    .option('--max-retries <n>', 'retries per call after the first try', int('--max-retries', 0, 100), 6)
    .option('--replicates <n>', 'bootstrap replicates (default: the stream\'s, else 2000)', int('--replicates', 2, MAX_REPLICATES))
    .option('--bootstrap-seed <n>', 'seed of the bootstrap (default: the stream\'s, else 0)', int('--bootstrap-seed', 0))
    .option('--order <by>', `put the adaptation tasks in this order and introduce them over the checkpoints: ${STREAM_ORDERS.join(', ')} (replaces the stream's order; its tasks then have no "at")`, oneOf('--order', STREAM_ORDERS))
    .option('--order-seed <n>', 'seed of the order (random orders and ties; recorded)', int('--order-seed', 0))
    .option('--order-direction <d>', 'difficulty: ascending (easy first, default) or descending; frequency: descending (frequent first, default) or ascending', oneOf('--order-direction', ['ascending', 'descending']))
    .option('--order-start <task>', 'similarity: the first task (default: drawn with the seed)')
    .option('--order-embed-with <address>', 'similarity: embed each adaptation task\'s description (or name) with this embeddings endpoint')
    .option('--order-difficulty-from <base>', 'difficulty: each adaptation task\'s error rate on the base checkpoint (its runs in the pool; evaluated first when missing), recorded with the order', oneOf('--order-difficulty-from', ['base']))
    .option('--subset <n>', 'evaluate every task on a stratified subset of n samples (the same at every checkpoint; proportional allocation, recorded)', int('--subset', 1))
    .option('--subset-fraction <f>', 'the subset as a share of each task\'s samples, in (0, 1]', numIn('--subset-fraction', 0, 1, { lo: true }))
    .option('--stratify <field>', 'the field whose values are the strata of the subset (subject, difficulty, label, …)')
    .option('--stratify-difficulty-from <base>', 'strata: each sample\'s error rate on the base checkpoint (the base\'s run of the whole task in the pool), instead of --stratify', oneOf('--stratify-difficulty-from', ['base']))
    .option('--subset-seed <n>', 'seed of the subset draw (default 0; the flags replace the stream file\'s subset)', int('--subset-seed', 0))
    .option('--batch-size <n>', 'zero-shot embedding tasks: inputs per embeddings request', int('--batch-size', 1, 65_536))
    .option('--image-request <shape>', 'zero-shot embedding tasks: how images are sent, input (infinity) or messages (vLLM)', oneOf('--image-request', ['input', 'messages']))
    .option('--interval <method>', 'intervals of the derived metrics: bayesian-bootstrap (default: never of zero width at 0% or 100%) or percentile-bootstrap', oneOf('--interval', ['bayesian-bootstrap', 'percentile-bootstrap']))
    .option('--html <file>', 'also write the stream report as one self-contained HTML file (matrix, trajectory plots with interval bands, metrics)')
    .option('--plan', 'print the resolved stream (which task each checkpoint introduces, the order and its seed, the subsets drawn) and stop: no model call')
    .option('--pool <url>', 'pool (default $ASSAY_POOL or ./.assay/pool.sqlite)')
    .option('--json', 'one JSON document on stdout')
    .action(async (file: string, o) => {
      const { order, subset } = orderAndSubset(o);
      if (o.plan) {
        const read = readStreamFile(file);
        const def = { ...read.definition, ...(order ? { order } : {}), ...(subset ? { subset } : {}) };
        // Difficulty from the base checkpoint is read from the pool (never written by a plan).
        const pool = def.order?.difficulty_from || def.subset?.difficulty_from ? await openPool(o.pool, { readonly: true }) : undefined;
        let resolved;
        try {
          resolved = await resolveStream(def, read.baseDir, { source: read.source, pool });
        } finally {
          await pool?.close();
        }
        if (o.json) printJson({ ...resolved, tasks: resolved.tasks.map((t) => ({ task: t.zeroshot ? t.zeroshot.name : t.task.name, version: t.task.version, role: t.role })) });
        else process.stdout.write(formatStreamPlan(resolved) + '\n');
        return;
      }
      const pool = await openPool(o.pool, { create: true });
      try {
        const result = await withSignals((signal) =>
          evaluateStream(file, {
            pool, epochs: o.epochs, limit: o.limit, config: generationConfigOf(o), concurrency: o.concurrency, timeoutMs: o.timeout, maxRetries: o.maxRetries, signal,
            order, subset, embeddings: { batchSize: o.batchSize, imageRequest: o.imageRequest },
            progress: o.json ? undefined : (label) => terminalProgress(label), warn: (m) => process.stderr.write(`assay: warning: ${m}\n`), lease: { onWait: waitingNote },
            onCheckpoint: (row, name, model) => process.stderr.write(`checkpoint ${row} ${name}: ${model}\n`),
            onMerge: (row, name, file, built) => process.stderr.write(`checkpoint ${row} ${name}: ${built ? 'merged into' : 'merge already built:'} ${file}\n`),
          }),
        );
        for (const c of result.cells) if (c.result.abort_reason) process.stderr.write(`assay: ${c.task} × ${c.checkpoint}: ${c.result.abort_reason}\n`);
        if (result.status !== 'complete') process.stderr.write(`stream ${result.stream_id}: ${result.status}; run the same command again to resume\n`);
        process.exitCode = result.status === 'complete' ? 0 : 1;
        // An interrupted stream lacks cells: no table until it is resumed.
        if (result.cells.length < result.stream.checkpoints.length * result.stream.tasks.length) return;
        const t = await streamTable(pool, result.stream_id, { replicates: o.replicates, seed: o.bootstrapSeed, interval: o.interval });
        if (o.html) {
          const out = resolve(o.html);
          try {
            writeFileSync(out, renderStreamReport(t));
          } catch (err) {
            throw outputError(err, out, '--html');
          }
          process.stderr.write(`wrote ${out}\n`);
        }
        if (o.json) printJson({ stream: { id: result.stream_id, status: result.status, cells: result.cells.map((c) => ({ checkpoint: c.checkpoint, task: c.task, model: c.model, run_id: c.run_id, status: c.result.status })) }, table: t });
        else process.stdout.write(formatStream(t) + '\n');
      } finally {
        await pool.close();
      }
    });
}

/** `assay merge`: registered by the same module as `stream` (both are evaluation over time). */
function registerMerge(program: Command): void {
  program
    .command('merge <parents...>')
    .description('merge GGUF or safetensors checkpoints (F32/F16/BF16, same architecture) tensor by tensor: average, ema, task_arithmetic, ties, dare (parents oldest first)')
    .requiredOption('--method <m>', 'average | ema | task_arithmetic | ties | dare')
    .requiredOption('-o, --out <file>', 'output file: .gguf for GGUF parents, .safetensors for safetensors parents')
    .option('--base <file>', 'base model (task_arithmetic, ties, dare: task vectors are parent − base)')
    .option('--weights <w>', 'comma-separated weights, one per parent (average, task_arithmetic, dare)')
    .option('--beta <b>', 'ema: weight of the past', num('--beta'))
    .option('--lambda <l>', 'task_arithmetic, ties, dare: scaling of the merged task vector (default 1)', num('--lambda'))
    .option('--density <d>', 'ties: fraction of each task vector kept (by magnitude)', num('--density'))
    .option('--drop <p>', 'dare: drop probability', num('--drop'))
    .option('--seed <n>', 'dare: seed of the drop masks (recorded)', int('--seed', 0), 0)
    .option('--init <choice>', 'TIME: initialisation choice of the stream, recorded in the spec')
    .option('--deploy <choice>', 'TIME: deployment choice of the stream, recorded in the spec')
    .option('--chunk-bytes <n>', 'tensors larger than this many bytes are merged in pieces, never whole in memory (default 536870912 = 0.5 GiB)', int('--chunk-bytes', 16))
    .option('--json', 'one JSON document on stdout')
    .action((parents: string[], o) => {
      const weights = o.weights === undefined ? undefined : String(o.weights).split(',').map((x) => Number(x));
      if (weights?.some((w) => !Number.isFinite(w))) throw new InputError(`--weights: numbers separated by commas, not "${o.weights}"`, { field: 'weights' });
      const time = o.init || o.deploy ? { initialization: o.init, deployment: o.deploy } : undefined;
      const m = String(o.method);
      const spec = (m === 'average' ? { method: m, weights, time }
        : m === 'ema' ? { method: m, beta: o.beta, time }
        : m === 'task_arithmetic' ? { method: m, lambda: o.lambda, weights, time }
        : m === 'ties' ? { method: m, density: o.density, lambda: o.lambda, time }
        : m === 'dare' ? { method: m, drop: o.drop, seed: o.seed, lambda: o.lambda, weights, time }
        : null) as MergeSpec | null;
      if (!spec) throw new InputError(`unknown merge method "${m}" (average, ema, task_arithmetic, ties, dare)`, { field: 'method' });
      const clean = Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) as MergeSpec;
      let r: ReturnType<typeof mergeModels>;
      try {
        r = mergeModels({ parents, base: o.base, spec: clean, out: o.out, chunkBytes: o.chunkBytes, onTensor: o.json ? undefined : (d, n) => { if (d === n || d % 50 === 0) process.stderr.write(`merged ${d}/${n} tensors\n`); } });
      } catch (err) {
        // Parents are read (and their errors reported) before the output is opened: a file-system error here is -o's.
        if (err instanceof InputError && err.where.field === 'out') throw new InputError(err.detail, { field: '--out' });
        throw outputError(err, o.out, '--out');
      }
      if (o.json) printJson(r);
      else process.stdout.write(`${r.path}: ${r.tensors} tensors, ${(r.bytes / 1e6).toFixed(1)} MB written, ${(r.bytes_read / 1e6).toFixed(1)} MB read in ${r.seconds.toFixed(2)} s (${(r.bytes_read / 1e6 / r.seconds).toFixed(1)} MB/s); ${r.spec.method} of ${r.parents.length} parent(s)${r.base ? ` over base ${r.base}` : ''}\n`);
    });
}
