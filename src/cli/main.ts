/**
 * `assay` command line: a thin layer over the library (DESIGN.md §8). Exit codes: 0 done, 1 failed,
 * 2 bad usage or bad input. `--json` prints one JSON document on stdout; progress goes to stderr.
 */
import { Command, CommanderError, Option } from 'commander';
import { InputError, RunError } from '../core/errors.ts';
import { templateNames } from '../core/templates.ts';
import { evaluate } from '../runner/evaluate.ts';
import type { Pool } from '../store/types.ts';
import { datasetTask, loadTasks, taskNames } from '../tasks/index.ts';
import { terminalProgress } from '../runner/progress.ts';
import { scorerNames } from '../scorers/registry.ts';
import { rescoreRun } from '../runner/rescore.ts';
import { runStatistics, statisticsOfRun } from '../analyses/statistics.ts';
import { exportRun } from '../analyses/export.ts';
import { findSigningKey } from '../evidence/keys.ts';
import { signRun } from '../evidence/sign.ts';
import { fmtMetricInterval, fmtMetricValue, formatStatistics, pct, table } from '../report/text.ts';
import { registerCommands } from './commands/index.ts';
import { checkQueueFlags, enqueueFromCli, queueFlags } from './commands/queue.ts';

import { cacheNotes, collect, generationConfigOf, generationFlags, int, MAX_CONCURRENCY, MAX_EPOCHS, MAX_REPLICATES, MAX_COUNT, openOutputStream, openPool, outputError, printJson, scorerFromCli, waitingNote, withSignals } from './common.ts';
import { BUSY_TIMEOUT_MS } from '../store/sqlite-connection.ts';
import { holderIsGone } from '../runner/lease.ts';
import { createProvider } from '../providers/registry.ts';

/** ` (text-only)` for a run that sent its questions without their images (manifest `images.mode`), else empty. */
const textOnlyMark = (run: { manifest: { images?: { mode: string } } }): string => (run.manifest.images?.mode === 'text-only' ? ' (text-only)' : '');

const program = new Command();
program
  .name('assay')
  .description('Sober, open-ended evaluation of foundation models: every sample kept, every number with its uncertainty.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

program
  .command('quickstart')
  .description('offline tour on the embedded store: reference models on a generated arithmetic task, no keys, no network; with --model, the tour on your model (e.g. llama-cpp:model.gguf)')
  .option('--model <address>', 'run the tour on this model instead: generation, multiple choice by log-likelihood, bits per byte (e.g. llama-cpp:./model.gguf)')
  .option('--limit <n>', 'with --model: number of generated problems (default 50; at most 100000)', int('--limit', 2, 100_000))
  .option('--epochs <k>', `with --model: generation epochs (default 2; at most ${MAX_EPOCHS})`, int('--epochs', 1, MAX_EPOCHS))
  .option('--pool <file>', 'pool file (default $ASSAY_POOL or ./.assay/pool.sqlite)')
  .option('--json', 'one JSON document on stdout')
  .action(async (o) => {
    const pool = await openPool(o.pool, { create: true });
    try {
      const io = { json: !!o.json, log: (s: string) => process.stderr.write(s + '\n'), out: (s: string) => process.stdout.write(s + '\n'), printJson };
      if (o.model) await (await import('./quickstart-model.ts')).runModelQuickstart(pool, o.model, io, { limit: o.limit, epochs: o.epochs });
      else await (await import('./quickstart.ts')).runQuickstart(pool, io);
    } finally {
      await pool.close();
    }
  });

program
  .command('run')
  .description('evaluate a model on a dataset or a task; running the same command again resumes (completes only what is missing)')
  .option('--dataset <ref>', 'gsm8k | math500 | aime24 | aime25 | amc23 [:path], hle:<path>, grab:<grab.json>[,images=<folder>], jsonl:<path>, csv:<path>, a .jsonl/.csv path, or a registered dataset (with --task: replaces the task\'s)')
  .option('--task <ref>', `a task: ${taskNames().join(', ')}, or a task file (.yaml, .yml, .ts, .js, .mjs)`)
  .requiredOption('--model <address>', 'openai-compatible:<base-url>#<model> | openai:<model> | anthropic:<model> | google:<model> | llama-cpp:<file.gguf>[?context_size=N&threads=N] | replay:<file>[#system] | reference:<name>')
  .option('--epochs <k>', `independent attempts per sample (default: the task's, else 1) (at most ${MAX_EPOCHS})`, int('--epochs', 1, MAX_EPOCHS))
  .option('--template <name>', `prompt template: ${templateNames().join(', ')}, or text:<... {question} ...> (default: the dataset's)`)
  .option('--scorer <name>', `scorer (repeatable): ${scorerNames().join(', ')} (default: the dataset's)`, collect)
  .option('--limit <n>', 'only the first n samples', int('--limit', 1, MAX_COUNT))
  .option('--id-field <name>', 'generic files: id column')
  .option('--input-field <name>', 'generic files: question column')
  .option('--target-field <name>', 'generic files: answer column')
  .option('--image-field <name>', 'generic files: image column (a path relative to the file, or a data URI), sent as an image part with the question, e.g. `image` for `assay gen charts` output')
  .option('--text-only', 'send questions that have an image (HLE, GRAB, --image-field) as their text alone, as before images were sent: a separate run, labelled text-only in its manifest')
  .option('--concurrency <n>', `maximum requests in flight (lowered automatically on 429; at most ${MAX_CONCURRENCY})`, int('--concurrency', 1, MAX_CONCURRENCY), 64)
  .option('--timeout <ms>', 'per-request timeout in ms', int('--timeout', 1, 86_400_000), 120_000)
  .option('--max-retries <n>', 'retries per attempt after the first try', int('--max-retries', 0, 100), 6)
  .option('--no-cache', "ask the server for every attempt this run does not have yet, never copying another run's stored response; attempts this run already stored are kept (use --new-run to ask again)")
  .option('--new-run', 'start a separate, labelled run that asks the server for every attempt again instead of resuming (e.g. the server changed); it reuses no stored response')
  .option('--bootstrap-seed <n>', 'seed of the bootstrap CI (recorded)', int('--bootstrap-seed', 0), 0)
  .option('--pool <url>', 'pool (default $ASSAY_POOL or ./.assay/pool.sqlite)')
  .option('--json', 'one JSON document on stdout');
queueFlags(generationFlags(program.commands.find((c) => c.name() === 'run')!)).action(async (o) => {
  if (!o.task && !o.dataset) throw new InputError('give --dataset <ref> or --task <task>', { field: 'dataset' });
  if (o.imageField && o.textOnly) throw new InputError(`--image-field ${o.imageField} sends each question with its image and --text-only sends the questions without them: give one (--text-only alone reads the questions as text; --image-field alone sends the images)`, { field: 'text-only' });
  if (o.task && o.template) throw new InputError('--template applies to --dataset runs; a task defines its own prompt', { field: 'template' });
  checkQueueFlags(o);
  if (o.queue && o.dataset?.startsWith('private:')) throw new InputError('a private set is never put on a queue: the pool keeps none of its items, so no worker could read them; run it here without --queue', { field: 'queue' });
  const fields = { id: o.idField, input: o.inputField, target: o.targetField, ...(o.imageField ? { image: o.imageField } : {}) };
  // A private held-out set (`private:<name>`): decrypted in memory from the pool with the private-set key; the run
  // keeps to its policy (allowed endpoints, nothing of its text stored).
  let privateRun: { pool: Pool; open: import('../private/sets.ts').OpenPrivateSet } | null = null;
  if (o.dataset?.startsWith('private:')) {
    if (o.task) throw new InputError('a private set is run as a dataset (--dataset private:<name>), not with --task', { field: 'task' });
    const { openPrivateSet } = await import('../private/sets.ts');
    const { loadPrivateKey } = await import('../private/crypto.ts');
    const p = await openPool(o.pool);
    try {
      privateRun = { pool: p, open: await openPrivateSet(p, loadPrivateKey(), o.dataset.slice('private:'.length)) };
    } catch (err) {
      await p.close();
      throw err;
    }
  }
  const tasks = privateRun
    ? [(await import('../private/sets.ts')).privateTask(privateRun.open, { template: o.template, scorers: o.scorer })]
    : o.task ? await loadTasks(o.task) : [datasetTask(o.dataset, { template: o.template, scorers: o.scorer, fields })];
  if (tasks.length !== 1) throw new InputError(`${o.task} defines ${tasks.length} tasks; run them with \`assay eval ${o.task} --model …\``, { field: 'task' });
  const config = generationConfigOf(o);
  if (o.queue) {
    // Planned here, made by `assay worker` processes (src/queue/): the same run, resumed the same way.
    return enqueueFromCli(tasks, [o.model], o, {
      epochs: o.epochs, config, limit: o.limit, scorers: o.task ? o.scorer : undefined, dataset: o.task ? o.dataset : undefined, fields, ...(o.textOnly ? { textOnly: true } : {}),
      concurrency: o.concurrency, timeoutMs: o.timeout, maxRetries: o.maxRetries, cache: o.cache, bootstrapSeed: o.bootstrapSeed,
      newRun: o.newRun ? `new-run:${new Date().toISOString()}` : undefined, warn: (m) => process.stderr.write(`assay: warning: ${m}\n`),
    });
  }
  // Resolve the model before the pool is opened: a bad address or replay file leaves no pool file behind.
  const provider = await createProvider(o.model, { concurrency: o.concurrency });
  let pool = privateRun?.pool ?? (null as Pool | null);
  try {
    const task = tasks[0]!;
    // The pool is opened only once the task (dataset, scorers, solver) is known to be good: bad input leaves no pool file.
    const evaluated = await withSignals((signal) =>
      evaluate([task], [o.model], {
        pool: async () => (pool ??= await openPool(o.pool, { create: true })), epochs: o.epochs, config, limit: o.limit, scorers: o.task ? o.scorer : undefined, dataset: o.task ? o.dataset : undefined, fields,
        concurrency: o.concurrency, timeoutMs: o.timeout, maxRetries: o.maxRetries, cache: o.cache, bootstrapSeed: o.bootstrapSeed,
        newRun: o.newRun ? `new-run:${new Date().toISOString()}` : undefined, signal, providers: { [o.model]: provider },
        ...(o.textOnly ? { textOnly: true } : {}),
        progress: () => terminalProgress(`run ${o.model}`), warn: (m) => process.stderr.write(`assay: warning: ${m}\n`), lease: { onWait: waitingNote },
        signingKey: findSigningKey() ?? undefined, privacy: privateRun?.open.policy,
      }),
    );
    const result = evaluated.cells[0]!.result;
    const p = pool!;
    const run = (await p.getRun(result.run_id))!;
    const stats = [];
    if (result.counts.measurements > 0) for (const s of run.spec.scorers) stats.push(await runStatistics(p, result.run_id, { scorer: s.name }));
    if (o.json) printJson({ run: result, statistics: stats });
    else {
      process.stderr.write(`run ${result.run_id}: ${result.status}; ${result.executed} attempts made, ${result.resumed} already stored, ${result.counts.error} failed, ${result.seconds.toFixed(1)} s\n`);
      for (const line of cacheNotes(result, o.cache === false)) process.stderr.write(`assay: ${line}\n`);
      if (!o.scorer && !o.task) process.stderr.write(`scored with ${run.spec.scorers.map((s) => s.name).join(', ')} (the dataset's default; choose with --scorer)\n`);
      for (const s of stats) process.stdout.write(formatStatistics(result.run_id, s.scorer, s.statistics, `${run.spec.task ? `${run.spec.task.name}@${run.spec.task.version} ` : ''}${run.spec.dataset.name}${textOnlyMark(run)} × ${o.model}`) + '\n\n');
    }
    if (result.abort_reason) process.stderr.write(`assay: ${result.abort_reason}\n`);
    if (result.errors.length) {
      process.stderr.write(`assay: ${result.counts.error} attempts failed after retries (stored as failures, excluded from accuracy; run the same command again to retry them). Most frequent errors:\n`);
      for (const e of result.errors.slice(0, 5)) process.stderr.write(`  ${e.count} × ${e.error}\n`);
    }
    process.exitCode = result.status === 'complete' ? 0 : 1;
  } finally {
    await provider.close();
    await pool?.close();
  }
});

program
  .command('runs')
  .description('list the runs in the pool')
  .option('--pool <file>', 'pool file')
  .option('--json', 'one JSON document on stdout')
  .action(async (o) => {
    const pool = await openPool(o.pool, { readonly: true });
    try {
      const runs = await pool.listRuns();
      if (o.json) return printJson({ runs });
      if (!runs.length) return void process.stdout.write('the pool has no runs yet (try `assay quickstart`)\n');
      process.stdout.write(table(['run', 'status', 'created', 'dataset', 'model', 'scorers', 'epochs', 'samples', 'attempts', 'failed', 'running in'],
        runs.map((r) => [r.id, r.status, r.created_at.slice(0, 19), r.text_only ? `${r.dataset} (text-only)` : r.dataset, r.model, r.scorers.join(', '), r.epochs, r.samples, r.attempts, r.failed,
          r.lease ? `${r.lease.pid != null ? `pid ${r.lease.pid}` : r.lease.owner.slice(0, 8)}${r.lease.host ? `@${r.lease.host}` : ''} ${holderIsGone(r.lease) ? '(gone: taken over by the next run)' : `(lease until ${r.lease.expires_at.slice(11, 19)} UTC)`}` : '—'])) + '\n');
    } finally {
      await pool.close();
    }
  });

program
  .command('stats <run>')
  .description('accuracy (avg@k) with 95% CI, pass@k, maj@k, std over epochs, truncation and failure counts')
  .option('--scorer <name>', 'which stored scorer (default: every scorer of the run)', collect)
  .option('--seed <n>', 'bootstrap seed (default: the run manifest\'s)', int('--seed', 0))
  .option('--replicates <n>', 'bootstrap replicates', int('--replicates', 100, MAX_REPLICATES), 2000)
  .option('--pool <file>', 'pool file')
  .option('--json', 'one JSON document on stdout')
  .action(async (runRef: string, o) => {
    const pool = await openPool(o.pool, { readonly: true });
    try {
      const report = await statisticsOfRun(pool, runRef, { scorers: o.scorer, seed: o.seed, replicates: o.replicates });
      if (o.json) return printJson(report);
      const run = report.run;
      for (const r of report.statistics) {
        process.stdout.write(formatStatistics(run.id, r.scorer, r.statistics, `${run.spec.dataset.ref}${textOnlyMark(run)} × ${run.spec.model}  [${run.status}]`) + '\n');
        if (r.recorded) {
          process.stdout.write(`agreement with the recorded verdicts: ${r.recorded.agree}/${r.recorded.compared} (${pct(r.recorded.rate)}); recorded accuracy ${pct(r.recorded.recorded_accuracy)} vs ours ${pct(r.recorded.our_accuracy)} on the same attempts\n`);
        }
        process.stdout.write('\n');
      }
    } finally {
      await pool.close();
    }
  });

program
  .command('score <run>')
  .description('re-grade stored responses without calling the model; with several scorers, per-grader statistics and where each pair disagrees')
  .requiredOption('--scorer <name>', `scorer (repeatable): ${scorerNames().join(', ')}; options inline as name?key=value&… (e.g. math?percent=scaled)`, collect)
  .option('--show <n>', 'disagreements to list', int('--show', 0), 20)
  .option('--pool <file>', 'pool file')
  .option('--json', 'one JSON document on stdout')
  .action(async (runRef: string, o) => {
    const pool = await openPool(o.pool);
    try {
      const scorers = (o.scorer as string[]).map((s) => scorerFromCli(s));
      let r;
      try {
        r = await rescoreRun(pool, runRef, scorers);
      } finally {
        for (const s of scorers) await s.close?.();
      }
      // The new measurements extend the run's evidence chain: signed again when a signing key is there.
      const key = findSigningKey();
      if (key) await signRun(pool, r.run_id, key);
      const { run_id: runId, graded, statistics: stats, disagreements: pairs, not_compared: notCompared } = r;
      if (o.json) return printJson({ run_id: runId, graded, statistics: stats, disagreement: pairs[0] ?? null, disagreements: pairs, not_compared: notCompared });
      for (const s of stats) process.stdout.write(formatStatistics(runId, s.scorer, s.statistics, 're-graded') + '\n\n');
      if (stats.length >= 2 || stats.some((s) => s.recorded)) {
        process.stdout.write('per grader (same stored responses)\n');
        // Each grader in its own unit (a numeric metric such as CIDEr-D is not a percentage), with the headline interval of `assay stats`.
        process.stdout.write(table(['grader', 'score', '95% CI', 'graded', 'no answer', 'ungraded', 'agrees with recorded verdicts'],
          stats.map((s) => [s.scorer, fmtMetricValue(s.statistics.metric, s.statistics.accuracy), fmtMetricInterval(s.statistics.metric, s.statistics.ci95), s.statistics.graded, s.statistics.no_answer, s.statistics.ungraded,
            s.recorded ? `${s.recorded.agree}/${s.recorded.compared} (recorded accuracy ${pct(s.recorded.recorded_accuracy)})` : '—'])) + '\n\n');
      }
      for (const d of notCompared) process.stdout.write(`${d.a} vs ${d.b}: not compared (${d.reason})\n`);
      for (const d of pairs) {
        process.stdout.write(`${d.a} vs ${d.b}: disagree on ${d.disagree}/${d.compared} attempts (${pct(d.compared ? d.disagree / d.compared : NaN)})\n`);
        if (d.items.length) process.stdout.write(table(['sample', 'epoch', d.a, 'extracted', d.b, 'extracted'],
          d.items.slice(0, o.show).map((x) => [x.sample_id, x.epoch, String(x.a_value), (x.a_extracted ?? '').slice(0, 30), String(x.b_value), (x.b_extracted ?? '').slice(0, 30)])) + '\n');
      }
    } finally {
      await pool.close();
    }
  });

program
  .command('export <run>')
  .description('every attempt with its measurement: sample id, epoch, response, extracted answer, score, finish reason, tokens, latency, error')
  .addOption(new Option('--format <fmt>', 'output format (evidence: the run\'s chain, signatures and every record, for `assay verify` without the pool)').choices(['jsonl', 'csv', 'evidence']).default('jsonl'))
  .option('--scorer <name>', 'which scorer\'s measurement (default: the run\'s first)')
  .option('-o, --output <file>', 'write to a file instead of stdout')
  .option('--pool <file>', 'pool file')
  .action(async (runRef: string, o) => {
    const pool = await openPool(o.pool, { readonly: true });
    try {
      const runId = await pool.resolveRunId(runRef);
      const scorer = o.scorer ?? (await pool.getRun(runId))!.spec.scorers[0]?.name;
      const stored = await pool.scorersOf(runId);
      if (o.scorer && !stored.includes(o.scorer)) throw new InputError(`run ${runId} has no measurements for scorer "${o.scorer}"; it has: ${stored.join(', ') || 'none'}`, { field: 'scorer' });
      // The evidence file is the evidence layer's (src/evidence/bundle.ts); the rows are the analyses' export.
      const write = async (out: NodeJS.WritableStream & import('node:stream').Writable) =>
        o.format === 'evidence' ? void (await (await import('../evidence/bundle.ts')).exportEvidence(pool, runId, out)) : void (await exportRun(pool, runId, scorer, o.format, out));
      if (!o.output) return void (await write(process.stdout));
      // A bad -o (missing directory, a directory, no permission) is bad input naming the path, not a crash.
      const out = await openOutputStream(o.output, '--output');
      let failed: unknown = null;
      out.on('error', (e) => (failed ??= e));
      try {
        await write(out);
      } catch (err) {
        failed ??= err;
      } finally {
        await new Promise<void>((res) => out.end(() => res()));
      }
      if (failed) throw outputError(failed, o.output, '--output');
    } finally {
      await pool.close();
    }
  });

// The other commands live in ./commands/<name>.ts, each exporting `register(program: Command): void`, listed in
// ./commands/index.ts and loaded only when asked for (see registerCommands).

async function main(): Promise<void> {
  // `assay export … | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  try {
    await registerCommands(program, process.argv.slice(2));
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
      return;
    }
    if (err instanceof InputError) {
      process.stderr.write(`assay: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    // Another process held the pool's write lock for longer than the busy timeout: a known condition, not a bug.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) {
      process.stderr.write(`assay: the pool stayed locked by another process for longer than ${BUSY_TIMEOUT_MS / 1000} s (${(err as Error).message}); nothing was lost — run the same command again when the other process is done\n`);
      process.exitCode = 1;
      return;
    }
    // A known failure (RunError: a download that failed, a server that refused) gets its message; anything else is a
    // bug, and its stack helps the report.
    process.stderr.write(`assay: ${err instanceof RunError ? err.message : ((err as Error).stack ?? String(err))}\n`);
    process.exitCode = 1;
  }
}

await main();
