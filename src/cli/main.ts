/**
 * `assay` command line: a thin layer over the library (DESIGN.md §8). Exit codes: 0 done, 1 failed,
 * 2 bad usage or bad input. `--json` prints one JSON document on stdout; progress goes to stderr.
 */
import { Command, CommanderError, Option } from 'commander';
import { createWriteStream } from 'node:fs';
import { InputError, RunError } from '../core/errors.ts';
import { GenerationConfigSchema, type GenerationConfig } from '../core/schemas.ts';
import { getTemplate, templateNames } from '../core/templates.ts';
import { loadDataset } from '../datasets/index.ts';
import { executeRun } from '../runner/run.ts';
import { terminalProgress } from '../runner/progress.ts';
import { scorerNames } from '../scorers/registry.ts';
import { recordedAgreement, regrade, scorerDisagreement } from '../runner/rescore.ts';
import { runStatistics } from '../stats/from-pool.ts';
import { exportRun } from './export.ts';
import { formatStatistics, pct, table } from './format.ts';
import { runQuickstart } from './quickstart.ts';
import { COMMANDS } from './commands/index.ts';

import { collect, int, num, openPool, printJson, scorerFromCli } from './common.ts';
import { createProvider } from '../providers/registry.ts';

const program = new Command();
program
  .name('assay')
  .description('Sober, open-ended evaluation of foundation models: every sample kept, every number with its uncertainty.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

program
  .command('quickstart')
  .description('offline tour on the embedded store: reference models on a generated arithmetic task, no keys, no network')
  .option('--pool <file>', 'pool file (default $ASSAY_POOL or ./.assay/pool.sqlite)')
  .option('--json', 'one JSON document on stdout')
  .action(async (o) => {
    const pool = openPool(o.pool, { create: true });
    try {
      await runQuickstart(pool, { json: !!o.json, log: (s) => process.stderr.write(s + '\n'), out: (s) => process.stdout.write(s + '\n'), printJson });
    } finally {
      pool.close();
    }
  });

program
  .command('run')
  .description('evaluate a model on a dataset; running the same command again resumes (completes only what is missing)')
  .requiredOption('--dataset <ref>', 'gsm8k | math500 | aime24 | aime25 | amc23 [:path], hle:<path>, jsonl:<path>, csv:<path>, or a .jsonl/.csv path')
  .requiredOption('--model <address>', 'openai-compatible:<base-url>#<model> | openai:<model> | anthropic:<model> | replay:<file>[#system] | reference:<name>')
  .option('--epochs <k>', 'independent attempts per sample', int('--epochs', 1), 1)
  .option('--temperature <t>', 'sampling temperature', num('--temperature'))
  .option('--top-p <p>', 'nucleus sampling', num('--top-p'))
  .option('--top-k <k>', 'top-k sampling', int('--top-k', 1))
  .option('--max-tokens <n>', 'maximum generated tokens', int('--max-tokens', 1))
  .option('--seed <n>', 'generation seed (epoch e sends seed+e)', int('--seed', 0))
  .option('--stop <s>', 'stop sequence (repeatable)', collect)
  .option('--system <text>', 'system prompt')
  .option('--template <name>', `prompt template: ${templateNames().join(', ')}, or text:<... {question} ...> (default: the dataset's)`)
  .option('--scorer <name>', `scorer (repeatable): ${scorerNames().join(', ')} (default: the dataset's)`, collect)
  .option('--limit <n>', 'only the first n samples', int('--limit', 1))
  .option('--id-field <name>', 'generic files: id column')
  .option('--input-field <name>', 'generic files: question column')
  .option('--target-field <name>', 'generic files: answer column')
  .option('--concurrency <n>', 'maximum requests in flight (lowered automatically on 429)', int('--concurrency', 1), 64)
  .option('--timeout <ms>', 'per-request timeout in ms', int('--timeout', 1), 120_000)
  .option('--max-retries <n>', 'retries per attempt after the first try', int('--max-retries', 0), 6)
  .option('--no-cache', 'do not reuse stored responses with the same request and epoch')
  .option('--bootstrap-seed <n>', 'seed of the bootstrap CI (recorded)', int('--bootstrap-seed', 0), 0)
  .option('--pool <file>', 'pool file (default $ASSAY_POOL or ./.assay/pool.sqlite)')
  .option('--json', 'one JSON document on stdout')
  .action(async (o) => {
    const dataset = await loadDataset(o.dataset, { fields: { id: o.idField, input: o.inputField, target: o.targetField } });
    const configInput: Partial<GenerationConfig> = {
      temperature: o.temperature, top_p: o.topP, top_k: o.topK, max_tokens: o.maxTokens, seed: o.seed, stop: o.stop, system_prompt: o.system,
    };
    const parsed = GenerationConfigSchema.safeParse(configInput);
    if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), { field: 'generation config' });
    const template = getTemplate(o.template ?? dataset.defaultTemplate);
    const scorers = ((o.scorer as string[] | undefined) ?? [dataset.defaultScorer]).map((s) => scorerFromCli(s));
    // Resolve the model before the pool is opened: a bad address or replay file leaves no pool file behind.
    const provider = await createProvider(o.model, { concurrency: o.concurrency });
    const pool = openPool(o.pool, { create: true });
    const ac = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      if (++interrupts > 1) process.exit(130);
      process.stderr.write('\nstopping: finishing writes (Ctrl-C again to quit at once)…\n');
      ac.abort();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    try {
      const result = await executeRun({
        pool, dataset, template, model: o.model, config: parsed.data, epochs: o.epochs, scorers, limit: o.limit ?? null,
        concurrency: o.concurrency, timeoutMs: o.timeout, maxRetries: o.maxRetries, cache: o.cache, bootstrapSeed: o.bootstrapSeed,
        progress: terminalProgress(`run ${o.model}`), signal: ac.signal, provider,
      });
      const stats = result.counts.measurements > 0 ? scorers.map((s) => runStatistics(pool, result.run_id, { scorer: s.name })) : [];
      if (o.json) printJson({ run: result, statistics: stats });
      else {
        process.stderr.write(`run ${result.run_id}: ${result.status}; ${result.executed} attempts made, ${result.resumed} already stored, ${result.counts.error} failed, ${result.seconds.toFixed(1)} s\n`);
        if (!o.scorer) process.stderr.write(`scored with ${scorers.map((s) => s.name).join(', ')} (the dataset's default; choose with --scorer)\n`);
        for (const s of stats) process.stdout.write(formatStatistics(result.run_id, s.scorer, s.statistics, `${dataset.name} × ${o.model}`) + '\n\n');
      }
      if (result.abort_reason) process.stderr.write(`assay: ${result.abort_reason}\n`);
      if (result.errors.length) {
        process.stderr.write(`assay: ${result.counts.error} attempts failed after retries (stored as failures, excluded from accuracy; run the same command again to retry them). Most frequent errors:\n`);
        for (const e of result.errors.slice(0, 5)) process.stderr.write(`  ${e.count} × ${e.error}\n`);
      }
      process.exitCode = result.status === 'complete' ? 0 : 1;
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      await provider.close();
      pool.close();
    }
  });

program
  .command('runs')
  .description('list the runs in the pool')
  .option('--pool <file>', 'pool file')
  .option('--json', 'one JSON document on stdout')
  .action((o) => {
    const pool = openPool(o.pool);
    try {
      const runs = pool.listRuns();
      if (o.json) return printJson({ runs });
      if (!runs.length) return void process.stdout.write('the pool has no runs yet (try `assay quickstart`)\n');
      process.stdout.write(table(['run', 'status', 'created', 'dataset', 'model', 'epochs', 'samples', 'attempts', 'failed'],
        runs.map((r) => [r.id, r.status, r.created_at.slice(0, 19), r.dataset, r.model, r.epochs, r.samples, r.attempts, r.failed])) + '\n');
    } finally {
      pool.close();
    }
  });

program
  .command('stats <run>')
  .description('accuracy (avg@k) with 95% CI, pass@k, maj@k, std over epochs, truncation and failure counts')
  .option('--scorer <name>', 'which stored scorer (default: every scorer of the run)', collect)
  .option('--seed <n>', 'bootstrap seed (default: the run manifest\'s)', int('--seed', 0))
  .option('--replicates <n>', 'bootstrap replicates', int('--replicates', 100), 2000)
  .option('--pool <file>', 'pool file')
  .option('--json', 'one JSON document on stdout')
  .action((runRef: string, o) => {
    const pool = openPool(o.pool);
    try {
      const runId = pool.resolveRunId(runRef);
      const run = pool.getRun(runId)!;
      const scorers: string[] = o.scorer ?? pool.scorersOf(runId);
      if (!scorers.length) throw new InputError(`run ${runId} has no measurements yet`);
      const results = scorers.map((s) => ({ ...runStatistics(pool, runId, { scorer: s, seed: o.seed, replicates: o.replicates }), recorded: recordedAgreement(pool, runId, s) }));
      if (o.json) return printJson({ run: { id: runId, status: run.status, spec: run.spec, manifest: run.manifest }, statistics: results });
      for (const r of results) {
        process.stdout.write(formatStatistics(runId, r.scorer, r.statistics, `${run.spec.dataset.ref} × ${run.spec.model}  [${run.status}]`) + '\n');
        if (r.recorded) {
          process.stdout.write(`agreement with the recorded verdicts: ${r.recorded.agree}/${r.recorded.compared} (${pct(r.recorded.rate)}); recorded accuracy ${pct(r.recorded.recorded_accuracy)} vs ours ${pct(r.recorded.our_accuracy)} on the same attempts\n`);
        }
        process.stdout.write('\n');
      }
    } finally {
      pool.close();
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
    const pool = openPool(o.pool);
    try {
      const runId = pool.resolveRunId(runRef);
      const scorers = (o.scorer as string[]).map((s) => scorerFromCli(s));
      const graded = [];
      try {
        for (const s of scorers) graded.push({ scorer: s.name, ...(await regrade(pool, runId, s)) });
      } finally {
        for (const s of scorers) await s.close?.();
      }
      const stats = scorers.map((s) => ({ ...runStatistics(pool, runId, { scorer: s.name }), recorded: recordedAgreement(pool, runId, s.name) }));
      // every pair of graders: how often they disagree, and on which attempts
      const pairs: ReturnType<typeof scorerDisagreement>[] = [];
      for (let i = 0; i < scorers.length; i++) for (let j = i + 1; j < scorers.length; j++) pairs.push(scorerDisagreement(pool, runId, scorers[i]!.name, scorers[j]!.name));
      const disagreement = pairs[0] ?? null;
      if (o.json) return printJson({ run_id: runId, graded, statistics: stats, disagreement, disagreements: pairs });
      for (const s of stats) process.stdout.write(formatStatistics(runId, s.scorer, s.statistics, 're-graded') + '\n\n');
      if (stats.length >= 2 || stats.some((s) => s.recorded)) {
        process.stdout.write('per grader (same stored responses)\n');
        process.stdout.write(table(['grader', 'accuracy', '95% CI', 'graded', 'no answer', 'ungraded', 'agrees with recorded verdicts'],
          stats.map((s) => [s.scorer, pct(s.statistics.accuracy), `[${pct(s.statistics.ci95_bootstrap.lo)}, ${pct(s.statistics.ci95_bootstrap.hi)}]`, s.statistics.graded, s.statistics.no_answer, s.statistics.ungraded,
            s.recorded ? `${s.recorded.agree}/${s.recorded.compared} (recorded accuracy ${pct(s.recorded.recorded_accuracy)})` : '—'])) + '\n\n');
      }
      for (const d of pairs) {
        process.stdout.write(`${d.a} vs ${d.b}: disagree on ${d.disagree}/${d.compared} attempts (${pct(d.compared ? d.disagree / d.compared : NaN)})\n`);
        if (d.items.length) process.stdout.write(table(['sample', 'epoch', d.a, 'extracted', d.b, 'extracted'],
          d.items.slice(0, o.show).map((x) => [x.sample_id, x.epoch, String(x.a_value), (x.a_extracted ?? '').slice(0, 30), String(x.b_value), (x.b_extracted ?? '').slice(0, 30)])) + '\n');
      }
    } finally {
      pool.close();
    }
  });

program
  .command('export <run>')
  .description('every attempt with its measurement: sample id, epoch, response, extracted answer, score, finish reason, tokens, latency, error')
  .addOption(new Option('--format <fmt>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
  .option('--scorer <name>', 'which scorer\'s measurement (default: the run\'s first)')
  .option('-o, --output <file>', 'write to a file instead of stdout')
  .option('--pool <file>', 'pool file')
  .action(async (runRef: string, o) => {
    const pool = openPool(o.pool);
    try {
      const runId = pool.resolveRunId(runRef);
      const scorer = o.scorer ?? pool.getRun(runId)!.spec.scorers[0]?.name;
      const stored = pool.scorersOf(runId);
      if (o.scorer && !stored.includes(o.scorer)) throw new InputError(`run ${runId} has no measurements for scorer "${o.scorer}"; it has: ${stored.join(', ') || 'none'}`, { field: 'scorer' });
      const out = o.output ? createWriteStream(o.output) : process.stdout;
      await exportRun(pool, runId, scorer, o.format, out);
      if (o.output) await new Promise<void>((res, rej) => (out as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? rej(e) : res())));
    } finally {
      pool.close();
    }
  });

// Commands of later issues live in ./commands/<name>.ts, each exporting `register(program: Command): void`.
// Register them here, one line each.
for (const register of COMMANDS) register(program);

async function main(): Promise<void> {
  // `assay export … | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  try {
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
    // A known failure (RunError: a download that failed, a server that refused) gets its message; anything else is a
    // bug, and its stack helps the report.
    process.stderr.write(`assay: ${err instanceof RunError ? err.message : ((err as Error).stack ?? String(err))}\n`);
    process.exitCode = 1;
  }
}

await main();
