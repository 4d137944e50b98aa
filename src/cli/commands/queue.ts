/**
 * Distributed runs on a PostgreSQL queue (src/queue/): `assay worker` takes jobs and makes their attempts;
 * `assay queue status` shows where queued runs stand; `assay queue limit` sets an endpoint's limits over all workers.
 * `assay run --queue` and `assay eval --queue` (their flags come from `queueFlags`) enqueue instead of running.
 * The queue modules (pg, pg-boss) load only when a queue command runs.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import type { EvaluateOptions } from '../../runner/evaluate.ts';
import { DEFAULT_JOB_SIZE, MAX_JOB_SIZE } from '../../queue/jobs.ts';
import { table } from '../../report/text.ts';
import { int, MAX_CONCURRENCY, num, printJson, withSignals } from '../common.ts';

const QUEUE_HELP = 'the PostgreSQL queue, postgres://user@host:port/db (default $ASSAY_QUEUE)';

/** The flags `assay run` and `assay eval` take to enqueue instead of running. */
export function queueFlags(cmd: Command): Command {
  return cmd
    .option('--queue <url>', 'do not run here: plan the run in the pool and put its attempts on this PostgreSQL queue (postgres://user@host:port/db) for `assay worker` processes on any machine')
    .option('--job-size <n>', `with --queue: attempts per job (default ${DEFAULT_JOB_SIZE}; at most ${MAX_JOB_SIZE})`, int('--job-size', 1, MAX_JOB_SIZE))
    .option('--max-concurrency-per-endpoint <n>', `with --queue: most requests in flight to the model's endpoint over all workers together (stored in the queue; at most ${MAX_CONCURRENCY})`, int('--max-concurrency-per-endpoint', 1, MAX_CONCURRENCY))
    .option('--rpm <n>', "with --queue: most requests per minute to the model's endpoint over all workers together, spaced evenly (stored in the queue)", num('--rpm'))
    .option('--heartbeat <s>', 'with --queue: a job whose worker shows no sign of life for this many seconds (killed, lost) is given to another worker (default 60)', int('--heartbeat', 2, 86_399));
}

/** Refuse the queue-only flags without `--queue` (they would be ignored). Errors: InputError. */
export function checkQueueFlags(o: Record<string, unknown>): void {
  if (o.queue) return;
  for (const [k, flag] of [['jobSize', '--job-size'], ['maxConcurrencyPerEndpoint', '--max-concurrency-per-endpoint'], ['rpm', '--rpm'], ['heartbeat', '--heartbeat']] as const) {
    if (o[k] !== undefined) throw new InputError(`${flag} applies to queued runs: add --queue postgres://…`, { field: flag });
  }
}

/**
 * `assay run --queue` / `assay eval --queue`: plan the runs, enqueue their missing attempts, print the run ids and how
 * to start workers and follow the runs.
 */
export async function enqueueFromCli(tasks: Parameters<typeof import('../../queue/enqueue.ts').enqueueRun>[0], models: string[], o: Record<string, unknown>, options: Omit<EvaluateOptions, 'pool'>): Promise<void> {
  const { enqueueRun } = await import('../../queue/enqueue.ts');
  const { defaultPoolPath } = await import('../../store/open.ts');
  const queue = o.queue as string;
  const r = await enqueueRun(tasks, models, {
    ...options, pool: (o.pool as string | undefined) ?? defaultPoolPath(), queue, jobSize: o.jobSize as number | undefined, heartbeatSeconds: o.heartbeat as number | undefined,
    ...(o.maxConcurrencyPerEndpoint !== undefined || o.rpm !== undefined ? { endpointLimits: { maxConcurrency: o.maxConcurrencyPerEndpoint as number | undefined, rpm: o.rpm as number | undefined } } : {}),
  });
  if (o.json) return printJson(r);
  for (const run of r.runs) {
    const limits = run.limits ? `; limits of ${run.endpoint} over all workers: ${[run.limits.max_concurrency != null ? `${run.limits.max_concurrency} in flight` : null, run.limits.rpm != null ? `${run.limits.rpm} requests/min` : null].filter(Boolean).join(', ')}` : '';
    process.stderr.write(
      `run ${run.run_id} (${run.task} × ${run.model}): ${run.planned} planned attempts, ${run.stored} already stored, ${run.queued_before} already queued; ` +
        `enqueued ${run.enqueued} in ${run.jobs} job(s)${limits}\n`,
    );
  }
  process.stdout.write(r.runs.map((x) => x.run_id).join('\n') + '\n');
  // Addresses are printed without their passwords (workers take them from the address they are given, $PGPASSWORD or ~/.pgpass).
  const hidden = /:\*\*\*@/.test(r.queue) ? ' (password not shown)' : '';
  process.stderr.write(
    `start workers on any machine that reaches the queue and the pool:\n  assay worker --queue ${r.queue} --pool ${r.pool} [--concurrency 16]${hidden}\n` +
      `follow:\n  assay queue status ${r.runs[0]?.run_id ?? '<run>'} --queue ${r.queue}\n`,
  );
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('take attempts jobs from a queue (`assay run --queue`) and make them, on this machine, until Ctrl-C; any number of workers may run')
    .option('--queue <url>', QUEUE_HELP, process.env.ASSAY_QUEUE)
    .option('--pool <url>', "the pool to write to, for every job (default: the pool each run was enqueued with; give it on a machine where that address differs; jobs never carry a password: a PostgreSQL pool's comes from here, $PGPASSWORD or ~/.pgpass)")
    .option('--concurrency <n>', `most requests in flight per endpoint in this worker (lowered on 429; at most ${MAX_CONCURRENCY})`, int('--concurrency', 1, MAX_CONCURRENCY), 16)
    .option('--drain <s>', 'on Ctrl-C, seconds for the jobs in hand to finish before they go back to the queue', int('--drain', 0, 86_400), 30)
    .option('--json', 'one JSON document on stdout when the worker stops')
    .action(async (o) => {
      const { checkQueueUrl } = await import('../../queue/connection.ts');
      const { runWorker } = await import('../../queue/worker.ts');
      const { findSigningKey } = await import('../../evidence/keys.ts');
      const queue = checkQueueUrl(o.queue);
      const report = await withSignals((signal) =>
        runWorker({ queue, pool: o.pool, concurrency: o.concurrency, signal, drainMs: o.drain * 1000, log: (l) => process.stderr.write(`assay: ${l}\n`), signingKey: findSigningKey() ?? undefined }),
      );
      if (o.json) return printJson(report);
      process.stderr.write(`worker ${report.worker}: ${report.jobs_completed} jobs completed, ${report.jobs_failed} handed back; ${report.attempts_made} attempts made (${report.attempts_failed} failed), ${report.attempts_skipped} already stored; ${report.seconds.toFixed(1)} s\n`);
    });

  const queue = program.command('queue').description('runs on the PostgreSQL queue: their progress, and limits per endpoint over all workers');

  queue
    .command('status [run]')
    .description('where a queued run stands (planned, done, failed, in flight, queued) from the pool and the queue; without a run, every queued run')
    .option('--queue <url>', QUEUE_HELP, process.env.ASSAY_QUEUE)
    .option('--pool <url>', 'the pool to read (default: the pool the run was enqueued with)')
    .option('--json', 'one JSON document on stdout')
    .action(async (runRef: string | undefined, o) => {
      const { checkQueueUrl, openQueue } = await import('../../queue/connection.ts');
      const { queueProgress, queuedRuns } = await import('../../queue/progress.ts');
      const q = await openQueue(checkQueueUrl(o.queue));
      try {
        const ids = runRef ? [runRef] : (await queuedRuns(q)).map((r) => r.run_id);
        const rows = [];
        for (const id of ids) rows.push(await queueProgress(id, { queue: q, pool: o.pool }));
        if (o.json) return printJson(runRef ? rows[0] : { runs: rows });
        if (!rows.length) return void process.stdout.write(`the queue at ${q.where} has no runs yet (enqueue one with \`assay run … --queue\`)\n`);
        process.stdout.write(table(['run', 'status', 'planned', 'done', 'failed', 'in flight', 'queued', 'jobs waiting', 'jobs active', 'jobs done', 'jobs failed', 'pool'],
          rows.map((p) => [p.run_id, p.status, p.planned, p.done, p.failed, p.in_flight, p.queued, p.jobs.created.jobs + p.jobs.retry.jobs, p.jobs.active.jobs, p.jobs.completed.jobs, p.jobs.failed.jobs, p.pool])) + '\n');
        const stuck = rows.filter((p) => p.jobs.failed.jobs > 0 || (p.failed > 0 && p.remaining === 0 && p.status !== 'complete'));
        for (const p of stuck) process.stderr.write(`assay: run ${p.run_id}: ${p.jobs.failed.jobs} job(s) ran out of retries and ${p.failed} attempt(s) failed; enqueue the run again (the same \`assay run … --queue\`) to retry what is missing or failed\n`);
      } finally {
        await q.close();
      }
    });

  queue
    .command('limit [endpoint]')
    .description("set an endpoint's limits over all workers (its base URL, as `assay queue status` and `run --queue` print it); without options, list every endpoint's limits")
    .option('--queue <url>', QUEUE_HELP, process.env.ASSAY_QUEUE)
    .option('--max-concurrency <n>', `most requests in flight over all workers, or "none" (at most ${MAX_CONCURRENCY})`, limitValue('--max-concurrency', true))
    .option('--rpm <n>', 'most requests per minute over all workers (spaced evenly), or "none"', limitValue('--rpm', false))
    .option('--json', 'one JSON document on stdout')
    .action(async (endpoint: string | undefined, o) => {
      const { checkQueueUrl, openQueue } = await import('../../queue/connection.ts');
      const { endpointLimits, setEndpointLimit } = await import('../../queue/limits.ts');
      const q = await openQueue(checkQueueUrl(o.queue));
      try {
        if (o.maxConcurrency !== undefined || o.rpm !== undefined) {
          if (!endpoint) throw new InputError('name the endpoint whose limits to set (its base URL, e.g. http://10.0.0.5:8000/v1)', { field: 'endpoint' });
          await setEndpointLimit(q, endpoint, { maxConcurrency: limitOf(o.maxConcurrency), rpm: limitOf(o.rpm) });
        }
        const all = (await endpointLimits(q)).filter((l) => !endpoint || l.endpoint === endpoint);
        if (o.json) return printJson({ limits: all });
        if (!all.length) return void process.stdout.write(endpoint ? `${endpoint} has no limits\n` : 'no endpoint has limits\n');
        process.stdout.write(table(['endpoint', 'max in flight', 'requests/min', 'in flight now'], all.map((l) => [l.endpoint, l.max_concurrency ?? '—', l.rpm ?? '—', l.max_concurrency != null ? l.held : '—'])) + '\n');
      } finally {
        await q.close();
      }
    });
}

/** A limit flag's value: a positive number (an integer for concurrency), or `none` (removes the limit: see `limitOf`). */
function limitValue(flag: string, integer: boolean) {
  return (v: string): number | 'none' => {
    if (v === 'none') return 'none';
    return integer ? int(flag, 1, MAX_CONCURRENCY)(v) : num(flag)(v);
  };
}

/** A parsed limit flag as `setEndpointLimit` takes it: undefined keeps, null removes. */
function limitOf(v: number | 'none' | undefined): number | null | undefined {
  return v === 'none' ? null : v;
}
